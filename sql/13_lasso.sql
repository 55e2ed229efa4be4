-- lasso and elastic_net: coordinate descent against scikit-learn.
-- Every reference number below comes from test/reference/lasso_sql.py
-- (Debian's python3-sklearn 1.2.1, Lasso/ElasticNet with tol 1e-14); its
-- output is test/reference/lasso_sql.out.  mm_weights reports the weights;
-- the features are not scaled, so they are the coefficients themselves.

-- (a) lasso, alpha 1, every row
SELECT model, version, metrics->>'evaluated_on' AS on
  FROM mm_train('dia_lasso', 'lasso', 'diabetes', 'progression', params => '{"alpha": 1.0, "tol": 1e-12}',
                test_fraction => 0);
SELECT params FROM mm_versions WHERE model = 'dia_lasso';
WITH ref(feature, w) AS (VALUES
  ('intercept', -202.2632491368644),
  ('age', -0.019023527584116171),
  ('sex', -17.476915586050648),
  ('bmi', 5.8424604632510597),
  ('bp', 1.0915375951895401),
  ('s1', 0.15653118033030974),
  ('s2', -0.31555897836912911),
  ('s3', -1.188228375936111),
  ('s4', 0.16105694241565183),
  ('s5', 34.214964244823527),
  ('s6', 0.32973363817578438))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-6 AS within_1e_6
  FROM mm_weights('dia_lasso') JOIN ref USING (feature);

-- (b) lasso, alpha 10: the same exact zeros as scikit-learn
SELECT version FROM mm_train('dia_lasso10', 'lasso', 'diabetes', 'progression',
                             params => '{"alpha": 10.0, "tol": 1e-12}', test_fraction => 0);
WITH ref(feature, w) AS (VALUES
  ('intercept', -105.89303078918655),
  ('age', 0),
  ('sex', 0),
  ('bmi', 5.9341138503615394),
  ('bp', 1.0195915145022623),
  ('s1', 1.1732086134250901),
  ('s2', -1.2601931645528544),
  ('s3', -2.0207934934117313),
  ('s4', 0),
  ('s5', 0),
  ('s6', 0.31991050107723173))
SELECT count(*) AS matched,
       bool_and((weight = 0) = (w = 0)) AS same_zeros,
       max(abs(weight - w) / abs(w)) FILTER (WHERE w <> 0) < 1e-6 AS within_1e_6
  FROM mm_weights('dia_lasso10') JOIN ref USING (feature);

-- (c) elastic net, alpha 0.5, l1_ratio 0.7
SELECT version FROM mm_train('dia_enet', 'elastic_net', 'diabetes', 'progression',
                             params => '{"alpha": 0.5, "l1_ratio": 0.7, "tol": 1e-12}', test_fraction => 0);
SELECT params FROM mm_versions WHERE model = 'dia_enet';
WITH ref(feature, w) AS (VALUES
  ('intercept', -129.09333362447578),
  ('age', -0.023346720835482331),
  ('sex', -11.930332833209714),
  ('bmi', 6.0880079621242231),
  ('bp', 1.0822996268765055),
  ('s1', 0.96153663008919443),
  ('s2', -1.1068315317853015),
  ('s3', -1.8923565683086416),
  ('s4', 1.1087494720057096),
  ('s5', 8.7648583842348877),
  ('s6', 0.34839314700455304))
SELECT count(*) AS matched, max(abs(weight - w) / abs(w)) < 1e-6 AS within_1e_6
  FROM mm_weights('dia_enet') JOIN ref USING (feature);
-- a lasso predicts like the linear model it is (and through the planner rewrite)
SELECT abs(mm_predict('dia_lasso', d.*) - (SELECT sum(w.weight * CASE w.feature
         WHEN 'intercept' THEN 1 WHEN 'age' THEN d.age WHEN 'sex' THEN d.sex WHEN 'bmi' THEN d.bmi
         WHEN 'bp' THEN d.bp WHEN 's1' THEN d.s1 WHEN 's2' THEN d.s2 WHEN 's3' THEN d.s3
         WHEN 's4' THEN d.s4 WHEN 's5' THEN d.s5 ELSE d.s6 END) FROM mm_weights('dia_lasso') w)) < 1e-9
       AS predict_is_the_weights
  FROM diabetes d LIMIT 1;
-- an alpha large enough leaves every coefficient at 0, and the intercept is the mean
SELECT version FROM mm_train('dia_lasso_big', 'lasso', 'diabetes', 'progression',
                             params => '{"alpha": 1e6}', test_fraction => 0);
SELECT bool_and(weight = 0) FILTER (WHERE feature <> 'intercept') AS all_zero,
       abs(max(weight) FILTER (WHERE feature = 'intercept') - (SELECT avg(progression) FROM diabetes)) < 1e-9
         AS intercept_is_mean
  FROM mm_weights('dia_lasso_big');

-- errors
SELECT * FROM mm_train('dia_bad', 'elastic_net', 'diabetes', 'progression', params => '{"l1_ratio": 1.5}');
SELECT * FROM mm_train('dia_bad', 'lasso', 'diabetes', 'progression', params => '{"l1_ratio": 0.5}');
SELECT * FROM mm_train('dia_bad', 'lasso', 'diabetes', 'progression', params => '{"alpha": -1}');
SELECT * FROM mm_train('dia_bad', 'lasso', 'diabetes', 'progression', params => '{"max_iter": 0}');
-- too few passes: a WARNING with the gap, and the version is still stored
SELECT model, version FROM mm_train('dia_bad', 'lasso', 'diabetes', 'progression',
                       params => '{"alpha": 0.001, "max_iter": 1}', test_fraction => 0);
SELECT mm_drop('dia_bad');

SELECT mm_drop('dia_lasso');
SELECT mm_drop('dia_lasso10');
SELECT mm_drop('dia_enet');
SELECT mm_drop('dia_lasso_big');
