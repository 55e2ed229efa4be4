-- Deploy, rollback, drop, and the views that show them.
SELECT version, deployed FROM mm_train('lc', 'ridge', 'diabetes', 'progression', params => '{"alpha": 1}');
SELECT version, deployed FROM mm_train('lc', 'ridge', 'diabetes', 'progression', params => '{"alpha": 10}', deploy => 'never');
SELECT version, deployed FROM mm_train('lc', 'ridge', 'diabetes', 'progression', params => '{"alpha": 100}', deploy => 'never');
SELECT mm_deploy('lc', 2);
SELECT deployed_version FROM mm_models WHERE model = 'lc';
SELECT mm_deploy('lc', 3);
SELECT mm_deploy('lc', 3);   -- already deployed: a notice, no history row
-- predictions follow the deployment
SELECT mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90]) =
       mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90], 3) AS serves_v3;
-- rollback walks back through the history: 3 -> 2 -> 1
SELECT mm_rollback('lc');
SELECT mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90]) =
       mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90], 2) AS serves_v2;
SELECT mm_rollback('lc');
SELECT mm_rollback('lc');   -- nothing earlier
SELECT version, deployed_by, reason FROM mm_deployments WHERE model = 'lc' ORDER BY deployed_at, version;
SELECT version, deployed FROM mm_versions WHERE model = 'lc' ORDER BY version;
-- inside one transaction a deploy is seen by the next statement, and two
-- call sites in one query resolve independently
BEGIN;
SELECT mm_deploy('lc', 3);
SELECT count(*) FILTER (WHERE mm_predict('lc', d) = mm_predict('lc', d, 3)) AS served_by_v3,
       count(*) FILTER (WHERE mm_predict('lc', d, 1) <> mm_predict('lc', d, 3)) AS v1_differs
  FROM diabetes d;
ROLLBACK;
SELECT deployed_version FROM mm_models WHERE model = 'lc';
-- deploy 3 again, then roll back to 1 (2 was rolled back from before)
SELECT mm_deploy('lc', 3);
SELECT mm_rollback('lc');
-- drop: a version that is not deployed; never the deployed one
SELECT mm_drop('lc', 3);
SELECT mm_drop('lc', 1);
SELECT mm_drop('lc', 3);
SELECT mm_deploy('lc', 3);
SELECT version FROM mm_versions WHERE model = 'lc' ORDER BY version;
SELECT model, deployed_version, latest_version, versions FROM mm_models WHERE model = 'lc';
-- version numbers are never reused
SELECT version FROM mm_train('lc', 'ridge', 'diabetes', 'progression', deploy => 'never');
-- a version number handed out by a rolled-back train is handed out again;
-- the decoded model of the rolled-back one is not served for it
BEGIN;
SELECT version FROM mm_train('lc', 'linear_regression', 'SELECT bmi, progression FROM diabetes', 'progression',
                             deploy => 'never');
SELECT round(mm_predict('lc', ARRAY[30.0], 5)::numeric, 4) AS rolled_back_v5;
ROLLBACK;
SELECT version FROM mm_train('lc', 'linear_regression', 'SELECT bmi, 2 * progression AS progression FROM diabetes',
                             'progression', deploy => 'never');
SELECT round(mm_predict('lc', ARRAY[30.0], 5)::numeric, 4) AS new_v5,
       round(((SELECT weight FROM mm_weights('lc', 5) WHERE feature = 'intercept') +
              30 * (SELECT weight FROM mm_weights('lc', 5) WHERE feature = 'bmi'))::numeric, 4) AS from_weights;
-- a dropped version is not served from any cache
SELECT mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90], 3);
-- dropping the model drops its versions and history
SELECT mm_drop('lc');
SELECT count(*) FROM mm_versions WHERE model = 'lc';
SELECT count(*) FROM mm_deployments WHERE model = 'lc';
SELECT count(*) FROM mm.versions v WHERE NOT EXISTS (SELECT 1 FROM mm.models m WHERE m.id = v.model_id);
SELECT mm_predict('lc', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90]);
-- a model of the same name starts again at version 1
SELECT version, deployed FROM mm_train('lc', 'linear_regression', 'diabetes', 'progression');

-- bad input
SELECT mm_deploy('no_such_model', 1);
SELECT mm_deploy('lc', 5);
SELECT mm_deploy('lc', NULL);
SELECT mm_deploy('lc', 1, 0.5);
SELECT mm_deploy('lc', 1, 0);
SELECT mm_deploy('lc', 1, 1.5);
SELECT mm_rollback('no_such_model');
SELECT mm_rollback('lc');
SELECT mm_drop('no_such_model');
SELECT mm_drop('lc', 9);
SELECT mm_drop(NULL);
