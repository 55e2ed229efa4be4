#!/usr/bin/python3
"""Reference numbers for massmodel's multilayer perceptron (src/core/mm_mlp.c).

Run from the repository root, with Debian's python3 (numpy, scikit-learn 1.2):

    /usr/bin/python3 test/reference/mlp.py > test/reference/mlp.out

Output: `key value` lines, values with 17 significant digits; lines starting
with '#' are comments.  Sections:

  (a) step.*    scikit-learn's optimisers on a tiny problem, started from
                fixed weights, one full batch per epoch (shuffle=False,
                batch_size = n), so that the result is exactly defined: the
                weights after 5 epochs of adam and of sgd with momentum, for
                a classifier (3 classes, relu) and a regressor (tanh), with
                alpha = 0.01.  The data and the initial weights are given by
                formulas that test/unit/test_mlp.c repeats:
                    n = 12 rows, p = 3 features, one hidden layer of 4
                    X[i][j] = sin(1 + 0.7 i + 1.3 j)
                    class y[i] = i % 3;  regression y[i] = cos(0.5 i)
                    W[l][k][j] (out k, in j) = 0.5 cos(0.9 k + 0.4 j + l + 1)
                    b[l][k] = 0.1 sin(k + l + 1)
                Printed: the weights of layer l as W (out x in, row-major)
                then b.  test_mlp.c pins them.
  (b) digits    MLPClassifier(hidden_layer_sizes=(64,), activation='relu',
                solver='adam', learning_rate_init=1e-3, batch_size=64,
                max_iter=50, alpha=1e-4, random_state=0) on sklearn's digits
                (1797 x 64, raw pixel values 0..16), train_test_split(
                test_size=0.2, random_state=0, stratify=y): the held-out
                accuracy, which massmodel's MLP should match within a few
                points on the same split (the SQL-level test).
"""
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor

warnings.simplefilter("ignore", ConvergenceWarning)


def fmt(v):
    return "%.17g" % v


def tiny_data():
    n, p = 12, 3
    X = np.array([[np.sin(1 + 0.7 * i + 1.3 * j) for j in range(p)] for i in range(n)])
    ycls = np.array([i % 3 for i in range(n)])
    yreg = np.array([np.cos(0.5 * i) for i in range(n)])
    return X, ycls, yreg


def tiny_weights(sizes):
    coefs, inter = [], []
    for l in range(len(sizes) - 1):
        W = np.array([[0.5 * np.cos(0.9 * k + 0.4 * j + l + 1) for j in range(sizes[l])]
                      for k in range(sizes[l + 1])])
        b = np.array([0.1 * np.sin(k + l + 1) for k in range(sizes[l + 1])])
        coefs.append(W.T.copy())    # scikit-learn stores fan_in x fan_out
        inter.append(b)
    return coefs, inter


def tiny_fit(est, X, y, sizes, epochs):
    common = dict(hidden_layer_sizes=(4,), alpha=0.01, batch_size=len(X),
                  shuffle=False, tol=0.0, n_iter_no_change=10**6,
                  random_state=0, warm_start=True)
    m = est(max_iter=1, **common)
    m.fit(X, y)                    # creates the attributes
    m.coefs_, m.intercepts_ = tiny_weights(sizes)
    m.set_params(max_iter=epochs)
    m.fit(X, y)                    # warm start: fresh optimiser, our weights
    assert m.n_iter_ == epochs + 1
    return m


def main():
    print("# sklearn %s, numpy %s" % (sklearn.__version__, np.__version__))
    X, ycls, yreg = tiny_data()
    cases = [
        ("step.cls_adam", MLPClassifier, ycls, 3,
         dict(activation="relu", solver="adam", learning_rate_init=0.05)),
        ("step.cls_sgd", MLPClassifier, ycls, 3,
         dict(activation="relu", solver="sgd", learning_rate_init=0.1,
              momentum=0.9, nesterovs_momentum=False)),
        ("step.reg_adam", MLPRegressor, yreg, 1,
         dict(activation="tanh", solver="adam", learning_rate_init=0.05)),
        ("step.reg_sgd", MLPRegressor, yreg, 1,
         dict(activation="tanh", solver="sgd", learning_rate_init=0.1,
              momentum=0.9, nesterovs_momentum=False)),
    ]
    for key, est, y, q, kw in cases:
        sizes = [3, 4, q]

        def make(**more):
            return est(**kw, **more)
        m = tiny_fit(make, X, y, sizes, 5)
        vals = []
        for W, b in zip(m.coefs_, m.intercepts_):
            vals.extend(W.T.ravel())
            vals.extend(b)
        print("%s.n %d" % (key, len(vals)))
        for i, v in enumerate(vals):
            print("%s.%d %s" % (key, i, fmt(v)))

    digits = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(digits.data, digits.target, test_size=0.2,
                                          random_state=0, stratify=digits.target)
    clf = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam",
                        learning_rate_init=1e-3, batch_size=64, max_iter=50,
                        alpha=1e-4, random_state=0)
    clf.fit(Xtr, ytr)
    print("digits.n_train %d" % len(ytr))
    print("digits.n_test %d" % len(yte))
    print("digits.n_iter %d" % clf.n_iter_)
    print("digits.accuracy %s" % fmt(clf.score(Xte, yte)))


if __name__ == "__main__":
    main()
