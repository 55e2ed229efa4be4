#!/usr/bin/python3
"""Write the version-3 seed blobs (kmeans, pca, mlp) of test/fuzz/seeds.

The layout is the one documented in src/core/mm_core.h; the models are
those of test_blob_v3() in test/unit/test_core.c.  Run from the
repository root: python3 test/fuzz/make_v3_seeds.py
"""
import struct


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def s(text):
    b = text.encode()
    return struct.pack('<H', len(b)) + b


def f64s(values):
    return b''.join(struct.pack('<d', v) for v in values)


def features():
    # x1 numeric, v array of width 2; impute error
    return (struct.pack('<I', 2)
            + s('x1') + bytes([1]) + struct.pack('<I', 1) + bytes([0])
            + s('v') + bytes([2]) + struct.pack('<I', 2) + bytes([0]))


def blob(algorithm, payload):
    return (b'MMDL' + struct.pack('<HHIII', 3, algorithm, 0, len(payload), crc32c(payload))
            + struct.pack('<I', 0) + payload)


kmeans = (bytes([3]) + struct.pack('<H', 0) + features()
          + bytes([1]) + f64s([1.0, -2.0, 0.5]) + f64s([2.0, 1.0, 0.25])   # standard scale
          + bytes([0])                                                    # no labels
          + struct.pack('<I', 2) + f64s([12.75])
          + f64s([0.1, 0.2, 0.3, -1.5, 2.5, 1e-300]))
pca = (bytes([4]) + struct.pack('<H', 0) + features() + bytes([0]) + bytes([0])
       + struct.pack('<I', 2) + bytes([1])
       + f64s([3.0, -1.0, 0.0]) + f64s([0.6, 0.8, 0.0, 0.0, 0.0, 1.0]) + f64s([4.0, 0.5]))
w0 = [(i - 6) / 7.0 for i in range(12)]
w1 = [(i * 3 % 5) / 9.0 - 0.2 for i in range(12)]
mlp = (bytes([2]) + s('label') + features() + bytes([0])
       + bytes([1]) + struct.pack('<I', 3) + s('cat') + s('cow') + s('dog')
       + bytes([1]) + struct.pack('<I', 2) + struct.pack('<III', 3, 4, 3)
       + f64s(w0) + f64s([i * 0.125 for i in range(4)])
       + f64s(w1[:12]) + f64s([-i * 0.5 for i in range(3)]))

for name, alg, payload in (('kmeans_2clusters', 5, kmeans), ('pca_whiten', 6, pca),
                           ('mlp_3classes', 7, mlp)):
    with open('test/fuzz/seeds/%s.mmdl' % name, 'wb') as out:
        out.write(blob(alg, payload))
