/*
 * mm_catalog.c
 *	  Access to the catalog tables in schema mm.
 *
 * The tables are closed to ordinary roles.  Every function that touches
 * them first checks the caller's privilege on the model, then runs its
 * catalog SQL between MmCatalogBegin() and MmCatalogEnd(): as the owner of
 * schema mm (the extension owner), with a safe search_path, through SPI.
 * User queries never run in that window.
 */
#include "massmodel.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_namespace.h"

/* The owner of schema mm: the role catalog SQL runs as. */
static Oid
MmCatalogOwner(void)
{
	Oid			nspid = get_namespace_oid(MM_CATALOG_SCHEMA, true);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"%s\" of extension \"%s\" does not exist",
						MM_CATALOG_SCHEMA, MM_EXTENSION_NAME),
				 errhint("Run CREATE EXTENSION massmodel in this database.")));
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Enter the catalog window: become the extension owner, pin search_path,
 * connect to SPI.
 */
void
MmCatalogBegin(MmCatalogCtx *ctx)
{
	Oid			owner = MmCatalogOwner();

	/*
	 * Only massmodel's own parameterised SQL runs in the window; a
	 * restricted operation also refuses anything that would change session
	 * state (SET ROLE, temporary objects) should that ever change.
	 */
	GetUserIdAndSecContext(&ctx->save_userid, &ctx->save_sec_context);
	SetUserIdAndSecContext(owner,
						   ctx->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	ctx->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Leave the catalog window. */
void
MmCatalogEnd(MmCatalogCtx *ctx)
{
	SPI_finish();
	AtEOXact_GUC(false, ctx->guc_level);
	SetUserIdAndSecContext(ctx->save_userid, ctx->save_sec_context);
}

/*
 * A jsonb datum of the current SPI result, detoasted and copied to the
 * upper context (a compressed value would otherwise be expanded into
 * SPI's memory, which goes with the catalog window).
 */
Jsonb *
MmSpiJsonbCopy(Datum d)
{
	struct varlena *plain = pg_detoast_datum((struct varlena *) DatumGetPointer(d));

	return (Jsonb *) DatumGetPointer(SPI_datumTransfer(PointerGetDatum(plain), false, -1));
}

/* A text value of the current SPI result, copied to the upper context. */
char *
MmSpiGetText(int row, int col)
{
	char	   *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = SPI_palloc(strlen(s) + 1);
	strcpy(copy, s);
	return copy;
}

/* Model names: non-empty, at most 63 bytes, like an identifier. */
void
MmCheckModelName(const char *name)
{
	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("model name must not be empty")));
	if (strlen(name) > MM_MAX_MODEL_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name \"%s\" is too long", name),
				 errdetail("Model names have at most %d bytes.", MM_MAX_MODEL_NAME)));
}

/*
 * Run one of the catalog's fixed read queries through a plan prepared once
 * per backend (SPI_keepplan; the plan cache replans it when the catalog
 * changes).  A prediction resolves its model by name and version in every
 * statement: parsing and planning those queries each time cost more than
 * the rest of a one-row predict.  sql must be a string literal: its
 * address is the key.  Inside SPI (the catalog window).
 */
#define MM_CATALOG_PLANS 8

static int
MmCatalogRead(const char *sql, int nargs, Oid *argtypes, Datum *values,
			  bool read_only, long count)
{
	static struct
	{
		const char *sql;
		SPIPlanPtr	plan;
	}			plans[MM_CATALOG_PLANS];
	int			i;

	for (i = 0; i < MM_CATALOG_PLANS && plans[i].sql != NULL; i++)
		if (plans[i].sql == sql)
			return SPI_execute_plan(plans[i].plan, values, NULL, read_only, count);
	if (i == MM_CATALOG_PLANS)
		elog(ERROR, "too many cached catalog queries");
	plans[i].plan = SPI_prepare(sql, nargs, argtypes);
	if (plans[i].plan == NULL)
		elog(ERROR, "preparing a catalog query failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plans[i].plan) != 0)
		elog(ERROR, "keeping a catalog query's plan failed");
	plans[i].sql = sql;
	return SPI_execute_plan(plans[i].plan, values, NULL, read_only, count);
}

/*
 * Look up a model by name; false when it does not exist.  With lock, the
 * row is locked FOR UPDATE (trains and deploys of one model serialise on
 * it).  Must run inside the catalog window.
 */
bool
MmLookupModel(const char *name, MmModelRow *row, bool lock)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			ret;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		d;

	values[0] = CStringGetTextDatum(name);
	ret = MmCatalogRead(lock ?
								"SELECT id, owner::oid, task, coalesce(deployed_version, 0), latest_version, acl, "
								"coalesce(canary_version, 0), coalesce(canary_traffic, 0) "
								"FROM mm.models WHERE name = $1 FOR UPDATE" :
								"SELECT id, owner::oid, task, coalesce(deployed_version, 0), latest_version, acl, "
								"coalesce(canary_version, 0), coalesce(canary_traffic, 0) "
								"FROM mm.models WHERE name = $1",
						1, argtypes, values, !lock, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "catalog lookup of model \"%s\" failed: %s", name,
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	row->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	row->task = MmSpiGetText(0, 3);
	d = SPI_getbinval(tup, desc, 4, &isnull);
	row->deployed_version = DatumGetInt32(d);
	row->latest_version = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
	row->canary_version = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
	row->canary_traffic = DatumGetFloat8(SPI_getbinval(tup, desc, 8, &isnull));
	d = SPI_getbinval(tup, desc, 6, &isnull);
	if (isnull)
		row->acl = NULL;
	else
	{
		/* copied out of SPI's memory, like the task */
		Acl		   *a = DatumGetAclP(d);

		row->acl = SPI_palloc(VARSIZE(a));
		memcpy(row->acl, a, VARSIZE(a));
	}
	return true;
}

/* MmLookupModel, with an error when the model does not exist. */
void
MmGetModel(const char *name, MmModelRow *row, bool lock)
{
	if (!MmLookupModel(name, row, lock))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Models are listed in the view mm_models; mm_train creates them.")));
}

/* Name of a privilege, for messages. */
static const char *
MmPrivilegeName(MmPrivilege priv)
{
	switch (priv)
	{
		case MM_PRIV_PREDICT:
			return "predict";
		case MM_PRIV_TRAIN:
			return "train";
		case MM_PRIV_DEPLOY:
			return "deploy";
		case MM_PRIV_OWNER:
			break;
	}
	return "owner";
}

/* A role's name for messages, even when the role has been dropped. */
static const char *
MmRoleName(Oid role)
{
	char	   *name = GetUserNameFromId(role, true);

	return name ? name : psprintf("%u", role);
}

/* The ACL bit that stands for a model privilege. */
AclMode
MmPrivilegeMode(MmPrivilege priv)
{
	switch (priv)
	{
		case MM_PRIV_PREDICT:
			return ACL_SELECT;
		case MM_PRIV_TRAIN:
			return ACL_INSERT;
		case MM_PRIV_DEPLOY:
			return ACL_UPDATE;
		case MM_PRIV_OWNER:
			break;
	}
	return ACL_NO_RIGHTS;
}

/*
 * Does the role hold priv on a model?  PostgreSQL's GRANT semantics: the
 * owner role (and its members) hold everything, superusers bypass, and
 * the model's ACL (granted with mm_grant, PUBLIC included) is checked
 * with aclmask.  Only the owner holds MM_PRIV_OWNER.
 */
bool
MmHasPrivilege(Oid owner, const Acl *acl, MmPrivilege priv, Oid role)
{
	if (superuser_arg(role) || has_privs_of_role(role, owner))
		return true;
	if (priv == MM_PRIV_OWNER || acl == NULL)
		return false;
	return aclmask(acl, role, owner, MmPrivilegeMode(priv), ACLMASK_ANY) != 0;
}

/*
 * Check that the calling role (the role before MmCatalogBegin) holds priv
 * on the model, or raise permission denied.
 */
void
MmCheckPrivilege(const char *name, const MmModelRow *row, MmPrivilege priv,
				 Oid caller)
{
	if (MmHasPrivilege(row->owner, row->acl, priv, caller))
		return;
	if (priv == MM_PRIV_OWNER)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for model \"%s\"", name),
				 errdetail("Only the owner role \"%s\" and its members may do this.",
						   MmRoleName(row->owner))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for model \"%s\"", name),
			 errdetail("The %s privilege on the model is needed.", MmPrivilegeName(priv)),
			 errhint("The owner role \"%s\" can grant it with mm_grant.", MmRoleName(row->owner))));
}

/*
 * The uid of a version of the model, or 0 when it does not exist.  fresh
 * reads with a new snapshot: after waiting for the model's row lock, what
 * committed meanwhile (a drop) must be seen.  Catalog window.
 */
int64
MmVersionUid(int64 model_id, int32 version, bool fresh)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		isnull;
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	ret = MmCatalogRead("SELECT uid FROM mm.versions WHERE model_id = $1 AND version = $2",
						2, argtypes, values, !fresh, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "catalog lookup of a version failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* The uid of a version, or an error when it does not exist.  Catalog window. */
int64
MmRequireVersion(int64 model_id, int32 version, const char *name, bool fresh)
{
	int64		uid = MmVersionUid(model_id, version, fresh);

	if (uid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %d of model \"%s\" does not exist", version, name),
				 errhint("The versions of a model are listed in the view mm_versions.")));
	return uid;
}

/* The blob of a version (by uid), copied to the upper context.  Catalog window. */
bytea *
MmFetchBlob(int64 uid, int32 version, const char *name)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1];
	int			ret;
	bool		isnull;
	Datum		d;
	bytea	   *blob;
	bytea	   *copy;

	values[0] = Int64GetDatum(uid);
	ret = MmCatalogRead("SELECT blob FROM mm.versions WHERE uid = $1",
						1, argtypes, values, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "catalog lookup of a version failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %d of model \"%s\" does not exist", version, name),
				 errhint("The versions of a model are listed in the view mm_versions.")));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	blob = DatumGetByteaPP(d);
	copy = SPI_palloc(VARSIZE_ANY_EXHDR(blob) + VARHDRSZ);
	SET_VARSIZE(copy, VARSIZE_ANY_EXHDR(blob) + VARHDRSZ);
	memcpy(VARDATA(copy), VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob));
	return copy;
}

/* The version a call means: the given one, or the deployed one. */
int32
MmResolveVersion(const char *name, const MmModelRow *row,
				 bool version_isnull, int32 version)
{
	if (!version_isnull)
		return version;
	if (row->deployed_version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no deployed version", name),
				 errhint("Deploy one with mm_deploy(%s, version), or name a version.", MmQuoteLiteral(name))));
	return row->deployed_version;
}

/* Append a row to the deployment history: a full deployment.  Catalog window. */
void
MmRecordDeployment(int64 model_id, int32 version, const char *kind,
				   const char *reason, Oid by)
{
	MmRecordDeploymentTraffic(model_id, version, kind, reason, 1.0, by);
}

/* Append a row to the deployment history, with the version's share.  Catalog window. */
void
MmRecordDeploymentTraffic(int64 model_id, int32 version, const char *kind,
						  const char *reason, double traffic, Oid by)
{
	Oid			argtypes[6] = {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
	Datum		values[6];
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(kind);
	values[3] = CStringGetTextDatum(reason);
	values[4] = CStringGetTextDatum(GetUserNameFromId(by, false));
	values[5] = Float8GetDatum(traffic);
	ret = SPI_execute_with_args("INSERT INTO mm.deployments (model_id, version, kind, reason, deployed_by, traffic) "
								"VALUES ($1, $2, $3, $4, $5, $6)",
								6, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "recording a deployment failed: %s", SPI_result_code_string(ret));
}

/* Point the model at a deployed version.  Catalog window. */
void
MmSetDeployed(int64 model_id, int32 version)
{
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	/* a full deployment ends any canary */
	ret = SPI_execute_with_args("UPDATE mm.models SET deployed_version = $2, canary_version = NULL, "
								"canary_traffic = NULL, updated_at = now() WHERE id = $1",
								2, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "updating the deployed version failed: %s", SPI_result_code_string(ret));
}

/* Start (version > 0) or end (0) a canary.  Catalog window. */
void
MmSetCanary(int64 model_id, int32 version, double traffic)
{
	Oid			argtypes[3] = {INT8OID, INT4OID, FLOAT8OID};
	Datum		values[3];
	char		nulls[4] = "   ";
	int			ret;

	values[0] = Int64GetDatum(model_id);
	values[1] = Int32GetDatum(version);
	values[2] = Float8GetDatum(traffic);
	if (version <= 0)
		nulls[1] = nulls[2] = 'n';
	ret = SPI_execute_with_args("UPDATE mm.models SET canary_version = $2, canary_traffic = $3, "
								"updated_at = now() WHERE id = $1",
								3, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "updating the canary failed: %s", SPI_result_code_string(ret));
}

/*
 * Append to the audit log: who did what to which model and version.  The
 * log keeps the model's name and owner, so it outlives a dropped model.
 * Catalog window.
 */
void
MmAudit(const char *action, const char *model, int64 model_id, Oid owner,
		int32 version, const char *detail, Oid by)
{
	Oid			argtypes[7] = {TEXTOID, TEXTOID, INT8OID, OIDOID, INT4OID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(action);
	values[1] = CStringGetTextDatum(model);
	values[2] = Int64GetDatum(model_id);
	values[3] = ObjectIdGetDatum(owner);
	values[4] = Int32GetDatum(version);
	if (version <= 0)
		nulls[4] = 'n';
	values[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	if (detail == NULL)
		nulls[5] = 'n';
	values[6] = CStringGetTextDatum(MmRoleName(by));
	if (SPI_execute_with_args("INSERT INTO mm.audit (action, model, model_id, model_owner, version, detail, role) "
							  "VALUES ($1, $2, $3, $4::regrole, $5, $6::jsonb, $7::name)",
							  7, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "appending to the audit log failed");
}
