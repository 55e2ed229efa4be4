/*
 * mm_metrics.c
 *	  Streamed, mergeable regression metrics (mse, rmse, mae, r2,
 *	  explained variance).
 *
 * Algorithm: the state keeps n, the sums of |e| and e^2 for the residual
 * e = y - yhat, and Welford's running mean and sum of squared deviations
 * for both y and e.  Two states merge with Chan et al.'s pairwise formula
 * M2 = M2a + M2b + delta^2 * na * nb / n.  The result follows
 * sklearn.metrics with force_finite=True: r2 = 1 - SS_res / SS_tot and
 * explained_variance = 1 - M2_e / M2_y, each 1.0 when numerator and
 * denominator are both 0 and 0.0 when only the denominator is 0.
 */
#include "mm_core.h"

#include <math.h>
#include <string.h>

/* An empty metrics state. */
void
mm_regmetrics_init(MmRegMetrics *m)
{
	memset(m, 0, sizeof(*m));
}

/* Welford's update of (mean, m2) with x as the n-th value. */
static inline void
mm_welford(double n, double *mean, double *m2, double x)
{
	double		delta = x - *mean;

	*mean += delta / n;
	*m2 += delta * (x - *mean);
}

/* Account for one (y, yhat) pair. */
void
mm_regmetrics_add(MmRegMetrics *m, double y, double yhat)
{
	double		e = y - yhat;

	m->n += 1.0;
	m->sum_abs += fabs(e);
	m->sum_sq += e * e;
	mm_welford(m->n, &m->mean_y, &m->m2_y, y);
	mm_welford(m->n, &m->mean_e, &m->m2_e, e);
}

/* Chan's merge of (n_b, mean_b, m2_b) into (n_a, mean_a, m2_a). */
static inline void
mm_chan(double na, double *mean_a, double *m2_a,
		double nb, double mean_b, double m2_b)
{
	double		n = na + nb;
	double		delta = mean_b - *mean_a;

	*mean_a += delta * (nb / n);
	*m2_a += m2_b + delta * delta * (na * nb / n);
}

/* a += b. */
void
mm_regmetrics_merge(MmRegMetrics *a, const MmRegMetrics *b)
{
	if (b->n <= 0.0)
		return;
	if (a->n <= 0.0)
	{
		*a = *b;
		return;
	}
	mm_chan(a->n, &a->mean_y, &a->m2_y, b->n, b->mean_y, b->m2_y);
	mm_chan(a->n, &a->mean_e, &a->m2_e, b->n, b->mean_e, b->m2_e);
	a->sum_abs += b->sum_abs;
	a->sum_sq += b->sum_sq;
	a->n += b->n;
}

/* 1 - num / den with sklearn's force_finite rules. */
static double
mm_one_minus_ratio(double num, double den)
{
	if (den != 0.0)
		return 1.0 - num / den;
	return num == 0.0 ? 1.0 : 0.0;
}

/* The metrics of the state; false when it has no rows. */
bool
mm_regmetrics_result(const MmRegMetrics *m, MmRegResult *out)
{
	if (!(m->n > 0.0))
		return false;
	out->n = m->n;
	out->mse = m->sum_sq / m->n;
	out->rmse = sqrt(out->mse);
	out->mae = m->sum_abs / m->n;
	out->r2 = mm_one_minus_ratio(m->sum_sq, m->m2_y);
	out->explained_variance = mm_one_minus_ratio(m->m2_e, m->m2_y);
	return true;
}
