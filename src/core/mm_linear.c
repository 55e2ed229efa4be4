/*
 * mm_linear.c
 *	  Ordinary least squares and ridge regression from co-moments.
 *
 * Algorithm.  With y in column 0 and the p features in columns 1..p of the
 * co-moment state (n, mean, C):
 *
 *	 fit_intercept:  A = Cxx + alpha I,					  b = Cxy
 *	 otherwise:		 A = Cxx + n mx mx' + alpha I,		  b = Cxy + n mx my
 *
 * (the second rebuilds the raw cross-products X'X and X'y from the centred
 * ones).  A is equilibrated by its diagonal, As = S A S with
 * S = diag(1 / sqrt(A_jj)) (1 for a zero diagonal), factorised by
 * Cholesky (LAPACK dpotrf) and its reciprocal condition number estimated
 * (dpocon, from the 1-norm of As taken before factorising).  When the
 * factorisation succeeds and rcond >= p * eps, w = S As^-1 S b, refined by
 * a few steps of iterative refinement whose residual b - A w is
 * accumulated in long double, so the answer is as good as the co-moments
 * allow (NIST Longley to about 12 digits).
 *
 * Otherwise the system is singular or nearly so and the minimum-norm
 * solution is wanted: that is a property of the unequilibrated problem,
 * so A is only scaled by one common factor (its largest diagonal entry,
 * against overflow), decomposed by dsyevd as V diag(lambda) V', and
 * w = V diag(1/lambda) V' b over the eigenvalues lambda > max_lambda *
 * p * eps; the others are treated as zero.  rank is p on the Cholesky
 * path and the number of kept eigenvalues on the fallback path.
 *
 * The intercept is mean_y - mean_x' w (0 without fit_intercept).  Scratch
 * memory comes from the caller's MmAlloc and is left to its context.
 */
#include "mm_core.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

/*
 * LAPACK's Fortran entry points, as exported by OpenBLAS.  The trailing
 * size_t arguments are gfortran's hidden lengths of the character
 * arguments, passed explicitly to be exact about the ABI.
 */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda,
					int *info, size_t uplo_len);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs,
					const double *a, const int *lda, double *b, const int *ldb,
					int *info, size_t uplo_len);
extern void dpocon_(const char *uplo, const int *n, const double *a,
					const int *lda, const double *anorm, double *rcond,
					double *work, int *iwork, int *info, size_t uplo_len);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n,
					double *a, const int *lda, double *w, double *work,
					const int *lwork, int *iwork, const int *liwork, int *info,
					size_t jobz_len, size_t uplo_len);

#define MM_REFINE_STEPS 4

/* The 1-norm of the symmetric matrix whose upper triangle is in A. */
static double
mm_sym_norm1(int p, const double *A)
{
	double		best = 0.0;
	int			i,
				j;

	for (j = 0; j < p; j++)
	{
		double		s = 0.0;

		for (i = 0; i < p; i++)
			s += fabs(i <= j ? A[i + (size_t) j * p] : A[j + (size_t) i * p]);
		if (s > best || isnan(s))
			best = s;
	}
	return best;
}

/* r = b - A w with A symmetric (upper triangle read), in long double. */
static void
mm_residual(int p, const double *A, const double *b, const double *w,
			double *r)
{
	int			i,
				j;

	for (i = 0; i < p; i++)
	{
		long double acc = b[i];

		for (j = 0; j < p; j++)
		{
			double		aij = i <= j ? A[i + (size_t) j * p] : A[j + (size_t) i * p];

			acc -= (long double) aij * w[j];
		}
		r[i] = (double) acc;
	}
}

/*
 * Minimum-norm solution of A w = b by a symmetric eigendecomposition of A
 * scaled by one common factor.  Returns the rank, -1 when LAPACK fails or
 * -2 when the problem is too large for LAPACK's int workspace sizes.
 */
static int
mm_eigen_solve(int p, const double *A, const double *b, double *w,
			   const MmAlloc *a)
{
	double	   *V;
	double	   *lambda;
	double	   *t;
	double	   *work;
	int		   *iwork;
	int			lwork;
	int			liwork;
	int			info = 0;
	double		scale = 0.0;
	double		thresh;
	int			rank = 0;
	int			i,
				j,
				k;

	/* dsyevd's workspace for jobz = 'V' must be counted in an int */
	if ((double) p * p * 2.0 + 6.0 * p + 1.0 > (double) INT_MAX)
		return -2;
	lwork = 1 + 6 * p + 2 * p * p;
	liwork = 3 + 5 * p;

	V = mm_alloc0(a, sizeof(double) * (size_t) p * p);
	lambda = mm_alloc0(a, sizeof(double) * p);
	t = mm_alloc0(a, sizeof(double) * p);
	work = mm_alloc0(a, sizeof(double) * (size_t) lwork);
	iwork = mm_alloc0(a, sizeof(int) * (size_t) liwork);

	for (j = 0; j < p; j++)
		if (fabs(A[j + (size_t) j * p]) > scale)
			scale = fabs(A[j + (size_t) j * p]);
	if (!(scale > 0.0) || !isfinite(scale))
		scale = 1.0;
	for (j = 0; j < p; j++)
		for (i = 0; i <= j; i++)
			V[i + (size_t) j * p] = A[i + (size_t) j * p] / scale;

	dsyevd_("V", "U", &p, V, &p, lambda, work, &lwork, iwork, &liwork, &info,
			1, 1);
	if (info != 0)
		return -1;

	/* eigenvalues come in ascending order */
	thresh = lambda[p - 1] * p * DBL_EPSILON;
	for (k = 0; k < p; k++)
	{
		double		proj = 0.0;

		if (!(lambda[k] > thresh) || !(lambda[k] > 0.0))
		{
			t[k] = 0.0;
			continue;
		}
		for (i = 0; i < p; i++)
			proj += V[i + (size_t) k * p] * (b[i] / scale);
		t[k] = proj / lambda[k];
		rank++;
	}
	for (i = 0; i < p; i++)
	{
		double		s = 0.0;

		for (k = 0; k < p; k++)
			if (t[k] != 0.0)
				s += V[i + (size_t) k * p] * t[k];
		w[i] = s;
	}
	return rank;
}

/* Fit OLS or ridge from the co-moments; see mm_core.h. */
MmStatus
mm_linear_fit(int p, double n, const double *mean, const double *C,
			  const MmLinearParams *params, double *coef,
			  double *intercept, MmLinearFit *info,
			  const MmAlloc *a, MmErr *err)
{
	int			d = p + 1;
	size_t		pp;
	double	   *A;
	double	   *As;
	double	   *b;
	double	   *S;
	double	   *ws;
	double	   *r;
	double	   *cwork;
	int		   *ciwork;
	double		alpha;
	double		anorm;
	double		rcond = 0.0;
	double		icpt;
	int			lapack_info = 0;
	int			one = 1;
	bool		fallback = false;
	int			rank = p;
	int			i,
				j,
				it;

	if (p < 1 || !(n >= 1.0) || !isfinite(n))
	{
		mm_err_set(err, "linear fit needs at least one feature and one row (p = %d, n = %g)",
				   p, n);
		return MM_EINVAL;
	}
	if (params == NULL || mean == NULL || C == NULL || coef == NULL ||
		intercept == NULL || a == NULL)
	{
		mm_err_set(err, "linear fit called with a null argument");
		return MM_EINVAL;
	}
	alpha = params->alpha;
	if (!isfinite(alpha) || alpha < 0.0)
	{
		mm_err_set(err, "alpha must be finite and non-negative, not %g", alpha);
		return MM_EINVAL;
	}
	if (p > MM_MAX_COLS || !mm_mul_size((size_t) p, (size_t) p, &pp) ||
		!mm_mul_size(pp, 2 * sizeof(double), &pp))
	{
		mm_err_set(err, "linear fit with %d features is too large", p);
		return MM_ELIMIT;
	}

	A = mm_alloc0(a, sizeof(double) * (size_t) p * p);
	As = mm_alloc0(a, sizeof(double) * (size_t) p * p);
	b = mm_alloc0(a, sizeof(double) * p);
	S = mm_alloc0(a, sizeof(double) * p);
	ws = mm_alloc0(a, sizeof(double) * p);
	r = mm_alloc0(a, sizeof(double) * p);

	/* the normal equations, upper triangle */
	for (j = 0; j < p; j++)
	{
		for (i = 0; i <= j; i++)
		{
			double		v = C[(i + 1) + (size_t) (j + 1) * d];

			if (!params->fit_intercept)
				v += n * mean[i + 1] * mean[j + 1];
			A[i + (size_t) j * p] = v;
		}
		A[j + (size_t) j * p] += alpha;
		b[j] = C[0 + (size_t) (j + 1) * d];
		if (!params->fit_intercept)
			b[j] += n * mean[j + 1] * mean[0];
	}

	/* equilibrate by the diagonal */
	for (j = 0; j < p; j++)
	{
		double		ajj = A[j + (size_t) j * p];

		S[j] = ajj > 0.0 && isfinite(ajj) ? 1.0 / sqrt(ajj) : 1.0;
	}
	for (j = 0; j < p; j++)
		for (i = 0; i <= j; i++)
			As[i + (size_t) j * p] = S[i] * A[i + (size_t) j * p] * S[j];
	anorm = mm_sym_norm1(p, As);

	if (!isfinite(anorm))
	{
		mm_err_set(err, "the normal equations of the linear fit are not finite");
		return MM_ENUMERIC;
	}

	dpotrf_("U", &p, As, &p, &lapack_info, 1);
	if (lapack_info == 0)
	{
		cwork = mm_alloc0(a, sizeof(double) * 3 * (size_t) p);
		ciwork = mm_alloc0(a, sizeof(int) * (size_t) p);
		dpocon_("U", &p, As, &p, &anorm, &rcond, cwork, ciwork, &lapack_info, 1);
		if (lapack_info != 0 || !(rcond >= p * DBL_EPSILON))
			fallback = true;
	}
	else
		fallback = true;

	if (!fallback)
	{
		double		prev = INFINITY;

		/* w = S As^-1 S b */
		for (j = 0; j < p; j++)
			ws[j] = S[j] * b[j];
		dpotrs_("U", &p, &one, As, &p, ws, &p, &lapack_info, 1);
		for (j = 0; j < p; j++)
			coef[j] = S[j] * ws[j];

		/* iterative refinement against A with a long double residual */
		for (it = 0; it < MM_REFINE_STEPS && lapack_info == 0; it++)
		{
			double		cnorm = 0.0;
			double		xnorm = 0.0;

			mm_residual(p, A, b, coef, r);
			for (j = 0; j < p; j++)
				r[j] *= S[j];
			dpotrs_("U", &p, &one, As, &p, r, &p, &lapack_info, 1);
			for (j = 0; j < p; j++)
			{
				double		c = S[j] * r[j];

				if (fabs(c) > cnorm)
					cnorm = fabs(c);
				if (fabs(coef[j]) > xnorm)
					xnorm = fabs(coef[j]);
			}
			/* stop when a correction no longer shrinks */
			if (!(cnorm < prev) || !isfinite(cnorm))
				break;
			for (j = 0; j < p; j++)
				coef[j] += S[j] * r[j];
			prev = cnorm;
			if (cnorm <= xnorm * DBL_EPSILON)
				break;
		}
		if (lapack_info != 0)
		{
			mm_err_set(err, "LAPACK dpotrs failed with info %d", lapack_info);
			return MM_ENUMERIC;
		}
	}
	else
	{
		rank = mm_eigen_solve(p, A, b, coef, a);
		if (rank == -2)
		{
			mm_err_set(err, "linear fit with %d features is too large for the eigen solver", p);
			return MM_ELIMIT;
		}
		if (rank < 0)
		{
			mm_err_set(err, "the eigendecomposition of the normal equations did not converge");
			return MM_ENUMERIC;
		}
	}

	icpt = 0.0;
	if (params->fit_intercept)
	{
		long double s = mean[0];

		for (j = 0; j < p; j++)
			s -= (long double) mean[j + 1] * coef[j];
		icpt = (double) s;
	}
	for (j = 0; j < p; j++)
	{
		if (!isfinite(coef[j]))
		{
			mm_err_set(err, "linear fit produced a non-finite coefficient for feature column %d",
					   j + 1);
			return MM_ENUMERIC;
		}
	}
	if (!isfinite(icpt))
	{
		mm_err_set(err, "linear fit produced a non-finite intercept");
		return MM_ENUMERIC;
	}
	*intercept = icpt;
	if (info != NULL)
	{
		info->rank = rank;
		info->used_fallback = fallback;
	}
	return MM_OK;
}

/* Predict n rows; see mm_core.h. */
void
mm_linear_predict_rows(const MmModel *m, const double *x, size_t ld, int64_t n,
					   double *out)
{
	int64_t		i = 0;

	for (; i + 4 <= n; i += 4)
	{
		const double *x0 = x + (size_t) i * ld;
		const double *x1 = x0 + ld;
		const double *x2 = x1 + ld;
		const double *x3 = x2 + ld;
		double		s0 = m->intercept,
					s1 = m->intercept,
					s2 = m->intercept,
					s3 = m->intercept;

		for (uint32_t j = 0; j < m->ncols; j++)
		{
			double		c = m->coef[j];

			s0 += c * x0[j];
			s1 += c * x1[j];
			s2 += c * x2[j];
			s3 += c * x3[j];
		}
		out[i] = s0;
		out[i + 1] = s1;
		out[i + 2] = s2;
		out[i + 3] = s3;
	}
	for (; i < n; i++)
		out[i] = mm_linear_predict(m, x + (size_t) i * ld);
}
