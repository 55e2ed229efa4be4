/*
 * test_ensemble.c
 *	  Unit tests of the massmodel core's ensembles and stackings
 *	  (mm_ensemble.c and the ensemble section of the blob), without a
 *	  server.
 *
 * A single program without a framework: every check prints "ok N - name"
 * or "not ok N - name: detail", the last line is "P passed, F failed" and
 * the exit status is 1 when anything failed.  Memory comes from a malloc
 * wrapper that aborts on NULL and records every block, so that everything
 * is freed at the end and valgrind reports no leak.
 *
 * Member models are built by hand with round parameters; every expected
 * prediction is computed here from those parameters (the linear formula,
 * the logistic sigmoid or softmax, a forward pass of the network), never
 * by calling the code under test.
 *
 * Run with `make unit`.
 */
/* fork() and waitpid(), to survive a crash in the code under test */
#define _POSIX_C_SOURCE 200809L

#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
 * Harness: check(), the tracking allocator talloc
 * --------------------------------------------------------------------- */
#include "mm_test.h"

/*
 * A second tracking allocator for the many blob reads of the damage
 * tests: it is reset after every read while the models built through
 * talloc stay alive.
 */
static TrackAlloc scratch;
static const MmAlloc salloc = {track_alloc, &scratch};

/* Tolerance of hand-computed values (relative, at least absolute). */
#define TOL 1e-12

/* got is within tol of want, relative to max(1, |want|) */
static bool
near(double got, double want, double tol)
{
	return fabs(got - want) <= tol * fmax(1.0, fabs(want));
}

/* ---------------------------------------------------------------------
 * Building models by hand
 * --------------------------------------------------------------------- */

/* A copy of s through talloc. */
static char *
tstr(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = talloc.alloc(talloc.ctx, n);

	memcpy(p, s, n);
	return p;
}

/* A copy of n doubles through talloc. */
static double *
tdup(const double *v, size_t n)
{
	double	   *p = mm_alloc0(&talloc, sizeof(double) * (n ? n : 1));

	memcpy(p, v, sizeof(double) * n);
	return p;
}

/* A numeric feature that refuses NULLs. */
static MmFeature
numf(const char *name)
{
	MmFeature	f;

	memset(&f, 0, sizeof(f));
	f.name = tstr(name);
	f.kind = MM_FEAT_NUMERIC;
	f.width = 1;
	return f;
}

/* An array feature of width w that refuses NULLs. */
static MmFeature
arrf(const char *name, uint32_t w)
{
	MmFeature	f = numf(name);

	f.kind = MM_FEAT_ARRAY;
	f.width = w;
	return f;
}

/* A categorical feature with levels[n] (ascending) that refuses NULLs. */
static MmFeature
catf(const char *name, uint32_t n, const char *const *levels)
{
	MmFeature	f = numf(name);

	f.kind = MM_FEAT_CATEGORICAL;
	f.width = n;
	f.nlevels = n;
	f.levels = mm_alloc0(&talloc, sizeof(char *) * n);
	for (uint32_t l = 0; l < n; l++)
		f.levels[l] = tstr(levels[l]);
	return f;
}

/* Let f fill NULLs by impute with fill[width]. */
static MmFeature
with_fill(MmFeature f, uint8_t impute, const double *fill)
{
	f.impute = impute;
	f.fill = tdup(fill, f.width);
	return f;
}

/* A model of algorithm alg and task with target "y" and features f[nf]. */
static MmModel *
new_model(uint16_t alg, uint8_t task, uint32_t nf, const MmFeature *f)
{
	MmModel    *m = mm_alloc0(&talloc, sizeof(MmModel));

	m->algorithm = alg;
	m->task = task;
	m->target = tstr("y");
	m->nfeatures = nf;
	m->features = mm_alloc0(&talloc, sizeof(MmFeature) * nf);
	memcpy(m->features, f, sizeof(MmFeature) * nf);
	for (uint32_t i = 0; i < nf; i++)
		m->ncols += f[i].width;
	return m;
}

/* A linear_regression or ridge with intercept b0 and coef[ncols]. */
static MmModel *
new_linear(uint16_t alg, uint32_t nf, const MmFeature *f, double b0,
		   const double *coef)
{
	MmModel    *m = new_model(alg, MM_TASK_REGRESSION, nf, f);

	m->fit_intercept = true;
	m->alpha = alg == MM_ALG_RIDGE ? 1.0 : 0.0;
	m->intercept = b0;
	m->coef = tdup(coef, m->ncols);
	return m;
}

/* Give m the scaling scale with center[ncols] and scalev[ncols]. */
static void
set_scale(MmModel *m, uint8_t scale, const double *center, const double *scalev)
{
	m->scale = scale;
	m->center = tdup(center, m->ncols);
	m->scalev = tdup(scalev, m->ncols);
}

/* Give m the labels[K] of type type. */
static void
set_labels(MmModel *m, uint8_t type, uint32_t K, const char *const *labels)
{
	m->label_type = type;
	m->nclasses = K;
	m->labels = mm_alloc0(&talloc, sizeof(char *) * K);
	for (uint32_t k = 0; k < K; k++)
		m->labels[k] = tstr(labels[k]);
}

/* An l2 logistic regression with K classes, coefs[nsets*ncols], intercepts[nsets]. */
static MmModel *
new_logistic(uint32_t nf, const MmFeature *f, uint8_t type, uint32_t K,
			 const char *const *labels, const double *coefs,
			 const double *intercepts)
{
	MmModel    *m = new_model(MM_ALG_LOGISTIC_REGRESSION, MM_TASK_CLASSIFICATION, nf, f);

	set_labels(m, type, K, labels);
	m->fit_intercept = true;
	m->penalty = 2;
	m->C = 1.0;
	m->nsets = (uint32_t) mm_logistic_nsets(K);
	m->coefs = tdup(coefs, (size_t) m->nsets * m->ncols);
	m->intercepts = tdup(intercepts, m->nsets);
	return m;
}

/* Deterministic network weights: layer l, entry i. */
static double
net_w(int l, int i)
{
	return 0.6 * sin(1.7 * (l + 1) + 0.61 * i);
}

static double
net_b(int l, int i)
{
	return 0.2 * cos(0.9 * (l + 1) + 0.37 * i);
}

/*
 * An mlp (activation tanh) over features f[nf] with layer sizes
 * size[nlayers + 1] (size[0] must be the encoded width), weights from
 * net_w and net_b.
 */
static MmModel *
new_mlp(uint8_t task, uint32_t nf, const MmFeature *f, int nlayers, const int *size)
{
	MmModel    *m = new_model(MM_ALG_MLP, task, nf, f);

	m->mlp.nlayers = nlayers;
	m->mlp.activation = 1;
	m->mlp.classification = task == MM_TASK_CLASSIFICATION;
	m->mlp.W = mm_alloc0(&talloc, sizeof(double *) * nlayers);
	m->mlp.b = mm_alloc0(&talloc, sizeof(double *) * nlayers);
	for (int l = 0; l <= nlayers; l++)
		m->mlp.size[l] = size[l];
	for (int l = 0; l < nlayers; l++)
	{
		m->mlp.W[l] = mm_alloc0(&talloc, sizeof(double) * size[l] * size[l + 1]);
		m->mlp.b[l] = mm_alloc0(&talloc, sizeof(double) * size[l + 1]);
		for (int i = 0; i < size[l] * size[l + 1]; i++)
			m->mlp.W[l][i] = net_w(l, i);
		for (int i = 0; i < size[l + 1]; i++)
			m->mlp.b[l][i] = net_b(l, i);
	}
	return m;
}

/* An ensemble or stacking of members[n] (not yet schema'd or linked). */
static MmModel *
new_ensemble(uint16_t alg, uint8_t method, uint32_t n, MmModel *const *members,
			 const double *weights, MmModel *final)
{
	MmModel    *e = mm_alloc0(&talloc, sizeof(MmModel));

	e->algorithm = alg;
	e->method = method;
	e->nmembers = n;
	e->members = mm_alloc0(&talloc, sizeof(MmModel *) * n);
	memcpy(e->members, members, sizeof(MmModel *) * n);
	e->weights = tdup(weights, n);
	e->final = final;
	return e;
}

/*
 * new_ensemble(), then mm_ensemble_schema() and mm_ensemble_link(): one
 * check named name that both accept.  NULL when they do not.
 */
static MmModel *
build_ensemble(const char *name, uint16_t alg, uint8_t method, uint32_t n,
			   MmModel *const *members, const double *weights, MmModel *final)
{
	MmModel    *e = new_ensemble(alg, method, n, members, weights, final);
	MmErr		err = {""};
	MmStatus	st;

	st = mm_ensemble_schema(e, &talloc, &err);
	if (st == MM_OK)
		st = mm_ensemble_link(e, &talloc, &err);
	check(st == MM_OK, name, "status %d: %s", st, err.msg);
	return st == MM_OK ? e : NULL;
}

#define CANARIES 16

/* predictions that wrote past their mm_model_work(m) doubles */
static int	n_overruns;

/*
 * Predict with exactly mm_model_work(m) doubles of work followed by
 * canaries: true when every canary is intact (valgrind and ASan would see
 * an overrun of the bare buffer; the canaries keep the heap intact and
 * turn one into a failed check).
 */
static bool
predict_guarded(const MmModel *m, const double *x, double *out)
{
	size_t		n = mm_model_work(m);
	double	   *work = malloc(sizeof(double) * (n + CANARIES));
	uint64_t	canary = UINT64_C(0xDEADBEEFCAFEF00D);
	bool		ok = true;

	for (size_t i = 0; i < n + CANARIES; i++)
		memcpy(&work[i], &canary, sizeof(canary));
	mm_model_predict(m, x, out, work);
	for (size_t i = n; i < n + CANARIES; i++)
		if (memcmp(&work[i], &canary, sizeof(canary)) != 0)
			ok = false;
	free(work);
	if (!ok)
		n_overruns++;
	return ok;
}

/* Predict with mm_model_work(m) doubles of work (overruns are counted). */
static void
predict(const MmModel *m, const double *x, double *out)
{
	(void) predict_guarded(m, x, out);
}

/* ---------------------------------------------------------------------
 * The members of the regression tests and their hand formulas
 *
 * A: linear_regression on x1, x2: 0.5 + 2 x1 - x2
 * B: linear_regression on x2, color {blue, red}, standard scaling with
 *	  centres (1, 0.5, 0.25) and scales (2, 0.5, 0.25):
 *	  -1 + 0.5 (x2 - 1)/2 + 3 (blue - 0.5)/0.5 - 2 (red - 0.25)/0.25
 * C: ridge on color {green, red}, x1: 0.25 + 1.5 green - 0.5 red + 0.75 x1
 * --------------------------------------------------------------------- */

static const char *const lv_br[2] = {"blue", "red"};
static const char *const lv_gr[2] = {"green", "red"};
static const char *const lv_bgr[3] = {"blue", "green", "red"};

static MmModel *
make_a(void)
{
	MmFeature	f[2] = {numf("x1"), numf("x2")};
	static const double coef[2] = {2.0, -1.0};

	return new_linear(MM_ALG_LINEAR_REGRESSION, 2, f, 0.5, coef);
}

static MmModel *
make_b(void)
{
	MmFeature	f[2] = {numf("x2"), catf("color", 2, lv_br)};
	static const double coef[3] = {0.5, 3.0, -2.0};
	static const double center[3] = {1.0, 0.5, 0.25};
	static const double scalev[3] = {2.0, 0.5, 0.25};
	MmModel    *m = new_linear(MM_ALG_LINEAR_REGRESSION, 2, f, -1.0, coef);

	set_scale(m, MM_SCALE_STANDARD, center, scalev);
	return m;
}

static MmModel *
make_c(void)
{
	MmFeature	f[2] = {catf("color", 2, lv_gr), numf("x1")};
	static const double coef[3] = {1.5, -0.5, 0.75};

	return new_linear(MM_ALG_RIDGE, 2, f, 0.25, coef);
}

/* 1 when color is level, else 0 (an unknown or NULL color is all zeros) */
static double
is(const char *color, const char *level)
{
	return color != NULL && strcmp(color, level) == 0 ? 1.0 : 0.0;
}

static double
hand_a(double x1, double x2)
{
	return 0.5 + 2.0 * x1 - 1.0 * x2;
}

static double
hand_b(double x2, const char *color)
{
	return -1.0 + 0.5 * ((x2 - 1.0) / 2.0) +
		3.0 * ((is(color, "blue") - 0.5) / 0.5) -
		2.0 * ((is(color, "red") - 0.25) / 0.25);
}

static double
hand_c(double x1, const char *color)
{
	return 0.25 + 1.5 * is(color, "green") - 0.5 * is(color, "red") + 0.75 * x1;
}

/* The encoded row x1, x2, one-hot color over levels[nl]. */
static void
encode(double x1, double x2, const char *color, uint32_t nl,
	   const char *const *levels, double *row)
{
	row[0] = x1;
	row[1] = x2;
	for (uint32_t l = 0; l < nl; l++)
		row[2 + l] = is(color, levels[l]);
}

/* Test rows: x1, x2 and a color ("green" unknown to A and B, "purple" to all). */
typedef struct RegRow
{
	double		x1,
				x2;
	const char *color;
} RegRow;

static const RegRow reg_rows[] = {
	{1.5, -2.0, "blue"},
	{0.0, 4.0, "red"},
	{-3.0, 0.5, "green"},
	{2.0, 1.0, "purple"},
	{0.25, -0.75, NULL},
};

#define N_REG_ROWS ((int) (sizeof(reg_rows) / sizeof(reg_rows[0])))

/* ---------------------------------------------------------------------
 * 1. Regression ensembles: schema, member_map, weighted mean
 * --------------------------------------------------------------------- */

/* feature i of m is name of kind and width */
static bool
feature_is(const MmModel *m, uint32_t i, const char *name, uint8_t kind, uint32_t width)
{
	return i < m->nfeatures && strcmp(m->features[i].name, name) == 0 &&
		m->features[i].kind == kind && m->features[i].width == width;
}

/* map[n] of member i of e equals want[n] */
static bool
map_is(const MmModel *e, uint32_t i, const uint32_t *want, uint32_t n)
{
	if (e->member_map == NULL || e->member_map[i] == NULL ||
		e->members[i]->ncols != n)
		return false;
	for (uint32_t j = 0; j < n; j++)
		if (e->member_map[i][j] != want[j])
			return false;
	return true;
}

static void
test_regression(void)
{
	MmModel    *a = make_a();
	MmModel    *b = make_b();
	MmModel    *c = make_c();
	MmModel    *ab[2] = {a, b};
	MmModel    *abc[3] = {a, b, c};
	static const double w13[2] = {1.0, 3.0};
	static const double w130[3] = {1.0, 3.0, 0.5};
	static const double w010[3] = {0.0, 1.0, 0.0};
	static const uint32_t map_a[2] = {0, 1};
	static const uint32_t map_b[3] = {1, 2, 4};
	static const uint32_t map_c[3] = {3, 4, 0};
	static const uint32_t map_b2[3] = {1, 2, 3};
	MmModel    *e2;
	MmModel    *e3;
	MmModel    *e3b;
	const MmFeature *color;
	double		row[5];
	double		out[1];
	double		worst;
	bool		ok;

	/* two members: x1, x2, color {blue, red} */
	e2 = build_ensemble("regression: schema and link accept members A and B",
						MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, ab, w13, NULL);
	if (e2 == NULL)
		return;
	check(e2->nfeatures == 3 && feature_is(e2, 0, "x1", MM_FEAT_NUMERIC, 1) &&
		  feature_is(e2, 1, "x2", MM_FEAT_NUMERIC, 1) &&
		  feature_is(e2, 2, "color", MM_FEAT_CATEGORICAL, 2) && e2->ncols == 4,
		  "regression: A+B features are x1, x2, color(2) in first-appearance order, 4 columns",
		  "%u features, %u columns", (unsigned) e2->nfeatures, (unsigned) e2->ncols);
	check(e2->task == MM_TASK_REGRESSION && strcmp(e2->target, "y") == 0 &&
		  e2->label_type == MM_LABEL_NONE && e2->scale == MM_SCALE_NONE,
		  "regression: A+B is a regression on y without labels or scaling",
		  "task %u, label type %u, scale %u", e2->task, e2->label_type, e2->scale);
	check(map_is(e2, 0, map_a, 2) && map_is(e2, 1, map_b2, 3),
		  "regression: A+B member_map is {0,1} and {1,2,3}", "maps differ");

	worst = 0.0;
	ok = true;
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		const RegRow *rr = &reg_rows[r];
		double		want = (1.0 * hand_a(rr->x1, rr->x2) +
							3.0 * hand_b(rr->x2, rr->color)) / 4.0;

		encode(rr->x1, rr->x2, rr->color, 2, lv_br, row);
		predict(e2, row, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(ok, "regression: mean with weights {1,3} is (a + 3b)/4, B scaled, unknown colors all zeros",
		  "worst error %g", worst);

	/* three members: the union, merged levels, the maps */
	e3 = build_ensemble("regression: schema and link accept members A, B and C",
						MM_ALG_ENSEMBLE, MM_ENS_MEAN, 3, abc, w130, NULL);
	if (e3 == NULL)
		return;
	color = &e3->features[2];
	check(e3->nfeatures == 3 && feature_is(e3, 0, "x1", MM_FEAT_NUMERIC, 1) &&
		  feature_is(e3, 1, "x2", MM_FEAT_NUMERIC, 1) &&
		  feature_is(e3, 2, "color", MM_FEAT_CATEGORICAL, 3) && e3->ncols == 5,
		  "regression: A+B+C features are x1, x2, color(3), 5 columns",
		  "%u features, %u columns", (unsigned) e3->nfeatures, (unsigned) e3->ncols);
	check(color->nlevels == 3 && strcmp(color->levels[0], "blue") == 0 &&
		  strcmp(color->levels[1], "green") == 0 && strcmp(color->levels[2], "red") == 0,
		  "regression: color levels {blue,red} and {green,red} merge to {blue,green,red}",
		  "%u levels", (unsigned) color->nlevels);
	check(a->features[0].width == 1 && b->features[1].nlevels == 2 &&
		  c->features[0].nlevels == 2 && strcmp(b->features[1].levels[1], "red") == 0,
		  "regression: the schema leaves the members' own features alone", "a member changed");
	check(map_is(e3, 0, map_a, 2) && map_is(e3, 1, map_b, 3) && map_is(e3, 2, map_c, 3),
		  "regression: A+B+C member_map is {0,1}, {1,2,4}, {3,4,0}", "maps differ");

	worst = 0.0;
	ok = true;
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		const RegRow *rr = &reg_rows[r];
		double		want = (1.0 * hand_a(rr->x1, rr->x2) +
							3.0 * hand_b(rr->x2, rr->color) +
							0.5 * hand_c(rr->x1, rr->color)) / 4.5;

		encode(rr->x1, rr->x2, rr->color, 3, lv_bgr, row);
		predict(e3, row, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(ok, "regression: mean with weights {1,3,0.5} is (a + 3b + c/2)/4.5 ('green' unknown to B, 'blue' to C)",
		  "worst error %g", worst);

	/* a zero weight leaves a member out */
	e3b = build_ensemble("regression: schema and link accept weights {0,1,0}",
						 MM_ALG_ENSEMBLE, MM_ENS_MEAN, 3, abc, w010, NULL);
	if (e3b == NULL)
		return;
	worst = 0.0;
	ok = true;
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		const RegRow *rr = &reg_rows[r];
		double		want = hand_b(rr->x2, rr->color);

		encode(rr->x1, rr->x2, rr->color, 3, lv_bgr, row);
		predict(e3b, row, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(ok, "regression: weights {0,1,0} give member B alone", "worst error %g", worst);

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 2. Imputation when features merge
 * --------------------------------------------------------------------- */

/*
 * P: x1 (mean, 2.5), x2 (error), color {blue, red} (most frequent: red),
 *	  v[3] (mean, 1 2 3)
 * Q: x1 (mean, fill1), x2 (mean, 1), color {green, red} (most frequent:
 *	  the level fill_level), x3 (median, 7), v[3] (mean, v3)
 */
static MmModel *
make_p(void)
{
	static const double f1[1] = {2.5};
	static const double fc[2] = {0.0, 1.0};
	static const double fv[3] = {1.0, 2.0, 3.0};
	static const double coef[7] = {1, 2, 3, 4, 5, 6, 7};
	MmFeature	f[4] = {
		with_fill(numf("x1"), MM_IMPUTE_MEAN, f1),
		numf("x2"),
		with_fill(catf("color", 2, lv_br), MM_IMPUTE_MOST_FREQUENT, fc),
		with_fill(arrf("v", 3), MM_IMPUTE_MEAN, fv),
	};

	return new_linear(MM_ALG_LINEAR_REGRESSION, 4, f, 0.0, coef);
}

static MmModel *
make_q(double fill1, const char *fill_level, double v3)
{
	double		f1[1] = {fill1};
	static const double f2[1] = {1.0};
	double		fc[2] = {is(fill_level, "green"), is(fill_level, "red")};
	static const double f3[1] = {7.0};
	double		fv[3] = {1.0, 2.0, v3};
	static const double coef[8] = {-1, -2, -3, -4, -5, -6, -7, -8};
	MmFeature	f[5] = {
		with_fill(numf("x1"), MM_IMPUTE_MEAN, f1),
		with_fill(numf("x2"), MM_IMPUTE_MEAN, f2),
		with_fill(catf("color", 2, lv_gr), MM_IMPUTE_MOST_FREQUENT, fc),
		with_fill(numf("x3"), MM_IMPUTE_MEDIAN, f3),
		with_fill(arrf("v", 3), MM_IMPUTE_MEAN, fv),
	};

	return new_linear(MM_ALG_LINEAR_REGRESSION, 5, f, 0.0, coef);
}

/* The feature of e called name, or NULL. */
static const MmFeature *
feature_named(const MmModel *e, const char *name)
{
	for (uint32_t i = 0; i < e->nfeatures; i++)
		if (strcmp(e->features[i].name, name) == 0)
			return &e->features[i];
	return NULL;
}

/* f refuses NULLs */
static bool
no_impute(const MmFeature *f)
{
	return f != NULL && f->impute == MM_IMPUTE_ERROR && f->fill == NULL;
}

/*
 * The schema of an ensemble whose one member holding a categorical
 * feature fills it with values that are not one-hot (the blob format
 * accepts any finite fill).  Runs in a child process: it exits 0 when
 * mm_ensemble_schema returned at all.
 */
static void
schema_nonhot_fill(void)
{
	static const double fc[2] = {0.5, 0.5};
	static const double coef1[3] = {1.0, 1.0, 1.0};
	static const double coef2[1] = {1.0};
	MmFeature	f1[2] = {
		numf("x1"),
		with_fill(catf("color", 2, lv_br), MM_IMPUTE_MOST_FREQUENT, fc),
	};
	MmFeature	f2[1] = {numf("x1")};
	MmModel    *m[2];
	static const double w[2] = {1.0, 1.0};
	MmModel    *e;
	MmErr		err = {""};

	m[0] = new_linear(MM_ALG_LINEAR_REGRESSION, 2, f1, 0.0, coef1);
	m[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, f2, 0.0, coef2);
	e = new_ensemble(MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, m, w, NULL);
	(void) mm_ensemble_schema(e, &talloc, &err);
}

/*
 * Run fn in a child process; true when it returned normally.  *how is
 * the signal that killed the child, or else its exit status.
 */
static bool
survives(void (*fn) (void), int *how)
{
	pid_t		pid;
	int			status = 0;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
	{
		fn();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	*how = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_impute(void)
{
	MmModel    *p = make_p();
	MmModel    *q = make_q(2.5, "red", 3.0);
	MmModel    *q2 = make_q(3.0, "green", 4.0);
	MmModel    *pq[2] = {p, q};
	MmModel    *pq2[2] = {p, q2};
	MmModel    *pqq2[3] = {p, q, q2};
	static const double w[3] = {1.0, 1.0, 1.0};
	MmModel    *e;
	const MmFeature *x1;
	const MmFeature *color;
	const MmFeature *x3;
	const MmFeature *v;
	int			how = 0;
	bool		alive;

	e = build_ensemble("impute: schema and link accept members P and Q (same fills)",
					   MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, pq, w, NULL);
	if (e != NULL)
	{
		x1 = feature_named(e, "x1");
		color = feature_named(e, "color");
		x3 = feature_named(e, "x3");
		v = feature_named(e, "v");
		check(e->nfeatures == 5 && feature_is(e, 0, "x1", MM_FEAT_NUMERIC, 1) &&
			  feature_is(e, 1, "x2", MM_FEAT_NUMERIC, 1) &&
			  feature_is(e, 2, "color", MM_FEAT_CATEGORICAL, 3) &&
			  feature_is(e, 3, "v", MM_FEAT_ARRAY, 3) &&
			  feature_is(e, 4, "x3", MM_FEAT_NUMERIC, 1) && e->ncols == 9,
			  "impute: P+Q features are x1, x2, color(3), v[3], x3, 9 columns",
			  "%u features, %u columns", (unsigned) e->nfeatures, (unsigned) e->ncols);
		check(x1 != NULL && x1->impute == MM_IMPUTE_MEAN && x1->fill != NULL &&
			  x1->fill[0] == 2.5,
			  "impute: a numeric feature both members fill with 2.5 keeps mean and 2.5",
			  "impute %u", x1 ? x1->impute : 99);
		check(v != NULL && v->impute == MM_IMPUTE_MEAN && v->fill != NULL &&
			  v->fill[0] == 1.0 && v->fill[1] == 2.0 && v->fill[2] == 3.0,
			  "impute: an array feature both members fill alike keeps its fill",
			  "impute %u", v ? v->impute : 99);
		check(no_impute(feature_named(e, "x2")),
			  "impute: a feature one member refuses NULLs for refuses them (fill NULL)",
			  "x2 still imputes");
		check(x3 != NULL && x3->impute == MM_IMPUTE_MEDIAN && x3->fill != NULL &&
			  x3->fill[0] == 7.0,
			  "impute: a feature of one member keeps its median fill 7",
			  "impute %u", x3 ? x3->impute : 99);
		check(color != NULL && color->impute == MM_IMPUTE_MOST_FREQUENT &&
			  color->fill != NULL && color->fill[0] == 0.0 && color->fill[1] == 0.0 &&
			  color->fill[2] == 1.0,
			  "impute: categorical fill 'red' is re-placed one-hot on {blue,green,red} as {0,0,1}",
			  "impute %u", color ? color->impute : 99);
		check(p->features[2].fill[0] == 0.0 && p->features[2].fill[1] == 1.0 &&
			  q->features[2].fill[0] == 0.0 && q->features[2].fill[1] == 1.0,
			  "impute: the members' own categorical fills are unchanged", "a member changed");
	}

	e = build_ensemble("impute: schema and link accept members P and Q2 (other fills)",
					   MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, pq2, w, NULL);
	if (e != NULL)
	{
		check(no_impute(feature_named(e, "x1")),
			  "impute: numeric fills 2.5 and 3 differ: impute error, fill NULL",
			  "x1 still imputes");
		check(no_impute(feature_named(e, "v")),
			  "impute: array fills {1,2,3} and {1,2,4} differ: impute error, fill NULL",
			  "v still imputes");
		check(no_impute(feature_named(e, "color")),
			  "impute: categorical fills 'red' and 'green' differ: impute error, fill NULL",
			  "color still imputes");
	}

	e = build_ensemble("impute: schema and link accept members P, Q and Q2",
					   MM_ALG_ENSEMBLE, MM_ENS_MEAN, 3, pqq2, w, NULL);
	if (e != NULL)
		check(no_impute(feature_named(e, "x1")) && no_impute(feature_named(e, "color")),
			  "impute: a third member that fills otherwise turns imputation off",
			  "x1 or color still imputes");

	/*
	 * A categorical fill that is not one-hot passes the blob writer and
	 * reader, so such a member can reach mm_ensemble_schema.
	 */
	{
		static const double fc[2] = {0.5, 0.5};
		static const double coef[3] = {1.0, 1.0, 1.0};
		MmFeature	f[2] = {
			numf("x1"),
			with_fill(catf("color", 2, lv_br), MM_IMPUTE_MOST_FREQUENT, fc),
		};
		MmModel    *m = new_linear(MM_ALG_LINEAR_REGRESSION, 2, f, 0.0, coef);
		size_t		size = mm_blob_size(m);
		uint8_t    *blob = malloc(size ? size : 1);
		MmModel    *back = NULL;
		MmErr		err = {""};
		MmStatus	st = mm_blob_write(m, blob, size, &err);

		if (st == MM_OK)
			st = mm_blob_read(blob, size, &talloc, &back, &err);
		check(size > 0 && st == MM_OK,
			  "impute: a categorical fill {0.5,0.5} (not one-hot) is a valid blob",
			  "status %d: %s", st, err.msg);
		free(blob);
	}
	alive = survives(schema_nonhot_fill, &how);
	check(alive,
		  "impute: the schema of a member whose categorical fill is not one-hot does not crash",
		  "mm_ensemble_schema died (signal or exit status %d)", how);

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 3. Classification: soft vote and vote
 *
 * L1: logistic on x1, x2, labels {no, yes}: z = 0.5 + 0.75 x1 - 1.25 x2
 * L2: logistic on x2, x3, minmax scaling (min -1, 0; range 4, 2):
 *	   z = -0.25 - 0.5 (x2 + 1)/4 + 2 x3/2
 * P(yes) = 1/(1 + e^-z): binary logistic has one weight vector, for the
 * second class.
 * --------------------------------------------------------------------- */

static const char *const lab_ny[2] = {"no", "yes"};

static MmModel *
make_l1(void)
{
	MmFeature	f[2] = {numf("x1"), numf("x2")};
	static const double coefs[2] = {0.75, -1.25};
	static const double b0[1] = {0.5};

	return new_logistic(2, f, MM_LABEL_TEXT, 2, lab_ny, coefs, b0);
}

static MmModel *
make_l2(void)
{
	MmFeature	f[2] = {numf("x2"), numf("x3")};
	static const double coefs[2] = {-0.5, 2.0};
	static const double b0[1] = {-0.25};
	static const double lo[2] = {-1.0, 0.0};
	static const double range[2] = {4.0, 2.0};
	MmModel    *m = new_logistic(2, f, MM_LABEL_TEXT, 2, lab_ny, coefs, b0);

	set_scale(m, MM_SCALE_MINMAX, lo, range);
	return m;
}

static double
hand_z1(const double *x)
{
	return 0.5 + 0.75 * x[0] - 1.25 * x[1];
}

static double
hand_z2(const double *x)
{
	return -0.25 - 0.5 * ((x[1] + 1.0) / 4.0) + 2.0 * (x[2] / 2.0);
}

static double
sigm(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

/* p[K] = softmax(z[K]) */
static void
softmax(int K, const double *z, double *p)
{
	double		mx = z[0];
	double		s = 0.0;

	for (int k = 1; k < K; k++)
		mx = fmax(mx, z[k]);
	for (int k = 0; k < K; k++)
	{
		p[k] = exp(z[k] - mx);
		s += p[k];
	}
	for (int k = 0; k < K; k++)
		p[k] /= s;
}

/* the first index of the largest of v[K] */
static int
argmax(int K, const double *v)
{
	int			best = 0;

	for (int k = 1; k < K; k++)
		if (v[k] > v[best])
			best = k;
	return best;
}

/* rows of x1, x2, x3; the first ties L1 (z = 0), the second ties L2 */
static const double cls_rows[][3] = {
	{1.0, 1.0, 2.0},
	{0.0, 0.0, 0.375},
	{2.0, -1.0, 0.0},
	{-2.0, 1.5, 1.0},
	{-1.0, 3.0, -0.5},
	{0.5, -0.5, 1.5},
};

#define N_CLS_ROWS ((int) (sizeof(cls_rows) / sizeof(cls_rows[0])))

/*
 * 3-class members T1 (on x1, x2) and T2 (on x2, x3), int labels
 * {1, 2, 10}; class k has weights t_coef[k] and intercept t_b0[k].
 */
static const char *const lab_int3[3] = {"1", "2", "10"};
static const double t1_coef[6] = {1.0, -0.5, 0.25, 0.75, -0.5, 0.25};
static const double t1_b0[3] = {0.1, -0.2, 0.3};
static const double t2_coef[6] = {-0.25, 1.0, 0.5, -0.5, 0.125, 0.375};
static const double t2_b0[3] = {0.0, 0.5, -0.5};

static MmModel *
make_t1(void)
{
	MmFeature	f[2] = {numf("x1"), numf("x2")};

	return new_logistic(2, f, MM_LABEL_INT, 3, lab_int3, t1_coef, t1_b0);
}

static MmModel *
make_t2(void)
{
	MmFeature	f[2] = {numf("x2"), numf("x3")};

	return new_logistic(2, f, MM_LABEL_INT, 3, lab_int3, t2_coef, t2_b0);
}

/* z[3] of T1 and T2 on a row x1, x2, x3 */
static void
hand_t1(const double *x, double *z)
{
	for (int k = 0; k < 3; k++)
		z[k] = t1_b0[k] + t1_coef[2 * k] * x[0] + t1_coef[2 * k + 1] * x[1];
}

static void
hand_t2(const double *x, double *z)
{
	for (int k = 0; k < 3; k++)
		z[k] = t2_b0[k] + t2_coef[2 * k] * x[1] + t2_coef[2 * k + 1] * x[2];
}

static void
test_classification(void)
{
	MmModel    *l1 = make_l1();
	MmModel    *l2 = make_l2();
	MmModel    *ll[2] = {l1, l2};
	MmModel    *tt[2] = {make_t1(), make_t2()};
	static const double w21[2] = {2.0, 1.0};
	static const double w11[2] = {1.0, 1.0};
	MmModel    *soft;
	MmModel    *vote;
	MmModel    *vote3;
	double		out[3];
	double		worst = 0.0;
	bool		ok = true;
	bool		tied = false;
	bool		split = false;

	soft = build_ensemble("classification: schema and link accept L1 and L2 (soft vote)",
						  MM_ALG_ENSEMBLE, MM_ENS_SOFT_VOTE, 2, ll, w21, NULL);
	vote = build_ensemble("classification: schema and link accept L1 and L2 (vote)",
						  MM_ALG_ENSEMBLE, MM_ENS_VOTE, 2, ll, w21, NULL);
	if (soft == NULL || vote == NULL)
		return;
	check(soft->task == MM_TASK_CLASSIFICATION && soft->label_type == MM_LABEL_TEXT &&
		  soft->nclasses == 2 && strcmp(soft->labels[0], "no") == 0 &&
		  strcmp(soft->labels[1], "yes") == 0 && soft->ncols == 3 &&
		  feature_is(soft, 2, "x3", MM_FEAT_NUMERIC, 1),
		  "classification: L1+L2 has labels {no,yes}, features x1, x2, x3",
		  "%u classes, %u columns", (unsigned) soft->nclasses, (unsigned) soft->ncols);

	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		pa = sigm(hand_z1(x));
		double		pb = sigm(hand_z2(x));
		double		want1 = (2.0 * pa + 1.0 * pb) / 3.0;
		double		want0 = (2.0 * (1.0 - pa) + 1.0 * (1.0 - pb)) / 3.0;

		predict(soft, x, out);
		if (!near(out[0], want0, TOL) || !near(out[1], want1, TOL))
			ok = false;
		worst = fmax(worst, fmax(fabs(out[0] - want0), fabs(out[1] - want1)));
	}
	check(ok, "classification: soft vote {2,1} is the weighted mean of the sigmoid probabilities",
		  "worst error %g", worst);

	ok = true;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		za = hand_z1(x);
		double		zb = hand_z2(x);

		/* class "yes" when z > 0; z == 0 is a tie, won by "no" */
		int			ca = za > 0.0 ? 1 : 0;
		int			cb = zb > 0.0 ? 1 : 0;
		double		want[2] = {0.0, 0.0};

		tied |= za == 0.0 || zb == 0.0;
		split |= ca != cb;
		want[ca] += 2.0;
		want[cb] += 1.0;
		want[0] /= 3.0;
		want[1] /= 3.0;
		predict(vote, x, out);
		if (!near(out[0], want[0], 1e-15) || !near(out[1], want[1], 1e-15))
			ok = false;
	}
	check(ok && tied && split,
		  "classification: vote {2,1} gives vote shares; a member's tie goes to the first class",
		  "shares differ (rows tied %d, split %d)", tied, split);

	/* three classes: vote shares and the soft vote by softmax */
	vote3 = build_ensemble("classification: schema and link accept 3-class T1 and T2 (vote)",
						   MM_ALG_ENSEMBLE, MM_ENS_VOTE, 2, tt, w11, NULL);
	if (vote3 == NULL)
		return;
	check(vote3->label_type == MM_LABEL_INT && vote3->nclasses == 3 &&
		  strcmp(vote3->labels[2], "10") == 0,
		  "classification: T1+T2 has int labels {1,2,10}", "labels differ");
	ok = true;
	split = false;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		z1[3];
		double		z2[3];
		double		want[3] = {0.0, 0.0, 0.0};

		hand_t1(x, z1);
		hand_t2(x, z2);
		want[argmax(3, z1)] += 0.5;
		want[argmax(3, z2)] += 0.5;
		split |= argmax(3, z1) != argmax(3, z2);
		predict(vote3, x, out);
		for (int k = 0; k < 3; k++)
			if (!near(out[k], want[k], 1e-15))
				ok = false;
	}
	check(ok && split, "classification: 3-class vote {1,1} gives shares of 1/2 per member",
		  "shares differ (split %d)", split);

	vote3->method = MM_ENS_SOFT_VOTE;
	ok = true;
	worst = 0.0;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		z1[3];
		double		z2[3];
		double		p1[3];
		double		p2[3];

		hand_t1(x, z1);
		hand_t2(x, z2);
		softmax(3, z1, p1);
		softmax(3, z2, p2);
		predict(vote3, x, out);
		for (int k = 0; k < 3; k++)
		{
			double		want = (p1[k] + p2[k]) / 2.0;

			if (!near(out[k], want, TOL))
				ok = false;
			worst = fmax(worst, fabs(out[k] - want));
		}
	}
	check(ok, "classification: 3-class soft vote is the mean of the softmax probabilities",
		  "worst error %g", worst);

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 4. Stacking
 * --------------------------------------------------------------------- */

static void
test_stacking(void)
{
	MmModel    *ab[2] = {make_a(), make_b()};
	MmModel    *ll[2] = {make_l1(), make_l2()};
	MmModel    *tt[2] = {make_t1(), make_t2()};
	static const double w11[2] = {1.0, 1.0};
	static const double fcoef[2] = {0.6, 0.4};
	static const double fcenter[2] = {1.0, 2.0};
	static const double fscale[2] = {2.0, 4.0};
	MmFeature	fm[2] = {numf("m1"), numf("m2")};
	MmModel    *final0 = new_linear(MM_ALG_LINEAR_REGRESSION, 2, fm, 0.1, fcoef);
	MmModel    *final1 = new_linear(MM_ALG_LINEAR_REGRESSION, 2, fm, 0.1, fcoef);
	MmModel    *s0;
	MmModel    *s1;
	MmModel    *sb;
	MmModel    *s3;
	double		row[4];
	double		out[3];
	double		worst = 0.0;
	bool		ok = true;

	set_scale(final1, MM_SCALE_STANDARD, fcenter, fscale);

	check(mm_stack_width(ab[0]) == 1 && mm_stack_width(ll[0]) == 1 &&
		  mm_stack_width(tt[0]) == 3,
		  "stacking: mm_stack_width is 1 for regression, 1 for 2 classes, 3 for 3 classes",
		  "widths %u %u %u", (unsigned) mm_stack_width(ab[0]),
		  (unsigned) mm_stack_width(ll[0]), (unsigned) mm_stack_width(tt[0]));

	/* regression: final intercept + w1 a + w2 b */
	s0 = build_ensemble("stacking: schema and link accept A, B and a 2-column final model",
						MM_ALG_STACKING, MM_ENS_STACK, 2, ab, w11, final0);
	s1 = build_ensemble("stacking: schema and link accept A, B and a scaled final model",
						MM_ALG_STACKING, MM_ENS_STACK, 2, ab, w11, final1);
	if (s0 == NULL || s1 == NULL)
		return;
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		const RegRow *rr = &reg_rows[r];
		double		a = hand_a(rr->x1, rr->x2);
		double		b = hand_b(rr->x2, rr->color);
		double		want = 0.1 + 0.6 * a + 0.4 * b;

		encode(rr->x1, rr->x2, rr->color, 2, lv_br, row);
		predict(s0, row, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(ok, "stacking: regression is 0.1 + 0.6 a + 0.4 b", "worst error %g", worst);

	ok = true;
	worst = 0.0;
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		const RegRow *rr = &reg_rows[r];
		double		a = hand_a(rr->x1, rr->x2);
		double		b = hand_b(rr->x2, rr->color);
		double		want = 0.1 + 0.6 * ((a - 1.0) / 2.0) + 0.4 * ((b - 2.0) / 4.0);

		encode(rr->x1, rr->x2, rr->color, 2, lv_br, row);
		predict(s1, row, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(ok, "stacking: the final model's own scaling is applied to the members' outputs",
		  "worst error %g", worst);

	/* binary: the final model sees P(yes) of each member */
	{
		MmFeature	fp[2] = {numf("p1"), numf("p2")};
		static const double coefs[2] = {1.5, -0.5};
		static const double b0[1] = {-0.25};
		MmModel    *fin = new_logistic(2, fp, MM_LABEL_TEXT, 2, lab_ny, coefs, b0);

		sb = build_ensemble("stacking: schema and link accept binary L1, L2 and a 2-column final logistic",
							MM_ALG_STACKING, MM_ENS_STACK, 2, ll, w11, fin);
	}
	if (sb == NULL)
		return;
	ok = true;
	worst = 0.0;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		pa = sigm(hand_z1(x));
		double		pb = sigm(hand_z2(x));
		double		want1 = sigm(-0.25 + 1.5 * pa - 0.5 * pb);

		predict(sb, x, out);
		if (!near(out[1], want1, TOL) || !near(out[0], 1.0 - want1, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[1] - want1));
	}
	check(ok, "stacking: binary, the final logistic sees each member's P(second class)",
		  "worst error %g", worst);

	/* three classes: the final model sees 3 + 3 probabilities */
	{
		MmFeature	fs[6] = {numf("s1"), numf("s2"), numf("s3"),
		numf("s4"), numf("s5"), numf("s6")};
		double		coefs[18];
		static const double b0[3] = {0.2, -0.1, 0.05};
		MmModel    *fin;

		for (int i = 0; i < 18; i++)
			coefs[i] = net_w(7, i);
		fin = new_logistic(6, fs, MM_LABEL_INT, 3, lab_int3, coefs, b0);
		s3 = build_ensemble("stacking: schema and link accept 3-class T1, T2 and a 6-column final logistic",
							MM_ALG_STACKING, MM_ENS_STACK, 2, tt, w11, fin);
		if (s3 == NULL)
			return;
		ok = true;
		worst = 0.0;
		for (int r = 0; r < N_CLS_ROWS; r++)
		{
			const double *x = cls_rows[r];
			double		z[3];
			double		s[6];
			double		zf[3];
			double		want[3];

			hand_t1(x, z);
			softmax(3, z, s);
			hand_t2(x, z);
			softmax(3, z, s + 3);
			for (int k = 0; k < 3; k++)
			{
				zf[k] = b0[k];
				for (int j = 0; j < 6; j++)
					zf[k] += coefs[6 * k + j] * s[j];
			}
			softmax(3, zf, want);
			predict(s3, x, out);
			for (int k = 0; k < 3; k++)
			{
				if (!near(out[k], want[k], TOL))
					ok = false;
				worst = fmax(worst, fabs(out[k] - want[k]));
			}
		}
		check(ok, "stacking: 3 classes, the final logistic sees all 3 probabilities of each member",
			  "worst error %g", worst);
	}

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 5. Refusals of mm_ensemble_check (and of the schema, link and writer)
 * --------------------------------------------------------------------- */

/* mm_ensemble_check(e) is MM_EINVAL with a message containing want */
static void
expect_refusal(const char *name, const MmModel *e, const char *want)
{
	MmErr		err = {""};
	MmStatus	st = mm_ensemble_check(e, &err);

	check(st == MM_EINVAL && strstr(err.msg, want) != NULL, name,
		  "status %d, message \"%s\", wanted \"%s\"", st, err.msg, want);
}

static void
test_refusals(void)
{
	MmModel    *a = make_a();
	MmModel    *b = make_b();
	MmModel    *ab[2] = {a, b};
	MmModel    *ll[2] = {make_l1(), make_l2()};
	static const double w11[2] = {1.0, 1.0};
	MmModel    *r;
	MmModel    *r2;
	MmModel    *cl;
	MmModel    *st;
	MmModel    *other;
	MmErr		err = {""};
	MmStatus	status;

	r = build_ensemble("refusals: the base regression ensemble A+B is accepted",
					   MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, ab, w11, NULL);
	r2 = build_ensemble("refusals: a second regression ensemble A+B is accepted",
						MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, ab, w11, NULL);
	cl = build_ensemble("refusals: the base classification ensemble L1+L2 is accepted",
						MM_ALG_ENSEMBLE, MM_ENS_SOFT_VOTE, 2, ll, w11, NULL);
	if (r == NULL || r2 == NULL || cl == NULL)
		return;

	/* methods */
	cl->method = MM_ENS_MEAN;
	expect_refusal("refusals: mean on a classification ensemble", cl,
				   "method mean does not fit a classification ensemble");
	cl->method = MM_ENS_SOFT_VOTE;
	r->method = MM_ENS_VOTE;
	expect_refusal("refusals: vote on a regression ensemble", r,
				   "method vote does not fit a regression ensemble");
	r->method = MM_ENS_SOFT_VOTE;
	expect_refusal("refusals: soft_vote on a regression ensemble", r,
				   "method soft_vote does not fit a regression ensemble");
	r->method = MM_ENS_STACK;
	expect_refusal("refusals: method stack on an ensemble", r, "unknown ensemble method 3");
	r->method = MM_ENS_MEAN;

	/* members */
	r->members[1] = r2;
	expect_refusal("refusals: a member that is itself an ensemble", r,
				   "member 2 is itself an ensemble");
	r->members[1] = NULL;
	expect_refusal("refusals: a missing member", r, "member 2 is missing");
	r->members[1] = ll[0];
	expect_refusal("refusals: a classification member of a regression ensemble", r,
				   "member 2 is a classification model, but the ensemble does regression");
	r->members[1] = b;

	{
		static const char *const lab_other[2] = {"n", "y"};
		static const char *const lab_bool[2] = {"false", "true"};
		static const double coefs[2] = {0.75, -1.25};
		static const double b0[1] = {0.5};
		MmFeature	f[2] = {numf("x1"), numf("x2")};

		other = new_logistic(2, f, MM_LABEL_TEXT, 2, lab_other, coefs, b0);
		cl->members[1] = other;
		expect_refusal("refusals: members with different labels ({no,yes} and {n,y})", cl,
					   "member 2 has other labels than the ensemble");
		other = new_logistic(2, f, MM_LABEL_BOOL, 2, lab_bool, coefs, b0);
		cl->members[1] = other;
		expect_refusal("refusals: members with different label types (text and bool)", cl,
					   "member 2 has other labels than the ensemble");
		cl->members[1] = ll[1];
	}

	/* weights */
	r->weights[1] = -1.0;
	expect_refusal("refusals: a negative weight", r, "weight 2 must be finite and not negative");
	r->weights[1] = NAN;
	expect_refusal("refusals: a NaN weight", r, "weight 2 must be finite and not negative");
	r->weights[1] = INFINITY;
	expect_refusal("refusals: an infinite weight", r, "weight 2 must be finite and not negative");
	r->weights[0] = 0.0;
	r->weights[1] = 0.0;
	expect_refusal("refusals: all-zero weights", r, "the weights must have a positive, finite sum");
	r->weights[0] = DBL_MAX;
	r->weights[1] = DBL_MAX;
	expect_refusal("refusals: weights whose sum overflows", r,
				   "the weights must have a positive, finite sum");
	r->weights[0] = 1.0;
	r->weights[1] = 1.0;

	/* features */
	{
		static const double coef[2] = {1.0, 1.0};
		MmFeature	f9[2] = {numf("x1"), numf("x9")};
		MmFeature	fg[1] = {catf("color", 2, lv_gr)};
		MmFeature	fk[1] = {catf("x2", 2, lv_br)};

		r->members[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 2, f9, 0.0, coef);
		expect_refusal("refusals: a member feature missing from the ensemble's features", r,
					   "feature \"x9\" of member 2 is not a feature of the ensemble");
		r->members[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, fg, 0.0, coef);
		expect_refusal("refusals: a member level missing from the ensemble's levels", r,
					   "level \"green\" of feature \"color\" of member 2 is not a level of the ensemble");
		r->members[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, fk, 0.0, coef);
		expect_refusal("refusals: a member feature of another kind than the ensemble's", r,
					   "feature \"x2\" of member 2 does not match the ensemble's kind and width");
		r->members[1] = b;
	}

	/* counts, scaling, final model */
	r->nmembers = 1;
	expect_refusal("refusals: member count 1", r, "member count 1 is out of range 2..64");
	r->nmembers = MM_MAX_MEMBERS + 1;
	expect_refusal("refusals: member count 65", r, "member count 65 is out of range 2..64");
	r->nmembers = 2;
	r->scale = MM_SCALE_STANDARD;
	expect_refusal("refusals: an ensemble with scaling of its own", r,
				   "an ensemble has no scaling of its own");
	r->scale = MM_SCALE_NONE;
	r->final = a;
	expect_refusal("refusals: an ensemble with a final model", r,
				   "only a stacking has a final model");
	r->final = NULL;

	{
		static const double coef3[3] = {1.0, 1.0, 1.0};
		static const double coef2[2] = {1.0, 1.0};
		MmFeature	f3[3] = {numf("m1"), numf("m2"), numf("m3")};
		MmFeature	f2[2] = {numf("m1"), numf("m2")};

		st = build_ensemble("refusals: the base stacking A+B with a 2-column final is accepted",
							MM_ALG_STACKING, MM_ENS_STACK, 2, ab, w11,
							new_linear(MM_ALG_LINEAR_REGRESSION, 2, f2, 0.0, coef2));
		if (st == NULL)
			return;
		st->final = new_linear(MM_ALG_LINEAR_REGRESSION, 3, f3, 0.0, coef3);
		expect_refusal("refusals: a stacking whose final model takes 3 values for 2", st,
					   "the final model takes 3 values, but the members give 2");
		st->final = NULL;
		expect_refusal("refusals: a stacking without a final model", st,
					   "the final model is missing");
		st->final = r2;
		expect_refusal("refusals: a stacking whose final model is an ensemble", st,
					   "the final model is itself an ensemble");
		st->final = new_linear(MM_ALG_LINEAR_REGRESSION, 2, f2, 0.0, coef2);
		st->method = MM_ENS_MEAN;
		expect_refusal("refusals: a stacking with method mean", st,
					   "a stacking's method must be stack");
		st->method = MM_ENS_STACK;
	}

	/* the link and the writer refuse with the check's message */
	r->weights[1] = -1.0;
	status = mm_ensemble_link(r, &talloc, &err);
	check(status == MM_EINVAL && strstr(err.msg, "weight 2") != NULL,
		  "refusals: mm_ensemble_link refuses what the check refuses",
		  "status %d: %s", status, err.msg);
	status = mm_blob_write(r, NULL, 0, &err);
	check(mm_blob_size(r) == 0 && status == MM_EINVAL && strstr(err.msg, "weight 2") != NULL,
		  "refusals: the blob writer refuses an invalid ensemble (size 0)",
		  "status %d: %s", status, err.msg);
	r->weights[1] = 1.0;
	r->members[1] = r2;
	status = mm_blob_write(r, NULL, 0, &err);
	check(mm_blob_size(r) == 0 && status == MM_EINVAL &&
		  strstr(err.msg, "itself an ensemble") != NULL,
		  "refusals: the blob writer refuses an ensemble member",
		  "status %d: %s", status, err.msg);
	r->members[1] = b;

	/* the schema */
	{
		static const double coef[2] = {1.0, 1.0};
		static const double coef3[3] = {1.0, 1.0, 1.0};
		MmFeature	fk[1] = {catf("x2", 2, lv_br)};
		MmFeature	fw[1] = {arrf("v", 2)};
		MmFeature	fw3[1] = {arrf("v", 3)};
		MmModel    *m[2];
		MmModel    *e;

		e = new_ensemble(MM_ALG_ENSEMBLE, MM_ENS_MEAN, 0, ab, w11, NULL);
		status = mm_ensemble_schema(e, &talloc, &err);
		check(status == MM_EINVAL && strstr(err.msg, "an ensemble needs members") != NULL,
			  "refusals: the schema of no members", "status %d: %s", status, err.msg);

		m[0] = a;
		m[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, fk, 0.0, coef);
		e = new_ensemble(MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, m, w11, NULL);
		status = mm_ensemble_schema(e, &talloc, &err);
		check(status == MM_EINVAL && strstr(err.msg, "feature \"x2\" of member 2") != NULL,
			  "refusals: the schema of a feature numeric in one member, categorical in another",
			  "status %d: %s", status, err.msg);

		m[0] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, fw, 0.0, coef);
		m[1] = new_linear(MM_ALG_LINEAR_REGRESSION, 1, fw3, 0.0, coef3);
		e = new_ensemble(MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, m, w11, NULL);
		status = mm_ensemble_schema(e, &talloc, &err);
		check(status == MM_EINVAL && strstr(err.msg, "feature \"v\" of member 2") != NULL,
			  "refusals: the schema of an array feature of widths 2 and 3",
			  "status %d: %s", status, err.msg);
	}

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 6. Blobs
 * --------------------------------------------------------------------- */

/* Store v little-endian at b. */
static void
put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t) (v >> (8 * i));
}

/* Stamp the payload length and CRC-32C of the blob b[len]. */
static void
restamp(uint8_t *b, size_t len)
{
	uint32_t	plen = (uint32_t) (len - MM_BLOB_HEADER_SIZE);

	put32(b + 12, plen);
	put32(b + 16, mm_crc32c(b + MM_BLOB_HEADER_SIZE, plen));
}

/* The blob of m, malloc'd, its size in *size (NULL when refused). */
static uint8_t *
write_blob(const MmModel *m, size_t *size, MmErr *err)
{
	uint8_t    *blob;

	*size = mm_blob_size(m);
	if (*size == 0)
	{
		(void) mm_blob_write(m, NULL, 0, err);
		return NULL;
	}
	blob = malloc(*size);
	if (mm_blob_write(m, blob, *size, err) != MM_OK)
	{
		free(blob);
		return NULL;
	}
	return blob;
}

/* The rows of a blob test: ncols values each. */
typedef struct BlobRows
{
	int			nrows;
	int			ncols;
	const double *rows;
} BlobRows;

/* m and back predict bit-identical outputs (nout of them) on the rows */
static bool
same_predictions(const MmModel *m, const MmModel *back, const BlobRows *br, int nout)
{
	for (int r = 0; r < br->nrows; r++)
	{
		double		o1[8];
		double		o2[8];

		predict(m, br->rows + (size_t) r * br->ncols, o1);
		predict(back, br->rows + (size_t) r * br->ncols, o2);
		for (int k = 0; k < nout; k++)
			if (o1[k] != o2[k])
				return false;
	}
	return true;
}

/*
 * Write m, read it back, compare predictions and the rewritten bytes,
 * then damage the blob: truncations (raw and with a fresh header), and
 * single-bit flips (raw, and in the payload with a fresh CRC).
 */
static void
check_blob(const char *what, const MmModel *m, const BlobRows *br, int nout)
{
	char		name[160];
	MmErr		err = {""};
	size_t		size;
	uint8_t    *blob = write_blob(m, &size, &err);
	uint8_t    *blob2;
	uint8_t    *tmp;
	MmModel    *back = NULL;
	MmStatus	st;
	long		bad;
	long		nread;

	snprintf(name, sizeof(name), "blob: %s: written as version 3", what);
	check(blob != NULL && memcmp(blob, MM_BLOB_MAGIC, 4) == 0 && blob[4] == 3 &&
		  blob[5] == 0 && blob[6] == m->algorithm && blob[7] == 0,
		  name, "size %zu: %s", size, err.msg);
	if (blob == NULL)
		return;

	snprintf(name, sizeof(name), "blob: %s: reads back", what);
	st = mm_blob_read(blob, size, &talloc, &back, &err);
	if (!check(st == MM_OK && back != NULL && back->algorithm == m->algorithm &&
			   back->method == m->method && back->nmembers == m->nmembers &&
			   back->member_map != NULL && (back->final != NULL) == (m->final != NULL),
			   name, "status %d: %s", st, err.msg))
	{
		free(blob);
		return;
	}
	snprintf(name, sizeof(name), "blob: %s: predictions identical after reading", what);
	check(same_predictions(m, back, br, nout), name, "a prediction differs");

	blob2 = malloc(size);
	snprintf(name, sizeof(name), "blob: %s: writing it again reproduces the bytes", what);
	st = mm_blob_write(back, blob2, size, &err);
	check(st == MM_OK && mm_blob_size(back) == size && memcmp(blob, blob2, size) == 0,
		  name, "status %d: %s", st, err.msg);
	free(blob2);

	/* truncations: raw, then with the header's length and CRC restamped */
	tmp = malloc(size);
	bad = -1;
	for (size_t k = 0; k < size && bad < 0; k++)
	{
		uint8_t    *cut = malloc(k ? k : 1);

		memcpy(cut, blob, k);
		if (mm_blob_read(cut, k, &salloc, &back, &err) != MM_ECORRUPT)
			bad = (long) k;
		free(cut);
		track_reset(&scratch);
	}
	snprintf(name, sizeof(name), "blob: %s: every truncation to 0..%zu bytes is refused",
			 what, size - 1);
	check(bad < 0, name, "length %ld accepted", bad);

	bad = -1;
	for (size_t k = MM_BLOB_HEADER_SIZE; k < size && bad < 0; k++)
	{
		uint8_t    *cut = malloc(k);

		memcpy(cut, blob, k);
		restamp(cut, k);
		if (mm_blob_read(cut, k, &salloc, &back, &err) != MM_ECORRUPT)
			bad = (long) k;
		free(cut);
		track_reset(&scratch);
	}
	snprintf(name, sizeof(name), "blob: %s: every truncated payload with a valid CRC is refused",
			 what);
	check(bad < 0, name, "length %ld accepted", bad);

	/* bit flips: raw everywhere, then in the payload with a fresh CRC */
	bad = -1;
	for (long bit = 0; bit < (long) size * 8 && bad < 0; bit++)
	{
		memcpy(tmp, blob, size);
		tmp[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		if (mm_blob_read(tmp, size, &salloc, &back, &err) != MM_ECORRUPT)
			bad = bit;
		track_reset(&scratch);
	}
	snprintf(name, sizeof(name), "blob: %s: every single-bit flip is refused", what);
	check(bad < 0, name, "bit %ld accepted", bad);

	bad = -1;
	nread = 0;
	blob2 = malloc(size);
	for (long bit = MM_BLOB_HEADER_SIZE * 8; bit < (long) size * 8 && bad < 0; bit++)
	{
		memcpy(tmp, blob, size);
		tmp[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		restamp(tmp, size);
		st = mm_blob_read(tmp, size, &salloc, &back, &err);
		if (st == MM_OK)
		{
			/* a blob that reads is canonical and predicts without harm */
			double		o[8];

			nread++;
			if (mm_blob_write(back, blob2, size, &err) != MM_OK ||
				memcmp(tmp, blob2, size) != 0)
				bad = bit;
			for (int r = 0; r < br->nrows; r++)
				predict(back, br->rows + (size_t) r * br->ncols, o);
		}
		else if (st != MM_ECORRUPT)
			bad = bit;
		track_reset(&scratch);
	}
	free(blob2);
	snprintf(name, sizeof(name),
			 "blob: %s: every payload bit flip with a valid CRC is refused or reads back canonically",
			 what);
	check(bad < 0 && nread < (long) (size - MM_BLOB_HEADER_SIZE) * 8, name,
		  "bit %ld (%ld of the flips read)", bad, nread);

	free(tmp);
	free(blob);
}

/*
 * Rebuild the blob of ensemble m with embedded model number "slot"
 * (0-based: members, then a stacking's final model) replaced by the
 * bytes repl[rlen], with a fresh outer CRC.  The payload before the
 * embedded models is the blob's size less theirs.
 */
static uint8_t *
replace_part(const MmModel *m, const uint8_t *blob, size_t size, uint32_t slot,
			 const uint8_t *repl, size_t rlen, size_t *outlen)
{
	uint32_t	nparts = m->nmembers + (m->final ? 1 : 0);
	size_t		pre = size;
	size_t		len;
	size_t		at;
	size_t		from;
	uint8_t    *out;

	for (uint32_t i = 0; i < nparts; i++)
		pre -= 4 + mm_blob_size(i < m->nmembers ? m->members[i] : m->final);
	len = size - (4 + mm_blob_size(slot < m->nmembers ? m->members[slot] : m->final)) +
		4 + rlen;
	out = malloc(len);
	memcpy(out, blob, pre);
	at = pre;
	from = pre;
	for (uint32_t i = 0; i < nparts; i++)
	{
		size_t		psize = mm_blob_size(i < m->nmembers ? m->members[i] : m->final);

		if (i == slot)
		{
			put32(out + at, (uint32_t) rlen);
			memcpy(out + at + 4, repl, rlen);
			at += 4 + rlen;
		}
		else
		{
			memcpy(out + at, blob + from, 4 + psize);
			at += 4 + psize;
		}
		from += 4 + psize;
	}
	restamp(out, len);
	*outlen = len;
	return out;
}

static void
test_blobs(void)
{
	MmModel    *a = make_a();
	MmModel    *b = make_b();
	MmModel    *abc[3] = {a, b, make_c()};
	MmModel    *ab[2] = {a, b};
	MmModel    *pq[2] = {make_p(), make_q(2.5, "red", 3.0)};
	MmModel    *ll[2] = {make_l1(), make_l2()};
	MmModel    *tt[2] = {make_t1(), make_t2()};
	static const double w[3] = {1.0, 3.0, 0.5};
	static const double fcoef[2] = {0.6, 0.4};
	static const double fcenter[2] = {1.0, 2.0};
	static const double fscale[2] = {2.0, 4.0};
	MmFeature	fm[2] = {numf("m1"), numf("m2")};
	MmModel    *final = new_linear(MM_ALG_LINEAR_REGRESSION, 2, fm, 0.1, fcoef);
	MmModel    *e3;
	MmModel    *s;
	MmModel    *epq;
	MmModel    *soft;
	MmModel    *s3;
	double		rows_abc[N_REG_ROWS * 5];
	double		rows_ab[N_REG_ROWS * 4];
	double		rows_pq[3 * 9] = {
		1, 2, 0, 0, 1, 0.5, 0.25, -1, 3,
		-1, 0.5, 1, 0, 0, 2, 2, 2, 0,
		0, 0, 0, 1, 0, -3, 1, 0.5, 7,
	};
	BlobRows	br_abc = {N_REG_ROWS, 5, rows_abc};
	BlobRows	br_ab = {N_REG_ROWS, 4, rows_ab};
	BlobRows	br_pq = {3, 9, rows_pq};
	BlobRows	br_cls = {N_CLS_ROWS, 3, &cls_rows[0][0]};

	set_scale(final, MM_SCALE_STANDARD, fcenter, fscale);
	for (int r = 0; r < N_REG_ROWS; r++)
	{
		encode(reg_rows[r].x1, reg_rows[r].x2, reg_rows[r].color, 3, lv_bgr, rows_abc + 5 * r);
		encode(reg_rows[r].x1, reg_rows[r].x2, reg_rows[r].color, 2, lv_br, rows_ab + 4 * r);
	}

	e3 = build_ensemble("blob: ensemble A+B+C is accepted", MM_ALG_ENSEMBLE,
						MM_ENS_MEAN, 3, abc, w, NULL);
	s = build_ensemble("blob: stacking A+B with a scaled final model is accepted",
					   MM_ALG_STACKING, MM_ENS_STACK, 2, ab, w, final);
	epq = build_ensemble("blob: ensemble P+Q with imputing features is accepted",
						 MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, pq, w, NULL);
	soft = build_ensemble("blob: soft-vote ensemble L1+L2 is accepted",
						  MM_ALG_ENSEMBLE, MM_ENS_SOFT_VOTE, 2, ll, w, NULL);
	{
		MmFeature	fs[6] = {numf("s1"), numf("s2"), numf("s3"),
		numf("s4"), numf("s5"), numf("s6")};
		double		coefs[18];
		static const double b0[3] = {0.2, -0.1, 0.05};

		for (int i = 0; i < 18; i++)
			coefs[i] = net_w(7, i);
		s3 = build_ensemble("blob: 3-class stacking T1+T2 is accepted",
							MM_ALG_STACKING, MM_ENS_STACK, 2, tt, w,
							new_logistic(6, fs, MM_LABEL_INT, 3, lab_int3, coefs, b0));
	}
	if (e3 == NULL || s == NULL || epq == NULL || soft == NULL || s3 == NULL)
		return;

	check_blob("ensemble A+B+C", e3, &br_abc, 1);
	check_blob("stacking A+B", s, &br_ab, 1);
	check_blob("ensemble P+Q", epq, &br_pq, 1);
	check_blob("soft vote L1+L2", soft, &br_cls, 2);
	check_blob("3-class stacking T1+T2", s3, &br_cls, 3);

	/* hand-crafted blobs whose embedded model is itself an ensemble */
	{
		MmErr		err = {""};
		size_t		size;
		size_t		ssize;
		size_t		esize;
		size_t		len;
		uint8_t    *blob = write_blob(e3, &size, &err);
		uint8_t    *sblob = write_blob(s, &ssize, &err);
		uint8_t    *eblob;
		uint8_t    *crafted;
		MmModel    *back = NULL;
		MmStatus	st;
		MmModel    *e2;

		e2 = build_ensemble("blob: ensemble A+B is accepted", MM_ALG_ENSEMBLE,
							MM_ENS_MEAN, 2, ab, w, NULL);
		eblob = e2 ? write_blob(e2, &esize, &err) : NULL;
		if (blob == NULL || sblob == NULL || eblob == NULL)
		{
			check(false, "blob: the blobs to craft from are written", "%s", err.msg);
			free(blob);
			free(sblob);
			free(eblob);
			return;
		}

		/* control: putting member 2's own bytes back gives the same blob */
		{
			uint8_t    *mb = write_blob(b, &len, &err);
			size_t		clen;

			crafted = replace_part(e3, blob, size, 1, mb, len, &clen);
			check(clen == size && memcmp(crafted, blob, size) == 0,
				  "blob: crafting: re-inserting a member's own blob reproduces the blob",
				  "length %zu for %zu", clen, size);
			free(crafted);
			free(mb);
		}

		for (uint32_t slot = 0; slot < 3; slot++)
		{
			char		name[128];
			char		want[64];

			crafted = replace_part(e3, blob, size, slot, eblob, esize, &len);
			st = mm_blob_read(crafted, len, &talloc, &back, &err);
			snprintf(want, sizeof(want), "member %u is itself an ensemble", (unsigned) slot + 1);
			snprintf(name, sizeof(name),
					 "blob: an ensemble blob as member %u is refused (\"itself an ensemble\")",
					 (unsigned) slot + 1);
			check(st == MM_ECORRUPT && strstr(err.msg, want) != NULL, name,
				  "status %d: %s", st, err.msg);
			free(crafted);
		}

		crafted = replace_part(s, sblob, ssize, 2, eblob, esize, &len);
		st = mm_blob_read(crafted, len, &talloc, &back, &err);
		check(st == MM_ECORRUPT && strstr(err.msg, "the final model is itself an ensemble") != NULL,
			  "blob: an ensemble blob as a stacking's final model is refused",
			  "status %d: %s", st, err.msg);
		free(crafted);

		/* a stacking blob as a member, too */
		crafted = replace_part(e3, blob, size, 0, sblob, ssize, &len);
		st = mm_blob_read(crafted, len, &talloc, &back, &err);
		check(st == MM_ECORRUPT && strstr(err.msg, "member 1 is itself an ensemble") != NULL,
			  "blob: a stacking blob as a member is refused",
			  "status %d: %s", st, err.msg);
		free(crafted);

		/* a member blob with a bad CRC of its own */
		{
			uint8_t    *mb = write_blob(a, &len, &err);
			size_t		clen;

			mb[16] ^= 1;
			crafted = replace_part(e3, blob, size, 0, mb, len, &clen);
			st = mm_blob_read(crafted, clen, &talloc, &back, &err);
			check(st == MM_ECORRUPT && strstr(err.msg, "member 1: checksum mismatch") != NULL,
				  "blob: a member whose own CRC is wrong is refused, named",
				  "status %d: %s", st, err.msg);
			free(crafted);
			free(mb);
		}

		/*
		 * a member in an older format version (a linear member written as
		 * version 1 is still readable on its own) would not be written
		 * back as it was read: refused
		 */
		{
			uint8_t    *mb = write_blob(a, &len, &err);
			size_t		clen;

			mb[4] = 3;			/* linear_regression is written as version 2 */
			crafted = replace_part(e3, blob, size, 0, mb, len, &clen);
			st = mm_blob_read(crafted, clen, &talloc, &back, &err);
			check(st == MM_ECORRUPT && strstr(err.msg, "member 1 is in blob format version 3, not 2") != NULL,
				  "blob: a member in another format version than its algorithm's is refused",
				  "status %d: %s", st, err.msg);
			free(crafted);
			free(mb);
		}

		free(blob);
		free(sblob);
		free(eblob);
	}

	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * 7. The work buffer: mm_model_work is enough
 * --------------------------------------------------------------------- */

/* The hand forward pass of new_mlp's network on x: out[size[nlayers]]. */
static void
hand_mlp(int nlayers, const int *size, bool classification, const double *x, double *out)
{
	double		cur[64];
	double		next[64];

	for (int j = 0; j < size[0]; j++)
		cur[j] = x[j];
	for (int l = 0; l < nlayers; l++)
	{
		for (int i = 0; i < size[l + 1]; i++)
		{
			double		s = net_b(l, i);

			for (int j = 0; j < size[l]; j++)
				s += net_w(l, i * size[l] + j) * cur[j];
			next[i] = l + 1 < nlayers ? tanh(s) : s;
		}
		for (int i = 0; i < size[l + 1]; i++)
			cur[i] = next[i];
	}
	if (classification)
		softmax(size[nlayers], cur, out);
	else
		for (int i = 0; i < size[nlayers]; i++)
			out[i] = cur[i];
}

/*
 * The networks below have their widest layer at an odd index: the
 * forward pass then writes the second half of its 2 * widest doubles to
 * the end, so that a work size short by even one double shows.
 */
static void
test_work(void)
{
	static const int nsize[4] = {2, 9, 24, 1};
	static const int csize[4] = {2, 5, 30, 2};
	static const int fsize[4] = {2, 3, 40, 1};
	MmFeature	fn[2] = {numf("x2"), numf("x3")};
	MmFeature	fm[2] = {numf("m1"), numf("m2")};
	MmModel    *a = make_a();
	MmModel    *net = new_mlp(MM_TASK_REGRESSION, 2, fn, 3, nsize);
	MmModel    *cnet;
	MmModel    *fnet = new_mlp(MM_TASK_REGRESSION, 2, fm, 3, fsize);
	MmModel    *an[2];
	MmModel    *lc[2];
	static const double w11[2] = {1.0, 1.0};
	MmModel    *e;
	MmModel    *soft;
	MmModel    *s;
	double		out[2];
	bool		guard = true;
	bool		ok = true;
	double		worst = 0.0;

	an[0] = a;
	an[1] = net;
	cnet = new_mlp(MM_TASK_CLASSIFICATION, 2, fn, 3, csize);
	set_labels(cnet, MM_LABEL_TEXT, 2, lab_ny);
	lc[0] = make_l1();
	lc[1] = cnet;

	e = build_ensemble("work: ensemble of A and an mlp 2-9-24-1 is accepted",
					   MM_ALG_ENSEMBLE, MM_ENS_MEAN, 2, an, w11, NULL);
	soft = build_ensemble("work: soft vote of L1 and an mlp classifier 2-5-30-2 is accepted",
						  MM_ALG_ENSEMBLE, MM_ENS_SOFT_VOTE, 2, lc, w11, NULL);
	s = build_ensemble("work: stacking of A and an mlp with an mlp final 2-3-40-1 is accepted",
					   MM_ALG_STACKING, MM_ENS_STACK, 2, an, w11, fnet);
	if (e == NULL || soft == NULL || s == NULL)
		return;

	check(mm_model_work(e) >= 2 * 24 && mm_model_work(s) >= 2 * 40,
		  "work: mm_model_work covers the widest network layer twice",
		  "ensemble %zu, stacking %zu", mm_model_work(e), mm_model_work(s));

	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		n1[1];
		double		want;

		hand_mlp(3, nsize, false, x + 1, n1);
		want = (hand_a(x[0], x[1]) + n1[0]) / 2.0;
		guard &= predict_guarded(e, x, out);
		if (!near(out[0], want, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want));
	}
	check(guard, "work: ensemble with an mlp member stays within mm_model_work doubles",
		  "a canary past the end was overwritten");
	check(ok, "work: ensemble with an mlp member is (a + forward pass)/2", "worst error %g", worst);

	guard = true;
	ok = true;
	worst = 0.0;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		pc[2];
		double		pa = sigm(hand_z1(x));
		double		want1;

		hand_mlp(3, csize, true, x + 1, pc);
		want1 = (pa + pc[1]) / 2.0;
		guard &= predict_guarded(soft, x, out);
		if (!near(out[1], want1, TOL) || !near(out[0], 1.0 - want1, TOL))
			ok = false;
		worst = fmax(worst, fabs(out[1] - want1));
	}
	check(guard, "work: soft vote with an mlp classifier stays within mm_model_work doubles",
		  "a canary past the end was overwritten");
	check(ok, "work: soft vote with an mlp classifier is the mean of sigmoid and softmax",
		  "worst error %g", worst);

	guard = true;
	ok = true;
	worst = 0.0;
	for (int r = 0; r < N_CLS_ROWS; r++)
	{
		const double *x = cls_rows[r];
		double		z[2];
		double		want[1];

		hand_mlp(3, nsize, false, x + 1, z + 1);
		z[0] = hand_a(x[0], x[1]);
		hand_mlp(3, fsize, false, z, want);
		guard &= predict_guarded(s, x, out);
		if (!near(out[0], want[0], TOL))
			ok = false;
		worst = fmax(worst, fabs(out[0] - want[0]));
	}
	check(guard, "work: stacking with an mlp final model stays within mm_model_work doubles",
		  "a canary past the end was overwritten");
	check(ok, "work: stacking with an mlp final model is its forward pass on (a, n)",
		  "worst error %g", worst);
	check(n_overruns == 0,
		  "work: no prediction of this program wrote past its mm_model_work doubles",
		  "%d overruns", n_overruns);

	track_reset(&tracker);
}

int
main(void)
{
	test_regression();
	test_impute();
	test_classification();
	test_stacking();
	test_refusals();
	test_blobs();
	test_work();
	track_destroy(&tracker);
	track_destroy(&scratch);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed > 0 ? 1 : 0;
}
