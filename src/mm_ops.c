/*
 * mm_ops.c
 *	  Retraining: mm_retrain, and the check behind mm_schedule.
 *
 * A retrain is an mm_train with the configuration of the model's latest
 * version: algorithm, features, target, params (seed included), held-out
 * share, and its source unless another is given.  The configuration is
 * read in the catalog window after the train privilege is checked; the
 * train itself runs as the caller through SPI, so mm_train applies every
 * check, reads the source with the caller's rights and writes the audit
 * log as for any train.
 */
#include "massmodel.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(mm_retrain);
PG_FUNCTION_INFO_V1(mm_retrain_check);

/* what mm_retrain repeats: the latest version's configuration */
typedef struct MmTrainConfig
{
	int32		version;
	char	   *algorithm;
	Datum		params;			/* jsonb */
	Datum		features;		/* text[] */
	char	   *target;			/* NULL: none */
	char	   *source;			/* NULL: none stored */
	double		test_fraction;
} MmTrainConfig;

/*
 * The latest version's configuration of a model the caller may train;
 * source (may be NULL) overrides the stored one.  Errors when there is
 * nothing to retrain.
 */
static void
MmLatestConfig(const char *model, const char *source, MmTrainConfig *cfg)
{
	MmCatalogCtx cat;
	MmModelRow	row;
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *trained_by;
	char	   *caller;

	MmCheckModelName(model);
	MmCatalogBegin(&cat);
	MmGetModel(model, &row, false);
	MmCheckPrivilege(model, &row, MM_PRIV_TRAIN, cat.save_userid);
	if (row.latest_version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" has no version to retrain", model),
				 errhint("Train it with mm_train first.")));
	values[0] = Int64GetDatum(row.id);
	values[1] = Int32GetDatum(row.latest_version);
	if (SPI_execute_with_args("SELECT v.algorithm, v.params, "
							  "ARRAY(SELECT f->>'name' FROM jsonb_array_elements(v.features) f), "
							  "v.target, v.source, v.test_fraction, v.trained_by "
							  "FROM mm.versions v WHERE v.model_id = $1 AND v.version = $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "version %d of model \"%s\" is missing", row.latest_version, model);
	/* copied to the caller's context: SPI's goes with the window */
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	cfg->version = row.latest_version;
	cfg->algorithm = MmSpiGetText(0, 1);
	cfg->params = SPI_datumTransfer(SPI_getbinval(tup, desc, 2, &isnull), false, -1);
	cfg->features = SPI_datumTransfer(SPI_getbinval(tup, desc, 3, &isnull), false, -1);
	cfg->target = MmSpiGetText(0, 4);
	cfg->source = MmSpiGetText(0, 5);
	cfg->test_fraction = DatumGetFloat8(SPI_getbinval(tup, desc, 6, &isnull));
	if (isnull)
		cfg->test_fraction = 0.2;
	trained_by = MmSpiGetText(0, 7);
	caller = GetUserNameFromId(cat.save_userid, false);
	MmCatalogEnd(&cat);

	if (strcmp(cfg->algorithm, "ensemble") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("version %d of model \"%s\" is an ensemble, which is assembled, not trained",
						cfg->version, model),
				 errhint("Call mm_ensemble again to take newer versions of its members.")));
	if (source != NULL)
		cfg->source = pstrdup(source);
	else if (cfg->source != NULL && strcmp(cfg->source, "mm_import") != 0 &&
			 strcmp(trained_by, caller) != 0)
		/*
		 * A stored source is a relation name or a query that another role
		 * wrote; run as the caller it could act with the caller's rights.
		 */
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("version %d of model \"%s\" was trained by role \"%s\", whose source mm_retrain does not run for role \"%s\"",
						cfg->version, model, trained_by, caller),
				 errdetail("A stored source runs with the rights of whoever retrains; only the role that trained the version reuses it."),
				 errhint("Name the source: mm_retrain(%s, 'schema.table').", MmQuoteLiteral(model))));
	else if (cfg->source == NULL || strcmp(cfg->source, "mm_import") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version %d of model \"%s\" has no source to retrain on", cfg->version, model),
				 errdetail("It was imported, not trained here."),
				 errhint("Name one: mm_retrain(%s, 'schema.table').", MmQuoteLiteral(model))));
}

/*
 * mm_retrain(model, source, deploy): a new version trained as the latest
 * one was, on source or the latest version's source.
 */
Datum
mm_retrain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *model;
	char	   *deploy;
	MmTrainConfig cfg;
	char	   *extschema;
	Oid			argtypes[8] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, JSONBOID,
	FLOAT8OID, TEXTOID};
	Datum		values[8];
	char		nulls[9] = "        ";
	Datum		out[4];
	bool		outnulls[4] = {false, false, false, false};
	HeapTuple	tup;
	TupleDesc	desc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deploy must not be NULL"),
				 errhint("Use 'always', 'never' or 'if_better'.")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	deploy = text_to_cstring(PG_GETARG_TEXT_PP(2));
	MmLatestConfig(model, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), &cfg);

	/* the train, as the caller */
	extschema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
	values[0] = CStringGetTextDatum(model);
	values[1] = CStringGetTextDatum(cfg.algorithm);
	values[2] = CStringGetTextDatum(cfg.source);
	values[3] = cfg.target ? CStringGetTextDatum(cfg.target) : (Datum) 0;
	nulls[3] = cfg.target ? ' ' : 'n';
	values[4] = cfg.features;
	values[5] = cfg.params;
	values[6] = Float8GetDatum(cfg.test_fraction);
	values[7] = CStringGetTextDatum(deploy);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("SELECT * FROM %s.mm_train($1, $2, $3, $4, $5, $6, $7, $8)",
									   quote_identifier(extschema)),
							  8, argtypes, values, nulls, false, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "retraining model \"%s\" returned no row", model);
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	for (int i = 0; i < 4; i++)
	{
		out[i] = SPI_getbinval(tup, desc, i + 1, &outnulls[i]);
		if (!outnulls[i])
			out[i] = SPI_datumTransfer(out[i], TupleDescAttr(desc, i)->attbyval,
									   TupleDescAttr(desc, i)->attlen);
	}
	SPI_finish();

	InitMaterializedSRF(fcinfo, 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
	return (Datum) 0;
}

/*
 * mm_retrain_check(model, source): what mm_schedule checks before it
 * schedules (the model exists, the caller may train it, its latest
 * version can be retrained on source or on its own), and the source the
 * retrain would read, which mm_schedule writes into the job.
 */
Datum
mm_retrain_check(PG_FUNCTION_ARGS)
{
	MmTrainConfig cfg;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	MmLatestConfig(text_to_cstring(PG_GETARG_TEXT_PP(0)),
				   PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), &cfg);
	PG_RETURN_TEXT_P(cstring_to_text(cfg.source));
}
