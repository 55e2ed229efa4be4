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

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "storage/bufmgr.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
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
 * Set up a direct read of the source's columns: target (NULL: none, read
 * as 0) as label_type says (MM_LABEL_NONE: float8), then cols as float8.
 * False, with nothing opened, when the source does not allow one.
 */
bool
MmScanBegin(MmScan *s, const MmSource *src, const MmSourceCol *target,
			int label_type, const MmSourceCol *cols, int ncols)
{
	Relation	rel;
	TupleDesc	desc;
	Oid			relid = src->relid;
	int			n = ncols + 1;
	Oid			user = GetUserId();
	bool		table_ok;
	char		relkind;
	int			maxatt = 0;
	int			off = 0;

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
		maxatt = Max(maxatt, s->attnum[i]);
	}

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_tableam != GetHeapamTableAmRoutine() ||
		(rel->rd_rel->relkind == RELKIND_MATVIEW && !RelationIsPopulated(rel)))
	{
		table_close(rel, AccessShareLock);
		return false;
	}
	desc = RelationGetDescr(rel);

	/*
	 * Offsets of the attributes in a tuple without NULLs: fixed while every
	 * attribute up to the last one read has a fixed length.
	 */
	s->fixed = true;
	for (int a = 0; a < maxatt; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attlen <= 0)
		{
			s->fixed = false;
			break;
		}
		off = att_align_nominal(off, att->attalign);
		for (int i = 0; i < n; i++)
			if (s->attnum[i] == a + 1)
			{
				s->off[i] = off;
				s->len[i] = att->attlen;
			}
		off += att->attlen;
	}
	s->maxatt = maxatt;
	s->rel = rel;
	/* as the planner estimates it: the last known density times the pages now */
	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
		s->est_rows = rel->rd_rel->reltuples / rel->rd_rel->relpages *
			RelationGetNumberOfBlocks(rel);
	s->natts = desc->natts;
	s->dvalues = palloc(sizeof(Datum) * desc->natts);
	s->dnulls = palloc(sizeof(bool) * desc->natts);
	/* from the first page, not where a concurrent scan is: the same model every time */
	s->scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, NULL, true, false);
	return true;
}

/*
 * The next visible tuple: *data points at its values when they sit at
 * the fixed offsets (no NULLs, no attribute missing), else it is NULL and
 * the tuple is deformed into dvalues/dnulls.  False at the end.
 */
static inline bool
MmScanTuple(MmScan *s, const char **data)
{
	HeapTuple	tup;
	HeapTupleHeader h;

	if ((++s->rows & 0x3FF) == 0)
		CHECK_FOR_INTERRUPTS();
	tup = heap_getnext(s->scan, ForwardScanDirection);
	if (tup == NULL)
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
	for (int i = 0; i < s->n; i++)
	{
		bool		isnull;

		/* the common case, a double precision column, copied as it is */
		if (data != NULL && s->conv[i] == MM_SCAN_F8_FROM_F8)
		{
			memcpy(&row[i], data + s->off[i], sizeof(double));
			continue;
		}
		row[i] = DatumGetFloat8(MmScanDatum(s, data, i, &isnull));
		if (isnull)
		{
			row[i] = 0.0;
			if (*null_col < 0)
				*null_col = i;
		}
	}
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
	if (s->rel != NULL)
		table_close(s->rel, AccessShareLock);
	s->scan = NULL;
	s->rel = NULL;
}
