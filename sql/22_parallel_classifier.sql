-- A naive Bayes model of a large table is read by parallel workers as a
-- parallel scan would be (max_parallel_workers_per_gather,
-- min_parallel_table_scan_size, the table's parallel_workers): each keeps
-- the rows of its pages; the backend merges their labels, splits all the
-- rows (stratified, the same rows as the serial split), and has every
-- worker profile, fit (the stages of the fit) and score its own rows.
-- The version is the serial one up to the order of floating-point sums.
-- min_parallel_table_scan_size = 0 lets this small table have workers.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.near(a float8, b float8) RETURNS bool LANGUAGE sql AS $$
  SELECT abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
-- two versions agree: the same split and metrics, the same profile, the same probabilities
CREATE FUNCTION pg_temp.agree(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT x.n_train = y.n_train
     AND (x.metrics->>'n') = (y.metrics->>'n')
     AND (x.metrics->>'evaluated_on') = (y.metrics->>'evaluated_on')
     AND (x.metrics->>'accuracy') = (y.metrics->>'accuracy')
     AND (x.metrics->>'f1') = (y.metrics->>'f1')
     AND pg_temp.near((x.metrics->>'log_loss')::float8, (y.metrics->>'log_loss')::float8)
     AND (x.metrics->>'roc_auc') IS NOT DISTINCT FROM (y.metrics->>'roc_auc')
     AND (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(x.profile) k) =
         (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(y.profile) k)
     AND (x.profile->>'rows') = (y.profile->>'rows')
     AND (SELECT bool_and(pg_temp.near((fa->>'mean')::float8, (fb->>'mean')::float8)
                          AND fa->>'name' = fb->>'name')
            FROM jsonb_array_elements(x.profile->'features') WITH ORDINALITY pa(fa, i)
            JOIN jsonb_array_elements(y.profile->'features') WITH ORDINALITY pb(fb, i) USING (i))
    FROM mm.versions x, mm.versions y, mm.models m
   WHERE m.name = model AND x.model_id = m.id AND y.model_id = m.id AND x.version = a AND y.version = b $$;
CREATE FUNCTION pg_temp.same(model text, a int, b int) RETURNS bool LANGUAGE sql AS $$
  SELECT x.blob = y.blob AND x.metrics = y.metrics AND x.profile IS NOT DISTINCT FROM y.profile
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

-- no worker slot: the backend reads every page itself, the serial version bit for bit
SET max_parallel_workers = 0;
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
RESET max_parallel_workers;
SELECT pg_temp.same('dpc_nb', 2, 3) AS no_slot_same;
-- one worker (the table's parallel_workers), and none
ALTER TABLE dpc_t SET (parallel_workers = 1);
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dpc_t SET (parallel_workers = 0);
SELECT version FROM mm_train('dpc_nb', 'naive_bayes', 'dpc_t', 'label',
  features => ARRAY['a', 'b', 'c', 'd', 'flag'], params => '{"verbose": true}');
ALTER TABLE dpc_t RESET (parallel_workers);
SELECT pg_temp.agree('dpc_nb', 2, 4) AS one_worker_agree, pg_temp.same('dpc_nb', 2, 5) AS no_worker_same;

-- a scaled model, another algorithm: read by this backend alone
SELECT version FROM mm_train('dpc_sc', 'naive_bayes', 'dpc_t', 'label', features => ARRAY['a', 'b'],
  params => '{"scale": "standard", "verbose": true}');
SELECT version FROM mm_train('dpc_log', 'logistic_regression', 'dpc_t', 'label', features => ARRAY['a', 'b'],
  params => '{"verbose": true}');

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
-- caught in a subtransaction: the workers are gone and the transaction goes on
BEGIN;
DO $$ BEGIN
  PERFORM * FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_bad', 'label', features => ARRAY['a', 'b']);
EXCEPTION WHEN others THEN RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT version FROM mm_train('dpc_bad', 'naive_bayes', 'dpc_t', 'label', features => ARRAY['a', 'c'],
  test_fraction => 0, params => '{"verbose": true}');
ROLLBACK;
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
SELECT mm_drop(name) FROM (VALUES ('dpc_nb'), ('dpc_yes'), ('dpc_sc'), ('dpc_log'), ('dpc_bad'), ('dpc_snap'))
                          v(name)
 WHERE EXISTS (SELECT 1 FROM mm.models WHERE models.name = v.name);
DROP TABLE dpc_t, dpc_bad;
