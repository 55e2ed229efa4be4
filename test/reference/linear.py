#!/usr/bin/python3
"""Reference numbers for massmodel's linear models.

This script is the source of the expected numbers pinned in the regression
tests (sql/*.sql, expected/*.out): coefficients and metrics computed
independently with numpy (and scikit-learn for cross-checks) on the bundled
data sets data/diabetes.csv and data/longley.csv.

Run from the repository root, with Debian's python3 (numpy, scikit-learn):

    /usr/bin/python3 test/reference/linear.py > test/reference/linear.out

(On a fresh machine: bash scripts/deps.sh --reference installs
python3-numpy, python3-sklearn and python3-statsmodels.)

Output: one number per line, `key value`, values with 17 significant digits
(enough to round-trip a float8); lines starting with '#' are comments.
Coefficients are listed intercept first, then in the CSV's column order.

  (a) diabetes_ols.*          OLS with intercept, all 442 rows (lstsq on [1, X])
  (b) diabetes_ols_noint.*    OLS without intercept (lstsq on X)
  (c) diabetes_ridge1.*       ridge alpha=1 with intercept, closed form on
                              centred data; compared with sklearn Ridge(alpha=1)
  (d) diabetes_ridge10_noint.* ridge alpha=10, no intercept: solve(X'X + aI, X'y)
  (e) longley_ols.*           Longley OLS (lstsq), with the number of digits each
                              coefficient shares with the NIST certified value
                              (log relative error, LRE), plus the exact
                              least-squares solution in rational arithmetic
  (f) diabetes_ols_metrics.*  mse, rmse, mae, r2, explained_variance of (a) on
                              all 442 rows (sklearn.metrics)
  (g) diabetes_ols.pred.N     predictions of (a) for the first 5 rows
"""
import os
import sys
from fractions import Fraction

import numpy as np
import sklearn
import sklearn.metrics as skm
from sklearn.linear_model import Ridge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def load(name):
    path = os.path.join(ROOT, "data", name)
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return header, data


def out(key, value):
    print(f"{key} {float(value):.17g}")


def comment(text):
    print(f"# {text}")


def coefs(prefix, names, intercept, w):
    if intercept is not None:
        out(f"{prefix}.intercept", intercept)
    for n, v in zip(names, w):
        out(f"{prefix}.{n}", v)


def lre(value, certified):
    """Log relative error: the number of significant digits in agreement."""
    if value == certified:
        return 17.0
    return min(17.0, -np.log10(abs(value - certified) / abs(certified)))


def exact_ols(X, y):
    """Least squares with intercept in exact rational arithmetic (normal equations)."""
    rows = [[Fraction(1)] + [Fraction(repr(v)) for v in r] for r in X.tolist()]
    ys = [Fraction(repr(v)) for v in y.tolist()]
    p = len(rows[0])
    A = [[sum(r[i] * r[j] for r in rows) for j in range(p)] for i in range(p)]
    b = [sum(r[i] * yy for r, yy in zip(rows, ys)) for i in range(p)]
    for c in range(p):                       # Gauss-Jordan, exact
        piv = next(r for r in range(c, p) if A[r][c] != 0)
        A[c], A[piv] = A[piv], A[c]
        b[c], b[piv] = b[piv], b[c]
        for r in range(p):
            if r != c and A[r][c] != 0:
                f = A[r][c] / A[c][c]
                A[r] = [a - f * ac for a, ac in zip(A[r], A[c])]
                b[r] -= f * b[c]
    return [b[i] / A[i][i] for i in range(p)]


def main():
    comment(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
            f"python {sys.version.split()[0]}")

    # ---- diabetes ----------------------------------------------------------
    header, D = load("diabetes.csv")
    names = header[:-1]
    X, y = D[:, :-1], D[:, -1]
    n, p = X.shape
    assert (n, p) == (442, 10), (n, p)
    comment(f"data/diabetes.csv: {n} rows, features {','.join(names)}, target {header[-1]}")

    # (a) OLS with intercept
    A = np.column_stack([np.ones(n), X])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    comment("(a) OLS with intercept, lstsq on [1, X]")
    coefs("diabetes_ols", names, beta[0], beta[1:])

    # (b) OLS without intercept
    w0, *_ = np.linalg.lstsq(X, y, rcond=None)
    comment("(b) OLS without intercept, lstsq on X")
    coefs("diabetes_ols_noint", names, None, w0)

    # (c) ridge alpha=1 with intercept (intercept not penalised)
    alpha = 1.0
    xbar, ybar = X.mean(axis=0), y.mean()
    Xc, yc = X - xbar, y - ybar
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(p), Xc.T @ yc)
    b0 = ybar - xbar @ w
    comment("(c) ridge alpha=1 with intercept: w = solve(Xc'Xc + aI, Xc'yc), b0 = ybar - xbar'w")
    coefs("diabetes_ridge1", names, b0, w)
    sk = Ridge(alpha=alpha).fit(X, y)
    mine = np.concatenate([[b0], w])
    theirs = np.concatenate([[sk.intercept_], sk.coef_])
    out("diabetes_ridge1.sklearn_max_rel_diff",
        np.max(np.abs(mine - theirs) / np.abs(theirs)))

    # (d) ridge alpha=10 without intercept
    alpha = 10.0
    w10 = np.linalg.solve(X.T @ X + alpha * np.eye(p), X.T @ y)
    comment("(d) ridge alpha=10, no intercept: solve(X'X + aI, X'y)")
    coefs("diabetes_ridge10_noint", names, None, w10)
    sk10 = Ridge(alpha=alpha, fit_intercept=False).fit(X, y)
    out("diabetes_ridge10_noint.sklearn_max_rel_diff",
        np.max(np.abs(w10 - sk10.coef_) / np.abs(sk10.coef_)))

    # (e) Longley
    lheader, L = load("longley.csv")
    lnames = lheader[1:]
    ly, LX = L[:, 0], L[:, 1:]
    assert L.shape == (16, 7), L.shape
    comment(f"data/longley.csv: {L.shape[0]} rows, target {lheader[0]}, "
            f"features {','.join(lnames)}")
    nist = [-3482258.63459582, 15.0618722713733, -0.358191792925910e-01,
            -2.02022980381683, -1.03322686717359, -0.511041056535807e-01,
            1829.15146461355]
    lbeta, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(ly)), LX]), ly, rcond=None)
    exact = exact_ols(LX, ly)
    comment("(e) Longley OLS with intercept, lstsq; .nist_digits = LRE against NIST StRD")
    keys = ["intercept"] + lnames
    for k, v, c in zip(keys, lbeta, nist):
        out(f"longley_ols.{k}", v)
        out(f"longley_ols.{k}.nist_digits", lre(v, c))
    comment("(e) NIST StRD certified values (15 digits) and the exact rational solution")
    for k, c, e in zip(keys, nist, exact):
        out(f"longley_nist.{k}", c)
        out(f"longley_exact.{k}", float(e))
        out(f"longley_exact.{k}.nist_digits", lre(float(e), c))
    out("longley_ols.min_nist_digits",
        min(lre(v, c) for v, c in zip(lbeta, nist)))

    # (f) metrics of (a) on all rows
    pred = A @ beta
    comment("(f) metrics of model (a) on all 442 rows")
    mse = skm.mean_squared_error(y, pred)
    out("diabetes_ols_metrics.n", n)
    out("diabetes_ols_metrics.mse", mse)
    out("diabetes_ols_metrics.rmse", np.sqrt(mse))
    out("diabetes_ols_metrics.mae", skm.mean_absolute_error(y, pred))
    out("diabetes_ols_metrics.r2", skm.r2_score(y, pred))
    out("diabetes_ols_metrics.explained_variance", skm.explained_variance_score(y, pred))

    # (g) a few predictions of (a)
    comment("(g) predictions of model (a) for rows 1..5 of data/diabetes.csv")
    for i in range(5):
        out(f"diabetes_ols.pred.{i + 1}", pred[i])


if __name__ == "__main__":
    main()
