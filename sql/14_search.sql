-- Hyper-parameter search with k-fold cross-validation inside mm_train.
-- Every reference number comes from test/reference/search.py (Debian's
-- python3-sklearn 1.2.1; its output is test/reference/search.out), which
-- reproduces the documented split and fold assignment (folds: the training
-- rows of each class ordered by their split number, dealt round-robin) and
-- scores each candidate with scikit-learn on exactly those folds.

-- breast cancer with a numeric label, so that the split hash is the one the
-- reference computes (strings enter it through PostgreSQL's hash)
CREATE VIEW bc_num AS
  SELECT mean_radius, mean_texture, mean_perimeter, mean_area, mean_smoothness, mean_compactness,
         mean_concavity, mean_concave_points, mean_symmetry, mean_fractal_dimension,
         radius_error, texture_error, perimeter_error, area_error, smoothness_error,
         compactness_error, concavity_error, concave_points_error, symmetry_error,
         fractal_dimension_error, worst_radius, worst_texture, worst_perimeter, worst_area,
         worst_smoothness, worst_compactness, worst_concavity, worst_concave_points,
         worst_symmetry, worst_fractal_dimension,
         (diagnosis = 'malignant')::int AS malignant
    FROM breast_cancer;

-- (A) ridge, alpha in a grid of 4, 5 folds
SELECT version, metrics->'search'->>'best' AS best, metrics->'search'->'best_params' AS best_params,
       metrics->'search'->'fold_rows' AS fold_rows, metrics->'search'->>'method' AS method,
       metrics->'search'->>'metric' AS metric, metrics->'search'->>'grid_size' AS grid_size
  FROM mm_train('cv_ridge', 'ridge', 'diabetes', 'progression',
                params => '{"alpha": [0.1, 1, 10, 100], "search": "grid", "cv": 5}');
-- the version's params hold the chosen value
SELECT params FROM mm_versions WHERE model = 'cv_ridge';
-- every fold's rmse of every candidate, and their mean and std
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_ridge'),
ref(c, f, rmse) AS (VALUES
  (0, 0, 56.704617893796367),
  (0, 1, 50.199318776037465),
  (0, 2, 52.436982389922768),
  (0, 3, 61.896622110485275),
  (0, 4, 53.061793598323533),
  (1, 0, 56.663432902838466),
  (1, 1, 50.273010014421025),
  (1, 2, 52.608824262672698),
  (1, 3, 62.073530434060253),
  (1, 4, 52.870502615957513),
  (2, 0, 56.929810933300644),
  (2, 1, 50.919757523944902),
  (2, 2, 53.963314273806752),
  (2, 3, 63.109317890921105),
  (2, 4, 52.741418186411281),
  (3, 0, 58.379429893520438),
  (3, 1, 52.201575061293639),
  (3, 2, 55.360777296499634),
  (3, 3, 64.758920429457518),
  (3, 4, 54.081493373530471))
SELECT count(*) AS compared,
       max(abs((s->'candidates'->c->'folds'->>f)::float8 - rmse) / rmse) < 1e-9 AS folds_within_1e_9
  FROM s, ref;
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_ridge'),
ref(c, mean, std) AS (VALUES
  (0, 54.85986695371308, 4.0925096428609411),
  (1, 54.897860045989987, 4.1315032085667536),
  (2, 55.532723761676934, 4.2635788166748947),
  (3, 56.956439210860346, 4.3891639122469659))
SELECT c, s->'candidates'->c->'params' AS params,
       abs((s->'candidates'->c->>'mean')::float8 - mean) / mean < 1e-9 AS mean_ok,
       abs((s->'candidates'->c->>'std')::float8 - std) / std < 1e-8 AS std_ok
  FROM s, ref ORDER BY c;
-- the best candidate refit on every training row: held-out rmse and weights
SELECT abs((metrics->>'rmse')::float8 - 54.444124265660655) / 54.444124265660655 < 1e-9 AS heldout_rmse_ok,
       metrics->>'evaluated_on' AS evaluated_on, (metrics->>'n')::int AS n
  FROM mm_versions WHERE model = 'cv_ridge';
WITH ref(feature, w) AS (VALUES
  ('intercept', -387.99669362961708),
  ('age', -0.093918551622921981),
  ('sex', -26.125077639158999),
  ('bmi', 4.6996712813524679),
  ('bp', 1.3197795651240509),
  ('s1', -1.1467464402878615),
  ('s2', 0.73647643881019731),
  ('s3', 0.70784485387191187),
  ('s4', 10.105446025304889),
  ('s5', 75.483687044447279),
  ('s6', 0.43439278266721815))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('cv_ridge') JOIN ref USING (feature);
-- the refit is the model a plain train with the chosen alpha gives
SELECT version FROM mm_train('cv_ridge_plain', 'ridge', 'diabetes', 'progression', params => '{"alpha": 0.1}');
SELECT bool_and(abs(a.weight - b.weight) <= 1e-9 * abs(b.weight)) AS same_weights
  FROM mm_weights('cv_ridge') a JOIN mm_weights('cv_ridge_plain') b USING (feature);

-- (B) lasso over two dimensions, alpha x scale; scaling is learnt per fold
SELECT version, metrics->'search'->'best_params' AS best_params, metrics->'search'->>'grid_size' AS grid_size
  FROM mm_train('cv_lasso', 'lasso', 'diabetes', 'progression',
                params => '{"alpha": [0.1, 1.0], "scale": ["none", "standard"], "tol": 1e-12, "cv": 5}');
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_lasso'),
ref(c, f, rmse) AS (VALUES
  (0, 0, 56.730463498675746),
  (0, 1, 50.236360039971458),
  (0, 2, 52.455500507782162),
  (0, 3, 62.000149694314018),
  (0, 4, 52.981311680844961),
  (1, 0, 56.632058725762462),
  (1, 1, 50.287906151878481),
  (1, 2, 52.760747753032639),
  (1, 3, 62.150680113880625),
  (1, 4, 52.784656200126683),
  (2, 0, 57.184439268738394),
  (2, 1, 50.886684283823094),
  (2, 2, 53.332335052297623),
  (2, 3, 63.209759405462812),
  (2, 4, 52.715314205873547),
  (3, 0, 56.958891983436807),
  (3, 1, 50.692540767115652),
  (3, 2, 52.33926048986185),
  (3, 3, 62.319776949566403),
  (3, 4, 52.394742343467492))
SELECT count(*) AS compared,
       max(abs((s->'candidates'->c->'folds'->>f)::float8 - rmse) / rmse) < 1e-7 AS folds_within_1e_7
  FROM s, ref;
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_lasso'),
ref(c, mean, std) AS (VALUES
  (0, 54.880757084317665, 4.1271624916623333),
  (1, 54.923209788936177, 4.1446878122121404),
  (2, 55.465706443239092, 4.3819578659463563),
  (3, 54.941042506689641, 4.238398747281372))
SELECT c, s->'candidates'->c->'params' AS params,
       abs((s->'candidates'->c->>'mean')::float8 - mean) / mean < 1e-7 AS mean_ok,
       abs((s->'candidates'->c->>'std')::float8 - std) / std < 1e-6 AS std_ok
  FROM s, ref ORDER BY c;
SELECT params->>'alpha' AS alpha, params->>'scale' AS scale,
       abs((metrics->>'rmse')::float8 - 54.31244064783904) / 54.31244064783904 < 1e-7 AS heldout_rmse_ok
  FROM mm_versions WHERE model = 'cv_lasso';
WITH ref(feature, w) AS (VALUES
  ('intercept', -374.20360627467437),
  ('age', -0.092363055134411051),
  ('sex', -25.645519475665296),
  ('bmi', 4.7209604381028729),
  ('bp', 1.3153833256324572),
  ('s1', -1.0216341169160394),
  ('s2', 0.63217622968300147),
  ('s3', 0.54215140933414552),
  ('s4', 9.33543293810542),
  ('s5', 72.207923756175447),
  ('s6', 0.43712985424681855))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-6 AS within_1e_6
  FROM mm_weights('cv_lasso') JOIN ref USING (feature);

-- (C) logistic regression, C in a grid of 4, stratified 5 folds, accuracy
SELECT version, metrics->'search'->>'metric' AS metric, metrics->'search'->'best_params' AS best_params,
       metrics->'search'->'fold_rows' AS fold_rows
  FROM mm_train('cv_logit', 'logistic_regression', 'bc_num', 'malignant',
                params => '{"C": [0.01, 0.1, 1, 10], "cv": 5}');
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_logit'),
ref(c, f, acc) AS (VALUES
  (0, 0, 0.94565217391304346),
  (0, 1, 0.93406593406593408),
  (0, 2, 0.94505494505494503),
  (0, 3, 0.95604395604395609),
  (0, 4, 0.95604395604395609),
  (1, 0, 0.97826086956521741),
  (1, 1, 0.96703296703296704),
  (1, 2, 0.97802197802197799),
  (1, 3, 0.97802197802197799),
  (1, 4, 0.97802197802197799),
  (2, 0, 0.98913043478260865),
  (2, 1, 0.97802197802197799),
  (2, 2, 0.97802197802197799),
  (2, 3, 0.95604395604395609),
  (2, 4, 0.96703296703296704),
  (3, 0, 0.98913043478260865),
  (3, 1, 0.97802197802197799),
  (3, 2, 0.96703296703296704),
  (3, 3, 0.96703296703296704),
  (3, 4, 0.94505494505494503))
SELECT count(*) AS compared,
       max(abs((s->'candidates'->c->'folds'->>f)::float8 - acc)) < 1e-12 AS folds_equal
  FROM s, ref;
WITH s AS (SELECT metrics->'search' AS s FROM mm_versions WHERE model = 'cv_logit'),
ref(c, mean, std) AS (VALUES
  (0, 0.94737219302436704, 0.0081949201228542871),
  (1, 0.97587195413282368, 0.0044204619230655898),
  (2, 0.97365026278069755, 0.011239485339032207),
  (3, 0.96925465838509317, 0.014611025502742188))
SELECT c, abs((s->'candidates'->c->>'mean')::float8 - mean) < 1e-12 AS mean_ok,
       abs((s->'candidates'->c->>'std')::float8 - std) < 1e-12 AS std_ok
  FROM s, ref ORDER BY c;
SELECT params->>'C' AS c, (metrics->>'accuracy')::float8 = 0.97345132743362828 AS heldout_accuracy_ok, metrics->>'n' AS n
  FROM mm_versions WHERE model = 'cv_logit';

-- (D) random search: n_iter of the grid's combinations, drawn from the seed
SELECT version, metrics->'search'->>'method' AS method, metrics->'search'->>'grid_size' AS grid_size,
       jsonb_array_length(metrics->'search'->'candidates') AS candidates
  FROM mm_train('cv_rand', 'ridge', 'diabetes', 'progression',
                params => '{"alpha": [0.01, 0.1, 1, 10], "fit_intercept": [true, false], "search": "random", "n_iter": 3, "seed": 7}');
SELECT version FROM mm_train('cv_grid8', 'ridge', 'diabetes', 'progression',
                             params => '{"alpha": [0.01, 0.1, 1, 10], "fit_intercept": [true, false], "seed": 7}');
-- distinct combinations of the grid, each scored exactly as the grid scored it
WITH r AS (SELECT c FROM mm_versions, jsonb_array_elements(metrics->'search'->'candidates') c WHERE model = 'cv_rand'),
     g AS (SELECT c FROM mm_versions, jsonb_array_elements(metrics->'search'->'candidates') c WHERE model = 'cv_grid8')
SELECT count(*) AS sampled, count(DISTINCT r.c->'params') AS distinct_params,
       bool_and(r.c->'mean' = g.c->'mean' AND r.c->'folds' = g.c->'folds') AS same_scores_as_grid
  FROM r JOIN g ON r.c->'params' = g.c->'params';
-- the same seed draws the same candidates
SELECT version FROM mm_train('cv_rand', 'ridge', 'diabetes', 'progression',
                             params => '{"alpha": [0.01, 0.1, 1, 10], "fit_intercept": [true, false], "search": "random", "n_iter": 3, "seed": 7}');
SELECT count(DISTINCT metrics->'search'->'candidates') AS distinct_tables FROM mm_versions WHERE model = 'cv_rand';
-- n_iter at least the grid: every combination
SELECT jsonb_array_length(metrics->'search'->'candidates') AS candidates
  FROM mm_train('cv_rand_all', 'ridge', 'diabetes', 'progression',
                params => '{"alpha": [1, 10], "search": "random", "n_iter": 50}');

-- (E) cv alone cross-validates the one configuration
SELECT jsonb_array_length(metrics->'search'->'candidates') AS candidates,
       metrics->'search'->'candidates'->0->'params' AS params,
       abs((metrics->'search'->'candidates'->0->>'mean')::float8 - 54.897860045989987) < 1e-9 AS same_as_grid
  FROM mm_train('cv_one', 'ridge', 'diabetes', 'progression', params => '{"alpha": 1, "cv": 5}');

-- (F) an mlp over layer lists (an array of arrays), and naive bayes with stratified folds
SELECT jsonb_array_length(metrics->'search'->'candidates') AS candidates,
       metrics->'search'->'candidates'->1->'params' AS second, (metrics->>'accuracy')::float8 > 0.8 AS learnt
  FROM mm_train('cv_mlp', 'mlp', 'iris', 'species',
                params => '{"hidden_layers": [[4], [16, 8]], "epochs": 60, "learning_rate": 0.01, "cv": 3}');
SELECT params->'hidden_layers' = metrics->'search'->'best_params'->'hidden_layers' AS chosen_layers_stored,
       params->>'task' AS task
  FROM mm_versions WHERE model = 'cv_mlp';
SELECT metrics->'search'->'fold_rows' AS fold_rows, metrics->'search'->'best_params' AS best
  FROM mm_train('cv_nb', 'naive_bayes', 'iris', 'species', params => '{"var_smoothing": [1e-9, 0.5], "cv": 4}');

-- (G) verbose: one NOTICE per candidate
\set VERBOSITY terse
SELECT version FROM mm_train('cv_verbose', 'ridge', 'diabetes', 'progression',
                             params => '{"alpha": [1, 100], "cv": 2, "verbose": true}');
\set VERBOSITY default

-- (H) bad searches: every one refused before a row is read or stored
-- statement_timeout stops a search between (or inside) fold fits, and nothing is stored
SET statement_timeout = '200ms';
SELECT * FROM mm_train('cv_cancel', 'mlp', 'iris', 'species',
                       params => '{"hidden_layers": [[64], [128, 64]], "epochs": 100000, "cv": 5}');
RESET statement_timeout;
SELECT count(*) AS cv_cancel_models FROM mm_models WHERE model = 'cv_cancel';

SELECT count(*) AS versions_before FROM mm_versions \gset
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 10], "seed": [1, 2]}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": []}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": 1, "search": "grid"}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "search": "bayes"}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "n_iter": 1}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "cv": 1}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "cv": 2.5}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, "x"]}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, -1]}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "bogus": [1, 2]}');
SELECT * FROM mm_train('cv_bad', 'lasso', 'diabetes', 'progression',
                       params => jsonb_build_object('alpha', (SELECT jsonb_agg(i) FROM generate_series(1, 400) i),
                                                    'tol', (SELECT jsonb_agg(i) FROM generate_series(1, 400) i)));
SELECT * FROM mm_train('cv_bad', 'kmeans', 'iris', params => '{"k": [2, 3]}', features => ARRAY['sepal_length', 'petal_length']);
SELECT * FROM mm_train('cv_bad', 'logistic_regression', 'bc_num', 'malignant', params => '{"C": [1, 2], "warm_start": true}');
SELECT * FROM mm_train('cv_bad', 'ridge', 'diabetes', 'progression', params => '{"alpha": [1, 2], "cv": 400}');
SELECT * FROM mm_train('cv_bad', 'naive_bayes', 'SELECT * FROM iris WHERE species <> ''setosa'' OR sepal_length < 4.5', 'species',
                       params => '{"cv": 4}');
SELECT * FROM mm_train('cv_bad', 'logistic_regression', 'bc_num', 'malignant',
                       params => '{"penalty": ["none", "l2"], "cv": 3}');
SELECT count(*) = :versions_before AS nothing_stored FROM mm_versions;
SELECT count(*) AS cv_bad_models FROM mm_models WHERE model = 'cv_bad';
