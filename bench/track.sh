#!/usr/bin/env bash
# The statistics-overhead benchmark: what counting predictions in shared
# memory (mm_stat_models, mm.track) costs a per-row predict.
#
#   bash bench/track.sh
#
# The goal it checks: counting costs at most 5 % of a per-row predict.  The
# per-row path only sets a flag and bumps a backend-local counter; the clock
# is read once per statement and the shared table touched once, at the end
# of the statement.  So each statement is timed whole (clock_timestamp()
# around it, the per-statement work included) with mm.track on and off, and
# the difference is put against the predict's own cost per row, net of the
# table scan.  The result is a set of ratios; there is no timed assertion.
#
# Starts a private cluster `benchtrack` on port $BENCH_PORT (default 55453;
# scripts/cluster.sh, fresh every time) with shared_preload_libraries =
# 'massmodel' (the shared table needs it), generates in SQL the table
# bench_t of bench/setup.sql ($ROWS rows, default 1000000, x 20 float8
# features + a float8 target, same seed: deterministic), trains
# mm_train('bt', 'linear_regression', 'bench_t', 'y'), checks once that a
# single counted statement shows calls 1 and rows $ROWS in mm_stat_models,
# and times, with max_parallel_workers_per_gather = 0 and jit = off, in one
# backend:
#
#   row     SELECT sum(mm_predict('bt', t.*)) FROM bench_t t
#   array   SELECT sum(mm_predict('bt', ARRAY[x1, ..., x20])) FROM bench_t t
#           each with mm.track = on and mm.track = off
#   scan    SELECT sum(x1) FROM bench_t, the scan under both
#
# each the median of $REPS executions (default 9, at least 3) after a
# warm-up, on and off alternating in each round.  bench/track.py (Debian's
# /usr/bin/python3, standard library only, talking to the server through
# psql) does the work: it prints the table, keeps the raw output in
# bench/results/track_*.txt, and writes the section "## Statistics
# overhead (mm.track)" of docs/benchmarks.md, replacing it if it is there
# and appending it otherwise (TRACK_DOC=... to write elsewhere, TRACK_DOC=
# to write nothing).  The cluster is stopped at the end.
# Needs the extension installed (make install) and runs as root or as a user
# that can run the server (see scripts/cluster.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55453}
ROWS=${ROWS:-1000000}
REPS=${REPS:-9}
TRACK_DOC=${TRACK_DOC-$TOP/docs/benchmarks.md}
OUT=$HERE/results
CLUSTER=benchtrack

# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_check_args
bench_start_cluster "shared_preload_libraries = 'massmodel'"
bench_run track "$TRACK_DOC"
