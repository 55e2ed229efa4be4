"""Driver of the model-search benchmark (bench/search.sh).

    python3 bench/search.py run --rows N --reps R --out DIR --doc DOC
                                [--top DIR] [--port P] [--cluster NAME]
    python3 bench/search.py report --out DIR --doc DOC [--top DIR]

run talks to the server named by PGHOST, PGPORT and PGUSER (bench/search.sh
exports them for its private cluster) through psql only; standard library
only, for Debian's /usr/bin/python3.  It

  1. generates the tables search_reg (20 float8 features, float8 target y)
     and search_cls (the same features, integer 0/1 target y) in SQL, after
     setseed(), in serial statements: the same ROWS give the same tables;
     freezes, analyzes and prewarms them;
  2. times, per case (one psql session each, max_parallel_workers_per_gather
     = 0, jit = off), a single mm_train and a search mm_train: one warm-up
     execution of each, then REPS rounds of single, search.  Every execution
     is a DO block that takes clock_timestamp() around the mm_train call
     and RAISEs it as a NOTICE; mm_train runs with "verbose": true, so its
     own NOTICEs carry "<ms> ms elapsed." DETAILs from the start of the
     call.  psql's stderr (all the NOTICEs, in order) is kept as
     DIR/search_raw.txt;
  3. reports (as `report` does).

report parses DIR/search_raw.txt and DIR/search_meta.txt, writes
DIR/search_times.txt (one line per execution) and DIR/search_summary.txt
(the table printed on stdout), and writes the section "## Model search: one
read, k x candidates fits" of DOC, replacing it if it is there (up to the
next "## " heading) and appending it otherwise; DOC empty writes none.
"""
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing mmbench
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmbench  # noqa: E402
from mmbench import med, ms_list  # noqa: E402

NAME = "search"
SECTION = "## Model search: one read, k x candidates fits"
P = 20  # features

# The cases: (key, algorithm, table, single params, search params).
CASES = [
    ("logistic", "logistic_regression", "search_cls",
     '{"C": 1, "verbose": true}',
     '{"C": [0.01, 0.1, 1, 10], "cv": 5, "verbose": true}'),
    ("ridge", "ridge", "search_reg",
     '{"alpha": 1, "scale": "standard", "verbose": true}',
     '{"alpha": [0.01, 0.1, 1, 10], "scale": "standard", "cv": 5, "verbose": true}'),
]
KINDS = ("single", "search")


def log(msg):
    mmbench.log(NAME, msg)


def grid(params):
    """(candidates c, folds k) of a params object: the product of the
    lengths of its array values, and its "cv" (1 without a search)."""
    d = json.loads(params)
    c = 1
    for v in d.values():
        if isinstance(v, list):
            c *= len(v)
    return c, int(d.get("cv", 1))


def statement(case, kind):
    key, alg, table, single, search = case
    params = single if kind == "single" else search
    return ("SELECT * FROM mm_train('search_%s_%s', '%s', '%s', 'y', "
            "params => '%s', deploy => 'never')" % (key, kind, alg, table, params))


# ---- SQL --------------------------------------------------------------------

def setup_sql(rows):
    d = mmbench.synth_sql(P, score_div=1)
    return """\\set ON_ERROR_STOP on
CREATE EXTENSION massmodel;
CREATE EXTENSION pg_prewarm;
SET max_parallel_workers_per_gather = 0;

-- search_reg: x_i uniform in [-i, i] (i = 1 .. %(p)d),
--   y = 3 + sum_i ((i %% 7) - 3 + i/10) x_i + uniform noise in [-0.5, 0.5]
SELECT setseed(0.2718);
%(search_reg)s

-- search_cls: the same features; y = 1 when the noisy linear score
--   s = 0.3 + sum_i ((i %% 5) - 1.7) / i * x_i + e,
--   e = 2 sqrt(3) (u1 + u2 + u3 + u4 - 2) (about N(0, 2^2)),
-- is positive, else 0 (the classes overlap)
SELECT setseed(0.3141);
CREATE TABLE search_cls AS
SELECT %(xs)s,
       (0.3
          + %(score)s
          + 2 * sqrt(3) * (random() + random() + random() + random() - 2) > 0)::int AS y
  FROM search_reg;

VACUUM (FREEZE, ANALYZE) search_reg;
VACUUM (FREEZE, ANALYZE) search_cls;
CHECKPOINT;
SELECT pg_prewarm('search_reg') AS prewarmed_reg, pg_prewarm('search_cls') AS prewarmed_cls;
SELECT count(*) AS rows_cls, round(avg(y), 4) AS share_of_1 FROM search_cls;
SELECT pg_size_pretty(pg_table_size('search_reg')) AS size_reg,
       pg_size_pretty(pg_table_size('search_cls')) AS size_cls;
""" % dict(p=P, xs=d["xs"], score=d["score"],
           search_reg=mmbench.linear_table_sql("search_reg", rows, P))


def timing_sql(case, reps):
    L = ["SET max_parallel_workers_per_gather = 0;", "SET jit = off;", ""]
    for rep in range(0, reps + 1):  # rep 0: the warm-up
        for kind in KINDS:
            L.append("""DO $bench$
DECLARE
    t0 timestamptz;
BEGIN
    RAISE NOTICE 'bench: begin case=%s kind=%s rep=%d';
    t0 := clock_timestamp();
    PERFORM %s;
    RAISE NOTICE 'bench: end ms=%%', round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 3);
END
$bench$;""" % (case[0], kind, rep, statement(case, kind)[len("SELECT "):]))
    return "\n".join(L) + "\n"


# ---- running ------------------------------------------------------------------

def psql_text(sql):
    return mmbench.psql_text(NAME, sql)


def run(a):
    out = a.out
    started, meta = mmbench.begin_run(NAME, a)

    log("creating search_reg and search_cls (%d rows x %d features) ..." % (a.rows, P))
    sql = setup_sql(a.rows)
    scripts = [("setup", sql)]
    mmbench.run_script(NAME, sql, os.path.join(out, "search_setup.txt"), "the setup")
    meta["share_of_1"] = psql_text("SELECT round(avg(y), 4) FROM search_cls")
    meta["table_size"] = psql_text(
        "SELECT 'search_reg ' || pg_size_pretty(pg_table_size('search_reg')) || ', search_cls ' "
        "|| pg_size_pretty(pg_table_size('search_cls'))")

    raw = os.path.join(out, "search_raw.txt")
    for case in CASES:
        log("timing %s: a warm-up, then %d rounds of single and search ..." % (case[0], a.reps))
        sql = timing_sql(case, a.reps)
        scripts.append((case[0], sql))
        t0 = time.time()
        mmbench.run_raw(NAME, sql, raw, "a", "timing " + case[0])
        meta["elapsed_" + case[0]] = "%.0f" % (time.time() - t0)
    mmbench.end_run(NAME, out, scripts, meta, started)
    report(a)


# ---- parsing ------------------------------------------------------------------

RE_MSG = re.compile(r"(NOTICE|WARNING|ERROR|DETAIL):\s+(.*)$")
RE_BEGIN = re.compile(r"^bench: begin case=(\w+) kind=(\w+) rep=(\d+)$")
RE_END = re.compile(r"^bench: end ms=([0-9.]+)$")
RE_READ = re.compile(r'^model "[^"]*": read ([0-9]+) training and ([0-9]+) held-out rows')
RE_CAND = re.compile(r'^model "[^"]*": candidate (\d+) of (\d+) (.*), mean (\w+) (\S+) \(std (\S+)\) over (\d+) folds$')
RE_REFIT = re.compile(r'^model "[^"]*": refitting candidate (\d+), (.*), on all ([0-9]+) training rows$')
RE_FITTED = re.compile(r'^model "[^"]*": fitted on ([0-9]+) rows')
RE_STORED = re.compile(r'^model "[^"]*": version (\d+) stored')
RE_MS = re.compile(r"^([0-9.]+) ms elapsed\.$")


def parse(path):
    """One dict per execution: case, kind, rep, T, read, refit, fitted,
    stored (ms), and what the NOTICEs said (rows, candidates, warnings)."""
    execs = []
    cur = None
    last = None  # (what, execution) the next DETAIL belongs to
    with open(path) as f:
        for line in f:
            m = RE_MSG.search(line.rstrip("\n"))
            if not m:
                continue
            level, msg = m.groups()
            if level == "DETAIL":
                d = RE_MS.match(msg)
                if d and last is not None and last[0] is not None:
                    last[1][last[0]] = float(d.group(1))
                last = None
                continue
            last = (None, cur)
            b = RE_BEGIN.match(msg)
            if b:
                cur = {"case": b.group(1), "kind": b.group(2), "rep": int(b.group(3)),
                       "cands": [], "warnings": []}
                execs.append(cur)
                continue
            if cur is None:
                continue
            if level in ("WARNING", "ERROR"):
                cur["warnings"].append(msg)
                continue
            e = RE_END.match(msg)
            if e:
                cur["T"] = float(e.group(1))
                cur = None
                continue
            r = RE_READ.match(msg)
            if r:
                cur["n_train"], cur["n_heldout"] = int(r.group(1)), int(r.group(2))
                last = ("read", cur)
                continue
            c = RE_CAND.match(msg)
            if c:
                cur["cands"].append((c.group(3), c.group(4), float(c.group(5)), float(c.group(6))))
                continue
            r = RE_REFIT.match(msg)
            if r:
                cur["best"] = r.group(2)
                last = ("refit", cur)
                continue
            if RE_FITTED.match(msg):
                last = ("fitted", cur)
                continue
            if RE_STORED.match(msg):
                last = ("stored", cur)
    return execs


def summarize(execs):
    """Per case: the medians and the model's prediction."""
    res = []
    for case in CASES:
        key = case[0]
        c, k = grid(case[4])
        runs = {kind: [e for e in execs if e["case"] == key and e["kind"] == kind and e["rep"] > 0]
                for kind in KINDS}
        s, q = runs["single"], runs["search"]
        for kind, rs in runs.items():
            need = ("T", "read", "fitted", "stored") + (("refit",) if kind == "search" else ())
            for e in rs:
                missing = [x for x in need if x not in e]
                if missing:
                    raise SystemExit("search.py: %s %s rep %d: no %s in the NOTICEs (verbose output changed?)"
                                     % (key, kind, e["rep"], ", ".join(missing)))
        if not s or not q:
            raise SystemExit("search.py: no timed executions of %s" % key)
        d = {"case": key, "c": c, "k": k, "reps": len(s),
             "algorithm": case[1], "table": case[2],
             "stmt_single": statement(case, "single"), "stmt_search": statement(case, "search"),
             "T_single": med([e["T"] for e in s]),
             "R": med([e["read"] for e in s]),
             "F": med([e["fitted"] - e["read"] for e in s]),
             "tail_single": med([e["T"] - e["fitted"] for e in s]),
             "T_search": med([e["T"] for e in q]),
             "R_search": med([e["read"] for e in q]),
             "S": med([e["refit"] - e["read"] for e in q]),
             "refit": med([e["fitted"] - e["refit"] for e in q]),
             "tail_search": med([e["T"] - e["fitted"] for e in q]),
             "n_train": s[0].get("n_train"), "n_heldout": s[0].get("n_heldout"),
             "best": q[0].get("best", "?"),
             "cands": q[0]["cands"],
             "warnings": sorted({w for e in s + q for w in e["warnings"]}),
             "all_single": [e["T"] for e in s], "all_search": [e["T"] for e in q]}
        d["folds"] = c * k
        d["M"] = d["R"] + c * k * d["F"] * (k - 1) / k + (d["T_single"] - d["R"])
        d["r_single"] = d["T_search"] / d["T_single"]
        d["r_model"] = d["T_search"] / d["M"]
        d["r_sep"] = d["T_search"] / (c * k * d["T_single"])
        d["r_part"] = d["S"] / (c * k * d["F"] * (k - 1) / k)
        res.append(d)
    return res


# ---- the report ----------------------------------------------------------------

COLS = [("case", "case", "%s"), ("c x k", "ck", "%s"),
        ("T_single", "T_single", "%.1f"), ("R", "R", "%.1f"), ("F", "F", "%.1f"),
        ("T_search", "T_search", "%.1f"), ("read", "R_search", "%.1f"),
        ("search", "S", "%.1f"), ("M", "M", "%.1f"),
        ("T_search/T_single", "r_single", "%.2f"), ("T_search/M", "r_model", "%.2f"),
        ("T_search/(c*k*T_single)", "r_sep", "%.3f"),
        ("search/(c*k*F*(k-1)/k)", "r_part", "%.2f")]


def cell(d, key, fmt):
    if key == "ck":
        return "%d x %d" % (d["c"], d["k"])
    return fmt % d[key]


def text_table(res, meta):
    head = [h for h, _, _ in COLS]
    rows = [[cell(d, k, f) for _, k, f in COLS] for d in res]
    L = ["model search: %s rows x %d features, median of %s executions after a warm-up (ms)"
         % (meta.get("rows", "?"), P, meta.get("reps", "?")), ""]
    L.extend(mmbench.aligned(head, rows))
    L.append("")
    L.append("R: the single train's read (its \"read\" DETAIL); F: its fit (\"fitted on\" minus R);")
    L.append("read, search: the search train's read and search (\"refitting\" minus \"read\");")
    L.append("M = R + c*k*F*(k-1)/k + (T_single - R): one read, c*k fold fits, one train's own work.")
    for d in res:
        L.append("%s: %d training and %d held-out rows; best %s; single %s; search %s (ms)" % (
            d["case"], d["n_train"] or 0, d["n_heldout"] or 0, d["best"],
            ms_list(d["all_single"]), ms_list(d["all_search"])))
        for w_ in d["warnings"]:
            L.append("%s: warning: %s" % (d["case"], w_))
    return "\n".join(L) + "\n"


def section(res, meta):
    rows = meta.get("rows", "?")
    reps = meta.get("reps", "?")
    L = [SECTION, ""]
    L.append("Generated by `bash bench/search.sh` on %s (commit %s)." % (meta.get("date", "?"), meta.get("commit", "?")))
    L.append("The claim: a hyper-parameter search inside `mm_train` over c candidates")
    L.append("with `\"cv\": k` costs about one read of the data plus c x k fold fits,")
    L.append("not c x k trains that each read the data.  Ratios are the result; no")
    L.append("time is asserted.")
    L.append("")
    L.append("### What is measured")
    L.append("")
    L.append("Two tables generated in SQL after `setseed()` (serial statements, so the")
    L.append("same `ROWS` gives the same tables): `search_reg`, %s rows of 20 `float8`" % rows)
    L.append("features `x1 .. x20` (`x_i` uniform in [-i, i]) and a `float8` target")
    L.append("`y = 3 + sum_i ((i % 7) - 3 + i/10) x_i` plus uniform noise in [-0.5, 0.5];")
    L.append("`search_cls`, the same features and an `integer` target `y`, 1 when the")
    L.append("score `0.3 + sum_i ((i % 5) - 1.7) / i x_i` plus noise of about N(0, 2^2)")
    L.append("is positive (the classes overlap; share of 1: %s).  Both are frozen," % meta.get("share_of_1", "?"))
    L.append("analyzed and prewarmed (%s) before any timing." % meta.get("table_size", "?"))
    L.append("")
    L.append("Each case compares a single train with a grid search (c candidates, k")
    L.append("folds), on the same table with `test_fraction` at its default 0.2:")
    L.append("")
    L.append("| case | single train | search (c x k) |")
    L.append("|---|---|---|")
    for d in res:
        L.append("| %s | `%s` | `%s` (%d x %d) |" % (d["case"], d["stmt_single"], d["stmt_search"], d["c"], d["k"]))
    L.append("")
    L.append("`ridge` is given `\"scale\": \"standard\"` so that its single train takes the")
    L.append("same in-memory path as the search (without scaling a plain ridge train")
    L.append("is one streaming aggregate).  Per case one psql session sets")
    L.append("`max_parallel_workers_per_gather = 0` and `jit = off`, runs each statement")
    L.append("once as a warm-up, then %s rounds of single, search; each execution is a" % reps)
    L.append("DO block taking `clock_timestamp()` around the call (T), and `\"verbose\":")
    L.append("true` makes `mm_train` emit NOTICEs whose DETAIL is the time since the")
    L.append("start of the call: after the read (`read N training and M held-out")
    L.append("rows`), after the search (`refitting candidate ...`), after the final fit")
    L.append("(`fitted on ...`) and after storing.  Every figure is the median of its")
    L.append("%s values (a difference is taken per execution, then the median), so the" % reps)
    L.append("parts need not add up exactly.")
    L.append("")
    L.append("- **T_single**: the single train; **R** its read (the `read` DETAIL), **F**")
    L.append("  its fit (`fitted on` minus `read`: encoding the rows into a matrix,")
    L.append("  scaling, solving).")
    L.append("- **T_search**: the search train; **read** its read, **search** its search")
    L.append("  (`refitting` minus `read`: encoding, then the c x k fold fits, each")
    L.append("  copying its fold out of the one matrix, scaling, solving and scoring its")
    L.append("  held-out fold).")
    L.append("- **M** = R + c k F (k-1)/k + (T_single - R): the prediction of the claim,")
    L.append("  one read, c x k fold fits each costing F scaled to (k-1)/k of the")
    L.append("  training rows, then the single train's own fit, scoring and storing.")
    L.append("- **T_search / M**: the claim holds when it is close to 1.")
    L.append("- **T_search / (c k T_single)**: against c x k separate trains, each")
    L.append("  reading the data again: the saving of one read.")
    L.append("- **search / (c k F (k-1)/k)**: the measured search part against the fold")
    L.append("  fits the model predicts (folds' copies and scoring included).")
    L.append("")
    L.append("Two things the model M does not know, both making it an upper estimate:")
    L.append("F includes encoding the rows into the training matrix, which the search")
    L.append("does once for all its folds (src/mm_search.c copies each fold out of")
    L.append("that matrix), so M counts it c x k times; and F is the fit of one")
    L.append("candidate (`C` 1, `alpha` 1), while smaller `C` (stronger penalty) needs")
    L.append("fewer Newton iterations.  The search's own refit on all training rows")
    L.append("(scaling and solving, no encoding) is shown below.  The read is the same")
    L.append("work in both trains; a difference between R and the search's read comes")
    L.append("from the backend's memory allocator, in a state left by the previous")
    L.append("execution (the two alternate): the same statement repeated reads faster")
    L.append("after a search than after a single train.")
    L.append("")
    L.append("### Results")
    L.append("")
    L.append("%s rows (%s), median of %s executions, in ms:" % (
        rows, "; ".join("%s: %s training, %s held out" % (d["case"], d["n_train"], d["n_heldout"])
                        for d in res), reps))
    L.append("")
    L.append("| case | c x k | T_single | R | F | T_search | read | search | M | T_search / T_single | T_search / M | T_search / (c k T_single) | search / (c k F (k-1)/k) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in res:
        L.append("| %s | %d x %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | **%.2f** | %.3f | %.2f |" % (
            d["case"], d["c"], d["k"], d["T_single"], d["R"], d["F"], d["T_search"], d["R_search"],
            d["S"], d["M"], d["r_single"], d["r_model"], d["r_sep"], d["r_part"]))
    L.append("")
    L.append("The rest of each execution, in ms (medians): the search's final refit")
    L.append("(`fitted on` minus `refitting`), and after the fit (scoring the held-out")
    L.append("rows, storing the version, returning) for the single train and the search:")
    L.append("")
    for d in res:
        L.append("- %s: refit %.1f; after the fit %.1f (single), %.1f (search)" % (
            d["case"], d["refit"], d["tail_single"], d["tail_search"]))
    L.append("")
    L.append("Candidates (mean and standard deviation of the fold scores) and the one")
    L.append("refit, from the last search execution's NOTICEs:")
    L.append("")
    for d in res:
        cs = "; ".join("%s %s %.6g (std %.3g)" % (p, metric, mean, sd) for p, metric, mean, sd in d["cands"])
        L.append("- %s: %s; refit %s" % (d["case"], cs or "?", d["best"]))
    warns = [(d["case"], w) for d in res for w in d["warnings"]]
    if warns:
        L.append("")
        L.append("Warnings during the runs: " + "; ".join("%s: %s" % cw for cw in warns) + ".")
    L.append("")
    L.append("All timed executions (T, ms):")
    L.append("")
    for d in res:
        L.append("- %s single: %s" % (d["case"], ms_list(d["all_single"])))
        L.append("- %s search: %s" % (d["case"], ms_list(d["all_search"])))
    L.append("")
    L.extend(mmbench.machine_and_reproduce(
        meta, "massmodel defaults (`mm.blas_threads = 1`)",
        ["bash bench/search.sh", "ROWS=100000 REPS=7 bash bench/search.sh"]))
    L.append("It starts a private cluster `%s` on port %s (scripts/cluster.sh;" % (
        meta.get("cluster", "benchsearch"), meta.get("port", "55452")))
    L.append("`BENCH_PORT=...` for another) and stops it at the end (this run took %s s," % meta.get("elapsed", "?"))
    L.append("the cluster's start and stop not counted).  `ROWS=...` (default 200000) and `REPS=...` (default")
    L.append("5, at least 3) change the size and the repetitions; `SEARCH_DOC=` writes")
    L.append("no document.  The raw NOTICEs are kept in bench/results/search_raw.txt,")
    L.append("one line per execution in search_times.txt, the table in")
    L.append("search_summary.txt.  `python3 bench/search.py report --out bench/results")
    L.append("--doc docs/benchmarks.md` rewrites this section from them.")
    L.append("")
    return "\n".join(L)


def report(a):
    out = a.out
    meta = mmbench.read_meta(NAME, out)
    execs = parse(os.path.join(out, "search_raw.txt"))
    with open(os.path.join(out, "search_times.txt"), "w") as f:
        f.write("case\tkind\trep\tT_ms\tread_ms\trefit_ms\tfitted_ms\tstored_ms\n")
        for e in execs:
            f.write("\t".join([e["case"], e["kind"], str(e["rep"])] +
                              ["%.3f" % e[x] if x in e else "-" for x in ("T", "read", "refit", "fitted", "stored")]) + "\n")
    res = summarize(execs)
    mmbench.write_summary(NAME, out, text_table(res, meta))
    if a.doc:
        mmbench.write_doc(NAME, a, SECTION, section(res, meta))


def main(argv):
    a = mmbench.parse_args(NAME, argv, __doc__, rows=200000, reps=5, port="55452", cluster="benchsearch")
    if a.command == "run":
        run(a)
    else:
        report(a)


if __name__ == "__main__":
    main(sys.argv)
