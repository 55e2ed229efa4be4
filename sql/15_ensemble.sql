-- Ensembles (mm_ensemble) and stacking (mm_train ... 'stacking').
-- Reference numbers come from test/reference/fusion.py (Debian's
-- python3-sklearn 1.2.1; output test/reference/fusion.out): members and
-- stackings fitted on the same training rows and, for stacking, the same
-- folds as massmodel's documented split.  bc_num is the breast cancer view
-- of 14_search.sql (numeric label).

-- members: ridge and lasso on diabetes, logistic regression and naive Bayes on breast cancer
SELECT model, version FROM mm_train('dia_r', 'ridge', 'diabetes', 'progression', params => '{"alpha": 1}');
SELECT model, version FROM mm_train('dia_l', 'lasso', 'diabetes', 'progression', params => '{"alpha": 0.1, "tol": 1e-12}');
SELECT model, version FROM mm_train('bcn_lr', 'logistic_regression', 'bc_num', 'malignant');
SELECT model, version FROM mm_train('bcn_nb', 'naive_bayes', 'bc_num', 'malignant');

-- (F) weighted mean of regressions, against scikit-learn's VotingRegressor over every row
SELECT mm_ensemble('dia_vote', ARRAY['dia_r', 'dia_l@1'], weights => ARRAY[1, 3]) AS version;
SELECT model, version, algorithm, params, target, deployed FROM mm_versions WHERE model = 'dia_vote';
SELECT model, task, algorithm, deployed_version FROM mm_models WHERE model = 'dia_vote';
WITH e AS (SELECT mm_evaluate('dia_vote', 'diabetes') AS m)
SELECT (m->>'n')::int AS n,
       abs((m->>'rmse')::float8 - 53.767487573429371) / 53.767487573429371 < 1e-9 AS rmse_ok,
       abs((m->>'mae')::float8 - 43.295752383618193) / 43.295752383618193 < 1e-9 AS mae_ok,
       abs((m->>'r2')::float8 - 0.51247911718064976) < 1e-9 AS r2_ok
  FROM e;
SELECT abs(mm_predict('dia_vote', d.*) - 198.73138746532197) < 1e-9 AS row0_ok
  FROM diabetes d WHERE age = 59 AND sex = 2 AND bmi = 32.1;
-- every row: exactly the weighted mean of the members' own predictions
SELECT count(*) AS rows,
       max(abs(mm_predict('dia_vote', d.*) - (mm_predict('dia_r', d.*) + 3 * mm_predict('dia_l', d.*)) / 4)) < 1e-9 AS weighted_mean
  FROM diabetes d;

-- (G) soft and hard votes of classifiers, against VotingClassifier's rule
SELECT mm_ensemble('bc_soft', ARRAY['bcn_lr', 'bcn_nb'], 'soft_vote', ARRAY[2, 1]) AS version;
SELECT mm_ensemble('bc_hard', ARRAY['bcn_lr', 'bcn_nb'], 'vote') AS version;
WITH e AS (SELECT mm_evaluate('bc_soft', 'bc_num') AS m)
SELECT (m->>'n')::int AS n, (m->>'accuracy')::float8 = 0.97539543057996481 AS accuracy_ok,
       abs((m->>'log_loss')::float8 - 0.070879232987028848) / 0.070879232987028848 < 1e-6 AS log_loss_ok,
       m->'labels' AS labels
  FROM e;
SELECT (mm_evaluate('bc_hard', 'bc_num')->>'accuracy')::float8 = 0.961335676625659 AS hard_accuracy_ok;
SELECT abs((mm_predict_proba('bc_soft', b.*))[2] - 0.99999999498600245) < 1e-6 AS row0_ok
  FROM (SELECT * FROM bc_num LIMIT 1) b;
-- vote shares: each member's vote counts its weight; a tie goes to the first label
SELECT DISTINCT mm_predict_proba('bc_hard', b.*) AS shares FROM bc_num b ORDER BY 1;
SELECT count(*) FILTER (WHERE mm_predict_label('bc_hard', b.*) <> mm_predict_label('bcn_lr', b.*)
                          AND mm_predict_label('bc_hard', b.*) <> mm_predict_label('bcn_nb', b.*)) AS outside_members,
       count(*) FILTER (WHERE mm_predict_label('bcn_lr', b.*) <> mm_predict_label('bcn_nb', b.*)) AS ties,
       bool_and(mm_predict_label('bcn_lr', b.*) = mm_predict_label('bcn_nb', b.*)
                OR mm_predict('bc_hard', b.*) = 0) AS ties_to_first
  FROM bc_num b;
SELECT mm_labels('bc_soft') AS labels, mm_predict('bc_soft', b.*) AS value
  FROM (SELECT * FROM bc_num LIMIT 1) b;

-- members with different features: the ensemble reads the union, by name
SELECT version FROM mm_train('ens_a', 'ridge', 'diabetes', 'progression', features => ARRAY['age', 'bmi', 'bp']);
SELECT version FROM mm_train('ens_b', 'lasso', 'diabetes', 'progression', features => ARRAY['bmi', 's5', 's1']);
SELECT mm_ensemble('ens_ab', ARRAY['ens_a', 'ens_b']) AS version;
SELECT jsonb_path_query_array(features, '$[*].name') AS features FROM mm_versions WHERE model = 'ens_ab';
SELECT max(abs(mm_predict('ens_ab', d.*) - (mm_predict('ens_a', d.*) + mm_predict('ens_b', d.*)) / 2)) < 1e-9 AS row_input,
       max(abs(mm_predict('ens_ab', ARRAY[d.age, d.bmi, d.bp, d.s5, d.s1]) -
               mm_predict('ens_ab', d.*))) < 1e-12 AS array_input
  FROM diabetes d;
-- categorical levels are merged; a level one member never saw is that member's unseen level
CREATE TABLE ens_shop AS SELECT * FROM shop WHERE x IS NOT NULL;
SELECT version FROM mm_train('ens_rb', 'linear_regression', 'SELECT color, x, y FROM ens_shop WHERE color <> ''green''', 'y');
SELECT version FROM mm_train('ens_rg', 'ridge', 'SELECT color, x, y FROM ens_shop WHERE color <> ''blue''', 'y');
SELECT mm_ensemble('ens_colors', ARRAY['ens_rb', 'ens_rg']) AS version;
SELECT features->0 AS color FROM mm_versions WHERE model = 'ens_colors';
SELECT color, max(abs(mm_predict('ens_colors', s.*) - (mm_predict('ens_rb', s.*) + mm_predict('ens_rg', s.*)) / 2)) < 1e-9 AS mean_of_members
  FROM ens_shop s GROUP BY color ORDER BY color;
SELECT mm_predict('ens_colors', ROW('purple', 2.0)::record) =
       (mm_predict('ens_rb', ROW('purple', 2.0)::record) + mm_predict('ens_rg', ROW('purple', 2.0)::record)) / 2 AS unseen_everywhere;

-- NULLs: imputed when every member fills them alike, an error otherwise
SELECT version FROM mm_train('ens_im1', 'ridge', 'SELECT color, x, y FROM shop', 'y', params => '{"impute": "mean"}');
SELECT version FROM mm_train('ens_im2', 'linear_regression', 'SELECT color, x, y FROM shop', 'y', params => '{"impute": "mean"}');
SELECT version FROM mm_train('ens_im3', 'ridge', 'SELECT color, x, y FROM shop WHERE id > 100', 'y', params => '{"impute": "mean"}');
SELECT mm_ensemble('ens_im12', ARRAY['ens_im1', 'ens_im2']) AS version, mm_ensemble('ens_im13', ARRAY['ens_im1', 'ens_im3']) AS version;
SELECT features->1->>'impute' AS alike, (SELECT features->1->>'impute' FROM mm_versions WHERE model = 'ens_im13') AS differing
  FROM mm_versions WHERE model = 'ens_im12';
SELECT abs(mm_predict('ens_im12', ROW('red', NULL::float8)::record) -
           (mm_predict('ens_im1', ROW('red', NULL::float8)::record) + mm_predict('ens_im2', ROW('red', NULL::float8)::record)) / 2) < 1e-9 AS imputed;
SELECT mm_predict('ens_im13', ROW('red', NULL::float8)::record);

-- a model like any other: versions, deploy, rollback, export, import, drop of a member
SELECT mm_ensemble('dia_vote', ARRAY['dia_r', 'dia_l']) AS version;
SELECT version, params->'weights' AS weights, deployed FROM mm_versions WHERE model = 'dia_vote' ORDER BY version;
SELECT mm_rollback('dia_vote') AS back_to;
SELECT mm_import('dia_vote_copy', mm_export('dia_vote', 1)) AS imported;
SELECT max(abs(mm_predict('dia_vote_copy', d.*) - mm_predict('dia_vote', d.*))) = 0 AS same_after_import FROM diabetes d;
SELECT mm_drop('ens_b');
SELECT round(mm_predict('ens_ab', d.*)::numeric, 6) AS still_predicts FROM diabetes d WHERE age = 59 AND bmi = 32.1;
SELECT mm_weights('dia_vote');

-- privileges: predict on the members is checked when the ensemble is made, afterwards on the ensemble only
CREATE ROLE ens_maker;
CREATE ROLE ens_user;
GRANT SELECT ON diabetes TO ens_maker, ens_user;
SET ROLE ens_maker;
SELECT mm_ensemble('ens_priv', ARRAY['dia_r', 'dia_l']);
RESET ROLE;
SELECT mm_grant('dia_r', 'ens_maker', 'predict');
SELECT mm_grant('dia_l', 'ens_maker', 'predict');
SET ROLE ens_maker;
SELECT mm_ensemble('ens_priv', ARRAY['dia_r', 'dia_l']) AS version;
SELECT mm_grant('ens_priv', 'ens_user', 'predict');
SET ROLE ens_user;
SELECT round(mm_predict('ens_priv', d.*)::numeric, 6) AS via_ensemble FROM diabetes d WHERE age = 59 AND bmi = 32.1;
SELECT mm_predict('dia_r', d.*) FROM diabetes d WHERE age = 59 AND bmi = 32.1;
RESET ROLE;

-- bad ensembles
SELECT mm_ensemble('ens_bad', NULL);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r']);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', NULL]);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'no_such_model']);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l@9']);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_vote']);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'bcn_lr']);
SELECT mm_ensemble('ens_bad', ARRAY['bcn_lr', 'iris_nb']);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], 'median');
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], 'stack');
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], 'vote');
SELECT mm_ensemble('ens_bad', ARRAY['bcn_lr', 'bcn_nb'], 'mean');
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], weights => ARRAY[1]);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], weights => ARRAY[1, -1]);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], weights => ARRAY[1, NULL]);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], weights => ARRAY[0, 0]);
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'dia_l'], weights => ARRAY['NaN'::float8, 1]);
CREATE TABLE ens_clash AS SELECT age::text AS age, bmi, progression FROM diabetes;
SELECT version FROM mm_train('ens_clash', 'ridge', 'ens_clash', 'progression');
SELECT mm_ensemble('ens_bad', ARRAY['dia_r', 'ens_clash']);
SELECT * FROM mm_train('ens_bad', 'ensemble', 'diabetes', 'progression');
SELECT count(*) AS ens_bad_models FROM mm_models WHERE model = 'ens_bad';

-- (D) stacking regression: members refit per fold, a ridge on their out-of-fold predictions
SELECT model, version, abs((metrics->>'rmse')::float8 - 54.70563508615853) / 54.70563508615853 < 1e-7 AS rmse_ok,
       abs((metrics->>'mae')::float8 - 42.572172641304327) / 42.572172641304327 < 1e-7 AS mae_ok,
       abs((metrics->>'r2')::float8 - 0.3785804604042925) < 1e-7 AS r2_ok
  FROM mm_train('dia_stack', 'stacking', 'diabetes', 'progression',
                params => '{"members": ["dia_r", "dia_l", {"algorithm": "linear_regression"}]}');
SELECT algorithm, params->'members'->0->>'from' AS first_from, params->>'final' AS final, params->>'cv' AS cv
  FROM mm_versions WHERE model = 'dia_stack';
WITH d AS (SELECT row_number() OVER () - 1 AS i, * FROM diabetes),
ref(i, p) AS (VALUES (9, 211.89956247277681), (14, 106.94908780055019), (15, 189.2443394439895),
                     (16, 220.67969034057438), (17, 179.91672954491477))
SELECT count(*) AS compared, max(abs(mm_predict('dia_stack', d.*) - p) / p) < 1e-7 AS within_1e_7
  FROM d JOIN ref USING (i);

-- (E) stacking classification: logistic regression and naive Bayes, a logistic regression on their probabilities
SELECT model, (metrics->>'accuracy')::float8 = 0.98230088495575218 AS accuracy_ok,
       abs((metrics->>'log_loss')::float8 - 0.048127293699897281) / 0.048127293699897281 < 1e-5 AS log_loss_ok
  FROM mm_train('bc_stack', 'stacking', 'bc_num', 'malignant',
                params => '{"members": ["bcn_lr", "bcn_nb"], "final": "logistic_regression"}');
WITH b AS (SELECT row_number() OVER () - 1 AS i, * FROM bc_num),
ref(i, p) AS (VALUES (1, 0.99193896360134204), (5, 0.98789619817756846), (13, 0.69625884277608285),
                     (15, 0.99193228295273483), (30, 0.99194332221796044))
SELECT count(*) AS compared, max(abs((mm_predict_proba('bc_stack', b.*))[2] - p)) < 1e-5 AS within_1e_5
  FROM b JOIN ref USING (i);
SELECT mm_predict_label('bc_stack', b.*) AS label, count(*) FROM bc_num b GROUP BY 1 ORDER BY 1;
SELECT mm_import('bc_stack_copy', mm_export('bc_stack')) AS imported;
SELECT bool_and(mm_predict_proba('bc_stack_copy', b.*, 1) = mm_predict_proba('bc_stack', b.*)) AS same_after_import FROM bc_num b;
-- members that leave the task open (inline mlps) take the target's; the final model's params are parsed for it
SELECT model, metrics->>'evaluated_on' AS evaluated_on, (metrics->>'accuracy')::float8 > 0.8 AS learnt
  FROM mm_train('iris_stack', 'stacking', 'iris', 'species',
                params => '{"members": [{"algorithm": "mlp", "params": {"hidden_layers": [8], "epochs": 50, "learning_rate": 0.01}},
                                        {"algorithm": "mlp", "params": {"hidden_layers": [4], "epochs": 50, "learning_rate": 0.01, "seed": 3}}],
                            "final": "logistic_regression", "cv": 3}');
SELECT params->'members'->0->'params'->>'task' AS member_task, params->'final_params'->>'C' AS final_c,
       params->'final_params'->>'penalty' AS final_penalty
  FROM mm_versions WHERE model = 'iris_stack';
SELECT * FROM mm_train('st_bad', 'stacking', 'iris', 'species',
                       params => '{"members": [{"algorithm": "mlp"}, {"algorithm": "mlp"}], "final": "ridge"}');

-- a stacking can be a member of an ensemble no more than an ensemble can
SELECT mm_ensemble('ens_bad', ARRAY['bc_stack', 'bcn_lr']);

-- bad stackings
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": "dia_r"}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r"]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", 42]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", {"algorithm": "kmeans"}]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", {"algo": "ridge"}]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", {"algorithm": "ridge", "params": {"alpha": -1}}]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "bcn_lr"]}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"], "final": "logistic_regression"}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"], "final": "mlp"}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"], "cv": 1}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"], "alpha": 1}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"], "final_params": {"alpha": "x"}}');
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["bcn_lr", "bcn_nb"]}');
SET ROLE ens_user;
SELECT * FROM mm_train('st_bad', 'stacking', 'diabetes', 'progression', params => '{"members": ["dia_r", "dia_l"]}');
RESET ROLE;
SELECT count(*) AS st_bad_models FROM mm_models WHERE model = 'st_bad';

DROP TABLE ens_shop, ens_clash;
SELECT mm_drop('ens_priv');
REVOKE SELECT ON diabetes FROM ens_maker, ens_user;
DROP ROLE ens_maker, ens_user;
