#!/usr/bin/env bash
# Install everything needed to build and test massmodel on Debian 12 (bookworm).
# Run as root.  Idempotent: when every package is already installed it does
# nothing (no apt-get update, no network).
#
#   bash scripts/deps.sh               # build + test dependencies
#   bash scripts/deps.sh --reference   # also python3-sklearn and python3-statsmodels,
#                                      # used by test/reference/linear.py
#   bash scripts/deps.sh --bench       # also what bench/alternatives.sh compares
#                                      # with: postgresql-plpython3-15,
#                                      # python3-psycopg2, python3-matplotlib,
#                                      # python3-sklearn (python3-numpy is above)
set -euo pipefail

PACKAGES=(
    build-essential             # gcc, make
    postgresql-15               # server, psql, initdb, pg_ctl
    postgresql-server-dev-15    # PGXS, pg_regress, pg_isolation_regress, TAP modules
    libopenblas-dev             # BLAS
    liblapack-dev               # LAPACK
    postgresql-15-cron          # pg_cron, behind mm_schedule()
    postgresql-15-pgaudit       # TAP: an audited read is not read directly
    clang                       # fuzz target (make test/fuzz/fuzz_blob)
    libclang-rt-14-dev          # libFuzzer and sanitizer runtimes for clang 14
    libipc-run-perl             # TAP tests (PostgreSQL::Test::Cluster)
    python3-numpy               # benchmarks and reference numbers
    git
    ca-certificates
)
if [[ "${1:-}" == "--reference" ]]; then
    PACKAGES+=(python3-sklearn python3-statsmodels)
fi
if [[ "${1:-}" == "--bench" ]]; then
    PACKAGES+=(postgresql-plpython3-15 python3-psycopg2 python3-matplotlib python3-sklearn python3-numpy)
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: must run as root" >&2
    exit 1
fi

# Collect the packages that are not fully installed.
missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done"
