# massmodel: PGXS build.  `make`, `make install`, `make installcheck`
# (against a running server), `make unit` (core tests, no server).

EXTENSION  = massmodel
EXTVERSION = 0.1.0

MODULE_big = massmodel
CORE_OBJS  = src/core/mm_util.o src/core/mm_crc32c.o src/core/mm_split.o \
             src/core/mm_moments.o src/core/mm_linear.o src/core/mm_metrics.o \
             src/core/mm_blob.o src/core/mm_logistic.o src/core/mm_nb.o src/core/mm_clsmetrics.o \
             src/core/mm_rng.o src/core/mm_kmeans.o src/core/mm_pca.o src/core/mm_mlp.o \
             src/core/mm_elastic.o src/core/mm_ensemble.o
OBJS       = src/massmodel.o src/mm_catalog.o src/mm_schema.o src/mm_train.o src/mm_search.o src/mm_fusion.o \
             src/mm_predict.o src/mm_evaluate.o src/mm_lifecycle.o src/mm_agg.o src/mm_support.o src/mm_dataset.o src/mm_transfer.o src/mm_stat.o src/mm_ops.o src/mm_drift.o \
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
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ $< $(CORE_SRCS) $(BLAS_LIBS) -lm

.PHONY: unit
unit: $(UNIT_TESTS)
	@rc=0; out=$$(mktemp); \
	for t in $(UNIT_TESTS); do (cd test/unit && ./$$(basename $$t)) | tee -a $$out || rc=1; done; \
	awk '/^[0-9]+ passed, [0-9]+ failed$$/ { p += $$1; f += $$3 } END { print p " passed, " f " failed" }' $$out; \
	rm -f $$out; exit $$rc

test/fuzz/fuzz_blob: test/fuzz/fuzz_blob.c $(CORE_SRCS) src/core/mm_core.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ test/fuzz/fuzz_blob.c $(CORE_SRCS) $(BLAS_LIBS) -lm

# PGXS does not track header dependencies: every object depends on the
# headers it includes.
$(OBJS) $(OBJS:.o=.bc): src/massmodel.h src/core/mm_core.h
