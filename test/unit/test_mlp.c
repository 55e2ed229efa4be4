/*
 * test_mlp.c
 *	  Unit tests of the massmodel core's multilayer perceptron, without a
 *	  server.
 *
 * A single program without a framework: every check prints "ok N - name"
 * or "not ok N - name: detail", the last line is "P passed, F failed" and
 * the exit status is 1 when anything failed.  Memory comes from a malloc
 * wrapper that aborts on NULL and records every block, so that everything
 * is freed at the end and valgrind reports no leak.
 *
 * The reference weights below come from scikit-learn 1.2 through
 * test/reference/mlp.py (section step); its output is saved in
 * test/reference/mlp.out.  Everything else uses synthetic data from a
 * fixed generator.  BLAS runs with one thread so that fits are
 * reproducible bit for bit.
 *
 * Run with `make unit`.
 */
#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS: reproducible results need a single thread. */
extern void openblas_set_num_threads(int num_threads);

/* ---------------------------------------------------------------------
 * Harness: check(), the tracking allocator talloc
 * --------------------------------------------------------------------- */
#include "mm_test.h"

/* A deterministic generator for test data (xorshift64*). */
static uint64_t rng_state = UINT64_C(0x2545F4914F6CDD1D);

static double
rng_unif(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double) ((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 11) * 0x1.0p-53;
}

/* ---------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* Relative difference of a and b against a scale. */
static double
reldiff(double a, double b, double scale)
{
	double		s = fmax(fabs(scale), DBL_MIN);

	return fabs(a - b) / s;
}

/* Parameters of a small network; tests change what they need. */
static MmMlpParams
base_params(void)
{
	MmMlpParams p;

	memset(&p, 0, sizeof(p));
	p.nhidden = 1;
	p.hidden[0] = 8;
	p.activation = 0;
	p.optimizer = 1;
	p.learning_rate = 0.01;
	p.momentum = 0.9;
	p.epochs = 50;
	p.batch_size = 32;
	p.dropout = 0.0;
	p.weight_decay = 0.0;
	p.early_stopping = false;
	p.validation_fraction = 0.1;
	p.patience = 10;
	p.seed = 42;
	return p;
}

/*
 * A network of the given sizes allocated through talloc.  With random,
 * weights uniform in (-0.8, 0.8) from the test generator; otherwise the
 * formulas of test/reference/mlp.py:
 *	 W[l][k][j] = 0.5 cos(0.9 k + 0.4 j + l + 1), b[l][k] = 0.1 sin(k + l + 1)
 */
static void
make_net(MmMlp *net, int nlayers, const int *size, int activation,
		 bool classification, bool random)
{
	int			l,
				k,
				j;

	memset(net, 0, sizeof(*net));
	net->nlayers = nlayers;
	for (l = 0; l <= nlayers; l++)
		net->size[l] = size[l];
	net->activation = activation;
	net->classification = classification;
	net->W = track_alloc(&tracker, sizeof(double *) * nlayers);
	net->b = track_alloc(&tracker, sizeof(double *) * nlayers);
	for (l = 0; l < nlayers; l++)
	{
		net->W[l] = track_alloc(&tracker, sizeof(double) * size[l + 1] * size[l]);
		net->b[l] = track_alloc(&tracker, sizeof(double) * size[l + 1]);
		for (k = 0; k < size[l + 1]; k++)
		{
			for (j = 0; j < size[l]; j++)
				net->W[l][k * size[l] + j] = random ? 1.6 * rng_unif() - 0.8 :
					0.5 * cos(0.9 * k + 0.4 * j + l + 1);
			net->b[l][k] = random ? 1.6 * rng_unif() - 0.8 : 0.1 * sin(k + l + 1);
		}
	}
}

/* Number of parameters of a network. */
static int
net_nparam(const MmMlp *net)
{
	int			l,
				n = 0;

	for (l = 0; l < net->nlayers; l++)
		n += net->size[l + 1] * net->size[l] + net->size[l + 1];
	return n;
}

/* Parameter j of a network, in the order W[0], b[0], W[1], ... */
static double *
net_param(const MmMlp *net, int j)
{
	int			l;

	for (l = 0; l < net->nlayers; l++)
	{
		int			nw = net->size[l + 1] * net->size[l];

		if (j < nw)
			return &net->W[l][j];
		j -= nw;
		if (j < net->size[l + 1])
			return &net->b[l][j];
		j -= net->size[l + 1];
	}
	return NULL;
}

/* True when two networks have the same shape and bit-identical weights. */
static bool
net_identical(const MmMlp *a, const MmMlp *b)
{
	int			l;

	if (a->nlayers != b->nlayers)
		return false;
	for (l = 0; l <= a->nlayers; l++)
		if (a->size[l] != b->size[l])
			return false;
	for (l = 0; l < a->nlayers; l++)
	{
		if (memcmp(a->W[l], b->W[l], sizeof(double) * a->size[l + 1] * a->size[l]) != 0 ||
			memcmp(a->b[l], b->b[l], sizeof(double) * a->size[l + 1]) != 0)
			return false;
	}
	return true;
}

/* Work buffer for mm_mlp_forward: exactly 2 * the widest layer. */
static double *
forward_work(const MmMlp *net)
{
	int			l,
				mx = 0;

	for (l = 0; l <= net->nlayers; l++)
		if (net->size[l] > mx)
			mx = net->size[l];
	return track_alloc(&tracker, sizeof(double) * 2 * mx);
}

/* Accuracy of a classifier on n rows (argmax, lowest index on ties). */
static double
accuracy(const MmMlp *net, int n, int p, const double *X, const double *y)
{
	int			q = net->size[net->nlayers];
	double	   *work = forward_work(net);
	double	   *proba = track_alloc(&tracker, sizeof(double) * q);
	int			i,
				k,
				right = 0;

	for (i = 0; i < n; i++)
	{
		int			best = 0;

		mm_mlp_forward(net, X + (size_t) i * p, proba, work);
		for (k = 1; k < q; k++)
			if (proba[k] > proba[best])
				best = k;
		if (best == (int) y[i])
			right++;
	}
	return (double) right / n;
}

/* Mean squared error of a regressor on n rows. */
static double
mse(const MmMlp *net, int n, int p, const double *X, const double *y)
{
	double	   *work = forward_work(net);
	double		out,
				s = 0.0;
	int			i;

	for (i = 0; i < n; i++)
	{
		mm_mlp_forward(net, X + (size_t) i * p, &out, work);
		s += (out - y[i]) * (out - y[i]);
	}
	return s / n;
}

/* n x p values uniform in (lo, hi) */
static double *
random_matrix(int n, int p, double lo, double hi)
{
	double	   *X = track_alloc(&tracker, sizeof(double) * n * p);
	int			i;

	for (i = 0; i < n * p; i++)
		X[i] = lo + (hi - lo) * rng_unif();
	return X;
}

/* Three Gaussian-ish blobs in 2-D (sum of uniforms), classes 0, 1, 2. */
static void
blobs(int n, double **Xout, double **yout)
{
	static const double centre[3][2] = {{0.0, 0.0}, {3.0, 0.5}, {1.0, 3.0}};
	double	   *X = track_alloc(&tracker, sizeof(double) * n * 2);
	double	   *y = track_alloc(&tracker, sizeof(double) * n);
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		int			c = i % 3;

		for (j = 0; j < 2; j++)
			X[i * 2 + j] = centre[c][j] +
				0.5 * (rng_unif() + rng_unif() + rng_unif() - 1.5);
		y[i] = c;
	}
	*Xout = X;
	*yout = y;
}

/* Progress callback: counts the calls and keeps the last report. */
typedef struct ProgressLog
{
	int			calls;
	int			epoch_calls;	/* with a finite loss and a new epoch */
	int			last_iteration;
	double		last_loss;
} ProgressLog;

static void
progress_fn(void *arg, int iteration, double loss)
{
	ProgressLog *log = arg;

	log->calls++;
	if (isfinite(loss) && iteration > log->last_iteration)
		log->epoch_calls++;
	log->last_iteration = iteration;
	log->last_loss = loss;
}

/* ---------------------------------------------------------------------
 * Gradient: backpropagation against central differences
 * --------------------------------------------------------------------- */

static void
gradcheck_case(int activation, int q)
{
	static const char *const actname[] = {"relu", "tanh", "sigmoid"};
	bool		cls = q > 1;
	int			size[4] = {3, 5, 4, q};
	int			n = 7;
	double	   *X = random_matrix(n, 3, -1.0, 1.0);
	double	   *y = track_alloc(&tracker, sizeof(double) * n);
	double		wd = 0.05;
	double		h = 1e-6;
	double		loss = 0.0,
				lp = 0.0,
				lm = 0.0;
	double		gmax = 0.0,
				emax = 0.0;
	MmMlp		net,
				grad,
				scratch;
	MmErr		err;
	MmStatus	st;
	char		name[128];
	int			i,
				j,
				np;

	for (i = 0; i < n; i++)
		y[i] = cls ? (double) (i % q) : 2.0 * rng_unif() - 1.0;
	make_net(&net, 3, size, activation, cls, true);
	np = net_nparam(&net);
	st = mm_mlp_loss_grad(&net, n, X, y, wd, &loss, &grad, &talloc, &err);
	snprintf(name, sizeof(name), "mlp gradient: %s, %s%s: backprop status", actname[activation],
			 cls ? "softmax, K = " : "squared loss", cls ? (q == 2 ? "2" : "3") : "");
	if (!check(st == MM_OK, name, "status %d: %s", st, err.msg))
		return;
	for (j = 0; j < np; j++)
	{
		double	   *w = net_param(&net, j);
		double		w0 = *w;
		double		fd;

		*w = w0 + h;
		mm_mlp_loss_grad(&net, n, X, y, wd, &lp, &scratch, &talloc, &err);
		*w = w0 - h;
		mm_mlp_loss_grad(&net, n, X, y, wd, &lm, &scratch, &talloc, &err);
		*w = w0;
		fd = (lp - lm) / (2.0 * h);
		gmax = fmax(gmax, fabs(*net_param(&grad, j)));
		emax = fmax(emax, fabs(fd - *net_param(&grad, j)));
	}
	snprintf(name, sizeof(name), "mlp gradient: %s, %s%s matches finite differences to 1e-6",
			 actname[activation], cls ? "softmax, K = " : "squared loss",
			 cls ? (q == 2 ? "2" : "3") : "");
	check(gmax > 0.0 && emax <= 1e-6 * gmax, name,
		  "max error %.3g, max gradient %.3g", emax, gmax);
	track_reset(&tracker);
}

static void
test_gradient(void)
{
	int			act;

	for (act = 0; act < 3; act++)
	{
		gradcheck_case(act, 1);
		gradcheck_case(act, 2);
		gradcheck_case(act, 3);
	}
}

/* The training loss agrees with mm_mlp_forward's probabilities. */
static void
test_loss_vs_forward(void)
{
	int			size[3] = {4, 6, 3};
	int			n = 9;
	double	   *X = random_matrix(n, 4, -2.0, 2.0);
	double		y[9] = {0, 1, 2, 2, 1, 0, 0, 1, 2};
	double		loss = 0.0,
				want = 0.0,
				proba[3];
	double	   *work;
	MmMlp		net,
				grad;
	MmErr		err;
	int			i;

	make_net(&net, 2, size, 1, true, true);
	work = forward_work(&net);
	mm_mlp_loss_grad(&net, n, X, y, 0.0, &loss, &grad, &talloc, &err);
	for (i = 0; i < n; i++)
	{
		mm_mlp_forward(&net, X + i * 4, proba, work);
		want -= log(proba[(int) y[i]]);
	}
	want /= n;
	check(reldiff(loss, want, want) < 1e-12, "mlp loss: cross-entropy equals -log of the predicted probabilities",
		  "got %.17g want %.17g", loss, want);
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Optimisers against scikit-learn
 * --------------------------------------------------------------------- */

/* test/reference/mlp.out, section step: W (out x in) then b, per layer */
static const double ref_cls_adam[31] = {
	0.11424936458525591, 0.066213843682190604, -0.0017366641892010391,
	-0.32869796240519911, -0.5331390387230972, -0.29819139635350328,
	-0.3802959101610684, -0.72413296917871028, -0.57788721278754784,
	-0.35344689463884621, -0.15562645230386482, 0.00038420645517890824,
	0.26287619003138502, 0.14084681789975584, 0.24902330545422174,
	-0.29118335258614048, -0.30590707633086489, -0.53458001327680105,
	-0.71316861977796953, -0.52547441449153576, -0.34420523964430411,
	-0.40344521688432838, -0.61306427603930569, -0.11305309340447478,
	-0.45815233715832004, -0.012472816534254555, 0.17609605855678773,
	0.03889801466963784, 0.096049898424907187, 0.10859056523897354,
	-0.32414952132849456
};

static const double ref_cls_sgd[31] = {
	0.26104400835162328, 0.088374179898709604, -0.1028015863071518,
	-0.17353572003468332, -0.33913777265246964, -0.44287811718652031,
	-0.44997139319151358, -0.50547296302801448, -0.47218864051447884,
	-0.42456316435686275, -0.26250287080045287, -0.091147019192426765,
	0.090157408039762979, 0.084857782774936302, 0.058666946665848069,
	-0.12065812772894678, -0.21788011433398483, -0.40499736955745846,
	-0.48072944390186917, -0.497986366440406, -0.47492029531108654,
	-0.47212774821024567, -0.42771953362345111, -0.27808276385639852,
	-0.39504331473691179, -0.22922910964025314, -0.041746746924031179,
	0.13204692078753955, 0.070014345960905291, 0.048645603975339805,
	-0.089298455978483057
};

static const double ref_reg_adam[21] = {
	0.042374490560175448, 0.30778512203870467, 0.11228454705820938,
	-0.39958459046090655, -0.096050371364484757, -0.21431973075689278,
	-0.7097300733314571, -0.25802067431101516, -0.20881468793058161,
	-0.66445281989520655, -0.043822382659241023, 0.13634791244313227,
	0.24914147286193689, 0.28465768473224456, 0.16865016013878423,
	0.081514586037189168, -0.054836372117849801, -0.13905066596283358,
	-0.24791669922828855, -0.54427334813162398, -0.066468035786342444
};

static const double ref_reg_sgd[21] = {
	0.20780921469325622, 0.16257097139098836, -0.0098716830250100904,
	-0.25853479952355873, -0.22369918697373511, -0.29611966480336371,
	-0.61479533897926608, -0.36490116552326973, -0.23215911238638232,
	-0.58676497668090621, -0.096164971448463227, 0.16004517959668013,
	0.11478607228765751, 0.14661435155751421, 0.056244445197259331,
	-0.014485810732804943, -0.1194222677223786, -0.089300359228473972,
	-0.23765447202320816, -0.50596831841984879, -0.058626427696552887
};

static void
reference_case(const char *name, bool cls, int activation, int optimizer,
			   double lr, const double *ref, int nref)
{
	int			n = 12;
	int			q = cls ? 3 : 1;
	int			size[3] = {3, 4, q};
	double		X[12 * 3];
	double		y[12];
	double		worst = 0.0;
	MmMlpParams prm = base_params();
	MmMlp		init,
				out;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	char		fitname[160];
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		for (j = 0; j < 3; j++)
			X[i * 3 + j] = sin(1.0 + 0.7 * i + 1.3 * j);
		y[i] = cls ? (double) (i % 3) : cos(0.5 * i);
	}
	make_net(&init, 2, size, activation, cls, false);
	prm.hidden[0] = 4;
	prm.activation = activation;
	prm.optimizer = optimizer;
	prm.learning_rate = lr;
	prm.momentum = 0.9;
	prm.epochs = 5;
	prm.batch_size = n;
	prm.weight_decay = 0.01;
	st = mm_mlp_fit(n, 3, X, y, q, cls, &prm, &init, &out, &info, NULL, &talloc, &err);
	snprintf(fitname, sizeof(fitname), "%s (fit)", name);
	if (!check(st == MM_OK && net_nparam(&out) == nref, fitname, "status %d: %s", st, err.msg))
		return;
	for (j = 0; j < nref; j++)
		worst = fmax(worst, reldiff(*net_param(&out, j), ref[j], fmax(1.0, fabs(ref[j]))));
	check(worst < 1e-12, name, "worst relative difference %.3g", worst);
	track_reset(&tracker);
}

static void
test_reference(void)
{
	reference_case("mlp adam, classifier: 5 full-batch epochs equal scikit-learn's weights",
				   true, 0, 1, 0.05, ref_cls_adam, 31);
	reference_case("mlp sgd momentum, classifier: 5 full-batch epochs equal scikit-learn's weights",
				   true, 0, 0, 0.1, ref_cls_sgd, 31);
	reference_case("mlp adam, regressor: 5 full-batch epochs equal scikit-learn's weights",
				   false, 1, 1, 0.05, ref_reg_adam, 21);
	reference_case("mlp sgd momentum, regressor: 5 full-batch epochs equal scikit-learn's weights",
				   false, 1, 0, 0.1, ref_reg_sgd, 21);
}

/* ---------------------------------------------------------------------
 * Learning
 * --------------------------------------------------------------------- */

static void
test_xor(void)
{
	double		X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
	double		y[4] = {0, 1, 1, 0};
	MmMlpParams prm = base_params();
	MmMlp		out;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	double		acc;

	prm.hidden[0] = 8;
	prm.learning_rate = 0.05;
	prm.epochs = 300;
	prm.batch_size = 4;
	st = mm_mlp_fit(4, 2, X, y, 2, true, &prm, NULL, &out, &info, NULL, &talloc, &err);
	if (!check(st == MM_OK, "mlp xor: fit", "status %d: %s", st, err.msg))
		return;
	acc = accuracy(&out, 4, 2, X, y);
	check(acc == 1.0, "mlp xor: relu + adam reaches accuracy 1", "accuracy %g, loss %g",
		  acc, info.train_loss);
	check(info.epochs_run == 300 && info.best_epoch == 300 && isnan(info.valid_loss),
		  "mlp xor: all epochs run without early stopping", "epochs %d best %d valid %g",
		  info.epochs_run, info.best_epoch, info.valid_loss);
	track_reset(&tracker);
}

static void
test_linear(void)
{
	int			n = 200;
	double	   *X = random_matrix(n, 2, -1.0, 1.0);
	double	   *y = track_alloc(&tracker, sizeof(double) * n);
	MmMlpParams prm = base_params();
	MmMlp		out;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	double		e;
	int			i;

	for (i = 0; i < n; i++)
		y[i] = 2.0 * X[2 * i] - 3.0 * X[2 * i + 1] + 0.5 + 0.01 * (rng_unif() - 0.5);

	/* no hidden layer: plain linear regression by sgd */
	prm.nhidden = 0;
	prm.optimizer = 0;
	prm.learning_rate = 0.05;
	prm.epochs = 100;
	prm.batch_size = 20;
	st = mm_mlp_fit(n, 2, X, y, 1, false, &prm, NULL, &out, &info, NULL, &talloc, &err);
	if (check(st == MM_OK, "mlp linear: fit without hidden layers", "status %d: %s", st, err.msg))
		check(fabs(out.W[0][0] - 2.0) < 0.01 && fabs(out.W[0][1] + 3.0) < 0.01 &&
			  fabs(out.b[0][0] - 0.5) < 0.01,
			  "mlp linear: sgd recovers the coefficients (2, -3) and intercept 0.5",
			  "got %g %g %g", out.W[0][0], out.W[0][1], out.b[0][0]);

	/* one tanh layer by adam */
	prm = base_params();
	prm.hidden[0] = 16;
	prm.activation = 1;
	prm.learning_rate = 0.01;
	prm.epochs = 200;
	prm.batch_size = 20;
	st = mm_mlp_fit(n, 2, X, y, 1, false, &prm, NULL, &out, &info, NULL, &talloc, &err);
	if (check(st == MM_OK, "mlp linear: fit with a tanh layer", "status %d: %s", st, err.msg))
	{
		e = mse(&out, n, 2, X, y);
		check(e < 1e-3, "mlp linear: tanh + adam fits a linear target (mse < 1e-3)",
			  "mse %g", e);
		check(reldiff(info.train_loss, 0.5 * e, 0.5 * e) < 0.5,
			  "mlp linear: reported training loss is about mse / 2", "loss %g mse %g",
			  info.train_loss, e);
	}
	track_reset(&tracker);
}

static void
test_blobs(void)
{
	int			n = 300;
	double	   *X,
			   *y;
	MmMlpParams prm = base_params();
	MmMlp		out;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	double		acc;

	blobs(n, &X, &y);
	/* two sigmoid layers, sgd with momentum */
	prm.nhidden = 2;
	prm.hidden[0] = 16;
	prm.hidden[1] = 8;
	prm.activation = 2;
	prm.optimizer = 0;
	prm.learning_rate = 0.1;
	prm.epochs = 60;
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &out, &info, NULL, &talloc, &err);
	acc = st == MM_OK ? accuracy(&out, n, 2, X, y) : 0.0;
	check(st == MM_OK && acc >= 0.95, "mlp blobs: sigmoid layers + sgd classify 3 blobs",
		  "status %d (%s), accuracy %g", st, err.msg, acc);

	/* relu with dropout and weight decay, adam */
	prm = base_params();
	prm.hidden[0] = 32;
	prm.dropout = 0.3;
	prm.weight_decay = 1e-3;
	prm.epochs = 60;
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &out, &info, NULL, &talloc, &err);
	acc = st == MM_OK ? accuracy(&out, n, 2, X, y) : 0.0;
	check(st == MM_OK && acc >= 0.95, "mlp blobs: relu + dropout 0.3 + adam classify 3 blobs",
		  "status %d (%s), accuracy %g", st, err.msg, acc);
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Determinism, warm start, early stopping, progress
 * --------------------------------------------------------------------- */

static void
test_determinism(void)
{
	int			n = 150;
	double	   *X,
			   *y;
	MmMlpParams prm = base_params();
	MmMlp		a,
				b,
				c;
	MmMlpInfo	ia,
				ib;
	MmErr		err;
	MmStatus	s1,
				s2,
				s3;
	ProgressLog log;
	MmProgress	progress = {progress_fn, &log};

	blobs(n, &X, &y);
	prm.nhidden = 2;
	prm.hidden[0] = 16;
	prm.hidden[1] = 8;
	prm.dropout = 0.2;
	prm.weight_decay = 1e-3;
	prm.epochs = 20;
	prm.batch_size = 16;
	memset(&log, 0, sizeof(log));
	s1 = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &a, &ia, &progress, &talloc, &err);
	s2 = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &b, &ib, NULL, &talloc, &err);
	prm.seed = 43;
	s3 = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &c, NULL, NULL, &talloc, &err);
	if (!check(s1 == MM_OK && s2 == MM_OK && s3 == MM_OK, "mlp determinism: fits",
			   "status %d %d %d: %s", s1, s2, s3, err.msg))
		return;
	check(net_identical(&a, &b) && memcmp(&ia.train_loss, &ib.train_loss, sizeof(double)) == 0,
		  "mlp determinism: the same seed gives bit-identical weights", "weights differ");
	check(!net_identical(&a, &c), "mlp determinism: another seed gives other weights",
		  "weights equal");
	check(a.nlayers == 3 && a.size[0] == 2 && a.size[1] == 16 && a.size[2] == 8 &&
		  a.size[3] == 3 && a.classification && a.activation == 0,
		  "mlp determinism: the output network has the requested shape",
		  "nlayers %d sizes %d %d %d %d", a.nlayers, a.size[0], a.size[1], a.size[2], a.size[3]);
	check(log.epoch_calls == 20 && log.last_iteration == 20 &&
		  log.last_loss == ia.train_loss,
		  "mlp progress: one report per epoch, the last with the final training loss",
		  "calls %d epoch calls %d last %d loss %g vs %g", log.calls, log.epoch_calls,
		  log.last_iteration, log.last_loss, ia.train_loss);
	track_reset(&tracker);
}

static void
test_warm_start(void)
{
	int			n = 150;
	double	   *X,
			   *y;
	MmMlpParams prm = base_params();
	MmMlp		a,
				b,
				g,
				wrong;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	double		la = 0.0,
				lb = 0.0;
	int			wsize[3] = {2, 9, 3};

	blobs(n, &X, &y);
	prm.hidden[0] = 16;
	prm.weight_decay = 1e-3;
	prm.epochs = 10;
	prm.learning_rate = 0.005;
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, NULL, &a, &info, NULL, &talloc, &err);
	if (!check(st == MM_OK, "mlp warm start: first fit", "status %d: %s", st, err.msg))
		return;
	mm_mlp_loss_grad(&a, n, X, y, prm.weight_decay, &la, &g, &talloc, &err);
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, &a, &b, &info, NULL, &talloc, &err);
	if (!check(st == MM_OK, "mlp warm start: continued fit", "status %d: %s", st, err.msg))
		return;
	mm_mlp_loss_grad(&b, n, X, y, prm.weight_decay, &lb, &g, &talloc, &err);
	check(lb <= la, "mlp warm start: the loss after more epochs is not higher",
		  "before %.17g after %.17g", la, lb);
	check(!net_identical(&a, &b), "mlp warm start: the weights moved", "unchanged");

	/* the starting network is copied, not modified */
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, &a, &b, &info, NULL, &talloc, &err);
	mm_mlp_loss_grad(&a, n, X, y, prm.weight_decay, &lb, &g, &talloc, &err);
	check(st == MM_OK && lb == la, "mlp warm start: the initial network is left alone",
		  "loss %.17g vs %.17g", lb, la);

	make_net(&wrong, 2, wsize, 0, true, true);
	err.msg[0] = '\0';
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, &wrong, &b, &info, NULL, &talloc, &err);
	check(st == MM_EINVAL && err.msg[0] != '\0', "mlp warm start: another shape is rejected",
		  "status %d: %s", st, err.msg);
	a.W[0][3] = NAN;
	st = mm_mlp_fit(n, 2, X, y, 3, true, &prm, &a, &b, &info, NULL, &talloc, &err);
	check(st == MM_EINVAL, "mlp warm start: a non-finite initial weight is rejected",
		  "status %d: %s", st, err.msg);
	a.W[0][3] = 0.0;
	st = mm_mlp_fit(n, 2, X, y, 3, false, &prm, &a, &b, &info, NULL, &talloc, &err);
	check(st == MM_EINVAL, "mlp warm start: a classifier cannot start a regressor",
		  "status %d: %s", st, err.msg);
	track_reset(&tracker);
}

static void
test_early_stopping(void)
{
	int			n = 200;
	double	   *X = random_matrix(n, 4, -1.0, 1.0);
	double	   *y = random_matrix(n, 1, -1.0, 1.0);
	MmMlpParams prm = base_params();
	MmMlp		a,
				b;
	MmMlpInfo	ia,
				ib;
	MmErr		err;
	MmStatus	st;
	ProgressLog log;
	MmProgress	progress = {progress_fn, &log};

	prm.hidden[0] = 64;
	prm.learning_rate = 0.01;
	prm.epochs = 500;
	prm.batch_size = 20;
	prm.early_stopping = true;
	prm.validation_fraction = 0.2;
	prm.patience = 5;
	memset(&log, 0, sizeof(log));
	st = mm_mlp_fit(n, 4, X, y, 1, false, &prm, NULL, &a, &ia, &progress, &talloc, &err);
	if (!check(st == MM_OK, "mlp early stopping: fit on noise", "status %d: %s", st, err.msg))
		return;
	check(ia.epochs_run < 500 && ia.best_epoch == ia.epochs_run - 5 &&
		  isfinite(ia.valid_loss) && isfinite(ia.train_loss),
		  "mlp early stopping: stops patience epochs after the best, long before the limit",
		  "epochs %d best %d valid %g", ia.epochs_run, ia.best_epoch, ia.valid_loss);
	check(log.epoch_calls == ia.epochs_run, "mlp early stopping: one progress report per epoch run",
		  "%d reports, %d epochs", log.epoch_calls, ia.epochs_run);

	/* the same fit cut at the best epoch ends with the same weights */
	prm.epochs = ia.best_epoch;
	prm.patience = 1000;
	st = mm_mlp_fit(n, 4, X, y, 1, false, &prm, NULL, &b, &ib, NULL, &talloc, &err);
	check(st == MM_OK && ib.best_epoch == ia.best_epoch && net_identical(&a, &b) &&
		  ib.valid_loss == ia.valid_loss && ib.train_loss == ia.train_loss,
		  "mlp early stopping: the best epoch's weights are restored",
		  "status %d best %d vs %d, valid %g vs %g", st, ib.best_epoch, ia.best_epoch,
		  ib.valid_loss, ia.valid_loss);

	/* too few rows to hold any out */
	prm.validation_fraction = 0.5;
	st = mm_mlp_fit(1, 4, X, y, 1, false, &prm, NULL, &b, &ib, NULL, &talloc, &err);
	check(st == MM_ENODATA, "mlp early stopping: one row cannot be split",
		  "status %d: %s", st, err.msg);
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

typedef enum
{
	BAD_N, BAD_P, BAD_Q_CLS, BAD_Q_REG, BAD_LABEL, BAD_LABEL_FRAC, BAD_X, BAD_Y,
	BAD_WIDTH0, BAD_WIDTH_BIG, BAD_NHIDDEN, BAD_EPOCHS, BAD_BATCH, BAD_DROPOUT1,
	BAD_DROPOUT_NEG, BAD_LR0, BAD_LR_NAN, BAD_ACT, BAD_OPT, BAD_WD, BAD_MOMENTUM,
	BAD_VF0, BAD_VF1, BAD_PATIENCE, NBAD
} BadCase;

static void
test_invalid(void)
{
	static const char *const names[NBAD] = {
		"no rows", "no features", "one class", "two regression outputs",
		"a label out of range", "a fractional label", "a NaN feature",
		"an infinite target", "a hidden layer of 0 units",
		"a hidden layer of 100001 units", "17 hidden layers", "0 epochs",
		"batch_size 0", "dropout 1", "negative dropout", "learning_rate 0",
		"learning_rate NaN", "activation 3", "optimizer 2",
		"negative weight_decay", "momentum 1", "validation_fraction 0",
		"validation_fraction 1", "patience 0"
	};
	double		X[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	double		y[4] = {0, 1, 1, 0};
	int			c;

	for (c = 0; c < NBAD; c++)
	{
		MmMlpParams prm = base_params();
		MmMlp		out;
		MmMlpInfo	info;
		MmErr		err;
		MmStatus	st;
		int64_t		n = 4;
		int			p = 2,
					q = 2;
		bool		cls = true;
		char		name[128];

		X[3] = 3.0;
		y[2] = 1.0;
		y[1] = 1.0;
		switch ((BadCase) c)
		{
			case BAD_N: n = 0; break;
			case BAD_P: p = 0; break;
			case BAD_Q_CLS: q = 1; break;
			case BAD_Q_REG: cls = false; break;
			case BAD_LABEL: y[2] = 2.0; break;
			case BAD_LABEL_FRAC: y[1] = 0.5; break;
			case BAD_X: X[3] = NAN; break;
			case BAD_Y: cls = false; q = 1; y[2] = INFINITY; break;
			case BAD_WIDTH0: prm.hidden[0] = 0; break;
			case BAD_WIDTH_BIG: prm.hidden[0] = 100001; break;
			case BAD_NHIDDEN: prm.nhidden = MM_MLP_MAX_LAYERS + 1; break;
			case BAD_EPOCHS: prm.epochs = 0; break;
			case BAD_BATCH: prm.batch_size = 0; break;
			case BAD_DROPOUT1: prm.dropout = 1.0; break;
			case BAD_DROPOUT_NEG: prm.dropout = -0.1; break;
			case BAD_LR0: prm.learning_rate = 0.0; break;
			case BAD_LR_NAN: prm.learning_rate = NAN; break;
			case BAD_ACT: prm.activation = 3; break;
			case BAD_OPT: prm.optimizer = 2; break;
			case BAD_WD: prm.weight_decay = -1.0; break;
			case BAD_MOMENTUM: prm.optimizer = 0; prm.momentum = 1.0; break;
			case BAD_VF0: prm.early_stopping = true; prm.validation_fraction = 0.0; break;
			case BAD_VF1: prm.early_stopping = true; prm.validation_fraction = 1.0; break;
			case BAD_PATIENCE: prm.early_stopping = true; prm.patience = 0; break;
			case NBAD: break;
		}
		err.msg[0] = '\0';
		st = mm_mlp_fit(n, p, X, y, q, cls, &prm, NULL, &out, &info, NULL, &talloc, &err);
		snprintf(name, sizeof(name), "mlp invalid: %s is rejected", names[c]);
		check(st == MM_EINVAL && err.msg[0] != '\0', name, "status %d: %s", st, err.msg);
	}
	track_reset(&tracker);
}

static void
test_divergence(void)
{
	int			n = 50;
	double	   *X = random_matrix(n, 3, -10.0, 10.0);
	double	   *y = track_alloc(&tracker, sizeof(double) * n);
	MmMlpParams prm = base_params();
	MmMlp		out;
	MmMlpInfo	info;
	MmErr		err;
	MmStatus	st;
	int			i;

	for (i = 0; i < n; i++)
		y[i] = 1000.0 * X[3 * i];
	prm.nhidden = 0;
	prm.optimizer = 0;
	prm.learning_rate = 10.0;
	prm.epochs = 200;
	prm.batch_size = 10;
	err.msg[0] = '\0';
	st = mm_mlp_fit(n, 3, X, y, 1, false, &prm, NULL, &out, &info, NULL, &talloc, &err);
	check(st == MM_ENUMERIC && strstr(err.msg, "diverged") != NULL,
		  "mlp divergence: a too large learning rate is reported", "status %d: %s",
		  st, err.msg);

	/* the same through a relu layer (which maps NaN to 0) */
	prm.nhidden = 1;
	prm.hidden[0] = 8;
	prm.activation = 0;
	err.msg[0] = '\0';
	st = mm_mlp_fit(n, 3, X, y, 1, false, &prm, NULL, &out, &info, NULL, &talloc, &err);
	check(st == MM_ENUMERIC && strstr(err.msg, "diverged") != NULL,
		  "mlp divergence: reported through a relu layer", "status %d: %s",
		  st, err.msg);
	track_reset(&tracker);
}

int
main(void)
{
	openblas_set_num_threads(1);
	test_gradient();
	test_loss_vs_forward();
	test_reference();
	test_xor();
	test_linear();
	test_blobs();
	test_determinism();
	test_warm_start();
	test_early_stopping();
	test_invalid();
	test_divergence();
	track_destroy(&tracker);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed > 0 ? 1 : 0;
}
