#!/usr/bin/python3
"""Reference numbers for massmodel's k-means, silhouette, PCA and generator.

This script is the source of the expected numbers pinned in
test/unit/test_cluster.c.  Run from the repository root, with Debian's
python3 (numpy, scikit-learn):

    /usr/bin/python3 test/reference/cluster.py > test/reference/cluster.out

Output: one number per line, `key value`, values with 17 significant digits;
lines starting with '#' are comments.  Data sets (both embedded in
test_cluster.c):

  iris   sklearn's bundled iris.csv, 150 rows x 4 (the class is not used)
  wine   sklearn's bundled wine_data.csv, 178 rows x 13 features,
         standardised with StandardScaler (population standard deviation)

Sections:

  (a) km3.*     KMeans(n_clusters=3, n_init=10, random_state=0) on iris:
                inertia, labels (as fitted), centres; km3.min_inertia the
                minimum over random_state 0..49 (each n_init=10), both for
                init k-means++ and init random
  (b) km1.*     KMeans(n_clusters=1): inertia, which is the total sum of
                squares about the column means
  (c) sil.*     silhouette_score(iris, km3 labels); sil.single the score
                when row 0 is moved to a cluster of its own (label 3)
  (d) pca.*     PCA(n_components=13) on standardised wine:
                explained_variance, explained_variance_ratio, components
                (13x13 row-major, sklearn's signs), transform of rows 0, 1,
                177, and the same with whiten=True for row 0
  (e) rng.*     the first outputs of xoshiro256** seeded by splitmix64 from
                seeds 0 and 42 (a direct Python transcription of the
                published algorithms), printed as hexadecimal integers
"""
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")

DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data/"
M64 = (1 << 64) - 1


def out(key, value):
    print(f"{key} {float(value):.17g}")


def outv(key, values):
    for i, v in enumerate(np.ravel(values)):
        out(f"{key}.{i}", v)


def comment(text):
    print(f"# {text}")


def load(name, p):
    rows = np.loadtxt(DATA + name, delimiter=",", skiprows=1)
    return rows[:, :p]


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


def xoshiro(seed, count):
    s = []
    x = seed
    for _ in range(4):
        x, v = splitmix64(x)
        s.append(v)
    res = []
    for _ in range(count):
        res.append((rotl((s[1] * 5) & M64, 7) * 9) & M64)
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return res


def main():
    comment(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    iris = load("iris.csv", 4)
    wine = load("wine_data.csv", 13)

    # (a)
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(iris)
    out("km3.inertia", km.inertia_)
    for i, v in enumerate(km.labels_):
        print(f"km3.label.{i} {v}")
    outv("km3.center", km.cluster_centers_)
    best = min(KMeans(n_clusters=3, n_init=10, random_state=s).fit(iris).inertia_
               for s in range(50))
    out("km3.min_inertia", best)
    best_r = min(KMeans(n_clusters=3, n_init=10, init="random",
                        random_state=s).fit(iris).inertia_ for s in range(50))
    out("km3.min_inertia_random", best_r)

    # (b)
    km1 = KMeans(n_clusters=1, n_init=1, random_state=0).fit(iris)
    out("km1.inertia", km1.inertia_)
    out("km1.total_ss", ((iris - iris.mean(axis=0)) ** 2).sum())

    # (c)
    out("sil.km3", silhouette_score(iris, km.labels_))
    lab = km.labels_.copy()
    lab[0] = 3
    out("sil.single", silhouette_score(iris, lab))

    # (d)
    Z = StandardScaler().fit_transform(wine)
    pca = PCA(n_components=13).fit(Z)
    outv("pca.variance", pca.explained_variance_)
    outv("pca.ratio", pca.explained_variance_ratio_)
    outv("pca.component", pca.components_)
    T = pca.transform(Z[[0, 1, 177]])
    outv("pca.transform", T)
    pw = PCA(n_components=13, whiten=True).fit(Z)
    outv("pca.whiten0", pw.transform(Z[[0]]))
    p2 = PCA(n_components=2).fit(Z)
    outv("pca2.variance", p2.explained_variance_)
    outv("pca2.ratio", p2.explained_variance_ratio_)

    # (e)
    for seed in (0, 42):
        for i, v in enumerate(xoshiro(seed, 4)):
            print(f"rng.{seed}.{i} 0x{v:016X}")


if __name__ == "__main__":
    main()
