/*
 * mm_moments.c
 *	  Streaming, mergeable co-moments (count, means, centred cross-products).
 *
 * Algorithm, for a block of nb rows of d values (row-major, which is the
 * same memory as a column-major d x nb matrix):
 *
 *	 1. block mean by a first pass, then corrected by the mean of the
 *		residuals of a second pass (the "corrected two-pass" mean);
 *	 2. the block centred on that mean is written to work;
 *	 3. one BLAS dsyrk (column-major, upper, no transpose, N = d, K = nb)
 *		adds the block's centred cross-product straight into the running
 *		C (beta = 1; beta = 0 when the state is still empty);
 *	 4. Chan, Golub and LeVeque's pairwise update merges the means and
 *		adds the between-groups term (na * nb / n) * delta * delta' with
 *		delta = mean_block - mean_state.
 *
 * Only the upper triangle of C (C[row + col * d], row <= col) is
 * maintained.  Raw values are never squared before centring, so the
 * digits of ill-conditioned data survive (NIST Longley).
 */
#include "mm_core.h"

#include <string.h>

#include <cblas.h>

/* Add the between-groups term f * delta * delta' to the upper triangle. */
static void
mm_add_delta_term(int d, double *C, const double *delta, double f)
{
	int			i,
				j;

	if (f == 0.0)
		return;
	for (j = 0; j < d; j++)
	{
		double		fj = f * delta[j];
		double	   *col = C + (size_t) j * d;

		for (i = 0; i <= j; i++)
			col[i] += fj * delta[i];
	}
}

/* Fold nb rows of block into the running state (n, mean, C). */
void
mm_moments_add_block(int d, double *n, double *mean, double *C,
					 const double *block, int nb, double *work)
{
	double	   *cen = work;
	double	   *bmean = work + (size_t) d * nb;
	double	   *rsum = bmean + d;
	double		na = *n;
	double		ntot;
	int			i,
				j;

	if (nb <= 0 || d <= 0)
		return;

	/* pass 1: the block mean */
	for (j = 0; j < d; j++)
		bmean[j] = 0.0;
	for (i = 0; i < nb; i++)
	{
		const double *row = block + (size_t) i * d;

		for (j = 0; j < d; j++)
			bmean[j] += row[j];
	}
	for (j = 0; j < d; j++)
		bmean[j] /= nb;

	/*
	 * pass 2: centre, summing the residuals; then correct the mean (and the
	 * centred rows) by the residuals' mean, which the rounding of the
	 * block mean leaves.  Row by row, so that every pass is contiguous.
	 */
	for (j = 0; j < d; j++)
		rsum[j] = 0.0;
	for (i = 0; i < nb; i++)
	{
		const double *row = block + (size_t) i * d;
		double	   *out = cen + (size_t) i * d;

		for (j = 0; j < d; j++)
		{
			out[j] = row[j] - bmean[j];
			rsum[j] += out[j];
		}
	}
	if (nb > 1)
	{
		for (j = 0; j < d; j++)
		{
			rsum[j] /= nb;
			bmean[j] += rsum[j];
		}
		for (i = 0; i < nb; i++)
		{
			double	   *out = cen + (size_t) i * d;

			for (j = 0; j < d; j++)
				out[j] -= rsum[j];
		}
	}

	/* the block's centred cross-product, added into C */
	cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, nb,
				1.0, cen, d, na > 0.0 ? 1.0 : 0.0, C, d);

	/* Chan's merge of the means and the between-groups term */
	ntot = na + nb;
	if (na > 0.0)
	{
		for (j = 0; j < d; j++)
		{
			double		delta = bmean[j] - mean[j];

			mean[j] += delta * ((double) nb / ntot);
			bmean[j] = delta;
		}
		mm_add_delta_term(d, C, bmean, na * (double) nb / ntot);
	}
	else
		memcpy(mean, bmean, sizeof(double) * d);
	*n = ntot;
}

/* Merge the state (n_b, mean_b, C_b) into (n_a, mean_a, C_a). */
void
mm_moments_merge(int d, double *n_a, double *mean_a, double *C_a,
				 double n_b, const double *mean_b, const double *C_b)
{
	double		na = *n_a;
	double		ntot;
	double		f;
	int			i,
				j;

	if (n_b <= 0.0 || d <= 0)
		return;
	if (na <= 0.0)
	{
		*n_a = n_b;
		memcpy(mean_a, mean_b, sizeof(double) * d);
		for (j = 0; j < d; j++)
			memcpy(C_a + (size_t) j * d, C_b + (size_t) j * d,
				   sizeof(double) * (j + 1));
		return;
	}

	ntot = na + n_b;
	f = na * n_b / ntot;
	for (j = 0; j < d; j++)
	{
		double		dj = mean_b[j] - mean_a[j];
		double	   *ca = C_a + (size_t) j * d;
		const double *cb = C_b + (size_t) j * d;

		for (i = 0; i <= j; i++)
			ca[i] += cb[i] + f * dj * (mean_b[i] - mean_a[i]);
	}
	for (j = 0; j < d; j++)
		mean_a[j] += (mean_b[j] - mean_a[j]) * (n_b / ntot);
	*n_a = ntot;
}
