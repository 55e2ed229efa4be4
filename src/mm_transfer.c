/*
 * mm_transfer.c
 *	  mm_export and mm_import: a model version as a portable bytea.
 *
 * The export format wraps the model blob (src/core: model, feature
 * schema, preprocessing, checksummed) with the version's metadata as
 * JSON, all little-endian:
 *
 *	 offset size
 *	 0		4	 magic "MMEX"
 *	 4		2	 format version (1)
 *	 6		2	 reserved, zero
 *	 8		4	 metadata length M (at most 1 MB)
 *	 12		4	 model blob length B
 *	 16		4	 CRC-32C of the M + B bytes that follow
 *	 20		M	 metadata: a JSON object (algorithm, params, metrics, target,
 *				 n_train, trained_at, trained_by and the exported version)
 *	 20+M	B	 the model blob
 *
 * mm_import checks every length against the bytes it got, the checksum,
 * the metadata (valid JSON text, objects where objects belong, a sane
 * n_train) and the model blob with the same reader the catalog uses,
 * before anything is stored; the new version belongs to the importing role's model.
 */
#include "massmodel.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(mm_export);
PG_FUNCTION_INFO_V1(mm_import);

#define MMEX_MAGIC			"MMEX"
#define MMEX_VERSION		1
#define MMEX_HEADER_SIZE	20
#define MMEX_MAX_METADATA	(1024 * 1024)

/* Little-endian helpers. */
static void
MmPutU32(uint8 *p, uint32 v)
{
	p[0] = v & 0xFF;
	p[1] = (v >> 8) & 0xFF;
	p[2] = (v >> 16) & 0xFF;
	p[3] = (v >> 24) & 0xFF;
}

static uint32
MmGetU32(const uint8 *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

/* mm_export(model text, version int): the portable bytea of a version */
Datum
mm_export(PG_FUNCTION_ARGS)
{
	char	   *model;
	MmCatalogCtx cat;
	MmModelRow	row;
	int32		version;
	int64		uid;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	char	   *meta;
	bytea	   *blob;
	bytea	   *out;
	size_t		mlen;
	size_t		blen;
	uint8	   *p;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MmCheckModelName(model);

	MmCatalogBegin(&cat);
	MmGetModel(model, &row, false);
	MmCheckPrivilege(model, &row, MM_PRIV_PREDICT, cat.save_userid);
	version = MmResolveVersion(model, &row, PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1));
	uid = MmRequireVersion(row.id, version, model, false);
	values[0] = Int64GetDatum(uid);
	if (SPI_execute_with_args("SELECT jsonb_build_object('format', 'massmodel export', "
							  "'algorithm', algorithm, 'params', params, 'metrics', metrics, "
							  "'target', target, 'n_train', n_train, "
							  "'trained_at', to_char(trained_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
							  "'trained_by', trained_by, 'version', version, 'profile', profile)::text "
							  "FROM mm.versions WHERE uid = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading version %d of model \"%s\" failed", version, model);
	meta = MmSpiGetText(0, 1);
	blob = MmFetchBlob(uid, version, model);
	MmAudit("export", model, row.id, row.owner, version, NULL, cat.save_userid);
	MmCatalogEnd(&cat);

	mlen = strlen(meta);
	blen = VARSIZE_ANY_EXHDR(blob);
	out = palloc(VARHDRSZ + MMEX_HEADER_SIZE + mlen + blen);
	SET_VARSIZE(out, VARHDRSZ + MMEX_HEADER_SIZE + mlen + blen);
	p = (uint8 *) VARDATA(out);
	memcpy(p, MMEX_MAGIC, 4);
	p[4] = MMEX_VERSION;
	p[5] = 0;
	p[6] = p[7] = 0;
	MmPutU32(p + 8, (uint32) mlen);
	MmPutU32(p + 12, (uint32) blen);
	memcpy(p + MMEX_HEADER_SIZE, meta, mlen);
	memcpy(p + MMEX_HEADER_SIZE + mlen, VARDATA_ANY(blob), blen);
	MmPutU32(p + 16, mm_crc32c(p + MMEX_HEADER_SIZE, mlen + blen));
	PG_RETURN_BYTEA_P(out);
}

/* Raise the error for an export that cannot be imported. */
static void
MmReportBadExport(const char *model, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the data given to import as model \"%s\" is not a valid massmodel export", model),
			 errdetail("%s", detail),
			 errhint("Import the bytes mm_export returned, unchanged.")));
}

/* A member of the metadata object, or NULL. */
static JsonbValue *
MmMetaFind(Jsonb *meta, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&meta->root, JB_FOBJECT, &k);
}

/* A member of the metadata object that must be an object (or absent). */
static Jsonb *
MmMetaObject(Jsonb *meta, const char *key, const char *model)
{
	JsonbValue *v = MmMetaFind(meta, key);

	if (v == NULL)
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		MmReportBadExport(model, psprintf("Metadata member \"%s\" is not a JSON object.", key));
	return JsonbValueToJsonb(v);
}

/* The training profile in the metadata (for mm_drift), or NULL. */
static Jsonb *
MmMetaProfile(Jsonb *meta, const char *model)
{
	JsonbValue *v = MmMetaFind(meta, "profile");

	if (v == NULL || v->type == jbvNull)
		return NULL;
	return MmMetaObject(meta, "profile", model);
}

/* A numeric member of the metadata, or def. */
static double
MmMetaNumber(Jsonb *meta, const char *key, double def)
{
	JsonbValue *v = MmMetaFind(meta, key);

	if (v == NULL || v->type != jbvNumeric)
		return def;
	return MmNumericDouble(v->val.numeric);
}

/* mm_import(model text, blob bytea): a new version from an export */
Datum
mm_import(PG_FUNCTION_ARGS)
{
	char	   *model;
	bytea	   *in;
	const uint8 *p;
	size_t		len;
	uint32		mlen;
	uint32		blen;
	uint32		crc;
	char	   *metatext;
	Jsonb	   *meta;
	MmModel    *m;
	MmErr		err;
	MmStatus	status;
	size_t		size;
	bytea	   *blob;
	int32		version;
	double		primary;
	double		n_train;
	Jsonb	   *metrics;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "model" : "blob")));
	model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MmCheckModelName(model);
	in = PG_GETARG_BYTEA_PP(1);
	p = (const uint8 *) VARDATA_ANY(in);
	len = VARSIZE_ANY_EXHDR(in);

	/* the envelope: every length against the bytes we got */
	if (len < MMEX_HEADER_SIZE)
		MmReportBadExport(model, psprintf("It has %zu bytes, fewer than the %d of the header.",
										  len, MMEX_HEADER_SIZE));
	if (memcmp(p, MMEX_MAGIC, 4) != 0)
		MmReportBadExport(model, "It does not start with the export magic \"MMEX\".");
	if (p[4] != MMEX_VERSION || p[5] != 0)
		MmReportBadExport(model, psprintf("Its format version is %u; this massmodel reads version %d.",
										  (unsigned) (p[4] | (p[5] << 8)), MMEX_VERSION));
	if (p[6] != 0 || p[7] != 0)
		MmReportBadExport(model, "Its reserved bytes are not zero.");
	mlen = MmGetU32(p + 8);
	blen = MmGetU32(p + 12);
	crc = MmGetU32(p + 16);
	if (mlen > MMEX_MAX_METADATA)
		MmReportBadExport(model, psprintf("Its metadata claim %u bytes, more than %d.", mlen, MMEX_MAX_METADATA));
	if ((uint64) MMEX_HEADER_SIZE + mlen + blen != (uint64) len)
		MmReportBadExport(model, psprintf("Its header claims %llu bytes, but it has %zu.",
										  (unsigned long long) MMEX_HEADER_SIZE + mlen + blen, len));
	if (mm_crc32c(p + MMEX_HEADER_SIZE, (size_t) mlen + blen) != crc)
		MmReportBadExport(model, "Its checksum does not match its contents.");

	/*
	 * the metadata: JSON text in the server encoding (mm_export wrote them
	 * with jsonb_build_object), an object.  The syntax is checked here so
	 * that bad metadata are refused as a bad export, not as a JSON error.
	 */
	metatext = palloc(mlen + 1);
	memcpy(metatext, p + MMEX_HEADER_SIZE, mlen);
	metatext[mlen] = '\0';
	if (strlen(metatext) != mlen || !pg_verifymbstr(metatext, mlen, true))
		MmReportBadExport(model, "Its metadata are not valid text.");
	if (pg_parse_json(makeJsonLexContextCstringLen(metatext, mlen, GetDatabaseEncoding(), true),
					  &nullSemAction) != JSON_SUCCESS)
		MmReportBadExport(model, "Its metadata are not valid JSON.");
	meta = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(metatext)));
	if (!JB_ROOT_IS_OBJECT(meta) || JB_ROOT_IS_SCALAR(meta))
		MmReportBadExport(model, "Its metadata are not a JSON object.");

	/* the model: the same reader as the catalog path */
	status = mm_blob_read(p + MMEX_HEADER_SIZE + mlen, blen, MmPallocAllocator(), &m, &err);
	if (status != MM_OK)
		MmReportBadExport(model, psprintf("Its model does not validate: %s.", err.msg));

	/* stored in the current blob format, whatever version was imported */
	size = mm_blob_size(m);
	blob = palloc(VARHDRSZ + size);
	SET_VARSIZE(blob, VARHDRSZ + size);
	status = mm_blob_write(m, (uint8_t *) VARDATA(blob), size, &err);
	if (status != MM_OK)
		MmReportCoreError(status, &err, model);

	n_train = MmMetaNumber(meta, "n_train", 0);
	if (!(n_train >= 0 && n_train <= (double) PG_INT64_MAX / 2))
		MmReportBadExport(model, psprintf("Its metadata give %g training rows.", n_train));
	metrics = MmMetaObject(meta, "metrics", model);
	primary = MmMetaNumber(metrics, m->task == MM_TASK_CLASSIFICATION ? "accuracy" :
						   m->task == MM_TASK_CLUSTERING ? "mean_inertia" : "rmse", NAN);
	if (isinf(primary))
		MmReportBadExport(model, "Its metrics give a number beyond double precision.");
	(void) MmStoreVersion(model, m->algorithm, m->task, MM_DEPLOY_POLICY_NEVER,
						  MmMetaObject(meta, "params", model), MmFeaturesJsonb(m), m->target,
						  metrics, primary, (int64) n_train, 0,
						  "mm_import", 0, blob, "import", MmMetaProfile(meta, model), &version);
	PG_RETURN_INT32(version);
}
