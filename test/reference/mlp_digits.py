#!/usr/bin/python3
"""Reference accuracy of scikit-learn's MLPClassifier on data/digits.csv.

Run from the repository root, with Debian's python3 (numpy, scikit-learn 1.2):

    /usr/bin/python3 test/reference/mlp_digits.py > test/reference/mlp_digits.out

Data: data/digits.csv (1797 rows: id 1..1797, pixels p0..p63 as integers
0..16, digit 0..9).  Split by id, as the SQL tests do: rows with
id % 5 = 0 are the test rows (359), the others the training rows (1438).

Model: the 64 pixels standardised with a StandardScaler fit on the training
rows only (the same mean and standard deviation applied to the test rows),
then MLPClassifier(hidden_layer_sizes=(64,), activation='relu',
solver='adam', learning_rate_init=0.001, batch_size=64, max_iter=50,
alpha=1e-4, shuffle=True, early_stopping=False, random_state=seed)
trained on the training rows, for seeds 0..4.  max_iter counts epochs;
ConvergenceWarning (50 epochs are not "converged") is suppressed.

Output: `key value` lines: the sklearn and numpy versions, the row counts,
the test-row accuracy for each seed (%.17g), their mean and their minimum.
massmodel's MLP, trained the same way from SQL, should reach an accuracy
in the same range; its weights are initialised by a different generator, so
the numbers are not expected to match digit for digit.
"""
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore", ConvergenceWarning)

SEEDS = range(5)


def fmt(v):
    return "%.17g" % v


def load(path="data/digits.csv"):
    with open(path) as f:
        header = f.readline().strip().split(",")
    assert header == ["id"] + ["p%d" % j for j in range(64)] + ["digit"], header
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    assert a.shape == (1797, 66), a.shape
    assert np.array_equal(a[:, 0], np.arange(1, 1798))
    return a[:, 0], a[:, 1:65].astype(np.float64), a[:, 65]


def main():
    ids, X, y = load()
    test = ids % 5 == 0
    Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)

    print("sklearn_version %s" % sklearn.__version__)
    print("numpy_version %s" % np.__version__)
    print("n_train %d" % len(ytr))
    print("n_test %d" % len(yte))
    accs = []
    for seed in SEEDS:
        clf = MLPClassifier(hidden_layer_sizes=(64,), activation="relu",
                            solver="adam", learning_rate_init=0.001,
                            batch_size=64, max_iter=50, alpha=1e-4,
                            shuffle=True, early_stopping=False,
                            random_state=seed)
        clf.fit(Xtr, ytr)
        assert clf.n_iter_ == 50, clf.n_iter_
        acc = float(np.mean(clf.predict(Xte) == yte))
        accs.append(acc)
        print("accuracy_seed%d %s" % (seed, fmt(acc)))
    print("accuracy_mean %s" % fmt(np.mean(accs)))
    print("accuracy_min %s" % fmt(np.min(accs)))


if __name__ == "__main__":
    main()
