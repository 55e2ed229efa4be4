/*
 * mm_logistic.c
 *	  Binary and multinomial logistic regression by Newton's method.
 *
 * Parameters.  Each weight vector ("set") is theta_k = [b_k, w_k1..w_kp]
 * (the intercept b_k only with fit_intercept), d = p (+1) values; the
 * solver works on all free sets at once, m = d * nfree values, set k at
 * theta[k*d].  Binary (K == 2) has one set, for class 1, and
 * P(class 1) = sigmoid(z), z = theta' [1, x].  Multinomial (K > 2) has K
 * sets and P(class k) = softmax(z)_k; with penalty none the softmax is
 * over-parametrised, so the last class's set is fixed at zero and only
 * the first K - 1 are free (nfree = K - 1): the probabilities are the same
 * and the Hessian becomes nonsingular.
 *
 * Objective (scikit-learn's): f = Cf * sum_i loss_i + 1/2 sum_k ||w_k||^2
 * with Cf = C for penalty l2 (intercepts unpenalised); for penalty none
 * f = sum_i loss_i (Cf = 1, no quadratic term).  The row loss is computed
 * stably: binary loss = max(z, 0) + log1p(exp(-|z|)) - y z; multinomial
 * loss = logsumexp(z) - z_y, shifting by max(z).
 *
 * Derivatives, with mu the probabilities and r_k = mu_k - [y == k]:
 *	 gradient	g_k  = Cf X~' r_k (+ w_k)
 *	 Hessian	H_kl = Cf X~' diag(mu_k (delta_kl - mu_l)) X~ (+ I on k == l)
 * where X~ = [1, X] and the identity skips the intercept entries.
 *
 * One pass over the data evaluates f, g and H.  The rows are processed in
 * blocks of MM_BLOCK_ROWS: the block is copied once with its column of
 * ones (column-major d x nb), the logits of the block come from one dgemm,
 * the gradient from another, and the Hessian blocks from dsyrk on the
 * rows scaled by sqrt(mu_k (1 - mu_k)) (diagonal blocks) and dgemm against
 * the rows scaled by -mu_k mu_l (off-diagonal blocks, upper triangle
 * only).  Memory is O(block * (d + K) + m^2) whatever n is.  A binary
 * problem (one weight set) reads each block of X where it is instead:
 * matrix-vector products give the logits and the weights' gradient, sums
 * of the residuals and of the weights mu (1 - mu) the intercept's parts,
 * and dsyrk on the scaled rows the weights' Hessian block.  The dsyrk is
 * mm_syrk_add: the co-moments' AVX2 kernel where the CPU has it (the same
 * bits as OpenBLAS's here), else BLAS.
 *
 * Multinomial with penalty l2 and intercepts: adding one constant to all
 * K intercepts changes neither the probabilities nor the penalty, so H is
 * singular along u = (1 at every intercept entry, 0 elsewhere), H u = 0,
 * and the gradient is orthogonal to u.  The step is solved from
 * (H + c u u') s = -g with c the mean intercept diagonal entry of H: since
 * u'H = 0, u's = -u'g / (c |u|^2) = 0, i.e. exactly Newton's step on the
 * intercepts summing to 0, which is where scikit-learn's solvers (all
 * started at 0 and moving along gradients) end too.  The intercepts are
 * re-centred to sum 0 at the end against rounding.
 *
 * Newton iteration from theta = 0: solve H s = -g by Cholesky (dpotrf,
 * dpotrs); when H is not numerically positive definite (penalty none,
 * collinear or separated data) a multiple of the identity growing from
 * 1e-12 of the largest diagonal entry is added and the factorisation
 * retried.  A backtracking line search halves the step until the Armijo
 * condition f(theta + t s) <= f + 1e-4 t g's holds; when the decrease
 * the full step promises (-g's) is at the level of f's rounding, f cannot
 * tell, and the full step is taken if it lowers max|g|.  The iteration
 * stops when max|g| <= tol * max(1, |f|) (converged), when no step
 * decreases f (the line search finds none, or the step it takes leaves f
 * as it was and max|g| no smaller) and the Newton decrement -g's is at
 * the level of the rounding of f (converged to the precision available),
 * or after
 * max_iter steps (not converged).
 *
 * Separation.  With penalty none and perfectly separable classes the
 * infimum of f is 0 and is never attained: the weights grow without
 * bound.  That is reported (MM_ESEPARABLE) when f falls below 1e-10 * n,
 * or when max_iter is reached while the weights are still growing.
 *
 * The progress callback is called once per iteration and, within a pass
 * over many rows, every MM_PROGRESS_BLOCKS blocks, with the iteration
 * number and the last objective.  All scratch memory comes from the
 * caller's MmAlloc.  Everything is deterministic for a given BLAS.
 */
#include "mm_core.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

/* LAPACK (Fortran ABI, hidden string lengths passed explicitly). */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda,
					int *info, size_t uplo_len);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs,
					const double *a, const int *lda, double *b, const int *ldb,
					int *info, size_t uplo_len);

#define MM_BLOCK_ROWS		1024
#define MM_PROGRESS_BLOCKS	256
#define MM_NEWTON_MAX_PARAMS 4096	/* m: the Hessian is m*m doubles */
#define MM_ARMIJO			1e-4
#define MM_LS_MAX			60
#define MM_SEPARATION_LOSS	1e-10	/* per row, penalty none */
#define MM_SUBSAMPLE_TOL	1e-4

/* The problem and the scratch buffers of one pass over the data. */
typedef struct MmLogit
{
	int64_t		n;
	int			p;
	int			K;
	int			d;				/* values per set: p (+1 intercept) */
	int			nfree;			/* sets solved for */
	int			m;				/* d * nfree */
	bool		softmax;
	bool		intercept;
	bool		l2;
	double		Cf;				/* C for l2, 1 for none */
	const double *X;
	const int32_t *y;
	double	   *Xb;				/* d * MM_BLOCK_ROWS, column-major */
	double	   *S;				/* ldS * MM_BLOCK_ROWS, scaled rows */
	int			ldS;			/* their stride: p (binary) or d, padded for mm_syrk_add */
	double	   *Cb;				/* mm_syrk_add's work */
	double	   *Z;				/* nfree * MM_BLOCK_ROWS: logits, then mu */
	double	   *R;				/* nfree * MM_BLOCK_ROWS: residuals */
	const MmProgress *progress;
	int			iteration;
	double		last_obj;
	/* the passes over rows held elsewhere (mm_logistic_fit_sum), or NULL */
	MmLogitSumFn sum;
	void	   *sumarg;
} MmLogit;

/* Stable logistic function. */
static inline double
mm_sigmoid(double z)
{
	double		e;

	if (z >= 0.0)
		return 1.0 / (1.0 + exp(-z));
	e = exp(z);
	return e / (1.0 + e);
}

/* Copy rows r0..r0+nb-1 into L->Xb as d x nb column-major, ones first. */
static void
mm_logit_block(MmLogit *L, int64_t r0, int nb)
{
	int			i;

	for (i = 0; i < nb; i++)
	{
		const double *x = L->X + (size_t) (r0 + i) * (size_t) L->p;
		double	   *xb = L->Xb + (size_t) i * L->d;

		if (L->intercept)
		{
			xb[0] = 1.0;
			memcpy(xb + 1, x, sizeof(double) * L->p);
		}
		else
			memcpy(xb, x, sizeof(double) * L->p);
	}
}

/*
 * Loss of the rows of the current block; the logits in L->Z are replaced
 * by the probabilities and the residuals written to L->R.
 */
static double
mm_logit_rows(MmLogit *L, int64_t r0, int nb)
{
	int			nf = L->nfree;
	int			K = L->K;
	double		loss = 0.0;
	int			i,
				k;

	for (i = 0; i < nb; i++)
	{
		int			yi = L->y[r0 + i];
		double	   *zi = L->Z + (size_t) i * nf;
		double	   *ri = L->R + (size_t) i * nf;

		if (!L->softmax)
		{
			double		z = zi[0];

			/* one exp serves the sigmoid and the loss (as mm_sigmoid) */
			double		e = exp(-fabs(z));
			double		mu = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);

			loss += fmax(z, 0.0) + log1p(e) - (yi == 1 ? z : 0.0);
			zi[0] = mu;
			ri[0] = mu - (yi == 1 ? 1.0 : 0.0);
		}
		else
		{
			double		mx = nf < K ? 0.0 : zi[0];
			double		s = nf < K ? 1.0 : 0.0;
			double		lse;

			for (k = 0; k < nf; k++)
				if (zi[k] > mx)
					mx = zi[k];
			if (nf < K)
				s = exp(-mx);
			for (k = 0; k < nf; k++)
				s += exp(zi[k] - mx);
			lse = mx + log(s);
			loss += lse - (yi < nf ? zi[yi] : 0.0);
			for (k = 0; k < nf; k++)
			{
				double		mu = exp(zi[k] - lse);

				zi[k] = mu;
				ri[k] = mu - (yi == k ? 1.0 : 0.0);
			}
		}
	}
	return loss;
}

/* Add the current block's contribution to the Hessian H (m x m, upper). */
static void
mm_logit_hessian_block(MmLogit *L, int nb, double *H)
{
	int			d = L->d;
	int			nf = L->nfree;
	int			m = L->m;
	int			i,
				j,
				k,
				l;

	for (k = 0; k < nf; k++)
	{
		for (l = k; l < nf; l++)
		{
			double	   *Hkl = H + (size_t) k * d + (size_t) l * d * m;

			for (i = 0; i < nb; i++)
			{
				double		mk = L->Z[(size_t) i * nf + k];
				double		wt;
				const double *xb = L->Xb + (size_t) i * d;
				double	   *s = L->S + (size_t) i * L->ldS;

				if (k == l)
					wt = sqrt(mk * (1.0 - mk));
				else
					wt = -mk * L->Z[(size_t) i * nf + l];
				for (j = 0; j < d; j++)
					s[j] = wt * xb[j];
			}
			if (k == l)
				mm_syrk_add(d, nb, L->Cf, L->S, L->ldS, Hkl, m, L->Cb);
			else
				cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, d, d, nb,
							L->Cf, L->Xb, d, L->S, L->ldS, 1.0, Hkl, m);
		}
	}
}

/*
 * The loss of rows r0..r0+nb-1 of a binary problem (one weight set), with
 * their contributions to grad and H when those are not NULL.  The block of
 * X is used where it is (p x nb column-major, no copy): the intercept's
 * parts of the products are sums over the rows.
 */
static double
mm_logit_binary_block(MmLogit *L, const double *theta, int64_t r0, int nb,
					  double *grad, double *H)
{
	const double *Xr = L->X + (size_t) r0 * L->p;
	int			p = L->p;
	int			m = L->m;
	int			off = L->intercept ? 1 : 0;
	double		loss;
	int			i,
				j;

	/* z = X' w (+ b) */
	cblas_dgemv(CblasColMajor, CblasTrans, p, nb, 1.0, Xr, p, theta + off, 1,
				0.0, L->Z, 1);
	if (L->intercept)
		for (i = 0; i < nb; i++)
			L->Z[i] += theta[0];
	loss = mm_logit_rows(L, r0, nb);
	if (grad != NULL)
	{
		/* residuals: sum r (intercept), X r (weights) */
		cblas_dgemv(CblasColMajor, CblasNoTrans, p, nb, L->Cf, Xr, p, L->R, 1,
					1.0, grad + off, 1);
		if (L->intercept)
		{
			double		sr = 0.0;

			for (i = 0; i < nb; i++)
				sr += L->R[i];
			grad[0] += L->Cf * sr;
		}
	}
	if (H != NULL)
	{
		/* weights mu (1 - mu): sum w and X w (intercept), X W X' by dsyrk */
		double	   *w = L->R;		/* the residuals are used: reuse */
		double		sw = 0.0;

		for (i = 0; i < nb; i++)
		{
			double		mu = L->Z[i];
			double		sq;
			const double *x = Xr + (size_t) i * p;
			double	   *sx = L->S + (size_t) i * L->ldS;

			w[i] = mu * (1.0 - mu);
			sq = sqrt(w[i]);
			sw += w[i];
			for (j = 0; j < p; j++)
				sx[j] = sq * x[j];
		}
		mm_syrk_add(p, nb, L->Cf, L->S, L->ldS, H + off + (size_t) off * m, m, L->Cb);
		if (L->intercept)
		{
			/* row 0 of the upper triangle: H[0 + j m], j >= 1 */
			cblas_dgemv(CblasColMajor, CblasNoTrans, p, nb, L->Cf, Xr, p, w, 1,
						1.0, H + m, m);
			H[0] += L->Cf * sw;
		}
	}
	return loss;
}

/*
 * One pass over the rows: their loss sum at theta, and when grad (m) and
 * H (m*m, upper triangle) are not NULL their parts of the gradient and
 * the Hessian (Cf-scaled, without the penalty), which are overwritten.
 */
static double
mm_logit_pass(MmLogit *L, const double *theta, double *grad, double *H)
{
	int			d = L->d;
	int			nf = L->nfree;
	int			m = L->m;
	double		loss = 0.0;
	int64_t		r0;
	int64_t		nblocks = 0;

	if (grad != NULL)
		memset(grad, 0, sizeof(double) * m);
	if (H != NULL)
		memset(H, 0, sizeof(double) * (size_t) m * m);

	for (r0 = 0; r0 < L->n; r0 += MM_BLOCK_ROWS)
	{
		int			nb = (int) (L->n - r0 < MM_BLOCK_ROWS ? L->n - r0 : MM_BLOCK_ROWS);

		if (!L->softmax)
			loss += mm_logit_binary_block(L, theta, r0, nb, grad, H);
		else
		{
			mm_logit_block(L, r0, nb);
			/* Z (nf x nb) = Theta' (nf x d) * Xb (d x nb) */
			cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, nf, nb, d,
						1.0, theta, d, L->Xb, d, 0.0, L->Z, nf);
			loss += mm_logit_rows(L, r0, nb);
			/* G (d x nf) += Cf Xb (d x nb) * R' (nb x nf) */
			if (grad != NULL)
				cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, d, nf, nb,
							L->Cf, L->Xb, d, L->R, nf, 1.0, grad, d);
			if (H != NULL)
				mm_logit_hessian_block(L, nb, H);
		}

		if (++nblocks % MM_PROGRESS_BLOCKS == 0 && L->progress != NULL &&
			L->progress->fn != NULL)
			L->progress->fn(L->progress->arg, L->iteration, L->last_obj);
	}
	return loss;
}

/*
 * The objective at theta over all the rows (one pass, here or wherever
 * the rows are), and when grad (m) and H (m*m, upper triangle) are not
 * NULL the gradient and the Hessian.
 */
static double
mm_logit_eval(MmLogit *L, const double *theta, double *grad, double *H)
{
	int			d = L->d;
	int			nf = L->nfree;
	int			m = L->m;
	double		loss;
	double		obj;
	int			j,
				k;

	loss = L->sum != NULL ? L->sum(L->sumarg, theta, grad, H) : mm_logit_pass(L, theta, grad, H);
	obj = L->Cf * loss;
	if (L->l2)
	{
		for (k = 0; k < nf; k++)
		{
			for (j = L->intercept ? 1 : 0; j < d; j++)
			{
				double		w = theta[(size_t) k * d + j];
				size_t		idx = (size_t) k * d + j;

				obj += 0.5 * w * w;
				if (grad != NULL)
					grad[idx] += w;
				if (H != NULL)
					H[idx + idx * m] += 1.0;
			}
		}
	}
	return obj;
}

/*
 * Solve H s = -g for the Newton step by Cholesky, adding a growing
 * multiple of the identity when H is not numerically positive definite.
 * Hf (m*m) is scratch.  False when no shift makes H factorisable.
 */
static bool
mm_newton_step(int m, const double *H, const double *g, double *Hf, double *s)
{
	double		maxdiag = 0.0;
	double		shift = 0.0;
	int			attempt;
	int			info;
	int			one = 1;
	int			i;

	for (i = 0; i < m; i++)
		if (H[i + (size_t) i * m] > maxdiag)
			maxdiag = H[i + (size_t) i * m];
	if (!isfinite(maxdiag))
		return false;
	if (!(maxdiag > 0.0))
		maxdiag = 1.0;

	for (attempt = 0; attempt < 8; attempt++)
	{
		memcpy(Hf, H, sizeof(double) * (size_t) m * m);
		for (i = 0; i < m; i++)
			Hf[i + (size_t) i * m] += shift;
		info = 0;
		dpotrf_("U", &m, Hf, &m, &info, 1);
		if (info == 0)
		{
			for (i = 0; i < m; i++)
				s[i] = -g[i];
			dpotrs_("U", &m, &one, Hf, &m, s, &m, &info, 1);
			if (info == 0)
			{
				for (i = 0; i < m; i++)
					if (!isfinite(s[i]))
						break;
				if (i == m)
					return true;
			}
		}
		shift = shift == 0.0 ? 1e-12 * maxdiag : shift * 100.0;
	}
	return false;
}

/*
 * H += c u u', u the indicator of the intercept entries, c their mean
 * diagonal entry: removes the null direction of the multinomial Hessian
 * with unpenalised intercepts (see the file header).
 */
static void
mm_pin_intercepts(const MmLogit *L, double *H)
{
	double		c = 0.0;
	int			m = L->m;
	int			k,
				l;

	for (k = 0; k < L->nfree; k++)
		c += H[(size_t) k * L->d + (size_t) k * L->d * m];
	c /= L->nfree;
	if (!(c > 0.0) || !isfinite(c))
		c = 1.0;
	for (l = 0; l < L->nfree; l++)
		for (k = 0; k <= l; k++)
			H[(size_t) k * L->d + (size_t) l * L->d * m] += c;
}

/* The max-norm of v[m]. */
static double
mm_maxabs(int m, const double *v)
{
	double		r = 0.0;
	int			i;

	for (i = 0; i < m; i++)
		if (fabs(v[i]) > r || isnan(v[i]))
			r = fabs(v[i]);
	return r;
}

/* The Euclidean norm of v[m]. */
static double
mm_norm2(int m, const double *v)
{
	double		s = 0.0;
	int			i;

	for (i = 0; i < m; i++)
		s += v[i] * v[i];
	return sqrt(s);
}

/* Report progress: once per iteration. */
static void
mm_logit_progress(MmLogit *L)
{
	if (L->progress != NULL && L->progress->fn != NULL)
		L->progress->fn(L->progress->arg, L->iteration, L->last_obj);
}

/* Check the arguments of mm_logistic_fit; MM_OK or an error in err. */
static MmStatus mm_logistic_check_params(int p, int K, const MmLogisticParams *params,
										 MmErr *err);

static MmStatus
mm_logistic_check(int64_t n, int p, int K, const double *X, const int32_t *y,
				  const MmLogisticParams *params, MmErr *err)
{
	MmStatus	st;
	int64_t		i;

	if (n < 1)
	{
		mm_err_set(err, "logistic regression needs at least one row");
		return MM_EINVAL;
	}
	st = mm_logistic_check_params(p, K, params, err);
	if (st != MM_OK)
		return st;
	if (X == NULL || y == NULL)
	{
		mm_err_set(err, "logistic regression: missing data or parameters");
		return MM_EINVAL;
	}
	for (i = 0; i < n; i++)
	{
		if (y[i] < 0 || y[i] >= K)
		{
			mm_err_set(err, "class %d of row %lld is out of range 0..%d",
					   (int) y[i], (long long) i, K - 1);
			return MM_EINVAL;
		}
	}
	return mm_check_matrix("logistic regression", n, p, X, err);
}

/*
 * Set up L for n rows X, y (X NULL: the rows are elsewhere) with params:
 * the sizes and the scratch of a pass.
 */
static MmStatus
mm_logit_setup(MmLogit *L, int64_t n, int p, int K, const double *X, const int32_t *y,
			   const MmLogisticParams *params, const MmProgress *progress,
			   const MmAlloc *a, MmErr *err)
{
	int			nsets = mm_logistic_nsets(K);

	memset(L, 0, sizeof(*L));
	L->n = n;
	L->p = p;
	L->K = K;
	L->intercept = params->fit_intercept;
	L->d = p + (L->intercept ? 1 : 0);
	L->softmax = K > 2;
	L->l2 = params->penalty == 2;
	L->Cf = L->l2 ? params->C : 1.0;
	L->nfree = (L->softmax && !L->l2) ? K - 1 : nsets;
	if ((double) L->d * L->nfree > MM_NEWTON_MAX_PARAMS)
	{
		mm_err_set(err, "logistic regression with %d classes and %d features has "
				   "too many parameters for Newton's method (limit %d)",
				   K, p, MM_NEWTON_MAX_PARAMS);
		return MM_ELIMIT;
	}
	L->m = L->d * L->nfree;
	L->X = X;
	L->y = y;
	L->progress = progress;
	if (X == NULL)
		return MM_OK;
	if (L->softmax)				/* the binary path reads X where it is */
		L->Xb = mm_alloc0(a, sizeof(double) * (size_t) L->d * MM_BLOCK_ROWS);
	{
		/* the scaled rows at the stride mm_syrk_add's kernel takes */
		int			w = L->softmax ? L->d : p;
		int			wp = MM_MOMENTS_PAD(w);

		L->ldS = w <= MM_MOMENTS_KERNEL_MAX_D ? wp : w;
		L->S = mm_alloc0(a, sizeof(double) * (size_t) L->ldS * MM_BLOCK_ROWS);
		L->Cb = w <= MM_MOMENTS_KERNEL_MAX_D ? mm_alloc0(a, sizeof(double) * (size_t) wp * wp) : NULL;
	}
	L->Z = mm_alloc0(a, sizeof(double) * (size_t) L->nfree * MM_BLOCK_ROWS);
	L->R = mm_alloc0(a, sizeof(double) * (size_t) L->nfree * MM_BLOCK_ROWS);
	return MM_OK;
}

/* Check the parameters shared by every fit. */
static MmStatus
mm_logistic_check_params(int p, int K, const MmLogisticParams *params, MmErr *err)
{
	if (p < 1)
	{
		mm_err_set(err, "logistic regression needs at least one feature");
		return MM_EINVAL;
	}
	if (K < 2 || K > MM_MAX_CLASSES)
	{
		mm_err_set(err, "logistic regression needs between 2 and %d classes, got %d",
				   MM_MAX_CLASSES, K);
		return MM_EINVAL;
	}
	if (params == NULL)
	{
		mm_err_set(err, "logistic regression: missing data or parameters");
		return MM_EINVAL;
	}
	if (params->penalty != 0 && params->penalty != 2)
	{
		mm_err_set(err, "logistic regression penalty must be none or l2");
		return MM_EINVAL;
	}
	if (!(params->C > 0.0) || !isfinite(params->C))
	{
		mm_err_set(err, "logistic regression C must be positive and finite");
		return MM_EINVAL;
	}
	if (params->max_iter < 1)
	{
		mm_err_set(err, "logistic regression max_iter must be at least 1");
		return MM_EINVAL;
	}
	if (!(params->tol >= 0.0) || !isfinite(params->tol))
	{
		mm_err_set(err, "logistic regression tol must be non-negative and finite");
		return MM_EINVAL;
	}
	return MM_OK;
}

/*
 * The start of a fit of n rows from a fit of their subsample Xs, ys (ns
 * rows, every MM_LOGISTIC_STRIDE-th: see mm_logistic_fit) into coef and
 * intercept; false when n is too few for one, or it fails (a class
 * missing, weights not finite): then the fit starts from 0.
 */
bool
mm_logistic_subsample_start(int64_t n, int64_t ns, int p, int K, const double *Xs,
							const int32_t *ys, const MmLogisticParams *params,
							double *coef, double *intercept, const MmAlloc *a)
{
	MmLogisticParams sp = *params;
	MmErr		serr = {{0}};
	int			nsets = mm_logistic_nsets(K);

	if (n < MM_LOGISTIC_SUBSAMPLE_MIN || params->init_coef != NULL || ns < 1)
		return false;
	sp.C = params->C * MM_LOGISTIC_STRIDE;
	sp.tol = fmax(params->tol, MM_SUBSAMPLE_TOL);
	if (mm_logistic_fit(ns, p, K, Xs, ys, &sp, coef, intercept, NULL, NULL, a, &serr) != MM_OK)
		return false;
	for (int k = 0; k < nsets; k++)
	{
		if (!isfinite(intercept[k]))
			return false;
		for (int j = 0; j < p; j++)
			if (!isfinite(coef[(size_t) k * p + j]))
				return false;
	}
	return true;
}

/*
 * Newton's method from params->init_coef (or 0) over L's rows: the body of
 * mm_logistic_fit and mm_logistic_fit_sum.  start, when not NULL, is a
 * start from a subsample (nsets*p coefficients, then nsets intercepts).
 */
static MmStatus
mm_logistic_newton(MmLogit *L, const MmLogisticParams *params, const double *start,
				   double *coef, double *intercept, MmLogisticInfo *info,
				   const MmAlloc *a, MmErr *err)
{
	int			p = L->p;
	int64_t		n = L->n;
	double	   *theta;
	double	   *trial;
	double	   *grad;
	double	   *gtrial;
	double	   *H;
	double	   *Hf;
	double	   *step;
	double		f;
	double		gmax;
	double		norm_prev = 0.0;
	double		norm_now = 0.0;
	bool		converged = false;
	int			nsets = mm_logistic_nsets(L->K);
	int			iter;
	int			j,
				k;
	const double *init_coef = params->init_coef;
	const double *init_intercept = params->init_intercept;

	theta = mm_alloc0(a, sizeof(double) * L->m);
	trial = mm_alloc0(a, sizeof(double) * L->m);
	grad = mm_alloc0(a, sizeof(double) * L->m);
	gtrial = mm_alloc0(a, sizeof(double) * L->m);
	step = mm_alloc0(a, sizeof(double) * L->m);
	H = mm_alloc0(a, sizeof(double) * (size_t) L->m * L->m);
	Hf = mm_alloc0(a, sizeof(double) * (size_t) L->m * L->m);
	if (start != NULL)
	{
		init_coef = start;
		init_intercept = start + (size_t) nsets * p;
	}
	if (init_coef != NULL && init_intercept != NULL)
	{
		/* warm start: the free weight vectors of a previous fit */
		for (k = 0; k < L->nfree; k++)
		{
			double	   *set = theta + (size_t) k * L->d;

			if (L->intercept)
				set[0] = init_intercept[k];
			memcpy(set + (L->intercept ? 1 : 0), init_coef + (size_t) k * p,
				   sizeof(double) * p);
		}
		for (j = 0; j < L->m; j++)
			if (!isfinite(theta[j]))
			{
				mm_err_set(err, "the starting weights are not finite");
				return MM_EINVAL;
			}
	}

	L->last_obj = NAN;
	f = mm_logit_eval(L, theta, grad, H);
	iter = 0;
	for (;;)
	{
		double		scale;
		double		gs = 0.0;
		double		t = 1.0;
		double		ft = 0.0;
		bool		accepted = false;
		int			ls;

		if (!isfinite(f))
		{
			mm_err_set(err, "logistic regression: the objective is not finite (are the features too large?)");
			return MM_ENUMERIC;
		}
		gmax = mm_maxabs(L->m, grad);
		scale = fmax(1.0, fabs(f));
		L->iteration = iter;
		L->last_obj = f;
		mm_logit_progress(L);
		if (info != NULL)
		{
			info->iterations = iter;
			info->grad_norm = gmax;
			info->objective = f;
		}
		if (!L->l2 && f < MM_SEPARATION_LOSS * (double) n)
		{
			mm_err_set(err, "the classes are perfectly separable; with penalty none the weights grow without bound");
			return MM_ESEPARABLE;
		}
		if (gmax <= params->tol * scale)
		{
			converged = true;
			break;
		}
		if (iter >= params->max_iter)
			break;

		if (L->softmax && L->l2 && L->intercept)
			mm_pin_intercepts(L, H);
		if (!mm_newton_step(L->m, H, grad, Hf, step))
		{
			mm_err_set(err, "logistic regression: the Hessian is not positive definite");
			return MM_ENUMERIC;
		}
		for (j = 0; j < L->m; j++)
			gs += grad[j] * step[j];
		if (!(gs < 0.0))
		{
			/* no descent direction left: at the precision floor */
			converged = -gs <= 1e-10 * scale;
			break;
		}

		/* the full step, with derivatives (it is usually accepted) */
		for (j = 0; j < L->m; j++)
			trial[j] = theta[j] + step[j];
		ft = mm_logit_eval(L, trial, gtrial, H);
		if (ft <= f + MM_ARMIJO * gs)
			accepted = true;
		else if (-gs <= 1e-10 * scale && mm_maxabs(L->m, gtrial) < gmax)
		{
			/*
			 * the decrease Newton predicts is below f's rounding, so f
			 * cannot judge the step: the gradient does
			 */
			accepted = true;
		}
		for (ls = 1; !accepted && ls < MM_LS_MAX; ls++)
		{
			t *= 0.5;
			for (j = 0; j < L->m; j++)
				trial[j] = theta[j] + t * step[j];
			ft = mm_logit_eval(L, trial, NULL, NULL);
			if (ft <= f + MM_ARMIJO * t * gs)
			{
				accepted = true;
				ft = mm_logit_eval(L, trial, gtrial, H);
			}
		}
		if (!accepted ||
			(ft >= f && -gs <= 1e-10 * scale && mm_maxabs(L->m, gtrial) >= gmax))
		{
			/*
			 * f cannot be decreased, or the step taken changes neither f
			 * nor the gradient's size (it passed the test only because its
			 * decrease is below f's rounding, and the next would do the
			 * same until max_iter): converged if the decrement is rounding
			 */
			converged = -gs <= 1e-10 * scale;
			break;
		}

		memcpy(theta, trial, sizeof(double) * L->m);
		memcpy(grad, gtrial, sizeof(double) * L->m);
		f = ft;
		iter++;
		norm_prev = norm_now;
		norm_now = mm_norm2(L->m, theta);
	}

	if (!converged && !L->l2 && iter >= params->max_iter &&
		norm_now > norm_prev * (1.0 + 1e-6))
	{
		mm_err_set(err, "the classes are perfectly separable; with penalty none the weights grow without bound");
		return MM_ESEPARABLE;
	}
	if (info != NULL)
	{
		info->iterations = iter;
		info->grad_norm = mm_maxabs(L->m, grad);
		info->objective = f;
		info->converged = converged;
	}

	if (L->softmax && L->l2 && L->intercept)
	{
		double		mean = 0.0;

		for (k = 0; k < L->nfree; k++)
			mean += theta[(size_t) k * L->d];
		mean /= L->nfree;
		for (k = 0; k < L->nfree; k++)
			theta[(size_t) k * L->d] -= mean;
	}
	for (k = 0; k < nsets; k++)
	{
		double	   *set = theta + (size_t) k * L->d;

		if (k >= L->nfree)
		{
			memset(coef + (size_t) k * p, 0, sizeof(double) * p);
			intercept[k] = 0.0;
			continue;
		}
		intercept[k] = L->intercept ? set[0] : 0.0;
		memcpy(coef + (size_t) k * p, set + (L->intercept ? 1 : 0), sizeof(double) * p);
	}
	return MM_OK;
}

/* Fit a logistic regression by Newton's method; see the file header. */
MmStatus
mm_logistic_fit(int64_t n, int p, int K, const double *X, const int32_t *y,
				const MmLogisticParams *params, double *coef, double *intercept,
				MmLogisticInfo *info, const MmProgress *progress,
				const MmAlloc *a, MmErr *err)
{
	MmLogit		L;
	MmStatus	st;
	int64_t    *count;
	double	   *start = NULL;
	int			nsets = mm_logistic_nsets(K);
	int64_t		i;
	int			k;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	st = mm_logistic_check(n, p, K, X, y, params, err);
	if (st != MM_OK)
		return st;

	count = mm_alloc0(a, sizeof(int64_t) * K);
	for (i = 0; i < n; i++)
		count[y[i]]++;
	for (k = 0; k < K; k++)
	{
		if (count[k] == 0)
		{
			mm_err_set(err, "class %d has no rows in the training data", k);
			return MM_ENODATA;
		}
	}
	st = mm_logit_setup(&L, n, p, K, X, y, params, progress, a, err);
	if (st != MM_OK)
		return st;

	/*
	 * Many rows and no warm start: begin where a fit on every 16th row
	 * ends (to a loose tolerance, C scaled by the stride so that loss and
	 * penalty keep their balance).  Each Newton pass over all the rows
	 * costs as much as 16 over the subsample, and from near the optimum
	 * Newton needs two or three passes instead of five or six; the end
	 * point is the same optimum, to the same tolerance.  A subsample that
	 * lacks a class or fails is simply not used.
	 */
	if (params->init_coef == NULL && n >= MM_LOGISTIC_SUBSAMPLE_MIN)
	{
		int64_t		ns = n / MM_LOGISTIC_STRIDE;
		double	   *Xs = mm_alloc0(a, sizeof(double) * (size_t) ns * p);
		int32_t    *ys = mm_alloc0(a, sizeof(int32_t) * (size_t) ns);

		start = mm_alloc0(a, sizeof(double) * (size_t) nsets * (p + 1));
		for (i = 0; i < ns; i++)
		{
			memcpy(Xs + (size_t) i * p, X + (size_t) (i * MM_LOGISTIC_STRIDE) * p, sizeof(double) * p);
			ys[i] = y[i * MM_LOGISTIC_STRIDE];
		}
		if (!mm_logistic_subsample_start(n, ns, p, K, Xs, ys, params, start,
										 start + (size_t) nsets * p, a))
			start = NULL;
	}
	return mm_logistic_newton(&L, params, start, coef, intercept, info, a, err);
}

/*
 * A fit whose rows are elsewhere (n of them): each pass over them is
 * sum(arg, theta, grad, H), which returns their loss sum and, when grad
 * and H are not NULL, writes their parts (what mm_logit_part_eval gives
 * for each part, added up).  Every class must have rows (the caller
 * knows); params->init_coef, when set, is the start (a subsample's fit,
 * mm_logistic_subsample_start).
 */
MmStatus
mm_logistic_fit_sum(int64_t n, int p, int K, const MmLogisticParams *params,
					MmLogitSumFn sum, void *arg, double *coef, double *intercept,
					MmLogisticInfo *info, const MmProgress *progress,
					const MmAlloc *a, MmErr *err)
{
	MmLogit		L;
	MmStatus	st;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (n < 1)
	{
		mm_err_set(err, "logistic regression needs at least one row");
		return MM_EINVAL;
	}
	st = mm_logistic_check_params(p, K, params, err);
	if (st != MM_OK)
		return st;
	st = mm_logit_setup(&L, n, p, K, NULL, NULL, params, progress, a, err);
	if (st != MM_OK)
		return st;
	L.sum = sum;
	L.sumarg = arg;
	return mm_logistic_newton(&L, params, NULL, coef, intercept, info, a, err);
}

/* One process's rows of a fit by mm_logistic_fit_sum. */
struct MmLogitPart
{
	MmLogit		L;
};

/*
 * *out: the part of n rows X (row-major, n x p), y (classes, checked by
 * the caller) of a fit with params, its passes calling progress (may be
 * NULL) every MM_PROGRESS_BLOCKS blocks; or an error when it cannot be
 * one (a bad parameter, MM_ELIMIT: too many parameters for Newton).
 */
MmStatus
mm_logit_part_new(int64_t n, int p, int K, const double *X, const int32_t *y,
				  const MmLogisticParams *params, const MmProgress *progress,
				  MmLogitPart **out, const MmAlloc *a, MmErr *err)
{
	MmLogitPart *P = mm_alloc0(a, sizeof(MmLogitPart));
	static const double none = 0.0;
	MmStatus	st;

	*out = NULL;
	st = mm_logistic_check_params(p, K, params, err);
	if (st == MM_OK)
		st = mm_logit_setup(&P->L, n, p, K, X != NULL ? X : &none, y, params, progress, a, err);
	if (st == MM_OK)
		*out = P;
	return st;
}

/* The number of values of theta, the gradient (and the Hessian's side) of a part. */
int
mm_logit_part_nparams(const MmLogitPart *P)
{
	return P->L.m;
}

/*
 * The part's loss sum at theta; with grad (m) and H (m*m) not NULL, its
 * parts of the gradient and the Hessian, overwritten.
 */
double
mm_logit_part_eval(MmLogitPart *P, const double *theta, double *grad, double *H)
{
	return mm_logit_pass(&P->L, theta, grad, H);
}

/* The K class probabilities of one row x[p]. */
void
mm_logistic_proba(int p, int K, const double *coef, const double *intercept,
				  const double *x, double *proba)
{
	int			j,
				k;

	if (K == 2)
	{
		double		z = intercept[0];

		for (j = 0; j < p; j++)
			z += coef[j] * x[j];
		proba[0] = mm_sigmoid(-z);
		proba[1] = mm_sigmoid(z);
	}
	else
	{
		double		mx = -INFINITY;
		double		s = 0.0;

		for (k = 0; k < K; k++)
		{
			const double *w = coef + (size_t) k * p;
			double		z = intercept[k];

			for (j = 0; j < p; j++)
				z += w[j] * x[j];
			proba[k] = z;
			if (z > mx)
				mx = z;
		}
		for (k = 0; k < K; k++)
		{
			proba[k] = exp(proba[k] - mx);
			s += proba[k];
		}
		for (k = 0; k < K; k++)
			proba[k] /= s;
	}
}
