"""Driver of the scaling benchmark (bench/scale.sh): time against rows.

    python3 bench/scale.py run --sizes "N1 N2 ..." --reps R --out DIR --doc DOC
                               [--img DIR] [--top DIR] [--port P] [--cluster NAME]
    python3 bench/scale.py report --out DIR --doc DOC [--img DIR] [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/scale.sh
exports them for its private cluster) through psql only; Debian's
/usr/bin/python3, the standard library and (for the figures) Debian's
python3-matplotlib.  It

  1. generates in SQL, after setseed(), in one serial statement, the largest
     size's rows once (20 float8 features x1..x20, a float8 target y, as
     bench/setup.sql does, and an id 1..N), then copies the first n rows
     (id <= n) of it into one table t_n per size (no id), freezes, analyzes
     and prewarms them: the same sizes give the same tables, and a smaller
     table is a prefix of a larger one;
  2. per size, in one psql session (max_parallel_workers_per_gather = 0,
     jit = off), trains the model s on t_n once, reads its weights with
     mm_weights and writes the hand-written formula, then runs the four
     statements (scan, train, predict, formula) once as a warm-up and REPS
     rounds of the four, each execution timed by clock_timestamp() around
     EXECUTE in a procedure and stored in a table; the times are kept as
     DIR/scale_times.txt;
  3. reports (as `report` does).

report reads DIR/scale_times.txt and DIR/scale_meta.txt, writes
DIR/scale_summary.txt (the table printed on stdout), the figures
IMG/scale_time.png and IMG/scale_ratio.png (IMG defaults to docs/img), and
the section "## Scaling: time against rows" of DOC, replacing it if it is
there (up to the next "## " heading) and appending it otherwise; DOC empty
writes none.  No time is asserted.
"""
import math
import os
import sys

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing mmbench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmbench  # noqa: E402
from mmbench import med, ms_list  # noqa: E402

NAME = "scale"
SECTION = "## Scaling: time against rows"
P = 20  # features
SERIES = ("scan", "train", "predict", "formula")
LABEL = {"scan": "(a) scan: sum(x1 + ... + x20)",
         "train": "(b) mm_train linear_regression",
         "predict": "(c) sum(mm_predict('s', t.*))",
         "formula": "(d) hand-written formula"}
GOAL_TRAIN = 1.5    # train / scan
GOAL_PREDICT = 1.5  # predict / formula


def log(msg):
    mmbench.log(NAME, msg)


def xs_sum():
    return " + ".join("x%d" % i for i in range(1, P + 1))


def statements(n):
    t = "t_%d" % n
    return {"scan": "SELECT sum(%s) FROM %s" % (xs_sum(), t),
            "train": "SELECT * FROM mm_train('s', 'linear_regression', '%s', 'y', deploy => 'always')" % t,
            "predict": "SELECT sum(mm_predict('s', t.*)) FROM %s t" % t}


# ---- SQL --------------------------------------------------------------------

def setup_sql(sizes):
    big = max(sizes)
    d = mmbench.synth_sql(P)
    xs = d["xs"]
    L = ["\\set ON_ERROR_STOP on",
         "CREATE EXTENSION massmodel;",
         "CREATE EXTENSION pg_prewarm;",
         "SET max_parallel_workers_per_gather = 0;",
         "",
         "-- scale_all: x_i uniform in [-i, i] (i = 1 .. %d)," % P,
         "--   y = 3 + sum_i ((i % 7) - 3 + i/10) x_i + uniform noise in [-0.5, 0.5]",
         "-- (bench/setup.sql's bench_t), with id = 1 .. %d in generation order" % big,
         "SELECT setseed(0.4242);",
         """CREATE UNLOGGED TABLE scale_all AS
SELECT id, %(xs)s,
       3.0
       + %(lin)s
       + (random() - 0.5) AS y
  FROM (SELECT g AS id, %(feats)s
          FROM generate_series(1, %(big)d) g
        OFFSET 0) s;""" % dict(xs=xs, lin=d["lin"], feats=d["feats"], big=big),
         ""]
    for n in sorted(sizes):
        L.append("CREATE TABLE t_%d AS SELECT %s, y FROM scale_all WHERE id <= %d ORDER BY id;" % (n, xs, n))
    L.append("DROP TABLE scale_all;")
    for n in sorted(sizes):
        L.append("VACUUM (FREEZE, ANALYZE) t_%d;" % n)
    L.append("CHECKPOINT;")
    L.append("""
CREATE TABLE scale_times (
    size  bigint NOT NULL,
    label text NOT NULL,
    rep   int NOT NULL,
    ms    float8 NOT NULL
);

-- scale_run(size, labels, statements, reps): every statement once as a
-- warm-up, then reps rounds of every statement in order, each execution
-- timed by clock_timestamp() around EXECUTE and committed on its own.
CREATE PROCEDURE scale_run(n bigint, labels text[], stmts text[], reps int)
LANGUAGE plpgsql AS $$
DECLARE
    t0  timestamptz;
    t1  timestamptz;
BEGIN
    FOR i IN 1 .. array_length(stmts, 1) LOOP
        EXECUTE stmts[i];
    END LOOP;
    COMMIT;
    FOR r IN 1 .. reps LOOP
        FOR i IN 1 .. array_length(stmts, 1) LOOP
            t0 := clock_timestamp();
            EXECUTE stmts[i];
            t1 := clock_timestamp();
            INSERT INTO scale_times VALUES (n, labels[i], r, extract(epoch FROM t1 - t0) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;""")
    L.append("SELECT string_agg(format('%s=%s', relname, pg_size_pretty(pg_table_size(oid))), ', ' ORDER BY pg_table_size(oid))")
    L.append("  FROM pg_class WHERE relname ~ '^t_[0-9]+$' AND relkind = 'r';")
    return "\n".join(L) + "\n"


def formula_sql(n):
    """A query whose result is the hand-written formula statement for t_n:
    the weights of s (intercept first) as float8 literals (shortest exact
    text with extra_float_digits = 1)."""
    return ("SET extra_float_digits = 1; "
            "SELECT 'SELECT sum(' || string_agg("
            "CASE WHEN feature = 'intercept' THEN format('float8 %%L', weight) "
            "ELSE format('float8 %%L * %%I', weight, feature) END, ' + ' ORDER BY ord) "
            "|| ') FROM t_%d' FROM mm_weights('s') WITH ORDINALITY AS w(class, feature, weight, ord)" % n)


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def timing_sql(n, stmts, reps):
    labels = "ARRAY[%s]" % ", ".join(sql_lit(k) for k in SERIES)
    arr = "ARRAY[%s]" % ", ".join(sql_lit(stmts[k]) for k in SERIES)
    return ("SET max_parallel_workers_per_gather = 0;\nSET jit = off;\n"
            "SELECT pg_prewarm('t_%d');\n"
            "CALL scale_run(%d, %s,\n  %s, %d);\n" % (n, n, labels, arr, reps))


# ---- run ----------------------------------------------------------------------

def run(a):
    sizes = parse_sizes(a.sizes)
    a.rows = max(sizes)
    started, meta = mmbench.begin_run(NAME, a)
    meta["sizes"] = " ".join(str(n) for n in sizes)
    meta["settings"] = "; ".join(mmbench.psql_text(NAME, "SHOW %s" % g) for g in (
        "shared_buffers", "shared_preload_libraries", "max_parallel_workers_per_gather", "jit"))
    scripts = []
    sql = setup_sql(sizes)
    scripts.append(("setup", sql))
    setup_path = os.path.join(a.out, "scale_setup.txt")
    log("generating %d rows x %d features and the tables t_n (%s) ..." % (max(sizes), P, meta["sizes"]))
    t0 = __import__("time").time()
    mmbench.run_script(NAME, sql, setup_path, "the setup")
    meta["setup_s"] = "%.0f" % (__import__("time").time() - t0)
    with open(setup_path) as f:
        tail = [x.strip() for x in f if x.strip().startswith("t_")]
    meta["table_sizes"] = tail[-1] if tail else "?"
    agree = []
    for n in sizes:
        st = statements(n)
        mmbench.psql_text(NAME, "SET max_parallel_workers_per_gather = 0; SET jit = off; " + st["train"])
        f = mmbench.psql_text(NAME, formula_sql(n)).splitlines()[-1]
        if f.count(" * ") != P:
            raise SystemExit("scale.py: expected %d weights, got: %s" % (P, f))
        st["formula"] = f
        if n == min(sizes):
            r = mmbench.psql_text(NAME, "SET max_parallel_workers_per_gather = 0; SET jit = off; "
                                  "SELECT (%s) - (%s)" % (st["predict"], f)).splitlines()[-1]
            meta["predict_minus_formula"] = r
        sql = timing_sql(n, st, a.reps)
        scripts.append(("size %d" % n, sql))
        log("timing %d rows (%d reps) ..." % (n, a.reps))
        mmbench.run_raw(NAME, sql, os.path.join(a.out, "scale_raw.txt"), "a" if agree else "w",
                        "the timing of %d rows" % n)
        agree.append(n)
    rows = mmbench.psql_text(NAME, "SELECT size, label, rep, round(ms::numeric, 3) FROM scale_times ORDER BY size, rep, label")
    with open(os.path.join(a.out, "scale_times.txt"), "w") as f:
        f.write("size\tlabel\trep\tms\n")
        for line in rows.splitlines():
            f.write(line.replace("|", "\t") + "\n")
    mmbench.end_run(NAME, a.out, scripts, meta, started)
    report(a)


def parse_sizes(s):
    try:
        sizes = sorted(set(int(x) for x in s.split()))
    except ValueError:
        raise SystemExit("scale.py: --sizes must be integers separated by spaces")
    if len(sizes) < 2 or sizes[0] < 1000:
        raise SystemExit("scale.py: --sizes needs at least two sizes, each at least 1000")
    return sizes


# ---- report -------------------------------------------------------------------

def read_times(out):
    t = {}
    with open(os.path.join(out, "scale_times.txt")) as f:
        next(f)
        for line in f:
            n, label, rep, ms = line.rstrip("\n").split("\t")
            t.setdefault((int(n), label), []).append(float(ms))
    return t


def slope(xs, ys):
    """Least-squares slope of log y against log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def summarize(times):
    sizes = sorted(set(n for n, _ in times))
    m = {(n, k): med(times.get((n, k), [])) for n in sizes for k in SERIES}
    slopes = {k: slope(sizes, [m[(n, k)] for n in sizes]) for k in SERIES}
    return sizes, m, slopes


def text_table(sizes, m, slopes, meta):
    head = ["rows"] + ["%s ms" % k for k in SERIES] + ["%s ns/row" % k for k in SERIES] + \
           ["train/scan", "predict/formula"]
    rows = []
    for n in sizes:
        rows.append([str(n)] + ["%.1f" % m[(n, k)] for k in SERIES] +
                    ["%.0f" % (m[(n, k)] * 1e6 / n) for k in SERIES] +
                    ["%.2f" % (m[(n, "train")] / m[(n, "scan")]),
                     "%.2f" % (m[(n, "predict")] / m[(n, "formula")])])
    L = ["scaling, median of %s executions (%s)" % (meta.get("reps", "?"), meta.get("date", "?"))]
    L += mmbench.aligned(head, rows)
    L.append("slope of log time against log rows: " +
             ", ".join("%s %.3f" % (k, slopes[k]) for k in SERIES))
    return "\n".join(L) + "\n"


def figures(sizes, m, slopes, img):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(img, exist_ok=True)
    marks = {"scan": "o", "train": "s", "predict": "^", "formula": "D"}
    fig, ax = plt.subplots(figsize=(7, 5))
    for k in SERIES:
        ax.plot(sizes, [m[(n, k)] for n in sizes], marker=marks[k],
                label="%s (slope %.2f)" % (LABEL[k], slopes[k]))
    # slope-1 reference through the scan's smallest point
    n0 = sizes[0]
    ref = [m[(n0, "scan")] * n / n0 for n in sizes]
    ax.plot(sizes, ref, "k--", linewidth=1, label="slope 1 (time proportional to rows)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows")
    ax.set_ylabel("time, ms (median)")
    ax.set_title("massmodel: time against rows (20 float8 features)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "scale_time.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [m[(n, "train")] / m[(n, "scan")] for n in sizes], marker="s", label="train / scan")
    ax.plot(sizes, [m[(n, "predict")] / m[(n, "formula")] for n in sizes], marker="^",
            label="predict / formula")
    ax.axhline(GOAL_TRAIN, color="C0", linestyle="--", linewidth=1, label="goal train / scan = %.1f" % GOAL_TRAIN)
    ax.axhline(GOAL_PREDICT, color="C1", linestyle="--", linewidth=1, dashes=(2, 4),
               label="goal predict / formula = %.1f" % GOAL_PREDICT)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("rows")
    ax.set_ylabel("ratio of medians")
    ax.set_title("massmodel: ratios against rows")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "scale_ratio.png"), dpi=100)
    plt.close(fig)


def section(sizes, m, slopes, times, meta):
    reps = meta.get("reps", "?")
    L = [SECTION, ""]
    L.append("Written by `bench/scale.sh` (bench/scale.py) on %s; commit %s.  How the" % (
        meta.get("date", "?"), meta.get("commit", "?")))
    L.append("time of training and of per-row prediction grows with the number of rows,")
    L.append("against the plain scan of the same table and the hand-written formula.  No")
    L.append("time is asserted: the claim is that every series grows linearly (slope")
    L.append("close to 1 in log-log), so the per-row costs stay flat.")
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("One table is generated in SQL after `setseed()` (one serial statement, as")
    L.append("bench/setup.sql does: 20 `float8` features, `x_i` uniform in [-i, i], and a")
    L.append("`float8` target `y = 3 + sum_i ((i % 7) - 3 + i/10) x_i` plus uniform noise")
    L.append("in [-0.5, 0.5]) with the largest size's rows and an `id`; each size n gets a")
    L.append("table `t_n` of its first n rows (`WHERE id <= n`, without the `id`), frozen")
    L.append("and analyzed (%s)." % meta.get("table_sizes", "?"))
    L.append("Per size, one psql session (`max_parallel_workers_per_gather = 0`, `jit =")
    L.append("off`, `shared_preload_libraries = 'massmodel'`) prewarms `t_n`, trains `s`")
    L.append("once to read its weights, then runs the four statements once as a warm-up")
    L.append("and %s rounds of the four, each execution timed by `clock_timestamp()`" % reps)
    L.append("around `EXECUTE`; the figures are medians of the %s:" % reps)
    L.append("")
    L.append("| series | statement |")
    L.append("|---|---|")
    L.append("| (a) scan, the floor | `SELECT sum(x1 + ... + x20) FROM t_n` |")
    L.append("| (b) train | `SELECT * FROM mm_train('s', 'linear_regression', 't_n', 'y', deploy => 'always')` |")
    L.append("| (c) predict | `SELECT sum(mm_predict('s', t.*)) FROM t_n t` |")
    L.append("| (d) formula | `SELECT sum(float8 'b0' + float8 'w1' * x1 + ... + float8 'w20' * x20) FROM t_n`, the weights of `s` from `mm_weights('s')` |")
    L.append("")
    if "predict_minus_formula" in meta:
        L.append("On the smallest table the sum of predictions minus the sum of the formula")
        L.append("is %s (they compute the same thing)." % meta["predict_minus_formula"])
        L.append("")
    L.append("### Results")
    L.append("")
    L.append("![time against rows, log-log](img/scale_time.png)")
    L.append("")
    L.append("![train / scan and predict / formula against rows](img/scale_ratio.png)")
    L.append("")
    L.append("Medians in ms and per-row costs in ns/row (median time / rows):")
    L.append("")
    L.append("| rows | scan ms | train ms | predict ms | formula ms | scan ns/row | train ns/row | predict ns/row | formula ns/row | train / scan | predict / formula |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        L.append("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |" % (
            "{:,}".format(n), m[(n, "scan")], m[(n, "train")],
            m[(n, "predict")], m[(n, "formula")],
            *[m[(n, k)] * 1e6 / n for k in SERIES],
            m[(n, "train")] / m[(n, "scan")], m[(n, "predict")] / m[(n, "formula")]))
    L.append("")
    L.append("Fitted slope of log time against log rows (least squares over the %d sizes;" % len(sizes))
    L.append("1 is linear growth):")
    L.append("")
    L.append("| series | slope |")
    L.append("|---|---:|")
    for k in SERIES:
        L.append("| %s | %.3f |" % (LABEL[k].replace("|", "\\|"), slopes[k]))
    L.append("")
    L.append("The goals drawn in the ratio figure are train / scan <= %.1f and predict /" % GOAL_TRAIN)
    L.append("formula <= %.1f; in this run train / scan is within its goal at %s of %d" % (
        GOAL_PREDICT, len([n for n in sizes if m[(n, "train")] / m[(n, "scan")] <= GOAL_TRAIN]), len(sizes)))
    L.append("sizes and predict / formula at %d of %d." % (
        len([n for n in sizes if m[(n, "predict")] / m[(n, "formula")] <= GOAL_PREDICT]), len(sizes)))
    L.append("shared_buffers is %s (bench/common.sh): a table larger than that does not" % (
        meta.get("settings", "?").split(";")[0]))
    L.append("fit in it and is read through the kernel's page cache, a cost every series")
    L.append("on that table pays alike.")
    L.append("")
    L.append("All timed executions (ms):")
    L.append("")
    for n in sizes:
        L.append("- %s: %s" % ("{:,}".format(n), "; ".join(
            "%s %s" % (k, ms_list(times.get((n, k), []))) for k in SERIES)))
    L.append("")
    L.extend(mmbench.machine_and_reproduce(
        meta, "massmodel defaults (`mm.blas_threads = 1`)",
        ["bash bench/scale.sh", 'SIZES="100000 300000 1000000 3000000" REPS=3 bash bench/scale.sh']))
    L.append("This run used `SIZES=\"%s\"` and `REPS=%s`; the default SIZES is" % (meta.get("sizes", "?"), reps))
    L.append("\"100000 300000 1000000 3000000 10000000\".  The 10,000,000-row size alone")
    L.append("is a table of about 2 GB and most of the run time; for a quicker run leave")
    L.append("it out (`SIZES=\"100000 300000 1000000 3000000\"`), or give it explicitly:")
    L.append("`SIZES=\"100000 300000 1000000 3000000 10000000\" bash bench/scale.sh`.")
    L.append("It starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchscale"), meta.get("port", "55467")))
    L.append("`BENCH_PORT=...` for another) and stops it at the end (this run took %s s," % meta.get("elapsed", "?"))
    L.append("of which %s s generating the tables).  `REPS=...` (default 3, at least 3)" % meta.get("setup_s", "?"))
    L.append("changes the repetitions; `SCALE_DOC=` writes no document.  The times are")
    L.append("kept in bench/results/scale_times.txt, the statements in scale_sql.txt, the")
    L.append("table in scale_summary.txt; `/usr/bin/python3 bench/scale.py report --out")
    L.append("bench/results --doc docs/benchmarks.md` rewrites this section and the")
    L.append("figures from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    meta = mmbench.read_meta(NAME, a.out)
    times = read_times(a.out)
    sizes, m, slopes = summarize(times)
    if len(sizes) < 2:
        raise SystemExit("scale.py: fewer than two sizes in scale_times.txt")
    mmbench.write_summary(NAME, a.out, text_table(sizes, m, slopes, meta))
    figures(sizes, m, slopes, a.img)
    log("wrote %s and %s" % (os.path.join(a.img, "scale_time.png"), os.path.join(a.img, "scale_ratio.png")))
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(sizes, m, slopes, times, meta))


def main(argv):
    def extra(ap):
        ap.add_argument("--sizes", default="100000 300000 1000000 3000000 10000000")
        ap.add_argument("--img", default="")
    a = mmbench.parse_args(NAME, argv, __doc__, rows=0, reps=3, port="55467", cluster="benchscale", extra=extra)
    if not a.img:
        a.img = os.path.join(a.top, "docs", "img")
    if a.command == "run":
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
