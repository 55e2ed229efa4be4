# shellcheck shell=bash
# What bench/search.sh, bench/track.sh and bench/alternatives.sh share;
# sourced by them after they set HERE (bench/), TOP (the checkout), PORT,
# ROWS, REPS, OUT and CLUSTER.

# Checks ROWS (at least 1000) and REPS (at least 3), and creates OUT.
bench_check_args() {
    [[ $ROWS =~ ^[0-9]+$ ]] && (( ROWS >= 1000 )) || { echo "ROWS must be an integer of at least 1000" >&2; exit 2; }
    [[ $REPS =~ ^[0-9]+$ ]] && (( REPS >= 3 )) || { echo "REPS must be an integer of at least 3" >&2; exit 2; }
    mkdir -p "$OUT"
}

cleanup() { bash "$TOP/scripts/cluster.sh" stop "$CLUSTER" || true; }

# Starts the private cluster CLUSTER on PORT (stopped when the script
# exits) with the settings given, then the benchmarks' own, and exports
# what scripts/cluster.sh prints (PGHOST, PGPORT, PGUSER).
bench_start_cluster() {
    trap cleanup EXIT
    export $(bash "$TOP/scripts/cluster.sh" start "$CLUSTER" "$PORT" \
        "$@" \
        "shared_buffers = '512MB'" \
        "work_mem = '64MB'" \
        "maintenance_work_mem = '256MB'" \
        "max_parallel_workers_per_gather = 0" \
        "jit = off" \
        "autovacuum = off" \
        "checkpoint_timeout = '30min'" \
        "max_wal_size = '4GB'")
}

# bench_run NAME DOC [OPTION ...]: bench/NAME.py run, writing its section
# into DOC (none if DOC is empty); the OPTIONs are the driver's own.
bench_run() {
    /usr/bin/python3 "$HERE/$1.py" run \
        --rows "$ROWS" --reps "$REPS" --out "$OUT" --doc "$2" \
        --top "$TOP" --port "$PORT" --cluster "$CLUSTER" "${@:3}"
}
