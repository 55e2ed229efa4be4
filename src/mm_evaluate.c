/*
 * mm_evaluate.c
 *	  Scoring a model on the rows of a source: mm_evaluate, and the second
 *	  pass of mm_train when held-out rows did not fit in memory.
 *
 * The source is read as the caller by one query whose rows stream into a
 * receiver and are scored as they arrive, so memory stays constant however
 * many rows there are (and the plan may be parallel); columns are mapped
 * to the model's features by name.
 */
#include "massmodel.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(mm_evaluate);


/* Metrics as jsonb; on ("heldout"/"train") is added when not NULL. */
Jsonb *
MmRegressionMetricsJsonb(const MmRegResult *r, const char *on)
{
	StringInfoData s;
	const char *keys[] = {"n", "mse", "rmse", "mae", "r2", "explained_variance"};
	double		vals[] = {r->n, r->mse, r->rmse, r->mae, r->r2, r->explained_variance};

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < lengthof(keys); i++)
	{
		appendStringInfo(&s, "%s\"%s\": ", i > 0 ? ", " : "", keys[i]);
		MmAppendJsonNumber(&s, vals[i]);
	}
	if (on)
		appendStringInfo(&s, ", \"evaluated_on\": \"%s\"", on);
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* The class index of a label, or -1 for a label the model never saw. */
static int
MmLabelIndex(const MmModel *m, const char *s, size_t len)
{
	for (uint32 k = 0; k < m->nclasses; k++)
		if (strlen(m->labels[k]) == len && memcmp(m->labels[k], s, len) == 0)
			return (int) k;
	return -1;
}

/* One scaled row of a clustering model into the score (reservoir sample). */
static void
MmClusterScoreAdd(const MmModel *m, MmClusterScore *clu, const double *x)
{
	double		d2;
	int64		slot;

	(void) mm_kmeans_predict((int) m->k, (int) m->ncols, m->centers, x, &d2);
	clu->inertia += d2;
	slot = clu->kept < MM_SILHOUETTE_SAMPLE ? clu->kept++ :
		(int64) mm_rng_below(&clu->rng, (uint64) clu->n + 1);
	if (slot < MM_SILHOUETTE_SAMPLE)
		memcpy(clu->sample + slot * m->ncols, x, sizeof(double) * m->ncols);
	clu->n++;
}

/* Clustering metrics as jsonb (n, inertia, mean_inertia, silhouette). */
Jsonb *
MmClusteringJsonb(int64 n, double inertia, double silhouette, const char *on)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"n\": " INT64_FORMAT ", \"inertia\": ", n);
	MmAppendJsonNumber(&s, inertia);
	appendStringInfoString(&s, ", \"mean_inertia\": ");
	MmAppendJsonNumber(&s, n > 0 ? inertia / n : NAN);
	appendStringInfoString(&s, ", \"silhouette\": ");
	MmAppendJsonNumber(&s, silhouette);
	if (on)
		appendStringInfo(&s, ", \"evaluated_on\": \"%s\"", on);
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* The scoring query's receiver: each row is predicted and counted as it comes. */
typedef struct MmScoreReceiver
{
	DestReceiver pub;
	const MmModel *m;
	const char *model_name;
	MmRowFilter filter;
	uint64		seed;
	double		test_fraction;
	MmRegMetrics *reg;
	MmClsMetrics *cls;
	int64	   *unseen;
	MmClusterScore *clu;
	double	   *row;			/* target, then the encoded features */
	double	   *proba;
	MemoryContext rowcxt;		/* detoasted values of one row */
	uint64		rows;
} MmScoreReceiver;

/* Encode one row of the scoring query, predict it and add it to the metrics. */
static void
MmScoreRow(MmScoreReceiver *r, const Datum *values, const bool *nulls)
{
	const MmModel *m = r->m;
	bool		classifier = m->task == MM_TASK_CLASSIFICATION;
	double	   *row = r->row;
	uint32		pos = 1;
	int			cls_index = 0;
	Datum		d = values[0];

	if (nulls[0])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target column \"%s\" contains NULL", m->target),
				 errhint("Filter rows with a NULL target out in a query source.")));
	if (classifier)
	{
		text	   *t = DatumGetTextPP(d);

		cls_index = MmLabelIndex(m, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		row[0] = cls_index;
	}
	else
	{
		row[0] = DatumGetFloat8(d);
		if (!isfinite(row[0]))
			MmReportNonFinite(m->target, row[0]);
	}
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		d = values[i + 1];
		if (nulls[i + 1])
		{
			if (f->impute == MM_IMPUTE_ERROR)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("column \"%s\" contains NULL", f->name),
						 errhint("Model \"%s\" was trained without NULLs; filter them out in a query source, or replace them with coalesce().",
								 r->model_name)));
			memcpy(row + pos, f->fill, sizeof(double) * f->width);
		}
		else if (f->kind == MM_FEAT_ARRAY)
		{
			char		what[NAMEDATALEN + 16];
			ArrayType  *arr = DatumGetArrayTypeP(d);

			snprintf(what, sizeof(what), "column \"%s\"", f->name);
			MmReadArrayNulls(arr, f->width, row + pos, what, f->impute != MM_IMPUTE_ERROR);
			for (uint32 k = 0; k < f->width; k++)
				if (isnan(row[pos + k]))
					row[pos + k] = f->fill[k];
		}
		else if (f->kind == MM_FEAT_CATEGORICAL)
		{
			text	   *t = DatumGetTextPP(d);
			int			l = mm_feature_level(f, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

			memset(row + pos, 0, sizeof(double) * f->width);
			if (l >= 0)
				row[pos + l] = 1.0;
		}
		else
		{
			row[pos] = DatumGetFloat8(d);
			if (!isfinite(row[pos]))
				MmReportNonFinite(f->name, row[pos]);
		}
		pos += f->width;
	}
	if (r->filter == MM_ROWS_HELDOUT &&
		!(mm_split_u(r->seed, row, m->ncols + 1) < r->test_fraction))
		return;
	mm_model_scale(m, row + 1);
	if (m->task == MM_TASK_CLUSTERING)
		MmClusterScoreAdd(m, r->clu, row + 1);
	else if (!classifier)
		mm_regmetrics_add(r->reg, row[0], MmModelValue(m, row + 1));
	else if (cls_index < 0)
		(*r->unseen)++;
	else
	{
		MmModelProba(m, row + 1, r->proba);
		mm_clsmetrics_add(r->cls, cls_index, r->proba);
	}
}

static bool
MmScoreReceive(TupleTableSlot *slot, DestReceiver *self)
{
	MmScoreReceiver *r = (MmScoreReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->rowcxt);

	slot_getallattrs(slot);
	MmScoreRow(r, slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	if ((++r->rows & 0x3FF) == 0)
		CHECK_FOR_INTERRUPTS();
	return true;
}

/*
 * Predict every row of the source (or only the held-out rows of a plain
 * numeric regression's split) and accumulate metrics: regression metrics
 * in reg, or classification metrics in cls (rows whose label the model
 * never saw are counted in *unseen and left out).  Features map by name;
 * categorical values are one-hot over the model's levels, NULLs take the
 * model's fill values (or are an error), and the model's scaling applies.
 * Runs as the caller, as one query whose rows stream into a receiver: no
 * result set is built on the way, and the plan may scan in parallel.
 */
void
MmScoreOverSource(const MmModel *m, const char *model_name,
				  MmSource *src, MmRowFilter filter,
				  uint64 seed, double test_fraction,
				  MmRegMetrics *reg, MmClsMetrics *cls, int64 *unseen,
				  MmClusterScore *clu)
{
	StringInfoData sql;
	int			attno;
	MmSourceCol col;
	MmSourceCol *cols = palloc(sizeof(MmSourceCol) * m->nfeatures);
	bool		classifier = m->task == MM_TASK_CLASSIFICATION;
	bool		clustering = m->task == MM_TASK_CLUSTERING;
	MmScoreReceiver receiver;

	attno = clustering ? 1 : MmFindColumn(src, m->target);
	if (attno == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("source \"%s\" has no column \"%s\", the target of model \"%s\"",
						src->text, m->target, model_name),
				 errhint("Scoring compares predictions with the true values in a column named like the target.")));
	initStringInfo(&sql);
	if (clustering)
		appendStringInfoString(&sql, "SELECT 0::pg_catalog.float8");	/* no target */
	else if (classifier)
	{
		(void) MmClassifyTarget(src, attno, true, &col);
		appendStringInfo(&sql, "SELECT %s::pg_catalog.text", quote_identifier(col.name));
	}
	else
	{
		MmClassifyColumn(src, attno, true, &col);
		appendStringInfo(&sql, "SELECT %s", MmColumnExpr(&col));
	}
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];
		bool		want_array = f->kind == MM_FEAT_ARRAY;
		bool		want_text = f->kind == MM_FEAT_CATEGORICAL;

		attno = MmFindColumn(src, f->name);
		if (attno == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("source \"%s\" has no column \"%s\", a feature of model \"%s\"",
							src->text, f->name, model_name)));
		MmClassifyColumn(src, attno, false, &cols[i]);
		if (want_array != (cols[i].kind == MM_COL_ARRAY) ||
			want_text != (cols[i].kind == MM_COL_TEXT))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of source \"%s\" does not match feature \"%s\" of model \"%s\"",
							f->name, src->text, f->name, model_name),
					 errdetail("The model was trained on %s.",
							   want_array ? "an array column" :
							   want_text ? "a categorical (text or enum) column" : "a numeric column")));
		appendStringInfo(&sql, ", %s", MmColumnExpr(&cols[i]));
	}
	appendStringInfo(&sql, " FROM %s", src->from_sql);

	memset(&receiver, 0, sizeof(receiver));
	MmReceiverInit(&receiver.pub, MmScoreReceive);
	receiver.m = m;
	receiver.model_name = model_name;
	receiver.filter = filter;
	receiver.seed = seed;
	receiver.test_fraction = test_fraction;
	receiver.reg = reg;
	receiver.cls = cls;
	receiver.unseen = unseen;
	receiver.clu = clu;
	receiver.row = palloc(sizeof(double) * (m->ncols + 1));
	receiver.proba = palloc(sizeof(double) * Max(m->nclasses, 1));
	receiver.rowcxt = AllocSetContextCreate(CurrentMemoryContext, "mm scoring row",
											ALLOCSET_SMALL_SIZES);
	MmReadInto(sql.data, NULL, (DestReceiver *) &receiver);
	MemoryContextDelete(receiver.rowcxt);
}

/* mm_evaluate(model text, source text, version int, record boolean) */
Datum
mm_evaluate(PG_FUNCTION_ARGS)
{
	char	   *model;
	char	   *source;
	const MmModel *m;
	int64		model_id;
	int32		version;
	MmSource	src;
	MmRegMetrics met;
	MmRegResult res;
	Jsonb	   *metrics;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "model" : "source")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	m = MmLoadModel(model, PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2),
					&model_id, &version);

	if (m->task == MM_TASK_DECOMPOSITION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a pca model, which has nothing to evaluate", model),
				 errdetail("Its version's metrics hold the explained variances of its training rows."),
				 errhint("Train a new version on the rows to compare, and compare the explained variances.")));
	MmOpenSource(source, &src);
	if (m->task == MM_TASK_CLUSTERING)
	{
		MmClusterScore clu;
		int32	   *label;
		double		silhouette;

		memset(&clu, 0, sizeof(clu));
		clu.sample = palloc_extended(sizeof(double) * MM_SILHOUETTE_SAMPLE * m->ncols, MCXT_ALLOC_HUGE);
		mm_rng_seed(&clu.rng, 42);
		MmScoreOverSource(m, model, &src, MM_ROWS_ALL, 0, 0, NULL, NULL, NULL, &clu);
		if (clu.n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("source \"%s\" has no rows to evaluate model \"%s\" on", source, model)));
		label = palloc(sizeof(int32) * clu.kept);
		for (int64 r = 0; r < clu.kept; r++)
		{
			double		d2;

			label[r] = mm_kmeans_predict((int) m->k, (int) m->ncols, m->centers,
										 clu.sample + r * m->ncols, &d2);
		}
		silhouette = mm_silhouette(clu.kept, (int) m->ncols, clu.sample, label, (int) m->k,
								   MmPallocAllocator());
		metrics = MmClusteringJsonb(clu.n, clu.inertia, silhouette, NULL);
	}
	else if (m->task == MM_TASK_CLASSIFICATION)
	{
		MmClsMetrics cmet;
		MmClsResult cres;
		int64		unseen = 0;

		MmAlloc		alloc = MmContextAllocator(CurrentMemoryContext);

		/* its buffers grow while SPI is connected: bind them to this context */
		mm_clsmetrics_init(&cmet, m->nclasses, &alloc);
		MmScoreOverSource(m, model, &src, MM_ROWS_ALL, 0, 0, NULL, &cmet, &unseen, NULL);
		if (!mm_clsmetrics_result(&cmet, &cres))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("source \"%s\" has no rows with a label of model \"%s\" to evaluate it on",
							source, model),
					 errdetail(INT64_FORMAT " rows have labels the model never saw.", unseen)));
		metrics = MmClassificationMetricsJsonb(m, &cmet, &cres, NULL);
		if (unseen > 0)
		{
			/* rows of labels the model never saw are counted, not scored */
			Jsonb	   *extra = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																  CStringGetDatum(psprintf("{\"unseen_labels\": " INT64_FORMAT "}", unseen))));

			metrics = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(metrics),
														 JsonbPGetDatum(extra)));
		}
	}
	else
	{
		mm_regmetrics_init(&met);
		MmScoreOverSource(m, model, &src, MM_ROWS_ALL, 0, 0, &met, NULL, NULL, NULL);
		if (!mm_regmetrics_result(&met, &res))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("source \"%s\" has no rows to evaluate model \"%s\" on", source, model)));
		metrics = MmRegressionMetricsJsonb(&res, NULL);
	}

	if (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3))
	{
		MmCatalogCtx cat;
		Oid			argtypes[5] = {INT8OID, INT4OID, TEXTOID, JSONBOID, TEXTOID};
		Datum		values[5];

		MmModelRow	row;

		/*
		 * The source ran as the caller and may have dropped the model or
		 * the version meanwhile: record an evaluation only of a version
		 * that (still) exists, locked until the insert commits.
		 */
		MmCatalogBegin(&cat);
		if (!MmLookupModel(model, &row, true) || row.id != model_id ||
			MmVersionUid(model_id, version, true) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("version %d of model \"%s\" was dropped while it was evaluated", version, model),
					 errdetail("Its evaluation is not recorded.")));
		values[0] = Int64GetDatum(model_id);
		values[1] = Int32GetDatum(version);
		values[2] = CStringGetTextDatum(source);
		values[3] = JsonbPGetDatum(metrics);
		values[4] = CStringGetTextDatum(GetUserNameFromId(cat.save_userid, false));
		if (SPI_execute_with_args("INSERT INTO mm.evaluations (model_id, version, source, metrics, evaluated_by) "
								  "VALUES ($1, $2, $3, $4, $5::name)",
								  5, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "recording the evaluation failed");
		MmCatalogEnd(&cat);
	}
	PG_RETURN_JSONB_P(metrics);
}

/* The K class probabilities of an encoded, scaled row of a classifier. */
void
MmModelProba(const MmModel *m, const double *x, double *proba)
{
	if (m->algorithm == MM_ALG_LOGISTIC_REGRESSION)
		mm_logistic_proba(m->ncols, m->nclasses, m->coefs, m->intercepts, x, proba);
	else if (m->algorithm == MM_ALG_NAIVE_BAYES)
		mm_nb_proba(&m->nb, x, proba);
	else
		mm_model_predict(m, x, proba, MmPredictWork(m));
}

/*
 * The scratch a prediction needs (a network's layers, an ensemble's
 * members), kept for the backend's life and grown when a larger model
 * comes along.
 */
double *
MmPredictWork(const MmModel *m)
{
	static double *work = NULL;
	static size_t len = 0;
	size_t		need = mm_model_work(m);

	if (need > len)
	{
		double	   *w = MemoryContextAllocHuge(TopMemoryContext, sizeof(double) * need);

		if (work)
			pfree(work);
		work = w;
		len = need;
	}
	return work;
}

/* A regression model's value for an encoded, scaled row. */
double
MmModelValue(const MmModel *m, const double *x)
{
	double		v;

	if (m->algorithm != MM_ALG_MLP && m->algorithm != MM_ALG_ENSEMBLE &&
		m->algorithm != MM_ALG_STACKING)
		return mm_linear_predict(m, x);
	mm_model_predict(m, x, &v, MmPredictWork(m));
	return v;
}

/*
 * Classification metrics as jsonb: n, accuracy, precision, recall, f1
 * (macro), log_loss, roc_auc (binary), labels and the confusion matrix
 * (rows the true classes, columns the predicted ones, in label order).
 */
Jsonb *
MmClassificationMetricsJsonb(const MmModel *m, const MmClsMetrics *met,
							 const MmClsResult *r, const char *on)
{
	StringInfoData s;
	const char *keys[] = {"n", "accuracy", "precision", "recall", "f1", "log_loss"};
	double		vals[] = {r->n, r->accuracy, r->precision, r->recall, r->f1, r->log_loss};
	int			K = (int) m->nclasses;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < lengthof(keys); i++)
	{
		appendStringInfo(&s, "%s\"%s\": ", i > 0 ? ", " : "", keys[i]);
		MmAppendJsonNumber(&s, vals[i]);
	}
	if (K == 2)
	{
		appendStringInfoString(&s, ", \"roc_auc\": ");
		MmAppendJsonNumber(&s, r->roc_auc);
	}
	appendStringInfoString(&s, ", \"labels\": [");
	for (int k = 0; k < K; k++)
	{
		if (k > 0)
			appendStringInfoString(&s, ", ");
		escape_json(&s, m->labels[k]);
	}
	appendStringInfoString(&s, "], \"confusion_matrix\": [");
	for (int t = 0; t < K; t++)
	{
		appendStringInfo(&s, "%s[", t > 0 ? ", " : "");
		for (int pcls = 0; pcls < K; pcls++)
		{
			if (pcls > 0)
				appendStringInfoString(&s, ", ");
			MmAppendJsonNumber(&s, met->confusion[t * K + pcls]);
		}
		appendStringInfoChar(&s, ']');
	}
	appendStringInfoChar(&s, ']');
	if (on)
		appendStringInfo(&s, ", \"evaluated_on\": \"%s\"", on);
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}
