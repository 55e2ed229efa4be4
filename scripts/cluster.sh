#!/usr/bin/env bash
# A private, throw-away PostgreSQL 15 cluster for tests and demos.
#
#   scripts/cluster.sh start  NAME PORT ['conf line' ...]
#   scripts/cluster.sh stop   NAME
#   scripts/cluster.sh status NAME
#   scripts/cluster.sh remove NAME          # stop and delete the files
#
# The cluster lives in /var/tmp/massmodel-NAME (override the parent with
# MM_CLUSTER_ROOT): data/ is the data directory, sock/ the Unix socket
# directory, server.log the server log.  It listens on the Unix socket only
# (listen_addresses = ''), trusts local connections, and runs with fsync=off:
# it is for tests, never for data you want to keep.
#
# `start` always gives a fresh cluster: a running one of the same NAME is
# stopped and its files removed before initdb.  Every extra argument after
# PORT is appended as one line to postgresql.conf, e.g.
#   scripts/cluster.sh start test 55432 "shared_preload_libraries = 'pg_cron'"
# On success `start` prints one line on stdout, the environment to use:
#   PGHOST=/var/tmp/massmodel-NAME/sock PGPORT=PORT PGUSER=postgres
# so a caller can do:  export $(scripts/cluster.sh start test 55432)
# Everything else goes to stderr.
#
# The server refuses to run as root: when called as root, every server-side
# command runs as the `postgres` OS user (runuser).
set -euo pipefail

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
ROOT=${MM_CLUSTER_ROOT:-/var/tmp}
PG_OS_USER=${PG_OS_USER:-postgres}

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

log() { echo "cluster.sh: $*" >&2; }

# Run a command as the server's OS user (from a directory it can read).
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

[[ $# -ge 2 ]] || usage
cmd=$1
name=$2
[[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || { log "bad cluster name '$name'"; exit 2; }

base="$ROOT/massmodel-$name"
data="$base/data"
sock="$base/sock"
logfile="$base/server.log"

is_running() {
    [[ -f "$data/PG_VERSION" ]] && as_pg "$PG_BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1
}

do_stop() {
    if is_running; then
        as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_pg "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
        if is_running; then
            log "could not stop the cluster in $data"
            return 1
        fi
        log "stopped $name"
    fi
}

case "$cmd" in
start)
    [[ $# -ge 3 ]] || usage
    port=$3
    shift 3
    [[ "$port" =~ ^[0-9]+$ ]] || { log "bad port '$port'"; exit 2; }

    # Fresh every time: stop whatever runs there and wipe it.
    do_stop
    rm -rf "$base"

    # The parent must be traversable by the server's user (/var/tmp is).
    mkdir -p "$ROOT"
    chmod o+x "$ROOT" 2>/dev/null || true
    mkdir -p "$sock"
    chmod 0755 "$base"
    chmod 0775 "$sock"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$PG_OS_USER:" "$base"
    fi

    if ! as_pg "$PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust --no-sync \
            -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1; then
        log "initdb failed:"
        cat "$base/initdb.log" >&2
        exit 1
    fi

    {
        echo ""
        echo "# --- added by scripts/cluster.sh ---"
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$sock'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "lc_messages = 'C'"
        echo "log_line_prefix = '%m [%p] %q%u@%d '"
        for line in "$@"; do
            echo "$line"
        done
    } >>"$data/postgresql.conf"

    if ! as_pg "$PG_BINDIR/pg_ctl" -D "$data" -l "$logfile" -w -t 60 start >/dev/null 2>&1; then
        log "server did not start; last lines of $logfile:"
        tail -n 30 "$logfile" >&2 || true
        exit 1
    fi
    log "started $name on port $port (data: $data, log: $logfile)"
    echo "PGHOST=$sock PGPORT=$port PGUSER=postgres"
    ;;
stop)
    do_stop
    ;;
remove)
    do_stop
    rm -rf "$base"
    log "removed $base"
    ;;
status)
    if is_running; then
        port=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || echo "?")
        echo "running: PGHOST=$sock PGPORT=$port PGUSER=postgres"
    elif [[ -d "$data" ]]; then
        echo "stopped ($data)"
        exit 3
    else
        echo "absent"
        exit 3
    fi
    ;;
*)
    usage
    ;;
esac
