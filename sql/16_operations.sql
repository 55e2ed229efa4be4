-- Operations: prediction statistics in shared memory (mm_stat_models,
-- mm_stat_reset, mm.track) and training progress (mm_progress).  The test
-- cluster preloads massmodel; test/t/002_operations.pl covers a server
-- without it, restarts and a hot standby.

SELECT mm_stat_reset();
SELECT count(*) AS after_reset FROM mm_stat_models;
SELECT version FROM mm_train('ops_r', 'ridge', 'diabetes', 'progression');
SELECT version FROM mm_train('ops_c', 'logistic_regression', 'iris', 'species');

-- each statement that predicts is one call; each prediction one row
SELECT count(mm_predict('ops_r', d.*)) FROM diabetes d;                                   -- rewritten by the planner
SELECT count(mm_predict('ops_r', ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6])) FROM diabetes d;
SELECT count(mm_predict_label('ops_c', i.*)), count(mm_predict_proba('ops_c', i.*)) FROM iris i;
SELECT model, version, calls, rows, errors, total_ms >= 0 AS timed, mean_us >= 0 AS mean_ok,
       last_call > now() - interval '1 hour' AS recent
  FROM mm_stat_models ORDER BY model;

-- a failing statement counts an error for the version it was predicting with
SELECT mm_predict('ops_r', ARRAY[1, 2]::float8[]);
SELECT mm_predict('ops_r', ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, 'NaN'::float8]) FROM diabetes d;
SELECT model, calls, rows, errors FROM mm_stat_models WHERE model = 'ops_r';

-- a second version is counted apart; NULL inputs are not predictions
SELECT version FROM mm_train('ops_r', 'lasso', 'diabetes', 'progression', deploy => 'never');
SELECT count(mm_predict('ops_r', d.*, 2)) FROM diabetes d WHERE age > 50;
SELECT mm_predict('ops_r', NULL::float8[]);
SELECT version, calls, rows FROM mm_stat_models WHERE model = 'ops_r' ORDER BY version;

-- predictions inside PL/pgSQL: every statement of the function counts
DO $$
DECLARE
  v float8;
BEGIN
  FOR i IN 1 .. 3 LOOP
    v := mm_predict('ops_r', ARRAY[50, 1, 25, 90, 200, 120, 50, 4, 4.5, 90]::float8[]);
  END LOOP;
END $$;
SELECT version, calls, rows FROM mm_stat_models WHERE model = 'ops_r' ORDER BY version;

-- mm.track off: nothing is counted (the setting is for superusers)
SET mm.track = off;
SELECT count(mm_predict('ops_r', d.*)) FROM diabetes d;
RESET mm.track;
SELECT version, calls, rows FROM mm_stat_models WHERE model = 'ops_r' ORDER BY version;

-- roles see the statistics of the models they may predict with; only superusers reset
CREATE ROLE ops_user;
SET ROLE ops_user;
SELECT count(*) AS visible FROM mm_stat_models;
SELECT mm_stat_reset();
SET mm.track = off;
RESET ROLE;
SELECT mm_grant('ops_c', 'ops_user', 'predict');
SET ROLE ops_user;
SELECT model FROM mm_stat_models;
RESET ROLE;

-- a dropped model's statistics no longer show
SELECT mm_drop('ops_c');
SELECT count(*) AS ops_c_rows FROM mm_stat_models WHERE model = 'ops_c';
SELECT mm_stat_reset();
SELECT count(*) AS after_reset FROM mm_stat_models;

-- training progress: no training is under way now (test/t/002_operations.pl watches one)
SELECT * FROM mm_progress;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'mm_progress'::regclass AND attnum > 0 ORDER BY attnum;

DROP ROLE ops_user;

-- mm_retrain: the latest version's algorithm, features, target, params and held-out share
SELECT version FROM mm_train('ops_rt', 'ridge', 'diabetes', 'progression', features => ARRAY['age', 'bmi', 'bp'],
                             params => '{"alpha": 2, "seed": 7}', test_fraction => 0.3);
SELECT model, version, deployed FROM mm_retrain('ops_rt');   -- the same rows and seed: a tie, the champion stays
SELECT version, algorithm, params, jsonb_path_query_array(features, '$[*].name') AS features, target, deployed
  FROM mm_versions WHERE model = 'ops_rt' ORDER BY version;
SELECT (SELECT metrics FROM mm_versions WHERE model = 'ops_rt' AND version = 1) =
       (SELECT metrics FROM mm_versions WHERE model = 'ops_rt' AND version = 2) AS same_metrics;
-- on another source, deployed whatever its metrics
SELECT model, version, deployed, (metrics->>'n')::int > 0 AS scored
  FROM mm_retrain('ops_rt', 'SELECT * FROM diabetes WHERE age > 30', 'always');
-- a stacking is retrained from its stored members
SELECT version FROM mm_train('ops_st', 'stacking', 'diabetes', 'progression',
                             params => '{"members": [{"algorithm": "ridge"}, {"algorithm": "lasso", "params": {"alpha": 0.5}}], "cv": 3}');
SELECT model, version FROM mm_retrain('ops_st', deploy => 'never');
SELECT (SELECT params FROM mm_versions WHERE model = 'ops_st' AND version = 1) =
       (SELECT params FROM mm_versions WHERE model = 'ops_st' AND version = 2) AS same_params;

-- what cannot be retrained
SELECT * FROM mm_retrain(NULL);
SELECT * FROM mm_retrain('ops_rt', deploy => NULL);
SELECT * FROM mm_retrain('no_such_model');
SELECT * FROM mm_retrain('ops_rt', deploy => 'sometimes');
SELECT mm_ensemble('ops_ens', ARRAY['ops_rt@1', 'ops_rt@2']);
SELECT * FROM mm_retrain('ops_ens');
SELECT mm_import('ops_imp', mm_export('ops_rt', 1));
SELECT * FROM mm_retrain('ops_imp');
SELECT model, version FROM mm_retrain('ops_imp', 'diabetes', 'never');
CREATE ROLE ops_trainer;
GRANT SELECT ON diabetes TO ops_trainer;
SELECT mm_grant('ops_rt', 'ops_trainer', 'predict');
SET ROLE ops_trainer;
SELECT * FROM mm_retrain('ops_rt');
RESET ROLE;

-- a stored source runs only for the role that trained the version (it runs with the retrainer's rights)
SELECT mm_grant('ops_rt', 'ops_trainer', 'train');
SET ROLE ops_trainer;
SELECT * FROM mm_retrain('ops_rt');
SELECT model, version FROM mm_retrain('ops_rt', 'SELECT * FROM diabetes WHERE age < 70', 'never');
RESET ROLE;
SELECT * FROM mm_retrain('ops_rt');
SELECT model, version FROM mm_retrain('ops_rt', 'diabetes', 'never');
SELECT model, version FROM mm_retrain('ops_rt', deploy => 'never');
SELECT mm_revoke('ops_rt', 'ops_trainer', 'train');

-- mm_schedule and mm_unschedule need pg_cron in this database (test/t/002_operations.pl runs a real job)
-- (the message names the database, which depends on how the suite is run)
CREATE FUNCTION ops_try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text;
  hint text;
  state text;
BEGIN
  EXECUTE sql;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT, state = RETURNED_SQLSTATE;
  RETURN state || ': ' || replace(msg, current_database(), '<this database>') || ' / ' || hint;
END $$;
SELECT ops_try($$SELECT mm_schedule('ops_rt', '0 3 * * *')$$);
SELECT ops_try($$SELECT mm_unschedule('ops_rt')$$);
DROP FUNCTION ops_try(text);
SELECT mm_schedule(NULL, '0 3 * * *');
SELECT mm_schedule('no_such_model', '0 3 * * *');
SELECT mm_import('ops_imp2', mm_export('ops_rt', 1));
SELECT mm_schedule('ops_imp2', '0 3 * * *');
SET ROLE ops_trainer;
SELECT mm_schedule('ops_rt', '0 3 * * *');
RESET ROLE;
SELECT mm_schedule_job_name('churn') AS short, mm_schedule_job_name(repeat('x', 60)) AS long,
       octet_length(mm_schedule_job_name(repeat('x', 63))) <= 63 AS fits;
REVOKE SELECT ON diabetes FROM ops_trainer;
SELECT mm_revoke('ops_rt', 'ops_trainer', 'predict');
DROP ROLE ops_trainer;

-- canary deploys: a share of the predictions, routed by a hash of the input
SELECT mm_stat_reset();
SELECT version FROM mm_train('ops_can', 'ridge', 'diabetes', 'progression', params => '{"alpha": 1}');
SELECT version FROM mm_train('ops_can', 'ridge', 'diabetes', 'progression', params => '{"alpha": 100}', deploy => 'never');
SELECT mm_deploy('ops_can', 2, 0.3);
SELECT model, deployed_version, canary_version, canary_traffic FROM mm_models WHERE model = 'ops_can';
SELECT version, kind, traffic, reason FROM mm_deployments WHERE model = 'ops_can' ORDER BY deployed_at, version;
-- every prediction is one version's; about 30% are the canary's, and always the same ones
CREATE TABLE ops_routes AS
SELECT row_number() OVER () AS i, mm_predict('ops_can', d.*) AS v,
       mm_predict('ops_can', d.*, 1) AS v1, mm_predict('ops_can', d.*, 2) AS v2,
       mm_predict('ops_can', ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]) AS va,
       mm_predict_fields('ops_can', NULL, NULL, age, sex, bmi, bp, s1, s2, s3, s4, s5, s6) AS vf
  FROM diabetes d;
SELECT count(*) FILTER (WHERE v = v2) AS canary, count(*) FILTER (WHERE v = v1) AS stable,
       count(*) FILTER (WHERE v <> v1 AND v <> v2) AS neither,
       bool_and(v = va AND v = vf) AS same_route_row_array_fields
  FROM ops_routes;
SELECT count(*) AS rerouted
  FROM ops_routes r JOIN (SELECT row_number() OVER () AS i, mm_predict('ops_can', d.*) AS v FROM diabetes d) s USING (i)
 WHERE r.v <> s.v;
SELECT version, calls, rows, traffic FROM mm_stat_models WHERE model = 'ops_can' ORDER BY version;
-- only the deployed version is evaluated without a version
SELECT (mm_evaluate('ops_can', 'diabetes')->>'rmse') = (mm_evaluate('ops_can', 'diabetes', 1)->>'rmse') AS evaluates_deployed;
-- a canary version cannot be dropped; mm_rollback ends the canary
SELECT mm_drop('ops_can', 2);
SELECT mm_rollback('ops_can') AS deployed;
SELECT deployed_version, canary_version FROM mm_models WHERE model = 'ops_can';
SELECT count(*) FILTER (WHERE mm_predict('ops_can', d.*) = mm_predict('ops_can', d.*, 1)) AS all_stable FROM diabetes d;
-- mm_deploy with traffic 1 ends it too: the deployed version again, or the canary promoted
SELECT mm_deploy('ops_can', 2, 0.5);
SELECT mm_deploy('ops_can', 1);
SELECT deployed_version, canary_version FROM mm_models WHERE model = 'ops_can';
SELECT mm_deploy('ops_can', 2, 0.5);
SELECT mm_deploy('ops_can', 2);
SELECT deployed_version, canary_version FROM mm_models WHERE model = 'ops_can';
-- a train that deploys ends a canary as well
SELECT mm_deploy('ops_can', 1, 0.2);
SELECT version, deployed FROM mm_train('ops_can', 'ridge', 'diabetes', 'progression', params => '{"alpha": 10}', deploy => 'always');
SELECT deployed_version, canary_version FROM mm_models WHERE model = 'ops_can';
SELECT version, kind, traffic FROM mm_deployments WHERE model = 'ops_can' ORDER BY deployed_at, version;
-- a canary on other features: rows are read by name; an array (in the deployed version's order) stays with it
SELECT version FROM mm_train('ops_can', 'lasso', 'diabetes', 'progression', features => ARRAY['bmi', 's5'], deploy => 'never');
SELECT mm_deploy('ops_can', 4, 0.5);
SELECT count(*) FILTER (WHERE mm_predict('ops_can', d.*) = mm_predict('ops_can', d.*, 4)) > 0 AS canary_by_row FROM diabetes d;
SELECT count(*) FILTER (WHERE mm_predict('ops_can', ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]) =
                              mm_predict('ops_can', ARRAY[age, sex, bmi, bp, s1, s2, s3, s4, s5, s6], 3)) AS arrays_to_deployed
  FROM diabetes d;
-- bad canaries
SELECT mm_deploy('ops_can', 4, 0);
SELECT mm_deploy('ops_can', 4, 1.5);
SELECT mm_deploy('ops_can', 3, 0.5);
SELECT mm_deploy('ops_can', 9, 0.5);
DROP TABLE ops_routes;

-- mm_drift: the population stability index against the distribution captured at training
SELECT version FROM mm_train('ops_drift', 'ridge', 'diabetes', 'progression', params => '{"scale": "standard"}');
SELECT jsonb_array_length(profile->'features') AS profiled, (profile->>'rows')::int AS rows,
       profile->'features'->2->'edges' AS bmi_edges
  FROM mm.versions v JOIN mm.models m ON m.id = v.model_id WHERE m.name = 'ops_drift';
-- the training rows against the whole table: nothing drifts
SELECT feature, round(train_mean::numeric, 3) AS train_mean, round(mean::numeric, 3) AS mean,
       round(psi::numeric, 4) AS psi, drifted
  FROM mm_drift('ops_drift', 'diabetes');
-- a shifted feature is flagged, the others are not
SELECT feature, round(psi::numeric, 3) AS psi, drifted
  FROM mm_drift('ops_drift', 'SELECT age, sex, bmi * 1.3 AS bmi, bp, s1, s2, s3, s4, s5, s6 FROM diabetes')
 ORDER BY feature;
-- the PSI of bmi recomputed in SQL from the stored profile (bins: values above each edge; shares floored at 1e-4)
WITH prof AS (SELECT f AS p FROM mm.versions v JOIN mm.models m ON m.id = v.model_id,
                   jsonb_array_elements(v.profile->'features') f
               WHERE m.name = 'ops_drift' AND f->>'name' = 'bmi'),
edges AS (SELECT array_agg(e::float8 ORDER BY i) AS e FROM prof, jsonb_array_elements_text(p->'edges') WITH ORDINALITY AS t(e, i)),
shifted AS (SELECT bmi * 1.3 AS x FROM diabetes),
binned AS (SELECT (SELECT count(*) FROM unnest(e) AS u WHERE x > u) AS b FROM shifted, edges),
q AS (SELECT b, count(*)::float8 / (SELECT count(*) FROM diabetes) AS q FROM binned GROUP BY b),
pq AS (SELECT i - 1 AS b, greatest(pv::float8, 1e-4) AS p, greatest(coalesce(q.q, 0), 1e-4) AS q
         FROM prof, jsonb_array_elements_text(p->'p') WITH ORDINALITY AS t(pv, i) LEFT JOIN q ON q.b = i - 1)
SELECT abs(sum((q - p) * ln(q / p)) - (SELECT psi FROM mm_drift('ops_drift',
           'SELECT age, sex, bmi * 1.3 AS bmi, bp, s1, s2, s3, s4, s5, s6 FROM diabetes') WHERE feature = 'bmi')) < 1e-12 AS same_psi
  FROM pq;
-- categorical levels, unseen levels and NULLs
SELECT version FROM mm_train('ops_drift_c', 'linear_regression', 'SELECT color, x, y FROM shop', 'y', params => '{"impute": "mean"}');
SELECT feature, round(psi::numeric, 4) AS psi, drifted FROM mm_drift('ops_drift_c', 'SELECT color, x FROM shop') ORDER BY feature;
SELECT feature, round(psi::numeric, 3) AS psi, drifted
  FROM mm_drift('ops_drift_c', 'SELECT CASE WHEN id % 2 = 0 THEN ''red'' ELSE ''purple'' END AS color, x FROM shop') ORDER BY feature;
SELECT feature, round(psi::numeric, 3) AS psi, drifted
  FROM mm_drift('ops_drift_c', 'SELECT color, CASE WHEN id % 2 = 0 THEN NULL ELSE x END AS x FROM shop') ORDER BY feature;
-- params: the threshold, and another version
SELECT feature, drifted FROM mm_drift('ops_drift', 'diabetes', '{"threshold": 0.01}') ORDER BY feature LIMIT 3;
SELECT count(*) FROM mm_drift('ops_drift', 'diabetes', '{"version": 1}');
-- what mm_drift refuses
SELECT * FROM mm_drift('ops_drift', 'diabetes', '{"threshold": -1}');
SELECT * FROM mm_drift('ops_drift', 'diabetes', '{"bins": 20}');
SELECT * FROM mm_drift('ops_drift', 'SELECT age, sex FROM diabetes');
SELECT * FROM mm_drift('ops_drift_c', 'SELECT 1 AS color, x FROM shop');
SELECT * FROM mm_drift('ops_ens', 'diabetes');
-- with test_fraction 0 the one-scan path profiles the training rows it keeps
SELECT version FROM mm_train('ops_drift_all', 'linear_regression', 'diabetes', 'progression', test_fraction => 0);
SELECT profile->>'from' AS profiled, profile->>'rows' AS rows
  FROM mm.versions WHERE model_id = (SELECT id FROM mm.models WHERE name = 'ops_drift_all');
SELECT feature, psi, drifted FROM mm_drift('ops_drift_all', 'diabetes') ORDER BY feature;
-- in a parallel plan it keeps none (they would travel to the leader): no profile
-- (the query, not the direct read of the table, for a parallel plan)
SET mm.direct_scan = off;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SELECT version FROM mm_train('ops_drift_all', 'linear_regression', 'diabetes', 'progression', test_fraction => 0,
                             deploy => 'always');
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET mm.direct_scan;
SELECT version, profile IS NULL AS no_profile, metrics->>'n' AS scored
  FROM mm.versions WHERE model_id = (SELECT id FROM mm.models WHERE name = 'ops_drift_all') ORDER BY version;
SELECT * FROM mm_drift('ops_drift_all', 'diabetes');
SELECT * FROM mm_drift(NULL, 'diabetes');
-- a profile is not trusted (an export carries one): entries that do not name the model's features are ignored
UPDATE mm.versions v SET profile = jsonb_build_object('features', jsonb_build_array(
         jsonb_build_object('name', 'bmi[0]', 'kind', 'numeric', 'edges', '[1, 2]'::jsonb, 'p', '[0.5, 0.5]'::jsonb),
         jsonb_build_object('name', 'bmi', 'kind', 'categorical', 'levels', '{"x": 1}'::jsonb),
         jsonb_build_object('name', 'bmi', 'kind', 'numeric', 'edges', '"oops"'::jsonb, 'p', (SELECT jsonb_agg(i) FROM generate_series(1, 1000) i)),
         jsonb_build_object('name', 'nosuch', 'kind', 'numeric'),
         '42'::jsonb, 'null'::jsonb))
  FROM mm.models m WHERE m.id = v.model_id AND m.name = 'ops_drift';
SELECT feature, psi >= 0 AS computed FROM mm_drift('ops_drift', 'diabetes');
UPDATE mm.versions v SET profile = '{"features": 7}'
  FROM mm.models m WHERE m.id = v.model_id AND m.name = 'ops_drift';
SELECT count(*) FROM mm_drift('ops_drift', 'diabetes');

-- mm_drift needs predict on the model, and reads the source as the caller
CREATE ROLE ops_watcher;
SET ROLE ops_watcher;
SELECT * FROM mm_drift('ops_drift', 'diabetes');
RESET ROLE;
SELECT mm_grant('ops_drift', 'ops_watcher', 'predict');
SET ROLE ops_watcher;
SELECT * FROM mm_drift('ops_drift', 'diabetes');
RESET ROLE;
SELECT mm_revoke('ops_drift', 'ops_watcher', 'predict');
DROP ROLE ops_watcher;
