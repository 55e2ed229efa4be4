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
#include "mm_train.h"

#include <float.h>
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


/* algorithms of the contract that this version does not implement yet */
static const char *const mm_planned_algorithms[] = {
	"decision_tree", "random_forest", "gradient_boosting"
};

#define MM_AVAILABLE_ALGORITHMS "linear_regression, ridge, lasso, elastic_net, logistic_regression, naive_bayes, kmeans, pca, mlp, stacking"

/* the params each algorithm takes (bit 1 << algorithm) */
#define MM_P_LIN	(1 << MM_ALG_LINEAR_REGRESSION)
#define MM_P_RIDGE	(1 << MM_ALG_RIDGE)
#define MM_P_LOG	(1 << MM_ALG_LOGISTIC_REGRESSION)
#define MM_P_NB		(1 << MM_ALG_NAIVE_BAYES)
#define MM_P_KM		(1 << MM_ALG_KMEANS)
#define MM_P_PCA	(1 << MM_ALG_PCA)
#define MM_P_MLP	(1 << MM_ALG_MLP)
#define MM_P_LASSO	(1 << MM_ALG_LASSO)
#define MM_P_EN		(1 << MM_ALG_ELASTIC_NET)
#define MM_P_CD		(MM_P_LASSO | MM_P_EN)
#define MM_P_STACK	(1 << MM_ALG_STACKING)
#define MM_P_ALL	(MM_P_LIN | MM_P_RIDGE | MM_P_LOG | MM_P_NB | MM_P_KM | MM_P_PCA | MM_P_MLP | MM_P_CD)

static const struct
{
	const char *key;
	int			algorithms;
}			mm_param_keys[] = {
	{"C", MM_P_LOG},
	{"activation", MM_P_MLP},
	{"batch_size", MM_P_MLP},
	{"dropout", MM_P_MLP},
	{"early_stopping", MM_P_MLP},
	{"epochs", MM_P_MLP},
	{"hidden_layers", MM_P_MLP},
	{"learning_rate", MM_P_MLP},
	{"momentum", MM_P_MLP},
	{"optimizer", MM_P_MLP},
	{"patience", MM_P_MLP},
	{"task", MM_P_MLP},
	{"validation_fraction", MM_P_MLP},
	{"weight_decay", MM_P_MLP},
	{"alpha", MM_P_RIDGE | MM_P_NB | MM_P_CD},
	{"fit_intercept", MM_P_LIN | MM_P_RIDGE | MM_P_LOG | MM_P_CD},
	{"impute", MM_P_ALL | MM_P_STACK},
	{"init", MM_P_KM},
	{"k", MM_P_KM},
	{"l1_ratio", MM_P_EN},
	{"max_iter", MM_P_LOG | MM_P_KM | MM_P_CD},
	{"n_components", MM_P_PCA},
	{"n_init", MM_P_KM},
	{"penalty", MM_P_LOG},
	{"scale", MM_P_ALL},
	{"seed", MM_P_ALL | MM_P_STACK},
	{"tol", MM_P_LOG | MM_P_KM | MM_P_CD},
	{"var_smoothing", MM_P_NB},
	{"verbose", MM_P_ALL | MM_P_STACK},
	{"warm_start", MM_P_LOG | MM_P_MLP},
	{"whiten", MM_P_PCA},
};

/*
 * Does a target column's type make an mlp a classifier by default (text,
 * varchar, char, name, boolean, enum)?  Numbers, integers included, make
 * it a regression unless params.task says otherwise.
 */
static bool
MmTargetIsCategorical(const MmSource *src, int attno)
{
	Oid			typid = getBaseType(TupleDescAttr(src->tupdesc, attno - 1)->atttypid);

	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case BOOLOID:
			return true;
		default:
			return get_typtype(typid) == TYPTYPE_ENUM;
	}
}

/* Is an algorithm a classifier? */
static inline bool
MmIsClassifier(int algorithm)
{
	return algorithm == MM_ALG_LOGISTIC_REGRESSION || algorithm == MM_ALG_NAIVE_BAYES;
}

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
	d = MmNumericDouble(v->val.numeric);
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

/* One of a fixed set of strings from a jsonb value: its index. */
static int
MmParamChoice(const char *key, const JsonbValue *v, const char *const *choices,
			  int nchoices, const char *list)
{
	char	   *str;

	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be a string, not a %s", key, MmJsonbTypeName(v)),
				 errhint("Use one of %s.", list)));
	str = pnstrdup(v->val.string.val, v->val.string.len);
	for (int i = 0; i < nchoices; i++)
		if (choices[i] && strcmp(str, choices[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for parameter \"%s\"", str, key),
			 errhint("Use one of %s.", list)));
	return -1;					/* not reached */
}

/* An integer in [lo, hi], or an error naming the parameter. */
static int
MmParamInt(const char *key, const JsonbValue *v, int lo, int hi)
{
	double		d = MmParamNumber(key, v);

	/* the value as given: %g would round 1000001 into the range's "1e+06" */
	if (d != floor(d) || d < lo || d > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be an integer from %d to %d, not %s", key, lo, hi,
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric))))));
	return (int) d;
}

/* hidden_layers: an array of 0 to MM_MLP_MAX_LAYERS layer widths. */
static void
MmParamLayers(const JsonbValue *v, MmMlpParams *mp)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"hidden_layers\" must be an array of layer widths, not a %s",
						MmJsonbTypeName(v)),
				 errhint("For example: '{\"hidden_layers\": [64, 32]}'.")));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (n == MM_MLP_MAX_LAYERS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"hidden_layers\" has more than %d layers", MM_MLP_MAX_LAYERS)));
		mp->hidden[n++] = MmParamInt("hidden_layers", &e, 1, 100000);
	}
	mp->nhidden = n;
}

/* A positive number, or an error naming the parameter. */
static double
MmParamPositive(const char *key, const JsonbValue *v, bool zero_ok)
{
	double		d = MmParamNumber(key, v);

	if (d < 0 || (!zero_ok && d == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be %s 0, not %g", key,
						zero_ok ? "at least" : "greater than", d)));
	return d;
}

/*
 * Parse params for an algorithm: defaults, then the given keys.  Unknown
 * keys and wrongly typed values are errors that name the key.
 */
void
MmParseParams(Jsonb *params, int algorithm, MmTrainParams *p)
{
	static const char *const scales[] = {"none", "standard", "minmax"};
	static const char *const imputes[] = {"error", "mean", "median", "most_frequent"};
	static const char *const penalties[] = {"none", NULL, "l2"};
	static const char *const inits[] = {"kmeans++", "random"};
	static const char *const activations[] = {"relu", "tanh", "sigmoid"};
	static const char *const optimizers[] = {"sgd", "adam"};
	static const char *const tasks[] = {"regression", "classification"};
	JsonbIterator *it;
	JsonbValue	v;
	char	   *key;
	const char *algname = mm_algorithm_name(algorithm);

	p->seed = 42;
	p->verbose = false;
	p->scale = algorithm == MM_ALG_LOGISTIC_REGRESSION ? MM_SCALE_STANDARD : MM_SCALE_NONE;	/* mlp: below */
	p->impute = MM_IMPUTE_ERROR;
	p->fit_intercept = true;
	p->alpha = algorithm == MM_ALG_LINEAR_REGRESSION ? 0.0 : 1.0;
	p->penalty = 2;
	p->C = 1.0;
	p->max_iter = algorithm == MM_ALG_KMEANS ? 300 :
		algorithm == MM_ALG_LASSO || algorithm == MM_ALG_ELASTIC_NET ? 10000 : 100;
	p->tol = algorithm == MM_ALG_KMEANS ? 1e-4 : 1e-8;
	p->l1_ratio = algorithm == MM_ALG_LASSO ? 1.0 : 0.5;
	p->var_smoothing = 1e-9;
	p->k = 8;
	p->init = 0;
	p->n_init = 10;
	p->n_components = 0;
	p->whiten = false;
	memset(&p->mlp, 0, sizeof(p->mlp));
	p->mlp.nhidden = 1;
	p->mlp.hidden[0] = 100;
	p->mlp.activation = 0;
	p->mlp.optimizer = 1;
	p->mlp.learning_rate = 0.001;
	p->mlp.momentum = 0.9;
	p->mlp.epochs = 200;
	p->mlp.batch_size = 200;
	p->mlp.dropout = 0.0;
	p->mlp.weight_decay = 0.0001;
	p->mlp.early_stopping = false;
	p->mlp.validation_fraction = 0.1;
	p->mlp.patience = 10;
	p->task = 0;
	p->warm_start = false;
	if (algorithm == MM_ALG_MLP)
		p->scale = MM_SCALE_STANDARD;

	if (params == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params must be a JSON object"),
				 errhint("For example: '{\"alpha\": 0.5}'.")));

	it = JsonbIteratorInit(&params->root);
	while (MmJsonbNextPair(&it, &key, &v))
	{
		bool		known = false;

		for (int i = 0; i < lengthof(mm_param_keys); i++)
			if (strcmp(key, mm_param_keys[i].key) == 0 &&
				(mm_param_keys[i].algorithms & (1 << algorithm)))
				known = true;
		if (!known)
		{
			StringInfoData list;

			initStringInfo(&list);
			for (int i = 0; i < lengthof(mm_param_keys); i++)
				if (mm_param_keys[i].algorithms & (1 << algorithm))
					appendStringInfo(&list, "%s%s", list.len ? ", " : "", mm_param_keys[i].key);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown parameter \"%s\" for algorithm \"%s\"", key, algname),
					 errhint("Parameters of %s: %s.", algname, list.data)));
		}

		if (strcmp(key, "seed") == 0)
		{
			double		d = MmParamNumber(key, &v);

			/* below 2^53: a double holds every such integer exactly (not 2^53 + 1) */
			if (d != floor(d) || fabs(d) >= 9007199254740992.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"seed\" must be an integer of magnitude below 2^53, not %s",
								DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric))))));
			p->seed = (int64) d;
		}
		else if (strcmp(key, "verbose") == 0)
			p->verbose = MmParamBool(key, &v);
		else if (strcmp(key, "fit_intercept") == 0)
			p->fit_intercept = MmParamBool(key, &v);
		else if (strcmp(key, "scale") == 0)
			p->scale = MmParamChoice(key, &v, scales, lengthof(scales),
									 "'standard', 'minmax' or 'none'");
		else if (strcmp(key, "impute") == 0)
			p->impute = MmParamChoice(key, &v, imputes, lengthof(imputes),
									  "'mean', 'median', 'most_frequent' or 'error'");
		else if (strcmp(key, "penalty") == 0)
			p->penalty = MmParamChoice(key, &v, penalties, lengthof(penalties),
									   "'l2' or 'none'");
		else if (strcmp(key, "alpha") == 0)
			p->alpha = MmParamPositive(key, &v, true);
		else if (strcmp(key, "C") == 0)
			p->C = MmParamPositive(key, &v, false);
		else if (strcmp(key, "tol") == 0)
			p->tol = MmParamPositive(key, &v, false);
		else if (strcmp(key, "var_smoothing") == 0)
			p->var_smoothing = MmParamPositive(key, &v, true);
		else if (strcmp(key, "max_iter") == 0)
			p->max_iter = MmParamInt(key, &v, 1, 100000);
		else if (strcmp(key, "k") == 0)
			p->k = MmParamInt(key, &v, 1, MM_MAX_CLASSES);
		else if (strcmp(key, "n_init") == 0)
			p->n_init = MmParamInt(key, &v, 1, 1000);
		else if (strcmp(key, "init") == 0)
			p->init = MmParamChoice(key, &v, inits, lengthof(inits), "'kmeans++' or 'random'");
		else if (strcmp(key, "n_components") == 0)
			p->n_components = MmParamInt(key, &v, 1, MM_MAX_COLS);
		else if (strcmp(key, "whiten") == 0)
			p->whiten = MmParamBool(key, &v);
		else if (strcmp(key, "hidden_layers") == 0)
			MmParamLayers(&v, &p->mlp);
		else if (strcmp(key, "activation") == 0)
			p->mlp.activation = MmParamChoice(key, &v, activations, lengthof(activations),
											  "'relu', 'tanh' or 'sigmoid'");
		else if (strcmp(key, "optimizer") == 0)
			p->mlp.optimizer = MmParamChoice(key, &v, optimizers, lengthof(optimizers),
											 "'sgd' or 'adam'");
		else if (strcmp(key, "learning_rate") == 0)
			p->mlp.learning_rate = MmParamPositive(key, &v, false);
		else if (strcmp(key, "momentum") == 0)
		{
			p->mlp.momentum = MmParamPositive(key, &v, true);
			if (p->mlp.momentum >= 1.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"momentum\" must be less than 1, not %g", p->mlp.momentum)));
		}
		else if (strcmp(key, "epochs") == 0)
			p->mlp.epochs = MmParamInt(key, &v, 1, 100000);
		else if (strcmp(key, "batch_size") == 0)
			p->mlp.batch_size = MmParamInt(key, &v, 1, 1000000);
		else if (strcmp(key, "dropout") == 0)
		{
			p->mlp.dropout = MmParamPositive(key, &v, true);
			if (p->mlp.dropout >= 1.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"dropout\" must be less than 1, not %g", p->mlp.dropout)));
		}
		else if (strcmp(key, "weight_decay") == 0)
			p->mlp.weight_decay = MmParamPositive(key, &v, true);
		else if (strcmp(key, "early_stopping") == 0)
			p->mlp.early_stopping = MmParamBool(key, &v);
		else if (strcmp(key, "validation_fraction") == 0)
		{
			p->mlp.validation_fraction = MmParamPositive(key, &v, false);
			if (p->mlp.validation_fraction >= 1.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"validation_fraction\" must be less than 1, not %g",
								p->mlp.validation_fraction)));
		}
		else if (strcmp(key, "patience") == 0)
			p->mlp.patience = MmParamInt(key, &v, 1, 100000);
		else if (strcmp(key, "l1_ratio") == 0)
		{
			p->l1_ratio = MmParamPositive(key, &v, true);
			if (p->l1_ratio > 1.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"l1_ratio\" must be at most 1, not %g", p->l1_ratio),
						 errhint("1 is the lasso, 0 ridge's penalty.")));
		}
		else if (strcmp(key, "warm_start") == 0)
			p->warm_start = MmParamBool(key, &v);
		else if (strcmp(key, "task") == 0)
			p->task = 1 + MmParamChoice(key, &v, tasks, lengthof(tasks),
										"'regression' or 'classification'");
	}
}

/* The params actually used, defaults included, as stored on the version. */
Jsonb *
MmParamsJsonb(int algorithm, const MmTrainParams *p)
{
	static const char *const scales[] = {"none", "standard", "minmax"};
	static const char *const imputes[] = {"error", "mean", "median", "most_frequent"};
	StringInfoData s;

	if (algorithm == MM_ALG_STACKING)
		return MmStackParamsJsonb(p);
	initStringInfo(&s);
	appendStringInfo(&s, "{\"seed\": " INT64_FORMAT ", \"scale\": \"%s\", \"impute\": \"%s\"",
					 p->seed, scales[p->scale], imputes[p->impute]);
	if (algorithm <= MM_ALG_LOGISTIC_REGRESSION || algorithm >= MM_ALG_LASSO)
		appendStringInfo(&s, ", \"fit_intercept\": %s", p->fit_intercept ? "true" : "false");
	if (algorithm >= MM_ALG_LASSO)
	{
		appendStringInfoString(&s, ", \"alpha\": ");
		MmAppendJsonNumber(&s, p->alpha);
		if (algorithm == MM_ALG_ELASTIC_NET)
		{
			appendStringInfoString(&s, ", \"l1_ratio\": ");
			MmAppendJsonNumber(&s, p->l1_ratio);
		}
		appendStringInfo(&s, ", \"max_iter\": %d, \"tol\": ", p->max_iter);
		MmAppendJsonNumber(&s, p->tol);
	}
	if (algorithm == MM_ALG_KMEANS)
	{
		appendStringInfo(&s, ", \"k\": %d, \"init\": \"%s\", \"n_init\": %d, \"max_iter\": %d, \"tol\": ",
						 p->k, p->init == 0 ? "kmeans++" : "random", p->n_init, p->max_iter);
		MmAppendJsonNumber(&s, p->tol);
	}
	if (algorithm == MM_ALG_PCA)
		appendStringInfo(&s, ", \"n_components\": %d, \"whiten\": %s",
						 p->n_components, p->whiten ? "true" : "false");
	if (algorithm == MM_ALG_MLP)
	{
		static const char *const activations[] = {"relu", "tanh", "sigmoid"};
		const MmMlpParams *mp = &p->mlp;

		appendStringInfoString(&s, ", \"hidden_layers\": [");
		for (int i = 0; i < mp->nhidden; i++)
			appendStringInfo(&s, "%s%d", i ? ", " : "", mp->hidden[i]);
		appendStringInfo(&s, "], \"activation\": \"%s\", \"optimizer\": \"%s\", \"learning_rate\": ",
						 activations[mp->activation], mp->optimizer ? "adam" : "sgd");
		MmAppendJsonNumber(&s, mp->learning_rate);
		if (mp->optimizer == 0)
		{
			appendStringInfoString(&s, ", \"momentum\": ");
			MmAppendJsonNumber(&s, mp->momentum);
		}
		appendStringInfo(&s, ", \"epochs\": %d, \"batch_size\": %d, \"dropout\": ",
						 mp->epochs, mp->batch_size);
		MmAppendJsonNumber(&s, mp->dropout);
		appendStringInfoString(&s, ", \"weight_decay\": ");
		MmAppendJsonNumber(&s, mp->weight_decay);
		appendStringInfo(&s, ", \"early_stopping\": %s", mp->early_stopping ? "true" : "false");
		if (mp->early_stopping)
		{
			appendStringInfoString(&s, ", \"validation_fraction\": ");
			MmAppendJsonNumber(&s, mp->validation_fraction);
			appendStringInfo(&s, ", \"patience\": %d", mp->patience);
		}
		appendStringInfo(&s, ", \"task\": \"%s\"", mm_task_name(p->task));
	}
	if (p->warm_start)
		appendStringInfoString(&s, ", \"warm_start\": true");
	if (algorithm == MM_ALG_RIDGE || algorithm == MM_ALG_NAIVE_BAYES)
	{
		appendStringInfoString(&s, ", \"alpha\": ");
		MmAppendJsonNumber(&s, p->alpha);
	}
	if (algorithm == MM_ALG_LOGISTIC_REGRESSION)
	{
		appendStringInfo(&s, ", \"penalty\": \"%s\", \"C\": ", p->penalty == 2 ? "l2" : "none");
		MmAppendJsonNumber(&s, p->C);
		appendStringInfo(&s, ", \"max_iter\": %d, \"tol\": ", p->max_iter);
		MmAppendJsonNumber(&s, p->tol);
	}
	if (algorithm == MM_ALG_NAIVE_BAYES)
	{
		appendStringInfoString(&s, ", \"var_smoothing\": ");
		MmAppendJsonNumber(&s, p->var_smoothing);
	}
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* The feature schema as jsonb, for mm_versions. */
Jsonb *
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
		appendStringInfo(&s, ", \"kind\": \"%s\", \"width\": %u",
						 m->features[i].kind == MM_FEAT_ARRAY ? "array" :
						 m->features[i].kind == MM_FEAT_CATEGORICAL ? "categorical" : "numeric",
						 m->features[i].width);
		if (m->features[i].kind == MM_FEAT_CATEGORICAL)
		{
			appendStringInfoString(&s, ", \"levels\": [");
			for (uint32 l = 0; l < m->features[i].nlevels; l++)
			{
				if (l > 0)
					appendStringInfoString(&s, ", ");
				escape_json(&s, m->features[i].levels[l]);
			}
			appendStringInfoChar(&s, ']');
		}
		if (m->features[i].impute != MM_IMPUTE_ERROR)
		{
			static const char *const imputes[] = {"error", "mean", "median", "most_frequent"};
			const MmFeature *f = &m->features[i];

			appendStringInfo(&s, ", \"impute\": \"%s\", \"fill\": ", imputes[f->impute]);
			if (f->kind == MM_FEAT_CATEGORICAL)
			{
				for (uint32 l = 0; l < f->nlevels; l++)
					if (f->fill[l] == 1.0)
						escape_json(&s, f->levels[l]);
			}
			else
			{
				appendStringInfoChar(&s, '[');
				for (uint32 k = 0; k < f->width; k++)
				{
					if (k > 0)
						appendStringInfoString(&s, ", ");
					MmAppendJsonNumber(&s, f->fill[k]);
				}
				appendStringInfoChar(&s, ']');
			}
		}
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* Milliseconds since start. */
double
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

/*
 * Run mm_linear_stats over the source as the caller and return a private,
 * aligned copy of the state (NULL when the source has no rows).
 */
static bytea *
MmLinStatsQuery(const char *extschema, const MmSource *src,
				const MmSourceCol *target, const MmSourceCol *cols, int ncols,
				const MmTrainParams *p, double test_fraction)
{
	StringInfoData sql;
	Datum	   *names = palloc(sizeof(Datum) * (ncols + 1));
	Oid			types[4] = {INT8OID, FLOAT8OID, INT8OID, TEXTARRAYOID};
	Datum		values[4];
	ParamListInfo params = makeParamList(4);
	MmStateReceiver receiver;

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
	MmReceiverInit(&receiver.pub, MmStateReceive);
	receiver.cxt = CurrentMemoryContext;
	MmReadInto(sql.data, params, (DestReceiver *) &receiver);
	return receiver.state;
}

/*
 * The training scan's state (NULL when the source has no rows), its kept
 * rows in sink (in a serial plan), in the current memory context.  A
 * plain table is read directly when it can be (mm_scan.c): the same state,
 * without the query; *direct_read says which way it was read, *workers
 * how many parallel workers the direct read had, and *lpar holds them
 * (and their kept rows) until they have scored those (MmLinParScore).
 * With test_fraction 0 a direct read keeps no row: *rescan is then its
 * scan, still open, to read the rows again (MmScoreRescan): this backend's
 * *rescan_rows rows, or with workers its part of all of them; else NULL.
 */
static bytea *
MmScanLinearStats(const char *extschema, const MmSource *src,
				  const MmSourceCol *target, const MmSourceCol *cols, int ncols,
				  const MmTrainParams *p, double test_fraction, MmLinSink *sink,
				  bool *direct_read, int *workers, MmLinPar **lpar,
				  MmScan **rescan, int64 *rescan_rows)
{
	MmLinSink  *prev = mm_lin_sink;
	MmScan	   *scan = palloc0(sizeof(MmScan));
	bytea	   *state;

	*workers = 0;
	*lpar = NULL;
	*rescan = NULL;
	*rescan_rows = -1;
	memset(sink, 0, sizeof(*sink));
	sink->cxt = CurrentMemoryContext;
	sink->generation = ++mm_lin_sink_generation;
	*direct_read = MmScanBegin(scan, src, target, MM_LABEL_NONE, cols, ncols);
	/* the rows it will keep: the held-out share, or every row */
	if (*direct_read)
		sink->expect = MmScanExpect(scan, test_fraction > 0 ? test_fraction : 1.0);
	mm_lin_sink = sink;
	PG_TRY();
	{
		if (*direct_read)
		{
			char	  **names = palloc(sizeof(char *) * (ncols + 1));

			names[0] = target->name;
			for (int i = 0; i < ncols; i++)
				names[i + 1] = cols[i].name;
			state = MmLinStatsDirect(scan, names, p->seed, test_fraction,
									 (int64) mm_max_train_memory_kb * 1024, sink, workers, lpar,
									 rescan_rows);
			if (*rescan_rows >= 0 && state != NULL)
				*rescan = scan;
			else
				MmScanEnd(scan);
		}
		else
			state = MmLinStatsQuery(extschema, src, target, cols, ncols, p, test_fraction);
	}
	PG_FINALLY();
	{
		mm_lin_sink = prev;
	}
	PG_END_TRY();
	return state;
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
MmCheckTrainable(const char *model, const MmModelRow *row, int algorithm,
				 int tasknum, Oid caller)
{
	const char *task = mm_task_name(tasknum);

	MmCheckPrivilege(model, row, MM_PRIV_TRAIN, caller);
	/* tasknum 0: not known yet (mlp before its target is looked at) */
	if (task != NULL && strcmp(row->task, task) != 0 && algorithm == MM_ALG_MLP &&
		(strcmp(row->task, "regression") == 0 || strcmp(row->task, "classification") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model, but this mlp would be a %s model",
						model, row->task, task),
				 errhint("Set params.task to '%s', or train it under another model name.", row->task)));
	if (task != NULL && strcmp(row->task, task) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is a %s model, but %s is a %s algorithm",
						model, row->task, mm_algorithm_name(algorithm), task),
				 errhint("Train it under another model name.")));
}

/* Insert the version row.  Catalog window. */
static void
MmInsertVersion(int64 model_id, int32 version, const char *algname,
				Jsonb *params, Jsonb *features, const char *target,
				Jsonb *metrics, int64 n_train, Oid caller, double train_ms,
				const char *source, double test_fraction, bytea *blob, Jsonb *profile)
{
	Oid			argtypes[14] = {INT8OID, INT4OID, TEXTOID, JSONBOID, JSONBOID, TEXTOID,
	JSONBOID, INT8OID, TEXTOID, FLOAT8OID, TEXTOID, FLOAT8OID, BYTEAOID, JSONBOID};
	Datum		values[14];
	char		nulls[15] = "              ";
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(algname);
	values[3] = JsonbPGetDatum(params);
	values[4] = JsonbPGetDatum(features);
	values[5] = target ? CStringGetTextDatum(target) : (Datum) 0;
	values[6] = JsonbPGetDatum(metrics);
	values[7] = Int64GetDatum(n_train);
	values[8] = CStringGetTextDatum(GetUserNameFromId(caller, false));
	values[9] = Float8GetDatum(train_ms);
	values[10] = source ? CStringGetTextDatum(source) : (Datum) 0;
	values[11] = Float8GetDatum(test_fraction);
	values[12] = PointerGetDatum(blob);
	if (target == NULL)
		nulls[5] = 'n';
	if (source == NULL)
		nulls[10] = nulls[11] = 'n';
	values[13] = profile ? JsonbPGetDatum(profile) : (Datum) 0;
	if (profile == NULL)
		nulls[13] = 'n';
	ret = SPI_execute_with_args("INSERT INTO mm.versions (model_id, version, algorithm, params, features, "
								"target, metrics, n_train, trained_by, train_ms, source, test_fraction, blob, profile) "
								"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::name, $10, $11, $12, $13, $14)",
								14, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "inserting a model version failed: %s", SPI_result_code_string(ret));
}

/* A metric stored on a version, or NaN.  Catalog window. */
static double
MmStoredMetric(int64 model_id, int32 version, const char *key)
{
	Oid			argtypes[3] = {INT8OID, INT4OID, TEXTOID};
	Datum		values[3];
	bool		isnull;
	Datum		d;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(key);
	/* a fresh snapshot: the deployed version may have changed while we waited */
	if (SPI_execute_with_args("SELECT (metrics->>$3)::float8 FROM mm.versions "
							  "WHERE model_id = $1 AND version = $2",
							  3, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
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
bool
MmStoreVersion(const char *model, int algorithm, int task, int policy,
			   Jsonb *params, Jsonb *features, const char *target,
			   Jsonb *metrics, double primary, int64 n_train, double train_ms,
			   const char *source, double test_fraction, bytea *blob,
			   const char *action, Jsonb *profile, int32 *version_out)
{
	const char *algname = mm_algorithm_name(algorithm);
	bool		higher_better = task == MM_TASK_CLASSIFICATION;
	/* the metric if_better compares; pca has none, so its versions always count as better */
	const char *key = task == MM_TASK_CLASSIFICATION ? "accuracy" :
		task == MM_TASK_CLUSTERING ? "mean_inertia" :
		task == MM_TASK_DECOMPOSITION ? "none" : "rmse";
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
	values[2] = CStringGetTextDatum(mm_task_name(task));
	argtypes[2] = TEXTOID;
	if (SPI_execute_with_args("INSERT INTO mm.models (name, owner, task) "
							  "VALUES ($1, $2::regrole, $3) ON CONFLICT (name) DO NOTHING",
							  3, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "creating model \"%s\" failed", model);
	MmGetModel(model, &row, true);
	/* the model may have been created by another role meanwhile */
	MmCheckTrainable(model, &row, algorithm, task, cat.save_userid);

	version = row.latest_version + 1;
	argtypes[1] = INT4OID;
	values[0] = Int64GetDatum(row.id);
	values[1] = Int32GetDatum(version);
	argtypes[0] = INT8OID;
	if (SPI_execute_with_args("UPDATE mm.models SET latest_version = $2, updated_at = now() WHERE id = $1",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "updating model \"%s\" failed", model);
	MmInsertVersion(row.id, version, algname, params, features, target, metrics,
					n_train, cat.save_userid, train_ms, source, test_fraction, blob, profile);

	if (row.deployed_version <= 0)
	{
		deploy = true;
		reason = "first version";
	}
	else if (policy != MM_DEPLOY_NEVER &&
			 !MmHasPrivilege(row.owner, row.acl, MM_PRIV_DEPLOY, cat.save_userid))
	{
		/* a role that may train but not deploy stores versions only */
		ereport(NOTICE,
				(errmsg("version %d of model \"%s\" is stored but not deployed", version, model),
				 errdetail("Deploying needs the deploy privilege on the model."),
				 errhint("Train with deploy => 'never' to stay silent, or ask the owner for deploy.")));
	}
	else if (policy == MM_DEPLOY_ALWAYS)
	{
		deploy = true;
		reason = "always";
	}
	else if (policy == MM_DEPLOY_IF_BETTER)
	{
		double		old = MmStoredMetric(row.id, row.deployed_version, key);

		/*
		 * Better means better beyond rounding, so identical fits do not
		 * churn: rmse lower, accuracy higher.
		 */
		if (isnan(old) || task == MM_TASK_DECOMPOSITION ||
			(higher_better ? primary > old + 1e-12 : primary < old * (1.0 - 1e-9)))
		{
			deploy = true;
			reason = task == MM_TASK_DECOMPOSITION ?
				psprintf("if_better: %s models have no metric to compare", mm_task_name(task)) :
				isnan(old) ?
				psprintf("if_better: version %d has no %s", row.deployed_version, key) :
				psprintf("if_better: %s %.6g %s %.6g of version %d", key, primary,
						 higher_better ? ">" : "<", old, row.deployed_version);
		}
	}
	MmAudit(action, model, row.id, row.owner, version, NULL, cat.save_userid);
	if (deploy)
	{
		MmSetDeployed(row.id, version);
		MmRecordDeployment(row.id, version, "deploy", reason, cat.save_userid);
		MmAudit("deploy", model, row.id, row.owner, version,
				psprintf("{\"reason\": \"%s\"}", reason), cat.save_userid);
	}
	MmCatalogEnd(&cat);
	*version_out = version;
	return deploy;
}

/* The progress callback of iterative fits: cancel, and a NOTICE if verbose. */
typedef struct MmFitProgress
{
	const char *model;
	bool		verbose;
	int			reported;		/* the last iteration reported */
	int			of;				/* iterations at most, for mm_progress */
} MmFitProgress;

static void
MmFitProgressFn(void *arg, int iteration, double loss)
{
	MmFitProgress *fp = (MmFitProgress *) arg;

	CHECK_FOR_INTERRUPTS();
	/* the core also calls within an iteration: report each one once */
	if (iteration > fp->reported && isfinite(loss))
	{
		fp->reported = iteration;
		MmProgressIteration(iteration, fp->of, loss);
		if (fp->verbose)
			ereport(NOTICE,
					(errmsg("model \"%s\": iteration %d, objective %.10g", fp->model, iteration, loss)));
	}
}

/*
 * Fit a lasso or elastic net into m: from the nt encoded rows X, y, or
 * when X is NULL from the co-moments of the one-scan path (n rows, mean
 * and C with the target first).
 */
static void
MmFitElastic(const char *model, const MmTrainParams *p, MmModel *m, const double *X,
			 const double *y, int64 nt, double n, const double *mean, const double *C)
{
	MmElasticParams ep;
	MmElasticInfo info;
	MmFitProgress fp = {model, p->verbose, -1, p->max_iter};
	MmProgress	progress = {MmFitProgressFn, &fp};
	MmErr		err;
	MmStatus	status;

	ep.alpha = p->alpha;
	ep.l1_ratio = p->l1_ratio;
	ep.fit_intercept = p->fit_intercept;
	ep.max_iter = p->max_iter;
	ep.tol = p->tol;
	m->fit_intercept = p->fit_intercept;
	m->alpha = p->alpha;
	m->l1_ratio = p->l1_ratio;
	m->coef = palloc0(sizeof(double) * Max(m->ncols, 1));
	if (X != NULL)
		status = mm_elastic_fit(nt, (int) m->ncols, X, y, &ep, m->coef, &m->intercept, &info,
								&progress, MmPallocAllocator(), &err);
	else
		status = mm_elastic_fit_gram(n, (int) m->ncols, mean, C, &ep, m->coef, &m->intercept,
									 &info, &progress, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	if (!info.converged)
		ereport(WARNING,
				(errmsg("model \"%s\" did not converge in %d passes", model, info.iterations),
				 errdetail("The duality gap is %g.", info.gap),
				 errhint("Raise params.max_iter or params.tol, or scale the features.")));
}

/* Fit k-means on the nt encoded, scaled rows X into m. */
static void
MmFitKMeans(const char *model, const MmTrainParams *p, MmModel *m, const double *X, int64 nt)
{
	MmKMeansParams kp;
	MmKMeansInfo info;
	MmFitProgress fp = {model, p->verbose, -1, p->max_iter};
	MmProgress	progress = {MmFitProgressFn, &fp};
	MmErr		err;
	MmStatus	status;
	int			workers;

	kp.k = p->k;
	kp.init = p->init;
	kp.n_init = p->n_init;
	kp.max_iter = p->max_iter;
	kp.tol = p->tol;
	kp.seed = (uint64) p->seed;
	m->k = (uint32) p->k;
	m->centers = palloc_extended(sizeof(double) * m->k * m->ncols, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	status = MmKMeansFit(nt, (int) m->ncols, X, &kp, m->centers, &info, &progress,
						 &err, &workers);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	m->inertia = info.inertia;
	if (p->verbose && workers > 0)
		ereport(NOTICE,
				(errmsg("model \"%s\": k-means fitted with %d parallel worker%s", model,
						workers, workers == 1 ? "" : "s")));
}

/* Raise the error for a warm start whose previous version does not fit. */
static void
MmWarmStartMismatch(const char *model, int32 version, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("model \"%s\" cannot warm start from version %d", model, version),
			 errdetail("%s", detail),
			 errhint("Train without warm_start, or select the same features, labels and layers.")));
}

/*
 * The latest version of the model, to continue from (params.warm_start),
 * after checking that it has the algorithm, features (names, kinds, widths,
 * levels), labels and, for mlp, layers of the model being trained.  Its
 * scaling is taken over, so the weights keep their meaning.  Needs the
 * predict privilege, as reading the weights does.
 */
static const MmModel *
MmWarmStartFrom(const char *model, int algorithm, MmTrainParams *p, MmModel *m)
{
	MmCatalogCtx cat;
	MmModelRow	row;
	const MmModel *prev;
	int64		id;
	int32		version;
	bool		found;

	MmCatalogBegin(&cat);
	found = MmLookupModel(model, &row, false);
	MmCatalogEnd(&cat);
	if (!found || row.latest_version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no version to warm start from", model),
				 errhint("Train its first version without warm_start.")));
	prev = MmLoadModel(model, false, row.latest_version, &id, &version);
	if (prev->algorithm != algorithm)
		MmWarmStartMismatch(model, version, psprintf("Version %d is %s, not %s.", version,
													 mm_algorithm_name(prev->algorithm),
													 mm_algorithm_name(algorithm)));
	if (prev->task != m->task)
		MmWarmStartMismatch(model, version, psprintf("Version %d is a %s model.", version,
													 mm_task_name(prev->task)));
	if (prev->nfeatures != m->nfeatures || prev->ncols != m->ncols)
		MmWarmStartMismatch(model, version,
							psprintf("Version %d has %u features (%u encoded columns), this training %u (%u).",
									 version, prev->nfeatures, prev->ncols, m->nfeatures, m->ncols));
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *a = &prev->features[i];
		const MmFeature *b = &m->features[i];
		bool		same = strcmp(a->name, b->name) == 0 && a->kind == b->kind &&
			a->width == b->width;

		for (uint32 l = 0; same && a->kind == MM_FEAT_CATEGORICAL && l < a->nlevels; l++)
			same = strcmp(a->levels[l], b->levels[l]) == 0;
		if (!same)
			MmWarmStartMismatch(model, version,
								psprintf("Feature %u is \"%s\" (%u values) in version %d, \"%s\" (%u values) here, or its levels differ.",
										 i + 1, a->name, a->width, version, b->name, b->width));
	}
	if (m->task == MM_TASK_CLASSIFICATION)
	{
		bool		same = prev->nclasses == m->nclasses && prev->label_type == m->label_type;

		for (uint32 k = 0; same && k < m->nclasses; k++)
			same = strcmp(prev->labels[k], m->labels[k]) == 0;
		if (!same)
			MmWarmStartMismatch(model, version,
								psprintf("Version %d has %u labels, this training %u, or they differ.",
										 version, prev->nclasses, m->nclasses));
	}
	if (algorithm == MM_ALG_MLP)
	{
		bool		same = prev->mlp.nlayers == p->mlp.nhidden + 1 &&
			prev->mlp.activation == p->mlp.activation;

		for (int l = 0; same && l < p->mlp.nhidden; l++)
			same = prev->mlp.size[l + 1] == p->mlp.hidden[l];
		if (!same)
			MmWarmStartMismatch(model, version,
								psprintf("Version %d has other hidden layers or another activation.", version));
	}
	if (algorithm == MM_ALG_LOGISTIC_REGRESSION && prev->penalty != p->penalty)
		MmWarmStartMismatch(model, version,
							psprintf("Version %d was trained with penalty '%s'.", version,
									 prev->penalty == 2 ? "l2" : "none"));
	if (algorithm == MM_ALG_LOGISTIC_REGRESSION &&
		prev->fit_intercept != p->fit_intercept)
		MmWarmStartMismatch(model, version,
							psprintf("Version %d was trained %s an intercept.", version,
									 prev->fit_intercept ? "with" : "without"));
	/* the previous scaling, so that the weights mean what they meant */
	p->scale = prev->scale;
	m->scale = prev->scale;
	m->center = prev->center;
	m->scalev = prev->scalev;
	return prev;
}

/*
 * Fit a network on the nt encoded, scaled rows X and targets y (values,
 * or class indices) into m.  Interrupts are checked between batches.
 */
static void
MmMlpEpochNotice(void *arg, int epoch, double train_loss, double valid_loss)
{
	const MmFitProgress *fp = (const MmFitProgress *) arg;
	const char *model = fp->model;

	MmProgressIteration(epoch, fp->of, train_loss);
	if (!fp->verbose)
		return;
	if (isnan(valid_loss))
		ereport(NOTICE,
				(errmsg("model \"%s\": epoch %d, training loss %.6g", model, epoch, train_loss)));
	else
		ereport(NOTICE,
				(errmsg("model \"%s\": epoch %d, training loss %.6g, validation loss %.6g",
						model, epoch, train_loss, valid_loss)));
}

static void
MmFitMlp(const char *model, const MmTrainParams *p, MmModel *m, const double *X,
		 const double *y, int64 nt, const MmModel *prev)
{
	MmMlpParams mp = p->mlp;
	MmMlpInfo	info;
	/* interrupts between batches; progress and epoch NOTICEs come from on_epoch */
	MmFitProgress fp = {model, false, -1, p->mlp.epochs};
	MmFitProgress epochs = {model, p->verbose, -1, p->mlp.epochs};
	MmProgress	progress = {MmFitProgressFn, &fp};
	bool		classification = m->task == MM_TASK_CLASSIFICATION;
	MmErr		err;
	MmStatus	status;

	mp.seed = (uint64) p->seed;
	mp.on_epoch = MmMlpEpochNotice;
	mp.on_epoch_arg = &epochs;
	status = mm_mlp_fit(nt, (int) m->ncols, X, y, classification ? (int) m->nclasses : 1,
						classification, &mp, prev ? &prev->mlp : NULL, &m->mlp, &info, &progress,
						MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	if (p->verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": %d epochs, training loss %.6g%s", model, info.epochs_run,
						info.train_loss,
						mp.early_stopping ? psprintf(", best validation loss %.6g at epoch %d",
													 info.valid_loss, info.best_epoch) : "")));
}

/* Fit PCA on the nt encoded, scaled rows X into m. */
static void
MmFitPca(const char *model, const MmTrainParams *p, MmModel *m, const double *X, int64 nt,
		 double **ratio_out)
{
	MmPcaParams pp;
	double	   *ratio;
	MmErr		err;
	MmStatus	status;

	pp.n_components = p->n_components > 0 ? p->n_components : (int) m->ncols;
	pp.whiten = p->whiten;
	m->n_components = (uint32) pp.n_components;
	m->whiten = p->whiten;
	m->pca_mean = palloc0(sizeof(double) * m->ncols);
	m->components = palloc0(sizeof(double) * m->n_components * m->ncols);
	m->explained_variance = palloc0(sizeof(double) * m->n_components);
	ratio = palloc0(sizeof(double) * m->n_components);
	status = mm_pca_fit(nt, (int) m->ncols, X, &pp, m->pca_mean, m->components,
						m->explained_variance, ratio, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	/*
	 * Whitening divides by sqrt(variance): a variance at rounding level
	 * (dependent columns, such as one feature's one-hot columns) would
	 * blow its coordinate up, so it counts as none.
	 */
	if (p->whiten)
		for (uint32 i = 0; i < m->n_components; i++)
			if (!(m->explained_variance[i] >
				  m->explained_variance[0] * m->ncols * DBL_EPSILON * 16))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("component %u of model \"%s\" has no variance, so it cannot be whitened",
								i + 1, model),
						 errhint("Use fewer components, or train without whiten.")));
	*ratio_out = ratio;
}

/*
 * Clustering metrics of m on the ns rows Xs: n, inertia (the sum of squared
 * distances to the nearest centre), mean_inertia (per row: what if_better
 * compares), silhouette (on a seeded sample of at most MM_SILHOUETTE_SAMPLE
 * rows; null with fewer than 2 clusters in it).
 */
Jsonb *
MmClusteringMetrics(const MmModel *m, const double *Xs, int64 ns, uint64 seed,
					const char *on, double *primary)
{
	int64		ss = Min(ns, MM_SILHOUETTE_SAMPLE);
	int64	   *idx = palloc_extended(sizeof(int64) * Max(ns, 1), MCXT_ALLOC_HUGE);
	double	   *sample = palloc_extended(sizeof(double) * Max(ss, 1) * m->ncols, MCXT_ALLOC_HUGE);
	int32	   *label = palloc(sizeof(int32) * Max(ss, 1));
	double		inertia = 0.0;
	double		silhouette;
	MmRng		rng;

	for (int64 r = 0; r < ns; r++)
	{
		double		d2;

		(void) mm_kmeans_predict((int) m->k, (int) m->ncols, m->centers, Xs + r * m->ncols, &d2);
		inertia += d2;
		idx[r] = r;
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	/* the first ss of a seeded partial shuffle */
	mm_rng_seed(&rng, seed);
	for (int64 i = 0; i < ss; i++)
	{
		int64		j = i + (int64) mm_rng_below(&rng, (uint64) (ns - i));
		int64		t = idx[i];
		double		d2;

		idx[i] = idx[j];
		idx[j] = t;
		memcpy(sample + i * m->ncols, Xs + idx[i] * m->ncols, sizeof(double) * m->ncols);
		label[i] = mm_kmeans_predict((int) m->k, (int) m->ncols, m->centers,
									 sample + i * m->ncols, &d2);
	}
	silhouette = mm_silhouette(ss, (int) m->ncols, sample, label, (int) m->k, MmPallocAllocator());
	/* sums over different row counts do not compare: if_better uses the mean */
	*primary = ns > 0 ? inertia / ns : NAN;

	return MmClusteringJsonb(ns, inertia, silhouette, on);
}

/* PCA's metrics: the explained variances and their ratios, of the n training rows. */
static Jsonb *
MmDecompositionMetrics(const MmModel *m, const double *ratio, int64 n)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"n\": " INT64_FORMAT ", \"explained_variance\": ", n);
	MmAppendJsonNumbers(&s, m->explained_variance, (int) m->n_components);
	appendStringInfoString(&s, ", \"explained_variance_ratio\": ");
	MmAppendJsonNumbers(&s, ratio, (int) m->n_components);
	appendStringInfoString(&s, ", \"evaluated_on\": \"train\"}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * Solve a linear or ridge model from co-moments into m (coef, intercept),
 * with a NOTICE when the data are rank-deficient.
 */
static void
MmSolveLinear(const char *model, MmModel *m, bool fit_intercept, double alpha,
			  double n, const double *mean, const double *C)
{
	MmLinearParams lp;
	MmLinearFit info;
	MmErr		err;
	MmStatus	status;

	m->fit_intercept = fit_intercept;
	m->alpha = m->algorithm == MM_ALG_RIDGE ? alpha : 0.0;
	m->coef = palloc0(sizeof(double) * Max(m->ncols, 1));
	lp.fit_intercept = fit_intercept;
	lp.alpha = m->alpha;
	MmSetBlasThreads();
	status = mm_linear_fit(m->ncols, n, mean, C, &lp, m->coef, &m->intercept,
						   &info, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
	if (info.used_fallback)
		ereport(NOTICE,
				(errmsg("the training data of model \"%s\" are rank-deficient (rank %d of %u)",
						model, info.rank, m->ncols),
				 errdetail("The minimum-norm least-squares solution was used."),
				 errhint("Look for constant or collinear features.")));
}

/* Fit a linear or ridge model on encoded rows, through the co-moments. */
static void
MmFitLinearRows(const char *model, const MmTrainParams *p, MmModel *m,
				const double *X, const double *y, int64 n)
{
	int			d = m->ncols + 1;
	int			block = 128;
	double	   *rows = palloc(sizeof(double) * block * d);
	double	   *work = palloc(sizeof(double) * MM_MOMENTS_WORK(d, block));
	double	   *mean = palloc0(sizeof(double) * d);
	double	   *C = palloc0(sizeof(double) * d * d);
	double		cnt = 0;

	MmSetBlasThreads();
	for (int64 r = 0; r < n; r += block)
	{
		int			nb = (int) Min(block, n - r);

		for (int i = 0; i < nb; i++)
		{
			rows[i * d] = y[r + i];
			memcpy(rows + i * d + 1, X + (r + i) * m->ncols, sizeof(double) * m->ncols);
		}
		mm_moments_add_block(d, &cnt, mean, C, rows, nb, work);
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MmSolveLinear(model, m, p->fit_intercept, p->alpha, cnt, mean, C);
}

/*
 * Does the fitted classifier put every training row in its class?  For an
 * unpenalised logistic regression that means the classes are separable:
 * scaling the weights up would lower the loss further, so no finite
 * optimum exists.
 */
static bool
MmSeparable(const MmModel *m, const double *X, const double *y, int64 n)
{
	double	   *proba = palloc(sizeof(double) * m->nclasses);

	for (int64 r = 0; r < n; r++)
	{
		MmModelProba(m, X + r * m->ncols, proba);
		if (MmArgmax(proba, m->nclasses) != (int) y[r])
			return false;
	}
	return true;
}

/* Class indices of a classifier's targets, as the core takes them. */
static int32 *
MmClassIndices(const double *y, int64 n)
{
	int32	   *cls = palloc_extended(sizeof(int32) * Max(n, 1), MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < n; i++)
		cls[i] = (int32) y[i];
	return cls;
}

/*
 * Fit m's logistic regression on X, y (nt rows), or with dp on the rows of
 * parallel workers and ds's (X and y NULL, nt all the training rows).
 */
static void
MmFitLogistic(const char *model, const MmTrainParams *p, MmModel *m, const double *X, const double *y,
			  int64 nt, const MmModel *prev, MmDataPar *dp, const MmDataset *ds)
{
	MmLogisticParams lp;
	MmLogisticInfo info;
	MmFitProgress fp = {model, p->verbose, -1, p->max_iter};
	MmProgress	progress = {MmFitProgressFn, &fp};
	MmStatus	status;
	MmErr		err;

	MmSetBlasThreads();
	memset(&lp, 0, sizeof(lp));
	if (prev != NULL)
	{
		lp.init_coef = prev->coefs;
		lp.init_intercept = prev->intercepts;
	}

	lp.penalty = p->penalty;
	lp.C = p->C;
	lp.fit_intercept = p->fit_intercept;
	lp.max_iter = p->max_iter;
	lp.tol = p->tol;
	m->fit_intercept = p->fit_intercept;
	m->penalty = p->penalty;
	m->C = p->C;
	m->nsets = mm_logistic_nsets(m->nclasses);
	m->coefs = palloc0(sizeof(double) * m->nsets * m->ncols);
	m->intercepts = palloc0(sizeof(double) * m->nsets);
	if (dp != NULL)
		status = MmDataParLogisticFit(dp, ds, m, &lp, &info, &progress, &err);
	else
		status = mm_logistic_fit(nt, m->ncols, m->nclasses, X, MmClassIndices(y, nt),
								 &lp, m->coefs, m->intercepts, &info, &progress,
								 MmPallocAllocator(), &err);
	if (status != MM_OK)
	{
		if (p->penalty == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("model \"%s\": %s", model, err.msg),
					 errhint("Use penalty 'l2' (the default), which keeps the weights finite.")));
		MmReportCoreError(status, &err, model);
	}
	if (p->penalty == 0 && X != NULL && MmSeparable(m, X, y, nt))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the classes of model \"%s\" are perfectly separable by its features", model),
				 errdetail("Without a penalty the weights grow without bound, and the probabilities tend to 0 and 1."),
				 errhint("Use penalty 'l2' (the default), which keeps the weights finite.")));
	if (!info.converged)
		ereport(WARNING,
				(errmsg("model \"%s\" did not converge in %d iterations", model, info.iterations),
				 errdetail("The largest gradient component is %g.", info.grad_norm),
				 errhint("Raise params.max_iter, or scale the features.")));
}

/* Naive Bayes's one-hot group of each encoded column of m (-1: numeric). */
static int32 *
MmNbGroups(const MmModel *m)
{
	int32	   *group = palloc(sizeof(int32) * Max(m->ncols, 1));
	int32		g = 0;
	uint32		pos = 0;

	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		bool		cat = m->features[i].kind == MM_FEAT_CATEGORICAL;

		for (uint32 k = 0; k < m->features[i].width; k++)
			group[pos++] = cat ? g : -1;
		g += cat;
	}
	return group;
}

/*
 * Fit m (its schema and scaling set) on the nt encoded, scaled rows X with
 * targets y, by the algorithm's solver.  prev: a warm start's previous
 * model, or NULL.  pca_ratio receives PCA's explained variance ratios.
 */
void
MmFitMatrix(const char *model, int algorithm, const MmTrainParams *p, MmModel *m,
			const double *X, const double *y, int64 nt, const MmModel *prev,
			double **pca_ratio)
{
	MmErr		err;
	MmStatus	status;

	MmSetBlasThreads();
	switch (algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
		case MM_ALG_RIDGE:
			MmFitLinearRows(model, p, m, X, y, nt);
			break;
		case MM_ALG_LOGISTIC_REGRESSION:
			MmFitLogistic(model, p, m, X, y, nt, prev, NULL, NULL);
			break;
		case MM_ALG_KMEANS:
			MmFitKMeans(model, p, m, X, nt);
			break;
		case MM_ALG_LASSO:
		case MM_ALG_ELASTIC_NET:
			MmFitElastic(model, p, m, X, y, nt, 0, NULL, NULL);
			break;
		case MM_ALG_MLP:
			MmFitMlp(model, p, m, X, y, nt, prev);
			break;
		case MM_ALG_PCA:
			MmFitPca(model, p, m, X, nt, pca_ratio);
			break;
		case MM_ALG_NAIVE_BAYES:
			{
				int32	   *group = MmNbGroups(m);

				m->var_smoothing = p->var_smoothing;
				m->nb_alpha = p->alpha;
				status = mm_nb_fit(nt, m->ncols, m->nclasses, X, MmClassIndices(y, nt), group,
								   p->var_smoothing, p->alpha, &m->nb, MmPallocAllocator(), &err);
				if (status != MM_OK)
					MmReportCoreError(status, &err, model);
				break;
			}
	}
}

/*
 * A classifier's target has at least two classes (ds's labels, in class
 * order), and each has training rows (train_k).
 */
static void
MmCheckClasses(const MmSourceCol *tcol, const MmDataset *ds, const int64 *train_k,
			   double test_fraction)
{
	if (ds->labels.n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("target column \"%s\" has a single class, \"%s\"",
						tcol->name, ds->labels.strs[0]),
				 errhint("A classifier needs rows of at least two classes.")));
	for (int k = 0; k < ds->labels.n; k++)
		if (train_k[k] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("class \"%s\" of target column \"%s\" has no training rows",
							ds->labels.strs[ds->label_order[k]], tcol->name),
					 errdetail("All its rows were held out (test_fraction %g).", test_fraction),
					 errhint("Lower test_fraction, or add rows of that class.")));
}

/*
 * Train on rows read into memory: classifiers, and regressions with
 * categorical features, NULLs to impute or scaling.  Fills m and returns
 * the metrics; *primary is the metric if_better compares.
 */
static Jsonb *
MmTrainInMemory(const char *model, int algorithm, MmTrainParams *p,
				MmSource *src, MmSourceCol *tcol, int label_type,
				MmSourceCol *cols, int ncols, double test_fraction, MmSearch *search,
				MmModel *m, int64 *n_train, double *primary, Jsonb **profile, instr_time start)
{
	const char *algname = mm_algorithm_name(algorithm);
	bool		classifier = m->task == MM_TASK_CLASSIFICATION;
	MmDataset	ds;
	double	   *X;
	double	   *y;
	int64		nt;
	double	   *Xs;
	double	   *ys;
	int64		ns;
	const char *on;
	int64		nparams;
	double	   *pca_ratio = NULL;
	const MmModel *prev = NULL;
	double	   *u = NULL;
	MmDataPar  *dp = NULL;
	int64		n_all;
	int64		n_train_all;

	/*
	 * split numbers serve the held-out split and the folds only.  A naive
	 * Bayes or (penalty l2) logistic model of a large table may be read by
	 * parallel workers, which keep their rows and do their share of the
	 * fit and the scoring.
	 */
	MmDatasetRead(&ds, src, tcol, cols, ncols, label_type, p->impute != MM_IMPUTE_ERROR,
				  (uint64) p->seed, test_fraction > 0 || search != NULL || algorithm == MM_ALG_STACKING,
				  (int64) mm_max_train_memory_kb * 1024,
				  search == NULL && !p->warm_start &&
				  ((algorithm == MM_ALG_NAIVE_BAYES && p->scale == MM_SCALE_NONE) ||
				   (algorithm == MM_ALG_LOGISTIC_REGRESSION && p->penalty == 2)) ? &dp : NULL,
				  algorithm == MM_ALG_NAIVE_BAYES && test_fraction == 0);
	if (dp != NULL)
	{
		int64	   *train_k = palloc0(sizeof(int64) * Max(ds.labels.n, 1));

		/* the classes and the split of the rows of this backend and the workers */
		MmDataParSplit(dp, &ds, test_fraction, &n_all, &n_train_all, train_k);
		if (n_all > 0)
			MmCheckClasses(tcol, &ds, train_k, test_fraction);
	}
	else
	{
		if (ds.n > 0)
			MmDatasetSplit(&ds, test_fraction);
		n_all = ds.n;
		n_train_all = ds.n_train;
	}
	if (n_all == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" has no rows", src->text),
				 errhint("A model is trained on at least as many rows as it has parameters.")));
	if (dp == NULL)
		*profile = MmProfileDataset(&ds);
	MmProgressRows(n_all);
	MmProgressPhase("fitting");
	if (p->verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": read " INT64_FORMAT " training and " INT64_FORMAT " held-out rows%s",
						model, n_train_all, n_all - n_train_all,
						!ds.direct ? "" : dp == NULL ? " directly from the table" :
						psprintf(" directly from the table with %d parallel worker%s",
								 MmDataParWorkers(dp), MmDataParWorkers(dp) == 1 ? "" : "s")),
				 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));
	if (classifier && dp == NULL)
	{
		int64	   *train_k = palloc0(sizeof(int64) * Max(ds.labels.n, 1));

		for (int64 r = 0; r < ds.n; r++)
			train_k[(int32) ds.y[r]] += !ds.heldout[r];
		MmCheckClasses(tcol, &ds, train_k, test_fraction);
	}
	m->target = tcol ? pstrdup(tcol->name) : NULL;
	MmDatasetPrepare(&ds, m, p->impute);
	/* a stream's processes profile their rows as they score them */
	if (dp != NULL && !ds.stream)
		*profile = MmDataParProfile(dp, &ds, m);
	nparams = (int64) (m->ncols + (p->fit_intercept ? 1 : 0)) *
		(algorithm == MM_ALG_LOGISTIC_REGRESSION ? mm_logistic_nsets(m->nclasses) : 1);
	if (algorithm == MM_ALG_KMEANS && ds.n_train < p->k)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" needs at least %d training rows for %d clusters, but got " INT64_FORMAT,
						model, p->k, p->k, ds.n_train),
				 errdetail(INT64_FORMAT " of the source's " INT64_FORMAT " rows were held out (test_fraction %g).",
						   ds.n - ds.n_train, ds.n, test_fraction),
				 errhint("Lower params.k, add rows, or lower test_fraction.")));
	if (algorithm == MM_ALG_PCA && ds.n_train < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" needs at least 2 training rows, but got " INT64_FORMAT,
						model, ds.n_train),
				 errhint("Add rows, or lower test_fraction.")));
	if (algorithm == MM_ALG_PCA && p->n_components > (int) m->ncols)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"n_components\" is %d, but model \"%s\" has %u encoded features",
						p->n_components, model, m->ncols),
				 errhint("Use at most %u components, or leave n_components out for all of them.",
						 m->ncols)));
	if (algorithm <= MM_ALG_LOGISTIC_REGRESSION && n_train_all < nparams)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" needs at least " INT64_FORMAT " training rows, but got " INT64_FORMAT,
						model, nparams, n_train_all),
				 errdetail("%s with %u encoded features has " INT64_FORMAT " parameters; " INT64_FORMAT " of the source's " INT64_FORMAT " rows were held out (test_fraction %g).",
						   algname, m->ncols, nparams, n_all - n_train_all, n_all, test_fraction),
				 errhint("Add rows, use fewer features, or lower test_fraction.")));

	/*
	 * The encoded matrices and the solver's own, against the budget; a
	 * search also holds the rows of one fold split, and the largest of its
	 * candidates counts.
	 */
	for (int c = 0; c < (search ? search->ncand : 1); c++)
	{
		const MmTrainParams *cp = search ? &search->cand[c] : p;
		int64		cols = m->ncols + 1;
		int64		sets = algorithm == MM_ALG_LOGISTIC_REGRESSION ? mm_logistic_nsets(m->nclasses) : 1;
		/* a stream keeps no row */
		double		need = ds.stream ? 0.0 : (double) ds.n * (ds.rawd + 2) * sizeof(double) +
			(double) ds.n * m->ncols * sizeof(double);

		if (algorithm == MM_ALG_KMEANS)
		{
			MmKMeansParams kp = {cp->k, cp->init, cp->n_init, cp->max_iter, cp->tol, 0};

			/*
			 * centres of every restart and the best, per-block buffers; per
			 * row a label and a distance, and for k-means++ |x - mu|^2 and
			 * each candidate's distance (2 + floor(log k) candidates), for
			 * random seeds an index
			 */
			need += (3.0 * cp->k * m->ncols + 1024.0 * (cp->k + m->ncols)) * sizeof(double) +
				(double) ds.n * (sizeof(int32) + sizeof(double) +
								 (cp->init == 0 ? (3.0 + Min(floor(log(cp->k)), 62.0)) * sizeof(double) :
								  sizeof(int64)));
			/* with workers, a copy of the rows in shared memory, and each part's sums */
			if (cp->k <= ds.n_train && MmKMeansWorkers(ds.n_train, (int) m->ncols, &kp) > 0)
				need += ((double) ds.n_train * m->ncols +
						 (double) mm_kmeans_parts_of(ds.n_train, (int) m->ncols, &kp) *
						 (cp->k + 1) * m->ncols) * sizeof(double);
		}
		else if (algorithm == MM_ALG_MLP)
		{
			/* weights, gradient, two optimiser moments, best copy; batch activations */
			double		weights = 0.0;
			double		widest = m->ncols;
			double		prev_width = m->ncols;
			double		out = classifier ? m->nclasses : 1;

			for (int l = 0; l <= cp->mlp.nhidden; l++)
			{
				double		w = l < cp->mlp.nhidden ? cp->mlp.hidden[l] : out;

				weights += (prev_width + 1) * w;
				widest = Max(widest, w);
				prev_width = w;
			}
			need += weights * 5 * sizeof(double) +
				(double) Min(cp->mlp.batch_size, Max(ds.n_train, 1)) * widest *
				(cp->mlp.nhidden + 2) * 3 * sizeof(double);
		}
		else
			need += (double) (cols * sets) * (cols * sets) * 2 * sizeof(double);
		if (search)
			need += (double) ds.n_train * m->ncols * sizeof(double);
		if (algorithm == MM_ALG_STACKING)
			need += (double) ds.n_train * (2.0 * m->ncols + p->stack->nmembers * Max(m->nclasses, 1)) *
				sizeof(double);

		if (need > (double) mm_max_train_memory_kb * 1024)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("training model \"%s\" needs about %.0f kB, more than mm.max_train_memory (%d kB)",
							model, need / 1024, mm_max_train_memory_kb),
					 errdetail(INT64_FORMAT " rows of %u encoded features.", ds.n, m->ncols),
					 errhint("Raise mm.max_train_memory, use fewer or smaller categorical features, or train on a sample.")));
	}
	if (p->warm_start)
		prev = MmWarmStartFrom(model, algorithm, p, m);
	/*
	 * The training rows as they were read, when nothing will scale them in
	 * place (no scale, no search or stacking, which refit on their copies).
	 */
	if (dp != NULL)
	{
		/* every process fits from its rows where they are */
		X = y = NULL;
		nt = n_train_all;
	}
	else
		X = MmDatasetMatrix(&ds, m, false, &nt, &y,
							p->scale == MM_SCALE_NONE && prev == NULL && !search &&
							algorithm != MM_ALG_STACKING);
	if (search || algorithm == MM_ALG_STACKING)
	{
		int64		i = 0;

		u = palloc_extended(sizeof(double) * Max(nt, 1), MCXT_ALLOC_HUGE);
		for (int64 r = 0; r < ds.n; r++)
			if (!ds.heldout[r])
				u[i++] = ds.u[r];
	}
	if (search)
	{
		int			task = p->task;	/* an mlp's, settled from the target */

		MmSearchRun(model, algorithm, search, m, X, y, u, nt);
		*p = search->cand[search->best];
		p->task = task;
		if (p->verbose)
			ereport(NOTICE,
					(errmsg("model \"%s\": refitting candidate %d, %s, on all " INT64_FORMAT " training rows",
							model, search->best + 1, search->cand_json[search->best], nt),
					 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));
	}
	if (algorithm == MM_ALG_STACKING)
		MmFitStacking(model, p->stack, m, X, y, u, nt);
	else if (dp != NULL && algorithm == MM_ALG_NAIVE_BAYES)
	{
		m->scale = MM_SCALE_NONE;
		m->var_smoothing = p->var_smoothing;
		m->nb_alpha = p->alpha;
		MmDataParNbFit(dp, &ds, m, MmNbGroups(m), p->var_smoothing, p->alpha, model);
	}
	else if (dp != NULL)
	{
		MmDataParScale(dp, &ds, m, p->scale);
		MmFitLogistic(model, p, m, NULL, NULL, n_train_all, NULL, dp, &ds);
	}
	else
	{
		if (prev == NULL)
			MmDatasetFitScale(m, X, nt, p->scale, algorithm == MM_ALG_NAIVE_BAYES);
		MmFitMatrix(model, algorithm, p, m, X, y, nt, prev, &pca_ratio);
	}
	*n_train = nt;
	if (p->verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": fitted on " INT64_FORMAT " rows of %u encoded features",
						model, nt, m->ncols),
				 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));

	/* score the held-out rows, or the training rows when none were held out */
	MmProgressPhase("evaluating");
	if (dp != NULL)
	{
		/* each process scores its rows; then the workers go */
		MmClsMetrics met;
		MmClsResult res;
		MmAlloc		alloc = MmContextAllocator(CurrentMemoryContext);
		bool		heldout = n_all > n_train_all;

		on = heldout ? "heldout" : "train";
		mm_clsmetrics_init(&met, m->nclasses, &alloc);
		MmDataParScore(dp, &ds, m, model, heldout, &met, profile);
		/* the metrics while the workers end */
		if (!mm_clsmetrics_result(&met, &res))
			res.accuracy = NAN;
		MmDataParEnd(dp);
		*primary = res.accuracy;
		return MmClassificationMetricsJsonb(m, &met, &res, on);
	}
	on = "heldout";
	Xs = MmDatasetMatrix(&ds, m, true, &ns, &ys, false);
	if (ns == 0)
	{
		on = "train";
		Xs = X;
		ys = y;
		ns = nt;
	}
	if (algorithm == MM_ALG_KMEANS)
		return MmClusteringMetrics(m, Xs, ns, (uint64) p->seed, on, primary);
	if (algorithm == MM_ALG_PCA)
	{
		*primary = NAN;
		return MmDecompositionMetrics(m, pca_ratio, nt);
	}
	if (!classifier)
	{
		MmRegMetrics met;
		MmRegResult res;

		mm_regmetrics_init(&met);
		for (int64 r = 0; r < ns; r++)
			mm_regmetrics_add(&met, ys[r], MmModelValue(m, Xs + r * m->ncols));
		if (!mm_regmetrics_result(&met, &res))
			res.rmse = NAN;
		*primary = res.rmse;
		return MmRegressionMetricsJsonb(&res, on);
	}
	else
	{
		MmClsMetrics met;
		MmClsResult res;
		double	   *proba = palloc(sizeof(double) * m->nclasses);

		MmAlloc		alloc = MmContextAllocator(CurrentMemoryContext);

		mm_clsmetrics_init(&met, m->nclasses, &alloc);
		for (int64 r = 0; r < ns; r++)
		{
			MmModelProba(m, Xs + r * m->ncols, proba);
			mm_clsmetrics_add(&met, (int) ys[r], proba);
			if ((r & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		if (!mm_clsmetrics_result(&met, &res))
			res.accuracy = NAN;
		*primary = res.accuracy;
		return MmClassificationMetricsJsonb(m, &met, &res, on);
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
	MmLinSink	sink;
	MmModel		m;
	MmRegMetrics met;
	MmRegResult res;
	const char *on;
	bytea	   *blob;
	Jsonb	   *metrics;
	int32		version;
	bool		deployed;
	int64		nparams;
	int			label_type;
	bool		use_scan;
	bool		elastic;
	bool		direct = false;
	int			workers = 0;
	MmLinPar   *lpar = NULL;
	MmScan	   *rescan = NULL;
	int64		rescan_rows = -1;
	int64		own;			/* the rows this backend scores */
	int64		kept;
	bool		scored_kept;
	bool		unsupervised;
	bool		open_task;
	bool		searching;
	Jsonb	   *profile = NULL;
	MmSearch	search;
	MmStack		stack;
	int64		n_train;
	double		primary;
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
	if (algorithm == MM_ALG_ENSEMBLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an ensemble is assembled from trained models, not trained"),
				 errhint("Use mm_ensemble(%s, ARRAY['model_a', 'model_b']), or train algorithm 'stacking'.", MmQuoteLiteral(model))));
	if (!MmAlgorithmInSql(algorithm) && algorithm != MM_ALG_STACKING)
		algorithm = 0;
	if (algorithm == 0)
	{
		for (int i = 0; i < lengthof(mm_planned_algorithms); i++)
			if (strcmp(algname, mm_planned_algorithms[i]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("algorithm \"%s\" is not available in this version of massmodel", algname),
						 errhint("Available algorithms: " MM_AVAILABLE_ALGORITHMS ".")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", algname),
				 errhint("Available algorithms: " MM_AVAILABLE_ALGORITHMS ".")));
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

	searching = false;
	if (algorithm == MM_ALG_STACKING)
		MmParseStacking(params, &p, &stack);
	else
		searching = MmParseSearch(params, algorithm, &search, &p);
	/* mlp and stacking do regression or classification: params or the target decide */
	open_task = algorithm == MM_ALG_MLP || algorithm == MM_ALG_STACKING;
	unsupervised = MmAlgorithmTask(algorithm) == MM_TASK_CLUSTERING ||
		MmAlgorithmTask(algorithm) == MM_TASK_DECOMPOSITION;
	if (unsupervised && target != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" does not take a target column", algname),
				 errhint("Leave target NULL; name the columns to use with features => ARRAY[...].")));
	if (!unsupervised && target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm \"%s\" needs a target column", algname),
				 errhint("Name the column to predict with target => 'column'.")));

	/* an existing model: check the privilege before reading any data */
	MmCatalogBegin(&cat);
	if (MmLookupModel(model, &row, false))
		MmCheckTrainable(model, &row, algorithm, open_task ? p.task : MmAlgorithmTask(algorithm),
						 cat.save_userid);
	MmCatalogEnd(&cat);

	MmProgressStart(model, algname);

	/* the source and its columns, as the caller */
	MmOpenSource(source, &src);
	memset(&tcol, 0, sizeof(tcol));
	attno = 0;
	label_type = MM_LABEL_NONE;
	if (!unsupervised)
	{
		attno = MmFindColumn(&src, target);
		if (attno == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("target column \"%s\" does not exist in source \"%s\"", target, source)));
		if (open_task && p.task == 0)
			p.task = MmTargetIsCategorical(&src, attno) ? MM_TASK_CLASSIFICATION : MM_TASK_REGRESSION;
		if (algorithm == MM_ALG_STACKING && stack.task == 0)
			MmStackResolveTask(&stack, p.task);
		if (open_task)
		{
			/* the task is known now: refuse a clash before reading any rows */
			MmCatalogBegin(&cat);
			if (MmLookupModel(model, &row, false))
				MmCheckTrainable(model, &row, algorithm, p.task, cat.save_userid);
			MmCatalogEnd(&cat);
		}
		label_type = MmClassifyTarget(&src, attno,
									  open_task ? p.task == MM_TASK_CLASSIFICATION :
									  MmIsClassifier(algorithm), &tcol);
	}

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
	if (ncols == 0 && unsupervised)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" has no columns", source)));
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

	/*
	 * Plain numeric regression takes one parallel-safe scan; everything else
	 * (classifiers, categorical features, NULLs to impute, scaling) reads
	 * the rows into memory first.
	 */
	elastic = algorithm == MM_ALG_LASSO || algorithm == MM_ALG_ELASTIC_NET;
	use_scan = !searching && (algorithm <= MM_ALG_RIDGE || elastic) &&
		p.impute == MM_IMPUTE_ERROR && p.scale == MM_SCALE_NONE;
	for (int i = 0; i < ncols; i++)
		use_scan &= cols[i].kind != MM_COL_TEXT;
	memset(&m, 0, sizeof(m));
	m.algorithm = algorithm;
	m.task = open_task ? p.task : MmAlgorithmTask(algorithm);
	if (!use_scan)
	{
		metrics = MmTrainInMemory(model, algorithm, &p, &src, unsupervised ? NULL : &tcol,
								  label_type, cols, ncols, test_fraction,
								  searching ? &search : NULL, &m, &n_train, &primary, &profile, start);
		if (searching)
			metrics = MmJsonbWithKey(metrics, "search", search.table);
		if (algorithm == MM_ALG_PCA)
			p.n_components = (int) m.n_components;
	}
	else
	{
		/* one scan: training co-moments and held-out rows */
		extschema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
		state = MmScanLinearStats(extschema, &src, &tcol, cols, ncols, &p, test_fraction, &sink,
								  &direct, &workers, &lpar, &rescan, &rescan_rows);
		if (state == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("source \"%s\" has no rows", source),
					 errhint("A model is trained on at least as many rows as it has parameters.")));
		MmLinStateUnpack(state, &sink, &st);
		MmProgressRows((int64) st.n + st.heldout_n);
		MmProgressPhase("fitting");
		if (st.nargs != ncols)
			elog(ERROR, "the training scan returned statistics of %d columns, not %d",
				 st.nargs, ncols);
		if (p.verbose)
			ereport(NOTICE,
					(errmsg("model \"%s\": read %.0f training and " INT64_FORMAT " held-out rows%s%s",
							model, st.n, st.heldout_n,
							!direct ? "" : workers == 0 ? " directly from the table" :
							psprintf(" directly from the table with %d parallel worker%s",
									 workers, workers == 1 ? "" : "s"),
							st.heldout_complete ? "" : st.kept_all ?
							"; the rows are scored in a second pass (a parallel plan, or beyond mm.max_train_memory)" :
							"; the held-out rows exceed mm.max_train_memory and are scored in a second pass"),
					 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));

		/* least squares needs a row per parameter; the penalised fits one row */
		nparams = elastic ? 1 : (st.d - 1) + (p.fit_intercept ? 1 : 0);
		if (st.n < nparams)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("model \"%s\" needs at least " INT64_FORMAT " training rows, but got %.0f",
							model, nparams, st.n),
					 errdetail("%s with %d encoded features has " INT64_FORMAT " parameters; " INT64_FORMAT " of the source's %.0f rows were held out (test_fraction %g).",
							   algname, st.d - 1, nparams, st.heldout_n, st.n + st.heldout_n, test_fraction),
					 errhint("Add rows, use fewer features, or lower test_fraction.")));

		/* fit */
		MmBuildSchema(&m, tcol.name, cols, ncols, &st);
		if (elastic)
			MmFitElastic(model, &p, &m, NULL, NULL, 0, st.n, st.mean, st.C);
		else
			MmSolveLinear(model, &m, p.fit_intercept, p.alpha, st.n, st.mean, st.C);

		/*
		 * Score and profile the kept rows: the held-out rows, or every row
		 * with nothing held out.  The workers of a direct read hold theirs:
		 * they score and profile them and end parallel mode.  With nothing
		 * held out, a direct read keeps no row: the backend and the workers
		 * read the pages again instead (MmScoreRescan): each its own, then
		 * those another has not reached yet.  A second pass
		 * scores the rows when not all were kept; the profile is then from
		 * the kept held-out rows, or none when all rows were to be kept.
		 */
		MmProgressPhase("evaluating");
		mm_regmetrics_init(&met);
		on = st.heldout_n > 0 ? "heldout" : "train";
		own = rescan != NULL ? rescan_rows : st.heldout_kept;
		kept = own + (lpar != NULL ? MmLinParKept(lpar) : 0);
		scored_kept = st.heldout_complete &&
			(st.heldout_n > 0 || (st.kept_all && kept == (int64) st.n));
		{
			double	  **parts = palloc(sizeof(double *) * (workers + 1));
			int		   *pos = palloc(sizeof(int) * Max(m.ncols, 1));
			int			npos = MmProfilePositions(&m, pos);
			int64		step = MmProfileStep(kept);
			bool		shared = rescan != NULL && lpar != NULL;
			int64		scored = 0;
			MmProfilePart *pp;
			Size		len;
			int			nparts = 1;

			/* the workers score theirs while this backend scores its own */
			if (lpar != NULL)
				MmLinParScore(lpar, &m, step, kept, pos, npos);
			pp = MmProfilePartBegin(pos, npos, shared ? kept : own, step);
			if (rescan != NULL)
				scored = MmScoreRescan(rescan, &m, shared ? kept : own, shared, st.d,
									   scored_kept ? &met : NULL, pp);
			else
				MmScoreRows(&m, st.heldout, st.heldout_kept, st.d, scored_kept ? &met : NULL, pp);
			parts[0] = MmProfilePartEnd(pp, &len);
			if (lpar != NULL)
			{
				scored += MmLinParCollect(lpar, &met, parts + 1);
				nparts += workers;
				lpar = NULL;
			}
			/* the same rows under the same snapshot, however the processes shared them */
			if (shared && scored != kept)
				elog(ERROR, "the second read of the training rows found " INT64_FORMAT " rows, not " INT64_FORMAT,
					 scored, kept);
			/* not from a prefix of the rows when all were to be kept */
			profile = st.kept_all && !st.heldout_complete ? NULL :
				MmProfileFromParts(&m, parts, nparts, on);
		}
		if (!scored_kept)
		{
			mm_regmetrics_init(&met);
			if (st.heldout_n > 0)
				MmScoreOverSource(&m, model, &src, MM_ROWS_HELDOUT, (uint64) p.seed,
								  test_fraction, &met, NULL, NULL, NULL);
			else
				MmScoreOverSource(&m, model, &src, MM_ROWS_ALL, 0, 0, &met, NULL, NULL, NULL);
		}
		if (!mm_regmetrics_result(&met, &res))
		{
			/* nothing scored (a source that changed between passes): no metric */
			res.n = 0;
			res.mse = res.rmse = res.mae = res.r2 = res.explained_variance = NAN;
		}
		metrics = MmRegressionMetricsJsonb(&res, on);
		n_train = (int64) st.n;
		primary = res.rmse;
	}

	MmProgressPhase("storing");
	blob = MmModelBlob(&m, model);
	deployed = MmStoreVersion(model, algorithm, m.task, policy, MmParamsJsonb(algorithm, &p),
							  MmFeaturesJsonb(&m), unsupervised ? NULL : tcol.name, metrics, primary,
							  n_train, MmElapsedMs(start), source, test_fraction,
							  blob, "train", profile, &version);
	if (p.verbose)
		ereport(NOTICE,
				(errmsg("model \"%s\": version %d stored%s", model, version,
						deployed ? " and deployed" : ""),
				 errdetail("%.1f ms elapsed.", MmElapsedMs(start))));

	MmProgressEnd();

	/* the result row */
	InitMaterializedSRF(fcinfo, 0);
	outv[0] = CStringGetTextDatum(model);
	outv[1] = Int32GetDatum(version);
	outv[2] = JsonbPGetDatum(metrics);
	outv[3] = BoolGetDatum(deployed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, outv, outn);
	return (Datum) 0;
}
