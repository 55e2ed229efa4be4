#!/usr/bin/env bash
# The massmodel benchmark: training and prediction against plain SQL on the
# same table, in the same server, with all data cached.
#
#   bash bench/run.sh
#
# Starts a private cluster `bench` on port $PORT (scripts/cluster.sh, fresh
# every time), loads bench/setup.sql (the table bench_t: $ROWS rows x 20
# float8 features + a float8 target, deterministic), times each statement
# as the median of $REPS executions after a warm-up (bench_run in
# setup.sql), prints the table of medians and ratios, writes it to
# docs/benchmarks.md (set BENCH_DOC=... to write elsewhere, or BENCH_DOC=
# to write nothing), and stops the cluster.  Raw timings and the server log
# stay in bench/results/.
#
# Phases, each in the same server and on the same table:
#   serial    max_parallel_workers_per_gather = 0, jit = off: the ratios
#             with their goals (train / scan, predict / hand-written SQL)
#   parallel  max_parallel_workers_per_gather = 2, jit = off: train / scan,
#             both sides allowed a parallel plan
#   jit       max_parallel_workers_per_gather = 0, jit = on (the server's
#             default): the same ratios as serial, for information
#   logistic  max_parallel_workers_per_gather = 0, jit = off: mm_train
#             logistic_regression on the table bench_lt ($ROWS rows x 20,
#             0/1 label), with mm.blas_threads = 1 (the default) and 2,
#             against scikit-learn's LogisticRegression fit on the same rows
#             in a numpy array (bench/logistic.py, Debian's /usr/bin/python3,
#             run after the server's timings, once with OpenBLAS's default
#             threads and once with OPENBLAS_NUM_THREADS=1)
# Needs the extension installed (make install), python3-sklearn and
# python3-numpy for the scikit-learn side, and runs as root or as a user
# that can run the server (see scripts/cluster.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
PORT=${BENCH_PORT:-55450}
ROWS=${ROWS:-1000000}
REPS=${REPS:-9}
BENCH_DOC=${BENCH_DOC-$TOP/docs/benchmarks.md}
OUT=$HERE/results
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
CLUSTER=bench

(( REPS >= 5 )) || { echo "REPS must be at least 5" >&2; exit 2; }
mkdir -p "$OUT"

# scikit-learn side: Debian's python with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE removed from its environment (if set they can force a
# slower kernel for numpy); the thread count is left to OpenBLAS or set
# with OPENBLAS_NUM_THREADS below.
PY=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3)
"${PY[@]}" -c 'import numpy, sklearn, threadpoolctl' 2>/dev/null || {
    echo "bench: needs /usr/bin/python3 with numpy, scikit-learn and threadpoolctl" \
         "(apt-get install -y python3-sklearn python3-numpy)" >&2; exit 2; }

cleanup() { bash "$TOP/scripts/cluster.sh" stop "$CLUSTER" || true; }
trap cleanup EXIT

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
export $(bash "$TOP/scripts/cluster.sh" start "$CLUSTER" "$PORT" \
    "shared_buffers = '1GB'" \
    "work_mem = '64MB'" \
    "maintenance_work_mem = '256MB'" \
    "max_parallel_workers_per_gather = 0" \
    "max_worker_processes = 8" \
    "max_parallel_workers = 8" \
    "autovacuum = off" \
    "checkpoint_timeout = '30min'" \
    "max_wal_size = '4GB'")
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d postgres)

echo "bench: creating bench_t and bench_lt ($ROWS rows x 20 features) ..." >&2
"${PSQL[@]}" -v rows="$ROWS" -f "$HERE/setup.sql" >"$OUT/setup.log"

# ---- the statements -------------------------------------------------------
cols=$(seq -f 'x%g' -s ', ' 1 20)
sums=$(seq -f 'sum(x%g)' -s ', ' 1 20)
Q_SCAN="SELECT $sums, sum(y) FROM bench_t"
Q_TRAIN="SELECT * FROM mm_train('b', 'linear_regression', 'bench_t', 'y', deploy => 'always')"
Q_ARRAY="SELECT sum(mm_predict('b', ARRAY[$cols])) FROM bench_t"
Q_ROW="SELECT sum(mm_predict('b', t)) FROM bench_t t"
Q_LR="SELECT * FROM mm_train('blt', 'logistic_regression', 'bench_lt', 'y', test_fraction => 0, deploy => 'always')"

# The hand-written formula needs the model: train once, read mm_weights
# (intercept first, then the features in training order) and write the
# weights as float8 literals (shortest exact text: extra_float_digits = 1).
"${PSQL[@]}" -c "$Q_TRAIN" >"$OUT/train0.log"
Q_FORMULA=$("${PSQL[@]}" -At -c "
    SELECT 'SELECT sum(' || string_agg(
               CASE WHEN feature = 'intercept' THEN format('float8 %L', weight)
                    ELSE format('float8 %L * %I', weight, feature) END,
               ' + ' ORDER BY ord) || ') FROM bench_t'
      FROM mm_weights('b') WITH ORDINALITY AS w(class, feature, weight, ord)")
nweights=$(grep -o ' \* ' <<<"$Q_FORMULA" | wc -l)
[[ $nweights -eq 20 ]] || { echo "bench: expected 20 weights, got $nweights: $Q_FORMULA" >&2; exit 1; }
printf '%s\n' "$Q_SCAN" "$Q_TRAIN" "$Q_ARRAY" "$Q_ROW" "$Q_FORMULA" "$Q_LR" >"$OUT/statements.sql"

# ---- the timed phases (one backend) ----------------------------------------
echo "bench: timing, $REPS repetitions after a warm-up ..." >&2
"${PSQL[@]}" -v reps="$REPS" \
    -v q_scan="$Q_SCAN" -v q_train="$Q_TRAIN" -v q_formula="$Q_FORMULA" \
    -v q_array="$Q_ARRAY" -v q_row="$Q_ROW" -v q_lr="$Q_LR" >"$OUT/timing.log" 2>&1 <<'EOF'
SET jit = off;
SET max_parallel_workers_per_gather = 0;
CALL bench_run('serial', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
CALL bench_run('serial', ARRAY['formula', 'predict_array', 'predict_row'],
               ARRAY[:'q_formula', :'q_array', :'q_row'], :reps);

-- the parallel phase trains through the query (the aggregate), whose plan
-- may be parallel; the default direct read of a table runs in one backend
SET max_parallel_workers_per_gather = 2;
SET mm.direct_scan = off;
CALL bench_run('parallel', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
-- which plans ran: the scan's and the one inside mm_train
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
:q_scan;
:q_train;
RESET auto_explain.log_min_duration;
RESET mm.direct_scan;

SET max_parallel_workers_per_gather = 0;
SET jit = on;
CALL bench_run('jit', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
CALL bench_run('jit', ARRAY['formula', 'predict_array', 'predict_row'],
               ARRAY[:'q_formula', :'q_array', :'q_row'], :reps);
SET jit = off;

-- logistic regression, serial settings, mm.blas_threads 1 (default) and 2;
-- the rows held in memory (about 330 MB) exceed the default memory cap
SET mm.max_train_memory = '1GB';
CALL bench_run('logistic', ARRAY['mm_lr'], ARRAY[:'q_lr'], :reps);
SET mm.blas_threads = 2;
CALL bench_run('logistic', ARRAY['mm_lr_t2'], ARRAY[:'q_lr'], :reps);
RESET mm.blas_threads;
EOF

# ---- logistic regression: scikit-learn on the same rows --------------------
# bench_lt goes once through a binary COPY into numpy (not timed); then
# bench/logistic.py times the fits, REPS each after a warm-up.  Its `ms`
# lines join the server's timings in bench_times (phase logistic).
sk_run() {   # sk_run LABEL [VAR=value ...]
    local label=$1; shift
    "${PSQL[@]}" -c "COPY bench_lt TO STDOUT (FORMAT binary)" |
        env "$@" "${PY[@]}" "$HERE/logistic.py" "$REPS" "$label" \
            >"$OUT/sklearn_$label.txt" 2>"$OUT/sklearn_$label.log"
    awk -F'|' '$1 == "ms" { printf "logistic\t%s\t%s\t%s\n", $2, $3, $4 }' \
        "$OUT/sklearn_$label.txt" |
        "${PSQL[@]}" -c "COPY bench_times FROM STDIN"
}
echo "bench: scikit-learn, $REPS repetitions after a warm-up ..." >&2
sk_run sk
sk_run sk1 OPENBLAS_NUM_THREADS=1
skval() { awk -F'|' -v k="$2" -v l="$3" '$1 == k && $2 == l { print $3 }' "$OUT/sklearn_$1.txt"; }
sk_blas=$(awk -F'|' '$1 == "blas" { print $2 }' "$OUT/sklearn_sk.txt" | paste -sd ';' -)
sk1_blas=$(awk -F'|' '$1 == "blas" { print $2 }' "$OUT/sklearn_sk1.txt" | paste -sd ';' -)
sk_omp=$(awk -F'|' '$1 == "openmp" { print $2 }' "$OUT/sklearn_sk.txt" | paste -sd ';' -)
sk_versions=$(awk -F'|' '$1 == "versions" { print $2 }' "$OUT/sklearn_sk.txt")
sk_warn=$(cat "$OUT"/sklearn_sk.txt "$OUT"/sklearn_sk1.txt | awk -F'|' '$1 == "warn" { print $2 }' | sort -u | paste -sd ';' -)
acc_fit=$(skval sk acc sk_fit); acc_pipe=$(skval sk acc sk_pipe)
iter_fit=$(skval sk iter sk_fit); iter_pipe=$(skval sk iter sk_pipe)
rows_lt=$(awk -F'|' '$1 == "rows" { print $2 " x " $3 }' "$OUT/sklearn_sk.txt")
# massmodel's training accuracy (test_fraction 0: evaluated on the training
# rows), from one more, untimed, training
acc_mm=$("${PSQL[@]}" -At -c "SET mm.max_train_memory = '1GB'" -c "SELECT metrics->>'accuracy' FROM ($Q_LR) t")
acc_diff=$(awk -v m="$acc_mm" -v f="$acc_fit" -v p="$acc_pipe" 'BEGIN {
    d1 = m - f; if (d1 < 0) d1 = -d1; d2 = m - p; if (d2 < 0) d2 = -d2
    d = d1 > d2 ? d1 : d2; printf "%.1e (%s)", d, d <= 1e-4 ? "agree" : "DIFFER" }')
openblas_env=$(env | grep -E '^OPENBLAS_(CORETYPE|L2_SIZE|NUM_THREADS)=' | paste -sd ' ' - || true)

# Agreement of the three prediction paths (relative difference of the sums).
agree=$("${PSQL[@]}" -At -F ' ' -v q_formula="$Q_FORMULA" -v q_array="$Q_ARRAY" -v q_row="$Q_ROW" <<'EOF'
SELECT (:q_formula) AS f, (:q_array) AS a, (:q_row) AS r \gset
SELECT to_char(greatest(abs(:a - :f), abs(:r - :f)) / greatest(abs(:f), 1e-300), '9.9EEEE');
EOF
)
workers=$( { grep -o 'Workers Planned: [0-9]*' "$OUT/timing.log" || true; } | awk '{print $3}' | paste -sd, -)
"${PSQL[@]}" -At -F '|' -c "
    SELECT phase, label, count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
           round(min(ms)::numeric, 1), round(max(ms)::numeric, 1)
      FROM bench_times GROUP BY phase, label ORDER BY phase, label" >"$OUT/medians.txt"
"${PSQL[@]}" -At -F '|' -c "SELECT * FROM bench_times ORDER BY phase, rep, label" >"$OUT/times.txt"
pgversion=$("${PSQL[@]}" -At -c "SHOW server_version")
elapsed=$(( $(date +%s) - started ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
agree=${agree// /}

# ---- the table ---------------------------------------------------------------
med() { awk -F'|' -v p="$1" -v l="$2" '$1 == p && $2 == l { print $4 }' "$OUT/medians.txt"; }
mins() { awk -F'|' -v p="$1" -v l="$2" '$1 == p && $2 == l { print $5 }' "$OUT/medians.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "met" : "MISSED") }'; }

# rows: label|statement|baseline|phase|num|den|goal
rows=(
  "train|mm_train linear_regression (test_fraction 0.2)|aggregate scan sum(x1..x20, y)|serial|train|scan|1.5"
  "array predict|sum(mm_predict('b', ARRAY[x1..x20]))|sum(b0 + w1*x1 + ... + w20*x20)|serial|predict_array|formula|1.1"
  "row predict|sum(mm_predict('b', t))|sum(b0 + w1*x1 + ... + w20*x20)|serial|predict_row|formula|1.5"
  "train, parallel (2 workers)|mm_train linear_regression, mm.direct_scan = off|aggregate scan, parallel|parallel|train|scan|-"
  "train, jit on|mm_train linear_regression|aggregate scan, jit on|jit|train|scan|-"
  "array predict, jit on|sum(mm_predict(..., ARRAY[...]))|hand-written formula, jit on|jit|predict_array|formula|-"
  "row predict, jit on|sum(mm_predict(..., t))|hand-written formula, jit on|jit|predict_row|formula|-"
  "logistic train|mm_train logistic_regression (test_fraction 0)|sklearn LogisticRegression(C=1.0).fit|logistic|mm_lr|sk_fit|1.0"
  "logistic, sklearn 1 thread|mm_train logistic_regression|sklearn fit, OPENBLAS_NUM_THREADS=1|logistic|mm_lr|sk1_fit|-"
  "logistic vs sklearn scaled|mm_train logistic_regression|sklearn StandardScaler + LogisticRegression fit|logistic|mm_lr|sk_pipe|-"
  "logistic vs scaled, 1 thread|mm_train logistic_regression|sklearn StandardScaler + LogisticRegression fit, OPENBLAS_NUM_THREADS=1|logistic|mm_lr|sk1_pipe|-"
  "logistic, blas_threads 2|mm_train logistic_regression, mm.blas_threads = 2|sklearn LogisticRegression(C=1.0).fit|logistic|mm_lr_t2|sk_fit|-"
)

text_table=$(printf '%-28s %12s %12s %7s %6s %-8s %s\n' "ratio of medians" "massmodel ms" "baseline ms" "ratio" "goal" "" "(ratio of minima)")
md_table="| case | massmodel statement | median ms | baseline | median ms | ratio | goal | ratio of minima |
|---|---|---:|---|---:|---:|---|---:|"
for r in "${rows[@]}"; do
    IFS='|' read -r label stmt base phase num den goal <<<"$r"
    a=$(med "$phase" "$num"); b=$(med "$phase" "$den")
    q=$(ratio "$a" "$b")
    qm=$(ratio "$(mins "$phase" "$num")" "$(mins "$phase" "$den")")
    if [[ $goal == - ]]; then g="-"; v=""; else g="<= $goal"; v=$(verdict "$q" "$goal"); fi
    text_table+=$'\n'$(printf '%-28s %12s %12s %7s %6s %-8s (%s)' "$label" "$a" "$b" "$q" "$g" "$v" "$qm")
    md_table+=$'\n'"| $label | \`$stmt\` | $a | \`$base\` | $b | **$q** | $g ${v:+($v)} | $qm |"
done

echo
echo "massmodel benchmark: $ROWS rows x 20 float8 features, median of $REPS after a warm-up"
echo "$text_table"
echo
echo "prediction paths agree: max relative difference of the sums = $agree"
echo "parallel phase, Workers Planned (scan, mm_train's scan): ${workers:-none}"
echo "logistic: training accuracy massmodel $acc_mm, sklearn fit $acc_fit ($iter_fit lbfgs iterations)," \
     "sklearn scaled $acc_pipe ($iter_pipe iterations); max difference $acc_diff"
echo "logistic: sklearn ($sk_versions) on $rows_lt rows, default threads: BLAS $sk_blas; OpenMP $sk_omp"
echo "logistic: sklearn with OPENBLAS_NUM_THREADS=1: BLAS $sk1_blas"
echo "logistic: sklearn warnings: ${sk_warn:-none}"
echo "logistic: OPENBLAS_* in the environment of this script (and so of the server): ${openblas_env:-none}"
echo "load average before / after: $load_before / $load_after ($(nproc) CPUs)"
echo "elapsed: ${elapsed}s; raw timings in bench/results/"

# ---- docs/benchmarks.md ------------------------------------------------------
[[ -n $BENCH_DOC ]] || exit 0
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
blas_pkg=$(dpkg-query -W -f='${Package} ${Version}\n' 'libopenblas0*' 2>/dev/null |
           awk 'NF == 2' | paste -sd ';' - | sed 's/;/; /g')
blas_lib=$(ldd "$($PG_BINDIR/pg_config --pkglibdir 2>/dev/null || pg_config --pkglibdir)/massmodel.so" 2>/dev/null |
           awk '/blas/ { print $3 }' | head -1)
[[ -n $blas_lib ]] && blas_lib=$(readlink -f "$blas_lib")
commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$TOP" status --porcelain -- src sql 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)

# the sections other scripts write (bench/core.sh, bench/search.sh) follow
# this one's and are kept as they are
kept=$(awk '/^## (Core|Model search)/ { p = 1 } p' "$BENCH_DOC" 2>/dev/null || true)

cat >"$BENCH_DOC" <<EOF
# Benchmarks

Generated by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d) (commit $commit$dirty).
Ratios are what matter; absolute times depend on the machine.

## What is measured

One table, \`bench_t\`: $ROWS rows of 20 \`float8\` features \`x1 .. x20\`
and a \`float8\` target \`y\`, a linear function of the features plus uniform
noise, generated in SQL with \`random()\` after \`setseed()\` (bench/setup.sql:
the same table on every run).  The table is frozen, analyzed and loaded into
\`shared_buffers\` (pg_prewarm) before any timing, so every statement reads
cached pages.

Every statement is timed in one backend by \`clock_timestamp()\` around a
PL/pgSQL \`EXECUTE\` (procedure \`bench_run\` in bench/setup.sql): one
warm-up execution of each statement, then $REPS rounds in which the compared
statements alternate; the figure is the median of the $REPS executions, and
a ratio is the ratio of two medians (the goals apply to it).  The ratio of
the fastest executions is shown too: on a busy machine it is the steadier of
the two.

| case | massmodel statement | baseline (plain SQL) |
|---|---|---|
| train | \`SELECT * FROM mm_train('b', 'linear_regression', 'bench_t', 'y', deploy => 'always')\` (default \`test_fraction\` 0.2) | \`SELECT sum(x1), ..., sum(x20), sum(y) FROM bench_t\` |
| array predict | \`SELECT sum(mm_predict('b', ARRAY[x1, ..., x20])) FROM bench_t\` | \`SELECT sum(b0 + w1 * x1 + ... + w20 * x20) FROM bench_t\`, the model's weights from \`mm_weights('b')\` written as \`float8\` literals |
| row predict | \`SELECT sum(mm_predict('b', t)) FROM bench_t t\` | the same formula |

Phases (settings made with SET; both sides of a ratio always run with the same):

- **serial**: \`max_parallel_workers_per_gather = 0\`, \`jit = off\`.  The
  ratios with goals.
- **parallel**: \`max_parallel_workers_per_gather = 2\`, \`jit = off\`, and
  \`mm.direct_scan = off\`, so that \`mm_train\` reads through the query: the
  baseline scan and the scan inside \`mm_train\` may both use a parallel plan
  (Workers Planned, scan and mm_train's scan: ${workers:-none}).  (The
  default direct read of a table runs in one backend whatever the setting.)
- **jit on** (the server's default): \`max_parallel_workers_per_gather = 0\`,
  for information.
- **logistic**: \`max_parallel_workers_per_gather = 0\`, \`jit = off\`;
  logistic regression against scikit-learn (below).

Server settings: \`shared_buffers = '1GB'\`, \`work_mem = '64MB'\`,
\`fsync = off\`, \`autovacuum = off\`, otherwise the defaults of
PostgreSQL $pgversion (massmodel defaults: \`mm.blas_threads = 1\`).

### Logistic regression against scikit-learn

A second table, \`bench_lt\`: $ROWS rows of 20 \`float8\` features
(\`x_i\` uniform in [-i/2, i/2]) and an \`integer\` label \`y\` in {0, 1}
drawn from a logistic model of a linear score, so the classes overlap (not
separable); generated in SQL after \`setseed()\` like \`bench_t\`, frozen
and prewarmed.

- **massmodel**: \`SELECT * FROM mm_train('blt', 'logistic_regression',
  'bench_lt', 'y', test_fraction => 0, deploy => 'always')\`, otherwise the
  defaults (penalty l2, C 1, standard scaling), with
  \`SET mm.max_train_memory = '1GB'\` (the $ROWS rows x 20 held in memory
  exceed the default cap), timed like the statements above, $REPS times
  after a warm-up, with \`mm.blas_threads = 1\` (the default) and
  \`SET mm.blas_threads = 2\`.  Each execution reads the
  rows from the table through SPI, standardises the features, runs Newton
  iterations to convergence, scores the training rows (the metrics),
  and stores and deploys a new model version.
- **scikit-learn** (bench/logistic.py, Debian's \`/usr/bin/python3\`,
  $sk_versions): the same rows, read once through
  \`COPY bench_lt TO STDOUT (FORMAT binary)\` into a numpy array (not
  timed); then only the fit is timed, \`LogisticRegression(C=1.0).fit(X, y)\`
  (lbfgs, default \`tol\` and \`max_iter\`, on the raw features), and
  \`make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(X, y)\`,
  the same objective as massmodel's default; the two alternate, $REPS
  times each after a warm-up.  It runs after the server's timings (the
  server idle), once with OpenBLAS's default threads and once with
  \`OPENBLAS_NUM_THREADS=1\`, with \`OPENBLAS_CORETYPE\` and
  \`OPENBLAS_L2_SIZE\` removed from its environment.  scikit-learn's own
  loss and gradient run in one thread (lbfgs passes \`n_threads=1\`); only
  the BLAS calls (the matrix-vector products) are threaded.
  - default threads, as reported by threadpoolctl: BLAS $sk_blas; OpenMP $sk_omp
  - with \`OPENBLAS_NUM_THREADS=1\`: BLAS $sk1_blas
  - lbfgs iterations: $iter_fit (raw features), $iter_pipe (standardised);
    warnings: ${sk_warn:-none}

The goal applies to \`logistic train\`: massmodel with its default settings
against scikit-learn's plain \`fit\` with its default threads.  The
massmodel side does more work than the timed scikit-learn call (reading the
table, scaling, scoring, the catalog).

## Results

$md_table

The three prediction paths agree: the largest relative difference between
the sums of predictions and the sum of the hand-written formula is $agree.

The logistic models agree: training accuracy $acc_mm (massmodel),
$acc_fit (scikit-learn \`LogisticRegression\`), $acc_pipe (scikit-learn
with \`StandardScaler\`); largest difference $acc_diff.

## Where the time goes

- **Prediction** is cheaper than the hand-written formula because the
  planner rewrites \`mm_predict(m, ARRAY[x1, ...])\` and \`mm_predict(m, t)\`
  into \`mm_predict_fields(m, v, ..., x1, x2, ...)\` (a support function,
  src/mm_support.c): no array and no composite row is built per row, the
  model is resolved once per statement, and the dot product is one C loop
  where the formula costs 40 function calls.  With JIT the formula is
  compiled too and the gap narrows.
- **Training** reads \`bench_t\` straight from its heap (\`mm.direct_scan\`,
  on by default for a plain table of numeric columns): no executor, no
  projection, no call per row; the values of each tuple are copied from
  their offsets.  Per row it hashes the values for the held-out split,
  copies the row into a block (folded into the co-moments with one
  \`dsyrk\` per 128 rows) or appends it to the kept rows, which it scores
  from.  That is why the train can cost less than the plain aggregate
  scan it is compared with.  Through the query (\`mm.direct_scan = off\`,
  the parallel phase) the same state is built by the aggregate
  \`mm_linear_stats\`, one transition call per row.
- **Logistic regression**: massmodel's Newton iterations work on
  standardised features, and on this many rows they start where a fit on
  every 16th row ends, so that fewer Newton steps over all the rows reach
  the tolerance (on alt_t of bench/alternatives.sh: 3 instead of 5);
  scikit-learn's lbfgs needed $iter_fit iterations on
  the raw features (the scales differ by a factor of 20) and $iter_pipe
  behind \`StandardScaler\`, which is why its pipeline is faster than its
  plain \`fit\` although it does more.  lbfgs spends its time in
  matrix-vector products over the $ROWS x 20 array; whether OpenBLAS's
  threads help them shows in the rows with and without
  \`OPENBLAS_NUM_THREADS=1\`.
- **Parallel training** gains less than the plain scan: each worker
  sends its held-out rows (a fifth of the rows by default) to the leader
  through the tuple queue and the leader merges them, and on 2 CPUs the
  leader competes with both workers.  (It was slower than a serial train
  until each backend stopped starting an idle OpenBLAS thread pool, whose
  spinning took a CPU from the workers.)

## Machine

- CPU: $cpu, $(nproc) CPUs available (\`nproc\`)
- memory: $(free -g | awk '/^Mem:/ { print $2 }') GB
- OS: $( . /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)
- PostgreSQL $pgversion
- load average (1, 5, 15 min) before / after the run: $load_before / $load_after;
  other processes running on the machine during the run make the medians
  noisier (the compared statements alternate, so ratios suffer less)
- OpenBLAS: ${blas_pkg:-unknown}${blas_lib:+ (massmodel.so uses $blas_lib)}
- \`OPENBLAS_*\` variables in the environment of the run (the server's):
  ${openblas_env:-none}

## Reproduce

\`\`\`
make && make install      # as root, in the checkout
bash bench/run.sh
\`\`\`

It takes a few minutes (this run: ${elapsed} s), starts a private cluster
\`bench\` on port $PORT (scripts/cluster.sh), and stops it at the end.
\`ROWS=...\` and \`REPS=...\` (at least 5) change the size and the number of
repetitions; raw timings are kept in bench/results/ (scikit-learn's output
in bench/results/sklearn_*.txt).  The scikit-learn side needs
\`python3-sklearn\` and \`python3-numpy\` (Debian packages).
EOF
[[ -z $kept ]] || printf '\n%s\n' "$kept" >>"$BENCH_DOC"
echo "bench: wrote ${BENCH_DOC#$TOP/}" >&2
