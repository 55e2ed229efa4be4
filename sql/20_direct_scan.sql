-- A plain table of numbers is read straight from its heap (mm.direct_scan,
-- on by default); everything else through a query.  Both ways give the same
-- version, bit for bit: the blob, the metrics, the training profile.
-- verbose says which way the rows were read ("directly from the table").
\set VERBOSITY terse
-- the rows a version was trained and scored on
CREATE FUNCTION pg_temp.rows(model text, v int) RETURNS bigint LANGUAGE sql AS $$
  SELECT x.n_train + (x.metrics->>'n')::bigint FROM mm.versions x JOIN mm.models m ON m.id = x.model_id
   WHERE m.name = model AND x.version = v $$;

-- every stored type the direct read converts, NULLs in a column not read,
-- a dropped column and a column added later (absent from the first rows)
CREATE TABLE ds_t (id int, a int2, b int4, gone text, c int8, f float4, g float8, flag bool,
                   note text, y float8, label int, klass bool);
INSERT INTO ds_t
SELECT i, (i % 17)::int2, (i * 7) % 101, 'x', (i % 13)::int8 * 1000000, sin(i)::float4, cos(i * 0.3),
       i % 3 = 0, CASE WHEN i % 5 = 0 THEN NULL ELSE 'n' END,
       2 + 0.1 * (i % 17) - 0.01 * ((i * 7) % 101) + 1e-7 * (i % 13) * 1000000 + sin(i) + 0.5 * cos(i * 0.3)
         + CASE WHEN i % 3 = 0 THEN 0.7 ELSE 0 END + 0.05 * sin(i * 12.9898),
       (i % 4), sin(i) + cos(i * 0.3) > 0.2
  FROM generate_series(1, 3000) i;
ALTER TABLE ds_t DROP COLUMN gone;
ALTER TABLE ds_t ADD COLUMN late float8 NOT NULL DEFAULT 0.25;
INSERT INTO ds_t SELECT i, (i % 17)::int2, (i * 7) % 101, (i % 13)::int8 * 1000000, sin(i)::float4, cos(i * 0.3),
       i % 3 = 0, NULL, 2 + sin(i), (i % 4), sin(i) > 0, 0.5 + (i % 2)
  FROM generate_series(3001, 3400) i;

-- one-scan linear models: held out, and every row kept (test_fraction 0)
SELECT version FROM mm_train('ds_lin', 'linear_regression', 'ds_t', 'y',
  features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'], params => '{"verbose": true}');
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_lin', 'linear_regression', 'ds_t', 'y',
  features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'], params => '{"verbose": true}');
RESET mm.direct_scan;
SELECT version FROM mm_train('ds_lin', 'ridge', 'ds_t', 'y', features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'],
  params => '{"alpha": 2}', test_fraction => 0);
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_lin', 'ridge', 'ds_t', 'y', features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'],
  params => '{"alpha": 2}', test_fraction => 0);
RESET mm.direct_scan;
SELECT regress.same_version('ds_lin', 1, 2) AS linear_same, regress.same_version('ds_lin', 3, 4) AS ridge_same,
       (SELECT n_train FROM mm_versions WHERE model = 'ds_lin' AND version = 3) AS all_rows;
-- pages whose rows were deleted between the others: with test_fraction 0
-- the direct read scores its rows by reading again the runs of pages it
-- found rows on
CREATE TABLE ds_gap AS SELECT * FROM ds_t;
DELETE FROM ds_gap WHERE id BETWEEN 800 AND 1700 OR id BETWEEN 2500 AND 2600;
SELECT version FROM mm_train('ds_gap', 'ridge', 'ds_gap', 'y', features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'],
  params => '{"alpha": 2}', test_fraction => 0);
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_gap', 'ridge', 'ds_gap', 'y', features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'],
  params => '{"alpha": 2}', test_fraction => 0);
RESET mm.direct_scan;
SELECT regress.same_version('ds_gap', 1, 2) AS gap_same, pg_temp.rows('ds_gap', 1) AS scored_rows;

-- rows in memory: an integer label, a boolean label, no target, the lasso
SELECT version FROM mm_train('ds_nb', 'naive_bayes', 'ds_t', 'label',
  features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'], params => '{"verbose": true}');
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_nb', 'naive_bayes', 'ds_t', 'label',
  features => ARRAY['a', 'b', 'c', 'f', 'g', 'flag', 'late'], params => '{"verbose": true}');
RESET mm.direct_scan;
SELECT version FROM mm_train('ds_log', 'logistic_regression', 'ds_t', 'klass', features => ARRAY['a', 'f', 'g', 'flag']);
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_log', 'logistic_regression', 'ds_t', 'klass', features => ARRAY['a', 'f', 'g', 'flag']);
RESET mm.direct_scan;
SELECT version FROM mm_train('ds_km', 'kmeans', 'ds_t', NULL, features => ARRAY['f', 'g'], params => '{"k": 3}');
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_km', 'kmeans', 'ds_t', NULL, features => ARRAY['f', 'g'], params => '{"k": 3}');
RESET mm.direct_scan;
SELECT version FROM mm_train('ds_las', 'lasso', 'ds_t', 'y', features => ARRAY['a', 'b', 'f', 'g'],
  params => '{"alpha": 0.01, "scale": "standard"}');
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_las', 'lasso', 'ds_t', 'y', features => ARRAY['a', 'b', 'f', 'g'],
  params => '{"alpha": 0.01, "scale": "standard"}');
RESET mm.direct_scan;
SELECT regress.same_version('ds_nb', 1, 2) AS nb_same, regress.same_version('ds_log', 1, 2) AS logistic_same,
       regress.same_version('ds_km', 1, 2) AS kmeans_same, regress.same_version('ds_las', 1, 2) AS lasso_same;

-- the same errors both ways: a NULL, a NaN in a column read
UPDATE ds_t SET g = NULL WHERE id = 1500;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
SET mm.direct_scan = off;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
RESET mm.direct_scan;
UPDATE ds_t SET g = 'NaN' WHERE id = 1500;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
UPDATE ds_t SET g = 1, y = NULL, label = NULL WHERE id = 1500;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
SET mm.direct_scan = off;
UPDATE ds_t SET g = 'NaN', y = 1, label = 1 WHERE id = 1500;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
UPDATE ds_t SET g = 1, y = NULL, label = NULL WHERE id = 1500;
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_t', 'y', features => ARRAY['a', 'g'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_t', 'label', features => ARRAY['a', 'g'])$$);
RESET mm.direct_scan;
DELETE FROM ds_t WHERE id = 1500;
-- every value of a row checked wherever it sits: a subnormal and the
-- largest double are numbers, an infinity anywhere is not
CREATE TABLE ds_fin (y float8, label int, c1 float8, c2 float8, c3 float8, c4 float8, c5 float8, c6 float8);
INSERT INTO ds_fin SELECT i, i % 2, sin(i), cos(i), i, -i, sqrt(i), 1.0 / i FROM generate_series(1, 60) i;
UPDATE ds_fin SET c5 = 5e-324, c6 = '-0' WHERE y = 7;
SELECT version FROM mm_train('ds_fin', 'linear_regression', 'ds_fin', 'y', test_fraction => 0,
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
SELECT version FROM mm_train('ds_fin_nb', 'naive_bayes', 'ds_fin', 'label', test_fraction => 0,
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
UPDATE ds_fin SET c3 = 1.7976931348623157e308;
SELECT version, metrics->>'n' AS n FROM mm_train('ds_fin_nb', 'naive_bayes', 'ds_fin', 'label',
  test_fraction => 0, features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
UPDATE ds_fin SET c3 = y;
UPDATE ds_fin SET c6 = '-Infinity' WHERE y = 9;
SELECT regress.error($$SELECT * FROM mm_train('ds_fin', 'linear_regression', 'ds_fin', 'y',
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_fin_nb', 'naive_bayes', 'ds_fin', 'label',
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])$$);
UPDATE ds_fin SET c6 = 0.1, c2 = 'Infinity' WHERE y = 9;
SELECT regress.error($$SELECT * FROM mm_train('ds_fin', 'linear_regression', 'ds_fin', 'y',
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_fin_nb', 'naive_bayes', 'ds_fin', 'label',
  features => ARRAY['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])$$);

-- double precision columns side by side in the table are copied in one
-- piece, others one by one: the table's order, the target beside the
-- features, and the features in another order give the query's versions
CREATE TABLE ds_ord (id int, y float8, c1 float8, c2 float8, c3 float8, c4 float8, label int);
INSERT INTO ds_ord SELECT i, i % 7 + sin(i), sin(i), cos(i), sin(2 * i), (i % 5) * 0.5, i % 2
  FROM generate_series(1, 400) i;
CREATE FUNCTION pg_temp.ord_pair(algo text, target text, feats text[]) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a int; b int; m text := 'ds_ord_' || algo;
BEGIN
  SELECT version INTO a FROM mm_train(m, algo, 'ds_ord', target, features => feats, test_fraction => 0);
  SET LOCAL mm.direct_scan = off;
  SELECT version INTO b FROM mm_train(m, algo, 'ds_ord', target, features => feats, test_fraction => 0);
  SET LOCAL mm.direct_scan = on;
  RETURN regress.same_version(m, a, b);
END $$;
SELECT pg_temp.ord_pair('linear_regression', 'y', ARRAY['c1', 'c2', 'c3', 'c4']) AS lin_table_order,
       pg_temp.ord_pair('linear_regression', 'y', ARRAY['c3', 'c1', 'c4', 'c2']) AS lin_other_order,
       pg_temp.ord_pair('linear_regression', 'c1', ARRAY['c2', 'c3', 'c4']) AS lin_one_piece,
       pg_temp.ord_pair('linear_regression', 'c1', ARRAY['c2', 'c3', 'y']) AS lin_target_apart,
       pg_temp.ord_pair('naive_bayes', 'label', ARRAY['c1', 'c2', 'c3', 'c4']) AS nb_table_order,
       pg_temp.ord_pair('naive_bayes', 'label', ARRAY['c2', 'c1', 'c4', 'c3']) AS nb_other_order;

-- the rest of a page is read in one loop when the columns are all double
-- precision and the target has a fixed length (or there is none): the
-- versions are the query's, whatever the target; a row the loop cannot
-- take (a NULL, a value that is not finite) is read by itself and reports
-- what the query reports
CREATE TABLE ds_pg (label int, flag bool, y float8, c1 float8, c2 float8, c3 float8);
INSERT INTO ds_pg SELECT i % 3, sin(i) > 0, i % 7 + sin(i), sin(i), cos(i), (i % 11) * 0.5
  FROM generate_series(1, 1000) i;
CREATE FUNCTION pg_temp.page_pair(src text, algo text, target text, tf float8) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a int; b int; m text := 'ds_pg_' || algo;
BEGIN
  SELECT version INTO a FROM mm_train(m, algo, src, target, features => ARRAY['c1', 'c2', 'c3'],
    params => CASE algo WHEN 'kmeans' THEN '{"k": 3}' WHEN 'lasso' THEN '{"alpha": 0.01, "scale": "standard"}'
                        ELSE '{}' END::jsonb, test_fraction => tf);
  SET LOCAL mm.direct_scan = off;
  SELECT version INTO b FROM mm_train(m, algo, src, target, features => ARRAY['c1', 'c2', 'c3'],
    params => CASE algo WHEN 'kmeans' THEN '{"k": 3}' WHEN 'lasso' THEN '{"alpha": 0.01, "scale": "standard"}'
                        ELSE '{}' END::jsonb, test_fraction => tf);
  SET LOCAL mm.direct_scan = on;
  RETURN regress.same_version(m, a, b);
END $$;
SELECT pg_temp.page_pair('ds_pg', 'naive_bayes', 'label', 0) AS nb_int_all,
       pg_temp.page_pair('ds_pg', 'naive_bayes', 'label', 0.2) AS nb_int_split,
       pg_temp.page_pair('ds_pg', 'naive_bayes', 'flag', 0) AS nb_bool_all,
       pg_temp.page_pair('ds_pg', 'logistic_regression', 'flag', 0.2) AS logistic_bool,
       pg_temp.page_pair('ds_pg', 'logistic_regression', 'label', 0) AS logistic_int,
       pg_temp.page_pair('ds_pg', 'kmeans', NULL, 0) AS kmeans_none,
       pg_temp.page_pair('ds_pg', 'pca', NULL, 0.2) AS pca_none,
       pg_temp.page_pair('ds_pg', 'lasso', 'y', 0.2) AS lasso_float8;
CREATE TABLE ds_pg_bad AS SELECT * FROM ds_pg WITH NO DATA;
CREATE FUNCTION pg_temp.page_errors(algo text, target text, tf float8) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE stmt text := format('SELECT * FROM mm_train(%L, %L, %L, %L, features => ARRAY[%L, %L, %L], params => %L, test_fraction => %s)',
                            'ds_pg_err', algo, 'ds_pg_bad', target, 'c1', 'c2', 'c3',
                            CASE algo WHEN 'lasso' THEN '{"scale": "standard"}' ELSE '{}' END, tf);
BEGIN
  RETURN NEXT 'direct: ' || regress.error(stmt);
  SET LOCAL mm.direct_scan = off;
  RETURN NEXT 'query:  ' || regress.error(stmt);
  SET LOCAL mm.direct_scan = on;
END $$;
-- in the middle of a page: a NULL column, a NaN, an infinity, a NULL target,
-- a NaN target (a regression's, read as double precision)
INSERT INTO ds_pg_bad SELECT label, flag, y, c1, CASE WHEN label = 1 AND c1 > 0.99 THEN NULL ELSE c2 END, c3 FROM ds_pg;
SELECT pg_temp.page_errors('naive_bayes', 'label', 0);
SELECT pg_temp.page_errors('naive_bayes', 'label', 0.2);
SELECT pg_temp.page_errors('kmeans', NULL, 0);
TRUNCATE ds_pg_bad;
INSERT INTO ds_pg_bad SELECT label, flag, y, c1, c2, CASE WHEN label = 2 AND c1 > 0.99 THEN 'NaN' ELSE c3 END FROM ds_pg;
SELECT pg_temp.page_errors('naive_bayes', 'label', 0);
SELECT pg_temp.page_errors('logistic_regression', 'flag', 0.2);
TRUNCATE ds_pg_bad;
INSERT INTO ds_pg_bad SELECT label, flag, y, CASE WHEN label = 0 AND c1 > 0.99 THEN '-Infinity' ELSE c1 END, c2, c3 FROM ds_pg;
SELECT pg_temp.page_errors('naive_bayes', 'flag', 0);
SELECT pg_temp.page_errors('pca', NULL, 0.2);
TRUNCATE ds_pg_bad;
INSERT INTO ds_pg_bad SELECT CASE WHEN c1 > 0.99 THEN NULL ELSE label END, flag, y, c1, c2, c3 FROM ds_pg;
SELECT pg_temp.page_errors('naive_bayes', 'label', 0);
SELECT pg_temp.page_errors('naive_bayes', 'label', 0.2);
TRUNCATE ds_pg_bad;
INSERT INTO ds_pg_bad SELECT label, flag, CASE WHEN c1 > 0.99 THEN 'NaN' ELSE y END, c1, c2, c3 FROM ds_pg;
SELECT pg_temp.page_errors('lasso', 'y', 0.2);
SELECT count(*) FILTER (WHERE y = 'NaN') AS bad_rows, min(ctid) FILTER (WHERE y = 'NaN') AS first_bad,
       max(ctid) AS last_row FROM ds_pg_bad;
DROP TABLE ds_pg, ds_pg_bad;

-- an empty table
CREATE TABLE ds_empty (x float8, y float8, k int);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'linear_regression', 'ds_empty', 'y', features => ARRAY['x'])$$);
SELECT regress.error($$SELECT * FROM mm_train('ds_err', 'naive_bayes', 'ds_empty', 'k', features => ARRAY['x'])$$);

-- the statement's snapshot: rows written earlier in the transaction are
-- read, rows deleted are not
BEGIN;
DELETE FROM ds_t WHERE id > 3000;
INSERT INTO ds_t (id, a, g, y) VALUES (5000, 1, 1, 1);
SELECT version, pg_temp.rows('ds_tx', version) FROM mm_train('ds_tx', 'linear_regression', 'ds_t', 'y',
  features => ARRAY['a', 'g']);
ROLLBACK;

-- read through a query instead: a view, a numeric column, a table with
-- inheritance children (the query reads them too), row-level security
CREATE VIEW ds_v AS SELECT * FROM ds_t;
SELECT version FROM mm_train('ds_fall', 'linear_regression', 'ds_v', 'y', features => ARRAY['a', 'g'],
  params => '{"verbose": true}');
CREATE TABLE ds_num (x numeric, y float8);
INSERT INTO ds_num SELECT i, 2 * i FROM generate_series(1, 50) i;
SELECT version FROM mm_train('ds_fall', 'linear_regression', 'ds_num', 'y', params => '{"verbose": true}');
CREATE TABLE ds_parent (x float8, y float8);
CREATE TABLE ds_child () INHERITS (ds_parent);
INSERT INTO ds_parent SELECT i, 3 * i FROM generate_series(1, 40) i;
INSERT INTO ds_child SELECT i, 3 * i FROM generate_series(41, 100) i;
SELECT version, pg_temp.rows('ds_fall', version) FROM mm_train('ds_fall', 'linear_regression', 'ds_parent', 'y',
  params => '{"verbose": true}');

-- privileges: SELECT granted on every column is enough (a table source
-- needs them all); a policy sends the read through the query, which
-- applies it
CREATE ROLE mm_ds_role;
CREATE TABLE ds_rls (who name, x float8, y float8, hidden float8);
INSERT INTO ds_rls SELECT CASE WHEN i <= 40 THEN 'mm_ds_role' ELSE 'other' END, i, 5 * i + (i % 3), 0
  FROM generate_series(1, 100) i;
GRANT SELECT (who, x, y, hidden) ON ds_rls TO mm_ds_role;
SET ROLE mm_ds_role;
SELECT version FROM mm_train('ds_priv', 'linear_regression', 'ds_rls', 'y',
  features => ARRAY['x'], params => '{"verbose": true}');
RESET ROLE;
REVOKE SELECT (hidden) ON ds_rls FROM mm_ds_role;
SET ROLE mm_ds_role;
SELECT version FROM mm_train('ds_priv', 'linear_regression', 'ds_rls', 'y', features => ARRAY['x']);
RESET ROLE;
ALTER TABLE ds_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY ds_own ON ds_rls FOR SELECT USING (who = current_user);
GRANT SELECT ON ds_rls TO mm_ds_role;
SET ROLE mm_ds_role;
SELECT version FROM mm_train('ds_priv', 'linear_regression', 'ds_rls', 'y',
  features => ARRAY['x'], params => '{"verbose": true}');
RESET ROLE;
SELECT pg_temp.rows('ds_priv', 1) AS all_rows, pg_temp.rows('ds_priv', 2) AS own_rows;
-- the owner is not subject to the policy (not forced): direct, every row
SELECT version, pg_temp.rows('ds_own', version) FROM mm_train('ds_own', 'linear_regression', 'ds_rls', 'y',
  features => ARRAY['x'], params => '{"verbose": true}');

-- a materialized view is read directly once populated
CREATE MATERIALIZED VIEW ds_mv AS SELECT a, g, y FROM ds_t WITH NO DATA;
SELECT regress.error($$SELECT * FROM mm_train('ds_mv', 'linear_regression', 'ds_mv', 'y')$$);
REFRESH MATERIALIZED VIEW ds_mv;
SELECT version FROM mm_train('ds_mv', 'linear_regression', 'ds_mv', 'y', params => '{"verbose": true}');
SET mm.direct_scan = off;
SELECT version FROM mm_train('ds_mv', 'linear_regression', 'ds_mv', 'y', params => '{"verbose": true}');
RESET mm.direct_scan;
SELECT regress.same_version('ds_mv', 1, 2) AS matview_same;

-- mm.huge_pages (off by default) changes only where the memory of a train
-- comes from: 8 MB of kept held-out rows, a dataset chunk, the same versions (read
-- without parallel workers, whose sums come in any order)
CREATE TABLE ds_big AS SELECT i::float8 AS x, (2 * i)::float8 AS y FROM generate_series(1, 1000000) i;
SET max_parallel_workers_per_gather = 0;
SHOW mm.huge_pages;
SET mm.huge_pages = on;
SELECT version FROM mm_train('ds_huge', 'linear_regression', 'ds_big', 'y', test_fraction => 0.5);
SELECT version FROM mm_train('ds_huge_km', 'kmeans', 'ds_big', NULL, params => '{"k": 2, "seed": 5}');
RESET mm.huge_pages;
SELECT version FROM mm_train('ds_huge', 'linear_regression', 'ds_big', 'y', test_fraction => 0.5);
SELECT version FROM mm_train('ds_huge_km', 'kmeans', 'ds_big', NULL, params => '{"k": 2, "seed": 5}');
SELECT regress.same_version('ds_huge', 1, 2) AS linear_same, regress.same_version('ds_huge_km', 1, 2) AS kmeans_same,
       pg_temp.rows('ds_huge', 2) AS linear_rows;
RESET max_parallel_workers_per_gather;

-- cancel and statement_timeout reach the loop
SET statement_timeout = '20ms';
SELECT regress.error($$SELECT * FROM mm_train('ds_big', 'linear_regression', 'ds_big', 'y')$$);
RESET statement_timeout;

SELECT mm_drop(name) FROM (VALUES ('ds_lin'), ('ds_nb'), ('ds_log'), ('ds_km'), ('ds_las'), ('ds_tx'), ('ds_fall'),
                                  ('ds_priv'), ('ds_own'), ('ds_mv'), ('ds_huge'), ('ds_huge_km')) v(name)
 WHERE EXISTS (SELECT 1 FROM mm.models WHERE models.name = v.name);
DROP TABLE ds_big, ds_rls, ds_parent CASCADE;
DROP MATERIALIZED VIEW ds_mv;
DROP VIEW ds_v;
DROP TABLE ds_t, ds_empty, ds_num;
DROP ROLE mm_ds_role;
