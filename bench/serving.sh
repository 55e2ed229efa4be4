#!/usr/bin/env bash
# The serving benchmark: what predicting costs an application, side by side
# with plain SQL in one run.
#
#   bash bench/serving.sh
#   ROWS=200000 REPS=3 PREDICTIONS=1000000 bash bench/serving.sh
#
# Five measurements, each against a baseline measured in the same run; the
# result is a set of ratios, there is no timed assertion:
#
#   batch     one statement over the table t ($ROWS rows x 20 float8
#             features): SELECT sum(mm_predict('m', t.*)) FROM t, the array
#             input mm_predict('m', ARRAY[x1, ..., x20]) and, for the
#             classifier, mm_predict_proba, for linear_regression,
#             logistic_regression, mlp (hidden_layers [64]) and kmeans models,
#             against the plain scan SELECT sum(x1 + ... + x20) FROM t and the
#             model's weights written by hand as SQL (the formula)
#   single    one prepared statement SELECT mm_predict('m', $1::float8[])
#             executed $CALLS times (default 10000) over one connection by
#             pgbench (-M prepared), against the same loop running the
#             hand-written formula and SELECT 1: median latency per statement
#   cold      the first statement of a new connection, a predict (the
#             backend reads and deserializes the model) against the formula,
#             over $COLD new connections each (default 30), linear and mlp
#   memory    one backend's VmRSS / VmHWM (/proc/PID/status) and the total of
#             pg_backend_memory_contexts before its first predict and after a
#             statement of $PREDICTIONS/10 and one of $PREDICTIONS predictions
#             (default 10000000; generate_series, no table), linear (row and
#             array input), mlp, and the formula as the baseline
#   parallel  max_parallel_workers_per_gather = 2 against 0: the batch
#             predict, mm_train of linear_regression and ridge (one
#             aggregate scan) and the plain scan; EXPLAIN records the plans
#
# Starts a private cluster `benchserve` on port $BENCH_PORT (default 55475;
# scripts/cluster.sh, fresh every time) with shared_preload_libraries =
# 'massmodel' (and bench/common.sh's settings: jit = off, ...), generates
# the tables in SQL after setseed() (deterministic), trains the models once
# and times; medians of $REPS runs (default 5, at least 3) after a warm-up.
# bench/serving.py (Debian's /usr/bin/python3 with psycopg2 and, for the
# figures, python3-matplotlib) does the work: it prints the tables, keeps
# the raw output in bench/results/serving_*.txt and the headline figures in
# bench/results/serving_ratios.json, draws docs/img/serving_*.png, and
# writes the section "## Serving: latency, cold start, memory, parallel
# query" of docs/benchmarks.md, replacing it if it is there and appending
# it otherwise (SERVE_DOC=... to write elsewhere, SERVE_DOC= to write
# nothing; SERVE_IMG=DIR to draw the figures elsewhere).  The cluster is
# stopped at the end.  It reads /proc/PID/status of the server's backends,
# so it runs on the server's machine, as root or as the server's OS user.
# Needs the extension installed (make install).  The default run takes
# about 3 to 5 minutes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55475}
ROWS=${ROWS:-1000000}
REPS=${REPS:-5}
CALLS=${CALLS:-10000}
COLD=${COLD:-30}
PREDICTIONS=${PREDICTIONS:-10000000}
SERVE_DOC=${SERVE_DOC-$TOP/docs/benchmarks.md}
SERVE_IMG=${SERVE_IMG:-$TOP/docs/img}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
OUT=$HERE/results
CLUSTER=benchserve

# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_check_args
[[ $CALLS =~ ^[0-9]+$ ]] && (( CALLS >= 100 )) || { echo "CALLS must be an integer of at least 100" >&2; exit 2; }
[[ $COLD =~ ^[0-9]+$ ]] && (( COLD >= 3 )) || { echo "COLD must be an integer of at least 3" >&2; exit 2; }
[[ $PREDICTIONS =~ ^[0-9]+$ ]] && (( PREDICTIONS >= 10000 )) || {
    echo "PREDICTIONS must be an integer of at least 10000" >&2; exit 2; }
[[ -x $PGBENCH ]] || { echo "serving.sh: $PGBENCH not found (postgresql-15)" >&2; exit 2; }
/usr/bin/python3 -c 'import psycopg2, matplotlib' 2>/dev/null || {
    echo "serving.sh: needs /usr/bin/python3 with psycopg2 and matplotlib" \
         "(Debian's python3-psycopg2 and python3-matplotlib)" >&2; exit 2; }

bench_start_cluster "shared_preload_libraries = 'massmodel'"
bench_run serving "$SERVE_DOC" --calls "$CALLS" --cold "$COLD" --predictions "$PREDICTIONS" \
    --pgbench "$PGBENCH" --img "$SERVE_IMG"
