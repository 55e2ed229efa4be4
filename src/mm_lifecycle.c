/*
 * mm_lifecycle.c
 *	  mm_deploy, mm_rollback, mm_drop.
 *
 * Deployments form a stack: every row of kind 'deploy' in mm.deployments
 * that is not undone is an entry, the newest one being the deployed
 * version.  mm_rollback marks the newest entry undone and deploys again
 * the next one down whose version still exists, so repeated rollbacks walk
 * back through history.  Every change is appended to the history.
 *
 * Each function locks the model's row first; reads after the lock use a
 * new snapshot (SPI read_only false), so what another session committed
 * while we waited (a drop, a deploy) is seen.
 */
#include "massmodel.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"

PG_FUNCTION_INFO_V1(mm_deploy);
PG_FUNCTION_INFO_V1(mm_rollback);
PG_FUNCTION_INFO_V1(mm_drop);
PG_FUNCTION_INFO_V1(mm_grant);
PG_FUNCTION_INFO_V1(mm_revoke);
PG_FUNCTION_INFO_V1(mm_model_visible);

/* The model name argument, checked. */
static char *
MmModelArg(FunctionCallInfo fcinfo)
{
	char	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	MmCheckModelName(name);
	return name;
}

/* mm_deploy(model text, version int, traffic float8) */
Datum
mm_deploy(PG_FUNCTION_ARGS)
{
	char	   *model = MmModelArg(fcinfo);
	int32		version;
	double		traffic;
	MmCatalogCtx cat;
	MmModelRow	row;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be NULL"),
				 errhint("Name the version to deploy; mm_versions lists them.")));
	version = PG_GETARG_INT32(1);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("traffic must not be NULL"),
				 errhint("Leave it out (or give 1) for a full deployment, or a share below 1 for a canary.")));
	traffic = PG_GETARG_FLOAT8(2);
	if (!(traffic > 0.0 && traffic <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("traffic must be greater than 0 and at most 1, not %s", float8out_internal(traffic))));

	MmCatalogBegin(&cat);
	MmGetModel(model, &row, true);
	MmCheckPrivilege(model, &row, MM_PRIV_DEPLOY, cat.save_userid);
	(void) MmRequireVersion(row.id, version, model, true);
	if (traffic < 1.0)
	{
		/* a canary: this version serves a share, the deployed one the rest */
		if (row.deployed_version <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("model \"%s\" has no deployed version to run a canary beside", model),
					 errhint("Deploy a version fully first: mm_deploy(%s, version).", MmQuoteLiteral(model))));
		if (version == row.deployed_version)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version %d of model \"%s\" is the deployed version; a canary is another version",
							version, model),
					 errhint("Name the new version to try on a share of the predictions.")));
		MmSetCanary(row.id, version, traffic);
		MmRecordDeploymentTraffic(row.id, version, "canary",
								  psprintf("mm_deploy: canary beside version %d", row.deployed_version),
								  traffic, cat.save_userid);
		{
			StringInfoData detail;

			initStringInfo(&detail);
			appendStringInfoString(&detail, "{\"canary\": true, \"traffic\": ");
			MmAppendJsonNumber(&detail, traffic);
			appendStringInfo(&detail, ", \"beside\": %d}", row.deployed_version);
			MmAudit("deploy", model, row.id, row.owner, version, detail.data, cat.save_userid);
		}
	}
	else if (version == row.deployed_version && row.canary_version > 0)
	{
		/* the deployed version takes all the traffic again */
		MmSetCanary(row.id, 0, 0);
		MmRecordDeployment(row.id, version, "rollback",
						   psprintf("mm_deploy ends the canary of version %d", row.canary_version),
						   cat.save_userid);
		MmAudit("deploy", model, row.id, row.owner, version,
				psprintf("{\"ends_canary\": %d}", row.canary_version), cat.save_userid);
	}
	else if (version == row.deployed_version)
		ereport(NOTICE,
				(errmsg("version %d of model \"%s\" is already deployed", version, model)));
	else
	{
		MmSetDeployed(row.id, version);
		MmRecordDeployment(row.id, version, "deploy", "mm_deploy", cat.save_userid);
		MmAudit("deploy", model, row.id, row.owner, version, NULL, cat.save_userid);
	}
	MmCatalogEnd(&cat);
	PG_RETURN_VOID();
}

/* mm_rollback(model text): returns the version deployed again */
Datum
mm_rollback(PG_FUNCTION_ARGS)
{
	char	   *model = MmModelArg(fcinfo);
	MmCatalogCtx cat;
	MmModelRow	row;
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];
	bool		isnull;
	int64		prev_id;
	int32		prev_version;

	MmCatalogBegin(&cat);
	MmGetModel(model, &row, true);
	MmCheckPrivilege(model, &row, MM_PRIV_DEPLOY, cat.save_userid);
	if (row.canary_version > 0)
	{
		/* a canary under way: back to the full deployment it ran beside */
		MmSetCanary(row.id, 0, 0);
		MmRecordDeployment(row.id, row.deployed_version, "rollback",
						   psprintf("mm_rollback ends the canary of version %d", row.canary_version),
						   cat.save_userid);
		MmAudit("rollback", model, row.id, row.owner, row.deployed_version,
				psprintf("{\"from\": %d, \"canary\": true}", row.canary_version), cat.save_userid);
		MmCatalogEnd(&cat);
		PG_RETURN_INT32(row.deployed_version);
	}
	values[0] = Int64GetDatum(row.id);
	values[1] = Int32GetDatum(row.deployed_version);
	if (SPI_execute_with_args("SELECT d.id, d.version FROM mm.deployments d "
							  "JOIN mm.versions v ON v.model_id = d.model_id AND v.version = d.version "
							  "WHERE d.model_id = $1 AND d.kind = 'deploy' AND NOT d.undone "
							  "AND d.version <> $2 "
							  "AND d.id < (SELECT max(id) FROM mm.deployments "
							  "            WHERE model_id = $1 AND kind = 'deploy' AND NOT undone) "
							  "ORDER BY d.id DESC LIMIT 1",
							  2, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the deployment history failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no earlier deployed version to roll back to", model),
				 errhint("mm_deployments shows the history; mm_deploy deploys any version.")));
	prev_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	prev_version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	values[1] = Int64GetDatum(prev_id);
	argtypes[1] = INT8OID;
	if (SPI_execute_with_args("UPDATE mm.deployments SET undone = true "
							  "WHERE model_id = $1 AND kind = 'deploy' AND NOT undone AND id > $2",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "updating the deployment history failed");
	MmSetDeployed(row.id, prev_version);
	MmRecordDeployment(row.id, prev_version, "rollback",
					   psprintf("mm_rollback from version %d", row.deployed_version),
					   cat.save_userid);
	MmAudit("rollback", model, row.id, row.owner, prev_version,
			psprintf("{\"from\": %d}", row.deployed_version), cat.save_userid);
	MmCatalogEnd(&cat);
	PG_RETURN_INT32(prev_version);
}

/* mm_drop(model text, version int): one version, or the whole model */
Datum
mm_drop(PG_FUNCTION_ARGS)
{
	char	   *model = MmModelArg(fcinfo);
	MmCatalogCtx cat;
	MmModelRow	row;
	Oid			argtypes[2] = {INT8OID, INT4OID};
	Datum		values[2];

	MmCatalogBegin(&cat);
	MmGetModel(model, &row, true);
	MmCheckPrivilege(model, &row, MM_PRIV_OWNER, cat.save_userid);
	values[0] = Int64GetDatum(row.id);
	if (PG_ARGISNULL(1))
	{
		if (SPI_execute_with_args("DELETE FROM mm.models WHERE id = $1",
								  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "dropping model \"%s\" failed", model);
		MmAudit("drop", model, row.id, row.owner, 0, NULL, cat.save_userid);
	}
	else
	{
		int32		version = PG_GETARG_INT32(1);

		(void) MmRequireVersion(row.id, version, model, true);
		if (version == row.deployed_version)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop version %d of model \"%s\" because it is deployed", version, model),
					 errhint("Deploy another version first, or drop the whole model with mm_drop(%s).", MmQuoteLiteral(model))));
		if (version == row.canary_version)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop version %d of model \"%s\" because it serves a canary", version, model),
					 errhint("End the canary first with mm_rollback(%s).", MmQuoteLiteral(model))));
		values[1] = Int32GetDatum(version);
		if (SPI_execute_with_args("DELETE FROM mm.versions WHERE model_id = $1 AND version = $2",
								  2, argtypes, values, NULL, false, 0) != SPI_OK_DELETE ||
			SPI_execute_with_args("UPDATE mm.models SET updated_at = now() WHERE id = $1",
								  1, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "dropping version %d of model \"%s\" failed", version, model);
		MmAudit("drop", model, row.id, row.owner, version, NULL, cat.save_userid);
	}
	MmCatalogEnd(&cat);
	PG_RETURN_VOID();
}

/* The ACL bits of a privilege name: predict, train, deploy or all. */
static AclMode
MmPrivilegeArg(const char *privilege)
{
	if (pg_strcasecmp(privilege, "predict") == 0)
		return MmPrivilegeMode(MM_PRIV_PREDICT);
	if (pg_strcasecmp(privilege, "train") == 0)
		return MmPrivilegeMode(MM_PRIV_TRAIN);
	if (pg_strcasecmp(privilege, "deploy") == 0)
		return MmPrivilegeMode(MM_PRIV_DEPLOY);
	if (pg_strcasecmp(privilege, "all") == 0)
		return MmPrivilegeMode(MM_PRIV_PREDICT) | MmPrivilegeMode(MM_PRIV_TRAIN) |
			MmPrivilegeMode(MM_PRIV_DEPLOY);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized model privilege \"%s\"", privilege),
			 errhint("Use 'predict', 'train', 'deploy' or 'all'.")));
	return ACL_NO_RIGHTS;		/* not reached */
}

/*
 * mm_grant and mm_revoke: change the model's ACL with PostgreSQL's own
 * aclupdate, as GRANT and REVOKE do for a table.  Owner only.
 */
static void
MmChangeAcl(FunctionCallInfo fcinfo, bool grant)
{
	char	   *model = MmModelArg(fcinfo);
	char	   *rolename;
	char	   *privilege;
	Oid			grantee;
	AclMode		mode;
	MmCatalogCtx cat;
	MmModelRow	row;
	AclItem		item;
	Acl		   *acl;
	Oid			argtypes[2] = {INT8OID, ACLITEMARRAYOID};
	Datum		values[2];
	StringInfoData detail;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(1) ? "role" : "privilege")));
	rolename = NameStr(*PG_GETARG_NAME(1));
	privilege = text_to_cstring(PG_GETARG_TEXT_PP(2));
	mode = MmPrivilegeArg(privilege);
	grantee = pg_strcasecmp(rolename, "public") == 0 ? ACL_ID_PUBLIC : get_role_oid(rolename, false);

	MmCatalogBegin(&cat);
	MmGetModel(model, &row, true);
	MmCheckPrivilege(model, &row, MM_PRIV_OWNER, cat.save_userid);
	item.ai_grantee = grantee;
	item.ai_grantor = row.owner;
	ACLITEM_SET_PRIVS_GOPTIONS(item, mode, ACL_NO_RIGHTS);
	acl = aclupdate(row.acl ? row.acl : make_empty_acl(), &item,
					grant ? ACL_MODECHG_ADD : ACL_MODECHG_DEL, row.owner, DROP_RESTRICT);
	values[0] = Int64GetDatum(row.id);
	values[1] = PointerGetDatum(acl);
	if (SPI_execute_with_args("UPDATE mm.models SET acl = $2, updated_at = now() WHERE id = $1",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "changing the privileges of model \"%s\" failed", model);
	/* role names may hold any character: escaped, never formatted in */
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"role\": ");
	escape_json(&detail, grantee == ACL_ID_PUBLIC ? "PUBLIC" : rolename);
	appendStringInfoString(&detail, ", \"privilege\": ");
	escape_json(&detail, privilege);
	appendStringInfoChar(&detail, '}');
	MmAudit(grant ? "grant" : "revoke", model, row.id, row.owner, 0, detail.data,
			cat.save_userid);
	MmCatalogEnd(&cat);
}

/* mm_grant(model text, role name, privilege text) */
Datum
mm_grant(PG_FUNCTION_ARGS)
{
	MmChangeAcl(fcinfo, true);
	PG_RETURN_VOID();
}

/* mm_revoke(model text, role name, privilege text) */
Datum
mm_revoke(PG_FUNCTION_ARGS)
{
	MmChangeAcl(fcinfo, false);
	PG_RETURN_VOID();
}

/* mm_model_visible(owner regrole, acl aclitem[]): the views' row filter */
Datum
mm_model_visible(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(MmHasPrivilege(PG_GETARG_OID(0), PG_ARGISNULL(1) ? NULL : PG_GETARG_ACL_P(1),
								  MM_PRIV_PREDICT, GetUserId()));
}
