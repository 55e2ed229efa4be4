/*
 * mm_nb.c
 *	  Naive Bayes: Gaussian likelihoods for numeric columns, categorical
 *	  likelihoods for one-hot groups.
 *
 * Fit, in two passes over the rows.  The first counts the rows of each
 * class and sums the numeric columns per class (and over all rows); the
 * means theta follow.  The second sums the squared deviations from those
 * means (per class and over all rows), which gives the population
 * variances without the cancellation of the one-pass formula, and counts
 * the ones of every group column per class.  Then, as scikit-learn's
 * GaussianNB and CategoricalNB (1.2):
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
 * The fit in stages, for rows split between processes: each adds its
 * rows' class counts and sums (stage 1) into s1, and, given the means,
 * their squared deviations and one-hot counts (stage 2) into s2; the
 * stages' arrays of several parts add up (mm_nb_fit_stats).  mm_nb_fit is
 * the same stages over one part, so a fit from one part is the same to
 * the bit.  s1: count[K], sum[K*p], sum_all[p]; s2: sq[K*p], sq_all[p],
 * ones[K*p].
 */
size_t
mm_nb_stage1_len(int p, int K)
{
	return (size_t) K + (size_t) K * p + (size_t) p;
}

size_t
mm_nb_stage2_len(int p, int K)
{
	return 2 * (size_t) K * p + (size_t) p;
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
 * Stage 1: add the class counts and the sums of the numeric columns of n
 * rows (y checked by the caller) to s1.  With all_numeric the values are
 * checked here: a non-finite one is MM_EINVAL (row numbers from row0).
 */
MmStatus
mm_nb_stage1(int64_t n, int p, int K, const double *X, const int32_t *y,
			 const int32_t *group, bool all_numeric, int64_t row0, double *s1,
			 MmErr *err)
{
	double	   *count = s1;
	double	   *sum = s1 + K;
	double	   *sum_all = sum + (size_t) K * p;
	int64_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;
		double	   *t = sum + (size_t) y[i] * p;

		count[y[i]] += 1.0;
		if (all_numeric)
		{
			/* the common case without a branch per value; checked here */
			bool		finite = true;

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
			for (j = 0; j < p; j++)
			{
				t[j] += x[j];
				sum_all[j] += x[j];
			}
			continue;
		}
		for (j = 0; j < p; j++)
		{
			if (group[j] < 0)
			{
				t[j] += x[j];
				sum_all[j] += x[j];
			}
		}
	}
	return MM_OK;
}

/*
 * The class means theta[K*p] and the means over all rows mean_all[p] of
 * the numeric columns from the stage 1 sums of all the n rows.
 */
void
mm_nb_means(int64_t n, int p, int K, const double *s1, double *theta, double *mean_all)
{
	const double *count = s1;
	const double *sum = s1 + K;
	const double *sum_all = sum + (size_t) K * p;
	int			j,
				k;

	for (k = 0; k < K; k++)
		for (j = 0; j < p; j++)
			theta[(size_t) k * p + j] = count[k] > 0.0 ?
				sum[(size_t) k * p + j] / count[k] : 0.0;
	for (j = 0; j < p; j++)
		mean_all[j] = sum_all[j] / (double) n;
}

/* Stage 2: add the squared deviations from the means and the one-hot counts to s2. */
void
mm_nb_stage2(int64_t n, int p, int K, const double *X, const int32_t *y,
			 const int32_t *group, bool all_numeric, const double *theta,
			 const double *mean_all, double *s2)
{
	double	   *sq = s2;
	double	   *sq_all = s2 + (size_t) K * p;
	double	   *ones = sq_all + p;
	int64_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const double *x = X + (size_t) i * p;
		const double *t = theta + (size_t) y[i] * p;
		double	   *v = sq + (size_t) y[i] * p;
		double	   *c = ones + (size_t) y[i] * p;

		if (all_numeric)
		{
			for (j = 0; j < p; j++)
			{
				double		dk = x[j] - t[j];
				double		da = x[j] - mean_all[j];

				v[j] += dk * dk;
				sq_all[j] += da * da;
			}
			continue;
		}
		for (j = 0; j < p; j++)
		{
			if (group[j] < 0)
			{
				double		dk = x[j] - t[j];
				double		da = x[j] - mean_all[j];

				v[j] += dk * dk;
				sq_all[j] += da * da;
			}
			else
				c[j] += x[j];
		}
	}
}

/*
 * The model from the stages' sums of all the n rows (s1, s2 as the stages
 * left them) into *out, as the file header says.
 */
MmStatus
mm_nb_fit_stats(int64_t n, int p, int K, const int32_t *group, double var_smoothing,
				double alpha, const double *s1, const double *s2,
				MmNaiveBayes *out, const MmAlloc *a, MmErr *err)
{
	const double *count = s1;
	const double *sq = s2;
	const double *sq_all = s2 + (size_t) K * p;
	const double *ones = sq_all + p;
	double	   *mean_all;
	int		   *width;
	double		maxvar = 0.0;
	bool		any_numeric = false;
	int			j,
				k;

	if (alpha < MM_NB_MIN_ALPHA)
		alpha = MM_NB_MIN_ALPHA;
	memset(out, 0, sizeof(*out));
	out->K = K;
	out->p = p;
	out->log_prior = mm_alloc0(a, sizeof(double) * K);
	out->theta = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->var = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->log_prob = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	out->group = mm_alloc0(a, sizeof(int32_t) * p);
	memcpy(out->group, group, sizeof(int32_t) * p);
	mean_all = mm_alloc0(a, sizeof(double) * p);
	width = mm_alloc0(a, sizeof(int) * p);
	mm_nb_widths(p, group, width);

	for (k = 0; k < K; k++)
	{
		if (count[k] == 0.0)
		{
			mm_err_set(err, "class %d has no rows in the training data", k);
			return MM_ENODATA;
		}
		out->log_prior[k] = log(count[k] / (double) n);
	}
	mm_nb_means(n, p, K, s1, out->theta, mean_all);

	for (j = 0; j < p; j++)
	{
		if (group[j] < 0)
		{
			any_numeric = true;
			if (sq_all[j] / (double) n > maxvar)
				maxvar = sq_all[j] / (double) n;
		}
	}
	out->epsilon = var_smoothing * maxvar;
	if (any_numeric && out->epsilon == 0.0)
		out->epsilon = var_smoothing;

	for (k = 0; k < K; k++)
	{
		double	   *v = out->var + (size_t) k * p;
		double	   *lp = out->log_prob + (size_t) k * p;

		for (j = 0; j < p; j++)
		{
			size_t		at = (size_t) k * p + j;

			if (group[j] < 0)
			{
				v[j] = sq[at] / count[k] + out->epsilon;
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
	double	   *s1;
	double	   *s2;
	double	   *theta;
	double	   *mean_all;

	st = mm_nb_check(n, p, K, X, y, group, var_smoothing, alpha, &all_numeric, err);
	if (st != MM_OK)
		return st;
	s1 = mm_alloc0(a, sizeof(double) * mm_nb_stage1_len(p, K));
	s2 = mm_alloc0(a, sizeof(double) * mm_nb_stage2_len(p, K));
	theta = mm_alloc0(a, sizeof(double) * (size_t) K * p);
	mean_all = mm_alloc0(a, sizeof(double) * p);
	st = mm_nb_stage1(n, p, K, X, y, group, all_numeric, 0, s1, err);
	if (st != MM_OK)
		return st;
	mm_nb_means(n, p, K, s1, theta, mean_all);
	mm_nb_stage2(n, p, K, X, y, group, all_numeric, theta, mean_all, s2);
	return mm_nb_fit_stats(n, p, K, group, var_smoothing, alpha, s1, s2, out, a, err);
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
		proba[k] = exp(proba[k] - mx);
		s += proba[k];
	}
	for (k = 0; k < K; k++)
		proba[k] /= s;
}
