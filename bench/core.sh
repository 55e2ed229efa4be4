#!/usr/bin/env bash
# The core benchmark: massmodel's C core (src/core) on its own, without the
# server, as ratios against baselines measured in the same run:
#
#   bash bench/core.sh
#
#   MLP      mm_mlp_fit (100000 x 256 -> 512 -> 512 -> 10 classes, relu,
#            adam, batch 256, 1 epoch): achieved GEMM GFLOP/s against the
#            machine's cblas_dgemm rate (2048^3, best of 3), and samples/s
#            against scikit-learn's MLPClassifier on the same data
#   k-means  mm_kmeans_fit (1000000 x 20, k = 8, k-means++, n_init 1,
#            max_iter 300, tol 1e-4) against scikit-learn's
#            KMeans(algorithm='lloyd'): total time and time per pass
#
# each with $THREADS BLAS threads (default "1 2"), $REPS times (default 3)
# with the two sides alternating; figures are medians.  Builds
# bench/results/core_bench from bench/core_bench.c and the core sources
# (gcc -O2 -fvect-cost-model=dynamic, as the extension builds the core; OpenBLAS), writes the data files under $CORE_DATA (default
# /var/tmp/massmodel_core_bench, about 370 MB, the same bytes every run),
# runs the scikit-learn side with Debian's /usr/bin/python3
# (bench/core_bench.py), keeps the raw outputs in bench/results/core_*.txt,
# and writes the section "## Core: MLP and k-means" of docs/benchmarks.md
# (CORE_DOC=... to write elsewhere, CORE_DOC= to write nothing).
# Needs gcc, libopenblas-dev, liblapack-dev, python3-sklearn, python3-numpy
# and python3-threadpoolctl; no server, no root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
REPS=${REPS:-3}
THREADS=${THREADS:-"1 2"}
DATA=${CORE_DATA:-/var/tmp/massmodel_core_bench}
CORE_DOC=${CORE_DOC-$TOP/docs/benchmarks.md}
OUT=$HERE/results
BLAS_CFLAGS=${BLAS_CFLAGS:--I/usr/include/x86_64-linux-gnu/openblas-pthread}
BIN=$OUT/core_bench

(( REPS >= 1 )) || { echo "REPS must be at least 1" >&2; exit 2; }
mkdir -p "$OUT" "$DATA"

# Both sides run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from
# the environment (as bench/run.sh does for scikit-learn); threads are set
# explicitly by each side (openblas_set_num_threads, threadpoolctl).
RUN=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
PY=("${RUN[@]}" /usr/bin/python3)
"${PY[@]}" -c 'import numpy, sklearn, threadpoolctl' 2>/dev/null || {
    echo "core.sh: needs /usr/bin/python3 with numpy, scikit-learn and threadpoolctl" \
         "(apt-get install -y python3-sklearn python3-numpy python3-threadpoolctl)" >&2; exit 2; }

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- build: the core sources as they are now ------------------------------
echo "core.sh: building $BIN ..." >&2
(cd "$TOP" && gcc -std=c11 -O2 -fvect-cost-model=dynamic -Wall -Wextra -Wno-unused-parameter \
    -D_POSIX_C_SOURCE=200809L -Isrc/core $BLAS_CFLAGS \
    -o "$BIN" bench/core_bench.c src/core/*.c -lopenblas -llapack -lm)

# ---- data -----------------------------------------------------------------
echo "core.sh: writing the data to $DATA ..." >&2
"$BIN" gen "$DATA"

# ---- the runs: core_<side>_<case>_<threads>_<rep>.txt ------------------------
rm -f "$OUT"/core_*.txt
for rep in $(seq 1 "$REPS"); do
    for t in $THREADS; do
        echo "core.sh: rep $rep/$REPS, $t thread(s) ..." >&2
        "${RUN[@]}" "$BIN" dgemm "$t"              >"$OUT/core_blas_dgemm_${t}_${rep}.txt"
        "${RUN[@]}" "$BIN" mlp "$DATA" "$t"        >"$OUT/core_mm_mlp_${t}_${rep}.txt"
        "${PY[@]}" "$HERE/core_bench.py" mlp "$DATA" "$t" >"$OUT/core_sk_mlp_${t}_${rep}.txt"
        "${RUN[@]}" "$BIN" kmeans "$DATA" "$t"     >"$OUT/core_mm_kmeans_${t}_${rep}.txt"
        "${PY[@]}" "$HERE/core_bench.py" kmeans "$DATA" "$t" >"$OUT/core_sk_kmeans_${t}_${rep}.txt"
        "${RUN[@]}" "$BIN" kmeans "$DATA" "$t" 1   >"$OUT/core_mm_kmeans1_${t}_${rep}.txt"
        "${PY[@]}" "$HERE/core_bench.py" kmeans "$DATA" "$t" 1 >"$OUT/core_sk_kmeans1_${t}_${rep}.txt"
    done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - started ))

# ---- the report -----------------------------------------------------------
commit=$(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$TOP" && git status --porcelain -- src/core 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes in src/core)"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cpu="$cpu (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1), model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1)"
grep -qw hypervisor /proc/cpuinfo && cpu="$cpu, a virtual machine"
cpu="$cpu)"
pkgs=$(dpkg-query -W -f='${Package} ${Version}; ' libopenblas0-pthread liblapack3 2>/dev/null | sed 's/; $//' || true)
pyv=$("${PY[@]}" -c 'import sys, numpy, sklearn, threadpoolctl; print(sys.version.split()[0], numpy.__version__, sklearn.__version__, threadpoolctl.__version__)')
read -r v_py v_np v_sk v_tp <<<"$pyv"
args=(
    "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    "commit=$commit"
    "data=$DATA"
    "reps=$REPS per thread count (THREADS=\"$THREADS\")"
    "cpu=$cpu"
    "nproc=$(nproc)"
    "load_before=$load_before"
    "load_after=$load_after"
    "compiler=$(gcc --version | head -1), -O2 -fvect-cost-model=dynamic"
    "openblas=$(sed -n 's/^openblas=//p' "$OUT"/core_blas_dgemm_*_1.txt | head -1) ($pkgs)"
    "python=$v_py" "numpy=$v_np" "sklearn=$v_sk" "threadpoolctl=$v_tp"
    "elapsed=$elapsed"
)
if [ -n "$CORE_DOC" ]; then
    "${PY[@]}" "$HERE/core_bench.py" report "$OUT" "$CORE_DOC" "${args[@]}"
else
    "${PY[@]}" "$HERE/core_bench.py" report "$OUT" /dev/null "${args[@]}"
fi
echo "core.sh: done in $elapsed s" >&2
