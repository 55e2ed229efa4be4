/*
 * mm_nb.c
 *	  Naive Bayes: Gaussian likelihoods for numeric columns, categorical
 *	  likelihoods for one-hot groups.
 *
 * Fit, in one pass over the rows (MmNbAcc, below): per class its row
 * count, the means theta of the numeric columns and their squared
 * deviations from them, accumulated a block of rows at a time and merged
 * by the pairwise update, which gives the population variances without
 * the cancellation of a sum of squares; and the ones of every group column
 * per class.  Then, as scikit-learn's GaussianNB and CategoricalNB (1.2):
 *
 *	 epsilon	  = var_smoothing * max_j Var(column j over all rows)
 *				   (numeric columns only)
 *	 var[k][j]	  = Var(column j within class k) + epsilon
 *	 log_prob[k][j] = log((count_kj + alpha) / (n_k + alpha * L_g))
 *				   for column j of a group g of L_g columns
 *	 log_prior[k] = log(n_k / n)
 *
 * alpha below 1e-10 is raised to 1e-10 (sklearn's behaviour with
 * force_alpha left off).  When every numeric column is constant, epsilon
 * would be 0 and a variance 0 makes the density undefined (sklearn
 * returns NaN); epsilon is then var_smoothing itself, as if the largest
 * variance were 1.  A variance that is still 0 (var_smoothing 0) is
 * MM_ENUMERIC.  Every class must occur in the training rows.
 *
 * Prediction: the joint log-likelihood per class,
 *	 log_prior[k] + sum over numeric j of
 *		-0.5 log(2 pi var[k][j]) - (x_j - theta[k][j])^2 / (2 var[k][j])
 *	 + for each group, log_prob[k][j] for the group column j equal to 1
 *	   (none: an unseen level, the group contributes nothing)
 * normalised stably by subtracting the largest before exponentiating.
 */
#include "mm_core.h"

#include <math.h>
#include <string.h>

#define MM_NB_MIN_ALPHA 1e-10
#define MM_PI 3.14159265358979323846

/*
 * Check the arguments of mm_nb_fit; MM_OK or an error in err.  *all_numeric:
 * no column belongs to a one-hot group (then the fit checks the values).
 */
static MmStatus
mm_nb_check(int64_t n, int p, int K, const double *X, const int32_t *y,
			const int32_t *group, double var_smoothing, double alpha,
			bool *all_numeric, MmErr *err)
{
	int64_t		i;
	int			j;

	if (n < 1)
	{
		mm_err_set(err, "naive bayes needs at least one row");
		return MM_EINVAL;
	}
	if (p < 1)
	{
		mm_err_set(err, "naive bayes needs at least one feature");
		return MM_EINVAL;
	}
	if (K < 2 || K > MM_MAX_CLASSES)
	{
		mm_err_set(err, "naive bayes needs between 2 and %d classes, got %d",
				   MM_MAX_CLASSES, K);
		return MM_EINVAL;
	}
	if (X == NULL || y == NULL || group == NULL)
	{
		mm_err_set(err, "naive bayes: missing data");
		return MM_EINVAL;
	}
	if (!(var_smoothing >= 0.0) || !isfinite(var_smoothing))
	{
		mm_err_set(err, "naive bayes var_smoothing must be non-negative and finite");
		return MM_EINVAL;
	}
	if (!(alpha >= 0.0) || !isfinite(alpha))
	{
		mm_err_set(err, "naive bayes alpha must be non-negative and finite");
		return MM_EINVAL;
	}
	for (j = 0; j < p; j++)
	{
		if (group[j] < -1)
		{
			mm_err_set(err, "invalid group %d of column %d", (int) group[j], j);
			return MM_EINVAL;
		}
	}
	*all_numeric = true;
	for (j = 0; j < p; j++)
		*all_numeric &= group[j] < 0;
	for (i = 0; i < n; i++)
	{
		if (y[i] < 0 || y[i] >= K)
		{
			mm_err_set(err, "class %d of row %lld is out of range 0..%d",
					   (int) y[i], (long long) i, K - 1);
			return MM_EINVAL;
		}
		/* numeric columns only: pass 1 of the fit checks the values */
		if (*all_numeric)
			continue;
		for (j = 0; j < p; j++)
		{
			double		v = X[(size_t) i * p + j];

			if (!isfinite(v))
			{
				mm_err_set(err, "non-finite value in row %lld, column %d",
						   (long long) i, j);
				return MM_EINVAL;
			}
			if (group[j] >= 0 && v != 0.0 && v != 1.0)
			{
				mm_err_set(err, "one-hot column %d of row %lld is neither 0 nor 1",
						   j, (long long) i);
				return MM_EINVAL;
			}
		}
	}
	return MM_OK;
}

/*
 * The fit's statistics in one pass (MmNbAcc, mm_core.h): per class its
 * row count, and for each numeric column the mean and the sum of squared
 * deviations from it, for each one-hot column the count of ones.  Rows
 * are taken MM_NB_BLOCK at a time, in the order given: the block's
 * per-class sums give its class means, then its squared deviations from
 * them, and the block merges into the running statistics (Chan, Golub
 * and LeVeque's pairwise update):
 *
 *	 n = na + nb,  delta = mean_b - mean_a,
 *	 mean = mean_a + delta * (nb / n),
 *	 M2	  = M2_a + M2_b + delta^2 * (na * nb / n)
 *
 * without keeping the rows and without the cancellation of a sum of
 * squares: each block is taken relative to its class's mean so far
 * (mm_nb_acc_block), so a variance's relative error is about the rounding
 * of a mean, 1e-16 x mean / spread, near two passes' for ordinary data
 * (test_nb_acc_offset).  The blocks are counted from the
 * first row, whatever runs the rows come in, so the same rows in the same
 * order give the same statistics to the bit.  Statistics of several
 * parts merge by the same update (mm_nb_acc_merge_flat).
 */
#define MM_NB_COUNT(s, K, p) (s)
#define MM_NB_MEAN(s, K, p) ((s) + (K))
#define MM_NB_M2(s, K, p) ((s) + (K) + (size_t) (K) * (p))
#define MM_NB_ONES(s, K, p) ((s) + (K) + 2 * (size_t) (K) * (p))

size_t
mm_nb_acc_len(int p, int K)
{
	return (size_t) K * (1 + 3 * (size_t) p);
}

void
mm_nb_acc_init(MmNbAcc *acc, int p, int K, const int32_t *group, const MmAlloc *a)
{
	memset(acc, 0, sizeof(*acc));
	acc->p = p;
	acc->a = a;
	acc->group = mm_alloc0(a, sizeof(int32_t) * (size_t) (p > 0 ? p : 1));
	acc->all_numeric = true;
	for (int j = 0; j < p; j++)
	{
		acc->group[j] = group != NULL ? group[j] : -1;
		acc->all_numeric &= acc->group[j] < 0;
	}
	acc->bx = mm_alloc0(a, sizeof(double) * MM_NB_BLOCK * (size_t) (p > 0 ? p : 1));
	acc->by = mm_alloc0(a, sizeof(int32_t) * MM_NB_BLOCK);
	acc->present = mm_alloc0(a, sizeof(int32_t) * MM_NB_BLOCK);
	mm_nb_acc_grow(acc, K);
}

/* Room for K classes (never fewer than it has): the new ones empty. */
void
mm_nb_acc_grow(MmNbAcc *acc, int K)
{
	int			p = acc->p;
	int			old = acc->K;
	double	   *s;
	double	   *bs;

	if (K <= old)
		return;
	/* growing one label at a time: doubled, up to the classes a model may have */
	if (old > 0 && K < 2 * old)
		K = 2 * old < MM_MAX_CLASSES ? 2 * old : (K > MM_MAX_CLASSES ? K : MM_MAX_CLASSES);
	s = mm_alloc0(acc->a, sizeof(double) * mm_nb_acc_len(p, K));
	bs = mm_alloc0(acc->a, sizeof(double) * (size_t) K * (1 + 3 * (size_t) p));
	if (old > 0)
	{
		/* the four arrays, each to its new place */
		memcpy(MM_NB_COUNT(s, K, p), MM_NB_COUNT(acc->s, old, p), sizeof(double) * old);
		memcpy(MM_NB_MEAN(s, K, p), MM_NB_MEAN(acc->s, old, p), sizeof(double) * (size_t) old * p);
		memcpy(MM_NB_M2(s, K, p), MM_NB_M2(acc->s, old, p), sizeof(double) * (size_t) old * p);
		memcpy(MM_NB_ONES(s, K, p), MM_NB_ONES(acc->s, old, p), sizeof(double) * (size_t) old * p);
		/* the block's scratch is empty between blocks (its rows wait in bx, by) */
	}
	acc->s = s;
	acc->bcount = bs;
	acc->bsum = bs + K;
	acc->bm2 = bs + K + (size_t) K * p;
	acc->bshift = bs + K + 2 * (size_t) K * p;
	acc->K = K;
}

/*
 * The two per-row steps of a block, t[j] += x[j] - sh[j] and, with the
 * block's mean offsets t, v[j] += ((x[j] - sh[j]) - t[j])^2: element by
 * element the same operations whether two columns share a register or
 * not (GCC's vector extension where there is one).
 */
#if defined(__GNUC__)
typedef double mm_v2d __attribute__((vector_size(16)));
#endif

static inline void
mm_nb_add_offsets(double *t, const double *x, const double *sh, int p)
{
	int			j = 0;

#if defined(__GNUC__)
	for (; j + 2 <= p; j += 2)
	{
		mm_v2d		tv,
					xv,
					sv;

		memcpy(&tv, t + j, sizeof(mm_v2d));
		memcpy(&xv, x + j, sizeof(mm_v2d));
		memcpy(&sv, sh + j, sizeof(mm_v2d));
		tv += xv - sv;
		memcpy(t + j, &tv, sizeof(mm_v2d));
	}
#endif
	for (; j < p; j++)
		t[j] += x[j] - sh[j];
}

static inline void
mm_nb_add_squares(double *v, const double *x, const double *sh, const double *t, int p)
{
	int			j = 0;

#if defined(__GNUC__)
	for (; j + 2 <= p; j += 2)
	{
		mm_v2d		vv,
					xv,
					sv,
					tv,
					d;

		memcpy(&vv, v + j, sizeof(mm_v2d));
		memcpy(&xv, x + j, sizeof(mm_v2d));
		memcpy(&sv, sh + j, sizeof(mm_v2d));
		memcpy(&tv, t + j, sizeof(mm_v2d));
		d = (xv - sv) - tv;
		vv += d * d;
		memcpy(v + j, &vv, sizeof(mm_v2d));
	}
#endif
	for (; j < p; j++)
	{
		double		d = (x[j] - sh[j]) - t[j];

		v[j] += d * d;
	}
}

/*
 * Fold the pending block into the statistics.  Each class's rows are
 * taken relative to a shift: the class's mean so far, or for a class new
 * to the statistics its first row in the block.  The block's mean offset
 * from it (delta) then has no error from summing values far from the
 * origin, and the deviations (x - shift) - delta are the block's.
 */
static void
mm_nb_acc_block(MmNbAcc *acc)
{
	int			p = acc->p;
	int			K = acc->K;
	int			np = 0;
	double	   *count = MM_NB_COUNT(acc->s, K, p);
	double	   *mean = MM_NB_MEAN(acc->s, K, p);
	double	   *m2 = MM_NB_M2(acc->s, K, p);
	double	   *ones = MM_NB_ONES(acc->s, K, p);

	/* the block's classes, their shifts, counts and sums from the shifts */
	for (int i = 0; i < acc->nb; i++)
	{
		int			k = acc->by[i];
		const double *x = acc->bx + (size_t) i * p;
		double	   *t = acc->bsum + (size_t) k * p;
		double	   *sh = acc->bshift + (size_t) k * p;

		if (acc->bcount[k] == 0.0)
		{
			acc->present[np++] = k;
			memcpy(sh, count[k] > 0.0 ? mean + (size_t) k * p : x, sizeof(double) * p);
		}
		acc->bcount[k] += 1.0;
		if (acc->all_numeric)
			mm_nb_add_offsets(t, x, sh, p);
		else
			for (int j = 0; j < p; j++)
				t[j] += acc->group[j] < 0 ? x[j] - sh[j] : x[j];
	}
	/* the block's class means, as offsets from the shifts (numeric columns) */
	for (int c = 0; c < np; c++)
	{
		int			k = acc->present[c];
		double	   *t = acc->bsum + (size_t) k * p;
		double		cnt = acc->bcount[k];

		for (int j = 0; j < p; j++)
			if (acc->all_numeric || acc->group[j] < 0)
				t[j] /= cnt;
	}
	/* its squared deviations from them */
	for (int i = 0; i < acc->nb; i++)
	{
		int			k = acc->by[i];
		const double *x = acc->bx + (size_t) i * p;
		const double *t = acc->bsum + (size_t) k * p;
		const double *sh = acc->bshift + (size_t) k * p;
		double	   *v = acc->bm2 + (size_t) k * p;

		mm_nb_add_squares(v, x, sh, t, p);
	}
	/* each class of the block merged into its statistics */
	for (int c = 0; c < np; c++)
	{
		int			k = acc->present[c];
		double		na = count[k];
		double		nb = acc->bcount[k];
		double		n = na + nb;
		double	   *t = acc->bsum + (size_t) k * p;
		double	   *v = acc->bm2 + (size_t) k * p;
		const double *sh = acc->bshift + (size_t) k * p;
		double	   *mk = mean + (size_t) k * p;
		double	   *qk = m2 + (size_t) k * p;
		double	   *ok = ones + (size_t) k * p;

		for (int j = 0; j < p; j++)
		{
			if (acc->group[j] >= 0)
				ok[j] += t[j];
			else if (na == 0.0)
			{
				mk[j] = sh[j] + t[j];
				qk[j] = v[j];
			}
			else
			{
				/* the shift is the mean so far: t[j] is the difference of the means */
				mk[j] += t[j] * (nb / n);
				qk[j] += v[j] + t[j] * t[j] * (na * nb / n);
			}
			t[j] = 0.0;
			v[j] = 0.0;
		}
		count[k] = n;
		acc->bcount[k] = 0.0;
	}
	acc->nb = 0;
}

/*
 * Add n rows (X, p values each; y their classes, below the K it has room
 * for, checked by the caller) to acc.  A model of numeric columns only
 * checks the values here: a non-finite one is MM_EINVAL, its row numbered
 * from row0 (the others are mm_nb_fit's to check).
 */
MmStatus
mm_nb_acc_rows(MmNbAcc *acc, const double *X, const int32_t *y, int64_t n, int64_t row0,
			   MmErr *err)
{
	int			p = acc->p;

	for (int64_t i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;

		if (acc->all_numeric)
		{
			bool		finite = true;
			int			j;

			for (j = 0; j < p; j++)
				finite &= isfinite(x[j]) != 0;
			if (!finite)
			{
				for (j = 0; isfinite(x[j]); j++)
					;
				mm_err_set(err, "non-finite value in row %lld, column %d",
						   (long long) (row0 + i), j);
				return MM_EINVAL;
			}
		}
		memcpy(acc->bx + (size_t) acc->nb * p, x, sizeof(double) * p);
		acc->by[acc->nb++] = y[i];
		if (acc->nb == MM_NB_BLOCK)
			mm_nb_acc_block(acc);
	}
	return MM_OK;
}

/* Take the row written at mm_nb_acc_slot, of class y (its values checked by the caller). */
void
mm_nb_acc_push(MmNbAcc *acc, int32_t y)
{
	acc->by[acc->nb++] = y;
	if (acc->nb == MM_NB_BLOCK)
		mm_nb_acc_block(acc);
}

/* Fold in the rows of a last, partial block. */
void
mm_nb_acc_flush(MmNbAcc *acc)
{
	if (acc->nb > 0)
		mm_nb_acc_block(acc);
}

/*
 * Merge into acc (flushed) the statistics of another part, flat as
 * acc->s is (mm_nb_acc_len(p, K) doubles of the same K): class by class
 * by the pairwise update, one-hot counts added.  With what[k] given, the
 * part's class k goes to acc's class what[k] (a part's own numbering of
 * the classes); a class whose number is negative must have no rows.
 * False when the part is malformed (a negative or non-integer count).
 */
bool
mm_nb_acc_merge_flat(MmNbAcc *acc, const double *part, int K, const int32_t *what)
{
	int			p = acc->p;
	int			AK = acc->K;

	for (int k = 0; k < K; k++)
	{
		double		nb = MM_NB_COUNT(part, K, p)[k];
		int			to;
		double		na;
		double		n;
		const double *mb = MM_NB_MEAN(part, K, p) + (size_t) k * p;
		const double *qb = MM_NB_M2(part, K, p) + (size_t) k * p;
		const double *ob = MM_NB_ONES(part, K, p) + (size_t) k * p;
		double	   *ma;
		double	   *qa;
		double	   *oa;

		if (!(nb >= 0.0) || nb != floor(nb))
			return false;
		if (nb == 0.0)
			continue;
		to = what != NULL ? what[k] : k;
		if (to < 0 || to >= AK)
			return false;
		na = MM_NB_COUNT(acc->s, AK, p)[to];
		n = na + nb;
		ma = MM_NB_MEAN(acc->s, AK, p) + (size_t) to * p;
		qa = MM_NB_M2(acc->s, AK, p) + (size_t) to * p;
		oa = MM_NB_ONES(acc->s, AK, p) + (size_t) to * p;
		for (int j = 0; j < p; j++)
		{
			if (acc->group[j] >= 0)
				oa[j] += ob[j];
			else if (na == 0.0)
			{
				ma[j] = mb[j];
				qa[j] = qb[j];
			}
			else
			{
				double		delta = mb[j] - ma[j];

				ma[j] += delta * (nb / n);
				qa[j] += qb[j] + delta * delta * (na * nb / n);
			}
		}
		MM_NB_COUNT(acc->s, AK, p)[to] = n;
	}
	return true;
}

/* the columns of each column's one-hot group (a run of equal group numbers) */
static void
mm_nb_widths(int p, const int32_t *group, int *width)
{
	int			j;

	for (j = 0; j < p;)
	{
		int			len = 1;
		int			jj;

		while (group[j] >= 0 && j + len < p && group[j + len] == group[j])
			len++;
		for (jj = j; jj < j + len; jj++)
			width[jj] = len;
		j += len;
	}
}

/*
 * The model from the statistics of all the rows (acc, flushed, of K
 * classes) into *out, as the file header says.  The variance over all the
 * rows (for epsilon) merges the classes' statistics in class order.
 */
MmStatus
mm_nb_fit_acc(const MmNbAcc *acc, int K, double var_smoothing, double alpha,
			  MmNaiveBayes *out, const MmAlloc *a, MmErr *err)
{
	int			p = acc->p;
	int			AK = acc->K;
	const double *count = MM_NB_COUNT(acc->s, AK, p);
	const double *mean = MM_NB_MEAN(acc->s, AK, p);
	const double *m2 = MM_NB_M2(acc->s, AK, p);
	const double *ones = MM_NB_ONES(acc->s, AK, p);
	double		n = 0.0;
	int		   *width;
	double		maxvar = 0.0;
	bool		any_numeric = false;
	int			j,
				k;

	if (K > AK)
	{
		mm_err_set(err, "naive bayes statistics of %d classes, not %d", AK, K);
		return MM_EINVAL;
	}
	if (alpha < MM_NB_MIN_ALPHA)
		alpha = MM_NB_MIN_ALPHA;
	memset(out, 0, sizeof(*out));
	out->K = K;
	out->p = p;
	out->log_prior = mm_alloc0(a, sizeof(double) * K);
	out->theta = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->var = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->log_prob = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->group = mm_alloc0(a, sizeof(int32_t) * (p > 0 ? p : 1));
	memcpy(out->group, acc->group, sizeof(int32_t) * p);
	width = mm_alloc0(a, sizeof(int) * (p > 0 ? p : 1));
	mm_nb_widths(p, acc->group, width);

	for (k = 0; k < K; k++)
	{
		if (count[k] == 0.0)
		{
			mm_err_set(err, "class %d has no rows in the training data", k);
			return MM_ENODATA;
		}
		n += count[k];
	}
	for (k = 0; k < K; k++)
		out->log_prior[k] = log(count[k] / n);

	/* each numeric column's variance over all the rows: the classes merged */
	for (j = 0; j < p; j++)
	{
		double		na = 0.0,
					ma = 0.0,
					qa = 0.0;

		if (acc->group[j] >= 0)
			continue;
		any_numeric = true;
		for (k = 0; k < K; k++)
		{
			double		nb = count[k];
			double		mb = mean[(size_t) k * p + j];
			double		qb = m2[(size_t) k * p + j];

			if (na == 0.0)
			{
				ma = mb;
				qa = qb;
			}
			else
			{
				double		delta = mb - ma;

				ma += delta * (nb / (na + nb));
				qa += qb + delta * delta * (na * nb / (na + nb));
			}
			na += nb;
		}
		if (qa / n > maxvar)
			maxvar = qa / n;
	}
	out->epsilon = var_smoothing * maxvar;
	if (any_numeric && out->epsilon == 0.0)
		out->epsilon = var_smoothing;

	for (k = 0; k < K; k++)
	{
		double	   *t = out->theta + (size_t) k * p;
		double	   *v = out->var + (size_t) k * p;
		double	   *lp = out->log_prob + (size_t) k * p;

		for (j = 0; j < p; j++)
		{
			size_t		at = (size_t) k * p + j;

			if (acc->group[j] < 0)
			{
				t[j] = mean[at];
				v[j] = m2[at] / count[k] + out->epsilon;
				if (!(v[j] > 0.0))
				{
					mm_err_set(err, "column %d has zero variance within class %d; use var_smoothing > 0",
							   j, k);
					return MM_ENUMERIC;
				}
			}
			else
				lp[j] = log((ones[at] + alpha) / (count[k] + alpha * width[j]));
		}
	}
	mm_nb_prepare(out, a);
	return MM_OK;
}

/* Fit the naive Bayes model described in the file header into *out. */
MmStatus
mm_nb_fit(int64_t n, int p, int K, const double *X, const int32_t *y,
		  const int32_t *group, double var_smoothing, double alpha,
		  MmNaiveBayes *out, const MmAlloc *a, MmErr *err)
{
	MmStatus	st;
	bool		all_numeric;
	MmNbAcc		acc;

	st = mm_nb_check(n, p, K, X, y, group, var_smoothing, alpha, &all_numeric, err);
	if (st != MM_OK)
		return st;
	mm_nb_acc_init(&acc, p, K, group, a);
	st = mm_nb_acc_rows(&acc, X, y, n, 0, err);
	if (st != MM_OK)
		return st;
	mm_nb_acc_flush(&acc);
	return mm_nb_fit_acc(&acc, K, var_smoothing, alpha, out, a, err);
}

/* Class k's sum of log(2 pi var) over the numeric columns. */
static double
mm_nb_log_norm(const MmNaiveBayes *nb, int k)
{
	const double *v = nb->var + (size_t) k * nb->p;
	double		gauss = 0.0;

	for (int j = 0; j < nb->p; j++)
		if (nb->group[j] < 0)
			gauss += log(2.0 * MM_PI * v[j]);
	return gauss;
}

/*
 * Precompute mm_nb_log_norm of every class, which every row's likelihood
 * adds (the same sum whether precomputed or not), and for a model of
 * numeric columns only the inverse variances, which turn each row's
 * divisions into products (a row's probabilities then differ from the
 * unprepared ones in their last bits at most).
 */
void
mm_nb_prepare(MmNaiveBayes *nb, const MmAlloc *a)
{
	size_t		kp = (size_t) nb->K * nb->p;
	bool		numeric = true;

	nb->log_norm = mm_alloc0(a, sizeof(double) * nb->K);
	for (int k = 0; k < nb->K; k++)
		nb->log_norm[k] = mm_nb_log_norm(nb, k);
	for (int j = 0; j < nb->p; j++)
		numeric &= nb->group[j] < 0;
	nb->inv_var = NULL;
	if (numeric)
	{
		nb->inv_var = mm_alloc0(a, sizeof(double) * kp);
		for (size_t i = 0; i < kp; i++)
			nb->inv_var[i] = 1.0 / nb->var[i];
	}
}

/* Half the squared distance of x from class k's means, in variances (numeric columns only). */
static inline double
mm_nb_quad_numeric(const MmNaiveBayes *nb, int k, const double *x)
{
	const double *t = nb->theta + (size_t) k * nb->p;
	const double *iv = nb->inv_var + (size_t) k * nb->p;
	double		q0 = 0.0,
				q1 = 0.0,
				q2 = 0.0,
				q3 = 0.0;
	int			p = nb->p;
	int			j = 0;

	/* four sums: no chain of additions through the row */
	for (; j + 4 <= p; j += 4)
	{
		double		d0 = x[j] - t[j];
		double		d1 = x[j + 1] - t[j + 1];
		double		d2 = x[j + 2] - t[j + 2];
		double		d3 = x[j + 3] - t[j + 3];

		q0 += d0 * d0 * iv[j];
		q1 += d1 * d1 * iv[j + 1];
		q2 += d2 * d2 * iv[j + 2];
		q3 += d3 * d3 * iv[j + 3];
	}
	for (; j < p; j++)
	{
		double		d = x[j] - t[j];

		q0 += d * d * iv[j];
	}
	return (q0 + q1) + (q2 + q3);
}

/*
 * Whether mm_nb_proba takes the AVX2 quadratic form: -1 not chosen yet
 * (then the CPU's, mm_cpu_avx2), 0 no, 1 yes; a unit test compares them.
 */
int			mm_nb_avx2 = -1;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MM_NB_AVX2 1
#include <immintrin.h>

/*
 * mm_nb_quad_numeric with AVX2, to the bit: lane l of the vector is the
 * sum q_l above (columns j with j % 4 == l, in order), each term the same
 * (d * d) * iv without a fused multiply-add, the tail added to q0 and the
 * lanes combined as (q0 + q1) + (q2 + q3).
 */
__attribute__((target("avx2")))
static double
mm_nb_quad_numeric_avx2(const MmNaiveBayes *nb, int k, const double *x)
{
	const double *t = nb->theta + (size_t) k * nb->p;
	const double *iv = nb->inv_var + (size_t) k * nb->p;
	__m256d		q = _mm256_setzero_pd();
	double		l[4];
	int			p = nb->p;
	int			j = 0;

	for (; j + 4 <= p; j += 4)
	{
		__m256d		d = _mm256_sub_pd(_mm256_loadu_pd(x + j), _mm256_loadu_pd(t + j));

		q = _mm256_add_pd(q, _mm256_mul_pd(_mm256_mul_pd(d, d), _mm256_loadu_pd(iv + j)));
	}
	_mm256_storeu_pd(l, q);
	for (; j < p; j++)
	{
		double		d = x[j] - t[j];

		l[0] += d * d * iv[j];
	}
	return (l[0] + l[1]) + (l[2] + l[3]);
}
#endif

/* The K class probabilities of one row x[p]. */
void
mm_nb_proba(const MmNaiveBayes *nb, const double *x, double *proba)
{
	int			K = nb->K;
	int			p = nb->p;
	double		mx = -INFINITY;
	double		s = 0.0;
	int			j,
				k;
#ifdef MM_NB_AVX2
	int			avx2 = mm_nb_avx2 >= 0 ? mm_nb_avx2 : (mm_nb_avx2 = mm_cpu_avx2());
#endif

	for (k = 0; k < K; k++)
	{
		const double *t = nb->theta + (size_t) k * p;
		const double *v = nb->var + (size_t) k * p;
		const double *lp = nb->log_prob + (size_t) k * p;
		double		jll = nb->log_prior[k];
		double		gauss;
		double		quad = 0.0;

		gauss = nb->log_norm != NULL ? nb->log_norm[k] : mm_nb_log_norm(nb, k);
		if (nb->inv_var != NULL)
		{
#ifdef MM_NB_AVX2
			if (avx2)
				proba[k] = jll + (-0.5 * gauss - 0.5 * mm_nb_quad_numeric_avx2(nb, k, x));
			else
#endif
				proba[k] = jll + (-0.5 * gauss - 0.5 * mm_nb_quad_numeric(nb, k, x));
			if (proba[k] > mx)
				mx = proba[k];
			continue;
		}
		for (j = 0; j < p; j++)
		{
			if (nb->group[j] < 0)
			{
				double		dx = x[j] - t[j];

				quad += dx * dx / v[j];
			}
			else if (x[j] == 1.0)
				jll += lp[j];
		}
		jll += -0.5 * gauss - 0.5 * quad;
		proba[k] = jll;
		if (jll > mx)
			mx = jll;
	}
	for (k = 0; k < K; k++)
	{
		/* exp(0) is 1: the most likely class needs no call */
		proba[k] = proba[k] == mx && isfinite(mx) ? 1.0 : exp(proba[k] - mx);
		s += proba[k];
	}
	for (k = 0; k < K; k++)
		proba[k] /= s;
}
