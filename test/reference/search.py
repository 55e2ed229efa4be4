#!/usr/bin/python3
"""Reference numbers for the k-fold cross-validated grid search of mm_train,
from Debian's python3-sklearn.

The row split and the fold assignment are those of the C code, ported here:
mm_split_u() (src/core/mm_split.c) with seed 42 over the row's values
[target, feature_1, ..., feature_p] gives u in [0, 1); with test_fraction
0.2 a regression row is held out iff u < 0.2, and for classification the
round(0.2 * n_k) rows with the smallest u of each class are held out.  The
training rows (in file order) are sorted by (u, read position) -- per class
for classification -- and the i-th gets fold i % 5.  Every candidate is fit
on four folds and scored on the fifth (rmse or accuracy); the best mean
(first on ties) is refit on all training rows and scored on the held-out
rows.

(A) Ridge(alpha) on the raw diabetes data, alpha in 0.1, 1, 10, 100.
(B) Lasso(alpha, tol=1e-14) on diabetes, alpha in 0.1, 1 (outer) by scale in
    none, standard (inner); 'standard' is a StandardScaler fit on the fold's
    training rows only; refit coefficients in the columns' original units.
(C) StandardScaler + LogisticRegression(C, l2, newton-cg, tol=1e-12) on
    breast_cancer, target 1 for malignant, else 0; C in 0.01, 0.1, 1, 10.
    newton-cg cannot reach tol=1e-12 on sklearn's objective, a sum over the
    rows times C: it stops at the rounding floor, max |gradient| between
    2e-12 (C=0.01) and 1.5e-7 (C=10), and warns; those warnings are silenced.  Its
    predictions on every fold and on the held-out rows were checked equal
    to lbfgs (tol 1e-10) and newton-cg (tol 1e-6), and the smallest
    |decision value| of a scored row is 0.0069, so the accuracies are
    those of the optimum.

Run from the repository root:
/usr/bin/python3 test/reference/search.py > test/reference/search.out
"""
import math
import warnings

import numpy as np

from mmsplit import split
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.simplefilter('ignore', ConvergenceWarning)   # newton-cg, see above
warnings.filterwarnings('ignore', 'Line Search failed')
warnings.filterwarnings('ignore', module='scipy.optimize')

SEED = 42
TF = 0.2
K = 5
def rmse(a, b):
    return math.sqrt(np.mean((a - b) ** 2))


def accuracy(a, b):
    return float(np.mean(a == b))


def search(tag, X, y, classify, grid, make):
    train, test, fold = split(X, y, classify)
    Xt, yt = X[train], y[train]
    print('%s_train_rows %d' % (tag, len(train)))
    print('%s_heldout_rows %d' % (tag, len(test)))
    print('%s_heldout_share %.17g' % (tag, len(test) / len(y)))
    if classify:
        for c in np.unique(y):
            print('%s_class %g train %d heldout %d' % (tag, c, np.sum(yt == c), np.sum(y[test] == c)))
    for f in range(K):
        print('%s_fold%d_size %d' % (tag, f, np.sum(fold == f)))
    score = accuracy if classify else rmse
    means = []
    for ci, cand in enumerate(grid):
        print('%s_cand%d %s' % (tag, ci, ' '.join(map(str, cand))))
        s = []
        for f in range(K):
            est = make(*cand).fit(Xt[fold != f], yt[fold != f])
            s.append(score(est.predict(Xt[fold == f]), yt[fold == f]))
            print('%s_cand%d_fold%d %.17g' % (tag, ci, f, s[-1]))
        means.append(np.mean(s))
        print('%s_cand%d_mean %.17g' % (tag, ci, np.mean(s)))
        print('%s_cand%d_std %.17g' % (tag, ci, np.std(s)))
    best = int(np.argmax(means) if classify else np.argmin(means))
    print('%s_best %d' % (tag, best))
    est = make(*grid[best]).fit(Xt, yt)
    print('%s_heldout_%s %.17g' % (tag, 'accuracy' if classify else 'rmse',
                                    score(est.predict(X[test]), y[test])))
    return est


def original_units(est):
    """Intercept and coefficients of a (scaler +) linear model in raw units."""
    if hasattr(est, 'steps'):
        sc, lin = est.steps[0][1], est.steps[-1][1]
        coef = lin.coef_.ravel() / sc.scale_
        return float(np.ravel(lin.intercept_)[0] - np.sum(coef * sc.mean_)), coef
    return float(np.ravel(est.intercept_)[0]), est.coef_.ravel()


def print_linear(tag, est, names):
    b, coef = original_units(est)
    print('%s_intercept %.17g' % (tag, b))
    for name, c in zip(names, coef):
        print('%s_coef %s %.17g' % (tag, name, c))


print('sklearn', sklearn.__version__)

with open('data/diabetes.csv') as f:
    dnames = f.readline().strip().split(',')
d = np.loadtxt('data/diabetes.csv', delimiter=',', skiprows=1)
dX, dy = d[:, :10], d[:, 10]

est = search('A', dX, dy, False, [(a,) for a in (0.1, 1.0, 10.0, 100.0)],
             lambda a: Ridge(alpha=a, solver='cholesky'))
print_linear('A', est, dnames[:10])


def lasso(a, scale):
    lin = Lasso(alpha=a, tol=1e-14, max_iter=1000000)
    return make_pipeline(StandardScaler(), lin) if scale == 'standard' else lin


est = search('B', dX, dy, False, [(a, s) for a in (0.1, 1.0) for s in ('none', 'standard')], lasso)
print_linear('B', est, dnames[:10])

with open('data/breast_cancer.csv') as f:
    bnames = f.readline().strip().split(',')
b = np.genfromtxt('data/breast_cancer.csv', delimiter=',', skip_header=1, dtype=str)
bX = b[:, :30].astype(float)
by = (b[:, 30] == 'malignant').astype(float)

est = search('C', bX, by, True, [(c,) for c in (0.01, 0.1, 1.0, 10.0)],
             lambda c: make_pipeline(StandardScaler(), LogisticRegression(
                 C=c, penalty='l2', solver='newton-cg', tol=1e-12, max_iter=10000)))
