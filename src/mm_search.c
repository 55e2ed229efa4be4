/*
 * mm_search.c
 *	  Hyper-parameter search inside mm_train: grid or random candidates,
 *	  each scored by k-fold cross-validation on the training rows.
 *
 * A param given as a JSON array is a search dimension ("hidden_layers",
 * whose value is itself an array, is one when its elements are arrays).
 * The candidates are built as params objects and parsed by the same
 * MmParseParams as a plain train, so every candidate is checked before any
 * row is read.  The rows are read and encoded once; each fold's rows are
 * copied out of that one matrix, the scaling is learnt on the fold's
 * training rows only (as a scikit-learn Pipeline does), and the fold's
 * other rows are scored with the primary metric (rmse, accuracy).
 *
 * Folds are order-independent and stratified: the training rows of each
 * class (regression: all of them) are ordered by their split number (the
 * seeded hash of the row that also decides the held-out rows) and dealt
 * round-robin, so fold sizes differ by at most one per class.
 */
#include "massmodel.h"
#include "mm_train.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#define MM_SEARCH_MAX_GRID	100000
#define MM_SEARCH_MAX_CV	1000
#define MM_SEARCH_MAX_DIMS	32

/* params that are settings of the train, not hyper-parameters */
static const char *const mm_unsearchable[] = {
	"seed", "verbose", "warm_start", "impute", "task"
};

/* one search dimension: a key and its candidate values as JSON text */
typedef struct MmDim
{
	char	   *key;
	int			n;
	char	  **vals;
} MmDim;

/* A JSON value (scalar or container) as text. */
static char *
MmJsonText(JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* An integer setting of the search (cv, n_iter), checked. */
static int
MmSearchInt(const char *key, JsonbValue *v, int lo, int hi, const char *hint)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be an integer", key),
				 errhint("%s", hint)));
	d = MmNumericDouble(v->val.numeric);
	if (d != floor(d) || d < lo || d > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" must be an integer from %d to %d, not %s", key, lo, hi,
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)))),
				 errhint("%s", hint)));
	return (int) d;
}

/* Is a container value an array of arrays (a search over layer lists)? */
static bool
MmArrayOfArrays(JsonbValue *v)
{
	JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
	JsonbValue	e;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
			return e.type == jbvBinary && JsonContainerIsArray(e.val.binary.data);
	return false;
}

static int
MmCompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Candidate index of the grid (mixed radix over the dimensions, the last
 * fastest): its params object, parsed into *p as a plain train's, and the
 * searched values alone as a JSON object in *chosen.
 */
static void
MmCandidate(int algorithm, int nkeys, char **keys, char **vals, const int *dimof,
			const MmDim *dims, int ndims, int64 index, MmTrainParams *p, char **chosen)
{
	StringInfoData obj;
	StringInfoData sel;
	int			at[MM_SEARCH_MAX_DIMS];

	for (int d = ndims - 1; d >= 0; d--)
	{
		at[d] = (int) (index % dims[d].n);
		index /= dims[d].n;
	}
	initStringInfo(&obj);
	initStringInfo(&sel);
	appendStringInfoChar(&obj, '{');
	appendStringInfoChar(&sel, '{');
	for (int i = 0; i < nkeys; i++)
	{
		const char *val = dimof[i] >= 0 ? dims[dimof[i]].vals[at[dimof[i]]] : vals[i];

		if (i > 0)
			appendStringInfoString(&obj, ", ");
		escape_json(&obj, keys[i]);
		appendStringInfo(&obj, ": %s", val);
		if (dimof[i] >= 0)
		{
			if (sel.len > 1)
				appendStringInfoString(&sel, ", ");
			escape_json(&sel, keys[i]);
			appendStringInfo(&sel, ": %s", val);
		}
	}
	appendStringInfoChar(&obj, '}');
	appendStringInfoChar(&sel, '}');
	MmParseParams(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(obj.data))),
				  algorithm, p);
	*chosen = sel.data;
}

/*
 * Read params: when they ask for a search (a param given as an array, or
 * "search", "cv", "n_iter"), fill s with every candidate, parsed and
 * checked, set *p to the first one and return true.  Otherwise parse them
 * into *p as a plain train and return false.
 */
bool
MmParseSearch(Jsonb *params, int algorithm, MmSearch *s, MmTrainParams *p)
{
	const char *algname = mm_algorithm_name(algorithm);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key;
	int			nkeys = 0;
	char	  **keys;
	char	  **vals;
	int		   *dimof;
	MmDim		dims[MM_SEARCH_MAX_DIMS];
	int			ndims = 0;
	bool		has_search = false;
	bool		has_cv = false;
	bool		has_n_iter = false;
	int64		grid = 1;
	int64	   *pick;
	const char *example = "For example: '{\"alpha\": [0.1, 1, 10], \"search\": \"grid\", \"cv\": 5}'.";

	memset(s, 0, sizeof(*s));
	if (params == NULL || !JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
	{
		MmParseParams(params, algorithm, p);
		return false;
	}

	keys = palloc(sizeof(char *) * JB_ROOT_COUNT(params));
	vals = palloc(sizeof(char *) * JB_ROOT_COUNT(params));
	dimof = palloc(sizeof(int) * JB_ROOT_COUNT(params));
	s->cv = 5;
	s->n_iter = 10;
	it = JsonbIteratorInit(&params->root);
	while (MmJsonbNextPair(&it, &key, &v))
	{
		if (strcmp(key, "search") == 0)
		{
			char	   *m = v.type == jbvString ? pnstrdup(v.val.string.val, v.val.string.len) : NULL;

			if (m == NULL || (strcmp(m, "grid") != 0 && strcmp(m, "random") != 0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"search\" must be 'grid' or 'random', not %s", MmJsonText(&v)),
						 errhint("'grid' tries every combination, 'random' n_iter of them.")));
			s->random = strcmp(m, "random") == 0;
			has_search = true;
			continue;
		}
		if (strcmp(key, "cv") == 0)
		{
			s->cv = MmSearchInt(key, &v, 2, MM_SEARCH_MAX_CV,
								"cv is the number of cross-validation folds, for example 5.");
			has_cv = true;
			continue;
		}
		if (strcmp(key, "n_iter") == 0)
		{
			s->n_iter = MmSearchInt(key, &v, 1, MM_SEARCH_MAX_GRID,
									"n_iter is the number of candidates a random search samples.");
			has_n_iter = true;
			continue;
		}
		keys[nkeys] = key;
		vals[nkeys] = MmJsonText(&v);
		dimof[nkeys] = -1;
		if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data) &&
			(strcmp(key, "hidden_layers") != 0 || MmArrayOfArrays(&v)))
		{
			JsonbIterator *ait = JsonbIteratorInit(v.val.binary.data);
			JsonbValue	e;
			MmDim	   *d = &dims[ndims];

			for (int i = 0; i < lengthof(mm_unsearchable); i++)
				if (strcmp(key, mm_unsearchable[i]) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("parameter \"%s\" cannot be searched", key),
							 errdetail("A JSON array of values makes a parameter a search dimension; \"%s\" is a setting of the training, not a hyper-parameter.", key),
							 errhint("Give \"%s\" a single value.", key)));
			if (ndims == MM_SEARCH_MAX_DIMS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("a search has at most %d dimensions", MM_SEARCH_MAX_DIMS)));
			d->key = key;
			d->n = 0;
			d->vals = palloc(sizeof(char *) * Max(JsonContainerSize(v.val.binary.data), 1));
			while ((tok = JsonbIteratorNext(&ait, &e, true)) != WJB_DONE)
				if (tok == WJB_ELEM)
					d->vals[d->n++] = MmJsonText(&e);
			if (d->n == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("parameter \"%s\" is an empty array: a search dimension needs at least one value", key),
						 errhint("%s", example)));
			grid *= d->n;
			if (grid > MM_SEARCH_MAX_GRID)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("the search grid has more than %d combinations", MM_SEARCH_MAX_GRID),
						 errhint("Give fewer values per parameter.")));
			dimof[nkeys] = ndims++;
		}
		nkeys++;
	}

	if (ndims == 0 && !has_search && !has_cv && !has_n_iter)
	{
		MmParseParams(params, algorithm, p);
		return false;
	}
	if (MmAlgorithmTask(algorithm) == MM_TASK_CLUSTERING ||
		MmAlgorithmTask(algorithm) == MM_TASK_DECOMPOSITION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("algorithm \"%s\" cannot be cross-validated", algname),
				 errdetail("Search and cross-validation score candidates by a supervised metric (rmse or accuracy)."),
				 errhint("Train one version per setting and compare their metrics in mm_versions.")));
	if (has_search && ndims == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("params ask for a %s search, but no parameter is a JSON array of candidate values",
						s->random ? "random" : "grid"),
				 errhint("%s", example)));
	if (has_n_iter && !s->random)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"n_iter\" needs \"search\": \"random\""),
				 errhint("A grid search tries every combination.")));

	/* the candidates: every combination, or n_iter of them drawn from the seed */
	s->grid_size = grid;
	if (s->random && s->n_iter < grid)
	{
		MmTrainParams first;
		char	   *chosen;
		MmRng		rng;
		int64	   *perm = palloc_extended(sizeof(int64) * grid, MCXT_ALLOC_HUGE);

		/* the seed, checked as every candidate's params will be */
		MmCandidate(algorithm, nkeys, keys, vals, dimof, dims, ndims, 0, &first, &chosen);
		mm_rng_seed(&rng, (uint64) first.seed ^ UINT64_C(0x5345415243480000));
		for (int64 i = 0; i < grid; i++)
			perm[i] = i;
		for (int i = 0; i < s->n_iter; i++)
		{
			int64		j = i + (int64) mm_rng_below(&rng, (uint64) (grid - i));
			int64		t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		s->ncand = s->n_iter;
		pick = perm;
		qsort(pick, s->ncand, sizeof(int64), MmCompareInt64);
	}
	else
	{
		s->ncand = (int) grid;
		pick = palloc(sizeof(int64) * grid);
		for (int64 i = 0; i < grid; i++)
			pick[i] = i;
	}

	s->cand = palloc0(sizeof(MmTrainParams) * s->ncand);
	s->cand_json = palloc0(sizeof(char *) * s->ncand);
	for (int c = 0; c < s->ncand; c++)
		MmCandidate(algorithm, nkeys, keys, vals, dimof, dims, ndims, pick[c],
					&s->cand[c], &s->cand_json[c]);
	if (s->cand[0].warm_start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("warm_start cannot be combined with a search or cross-validation"),
				 errhint("Search first; then warm-start later versions from the chosen one.")));
	*p = s->cand[0];
	return true;
}

/* sort keys of MmFolds: class, then split number, then position */
typedef struct MmFoldKey
{
	double		cls;
	double		u;
	int64		pos;
} MmFoldKey;

static int
MmCompareFoldKeys(const void *a, const void *b)
{
	const MmFoldKey *x = (const MmFoldKey *) a;
	const MmFoldKey *y = (const MmFoldKey *) b;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	if (x->u != y->u)
		return x->u < y->u ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * The fold (0..k-1) of each of n training rows: per class (classifier:
 * y holds class indices) or over all rows (regression), ordered by split
 * number u, dealt round-robin.
 */
int32 *
MmFolds(const double *u, const double *y, int64 n, bool classifier, int k)
{
	MmFoldKey  *keys = palloc_extended(sizeof(MmFoldKey) * Max(n, 1), MCXT_ALLOC_HUGE);
	int32	   *fold = palloc_extended(sizeof(int32) * Max(n, 1), MCXT_ALLOC_HUGE);
	int64		dealt = 0;

	for (int64 i = 0; i < n; i++)
	{
		keys[i].cls = classifier ? y[i] : 0.0;
		keys[i].u = u[i];
		keys[i].pos = i;
	}
	qsort(keys, n, sizeof(MmFoldKey), MmCompareFoldKeys);
	for (int64 i = 0; i < n; i++)
	{
		if (i > 0 && keys[i].cls != keys[i - 1].cls)
			dealt = 0;
		fold[keys[i].pos] = (int32) (dealt++ % k);
	}
	pfree(keys);
	return fold;
}

/*
 * Refuse a cross-validation that cannot work: fewer training rows than
 * folds, or (folds being stratified) a class with fewer rows than folds.
 */
void
MmCheckFolds(const char *model, const MmModel *schema, const double *y, int64 nt, int k)
{
	if (nt < k)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" has " INT64_FORMAT " training rows, fewer than the %d cross-validation folds",
						model, nt, k),
				 errhint("Lower params.cv, add rows, or lower test_fraction.")));
	if (schema->task == MM_TASK_CLASSIFICATION)
	{
		int64	   *count = palloc0(sizeof(int64) * schema->nclasses);

		for (int64 r = 0; r < nt; r++)
			count[(int) y[r]]++;
		for (uint32 c = 0; c < schema->nclasses; c++)
			if (count[c] < k)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("class \"%s\" of model \"%s\" has " INT64_FORMAT " training rows, fewer than the %d cross-validation folds",
								schema->labels[c], model, count[c], k),
						 errdetail("Folds are stratified: every fold needs rows of every class."),
						 errhint("Lower params.cv, or add rows of that class.")));
	}
}

/*
 * Copy the rows of fold f (in order) to Xte/yte and the others to
 * Xtr/ytr; p values per row.
 */
void
MmFoldSplit(const double *X, const double *y, const int32 *fold, int f, int64 nt, uint32 p,
			double *Xtr, double *ytr, int64 *ntr, double *Xte, double *yte, int64 *nte)
{
	*ntr = *nte = 0;
	for (int64 r = 0; r < nt; r++)
	{
		if (fold[r] == f)
		{
			memcpy(Xte + *nte * p, X + r * p, sizeof(double) * p);
			yte[(*nte)++] = y[r];
		}
		else
		{
			memcpy(Xtr + *ntr * p, X + r * p, sizeof(double) * p);
			ytr[(*ntr)++] = y[r];
		}
	}
}

/*
 * Fit fm (a copy of the schema) on a fold's ntr training rows: the scaling
 * learnt on them (as a scikit-learn Pipeline does) and applied to them and
 * to the fold's nte other rows Xte, then the algorithm.
 */
void
MmFitFold(const char *model, int algorithm, const MmTrainParams *p, MmModel *fm,
		  double *Xtr, const double *ytr, int64 ntr, double *Xte, int64 nte)
{
	fm->algorithm = algorithm;
	MmDatasetFitScale(fm, Xtr, ntr, p->scale, algorithm == MM_ALG_NAIVE_BAYES);
	for (int64 r = 0; r < nte; r++)
		mm_model_scale(fm, Xte + r * fm->ncols);
	MmFitMatrix(model, algorithm, p, fm, Xtr, ytr, ntr, NULL, NULL);
}

/* The primary metric of m on n encoded, scaled rows: rmse or accuracy. */
double
MmPrimaryScore(const MmModel *m, const double *X, const double *y, int64 n)
{
	double		sum = 0.0;

	if (m->task == MM_TASK_CLASSIFICATION)
	{
		double	   *proba = palloc(sizeof(double) * m->nclasses);

		for (int64 r = 0; r < n; r++)
		{
			if ((r & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			MmModelProba(m, X + r * m->ncols, proba);
			sum += MmArgmax(proba, m->nclasses) == (int) y[r];
		}
		pfree(proba);
		return n > 0 ? sum / n : NAN;
	}
	for (int64 r = 0; r < n; r++)
	{
		double		e = MmModelValue(m, X + r * m->ncols) - y[r];

		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();

		sum += e * e;
	}
	return n > 0 ? sqrt(sum / n) : NAN;
}

/* where a cross-validation is, for the context of its errors */
typedef struct MmCvWhere
{
	const MmSearch *s;
	int			cand;
	int			fold;
} MmCvWhere;

static void
MmCvErrorContext(void *arg)
{
	MmCvWhere  *w = (MmCvWhere *) arg;

	errcontext("cross-validation of candidate %d of %d %s, fold %d of %d",
			   w->cand + 1, w->s->ncand, w->s->cand_json[w->cand], w->fold + 1, w->s->cv);
}

/*
 * Score every candidate by k-fold cross-validation on the nt training rows
 * X (encoded, not scaled; y their targets, u their split numbers), pick the
 * best by mean score (the first on ties) and build the search table.
 * schema: the model with its feature schema and labels, not fitted.
 */
void
MmSearchRun(const char *model, int algorithm, MmSearch *s, const MmModel *schema,
			const double *X, const double *y, const double *u, int64 nt)
{
	bool		classifier = schema->task == MM_TASK_CLASSIFICATION;
	int			k = s->cv;
	uint32		p = schema->ncols;
	int32	   *fold;
	int64	   *fsize;
	int64		maxfold = 0;
	double	   *Xtr;
	double	   *ytr;
	double	   *Xte;
	double	   *yte;
	double	   *scores = palloc(sizeof(double) * s->ncand * k);
	double	   *mean = palloc(sizeof(double) * s->ncand);
	double	   *sd = palloc(sizeof(double) * s->ncand);
	MemoryContext fitcxt;
	MemoryContext old;
	MmCvWhere	where;
	ErrorContextCallback cb;
	StringInfoData t;

	MmCheckFolds(model, schema, y, nt, k);
	fold = MmFolds(u, y, nt, classifier, k);
	fsize = palloc0(sizeof(int64) * k);
	for (int64 r = 0; r < nt; r++)
		fsize[fold[r]]++;
	for (int f = 0; f < k; f++)
		maxfold = Max(maxfold, fsize[f]);
	Xtr = palloc_extended(sizeof(double) * nt * Max(p, 1), MCXT_ALLOC_HUGE);
	ytr = palloc_extended(sizeof(double) * nt, MCXT_ALLOC_HUGE);
	Xte = palloc_extended(sizeof(double) * maxfold * Max(p, 1), MCXT_ALLOC_HUGE);
	yte = palloc_extended(sizeof(double) * maxfold, MCXT_ALLOC_HUGE);

	fitcxt = AllocSetContextCreate(CurrentMemoryContext, "massmodel cross-validation fit",
								   ALLOCSET_DEFAULT_SIZES);
	where.s = s;
	cb.callback = MmCvErrorContext;
	cb.arg = &where;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	for (int c = 0; c < s->ncand; c++)
	{
		MmTrainParams pc = s->cand[c];
		double		sum = 0.0;
		double		dev = 0.0;

		pc.verbose = false;
		where.cand = c;
		for (int f = 0; f < k; f++)
		{
			MmModel		fm = *schema;
			int64		ntr;
			int64		nte;

			where.fold = f;
			MmFoldSplit(X, y, fold, f, nt, p, Xtr, ytr, &ntr, Xte, yte, &nte);
			old = MemoryContextSwitchTo(fitcxt);
			MmFitFold(model, algorithm, &pc, &fm, Xtr, ytr, ntr, Xte, nte);
			scores[c * k + f] = MmPrimaryScore(&fm, Xte, yte, nte);
			MemoryContextSwitchTo(old);
			MemoryContextReset(fitcxt);
			CHECK_FOR_INTERRUPTS();
		}
		for (int f = 0; f < k; f++)
			sum += scores[c * k + f];
		mean[c] = sum / k;
		for (int f = 0; f < k; f++)
			dev += (scores[c * k + f] - mean[c]) * (scores[c * k + f] - mean[c]);
		sd[c] = sqrt(dev / k);
		/* the NOTICE is not about a fold: without the fold's context */
		error_context_stack = cb.previous;
		if (s->cand[c].verbose)
			ereport(NOTICE,
					(errmsg("model \"%s\": candidate %d of %d %s, mean %s %.6g (std %.3g) over %d folds",
							model, c + 1, s->ncand, s->cand_json[c],
							classifier ? "accuracy" : "rmse", mean[c], sd[c], k)));
		error_context_stack = &cb;
	}
	error_context_stack = cb.previous;
	MemoryContextDelete(fitcxt);

	/* the best mean (the first on ties); a NaN mean (a diverged fit) never wins */
	s->best = 0;
	for (int c = 1; c < s->ncand; c++)
		if (isnan(mean[s->best]) ||
			(classifier ? mean[c] > mean[s->best] : mean[c] < mean[s->best]))
			s->best = c;

	initStringInfo(&t);
	appendStringInfo(&t, "{\"method\": \"%s\", \"cv\": %d, \"metric\": \"%s\", \"grid_size\": " INT64_FORMAT
					 ", \"best\": %d, \"best_params\": %s, \"fold_rows\": [",
					 s->random ? "random" : "grid", k, classifier ? "accuracy" : "rmse",
					 s->grid_size, s->best, s->cand_json[s->best]);
	for (int f = 0; f < k; f++)
		appendStringInfo(&t, "%s" INT64_FORMAT, f ? ", " : "", fsize[f]);
	appendStringInfoString(&t, "], \"candidates\": [");
	for (int c = 0; c < s->ncand; c++)
	{
		appendStringInfo(&t, "%s{\"params\": %s, \"mean\": ", c ? ", " : "", s->cand_json[c]);
		MmAppendJsonNumber(&t, mean[c]);
		appendStringInfoString(&t, ", \"std\": ");
		MmAppendJsonNumber(&t, sd[c]);
		appendStringInfoString(&t, ", \"folds\": ");
		MmAppendJsonNumbers(&t, scores + c * k, k);
		appendStringInfoChar(&t, '}');
	}
	appendStringInfoString(&t, "]}");
	s->table = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(t.data)));
	pfree(Xtr);
	pfree(Xte);
	pfree(ytr);
	pfree(yte);
}
