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
# Needs the extension installed (make install) and runs as root or as a
# user that can run the server (see scripts/cluster.sh).
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

echo "bench: creating bench_t ($ROWS rows x 20 features) ..." >&2
"${PSQL[@]}" -v rows="$ROWS" -f "$HERE/setup.sql" >"$OUT/setup.log"

# ---- the statements -------------------------------------------------------
cols=$(seq -f 'x%g' -s ', ' 1 20)
sums=$(seq -f 'sum(x%g)' -s ', ' 1 20)
Q_SCAN="SELECT $sums, sum(y) FROM bench_t"
Q_TRAIN="SELECT * FROM mm_train('b', 'linear_regression', 'bench_t', 'y', deploy => 'always')"
Q_ARRAY="SELECT sum(mm_predict('b', ARRAY[$cols])) FROM bench_t"
Q_ROW="SELECT sum(mm_predict('b', t)) FROM bench_t t"

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
printf '%s\n' "$Q_SCAN" "$Q_TRAIN" "$Q_ARRAY" "$Q_ROW" "$Q_FORMULA" >"$OUT/statements.sql"

# ---- the timed phases (one backend) ----------------------------------------
echo "bench: timing, $REPS repetitions after a warm-up ..." >&2
"${PSQL[@]}" -v reps="$REPS" \
    -v q_scan="$Q_SCAN" -v q_train="$Q_TRAIN" -v q_formula="$Q_FORMULA" \
    -v q_array="$Q_ARRAY" -v q_row="$Q_ROW" >"$OUT/timing.log" 2>&1 <<'EOF'
SET jit = off;
SET max_parallel_workers_per_gather = 0;
CALL bench_run('serial', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
CALL bench_run('serial', ARRAY['formula', 'predict_array', 'predict_row'],
               ARRAY[:'q_formula', :'q_array', :'q_row'], :reps);

SET max_parallel_workers_per_gather = 2;
CALL bench_run('parallel', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
-- which plans ran: the scan's and the one inside mm_train
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
:q_scan;
:q_train;
RESET auto_explain.log_min_duration;

SET max_parallel_workers_per_gather = 0;
SET jit = on;
CALL bench_run('jit', ARRAY['scan', 'train'], ARRAY[:'q_scan', :'q_train'], :reps);
CALL bench_run('jit', ARRAY['formula', 'predict_array', 'predict_row'],
               ARRAY[:'q_formula', :'q_array', :'q_row'], :reps);
SET jit = off;
EOF

# Agreement of the three prediction paths (relative difference of the sums).
agree=$("${PSQL[@]}" -At -F ' ' -v q_formula="$Q_FORMULA" -v q_array="$Q_ARRAY" -v q_row="$Q_ROW" <<'EOF'
SELECT (:q_formula) AS f, (:q_array) AS a, (:q_row) AS r \gset
SELECT to_char(greatest(abs(:a - :f), abs(:r - :f)) / greatest(abs(:f), 1e-300), '9.9EEEE');
EOF
)
workers=$(grep -o 'Workers Planned: [0-9]*' "$OUT/timing.log" | awk '{print $3}' | paste -sd, -)
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
  "train, parallel (2 workers)|mm_train linear_regression|aggregate scan, parallel|parallel|train|scan|-"
  "train, jit on|mm_train linear_regression|aggregate scan, jit on|jit|train|scan|-"
  "array predict, jit on|sum(mm_predict(..., ARRAY[...]))|hand-written formula, jit on|jit|predict_array|formula|-"
  "row predict, jit on|sum(mm_predict(..., t))|hand-written formula, jit on|jit|predict_row|formula|-"
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
- **parallel**: \`max_parallel_workers_per_gather = 2\`, \`jit = off\`; the
  baseline scan and the scan inside \`mm_train\` may both use a parallel plan
  (Workers Planned, scan and mm_train's scan: ${workers:-none}).
- **jit on** (the server's default): \`max_parallel_workers_per_gather = 0\`,
  for information.

Server settings: \`shared_buffers = '1GB'\`, \`work_mem = '64MB'\`,
\`fsync = off\`, \`autovacuum = off\`, otherwise the defaults of
PostgreSQL $pgversion (massmodel defaults: \`mm.blas_threads = 1\`).

## Results

$md_table

The three prediction paths agree: the largest relative difference between
the sums of predictions and the sum of the hand-written formula is $agree.

## Where the time goes

- **Prediction** is cheaper than the hand-written formula because the
  planner rewrites \`mm_predict(m, ARRAY[x1, ...])\` and \`mm_predict(m, t)\`
  into \`mm_predict_fields(m, v, ..., x1, x2, ...)\` (a support function,
  src/mm_support.c): no array and no composite row is built per row, the
  model is resolved once per statement, and the dot product is one C loop
  where the formula costs 40 function calls.  With JIT the formula is
  compiled too and the gap narrows.
- **Training** is one scan through the aggregate \`mm_linear_stats\`: per
  row it hashes the values for the held-out split, copies the row into a
  block (folded into the co-moments with one \`dsyrk\` per 128 rows) or
  into the held-out chunks, which are flattened once for scoring.  Beyond
  the plain scan that costs the split hash, the transition call and the
  block moments, each a few percent of the time in a profile.
- **Parallel training** does not yet scale like the plain scan: each worker
  sends its held-out rows to the leader through the tuple queue and the
  leader merges them, and on 2 CPUs the leader competes with both workers.

## Machine

- CPU: $cpu, $(nproc) CPUs available (\`nproc\`)
- memory: $(free -g | awk '/^Mem:/ { print $2 }') GB
- OS: $( . /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)
- PostgreSQL $pgversion
- load average (1, 5, 15 min) before / after the run: $load_before / $load_after;
  other processes running on the machine during the run make the medians
  noisier (the compared statements alternate, so ratios suffer less)
- OpenBLAS: ${blas_pkg:-unknown}${blas_lib:+ (massmodel.so uses $blas_lib)}

## Reproduce

\`\`\`
make && make install      # as root, in the checkout
bash bench/run.sh
\`\`\`

It takes a few minutes (this run: ${elapsed} s), starts a private cluster
\`bench\` on port $PORT (scripts/cluster.sh), and stops it at the end.
\`ROWS=...\` and \`REPS=...\` (at least 5) change the size and the number of
repetitions; raw timings are kept in bench/results/.
EOF
echo "bench: wrote ${BENCH_DOC#$TOP/}" >&2
