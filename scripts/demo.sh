#!/usr/bin/env bash
# Set up massmodel from scratch and show it working:
#
#   bash scripts/demo.sh
#
# Run as root on Debian 12.  It installs the dependencies (scripts/deps.sh),
# builds and installs the extension, starts a private PostgreSQL 15 cluster
# `demo` on port $PORT (scripts/cluster.sh; any previous `demo` cluster is
# replaced), creates the database massmodel_demo with the extension and the
# tables `diabetes` and `longley` (from data/*.csv), runs scripts/demo.sql with
# every statement echoed, and leaves the cluster running so you can go on.
set -euo pipefail

PORT=${MM_DEMO_PORT:-55433}
CLUSTER="demo"
DB=massmodel_demo
# Extra postgresql.conf lines for the demo cluster, one array element each.
EXTRA_CONF=(
    "shared_preload_libraries = 'massmodel,pg_cron'"  # statistics (mm_stat_models); scheduling
    "cron.database_name = 'massmodel_demo'"             # pg_cron's database: the demo's
    "cron.use_background_workers = on"                  # jobs without a TCP connection
    "max_worker_processes = 16"
)

PG_BINDIR=/usr/lib/postgresql/15/bin
export PG_CONFIG=$PG_BINDIR/pg_config

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

step() { printf '\n==== %s ====\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
    echo "demo.sh: run as root (it installs packages and the extension)" >&2
    exit 1
fi

step "dependencies"
bash scripts/deps.sh

step "build and install"
make -s
make -s install
echo "installed into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension"

step "cluster"
env_line=$(bash scripts/cluster.sh start "$CLUSTER" "$PORT" "${EXTRA_CONF[@]}")
read -r pghost pgport pguser <<<"$env_line"
export PGHOST="${pghost#PGHOST=}" PGPORT="${pgport#PGPORT=}" PGUSER="${pguser#PGUSER=}"
echo "$env_line"

PSQL=("$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)

step "database $DB and data"
"$PG_BINDIR/createdb" "$DB"
"${PSQL[@]}" -d "$DB" <<'SQL'
CREATE EXTENSION massmodel;
CREATE EXTENSION pg_cron;

-- Diabetes progression (Efron et al. 2004), raw units; see data/README.md.
CREATE TABLE diabetes (
    age         integer,
    sex         integer,
    bmi         double precision,
    bp          double precision,
    s1          double precision,
    s2          double precision,
    s3          double precision,
    s4          double precision,
    s5          double precision,
    s6          double precision,
    progression double precision
);
\copy diabetes FROM 'data/diabetes.csv' WITH (FORMAT csv, HEADER true)

-- Longley (1967) macroeconomic data, the NIST StRD test of numerical accuracy.
CREATE TABLE longley (
    employed     double precision,
    gnp_deflator double precision,
    gnp          double precision,
    unemployed   double precision,
    armed_forces double precision,
    population   double precision,
    year         integer
);
\copy longley FROM 'data/longley.csv' WITH (FORMAT csv, HEADER true)
SQL
"${PSQL[@]}" -d "$DB" -At -c \
    "SELECT 'diabetes: ' || count(*) || ' rows' FROM diabetes UNION ALL
     SELECT 'longley: '  || count(*) || ' rows' FROM longley"

step "demo (scripts/demo.sql)"
"$PG_BINDIR/psql" -X -e -v ON_ERROR_STOP=1 -d "$DB" -f scripts/demo.sql

cat <<EOF

==== done ====
The cluster '$CLUSTER' is still running. Connect with:

    psql -h $PGHOST -p $PGPORT -U postgres $DB

Stop it with:

    bash scripts/cluster.sh stop $CLUSTER

(bash scripts/cluster.sh remove $CLUSTER also deletes its files; running
bash scripts/demo.sh again starts over from a fresh cluster.)
EOF
