/*
 * massmodel.c
 *	  Module load (settings) and the bridge to the core: its allocator,
 *	  its status codes, its numbers in JSON.
 */
#include "massmodel.h"

#include <sys/mman.h>

#include <cblas.h>
#include <limits.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

PG_MODULE_MAGIC;

int			mm_max_train_memory_kb = 1024 * 1024;
int			mm_blas_threads = 1;
int			mm_cache_models = 32;
bool		mm_huge_pages = false;

void		_PG_init(void);

/* Module load: define the settings. */
void
_PG_init(void)
{
	DefineCustomIntVariable("mm.max_train_memory",
							"Memory for training data held by one train, beyond which streaming passes are used.",
							"Held-out rows beyond this are not kept; their metrics come from a second pass.",
							&mm_max_train_memory_kb,
							1024 * 1024, 64, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mm.blas_threads",
							"Threads OpenBLAS may use in one backend.",
							NULL,
							&mm_blas_threads,
							1, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("mm.cache_models",
							"Decoded model versions cached per backend.",
							NULL,
							&mm_cache_models,
							32, 0, 100000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("mm.direct_scan",
							 "Read training rows of a plain table straight from its heap.",
							 "Off: always read them through a query (with parallel query where the planner chooses it).",
							 &mm_direct_scan,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("mm.huge_pages",
							 "Ask for transparent huge pages for large training memory.",
							 "Fewer page faults on a host that keeps free memory; slower in a VM whose host takes back free memory.",
							 &mm_huge_pages,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	MmStatInit();
	MarkGUCPrefixReserved("mm");
}

/*
 * OpenBLAS's fork handler: it stops the thread pool (declared here; cblas.h
 * does not).  Weak: a single-threaded OpenBLAS has no pool and no handler.
 */
extern int	blas_thread_shutdown_(void) __attribute__((weak));

/*
 * Set OpenBLAS's thread count from mm.blas_threads before a kernel.
 *
 * A backend is forked from the postmaster, where OpenBLAS counted the CPUs;
 * its thread pool does not survive the fork, and openblas_set_num_threads
 * starts it again whatever the count asked for.  With one thread the pool
 * has no work, but its new workers spin on sched_yield for a long while
 * first, taking a CPU from the backend and from parallel workers (17% of
 * the CPU samples of a 1,000,000-row train on 2 CPUs).  So the count is set
 * only when it changes, and a pool started for one thread is stopped at
 * once (as OpenBLAS does before a fork).
 */
void
MmSetBlasThreads(void)
{
	if (openblas_get_num_threads() == mm_blas_threads)
		return;
	openblas_set_num_threads(mm_blas_threads);
	if (mm_blas_threads == 1 && blas_thread_shutdown_ != NULL)
		(void) blas_thread_shutdown_();
}

/*
 * Ask for transparent huge pages over the 2MB-aligned interior of a large
 * block, when mm.huge_pages is on.  A train writes hundreds of MB of fresh
 * memory (its kept rows, its matrices); in 4kB pages each page is a page
 * fault, then a TLB entry.  But in a virtual machine whose host takes back
 * the guest's free memory (free page reporting: Firecracker, QEMU's
 * balloon), the huge pages a train gets are the ones the host took, and
 * faulting them in again costs more than the 4kB faults saved: 200 MB
 * touched in 20 ms right after another train, in 230 to 490 ms after a
 * second idle, against about 100 ms either way in 4kB pages.  So it is off
 * by default.  Advice only: where THP is off (or "never"), nothing changes.
 */
void
MmAdviseHuge(void *p, Size len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	start = TYPEALIGN(MM_HUGE_PAGE, (uintptr_t) p);
	uintptr_t	end = TYPEALIGN_DOWN(MM_HUGE_PAGE, (uintptr_t) p + len);

	if (mm_huge_pages && len >= MM_HUGE_PAGE && end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

/* A large allocation (beyond MaxAllocSize allowed), with huge-page advice. */
void *
MmAllocLarge(MemoryContext cxt, Size size)
{
	void	   *p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE);

	MmAdviseHuge(p, size);
	return p;
}

/*
 * A block of size bytes in cxt, on a huge-page boundary and advised when
 * mm.huge_pages is on: for blocks that live until the context goes (it is
 * never pfree'd: the pointer may not be the allocation's).
 */
void *
MmAllocHugeAligned(MemoryContext cxt, Size size)
{
	char	   *p;
	char	   *a;

	if (!mm_huge_pages)
		return MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE);
	p = MemoryContextAllocExtended(cxt, size + MM_HUGE_PAGE, MCXT_ALLOC_HUGE);
	a = (char *) TYPEALIGN(MM_HUGE_PAGE, (uintptr_t) p);

	MmAdviseHuge(a, size);
	return a;
}

/* palloc for the core: in a fixed context, or the current one when none. */
static void *
mm_palloc(void *ctx, size_t size)
{
	return MmAllocLarge(ctx != NULL ? (MemoryContext) ctx : CurrentMemoryContext, size);
}

static const MmAlloc mm_palloc_allocator = {mm_palloc, NULL};

/*
 * An allocator for the core bound to a context, for state that must
 * outlive SPI calls made while it grows (metrics buffers).
 */
MmAlloc
MmContextAllocator(MemoryContext cxt)
{
	MmAlloc		a = {mm_palloc, cxt};

	return a;
}

/* The allocator the glue passes to the core: palloc in CurrentMemoryContext. */
const MmAlloc *
MmPallocAllocator(void)
{
	return &mm_palloc_allocator;
}

/* Turn a core status into an ereport(ERROR). */
void
MmReportCoreError(MmStatus status, const MmErr *err, const char *model)
{
	int			code;

	switch (status)
	{
		case MM_ECORRUPT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case MM_ENUMERIC:
			code = ERRCODE_FLOATING_POINT_EXCEPTION;
			break;
		case MM_ENODATA:
			code = ERRCODE_DATA_EXCEPTION;
			break;
		case MM_ELIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case MM_EINVAL:
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	if (model)
		ereport(ERROR,
				(errcode(code),
				 errmsg("model \"%s\": %s", model, err->msg)));
	ereport(ERROR, (errcode(code), errmsg("%s", err->msg)));
}

/* Append a finite double as the shortest JSON number that reads back exactly. */
void
MmAppendJsonNumber(StringInfo buf, double v)
{
	char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!isfinite(v))
	{
		appendStringInfoString(buf, "null");
		return;
	}
	double_to_shortest_decimal_buf(v, tmp);
	appendStringInfoString(buf, tmp);
}

/* obj with key set to value (both jsonb objects; value any jsonb). */
Jsonb *
MmJsonbWithKey(Jsonb *obj, const char *key, Jsonb *value)
{
	StringInfoData s;
	Jsonb	   *extra;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	escape_json(&s, key);
	appendStringInfo(&s, ": %s}", JsonbToCString(NULL, &value->root, VARSIZE(value)));
	extra = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(obj),
											  JsonbPGetDatum(extra)));
}

/*
 * The next key (palloc'd) and value of an iterator over a jsonb object,
 * nested containers as jbvBinary; false at the end.
 */
bool
MmJsonbNextPair(JsonbIterator **it, char **key, JsonbValue *v)
{
	JsonbIteratorToken tok;
	JsonbValue	k;

	while ((tok = JsonbIteratorNext(it, &k, true)) != WJB_DONE)
		if (tok == WJB_KEY)
		{
			*key = pnstrdup(k.val.string.val, k.val.string.len);
			(void) JsonbIteratorNext(it, v, true);
			return true;
		}
	return false;
}

/*
 * A numeric as a double: beyond double precision it is an infinity (and
 * below, zero), for the caller's own check to name, instead of the
 * conversion's error printing every digit.
 */
double
MmNumericDouble(Numeric n)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(n)));
}

/* A string as an SQL literal ('it''s'), for hints that show a call to paste. */
char *
MmQuoteLiteral(const char *s)
{
	return quote_literal_cstr(s);
}

/* Append n finite doubles as a JSON array: [a, b, c]. */
void
MmAppendJsonNumbers(StringInfo buf, const double *v, int n)
{
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		MmAppendJsonNumber(buf, v[i]);
	}
	appendStringInfoChar(buf, ']');
}
