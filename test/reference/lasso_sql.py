#!/usr/bin/python3
"""Reference coefficients for sql/13_lasso.sql, from Debian's python3-sklearn.

Lasso(alpha=1.0), Lasso(alpha=10.0) (with exact zeros) and ElasticNet(alpha=0.5, l1_ratio=0.7) on the raw
diabetes data (data/diabetes.csv, every row: mm_train with test_fraction 0),
solved with a tight tolerance so that the optimum, not the stopping point,
is compared.  Run from the repository root:
python3 test/reference/lasso_sql.py > test/reference/lasso_sql.out
"""
import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, Lasso

with open('data/diabetes.csv') as f:
    names = f.readline().strip().split(',')
data = np.loadtxt('data/diabetes.csv', delimiter=',', skiprows=1)
X, y = data[:, :10], data[:, 10]
print('sklearn', sklearn.__version__)
for label, est in (('lasso', Lasso(alpha=1.0, tol=1e-14, max_iter=1000000)),
                   ('lasso10', Lasso(alpha=10.0, tol=1e-14, max_iter=1000000)),
                   ('enet', ElasticNet(alpha=0.5, l1_ratio=0.7, tol=1e-14, max_iter=1000000))):
    est.fit(X, y)
    print('%s_intercept %.17g' % (label, est.intercept_))
    for name, c in zip(names[:10], est.coef_):
        print('%s_coef %s %.17g' % (label, name, c))
