-- The planner rewrites mm_predict over ARRAY[...] of columns and over a
-- table's whole row into mm_predict_fields: same answers, nothing built
-- per row.
CREATE TABLE rw (id int, a float8, b real, c int, d numeric, dropped_col text, e float8[]);
ALTER TABLE rw DROP COLUMN dropped_col;
INSERT INTO rw SELECT i, i * 0.5, (i % 7)::real, i % 5, (i % 11) / 3.0, ARRAY[sin(i), cos(i)]
  FROM generate_series(1, 200) i;
ALTER TABLE rw ADD COLUMN y float8;
UPDATE rw SET y = 1 + 2 * a - b + 0.5 * c + 3 * d + e[1] - 2 * e[2];
SELECT version FROM mm_train('rw', 'linear_regression', 'rw', 'y', features => ARRAY['a', 'b', 'c', 'd', 'e'],
                             test_fraction => 0);

-- what the planner makes of the calls
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', ARRAY[a, b, c, d, e[1], e[2]]) FROM rw;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', r) FROM rw r;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', r.*, 1) FROM rw r;
-- a view's row and ROW(...) pass their column names; constant arrays and
-- rows that are not expressions keep the plain call
CREATE VIEW rw_view AS SELECT * FROM rw;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', v) FROM rw_view v;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', ROW(a, b, c, d, e)) FROM rw;
CREATE TYPE rw_type AS (e float8[], d numeric, c int, b real, a float8);
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', ROW(e, d, c, b, a)::rw_type) FROM rw;
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', ARRAY[1, 2, 3, 4, 5, 6]);
EXPLAIN (VERBOSE, COSTS OFF) SELECT mm_predict('rw', s) FROM (SELECT * FROM rw OFFSET 0) s;

-- every form gives the same predictions, equal to the training targets
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(mm_predict('rw', r) - y) < 1e-9) AS row_ok,
       count(*) FILTER (WHERE abs(mm_predict('rw', ARRAY[a, b, c, d, e[1], e[2]]) - y) < 1e-9) AS array_ok,
       count(*) FILTER (WHERE mm_predict('rw', r) = (SELECT mm_predict('rw', v) FROM rw_view v WHERE v.id = r.id)) AS same_as_view,
       count(*) FILTER (WHERE mm_predict('rw', r) = mm_predict('rw', ROW(a, b, c, d, e))) AS same_as_row,
       count(*) FILTER (WHERE mm_predict('rw', r) = mm_predict('rw', ROW(e, d, c, b, a)::rw_type)) AS same_as_type,
       count(*) FILTER (WHERE mm_predict('rw', r) = (SELECT mm_predict('rw', s) FROM (SELECT * FROM rw OFFSET 0) s WHERE s.id = r.id)) AS same_as_subquery
  FROM rw r;

-- NULLs: a NULL column is an error naming it; the all-NULL row of an outer
-- join's missing side gives NULL
SELECT mm_predict('rw', r) FROM rw r WHERE false;
SELECT k, mm_predict('rw', r) IS NULL AS null_prediction
  FROM generate_series(200, 201) k LEFT JOIN rw r ON r.id = k ORDER BY k;
SELECT mm_predict('rw', s) IS NULL AS subquery_null_row
  FROM (SELECT NULL::float8 AS a, NULL::real AS b, NULL::int AS c, NULL::numeric AS d, NULL::float8[] AS e OFFSET 0) s;
SELECT mm_predict('rw', ROW(NULL::float8, NULL::real, NULL::int, NULL::numeric, NULL::float8[])) IS NULL AS row_null;
UPDATE rw SET a = NULL WHERE id = 1;
SELECT mm_predict('rw', r) FROM rw r WHERE id = 1;
SELECT mm_predict('rw', ARRAY[a, b, c, d, e[1], e[2]]) FROM rw WHERE id = 1;
SELECT mm_predict('rw', ARRAY[a, b, c, d, e[1]]) FROM rw WHERE id = 2;
SELECT mm_predict('rw', ARRAY[a, b, c, d, e[1], 'NaN']) FROM rw WHERE id = 2;

-- a prepared statement keeps working when a version with other features is
-- deployed: columns are mapped by name at execution, not at planning
PREPARE p_rw AS SELECT round(mm_predict('rw', r)::numeric, 6) AS p FROM rw r WHERE id = 3;
EXECUTE p_rw;
SELECT version FROM mm_train('rw', 'linear_regression', 'SELECT a, c, y FROM rw WHERE id > 1', 'y',
                             test_fraction => 0, deploy => 'always');
EXECUTE p_rw;
SELECT round((1 + 2 * a - b + 0.5 * c + 3 * d + e[1] - 2 * e[2])::numeric, 6) AS v1_formula FROM rw WHERE id = 3;
DEALLOCATE p_rw;

-- inheritance: the rewritten call follows the columns into the children
CREATE TABLE rw_parent (a float8, b real, c int, d numeric, e float8[]);
CREATE TABLE rw_child (extra text, e float8[], d numeric, c int, b real, a float8) ;
ALTER TABLE rw_child INHERIT rw_parent;
INSERT INTO rw_child SELECT 'x', e, d, c, b, a FROM rw WHERE id BETWEEN 2 AND 4;
SELECT mm_deploy('rw', 1);
SELECT count(*) FILTER (WHERE abs(mm_predict('rw', p) - (1 + 2 * a - b + 0.5 * c + 3 * d + e[1] - 2 * e[2])) < 1e-9) AS ok
  FROM rw_parent p;

-- a model whose features are named like the columns of an anonymous row
-- (f1, f2) maps them by name, whatever their order
CREATE TABLE ff (f1 float8, f2 float8, y float8);
INSERT INTO ff SELECT i, i % 7, 3 * i - 2 * (i % 7) FROM generate_series(1, 50) i;
SELECT version FROM mm_train('ff', 'linear_regression', 'ff', 'y', features => ARRAY['f2', 'f1'], test_fraction => 0);
SELECT round(mm_predict('ff', t)::numeric, 6) AS table_row,
       round(mm_predict('ff', s)::numeric, 6) AS subquery_row,
       round(mm_predict('ff', ROW(t.f1, t.f2))::numeric, 6) AS anonymous_row,
       round(mm_predict('ff', ARRAY[t.f2, t.f1])::numeric, 6) AS array_in_training_order,
       y
  FROM ff t, LATERAL (SELECT t.f1, t.f2 OFFSET 0) s WHERE t.f1 = 10;

-- mm_predict_fields called by hand is checked like the rewritten calls
SELECT round(mm_predict_fields('ff', NULL, NULL, 10.0::float8, 3.0::float8)::numeric, 6) AS encoded;
SELECT round(mm_predict_fields('ff', NULL, ARRAY['f1', 'f2'], 10.0::float8, 3.0::float8)::numeric, 6) AS named;
SELECT mm_predict_fields('ff', NULL, NULL, 1.0::float8);
SELECT mm_predict_fields('ff', NULL, ARRAY['f1'], 1.0::float8, 2.0::float8);
SELECT mm_predict_fields('ff', NULL, ARRAY['f1', 'zz'], 1.0::float8, 2.0::float8);
SELECT mm_predict_fields('ff', NULL, CASE WHEN i = 1 THEN ARRAY['f1', 'zz'] END, 1.0::float8, 1e300::float8)
  FROM generate_series(1, 3) i;
SELECT mm_predict_fields('ff', NULL, NULL, 'a'::text, 1.0::float8);
