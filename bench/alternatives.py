"""Driver of the benchmark against the alternatives (bench/alternatives.sh).

    python3 bench/alternatives.py run --rows N --reps R --predict-rows M
                                      --out DIR --doc DOC
                                      [--top DIR] [--port P] [--cluster NAME]
    python3 bench/alternatives.py report --out DIR --doc DOC [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/alternatives.sh
exports them for its private cluster) through psql for the setup and through
psycopg2 for everything timed; it needs Debian's /usr/bin/python3 with
numpy, scikit-learn and psycopg2, and plpython3u in the server
(postgresql-plpython3-15).  It

  1. generates the table alt_t in SQL, after setseed(), in one serial
     statement (the same ROWS give the same table): 20 float8 features x1 ..
     x20 (x_i uniform in [-i, i]), a float8 target y (linear in the features
     plus uniform noise) and an integer label (0/1, drawn from a logistic
     model of a linear score); alt_sub, its first M rows; freezes, analyzes
     and prewarms both;
  2. reads the rows of alt_t into numpy arrays (not timed), trains the model
     alt_m (mm_train linear_regression, test_fraction 0) and scikit-learn's
     LinearRegression on the same rows, stores the pickled scikit-learn model
     in the table alt_models, creates the PL/Python function py_predict(x1,
     ..., x20) (unpickles it once per session, cached in SD, then predicts
     one row per call), and starts the HTTP service (this file's `serve`,
     http.server + the same pickled model, on 127.0.0.1, a background
     process);
  3. times, in one psycopg2 session (max_parallel_workers_per_gather = 0,
     jit = off; the exports open their own sessions with the same
     settings), per trainer (linear_regression, logistic_regression): the
     mm_train call, scikit-learn's fit of the rows already in memory, and
     the whole path (connect, fetch the rows with psycopg2 into numpy, fit;
     and the same with a binary COPY): one warm-up round, then REPS rounds;
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
the predictions, the fitted weights, the accuracies) and versions go to
DIR/alternatives_meta.txt.

report reads DIR/alternatives_times.txt and DIR/alternatives_meta.txt,
writes DIR/alternatives_summary.txt (the table printed on stdout), and writes
the section "## Against the alternatives" of DOC, replacing it if it is there
(up to the next "## " heading) and appending it otherwise; DOC empty writes
none.

    python3 bench/alternatives.py serve

is the HTTP service: it reads a pickled scikit-learn regressor on stdin,
listens on 127.0.0.1 (a free port, printed on stdout as "port N"), and
answers POST /predict {"x": [20 numbers]} with {"y": prediction}, one row per
request (HTTP/1.1 keep-alive, TCP_NODELAY).  It runs until terminated.
"""
import io
import json
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
FEATURES = "ARRAY[%s]" % ", ".join("'x%d'" % i for i in range(1, P + 1))
WARM_SLOW = 1000  # rows of the warm-up of the slow per-row paths

# The trainers: (key, algorithm, target column, massmodel model name).
TRAINERS = [("linear", "linear_regression", "y", "alt_lin"),
            ("logistic", "logistic_regression", "label", "alt_log")]
TRAIN_SIDES = ("mm", "fit", "fetch_fit", "copy_fit")
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


def train_sql(tr):
    key, alg, target, model = tr
    return ("SELECT version, metrics FROM mm_train('%s', '%s', 'alt_t', '%s', features => %s, "
            "test_fraction => 0, deploy => 'never')" % (model, alg, target, FEATURES))


def short_train(tr):
    return ("mm_train('%s', '%s', 'alt_t', '%s', features => ARRAY['x1', ..., 'x20'], "
            "test_fraction => 0, deploy => 'never')" % (tr[3], tr[1], tr[2]))


MM_PREDICT = "SELECT sum(mm_predict('alt_m', t.*)) FROM alt_sub t"
PY_PREDICT = "SELECT sum(py_predict(%s)) FROM alt_sub" % XS
PY_PREDICT_SHORT = "SELECT sum(py_predict(x1, ..., x20)) FROM alt_sub"
HTTP_ROWS = "SELECT %s FROM alt_sub" % XS


# ---- SQL --------------------------------------------------------------------

def setup_sql(rows, predict_rows):
    feats = ",\n               ".join(
        "(2 * random() - 1) * %d AS x%d" % (i, i) for i in range(1, P + 1))
    lin = "\n       + ".join(
        "(%d %% 7 - 3 + %.1f) * x%d" % (i, i / 10, i) for i in range(1, P + 1))
    score = "\n          + ".join(
        "(%d %% 5 - 1.7) / %d * x%d" % (i, 2 * i, i) for i in range(1, P + 1))
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
CREATE TABLE alt_t AS
SELECT %(xs)s,
       3.0
       + %(lin)s
       + (random() - 0.5) AS y,
       (random() < 1 / (1 + exp(-(0.3
          + %(score)s))))::int AS label
  FROM (SELECT %(feats)s
          FROM generate_series(1, %(rows)d)
        OFFSET 0) s;

-- alt_sub: the first %(prows)d rows of alt_t (a serial scan of a new table)
CREATE TABLE alt_sub AS SELECT * FROM alt_t LIMIT %(prows)d;

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
CHECKPOINT;
SELECT pg_prewarm('alt_t') AS prewarmed, pg_prewarm('alt_sub') AS prewarmed_sub;
SELECT count(*) AS rows, round(avg(label), 4) AS share_of_1 FROM alt_t;
""" % dict(p=P, xs=XS, lin=lin, feats=feats, rows=rows, prows=predict_rows,
           score=score, args=args)


# ---- running ------------------------------------------------------------------

def psql_text(sql):
    return mmbench.psql_text(NAME, sql)


OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"


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


def make_sk(key):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if key == "linear":
        return LinearRegression()
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, penalty="l2"))


def export_sql(tr):
    # the label as float8, so that the binary COPY has one column type
    return "SELECT %s, %s::float8 FROM alt_t" % (XS, tr[2])


def split_xy(A, key):
    import numpy as np
    X = np.ascontiguousarray(A[:, :P])
    y = A[:, P] if key == "linear" else A[:, P].astype(np.int64)
    return X, y


def sk_weights(m, key):
    """scikit-learn's intercept and weights in the units of the columns."""
    import numpy as np
    if key == "linear":
        return float(m.intercept_), np.asarray(m.coef_, dtype=float).ravel()
    sc, lr = m[0], m[-1]
    w = lr.coef_.ravel() / sc.scale_
    return float(lr.intercept_[0] - np.dot(w, sc.mean_)), w


def mm_weights(cur, model, version):
    import numpy as np
    cur.execute("SELECT feature, weight FROM mm_weights(%s, %s)", (model, version))
    d = dict(cur.fetchall())
    return d["intercept"], np.array([d["x%d" % i] for i in range(1, P + 1)])


def rel_diff(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(1e-300, float(np.max(np.abs(b)))))


class Times:
    """DIR/alternatives_times.txt, one line per execution, written as it
    happens: phase|case|side|rep|ms|rows|extra."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.f.write("# phase|case|side|rep|ms|rows|extra\n")

    def add(self, phase, case, side, rep, ms, rows, extra=""):
        self.f.write("%s|%s|%s|%d|%.3f|%d|%s\n" % (phase, case, side, rep, ms, rows, extra))
        self.f.flush()


def time_train(cur, times, tr, X, y, rep, meta, nrows):
    """One round of a trainer: mm_train, the fit alone, fetch + fit, COPY +
    fit (in that order)."""
    import warnings
    key = tr[0]
    pc = time.perf_counter
    t0 = pc()
    cur.execute(train_sql(tr))
    version, metrics = cur.fetchone()
    times.add("train", key, "mm", rep, (pc() - t0) * 1000, nrows, "version=%d" % version)
    if rep == 0:
        meta["mm_%s_version" % key] = str(version)
        meta["mm_%s_metrics" % key] = json.dumps(metrics, sort_keys=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = make_sk(key)
        t0 = pc()
        m.fit(X, y)
        times.add("train", key, "fit", rep, (pc() - t0) * 1000, nrows)
        if rep == 0:
            lr = m if key == "linear" else m[-1]
            if key == "logistic":
                meta["sk_logistic_iter"] = str(int(max(lr.n_iter_)))
            meta["sk_%s_score" % key] = "%.9g" % m.score(X, y)
            b0, w = sk_weights(m, key)
            c0, v = mm_weights(cur, tr[3], version)
            meta["weights_%s" % key] = "%.3g" % rel_diff([c0] + list(v), [b0] + list(w))
        del m

        for side, export in (("fetch_fit", lambda: fetch_numpy(export_sql(tr))),
                             ("copy_fit", lambda: copy_numpy(export_sql(tr), P + 1))):
            t0 = pc()
            A = export()
            t1 = pc()
            Xe, ye = split_xy(A, key)
            m = make_sk(key)
            m.fit(Xe, ye)
            t2 = pc()
            times.add("train", key, side, rep, (t2 - t0) * 1000, len(A),
                      "export_ms=%.3f" % ((t1 - t0) * 1000))
            if rep == 0 and (Xe.shape != X.shape or (Xe != X).any() or (ye != y).any()):
                raise SystemExit("alternatives.py: %s read other rows than the fit alone" % side)
            del A, Xe, ye, m
    for w in caught:
        meta.setdefault("warnings", "")
        msg = "%s: %s" % (w.category.__name__, str(w.message).splitlines()[0])
        if msg not in meta["warnings"].split(" || "):
            meta["warnings"] = (meta["warnings"] + " || " if meta["warnings"] else "") + msg


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

    out = a.out
    started, meta = mmbench.begin_run(NAME, a)
    prows = a.predict_rows
    meta["predict_rows"] = str(prows)
    meta["client_versions"] = "Python %s, scikit-learn %s, numpy %s, psycopg2 %s" % (
        sys.version.split()[0], sklearn.__version__, np.__version__, psycopg2.__version__.split()[0])

    log("creating alt_t (%d rows x %d features, y and label) and alt_sub (%d rows) ..."
        % (a.rows, P, prows))
    sql = setup_sql(a.rows, prows)
    scripts = [("setup (psql)", sql)]
    mmbench.run_script(NAME, sql, os.path.join(out, "alternatives_setup.txt"), "the setup")
    meta["share_of_1"] = psql_text("SELECT round(avg(label), 4) FROM alt_t")
    meta["table_size"] = psql_text(
        "SELECT 'alt_t ' || pg_size_pretty(pg_table_size('alt_t')) || ', alt_sub ' "
        "|| pg_size_pretty(pg_table_size('alt_sub'))")
    meta["preload"] = psql_text("SHOW shared_preload_libraries")
    meta["server_versions"] = psql_text("SELECT py_versions()")
    meta["plpython"] = psql_text("SELECT extversion FROM pg_extension WHERE extname = 'plpython3u'")

    conn = connect()
    cur = conn.cursor()
    cur.execute("SHOW max_parallel_workers_per_gather")
    meta["session"] = "`max_parallel_workers_per_gather = %s`" % cur.fetchone()[0]
    cur.execute("SHOW jit")
    meta["session"] += " and `jit = %s`" % cur.fetchone()[0]

    log("reading alt_t into numpy (not timed) ...")
    A = copy_numpy("SELECT %s, y, label::float8 FROM alt_t" % XS, P + 2)
    X = np.ascontiguousarray(A[:, :P])
    y_reg = A[:, P].copy()
    y_lab = A[:, P + 1].astype(np.int64)
    del A
    nrows = len(X)

    log("training the models to predict with (alt_m, scikit-learn) ...")
    pred_train = ("SELECT version, deployed FROM mm_train('alt_m', 'linear_regression', 'alt_t', 'y', "
                  "features => %s, test_fraction => 0)" % FEATURES)
    scripts.append(("model to predict with", pred_train))
    cur.execute(pred_train)
    version, deployed = cur.fetchone()
    meta["alt_m"] = "version %d, deployed: %s" % (version, "true" if deployed else "false")
    skm = make_sk("linear").fit(X, y_reg)
    blob = pickle.dumps(skm)
    cur.execute("INSERT INTO alt_models VALUES ('alt_m', %s)", (psycopg2.Binary(blob),))
    meta["pickle_bytes"] = str(len(blob))
    b0, w = sk_weights(skm, "linear")
    c0, v = mm_weights(cur, "alt_m", None)
    meta["weights_alt_m"] = "%.3g" % rel_diff([c0] + list(v), [b0] + list(w))
    pools = []
    for lib in threadpool_info():
        if lib.get("user_api") in ("blas", "openmp"):
            pools.append(" ".join(str(x) for x in (lib.get("internal_api"), lib.get("version"),
                                                   "threads=%d" % lib.get("num_threads")) if x))
    meta["client_threads"] = "; ".join(pools) or "?"

    times = Times(os.path.join(out, "alternatives_times.txt"))
    for tr in TRAINERS:
        scripts.append(("train " + tr[0], train_sql(tr)))
    scripts.append(("export", "%s  -- fetchall, and COPY (...) TO STDOUT (FORMAT binary)" % export_sql(TRAINERS[0])))
    log("training: a warm-up round, then %d rounds of %s ..." % (
        a.reps, ", ".join("%s (%s)" % (tr[0], "/".join(TRAIN_SIDES)) for tr in TRAINERS)))
    t_phase = time.time()
    for rep in range(0, a.reps + 1):
        for tr in TRAINERS:
            time_train(cur, times, tr, X, y_reg if tr[0] == "linear" else y_lab, rep, meta, nrows)
        if rep:
            log("  round %d of %d done" % (rep, a.reps))
    meta["elapsed_train"] = "%.0f" % (time.time() - t_phase)
    loop_rows = X[:min(prows, LOOP_ROWS)].tolist()
    del X, y_reg, y_lab

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

    res = {"train": {}, "predict": {}}
    for tr in TRAINERS:
        d = {}
        for side in TRAIN_SIDES:
            t = timed("train", tr[0], side)
            if not t:
                raise SystemExit("alternatives.py: no timed %s %s" % (tr[0], side))
            d[side] = med([r["ms"] for r in t])
            d[side + "_all"] = [r["ms"] for r in t]
            if side.endswith("_fit"):
                d[side + "_export"] = med([float(r["extra"]["export_ms"]) for r in t])
        d["r_fit"] = d["mm"] / d["fit"]
        d["r_fetch"] = d["fetch_fit"] / d["mm"]
        d["r_copy"] = d["copy_fit"] / d["mm"]
        res["train"][tr[0]] = d
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


def goal_lines(res):
    """(text, met) per goal."""
    p = res["predict"]
    L = [("per-row predict >= %gx PL/Python + scikit-learn: %.1fx" % (GOAL_PLPY, p["r_plpython"]),
          p["r_plpython"] >= GOAL_PLPY),
         ("per-row predict >= %gx the HTTP service: %.1fx" % (GOAL_HTTP, p["r_http"]),
          p["r_http"] >= GOAL_HTTP)]
    for tr in TRAINERS:
        d = res["train"][tr[0]]
        L.append(("%s train no slower than scikit-learn's fit alone (mm / fit <= %g): %.2f"
                  % (tr[1], GOAL_FIT, d["r_fit"]), d["r_fit"] <= GOAL_FIT))
        L.append(("%s train >= %gx faster than export (psycopg2 fetchall) + fit: %.2fx"
                  % (tr[1], GOAL_EXPORT, d["r_fetch"]), d["r_fetch"] >= GOAL_EXPORT))
    return L


def rate(x):
    return "{:,.0f}".format(x)


def text_table(res, meta):
    L = ["against the alternatives: %s rows x %d features (per-row predict over %s rows), "
         "median of %s executions after a warm-up" % (meta.get("rows", "?"), P,
                                                      meta.get("predict_rows", "?"), meta.get("reps", "?")),
         ""]
    head = ["train (ms)", "mm_train", "sklearn fit", "fetchall+fit", "COPY+fit",
            "mm/fit", "(fetchall+fit)/mm", "(COPY+fit)/mm"]
    rows = []
    for tr in TRAINERS:
        d = res["train"][tr[0]]
        rows.append([tr[1], "%.1f" % d["mm"], "%.1f" % d["fit"], "%.1f" % d["fetch_fit"],
                     "%.1f" % d["copy_fit"], "%.2f" % d["r_fit"], "%.2f" % d["r_fetch"],
                     "%.2f" % d["r_copy"]])
    L.extend(mmbench.aligned(head, rows))
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


def ms_list(xs):
    return ", ".join("%.0f" % x if x >= 1000 else "%.1f" % x for x in xs)


def section(res, meta):
    rows = meta.get("rows", "?")
    reps = meta.get("reps", "?")
    prows = meta.get("predict_rows", "?")
    p = res["predict"]
    goals = goal_lines(res)
    L = [SECTION, ""]
    L.append("Generated by `bash bench/alternatives.sh` on %s (commit %s)."
             % (meta.get("date", "?"), meta.get("commit", "?")))
    L.append("massmodel against what users pick instead, side by side in one run on")
    L.append("the same rows: scikit-learn fitting rows already in memory, the whole")
    L.append("path of exporting them with psycopg2 and fitting, per-row prediction")
    L.append("through PL/Python + scikit-learn inside the database, and a Python HTTP")
    L.append("service beside it.  Ratios are the result; no time is asserted.")
    L.append("")
    L.append("**Goals:**")
    L.append("")
    for text, ok in goals:
        goal, _, measured = text.rpartition(": ")
        L.append("- %s: **%s** (%s)" % (goal, met(ok), measured))
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("One table generated in SQL after `setseed()` (one serial statement, so")
    L.append("the same `ROWS` gives the same table): `alt_t`, %s rows of 20 `float8`" % rows)
    L.append("features `x1 .. x20` (`x_i` uniform in [-i, i]), a `float8` target")
    L.append("`y = 3 + sum_i ((i % 7) - 3 + i/10) x_i` plus uniform noise in [-0.5,")
    L.append("0.5], and an `integer` `label`, 1 with probability `1 / (1 + exp(-s))`,")
    L.append("`s = 0.3 + sum_i ((i % 5) - 1.7) / (2i) x_i` (the classes overlap;")
    L.append("share of 1: %s); `alt_sub`, its first %s rows, for the per-row" % (meta.get("share_of_1", "?"), prows))
    L.append("paths.  Both are frozen, analyzed and prewarmed (%s)." % meta.get("table_size", "?"))
    L.append("The server runs with `shared_preload_libraries = 'massmodel'`; every")
    L.append("session, the client's and those the exports open, has %s." % meta.get("session", "?"))
    L.append("Everything is timed in the one client process (bench/alternatives.py,")
    L.append("Debian's `/usr/bin/python3`) with `time.perf_counter()` around the")
    L.append("whole call, a statement's round trip included: a warm-up round, then")
    L.append("%s rounds in which the compared sides alternate; figures are medians" % reps)
    L.append("and a ratio is the ratio of two medians.")
    L.append("")
    L.append("**Training**, per trainer, each side on the same %s rows:" % rows)
    L.append("")
    L.append("- **mm_train**: `SELECT version, metrics FROM %s`" % short_train(TRAINERS[0]))
    L.append("  and the same with `'logistic_regression'` and target `label` (model")
    L.append("  `alt_log`), with massmodel's defaults otherwise: logistic regression")
    L.append("  minimises C sum(log-loss) + 1/2 |w|^2 with C 1 (`penalty` `'l2'`) on")
    L.append("  standardised features (`scale` `'standard'`: population standard")
    L.append("  deviation), by Newton iterations.  `test_fraction => 0` makes it fit")
    L.append("  every row, like scikit-learn; it then also scores them (the metrics;")
    L.append("  for linear regression a second scan) and stores a version, work the")
    L.append("  scikit-learn side does not do.")
    L.append("- **sklearn fit**: `LinearRegression().fit(X, y)` and")
    L.append("  `make_pipeline(StandardScaler(), LogisticRegression(C=1.0,")
    L.append("  penalty='l2')).fit(X, y)` (lbfgs, default `tol` and `max_iter`: the")
    L.append("  same objective), `X` a float64 numpy array of the rows already in")
    L.append("  memory (read once before the timing); only the fit is timed.")
    L.append("- **fetchall + fit**, the whole path a user takes: a new psycopg2")
    L.append("  connection, `SELECT x1, ..., x20, y FROM alt_t` (`label::float8` for")
    L.append("  logistic), `cursor.fetchall()`, `numpy.array(rows)`, then the same fit.")
    L.append("  The goal's export.")
    L.append("- **COPY + fit**: the same with `COPY (...) TO STDOUT (FORMAT binary)`")
    L.append("  (`copy_expert` into memory) decoded by numpy instead of the fetch: the")
    L.append("  fastest export from Python we know of, for information.")
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
    L.append("Training, %s rows, median of %s executions, in ms:" % (rows, reps))
    L.append("")
    L.append("| trainer | mm_train | sklearn fit | fetchall + fit (export part) | COPY + fit (export part) | mm_train / fit (goal <= %g) | (fetchall + fit) / mm_train (goal >= %g) | (COPY + fit) / mm_train |" % (GOAL_FIT, GOAL_EXPORT))
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tr in TRAINERS:
        d = res["train"][tr[0]]
        L.append("| %s | %.1f | %.1f | %.1f (%.1f) | %.1f (%.1f) | **%.2f** (%s) | **%.2f** (%s) | %.2f |" % (
            tr[1], d["mm"], d["fit"], d["fetch_fit"], d["fetch_fit_export"], d["copy_fit"],
            d["copy_fit_export"], d["r_fit"], met(d["r_fit"] <= GOAL_FIT), d["r_fetch"],
            met(d["r_fetch"] >= GOAL_EXPORT), d["r_copy"]))
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
    L.append("The trainers fit the same models: the largest relative difference")
    L.append("between massmodel's intercept and weights (`mm_weights`, in the units")
    L.append("of the columns) and scikit-learn's is %s for linear regression and"
             % meta.get("weights_linear", "?"))
    mm_log = json.loads(meta.get("mm_logistic_metrics", "{}") or "{}")
    mm_lin = json.loads(meta.get("mm_linear_metrics", "{}") or "{}")
    L.append("%s for logistic regression (scikit-learn's lbfgs stops at its default" % meta.get("weights_logistic", "?"))
    L.append("`tol` 1e-4 after %s iterations, massmodel's Newton at a gradient" % meta.get("sk_logistic_iter", "?"))
    L.append("of 1e-8); training accuracy %s (massmodel) and %s (scikit-learn), r2" % (
        mm_log.get("accuracy", "?"), meta.get("sk_logistic_score", "?")))
    L.append("%s and %s." % (mm_lin.get("r2", "?"), meta.get("sk_linear_score", "?")))
    if meta.get("warnings"):
        L.append("")
        L.append("scikit-learn's warnings during the fits: %s." % meta["warnings"].replace(" || ", "; "))
    L.append("")
    L.append("All timed executions (ms):")
    L.append("")
    for tr in TRAINERS:
        d = res["train"][tr[0]]
        for side, label in (("mm", "mm_train"), ("fit", "sklearn fit"), ("fetch_fit", "fetchall + fit"),
                            ("copy_fit", "COPY + fit")):
            L.append("- %s, %s: %s" % (tr[0], label, ms_list(d[side + "_all"])))
    for side, label in (("mm", "mm_predict"), ("plpython", "PL/Python"), ("http", "HTTP service")):
        L.append("- per-row predict, %s: %s" % (label, ms_list(p[side + "_all"])))
    if "sk_loop_us" in p:
        L.append("- scikit-learn predict alone, %d rows: %s" % (p["sk_loop_rows"], ms_list(p["sk_loop_all"])))
    L.append("")
    L.append("### Reading the figures")
    L.append("")
    lin, lg = res["train"]["linear"], res["train"]["logistic"]
    L.append("- The fit alone is scikit-learn's best case: the rows are already a")
    L.append("  numpy array in the process, and nothing is scored or stored.")
    L.append("  mm_train's time includes reading the table, scoring the rows and")
    L.append("  storing the version; for logistic regression also the training profile")
    L.append("  that `mm_drift` compares with (each feature's deciles over the training")
    L.append("  rows).  scikit-learn runs with its default thread pools")
    L.append("  (%s); massmodel with `mm.blas_threads = 1`" % meta.get("client_threads", "?"))
    L.append("  (its default).")
    L.append("- Of fetchall + fit, the export (connect, fetch, `numpy.array`) takes")
    L.append("  %.0f ms for linear regression and %.0f ms for logistic regression" % (
        lin["fetch_fit_export"], lg["fetch_fit_export"]))
    L.append("  (medians): `fetchall()` builds one Python object per value before")
    L.append("  numpy copies them.  The binary COPY export takes %.0f and %.0f ms;" % (
        lin["copy_fit_export"], lg["copy_fit_export"]))
    L.append("  it is not the path most code takes.")
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
    L.append("### Machine")
    L.append("")
    L.extend(mmbench.machine_lines(meta, "`shared_preload_libraries = '%s'`, massmodel defaults (`mm.blas_threads = 1`)"
                                   % meta.get("preload", "?")))
    L.append("- client: %s; PL/Python: %s" % (meta.get("client_versions", "?"), meta.get("server_versions", "?")))
    L.append("")
    L.append("### Reproduce")
    L.append("")
    L.append("```")
    L.append("make && make install      # as root, in the checkout")
    L.append("bash bench/alternatives.sh")
    L.append("ROWS=200000 PREDICT_ROWS=20000 REPS=3 bash bench/alternatives.sh")
    L.append("```")
    L.append("")
    L.append("It installs what it compares with when it is missing (`bash")
    L.append("scripts/deps.sh --bench`, as root: postgresql-plpython3-15,")
    L.append("python3-psycopg2, python3-sklearn, python3-numpy, python3-matplotlib),")
    L.append("starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchalt"), meta.get("port", "55465")))
    L.append("`BENCH_PORT=...` for another) and stops it, and the HTTP service, at the")
    L.append("end (this run took %s s: training %s s, per-row predict %s s; the" % (
        meta.get("elapsed", "?"), meta.get("elapsed_train", "?"), meta.get("elapsed_predict", "?")))
    L.append("cluster's start and stop not counted).  `ROWS=...` (default 1000000),")
    L.append("`PREDICT_ROWS=...` (default 100000, the rows of the per-row paths) and")
    L.append("`REPS=...` (default 5, at least 3) change the sizes and the repetitions;")
    L.append("`ALT_DOC=` writes no document.  One line per execution is kept in")
    L.append("bench/results/alternatives_times.txt, the checks and versions in")
    L.append("alternatives_meta.txt, the SQL in alternatives_sql.txt, the table in")
    L.append("alternatives_summary.txt.  `python3 bench/alternatives.py report --out")
    L.append("bench/results --doc docs/benchmarks.md` rewrites this section from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    out = a.out
    meta = mmbench.read_meta(NAME, out)
    res = summarize(read_times(os.path.join(out, "alternatives_times.txt")))
    mmbench.write_summary(NAME, out, text_table(res, meta))
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(res, meta))


def main(argv):
    if len(argv) == 2 and argv[1] == "serve":
        serve()
        return

    def extra(ap):
        ap.add_argument("--predict-rows", type=int, default=100000)

    a = mmbench.parse_args(NAME, argv, __doc__, rows=1000000, reps=5, port="55465",
                           cluster="benchalt", extra=extra)
    if a.command == "run":
        if not 1000 <= a.predict_rows <= a.rows:
            raise SystemExit("alternatives.py: --predict-rows must be from 1000 to --rows")
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
