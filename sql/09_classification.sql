-- Classification: logistic regression and naive Bayes against scikit-learn,
-- labels, probabilities, metrics, the stratified split, and preprocessing
-- (categorical features, imputation, scaling).  Reference numbers:
-- test/reference/sql_classification.py (Debian's python3-sklearn 1.2.1),
-- output in test/reference/sql_classification.out.
CREATE TABLE iris (sepal_length float8, sepal_width float8, petal_length float8,
				   petal_width float8, species text);
\copy iris FROM 'data/iris.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE breast_cancer (
	mean_radius float8,
	mean_texture float8,
	mean_perimeter float8,
	mean_area float8,
	mean_smoothness float8,
	mean_compactness float8,
	mean_concavity float8,
	mean_concave_points float8,
	mean_symmetry float8,
	mean_fractal_dimension float8,
	radius_error float8,
	texture_error float8,
	perimeter_error float8,
	area_error float8,
	smoothness_error float8,
	compactness_error float8,
	concavity_error float8,
	concave_points_error float8,
	symmetry_error float8,
	fractal_dimension_error float8,
	worst_radius float8,
	worst_texture float8,
	worst_perimeter float8,
	worst_area float8,
	worst_smoothness float8,
	worst_compactness float8,
	worst_concavity float8,
	worst_concave_points float8,
	worst_symmetry float8,
	worst_fractal_dimension float8,
	diagnosis text
);
\copy breast_cancer FROM 'data/breast_cancer.csv' WITH (FORMAT csv, HEADER)
ALTER TABLE iris ADD COLUMN id serial;
ALTER TABLE breast_cancer ADD COLUMN id serial;

-- (a) multinomial logistic regression, l2, C = 1, unscaled, every row
SELECT model, version, metrics->>'evaluated_on' AS on
  FROM mm_train('iris_lr', 'logistic_regression', 'SELECT sepal_length, sepal_width, petal_length, petal_width, species FROM iris',
                'species', params => '{"scale": "none", "tol": 1e-10}', test_fraction => 0);
SELECT mm_labels('iris_lr');
WITH ref(class, feature, w) AS (VALUES
  ('setosa', 'intercept', 9.8495680504592116),
  ('setosa', 'sepal_length', -0.42350992000668458),
  ('setosa', 'sepal_width', 0.96735057956517156),
  ('setosa', 'petal_length', -2.5171523782095693),
  ('setosa', 'petal_width', -1.079336647105116),
  ('versicolor', 'intercept', 2.2372056322055558),
  ('versicolor', 'sepal_length', 0.53446150895266453),
  ('versicolor', 'sepal_width', -0.32158785519827604),
  ('versicolor', 'petal_length', -0.20639207102563345),
  ('versicolor', 'petal_width', -0.94429846603659029),
  ('virginica', 'intercept', -12.086773682664621),
  ('virginica', 'sepal_length', -0.11095158894605452),
  ('virginica', 'sepal_width', -0.64576272436690074),
  ('virginica', 'petal_length', 2.723544449235181),
  ('virginica', 'petal_width', 2.023635113141689))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-6 AS within_1e_6
  FROM mm_weights('iris_lr') JOIN ref USING (class, feature);
WITH ref(id, p) AS (VALUES
  (1, ARRAY[0.98158349487773722, 0.01841649062359553, 1.4498667355788389e-08]),
  (51, ARRAY[0.0021266954175670153, 0.87395668795194437, 0.12391661663048847]),
  (101, ARRAY[9.0526913937734461e-07, 0.0039127473657734092, 0.99608634736508717]))
SELECT id, mm_predict_label('iris_lr', i) AS label,
       (SELECT max(abs(a - b)) FROM unnest(mm_predict_proba('iris_lr', i), p) AS u(a, b)) < 1e-6 AS proba_within_1e_6
  FROM iris i JOIN ref USING (id) ORDER BY id;
-- metrics on the training rows equal sklearn.metrics of the same predictions
WITH m AS (SELECT metrics FROM mm_versions WHERE model = 'iris_lr'),
ref(k, v) AS (VALUES ('accuracy', 0.97333333333333338), ('precision', 0.9738247863247862),
  ('recall', 0.97333333333333327), ('f1', 0.97332266239829268), ('log_loss', 0.11963667798890064))
SELECT k, abs((metrics->>k)::float8 - v) < 1e-6 AS ok FROM m, ref ORDER BY k;
SELECT metrics->'labels' AS labels, metrics->'confusion_matrix' AS confusion, metrics ? 'roc_auc' AS has_roc_auc
  FROM mm_versions WHERE model = 'iris_lr';
-- the same from mm_evaluate, and the array input in training order
SELECT mm_evaluate('iris_lr', 'iris') = (SELECT metrics - 'evaluated_on' FROM mm_versions WHERE model = 'iris_lr') AS same;
SELECT mm_predict_label('iris_lr', ARRAY[5.1, 3.5, 1.4, 0.2]) AS label,
       round((mm_predict_proba('iris_lr', ARRAY[6.3, 3.3, 6.0, 2.5]))[3]::numeric, 6) AS p_virginica;

-- (b) binary logistic regression on standardised features (the default scale)
SELECT model, version FROM mm_train('bc_lr', 'logistic_regression', 'SELECT * FROM breast_cancer', 'diagnosis',
                                    features => (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
                                                  WHERE attrelid = 'breast_cancer'::regclass AND attnum > 0
                                                    AND attname NOT IN ('diagnosis', 'id')),
                                    params => '{"tol": 1e-10}', test_fraction => 0);
SELECT mm_labels('bc_lr');
WITH ref(id, p) AS (VALUES (1, 0.99999999879224899), (2, 0.99996799560657768), (20, 0.073871961457438282))
SELECT id, mm_predict_label('bc_lr', b) AS label, abs((mm_predict_proba('bc_lr', b))[2] - p) < 1e-6 AS proba_within_1e_6
  FROM breast_cancer b JOIN ref USING (id) ORDER BY id;
SELECT abs((metrics->>'accuracy')::float8 - 0.9876977152899824) < 1e-12 AS accuracy,
       abs((metrics->>'roc_auc')::float8 - 0.9974499233655727) < 1e-9 AS roc_auc,
       abs((metrics->>'log_loss')::float8 - 0.053391857503270988) < 1e-6 AS log_loss
  FROM mm_versions WHERE model = 'bc_lr';
-- weights in the units of the original columns
SELECT feature, abs(weight - w) / abs(w) < 1e-6 AS within_1e_6
  FROM mm_weights('bc_lr') JOIN (VALUES ('intercept', -31.999050906381548),
                                       ('mean_radius', 0.1031234337285552)) AS r(feature, w) USING (feature)
 ORDER BY feature;

-- (c) Gaussian naive Bayes
SELECT model, version FROM mm_train('iris_nb', 'naive_bayes', 'SELECT sepal_length, sepal_width, petal_length, petal_width, species FROM iris',
                                    'species', test_fraction => 0);
WITH ref(id, p) AS (VALUES
  (1, ARRAY[1, 1.3578426545097532e-18, 7.1128351163031529e-26]),
  (71, ARRAY[2.5915380282501682e-130, 0.15449408494388256, 0.84550591505611739]),
  (84, ARRAY[2.1406973140994879e-135, 0.61215984474275353, 0.3878401552572468]),
  (134, ARRAY[2.6838258262863244e-131, 0.71264514421552927, 0.2873548557844709]))
SELECT id, (SELECT max(abs(a - b)) FROM unnest(mm_predict_proba('iris_nb', i), p) AS u(a, b)) < 1e-9 AS proba_within_1e_9
  FROM iris i JOIN ref USING (id) ORDER BY id;
SELECT abs((metrics->>'accuracy')::float8 - 0.95999999999999996) < 1e-12 AS accuracy FROM mm_versions WHERE model = 'iris_nb';

-- (d) no penalty, on classes that overlap: the maximum-likelihood fit of
-- statsmodels' Logit
SELECT model, version FROM mm_train('iris2', 'logistic_regression',
  'SELECT sepal_length, sepal_width, petal_length, petal_width, species FROM iris WHERE species <> ''setosa''',
  'species', params => '{"penalty": "none", "scale": "none", "tol": 1e-10}', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('intercept', -42.637803813021613),
  ('sepal_length', -2.4652201951866646),
  ('sepal_width', -6.6808870140784933),
  ('petal_length', 9.4293851539265887),
  ('petal_width', 18.286136887850827))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-9 AS within_1e_9
  FROM mm_weights('iris2') JOIN ref USING (feature);
-- perfectly separable classes without a penalty: an error with a hint
SELECT * FROM mm_train('sep', 'logistic_regression',
  'SELECT petal_length, species FROM iris WHERE species <> ''virginica''', 'species',
  params => '{"penalty": "none"}');

-- the stratified split: each class in proportion (10 of 50 held out)
SELECT version FROM mm_train('iris_split', 'logistic_regression', 'iris', 'species', features => ARRAY['petal_length', 'petal_width']);
SELECT n_train, metrics->>'n' AS heldout,
       (SELECT array_agg((SELECT sum(x::int) FROM jsonb_array_elements_text(r) AS x)) FROM jsonb_array_elements(metrics->'confusion_matrix') AS r) AS per_class
  FROM mm_versions WHERE model = 'iris_split';

-- integer and boolean labels; mm_predict returns integer labels as numbers
CREATE TABLE lab AS SELECT i, (i % 7)::float8 AS x, (i % 7 > 3)::int AS yi, (i % 7 > 3) AS yb FROM generate_series(1, 200) i;
SELECT version FROM mm_train('lab_int', 'logistic_regression', 'SELECT x, yi FROM lab', 'yi');
SELECT mm_labels('lab_int'), mm_predict('lab_int', ARRAY[6.0]), mm_predict('lab_int', ARRAY[0.0]);
SELECT version FROM mm_train('lab_bool', 'naive_bayes', 'SELECT x, yb FROM lab', 'yb');
SELECT mm_labels('lab_bool'), mm_predict_label('lab_bool', ARRAY[6.0]);
SELECT mm_predict('lab_bool', ARRAY[6.0]);
SELECT mm_predict('iris_lr', ARRAY[5.1, 3.5, 1.4, 0.2]);
SELECT mm_predict_label('dia_ols', ARRAY[50, 2, 25, 90, 190, 110, 50, 4, 4.6, 90]);
SELECT mm_labels('dia_ols');

-- categorical features, NULLs imputed, scaling
CREATE TABLE shop (id int, color text, size text, x float8, y float8);
INSERT INTO shop
SELECT i, (ARRAY['red', 'green', 'blue'])[1 + i % 3], CASE WHEN i % 5 = 0 THEN NULL ELSE (ARRAY['S', 'M', 'L'])[1 + i % 2] END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 13)::float8 END,
       1 + 2 * (i % 13) + 3 * (i % 3 = 0)::int + 5 * (i % 3 = 1)::int
  FROM generate_series(1, 300) i;
SELECT version, deployed FROM mm_train('shop', 'linear_regression', 'SELECT color, x, y FROM shop WHERE x IS NOT NULL', 'y');
SELECT features FROM mm_versions WHERE model = 'shop';
SELECT (metrics->>'rmse')::float8 < 1e-9 AS exact FROM mm_versions WHERE model = 'shop';
SELECT feature FROM mm_weights('shop') ORDER BY feature;
-- an unseen level is all zeros; a known one adds its weight
SELECT round(mm_predict('shop', ROW('red', 4.0))::numeric, 6) AS red,
       round(mm_predict('shop', s)::numeric, 6) AS from_row,
       round(mm_predict('shop', q)::numeric, 6) AS unseen
  FROM shop s, (SELECT 'purple'::text AS color, 4.0::float8 AS x) q WHERE s.id = 3;
-- impute: NULLs take the training values; the fill is stored with the version
SELECT version FROM mm_train('shop_imp', 'ridge', 'SELECT color, size, x, y FROM shop', 'y',
                             params => '{"impute": "mean", "scale": "standard", "alpha": 0.001}');
SELECT features FROM mm_versions WHERE model = 'shop_imp';
SELECT mm_predict('shop_imp', ROW('red', NULL::text, NULL::float8)) IS NOT NULL AS null_imputed;
SELECT mm_predict('shop', ROW('red', NULL::float8));
-- impute asked for but no NULL in training: a NULL at prediction still takes the fill
SELECT version FROM mm_train('shop_fill', 'linear_regression', 'SELECT color, x, y FROM shop WHERE x IS NOT NULL', 'y',
                             params => '{"impute": "median"}');
SELECT round(mm_predict('shop_fill', ROW('red', NULL::float8))::numeric, 6) =
       round(mm_predict('shop_fill', ROW('red', ((SELECT features->1->'fill'->>0 FROM mm_versions WHERE model = 'shop_fill'))::float8))::numeric, 6)
       AS null_is_the_median;
SELECT mm_predict('shop_fill', ROW('red', NULL::float8)) IS NOT NULL AS predicted;
-- fills of a column of many values (sorted by radix), against PostgreSQL's own
-- aggregates: the median is percentile_cont's (343 values: the middle one),
-- the most frequent value mode()'s (z's mode is unique)
CREATE TABLE imp_many AS
SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE round((sin(i * 1.3) * 100)::numeric, 3)::float8 END AS x,
       CASE WHEN i % 9 = 0 THEN NULL ELSE floor(sqrt(i)) - 10 END AS z,
       (i % 11)::float8 AS y
  FROM generate_series(1, 400) i;
SELECT version FROM mm_train('imp_median', 'linear_regression', 'imp_many', 'y', features => ARRAY['x', 'z'],
                             params => '{"impute": "median"}', test_fraction => 0, deploy => 'never');
SELECT version FROM mm_train('imp_mode', 'linear_regression', 'imp_many', 'y', features => ARRAY['x', 'z'],
                             params => '{"impute": "most_frequent"}', test_fraction => 0, deploy => 'never');
SELECT (SELECT count(x) FROM imp_many) AS x_values,
       (v.features->0->'fill'->>0)::float8 = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM imp_many)
       AS x_median_is_percentile_cont,
       (v.features->1->'fill'->>0)::float8 = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY z) FROM imp_many)
       AS z_median_is_percentile_cont
  FROM mm_versions v WHERE v.model = 'imp_median';
SELECT (v.features->1->'fill'->>0)::float8 AS z_fill,
       (SELECT mode() WITHIN GROUP (ORDER BY z) FROM imp_many) AS z_mode
  FROM mm_versions v WHERE v.model = 'imp_mode';
-- categorical columns of other text types: enum, char(n), varchar, name
CREATE TYPE tone AS ENUM ('red', 'green', 'blue');
CREATE TABLE typed AS
SELECT i, (ARRAY['red', 'green', 'blue'])[1 + i % 3]::tone AS c_enum,
       (ARRAY['a', 'bb', 'ccc'])[1 + i % 3]::char(4) AS c_char,
       (ARRAY['a', 'bb', 'ccc'])[1 + i % 3]::varchar AS c_varchar,
       (ARRAY['a', 'bb', 'ccc'])[1 + i % 3]::name AS c_name,
       (i % 3 = 1) AS label
  FROM generate_series(1, 90) i;
SELECT version FROM mm_train('typed', 'naive_bayes', 'typed', 'label', features => ARRAY['c_enum', 'c_char', 'c_varchar', 'c_name'],
                             params => '{"scale": "standard"}', test_fraction => 0);
SELECT features->0->'levels' AS enum_levels, features->1->'levels' AS char_levels FROM mm_versions WHERE model = 'typed';
SELECT count(*) FILTER (WHERE mm_predict_label('typed', t) = label::text) AS right_from_rows,
       count(*) FILTER (WHERE mm_predict_label('typed', ROW(c_enum::text, c_char::text, c_varchar::text, c_name::text)) = label::text) AS right_from_text,
       count(*) AS rows
  FROM typed t;
SELECT (mm_evaluate('typed', 'typed') ->> 'accuracy')::float8 AS accuracy;
-- untyped literals in a row: text for a categorical, a number for a numeric feature
SELECT round(mm_predict('shop', ROW('red', '4.0'))::numeric, 6) = round(mm_predict('shop', ROW('red', 4.0))::numeric, 6) AS same;
-- a NULL array in the first row, with imputation
CREATE TABLE arrs AS SELECT i, CASE WHEN i = 1 THEN NULL ELSE ARRAY[i, i % 5]::float8[] END AS v, (i % 2 = 0) AS y
  FROM generate_series(1, 60) i;
SELECT version FROM mm_train('arrs', 'logistic_regression', 'SELECT v, y FROM arrs ORDER BY i', 'y',
                             params => '{"impute": "mean"}');
SELECT features->0->'fill' AS fill FROM mm_versions WHERE model = 'arrs';
-- the encoded rows count against mm.max_train_memory
SET mm.max_train_memory = '128kB';
SELECT * FROM mm_train('too_big', 'logistic_regression',
                       'SELECT s.color, s.size, s.x, s.y > 15 AS y FROM shop s, generate_series(1, 6)', 'y',
                       params => '{"impute": "mean"}');
SELECT * FROM mm_train('too_big', 'logistic_regression',
                       'SELECT s.color, s.size, s.x, s.y > 15 AS y FROM shop s, generate_series(1, 60)', 'y',
                       params => '{"impute": "mean"}');
RESET mm.max_train_memory;
-- a binary classifier evaluated on many rows (the metrics keep every score)
SELECT (mm_evaluate('bc_lr', 'SELECT b.* FROM breast_cancer b, generate_series(1, 20)') ->> 'roc_auc')::float8 =
       (SELECT (metrics->>'roc_auc')::float8 FROM mm_versions WHERE model = 'bc_lr') AS same_roc_auc;
-- scaling does not change an OLS fit: weights in original units equal the unscaled ones
SELECT version FROM mm_train('dia_scaled', 'linear_regression', 'diabetes', 'progression',
                             params => '{"scale": "standard"}', test_fraction => 0);
SELECT count(*) AS matched, max(abs(a.weight - b.weight) / abs(b.weight)) < 1e-9 AS same_weights
  FROM mm_weights('dia_scaled') a JOIN mm_weights('dia_ols') b USING (feature);
SELECT version FROM mm_train('dia_minmax', 'linear_regression', 'diabetes', 'progression',
                             params => '{"scale": "minmax"}', test_fraction => 0);
SELECT max(abs(a.weight - b.weight) / abs(b.weight)) < 1e-9 AS same_weights
  FROM mm_weights('dia_minmax') a JOIN mm_weights('dia_ols') b USING (feature);

-- evaluation of a classifier: labels the model never saw are counted
SELECT mm_evaluate('iris_nb', 'SELECT sepal_length, sepal_width, petal_length, petal_width,
                               CASE WHEN id % 10 = 0 THEN ''unknown'' ELSE species END AS species FROM iris') ->> 'unseen_labels' AS unseen;
SELECT mm_evaluate('iris_nb', 'iris', record => true) ->> 'accuracy' AS accuracy;

-- bad input
SELECT * FROM mm_train('bad', 'logistic_regression', 'SELECT x, 1 AS y FROM lab', 'y');
SELECT * FROM mm_train('bad', 'logistic_regression', 'SELECT x, CASE WHEN i = 3 THEN NULL ELSE yi END AS y FROM lab', 'y');
SELECT * FROM mm_train('bad', 'logistic_regression', 'SELECT x, x AS y FROM lab', 'y');
SELECT * FROM mm_train('bad', 'logistic_regression', 'SELECT 1.0::float8 AS x, ''a''::text AS y', 'y');
SELECT * FROM mm_train('bad', 'logistic_regression', 'VALUES (1.0, ''a''), (2.0, ''b'')', 'column2', test_fraction => 0);
SELECT * FROM mm_train('bad', 'naive_bayes', 'VALUES (1.0, ''a''), (2.0, ''b'')', 'column2', test_fraction => 0);
SELECT * FROM mm_train('bad', 'logistic_regression', 'VALUES (1.0, ''a''), (2.0, ''b''), (3.0, ''b'')', 'column2', test_fraction => 0.6);
SELECT * FROM mm_train('bad', 'logistic_regression', 'SELECT i::text AS c, i % 2 AS y FROM generate_series(1, 1500) i', 'y');
SELECT * FROM mm_train('bad', 'logistic_regression', 'lab', 'yi', params => '{"penalty": "l1"}');
SELECT * FROM mm_train('bad', 'logistic_regression', 'lab', 'yi', params => '{"C": 0}');
SELECT * FROM mm_train('bad', 'logistic_regression', 'lab', 'yi', params => '{"max_iter": 0.5}');
SELECT * FROM mm_train('bad', 'naive_bayes', 'lab', 'yi', params => '{"penalty": "l2"}');
SELECT * FROM mm_train('bad', 'linear_regression', 'shop', 'y', params => '{"impute": "zero"}');
SELECT * FROM mm_train('bad', 'linear_regression', 'shop', 'y', params => '{"scale": 1}');
SELECT * FROM mm_train('bad_reg', 'linear_regression', 'SELECT color, x, y FROM shop', 'y');
SELECT * FROM mm_train('iris_lr', 'linear_regression', 'diabetes', 'progression');
SELECT mm_weights('iris_nb');
