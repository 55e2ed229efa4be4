-- mm_train's bad input: every error names what is wrong, and a failed
-- train leaves the catalog exactly as it was.
CREATE TABLE cat_before AS
  SELECT (SELECT count(*) FROM mm.models) AS models, (SELECT count(*) FROM mm.versions) AS versions,
         (SELECT count(*) FROM mm.deployments) AS deployments;
CREATE TABLE err_t (x1 float8, x2 float8, y float8, label text, arr float8[], y_text text, flag bool);
INSERT INTO err_t SELECT i, i * i % 7, 3 * i + 1, 'l' || i % 2, ARRAY[i, i + 1], 'a', i % 2 = 0
  FROM generate_series(1, 50) i;

-- arguments
SELECT * FROM mm_train(NULL, 'ridge', 'err_t', 'y');
SELECT * FROM mm_train('m', NULL, 'err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', NULL, 'y');
SELECT * FROM mm_train('', 'ridge', 'err_t', 'y');
SELECT * FROM mm_train(repeat('m', 64), 'ridge', 'err_t', 'y');
SELECT * FROM mm_train('m', 'no_such_algorithm', 'err_t', 'y');
SELECT * FROM mm_train('m', 'decision_tree', 'err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'err_t', NULL);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', test_fraction => 1);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', test_fraction => -0.1);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', test_fraction => 'NaN');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', test_fraction => NULL);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', deploy => 'sometimes');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', deploy => NULL);
-- params
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '{"alfa": 1}');
SELECT * FROM mm_train('m', 'linear_regression', 'err_t', 'y', params => '{"alpha": 1}');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '{"alpha": "1"}');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '{"alpha": -1}');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '{"fit_intercept": 1}');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '{"seed": 1.5}');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', params => '[1, 2]');
-- sources
SELECT * FROM mm_train('m', 'ridge', 'no_such_table', 'y');
SELECT * FROM mm_train('m', 'ridge', 'no_schema.err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, y FROM no_such_table', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1 y FROM', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT 1 AS x, 2 AS y; DROP TABLE err_t', 'y');
-- a query source cannot close the subquery it is wrapped in
SELECT * FROM mm_train('m', 'ridge', 'SELECT 1::float8 AS y, 1::float8 AS a) s; SELECT 1 AS q FROM (SELECT 1', 'y');
SELECT * FROM mm_train('m', 'ridge', '', 'y');
SELECT * FROM mm_train('m', 'ridge', 'err t', 'y');
-- target and features
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'no_such_column');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y_text', features => ARRAY['x1']);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'flag', features => ARRAY['x1']);
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, current_date AS d, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', features => ARRAY['x1', 'no_such_column']);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', features => ARRAY['x1', 'y']);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', features => ARRAY['x1', 'x1']);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', features => ARRAY['x1', NULL]);
SELECT * FROM mm_train('m', 'ridge', 'err_t', 'y', features => ARRAY[]::text[]);
SELECT * FROM mm_train('m', 'ridge', 'SELECT y FROM err_t', 'y');
-- data
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, y FROM err_t WHERE false', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, x2, y FROM err_t LIMIT 2', 'y', test_fraction => 0);
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, x2, y FROM err_t LIMIT 4', 'y', test_fraction => 0.5);
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, CASE WHEN x1 = 7 THEN NULL ELSE y END AS y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT CASE WHEN x1 = 7 THEN NULL ELSE x1 END AS x1, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT CASE WHEN x1 = 7 THEN ''NaN'' ELSE x1 END AS x1, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, CASE WHEN x1 = 7 THEN ''Infinity'' ELSE y END AS y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, CASE WHEN x1 = 7 THEN ''-Infinity''::float8 ELSE x2 END AS x2, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT CASE WHEN x1 = 7 THEN ARRAY[1.0] ELSE arr END AS arr, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT CASE WHEN x1 = 7 THEN ARRAY[1.0, NULL] ELSE arr END AS arr, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT CASE WHEN x1 = 7 THEN ARRAY[1.0, ''NaN''] ELSE arr END AS arr, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT ARRAY[[x1, x2]] AS arr, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT NULL::float8[] AS arr, y FROM err_t', 'y');
SELECT * FROM mm_train('m', 'ridge', 'SELECT ''{}''::float8[] AS arr, y FROM err_t', 'y');
\set VERBOSITY terse
SELECT * FROM mm_train('m', 'ridge', 'SELECT x1, y FROM err_t', 'y', params => '{"verbose": true}', test_fraction => 0.99);
\set VERBOSITY default
-- more than 90 feature columns: pack them into an array
SELECT format('SELECT * FROM mm_train(%L, %L, %L, %L)', 'm', 'ridge',
              'SELECT ' || string_agg('x1 AS c' || i, ', ') || ', y FROM err_t', 'y')
  FROM generate_series(1, 91) i \gexec
-- a model of another task
INSERT INTO mm.models (name, owner, task) VALUES ('other_task', current_user::regrole, 'classification');
SELECT * FROM mm_train('other_task', 'ridge', 'err_t', 'y', features => ARRAY['x1']);
DELETE FROM mm.models WHERE name = 'other_task';

-- rank-deficient data: a notice and the minimum-norm solution, never NaN
SELECT version FROM mm_train('collinear', 'linear_regression',
  'SELECT x1, 2 * x1 AS x1_twice, 5.0 AS const, y FROM err_t', 'y', test_fraction => 0);
SELECT feature, round(weight::numeric, 9) AS weight FROM mm_weights('collinear');
SELECT mm_drop('collinear');

-- statement_timeout and cancel stop a long train
SET statement_timeout = '200ms';
SELECT * FROM mm_train('m', 'ridge',
  'SELECT i::float8 AS x, sin(i) AS x2, (2 * i)::float8 AS y FROM generate_series(1, 50000000) i', 'y');
RESET statement_timeout;

-- the aggregate's state is validated wherever it comes from
CREATE AGGREGATE pg_temp.fake_combine(bytea) (SFUNC = mm_linear_stats_combine, STYPE = bytea);
SELECT pg_temp.fake_combine(x) FROM (VALUES ('\x4d4d4c53'::bytea), ('\x00'::bytea)) v(x);
SELECT pg_temp.fake_combine(x)
  FROM (SELECT decode(repeat('00', 64), 'hex') AS x FROM generate_series(1, 2)) v;
-- a state whose rows were kept in mm_train's buffer (flags, byte 16 of the data: 4) is not taken back
SELECT pg_temp.fake_combine(x)
  FROM (SELECT set_byte(s, 16, get_byte(s, 16) | 4) AS x
          FROM (SELECT mm_linear_stats(42, 0.2, 1000000, ARRAY['y', 'x1'], y, x1) AS s FROM err_t) a,
               generate_series(1, 2)) v;
SELECT mm_linear_stats(42, 0.2, 1000000, ARRAY['y', 'x1'], y, x1) IS NULL AS no_rows FROM err_t WHERE false;
SELECT length(mm_linear_stats(42, 0.2, 1000000, ARRAY['y', 'x'], y, x1)) > 0 AS state FROM err_t;

-- nothing of the failures above is left behind
SELECT (SELECT count(*) FROM mm.models) = models AS models_unchanged,
       (SELECT count(*) FROM mm.versions) = versions AS versions_unchanged,
       (SELECT count(*) FROM mm.deployments) = deployments AS deployments_unchanged
  FROM cat_before;
-- a failure after the version row was written rolls it back too
BEGIN;
SELECT version FROM mm_train('rolled_back', 'linear_regression', 'err_t', 'y', features => ARRAY['x1']);
SELECT 1 / 0;
ROLLBACK;
SELECT count(*) FROM mm_models WHERE model = 'rolled_back';
