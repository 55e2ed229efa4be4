-- massmodel: machine-learning models trained, versioned, deployed and
-- served inside PostgreSQL.  Install script of version 0.1.0.

\echo Use "CREATE EXTENSION massmodel" to load this file. \quit

------------------------------------------------------------------------
-- The catalog: schema mm, closed to ordinary roles.  Functions write it as
-- the extension owner after their own privilege checks.
------------------------------------------------------------------------

CREATE SCHEMA mm;
REVOKE ALL ON SCHEMA mm FROM PUBLIC;
COMMENT ON SCHEMA mm IS 'massmodel catalog: models, their versions, deployments and evaluations (not for direct use)';

CREATE TABLE mm.models (
	id					bigserial PRIMARY KEY,
	name				text NOT NULL UNIQUE,
	owner				regrole NOT NULL,
	acl					aclitem[],
	task				text NOT NULL,
	deployed_version	int,
	canary_version		int,			-- a version serving a share of the predictions
	canary_traffic		float8 CHECK (canary_traffic > 0 AND canary_traffic < 1),
	latest_version		int NOT NULL DEFAULT 0,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mm.models IS 'one row per model: name, owner, privileges, task, deployed version';

-- uid identifies a version for ever: version numbers of a rolled-back
-- train are handed out again, sequence values never are (the backend cache
-- of decoded models is keyed by uid)
CREATE SEQUENCE mm.version_uid_seq;

CREATE TABLE mm.versions (
	model_id	bigint NOT NULL REFERENCES mm.models (id) ON DELETE CASCADE,
	uid			bigint NOT NULL DEFAULT nextval('mm.version_uid_seq') UNIQUE,
	version		int NOT NULL,
	algorithm	text NOT NULL,
	params		jsonb NOT NULL,
	features	jsonb NOT NULL,
	target		text,
	metrics		jsonb NOT NULL,
	n_train		bigint NOT NULL,
	trained_by	name NOT NULL,
	trained_at	timestamptz NOT NULL DEFAULT now(),
	train_ms	float8 NOT NULL,
	source		text,
	test_fraction float8,
	blob		bytea NOT NULL,
	profile		jsonb,			-- training distribution of each feature, for mm_drift
	PRIMARY KEY (model_id, version)
);
COMMENT ON TABLE mm.versions IS 'one immutable row per trained version of a model, with its serialized blob';

CREATE TABLE mm.deployments (
	id			bigserial PRIMARY KEY,
	model_id	bigint NOT NULL REFERENCES mm.models (id) ON DELETE CASCADE,
	version		int NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('deploy', 'rollback', 'canary')),
	traffic		float8 NOT NULL DEFAULT 1 CHECK (traffic > 0 AND traffic <= 1),
	undone		boolean NOT NULL DEFAULT false,
	deployed_at timestamptz NOT NULL DEFAULT now(),
	deployed_by name NOT NULL,
	reason		text NOT NULL
);
CREATE INDEX ON mm.deployments (model_id, id);
COMMENT ON TABLE mm.deployments IS 'history of deployments; rows of kind deploy not undone form the stack mm_rollback pops';

CREATE TABLE mm.evaluations (
	id				bigserial PRIMARY KEY,
	model_id		bigint NOT NULL REFERENCES mm.models (id) ON DELETE CASCADE,
	version			int NOT NULL,
	source			text NOT NULL,
	metrics			jsonb NOT NULL,
	evaluated_by	name NOT NULL,
	evaluated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON mm.evaluations (model_id, id);
COMMENT ON TABLE mm.evaluations IS 'evaluations recorded by mm_evaluate(..., record => true)';

CREATE TABLE mm.audit (
	id			bigserial PRIMARY KEY,
	at			timestamptz NOT NULL DEFAULT now(),
	role		name NOT NULL,
	action		text NOT NULL CHECK (action IN ('train', 'deploy', 'rollback', 'drop', 'grant',
											   'revoke', 'import', 'export')),
	model		text NOT NULL,
	model_id	bigint NOT NULL,	-- no foreign key: the log outlives the model
	model_owner regrole NOT NULL,	-- dumped by name, like mm.models.owner
	version		int,
	detail		jsonb
);
CREATE INDEX ON mm.audit (model_id, id);
COMMENT ON TABLE mm.audit IS 'append-only audit log of train, deploy, rollback, drop, grant, revoke, import and export';

REVOKE ALL ON ALL TABLES IN SCHEMA mm FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA mm FROM PUBLIC;

-- pg_dump keeps the models
SELECT pg_catalog.pg_extension_config_dump('mm.models', '');
SELECT pg_catalog.pg_extension_config_dump('mm.models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mm.versions', '');
SELECT pg_catalog.pg_extension_config_dump('mm.version_uid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mm.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('mm.deployments_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mm.evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('mm.evaluations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('mm.audit', '');
SELECT pg_catalog.pg_extension_config_dump('mm.audit_id_seq', '');

------------------------------------------------------------------------
-- Training
------------------------------------------------------------------------

CREATE FUNCTION mm_train(
	model			text,
	algorithm		text,
	source			text,
	target			text DEFAULT NULL,
	features		text[] DEFAULT NULL,
	params			jsonb DEFAULT '{}',
	test_fraction	float8 DEFAULT 0.2,
	deploy			text DEFAULT 'if_better')
RETURNS TABLE (model text, version int, metrics jsonb, deployed boolean)
AS 'MODULE_PATHNAME', 'mm_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_train(text, text, text, text, text[], jsonb, float8, text) IS
'train a new version of a model on a table, view or query (read with the caller''s rights); deploy => always | never | if_better';

-- The single-pass statistics of linear models as a parallel-safe aggregate:
-- co-moments of (target, features) of the training rows and the held-out
-- rows themselves, split by mm_train's deterministic hash.  mm_train runs
-- it, so parallel query (or a distributed PostgreSQL) can split the scan.
CREATE FUNCTION mm_linear_stats_transfn(bytea, int8, float8, int8, text[], float8, VARIADIC "any")
RETURNS bytea
AS 'MODULE_PATHNAME', 'mm_linear_stats_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION mm_linear_stats_transfn(bytea, int8, float8, int8, text[], float8, VARIADIC "any") IS
'transition function of mm_linear_stats';

CREATE FUNCTION mm_linear_stats_combine(bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'mm_linear_stats_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mm_linear_stats_combine(bytea, bytea) IS
'combine function of mm_linear_stats';

CREATE AGGREGATE mm_linear_stats(seed int8, test_fraction float8, max_memory int8,
								 names text[], target float8, VARIADIC features "any") (
	SFUNC = mm_linear_stats_transfn,
	STYPE = bytea,
	COMBINEFUNC = mm_linear_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE mm_linear_stats(int8, float8, int8, text[], float8, VARIADIC "any") IS
'sufficient statistics of linear models (train co-moments and held-out rows); mm_train''s parallel scan';

------------------------------------------------------------------------
-- Prediction
------------------------------------------------------------------------

-- The planner rewrites mm_predict(m, ARRAY[...]) and mm_predict(m, t) into
-- mm_predict_fields, which takes the values as separate arguments: no array
-- or row value is built per row (see mm_predict_support).
CREATE FUNCTION mm_predict_fields(model text, version int, names text[], VARIADIC "any")
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_fields'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mm_predict_fields(text, int, text[], VARIADIC "any") IS
'internal form of mm_predict made by the planner: encoded features in training order (names NULL), or named columns of a row (names a constant)';

CREATE FUNCTION mm_predict_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'mm_predict_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mm_predict_support(internal) IS
'planner support of mm_predict: rewrites ARRAY[...] and whole-row inputs into mm_predict_fields';

CREATE FUNCTION mm_predict(model text, x float8[], version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_float8'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, float8[], int) IS
'predict with the deployed (or the given) version of a model; x in the training feature order';

CREATE FUNCTION mm_predict(model text, x float4[], version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_float4'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, float4[], int) IS
'predict with the deployed (or the given) version of a model; x in the training feature order';

-- numeric arrays (ARRAY[1.5, 2.0] is numeric[]): converted to double precision
CREATE FUNCTION mm_predict(model text, x numeric[], version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_any'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, numeric[], int) IS
'predict with the deployed (or the given) version of a model; x in the training feature order';

-- integer arrays (ARRAY[1, 2] is integer[]): converted to double precision
CREATE FUNCTION mm_predict(model text, x int[], version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_any'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, int[], int) IS
'predict with the deployed (or the given) version of a model; x in the training feature order';

-- bigint arrays: converted to double precision
CREATE FUNCTION mm_predict(model text, x bigint[], version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_any'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, bigint[], int) IS
'predict with the deployed (or the given) version of a model; x in the training feature order';

CREATE FUNCTION mm_predict(model text, x anyelement, version int DEFAULT NULL)
RETURNS float8
AS 'MODULE_PATHNAME', 'mm_predict_any'
LANGUAGE C STABLE PARALLEL SAFE
SUPPORT mm_predict_support;
COMMENT ON FUNCTION mm_predict(text, anyelement, int) IS
'predict with the deployed (or the given) version of a model; x is a row (t.* or ROW(...)) mapped by column name';

-- classifiers: the predicted label, the class probabilities, the labels
CREATE FUNCTION mm_predict_label(model text, x float8[], version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_label(model text, x float4[], version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_label(model text, x numeric[], version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_label(model text, x int[], version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_label(model text, x bigint[], version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_label(model text, x anyelement, version int DEFAULT NULL)
RETURNS text AS 'MODULE_PATHNAME', 'mm_predict_label_any'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION mm_predict_proba(model text, x float8[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_proba(model text, x float4[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_proba(model text, x numeric[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_proba(model text, x int[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_proba(model text, x bigint[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_predict_proba(model text, x anyelement, version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_predict_proba_any'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION mm_transform(model text, x float8[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_transform(model text, x float4[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_array'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_transform(model text, x numeric[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_transform(model text, x int[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_transform(model text, x bigint[], version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_any'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION mm_transform(model text, x anyelement, version int DEFAULT NULL)
RETURNS float8[] AS 'MODULE_PATHNAME', 'mm_transform_any'
LANGUAGE C STABLE PARALLEL SAFE;

DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
			  WHERE p.proname = 'mm_predict_label' AND p.pronamespace = '@extschema@'::regnamespace
	LOOP
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', f,
					   'the label a classifier predicts for x (a row mapped by column name, or an array in training order)');
	END LOOP;
	FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
			  WHERE p.proname = 'mm_predict_proba' AND p.pronamespace = '@extschema@'::regnamespace
	LOOP
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', f,
					   'the class probabilities a classifier gives x, in the order of mm_labels');
	END LOOP;
	FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
			  WHERE p.proname = 'mm_transform' AND p.pronamespace = '@extschema@'::regnamespace
	LOOP
		EXECUTE format('COMMENT ON FUNCTION %s IS %L', f,
					   'the coordinates of x on the components of a pca model, or for any other model the encoded, scaled features it sees');
	END LOOP;
END $$;

CREATE FUNCTION mm_labels(model text, version int DEFAULT NULL)
RETURNS text[] AS 'MODULE_PATHNAME', 'mm_labels'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mm_labels(text, int) IS
'the labels of a classifier in ascending order (numeric order for integers, false < true, byte order for text)';

------------------------------------------------------------------------
-- Evaluation and inspection
------------------------------------------------------------------------

CREATE FUNCTION mm_evaluate(model text, source text, version int DEFAULT NULL, record boolean DEFAULT false)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'mm_evaluate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_evaluate(text, text, int, boolean) IS
'metrics of a model version on a table, view or query; record => true appends them to mm_evaluations';

CREATE FUNCTION mm_weights(model text, version int DEFAULT NULL)
RETURNS TABLE (class text, feature text, weight float8)
AS 'MODULE_PATHNAME', 'mm_weights'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mm_weights(text, int) IS
'intercept and weights of a linear or logistic model version, in the units of the original columns (class: the label of a multinomial model''s vector)';

------------------------------------------------------------------------
-- Lifecycle
------------------------------------------------------------------------

CREATE FUNCTION mm_deploy(model text, version int, traffic float8 DEFAULT 1.0)
RETURNS void
AS 'MODULE_PATHNAME', 'mm_deploy'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_deploy(text, int, float8) IS
'deploy a version of a model: predictions without a version use it from the next statement on';

CREATE FUNCTION mm_rollback(model text)
RETURNS int
AS 'MODULE_PATHNAME', 'mm_rollback'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_rollback(text) IS
'deploy again the version that was deployed before the current one; returns it';

CREATE FUNCTION mm_drop(model text, version int DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'mm_drop'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_drop(text, int) IS
'drop one version of a model (not the deployed one), or the whole model when version is NULL';

------------------------------------------------------------------------
-- Access control
------------------------------------------------------------------------

CREATE FUNCTION mm_grant(model text, role name, privilege text)
RETURNS void
AS 'MODULE_PATHNAME', 'mm_grant'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_grant(text, name, text) IS
'grant predict, train, deploy or all on a model to a role (or PUBLIC); owner only';

CREATE FUNCTION mm_revoke(model text, role name, privilege text)
RETURNS void
AS 'MODULE_PATHNAME', 'mm_revoke'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_revoke(text, name, text) IS
'revoke predict, train, deploy or all on a model from a role (or PUBLIC); owner only';

-- the views' filter: may the current role see (predict with) the model?
CREATE FUNCTION mm_model_visible(owner regrole, acl aclitem[])
RETURNS boolean
AS 'MODULE_PATHNAME', 'mm_model_visible'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mm_model_visible(regrole, aclitem[]) IS
'true when the current role holds predict on a model of this owner and ACL (the views'' row filter)';

CREATE FUNCTION mm_export(model text, version int DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'mm_export'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_export(text, int) IS
'a portable bytea of a model version: the model, its feature schema and its metadata (for mm_import)';

CREATE FUNCTION mm_import(model text, blob bytea)
RETURNS int
AS 'MODULE_PATHNAME', 'mm_import'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_import(text, bytea) IS
'validate an exported model and store it as a new version of model (created, owned by the caller, if new); returns the version';

CREATE FUNCTION mm_ensemble(model text, members text[], method text DEFAULT NULL,
						   weights float8[] DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'mm_ensemble'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_ensemble(text, text[], text, float8[]) IS
'store a new version of model that combines member models, each pinned as ''name'' (its deployed version) or ''name@N''; method mean (regression, default), vote or soft_vote (classification, default soft_vote); weights per member (default equal); predict privilege on the members is checked now, on the ensemble afterwards; returns the version';

CREATE FUNCTION mm_stat_models_internal(OUT model_id bigint, OUT version int, OUT calls bigint,
										OUT rows bigint, OUT errors bigint, OUT total_ms float8,
										OUT last_call timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mm_stat_models_internal'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mm_stat_models_internal() IS
'prediction statistics of this database from shared memory, by model id (the view mm_stat_models names the models and shows only those the role may predict with)';

CREATE FUNCTION mm_retrain(model text, source text DEFAULT NULL, deploy text DEFAULT 'if_better')
RETURNS TABLE (model text, version int, metrics jsonb, deployed boolean)
AS 'MODULE_PATHNAME', 'mm_retrain'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_retrain(text, text, text) IS
'train a new version with the algorithm, features, target, params, seed and held-out share of the latest version, on source or the latest version''s source; deploy => if_better (default: the champion stays unless the new version beats it on held-out data) | always | never';

CREATE FUNCTION mm_retrain_check(model text, source text)
RETURNS text
AS 'MODULE_PATHNAME', 'mm_retrain_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_retrain_check(text, text) IS
'raise the error mm_retrain would raise before training (the model exists, the caller may train it, its latest version can be retrained on source or its own), else return the source it would read (used by mm_schedule)';

-- pg_cron's job name of a model's scheduled retrain (job names are at most 63 bytes)
CREATE FUNCTION mm_schedule_job_name(model text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN octet_length(model) <= 52 THEN 'mm_retrain ' || model
			ELSE 'mm_retrain md5:' || md5(model) END;
COMMENT ON FUNCTION mm_schedule_job_name(text) IS
'the pg_cron job name mm_schedule gives a model''s retrain: ''mm_retrain <model>'', or ''mm_retrain md5:<md5 of the name>'' for names over 52 bytes';

CREATE FUNCTION mm_schedule(model text, schedule text, source text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	ext name := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
				  WHERE e.extname = 'massmodel');
	job bigint;
	jobname text;
	src text;
BEGIN
	IF model IS NULL OR schedule IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = format('%s must not be NULL', CASE WHEN model IS NULL THEN 'model' ELSE 'schedule' END);
	END IF;
	EXECUTE format('SELECT %I.mm_retrain_check($1, $2)', ext) INTO src USING model, source;
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('pg_cron is not installed in database "%s"', current_database()),
			DETAIL = 'mm_schedule runs mm_retrain as a pg_cron job.',
			HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, and run CREATE EXTENSION pg_cron here.';
	END IF;
	EXECUTE format('SELECT %I.mm_schedule_job_name($1)', ext) INTO jobname USING model;
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)'
	   INTO job
	  USING jobname, schedule,
			format('SELECT * FROM %I.mm_retrain(%L, %L)', ext, model, src),
			current_database();
	RETURN job;
END
$fn$;
COMMENT ON FUNCTION mm_schedule(text, text, text) IS
'schedule mm_retrain(model, source) in this database as a pg_cron job running as the current role on a cron schedule (e.g. ''0 3 * * *''); source NULL: the latest version''s own, written into the job now; scheduling a model again replaces its job; returns the pg_cron job id';

CREATE FUNCTION mm_unschedule(model text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	ext name := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
				  WHERE e.extname = 'massmodel');
	job bigint;
	jobname text;
BEGIN
	IF model IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'model must not be NULL';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('pg_cron is not installed in database "%s"', current_database()),
			HINT = 'Models are scheduled with pg_cron; without it nothing is scheduled.';
	END IF;
	EXECUTE format('SELECT %I.mm_schedule_job_name($1)', ext) INTO jobname USING model;
	EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user'
	   INTO job USING jobname;
	IF job IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT cron.unschedule($1)' USING job;
	RETURN true;
END
$fn$;
COMMENT ON FUNCTION mm_unschedule(text) IS
'remove the current role''s scheduled retrain of model (mm_schedule); false when there was none';

CREATE FUNCTION mm_drift(model text, source text, params jsonb DEFAULT NULL)
RETURNS TABLE (feature text, train_mean float8, mean float8, psi float8, drifted boolean)
AS 'MODULE_PATHNAME', 'mm_drift'
LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION mm_drift(text, text, jsonb) IS
'per feature, the population stability index of source (read with the caller''s rights) against the distribution captured when the deployed version was trained (decile bins, level shares, NULLs), with the means; drifted when psi > 0.2 (params: {"threshold": x, "version": n})';

CREATE FUNCTION mm_progress_internal(OUT pid int, OUT model text, OUT algorithm text, OUT phase text,
									 OUT rows_done bigint, OUT epoch int, OUT epochs int,
									 OUT loss float8, OUT elapsed interval)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mm_progress_internal'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mm_progress_internal() IS
'the trainings under way in this database that the current role may see (the view mm_progress)';

CREATE FUNCTION mm_stat_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'mm_stat_reset'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mm_stat_reset() IS
'forget the prediction statistics of this database (mm_stat_models); superusers only unless granted';
REVOKE EXECUTE ON FUNCTION mm_stat_reset() FROM PUBLIC;

------------------------------------------------------------------------
-- Views: a role sees the models it may predict with
------------------------------------------------------------------------

CREATE VIEW mm_models WITH (security_barrier) AS
SELECT m.name AS model,
	   m.task,
	   coalesce(dv.algorithm, lv.algorithm) AS algorithm,
	   m.deployed_version,
	   m.latest_version,
	   (SELECT count(*) FROM mm.versions v WHERE v.model_id = m.id)::int AS versions,
	   pg_catalog.pg_get_userbyid(m.owner) AS owner,
	   dv.metrics,
	   (SELECT coalesce(sum(octet_length(v.blob)), 0) FROM mm.versions v WHERE v.model_id = m.id)::bigint AS size_bytes,
	   m.updated_at,
	   m.canary_version,
	   m.canary_traffic
  FROM mm.models m
  LEFT JOIN mm.versions dv ON dv.model_id = m.id AND dv.version = m.deployed_version
  LEFT JOIN mm.versions lv ON lv.model_id = m.id AND lv.version = m.latest_version
 WHERE mm_model_visible(m.owner, m.acl);
COMMENT ON VIEW mm_models IS 'models the current role may use: task, algorithm, deployed and latest version, metrics of the deployed version, and a canary version with its share of the predictions';

CREATE VIEW mm_versions WITH (security_barrier) AS
SELECT m.name AS model,
	   v.version,
	   v.algorithm,
	   v.params,
	   v.features,
	   v.target,
	   v.metrics,
	   v.n_train,
	   v.trained_by,
	   v.trained_at,
	   v.train_ms,
	   octet_length(v.blob)::bigint AS size_bytes,
	   (v.version IS NOT DISTINCT FROM m.deployed_version) AS deployed
  FROM mm.versions v
  JOIN mm.models m ON m.id = v.model_id
 WHERE mm_model_visible(m.owner, m.acl);
COMMENT ON VIEW mm_versions IS 'every stored version of the models the current role may use';

CREATE VIEW mm_deployments WITH (security_barrier) AS
SELECT m.name AS model,
	   d.version,
	   d.deployed_at,
	   d.deployed_by,
	   d.reason,
	   d.kind,
	   d.traffic
  FROM mm.deployments d
  JOIN mm.models m ON m.id = d.model_id
 WHERE mm_model_visible(m.owner, m.acl);
COMMENT ON VIEW mm_deployments IS 'history of deployments and rollbacks of the models the current role may use';

CREATE VIEW mm_evaluations WITH (security_barrier) AS
SELECT m.name AS model,
	   e.version,
	   e.source,
	   e.metrics,
	   e.evaluated_by,
	   e.evaluated_at
  FROM mm.evaluations e
  JOIN mm.models m ON m.id = e.model_id
 WHERE mm_model_visible(m.owner, m.acl);
COMMENT ON VIEW mm_evaluations IS 'evaluations recorded with mm_evaluate(..., record => true)';

CREATE VIEW mm_audit WITH (security_barrier) AS
SELECT a.id,
	   a.at,
	   a.role,
	   a.action,
	   a.model,
	   a.version,
	   a.detail
  FROM mm.audit a
 WHERE pg_catalog.pg_has_role(a.model_owner::oid, 'USAGE') IS TRUE
	OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
COMMENT ON VIEW mm_audit IS 'audit log of the models the current role owns (all of it for superusers); it outlives dropped models';

CREATE VIEW mm_stat_models WITH (security_barrier) AS
SELECT m.name AS model,
	   s.version,
	   s.calls,
	   s.rows,
	   s.errors,
	   s.total_ms,
	   CASE WHEN s.rows > 0 THEN s.total_ms * 1000 / s.rows END AS mean_us,
	   s.last_call,
	   CASE WHEN s.version = m.canary_version THEN m.canary_traffic
			WHEN s.version = m.deployed_version THEN 1 - coalesce(m.canary_traffic, 0)
			ELSE 0 END AS traffic
  FROM mm_stat_models_internal() s
  JOIN mm.models m ON m.id = s.model_id
 WHERE mm_model_visible(m.owner, m.acl)
   AND EXISTS (SELECT 1 FROM mm.versions v WHERE v.model_id = s.model_id AND v.version = s.version);
COMMENT ON VIEW mm_stat_models IS 'prediction statistics per model version since the last mm_stat_reset(): statements (calls), rows predicted, errors, their time and the last call; needs massmodel in shared_preload_libraries';

CREATE VIEW mm_progress AS
SELECT * FROM mm_progress_internal();
COMMENT ON VIEW mm_progress IS 'one row per backend training a model in this database: phase (reading, fitting, evaluating, storing), rows read, iteration or epoch of how many, current loss, elapsed; the own role''s trainings, all of them for members of pg_read_all_stats; needs massmodel in shared_preload_libraries';

-- the views filter rows by role; every role may query them
GRANT SELECT ON mm_models, mm_versions, mm_deployments, mm_evaluations, mm_audit, mm_stat_models, mm_progress TO PUBLIC;
