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
 * centre, and every MM_PROGRESS_BLOCKS blocks within a pass, with the
 * pass number of the current run and the current inertia.  All scratch
 * memory comes from the caller's MmAlloc.  Deterministic for a given
 * BLAS.
 */
#include "mm_core.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#define MM_BLOCK_DOUBLES	262144	/* bound on rows per block * max(k, p) */
#define MM_BLOCK_ROWS		1024
#define MM_PROGRESS_BLOCKS	256
#define MM_SIL_TILE			256
#define MM_SIL_SYM_DOUBLES	(4 * 1024 * 1024)	/* silhouette sums of all rows at most */
#define MM_MAX_TRIALS		64
#define MM_KM_PRECISE		(1.0 / 67108864.0)	/* 2^-26: k-means++ D^2 by expansion */

/* The data and the scratch buffers of one fit. */
typedef struct MmKm
{
	int64_t		n;
	int			p;
	int			k;
	const double *X;
	double	   *mu;				/* p: column means */
	double		totss;			/* sum over the rows of |x - mu|^2 */
	int			bs;				/* rows per block */
	double	   *D;				/* bs*max(k, MM_MAX_TRIALS): -2 x.c */
	double	   *bias;			/* max(k, MM_MAX_TRIALS): |c|^2 + 2 mu.c */
	double	   *Ct;				/* p*max(k, MM_MAX_TRIALS): C transposed */
	double	   *bd;				/* bs: squared distances of a block's rows */
	double	   *xx;				/* n: |x - mu|^2 of every row (k-means++) */
	double	   *row;			/* p: one centred row */
	double	   *zero;			/* p zeros */
	double	   *cand;			/* MM_MAX_TRIALS*p: k-means++ candidates */
	double	   *cval;			/* trials*n: D^2 if each candidate is chosen */
	double		munorm;			/* |mu| */
	const MmProgress *progress;
	int			iteration;
	double		last_loss;
	int64_t		blocks;
} MmKm;

/* Call the progress callback. */
static inline void
mm_km_tick(MmKm *km)
{
	if (km->progress != NULL && km->progress->fn != NULL)
		km->progress->fn(km->progress->arg, km->iteration, km->last_loss);
}

/* Count one block and call the callback every MM_PROGRESS_BLOCKS. */
static inline void
mm_km_block_done(MmKm *km)
{
	if (++km->blocks % MM_PROGRESS_BLOCKS == 0)
		mm_km_tick(km);
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
 * For the m (centred) rows of C: bias[c] = |C_c|^2 + 2 mu.C_c, and C's
 * transpose in km->Ct (p x m) for mm_km_block_gemm.
 */
static void
mm_km_prepare(MmKm *km, int m, const double *C, double *bias)
{
	int			c,
				j;

	for (c = 0; c < m; c++)
	{
		const double *r = C + (size_t) c * km->p;
		double		s = 0.0,
					t = 0.0;

		for (j = 0; j < km->p; j++)
		{
			s += r[j] * r[j];
			t += km->mu[j] * r[j];
			km->Ct[(size_t) j * m + c] = r[j];
		}
		bias[c] = s + 2.0 * t;
	}
}

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

/* Set closest[i] = min(closest[i], |x_i - c|^2) (or = when init); the sum. */
static double
mm_km_update_closest(MmKm *km, const double *c, double *closest, bool init)
{
	double		pot = 0.0;
	int64_t		i0;

	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		double	   *cl = closest + i0;
		int			i;

		mm_km_block_direct(km, i0, nb, c, NULL, km->bd);
		for (i = 0; i < nb; i++)
		{
			double		d = km->bd[i];

			if (init || d < cl[i])
				cl[i] = d;
			pot += cl[i];
		}
		mm_km_block_done(km);
	}
	return pot;
}

/*
 * closest[i] = min(closest[i], |x_i - c|^2) for the candidate c chosen,
 * from its clipped expansions v (cval) where they settle it: mg bounds
 * |v - d| (mm_km_plusplus) with mx = the coefficient of |x - mu|^2 and mc
 * the candidate's constant term; a row for which v - mg >= closest keeps
 * its value, one for which v + mg < closest and v is precise (mg <=
 * MM_KM_PRECISE v) takes v, any other has its distance computed directly.
 * Returns the sum.  Built with MM_KM_ALWAYS_DIRECT (as a unit test builds
 * this file a second time), every row's is computed directly: the
 * reference that test compares with.
 */
static double
mm_km_update_chosen(MmKm *km, const double *c, double *closest, const double *v,
					double mx, double mc, double mv)
{
	double		pot = 0.0;
	int64_t		i0;

	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		double	   *cl = closest + i0;
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

/* Candidates per k-means++ centre: 2 + floor(log k), at most MM_MAX_TRIALS. */
static int
mm_km_trials(int k)
{
	int			ntr = 2 + (int) floor(log((double) k));

	return ntr < MM_MAX_TRIALS ? ntr : MM_MAX_TRIALS;
}

/* Greedy k-means++ seeds into C (centred). */
static void
mm_km_plusplus(MmKm *km, MmRng *rng, double *C, double *closest)
{
	int			p = km->p;
	int			k = km->k;
	int			ntr = mm_km_trials(k);
	double		draws[MM_MAX_TRIALS];
	int			trial[MM_MAX_TRIALS];
	int64_t		cand[MM_MAX_TRIALS];
	double		cpot[MM_MAX_TRIALS];
	double		mb[MM_MAX_TRIALS];
	double		bias[MM_MAX_TRIALS];
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
	mm_km_row(km, first, C);
	pot = mm_km_update_closest(km, C, closest, true);

	for (c = 1; c < k; c++)
	{
		double		cum = 0.0;
		int			next = 0;
		int64_t		i0;
		int			best;

		for (t = 0; t < ntr; t++)
		{
			draws[t] = mm_rng_uniform(rng) * pot;
			trial[t] = t;
			cand[t] = km->n - 1;
		}
		mm_sort_draws(ntr, draws, trial);
		/* the first row whose running sum exceeds each draw */
		for (i0 = 0; i0 < km->n && next < ntr; i0++)
		{
			cum += closest[i0];
			while (next < ntr && draws[next] < cum)
				cand[trial[next++]] = i0;
		}

		/*
		 * The potential each candidate would leave, all in one pass, and
		 * each row's clipped expansion (cval), for mm_km_update_chosen.
		 */
		for (t = 0; t < ntr; t++)
		{
			const double *r = cbuf + (size_t) t * p;
			double		cc = 0.0;

			mm_km_row(km, cand[t], cbuf + (size_t) t * p);
			for (j = 0; j < p; j++)
				cc += r[j] * r[j];
			cpot[t] = 0.0;
			mb[t] = g * (2.0 * cc + 4.0 * km->munorm * sqrt(cc)) + tiny;
		}
		mm_km_prepare(km, ntr, cbuf, bias);
		for (i0 = 0; i0 < km->n; i0 += km->bs)
		{
			int			nb = mm_km_nb(km, i0);
			int			i;

			mm_km_block_gemm(km, i0, nb, ntr);
			for (i = 0; i < nb; i++)
			{
				const double *d = km->D + (size_t) i * ntr;
				double		xx = km->xx[i0 + i];
				double		cl = closest[i0 + i];
				double	   *cv = km->cval + i0 + i;

				for (t = 0; t < ntr; t++)
				{
					double		v = d[t] + bias[t] + xx;

					v = v > 0.0 ? v : 0.0;
					cpot[t] += v < cl ? v : cl;
					cv[(size_t) t * km->n] = v;
				}
			}
			mm_km_block_done(km);
		}
		best = 0;
		for (t = 1; t < ntr; t++)
			if (cpot[t] < cpot[best])
				best = t;
		memcpy(C + (size_t) c * p, cbuf + (size_t) best * p, sizeof(double) * p);
		pot = mm_km_update_chosen(km, C + (size_t) c * p, closest,
								  km->cval + (size_t) best * km->n,
								  3.0 * g, mb[best], 2.0 * g);
		km->last_loss = pot;
		mm_km_tick(km);
	}
}

/* k distinct random rows into C (centred); idx holds n int64. */
static void
mm_km_random(MmKm *km, MmRng *rng, double *C, int64_t *idx)
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
		mm_km_row(km, idx[c], C + (size_t) c * km->p);
	}
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
 * One assignment pass, one dgemm per block and one sweep over its rows:
 * the nearest centre (the lowest index minimising |c|^2 + 2 mu.c - 2 x.c),
 * the label, the cluster count and the sum of the centred row.  Returns
 * the number of labels that changed and in *pot the total squared
 * distance by the expansion (for the progress callback only).
 */
static int64_t
mm_km_assign(MmKm *km, const double *C, int32_t *labels, double *sums,
			 int64_t *counts, double *pot)
{
	int			p = km->p;
	int			k = km->k;
	const double *mu = km->mu;
	const double *bias = km->bias;
	int64_t		changed = 0;
	double		tot = 0.0;
	int64_t		i0;

	mm_km_prepare(km, k, C, km->bias);
	memset(sums, 0, sizeof(double) * (size_t) k * p);
	memset(counts, 0, sizeof(int64_t) * k);
	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		const double *x = km->X + (size_t) i0 * p;
		int32_t    *lab = labels + i0;
		int			nxt;
		const char *pf,
				   *pfend;
		int			i;

		/* the next block is fetched while this one is summed */
		nxt = i0 + nb < km->n ? mm_km_nb(km, i0 + nb) : 0;
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
	*pot = km->totss + tot;
	return changed;
}

/*
 * Re-seed empty clusters with the farthest rows (see the file comment);
 * C holds the centres the rows were assigned to, dist is scratch for n
 * squared distances, computed directly, only when a cluster is empty.
 */
static void
mm_km_relocate(MmKm *km, const double *C, const int32_t *labels, double *dist,
			   double *sums, int64_t *counts)
{
	int			p = km->p;
	int64_t		i0;
	int			c,
				j;

	for (c = 0; c < km->k; c++)
		if (counts[c] == 0)
			break;
	if (c == km->k)
		return;
	for (i0 = 0; i0 < km->n; i0 += km->bs)
		mm_km_block_direct(km, i0, mm_km_nb(km, i0), C, labels + i0, dist + i0);

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

/* Final assignment to C: labels and the exact inertia. */
static double
mm_km_inertia(MmKm *km, const double *C, int32_t *labels)
{
	int			k = km->k;
	double		tot = 0.0;
	int64_t		i0;

	mm_km_prepare(km, k, C, km->bias);
	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = mm_km_nb(km, i0);
		int32_t    *lab = labels + i0;
		int			i,
					c;

		mm_km_block_gemm(km, i0, nb, k);
		for (i = 0; i < nb; i++)
		{
			const double *d = km->D + (size_t) i * k;
			double		bv = d[0] + km->bias[0];
			int			best = 0;

			for (c = 1; c < k; c++)
			{
				double		v = d[c] + km->bias[c];

				if (v < bv)
				{
					bv = v;
					best = c;
				}
			}
			lab[i] = best;
		}
		mm_km_block_direct(km, i0, nb, C, lab, km->bd);
		for (i = 0; i < nb; i++)
			tot += km->bd[i];
		mm_km_block_done(km);
	}
	return tot;
}

/* One run of Lloyd's algorithm from the centres in C; returns the inertia. */
static double
mm_km_lloyd(MmKm *km, const MmKMeansParams *params, double tol_abs, double *C,
			int32_t *labels, double *dist, double *sums, int64_t *counts,
			int *iterations)
{
	int			p = km->p;
	int			k = km->k;
	int64_t		i;
	int			it;

	for (i = 0; i < km->n; i++)
		labels[i] = -1;
	for (it = 1; it <= params->max_iter; it++)
	{
		double		pot;
		double		shift = 0.0;
		int64_t		changed;
		int			c,
					j;

		km->iteration = it;
		changed = mm_km_assign(km, C, labels, sums, counts, &pot);
		mm_km_relocate(km, C, labels, dist, sums, counts);
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
	return mm_km_inertia(km, C, labels);
}

/* Fit k-means; see mm_core.h and the file comment. */
MmStatus
mm_kmeans_fit(int64_t n, int p, const double *X, const MmKMeansParams *params,
			  double *centers, MmKMeansInfo *info, const MmProgress *progress,
			  const MmAlloc *a, MmErr *err)
{
	MmKm		km;
	MmRng		master;
	size_t		kp;
	size_t		sz;
	double	   *C;
	double	   *best_C;
	double	   *sums;
	int64_t    *counts;
	int32_t    *labels;
	double	   *dist;
	int64_t    *idx = NULL;
	double	   *var;
	double		tol_abs = 0.0;
	double		best_inertia = INFINITY;
	int			best_iter = 0;
	int			run;
	int			m;
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
		!mm_mul_size((size_t) n, sizeof(double), &sz))
	{
		mm_err_set(err, "k-means problem too large");
		return MM_ELIMIT;
	}

	memset(&km, 0, sizeof(km));
	km.n = n;
	km.p = p;
	km.k = params->k;
	km.X = X;
	km.progress = progress;
	m = params->k > p ? params->k : p;
	km.bs = MM_BLOCK_DOUBLES / m;
	if (km.bs > MM_BLOCK_ROWS)
		km.bs = MM_BLOCK_ROWS;
	if (km.bs < 1)
		km.bs = 1;
	if (km.bs > n)
		km.bs = (int) n;

	/* column means and variances (two passes); finiteness */
	km.mu = mm_alloc0(a, sizeof(double) * p);
	var = mm_alloc0(a, sizeof(double) * p);
	if ((st = mm_column_means("k-means", n, p, X, km.mu, err)) != MM_OK)
		return st;
	for (i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;

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

	m = params->k > MM_MAX_TRIALS ? params->k : MM_MAX_TRIALS;
	km.D = mm_alloc0(a, sizeof(double) * (size_t) km.bs * m);
	km.bias = mm_alloc0(a, sizeof(double) * m);
	km.Ct = mm_alloc0(a, sizeof(double) * (size_t) m * p);
	km.bd = mm_alloc0(a, sizeof(double) * (size_t) km.bs);
	km.row = mm_alloc0(a, sizeof(double) * p);
	km.zero = mm_alloc0(a, sizeof(double) * p);
	km.cand = mm_alloc0(a, sizeof(double) * MM_MAX_TRIALS * p);
	C = mm_alloc0(a, sizeof(double) * kp);
	best_C = mm_alloc0(a, sizeof(double) * kp);
	sums = mm_alloc0(a, sizeof(double) * kp);
	counts = mm_alloc0(a, sizeof(int64_t) * params->k);
	labels = mm_alloc0(a, sizeof(int32_t) * (size_t) n);
	dist = mm_alloc0(a, sizeof(double) * (size_t) n);
	if (params->init == 1)
		idx = mm_alloc0(a, sizeof(int64_t) * (size_t) n);
	else if (params->k > 1)
	{
		/* every candidate round of every run scores with |x - mu|^2: once */
		km.xx = mm_alloc0(a, sizeof(double) * (size_t) n);
		for (i = 0; i < n; i += km.bs)
			mm_km_block_direct(&km, i, mm_km_nb(&km, i), km.zero, NULL, km.xx + i);
		km.cval = mm_alloc0(a, sizeof(double) * (size_t) n * mm_km_trials(params->k));
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
			mm_km_plusplus(&km, &rng, C, dist);
		else
			mm_km_random(&km, &rng, C, idx);
		inertia = mm_km_lloyd(&km, params, tol_abs, C, labels, dist, sums,
							  counts, &iters);
		if (run == 0 || inertia < best_inertia)
		{
			best_inertia = inertia;
			best_iter = iters;
			memcpy(best_C, C, sizeof(double) * kp);
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
