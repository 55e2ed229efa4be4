-- The direct read of a large table takes parallel workers, as a parallel
-- scan of it would (max_parallel_workers_per_gather, min_parallel_table_scan_size,
-- the table's parallel_workers): each reads its share of the pages into
-- moments of its own and keeps its rows to keep; the backend merges the
-- moments, fits, and has each worker score and profile its rows.  With
-- nothing held out no row is kept: the processes read the pages again,
-- each its own and then those another has not reached yet.
-- The version is the serial one up to the order of floating-point sums.
-- min_parallel_table_scan_size = 0 lets this small table have workers.
\set VERBOSITY terse
-- two versions agree: the same rows, numbers within 1e-9 (relative);
-- agree_fit leaves out the profile
CREATE FUNCTION pg_temp.agree_fit(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT x.n_train = y.n_train
     AND (x.metrics->>'n') = (y.metrics->>'n')
     AND (x.metrics->>'evaluated_on') = (y.metrics->>'evaluated_on')
     AND regress.near((x.metrics->>'rmse')::float8, (y.metrics->>'rmse')::float8)
     AND regress.near((x.metrics->>'mae')::float8, (y.metrics->>'mae')::float8)
     AND regress.near((x.metrics->>'r2')::float8, (y.metrics->>'r2')::float8)
     AND (SELECT bool_and(regress.near(wa.weight, wb.weight) AND wa.feature = wb.feature)
            FROM mm_weights(model, a) WITH ORDINALITY wa(class, feature, weight, i)
            JOIN mm_weights(model, b) WITH ORDINALITY wb(class, feature, weight, i) USING (i))
    FROM mm.versions x, mm.versions y, mm.models m
   WHERE m.name = model AND x.model_id = m.id AND y.model_id = m.id AND x.version = a AND y.version = b $$;
CREATE FUNCTION pg_temp.agree(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT pg_temp.agree_fit(model, a, b)
     AND (x.profile->>'rows') IS NOT DISTINCT FROM (y.profile->>'rows')
     AND (x.profile IS NULL OR
          (SELECT bool_and(regress.near((fa->>'mean')::float8, (fb->>'mean')::float8))
             FROM jsonb_array_elements(x.profile->'features') WITH ORDINALITY pa(fa, i)
             JOIN jsonb_array_elements(y.profile->'features') WITH ORDINALITY pb(fb, i) USING (i)))
    FROM mm.versions x, mm.versions y, mm.models m
   WHERE m.name = model AND x.model_id = m.id AND y.model_id = m.id AND x.version = a AND y.version = b $$;

CREATE TABLE dp_t (id int, a float8, b float8, c int4, d float4, flag bool, y float8);
INSERT INTO dp_t
SELECT i, sin(i), cos(i * 0.7), i % 23, (i % 11)::float4 / 3, i % 4 = 0,
       1.5 + 2 * sin(i) - cos(i * 0.7) + 0.05 * (i % 23) + 0.3 * (i % 11) / 3
         + CASE WHEN i % 4 = 0 THEN 0.4 ELSE 0 END + 0.1 * sin(i * 12.9898)
  FROM generate_series(1, 30000) i;
ANALYZE dp_t;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

-- held out, and every row kept (test_fraction 0): with workers, then without
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 2;
SELECT version FROM mm_train('dp_lin', 'ridge', 'dp_t', 'y', features => ARRAY['a', 'b', 'c', 'd', 'flag'],
  params => '{"alpha": 0.5, "verbose": true}', test_fraction => 0);
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dp_lin', 'ridge', 'dp_t', 'y', features => ARRAY['a', 'b', 'c', 'd', 'flag'],
  params => '{"alpha": 0.5}', test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dp_lin', 1, 2) AS heldout_agree, pg_temp.agree('dp_lin', 3, 4) AS all_rows_agree,
       (SELECT n_train || ' + ' || (metrics->>'n') FROM mm_versions WHERE model = 'dp_lin' AND version = 1) AS split,
       (SELECT n_train || ' on ' || (metrics->>'evaluated_on') FROM mm_versions WHERE model = 'dp_lin' AND version = 3) AS kept;

-- the lasso and the elastic net fit the same merged moments
SELECT version FROM mm_train('dp_las', 'lasso', 'dp_t', 'y', features => ARRAY['a', 'b', 'c', 'd'],
  params => '{"alpha": 0.01, "tol": 1e-10}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dp_las', 'lasso', 'dp_t', 'y', features => ARRAY['a', 'b', 'c', 'd'],
  params => '{"alpha": 0.01, "tol": 1e-10}');
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dp_las', 1, 2) AS lasso_agree;

-- held-out rows beyond mm.max_train_memory: scored in a second pass, as
-- serially; with test_fraction 0 no row is kept (the processes read the
-- pages again), so the budget does not matter and the version has a profile
SET mm.max_train_memory = '64kB';
SELECT version FROM mm_train('dp_mem', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"verbose": true}');
SELECT version FROM mm_train('dp_mem', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0.3, params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dp_mem', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0);
SELECT version FROM mm_train('dp_mem', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0.3);
SET max_parallel_workers_per_gather = 2;
RESET mm.max_train_memory;
-- (held out beyond the budget, the profile is of the training rows each
-- process kept within its own budget: how many depends on how the pages
-- fell to the processes, so only the fit and the metrics are compared)
SELECT pg_temp.agree('dp_mem', 1, 3) AS all_rows_agree, pg_temp.agree_fit('dp_mem', 2, 4) AS heldout_agree,
       (SELECT x.profile IS NOT NULL FROM mm.versions x JOIN mm.models m ON m.id = x.model_id
         WHERE m.name = 'dp_mem' AND x.version = 1) AS profiled;

-- no worker slot: the backend reads every page itself, the serial version bit for bit
SET max_parallel_workers = 0;
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET max_parallel_workers;
SELECT regress.same_version('dp_lin', 2, 5) AS no_slot_same;
-- the same with every row scored: the pages of the shared scan read again
SET max_parallel_workers = 0;
SELECT version FROM mm_train('dp_nos', 'ridge', 'dp_t', 'y', features => ARRAY['a', 'b', 'c'],
  test_fraction => 0, params => '{"verbose": true}');
RESET max_parallel_workers;
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dp_nos', 'ridge', 'dp_t', 'y', features => ARRAY['a', 'b', 'c'],
  test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SELECT regress.same_version('dp_nos', 1, 2) AS no_slot_all_rows_same,
       (SELECT metrics->>'n' FROM mm_versions WHERE model = 'dp_nos' AND version = 1) AS scored;
-- and with the workers reading every page: the backend has none to read again
SET parallel_leader_participation = off;
SELECT version FROM mm_train('dp_nos', 'ridge', 'dp_t', 'y', features => ARRAY['a', 'b', 'c'],
  test_fraction => 0, params => '{"verbose": true}');
RESET parallel_leader_participation;
SELECT pg_temp.agree('dp_nos', 2, 3) AS workers_only_agree,
       (SELECT metrics->>'n' FROM mm_versions WHERE model = 'dp_nos' AND version = 3) AS scored;

-- the table's parallel_workers, as the planner takes it
ALTER TABLE dp_t SET (parallel_workers = 1);
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dp_t SET (parallel_workers = 0);
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dp_t RESET (parallel_workers);
SELECT pg_temp.agree('dp_lin', 1, 6) AS one_worker_agree, regress.same_version('dp_lin', 2, 7) AS no_worker_same;
-- parallel_leader_participation off, as for a Gather: the workers read every page
SET parallel_leader_participation = off;
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET parallel_leader_participation;
SELECT pg_temp.agree('dp_lin', 1, 8) AS no_leader_agree;

-- below min_parallel_table_scan_size, and a temporary table: no workers
SET min_parallel_table_scan_size = '100MB';
SELECT version FROM mm_train('dp_lin', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET min_parallel_table_scan_size;
SET min_parallel_table_scan_size = 0;
CREATE TEMP TABLE dp_temp AS SELECT * FROM dp_t;
SELECT version FROM mm_train('dp_tmp', 'linear_regression', 'dp_temp', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');

-- a bad value a worker reads: the serial read's error
CREATE TABLE dp_bad AS SELECT * FROM dp_t;
UPDATE dp_bad SET b = NULL WHERE id = 29000;
SELECT regress.error($$SELECT * FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y',
  features => ARRAY['a', 'b', 'c'])$$);
-- an error while the workers wait with their rows for the model: they are gone
SELECT regress.error($$SELECT * FROM mm_train('dp_few', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], test_fraction => 0.9999)$$);
SELECT version FROM mm_train('dp_few', 'linear_regression', 'dp_t', 'y',
  features => ARRAY['a', 'b'], test_fraction => 0, params => '{"verbose": true}');
-- caught in a subtransaction: the workers are gone and the transaction goes on
BEGIN;
DO $$ BEGIN
  PERFORM * FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y', features => ARRAY['a', 'b', 'c']);
EXCEPTION WHEN others THEN RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT version FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y', features => ARRAY['a', 'c'],
  params => '{"verbose": true}');
ROLLBACK;
UPDATE dp_bad SET b = 'NaN' WHERE id = 29000;
SELECT regress.error($$SELECT * FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y',
  features => ARRAY['a', 'b', 'c'])$$);
UPDATE dp_bad SET b = 0, y = NULL WHERE id = 29000;
SELECT regress.error($$SELECT * FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y',
  features => ARRAY['a', 'b', 'c'])$$);
-- pages without a visible row
DELETE FROM dp_bad;
SELECT regress.error($$SELECT * FROM mm_train('dp_bad', 'linear_regression', 'dp_bad', 'y',
  features => ARRAY['a', 'b', 'c'])$$);

-- rows this transaction inserted: the workers share its snapshot and see them
BEGIN;
INSERT INTO dp_t SELECT i, 0.5, 0.5, 1, 1, false, 2 FROM generate_series(30001, 31000) i;
SELECT metrics->>'n' AS rows_read
  FROM mm_train('dp_snap', 'linear_regression', 'dp_t', 'y', features => ARRAY['a', 'b'],
                test_fraction => 0, params => '{"verbose": true}');
ROLLBACK;

-- inside a function called per row (the outer query is not in parallel mode)
SELECT count(*) AS trains FROM (
  SELECT (mm_train('dp_loop_' || g, 'linear_regression', 'dp_t', 'y', features => ARRAY['a', 'b'])).version
    FROM generate_series(1, 2) g) t;

RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
SELECT mm_drop(name) FROM (VALUES ('dp_lin'), ('dp_las'), ('dp_mem'), ('dp_tmp'), ('dp_bad'), ('dp_snap'), ('dp_few'),
                                  ('dp_loop_1'), ('dp_loop_2')) v(name)
 WHERE EXISTS (SELECT 1 FROM mm.models WHERE models.name = v.name);
DROP TABLE dp_t, dp_bad;
