# massmodel: PGXS build.  `make`, `make install`, `make installcheck`
# (against a running server), `make unit` (core tests, no server).

EXTENSION  = massmodel
EXTVERSION = 0.1.0

MODULE_big = massmodel
CORE_OBJS  = src/core/mm_util.o src/core/mm_crc32c.o src/core/mm_split.o \
             src/core/mm_moments.o src/core/mm_linear.o src/core/mm_metrics.o \
             src/core/mm_blob.o
OBJS       = src/massmodel.o src/mm_catalog.o src/mm_schema.o src/mm_train.o \
             src/mm_predict.o src/mm_evaluate.o src/mm_lifecycle.o src/mm_agg.o src/mm_support.o \
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

# The core is also built on its own, without the server, for unit tests.
CORE_SRCS = $(CORE_OBJS:.o=.c)
test/unit/test_core: test/unit/test_core.c $(CORE_SRCS) src/core/mm_core.h
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ test/unit/test_core.c $(CORE_SRCS) $(BLAS_LIBS) -lm

.PHONY: unit
unit: test/unit/test_core
	cd test/unit && ./test_core

test/fuzz/fuzz_blob: test/fuzz/fuzz_blob.c $(CORE_SRCS) src/core/mm_core.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core $(BLAS_CFLAGS) \
	    -o $@ test/fuzz/fuzz_blob.c $(CORE_SRCS) $(BLAS_LIBS) -lm
