/*
 * mm_drift.c
 *	  The training profile of a version (captured by mm_train) and
 *	  mm_drift: the population stability index of a source against it.
 *
 * Profile (mm.versions.profile, jsonb): per numeric feature (an array
 * feature of at most MM_PROFILE_MAX_WIDTH elements: per element, named
 * "col[k]") the training mean, the share of NULLs and ten bins at the
 * deciles of at most 2,000 of its training values (every k-th, in row
 * order): edges e1 < ... < em (m <= 9, equal deciles merged), a value x
 * falling in bin #{j : x > e_j}, with each bin's share of those values; per categorical feature the share of each training
 * level and of NULLs.  The rows are the training rows, except for the
 * one-scan linear path, which keeps no training rows: there the held-out
 * rows it keeps (a random share of the same rows, by the split hash) are
 * profiled, and a version trained on every row (test_fraction 0) by that
 * path has no profile.
 *
 * PSI = sum over buckets of (q - p) ln(q / p), p the training share and
 * q the source's, both floored at 1e-4 so that an empty bucket counts
 * without dividing by zero; the buckets are the bins (or levels, plus one
 * for values the training rows never had) and, when either side has any,
 * NULLs.  A feature has drifted when its PSI exceeds the threshold
 * (default 0.2, the usual "significant shift"; params.threshold).
 */
#include "massmodel.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(mm_drift);

#define MM_PROFILE_BINS			10
#define MM_PROFILE_MAX_WIDTH	64
#define MM_PROFILE_SAMPLE		2000	/* values the deciles are taken from, at most */
#define MM_PSI_FLOOR			1e-4

/* The bin of x: the number of edges below it. */
static int
MmBin(const double *edges, int nedges, double x)
{
	int			b = 0;

	while (b < nedges && x > edges[b])
		b++;
	return b;
}

/*
 * Append a numeric feature's profile: its deciles and the share of each
 * bin from the ns sampled values (sorted here), its mean and share of
 * NULLs over all of its values.
 */
static void
MmAppendNumericProfile(StringInfo s, const char *name, double *sample, int64 ns,
					   double mean, double null_share)
{
	double		edges[MM_PROFILE_BINS - 1];
	int			nedges = 0;
	int64		count[MM_PROFILE_BINS] = {0};
	double		share[MM_PROFILE_BINS];

	MmSortDoubles(sample, ns);
	for (int k = 1; k < MM_PROFILE_BINS && ns > 0; k++)
	{
		double		e = sample[Min(ns - 1, (int64) ((double) k * ns / MM_PROFILE_BINS))];

		if (nedges == 0 || e > edges[nedges - 1])
			edges[nedges++] = e;
	}
	for (int64 r = 0; r < ns; r++)
		count[MmBin(edges, nedges, sample[r])]++;
	for (int j = 0; j <= nedges; j++)
		share[j] = ns > 0 ? (double) count[j] / ns : 0.0;
	appendStringInfoString(s, "{\"name\": ");
	escape_json(s, name);
	appendStringInfoString(s, ", \"kind\": \"numeric\", \"mean\": ");
	if (isfinite(mean))
		MmAppendJsonNumber(s, mean);
	else
		appendStringInfoString(s, "null");
	appendStringInfoString(s, ", \"null\": ");
	MmAppendJsonNumber(s, null_share);
	appendStringInfoString(s, ", \"edges\": ");
	MmAppendJsonNumbers(s, edges, nedges);
	appendStringInfoString(s, ", \"p\": ");
	MmAppendJsonNumbers(s, share, nedges + 1);
	appendStringInfoChar(s, '}');
}

/*
 * Accumulates one numeric column: the mean and NULLs over every value,
 * and every step-th value as the sample the deciles and bin shares come
 * from (sorting every value of a large train would cost more than the
 * train).  Per value: an add and a countdown, no division.
 */
typedef struct MmNumericAcc
{
	int64		n;
	int64		nulls;
	double		sum;
	int64		step;
	int64		next;			/* values until the next sampled one */
	int64		ns;
	double	   *sample;
} MmNumericAcc;

/* The sampling step of a profile of rows values: at most MM_PROFILE_SAMPLE sampled. */
int64
MmProfileStep(int64 rows)
{
	return Max(1, (rows + MM_PROFILE_SAMPLE - 1) / MM_PROFILE_SAMPLE);
}

/* An accumulator for rows values, sampling every step-th. */
static void
MmNumericAccInitStep(MmNumericAcc *acc, int64 rows, int64 step)
{
	memset(acc, 0, sizeof(*acc));
	acc->step = step;
	acc->sample = palloc(sizeof(double) * (rows / acc->step + 1));
}

static void
MmNumericAccInit(MmNumericAcc *acc, int64 rows)
{
	MmNumericAccInitStep(acc, rows, MmProfileStep(rows));
}

static inline void
MmNumericAccAdd(MmNumericAcc *acc, double x)
{
	if (isnan(x))
	{
		acc->nulls++;
		return;
	}
	if (acc->next-- == 0)
	{
		acc->sample[acc->ns++] = x;
		acc->next = acc->step - 1;
	}
	acc->n++;
	acc->sum += x;
}

static void
MmNumericAccAppend(StringInfo s, const char *name, MmNumericAcc *acc)
{
	double		mean = NAN;

	if (acc->n > 0 && isfinite(acc->sum))
		mean = acc->sum / acc->n;
	else if (acc->n > 0)
	{
		/* the sum overflowed (values near the limit of doubles): the sample's running mean */
		mean = 0;
		for (int64 i = 0; i < acc->ns; i++)
			mean += (acc->sample[i] - mean) / (i + 1);
	}

	MmAppendNumericProfile(s, name, acc->sample, acc->ns, mean,
						   acc->n + acc->nulls > 0 ? (double) acc->nulls / (acc->n + acc->nulls) : 0.0);
	pfree(acc->sample);
}

/* The name of element k (from 1) of an array feature. */
static char *
MmElementName(const char *name, uint32 width, uint32 k)
{
	return width == 1 ? pstrdup(name) : psprintf("%s[%u]", name, k + 1);
}

/*
 * Profiles numeric values of rows without NULLs (nor NaN): every column
 * counts down alike, so one countdown samples the same rows for all of
 * them, and each sum takes the same values in the same order as
 * MmNumericAccAdd would, one row at a time (the rows are read once, in
 * order, whatever their number of columns).
 */
typedef struct MmRowProfiler
{
	int			npos;
	int		   *pos;			/* offsets in a row */
	MmNumericAcc **to;			/* the accumulator of each offset */
	double	   *sum;
	int64		step;
	int64		next;
	int64		ns;
	int64		n;
} MmRowProfiler;

static void
MmRowProfilerInit(MmRowProfiler *pr, int maxpos)
{
	memset(pr, 0, sizeof(*pr));
	pr->pos = palloc(sizeof(int) * Max(maxpos, 1));
	pr->to = palloc(sizeof(MmNumericAcc *) * Max(maxpos, 1));
	pr->sum = palloc0(sizeof(double) * Max(maxpos, 1));
}

/* Profile offset pos of every row into acc (initialised for the rows). */
static void
MmRowProfilerColumn(MmRowProfiler *pr, int pos, MmNumericAcc *acc)
{
	pr->pos[pr->npos] = pos;
	pr->to[pr->npos++] = acc;
	pr->step = acc->step;
}

static inline void
MmRowProfilerAdd(MmRowProfiler *pr, const double *row)
{
	for (int j = 0; j < pr->npos; j++)
		pr->sum[j] += row[pr->pos[j]];
	if (pr->next-- == 0)
	{
		for (int j = 0; j < pr->npos; j++)
			pr->to[j]->sample[pr->ns] = row[pr->pos[j]];
		pr->ns++;
		pr->next = pr->step - 1;
	}
	pr->n++;
}

static void
MmRowProfilerFinish(MmRowProfiler *pr)
{
	for (int j = 0; j < pr->npos; j++)
	{
		pr->to[j]->n = pr->n;
		pr->to[j]->sum = pr->sum[j];
		pr->to[j]->ns = pr->ns;
		pr->to[j]->next = pr->next;
	}
}

/* The numeric columns of the training rows of a dataset without NULLs. */
static void
MmProfileNumericNoNulls(const MmDataset *ds, MmNumericAcc **acc)
{
	MmRowProfiler pr;

	MmRowProfilerInit(&pr, ds->rawd);
	for (int i = 0; i < ds->ncols; i++)
		if (acc[i] != NULL)
			for (uint32 k = 0; k < ds->width[i]; k++)
				MmRowProfilerColumn(&pr, ds->off[i] + k, &acc[i][k]);
	if (pr.npos == 0)
		return;
	for (int64 r = 0; r < ds->n; r++)
	{
		if (!ds->heldout[r])
			MmRowProfilerAdd(&pr, MmRawRow(ds, r));
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	MmRowProfilerFinish(&pr);
}

/*
 * The profile of a dataset's training rows, for mm.versions.profile: one
 * pass over the rows (a row's values are contiguous), every profiled
 * column accumulated at once.
 */
Jsonb *
MmProfileDataset(const MmDataset *ds)
{
	StringInfoData s;
	bool		first = true;
	MmNumericAcc **acc = palloc0(sizeof(MmNumericAcc *) * Max(ds->ncols, 1));
	int64	  **count = palloc0(sizeof(int64 *) * Max(ds->ncols, 1));
	int64	   *nulls = palloc0(sizeof(int64) * Max(ds->ncols, 1));
	bool		any_count = false;

	for (int i = 0; i < ds->ncols; i++)
	{
		if (ds->cols[i].kind == MM_COL_TEXT)
			count[i] = palloc0(sizeof(int64) * Max(ds->dicts[i].n, 1));
		else if (ds->width[i] <= MM_PROFILE_MAX_WIDTH)
		{
			acc[i] = palloc(sizeof(MmNumericAcc) * ds->width[i]);
			for (uint32 k = 0; k < ds->width[i]; k++)
				MmNumericAccInit(&acc[i][k], ds->n_train);
		}
	}
	if (!ds->has_null)
		MmProfileNumericNoNulls(ds, acc);
	for (int i = 0; i < ds->ncols; i++)
		any_count |= count[i] != NULL;
	for (int64 r = 0; r < ds->n && (ds->has_null || any_count); r++)
	{
		const double *row;

		if (ds->heldout[r])
			continue;
		row = MmRawRow(ds, r);
		for (int i = 0; i < ds->ncols; i++)
		{
			const double *x = row + ds->off[i];

			if (count[i] != NULL)
			{
				if (isnan(x[0]))
					nulls[i]++;
				else
					count[i][(int32) x[0]]++;
			}
			else if (acc[i] != NULL && ds->has_null)
				for (uint32 k = 0; k < ds->width[i]; k++)
					MmNumericAccAdd(&acc[i][k], x[k]);
		}
		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	initStringInfo(&s);
	appendStringInfo(&s, "{\"rows\": " INT64_FORMAT ", \"features\": [", ds->n_train);
	for (int i = 0; i < ds->ncols; i++)
	{
		const MmSourceCol *c = &ds->cols[i];

		if (count[i] == NULL && acc[i] == NULL)
			continue;
		if (!first)
			appendStringInfoString(&s, ", ");
		first = false;
		if (count[i] != NULL)
		{
			const MmDict *d = &ds->dicts[i];
			int64		n = 0;
			bool		firstl = true;

			for (int32 id = 0; id < d->n; id++)
				n += count[i][id];
			appendStringInfoString(&s, "{\"name\": ");
			escape_json(&s, c->name);
			appendStringInfoString(&s, ", \"kind\": \"categorical\", \"null\": ");
			MmAppendJsonNumber(&s, n + nulls[i] > 0 ? (double) nulls[i] / (n + nulls[i]) : 0.0);
			appendStringInfoString(&s, ", \"levels\": {");
			{
				int32	   *ids = palloc(sizeof(int32) * Max(d->n, 1));
				int			nl = 0;

				for (int32 id = 0; id < d->n; id++)
					if (count[i][id] > 0)
						ids[nl++] = id;
				for (int l = 0; l < nl; l++)
				{
					if (!firstl)
						appendStringInfoString(&s, ", ");
					firstl = false;
					escape_json(&s, d->strs[ids[l]]);
					appendStringInfoString(&s, ": ");
					MmAppendJsonNumber(&s, (double) count[i][ids[l]] / n);
				}
			}
			appendStringInfoString(&s, "}}");
		}
		else
			for (uint32 k = 0; k < ds->width[i]; k++)
			{
				if (k > 0)
					appendStringInfoString(&s, ", ");
				MmNumericAccAppend(&s, MmElementName(c->name, ds->width[i], k), &acc[i][k]);
			}
	}
	appendStringInfoString(&s, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * The offsets in a kept row (the target, then the encoded features of m)
 * of the values the profile of kept rows covers; pos has room for
 * m->ncols.  Returns their number.
 */
int
MmProfilePositions(const MmModel *m, int *pos)
{
	uint32		off = 0;
	int			npos = 0;

	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		for (uint32 k = 0; k < f->width && f->width <= MM_PROFILE_MAX_WIDTH; k++)
			pos[npos++] = 1 + off + k;
		off += f->width;
	}
	return npos;
}

/*
 * The profile of the one-scan linear path comes from the rows it kept (d
 * values each: the target, then the encoded features of m; never NaN,
 * which the aggregate refuses), read once in order: the held-out rows or,
 * with test_fraction 0, the training rows.  Each process that kept rows
 * (the backend, the workers of a direct read) makes a part of them,
 * profiled at the offsets pos (MmProfilePositions) with the sampling step
 * of all the parts' rows together (MmProfileStep); MmProfileFromParts
 * joins the parts.  With one part, the rows are sampled and summed as one
 * pass over all of them would.
 */
struct MmProfilePart
{
	int			npos;
	MmRowProfiler pr;
	MmNumericAcc *acc;
};

/* Begin a part of at most rows rows (all of them: the sample is sized for them). */
MmProfilePart *
MmProfilePartBegin(const int *pos, int npos, int64 rows, int64 step)
{
	MmProfilePart *pp = palloc0(sizeof(MmProfilePart));

	pp->npos = npos;
	pp->acc = palloc(sizeof(MmNumericAcc) * Max(npos, 1));
	MmRowProfilerInit(&pp->pr, npos);
	for (int j = 0; j < npos; j++)
	{
		MmNumericAccInitStep(&pp->acc[j], rows, step);
		MmRowProfilerColumn(&pp->pr, pos[j], &pp->acc[j]);
	}
	return pp;
}

/*
 * Add n rows of d values (a block, in the cache), in order: as
 * MmRowProfilerAdd row by row, the same additions in the same order, but
 * eight or four columns' sums at a time through the rows (as many chains
 * of additions in flight), then the rows the countdown samples.
 */
static void
MmRowProfilerAddRows(MmRowProfiler *pr, const double *rows, int64 n, int d)
{
	int			j = 0;
	int64		r;

	/*
	 * Eight offsets side by side in the row (the usual case, the positions
	 * rising): each row's eight values added to eight sums at once, which
	 * the compiler keeps in vector registers; each sum is still its own
	 * chain of additions in row order.
	 */
	for (; j + 8 <= pr->npos && pr->pos[j + 7] - pr->pos[j] == 7; j += 8)
	{
		const double *x = rows + pr->pos[j];
		double	   *sum = pr->sum + j;
		double		s0 = sum[0],
					s1 = sum[1],
					s2 = sum[2],
					s3 = sum[3],
					s4 = sum[4],
					s5 = sum[5],
					s6 = sum[6],
					s7 = sum[7];

		for (r = 0; r < n; r++, x += d)
		{
			s0 += x[0];
			s1 += x[1];
			s2 += x[2];
			s3 += x[3];
			s4 += x[4];
			s5 += x[5];
			s6 += x[6];
			s7 += x[7];
		}
		sum[0] = s0;
		sum[1] = s1;
		sum[2] = s2;
		sum[3] = s3;
		sum[4] = s4;
		sum[5] = s5;
		sum[6] = s6;
		sum[7] = s7;
	}
	for (; j + 4 <= pr->npos; j += 4)
	{
		const double *x0 = rows + pr->pos[j];
		const double *x1 = rows + pr->pos[j + 1];
		const double *x2 = rows + pr->pos[j + 2];
		const double *x3 = rows + pr->pos[j + 3];
		double		s0 = pr->sum[j],
					s1 = pr->sum[j + 1],
					s2 = pr->sum[j + 2],
					s3 = pr->sum[j + 3];

		for (r = 0; r < n; r++)
		{
			s0 += x0[r * d];
			s1 += x1[r * d];
			s2 += x2[r * d];
			s3 += x3[r * d];
		}
		pr->sum[j] = s0;
		pr->sum[j + 1] = s1;
		pr->sum[j + 2] = s2;
		pr->sum[j + 3] = s3;
	}
	for (; j < pr->npos; j++)
	{
		const double *x = rows + pr->pos[j];
		double		s0 = pr->sum[j];

		for (r = 0; r < n; r++)
			s0 += x[r * d];
		pr->sum[j] = s0;
	}
	/* the sampled rows: pr->next more rows to pass before the next one */
	for (r = 0; r < n;)
	{
		if (pr->next >= n - r)
		{
			pr->next -= n - r;
			break;
		}
		r += pr->next;
		for (j = 0; j < pr->npos; j++)
			pr->to[j]->sample[pr->ns] = rows[r * d + pr->pos[j]];
		pr->ns++;
		pr->next = pr->step - 1;
		r++;
	}
	pr->n += n;
}

/* Add n rows of d values, in order. */
void
MmProfilePartRows(MmProfilePart *pp, const double *rows, int64 n, int d)
{
	for (int64 r = 0; r < n; r += 256)
	{
		MmRowProfilerAddRows(&pp->pr, rows + r * d, Min(n - r, 256), d);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * End a part: a flat array of *len bytes, doubles: the rows, the rows
 * sampled (ns), each offset's sum, then each offset's ns sampled values.
 */
double *
MmProfilePartEnd(MmProfilePart *pp, Size *len)
{
	int			npos = pp->npos;
	int64		ns = pp->pr.ns;
	double	   *flat;

	MmRowProfilerFinish(&pp->pr);
	*len = sizeof(double) * (2 + npos + (Size) npos * ns);
	flat = palloc_extended(*len, MCXT_ALLOC_HUGE);
	flat[0] = (double) pp->pr.n;
	flat[1] = (double) ns;
	for (int j = 0; j < npos; j++)
	{
		flat[2 + j] = pp->pr.sum[j];
		memcpy(flat + 2 + npos + (Size) j * ns, pp->acc[j].sample, sizeof(double) * ns);
		pfree(pp->acc[j].sample);
	}
	return flat;
}

/*
 * A part (MmProfilePartEnd's, len bytes, npos offsets) as another process
 * sent it: its rows (rows, unless -1), its sample's rows, then a sum and
 * a sample per offset, with nothing more.
 */
bool
MmProfilePartValid(const double *part, Size len, int npos, int64 rows)
{
	return len >= sizeof(double) * 2 && part[0] >= 0 && part[1] >= 0 && part[1] <= part[0] &&
		(rows < 0 || part[0] == (double) rows) &&
		len == sizeof(double) * (2 + npos + (Size) npos * (Size) part[1]);
}

/*
 * The profile of kept rows from the parts of the processes that kept them
 * (MmProfilePartEnd, in order; a serial train has one): each value's mean
 * over all the rows and its deciles from all the parts' samples.  NULL
 * when no row was kept.  from: the rows' side ("heldout", "train"), or
 * NULL for none, as MmProfileDataset's training rows.
 */
Jsonb *
MmProfileFromParts(const MmModel *m, double *const *parts, int nparts, const char *from)
{
	StringInfoData s;
	int		   *pos = palloc(sizeof(int) * Max(m->ncols, 1));
	int			npos = MmProfilePositions(m, pos);
	int64		n = 0;
	int64		ns = 0;
	int			j = 0;
	bool		first = true;

	for (int p = 0; p < nparts; p++)
	{
		n += (int64) parts[p][0];
		ns += (int64) parts[p][1];
	}
	if (n == 0)
		return NULL;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"rows\": " INT64_FORMAT, n);
	if (from != NULL)
		appendStringInfo(&s, ", \"from\": \"%s\"", from);
	appendStringInfoString(&s, ", \"features\": [");
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		for (uint32 k = 0; k < f->width && f->width <= MM_PROFILE_MAX_WIDTH; k++, j++)
		{
			MmNumericAcc acc;
			int64		at = 0;

			memset(&acc, 0, sizeof(acc));
			acc.n = n;
			acc.ns = ns;
			acc.sample = palloc_extended(sizeof(double) * Max(ns, 1), MCXT_ALLOC_HUGE);
			for (int p = 0; p < nparts; p++)
			{
				int64		pns = (int64) parts[p][1];

				/* the first part's sum as it is: a serial train's, to the bit */
				acc.sum = p == 0 ? parts[p][2 + j] : acc.sum + parts[p][2 + j];
				memcpy(acc.sample + at, parts[p] + 2 + npos + (Size) j * pns, sizeof(double) * pns);
				at += pns;
			}
			if (!first)
				appendStringInfoString(&s, ", ");
			first = false;
			MmNumericAccAppend(&s, MmElementName(f->name, f->width, k), &acc);
		}
	}
	appendStringInfoString(&s, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* ---------------------------------------------------------------------
 * mm_drift
 * --------------------------------------------------------------------- */

/* A number of a jsonb object, or def. */
static double
MmJsonbNumber(Jsonb *j, const char *key, double def)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&j->root, key, strlen(key), NULL);

	if (v == NULL || v->type != jbvNumeric)
		return def;
	return MmNumericDouble(v->val.numeric);
}

/* The numbers of a jsonb array member of an object into out (at most max). */
static int
MmJsonbNumbers(Jsonb *j, const char *key, double *out, int max)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&j->root, key, strlen(key), NULL);
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v == NULL || v->type != jbvBinary)
		return 0;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM && e.type == jbvNumeric && n < max)
			out[n++] = MmNumericDouble(e.val.numeric);
	return n;
}

/* The profile entry of a feature (by name and kind), or NULL. */
static Jsonb *
MmProfileEntry(Jsonb *profile, const char *name, bool categorical)
{
	JsonbValue *fv = getKeyJsonValueFromContainer(&profile->root, "features", 8, NULL);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	const char *kind = categorical ? "categorical" : "numeric";

	if (fv == NULL || fv->type != jbvBinary || !JsonContainerIsArray(fv->val.binary.data))
		return NULL;
	it = JsonbIteratorInit(fv->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		Jsonb	   *fp;
		JsonbValue *nv;
		JsonbValue *kv;

		if (tok != WJB_ELEM || v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			continue;
		fp = JsonbValueToJsonb(&v);
		nv = getKeyJsonValueFromContainer(&fp->root, "name", 4, NULL);
		kv = getKeyJsonValueFromContainer(&fp->root, "kind", 4, NULL);
		if (nv != NULL && nv->type == jbvString && kv != NULL && kv->type == jbvString &&
			nv->val.string.len == (int) strlen(name) &&
			memcmp(nv->val.string.val, name, nv->val.string.len) == 0 &&
			kv->val.string.len == (int) strlen(kind) &&
			memcmp(kv->val.string.val, kind, kv->val.string.len) == 0)
			return fp;
	}
	return NULL;
}

static double
MmPsiTerm(double p, double q)
{
	p = Max(p, MM_PSI_FLOOR);
	q = Max(q, MM_PSI_FLOOR);
	return (q - p) * log(q / p);
}

/* one profiled feature: where its values are in the source's rows */
typedef struct MmDriftFeature
{
	Jsonb	   *prof;
	char	   *name;
	bool		categorical;
	int			col;			/* source column index in the dataset */
	uint32		element;		/* array element */
} MmDriftFeature;

/*
 * mm_drift(model, source, params): per profiled feature of the version,
 * its training mean, the source's mean, the PSI and whether it drifted.
 */
Datum
mm_drift(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *model;
	char	   *source;
	Jsonb	   *params = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	double		threshold = 0.2;
	bool		version_isnull = true;
	int32		version = 0;
	int64		model_id;
	const MmModel *m;
	Jsonb	   *profile;
	MmCatalogCtx cat;
	MmSource	src;
	MmSourceCol *cols;
	int			ncols = 0;
	MmDriftFeature *feats;
	int			nfeats = 0;
	MmDataset	ds;
	JsonbIterator *it;
	JsonbValue	v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "model" : "source")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (params != NULL)
	{
		char	   *key;

		if (!JB_ROOT_IS_OBJECT(params) || JB_ROOT_IS_SCALAR(params))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("params must be a JSON object"),
					 errhint("For example: '{\"threshold\": 0.1}'.")));
		it = JsonbIteratorInit(&params->root);
		while (MmJsonbNextPair(&it, &key, &v))
		{
			double		d = v.type == jbvNumeric ?
				MmNumericDouble(v.val.numeric) : NAN;

			if (strcmp(key, "threshold") == 0 && d > 0 && isfinite(d))
				threshold = d;
			else if (strcmp(key, "version") == 0 && d == floor(d) && d >= 1 && d <= PG_INT32_MAX)
			{
				version_isnull = false;
				version = (int32) d;
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid parameter \"%s\" for mm_drift", key),
						 errhint("mm_drift takes \"threshold\" (a number above 0, default 0.2) and \"version\" (default: the deployed one).")));
		}
	}

	/* the version (predict privilege) and its profile */
	m = MmLoadModel(model, version_isnull, version, &model_id, &version);
	{
		Oid			argtypes[2] = {INT8OID, INT4OID};
		Datum		values[2];
		bool		isnull;
		Datum		d;

		MmCatalogBegin(&cat);
		values[0] = Int64GetDatum(model_id);
		values[1] = Int32GetDatum(version);
		if (SPI_execute_with_args("SELECT profile FROM mm.versions WHERE model_id = $1 AND version = $2",
								  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "version %d of model \"%s\" is missing", version, model);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		profile = isnull ? NULL : MmSpiJsonbCopy(d);
		MmCatalogEnd(&cat);
	}
	if (profile == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("version %d of model \"%s\" has no training profile", version, model),
				 errdetail("It was assembled or imported without one, or trained by the one-scan linear path with no kept rows to profile: nothing held out, or test_fraction 0 read through a query in a parallel plan or beyond mm.max_train_memory."),
				 errhint("Retrain it (mm_retrain), with test_fraction above 0 or max_parallel_workers_per_gather = 0 for a plain linear model.")));

	/*
	 * The model's features, each with its profile entry (a profile comes
	 * from an export too: nothing in it is trusted beyond the entries that
	 * name the model's own features), and the source columns they read.
	 */
	MmOpenSource(source, &src);
	cols = palloc0(sizeof(MmSourceCol) * (m->nfeatures + 1));
	feats = palloc0(sizeof(MmDriftFeature) * (MM_PROFILE_MAX_WIDTH * m->nfeatures + 1));
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *mf = &m->features[i];
		bool		categorical = mf->kind == MM_FEAT_CATEGORICAL;
		uint32		nel = categorical ? 1 : mf->width;
		int			c = ncols;
		int			attno;

		if (!categorical && mf->width > MM_PROFILE_MAX_WIDTH)
			continue;
		attno = MmFindColumn(&src, mf->name);
		if (attno == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of model \"%s\" does not exist in source \"%s\"",
							mf->name, model, source)));
		MmClassifyColumn(&src, attno, false, &cols[ncols++]);
		if (cols[c].kind == MM_COL_ARRAY)
			cols[c].width = mf->width;	/* every row's array must have the trained length */
		if ((cols[c].kind == MM_COL_TEXT) != categorical)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of source \"%s\" is %s, but model \"%s\" was trained on a %s column",
							mf->name, source, cols[c].kind == MM_COL_TEXT ? "categorical" : "numeric",
							model, categorical ? "categorical" : "numeric")));
		for (uint32 k = 0; k < nel; k++)
		{
			char	   *ename = categorical ? mf->name : MmElementName(mf->name, mf->width, k);
			Jsonb	   *fp = MmProfileEntry(profile, ename, categorical);
			MmDriftFeature *f;

			if (fp == NULL)
				continue;		/* not profiled */
			f = &feats[nfeats++];
			f->prof = fp;
			f->name = ename;
			f->categorical = categorical;
			f->col = c;
			f->element = k;
		}
	}

	/* the source's rows: NULLs are counted, not errors */
	MmDatasetRead(&ds, &src, NULL, cols, ncols, MM_LABEL_NONE, true, 0, false,
				  (int64) mm_max_train_memory_kb * 1024, NULL, false);
	for (int i = 0; i < nfeats; i++)
		if (!feats[i].categorical && ds.n > 0 && feats[i].element >= ds.width[feats[i].col])
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("column \"%s\" of source \"%s\" has arrays of %u elements, but model \"%s\" was trained on more",
							cols[feats[i].col].name, source, ds.width[feats[i].col], model)));

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < nfeats; i++)
	{
		MmDriftFeature *f = &feats[i];
		double		ptrain_null = MmJsonbNumber(f->prof, "null", 0.0);
		int64		nulls = 0;
		int64		n = 0;
		double		psi = 0.0;
		double		sum = 0.0;
		double		running = 0.0;
		Datum		out[5];
		bool		outnull[5] = {false, false, false, false, false};

		if (!f->categorical)
		{
			double		edges[MM_PROFILE_BINS];
			double		p[MM_PROFILE_BINS + 1];
			int			nedges = MmJsonbNumbers(f->prof, "edges", edges, MM_PROFILE_BINS - 1);
			int			np = MmJsonbNumbers(f->prof, "p", p, MM_PROFILE_BINS);
			int64		count[MM_PROFILE_BINS] = {0};

			for (int64 r = 0; r < ds.n; r++)
			{
				double		x = MmRawRow(&ds, r)[ds.off[f->col] + f->element];

				if (isnan(x))
				{
					nulls++;
					continue;
				}
				n++;
				sum += x;
				running += (x - running) / n;
				count[MmBin(edges, nedges, x)]++;
			}
			for (int b = 0; b < np; b++)
				psi += MmPsiTerm(p[b] * (1 - ptrain_null),
								 n + nulls > 0 ? (double) count[b] / (n + nulls) : 0.0);
			out[1] = Float8GetDatum(MmJsonbNumber(f->prof, "mean", NAN));
			outnull[1] = isnan(DatumGetFloat8(out[1]));
			/* the mean: of the sum, or running when the sum overflows */
			out[2] = Float8GetDatum(n > 0 ? (isfinite(sum) ? sum / n : running) : NAN);
			outnull[2] = n == 0;
		}
		else
		{
			const MmDict *d = &ds.dicts[f->col];
			int64	   *count = palloc0(sizeof(int64) * Max(d->n, 1));
			JsonbValue *lv = getKeyJsonValueFromContainer(&f->prof->root, "levels", 6, NULL);
			double		other = 0.0;
			bool	   *seen = palloc0(sizeof(bool) * Max(d->n, 1));

			for (int64 r = 0; r < ds.n; r++)
			{
				double		x = MmRawRow(&ds, r)[ds.off[f->col]];

				if (isnan(x))
					nulls++;
				else
					count[(int32) x]++, n++;
			}
			/* each training level, then everything the training rows never had */
			if (lv != NULL && lv->type == jbvBinary)
			{
				JsonbIterator *lit = JsonbIteratorInit(lv->val.binary.data);
				JsonbValue	lk;
				char	   *lname;

				while (MmJsonbNextPair(&lit, &lname, &lk))
				{
					double		pl = lk.type == jbvNumeric ?
						MmNumericDouble(lk.val.numeric) : 0.0;
					int64		cl = 0;

					for (int32 id = 0; id < d->n; id++)
						if (strcmp(d->strs[id], lname) == 0)
						{
							cl = count[id];
							seen[id] = true;
						}
					psi += MmPsiTerm(pl * (1 - ptrain_null), n + nulls > 0 ? (double) cl / (n + nulls) : 0.0);
				}
			}
			for (int32 id = 0; id < d->n; id++)
				if (!seen[id])
					other += count[id];
			if (other > 0)
				psi += MmPsiTerm(0.0, other / (n + nulls));
			outnull[1] = outnull[2] = true;
		}
		if (ptrain_null > 0 || nulls > 0)
			psi += MmPsiTerm(ptrain_null, n + nulls > 0 ? (double) nulls / (n + nulls) : 0.0);
		out[0] = CStringGetTextDatum(f->name);
		out[3] = Float8GetDatum(psi);
		out[4] = BoolGetDatum(psi > threshold);
		if (n + nulls == 0)
		{
			outnull[3] = outnull[4] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
	}
	return (Datum) 0;
}
