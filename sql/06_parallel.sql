-- The training scan is a parallel-safe aggregate: a parallel plan gives
-- the same model as a serial one.  This file is about that query; a plain
-- table would be read directly (20_direct_scan), so the direct read is off.
SET mm.direct_scan = off;
CREATE TABLE par (id int, x1 float8, x2 float8, x3 float8, emb float8[], y float8);
INSERT INTO par
SELECT i, sin(i), cos(i * 0.7) * 100, (i % 97) / 7.0, ARRAY[sin(i * 1.3), (i % 11)::float8],
       5 + 2 * sin(i) - 0.03 * cos(i * 0.7) * 100 + 0.5 * (i % 97) / 7.0 + sin(i * 1.3) - (i % 11) * 0.2
         + 0.1 * sin(i * 12.9898) -- noise
  FROM generate_series(1, 60000) i;
ANALYZE par;

SET max_parallel_workers_per_gather = 0;
SELECT version, deployed FROM mm_train('par', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                                       params => '{"alpha": 0.5}');

SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF)
SELECT mm_linear_stats(42, 0.2, 268435456, ARRAY['y', 'x1', 'x2', 'x3', 'emb'], y, x1, x2, x3, emb) FROM par;
SELECT version, deployed FROM mm_train('par', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                                       params => '{"alpha": 0.5}', deploy => 'never');
RESET force_parallel_mode;

-- same split, same weights, same held-out metrics
SELECT a.n_train = b.n_train AS same_rows,
       (a.metrics->>'n') = (b.metrics->>'n') AS same_heldout_rows,
       abs((a.metrics->>'rmse')::float8 - (b.metrics->>'rmse')::float8) < 1e-9 * (a.metrics->>'rmse')::float8 AS same_rmse
  FROM mm_versions a, mm_versions b WHERE a.model = 'par' AND b.model = 'par' AND a.version = 1 AND b.version = 2;
SELECT count(*) AS weights, max(abs(a.weight - b.weight) / greatest(abs(a.weight), 1e-300)) < 1e-9 AS same_weights
  FROM mm_weights('par', 1) a JOIN mm_weights('par', 2) b USING (feature);
SELECT feature, round(weight::numeric, 2) AS weight FROM mm_weights('par', 2);

-- held-out rows beyond mm.max_train_memory are scored in a second pass,
-- with the same result
SET mm.max_train_memory = '64kB';
\set VERBOSITY terse
SELECT version FROM mm_train('par', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.5, "verbose": true}', deploy => 'never');
\set VERBOSITY default
RESET mm.max_train_memory;
SELECT a.metrics->>'n' = b.metrics->>'n' AS same_heldout_rows,
       abs((a.metrics->>'mae')::float8 - (b.metrics->>'mae')::float8) < 1e-9 * (a.metrics->>'mae')::float8 AS same_mae
  FROM mm_versions a, mm_versions b WHERE a.model = 'par' AND b.model = 'par' AND a.version = 1 AND b.version = 3;

-- with test_fraction 0 a serial scan keeps every row and scores them with no
-- second pass (and profiles them); beyond mm.max_train_memory, and in a
-- parallel plan, the rows are read again: the same metrics every way
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('par_all', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.5}', test_fraction => 0);
SET mm.max_train_memory = '64kB';
SELECT version FROM mm_train('par_all', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.5}', test_fraction => 0, deploy => 'never');
RESET mm.max_train_memory;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SELECT version FROM mm_train('par_all', 'ridge', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.5}', test_fraction => 0, deploy => 'never');
RESET force_parallel_mode;
SELECT b.version, b.metrics->>'evaluated_on' AS evaluated_on, b.metrics->>'n' AS n,
       abs((a.metrics->>'mae')::float8 - (b.metrics->>'mae')::float8) < 1e-9 * (a.metrics->>'mae')::float8 AS same_mae,
       abs((a.metrics->>'r2')::float8 - (b.metrics->>'r2')::float8) < 1e-9 AS same_r2,
       v.profile->>'from' AS profiled, v.profile->>'rows' AS profiled_rows
  FROM mm_versions a, mm_versions b, mm.versions v, mm.models m
 WHERE a.model = 'par_all' AND a.version = 1 AND b.model = 'par_all'
   AND m.name = 'par_all' AND v.model_id = m.id AND v.version = b.version
 ORDER BY b.version;

-- parallel prediction
SELECT count(*), round(avg(mm_predict('par', ARRAY[x1, x2, x3] || emb))::numeric, 6) =
                 round(avg(mm_predict('par', p))::numeric, 6) AS same
  FROM par p;

-- lasso and elastic net take the same scan (coordinate descent on the Gram
-- matrix of the co-moments): parallel equals serial, and both equal the
-- in-memory path (impute 'mean' with no NULL reads the rows into memory
-- and runs coordinate descent on them)
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('par_l', 'lasso', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 1}', test_fraction => 0);
SELECT version FROM mm_train('par_l', 'lasso', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 1, "impute": "mean"}', test_fraction => 0);
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SELECT version FROM mm_train('par_l', 'lasso', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 1}', test_fraction => 0);
SELECT version FROM mm_train('par_e', 'elastic_net', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.05, "l1_ratio": 0.3}');
RESET force_parallel_mode;
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('par_e', 'elastic_net', 'par', 'y', features => ARRAY['x1', 'x2', 'x3', 'emb'],
                             params => '{"alpha": 0.05, "l1_ratio": 0.3, "impute": "mean"}');
SELECT 'in memory' AS against, count(*) AS weights,
       max(abs(a.weight - b.weight) / greatest(abs(a.weight), 1e-12)) < 1e-6 AS same_weights,
       bool_and((a.weight = 0) = (b.weight = 0)) AS same_zeros,
       count(*) FILTER (WHERE a.weight = 0) AS zeros
  FROM mm_weights('par_l', 1) a JOIN mm_weights('par_l', 2) b USING (feature)
UNION ALL
SELECT 'parallel', count(*), max(abs(a.weight - b.weight) / greatest(abs(a.weight), 1e-12)) < 1e-6,
       bool_and((a.weight = 0) = (b.weight = 0)), count(*) FILTER (WHERE a.weight = 0)
  FROM mm_weights('par_l', 1) a JOIN mm_weights('par_l', 3) b USING (feature);
SELECT abs((a.metrics->>'mae')::float8 - (b.metrics->>'mae')::float8) < 1e-6 * (a.metrics->>'mae')::float8 AS same_mae,
       a.metrics->>'evaluated_on' AS evaluated_on
  FROM mm_versions a, mm_versions b WHERE a.model = 'par_l' AND b.model = 'par_l' AND a.version = 1 AND b.version = 3;
SELECT count(*) AS weights, max(abs(a.weight - b.weight) / greatest(abs(a.weight), 1e-12)) < 1e-6 AS same_weights,
       (SELECT a.metrics->>'n' = b.metrics->>'n' FROM mm_versions a, mm_versions b
         WHERE a.model = 'par_e' AND b.model = 'par_e' AND a.version = 1 AND b.version = 2) AS same_heldout_rows
  FROM mm_weights('par_e', 1) a JOIN mm_weights('par_e', 2) b USING (feature);
-- With mm.blas_threads = 1 (the default) a backend stays one thread: no
-- idle OpenBLAS pool is left spinning beside it after a train; 2 keeps one
-- worker thread, and going back to 1 stops it.
SELECT count(*) AS threads FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
SET mm.blas_threads = 2;
SELECT version FROM mm_train('par_t', 'linear_regression', 'par', 'y', features => ARRAY['x1', 'x2', 'x3']);
SELECT count(*) AS threads FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
RESET mm.blas_threads;
SELECT version FROM mm_train('par_t', 'linear_regression', 'par', 'y', features => ARRAY['x1', 'x2', 'x3']);
SELECT count(*) AS threads FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');
-- a serial plan may still aggregate in parts (partitionwise): the parts'
-- states keep their rows themselves and combine, with the same result
CREATE TABLE par_p (id int, x1 float8, x2 float8, y float8) PARTITION BY RANGE (id);
CREATE TABLE par_p1 PARTITION OF par_p FOR VALUES FROM (0) TO (5000);
CREATE TABLE par_p2 PARTITION OF par_p FOR VALUES FROM (5000) TO (10000);
INSERT INTO par_p SELECT i, sin(i), cos(i), 1 + 2 * sin(i) - cos(i) + 0.01 * sin(i * 7.7) FROM generate_series(0, 9999) i;
ANALYZE par_p;
SET max_parallel_workers_per_gather = 0;
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT mm_linear_stats(42, 0.2, 100000000, ARRAY['y', 'x1', 'x2'], y, x1, x2) FROM par_p;
SELECT version FROM mm_train('par_p', 'linear_regression', 'par_p', 'y', features => ARRAY['x1', 'x2']);
SELECT version FROM mm_train('par_p', 'linear_regression', 'par_p', 'y', features => ARRAY['x1', 'x2'],
                             test_fraction => 0, deploy => 'never');
RESET enable_partitionwise_aggregate;
SELECT version FROM mm_train('par_p', 'linear_regression', 'par_p', 'y', features => ARRAY['x1', 'x2'],
                             deploy => 'never');
SELECT b.version, b.metrics->>'evaluated_on' AS evaluated_on, b.metrics->>'n' AS n,
       abs((a.metrics->>'rmse')::float8 - (b.metrics->>'rmse')::float8) < 1e-12 AS same_rmse_as_v3,
       v.profile->>'from' AS profiled
  FROM mm_versions a, mm_versions b, mm.versions v, mm.models m
 WHERE a.model = 'par_p' AND a.version = 3 AND b.model = 'par_p'
   AND m.name = 'par_p' AND v.model_id = m.id AND v.version = b.version
 ORDER BY b.version;
