#!/usr/bin/python3
"""Reference numbers for massmodel's lasso and elastic net (mm_elastic.c).

This script is the source of the expected numbers pinned in
test/unit/test_elastic.c.  Run from the repository root, with Debian's
python3 (numpy, scikit-learn 1.2.1):

    /usr/bin/python3 test/reference/elastic.py > test/reference/elastic.out

Output: one number per line, `key value`, values with 17 significant digits;
lines starting with '#' are comments.  Data: data/diabetes.csv, 442 rows,
the 10 raw (unscaled) features and the target `progression` (the same
numbers are embedded in test_elastic.c).

Fits, every one with tol=1e-12, max_iter=100000 (cyclic selection,
precompute=False, i.e. sklearn's enet_coordinate_descent on centred X):

  lasso1    Lasso(alpha=1.0)
  lasso01   Lasso(alpha=0.1)
  enet      ElasticNet(alpha=0.5, l1_ratio=0.7)
  enetnoi   ElasticNet(alpha=1.0, l1_ratio=0.3, fit_intercept=False)
  lasso10   Lasso(alpha=10.0), which has four exact zeros (the others
            have at most one), for the zero pattern

For each: <name>.coef.<j> (j = 0..9), <name>.intercept, <name>.n_iter and
<name>.dual_gap (sklearn's dual_gap_, i.e. divided by n).

Also:
  alpha_max     the smallest alpha for which Lasso's coef are all zero,
                max_j |X_c[:, j]' y_c| / n
  ridge.coef.<j>, ridge.intercept
                Ridge(alpha=n * 0.5) (closed form, solver='cholesky'):
                what ElasticNet(alpha=0.5, l1_ratio=0) minimises
  y_mean        mean of the target
"""
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge


def emit(key, value):
    print(f"{key} {float(value)!r}" if isinstance(value, (float, np.floating))
          else f"{key} {value}")


def main():
    data = np.genfromtxt("data/diabetes.csv", delimiter=",", names=True)
    names = data.dtype.names
    X = np.column_stack([data[c] for c in names if c != "progression"])
    y = np.asarray(data["progression"], dtype=float)
    n = X.shape[0]

    print(f"# sklearn {sklearn.__version__}, numpy {np.__version__}")
    print(f"# diabetes: n={n}, p={X.shape[1]}")

    fits = [
        ("lasso1", Lasso(alpha=1.0, tol=1e-12, max_iter=100000)),
        ("lasso01", Lasso(alpha=0.1, tol=1e-12, max_iter=100000)),
        ("enet", ElasticNet(alpha=0.5, l1_ratio=0.7, tol=1e-12,
                            max_iter=100000)),
        ("enetnoi", ElasticNet(alpha=1.0, l1_ratio=0.3, fit_intercept=False,
                               tol=1e-12, max_iter=100000)),
        ("lasso10", Lasso(alpha=10.0, tol=1e-12, max_iter=100000)),
    ]
    for name, model in fits:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model.fit(X, y)
        for j, c in enumerate(model.coef_):
            emit(f"{name}.coef.{j}", float(c))
        emit(f"{name}.intercept", float(model.intercept_))
        emit(f"{name}.n_iter", int(model.n_iter_))
        emit(f"{name}.dual_gap", float(model.dual_gap_))

    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    emit("alpha_max", float(np.max(np.abs(Xc.T @ yc)) / n))

    ridge = Ridge(alpha=n * 0.5, solver="cholesky").fit(X, y)
    for j, c in enumerate(ridge.coef_):
        emit(f"ridge.coef.{j}", float(c))
    emit("ridge.intercept", float(ridge.intercept_))
    emit("y_mean", float(y.mean()))


if __name__ == "__main__":
    main()
