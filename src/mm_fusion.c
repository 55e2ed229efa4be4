/*
 * mm_fusion.c
 *	  Models made of models: mm_ensemble (members pinned to versions,
 *	  combined by mean, vote or soft vote) and stacking inside mm_train
 *	  (member configurations refit per fold; a final model fitted on their
 *	  out-of-fold outputs).
 *
 * Both store the members' models inside the new version's blob (see
 * src/core/mm_ensemble.c): versions are immutable, so a copy is the same
 * as a reference, and the ensemble then predicts, exports and survives a
 * member's drop on its own.  That is also why predict privileges are
 * checked on the ensemble only, as a view's are: the role that creates the
 * version must hold predict on every member at that moment.
 */
#include "massmodel.h"
#include "mm_train.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(mm_ensemble);

/*
 * Split a member reference: 'name' (the deployed version) or 'name@N'
 * (version N).  A suffix that is not all digits is part of the name.
 */
static void
MmParseMemberRef(const char *ref, char **name, bool *pinned, int32 *version)
{
	const char *at = strrchr(ref, '@');
	bool		digits = at != NULL && at[1] != '\0' && strlen(at + 1) <= 9;

	for (const char *c = at ? at + 1 : ""; digits && *c; c++)
		digits = *c >= '0' && *c <= '9';
	*pinned = digits && at > ref;
	if (*pinned)
	{
		*name = pnstrdup(ref, at - ref);
		*version = (int32) strtol(at + 1, NULL, 10);
	}
	else
	{
		*name = pstrdup(ref);
		*version = 0;
	}
}

/*
 * The stored params of a version, copied into the caller's context (SPI's
 * own goes with the catalog window).  Catalog window.
 */
static Jsonb *
MmVersionParams(int64 model_id, int32 version)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		isnull;
	Datum		d;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	if (SPI_execute_with_args("SELECT params FROM mm.versions WHERE model_id = $1 AND version = $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "version %d of model " INT64_FORMAT " has no params", version, model_id);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return MmSpiJsonbCopy(d);
}

/*
 * A member: the model version a reference means, decoded, with the
 * caller's predict privilege checked.  *pin receives 'name@version'.
 */
static const MmModel *
MmLoadMember(const char *ref, char **pin, int64 *model_id, int32 *version)
{
	char	   *name;
	bool		pinned;
	int32		v;
	const MmModel *m;

	MmParseMemberRef(ref, &name, &pinned, &v);
	m = MmLoadModel(name, !pinned, v, model_id, version);
	if (m->algorithm == MM_ALG_ENSEMBLE || m->algorithm == MM_ALG_STACKING)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" is %s, which cannot be a member", name,
						m->algorithm == MM_ALG_ENSEMBLE ? "an ensemble" : "a stacking"),
				 errhint("Name its members instead.")));
	if (m->task != MM_TASK_REGRESSION && m->task != MM_TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model, which cannot be a member", name,
						mm_task_name(m->task)),
				 errhint("Members are regression or classification models.")));
	*pin = psprintf("%s@%d", name, *version);
	return m;
}

/* Labels as a JSON-like list, for messages. */
static char *
MmLabelList(const MmModel *m)
{
	StringInfoData s;

	initStringInfo(&s);
	for (uint32 k = 0; k < m->nclasses; k++)
		appendStringInfo(&s, "%s%s", k ? ", " : "", m->labels[k]);
	return s.data;
}

/* Members must share the task and, for classifiers, the labels. */
static void
MmCheckMemberAgrees(const MmModel *first, const char *first_pin, const MmModel *m,
					const char *pin)
{
	bool		same = m->label_type == first->label_type && m->nclasses == first->nclasses;

	if (m->task != first->task)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("member \"%s\" is a %s model, but member \"%s\" is a %s model",
						pin, mm_task_name(m->task), first_pin, mm_task_name(first->task)),
				 errhint("The members of an ensemble share one task.")));
	if (m->task != MM_TASK_CLASSIFICATION)
		return;
	for (uint32 k = 0; same && k < m->nclasses; k++)
		same = strcmp(m->labels[k], first->labels[k]) == 0;
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("member \"%s\" has other labels than member \"%s\"", pin, first_pin),
				 errdetail("Labels of \"%s\": %s; of \"%s\": %s.", pin, MmLabelList(m),
						   first_pin, MmLabelList(first)),
				 errhint("The members of an ensemble predict the same set of labels.")));
}

/* Serialize a model into a new bytea. */
bytea *
MmModelBlob(const MmModel *m, const char *model)
{
	Size		size = mm_blob_size(m);
	bytea	   *blob;
	MmErr		err;
	MmStatus	status;

	if (size == 0)
	{
		/* the writer's own check says why */
		status = mm_blob_write(m, NULL, 0, &err);
		/* a fit that overflowed (the data near the limit of doubles) is no invalid parameter */
		if (strstr(err.msg, "finite") || strstr(err.msg, " inf") || strstr(err.msg, " nan"))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("model \"%s\" cannot be stored: its fit overflows double precision", model),
					 errdetail("The fitted model has values that are not finite (%s).", err.msg),
					 errhint("Scale the features (params.scale), or leave out values near the limit of double precision.")));
		MmReportCoreError(status == MM_OK ? MM_EINVAL : status, &err, model);
	}
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model \"%s\" is too large to store", model)));
	blob = palloc(size + VARHDRSZ);
	SET_VARSIZE(blob, size + VARHDRSZ);
	status = mm_blob_write(m, (uint8_t *) VARDATA(blob), size, &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	return blob;
}

/*
 * mm_ensemble(model, members, method, weights): a new version of model
 * combining the members; returns its number.
 */
Datum
mm_ensemble(PG_FUNCTION_ARGS)
{
	static const char *const methods[] = {"mean", "vote", "soft_vote", "stack"};
	char	   *model;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	char	  **pins;
	MmModel		e;
	int			method = -1;
	MmErr		err;
	MmStatus	status;
	StringInfoData params;
	int32		version;
	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "model" : "members")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MmCheckModelName(model);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("members must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 2 || n > MM_MAX_MEMBERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an ensemble has 2 to %d members, not %d", MM_MAX_MEMBERS, n),
				 errhint("For example: ARRAY['churn_lr', 'churn_mlp@3'].")));

	/* the members, with the caller's predict privilege on each */
	memset(&e, 0, sizeof(e));
	e.algorithm = MM_ALG_ENSEMBLE;
	e.nmembers = n;
	e.members = palloc0(sizeof(MmModel *) * n);
	e.weights = palloc(sizeof(double) * n);
	pins = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		int64		id;
		int32		v;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("members must not contain NULL")));
		e.members[i] = (MmModel *) MmLoadMember(TextDatumGetCString(elems[i]), &pins[i], &id, &v);
		if (i > 0)
			MmCheckMemberAgrees(e.members[0], pins[0], e.members[i], pins[i]);
		e.weights[i] = 1.0;
	}

	/* the method: by default the mean, or the soft vote of a classifier */
	if (PG_ARGISNULL(2))
		method = e.members[0]->task == MM_TASK_REGRESSION ? MM_ENS_MEAN : MM_ENS_SOFT_VOTE;
	else
	{
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(2));

		for (int i = 0; i < lengthof(methods); i++)
			if (strcmp(name, methods[i]) == 0)
				method = i;
		if (method < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown ensemble method \"%s\"", name),
					 errhint("Use 'mean' for regression, 'vote' or 'soft_vote' for classification, or train a stacking.")));
	}
	if (method == MM_ENS_STACK)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a stacked ensemble is trained, not assembled"),
				 errdetail("Its final model is fitted on the members' out-of-fold predictions, which needs training rows."),
				 errhint("Use mm_train(%s, 'stacking', source, target, params => '{\"members\": [...]}').", MmQuoteLiteral(model))));
	if ((method == MM_ENS_MEAN) != (e.members[0]->task == MM_TASK_REGRESSION))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("method \"%s\" does not fit %s members", methods[method],
						mm_task_name(e.members[0]->task)),
				 errhint("%s", e.members[0]->task == MM_TASK_REGRESSION ?
						 "Regression members are combined by 'mean'." :
						 "Classification members are combined by 'vote' or 'soft_vote'.")));
	e.method = (uint8) method;

	/* the weights: equal by default */
	if (!PG_ARGISNULL(3))
	{
		ArrayType  *wa = PG_GETARG_ARRAYTYPE_P(3);
		Datum	   *wd;
		bool	   *wn;
		int			nw;
		double		sum = 0.0;

		deconstruct_array(wa, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &wd, &wn, &nw);
		if (ARR_NDIM(wa) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("weights must be a one-dimensional array"),
					 errhint("Give one weight per member, in the members' order.")));
		if (nw != n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%d weights given for %d members", nw, n),
					 errhint("Give one weight per member, in the members' order.")));
		for (int i = 0; i < n; i++)
		{
			double		w = wn[i] ? NAN : DatumGetFloat8(wd[i]);

			if (!(isfinite(w) && w >= 0.0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("weight %d of member \"%s\" must be a finite number of at least 0, not %s",
								i + 1, pins[i], wn[i] ? "NULL" : psprintf("%g", w))));
			e.weights[i] = w;
			sum += w;
		}
		if (!(sum > 0.0 && isfinite(sum)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the weights of an ensemble must have a positive, finite sum"),
					 errhint("Give at least one member a weight above 0.")));
	}

	/* the schema: the union of the members' features */
	status = mm_ensemble_schema(&e, MmPallocAllocator(), &err);
	if (status == MM_OK)
		status = mm_ensemble_link(&e, MmPallocAllocator(), &err);
	if (status != MM_OK)
	{
		StringInfoData who;

		initStringInfo(&who);
		for (int i = 0; i < n; i++)
			appendStringInfo(&who, "%smember %d is \"%s\"", i ? ", " : "", i + 1, pins[i]);
		ereport(ERROR,
				(errcode(status == MM_ELIMIT ? ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the members of ensemble \"%s\" do not fit together: %s", model, err.msg),
				 errdetail("%s.", who.data),
				 errhint("Members read their features by column name: a column must have one type across them.")));
	}

	initStringInfo(&params);
	appendStringInfo(&params, "{\"method\": \"%s\", \"members\": [", methods[method]);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(&params, ", ");
		escape_json(&params, pins[i]);
	}
	appendStringInfoString(&params, "], \"weights\": ");
	MmAppendJsonNumbers(&params, e.weights, n);
	appendStringInfoChar(&params, '}');

	(void) MmStoreVersion(model, MM_ALG_ENSEMBLE, e.task, MM_DEPLOY_POLICY_ALWAYS,
						  DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data))),
						  MmFeaturesJsonb(&e), e.target,
						  DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))),
						  NAN, 0, MmElapsedMs(start), NULL, 0,
						  MmModelBlob(&e, model), "train", NULL, &version);
	PG_RETURN_INT32(version);
}

/* ---------------------------------------------------------------------
 * Stacking
 * --------------------------------------------------------------------- */

/* Is an algorithm one a stacking can refit as a member or a final model? */
static bool
MmStackable(int algorithm)
{
	return algorithm >= MM_ALG_LINEAR_REGRESSION && algorithm <= MM_ALG_ELASTIC_NET &&
		algorithm != MM_ALG_KMEANS && algorithm != MM_ALG_PCA;
}

/* The task a member configuration fits: 0 for an mlp that leaves it open. */
static int
MmConfigTask(int algorithm, const MmTrainParams *p)
{
	return algorithm == MM_ALG_MLP ? p->task : MmAlgorithmTask(algorithm);
}

/* A JSON string value, or an error naming the key. */
static char *
MmJsonString(const char *key, JsonbValue *v)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A container value as a jsonb of its own. */
static Jsonb *
MmJsonbOf(JsonbValue *v)
{
	return JsonbValueToJsonb(v);
}

/* An algorithm a stacking can use, by name, or an error. */
static int
MmStackAlgorithm(const char *name, const char *what)
{
	int			alg = mm_algorithm_from_name(name);

	if (!MmStackable(alg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is not an algorithm a stacking can fit", what, name),
				 errhint("Use linear_regression, ridge, lasso, elastic_net, logistic_regression, naive_bayes or mlp.")));
	return alg;
}

/*
 * One member of params.members: a model reference ('name' or 'name@N':
 * that version's algorithm and params, refit here; predict on it needed)
 * or an object {"algorithm": ..., "params": {...}}.
 */
static void
MmParseStackMember(JsonbValue *v, MmStackMember *sm)
{
	if (v->type == jbvString)
	{
		char	   *ref = pnstrdup(v->val.string.val, v->val.string.len);
		int64		id;
		int32		version;
		const MmModel *m = MmLoadMember(ref, &sm->pin, &id, &version);
		MmCatalogCtx cat;
		Jsonb	   *params;

		MmCatalogBegin(&cat);
		params = MmVersionParams(id, version);
		MmCatalogEnd(&cat);
		sm->algorithm = m->algorithm;
		MmParseParams(params, m->algorithm, &sm->params);
		if (m->algorithm == MM_ALG_MLP)
			sm->params.task = m->task;
	}
	else if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
	{
		Jsonb	   *obj = MmJsonbOf(v);
		JsonbValue *a = getKeyJsonValueFromContainer(&obj->root, "algorithm", 9, NULL);
		JsonbValue *p = getKeyJsonValueFromContainer(&obj->root, "params", 6, NULL);
		/* "from": where a stored stacking's member came from (mm_retrain passes it back) */
		JsonbValue *from = getKeyJsonValueFromContainer(&obj->root, "from", 4, NULL);

		if (a == NULL || JB_ROOT_COUNT(obj) != 1 + (p != NULL) + (from != NULL))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an inline member of a stacking is an object with \"algorithm\" and optionally \"params\""),
					 errhint("For example: {\"algorithm\": \"ridge\", \"params\": {\"alpha\": 10}}.")));
		sm->pin = from ? MmJsonString("from", from) : NULL;
		sm->algorithm = MmStackAlgorithm(MmJsonString("algorithm", a), "member algorithm");
		MmParseParams(p ? MmJsonbOf(p) : NULL, sm->algorithm, &sm->params);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a member of a stacking is a model name or an object, not %s",
						JsonbToCString(NULL, &MmJsonbOf(v)->root, 0)),
				 errhint("For example: \"members\": [\"churn_lr\", \"churn_mlp@2\", {\"algorithm\": \"naive_bayes\"}].")));
	if (!MmStackable(sm->algorithm))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("member \"%s\" is a %s model, which a stacking cannot refit",
						sm->pin, mm_algorithm_name(sm->algorithm))));
	sm->params.warm_start = false;
	sm->params.verbose = false;
}

/*
 * Parse a stacking's params: members (required), final, final_params, cv,
 * and the common seed, impute, verbose.  Members given as model names are
 * looked up now, with the caller's predict privilege checked.
 */
void
MmParseStacking(Jsonb *params, MmTrainParams *p, MmStack *st)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key;
	StringInfoData common;
	const char *final_name = NULL;

	memset(st, 0, sizeof(*st));
	st->cv = 5;
	initStringInfo(&common);
	appendStringInfoChar(&common, '{');
	if (params == NULL || !JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a stacking needs params with its members"),
				 errhint("For example: params => '{\"members\": [\"model_a\", \"model_b\"], \"final\": \"logistic_regression\"}'.")));
	it = JsonbIteratorInit(&params->root);
	while (MmJsonbNextPair(&it, &key, &v))
	{
		if (strcmp(key, "members") == 0)
		{
			JsonbIterator *mit;
			JsonbValue	e;
			int			n;

			if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"members\" must be an array")));
			n = JsonContainerSize(v.val.binary.data);
			if (n < 2 || n > MM_MAX_MEMBERS)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a stacking has 2 to %d members, not %d", MM_MAX_MEMBERS, n)));
			st->members = palloc0(sizeof(MmStackMember) * n);
			mit = JsonbIteratorInit(v.val.binary.data);
			while ((tok = JsonbIteratorNext(&mit, &e, true)) != WJB_DONE)
				if (tok == WJB_ELEM)
					MmParseStackMember(&e, &st->members[st->nmembers++]);
		}
		else if (strcmp(key, "final") == 0)
			final_name = MmJsonString(key, &v);
		else if (strcmp(key, "final_params") == 0)
		{
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"final_params\" must be an object")));
			st->final_json = MmJsonbOf(&v);
		}
		else if (strcmp(key, "cv") == 0)
		{
			double		d = v.type == jbvNumeric ?
				MmNumericDouble(v.val.numeric) : NAN;

			if (!(d == floor(d) && d >= 2 && d <= 1000))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"cv\" must be an integer from 2 to 1000"),
						 errhint("cv is the number of folds the out-of-fold predictions come from.")));
			st->cv = (int) d;
		}
		else if (strcmp(key, "seed") == 0 || strcmp(key, "impute") == 0 ||
				 strcmp(key, "verbose") == 0)
		{
			if (common.len > 1)
				appendStringInfoString(&common, ", ");
			escape_json(&common, key);
			appendStringInfo(&common, ": %s", JsonbToCString(NULL, &MmJsonbOf(&v)->root, 0));
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown parameter \"%s\" for algorithm \"stacking\"", key),
					 errhint("Parameters of stacking: members, final, final_params, cv, seed, impute, verbose.")));
	}
	if (st->nmembers == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a stacking needs params.members"),
				 errhint("For example: params => '{\"members\": [\"model_a\", \"model_b\"]}'.")));
	appendStringInfoChar(&common, '}');
	MmParseParams(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(common.data))),
				  MM_ALG_STACKING, p);
	p->stack = st;

	/* the task: every member that knows its own must agree */
	for (int i = 0; i < st->nmembers; i++)
	{
		int			t = MmConfigTask(st->members[i].algorithm, &st->members[i].params);

		if (t != 0 && st->task != 0 && t != st->task)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("the members of a stacking mix regression and classification"),
					 errhint("Stack models of one task.")));
		if (t != 0)
			st->task = t;
	}
	if (final_name)
	{
		st->final_alg = MmStackAlgorithm(final_name, "final");
		if (st->final_alg == MM_ALG_MLP)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a stacking's final model cannot be an mlp"),
					 errhint("Use a linear final model: ridge or linear_regression for regression, logistic_regression or naive_bayes for classification.")));
	}
	if (st->task != 0)
		MmStackResolveTask(st, st->task);
	p->task = st->task;
}

/*
 * Settle a stacking's task (known from a member, or from the target's
 * type): open mlp members take it, the final model defaults to ridge or
 * logistic regression and must fit it.
 */
void
MmStackResolveTask(MmStack *st, int task)
{
	st->task = task;
	for (int i = 0; i < st->nmembers; i++)
		if (st->members[i].algorithm == MM_ALG_MLP && st->members[i].params.task == 0)
			st->members[i].params.task = task;
	if (st->final_alg == 0)
		st->final_alg = task == MM_TASK_CLASSIFICATION ? MM_ALG_LOGISTIC_REGRESSION : MM_ALG_RIDGE;
	if (MmAlgorithmTask(st->final_alg) != task)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("final model %s does %s, but the stacking does %s",
						mm_algorithm_name(st->final_alg),
						mm_task_name(MmAlgorithmTask(st->final_alg)), mm_task_name(task)),
				 errhint("%s", task == MM_TASK_CLASSIFICATION ?
						 "Use logistic_regression or naive_bayes." :
						 "Use ridge, linear_regression, lasso or elastic_net.")));
	MmParseParams(st->final_json, st->final_alg, &st->final_params);
	st->final_params.verbose = false;
	st->final_params.warm_start = false;
}

/* The params a stacking version stores: its members, pinned, and its final model. */
Jsonb *
MmStackParamsJsonb(const MmTrainParams *p)
{
	static const char *const imputes[] = {"error", "mean", "median", "most_frequent"};
	const MmStack *st = p->stack;
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"seed\": " INT64_FORMAT ", \"impute\": \"%s\", \"cv\": %d, \"members\": [",
					 p->seed, imputes[p->impute], st->cv);
	for (int i = 0; i < st->nmembers; i++)
	{
		const MmStackMember *sm = &st->members[i];
		Jsonb	   *mp = MmParamsJsonb(sm->algorithm, &sm->params);

		if (i > 0)
			appendStringInfoString(&s, ", ");
		appendStringInfo(&s, "{\"algorithm\": \"%s\", ", mm_algorithm_name(sm->algorithm));
		if (sm->pin)
		{
			appendStringInfoString(&s, "\"from\": ");
			escape_json(&s, sm->pin);
			appendStringInfoString(&s, ", ");
		}
		appendStringInfo(&s, "\"params\": %s}", JsonbToCString(NULL, &mp->root, VARSIZE(mp)));
	}
	appendStringInfo(&s, "], \"final\": \"%s\", \"final_params\": %s}",
					 mm_algorithm_name(st->final_alg),
					 JsonbToCString(NULL, &MmParamsJsonb(st->final_alg, &st->final_params)->root, 0));
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* where a stacking's fit is, for the context of its errors */
typedef struct MmStackWhere
{
	const MmStack *st;
	int			member;
	int			fold;			/* -1: the refit on every training row */
} MmStackWhere;

static void
MmStackErrorContext(void *arg)
{
	MmStackWhere *w = (MmStackWhere *) arg;
	const MmStackMember *sm = &w->st->members[w->member];
	const char *what = sm->pin ? sm->pin : mm_algorithm_name(sm->algorithm);

	if (w->fold < 0)
		errcontext("stacking: refitting member %d (%s) on every training row", w->member + 1, what);
	else
		errcontext("stacking: fitting member %d (%s) on fold %d of %d", w->member + 1, what,
				   w->fold + 1, w->st->cv);
}

/*
 * Fit a stacking into m (its schema and labels set): every member
 * configuration on k-1 folds predicts the k-th (its out-of-fold outputs),
 * the final model is fitted on those outputs, and every member is refit
 * on all nt training rows X (encoded, not scaled; u their split numbers).
 */
void
MmFitStacking(const char *model, const MmStack *st, MmModel *m, const double *X,
			  const double *y, const double *u, int64 nt)
{
	bool		classifier = m->task == MM_TASK_CLASSIFICATION;
	int			k = st->cv;
	uint32		p = m->ncols;
	uint32		width = (!classifier || m->nclasses == 2) ? 1 : m->nclasses;
	uint32		q = width * st->nmembers;
	int32	   *fold;
	double	   *Xtr = palloc_extended(sizeof(double) * nt * Max(p, 1), MCXT_ALLOC_HUGE);
	double	   *ytr = palloc_extended(sizeof(double) * nt, MCXT_ALLOC_HUGE);
	double	   *Xte = palloc_extended(sizeof(double) * nt * Max(p, 1), MCXT_ALLOC_HUGE);
	double	   *yte = palloc_extended(sizeof(double) * nt, MCXT_ALLOC_HUGE);
	double	   *Z = palloc_extended(sizeof(double) * nt * q, MCXT_ALLOC_HUGE);
	double	   *out = palloc(sizeof(double) * Max(m->nclasses, 1));
	MmModel    *fin;
	MemoryContext fitcxt;
	MemoryContext old;
	MmStackWhere where;
	ErrorContextCallback cb;
	MmErr		err;
	MmStatus	status;

	MmCheckFolds(model, m, y, nt, k);
	fold = MmFolds(u, y, nt, classifier, k);
	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "massmodel stacking fit",
								   ALLOCSET_DEFAULT_SIZES);
	m->algorithm = MM_ALG_STACKING;
	m->method = MM_ENS_STACK;
	m->nmembers = st->nmembers;
	m->members = palloc0(sizeof(MmModel *) * st->nmembers);
	m->weights = palloc(sizeof(double) * st->nmembers);
	m->scale = MM_SCALE_NONE;

	where.st = st;
	cb.callback = MmStackErrorContext;
	cb.arg = &where;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	for (int j = 0; j < st->nmembers; j++)
	{
		const MmStackMember *sm = &st->members[j];
		MmModel    *mem;

		where.member = j;
		for (int f = 0; f < k; f++)
		{
			MmModel		fm = *m;
			int64		ntr;
			int64		nte;
			int64		t = 0;

			where.fold = f;
			MmFoldSplit(X, y, fold, f, nt, p, Xtr, ytr, &ntr, Xte, yte, &nte);
			old = MemoryContextSwitchTo(fitcxt);
			fm.nmembers = 0;
			fm.members = NULL;
			MmFitFold(model, sm->algorithm, &sm->params, &fm, Xtr, ytr, ntr, Xte, nte);
			for (int64 r = 0; r < nt; r++)
			{
				double	   *z = Z + r * q + j * width;

				if (fold[r] != f)
					continue;
				if ((t & 0xFFFF) == 0)
					CHECK_FOR_INTERRUPTS();
				mm_model_predict(&fm, Xte + t++ * p, out, MmPredictWork(&fm));
				if (width == 1)
					z[0] = classifier ? out[1] : out[0];
				else
					memcpy(z, out, sizeof(double) * width);
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(fitcxt);
		}

		/* the member itself: refit on every training row */
		where.fold = -1;
		mem = palloc(sizeof(MmModel));
		*mem = *m;
		mem->nmembers = 0;
		mem->members = NULL;
		mem->weights = NULL;
		memcpy(Xtr, X, sizeof(double) * nt * p);
		MmFitFold(model, sm->algorithm, &sm->params, mem, Xtr, y, nt, NULL, 0);
		m->members[j] = mem;
		m->weights[j] = 1.0;
	}
	error_context_stack = cb.previous;
	MemoryContextDelete(fitcxt);

	/* the final model, on the out-of-fold outputs */
	fin = palloc0(sizeof(MmModel));
	fin->task = m->task;
	fin->target = m->target;
	fin->label_type = m->label_type;
	fin->nclasses = m->nclasses;
	fin->labels = m->labels;
	fin->nfeatures = fin->ncols = q;
	fin->features = palloc0(sizeof(MmFeature) * q);
	for (uint32 i = 0; i < q; i++)
	{
		fin->features[i].kind = MM_FEAT_NUMERIC;
		fin->features[i].width = 1;
		fin->features[i].name = width == 1 ? psprintf("member%u", i + 1) :
			psprintf("member%u_p%u", i / width + 1, i % width + 1);
	}
	MmFitFold(model, st->final_alg, &st->final_params, fin, Z, y, nt, NULL, 0);
	m->final = fin;
	status = mm_ensemble_link(m, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	pfree(Xtr);
	pfree(Xte);
	pfree(ytr);
	pfree(yte);
	pfree(Z);
}
