/*
 * mm_scan.c
 *	  The direct read of a plain table: training rows straight from the
 *	  heap, without the executor.
 *
 * Most training sources are a table of numeric columns.  Read through a
 * query, every row passes through a scan slot, the projection of the
 * columns' casts and a call per row into our code; for 20 double precision
 * columns that costs about as much as the training itself.  When the
 * source allows it, mm_train reads the heap instead: the table's pages in
 * page-at-a-time mode under the statement's snapshot (what the query would
 * see), and for a tuple without NULLs whose columns sit at fixed offsets,
 * the values are taken from those offsets; any other tuple is deformed by
 * heap_deform_tuple (missing attributes included).  Values come out as the
 * query's casts would give them: float8 for numeric features and targets,
 * 0/1 for boolean features, int8 or bool for integer and boolean labels.
 *
 * The direct read is taken only where it is the same read as the query:
 * - the source names a table or materialized view (not a query, a view,
 *   a partitioned or foreign table) stored by the heap access method,
 *   without inheritance children;
 * - the caller may SELECT every column read (table or column privilege)
 *   and no row-level security policy applies to the caller;
 * - every column read is smallint, integer, bigint, real, double precision
 *   or boolean (or a domain over one): no numeric, text or array, whose
 *   casts the query does better;
 * - no module hooks the executor's permission check (sepgsql, pgaudit's
 *   object audit): they must see the read.
 * Otherwise, and when mm.direct_scan is off, the query is run; its errors
 * (a missing privilege, say) are the ones the user sees.
 */
#include "massmodel.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

bool		mm_direct_scan = true;

/* how a stored attribute becomes the Datum the query would have produced */
enum
{
	MM_SCAN_F8_FROM_F8,
	MM_SCAN_F8_FROM_F4,
	MM_SCAN_F8_FROM_I2,
	MM_SCAN_F8_FROM_I4,
	MM_SCAN_F8_FROM_I8,
	MM_SCAN_F8_FROM_BOOL,
	MM_SCAN_I8_FROM_I2,
	MM_SCAN_I8_FROM_I4,
	MM_SCAN_I8_FROM_I8,
	MM_SCAN_BOOL_FROM_BOOL,
	MM_SCAN_ZERO				/* no target: the constant 0::float8 */
};

/* The conversion for a column of type typid read as want; -1: none. */
static int
MmScanConv(Oid typid, char want)
{
	switch (want)
	{
		case 'f':				/* float8 */
			switch (typid)
			{
				case FLOAT8OID:
					return MM_SCAN_F8_FROM_F8;
				case FLOAT4OID:
					return MM_SCAN_F8_FROM_F4;
				case INT2OID:
					return MM_SCAN_F8_FROM_I2;
				case INT4OID:
					return MM_SCAN_F8_FROM_I4;
				case INT8OID:
					return MM_SCAN_F8_FROM_I8;
				case BOOLOID:
					/* the query's boolean feature is b::int4::float8: 0 or 1 */
					return MM_SCAN_F8_FROM_BOOL;
			}
			break;
		case 'i':				/* int8 */
			switch (typid)
			{
				case INT2OID:
					return MM_SCAN_I8_FROM_I2;
				case INT4OID:
					return MM_SCAN_I8_FROM_I4;
				case INT8OID:
					return MM_SCAN_I8_FROM_I8;
			}
			break;
		case 'b':				/* bool */
			if (typid == BOOLOID)
				return MM_SCAN_BOOL_FROM_BOOL;
			break;
	}
	return -1;
}

/* A Datum of the stored type converted as the query's cast would. */
static inline Datum
MmScanConvertDatum(int conv, Datum d)
{
	switch (conv)
	{
		case MM_SCAN_F8_FROM_F8:
			return d;
		case MM_SCAN_F8_FROM_F4:
			return Float8GetDatum((double) DatumGetFloat4(d));
		case MM_SCAN_F8_FROM_I2:
			return Float8GetDatum((double) DatumGetInt16(d));
		case MM_SCAN_F8_FROM_I4:
			return Float8GetDatum((double) DatumGetInt32(d));
		case MM_SCAN_F8_FROM_I8:
			return Float8GetDatum((double) DatumGetInt64(d));
		case MM_SCAN_F8_FROM_BOOL:
			return Float8GetDatum(DatumGetBool(d) ? 1.0 : 0.0);
		case MM_SCAN_I8_FROM_I2:
			return Int64GetDatum((int64) DatumGetInt16(d));
		case MM_SCAN_I8_FROM_I4:
			return Int64GetDatum((int64) DatumGetInt32(d));
		case MM_SCAN_I8_FROM_I8:
			return d;
		case MM_SCAN_BOOL_FROM_BOOL:
			return d;
	}
	return Float8GetDatum(0.0);
}

/*
 * Where the attributes read sit in a tuple of rel (s->n, attnum set): at
 * fixed offsets in a tuple without NULLs while every attribute up to the
 * last one read has a fixed length.
 */
static void
MmScanLayout(MmScan *s, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			off = 0;

	s->maxatt = 0;
	for (int i = 0; i < s->n; i++)
		s->maxatt = Max(s->maxatt, s->attnum[i]);
	s->fixed = true;
	for (int a = 0; a < s->maxatt; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attlen <= 0)
		{
			s->fixed = false;
			break;
		}
		off = att_align_nominal(off, att->attalign);
		for (int i = 0; i < s->n; i++)
			if (s->attnum[i] == a + 1)
			{
				s->off[i] = off;
				s->len[i] = att->attlen;
			}
		off += att->attlen;
	}
	s->f8from = s->n;
	while (s->f8from > 0 && s->conv[s->f8from - 1] == MM_SCAN_F8_FROM_F8)
		s->f8from--;
	s->f8contig = s->n - 1;
	while (s->fixed && s->f8contig > s->f8from &&
		   s->off[s->f8contig - 1] + (int) sizeof(double) == s->off[s->f8contig])
		s->f8contig--;
	s->rel = rel;
	s->natts = desc->natts;
	s->dvalues = palloc(sizeof(Datum) * desc->natts);
	s->dnulls = palloc(sizeof(bool) * desc->natts);
}

/*
 * Set up a direct read of the source's columns: target (NULL: none, read
 * as 0) as label_type says (MM_LABEL_NONE: float8), then cols as float8.
 * False, with nothing opened, when the source does not allow one.
 */
bool
MmScanBegin(MmScan *s, const MmSource *src, const MmSourceCol *target,
			int label_type, const MmSourceCol *cols, int ncols)
{
	Relation	rel;
	Oid			relid = src->relid;
	int			n = ncols + 1;
	Oid			user = GetUserId();
	bool		table_ok;
	char		relkind;

	memset(s, 0, sizeof(*s));
	/*
	 * A module that checks or audits the executor's reads (sepgsql,
	 * pgaudit) hooks ExecutorCheckPerms: then the read goes through the
	 * query, so that it sees this one.
	 */
	if (!mm_direct_scan || !OidIsValid(relid) || ExecutorCheckPerms_hook != NULL)
		return false;
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
		return false;
	if (has_subclass(relid) || check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;
	table_ok = pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK;

	s->n = n;
	s->attnum = palloc0(sizeof(AttrNumber) * n);
	s->conv = palloc0(sizeof(int) * n);
	s->off = palloc0(sizeof(int) * n);
	s->len = palloc0(sizeof(int) * n);
	for (int i = 0; i < n; i++)
	{
		const MmSourceCol *c = i == 0 ? target : &cols[i - 1];
		char		want;

		if (c == NULL)
		{
			s->conv[i] = MM_SCAN_ZERO;
			continue;
		}
		if (i == 0)
			want = label_type == MM_LABEL_NONE ? 'f' :
				label_type == MM_LABEL_INT ? 'i' :
				label_type == MM_LABEL_BOOL ? 'b' : '?';
		else
			want = c->kind == MM_COL_FLOAT8 || c->kind == MM_COL_BOOL ? 'f' : '?';
		s->attnum[i] = get_attnum(relid, c->name);
		if (s->attnum[i] <= 0 || (s->conv[i] = MmScanConv(c->typid, want)) < 0 ||
			(!table_ok && pg_attribute_aclcheck(relid, s->attnum[i], user, ACL_SELECT) != ACLCHECK_OK))
			return false;
	}

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_tableam != GetHeapamTableAmRoutine() ||
		(rel->rd_rel->relkind == RELKIND_MATVIEW && !RelationIsPopulated(rel)))
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	MmScanLayout(s, rel);
	/* as the planner estimates it: the last known density times the pages now */
	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
		s->est_rows = rel->rd_rel->reltuples / rel->rd_rel->relpages *
			RelationGetNumberOfBlocks(rel);
	/* from the first page, not where a concurrent scan is: the same model every time */
	s->snapshot = GetActiveSnapshot();
	s->scan = table_beginscan_strat(rel, s->snapshot, 0, NULL, true, false);
	return true;
}

/*
 * Note a page the first read reached: the next of the current run, or the
 * start of a new one.
 */
static void
MmScanNewBlock(MmScan *s, BlockNumber block)
{
	int64		r = s->nruns - 1;

	if (r >= 0 && block == s->run_start[r] + s->run_len[r])
	{
		s->run_len[r]++;
		return;
	}
	if (s->nruns == s->maxruns)
	{
		/* up to a run per page: beyond 1 GB for a table of many TB */
		s->maxruns = Max(64, s->maxruns * 2);
		s->run_start = s->run_start == NULL ?
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BlockNumber) * s->maxruns) :
			repalloc_huge(s->run_start, sizeof(BlockNumber) * s->maxruns);
		s->run_len = s->run_len == NULL ?
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BlockNumber) * s->maxruns) :
			repalloc_huge(s->run_len, sizeof(BlockNumber) * s->maxruns);
	}
	s->run_start[s->nruns] = block;
	s->run_len[s->nruns++] = 1;
}

/*
 * Bring a page's tuples into the cache when the scan reaches it: one read
 * of every 64-byte line, each independent of the others, so that the CPU
 * has them all in flight at once; the reads of the tuples' values then
 * find them there instead of waiting on memory line after line.
 *
 * Plain reads, not prefetch instructions: on the machine measured (AMD
 * EPYC, in a VM), __builtin_prefetch of the same lines changed nothing,
 * while these reads took a serial ridge train's first read of 1,000,000
 * x 20 from 125 to 99 ms and the whole train from 220 to 172 ms.  The
 * page is pinned; what another backend may be writing to it (hint bits)
 * does not matter, the values read are dropped.
 */
static inline void
MmScanTouchPage(Buffer buffer)
{
	Page		page = BufferGetPage(buffer);
	PageHeader	ph = (PageHeader) page;

	for (Size off = ph->pd_upper; off < ph->pd_special && off < BLCKSZ; off += 64)
		(void) *(const volatile char *) ((const char *) page + off);
}

/*
 * The pages of a parallel read, for a read again by all its processes
 * together (MmScanRescan, shared): a bit per page, set by the process that
 * claims it, and the words of bits not yet looked at by a process looking
 * for pages to take, counted down.
 */
struct MmRescanShared
{
	BlockNumber nblocks;
	pg_atomic_uint32 next_word;
	pg_atomic_uint32 claimed[FLEXIBLE_ARRAY_MEMBER];
};

#define MM_RESCAN_WORDS(nblocks) ((uint32) (((uint64) (nblocks) + 31) / 32))

static Size
MmRescanSharedSize(BlockNumber nblocks)
{
	return add_size(offsetof(MmRescanShared, claimed),
					mul_size(sizeof(pg_atomic_uint32), MM_RESCAN_WORDS(nblocks)));
}

/* Claim block for this process: false when another process has. */
static inline bool
MmRescanClaim(MmRescanShared *sh, BlockNumber block)
{
	uint32		bit = (uint32) 1 << (block & 31);

	if (block >= sh->nblocks)
		return true;			/* not one of the first read's pages: nobody else's */
	return (pg_atomic_fetch_or_u32(&sh->claimed[block >> 5], bit) & bit) == 0;
}

/*
 * A page another process read first and has not claimed again yet,
 * claimed here for this one: from the end of the table down (each process
 * reads its own pages up, so what is left of them is near the end), a
 * word of bits at a time; InvalidBlockNumber when none is left.
 */
static BlockNumber
MmRescanTake(MmScan *s)
{
	MmRescanShared *sh = s->steal;

	for (;;)
	{
		BlockNumber block;
		int			b;

		while (s->take_bits == 0)
		{
			uint32		w = pg_atomic_fetch_sub_u32(&sh->next_word, 1);

			/* once every word is taken the count wraps past zero */
			if (w == 0 || w > MM_RESCAN_WORDS(sh->nblocks))
				return InvalidBlockNumber;
			s->take_word = w - 1;
			s->take_bits = ~pg_atomic_read_u32(&sh->claimed[s->take_word]);
			if ((uint64) s->take_word * 32 + 32 > sh->nblocks)
				s->take_bits &= ((uint32) 1 << (sh->nblocks - s->take_word * 32)) - 1;
		}
		b = pg_leftmost_one_pos32(s->take_bits);
		s->take_bits &= ~((uint32) 1 << b);
		block = (BlockNumber) s->take_word * 32 + b;
		if (MmRescanClaim(sh, block))
			return block;
	}
}

/*
 * Where s's read takes its pages from (MmScanNextPage): alloc, a parallel
 * read's allocation shared by its processes, this process's part set up
 * here; else the pages 0 .. nblocks - 1 (a read again: its runs after).
 */
static void
MmScanPages(MmScan *s, ParallelBlockTableScanDesc alloc, BlockNumber nblocks)
{
	/* heapgetpage sets the visible tuples only in page mode (an MVCC snapshot) */
	if (!(s->scan->rs_flags & SO_ALLOW_PAGEMODE))
		elog(ERROR, "the direct read of \"%s\" is not in page-at-a-time mode",
			 RelationGetRelationName(s->rel));
	s->paging = true;
	s->alloc = alloc;
	s->work = NULL;
	s->next_block = 0;
	s->end_block = nblocks;
	s->run = -1;
	s->ntuples = s->tupindex = 0;
	s->steal = NULL;
	s->take_bits = 0;
	if (alloc != NULL)
	{
		s->work = palloc0(sizeof(ParallelBlockTableScanWorkerData));
		table_block_parallelscan_startblock_init(s->rel, s->work, alloc);
	}
}

/*
 * Read again the pages the first read of s reached under the same
 * snapshot, which needs no memory for the rows.  Alone (shared false):
 * the pages s's first read took, in the order it did, so the same rows in
 * the same order (a serial read, or a parallel one that got no worker).
 * shared: the first read was a parallel one (MmScanParallelBegin), and
 * its processes read all its pages again together: each its own pages
 * first, claiming each (a bit in shared memory), then the pages the others
 * have not claimed yet, from the end of the table down.  The processes end
 * together, whatever share of the first read each had (on 2 CPUs the
 * scheduler often gives the backend half of it), and a process seldom
 * reads a page its first read did not (a page of shared buffers new to a
 * process costs it a page fault, and more at its exit).  The backend
 * reads none with parallel_leader_participation off, as in the first read.
 * The pages are read one by one as the scan reads them (heapgetpage: the
 * tuples the snapshot sees, in page mode), without a scan per run.
 */
void
MmScanRescan(MmScan *s, bool shared)
{
	/*
	 * The first read's scan, open (a worker's holds the snapshot), or ended
	 * with the parallel read that had no worker: then the backend's
	 * snapshot, which that read was under.
	 */
	Snapshot	snapshot = s->scan != NULL ? s->scan->rs_snapshot : s->snapshot;

	Assert(!s->rescanning && snapshot != NULL);
	if (shared && s->shared == NULL)
		elog(ERROR, "a shared second read of a read that was not parallel");
	s->first = s->scan;
	s->scan = table_beginscan_strat(s->rel, snapshot, 0, NULL, true, false);
	s->rescanning = true;
	s->rows = 0;
	MmScanPages(s, NULL, 0);
	if (shared && !IsParallelWorker() && !parallel_leader_participation)
		s->nruns = 0;			/* as in the first read, the workers read every page */
	else if (shared)
		s->steal = s->shared;
}

static inline bool MmScanTuple(MmScan *s, const char **data);
static inline Datum MmScanDatum(const MmScan *s, const char *data, int i, bool *isnull);
static inline void MmScanFloat8s(MmScan *s, const char *data, int from, double *row,
								 int *null_col);

/*
 * The next row of a read again (no NULL: the first read's rows): target
 * NULL, its values as float8 into row; else its target into *target and
 * the columns after it into row.
 */
static inline bool
MmScanRescanRow(MmScan *s, Datum *target, double *row)
{
	const char *data;
	int			null_col = -1;
	bool		tnull;

	if (!MmScanTuple(s, &data))
		return false;
	if (target == NULL)
	{
		MmScanFloat8s(s, data, 0, row, &null_col);
		return true;
	}
	*target = MmScanDatum(s, data, 0, &tnull);
	MmScanFloat8s(s, data, 1, row, &null_col);
	if (tnull || null_col >= 0)
		elog(ERROR, "the second read of the training rows found a NULL the first did not");
	return true;
}

/*
 * Read again the rows of s's first read (MmScanRescan) into blocks of
 * block rows of d values, and hand each full block (and the last part) to
 * take; then the scan is ended.  label NULL: a row's d values are all its
 * values as float8 (MmScanNextFloat8); else they are the columns after
 * the target, and label gets the targets of each run of rows put in the
 * block (as MmScanNextTargetRow gives them) before the block is taken.
 * The rest of a page is read in one loop where it can be
 * (MmScanPageRows), else row by row.
 * Alone (shared false), the read must find the n rows this process's first
 * read did, and never more than it sized for before a block is taken.
 * shared (MmScanRescan): this process's part of the rows of every process's
 * first read, n of them in all, which the caller must check adds up.
 * Returns the rows read.
 */
int64
MmScanRescanBlocks(MmScan *s, int64 n, bool shared, int block, int d, MmRescanLabelFn label,
				   MmRescanTakeFn take, void *arg)
{
	double	   *rows = palloc(sizeof(double) * block * Max(d, 1));
	Datum	   *targets = label != NULL ? palloc(sizeof(Datum) * block) : NULL;
	int64		got = 0;
	int			nb = 0;
	bool		more = true;

	MmScanRescan(s, shared);
	while (more)
	{
		/* the rest of the page at once, else a row (and the next page) */
		int			k = MmScanPageRows(s, targets, rows + (Size) nb * d, block - nb);

		if (k == 0)
		{
			more = MmScanRescanRow(s, targets, rows + (Size) nb * d);
			k = more ? 1 : 0;
		}
		if (k > 0 && label != NULL)
			label(arg, targets, k, nb);
		nb += k;
		if (nb == block || (!more && nb > 0))
		{
			if (got + nb > n)	/* shared: more than every process's first read */
				elog(ERROR, "the second read of the training rows found more than " INT64_FORMAT " rows", n);
			take(arg, rows, nb, got);
			got += nb;
			nb = 0;
		}
	}
	if (!shared && got != n)
		elog(ERROR, "the second read of the training rows found " INT64_FORMAT " rows, not " INT64_FORMAT,
			 got, n);
	pfree(rows);
	if (targets != NULL)
		pfree(targets);
	MmScanEnd(s);
	return got;
}

/*
 * The next page of s's read into its scan (heapgetpage: the tuples the
 * snapshot sees, in page mode) and into the CPU cache; false after the
 * last page, whose pin then goes.  The pages come from alloc (a parallel
 * first read's allocation), else the first read's are next_block ..
 * end_block - 1, and a read again's s's runs, then with steal the pages
 * other processes have left (MmRescanTake).  The first read notes the runs
 * of pages it reads, for MmScanRescan.
 */
static bool
MmScanNextPage(MmScan *s)
{
	HeapScanDesc hs = (HeapScanDesc) s->scan;
	BlockNumber block = InvalidBlockNumber;

	if (s->work != NULL)
		block = table_block_parallelscan_nextpage(s->rel, s->work, s->alloc);
	else
		for (;;)
		{
			if (s->next_block < s->end_block)
				block = s->next_block++;
			else if (s->rescanning && s->run + 1 < s->nruns)
			{
				s->run++;
				s->next_block = s->run_start[s->run];
				s->end_block = s->next_block + s->run_len[s->run];
				block = s->next_block++;
			}
			else
			{
				/* a shared read again: then others' pages left */
				block = s->steal != NULL ? MmRescanTake(s) : InvalidBlockNumber;
				break;
			}
			/* one of its own pages, unless another process has taken it */
			if (s->steal == NULL || MmRescanClaim(s->steal, block))
				break;
		}
	if (block == InvalidBlockNumber)
	{
		if (BufferIsValid(hs->rs_cbuf))
			ReleaseBuffer(hs->rs_cbuf);
		hs->rs_cbuf = InvalidBuffer;
		return false;
	}
	heapgetpage(s->scan, block);
	s->ntuples = hs->rs_ntuples;
	s->tupindex = 0;
	MmScanTouchPage(hs->rs_cbuf);
	if (!s->rescanning)
		MmScanNewBlock(s, block);
	return true;
}

/*
 * The next visible tuple of s's read (first or again); NULL after the last
 * page.  The scan's pages are taken here rather than by heap_getnext,
 * which costs about as much per tuple as the rest of the read (a double
 * precision column is a copy); a first read counts its tuples as it does.
 */
static inline HeapTuple
MmScanPageTuple(MmScan *s)
{
	HeapScanDesc hs = (HeapScanDesc) s->scan;
	Page		page;
	ItemId		lp;
	OffsetNumber off;

	if (!s->paging)
	{
		/* a first read: the pages of its parallel scan, else all from the first */
		if (s->scan->rs_parallel != NULL)
			MmScanPages(s, (ParallelBlockTableScanDesc) s->scan->rs_parallel, 0);
		else
			MmScanPages(s, NULL, hs->rs_nblocks);
	}
	while (s->tupindex >= s->ntuples)
		if (!MmScanNextPage(s))
			return NULL;
	page = BufferGetPage(hs->rs_cbuf);
	off = hs->rs_vistuples[s->tupindex++];
	lp = PageGetItemId(page, off);
	s->tuple.t_data = (HeapTupleHeader) PageGetItem(page, lp);
	s->tuple.t_len = ItemIdGetLength(lp);
	s->tuple.t_tableOid = RelationGetRelid(s->rel);
	ItemPointerSet(&s->tuple.t_self, hs->rs_cblock, off);
	if (!s->rescanning)
		pgstat_count_heap_getnext(s->rel);
	return &s->tuple;
}

/*
 * The next visible tuple: *data points at its values when they sit at
 * the fixed offsets (no NULLs, no attribute missing), else it is NULL and
 * the tuple is deformed into dvalues/dnulls.  False at the end.  The first
 * read notes the runs of pages it reads, for MmScanRescan.
 */
static inline bool
MmScanTuple(MmScan *s, const char **data)
{
	HeapTuple	tup;
	HeapTupleHeader h;

	if ((++s->rows & 0x3FF) == 0)
		CHECK_FOR_INTERRUPTS();
	if ((tup = MmScanPageTuple(s)) == NULL)
		return false;
	h = tup->t_data;
	if (s->fixed && !HeapTupleHasNulls(tup) && HeapTupleHeaderGetNatts(h) >= s->maxatt)
	{
		*data = (const char *) h + h->t_hoff;
		return true;
	}
	*data = NULL;
	heap_deform_tuple(tup, RelationGetDescr(s->rel), s->dvalues, s->dnulls);
	return true;
}

/*
 * Whether the share of a parallel read (s, the backend's or a worker's)
 * can end here without a page lost to every process: the page of the last
 * row is done, and so is the chunk of pages the shared scan gave it (the
 * next page would be a new chunk's).
 */
bool
MmScanChunkDone(const MmScan *s)
{
	return s->scan != NULL && !s->rescanning && s->work != NULL &&
		s->work->phsw_chunk_remaining == 0 && s->tupindex >= s->ntuples;
}

/* Value i of the current tuple as the query's Datum; *isnull for NULL. */
static inline Datum
MmScanDatum(const MmScan *s, const char *data, int i, bool *isnull)
{
	*isnull = false;
	if (s->conv[i] == MM_SCAN_ZERO)
		return Float8GetDatum(0.0);
	if (data != NULL)
		return MmScanConvertDatum(s->conv[i], fetch_att(data + s->off[i], true, s->len[i]));
	*isnull = s->dnulls[s->attnum[i] - 1];
	return *isnull ? (Datum) 0 : MmScanConvertDatum(s->conv[i], s->dvalues[s->attnum[i] - 1]);
}

/*
 * The next row into values/nulls (target first, then the columns);
 * false at the end of the table.
 */
bool
MmScanNext(MmScan *s, Datum *values, bool *nulls)
{
	const char *data;

	if (!MmScanTuple(s, &data))
		return false;
	for (int i = 0; i < s->n; i++)
		values[i] = MmScanDatum(s, data, i, &nulls[i]);
	return true;
}

/*
 * Columns from .. s->n - 1 of a tuple (data: its values at their fixed
 * offsets, all double precision) into row: those side by side in the
 * tuple (as a table's columns x1 .. xn are) in one run, four at a time
 * inline, where memcpy of a length known only at run time is a call
 * (about 5 % of a serial ridge train's CPU, 1,000,000 x 20).  With check,
 * whether they are all finite, read from the tuple: the row just stored
 * would be read back before its stores are done (a stall per row);
 * without, true.
 */
static inline bool
MmScanCopyRow(const MmScan *s, const char *data, int from, double *row, bool check)
{
	int			c = Max(from, s->f8contig);
	bool		finite = true;

	for (int i = from; i < c; i++)
	{
		double		v;

		memcpy(&v, data + s->off[i], sizeof(double));
		finite &= !check || isfinite(v);
		row[i - from] = v;
	}
	if (c < s->n)
	{
		const char *src = data + s->off[c];
		double	   *dst = row + (c - from);
		int			len = s->n - c;
		int			j = 0;

		finite &= !check || MmAllFinite((const double *) src, len);
		for (; j + 4 <= len; j += 4)
			memcpy(dst + j, src + j * sizeof(double), 4 * sizeof(double));
		for (; j < len; j++)
			memcpy(dst + j, src + j * sizeof(double), sizeof(double));
	}
	return finite;
}

/*
 * Columns from .. s->n - 1 of the current tuple (data: as MmScanTuple
 * gave it) as float8 into row[0 ..]: a NULL as 0, and *null_col the first
 * such column when it is still -1.  s->finite: whether every value put in
 * row is finite (not set by a read again, MmScanRescan: the first read
 * checked the same values).
 */
static inline void
MmScanFloat8s(MmScan *s, const char *data, int from, double *row, int *null_col)
{
	/* the most common case: double precision columns only */
	if (data != NULL && from >= s->f8from)
	{
		bool		check = !s->rescanning; /* a read again: the first read checked */
		bool		finite = MmScanCopyRow(s, data, from, row, check);

		if (check)
			s->finite = finite;
		return;
	}
	for (int i = from; i < s->n; i++)
	{
		bool		isnull;

		/* the common case, a double precision column, copied as it is */
		if (data != NULL && s->conv[i] == MM_SCAN_F8_FROM_F8)
		{
			memcpy(&row[i - from], data + s->off[i], sizeof(double));
			continue;
		}
		row[i - from] = DatumGetFloat8(MmScanDatum(s, data, i, &isnull));
		if (isnull)
		{
			row[i - from] = 0.0;
			if (*null_col < 0)
				*null_col = i;
		}
	}
	s->finite = MmAllFinite(row, s->n - from);
}

/*
 * Up to max more rows of the page the read of s is on, in one loop, as
 * they would come one by one: target NULL, every value of a row as
 * float8 into rows, as MmScanNextFloat8 reads it (a read again:
 * MmScanRescanRow); else the target of row k into target[k] as
 * MmScanNextTargetRow gives it, and the columns after it into rows.  The
 * tuples whose values (the columns all double precision, the target of a
 * fixed length) sit at their fixed offsets, up to the first that does not
 * (a NULL, an attribute missing) or, in a first read, has a column value
 * that is not finite, which is left to the row-by-row read (a target is
 * not tested: the caller does as it would a row's).  Returns the rows
 * read; 0 at the end of the page, or when the columns are not all double
 * precision or there are none.
 */
int
MmScanPageRows(MmScan *s, Datum *target, double *rows, int max)
{
	HeapScanDesc hs = (HeapScanDesc) s->scan;
	bool		check = !s->rescanning; /* a read again: the first read checked */
	int			from = target != NULL ? 1 : 0;
	Page		page;
	int			n = s->n - from;
	int			k = 0;

	if (!s->paging || !s->fixed || s->f8from > from || n <= 0 || s->tupindex >= s->ntuples)
		return 0;
	CHECK_FOR_INTERRUPTS();
	page = BufferGetPage(hs->rs_cbuf);
	for (; k < max && s->tupindex < s->ntuples; k++)
	{
		ItemId		lp = PageGetItemId(page, hs->rs_vistuples[s->tupindex]);
		HeapTupleHeader h = (HeapTupleHeader) PageGetItem(page, lp);
		const char *data = (const char *) h + h->t_hoff;
		double	   *row = rows + (Size) k * n;

		if ((h->t_infomask & HEAP_HASNULL) || HeapTupleHeaderGetNatts(h) < s->maxatt)
			break;
		/* a row not finite is left to the row-by-row read, which reports it */
		if (!MmScanCopyRow(s, data, from, row, check))
			break;
		if (target != NULL)
		{
			bool		isnull;

			target[k] = MmScanDatum(s, data, 0, &isnull);
		}
		s->tupindex++;
		if (check)
			pgstat_count_heap_getnext(s->rel);
	}
	s->rows += k;
	return k;
}

/*
 * The next row as float8 values into row (target first, then the columns;
 * every conversion gives a float8 here); false at the end of the table.
 * A row with a NULL in a column read: *null_col is the first such column
 * (0: the target), else -1.
 */
bool
MmScanNextFloat8(MmScan *s, double *row, int *null_col)
{
	const char *data;

	if (!MmScanTuple(s, &data))
		return false;
	*null_col = -1;
	MmScanFloat8s(s, data, 0, row, null_col);
	return true;
}

/*
 * The next row: the target as the query's Datum into *target (*tnull for
 * NULL), the columns after it as float8 into row (a NULL as 0, *null_col
 * the first such column, counted from 1, else -1); false at the end.
 */
bool
MmScanNextTargetRow(MmScan *s, Datum *target, bool *tnull, double *row, int *null_col)
{
	const char *data;

	if (!MmScanTuple(s, &data))
		return false;
	*target = MmScanDatum(s, data, 0, tnull);
	*null_col = -1;
	MmScanFloat8s(s, data, 1, row, null_col);
	return true;
}

/*
 * Rows to reserve for a share (0 to 1) of the table's rows, with a margin
 * over the planner's estimate (a table grows between two ANALYZEs; a
 * hashed split spreads); 0 when there is no estimate.
 */
int64
MmScanExpect(const MmScan *s, double share)
{
	if (s->est_rows <= 0)
		return 0;
	return (int64) Min(s->est_rows * share * (share < 1 ? 1.05 : 1.02) + 1024,
					   (double) PG_INT64_MAX / 4);
}

/* End a direct read. */
void
MmScanEnd(MmScan *s)
{
	if (s->scan != NULL)
		table_endscan(s->scan);
	if (s->first != NULL)
		table_endscan(s->first);
	s->first = NULL;
	s->rescanning = false;
	s->shared = NULL;			/* with the parallel context, gone or going */
	s->steal = NULL;
	s->alloc = NULL;
	s->work = NULL;
	s->paging = false;
	/* the lock stays to the end of the transaction, as the query's read keeps it */
	if (s->rel != NULL)
		table_close(s->rel, NoLock);
	s->scan = NULL;
	s->rel = NULL;
}

/* ---------------------------------------------------------------------
 * The direct read with parallel workers
 *
 * A large table is read by the backend and parallel workers together, as
 * a parallel sequential scan would read it: each process takes the next
 * pages of one shared parallel heap scan (table_beginscan_parallel, under
 * the statement's snapshot, from the first page).  What a worker makes of
 * its rows (kind) is sent to the backend through its own message queue,
 * and the backend can answer through a second one (a worker may wait for
 * it, in parallel mode, until it has sent all it owes); the backend reads
 * its own share of the pages between the messages.
 * The workers are launched as the planner would for a parallel scan of
 * the table: max_parallel_workers_per_gather at most, none below
 * min_parallel_table_scan_size, the table's parallel_workers setting;
 * none for a temporary table, whose pages only this backend can see.
 * --------------------------------------------------------------------- */

#define MM_PAR_KEY_SHARED	UINT64CONST(0x4D4D530000000001)
#define MM_PAR_KEY_ARGS		UINT64CONST(0x4D4D530000000002)
#define MM_PAR_KEY_PSCAN	UINT64CONST(0x4D4D530000000003)
#define MM_PAR_KEY_QUEUES	UINT64CONST(0x4D4D530000000004)
#define MM_PAR_KEY_RESCAN	UINT64CONST(0x4D4D530000000005)
#define MM_PAR_QUEUE_SIZE	((Size) 1024 * 1024)	/* a worker's messages to the backend */
#define MM_PAR_IN_SIZE		((Size) 64 * 1024)	/* the backend's to a worker */
#define MM_PAR_QUEUES_SIZE	(MM_PAR_QUEUE_SIZE + MM_PAR_IN_SIZE)

/* what the workers need to read the table as the backend does */
typedef struct MmParShared
{
	Oid			relid;
	int			kind;
	int			n;
	AttrNumber	attnum[MM_MAX_FEATURE_ARGS + 1];
	int			conv[MM_MAX_FEATURE_ARGS + 1];
	Size		argslen;
} MmParShared;

struct MmScanPar
{
	ParallelContext *pcxt;
	int			nworkers;		/* launched */
	shm_mq_handle **mq;			/* from each worker */
	shm_mq_handle **in;			/* to each worker */
	bool	   *done;			/* its queue is detached */
	int			ndone;
	int			next;			/* the queue to try first */
};

/* Workers a direct read of s may use (0: none). */
int
MmScanWorkers(const MmScan *s)
{
	BlockNumber pages;
	double		threshold;
	int			workers;

	if (max_parallel_workers_per_gather <= 0 || !IsUnderPostmaster ||
		IsInParallelMode() || RelationUsesLocalBuffers(s->rel) ||
		s->n > MM_MAX_FEATURE_ARGS + 1)
		return 0;
	/* the table's own setting first, as the planner takes it */
	workers = RelationGetParallelWorkers(s->rel, -1);
	if (workers < 0)
	{
		pages = RelationGetNumberOfBlocks(s->rel);
		threshold = Max(min_parallel_table_scan_size, 1);
		if (pages < (BlockNumber) min_parallel_table_scan_size)
			return 0;
		workers = 1;
		while (pages >= threshold * 3 && workers < 1024)
		{
			workers++;
			threshold *= 3;
		}
	}
	return Min(workers, max_parallel_workers_per_gather);
}

/*
 * Start nworkers workers on the read of s, each running kind with a copy
 * of args; the backend's own read of s goes on from the shared scan.  The
 * workers that could not be launched (none, when the machine has no
 * worker slot left) leave their share to the backend.
 */
MmScanPar *
MmScanParallelBegin(MmScan *s, int nworkers, int kind, const void *args, Size argslen)
{
	MmScanPar  *p = palloc0(sizeof(MmScanPar));
	ParallelContext *pcxt;
	Snapshot	snapshot = s->snapshot;	/* the serial read's, MmScanBegin's */
	Size		pscan_size;
	MmParShared *sh;
	ParallelTableScanDesc pscan;
	MmRescanShared *rescan;
	BlockNumber nblocks = RelationGetNumberOfBlocks(s->rel);
	char	   *queues = NULL;
	void	   *a;

	EnterParallelMode();
	pcxt = CreateParallelContext("massmodel", "mm_scan_worker_main", nworkers);
	pscan_size = table_parallelscan_estimate(s->rel, snapshot);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(MmParShared));
	shm_toc_estimate_chunk(&pcxt->estimator, Max(argslen, 1));
	shm_toc_estimate_chunk(&pcxt->estimator, pscan_size);
	shm_toc_estimate_chunk(&pcxt->estimator, MmRescanSharedSize(nblocks));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(MM_PAR_QUEUES_SIZE, nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 5);
	InitializeParallelDSM(pcxt);

	sh = shm_toc_allocate(pcxt->toc, sizeof(MmParShared));
	memset(sh, 0, sizeof(*sh));
	sh->relid = RelationGetRelid(s->rel);
	sh->kind = kind;
	sh->n = s->n;
	memcpy(sh->attnum, s->attnum, sizeof(AttrNumber) * s->n);
	memcpy(sh->conv, s->conv, sizeof(int) * s->n);
	sh->argslen = argslen;
	shm_toc_insert(pcxt->toc, MM_PAR_KEY_SHARED, sh);
	a = shm_toc_allocate(pcxt->toc, Max(argslen, 1));
	memcpy(a, args, argslen);
	shm_toc_insert(pcxt->toc, MM_PAR_KEY_ARGS, a);
	pscan = shm_toc_allocate(pcxt->toc, pscan_size);
	table_parallelscan_initialize(s->rel, pscan, snapshot);
	/* from the first page, as the serial read: not where another scan is */
	pscan->phs_syncscan = false;

	/*
	 * The pages counted before sizing the claims of a read again: a page
	 * added since holds no row the snapshot, taken before, sees.
	 */
	((ParallelBlockTableScanDesc) pscan)->phs_nblocks =
		Min(((ParallelBlockTableScanDesc) pscan)->phs_nblocks, nblocks);
	shm_toc_insert(pcxt->toc, MM_PAR_KEY_PSCAN, pscan);
	rescan = shm_toc_allocate(pcxt->toc, MmRescanSharedSize(nblocks));
	rescan->nblocks = ((ParallelBlockTableScanDesc) pscan)->phs_nblocks;
	pg_atomic_init_u32(&rescan->next_word, MM_RESCAN_WORDS(rescan->nblocks));
	for (uint32 w = 0; w < MM_RESCAN_WORDS(rescan->nblocks); w++)
		pg_atomic_init_u32(&rescan->claimed[w], 0);
	shm_toc_insert(pcxt->toc, MM_PAR_KEY_RESCAN, rescan);

	/* no segment (no dynamic shared memory): no workers, nworkers is 0 */
	p->mq = palloc0(sizeof(shm_mq_handle *) * Max(pcxt->nworkers, 1));
	p->in = palloc0(sizeof(shm_mq_handle *) * Max(pcxt->nworkers, 1));
	p->done = palloc0(sizeof(bool) * Max(pcxt->nworkers, 1));
	if (pcxt->nworkers > 0)
	{
		queues = shm_toc_allocate(pcxt->toc, mul_size(MM_PAR_QUEUES_SIZE, pcxt->nworkers));
		shm_toc_insert(pcxt->toc, MM_PAR_KEY_QUEUES, queues);
		for (int i = 0; i < pcxt->nworkers; i++)
		{
			char	   *at = queues + (Size) i * MM_PAR_QUEUES_SIZE;
			shm_mq	   *mq = shm_mq_create(at, MM_PAR_QUEUE_SIZE);
			shm_mq	   *in = shm_mq_create(at + MM_PAR_QUEUE_SIZE, MM_PAR_IN_SIZE);

			shm_mq_set_receiver(mq, MyProc);
			p->mq[i] = shm_mq_attach(mq, pcxt->seg, NULL);
			shm_mq_set_sender(in, MyProc);
			p->in[i] = shm_mq_attach(in, pcxt->seg, NULL);
		}
	}
	LaunchParallelWorkers(pcxt);
	for (int i = 0; i < pcxt->nworkers; i++)
	{
		if (i < pcxt->nworkers_launched)
		{
			shm_mq_set_handle(p->mq[i], pcxt->worker[i].bgwhandle);
			shm_mq_set_handle(p->in[i], pcxt->worker[i].bgwhandle);
		}
		else
		{
			shm_mq_detach(p->mq[i]);
			shm_mq_detach(p->in[i]);
		}
	}
	p->pcxt = pcxt;
	p->nworkers = pcxt->nworkers_launched;

	/* the backend reads its share from the same parallel scan */
	table_endscan(s->scan);
	s->scan = table_beginscan_parallel(s->rel, pscan);
	s->paging = false;
	s->shared = rescan;
	return p;
}

/* Workers launched. */
int
MmScanParallelLaunched(const MmScanPar *p)
{
	return p->nworkers;
}

/*
 * The next message from a worker, without waiting: MM_PAR_MESSAGE (the
 * message of *worker in *data, *len bytes, valid until the next call),
 * MM_PAR_FINISHED (*worker has finished: its queue is closed), MM_PAR_NONE
 * (nothing now) or MM_PAR_ALL_DONE (every worker has finished).
 */
int
MmScanParallelReceive(MmScanPar *p, int *worker, void **data, Size *len)
{
	for (int k = 0; k < p->nworkers; k++)
	{
		int			i = (p->next + k) % p->nworkers;
		shm_mq_result res;

		if (p->done[i])
			continue;
		res = shm_mq_receive(p->mq[i], len, data, true);
		if (res == SHM_MQ_WOULD_BLOCK)
			continue;
		*worker = i;
		p->next = (i + 1) % p->nworkers;
		if (res == SHM_MQ_SUCCESS)
			return MM_PAR_MESSAGE;
		p->done[i] = true;
		p->ndone++;
		return MM_PAR_FINISHED;
	}
	return p->ndone == p->nworkers ? MM_PAR_ALL_DONE : MM_PAR_NONE;
}

/*
 * The next message of every worker, in the order they come: take(arg,
 * worker, data, len) for each (data valid during the call).  A worker that
 * finishes before its message has failed: its error, when it reported one.
 */
void
MmScanParallelCollect(MmScanPar *p, MmScanTakeFn take, void *arg)
{
	bool	   *got = palloc0(sizeof(bool) * Max(p->nworkers, 1));
	int			done = 0;

	while (done < p->nworkers)
	{
		int			worker;
		void	   *data;
		Size		len;
		int			r = MmScanParallelReceive(p, &worker, &data, &len);

		if (r == MM_PAR_NONE)
		{
			MmScanParallelWait();
			continue;
		}
		if (r == MM_PAR_FINISHED || r == MM_PAR_ALL_DONE)
		{
			for (int w = 0; w < p->nworkers; w++)
				if (!got[w] && (r == MM_PAR_ALL_DONE || w == worker))
					MmScanParallelFailed(p, w);
			continue;
		}
		if (got[worker])
			elog(ERROR, "unexpected message from parallel worker %d", worker);
		take(arg, worker, data, len);
		got[worker] = true;
		done++;
	}
	pfree(got);
}

/* Wait for a worker's message (or an interrupt). */
void
MmScanParallelWait(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * A worker finished without what it owed: its error, when it reported
 * one, else this one.
 */
void
MmScanParallelFailed(MmScanPar *p, int worker)
{
	WaitForParallelWorkersToFinish(p->pcxt);
	elog(ERROR, "parallel worker %d of the direct read ended without its result", worker);
}

/* Send a message (a header, then data) to mq, waiting for room; false: nobody reads it. */
static bool
MmScanSendv(shm_mq_handle *mq, const void *head, Size headlen, const void *data, Size len)
{
	shm_mq_iovec iov[2];

	iov[0].data = head;
	iov[0].len = headlen;
	iov[1].data = data;
	iov[1].len = len;
	return shm_mq_sendv(mq, iov, len > 0 ? 2 : 1, false, true) == SHM_MQ_SUCCESS;
}

/* Send worker a message (a header, then data): it waits for it. */
void
MmScanParallelSendTo(MmScanPar *p, int worker, const void *head, Size headlen,
					 const void *data, Size len)
{
	if (!MmScanSendv(p->in[worker], head, headlen, data, len))
		MmScanParallelFailed(p, worker);
}

/*
 * End the parallel part of a read, once every worker has sent all it
 * owed: the backend's share of the scan (s, when given) is ended first.
 */
void
MmScanParallelEnd(MmScanPar *p, MmScan *s)
{
	if (s != NULL && s->scan != NULL)
	{
		table_endscan(s->scan);
		s->scan = NULL;
	}
	if (s != NULL)
	{
		/* in the segment about to go */
		s->shared = NULL;
		s->alloc = NULL;
		s->work = NULL;
		s->paging = false;
	}
	WaitForParallelWorkersToFinish(p->pcxt);
	DestroyParallelContext(p->pcxt);
	ExitParallelMode();
	pfree(p->mq);
	pfree(p->in);
	pfree(p->done);
	pfree(p);
}

/* A worker: the backend's next message (it waits for it). */
void
MmScanParallelAwait(shm_mq_handle *in, void **data, Size *len)
{
	if (shm_mq_receive(in, len, data, false) != SHM_MQ_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("the backend of the parallel direct read stopped")));
}

/* A worker: send a message to the backend. */
void
MmScanParallelSend(shm_mq_handle *mq, const void *head, Size headlen,
				   const void *data, Size len)
{
	if (!MmScanSendv(mq, head, headlen, data, len))
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("the backend of the parallel direct read stopped reading")));
}

/* A worker's entry point (CreateParallelContext names it). */
PGDLLEXPORT void mm_scan_worker_main(dsm_segment *seg, shm_toc *toc);

void
mm_scan_worker_main(dsm_segment *seg, shm_toc *toc)
{
	MmParShared *sh = shm_toc_lookup(toc, MM_PAR_KEY_SHARED, false);
	void	   *args = shm_toc_lookup(toc, MM_PAR_KEY_ARGS, false);
	ParallelTableScanDesc pscan = shm_toc_lookup(toc, MM_PAR_KEY_PSCAN, false);
	char	   *queues = shm_toc_lookup(toc, MM_PAR_KEY_QUEUES, false);
	char	   *at = queues + (Size) ParallelWorkerNumber * MM_PAR_QUEUES_SIZE;
	shm_mq	   *mq = (shm_mq *) at;
	shm_mq	   *in = (shm_mq *) (at + MM_PAR_QUEUE_SIZE);
	shm_mq_handle *mqh;
	shm_mq_handle *inh;
	MmScan		s;
	char	  **names;

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	shm_mq_set_receiver(in, MyProc);
	inh = shm_mq_attach(in, seg, NULL);

	memset(&s, 0, sizeof(s));
	s.n = sh->n;
	s.attnum = palloc0(sizeof(AttrNumber) * s.n);
	s.conv = palloc0(sizeof(int) * s.n);
	s.off = palloc0(sizeof(int) * s.n);
	s.len = palloc0(sizeof(int) * s.n);
	memcpy(s.attnum, sh->attnum, sizeof(AttrNumber) * s.n);
	memcpy(s.conv, sh->conv, sizeof(int) * s.n);
	MmScanLayout(&s, table_open(sh->relid, AccessShareLock));
	s.scan = table_beginscan_parallel(s.rel, pscan);
	s.shared = shm_toc_lookup(toc, MM_PAR_KEY_RESCAN, false);

	/* the columns' names, for the errors: the source's names are the table's */
	names = palloc0(sizeof(char *) * s.n);
	for (int i = 0; i < s.n; i++)
		names[i] = s.attnum[i] > 0 ?
			pstrdup(NameStr(TupleDescAttr(RelationGetDescr(s.rel), s.attnum[i] - 1)->attname)) :
			pstrdup("?");

	switch (sh->kind)
	{
		case MM_PAR_LINEAR_STATS:
			MmLinStatsWorker(&s, names, args, mqh, inh);
			break;
		case MM_PAR_DATASET:
			MmDataParWorker(&s, names, args, mqh, inh);
			break;
		default:
			elog(ERROR, "unknown kind %d of parallel direct read", sh->kind);
	}
	MmScanEnd(&s);
	shm_mq_detach(mqh);
	shm_mq_detach(inh);
}
