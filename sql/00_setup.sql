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
