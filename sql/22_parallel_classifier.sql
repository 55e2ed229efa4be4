-- A naive Bayes or logistic model of a large table is read by parallel
-- workers as a parallel scan would be (max_parallel_workers_per_gather,
-- min_parallel_table_scan_size, the table's parallel_workers): each keeps
-- the rows of its pages; the backend merges their labels, splits all the
-- rows (stratified, the same rows as the serial split), and has every
-- worker profile, fit (the stages of naive Bayes; its part of each pass
-- of logistic regression's Newton steps) and score its own rows.
-- The version is the serial one up to the order of floating-point sums.
-- min_parallel_table_scan_size = 0 lets this small table have workers.
\set VERBOSITY terse
-- two versions agree: the same split and metrics, the same profile, the same probabilities
CREATE FUNCTION pg_temp.agree(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT x.n_train = y.n_train
     AND (x.metrics->>'n') = (y.metrics->>'n')
     AND (x.metrics->>'evaluated_on') = (y.metrics->>'evaluated_on')
     AND (x.metrics->>'accuracy') = (y.metrics->>'accuracy')
     AND (x.metrics->>'f1') = (y.metrics->>'f1')
     AND regress.near((x.metrics->>'log_loss')::float8, (y.metrics->>'log_loss')::float8)
     AND (x.metrics->>'roc_auc') IS NOT DISTINCT FROM (y.metrics->>'roc_auc')
     AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(x.profile) k) =
         (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(y.profile) k)
     AND (x.profile->>'rows') = (y.profile->>'rows')
     AND (SELECT bool_and(regress.near((fa->>'mean')::float8, (fb->>'mean')::float8)
                          AND fa->>'name' = fb->>'name')
            FROM jsonb_array_elements(x.profile->'features') WITH ORDINALITY pa(fa, i)
            JOIN jsonb_array_elements(y.profile->'features') WITH ORDINALITY pb(fb, i) USING (i))
    FROM mm.versions x, mm.versions y, mm.models m
   WHERE m.name = model AND x.model_id = m.id AND y.model_id = m.id AND x.version = a AND y.version = b $$;

CREATE TABLE dpc_t (id int, a float8, b float8, c int4, d float4, flag bool, label int, yes bool);
INSERT INTO dpc_t
SELECT i, sin(i) + (i % 3), cos(i * 0.7) - 0.5 * (i % 3), i % 23, (i % 11)::float4 / 3, i % 4 = 0,
       10 * (i % 3) - 5, sin(i * 12.9898) + 0.3 * (i % 3) > 0.2
  FROM generate_series(1, 30000) i;
ANALYZE dpc_t;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

-- three integer classes, held out (stratified): with workers, then without
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_nb', 1, 2) AS heldout_agree,
       (SELECT n_train || ' + ' || (metrics->>'n') FROM mm_versions WHERE model = 'dpc_nb' AND version = 1) AS split,
       (SELECT max(abs(p1 - p2)) < 1e-12 FROM dpc_t t,
               unnest(mm_predict_proba('dpc_nb', t, 1), mm_predict_proba('dpc_nb', t, 2)) u(p1, p2)) AS same_proba,
       mm_labels('dpc_nb') AS labels;

-- a boolean label, every row scored (test_fraction 0), the AUC from every process's scores
SELECT version FROM mm_train('dpc_yes', 'naive_bayes', 'dpc_t', 'yes',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"var_smoothing": 0.001, "verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_yes', 'naive_bayes', 'dpc_t', 'yes',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"var_smoothing": 0.001}');
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_yes', 1, 2) AS all_rows_agree,
       (SELECT (metrics->>'roc_auc')::float8 > 0.5 FROM mm_versions WHERE model = 'dpc_yes' AND version = 1) AS auc,
       (SELECT n_train || ' on ' || (metrics->>'evaluated_on') FROM mm_versions WHERE model = 'dpc_yes' AND version = 1) AS kept;

-- with test_fraction 0 naive Bayes keeps no row: each process folds its
-- rows into per-label statistics as it reads them; then the processes read
-- the pages again to score and profile them, each its own pages and then
-- the pages another has not reached yet.  The workers read every row:
SET parallel_leader_participation = off;
SELECT version FROM mm_train('dpc_yes', 'naive_bayes', 'dpc_t', 'yes',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"var_smoothing": 0.001, "verbose": true}');
RESET parallel_leader_participation;
-- no worker slot: this backend folds and reads again every page, the serial version bit for bit
SET max_parallel_workers = 0;
SELECT version FROM mm_train('dpc_yes', 'naive_bayes', 'dpc_t', 'yes',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"var_smoothing": 0.001, "verbose": true}');
RESET max_parallel_workers;
-- far less memory than the rows take: nothing is kept
SET mm.max_train_memory = '1MB';
SELECT version FROM mm_train('dpc_yes', 'naive_bayes', 'dpc_t', 'yes',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"var_smoothing": 0.001}');
RESET mm.max_train_memory;
SELECT pg_temp.agree('dpc_yes', 2, 3) AS no_leader_agree, regress.same_version('dpc_yes', 2, 4) AS no_slot_same,
       pg_temp.agree('dpc_yes', 2, 5) AS small_memory_agree,
       (SELECT x.profile->>'rows' FROM mm.versions x JOIN mm.models m ON m.id = x.model_id
         WHERE m.name = 'dpc_yes' AND x.version = 3) AS profiled;
-- three integer classes, every row scored, against the serial fit
SELECT version FROM mm_train('dpc_all', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], test_fraction => 0);
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_all', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_all', 1, 2) AS all_agree,
       (SELECT max(abs(p1 - p2)) < 1e-12 FROM dpc_t t,
               unnest(mm_predict_proba('dpc_all', t, 1), mm_predict_proba('dpc_all', t, 2)) u(p1, p2)) AS same_proba;
-- labels in runs of pages of their own (7 in the last three pages): in the
-- second read a process that is done with its own pages takes those the
-- others have not reached, from the end of the table, whose labels its
-- first read often never saw; the backend sends every label's class
CREATE TABLE dpc_runs AS
SELECT id, a, b, c, CASE WHEN id <= 14000 THEN 1 WHEN id <= 29700 THEN 3 ELSE 7 END AS label
  FROM dpc_t ORDER BY id;
ANALYZE dpc_runs;
SELECT version FROM mm_train('dpc_runs', 'naive_bayes', 'dpc_runs', 'label',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0, params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_runs', 'naive_bayes', 'dpc_runs', 'label',
  features => ARRAY['a', 'b', 'c'], test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_runs', 1, 2) AS runs_agree, mm_labels('dpc_runs') AS labels,
       (SELECT (metrics->'confusion_matrix')::text FROM mm_versions
         WHERE model = 'dpc_runs' AND version = 1) AS confusion;

-- no worker slot: the backend reads every page itself, the serial version bit for bit
SET max_parallel_workers = 0;
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET max_parallel_workers;
SELECT regress.same_version('dpc_nb', 2, 3) AS no_slot_same;
-- one worker (the table's parallel_workers), and none
ALTER TABLE dpc_t SET (parallel_workers = 1);
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dpc_t SET (parallel_workers = 0);
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dpc_t RESET (parallel_workers);
SELECT pg_temp.agree('dpc_nb', 2, 4) AS one_worker_agree, regress.same_version('dpc_nb', 2, 5) AS no_worker_same;

-- parallel_leader_participation off: the workers read every row, this backend none
SET parallel_leader_participation = off;
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET parallel_leader_participation;
SELECT pg_temp.agree('dpc_nb', 2, 6) AS no_leader_agree;

-- logistic regression (penalty l2): the scaling from every process's rows,
-- each Newton pass the sum of every process's part
CREATE FUNCTION pg_temp.same_weights(model text, a int, b int, tol float8) RETURNS bool LANGUAGE sql AS $$
  SELECT bool_and(abs(wa.weight - wb.weight) <= tol * greatest(1, abs(wa.weight)) AND wa.feature = wb.feature
                  AND wa.class IS NOT DISTINCT FROM wb.class)
    FROM mm_weights(model, a) WITH ORDINALITY wa(class, feature, weight, i)
    JOIN mm_weights(model, b) WITH ORDINALITY wb(class, feature, weight, i) USING (i) $$;
SELECT version FROM mm_train('dpc_log', 'logistic_regression', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_log', 'logistic_regression', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag']);
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_log', 1, 2) AS standard_agree, pg_temp.same_weights('dpc_log', 1, 2, 1e-9) AS weights_agree,
       (SELECT max(abs(p1 - p2)) < 1e-9 FROM dpc_t t,
               unnest(mm_predict_proba('dpc_log', t, 1), mm_predict_proba('dpc_log', t, 2)) u(p1, p2)) AS same_proba;
-- two classes, min-max scaling, every row scored
SELECT version FROM mm_train('dpc_logb', 'logistic_regression', 'dpc_t', 'yes', features => ARRAY['a', 'b', 'c'],
  test_fraction => 0, params => '{"scale": "minmax", "C": 0.5, "verbose": true}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_logb', 'logistic_regression', 'dpc_t', 'yes', features => ARRAY['a', 'b', 'c'],
  test_fraction => 0, params => '{"scale": "minmax", "C": 0.5}');
SET max_parallel_workers_per_gather = 2;
-- unscaled
SELECT version FROM mm_train('dpc_logb', 'logistic_regression', 'dpc_t', 'yes', features => ARRAY['a', 'b', 'c'],
  params => '{"scale": "none"}');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_logb', 'logistic_regression', 'dpc_t', 'yes', features => ARRAY['a', 'b', 'c'],
  params => '{"scale": "none"}');
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.agree('dpc_logb', 1, 2) AS minmax_agree, pg_temp.same_weights('dpc_logb', 1, 2, 1e-9) AS minmax_weights,
       pg_temp.agree('dpc_logb', 3, 4) AS none_agree, pg_temp.same_weights('dpc_logb', 3, 4, 1e-9) AS none_weights;

-- not converged: the serial warning
SELECT version FROM mm_train('dpc_logb', 'logistic_regression', 'dpc_t', 'yes', features => ARRAY['a', 'b', 'c'],
  params => '{"max_iter": 1}');
-- 200,000 rows: the fit starts from a fit of every 16th row of each process
CREATE TABLE dpc_big AS
SELECT i, sin(i) AS a, cos(i * 0.3) AS b, sin(i * 12.9898) + 0.8 * sin(i) - 0.5 * cos(i * 0.3) > 0 AS yes
  FROM generate_series(1, 200000) i;
ANALYZE dpc_big;
-- (its iterations depend on the rows each process read: not shown)
SELECT version FROM mm_train('dpc_big', 'logistic_regression', 'dpc_big', 'yes', features => ARRAY['a', 'b'],
  test_fraction => 0);
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('dpc_big', 'logistic_regression', 'dpc_big', 'yes', features => ARRAY['a', 'b'],
  test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SELECT pg_temp.same_weights('dpc_big', 1, 2, 1e-6) AS subsample_start_agrees,
       (SELECT max(abs(p1 - p2)) < 1e-7 FROM dpc_big t,
               unnest(mm_predict_proba('dpc_big', t, 1), mm_predict_proba('dpc_big', t, 2)) u(p1, p2)) AS same_proba;

-- a scaled naive Bayes, a logistic regression without penalty (the
-- separability check reads every row): read by this backend alone
SELECT version FROM mm_train('dpc_sc', 'naive_bayes', 'dpc_t', 'label', features => ARRAY['a', 'b'],
  params => '{"scale": "standard", "verbose": true}');
SELECT version FROM mm_train('dpc_lognone', 'logistic_regression', 'dpc_t', 'label', features => ARRAY['a', 'b'],
  params => '{"penalty": "none", "verbose": true}');

-- a class whose only row is held out, wherever it was read: the serial error
CREATE TABLE dpc_bad AS SELECT * FROM dpc_t;
UPDATE dpc_bad SET label = 99 WHERE id = 29000;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0.6)$$);
SET max_parallel_workers_per_gather = 0;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0.6)$$);
SET max_parallel_workers_per_gather = 2;
-- one label only
UPDATE dpc_bad SET label = 1;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'])$$);
-- the same after a read that keeps no row, its scan still open for the scoring
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0)$$);
-- bad values a worker reads: the serial read's errors
UPDATE dpc_bad SET label = id % 2;
UPDATE dpc_bad SET b = NULL WHERE id = 29001;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'])$$);
UPDATE dpc_bad SET b = 'Infinity' WHERE id = 29001;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'])$$);
UPDATE dpc_bad SET b = 0, label = NULL WHERE id = 29001;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'])$$);
-- the same errors from the read that keeps no row (test_fraction 0)
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0)$$);
UPDATE dpc_bad SET label = 1, b = 'NaN' WHERE id = 29001;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0)$$);
UPDATE dpc_bad SET b = 0;
SELECT regress.error($$SELECT * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label',
  features => ARRAY['a', 'b'], test_fraction => 0, params => '{"var_smoothing": 0}')$$);
UPDATE dpc_bad d SET b = t.b, label = t.id % 2 FROM dpc_t t WHERE t.id = d.id;
UPDATE dpc_bad SET b = 0, label = NULL WHERE id = 29001;
-- caught in a subtransaction: the workers are gone and the transaction goes on
BEGIN;
DO $$ BEGIN
  PERFORM * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label', features => ARRAY['a', 'b']);
EXCEPTION WHEN others THEN RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT version FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_t', 'label', features => ARRAY['a', 'c'],
  test_fraction => 0, params => '{"verbose": true}');
ROLLBACK;
-- no row at all (a table with parallel_workers set takes workers whatever its size;
-- pages whose rows were all deleted): the serial error
CREATE TABLE dpc_empty (a float8, b float8, label int) WITH (parallel_workers = 2);
SELECT regress.error($$SELECT * FROM mm_train('dpc_empty', 'naive_bayes', 'dpc_empty', 'label')$$);
INSERT INTO dpc_empty SELECT i, i, i % 2 FROM generate_series(1, 5000) i;
DELETE FROM dpc_empty;
SELECT regress.error($$SELECT * FROM mm_train('dpc_empty', 'logistic_regression', 'dpc_empty', 'label')$$);
DROP TABLE dpc_empty;
-- a worker's rows beyond its mm.max_train_memory
SET mm.max_train_memory = '256kB';
SELECT regress.error($$SELECT * FROM mm_train('dpc_mem', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'])$$);
RESET mm.max_train_memory;

-- rows this transaction inserted: the workers share its snapshot and see them
BEGIN;
INSERT INTO dpc_t SELECT i, 0.5, 0.5, 1, 1, false, 7, true FROM generate_series(30001, 31000) i;
SELECT metrics->>'n' AS rows_read
  FROM mm_train('dpc_snap', 'naive_bayes', 'dpc_t', 'label', features => ARRAY['a', 'b'],
                test_fraction => 0, params => '{"verbose": true}');
SELECT mm_labels('dpc_snap') AS labels;
ROLLBACK;

RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
SELECT mm_drop(name) FROM (VALUES ('dpc_nb'), ('dpc_yes'), ('dpc_sc'), ('dpc_log'), ('dpc_logb'), ('dpc_lognone'),
                                  ('dpc_big'), ('dpc_bad'), ('dpc_snap')) v(name)
 WHERE EXISTS (SELECT 1 FROM mm.models WHERE models.name = v.name);
DROP TABLE dpc_t, dpc_bad, dpc_big;
