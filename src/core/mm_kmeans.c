/*
 * mm_kmeans.c
 *	  k-means (Lloyd's algorithm, k-means++ or random seeds) and the mean
 *	  silhouette coefficient.
 *
 * Centring.  Distances are translation invariant, so every computation
 * works on rows centred on the column means (as scikit-learn does): each
 * block of rows is copied, minus the means, into a scratch buffer before
 * use, and the centres are kept centred until they are returned.  This
 * keeps the digits of data far from the origin, where the expansion
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2 would otherwise cancel.
 *
 * Distances.  The rows are processed in blocks of nb rows (nb chosen so
 * that the scratch memory is O(nb * (k + p)), never O(n * k)): one dgemm
 * gives -2 X_b C', and the nearest centre of a row is the lowest index
 * minimising |c|^2 - 2 x.c (|x|^2 is added only to the minimum, for the
 * row's squared distance).  The final assignment and the
 * inertia use the direct sum of squared differences, which is exact to
 * rounding and never negative.
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
 * and accumulates the per-cluster sums; the new centres are the means.  A
 * cluster left empty is re-seeded with the row farthest from its centre
 * (largest D^2, lowest index on ties) among rows whose cluster keeps at
 * least one other row; that row's contribution moves to the empty
 * cluster, so no cluster is ever empty after the update.  The run stops
 * when no label changed (strict convergence), when the total squared
 * shift of the centres is at most tol * (mean of the population column
 * variances) (scikit-learn's tolerance), or after max_iter passes; then
 * the rows are assigned once more to the final centres and the inertia is
 * the sum of their squared distances.
 *
 * Restarts.  The generator seeded from params->seed yields one 64-bit
 * seed per run, and each run has its own generator seeded from it; the
 * run with the strictly lowest inertia is kept (the first on ties).
 *
 * Silhouette.  The rows are centred into a copy; the n x n distances are
 * formed tile by tile (dgemm of two row blocks, then sqrt of the clipped
 * expansion, 0 on the diagonal) and summed per row and cluster, so memory
 * is O(n p + tile * (tile + k)).  For a row of cluster A with |A| > 1,
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

#define MM_BLOCK_DOUBLES	262144	/* scratch doubles per block buffer */
#define MM_BLOCK_ROWS		1024
#define MM_PROGRESS_BLOCKS	256
#define MM_SIL_TILE			256
#define MM_MAX_TRIALS		64

/* The data and the scratch buffers of one fit. */
typedef struct MmKm
{
	int64_t		n;
	int			p;
	int			k;
	const double *X;
	double	   *mu;				/* p: column means */
	int			bs;				/* rows per block */
	double	   *blk;			/* bs*p: centred rows of the block */
	double	   *xx;				/* bs: their squared norms */
	double	   *D;				/* bs*k: -2 x.c (+ |c|^2) */
	double	   *cc;				/* k: squared norms of the centres */
	int32_t    *lab;			/* bs: nearest centres of the block */
	double	   *dd;				/* bs: their squared distances */
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

/* Copy rows i0..i0+nb-1, centred, into km->blk with their squared norms. */
static void
mm_km_load(MmKm *km, int64_t i0, int nb)
{
	int			p = km->p;
	const double *x = km->X + (size_t) i0 * p;
	const double *mu = km->mu;
	double	   *b = km->blk;
	int			i,
				j;

	for (i = 0; i < nb; i++)
		for (j = 0; j < p; j++)
			b[(size_t) i * p + j] = x[(size_t) i * p + j] - mu[j];
	/* column by column: independent sums, no chain of dependent adds */
	for (i = 0; i < nb; i++)
		km->xx[i] = 0.0;
	for (j = 0; j < p; j++)
		for (i = 0; i < nb; i++)
		{
			double		v = b[(size_t) i * p + j];

			km->xx[i] += v * v;
		}
}

/* Squared norms of the m rows of C. */
static void
mm_row_norms(int m, int p, const double *C, double *out)
{
	int			c,
				j;

	for (c = 0; c < m; c++)
	{
		const double *r = C + (size_t) c * p;
		double		s = 0.0;

		for (j = 0; j < p; j++)
			s += r[j] * r[j];
		out[c] = s;
	}
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
 * For the loaded block of nb rows, km->D[i*m + c] = |x_i - C_c|^2 by the
 * expansion (clipped at 0); norms holds the m squared norms of C.
 */
static void
mm_km_block_dist(MmKm *km, int nb, int m, const double *C, const double *norms)
{
	int			i,
				c;

	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, m, km->p,
				-2.0, km->blk, km->p, C, km->p, 0.0, km->D, m);
	for (i = 0; i < nb; i++)
	{
		double	   *d = km->D + (size_t) i * m;

		for (c = 0; c < m; c++)
		{
			double		v = d[c] + norms[c] + km->xx[i];

			d[c] = v > 0.0 ? v : 0.0;
		}
	}
}

/*
 * Nearest of the k centres C (squared norms in km->cc) for each row of the
 * loaded block: one dgemm, then the lowest index minimising |c|^2 - 2 x.c;
 * lab[i] and dist[i] (the squared distance by the expansion, clipped at 0).
 */
static void
mm_km_block_nearest(MmKm *km, int nb, const double *C, int32_t *lab,
					double *dist)
{
	int			k = km->k;
	int			i,
				c;

	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, km->p,
				-2.0, km->blk, km->p, C, km->p, 0.0, km->D, k);
	for (i = 0; i < nb; i++)
	{
		const double *d = km->D + (size_t) i * k;
		double		bv = d[0] + km->cc[0];
		int			best = 0;
		double		v;

		for (c = 1; c < k; c++)
		{
			v = d[c] + km->cc[c];
			if (v < bv)
			{
				bv = v;
				best = c;
			}
		}
		v = bv + km->xx[i];
		lab[i] = best;
		dist[i] = v > 0.0 ? v : 0.0;
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
		int			nb = (int) (km->n - i0 < km->bs ? km->n - i0 : km->bs);
		int			i;

		mm_km_load(km, i0, nb);
		for (i = 0; i < nb; i++)
		{
			double		d = mm_dist2(km->p, km->blk + (size_t) i * km->p, c);

			if (init || d < closest[i0 + i])
				closest[i0 + i] = d;
			pot += closest[i0 + i];
		}
		mm_km_block_done(km);
	}
	return pot;
}

/* Greedy k-means++ seeds into C (centred). */
static void
mm_km_plusplus(MmKm *km, MmRng *rng, double *C, double *closest)
{
	int			p = km->p;
	int			k = km->k;
	int			ntr = 2 + (int) floor(log((double) k));
	double		draws[MM_MAX_TRIALS];
	int			trial[MM_MAX_TRIALS];
	int64_t		cand[MM_MAX_TRIALS];
	double		cpot[MM_MAX_TRIALS];
	double		cnorm[MM_MAX_TRIALS];
	double		pot;
	int64_t		first;
	int			c,
				t;

	if (ntr > MM_MAX_TRIALS)
		ntr = MM_MAX_TRIALS;

	first = (int64_t) mm_rng_below(rng, (uint64_t) km->n);
	mm_km_load(km, first, 1);
	memcpy(C, km->blk, sizeof(double) * p);
	pot = mm_km_update_closest(km, C, closest, true);

	for (c = 1; c < k; c++)
	{
		double		cum = 0.0;
		int			next = 0;
		int64_t		i0;
		int			best;
		double	   *cbuf;

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
		 * The candidates' rows go to a scratch area: the unused tail of C
		 * (rows c..k-1) holds k - c rows, which may be fewer than ntr, so
		 * the candidates are evaluated in groups that fit there.
		 */
		cbuf = C + (size_t) c * p;
		for (t = 0; t < ntr; t++)
			cpot[t] = 0.0;
		{
			int			room = k - c;
			int			g0;

			for (g0 = 0; g0 < ntr; g0 += room)
			{
				int			gm = ntr - g0 < room ? ntr - g0 : room;
				int			g;

				for (g = 0; g < gm; g++)
				{
					mm_km_load(km, cand[g0 + g], 1);
					memcpy(cbuf + (size_t) g * p, km->blk, sizeof(double) * p);
				}
				mm_row_norms(gm, p, cbuf, cnorm);
				for (i0 = 0; i0 < km->n; i0 += km->bs)
				{
					int			nb = (int) (km->n - i0 < km->bs ? km->n - i0 : km->bs);
					int			i;

					mm_km_load(km, i0, nb);
					mm_km_block_dist(km, nb, gm, cbuf, cnorm);
					for (i = 0; i < nb; i++)
						for (g = 0; g < gm; g++)
						{
							double		d = km->D[(size_t) i * gm + g];
							double		cl = closest[i0 + i];

							cpot[g0 + g] += d < cl ? d : cl;
						}
					mm_km_block_done(km);
				}
			}
		}
		best = 0;
		for (t = 1; t < ntr; t++)
			if (cpot[t] < cpot[best])
				best = t;
		mm_km_load(km, cand[best], 1);
		memcpy(cbuf, km->blk, sizeof(double) * p);
		pot = mm_km_update_closest(km, cbuf, closest, false);
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
		mm_km_load(km, idx[c], 1);
		memcpy(C + (size_t) c * km->p, km->blk, sizeof(double) * km->p);
	}
}

/*
 * One assignment pass: labels, their squared distances (dist), and the
 * cluster sums and counts; returns the number of labels that changed and
 * the total squared distance in *pot.
 */
static int64_t
mm_km_assign(MmKm *km, const double *C, int32_t *labels, double *dist,
			 double *sums, int64_t *counts, double *pot)
{
	int			p = km->p;
	int64_t		changed = 0;
	double		tot = 0.0;
	int64_t		i0;

	mm_row_norms(km->k, p, C, km->cc);
	memset(sums, 0, sizeof(double) * (size_t) km->k * p);
	memset(counts, 0, sizeof(int64_t) * km->k);
	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = (int) (km->n - i0 < km->bs ? km->n - i0 : km->bs);
		int			i,
					j;

		mm_km_load(km, i0, nb);
		mm_km_block_nearest(km, nb, C, km->lab, dist + i0);
		for (i = 0; i < nb; i++)
		{
			int			l = km->lab[i];
			const double *x = km->blk + (size_t) i * p;
			double	   *s = sums + (size_t) l * p;

			if (labels[i0 + i] != l)
				changed++;
			labels[i0 + i] = l;
			tot += dist[i0 + i];
			counts[l]++;
			for (j = 0; j < p; j++)
				s[j] += x[j];
		}
		mm_km_block_done(km);
	}
	*pot = tot;
	return changed;
}

/* Re-seed empty clusters with the farthest rows (see the file comment). */
static void
mm_km_relocate(MmKm *km, const int32_t *labels, double *dist, double *sums,
			   int64_t *counts)
{
	int			p = km->p;
	int			c,
				j;

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
		mm_km_load(km, far, 1);
		from = sums + (size_t) labels[far] * p;
		for (j = 0; j < p; j++)
		{
			from[j] -= km->blk[j];
			sums[(size_t) c * p + j] = km->blk[j];
		}
		counts[labels[far]]--;
		counts[c] = 1;
	}
}

/* Final assignment to C: labels and the exact inertia. */
static double
mm_km_inertia(MmKm *km, const double *C, int32_t *labels)
{
	double		tot = 0.0;
	int64_t		i0;

	mm_row_norms(km->k, km->p, C, km->cc);
	for (i0 = 0; i0 < km->n; i0 += km->bs)
	{
		int			nb = (int) (km->n - i0 < km->bs ? km->n - i0 : km->bs);
		int			i;

		mm_km_load(km, i0, nb);
		mm_km_block_nearest(km, nb, C, labels + i0, km->dd);
		for (i = 0; i < nb; i++)
			tot += mm_dist2(km->p, km->blk + (size_t) i * km->p,
							C + (size_t) labels[i0 + i] * km->p);
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
		changed = mm_km_assign(km, C, labels, dist, sums, counts, &pot);
		mm_km_relocate(km, labels, dist, sums, counts);
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
	for (i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;

		for (j = 0; j < p; j++)
		{
			if (!isfinite(x[j]))
			{
				mm_err_set(err, "k-means: non-finite value in row %lld, column %d",
						   (long long) i + 1, j + 1);
				return MM_EINVAL;
			}
			km.mu[j] += x[j];
		}
	}
	for (j = 0; j < p; j++)
		km.mu[j] /= (double) n;
	for (i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;

		for (j = 0; j < p; j++)
		{
			double		d = x[j] - km.mu[j];

			var[j] += d * d;
		}
	}
	if (params->tol > 0.0)
	{
		double		s = 0.0;

		for (j = 0; j < p; j++)
			s += var[j] / (double) n;
		tol_abs = params->tol * (s / p);
	}

	km.blk = mm_alloc0(a, sizeof(double) * (size_t) km.bs * p);
	km.xx = mm_alloc0(a, sizeof(double) * (size_t) km.bs);
	km.D = mm_alloc0(a, sizeof(double) * (size_t) km.bs *
					 (params->k > MM_MAX_TRIALS ? params->k : MM_MAX_TRIALS));
	km.cc = mm_alloc0(a, sizeof(double) * params->k);
	km.lab = mm_alloc0(a, sizeof(int32_t) * (size_t) km.bs);
	km.dd = mm_alloc0(a, sizeof(double) * (size_t) km.bs);
	C = mm_alloc0(a, sizeof(double) * kp);
	best_C = mm_alloc0(a, sizeof(double) * kp);
	sums = mm_alloc0(a, sizeof(double) * kp);
	counts = mm_alloc0(a, sizeof(int64_t) * params->k);
	labels = mm_alloc0(a, sizeof(int32_t) * (size_t) n);
	dist = mm_alloc0(a, sizeof(double) * (size_t) n);
	if (params->init == 1)
		idx = mm_alloc0(a, sizeof(int64_t) * (size_t) n);

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
	int64_t		i0,
				j0,
				i;
	int			j,
				c;

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

	G = mm_alloc0(a, sizeof(double) * MM_SIL_TILE * MM_SIL_TILE);
	S = mm_alloc0(a, sizeof(double) * (size_t) MM_SIL_TILE * k);
	for (i0 = 0; i0 < n; i0 += MM_SIL_TILE)
	{
		int			ni = (int) (n - i0 < MM_SIL_TILE ? n - i0 : MM_SIL_TILE);
		int			ii;

		memset(S, 0, sizeof(double) * (size_t) MM_SIL_TILE * k);
		for (j0 = 0; j0 < n; j0 += MM_SIL_TILE)
		{
			int			nj = (int) (n - j0 < MM_SIL_TILE ? n - j0 : MM_SIL_TILE);
			int			jj;

			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, nj, p,
						-2.0, Xc + (size_t) i0 * p, p, Xc + (size_t) j0 * p, p,
						0.0, G, nj);
			for (ii = 0; ii < ni; ii++)
			{
				double	   *s = S + (size_t) ii * k;

				for (jj = 0; jj < nj; jj++)
				{
					double		d2 = G[(size_t) ii * nj + jj] + xx[i0 + ii] + xx[j0 + jj];

					if (i0 + ii == j0 + jj || !(d2 > 0.0))
						continue;
					s[label[j0 + jj]] += sqrt(d2);
				}
			}
		}
		for (ii = 0; ii < ni; ii++)
		{
			const double *s = S + (size_t) ii * k;
			int			l = label[i0 + ii];
			double		aa,
						bb = INFINITY,
						m;

			if (cnt[l] < 2)
				continue;		/* singleton: s = 0 */
			aa = s[l] / (double) (cnt[l] - 1);
			for (c = 0; c < k; c++)
				if (c != l && cnt[c] > 0 && s[c] / (double) cnt[c] < bb)
					bb = s[c] / (double) cnt[c];
			m = aa > bb ? aa : bb;
			if (m > 0.0)
				total += (bb - aa) / m;
		}
	}
	return total / (double) n;
}
