/*
 * mm_train.c
 *	  mm_train: read a source as the caller, fit, score, store a version,
 *	  apply the deploy policy.
 *
 * Data flow:
 *	 1. check arguments and params; check the train privilege on an
 *		existing model before any data are read;
 *	 2. describe the source and classify the target and feature columns;
 *	 3. one scan through the aggregate mm_linear_stats (parallel-safe):
 *		co-moments of the training rows and the held-out rows themselves;
 *	 4. solve in the core, score the held-out rows (a second pass only when
 *		they did not fit in mm.max_train_memory, or when nothing was held
 *		out and the metrics are taken on the training rows);
 *	 5. as the catalog owner: create or lock the model row, take the next
 *		version number, insert the version, apply the deploy policy.
 * Everything happens in the caller's transaction: an error anywhere leaves
 * the catalog as it was, and concurrent trains of one model serialise on
 * the model row only for step 5, getting versions n and n+1.
 */
#include "massmodel.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/json.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(mm_train);

typedef enum MmDeployPolicy
{
	MM_DEPLOY_ALWAYS,
	MM_DEPLOY_NEVER,
	MM_DEPLOY_IF_BETTER
} MmDeployPolicy;

typedef struct MmTrainParams
{
	int64		seed;
	bool		fit_intercept;
	double		alpha;
	bool		verbose;
} MmTrainParams;

/* algorithms of the contract that this version does not implement yet */
static const char *const mm_planned_algorithms[] = {
	"lasso", "elastic_net", "logistic_regression", "naive_bayes", "mlp",
	"kmeans", "pca", "decision_tree", "random_forest", "gradient_boosting"
};

/* A jsonb value's type, for messages. */
static const char *
MmJsonbTypeName(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		default:
			return "array or object";
	}
}

/* A finite number from a jsonb value, or an error naming the parameter. */
static double
MmParamNumber(const char *key, const JsonbValue *v)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a number, not a %s", key, MmJsonbTypeName(v))));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be finite", key)));
	return d;
}

/* A boolean from a jsonb value. */
static bool
MmParamBool(const char *key, const JsonbValue *v)
{
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a boolean, not a %s", key, MmJsonbTypeName(v))));
	return v->val.boolean;
}

/*
 * Parse params for an algorithm: defaults, then the given keys.  Unknown
 * keys and wrongly typed values are errors that name the key.
 */
static void
MmParseParams(Jsonb *params, int algorithm, MmTrainParams *p)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	const char *algname = mm_algorithm_name(algorithm);

	p->seed = 42;
	p->fit_intercept = true;
	p->alpha = 1.0;
	p->verbose = false;

	if (params == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object"),
				 errhint("For example: '{\"alpha\": 0.5}'.")));

	it = JsonbIteratorInit(&params->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);

		if (strcmp(key, "seed") == 0)
		{
			double		d = MmParamNumber(key, &v);

			if (d != floor(d) || fabs(d) > 9007199254740992.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"seed\" must be an integer, not %g", d)));
			p->seed = (int64) d;
		}
		else if (strcmp(key, "verbose") == 0)
			p->verbose = MmParamBool(key, &v);
		else if (strcmp(key, "fit_intercept") == 0)
			p->fit_intercept = MmParamBool(key, &v);
		else if (strcmp(key, "alpha") == 0 && algorithm == MM_ALG_RIDGE)
		{
			p->alpha = MmParamNumber(key, &v);
			if (p->alpha < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"alpha\" must be at least 0, not %g", p->alpha)));
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown parameter \"%s\" for algorithm \"%s\"", key, algname),
					 errhint("Parameters of %s: %s.", algname,
							 algorithm == MM_ALG_RIDGE ?
							 "alpha, fit_intercept, seed, verbose" :
							 "fit_intercept, seed, verbose")));
	}
	if (algorithm != MM_ALG_RIDGE)
		p->alpha = 0.0;
}

/* The params actually used, defaults included, as stored on the version. */
static Jsonb *
MmParamsJsonb(int algorithm, const MmTrainParams *p)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	if (algorithm == MM_ALG_RIDGE)
	{
		appendStringInfoString(&s, "\"alpha\": ");
		MmAppendJsonNumber(&s, p->alpha);
		appendStringInfoString(&s, ", ");
	}
	appendStringInfo(&s, "\"fit_intercept\": %s, \"seed\": " INT64_FORMAT "}",
					 p->fit_intercept ? "true" : "false", p->seed);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* The feature schema as jsonb, for mm_versions. */
static Jsonb *
MmFeaturesJsonb(const MmModel *m)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		if (i > 0)
			appendStringInfoString(&s, ", ");
		appendStringInfoString(&s, "{\"name\": ");
		escape_json(&s, m->features[i].name);
		appendStringInfo(&s, ", \"kind\": \"%s\", \"width\": %u}",
						 m->features[i].kind == MM_FEAT_ARRAY ? "array" : "numeric",
						 m->features[i].width);
	}
	appendStringInfoChar(&s, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* Milliseconds since start. */
static double
MmElapsedMs(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_MILLISEC(now);
}

/*
 * A receiver for the one row of the training scan: it flattens the
 * aggregate's state (an expanded object) straight into the caller's
 * context, so the rows it holds are copied once and no result tuple is
 * formed around them.
 */
typedef struct MmStateReceiver
{
	DestReceiver pub;
	MemoryContext cxt;
	bytea	   *state;
	int64		rows;
} MmStateReceiver;

/* Keep a flat, aligned copy of the state of the row received. */
static bool
MmStateReceive(TupleTableSlot *slot, DestReceiver *self)
{
	MmStateReceiver *r = (MmStateReceiver *) self;
	bool		isnull;
	Datum		d = slot_getattr(slot, 1, &isnull);

	if (r->rows++ > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the training scan returned more than one row")));
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);

		r->state = (bytea *) pg_detoast_datum_copy((struct varlena *) DatumGetPointer(d));
		MemoryContextSwitchTo(old);
	}
	return true;
}

/* Nothing to set up or tear down. */
static void
MmStateStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
MmStateShutdown(DestReceiver *self)
{
}

/*
 * Run mm_linear_stats over the source as the caller and return a private,
 * aligned copy of the state (NULL when the source has no rows).
 */
static bytea *
MmScanLinearStats(const char *extschema, const MmSource *src,
				  const MmSourceCol *target, const MmSourceCol *cols, int ncols,
				  const MmTrainParams *p, double test_fraction)
{
	StringInfoData sql;
	Datum	   *names = palloc(sizeof(Datum) * (ncols + 1));
	Oid			types[4] = {INT8OID, FLOAT8OID, INT8OID, TEXTARRAYOID};
	Datum		values[4];
	ParamListInfo params = makeParamList(4);
	SPIExecuteOptions options;
	MmStateReceiver receiver;
	int			ret;

	names[0] = CStringGetTextDatum(target->name);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.mm_linear_stats($1, $2, $3, $4, %s",
					 quote_identifier(extschema), MmColumnExpr(target));
	for (int i = 0; i < ncols; i++)
	{
		appendStringInfo(&sql, ", %s", MmColumnExpr(&cols[i]));
		names[i + 1] = CStringGetTextDatum(cols[i].name);
	}
	appendStringInfo(&sql, ") FROM %s", src->from_sql);

	values[0] = Int64GetDatum(p->seed);
	values[1] = Float8GetDatum(test_fraction);
	values[2] = Int64GetDatum((int64) mm_max_train_memory_kb * 1024);
	values[3] = PointerGetDatum(construct_array(names, ncols + 1, TEXTOID, -1, false, TYPALIGN_INT));
	for (int i = 0; i < 4; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}

	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = MmStateReceive;
	receiver.pub.rStartup = MmStateStartup;
	receiver.pub.rShutdown = MmStateShutdown;
	receiver.pub.rDestroy = MmStateShutdown;
	receiver.pub.mydest = DestNone;
	receiver.cxt = CurrentMemoryContext;

	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = (DestReceiver *) &receiver;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_extended(sql.data, &options);
	/* SPI reports a SELECT into a DestNone receiver as SPI_OK_UTILITY */
	if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
		elog(ERROR, "reading the training rows failed: %s", SPI_result_code_string(ret));
	SPI_finish();
	return receiver.state;
}

/* Build the model's feature schema from the classified columns. */
static void
MmBuildSchema(MmModel *m, const char *target, const MmSourceCol *cols,
			  int ncols, const MmLinStats *st)
{
	m->target = pstrdup(target);
	m->nfeatures = ncols;
	m->features = palloc0(sizeof(MmFeature) * ncols);
	m->ncols = 0;
	for (int i = 0; i < ncols; i++)
	{
		m->features[i].name = cols[i].name;
		m->features[i].kind = cols[i].kind == MM_COL_ARRAY ? MM_FEAT_ARRAY : MM_FEAT_NUMERIC;
		m->features[i].width = st->widths[i];
		m->ncols += st->widths[i];
	}
}

/* The caller may add a version of this algorithm to the model. */
static void
MmCheckTrainable(const char *model, const MmModelRow *row, const char *algname,
				 Oid caller)
{
	MmCheckPrivilege(model, row, MM_PRIV_TRAIN, caller);
	if (strcmp(row->task, "regression") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model, but %s is a regression algorithm",
						model, row->task, algname),
				 errhint("Train it under another model name.")));
}

/* Insert the version row.  Catalog window. */
static void
MmInsertVersion(int64 model_id, int32 version, const char *algname,
				Jsonb *params, Jsonb *features, const char *target,
				Jsonb *metrics, int64 n_train, Oid caller, double train_ms,
				const char *source, double test_fraction, bytea *blob)
{
	Oid			argtypes[13] = {INT8OID, INT4OID, TEXTOID, JSONBOID, JSONBOID, TEXTOID,
	JSONBOID, INT8OID, TEXTOID, FLOAT8OID, TEXTOID, FLOAT8OID, BYTEAOID};
	Datum		values[13];
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(algname);
	values[3] = JsonbPGetDatum(params);
	values[4] = JsonbPGetDatum(features);
	values[5] = CStringGetTextDatum(target);
	values[6] = JsonbPGetDatum(metrics);
	values[7] = Int64GetDatum(n_train);
	values[8] = CStringGetTextDatum(GetUserNameFromId(caller, false));
	values[9] = Float8GetDatum(train_ms);
	values[10] = CStringGetTextDatum(source);
	values[11] = Float8GetDatum(test_fraction);
	values[12] = PointerGetDatum(blob);
	ret = SPI_execute_with_args("INSERT INTO mm.versions (model_id, version, algorithm, params, features, "
								"target, metrics, n_train, trained_by, train_ms, source, test_fraction, blob) "
								"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::name, $10, $11, $12, $13)",
								13, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting a model version failed: %s", SPI_result_code_string(ret));
}

/* The primary metric (rmse) stored on a version, or NaN.  Catalog window. */
static double
MmStoredRmse(int64 model_id, int32 version)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		isnull;
	Datum		d;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	/* a fresh snapshot: the deployed version may have changed while we waited */
	if (SPI_execute_with_args("SELECT (metrics->>'rmse')::float8 FROM mm.versions "
							  "WHERE model_id = $1 AND version = $2",
							  2, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading stored metrics failed");
	if (SPI_processed == 0)
		return NAN;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NAN : DatumGetFloat8(d);
}

/*
 * Store the version and apply the deploy policy, as the catalog owner.
 * Returns whether the new version was deployed.
 */
static bool
MmStoreVersion(const char *model, const char *algname, MmDeployPolicy policy,
			   Jsonb *params, Jsonb *features, const char *target,
			   Jsonb *metrics, double rmse, int64 n_train, double train_ms,
			   const char *source, double test_fraction, bytea *blob,
			   int32 *version_out)
{
	MmCatalogCtx cat;
	MmModelRow	row;
	Oid			argtypes[3] = {TEXTOID, OIDOID, INT8OID};
	Datum		values[3];
	int32		version;
	bool		deploy = false;
	char	   *reason = NULL;

	MmCatalogBegin(&cat);
	values[0] = CStringGetTextDatum(model);
	values[1] = ObjectIdGetDatum(cat.save_userid);
	if (SPI_execute_with_args("INSERT INTO mm.models (name, owner, task) "
							  "VALUES ($1, $2::regrole, 'regression') ON CONFLICT (name) DO NOTHING",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "creating model \"%s\" failed", model);
	MmGetModel(model, &row, true);
	/* the model may have been created by another role meanwhile */
	MmCheckTrainable(model, &row, algname, cat.save_userid);

	version = row.latest_version + 1;
	argtypes[1] = INT4OID;
	values[0] = Int64GetDatum(row.id);
	values[1] = Int32GetDatum(version);
	argtypes[0] = INT8OID;
	if (SPI_execute_with_args("UPDATE mm.models SET latest_version = $2, updated_at = now() WHERE id = $1",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "updating model \"%s\" failed", model);
	MmInsertVersion(row.id, version, algname, params, features, target, metrics,
					n_train, cat.save_userid, train_ms, source, test_fraction, blob);

	if (row.deployed_version <= 0)
	{
		deploy = true;
		reason = "first version";
	}
	else if (policy == MM_DEPLOY_ALWAYS)
	{
		deploy = true;
		reason = "always";
	}
	else if (policy == MM_DEPLOY_IF_BETTER)
	{
		double		old = MmStoredRmse(row.id, row.deployed_version);

		/* better means better beyond rounding: identical fits do not churn */
		if (isnan(old) || rmse < old * (1.0 - 1e-9))
		{
			deploy = true;
			reason = isnan(old) ?
				psprintf("if_better: version %d has no rmse", row.deployed_version) :
				psprintf("if_better: rmse %.6g < %.6g of version %d", rmse, old, row.deployed_version);
		}
	}
	if (deploy)
	{
		MmSetDeployed(row.id, version);
		MmRecordDeployment(row.id, version, "deploy", reason, cat.save_userid);
	}
	MmCatalogEnd(&cat);
	*version_out = version;
	return deploy;
}

/* Score the held-out rows kept by the aggregate. */
static void
MmScoreKept(const MmModel *m, const MmLinStats *st, MmRegMetrics *met)
{
	for (int64 i = 0; i < st->heldout_kept; i++)
	{
		const double *row = st->heldout + (Size) i * st->d;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		mm_regmetrics_add(met, row[0], mm_linear_predict(m, row + 1));
	}
}

/*
 * mm_train(model, algorithm, source, target, features, params,
 *			test_fraction, deploy)
 */
Datum
mm_train(PG_FUNCTION_ARGS)
{
	char	   *model;
	char	   *algname;
	char	   *source;
	char	   *target;
	Jsonb	   *params = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	double		test_fraction;
	char	   *deploy_arg;
	MmDeployPolicy policy;
	int			algorithm;
	MmTrainParams p;
	instr_time	start;
	MmCatalogCtx cat;
	MmModelRow	row;
	MmSource	src;
	MmSourceCol tcol;
	MmSourceCol *cols;
	int			ncols = 0;
	int			attno;
	char	   *extschema;
	bytea	   *state;
	MmLinStats	st;
	MmModel		m;
	MmLinearParams lp;
	MmLinearFit info;
	MmErr		err;
	MmStatus	status;
	MmRegMetrics met;
	MmRegResult res;
	const char *on;
	Size		blobsize;
	bytea	   *blob;
	Jsonb	   *metrics;
	int32		version;
	bool		deployed;
	int64		nparams;
	Datum		outv[4];
	bool		outn[4] = {false, false, false, false};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	INSTR_TIME_SET_CURRENT(start);
	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", i == 0 ? "model" : i == 1 ? "algorithm" : "source")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	algname = text_to_cstring(PG_GETARG_TEXT_PP(1));
	source = text_to_cstring(PG_GETARG_TEXT_PP(2));
	target = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	MmCheckModelName(model);

	algorithm = mm_algorithm_from_name(algname);
	if (algorithm == 0)
	{
		for (int i = 0; i < lengthof(mm_planned_algorithms); i++)
			if (strcmp(algname, mm_planned_algorithms[i]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("algorithm \"%s\" is not available in this version of massmodel", algname),
						 errhint("Available algorithms: linear_regression, ridge.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", algname),
				 errhint("Available algorithms: linear_regression, ridge.")));
	}

	if (PG_ARGISNULL(6))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("test_fraction must not be NULL")));
	test_fraction = PG_GETARG_FLOAT8(6);
	if (!(test_fraction >= 0.0 && test_fraction < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_fraction must be at least 0 and less than 1, not %g", test_fraction)));

	if (PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deploy must not be NULL"),
				 errhint("Use 'always', 'never' or 'if_better'.")));
	deploy_arg = text_to_cstring(PG_GETARG_TEXT_PP(7));
	if (strcmp(deploy_arg, "always") == 0)
		policy = MM_DEPLOY_ALWAYS;
	else if (strcmp(deploy_arg, "never") == 0)
		policy = MM_DEPLOY_NEVER;
	else if (strcmp(deploy_arg, "if_better") == 0)
		policy = MM_DEPLOY_IF_BETTER;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid deploy policy \"%s\"", deploy_arg),
				 errhint("Use 'always', 'never' or 'if_better'.")));

	MmParseParams(params, algorithm, &p);
	if (target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" needs a target column", algname),
				 errhint("Name the column to predict with target => 'column'.")));

	/* an existing model: check the privilege before reading any data */
	MmCatalogBegin(&cat);
	if (MmLookupModel(model, &row, false))
		MmCheckTrainable(model, &row, algname, cat.save_userid);
	MmCatalogEnd(&cat);

	/* the source and its columns, as the caller */
	MmOpenSource(source, &src);
	attno = MmFindColumn(&src, target);
	if (attno == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("target column \"%s\" does not exist in source \"%s\"", target, source)));
	MmClassifyColumn(&src, attno, true, &tcol);

	cols = palloc0(sizeof(MmSourceCol) * (src.tupdesc->natts + 1));
	if (PG_ARGISNULL(4))
	{
		for (int i = 0; i < src.tupdesc->natts; i++)
		{
			if (TupleDescAttr(src.tupdesc, i)->attisdropped || i + 1 == attno)
				continue;
			MmClassifyColumn(&src, i + 1, false, &cols[ncols++]);
		}
	}
	else
	{
		ArrayType  *fa = PG_GETARG_ARRAYTYPE_P(4);
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		/* each accepted name is a distinct column: ncols <= natts */
		deconstruct_array(fa, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			char	   *name;
			int			a;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("features must not contain NULL")));
			name = TextDatumGetCString(elems[i]);
			a = MmFindColumn(&src, name);
			if (a == 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" does not exist in source \"%s\"", name, source)));
			if (a == attno)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" is the target and cannot also be a feature", name)));
			for (int j = 0; j < ncols; j++)
				if (strcmp(cols[j].name, name) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_COLUMN),
							 errmsg("column \"%s\" appears twice in features", name)));
			MmClassifyColumn(&src, a, false, &cols[ncols++]);
		}
	}
	if (ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has no feature columns besides the target \"%s\"", source, target)));
	if (ncols > MM_MAX_FEATURE_ARGS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d feature columns are too many for one train", ncols),
				 errdetail("mm_train reads at most %d feature columns.", MM_MAX_FEATURE_ARGS),
				 errhint("Pack columns into an array in a query source: SELECT ARRAY[a, b, c] AS x, y FROM t.")));

	/* one scan: training co-moments and held-out rows */
	extschema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	state = MmScanLinearStats(extschema, &src, &tcol, cols, ncols, &p, test_fraction);
	if (state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" has no rows", source),
				 errhint("A model is trained on at least as many rows as it has parameters.")));
	MmLinStateUnpack(state, &st);
	if (st.nargs != ncols)
		elog(ERROR, "the training scan returned statistics of %d columns, not %d",
			 st.nargs, ncols);
	if (p.verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": read %.0f training and " INT64_FORMAT " held-out rows%s",
						model, st.n, st.heldout_n,
						st.heldout_complete ? "" :
						"; the held-out rows exceed mm.max_train_memory and are scored in a second pass"),
				 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));

	nparams = (st.d - 1) + (p.fit_intercept ? 1 : 0);
	if (st.n < nparams)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" needs at least " INT64_FORMAT " training rows, but got %.0f",
						model, nparams, st.n),
				 errdetail("%s with %d encoded features has " INT64_FORMAT " parameters; " INT64_FORMAT " of the source's %.0f rows were held out (test_fraction %g).",
						   algname, st.d - 1, nparams, st.heldout_n, st.n + st.heldout_n, test_fraction),
				 errhint("Add rows, use fewer features, or lower test_fraction.")));

	/* fit */
	memset(&m, 0, sizeof(m));
	m.algorithm = algorithm;
	m.task = MM_TASK_REGRESSION;
	MmBuildSchema(&m, tcol.name, cols, ncols, &st);
	m.fit_intercept = p.fit_intercept;
	m.alpha = p.alpha;
	m.coef = palloc0(sizeof(double) * m.ncols);
	lp.fit_intercept = p.fit_intercept;
	lp.alpha = p.alpha;
	MmSetBlasThreads();
	status = mm_linear_fit(m.ncols, st.n, st.mean, st.C, &lp, m.coef, &m.intercept,
						   &info, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	if (info.used_fallback)
		ereport(NOTICE,
				(errmsg("the training data of model \"%s\" are rank-deficient (rank %d of %u)",
						model, info.rank, m.ncols),
				 errdetail("The minimum-norm least-squares solution was used."),
				 errhint("Look for constant or collinear features.")));

	/* score */
	mm_regmetrics_init(&met);
	if (st.heldout_n > 0)
	{
		on = "heldout";
		if (st.heldout_complete)
			MmScoreKept(&m, &st, &met);
		else
			MmRegressionOverSource(&m, model, &src, MM_ROWS_HELDOUT, (uint64) p.seed,
								   test_fraction, &met);
	}
	else
	{
		on = "train";
		MmRegressionOverSource(&m, model, &src, MM_ROWS_ALL, 0, 0, &met);
	}
	if (!mm_regmetrics_result(&met, &res))
	{
		/* nothing scored (a source that changed between passes): no metric */
		res.n = 0;
		res.mse = res.rmse = res.mae = res.r2 = res.explained_variance = NAN;
	}
	metrics = MmRegressionMetricsJsonb(&res, on);

	/* serialize */
	blobsize = mm_blob_size(&m);
	if (blobsize == 0 || blobsize > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model \"%s\" is too large to store", model)));
	blob = palloc(blobsize + VARHDRSZ);
	SET_VARSIZE(blob, blobsize + VARHDRSZ);
	status = mm_blob_write(&m, (uint8_t *) VARDATA(blob), blobsize, &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);

	deployed = MmStoreVersion(model, algname, policy, MmParamsJsonb(algorithm, &p),
							  MmFeaturesJsonb(&m), tcol.name, metrics, res.rmse,
							  (int64) st.n, MmElapsedMs(start), source, test_fraction,
							  blob, &version);
	if (p.verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": version %d stored%s", model, version,
						deployed ? " and deployed" : ""),
				 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));

	/* the result row */
	InitMaterializedSRF(fcinfo, 0);
	outv[0] = CStringGetTextDatum(model);
	outv[1] = Int32GetDatum(version);
	outv[2] = JsonbPGetDatum(metrics);
	outv[3] = BoolGetDatum(deployed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, outv, outn);
	return (Datum) 0;
}
