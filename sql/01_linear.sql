-- Linear and ridge regression against independent references.
-- Every reference number below comes from test/reference/linear.py
-- (numpy.linalg.lstsq and the ridge closed form, Debian's python3-numpy
-- 1.24.2 / python3-sklearn 1.2.1); its output is test/reference/linear.out.

-- (a) OLS with intercept on all 442 rows
SELECT model, version, deployed, metrics->>'evaluated_on' AS on, metrics->>'n' AS n
  FROM mm_train('dia_ols', 'linear_regression', 'diabetes', 'progression', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('intercept', -334.56713851878482),
  ('age', -0.036361224223622646),
  ('sex', -22.859648090498414),
  ('bmi', 5.6029620919237004),
  ('bp', 1.1168079933181823),
  ('s1', -1.0899963340632286),
  ('s2', 0.74645045551421152),
  ('s3', 0.37200471508913652),
  ('s4', 6.5338319359903405),
  ('s5', 68.483124964787905),
  ('s6', 0.28011698932150059))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('dia_ols') JOIN ref USING (feature);
-- metrics on the training rows equal sklearn.metrics of the same model
WITH m AS (SELECT metrics FROM mm_versions WHERE model = 'dia_ols' AND version = 1),
ref(k, v) AS (VALUES ('mse', 2859.6963475867506), ('rmse', 53.476128764026576),
  ('mae', 43.277452025315057), ('r2', 0.51774842222034978),
  ('explained_variance', 0.51774842222034989))
SELECT k, abs((metrics->>k)::float8 - v) / v < 1e-9 AS ok FROM m, ref ORDER BY k;
-- predictions of the first rows
WITH ref(i, p) AS (VALUES (1, 206.11667724510474), (2, 68.071032973068156),
  (3, 176.88279035105225), (4, 166.91445843222786), (5, 128.46225833599834)),
d AS (SELECT row_number() OVER () AS i, d.* FROM (SELECT * FROM diabetes LIMIT 5) d)
SELECT i, abs(mm_predict('dia_ols', d) - p) / p < 1e-12 AS ok FROM d JOIN ref USING (i) ORDER BY i;

-- (b) OLS without intercept
SELECT model, version FROM mm_train('dia_noint', 'linear_regression', 'diabetes', 'progression',
                                    params => '{"fit_intercept": false}', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('age', 0.022296429852863845),
  ('sex', -26.072788584495839),
  ('bmi', 5.3537259175668686),
  ('bp', 1.0177970496721362),
  ('s1', 1.2635859063792769),
  ('s2', -1.2849362113535077),
  ('s3', -3.0682781661189344),
  ('s4', -5.5080416768934954),
  ('s5', 5.5033814628575275),
  ('s6', 0.12338517956510681))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('dia_noint') JOIN ref USING (feature);
SELECT weight FROM mm_weights('dia_noint') WHERE feature = 'intercept';

-- (c) ridge, alpha = 1, intercept unpenalised
SELECT model, version FROM mm_train('dia_ridge', 'ridge', 'diabetes', 'progression',
                                    params => '{"alpha": 1.0}', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('intercept', -316.07711860428981),
  ('age', -0.032852396855430968),
  ('sex', -22.607045432280099),
  ('bmi', 5.640405234365649),
  ('bp', 1.1189975700485111),
  ('s1', -0.91467348426990192),
  ('s2', 0.58490982528818647),
  ('s3', 0.17788523837882514),
  ('s4', 6.2504417786616422),
  ('s5', 63.179080873617657),
  ('s6', 0.28776690289978551))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('dia_ridge') JOIN ref USING (feature);

-- (d) ridge, alpha = 10, no intercept
SELECT model, version FROM mm_train('dia_ridge10', 'ridge', 'diabetes', 'progression',
                                    params => '{"alpha": 10, "fit_intercept": false}', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('age', 0.014485733629433846),
  ('sex', -23.389894238233637),
  ('bmi', 5.4153147100106089),
  ('bp', 1.0042106288270318),
  ('s1', 1.3213683375819907),
  ('s2', -1.3506608511082037),
  ('s3', -3.0605345167099629),
  ('s4', -5.0629089990241258),
  ('s5', 3.5573822753694597),
  ('s6', 0.11888342541835274))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('dia_ridge10') JOIN ref USING (feature);
SELECT params FROM mm_versions WHERE model = 'dia_ridge10';

-- (e) NIST StRD Longley: at least 9 correct significant digits of every
-- certified coefficient (raw normal equations give about 7)
SELECT model, version FROM mm_train('longley', 'linear_regression', 'longley', 'employed', test_fraction => 0);
WITH nist(feature, c) AS (VALUES
  ('intercept', -3482258.63459582), ('gnp_deflator', 15.0618722713733),
  ('gnp', -0.358191792925910E-01), ('unemployed', -2.02022980381683),
  ('armed_forces', -1.03322686717359), ('population', -0.511041056535807E-01),
  ('year', 1829.15146461355))
SELECT feature, -log(abs((weight - c) / c)) >= 9 AS nine_digits
  FROM mm_weights('longley') JOIN nist USING (feature) ORDER BY feature;

-- The held-out split: deterministic for a seed and the same rows, whatever
-- their order; about test_fraction of the rows; another seed, another split.
SELECT version FROM mm_train('split', 'linear_regression', 'diabetes', 'progression');
SELECT version, metrics->>'evaluated_on' AS on, (metrics->>'n')::int AS heldout,
       n_train, (metrics->>'n')::int + n_train AS total
  FROM mm_versions WHERE model = 'split';
SELECT version FROM mm_train('split', 'linear_regression', 'SELECT * FROM diabetes ORDER BY md5(bmi::text || s5::text)',
                             'progression');
SELECT v2.n_train = v1.n_train AS same_split, v2.metrics = v1.metrics AS same_metrics
  FROM mm_versions v2, mm_versions v1
 WHERE v1.model = 'split' AND v2.model = 'split' AND v1.version = 1 AND v2.version = 2;
SELECT version FROM mm_train('split', 'linear_regression', 'diabetes', 'progression', params => '{"seed": 7}');
SELECT v3.n_train <> v1.n_train OR v3.metrics <> v1.metrics AS other_split
  FROM mm_versions v3, mm_versions v1
 WHERE v1.model = 'split' AND v3.model = 'split' AND v1.version = 1 AND v3.version = 3;
SELECT (metrics->>'n')::int BETWEEN 0.15 * 442 AND 0.25 * 442 AS about_20_percent
  FROM mm_versions WHERE model = 'split' AND version = 1;

-- Sources: a query, WITH, VALUES, a schema-qualified quoted name, a view
CREATE SCHEMA "Data Sets";
CREATE TABLE "Data Sets"."Diabetes Copy" AS SELECT * FROM diabetes;
CREATE VIEW diabetes_view AS SELECT bmi, s5, progression FROM diabetes;
SELECT model, version, metrics->>'n' AS n FROM mm_train('src_q', 'linear_regression',
  'SELECT bmi, s5, progression FROM diabetes WHERE sex = 1;', 'progression', test_fraction => 0);
SELECT model, version FROM mm_train('src_q', 'linear_regression',
  'WITH d AS (SELECT bmi, s5, progression FROM diabetes) SELECT * FROM d', 'progression');
SELECT model, version, metrics->>'n' AS n FROM mm_train('src_values', 'linear_regression',
  'VALUES (1.0, 2.0, 5.0), (2.0, 1.0, 4.0), (3.0, 5.0, 13.0), (4.0, 3.0, 10.0)', 'column3', test_fraction => 0);
SELECT feature, round(weight::numeric, 9) AS weight FROM mm_weights('src_values');
SELECT model, version FROM mm_train('src_quoted', 'linear_regression', '"Data Sets"."Diabetes Copy"',
  'progression', features => ARRAY['bmi', 's5']);
SELECT model, version FROM mm_train('src_view', 'ridge', 'diabetes_view', 'progression');
SELECT features FROM mm_versions WHERE model = 'src_view';

-- Column types: integer, numeric, boolean and array features
CREATE TABLE mixed (id int, a smallint, b bigint, c numeric, d real, flag boolean, emb float8[], v4 real[], y numeric);
INSERT INTO mixed
SELECT i, i % 7, i % 11, (i % 13) / 4.0, (i % 5)::real, i % 3 = 0,
       ARRAY[(i % 17)::float8, (i % 19)::float8], ARRAY[(i % 23)::real],
       1 + 2 * (i % 7) - 3 * (i % 11) + 0.5 * (i % 13) / 4.0 + (i % 5) + 4 * (i % 3 = 0)::int
         + 0.25 * (i % 17) - (i % 19) + 0.1 * (i % 23)
  FROM generate_series(1, 500) i;
SELECT model, version, (metrics->>'rmse')::float8 < 1e-9 AS exact
  FROM mm_train('mixed', 'linear_regression', 'mixed', 'y',
                features => ARRAY['a', 'b', 'c', 'd', 'flag', 'emb', 'v4']);
SELECT feature, round(weight::numeric, 8) AS weight FROM mm_weights('mixed');
SELECT features FROM mm_versions WHERE model = 'mixed';
SELECT round(mm_predict('mixed', m)::numeric, 8) = round(y, 8) AS row_ok FROM mixed m WHERE id IN (1, 2, 3);

-- Versions, deploy policies and the result row
SELECT model, version, deployed FROM mm_train('pol', 'ridge', 'diabetes', 'progression',
  params => '{"alpha": 100000}', deploy => 'never');   -- the first version is always deployed
SELECT model, version, deployed FROM mm_train('pol', 'ridge', 'diabetes', 'progression',
  params => '{"alpha": 0.1}', deploy => 'never');
SELECT model, version, deployed FROM mm_train('pol', 'ridge', 'diabetes', 'progression',
  params => '{"alpha": 10000000}', deploy => 'if_better');  -- worse rmse than version 1
SELECT model, version, deployed FROM mm_train('pol', 'ridge', 'diabetes', 'progression',
  params => '{"alpha": 0.01}', deploy => 'if_better');   -- better
SELECT model, version, deployed FROM mm_train('pol', 'ridge', 'diabetes', 'progression',
  params => '{"alpha": 10000}', deploy => 'always');
SELECT version, params->>'alpha' AS alpha, deployed, trained_by, train_ms >= 0 AS timed, size_bytes > 0 AS sized
  FROM mm_versions WHERE model = 'pol' ORDER BY version;
SELECT version, deployed_by, reason FROM mm_deployments WHERE model = 'pol' ORDER BY deployed_at, version;
SELECT model, task, algorithm, deployed_version, latest_version, versions, owner,
       metrics->>'evaluated_on' AS on, size_bytes > 0 AS sized
  FROM mm_models WHERE model = 'pol';

-- verbose: progress as NOTICEs (timings are in the detail, hidden here)
\set VERBOSITY terse
SELECT version FROM mm_train('verbose', 'linear_regression', 'diabetes', 'progression', params => '{"verbose": true}');
\set VERBOSITY default
