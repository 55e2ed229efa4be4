/*
 * mm_evaluate.c
 *	  Scoring a model on the rows of a source: mm_evaluate, and the second
 *	  pass of mm_train when held-out rows did not fit in memory.
 *
 * The source is read as the caller through a cursor in batches, so memory
 * stays constant however many rows there are; columns are mapped to the
 * model's features by name.
 */
#include "massmodel.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(mm_evaluate);

#define MM_FETCH_ROWS 1000

/* Metrics as jsonb; on ("heldout"/"train") is added when not NULL. */
Jsonb *
MmRegressionMetricsJsonb(const MmRegResult *r, const char *on)
{
	StringInfoData s;
	const char *keys[] = {"n", "mse", "rmse", "mae", "r2", "explained_variance"};
	double		vals[] = {r->n, r->mse, r->rmse, r->mae, r->r2, r->explained_variance};

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < lengthof(keys); i++)
	{
		appendStringInfo(&s, "%s\"%s\": ", i > 0 ? ", " : "", keys[i]);
		MmAppendJsonNumber(&s, vals[i]);
	}
	if (on)
		appendStringInfo(&s, ", \"evaluated_on\": \"%s\"", on);
	appendStringInfoChar(&s, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/*
 * Predict every row of the source (or only its held-out rows) and
 * accumulate regression metrics.  Runs as the caller.
 */
void
MmRegressionOverSource(const MmModel *m, const char *model_name,
					   MmSource *src, MmRowFilter filter,
					   uint64 seed, double test_fraction,
					   MmRegMetrics *metrics)
{
	StringInfoData sql;
	int			attno;
	MmSourceCol col;
	MmSourceCol *cols = palloc(sizeof(MmSourceCol) * m->nfeatures);
	double	   *row = palloc(sizeof(double) * (m->ncols + 1));
	SPIPlanPtr	plan;
	Portal		portal;

	attno = MmFindColumn(src, m->target);
	if (attno == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("source \"%s\" has no column \"%s\", the target of model \"%s\"",
						src->text, m->target, model_name),
				 errhint("Scoring compares predictions with the true values in a column named like the target.")));
	MmClassifyColumn(src, attno, true, &col);
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s", MmColumnExpr(&col));
	for (uint32 i = 0; i < m->nfeatures; i++)
	{
		const MmFeature *f = &m->features[i];

		attno = MmFindColumn(src, f->name);
		if (attno == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("source \"%s\" has no column \"%s\", a feature of model \"%s\"",
							src->text, f->name, model_name)));
		MmClassifyColumn(src, attno, false, &cols[i]);
		if ((f->kind == MM_FEAT_ARRAY) != (cols[i].kind == MM_COL_ARRAY))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of source \"%s\" does not match feature \"%s\" of model \"%s\"",
							f->name, src->text, f->name, model_name),
					 errdetail("The model was trained on %s.",
							   f->kind == MM_FEAT_ARRAY ? "an array column" : "a scalar column")));
		appendStringInfo(&sql, ", %s", MmColumnExpr(&cols[i]));
	}
	appendStringInfo(&sql, " FROM %s", src->from_sql);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "preparing the scoring query failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, MM_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			uint32		pos = 1;
			Datum		d = SPI_getbinval(tup, desc, 1, &isnull);

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("target column \"%s\" contains NULL", m->target),
						 errhint("Filter rows with a NULL target out in a query source.")));
			row[0] = DatumGetFloat8(d);
			if (!isfinite(row[0]))
				MmReportNonFinite(m->target, row[0]);
			for (uint32 i = 0; i < m->nfeatures; i++)
			{
				d = SPI_getbinval(tup, desc, i + 2, &isnull);
				if (isnull)
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("column \"%s\" contains NULL", m->features[i].name),
							 errhint("Filter NULLs out in a query source, or replace them with coalesce().")));
				if (m->features[i].kind == MM_FEAT_ARRAY)
				{
					char		what[NAMEDATALEN + 16];
					ArrayType  *arr = DatumGetArrayTypeP(d);

					snprintf(what, sizeof(what), "column \"%s\"", m->features[i].name);
					pos += MmReadArray(arr, m->features[i].width, row + pos, what);
					/* a detoasted copy would live until SPI_finish: free it */
					if ((Pointer) arr != DatumGetPointer(d))
						pfree(arr);
				}
				else
				{
					row[pos] = DatumGetFloat8(d);
					if (!isfinite(row[pos]))
						MmReportNonFinite(m->features[i].name, row[pos]);
					pos++;
				}
			}
			if (filter == MM_ROWS_HELDOUT &&
				!(mm_split_u(seed, row, m->ncols + 1) < test_fraction))
				continue;
			mm_regmetrics_add(metrics, row[0], mm_linear_predict(m, row + 1));
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
}

/* mm_evaluate(model text, source text, version int, record boolean) */
Datum
mm_evaluate(PG_FUNCTION_ARGS)
{
	char	   *model;
	char	   *source;
	const MmModel *m;
	int64		model_id;
	int32		version;
	MmSource	src;
	MmRegMetrics met;
	MmRegResult res;
	Jsonb	   *metrics;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "model" : "source")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	m = MmLoadModel(model, PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2),
					&model_id, &version);

	MmOpenSource(source, &src);
	mm_regmetrics_init(&met);
	MmRegressionOverSource(m, model, &src, MM_ROWS_ALL, 0, 0, &met);
	if (!mm_regmetrics_result(&met, &res))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("source \"%s\" has no rows to evaluate model \"%s\" on", source, model)));
	metrics = MmRegressionMetricsJsonb(&res, NULL);

	if (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3))
	{
		MmCatalogCtx cat;
		Oid			argtypes[5] = {INT8OID, INT4OID, TEXTOID, JSONBOID, TEXTOID};
		Datum		values[5];

		MmCatalogBegin(&cat);
		values[0] = Int64GetDatum(model_id);
		values[1] = Int32GetDatum(version);
		values[2] = CStringGetTextDatum(source);
		values[3] = JsonbPGetDatum(metrics);
		values[4] = CStringGetTextDatum(GetUserNameFromId(cat.save_userid, false));
		if (SPI_execute_with_args("INSERT INTO mm.evaluations (model_id, version, source, metrics, evaluated_by) "
								  "VALUES ($1, $2, $3, $4, $5::name)",
								  5, argtypes, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "recording the evaluation failed");
		MmCatalogEnd(&cat);
	}
	PG_RETURN_JSONB_P(metrics);
}
