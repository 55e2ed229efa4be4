#!/usr/bin/python3
"""Reference numbers for massmodel's classifiers and classification metrics.

This script is the source of the expected numbers pinned in
test/unit/test_cls.c: logistic regression, naive Bayes and classification
metrics computed with scikit-learn 1.2 (and statsmodels as a cross-check).

Run from the repository root, with Debian's python3 (numpy, scikit-learn,
statsmodels):

    /usr/bin/python3 test/reference/classification.py > test/reference/classification.out

Output: one number per line, `key value`, values with 17 significant digits;
lines starting with '#' are comments.  Data sets:

  iris      sklearn's bundled iris.csv, 150 rows x 4, classes 0, 1, 2
            (embedded in test_cls.c)
  multi     90 rows x 3, 3 overlapping Gaussian classes, numpy
            RandomState(20240601), rounded to 3 decimals (printed below as
            data.multi.*, embedded in test_cls.c)
  cat       20 rows, two one-hot groups of 3 and 2 levels (printed below)

Sections:

  (a) logit_bin_l2.*      iris classes 1 vs 2 (rows 50..149, y = class - 1),
                          penalty l2, C = 1: coef, intercept, P(class 1) of
                          rows 0, 10, 25, 60, 99 of that subset
  (b) logit_bin_none.*    the same with penalty none; cross-checked with
                          statsmodels Logit
  (c) logit_bin_noint.*   the same as (a) with C = 0.5 and no intercept
  (d) logit_sep_l2.*      iris classes 0 vs 1 (rows 0..99, perfectly
                          separable), penalty l2, C = 1
  (e) logit_multi_l2.*    iris, 3 classes, multinomial, l2, C = 1: coef (3x4
                          row-major), intercept, probabilities of rows 0, 60,
                          77, 120, 133
  (f) logit_multi_none.*  data multi, multinomial, penalty none:
                          probabilities of rows 0, 17, 45, 89
  (g) gnb.*               GaussianNB on iris: theta, var, class_prior,
                          predict_proba of rows 0, 50, 70, 77, 83, 100, 133
  (h) cnb.*               CategoricalNB(alpha=1, min_categories=[3, 2]) on
                          data cat: feature_log_prob as one-hot columns
                          (3x5), probabilities of every row; cnb1.* the model
                          of group 1 only, which is what a row whose second
                          group is all zeros must get
  (i) mixed.*             iris sepal length, sepal width numeric plus petal
                          length binned into 3 one-hot levels: probabilities
                          from gnb_jll + cnb_jll - log_prior of rows 0, 50,
                          70, 77, 100, 133
  (j) metrics3.*, metrics2.*  sklearn.metrics on the fixed probabilities
                          printed below as data.m3.*, data.m2.*
"""
import os
import warnings

import numpy as np
import sklearn
import sklearn.metrics as skm
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import CategoricalNB, GaussianNB

warnings.filterwarnings("ignore")

IRIS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv"


def out(key, value):
    print(f"{key} {float(value):.17g}")


def outv(key, values):
    for i, v in enumerate(np.ravel(values)):
        out(f"{key}.{i}", v)


def comment(text):
    print(f"# {text}")


def load_iris():
    data = np.loadtxt(IRIS, delimiter=",", skiprows=1)
    return data[:, :4], data[:, 4].astype(int)


def logit(X, y, penalty, C=1.0, fit_intercept=True, solver="newton-cg"):
    m = LogisticRegression(penalty=penalty, C=C, fit_intercept=fit_intercept,
                           tol=1e-14, max_iter=1000, solver=solver,
                           multi_class="multinomial" if len(set(y)) > 2 else "auto")
    return m.fit(X, y)


def gradnorm(X, y, coef, intercept, penalty, C=1.0):
    """Max-norm of the gradient of sklearn's objective at (coef, intercept)."""
    K = max(2, len(set(y)))
    Z = X @ np.atleast_2d(coef).T + intercept
    if K == 2:
        R = 1 / (1 + np.exp(-Z[:, 0])) - y
        R = R[:, None]
    else:
        P = np.exp(Z - logsumexp(Z, axis=1)[:, None])
        R = P - np.eye(K)[y]
    Cf = C if penalty == "l2" else 1.0
    gW = Cf * R.T @ X + (np.atleast_2d(coef) if penalty == "l2" else 0.0)
    gb = Cf * R.sum(axis=0) if np.any(intercept != 0) else np.zeros(0)
    return np.max(np.abs(np.r_[gW.ravel(), gb]))


def agree(a, b):
    """Largest relative difference of two coefficient vectors."""
    a = np.ravel(a)
    b = np.ravel(b)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


def main():
    comment(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    X, y = load_iris()

    # (a) binary l2
    Xb, yb = X[50:], y[50:] - 1
    rows = [0, 10, 25, 60, 99]
    m = logit(Xb, yb, "l2", solver="newton-cholesky")
    m2 = logit(Xb, yb, "l2", solver="newton-cg")
    comment(f"(a) newton-cholesky vs newton-cg: max rel diff {agree(m.coef_, m2.coef_):.3g}")
    comment(f"(a) gradient max-norm at the solution {gradnorm(Xb, yb, m.coef_, m.intercept_, 'l2'):.3g}")
    outv("logit_bin_l2.coef", m.coef_)
    out("logit_bin_l2.intercept", m.intercept_[0])
    outv("logit_bin_l2.p1", m.predict_proba(Xb[rows])[:, 1])

    # (b) binary none
    m = logit(Xb, yb, "none", solver="newton-cholesky")
    try:
        import statsmodels.api as sm
        res = sm.Logit(yb, sm.add_constant(Xb)).fit(method="newton", tol=1e-12,
                                                     maxiter=200, disp=0)
        sm_params = res.params
        comment(f"(b) statsmodels {sm.__version__} vs sklearn: max rel diff "
                f"{agree(np.r_[m.intercept_, m.coef_[0]], sm_params):.3g}")
    except ImportError:
        comment("(b) statsmodels not available")
    comment(f"(b) gradient max-norm at the solution {gradnorm(Xb, yb, m.coef_, m.intercept_, 'none'):.3g}")
    outv("logit_bin_none.coef", m.coef_)
    out("logit_bin_none.intercept", m.intercept_[0])
    outv("logit_bin_none.p1", m.predict_proba(Xb[rows])[:, 1])

    # (c) binary, no intercept
    m = logit(Xb, yb, "l2", C=0.5, fit_intercept=False, solver="newton-cholesky")
    comment(f"(c) gradient max-norm at the solution {gradnorm(Xb, yb, m.coef_, m.intercept_, 'l2', C=0.5):.3g}")
    outv("logit_bin_noint.coef", m.coef_)
    outv("logit_bin_noint.p1", m.predict_proba(Xb[rows])[:, 1])

    # (d) separable, l2
    Xs, ys = X[:100], y[:100]
    m = logit(Xs, ys, "l2", solver="newton-cholesky")
    comment(f"(d) gradient max-norm at the solution {gradnorm(Xs, ys, m.coef_, m.intercept_, 'l2'):.3g}")
    outv("logit_sep_l2.coef", m.coef_)
    out("logit_sep_l2.intercept", m.intercept_[0])

    # (e) multinomial l2
    rows_m = [0, 60, 77, 120, 133]
    m = logit(X, y, "l2", solver="newton-cg")
    comment("(e) newton-cg (lbfgs stops early on its ftol): gradient max-norm at "
            f"the solution {gradnorm(X, y, m.coef_, m.intercept_, 'l2'):.3g}")
    outv("logit_multi_l2.coef", m.coef_)
    outv("logit_multi_l2.intercept", m.intercept_)
    outv("logit_multi_l2.proba", m.predict_proba(X[rows_m]))

    # (f) multinomial none on overlapping synthetic data
    rs = np.random.RandomState(20240601)
    centers = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, -0.5], [0.5, 1.5, 0.5]])
    ym = np.repeat([0, 1, 2], 30)
    Xm = np.round(centers[ym] + rs.normal(size=(90, 3)), 3)
    for i in range(90):
        print(f"data.multi.{i} {Xm[i, 0]:.3f} {Xm[i, 1]:.3f} {Xm[i, 2]:.3f} {ym[i]}")
    rows_f = [0, 17, 45, 89]
    m = logit(Xm, ym, "none", solver="newton-cg")
    comment("(f) newton-cg: gradient max-norm at the solution "
            f"{gradnorm(Xm, ym, m.coef_, m.intercept_, 'none'):.3g}")
    outv("logit_multi_none.proba", m.predict_proba(Xm[rows_f]))

    # (g) GaussianNB on iris
    g = GaussianNB().fit(X, y)
    outv("gnb.theta", g.theta_)
    outv("gnb.var", g.var_)
    outv("gnb.class_prior", g.class_prior_)
    out("gnb.epsilon", g.epsilon_)
    outv("gnb.proba", g.predict_proba(X[[0, 50, 70, 77, 83, 100, 133]]))

    # (h) CategoricalNB on two one-hot groups
    codes = np.array([[0, 1], [1, 0], [2, 1], [0, 0], [1, 1], [2, 0], [0, 1],
                      [1, 1], [2, 1], [0, 0], [1, 0], [1, 1], [0, 0], [2, 1],
                      [0, 1], [1, 0], [0, 0], [2, 0], [0, 1], [1, 1]])
    yc = np.array([0, 1, 2, 0, 1, 2, 0, 0, 2, 1, 1, 2, 0, 2, 0, 1, 0, 2, 1, 1])
    for i in range(len(yc)):
        print(f"data.cat.{i} {codes[i, 0]} {codes[i, 1]} {yc[i]}")
    c = CategoricalNB(alpha=1.0, min_categories=[3, 2]).fit(codes, yc)
    flp = np.hstack([c.feature_log_prob_[0], c.feature_log_prob_[1]])
    outv("cnb.log_prob", flp)
    outv("cnb.proba", c.predict_proba(codes))
    c1 = CategoricalNB(alpha=1.0, min_categories=[3]).fit(codes[:, :1], yc)
    outv("cnb1.proba", c1.predict_proba(np.array([[0], [1], [2]])))

    # (i) mixed numeric + categorical
    Xn = X[:, :2]
    bins = np.digitize(X[:, 2], [2.5, 5.0])      # levels 0, 1, 2
    g = GaussianNB().fit(Xn, y)
    c = CategoricalNB(alpha=1.0, min_categories=[3]).fit(bins[:, None], y)
    rows_i = [0, 50, 70, 77, 100, 133]
    jll = (g._joint_log_likelihood(Xn[rows_i])
           + c._joint_log_likelihood(bins[rows_i, None])
           - np.log(g.class_prior_))
    proba = np.exp(jll - logsumexp(jll, axis=1)[:, None])
    outv("mixed.proba", proba)

    # (j) metrics, K = 4: class 2 predicted but never true, class 3 true
    # but never predicted; rows that do not sum to 1, zeros, ties
    y3 = np.array([0, 0, 1, 1, 1, 3, 3, 0, 1, 0, 3, 1])
    p3 = np.array([
        [0.70, 0.10, 0.10, 0.10],
        [0.25, 0.25, 0.25, 0.25],
        [0.10, 0.60, 0.20, 0.10],
        [0.00, 0.50, 0.50, 0.00],
        [0.30, 0.30, 0.30, 0.00],
        [0.40, 0.20, 0.20, 0.20],
        [0.10, 0.10, 0.80, 0.00],
        [0.90, 0.00, 0.00, 0.00],
        [0.20, 0.20, 0.20, 0.20],
        [0.05, 0.05, 0.80, 0.10],
        [0.50, 0.10, 0.10, 0.30],
        [0.00, 1.00, 0.00, 0.00],
    ])
    for i in range(len(y3)):
        print(f"data.m3.{i} {y3[i]} " + " ".join(f"{v:.2f}" for v in p3[i]))
    pred3 = np.argmax(p3, axis=1)
    labels = list(range(4))
    out("metrics3.accuracy", skm.accuracy_score(y3, pred3))
    out("metrics3.precision", skm.precision_score(y3, pred3, labels=labels, average="macro", zero_division=0))
    out("metrics3.recall", skm.recall_score(y3, pred3, labels=labels, average="macro", zero_division=0))
    out("metrics3.f1", skm.f1_score(y3, pred3, labels=labels, average="macro", zero_division=0))
    out("metrics3.log_loss", skm.log_loss(y3, p3, eps=1e-15, labels=labels))

    y2 = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0])
    s2 = np.array([0.1, 0.9, 0.5, 0.5, 0.7, 0.3, 0.5, 0.5, 0.2, 0.7, 1.0, 0.0,
                   0.3, 0.65, 0.2, 0.4])
    p2 = np.c_[1 - s2, s2]
    for i in range(len(y2)):
        print(f"data.m2.{i} {y2[i]} {s2[i]:.2f}")
    pred2 = np.argmax(p2, axis=1)
    out("metrics2.accuracy", skm.accuracy_score(y2, pred2))
    out("metrics2.precision", skm.precision_score(y2, pred2, labels=[0, 1], average="macro", zero_division=0))
    out("metrics2.recall", skm.recall_score(y2, pred2, labels=[0, 1], average="macro", zero_division=0))
    out("metrics2.f1", skm.f1_score(y2, pred2, labels=[0, 1], average="macro", zero_division=0))
    out("metrics2.log_loss", skm.log_loss(y2, p2, eps=1e-15, labels=[0, 1]))
    out("metrics2.roc_auc", skm.roc_auc_score(y2, s2))


if __name__ == "__main__":
    main()
