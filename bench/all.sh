#!/usr/bin/env bash
# Every massmodel benchmark, one after the other, then the summary:
#
#   bash bench/all.sh             # the documented run (about 30 minutes)
#   QUICK=1 bash bench/all.sh     # small sizes, no document written: checks
#                                 # that every benchmark runs (a few minutes)
#
# Runs, each with its own defaults (see the comment at the top of each
# script; ROWS=... and REPS=... given here are passed on to all of them):
#   bench/run.sh           floors: train / aggregate scan, predict / the
#                          hand-written formula, parallel train, jit,
#                          logistic regression against scikit-learn
#   bench/core.sh          the C core: MLP GFLOP/s against dgemm, k-means
#                          and MLP against scikit-learn
#   bench/alternatives.sh  every trainer against scikit-learn's fit and
#                          against export + fit; per-row predict against
#                          PL/Python + scikit-learn and an HTTP service
#   bench/serving.sh       batch and single-row predict, cold first predict,
#                          memory after 10 million predictions, parallel
#                          query
#   bench/search.sh        grid search over k folds against one mm_train
#   bench/track.sh         the cost of the statistics in shared memory
#   bench/scale.sh         time against rows, 100k to 10M
# and then bench/summary.py: the table of every goal with its measured
# ratio at the top of docs/benchmarks.md, and the chart
# docs/img/goals.png.  Each benchmark writes its own section of
# docs/benchmarks.md and its plots under docs/img/.  A benchmark that fails
# is reported and the others still run; the exit status is 1 then.
#
# Run as root on a machine set up by the README's first command (the
# scripts install what they compare with through scripts/deps.sh --bench);
# each starts and stops its own private cluster.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BENCHES=${BENCHES:-"run core alternatives serving search track scale"}

if [[ -n ${QUICK:-} ]]; then
    # small sizes; every document variable empty so nothing is written
    export ROWS=${ROWS:-20000} REPS=${REPS:-3} PREDICT_ROWS=${PREDICT_ROWS:-2000}
    export PREDICTIONS=${PREDICTIONS:-200000} SIZES=${SIZES:-"10000 20000 40000"}
    export THREADS=${THREADS:-1}
    export BENCH_DOC= CORE_DOC= ALT_DOC= SERVE_DOC= SEARCH_DOC= TRACK_DOC= SCALE_DOC=
    export SERVE_IMG=${SERVE_IMG:-/tmp/massmodel-bench-quick} SCALE_IMG=${SCALE_IMG:-/tmp/massmodel-bench-quick}
    mkdir -p "$SERVE_IMG" "$SCALE_IMG"
fi

started=$(date +%s)
failed=()
for b in $BENCHES; do
    [[ -f $HERE/$b.sh ]] || { echo "all.sh: no benchmark bench/$b.sh" >&2; failed+=("$b"); continue; }
    t0=$(date +%s)
    echo "==== bench/$b.sh ($(date -u '+%H:%M:%S') UTC) ===="
    # run.sh and core.sh want at least 5 and 1 repetitions of their own
    if [[ $b == run && -n ${QUICK:-} ]]; then
        REPS=5 bash "$HERE/$b.sh" || failed+=("$b")
    else
        bash "$HERE/$b.sh" || failed+=("$b")
    fi
    echo "==== bench/$b.sh: $(( $(date +%s) - t0 )) s"
done

if [[ -z ${QUICK:-} ]]; then
    /usr/bin/python3 "$HERE/summary.py" --doc "$TOP/docs/benchmarks.md" \
        --img "$TOP/docs/img/goals.png" || failed+=(summary)
else
    /usr/bin/python3 "$HERE/summary.py" --doc "$TOP/docs/benchmarks.md" --dry-run || failed+=(summary)
fi

echo "all.sh: $(( $(date +%s) - started )) s; failed: ${failed[*]:-none}"
(( ${#failed[@]} == 0 ))
