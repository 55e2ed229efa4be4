/*
 * mm_dataset.c
 *	  Training rows in memory: reading, the held-out split, categorical
 *	  levels, imputation and scaling.
 *
 * Algorithms that iterate over their data (logistic regression), that
 * need per-class statistics (naive Bayes), or whose features need a
 * first look at the data (categorical levels, imputed values, scaling)
 * read the source once, as the caller, into a receiver that keeps a compact
 * raw form:
 *	 - per row the target (a value, or a label id) and the split number u;
 *	 - per feature column: numbers as doubles, NULL as NaN (a NaN in the
 *	   data is an error before it is stored, so NaN is free to mean NULL);
 *	   a categorical value as the id of its string in a per-column
 *	   dictionary.
 * Then the split is decided (stratified by class for classifiers), the
 * model's preprocessing is learnt from the training rows only (levels in
 * byte order, fill values, scaling), and rows are encoded on demand into
 * the dense form the core takes.  The split number of a row hashes its
 * values as the linear aggregate does (strings by a 53-bit hash), so it
 * depends on the seed and the row only.
 */
#include "massmodel.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/memutils.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define MM_DICT_MIN_SLOTS	64
/* raw rows per allocation (whole huge pages with mm.huge_pages), never moved as the data grow */
#define MM_DATASET_CHUNK	(16 * 1024 * 1024)

/* A hash 53 bits wide, exact as a double: how strings enter the split. */
static double
MmStringHash53(const char *s, size_t len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) s, (int) len, 0x6d6d);

	return (double) (h >> 11);
}

/* Find or add a string; its id (0-based) or -1 when the limit is reached. */
int32
MmDictIntern(MmDict *d, const char *s, size_t len)
{
	uint32		h;
	uint32		slot;

	if (d->nslots == 0 || (d->n + 1) * 2 > d->nslots)
	{
		uint32		nslots = d->nslots ? d->nslots * 2 : MM_DICT_MIN_SLOTS;
		int32	   *slots = MemoryContextAlloc(d->cxt, sizeof(int32) * nslots);

		memset(slots, -1, sizeof(int32) * nslots);
		for (int32 i = 0; i < d->n; i++)
		{
			uint32		sl = hash_bytes((const unsigned char *) d->strs[i], d->lens[i]) & (nslots - 1);

			while (slots[sl] >= 0)
				sl = (sl + 1) & (nslots - 1);
			slots[sl] = i;
		}
		d->slots = slots;
		d->nslots = nslots;
	}
	h = hash_bytes((const unsigned char *) s, (int) len);
	for (slot = h & (d->nslots - 1); d->slots[slot] >= 0; slot = (slot + 1) & (d->nslots - 1))
	{
		int32		i = d->slots[slot];

		if (d->lens[i] == len && memcmp(d->strs[i], s, len) == 0)
			return i;
	}
	if (d->n >= d->limit)
		return -1;
	if (d->n == d->cap)
	{
		d->cap = d->cap ? d->cap * 2 : 16;
		d->strs = d->strs ? repalloc(d->strs, sizeof(char *) * d->cap) :
			MemoryContextAlloc(d->cxt, sizeof(char *) * d->cap);
		d->lens = d->lens ? repalloc(d->lens, sizeof(uint32) * d->cap) :
			MemoryContextAlloc(d->cxt, sizeof(uint32) * d->cap);
	}
	d->strs[d->n] = MemoryContextAlloc(d->cxt, len + 1);
	memcpy(d->strs[d->n], s, len);
	d->strs[d->n][len] = '\0';
	d->lens[d->n] = (uint32) len;
	d->slots[slot] = d->n;
	return d->n++;
}

/* Ids of a dictionary sorted by string (byte order). */
static const MmDict *mm_sort_dict;

static int
MmCompareIds(const void *a, const void *b)
{
	const MmDict *d = mm_sort_dict;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return strcmp(d->strs[x], d->strs[y]);
}

/* Compare two decimal integer labels numerically. */
static int
MmCompareIntIds(const void *a, const void *b)
{
	const MmDict *d = mm_sort_dict;
	int64		x = pg_strtoint64(d->strs[*(const int32 *) a]);
	int64		y = pg_strtoint64(d->strs[*(const int32 *) b]);

	return x < y ? -1 : x > y;
}

/* The SQL expression that reads a classified column as the reader wants it. */
static char *
MmReadExpr(const MmSourceCol *col)
{
	if (col->kind == MM_COL_TEXT)
		return psprintf("%s::pg_catalog.text", quote_identifier(col->name));
	return MmColumnExpr(col);
}

/* The expression for the target: float8, or the label as text; NULL: none. */
static char *
MmTargetExpr(const MmSourceCol *t, int label_type)
{
	const char *q;

	/* no target (clustering, decomposition): a constant the split ignores */
	if (t == NULL)
		return pstrdup("0::pg_catalog.float8");
	q = quote_identifier(t->name);

	switch (label_type)
	{
		case MM_LABEL_NONE:
			return psprintf("%s::pg_catalog.float8", q);
		case MM_LABEL_INT:
			return psprintf("%s::pg_catalog.int8", q);
		case MM_LABEL_BOOL:
			return psprintf("%s::pg_catalog.bool", q);
		default:
			return psprintf("%s::pg_catalog.text", q);
	}
}

/* Raise the error for a NULL where the model cannot take one. */
static void
MmReportNull(const char *column, bool target)
{
	if (target)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target column \"%s\" contains NULL", column),
				 errhint("Filter rows with a NULL target out in a query source.")));
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("column \"%s\" contains NULL", column),
			 errhint("Set params.impute to 'mean', 'median' or 'most_frequent', or filter the rows in a query source.")));
}

/* Intern a label or level, with the errors that name the column. */
int32
MmInternValue(MmDict *d, const char *s, size_t len, const char *column, bool label)
{
	int32		id;

	if (len == 0 || len > MM_MAX_LEVEL_LEN)
		ereport(ERROR,
				(errcode(len == 0 ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s \"%s\" holds %s", label ? "target column" : "column", column,
						len == 0 ? "an empty string" : "a value longer than 1000 bytes"),
				 errhint(len == 0 ? "Use NULL or a non-empty value." :
						 "Categorical values and labels have 1 to 1000 bytes.")));
	id = MmDictIntern(d, s, len);
	if (id < 0 && label)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("target column \"%s\" has more than %d distinct labels", column, MM_MAX_CLASSES),
				 errhint("A classifier's target has a few distinct values; for a number, use a regression algorithm.")));
	if (id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column \"%s\" has more than %d distinct values", column, MM_DATASET_MAX_LEVELS),
				 errhint("A categorical feature is one-hot encoded, one column per value; leave out identifier-like columns.")));
	return id;
}

/* Fix the raw layout from the first row (the widths of array columns). */
static void
MmDatasetLayout(MmDataset *ds, const Datum *values, const bool *nulls)
{
	for (int i = 0; i < ds->ncols; i++)
	{
		if (ds->cols[i].kind == MM_COL_ARRAY && ds->width[i] == 0)
		{
			ArrayType  *arr;

			if (nulls[i + 1])
				MmReportNull(ds->cols[i].name, false);
			arr = DatumGetArrayTypeP(values[i + 1]);
			ds->width[i] = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
			if (ds->width[i] < 1 || ds->width[i] > MM_MAX_WIDTH)
				ereport(ERROR,
						(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						 errmsg("column \"%s\" holds an array of %u elements",
								ds->cols[i].name, ds->width[i]),
						 errhint("Array features are one-dimensional with 1 to %d elements.",
								 MM_MAX_WIDTH)));
		}
		ds->off[i + 1] = ds->off[i] + ds->width[i];
	}
	ds->rawd = ds->off[ds->ncols];
	ds->hv = MemoryContextAlloc(ds->cxt, sizeof(double) * (ds->rawd + 1));
	ds->chunk_rows = Max(1, MM_DATASET_CHUNK / ((int64) sizeof(double) * Max(ds->rawd, 1)));
	/*
	 * The rows expected (the planner's estimate of a table read directly),
	 * when they fit the memory budget, in one chunk: then the training
	 * matrix can be that chunk (MmDatasetMatrix).
	 */
	if (ds->expect > ds->chunk_rows &&
		(double) ds->expect * sizeof(double) * Max(ds->rawd, 1) <= (double) ds->max_bytes)
		ds->chunk_rows = ds->expect;
}

/*
 * Make ds, of scalar columns and no row yet, a stream of the direct read
 * scan (see MmDataset).
 */
void
MmDatasetStream(MmDataset *ds, MmScan *scan)
{
	MmDatasetLayout(ds, NULL, NULL);
	ds->stream = true;
	ds->scan = scan;
	ds->nbacc = palloc(sizeof(MmNbAcc));
	mm_nb_acc_init(ds->nbacc, ds->rawd, 2, NULL, MmPallocAllocator());
}

/* The values of ds's integer or boolean labels, by label id (not yet spelt out, or kept). */
int64 *
MmDatasetLabelKeys(const MmDataset *ds)
{
	int64	   *keys;

	if (ds->label_keys != NULL)
		return ds->label_keys;
	keys = palloc(sizeof(int64) * Max(ds->labels.n, 1));
	for (int32 k = 0; k < ds->labels.n; k++)
		memcpy(&keys[k], ds->labels.strs[k], sizeof(int64));
	return keys;
}

/*
 * The layout of a dataset of scalar columns that got no row (a parallel
 * read's process whose share was empty), as its first row would set it.
 */
void
MmDatasetScalarLayout(MmDataset *ds)
{
	if (ds->n == 0)
		MmDatasetLayout(ds, NULL, NULL);
}

/*
 * Room for the next row: the raw row where its values go.  values and
 * nulls (the first row's, for the widths of array columns) may be NULL
 * when no column is an array.
 */
static double *
MmDatasetSlot(MmDataset *ds, const Datum *values, const bool *nulls)
{
	if (ds->n == 0)
		MmDatasetLayout(ds, values, nulls);
	if (ds->n == ds->cap)
	{
		/* a row costs its values, its target and its split number */
		int64		limit = ds->max_bytes / (int64) (sizeof(double) * (ds->rawd + 2));
		int64		cap = ds->cap ? ds->cap * 2 : 1024;

		/* the rows expected at once: no copies as they grow; never past the budget */
		if (ds->cap == 0 && ds->expect > cap)
			cap = ds->expect;
		cap = Min(cap, limit);
		if (cap <= ds->n)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the training rows need more than mm.max_train_memory (%lld kB)",
							(long long) (ds->max_bytes / 1024)),
					 errdetail(INT64_FORMAT " rows of %d values were read so far.", ds->n, ds->rawd),
					 errhint("Raise mm.max_train_memory, or train on a sample of the rows.")));
		if (ds->y == NULL)
		{
			ds->y = MemoryContextAllocHuge(ds->cxt, sizeof(double) * cap);
			if (ds->split)
				ds->u = MemoryContextAllocHuge(ds->cxt, sizeof(double) * cap);
		}
		else
		{
			ds->y = repalloc_huge(ds->y, sizeof(double) * cap);
			if (ds->split)
				ds->u = repalloc_huge(ds->u, sizeof(double) * cap);
		}
		ds->cap = cap;
	}
	/* raw rows live in chunks, so that growing never copies them */
	if (ds->n % ds->chunk_rows == 0)
	{
		int64		c = ds->n / ds->chunk_rows;

		if (c == ds->maxchunks)
		{
			ds->maxchunks = Max(16, ds->maxchunks * 2);
			ds->chunks = ds->chunks ? repalloc(ds->chunks, sizeof(double *) * ds->maxchunks) :
				MemoryContextAlloc(ds->cxt, sizeof(double *) * ds->maxchunks);
		}
		ds->chunks[c] = MmAllocHugeAligned(ds->cxt,
											   sizeof(double) * ds->chunk_rows * Max(ds->rawd, 1));
	}
	return MmRawRow(ds, ds->n);
}

/*
 * A row's target (not NULL) as ds->y holds it, and its value for the
 * split hash into *hv: a number, or a label interned (integers and
 * booleans by their value, text by its bytes).
 */
static inline double
MmDatasetTarget(MmDataset *ds, Datum value, double *hv)
{
	double		y;

	switch (ds->label_type)
	{
		case MM_LABEL_NONE:
			y = DatumGetFloat8(value);
			if (!isfinite(y))
				MmReportNonFinite(ds->target->name, y);
			*hv = y;
			break;
		case MM_LABEL_INT:
		case MM_LABEL_BOOL:
			{
				/* interned by their binary value; spelt out after reading */
				int64		v = ds->label_type == MM_LABEL_INT ?
					DatumGetInt64(value) : (int64) DatumGetBool(value);
				int32		id = -1;

				/* a few labels: found without hashing */
				for (int32 k = 0; k < ds->labels.n && k < 8; k++)
					if (memcmp(ds->labels.strs[k], &v, sizeof(v)) == 0)
					{
						id = k;
						break;
					}
				if (id < 0)
					id = MmInternValue(&ds->labels, (const char *) &v, sizeof(v),
									   ds->target->name, true);
				y = id;
				*hv = (double) v;
				break;
			}
		default:
			{
				text	   *t = DatumGetTextPP(value);

				y = MmInternValue(&ds->labels, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
								  ds->target->name, true);
				*hv = MmStringHash53(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
	}
	return y;
}

/* Add one row (target, then the feature columns) to the dataset. */
void
MmDatasetAddRow(MmDataset *ds, const Datum *values, const bool *nulls)
{
	const MmSourceCol *cols = ds->cols;
	double	   *row = MmDatasetSlot(ds, values, nulls);
	double	   *hv = ds->hv;
	int			h = 1;

	/* target */
	if (nulls[0])
		MmReportNull(ds->target->name, true);
	ds->y[ds->n] = MmDatasetTarget(ds, values[0], &hv[0]);

	/* features */
	for (int i = 0; i < ds->ncols; i++)
	{
		double	   *v = row + ds->off[i];

		if (nulls[i + 1])
		{
			if (!ds->impute)
				MmReportNull(cols[i].name, false);
			for (uint32 k = 0; k < ds->width[i]; k++)
				v[k] = NAN;
			ds->has_null = true;
		}
		else if (cols[i].kind == MM_COL_TEXT)
		{
			text	   *t = DatumGetTextPP(values[i + 1]);

			v[0] = MmInternValue(&ds->dicts[i], VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
								 cols[i].name, false);
		}
		else if (cols[i].kind == MM_COL_ARRAY)
		{
			ArrayType  *arr = DatumGetArrayTypeP(values[i + 1]);
			char		what[NAMEDATALEN + 16];

			snprintf(what, sizeof(what), "column \"%s\"", cols[i].name);
			MmReadArrayNulls(arr, ds->width[i], v, what, ds->impute);
			for (uint32 k = 0; k < ds->width[i]; k++)
				ds->has_null |= isnan(v[k]);
		}
		else
		{
			v[0] = DatumGetFloat8(values[i + 1]);
			if (!isfinite(v[0]))
				MmReportNonFinite(cols[i].name, v[0]);
		}
	}

	/* the split number: target and features, strings by hash */
	if (ds->split)
	{
		for (int i = 0; i < ds->ncols; i++)
			for (uint32 k = 0; k < ds->width[i]; k++)
			{
				double		x = row[ds->off[i] + k];

				hv[h++] = (cols[i].kind == MM_COL_TEXT && !isnan(x)) ?
					MmStringHash53(ds->dicts[i].strs[(int32) x], ds->dicts[i].lens[(int32) x]) : x;
			}
		ds->u[ds->n] = mm_split_u(ds->seed, hv, h);
	}
	ds->n++;
	if ((ds->n & 0x3FFF) == 0)
		MmProgressRows(ds->n);
}

/*
 * A row's scalar values as read (finite: all of them are, as the scan
 * found): the first bad one in column order, as MmDatasetAddRow finds it.
 */
static inline void
MmDatasetCheckRow(const MmDataset *ds, const double *row, int null_col, bool finite)
{
	if (!finite || null_col >= 0)
		for (int i = 0; i < ds->ncols; i++)
		{
			if (i + 1 == null_col)
				MmReportNull(ds->cols[i].name, false);
			if (!isfinite(row[i]))
				MmReportNonFinite(ds->cols[i].name, row[i]);
		}
}

/*
 * Up to max rows of a direct read of scalar columns into rows (ncols
 * values each) and their targets into target; 0 at the end of the table.
 * The rest of the page in one loop where it can be (MmScanPageRows:
 * values without a NULL, the columns' finite), else one row, whose NULLs
 * and values the caller checks (MmDatasetCheckRow) with *tnull and
 * *null_col: then *one is true.
 */
static inline int
MmDatasetNextRows(MmScan *scan, double *rows, Datum *target, int max, bool *one,
				  bool *tnull, int *null_col)
{
	int			k = MmScanPageRows(scan, target, rows, max);

	*one = k == 0;
	if (k > 0)
		return k;
	return MmScanNextTargetRow(scan, target, tnull, rows, null_col) ? 1 : 0;
}

/*
 * Row i of rows read by MmDatasetNextRows: its target as ds->y holds it
 * (*hv: for the split hash), the row checked as MmDatasetAddRow checks it
 * (a NULL target, the target, then the columns in order).
 */
static inline double
MmDatasetRowTarget(MmDataset *ds, const MmScan *scan, const double *row, Datum target,
				   bool one, bool tnull, int null_col)
{
	double		y;

	if (one && tnull)
		MmReportNull(ds->target->name, true);
	y = MmDatasetTarget(ds, target, &ds->hv[0]);
	if (one)
		MmDatasetCheckRow(ds, row, null_col, scan->finite);
	return y;
}

/* A row of ds's counted (the progress every 16,384 rows). */
static inline void
MmDatasetCounted(MmDataset *ds)
{
	ds->n++;
	if ((ds->n & 0x3FFF) == 0)
		MmProgressRows(ds->n);
}

/*
 * Up to max rows of a stream (ds->stream) into the statistics of their
 * labels, the rows straight into the statistics' pending block; false at
 * the end of the table.
 */
static bool
MmDatasetStreamRows(MmDataset *ds, MmScan *scan, int64 max)
{
	MmNbAcc    *acc = ds->nbacc;
	Datum		target[MM_NB_BLOCK];

	for (int64 r = 0; r < max;)
	{
		/* the room left in the block, which a push of its last row folds */
		double	   *rows = mm_nb_acc_slot(acc);
		bool		one,
					tnull = false;
		int			null_col = -1;
		int			k = MmDatasetNextRows(scan, rows, target,
										  (int) Min(max - r, MM_NB_BLOCK - acc->nb),
										  &one, &tnull, &null_col);

		if (k == 0)
			return false;
		for (int i = 0; i < k; i++)
		{
			double		y = MmDatasetRowTarget(ds, scan, rows + (Size) i * ds->ncols, target[i],
											   one, tnull, null_col);

			if (ds->labels.n > acc->K)
				mm_nb_acc_grow(acc, ds->labels.n);
			mm_nb_acc_push(acc, (int32) y);
			MmDatasetCounted(ds);
		}
		r += k;
	}
	return true;
}

/*
 * Read up to max rows of a direct read into ds (its columns those of the
 * scan); false once the table's end is reached.  A dataset of scalar
 * number columns without NULLs to impute takes rows' values straight
 * into its raw rows, a page's at once where it can; any other goes
 * through MmDatasetAddRow.  Either way the same values, split numbers and
 * errors.
 */
bool
MmDatasetReadRows(MmDataset *ds, MmScan *scan, int64 max)
{
	bool		scalars = !ds->impute;
	Datum	   *values;
	bool	   *nulls;
	double	   *staging;
	Datum		target[MaxHeapTuplesPerPage];

	if (ds->stream)
		return MmDatasetStreamRows(ds, scan, max);
	for (int i = 0; i < ds->ncols; i++)
		scalars &= ds->cols[i].kind == MM_COL_FLOAT8 || ds->cols[i].kind == MM_COL_BOOL;
	if (!scalars)
	{
		values = palloc(sizeof(Datum) * (ds->ncols + 1));
		nulls = palloc(sizeof(bool) * (ds->ncols + 1));
		for (int64 r = 0; r < max; r++)
		{
			if (!MmScanNext(scan, values, nulls))
				return false;
			MmDatasetAddRow(ds, values, nulls);
		}
		pfree(values);
		pfree(nulls);
		return true;
	}
	staging = palloc(sizeof(double) * Max(ds->ncols, 1));
	for (int64 r = 0; r < max;)
	{
		/*
		 * Straight into the raw rows, up to the end of their chunk and
		 * room; a row into staging where room must be made first.
		 */
		bool		grow = ds->n == 0 || ds->n == ds->cap || ds->n % ds->chunk_rows == 0;
		int			room = grow ? 1 : (int) Min(Min(max - r, ds->cap - ds->n),
												Min(ds->chunk_rows - ds->n % ds->chunk_rows,
													MaxHeapTuplesPerPage));
		double	   *rows = grow ? staging : MmRawRow(ds, ds->n);
		bool		one,
					tnull = false;
		int			null_col = -1;
		int			k = MmDatasetNextRows(scan, rows, target, room, &one, &tnull, &null_col);

		if (k == 0)
		{
			pfree(staging);
			return false;
		}
		if (grow)
		{
			/* a row was read: now the room for it */
			rows = MmDatasetSlot(ds, NULL, NULL);
			memcpy(rows, staging, sizeof(double) * ds->ncols);
		}
		for (int i = 0; i < k; i++)
		{
			const double *row = rows + (Size) i * ds->ncols;

			ds->y[ds->n] = MmDatasetRowTarget(ds, scan, row, target[i], one, tnull, null_col);
			if (ds->split)
			{
				memcpy(ds->hv + 1, row, sizeof(double) * ds->ncols);
				ds->u[ds->n] = mm_split_u(ds->seed, ds->hv, ds->ncols + 1);
			}
			MmDatasetCounted(ds);
		}
		r += k;
	}
	pfree(staging);
	return true;
}

/* A receiver that adds every row of the training query to a dataset. */
typedef struct MmDatasetReceiver
{
	DestReceiver pub;
	MmDataset  *ds;
	MemoryContext rowcxt;		/* detoasted values of one row */
} MmDatasetReceiver;

static bool
MmDatasetReceive(TupleTableSlot *slot, DestReceiver *self)
{
	MmDatasetReceiver *r = (MmDatasetReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->rowcxt);

	slot_getallattrs(slot);
	MmDatasetAddRow(r->ds, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	return true;
}

/* The length of the first non-NULL array of a column, as the caller. */
static uint32
MmArrayWidth(const MmSource *src, const MmSourceCol *col)
{
	char	   *sql;
	bool		isnull;
	Datum		d;
	uint32		width = 0;
	ArrayType  *arr;

	sql = psprintf("SELECT %s FROM %s WHERE %s IS NOT NULL LIMIT 1",
				   MmColumnExpr(col), src->from_sql, quote_identifier(col->name));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the width of column \"%s\" failed", col->name);
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		arr = DatumGetArrayTypeP(d);
		width = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	}
	SPI_finish();
	if (width < 1 || width > MM_MAX_WIDTH)
		ereport(ERROR,
				(errcode(width == 0 ? ERRCODE_NULL_VALUE_NOT_ALLOWED : ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("column \"%s\" has no array of 1 to %d elements to learn its length from",
						col->name, MM_MAX_WIDTH),
				 errhint("Array features are one-dimensional with 1 to %d elements.", MM_MAX_WIDTH)));
	return width;
}

/* Nothing to set up or tear down in a receiver of MmReadInto. */
static void
MmReceiverStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
MmReceiverShutdown(DestReceiver *self)
{
}

/*
 * Set up r, the DestReceiver at the head of a receiver of MmReadInto, to
 * hand each row to receive.
 */
void
MmReceiverInit(DestReceiver *r, bool (*receive) (TupleTableSlot *slot, DestReceiver *self))
{
	r->receiveSlot = receive;
	r->rStartup = MmReceiverStartup;
	r->rShutdown = MmReceiverShutdown;
	r->rDestroy = MmReceiverShutdown;
	r->mydest = DestNone;
}

/*
 * Run the read-only query sql (with params, or NULL) as the caller, its
 * rows streaming into dest: no result set is materialised.
 */
void
MmReadInto(const char *sql, ParamListInfo params, DestReceiver *dest)
{
	SPIExecuteOptions options;
	int			ret;

	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = dest;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_extended(sql, &options);
	/* SPI reports a SELECT into a DestNone receiver as SPI_OK_UTILITY */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading the training rows failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}

/*
 * An empty dataset of the target (NULL: none) and feature columns cols,
 * as MmDatasetRead describes it; rows are added by MmDatasetAddRow.
 */
void
MmDatasetInit(MmDataset *ds, const MmSourceCol *target, const MmSourceCol *cols,
			  int ncols, int label_type, bool impute, uint64 seed, bool split,
			  int64 max_bytes)
{
	MemoryContext cxt = CurrentMemoryContext;

	memset(ds, 0, sizeof(*ds));
	ds->cxt = cxt;
	ds->label_type = label_type;
	ds->ncols = ncols;
	ds->cols = cols;
	ds->target = target;
	ds->impute = impute;
	ds->seed = seed;
	ds->split = split;
	ds->max_bytes = max_bytes;
	ds->off = palloc0(sizeof(int) * (ncols + 1));
	ds->width = palloc0(sizeof(uint32) * Max(ncols, 1));
	ds->dicts = palloc0(sizeof(MmDict) * Max(ncols, 1));
	ds->labels.cxt = cxt;
	ds->labels.limit = MM_MAX_CLASSES;
	for (int i = 0; i < ncols; i++)
	{
		ds->dicts[i].cxt = cxt;
		ds->dicts[i].limit = MM_DATASET_MAX_LEVELS;
		/* an array's width: given by the caller (a model's), or learnt from the rows */
		ds->width[i] = cols[i].kind == MM_COL_ARRAY ? cols[i].width : 1;
	}
}

/*
 * Read the source into ds, as the caller.  cols are the feature columns;
 * label_type MM_LABEL_NONE reads a numeric target (regression).  The rows
 * stream into a receiver: no result set is materialised on the way.  With
 * split, each row's split number (the hash of its values) is kept for
 * MmDatasetSplit and the folds of a search; without, nothing is hashed.
 *
 * par, when not NULL, allows a classifier's table read directly to be
 * read with parallel workers that keep their rows (mm_pardata.c): *par is
 * then the workers, or NULL when none took part and ds holds every row.
 */
void
MmDatasetRead(MmDataset *ds, const MmSource *src, const MmSourceCol *target,
			  const MmSourceCol *cols, int ncols, int label_type, bool impute,
			  uint64 seed, bool split, int64 max_bytes, MmDataPar **par, bool stream)
{
	StringInfoData sql;
	MemoryContext cxt = CurrentMemoryContext;
	MmDatasetReceiver receiver;
	MmScan	   *scan = palloc0(sizeof(MmScan));
	int			nworkers;

	MmDatasetInit(ds, target, cols, ncols, label_type, impute, seed, split, max_bytes);
	if (par != NULL)
		*par = NULL;

	/*
	 * With NULLs allowed, the first row may hold a NULL array: take the
	 * width of each array column from its first non-NULL value instead.
	 */
	if (impute)
		for (int i = 0; i < ncols; i++)
			if (cols[i].kind == MM_COL_ARRAY && ds->width[i] == 0)
				ds->width[i] = MmArrayWidth(src, &cols[i]);

	/* a plain table of numbers straight from its heap (mm_scan.c) */
	ds->direct = MmScanBegin(scan, src, target, label_type, cols, ncols);
	if (ds->direct && par != NULL && !impute &&
		(label_type == MM_LABEL_INT || label_type == MM_LABEL_BOOL) &&
		(nworkers = MmScanWorkers(scan)) > 0)
	{
		/*
		 * A stream (scalar columns only): the statistics of every label as
		 * the rows come, no row kept; the scan stays open for the scoring.
		 */
		for (int i = 0; i < ncols; i++)
			stream &= cols[i].kind == MM_COL_FLOAT8 || cols[i].kind == MM_COL_BOOL;
		if (stream && !split)
			MmDatasetStream(ds, scan);
		*par = MmDataParRead(ds, scan, nworkers);
		if (!ds->stream)
			MmScanEnd(scan);
	}
	else if (ds->direct)
	{
		ds->expect = MmScanExpect(scan, 1.0);
		while (MmDatasetReadRows(ds, scan, PG_INT64_MAX))
			;
		MmScanEnd(scan);
	}
	else
	{
		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s", MmTargetExpr(target, label_type));
		for (int i = 0; i < ncols; i++)
			appendStringInfo(&sql, ", %s", MmReadExpr(&cols[i]));
		appendStringInfo(&sql, " FROM %s", src->from_sql);

		memset(&receiver, 0, sizeof(receiver));
		MmReceiverInit(&receiver.pub, MmDatasetReceive);
		receiver.ds = ds;
		receiver.rowcxt = AllocSetContextCreate(cxt, "mm_train row", ALLOCSET_SMALL_SIZES);
		MmReadInto(sql.data, NULL, (DestReceiver *) &receiver);
		MemoryContextDelete(receiver.rowcxt);
	}

	/*
	 * integer and boolean labels were interned by value: spell them out (a
	 * stream keeps the values, to find the labels of the rows it reads again)
	 */
	if (ds->stream)
		ds->label_keys = MmDatasetLabelKeys(ds);
	if (label_type == MM_LABEL_INT || label_type == MM_LABEL_BOOL)
		for (int32 k = 0; k < ds->labels.n; k++)
		{
			int64		v;

			memcpy(&v, ds->labels.strs[k], sizeof(v));
			ds->labels.strs[k] = label_type == MM_LABEL_BOOL ?
				MemoryContextStrdup(cxt, v ? "true" : "false") :
				MemoryContextStrdup(cxt, psprintf(INT64_FORMAT, v));
			ds->labels.lens[k] = strlen(ds->labels.strs[k]);
		}
}

/*
 * The k-th smallest (0-based) of n values, which are reordered: Hoare's
 * selection, expected linear time.
 */
static double
MmSelect(double *v, int64 n, int64 k)
{
	int64		lo = 0;
	int64		hi = n - 1;

	while (lo < hi)
	{
		double		pivot = v[lo + (hi - lo) / 2];
		int64		i = lo;
		int64		j = hi;

		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				double		t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/*
 * Order a classifier's labels into classes (ds->label_order: class index
 * -> label id) and turn the label ids in ds->y into class indices; rank,
 * when not NULL, receives each label id's class (labels.n entries).
 */
void
MmDatasetClasses(MmDataset *ds, int32 *rank)
{
	int32		K = ds->labels.n;
	int32	   *order = palloc(sizeof(int32) * Max(K, 1));
	int32	   *r = rank ? rank : palloc(sizeof(int32) * Max(K, 1));

	for (int32 k = 0; k < K; k++)
		order[k] = k;
	mm_sort_dict = &ds->labels;
	qsort(order, K, sizeof(int32),
		  ds->label_type == MM_LABEL_INT ? MmCompareIntIds : MmCompareIds);
	for (int32 k = 0; k < K; k++)
		r[order[k]] = k;
	ds->label_order = order;
	for (int64 i = 0; i < ds->n && !ds->stream; i++)
		ds->y[i] = r[(int32) ds->y[i]];
	if (rank == NULL)
		pfree(r);
}

/*
 * The held-out cut of a class of nk rows whose split numbers are uk
 * (reordered): the round(test_fraction * nk)-th smallest (*take), or -1
 * when none is held out.
 */
double
MmSplitCut(double *uk, int64 nk, double test_fraction, int64 *take)
{
	*take = (int64) round(test_fraction * nk);
	return *take == 0 ? -1.0 : MmSelect(uk, nk, *take - 1);
}

/*
 * Hold out the rows of each class k < K (ds->y: class indices) whose split
 * number is below cut[k], and of those at the cut the first atcut[k];
 * count the training rows.  (Rows with equal numbers are equal rows:
 * whichever of them are held out, the training data are the same.)
 */
void
MmDatasetHoldOut(MmDataset *ds, int32 K, const double *cut, const int64 *atcut)
{
	int64	   *fill = palloc(sizeof(int64) * Max(K, 1));

	memcpy(fill, atcut, sizeof(int64) * K);
	for (int64 i = 0; i < ds->n; i++)
	{
		int32		k = (int32) ds->y[i];

		if (ds->u[i] < cut[k] || (ds->u[i] == cut[k] && fill[k]-- > 0))
			ds->heldout[i] = true;
	}
	pfree(fill);
}

/*
 * Decide the held-out rows, and for a classifier order the labels and
 * turn label ids into class indices.  Regression: a row is held out when
 * its split number is below test_fraction.  Classification (stratified):
 * of the n_k rows of class k, the round(test_fraction * n_k) with the
 * smallest split numbers.
 */
void
MmDatasetSplit(MmDataset *ds, double test_fraction)
{
	if (test_fraction > 0 && !ds->split)
		elog(ERROR, "the dataset was read without split numbers");
	ds->heldout = palloc0(sizeof(bool) * Max(ds->n, 1));
	if (ds->label_type == MM_LABEL_NONE)
	{
		for (int64 i = 0; i < ds->n; i++)
			ds->heldout[i] = test_fraction > 0 && ds->u[i] < test_fraction;
	}
	else
	{
		int32		K = ds->labels.n;

		MmDatasetClasses(ds, NULL);

		/*
		 * Per class, the rows with the smallest split numbers.  The numbers
		 * are grouped by class (a counting sort), and each group gives its
		 * cut by selection; of the rows at the cut, as many are held out as
		 * the count still allows.
		 */
		if (test_fraction > 0)
		{
			double	   *uk = palloc_extended(sizeof(double) * Max(ds->n, 1), MCXT_ALLOC_HUGE);
			int64	   *start = palloc0(sizeof(int64) * (K + 1));
			int64	   *fill = palloc(sizeof(int64) * K);
			double	   *cut = palloc(sizeof(double) * K);

			for (int64 i = 0; i < ds->n; i++)
				start[(int32) ds->y[i] + 1]++;
			for (int32 k = 0; k < K; k++)
			{
				start[k + 1] += start[k];
				fill[k] = start[k];
			}
			for (int64 i = 0; i < ds->n; i++)
				uk[fill[(int32) ds->y[i]]++] = ds->u[i];
			for (int32 k = 0; k < K; k++)
				cut[k] = MmSplitCut(uk + start[k], start[k + 1] - start[k], test_fraction, &fill[k]);
			for (int64 i = 0; i < ds->n; i++)
				fill[(int32) ds->y[i]] -= ds->u[i] < cut[(int32) ds->y[i]];
			MmDatasetHoldOut(ds, K, cut, fill);
			pfree(uk);
		}
	}
	ds->n_train = 0;
	for (int64 i = 0; i < ds->n; i++)
		ds->n_train += !ds->heldout[i];
}

/*
 * Sort n doubles ascending (medians, profiles; never NaN) by the core's
 * radix sort: a train's profile sorts 2,000 values of every feature, a
 * median imputation every value of a column.
 */
void
MmSortDoubles(double *v, int64 n)
{
	uint64	   *tmp = palloc_extended(sizeof(uint64) * (Size) Max(n, 1), MCXT_ALLOC_HUGE);

	mm_sort_doubles(v, n, tmp);
	pfree(tmp);
}

/* The most frequent of n sorted values (the smallest on ties). */
static double
MmMostFrequentSorted(const double *v, int64 n)
{
	double		best = v[0];
	int64		bestc = 0;

	for (int64 i = 0; i < n;)
	{
		int64		j = i;

		while (j < n && v[j] == v[i])
			j++;
		if (j - i > bestc)
		{
			bestc = j - i;
			best = v[i];
		}
		i = j;
	}
	return best;
}

/*
 * Learn the preprocessing from the training rows: the feature schema
 * (categorical levels in byte order) and the fill values of NULLs.  Fills
 * m's schema, ncols and labels; the scaling is learnt afterwards from the
 * encoded rows (MmDatasetFitScale).
 */
void
MmDatasetPrepare(MmDataset *ds, MmModel *m, int impute)
{
	double	   *vals = palloc(sizeof(double) * Max(ds->n_train, 1));

	m->nfeatures = ds->ncols;
	m->features = palloc0(sizeof(MmFeature) * ds->ncols);
	m->ncols = 0;
	ds->levelmap = palloc0(sizeof(int32 *) * ds->ncols);
	for (int i = 0; i < ds->ncols; i++)
	{
		MmFeature  *f = &m->features[i];
		const MmSourceCol *c = &ds->cols[i];

		f->name = c->name;
		/* fills are learnt whenever imputation is asked for: NULLs may come later */
		f->impute = impute;
		if (c->kind == MM_COL_TEXT)
		{
			MmDict	   *d = &ds->dicts[i];
			bool	   *seen = palloc0(sizeof(bool) * Max(d->n, 1));
			int32	   *ids = palloc(sizeof(int32) * Max(d->n, 1));
			int64	   *count = palloc0(sizeof(int64) * Max(d->n, 1));
			int32		nl = 0;
			int32		best = -1;

			for (int64 r = 0; r < ds->n; r++)
			{
				double		x = MmRawRow(ds, r)[ds->off[i]];

				if (!ds->heldout[r] && !isnan(x))
				{
					seen[(int32) x] = true;
					count[(int32) x]++;
				}
			}
			for (int32 id = 0; id < d->n; id++)
				if (seen[id])
					ids[nl++] = id;
			if (nl == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("column \"%s\" has no values in the training rows", c->name)));
			mm_sort_dict = d;
			qsort(ids, nl, sizeof(int32), MmCompareIds);
			ds->levelmap[i] = palloc(sizeof(int32) * Max(d->n, 1));
			for (int32 id = 0; id < d->n; id++)
				ds->levelmap[i][id] = -1;
			f->kind = MM_FEAT_CATEGORICAL;
			f->nlevels = f->width = nl;
			f->levels = palloc(sizeof(char *) * nl);
			for (int32 l = 0; l < nl; l++)
			{
				ds->levelmap[i][ids[l]] = l;
				f->levels[l] = d->strs[ids[l]];
				if (best < 0 || count[ids[l]] > count[ids[best]])
					best = l;
			}
			if (f->impute != MM_IMPUTE_ERROR)
			{
				/* a NULL category is the most frequent one, whatever the rule */
				f->fill = palloc0(sizeof(double) * nl);
				f->fill[best] = 1.0;
			}
		}
		else
		{
			f->kind = c->kind == MM_COL_ARRAY ? MM_FEAT_ARRAY : MM_FEAT_NUMERIC;
			f->width = ds->width[i];
			if (f->impute != MM_IMPUTE_ERROR)
			{
				f->fill = palloc(sizeof(double) * f->width);
				for (uint32 k = 0; k < f->width; k++)
				{
					int64		nv = 0;
					double		sum = 0;

					for (int64 r = 0; r < ds->n; r++)
					{
						double		x = MmRawRow(ds, r)[ds->off[i] + k];

						if (!ds->heldout[r] && !isnan(x))
						{
							vals[nv++] = x;
							sum += x;
						}
					}
					if (nv == 0)
						ereport(ERROR,
								(errcode(ERRCODE_DATA_EXCEPTION),
								 f->width > 1 ?
								 errmsg("array column \"%s\" has a NULL element %u in every training row", c->name, k + 1) :
								 errmsg("column \"%s\" is NULL in every training row", c->name),
								 errhint("Nothing can be imputed from it; leave it out of features.")));
					if (impute == MM_IMPUTE_MEAN)
						f->fill[k] = sum / nv;
					else
					{
						MmSortDoubles(vals, nv);
						f->fill[k] = impute == MM_IMPUTE_MEDIAN ?
							(nv % 2 ? vals[nv / 2] : (vals[nv / 2 - 1] + vals[nv / 2]) / 2) :
							MmMostFrequentSorted(vals, nv);
					}
				}
			}
		}
		ds->encoff = ds->encoff ? ds->encoff : palloc0(sizeof(uint32) * (ds->ncols + 1));
		ds->encoff[i + 1] = ds->encoff[i] + f->width;
		m->ncols += f->width;
	}
	if (m->ncols > MM_MAX_COLS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%u encoded features are too many", m->ncols),
				 errdetail("A model has at most %d encoded features.", MM_MAX_COLS)));

	/* labels */
	if (ds->label_type != MM_LABEL_NONE)
	{
		m->label_type = ds->label_type;
		m->nclasses = ds->labels.n;
		m->labels = palloc(sizeof(char *) * m->nclasses);
		for (uint32 k = 0; k < m->nclasses; k++)
			m->labels[k] = ds->labels.strs[ds->label_order[k]];
	}

	m->scale = MM_SCALE_NONE;	/* learnt by MmDatasetFitScale */
}

/*
 * Learn the scaling from the encoded training rows X (n rows of
 * m->ncols) and apply it to them in place: standard (mean and
 * population standard deviation, as scikit-learn's StandardScaler) or
 * minmax.  A constant column keeps its values, as scikit-learn does.
 * keep_onehot leaves categorical columns as they are (naive Bayes counts
 * them).
 */
void
MmDatasetFitScale(MmModel *m, double *X, int64 n, int scale, bool keep_onehot)
{
	uint32		p = m->ncols;
	double	   *a;
	double	   *b;

	m->scale = scale;
	if (scale == MM_SCALE_NONE || n == 0)
	{
		m->scale = MM_SCALE_NONE;
		return;
	}
	a = palloc0(sizeof(double) * Max(p, 1));
	b = palloc0(sizeof(double) * Max(p, 1));
	if (scale == MM_SCALE_STANDARD)
	{
		/* two passes: the mean, then the squared deviations */
		for (int64 r = 0; r < n; r++)
			for (uint32 j = 0; j < p; j++)
				a[j] += X[r * p + j];
		for (uint32 j = 0; j < p; j++)
			a[j] /= n;
		for (int64 r = 0; r < n; r++)
			for (uint32 j = 0; j < p; j++)
			{
				double		dev = X[r * p + j] - a[j];

				b[j] += dev * dev;
			}
		for (uint32 j = 0; j < p; j++)
			b[j] = sqrt(b[j] / n);
	}
	else
	{
		for (uint32 j = 0; j < p; j++)
			a[j] = b[j] = X[j];
		for (int64 r = 1; r < n; r++)
			for (uint32 j = 0; j < p; j++)
			{
				a[j] = Min(a[j], X[r * p + j]);
				b[j] = Max(b[j], X[r * p + j]);
			}
		for (uint32 j = 0; j < p; j++)
			b[j] -= a[j];
	}
	m->center = a;
	m->scalev = b;
	for (uint32 j = 0; j < p; j++)
		if (!(b[j] > 0 && isfinite(b[j])))
			b[j] = 1.0;
	/* one-hot columns stay 0/1 for an algorithm that counts them */
	if (keep_onehot)
	{
		uint32		pos = 0;

		for (uint32 i = 0; i < m->nfeatures; i++)
		{
			for (uint32 k = 0; k < m->features[i].width; k++, pos++)
				if (m->features[i].kind == MM_FEAT_CATEGORICAL)
				{
					a[pos] = 0.0;
					b[pos] = 1.0;
				}
		}
	}
	for (int64 r = 0; r < n; r++)
	{
		mm_model_scale(m, X + r * p);
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Encode row r of the dataset into x[m->ncols] (before scaling): numbers
 * as they are, categorical values one-hot over the training levels (an
 * unseen level all zeros), NULLs replaced by the fill values.
 */
void
MmDatasetEncode(const MmDataset *ds, const MmModel *m, int64 r, double *x)
{
	const double *row = MmRawRow(ds, r);

	for (int i = 0; i < ds->ncols; i++)
	{
		const MmFeature *f = &m->features[i];
		double	   *out = x + ds->encoff[i];
		const double *in = row + ds->off[i];

		if (f->kind == MM_FEAT_CATEGORICAL)
		{
			if (isnan(in[0]))
				memcpy(out, f->fill, sizeof(double) * f->width);
			else
			{
				int32		l = ds->levelmap[i][(int32) in[0]];

				memset(out, 0, sizeof(double) * f->width);
				if (l >= 0)
					out[l] = 1.0;
			}
		}
		else
			for (uint32 k = 0; k < f->width; k++)
				out[k] = isnan(in[k]) ? f->fill[k] : in[k];
	}
}

/*
 * Whether a raw row is already its encoded row: numeric and array features
 * only, no NULL to fill, the same layout.
 */
static bool
MmDatasetRawIsEncoded(const MmDataset *ds, const MmModel *m)
{
	if (ds->has_null || ds->rawd != (int) m->ncols)
		return false;
	for (int i = 0; i < ds->ncols; i++)
		if (m->features[i].kind == MM_FEAT_CATEGORICAL ||
			ds->encoff[i] != (uint32) ds->off[i] || m->features[i].width != ds->width[i])
			return false;
	return true;
}

/*
 * Call fn on the rows of one side of the split (held out or not) in order,
 * in runs of consecutive rows within a chunk, of at most max rows.
 */
void
MmDatasetRuns(const MmDataset *ds, bool heldout, int64 max, MmDatasetRunFn fn, void *arg)
{
	for (int64 r = 0; r < ds->n;)
	{
		int64		end = Min(ds->n, (r / ds->chunk_rows + 1) * ds->chunk_rows);
		int64		run;

		if (ds->heldout[r] != heldout)
		{
			r++;
			continue;
		}
		for (run = 1; r + run < end && run < max && ds->heldout[r + run] == heldout; run++)
			;
		fn(ds, r, run, arg);
		r += run;
		CHECK_FOR_INTERRUPTS();
	}
}

/* MmDatasetMatrix's copy of a run of raw rows that are the encoded ones */
typedef struct MmMatrixFill
{
	const MmModel *m;
	double	   *X;
	double	   *y;
	int64		n;
} MmMatrixFill;

static void
MmMatrixRun(const MmDataset *ds, int64 r, int64 run, void *arg)
{
	MmMatrixFill *f = arg;
	uint32		p = f->m->ncols;

	memcpy(f->X + f->n * p, MmRawRow(ds, r), sizeof(double) * run * p);
	for (int64 k = 0; k < run; k++)
	{
		mm_model_scale(f->m, f->X + (f->n + k) * p);
		f->y[f->n + k] = ds->y[r + k];
	}
	f->n += run;
}

/*
 * The encoded, scaled rows of one side of the split, row-major, with the
 * targets (values or class indices) in *y.  With share, when that side is
 * every row, the raw rows are already the encoded ones, unscaled, and lie
 * in one chunk, the chunk itself and the dataset's targets are returned:
 * no copy of them, and no fresh memory for one; the caller then treats
 * both as read-only.
 */
double *
MmDatasetMatrix(const MmDataset *ds, const MmModel *m, bool heldout,
				int64 *nrows, double **y, bool share)
{
	int64		n = 0;
	double	   *X;

	for (int64 r = 0; r < ds->n; r++)
		n += ds->heldout[r] == heldout;
	if (share && n == ds->n && n > 0 && ds->n <= ds->chunk_rows &&
		m->scale == MM_SCALE_NONE && MmDatasetRawIsEncoded(ds, m))
	{
		*nrows = n;
		*y = ds->y;
		return ds->chunks[0];
	}
	X = MmAllocLarge(CurrentMemoryContext, sizeof(double) * Max(n, 1) * Max(m->ncols, 1));
	*y = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	n = 0;
	if (MmDatasetRawIsEncoded(ds, m))
	{
		MmMatrixFill fill = {m, X, *y, 0};

		/* runs of rows of this side within a chunk: one copy each */
		MmDatasetRuns(ds, heldout, PG_INT64_MAX, MmMatrixRun, &fill);
		*nrows = fill.n;
		return X;
	}
	for (int64 r = 0; r < ds->n; r++)
	{
		if (ds->heldout[r] != heldout)
			continue;
		MmDatasetEncode(ds, m, r, X + n * m->ncols);
		mm_model_scale(m, X + n * m->ncols);
		(*y)[n++] = ds->y[r];
		if ((n & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	*nrows = n;
	return X;
}
