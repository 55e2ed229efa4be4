/*
 * mm_pca.c
 *	  Principal component analysis from the covariance matrix.
 *
 * Algorithm.  The column means come from one pass over the rows; a second
 * pass copies blocks of rows centred on those means and folds each block
 * into the upper triangle of the p x p cross-product matrix with one BLAS
 * dsyrk, so memory is O(block * p + p^2) whatever n is and the data are
 * never squared before centring.  Divided by n - 1 (scikit-learn's
 * denominator) this is the covariance, whose trace is the total variance.
 *
 * LAPACK dsyevr (relatively robust representations) computes only the
 * n_components largest eigenpairs (range 'I', indices p - nc + 1 .. p,
 * abstol the safe minimum for full relative accuracy); they come
 * ascending and are returned descending.  Eigenvalues that rounding makes
 * slightly negative are reported as 0.  The ratio of each is eigenvalue /
 * trace (0 when the trace is 0, i.e. every row is the same).
 *
 * Eigenvectors are defined up to sign; each component is flipped so that
 * its entry of largest absolute value is positive (the first such entry
 * on ties), which makes the result reproducible.  scikit-learn decides the
 * sign from the scores (U of the SVD) instead, so its components may
 * differ in sign, never otherwise.
 *
 * mm_pca_transform: out_c = (x - mean) . component_c, divided by
 * sqrt(variance_c) with whiten (a component of variance 0 gives 0).
 *
 * All scratch memory comes from the caller's MmAlloc.  Deterministic for a
 * given BLAS and LAPACK.
 */
#include "mm_core.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

/* LAPACK (Fortran ABI, hidden string lengths passed explicitly). */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo,
					const int *n, double *a, const int *lda, const double *vl,
					const double *vu, const int *il, const int *iu,
					const double *abstol, int *m, double *w, double *z,
					const int *ldz, int *isuppz, double *work, const int *lwork,
					int *iwork, const int *liwork, int *info,
					size_t jobz_len, size_t range_len, size_t uplo_len);

#define MM_BLOCK_DOUBLES	262144	/* doubles of the centred block */
#define MM_BLOCK_ROWS		1024

/* Fit PCA; see mm_core.h and the file comment. */
MmStatus
mm_pca_fit(int64_t n, int p, const double *X, const MmPcaParams *params,
		   double *mean, double *components, double *variance,
		   double *ratio, const MmAlloc *a, MmErr *err)
{
	int			nc;
	int			bs;
	double	   *blk;
	double	   *C;
	double	   *w;
	double	   *Z;
	int		   *isuppz;
	double	   *work;
	int		   *iwork;
	double		wq = 0.0;
	int			iwq = 0;
	int			lwork,
				liwork;
	int			il,
				iu,
				m = 0,
				info = 0;
	double		vl = 0.0,
				vu = 0.0,
				abstol = DBL_MIN;
	double		trace = 0.0;
	MmStatus	st;
	int64_t		i0;
	int			j,
				c;

	if (params == NULL || X == NULL || mean == NULL || components == NULL ||
		variance == NULL || ratio == NULL)
	{
		mm_err_set(err, "pca: missing argument");
		return MM_EINVAL;
	}
	nc = params->n_components;
	if (p < 1)
	{
		mm_err_set(err, "pca needs at least one column");
		return MM_EINVAL;
	}
	if (nc < 1 || nc > p)
	{
		mm_err_set(err, "n_components must be between 1 and %d, got %d", p, nc);
		return MM_EINVAL;
	}
	if (n < 2)
	{
		mm_err_set(err, "pca needs at least 2 rows, got %lld", (long long) n);
		return MM_EINVAL;
	}
	/* LAPACK indexes the p x p matrix with int */
	if ((double) p * (double) p > (double) INT_MAX / 2)
	{
		mm_err_set(err, "pca supports at most 32767 columns, got %d", p);
		return MM_ELIMIT;
	}

	/* means, checking finiteness */
	if ((st = mm_column_means("pca", n, p, X, mean, err)) != MM_OK)
		return st;

	/* centred cross-products, block by block */
	bs = MM_BLOCK_DOUBLES / p;
	if (bs > MM_BLOCK_ROWS)
		bs = MM_BLOCK_ROWS;
	if (bs < 1)
		bs = 1;
	blk = mm_alloc0(a, sizeof(double) * (size_t) bs * p);
	C = mm_alloc0(a, sizeof(double) * (size_t) p * p);
	for (i0 = 0; i0 < n; i0 += bs)
	{
		int			nb = (int) (n - i0 < bs ? n - i0 : bs);
		int			r;

		for (r = 0; r < nb; r++)
			for (j = 0; j < p; j++)
				blk[(size_t) r * p + j] = X[(size_t) (i0 + r) * p + j] - mean[j];
		/* the block viewed column-major is p x nb: C += B B' */
		cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, p, nb, 1.0,
					blk, p, 1.0, C, p);
	}
	for (j = 0; j < p; j++)
		for (c = 0; c <= j; c++)
			C[c + (size_t) j * p] /= (double) (n - 1);
	for (j = 0; j < p; j++)
		trace += C[j + (size_t) j * p];
	/* values near the limit of double precision overflow the covariance */
	for (j = 0; j < p; j++)
		for (c = 0; c <= j; c++)
			if (!isfinite(C[c + (size_t) j * p]))
			{
				mm_err_set(err, "the covariance of columns %d and %d is not finite: the values are too large for double precision",
						   c + 1, j + 1);
				return MM_ENUMERIC;
			}

	/* the nc largest eigenpairs */
	il = p - nc + 1;
	iu = p;
	w = mm_alloc0(a, sizeof(double) * p);
	Z = mm_alloc0(a, sizeof(double) * (size_t) p * nc);
	isuppz = mm_alloc0(a, sizeof(int) * 2 * (size_t) p);
	lwork = -1;
	liwork = -1;
	dsyevr_("V", "I", "U", &p, C, &p, &vl, &vu, &il, &iu, &abstol, &m, w, Z,
			&p, isuppz, &wq, &lwork, &iwq, &liwork, &info, 1, 1, 1);
	if (info != 0)
	{
		mm_err_set(err, "pca: eigendecomposition workspace query failed (info %d)",
				   info);
		return MM_ENUMERIC;
	}
	lwork = (int) wq;
	if (lwork < 26 * p)
		lwork = 26 * p;
	liwork = iwq < 10 * p ? 10 * p : iwq;
	work = mm_alloc0(a, sizeof(double) * (size_t) lwork);
	iwork = mm_alloc0(a, sizeof(int) * (size_t) liwork);
	dsyevr_("V", "I", "U", &p, C, &p, &vl, &vu, &il, &iu, &abstol, &m, w, Z,
			&p, isuppz, work, &lwork, iwork, &liwork, &info, 1, 1, 1);
	if (info != 0 || m != nc)
	{
		mm_err_set(err, "pca: eigendecomposition failed (info %d)", info);
		return MM_ENUMERIC;
	}

	for (c = 0; c < nc; c++)
	{
		const double *z = Z + (size_t) (nc - 1 - c) * p;	/* descending */
		double	   *out = components + (size_t) c * p;
		double		lam = w[nc - 1 - c];
		int			jmax = 0;
		double		sign;

		for (j = 1; j < p; j++)
			if (fabs(z[j]) > fabs(z[jmax]))
				jmax = j;
		sign = z[jmax] < 0.0 ? -1.0 : 1.0;
		for (j = 0; j < p; j++)
			out[j] = sign * z[j];
		variance[c] = lam > 0.0 ? lam : 0.0;
		ratio[c] = trace > 0.0 ? variance[c] / trace : 0.0;
	}
	return MM_OK;
}

/* Coordinates of one row x[p] on the nc components. */
void
mm_pca_transform(int p, int nc, const double *mean, const double *components,
				 const double *variance, bool whiten, const double *x,
				 double *out)
{
	int			c,
				j;

	for (c = 0; c < nc; c++)
	{
		const double *v = components + (size_t) c * p;
		double		s = 0.0;

		for (j = 0; j < p; j++)
			s += (x[j] - mean[j]) * v[j];
		if (whiten)
			s = variance[c] > 0.0 ? s / sqrt(variance[c]) : 0.0;
		out[c] = s;
	}
}
