/*
 * mm_kmeans.c
 *	  k-means (Lloyd's algorithm, k-means++ or random seeds) and the mean
 *	  silhouette coefficient.
 *
 * Centring.  Distances are translation invariant, so the centres are kept
 * centred on the column means mu (scikit-learn centres the data) until
 * they are returned, and the cluster sums are sums of centred rows, x - mu
 * formed on the fly: the rows themselves are never copied.  This keeps
 * the digits of data far from the origin, where the expansion
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2 on raw values would cancel.
 *
 * Distances.  The rows are processed in blocks of nb rows (nb chosen so
 * that the scratch memory is O(nb * (k + p)), never O(n * k)): one dgemm
 * of the raw rows against the centred centres c gives -2 x.c, and as
 * (x - mu).c = x.c - mu.c, the nearest centre of a row is the lowest index
 * minimising |c|^2 + 2 mu.c - 2 x.c, which is |x - mu - c|^2 less the
 * row's own |x - mu|^2.  The rounding error of x.c is of order
 * eps |x| |c| rather than eps |x - mu| |c|: for data at distance R from
 * the origin, comparisons lose about R / (spread of the data) ulps, of
 * the order of the rounding of the data themselves, which only matters
 * between rows and centres at equal distances to that precision (tests
 * check that iris + 1e6 and iris + 1e8 give iris's partition, inertia and
 * centres).  The loss reported by a Lloyd pass is the sum of |x - mu|^2
 * (once, from the column variances) plus those minima.  The squared
 * distances that are results, the farthest rows for empty clusters and the
 * final inertia, are direct sums of squared centred differences, exact to
 * rounding and never negative.  k-means++ scores its candidates by the
 * expansion, with the direct |x - mu|^2 (computed once per fit, n
 * doubles), clipped at 0, and keeps each row's values (trials * n
 * doubles): the D^2 a row takes from the candidate chosen is that value
 * where a bound on its rounding error shows it is 2^-26-precise and on
 * the same side of the row's D^2 so far, else the direct sum, so a row at
 * D^2 0 (a copy of a centre) has exactly 0 and near-ties are settled
 * exactly; that saves a pass over the rows per centre.
 *
 * Seeds, one run.  k-means++ is scikit-learn's greedy variant: the first
 * centre is a uniformly chosen row; every further centre is the best of
 * 2 + floor(log k) candidates drawn with probability proportional to D^2
 * (the squared distance to the nearest centre chosen so far), the one
 * that leaves the smallest potential sum D^2.  A candidate is drawn as the
 * first row whose running sum of D^2 exceeds u * potential (u uniform in
 * [0, 1)), so a row with D^2 = 0 is never drawn unless every row has
 * D^2 = 0 (fewer distinct rows than k), when the last row is taken: the
 * centres may then coincide, which is allowed.  init = 1 takes k distinct
 * rows by a partial Fisher-Yates shuffle.
 *
 * Lloyd iterations.  Each pass assigns every row to its nearest centre
 * and accumulates the per-cluster sums in the same sweep of the block
 * (while the next block is prefetched); the new centres are the means.  A
 * cluster left empty is re-seeded with the row farthest from its centre
 * (largest D^2, computed for that purpose, lowest index on ties) among
 * rows whose cluster keeps at least one other row; that row's
 * contribution moves to the empty cluster, so no cluster is ever empty
 * after the update.  The run stops when no label changed (strict
 * convergence), when the total squared shift of the centres is at most
 * tol * (mean of the population column variances) (scikit-learn's
 * tolerance), or after max_iter passes; then the rows are assigned once
 * more to the final centres and the inertia is the sum of their squared
 * distances.
 *
 * Parts.  Every pass over the rows (|x - mu|^2 once, k-means++'s D^2 and
 * candidate scores, Lloyd's assignments, the final inertia) runs over at
 * most MM_KM_PARTS parts, runs of whole blocks fixed by n, p and params
 * (fewer when their cluster sums would pass MM_KM_PART_DOUBLES).  A part
 * writes only its own rows' entries and its own result slot (its sums of
 * D^2, of the candidates' potentials, its cluster sums and counts), and
 * the slots are added in part order; k-means++'s draws walk the parts'
 * sums in that order, then the rows of the part the draw falls in.  So
 * the parts can be done by any process in any order (mm_kmeans_fit_par,
 * the arrays in one shared block) and give the same bits.
 *
 * Kernel.  For at most MM_KM_KERNEL_M centres on a CPU with AVX2 and FMA,
 * the block's -2 x.c comes from mm_km_block_avx2 instead of dgemm.
 *
 * Restarts.  The generator seeded from params->seed yields one 64-bit
 * seed per run, and each run has its own generator seeded from it; the
 * run with the strictly lowest inertia is kept (the first on ties).
 *
 * Silhouette.  The rows are centred into a copy; the n x n distances are
 * formed tile by tile (dgemm of two row blocks, then sqrt of the clipped
 * expansion, 0 on the diagonal) and summed per row and cluster.  When the
 * sums of every row fit in MM_SIL_SYM_DOUBLES (n * k), only the tiles on
 * and above the diagonal are formed, each distance counted for both of
 * its rows (half the work); else each row tile's sums are finished before
 * the next, so memory is O(n p + tile * (tile + k)).  For a row of cluster A with |A| > 1,
 * a = mean distance to the other rows of A, b = the smallest mean
 * distance to the rows of another occupied cluster, s = (b - a) /
 * max(a, b) (0 when both are 0); s = 0 for a row alone in its cluster
 * (scikit-learn's convention).  The score is the mean of s.
 *
 * The progress callback is called once per Lloyd pass and per k-means++
 * centre, with the pass number of the current run and the current
 * inertia, and every MM_PROGRESS_BLOCKS blocks a process does within a
 * pass, with a NaN inertia (no new value).  All scratch
 * memory comes from the caller's MmAlloc (or, shared, the caller's
 * block).  Deterministic for a given BLAS and kernel.
 */
#include "mm_core.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MM_KM_AVX2 1
#include <immintrin.h>
#endif

/*
 * Which kernel forms a block's -2 x.c for at most MM_KM_KERNEL_M centres:
 * -1 not chosen yet, 0 BLAS dgemm, 1 the AVX2/FMA kernel.  Chosen once
 * from the CPU; a unit test may set it to compare the two.
 */
int			mm_kmeans_avx2 = -1;

#define MM_BLOCK_DOUBLES	262144	/* bound on rows per block * max(k, p) */
#define MM_BLOCK_ROWS		1024
#define MM_PROGRESS_BLOCKS	256
#define MM_SIL_TILE			256
#define MM_SIL_SYM_DOUBLES	(4 * 1024 * 1024)	/* silhouette sums of all rows at most */
#define MM_MAX_TRIALS		64
#define MM_KM_PRECISE		(1.0 / 67108864.0)	/* 2^-26: k-means++ D^2 by expansion */
#define MM_KM_PARTS			32	/* parts of the rows, at most */
#define MM_KM_PART_DOUBLES	(4 * 1024 * 1024)	/* the parts' cluster sums at most */
#define MM_KM_MAGIC			UINT64_C(0x4D4D4B4D45414E53)
#define MM_KM_ALIGN			64
#define MM_KM_KERNEL_M		8	/* centres at most for the AVX2 kernel */

/* What a pass does on each part of the rows (MmKmShm.op). */
#define MM_KM_OP_XX			1	/* xx = |x - mu|^2 */
#define MM_KM_OP_CLOSEST	2	/* dist = |x - mu - C[cidx]|^2; the sum */
#define MM_KM_OP_CANDS		3	/* the m candidates' potentials and cval */
#define MM_KM_OP_CHOSEN		4	/* dist = min(dist, D^2 to C[cidx]); the sum */
#define MM_KM_OP_ASSIGN		5	/* labels, cluster sums and counts */
#define MM_KM_OP_INERTIA	6	/* labels and the exact inertia */

/*
 * The part of a fit that every process of a parallel fit sees: this
 * header, then the arrays at its offsets (0: none; off_X 0: the caller's
 * rows, only where nothing is shared), each MM_KM_ALIGN-aligned, in one
 * block of size bytes.  The leader writes the pass (op and its arguments)
 * before the parts run.
 */
typedef struct MmKmShm
{
	uint64_t	magic;
	size_t		size;
	int64_t		n;
	int64_t		part_rows;		/* rows of each part but the last */
	int			p;
	int			k;
	int			bs;				/* rows per block; part_rows is a multiple */
	int			nparts;
	int			ntr;			/* k-means++ candidates per centre */
	int			op;
	int			m;				/* centres in Ct and bias */
	int			cidx;			/* the row of C of CLOSEST and CHOSEN */
	int			best;			/* CHOSEN: the candidate chosen */
	double		mx,
				mc,
				mv;				/* CHOSEN: mm_km_chosen_part's bound */
	size_t		off_X,
				off_mu,
				off_C,
				off_Ct,
				off_bias,
				off_cand,
				off_xx,
				off_cval,
				off_dist,
				off_labels,
				off_psum,
				off_pcount,
				off_pval,
				off_pchanged;
} MmKmShm;

/* A process's view of one fit: the shared arrays and its own scratch. */
struct MmKm
{
	MmKmShm    *sh;
	int64_t		n;
	int			p;
	int			k;
	int			bs;				/* rows per block */
	int			nparts;
	int64_t		part_rows;
	const double *X;
	double	   *mu;				/* p: column means */
	double	   *C;				/* k*p: the centres (centred) */
	double	   *Ct;				/* p*max(k, MM_MAX_TRIALS): C transposed */
	double	   *bias;			/* max(k, MM_MAX_TRIALS): |c|^2 + 2 mu.c */
	int			kernel;			/* 1: mm_km_block_avx2 for m <= MM_KM_KERNEL_M */
	double	   *cand;			/* MM_MAX_TRIALS*p: k-means++ candidates */
	double	   *xx;				/* n: |x - mu|^2 of every row (k-means++) */
	double	   *cval;			/* trials*n: D^2 if each candidate is chosen */
	double	   *dist;			/* n: k-means++'s D^2, relocation's distances */
	int32_t    *labels;			/* n */
	double	   *psum;			/* nparts*k*p: each part's cluster sums */
	int64_t    *pcount;			/* nparts*k: its cluster counts */
	double	   *pval;			/* nparts*MM_MAX_TRIALS: its sums of a pass */
	int64_t    *pchanged;		/* nparts: its labels changed */
	/* this process's own */
	double	   *D;				/* bs*max(k, MM_MAX_TRIALS): -2 x.c */
	double	   *bd;				/* bs: squared distances of a block's rows */
	double	   *row;			/* p: one centred row */
	double	   *zero;			/* p zeros */
	const MmProgress *progress;
	int64_t		blocks;
	/* the leader's */
	const MmKMeansPar *par;
	double		totss;			/* sum over the rows of |x - mu|^2 */
	double		munorm;			/* |mu| */
	int			iteration;
	double		last_loss;
};

/* Call the progress callback. */
static inline void
mm_km_tick(MmKm *km)
{
	if (km->progress != NULL && km->progress->fn != NULL)
		km->progress->fn(km->progress->arg, km->iteration, km->last_loss);
}

/*
 * Count one block and call the callback every MM_PROGRESS_BLOCKS, with a
 * NaN loss: within a pass there is no new value, and which pass a process
 * is in when its count comes round depends on the parts it took.
 */
static inline void
mm_km_block_done(MmKm *km)
{
	if (++km->blocks % MM_PROGRESS_BLOCKS == 0 &&
		km->progress != NULL && km->progress->fn != NULL)
		km->progress->fn(km->progress->arg, km->iteration, NAN);
}

/* Rows in the block starting at i0. */
static inline int
mm_km_nb(const MmKm *km, int64_t i0)
{
	return (int) (km->n - i0 < km->bs ? km->n - i0 : km->bs);
}

/* Row i of X, centred, into out. */
static inline void
mm_km_row(const MmKm *km, int64_t i, double *out)
{
	const double *x = km->X + (size_t) i * km->p;
	int			j;

	for (j = 0; j < km->p; j++)
		out[j] = x[j] - km->mu[j];
}

/* Squared distance of two vectors of p values, directly. */
static inline double
mm_dist2(int p, const double *x, const double *y)
{
	double		s = 0.0;
	int			j;

	for (j = 0; j < p; j++)
	{
		double		d = x[j] - y[j];

		s += d * d;
	}
	return s;
}

/*
 * The row stride of Ct for m centres: m for BLAS; for the AVX2 kernel
 * (m <= MM_KM_KERNEL_M) m rounded up to whole vectors of 4, the extra
 * columns zero.
 */
static inline int
mm_km_ldc(const MmKm *km, int m)
{
	return km->kernel && m <= MM_KM_KERNEL_M ? (m + 3) & ~3 : m;
}

/*
 * For the m (centred) rows of C: bias[c] = |C_c|^2 + 2 mu.C_c, and C's
 * transpose in km->Ct (p rows of mm_km_ldc) for mm_km_block_gemm.
 */
static void
mm_km_prepare(MmKm *km, int m, const double *C, double *bias)
{
	int			c,
				j;

	int			ld = mm_km_ldc(km, m);

	km->sh->m = m;
	for (c = 0; c < m; c++)
	{
		const double *r = C + (size_t) c * km->p;
		double		s = 0.0,
					t = 0.0;

		for (j = 0; j < km->p; j++)
		{
			s += r[j] * r[j];
			t += km->mu[j] * r[j];
			km->Ct[(size_t) j * ld + c] = r[j];
		}
		bias[c] = s + 2.0 * t;
	}
	for (c = m; c < ld; c++)
		for (j = 0; j < km->p; j++)
			km->Ct[(size_t) j * ld + c] = 0.0;
}

#ifdef MM_KM_AVX2
/*
 * D (nb x m, row-major) = -2 X Ct for the nb rows of X (p values each)
 * and m <= MM_KM_KERNEL_M centres, Ct p rows of (m + 3) & ~3 values: per
 * row one or two vectors of 4 sums, one fused multiply-add per value and
 * vector in column order; two rows at a time, for independent chains.
 * For so few centres OpenBLAS's dgemm spends most of its time packing the
 * rows and scaling D (on CPUs without its small-matrix kernels), and the
 * pass over the rows is then bound by the memory.  The factor -2 is
 * exact.
 */
__attribute__((target("avx2,fma")))
static void
mm_km_block_avx2(int p, int m, const double *Ct, const double *X, int nb, double *D)
{
	int			ld = (m + 3) & ~3;
	__m256d		m2 = _mm256_set1_pd(-2.0);
	double		out[2 * MM_KM_KERNEL_M];
	int			i = 0,
				j;

	for (; i + 2 <= nb; i += 2)
	{
		const double *x0 = X + (size_t) i * p,
				   *x1 = x0 + p;
		__m256d		a0 = _mm256_setzero_pd(),
					a1 = _mm256_setzero_pd(),
					b0 = _mm256_setzero_pd(),
					b1 = _mm256_setzero_pd();

		if (ld == 4)
			for (j = 0; j < p; j++)
			{
				__m256d		c0 = _mm256_loadu_pd(Ct + (size_t) j * 4);

				a0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x0 + j), c0, a0);
				b0 = _mm256_fmadd_pd(_mm256_broadcast_sd(x1 + j), c0, b0);
			}
		else
			for (j = 0; j < p; j++)
			{
				__m256d		c0 = _mm256_loadu_pd(Ct + (size_t) j * 8),
							c1 = _mm256_loadu_pd(Ct + (size_t) j * 8 + 4),
							v0 = _mm256_broadcast_sd(x0 + j),
							v1 = _mm256_broadcast_sd(x1 + j);

				a0 = _mm256_fmadd_pd(v0, c0, a0);
				a1 = _mm256_fmadd_pd(v0, c1, a1);
				b0 = _mm256_fmadd_pd(v1, c0, b0);
				b1 = _mm256_fmadd_pd(v1, c1, b1);
			}
		_mm256_storeu_pd(out, _mm256_mul_pd(a0, m2));
		_mm256_storeu_pd(out + 4, _mm256_mul_pd(a1, m2));
		_mm256_storeu_pd(out + MM_KM_KERNEL_M, _mm256_mul_pd(b0, m2));
		_mm256_storeu_pd(out + MM_KM_KERNEL_M + 4, _mm256_mul_pd(b1, m2));
		memcpy(D + (size_t) i * m, out, sizeof(double) * m);
		memcpy(D + (size_t) (i + 1) * m, out + MM_KM_KERNEL_M, sizeof(double) * m);
	}
	for (; i < nb; i++)
	{
		const double *x0 = X + (size_t) i * p;
		__m256d		a0 = _mm256_setzero_pd(),
					a1 = _mm256_setzero_pd();

		for (j = 0; j < p; j++)
		{
			__m256d		v0 = _mm256_broadcast_sd(x0 + j);

			a0 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(Ct + (size_t) j * ld), a0);
			if (ld == 8)
				a1 = _mm256_fmadd_pd(v0, _mm256_loadu_pd(Ct + (size_t) j * 8 + 4), a1);
		}
		_mm256_storeu_pd(out, _mm256_mul_pd(a0, m2));
		_mm256_storeu_pd(out + 4, _mm256_mul_pd(a1, m2));
		memcpy(D + (size_t) i * m, out, sizeof(double) * m);
	}
}
#endif

/*
 * km->D = -2 X_b C^T (nb x m, row-major): the nb rows of X from i0, as
 * they are (not centred), against the m centred rows of the C last given
 * to mm_km_prepare.  With bias[c] from there, D[i][c] + bias[c] =
 * |x_i - mu - C_c|^2 - |x_i - mu|^2.  Asked as D^T = C X_b^T in column-major
 * order with both operands untransposed (C through its transpose), the
 * form for which OpenBLAS uses its small-matrix kernels rather than
 * packing the rows first (a quarter faster here).
 */
static inline void
mm_km_block_gemm(MmKm *km, int64_t i0, int nb, int m)
{
#ifdef MM_KM_AVX2
	if (km->kernel && m <= MM_KM_KERNEL_M)
	{
		mm_km_block_avx2(km->p, m, km->Ct, km->X + (size_t) i0 * km->p, nb, km->D);
		return;
	}
#endif
	cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, nb, km->p,
				-2.0, km->Ct, m, km->X + (size_t) i0 * km->p, km->p, 0.0,
				km->D, m);
}

/*
 * out[i] = |x - mu - c|^2 for the nb rows x of X from i0, directly: the
 * centred differences summed in column order (exact to rounding, never
 * negative).  c is C's row lab[i] (lab indexed from the block's start),
 * or C itself when lab is NULL.  Four rows at a time, for independent
 * chains of additions.
 */
static void
mm_km_block_direct(const MmKm *km, int64_t i0, int nb, const double *C,
				   const int32_t *lab, double *out)
{
	int			p = km->p;
	const double *mu = km->mu;
	const double *x0 = km->X + (size_t) i0 * p;
	int			i = 0,
				j;

	for (; i + 4 <= nb; i += 4, x0 += 4 * (size_t) p)
	{
		const double *x1 = x0 + p,
				   *x2 = x1 + p,
				   *x3 = x2 + p;
		const double *c0 = lab ? C + (size_t) lab[i] * p : C,
				   *c1 = lab ? C + (size_t) lab[i + 1] * p : C,
				   *c2 = lab ? C + (size_t) lab[i + 2] * p : C,
				   *c3 = lab ? C + (size_t) lab[i + 3] * p : C;
		double		s0 = 0.0,
					s1 = 0.0,
					s2 = 0.0,
					s3 = 0.0;

		for (j = 0; j < p; j++)
		{
			double		m = mu[j];
			double		d0 = (x0[j] - m) - c0[j],
						d1 = (x1[j] - m) - c1[j],
						d2 = (x2[j] - m) - c2[j],
						d3 = (x3[j] - m) - c3[j];

			s0 += d0 * d0;
			s1 += d1 * d1;
			s2 += d2 * d2;
			s3 += d3 * d3;
		}
		out[i] = s0;
		out[i + 1] = s1;
		out[i + 2] = s2;
		out[i + 3] = s3;
	}
	for (; i < nb; i++, x0 += p)
	{
		const double *c0 = lab ? C + (size_t) lab[i] * p : C;
		double		s0 = 0.0;

		for (j = 0; j < p; j++)
		{
			double		d0 = (x0[j] - mu[j]) - c0[j];

			s0 += d0 * d0;
		}
		out[i] = s0;
	}
}

/* Sort the m draws r ascending, carrying their trial numbers (insertion). */
static void
mm_sort_draws(int m, double *r, int *t)
{
	int			i,
				j;

	for (i = 1; i < m; i++)
	{
		double		rv = r[i];
		int			tv = t[i];

		for (j = i; j > 0 && r[j - 1] > rv; j--)
		{
			r[j] = r[j - 1];
			t[j] = t[j - 1];
		}
		r[j] = rv;
		t[j] = tv;
	}
}

/* Candidates per k-means++ centre: 2 + floor(log k), at most MM_MAX_TRIALS. */
static int
mm_km_trials(int k)
{
	int			ntr = 2 + (int) floor(log((double) k));

	return ntr < MM_MAX_TRIALS ? ntr : MM_MAX_TRIALS;
}

/* ---------------------------------------------------------------------
 * The parts of a pass: rows [i0, end) of one part, block by block.
 * --------------------------------------------------------------------- */

/* XX: xx[i] = |x_i - mu|^2. */
static void
mm_km_xx_part(MmKm *km, int64_t i0, int64_t end)
{
	for (; i0 < end; i0 += km->bs)
	{
		mm_km_block_direct(km, i0, mm_km_nb(km, i0), km->zero, NULL, km->xx + i0);
		mm_km_block_done(km);
	}
}

/* CLOSEST: dist[i] = |x_i - mu - c|^2, c = C's row cidx; the sum. */
static double
mm_km_closest_part(MmKm *km, int64_t i0, int64_t end)
{
	const double *c = km->C + (size_t) km->sh->cidx * km->p;
	double		pot = 0.0;

	for (; i0 < end; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		double	   *cl = km->dist + i0;
		int			i;

		mm_km_block_direct(km, i0, nb, c, NULL, cl);
		for (i = 0; i < nb; i++)
			pot += cl[i];
		mm_km_block_done(km);
	}
	return pot;
}

/*
 * CANDS: the potential each of the m candidates (Ct, bias) would leave,
 * into val[t], and each row's clipped expansion, into cval.
 */
static void
mm_km_cands_part(MmKm *km, int64_t i0, int64_t end, double *val)
{
	int			ntr = km->sh->m;
	int			t;

	for (t = 0; t < ntr; t++)
		val[t] = 0.0;
	for (; i0 < end; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		int			i;

		mm_km_block_gemm(km, i0, nb, ntr);
		for (i = 0; i < nb; i++)
		{
			const double *d = km->D + (size_t) i * ntr;
			double		xx = km->xx[i0 + i];
			double		cl = km->dist[i0 + i];
			double	   *cv = km->cval + i0 + i;

			for (t = 0; t < ntr; t++)
			{
				double		v = d[t] + km->bias[t] + xx;

				v = v > 0.0 ? v : 0.0;
				val[t] += v < cl ? v : cl;
				cv[(size_t) t * km->n] = v;
			}
		}
		mm_km_block_done(km);
	}
}

/*
 * CHOSEN: dist[i] = min(dist[i], |x_i - c|^2) for the candidate chosen
 * (C's row cidx), from its clipped expansions v (cval's row best) where
 * they settle it: mg bounds |v - d| (mm_km_plusplus) with mx = the
 * coefficient of |x - mu|^2 and mc the candidate's constant term; a row
 * for which v - mg >= dist keeps its value, one for which v + mg < dist
 * and v is precise (mg <= MM_KM_PRECISE v) takes v, any other has its
 * distance computed directly.  Returns the sum.  Built with
 * MM_KM_ALWAYS_DIRECT (as a unit test builds this file a second time),
 * every row's is computed directly: the reference that test compares
 * with.
 */
static double
mm_km_chosen_part(MmKm *km, int64_t i0, int64_t end)
{
	const MmKmShm *sh = km->sh;
	const double *c = km->C + (size_t) sh->cidx * km->p;
#ifndef MM_KM_ALWAYS_DIRECT
	const double *v = km->cval + (size_t) sh->best * km->n;
	double		mx = sh->mx,
				mc = sh->mc,
				mv = sh->mv;
#endif
	double		pot = 0.0;

	for (; i0 < end; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		double	   *cl = km->dist + i0;
		int			i;

		for (i = 0; i < nb; i++)
		{
#ifndef MM_KM_ALWAYS_DIRECT
			double		vi = v[i0 + i];
			double		mg = mx * km->xx[i0 + i] + mc + mv * vi;

			if (vi - mg >= cl[i])
				;
			else if (vi + mg < cl[i] && mg <= vi * MM_KM_PRECISE)
				cl[i] = vi;
			else
#endif
			{
				double		d;

				mm_km_block_direct(km, i0 + i, 1, c, NULL, &d);
				if (d < cl[i])
					cl[i] = d;
			}
			pot += cl[i];
		}
		mm_km_block_done(km);
	}
	return pot;
}

/*
 * Two-lane vectors where the compiler has them (GCC, Clang): the sums of
 * centred rows are elementwise, so the lanes give the same bits.
 */
#if defined(__GNUC__)
typedef double mm_v2d __attribute__((vector_size(16)));
#define MM_KM_V2D 1
#endif

/* s += x - mu, elementwise over p values. */
static inline void
mm_km_add_centred(int p, double *s, const double *x, const double *mu)
{
	int			j = 0;

#ifdef MM_KM_V2D
	for (; j + 4 <= p; j += 4)
	{
		mm_v2d		a0,
					a1,
					m0,
					m1,
					s0,
					s1;

		memcpy(&a0, x + j, sizeof(a0));
		memcpy(&a1, x + j + 2, sizeof(a1));
		memcpy(&m0, mu + j, sizeof(m0));
		memcpy(&m1, mu + j + 2, sizeof(m1));
		memcpy(&s0, s + j, sizeof(s0));
		memcpy(&s1, s + j + 2, sizeof(s1));
		s0 += a0 - m0;
		s1 += a1 - m1;
		memcpy(s + j, &s0, sizeof(s0));
		memcpy(s + j + 2, &s1, sizeof(s1));
	}
#endif
	for (; j < p; j++)
		s[j] += x[j] - mu[j];
}

/* Lowest index c minimising d[c] + bias[c] over k; the minimum in *bv. */
static inline int
mm_km_argmin(int k, const double *d, const double *bias, double *bv)
{
	double		b = d[0] + bias[0];
	int			best = 0;
	int			c;

	for (c = 1; c < k; c++)
	{
		double		v = d[c] + bias[c];

		if (v < b)
		{
			b = v;
			best = c;
		}
	}
	*bv = b;
	return best;
}

/* Hint the cache to fetch bytes [from, to) (GCC, Clang; else nothing). */
static inline void
mm_km_prefetch(const char *from, const char *to)
{
#if defined(__GNUC__)
	for (; from < to; from += 64)
		__builtin_prefetch(from);
#endif
}

/*
 * ASSIGN: one dgemm per block and one sweep over its rows: the nearest
 * centre (the lowest index minimising |c|^2 + 2 mu.c - 2 x.c), the label,
 * the cluster count and the sum of the centred row, into the part's sums
 * and counts.  Returns the number of labels that changed and in *pot the
 * total squared distance by the expansion less the rows' |x - mu|^2 (for
 * the progress callback only).
 */
static int64_t
mm_km_assign_part(MmKm *km, int64_t i0, int64_t end, double *sums,
				  int64_t *counts, double *pot)
{
	int			p = km->p;
	int			k = km->k;
	const double *mu = km->mu;
	const double *bias = km->bias;
	int64_t		changed = 0;
	double		tot = 0.0;

	memset(sums, 0, sizeof(double) * (size_t) k * p);
	memset(counts, 0, sizeof(int64_t) * k);
	for (; i0 < end; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		const double *x = km->X + (size_t) i0 * p;
		int32_t    *lab = km->labels + i0;
		int			nxt;
		const char *pf,
				   *pfend;
		int			i;

		/* the next block of the part is fetched while this one is summed */
		nxt = i0 + nb < end ? mm_km_nb(km, i0 + nb) : 0;
		pf = (const char *) (x + (size_t) nb * p);
		pfend = pf + sizeof(double) * (size_t) nxt * p;
		mm_km_block_gemm(km, i0, nb, k);
		for (i = 0; i + 2 <= nb; i += 2, x += 2 * (size_t) p)
		{
			double		b0,
						b1;
			int			l0 = mm_km_argmin(k, km->D + (size_t) i * k, bias, &b0);
			int			l1 = mm_km_argmin(k, km->D + (size_t) (i + 1) * k, bias, &b1);

			tot += b0;
			tot += b1;
			if (lab[i] != l0)
			{
				changed++;
				lab[i] = l0;
			}
			if (lab[i + 1] != l1)
			{
				changed++;
				lab[i + 1] = l1;
			}
			counts[l0]++;
			counts[l1]++;
			mm_km_add_centred(p, sums + (size_t) l0 * p, x, mu);
			mm_km_add_centred(p, sums + (size_t) l1 * p, x + p, mu);
			if (pf < pfend)
			{
				const char *e = pf + 2 * sizeof(double) * (size_t) p;

				mm_km_prefetch(pf, e < pfend ? e : pfend);
				pf = e;
			}
		}
		for (; i < nb; i++, x += p)
		{
			double		b0;
			int			l0 = mm_km_argmin(k, km->D + (size_t) i * k, bias, &b0);

			tot += b0;
			if (lab[i] != l0)
			{
				changed++;
				lab[i] = l0;
			}
			counts[l0]++;
			mm_km_add_centred(p, sums + (size_t) l0 * p, x, mu);
		}
		mm_km_block_done(km);
	}
	*pot = tot;
	return changed;
}

/* INERTIA: labels of the nearest centres, and the sum of the exact D^2. */
static double
mm_km_inertia_part(MmKm *km, int64_t i0, int64_t end)
{
	int			k = km->k;
	double		tot = 0.0;

	for (; i0 < end; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		int32_t    *lab = km->labels + i0;
		int			i;

		mm_km_block_gemm(km, i0, nb, k);
		for (i = 0; i < nb; i++)
		{
			double		bv;

			lab[i] = mm_km_argmin(k, km->D + (size_t) i * k, km->bias, &bv);
		}
		mm_km_block_direct(km, i0, nb, km->C, lab, km->bd);
		for (i = 0; i < nb; i++)
			tot += km->bd[i];
		mm_km_block_done(km);
	}
	return tot;
}

/* Do part number part of the pass the leader set (see mm_core.h). */
void
mm_kmeans_part(MmKm *km, int part)
{
	int64_t		i0 = (int64_t) part * km->part_rows;
	int64_t		end = i0 + km->part_rows < km->n ? i0 + km->part_rows : km->n;
	double	   *val = km->pval + (size_t) part * MM_MAX_TRIALS;

	if (part < 0 || part >= km->nparts)
		return;
	switch (km->sh->op)
	{
		case MM_KM_OP_XX:
			mm_km_xx_part(km, i0, end);
			break;
		case MM_KM_OP_CLOSEST:
			val[0] = mm_km_closest_part(km, i0, end);
			break;
		case MM_KM_OP_CANDS:
			mm_km_cands_part(km, i0, end, val);
			break;
		case MM_KM_OP_CHOSEN:
			val[0] = mm_km_chosen_part(km, i0, end);
			break;
		case MM_KM_OP_ASSIGN:
			km->pchanged[part] =
				mm_km_assign_part(km, i0, end,
								  km->psum + (size_t) part * km->k * km->p,
								  km->pcount + (size_t) part * km->k, &val[0]);
			break;
		case MM_KM_OP_INERTIA:
			val[0] = mm_km_inertia_part(km, i0, end);
			break;
	}
}

/* The parts of this fit's passes. */
int
mm_kmeans_nparts(const MmKm *km)
{
	return km->nparts;
}

/*
 * Run a pass of op over every part: in this process, in order, or through
 * the caller's run (which has the parts done by whichever processes, in
 * any order).  The parts write only their own rows and slots, and their
 * results are combined in part order afterwards, so the bits do not depend
 * on who did which part.
 */
static void
mm_km_pass(MmKm *km, int op)
{
	int			part;

	km->sh->op = op;
	if (km->par != NULL && km->par->run != NULL)
		km->par->run(km->par->arg, km);
	else
		for (part = 0; part < km->nparts; part++)
			mm_kmeans_part(km, part);
}

/* The parts' values t of the last pass, summed in part order. */
static double
mm_km_sum_parts(const MmKm *km, int t)
{
	double		s = 0.0;
	int			part;

	for (part = 0; part < km->nparts; part++)
		s += km->pval[(size_t) part * MM_MAX_TRIALS + t];
	return s;
}

/*
 * For each of the ntr draws (ascending, trial numbers in trial), the
 * first row whose running sum of dist exceeds it, into cand[trial]: part
 * by part, the running sum the sum of the earlier parts' sums (in the
 * order mm_km_sum_parts adds them) plus the running sum within the part
 * (in the order the part added them), so that it reaches the potential
 * exactly at the last row.
 */
static void
mm_km_find_draws(const MmKm *km, const double *draws, const int *trial,
				 int ntr, int64_t *cand)
{
	double		base = 0.0;
	int			next = 0;
	int			part;

	for (part = 0; part < km->nparts && next < ntr; part++)
	{
		double		end = base + km->pval[(size_t) part * MM_MAX_TRIALS];

		if (draws[next] < end)
		{
			int64_t		i = (int64_t) part * km->part_rows;
			int64_t		last = i + km->part_rows < km->n ? i + km->part_rows : km->n;
			double		inner = 0.0;

			for (; i < last && next < ntr; i++)
			{
				double		cum;

				inner += km->dist[i];
				cum = base + inner;
				while (next < ntr && draws[next] < cum)
					cand[trial[next++]] = i;
			}
		}
		base = end;
	}
}

/* Greedy k-means++ seeds into km->C (centred); D^2 into km->dist. */
static void
mm_km_plusplus(MmKm *km, MmRng *rng)
{
	int			p = km->p;
	int			k = km->k;
	int			ntr = mm_km_trials(k);
	double		draws[MM_MAX_TRIALS];
	int			trial[MM_MAX_TRIALS];
	int64_t		cand[MM_MAX_TRIALS];
	double		cpot[MM_MAX_TRIALS];
	double		mb[MM_MAX_TRIALS];
	double	   *cbuf = km->cand;
	double		pot;
	int64_t		first;
	int			c,
				j,
				t;

	/*
	 * A row's expansion v (clipped at 0) and its direct distance d to a
	 * candidate c differ by at most mg = (4p + 32) u (3|x - mu|^2 + 2|c|^2 +
	 * 4|mu||c| + 2v) + (p + 8) DBL_MIN, u = 2^-53 the unit roundoff: over
	 * twice what the rounding errors of the expansion's dot products and
	 * sums and of the direct sum add up to, with |x| bounded by |x - mu| +
	 * |mu| and then 2|x - mu||c| by |x - mu|^2 + |c|^2; the DBL_MIN terms
	 * cover underflow.
	 */
	double		g = (4.0 * p + 32.0) * (DBL_EPSILON / 2.0);
	double		tiny = (p + 8.0) * DBL_MIN;

	first = (int64_t) mm_rng_below(rng, (uint64_t) km->n);
	mm_km_row(km, first, km->C);
	km->sh->cidx = 0;
	mm_km_pass(km, MM_KM_OP_CLOSEST);
	pot = mm_km_sum_parts(km, 0);

	for (c = 1; c < k; c++)
	{
		int			best;

		for (t = 0; t < ntr; t++)
		{
			draws[t] = mm_rng_uniform(rng) * pot;
			trial[t] = t;
			cand[t] = km->n - 1;
		}
		mm_sort_draws(ntr, draws, trial);
		mm_km_find_draws(km, draws, trial, ntr, cand);

		/*
		 * The potential each candidate would leave, all in one pass, and
		 * each row's clipped expansion (cval), for the CHOSEN pass.
		 */
		for (t = 0; t < ntr; t++)
		{
			const double *r = cbuf + (size_t) t * p;
			double		cc = 0.0;

			mm_km_row(km, cand[t], cbuf + (size_t) t * p);
			for (j = 0; j < p; j++)
				cc += r[j] * r[j];
			mb[t] = g * (2.0 * cc + 4.0 * km->munorm * sqrt(cc)) + tiny;
		}
		mm_km_prepare(km, ntr, cbuf, km->bias);
		mm_km_pass(km, MM_KM_OP_CANDS);
		for (t = 0; t < ntr; t++)
			cpot[t] = mm_km_sum_parts(km, t);
		best = 0;
		for (t = 1; t < ntr; t++)
			if (cpot[t] < cpot[best])
				best = t;
		memcpy(km->C + (size_t) c * p, cbuf + (size_t) best * p, sizeof(double) * p);
		km->sh->cidx = c;
		km->sh->best = best;
		km->sh->mx = 3.0 * g;
		km->sh->mc = mb[best];
		km->sh->mv = 2.0 * g;
		mm_km_pass(km, MM_KM_OP_CHOSEN);
		pot = mm_km_sum_parts(km, 0);
		km->last_loss = pot;
		mm_km_tick(km);
	}
}

/* k distinct random rows into km->C (centred); idx holds n int64. */
static void
mm_km_random(MmKm *km, MmRng *rng, int64_t *idx)
{
	int64_t		i;
	int			c;

	for (i = 0; i < km->n; i++)
		idx[i] = i;
	for (c = 0; c < km->k; c++)
	{
		int64_t		t = c + (int64_t) mm_rng_below(rng, (uint64_t) (km->n - c));
		int64_t		tmp = idx[c];

		idx[c] = idx[t];
		idx[t] = tmp;
		mm_km_row(km, idx[c], km->C + (size_t) c * km->p);
	}
}

/*
 * One assignment pass to km->C: the labels, and the parts' cluster sums
 * and counts added up in part order into sums and counts.  Returns the
 * number of labels that changed and in *pot the total squared distance by
 * the expansion (for the progress callback only).
 */
static int64_t
mm_km_assign(MmKm *km, double *sums, int64_t *counts, double *pot)
{
	size_t		kp = (size_t) km->k * km->p;
	int64_t		changed = 0;
	int			part;
	size_t		j;

	mm_km_prepare(km, km->k, km->C, km->bias);
	mm_km_pass(km, MM_KM_OP_ASSIGN);
	memcpy(sums, km->psum, sizeof(double) * kp);
	memcpy(counts, km->pcount, sizeof(int64_t) * km->k);
	for (part = 1; part < km->nparts; part++)
	{
		const double *ps = km->psum + (size_t) part * kp;
		const int64_t *pc = km->pcount + (size_t) part * km->k;

		for (j = 0; j < kp; j++)
			sums[j] += ps[j];
		for (j = 0; j < (size_t) km->k; j++)
			counts[j] += pc[j];
	}
	for (part = 0; part < km->nparts; part++)
		changed += km->pchanged[part];
	*pot = km->totss + mm_km_sum_parts(km, 0);
	return changed;
}

/*
 * Re-seed empty clusters with the farthest rows (see the file comment);
 * km->C holds the centres the rows were assigned to; km->dist takes the
 * rows' squared distances, computed directly, only when a cluster is
 * empty.
 */
static void
mm_km_relocate(MmKm *km, double *sums, int64_t *counts)
{
	int			p = km->p;
	const int32_t *labels = km->labels;
	double	   *dist = km->dist;
	int64_t		i0;
	int			c,
				j;

	for (c = 0; c < km->k; c++)
		if (counts[c] == 0)
			break;
	if (c == km->k)
		return;
	for (i0 = 0; i0 < km->n; i0 += km->bs)
		mm_km_block_direct(km, i0, mm_km_nb(km, i0), km->C, labels + i0, dist + i0);

	for (c = 0; c < km->k; c++)
	{
		int64_t		far = -1;
		int64_t		i;
		double	   *from;

		if (counts[c] > 0)
			continue;
		for (i = 0; i < km->n; i++)
			if (dist[i] >= 0.0 && counts[labels[i]] > 1 &&
				(far < 0 || dist[i] > dist[far]))
				far = i;
		if (far < 0)
			break;				/* cannot happen while k <= n */
		dist[far] = -1.0;		/* not chosen twice */
		mm_km_row(km, far, km->row);
		from = sums + (size_t) labels[far] * p;
		for (j = 0; j < p; j++)
		{
			from[j] -= km->row[j];
			sums[(size_t) c * p + j] = km->row[j];
		}
		counts[labels[far]]--;
		counts[c] = 1;
	}
}

/* Final assignment to km->C: labels and the exact inertia. */
static double
mm_km_inertia(MmKm *km)
{
	mm_km_prepare(km, km->k, km->C, km->bias);
	mm_km_pass(km, MM_KM_OP_INERTIA);
	return mm_km_sum_parts(km, 0);
}

/* One run of Lloyd's algorithm from the centres in km->C; the inertia. */
static double
mm_km_lloyd(MmKm *km, const MmKMeansParams *params, double tol_abs,
			double *sums, int64_t *counts, int *iterations)
{
	int			p = km->p;
	int			k = km->k;
	double	   *C = km->C;
	int64_t		i;
	int			it;

	for (i = 0; i < km->n; i++)
		km->labels[i] = -1;
	for (it = 1; it <= params->max_iter; it++)
	{
		double		pot;
		double		shift = 0.0;
		int64_t		changed;
		int			c,
					j;

		km->iteration = it;
		changed = mm_km_assign(km, sums, counts, &pot);
		mm_km_relocate(km, sums, counts);
		for (c = 0; c < k; c++)
		{
			double		inv = counts[c] > 0 ? 1.0 / (double) counts[c] : 0.0;

			for (j = 0; j < p; j++)
			{
				double		v = counts[c] > 0 ? sums[(size_t) c * p + j] * inv
				: C[(size_t) c * p + j];
				double		d = v - C[(size_t) c * p + j];

				shift += d * d;
				C[(size_t) c * p + j] = v;
			}
		}
		km->last_loss = pot;
		mm_km_tick(km);
		*iterations = it;
		if (changed == 0 || shift <= tol_abs)
			break;
	}
	return mm_km_inertia(km);
}

/* ---------------------------------------------------------------------
 * The shared block
 * --------------------------------------------------------------------- */

/* Reserve count elements of size bytes at *off (0 for none); false on overflow. */
static bool
mm_km_reserve(size_t *size, size_t count, size_t elem, size_t *off)
{
	size_t		len;

	*off = 0;
	if (count == 0)
		return true;
	if (!mm_mul_size(count, elem, &len) ||
		!mm_add_size(len, MM_KM_ALIGN - 1, &len))
		return false;
	len &= ~(size_t) (MM_KM_ALIGN - 1);
	*off = *size;
	return mm_add_size(*size, len, size);
}

/*
 * The layout of a fit of n rows of p values with params into h: blocks,
 * parts and offsets (the rows inside when rows).  The parts are runs of
 * whole blocks, at most MM_KM_PARTS of them, fewer where their cluster
 * sums would pass MM_KM_PART_DOUBLES.  Returns false when too large.
 */
static bool
mm_km_layout(int64_t n, int p, const MmKMeansParams *params, bool rows, MmKmShm *h)
{
	int			k = params->k;
	int			m = k > p ? k : p;
	int			mt = k > MM_MAX_TRIALS ? k : MM_MAX_TRIALS;
	bool		plus = params->init == 0 && k > 1;
	int64_t		nblocks,
				per,
				maxparts;
	size_t		kp,
				np,
				nt,
				size;

	memset(h, 0, sizeof(*h));
	h->magic = MM_KM_MAGIC;
	h->n = n;
	h->p = p;
	h->k = k;
	h->ntr = mm_km_trials(k);
	h->bs = MM_BLOCK_DOUBLES / m;
	if (h->bs > MM_BLOCK_ROWS)
		h->bs = MM_BLOCK_ROWS;
	if (h->bs < 1)
		h->bs = 1;
	if (h->bs > n)
		h->bs = (int) n;
	if (!mm_mul_size((size_t) k, (size_t) p, &kp) ||
		!mm_mul_size((size_t) n, (size_t) p, &np) ||
		!mm_mul_size((size_t) n, (size_t) h->ntr, &nt))
		return false;
	nblocks = (n + h->bs - 1) / h->bs;
	per = (nblocks + MM_KM_PARTS - 1) / MM_KM_PARTS;
	maxparts = (int64_t) (MM_KM_PART_DOUBLES / (kp + (size_t) k));
	if (maxparts < 1)
		maxparts = 1;
	if ((nblocks + per - 1) / per > maxparts)
		per = (nblocks + maxparts - 1) / maxparts;
	h->part_rows = per * h->bs;
	h->nparts = (int) ((nblocks + per - 1) / per);

	size = (sizeof(MmKmShm) + MM_KM_ALIGN - 1) & ~(size_t) (MM_KM_ALIGN - 1);
	if (!(mm_km_reserve(&size, rows ? np : 0, sizeof(double), &h->off_X) &&
		mm_km_reserve(&size, (size_t) p, sizeof(double), &h->off_mu) &&
		mm_km_reserve(&size, kp, sizeof(double), &h->off_C) &&
		mm_km_reserve(&size, (size_t) mt * p, sizeof(double), &h->off_Ct) &&
		mm_km_reserve(&size, (size_t) mt, sizeof(double), &h->off_bias) &&
		mm_km_reserve(&size, (size_t) MM_MAX_TRIALS * p, sizeof(double), &h->off_cand) &&
		mm_km_reserve(&size, plus ? (size_t) n : 0, sizeof(double), &h->off_xx) &&
		mm_km_reserve(&size, plus ? nt : 0, sizeof(double), &h->off_cval) &&
		mm_km_reserve(&size, (size_t) n, sizeof(double), &h->off_dist) &&
		mm_km_reserve(&size, (size_t) n, sizeof(int32_t), &h->off_labels) &&
		mm_km_reserve(&size, (size_t) h->nparts * kp, sizeof(double), &h->off_psum) &&
		mm_km_reserve(&size, (size_t) h->nparts * k, sizeof(int64_t), &h->off_pcount) &&
		mm_km_reserve(&size, (size_t) h->nparts * MM_MAX_TRIALS, sizeof(double), &h->off_pval) &&
		mm_km_reserve(&size, (size_t) h->nparts, sizeof(int64_t), &h->off_pchanged)))
		return false;
	h->size = size;
	return true;
}

#define MM_KM_AT(sh, off, type) ((off) != 0 ? (type *) ((char *) (sh) + (off)) : NULL)

/*
 * A view of the block sh (laid out by mm_km_layout) into km, with this
 * process's scratch from a; X is the caller's rows when they are not in
 * the block.
 */
static void
mm_km_view(MmKm *km, MmKmShm *sh, const double *X, const MmProgress *progress,
		   const MmAlloc *a)
{
	int			mt = sh->k > MM_MAX_TRIALS ? sh->k : MM_MAX_TRIALS;

	memset(km, 0, sizeof(*km));
	km->sh = sh;
	km->n = sh->n;
	km->p = sh->p;
	km->k = sh->k;
	km->bs = sh->bs;
	km->nparts = sh->nparts;
	km->part_rows = sh->part_rows;
	km->X = sh->off_X != 0 ? MM_KM_AT(sh, sh->off_X, const double) : X;
	km->mu = MM_KM_AT(sh, sh->off_mu, double);
	km->C = MM_KM_AT(sh, sh->off_C, double);
	km->Ct = MM_KM_AT(sh, sh->off_Ct, double);
	km->bias = MM_KM_AT(sh, sh->off_bias, double);
	km->cand = MM_KM_AT(sh, sh->off_cand, double);
	km->xx = MM_KM_AT(sh, sh->off_xx, double);
	km->cval = MM_KM_AT(sh, sh->off_cval, double);
	km->dist = MM_KM_AT(sh, sh->off_dist, double);
	km->labels = MM_KM_AT(sh, sh->off_labels, int32_t);
	km->psum = MM_KM_AT(sh, sh->off_psum, double);
	km->pcount = MM_KM_AT(sh, sh->off_pcount, int64_t);
	km->pval = MM_KM_AT(sh, sh->off_pval, double);
	km->pchanged = MM_KM_AT(sh, sh->off_pchanged, int64_t);
	km->D = mm_alloc0(a, sizeof(double) * (size_t) km->bs * mt);
	km->bd = mm_alloc0(a, sizeof(double) * (size_t) km->bs);
	km->row = mm_alloc0(a, sizeof(double) * km->p);
	km->zero = mm_alloc0(a, sizeof(double) * km->p);
	km->progress = progress;
#ifdef MM_KM_AVX2
	if (mm_kmeans_avx2 < 0)
		mm_kmeans_avx2 = mm_cpu_avx2();
	km->kernel = mm_kmeans_avx2;
#endif
}

/* mm_km_layout for valid arguments only (k rows at least); false if not. */
static bool
mm_km_layout_valid(int64_t n, int p, const MmKMeansParams *params, bool rows, MmKmShm *h)
{
	return params != NULL && n >= 1 && p >= 1 && params->k >= 1 && params->k <= n &&
		mm_km_layout(n, p, params, rows, h);
}

/* Bytes of the shared block of a parallel fit (0: too large). */
size_t
mm_kmeans_shared_size(int64_t n, int p, const MmKMeansParams *params)
{
	MmKmShm		h;

	return mm_km_layout_valid(n, p, params, true, &h) ? h.size : 0;
}

/* The parts of a fit of n rows of p values with params (0: invalid). */
int
mm_kmeans_parts_of(int64_t n, int p, const MmKMeansParams *params)
{
	MmKmShm		h;

	return mm_km_layout_valid(n, p, params, false, &h) ? h.nparts : 0;
}

/*
 * Lay out the shared block shm (mm_kmeans_shared_size bytes) for a fit of
 * n rows of p values with params, before any process attaches to it.
 */
bool
mm_kmeans_shared_init(void *shm, int64_t n, int p, const MmKMeansParams *params)
{
	MmKmShm		h;

	if (shm == NULL || !mm_km_layout_valid(n, p, params, true, &h))
		return false;
	memcpy(shm, &h, sizeof(h));
	return true;
}

/* A process's view of the shared block shm (NULL if it is not one). */
MmKm *
mm_kmeans_attach(void *shm, const MmProgress *progress, const MmAlloc *a)
{
	MmKmShm    *sh = shm;
	MmKm	   *km;

	if (sh == NULL || sh->magic != MM_KM_MAGIC || sh->off_X == 0)
		return NULL;
	km = mm_alloc0(a, sizeof(MmKm));
	mm_km_view(km, sh, NULL, progress, a);
	return km;
}

/* Fit k-means, its passes run by par (or here when NULL); see mm_core.h. */
MmStatus
mm_kmeans_fit_par(int64_t n, int p, const double *X, const MmKMeansParams *params,
				  double *centers, MmKMeansInfo *info, const MmProgress *progress,
				  const MmAlloc *a, const MmKMeansPar *par, MmErr *err)
{
	MmKm		km;
	MmKmShm    *sh;
	MmKmShm		h;
	MmRng		master;
	size_t		kp;
	size_t		sz;
	double	   *best_C;
	double	   *sums;
	int64_t    *counts;
	int64_t    *idx = NULL;
	double	   *var;
	double		tol_abs = 0.0;
	double		best_inertia = INFINITY;
	int			best_iter = 0;
	int			run;
	int64_t		i;
	int			j;
	MmStatus	st;

	if (params == NULL || X == NULL || centers == NULL)
	{
		mm_err_set(err, "k-means: missing argument");
		return MM_EINVAL;
	}
	if (p < 1)
	{
		mm_err_set(err, "k-means needs at least one column");
		return MM_EINVAL;
	}
	if (params->k < 1)
	{
		mm_err_set(err, "k must be at least 1, got %d", params->k);
		return MM_EINVAL;
	}
	if (n < params->k)
	{
		mm_err_set(err, "k (%d) exceeds the number of rows (%lld)",
				   params->k, (long long) n);
		return MM_EINVAL;
	}
	if (params->init != 0 && params->init != 1)
	{
		mm_err_set(err, "k-means init must be 0 (k-means++) or 1 (random), got %d",
				   params->init);
		return MM_EINVAL;
	}
	if (params->n_init < 1 || params->max_iter < 1)
	{
		mm_err_set(err, "n_init and max_iter must be at least 1");
		return MM_EINVAL;
	}
	if (!(params->tol >= 0.0) || !isfinite(params->tol))
	{
		mm_err_set(err, "tol must be finite and non-negative");
		return MM_EINVAL;
	}
	if (!mm_mul_size((size_t) params->k, (size_t) p, &kp) ||
		!mm_mul_size(kp, sizeof(double), &sz) ||
		!mm_mul_size((size_t) n, sizeof(double), &sz) ||
		!mm_km_layout(n, p, params, par != NULL, &h))
	{
		mm_err_set(err, "k-means problem too large");
		return MM_ELIMIT;
	}

	/* the shared block: the caller's, laid out by mm_kmeans_shared_init */
	if (par != NULL)
	{
		sh = par->shm;
		if (sh == NULL || memcmp(sh, &h, sizeof(h)) != 0)
		{
			mm_err_set(err, "k-means: the shared block was not laid out for this fit");
			return MM_EINVAL;
		}
	}
	else
	{
		sh = mm_alloc0(a, h.size);
		memcpy(sh, &h, sizeof(h));
	}
	mm_km_view(&km, sh, X, progress, a);
	km.par = par;
	if (par != NULL)
		memcpy((double *) km.X, X, sizeof(double) * (size_t) n * p);

	/* column means and variances (two passes); finiteness */
	var = mm_alloc0(a, sizeof(double) * p);
	if ((st = mm_column_means("k-means", n, p, km.X, km.mu, err)) != MM_OK)
		return st;
	for (i = 0; i < n; i++)
	{
		const double *x = km.X + (size_t) i * p;

		for (j = 0; j < p; j++)
		{
			double		d = x[j] - km.mu[j];

			var[j] += d * d;
		}
	}
	for (j = 0; j < p; j++)
		km.totss += var[j];
	if (params->tol > 0.0)
	{
		double		s = 0.0;

		for (j = 0; j < p; j++)
			s += var[j] / (double) n;
		tol_abs = params->tol * (s / p);
	}

	best_C = mm_alloc0(a, sizeof(double) * kp);
	sums = mm_alloc0(a, sizeof(double) * kp);
	counts = mm_alloc0(a, sizeof(int64_t) * params->k);
	if (params->init == 1)
		idx = mm_alloc0(a, sizeof(int64_t) * (size_t) n);
	else if (params->k > 1)
	{
		/* every candidate round of every run scores with |x - mu|^2: once */
		mm_km_pass(&km, MM_KM_OP_XX);
		for (j = 0; j < p; j++)
			km.munorm += km.mu[j] * km.mu[j];
		km.munorm = sqrt(km.munorm);
	}

	mm_rng_seed(&master, params->seed);
	for (run = 0; run < params->n_init; run++)
	{
		MmRng		rng;
		double		inertia;
		int			iters = 0;

		mm_rng_seed(&rng, mm_rng_next(&master));
		km.iteration = 0;
		if (params->init == 0)
			mm_km_plusplus(&km, &rng);
		else
			mm_km_random(&km, &rng, idx);
		inertia = mm_km_lloyd(&km, params, tol_abs, sums, counts, &iters);
		if (run == 0 || inertia < best_inertia)
		{
			best_inertia = inertia;
			best_iter = iters;
			memcpy(best_C, km.C, sizeof(double) * kp);
		}
	}

	for (i = 0; i < params->k; i++)
		for (j = 0; j < p; j++)
			centers[(size_t) i * p + j] = best_C[(size_t) i * p + j] + km.mu[j];
	if (info != NULL)
	{
		info->inertia = best_inertia;
		info->iterations = best_iter;
	}
	return MM_OK;
}

/* Fit k-means; see mm_core.h and the file comment. */
MmStatus
mm_kmeans_fit(int64_t n, int p, const double *X, const MmKMeansParams *params,
			  double *centers, MmKMeansInfo *info, const MmProgress *progress,
			  const MmAlloc *a, MmErr *err)
{
	return mm_kmeans_fit_par(n, p, X, params, centers, info, progress, a, NULL, err);
}

/* Nearest centre of x (lowest index on ties) and its squared distance. */
int
mm_kmeans_predict(int k, int p, const double *centers, const double *x,
				  double *dist2)
{
	int			best = 0;
	double		bd = INFINITY;
	int			c;

	for (c = 0; c < k; c++)
	{
		double		d = mm_dist2(p, x, centers + (size_t) c * p);

		if (d < bd)
		{
			bd = d;
			best = c;
		}
	}
	if (dist2 != NULL)
		*dist2 = bd;
	return best;
}

/*
 * The sum of the silhouettes of m rows (labels label) from their sums of
 * distances to each cluster (S, k per row); cnt: the cluster sizes.
 */
static double
mm_sil_rows(int64_t m, const int32_t *label, const double *S, int k, const int64_t *cnt)
{
	double		total = 0.0;

	for (int64_t i = 0; i < m; i++)
	{
		const double *s = S + (size_t) i * k;
		int			l = label[i];
		double		aa,
					bb = INFINITY,
					mx;

		if (cnt[l] < 2)
			continue;			/* singleton: s = 0 */
		aa = s[l] / (double) (cnt[l] - 1);
		for (int c = 0; c < k; c++)
			if (c != l && cnt[c] > 0 && s[c] / (double) cnt[c] < bb)
				bb = s[c] / (double) cnt[c];
		mx = aa > bb ? aa : bb;
		if (mx > 0.0)
			total += (bb - aa) / mx;
	}
	return total;
}

/* Mean silhouette coefficient; see mm_core.h and the file comment. */
double
mm_silhouette(int64_t n, int p, const double *X, const int32_t *label,
			  int k, const MmAlloc *a)
{
	size_t		np;
	double	   *Xc;
	double	   *mu;
	double	   *xx;
	double	   *G;
	double	   *S;
	int64_t    *cnt;
	int			occupied = 0;
	double		total = 0.0;
	bool		sym;
	int64_t		i0,
				j0,
				i;
	int			j;

	if (n < 1 || p < 1 || k < 1 || X == NULL || label == NULL ||
		!mm_mul_size((size_t) n, (size_t) p, &np) ||
		!mm_mul_size(np, sizeof(double), &np))
		return NAN;
	cnt = mm_alloc0(a, sizeof(int64_t) * k);
	for (i = 0; i < n; i++)
	{
		if (label[i] < 0 || label[i] >= k)
			return NAN;
		if (cnt[label[i]]++ == 0)
			occupied++;
	}
	if (occupied < 2)
		return NAN;

	/* centred copy and squared norms */
	mu = mm_alloc0(a, sizeof(double) * p);
	Xc = mm_alloc0(a, np);
	xx = mm_alloc0(a, sizeof(double) * (size_t) n);
	for (i = 0; i < n; i++)
		for (j = 0; j < p; j++)
			mu[j] += X[(size_t) i * p + j];
	for (j = 0; j < p; j++)
		mu[j] /= (double) n;
	for (i = 0; i < n; i++)
	{
		double		s = 0.0;

		for (j = 0; j < p; j++)
		{
			double		v = X[(size_t) i * p + j] - mu[j];

			Xc[(size_t) i * p + j] = v;
			s += v * v;
		}
		xx[i] = s;
	}

	sym = (uint64_t) n * (uint64_t) k <= MM_SIL_SYM_DOUBLES;
	G = mm_alloc0(a, sizeof(double) * MM_SIL_TILE * MM_SIL_TILE);
	S = mm_alloc0(a, sizeof(double) * (size_t) (sym ? n : MM_SIL_TILE) * k);
	for (i0 = 0; i0 < n; i0 += MM_SIL_TILE)
	{
		int			ni = (int) (n - i0 < MM_SIL_TILE ? n - i0 : MM_SIL_TILE);
		double	   *Si = sym ? S + (size_t) i0 * k : S;
		int			ii;

		if (!sym)
			memset(S, 0, sizeof(double) * (size_t) MM_SIL_TILE * k);
		for (j0 = sym ? i0 : 0; j0 < n; j0 += MM_SIL_TILE)
		{
			int			nj = (int) (n - j0 < MM_SIL_TILE ? n - j0 : MM_SIL_TILE);
			int			jj;

			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, nj, p,
						-2.0, Xc + (size_t) i0 * p, p, Xc + (size_t) j0 * p, p,
						0.0, G, nj);
			/* the distances, 0 for a row and itself and a clipped expansion */
			for (ii = 0; ii < ni; ii++)
			{
				double	   *g = G + (size_t) ii * nj;
				double		xi = xx[i0 + ii];

				for (jj = 0; jj < nj; jj++)
				{
					double		d2 = g[jj] + xi + xx[j0 + jj];

					g[jj] = d2 > 0.0 ? sqrt(d2) : 0.0;
				}
				if (i0 == j0)
					g[ii] = 0.0;
			}
			for (ii = 0; ii < ni; ii++)
			{
				const double *g = G + (size_t) ii * nj;
				double	   *s = Si + (size_t) ii * k;

				for (jj = 0; jj < nj; jj++)
					s[label[j0 + jj]] += g[jj];
			}
			/* below the diagonal: the same distances, for the other rows */
			if (sym && j0 != i0)
				for (ii = 0; ii < ni; ii++)
				{
					const double *g = G + (size_t) ii * nj;
					double	   *s = S + (size_t) j0 * k + label[i0 + ii];

					for (jj = 0; jj < nj; jj++)
						s[(size_t) jj * k] += g[jj];
				}
		}
		if (!sym)
			total += mm_sil_rows(ni, label + i0, S, k, cnt);
	}
	if (sym)
		total = mm_sil_rows((int) n, label, S, k, cnt);
	return total / (double) n;
}
