/*
 * mm_schema.c
 *	  Sources (a relation name or a query) and the columns a model reads.
 *
 * A source is described once through SPI as the calling role, so its
 * privileges and row-level security apply.  Columns are classified into
 * what the core understands: numeric scalars and fixed-length arrays, all
 * read as float8.
 */
#include "massmodel.h"

#include <ctype.h>
#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/plancache.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/varlena.h"
#include "catalog/pg_type_d.h"

/* Does the source text start with a query keyword? */
static bool
MmSourceIsQuery(const char *s)
{
	static const char *const keywords[] = {"select", "with", "values", "table"};

	while (*s && (isspace((unsigned char) *s) || *s == '('))
		s++;
	for (int i = 0; i < lengthof(keywords); i++)
	{
		size_t		len = strlen(keywords[i]);

		if (pg_strncasecmp(s, keywords[i], len) == 0 &&
			(s[len] == '\0' || isspace((unsigned char) s[len]) || s[len] == '('))
			return true;
	}
	return false;
}

/*
 * Resolve a source to a FROM item and describe its columns, as the calling
 * role.  Errors: a relation that does not exist, a query that does not
 * parse, no privilege to read.
 */
void
MmOpenSource(const char *source, MmSource *src)
{
	StringInfoData sql;
	int			ret;
	MemoryContext caller_cxt;
	MemoryContext old;

	if (source == NULL || source[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must not be empty"),
				 errhint("Name a table or view, or give a query starting with SELECT, WITH, VALUES or TABLE.")));
	src->text = pstrdup(source);
	src->relid = InvalidOid;
	if (MmSourceIsQuery(source))
	{
		char	   *q = pstrdup(source);
		size_t		len = strlen(q);

		List	   *stmts;
		SPIPlanPtr	plan;

		/* a trailing semicolon is harmless in psql, not inside a subquery */
		while (len > 0 && (isspace((unsigned char) q[len - 1]) || q[len - 1] == ';'))
			q[--len] = '\0';

		/*
		 * The text must be one query on its own: then wrapping it in
		 * parentheses makes exactly one subquery of it, whatever it holds.
		 * SPI parses it (syntax errors point into the source) and plans
		 * nothing yet.
		 */
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = SPI_prepare(q, 0, NULL);
		if (plan == NULL)
			elog(ERROR, "parsing the source failed: %s", SPI_result_code_string(SPI_result));
		stmts = SPI_plan_get_plan_sources(plan);
		if (list_length(stmts) != 1 ||
			!IsA(((CachedPlanSource *) linitial(stmts))->raw_parse_tree->stmt, SelectStmt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("source must be a single query"),
					 errdetail("The source holds %d statements.", list_length(stmts)),
					 errhint("Give one SELECT, WITH, VALUES or TABLE query, or a table or view name.")));
		if (((SelectStmt *) ((CachedPlanSource *) linitial(stmts))->raw_parse_tree->stmt)->lockingClause != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("source \"%s\" locks rows (FOR UPDATE or FOR SHARE)", source),
					 errhint("A source is only read: remove the locking clause.")));
		SPI_finish();
		src->from_sql = psprintf("(%s\n) AS mm_source", q);
	}
	else
	{
		char	   *raw = pstrdup(source);
		List	   *parts;
		List	   *names;
		RangeVar   *rv;
		Oid			relid;

		/* checked first: the name parser's own error would not name the source */
		if (!SplitIdentifierString(raw, '.', &parts) || parts == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("source \"%s\" is neither a table or view name nor a query", source),
					 errhint("Name a table or view (quoted as in SQL), or give one query starting with SELECT, WITH, VALUES or TABLE.")));
		names = stringToQualifiedNameList(source);
		rv = makeRangeVarFromNameList(names);
		relid = RangeVarGetRelid(rv, AccessShareLock, true);

		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", source),
					 errhint("The source is a table or view name, or a query starting with SELECT, WITH, VALUES or TABLE.")));
		src->relid = relid;
		src->from_sql = psprintf("%s AS mm_source",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
															get_rel_name(relid)));
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM %s LIMIT 0", src->from_sql);
	caller_cxt = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql.data, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source \"%s\" is not a query that returns rows", source)));
	/* copy the descriptor to the caller's context before SPI_finish */
	old = MemoryContextSwitchTo(caller_cxt);
	src->tupdesc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/* Attribute number (1-based) of a column of the source, or 0. */
int
MmFindColumn(const MmSource *src, const char *name)
{
	for (int i = 0; i < src->tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(src->tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	return 0;
}

/*
 * Classify a column of the source as a target or a feature, or raise a
 * clear error naming it and its type.
 */
void
MmClassifyColumn(const MmSource *src, int attno, bool is_target,
				 MmSourceCol *col)
{
	Form_pg_attribute att = TupleDescAttr(src->tupdesc, attno - 1);
	Oid			typid = getBaseType(att->atttypid);

	col->name = pstrdup(NameStr(att->attname));
	col->typid = typid;
	col->width = 1;
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			col->kind = MM_COL_FLOAT8;
			return;
		case BOOLOID:
			if (!is_target)
			{
				col->kind = MM_COL_BOOL;
				return;
			}
			break;
		case FLOAT4ARRAYOID:
		case FLOAT8ARRAYOID:
			if (!is_target)
			{
				col->kind = MM_COL_ARRAY;
				col->width = 0; /* known from the data */
				return;
			}
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			if (!is_target)
			{
				col->kind = MM_COL_TEXT;
				return;
			}
			break;
		default:
			if (!is_target && get_typtype(typid) == TYPTYPE_ENUM)
			{
				col->kind = MM_COL_TEXT;
				return;
			}
			break;
	}
	if (is_target)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("target column \"%s\" has type %s, but a regression target must be numeric",
						col->name, format_type_be(att->atttypid)),
				 errhint("Use a smallint, integer, bigint, real, double precision or numeric column, or cast it in a query source.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" has type %s, which cannot be used as a feature",
					col->name, format_type_be(att->atttypid)),
			 errhint("Features are numeric, boolean, text, enum, real[] or double precision[] columns; cast the column in a query source or leave it out of features.")));
}

/* The SQL expression that reads a classified column as float8 or float8[]. */
char *
MmColumnExpr(const MmSourceCol *col)
{
	const char *q = quote_identifier(col->name);

	switch (col->kind)
	{
		case MM_COL_TEXT:
			return psprintf("%s::pg_catalog.text", q);
		case MM_COL_FLOAT8:
			return psprintf("%s::pg_catalog.float8", q);
		case MM_COL_BOOL:
			return psprintf("%s::pg_catalog.int4::pg_catalog.float8", q);
		case MM_COL_ARRAY:
			return psprintf("%s::pg_catalog.float8[]", q);
	}
	return NULL;				/* not reached */
}

/* Display name of encoded column col of a model: "x" or "emb[3]". */
char *
MmFeatureColumnName(const MmModel *m, uint32 col)
{
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		if (col < f->width)
		{
			if (f->kind == MM_FEAT_ARRAY)
				return psprintf("%s[%u]", f->name, col + 1);
			if (f->kind == MM_FEAT_CATEGORICAL)
				return psprintf("%s=%s", f->name, f->levels[col]);
			return pstrdup(f->name);
		}
		col -= f->width;
	}
	return pstrdup("?");
}

/*
 * Read a one-dimensional float8[] or float4[] without NULLs into out,
 * checking every element for finiteness.  width is the number of
 * elements expected (an error otherwise), or 0 for "any", in which case
 * out must hold MM_MAX_WIDTH values.  Returns the number read.  what
 * names the array in messages ("column \"emb\"" or "the input array").
 */
uint32
MmReadArray(ArrayType *arr, uint32 width, double *out, const char *what)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d dimensions, but must be one-dimensional", what, ARR_NDIM(arr))));
	n = ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
	if (width != 0 && (uint32) n != width)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d elements instead of %u", what, n, width),
				 errhint("An array feature has the same length in every row, in training and in prediction.")));
	if (n == 0 || n > MM_MAX_WIDTH)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d elements, but must have 1 to %d", what, n, MM_MAX_WIDTH)));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s contains a NULL element", what),
				 errhint("Replace NULL elements before training or predicting.")));
	if (elemtype == FLOAT8OID)
		memcpy(out, ARR_DATA_PTR(arr), sizeof(double) * n);
	else if (elemtype == FLOAT4OID)
	{
		const float *f = (const float *) ARR_DATA_PTR(arr);

		for (int i = 0; i < n; i++)
			out[i] = f[i];
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s has type %s, but must be real[] or double precision[]",
						what, format_type_be(get_array_type(elemtype)))));
	for (int i = 0; i < n; i++)
		if (!isfinite(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s contains %s at position %d", what,
							isnan(out[i]) ? "NaN" : (out[i] > 0 ? "Infinity" : "-Infinity"), i + 1),
					 errhint("Models are trained and applied on finite values only.")));
	return (uint32) n;
}

/* Raise the error for a non-finite value of a named column. */
void
MmReportNonFinite(const char *column, double v)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" contains %s", column,
					isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
			 errhint("Models are trained and applied on finite values only; filter such rows in a query source.")));
}

/*
 * Classify the target column: for a regression a number (label type
 * MM_LABEL_NONE is returned), for a classifier text, enum, boolean or an
 * integer (the label type is returned).
 */
int
MmClassifyTarget(const MmSource *src, int attno, bool classification,
				 MmSourceCol *col)
{
	Form_pg_attribute att = TupleDescAttr(src->tupdesc, attno - 1);
	Oid			typid = getBaseType(att->atttypid);

	if (!classification)
	{
		MmClassifyColumn(src, attno, true, col);
		return MM_LABEL_NONE;
	}
	col->name = pstrdup(NameStr(att->attname));
	col->typid = typid;
	col->width = 1;
	col->kind = MM_COL_TEXT;
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			return MM_LABEL_TEXT;
		case BOOLOID:
			return MM_LABEL_BOOL;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return MM_LABEL_INT;
		default:
			if (get_typtype(typid) == TYPTYPE_ENUM)
				return MM_LABEL_TEXT;
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("target column \"%s\" has type %s, but a classifier's target must be text, enum, boolean or an integer",
					col->name, format_type_be(att->atttypid)),
			 errhint("Cast it in a query source, or use a regression algorithm.")));
	return MM_LABEL_NONE;		/* not reached */
}

/*
 * As MmReadArray, but a NULL element is stored as NaN when nulls_ok (the
 * model imputes it) instead of being an error.
 */
void
MmReadArrayNulls(ArrayType *arr, uint32 width, double *out, const char *what,
				 bool nulls_ok)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (!(ARR_HASNULL(arr) && array_contains_nulls(arr)))
	{
		MmReadArray(arr, width, out, what);
		return;
	}
	if (!nulls_ok)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s contains a NULL element", what),
				 errhint("Set params.impute, or replace NULL elements before training or predicting.")));
	if (ARR_NDIM(arr) != 1 || (uint32) ARR_DIMS(arr)[0] != width)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d elements instead of %u", what,
						ARR_NDIM(arr) == 1 ? ARR_DIMS(arr)[0] : 0, width),
				 errhint("An array feature has the same length in every row, in training and in prediction.")));
	if (ARR_ELEMTYPE(arr) == FLOAT8OID)
		deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	else
		deconstruct_array(arr, FLOAT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		out[i] = nulls[i] ? NAN :
			ARR_ELEMTYPE(arr) == FLOAT8OID ? DatumGetFloat8(elems[i]) : DatumGetFloat4(elems[i]);
		if (!nulls[i] && !isfinite(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s contains %s at position %d", what,
							isnan(out[i]) ? "NaN" : (out[i] > 0 ? "Infinity" : "-Infinity"), i + 1),
					 errhint("Models are trained and applied on finite values only.")));
	}
}
