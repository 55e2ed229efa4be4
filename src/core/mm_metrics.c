/*
 * mm_metrics.c
 *	  Streamed, mergeable regression metrics (mse, rmse, mae, r2,
 *	  explained variance).
 *
 * Algorithm: the state keeps n, the sums of |e| and e^2 for the residual
 * e = y - yhat, and the mean and sum of squared deviations of both y and
 * e.  Rows are folded MM_METRICS_BLOCK at a time: the block's own means
 * and squared deviations (two passes over it), merged into the state with
 * Chan et al.'s pairwise formula M2 = M2a + M2b + delta^2 * na * nb / n,
 * as two states merge.  The result follows
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

/* Fold the b pairs (y[i], e[i] = y - yhat) of one block into m. */
static void
mm_regmetrics_fold(MmRegMetrics *m, const double *y, const double *e, int b)
{
	double		sy = 0.0,
				se = 0.0,
				sa = 0.0,
				ss = 0.0,
				m2y = 0.0,
				m2e = 0.0,
				my,
				me,
				n = m->n;
	int			i;

	if (b <= 0)
		return;
	for (i = 0; i < b; i++)
	{
		sy += y[i];
		se += e[i];
		sa += fabs(e[i]);
		ss += e[i] * e[i];
	}
	my = sy / b;
	me = se / b;
	for (i = 0; i < b; i++)
	{
		double		dy = y[i] - my;
		double		de = e[i] - me;

		m2y += dy * dy;
		m2e += de * de;
	}
	m->sum_abs += sa;
	m->sum_sq += ss;
	/* from an empty state (zeros) this sets the block's means and sums exactly */
	mm_chan(n, &m->mean_y, &m->m2_y, b, my, m2y);
	mm_chan(n, &m->mean_e, &m->m2_e, b, me, m2e);
	m->n = n + b;
}

/* Fold the pending rows, a last partial block. */
static void
mm_regmetrics_flush(MmRegMetrics *m)
{
	mm_regmetrics_fold(m, m->pend_y, m->pend_e, m->npend);
	m->npend = 0;
}

/* Account for one (y, yhat) pair. */
static inline void
mm_regmetrics_push(MmRegMetrics *m, double y, double yhat)
{
	m->pend_y[m->npend] = y;
	m->pend_e[m->npend] = y - yhat;
	if (++m->npend == MM_METRICS_BLOCK)
		mm_regmetrics_flush(m);
}

void
mm_regmetrics_add(MmRegMetrics *m, double y, double yhat)
{
	mm_regmetrics_push(m, y, yhat);
}

/* Account for nb pairs y[i * ystride], yhat[i], as mm_regmetrics_add would. */
void
mm_regmetrics_add_rows(MmRegMetrics *m, const double *y, size_t ystride,
					   const double *yhat, int nb)
{
	for (int i = 0; i < nb; i++)
		mm_regmetrics_push(m, y[(size_t) i * ystride], yhat[i]);
}

/* in with its pending rows folded: in itself, or a copy made in tmp. */
static const MmRegMetrics *
mm_regmetrics_flushed(const MmRegMetrics *in, MmRegMetrics *tmp)
{
	if (in->npend == 0)
		return in;
	memcpy(tmp, in, sizeof(*tmp));
	mm_regmetrics_flush(tmp);
	return tmp;
}

/* a += b (b's pending rows folded as a block of their own). */
void
mm_regmetrics_merge(MmRegMetrics *a, const MmRegMetrics *b)
{
	MmRegMetrics bb;

	mm_regmetrics_flush(a);
	b = mm_regmetrics_flushed(b, &bb);
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
mm_regmetrics_result(const MmRegMetrics *in, MmRegResult *out)
{
	MmRegMetrics tmp;
	const MmRegMetrics *m = mm_regmetrics_flushed(in, &tmp);

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
