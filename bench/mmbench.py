"""What the benchmark drivers bench/search.py, bench/track.py and
bench/alternatives.py share.

Standard library only, for Debian's /usr/bin/python3.  Each driver has a
name NAME ("search", "track", "alternatives"): its messages start with
"NAME.py: " and its files in the output directory are NAME_*.txt.  Here are

  - running psql (PSQL, psql_text, run_script, run_raw), talking to the
    server named by PGHOST, PGPORT and PGUSER;
  - the metadata of a run (machine, loadavg, begin_run, end_run, read_meta):
    DIR/NAME_meta.txt, one key=value a line;
  - the figures (med) and their text (aligned, ms_list, machine_lines,
    machine_and_reproduce);
  - writing the report (write_summary, write_section, write_doc): the
    section "## ..." of a document, replaced if it is there (up to the next
    "## " heading) and appended otherwise;
  - the command line (parse_args);
  - the synthetic tables (synth_sql, linear_table_sql): bench/setup.sql's
    bench_t, generated in SQL after a setseed().
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import time

def synth_sql(p, score_div=2):
    """The SQL pieces of the synthetic tables, for p features: xs (the
    column list x1, ..., xp), feats (x_i uniform in [-i, i] from random()),
    lin (the linear part of y, sum_i ((i % 7) - 3 + i/10) x_i) and score
    (a label's score, sum_i ((i % 5) - 1.7) / (score_div i) x_i)."""
    r = range(1, p + 1)
    return dict(
        xs=", ".join("x%d" % i for i in r),
        feats=",\n               ".join("(2 * random() - 1) * %d AS x%d" % (i, i) for i in r),
        lin="\n       + ".join("(%d %% 7 - 3 + %.1f) * x%d" % (i, i / 10, i) for i in r),
        score="\n          + ".join(
            "(%d %% 5 - 1.7) / %d * x%d" % (i, score_div * i, i) for i in r))


def linear_table_sql(table, rows, p, label=False):
    """CREATE TABLE table of rows rows: x1 .. xp (synth_sql), y = 3 + lin
    + uniform noise in [-0.5, 0.5] and, with label, an integer label, 1
    with probability 1 / (1 + exp(-(0.3 + score))).  The caller sets the
    seed first; the random() calls come in the same order for any table."""
    d = synth_sql(p)
    label_sql = (""",
       (random() < 1 / (1 + exp(-(0.3
          + %(score)s))))::int AS label""" % d) if label else ""
    return """CREATE TABLE %s AS
SELECT %s,
       3.0
       + %s
       + (random() - 0.5) AS y%s
  FROM (SELECT %s
          FROM generate_series(1, %d)
        OFFSET 0) s;""" % (table, d["xs"], d["lin"], label_sql, d["feats"], rows)


PSQL = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=default", "-d", "postgres"]


def log(name, msg):
    print("%s.py: %s" % (name, msg), file=sys.stderr, flush=True)


# ---- psql ---------------------------------------------------------------------

def psql_text(name, sql):
    """The unaligned, tuples-only output of one statement, stripped."""
    r = subprocess.run(PSQL + ["-At", "-c", sql], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("%s.py: psql failed: %s" % (name, r.stderr.strip()))
    return r.stdout.strip()


def run_script(name, sql, path, what):
    """Runs the script sql, its stdout and stderr going to path."""
    with open(path, "w") as f:
        r = subprocess.run(PSQL, input=sql, stdout=f, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise SystemExit("%s.py: %s failed; see %s" % (name, what, path))


def run_raw(name, sql, raw, mode, what):
    """Runs the script sql, its stderr (the NOTICEs) going to raw, opened
    with mode ("w" or "a"); on failure, exits with the last 20 lines."""
    with open(raw, mode) as f:
        r = subprocess.run(PSQL, input=sql, stdout=subprocess.DEVNULL, stderr=f, text=True)
    if r.returncode != 0:
        with open(raw) as f:
            tail = f.read().splitlines()[-20:]
        raise SystemExit("%s.py: %s failed:\n%s" % (name, what, "\n".join(tail)))


# ---- the metadata ---------------------------------------------------------------

def cmd_out(args, default="unknown"):
    try:
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else default
    except OSError:
        return default


def machine(top):
    info = {}
    cpu = {}
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k in ("model name", "cpu family", "model") and k not in cpu:
                cpu[k] = v
            if k == "flags" and not flags:
                flags = v
    s = "%s (family %s, model %s" % (cpu.get("model name", "?"), cpu.get("cpu family", "?"),
                                     cpu.get("model", "?"))
    if "hypervisor" in flags.split():
        s += ", a virtual machine"
    info["cpu"] = s + ")"
    info["nproc"] = str(len(os.sched_getaffinity(0)))
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory"] = "%.0f GB" % (kb / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        info["memory"] = "?"
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    info["os"] = "%s, kernel %s" % (osname, os.uname().release)
    commit = cmd_out(["git", "-C", top, "rev-parse", "--short", "HEAD"])
    if cmd_out(["git", "-C", top, "status", "--porcelain", "--", "src", "sql"], ""):
        commit += " (with uncommitted changes in src/ or sql/)"
    info["commit"] = commit
    return info


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def begin_run(name, a):
    """The start of `run`: creates a.out, removes its NAME_*.txt, and
    returns (the start time, the metadata so far: the arguments, load,
    date, machine and server version)."""
    started = time.time()
    out = a.out
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.startswith(name + "_") and f.endswith(".txt"):
            os.unlink(os.path.join(out, f))
    meta = {"rows": str(a.rows), "reps": str(a.reps), "port": str(a.port),
            "cluster": a.cluster, "load_before": loadavg(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    meta.update(machine(a.top))
    meta["pg"] = psql_text(name, "SHOW server_version")
    return started, meta


def end_run(name, out, scripts, meta, started):
    """The end of `run`: writes the scripts, (title, sql) pairs, to
    DIR/NAME_sql.txt, and the metadata, with the load and the elapsed time
    added, to DIR/NAME_meta.txt."""
    with open(os.path.join(out, name + "_sql.txt"), "w") as f:
        for title, sql in scripts:
            f.write("-- ---- %s ----\n%s\n" % (title, sql))
    meta["load_after"] = loadavg()
    meta["elapsed"] = "%.0f" % (time.time() - started)
    with open(os.path.join(out, name + "_meta.txt"), "w") as f:
        for k in sorted(meta):
            f.write("%s=%s\n" % (k, meta[k]))


def read_meta(name, out):
    meta = {}
    with open(os.path.join(out, name + "_meta.txt")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


# ---- the figures and their text ---------------------------------------------------

def med(xs):
    """The median of xs, NaN when there are none."""
    return statistics.median(xs) if xs else float("nan")


def aligned(head, rows):
    """The lines of a text table: the first column left-aligned, the
    others right-aligned, two spaces apart."""
    w = [max(len(x) for x in col) for col in zip(head, *rows)]
    return ["  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
            for r in [head] + rows]


def ms_list(xs):
    return ", ".join("%.1f" % x for x in xs)


def machine_lines(meta, pg):
    """The list under "### Machine"; pg follows "PostgreSQL <version>; "."""
    return ["- CPU: %s, %s CPUs available (`nproc`)" % (meta.get("cpu", "?"), meta.get("nproc", "?")),
            "- memory: %s; OS: %s" % (meta.get("memory", "?"), meta.get("os", "?")),
            "- PostgreSQL %s; %s" % (meta.get("pg", "?"), pg),
            "- load average (1, 5, 15 min) before / after: %s / %s; other" % (
                meta.get("load_before", "?"), meta.get("load_after", "?")),
            "  processes on the machine during the run make the figures noisier"]


def machine_and_reproduce(meta, pg, commands, more=()):
    """The sections "### Machine" (machine_lines, then the lines more) and
    "### Reproduce" (the build, then the commands, in a code block)."""
    return (["### Machine", ""] + machine_lines(meta, pg) + list(more) +
            ["", "### Reproduce", "", "```", "make && make install      # as root, in the checkout"] +
            list(commands) + ["```", ""])


# ---- the report -----------------------------------------------------------------

def write_summary(name, out, table):
    """Writes the table to DIR/NAME_summary.txt and prints it."""
    with open(os.path.join(out, name + "_summary.txt"), "w") as f:
        f.write(table)
    print()
    print(table, end="")


def write_section(doc, title, text):
    """Replaces the section title ("## ...") of doc by text, up to the next
    "## " heading, or appends text if there is no such section."""
    old = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n"
    m = re.search(r"^" + re.escape(title) + r"\n.*?(?=^## |\Z)", old, re.S | re.M)
    if m:
        new = old[:m.start()] + text + ("\n" if m.end() < len(old) else "") + old[m.end():]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    if not new.endswith("\n"):
        new += "\n"
    with open(doc, "w") as f:
        f.write(new)


def write_doc(name, a, title, text):
    """write_section on a.doc, and says so (the path relative to a.top if
    it is below it)."""
    write_section(a.doc, title, text)
    doc = os.path.abspath(a.doc)
    top = os.path.abspath(a.top) + os.sep
    log(name, "wrote the section \"%s\" of %s" % (title[3:], doc[len(top):] if doc.startswith(top) else doc))


# ---- the command line ---------------------------------------------------------------

def parse_args(name, argv, doc, rows, reps, port, cluster, extra=None):
    """`run` or `report` and their options (the defaults given), doc the
    driver's docstring; extra, if given, is called with the parser to add
    the driver's own options; exits when `run` is given fewer than 3 reps."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("run", "report"))
    ap.add_argument("--rows", type=int, default=rows)
    ap.add_argument("--reps", type=int, default=reps)
    ap.add_argument("--out", required=True)
    ap.add_argument("--doc", default="")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--top", default=os.path.dirname(here))
    ap.add_argument("--port", default=port)
    ap.add_argument("--cluster", default=cluster)
    if extra is not None:
        extra(ap)
    a = ap.parse_args(argv[1:])
    if a.command == "run" and a.reps < 3:
        raise SystemExit("%s.py: --reps must be at least 3" % name)
    return a
