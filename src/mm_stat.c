/*
 * mm_stat.c
 *	  Prediction statistics in shared memory: per database, model and
 *	  version, the statements that predicted, the rows predicted, the
 *	  errors, their time and the last call (mm_stat_models, mm_stat_reset).
 *
 * The per-row path only counts in backend memory: a call site holds a
 * pointer to its version's pending counters, and each prediction sets a
 * flag before and bumps a counter after its work (MmStatBegin/MmStatEnd in
 * massmodel.h).  The clock is read once per statement and version, at its
 * first prediction, and once when the statement ends: the top-level
 * ExecutorEnd (nested queries, such as the catalog lookups of a
 * resolution, do not end a statement), or the end of the transaction for
 * predictions evaluated outside the executor (PL/pgSQL's simple
 * expressions).  Only then is the shared table touched, under one
 * LWLock.  A statement that fails while a prediction is in flight counts
 * an error for that version, at transaction abort.
 *
 * The shared table needs the library in shared_preload_libraries; without
 * it predictions work and count nothing, and the view raises an error
 * that says so.  Shared memory is not WAL-logged, so a hot standby keeps
 * its own statistics.  The table holds mm.track_max entries; versions
 * beyond are not tracked until mm_stat_reset().
 */
#include "massmodel.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "port/atomics.h"
#include "catalog/pg_authid.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include <math.h>

PG_FUNCTION_INFO_V1(mm_stat_models_internal);
PG_FUNCTION_INFO_V1(mm_stat_reset);

bool		mm_track = true;
static int	mm_track_max = 1000;

typedef struct MmStatKey
{
	Oid			dbid;
	int64		model_id;
	int32		version;
} MmStatKey;

typedef struct MmStatEntry
{
	MmStatKey	key;			/* hash key: first */
	int64		calls;
	int64		rows;
	int64		errors;
	double		total_ms;
	TimestampTz last_call;
} MmStatEntry;

typedef struct MmStatShared
{
	LWLock	   *lock;
	TimestampTz reset_at;
} MmStatShared;

static MmStatShared *mm_stat = NULL;
static struct MmProgressSlot *mm_progress_slots;
static struct MmProgressSlot *mm_my_slot = NULL;	/* set while this backend trains */
static int	mm_my_slot_level = 0;	/* the transaction nest level it began at */
static HTAB *mm_stat_hash = NULL;
static MmStatPending *mm_pending = NULL;	/* this backend's, in TopMemoryContext */
static int	mm_exec_nesting = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

static Size MmProgressShmemSize(void);

static Size
MmStatShmemSize(void)
{
	return add_size(add_size(MAXALIGN(sizeof(MmStatShared)),
							 hash_estimate_size(mm_track_max, sizeof(MmStatEntry))),
					MmProgressShmemSize());
}

static void
MmStatShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MmStatShmemSize());
	RequestNamedLWLockTranche("massmodel", 1);
}

static void
MmStatShmemStartup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	mm_stat = ShmemInitStruct("massmodel statistics", sizeof(MmStatShared), &found);
	if (!found)
	{
		mm_stat->lock = &(GetNamedLWLockTranche("massmodel"))->lock;
		mm_stat->reset_at = GetCurrentTimestamp();
	}
	info.keysize = sizeof(MmStatKey);
	info.entrysize = sizeof(MmStatEntry);
	mm_stat_hash = ShmemInitHash("massmodel statistics hash", mm_track_max, mm_track_max,
								 &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	mm_progress_slots = ShmemInitStruct("massmodel training progress", MmProgressShmemSize(), &found);
	if (!found)
		memset(mm_progress_slots, 0, MmProgressShmemSize());
	LWLockRelease(AddinShmemInitLock);
}

/* Move this backend's pending counts into the shared table. */
static void
MmStatFlush(bool aborting)
{
	TimestampTz now = 0;
	instr_time	end;

	for (MmStatPending *p = mm_pending; p; p = p->next)
	{
		MmStatKey	key;
		MmStatEntry *e;
		bool		found;

		if (!p->active)
			continue;
		if (now == 0)
		{
			now = GetCurrentTimestamp();
			INSTR_TIME_SET_CURRENT(end);
		}
		memset(&key, 0, sizeof(key));
		key.dbid = MyDatabaseId;
		key.model_id = p->model_id;
		key.version = p->version;
		if (mm_stat_hash != NULL)
		{
			instr_time	elapsed = end;

			INSTR_TIME_SUBTRACT(elapsed, p->start);
			LWLockAcquire(mm_stat->lock, LW_EXCLUSIVE);
			e = (MmStatEntry *) hash_search(mm_stat_hash, &key, HASH_ENTER_NULL, &found);
			if (e != NULL)
			{
				if (!found)
				{
					e->calls = e->rows = e->errors = 0;
					e->total_ms = 0;
				}
				e->calls++;
				e->rows += p->rows;
				e->errors += (aborting && p->inflight) ? 1 : 0;
				e->total_ms += INSTR_TIME_GET_MILLISEC(elapsed);
				e->last_call = now;
			}
			LWLockRelease(mm_stat->lock);
		}
		p->active = false;
		p->inflight = false;
		p->rows = 0;
	}
}

static void
MmStatExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	mm_exec_nesting++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		mm_exec_nesting--;
	}
	PG_END_TRY();
}

static void
MmStatExecutorFinish(QueryDesc *queryDesc)
{
	mm_exec_nesting++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		mm_exec_nesting--;
	}
	PG_END_TRY();
}

static void
MmStatExecutorEnd(QueryDesc *queryDesc)
{
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
	if (mm_exec_nesting == 0 && mm_pending != NULL)
		MmStatFlush(false);
}

static void
MmStatXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			MmStatFlush(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			mm_exec_nesting = 0;
			MmProgressEnd();
			MmStatFlush(true);
			break;
		default:
			break;
	}
}

/*
 * A training inside a subtransaction that rolls back has ended too (one
 * that a source query runs and catches inside the training has not).
 */
static void
MmStatSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && mm_my_slot != NULL &&
		GetCurrentTransactionNestLevel() <= mm_my_slot_level)
		MmProgressEnd();
}

/*
 * Settings and hooks, from _PG_init.  The shared table only when the
 * library is preloaded; the counting hooks in every backend (they do
 * nothing without the table).
 */
void
MmStatInit(void)
{
	DefineCustomBoolVariable("mm.track",
							 "Collects prediction statistics (mm_stat_models).",
							 NULL,
							 &mm_track,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	/* a server-start setting can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("mm.track_max",
							"Model versions whose prediction statistics are kept.",
							"Versions beyond are not counted until mm_stat_reset().",
							&mm_track_max,
							1000, 100, 1000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = MmStatShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = MmStatShmemStartup;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = MmStatExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = MmStatExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = MmStatExecutorEnd;
	RegisterXactCallback(MmStatXactCallback, NULL);
	RegisterSubXactCallback(MmStatSubXactCallback, NULL);
}

/*
 * This backend's pending counters of a version, for a call site to hold;
 * NULL when nothing is counted (mm.track off, or no shared table).
 */
MmStatPending *
MmStatPendingFor(int64 model_id, int32 version)
{
	MmStatPending *p;

	if (!mm_track || mm_stat_hash == NULL)
		return NULL;
	for (p = mm_pending; p; p = p->next)
		if (p->model_id == model_id && p->version == version)
			return p;
	p = MemoryContextAllocZero(TopMemoryContext, sizeof(MmStatPending));
	p->model_id = model_id;
	p->version = version;
	p->next = mm_pending;
	mm_pending = p;
	return p;
}

static void
MmStatRequireShared(void)
{
	if (mm_stat_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("massmodel statistics are not available"),
				 errdetail("The statistics live in shared memory, which a library gets only when the server loads it at start."),
				 errhint("Add massmodel to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * mm_stat_models_internal(): the statistics of this database, by model id
 * and version (the view mm_stat_models adds names and privileges).
 */
Datum
mm_stat_models_internal(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	MmStatEntry *e;

	MmStatRequireShared();
	/* this backend's own counts first, so a statement sees its predecessors */
	MmStatFlush(false);
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(mm_stat->lock, LW_SHARED);
	hash_seq_init(&seq, mm_stat_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		if (e->key.dbid != MyDatabaseId)
			continue;
		values[0] = Int64GetDatum(e->key.model_id);
		values[1] = Int32GetDatum(e->key.version);
		values[2] = Int64GetDatum(e->calls);
		values[3] = Int64GetDatum(e->rows);
		values[4] = Int64GetDatum(e->errors);
		values[5] = Float8GetDatum(e->total_ms);
		values[6] = TimestampTzGetDatum(e->last_call);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(mm_stat->lock);
	return (Datum) 0;
}

/* mm_stat_reset(): forget the statistics of this database. */
Datum
mm_stat_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	MmStatEntry *e;

	MmStatRequireShared();
	MmStatFlush(false);
	LWLockAcquire(mm_stat->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, mm_stat_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->key.dbid == MyDatabaseId)
			hash_search(mm_stat_hash, &e->key, HASH_REMOVE, NULL);
	mm_stat->reset_at = GetCurrentTimestamp();
	LWLockRelease(mm_stat->lock);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * Training progress (mm_progress): one slot per backend in shared memory,
 * written only by its backend, read by any with a change counter (odd
 * while a write is under way), as pg_stat_activity's entries are.
 * --------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(mm_progress_internal);

typedef struct MmProgressSlot
{
	volatile uint32 changecount;
	int			pid;			/* 0: not training */
	Oid			dbid;
	Oid			userid;
	char		model[MM_MAX_MODEL_NAME + 1];
	char		algorithm[32];
	char		phase[16];
	int64		rows_done;
	int32		epoch;
	int32		epochs;
	double		loss;
	TimestampTz start;
} MmProgressSlot;


static Size
MmProgressShmemSize(void)
{
	return mul_size(MaxBackends, sizeof(MmProgressSlot));
}

#define MM_PROGRESS_WRITE(slot, code) \
	do { \
		(slot)->changecount++; \
		pg_write_barrier(); \
		code; \
		pg_write_barrier(); \
		(slot)->changecount++; \
	} while (0)

/* This backend starts training model with algorithm: phase "reading". */
void
MmProgressStart(const char *model, const char *algorithm)
{
	MmProgressSlot *s;

	if (mm_progress_slots == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId > MaxBackends)
		return;
	s = &mm_progress_slots[MyBackendId - 1];
	MM_PROGRESS_WRITE(s, {
		s->pid = MyProcPid;
		s->dbid = MyDatabaseId;
		s->userid = GetUserId();
		strlcpy(s->model, model, sizeof(s->model));
		strlcpy(s->algorithm, algorithm, sizeof(s->algorithm));
		strlcpy(s->phase, "reading", sizeof(s->phase));
		s->rows_done = 0;
		s->epoch = s->epochs = 0;
		s->loss = NAN;
		s->start = GetCurrentTimestamp();
	});
	mm_my_slot = s;
	mm_my_slot_level = GetCurrentTransactionNestLevel();
}

void
MmProgressPhase(const char *phase)
{
	MmProgressSlot *s = mm_my_slot;

	if (s)
		MM_PROGRESS_WRITE(s, strlcpy(s->phase, phase, sizeof(s->phase)));
}

void
MmProgressRows(int64 rows)
{
	MmProgressSlot *s = mm_my_slot;

	if (s)
		MM_PROGRESS_WRITE(s, s->rows_done = rows);
}

void
MmProgressIteration(int epoch, int epochs, double loss)
{
	MmProgressSlot *s = mm_my_slot;

	if (s)
		MM_PROGRESS_WRITE(s, {
			s->epoch = epoch;
			s->epochs = epochs;
			s->loss = loss;
		});
}

/* This backend's training has ended (stored, failed or cancelled). */
void
MmProgressEnd(void)
{
	MmProgressSlot *s = mm_my_slot;

	if (s)
		MM_PROGRESS_WRITE(s, s->pid = 0);
	mm_my_slot = NULL;
}

/* mm_progress_internal(): the trainings under way that this role may see. */
Datum
mm_progress_internal(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	TimestampTz now = GetCurrentTimestamp();

	if (mm_progress_slots == NULL)
		MmStatRequireShared();
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < MaxBackends; i++)
	{
		MmProgressSlot *src = &mm_progress_slots[i];
		MmProgressSlot copy;
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};

		/* a consistent copy: the counter even and unchanged across it */
		for (;;)
		{
			uint32		before = src->changecount;

			pg_read_barrier();
			memcpy(&copy, src, sizeof(copy));
			pg_read_barrier();
			if (before == src->changecount && (before & 1) == 0)
				break;
			CHECK_FOR_INTERRUPTS();
		}
		if (copy.pid == 0 || copy.dbid != MyDatabaseId ||
			!(all || has_privs_of_role(GetUserId(), copy.userid)))
			continue;
		values[0] = Int32GetDatum(copy.pid);
		values[1] = CStringGetTextDatum(copy.model);
		values[2] = CStringGetTextDatum(copy.algorithm);
		values[3] = CStringGetTextDatum(copy.phase);
		values[4] = Int64GetDatum(copy.rows_done);
		values[5] = Int32GetDatum(copy.epoch);
		nulls[5] = copy.epochs == 0;
		values[6] = Int32GetDatum(copy.epochs);
		nulls[6] = copy.epochs == 0;
		values[7] = Float8GetDatum(copy.loss);
		nulls[7] = isnan(copy.loss);
		values[8] = IntervalPGetDatum(DatumGetIntervalP(DirectFunctionCall2(timestamp_mi,
																			TimestampTzGetDatum(now),
																			TimestampTzGetDatum(copy.start))));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
