#!/usr/bin/python3
"""Reference numbers for sql/11_unsupervised.sql, from Debian's python3-sklearn.

k-means on the four iris measurements (data/iris.csv), k = 3, n_init = 10,
unscaled: the best inertia over 50 seeds (the optimum the SQL test must
reach), the cluster sizes and the silhouette of that partition.  PCA on the
standardised measurements: explained variances and their ratios.
Run: python3 test/reference/unsupervised.py > test/reference/unsupervised.out
"""
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

X = np.loadtxt('data/iris.csv', delimiter=',', skiprows=1, usecols=(0, 1, 2, 3))
print('sklearn', sklearn.__version__)
best = min((KMeans(n_clusters=3, n_init=10, random_state=s).fit(X) for s in range(50)),
           key=lambda km: km.inertia_)
print('kmeans_inertia %.15g' % best.inertia_)
print('kmeans_sizes', ' '.join(str(c) for c in sorted(np.bincount(best.labels_))))
print('kmeans_silhouette %.15g' % silhouette_score(X, best.labels_))
pca = PCA().fit(StandardScaler().fit_transform(X))
print('pca_explained_variance', ' '.join('%.17g' % v for v in pca.explained_variance_))
print('pca_explained_variance_ratio', ' '.join('%.17g' % v for v in pca.explained_variance_ratio_))
# mm_transform: the first three rows on two components, signed by massmodel's
# rule (each component's entry of largest absolute value positive), plain
# and whitened.
scaler = StandardScaler().fit(X)
for whiten in (False, True):
    p2 = PCA(n_components=2, whiten=whiten).fit(scaler.transform(X))
    comps = p2.components_.copy()
    flip = np.sign(comps[np.arange(2), np.argmax(np.abs(comps), axis=1)])
    coords = p2.transform(scaler.transform(X[:3])) * flip
    print('pca_transform%s' % ('_whiten' if whiten else ''),
          ' '.join('%.17g' % v for v in coords.ravel()))
