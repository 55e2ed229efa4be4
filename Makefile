# massmodel: PGXS build.  `make`, `make install`, `make installcheck`
# (against a running server), `make unit` (core tests, no server),
# `make unit-san` (the same under ASan+UBSan).

EXTENSION  = massmodel
EXTVERSION = 0.1.0

MODULE_big = massmodel
CORE_OBJS  = src/core/mm_util.o src/core/mm_crc32c.o src/core/mm_split.o \
             src/core/mm_moments.o src/core/mm_linear.o src/core/mm_metrics.o \
             src/core/mm_blob.o src/core/mm_logistic.o src/core/mm_nb.o src/core/mm_clsmetrics.o \
             src/core/mm_rng.o src/core/mm_kmeans.o src/core/mm_pca.o src/core/mm_mlp.o \
             src/core/mm_elastic.o src/core/mm_ensemble.o
OBJS       = src/massmodel.o src/mm_catalog.o src/mm_schema.o src/mm_train.o src/mm_search.o src/mm_fusion.o \
             src/mm_predict.o src/mm_evaluate.o src/mm_lifecycle.o src/mm_agg.o src/mm_support.o src/mm_dataset.o src/mm_transfer.o src/mm_stat.o src/mm_ops.o src/mm_drift.o src/mm_scan.o src/mm_pardata.o src/mm_parkm.o \
             $(CORE_OBJS)

DATA_built = massmodel--$(EXTVERSION).sql
DATA       = $(wildcard src/sql/massmodel--*--*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=test/results
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/results/isolation

EXTRA_CLEAN = massmodel--$(EXTVERSION).sql test/results test/unit/test_core \
              test/fuzz/fuzz_blob

BLAS_CFLAGS ?= -I/usr/include/x86_64-linux-gnu/openblas-pthread
BLAS_LIBS   ?= -lopenblas
OPTFLAGS    ?= -O2

PG_CPPFLAGS = -Isrc/core $(BLAS_CFLAGS)
# -Wextra, less three checks that PostgreSQL's own headers trip
# (utils/array.h: sign-compare; fmgr's PG_FUNCTION_ARGS: unused-parameter).
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare $(OPTFLAGS)

# The core's loops over rows and weights (moments, activations, the adam
# step) are element-wise: gcc's default -O2 cost model ("very-cheap")
# vectorises only loops whose trip count needs no remainder, so the core
# asks for the dynamic one.  No reassociation: the same bits as scalar code.
CORE_CFLAGS ?= $(if $(findstring gcc,$(CC)),-fvect-cost-model=dynamic,)
$(CORE_OBJS): CFLAGS += $(CORE_CFLAGS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

SHLIB_LINK += $(BLAS_LIBS) -lm

massmodel--$(EXTVERSION).sql: src/sql/massmodel.sql
	cp $< $@

# The core is also built on its own, without the server, for unit tests:
# one program per test/unit/test_*.c, each printing "ok N - ..." lines and
# "N passed, M failed"; `make unit` runs them all and adds up the counts.
CORE_SRCS  = $(CORE_OBJS:.o=.c)
UNIT_TESTS = $(patsubst %.c,%,$(wildcard test/unit/test_*.c))
EXTRA_CLEAN += $(UNIT_TESTS)

test/unit/test_%: test/unit/test_%.c test/unit/mm_test.h $(CORE_SRCS) src/core/mm_core.h
	$(CC) -std=c11 -O2 $(CORE_CFLAGS) -g -Wall -Wextra -Wno-unused-parameter -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ $< $(CORE_SRCS) $(BLAS_LIBS) -lm

# $(call run_unit,PROGRAMS,ENV): run each program from test/unit with the
# environment ENV and print its output (stdout and stderr), then the sum of
# the "N passed, M failed" lines.  A program that exits non-zero without
# reporting a failed check (a crash, a sanitizer report, a leak found at
# exit) adds a "not ok - PROGRAM: exited with status S" line and counts as
# one failure; the recipe then fails.
define run_unit
	@rc=0; out=$$(mktemp); log=$$(mktemp); \
	for t in $(1); do \
	    (cd test/unit && $(2) ./$${t#test/unit/}) >$$log 2>&1; st=$$?; \
	    cat $$log; cat $$log >>$$out; \
	    if [ $$st -ne 0 ]; then \
	        rc=1; \
	        grep -qE '^[0-9]+ passed, [1-9][0-9]* failed$$' $$log || \
	            echo "not ok - $$t: exited with status $$st" | tee -a $$out; \
	    fi; \
	done; \
	awk '/^[0-9]+ passed, [0-9]+ failed$$/ { p += $$1; f += $$3 } \
	     /^not ok - .*: exited with status [0-9]+$$/ { f++ } \
	     END { print p " passed, " f " failed" }' $$out; \
	rm -f $$out $$log; exit $$rc
endef

.PHONY: unit
unit: $(UNIT_TESTS)
	$(call run_unit,$(UNIT_TESTS))

# The same programs built with AddressSanitizer (and LeakSanitizer) and
# UndefinedBehaviorSanitizer into test/unit/san/; `make unit-san` runs them
# the same way.  Every report stops its program with a non-zero status.
# clang, as for the fuzz target: SAN_CC=gcc builds and passes too, but gcc 12
# at -O1 with UBSan prints a false -Wformat-truncation warning on test_core.c.
SAN_CC     ?= clang
SAN_CFLAGS ?= -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -O1 -g
SAN_ENV    ?= ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
              UBSAN_OPTIONS=print_stacktrace=1
SAN_CORE_OBJS  = $(patsubst src/core/%.c,test/unit/san/core/%.o,$(CORE_SRCS))
UNIT_SAN_TESTS = $(patsubst test/unit/%,test/unit/san/%,$(UNIT_TESTS))
EXTRA_CLEAN += test/unit/san
SAN_COMPILE = $(SAN_CC) -std=c11 $(SAN_CFLAGS) -Wall -Wextra -Wno-unused-parameter \
              -Isrc/core $(BLAS_CFLAGS)

# The core is compiled once for all the programs (a third of the build time
# of compiling it into each).
test/unit/san/core/%.o: src/core/%.c src/core/mm_core.h
	@mkdir -p $(@D)
	$(SAN_COMPILE) -c -o $@ $<

test/unit/san/test_%: test/unit/test_%.c test/unit/mm_test.h $(SAN_CORE_OBJS) src/core/mm_core.h
	$(SAN_COMPILE) -o $@ $< $(SAN_CORE_OBJS) $(BLAS_LIBS) -lm

.PHONY: unit-san
unit-san: $(UNIT_SAN_TESTS)
	$(call run_unit,$(UNIT_SAN_TESTS),env $(SAN_ENV))

test/fuzz/fuzz_blob: test/fuzz/fuzz_blob.c $(CORE_SRCS) src/core/mm_core.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ test/fuzz/fuzz_blob.c $(CORE_SRCS) $(BLAS_LIBS) -lm

# PGXS does not track header dependencies: every object depends on the
# headers it includes.
$(OBJS) $(OBJS:.o=.bc): src/massmodel.h src/core/mm_core.h
