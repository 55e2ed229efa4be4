#!/usr/bin/python3
"""Reference numbers for the ensembles of mm_train (stacking and voting),
from Debian's python3-sklearn.

The row split and the fold assignment are those of the C code (mmsplit.py,
shared with search.py): mm_split_u() (src/core/mm_split.c) with seed 42 over the row's
values [target, feature_1, ..., feature_p] gives u in [0, 1); with
test_fraction 0.2 a regression row is held out iff u < 0.2, and for
classification the round(0.2 * n_k) rows with the smallest u of each class
are held out.  The training rows (in file order) are sorted by (u, read
position) -- per class for classification -- and the i-th gets fold i % 5.
The folds are handed to sklearn as cv=[(train_idx, test_idx), ...] with
positions inside the training rows, so the out-of-fold predictions that
train a stacking's final model come from exactly those folds.

Data: diabetes (target progression, the other 10 columns as features in
file order, raw units); breast_cancer (the 30 feature columns; target 1 for
malignant, else 0).  "LR" below is StandardScaler + LogisticRegression(C=1,
l2, newton-cg, tol=1e-12, max_iter=10000); newton-cg cannot reach tol=1e-12
and stops at the rounding floor with a warning (see search.py); those
ConvergenceWarning and line-search warnings are silenced.  Checked by
refining the fits with exact Newton steps (gradient 2e-15): the G member's
probabilities move by at most 2.1e-10 and the E probabilities printed by
at most 2.6e-11, so compare those digits with a tolerance, not exactly
(lbfgs with tol=1e-14 stops early and is off by up to 2.4e-5).  Ridge(alpha=1)
is solver 'auto', i.e. cholesky on dense data.  Lasso is
Lasso(alpha=0.1, tol=1e-14, max_iter=1000000).

(D) StackingRegressor of Ridge, Lasso, LinearRegression with final
    Ridge(alpha=1) on diabetes, fit on the training rows: the final
    model's intercept and coefficients (one per member, in member order),
    held-out rmse, mae, r2, and the first 5 held-out rows (file order) as
    "D_pred <0-based file row> <prediction>".
(E) StackingClassifier of LR and GaussianNB(var_smoothing=1e-9) with final
    LR, stack_method='predict_proba', on breast_cancer: two stacked columns
    (each member's probability of class 1; sklearn drops the first column
    for two classes).  Held-out accuracy, log loss and the probability of
    class 1 of the first 5 held-out rows.
(F) Ridge and Lasso fit on the diabetes training rows, averaged by hand
    with weights [1, 3] ((1 * ridge + 3 * lasso) / 4) and also through a
    fitted VotingRegressor (they agree: F_check_voting), scored on ALL
    442 rows; the prediction of row 0.
(G) LR and GaussianNB fit on the breast_cancer training rows, scored on
    ALL 569 rows.  Soft vote, weights [2, 1]: probabilities are the
    weighted mean of the members' probabilities, the class their argmax.
    Hard vote, weights [1, 1]: the shares are (members predicting the
    class) / 2 and a 1-1 tie goes to class 0 (numpy argmax).  Also the
    soft-vote probability of class 1 of row 0.

The log losses are sklearn.metrics.log_loss(eps=1e-15) as in
src/core/mm_clsmetrics.c (clip to [eps, 1 - eps], renormalise, -log of
the true class's); the *_logloss_eps_auto_diff lines give the difference
to sklearn 1.2's default eps='auto' (2.2e-16).

Checks (each a max |difference|, expected 0 or rounding):
 *_check_final: sklearn's fitted ensemble against a hand computation --
    for D/E the out-of-fold matrix built by fitting clones of the members
    on four of our folds and predicting the fifth, the final estimator fit
    on it, the members refit on all training rows; compared are the
    final model's parameters and the held-out predictions.
 D_check_default_cv: the same final coefficients with sklearn's own
    cv=KFold(5), to show the check above would see other folds.
 F/G_check_*: VotingRegressor / VotingClassifier against the by-hand
    weighted mean (F, G soft) and vote count (G hard); the printed numbers
    are the hand ones.

Run from the repository root:
/usr/bin/python3 test/reference/fusion.py > test/reference/fusion.out
"""
import math
import warnings

import numpy as np

from mmsplit import split
import sklearn
from sklearn.base import clone
from sklearn.ensemble import (StackingClassifier, StackingRegressor,
                              VotingClassifier, VotingRegressor)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, log_loss, mean_absolute_error,
                             mean_squared_error, r2_score)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.simplefilter('ignore', ConvergenceWarning)   # newton-cg, see above
warnings.filterwarnings('ignore', 'Line Search failed')
warnings.filterwarnings('ignore', module='scipy.optimize')

SEED = 42
TF = 0.2
K = 5
EPS = 1e-15
# --- helpers ---------------------------------------------------------------

def out(key, v):
    print('%s %.17g' % (key, v))


def cv_list(fold):
    """Our folds as (train positions, test positions) within the training rows."""
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(K)]


def maxdiff(*pairs):
    return max(float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))
               for a, b in pairs)


def member_out(est, X, classify):
    return est.predict_proba(X)[:, 1] if classify else est.predict(X)


def hand_stack(members, final, Xt, yt, fold, Xh, classify):
    """Out-of-fold matrix over our folds, final fit on it, members refit."""
    Z = np.zeros((len(yt), len(members)))
    for f in range(K):
        tr, te = fold != f, fold == f
        for j, m in enumerate(members):
            Z[te, j] = member_out(clone(m).fit(Xt[tr], yt[tr]), Xt[te], classify)
    fin = clone(final).fit(Z, yt)
    Zh = np.column_stack([member_out(clone(m).fit(Xt, yt), Xh, classify) for m in members])
    return fin, (fin.predict_proba(Zh)[:, 1] if classify else fin.predict(Zh))


def lr():
    return make_pipeline(StandardScaler(), LogisticRegression(
        C=1.0, penalty='l2', solver='newton-cg', tol=1e-12, max_iter=10000))


def lasso():
    return Lasso(alpha=0.1, tol=1e-14, max_iter=1000000)


def logloss(y, p1, tag):
    P = np.column_stack([1.0 - p1, p1])
    ll = log_loss(y, P, eps=EPS, labels=[0.0, 1.0])
    out(tag + '_logloss', ll)
    out(tag + '_logloss_eps_auto_diff', abs(ll - log_loss(y, P, labels=[0.0, 1.0])))


print('sklearn', sklearn.__version__)

d = np.loadtxt('data/diabetes.csv', delimiter=',', skiprows=1)
dX, dy = d[:, :10], d[:, 10]
b = np.genfromtxt('data/breast_cancer.csv', delimiter=',', skip_header=1, dtype=str)
bX = b[:, :30].astype(float)
by = (b[:, 30] == 'malignant').astype(float)

# --- (D) stacking regression, diabetes ----------------------------------
train, test, fold = split(dX, dy, False)
Xt, yt, Xh, yh = dX[train], dy[train], dX[test], dy[test]
print('D_rows train %d heldout %d' % (len(train), len(test)))
members = [('r', Ridge(alpha=1.0)), ('l', lasso()), ('lr', LinearRegression())]
stk = StackingRegressor(estimators=members, final_estimator=Ridge(alpha=1.0),
                        cv=cv_list(fold)).fit(Xt, yt)
fin = stk.final_estimator_
pred = stk.predict(Xh)
out('D_final_intercept', fin.intercept_)
for (name, _), c in zip(members, fin.coef_):
    out('D_final_coef_' + name, c)
out('D_heldout_rmse', math.sqrt(mean_squared_error(yh, pred)))
out('D_heldout_mae', mean_absolute_error(yh, pred))
out('D_heldout_r2', r2_score(yh, pred))
for i in range(5):
    print('D_pred %d %.17g' % (test[i], pred[i]))
hfin, hpred = hand_stack([m for _, m in members], Ridge(alpha=1.0), Xt, yt, fold, Xh, False)
out('D_check_final', maxdiff((hfin.coef_, fin.coef_), (hfin.intercept_, fin.intercept_),
                             (hpred, pred)))
dflt = StackingRegressor(estimators=members, final_estimator=Ridge(alpha=1.0),
                         cv=5).fit(Xt, yt)
out('D_check_default_cv', maxdiff((dflt.final_estimator_.coef_, fin.coef_)))

# --- (E) stacking classification, breast cancer ---------------------------
train, test, fold = split(bX, by, True)
Xt, yt, Xh, yh = bX[train], by[train], bX[test], by[test]
print('E_rows train %d heldout %d' % (len(train), len(test)))
members = [('lr', lr()), ('nb', GaussianNB(var_smoothing=1e-9))]
stk = StackingClassifier(estimators=members, final_estimator=lr(), cv=cv_list(fold),
                         stack_method='predict_proba').fit(Xt, yt)
assert stk.transform(Xh).shape[1] == 2
p1 = stk.predict_proba(Xh)[:, 1]
out('E_heldout_accuracy', accuracy_score(yh, stk.predict(Xh)))
logloss(yh, p1, 'E_heldout')
for i in range(5):
    print('E_proba1 %d %.17g' % (test[i], p1[i]))
hfin, hp1 = hand_stack([m for _, m in members], lr(), Xt, yt, fold, Xh, True)
sf, hf = stk.final_estimator_, hfin
out('E_check_final', maxdiff((hf[-1].coef_, sf[-1].coef_), (hf[-1].intercept_, sf[-1].intercept_),
                             (hf[0].mean_, sf[0].mean_), (hf[0].scale_, sf[0].scale_),
                             (hp1, p1)))

# --- (F) voting regression, diabetes, all rows -----------------------------
train, test, fold = split(dX, dy, False)
Xt, yt = dX[train], dy[train]
w = [1.0, 3.0]
ms = [Ridge(alpha=1.0).fit(Xt, yt), lasso().fit(Xt, yt)]
pred = np.average(np.column_stack([m.predict(dX) for m in ms]), axis=1, weights=w)
vr = VotingRegressor([('r', Ridge(alpha=1.0)), ('l', lasso())], weights=w).fit(Xt, yt)
out('F_all_rmse', math.sqrt(mean_squared_error(dy, pred)))
out('F_all_mae', mean_absolute_error(dy, pred))
out('F_all_r2', r2_score(dy, pred))
out('F_pred_row0', pred[0])
out('F_check_voting', maxdiff((vr.predict(dX), pred)))

# --- (G) voting classification, breast cancer, all rows --------------------
train, test, fold = split(bX, by, True)
Xt, yt = bX[train], by[train]
ms = [lr().fit(Xt, yt), GaussianNB(var_smoothing=1e-9).fit(Xt, yt)]
P = [m.predict_proba(bX) for m in ms]
psoft = (2.0 * P[0] + 1.0 * P[1]) / 3.0
out('G_soft_accuracy', accuracy_score(by, np.argmax(psoft, axis=1).astype(float)))
logloss(by, psoft[:, 1], 'G_soft')
out('G_soft_proba1_row0', psoft[0, 1])
shares = np.zeros((len(by), 2))
for m in ms:
    shares[np.arange(len(by)), m.predict(bX).astype(int)] += 0.5
hard = np.argmax(shares, axis=1).astype(float)
out('G_hard_accuracy', accuracy_score(by, hard))
print('G_hard_ties %d' % np.sum(shares[:, 0] == shares[:, 1]))
vs = VotingClassifier([('lr', lr()), ('nb', GaussianNB(var_smoothing=1e-9))],
                      voting='soft', weights=[2, 1]).fit(Xt, yt)
vh = VotingClassifier([('lr', lr()), ('nb', GaussianNB(var_smoothing=1e-9))],
                      voting='hard', weights=[1, 1]).fit(Xt, yt)
out('G_check_soft', maxdiff((vs.predict_proba(bX), psoft),
                            (vs.predict(bX), np.argmax(psoft, axis=1))))
out('G_check_hard', maxdiff((vh.predict(bX), hard)))
