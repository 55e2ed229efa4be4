#!/usr/bin/python3
"""Reference numbers pinned in sql/09_classification.sql.

Computed with Debian's python3-sklearn on the bundled data/iris.csv and
data/breast_cancer.csv (all rows, as the tests train with test_fraction 0).
Logistic regressions use the newton-cg solver with tol 1e-12: the default
lbfgs stops with gradients near 1e-3 on these problems, far from the
optimum the tests pin.
Run from the repository root:

    /usr/bin/python3 test/reference/sql_classification.py > test/reference/sql_classification.out
"""
import csv
import warnings

import statsmodels  # noqa: F401 (python3-statsmodels)

import numpy as np
import sklearn
import sklearn.metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore")


def load(path):
    rows = list(csv.reader(open(path)))
    X = np.array([[float(v) for v in r[:-1]] for r in rows[1:]])
    y = np.array([r[-1] for r in rows[1:]])
    return rows[0], X, y


def out(key, v):
    print(f"{key} {v!r}" if isinstance(v, str) else f"{key} {float(v):.17g}")


print(f"# numpy {np.__version__}, scikit-learn {sklearn.__version__}")
hdr, X, y = load("data/iris.csv")

# (a) iris: multinomial logistic, l2, C=1, no scaling
lr = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000, multi_class="multinomial", solver="newton-cg").fit(X, y)
for k, c in enumerate(lr.classes_):
    out(f"iris_lr.{c}.intercept", lr.intercept_[k])
    for j, f in enumerate(hdr[:4]):
        out(f"iris_lr.{c}.{f}", lr.coef_[k, j])
P = lr.predict_proba(X)
for i in (0, 50, 100):
    for k, c in enumerate(lr.classes_):
        out(f"iris_lr.proba.row{i + 1}.{c}", P[i, k])
pred = lr.predict(X)
out("iris_lr.accuracy", skm.accuracy_score(y, pred))
out("iris_lr.precision", skm.precision_score(y, pred, average="macro", zero_division=0))
out("iris_lr.recall", skm.recall_score(y, pred, average="macro", zero_division=0))
out("iris_lr.f1", skm.f1_score(y, pred, average="macro", zero_division=0))
out("iris_lr.log_loss", skm.log_loss(y, P, labels=lr.classes_))
print("iris_lr.confusion", skm.confusion_matrix(y, pred, labels=lr.classes_).tolist())

# (b) breast cancer: binary logistic on standardised features (StandardScaler)
hdr, X, y = load("data/breast_cancer.csv")
pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=100000, solver="newton-cg")).fit(X, y)
P = pipe.predict_proba(X)
print("# classes", list(pipe.classes_))
for i in (0, 1, 19):
    out(f"bc_lr.proba.row{i + 1}.malignant", P[i, 1])
pred = pipe.predict(X)
out("bc_lr.accuracy", skm.accuracy_score(y, pred))
out("bc_lr.roc_auc", skm.roc_auc_score(y == "malignant", P[:, 1]))
out("bc_lr.log_loss", skm.log_loss(y, P))
sc, m = pipe[0], pipe[1]
w = m.coef_[0] / sc.scale_
out("bc_lr.intercept_original_units", m.intercept_[0] - np.sum(w * sc.mean_))
out("bc_lr.mean_radius_original_units", w[0])

# (c) iris: Gaussian naive Bayes
hdr, X, y = load("data/iris.csv")
nb = GaussianNB().fit(X, y)
P = nb.predict_proba(X)
for i in (0, 70, 83, 133):
    for k, c in enumerate(nb.classes_):
        out(f"iris_nb.proba.row{i + 1}.{c}", P[i, k])
out("iris_nb.accuracy", skm.accuracy_score(y, nb.predict(X)))

# (d) iris versicolor vs virginica, no penalty: the maximum-likelihood fit,
# from statsmodels' Newton solver (sklearn's newton-cg stops about 1e-6 away)
import statsmodels.api as sm

sel = y != "setosa"
res = sm.Logit((y[sel] == "virginica").astype(float), sm.add_constant(X[sel])).fit(
    method="newton", tol=1e-14, maxiter=200, disp=0)
out("iris2_none.intercept", res.params[0])
for j, f in enumerate(hdr[:4]):
    out(f"iris2_none.{f}", res.params[j + 1])
