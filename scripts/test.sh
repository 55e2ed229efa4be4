#!/usr/bin/env bash
# The massmodel test suite, every layer, from a fresh Debian 12 machine:
#
#   bash scripts/test.sh
#
# Run as root (it installs packages and the extension).  Steps:
#   1. scripts/deps.sh                       (no-op when everything is installed)
#   2. make clean, make, make install        (a compiler "warning:" is a failure)
#   3. make unit                             (C core, no server), then
#      make unit-san                         (the same under ASan+UBSan)
#   4. a private cluster `test` on port $PORT (scripts/cluster.sh), then
#      make installcheck: the pg_regress tests (sql/, expected/) and the
#      isolation tests (test/isolation/)
#   5. TAP tests in test/t/*.pl, if any      (prove, as the postgres OS user)
# The cluster is stopped at the end whatever happens.  Outputs are kept in
# test/results/ (regression.diffs, isolation/regression.diffs, *.log).
#
# The last line printed is always "N passed, M failed" (summed over all
# layers); the exit status is 0 only when M = 0 and N > 0.
#
# Notes for test authors:
#   - Regression tests load files with psql's client-side \copy, which reads
#     the file as the invoking user and needs no server-side permission.  The
#     tree is nevertheless made world-readable (chmod -R o+rX) so a
#     server-side COPY FROM a file works when the checkout's parent
#     directories are traversable by the postgres user.
#   - TAP tests run from a copy of test/t in a scratch directory owned by
#     postgres; the checkout is available to them as $ENV{MM_SRCDIR}, the
#     installed extension is the one just built.
set -euo pipefail

# ---- settings -------------------------------------------------------------
PORT=${MM_TEST_PORT:-55432}
CLUSTER="test"
# Extra postgresql.conf lines for the test cluster, one array element each,
# e.g. ("shared_preload_libraries = 'pg_cron'" "cron.database_name = 'contrib_regression'")
EXTRA_CONF=(
    "shared_preload_libraries = 'massmodel'"     # prediction statistics (mm_stat_models)
)

PG_BINDIR=/usr/lib/postgresql/15/bin
PGXS_DIR=/usr/lib/postgresql/15/lib/pgxs
export PG_CONFIG=$PG_BINDIR/pg_config

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RESULTS=test/results

passed=0
failed=0
cluster_started=0
tapdir=""

section_start=$SECONDS
section() { printf '\n==== %s ====\n' "$*"; section_start=$SECONDS; }
layer() {   # layer NAME PASSED FAILED: its counts, and the seconds since its section began
    printf '%s: %d passed, %d failed (%d s)\n' "$1" "$2" "$3" $((SECONDS - section_start))
    passed=$((passed + $2))
    failed=$((failed + $3))
}

finish() {
    local rc=$?
    set +e
    if [[ $cluster_started -eq 1 ]]; then
        bash scripts/cluster.sh stop "$CLUSTER" >/dev/null 2>&1
    fi
    if [[ -n "$tapdir" && -d "$tapdir" ]]; then
        rm -rf "$tapdir"
    fi
    # An unexpected error in this script itself is a failure too.
    if [[ $rc -ne 0 && $failed -eq 0 ]]; then
        echo "test.sh: aborted (exit status $rc)"
        failed=$((failed + 1))
    fi
    echo
    echo "$passed passed, $failed failed"
    if [[ $failed -eq 0 && $passed -gt 0 ]]; then
        exit 0
    fi
    exit 1
}
trap finish EXIT

if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: run as root (it installs packages and the extension)" >&2
    exit 1
fi

# Count pg_regress / pg_isolation_regress result lines in a log.
# PostgreSQL 15 prints "test foo   ... ok   12 ms", in a parallel group
# "     foo   ... ok   12 ms", and "... FAILED" (or "... failed (ignored)",
# not counted as a failure).  The TAP-style lines of later releases
# ("ok 1 - foo", "not ok 2 - bar") are recognised too.
count_regress() {   # count_regress LOGFILE -> "OK FAILED"
    local f=$1 ok bad
    ok=$(grep -cE '^ *(test +)?[^ ]+ +\.\.\. ok( |$)|^ok [0-9]+ +[-+] ' "$f" || true)
    bad=$(grep -cE '^ *(test +)?[^ ]+ +\.\.\. FAILED|^not ok [0-9]+ +[-+] ' "$f" || true)
    echo "$ok $bad"
}

# ---- 1. dependencies ------------------------------------------------------
section "dependencies"
bash scripts/deps.sh

# ---- 2. build and install -------------------------------------------------
section "build"
# From clean, so that every warning is seen on every run.
make -s clean >/dev/null 2>&1 || true
# The server (postgres user) may read files of the tree, e.g. for COPY.
chmod -R o+rX "$ROOT" 2>/dev/null || true
mkdir -p "$RESULTS" "$RESULTS/isolation"
build_ok=1
if ! make -s 2>&1 | tee "$RESULTS/build.log"; then
    build_ok=0
fi
if [[ $build_ok -eq 1 ]] && ! make -s install 2>&1 | tee -a "$RESULTS/build.log"; then
    build_ok=0
fi
nwarn=$(grep -c 'warning:' "$RESULTS/build.log" || true)
if [[ $build_ok -eq 0 ]]; then
    # The unit tests need only the core and still run; the server tests are skipped.
    echo "FAIL: build or install failed"
    layer build 0 1
elif [[ $nwarn -gt 0 ]]; then
    echo "FAIL: the build printed $nwarn warning(s):"
    grep 'warning:' "$RESULTS/build.log"
    layer build 0 1
else
    layer build 1 0
fi

# ---- 2a. the reference against the install script and the C sources ------
# test/docs/check_reference.py: every function, view, setting and params key
# has its section and example in docs/reference.md.  One check per item it
# checked, one failure per problem; the full list is in docs.log.
section "docs"
docs_rc=0
/usr/bin/python3 test/docs/check_reference.py >"$RESULTS/docs.log" 2>&1 || docs_rc=$?
docs_summary=$(grep -E '^[0-9]+ checked, [0-9]+ problems$' "$RESULTS/docs.log" | tail -n 1 || true)
if [[ -n "$docs_summary" ]]; then
    read -r d_checked _ d_problems _ <<<"$docs_summary"
    head -n 1 "$RESULTS/docs.log"
    grep '^problem:' "$RESULTS/docs.log" || true
    echo "$docs_summary"
    if [[ $docs_rc -ne 0 && $d_problems -eq 0 ]]; then
        echo "FAIL: check_reference.py exited with status $docs_rc"
        d_problems=1
    fi
    layer docs $((d_checked > d_problems ? d_checked - d_problems : 0)) "$d_problems"
else
    echo "FAIL: check_reference.py printed no summary (exit status $docs_rc):"
    tail -n 20 "$RESULTS/docs.log"
    layer docs 0 1
fi

# ---- 3. unit tests (C core, no server) -----------------------------------
# Count a make target that builds and runs the unit test programs: its "ok" /
# "not ok" lines, or rather its last "N passed, M failed" line (make's sum).
# A non-zero exit (a crash, a sanitizer report, a build error) or a sanitizer
# report in the output fails the layer even when no "not ok" line was
# printed; a compiler warning while building the programs is a failure too.
run_unit_layer() {   # run_unit_layer LABEL LOG MAKE-TARGET
    local label=$1 logf=$2 target=$3 rc=0 ok bad summary s_ok s_bad nsan
    make -s "$target" 2>&1 | tee "$logf" || rc=$?
    ok=$(grep -cE '^ok( |$)' "$logf" || true)
    bad=$(grep -cE '^not ok( |$)' "$logf" || true)
    if summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logf" | tail -n 1) &&
       [[ -n "$summary" ]]; then
        read -r s_ok _ s_bad _ <<<"$summary"
        if [[ $s_ok -ne $ok || $s_bad -ne $bad ]]; then
            echo "note: $label summary says $s_ok/$s_bad, ok/not ok lines say $ok/$bad; using the summary"
        fi
        ok=$s_ok
        bad=$s_bad
    fi
    if [[ $rc -ne 0 && $bad -eq 0 ]]; then
        echo "FAIL: make $target exited with status $rc"
        bad=1
    fi
    nsan=$(grep -cE '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|^SUMMARY: [A-Za-z]+Sanitizer|runtime error: ' \
           "$logf" || true)
    if [[ $nsan -gt 0 ]]; then
        echo "FAIL: $label: sanitizer report(s) in $logf:"
        grep -E '^==[0-9]+==ERROR: |^SUMMARY: |runtime error: ' "$logf" | head -n 20
        [[ $bad -gt 0 ]] || bad=1
    fi
    if grep -q 'warning:' "$logf"; then
        echo "FAIL: building the $label tests printed warnings"
        bad=$((bad + 1))
    fi
    layer "$label" "$ok" "$bad"
}

section "unit"
run_unit_layer unit "$RESULTS/unit.log" unit

# ---- 3a. the same unit tests under AddressSanitizer (with LeakSanitizer) --
# and UndefinedBehaviorSanitizer (clang; binaries in test/unit/san/).
section "unit (ASan+UBSan)"
run_unit_layer unit-san "$RESULTS/unit-san.log" unit-san

# ---- 3b. fuzz smoke test of the blob reader (libFuzzer) --------------------
# A bounded, seeded run over the bundled seeds; longer runs: test/fuzz/README.md.
section "fuzz"
fuzz_corpus=$(mktemp -d /var/tmp/massmodel-fuzz.XXXXXX)
if make -s test/fuzz/fuzz_blob >"$RESULTS/fuzz.log" 2>&1 &&
   ./test/fuzz/fuzz_blob -seed=1 -runs=500000 -max_len=4096 "$fuzz_corpus" test/fuzz/seeds \
       >>"$RESULTS/fuzz.log" 2>&1; then
    tail -n 1 "$RESULTS/fuzz.log"
    layer fuzz 1 0
else
    echo "FAIL: the fuzz target failed or found a crash:"
    tail -n 40 "$RESULTS/fuzz.log"
    layer fuzz 0 1
fi
rm -rf "$fuzz_corpus"

if [[ $build_ok -eq 0 ]]; then
    echo
    echo "the extension did not build: regression, isolation and TAP tests skipped"
    exit 1      # finish() prints the summary
fi

# ---- 4. regression and isolation tests against a private cluster ---------
section "cluster"
env_line=$(bash scripts/cluster.sh start "$CLUSTER" "$PORT" "${EXTRA_CONF[@]}")
cluster_started=1
read -r pghost pgport pguser <<<"$env_line"
export PGHOST="${pghost#PGHOST=}" PGPORT="${pgport#PGPORT=}" PGUSER="${pguser#PGUSER=}"
echo "$env_line"

run_pg_regress() {   # run_pg_regress LABEL LOG DIFFS make-args...
    local label=$1 logf=$2 diffs=$3 rc=0 ok bad
    shift 3
    make -s installcheck PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$@" \
        2>&1 | tee "$logf" || rc=$?
    read -r ok bad < <(count_regress "$logf")
    if [[ $rc -ne 0 && $bad -eq 0 ]]; then
        echo "FAIL: $label: make installcheck exited with status $rc"
        bad=1
    fi
    if [[ $bad -gt 0 && -s "$diffs" ]]; then
        echo "---- $diffs (first 200 lines) ----"
        head -n 200 "$diffs"
        echo "---- end of $diffs ----"
    fi
    layer "$label" "$ok" "$bad"
}

# The two halves run separately so a regression failure does not hide the
# isolation results (make stops a recipe at its first failing command).
if compgen -G 'sql/*.sql' >/dev/null; then
    section "regression (pg_regress)"
    rm -f "$RESULTS/regression.diffs"
    run_pg_regress regress "$RESULTS/regress.log" "$RESULTS/regression.diffs" ISOLATION=
fi
if compgen -G 'test/isolation/specs/*.spec' >/dev/null; then
    section "isolation (pg_isolation_regress)"
    rm -f "$RESULTS/isolation/regression.diffs"
    run_pg_regress isolation "$RESULTS/isolation.log" "$RESULTS/isolation/regression.diffs" REGRESS=
fi

bash scripts/cluster.sh stop "$CLUSTER" >/dev/null 2>&1 || true
cluster_started=0

# ---- 5. TAP tests ---------------------------------------------------------
if compgen -G 'test/t/*.pl' >/dev/null; then
    section "TAP (prove)"
    # The tests run initdb themselves, which must not run as root: run them
    # as postgres from a scratch copy it owns.
    tapdir=$(mktemp -d /var/tmp/massmodel-tap.XXXXXX)
    cp -r test/t "$tapdir/t"
    chown -R postgres: "$tapdir"
    tap_files=()
    for f in test/t/*.pl; do tap_files+=("t/${f##*/}"); done
    tap_rc=0
    runuser -u postgres -- env -C "$tapdir" \
        PATH="$PG_BINDIR:$PATH" \
        PERL5LIB="$PGXS_DIR/src/test/perl" \
        PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
        TESTDIR="$tapdir" \
        MM_SRCDIR="$ROOT" \
        prove -v "${tap_files[@]}" >"$RESULTS/tap.log" 2>&1 || tap_rc=$?
    # Per test file: its top-level subtests ("not ok ... # TODO" is an
    # expected failure, counted as ok), then prove's own summary.
    awk '
        /^t\/.*\.pl \.+/   { if (f != "") printf "  %-40s %d ok, %d not ok\n", f, ok, bad
                              f = $1; ok = 0; bad = 0; next }
        /^ok [0-9]+/         { ok++; next }
        /^not ok [0-9]+/     { if ($0 ~ /# TODO/) ok++; else bad++; next }
        /^Test Summary Report/ { summary = 1 }
        summary || /^Files=|^Result:|^All tests successful/ { tail = tail $0 "\n" }
        END { if (f != "") printf "  %-40s %d ok, %d not ok\n", f, ok, bad
              printf "%s", tail }
    ' "$RESULTS/tap.log"
    t_ok=$(grep -E '^(not )?ok [0-9]+' "$RESULTS/tap.log" | grep -cE '^ok|# TODO' || true)
    t_bad=$(grep -E '^not ok [0-9]+' "$RESULTS/tap.log" | grep -vc '# TODO' || true)
    if [[ $tap_rc -ne 0 && $t_bad -eq 0 ]]; then
        echo "FAIL: prove exited with status $tap_rc (a test died or had a bad plan)"
        t_bad=1
    fi
    if [[ $t_bad -gt 0 ]]; then
        echo "---- $RESULTS/tap.log (first 300 lines) ----"
        head -n 300 "$RESULTS/tap.log"
        for f in "$tapdir"/tmp_check/log/*; do
            [[ -f "$f" ]] || continue
            mkdir -p "$RESULTS/tap-logs"
            cp "$f" "$RESULTS/tap-logs/"
        done
        echo "(server logs of the TAP clusters copied to $RESULTS/tap-logs/)"
    fi
    layer tap "$t_ok" "$t_bad"
fi

# finish() prints the totals and sets the exit status.
