-- A k-means fit over enough rows shares its passes over them with parallel
-- workers (max_parallel_workers_per_gather at most; none below
-- min_parallel_table_scan_size of rows at 8 bytes a value): the rows are
-- cut into fixed parts, the backend and its workers each take parts until
-- none is left, and the parts' sums are added in part order.  So the model
-- is the serial one, to the bit, whatever the number of workers.
-- min_parallel_table_scan_size = 0 lets these 20000 rows have workers.
\set VERBOSITY terse
CREATE TABLE pkm_t AS
SELECT i, (i % 5) * 3.0 + sin(i) AS a, (i % 5) * -2.0 + cos(i * 1.3) AS b,
       ((i * 7) % 5) + sin(i * 0.37) AS c
  FROM generate_series(1, 20000) i;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

-- with two workers (verbose names them), then one, then none
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1, "verbose": true}', test_fraction => 0);
SET max_parallel_workers_per_gather = 1;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1}', test_fraction => 0, deploy => 'never');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1}', test_fraction => 0, deploy => 'never');
-- one model, byte for byte, and the same metrics
SELECT count(DISTINCT v.blob) AS distinct_blobs, count(DISTINCT v.metrics) AS distinct_metrics,
       count(*) AS versions
  FROM mm.versions v JOIN mm.models m ON m.id = v.model_id WHERE m.name = 'pkm';
-- the five groups are found: each cluster holds one value of i % 5
SELECT count(DISTINCT mm_predict('pkm', t.*)) AS clusters,
       count(DISTINCT (i % 5, mm_predict('pkm', t.*))) AS pairs
  FROM pkm_t t;

-- more restarts, k above the AVX2 kernel's 8 centres: still the serial model
SET max_parallel_workers_per_gather = 2;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 11, "n_init": 3, "seed": 5}', test_fraction => 0, deploy => 'never');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 11, "n_init": 3, "seed": 5}', test_fraction => 0, deploy => 'never');
SELECT count(DISTINCT v.blob) AS distinct_blobs
  FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE m.name = 'pkm' AND v.version IN (4, 5);

-- a cancelled parallel fit stops its workers and leaves the catalog as it was
SET max_parallel_workers_per_gather = 2;
SET statement_timeout = '300ms';
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 8, "n_init": 1000}', test_fraction => 0);
RESET statement_timeout;
SELECT count(*) AS versions FROM mm_versions WHERE model = 'pkm';
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1}', test_fraction => 0, deploy => 'never');

-- no worker slot free (max_parallel_workers): the fit runs in the backend
-- alone, on the rows where they are, and gives the same model
SET max_parallel_workers = 0;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1, "verbose": true}', test_fraction => 0,
                             deploy => 'never');
RESET max_parallel_workers;
SELECT count(DISTINCT v.blob) AS distinct_blobs
  FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE m.name = 'pkm' AND v.version IN (1, 7);

-- the memory estimate counts the rows' copy in shared memory when the fit
-- will ask for workers: this budget is enough without them, not with them
SET mm.max_train_memory = '3MB';
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1}', test_fraction => 0, deploy => 'never');
SET max_parallel_workers_per_gather = 0;
SELECT version FROM mm_train('pkm', 'kmeans', 'pkm_t', features => ARRAY['a', 'b', 'c'],
                             params => '{"k": 5, "n_init": 1}', test_fraction => 0, deploy => 'never');
RESET mm.max_train_memory;

-- few rows (one part): no workers, and no NOTICE of them
SET max_parallel_workers_per_gather = 2;
SELECT count(*) > 0 AS trained
  FROM mm_train('pkm_small', 'kmeans', 'SELECT a, b, c FROM pkm_t WHERE i <= 500',
                params => '{"k": 3, "n_init": 1, "verbose": true}', test_fraction => 0);

SELECT mm_drop('pkm');
SELECT mm_drop('pkm_small');
DROP TABLE pkm_t;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
