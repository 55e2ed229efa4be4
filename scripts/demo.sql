-- massmodel demo, run by scripts/demo.sh against the database massmodel_demo
-- (tables diabetes and longley already loaded).  Every statement is echoed.
\set ON_ERROR_STOP on
\pset null '(null)'

-- 1. Train an ordinary least-squares model: predict disease progression from
--    the ten baseline variables (every column except the target).  20% of the
--    rows are held out, and the metrics on them are stored with the version.
SELECT * FROM mm_train('diabetes', 'linear_regression', 'diabetes', 'progression');

-- 2. A second version of the same model: ridge regression, alpha = 1.
--    It is deployed only if its held-out rmse beats the deployed version's.
SELECT * FROM mm_train('diabetes', 'ridge', 'diabetes', 'progression',
                       params => '{"alpha": 1.0}');

-- 3. The versions, with their parameters and held-out metrics.
SELECT model, version, algorithm, params, n_train,
       round((metrics->>'rmse')::numeric, 3) AS rmse,
       round((metrics->>'r2')::numeric, 4)   AS r2,
       deployed
FROM mm_versions
WHERE model = 'diabetes'
ORDER BY version;

-- 4. Evaluate both versions on all 442 rows.
SELECT jsonb_pretty(mm_evaluate('diabetes', 'diabetes', version => 1)) AS ols;
SELECT jsonb_pretty(mm_evaluate('diabetes', 'diabetes', version => 2)) AS ridge;

-- 5. Deploy version 2 explicitly (a no-op if it was already deployed).
SELECT mm_deploy('diabetes', 2);
SELECT model, algorithm, deployed_version, latest_version FROM mm_models;

-- 6. Serve predictions from the deployed version: a whole row goes in,
--    columns are matched by name and the target column is ignored.
SELECT d.progression, round(mm_predict('diabetes', d.*)::numeric, 2) AS predicted
FROM diabetes d
LIMIT 5;

-- 7. The fitted coefficients, in the units of the original columns.
SELECT feature, round(weight::numeric, 6) AS weight FROM mm_weights('diabetes');
