#!/usr/bin/env bash
# The model-search benchmark: a grid search with k-fold cross-validation
# inside mm_train against a single mm_train on the same table.
#
#   bash bench/search.sh
#
# The claim it checks: a search over c candidates with "cv": k costs about
# one read of the data plus c x k fold fits (each on (k-1)/k of the training
# rows), not c x k trains that each read the data again.  The figures come
# from mm_train's own verbose NOTICEs (the "<ms> ms elapsed." DETAIL after
# the read, after the search and after the final fit) and from
# clock_timestamp() around each call; the result is a set of ratios, there
# is no timed assertion.
#
# Starts a private cluster `benchsearch` on port $BENCH_PORT (default 55452;
# scripts/cluster.sh, fresh every time), generates in SQL the tables
# search_reg (float8 target) and search_cls (0/1 target), $ROWS rows
# (default 200000) x 20 float8 features, deterministic, and times, with
# max_parallel_workers_per_gather = 0 and jit = off, in one backend:
#
#   logistic  logistic_regression {"C": 1} against
#             {"C": [0.01, 0.1, 1, 10], "cv": 5}
#   ridge     ridge {"alpha": 1, "scale": "standard"} against
#             {"alpha": [0.01, 0.1, 1, 10], "scale": "standard", "cv": 5}
#
# each the median of $REPS executions (default 5, at least 3) after a
# warm-up, single and search alternating.  bench/search.py (Debian's
# /usr/bin/python3, standard library only, talking to the server through
# psql) does the work: it prints the table, keeps the raw output in
# bench/results/search_*.txt, and writes the section "## Model search: one
# read, k x candidates fits" of docs/benchmarks.md, replacing it if it is
# there and appending it otherwise (SEARCH_DOC=... to write elsewhere,
# SEARCH_DOC= to write nothing).  The cluster is stopped at the end.
# Needs the extension installed (make install) and runs as root or as a user
# that can run the server (see scripts/cluster.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55452}
ROWS=${ROWS:-200000}
REPS=${REPS:-5}
SEARCH_DOC=${SEARCH_DOC-$TOP/docs/benchmarks.md}
OUT=$HERE/results
CLUSTER=benchsearch

# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_check_args
# shellcheck disable=SC2119 # (no settings of its own)
bench_start_cluster
bench_run search "$SEARCH_DOC"
