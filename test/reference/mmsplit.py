"""massmodel's deterministic row split and folds, in Python, for the
reference scripts (search.py, fusion.py): a port of mm_split_u()
(src/core/mm_split.c), the held-out rows of mm_train (a row held out when
its number is below test_fraction; stratified for classifiers: per class
the round(test_fraction * n_k) rows with the smallest numbers) and the
cross-validation folds of src/mm_search.c (the training rows of each
class, in order of their numbers, dealt round-robin)."""
import math
import struct

import numpy as np

M64 = (1 << 64) - 1
MM_K0 = 0x9E3779B97F4A7C15
MM_K1 = 0xC2B2AE3D27D4EB4F
MM_K2 = 0x165667B19E3779F9


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def double_bits(v):
    if v == 0.0:
        return 0
    if math.isnan(v):
        return 0x7FF8000000000000
    return struct.unpack('<Q', struct.pack('<d', v))[0]


def split_u(seed, vals):
    n = len(vals)
    acc = 0
    for i, v in enumerate(vals):
        pos = ((i + 1) * MM_K2) & M64
        acc = (acc + ((double_bits(float(v)) ^ pos) * (pos | 1))) & M64
    h = mix64((seed ^ MM_K0 ^ ((n * MM_K1) & M64) ^ acc) & M64)
    return float(h >> 11) * 2.0 ** -53


def c_round(x):
    return math.floor(x + 0.5)     # x >= 0


def split(X, y, classify, seed=42, tf=0.2, k=5):
    """Training indices (file order), held-out indices, fold of each training row."""
    u = [split_u(seed, [y[i]] + list(X[i])) for i in range(len(y))]
    n = len(y)
    if classify:
        held = set()
        for c in np.unique(y):
            rows = sorted((i for i in range(n) if y[i] == c), key=lambda i: (u[i], i))
            held.update(rows[:c_round(tf * len(rows))])
    else:
        held = {i for i in range(n) if u[i] < tf}
    train = [i for i in range(n) if i not in held]
    test = [i for i in range(n) if i in held]
    fold = {}
    groups = [[i for i in train if y[i] == c] for c in np.unique(y)] if classify else [train]
    for g in groups:
        for j, i in enumerate(sorted(g, key=lambda i: (u[i], i))):
            fold[i] = j % k
    return np.array(train), np.array(test), np.array([fold[i] for i in train])
