"""Driver of the statistics-overhead benchmark (bench/track.sh).

    python3 bench/track.py run --rows N --reps R --out DIR --doc DOC
                               [--top DIR] [--port P] [--cluster NAME]
    python3 bench/track.py report --out DIR --doc DOC [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/track.sh
exports them for its private cluster, started with massmodel in
shared_preload_libraries) through psql only; standard library only, for
Debian's /usr/bin/python3.  It

  1. generates the table bench_t of bench/setup.sql (the same SQL and seed:
     20 float8 features, float8 target y), freezes, analyzes and prewarms
     it, and trains mm_train('bt', 'linear_regression', 'bench_t', 'y');
  2. checks the counts once, in one psql session: after mm_stat_reset(), a
     single statement with mm.track = on must show calls 1 and rows ROWS for
     version 1 in mm_stat_models, and one with mm.track = off must change
     nothing (DIR/track_check.txt);
  3. times, in one psql session (max_parallel_workers_per_gather = 0, jit =
     off), the row predict and the array predict with mm.track on and off,
     and the plain scan: one warm-up execution of each, then REPS rounds of
     scan, row on/off, array on/off (on first in odd rounds, off first in
     even ones).  Every execution is a SET mm.track, then a DO block that
     takes clock_timestamp() around an EXECUTE of the statement and RAISEs
     the time as a NOTICE; psql's stderr (the NOTICEs, in order) is kept as
     DIR/track_raw.txt.  Afterwards mm_stat_models must show exactly the
     executions made with mm.track = on (DIR/track_after.txt);
  4. reports (as `report` does).

report parses DIR/track_raw.txt, DIR/track_meta.txt, DIR/track_check.txt
and DIR/track_after.txt, writes DIR/track_times.txt (one line per
execution) and DIR/track_summary.txt (the table printed on stdout), and
writes the section "## Statistics overhead (mm.track)" of DOC, replacing it
if it is there (up to the next "## " heading) and appending it otherwise;
DOC empty writes none.  It exits with status 1 when a count check failed
(after writing everything).
"""
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing mmbench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmbench  # noqa: E402
from mmbench import med, ms_list  # noqa: E402

NAME = "track"
SECTION = "## Statistics overhead (mm.track)"
P = 20  # features
GOAL = 0.05  # counting costs at most 5 % of a per-row predict
MODEL = "bt"
XS = ", ".join("x%d" % i for i in range(1, P + 1))

# The timed statements: (key, statement, compared with mm.track on and off).
CASES = [
    ("row", "SELECT sum(mm_predict('%s', t.*)) FROM bench_t t" % MODEL, True),
    ("array", "SELECT sum(mm_predict('%s', ARRAY[%s])) FROM bench_t t" % (MODEL, XS), True),
    ("scan", "SELECT sum(x1) FROM bench_t", False),
]
TRAIN = "SELECT * FROM mm_train('%s', 'linear_regression', 'bench_t', 'y')" % MODEL
VIEW = ("SELECT model, version, calls, rows, errors, round(total_ms::numeric, 1) AS total_ms, "
        "round(mean_us::numeric, 4) AS mean_us FROM mm_stat_models ORDER BY model, version")


def log(msg):
    mmbench.log(NAME, msg)


def short(stmt):
    """The statement as the document shows it: ARRAY[x1, ..., x20]."""
    return stmt.replace("ARRAY[%s]" % XS, "ARRAY[x1, ..., x%d]" % P)


# ---- SQL --------------------------------------------------------------------

def setup_sql(rows):
    """bench_t exactly as bench/setup.sql makes it (same seed, same order of
    the random() calls)."""
    return """\\set ON_ERROR_STOP on
CREATE EXTENSION massmodel;
CREATE EXTENSION pg_prewarm;
SET max_parallel_workers_per_gather = 0;
SET jit = off;

-- bench_t (bench/setup.sql): x_i uniform in [-i, i] (i = 1 .. %(p)d),
--   y = 3 + sum_i ((i %% 7) - 3 + i/10) x_i + uniform noise in [-0.5, 0.5]
SELECT setseed(0.4242);
%(bench_t)s

VACUUM (FREEZE, ANALYZE) bench_t;
CHECKPOINT;
SELECT pg_prewarm('bench_t') AS prewarmed_pages;
SELECT count(*) AS rows, pg_size_pretty(pg_table_size('bench_t')) AS size FROM bench_t;

SHOW shared_preload_libraries;
SHOW mm.track;
""" % dict(p=P, bench_t=mmbench.linear_table_sql("bench_t", rows, P))


def check_sql():
    row = CASES[0][1]
    arr = CASES[1][1]
    return """\\set ON_ERROR_STOP on
\\pset footer off
\\pset format unaligned
SET max_parallel_workers_per_gather = 0;
SET jit = off;
SELECT mm_stat_reset();
\\echo -- empty after mm_stat_reset():
%(view)s;
SET mm.track = on;
\\echo -- one counted statement (mm.track = on)
%(row)s;
\\echo -- mm_stat_models after it:
%(view)s;
SET mm.track = off;
\\echo -- one uncounted statement (mm.track = off)
%(arr)s;
\\echo -- mm_stat_models after it:
%(view)s;
RESET mm.track;
SELECT mm_stat_reset();
""" % dict(view=VIEW, row=row, arr=arr)


def do_block(key, stmt, rep):
    return """DO $bench$
DECLARE
    t0 timestamptz;
    t1 timestamptz;
    s float8;
BEGIN
    t0 := clock_timestamp();
    EXECUTE $q$STMT$q$ INTO s;
    t1 := clock_timestamp();
    RAISE NOTICE 'bench: case=KEY track=% rep=REP ms=% sum=%',
        current_setting('mm.track'),
        round((extract(epoch FROM t1 - t0) * 1000)::numeric, 3), s;
END
$bench$;""".replace("STMT", stmt).replace("KEY", key).replace("REP", str(rep))


def timing_sql(reps):
    L = ["SET max_parallel_workers_per_gather = 0;", "SET jit = off;", ""]
    for rep in range(0, reps + 1):  # rep 0: the warm-up
        order = ("on", "off") if rep % 2 == 0 else ("off", "on")
        for key, stmt, compared in CASES[2:] + CASES[:2]:  # the scan first
            for track in (order if compared else ("on",)):
                L.append("SET mm.track = %s;" % track)
                L.append(do_block(key, stmt, rep))
    L.append("RESET mm.track;")
    return "\n".join(L) + "\n"


# ---- running ------------------------------------------------------------------

def psql_text(sql):
    return mmbench.psql_text(NAME, sql)


def run(a):
    out = a.out
    started, meta = mmbench.begin_run(NAME, a)
    meta["preload"] = psql_text("SHOW shared_preload_libraries")
    if "massmodel" not in meta["preload"]:
        raise SystemExit("track.py: massmodel is not in shared_preload_libraries (%s)" % meta["preload"])

    log("creating bench_t (%d rows x %d features) ..." % (a.rows, P))
    scripts = []
    sql = setup_sql(a.rows)
    scripts.append(("setup", sql))
    t0 = time.time()
    mmbench.run_script(NAME, sql, os.path.join(out, "track_setup.txt"), "the setup")
    meta["elapsed_setup"] = "%.0f" % (time.time() - t0)
    meta["table_size"] = psql_text("SELECT pg_size_pretty(pg_table_size('bench_t'))")
    log("training: %s ..." % TRAIN)
    scripts.append(("train", TRAIN + ";\n"))
    t0 = time.time()
    res = psql_text(TRAIN).split("|")
    meta["elapsed_train"] = "%.1f" % (time.time() - t0)
    with open(os.path.join(out, "track_setup.txt"), "a") as f:
        f.write("%s;\n%s\n" % (TRAIN, "|".join(res)))
    if len(res) < 4:
        raise SystemExit("track.py: unexpected mm_train result: %s" % "|".join(res))
    meta["train_version"], meta["train_deployed"] = res[1], res[-1]
    meta["train_metrics"] = "|".join(res[2:-1])

    log("checking the counts of one statement ...")
    sql = check_sql()
    scripts.append(("check", sql))
    mmbench.run_script(NAME, sql, os.path.join(out, "track_check.txt"), "the count check")

    log("timing: a warm-up, then %d rounds of scan, row on/off, array on/off ..." % a.reps)
    sql = timing_sql(a.reps)
    scripts.append(("timing", sql))
    psql_text("SELECT mm_stat_reset()")
    raw = os.path.join(out, "track_raw.txt")
    t0 = time.time()
    mmbench.run_raw(NAME, sql, raw, "w", "the timing")
    meta["elapsed_timing"] = "%.0f" % (time.time() - t0)
    with open(os.path.join(out, "track_after.txt"), "w") as f:
        f.write("model|version|calls|rows|errors|total_ms|mean_us\n" + psql_text(VIEW) + "\n")

    mmbench.end_run(NAME, out, scripts, meta, started)
    report(a)


# ---- parsing ------------------------------------------------------------------

RE_MSG = re.compile(r"(NOTICE|WARNING|ERROR):\s+(.*)$")
RE_EXEC = re.compile(r"^bench: case=(\w+) track=(\w+) rep=(\d+) ms=([0-9.]+) sum=(\S+)$")
VIEW_COLS = ("model", "version", "calls", "rows", "errors", "total_ms", "mean_us")


def parse_raw(path):
    execs, warnings = [], []
    with open(path) as f:
        for line in f:
            m = RE_MSG.search(line.rstrip("\n"))
            if not m:
                continue
            kind, msg = m.groups()
            e = RE_EXEC.match(msg)
            if kind == "NOTICE" and e:
                execs.append({"case": e.group(1), "track": e.group(2), "rep": int(e.group(3)),
                              "ms": float(e.group(4)), "sum": e.group(5)})
            elif kind != "NOTICE":
                warnings.append(msg)
    return execs, warnings


def view_rows(lines):
    """Rows of mm_stat_models in psql's unaligned output."""
    rows = []
    for line in lines:
        f = line.split("|")
        if len(f) == len(VIEW_COLS) and f[0] != "model" and re.match(r"^\d+$", f[1]):
            rows.append(dict(zip(VIEW_COLS, f)))
    return rows


def parse_check(path, rows_expected):
    """The blocks of track_check.txt (titled by its \\echo lines) and the
    verdicts of the count check."""
    blocks = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("-- "):
                blocks.append((line[3:], []))
            elif blocks:
                blocks[-1][1].append(line)
    if len(blocks) != 5:
        raise SystemExit("track.py: %s: expected 5 blocks, found %d" % (path, len(blocks)))
    empty = view_rows(blocks[0][1])
    counted = view_rows(blocks[2][1])
    after_off = view_rows(blocks[4][1])
    sums = [next((x for x in b[1] if re.match(r"^-?[0-9.e+-]+$", x)), "?") for b in (blocks[1], blocks[3])]

    def one_v1(rs, calls):
        return (len(rs) == 1 and rs[0]["model"] == MODEL and rs[0]["version"] == "1"
                and rs[0]["calls"] == str(calls) and rs[0]["rows"] == str(rows_expected)
                and rs[0]["errors"] == "0")
    ok = not empty and one_v1(counted, 1) and one_v1(after_off, 1) \
        and counted[0]["calls"] == after_off[0]["calls"]
    return {"empty": empty, "counted": counted, "after_off": after_off,
            "sum_on": sums[0], "sum_off": sums[1], "ok": ok,
            "title_on": blocks[1][0], "title_off": blocks[3][0]}


def parse_after(path, calls_expected, rows_per_call):
    with open(path) as f:
        rs = view_rows(f.read().splitlines())
    ok = (len(rs) == 1 and rs[0]["version"] == "1" and rs[0]["calls"] == str(calls_expected)
          and rs[0]["rows"] == str(calls_expected * rows_per_call) and rs[0]["errors"] == "0")
    return {"rows": rs, "ok": ok, "calls_expected": calls_expected,
            "rows_expected": calls_expected * rows_per_call}


# ---- the figures ----------------------------------------------------------------

def summarize(execs, nrows):
    timed = [e for e in execs if e["rep"] > 0]
    scan = [e["ms"] for e in timed if e["case"] == "scan"]
    if not scan:
        raise SystemExit("track.py: no timed executions of the scan")
    s = {"scan": med(scan), "scan_min": min(scan), "all_scan": scan}
    res = []
    for key, stmt, compared in CASES:
        if not compared:
            continue
        on = {e["rep"]: e["ms"] for e in timed if e["case"] == key and e["track"] == "on"}
        off = {e["rep"]: e["ms"] for e in timed if e["case"] == key and e["track"] == "off"}
        if not on or sorted(on) != sorted(off):
            raise SystemExit("track.py: %s: the on and off executions do not pair up" % key)
        reps = sorted(on)
        d = {"case": key, "stmt": stmt, "reps": len(reps),
             "on": med(on.values()), "off": med(off.values()),
             "on_min": min(on.values()), "off_min": min(off.values()),
             "all_on": [on[r] for r in reps], "all_off": [off[r] for r in reps],
             "diffs": [on[r] - off[r] for r in reps],
             "sums": sorted({e["sum"] for e in execs if e["case"] == key})}
        d["diff"] = d["on"] - d["off"]
        d["diff_paired"] = med(d["diffs"])
        d["ratio"] = d["on"] / d["off"] - 1
        d["ns_row"] = d["diff"] * 1e6 / nrows
        d["net"] = d["off"] - s["scan"]
        d["net_ns_row"] = d["net"] * 1e6 / nrows
        d["share"] = d["diff"] / d["net"] if d["net"] > 0 else float("nan")
        d["share_paired"] = d["diff_paired"] / d["net"] if d["net"] > 0 else float("nan")
        net_min = d["off_min"] - s["scan_min"]
        d["share_min"] = (d["on_min"] - d["off_min"]) / net_min if net_min > 0 else float("nan")
        d["met"] = d["share"] <= GOAL
        res.append(d)
    s["sums_scan"] = sorted({e["sum"] for e in execs if e["case"] == "scan"})
    return res, s


def pct(x):
    return "%+.2f %%" % (100 * x)


# ---- the report ----------------------------------------------------------------

def text_table(res, s, meta, chk, after):
    head = ["case", "on ms", "off ms", "on/off-1", "(on-off)/row", "scan ms",
            "(off-scan)/row", "(on-off)/(off-scan)"]
    rows = [[d["case"], "%.1f" % d["on"], "%.1f" % d["off"], pct(d["ratio"]),
             "%.2f ns" % d["ns_row"], "%.1f" % s["scan"], "%.1f ns" % d["net_ns_row"],
             pct(d["share"])] for d in res]
    rows.append(["scan", "-", "-", "-", "-", "%.1f" % s["scan"], "-", "-"])
    L = ["statistics overhead (mm.track): %s rows x %d features, median of %s executions "
         "after a warm-up" % (meta.get("rows", "?"), P, meta.get("reps", "?")), ""]
    L.extend(mmbench.aligned(head, rows))
    L.append("")
    for d in res:
        L.append("%s: paired median (on - off) %.2f ms, share %s; fastest executions: share %s" % (
            d["case"], d["diff_paired"], pct(d["share_paired"]), pct(d["share_min"])))
        L.append("%s: on %s; off %s (ms)" % (d["case"], ms_list(d["all_on"]), ms_list(d["all_off"])))
    L.append("scan: %s (ms)" % ms_list(s["all_scan"]))
    met = all(d["met"] for d in res)
    L.append("goal: counting <= %.0f %% of a per-row predict ((on - off) / (off - scan), medians): %s"
             % (100 * GOAL, "met" if met else "NOT met"))
    c = chk["counted"][0] if chk["counted"] else None
    L.append("count check: one statement with mm.track = on -> %s; one with mm.track = off -> %s: %s" % (
        "model %s version %s calls %s rows %s errors %s" % (c["model"], c["version"], c["calls"], c["rows"],
                                                            c["errors"]) if c else "no row",
        "unchanged" if chk["ok"] else "see track_check.txt", "ok" if chk["ok"] else "FAILED"))
    a = after["rows"][0] if after["rows"] else None
    L.append("after the timing: calls %s rows %s (expected %d and %d, the executions with mm.track = on): %s" % (
        a["calls"] if a else "-", a["rows"] if a else "-", after["calls_expected"], after["rows_expected"],
        "ok" if after["ok"] else "FAILED"))
    return "\n".join(L) + "\n"


def md_view(rs):
    L = ["| " + " | ".join(VIEW_COLS) + " |", "|---|" + "---:|" * (len(VIEW_COLS) - 1)]
    for r in rs:
        L.append("| " + " | ".join(r[c] for c in VIEW_COLS) + " |")
    return L


def section(res, s, meta, chk, after, warnings):
    rows = meta.get("rows", "?")
    nrows = int(rows)
    reps = meta.get("reps", "?")
    met = all(d["met"] for d in res)
    L = [SECTION, ""]
    L.append("Generated by `bash bench/track.sh` on %s (commit %s)." % (meta.get("date", "?"), meta.get("commit", "?")))
    L.append("The goal: counting predictions in shared memory (`mm_stat_models`,")
    L.append("`mm.track = on`, the default) costs at most %.0f %% of a per-row predict," % (100 * GOAL))
    L.append("measured as whole statements (the counting's per-statement work")
    L.append("included), not per row.  Ratios are the result; no time is asserted.")
    L.append("")
    L.append("**Result: %s.**  Counting measured %s of the row predict's own work" % (
        "met" if met else "not met", pct(res[0]["share"])))
    L.append("and %s of the array predict's (medians; goal at most %.0f %%)." % (
        pct(res[1]["share"]), 100 * GOAL))
    if any(d["share"] < 0 for d in res):
        L.append("A negative figure means that no cost shows above the noise of the")
        L.append("machine: the statement with counting was the faster one.")
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("A private cluster with `shared_preload_libraries = 'massmodel'` (the")
    L.append("statistics live in shared memory).  The table `bench_t` of")
    L.append("bench/setup.sql, made by the same SQL after the same `setseed()`: %s" % rows)
    L.append("rows of 20 `float8` features `x1 .. x20` (`x_i` uniform in [-i, i]) and a")
    L.append("`float8` target `y`, frozen, analyzed and prewarmed (%s) before any" % meta.get("table_size", "?"))
    L.append("timing.  The model: `%s` (version %s, deployed: %s)." % (
        TRAIN, meta.get("train_version", "?"), meta.get("train_deployed", "?")))
    L.append("")
    L.append("| case | statement | mm.track |")
    L.append("|---|---|---|")
    for key, stmt, compared in CASES:
        L.append("| %s | `%s` | %s |" % (key, short(stmt), "on and off" if compared else "on (no predictions)"))
    L.append("")
    L.append("One psql session sets `max_parallel_workers_per_gather = 0` and `jit = off`,")
    L.append("runs every statement once as a warm-up, then %s rounds of scan, row on/off," % reps)
    L.append("array on/off (on first in odd rounds, off first in even ones, so that")
    L.append("the order does not favour one side).  Each execution is `SET mm.track =")
    L.append("on|off` (a superuser setting), then a DO block taking `clock_timestamp()`")
    L.append("around an `EXECUTE` of the statement.  A DO block is not run by the")
    L.append("executor, so the `EXECUTE`d query is the top-level one: its first")
    L.append("prediction reads the clock and its `ExecutorEnd` adds the backend's")
    L.append("counts to the shared table under its lock, both inside the timed")
    L.append("interval.  Every figure is a median of %s executions:" % reps)
    L.append("")
    L.append("- **on**, **off**: the statement with `mm.track` on and off; **scan**: the")
    L.append("  plain scan `SELECT sum(x1) FROM bench_t`, what any statement over the")
    L.append("  table costs before predicting.")
    L.append("- **on / off - 1**: the counting's cost against the whole statement.")
    L.append("- **(on - off) / row**: the same per row, in ns (%s rows)." % rows)
    L.append("- **(off - scan) / row**: what a per-row predict costs, net of the scan:")
    L.append("  evaluating its arguments and predicting.  mm_predict's planner support")
    L.append("  (src/mm_support.c) rewrites both calls into `mm_predict_fields`, so no")
    L.append("  row value or array is built per row: the row case passes the table's")
    L.append("  columns with their names (mapped to the features once per statement),")
    L.append("  the array case the 20 values in order; both count at the same place.")
    L.append("- **(on - off) / (off - scan)**: the counting as a share of a per-row")
    L.append("  predict, the figure the goal is about.")
    L.append("")
    L.append("### Results")
    L.append("")
    L.append("%s rows, median of %s executions, in ms (per row in ns):" % (rows, reps))
    L.append("")
    L.append("| case | on | off | on / off - 1 | (on - off) / row | scan | (off - scan) / row | (on - off) / (off - scan) |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for d in res:
        L.append("| %s | %.1f | %.1f | %s | %.2f ns | %.1f | %.1f ns | **%s** |" % (
            d["case"], d["on"], d["off"], pct(d["ratio"]), d["ns_row"], s["scan"],
            d["net_ns_row"], pct(d["share"])))
    L.append("")
    L.append("The effect is small against the run-to-run noise of a statement, so")
    L.append("the difference of two medians is a rough figure; two other estimates")
    L.append("of the same share:")
    L.append("")
    for d in res:
        lo, hi = min(d["diffs"]), max(d["diffs"])
        L.append("- %s: the median of the per-round differences (on - off, same round) is" % d["case"])
        L.append("  %.2f ms, %s of the predict (the differences range from %.1f to %.1f ms);" % (
            d["diff_paired"], pct(d["share_paired"]), lo, hi))
        L.append("  from the fastest executions, %s." % pct(d["share_min"]))
    L.append("")
    L.append("Goal: counting costs at most %.0f %% of a per-row predict, i.e. (on - off) /" % (100 * GOAL))
    L.append("(off - scan) <= %.2f from the medians: **%s** (row %s, array %s)." % (
        GOAL, "met" if met else "not met", pct(res[0]["share"]), pct(res[1]["share"])))
    L.append("")
    L.append("### Counts")
    L.append("")
    L.append("Checked once before the timing, in one session: after `mm_stat_reset()`")
    L.append("(the view then shows %s), one statement with `mm.track = on`," % (
        "no rows" if not chk["empty"] else "%d rows" % len(chk["empty"])))
    L.append("`%s`, leaves in `mm_stat_models`:" % short(CASES[0][1]))
    L.append("")
    L.extend(md_view(chk["counted"]))
    L.append("")
    L.append("and one statement with `mm.track = off` (`%s`) leaves it %s." % (
        short(CASES[1][1]), "unchanged" if chk["ok"] and chk["after_off"] == chk["counted"] else "changed"))
    L.append("Expected: calls 1, rows %d, errors 0 for version 1: **%s**.  (`total_ms` is" % (
        nrows, "as expected" if chk["ok"] else "NOT as expected"))
    L.append("the statement's time from its first prediction to its end, `mean_us` that")
    L.append("per row.)")
    L.append("")
    a = after["rows"][0] if after["rows"] else None
    L.append("After the timing (the statistics reset before it), version 1 shows calls")
    L.append("%s and rows %s, against %d executions with `mm.track = on` (warm-ups" % (
        a["calls"] if a else "-", a["rows"] if a else "-", after["calls_expected"]))
    L.append("included) of %d rows each: **%s**; the executions with `mm.track = off`" % (
        nrows, "as expected" if after["ok"] else "NOT as expected"))
    L.append("counted nothing.  Every execution of a statement returned the same sum")
    L.append("(%s)." % "; ".join("%s %s" % (d["case"], d["sums"][0] if len(d["sums"]) == 1
                                             else "DIFFERENT: " + ", ".join(d["sums"])) for d in res))
    if warnings:
        L.append("")
        L.append("Warnings during the runs: " + "; ".join(sorted(set(warnings))) + ".")
    L.append("")
    L.append("All timed executions (ms, in round order):")
    L.append("")
    for d in res:
        L.append("- %s on: %s" % (d["case"], ms_list(d["all_on"])))
        L.append("- %s off: %s" % (d["case"], ms_list(d["all_off"])))
    L.append("- scan: %s" % ms_list(s["all_scan"]))
    L.append("")
    L.extend(mmbench.machine_and_reproduce(
        meta, "`shared_preload_libraries = '%s'`, massmodel defaults" % meta.get("preload", "?"),
        ["bash bench/track.sh", "ROWS=200000 REPS=15 bash bench/track.sh"]))
    L.append("It starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchtrack"), meta.get("port", "55453")))
    L.append("`BENCH_PORT=...` for another) and stops it at the end (this run took %s s," % meta.get("elapsed", "?"))
    L.append("the cluster's start and stop not counted).  `ROWS=...` (default 1000000)")
    L.append("and `REPS=...` (default 9, at least 3) change the size and the")
    L.append("repetitions; `TRACK_DOC=` writes no document.  The raw NOTICEs are kept")
    L.append("in bench/results/track_raw.txt, one line per execution in")
    L.append("track_times.txt, the count check in track_check.txt and track_after.txt,")
    L.append("the table in track_summary.txt.  `python3 bench/track.py report --out")
    L.append("bench/results --doc docs/benchmarks.md` rewrites this section from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    out = a.out
    meta = mmbench.read_meta(NAME, out)
    nrows = int(meta["rows"])
    execs, warnings = parse_raw(os.path.join(out, "track_raw.txt"))
    with open(os.path.join(out, "track_times.txt"), "w") as f:
        f.write("case\ttrack\trep\tms\tsum\n")
        for e in execs:
            f.write("%s\t%s\t%d\t%.3f\t%s\n" % (e["case"], e["track"], e["rep"], e["ms"], e["sum"]))
    res, s = summarize(execs, nrows)
    chk = parse_check(os.path.join(out, "track_check.txt"), nrows)
    n_on = sum(1 for e in execs if e["track"] == "on" and e["case"] != "scan")
    after = parse_after(os.path.join(out, "track_after.txt"), n_on, nrows)
    mmbench.write_summary(NAME, out, text_table(res, s, meta, chk, after))
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(res, s, meta, chk, after, warnings))
    if not (chk["ok"] and after["ok"]):
        raise SystemExit("track.py: the count check failed (see %s)" % os.path.join(out, "track_check.txt"))


def main(argv):
    a = mmbench.parse_args(NAME, argv, __doc__, rows=1000000, reps=9, port="55453", cluster="benchtrack")
    if a.command == "run":
        if a.rows < 1000:
            raise SystemExit("track.py: --rows must be at least 1000")
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
