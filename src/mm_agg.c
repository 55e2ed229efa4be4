/*
 * mm_agg.c
 *	  mm_linear_stats: the single pass of linear-model training as a
 *	  parallel-safe aggregate.
 *
 * Each input row (target, features...) is hashed with the seed
 * (mm_split_u) to decide whether it is held out.  Training rows are
 * buffered in blocks and folded into running co-moments (mean and centred
 * cross-products, merged with Chan's update); held-out rows are kept as
 * they are, up to a memory budget, so that mm_train can score them without
 * a second scan.  Beyond the budget only their count is kept and a flag
 * tells mm_train to make a second pass.  With test_fraction 0 nothing is
 * held out and the metrics are the training rows': then every row is kept
 * the same way (flag KEEP_ALL), except in a parallel plan, where all the
 * rows would travel from the workers to the leader and a second pass costs
 * less.
 *
 * In a serial plan mm_train offers a sink (mm_lin_sink): one buffer in
 * its own memory that the single transition state appends the kept rows
 * to (flag SINK), so that they are neither flattened into the result nor
 * copied out of it again; the state then carries only its fixed part.
 * With partial states (a parallel plan, or partitionwise aggregation) the
 * final combining step claims the sink instead and gathers every part's
 * rows there; a combine copies an incoming state's fixed part only and
 * reads its rows where the tuple holds them.
 *
 * mm_train's direct read of a plain table (mm_scan.c) builds the same
 * state without the executor (MmLinStatsDirect), taking parallel workers
 * of its own on a large table: each folds its pages' rows into a state of
 * its own and keeps its held-out rows until it scores them
 * (MmLinStatsWorker).  With test_fraction 0 the direct read keeps no row
 * (flag RESCAN): the processes read the pages again to score them, each
 * its own and then what the others have not reached (MmScanRescan).
 *
 * The transition state is a bytea (not internal), with a combine
 * function: parallel query splits the scan, and a distributed PostgreSQL
 * could push partial aggregation to its workers.  While the aggregate runs,
 * that bytea is held as an expanded object (utils/expandeddatum.h) in its
 * own memory context under the aggregate's: the fixed part (header,
 * moments, row block) is updated in place and held-out rows are appended to
 * chunks, so nothing is ever copied as it grows.  Wherever a flat value is
 * needed (a tuple sent from a parallel worker, the final result) the
 * executor flattens it through the methods below into the flat layout
 * MmLinState describes, and the functions here expand a flat state again
 * when they receive one.
 */
#include "massmodel.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "storage/shm_mq.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(mm_linear_stats_transfn);
PG_FUNCTION_INFO_V1(mm_linear_stats_combine);

#define MMLS_MAGIC			0x534c4d4d	/* "MMLS" */
#define MMLS_BLOCK_ROWS		128
#define MMLS_CHUNK_BYTES	(4 * 1024 * 1024)	/* held-out rows per allocation */
#define MMLS_FLAG_OVERFLOW	0x1
#define MMLS_FLAG_KEEP_ALL	0x2		/* test_fraction 0: every row is kept */
#define MMLS_FLAG_SINK		0x4		/* the kept rows are in mm_lin_sink */
#define MMLS_FLAG_RESCAN	0x8		/* KEEP_ALL, but a direct read reads its pages again */
#define MMLS_FIXED_ARGS		6		/* state, seed, fraction, memory, names, target */

/* the kept rows of a serial train, when mm_train offers them a place */
MmLinSink  *mm_lin_sink = NULL;
uint64		mm_lin_sink_generation = 0;

/* the state's header; arrays follow at MAXALIGNed offsets */
typedef struct MmLinState
{
	int32		vl_len_;
	uint32		magic;
	int32		d;				/* 1 + encoded features */
	int32		nargs;			/* feature arguments */
	int32		block_n;		/* rows waiting in the block */
	int32		flags;
	uint64		seed;
	double		test_fraction;
	int64		max_memory;		/* bytes the whole state may use */
	int64		heldout_n;		/* rows held out */
	int64		heldout_kept;	/* of those, rows stored */
	int64		heldout_cap;	/* rows the buffer holds */
	double		n;				/* training rows folded into the moments */
	/* int32 widths[nargs]; double mean[d]; double C[d*d];
	 * double block[BLOCK*d]; double work[MM_MOMENTS_WORK(d, BLOCK)];
	 * double heldout[heldout_cap*d] */
} MmLinState;

#define MMLS_OFF_WIDTHS(s)	MAXALIGN(sizeof(MmLinState))
#define MMLS_OFF_MEAN(s)	(MMLS_OFF_WIDTHS(s) + MAXALIGN(sizeof(int32) * (s)->nargs))
#define MMLS_OFF_C(s)		(MMLS_OFF_MEAN(s) + sizeof(double) * (Size) (s)->d)
#define MMLS_OFF_BLOCK(s)	(MMLS_OFF_C(s) + sizeof(double) * (Size) (s)->d * (s)->d)
#define MMLS_OFF_WORK(s)	(MMLS_OFF_BLOCK(s) + sizeof(double) * (Size) MMLS_BLOCK_ROWS * (s)->d)
#define MMLS_OFF_HELDOUT(s) (MMLS_OFF_WORK(s) + sizeof(double) * MM_MOMENTS_WORK((s)->d, MMLS_BLOCK_ROWS))

#define MMLS_PTR(s, off)	((void *) ((char *) (s) + (off)))
#define MMLS_WIDTHS(s)		((int32 *) MMLS_PTR(s, MMLS_OFF_WIDTHS(s)))
#define MMLS_MEAN(s)		((double *) MMLS_PTR(s, MMLS_OFF_MEAN(s)))
#define MMLS_C(s)			((double *) MMLS_PTR(s, MMLS_OFF_C(s)))
#define MMLS_BLOCK(s)		((double *) MMLS_PTR(s, MMLS_OFF_BLOCK(s)))
#define MMLS_WORK(s)		((double *) MMLS_PTR(s, MMLS_OFF_WORK(s)))
#define MMLS_HELDOUT(s)		((double *) MMLS_PTR(s, MMLS_OFF_HELDOUT(s)))

/* per-call-site cache: argument kinds and column names */
typedef struct MmLinArgs
{
	int			nargs;
	bool	   *is_array;
	char	  **names;			/* target, then one per feature argument */
} MmLinArgs;

static void MmLinCheck(const MmLinState *s);

/* Size of a state with room for cap held-out rows. */
static Size
MmLinStateSize(const MmLinState *hdr, int64 cap)
{
	return MMLS_OFF_HELDOUT(hdr) + sizeof(double) * (Size) cap * hdr->d;
}

/* Fold the rows waiting in the block into the moments. */
static void
MmLinFlush(MmLinState *s)
{
	if (s->block_n == 0)
		return;
	mm_moments_add_block(s->d, &s->n, MMLS_MEAN(s), MMLS_C(s),
						 MMLS_BLOCK(s), s->block_n, MMLS_WORK(s));
	s->block_n = 0;
}

/* Rows the memory budget leaves for held-out rows. */
static int64
MmLinMaxHeldout(const MmLinState *s)
{
	Size		fixed = MmLinStateSize(s, 0);
	int64		budget = Min(s->max_memory, (int64) (MaxAllocSize / 2));

	if ((int64) fixed >= budget)
		return 0;
	return (budget - (int64) fixed) / ((int64) sizeof(double) * s->d);
}

/*
 * The expanded form of a state: its fixed part (heldout_cap 0; heldout_kept
 * counts the rows in the chunks) and the held-out rows in chunks of
 * chunk_rows rows each.
 */
typedef struct MmLinExp
{
	ExpandedObjectHeader hdr;
	MmLinState *s;
	MmLinSink  *sink;			/* flag SINK: the kept rows are there */
	uint64		sink_generation;	/* sink->generation when claimed */
	int64		chunk_rows;
	int			nchunks;
	int			maxchunks;
	double	  **chunks;
} MmLinExp;

/* Size of the flat form of an expanded state. */
static Size
MmLinFlatSize(ExpandedObjectHeader *eohptr)
{
	MmLinExp   *e = (MmLinExp *) eohptr;

	return MmLinStateSize(e->s, e->sink ? 0 : e->s->heldout_kept);
}

/* Write the flat form of an expanded state into result. */
static void
MmLinFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	MmLinExp   *e = (MmLinExp *) eohptr;
	MmLinState *flat = (MmLinState *) result;
	Size		fixed = MmLinStateSize(e->s, 0);
	int64		left = e->sink ? 0 : e->s->heldout_kept;
	double	   *dst;

	Assert(allocated_size == MmLinFlatSize(eohptr));
	memcpy(flat, e->s, fixed);
	SET_VARSIZE(flat, allocated_size);
	flat->heldout_cap = left;
	flat->heldout_kept = left;
	dst = MMLS_HELDOUT(flat);
	for (int c = 0; left > 0; c++)
	{
		int64		n = Min(left, e->chunk_rows);

		memcpy(dst, e->chunks[c], sizeof(double) * (Size) n * e->s->d);
		dst += (Size) n * e->s->d;
		left -= n;
	}
}

static const ExpandedObjectMethods mm_lin_methods = {MmLinFlatSize, MmLinFlatten};

/* The sink a state claimed, checked to be the live one (compared, not dereferenced). */
static MmLinSink *
MmLinLiveSink(const MmLinExp *e)
{
	if (e->sink != mm_lin_sink || mm_lin_sink->generation != e->sink_generation)
		elog(ERROR, "mm_linear_stats state refers to kept rows that are gone");
	return e->sink;
}

/*
 * Keep no more rows: only their count.  When every row was to be kept,
 * the rows in a sink are let go (a prefix would be a biased sample).
 */
static void
MmLinOverflow(MmLinExp *e)
{
	MmLinState *s = e->s;

	s->flags |= MMLS_FLAG_OVERFLOW;
	if (e->sink != NULL && (s->flags & MMLS_FLAG_KEEP_ALL))
	{
		MmLinSink  *k = MmLinLiveSink(e);

		if (k->rows != NULL)
			pfree(k->rows);
		k->rows = NULL;
		k->n = k->cap = 0;
		s->heldout_kept = 0;
	}
}

/*
 * Append kept rows (nrows of d doubles from rows, which need not be
 * aligned) to an expanded state, within the memory budget; beyond it, set
 * the overflow flag and keep only the count.
 */
static void
MmLinAppend(MmLinExp *e, const void *rows, int64 nrows)
{
	MmLinState *s = e->s;
	int64		max = MmLinMaxHeldout(s);

	if (nrows <= 0)
		return;
	if (e->sink != NULL)
	{
		MmLinSink  *k = MmLinLiveSink(e);

		if (s->flags & MMLS_FLAG_OVERFLOW)
			return;
		if (k->n + nrows > max)
		{
			MmLinOverflow(e);
			return;
		}
		if (k->n + nrows > k->cap)
		{
			/*
			 * As many rows as expected at once (then the pages can be huge
			 * pages: a block advised so is copied when it grows), else
			 * doubling: a large chunk grows by realloc, which remaps its
			 * pages.
			 */
			int64		cap = Min(Max(k->cap * 2, Max(k->n + nrows, Max(k->expect, 8192))), max);

			k->rows = k->rows == NULL && cap >= k->expect && k->expect > 0 ?
				MmAllocLarge(k->cxt, sizeof(double) * (Size) cap * s->d) :
				k->rows == NULL ? MemoryContextAllocHuge(k->cxt, sizeof(double) * (Size) cap * s->d) :
				repalloc_huge(k->rows, sizeof(double) * (Size) cap * s->d);
			k->cap = cap;
		}
		memcpy(k->rows + (Size) k->n * s->d, rows, sizeof(double) * (Size) nrows * s->d);
		k->n += nrows;
		s->heldout_kept = k->n;
		return;
	}
	while (nrows > 0 && !(s->flags & MMLS_FLAG_OVERFLOW))
	{
		int64		chunk = s->heldout_kept / e->chunk_rows;
		int64		off = s->heldout_kept % e->chunk_rows;
		int64		n;

		if (s->heldout_kept >= max)
		{
			s->flags |= MMLS_FLAG_OVERFLOW;
			break;
		}
		if (chunk == e->nchunks)
		{
			if (e->nchunks == e->maxchunks)
			{
				e->maxchunks = Max(16, e->maxchunks * 2);
				e->chunks = e->chunks == NULL ?
					MemoryContextAlloc(e->hdr.eoh_context, sizeof(double *) * e->maxchunks) :
					repalloc(e->chunks, sizeof(double *) * e->maxchunks);
			}
			e->chunks[e->nchunks++] =
				MemoryContextAllocHuge(e->hdr.eoh_context,
									   sizeof(double) * (Size) e->chunk_rows * s->d);
		}
		n = Min(Min(nrows, e->chunk_rows - off), max - s->heldout_kept);
		memcpy(e->chunks[chunk] + (Size) off * s->d, rows, sizeof(double) * (Size) n * s->d);
		s->heldout_kept += n;
		rows = (const char *) rows + sizeof(double) * (Size) n * s->d;
		nrows -= n;
	}
}

/*
 * Expand a state into a new object in its own context under parent: flat
 * is its fixed part (checked by the caller), rows its flat->heldout_kept
 * kept rows (anywhere, maybe unaligned).  With claim, the new state keeps
 * its rows in that sink (mm_lin_sink, unclaimed).
 */
static MmLinExp *
MmLinExpand(const MmLinState *flat, const void *rows, MemoryContext parent,
			MmLinSink *claim)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "mm_linear_stats state",
											  ALLOCSET_DEFAULT_SIZES);
	MmLinExp   *e = MemoryContextAllocZero(cxt, sizeof(MmLinExp));
	Size		fixed = MmLinStateSize(flat, 0);

	EOH_init_header(&e->hdr, &mm_lin_methods, cxt);
	e->s = MemoryContextAlloc(cxt, fixed);
	memcpy(e->s, flat, fixed);
	SET_VARSIZE(e->s, fixed);
	e->s->heldout_cap = 0;
	e->s->heldout_kept = 0;
	e->chunk_rows = Max(1, Min(MMLS_CHUNK_BYTES / ((int64) sizeof(double) * flat->d),
							   MmLinMaxHeldout(flat)));
	/*
	 * A state whose rows are in mm_train's sink lives as one read-write
	 * expanded object from its first to its last transition; its flat form
	 * (the final result) is never a transition value again.
	 */
	if (flat->flags & MMLS_FLAG_SINK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mm_linear_stats state"),
				 errdetail("The state of a train that kept its rows outside it cannot be continued.")));
	if (claim != NULL)
	{
		claim->claimed = true;
		claim->d = e->s->d;
		e->sink = claim;
		e->sink_generation = claim->generation;
		e->s->flags |= MMLS_FLAG_SINK;
	}
	MmLinAppend(e, rows, flat->heldout_kept);
	return e;
}

/*
 * The fixed part of a state datum (flat or expanded) as an aligned,
 * checked private copy, and in *rows where the datum's kept rows start:
 * they are only copied from, where they are (inside a tuple a bytea is
 * not aligned for doubles), never copied whole first.
 */
static MmLinState *
MmLinFixedCopy(Datum d, const char **rows)
{
	struct varlena *v = PG_DETOAST_DATUM(d);
	MmLinState	hdr;
	MmLinState *s;
	Size		fixed;

	if (!VARATT_IS_4B_U(v) || VARSIZE(v) < sizeof(MmLinState))
		MmLinCheck((const MmLinState *) NULL);
	memcpy(&hdr, v, sizeof(MmLinState));
	/* enough to size the fixed part safely; MmLinCheck checks the rest */
	if (hdr.d < 2 || hdr.d > MM_MAX_COLS + 1 || hdr.nargs < 1 || hdr.nargs >= hdr.d ||
		hdr.nargs > FUNC_MAX_ARGS || VARSIZE(v) < MmLinStateSize(&hdr, 0))
		MmLinCheck((const MmLinState *) NULL);
	fixed = MmLinStateSize(&hdr, 0);
	s = palloc(fixed);
	memcpy(s, v, fixed);
	MmLinCheck(s);				/* its length is the datum's: the rows fit in it */
	*rows = (const char *) v + MMLS_OFF_HELDOUT(s);
	return s;
}

/*
 * A state of the direct read that reads its pages again (RESCAN) has none
 * of its rows: it is never an aggregate's value, and one that comes back
 * as such was made up.
 */
static void
MmLinRefuseDirect(const MmLinState *s)
{
	if (s->flags & MMLS_FLAG_RESCAN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mm_linear_stats state"),
				 errdetail("The state of a direct read that reads its pages again cannot be continued.")));
}

/*
 * The expanded state behind a transition value: ours as it is when it is a
 * read-write expanded object of this aggregate, else expanded from the
 * datum (into claim's rows, when given).
 */
static MmLinExp *
MmLinGetExp(Datum d, MemoryContext aggcxt, MmLinSink *claim)
{
	const char *rows;
	MmLinState *fixed;
	MmLinExp   *e;

	if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
	{
		ExpandedObjectHeader *eoh = DatumGetEOHP(d);

		if (eoh->eoh_methods == &mm_lin_methods)
			return (MmLinExp *) eoh;
	}
	fixed = MmLinFixedCopy(d, &rows);
	MmLinRefuseDirect(fixed);
	e = MmLinExpand(fixed, rows, aggcxt, claim);
	pfree(fixed);
	return e;
}

/* Build the cached argument description of this call site. */
static MmLinArgs *
MmLinGetArgs(FunctionCallInfo fcinfo)
{
	MmLinArgs  *a = (MmLinArgs *) fcinfo->flinfo->fn_extra;
	MemoryContext old;
	ArrayType  *names;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;

	if (a != NULL)
		return a;
	if (get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("mm_linear_stats takes its features as separate arguments, not as a VARIADIC array")));
	if (PG_NARGS() <= MMLS_FIXED_ARGS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mm_linear_stats needs at least one feature")));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("mm_linear_stats needs the column names")));

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	a = palloc0(sizeof(MmLinArgs));
	a->nargs = PG_NARGS() - MMLS_FIXED_ARGS;
	a->is_array = palloc0(sizeof(bool) * a->nargs);
	a->names = palloc0(sizeof(char *) * (a->nargs + 1));

	names = PG_GETARG_ARRAYTYPE_P(4);
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	if (nelems != a->nargs + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mm_linear_stats got %d column names for %d columns", nelems, a->nargs + 1)));
	for (int i = 0; i < nelems; i++)
		a->names[i] = nulls[i] ? pstrdup("?") : TextDatumGetCString(elems[i]);

	for (int i = 0; i < a->nargs; i++)
	{
		Oid			t = get_fn_expr_argtype(fcinfo->flinfo, MMLS_FIXED_ARGS + i);

		if (t == FLOAT8ARRAYOID)
			a->is_array[i] = true;
		else if (t != FLOAT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("feature \"%s\" passed to mm_linear_stats has type %s",
							a->names[i + 1], format_type_be(t)),
					 errhint("Pass features as double precision or double precision[]; cast them with ::float8.")));
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = a;
	/* once per call site and process (parallel workers included) */
	MmSetBlasThreads();
	return a;
}

/*
 * A new, empty state for features of the given widths (nargs of them),
 * within max_memory bytes.  partial: a partial state of a parallel plan,
 * which never keeps every row.
 */
static MmLinState *
MmLinCreateState(int nargs, const int32 *widths, int64 max_memory, uint64 seed,
				 double test_fraction, bool partial)
{
	MmLinState	hdr;
	int64		d = 1;
	MmLinState *s;
	Size		size;

	for (int i = 0; i < nargs; i++)
		d += widths[i];
	if (d > MM_MAX_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%lld encoded features are too many", (long long) (d - 1)),
				 errdetail("A model has at most %d encoded features.", MM_MAX_COLS)));

	memset(&hdr, 0, sizeof(hdr));
	hdr.d = (int32) d;
	hdr.nargs = nargs;
	hdr.max_memory = max_memory;
	size = MmLinStateSize(&hdr, 0);
	if ((int64) size > hdr.max_memory || size > MaxAllocSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training statistics for %d encoded features need %zu kB of memory",
						(int) d - 1, size / 1024),
				 errdetail("mm.max_train_memory allows %lld kB.", (long long) (hdr.max_memory / 1024)),
				 errhint("Raise mm.max_train_memory or use fewer features.")));

	s = palloc0(size);
	memcpy(s, &hdr, sizeof(hdr));
	SET_VARSIZE(s, size);
	s->magic = MMLS_MAGIC;
	s->seed = seed;
	s->test_fraction = test_fraction;
	if (s->test_fraction == 0)
	{
		s->flags |= MMLS_FLAG_KEEP_ALL;
		if (partial)
			s->flags |= MMLS_FLAG_OVERFLOW;
	}
	memcpy(MMLS_WIDTHS(s), widths, sizeof(int32) * nargs);
	return s;
}

/* A new, empty state shaped by the first row's array widths. */
static MmLinState *
MmLinCreate(FunctionCallInfo fcinfo, const MmLinArgs *a)
{
	int32	   *widths = palloc(sizeof(int32) * a->nargs);

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(1 + i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("seed, test_fraction and max_memory of mm_linear_stats must not be NULL")));
	for (int i = 0; i < a->nargs; i++)
	{
		widths[i] = 1;
		if (a->is_array[i])
		{
			ArrayType  *arr;

			if (PG_ARGISNULL(MMLS_FIXED_ARGS + i))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("column \"%s\" contains NULL", a->names[i + 1]),
						 errhint("Filter NULLs out in a query source.")));
			arr = PG_GETARG_ARRAYTYPE_P(MMLS_FIXED_ARGS + i);
			widths[i] = ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : 0;
			if (widths[i] < 1 || widths[i] > MM_MAX_WIDTH)
				ereport(ERROR,
						(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						 errmsg("column \"%s\" holds an array of %d dimensions and %d elements",
								a->names[i + 1], ARR_NDIM(arr), widths[i]),
						 errhint("Array features are one-dimensional with 1 to %d elements.", MM_MAX_WIDTH)));
		}
	}
	return MmLinCreateState(a->nargs, widths, PG_GETARG_INT64(3),
							(uint64) PG_GETARG_INT64(1), PG_GETARG_FLOAT8(2), IsInParallelMode());
}

/* The errors for a NULL in a row of the scan. */
static void
MmLinNullTarget(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("target column \"%s\" contains NULL", name),
			 errhint("Filter rows with a NULL target out in a query source.")));
}

static void
MmLinNullFeature(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("column \"%s\" contains NULL", name),
			 errhint("Set params.impute to 'mean', 'median' or 'most_frequent', or filter the rows in a query source.")));
}

/* Read this call's row into row[d]: target first, then the features. */
static void
MmLinReadRow(FunctionCallInfo fcinfo, const MmLinArgs *a, const MmLinState *s,
			 double *row)
{
	const int32 *widths = MMLS_WIDTHS(s);
	int			pos = 1;

	if (PG_ARGISNULL(5))
		MmLinNullTarget(a->names[0]);
	row[0] = PG_GETARG_FLOAT8(5);
	if (!isfinite(row[0]))
		MmReportNonFinite(a->names[0], row[0]);

	for (int i = 0; i < a->nargs; i++)
	{
		int			argno = MMLS_FIXED_ARGS + i;

		if (PG_ARGISNULL(argno))
			MmLinNullFeature(a->names[i + 1]);
		if (a->is_array[i])
		{
			char	   *what = psprintf("column \"%s\"", a->names[i + 1]);

			MmReadArray(PG_GETARG_ARRAYTYPE_P(argno), widths[i], row + pos, what);
			pfree(what);
			pos += widths[i];
		}
		else
		{
			double		v = PG_GETARG_FLOAT8(argno);

			if (!isfinite(v))
				MmReportNonFinite(a->names[i + 1], v);
			row[pos++] = v;
		}
	}
}

/*
 * Take the row read into the next slot of the block: held out (kept, or
 * counted), or a training row (kept too when every row is).
 */
static inline void
MmLinAddRow(MmLinExp *e)
{
	MmLinState *s = e->s;
	double	   *row = MMLS_BLOCK(s) + (Size) s->block_n * s->d;

	if (s->test_fraction > 0 && mm_split_u(s->seed, row, s->d) < s->test_fraction)
	{
		s->heldout_n++;
		MmLinAppend(e, row, 1);
	}
	else
	{
		if ((s->flags & (MMLS_FLAG_KEEP_ALL | MMLS_FLAG_RESCAN)) == MMLS_FLAG_KEEP_ALL)
			MmLinAppend(e, row, 1);
		if (++s->block_n == MMLS_BLOCK_ROWS)
			MmLinFlush(s);
	}
}

/* Transition: one row. */
Datum
mm_linear_stats_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MmLinArgs  *a;
	MmLinExp   *e;
	int			cxtkind;

	if (!(cxtkind = AggCheckCallContext(fcinfo, &aggcxt)))
		elog(ERROR, "mm_linear_stats_transfn called in non-aggregate context");
	a = MmLinGetArgs(fcinfo);

	if (PG_ARGISNULL(0))
	{
		/*
		 * The one state of a serial plan keeps its rows where mm_train reads
		 * them: only a plain (not window, not partial) aggregate, whose
		 * transitions all run within the scan mm_train waits for.
		 */
		bool		simple = cxtkind == AGG_CONTEXT_AGGREGATE &&
			AggGetAggref(fcinfo) != NULL &&
			AggGetAggref(fcinfo)->aggsplit == AGGSPLIT_SIMPLE && !IsInParallelMode();

		e = MmLinExpand(MmLinCreate(fcinfo, a), NULL, aggcxt,
						simple && mm_lin_sink != NULL && !mm_lin_sink->claimed ? mm_lin_sink : NULL);
	}
	else
		e = MmLinGetExp(PG_GETARG_DATUM(0), aggcxt, NULL);

	/* read straight into the block; a held-out row is moved from there */
	MmLinReadRow(fcinfo, a, e->s, MMLS_BLOCK(e->s) + (Size) e->s->block_n * e->s->d);
	MmLinAddRow(e);
	PG_RETURN_DATUM(EOHPGetRWDatum(&e->hdr));
}

/* what a worker of the direct read needs besides the table's columns */
typedef struct MmLinParArgs
{
	uint64		seed;
	double		test_fraction;
	int64		max_memory;
} MmLinParArgs;

/*
 * The messages of the direct read's workers: a worker sends its state's
 * fixed part (STATE, nrows: the rows it kept), the backend then the model
 * to score them with (MODEL, nrows: the profile's sampling step, total:
 * every process's kept rows; then the intercept, the p weights, the number
 * of profiled offsets and the offsets, all as doubles), and the worker its
 * metrics and profile part (RESULT, nrows: the rows scored, which after a
 * shared second read are not the rows it kept; MmLinResult, then the part).
 */
#define MMLS_MSG_STATE	1
#define MMLS_MSG_MODEL	2
#define MMLS_MSG_RESULT	3

typedef struct MmLinMsg
{
	int32		kind;
	int32		pad;
	int64		nrows;
	int64		total;
} MmLinMsg;

/* the header of a RESULT: the message, then the metrics; the part follows */
typedef struct MmLinResult
{
	MmLinMsg	msg;
	MmRegMetrics met;
} MmLinResult;

/* the workers of a direct read, holding their kept rows until they are scored */
struct MmLinPar
{
	MmScanPar  *par;
	int			workers;
	int			d;
	int			npos;			/* the values profiled (MmLinParScore) */
	int64	   *kept;			/* each worker's kept rows */
	bool		rescan;			/* none kept: every process reads again (shared) */
};

/* A new expanded state for the direct read of scan (scalar features). */
static MmLinExp *
MmLinDirectState(const MmScan *scan, uint64 seed, double test_fraction,
				 int64 max_memory, MmLinSink *sink)
{
	int			nargs = scan->n - 1;
	int32	   *widths = palloc(sizeof(int32) * nargs);
	MmLinState *fixed;
	MmLinExp   *e;

	for (int i = 0; i < nargs; i++)
		widths[i] = 1;
	MmSetBlasThreads();
	fixed = MmLinCreateState(nargs, widths, max_memory, seed, test_fraction, false);
	/* every row to score: read again, not kept */
	if (fixed->flags & MMLS_FLAG_KEEP_ALL)
	{
		fixed->flags |= MMLS_FLAG_RESCAN;
		sink = NULL;
	}
	e = MmLinExpand(fixed, NULL, CurrentMemoryContext,
					sink != NULL && !sink->claimed ? sink : NULL);
	pfree(fixed);
	pfree(widths);
	return e;
}

/*
 * The next row of scan into e, as the transition takes it; false at the
 * end of the table.  names: the target's and the features' names.
 */
static inline bool
MmLinDirectRow(MmLinExp *e, MmScan *scan, char **names)
{
	double	   *row = MMLS_BLOCK(e->s) + (Size) e->s->block_n * e->s->d;
	int			null_col;

	/*
	 * Every row to the block (nothing held out, nothing kept): the rest of
	 * the page at once, as the rows one by one would go (MmScanPageRows)
	 */
	if (e->s->test_fraction == 0 && (e->s->flags & MMLS_FLAG_RESCAN))
	{
		int			k = MmScanPageRows(scan, NULL, row, MMLS_BLOCK_ROWS - e->s->block_n);

		if (k > 0)
		{
			if ((e->s->block_n += k) == MMLS_BLOCK_ROWS)
				MmLinFlush(e->s);
			return true;
		}
	}

	/* each row straight into the block, as the transition reads it */
	if (!MmScanNextFloat8(scan, row, &null_col))
		return false;
	/* the first bad value in column order, as the transition finds it */
	if (!scan->finite || null_col >= 0)
		for (int i = 0; i < scan->n; i++)
		{
			if (i == null_col)
			{
				if (i == 0)
					MmLinNullTarget(names[0]);
				MmLinNullFeature(names[i]);
			}
			if (!isfinite(row[i]))
				MmReportNonFinite(names[i], row[i]);
		}
	MmLinAddRow(e);
	return true;
}

/*
 * mm_train's direct read of a table (mm_scan.c): the state the aggregate
 * would have built over the same rows, built here from scan's rows
 * (target, then scalar features, all float8), its kept rows in sink.
 * names: the target's and the features' names.  Returns the flat state
 * in the current memory context, or NULL when the table has no rows.
 *
 * With parallel workers (MmScanWorkers), each worker folds its pages'
 * training rows into a state of its own and keeps its rows to keep (the
 * held-out rows, or all with test_fraction 0) within its own memory
 * budget; this backend merges their states in worker order.  *lpar then
 * holds the workers, still in parallel mode, until MmLinParScore has them
 * score their rows (NULL without workers); *workers: how many took part.
 *
 * With test_fraction 0 every row is to be scored: no process keeps its
 * rows, the processes read the pages again instead (MmScanRescan,
 * MmScoreRescan), which costs less than writing them to fresh memory.
 * *rescan_rows is then the number of rows this backend read (-1 when rows
 * were kept).
 */
bytea *
MmLinStatsDirect(MmScan *scan, char **names, uint64 seed, double test_fraction,
				 int64 max_memory, MmLinSink *sink, int *workers, MmLinPar **lpar,
				 int64 *rescan_rows)
{
	MmLinExp   *e = MmLinDirectState(scan, seed, test_fraction, max_memory, sink);
	int			nworkers = MmScanWorkers(scan);
	MmScanPar  *par = NULL;
	MmLinState **parts = NULL;
	int64	   *kept = NULL;
	int			nparts = 0;
	bool		reading = true;
	bytea	   *result;
	Size		size;

	*workers = 0;
	*lpar = NULL;
	if (nworkers > 0)
	{
		MmLinParArgs args;

		args.seed = seed;
		args.test_fraction = test_fraction;
		args.max_memory = max_memory;
		par = MmScanParallelBegin(scan, nworkers, MM_PAR_LINEAR_STATS, &args, sizeof(args));
		*workers = MmScanParallelLaunched(par);
		parts = palloc0(sizeof(MmLinState *) * Max(*workers, 1));
		kept = palloc0(sizeof(int64) * Max(*workers, 1));
		/* as a Gather: with parallel_leader_participation off the workers read every page */
		reading = *workers == 0 || parallel_leader_participation;
	}
	/* until this backend's share is read and every worker's state is in */
	while (reading || nparts < *workers)
	{
		int			worker;
		void	   *data;
		Size		len;
		int			got = *workers > 0 ? MmScanParallelReceive(par, &worker, &data, &len) : MM_PAR_NONE;

		if (got == MM_PAR_MESSAGE)
		{
			MmLinMsg	msg;

			if (len < sizeof(msg))
				elog(ERROR, "short message from parallel worker %d", worker);
			memcpy(&msg, data, sizeof(msg));
			if (msg.kind != MMLS_MSG_STATE || parts[worker] != NULL || msg.nrows < 0 ||
				len - sizeof(msg) != MmLinStateSize(e->s, 0))
				elog(ERROR, "unexpected message from parallel worker %d", worker);
			parts[worker] = palloc(len - sizeof(msg));
			memcpy(parts[worker], (char *) data + sizeof(msg), len - sizeof(msg));
			MmLinCheck(parts[worker]);
			kept[worker] = msg.nrows;
			nparts++;
			continue;
		}
		if (got == MM_PAR_FINISHED)
			MmScanParallelFailed(par, worker);
		if (reading)
		{
			/* a share of the rows between two looks at the queues */
			for (int i = 0; i < (*workers > 0 ? 256 : INT_MAX) && reading; i++)
				reading = MmLinDirectRow(e, scan, names);
			continue;
		}
		MmScanParallelWait();
	}
	if (par != NULL && *workers == 0)
	{
		/* no worker slot: this backend has read every page of the shared scan */
		MmScanParallelEnd(par, scan);
		par = NULL;
	}
	*rescan_rows = (e->s->flags & MMLS_FLAG_RESCAN) ? (int64) e->s->n + e->s->block_n : -1;
	for (int w = 0; w < *workers; w++)
	{
		MmLinState *s2 = parts[w];

		MmLinFlush(e->s);
		mm_moments_merge(e->s->d, &e->s->n, MMLS_MEAN(e->s), MMLS_C(e->s),
						 s2->n, MMLS_MEAN(s2), MMLS_C(s2));
		e->s->heldout_n += s2->heldout_n;
		if (s2->flags & MMLS_FLAG_OVERFLOW)
			MmLinOverflow(e);
	}
	if (par != NULL)
	{
		MmLinPar   *lp = palloc0(sizeof(MmLinPar));

		lp->par = par;
		lp->workers = *workers;
		lp->d = e->s->d;
		lp->kept = kept;
		lp->rescan = (e->s->flags & MMLS_FLAG_RESCAN) != 0;
		*lpar = lp;
	}
	if (e->s->n + e->s->block_n + e->s->heldout_n == 0)
	{
		/* no row: as the aggregate over an empty table, NULL */
		MemoryContextDelete(e->hdr.eoh_context);
		return NULL;
	}
	size = MmLinFlatSize(&e->hdr);
	result = palloc(size);
	MmLinFlatten(&e->hdr, result, size);
	MemoryContextDelete(e->hdr.eoh_context);
	return result;
}

/*
 * Add n kept rows (d values each: the target, then the features) scored
 * by the linear model m to met, and profile them into pp (either may be
 * NULL), in order, a block at a time: the block is profiled while it is
 * still in the cache.
 */
void
MmScoreRows(const MmModel *m, const double *rows, int64 n, int d, MmRegMetrics *met,
			MmProfilePart *pp)
{
	double		pred[256];

	for (int64 i = 0; i < n; i += lengthof(pred))
	{
		int64		nb = Min(n - i, (int64) lengthof(pred));
		const double *block = rows + (Size) i * d;

		CHECK_FOR_INTERRUPTS();
		if (met != NULL)
		{
			mm_linear_predict_rows(m, block + 1, d, nb, pred);
			mm_regmetrics_add_rows(met, block, d, pred, (int) nb);
		}
		if (pp != NULL)
			MmProfilePartRows(pp, block, nb, d);
	}
}

/* a second read's rows scored as kept rows (MmScoreRescan) */
typedef struct MmRescore
{
	const MmModel *m;
	int			d;
	MmRegMetrics *met;
	MmProfilePart *pp;
} MmRescore;

static void
MmRescoreTake(void *arg, const double *rows, int n, int64 row0)
{
	MmRescore  *r = arg;

	MmScoreRows(r->m, rows, n, r->d, r->met, r->pp);
}

/*
 * Score and profile, as MmScoreRows would the same rows kept, the rows of
 * scan (a direct read at its end) read again (MmScanRescanBlocks): n rows,
 * the number the first read found, or with shared (a parallel read) this
 * process's part of the n rows every process found.  Then the scan is
 * ended.  Returns the rows scored.
 */
int64
MmScoreRescan(MmScan *scan, const MmModel *m, int64 n, bool shared, int d, MmRegMetrics *met,
			  MmProfilePart *pp)
{
	MmRescore	r = {m, d, met, pp};

	return MmScanRescanBlocks(scan, n, shared, 256, d, NULL, MmRescoreTake, &r);
}

/* The rows the workers of a direct read kept. */
int64
MmLinParKept(const MmLinPar *lp)
{
	int64		n = 0;

	for (int w = 0; w < lp->workers; w++)
		n += lp->kept[w];
	return n;
}

/*
 * Have the workers of a direct read score the rows they kept with m (a
 * linear model), or their part of a shared second read of the pages, and
 * profile them at the offsets pos (MmProfilePositions) with the sampling
 * step of all the kept rows (total, with this backend's);
 * MmLinParCollect takes their results.
 */
void
MmLinParScore(MmLinPar *lp, const MmModel *m, int64 step, int64 total, const int *pos, int npos)
{
	int			p = lp->d - 1;
	double	   *model = palloc(sizeof(double) * (2 + p + npos));
	MmLinMsg	msg;

	if ((int) m->ncols != p)
		elog(ERROR, "the model has %u encoded features, the training rows %d", m->ncols, p);
	model[0] = m->intercept;
	memcpy(model + 1, m->coef, sizeof(double) * p);
	model[1 + p] = npos;
	for (int j = 0; j < npos; j++)
		model[2 + p + j] = pos[j];
	memset(&msg, 0, sizeof(msg));
	msg.kind = MMLS_MSG_MODEL;
	msg.nrows = step;
	msg.total = total;
	lp->npos = npos;
	for (int w = 0; w < lp->workers; w++)
		MmScanParallelSendTo(lp->par, w, &msg, sizeof(msg), model, sizeof(double) * (2 + p + npos));
	pfree(model);
}

/* where MmLinParCollect puts a worker's result */
typedef struct MmLinTaken
{
	MmLinPar   *lp;
	MmRegMetrics *wmet;
	double	  **parts;
	int64		scored;			/* the rows the workers scored */
} MmLinTaken;

static void
MmLinTake(void *arg, int worker, const void *data, Size len)
{
	MmLinTaken *t = arg;
	MmLinResult r;

	if (len < sizeof(r) + 2 * sizeof(double))
		elog(ERROR, "short message from parallel worker %d", worker);
	memcpy(&r, data, sizeof(r));
	/* a part of a shared second read: any number of rows, added up by the caller */
	if (r.msg.kind != MMLS_MSG_RESULT || r.msg.nrows < 0 ||
		(!t->lp->rescan && r.msg.nrows != t->lp->kept[worker]))
		elog(ERROR, "unexpected message from parallel worker %d", worker);
	t->scored += r.msg.nrows;
	t->wmet[worker] = r.met;
	len -= sizeof(r);
	t->parts[worker] = palloc_extended(len, MCXT_ALLOC_HUGE);
	memcpy(t->parts[worker], (const char *) data + sizeof(r), len);
	if (!MmProfilePartValid(t->parts[worker], len, t->lp->npos, r.msg.nrows))
		elog(ERROR, "unexpected message from parallel worker %d", worker);
}

/*
 * The workers' results (MmLinParScore): their metrics merged in worker
 * order into met (which may hold this backend's already), their profile
 * parts into parts[0 .. workers-1] (palloc'd).  Then the workers are gone
 * and parallel mode is over.  Returns the rows they scored.
 */
int64
MmLinParCollect(MmLinPar *lp, MmRegMetrics *met, double **parts)
{
	MmLinTaken	t = {lp, palloc0(sizeof(MmRegMetrics) * lp->workers), parts, 0};

	MmScanParallelCollect(lp->par, MmLinTake, &t);
	MmScanParallelEnd(lp->par, NULL);
	lp->par = NULL;
	for (int w = 0; w < lp->workers; w++)
		mm_regmetrics_merge(met, &t.wmet[w]);
	return t.scored;
}

/*
 * A worker of the direct read (mm_scan.c): its pages' rows into a state of
 * its own, which it sends; then, with the model the backend sends back,
 * its kept rows' metrics and profile part.
 */
void
MmLinStatsWorker(MmScan *scan, char **names, const void *args, shm_mq_handle *mq,
				 shm_mq_handle *in)
{
	MmLinParArgs a;
	MmLinExp   *e;
	MmLinMsg	msg;
	MmLinState *fixed;
	Size		fixed_size;
	void	   *data;
	Size		len;
	MmModel		model;
	int			p;
	int			npos;
	int		   *pos;
	double	   *got;
	MmLinResult result;
	MmProfilePart *pp;
	double	   *part;
	Size		part_len;
	int64		left;
	int64		kept;

	memcpy(&a, args, sizeof(a));
	e = MmLinDirectState(scan, a.seed, a.test_fraction, a.max_memory, NULL);
	while (MmLinDirectRow(e, scan, names))
		;
	MmLinFlush(e->s);

	/* the state without its rows, which stay here */
	fixed_size = MmLinStateSize(e->s, 0);
	fixed = palloc(fixed_size);
	memcpy(fixed, e->s, fixed_size);
	fixed->heldout_kept = 0;
	fixed->heldout_cap = 0;
	memset(&msg, 0, sizeof(msg));
	msg.kind = MMLS_MSG_STATE;
	kept = (e->s->flags & MMLS_FLAG_RESCAN) ? (int64) e->s->n : e->s->heldout_kept;
	msg.nrows = kept;
	MmScanParallelSend(mq, &msg, sizeof(msg), fixed, fixed_size);

	/* the model, the sampling step and the offsets to profile */
	MmScanParallelAwait(in, &data, &len);
	p = e->s->d - 1;
	if (len < sizeof(msg) + sizeof(double) * (2 + p))
		elog(ERROR, "short message from the backend of the parallel direct read");
	memcpy(&msg, data, sizeof(msg));
	got = palloc(len - sizeof(msg));
	memcpy(got, (char *) data + sizeof(msg), len - sizeof(msg));
	npos = (int) got[1 + p];
	if (msg.kind != MMLS_MSG_MODEL || msg.nrows < 1 || npos < 0 || npos > p ||
		len != sizeof(msg) + sizeof(double) * (2 + p + npos))
		elog(ERROR, "unexpected message from the backend of the parallel direct read");
	memset(&model, 0, sizeof(model));
	model.intercept = got[0];
	model.coef = got + 1;
	model.ncols = (uint32) p;
	pos = palloc(sizeof(int) * Max(npos, 1));
	for (int j = 0; j < npos; j++)
		pos[j] = (int) got[2 + p + j];

	/*
	 * Score and profile the kept rows, in order, or with none kept this
	 * worker's part of the shared second read of the pages (up to all the
	 * kept rows, the backend's and the other workers' with its own).
	 */
	mm_regmetrics_init(&result.met);
	if (e->s->flags & MMLS_FLAG_RESCAN)
	{
		if (msg.total < kept)
			elog(ERROR, "unexpected message from the backend of the parallel direct read");
		pp = MmProfilePartBegin(pos, npos, msg.total, msg.nrows);
		kept = MmScoreRescan(scan, &model, msg.total, true, e->s->d, &result.met, pp);
	}
	else
		pp = MmProfilePartBegin(pos, npos, kept, msg.nrows);
	left = e->s->heldout_kept;
	for (int c = 0; left > 0; c++)
	{
		int64		n = Min(left, e->chunk_rows);
		const double *rows = e->chunks[c];

		MmScoreRows(&model, rows, n, e->s->d, &result.met, pp);
		left -= n;
	}
	part = MmProfilePartEnd(pp, &part_len);

	memset(&result.msg, 0, sizeof(result.msg));
	result.msg.kind = MMLS_MSG_RESULT;
	result.msg.nrows = kept;
	MmScanParallelSend(mq, &result, sizeof(result), part, part_len);
}

/*
 * Check that a flat bytea is a state of this aggregate before anything is
 * read through its offsets: a state may come from any caller of the
 * transition or combine function, so every field is bounded, sizes are
 * recomputed without overflow, and the widths must add up to d.
 */
static void
MmLinCheck(const MmLinState *s)
{
	bool		ok;
	int64		sum = 1;

	ok = s != NULL && VARSIZE(s) >= sizeof(MmLinState) && s->magic == MMLS_MAGIC &&
		s->d >= 2 && s->d <= MM_MAX_COLS + 1 &&
		s->nargs >= 1 && s->nargs < s->d && s->nargs <= FUNC_MAX_ARGS &&
		s->block_n >= 0 && s->block_n < MMLS_BLOCK_ROWS &&
		(s->flags & ~(MMLS_FLAG_OVERFLOW | MMLS_FLAG_KEEP_ALL | MMLS_FLAG_SINK |
					  MMLS_FLAG_RESCAN)) == 0 &&
		(!(s->flags & MMLS_FLAG_RESCAN) ||
		 (s->flags & (MMLS_FLAG_KEEP_ALL | MMLS_FLAG_SINK)) == MMLS_FLAG_KEEP_ALL) &&
		s->heldout_cap >= 0 &&
		s->heldout_cap <= (int64) (MaxAllocHugeSize / (sizeof(double) * (Size) s->d)) &&
		s->heldout_kept >= 0 && s->heldout_kept <= s->heldout_cap &&
		((s->flags & MMLS_FLAG_KEEP_ALL) ?
		 s->test_fraction == 0 && s->heldout_n == 0 &&
		 (double) s->heldout_kept <= s->n + s->block_n :
		 s->heldout_n >= s->heldout_kept) &&
		s->n >= 0 && isfinite(s->n) &&
		s->test_fraction >= 0 && s->test_fraction < 1 && s->max_memory >= 0 &&
		VARSIZE(s) == MmLinStateSize(s, s->heldout_cap);
	if (ok)
	{
		const int32 *widths = MMLS_WIDTHS(s);

		for (int i = 0; i < s->nargs && ok; i++)
		{
			ok = widths[i] >= 1 && widths[i] <= MM_MAX_WIDTH;
			sum += widths[i];
		}
		ok = ok && sum == s->d;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mm_linear_stats state")));
}

/* Combine two partial states (strict: the executor handles NULLs). */
Datum
mm_linear_stats_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MmLinExp   *e;
	MmLinState *s1;
	MmLinState *s2;
	const char *rows2;
	int			cxtkind;
	AggSplit	split;

	if (!(cxtkind = AggCheckCallContext(fcinfo, &aggcxt)))
		elog(ERROR, "mm_linear_stats_combine called in non-aggregate context");

	/*
	 * The final combining step of mm_train's scan (in the leader of a
	 * parallel plan, or above partial aggregates) gathers the kept rows in
	 * mm_train's sink, so that the result carries only the fixed part.
	 */
	split = cxtkind == AGG_CONTEXT_AGGREGATE && AggGetAggref(fcinfo) != NULL ?
		AggGetAggref(fcinfo)->aggsplit : AGGSPLIT_SIMPLE;
	e = MmLinGetExp(PG_GETARG_DATUM(0), aggcxt,
					DO_AGGSPLIT_COMBINE(split) && !DO_AGGSPLIT_SKIPFINAL(split) &&
					!IsParallelWorker() && mm_lin_sink != NULL && !mm_lin_sink->claimed ?
					mm_lin_sink : NULL);
	s1 = e->s;
	s2 = MmLinFixedCopy(PG_GETARG_DATUM(1), &rows2);
	MmLinRefuseDirect(s2);
	if (s2->flags & MMLS_FLAG_SINK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid mm_linear_stats state"),
				 errdetail("The state of a train that kept its rows outside it cannot be continued.")));
	if (s1->d != s2->d || s1->nargs != s2->nargs ||
		memcmp(MMLS_WIDTHS(s1), MMLS_WIDTHS(s2), sizeof(int32) * s1->nargs) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array features have different lengths in different rows"),
				 errhint("Array features must have the same length in every row.")));

	MmSetBlasThreads();
	MmLinFlush(s1);
	MmLinFlush(s2);
	mm_moments_merge(s1->d, &s1->n, MMLS_MEAN(s1), MMLS_C(s1),
					 s2->n, MMLS_MEAN(s2), MMLS_C(s2));
	s1->heldout_n += s2->heldout_n;
	s1->flags |= s2->flags & ~MMLS_FLAG_OVERFLOW;
	if (s2->flags & MMLS_FLAG_OVERFLOW)
		MmLinOverflow(e);
	MmLinAppend(e, rows2, s2->heldout_kept);
	pfree(s2);
	PG_RETURN_DATUM(EOHPGetRWDatum(&e->hdr));
}

/*
 * Unpack a final state for mm_train: flush the block and hand out the
 * moments and the kept rows (in the state, or in sink when the state
 * claimed it).  s must be an aligned private copy.
 */
void
MmLinStateUnpack(bytea *state, const MmLinSink *sink, MmLinStats *out)
{
	MmLinState *s = (MmLinState *) state;

	MmLinCheck(s);
	MmSetBlasThreads();
	MmLinFlush(s);
	out->d = s->d;
	out->nargs = s->nargs;
	out->widths = MMLS_WIDTHS(s);
	out->n = s->n;
	out->mean = MMLS_MEAN(s);
	out->C = MMLS_C(s);
	out->heldout_n = s->heldout_n;
	out->kept_all = (s->flags & MMLS_FLAG_KEEP_ALL) != 0;
	out->heldout_complete = !(s->flags & MMLS_FLAG_OVERFLOW);
	out->heldout_kept = s->heldout_kept;
	out->heldout = MMLS_HELDOUT(s);
	if (s->flags & MMLS_FLAG_SINK)
	{
		if (sink == NULL || !sink->claimed || sink->d != s->d ||
			(sink->rows == NULL && sink->n > 0))
			elog(ERROR, "mm_linear_stats state refers to kept rows that are gone");
		out->heldout_kept = sink->n;
		out->heldout = sink->rows;
	}
}
