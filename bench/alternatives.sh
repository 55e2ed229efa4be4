#!/usr/bin/env bash
# massmodel against the alternatives users pick, side by side in one run:
#
#   bash bench/alternatives.sh
#
#   train    every trainer massmodel has (linear_regression, ridge, lasso,
#            elastic_net, logistic_regression, naive_bayes, mlp (a regression
#            on y, $MLP_EPOCHS epochs), kmeans, pca): mm_train on a table
#            against the scikit-learn estimator that fits the same model
#            with the same hyper-parameters (LinearRegression, Ridge, Lasso,
#            ElasticNet, StandardScaler + LogisticRegression, GaussianNB,
#            StandardScaler + MLPRegressor, KMeans, PCA) on the same rows
#            already in a numpy array (only the fit timed), and against the
#            whole path a user takes: psycopg2 fetches the rows into numpy,
#            then the same fit (also with a binary COPY instead of the
#            fetch, the fastest export); each set of columns is exported
#            once per round, and export + fit is the median export plus the
#            median fit.  The warm-up round checks that both sides fitted
#            the same model (weights, class means and variances, centres,
#            explained variances, or the mlp's training rmse)
#   predict  per-row prediction over $PREDICT_ROWS rows:
#            SELECT sum(mm_predict('alt_m', t.*)) FROM alt_sub t against a
#            PL/Python function that unpickles a scikit-learn model once (SD)
#            and predicts one row per call, and against an HTTP service
#            (http.server + scikit-learn, in a background process on
#            127.0.0.1) that a psycopg2 client loop POSTs each row to
#
# Goals it reports against (no timed assertion): per-row predict >= 20x the
# rows/s of PL/Python + scikit-learn and >= 10x the HTTP service's; every
# trainer no slower than scikit-learn's fit alone and >= 2x faster than
# export + fit.
#
# Installs what it compares with (bash scripts/deps.sh --bench: Debian's
# postgresql-plpython3-15, python3-psycopg2, python3-sklearn, ...; nothing
# when they are there; root needed only when something is missing), starts
# a private cluster `benchalt` on port $BENCH_PORT (default 55465;
# scripts/cluster.sh, fresh every time) with shared_preload_libraries =
# 'massmodel', generates in SQL the table alt_t ($ROWS rows, default
# 1000000, x 20 float8 features, a float8 target y and a 0/1 label,
# deterministic), its first $PREDICT_ROWS rows (default 100000) as
# alt_sub, and alt_c ($ROWS rows x 20 float8 columns from 8 Gaussian
# blobs, for k-means), and times everything with
# max_parallel_workers_per_gather = 0 and jit = off, medians of $REPS
# executions (default 9, at least 3: this machine's times swing by a
# third between executions, and a median of 5 moved ratios near 1 across
# a goal) after a warm-up, the compared sides
# alternating (about 18 minutes with the defaults on 2 CPUs; MLP_EPOCHS=...,
# default 3, sets the mlp's epochs).  bench/alternatives.py (Debian's
# /usr/bin/python3 with numpy, scikit-learn and psycopg2) does the work: it
# prints the table, keeps the raw output in bench/results/alternatives_*.txt,
# the figures for plotting in bench/results/alternatives_ratios.json,
# and writes the section "## Against the alternatives" of
# docs/benchmarks.md, replacing it if it is there and appending it otherwise
# (ALT_DOC=... to write elsewhere, ALT_DOC= to write nothing).  The cluster
# and the HTTP service are stopped at the end.
# Needs the extension installed (make install) and runs as root or as a user
# that can run the server (see scripts/cluster.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55465}
ROWS=${ROWS:-1000000}
REPS=${REPS:-9}
PREDICT_ROWS=${PREDICT_ROWS:-100000}
MLP_EPOCHS=${MLP_EPOCHS:-3}
ALT_DOC=${ALT_DOC-$TOP/docs/benchmarks.md}
OUT=$HERE/results
CLUSTER=benchalt

# shellcheck source=bench/common.sh
. "$HERE/common.sh"

bench_check_args
[[ $PREDICT_ROWS =~ ^[0-9]+$ ]] && (( PREDICT_ROWS >= 1000 && PREDICT_ROWS <= ROWS )) || {
    echo "PREDICT_ROWS must be an integer from 1000 to ROWS ($ROWS)" >&2; exit 2; }
[[ $MLP_EPOCHS =~ ^[0-9]+$ ]] && (( MLP_EPOCHS >= 1 && MLP_EPOCHS <= 100000 )) || {
    echo "MLP_EPOCHS must be an integer from 1 to 100000" >&2; exit 2; }

if [[ $(id -u) -eq 0 ]]; then
    bash "$TOP/scripts/deps.sh" --bench
fi
/usr/bin/python3 -c 'import numpy, sklearn, psycopg2, threadpoolctl' 2>/dev/null &&
    [[ -f /usr/lib/postgresql/15/lib/plpython3.so ]] || {
    echo "alternatives.sh: needs postgresql-plpython3-15 and /usr/bin/python3 with numpy," \
         "scikit-learn and psycopg2 (as root: bash scripts/deps.sh --bench)" >&2; exit 2; }

bench_start_cluster "shared_preload_libraries = 'massmodel'"
bench_run alternatives "$ALT_DOC" --predict-rows "$PREDICT_ROWS" --mlp-epochs "$MLP_EPOCHS"
