/*
 * mm_clsmetrics.c
 *	  Streamed classification metrics: accuracy, macro precision, recall
 *	  and f1, log loss and (binary) ROC AUC.
 *
 * Algorithm.  Each row adds one to a K x K confusion matrix (kept as
 * doubles, [true * K + predicted]) at its true class and the argmax of its
 * probabilities (the lowest index on ties), and its log loss to a running
 * sum.  The log loss follows sklearn.metrics.log_loss(eps=1e-15) of
 * scikit-learn 1.2: the K probabilities are clipped to [eps, 1 - eps],
 * renormalised to sum 1, and the row contributes -log of the true class's.
 *
 * From the confusion matrix, per class k: precision = TP / predicted_k and
 * recall = TP / true_k (0 when the denominator is 0), f1 = 2 P R / (P + R)
 * (0 when P + R == 0); all three are averaged over the K classes of the
 * model (sklearn's average='macro', labels=range(K), zero_division=0).
 *
 * ROC AUC (K == 2) is exact.  Every score (the probability of class 1)
 * is kept with its label in buffers grown through the allocator (a new
 * buffer of twice the size, the old one left to the caller's context).
 * At the end the scores of each class are copied as integer keys that
 * sort like the doubles and radix-sorted (the state stays const); a
 * positive beats every negative of a lower score and ties count one half,
 * which is the Mann-Whitney statistic with average ranks.  The count is
 * accumulated doubled in 64-bit integers, so it is exact for any
 * realistic n.  States streamed apart (parallel workers) merge: counts
 * and log losses add, scores are appended; a state sorted first
 * (mm_clsmetrics_sort) holds its scores as sorted keys per class, and
 * sorted states merge in linear time, so that each part sorts its own.
 */
#include "mm_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MM_LOGLOSS_EPS 1e-15
#define MM_SCORES_INITIAL 1024

#define MM_RADIX_BITS 11
#define MM_RADIX_BUCKETS (1 << MM_RADIX_BITS)
#define MM_RADIX_PASSES 6		/* 6 * 11 >= 64 bits */

/* An empty state for K classes. */
void
mm_clsmetrics_init(MmClsMetrics *m, int K, const MmAlloc *a)
{
	memset(m, 0, sizeof(*m));
	m->K = K;
	m->a = a;
	m->confusion = mm_alloc0(a, sizeof(double) * (size_t) K * (size_t) K);
}

/* Room for need scores: the buffers doubled (or to need) through m->a. */
static void
mm_scores_reserve(MmClsMetrics *m, int64_t need)
{
	int64_t		cap;
	double	   *ns;
	uint8_t    *np;

	if (need <= m->capscores)
		return;
	cap = m->capscores > 0 ? 2 * m->capscores : MM_SCORES_INITIAL;
	if (cap < need)
		cap = need;
	ns = mm_alloc(m->a, sizeof(double) * (size_t) cap);
	np = mm_alloc(m->a, sizeof(uint8_t) * (size_t) cap);
	if (m->nscores > 0)
	{
		memcpy(ns, m->scores, sizeof(double) * (size_t) m->nscores);
		memcpy(np, m->positive, sizeof(uint8_t) * (size_t) m->nscores);
	}
	m->scores = ns;
	m->positive = np;
	m->capscores = cap;
}

/* Room for n more scores of a binary model, in one allocation. */
void
mm_clsmetrics_reserve(MmClsMetrics *m, int64_t n)
{
	if (m->K == 2 && n > 0)
		mm_scores_reserve(m, m->nscores + n);
}

/* Account for one row: its true class and its K probabilities. */
void
mm_clsmetrics_add(MmClsMetrics *m, int true_class, const double *proba)
{
	int			K = m->K;
	int			pred = 0;
	double		best = proba[0];
	double		sum = 0.0;
	double		ptrue = 0.0;
	int			k;

	/* the caller guarantees 0..K-1; anything else is ignored, not stored */
	if (true_class < 0 || true_class >= K)
		return;
	for (k = 1; k < K; k++)
	{
		if (proba[k] > best)
		{
			best = proba[k];
			pred = k;
		}
	}
	for (k = 0; k < K; k++)
	{
		double		q = fmin(fmax(proba[k], MM_LOGLOSS_EPS), 1.0 - MM_LOGLOSS_EPS);

		if (isnan(proba[k]))
			q = proba[k];
		sum += q;
		if (k == true_class)
			ptrue = q;
	}
	m->confusion[(size_t) true_class * K + pred] += 1.0;
	m->log_loss_sum += -log(ptrue / sum);
	m->n += 1.0;

	if (K == 2)
	{
		mm_scores_reserve(m, m->nscores + 1);
		m->scores[m->nscores] = proba[1];
		m->positive[m->nscores] = (uint8_t) (true_class == 1);
		m->nscores++;
	}
}

/*
 * A score as an unsigned key that sorts like the double: the sign bit
 * flipped for positive numbers, every bit for negative ones; -0 is taken
 * as +0 so that equal scores have equal keys (no NaN reaches it).
 */
static inline uint64_t
mm_score_key(double s)
{
	uint64_t	u;

	if (s == 0.0)
		s = 0.0;
	memcpy(&u, &s, sizeof(u));
	return (u & UINT64_C(0x8000000000000000)) ? ~u : u | UINT64_C(0x8000000000000000);
}

/*
 * Sort n keys ascending: LSD radix sort by 11-bit digits through tmp (n
 * keys), skipping a digit that all keys share.  The result is in keys.
 */
static void
mm_radix_sort(uint64_t *keys, uint64_t *tmp, int64_t n)
{
	size_t		count[MM_RADIX_PASSES][MM_RADIX_BUCKETS];
	uint64_t   *src = keys;
	uint64_t   *dst = tmp;
	int64_t		i;
	int			pass;

	if (n < 2)
		return;
	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++)
		for (pass = 0; pass < MM_RADIX_PASSES; pass++)
			count[pass][(keys[i] >> (pass * MM_RADIX_BITS)) & (MM_RADIX_BUCKETS - 1)]++;

	for (pass = 0; pass < MM_RADIX_PASSES; pass++)
	{
		size_t	   *c = count[pass];
		int			shift = pass * MM_RADIX_BITS;
		size_t		sum = 0;
		uint64_t   *t;
		int			b;

		if (c[(src[0] >> shift) & (MM_RADIX_BUCKETS - 1)] == (size_t) n)
			continue;			/* one digit for all: order unchanged */
		for (b = 0; b < MM_RADIX_BUCKETS; b++)
		{
			size_t		k = c[b];

			c[b] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			dst[c[(src[i] >> shift) & (MM_RADIX_BUCKETS - 1)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != keys)
		memcpy(keys, src, sizeof(uint64_t) * (size_t) n);
}

/*
 * Sort n doubles (no NaN) ascending, through tmp (n keys): their keys
 * radix-sorted, then turned back into doubles; -0 comes out as +0.  On
 * values in random order a comparison sort mispredicts about one branch
 * per comparison; this has no data-dependent branch but a digit all keys
 * share (n = 2,000: about a third of the time of PostgreSQL's qsort).
 * Small arrays are sorted by insertion.
 */
void
mm_sort_doubles(double *v, int64_t n, uint64_t *tmp)
{
	uint64_t   *keys = (uint64_t *) v;
	int64_t		i;

	if (n <= 32)
	{
		for (i = 0; i < n; i++)
			if (v[i] == 0.0)
				v[i] = 0.0;
		for (i = 1; i < n; i++)
		{
			double		x = v[i];
			int64_t		j = i;

			for (; j > 0 && v[j - 1] > x; j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	/* in place (a double and its key have the same size), copied as bytes */
	for (i = 0; i < n; i++)
	{
		uint64_t	k = mm_score_key(v[i]);

		memcpy(&v[i], &k, sizeof(k));
	}
	mm_radix_sort(keys, tmp, n);
	for (i = 0; i < n; i++)
	{
		uint64_t	u;

		memcpy(&u, &v[i], sizeof(u));
		u = (u & UINT64_C(0x8000000000000000)) ? u & ~UINT64_C(0x8000000000000000) : ~u;
		memcpy(&v[i], &u, sizeof(u));
	}
}

/*
 * The sorted keys of the scores of m of class c (0 negatives, 1 positives)
 * into a new array from a: the sorted ones and the later scores, merged.
 * *nan: a score was NaN.
 */
static uint64_t *mm_merge_keys(const MmAlloc *a, const uint64_t *x, int64_t nx,
							   const uint64_t *y, int64_t ny);

static uint64_t *
mm_class_keys(const MmClsMetrics *m, int c, int64_t *n, bool *nan)
{
	int64_t		nnew = 0;
	uint64_t   *fresh;
	uint64_t   *tmp;
	int64_t		i;

	for (i = 0; i < m->nscores; i++)
	{
		*nan |= isnan(m->scores[i]) != 0;
		nnew += m->positive[i] == c;
	}
	fresh = mm_alloc(m->a, sizeof(uint64_t) * (size_t) nnew);
	nnew = 0;
	for (i = 0; i < m->nscores; i++)
		if (m->positive[i] == c)
			fresh[nnew++] = mm_score_key(m->scores[i]);
	tmp = mm_alloc(m->a, sizeof(uint64_t) * (size_t) nnew);
	mm_radix_sort(fresh, tmp, nnew);
	if (!m->sorted || m->nkeys[c] == 0)
	{
		*n = nnew;
		return fresh;
	}
	*n = m->nkeys[c] + nnew;
	return nnew == 0 ? m->keys[c] : mm_merge_keys(m->a, m->keys[c], m->nkeys[c], fresh, nnew);
}

/* x (nx) and y (ny), sorted, merged into a new array from a. */
static uint64_t *
mm_merge_keys(const MmAlloc *a, const uint64_t *x, int64_t nx, const uint64_t *y, int64_t ny)
{
	uint64_t   *out = mm_alloc(a, sizeof(uint64_t) * (size_t) (nx + ny));
	int64_t		i = 0,
				j = 0,
				k = 0;

	while (i < nx && j < ny)
		out[k++] = y[j] < x[i] ? y[j++] : x[i++];
	while (i < nx)
		out[k++] = x[i++];
	while (j < ny)
		out[k++] = y[j++];
	return out;
}

/*
 * Sort the scores kept so far (K == 2) into the sorted keys of each class;
 * rows added later keep their scores until the next sort or the result.
 */
void
mm_clsmetrics_sort(MmClsMetrics *m)
{
	uint64_t   *keys[2];
	int64_t		n[2];
	bool		nan = m->nan_score;

	if (m->K != 2)
		return;
	for (int c = 0; c < 2; c++)
		keys[c] = mm_class_keys(m, c, &n[c], &nan);
	for (int c = 0; c < 2; c++)
	{
		m->keys[c] = keys[c];
		m->nkeys[c] = n[c];
	}
	m->nan_score = nan;
	m->sorted = true;
	m->nscores = 0;
}

/*
 * Add the rows of b to a (both of K classes): the confusion matrices and
 * the log losses add, b's scores follow a's (the AUC does not depend on
 * their order); when both are sorted (and hold no later scores), their
 * keys merge.
 */
void
mm_clsmetrics_merge(MmClsMetrics *a, const MmClsMetrics *b)
{
	size_t		kk = (size_t) a->K * (size_t) a->K;

	if (b->K != a->K)
		return;
	for (size_t i = 0; i < kk; i++)
		a->confusion[i] += b->confusion[i];
	a->log_loss_sum += b->log_loss_sum;
	a->n += b->n;
	if (a->K != 2)
		return;
	if (a->sorted && b->sorted && a->nscores == 0 && b->nscores == 0)
	{
		for (int c = 0; c < 2; c++)
		{
			a->keys[c] = mm_merge_keys(a->a, a->keys[c], a->nkeys[c], b->keys[c], b->nkeys[c]);
			a->nkeys[c] += b->nkeys[c];
		}
		a->nan_score |= b->nan_score;
		return;
	}
	if (b->sorted)
	{
		/* b's sorted keys, as scores again (a key maps back to its score) */
		mm_scores_reserve(a, a->nscores + b->nkeys[0] + b->nkeys[1]);
		for (int c = 0; c < 2; c++)
			for (int64_t i = 0; i < b->nkeys[c]; i++)
			{
				uint64_t	u = b->keys[c][i];
				double		s;

				u = (u & UINT64_C(0x8000000000000000)) ? u & ~UINT64_C(0x8000000000000000) : ~u;
				memcpy(&s, &u, sizeof(s));
				a->scores[a->nscores] = s;
				a->positive[a->nscores++] = (uint8_t) c;
			}
		a->nan_score |= b->nan_score;
	}
	if (b->nscores > 0)
	{
		mm_scores_reserve(a, a->nscores + b->nscores);
		memcpy(a->scores + a->nscores, b->scores, sizeof(double) * (size_t) b->nscores);
		memcpy(a->positive + a->nscores, b->positive, sizeof(uint8_t) * (size_t) b->nscores);
		a->nscores += b->nscores;
	}
}

/*
 * Exact ROC AUC of the kept scores, NaN when a class is missing: the keys
 * of the positives and of the negatives are sorted apart, and each group
 * of equal positive scores counts the negatives below it, and half of
 * those equal to it.
 */
static double
mm_roc_auc(const MmClsMetrics *m)
{
	uint64_t   *pos;
	uint64_t   *neg;
	int64_t		npos;
	int64_t		nneg;
	bool		nan = m->nan_score;
	uint64_t	twice = 0;		/* 2 * (positive-negative wins + ties / 2) */
	int64_t		i,
				j,
				below = 0;

	neg = mm_class_keys(m, 0, &nneg, &nan);
	pos = mm_class_keys(m, 1, &npos, &nan);
	if (nan || npos == 0 || nneg == 0)
		return NAN;

	for (i = 0; i < npos; i = j)
	{
		uint64_t	key = pos[i];
		int64_t		equal = 0;

		for (j = i; j < npos && pos[j] == key; j++)
			;
		while (below < nneg && neg[below] < key)
			below++;
		while (below + equal < nneg && neg[below + equal] == key)
			equal++;
		twice += (uint64_t) (j - i) * (uint64_t) (2 * below + equal);
	}
	return (double) twice / (2.0 * (double) npos * (double) nneg);
}

/* The metrics of the rows seen so far; false when there are none. */
bool
mm_clsmetrics_result(const MmClsMetrics *m, MmClsResult *out)
{
	int			K = m->K;
	double		trace = 0.0;
	double		psum = 0.0;
	double		rsum = 0.0;
	double		fsum = 0.0;
	int			k,
				t;

	if (m->n <= 0.0)
		return false;

	for (k = 0; k < K; k++)
	{
		double		tp = m->confusion[(size_t) k * K + k];
		double		npred = 0.0;
		double		ntrue = 0.0;
		double		prec;
		double		rec;

		for (t = 0; t < K; t++)
		{
			npred += m->confusion[(size_t) t * K + k];
			ntrue += m->confusion[(size_t) k * K + t];
		}
		prec = npred > 0.0 ? tp / npred : 0.0;
		rec = ntrue > 0.0 ? tp / ntrue : 0.0;
		trace += tp;
		psum += prec;
		rsum += rec;
		fsum += (prec + rec > 0.0) ? 2.0 * prec * rec / (prec + rec) : 0.0;
	}

	out->n = m->n;
	out->accuracy = trace / m->n;
	out->precision = psum / K;
	out->recall = rsum / K;
	out->f1 = fsum / K;
	out->log_loss = m->log_loss_sum / m->n;
	out->roc_auc = K == 2 ? mm_roc_auc(m) : NAN;
	return true;
}
