/*
 * mm_pardata.c
 *	  A classifier's training rows held by parallel workers.
 *
 * mm_train's in-memory path reads the training rows into a dataset
 * (mm_dataset.c).  For a table read directly (mm_scan.c) that is large
 * enough for a parallel scan, the backend and its workers read it
 * together: each process keeps the rows of the pages it read in a dataset
 * of its own, within its own mm.max_train_memory.  The rows never move.
 * The backend asks, each worker answers from its rows, and the backend
 * combines the answers with its own, always in the order backend, worker
 * 0, worker 1, ...:
 *
 *	 STATE	 (a worker, once read) its labels by value with their row
 *			 counts and, for a held-out split, its rows' split numbers
 *			 grouped by label;
 *	 SPLIT	 the class of each of its labels and, per class, the split
 *			 number below which rows are held out and how many of its rows
 *			 at that number are: the stratified split of MmDatasetSplit
 *			 over all the rows, so that the same rows are held out (up to
 *			 equal rows) whatever the number of workers.  Answer: its
 *			 training rows;
 *	 PROFILE the profile part of its training rows (MmProfilePartEnd);
 *	 NB		 the statistics of the naive Bayes fit over its training rows
 *			 (MmNbAcc: per class the count, means and squared deviations);
 *	 SCALE	 its training rows' column sums, squared deviations from the
 *			 merged means, or minimums and maximums (MmDatasetFitScale's);
 *	 LOGIT_PREP the logistic fit's parameters and scaling: it scales its
 *			 training rows (in place when they are all its rows, in one
 *			 chunk; else a copy) into a part of the fit (mm_logit_part_new)
 *			 and answers with every 16th of them, for the start;
 *	 LOGIT	 the solver's theta: its part's loss sum, gradient and Hessian
 *			 (mm_logit_part_eval), once per pass of Newton's method;
 *	 SCORE	 the model (its blob): the classification metrics of its
 *			 held-out rows (or training rows), its AUC scores included;
 *	 DONE	 the worker ends.
 *
 * A message is an MmDpMsg header and its payload.  The backend sends a
 * request to every worker before it does its own part, then takes their
 * answers.  Parallel mode lasts until MmDataParEnd, which comes before
 * anything is written.  Rows whose label is read as an integer or boolean
 * only: those are interned by value, so labels merge by value.  Naive
 * Bayes and (penalty l2) logistic regression use them.
 *
 * A naive Bayes read with nothing held out is a stream (MmDatasetStream):
 * no process keeps its rows, each folds them into per-label statistics as
 * it reads them (STATE sends their counts), SPLIT maps its labels to
 * classes, NB merges its statistics as classes, and SCORE reads the pages
 * again to score and profile them (no PROFILE): every process its own,
 * then those another has not reached yet (MmScanRescan), with every
 * label's class from the backend.
 */
#include "massmodel.h"
#include "mm_train.h"

#include <math.h>

#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "storage/shm_mq.h"
#include "utils/memutils.h"

/* what a worker needs to read its rows as the backend reads its own */
typedef struct MmDpArgs
{
	int			label_type;
	bool		split;
	uint64		seed;
	int64		max_bytes;
	int64		expect;			/* rows a process expects (sizes its chunks) */
	bool		stream;			/* naive Bayes statistics as read, no row kept */
} MmDpArgs;

#define MMDP_STATE		1
#define MMDP_SPLIT		2
#define MMDP_PROFILE	3
#define MMDP_NB			4
#define MMDP_SCORE		6
#define MMDP_DONE		7
#define MMDP_SCALE		8
#define MMDP_LOGIT_PREP 9
#define MMDP_LOGIT		10

#define MMDP_RUN		4096	/* rows of one side handed on at a time */

typedef struct MmDpMsg
{
	int32		kind;
	int32		pad;
	int64		n;
} MmDpMsg;

/* what the backend knows of a worker's rows */
typedef struct MmDpWorker
{
	int64		nrows;
	int			nlabels;
	int32	   *label;			/* the backend's label id of each of its labels */
	int64	   *count;			/* rows of each of its labels */
	double	   *u;				/* split numbers grouped by its labels, or NULL */
	int64	   *ustart;			/* nlabels + 1 */
} MmDpWorker;

struct MmDataPar
{
	MmScanPar  *par;
	int			workers;
	MmDpWorker *w;
	int64		n_train;		/* of all processes, once split */
	bool		released;		/* the workers were told DONE */
	bool		scaled;			/* this backend's rows are scaled in place */
};

/* A payload read in order; every read is bounded. */
typedef struct MmDpReader
{
	const char *p;
	Size		left;
} MmDpReader;

static void
MmDpTake(MmDpReader *r, void *out, Size len)
{
	if (len > r->left)
		elog(ERROR, "malformed message in the parallel read of the training rows");
	memcpy(out, r->p, len);
	r->p += len;
	r->left -= len;
}

static void
MmDpEnd(const MmDpReader *r)
{
	if (r->left != 0)
		elog(ERROR, "malformed message in the parallel read of the training rows");
}

/*
 * A worker's answer of len bytes must fit one message of its queue (1 GB):
 * some answers have 8 bytes a row (the split numbers, the AUC's scores).
 */
static void
MmDpCheckSize(Size len, int64 rows)
{
	if (len > MaxAllocSize - 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a parallel worker of the training read holds too many rows to hand on: " INT64_FORMAT, rows),
				 errdetail("Its answer would take %zu bytes; one message holds at most 1 GB.", len),
				 errhint("Train with more workers (max_parallel_workers_per_gather), or with none (0).")));
}

/* A message header of kind with n. */
static MmDpMsg
MmDpHeader(int kind, int64 n)
{
	MmDpMsg		h;

	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.n = n;
	return h;
}

/*
 * Call fn on the rows of one side of the split (held out or not) in
 * order, in runs of consecutive rows within a chunk (at most MMDP_RUN),
 * with their classes as int32.
 */
typedef void (*MmDpRunFn) (const MmDataset *ds, const double *X, const int32 *y,
						   int64 n, int64 row0, void *arg);

typedef struct MmDpRunArg
{
	MmDpRunFn	fn;
	void	   *arg;
} MmDpRunArg;

static void
MmDpRun(const MmDataset *ds, int64 r, int64 n, void *arg)
{
	MmDpRunArg *ra = arg;
	int32		y[MMDP_RUN];

	for (int64 k = 0; k < n; k++)
		y[k] = (int32) ds->y[r + k];
	ra->fn(ds, MmRawRow(ds, r), y, n, r, ra->arg);
}

static void
MmDpRuns(const MmDataset *ds, bool heldout, MmDpRunFn fn, void *arg)
{
	MmDpRunArg	ra = {fn, arg};

	MmDatasetRuns(ds, heldout, MMDP_RUN, MmDpRun, &ra);
}

/* ---------------------------------------------------------------------
 * The parts every process does on its own rows
 * --------------------------------------------------------------------- */

static void
MmDpProfileRun(const MmDataset *ds, const double *X, const int32 *y, int64 n,
			   int64 row0, void *arg)
{
	MmProfilePartRows((MmProfilePart *) arg, X, n, ds->rawd);
}

/* The profile part of ds's training rows at the raw offsets pos. */
static double *
MmDpProfilePart(const MmDataset *ds, const int *pos, int npos, int64 step, Size *len)
{
	MmProfilePart *pp = MmProfilePartBegin(pos, npos, ds->n_train, step);

	MmDpRuns(ds, false, MmDpProfileRun, pp);
	return MmProfilePartEnd(pp, len);
}

/* the naive Bayes statistics of a process's training rows, in order */
static void
MmDpNbRun(const MmDataset *ds, const double *X, const int32 *y, int64 n,
		  int64 row0, void *arg)
{
	MmErr		err;

	/* the values were checked as they were read */
	if (mm_nb_acc_rows((MmNbAcc *) arg, X, y, n, row0, &err) != MM_OK)
		elog(ERROR, "naive bayes: %s", err.msg);
}

static void
MmDpNbAcc(const MmDataset *ds, MmNbAcc *acc)
{
	if (ds->stream)
	{
		/* the statistics of its labels, as classes */
		int			LK = ds->nbacc->K;
		int32	   *what = palloc(sizeof(int32) * LK);

		if (ds->class_of == NULL)
			elog(ERROR, "the naive bayes statistics were asked for before the split");
		for (int l = 0; l < LK; l++)
			what[l] = l < ds->labels.n ? ds->class_of[l] : -1;
		if (!mm_nb_acc_merge_flat(acc, ds->nbacc->s, LK, what))
			elog(ERROR, "the naive bayes statistics of the rows read do not match their labels");
		pfree(what);
		return;
	}
	MmDpRuns(ds, false, MmDpNbRun, acc);
	mm_nb_acc_flush(acc);
}

/* scoring a process's rows */
typedef struct MmDpScoring
{
	const MmModel *m;
	MmClsMetrics *met;
	double	   *proba;
	double	   *x;				/* a row scaled as the model scales */
} MmDpScoring;

static void
MmDpScoreRun(const MmDataset *ds, const double *X, const int32 *y, int64 n,
			 int64 row0, void *arg)
{
	MmDpScoring *sc = arg;

	for (int64 r = 0; r < n; r++)
	{
		const double *x = X + r * ds->rawd;

		if (sc->m->scale != MM_SCALE_NONE)
		{
			memcpy(sc->x, x, sizeof(double) * ds->rawd);
			mm_model_scale(sc->m, sc->x);
			x = sc->x;
		}
		MmModelProba(sc->m, x, sc->proba);
		mm_clsmetrics_add(sc->met, y[r], sc->proba);
	}
}

/* Score a process's rows of one side; scaled: its rows were scaled in place (MmDpTrainMatrix). */
static void
MmDpScore(const MmDataset *ds, const MmModel *m, bool heldout, bool scaled, MmClsMetrics *met)
{
	MmDpScoring sc;
	MmModel		unscaled;

	if (scaled)
	{
		unscaled = *m;
		unscaled.scale = MM_SCALE_NONE;
		m = &unscaled;
	}
	sc.m = m;
	sc.met = met;
	sc.proba = palloc(sizeof(double) * Max(m->nclasses, 1));
	sc.x = palloc(sizeof(double) * Max(ds->rawd, 1));
	MmDpRuns(ds, heldout, MmDpScoreRun, &sc);
	pfree(sc.proba);
	pfree(sc.x);
}

/* a label's value and its class, for a stream's scoring */
typedef struct MmDpLabelClass
{
	int64		value;
	int32		klass;
} MmDpLabelClass;

static int
MmDpCompareLabels(const void *a, const void *b)
{
	int64		x = ((const MmDpLabelClass *) a)->value;
	int64		y = ((const MmDpLabelClass *) b)->value;

	return (x > y) - (x < y);
}

/* The class of a row's label value (lc: n labels by value); -1 for none. */
static inline int32
MmDpClassOf(const MmDpLabelClass *lc, int n, int64 v)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (lc[mid].value < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && lc[lo].value == v ? lc[lo].klass : -1;
}

/* a stream's scoring: the rows' classes by label value, the metrics and the profile part */
typedef struct MmDpStreamScoring
{
	MmDataset  *ds;
	const MmDpLabelClass *lc;	/* the labels by value */
	int32		nlabels;
	int32		y[MM_NB_BLOCK];	/* the block's classes */
	MmDpScoring sc;
	MmProfilePart *pp;
} MmDpStreamScoring;

static void
MmDpStreamClasses(void *arg, const Datum *target, int k, int i)
{
	MmDpStreamScoring *st = arg;

	for (int r = 0; r < k; r++)
	{
		int64		v = st->ds->label_type == MM_LABEL_INT ? DatumGetInt64(target[r]) :
			(int64) DatumGetBool(target[r]);

		st->y[i + r] = MmDpClassOf(st->lc, st->nlabels, v);
		/* the same rows under the same snapshot: no label new to the split */
		if (st->y[i + r] < 0)
			elog(ERROR, "the second read of the training rows found a label the first did not");
	}
}

static void
MmDpStreamTake(void *arg, const double *rows, int n, int64 row0)
{
	MmDpStreamScoring *st = arg;

	MmDpScoreRun(st->ds, rows, st->y, n, row0, &st->sc);
	MmProfilePartRows(st->pp, rows, n, st->ds->rawd);
}

/*
 * The classes of ds's labels (split: MmDataParSplit), by value.  The
 * backend's ds has every process's labels.
 */
static MmDpLabelClass *
MmDpStreamLabels(MmDataset *ds)
{
	int64	   *keys = MmDatasetLabelKeys(ds);
	/* zeroed: the padding goes to the workers too */
	MmDpLabelClass *lc = palloc0(sizeof(MmDpLabelClass) * Max(ds->labels.n, 1));

	if (ds->class_of == NULL)
		elog(ERROR, "the training rows were scored before they were split");
	for (int32 l = 0; l < ds->labels.n; l++)
	{
		lc[l].value = keys[l];
		lc[l].klass = ds->class_of[l];
	}
	qsort(lc, ds->labels.n, sizeof(MmDpLabelClass), MmDpCompareLabels);
	return lc;
}

/*
 * A stream's scoring (ds->stream): pages read again (MmScanRescanBlocks),
 * each row's class from its label (lc: nlabels labels by value), scored
 * with m into met and profiled at the raw offsets pos (sampling step)
 * into a part, a block of rows at a time; then its scan is ended.
 * total < 0: this process's own pages, in order: the rows its first read
 * folded, so their number must be ds->n.  Else this process's part of a
 * shared second read of every process's pages, total rows in all (the
 * backend checks they add up); lc then has every process's labels.
 */
static double *
MmDpStreamScore(MmDataset *ds, const MmModel *m, MmClsMetrics *met, const int *pos,
				int npos, int64 step, const MmDpLabelClass *lc, int32 nlabels, int64 total,
				Size *plen)
{
	MmDpStreamScoring *st = palloc0(sizeof(MmDpStreamScoring));
	int64		bound = total < 0 ? ds->n : total;

	st->ds = ds;
	st->lc = lc;
	st->nlabels = nlabels;
	st->sc.m = m;
	st->sc.met = met;
	st->sc.proba = palloc(sizeof(double) * Max(m->nclasses, 1));
	st->sc.x = palloc(sizeof(double) * Max(ds->rawd, 1));
	st->pp = MmProfilePartBegin(pos, npos, bound, step);
	/*
	 * Room for the AUC's scores of its own rows and of an eighth of all
	 * the rows taken from the others; past that it grows.
	 */
	mm_clsmetrics_reserve(met, Min(bound, ds->n + bound / 8));
	(void) MmScanRescanBlocks(ds->scan, bound, total >= 0, MM_NB_BLOCK, ds->rawd, MmDpStreamClasses,
							  MmDpStreamTake, st);
	return MmProfilePartEnd(st->pp, plen);
}

/* a process's column statistics for the scaling (MMDP_SCALE) */
typedef struct MmDpCols
{
	int			mode;			/* 1 sums, 2 squared deviations, 3 minimums and maximums */
	const double *center;
	double	   *out;			/* p, or 2p for mode 3 */
} MmDpCols;

static void
MmDpColsRun(const MmDataset *ds, const double *X, const int32 *y, int64 n,
			int64 row0, void *arg)
{
	MmDpCols   *c = arg;
	int			p = ds->rawd;
	double	   *out = c->out;

	/* a loop per mode: no test per value, and the sums vectorise */
	if (c->mode == 1)
	{
		for (int64 r = 0; r < n; r++)
		{
			const double *x = X + r * p;

			for (int j = 0; j < p; j++)
				out[j] += x[j];
		}
	}
	else if (c->mode == 2)
	{
		const double *center = c->center;

		for (int64 r = 0; r < n; r++)
		{
			const double *x = X + r * p;

			for (int j = 0; j < p; j++)
			{
				double		dev = x[j] - center[j];

				out[j] += dev * dev;
			}
		}
	}
	else
	{
		for (int64 r = 0; r < n; r++)
		{
			const double *x = X + r * p;

			for (int j = 0; j < p; j++)
			{
				out[j] = Min(out[j], x[j]);
				out[p + j] = Max(out[p + j], x[j]);
			}
		}
	}
}

/* This process's column statistics of its training rows for mode (center: mode 2's). */
static double *
MmDpColumns(const MmDataset *ds, int mode, const double *center, Size *len)
{
	MmDpCols	c;
	int			p = ds->rawd;

	c.mode = mode;
	c.center = center;
	*len = sizeof(double) * p * (mode == 3 ? 2 : 1);
	c.out = palloc0(*len);
	for (int j = 0; mode == 3 && j < p; j++)
	{
		c.out[j] = INFINITY;
		c.out[p + j] = -INFINITY;
	}
	MmDpRuns(ds, false, MmDpColsRun, &c);
	return c.out;
}

/*
 * A process's training rows as a matrix scaled as m scales (m->ncols ==
 * ds->rawd), and their classes.  When every row is a training row and
 * they lie in one chunk, the chunk is scaled in place (in_place): the rows
 * are not needed unscaled after the profile, and a copy would be as large.
 */
typedef struct MmDpMatrix
{
	const MmModel *m;
	double	   *X;
	int32	   *y;
	int64		n;
	bool		in_place;
} MmDpMatrix;

static void
MmDpMatrixRun(const MmDataset *ds, const double *X, const int32 *y, int64 n,
			  int64 row0, void *arg)
{
	MmDpMatrix *mx = arg;

	memcpy(mx->X + mx->n * ds->rawd, X, sizeof(double) * n * ds->rawd);
	memcpy(mx->y + mx->n, y, sizeof(int32) * n);
	for (int64 r = 0; r < n; r++)
		mm_model_scale(mx->m, mx->X + (mx->n + r) * ds->rawd);
	mx->n += n;
}

static void
MmDpTrainMatrix(const MmDataset *ds, const MmModel *m, MmDpMatrix *mx)
{
	mx->m = m;
	mx->n = 0;
	mx->in_place = ds->n > 0 && ds->n_train == ds->n && ds->n <= ds->chunk_rows;
	mx->y = palloc_extended(sizeof(int32) * Max(ds->n_train, 1), MCXT_ALLOC_HUGE);
	if (mx->in_place)
	{
		mx->X = ds->chunks[0];
		for (int64 r = 0; r < ds->n; r++)
		{
			mx->y[r] = (int32) ds->y[r];
			mm_model_scale(m, mx->X + r * ds->rawd);
			if ((r & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		mx->n = ds->n;
		return;
	}
	mx->X = MmAllocLarge(CurrentMemoryContext,
						 sizeof(double) * Max(ds->n_train, 1) * Max(ds->rawd, 1));
	MmDpRuns(ds, false, MmDpMatrixRun, mx);
}

/* Every stride-th row of a process's matrix (ns of them) into a new array, with their classes. */
static double *
MmDpSubsample(const MmDpMatrix *mx, int p, int stride, int64 *ns, int32 **ys)
{
	int64		n = stride > 0 ? mx->n / stride : 0;
	double	   *Xs = palloc_extended(sizeof(double) * Max(n, 1) * p, MCXT_ALLOC_HUGE);

	*ys = palloc_extended(sizeof(int32) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < n; i++)
	{
		memcpy(Xs + i * p, mx->X + (i * stride) * p, sizeof(double) * p);
		(*ys)[i] = mx->y[i * stride];
	}
	*ns = n;
	return Xs;
}

/* ---------------------------------------------------------------------
 * The backend
 * --------------------------------------------------------------------- */

/* A worker's STATE: its labels interned into ds's (by value), its counts and split numbers. */
static void
MmDpState(MmDataPar *dp, MmDataset *ds, int worker, const void *data, Size len)
{
	MmDpWorker *w = &dp->w[worker];
	MmDpReader	r;
	MmDpMsg		h;
	int32		nl;
	int32		has_u;
	int64		total = 0;

	r.p = data;
	r.left = len;
	MmDpTake(&r, &h, sizeof(h));
	MmDpTake(&r, &nl, sizeof(nl));
	MmDpTake(&r, &has_u, sizeof(has_u));
	if (h.kind != MMDP_STATE || w->label != NULL || h.n < 0 || nl < 0 ||
		nl > MM_MAX_CLASSES || (has_u != 0) != ds->split)
		elog(ERROR, "unexpected message from parallel worker %d", worker);
	w->nrows = h.n;
	w->nlabels = nl;
	w->label = palloc(sizeof(int32) * Max(nl, 1));
	w->count = palloc(sizeof(int64) * Max(nl, 1));
	w->ustart = palloc0(sizeof(int64) * (nl + 1));
	for (int l = 0; l < nl; l++)
	{
		int64		v;

		MmDpTake(&r, &v, sizeof(v));
		w->label[l] = MmInternValue(&ds->labels, (const char *) &v, sizeof(v),
									ds->target->name, true);
	}
	for (int l = 0; l < nl; l++)
	{
		MmDpTake(&r, &w->count[l], sizeof(int64));
		if (w->count[l] < 0 || w->count[l] > h.n)
			elog(ERROR, "unexpected message from parallel worker %d", worker);
		total += w->count[l];
		w->ustart[l + 1] = total;
	}
	if (total != h.n)
		elog(ERROR, "unexpected message from parallel worker %d", worker);
	if (has_u)
	{
		w->u = palloc_extended(sizeof(double) * Max(h.n, 1), MCXT_ALLOC_HUGE);
		MmDpTake(&r, w->u, sizeof(double) * h.n);
	}
	MmDpEnd(&r);
}

/*
 * Read ds's rows from scan with nworkers workers (mm_dataset.c decided
 * they may be used): the backend reads its share between looks at the
 * workers' queues.  Returns the workers, still in parallel mode, or NULL
 * when none could be launched: then ds holds every row, read from the
 * first page on as the serial read does.
 */
MmDataPar *
MmDataParRead(MmDataset *ds, MmScan *scan, int nworkers)
{
	MmDataPar  *dp = palloc0(sizeof(MmDataPar));
	MmDpArgs	a;
	bool		reading;
	int			nstates = 0;

	memset(&a, 0, sizeof(a));
	a.label_type = ds->label_type;
	a.split = ds->split;
	a.seed = ds->seed;
	a.max_bytes = ds->max_bytes;
	a.expect = MmScanExpect(scan, 1.0 / (nworkers + 1));
	a.stream = ds->stream;
	dp->par = MmScanParallelBegin(scan, nworkers, MM_PAR_DATASET, &a, sizeof(a));
	dp->workers = MmScanParallelLaunched(dp->par);
	dp->w = palloc0(sizeof(MmDpWorker) * Max(dp->workers, 1));
	ds->expect = dp->workers > 0 ? a.expect : MmScanExpect(scan, 1.0);

	/*
	 * Every later pass over the rows lasts as long as the largest share of
	 * them.  This backend, which starts first, would read the most, and it
	 * cannot stop halfway (the pages the shared scan gave it would be
	 * lost): with parallel_leader_participation off it reads none.
	 */
	reading = dp->workers == 0 || parallel_leader_participation;

	while (reading || nstates < dp->workers)
	{
		int			worker;
		void	   *data;
		Size		len;
		int			got = dp->workers > 0 ?
			MmScanParallelReceive(dp->par, &worker, &data, &len) : MM_PAR_NONE;

		if (got == MM_PAR_MESSAGE)
		{
			MmDpState(dp, ds, worker, data, len);
			nstates++;
			continue;
		}
		if (got == MM_PAR_FINISHED)
			MmScanParallelFailed(dp->par, worker);
		if (reading)
		{
			/*
			 * a share of the rows between two looks at the queues; past the
			 * rows expected of one process, row by row to the end of a chunk
			 * of pages, where it stops
			 */
			bool		enough = dp->workers > 0 && ds->n >= a.expect;

			reading = MmDatasetReadRows(ds, scan, dp->workers == 0 ? PG_INT64_MAX : enough ? 1 : 256);
			if (reading && enough && MmScanChunkDone(scan))
				reading = false;
			continue;
		}
		MmScanParallelWait();
	}
	MmDatasetScalarLayout(ds);
	if (ds->stream)
		mm_nb_acc_flush(ds->nbacc);
	if (dp->workers == 0)
	{
		/* no worker slot: this backend has read every page of the shared scan */
		MmScanParallelEnd(dp->par, scan);
		dp->par = NULL;
		if (ds->stream)
			return dp;			/* a stream has no rows to go on with alone */
		pfree(dp);
		return NULL;
	}
	return dp;
}

/* The rows of each of ds's labels (its own rows, by label id) into count. */
static void
MmDpLabelCounts(const MmDataset *ds, int64 *count)
{
	if (ds->stream)
	{
		for (int32 l = 0; l < ds->labels.n && l < ds->nbacc->K; l++)
			count[l] += (int64) ds->nbacc->s[l];
		return;
	}
	for (int64 i = 0; i < ds->n; i++)
		count[(int32) ds->y[i]]++;
}

/* Workers that hold rows. */
int
MmDataParWorkers(const MmDataPar *dp)
{
	return dp->workers;
}

/* Send every worker the request kind (n, then len bytes of data). */
static void
MmDpRequest(MmDataPar *dp, int kind, int64 n, const void *data, Size len)
{
	MmDpMsg		h = MmDpHeader(kind, n);

	for (int w = 0; w < dp->workers; w++)
		MmScanParallelSendTo(dp->par, w, &h, sizeof(h), data, len);
}

/* where MmDpAnswers copies the answers to */
typedef struct MmDpTaken
{
	int			kind;
	char	  **out;
	Size	   *lens;
	int64	   *n;
} MmDpTaken;

static void
MmDpTake1(void *arg, int worker, const void *data, Size len)
{
	MmDpTaken  *t = arg;
	MmDpMsg		h;

	if (len < sizeof(h))
		elog(ERROR, "short message from parallel worker %d", worker);
	memcpy(&h, data, sizeof(h));
	if (h.kind != t->kind)
		elog(ERROR, "unexpected message from parallel worker %d", worker);
	t->lens[worker] = len - sizeof(h);
	t->out[worker] = palloc_extended(Max(t->lens[worker], 1), MCXT_ALLOC_HUGE);
	memcpy(t->out[worker], (const char *) data + sizeof(h), t->lens[worker]);
	t->n[worker] = h.n;
}

/*
 * Every worker's answer to the request kind: its payload copied into
 * out[w] (len[w] bytes), its header's n into n[w].  A worker ends only
 * when told: one that has, has failed.
 */
static void
MmDpAnswers(MmDataPar *dp, int kind, char **out, Size *lens, int64 *n)
{
	MmDpTaken	t = {kind, out, lens, n};

	if (dp->workers > 0)
		MmScanParallelCollect(dp->par, MmDpTake1, &t);
}

/*
 * The stratified split of all the rows (MmDatasetSplit's): ds's labels
 * (the workers' among them) become classes, ds's rows are split and the
 * workers told theirs.  *n and *n_train: the rows of all processes;
 * train_k (K): the training rows of each class.
 */
void
MmDataParSplit(MmDataPar *dp, MmDataset *ds, double test_fraction, int64 *n,
			   int64 *n_train, int64 *train_k)
{
	int32		K = ds->labels.n;
	int32	   *rank = palloc(sizeof(int32) * Max(K, 1));
	int64	   *nk = palloc0(sizeof(int64) * Max(K, 1));
	int64	   *take = palloc0(sizeof(int64) * Max(K, 1));
	int64	   *need = palloc0(sizeof(int64) * Max(K, 1));
	double	   *cut = palloc(sizeof(double) * Max(K, 1));
	int64	  **atcut = palloc(sizeof(int64 *) * (dp->workers + 1));
	char	  **out = palloc(sizeof(char *) * dp->workers);
	Size	   *lens = palloc(sizeof(Size) * dp->workers);
	int64	   *wtrain = palloc(sizeof(int64) * dp->workers);
	int64		train = 0;

	if (test_fraction > 0 && !ds->split)
		elog(ERROR, "the dataset was read without split numbers");
	ds->heldout = palloc0(sizeof(bool) * Max(ds->n, 1));
	if (K == 0)
	{
		/* no row anywhere (every row has a label): nothing to split */
		*n = *n_train = dp->n_train = 0;
		return;
	}
	MmDatasetClasses(ds, rank);
	if (ds->stream)
	{
		int64	   *own = palloc0(sizeof(int64) * K);

		if (test_fraction > 0)
			elog(ERROR, "a stream of naive bayes statistics holds out no rows");
		MmDpLabelCounts(ds, own);
		for (int32 l = 0; l < K; l++)
			nk[rank[l]] += own[l];
		ds->class_of = rank;
	}
	else
		for (int64 i = 0; i < ds->n; i++)
			nk[(int32) ds->y[i]]++;
	for (int w = 0; w < dp->workers; w++)
		for (int l = 0; l < dp->w[w].nlabels; l++)
			nk[rank[dp->w[w].label[l]]] += dp->w[w].count[l];
	for (int32 k = 0; k < K; k++)
		cut[k] = -1.0;
	for (int p = 0; p <= dp->workers; p++)
		atcut[p] = palloc0(sizeof(int64) * Max(K, 1));

	if (test_fraction > 0)
	{
		/* each class's cut from the split numbers of all its rows, grouped by class */
		int64		total = 0;
		int64	   *start = palloc0(sizeof(int64) * (K + 1));
		int64	   *fill = palloc(sizeof(int64) * K);
		double	   *uk;

		for (int32 k = 0; k < K; k++)
		{
			start[k + 1] = start[k] + nk[k];
			fill[k] = start[k];
			total += nk[k];
		}
		uk = palloc_extended(sizeof(double) * Max(total, 1), MCXT_ALLOC_HUGE);
		for (int64 i = 0; i < ds->n; i++)
		{
			uk[fill[(int32) ds->y[i]]++] = ds->u[i];
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		for (int w = 0; w < dp->workers; w++)
			for (int l = 0; l < dp->w[w].nlabels; l++)
			{
				int32		k = rank[dp->w[w].label[l]];

				memcpy(uk + fill[k], dp->w[w].u + dp->w[w].ustart[l],
					   sizeof(double) * dp->w[w].count[l]);
				fill[k] += dp->w[w].count[l];
			}
		for (int32 k = 0; k < K; k++)
		{
			cut[k] = MmSplitCut(uk + start[k], nk[k], test_fraction, &take[k]);
			need[k] = take[k];
			CHECK_FOR_INTERRUPTS();
		}
		pfree(uk);

		/*
		 * Rows below the cut are held out wherever they are; of the rows at
		 * it, as many as the count still allows, the backend's first, then
		 * worker by worker: atcut[p] for process p (0: the backend).
		 */
		for (int64 i = 0; i < ds->n; i++)
		{
			int32		k = (int32) ds->y[i];

			need[k] -= ds->u[i] < cut[k];
			atcut[0][k] += ds->u[i] == cut[k];
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		for (int w = 0; w < dp->workers; w++)
			for (int l = 0; l < dp->w[w].nlabels; l++)
			{
				int32		k = rank[dp->w[w].label[l]];
				const double *u = dp->w[w].u + dp->w[w].ustart[l];

				for (int64 i = 0; i < dp->w[w].count[l]; i++)
				{
					need[k] -= u[i] < cut[k];
					atcut[w + 1][k] += u[i] == cut[k];
				}
				CHECK_FOR_INTERRUPTS();
			}
		/* the workers' split numbers are done with */
		for (int w = 0; w < dp->workers; w++)
		{
			pfree(dp->w[w].u);
			dp->w[w].u = NULL;
		}
		for (int32 k = 0; k < K; k++)
			for (int p = 0; p <= dp->workers; p++)
			{
				int64		q = Min(need[k], atcut[p][k]);

				atcut[p][k] = q;
				need[k] -= q;
			}
		MmDatasetHoldOut(ds, K, cut, atcut[0]);
	}

	/* each worker: the class of each of its labels, the cuts and its share at them */
	for (int w = 0; w < dp->workers; w++)
	{
		StringInfoData b;
		MmDpMsg		h = MmDpHeader(MMDP_SPLIT, test_fraction > 0);

		initStringInfo(&b);
		appendBinaryStringInfo(&b, (char *) &K, sizeof(K));
		appendBinaryStringInfo(&b, (char *) &dp->w[w].nlabels, sizeof(int32));
		for (int l = 0; l < dp->w[w].nlabels; l++)
			appendBinaryStringInfo(&b, (char *) &rank[dp->w[w].label[l]], sizeof(int32));
		appendBinaryStringInfo(&b, (char *) cut, sizeof(double) * K);
		appendBinaryStringInfo(&b, (char *) atcut[w + 1], sizeof(int64) * K);
		MmScanParallelSendTo(dp->par, w, &h, sizeof(h), b.data, b.len);
		pfree(b.data);
	}
	ds->n_train = 0;
	for (int64 i = 0; i < ds->n; i++)
		ds->n_train += !ds->heldout[i];
	MmDpAnswers(dp, MMDP_SPLIT, out, lens, wtrain);

	*n = ds->n;
	train = ds->n_train;
	for (int w = 0; w < dp->workers; w++)
	{
		if (lens[w] != 0 || wtrain[w] < 0 || wtrain[w] > dp->w[w].nrows)
			elog(ERROR, "unexpected message from parallel worker %d", w);
		*n += dp->w[w].nrows;
		train += wtrain[w];
	}
	*n_train = dp->n_train = train;
	for (int32 k = 0; k < K; k++)
	{
		train_k[k] = nk[k] - take[k];
		train -= train_k[k];
	}
	if (train != 0)
		elog(ERROR, "the parallel workers' split does not add up");
}

/*
 * The profile of all the training rows (MmProfileDataset's), from the
 * parts of every process; m: a model of scalar numeric features, whose
 * encoded rows are the raw rows.
 */
Jsonb *
MmDataParProfile(MmDataPar *dp, const MmDataset *ds, const MmModel *m)
{
	int		   *pos = palloc(sizeof(int) * Max(m->ncols, 1));
	int			npos = MmProfilePositions(m, pos);
	int64		step = MmProfileStep(dp->n_train);
	double	  **parts = palloc(sizeof(double *) * (dp->workers + 1));
	Size	   *lens = palloc(sizeof(Size) * (dp->workers + 1));
	int64	   *ns = palloc(sizeof(int64) * (dp->workers + 1));
	StringInfoData b;

	/* the raw rows have no target in front */
	for (int j = 0; j < npos; j++)
		pos[j] -= 1;
	initStringInfo(&b);
	appendBinaryStringInfo(&b, (char *) &npos, sizeof(int32));
	appendBinaryStringInfo(&b, (char *) pos, sizeof(int32) * npos);
	MmDpRequest(dp, MMDP_PROFILE, step, b.data, b.len);
	parts[0] = MmDpProfilePart(ds, pos, npos, step, &lens[0]);
	MmDpAnswers(dp, MMDP_PROFILE, (char **) parts + 1, lens + 1, ns + 1);
	for (int w = 1; w <= dp->workers; w++)
		if (!MmProfilePartValid(parts[w], lens[w], npos, -1))
			elog(ERROR, "unexpected message from parallel worker %d", w - 1);
	return MmProfileFromParts(m, parts, dp->workers + 1, NULL);
}

/* Add the workers' answers of n doubles each to sums, in worker order. */
static void
MmDpAddAnswers(MmDataPar *dp, int kind, double *sums, size_t n)
{
	char	  **out = palloc(sizeof(char *) * Max(dp->workers, 1));
	Size	   *lens = palloc(sizeof(Size) * Max(dp->workers, 1));
	int64	   *ns = palloc(sizeof(int64) * Max(dp->workers, 1));

	MmDpAnswers(dp, kind, out, lens, ns);
	for (int w = 0; w < dp->workers; w++)
	{
		const double *a = (const double *) out[w];

		if (lens[w] != sizeof(double) * n)
			elog(ERROR, "unexpected message from parallel worker %d", w);
		for (size_t i = 0; i < n; i++)
			sums[i] += a[i];
		pfree(out[w]);
	}
}

/*
 * Fit m's naive Bayes model (m->ncols scalar numeric features, m->nclasses
 * classes; group: mm_nb_fit's) from the training rows of every process:
 * the statistics of the backend's rows (MmNbAcc), each worker's merged
 * into them in worker order.  With one process it is mm_nb_fit to the bit.
 */
void
MmDataParNbFit(MmDataPar *dp, const MmDataset *ds, MmModel *m, const int32 *group,
			   double var_smoothing, double alpha, const char *model)
{
	int			p = (int) m->ncols;
	int			K = (int) m->nclasses;
	size_t		len = mm_nb_acc_len(p, K);
	MmNbAcc		acc;
	MmErr		err;
	MmStatus	status;
	StringInfoData b;
	char	  **out = palloc(sizeof(char *) * Max(dp->workers, 1));
	Size	   *lens = palloc(sizeof(Size) * Max(dp->workers, 1));
	int64	   *ns = palloc(sizeof(int64) * Max(dp->workers, 1));

	for (int j = 0; j < p; j++)
		if (group[j] >= 0)
			elog(ERROR, "the parallel naive bayes fit takes numeric features only");
	initStringInfo(&b);
	appendBinaryStringInfo(&b, (char *) &K, sizeof(int32));
	appendBinaryStringInfo(&b, (char *) &p, sizeof(int32));
	MmDpRequest(dp, MMDP_NB, 0, b.data, b.len);
	mm_nb_acc_init(&acc, p, K, group, MmPallocAllocator());
	MmDpNbAcc(ds, &acc);
	MmDpAnswers(dp, MMDP_NB, out, lens, ns);
	for (int w = 0; w < dp->workers; w++)
	{
		if (lens[w] != sizeof(double) * len ||
			!mm_nb_acc_merge_flat(&acc, (const double *) out[w], K, NULL))
			elog(ERROR, "unexpected message from parallel worker %d", w);
		pfree(out[w]);
	}
	status = mm_nb_fit_acc(&acc, K, var_smoothing, alpha, &m->nb, MmPallocAllocator(), &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);
}

/*
 * m's scaling (MmDatasetFitScale's) from the training rows of every
 * process: the means then the population standard deviations, or the
 * minimums and ranges; a spread that is 0 or not finite scales by 1.
 */
void
MmDataParScale(MmDataPar *dp, const MmDataset *ds, MmModel *m, int scale)
{
	int			p = (int) m->ncols;
	char	  **out = palloc(sizeof(char *) * Max(dp->workers, 1));
	Size	   *lens = palloc(sizeof(Size) * Max(dp->workers, 1));
	int64	   *ns = palloc(sizeof(int64) * Max(dp->workers, 1));
	double	   *a;
	double	   *b;
	Size		len;
	int32		mode;

	m->scale = scale;
	if (scale == MM_SCALE_NONE || dp->n_train == 0)
	{
		m->scale = MM_SCALE_NONE;
		return;
	}
	if (p != ds->rawd)
		elog(ERROR, "the parallel scaling takes scalar numeric features only");
	mode = scale == MM_SCALE_STANDARD ? 1 : 3;
	MmDpRequest(dp, MMDP_SCALE, mode, NULL, 0);
	a = MmDpColumns(ds, mode, NULL, &len);
	MmDpAnswers(dp, MMDP_SCALE, out, lens, ns);
	b = mode == 3 ? a + p : palloc0(sizeof(double) * p);
	for (int w = 0; w < dp->workers; w++)
	{
		const double *v = (const double *) out[w];

		if (lens[w] != len)
			elog(ERROR, "unexpected message from parallel worker %d", w);
		for (int j = 0; j < p; j++)
		{
			if (mode == 1)
				a[j] += v[j];
			else
			{
				a[j] = Min(a[j], v[j]);
				b[j] = Max(b[j], v[p + j]);
			}
		}
	}
	if (mode == 1)
	{
		StringInfoData c;

		/* the means, then the squared deviations from them */
		for (int j = 0; j < p; j++)
			a[j] /= dp->n_train;
		mode = 2;
		initStringInfo(&c);
		appendBinaryStringInfo(&c, (char *) a, sizeof(double) * p);
		MmDpRequest(dp, MMDP_SCALE, mode, c.data, c.len);
		pfree(b);
		b = MmDpColumns(ds, mode, a, &len);
		MmDpAddAnswers(dp, MMDP_SCALE, b, p);
		for (int j = 0; j < p; j++)
			b[j] = sqrt(b[j] / dp->n_train);
	}
	else
	{
		double	   *range = palloc(sizeof(double) * p);

		for (int j = 0; j < p; j++)
			range[j] = b[j] - a[j];
		b = range;
	}
	m->center = a;
	m->scalev = b;
	for (int j = 0; j < p; j++)
		if (!(b[j] > 0 && isfinite(b[j])))
			b[j] = 1.0;
}

/* A pass over a part's rows takes interrupts (a statement_timeout, a cancel). */
static void
MmDpInterrupts(void *arg, int iteration, double objective)
{
	CHECK_FOR_INTERRUPTS();
}

static const MmProgress mm_dp_interrupts = {MmDpInterrupts, NULL};

/* the passes of a logistic fit over the rows of every process */
typedef struct MmDpLogit
{
	MmDataPar  *dp;
	MmLogitPart *own;
	int			m;
	char	  **out;
	Size	   *lens;
	int64	   *ns;
} MmDpLogit;

/* One pass (MmLogitSumFn): this backend's part, then each worker's, added. */
static double
MmDpLogitSum(void *arg, const double *theta, double *grad, double *H)
{
	MmDpLogit  *lg = arg;
	MmDataPar  *dp = lg->dp;
	int			m = lg->m;
	bool		want = grad != NULL && H != NULL;
	double		loss;

	MmDpRequest(dp, MMDP_LOGIT, want, theta, sizeof(double) * m);
	loss = mm_logit_part_eval(lg->own, theta, want ? grad : NULL, want ? H : NULL);
	MmDpAnswers(dp, MMDP_LOGIT, lg->out, lg->lens, lg->ns);
	for (int w = 0; w < dp->workers; w++)
	{
		const double *v = (const double *) lg->out[w];

		if (lg->lens[w] != sizeof(double) * (1 + (want ? (Size) m + (Size) m * m : 0)))
			elog(ERROR, "unexpected message from parallel worker %d", w);
		loss += v[0];
		for (int j = 0; want && j < m; j++)
			grad[j] += v[1 + j];
		for (Size j = 0; want && j < (Size) m * m; j++)
			H[j] += v[1 + m + j];
		pfree(lg->out[w]);
	}
	return loss;
}

/*
 * Fit m's logistic regression (m->ncols scalar numeric features, scaled
 * as m says, m->nclasses classes, every one with training rows) with lp
 * from the training rows of every process: each scales its own into a
 * part of the fit, every 16th row of each starts it (when there are
 * enough), and each pass of Newton's method is every part's, added.
 */
MmStatus
MmDataParLogisticFit(MmDataPar *dp, const MmDataset *ds, MmModel *m,
					 const MmLogisticParams *lp, MmLogisticInfo *info,
					 const MmProgress *progress, MmErr *err)
{
	int			p = (int) m->ncols;
	int			K = (int) m->nclasses;
	int			nsets = mm_logistic_nsets(K);
	int32		stride = dp->n_train >= MM_LOGISTIC_SUBSAMPLE_MIN && lp->init_coef == NULL ?
		MM_LOGISTIC_STRIDE : 0;
	MmDpMatrix	mx;
	MmDpLogit	lg;
	MmLogisticParams start = *lp;
	StringInfoData b;
	int32		v[6];
	double		c[2];
	double	   *Xs;
	int32	   *ys;
	int64		ns;

	MmStatus	st;

	if (p != ds->rawd)
		elog(ERROR, "the parallel logistic fit takes scalar numeric features only");
	/* a fit Newton can take (MM_ELIMIT: too many parameters), before the workers copy their rows */
	st = mm_logit_part_new(0, p, K, NULL, NULL, lp, NULL, &lg.own, MmPallocAllocator(), err);
	if (st != MM_OK)
		return st;
	/* the parameters and the scaling; the parts answer with their subsamples */
	v[0] = K;
	v[1] = p;
	v[2] = lp->penalty;
	v[3] = lp->fit_intercept;
	v[4] = lp->max_iter;
	v[5] = stride;
	c[0] = lp->C;
	c[1] = lp->tol;
	initStringInfo(&b);
	appendBinaryStringInfo(&b, (char *) v, sizeof(v));
	appendBinaryStringInfo(&b, (char *) c, sizeof(c));
	appendBinaryStringInfo(&b, (char *) &m->scale, sizeof(int32));
	if (m->scale != MM_SCALE_NONE)
	{
		appendBinaryStringInfo(&b, (char *) m->center, sizeof(double) * p);
		appendBinaryStringInfo(&b, (char *) m->scalev, sizeof(double) * p);
	}
	MmDpRequest(dp, MMDP_LOGIT_PREP, 0, b.data, b.len);
	MmDpTrainMatrix(ds, m, &mx);
	dp->scaled = mx.in_place && m->scale != MM_SCALE_NONE;
	lg.dp = dp;
	st = mm_logit_part_new(mx.n, p, K, mx.X, mx.y, lp, &mm_dp_interrupts, &lg.own,
						   MmPallocAllocator(), err);
	if (st != MM_OK)
		return st;
	lg.m = mm_logit_part_nparams(lg.own);
	lg.out = palloc(sizeof(char *) * dp->workers);
	lg.lens = palloc(sizeof(Size) * dp->workers);
	lg.ns = palloc(sizeof(int64) * dp->workers);

	/* the subsample: this backend's every 16th row, then each worker's */
	Xs = MmDpSubsample(&mx, p, stride, &ns, &ys);
	MmDpAnswers(dp, MMDP_LOGIT_PREP, lg.out, lg.lens, lg.ns);
	for (int w = 0; w < dp->workers; w++)
	{
		int64		wn = lg.ns[w];

		if (wn < 0 || lg.lens[w] != (sizeof(double) * p + sizeof(int32)) * (Size) wn)
			elog(ERROR, "unexpected message from parallel worker %d", w);
		Xs = repalloc_huge(Xs, sizeof(double) * Max(ns + wn, 1) * p);
		ys = repalloc_huge(ys, sizeof(int32) * Max(ns + wn, 1));
		memcpy(Xs + ns * p, lg.out[w], sizeof(double) * p * wn);
		memcpy(ys + ns, lg.out[w] + sizeof(double) * p * wn, sizeof(int32) * wn);
		ns += wn;
		pfree(lg.out[w]);
	}
	if (stride > 0)
	{
		double	   *c0 = palloc0(sizeof(double) * nsets * (p + 1));

		if (mm_logistic_subsample_start(dp->n_train, ns, p, K, Xs, ys, lp, c0, c0 + nsets * p,
										MmPallocAllocator()))
		{
			start.init_coef = c0;
			start.init_intercept = c0 + nsets * p;
		}
	}
	pfree(Xs);
	pfree(ys);
	return mm_logistic_fit_sum(dp->n_train, p, K, &start, MmDpLogitSum, &lg, m->coefs,
							   m->intercepts, info, progress, MmPallocAllocator(), err);
}

/*
 * Score the held-out rows (heldout) or the training rows of every process
 * with m into met (its K classes): the backend's rows, then each worker's.
 * A stream's processes read their pages again to score them, and profile
 * them as they do: *profile is then the training profile (else it is left
 * alone: MmDataParProfile made it).  The last request: the workers are
 * then let go, and end while the backend goes on (MmDataParEnd waits for
 * them).
 */
void
MmDataParScore(MmDataPar *dp, MmDataset *ds, const MmModel *m, const char *model,
			   bool heldout, MmClsMetrics *met, Jsonb **profile)
{
	bytea	   *blob = MmModelBlob(m, model);
	char	  **out = palloc(sizeof(char *) * Max(dp->workers, 1));
	Size	   *lens = palloc(sizeof(Size) * Max(dp->workers, 1));
	int64	   *ns = palloc(sizeof(int64) * Max(dp->workers, 1));
	int			K = met->K;
	double	  **parts = palloc0(sizeof(double *) * (dp->workers + 1));
	Size		plen0 = 0;
	int		   *pos = palloc(sizeof(int) * Max(m->ncols, 1));
	int			npos = 0;
	int64		step = 0;
	MmDpLabelClass *lc = NULL;
	int64		scored = 0;		/* a stream's rows, read again by all processes */
	StringInfoData b;

	initStringInfo(&b);
	if (ds->stream)
	{
		int32		nlabels = ds->labels.n;

		/*
		 * The profile's sampling step and offsets (no target in front), the
		 * rows of all processes and every label's class for the shared
		 * second read of the pages, then the model.
		 */
		npos = MmProfilePositions(m, pos);
		for (int j = 0; j < npos; j++)
			pos[j] -= 1;
		step = MmProfileStep(dp->n_train);
		lc = MmDpStreamLabels(ds);
		appendBinaryStringInfo(&b, (char *) &step, sizeof(int64));
		appendBinaryStringInfo(&b, (char *) &npos, sizeof(int32));
		appendBinaryStringInfo(&b, (char *) pos, sizeof(int32) * npos);
		appendBinaryStringInfo(&b, (char *) &dp->n_train, sizeof(int64));
		appendBinaryStringInfo(&b, (char *) &nlabels, sizeof(int32));
		appendBinaryStringInfo(&b, (char *) lc, sizeof(MmDpLabelClass) * nlabels);
	}
	appendBinaryStringInfo(&b, VARDATA(blob), VARSIZE(blob) - VARHDRSZ);
	MmDpRequest(dp, MMDP_SCORE, heldout, b.data, b.len);
	if (ds->stream)
	{
		/* without a worker this backend read every page: its own again */
		parts[0] = MmDpStreamScore(ds, m, met, pos, npos, step, lc, ds->labels.n,
								   dp->workers > 0 ? dp->n_train : -1, &plen0);
		scored = (int64) parts[0][0];
	}
	else
		MmDpScore(ds, m, heldout, dp->scaled, met);
	/* sorted parts merge linearly: each process sorts its own */
	mm_clsmetrics_sort(met);
	MmDpAnswers(dp, MMDP_SCORE, out, lens, ns);
	for (int w = 0; w < dp->workers; w++)
	{
		MmClsMetrics part;
		MmDpReader	r;
		double		head[2];
		int64		nkeys[2];
		int64		nan;

		/* the rows, the log loss, the keys' counts, NaN, the confusion, the keys (aligned) */
		r.p = out[w];
		r.left = lens[w];
		memset(&part, 0, sizeof(part));
		part.K = K;
		MmDpTake(&r, head, sizeof(head));
		MmDpTake(&r, nkeys, sizeof(nkeys));
		MmDpTake(&r, &nan, sizeof(nan));
		part.n = head[0];
		part.log_loss_sum = head[1];
		if (ns[w] < 0 || part.n != (double) ns[w] || nkeys[0] < 0 || nkeys[1] < 0 ||
			nkeys[0] + nkeys[1] != (K == 2 ? ns[w] : 0) ||
			r.left < sizeof(double) * (Size) K * K + sizeof(uint64) * (nkeys[0] + nkeys[1]))
			elog(ERROR, "unexpected message from parallel worker %d", w);
		/* a stream's profile part follows the keys */
		{
			Size		mlen = sizeof(double) * (Size) K * K + sizeof(uint64) * (nkeys[0] + nkeys[1]);
			Size		plen = r.left - mlen;

			if (ds->stream ? !MmProfilePartValid((const double *) (r.p + mlen), plen, npos, ns[w]) :
				plen != 0)
				elog(ERROR, "unexpected message from parallel worker %d", w);
			if (ds->stream)
			{
				parts[w + 1] = palloc_extended(Max(plen, 1), MCXT_ALLOC_HUGE);
				memcpy(parts[w + 1], r.p + mlen, plen);
				scored += ns[w];
			}
		}
		part.confusion = (double *) r.p;
		part.sorted = K == 2;
		part.nan_score = nan != 0;
		for (int c = 0; c < 2; c++)
		{
			part.nkeys[c] = nkeys[c];
			part.keys[c] = (uint64 *) (r.p + sizeof(double) * K * K +
									   (c == 1 ? sizeof(uint64) * nkeys[0] : 0));
		}
		{
			uint64	   *old[2] = {met->keys[0], met->keys[1]};

			mm_clsmetrics_merge(met, &part);
			/* the merged keys are new arrays: the old ones are done with */
			for (int c = 0; c < 2; c++)
				if (old[c] != NULL && old[c] != met->keys[c])
					pfree(old[c]);
		}
		pfree(out[w]);
	}
	MmDpRequest(dp, MMDP_DONE, 0, NULL, 0);
	dp->released = true;
	/* the same rows under the same snapshot, however the processes shared them */
	if (ds->stream && scored != dp->n_train)
		elog(ERROR, "the second read of the training rows found " INT64_FORMAT " rows, not " INT64_FORMAT,
			 scored, dp->n_train);
	if (ds->stream)
		*profile = MmProfileFromParts(m, parts, dp->workers + 1, NULL);
}

/* Let the workers go (unless MmDataParScore has), wait for them to end, and end parallel mode. */
void
MmDataParEnd(MmDataPar *dp)
{
	if (!dp->released)
		MmDpRequest(dp, MMDP_DONE, 0, NULL, 0);
	if (dp->par != NULL)
		MmScanParallelEnd(dp->par, NULL);
	pfree(dp->w);
	pfree(dp);
}

/* ---------------------------------------------------------------------
 * A worker
 * --------------------------------------------------------------------- */

/* Send the backend this worker's labels, their counts and its split numbers by label. */
static void
MmDpSendState(const MmDataset *ds, shm_mq_handle *mq)
{
	StringInfoData b;
	MmDpMsg		h = MmDpHeader(MMDP_STATE, ds->n);
	int32		nl = ds->labels.n;
	int32		has_u = ds->split;
	int64	   *count = palloc0(sizeof(int64) * (nl + 1));
	double	   *u = NULL;
	Size		ulen = 0;

	MmDpLabelCounts(ds, count);
	initStringInfo(&b);
	appendBinaryStringInfo(&b, (char *) &h, sizeof(h));
	appendBinaryStringInfo(&b, (char *) &nl, sizeof(nl));
	appendBinaryStringInfo(&b, (char *) &has_u, sizeof(has_u));
	/* interned by value: the key is the int64 */
	for (int32 l = 0; l < nl; l++)
		appendBinaryStringInfo(&b, ds->labels.strs[l], sizeof(int64));
	appendBinaryStringInfo(&b, (char *) count, sizeof(int64) * nl);
	if (has_u)
	{
		int64	   *fill = palloc0(sizeof(int64) * (nl + 1));

		for (int32 l = 1; l < nl; l++)
			fill[l] = fill[l - 1] + count[l - 1];
		ulen = sizeof(double) * ds->n;
		u = palloc_extended(Max(ulen, 1), MCXT_ALLOC_HUGE);
		for (int64 i = 0; i < ds->n; i++)
			u[fill[(int32) ds->y[i]]++] = ds->u[i];
	}
	MmDpCheckSize(b.len + ulen, ds->n);
	MmScanParallelSend(mq, b.data, b.len, u, ulen);
}

/* A SPLIT: the classes of this worker's labels, its held-out rows. */
static void
MmDpWorkerSplit(MmDataset *ds, MmDpReader *r, bool cuts)
{
	int32		K;
	int32		nl;
	int32	   *rank;
	double	   *cut;
	int64	   *atcut;

	MmDpTake(r, &K, sizeof(K));
	MmDpTake(r, &nl, sizeof(nl));
	if (K < 1 || K > MM_MAX_CLASSES || nl != ds->labels.n)
		elog(ERROR, "malformed message in the parallel read of the training rows");
	rank = palloc(sizeof(int32) * Max(nl, 1));
	cut = palloc(sizeof(double) * K);
	atcut = palloc(sizeof(int64) * K);
	MmDpTake(r, rank, sizeof(int32) * nl);
	MmDpTake(r, cut, sizeof(double) * K);
	MmDpTake(r, atcut, sizeof(int64) * K);
	MmDpEnd(r);
	for (int32 l = 0; l < nl; l++)
		if (rank[l] < 0 || rank[l] >= K)
			elog(ERROR, "malformed message in the parallel read of the training rows");
	if (ds->stream)
	{
		if (cuts)
			elog(ERROR, "malformed message in the parallel read of the training rows");
		ds->class_of = rank;
	}
	else
		for (int64 i = 0; i < ds->n; i++)
			ds->y[i] = rank[(int32) ds->y[i]];
	ds->heldout = palloc0(sizeof(bool) * Max(ds->n, 1));
	if (cuts)
		MmDatasetHoldOut(ds, K, cut, atcut);
	ds->n_train = 0;
	for (int64 i = 0; i < ds->n; i++)
		ds->n_train += !ds->heldout[i];
}

/*
 * A SCORE: the metrics of this worker's rows with the model of the blob;
 * a stream's also the profile part of its rows, read again.
 */
static void
MmDpWorkerScore(MmDataset *ds, MmDpReader *r, bool heldout, bool scaled, shm_mq_handle *mq)
{
	int64		step = 0;
	int32		npos = 0;
	int		   *pos = NULL;
	int64		total = 0;
	int32		nlabels = 0;
	MmDpLabelClass *lc = NULL;
	double	   *part = NULL;
	Size		plen = 0;
	MmModel    *m;
	MmErr		err;
	MmAlloc		alloc = MmContextAllocator(CurrentMemoryContext);
	MmClsMetrics met;
	StringInfoData b;
	MmDpMsg		h;
	double		head[2];
	int64		nkeys[2];
	int64		nan;
	char	   *keys;
	Size		klen;

	if (ds->stream)
	{
		MmDpTake(r, &step, sizeof(step));
		MmDpTake(r, &npos, sizeof(npos));
		if (step < 1 || npos < 0 || npos > ds->rawd || heldout)
			elog(ERROR, "malformed message in the parallel read of the training rows");
		pos = palloc(sizeof(int) * Max(npos, 1));
		MmDpTake(r, pos, sizeof(int32) * npos);
		for (int j = 0; j < npos; j++)
			if (pos[j] < 0 || pos[j] >= ds->rawd)
				elog(ERROR, "malformed message in the parallel read of the training rows");
		MmDpTake(r, &total, sizeof(total));
		MmDpTake(r, &nlabels, sizeof(nlabels));
		if (total < ds->n || nlabels < ds->labels.n ||
			(Size) nlabels > r->left / sizeof(MmDpLabelClass))
			elog(ERROR, "malformed message in the parallel read of the training rows");
		lc = palloc(sizeof(MmDpLabelClass) * Max(nlabels, 1));
		MmDpTake(r, lc, sizeof(MmDpLabelClass) * nlabels);
	}
	if (mm_blob_read((const uint8 *) r->p, r->left, MmPallocAllocator(), &m, &err) != MM_OK)
		elog(ERROR, "the model sent to a parallel worker is not valid: %s", err.msg);
	if (m->task != MM_TASK_CLASSIFICATION || m->ncols != (uint32) ds->rawd)
		elog(ERROR, "the model sent to a parallel worker does not fit its rows");
	mm_clsmetrics_init(&met, (int) m->nclasses, &alloc);
	if (ds->stream)
	{
		for (int32 l = 0; l < nlabels; l++)
			if (lc[l].klass < 0 || lc[l].klass >= (int32) m->nclasses ||
				(l > 0 && lc[l].value <= lc[l - 1].value))
				elog(ERROR, "malformed message in the parallel read of the training rows");
		/* a part of the shared second read of every process's pages */
		part = MmDpStreamScore(ds, m, &met, pos, npos, step, lc, nlabels, total, &plen);
	}
	else
		MmDpScore(ds, m, heldout, scaled, &met);
	/* the AUC's scores sorted here, merged by the backend */
	mm_clsmetrics_sort(&met);

	h = MmDpHeader(MMDP_SCORE, (int64) met.n);
	head[0] = met.n;
	head[1] = met.log_loss_sum;
	nkeys[0] = met.nkeys[0];
	nkeys[1] = met.nkeys[1];
	nan = met.nan_score;
	initStringInfo(&b);
	appendBinaryStringInfo(&b, (char *) &h, sizeof(h));
	appendBinaryStringInfo(&b, (char *) head, sizeof(head));
	appendBinaryStringInfo(&b, (char *) nkeys, sizeof(nkeys));
	appendBinaryStringInfo(&b, (char *) &nan, sizeof(nan));
	appendBinaryStringInfo(&b, (char *) met.confusion, sizeof(double) * met.K * met.K);
	klen = sizeof(uint64) * (Size) (nkeys[0] + nkeys[1]);
	MmDpCheckSize(b.len + klen + plen, nkeys[0] + nkeys[1]);
	keys = palloc_extended(Max(klen + plen, 1), MCXT_ALLOC_HUGE);
	if (nkeys[0] > 0)
		memcpy(keys, met.keys[0], sizeof(uint64) * nkeys[0]);
	if (nkeys[1] > 0)
		memcpy(keys + sizeof(uint64) * nkeys[0], met.keys[1], sizeof(uint64) * nkeys[1]);
	if (plen > 0)
		memcpy(keys + klen, part, plen);
	MmScanParallelSend(mq, b.data, b.len, keys, klen + plen);
}

/* a worker's part of a logistic fit */
typedef struct MmDpWorkerLogit
{
	MmLogitPart *part;
	double	   *theta;
	bool		scaled;			/* its rows are scaled in place */
} MmDpWorkerLogit;

/* A LOGIT_PREP: this worker's training rows scaled into a part; its subsample to the backend. */
static void
MmDpWorkerLogitPrep(const MmDataset *ds, MmDpReader *r, MmDpWorkerLogit *logit,
					shm_mq_handle *mq)
{
	int32		v[6];
	double		c[2];
	int32		scale;
	MmModel		sm;
	MmLogisticParams lp;
	MmDpMatrix	mx;
	MmErr		err;
	double	   *Xs;
	int32	   *ys;
	int64		ns;
	MmDpMsg		ans;
	char	   *buf;
	Size		len;

	MmDpTake(r, v, sizeof(v));
	MmDpTake(r, c, sizeof(c));
	MmDpTake(r, &scale, sizeof(scale));
	if (v[0] < 2 || v[0] > MM_MAX_CLASSES || v[1] != ds->rawd || v[5] < 0)
		elog(ERROR, "malformed message in the parallel read of the training rows");
	for (int64 i = 0; i < ds->n; i++)
		if (ds->y[i] >= v[0])
			elog(ERROR, "malformed message in the parallel read of the training rows");
	memset(&sm, 0, sizeof(sm));
	sm.ncols = (uint32) v[1];
	sm.scale = scale;
	if (scale != MM_SCALE_NONE)
	{
		sm.center = palloc(sizeof(double) * v[1]);
		sm.scalev = palloc(sizeof(double) * v[1]);
		MmDpTake(r, sm.center, sizeof(double) * v[1]);
		MmDpTake(r, sm.scalev, sizeof(double) * v[1]);
	}
	MmDpEnd(r);
	memset(&lp, 0, sizeof(lp));
	lp.penalty = v[2];
	lp.fit_intercept = v[3] != 0;
	lp.max_iter = v[4];
	lp.C = c[0];
	lp.tol = c[1];

	MmDpTrainMatrix(ds, &sm, &mx);
	logit->scaled = mx.in_place && sm.scale != MM_SCALE_NONE;
	if (mm_logit_part_new(mx.n, v[1], v[0], mx.X, mx.y, &lp, &mm_dp_interrupts, &logit->part,
						  MmPallocAllocator(), &err) != MM_OK)
		elog(ERROR, "the logistic fit of a parallel worker: %s", err.msg);
	Xs = MmDpSubsample(&mx, v[1], v[5], &ns, &ys);
	len = (sizeof(double) * v[1] + sizeof(int32)) * (Size) ns;
	buf = palloc_extended(Max(len, 1), MCXT_ALLOC_HUGE);
	memcpy(buf, Xs, sizeof(double) * v[1] * ns);
	memcpy(buf + sizeof(double) * v[1] * ns, ys, sizeof(int32) * ns);
	ans = MmDpHeader(MMDP_LOGIT_PREP, ns);
	MmScanParallelSend(mq, &ans, sizeof(ans), buf, len);
}

/*
 * A worker of the parallel read (mm_scan.c): its pages' rows into a
 * dataset of its own, its STATE to the backend, then the backend's
 * requests until DONE.
 */
void
MmDataParWorker(MmScan *scan, char **names, const void *args, shm_mq_handle *mq,
				shm_mq_handle *in)
{
	MmDpArgs	a;
	int			ncols = scan->n - 1;
	MmSourceCol *cols = palloc0(sizeof(MmSourceCol) * Max(ncols, 1));
	MmSourceCol target;
	MmDataset	ds;
	MmDpWorkerLogit logit;

	memset(&logit, 0, sizeof(logit));
	memcpy(&a, args, sizeof(a));
	/* the backend's mm.blas_threads: no thread pool of its own */
	MmSetBlasThreads();
	/* the columns as the backend's dataset has them: scalar numbers */
	memset(&target, 0, sizeof(target));
	target.name = names[0];
	target.width = 1;
	for (int i = 0; i < ncols; i++)
	{
		cols[i].name = names[i + 1];
		cols[i].kind = MM_COL_FLOAT8;
		cols[i].width = 1;
	}
	MmDatasetInit(&ds, &target, cols, ncols, a.label_type, false, a.seed, a.split, a.max_bytes);
	ds.direct = true;
	ds.expect = a.expect;
	if (a.stream)
		MmDatasetStream(&ds, scan);
	while (MmDatasetReadRows(&ds, scan, PG_INT64_MAX))
		;
	/* no row (the others read every page): the layout of scalar columns */
	MmDatasetScalarLayout(&ds);
	if (ds.stream)
		mm_nb_acc_flush(ds.nbacc);
	MmDpSendState(&ds, mq);

	for (;;)
	{
		void	   *data;
		Size		len;
		MmDpReader	r;
		MmDpMsg		h;

		MmScanParallelAwait(in, &data, &len);
		r.p = data;
		r.left = len;
		MmDpTake(&r, &h, sizeof(h));
		switch (h.kind)
		{
			case MMDP_SPLIT:
				{
					MmDpMsg		ans;

					MmDpWorkerSplit(&ds, &r, h.n != 0);
					ans = MmDpHeader(MMDP_SPLIT, ds.n_train);
					MmScanParallelSend(mq, &ans, sizeof(ans), NULL, 0);
					break;
				}
			case MMDP_PROFILE:
				{
					int32		npos;
					int		   *pos;
					double	   *part;
					Size		plen;
					MmDpMsg		ans = MmDpHeader(MMDP_PROFILE, 0);

					MmDpTake(&r, &npos, sizeof(npos));
					if (npos < 0 || npos > ds.rawd || h.n < 1)
						elog(ERROR, "malformed message in the parallel read of the training rows");
					pos = palloc(sizeof(int) * Max(npos, 1));
					MmDpTake(&r, pos, sizeof(int32) * npos);
					MmDpEnd(&r);
					for (int j = 0; j < npos; j++)
						if (pos[j] < 0 || pos[j] >= ds.rawd)
							elog(ERROR, "malformed message in the parallel read of the training rows");
					part = MmDpProfilePart(&ds, pos, npos, h.n, &plen);
					MmScanParallelSend(mq, &ans, sizeof(ans), part, plen);
					break;
				}
			case MMDP_NB:
				{
					MmDpMsg		ans = MmDpHeader(MMDP_NB, 0);
					int32		K;
					int32		p;
					MmNbAcc		acc;

					MmDpTake(&r, &K, sizeof(int32));
					MmDpTake(&r, &p, sizeof(int32));
					MmDpEnd(&r);
					if (K < 2 || K > MM_MAX_CLASSES || p != ds.rawd)
						elog(ERROR, "malformed message in the parallel read of the training rows");
					for (int64 i = 0; i < ds.n && !ds.stream; i++)
						if (ds.y[i] >= K)
							elog(ERROR, "malformed message in the parallel read of the training rows");
					mm_nb_acc_init(&acc, p, K, NULL, MmPallocAllocator());
					MmDpNbAcc(&ds, &acc);
					MmScanParallelSend(mq, &ans, sizeof(ans), acc.s,
									   sizeof(double) * mm_nb_acc_len(p, K));
					break;
				}
			case MMDP_SCALE:
				{
					MmDpMsg		ans = MmDpHeader(MMDP_SCALE, 0);
					double	   *center = NULL;
					double	   *cols;
					Size		clen;

					if (h.n < 1 || h.n > 3)
						elog(ERROR, "malformed message in the parallel read of the training rows");
					if (h.n == 2)
					{
						center = palloc(sizeof(double) * Max(ds.rawd, 1));
						MmDpTake(&r, center, sizeof(double) * ds.rawd);
					}
					MmDpEnd(&r);
					cols = MmDpColumns(&ds, (int) h.n, center, &clen);
					MmScanParallelSend(mq, &ans, sizeof(ans), cols, clen);
					break;
				}
			case MMDP_LOGIT_PREP:
				MmDpWorkerLogitPrep(&ds, &r, &logit, mq);
				break;
			case MMDP_LOGIT:
				{
					double	   *ans;
					int			m = logit.part ? mm_logit_part_nparams(logit.part) : 0;
					Size		alen = sizeof(double) * (1 + (h.n ? (Size) m + (Size) m * m : 0));
					MmDpMsg		ah = MmDpHeader(MMDP_LOGIT, 0);

					if (logit.part == NULL || r.left != sizeof(double) * m)
						elog(ERROR, "malformed message in the parallel read of the training rows");
					if (logit.theta == NULL)
						logit.theta = palloc(sizeof(double) * m);
					memcpy(logit.theta, r.p, sizeof(double) * m);
					ans = palloc(alen);
					ans[0] = mm_logit_part_eval(logit.part, logit.theta,
												h.n ? ans + 1 : NULL, h.n ? ans + 1 + m : NULL);
					MmScanParallelSend(mq, &ah, sizeof(ah), ans, alen);
					pfree(ans);
					break;
				}
			case MMDP_SCORE:
				MmDpWorkerScore(&ds, &r, h.n != 0, logit.scaled, mq);
				break;
			case MMDP_DONE:
				return;
			default:
				elog(ERROR, "malformed message in the parallel read of the training rows");
		}
	}
}
