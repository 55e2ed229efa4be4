/*
 * mm_predict.c
 *	  mm_predict over arrays and rows, and the backend's model cache.
 *
 * Versions are immutable, so a decoded model keyed by its version's uid
 * (mm.versions.uid, never reused) can live in a backend-local LRU cache (mm.cache_models entries) for as
 * long as the backend does; model ids are never reused.  What changes is
 * which version a name means: that is resolved once per statement and
 * call site, with the result kept in fn_extra.  A statement is a top-level
 * statement (its start timestamp) and, inside it, a command id: a deploy
 * committed elsewhere is seen by the next statement, and one made earlier
 * in the same transaction (which advances the command counter) at once.
 * The per-row path then compares the model name with the cached one and
 * runs the kernel on fn_extra buffers: no catalog access and no
 * allocation beyond the result.
 *
 * A call site pins its cache entry; the pin is released by a callback on
 * the call site's memory context, so entries in use are never evicted,
 * even when an error unwinds the statement.
 */
#include "massmodel.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(mm_predict_float8);
PG_FUNCTION_INFO_V1(mm_predict_float4);
PG_FUNCTION_INFO_V1(mm_predict_any);
PG_FUNCTION_INFO_V1(mm_predict_fields);
PG_FUNCTION_INFO_V1(mm_predict_label_array);
PG_FUNCTION_INFO_V1(mm_predict_label_any);
PG_FUNCTION_INFO_V1(mm_predict_proba_array);
PG_FUNCTION_INFO_V1(mm_predict_proba_any);
PG_FUNCTION_INFO_V1(mm_transform_array);
PG_FUNCTION_INFO_V1(mm_transform_any);
PG_FUNCTION_INFO_V1(mm_labels);
PG_FUNCTION_INFO_V1(mm_weights);

typedef struct MmCacheEntry
{
	int64		uid;			/* mm.versions.uid: never reused */
	int32		version;
	MemoryContext cxt;			/* holds model */
	MmModel    *model;
	int			pins;
	uint64		last_used;
	struct MmCacheEntry *next;
} MmCacheEntry;

static MemoryContext mm_cache_cxt = NULL;
static MmCacheEntry *mm_cache = NULL;
static uint64 mm_cache_clock = 0;

/* how a row-input feature is read */
typedef enum MmFieldKind
{
	MM_FIELD_FLOAT8,
	MM_FIELD_FLOAT4,
	MM_FIELD_INT2,
	MM_FIELD_INT4,
	MM_FIELD_INT8,
	MM_FIELD_NUMERIC,
	MM_FIELD_BOOL,
	MM_FIELD_ARRAY,
	MM_FIELD_TEXT,				/* a categorical value: text, varchar */
	MM_FIELD_BPCHAR,			/* char(n): trailing blanks do not count */
	MM_FIELD_NAME,				/* name: fixed length, NUL-padded */
	MM_FIELD_ENUM,				/* enum: its label */
	MM_FIELD_UNKNOWN_TEXT,		/* an untyped literal for a categorical feature */
	MM_FIELD_UNKNOWN_NUM,		/* an untyped literal for a numeric feature */
	MM_FIELD_UNKNOWN_ARRAY		/* an untyped literal (NULL) for an array feature */
} MmFieldKind;

/* what a prediction function returns */
typedef enum MmOutMode
{
	MM_OUT_VALUE,				/* mm_predict: float8 */
	MM_OUT_LABEL,				/* mm_predict_label: text */
	MM_OUT_PROBA,				/* mm_predict_proba: float8[] */
	MM_OUT_TRANSFORM			/* mm_transform: float8[] */
} MmOutMode;

/* what the x argument of a call site is */
typedef enum MmArgKind
{
	MM_ARG_UNKNOWN = 0,
	MM_ARG_ROW,
	MM_ARG_ARRAY,
	MM_ARG_OTHER
} MmArgKind;

/* which mapping of the input a call site has built */
typedef enum MmMapKind
{
	MM_MAP_NONE = 0,
	MM_MAP_ROW,					/* a composite datum's columns */
	MM_MAP_FIELDS,				/* mm_predict_fields: named values */
	MM_MAP_ENCODED				/* mm_predict_fields: encoded values */
} MmMapKind;

/* per call site, in fn_extra */
typedef struct MmPredictState
{
	MmArgKind	argkind;
	TimestampTz stmt_start;		/* the statement the resolution belongs to */
	CommandId	stmt_cid;
	char		name[MM_MAX_MODEL_NAME + 1];
	int			name_len;		/* -1: nothing resolved yet */
	bool		version_isnull;
	int32		version;
	MmCacheEntry *entry;		/* pinned */
	MmStatPending *stat;		/* the version's statistics, or NULL */
	MemoryContextCallback cb;
	MemoryContext mcxt;			/* the call site's (fn_mcxt) */

	/*
	 * A canary of the deployed version: its own state (mapping, pinned
	 * entry) and its share; each input is routed by a hash of its encoded
	 * values for the deployed version, so the same input always meets the
	 * same version.  raw is the input, for the canary to read it again.
	 */
	struct MmPredictState *canary;
	double		traffic;		/* 0: no canary */
	bool		canary_same;	/* it reads the same encoded columns */
	MmArgKind	raw_kind;		/* MM_ARG_ROW, MM_ARG_ARRAY, MM_ARG_OTHER (fields) */
	const void *raw;
	MmStatPending *answered;	/* the statistics of the version that answered */

	double	   *x;				/* ncols of the entry's model */
	double	   *proba;			/* nclasses of the entry's model */
	MemoryContext entry_cxt;	/* x, proba; reset when the entry changes */

	/*
	 * The mapping of the input onto the entry's features, rebuilt (and
	 * map_cxt reset) when the entry or the input's shape changes.
	 */
	MmMapKind	map_kind;
	MemoryContext map_cxt;
	Oid			rowtype;
	int32		rowtypmod;
	TupleDesc	tupdesc;
	int			nfields;		/* fields the mapping was built for */
	int		   *attidx;			/* per feature: index of its field */
	MmFieldKind *fkind;			/* per feature (per value when encoded) */
	Datum	   *values;
	bool	   *nulls;
} MmPredictState;

/* Release a cache entry pinned by a call site whose context goes away. */
static void
MmPredictStateRelease(void *arg)
{
	MmPredictState *ps = (MmPredictState *) arg;

	if (ps->entry)
		ps->entry->pins--;
	ps->entry = NULL;
}

/* Evict least recently used, unpinned entries beyond mm.cache_models. */
static void
MmCacheEvict(void)
{
	for (;;)
	{
		int			count = 0;
		MmCacheEntry *victim = NULL;
		MmCacheEntry **link;

		for (MmCacheEntry *e = mm_cache; e; e = e->next)
		{
			count++;
			if (e->pins == 0 && (victim == NULL || e->last_used < victim->last_used))
				victim = e;
		}
		if (count <= mm_cache_models || victim == NULL)
			return;
		for (link = &mm_cache; *link != victim; link = &(*link)->next)
			;
		*link = victim->next;
		MemoryContextDelete(victim->cxt);
		pfree(victim);
	}
}

/* Decode a blob into a new memory context, or raise the reader's error. */
static MemoryContext
MmDecodeBlob(bytea *blob, const char *name, int32 version, MmModel **out)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "massmodel model",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	MmErr		err;
	MmStatus	status;

	status = mm_blob_read((const uint8_t *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob),
						  MmPallocAllocator(), out, &err);
	MemoryContextSwitchTo(old);
	if (status != MM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version %d of model \"%s\" is not a valid model blob", version, name),
				 errdetail("%s.", err.msg)));
	return cxt;
}

/*
 * The cached model of version uid, fetched and decoded on a miss.  Runs
 * inside the catalog window.
 */
static MmCacheEntry *
MmCacheGet(int64 uid, int32 version, const char *name)
{
	MmCacheEntry *e;
	MmModel    *model;
	MemoryContext cxt;

	for (e = mm_cache; e; e = e->next)
		if (e->uid == uid)
		{
			e->last_used = ++mm_cache_clock;
			return e;
		}

	if (mm_cache_cxt == NULL)
		mm_cache_cxt = AllocSetContextCreate(TopMemoryContext, "massmodel model cache",
											 ALLOCSET_SMALL_SIZES);
	/* decoded under the current context; adopted only once valid */
	cxt = MmDecodeBlob(MmFetchBlob(uid, version, name), name, version, &model);
	MemoryContextSetParent(cxt, mm_cache_cxt);
	e = MemoryContextAllocZero(mm_cache_cxt, sizeof(MmCacheEntry));
	e->uid = uid;
	e->version = version;
	e->cxt = cxt;
	e->model = model;
	e->last_used = ++mm_cache_clock;
	e->next = mm_cache;
	mm_cache = e;
	return e;
}

/*
 * Enter the catalog window and find the version a prediction means: the
 * model must exist, the caller hold predict on it, and the version exist.
 * Returns the version's uid.  The caller leaves the window with
 * MmCatalogEnd(cat).
 */
static int64
MmOpenForPredict(const char *name, bool version_isnull, int32 version,
				 MmModelRow *row, int32 *version_out, MmCatalogCtx *cat)
{
	MmCheckModelName(name);
	MmCatalogBegin(cat);
	MmGetModel(name, row, false);
	MmCheckPrivilege(name, row, MM_PRIV_PREDICT, cat->save_userid);
	*version_out = MmResolveVersion(name, row, version_isnull, version);
	return MmRequireVersion(row->id, *version_out, name, false);
}

static MmPredictState *MmPredictStateNew(MemoryContext mcxt);
static bool MmSameFeatures(const MmModel *a, const MmModel *b);

/*
 * Resolve a model name (and optional version) for the current statement:
 * check the predict privilege, find the version, get the decoded model.
 */
static void
MmPredictResolve(MmPredictState *ps, text *name, bool version_isnull, int32 version)
{
	MmCatalogCtx cat;
	MmModelRow	row;
	char	   *cname = text_to_cstring(name);
	int32		v;
	int64		uid;
	MmCacheEntry *e;

	uid = MmOpenForPredict(cname, version_isnull, version, &row, &v, &cat);
	e = MmCacheGet(uid, v, cname);
	MmCatalogEnd(&cat);
	ps->stat = MmStatPendingFor(row.id, v);

	if (ps->entry != e)
	{
		if (ps->entry)
			ps->entry->pins--;
		e->pins++;
		ps->entry = e;
		/* everything built for the previous entry goes */
		MemoryContextReset(ps->entry_cxt);
		ps->x = MemoryContextAlloc(ps->entry_cxt, sizeof(double) * Max(e->model->ncols, 1));
		ps->proba = MemoryContextAlloc(ps->entry_cxt, sizeof(double) * Max(e->model->nclasses, 1));
		ps->map_kind = MM_MAP_NONE;
	}
	MmCacheEvict();
	ps->stmt_start = GetCurrentStatementStartTimestamp();
	ps->stmt_cid = GetCurrentCommandId(false);
	memcpy(ps->name, cname, strlen(cname) + 1);
	ps->name_len = strlen(cname);
	ps->version_isnull = version_isnull;
	ps->version = version;

	/*
	 * The deployed version's canary, when one runs: resolved once this
	 * state's own entry is pinned (its resolution may evict).
	 */
	ps->traffic = 0;
	if (version_isnull && row.canary_version > 0 && row.canary_version != v)
	{
		if (ps->canary == NULL)
			ps->canary = MmPredictStateNew(ps->mcxt);
		MmPredictResolve(ps->canary, name, false, row.canary_version);
		ps->traffic = row.canary_traffic;
		ps->canary_same = MmSameFeatures(e->model, ps->canary->entry->model);
	}
}

/* A call site's state, in mcxt; its pin is released with mcxt. */
static MmPredictState *
MmPredictStateNew(MemoryContext mcxt)
{
	MmPredictState *ps = MemoryContextAllocZero(mcxt, sizeof(MmPredictState));

	ps->name_len = -1;
	ps->mcxt = mcxt;
	ps->entry_cxt = AllocSetContextCreate(mcxt, "mm_predict input", ALLOCSET_SMALL_SIZES);
	ps->map_cxt = AllocSetContextCreate(mcxt, "mm_predict mapping", ALLOCSET_SMALL_SIZES);
	ps->cb.func = MmPredictStateRelease;
	ps->cb.arg = ps;
	MemoryContextRegisterResetCallback(mcxt, &ps->cb);
	return ps;
}

/* The call site's state, with the model resolved for this statement. */
static MmPredictState *
MmPredictGetState(FunctionCallInfo fcinfo, int version_argno)
{
	MmPredictState *ps = (MmPredictState *) fcinfo->flinfo->fn_extra;
	text	   *name = PG_GETARG_TEXT_PP(0);
	bool		version_isnull = PG_ARGISNULL(version_argno);
	int32		version = version_isnull ? 0 : PG_GETARG_INT32(version_argno);

	if (ps == NULL)
	{
		ps = MmPredictStateNew(fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = ps;
	}
	if (likely(ps->stmt_start == GetCurrentStatementStartTimestamp() &&
			   ps->stmt_cid == GetCurrentCommandId(false) &&
			   ps->name_len == (int) VARSIZE_ANY_EXHDR(name) &&
			   memcmp(ps->name, VARDATA_ANY(name), ps->name_len) == 0 &&
			   ps->version_isnull == version_isnull &&
			   ps->version == version))
		return ps;
	MmPredictResolve(ps, name, version_isnull, version);
	return ps;
}

/* Raise the error for a non-finite input or an overflowing prediction. */
static void
MmReportBadInput(const MmModel *m, const double *x, const char *model)
{
	for (uint32 j = 0; j < m->ncols; j++)
		if (!isfinite(x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("input of model \"%s\" contains %s in feature \"%s\"", model,
							isnan(x[j]) ? "NaN" : (x[j] > 0 ? "Infinity" : "-Infinity"),
							MmFeatureColumnName(m, j)),
					 errhint("Models are applied to finite values only.")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("prediction of model \"%s\" overflows double precision", model)));
}

/* Check a one-dimensional array input's shape against the model. */
static inline int
MmCheckArrayInput(ArrayType *arr, const MmModel *m, const char *model, bool nulls_ok)
{
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("input array of model \"%s\" has %d dimensions, but must be one-dimensional",
						model, ARR_NDIM(arr))));
	n = ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
	if ((uint32) n != m->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" expects %u features, but the input array has %d",
						model, m->ncols, n),
				 errhint("Pass the features in the training order; mm_weights lists them.")));
	if (!nulls_ok && ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("input array of model \"%s\" contains a NULL element", model),
				 errhint("Replace NULL elements, e.g. with coalesce().")));
	return n;
}

/*
 * The answer of the model for an encoded row x (not yet scaled), as the
 * calling function returns it: the regression value or numeric label, the
 * label, or the class probabilities.  x may be the call site's buffer,
 * which is then scaled in place.
 */
static Datum MmPredictCanary(FunctionCallInfo fcinfo, MmPredictState *ps, MmOutMode mode);

static Datum
MmPredictOut(FunctionCallInfo fcinfo, MmPredictState *ps, const double *x, MmOutMode mode)
{
	const MmModel *m = ps->entry->model;
	const double *xs = x;
	int			best = 0;

	/*
	 * A canary's share, by a hash of the encoded input.  An input in one
	 * version's feature order (an array, or the planner's rewrite of one)
	 * stays with the deployed version when the canary reads other columns.
	 */
	if (unlikely(ps->traffic > 0) &&
		(ps->canary_same || ps->raw_kind == MM_ARG_ROW ||
		 (ps->raw_kind == MM_ARG_OTHER && !PG_ARGISNULL(2))) &&
		mm_split_u(UINT64_C(0x63616E617279), x, (int) m->ncols) < ps->traffic)
		return MmPredictCanary(fcinfo, ps, mode);

	if (m->scale != MM_SCALE_NONE)
	{
		if (x != ps->x)
			memcpy(ps->x, x, sizeof(double) * m->ncols);
		mm_model_scale(m, ps->x);
		xs = ps->x;
	}
	if (mode == MM_OUT_TRANSFORM)
	{
		/* pca: the coordinates; any other model: what its algorithm sees */
		int			nout = m->task == MM_TASK_DECOMPOSITION ? (int) m->n_components : (int) m->ncols;
		double	   *out = palloc(sizeof(double) * nout);
		Datum	   *d = palloc(sizeof(Datum) * nout);

		for (uint32 j = 0; j < m->ncols; j++)
			if (unlikely(!isfinite(xs[j])))
				MmReportBadInput(m, x, ps->name);
		if (m->task == MM_TASK_DECOMPOSITION)
			mm_pca_transform((int) m->ncols, nout, m->pca_mean, m->components,
							 m->explained_variance, m->whiten, xs, out);
		else
			memcpy(out, xs, sizeof(double) * nout);
		for (int j = 0; j < nout; j++)
			d[j] = Float8GetDatum(out[j]);
		return PointerGetDatum(construct_array(d, nout, FLOAT8OID, sizeof(double),
											   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	if (m->task == MM_TASK_CLUSTERING || m->task == MM_TASK_DECOMPOSITION)
	{
		double		d2;

		if (m->task == MM_TASK_DECOMPOSITION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("model \"%s\" is a pca model and predicts nothing", ps->name),
					 errhint("Use mm_transform(%s, ...) for its coordinates.", MmQuoteLiteral(ps->name))));
		if (mode != MM_OUT_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("model \"%s\" is a clustering model and has no labels", ps->name),
					 errhint("mm_predict(%s, ...) returns the cluster number, from 0.", MmQuoteLiteral(ps->name))));
		for (uint32 j = 0; j < m->ncols; j++)
			if (unlikely(!isfinite(xs[j])))
				MmReportBadInput(m, x, ps->name);
		return Float8GetDatum((double) mm_kmeans_predict((int) m->k, (int) m->ncols,
														 m->centers, xs, &d2));
	}
	if (m->task == MM_TASK_REGRESSION)
	{
		double		v;

		if (mode != MM_OUT_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("model \"%s\" is a regression model and has no labels", ps->name),
					 errhint("Use mm_predict(%s, ...).", MmQuoteLiteral(ps->name))));
		v = MmModelValue(m, xs);
		if (unlikely(!isfinite(v)))
			MmReportBadInput(m, x, ps->name);
		return Float8GetDatum(v);
	}

	for (uint32 j = 0; j < m->ncols; j++)
		if (unlikely(!isfinite(xs[j])))
			MmReportBadInput(m, x, ps->name);
	MmModelProba(m, xs, ps->proba);
	best = MmArgmax(ps->proba, m->nclasses);
	switch (mode)
	{
		case MM_OUT_VALUE:
			if (m->label_type != MM_LABEL_INT)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("model \"%s\" predicts %s labels, which mm_predict cannot return as a number",
								ps->name, m->label_type == MM_LABEL_BOOL ? "boolean" : "text"),
						 errhint("Use mm_predict_label(%s, ...), or mm_predict_proba for the probabilities.", MmQuoteLiteral(ps->name))));
			return Float8GetDatum(strtod(m->labels[best], NULL));
		case MM_OUT_LABEL:
			return CStringGetTextDatum(m->labels[best]);
		case MM_OUT_TRANSFORM:
			break;				/* answered above */
		case MM_OUT_PROBA:
			{
				Datum	   *d = palloc(sizeof(Datum) * m->nclasses);

				for (uint32 k = 0; k < m->nclasses; k++)
					d[k] = Float8GetDatum(ps->proba[k]);
				return PointerGetDatum(construct_array(d, m->nclasses, FLOAT8OID, sizeof(double),
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			}
	}
	return (Datum) 0;			/* not reached */
}

/* Does the model replace NULL inputs (some feature imputes)? */
static inline bool
MmModelImputes(const MmModel *m)
{
	for (uint32 i = 0; i < m->nfeatures; i++)
		if (m->features[i].impute != MM_IMPUTE_ERROR)
			return true;
	return false;
}

/* The fill value of encoded column j, or an error when it has none. */
static double
MmColumnFill(const MmModel *m, uint32 j, const char *model)
{
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		if (j < f->width)
		{
			if (f->impute == MM_IMPUTE_ERROR)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("input array of model \"%s\" contains a NULL element", model),
						 errhint("Model \"%s\" was trained without NULLs in feature \"%s\"; replace them, e.g. with coalesce().",
								 model, f->name)));
			return f->fill[j];
		}
		j -= f->width;
	}
	return 0.0;
}

static Datum MmPredictOtherArray(FunctionCallInfo fcinfo, MmPredictState *ps,
								 ArrayType *arr, MmOutMode mode);

/* An array input (float8[] or float4[]) of a call site. */
static Datum
MmPredictArray(FunctionCallInfo fcinfo, MmPredictState *ps, ArrayType *arr, MmOutMode mode)
{
	const MmModel *m = ps->entry->model;

	if (ARR_ELEMTYPE(arr) == FLOAT8OID && !(ARR_HASNULL(arr) && MmModelImputes(m)))
	{
		MmCheckArrayInput(arr, m, ps->name, false);
		return MmPredictOut(fcinfo, ps, (const double *) ARR_DATA_PTR(arr), mode);
	}
	if (ARR_ELEMTYPE(arr) == FLOAT4OID && !(ARR_HASNULL(arr) && MmModelImputes(m)))
	{
		const float *f = (const float *) ARR_DATA_PTR(arr);

		MmCheckArrayInput(arr, m, ps->name, false);
		for (uint32 j = 0; j < m->ncols; j++)
			ps->x[j] = f[j];
		return MmPredictOut(fcinfo, ps, ps->x, mode);
	}
	return MmPredictOtherArray(fcinfo, ps, arr, mode);
}

/* The entry points over arrays: mm_predict, mm_predict_label, mm_predict_proba. */
static Datum
MmPredictArrayEntry(FunctionCallInfo fcinfo, MmOutMode mode)
{
	MmPredictState *ps;
	Datum		d;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	ps = MmPredictGetState(fcinfo, 2);
	ps->raw_kind = MM_ARG_ARRAY;
	ps->raw = PG_GETARG_ARRAYTYPE_P(1);
	ps->answered = ps->stat;
	MmStatBegin(ps->stat);
	d = MmPredictArray(fcinfo, ps, (ArrayType *) ps->raw, mode);
	MmStatEnd(ps->answered);
	return d;
}

/* mm_predict(model text, x float8[], version int) */
Datum
mm_predict_float8(PG_FUNCTION_ARGS)
{
	return MmPredictArrayEntry(fcinfo, MM_OUT_VALUE);
}

/* mm_predict(model text, x float4[], version int) */
Datum
mm_predict_float4(PG_FUNCTION_ARGS)
{
	return MmPredictArrayEntry(fcinfo, MM_OUT_VALUE);
}

/* mm_predict_label(model text, x float8[]/float4[], version int) */
Datum
mm_predict_label_array(PG_FUNCTION_ARGS)
{
	return MmPredictArrayEntry(fcinfo, MM_OUT_LABEL);
}

/* mm_predict_proba(model text, x float8[]/float4[], version int) */
Datum
mm_predict_proba_array(PG_FUNCTION_ARGS)
{
	return MmPredictArrayEntry(fcinfo, MM_OUT_PROBA);
}

/* mm_transform(model text, x float8[]/float4[], version int) */
Datum
mm_transform_array(PG_FUNCTION_ARGS)
{
	return MmPredictArrayEntry(fcinfo, MM_OUT_TRANSFORM);
}

/*
 * An array of another element type, or one with NULLs the model imputes:
 * converted element by element.
 */
static Datum
MmPredictOtherArray(FunctionCallInfo fcinfo, MmPredictState *ps, ArrayType *arr, MmOutMode mode)
{
	const MmModel *m = ps->entry->model;
	double	   *x = ps->x;
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	/* the element type first: an array of another type is refused for that, whatever its length */
	if (elemtype != FLOAT8OID && elemtype != FLOAT4OID && elemtype != INT2OID &&
		elemtype != INT4OID && elemtype != INT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s does not accept arrays of type %s",
						mode == MM_OUT_LABEL ? "mm_predict_label" :
						mode == MM_OUT_PROBA ? "mm_predict_proba" :
						mode == MM_OUT_TRANSFORM ? "mm_transform" : "mm_predict",
						format_type_be(elemtype)),
				 errhint("Pass double precision[], real[], numeric[], integer[] or bigint[].")));
	MmCheckArrayInput(arr, m, ps->name, true);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	for (int j = 0; j < n; j++)
	{
		if (nulls[j])
		{
			x[j] = MmColumnFill(m, j, ps->name);
			continue;
		}
		switch (elemtype)
		{
			case FLOAT8OID:
				x[j] = DatumGetFloat8(elems[j]);
				break;
			case FLOAT4OID:
				x[j] = DatumGetFloat4(elems[j]);
				break;
			case INT2OID:
				x[j] = DatumGetInt16(elems[j]);
				break;
			case INT4OID:
				x[j] = DatumGetInt32(elems[j]);
				break;
			case INT8OID:
				x[j] = (double) DatumGetInt64(elems[j]);
				break;
			default:			/* NUMERICOID */
				x[j] = MmNumericDouble(DatumGetNumeric(elems[j]));
				break;
		}
	}
	return MmPredictOut(fcinfo, ps, x, mode);
}

/* How a row attribute of type typid feeds a feature of kind fkind. */
static MmFieldKind
MmFieldKindFor(Oid typid, const MmFeature *f, const char *model)
{
	Oid			base = getBaseType(typid);

	if (f->kind == MM_FEAT_ARRAY)
	{
		if (base == FLOAT8ARRAYOID || base == FLOAT4ARRAYOID)
			return MM_FIELD_ARRAY;
		/* ROW(NULL, ...): only a NULL is accepted untyped */
		if (base == UNKNOWNOID)
			return MM_FIELD_UNKNOWN_ARRAY;
	}
	else if (f->kind == MM_FEAT_CATEGORICAL)
	{
		if (base == TEXTOID || base == VARCHAROID)
			return MM_FIELD_TEXT;
		if (base == BPCHAROID)
			return MM_FIELD_BPCHAR;
		if (base == NAMEOID)
			return MM_FIELD_NAME;
		if (get_typtype(base) == TYPTYPE_ENUM)
			return MM_FIELD_ENUM;
		/* ROW('red', ...): an untyped literal, a C string */
		if (base == UNKNOWNOID)
			return MM_FIELD_UNKNOWN_TEXT;
	}
	else
	{
		switch (base)
		{
			case FLOAT8OID:
				return MM_FIELD_FLOAT8;
			case FLOAT4OID:
				return MM_FIELD_FLOAT4;
			case INT2OID:
				return MM_FIELD_INT2;
			case INT4OID:
				return MM_FIELD_INT4;
			case INT8OID:
				return MM_FIELD_INT8;
			case NUMERICOID:
				return MM_FIELD_NUMERIC;
			case BOOLOID:
				return MM_FIELD_BOOL;
			case UNKNOWNOID:
				return MM_FIELD_UNKNOWN_NUM;
			default:
				break;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" has type %s, but feature \"%s\" of model \"%s\" is %s",
					f->name, format_type_be(typid), f->name, model,
					f->kind == MM_FEAT_ARRAY ? "an array of real or double precision" :
					f->kind == MM_FEAT_CATEGORICAL ? "categorical (text or enum)" : "numeric")));
	return MM_FIELD_FLOAT8;		/* not reached */
}

/*
 * Are these the column names of an anonymous record, ROW(a, b, ...): f1,
 * f2, ...?  Such a row maps to the features by position.
 */
static bool
MmNamesAreAnonymous(int n, char **names)
{
	for (int a = 0; a < n; a++)
	{
		char		expect[16];

		snprintf(expect, sizeof(expect), "f%d", a + 1);
		if (names[a] == NULL || strcmp(names[a], expect) != 0)
			return false;
	}
	return n > 0;
}

/*
 * Map the model's features onto nfields named, typed fields (the columns
 * of a row), by name or by position, once per call site and model.
 */
static void
MmPredictMapFields(FunctionCallInfo fcinfo, MmPredictState *ps, int nfields,
				   char **names, const Oid *types, bool positional)
{
	const MmModel *m = ps->entry->model;
	MemoryContext old = MemoryContextSwitchTo(ps->map_cxt);

	/*
	 * By name, unless the row is anonymous (f1, f2, ...) and some feature is
	 * not among its names: then by position.  A model whose features are
	 * named f1, f2 still maps by name.
	 */
	if (positional)
	{
		positional = false;
		for (uint32 i = 0; i < m->nfeatures && !positional; i++)
		{
			int			a;

			for (a = 0; a < nfields; a++)
				if (names[a] != NULL && strcmp(names[a], m->features[i].name) == 0)
					break;
			positional = (a == nfields);
		}
	}
	if (positional && (uint32) nfields != m->nfeatures)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" expects %u features, but the input row has %d columns",
						ps->name, m->nfeatures, nfields),
				 errhint("ROW(...) maps its values to the features in training order; mm_weights lists them.")));
	ps->attidx = palloc(sizeof(int) * m->nfeatures);
	ps->fkind = palloc(sizeof(MmFieldKind) * m->nfeatures);
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];
		int			found = positional ? (int) i : -1;

		for (int a = 0; a < nfields && !positional; a++)
		{
			if (names[a] != NULL && strcmp(names[a], f->name) == 0)
			{
				found = a;
				break;
			}
		}
		if (found < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("input row has no column \"%s\", a feature of model \"%s\"",
							f->name, ps->name),
					 errhint("A row input maps columns by name; rename the column or pass an array.")));
		ps->attidx[i] = found;
		ps->fkind[i] = MmFieldKindFor(types[found], f, ps->name);
	}
	ps->nfields = nfields;
	ps->values = palloc(sizeof(Datum) * Max(nfields, 1));
	ps->nulls = palloc(sizeof(bool) * Max(nfields, 1));
	MemoryContextSwitchTo(old);
}

/* Map the features onto a row type (by name, or for ROW(...) by position). */
static void
MmPredictMapRow(FunctionCallInfo fcinfo, MmPredictState *ps, Oid rowtype, int32 rowtypmod)
{
	MemoryContext old;
	TupleDesc	td;
	char	  **names;
	Oid		   *types;

	/* no stale mapping survives a failed remap */
	ps->map_kind = MM_MAP_NONE;
	MemoryContextReset(ps->map_cxt);
	old = MemoryContextSwitchTo(ps->map_cxt);
	td = lookup_rowtype_tupdesc_copy(rowtype, rowtypmod);
	names = palloc(sizeof(char *) * Max(td->natts, 1));
	types = palloc(sizeof(Oid) * Max(td->natts, 1));
	MemoryContextSwitchTo(old);
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);

		names[a] = att->attisdropped ? NULL : NameStr(att->attname);
		types[a] = att->atttypid;
	}
	MmPredictMapFields(fcinfo, ps, td->natts, names, types,
					   MmNamesAreAnonymous(td->natts, names));
	ps->tupdesc = td;
	ps->rowtype = rowtype;
	ps->rowtypmod = rowtypmod;
	ps->map_kind = MM_MAP_ROW;
}

/* A scalar field as a double. */
static inline double
MmFieldValue(MmFieldKind kind, Datum v)
{
	switch (kind)
	{
		case MM_FIELD_FLOAT8:
			return DatumGetFloat8(v);
		case MM_FIELD_FLOAT4:
			return DatumGetFloat4(v);
		case MM_FIELD_INT2:
			return DatumGetInt16(v);
		case MM_FIELD_INT4:
			return DatumGetInt32(v);
		case MM_FIELD_INT8:
			return (double) DatumGetInt64(v);
		case MM_FIELD_NUMERIC:
			return MmNumericDouble(DatumGetNumeric(v));
		case MM_FIELD_BOOL:
			return DatumGetBool(v) ? 1.0 : 0.0;
		case MM_FIELD_UNKNOWN_NUM:
			return DatumGetFloat8(DirectFunctionCall1(float8in, v));
		case MM_FIELD_ARRAY:
		case MM_FIELD_TEXT:
		case MM_FIELD_BPCHAR:
		case MM_FIELD_NAME:
		case MM_FIELD_ENUM:
		case MM_FIELD_UNKNOWN_TEXT:
		case MM_FIELD_UNKNOWN_ARRAY:
			break;
	}
	elog(ERROR, "unexpected field kind %d", (int) kind);	/* cannot happen */
	return 0.0;					/* not reached */
}

/*
 * The prediction for the mapped fields in ps->values/ps->nulls.  A row whose
 * fields are all NULL is NULL (ROW(NULL, NULL) IS NULL in SQL; also the row
 * of an outer join's missing side): *isnull is set and 0 returned.
 */
static Datum
MmPredictMapped(FunctionCallInfo fcinfo, MmPredictState *ps, MmOutMode mode, bool *isnull)
{
	const MmModel *m = ps->entry->model;
	double	   *x = ps->x;
	uint32		pos = 0;
	int			a;

	for (a = 0; a < ps->nfields && ps->nulls[a]; a++)
		;
	*isnull = (a == ps->nfields);
	if (*isnull)
		return (Datum) 0;

	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];
		int			a = ps->attidx[i];
		Datum		v = ps->values[a];

		if (ps->nulls[a])
		{
			if (f->impute == MM_IMPUTE_ERROR)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("column \"%s\" of the input row is NULL", f->name),
						 errhint("Model \"%s\" was trained without NULLs; replace them, e.g. with coalesce().",
								 ps->name)));
			memcpy(x + pos, f->fill, sizeof(double) * f->width);
			pos += f->width;
		}
		else if (ps->fkind[i] == MM_FIELD_UNKNOWN_ARRAY)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the input row is an untyped literal, but feature \"%s\" of model \"%s\" is an array",
							f->name, f->name, ps->name),
					 errhint("Cast it: '{1, 2}'::float8[].")));
		else if (ps->fkind[i] == MM_FIELD_ARRAY)
		{
			ArrayType  *arr = DatumGetArrayTypeP(v);
			char		what[NAMEDATALEN + 16];

			snprintf(what, sizeof(what), "column \"%s\"", f->name);
			if (f->impute != MM_IMPUTE_ERROR && ARR_HASNULL(arr))
			{
				MmReadArrayNulls(arr, f->width, x + pos, what, true);
				for (uint32 k = 0; k < f->width; k++)
					if (isnan(x[pos + k]))
						x[pos + k] = f->fill[k];
			}
			else
				MmReadArray(arr, f->width, x + pos, what);
			pos += f->width;
			if ((Pointer) arr != DatumGetPointer(v))
				pfree(arr);
		}
		else if (ps->fkind[i] == MM_FIELD_TEXT || ps->fkind[i] == MM_FIELD_BPCHAR ||
				 ps->fkind[i] == MM_FIELD_NAME || ps->fkind[i] == MM_FIELD_ENUM ||
				 ps->fkind[i] == MM_FIELD_UNKNOWN_TEXT)
		{
			const char *str;
			size_t		len;
			int			l;

			/* the value as the training read it: its text form */
			switch (ps->fkind[i])
			{
				case MM_FIELD_TEXT:
					{
						text	   *t = DatumGetTextPP(v);

						str = VARDATA_ANY(t);
						len = VARSIZE_ANY_EXHDR(t);
						break;
					}
				case MM_FIELD_BPCHAR:
					{
						text	   *t = DatumGetTextPP(v);

						str = VARDATA_ANY(t);
						len = bpchartruelen((char *) str, VARSIZE_ANY_EXHDR(t));
						break;
					}
				case MM_FIELD_NAME:
					str = NameStr(*DatumGetName(v));
					len = strlen(str);
					break;
				case MM_FIELD_ENUM:
					str = DatumGetCString(DirectFunctionCall1(enum_out, v));
					len = strlen(str);
					break;
				default:
					str = DatumGetCString(v);
					len = strlen(str);
					break;
			}
			l = mm_feature_level(f, str, len);
			/* an unseen level is all zeros */
			memset(x + pos, 0, sizeof(double) * f->width);
			if (l >= 0)
				x[pos + l] = 1.0;
			pos += f->width;
		}
		else
			x[pos++] = MmFieldValue(ps->fkind[i], v);
	}
	return MmPredictOut(fcinfo, ps, x, mode);
}

/* The prediction for a composite datum, columns mapped by name. */
static Datum
MmPredictRow(FunctionCallInfo fcinfo, MmPredictState *ps, HeapTupleHeader td,
			 MmOutMode mode, bool *isnull)
{
	Oid			rowtype = HeapTupleHeaderGetTypeId(td);
	int32		rowtypmod = HeapTupleHeaderGetTypMod(td);
	HeapTupleData tuple;

	if (ps->map_kind != MM_MAP_ROW ||
		ps->rowtype != rowtype || ps->rowtypmod != rowtypmod)
		MmPredictMapRow(fcinfo, ps, rowtype, rowtypmod);

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	heap_deform_tuple(&tuple, ps->tupdesc, ps->values, ps->nulls);
	return MmPredictMapped(fcinfo, ps, mode, isnull);
}

/* The entry points over anyelement: a row or an array. */
static Datum
MmPredictAnyEntry(FunctionCallInfo fcinfo, MmOutMode mode)
{
	MmPredictState *ps;
	Oid			argtype;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	ps = MmPredictGetState(fcinfo, 2);
	if (ps->argkind == MM_ARG_UNKNOWN)
	{
		/* the argument's type is fixed for the call site: classify it once */
		argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);
		ps->argkind = type_is_rowtype(argtype) ? MM_ARG_ROW :
			OidIsValid(get_element_type(getBaseType(argtype))) ? MM_ARG_ARRAY : MM_ARG_OTHER;
	}
	if (ps->argkind == MM_ARG_ROW || ps->argkind == MM_ARG_ARRAY)
	{
		Datum		d;

		ps->raw_kind = ps->argkind;
		ps->raw = ps->argkind == MM_ARG_ROW ? (const void *) PG_GETARG_HEAPTUPLEHEADER(1) :
			(const void *) PG_GETARG_ARRAYTYPE_P(1);
		ps->answered = ps->stat;
		MmStatBegin(ps->stat);
		if (ps->argkind == MM_ARG_ROW)
			d = MmPredictRow(fcinfo, ps, (HeapTupleHeader) ps->raw, mode, &fcinfo->isnull);
		else
			d = MmPredictArray(fcinfo, ps, (ArrayType *) ps->raw, mode);
		MmStatEnd(ps->answered);
		return d;
	}
	argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s takes a row or an array, not type %s",
					mode == MM_OUT_LABEL ? "mm_predict_label" :
					mode == MM_OUT_PROBA ? "mm_predict_proba" :
					mode == MM_OUT_TRANSFORM ? "mm_transform" : "mm_predict",
					format_type_be(argtype)),
			 errhint("Pass a table row (t.* or t), ROW(...) with the features in training order, or an array of them.")));
	PG_RETURN_NULL();
}

/* mm_predict(model text, x anyelement, version int) */
Datum
mm_predict_any(PG_FUNCTION_ARGS)
{
	return MmPredictAnyEntry(fcinfo, MM_OUT_VALUE);
}

/* mm_predict_label(model text, x anyelement, version int) */
Datum
mm_predict_label_any(PG_FUNCTION_ARGS)
{
	return MmPredictAnyEntry(fcinfo, MM_OUT_LABEL);
}

/* mm_predict_proba(model text, x anyelement, version int) */
Datum
mm_predict_proba_any(PG_FUNCTION_ARGS)
{
	return MmPredictAnyEntry(fcinfo, MM_OUT_PROBA);
}

/* mm_transform(model text, x anyelement, version int) */
Datum
mm_transform_any(PG_FUNCTION_ARGS)
{
	return MmPredictAnyEntry(fcinfo, MM_OUT_TRANSFORM);
}

#define MM_FIELDS_FIXED_ARGS 3	/* model, version, names */

/* Map nvals encoded values (an ARRAY[...]'s elements) onto the model. */
static void
MmPredictMapEncoded(FunctionCallInfo fcinfo, MmPredictState *ps, int nvals)
{
	const MmModel *m = ps->entry->model;

	if ((uint32) nvals != m->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" expects %u features, but the input array has %d",
						ps->name, m->ncols, nvals),
				 errhint("Pass the features in the training order; mm_weights lists them.")));
	ps->fkind = MemoryContextAlloc(ps->map_cxt, sizeof(MmFieldKind) * Max(nvals, 1));
	for (int i = 0; i < nvals; i++)
	{
		MmFeature	f = {NULL, MM_FEAT_NUMERIC, 1};

		f.name = MmFeatureColumnName(m, i);
		ps->fkind[i] = MmFieldKindFor(get_fn_expr_argtype(fcinfo->flinfo, MM_FIELDS_FIXED_ARGS + i),
									  &f, ps->name);
	}
	ps->nfields = nvals;
	ps->map_kind = MM_MAP_ENCODED;
}

/* Map nvals values named by the array names onto the model's features. */
static void
MmPredictMapNamed(FunctionCallInfo fcinfo, MmPredictState *ps, ArrayType *na, int nvals)
{
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	char	  **names;
	Oid		   *types;
	MemoryContext old = MemoryContextSwitchTo(ps->map_cxt);

	deconstruct_array(na, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	if (n != nvals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mm_predict_fields got %d names for %d values", n, nvals)));
	names = palloc(sizeof(char *) * Max(n, 1));
	types = palloc(sizeof(Oid) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		names[i] = enulls[i] ? NULL : TextDatumGetCString(elems[i]);
		types[i] = get_fn_expr_argtype(fcinfo->flinfo, MM_FIELDS_FIXED_ARGS + i);
	}
	MemoryContextSwitchTo(old);
	MmPredictMapFields(fcinfo, ps, n, names, types, MmNamesAreAnonymous(n, names));
	ps->map_kind = MM_MAP_FIELDS;
}


/* mm_predict_fields's values, mapped onto ps's model and predicted. */
static Datum
MmPredictFieldsWith(FunctionCallInfo fcinfo, MmPredictState *ps)
{
	const MmModel *m = ps->entry->model;
	int			nvals = PG_NARGS() - MM_FIELDS_FIXED_ARGS;
	NullableDatum *args = fcinfo->args + MM_FIELDS_FIXED_ARGS;

	if (ps->map_kind == MM_MAP_NONE)
	{
		/* the names are a constant of the call site: map once per model */
		if (!get_fn_expr_arg_stable(fcinfo->flinfo, 2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the names argument of mm_predict_fields must be a constant")));
		MemoryContextReset(ps->map_cxt);
		if (PG_ARGISNULL(2))
			MmPredictMapEncoded(fcinfo, ps, nvals);
		else
			MmPredictMapNamed(fcinfo, ps, PG_GETARG_ARRAYTYPE_P(2), nvals);
	}

	if (ps->map_kind == MM_MAP_ENCODED)
	{
		/* encoded values in training order: the elements of an ARRAY[...] */
		double	   *x = ps->x;

		for (int i = 0; i < nvals; i++)
			x[i] = args[i].isnull ? MmColumnFill(m, i, ps->name) :
				MmFieldValue(ps->fkind[i], args[i].value);
		return MmPredictOut(fcinfo, ps, x, MM_OUT_VALUE);
	}

	/* the named columns of a row */
	for (int i = 0; i < nvals; i++)
	{
		ps->values[i] = args[i].value;
		ps->nulls[i] = args[i].isnull;
	}
	return MmPredictMapped(fcinfo, ps, MM_OUT_VALUE, &fcinfo->isnull);
}

/* Do two models read the same encoded columns (names, kinds, widths, levels)? */
static bool
MmSameFeatures(const MmModel *a, const MmModel *b)
{
	if (a->nfeatures != b->nfeatures || a->ncols != b->ncols)
		return false;
	for (uint32 i = 0; i < a->nfeatures; i++)
	{
		const MmFeature *fa = &a->features[i];
		const MmFeature *fb = &b->features[i];

		if (strcmp(fa->name, fb->name) != 0 || fa->kind != fb->kind || fa->width != fb->width)
			return false;
		for (uint32 l = 0; l < fa->nlevels; l++)
			if (strcmp(fa->levels[l], fb->levels[l]) != 0)
				return false;
	}
	return true;
}

/*
 * An input routed to the canary: read again, by the canary's own mapping
 * (its features may differ from the deployed version's), and predicted by
 * it; its statistics count the prediction.
 */
static Datum
MmPredictCanary(FunctionCallInfo fcinfo, MmPredictState *ps, MmOutMode mode)
{
	MmPredictState *c = ps->canary;

	if (ps->stat)
		ps->stat->inflight = false;
	MmStatBegin(c->stat);
	ps->answered = c->stat;
	switch (ps->raw_kind)
	{
		case MM_ARG_ROW:
			return MmPredictRow(fcinfo, c, (HeapTupleHeader) ps->raw, mode, &fcinfo->isnull);
		case MM_ARG_ARRAY:
			return MmPredictArray(fcinfo, c, (ArrayType *) ps->raw, mode);
		default:
			return MmPredictFieldsWith(fcinfo, c);
	}
}

/*
 * mm_predict_fields(model text, version int, names text[], VARIADIC "any")
 *
 * What the planner makes of mm_predict calls (mm_support.c), so that no
 * array or composite value is built per row:
 *	 mm_predict(m, ARRAY[a, b, c], v)  ->  mm_predict_fields(m, v, NULL, a, b, c)
 *		the values are the encoded features in training order;
 *	 mm_predict(m, t, v), t a table row ->  mm_predict_fields(m, v, '{x,y,...}', t.x, t.y, ...)
 *		every column of the table (or of a ROW(...)) with its name, mapped
 *		like a row; all of them NULL (the row of an outer join's missing
 *		side) gives NULL.
 */
Datum
mm_predict_fields(PG_FUNCTION_ARGS)
{
	MmPredictState *ps;
	Datum		d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mm_predict_fields takes its values one by one, not as a VARIADIC array"),
				 errhint("Call mm_predict with the array instead.")));
	ps = MmPredictGetState(fcinfo, 1);
	ps->raw_kind = MM_ARG_OTHER;
	ps->raw = NULL;
	ps->answered = ps->stat;
	MmStatBegin(ps->stat);
	d = MmPredictFieldsWith(fcinfo, ps);
	MmStatEnd(ps->answered);
	return d;
}

/*
 * A private decoded copy of a model version, for callers outside the
 * per-row path (evaluate, weights): checks the predict privilege.
 */
const MmModel *
MmLoadModel(const char *name, bool version_isnull, int32 version,
			int64 *model_id_out, int32 *version_out)
{
	MmCatalogCtx cat;
	MmModelRow	row;
	int32		v;
	int64		uid;
	bytea	   *blob;
	MmModel    *model;

	uid = MmOpenForPredict(name, version_isnull, version, &row, &v, &cat);
	blob = MmFetchBlob(uid, v, name);
	MmCatalogEnd(&cat);
	(void) MmDecodeBlob(blob, name, v, &model);
	*model_id_out = row.id;
	*version_out = v;
	return model;
}

/*
 * Weights in the units of the original columns: a model that scaled its
 * columns, x' = (x - c) / s, has w_j / s_j per column and its intercept
 * less sum_j w_j c_j / s_j.
 */
static void
MmUnscaledWeights(const MmModel *m, const double *w, double b, double *out, double *b_out)
{
	*b_out = b;
	for (uint32 j = 0; j < m->ncols; j++)
	{
		out[j] = m->scale == MM_SCALE_NONE ? w[j] : w[j] / m->scalev[j];
		if (m->scale != MM_SCALE_NONE)
			*b_out -= out[j] * m->center[j];
	}
}

/* mm_weights(model text, version int): intercept and weights */
Datum
mm_weights(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const MmModel *m;
	int64		id;
	int32		v;
	uint32		nsets;
	char	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	m = MmLoadModel(name, PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1), &id, &v);
	if (m->algorithm == MM_ALG_ENSEMBLE || m->algorithm == MM_ALG_STACKING)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is %s, which has no weights of its own", name,
						m->algorithm == MM_ALG_ENSEMBLE ? "an ensemble" : "a stacking"),
				 errhint("Its members are listed in the params of its version in mm_versions; mm_weights shows theirs.")));
	if (m->algorithm != MM_ALG_LINEAR_REGRESSION && m->algorithm != MM_ALG_RIDGE &&
		m->algorithm != MM_ALG_LASSO && m->algorithm != MM_ALG_ELASTIC_NET &&
		m->algorithm != MM_ALG_LOGISTIC_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model, which has no weights",
						name, mm_algorithm_name(m->algorithm)),
				 errhint("mm_weights shows linear, ridge, lasso, elastic net and logistic regression models.")));
	nsets = m->algorithm == MM_ALG_LOGISTIC_REGRESSION ? m->nsets : 1;
	InitMaterializedSRF(fcinfo, 0);
	for (uint32 k = 0; k < nsets; k++)
	{
		double	   *w = palloc(sizeof(double) * Max(m->ncols, 1));
		double		b;
		Datum		values[3];
		bool		nulls[3] = {nsets == 1, false, false};

		if (m->algorithm == MM_ALG_LOGISTIC_REGRESSION)
			MmUnscaledWeights(m, m->coefs + (Size) k * m->ncols, m->intercepts[k], w, &b);
		else
			MmUnscaledWeights(m, m->coef, m->intercept, w, &b);
		values[0] = nsets == 1 ? (Datum) 0 : CStringGetTextDatum(m->labels[k]);
		values[1] = CStringGetTextDatum("intercept");
		values[2] = Float8GetDatum(b);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		for (uint32 j = 0; j < m->ncols; j++)
		{
			values[1] = CStringGetTextDatum(MmFeatureColumnName(m, j));
			values[2] = Float8GetDatum(w[j]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* mm_labels(model text, version int): a classifier's labels, in order */
Datum
mm_labels(PG_FUNCTION_ARGS)
{
	const MmModel *m;
	int64		id;
	int32		v;
	char	   *name;
	Datum	   *d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	m = MmLoadModel(name, PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1), &id, &v);
	if (m->task != MM_TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model and has no labels", name, mm_task_name(m->task)),
				 errhint("Labels belong to classifiers such as logistic_regression and naive_bayes.")));
	d = palloc(sizeof(Datum) * m->nclasses);
	for (uint32 k = 0; k < m->nclasses; k++)
		d[k] = CStringGetTextDatum(m->labels[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, m->nclasses, TEXTOID, -1, false, TYPALIGN_INT));
}
