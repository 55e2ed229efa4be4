"""Driver of the benchmark against the alternatives (bench/alternatives.sh).

    python3 bench/alternatives.py run --rows N --reps R --predict-rows M
                                      --out DIR --doc DOC [--mlp-epochs E]
                                      [--top DIR] [--port P] [--cluster NAME]
    python3 bench/alternatives.py report --out DIR --doc DOC [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/alternatives.sh
exports them for its private cluster) through psql for the setup and through
psycopg2 for everything timed; it needs Debian's /usr/bin/python3 with
numpy, scikit-learn and psycopg2, and plpython3u in the server
(postgresql-plpython3-15).  It

  1. generates the tables in SQL, each after its own setseed(), in one serial
     statement each (the same ROWS give the same tables): alt_t, 20 float8
     features x1 .. x20 (x_i uniform in [-i, i]), a float8 target y (linear
     in the features plus uniform noise) and an integer label (0/1, drawn
     from a logistic model of a linear score); alt_sub, its first M rows;
     alt_c, N rows of 20 float8 columns c1 .. c20 drawn from 8 Gaussian
     blobs (for k-means); freezes, analyzes and prewarms them;
  2. reads the rows of alt_t and alt_c into numpy arrays (not timed), trains
     the model alt_m (mm_train linear_regression, test_fraction 0) and
     scikit-learn's LinearRegression on the same rows, stores the pickled
     scikit-learn model in the table alt_models, creates the PL/Python
     function py_predict(x1, ..., x20) (unpickles it once per session,
     cached in SD, then predicts one row per call), and starts the HTTP
     service (this file's `serve`, http.server + the same pickled model, on
     127.0.0.1, a background process);
  3. times, in one psycopg2 session (max_parallel_workers_per_gather = 0,
     jit = off; the exports open their own sessions with the same
     settings; each mm_train runs with max_parallel_workers_per_gather =
     TRAIN_WORKERS, PostgreSQL's default, as scikit-learn runs with its
     default thread pools), one warm-up round, then REPS rounds of:
       - the exports, once per set of columns the trainers read (EXPORTS):
         connect, fetch the rows with psycopg2 (fetchall) into numpy; and
         the same with a binary COPY;
       - per trainer (TRAINERS: every algorithm massmodel trains, each with
         the scikit-learn estimator that fits the same model): the mm_train
         call, and scikit-learn's fit of the rows already in memory (for
         lasso and elastic net also the fit with precompute=True, for
         information);
     export + fit is reported as the median export of the trainer's columns
     plus its median fit; the warm-up round checks that massmodel and
     scikit-learn fitted the same model (weights, centres, variances or
     training metrics) and that every export read the same rows;
  4. times the per-row predictions over alt_sub: SELECT sum(mm_predict('alt_m',
     t.*)), SELECT sum(py_predict(x1, ..., x20)), and a client loop reading
     the rows with psycopg2 and POSTing each to the service: one warm-up (the
     slow two on 1000 rows), then REPS rounds; each round first times
     scikit-learn's predict alone, one row per call in a plain loop in this
     process (up to 20000 rows of alt_sub, no database): the floor of both
     scikit-learn paths;
  5. stops the service and reports (as `report` does).

Every execution is timed in this process with time.perf_counter() and
written to DIR/alternatives_times.txt as it happens; the checks (the sums of
the predictions, the fitted models' differences, the training metrics) and
versions go to DIR/alternatives_meta.txt.

report reads DIR/alternatives_times.txt and DIR/alternatives_meta.txt,
writes DIR/alternatives_summary.txt (the table printed on stdout) and
DIR/alternatives_ratios.json (the figures, machine-readable: per trainer
mm_ms, fit_ms, export_fetch_ms, export_copy_ms, mm_over_fit,
export_fit_over_mm; the per-row predict rates and ratios), and writes the
section "## Against the alternatives" of DOC, replacing it if it is there
(up to the next "## " heading) and appending it otherwise; DOC empty writes
none.

    python3 bench/alternatives.py serve

is the HTTP service: it reads a pickled scikit-learn regressor on stdin,
listens on 127.0.0.1 (a free port, printed on stdout as "port N"), and
answers POST /predict {"x": [20 numbers]} with {"y": prediction}, one row per
request (HTTP/1.1 keep-alive, TCP_NODELAY).  It runs until terminated.
"""
import collections
import io
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing mmbench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmbench  # noqa: E402
from mmbench import med  # noqa: E402

NAME = "alternatives"
SECTION = "## Against the alternatives"
P = 20  # features
XS = ", ".join("x%d" % i for i in range(1, P + 1))
CS = ", ".join("c%d" % i for i in range(1, P + 1))
FEATURES = "ARRAY[%s]" % ", ".join("'x%d'" % i for i in range(1, P + 1))
CFEATURES = "ARRAY[%s]" % ", ".join("'c%d'" % i for i in range(1, P + 1))
BLOBS = 8  # Gaussian blobs of alt_c, and k of the k-means
WARM_SLOW = 1000  # rows of the warm-up of the slow per-row paths
MLP_EPOCHS = 3  # default of --mlp-epochs

# The exports, one per set of columns the trainers read: key -> (table,
# columns, number of columns, what it holds).  The label goes out as float8,
# so that the binary COPY has one column type.
EXPORTS = collections.OrderedDict([
    ("xy", ("alt_t", XS + ", y", P + 1, "x1 .. x20 and y")),
    ("xl", ("alt_t", XS + ", label::float8", P + 1, "x1 .. x20 and label")),
    ("x", ("alt_t", XS, P, "x1 .. x20")),
    ("c", ("alt_c", CS, P, "c1 .. c20 of alt_c")),
])


def export_sql(group):
    table, cols = EXPORTS[group][:2]
    return "SELECT %s FROM %s" % (cols, table)


def export_short(group):
    table, cols = EXPORTS[group][:2]
    first = cols.split(", ")
    return "SELECT %s, ..., %s FROM %s" % (first[0], ", ".join(first[P - 1:]), table)


# The trainers: every algorithm massmodel trains (ensembles and stacking
# combine these).  key (as in the times file), algorithm, source table,
# target (None: unsupervised), massmodel model name, params passed to
# mm_train (None: none, massmodel's defaults), export group.  make_sk
# builds the scikit-learn side from the same params.
Trainer = collections.namedtuple("Trainer", "key alg table target model params export")


def trainers(mlp_epochs=MLP_EPOCHS):
    return [
        Trainer("linear", "linear_regression", "alt_t", "y", "alt_lin", None, "xy"),
        Trainer("ridge", "ridge", "alt_t", "y", "alt_ridge", {"alpha": 1.0}, "xy"),
        Trainer("lasso", "lasso", "alt_t", "y", "alt_lasso",
                {"alpha": 1.0, "max_iter": 10000, "tol": 1e-8}, "xy"),
        Trainer("elastic", "elastic_net", "alt_t", "y", "alt_enet",
                {"alpha": 1.0, "l1_ratio": 0.5, "max_iter": 10000, "tol": 1e-8}, "xy"),
        Trainer("logistic", "logistic_regression", "alt_t", "label", "alt_log", None, "xl"),
        Trainer("nb", "naive_bayes", "alt_t", "label", "alt_nb", {"var_smoothing": 1e-9}, "xl"),
        Trainer("mlp", "mlp", "alt_t", "y", "alt_mlp",
                {"hidden_layers": [100], "activation": "relu", "optimizer": "adam",
                 "learning_rate": 0.001, "epochs": mlp_epochs, "batch_size": 200,
                 "weight_decay": 0.0001, "early_stopping": False, "scale": "standard"}, "xy"),
        Trainer("kmeans", "kmeans", "alt_c", None, "alt_km",
                {"k": BLOBS, "init": "kmeans++", "n_init": 10, "max_iter": 300, "tol": 1e-4}, "c"),
        Trainer("pca", "pca", "alt_t", None, "alt_pca", {"n_components": P}, "x"),
    ]


TRAINERS = trainers()
GRAM = ("lasso", "elastic")  # also timed with precompute=True, for information
PREDICT_SIDES = ("mm", "plpython", "http")
LOOP_ROWS = 20000  # at most: scikit-learn's predict alone, one row per call

# Goals (the issue's): per-row predict rate >= 20x PL/Python's and >= 10x
# the HTTP service's; every trainer no slower than scikit-learn's fit alone
# (mm / fit <= 1) and >= 2x faster than export + fit ((export + fit) / mm
# >= 2).
GOAL_PLPY = 20.0
GOAL_HTTP = 10.0
GOAL_FIT = 1.0
GOAL_EXPORT = 2.0


def log(msg):
    mmbench.log(NAME, msg)


def features_of(tr):
    return CFEATURES if tr.table == "alt_c" else FEATURES


def train_sql(tr):
    return ("SELECT version, metrics FROM mm_train('%s', '%s', '%s', %s, features => %s%s, "
            "test_fraction => 0, deploy => 'never')"
            % (tr.model, tr.alg, tr.table, "'%s'" % tr.target if tr.target else "NULL",
               features_of(tr), ", params => '%s'" % json.dumps(tr.params) if tr.params else ""))


def short_train(tr):
    f = "c" if tr.table == "alt_c" else "x"
    return ("mm_train('%s', '%s', '%s', %s, features => ARRAY['%s1', ..., '%s20']%s, "
            "test_fraction => 0, deploy => 'never')"
            % (tr.model, tr.alg, tr.table, "'%s'" % tr.target if tr.target else "NULL", f, f,
               ", params => '%s'" % json.dumps(tr.params) if tr.params else ""))


MM_PREDICT = "SELECT sum(mm_predict('alt_m', t.*)) FROM alt_sub t"
PY_PREDICT = "SELECT sum(py_predict(%s)) FROM alt_sub" % XS
PY_PREDICT_SHORT = "SELECT sum(py_predict(x1, ..., x20)) FROM alt_sub"
HTTP_ROWS = "SELECT %s FROM alt_sub" % XS


# ---- SQL --------------------------------------------------------------------

def setup_sql(rows, predict_rows):
    blobs = ",\n       ".join(
        "2 * cos(1.7 * k + %.1f + %.2f * k) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS c%d"
        % (0.9 * j, 0.37 * j, j) for j in range(1, P + 1))
    args = ", ".join("x%d float8" % i for i in range(1, P + 1))
    return """\\set ON_ERROR_STOP on
CREATE EXTENSION massmodel;
CREATE EXTENSION pg_prewarm;
CREATE EXTENSION plpython3u;
SET max_parallel_workers_per_gather = 0;

-- alt_t: x_i uniform in [-i, i] (i = 1 .. %(p)d),
--   y = 3 + sum_i ((i %% 7) - 3 + i/10) x_i + uniform noise in [-0.5, 0.5],
--   label = 1 with probability 1 / (1 + exp(-s)),
--   s = 0.3 + sum_i ((i %% 5) - 1.7) / (2 i) x_i (the classes overlap)
SELECT setseed(0.4242);
%(alt_t)s

-- alt_sub: the first %(prows)d rows of alt_t (a serial scan of a new table)
CREATE TABLE alt_sub AS SELECT * FROM alt_t LIMIT %(prows)d;

-- alt_c, for k-means: %(blobs)d Gaussian blobs in %(p)d dimensions; blob k
-- (0 .. %(blobs1)d, uniform) has centre c_kj = 2 cos(1.7 k + 0.9 j + 0.37 k j)
-- and unit variance in every column (Box-Muller)
SELECT setseed(0.2424);
CREATE TABLE alt_c AS
SELECT %(cblobs)s
  FROM (SELECT floor(%(blobs)d * random())::int AS k
          FROM generate_series(1, %(rows)d)
        OFFSET 0) s;

-- the pickled scikit-learn models, for PL/Python
CREATE TABLE alt_models (name text PRIMARY KEY, blob bytea NOT NULL);

-- one prediction per call; the model is unpickled once per session (SD)
CREATE FUNCTION py_predict(%(args)s) RETURNS float8
LANGUAGE plpython3u AS $py$
m = SD.get("m")
if m is None:
    import pickle
    import numpy
    blob = plpy.execute("SELECT blob FROM alt_models WHERE name = 'alt_m'")[0]["blob"]
    m = SD["m"] = pickle.loads(blob)
    SD["np"] = numpy
return float(m.predict(SD["np"].array([[%(xs)s]]))[0])
$py$;

CREATE FUNCTION py_versions() RETURNS text
LANGUAGE plpython3u AS $py$
import sys
import numpy
import sklearn
return "Python %%s, scikit-learn %%s, numpy %%s" %% (
    sys.version.split()[0], sklearn.__version__, numpy.__version__)
$py$;

VACUUM (FREEZE, ANALYZE) alt_t;
VACUUM (FREEZE, ANALYZE) alt_sub;
VACUUM (FREEZE, ANALYZE) alt_c;
CHECKPOINT;
SELECT pg_prewarm('alt_t') AS prewarmed, pg_prewarm('alt_sub') AS prewarmed_sub,
       pg_prewarm('alt_c') AS prewarmed_c;
SELECT count(*) AS rows, round(avg(label), 4) AS share_of_1 FROM alt_t;
""" % dict(p=P, xs=XS, rows=rows, prows=predict_rows, args=args, blobs=BLOBS,
           blobs1=BLOBS - 1, cblobs=blobs,
           alt_t=mmbench.linear_table_sql("alt_t", rows, P, label=True))


# ---- running ------------------------------------------------------------------

def psql_text(sql):
    return mmbench.psql_text(NAME, sql)


OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"
# mm_train's max_parallel_workers_per_gather: PostgreSQL's default (the
# direct read of alt_t takes parallel workers for the regressions, naive
# Bayes and logistic regression; k-means's fit shares its passes with them;
# the other trainers work in the one backend)
TRAIN_WORKERS = 2


def connect():
    import psycopg2
    conn = psycopg2.connect(dbname="postgres", options=OPTIONS)
    conn.autocommit = True
    return conn


def fetch_numpy(sql):
    """The whole path's export: a new session, the rows through a psycopg2
    cursor (fetchall), then one numpy array (float64, C order)."""
    import numpy as np
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
    finally:
        conn.close()
    return np.array(rows, dtype=np.float64)


def copy_numpy(sql, ncols):
    """The fastest export: a new session, COPY (sql) TO STDOUT (FORMAT
    binary) into memory, decoded by numpy (float8 columns, no NULLs)."""
    import numpy as np
    conn = connect()
    try:
        buf = io.BytesIO()
        conn.cursor().copy_expert("COPY (%s) TO STDOUT (FORMAT binary)" % sql, buf)
    finally:
        conn.close()
    data = buf.getbuffer()
    if bytes(data[:11]) != b"PGCOPY\n\xff\r\n\x00":
        raise SystemExit("alternatives.py: not a binary COPY")
    start = 19 + int.from_bytes(data[15:19], "big")
    fields = [("n", ">i2")]
    for i in range(ncols):
        fields += [("l%d" % i, ">i4"), ("v%d" % i, ">f8")]
    dt = np.dtype(fields)
    body = len(data) - start - 2
    if body % dt.itemsize or bytes(data[-2:]) != b"\xff\xff":
        raise SystemExit("alternatives.py: unexpected COPY layout")
    rec = np.frombuffer(data, dtype=dt, count=body // dt.itemsize, offset=start)
    if (rec["n"] != ncols).any() or any((rec["l%d" % i] != 8).any() for i in range(ncols)):
        raise SystemExit("alternatives.py: unexpected field count or width")
    A = np.empty((len(rec), ncols), dtype=np.float64)
    for i in range(ncols):
        A[:, i] = rec["v%d" % i]
    return A


def make_sk(tr, gram=False):
    """The scikit-learn estimator that fits the same model as mm_train with
    tr's params (gram: lasso and elastic net with precompute=True)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    p = tr.params or {}
    if tr.key == "linear":
        return LinearRegression()
    if tr.key == "ridge":
        return Ridge(alpha=p["alpha"])
    if tr.key == "lasso":
        return Lasso(alpha=p["alpha"], max_iter=p["max_iter"], tol=p["tol"], precompute=gram)
    if tr.key == "elastic":
        return ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=p["max_iter"],
                          tol=p["tol"], precompute=gram)
    if tr.key == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, penalty="l2"))
    if tr.key == "nb":
        return GaussianNB(var_smoothing=p["var_smoothing"])
    if tr.key == "mlp":
        # every epoch runs: no early stopping, no stop on a stalled loss
        return make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=tuple(p["hidden_layers"]), activation=p["activation"],
            solver=p["optimizer"], learning_rate_init=p["learning_rate"],
            batch_size=p["batch_size"], max_iter=p["epochs"], alpha=p["weight_decay"],
            shuffle=True, early_stopping=False, tol=0.0, n_iter_no_change=10 ** 6,
            random_state=42))
    if tr.key == "kmeans":
        return KMeans(n_clusters=p["k"], init="k-means++", n_init=p["n_init"],
                      max_iter=p["max_iter"], tol=p["tol"], algorithm="lloyd", random_state=42)
    if tr.key == "pca":
        return PCA(n_components=p["n_components"], svd_solver="full")
    raise SystemExit("alternatives.py: no scikit-learn estimator for %s" % tr.key)


# How the scikit-learn side is described in the report.
SK_TEXT = {
    "linear": "`LinearRegression()`",
    "ridge": "`Ridge(alpha=1.0)` (solver 'auto': Cholesky)",
    "lasso": "`Lasso(alpha=1.0, max_iter=10000, tol=1e-8)`",
    "elastic": "`ElasticNet(alpha=1.0, l1_ratio=0.5, max_iter=10000, tol=1e-8)`",
    "logistic": "`make_pipeline(StandardScaler(), LogisticRegression(C=1.0, penalty='l2'))` (lbfgs, default `tol` 1e-4, `max_iter` 100)",
    "nb": "`GaussianNB(var_smoothing=1e-9)`",
    "mlp": "`make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(100,), activation='relu', solver='adam', learning_rate_init=0.001, batch_size=200, max_iter=%(epochs)s, alpha=0.0001, shuffle=True, early_stopping=False, tol=0.0, n_iter_no_change=10**6, random_state=42))`",
    "kmeans": "`KMeans(n_clusters=8, init='k-means++', n_init=10, max_iter=300, tol=1e-4, algorithm='lloyd', random_state=42)`",
    "pca": "`PCA(n_components=20, svd_solver='full')`",
}

# What the warm-up round compares to tell that both sides fit the same model.
CHECK_TEXT = {
    "linear": "intercept and weights",
    "ridge": "intercept and weights",
    "lasso": "intercept and weights",
    "elastic": "intercept and weights",
    "logistic": "intercept and weights",
    "nb": "class means and variances",
    "mlp": "training rmse",
    "kmeans": "centres (matched)",
    "pca": "explained variances",
}


def sk_linear(m, tr):
    """scikit-learn's intercept and weights in the units of the columns."""
    import numpy as np
    if tr.key != "logistic":
        return float(m.intercept_), np.asarray(m.coef_, dtype=float).ravel()
    sc, lr = m[0], m[-1]
    w = lr.coef_.ravel() / sc.scale_
    return float(lr.intercept_[0] - np.dot(w, sc.mean_)), w


def mm_weights(cur, model, version):
    import numpy as np
    cur.execute("SELECT feature, weight FROM mm_weights(%s, %s)", (model, version))
    d = dict(cur.fetchall())
    return d["intercept"], np.array([d["x%d" % i] for i in range(1, P + 1)])


def mm_blob_tail(cur, model, version, ndoubles, skip=0):
    """The last ndoubles doubles of the version's model blob, before its
    last skip bytes (the blob ends with the algorithm's section;
    docs/architecture.md, "Model blob")."""
    import numpy as np
    cur.execute("SELECT v.blob FROM mm.versions v JOIN mm.models m ON m.id = v.model_id "
                "WHERE m.name = %s AND v.version = %s", (model, version))
    b = bytes(cur.fetchone()[0])
    end = len(b) - skip
    return np.frombuffer(b[end - 8 * ndoubles:end], dtype="<f8").copy()


def rel_diff(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1e-300, float(np.max(np.abs(b)))))


def g(x):
    return "%.9g" % x


def gm(metrics, key):
    """A metric of mm_train's result, as g() prints scikit-learn's."""
    v = metrics.get(key)
    return g(v) if isinstance(v, (int, float)) else str(v)


def check_model(cur, tr, version, metrics, m, data):
    """Compares mm_train's version with scikit-learn's fitted m on the same
    rows: (largest relative difference of CHECK_TEXT[tr.key], details)."""
    import numpy as np
    X, y = data
    k = tr.key
    if k in ("linear", "ridge", "lasso", "elastic", "logistic"):
        b0, w = sk_linear(m, tr)
        c0, v = mm_weights(cur, tr.model, version)
        diff = rel_diff([c0] + list(v), [b0] + list(w))
        if k == "logistic":
            det = "training accuracy %s and %s; lbfgs stopped after %d iterations" % (
                gm(metrics, "accuracy"), g(m.score(X, y)), int(max(m[-1].n_iter_)))
        else:
            det = "training r2 %s and %s" % (gm(metrics, "r2"), g(m.score(X, y)))
        if k in ("lasso", "elastic"):
            det += "; zero weights %d and %d; %d coordinate-descent passes in scikit-learn" % (
                int((v == 0).sum()), int((w == 0).sum()), int(m.n_iter_))
        return diff, det
    if k == "nb":
        from sklearn.metrics import log_loss
        K = len(m.classes_)
        tail = mm_blob_tail(cur, tr.model, version, 3 * K * P, skip=4 * P)
        theta, var = tail[:K * P].reshape(K, P), tail[K * P:2 * K * P].reshape(K, P)
        diff = max(rel_diff(theta, m.theta_), rel_diff(var, m.var_))
        det = "training accuracy %s and %s, log-loss %s and %s" % (
            gm(metrics, "accuracy"), g(m.score(X, y)), gm(metrics, "log_loss"),
            g(log_loss(y, m.predict_proba(X))))
        return diff, det
    if k == "mlp":
        pred = m.predict(X)
        rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
        diff = abs(metrics["rmse"] - rmse) / rmse
        det = "training rmse %s and %s, r2 %s and %s; scikit-learn's last training loss %s" % (
            gm(metrics, "rmse"), g(rmse), gm(metrics, "r2"), g(m.score(X, y)), g(m[-1].loss_))
        return diff, det
    if k == "kmeans":
        kk = tr.params["k"]
        cen = mm_blob_tail(cur, tr.model, version, kk * P).reshape(kk, P)
        sk = m.cluster_centers_
        d2 = ((cen[:, None, :] - sk[None, :, :]) ** 2).sum(axis=2)
        match = d2.argmin(axis=1)
        if len(set(match.tolist())) != kk:
            diff = float("inf")  # not the same partition: no one-to-one match
        else:
            diff = rel_diff(cen, sk[match])
        det = "training inertia %s and %s; scikit-learn's best run took %d Lloyd passes" % (
            gm(metrics, "inertia"), g(m.inertia_), int(m.n_iter_))
        return diff, det
    if k == "pca":
        nc = tr.params["n_components"]
        ev = np.array(metrics["explained_variance"], dtype=float)
        diff = rel_diff(ev, m.explained_variance_)
        tail = mm_blob_tail(cur, tr.model, version, nc * P + nc)
        comp = tail[:nc * P].reshape(nc, P)
        skc = m.components_.copy()
        # massmodel's sign: each component's entry of largest absolute value positive
        skc *= np.sign(skc[np.arange(nc), np.argmax(np.abs(skc), axis=1)])[:, None]
        det = "components (signed alike) differ by at most %.3g (relative)" % rel_diff(comp, skc)
        return diff, det
    raise SystemExit("alternatives.py: no check for %s" % k)


class Times:
    """DIR/alternatives_times.txt, one line per execution, written as it
    happens: phase|case|side|rep|ms|rows|extra."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.f.write("# phase|case|side|rep|ms|rows|extra\n")

    def add(self, phase, case, side, rep, ms, rows, extra=""):
        self.f.write("%s|%s|%s|%d|%.3f|%d|%s\n" % (phase, case, side, rep, ms, rows, extra))
        self.f.flush()


def note_warnings(meta, caught, key):
    from sklearn.exceptions import ConvergenceWarning
    for w in caught:
        # the mlp runs max_iter = epochs by design: its warning says just that
        if key == "mlp" and issubclass(w.category, ConvergenceWarning):
            continue
        meta.setdefault("warnings", "")
        msg = "%s (%s): %s" % (w.category.__name__, key, str(w.message).splitlines()[0])
        if msg not in meta["warnings"].split(" || "):
            meta["warnings"] = (meta["warnings"] + " || " if meta["warnings"] else "") + msg


def time_exports(times, rep, data):
    """One round of the exports: per group, fetchall, then binary COPY; the
    warm-up round checks that each read the rows the fits use."""
    pc = time.perf_counter
    for group, (table, cols, ncols, _) in EXPORTS.items():
        for side, export in (("fetch", lambda: fetch_numpy(export_sql(group))),
                             ("copy", lambda: copy_numpy(export_sql(group), ncols))):
            t0 = pc()
            A = export()
            times.add("export", group, side, rep, (pc() - t0) * 1000, len(A))
            if rep == 0:
                ref = data[group]
                if A.shape != ref.shape or (A != ref).any():
                    raise SystemExit("alternatives.py: the %s export of %s read other rows "
                                     "than the fits use" % (side, group))
            del A


def fit(m, tr, X, y):
    return m.fit(X) if tr.target is None else m.fit(X, y)


def time_train(cur, times, tr, X, y, rep, meta):
    """One round of a trainer: mm_train, then scikit-learn's fit alone (for
    lasso and elastic net then the fit with precompute=True)."""
    import warnings
    key = tr.key
    nrows = len(X)
    pc = time.perf_counter
    cur.execute("SET max_parallel_workers_per_gather = %d" % TRAIN_WORKERS)
    t0 = pc()
    cur.execute(train_sql(tr))
    version, metrics = cur.fetchone()
    times.add("train", key, "mm", rep, (pc() - t0) * 1000, nrows, "version=%d" % version)
    cur.execute("SET max_parallel_workers_per_gather = 0")
    if rep == 0:
        meta["mm_%s_version" % key] = str(version)
        meta["mm_%s_metrics" % key] = json.dumps(metrics, sort_keys=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = make_sk(tr)
        t0 = pc()
        fit(m, tr, X, y)
        times.add("train", key, "fit", rep, (pc() - t0) * 1000, nrows)
        if rep == 0:
            diff, det = check_model(cur, tr, version, metrics, m, (X, y))
            meta["check_%s" % key] = "%.3g" % diff
            meta["check_%s_detail" % key] = det
        del m
        if key in GRAM:
            m = make_sk(tr, gram=True)
            t0 = pc()
            fit(m, tr, X, y)
            times.add("train", key, "fit_gram", rep, (pc() - t0) * 1000, nrows)
            del m
    note_warnings(meta, caught, key)


def http_loop(conn, h, sql):
    """Reads the rows with psycopg2 and POSTs each to the service; returns
    (rows, sum of the predictions)."""
    cur = conn.cursor()
    cur.execute(sql)
    n, s = 0, 0.0
    hdr = {"Content-Type": "application/json"}
    for row in cur:
        h.request("POST", "/predict", json.dumps({"x": row}).encode(), hdr)
        r = h.getresponse()
        if r.status != 200:
            raise SystemExit("alternatives.py: the service answered %d" % r.status)
        s += json.loads(r.read())["y"]
        n += 1
    cur.close()
    return n, s


def sk_loop(m, rows):
    """scikit-learn's predict alone, one row per call, as both scikit-learn
    paths call it: from a list of Python floats."""
    import numpy as np
    s = 0.0
    for r in rows:
        s += float(m.predict(np.array([r]))[0])
    return s


def time_predict(cur, conn, h, times, rep, prows, skm, loop_rows):
    pc = time.perf_counter
    sums = {}
    t0 = pc()
    s = sk_loop(skm, loop_rows if rep else loop_rows[:WARM_SLOW])
    times.add("predict", "row", "sk_loop", rep, (pc() - t0) * 1000,
              len(loop_rows) if rep else WARM_SLOW, "sum=%r" % s)
    limit = " LIMIT %d" % WARM_SLOW if rep == 0 else ""
    for side in PREDICT_SIDES:
        t0 = pc()
        if side == "mm":
            cur.execute(MM_PREDICT)
            n, s = prows, cur.fetchone()[0]
        elif side == "plpython":
            sql = PY_PREDICT if rep else "SELECT sum(py_predict(%s)) FROM (SELECT * FROM alt_sub%s) s" % (XS, limit)
            cur.execute(sql)
            n, s = (prows if rep else WARM_SLOW), cur.fetchone()[0]
        else:
            n, s = http_loop(conn, h, HTTP_ROWS + limit)
        times.add("predict", "row", side, rep, (pc() - t0) * 1000, n, "sum=%r" % s)
        sums[side] = s
    return sums


def start_service(blob):
    import subprocess
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write(blob)
    proc.stdin.close()
    line = proc.stdout.readline().decode().split()
    if len(line) != 2 or line[0] != "port":
        proc.kill()
        raise SystemExit("alternatives.py: the HTTP service did not start")
    return proc, int(line[1])


def run(a):
    import http.client
    import pickle
    import numpy as np
    import psycopg2
    import sklearn
    from threadpoolctl import threadpool_info

    global TRAINERS
    TRAINERS = trainers(a.mlp_epochs)
    out = a.out
    started, meta = mmbench.begin_run(NAME, a)
    prows = a.predict_rows
    meta["predict_rows"] = str(prows)
    meta["mlp_epochs"] = str(a.mlp_epochs)
    meta["client_versions"] = "Python %s, scikit-learn %s, numpy %s, psycopg2 %s" % (
        sys.version.split()[0], sklearn.__version__, np.__version__, psycopg2.__version__.split()[0])

    log("creating alt_t (%d rows x %d features, y and label), alt_sub (%d rows) and alt_c "
        "(%d rows x %d columns, %d blobs) ..." % (a.rows, P, prows, a.rows, P, BLOBS))
    sql = setup_sql(a.rows, prows)
    scripts = [("setup (psql)", sql)]
    mmbench.run_script(NAME, sql, os.path.join(out, "alternatives_setup.txt"), "the setup")
    meta["share_of_1"] = psql_text("SELECT round(avg(label), 4) FROM alt_t")
    meta["table_size"] = psql_text(
        "SELECT 'alt_t ' || pg_size_pretty(pg_table_size('alt_t')) || ', alt_sub ' "
        "|| pg_size_pretty(pg_table_size('alt_sub')) || ', alt_c ' "
        "|| pg_size_pretty(pg_table_size('alt_c'))")
    meta["preload"] = psql_text("SHOW shared_preload_libraries")
    meta["server_versions"] = psql_text("SELECT py_versions()")
    meta["plpython"] = psql_text("SELECT extversion FROM pg_extension WHERE extname = 'plpython3u'")

    conn = connect()
    cur = conn.cursor()
    cur.execute("SHOW max_parallel_workers_per_gather")
    meta["session"] = "`max_parallel_workers_per_gather = %s`" % cur.fetchone()[0]
    cur.execute("SHOW jit")
    meta["session"] += " and `jit = %s`" % cur.fetchone()[0]

    log("reading alt_t and alt_c into numpy (not timed) ...")
    A = copy_numpy("SELECT %s, y, label::float8 FROM alt_t" % XS, P + 2)
    X = np.ascontiguousarray(A[:, :P])
    y_reg = A[:, P].copy()
    y_lab = A[:, P + 1].astype(np.int64)
    del A
    C = copy_numpy("SELECT %s FROM alt_c" % CS, P)
    # what each export must read: the columns the fits use
    data = {"xy": np.column_stack([X, y_reg]), "xl": np.column_stack([X, y_lab]),
            "x": X, "c": C}

    log("training the models to predict with (alt_m, scikit-learn) ...")
    pred_train = ("SELECT version, deployed FROM mm_train('alt_m', 'linear_regression', 'alt_t', 'y', "
                  "features => %s, test_fraction => 0)" % FEATURES)
    scripts.append(("model to predict with", pred_train))
    cur.execute(pred_train)
    version, deployed = cur.fetchone()
    meta["alt_m"] = "version %d, deployed: %s" % (version, "true" if deployed else "false")
    skm = make_sk(TRAINERS[0]).fit(X, y_reg)
    blob = pickle.dumps(skm)
    cur.execute("INSERT INTO alt_models VALUES ('alt_m', %s)", (psycopg2.Binary(blob),))
    meta["pickle_bytes"] = str(len(blob))
    b0, w = sk_linear(skm, TRAINERS[0])
    c0, v = mm_weights(cur, "alt_m", None)
    meta["weights_alt_m"] = "%.3g" % rel_diff([c0] + list(v), [b0] + list(w))
    pools = []
    for lib in threadpool_info():
        if lib.get("user_api") in ("blas", "openmp"):
            pools.append(" ".join(str(x) for x in (lib.get("internal_api"), lib.get("version"),
                                                   "threads=%d" % lib.get("num_threads")) if x))
    meta["client_threads"] = "; ".join(pools) or "?"

    times = Times(os.path.join(out, "alternatives_times.txt"))
    for group in EXPORTS:
        scripts.append(("export %s" % group, "%s  -- fetchall, and COPY (...) TO STDOUT (FORMAT binary)"
                        % export_sql(group)))
    for tr in TRAINERS:
        scripts.append(("train " + tr.key, train_sql(tr)))
    log("training: a warm-up round, then %d rounds of the exports (%s; fetchall and COPY) "
        "and the trainers (%s; mm_train and the fit alone) ..." % (
            a.reps, ", ".join(EXPORTS), ", ".join(tr.key for tr in TRAINERS)))
    t_phase = time.time()
    for rep in range(0, a.reps + 1):
        t_round = time.time()
        time_exports(times, rep, data)
        for tr in TRAINERS:
            Xt = C if tr.table == "alt_c" else X
            yt = None if tr.target is None else (y_reg if tr.target == "y" else y_lab)
            time_train(cur, times, tr, Xt, yt, rep, meta)
        log("  %s done (%.0f s)" % ("round %d of %d" % (rep, a.reps) if rep else "warm-up",
                                    time.time() - t_round))
    meta["elapsed_train"] = "%.0f" % (time.time() - t_phase)
    loop_rows = X[:min(prows, LOOP_ROWS)].tolist()
    del X, y_reg, y_lab, C, data

    log("starting the HTTP service ...")
    proc, port = start_service(blob)
    scripts.extend([("predict massmodel", MM_PREDICT), ("predict PL/Python", PY_PREDICT),
                    ("predict HTTP: rows read by the client", HTTP_ROWS)])
    try:
        h = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        log("per-row predict over %d rows: a warm-up (%d rows for the slow paths), "
            "then %d rounds of %s ..." % (prows, WARM_SLOW, a.reps, ", ".join(PREDICT_SIDES)))
        t_phase = time.time()
        allsums = []
        for rep in range(0, a.reps + 1):
            sums = time_predict(cur, conn, h, times, rep, prows, skm, loop_rows)
            if rep:
                allsums.append(sums)
                log("  round %d of %d done" % (rep, a.reps))
        meta["elapsed_predict"] = "%.0f" % (time.time() - t_phase)
        h.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ref = allsums[0]["mm"]
    meta["sums"] = "; ".join("%s %r" % (s, allsums[0][s]) for s in PREDICT_SIDES)
    meta["sums_reldiff"] = "%.3g" % max(abs(d[s] - ref) / abs(ref) for d in allsums for s in PREDICT_SIDES)
    conn.close()
    times.f.close()
    mmbench.end_run(NAME, out, scripts, meta, started)
    report(a)


# ---- the HTTP service -----------------------------------------------------------

def serve():
    import pickle
    from http.server import BaseHTTPRequestHandler, HTTPServer
    import numpy as np

    model = pickle.loads(sys.stdin.buffer.read())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # keep-alive: one connection for all rows
        disable_nagle_algorithm = True  # TCP_NODELAY

        def do_POST(self):
            n = int(self.headers["Content-Length"])
            x = json.loads(self.rfile.read(n))["x"]
            y = float(model.predict(np.array([x], dtype=np.float64))[0])
            body = json.dumps({"y": y}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    print("port %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


# ---- the report ----------------------------------------------------------------

def read_times(path):
    rs = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            phase, case, side, rep, ms, rows, extra = line.rstrip("\n").split("|", 6)
            d = dict(kv.split("=", 1) for kv in extra.split(",") if "=" in kv)
            rs.append({"phase": phase, "case": case, "side": side, "rep": int(rep),
                       "ms": float(ms), "rows": int(rows), "extra": d})
    return rs


def summarize(rs):
    def timed(phase, case, side):
        return [r for r in rs if r["phase"] == phase and r["case"] == case
                and r["side"] == side and r["rep"] > 0]

    res = {"export": {}, "train": {}, "predict": {}}
    for group in EXPORTS:
        e = {}
        for side in ("fetch", "copy"):
            t = timed("export", group, side)
            if not t:
                raise SystemExit("alternatives.py: no timed export %s %s" % (group, side))
            e[side] = med([r["ms"] for r in t])
            e[side + "_all"] = [r["ms"] for r in t]
        res["export"][group] = e
    for tr in TRAINERS:
        d = {}
        for side in ("mm", "fit", "fit_gram"):
            t = timed("train", tr.key, side)
            if not t:
                if side == "fit_gram":
                    continue
                raise SystemExit("alternatives.py: no timed %s %s" % (tr.key, side))
            d[side] = med([r["ms"] for r in t])
            d[side + "_all"] = [r["ms"] for r in t]
            d["rows"] = t[0]["rows"]
        e = res["export"][tr.export]
        # export + fit: the median export of the trainer's columns plus its median fit
        d["fetch_fit_export"] = e["fetch"]
        d["copy_fit_export"] = e["copy"]
        d["fetch_fit"] = e["fetch"] + d["fit"]
        d["copy_fit"] = e["copy"] + d["fit"]
        d["r_fit"] = d["mm"] / d["fit"]
        d["r_fetch"] = d["fetch_fit"] / d["mm"]
        d["r_copy"] = d["copy_fit"] / d["mm"]
        if "fit_gram" in d:
            d["r_gram"] = d["mm"] / d["fit_gram"]
        res["train"][tr.key] = d
    p = {}
    for side in PREDICT_SIDES:
        t = timed("predict", "row", side)
        if not t:
            raise SystemExit("alternatives.py: no timed predict %s" % side)
        p[side] = med([r["ms"] for r in t])
        p[side + "_all"] = [r["ms"] for r in t]
        p[side + "_rows"] = t[0]["rows"]
        p[side + "_rate"] = med([r["rows"] / (r["ms"] / 1000) for r in t])
        p[side + "_us"] = 1000.0 * p[side] / t[0]["rows"]
    t = timed("predict", "row", "sk_loop")
    if t:
        p["sk_loop_us"] = med([1000.0 * r["ms"] / r["rows"] for r in t])
        p["sk_loop_rows"] = t[0]["rows"]
        p["sk_loop_all"] = [r["ms"] for r in t]
    p["r_plpython"] = p["mm_rate"] / p["plpython_rate"]
    p["r_http"] = p["mm_rate"] / p["http_rate"]
    res["predict"] = p
    return res


def met(ok):
    return "met" if ok else "not met"


def fit_ok(d):
    return d["r_fit"] <= GOAL_FIT


def export_ok(d):
    return d["r_fetch"] >= GOAL_EXPORT


def goal_lines(res):
    """(text, met) per goal."""
    p = res["predict"]
    L = [("per-row predict >= %gx PL/Python + scikit-learn: %.1fx" % (GOAL_PLPY, p["r_plpython"]),
          p["r_plpython"] >= GOAL_PLPY),
         ("per-row predict >= %gx the HTTP service: %.1fx" % (GOAL_HTTP, p["r_http"]),
          p["r_http"] >= GOAL_HTTP)]
    for tr in TRAINERS:
        d = res["train"][tr.key]
        L.append(("%s train no slower than scikit-learn's fit alone (mm / fit <= %g): %.2f"
                  % (tr.alg, GOAL_FIT, d["r_fit"]), fit_ok(d)))
        L.append(("%s train >= %gx faster than export (psycopg2 fetchall) + fit: %.2fx"
                  % (tr.alg, GOAL_EXPORT, d["r_fetch"]), export_ok(d)))
    return L


def rate(x):
    return "{:,.0f}".format(x)


def text_table(res, meta):
    L = ["against the alternatives: %s rows x %d features (per-row predict over %s rows), "
         "median of %s executions after a warm-up" % (meta.get("rows", "?"), P,
                                                      meta.get("predict_rows", "?"), meta.get("reps", "?")),
         "export + fit = median export of the trainer's columns + median fit; "
         "mlp: %s epochs" % meta.get("mlp_epochs", "?"),
         ""]
    head = ["train (ms)", "mm_train", "sklearn fit", "fetchall+fit", "(export)", "COPY+fit", "(export)",
            "mm/fit", "(fetchall+fit)/mm", "(COPY+fit)/mm", "same model"]
    rows = []
    for tr in TRAINERS:
        d = res["train"][tr.key]
        rows.append([tr.alg, "%.1f" % d["mm"], "%.1f" % d["fit"], "%.1f" % d["fetch_fit"],
                     "%.1f" % d["fetch_fit_export"], "%.1f" % d["copy_fit"],
                     "%.1f" % d["copy_fit_export"], "%.2f" % d["r_fit"], "%.2f" % d["r_fetch"],
                     "%.2f" % d["r_copy"], meta.get("check_" + tr.key, "?")])
    L.extend(mmbench.aligned(head, rows))
    for tr in TRAINERS:
        d = res["train"][tr.key]
        if "fit_gram" in d:
            L.append("%s: sklearn fit with precompute=True %.1f ms (mm/that %.2f)"
                     % (tr.alg, d["fit_gram"], d["r_gram"]))
    L.append("same model: largest relative difference of %s" % "; ".join(
        "%s %s" % (tr.alg, CHECK_TEXT[tr.key]) for tr in TRAINERS))
    L.append("")
    p = res["predict"]
    head = ["per-row predict", "rows", "median ms", "rows/s", "us/row", "massmodel's rows/s / this"]
    rows = []
    for side, label in (("mm", "massmodel mm_predict"), ("plpython", "PL/Python + scikit-learn"),
                        ("http", "HTTP service + scikit-learn")):
        rows.append([label, str(p[side + "_rows"]), "%.1f" % p[side], rate(p[side + "_rate"]),
                     "%.2f" % p[side + "_us"],
                     "-" if side == "mm" else "%.1f" % p["r_" + side]])
    L.extend(mmbench.aligned(head, rows))
    if "sk_loop_us" in p:
        L.append("scikit-learn predict alone, one row per call, no database: %.2f us/row (%d rows)"
                 % (p["sk_loop_us"], p["sk_loop_rows"]))
    L.append("")
    for text, ok in goal_lines(res):
        L.append("goal %s (%s)" % (text, met(ok)))
    L.append("sums of the predictions: %s (largest relative difference %s)" % (
        meta.get("sums", "?"), meta.get("sums_reldiff", "?")))
    return "\n".join(L) + "\n"


def num(x):
    """A float for JSON: None when not finite."""
    return float(x) if x is not None and math.isfinite(x) else None


def ratios_json(res, meta):
    """The figures for plotting (DIR/alternatives_ratios.json); the keys are
    stable."""
    tr_out = collections.OrderedDict()
    for tr in TRAINERS:
        d = res["train"][tr.key]
        e = res["export"][tr.export]
        check = meta.get("check_" + tr.key)
        tr_out[tr.alg] = collections.OrderedDict([
            ("mm_ms", num(d["mm"])),
            ("fit_ms", num(d["fit"])),
            ("export_fetch_ms", num(e["fetch"])),
            ("export_copy_ms", num(e["copy"])),
            ("mm_over_fit", num(d["r_fit"])),
            ("export_fit_over_mm", num(d["r_fetch"])),
            ("export_copy_fit_over_mm", num(d["r_copy"])),
            ("fit_precompute_ms", num(d.get("fit_gram"))),
            ("rows", d["rows"]),
            ("export", tr.export),
            ("goal_fit_met", fit_ok(d)),
            ("goal_export_met", export_ok(d)),
            ("same_model_what", CHECK_TEXT[tr.key]),
            ("same_model_rel_diff", num(float(check)) if check is not None else None),
        ])
    p = res["predict"]
    pred = collections.OrderedDict([
        ("rows", p["mm_rows"]),
        ("mm_rows_per_s", num(p["mm_rate"])),
        ("plpython_rows_per_s", num(p["plpython_rate"])),
        ("http_rows_per_s", num(p["http_rate"])),
        ("mm_us_per_row", num(p["mm_us"])),
        ("plpython_us_per_row", num(p["plpython_us"])),
        ("http_us_per_row", num(p["http_us"])),
        ("mm_over_plpython", num(p["r_plpython"])),
        ("mm_over_http", num(p["r_http"])),
        ("goal_plpython_met", p["r_plpython"] >= GOAL_PLPY),
        ("goal_http_met", p["r_http"] >= GOAL_HTTP),
    ])
    intv = lambda k: int(meta[k]) if meta.get(k, "").isdigit() else None  # noqa: E731
    return collections.OrderedDict([
        ("rows", intv("rows")),
        ("reps", intv("reps")),
        ("predict_rows", intv("predict_rows")),
        ("mlp_epochs", intv("mlp_epochs")),
        ("date", meta.get("date")),
        ("commit", meta.get("commit")),
        ("goals", collections.OrderedDict([("mm_over_fit_at_most", GOAL_FIT),
                                           ("export_fit_over_mm_at_least", GOAL_EXPORT),
                                           ("mm_over_plpython_at_least", GOAL_PLPY),
                                           ("mm_over_http_at_least", GOAL_HTTP)])),
        ("trainers", tr_out),
        ("predict", pred),
    ])


def ms_list(xs):
    return ", ".join("%.0f" % x if x >= 1000 else "%.1f" % x for x in xs)


# massmodel's side of each trainer, for the report: the objective it fits
# and how mm_train reads the rows.
MM_TEXT = {
    "linear": "least squares, solved from the co-moments of one scan of the table",
    "ridge": "‖y − b₀ − Xw‖² + α‖w‖², α = 1, b₀ not penalised; co-moments of one scan",
    "lasso": "1/(2n)‖y − b₀ − Xw‖² + α‖w‖₁, α = 1, cyclic coordinate descent on centred data until the duality gap is at most tol · ‖y − ȳ‖²/n (scikit-learn's criterion, the same tol)",
    "elastic": "1/(2n)‖y − b₀ − Xw‖² + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²), α = 1, ρ = 0.5, as lasso",
    "logistic": "C Σ log-loss + ½‖w‖², C = 1, on standardised features (population standard deviation), Newton iterations until the largest gradient component is at most 1e-8 · max(1, |objective|)",
    "nb": "Gaussian naive Bayes: class priors, means and population variances + 1e-9 × the largest column variance",
    "mlp": "20 → 100 (relu) → 1 (identity), squared loss / 2 + 1e-4/(2·batch) ‖W‖², adam (lr 0.001), batch 200, %(epochs)s epochs over every row, reshuffled each epoch; standardised features, target as it is",
    "kmeans": "Lloyd, k = 8, k-means++ (greedy, 2 + ⌊ln k⌋ candidates), 10 restarts, max_iter 300, tol 1e-4 × the mean column variance; the restart with the lowest inertia",
    "pca": "the eigenvectors of the covariance (n − 1) of the unscaled columns, all 20 components",
}


def section(res, meta):
    rows = meta.get("rows", "?")
    reps = meta.get("reps", "?")
    prows = meta.get("predict_rows", "?")
    epochs = meta.get("mlp_epochs", "?")
    p = res["predict"]
    goals = goal_lines(res)
    tres = res["train"]
    L = [SECTION, ""]
    L.append("Generated by `bash bench/alternatives.sh` on %s (commit %s)."
             % (meta.get("date", "?"), meta.get("commit", "?")))
    L.append("massmodel against what users pick instead, side by side in one run on")
    L.append("the same rows: scikit-learn fitting rows already in memory, the whole")
    L.append("path of exporting them with psycopg2 and fitting, for every trainer")
    L.append("massmodel has; per-row prediction through PL/Python + scikit-learn")
    L.append("inside the database, and a Python HTTP service beside it.  Ratios are")
    L.append("the result; no time is asserted.")
    L.append("")
    L.append("**Goals:**")
    L.append("")
    for text, ok in goals[:2]:
        goal, _, measured = text.rpartition(": ")
        L.append("- %s: **%s** (%s)" % (goal, met(ok), measured))
    n_fit = sum(1 for tr in TRAINERS if fit_ok(tres[tr.key]))
    n_exp = sum(1 for tr in TRAINERS if export_ok(tres[tr.key]))
    # (worded so that bench/summary.py counts each trainer once, from the
    # results table, and not these totals)
    L.append("- every trainer no slower than scikit-learn's fit alone (mm_train / fit")
    L.append("  at most %g): met by %d of the %d trainers" % (GOAL_FIT, n_fit, len(TRAINERS)))
    L.append("- every trainer at least %gx faster than export (psycopg2 fetchall) +" % GOAL_EXPORT)
    L.append("  fit: met by %d of the %d trainers" % (n_exp, len(TRAINERS)))
    L.append("")
    L.append("| trainer | no slower than the fit alone (mm_train / fit <= %g) | >= %gx faster than fetchall + fit |"
             % (GOAL_FIT, GOAL_EXPORT))
    L.append("|---|---|---|")
    for tr in TRAINERS:
        d = tres[tr.key]
        L.append("| %s | **%s** (%.2f) | **%s** (%.2fx) |" % (
            tr.alg, met(fit_ok(d)), d["r_fit"], met(export_ok(d)), d["r_fetch"]))
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("Tables generated in SQL, each after its own `setseed()` (one serial")
    L.append("statement each, so the same `ROWS` gives the same tables):")
    L.append("")
    L.append("- `alt_t`, %s rows of 20 `float8` features `x1 .. x20` (`x_i` uniform" % rows)
    L.append("  in [-i, i]), a `float8` target `y = 3 + sum_i ((i % 7) - 3 + i/10) x_i`")
    L.append("  plus uniform noise in [-0.5, 0.5], and an `integer` `label`, 1 with")
    L.append("  probability `1 / (1 + exp(-s))`, `s = 0.3 + sum_i ((i % 5) - 1.7) / (2i)")
    L.append("  x_i` (the classes overlap; share of 1: %s);" % meta.get("share_of_1", "?"))
    L.append("- `alt_sub`, its first %s rows, for the per-row paths;" % prows)
    L.append("- `alt_c`, for k-means (uniform data have no clusters to find, and")
    L.append("  k-means on them wanders to a different local optimum per seed): %s" % rows)
    L.append("  rows of 20 `float8` columns `c1 .. c20` from %d Gaussian blobs, blob" % BLOBS)
    L.append("  `k` (uniform in 0 .. %d) centred at `c_kj = 2 cos(1.7 k + 0.9 j + 0.37 k j)`" % (BLOBS - 1))
    L.append("  with unit variance in every column (Box-Muller).")
    L.append("")
    L.append("All are frozen, analyzed and prewarmed (%s)." % meta.get("table_size", "?"))
    L.append("The server runs with `shared_preload_libraries = 'massmodel'`; every")
    L.append("session, the client's and those the exports open, has %s." % meta.get("session", "?"))
    L.append("Everything is timed in the one client process (bench/alternatives.py,")
    L.append("Debian's `/usr/bin/python3`) with `time.perf_counter()` around the")
    L.append("whole call, a statement's round trip included: a warm-up round, then")
    L.append("%s rounds (each: the exports, then every trainer's mm_train and fit," % reps)
    L.append("then, in the per-row phase, the three paths); figures are medians and a")
    L.append("ratio is the ratio of two medians.")
    L.append("")
    L.append("**Training**, per trainer, each side on the same rows (%s of `alt_t`," % rows)
    L.append("or of `alt_c` for k-means):")
    L.append("")
    L.append("- **mm_train**: `SELECT version, metrics FROM mm_train(...)` as listed")
    L.append("  below, with `test_fraction => 0`, so that it fits every row like")
    L.append("  scikit-learn; it then also scores them (the metrics), keeps the")
    L.append("  training profile that `mm_drift` compares with, and stores a version:")
    L.append("  work the scikit-learn side does not do.  Each call runs with")
    L.append("  `max_parallel_workers_per_gather = %d`, PostgreSQL's default (the" % TRAIN_WORKERS)
    L.append("  session's setting is restored after it, untimed), as scikit-learn runs")
    L.append("  with its default thread pools: the one-scan regressions, naive Bayes")
    L.append("  and logistic regression read `alt_t` with parallel workers, k-means")
    L.append("  shares the passes of its fit with them, the other trainers work in")
    L.append("  the one backend.")
    L.append("- **sklearn fit**: the estimator listed below, `.fit(X, y)` (`.fit(X)`")
    L.append("  for k-means and PCA), `X` a float64 numpy array of the rows already in")
    L.append("  memory (read once before the timing); only the fit is timed.")
    L.append("- **fetchall + fit**, the whole path a user takes: a new psycopg2")
    L.append("  connection, `SELECT` of the trainer's columns, `cursor.fetchall()`,")
    L.append("  `numpy.array(rows)`, then the same fit.  The goal's export.")
    L.append("- **COPY + fit**: the same with `COPY (...) TO STDOUT (FORMAT binary)`")
    L.append("  (`copy_expert` into memory) decoded by numpy instead of the fetch: the")
    L.append("  fastest export from Python we know of, for information.")
    L.append("")
    L.append("The export does not depend on the trainer, only on the columns it reads,")
    L.append("so each set of columns is exported once per round (both ways), and")
    L.append("**export + fit is the median export of the trainer's columns plus the")
    L.append("median of its fit** (the \"(export part)\" in the table):")
    L.append("")
    L.append("| export | columns | trainers |")
    L.append("|---|---|---|")
    for group, (table, cols, ncols, what) in EXPORTS.items():
        L.append("| %s | `%s` (%d `float8`%s) | %s |" % (
            group, export_short(group), ncols, ", the label cast" if "label" in cols else "",
            ", ".join(tr.alg for tr in TRAINERS if tr.export == group)))
    L.append("")
    L.append("The trainers: the massmodel call (model fitted, objective) and the")
    L.append("scikit-learn estimator that fits the same model with the same")
    L.append("hyper-parameters:")
    L.append("")
    for tr in TRAINERS:
        L.append("- **%s**: `%s`: %s." % (tr.alg, short_train(tr), MM_TEXT[tr.key] % {"epochs": epochs}))
        L.append("  scikit-learn: %s%s." % (SK_TEXT[tr.key] % {"epochs": epochs},
                                           ", and for information the same with `precompute=True` (the Gram"
                                           " matrix first, then coordinate descent on it)"
                                           if tr.key in GRAM else ""))
    L.append("")
    L.append("Notes on the pairs: ridge's α = 1 (both sides' default) barely moves")
    L.append("the weights at this many rows, but it is the objective both minimise.")
    L.append("The lasso and elastic net stop at the same")
    L.append("duality-gap criterion (`tol` 1e-8 on both sides, scikit-learn's default")
    L.append("being 1e-4; `max_iter` 10000).  Logistic regression keeps scikit-learn's")
    L.append("defaults (lbfgs to its `tol` 1e-4; the same objective).  The mlp is a")
    L.append("regression on `y` with the same architecture, loss, penalty and")
    L.append("optimiser on both sides, and %s epochs (not massmodel's default 200) over" % epochs)
    L.append("all %s rows, so that it fits the time budget; its initial weights and" % rows)
    L.append("shuffles come from different generators, so the weights differ and the")
    L.append("two fits are compared by their training rmse.  k-means is compared by its")
    L.append("centres, each of massmodel's matched with the nearest of scikit-learn's")
    L.append("(a one-to-one match, or the difference is infinite); PCA by its explained")
    L.append("variances (and the components, each signed with its entry of largest")
    L.append("absolute value positive, as massmodel does).")
    L.append("")
    L.append("**Per-row prediction** over the %s rows of `alt_sub`, with" % prows)
    L.append("`alt_m` (`mm_train('alt_m', 'linear_regression', 'alt_t', 'y', ...,")
    L.append("test_fraction => 0)`, %s) and scikit-learn's `LinearRegression`" % meta.get("alt_m", "?"))
    L.append("fitted on the same rows and pickled (%s bytes; largest relative" % meta.get("pickle_bytes", "?"))
    L.append("difference between its intercept and weights and `mm_weights('alt_m')`:")
    L.append("%s):" % meta.get("weights_alt_m", "?"))
    L.append("")
    L.append("- **massmodel**: `%s`." % MM_PREDICT)
    L.append("- **PL/Python + scikit-learn**: `%s`; `py_predict`" % PY_PREDICT_SHORT)
    L.append("  (`plpython3u`, postgresql-plpython3-15; in the server %s)" % meta.get("server_versions", "?"))
    L.append("  unpickles the model from a table once per session, caches it in `SD`,")
    L.append("  and returns `float(m.predict(numpy.array([[x1, ..., x20]]))[0])`.")
    L.append("- **HTTP service + scikit-learn**: `python3 bench/alternatives.py serve`,")
    L.append("  a background process on 127.0.0.1: `http.server.HTTPServer`, HTTP/1.1")
    L.append("  keep-alive, `TCP_NODELAY`, the same pickled model; it answers `POST")
    L.append("  /predict {\"x\": [20 numbers]}` with `{\"y\": ...}` from")
    L.append("  `model.predict` on that one row.  The client loop reads the rows with")
    L.append("  psycopg2 (`%s`), sends one POST per row through" % "SELECT x1, ..., x20 FROM alt_sub")
    L.append("  one persistent `http.client.HTTPConnection` and sums the answers; the")
    L.append("  read is inside the timing.")
    L.append("")
    L.append("The warm-up of the two slow paths predicts %d rows (it loads the model" % WARM_SLOW)
    L.append("into `SD`); rates are rows per second of each execution, so the ratios")
    L.append("compare per-row costs.")
    L.append("")
    L.append("### Results")
    L.append("")
    L.append("Training, %s rows, median of %s executions, in ms (export + fit = median" % (rows, reps))
    L.append("export + median fit):")
    L.append("")
    L.append("| trainer | mm_train | sklearn fit | fetchall + fit (export part) | COPY + fit (export part) | mm_train / fit (goal <= %g) | (fetchall + fit) / mm_train (goal >= %g) | (COPY + fit) / mm_train |" % (GOAL_FIT, GOAL_EXPORT))
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tr in TRAINERS:
        d = tres[tr.key]
        L.append("| %s | %.1f | %.1f | %.1f (%.1f) | %.1f (%.1f) | **%.2f** (%s) | **%.2f** (%s) | %.2f |" % (
            tr.alg, d["mm"], d["fit"], d["fetch_fit"], d["fetch_fit_export"], d["copy_fit"],
            d["copy_fit_export"], d["r_fit"], met(fit_ok(d)), d["r_fetch"],
            met(export_ok(d)), d["r_copy"]))
    L.append("")
    gram = [tr for tr in TRAINERS if "fit_gram" in tres[tr.key]]
    if gram:
        L.append("With `precompute=True`, scikit-learn's fit takes %s; mm_train / that fit: %s." % (
            " and ".join("%.1f ms (%s)" % (tres[tr.key]["fit_gram"], tr.alg) for tr in gram),
            " and ".join("%.2f" % tres[tr.key]["r_gram"] for tr in gram)))
        L.append("")
    L.append("The exports, median of %s executions, in ms:" % reps)
    L.append("")
    L.append("| export | columns | fetchall | binary COPY |")
    L.append("|---|---|---:|---:|")
    for group in EXPORTS:
        e = res["export"][group]
        L.append("| %s | `%s` | %.1f | %.1f |" % (group, export_short(group), e["fetch"], e["copy"]))
    L.append("")
    L.append("The trainers fit the same models (the warm-up round; massmodel's")
    L.append("version against scikit-learn's fit on the same rows):")
    L.append("")
    L.append("| trainer | compared | largest relative difference | more |")
    L.append("|---|---|---:|---|")
    for tr in TRAINERS:
        L.append("| %s | %s | %s | %s |" % (tr.alg, CHECK_TEXT[tr.key], meta.get("check_" + tr.key, "?"),
                                           meta.get("check_%s_detail" % tr.key, "?")))
    L.append("")
    L.append("Training metrics are massmodel's (the version's, on the training rows)")
    L.append("first, then scikit-learn's.")
    if meta.get("warnings"):
        L.append("")
        L.append("scikit-learn's warnings during the fits: %s." % meta["warnings"].replace(" || ", "; "))
    L.append("")
    L.append("Per-row prediction, median of %s executions:" % reps)
    L.append("")
    L.append("| path | rows | median ms | rows/s | us/row | massmodel's rows/s / this | goal |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for side, label, goal in (("mm", "massmodel `mm_predict('alt_m', t.*)`", None),
                              ("plpython", "PL/Python + scikit-learn", GOAL_PLPY),
                              ("http", "HTTP service + scikit-learn", GOAL_HTTP)):
        L.append("| %s | %d | %.1f | %s | %.2f | %s | %s |" % (
            label, p[side + "_rows"], p[side], rate(p[side + "_rate"]), p[side + "_us"],
            "-" if goal is None else "**%.1f**" % p["r_" + side],
            "-" if goal is None else ">= %g (%s)" % (goal, met(p["r_" + side] >= goal))))
    L.append("")
    L.append("The three paths predict the same: the sums of their predictions (%s)" % meta.get("sums", "?"))
    L.append("differ by at most a relative %s." % meta.get("sums_reldiff", "?"))
    L.append("")
    L.append("All timed executions (ms):")
    L.append("")
    for group in EXPORTS:
        e = res["export"][group]
        L.append("- export %s, fetchall: %s; COPY: %s" % (group, ms_list(e["fetch_all"]), ms_list(e["copy_all"])))
    for tr in TRAINERS:
        d = tres[tr.key]
        s = "- %s, mm_train: %s; sklearn fit: %s" % (tr.key, ms_list(d["mm_all"]), ms_list(d["fit_all"]))
        if "fit_gram" in d:
            s += "; fit with precompute=True: %s" % ms_list(d["fit_gram_all"])
        L.append(s)
    for side, label in (("mm", "mm_predict"), ("plpython", "PL/Python"), ("http", "HTTP service")):
        L.append("- per-row predict, %s: %s" % (label, ms_list(p[side + "_all"])))
    if "sk_loop_us" in p:
        L.append("- scikit-learn predict alone, %d rows: %s" % (p["sk_loop_rows"], ms_list(p["sk_loop_all"])))
    L.append("")
    L.append("### Reading the figures")
    L.append("")
    slow = [tr.alg for tr in TRAINERS if not fit_ok(tres[tr.key])]
    fast = [tr.alg for tr in TRAINERS if fit_ok(tres[tr.key])]
    L.append("- The fit alone is scikit-learn's best case: the rows are already a")
    L.append("  numpy array in the process, and nothing is scored or stored.")
    L.append("  mm_train's time includes reading the table, scoring every row (the")
    L.append("  metrics; for k-means also the silhouette of a 10,000-row sample, about")
    L.append("  10,000² distances), the training profile of `mm_drift` (each feature's")
    L.append("  deciles) and storing the version.  Every trainer reads the table")
    L.append("  directly from its heap (`mm.direct_scan`, on by default: a plain table")
    L.append("  of `float8` columns).  linear_regression, ridge, lasso")
    L.append("  and elastic_net read the table in one scan into co-moments, with")
    L.append("  parallel workers; with `test_fraction => 0` the processes then read")
    L.append("  the pages again (each its own, then what the others have not reached)")
    L.append("  to score and profile the rows, keeping none.  naive_bayes does the same: each")
    L.append("  process folds its rows into per-class statistics as it reads them,")
    L.append("  then the processes read the pages again.")
    L.append("  logistic_regression reads the rows into memory with parallel workers")
    L.append("  that keep them and do their part of the fit (each Newton pass) and of")
    L.append("  the scoring; the other trainers read the rows into memory first")
    L.append("  (8 bytes a value), in the one backend, and k-means then copies them")
    L.append("  into shared memory for parallel workers that share each pass of its")
    L.append("  fit (k-means++ and Lloyd), part by part.")
    L.append("  In this run mm_train is %s than the fit alone for %s%s." % (
        "slower", ", ".join(slow) if slow else "no trainer",
        "; no slower for %s" % ", ".join(fast) if fast else ""))
    L.append("- scikit-learn runs with its default thread pools (%s): KMeans's" % meta.get("client_threads", "?"))
    L.append("  Lloyd loop is OpenMP-parallel over the %s CPUs, and BLAS calls are" % meta.get("nproc", "?"))
    L.append("  threaded; massmodel runs with `mm.blas_threads = 1` (its default)")
    L.append("  and PostgreSQL's default `max_parallel_workers_per_gather = %d`." % TRAIN_WORKERS)
    L.append("- The exports of 21 `float8` columns of %s rows with `fetchall()` take" % rows)
    L.append("  %.0f ms (x1 .. x20, y) and %.0f ms (x1 .. x20, label): it builds one" % (
        res["export"]["xy"]["fetch"], res["export"]["xl"]["fetch"]))
    L.append("  Python object per value before numpy copies them.  The binary COPY")
    L.append("  export takes %.0f and %.0f ms; it is not the path most code takes." % (
        res["export"]["xy"]["copy"], res["export"]["xl"]["copy"]))
    if "sk_loop_us" in p:
        L.append("- scikit-learn's `predict` alone, one row per call in a plain Python")
        L.append("  loop (%d rows of `alt_sub`, the same model, no database, the row" % p["sk_loop_rows"])
        L.append("  turned into `numpy.array([row])` as both paths do), takes %.1f us per" % p["sk_loop_us"])
        L.append("  row (median of the rounds): the floor of both scikit-learn paths,")
        L.append("  most of it scikit-learn's input validation.  PL/Python adds %.1f us"
                 % (p["plpython_us"] - p["sk_loop_us"]))
        L.append("  per row (the call into the interpreter, 20 arguments converted); the")
        L.append("  HTTP service adds %.1f us (JSON both ways, a request and a response" % (
            p["http_us"] - p["sk_loop_us"]))
        L.append("  over loopback, http.server's header parsing; the client, the service")
        L.append("  and the server share the %s CPUs).  `mm_predict` is rewritten by the" % meta.get("nproc", "?"))
        L.append("  planner into one C call per row, the model resolved once per")
        L.append("  statement: %.2f us per row, the table's scan included." % p["mm_us"])
    L.append("")
    L.extend(mmbench.machine_and_reproduce(
        meta, "`shared_preload_libraries = '%s'`, massmodel defaults (`mm.blas_threads = 1`)"
        % meta.get("preload", "?"),
        ["bash bench/alternatives.sh", "ROWS=200000 PREDICT_ROWS=20000 REPS=3 bash bench/alternatives.sh"],
        more=["- client: %s; PL/Python: %s" % (meta.get("client_versions", "?"), meta.get("server_versions", "?"))]))
    L.append("It installs what it compares with when it is missing (`bash")
    L.append("scripts/deps.sh --bench`, as root: postgresql-plpython3-15,")
    L.append("python3-psycopg2, python3-sklearn, python3-numpy, python3-matplotlib),")
    L.append("starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchalt"), meta.get("port", "55465")))
    L.append("`BENCH_PORT=...` for another) and stops it, and the HTTP service, at the")
    L.append("end (this run took %s s: training %s s, per-row predict %s s; the" % (
        meta.get("elapsed", "?"), meta.get("elapsed_train", "?"), meta.get("elapsed_predict", "?")))
    L.append("cluster's start and stop not counted).  `ROWS=...` (default 1000000),")
    L.append("`PREDICT_ROWS=...` (default 100000, the rows of the per-row paths),")
    L.append("`REPS=...` (default 5, at least 3) and `MLP_EPOCHS=...` (default %d)" % MLP_EPOCHS)
    L.append("change the sizes and the repetitions; `ALT_DOC=` writes no document.")
    L.append("One line per execution is kept in bench/results/alternatives_times.txt,")
    L.append("the checks and versions in alternatives_meta.txt, the SQL in")
    L.append("alternatives_sql.txt, the table in alternatives_summary.txt, the")
    L.append("figures for plotting in alternatives_ratios.json.  `python3")
    L.append("bench/alternatives.py report --out bench/results --doc docs/benchmarks.md`")
    L.append("rewrites this section (and the summary and JSON) from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    global TRAINERS
    out = a.out
    meta = mmbench.read_meta(NAME, out)
    TRAINERS = trainers(int(meta.get("mlp_epochs", MLP_EPOCHS)))
    res = summarize(read_times(os.path.join(out, "alternatives_times.txt")))
    mmbench.write_summary(NAME, out, text_table(res, meta))
    path = os.path.join(out, "alternatives_ratios.json")
    with open(path, "w") as f:
        json.dump(ratios_json(res, meta), f, indent=2)
        f.write("\n")
    log("wrote %s" % path)
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(res, meta))


def main(argv):
    if len(argv) == 2 and argv[1] == "serve":
        serve()
        return

    def extra(ap):
        ap.add_argument("--predict-rows", type=int, default=100000)
        ap.add_argument("--mlp-epochs", type=int, default=MLP_EPOCHS)

    a = mmbench.parse_args(NAME, argv, __doc__, rows=1000000, reps=5, port="55465",
                           cluster="benchalt", extra=extra)
    if a.command == "run":
        if not 1000 <= a.predict_rows <= a.rows:
            raise SystemExit("alternatives.py: --predict-rows must be from 1000 to --rows")
        if not 1 <= a.mlp_epochs <= 100000:
            raise SystemExit("alternatives.py: --mlp-epochs must be from 1 to 100000")
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
