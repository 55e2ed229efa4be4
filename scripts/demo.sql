-- massmodel demo, run by scripts/demo.sh against the database massmodel_demo
-- (tables diabetes and longley already loaded).  Every statement is echoed.
\set ON_ERROR_STOP on
\pset null '(null)'

-- 1. Ordinary least squares: predict disease progression from the ten
--    baseline variables (every column except the target).  20% of the rows
--    are held out; the metrics on them are stored with the version.  The
--    first version of a model is always deployed.
SELECT model, version, deployed,
       round((metrics->>'rmse')::numeric, 3) AS heldout_rmse,
       round((metrics->>'r2')::numeric, 4)   AS heldout_r2
FROM mm_train('diabetes', 'linear_regression', 'diabetes', 'progression');

-- 2. Version 2 of the same model: ridge regression, alpha = 1.  With the
--    default deploy => 'if_better' it is deployed only if its held-out rmse
--    is lower than the deployed version's.
SELECT model, version, deployed,
       round((metrics->>'rmse')::numeric, 3) AS heldout_rmse,
       round((metrics->>'r2')::numeric, 4)   AS heldout_r2
FROM mm_train('diabetes', 'ridge', 'diabetes', 'progression',
              params => '{"alpha": 1.0}');

-- 3. Every version with its parameters and held-out metrics.
SELECT version, algorithm, params, n_train,
       round((metrics->>'rmse')::numeric, 3) AS rmse,
       deployed
FROM mm_versions
WHERE model = 'diabetes'
ORDER BY version;

-- 4. Evaluate both versions on a query source (the patients aged 50 and
--    over) and record the results in the evaluation history.
SELECT v AS version, (e->>'n')::int AS n,
       round((e->>'rmse')::numeric, 3) AS rmse,
       round((e->>'r2')::numeric, 4)   AS r2
FROM generate_series(1, 2) AS v,
     mm_evaluate('diabetes', 'SELECT * FROM diabetes WHERE age >= 50',
                 version => v, record => true) AS e;

SELECT model, version, source, round((metrics->>'rmse')::numeric, 3) AS rmse
FROM mm_evaluations
ORDER BY evaluated_at, version;

-- 5. Deploy a chosen version by hand: version 1.
SELECT mm_deploy('diabetes', 1);
SELECT model, algorithm, deployed_version, latest_version, versions FROM mm_models;

-- 6. Roll back: the previously deployed version (2) is deployed again.
SELECT mm_rollback('diabetes');
SELECT version, deployed_by, reason FROM mm_deployments
WHERE model = 'diabetes'
ORDER BY deployed_at;

-- 7. Predictions from the deployed version.  A row goes in whole: columns
--    are matched by name, the target column is ignored.
SELECT d.age, d.bmi, d.progression,
       round(mm_predict('diabetes', d.*)::numeric, 2) AS predicted
FROM diabetes d
LIMIT 5;

--    An array goes in the training feature order
--    (age, sex, bmi, bp, s1, s2, s3, s4, s5, s6); version => picks a version.
SELECT round(mm_predict('diabetes', ARRAY[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87])::numeric, 2) AS deployed_v2,
       round(mm_predict('diabetes', ARRAY[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], version => 1)::numeric, 2) AS v1;

-- 8. The fitted coefficients of the deployed version, in the units of the
--    original columns.
SELECT feature, round(weight::numeric, 4) AS weight FROM mm_weights('diabetes');

-- 9. Operations: the statistics of the predictions above (shared memory,
--    like pg_stat_statements), a retrain of the latest version's
--    configuration (deployed only if it beats the champion on held-out
--    rows), and a nightly retrain scheduled with pg_cron.
SELECT model, version, calls, rows, errors FROM mm_stat_models ORDER BY model, version;
SELECT model, version, deployed FROM mm_retrain('diabetes');
SELECT mm_schedule('diabetes', '0 3 * * *') > 0 AS scheduled;
SELECT schedule, command FROM cron.job;
SELECT mm_unschedule('diabetes') AS unscheduled;
