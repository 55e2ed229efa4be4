#!/usr/bin/env bash
# The scaling benchmark: time against rows.
#
#   bash bench/scale.sh
#   SIZES="100000 300000 1000000 3000000" REPS=3 bash bench/scale.sh
#
# The claim it checks: training (linear_regression) and per-row prediction
# cost time proportional to the number of rows, like the plain scan of the
# table, so their per-row costs (ns/row) stay flat and the slope of log time
# against log rows is close to 1.  The result is a table, fitted slopes and
# two figures; there is no timed assertion.
#
# Starts a private cluster `benchscale` on port $BENCH_PORT (default 55467;
# scripts/cluster.sh, fresh every time) with shared_preload_libraries =
# 'massmodel', max_parallel_workers_per_gather = 0 and jit = off, generates
# in SQL the largest of $SIZES rows (default "100000 300000 1000000 3000000
# 10000000") x 20 float8 features and a float8 target once (as
# bench/setup.sql does, deterministic) and copies its first n rows into a
# table t_n per size, then times per size, each the median of $REPS
# executions (default 3, at least 3) after a warm-up:
#
#   (a) scan     SELECT sum(x1 + ... + x20) FROM t_n              (the floor)
#   (b) train    mm_train('s', 'linear_regression', 't_n', 'y')
#   (c) predict  SELECT sum(mm_predict('s', t.*)) FROM t_n t
#   (d) formula  the model's weights (mm_weights) written as
#                SELECT sum(b0 + w1 * x1 + ... + w20 * x20) FROM t_n
#
# bench/scale.py (Debian's /usr/bin/python3 with python3-matplotlib,
# talking to the server through psql) does the work: it prints the table,
# keeps the raw output in bench/results/scale_*.txt, draws
# docs/img/scale_time.png and docs/img/scale_ratio.png, and writes the
# section "## Scaling: time against rows" of docs/benchmarks.md, replacing
# it if it is there and appending it otherwise (SCALE_DOC=... to write
# elsewhere, SCALE_DOC= to write nothing; SCALE_IMG=DIR draws the figures
# elsewhere).  The cluster is stopped at the
# end.  Needs the extension installed (make install) and runs as root or as
# a user that can run the server (see scripts/cluster.sh).  The 10,000,000
# row size needs about 4 GB of disk and several minutes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55467}
SIZES=${SIZES:-"100000 300000 1000000 3000000 10000000"}
REPS=${REPS:-3}
SCALE_DOC=${SCALE_DOC-$TOP/docs/benchmarks.md}
SCALE_IMG=${SCALE_IMG:-$TOP/docs/img}
OUT=$HERE/results
CLUSTER=benchscale

for n in $SIZES; do
    [[ $n =~ ^[0-9]+$ ]] && (( n >= 1000 )) || { echo "SIZES must be integers of at least 1000" >&2; exit 2; }
done
# bench_check_args checks ROWS: the largest size
ROWS=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -1)

# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_check_args
bench_start_cluster "shared_preload_libraries = 'massmodel'"
/usr/bin/python3 "$HERE/scale.py" run \
    --sizes "$SIZES" --reps "$REPS" --out "$OUT" --doc "$SCALE_DOC" \
    --img "$SCALE_IMG" --top "$TOP" --port "$PORT" --cluster "$CLUSTER"
