"""Driver of the serving benchmark (bench/serving.sh): batch and single-row
prediction, the cold first predict of a new connection, the memory of a
backend over many predictions, and parallel query.

    python3 bench/serving.py run --rows N --reps R --out DIR --doc DOC
                                 [--calls C] [--cold K] [--predictions P]
                                 [--pgbench PATH] [--img DIR] [--top DIR]
                                 [--port P] [--cluster NAME]
    python3 bench/serving.py report --out DIR --doc DOC [--img DIR] [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/serving.sh
exports them for its private cluster, started with massmodel in
shared_preload_libraries) through psql, psycopg2 and pgbench; Debian's
/usr/bin/python3 with python3-psycopg2 and (for the figures)
python3-matplotlib.  It

  1. generates in SQL, after setseed(), the table t (N rows: 20 float8
     features x1..x20, x_i uniform in [-i, i], and a float8 target y, as
     bench/setup.sql and bench/scale.py do) and, after another setseed(),
     t_fit (min(N, 50000) rows of the same distribution with a 0/1 label);
     freezes, analyzes and prewarms them, and trains, deploy default:
     lin = linear_regression on t, cls = logistic_regression on t_fit
     (label), mlp = mlp on t_fit (y; hidden_layers [64], 20 epochs),
     km = kmeans on t_fit (k 8); the hand-written formulas are lin's and
     cls's weights from mm_weights;
  2. batch: one psql session (max_parallel_workers_per_gather = 0, jit =
     off) runs every statement over t once as a warm-up, then REPS rounds
     (the order reversed in even rounds), each execution timed by
     clock_timestamp() around EXECUTE in the procedure serve_run;
  3. single: which queries a predict runs inside the server (auto_explain,
     nested statements), then pgbench -M prepared, one client, C
     transactions of one statement (SELECT 1, the formula, lin's and mlp's
     predict of the float8[] parameter), REPS rounds (order reversed in
     even rounds); the per-transaction log gives the median latency;
  4. cold: K rounds of new psycopg2 connections, one per statement kind
     (SELECT 1, formula, lin predict, mlp predict), the first and the second
     execution of the statement timed in the client;
  5. memory: per case (lin row and array input, mlp array input, formula) a
     new backend; /proc/PID/status (VmRSS, VmHWM, RssAnon) and the total of
     pg_backend_memory_contexts before any predict, after a statement of
     P/10 and after one of P predictions over generate_series;
  6. parallel: serve_run with max_parallel_workers_per_gather 0 and 2
     alternating (min_parallel_table_scan_size = 0, the parallel costs at
     their defaults): the plain scan, lin's and mlp's row predict, mm_train
     linear_regression and ridge (test_fraction 0.2, deploy never); the plans
     with 2 workers are recorded (EXPLAIN ANALYZE, and auto_explain for the
     scan inside mm_train);
  7. reports (as `report` does).

report reads DIR/serving_*.txt and writes DIR/serving_summary.txt (printed
on stdout), DIR/serving_ratios.json (the headline figures, stable keys), the
figures IMG/serving_batch.png, serving_latency.png, serving_memory.png and
serving_parallel.png (IMG defaults to docs/img), and the section "## Serving:
latency, cold start, memory, parallel query" of DOC, replacing it if it is
there (up to the next "## " heading) and appending it otherwise; DOC empty
writes none.  No time is asserted.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing mmbench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmbench  # noqa: E402
from mmbench import med, ms_list  # noqa: E402

NAME = "serving"
SECTION = "## Serving: latency, cold start, memory, parallel query"
P = 20  # features
FIT_ROWS = 50000  # rows of t_fit (at most ROWS)
XS = ", ".join("x%d" % i for i in range(1, P + 1))
FEATURES = "ARRAY[%s]" % ", ".join("'x%d'" % i for i in range(1, P + 1))
OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"
MLP_PARAMS = '{"hidden_layers": [64], "epochs": 20}'
KM_PARAMS = '{"k": 8}'

# The one input of the single-row and cold statements: x_j in [-j, j].
X_IN = [round(j * (((j * 37) % 101) / 50.5 - 1), 4) for j in range(1, P + 1)]
X_LIT = "{" + ",".join(repr(v) for v in X_IN) + "}"

TRAINS = [
    ("lin", "SELECT model, version, deployed FROM mm_train('lin', 'linear_regression', 't', 'y')"),
    ("cls", "SELECT model, version, deployed FROM mm_train('cls', 'logistic_regression', 't_fit', 'label', "
            "features => %s)" % FEATURES),
    ("mlp", "SELECT model, version, deployed FROM mm_train('mlp', 'mlp', 't_fit', 'y', features => %s, "
            "params => '%s')" % (FEATURES, MLP_PARAMS)),
    ("km", "SELECT model, version, deployed FROM mm_train('km', 'kmeans', 't_fit', features => %s, "
           "params => '%s')" % (FEATURES, KM_PARAMS)),
]

# Batch: (key, statement; None for the formulas, made from the weights).
BATCH = [
    ("scan", "SELECT sum(%s) FROM t" % " + ".join("x%d" % i for i in range(1, P + 1))),
    ("formula", None),
    ("linear_row", "SELECT sum(mm_predict('lin', t.*)) FROM t"),
    ("linear_array", "SELECT sum(mm_predict('lin', ARRAY[%s])) FROM t" % XS),
    ("logistic_formula", None),
    ("logistic_row", "SELECT sum(mm_predict('cls', t.*)) FROM t"),
    ("logistic_proba_row", "SELECT sum((mm_predict_proba('cls', t.*))[2]) FROM t"),
    ("logistic_proba_array", "SELECT sum((mm_predict_proba('cls', ARRAY[%s]))[2]) FROM t" % XS),
    ("mlp_row", "SELECT sum(mm_predict('mlp', t.*)) FROM t"),
    ("mlp_array", "SELECT sum(mm_predict('mlp', ARRAY[%s])) FROM t" % XS),
    ("kmeans_row", "SELECT sum(mm_predict('km', t.*)) FROM t"),
    ("kmeans_array", "SELECT sum(mm_predict('km', ARRAY[%s])) FROM t" % XS),
]
BATCH_KEYS = [k for k, _ in BATCH]
FLOORS = ("scan", "formula", "logistic_formula")
BATCH_DESC = {
    "scan": "plain scan `sum(x1 + ... + x20)`",
    "formula": "hand-written linear formula",
    "linear_row": "linear_regression, row `t.*`",
    "linear_array": "linear_regression, `ARRAY[x1, ..., x20]`",
    "logistic_formula": "hand-written logistic formula `1 / (1 + exp(-(b0 + w.x)))`",
    "logistic_row": "logistic_regression, `mm_predict` (the label), row",
    "logistic_proba_row": "logistic_regression, `mm_predict_proba(...)[2]`, row",
    "logistic_proba_array": "logistic_regression, `mm_predict_proba(...)[2]`, array",
    "mlp_row": "mlp [64], row",
    "mlp_array": "mlp [64], array",
    "kmeans_row": "kmeans k=8, row",
    "kmeans_array": "kmeans k=8, array",
}

PARALLEL = [
    ("scan", BATCH[0][1]),
    ("linear_row", "SELECT sum(mm_predict('lin', t.*)) FROM t"),
    ("mlp_row", "SELECT sum(mm_predict('mlp', t.*)) FROM t"),
    ("train_linear", "SELECT metrics->>'rmse' FROM mm_train('p', 'linear_regression', 't', 'y', "
                     "test_fraction => 0.2, deploy => 'never')"),
    ("train_ridge", "SELECT metrics->>'rmse' FROM mm_train('pr', 'ridge', 't', 'y', "
                    "test_fraction => 0.2, deploy => 'never')"),
    ("train_linear_direct", "SELECT serve_train_direct('pd', 'linear_regression')"),
    ("train_ridge_direct", "SELECT serve_train_direct('prd', 'ridge')"),
]
# the parallel phase reads through the query (mm.direct_scan = off), whose
# plan may be parallel; the *_direct trains read the table directly (the
# default), with parallel workers of the direct read's own
PARALLEL_EXTRA = "SET mm.direct_scan = off;\n"
DIRECT_KEYS = [k for k, _ in PARALLEL if k.endswith("_direct")]
PARALLEL_KEYS = [k for k, _ in PARALLEL]
PARALLEL_DESC = {
    "scan": "plain scan `SELECT sum(x1 + ... + x20) FROM t`",
    "linear_row": "batch predict `SELECT sum(mm_predict('lin', t.*)) FROM t`",
    "mlp_row": "batch predict `SELECT sum(mm_predict('mlp', t.*)) FROM t`",
    "train_linear": "`mm_train('p', 'linear_regression', 't', 'y', test_fraction => 0.2, deploy => 'never')`",
    "train_ridge": "`mm_train('pr', 'ridge', 't', 'y', test_fraction => 0.2, deploy => 'never')`",
    "train_linear_direct": "the same linear_regression train with `mm.direct_scan = on` (the direct read, its own workers)",
    "train_ridge_direct": "the same ridge train with `mm.direct_scan = on` (the direct read, its own workers)",
}

SINGLE_KEYS = ["select1", "formula", "linear", "mlp"]
COLD_KEYS = ["select1", "formula", "linear", "mlp"]
MEMORY_KEYS = ["formula", "linear_row", "linear_array", "mlp_array"]
MEMORY_DESC = {
    "formula": "hand-written linear formula (array input)",
    "linear_row": "`mm_predict('lin', s.*)`, row input",
    "linear_array": "`mm_predict('lin', x)`, float8[] input",
    "mlp_array": "`mm_predict('mlp', x)`, float8[] input",
}
MEM_STEPS = ("before", "after_1", "after_2")


def log(msg):
    mmbench.log(NAME, msg)


def psql_text(sql):
    return mmbench.psql_text(NAME, sql)


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def psql_both(sql, flags=()):
    """Runs the script sql in one psql session (psql's options flags added);
    returns (stdout, stderr)."""
    r = subprocess.run(mmbench.PSQL + list(flags), input=sql, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("serving.py: psql failed: %s" % r.stderr.strip()[-2000:])
    return r.stdout, r.stderr


def auto_explain_blocks(stderr):
    """The NOTICEs of auto_explain: a list of (query text, plan lines)."""
    out = []
    for b in re.split(r"^NOTICE:  duration: [0-9.]+ ms  plan:\n", stderr, flags=re.M)[1:]:
        lines = [x for x in b.splitlines() if x.strip()]
        if not lines:
            continue
        q = lines[0][len("Query Text: "):] if lines[0].startswith("Query Text: ") else lines[0]
        out.append((q, lines[1:]))
    return out


AUTO_EXPLAIN = ("LOAD 'auto_explain';\n"
                "SET auto_explain.log_min_duration = 0;\n"
                "SET auto_explain.log_nested_statements = on;\n"
                "SET auto_explain.log_level = notice;\n"
                "SET client_min_messages = notice;\n")


# ---- SQL ----------------------------------------------------------------------

def setup_sql(rows, fit_rows):
    return """\\set ON_ERROR_STOP on
CREATE EXTENSION massmodel;
CREATE EXTENSION pg_prewarm;
SET max_parallel_workers_per_gather = 0;

-- t: x_i uniform in [-i, i] (i = 1 .. %(p)d),
--   y = 3 + sum_i ((i %% 7) - 3 + i/10) x_i + uniform noise in [-0.5, 0.5]
-- (bench/setup.sql's bench_t; the rows of bench/scale.py's t_n)
SELECT setseed(0.4242);
%(t)s

-- t_fit: %(fit)d more rows of the same distribution, with
--   label = 1 with probability 1 / (1 + exp(-s)),
--   s = 0.3 + sum_i ((i %% 5) - 1.7) / (2 i) x_i (the classes overlap);
-- the classifier, the mlp and kmeans are trained on it
SELECT setseed(0.4343);
%(t_fit)s

VACUUM (FREEZE, ANALYZE) t;
VACUUM (FREEZE, ANALYZE) t_fit;
CHECKPOINT;

-- a train with the direct read of the table (the default), whatever the
-- session's mm.direct_scan: the parallel phase turns it off for the others
CREATE FUNCTION serve_train_direct(m text, alg text) RETURNS text
LANGUAGE sql SET mm.direct_scan = on AS $f$
    SELECT metrics->>'rmse' FROM mm_train(m, alg, 't', 'y', test_fraction => 0.2, deploy => 'never')
$f$;

CREATE TABLE serve_times (
    phase   text NOT NULL,
    label   text NOT NULL,
    workers int NOT NULL,
    rep     int NOT NULL,
    ms      float8,           -- NULL for the warm-up (rep 0)
    result  text
);

-- serve_run(phase, labels, statements, workers, reps): every statement
-- once per setting of max_parallel_workers_per_gather in workers as a
-- warm-up (rep 0), then reps rounds: every statement (in reverse order in
-- even rounds) under every setting (in reverse order in even rounds), each
-- execution timed by clock_timestamp() around EXECUTE and committed on its
-- own; the statement's result is kept too.
CREATE PROCEDURE serve_run(ph text, labels text[], stmts text[], workers int[], reps int)
LANGUAGE plpgsql AS $$
DECLARE
    t0   timestamptz;
    t1   timestamptz;
    res  text;
    n    int := array_length(stmts, 1);
    m    int := array_length(workers, 1);
    i    int;
    w    int;
BEGIN
    FOR j IN 1 .. m LOOP
        PERFORM set_config('max_parallel_workers_per_gather', workers[j]::text, false);
        FOR k IN 1 .. n LOOP
            EXECUTE stmts[k] INTO res;
            INSERT INTO serve_times VALUES (ph, labels[k], workers[j], 0, NULL, res);
        END LOOP;
    END LOOP;
    COMMIT;
    FOR r IN 1 .. reps LOOP
        FOR kk IN 1 .. n LOOP
            i := CASE WHEN r %% 2 = 1 THEN kk ELSE n + 1 - kk END;
            FOR jj IN 1 .. m LOOP
                w := workers[CASE WHEN r %% 2 = 1 THEN jj ELSE m + 1 - jj END];
                PERFORM set_config('max_parallel_workers_per_gather', w::text, false);
                t0 := clock_timestamp();
                EXECUTE stmts[i] INTO res;
                t1 := clock_timestamp();
                INSERT INTO serve_times VALUES (ph, labels[i], w, r,
                                                extract(epoch FROM t1 - t0) * 1000, res);
                COMMIT;
            END LOOP;
        END LOOP;
    END LOOP;
    PERFORM set_config('max_parallel_workers_per_gather', '0', false);
END
$$;

SELECT 't ' || pg_size_pretty(pg_table_size('t')) || ', t_fit ' || pg_size_pretty(pg_table_size('t_fit'));
""" % dict(p=P, rows=rows, fit=fit_rows, t=mmbench.linear_table_sql("t", rows, P),
           t_fit=mmbench.linear_table_sql("t_fit", fit_rows, P, label=True))


def weights_formula(model, by_name):
    """The formula b0 + w1 * x1 + ... + w20 * x20 of model's weights from
    mm_weights (intercept first) as float8 literals (shortest exact text
    with extra_float_digits = 1): the features by column name (by_name) or
    as x[j] of an array x (the training order, checked to be x1..x20)."""
    var = "quote_ident(feature)" if by_name else "'x[' || (ord - 1) || ']'"
    f = psql_text("SET extra_float_digits = 1; "
                  "SELECT string_agg(CASE WHEN feature = 'intercept' THEN format('float8 %%L', weight) "
                  "ELSE format('float8 %%L * %%s', weight, %s) END, ' + ' ORDER BY ord) "
                  "FROM mm_weights('%s') WITH ORDINALITY AS w(class, feature, weight, ord)" % (var, model)
                  ).splitlines()[-1]
    if f.count(" * ") != P:
        raise SystemExit("serving.py: expected %d weights in %s's formula, got: %s" % (P, model, f))
    return f


def check_feature_order(model):
    """mm_weights gives the intercept, then x1..x20: the training feature
    order, which the array input follows (weights_formula relies on it)."""
    names = psql_text("SELECT string_agg(feature, ',' ORDER BY ord) FROM mm_weights('%s') "
                      "WITH ORDINALITY AS w(class, feature, weight, ord)" % model)
    if names != "intercept," + ",".join("x%d" % i for i in range(1, P + 1)):
        raise SystemExit("serving.py: %s's weights are not intercept, x1..x20 in order: %s" % (model, names))


def run_procedure_sql(phase, items, workers, reps, extra=""):
    labels = "ARRAY[%s]" % ", ".join(sql_lit(k) for k, _ in items)
    arr = "ARRAY[%s]" % ",\n        ".join(sql_lit(s) for _, s in items)
    return ("SET max_parallel_workers_per_gather = 0;\nSET jit = off;\n%s"
            "SELECT pg_prewarm('t');\n"
            "CALL serve_run('%s', %s,\n  %s,\n  ARRAY[%s], %d);\n" % (
                extra, phase, labels, arr, ", ".join(str(w) for w in workers), reps))


# ---- run: batch and parallel ------------------------------------------------------

def save_times(out):
    rows = psql_text("SELECT phase, label, workers, rep, coalesce(round(ms::numeric, 3)::text, ''), "
                     "coalesce(result, '') FROM serve_times ORDER BY phase, label, workers, rep")
    with open(os.path.join(out, "serving_times.txt"), "w") as f:
        f.write("phase\tlabel\tworkers\trep\tms\tresult\n")
        for line in rows.splitlines():
            f.write(line.replace("|", "\t") + "\n")


def record_plans(out, meta):
    """The plans with 2 workers: EXPLAIN ANALYZE of the scan and the
    predicts, auto_explain (nested statements, log_analyze) of the trains:
    the scan of mm_linear_stats inside mm_train."""
    pre = ("SET jit = off;\nSET max_parallel_workers_per_gather = 2;\n"
           "SET min_parallel_table_scan_size = 0;\n" + PARALLEL_EXTRA)
    blocks = []
    for key, stmt in PARALLEL:
        if key in DIRECT_KEYS:
            # no query, no plan: the workers as mm_train's verbose NOTICE says
            alg = "ridge" if "ridge" in key else "linear_regression"
            _, se = psql_both(pre + "SET mm.direct_scan = on;\n"
                              "SELECT 1 FROM mm_train('plan_direct', '%s', 't', 'y', test_fraction => 0.2, "
                              "deploy => 'never', params => '{\"verbose\": true}');\n"
                              "SELECT mm_drop('plan_direct');\n" % alg, ["-At"])
            m = re.search(r"read .* rows directly from the table(?: with (\d+) parallel workers?)?", se)
            n = m.group(1) if m and m.group(1) else "0"
            meta["plan_" + key] = "%s;%s;direct" % (n, n)
            blocks.append("=== %s (the direct read, mm_train's verbose NOTICE)\n%s\n"
                          % (key, m.group(0) if m else "(no read NOTICE)"))
            continue
        elif key.startswith("train"):
            _, se = psql_both(pre + AUTO_EXPLAIN + "SET auto_explain.log_analyze = on;\n"
                              "SET auto_explain.log_timing = off;\n" + stmt + ";\n", ["-At"])
            plan = None
            for q, lines in auto_explain_blocks(se):
                if "mm_linear_stats(" in q:
                    plan = "\n".join(lines)
                    break
            if plan is None:
                plan = "(no plan of mm_linear_stats in auto_explain's output)"
            where = "the aggregate scan inside mm_train (auto_explain, nested statements)"
        else:
            so, _ = psql_both(pre + "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + stmt + ";\n",
                              ["-At"])
            plan = "\n".join(x for x in so.splitlines() if x.strip())
            where = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)"
        planned = re.findall(r"Workers Planned: (\d+)", plan)
        launched = re.findall(r"Workers Launched: (\d+)", plan)
        meta["plan_" + key] = "%s;%s;%s" % (planned[0] if planned else "0",
                                            launched[0] if launched else "0",
                                            "parallel" if "Parallel Seq Scan" in plan else "serial")
        blocks.append("=== %s (%s)\n%s\n" % (key, where, plan.rstrip()))
    with open(os.path.join(out, "serving_plans.txt"), "w") as f:
        f.write("\n".join(blocks))


def nested_queries(out, meta):
    """The queries a single-row predict runs inside the server: two
    statements SELECT mm_predict('lin', ...) in one session with
    auto_explain logging nested statements; the nested ones logged between
    the first statement and the second are the second's (the model is then
    cached).  Kept in DIR/serving_nested.txt; meta nested_*."""
    stmt = "SELECT mm_predict('lin', '%s'::float8[]);\n" % X_LIT
    _, se = psql_both("SET jit = off;\n" + AUTO_EXPLAIN + stmt + stmt, ["-At"])
    texts = [q for q, _ in auto_explain_blocks(se)]
    tops = [i for i, x in enumerate(texts) if x.startswith("SELECT mm_predict('lin'")]
    second = texts[tops[0] + 1:tops[1]] if len(tops) >= 2 else []
    first = texts[:tops[0]] if tops else []
    with open(os.path.join(out, "serving_nested.txt"), "w") as f:
        f.write("-- the queries auto_explain logged (nested statements included), in\n"
                "-- order, for two statements %s" % stmt)
        f.write("\n".join(texts) + "\n")
    meta["nested_first"] = str(len(first))
    meta["nested_per_statement"] = str(len(second)) if len(tops) >= 2 else "?"
    meta["nested_queries"] = " | ".join(second)


# ---- run: single-row statements (pgbench) --------------------------------------------

def single_scripts(formula_arr):
    return {"select1": "SELECT 1;\n",
            "formula": "SELECT %s FROM (SELECT :x::float8[] AS x) s;\n" % formula_arr,
            "linear": "SELECT mm_predict('lin', :x::float8[]);\n",
            "mlp": "SELECT mm_predict('mlp', :x::float8[]);\n"}


def run_single(a, scripts, tmp):
    """pgbench, one client, -M prepared, a.calls transactions per run (a
    warm-up round 0 of 1000 not kept); returns the lines of
    serving_single.txt."""
    lines = []
    env = dict(os.environ, PGOPTIONS=OPTIONS)
    paths = {}
    for k in SINGLE_KEYS:
        paths[k] = os.path.join(tmp, "single_%s.sql" % k)
        with open(paths[k], "w") as f:
            f.write(scripts[k])
    for r in range(0, a.reps + 1):
        order = SINGLE_KEYS if r % 2 == 1 or r == 0 else SINGLE_KEYS[::-1]
        for k in order:
            prefix = os.path.join(tmp, "log_%s_%d" % (k, r))
            n = 1000 if r == 0 else a.calls
            cmd = [a.pgbench, "-n", "-M", "prepared", "-c", "1", "-j", "1", "-t", str(n),
                   "-f", paths[k], "-D", "x=" + X_LIT, "-l", "--log-prefix", prefix, "postgres"]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            failed = re.search(r"number of failed transactions: (\d+)", p.stdout)
            if p.returncode != 0 or (failed and int(failed.group(1)) > 0):
                raise SystemExit("serving.py: pgbench failed:\n%s" % p.stdout[-2000:])
            tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", p.stdout)
            lat = []
            for fn in os.listdir(tmp):
                if fn.startswith(os.path.basename(prefix) + "."):
                    with open(os.path.join(tmp, fn)) as f:
                        for line in f:
                            parts = line.split()
                            if len(parts) >= 3:
                                lat.append(int(parts[2]))
                    os.unlink(os.path.join(tmp, fn))
            if len(lat) != n:
                raise SystemExit("serving.py: pgbench logged %d transactions of %d" % (len(lat), n))
            if r == 0:
                continue
            lat.sort()
            lines.append("%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%d\t%d\t%.1f" % (
                k, r, n, statistics.median_grouped(lat, 1), sum(lat) / n,
                1e6 / float(tps.group(1)) if tps else float("nan"),
                lat[int(0.1 * n)], lat[min(n - 1, int(0.9 * n))], statistics.median(lat)))
    return lines


# ---- run: cold first statements (psycopg2) -------------------------------------------

def connect():
    import psycopg2
    conn = psycopg2.connect(dbname="postgres", options=OPTIONS)
    conn.autocommit = True  # no BEGIN: our statement is the backend's first
    return conn


def cold_statements(formula_arr):
    lit = "'%s'::float8[]" % X_LIT
    return {"select1": "SELECT 1",
            "formula": "SELECT %s FROM (SELECT %s AS x) s" % (formula_arr, lit),
            "linear": "SELECT mm_predict('lin', %s)" % lit,
            "mlp": "SELECT mm_predict('mlp', %s)" % lit}


def run_cold(a, stmts):
    """Per round, one new connection per kind (the order rotated by round):
    the first statement, then the same again, each timed in the client;
    round 0 is a warm-up, not kept."""
    lines = []
    results = {}
    n = len(COLD_KEYS)
    for r in range(0, a.cold + 1):
        for k in [COLD_KEYS[(i + r) % n] for i in range(n)]:
            conn = connect()
            cur = conn.cursor()
            t0 = time.perf_counter()
            cur.execute(stmts[k])
            v1 = cur.fetchone()[0]
            t1 = time.perf_counter()
            cur.execute(stmts[k])
            v2 = cur.fetchone()[0]
            t2 = time.perf_counter()
            conn.close()
            results.setdefault(k, set()).update([repr(v1), repr(v2)])
            if r > 0:
                lines.append("%s\t%d\t%.4f\t%.4f" % (k, r, (t1 - t0) * 1000, (t2 - t1) * 1000))
    return lines, results


# ---- run: memory of one backend ---------------------------------------------------

def mem_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                d[k] = int(v.split()[0])
    return d


def memory_features():
    """20 features varying with i (x_j in [-j, j)), cheap to compute."""
    return ["((i %% %d)::float8 / %d * %d - %d)" % (96 + j, 96 + j, 2 * j, j) for j in range(1, P + 1)]


def memory_statements(formula_arr, n):
    f = memory_features()
    series = "(SELECT generate_series(1, %d) AS i) g" % n
    arr = "(SELECT ARRAY[%s] AS x FROM %s OFFSET 0) s" % (", ".join(f), series)
    row = "(SELECT %s FROM %s OFFSET 0) s" % (
        ", ".join("%s AS x%d" % (e, j) for j, e in enumerate(f, 1)), series)
    return {"formula": "SELECT sum(%s) FROM %s" % (formula_arr, arr),
            "linear_row": "SELECT sum(mm_predict('lin', s.*)) FROM %s" % row,
            "linear_array": "SELECT sum(mm_predict('lin', x)) FROM %s" % arr,
            "mlp_array": "SELECT sum(mm_predict('mlp', x)) FROM %s" % arr}


def run_memory(a, formula_arr):
    lines = []
    steps = [("after_1", a.predictions // 10), ("after_2", a.predictions)]
    ctxq = "SELECT sum(total_bytes), sum(used_bytes) FROM pg_backend_memory_contexts"
    for k in MEMORY_KEYS:
        conn = connect()
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        cur.execute(ctxq)  # the view's own first use (catalog caches) before "before"
        cur.fetchone()

        def measure(step, n, ms, res):
            st = mem_status(pid)
            cur.execute(ctxq)
            tot, used = cur.fetchone()
            lines.append("%s\t%s\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s" % (
                k, step, n, ms, st.get("VmRSS", -1), st.get("VmHWM", -1), st.get("RssAnon", -1),
                st.get("RssFile", -1), st.get("RssShmem", -1), int(tot), int(used), res))
        measure("before", 0, 0.0, "")
        for step, n in steps:
            sql = memory_statements(formula_arr, n)[k]
            t0 = time.perf_counter()
            cur.execute(sql)
            res = cur.fetchone()[0]
            ms = (time.perf_counter() - t0) * 1000
            measure(step, n, ms, repr(res))
        conn.close()
        log("  memory: %s done" % k)
    return lines


# ---- run ----------------------------------------------------------------------

def run(a):
    started, meta = mmbench.begin_run(NAME, a)
    fit = min(a.rows, FIT_ROWS)
    meta.update({"calls": str(a.calls), "cold": str(a.cold), "predictions": str(a.predictions),
                 "fit_rows": str(fit)})
    meta["settings"] = "; ".join("%s = %s" % (g, psql_text("SHOW %s" % g)) for g in (
        "shared_buffers", "work_mem", "shared_preload_libraries", "jit", "max_worker_processes",
        "max_parallel_workers", "parallel_setup_cost", "parallel_tuple_cost", "mm.cache_models"))
    meta["pgbench"] = subprocess.run([a.pgbench, "--version"], stdout=subprocess.PIPE,
                                     text=True).stdout.strip()
    import psycopg2
    meta["client"] = "Python %s, psycopg2 %s" % (sys.version.split()[0], psycopg2.__version__.split()[0])
    scripts = []
    tmp = tempfile.mkdtemp(prefix="serving.")
    try:
        sql = setup_sql(a.rows, fit)
        scripts.append(("setup", sql))
        setup_path = os.path.join(a.out, "serving_setup.txt")
        log("generating t (%d rows x %d features) and t_fit (%d rows) ..." % (a.rows, P, fit))
        t0 = time.time()
        mmbench.run_script(NAME, sql, setup_path, "the setup")
        meta["setup_s"] = "%.0f" % (time.time() - t0)
        with open(setup_path) as f:
            sz = [x.strip() for x in f if x.strip().startswith("t ")]
        meta["table_sizes"] = sz[-1] if sz else "?"

        # the models
        log("training lin, cls, mlp, km ...")
        train_lines = []
        for key, stmt in TRAINS:
            t0 = time.time()
            r = psql_text("SET max_parallel_workers_per_gather = 0; SET jit = off; " + stmt)
            train_lines.append("%s\t%.0f\t%s" % (key, (time.time() - t0) * 1000, r.splitlines()[-1]))
            scripts.append(("train %s" % key, stmt))
        with open(os.path.join(a.out, "serving_models.txt"), "w") as f:
            f.write("model\ttrain_ms\tresult\n" + "\n".join(train_lines) + "\n")
        check_feature_order("lin")
        check_feature_order("cls")
        blobs = psql_text("SELECT m.name, v.version, octet_length(v.blob), pg_column_size(v.blob), "
                          "mv.algorithm, mv.size_bytes FROM mm.versions v JOIN mm.models m ON m.id = v.model_id "
                          "JOIN mm_versions mv ON mv.model = m.name AND mv.version = v.version "
                          "WHERE m.name IN ('lin', 'cls', 'mlp', 'km') ORDER BY m.name, v.version")
        with open(os.path.join(a.out, "serving_blobs.txt"), "w") as f:
            f.write("model\tversion\toctet_length\tpg_column_size\talgorithm\tsize_bytes\n")
            for line in blobs.splitlines():
                f.write(line.replace("|", "\t") + "\n")
        formula_cols = weights_formula("lin", True)
        formula_arr = weights_formula("lin", False)
        logit_cols = weights_formula("cls", True)
        stmts = dict(BATCH)
        stmts["formula"] = "SELECT sum(%s) FROM t" % formula_cols
        stmts["logistic_formula"] = "SELECT sum(1 / (1 + exp(-(%s)))) FROM t" % logit_cols
        meta["labels_cls"] = psql_text("SELECT mm_labels('cls')::text")
        # which predicts the planner rewrites into mm_predict_fields (the
        # columns passed as arguments: no row value or array per row)
        rw = []
        for k in BATCH_KEYS:
            if k not in FLOORS:
                plan = psql_text("SET max_parallel_workers_per_gather = 0; "
                                 "EXPLAIN (VERBOSE, COSTS OFF) " + stmts[k])
                rw.append("%s=%s" % (k, "fields" if "mm_predict_fields(" in plan else "call"))
        meta["rewrite"] = " ".join(rw)

        # 1. batch
        items = [(k, stmts[k]) for k in BATCH_KEYS]
        sql = run_procedure_sql("batch", items, [0], a.reps)
        scripts.append(("batch", sql))
        log("batch predict: %d statements, %d rounds ..." % (len(items), a.reps))
        mmbench.run_raw(NAME, sql, os.path.join(a.out, "serving_raw.txt"), "w", "the batch timing")

        # 2. single-row statements
        nested_queries(a.out, meta)
        sc = single_scripts(formula_arr)
        for k in SINGLE_KEYS:
            scripts.append(("single-row %s (pgbench -M prepared -D x='%s')" % (k, X_LIT), sc[k]))
        log("single-row statements: pgbench, %d calls x %d rounds of %d statements ..." % (
            a.calls, a.reps, len(SINGLE_KEYS)))
        lines = run_single(a, sc, tmp)
        with open(os.path.join(a.out, "serving_single.txt"), "w") as f:
            f.write("label\trep\tcalls\tmedian_us\tmean_us\tmean_tps_us\tp10_us\tp90_us\tmedian_int_us\n")
            f.write("\n".join(lines) + "\n")

        # 3. cold first statements
        cs = cold_statements(formula_arr)
        for k in COLD_KEYS:
            scripts.append(("cold %s" % k, cs[k]))
        log("cold first statements: %d new connections per kind ..." % a.cold)
        lines, results = run_cold(a, cs)
        with open(os.path.join(a.out, "serving_cold.txt"), "w") as f:
            f.write("label\tround\tfirst_ms\tsecond_ms\n" + "\n".join(lines) + "\n")
        meta["cold_results"] = "; ".join("%s %s" % (k, ",".join(sorted(results[k]))) for k in COLD_KEYS)

        # 4. memory
        for k in MEMORY_KEYS:
            scripts.append(("memory %s (n = %d, then %d)" % (k, a.predictions // 10, a.predictions),
                            memory_statements(formula_arr, a.predictions)[k]))
        log("memory: %d cases, %d then %d predictions each ..." % (
            len(MEMORY_KEYS), a.predictions // 10, a.predictions))
        lines = run_memory(a, formula_arr)
        with open(os.path.join(a.out, "serving_memory.txt"), "w") as f:
            f.write("label\tstep\tpredictions\tms\tvmrss_kb\tvmhwm_kb\trssanon_kb\trssfile_kb\trssshmem_kb\t"
                    "contexts_total\tcontexts_used\tresult\n" + "\n".join(lines) + "\n")

        # 5. parallel
        sql = run_procedure_sql("parallel", PARALLEL, [0, 2], a.reps,
                                extra="SET min_parallel_table_scan_size = 0;\n" + PARALLEL_EXTRA)
        scripts.append(("parallel", sql))
        log("parallel query: %d statements x workers 0 and 2, %d rounds ..." % (len(PARALLEL), a.reps))
        mmbench.run_raw(NAME, sql, os.path.join(a.out, "serving_raw.txt"), "a", "the parallel timing")
        record_plans(a.out, meta)
        save_times(a.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mmbench.end_run(NAME, a.out, scripts, meta, started)
    report(a)


# ---- report: reading ---------------------------------------------------------------

def read_tsv(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def fnum(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return float("nan")


def load(out):
    d = {"meta": mmbench.read_meta(NAME, out)}
    t = {}
    res = {}
    for r in read_tsv(os.path.join(out, "serving_times.txt")):
        key = (r["phase"], r["label"], int(r["workers"]))
        res.setdefault(key, []).append(r["result"])
        if int(r["rep"]) > 0:
            t.setdefault(key, []).append(float(r["ms"]))
    d["times"], d["results"] = t, res
    for k in ("single", "cold", "memory", "blobs", "models"):
        d[k] = read_tsv(os.path.join(out, "serving_%s.txt" % k))
    d["plans"] = {}
    with open(os.path.join(out, "serving_plans.txt")) as f:
        for blk in f.read().split("=== ")[1:]:
            head, _, body = blk.partition("\n")
            key = head.split()[0]
            d["plans"][key] = (head[len(key):].strip()[1:-1], body.rstrip())
    return d


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def summarize(d):
    meta = d["meta"]
    rows = int(meta["rows"])
    s = {"rows": rows}
    t = d["times"]
    b = {}
    for k in BATCH_KEYS:
        ms = med(t.get(("batch", k, 0), []))
        b[k] = {"ms": ms, "rows_per_s": rows / (ms / 1000)}
    for k in BATCH_KEYS:
        b[k]["ratio_formula"] = b[k]["ms"] / b["formula"]["ms"]
        b[k]["ratio_scan"] = b[k]["ms"] / b["scan"]["ms"]
        b[k]["ratio_logistic_formula"] = b[k]["ms"] / b["logistic_formula"]["ms"]
        b[k]["ns_row"] = b[k]["ms"] * 1e6 / rows
        b[k]["net_ns_row"] = (b[k]["ms"] - b["scan"]["ms"]) * 1e6 / rows
    s["batch"] = b
    r = d["results"]

    def one(k):
        vals = r.get(("batch", k, 0), [])
        return (fnum(vals[0]) if vals else float("nan")), len(set(vals))
    f = one("formula")[0]
    lf = one("logistic_formula")[0]
    s["agree"] = {"linear_row": rel(one("linear_row")[0], f), "linear_array": rel(one("linear_array")[0], f),
                  "logistic_proba_row": rel(one("logistic_proba_row")[0], lf),
                  "logistic_proba_array": rel(one("logistic_proba_array")[0], lf),
                  "mlp": rel(one("mlp_row")[0], one("mlp_array")[0]),
                  "kmeans": rel(one("kmeans_row")[0], one("kmeans_array")[0])}
    s["deterministic"] = all(one(k)[1] == 1 for k in BATCH_KEYS)
    sg = {}
    for k in SINGLE_KEYS:
        rs = [x for x in d["single"] if x["label"] == k]
        sg[k] = {"median_us": med([fnum(x["median_us"]) for x in rs]),
                 "mean_us": med([fnum(x["mean_us"]) for x in rs]),
                 "p10_us": med([fnum(x["p10_us"]) for x in rs]),
                 "p90_us": med([fnum(x["p90_us"]) for x in rs]),
                 "runs": [fnum(x["median_us"]) for x in rs]}
    for k in SINGLE_KEYS:
        sg[k]["ratio_formula"] = sg[k]["median_us"] / sg["formula"]["median_us"]
        sg[k]["ratio_select1"] = sg[k]["median_us"] / sg["select1"]["median_us"]
        sg[k]["over_select1_us"] = sg[k]["median_us"] - sg["select1"]["median_us"]
        sg[k]["over_formula_us"] = sg[k]["median_us"] - sg["formula"]["median_us"]
    s["single"] = sg
    c = {}
    for k in COLD_KEYS:
        rs = [x for x in d["cold"] if x["label"] == k]
        c[k] = {"first_ms": med([fnum(x["first_ms"]) for x in rs]),
                "second_ms": med([fnum(x["second_ms"]) for x in rs]), "n": len(rs)}
    for k in COLD_KEYS:
        c[k]["load_ms"] = c[k]["first_ms"] - c["formula"]["first_ms"]
        c[k]["first_minus_second_ms"] = c[k]["first_ms"] - c[k]["second_ms"]
    s["cold"] = c
    s["blob"] = {x["model"]: {"octet_length": int(x["octet_length"]), "stored": int(x["pg_column_size"]),
                              "algorithm": x["algorithm"], "version": int(x["version"])} for x in d["blobs"]}
    mem = {}
    for x in d["memory"]:
        mem.setdefault(x["label"], {})[x["step"]] = {
            "predictions": int(x["predictions"]), "ms": fnum(x["ms"]),
            "vmrss": int(x["vmrss_kb"]) / 1024, "vmhwm": int(x["vmhwm_kb"]) / 1024,
            "rssanon": int(x["rssanon_kb"]) / 1024, "rssfile": int(x["rssfile_kb"]) / 1024,
            "rssshmem": int(x["rssshmem_kb"]) / 1024, "contexts": int(x["contexts_total"]) / 1048576,
            "contexts_used": int(x["contexts_used"]) / 1048576, "result": x["result"]}
    s["memory"] = mem
    par = {}
    for k in PARALLEL_KEYS:
        t0 = med(t.get(("parallel", k, 0), []))
        t2 = med(t.get(("parallel", k, 2), []))
        plan = meta.get("plan_" + k, "0;0;serial").split(";")
        par[k] = {"ms0": t0, "ms2": t2, "speedup": t0 / t2, "planned": int(plan[0]),
                  "launched": int(plan[1]), "parallel_scan": plan[2] == "parallel",
                  "direct": plan[2] == "direct",
                  "results0": sorted(set(r.get(("parallel", k, 0), []))),
                  "results2": sorted(set(r.get(("parallel", k, 2), [])))}
    s["parallel"] = par
    return s


def plan_kind(x):
    """How a statement of the parallel phase read the table with 2 workers."""
    if x.get("direct"):
        return "direct read, %d workers" % x["launched"]
    return "Parallel Seq Scan" if x["parallel_scan"] else "serial"


def ratios_json(s, meta):
    """The headline figures, for a summary plot; the keys are stable (the
    memory steps are called after_1m and after_10m whatever PREDICTIONS
    was; memory_predictions says what they were)."""
    b, sg, c, mem, par = s["batch"], s["single"], s["cold"], s["memory"], s["parallel"]
    names = (("linear", "lin"), ("logistic", "cls"), ("mlp", "mlp"), ("kmeans", "km"))
    return {
        "rows": s["rows"], "reps": int(meta.get("reps", 0)), "date": meta.get("date"),
        "commit": meta.get("commit"),
        "batch_predict": {k: dict({"rows_per_s": round(b[k]["rows_per_s"]),
                                   "ratio_to_formula": round(b[k]["ratio_formula"], 4),
                                   "ratio_to_scan": round(b[k]["ratio_scan"], 4)},
                                  **({"ratio_to_logistic_formula": round(b[k]["ratio_logistic_formula"], 4)}
                                     if k.startswith("logistic") else {}))
                          for k in BATCH_KEYS},
        "single_row": {k: {"median_us": round(sg[k]["median_us"], 2),
                           "ratio_to_formula": round(sg[k]["ratio_formula"], 4),
                           "ratio_to_select1": round(sg[k]["ratio_select1"], 4)} for k in SINGLE_KEYS},
        "single_row_latency_ratio": round(sg["linear"]["ratio_formula"], 4),
        "cold_load_ms": {k: round(c[k]["load_ms"], 3) for k in ("linear", "mlp")},
        "cold_first_ms": {k: round(c[k]["first_ms"], 3) for k in COLD_KEYS},
        "blob_bytes": {n: s["blob"][m]["octet_length"] for n, m in names if m in s["blob"]},
        "memory_predictions": {"after_1m": int(meta.get("predictions", 0)) // 10,
                               "after_10m": int(meta.get("predictions", 0))},
        "memory_mb": {k: {step: {"vmrss": round(mem[k][st]["vmrss"], 2),
                                 "vmhwm": round(mem[k][st]["vmhwm"], 2),
                                 "rssanon": round(mem[k][st]["rssanon"], 2),
                                 "contexts": round(mem[k][st]["contexts"], 3)}
                          for step, st in zip(("before", "after_1m", "after_10m"), MEM_STEPS)}
                      for k in MEMORY_KEYS if k in mem},
        "parallel_speedup": {k: round(par[k]["speedup"], 4) for k in PARALLEL_KEYS},
        "parallel_workers_launched": {k: par[k]["launched"] for k in PARALLEL_KEYS},
        "parallel_seq_scan": {k: par[k]["parallel_scan"] for k in PARALLEL_KEYS},
    }


# ---- report: text ---------------------------------------------------------------

def text_table(s, meta):
    b, sg, c, mem, par = s["batch"], s["single"], s["cold"], s["memory"], s["parallel"]
    n2 = int(meta.get("predictions", 0))
    L = ["serving, %s rows, medians of %s runs (%s)" % (meta.get("rows"), meta.get("reps"), meta.get("date"))]
    L.append("")
    L.append("batch predict (one statement over t):")
    L += mmbench.aligned(["statement", "ms", "rows/s", "ns/row", "/ formula", "/ scan"],
                         [[k, "%.1f" % b[k]["ms"], "{:,.0f}".format(b[k]["rows_per_s"]), "%.0f" % b[k]["ns_row"],
                           "%.2f" % b[k]["ratio_formula"], "%.2f" % b[k]["ratio_scan"]] for k in BATCH_KEYS])
    L.append("")
    L.append("single-row statements (pgbench -M prepared, %s calls per run):" % meta.get("calls"))
    L += mmbench.aligned(["statement", "median us", "mean us", "/ formula", "/ SELECT 1"],
                         [[k, "%.1f" % sg[k]["median_us"], "%.1f" % sg[k]["mean_us"],
                           "%.2f" % sg[k]["ratio_formula"], "%.2f" % sg[k]["ratio_select1"]] for k in SINGLE_KEYS])
    L.append("nested queries per single-row predict: %s" % meta.get("nested_per_statement", "?"))
    L.append("")
    L.append("first statement of a new connection (%s connections each):" % meta.get("cold"))
    L += mmbench.aligned(["statement", "first ms", "second ms", "first - formula's first ms"],
                         [[k, "%.3f" % c[k]["first_ms"], "%.3f" % c[k]["second_ms"],
                           "%.3f" % c[k]["load_ms"]] for k in COLD_KEYS])
    L.append("blobs: " + ", ".join("%s %d bytes" % (m, v["octet_length"]) for m, v in sorted(s["blob"].items())))
    L.append("")
    L.append("memory of one backend, MB (VmRSS / VmHWM / RssAnon / memory contexts):")
    rows = []
    for k in MEMORY_KEYS:
        if k in mem:
            rows.append([k] + ["%.1f / %.1f / %.1f / %.2f" % (
                mem[k][st]["vmrss"], mem[k][st]["vmhwm"], mem[k][st]["rssanon"], mem[k][st]["contexts"])
                for st in MEM_STEPS])
    L += mmbench.aligned(["case", "before", "after %d" % (n2 // 10), "after %d more" % n2], rows)
    L.append("")
    L.append("parallel query (max_parallel_workers_per_gather 0 vs 2):")
    L += mmbench.aligned(["statement", "ms at 0", "ms at 2", "speedup", "workers planned/launched", "plan"],
                         [[k, "%.1f" % par[k]["ms0"], "%.1f" % par[k]["ms2"], "%.2f" % par[k]["speedup"],
                           "%d/%d" % (par[k]["planned"], par[k]["launched"]), plan_kind(par[k])]
                          for k in PARALLEL_KEYS])
    return "\n".join(L) + "\n"


# ---- report: figures ---------------------------------------------------------------

def figures(s, meta, img):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(img, exist_ok=True)
    b, sg, c, mem, par = s["batch"], s["single"], s["cold"], s["memory"], s["parallel"]
    written = []

    # batch predict rows/s, the floors in grey and as lines
    keys = BATCH_KEYS[::-1]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.barh(range(len(keys)), [b[k]["rows_per_s"] / 1e6 for k in keys],
            color=["0.6" if k in FLOORS else "C0" for k in keys])
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(keys, fontsize=8)
    ax.axvline(b["scan"]["rows_per_s"] / 1e6, color="k", linestyle="--", linewidth=1,
               label="plain scan (%.2fM rows/s)" % (b["scan"]["rows_per_s"] / 1e6))
    ax.axvline(b["formula"]["rows_per_s"] / 1e6, color="C3", linestyle=":", linewidth=1.5,
               label="hand-written linear formula (%.2fM rows/s)" % (b["formula"]["rows_per_s"] / 1e6))
    for i, k in enumerate(keys):
        ax.text(b[k]["rows_per_s"] / 1e6, i, " %.2f" % b[k]["ratio_formula"], va="center", fontsize=7)
    ax.set_xlabel("million rows per second (median of %s runs); at each bar: its time / the formula's"
                  % meta.get("reps"), fontsize=8)
    ax.set_title("massmodel: batch predict, one statement over %s rows" % fmt_int(s["rows"]))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "serving_batch.png"), dpi=100)
    plt.close(fig)
    written.append("serving_batch.png")

    # single-row latency and the first statement of a new connection
    ticks = ["SELECT 1", "formula", "lin predict", "mlp predict"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.5, 4))
    ax1.bar(range(len(SINGLE_KEYS)), [sg[k]["median_us"] for k in SINGLE_KEYS],
            color=["0.6", "0.6", "C0", "C0"])
    for i, k in enumerate(SINGLE_KEYS):
        ax1.text(i, sg[k]["median_us"], "%.0f" % sg[k]["median_us"], ha="center", va="bottom", fontsize=8)
    ax1.set_xticks(range(len(SINGLE_KEYS)))
    ax1.set_xticklabels(ticks, fontsize=8)
    ax1.set_ylabel("median latency per statement, us")
    ax1.set_title("one prepared statement, %s calls (pgbench)" % fmt_int(meta.get("calls", 0)), fontsize=9)
    ax1.grid(True, axis="y", alpha=0.3)
    ax2.bar([i - 0.2 for i in range(len(COLD_KEYS))], [c[k]["first_ms"] for k in COLD_KEYS], width=0.4,
            label="first statement", color="C1")
    ax2.bar([i + 0.2 for i in range(len(COLD_KEYS))], [c[k]["second_ms"] for k in COLD_KEYS], width=0.4,
            label="the same again", color="C2")
    ax2.set_xticks(range(len(COLD_KEYS)))
    ax2.set_xticklabels(ticks, fontsize=8)
    ax2.set_ylabel("ms, median of %s new connections" % meta.get("cold"))
    ax2.set_title("a new connection's first statement", fontsize=9)
    ax2.legend(fontsize=8)
    ax2.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "serving_latency.png"), dpi=100)
    plt.close(fig)
    written.append("serving_latency.png")

    # memory against predictions
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.3))
    for i, k in enumerate(MEMORY_KEYS):
        if k not in mem:
            continue
        xs = [mem[k][st]["predictions"] for st in MEM_STEPS]
        ax1.plot(xs, [mem[k][st]["vmrss"] for st in MEM_STEPS], marker="o", color="C%d" % i,
                 label="%s VmRSS" % k)
        ax1.plot(xs, [mem[k][st]["vmhwm"] for st in MEM_STEPS], marker="x", color="C%d" % i,
                 linestyle="--", label="%s VmHWM" % k)
        ax2.plot(xs, [mem[k][st]["contexts"] for st in MEM_STEPS], marker="o", color="C%d" % i, label=k)
    for ax in (ax1, ax2):
        ax.set_xlabel("predictions in the statement just run (0: before any)", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("MB")
    ax1.set_title("backend VmRSS (solid) and VmHWM, the peak (dashed)", fontsize=9)
    ax1.legend(fontsize=6, ncol=2, loc="lower right")
    ax2.set_title("total of pg_backend_memory_contexts", fontsize=9)
    ax2.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "serving_memory.png"), dpi=100)
    plt.close(fig)
    written.append("serving_memory.png")

    # parallel speedups
    fig, ax = plt.subplots(figsize=(7.5, 4.3))
    ax.bar(range(len(PARALLEL_KEYS)), [par[k]["speedup"] for k in PARALLEL_KEYS],
           color=["0.6" if k == "scan" else "C0" for k in PARALLEL_KEYS])
    for i, k in enumerate(PARALLEL_KEYS):
        ax.text(i, par[k]["speedup"], "%.2f\n%s" % (par[k]["speedup"],
                                                  "direct, %d workers" % par[k]["launched"] if par[k].get("direct")
                                                  else "%d/%d workers" % (par[k]["planned"], par[k]["launched"])
                                                  if par[k]["parallel_scan"] else "serial plan"),
                ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="k", linewidth=1)
    ax.axhline(2.0, color="C3", linestyle=":", linewidth=1, label="2x (the machine has %s CPUs)" % meta.get("nproc"))
    ax.set_xticks(range(len(PARALLEL_KEYS)))
    ax.set_xticklabels(PARALLEL_KEYS, fontsize=8)
    ax.set_ylabel("time at 0 workers / time at 2 workers")
    ax.set_ylim(0, max(2.4, max(par[k]["speedup"] for k in PARALLEL_KEYS) + 0.4))
    ax.set_title("massmodel: parallel query, %s rows" % fmt_int(s["rows"]))
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "serving_parallel.png"), dpi=100)
    plt.close(fig)
    written.append("serving_parallel.png")
    return written


# ---- report: the section -----------------------------------------------------------

def pg_version_of(s):
    """'pgbench (PostgreSQL) 15.20 (Debian ...)' -> '15.20 (Debian ...)'."""
    return s.split(") ", 1)[1] if ") " in s else s


def fmt_int(n):
    return "{:,}".format(int(round(float(n))))


def section(s, d, meta):
    b, sg, c, mem, par = s["batch"], s["single"], s["cold"], s["memory"], s["parallel"]
    reps = meta.get("reps", "?")
    rows = s["rows"]
    n2 = int(meta["predictions"])
    n1 = n2 // 10
    L = [SECTION, ""]
    L.append("Written by `bash bench/serving.sh` (bench/serving.py) on %s; commit %s." % (
        meta.get("date", "?"), meta.get("commit", "?")))
    L.append("What predicting costs an application, each part against a baseline")
    L.append("measured in the same run: one statement predicting a whole table, one")
    L.append("prepared statement predicting one row, the first predict of a new")
    L.append("connection, the memory of a backend over many predictions, and parallel")
    L.append("query.  Ratios are the result; no time is asserted.")
    L.append("")
    L.append("### What is measured")
    L.append("")
    st = dict(x.split(" = ", 1) for x in meta.get("settings", "").split("; ") if " = " in x)
    L.append("A private cluster with `shared_preload_libraries = 'massmodel'` and")
    L.append("bench/common.sh's settings (`jit = off`, shared_buffers %s, work_mem" % st.get("shared_buffers", "?"))
    L.append("%s).  The table `t` is generated in SQL after `setseed()` in one serial" % st.get("work_mem", "?"))
    L.append("statement, as bench/setup.sql and bench/scale.py do: %s rows of 20" % fmt_int(rows))
    L.append("`float8` features (`x_i` uniform in [-i, i]) and a `float8` target `y = 3 +")
    L.append("sum_i ((i % 7) - 3 + i/10) x_i` plus uniform noise; `t_fit`, after another")
    L.append("`setseed()`, %s more rows of the same distribution with a 0/1 `label` (1" % fmt_int(meta.get("fit_rows", 0)))
    L.append("with probability `1 / (1 + exp(-s))`, `s = 0.3 + sum_i ((i % 5) - 1.7) / (2i)")
    L.append("x_i`).  Both are frozen, analyzed and prewarmed (%s).  The models," % meta.get("table_sizes", "?"))
    L.append("trained once with the default `deploy`:")
    L.append("")
    L.append("| model | training statement | blob bytes (`octet_length`; stored) |")
    L.append("|---|---|---:|")
    for key, stmt in TRAINS:
        bl = s["blob"].get(key, {})
        L.append("| `%s` | `%s` | %s; %s |" % (
            key, stmt.replace("SELECT model, version, deployed FROM ", "").replace(FEATURES, "ARRAY['x1', ..., 'x20']"),
            fmt_int(bl.get("octet_length", 0)), fmt_int(bl.get("stored", 0))))
    L.append("")
    L.append("The mlp (20 epochs) and k-means are trained on `t_fit` to keep the run")
    L.append("short; what a prediction costs does not depend on how well the model fits.")
    L.append("The hand-written formulas are the weights of `lin` and `cls` from")
    L.append("`mm_weights` written as `float8` literals: `b0 + w1 * x1 + ... + w20 * x20`")
    L.append("and `1 / (1 + exp(-(b0 + w1 * x1 + ... + w20 * x20)))`.")
    L.append("")
    L.append("1. **Batch predict**: one statement over `t` with")
    L.append("   `max_parallel_workers_per_gather = 0`; one psql session runs every")
    L.append("   statement once as a warm-up, then %s rounds (the order reversed in" % reps)
    L.append("   even rounds), each execution timed by `clock_timestamp()` around")
    L.append("   `EXECUTE` in a procedure; medians of the %s.  The statements:" % reps)
    L.append("   `SELECT sum(mm_predict('lin', t.*)) FROM t` (row input), `SELECT")
    L.append("   sum(mm_predict('lin', ARRAY[x1, ..., x20])) FROM t` (array input), the")
    L.append("   same for `mlp`, `km` (the cluster id) and `cls` (`mm_predict`: the label),")
    L.append("   and `SELECT sum((mm_predict_proba('cls', t.*))[2]) FROM t` with its array")
    L.append("   form; the floors: the plain scan `SELECT sum(x1 + ... + x20) FROM t` and")
    L.append("   the formulas `SELECT sum(b0 + w1 * x1 + ...) FROM t`.")
    L.append("2. **Single-row statements**: pgbench (PostgreSQL %s) with one client and" % pg_version_of(
        meta.get("pgbench", "?")))
    L.append("   `-M prepared` (protocol-level prepared statements, as a driver's), %s" % fmt_int(meta.get("calls", 0)))
    L.append("   transactions of one statement per run, `-D x='%s'`" % X_LIT)
    L.append("   (the same 20 values in every call); %s runs of each statement, the order" % reps)
    L.append("   reversed in even runs, after a warm-up run of 1,000 each.  Per run, the")
    L.append("   median of the per-transaction latencies in pgbench's log (`-l`, whole")
    L.append("   microseconds; the median interpolated within its microsecond); the")
    L.append("   figure is the median of the %s runs' medians.  The statements:" % reps)
    L.append("   `SELECT mm_predict('lin', :x::float8[])` (pgbench prepares it as")
    L.append("   `$1::float8[]`), the same with `'mlp'`, the formula `SELECT b0 + w1 *")
    L.append("   x[1] + ... + w20 * x[20] FROM (SELECT :x::float8[] AS x) s` (one")
    L.append("   parameter, as the predict gets; the subquery is flattened into `$1[1]`,")
    L.append("   ...), and `SELECT 1`.")
    L.append("3. **Cold first predict**: %s rounds of new connections (psycopg2 in" % meta.get("cold"))
    L.append("   autocommit mode: the statement is the first the backend runs), one per")
    L.append("   statement in a rotating order: `SELECT mm_predict('lin',")
    L.append("   '{...}'::float8[])`, the same with `'mlp'`, the formula on the same")
    L.append("   literal, and `SELECT 1`.  The first and then a second execution of the")
    L.append("   statement are timed in the client (`time.perf_counter()`, the round trip")
    L.append("   included).  The model load cost is the median first predict minus the")
    L.append("   median first formula: in a new backend the predict looks the model up in")
    L.append("   the `mm` catalog, reads and checks its blob and deserializes it, where")
    L.append("   the formula pays only the catalog lookups any new backend pays.")
    L.append("4. **Memory of a backend**: per case a new connection; `VmRSS`, `VmHWM` (the")
    L.append("   peak resident size) and `RssAnon` (private memory) from")
    L.append("   `/proc/<pg_backend_pid()>/status`, and the total of")
    L.append("   `pg_backend_memory_contexts` (`sum(total_bytes)`), before any predict,")
    L.append("   after a statement of %s predictions and after one of %s (%s in the" % (fmt_int(n1), fmt_int(n2), fmt_int(n1 + n2)))
    L.append("   backend).  The rows come from `generate_series` in a select list, not in")
    L.append("   FROM: a set-returning function in FROM is materialized into a tuplestore")
    L.append("   of up to work_mem (%s), which would show in every case's peak.  The 20" % st.get("work_mem", "?"))
    L.append("   features vary with the row, `x_j = (i % (96 + j)) / (96 + j) * 2j - j`.")
    L.append("   For the array cases and the formula the array is built in a subquery")
    L.append("   (`OFFSET 0`), so the predict gets a `float8[]` value per row as from a")
    L.append("   client; for the row case the subquery's columns are `x1 .. x20`, passed")
    L.append("   as `s.*`:")
    L.append("")
    L.append("   ```sql")
    L.append("   SELECT sum(mm_predict('lin', x))")
    L.append("   FROM (SELECT ARRAY[(i % 97)::float8 / 97 * 2 - 1, ...] AS x")
    L.append("         FROM (SELECT generate_series(1, %d) AS i) g OFFSET 0) s" % n2)
    L.append("   ```")
    L.append("")
    L.append("5. **Parallel query**: the same procedure, every statement run with")
    L.append("   `max_parallel_workers_per_gather` 0 and 2 in turn (%s rounds after a" % reps)
    L.append("   warm-up at both), `min_parallel_table_scan_size = 0` (so that the table")
    L.append("   qualifies at any size), `parallel_setup_cost` and `parallel_tuple_cost` at")
    L.append("   their defaults (1000 and 0.1): the planner chooses by cost.  The speedup")
    L.append("   is the median at 0 over the median at 2.  The plans with 2 workers are")
    L.append("   recorded once after the timing: `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)`")
    L.append("   of the scan and the predicts, auto_explain (nested statements,")
    L.append("   `log_analyze`) of the trains, for the aggregate scan inside `mm_train`.")
    L.append("")
    L.append("### Results")
    L.append("")
    # 1. batch
    L.append("#### 1. Batch predict")
    L.append("")
    L.append("![batch predict rows/s with the floors](img/serving_batch.png)")
    L.append("")
    L.append("%s rows, median of %s executions:" % (fmt_int(rows), reps))
    L.append("")
    L.append("| statement | median ms | rows/s | ns/row | ns/row over the scan | / formula | / scan |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for k in BATCH_KEYS:
        x = b[k]
        rf = ("%.2f" if k in FLOORS else "**%.2f**") % x["ratio_formula"]
        if k in ("logistic_row", "logistic_proba_row", "logistic_proba_array"):
            rf += " (%.2f of the logistic formula)" % x["ratio_logistic_formula"]
        L.append("| %s | %.1f | %s | %.0f | %s | %s | %.2f |" % (
            BATCH_DESC[k], x["ms"], fmt_int(x["rows_per_s"]), x["ns_row"],
            "-" if k == "scan" else "%.0f" % x["net_ns_row"], rf, x["ratio_scan"]))
    L.append("")
    below = [k for k in BATCH_KEYS if k not in FLOORS and b[k]["ratio_scan"] < 1]
    if below:
        L.append("The scan is not a strict floor: its `sum(x1 + ... + x20)` makes 19")
        L.append("additions per row, each a function call, where a rewritten predict (below)")
        L.append("is one call with the 20 columns as arguments; %s ran faster than it." % ", ".join(below))
        L.append("")
    rw = dict(x.split("=") for x in meta.get("rewrite", "").split() if "=" in x)
    if rw:
        yes = [k for k in BATCH_KEYS if rw.get(k) == "fields"]
        no = [k for k in BATCH_KEYS if rw.get(k) == "call"]
        L.append("mm_predict's planner support function rewrites a call into")
        L.append("`mm_predict_fields(model, ..., x1, ..., x20)` (EXPLAIN VERBOSE), so that no")
        L.append("row value or array is built per row and the model is resolved once per")
        L.append("statement, for: %s.  %s" % (", ".join(yes) or "none",
                                           ("Not rewritten, the function called with a row value or an"
                                            " array built per row: %s." % ", ".join(no)) if no else ""))
        L.append("")
    ag = s["agree"]
    L.append("The predictions agree with the formulas: the relative difference of the")
    L.append("sums is %.1e (row) and %.1e (array) for `lin` against the linear formula," % (
        ag["linear_row"], ag["linear_array"]))
    L.append("%.1e (row) and %.1e (array) for `cls`'s probabilities against the logistic" % (
        ag["logistic_proba_row"], ag["logistic_proba_array"]))
    L.append("formula; row and array input give sums %.1e apart for the mlp and %.1e for" % (
        ag["mlp"], ag["kmeans"]))
    L.append("k-means.  %s" % ("Every execution of a statement returned the same sum." if s["deterministic"]
                               else "**Some statement returned different sums in different executions.**"))
    L.append("")
    # 2. single
    L.append("#### 2. Single-row statements")
    L.append("")
    L.append("![single-row latency and the first statement of a new connection](img/serving_latency.png)")
    L.append("")
    L.append("One connection, %s executions of the prepared statement per run, median of" % fmt_int(meta.get("calls", 0)))
    L.append("%s runs; the latency of a statement as pgbench sees it, the round trip over" % reps)
    L.append("the Unix socket included:")
    L.append("")
    L.append("| statement | median us | mean us | 10th-90th percentile us | / formula | / `SELECT 1` | minus `SELECT 1`, us |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    sdesc = {"select1": "`SELECT 1`", "formula": "formula `b0 + w1 * $1[1] + ...`",
             "linear": "`mm_predict('lin', $1::float8[])`", "mlp": "`mm_predict('mlp', $1::float8[])`"}
    for k in SINGLE_KEYS:
        x = sg[k]
        L.append("| %s | %.1f | %.1f | %.0f-%.0f | %s | %.2f | %.1f |" % (
            sdesc[k], x["median_us"], x["mean_us"], x["p10_us"], x["p90_us"],
            ("**%.2f**" if k in ("linear", "mlp") else "%.2f") % x["ratio_formula"], x["ratio_select1"],
            x["over_select1_us"]))
    L.append("")
    L.append("The runs' medians (us): " + "; ".join(
        "%s %s" % (k, ", ".join("%.1f" % v for v in sg[k]["runs"])) for k in SINGLE_KEYS) + ".")
    L.append("")
    L.append("A single-row predict of the linear model takes %.1f us more than the same" % sg["linear"]["over_formula_us"])
    L.append("formula in SQL (%.2f times its latency), the mlp's %.1f us more.  The" % (
        sg["linear"]["ratio_formula"], sg["mlp"]["over_formula_us"]))
    L.append("linear model's arithmetic is the formula's 20 multiply-adds, so the")
    L.append("difference is work done once per statement.  With auto_explain logging")
    nq = meta.get("nested_queries", "")
    L.append("nested statements, the second of two predicts in one session runs %s" % meta.get(
        "nested_per_statement", "?"))
    L.append("queries of its own (the first, which loads the model, %s; the list is in" % meta.get("nested_first", "?"))
    L.append("bench/results/serving_nested.txt)%s" % (":" if nq else "."))
    if nq:
        L.append("")
        for q in nq.split(" | "):
            L.append("- `%s`" % q)
        L.append("")
        L.append("Every statement that predicts looks the model's deployed version up in the")
        L.append("`mm` catalog again (API.md: a deploy or rollback in another session is seen")
        L.append("by the next statement); the deserialized model comes from the backend's")
        L.append("cache.  In a batch this is paid once per statement; for one row it is most")
        L.append("of the predict's cost.")
    L.append("")
    # 3. cold
    L.append("#### 3. Cold first predict")
    L.append("")
    L.append("%s new connections per statement; the first statement of the connection and" % meta.get("cold"))
    L.append("the same statement again, medians in ms (in the client, round trip included):")
    L.append("")
    L.append("| first statement | first | again | first - again | first - the formula's first (model load) |")
    L.append("|---|---:|---:|---:|---:|")
    cdesc = {"select1": "`SELECT 1`", "formula": "the formula on the same literal",
             "linear": "`mm_predict('lin', '{...}'::float8[])`", "mlp": "`mm_predict('mlp', '{...}'::float8[])`"}
    for k in COLD_KEYS:
        x = c[k]
        load = "-" if k == "formula" else (("**%.3f**" if k in ("linear", "mlp") else "%.3f") % x["load_ms"])
        L.append("| %s | %.3f | %.3f | %.3f | %s |" % (cdesc[k], x["first_ms"], x["second_ms"],
                                                     x["first_minus_second_ms"], load))
    L.append("")
    bl, bm = s["blob"].get("lin", {}), s["blob"].get("mlp", {})
    L.append("The model load cost (first predict minus first formula) is %.2f ms for the" % c["linear"]["load_ms"])
    L.append("linear model (a %s-byte blob) and %.2f ms for the mlp (%s bytes, %s stored" % (
        fmt_int(bl.get("octet_length", 0)), c["mlp"]["load_ms"], fmt_int(bm.get("octet_length", 0)),
        fmt_int(bm.get("stored", 0))))
    L.append("in the table).  It is paid once per backend and model (the backend caches")
    L.append("up to `mm.cache_models` models), so a pooled connection pays it once.")
    L.append("")
    # 4. memory
    L.append("#### 4. Memory of a backend")
    L.append("")
    L.append("![backend memory against predictions](img/serving_memory.png)")
    L.append("")
    L.append("One backend per case, in MB.  `VmHWM` is the peak since the backend started,")
    L.append("so its value after the %s-prediction statement covers all of it:" % fmt_int(n2))
    L.append("")
    L.append("| case | measure | before | after %s | after %s more | change over the second statement |" % (
        fmt_int(n1), fmt_int(n2)))
    L.append("|---|---|---:|---:|---:|---:|")
    for k in MEMORY_KEYS:
        if k not in mem:
            continue
        m = mem[k]
        for j, (fld, lab) in enumerate((("vmrss", "VmRSS"), ("vmhwm", "VmHWM"), ("rssanon", "RssAnon"),
                                        ("rssfile", "RssFile"), ("rssshmem", "RssShmem"),
                                        ("contexts", "memory contexts"))):
            fm = "%.2f" if fld == "contexts" else "%.1f"
            L.append("| %s | %s | %s | %s | %s | %+.2f |" % (
                MEMORY_DESC[k] if j == 0 else "", lab, fm % m["before"][fld], fm % m["after_1"][fld],
                fm % m["after_2"][fld], m["after_2"][fld] - m["after_1"][fld]))
    L.append("")
    L.append("The statements took " + "; ".join("%s %.0f and %.0f ms" % (
        k, mem[k]["after_1"]["ms"], mem[k]["after_2"]["ms"]) for k in MEMORY_KEYS if k in mem) + ".")
    L.append("")
    growth = {k: mem[k]["after_2"]["vmhwm"] - mem[k]["after_1"]["vmhwm"] for k in MEMORY_KEYS if k in mem}
    if growth:
        base_g = growth.get("formula", 0.0)
        pred = [k for k in growth if k != "formula"] or list(growth)
        worst = max(pred, key=lambda k: growth[k])
        flat = all(growth[k] - base_g <= 1.0 for k in pred)
        L.append("Over the second statement, with ten times the predictions of the first, the")
        L.append("peak (`VmHWM`) grew by at most %.2f MB (%s), against %.2f MB for the" % (
            growth[worst], worst, base_g))
        if flat:
            L.append("formula: the memory of a predicting backend does not grow with the number")
            L.append("of predictions.")
        else:
            L.append("formula: **more than the formula's; memory grows with the number of")
            L.append("predictions**.")
        if "formula" in mem:
            extra = ["%s %+.2f" % (k, mem[k]["after_2"]["contexts"] - mem["formula"]["after_2"]["contexts"])
                     for k in MEMORY_KEYS if k in mem and k != "formula"]
            L.append("What a predicting backend holds beyond the formula's backend, in memory")
            L.append("contexts after both statements (the model cache, the `mm` catalog's cache")
            L.append("entries), in MB: %s." % ", ".join(extra))
            first = ["%s %+.1f and %+.1f" % (k, mem[k]["after_1"]["rssfile"] - mem[k]["before"]["rssfile"],
                                             mem[k]["after_1"]["rssshmem"] - mem[k]["before"]["rssshmem"])
                     for k in MEMORY_KEYS if k in mem]
            L.append("Over the first statement VmRSS also counts shared pages the backend")
            L.append("touches for the first time, `RssFile` and `RssShmem` (MB: %s):" % ", ".join(first))
            L.append("the code of massmodel.so and OpenBLAS, mapped from files, and the shared")
            L.append("buffers of the catalog pages read (the `mm` tables for a predict), all")
            L.append("shared with the other backends, not memory the predicts allocate.")
    L.append("")
    # 5. parallel
    L.append("#### 5. Parallel query")
    L.append("")
    L.append("![parallel speedup](img/serving_parallel.png)")
    L.append("")
    L.append("%s rows, medians of %s executions at each setting:" % (fmt_int(rows), reps))
    L.append("")
    L.append("| statement | ms at 0 workers | ms at 2 workers | speedup (time0 / time2) | plan at 2 |")
    L.append("|---|---:|---:|---:|---|")
    for k in PARALLEL_KEYS:
        x = par[k]
        L.append("| %s | %.1f | %.1f | **%.2f** | %s |" % (
            PARALLEL_DESC[k], x["ms0"], x["ms2"], x["speedup"],
            ("direct read, %d workers launched" % x["launched"]) if x.get("direct") else
            ("Parallel Seq Scan, %d workers planned, %d launched" % (x["planned"], x["launched"]))
            if x["parallel_scan"] else "serial (no Gather)"))
    L.append("")
    serial = [k for k in PARALLEL_KEYS if not par[k]["parallel_scan"] and k not in DIRECT_KEYS]
    if serial:
        L.append("**At this size the planner kept a serial plan for: %s.**  With the" % ", ".join(serial))
        L.append("default `parallel_setup_cost` (1000) a parallel plan pays off in the cost")
        L.append("model only when the scan's CPU cost is large: a parallel scan divides the")
        L.append("per-row CPU cost among the processes but not the cost of reading the pages,")
        L.append("and massmodel's functions carry the default cost of a C function (one")
        L.append("operator), so the planner does not see the predict's work.")
        L.append("")
    launched_short = [k for k in PARALLEL_KEYS if par[k]["parallel_scan"] and par[k]["launched"] < par[k]["planned"]]
    if launched_short:
        L.append("**Fewer workers launched than planned for: %s.**" % ", ".join(launched_short))
        L.append("")
    L.append("The trains read through the query here (`mm.direct_scan = off`), whose")
    L.append("plan the planner may make parallel: the aggregate path.  By default")
    L.append("(`mm.direct_scan = on`) a plain table is read directly from its heap (the")
    L.append("`_direct` rows), with workers of its own at 2 (the workers launched are")
    L.append("those mm_train's `verbose` NOTICE reports): %s." % "; ".join(
        "%s %.1f ms at 0 and %.1f ms at 2 workers, %.2f of the query's time at 2" % (
            k, par[k]["ms0"], par[k]["ms2"], par[k]["ms2"] / par[k[:-len("_direct")]]["ms2"])
        for k in DIRECT_KEYS))
    L.append("")
    tr = [k for k in PARALLEL_KEYS if k.startswith("train")]
    vals = {k: [fnum(v) for v in par[k]["results0"] + par[k]["results2"]] for k in tr}
    spread = max((max(v) - min(v)) / max(abs(min(v)), 1e-300) for v in vals.values() if v) \
        if any(vals.values()) else float("nan")
    L.append("The trains' held-out rmse with 0 and with 2 workers (every execution): %s;" % "; ".join(
        "%s %s / %s" % (k, ", ".join(par[k]["results0"]), ", ".join(par[k]["results2"])) for k in tr))
    L.append("they differ by at most a relative %.1e%s." % (
        spread, "" if spread <= 1e-9 else " (**more than 1e-9**)"))
    L.append("The machine has %s CPUs: with 2 workers and the leader, three processes" % meta.get("nproc", "?"))
    L.append("share them, so about 2x is the most to expect.")
    L.append("")
    L.append("The plans with 2 workers:")
    L.append("")
    for k in PARALLEL_KEYS:
        where, plan = d["plans"].get(k, ("?", "?"))
        L.append("- %s, %s:" % (k, where))
        L.append("")
        L.append("  ```")
        for line in plan.splitlines():
            L.append("  " + line)
        L.append("  ```")
        L.append("")
    L.append("All timed executions (ms):")
    L.append("")
    for k in BATCH_KEYS:
        L.append("- batch %s: %s" % (k, ms_list(d["times"].get(("batch", k, 0), []))))
    for k in PARALLEL_KEYS:
        L.append("- parallel %s: 0 workers %s; 2 workers %s" % (
            k, ms_list(d["times"].get(("parallel", k, 0), [])), ms_list(d["times"].get(("parallel", k, 2), []))))
    L.append("")
    L.extend(mmbench.machine_and_reproduce(
        meta, "`shared_preload_libraries = 'massmodel'`, massmodel defaults (`mm.blas_threads = 1`)",
        ["bash bench/serving.sh", "ROWS=200000 REPS=3 PREDICTIONS=1000000 bash bench/serving.sh"],
        more=["- client: %s; pgbench of PostgreSQL %s" % (meta.get("client", "?"),
                                                   pg_version_of(meta.get("pgbench", "?")))]))
    L.append("It starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchserve"), meta.get("port", "55475")))
    L.append("`BENCH_PORT=...` for another) and stops it at the end (this run took %s s," % meta.get("elapsed", "?"))
    L.append("of which %s s generating the tables).  It reads `/proc/<pid>/status` of" % meta.get("setup_s", "?"))
    L.append("the server's backends, so it runs on the server's machine, as root or as the")
    L.append("server's OS user.  `ROWS=...` (default 1000000), `REPS=...` (default 5, at")
    L.append("least 3), `CALLS=...` (default 10000, single-row statements per run),")
    L.append("`COLD=...` (default 30, new connections per statement) and `PREDICTIONS=...`")
    L.append("(default 10000000, the larger memory statement; the smaller is a tenth)")
    L.append("change the sizes; `SERVE_DOC=` writes no document, `SERVE_IMG=DIR` draws")
    L.append("the figures elsewhere.  This run: ROWS=%s, REPS=%s, CALLS=%s, COLD=%s," % (
        meta.get("rows"), reps, meta.get("calls"), meta.get("cold")))
    L.append("PREDICTIONS=%s.  The raw figures are kept in bench/results/serving_*.txt" % meta.get("predictions"))
    L.append("(times, single, cold, memory, plans, nested, blobs, models; the SQL in")
    L.append("serving_sql.txt), the headline figures in bench/results/serving_ratios.json;")
    L.append("`/usr/bin/python3 bench/serving.py report --out bench/results --doc")
    L.append("docs/benchmarks.md` rewrites this section and the figures from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    d = load(a.out)
    meta = d["meta"]
    s = summarize(d)
    mmbench.write_summary(NAME, a.out, text_table(s, meta))
    with open(os.path.join(a.out, "serving_ratios.json"), "w") as f:
        json.dump(ratios_json(s, meta), f, indent=2, sort_keys=True)
        f.write("\n")
    written = figures(s, meta, a.img)
    log("wrote %s and %s in %s" % (os.path.join(a.out, "serving_ratios.json"), ", ".join(written), a.img))
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(s, d, meta))


def main(argv):
    def extra(ap):
        ap.add_argument("--calls", type=int, default=10000)
        ap.add_argument("--cold", type=int, default=30)
        ap.add_argument("--predictions", type=int, default=10000000)
        ap.add_argument("--pgbench", default="/usr/lib/postgresql/15/bin/pgbench")
        ap.add_argument("--img", default="")
    a = mmbench.parse_args(NAME, argv, __doc__, rows=1000000, reps=5, port="55475",
                           cluster="benchserve", extra=extra)
    if not a.img:
        a.img = os.path.join(a.top, "docs", "img")
    if a.command == "run":
        if a.calls < 100 or a.cold < 3 or a.predictions < 10000:
            raise SystemExit("serving.py: --calls at least 100, --cold at least 3, --predictions at least 10000")
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
