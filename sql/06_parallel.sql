-- The training scan is a parallel-safe aggregate: a parallel plan gives
-- the same model as a serial one.
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

-- parallel prediction
SELECT count(*), round(avg(mm_predict('par', ARRAY[x1, x2, x3] || emb))::numeric, 6) =
                 round(avg(mm_predict('par', p))::numeric, 6) AS same
  FROM par p;
