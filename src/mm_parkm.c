/*
 * mm_parkm.c
 *	  A k-means fit whose passes over the rows parallel workers share.
 *
 * The k-means fit (mm_kmeans.c) is a few hundred passes over the same
 * rows: k-means++'s per centre, Lloyd's per iteration, for each restart.
 * For enough rows, the backend puts the rows and the fit's shared arrays
 * in one dynamic shared memory segment (mm_kmeans_shared_size bytes, the
 * rows copied in, 8 bytes a value) and starts parallel workers, each
 * attached to it with scratch of its own.  For each pass the backend
 * writes the pass's work in the segment, then announces a new generation;
 * the backend and every worker take parts of the rows, one at a time,
 * from a shared counter that carries the generation (so a late worker
 * cannot take a part of the next pass), until none is left; the backend
 * waits until all are done, then adds up the parts' results in part
 * order.  Whoever did a part, the model is the same to the bit, and the
 * same as a fit without workers; a worker that never starts only leaves
 * more parts to the others (and if none starts, the fit runs as without
 * workers, on the rows where they are).
 *
 * Workers: max_parallel_workers_per_gather of them (at most one fewer
 * than the parts), none when the rows take less than
 * min_parallel_table_scan_size (as for a parallel scan of as many bytes)
 * and none in parallel mode already.  Parallel mode lasts for the fit
 * only.
 */
#include "massmodel.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/paths.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/shm_toc.h"

#define MM_KM_KEY_CTL	UINT64CONST(0x4D4D4B0000000001)
#define MM_KM_KEY_FIT	UINT64CONST(0x4D4D4B0000000002)

/* How the processes of a parallel fit meet. */
typedef struct MmKmCtl
{
	ConditionVariable cv;		/* a new generation; a pass done */
	pg_atomic_uint32 gen;		/* the current pass's generation */
	pg_atomic_uint32 stop;		/* the fit is over: workers end */
	pg_atomic_uint64 claim;		/* generation << 32 | next part to take */
	pg_atomic_uint32 done;		/* parts of this generation done */
	int			nparts;
} MmKmCtl;

/* The backend's side of a parallel fit. */
typedef struct MmKmLeader
{
	MmKmCtl    *ctl;
	uint32		gen;
} MmKmLeader;

/*
 * Do parts of generation gen on km until none is left; the process that
 * finishes the last wakes the others.
 */
static void
MmKmDoParts(MmKmCtl *ctl, MmKm *km, uint32 gen)
{
	for (;;)
	{
		uint64		v = pg_atomic_read_u64(&ctl->claim);
		int			part;

		for (;;)
		{
			if ((uint32) (v >> 32) != gen || (uint32) v >= (uint32) ctl->nparts)
				return;
			if (pg_atomic_compare_exchange_u64(&ctl->claim, &v, v + 1))
				break;
		}
		part = (int) (uint32) v;
		mm_kmeans_part(km, part);
		if (pg_atomic_add_fetch_u32(&ctl->done, 1) == (uint32) ctl->nparts)
			ConditionVariableBroadcast(&ctl->cv);
	}
}

/* MmKMeansPar.run: one pass, every part done once, by whoever takes it. */
static void
MmKmRun(void *arg, MmKm *self)
{
	MmKmLeader *l = arg;
	MmKmCtl    *ctl = l->ctl;
	uint32		gen = ++l->gen;

	pg_atomic_write_u32(&ctl->done, 0);
	pg_atomic_write_u64(&ctl->claim, (uint64) gen << 32);
	/* the pass's work and the counters before the generation */
	pg_memory_barrier();
	pg_atomic_write_u32(&ctl->gen, gen);
	ConditionVariableBroadcast(&ctl->cv);
	MmKmDoParts(ctl, self, gen);
	ConditionVariablePrepareToSleep(&ctl->cv);
	while (pg_atomic_read_u32(&ctl->done) < (uint32) ctl->nparts)
		ConditionVariableSleep(&ctl->cv, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
	/* the parts' results after their count */
	pg_memory_barrier();
}

/* A worker's progress: only the interrupts. */
static void
MmKmWorkerTick(void *arg, int iteration, double loss)
{
	CHECK_FOR_INTERRUPTS();
}

/* A worker's entry point (CreateParallelContext names it). */
PGDLLEXPORT void mm_kmeans_worker_main(dsm_segment *seg, shm_toc *toc);

void
mm_kmeans_worker_main(dsm_segment *seg, shm_toc *toc)
{
	MmKmCtl    *ctl = shm_toc_lookup(toc, MM_KM_KEY_CTL, false);
	void	   *shm = shm_toc_lookup(toc, MM_KM_KEY_FIT, false);
	MmProgress	progress = {MmKmWorkerTick, NULL};
	MmKm	   *km;
	uint32		seen = 0;

	/* the backend's mm.blas_threads: no thread pool of its own */
	MmSetBlasThreads();
	km = mm_kmeans_attach(shm, &progress, MmPallocAllocator());
	if (km == NULL || mm_kmeans_nparts(km) != ctl->nparts)
		elog(ERROR, "malformed shared k-means fit");
	for (;;)
	{
		uint32		gen;

		ConditionVariablePrepareToSleep(&ctl->cv);
		while ((gen = pg_atomic_read_u32(&ctl->gen)) == seen &&
			   pg_atomic_read_u32(&ctl->stop) == 0)
			ConditionVariableSleep(&ctl->cv, PG_WAIT_EXTENSION);
		ConditionVariableCancelSleep();
		if (pg_atomic_read_u32(&ctl->stop) != 0)
			break;
		/* the pass's work after its generation */
		pg_memory_barrier();
		seen = gen;
		MmKmDoParts(ctl, km, gen);
	}
}

/* Workers to ask for a fit of n rows of p values with params (0: none). */
int
MmKMeansWorkers(int64 n, int p, const MmKMeansParams *params)
{
	double		bytes = (double) n * p * sizeof(double);
	int			nparts;

	if (max_parallel_workers_per_gather <= 0 || !IsUnderPostmaster ||
		IsInParallelMode() ||
		bytes < (double) min_parallel_table_scan_size * BLCKSZ ||
		mm_kmeans_shared_size(n, p, params) == 0 ||
		(nparts = mm_kmeans_parts_of(n, p, params)) < 2)
		return 0;
	return Min(max_parallel_workers_per_gather, nparts - 1);
}

/*
 * Fit k-means (mm_kmeans_fit's arguments) with parallel workers where the
 * rows are enough (see the file comment), else in this backend alone.
 * *workers: the workers that started (0 for none).
 */
MmStatus
MmKMeansFit(int64 n, int p, const double *X, const MmKMeansParams *params,
			double *centers, MmKMeansInfo *info, const MmProgress *progress,
			MmErr *err, int *workers)
{
	ParallelContext *pcxt;
	Size		size = mm_kmeans_shared_size(n, p, params);
	MmKmCtl    *ctl = NULL;
	void	   *shm = NULL;
	MmKmLeader	leader;
	MmKMeansPar par;
	MmStatus	st;
	int			nworkers = MmKMeansWorkers(n, p, params);

	*workers = 0;
	if (nworkers == 0)
		return mm_kmeans_fit(n, p, X, params, centers, info, progress,
							 MmPallocAllocator(), err);

	EnterParallelMode();
	pcxt = CreateParallelContext("massmodel", "mm_kmeans_worker_main", nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(MmKmCtl));
	shm_toc_estimate_chunk(&pcxt->estimator, size);
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg != NULL)
	{
		shm = shm_toc_allocate(pcxt->toc, size);
		if (!mm_kmeans_shared_init(shm, n, p, params))
			elog(ERROR, "could not lay out the shared k-means fit");
		shm_toc_insert(pcxt->toc, MM_KM_KEY_FIT, shm);
		ctl = shm_toc_allocate(pcxt->toc, sizeof(MmKmCtl));
		memset(ctl, 0, sizeof(*ctl));
		ConditionVariableInit(&ctl->cv);
		pg_atomic_init_u32(&ctl->gen, 0);
		pg_atomic_init_u32(&ctl->stop, 0);
		pg_atomic_init_u64(&ctl->claim, 0);
		pg_atomic_init_u32(&ctl->done, 0);
		ctl->nparts = mm_kmeans_parts_of(n, p, params);
		shm_toc_insert(pcxt->toc, MM_KM_KEY_CTL, ctl);
		LaunchParallelWorkers(pcxt);
	}
	if (pcxt->nworkers_launched == 0)
	{
		/*
		 * no dynamic shared memory, or no worker slot free: the fit runs
		 * here, on the rows where they are
		 */
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return mm_kmeans_fit(n, p, X, params, centers, info, progress,
							 MmPallocAllocator(), err);
	}
	*workers = pcxt->nworkers_launched;

	leader.ctl = ctl;
	leader.gen = 0;
	par.shm = shm;
	par.run = MmKmRun;
	par.arg = &leader;
	st = mm_kmeans_fit_par(n, p, X, params, centers, info, progress,
						   MmPallocAllocator(), &par, err);

	pg_atomic_write_u32(&ctl->stop, 1);
	ConditionVariableBroadcast(&ctl->cv);
	WaitForParallelWorkersToFinish(pcxt);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return st;
}
