/*
 * mm_mlp.c
 *	  Multilayer perceptron: mini-batch training by backpropagation with
 *	  sgd (classical momentum) or adam, prediction of one row.
 *
 * Shapes.  Layer l (0 <= l < L, L = nhidden + 1 weight layers) maps
 * size[l] inputs to size[l+1] outputs: W[l] is size[l+1] x size[l]
 * row-major and b[l] has size[l+1] entries; size[0] = p, size[L] = q.
 * During training all parameters live in one flat vector theta,
 * W[0], b[0], W[1], b[1], ... (the same for the gradient and for the
 * optimiser's state), so that an optimiser step is one loop over it; the
 * returned MmMlp points into such a vector.
 *
 * Forward pass over a batch of nb rows: the activations of layer l are an
 * nb x size[l] row-major matrix A[l] (A[0] the input rows), and
 *	 A[l+1] = f(A[l] W[l]' + 1 b[l]')
 * by one dgemm per layer (the rows are first set to b[l], then beta = 1).
 * f is relu, tanh or the logistic function on hidden layers.  The output
 * layer is the identity for regression (q = 1, row loss (yhat - y)^2 / 2)
 * and a softmax for classification (q = K classes, row loss -log p_y,
 * computed as logsumexp(z) - z_y).  K == 2 also uses a 2-way softmax
 * (scikit-learn uses a single logistic unit there): the model family is
 * the same, only over-parametrised, and one code path serves every K.
 *
 * Loss and gradient of a batch (scikit-learn's MLP _backprop):
 *	 loss = 1/nb sum_i rowloss_i + alpha / (2 nb) sum_l |W[l]|^2
 *	 D[L] = (out - target) / nb			(softmax + cross-entropy, or
 *										 identity + squared loss)
 *	 dW[l] = D[l+1]' A[l] + alpha / nb W[l]	(dgemm)
 *	 db[l] = D[l+1]' 1						(dgemv)
 *	 D[l] = (D[l+1] W[l]) .* f'(A[l]) .* mask[l]	(dgemm, then elementwise)
 * biases unpenalised; f' is taken from the activations (relu: a > 0, tanh:
 * 1 - a^2, logistic: a (1 - a)).
 *
 * Dropout (inverted): during training each hidden activation is kept
 * with probability keep = 1 - dropout and then divided by keep, so that
 * nothing changes at prediction time, where there is no dropout.  The
 * multipliers (0 or 1/keep) are kept per batch for the backward pass;
 * the activation before dropout, needed by f', is a * keep.
 *
 * Optimisers (scikit-learn's, one step per batch):
 *	 sgd:  v = momentum v - lr g;  theta += v
 *	 adam: t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *		   theta -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
 * with b1 = 0.9, b2 = 0.999, eps = 1e-8; the state starts at zero, also
 * with a warm start.
 *
 * Training.  One generator (MmRng from params->seed) supplies, in this
 * order: the initial weights (unless warm-started: uniform in
 * +-sqrt(f / (fan_in + fan_out)), f = 2 for the logistic activation and 6
 * otherwise, W[l] row by row, then b[l]), the validation split (a
 * Fisher-Yates permutation of the rows; the first ceil(fraction * n) are
 * held out), then per epoch a Fisher-Yates shuffle of the training rows
 * and the dropout masks of its batches.  Each epoch walks the shuffled
 * rows in batches of batch_size (the last one smaller; batch_size is
 * capped at the number of training rows), gathering the rows of a batch
 * into A[0].  The epoch's training loss is scikit-learn's: the mean of the
 * batch losses weighted by their rows, each taken before its update.
 *
 * Early stopping: after each epoch the validation loss (the mean row
 * loss of the held-out rows, no penalty, no dropout) is computed; an
 * epoch improves when it is below best - 1e-10 |best|; the weights of
 * the best epoch are kept, and training stops after patience epochs in a
 * row without improvement.  The returned weights are the best epoch's,
 * info->train_loss is that epoch's training loss.
 *
 * A batch whose loss is not finite, or a non-finite weight after an epoch
 * (the relu maps NaN to 0, so a NaN weight may not reach the loss), stops
 * the fit with MM_ENUMERIC.  The progress callback is called after each
 * epoch with the epoch number (from 1) and its training loss, and every
 * MM_PROGRESS_BATCHES batches within an epoch with the previous epoch's
 * number and loss (NaN before the first), so that long epochs can be
 * cancelled.
 *
 * Memory: all of it comes from the caller's MmAlloc: the parameters,
 * gradient, optimiser state and best copy (5 or 6 times the parameter
 * count) and the per-batch matrices (about 3 batch_size * sum of the
 * layer sizes).  Deterministic for a given BLAS with one thread.
 */
#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#define MM_MLP_MAX_WIDTH		100000	/* units of a hidden layer */
#define MM_PROGRESS_BATCHES		64
#define MM_ADAM_BETA1			0.9
#define MM_ADAM_BETA2			0.999
#define MM_ADAM_EPS				1e-8
#define MM_IMPROVEMENT			1e-10	/* relative, early stopping */

/* Where the parameters of each layer sit in the flat vector. */
typedef struct MmShape
{
	int			nlayers;
	int			size[MM_MLP_MAX_LAYERS + 2];
	size_t		woff[MM_MLP_MAX_LAYERS + 1];
	size_t		boff[MM_MLP_MAX_LAYERS + 1];
	size_t		nparam;
	int			maxsize;		/* the widest layer, input and output included */
	size_t		sumsize;		/* size[1] + ... + size[L] */
} MmShape;

/* The batch matrices of forward and backward passes. */
typedef struct MmTrainer
{
	MmShape		sh;
	int			activation;
	bool		classification;
	int			cap;			/* rows of a batch, at most */
	double	   *X0;				/* cap x size[0]: gathered input rows */
	double	   *A[MM_MLP_MAX_LAYERS + 2];	/* A[l], l >= 1: cap x size[l] */
	double	   *D[MM_MLP_MAX_LAYERS + 2];	/* D[l], l >= 1: deltas */
	double	   *M[MM_MLP_MAX_LAYERS + 2];	/* dropout multipliers, hidden */
	double	   *yb;				/* cap gathered targets */
	double	   *ones;			/* cap ones */
	double		dropout;
	MmRng	   *rng;			/* for the dropout masks */
} MmTrainer;

/* Fill in the offsets of a shape; false when the sizes overflow. */
static bool
mm_shape_init(MmShape *sh, int nlayers, const int *size)
{
	size_t		off = 0;
	size_t		cnt;
	int			l;

	memset(sh, 0, sizeof(*sh));
	sh->nlayers = nlayers;
	for (l = 0; l <= nlayers; l++)
	{
		sh->size[l] = size[l];
		if (size[l] > sh->maxsize)
			sh->maxsize = size[l];
		if (l > 0)
			sh->sumsize += (size_t) size[l];
	}
	for (l = 0; l < nlayers; l++)
	{
		sh->woff[l] = off;
		/* BLAS counts are int: a layer's weights must fit */
		if (!mm_mul_size((size_t) size[l + 1], (size_t) size[l], &cnt) ||
			cnt > (size_t) INT32_MAX || !mm_add_size(off, cnt, &off))
			return false;
		sh->boff[l] = off;
		if (!mm_add_size(off, (size_t) size[l + 1], &off))
			return false;
	}
	sh->nparam = off;
	/* the flat vectors are allocated in bytes */
	return mm_mul_size(off, sizeof(double), &cnt);
}

/* Allocate a flat vector of doubles through a (zeroed). */
static double *
mm_vec(const MmAlloc *a, size_t n)
{
	return mm_alloc0(a, sizeof(double) * n);
}

/* Allocate the batch matrices for batches of up to cap rows. */
static void
mm_trainer_init(MmTrainer *T, const MmShape *sh, int activation,
				bool classification, int cap, double dropout, MmRng *rng,
				bool gather, const MmAlloc *a)
{
	int			L = sh->nlayers;
	int			l;
	int			i;

	memset(T, 0, sizeof(*T));
	T->sh = *sh;
	T->activation = activation;
	T->classification = classification;
	T->cap = cap;
	T->dropout = dropout;
	T->rng = rng;
	if (gather)
	{
		T->X0 = mm_vec(a, (size_t) cap * sh->size[0]);
		T->yb = mm_vec(a, (size_t) cap);
	}
	for (l = 1; l <= L; l++)
	{
		T->A[l] = mm_vec(a, (size_t) cap * sh->size[l]);
		T->D[l] = mm_vec(a, (size_t) cap * sh->size[l]);
		if (l < L && dropout > 0.0)
			T->M[l] = mm_vec(a, (size_t) cap * sh->size[l]);
	}
	T->ones = mm_vec(a, (size_t) cap);
	for (i = 0; i < cap; i++)
		T->ones[i] = 1.0;
}

/* The hidden activation, in place over n values. */
static void
mm_activate(int activation, double *v, size_t n)
{
	size_t		i;

	switch (activation)
	{
		case 0:
			/* relu, branch-free (NaN becomes 0: see mm_all_finite) */
			for (i = 0; i < n; i++)
				v[i] = v[i] > 0.0 ? v[i] : 0.0;
			break;
		case 1:
			for (i = 0; i < n; i++)
				v[i] = tanh(v[i]);
			break;
		default:
			for (i = 0; i < n; i++)
				v[i] = 1.0 / (1.0 + exp(-v[i]));
			break;
	}
}

/* d .*= f'(a) over n values, a the activations (after f). */
static void
mm_activate_grad(int activation, const double *act, double *d, size_t n)
{
	size_t		i;

	switch (activation)
	{
		case 0:
			for (i = 0; i < n; i++)
				d[i] = act[i] > 0.0 ? d[i] : 0.0;
			break;
		case 1:
			for (i = 0; i < n; i++)
				d[i] *= 1.0 - act[i] * act[i];
			break;
		default:
			for (i = 0; i < n; i++)
				d[i] *= act[i] * (1.0 - act[i]);
			break;
	}
}

/* Apply an inverted-dropout mask to n activations, keeping the multipliers. */
static void
mm_dropout(MmTrainer *T, double *v, double *mult, size_t n)
{
	double		keep = 1.0 - T->dropout;
	double		inv = 1.0 / keep;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		mult[i] = mm_rng_uniform(T->rng) < T->dropout ? 0.0 : inv;
		v[i] *= mult[i];
	}
}

/*
 * Forward pass of nb rows X0 (nb x size[0]) up to the output logits (or
 * regression values) in T->A[L]; with train, dropout on hidden layers.
 */
static void
mm_forward_batch(MmTrainer *T, const double *theta, const double *X0, int nb,
				 bool train)
{
	const MmShape *sh = &T->sh;
	int			L = sh->nlayers;
	int			l;
	int			i;

	for (l = 0; l < L; l++)
	{
		int			s0 = sh->size[l];
		int			s1 = sh->size[l + 1];
		const double *in = l == 0 ? X0 : T->A[l];
		const double *W = theta + sh->woff[l];
		const double *b = theta + sh->boff[l];
		double	   *Z = T->A[l + 1];
		size_t		cnt = (size_t) nb * s1;

		for (i = 0; i < nb; i++)
			memcpy(Z + (size_t) i * s1, b, sizeof(double) * s1);
		/* Z (nb x s1) += in (nb x s0) * W' (s0 x s1) */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, s1, s0,
					1.0, in, s0, W, s0, 1.0, Z, s1);
		if (l + 1 < L)
		{
			mm_activate(T->activation, Z, cnt);
			if (train && T->dropout > 0.0)
				mm_dropout(T, Z, T->M[l + 1], cnt);
		}
	}
}

/*
 * Output transform of the nb rows in T->A[L] (softmax, or none) and the
 * sum of their row losses against y; with delta, D[L] = (out - y) / nb.
 * Class labels are exact small integers (checked by the callers).
 */
static double
mm_output_batch(MmTrainer *T, const double *y, int nb, bool delta)
{
	int			q = T->sh.size[T->sh.nlayers];
	double	   *O = T->A[T->sh.nlayers];
	double	   *D = T->D[T->sh.nlayers];
	double		inv = 1.0 / nb;
	double		loss = 0.0;
	int			i,
				k;

	if (!T->classification)
	{
		for (i = 0; i < nb; i++)
		{
			double		r = O[i] - y[i];

			loss += 0.5 * r * r;
			if (delta)
				D[i] = r * inv;
		}
		return loss;
	}
	for (i = 0; i < nb; i++)
	{
		double	   *z = O + (size_t) i * q;
		int			yi = (int) y[i];
		double		mx = z[0];
		double		zy = z[yi];
		double		s = 0.0;

		for (k = 1; k < q; k++)
			if (z[k] > mx)
				mx = z[k];
		for (k = 0; k < q; k++)
		{
			z[k] = exp(z[k] - mx);
			s += z[k];
		}
		loss += log(s) - (zy - mx);
		for (k = 0; k < q; k++)
			z[k] /= s;
		if (delta)
		{
			double	   *d = D + (size_t) i * q;

			for (k = 0; k < q; k++)
				d[k] = z[k] * inv;
			d[yi] -= inv;
		}
	}
	return loss;
}

/*
 * Backward pass after mm_forward_batch and mm_output_batch (with delta):
 * the gradient of the batch loss into grad (flat, as theta).
 */
static void
mm_backward_batch(MmTrainer *T, const double *theta, const double *X0, int nb,
				  double alpha, double *grad)
{
	const MmShape *sh = &T->sh;
	int			L = sh->nlayers;
	double		keep = 1.0 - T->dropout;
	int			l;

	for (l = L - 1; l >= 0; l--)
	{
		int			s0 = sh->size[l];
		int			s1 = sh->size[l + 1];
		const double *in = l == 0 ? X0 : T->A[l];
		const double *W = theta + sh->woff[l];
		double	   *gW = grad + sh->woff[l];
		double	   *gb = grad + sh->boff[l];
		const double *Dn = T->D[l + 1];

		/* dW (s1 x s0) = Dn' (s1 x nb) * in (nb x s0) + alpha / nb W */
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s1, s0, nb,
					1.0, Dn, s1, in, s0, 0.0, gW, s0);
		if (alpha > 0.0)
			cblas_daxpy(s1 * s0, alpha / nb, W, 1, gW, 1);
		/* db (s1) = Dn' 1 */
		cblas_dgemv(CblasRowMajor, CblasTrans, nb, s1, 1.0, Dn, s1,
					T->ones, 1, 0.0, gb, 1);
		if (l > 0)
		{
			double	   *Dl = T->D[l];
			const double *act = T->A[l];
			size_t		cnt = (size_t) nb * s0;
			size_t		i;

			/* D[l] (nb x s0) = Dn (nb x s1) * W (s1 x s0) */
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, s0, s1,
						1.0, Dn, s1, W, s0, 0.0, Dl, s0);
			if (T->M[l] != NULL)
			{
				const double *mult = T->M[l];

				/* f' of the activation before dropout, a / (1 / keep) */
				for (i = 0; i < cnt; i++)
				{
					double		a = act[i] * keep;
					double		fp;

					if (mult[i] == 0.0)
					{
						Dl[i] = 0.0;
						continue;
					}
					if (T->activation == 0)
						fp = a > 0.0 ? 1.0 : 0.0;
					else if (T->activation == 1)
						fp = 1.0 - a * a;
					else
						fp = a * (1.0 - a);
					Dl[i] *= fp * mult[i];
				}
			}
			else
				mm_activate_grad(T->activation, act, Dl, cnt);
		}
	}
}

/* sum_l |W[l]|^2 */
static double
mm_weights_sumsq(const MmShape *sh, const double *theta)
{
	double		s = 0.0;
	int			l;

	for (l = 0; l < sh->nlayers; l++)
	{
		const double *W = theta + sh->woff[l];
		int			cnt = sh->size[l + 1] * sh->size[l];

		s += cblas_ddot(cnt, W, 1, W, 1);
	}
	return s;
}

/* Copy the rows idx[0..nb) of X and y into T->X0 and T->yb. */
static void
mm_gather(MmTrainer *T, const double *X, const double *y, const int64_t *idx,
		  int nb)
{
	int			p = T->sh.size[0];
	int			i;

	for (i = 0; i < nb; i++)
	{
		memcpy(T->X0 + (size_t) i * p, X + (size_t) idx[i] * p,
			   sizeof(double) * p);
		T->yb[i] = y[idx[i]];
	}
}

/* Fisher-Yates shuffle of idx[0..m) from r. */
static void
mm_shuffle(MmRng *r, int64_t *idx, int64_t m)
{
	int64_t		i;

	for (i = m - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) mm_rng_below(r, (uint64_t) i + 1);
		int64_t		t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
}

/* Mean row loss of the rows idx[0..m), in batches, without dropout. */
static double
mm_eval_rows(MmTrainer *T, const double *theta, const double *X,
			 const double *y, const int64_t *idx, int64_t m)
{
	double		loss = 0.0;
	int64_t		r0;

	for (r0 = 0; r0 < m; r0 += T->cap)
	{
		int			nb = (int) (m - r0 < T->cap ? m - r0 : T->cap);

		mm_gather(T, X, y, idx + r0, nb);
		mm_forward_batch(T, theta, T->X0, nb, false);
		loss += mm_output_batch(T, T->yb, nb, false);
	}
	return loss / (double) m;
}

/* Point net's W and b (arrays allocated through a) into theta. */
static void
mm_net_attach(MmMlp *net, const MmShape *sh, int activation,
			  bool classification, double *theta, const MmAlloc *a)
{
	int			l;

	memset(net, 0, sizeof(*net));
	net->nlayers = sh->nlayers;
	for (l = 0; l <= sh->nlayers; l++)
		net->size[l] = sh->size[l];
	net->activation = activation;
	net->classification = classification;
	net->W = mm_alloc0(a, sizeof(double *) * sh->nlayers);
	net->b = mm_alloc0(a, sizeof(double *) * sh->nlayers);
	for (l = 0; l < sh->nlayers; l++)
	{
		net->W[l] = theta + sh->woff[l];
		net->b[l] = theta + sh->boff[l];
	}
}

/* Check the targets: finite, and class indices in 0..q-1 when classifying. */
static MmStatus
mm_check_targets(int64_t n, const double *y, int q, bool classification,
				 MmErr *err)
{
	int64_t		i;

	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
		{
			mm_err_set(err, "non-finite target in row %lld", (long long) i);
			return MM_EINVAL;
		}
		if (classification &&
			(y[i] < 0.0 || y[i] > (double) (q - 1) || y[i] != floor(y[i])))
		{
			mm_err_set(err, "class %g of row %lld is out of range 0..%d",
					   y[i], (long long) i, q - 1);
			return MM_EINVAL;
		}
	}
	return MM_OK;
}

/* Check the arguments of mm_mlp_fit; MM_OK or an error in err. */
static MmStatus
mm_mlp_check(int64_t n, int p, const double *X, const double *y, int q,
			 bool classification, const MmMlpParams *params, MmErr *err)
{
	MmStatus	st;
	int			l;

	if (X == NULL || y == NULL || params == NULL)
	{
		mm_err_set(err, "multilayer perceptron: missing data or parameters");
		return MM_EINVAL;
	}
	if (n < 1)
	{
		mm_err_set(err, "multilayer perceptron needs at least one row");
		return MM_EINVAL;
	}
	if (p < 1 || p > MM_MAX_COLS)
	{
		mm_err_set(err, "multilayer perceptron needs between 1 and %d features, got %d",
				   MM_MAX_COLS, p);
		return MM_EINVAL;
	}
	if (classification && (q < 2 || q > MM_MAX_CLASSES))
	{
		mm_err_set(err, "multilayer perceptron classifier needs between 2 and %d classes, got %d",
				   MM_MAX_CLASSES, q);
		return MM_EINVAL;
	}
	if (!classification && q != 1)
	{
		mm_err_set(err, "multilayer perceptron regression needs exactly one output, got %d",
				   q);
		return MM_EINVAL;
	}
	if (params->nhidden < 0 || params->nhidden > MM_MLP_MAX_LAYERS)
	{
		mm_err_set(err, "multilayer perceptron needs between 0 and %d hidden layers, got %d",
				   MM_MLP_MAX_LAYERS, params->nhidden);
		return MM_EINVAL;
	}
	for (l = 0; l < params->nhidden; l++)
	{
		if (params->hidden[l] < 1 || params->hidden[l] > MM_MLP_MAX_WIDTH)
		{
			mm_err_set(err, "hidden layer %d must have between 1 and %d units, got %d",
					   l + 1, MM_MLP_MAX_WIDTH, params->hidden[l]);
			return MM_EINVAL;
		}
	}
	if (params->activation < 0 || params->activation > 2)
	{
		mm_err_set(err, "multilayer perceptron activation must be relu, tanh or sigmoid");
		return MM_EINVAL;
	}
	if (params->optimizer < 0 || params->optimizer > 1)
	{
		mm_err_set(err, "multilayer perceptron optimizer must be sgd or adam");
		return MM_EINVAL;
	}
	if (!(params->learning_rate > 0.0) || !isfinite(params->learning_rate))
	{
		mm_err_set(err, "multilayer perceptron learning_rate must be positive and finite");
		return MM_EINVAL;
	}
	if (params->optimizer == 0 &&
		!(params->momentum >= 0.0 && params->momentum < 1.0))
	{
		mm_err_set(err, "multilayer perceptron momentum must be in [0, 1)");
		return MM_EINVAL;
	}
	if (params->epochs < 1)
	{
		mm_err_set(err, "multilayer perceptron epochs must be at least 1");
		return MM_EINVAL;
	}
	if (params->batch_size < 1)
	{
		mm_err_set(err, "multilayer perceptron batch_size must be at least 1");
		return MM_EINVAL;
	}
	if (!(params->dropout >= 0.0 && params->dropout < 1.0))
	{
		mm_err_set(err, "multilayer perceptron dropout must be in [0, 1)");
		return MM_EINVAL;
	}
	if (!(params->weight_decay >= 0.0) || !isfinite(params->weight_decay))
	{
		mm_err_set(err, "multilayer perceptron weight_decay must be non-negative and finite");
		return MM_EINVAL;
	}
	if (params->early_stopping)
	{
		if (!(params->validation_fraction > 0.0 && params->validation_fraction < 1.0))
		{
			mm_err_set(err, "multilayer perceptron validation_fraction must be in (0, 1)");
			return MM_EINVAL;
		}
		if (params->patience < 1)
		{
			mm_err_set(err, "multilayer perceptron patience must be at least 1");
			return MM_EINVAL;
		}
	}
	st = mm_check_targets(n, y, q, classification, err);
	if (st != MM_OK)
		return st;
	return mm_check_matrix("multilayer perceptron", n, p, X, err);
}

/* Uniform Glorot initialisation of theta (see the file header). */
static void
mm_init_weights(const MmShape *sh, int activation, MmRng *r, double *theta)
{
	double		factor = activation == 2 ? 2.0 : 6.0;
	int			l;
	size_t		j;

	for (l = 0; l < sh->nlayers; l++)
	{
		int			s0 = sh->size[l];
		int			s1 = sh->size[l + 1];
		double		bound = sqrt(factor / ((double) s0 + (double) s1));
		double	   *W = theta + sh->woff[l];
		double	   *b = theta + sh->boff[l];

		for (j = 0; j < (size_t) s1 * s0; j++)
			W[j] = bound * (2.0 * mm_rng_uniform(r) - 1.0);
		for (j = 0; j < (size_t) s1; j++)
			b[j] = bound * (2.0 * mm_rng_uniform(r) - 1.0);
	}
}

/*
 * Copy a network of shape sh into theta; MM_EINVAL when its shape differs
 * or it holds non-finite values.
 */
static MmStatus
mm_copy_init(const MmMlp *init, const MmShape *sh, bool classification,
			 double *theta, MmErr *err)
{
	int			l;
	size_t		j;

	if (init->nlayers != sh->nlayers || init->W == NULL || init->b == NULL)
	{
		mm_err_set(err, "the initial network has %d layers, the new one %d",
				   init->nlayers, sh->nlayers);
		return MM_EINVAL;
	}
	if (init->classification != classification)
	{
		mm_err_set(err, "the initial network is a %s, the new one a %s",
				   init->classification ? "classifier" : "regressor",
				   classification ? "classifier" : "regressor");
		return MM_EINVAL;
	}
	for (l = 0; l <= sh->nlayers; l++)
	{
		if (init->size[l] != sh->size[l])
		{
			mm_err_set(err, "layer %d of the initial network has %d units, the new one %d",
					   l, init->size[l], sh->size[l]);
			return MM_EINVAL;
		}
	}
	for (l = 0; l < sh->nlayers; l++)
	{
		size_t		nw = (size_t) sh->size[l + 1] * sh->size[l];

		memcpy(theta + sh->woff[l], init->W[l], sizeof(double) * nw);
		memcpy(theta + sh->boff[l], init->b[l], sizeof(double) * sh->size[l + 1]);
	}
	for (j = 0; j < sh->nparam; j++)
	{
		if (!isfinite(theta[j]))
		{
			mm_err_set(err, "the initial network holds a non-finite weight");
			return MM_EINVAL;
		}
	}
	return MM_OK;
}

/* One sgd-with-momentum step. */
static void
mm_step_sgd(size_t m, double lr, double momentum, const double *g,
			double *vel, double *theta)
{
	size_t		j;

	for (j = 0; j < m; j++)
	{
		vel[j] = momentum * vel[j] - lr * g[j];
		theta[j] += vel[j];
	}
}

/* One adam step; t is the step number from 1. */
static void
mm_step_adam(size_t m, double lr, int64_t t, const double *g, double *m1,
			 double *m2, double *theta)
{
	double		lr_t = lr * sqrt(1.0 - pow(MM_ADAM_BETA2, (double) t)) /
		(1.0 - pow(MM_ADAM_BETA1, (double) t));
	size_t		j;

	for (j = 0; j < m; j++)
	{
		m1[j] = MM_ADAM_BETA1 * m1[j] + (1.0 - MM_ADAM_BETA1) * g[j];
		m2[j] = MM_ADAM_BETA2 * m2[j] + (1.0 - MM_ADAM_BETA2) * g[j] * g[j];
		theta[j] -= lr_t * m1[j] / (sqrt(m2[j]) + MM_ADAM_EPS);
	}
}

/*
 * True when the m parameters are finite.  Checked after every epoch: the
 * relu maps NaN to 0, so a weight that became NaN need not show in the loss.
 */
static bool
mm_all_finite(size_t m, const double *theta)
{
	double		s = 0.0;
	size_t		j;

	/* NaN or infinity propagates to the sum; finite values times 0 do not */
	for (j = 0; j < m; j++)
		s += 0.0 * theta[j];
	return s == 0.0;
}

/* Call the progress callback, if any. */
static void
mm_progress(const MmProgress *progress, int iteration, double loss)
{
	if (progress != NULL && progress->fn != NULL)
		progress->fn(progress->arg, iteration, loss);
}

/* Train a multilayer perceptron; see the file header. */
MmStatus
mm_mlp_fit(int64_t n, int p, const double *X, const double *y, int q,
		   bool classification, const MmMlpParams *params, const MmMlp *init,
		   MmMlp *out, MmMlpInfo *info, const MmProgress *progress,
		   const MmAlloc *a, MmErr *err)
{
	MmStatus	st;
	MmShape		sh;
	MmTrainer	T;
	MmRng		rng;
	int			size[MM_MLP_MAX_LAYERS + 2];
	double	   *theta;
	double	   *grad;
	double	   *s1;
	double	   *s2 = NULL;
	double	   *best = NULL;
	int64_t    *perm;
	int64_t    *train;
	int64_t    *valid = NULL;
	int64_t		ntrain = n;
	int64_t		nvalid = 0;
	int64_t		t = 0;
	int64_t		nbatches = 0;
	int			bs;
	int			L;
	int			l;
	int			epoch;
	int			stall = 0;
	int			best_epoch = 0;
	double		alpha;
	double		best_loss = INFINITY;
	double		best_train = NAN;
	double		train_loss = NAN;
	double		valid_loss = NAN;
	int64_t		i;

	if (info != NULL)
	{
		memset(info, 0, sizeof(*info));
		info->train_loss = NAN;
		info->valid_loss = NAN;
	}
	if (out == NULL)
	{
		mm_err_set(err, "multilayer perceptron: missing output network");
		return MM_EINVAL;
	}
	st = mm_mlp_check(n, p, X, y, q, classification, params, err);
	if (st != MM_OK)
		return st;

	L = params->nhidden + 1;
	size[0] = p;
	for (l = 0; l < params->nhidden; l++)
		size[l + 1] = params->hidden[l];
	size[L] = q;
	if (!mm_shape_init(&sh, L, size))
	{
		mm_err_set(err, "multilayer perceptron: too many weights");
		return MM_ELIMIT;
	}
	alpha = params->weight_decay;
	mm_rng_seed(&rng, params->seed);

	theta = mm_vec(a, sh.nparam);
	if (init != NULL)
	{
		st = mm_copy_init(init, &sh, classification, theta, err);
		if (st != MM_OK)
			return st;
	}
	else
		mm_init_weights(&sh, params->activation, &rng, theta);

	/* the rows: a permutation; with early stopping the first are held out */
	perm = mm_alloc0(a, sizeof(int64_t) * (size_t) n);
	for (i = 0; i < n; i++)
		perm[i] = i;
	train = perm;
	if (params->early_stopping)
	{
		nvalid = (int64_t) ceil(params->validation_fraction * (double) n);
		if (nvalid < 1)
			nvalid = 1;
		if (nvalid >= n)
		{
			mm_err_set(err, "early stopping needs at least one training and one validation row; "
					   "%lld rows with validation_fraction %g leave none for training",
					   (long long) n, params->validation_fraction);
			return MM_ENODATA;
		}
		mm_shuffle(&rng, perm, n);
		valid = perm;
		train = perm + nvalid;
		ntrain = n - nvalid;
		best = mm_vec(a, sh.nparam);
	}
	bs = params->batch_size < ntrain ? params->batch_size : (int) ntrain;

	grad = mm_vec(a, sh.nparam);
	s1 = mm_vec(a, sh.nparam);
	if (params->optimizer == 1)
		s2 = mm_vec(a, sh.nparam);
	mm_trainer_init(&T, &sh, params->activation, classification, bs,
					params->dropout, &rng, true, a);

	for (epoch = 1; epoch <= params->epochs; epoch++)
	{
		double		sum = 0.0;
		int64_t		r0;

		mm_shuffle(&rng, train, ntrain);
		for (r0 = 0; r0 < ntrain; r0 += bs)
		{
			int			nb = (int) (ntrain - r0 < bs ? ntrain - r0 : bs);
			double		bl;

			mm_gather(&T, X, y, train + r0, nb);
			mm_forward_batch(&T, theta, T.X0, nb, true);
			bl = mm_output_batch(&T, T.yb, nb, true);
			if (alpha > 0.0)
				bl += 0.5 * alpha * mm_weights_sumsq(&sh, theta);
			bl /= nb;
			if (!isfinite(bl))
			{
				mm_err_set(err, "the training diverged (loss is not finite); lower the learning rate");
				return MM_ENUMERIC;
			}
			sum += bl * nb;
			mm_backward_batch(&T, theta, T.X0, nb, alpha, grad);
			if (params->optimizer == 1)
				mm_step_adam(sh.nparam, params->learning_rate, ++t, grad, s1, s2,
							 theta);
			else
				mm_step_sgd(sh.nparam, params->learning_rate, params->momentum,
							grad, s1, theta);
			if (++nbatches % MM_PROGRESS_BATCHES == 0)
				mm_progress(progress, epoch - 1, train_loss);
		}
		train_loss = sum / (double) ntrain;
		if (!mm_all_finite(sh.nparam, theta))
		{
			mm_err_set(err, "the training diverged (loss is not finite); lower the learning rate");
			return MM_ENUMERIC;
		}
		mm_progress(progress, epoch, train_loss);

		if (params->early_stopping)
		{
			valid_loss = mm_eval_rows(&T, theta, X, y, valid, nvalid);
			if (!isfinite(valid_loss))
			{
				mm_err_set(err, "the training diverged (loss is not finite); lower the learning rate");
				return MM_ENUMERIC;
			}
			if (best_epoch == 0 ||
				valid_loss < best_loss - MM_IMPROVEMENT * fabs(best_loss))
			{
				best_loss = valid_loss;
				best_train = train_loss;
				best_epoch = epoch;
				memcpy(best, theta, sizeof(double) * sh.nparam);
				stall = 0;
			}
			else if (++stall >= params->patience)
			{
				if (params->on_epoch != NULL)
					params->on_epoch(params->on_epoch_arg, epoch, train_loss, valid_loss);
				epoch++;
				break;
			}
		}
		if (params->on_epoch != NULL)
			params->on_epoch(params->on_epoch_arg, epoch,
							 train_loss, params->early_stopping ? valid_loss : NAN);
	}

	if (params->early_stopping)
	{
		memcpy(theta, best, sizeof(double) * sh.nparam);
		train_loss = best_train;
		valid_loss = best_loss;
	}
	else
		best_epoch = epoch - 1;

	mm_net_attach(out, &sh, params->activation, classification, theta, a);
	if (info != NULL)
	{
		info->epochs_run = epoch - 1;
		info->train_loss = train_loss;
		info->valid_loss = params->early_stopping ? valid_loss : NAN;
		info->best_epoch = best_epoch;
	}
	return MM_OK;
}

/*
 * The loss of a network on n rows (all in one batch, no dropout) and its
 * gradient, for tests: loss = mean row loss + weight_decay / (2 n) sum |W|^2.
 */
MmStatus
mm_mlp_loss_grad(const MmMlp *net, int64_t n, const double *X, const double *y,
				 double weight_decay, double *loss, MmMlp *grad,
				 const MmAlloc *a, MmErr *err)
{
	MmStatus	st;
	MmShape		sh;
	MmTrainer	T;
	double	   *theta;
	double	   *g;
	double		sum;
	int			q;
	int			l;

	if (net == NULL || X == NULL || y == NULL || loss == NULL || grad == NULL ||
		net->W == NULL || net->b == NULL)
	{
		mm_err_set(err, "multilayer perceptron: missing network or data");
		return MM_EINVAL;
	}
	if (net->nlayers < 1 || net->nlayers > MM_MLP_MAX_LAYERS + 1)
	{
		mm_err_set(err, "multilayer perceptron: bad number of layers %d", net->nlayers);
		return MM_EINVAL;
	}
	for (l = 0; l <= net->nlayers; l++)
	{
		if (net->size[l] < 1 || net->size[l] > MM_MAX_COLS)
		{
			mm_err_set(err, "multilayer perceptron: bad size %d of layer %d",
					   net->size[l], l);
			return MM_EINVAL;
		}
	}
	if (n < 1 || n > INT32_MAX)
	{
		mm_err_set(err, "multilayer perceptron: bad number of rows");
		return MM_EINVAL;
	}
	if (!(weight_decay >= 0.0) || !isfinite(weight_decay))
	{
		mm_err_set(err, "multilayer perceptron weight_decay must be non-negative and finite");
		return MM_EINVAL;
	}
	q = net->size[net->nlayers];
	if (net->classification ? q < 2 : q != 1)
	{
		mm_err_set(err, "multilayer perceptron: bad number of outputs %d", q);
		return MM_EINVAL;
	}
	st = mm_check_targets(n, y, q, net->classification, err);
	if (st != MM_OK)
		return st;
	st = mm_check_matrix("multilayer perceptron", n, net->size[0], X, err);
	if (st != MM_OK)
		return st;
	if (!mm_shape_init(&sh, net->nlayers, net->size))
	{
		mm_err_set(err, "multilayer perceptron: too many weights");
		return MM_ELIMIT;
	}

	theta = mm_vec(a, sh.nparam);
	for (l = 0; l < sh.nlayers; l++)
	{
		memcpy(theta + sh.woff[l], net->W[l],
			   sizeof(double) * sh.size[l + 1] * sh.size[l]);
		memcpy(theta + sh.boff[l], net->b[l], sizeof(double) * sh.size[l + 1]);
	}
	g = mm_vec(a, sh.nparam);
	mm_trainer_init(&T, &sh, net->activation, net->classification, (int) n,
					0.0, NULL, false, a);
	mm_forward_batch(&T, theta, X, (int) n, false);
	sum = mm_output_batch(&T, y, (int) n, true);
	mm_backward_batch(&T, theta, X, (int) n, weight_decay, g);
	*loss = (sum + 0.5 * weight_decay * mm_weights_sumsq(&sh, theta)) / (double) n;
	mm_net_attach(grad, &sh, net->activation, net->classification, g, a);
	return MM_OK;
}

/* The outputs of one row x: the regression value or the probabilities. */
void
mm_mlp_forward(const MmMlp *net, const double *x, double *out, double *work)
{
	int			maxsize = 0;
	const double *cur = x;
	int			L = net->nlayers;
	int			q = net->size[L];
	int			l;
	int			k;

	for (l = 0; l <= L; l++)
		if (net->size[l] > maxsize)
			maxsize = net->size[l];
	for (l = 0; l < L; l++)
	{
		int			s0 = net->size[l];
		int			s1 = net->size[l + 1];
		double	   *dst = work + (l % 2 == 0 ? 0 : maxsize);

		memcpy(dst, net->b[l], sizeof(double) * s1);
		cblas_dgemv(CblasRowMajor, CblasNoTrans, s1, s0, 1.0, net->W[l], s0,
					cur, 1, 1.0, dst, 1);
		if (l + 1 < L)
			mm_activate(net->activation, dst, (size_t) s1);
		cur = dst;
	}
	if (!net->classification)
	{
		memcpy(out, cur, sizeof(double) * q);
		return;
	}
	{
		double		mx = cur[0];
		double		s = 0.0;

		for (k = 1; k < q; k++)
			if (cur[k] > mx)
				mx = cur[k];
		for (k = 0; k < q; k++)
		{
			out[k] = exp(cur[k] - mx);
			s += out[k];
		}
		for (k = 0; k < q; k++)
			out[k] /= s;
	}
}
