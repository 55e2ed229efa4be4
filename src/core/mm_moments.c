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
 *	 3. the block's centred cross-product is added into the running C
 *		(or set, when the state is still empty): by the register-tiled
 *		AVX2/FMA kernel below where the CPU has those instructions, else by
 *		one BLAS dsyrk (column-major, upper, no transpose, N = d, K = nb);
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MM_MOMENTS_AVX2 1
#include <immintrin.h>
#endif

/*
 * Which kernel folds a block: -1 not chosen yet, 0 BLAS dsyrk, 1 the
 * AVX2/FMA kernel.  Chosen once from the CPU (mm_moments_kernel); a unit
 * test may set it to compare the two.
 */
int			mm_moments_avx2 = -1;

#ifdef MM_MOMENTS_AVX2
/* rows per pass of the tiles, which stay in the L1 cache across them (12 kB at d = 21) */
#define MM_SYRK_CHUNK 64

/*
 * Cb (dp x dp, column-major) = the upper triangle of sum_r a_r a_r' over
 * the nb rows a_r of A (row-major, stride dp, columns d .. dp - 1 zero),
 * for dp = MM_MOMENTS_PAD(d).  Tiles of 8 rows by 4 columns of Cb live in
 * eight registers while the rows stream past: per row, two loads and four
 * broadcasts feed eight fused multiply-adds.  Each entry is one chain of
 * multiply-adds in row order, as OpenBLAS's dsyrk kernels accumulate.
 * Entries below the diagonal inside a tile are computed and ignored.
 *
 * OpenBLAS's dsyrk spends most of its time packing and dispatching for a
 * matrix this small: on a block of 256 rows in the cache, for d = 21 this
 * kernel takes about 40% of its time, and up to d = 64 it is faster; past
 * that OpenBLAS is (MM_MOMENTS_KERNEL_MAX_D).
 */
__attribute__((target("avx2,fma")))
static void
mm_syrk_avx2(int d, int nb, const double *A, double *Cb)
{
	int			dp = MM_MOMENTS_PAD(d);

	/* rows a chunk at a time, which stays in the L1 cache across the tiles */
	for (int r0 = 0; r0 < nb; r0 += MM_SYRK_CHUNK)
	{
		int			r1 = nb - r0 < MM_SYRK_CHUNK ? nb : r0 + MM_SYRK_CHUNK;

		for (int j0 = 0; j0 < d; j0 += 4)
		{
			for (int i0 = 0; i0 <= j0; i0 += 8)
			{
				double	   *o = Cb + (size_t) j0 * dp + i0;

				/* the sums so far: each entry's chain goes on where it was */
				__m256d		a00 = r0 ? _mm256_loadu_pd(o) : _mm256_setzero_pd(),
							a01 = r0 ? _mm256_loadu_pd(o + dp) : _mm256_setzero_pd(),
							a02 = r0 ? _mm256_loadu_pd(o + 2 * dp) : _mm256_setzero_pd(),
							a03 = r0 ? _mm256_loadu_pd(o + 3 * dp) : _mm256_setzero_pd(),
							a10 = r0 ? _mm256_loadu_pd(o + 4) : _mm256_setzero_pd(),
							a11 = r0 ? _mm256_loadu_pd(o + dp + 4) : _mm256_setzero_pd(),
							a12 = r0 ? _mm256_loadu_pd(o + 2 * dp + 4) : _mm256_setzero_pd(),
							a13 = r0 ? _mm256_loadu_pd(o + 3 * dp + 4) : _mm256_setzero_pd();

				for (int r = r0; r < r1; r++)
				{
					const double *a = A + (size_t) r * dp;
					__m256d		x0 = _mm256_loadu_pd(a + i0);
					__m256d		x1 = _mm256_loadu_pd(a + i0 + 4);
					__m256d		b0 = _mm256_broadcast_sd(a + j0);
					__m256d		b1 = _mm256_broadcast_sd(a + j0 + 1);
					__m256d		b2 = _mm256_broadcast_sd(a + j0 + 2);
					__m256d		b3 = _mm256_broadcast_sd(a + j0 + 3);

					a00 = _mm256_fmadd_pd(x0, b0, a00);
					a01 = _mm256_fmadd_pd(x0, b1, a01);
					a02 = _mm256_fmadd_pd(x0, b2, a02);
					a03 = _mm256_fmadd_pd(x0, b3, a03);
					a10 = _mm256_fmadd_pd(x1, b0, a10);
					a11 = _mm256_fmadd_pd(x1, b1, a11);
					a12 = _mm256_fmadd_pd(x1, b2, a12);
					a13 = _mm256_fmadd_pd(x1, b3, a13);
				}
				_mm256_storeu_pd(o, a00);
				_mm256_storeu_pd(o + dp, a01);
				_mm256_storeu_pd(o + 2 * dp, a02);
				_mm256_storeu_pd(o + 3 * dp, a03);
				_mm256_storeu_pd(o + 4, a10);
				_mm256_storeu_pd(o + dp + 4, a11);
				_mm256_storeu_pd(o + 2 * dp + 4, a12);
				_mm256_storeu_pd(o + 3 * dp + 4, a13);
			}
		}
	}
}
#endif

/* The kernel for this CPU: 1 for AVX2 with FMA, else 0 (BLAS). */
int
mm_moments_kernel(void)
{
	if (mm_moments_avx2 < 0)
		mm_moments_avx2 = mm_cpu_avx2();
	return mm_moments_avx2;
}

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

/*
 * The block (nb rows of d) centred on its own mean into cen (rows at a
 * stride of ld, zeros past d), the mean into bmean; rsum is work.
 */
static void
mm_moments_centre(int d, int nb, int ld, const double *block, double *cen,
				  double *bmean, double *rsum)
{
	int			i,
				j;

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
		double	   *out = cen + (size_t) i * ld;

		for (j = 0; j < d; j++)
		{
			out[j] = row[j] - bmean[j];
			rsum[j] += out[j];
		}
		for (; j < ld; j++)
			out[j] = 0.0;
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
			double	   *out = cen + (size_t) i * ld;

			for (j = 0; j < d; j++)
				out[j] -= rsum[j];
		}
	}
}

#ifdef MM_MOMENTS_AVX2
/*
 * mm_moments_centre for the nv * 4 columns from j0 (nv a constant and the
 * loops over it unrolled, so that the sums stay in registers), with AVX2
 * and the same bits: every column's sums still add the rows in order.
 * Columns past d read as zeros.
 */
__attribute__((target("avx2"), always_inline))
static inline void
mm_moments_centre_cols(int d, int nb, int ld, int j0, const int nv, const double *block,
					   double *cen, double *bmean, double *rsum)
{
	__m256i		mask[4];
	__m256d		s[4],
				m[4];

#pragma GCC unroll 4
	for (int v = 0; v < nv; v++)
	{
		int			c = j0 + 4 * v;

		mask[v] = _mm256_set_epi64x(c + 3 < d ? -1 : 0, c + 2 < d ? -1 : 0,
									c + 1 < d ? -1 : 0, c < d ? -1 : 0);
		s[v] = _mm256_setzero_pd();
	}
	/* pass 1: the rows into cen and the columns' sums */
	for (int i = 0; i < nb; i++)
	{
		const double *row = block + (size_t) i * d + j0;
		double	   *out = cen + (size_t) i * ld + j0;

#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
		{
			__m256d		x = _mm256_maskload_pd(row + 4 * v, mask[v]);

			_mm256_storeu_pd(out + 4 * v, x);
			s[v] = _mm256_add_pd(s[v], x);
		}
	}
#pragma GCC unroll 4
	for (int v = 0; v < nv; v++)
	{
		m[v] = _mm256_div_pd(s[v], _mm256_set1_pd((double) nb));
		s[v] = _mm256_setzero_pd();
	}
	/* pass 2: centre, summing the residuals */
	for (int i = 0; i < nb; i++)
	{
		double	   *out = cen + (size_t) i * ld + j0;

#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
		{
			__m256d		x = _mm256_sub_pd(_mm256_loadu_pd(out + 4 * v), m[v]);

			_mm256_storeu_pd(out + 4 * v, x);
			s[v] = _mm256_add_pd(s[v], x);
		}
	}
	if (nb > 1)
	{
		/* the correction by the residuals' mean */
#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
		{
			s[v] = _mm256_div_pd(s[v], _mm256_set1_pd((double) nb));
			m[v] = _mm256_add_pd(m[v], s[v]);
		}
		for (int i = 0; i < nb; i++)
		{
			double	   *out = cen + (size_t) i * ld + j0;

#pragma GCC unroll 4
			for (int v = 0; v < nv; v++)
				_mm256_storeu_pd(out + 4 * v,
								 _mm256_sub_pd(_mm256_loadu_pd(out + 4 * v), s[v]));
		}
	}
#pragma GCC unroll 4
	for (int v = 0; v < nv; v++)
	{
		_mm256_storeu_pd(bmean + j0 + 4 * v, m[v]);
		_mm256_storeu_pd(rsum + j0 + 4 * v, s[v]);
	}
}

/*
 * mm_moments_centre with AVX2 (ld = MM_MOMENTS_PAD(d), a multiple of 8):
 * sixteen columns at a time, their sums in registers while the rows pass,
 * instead of a sum per column in memory that every row adds to and stores
 * again (a chain of stores and loads through the block).
 */
__attribute__((target("avx2")))
static void
mm_moments_centre_avx2(int d, int nb, int ld, const double *block, double *cen,
					   double *bmean, double *rsum)
{
	int			j0 = 0;

	for (; j0 + 16 <= ld; j0 += 16)
		mm_moments_centre_cols(d, nb, ld, j0, 4, block, cen, bmean, rsum);
	if (j0 < ld)
		mm_moments_centre_cols(d, nb, ld, j0, 2, block, cen, bmean, rsum);
}
#endif

/*
 * C (the upper triangle, column-major, leading dimension ldc) += alpha *
 * A' A for the nb rows of d values of A (row-major, stride lda): by the
 * AVX2 kernel where mm_moments_kernel allows it, d <= 64 and lda is
 * MM_MOMENTS_PAD(d) (Cb: MM_MOMENTS_PAD(d)^2 doubles of work), else by
 * BLAS dsyrk.  The kernel's sums are scaled by alpha, then added, as
 * OpenBLAS stores its own: the same bits as its dsyrk on this machine.
 */
void
mm_syrk_add(int d, int nb, double alpha, const double *A, int lda, double *C, int ldc,
			double *Cb)
{
	int			dp = MM_MOMENTS_PAD(d);

	if (nb <= 0 || d <= 0)
		return;
#ifdef MM_MOMENTS_AVX2
	if (d <= MM_MOMENTS_KERNEL_MAX_D && lda == dp && mm_moments_kernel())
	{
		mm_syrk_avx2(d, nb, A, Cb);
		for (int j = 0; j < d; j++)
		{
			const double *cb = Cb + (size_t) j * dp;
			double	   *col = C + (size_t) j * ldc;

			for (int i = 0; i <= j; i++)
				col[i] += alpha * cb[i];
		}
		return;
	}
#endif
	cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, nb, alpha, A, lda, 1.0, C, ldc);
}

/* Fold nb rows of block into the running state (n, mean, C). */
void
mm_moments_add_block(int d, double *n, double *mean, double *C,
					 const double *block, int nb, double *work)
{
	int			avx2 = d <= MM_MOMENTS_KERNEL_MAX_D && mm_moments_kernel();
	int			dp = MM_MOMENTS_PAD(d);

	/* the centred rows, at a stride of dp with zeros past d for the kernel */
	int			ld = avx2 ? dp : d;
	double	   *cen = work;
	double	   *bmean = work + (size_t) dp * nb;
	double	   *rsum = bmean + dp;
	double		na = *n;
	double		ntot;
	int			j;

	if (nb <= 0 || d <= 0)
		return;

#ifdef MM_MOMENTS_AVX2
	if (avx2)
		mm_moments_centre_avx2(d, nb, ld, block, cen, bmean, rsum);
	else
#endif
		mm_moments_centre(d, nb, ld, block, cen, bmean, rsum);

	/* the block's centred cross-product, added into C (set when empty) */
	if (na <= 0.0)
		for (j = 0; j < d; j++)
			memset(C + (size_t) j * d, 0, sizeof(double) * (j + 1));
	mm_syrk_add(d, nb, 1.0, cen, ld, C, d, rsum + dp);

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
