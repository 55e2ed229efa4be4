"""scikit-learn side of the logistic-regression benchmark (bench/run.sh).

    psql -c "COPY bench_lt TO STDOUT (FORMAT binary)" | python3 bench/logistic.py REPS LABEL

Reads the table bench_lt (x1..x20 float8, y int4, no NULLs) as PostgreSQL's
binary COPY format from stdin into numpy arrays (not timed), then times
`LogisticRegression(C=1.0).fit(X, y)` and the same behind a StandardScaler
(`make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(X, y)`)
REPS times each, alternating, after one warm-up fit of each.  Prints, one
per line, `key|value` pairs for bench/run.sh:

    rows|<rows>|<features>
    versions|scikit-learn <version>, numpy <version>
    blas|<internal_api> <version> kernel=<architecture> threads=<n> (<file>)
    openmp|<n threads> (<file>)             (if loaded)
    ms|LABEL_fit|<rep>|<milliseconds>
    ms|LABEL_pipe|<rep>|<milliseconds>
    acc|LABEL_fit|<training accuracy>
    acc|LABEL_pipe|<training accuracy>
    iter|LABEL_fit|<lbfgs iterations>  (likewise for _pipe)
    warn|<message>                      (e.g. lbfgs did not converge)

The thread count comes from the environment it was started with
(OPENBLAS_NUM_THREADS etc.), reported through threadpoolctl.
"""
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

NFEAT = 20


def read_copy_binary(buf):
    """The rows of a binary COPY of (20 x float8, int4), without NULLs."""
    sig = b"PGCOPY\n\xff\r\n\x00"
    if buf[:11] != sig:
        raise SystemExit("logistic.py: stdin is not a binary COPY")
    ext = int.from_bytes(buf[15:19], "big")
    start = 19 + ext
    fields = [("n", ">i2")]
    for i in range(NFEAT):
        fields += [("l%d" % i, ">i4"), ("x%d" % i, ">f8")]
    fields += [("ly", ">i4"), ("y", ">i4")]
    dt = np.dtype(fields)
    body = len(buf) - start - 2          # trailer: int16 -1
    if body % dt.itemsize or buf[-2:] != b"\xff\xff":
        raise SystemExit("logistic.py: unexpected COPY layout (NULLs or other types?)")
    rec = np.frombuffer(buf, dtype=dt, count=body // dt.itemsize, offset=start)
    if (rec["n"] != NFEAT + 1).any() or (rec["ly"] != 4).any() or \
            any((rec["l%d" % i] != 8).any() for i in range(NFEAT)):
        raise SystemExit("logistic.py: unexpected field count or width")
    X = np.empty((len(rec), NFEAT), dtype=np.float64)   # C order, native
    for i in range(NFEAT):
        X[:, i] = rec["x%d" % i]
    y = rec["y"].astype(np.int64)
    return X, y


def main():
    reps = int(sys.argv[1])
    label = sys.argv[2]
    X, y = read_copy_binary(sys.stdin.buffer.read())
    print("rows|%d|%d" % X.shape)
    print("versions|scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__))

    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            print("blas|%s %s kernel=%s threads=%d (%s)" % (
                lib.get("internal_api"), lib.get("version"), lib.get("architecture"),
                lib.get("num_threads"), lib.get("filepath")))
        elif lib.get("user_api") == "openmp":
            print("openmp|%d (%s)" % (lib.get("num_threads"), lib.get("filepath")))

    makers = {
        "fit": lambda: LogisticRegression(C=1.0),
        "pipe": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0)),
    }
    msgs = set()
    models = {}
    times = {k: [] for k in makers}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, make in makers.items():      # warm-up
            models[k] = make().fit(X, y)
        for r in range(1, reps + 1):
            for k, make in makers.items():
                m = make()
                t0 = time.perf_counter()
                m.fit(X, y)
                t1 = time.perf_counter()
                times[k].append((t1 - t0) * 1000.0)
                print("ms|%s_%s|%d|%.3f" % (label, k, r, (t1 - t0) * 1000.0))
        for w in caught:
            msgs.add("%s: %s" % (w.category.__name__, str(w.message).splitlines()[0]))
    for k, m in models.items():
        lr = m[-1] if hasattr(m, "steps") else m
        print("acc|%s_%s|%.6f" % (label, k, m.score(X, y)))
        print("iter|%s_%s|%d" % (label, k, int(np.max(lr.n_iter_))))
    for s in sorted(msgs):
        print("warn|%s" % s)
    for k in makers:
        print("median|%s_%s|%.1f" % (label, k, statistics.median(times[k])), file=sys.stderr)


if __name__ == "__main__":
    main()
