/*
 * test_core.c
 *	  Unit tests of the massmodel core, without a server.
 *
 * A single program without a framework: every check prints "ok N - name"
 * or "not ok N - name: detail", the last line is "P passed, F failed" and
 * the exit status is 1 when anything failed.  Memory comes from a malloc
 * wrapper that aborts on NULL and records every block, so that everything
 * is freed at the end and valgrind reports no leak.
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

#include <cblas.h>

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

/* Relative difference of a and b against a scale. */
static double
reldiff(double a, double b, double scale)
{
	double		s = fmax(fabs(scale), DBL_MIN);

	return fabs(a - b) / s;
}

/* ---------------------------------------------------------------------
 * CRC-32C, split
 * --------------------------------------------------------------------- */

static void
test_crc(void)
{
	uint32_t	c = mm_crc32c("123456789", 9);
	uint8_t		zeros[32] = {0};

	check(c == 0xE3069283U, "crc32c(\"123456789\") == 0xE3069283", "got 0x%08X", c);
	check(mm_crc32c("", 0) == 0, "crc32c of nothing is 0", "got 0x%08X",
		  mm_crc32c("", 0));
	/* RFC 3720 B.4: 32 bytes of zeros */
	check(mm_crc32c(zeros, 32) == 0x8A9136AAU, "crc32c of 32 zero bytes == 0x8A9136AA",
		  "got 0x%08X", mm_crc32c(zeros, 32));
}

#define NSPLIT 100000

static void
test_split(void)
{
	double		row[3];
	double		neg[3] = {-0.0, 1.5, -2.0};
	double		pos[3] = {0.0, 1.5, -2.0};
	double		swapped[3] = {1.5, 0.0, -2.0};
	double	   *fwd = malloc(sizeof(double) * NSPLIT);
	int			i;
	int			below = 0;
	int			in_range = 1;
	int			same = 1;
	int			differ = 0;
	double		frac;

	for (i = 0; i < NSPLIT; i++)
	{
		double		u;

		row[0] = i;
		row[1] = i * 0.25 - 7.0;
		row[2] = sin(i);
		u = mm_split_u(42, row, 3);
		fwd[i] = u;
		if (!(u >= 0.0 && u < 1.0))
			in_range = 0;
		if (u < 0.2)
			below++;
		if (mm_split_u(43, row, 3) != u)
			differ++;
	}
	/* the same rows visited backwards give the same numbers */
	for (i = NSPLIT - 1; i >= 0; i--)
	{
		row[0] = i;
		row[1] = i * 0.25 - 7.0;
		row[2] = sin(i);
		if (mm_split_u(42, row, 3) != fwd[i])
			same = 0;
	}
	frac = (double) below / NSPLIT;
	check(in_range, "split: every value in [0, 1)", "out of range");
	check(same, "split: deterministic and independent of row order", "differs");
	check(frac >= 0.19 && frac <= 0.21, "split: fraction below 0.2 is about 0.2",
		  "fraction %g", frac);
	check(differ > NSPLIT * 0.99, "split: the seed changes the result",
		  "only %d of %d rows changed", differ, NSPLIT);
	check(mm_split_u(7, neg, 3) == mm_split_u(7, pos, 3), "split: -0.0 hashes like 0.0",
		  "%g vs %g", mm_split_u(7, neg, 3), mm_split_u(7, pos, 3));
	check(mm_split_u(7, swapped, 3) != mm_split_u(7, pos, 3),
		  "split: the position of a value within the row matters", "same value");
	check(mm_split_u(7, pos, 2) != mm_split_u(7, pos, 3),
		  "split: the row length matters", "same value");
	free(fwd);
}

/* ---------------------------------------------------------------------
 * Moments
 * --------------------------------------------------------------------- */

#define MD 5
#define MN 1000

/* Accumulate rows [from, to) of data in blocks of bs rows. */
static void
moments_blocks(const double *data, int from, int to, int bs,
			   double *n, double *mean, double *C)
{
	double	   *work = malloc(sizeof(double) * MM_MOMENTS_WORK(MD, bs));
	int			i;

	*n = 0;
	memset(mean, 0, sizeof(double) * MD);
	memset(C, 0, sizeof(double) * MD * MD);
	for (i = from; i < to; i += bs)
	{
		int			nb = to - i < bs ? to - i : bs;

		mm_moments_add_block(MD, n, mean, C, data + (size_t) i * MD, nb, work);
	}
	free(work);
}

/* Largest relative difference of two states (C against its diagonal). */
static double
moments_diff(const double *m1, const double *C1, const double *m2,
			 const double *C2)
{
	double		worst = 0.0;
	int			i,
				j;

	for (j = 0; j < MD; j++)
	{
		worst = fmax(worst, reldiff(m1[j], m2[j], fabs(m2[j]) + sqrt(C2[j + j * MD] / MN)));
		for (i = 0; i <= j; i++)
			worst = fmax(worst, reldiff(C1[i + j * MD], C2[i + j * MD],
										sqrt(C2[i + i * MD] * C2[j + j * MD])));
	}
	return worst;
}

static void
test_moments(void)
{
	double	   *data = malloc(sizeof(double) * MN * MD);
	double		n1,
				m1[MD],
				C1[MD * MD];
	double		n2,
				m2[MD],
				C2[MD * MD];
	double		nb,
				mb[MD],
				Cb[MD * MD];
	double		mref[MD],
				Cref[MD * MD];
	double		ne = 0,
				me[MD] = {0},
				Ce[MD * MD] = {0};
	const int	sizes[] = {1, 2, 7, 64, 333, 999};
	double		worst = 0.0;
	char		name[128];
	size_t		k;
	int			i,
				j,
				r;

	for (r = 0; r < MN; r++)
		for (j = 0; j < MD; j++)
			data[r * MD + j] = 1e3 * (j + 1) + (rng_unif() - 0.5) * (j + 1) +
				(j == 2 ? data[r * MD] - 1e3 : 0.0);

	/* naive two-pass reference in long double */
	for (j = 0; j < MD; j++)
	{
		long double s = 0;

		for (r = 0; r < MN; r++)
			s += data[r * MD + j];
		mref[j] = (double) (s / MN);
	}
	for (j = 0; j < MD; j++)
		for (i = 0; i <= j; i++)
		{
			long double s = 0;

			for (r = 0; r < MN; r++)
				s += ((long double) data[r * MD + i] - mref[i]) *
					((long double) data[r * MD + j] - mref[j]);
			Cref[i + j * MD] = (double) s;
		}

	moments_blocks(data, 0, MN, MN, &n1, m1, C1);
	check(n1 == MN && moments_diff(m1, C1, mref, Cref) < 1e-12,
		  "moments: one block equals the two-pass reference",
		  "n %g, rel diff %g", n1, moments_diff(m1, C1, mref, Cref));

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	{
		moments_blocks(data, 0, MN, sizes[k], &n2, m2, C2);
		worst = fmax(worst, moments_diff(m2, C2, m1, C1));
		if (n2 != MN)
			worst = INFINITY;
	}
	snprintf(name, sizeof(name),
			 "moments: blocks of 1, 2, 7, 64, 333, 999 rows equal one block (worst %.1e)",
			 worst);
	check(worst < 1e-12, name, "rel diff %g", worst);

	/* two halves merged */
	moments_blocks(data, 0, 400, 50, &n2, m2, C2);
	moments_blocks(data, 400, MN, 77, &nb, mb, Cb);
	mm_moments_merge(MD, &n2, m2, C2, nb, mb, Cb);
	check(n2 == MN && moments_diff(m2, C2, m1, C1) < 1e-12,
		  "moments: merge of two halves equals one block", "rel diff %g",
		  moments_diff(m2, C2, m1, C1));

	/* merging into and from an empty state */
	mm_moments_merge(MD, &ne, me, Ce, n1, m1, C1);
	check(ne == n1 && memcmp(me, m1, sizeof(me)) == 0 &&
		  moments_diff(me, Ce, m1, C1) == 0.0,
		  "moments: merge into an empty state copies", "n %g", ne);
	memcpy(m2, m1, sizeof(m2));
	memcpy(C2, C1, sizeof(C2));
	n2 = n1;
	mm_moments_merge(MD, &n2, m2, C2, 0, me, Ce);
	check(n2 == n1 && memcmp(m2, m1, sizeof(m2)) == 0 && memcmp(C2, C1, sizeof(C2)) == 0,
		  "moments: merge of an empty state changes nothing", "n %g", n2);
	free(data);
}

/*
 * Both kernels that fold a block (the AVX2/FMA one where this CPU has it,
 * and BLAS dsyrk), for widths 1 to 34 (every padding of the tiles), 63 to
 * 65 (MM_MOMENTS_KERNEL_MAX_D, where BLAS takes over) and 72, and
 * blocks of 1, 7 and 256 rows: the co-moments of the same rows agree with
 * each other and with a two-pass reference in long double (errors in
 * units of the data's variance), with the same means to the bit (the
 * centring is the same arithmetic), and the entries below the diagonal are
 * never written.
 */
static void
test_moments_kernels(void)
{
	int			saved = mm_moments_avx2;
	int			nk = 1;
	double		worst = 0.0;
	double		worst_pair = 0.0;
	bool		lower_kept = true;
	bool		same_means = true;
	int			widths[38];

	mm_moments_avx2 = -1;
	nk = mm_moments_kernel() == 1 ? 2 : 1;
	/* every padding of the tiles, then around the widest the kernel takes */
	for (int i = 0; i < 34; i++)
		widths[i] = i + 1;
	widths[34] = MM_MOMENTS_KERNEL_MAX_D - 1;
	widths[35] = MM_MOMENTS_KERNEL_MAX_D;
	widths[36] = MM_MOMENTS_KERNEL_MAX_D + 1;
	widths[37] = MM_MOMENTS_KERNEL_MAX_D + 8;
	for (int wi = 0; wi < 38; wi++)
	{
		int			d = widths[wi];
		int			rows = 600;
		double	   *data = malloc(sizeof(double) * rows * d);
		long double *lm = calloc(d, sizeof(long double));

		for (int i = 0; i < rows * d; i++)
			data[i] = 100.0 + 3.0 * (rng_unif() - 0.5) + (i % d);
		for (int i = 0; i < rows; i++)
			for (int j = 0; j < d; j++)
				lm[j] += data[i * d + j];
		for (int j = 0; j < d; j++)
			lm[j] /= rows;
		for (int bi = 0; bi < 3; bi++)
		{
			int			bs = bi == 0 ? 1 : bi == 1 ? 7 : 256;
			double	   *C[2];
			double	   *mean[2];

			for (int k = 0; k < nk; k++)
			{
				double		n;

				C[k] = malloc(sizeof(double) * d * d);
				for (int e = 0; e < d * d; e++)
					C[k][e] = -7.0;
				mm_moments_avx2 = nk == 2 ? 1 - k : 0;
				{
					double	   *work = malloc(sizeof(double) * MM_MOMENTS_WORK(d, bs));

					mean[k] = malloc(sizeof(double) * d);
					n = 0;
					for (int i = 0; i < rows; i += bs)
						mm_moments_add_block(d, &n, mean[k], C[k], data + (size_t) i * d,
											 rows - i < bs ? rows - i : bs, work);
					free(work);
				}
				for (int jj = 0; jj < d; jj++)
					for (int ii = 0; ii < d; ii++)
					{
						if (ii > jj)
						{
							if (C[k][ii + jj * d] != -7.0)
								lower_kept = false;
							continue;
						}
						{
							long double ref = 0;
							double		err;

							for (int r = 0; r < rows; r++)
								ref += ((long double) data[r * d + ii] - lm[ii]) *
									((long double) data[r * d + jj] - lm[jj]);
							err = fabs((double) (C[k][ii + jj * d] - ref)) /
								(rows * 0.75 + fabs((double) ref));
							if (err > worst)
								worst = err;

						}
					}
			}
			/* the centring is the same arithmetic in both: the same means */
			if (nk == 2 && memcmp(mean[0], mean[1], sizeof(double) * d) != 0)
				same_means = false;
			if (nk == 2)
				for (int jj = 0; jj < d; jj++)
					for (int ii = 0; ii <= jj; ii++)
					{
						double		a = C[0][ii + jj * d],
									b = C[1][ii + jj * d];
						double		e = fabs(a - b) / (rows * 0.75 + fabs(a));

						if (e > worst_pair)
							worst_pair = e;
					}
			for (int k = 0; k < nk; k++)
			{
				free(C[k]);
				free(mean[k]);
			}
		}
		free(data);
		free(lm);
	}
	mm_moments_avx2 = saved;
	/* blocks of one row go through Chan's merges alone: about 1.3e-14 */
	check(worst < 5e-14, "moments kernels: every width and block size against long double",
		  "worst relative error %g", worst);
	check(worst_pair < 1e-14, "moments kernels: AVX2 and BLAS agree (or this CPU has no AVX2)",
		  "worst relative difference %g (%d kernels)", worst_pair, nk);
	check(same_means, "moments kernels: the same means to the bit from both", "%d kernels", nk);
	check(lower_kept, "moments kernels: entries below the diagonal are never written",
		  "%d kernels", nk);
}

/*
 * mm_syrk_add, as the logistic Hessian calls it (alpha 0.731, the rows at
 * the padded stride, C a block inside a larger matrix): against BLAS
 * dsyrk on the same rows for widths 1 to 40 and 1, 63, 64, 65 and 300
 * rows (the kernel's chunks of 64), only the upper triangle written.
 */
static void
test_syrk_add(void)
{
	double		worst = 0.0;
	bool		untouched = true;
	int			rows[] = {1, 63, 64, 65, 300};

	for (int d = 1; d <= 40; d++)
		for (int ri = 0; ri < 5; ri++)
		{
			int			nb = rows[ri];
			int			dp = MM_MOMENTS_PAD(d);
			int			m = d + 3;
			double	   *A = calloc((size_t) nb * dp, sizeof(double));
			double	   *A2 = malloc(sizeof(double) * nb * d);
			double	   *H1 = malloc(sizeof(double) * m * m);
			double	   *H2 = malloc(sizeof(double) * m * m);
			double	   *Cb = malloc(sizeof(double) * dp * dp);

			for (int i = 0; i < nb; i++)
				for (int j = 0; j < d; j++)
					A[i * dp + j] = A2[i * d + j] = rng_unif() - 0.3;
			for (int e = 0; e < m * m; e++)
				H1[e] = H2[e] = 0.5 * e;
			cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, d, nb, 0.731, A2, d,
						1.0, H1 + 2 + 2 * m, m);
			mm_syrk_add(d, nb, 0.731, A, dp, H2 + 2 + 2 * m, m, Cb);
			for (int j = 0; j < m; j++)
				for (int i = 0; i < m; i++)
				{
					bool		inside = i >= 2 && j >= 2 && i - 2 < d && j - 2 < d && i <= j;
					double		e = fabs(H1[i + j * m] - H2[i + j * m]) / (1.0 + fabs(H1[i + j * m]));

					if (!inside && H2[i + j * m] != 0.5 * (i + j * m))
						untouched = false;
					if (e > worst)
						worst = e;
				}
			free(A);
			free(A2);
			free(H1);
			free(H2);
			free(Cb);
		}
	check(worst < 1e-14, "syrk_add: the logistic Hessian's dsyrk against BLAS",
		  "worst relative difference %g", worst);
	check(untouched, "syrk_add: nothing outside the block's upper triangle is written", "%s", "");
}

/* ---------------------------------------------------------------------
 * Linear models
 * --------------------------------------------------------------------- */

/* Accumulate nrows rows of d values (y first) in blocks of bs. */
static void
fit_moments(int d, const double *rows, int nrows, int bs, double *n,
			double *mean, double *C)
{
	double	   *work = malloc(sizeof(double) * MM_MOMENTS_WORK(d, bs));
	int			i;

	*n = 0;
	memset(mean, 0, sizeof(double) * d);
	memset(C, 0, sizeof(double) * d * d);
	for (i = 0; i < nrows; i += bs)
		mm_moments_add_block(d, n, mean, C, rows + (size_t) i * d,
							 nrows - i < bs ? nrows - i : bs, work);
	free(work);
}

/* Solve the p x p system M x = v in place by Gaussian elimination. */
static void
gauss_solve(int p, double *M, double *v)
{
	int			i,
				j,
				k;

	for (k = 0; k < p; k++)
	{
		int			piv = k;

		for (i = k + 1; i < p; i++)
			if (fabs(M[i * p + k]) > fabs(M[piv * p + k]))
				piv = i;
		if (piv != k)
		{
			double		t;

			for (j = 0; j < p; j++)
			{
				t = M[k * p + j];
				M[k * p + j] = M[piv * p + j];
				M[piv * p + j] = t;
			}
			t = v[k];
			v[k] = v[piv];
			v[piv] = t;
		}
		for (i = k + 1; i < p; i++)
		{
			double		f = M[i * p + k] / M[k * p + k];

			for (j = k; j < p; j++)
				M[i * p + j] -= f * M[k * p + j];
			v[i] -= f * v[k];
		}
	}
	for (k = p - 1; k >= 0; k--)
	{
		for (j = k + 1; j < p; j++)
			v[k] -= M[k * p + j] * v[j];
		v[k] /= M[k * p + k];
	}
}

/*
 * The closed-form ridge/OLS answer computed independently: normal
 * equations from the raw rows (centred by a two-pass mean when
 * fit_intercept), plus alpha on the diagonal, by Gaussian elimination.
 */
static void
closed_form(int p, const double *rows, int nrows, bool fit_intercept,
			double alpha, double *coef, double *intercept)
{
	int			d = p + 1;
	double	   *M = calloc((size_t) p * p, sizeof(double));
	double	   *v = calloc(p, sizeof(double));
	double	   *mu = calloc(d, sizeof(double));
	int			i,
				j,
				r;

	if (fit_intercept)
	{
		for (r = 0; r < nrows; r++)
			for (j = 0; j < d; j++)
				mu[j] += rows[r * d + j];
		for (j = 0; j < d; j++)
			mu[j] /= nrows;
	}
	for (r = 0; r < nrows; r++)
	{
		const double *row = rows + r * d;

		for (i = 0; i < p; i++)
		{
			for (j = 0; j < p; j++)
				M[i * p + j] += (row[i + 1] - mu[i + 1]) * (row[j + 1] - mu[j + 1]);
			v[i] += (row[i + 1] - mu[i + 1]) * (row[0] - mu[0]);
		}
	}
	for (i = 0; i < p; i++)
		M[i * p + i] += alpha;
	gauss_solve(p, M, v);
	*intercept = mu[0];
	for (i = 0; i < p; i++)
	{
		coef[i] = v[i];
		*intercept -= mu[i + 1] * v[i];
	}
	if (!fit_intercept)
		*intercept = 0.0;
	free(M);
	free(v);
	free(mu);
}

static const double longley[16][7] = {
	{60323, 83.0, 234289, 2356, 1590, 107608, 1947},
	{61122, 88.5, 259426, 2325, 1456, 108632, 1948},
	{60171, 88.2, 258054, 3682, 1616, 109773, 1949},
	{61187, 89.5, 284599, 3351, 1650, 110929, 1950},
	{63221, 96.2, 328975, 2099, 3099, 112075, 1951},
	{63639, 98.1, 346999, 1932, 3594, 113270, 1952},
	{64989, 99.0, 365385, 1870, 3547, 115094, 1953},
	{63761, 100.0, 363112, 3578, 3350, 116219, 1954},
	{66019, 101.2, 397469, 2904, 3048, 117388, 1955},
	{67857, 104.6, 419180, 2822, 2857, 118734, 1956},
	{68169, 108.4, 442769, 2936, 2798, 120445, 1957},
	{66513, 110.8, 444546, 4681, 2637, 121950, 1958},
	{68655, 112.6, 482704, 3813, 2552, 123366, 1959},
	{69564, 114.2, 502601, 3931, 2514, 125368, 1960},
	{69331, 115.7, 518173, 4806, 2572, 127852, 1961},
	{70551, 116.9, 554894, 4007, 2827, 130081, 1962}
};

/* NIST StRD certified values: intercept, then x1..x6 */
static const double longley_cert[7] = {
	-3482258.63459582, 15.0618722713733, -0.358191792925910E-01,
	-2.02022980381683, -1.03322686717359, -0.511041056535807E-01,
	1829.15146461355
};

static void
test_longley(void)
{
	const int	sizes[] = {16, 5, 1};
	size_t		k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	{
		double		n,
					mean[7],
					C[49],
					coef[6],
					icpt = 0;
		MmLinearParams par = {true, 0.0};
		MmLinearFit info = {0, false};
		MmErr		err = {""};
		MmStatus	st;
		double		digits = 99.0;
		char		name[160];
		int			j;

		fit_moments(7, &longley[0][0], 16, sizes[k], &n, mean, C);
		st = mm_linear_fit(6, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
		if (st == MM_OK)
		{
			digits = fmin(digits, -log10(fmax(reldiff(icpt, longley_cert[0],
													  longley_cert[0]), 1e-17)));
			for (j = 0; j < 6; j++)
				digits = fmin(digits, -log10(fmax(reldiff(coef[j], longley_cert[j + 1],
														  longley_cert[j + 1]), 1e-17)));
		}
		else
			digits = 0;
		snprintf(name, sizeof(name),
				 "linear: NIST Longley, blocks of %d rows: %.2f significant digits (>= 9 required)",
				 sizes[k], digits);
		check(st == MM_OK && digits >= 9.0 && !info.used_fallback && info.rank == 6,
			  name, "status %d (%s), fallback %d, rank %d", st, err.msg,
			  info.used_fallback, info.rank);
	}
	track_reset(&tracker);
}

static void
test_exact(void)
{
	double		rows[20 * 3];
	double		n,
				mean[3],
				C[9],
				coef[2],
				icpt = 0;
	MmLinearParams par = {true, 0.0};
	MmLinearFit info = {0, false};
	MmErr		err = {""};
	MmStatus	st;
	int			r;

	for (r = 0; r < 20; r++)
	{
		double		x1 = r * 0.5 - 3.0;
		double		x2 = (r * r) % 7 + 0.25 * r;

		rows[r * 3 + 1] = x1;
		rows[r * 3 + 2] = x2;
		rows[r * 3] = 3.0 + 2.0 * x1 - x2;
	}
	fit_moments(3, rows, 20, 6, &n, mean, C);
	st = mm_linear_fit(2, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
	check(st == MM_OK && fabs(icpt - 3.0) < 1e-12 && fabs(coef[0] - 2.0) < 1e-12 &&
		  fabs(coef[1] + 1.0) < 1e-12 && info.rank == 2 && !info.used_fallback,
		  "linear: y = 3 + 2 x1 - x2 recovered to 1e-12",
		  "status %d (%s): %.17g %.17g %.17g", st, err.msg, icpt, coef[0], coef[1]);
	track_reset(&tracker);
}

#define RN 50
#define RP 4

static void
test_ridge(void)
{
	double		rows[RN * (RP + 1)];
	const double alphas[] = {0.0, 0.1, 3.0, 1000.0};
	double		worst = 0.0;
	double		worst_raw = 0.0;
	char		name[160];
	size_t		k;
	int			r,
				j;

	for (r = 0; r < RN; r++)
	{
		double		y = 0.7;

		for (j = 1; j <= RP; j++)
		{
			rows[r * (RP + 1) + j] = (rng_unif() - 0.3) * j * 10.0 + j;
			y += (j % 2 ? 1.5 : -0.25 * j) * rows[r * (RP + 1) + j];
		}
		rows[r * (RP + 1)] = y + (rng_unif() - 0.5);
	}
	for (k = 0; k < sizeof(alphas) / sizeof(alphas[0]); k++)
	{
		int			fi;

		for (fi = 0; fi <= 1; fi++)
		{
			double		n,
						mean[RP + 1],
						C[(RP + 1) * (RP + 1)],
						coef[RP],
						ref[RP],
						icpt = 0,
						ref_icpt = 0;
			MmLinearParams par = {fi == 1, alphas[k]};
			MmLinearFit info = {0, false};
			MmErr		err = {""};
			double		w = 0.0;

			fit_moments(RP + 1, rows, RN, 16, &n, mean, C);
			if (mm_linear_fit(RP, n, mean, C, &par, coef, &icpt, &info, &talloc, &err) != MM_OK)
				w = INFINITY;
			closed_form(RP, rows, RN, fi == 1, alphas[k], ref, &ref_icpt);
			for (j = 0; j < RP; j++)
				w = fmax(w, reldiff(coef[j], ref[j], fabs(ref[j]) + 1e-3));
			w = fmax(w, reldiff(icpt, ref_icpt, fabs(ref_icpt) + 1.0));
			if (fi)
				worst = fmax(worst, w);
			else
				worst_raw = fmax(worst_raw, w);
		}
	}
	snprintf(name, sizeof(name),
			 "linear: ridge/OLS with intercept equals the closed form (alpha 0, 0.1, 3, 1000; worst %.1e)",
			 worst);
	check(worst < 1e-10, name, "rel diff %g", worst);
	snprintf(name, sizeof(name),
			 "linear: ridge/OLS without intercept equals the closed form (worst %.1e)",
			 worst_raw);
	check(worst_raw < 1e-10, name, "rel diff %g", worst_raw);
	track_reset(&tracker);
}

static void
test_rank_deficient(void)
{
	/* y, x1, x2, x3 = x1 + x2, x4 = 5; 16 rows so that means are exact */
	double		rows[16 * 5];
	double		n,
				mean[5],
				C[25],
				coef[4] = {0},
				icpt = 0;
	MmLinearParams par = {true, 0.0};
	MmLinearFit info = {0, false};
	MmErr		err = {""};
	MmStatus	st;
	double		maxerr = 0.0;
	int			r;

	for (r = 0; r < 16; r++)
	{
		double		x1 = (r * 7) % 11 - 3;
		double		x2 = (r * r) % 5 + r;

		rows[r * 5 + 1] = x1;
		rows[r * 5 + 2] = x2;
		rows[r * 5 + 3] = x1 + x2;
		rows[r * 5 + 4] = 5.0;
		rows[r * 5] = 1.0 + x1 + 2.0 * x2;
	}
	fit_moments(5, rows, 16, 16, &n, mean, C);
	st = mm_linear_fit(4, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
	check(st == MM_OK && info.used_fallback && info.rank == 2,
		  "linear: x3 = x1 + x2 and a constant column: fallback, rank 2",
		  "status %d (%s), fallback %d, rank %d", st, err.msg, info.used_fallback,
		  info.rank);

	/*
	 * Every solution has w1 + w3 = 1, w2 + w3 = 2 and the constant column
	 * contributes nothing; the minimum-norm one is orthogonal to the null
	 * space spanned by (1, 1, -1, 0) and (0, 0, 0, 1): (0, 1, 1, 0).
	 */
	check(st == MM_OK && fabs(coef[0]) < 1e-9 && fabs(coef[1] - 1) < 1e-9 &&
		  fabs(coef[2] - 1) < 1e-9 && fabs(coef[3]) < 1e-9 && fabs(icpt - 1) < 1e-9,
		  "linear: rank-deficient fit is the minimum-norm solution (0, 1, 1, 0), intercept 1",
		  "%.17g %.17g %.17g %.17g, intercept %.17g", coef[0], coef[1], coef[2],
		  coef[3], icpt);
	check(fabs(coef[0] + coef[1] - coef[2]) < 1e-9 && fabs(coef[3]) < 1e-9,
		  "linear: minimum-norm coefficients are orthogonal to the null space",
		  "dot %g, constant %g", coef[0] + coef[1] - coef[2], coef[3]);
	for (r = 0; r < 16; r++)
	{
		double		yhat = icpt;
		int			j;

		for (j = 0; j < 4; j++)
			yhat += coef[j] * rows[r * 5 + 1 + j];
		maxerr = fmax(maxerr, fabs(yhat - rows[r * 5]));
	}
	check(maxerr < 1e-9, "linear: rank-deficient fit predicts exactly",
		  "max error %g", maxerr);
	track_reset(&tracker);
}

static void
test_rank_deficient_inexact(void)
{
	/* the duplicate is computed in floating point, so it is only nearly exact */
	double		rows[30 * 4];
	double		n,
				mean[4],
				C[16],
				coef[3] = {0},
				icpt = 0;
	MmLinearParams par = {true, 0.0};
	MmLinearFit info = {0, false};
	MmErr		err = {""};
	MmStatus	st;
	double		maxerr = 0.0;
	int			r;

	for (r = 0; r < 30; r++)
	{
		double		x1 = 0.1 * r + 0.37 * sin(r);
		double		x2 = 0.3 * cos(1.7 * r) - 0.01 * r;

		rows[r * 4 + 1] = x1;
		rows[r * 4 + 2] = x2;
		rows[r * 4 + 3] = x1 + x2;
		rows[r * 4] = 0.5 + 3.0 * x1 - 1.0 * x2;
	}
	fit_moments(4, rows, 30, 7, &n, mean, C);
	st = mm_linear_fit(3, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
	for (r = 0; r < 30; r++)
		maxerr = fmax(maxerr, fabs(icpt + coef[0] * rows[r * 4 + 1] +
								   coef[1] * rows[r * 4 + 2] +
								   coef[2] * rows[r * 4 + 3] - rows[r * 4]));
	/* minimum norm: w1 + w3 = 3, w2 + w3 = -1, w = (7/3, -5/3, 2/3) */
	check(st == MM_OK && info.used_fallback && info.rank == 2 &&
		  fabs(coef[0] - 7.0 / 3) < 1e-6 && fabs(coef[1] + 5.0 / 3) < 1e-6 &&
		  fabs(coef[2] - 2.0 / 3) < 1e-6 && maxerr < 1e-9,
		  "linear: inexact duplicate column gives the minimum-norm solution",
		  "status %d (%s), fallback %d, rank %d, coef %.10g %.10g %.10g, max error %g",
		  st, err.msg, info.used_fallback, info.rank, coef[0], coef[1], coef[2],
		  maxerr);
	track_reset(&tracker);
}

static void
test_no_intercept(void)
{
	/* through the origin: y = 2 x1 - 0.5 x2, plus a noisy variant */
	double		rows[6 * 3] = {
		0, 1, 2,
		0, 2, 1,
		0, 3, 5,
		0, -1, 4,
		0, 4, -2,
		0, 0.5, 0.5
	};
	double		n,
				mean[3],
				C[9],
				coef[2],
				icpt = 1,
				ref[2],
				ref_icpt;
	MmLinearParams par = {false, 0.0};
	MmLinearFit info = {0, false};
	MmErr		err = {""};
	MmStatus	st;
	int			r;

	for (r = 0; r < 6; r++)
		rows[r * 3] = 2.0 * rows[r * 3 + 1] - 0.5 * rows[r * 3 + 2];
	fit_moments(3, rows, 6, 4, &n, mean, C);
	st = mm_linear_fit(2, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
	check(st == MM_OK && icpt == 0.0 && fabs(coef[0] - 2) < 1e-12 &&
		  fabs(coef[1] + 0.5) < 1e-12,
		  "linear: fit_intercept = false recovers y = 2 x1 - 0.5 x2 through the origin",
		  "status %d (%s): %.17g %.17g %.17g", st, err.msg, icpt, coef[0], coef[1]);

	rows[0] += 0.3;
	rows[9] -= 0.2;
	rows[15] += 0.1;
	fit_moments(3, rows, 6, 6, &n, mean, C);
	st = mm_linear_fit(2, n, mean, C, &par, coef, &icpt, &info, &talloc, &err);
	closed_form(2, rows, 6, false, 0.0, ref, &ref_icpt);
	check(st == MM_OK && icpt == 0.0 && fabs(coef[0] - ref[0]) < 1e-12 &&
		  fabs(coef[1] - ref[1]) < 1e-12,
		  "linear: fit_intercept = false matches regression through the origin (X'X w = X'y)",
		  "status %d (%s): %.17g %.17g vs %.17g %.17g", st, err.msg, coef[0], coef[1],
		  ref[0], ref[1]);
	track_reset(&tracker);
}

static void
test_linear_invalid(void)
{
	double		mean[3] = {1, 2, 3};
	double		C[9] = {4, 0, 0, 1, 4, 0, 1, 1, 4};
	double		coef[2],
				icpt;
	MmLinearParams par = {true, 0.0};
	MmLinearParams neg = {true, -1.0};
	MmLinearParams nan_alpha = {true, NAN};
	MmErr		err = {""};
	MmStatus	st;

	st = mm_linear_fit(0, 10, mean, C, &par, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_EINVAL, "linear: p = 0 is MM_EINVAL", "status %d", st);
	st = mm_linear_fit(2, 0, mean, C, &par, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_EINVAL, "linear: n = 0 is MM_EINVAL", "status %d", st);
	st = mm_linear_fit(2, 10, mean, C, &neg, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_EINVAL, "linear: negative alpha is MM_EINVAL", "status %d", st);
	st = mm_linear_fit(2, 10, mean, C, &nan_alpha, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_EINVAL, "linear: NaN alpha is MM_EINVAL", "status %d", st);
	st = mm_linear_fit(2, 10, mean, C, &par, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_OK, "linear: a valid 2-feature system solves (info may be NULL)",
		  "status %d (%s)", st, err.msg);
	C[4] = INFINITY;
	st = mm_linear_fit(2, 10, mean, C, &par, coef, &icpt, NULL, &talloc, &err);
	check(st == MM_ENUMERIC && err.msg[0] != '\0',
		  "linear: non-finite co-moments are MM_ENUMERIC with a message",
		  "status %d (%s)", st, err.msg);
	track_reset(&tracker);
}

/* The largest difference of b's metrics from a's (relative for mse, mae). */
static double
metrics_diff(const MmRegResult *a, const MmRegResult *b)
{
	double		w = fabs(b->n - a->n);

	w = fmax(w, reldiff(b->mse, a->mse, a->mse));
	w = fmax(w, reldiff(b->mae, a->mae, a->mae));
	w = fmax(w, fabs(b->r2 - a->r2));
	return fmax(w, fabs(b->explained_variance - a->explained_variance));
}

/* ---------------------------------------------------------------------
 * Metrics
 * --------------------------------------------------------------------- */

static void
test_metrics(void)
{
	/*
	 * Expected values from scikit-learn 1.x:
	 * /usr/bin/python3 -c 'import sklearn.metrics as M
	 * y=[3,-0.5,2,7]; p=[2.5,0.0,2,8]
	 * print(M.mean_squared_error(y,p), M.mean_absolute_error(y,p),
	 *       M.r2_score(y,p), M.explained_variance_score(y,p))'
	 * -> 0.375 0.5 0.9486081370449679 0.9571734475374732
	 * and for y = [1,1,1]: p = [1,1,1] -> r2 1.0, ev 1.0;
	 * p = [0,0,0] -> r2 0.0, ev 1.0; p = [0,1,2] -> r2 0.0, ev 0.0
	 */
	const double y[4] = {3, -0.5, 2, 7};
	const double p[4] = {2.5, 0.0, 2, 8};
	const double ones[3] = {1, 1, 1};
	const double zeros3[3] = {0, 0, 0};
	const double ramp[3] = {0, 1, 2};
	const double *preds[3] = {ones, zeros3, ramp};
	const double exp_r2[3] = {1.0, 0.0, 0.0};
	const double exp_ev[3] = {1.0, 1.0, 0.0};
	MmRegMetrics m,
				a,
				b;
	MmRegResult res,
				res2;
	bool		ok;
	int			i,
				k,
				split;
	double		big_y[200],
				big_p[200];
	double		worst = 0.0;

	mm_regmetrics_init(&m);
	check(!mm_regmetrics_result(&m, &res), "metrics: no rows gives no result", "returned true");
	for (i = 0; i < 4; i++)
		mm_regmetrics_add(&m, y[i], p[i]);
	ok = mm_regmetrics_result(&m, &res);
	check(ok && res.n == 4 && fabs(res.mse - 0.375) < 1e-15 &&
		  fabs(res.rmse - sqrt(0.375)) < 1e-15 && fabs(res.mae - 0.5) < 1e-15 &&
		  fabs(res.r2 - 0.9486081370449679) < 1e-14 &&
		  fabs(res.explained_variance - 0.9571734475374732) < 1e-14,
		  "metrics: mse, rmse, mae, r2, explained variance match scikit-learn",
		  "%.17g %.17g %.17g %.17g %.17g", res.mse, res.rmse, res.mae, res.r2,
		  res.explained_variance);

	for (k = 0; k < 3; k++)
	{
		char		name[128];

		mm_regmetrics_init(&m);
		for (i = 0; i < 3; i++)
			mm_regmetrics_add(&m, ones[i], preds[k][i]);
		ok = mm_regmetrics_result(&m, &res);
		snprintf(name, sizeof(name),
				 "metrics: constant y, case %d: r2 = %g, explained variance = %g (force_finite)",
				 k + 1, exp_r2[k], exp_ev[k]);
		check(ok && res.r2 == exp_r2[k] && res.explained_variance == exp_ev[k], name,
			  "r2 %g, ev %g", res.r2, res.explained_variance);
	}

	/* merge equals sequential, at every split point */
	for (i = 0; i < 200; i++)
	{
		big_y[i] = 1000.0 + 10.0 * rng_unif();
		big_p[i] = big_y[i] + rng_unif() - 0.4;
	}
	mm_regmetrics_init(&m);
	for (i = 0; i < 200; i++)
		mm_regmetrics_add(&m, big_y[i], big_p[i]);
	mm_regmetrics_result(&m, &res);
	for (split = 0; split <= 200; split += 13)
	{
		mm_regmetrics_init(&a);
		mm_regmetrics_init(&b);
		for (i = 0; i < split; i++)
			mm_regmetrics_add(&a, big_y[i], big_p[i]);
		for (i = split; i < 200; i++)
			mm_regmetrics_add(&b, big_y[i], big_p[i]);
		mm_regmetrics_merge(&a, &b);
		mm_regmetrics_result(&a, &res2);
		worst = fmax(worst, metrics_diff(&res, &res2));
	}
	check(worst < 1e-12, "metrics: merge of two parts equals sequential accumulation",
		  "worst difference %g", worst);

	/* the block form: the sklearn case, then row by row's metrics */
	{
		double		yp[8];

		for (i = 0; i < 4; i++)
		{
			yp[2 * i] = y[i];
			yp[2 * i + 1] = -1.0;
		}
		mm_regmetrics_init(&m);
		mm_regmetrics_add_rows(&m, yp, 2, p, 4);
		ok = mm_regmetrics_result(&m, &res2);
		check(ok && res2.n == 4 && fabs(res2.mse - 0.375) < 1e-15 &&
			  fabs(res2.mae - 0.5) < 1e-15 &&
			  fabs(res2.r2 - 0.9486081370449679) < 1e-14 &&
			  fabs(res2.explained_variance - 0.9571734475374732) < 1e-14,
			  "metrics: a block of rows (stride 2) matches scikit-learn",
			  "%.17g %.17g %.17g %.17g", res2.mse, res2.mae, res2.r2, res2.explained_variance);
	}
	for (int nb = 1; nb <= 200; nb += (nb < 5 ? 1 : 49))
	{
		char		name[128];

		worst = 0.0;
		/* a first part row by row, the rest in blocks of nb rows */
		for (split = 0; split <= 200; split += 67)
		{
			mm_regmetrics_init(&a);
			for (i = 0; i < split; i++)
				mm_regmetrics_add(&a, big_y[i], big_p[i]);
			for (i = split; i < 200; i += nb)
				mm_regmetrics_add_rows(&a, big_y + i, 1, big_p + i,
									   200 - i < nb ? 200 - i : nb);
			mm_regmetrics_result(&a, &res2);
			worst = fmax(worst, metrics_diff(&res, &res2));
		}
		snprintf(name, sizeof(name),
				 "metrics: blocks of %d rows give row by row's metrics, to the bit", nb);
		check(worst == 0.0, name, "worst difference %g", worst);
	}
	{
		/* more rows than one internal block, in one call */
		enum
		{
			NL = 2 * MM_METRICS_BLOCK + 77
		};
		double		ly[NL],
					lp[NL];

		for (i = 0; i < NL; i++)
		{
			ly[i] = -500.0 + 3.0 * rng_unif();
			lp[i] = ly[i] + 2.0 * rng_unif() - 0.7;
		}
		mm_regmetrics_init(&a);
		mm_regmetrics_init(&b);
		for (i = 0; i < NL; i++)
			mm_regmetrics_add(&a, ly[i], lp[i]);
		mm_regmetrics_add_rows(&b, ly, 1, lp, NL);
		mm_regmetrics_result(&a, &res);
		mm_regmetrics_result(&b, &res2);
		worst = metrics_diff(&res, &res2);
		check(res2.n == NL && worst == 0.0,
			  "metrics: one call of 589 rows (three blocks) gives row by row's metrics, to the bit",
			  "n %g, worst difference %g", res2.n, worst);
	}
}

/* mm_linear_predict_rows gives mm_linear_predict's bits, whatever n. */
static void
test_predict_rows(void)
{
	enum
	{
		P = 20, LD = 21, N = 103
	};
	double		coef[P];
	double	   *x = malloc(sizeof(double) * LD * N);
	double		out[N];
	MmModel		m;
	uint64_t	r = 0x9E3779B97F4A7C15ULL;
	bool		same = true;

	memset(&m, 0, sizeof(m));
	for (int j = 0; j < P; j++)
	{
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		coef[j] = ((double) (r >> 11) / 9007199254740992.0 - 0.5) * (j + 1);
	}
	for (int i = 0; i < LD * N; i++)
	{
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		x[i] = ((double) (r >> 11) / 9007199254740992.0 - 0.5) * 1e3;
	}
	m.ncols = P;
	m.coef = coef;
	m.intercept = 0.1;
	for (int64_t n = 0; n <= N; n += (n < 9 ? 1 : 47))
	{
		mm_linear_predict_rows(&m, x + 1, LD, n, out);
		for (int64_t i = 0; i < n; i++)
		{
			double		one = mm_linear_predict(&m, x + 1 + i * LD);

			same &= memcmp(&one, &out[i], sizeof(double)) == 0;
		}
	}
	check(same, "predict rows: four at a time gives each row's bits", "a row differs");
	free(x);
}

/* ---------------------------------------------------------------------
 * Names and blobs
 * --------------------------------------------------------------------- */

static void
test_names(void)
{
	check(strcmp(mm_algorithm_name(1), "linear_regression") == 0 &&
		  strcmp(mm_algorithm_name(2), "ridge") == 0 &&
		  strcmp(mm_algorithm_name(3), "logistic_regression") == 0 &&
		  strcmp(mm_algorithm_name(4), "naive_bayes") == 0 &&
		  strcmp(mm_algorithm_name(5), "kmeans") == 0 &&
		  strcmp(mm_algorithm_name(6), "pca") == 0 &&
		  strcmp(mm_algorithm_name(7), "mlp") == 0 &&
		  mm_algorithm_from_name("mlp") == 7 &&
		  strcmp(mm_algorithm_name(8), "lasso") == 0 &&
		  strcmp(mm_algorithm_name(9), "elastic_net") == 0 &&
		  strcmp(mm_algorithm_name(10), "ensemble") == 0 &&
		  strcmp(mm_algorithm_name(11), "stacking") == 0 &&
		  mm_algorithm_from_name("stacking") == 11 &&
		  mm_algorithm_name(0) == NULL && mm_algorithm_name(12) == NULL,
		  "names: algorithm names", "wrong");
	check(mm_algorithm_from_name("linear_regression") == 1 &&
		  mm_algorithm_from_name("ridge") == 2 &&
		  mm_algorithm_from_name("logistic_regression") == 3 &&
		  mm_algorithm_from_name("naive_bayes") == 4 &&
		  mm_algorithm_from_name("lasso") == 8 && mm_algorithm_from_name("elastic_net") == 9 &&
		  mm_algorithm_from_name("lars") == 0 && mm_algorithm_from_name(NULL) == 0,
		  "names: algorithm ids from names", "wrong");
	check(strcmp(mm_task_name(1), "regression") == 0 &&
		  strcmp(mm_task_name(2), "classification") == 0 &&
		  strcmp(mm_task_name(3), "clustering") == 0 &&
		  strcmp(mm_task_name(4), "decomposition") == 0 &&
		  mm_task_name(0) == NULL && mm_task_name(5) == NULL,
		  "names: task names", "wrong");
}

static char name_price[] = "price";
static char name_area[] = "area";
static char name_rooms[] = "rooms";
static char name_emb[] = "emb";

/*
 * The test model, a ridge regression.  Its version-2 blob is 135 bytes;
 * blob_v1 below is the same model in version 1 (130 bytes), as the
 * version-1 writer produced it:
 *	 24 header; 24 task; 25 target length, 27 "price"; 32 F;
 *	 36 feature 1 ("area": length, name, kind 42, width 43);
 *	 47 feature 2 ("rooms": 47, 49, kind 54, width 55);
 *	 59 feature 3 ("emb": 59, 61, kind 64, width 65);
 *	 69 fit_intercept; 70 alpha; 78 intercept; 86 ncoef; 90 coefficients.
 */
static void
make_model(MmModel *m, MmFeature *f, double *coef)
{
	memset(f, 0, sizeof(MmFeature) * 3);
	f[0].name = name_area;
	f[0].kind = MM_FEAT_NUMERIC;
	f[0].width = 1;
	f[1].name = name_rooms;
	f[1].kind = MM_FEAT_NUMERIC;
	f[1].width = 1;
	f[2].name = name_emb;
	f[2].kind = MM_FEAT_ARRAY;
	f[2].width = 3;
	coef[0] = 1.5;
	coef[1] = -0.0;
	coef[2] = 1e-300;
	coef[3] = -123456.789;
	coef[4] = 0.1;
	memset(m, 0, sizeof(*m));
	m->algorithm = MM_ALG_RIDGE;
	m->task = MM_TASK_REGRESSION;
	m->target = name_price;
	m->nfeatures = 3;
	m->features = f;
	m->ncols = 5;
	m->fit_intercept = true;
	m->alpha = 0.5;
	m->intercept = -1.25;
	m->coef = coef;
}

/* make_model()'s model as a version-1 blob. */
static const uint8_t blob_v1[130] = {
	0x4d, 0x4d, 0x44, 0x4c, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x6a, 0x00, 0x00, 0x00, 0xf8, 0x4d, 0x63, 0xa8, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x05, 0x00, 0x70, 0x72, 0x69, 0x63, 0x65, 0x03, 0x00, 0x00, 0x00,
	0x04, 0x00, 0x61, 0x72, 0x65, 0x61, 0x01, 0x01, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x72, 0x6f, 0x6f, 0x6d, 0x73, 0x01, 0x01, 0x00, 0x00, 0x00, 0x03,
	0x00, 0x65, 0x6d, 0x62, 0x02, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xf4, 0xbf, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xf8, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x59, 0xf3,
	0xf8, 0xc2, 0x1f, 0x6e, 0xa5, 0x01, 0xc9, 0x76, 0xbe, 0x9f, 0x0c, 0x24,
	0xfe, 0xc0, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f
};

/* Recompute the CRC (and payload length) of a patched blob. */
static void
restamp(uint8_t *b, size_t len)
{
	uint32_t	plen = (uint32_t) (len - MM_BLOB_HEADER_SIZE);
	uint32_t	crc = mm_crc32c(b + MM_BLOB_HEADER_SIZE, plen);
	int			i;

	for (i = 0; i < 4; i++)
	{
		b[12 + i] = (uint8_t) (plen >> (8 * i));
		b[16 + i] = (uint8_t) (crc >> (8 * i));
	}
}

/* Store v little-endian at b. */
static void
put32(uint8_t *b, uint32_t v)
{
	int			i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t) (v >> (8 * i));
}

/* Store the bits of v little-endian at b. */
static void
put64f(uint8_t *b, double v)
{
	uint64_t	bits;
	int			i;

	memcpy(&bits, &v, 8);
	for (i = 0; i < 8; i++)
		b[i] = (uint8_t) (bits >> (8 * i));
}

/*
 * Read a (patched) copy of blob in a buffer of exactly len bytes and check
 * that it is rejected as corrupt with a message containing want.
 */
static void
expect_corrupt(const char *name, const uint8_t *blob, size_t len, const char *want)
{
	uint8_t    *copy = malloc(len ? len : 1);
	MmModel    *out = NULL;
	MmErr		err = {""};
	MmStatus	st;

	memcpy(copy, blob, len);
	st = mm_blob_read(copy, len, &talloc, &out, &err);
	check(st == MM_ECORRUPT && strstr(err.msg, want) != NULL, name,
		  "status %d, message \"%s\", wanted \"%s\"", st, err.msg, want);
	free(copy);
	track_reset(&tracker);
}

/*
 * The offset of the only occurrence of needle[n] in b[len], or SIZE_MAX
 * when it occurs never or more than once.
 */
static size_t
find_once(const uint8_t *b, size_t len, const void *needle, size_t n)
{
	size_t		found = SIZE_MAX;
	size_t		i;

	for (i = 0; i + n <= len; i++)
	{
		if (memcmp(b + i, needle, n) != 0)
			continue;
		if (found != SIZE_MAX)
			return SIZE_MAX;
		found = i;
	}
	return found;
}

/* The offset of the only encoding of v in b[len] (see find_once). */
static size_t
find_f64(const uint8_t *b, size_t len, double v)
{
	uint8_t		e[8];

	put64f(e, v);
	return find_once(b, len, e, 8);
}

/* The offset of the only u16-length-prefixed s in b[len]. */
static size_t
find_str(const uint8_t *b, size_t len, const char *s)
{
	uint8_t		e[64];
	size_t		n = strlen(s);

	e[0] = (uint8_t) n;
	e[1] = (uint8_t) (n >> 8);
	memcpy(e + 2, s, n);
	return find_once(b, len, e, n + 2);
}

/*
 * Overwrite bytes[n] at off in a copy of blob, stamp a fresh CRC and
 * expect the reader to reject it with want.
 */
static void
expect_patch(const char *name, const uint8_t *blob, size_t len, size_t off,
			 const void *bytes, size_t n, const char *want)
{
	uint8_t    *tmp;

	if (off == SIZE_MAX || off + n > len)
	{
		check(false, name, "the place to patch was not found (or not unique)");
		return;
	}
	tmp = malloc(len);
	memcpy(tmp, blob, len);
	memcpy(tmp + off, bytes, n);
	restamp(tmp, len);
	expect_corrupt(name, tmp, len, want);
	free(tmp);
}

/* Every truncation of blob[len] and every single-bit flip is MM_ECORRUPT. */
static void
check_damage(const char *what, const uint8_t *blob, size_t len)
{
	MmModel    *back = NULL;
	MmErr		err = {""};
	uint8_t    *tmp = malloc(len);
	char		name[128];
	size_t		k;
	int			bit;
	int			bad = -1;

	for (k = 0; k < len && bad < 0; k++)
	{
		uint8_t    *cut = malloc(k ? k : 1);

		memcpy(cut, blob, k);
		if (mm_blob_read(cut, k, &talloc, &back, &err) != MM_ECORRUPT)
			bad = (int) k;
		free(cut);
		track_reset(&tracker);
	}
	snprintf(name, sizeof(name), "blob: %s: every truncation to 0..%zu bytes is MM_ECORRUPT",
			 what, len - 1);
	check(bad < 0, name, "length %d accepted", bad);

	bad = -1;
	for (bit = 0; bit < (int) len * 8 && bad < 0; bit++)
	{
		memcpy(tmp, blob, len);
		tmp[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		if (mm_blob_read(tmp, len, &talloc, &back, &err) != MM_ECORRUPT)
			bad = bit;
		track_reset(&tracker);
	}
	snprintf(name, sizeof(name), "blob: %s: every single-bit flip is MM_ECORRUPT", what);
	check(bad < 0, name, "bit %d accepted", bad);
	free(tmp);
}

/* Bitwise equality of n doubles (both may be NULL when n is 0). */
static bool
same_f64s(const double *a, const double *b, size_t n)
{
	if (n == 0)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return memcmp(a, b, n * sizeof(double)) == 0;
}

/* Equality of n strings. */
static bool
same_strs(char *const *a, char *const *b, uint32_t n)
{
	uint32_t	i;

	if (n == 0)
		return true;
	if (a == NULL || b == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Field-by-field equality of a written model and the one read back. */
static bool
same_model(const MmModel *a, const MmModel *b)
{
	uint32_t	i;
	size_t		kp;

	if (a->algorithm != b->algorithm || a->task != b->task ||
		(a->target == NULL) != (b->target == NULL) ||
		(a->target != NULL && strcmp(a->target, b->target) != 0) ||
		a->nfeatures != b->nfeatures ||
		a->ncols != b->ncols || a->scale != b->scale ||
		a->label_type != b->label_type)
		return false;
	for (i = 0; i < a->nfeatures; i++)
	{
		const MmFeature *fa = &a->features[i];
		const MmFeature *fb = &b->features[i];

		if (strcmp(fa->name, fb->name) != 0 || fa->kind != fb->kind ||
			fa->width != fb->width || fa->impute != fb->impute)
			return false;
		if (fa->kind == MM_FEAT_CATEGORICAL &&
			(fa->nlevels != fb->nlevels || !same_strs(fa->levels, fb->levels, fa->nlevels)))
			return false;
		if (fa->impute != MM_IMPUTE_ERROR && !same_f64s(fa->fill, fb->fill, fa->width))
			return false;
	}
	if (a->scale != MM_SCALE_NONE &&
		(!same_f64s(a->center, b->center, a->ncols) ||
		 !same_f64s(a->scalev, b->scalev, a->ncols)))
		return false;
	if (a->label_type != MM_LABEL_NONE &&
		(a->nclasses != b->nclasses || !same_strs(a->labels, b->labels, a->nclasses)))
		return false;
	switch (a->algorithm)
	{
		case MM_ALG_LINEAR_REGRESSION:
		case MM_ALG_RIDGE:
		case MM_ALG_LASSO:
		case MM_ALG_ELASTIC_NET:
			return a->fit_intercept == b->fit_intercept &&
				(a->algorithm < MM_ALG_LASSO || same_f64s(&a->l1_ratio, &b->l1_ratio, 1)) &&
				same_f64s(&a->alpha, &b->alpha, 1) &&
				same_f64s(&a->intercept, &b->intercept, 1) &&
				same_f64s(a->coef, b->coef, a->ncols);
		case MM_ALG_LOGISTIC_REGRESSION:
			return a->fit_intercept == b->fit_intercept &&
				a->penalty == b->penalty && same_f64s(&a->C, &b->C, 1) &&
				a->nsets == b->nsets &&
				same_f64s(a->coefs, b->coefs, (size_t) a->nsets * a->ncols) &&
				same_f64s(a->intercepts, b->intercepts, a->nsets);
		case MM_ALG_NAIVE_BAYES:
			kp = (size_t) a->nclasses * a->ncols;
			return same_f64s(&a->var_smoothing, &b->var_smoothing, 1) &&
				same_f64s(&a->nb_alpha, &b->nb_alpha, 1) &&
				same_f64s(&a->nb.epsilon, &b->nb.epsilon, 1) &&
				a->nb.K == b->nb.K && a->nb.p == b->nb.p &&
				same_f64s(a->nb.log_prior, b->nb.log_prior, a->nclasses) &&
				same_f64s(a->nb.theta, b->nb.theta, kp) &&
				same_f64s(a->nb.var, b->nb.var, kp) &&
				same_f64s(a->nb.log_prob, b->nb.log_prob, kp) &&
				memcmp(a->nb.group, b->nb.group, sizeof(int32_t) * a->ncols) == 0;
		case MM_ALG_KMEANS:
			return a->k == b->k && same_f64s(&a->inertia, &b->inertia, 1) &&
				same_f64s(a->centers, b->centers, (size_t) a->k * a->ncols);
		case MM_ALG_PCA:
			return a->n_components == b->n_components && a->whiten == b->whiten &&
				same_f64s(a->pca_mean, b->pca_mean, a->ncols) &&
				same_f64s(a->components, b->components, (size_t) a->n_components * a->ncols) &&
				same_f64s(a->explained_variance, b->explained_variance, a->n_components);
		case MM_ALG_MLP:
			if (a->mlp.nlayers != b->mlp.nlayers || a->mlp.activation != b->mlp.activation ||
				a->mlp.classification != b->mlp.classification)
				return false;
			for (i = 0; i <= (uint32_t) a->mlp.nlayers; i++)
				if (a->mlp.size[i] != b->mlp.size[i])
					return false;
			for (i = 0; i < (uint32_t) a->mlp.nlayers; i++)
				if (!same_f64s(a->mlp.W[i], b->mlp.W[i], (size_t) a->mlp.size[i + 1] * a->mlp.size[i]) ||
					!same_f64s(a->mlp.b[i], b->mlp.b[i], a->mlp.size[i + 1]))
					return false;
			return true;
	}
	return false;
}

/*
 * Write m (the blob is returned in *blob_out, malloc'd), read it back and
 * write that again; what names the model in the checks.
 */
static size_t
check_round_trip(const char *what, const MmModel *m, uint8_t **blob_out)
{
	MmModel    *back = NULL;
	MmErr		err = {""};
	MmStatus	st;
	size_t		size = mm_blob_size(m);
	uint8_t    *blob;
	uint8_t    *blob2;
	char		name[128];

	snprintf(name, sizeof(name), "blob: %s: written as version %d", what,
			 m->algorithm >= MM_ALG_KMEANS ? 3 : 2);
	blob = malloc(size ? size : 1);
	blob2 = malloc(size ? size : 1);
	st = mm_blob_write(m, blob, size, &err);
	check(size > 0 && st == MM_OK && memcmp(blob, "MMDL", 4) == 0 &&
		  blob[4] == (m->algorithm >= MM_ALG_KMEANS ? 3 : 2) && blob[5] == 0 &&
		  blob[6] == m->algorithm, name, "size %zu, status %d (%s)", size, st, err.msg);

	snprintf(name, sizeof(name), "blob: %s: read back gives every field bit for bit", what);
	st = mm_blob_read(blob, size, &talloc, &back, &err);
	check(st == MM_OK && same_model(m, back), name, "status %d (%s)", st, err.msg);
	if (st == MM_OK)
	{
		snprintf(name, sizeof(name), "blob: %s: writing it again is byte-identical", what);
		st = mm_blob_write(back, blob2, size, &err);
		check(st == MM_OK && mm_blob_size(back) == size && memcmp(blob, blob2, size) == 0,
			  name, "status %d (%s)", st, err.msg);
	}
	track_reset(&tracker);
	free(blob2);
	*blob_out = blob;
	return size;
}

static void
test_blob(void)
{
	MmModel		m;
	MmFeature	f[3];
	double		coef[5];
	MmModel    *back = NULL;
	MmErr		err = {""};
	MmStatus	st;
	size_t		size;
	size_t		size1 = sizeof(blob_v1);
	uint8_t    *blob;
	uint8_t    *blob2;
	uint8_t    *tmp;
	bool		same;
	size_t		k;
	double		nan = NAN;
	uint64_t	nanbits;

	make_model(&m, f, coef);
	size = mm_blob_size(&m);
	check(size == 135, "blob: size of the test model is 135 bytes", "size %zu", size);
	blob = malloc(size);
	blob2 = malloc(size);
	tmp = malloc(size + 8);
	st = mm_blob_write(&m, blob, size, &err);
	check(st == MM_OK && memcmp(blob, "MMDL\2\0\2\0", 8) == 0,
		  "blob: write succeeds with magic, version 2, algorithm 2",
		  "status %d (%s)", st, err.msg);

	st = mm_blob_read(blob, size, &talloc, &back, &err);
	same = st == MM_OK && same_model(&m, back) && back->nclasses == 0 &&
		back->labels == NULL && back->center == NULL;
	for (k = 0; same && k < 3; k++)
		same = back->features[k].impute == MM_IMPUTE_ERROR &&
			back->features[k].fill == NULL && back->features[k].levels == NULL;
	check(same, "blob: read back gives every field bit for bit", "status %d (%s)",
		  st, err.msg);
	if (st == MM_OK)
	{
		st = mm_blob_write(back, blob2, size, &err);
		check(st == MM_OK && mm_blob_size(back) == size &&
			  memcmp(blob, blob2, size) == 0,
			  "blob: writing the read model again is byte-identical",
			  "status %d (%s)", st, err.msg);
	}
	track_reset(&tracker);

	/* version 1 is still read, with the defaults, and written as version 2 */
	st = mm_blob_read(blob_v1, size1, &talloc, &back, &err);
	same = st == MM_OK && same_model(&m, back) && back->scale == MM_SCALE_NONE &&
		back->label_type == MM_LABEL_NONE && back->nclasses == 0;
	for (k = 0; same && k < 3; k++)
		same = back->features[k].impute == MM_IMPUTE_ERROR &&
			back->features[k].fill == NULL && back->features[k].nlevels == 0;
	check(same, "blob: a version-1 blob is read with impute error, no scaling, no labels",
		  "status %d (%s)", st, err.msg);
	if (st == MM_OK)
	{
		st = mm_blob_write(back, blob2, size, &err);
		check(st == MM_OK && mm_blob_size(back) == size && memcmp(blob, blob2, size) == 0,
			  "blob: a version-1 model is written as the same model's version-2 blob",
			  "status %d (%s)", st, err.msg);
	}
	track_reset(&tracker);

	check_damage("ridge v2", blob, size);
	check_damage("ridge v1", blob_v1, size1);

	/* header fields (on the version-1 blob, whose offsets are above) */
	memcpy(tmp, blob_v1, size1);
	tmp[0] = 'X';
	expect_corrupt("blob: bad magic is rejected", tmp, size1, "not a massmodel blob");
	memcpy(tmp, blob_v1, size1);
	tmp[4] = 7;
	expect_corrupt("blob: version 7 is rejected", tmp, size1,
				   "unsupported blob format version 7 (this build reads versions 1 to 3)");
	memcpy(tmp, blob_v1, size1);
	tmp[4] = 0;
	expect_corrupt("blob: version 0 is rejected", tmp, size1,
				   "unsupported blob format version 0 (this build reads versions 1 to 3)");
	memcpy(tmp, blob_v1, size1);
	tmp[6] = 99;
	expect_corrupt("blob: unknown algorithm is rejected", tmp, size1, "unknown algorithm 99");
	memcpy(tmp, blob_v1, size1);
	tmp[6] = 5;
	expect_corrupt("blob: kmeans in a version 1 blob is rejected", tmp, size1,
				   "algorithm kmeans is not allowed in a version 1 blob");
	memcpy(tmp, blob_v1, size1);
	tmp[6] = 3;
	expect_corrupt("blob: logistic_regression in a version-1 blob is rejected", tmp, size1,
				   "algorithm logistic_regression is not allowed in a version 1 blob");
	memcpy(tmp, blob_v1, size1);
	tmp[9] = 1;
	expect_corrupt("blob: nonzero flags are rejected", tmp, size1,
				   "blob flags are 0x00000100, must be zero");
	memcpy(tmp, blob_v1, size1);
	tmp[23] = 0x80;
	expect_corrupt("blob: nonzero reserved word is rejected", tmp, size1,
				   "reserved header word is 0x80000000");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 12, 200);
	expect_corrupt("blob: payload length mismatch is rejected", tmp, size1,
				   "payload length 200 does not match the 106 bytes");
	memcpy(tmp, blob_v1, size1);
	tmp[100] ^= 0x10;
	expect_corrupt("blob: damaged payload fails the checksum", tmp, size1,
				   "checksum mismatch: stored 0x");
	memcpy(tmp, blob, size);
	tmp[4] = 1;
	restamp(tmp, size);
	expect_corrupt("blob: a version-2 payload stamped version 1 is rejected", tmp, size,
				   "feature 2 name length 1280 is out of range 1..63");

	/* payload fields, with the CRC stamped again */
	memcpy(tmp, blob_v1, size1);
	tmp[24] = 9;
	restamp(tmp, size1);
	expect_corrupt("blob: unknown task is rejected", tmp, size1, "unknown task 9");
	memcpy(tmp, blob_v1, size1);
	tmp[24] = MM_TASK_CLASSIFICATION;
	restamp(tmp, size1);
	expect_corrupt("blob: a task that does not match the algorithm is rejected", tmp, size1,
				   "algorithm ridge needs task regression, not classification");
	memcpy(tmp, blob_v1, size1);
	tmp[25] = 0;
	restamp(tmp, size1);
	expect_corrupt("blob: empty target name is rejected", tmp, size1,
				   "target name length 0 is out of range 1..63");
	memcpy(tmp, blob_v1, size1);
	tmp[28] = 0;
	restamp(tmp, size1);
	expect_corrupt("blob: NUL byte inside a name is rejected", tmp, size1,
				   "target name contains a NUL byte");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 32, 0xFFFFFFFFU);
	restamp(tmp, size1);
	expect_corrupt("blob: feature count 0xFFFFFFFF is rejected", tmp, size1,
				   "feature count 4294967295 is out of range 1..1600");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 32, 0);
	restamp(tmp, size1);
	expect_corrupt("blob: feature count 0 is rejected", tmp, size1,
				   "feature count 0 is out of range");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 32, 1600);
	restamp(tmp, size1);
	expect_corrupt("blob: 1600 features in 98 bytes are rejected before allocation",
				   tmp, size1, "blob truncated: 1600 features need at least 12800 bytes, 94 remain");
	memcpy(tmp, blob, size);
	put32(tmp + 32, 1600);
	restamp(tmp, size);
	expect_corrupt("blob: version 2: 1600 features in 99 bytes are rejected before allocation",
				   tmp, size, "blob truncated: 1600 features need at least 14400 bytes, 99 remain");
	memcpy(tmp, blob_v1, size1);
	tmp[47] = 64;
	restamp(tmp, size1);
	expect_corrupt("blob: a name length of 64 is rejected", tmp, size1,
				   "feature 2 name length 64 is out of range 1..63");
	memcpy(tmp, blob_v1, 62);
	tmp[59] = 63;
	restamp(tmp, 62);
	expect_corrupt("blob: a name length past the end is rejected", tmp, 62,
				   "blob truncated: feature 3 name needs 63 bytes, 1 remain");
	/* cut the blob inside feature 3's name, fix the length, restamp */
	memcpy(tmp, blob_v1, 62);
	restamp(tmp, 62);
	expect_corrupt("blob: a cut inside a name reports what is missing", tmp, 62,
				   "blob truncated: feature 3 name needs 3 bytes, 1 remain");
	memcpy(tmp, blob_v1, size1);
	tmp[42] = 4;
	restamp(tmp, size1);
	expect_corrupt("blob: unknown feature kind is rejected", tmp, size1,
				   "feature 1: unknown kind 4");
	memcpy(tmp, blob_v1, size1);
	tmp[42] = MM_FEAT_CATEGORICAL;
	restamp(tmp, size1);
	expect_corrupt("blob: a categorical feature in a version-1 blob is rejected", tmp, size1,
				   "feature 1: kind 3 (categorical) is not allowed in a version 1 blob");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 43, 2);
	restamp(tmp, size1);
	expect_corrupt("blob: numeric width 2 is rejected", tmp, size1,
				   "feature 1: numeric width must be 1, not 2");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 65, 0);
	restamp(tmp, size1);
	expect_corrupt("blob: array width 0 is rejected", tmp, size1,
				   "feature 3: array width 0 is out of range 1..100000");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 65, 100001);
	restamp(tmp, size1);
	expect_corrupt("blob: array width over the limit is rejected", tmp, size1,
				   "feature 3: array width 100001 is out of range");
	memcpy(tmp, blob_v1, size1);
	tmp[69] = 2;
	restamp(tmp, size1);
	expect_corrupt("blob: fit_intercept 2 is rejected", tmp, size1,
				   "fit_intercept must be 0 or 1, not 2");
	memcpy(tmp, blob_v1, size1);
	tmp[77] = 0xBF;				/* alpha = -0.5 */
	restamp(tmp, size1);
	expect_corrupt("blob: negative alpha is rejected", tmp, size1,
				   "alpha -0.5 is not finite and non-negative");
	memcpy(tmp, blob_v1, size1);
	tmp[84] = 0xF0;
	tmp[85] = 0x7F;				/* intercept = +infinity */
	restamp(tmp, size1);
	expect_corrupt("blob: infinite intercept is rejected", tmp, size1,
				   "intercept inf is not finite");
	memcpy(tmp, blob_v1, size1);
	put32(tmp + 86, 4);
	restamp(tmp, size1);
	expect_corrupt("blob: coefficient count mismatch is rejected", tmp, size1,
				   "coefficient count 4 does not match the encoded width 5");
	memcpy(tmp, blob_v1, size1);
	memcpy(&nanbits, &nan, 8);
	for (k = 0; k < 8; k++)
		tmp[98 + k] = (uint8_t) (nanbits >> (8 * k));
	restamp(tmp, size1);
	expect_corrupt("blob: NaN coefficient is rejected", tmp, size1,
				   "coefficient 2 is not finite");
	memcpy(tmp, blob_v1, size1);
	tmp[size1] = 0;
	restamp(tmp, size1 + 1);
	expect_corrupt("blob: a trailing byte is rejected", tmp, size1 + 1,
				   "1 trailing bytes after the model");
	memcpy(tmp, blob_v1, size1 - 8);
	restamp(tmp, size1 - 8);
	expect_corrupt("blob: missing coefficients are reported", tmp, size1 - 8,
				   "blob truncated: 5 coefficients need 40 bytes, 32 remain");
	expect_corrupt("blob: an empty blob is rejected", blob, 0,
				   "blob truncated: 0 bytes, the header alone needs 24");

	/*
	 * Version-2 fields of the regression model: the impute codes are at 47,
	 * 60 and 71, the scale code at 72, the label type at 73.
	 */
	memcpy(tmp, blob, size);
	tmp[72] = 5;
	restamp(tmp, size);
	expect_corrupt("blob: scale code 5 in a regression model is rejected", tmp, size,
				   "unknown scale code 5");
	memcpy(tmp, blob, size);
	tmp[73] = 4;
	restamp(tmp, size);
	expect_corrupt("blob: label type 4 is rejected", tmp, size, "unknown label type 4");
	memcpy(tmp, blob, size);
	tmp[73] = MM_LABEL_TEXT;
	restamp(tmp, size);
	expect_corrupt("blob: a regression model with labels is rejected", tmp, size,
				   "a regression model must have label type none, not 1");
	memcpy(tmp, blob, size);
	tmp[47] = 4;
	restamp(tmp, size);
	expect_corrupt("blob: impute code 4 is rejected", tmp, size,
				   "feature 1: unknown impute code 4");

	/* the writer refuses nonsense */
	{
		MmModel		w = m;
		MmFeature	wf[3];
		double		wc[5];
		char		empty[] = "";
		char		longname[70];

		memset(longname, 'a', 69);
		longname[69] = '\0';
		memcpy(wf, f, sizeof(wf));
		memcpy(wc, coef, sizeof(wc));
		w.features = wf;
		w.coef = wc;

		w.algorithm = 99;
		check(mm_blob_size(&w) == 0 && mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects an unknown algorithm", "accepted");
		w.algorithm = MM_ALG_NAIVE_BAYES;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL &&
			  strstr(err.msg, "needs task classification") != NULL,
			  "blob: writer rejects a task that does not match the algorithm", "%s", err.msg);
		w.algorithm = MM_ALG_LINEAR_REGRESSION;
		w.label_type = MM_LABEL_TEXT;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects labels on a regression model", "accepted");
		w.label_type = MM_LABEL_NONE;
		w.scale = MM_SCALE_STANDARD;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects scaling without centres", "accepted");
		w.scale = MM_SCALE_NONE;
		wf[1].impute = MM_IMPUTE_MEAN;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects imputation without fill values", "accepted");
		wf[1].impute = MM_IMPUTE_ERROR;
		w.target = empty;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects an empty target name", "accepted");
		w.target = longname;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects a 69-byte name", "accepted");
		w.target = name_price;
		w.ncols = 4;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects ncols != sum of widths", "accepted");
		w.ncols = 5;
		wc[3] = INFINITY;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects a non-finite coefficient", "accepted");
		wc[3] = 1.0;
		wf[0].width = 2;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects a numeric feature of width 2", "accepted");
		wf[0].width = 1;
		w.alpha = -1.0;
		check(mm_blob_write(&w, blob2, size, &err) == MM_EINVAL,
			  "blob: writer rejects a negative alpha", "accepted");
		w.alpha = 0.0;
		check(mm_blob_write(&w, blob2, size - 1, &err) == MM_EINVAL,
			  "blob: writer rejects a buffer that is too small", "accepted");
		st = mm_blob_write(&w, blob2, size, &err);
		check(st == MM_OK && mm_blob_read(blob2, size, &talloc, &back, &err) == MM_OK &&
			  back->algorithm == MM_ALG_LINEAR_REGRESSION && back->coef[3] == 1.0,
			  "blob: a linear_regression model round-trips", "status %d (%s)", st, err.msg);
		track_reset(&tracker);
	}

	free(blob);
	free(blob2);
	free(tmp);
}

/* ---------------------------------------------------------------------
 * Version-2 models: logistic regression and naive Bayes
 * --------------------------------------------------------------------- */

static char name_x1[] = "x1";
static char name_color[] = "color";
static char name_v[] = "v";
static char name_label[] = "label";
static char lv_blue[] = "blue";
static char lv_green[] = "green";
static char lv_red[] = "red";
static char lv_ete[] = "\xc3\xa9t\xc3\xa9";	/* above every ASCII level */
static char lb_false[] = "false";
static char lb_true[] = "true";
static char lb_min[] = "-9223372036854775808";
static char lb_m3[] = "-3";
static char lb_2[] = "2";
static char lb_9[] = "9";
static char lb_max[] = "9223372036854775807";
static char name_age[] = "age";
static char name_city[] = "city";
static char name_income[] = "income";
static char name_animal[] = "animal";
static char lv_oslo[] = "oslo";
static char lv_paris[] = "paris";
static char lv_rome[] = "rome";
static char lb_cat[] = "cat";
static char lb_cow[] = "cow";
static char lb_dog[] = "dog";

/* Storage of the version-2 test models. */
typedef struct TestModels
{
	char	   *color_levels[4];
	char	   *city_levels[3];
	char	   *bool_labels[2];
	char	   *int_labels[5];
	char	   *text_labels[3];
	double		color_fill[4];
	double		v_fill[2];
	double		age_fill[1];
	double		city_fill[3];
	MmFeature	lf[3];			/* logistic: x1, color, v (7 columns) */
	MmFeature	nf[3];			/* naive Bayes: age, city, income (5 columns) */
	double		coefs_bin[7];
	double		icpt_bin[1];
	double		coefs_multi[5 * 7];
	double		icpt_multi[5];
	double		center[7];
	double		scalev[7];
	double		nb_center[5];
	double		nb_scalev[5];
	double		log_prior[3];
	double		theta[15];
	double		var[15];
	double		log_prob[15];
	int32_t		group[5];
	MmModel		bin;			/* logistic, bool labels, min-max scaling */
	MmModel		multi;			/* logistic, 5 int labels, no penalty */
	MmModel		nb;				/* naive Bayes, text labels, standard scaling */
} TestModels;

/* Fill in the version-2 test models. */
static void
make_v2_models(TestModels *t)
{
	int			i;

	memset(t, 0, sizeof(*t));
	t->color_levels[0] = lv_blue;
	t->color_levels[1] = lv_green;
	t->color_levels[2] = lv_red;
	t->color_levels[3] = lv_ete;
	t->city_levels[0] = lv_oslo;
	t->city_levels[1] = lv_paris;
	t->city_levels[2] = lv_rome;
	t->bool_labels[0] = lb_false;
	t->bool_labels[1] = lb_true;
	t->int_labels[0] = lb_min;
	t->int_labels[1] = lb_m3;
	t->int_labels[2] = lb_2;
	t->int_labels[3] = lb_9;
	t->int_labels[4] = lb_max;
	t->text_labels[0] = lb_cat;
	t->text_labels[1] = lb_cow;
	t->text_labels[2] = lb_dog;

	/* logistic features: x1 numeric, color categorical (4), v array (2) */
	t->lf[0].name = name_x1;
	t->lf[0].kind = MM_FEAT_NUMERIC;
	t->lf[0].width = 1;
	t->lf[1].name = name_color;
	t->lf[1].kind = MM_FEAT_CATEGORICAL;
	t->lf[1].width = 4;
	t->lf[1].nlevels = 4;
	t->lf[1].levels = t->color_levels;
	t->lf[1].impute = MM_IMPUTE_MOST_FREQUENT;
	t->color_fill[1] = 1.0;
	t->lf[1].fill = t->color_fill;
	t->lf[2].name = name_v;
	t->lf[2].kind = MM_FEAT_ARRAY;
	t->lf[2].width = 2;
	t->lf[2].impute = MM_IMPUTE_MEAN;
	t->v_fill[0] = 0.5;
	t->v_fill[1] = -2.5;
	t->lf[2].fill = t->v_fill;

	for (i = 0; i < 7; i++)
	{
		t->coefs_bin[i] = 0.25 * (i + 1) - 1.0;
		t->center[i] = i == 0 ? -10.0 : 0.0;
		t->scalev[i] = i == 0 ? 20.0 : 1.0;
	}
	t->icpt_bin[0] = -0.375;
	for (i = 0; i < 35; i++)
		t->coefs_multi[i] = (i % 7 - 3) * 0.125 + i * 1e-3;
	for (i = 0; i < 5; i++)
		t->icpt_multi[i] = 0.0625 * i;

	t->bin.algorithm = MM_ALG_LOGISTIC_REGRESSION;
	t->bin.task = MM_TASK_CLASSIFICATION;
	t->bin.target = name_label;
	t->bin.nfeatures = 3;
	t->bin.features = t->lf;
	t->bin.ncols = 7;
	t->bin.scale = MM_SCALE_MINMAX;
	t->bin.center = t->center;
	t->bin.scalev = t->scalev;
	t->bin.label_type = MM_LABEL_BOOL;
	t->bin.nclasses = 2;
	t->bin.labels = t->bool_labels;
	t->bin.fit_intercept = true;
	t->bin.penalty = 2;
	t->bin.C = 0.625;
	t->bin.nsets = 1;
	t->bin.coefs = t->coefs_bin;
	t->bin.intercepts = t->icpt_bin;

	t->multi = t->bin;
	t->multi.scale = MM_SCALE_NONE;
	t->multi.center = NULL;
	t->multi.scalev = NULL;
	t->multi.label_type = MM_LABEL_INT;
	t->multi.nclasses = 5;
	t->multi.labels = t->int_labels;
	t->multi.fit_intercept = false;
	t->multi.penalty = 0;
	t->multi.C = 1.0;
	t->multi.nsets = 5;
	t->multi.coefs = t->coefs_multi;
	t->multi.intercepts = t->icpt_multi;

	/* naive Bayes: age numeric, city categorical (3), income numeric */
	t->nf[0].name = name_age;
	t->nf[0].kind = MM_FEAT_NUMERIC;
	t->nf[0].width = 1;
	t->nf[0].impute = MM_IMPUTE_MEDIAN;
	t->age_fill[0] = 41.0;
	t->nf[0].fill = t->age_fill;
	t->nf[1].name = name_city;
	t->nf[1].kind = MM_FEAT_CATEGORICAL;
	t->nf[1].width = 3;
	t->nf[1].nlevels = 3;
	t->nf[1].levels = t->city_levels;
	t->nf[1].impute = MM_IMPUTE_MOST_FREQUENT;
	t->city_fill[2] = 1.0;
	t->nf[1].fill = t->city_fill;
	t->nf[2].name = name_income;
	t->nf[2].kind = MM_FEAT_NUMERIC;
	t->nf[2].width = 1;

	for (i = 0; i < 5; i++)
	{
		t->nb_center[i] = i == 0 ? 40.0 : i == 4 ? 50000.0 : 0.0;
		t->nb_scalev[i] = i == 0 ? 12.5 : i == 4 ? 20000.0 : 1.0;
		t->group[i] = i >= 1 && i <= 3 ? 0 : -1;
	}
	for (i = 0; i < 3; i++)
		t->log_prior[i] = log((i + 1) / 6.0);
	for (i = 0; i < 15; i++)
	{
		int			j = i % 5;
		bool		grp = j >= 1 && j <= 3;

		t->theta[i] = grp ? 0.0 : 0.1 * i - 0.7;
		t->var[i] = grp ? 0.0 : 0.5 + 0.03125 * i;	/* as mm_nb_fit leaves it */
		t->log_prob[i] = grp ? log((j + 3 * (i / 5) + 1) / 20.0) : 0.0;
	}

	t->nb.algorithm = MM_ALG_NAIVE_BAYES;
	t->nb.task = MM_TASK_CLASSIFICATION;
	t->nb.target = name_animal;
	t->nb.nfeatures = 3;
	t->nb.features = t->nf;
	t->nb.ncols = 5;
	t->nb.scale = MM_SCALE_STANDARD;
	t->nb.center = t->nb_center;
	t->nb.scalev = t->nb_scalev;
	t->nb.label_type = MM_LABEL_TEXT;
	t->nb.nclasses = 3;
	t->nb.labels = t->text_labels;
	t->nb.var_smoothing = 1e-9;
	t->nb.nb_alpha = 1.0;
	t->nb.nb.K = 3;
	t->nb.nb.p = 5;
	t->nb.nb.log_prior = t->log_prior;
	t->nb.nb.theta = t->theta;
	t->nb.nb.var = t->var;
	t->nb.nb.log_prob = t->log_prob;
	t->nb.nb.group = t->group;
	t->nb.nb.epsilon = 2.5e-6;
}

static void
test_blob_v2(void)
{
	static TestModels t;
	uint8_t    *bin;
	uint8_t    *multi;
	uint8_t    *nb;
	size_t		nbin;
	size_t		nmulti;
	size_t		nnb;
	size_t		off;
	uint8_t		b4[4];
	uint8_t		b8[8];
	uint8_t		zero8[8] = {0};
	uint8_t		code;
	MmErr		err = {""};

	make_v2_models(&t);
	nbin = check_round_trip("logistic binary", &t.bin, &bin);
	nmulti = check_round_trip("logistic multinomial", &t.multi, &multi);
	nnb = check_round_trip("naive bayes", &t.nb, &nb);
	check_damage("logistic binary", bin, nbin);
	check_damage("logistic multinomial", multi, nmulti);
	check_damage("naive bayes", nb, nnb);

	/* levels and labels */
	off = find_str(nb, nnb, "rome");
	expect_patch("blob: unsorted levels are rejected", nb, nnb,
				 off == SIZE_MAX ? off : off + 2, "abcd", 4,
				 "feature 2: levels 2 and 3 are not in ascending byte order");
	/* "paris", "rome" becomes "oslo", "paris": the same 13 bytes */
	off = find_str(nb, nnb, "paris");
	expect_patch("blob: duplicate levels are rejected", nb, nnb,
				 off, "\4\0oslo\5\0paris", 13, "feature 2: levels 1 and 2 are equal");
	off = find_str(bin, nbin, "red");
	expect_patch("blob: a level below its predecessor in byte order is rejected", bin, nbin,
				 off == SIZE_MAX ? off : off + 2, "gre", 3,
				 "feature 2: levels 2 and 3 are not in ascending byte order");
	off = find_str(nb, nnb, "cow");
	expect_patch("blob: duplicate labels are rejected", nb, nnb,
				 off == SIZE_MAX ? off : off + 2, "cat", 3, "labels 1 and 2 are equal");
	off = find_str(nb, nnb, "dog");
	expect_patch("blob: unsorted text labels are rejected", nb, nnb,
				 off == SIZE_MAX ? off : off + 2, "ant", 3,
				 "labels 2 and 3 are not in ascending byte order");
	off = find_str(bin, nbin, "true");
	expect_patch("blob: bool labels other than false/true are rejected", bin, nbin,
				 off == SIZE_MAX ? off : off + 2, "True", 4,
				 "bool labels must be exactly \"false\" and \"true\"");
	off = find_str(multi, nmulti, "9");
	expect_patch("blob: int labels out of numeric order are rejected", multi, nmulti,
				 off == SIZE_MAX ? off : off + 2, "1", 1,
				 "labels 3 and 4 are not in ascending numeric order");
	off = find_str(multi, nmulti, "2");
	expect_patch("blob: equal int labels are rejected", multi, nmulti,
				 off == SIZE_MAX ? off : off + 2, "9", 1, "labels 3 and 4 are equal");
	off = find_str(multi, nmulti, "-3");
	expect_patch("blob: an int label with a leading zero is rejected", multi, nmulti,
				 off == SIZE_MAX ? off : off + 2, "03", 2,
				 "int label 2 is not a decimal int64 in canonical form");
	off = find_str(multi, nmulti, "9223372036854775807");
	expect_patch("blob: an int label past int64 is rejected", multi, nmulti,
				 off == SIZE_MAX ? off : off + 20, "8", 1,
				 "int label 5 is not a decimal int64 in canonical form");
	off = find_str(multi, nmulti, "-9223372036854775808");
	put32(b4, 1);
	expect_patch("blob: a class count of 1 is rejected", multi, nmulti,
				 off == SIZE_MAX ? off : off - 4, b4, 4, "class count 1 is out of range 2..10000");

	/* huge counts in a small blob are refused before anything is allocated */
	{
		uint8_t		wl[8];

		put32(wl, 10000);
		put32(wl + 4, 10000);
		off = find_str(bin, nbin, "color");
		expect_patch("blob: 10000 levels in a small blob are rejected before allocation",
					 bin, nbin, off == SIZE_MAX ? off : off + 2 + 5 + 1, wl, 8,
					 "blob truncated: 10000 levels of feature 2 need at least 30000 bytes");
		off = find_str(multi, nmulti, "-9223372036854775808");
		expect_patch("blob: 10000 labels in a small blob are rejected before allocation",
					 multi, nmulti, off == SIZE_MAX ? off : off - 4, wl, 4,
					 "blob truncated: 10000 labels need at least 30000 bytes");
	}

	/* logistic parameters */
	off = find_f64(bin, nbin, 0.625);
	put32(b4, 2);
	expect_patch("blob: a weight vector count that does not match is rejected", bin, nbin,
				 off == SIZE_MAX ? off : off + 8, b4, 4,
				 "weight vector count 2 does not match 1 for 2 classes");
	code = 1;
	expect_patch("blob: penalty 1 is rejected", bin, nbin,
				 off == SIZE_MAX ? off : off - 1, &code, 1,
				 "penalty must be 0 (none) or 2 (l2), not 1");
	expect_patch("blob: C = 0 is rejected", bin, nbin, off, zero8, 8,
				 "C 0 is not finite and positive");
	put64f(b8, NAN);
	expect_patch("blob: a NaN logistic coefficient is rejected", multi, nmulti,
				 find_f64(multi, nmulti, t.coefs_multi[9]), b8, 8,
				 "coefficient (set 2, column 3) is not finite");
	expect_patch("blob: a NaN logistic intercept is rejected", multi, nmulti,
				 find_f64(multi, nmulti, t.icpt_multi[3]), b8, 8,
				 "intercept 4 is not finite");

	/* imputation, scaling */
	off = find_str(nb, nnb, "age");
	code = 9;
	expect_patch("blob: impute code 9 is rejected", nb, nnb,
				 off == SIZE_MAX ? off : off + 2 + 3 + 5, &code, 1,
				 "feature 1: unknown impute code 9");
	expect_patch("blob: a NaN fill value is rejected", nb, nnb,
				 find_f64(nb, nnb, 41.0), b8, 8, "feature 1 fill value 1 is not finite");
	off = find_f64(nb, nnb, 40.0);
	code = 5;
	expect_patch("blob: scale code 5 is rejected", nb, nnb,
				 off == SIZE_MAX ? off : off - 1, &code, 1, "unknown scale code 5");
	expect_patch("blob: a scale value of 0 is rejected", nb, nnb,
				 find_f64(nb, nnb, 12.5), zero8, 8,
				 "scale value 1 is 0, must be finite and positive");
	expect_patch("blob: a NaN centre is rejected", nb, nnb,
				 find_f64(nb, nnb, 50000.0), b8, 8, "center 5 is not finite");
	off = find_str(bin, nbin, "color");
	put32(b4, 3);
	expect_patch("blob: a level count that does not match the width is rejected", bin, nbin,
				 off == SIZE_MAX ? off : off + 2 + 5 + 5, b4, 4,
				 "feature 2: level count 3 does not match width 4");

	/* naive Bayes statistics and groups */
	expect_patch("blob: a variance of 0 is rejected", nb, nnb,
				 find_f64(nb, nnb, t.var[9]), zero8, 8,
				 "variance (class 2, column 5) is 0, must be finite and positive");
	{
		size_t		first = find_f64(nb, nnb, t.theta[0]);	/* theta starts the matrices */
		uint8_t		m1[8];

		put64f(m1, -1.0);
		expect_patch("blob: a negative variance in a group column is rejected", nb, nnb,
					 first == SIZE_MAX ? first : first + 8 * (15 + 6), m1, 8,
					 "variance (class 2, column 2) is -1, must be finite and non-negative");
	}
	put64f(b8, 0.5);
	expect_patch("blob: a positive log probability is rejected", nb, nnb,
				 find_f64(nb, nnb, t.log_prob[7]), b8, 8,
				 "log probability (class 2, column 3) is 0.5, must be finite and at most 0");
	put64f(b8, -1.0);
	expect_patch("blob: a negative epsilon is rejected", nb, nnb,
				 find_f64(nb, nnb, 2.5e-6), b8, 8, "epsilon -1 is not finite and non-negative");
	put32(b4, 0xFFFFFFFFU);
	expect_patch("blob: a group that is not contiguous is rejected", nb, nnb,
				 nnb - 4 * 3, b4, 4, "group 0 is not contiguous: it resumes at column 4");
	put32(b4, 0);
	expect_patch("blob: a group that spills past its categorical feature is rejected", nb, nnb,
				 nnb - 4, b4, 4, "feature 2: its columns 2..4 must form exactly one group");
	put32(b4, 1);
	expect_patch("blob: groups not numbered from 0 are rejected", nb, nnb,
				 nnb - 4 * 4, b4, 4, "column 2 has group 1, expected -1 or 0");
	{
		uint8_t		g3[12];

		put32(g3, 0xFFFFFFFFU);
		put32(g3 + 4, 0xFFFFFFFFU);
		put32(g3 + 8, 0xFFFFFFFFU);
		expect_patch("blob: a categorical feature without a group is rejected", nb, nnb,
					 nnb - 4 * 4, g3, 12, "feature 2: its columns 2..4 must form exactly one group");
	}

	/* the writer refuses the same */
	{
		MmModel		w = t.nb;

		t.var[4] = 0.0;
		check(mm_blob_write(&w, nb, nnb, &err) == MM_EINVAL &&
			  strstr(err.msg, "variance (class 1, column 5) is 0, must be finite and positive") != NULL,
			  "blob: writer rejects a zero variance in a numeric column", "%s", err.msg);
		t.var[4] = 0.5 + 0.03125 * 4;
		t.city_levels[0] = lv_rome;
		check(mm_blob_write(&w, nb, nnb, &err) == MM_EINVAL &&
			  strstr(err.msg, "levels 1 and 2 are not in ascending") != NULL,
			  "blob: writer rejects unsorted levels", "%s", err.msg);
		t.city_levels[0] = lv_oslo;
		w.nb.K = 2;
		check(mm_blob_write(&w, nb, nnb, &err) == MM_EINVAL,
			  "blob: writer rejects naive bayes dimensions that do not match", "accepted");
		w = t.multi;
		w.nsets = 4;
		check(mm_blob_write(&w, multi, nmulti, &err) == MM_EINVAL &&
			  strstr(err.msg, "weight vector count 4 does not match 5") != NULL,
			  "blob: writer rejects a wrong weight vector count", "%s", err.msg);
		w = t.multi;
		w.label_type = MM_LABEL_NONE;
		check(mm_blob_write(&w, multi, nmulti, &err) == MM_EINVAL &&
			  strstr(err.msg, "needs labels") != NULL,
			  "blob: writer rejects a classifier without labels", "%s", err.msg);
		w = t.multi;
		w.labels = t.bool_labels;
		w.nclasses = 2;
		w.nsets = 1;
		check(mm_blob_write(&w, multi, nmulti, &err) == MM_EINVAL &&
			  strstr(err.msg, "int label 1 is not") != NULL,
			  "blob: writer rejects int labels that are not integers", "%s", err.msg);
		w = t.nb;
		{
			char		emptylabel[] = "";
			char	   *labels[3] = {lb_cat, emptylabel, lb_dog};

			w.labels = labels;
			check(mm_blob_write(&w, nb, nnb, &err) == MM_EINVAL &&
				  strstr(err.msg, "label 2 must be 1..1000 bytes") != NULL,
				  "blob: writer rejects an empty label", "%s", err.msg);
		}
		check(mm_blob_size(&t.nb) == nnb && mm_blob_write(&t.nb, nb, nnb, &err) == MM_OK,
			  "blob: the restored model is written again", "%s", err.msg);
	}

	free(bin);
	free(multi);
	free(nb);
	track_reset(&tracker);
}

/* mm_feature_level: every level found at its index, nothing else. */
static void
test_feature_level(void)
{
	static char store[200][8];
	char	   *levels[200];
	MmFeature	f;
	int			i;
	int			bad = -1;
	char		probe[16];

	/* "k000", "k000z", "k001", "k001z", ...: ascending by strcmp */
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 200; i++)
	{
		snprintf(store[i], sizeof(store[i]), "k%03d%s", i / 2, i % 2 ? "z" : "");
		levels[i] = store[i];
	}
	f.kind = MM_FEAT_CATEGORICAL;
	f.width = f.nlevels = 200;
	f.levels = levels;
	for (i = 0; i < 200 && bad < 0; i++)
	{
		memcpy(probe, levels[i], strlen(levels[i]));
		probe[strlen(levels[i])] = '!';		/* not NUL-terminated */
		if (mm_feature_level(&f, probe, strlen(levels[i])) != i)
			bad = i;
	}
	check(bad < 0, "level: every one of 200 levels is found at its index", "level %d", bad);
	check(mm_feature_level(&f, "k00", 3) == -1 && mm_feature_level(&f, "k000z", 4) == 0 &&
		  mm_feature_level(&f, "k000zz", 6) == -1 && mm_feature_level(&f, "", 0) == -1 &&
		  mm_feature_level(&f, "k0", 2) == -1 && mm_feature_level(&f, "k100", 4) == -1 &&
		  mm_feature_level(&f, "a", 1) == -1 && mm_feature_level(&f, "z", 1) == -1 &&
		  mm_feature_level(&f, "k001\0", 5) == -1,
		  "level: prefixes, extensions and absent values are -1", "found");

	{
		TestModels *t = malloc(sizeof(TestModels));
		const MmFeature *c;

		make_v2_models(t);
		c = &t->lf[1];
		check(mm_feature_level(c, "blue", 4) == 0 && mm_feature_level(c, "green", 5) == 1 &&
			  mm_feature_level(c, "red", 3) == 2 &&
			  mm_feature_level(c, "\xc3\xa9t\xc3\xa9", 5) == 3 &&
			  mm_feature_level(c, "\xc3\xa9t", 3) == -1 &&
			  mm_feature_level(c, "gree", 4) == -1 && mm_feature_level(c, "Red", 3) == -1 &&
			  mm_feature_level(&t->lf[0], "x", 1) == -1 && mm_feature_level(NULL, "x", 1) == -1,
			  "level: byte order with bytes above 0x7f; non-categorical features have none",
			  "wrong");
		free(t);
	}
}

static void
test_util(void)
{
	size_t		out = 7;
	MmErr		err;
	char		longmsg[400];
	uint8_t    *z;

	check(mm_mul_size(3, 5, &out) && out == 15 && !mm_mul_size(SIZE_MAX / 2 + 1, 2, &out),
		  "util: mm_mul_size detects overflow", "out %zu", out);
	check(mm_add_size(3, 5, &out) && out == 8 && !mm_add_size(SIZE_MAX, 1, &out),
		  "util: mm_add_size detects overflow", "out %zu", out);
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	mm_err_set(&err, "%s", longmsg);
	mm_err_set(NULL, "ignored %d", 1);
	check(strlen(err.msg) == MM_ERR_LEN - 1, "util: mm_err_set truncates and terminates",
		  "length %zu", strlen(err.msg));
	z = mm_alloc0(&talloc, 100);
	check(z[0] == 0 && z[99] == 0, "util: mm_alloc0 zeroes", "not zero");
	track_reset(&tracker);
}

/* ---------------------------------------------------------------------
 * Blob format version 3: kmeans, pca, mlp
 * --------------------------------------------------------------------- */

/* mm_blob_write refuses m with a message containing want. */
static void
expect_write_refused(const char *name, const MmModel *m, const char *want)
{
	uint8_t		buf[4096];
	MmErr		err = {""};
	MmStatus	st = mm_blob_write(m, buf, sizeof(buf), &err);

	check(st != MM_OK && strstr(err.msg, want) != NULL && mm_blob_size(m) == 0, name,
		  "status %d, message \"%s\", wanted \"%s\"", st, err.msg, want);
}

static void
test_blob_v3(void)
{
	MmFeature	f[2];
	MmModel		km;
	MmModel		pc;
	MmModel		nn;
	MmModel		bad;
	double		center[3] = {1.0, -2.0, 0.5};
	double		scalev[3] = {2.0, 1.0, 0.25};
	double		centers[2 * 3] = {0.1, 0.2, 0.3, -1.5, 2.5, 1e-300};
	double		pmean[3] = {3.0, -1.0, 0.0};
	double		comps[2 * 3] = {0.6, 0.8, 0.0, 0.0, 0.0, 1.0};
	double		evar[2] = {4.0, 0.5};
	double		zero_var[2] = {4.0, 0.0};
	double		w0[4 * 3];
	double		b0[4];
	double		w1[3 * 4];
	double		b1[3];
	double	   *W[2] = {w0, w1};
	double	   *B[2] = {b0, b1};
	char	   *labels[3] = {lb_cat, lb_cow, lb_dog};
	uint8_t    *kb;
	uint8_t    *pb;
	uint8_t    *nb;
	size_t		nk;
	size_t		np;
	size_t		nn_size;
	uint8_t		tmp[4096];
	int			i;

	memset(f, 0, sizeof(f));
	f[0].name = name_x1;
	f[0].kind = MM_FEAT_NUMERIC;
	f[0].width = 1;
	f[1].name = name_v;
	f[1].kind = MM_FEAT_ARRAY;
	f[1].width = 2;
	for (i = 0; i < 12; i++)
	{
		w0[i] = (i - 6) / 7.0;
		w1[i] = (i * 3 % 5) / 9.0 - 0.2;
	}
	for (i = 0; i < 4; i++)
		b0[i] = i * 0.125;
	for (i = 0; i < 3; i++)
		b1[i] = -i * 0.5;

	memset(&km, 0, sizeof(km));
	km.algorithm = MM_ALG_KMEANS;
	km.task = MM_TASK_CLUSTERING;
	km.nfeatures = 2;
	km.features = f;
	km.ncols = 3;
	km.scale = MM_SCALE_STANDARD;
	km.center = center;
	km.scalev = scalev;
	km.k = 2;
	km.centers = centers;
	km.inertia = 12.75;

	memset(&pc, 0, sizeof(pc));
	pc.algorithm = MM_ALG_PCA;
	pc.task = MM_TASK_DECOMPOSITION;
	pc.nfeatures = 2;
	pc.features = f;
	pc.ncols = 3;
	pc.n_components = 2;
	pc.whiten = true;
	pc.pca_mean = pmean;
	pc.components = comps;
	pc.explained_variance = evar;

	memset(&nn, 0, sizeof(nn));
	nn.algorithm = MM_ALG_MLP;
	nn.task = MM_TASK_CLASSIFICATION;
	nn.target = name_label;
	nn.nfeatures = 2;
	nn.features = f;
	nn.ncols = 3;
	nn.label_type = MM_LABEL_TEXT;
	nn.nclasses = 3;
	nn.labels = labels;
	nn.mlp.nlayers = 2;
	nn.mlp.size[0] = 3;
	nn.mlp.size[1] = 4;
	nn.mlp.size[2] = 3;
	nn.mlp.activation = 1;
	nn.mlp.classification = true;
	nn.mlp.W = W;
	nn.mlp.b = B;

	nk = check_round_trip("kmeans", &km, &kb);
	np = check_round_trip("pca", &pc, &pb);
	nn_size = check_round_trip("mlp classifier", &nn, &nb);
	check_damage("kmeans", kb, nk);
	check_damage("pca", pb, np);
	check_damage("mlp classifier", nb, nn_size);

	/* the version must be the one that holds the algorithm */
	memcpy(tmp, kb, nk);
	tmp[4] = 2;
	expect_corrupt("blob: kmeans in a version 2 blob is rejected", tmp, nk,
				   "algorithm kmeans is written in blob format version 3, not 2");
	memcpy(tmp, nb, nn_size);
	tmp[6] = MM_ALG_LOGISTIC_REGRESSION;
	expect_corrupt("blob: logistic_regression in a version 3 blob is rejected", tmp, nn_size,
				   "algorithm logistic_regression is written in blob format version 2, not 3");

	/* sections: each bound checked after a fresh CRC */
	expect_patch("blob: zero clusters are rejected", kb, nk, nk - 8 * 6 - 12,
				 "\0\0\0\0", 4, "cluster count 0 is out of range 1..10000");
	expect_patch("blob: a negative inertia is rejected", kb, nk, nk - 8 * 6 - 8,
				 "\0\0\0\0\0\0\xf0\xbf", 8, "inertia 1 is -1, must be finite and at least 0");
	expect_patch("blob: a NaN centre is rejected", kb, nk, nk - 8,
				 "\0\0\0\0\0\0\xf8\x7f", 8, "centre value (cluster 2, column 3) is not finite");
	expect_patch("blob: more components than columns are rejected", pb, np,
				 np - 8 * (3 + 6 + 2) - 5, "\4\0\0\0", 4, "component count 4 is out of range 1..3");
	expect_patch("blob: a whiten flag of 2 is rejected", pb, np, np - 8 * (3 + 6 + 2) - 1,
				 "\2", 1, "whiten must be 0 or 1, not 2");
	expect_patch("blob: a zero variance with whiten is rejected", pb, np, np - 8,
				 "\0\0\0\0\0\0\0\0", 8,
				 "explained variance 2 is 0, must be finite and positive");
	expect_patch("blob: a target on a clustering model is rejected", kb, nk, 25,
				 "\1", 1, "a clustering model has no target, but the target name length is 1");
	{
		/* activation, layer count, sizes: after the labels, 8 * 31 bytes of weights */
		size_t		sec = nn_size - 8 * (12 + 4 + 12 + 3) - 4 * 3 - 5;

		expect_patch("blob: an unknown activation is rejected", nb, nn_size, sec,
					 "\3", 1, "unknown activation 3");
		expect_patch("blob: zero weight layers are rejected", nb, nn_size, sec + 1,
					 "\0\0\0\0", 4, "layer count 0 is out of range 1..17");
		expect_patch("blob: a network input that is not ncols is rejected", nb, nn_size,
					 sec + 5, "\2\0\0\0", 4,
					 "network of 2 inputs and 3 outputs does not match 3 columns and 3 outputs");
		expect_patch("blob: a network output that is not the class count is rejected", nb,
					 nn_size, sec + 13, "\2\0\0\0", 4,
					 "network of 3 inputs and 2 outputs does not match 3 columns and 3 outputs");
		expect_patch("blob: an infinite weight is rejected", nb, nn_size, sec + 17,
					 "\0\0\0\0\0\0\xf0\x7f", 8,
					 "layer 1 weight (unit 1, column 1) is not finite");
	}

	/* the writer demands the same */
	bad = km;
	bad.target = name_label;
	expect_write_refused("blob: the writer refuses a target on a clustering model", &bad,
						 "a clustering model has no target");
	bad = pc;
	bad.explained_variance = zero_var;
	expect_write_refused("blob: the writer refuses a zero variance with whiten", &bad,
						 "explained variance 2 is 0");
	bad.whiten = false;
	check(mm_blob_size(&bad) > 0, "blob: a zero variance without whiten is accepted", "refused");
	bad = nn;
	bad.task = MM_TASK_REGRESSION;
	bad.label_type = MM_LABEL_NONE;
	expect_write_refused("blob: the writer refuses a softmax network for regression", &bad,
						 "network output does not match the task regression");
	bad.mlp.classification = false;
	expect_write_refused("blob: the writer refuses 3 outputs for regression", &bad,
						 "does not match 3 columns and 1 outputs");
	bad = km;
	bad.task = MM_TASK_REGRESSION;
	expect_write_refused("blob: the writer refuses kmeans for regression", &bad,
						 "algorithm kmeans needs task clustering, not regression");
	bad = nn;
	bad.task = MM_TASK_CLUSTERING;
	expect_write_refused("blob: the writer refuses mlp for clustering", &bad,
						 "algorithm mlp needs task regression or classification, not clustering");
	free(kb);
	free(pb);
	free(nb);

	/* lasso and elastic_net: the linear section and l1_ratio */
	{
		MmModel		en;
		MmFeature	ef[3];
		double		ecoef[5];
		uint8_t    *eb;
		size_t		ne;
		uint8_t		half[8];
		double		v = 1.5;

		make_model(&en, ef, ecoef);
		en.algorithm = MM_ALG_ELASTIC_NET;
		en.l1_ratio = 0.25;
		ne = check_round_trip("elastic_net", &en, &eb);
		check_damage("elastic_net", eb, ne);
		memcpy(half, &v, 8);	/* little-endian hosts only, as the CI */
		expect_patch("blob: an l1_ratio above 1 is rejected", eb, ne, ne - 8, half, 8,
					 "l1_ratio 1.5 is out of range 0..1");
		free(eb);
		en.algorithm = MM_ALG_LASSO;
		expect_write_refused("blob: the writer refuses a lasso with l1_ratio 0.25", &en,
							 "a lasso model's l1_ratio must be 1, not 0.25");
		en.l1_ratio = 1.0;
		ne = check_round_trip("lasso", &en, &eb);
		free(eb);
	}
}

int
main(void)
{
	test_util();
	test_crc();
	test_split();
	test_moments();
	test_moments_kernels();
	test_syrk_add();
	test_longley();
	test_exact();
	test_ridge();
	test_rank_deficient();
	test_rank_deficient_inexact();
	test_no_intercept();
	test_linear_invalid();
	test_metrics();
	test_predict_rows();
	test_names();
	test_blob();
	test_blob_v2();
	test_blob_v3();
	test_feature_level();
	track_destroy(&tracker);
	printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed > 0 ? 1 : 0;
}
