-- Shared fixtures of the regression suite: the extension and the bundled
-- datasets (data/README.md gives their provenance).
CREATE EXTENSION massmodel;

CREATE TABLE diabetes (
	age float8, sex float8, bmi float8, bp float8,
	s1 float8, s2 float8, s3 float8, s4 float8, s5 float8, s6 float8,
	progression float8
);
\copy diabetes FROM 'data/diabetes.csv' WITH (FORMAT csv, HEADER)

CREATE TABLE longley (
	employed float8, gnp_deflator float8, gnp float8, unemployed float8,
	armed_forces float8, population float8, year float8
);
\copy longley FROM 'data/longley.csv' WITH (FORMAT csv, HEADER)

SELECT count(*) AS diabetes_rows FROM diabetes;
SELECT count(*) AS longley_rows FROM longley;

-- the catalog lives in schema mm and every object is documented
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'mm' AND c.relkind = 'r' ORDER BY 1;
SELECT p.proname, count(*) AS overloads, bool_and(obj_description(p.oid, 'pg_proc') IS NOT NULL) AS commented
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'massmodel'
 GROUP BY p.proname ORDER BY 1;
SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
  FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'massmodel'
 WHERE c.relkind = 'v' ORDER BY 1;
-- predict functions are STABLE and PARALLEL SAFE
SELECT p.oid::regprocedure::text AS function, p.provolatile, p.proparallel
  FROM pg_proc p WHERE p.proname = 'mm_predict' ORDER BY 1;
-- the catalog tables are registered for pg_dump
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'massmodel' ORDER BY 1;

-- Helpers shared by the test files (the bad-input files 17-19 and the
-- governance file 10), in their own schema:
CREATE SCHEMA regress;
-- a fingerprint of the catalog: its tables' row counts and every model row,
-- compared before and after refused calls
CREATE FUNCTION regress.catalog() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' ', (SELECT count(*) FROM mm.models), (SELECT count(*) FROM mm.versions),
         (SELECT count(*) FROM mm.deployments), (SELECT count(*) FROM mm.evaluations),
         (SELECT count(*) FROM mm.audit),
         (SELECT md5(coalesce(string_agg(concat_ws(',', name, owner, acl, task, deployed_version,
                                                    latest_version, canary_version, updated_at), ';' ORDER BY name), ''))
            FROM mm.models))
$$;
-- the SQLSTATE and message of a statement's error (the database's name
-- replaced), or NULL when it succeeds
CREATE FUNCTION regress.error(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  state text;
  msg text;
BEGIN
  EXECUTE stmt;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN state || ': ' || replace(msg, current_database(), '<this database>');
END $$;
-- an export envelope (MMEX format 1) with the right lengths and CRC-32C
-- around any metadata and model bytes
CREATE FUNCTION regress.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  crc bigint := 4294967295;
BEGIN
  FOR i IN 0 .. length(b) - 1 LOOP
    crc := crc # get_byte(b, i);
    FOR k IN 1 .. 8 LOOP
      IF crc & 1 = 1 THEN crc := (crc >> 1) # 2197175160; ELSE crc := crc >> 1; END IF;
    END LOOP;
  END LOOP;
  RETURN crc # 4294967295;
END $$;
CREATE FUNCTION regress.le32(v bigint) RETURNS bytea LANGUAGE sql AS $$
  SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, (v & 255)::int),
         1, ((v >> 8) & 255)::int), 2, ((v >> 16) & 255)::int), 3, ((v >> 24) & 255)::int) $$;
CREATE FUNCTION regress.envelope(meta text, model bytea) RETURNS bytea LANGUAGE sql AS $$
  SELECT '\x4d4d455801000000'::bytea
         || regress.le32(length(convert_to(meta, 'UTF8'))) || regress.le32(length(model))
         || regress.le32(regress.crc32c(convert_to(meta, 'UTF8') || model)) || convert_to(meta, 'UTF8') || model $$;
-- two versions of a model are the same: blob, metrics, profile, training rows
CREATE FUNCTION regress.same_version(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT x.blob = y.blob AND x.metrics = y.metrics AND x.profile IS NOT DISTINCT FROM y.profile
         AND x.n_train = y.n_train
    FROM mm.versions x, mm.versions y, mm.models m
   WHERE m.name = model AND x.model_id = m.id AND y.model_id = m.id AND x.version = a AND y.version = b $$;
-- two numbers agree within 1e-9 (relative; absolute below 1)
CREATE FUNCTION regress.near(a float8, b float8) RETURNS bool LANGUAGE sql AS $$
  SELECT abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
