-- kmeans and pca: training without a target, prediction, metrics, errors.
-- References: test/reference/unsupervised.py (Debian python3-sklearn 1.2.1)
-- on the bundled iris data, in test/reference/unsupervised.out.
CREATE TABLE un_iris (sepal_length float8, sepal_width float8, petal_length float8,
                      petal_width float8, species text);
\copy un_iris FROM 'data/iris.csv' WITH (FORMAT csv, HEADER)

-- k-means, k = 3, ten k-means++ restarts: scikit-learn's optimal inertia
SELECT model, version, deployed, metrics->>'evaluated_on' AS evaluated_on, metrics->>'n' AS n,
       abs((metrics->>'inertia')::float8 - 78.851441426146) / 78.851441426146 < 1e-12 AS inertia_is_sklearns,
       abs((metrics->>'silhouette')::float8 - 0.55281901235641) < 1e-12 AS silhouette_is_sklearns,
       abs((metrics->>'mean_inertia')::float8 - 78.851441426146 / 150) < 1e-12 AS mean_inertia
  FROM mm_train('un_km', 'kmeans', 'un_iris',
                features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
                params => '{"k": 3}', test_fraction => 0);
SELECT algorithm, target, params FROM mm_versions WHERE model = 'un_km';
SELECT task, algorithm FROM mm_models WHERE model = 'un_km';
-- mm_predict gives the cluster number from 0; the sizes are scikit-learn's (38, 50, 62)
SELECT count(*) AS size FROM un_iris i GROUP BY mm_predict('un_km', i.*) ORDER BY 1;
-- every setosa in one cluster, as in scikit-learn's partition
SELECT count(DISTINCT mm_predict('un_km', i.*)) AS setosa_clusters FROM un_iris i WHERE species = 'setosa';
-- array input in training order gives what the row gives
SELECT mm_predict('un_km', ARRAY[5.0, 3.4, 1.5, 0.2]) = mm_predict('un_km', i.*) AS array_equals_row
  FROM un_iris i WHERE species = 'setosa' LIMIT 1;
-- the same seed gives the same model, byte for byte; another seed and random init reach the optimum too
SELECT version FROM mm_train('un_km', 'kmeans', 'un_iris',
                features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
                params => '{"k": 3}', test_fraction => 0, deploy => 'never');
SELECT count(DISTINCT blob) AS distinct_blobs FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE m.name = 'un_km';
SELECT abs((metrics->>'inertia')::float8 - 78.851441426146) / 78.851441426146 < 1e-12 AS random_init_optimal
  FROM mm_train('un_km', 'kmeans', 'un_iris',
                features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
                params => '{"k": 3, "init": "random", "n_init": 10, "seed": 7}', test_fraction => 0,
                deploy => 'never');
-- held-out rows: inertia and silhouette are measured on them; if_better compares
-- the inertia per row, since sums over different row counts do not compare
SELECT version, metrics->>'evaluated_on' AS evaluated_on, (metrics->>'n')::int < 150 AS fewer_rows,
       deployed
  FROM mm_train('un_km', 'kmeans', 'un_iris',
                features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
                params => '{"k": 2}', test_fraction => 0.3);
SELECT version, reason FROM mm_deployments WHERE model = 'un_km' ORDER BY version;

-- PCA on the standardised measurements: scikit-learn's explained variances
SELECT model, version, metrics->>'n' AS n,
       (SELECT bool_and(abs(v::float8 - r) <= 1e-9 * r)
          FROM unnest(ARRAY(SELECT jsonb_array_elements_text(metrics->'explained_variance')),
                      ARRAY[2.9380850501999962, 0.9201649041624882, 0.14774182104494799, 0.02085386217646229]) AS u(v, r))
         AS variance_is_sklearns,
       (SELECT bool_and(abs(v::float8 - r) <= 1e-9 * r)
          FROM unnest(ARRAY(SELECT jsonb_array_elements_text(metrics->'explained_variance_ratio')),
                      ARRAY[0.7296244541329987, 0.22850761786701779, 0.03668921889282873, 0.005178709107154799]) AS u(v, r))
         AS ratio_is_sklearns
  FROM mm_train('un_pca', 'pca', 'SELECT sepal_length, sepal_width, petal_length, petal_width FROM un_iris',
                params => '{"scale": "standard"}', test_fraction => 0);
SELECT params FROM mm_versions WHERE model = 'un_pca';
-- n_components keeps the leading ones; if_better has nothing to compare for pca and deploys
SELECT version, jsonb_array_length(metrics->'explained_variance') AS components, deployed
  FROM mm_train('un_pca', 'pca', 'SELECT sepal_length, sepal_width, petal_length, petal_width FROM un_iris',
                params => '{"scale": "standard", "n_components": 2, "whiten": true}', test_fraction => 0);
SELECT version, reason FROM mm_deployments WHERE model = 'un_pca' ORDER BY version;
-- mm_transform: scikit-learn's coordinates of the first three rows (with the sign
-- rule applied to its components), all four components of version 1, the two
-- whitened ones of the deployed version 2; a row or an array in training order
CREATE TABLE un_first AS SELECT * FROM un_iris LIMIT 3;
SELECT bool_and(abs(t[1] - r[1]) < 1e-9 AND abs(t[2] - r[2]) < 1e-9) AS plain_is_sklearns,
       bool_and(array_length(t, 1) = 4) AS four_components
  FROM (SELECT mm_transform('un_pca', f.*, version => 1) AS t, row_number() OVER () AS i FROM un_first f) x
  JOIN (VALUES (1, ARRAY[-2.2647028088075869, 0.4800265965209885]),
               (2, ARRAY[-2.080961151965766, -0.67413355660535301]),
               (3, ARRAY[-2.3642290538902992, -0.3419080238846765])) AS ref(i, r) USING (i);
SELECT bool_and(abs(t[1] - r[1]) < 1e-9 AND abs(t[2] - r[2]) < 1e-9) AS whitened_is_sklearns,
       bool_and(array_length(t, 1) = 2) AS two_components
  FROM (SELECT mm_transform('un_pca', ARRAY[sepal_length, sepal_width, petal_length, petal_width]) AS t,
               row_number() OVER () AS i FROM un_first) x
  JOIN (VALUES (1, ARRAY[-1.3212318581094424, 0.50041747620774302]),
               (2, ARRAY[-1.2140366315494298, -0.70276983706391438]),
               (3, ARRAY[-1.3792956558006388, -0.35643181366944438])) AS ref(i, r) USING (i);
-- for other models mm_transform gives the encoded, scaled features the algorithm sees
SELECT mm_transform('un_km', ARRAY[5.1, 3.5, 1.4, 0.2]) AS unscaled_kmeans_input;
SELECT version FROM mm_train('un_lr', 'linear_regression', 'un_iris', 'sepal_length',
                             features => ARRAY['species'], params => '{"scale": "minmax", "fit_intercept": false}');
SELECT mm_transform('un_lr', ROW('virginica')) AS one_hot;
SELECT mm_transform('un_pca', NULL::float8[]) AS null_input;
SELECT mm_transform('un_pca', ARRAY[1.0, 2.0]);
SELECT mm_transform('un_pca', 'text'::text);
SELECT mm_drop('un_lr');
DROP TABLE un_first;

-- errors
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', 'species');
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"k": 200}', test_fraction => 0);
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"k": 0}');
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"k": 2.5}');
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"init": "k-means++"}');
SELECT * FROM mm_train('un_bad', 'kmeans', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"n_components": 2}');
SELECT * FROM mm_train('un_bad', 'pca', 'un_iris', features => ARRAY['sepal_length', 'sepal_width'],
                       params => '{"n_components": 3}');
SELECT * FROM mm_train('un_bad', 'pca', 'un_iris', features => ARRAY['sepal_length'],
                       params => '{"whiten": 1}');
SELECT * FROM mm_train('un_bad', 'pca', 'SELECT sepal_length, 1.0::float8 AS c FROM un_iris',
                       params => '{"whiten": true}');
-- one feature's one-hot columns sum to 1: a component at rounding level cannot be whitened
SELECT * FROM mm_train('un_bad', 'pca', 'SELECT species, sepal_length FROM un_iris',
                       params => '{"whiten": true}');
SELECT * FROM mm_train('un_bad', 'pca', 'SELECT 1.0::float8 AS x', test_fraction => 0);
SELECT * FROM mm_train('un_bad', 'pca', 'SELECT FROM un_iris');
SELECT * FROM mm_train('un_km', 'pca', 'un_iris', features => ARRAY['sepal_length']);
SELECT * FROM mm_train('un_km', 'linear_regression', 'un_iris', 'sepal_length');
SELECT count(*) AS nothing_stored FROM mm_models WHERE model = 'un_bad';
SELECT mm_predict('un_pca', ARRAY[1.0, 2.0, 3.0, 4.0]);
SELECT mm_predict_label('un_km', ARRAY[1.0, 2.0, 3.0, 4.0]);
SELECT mm_predict_proba('un_km', ARRAY[1.0, 2.0, 3.0, 4.0]);
SELECT mm_labels('un_km');
SELECT mm_predict('un_km', ARRAY[1.0, 'NaN', 3.0, 4.0]);
-- mm_evaluate on a clustering model: n, inertia, mean_inertia, silhouette of the
-- source's rows (all 150 here, within the 10,000-row silhouette sample)
SELECT e->>'n' AS n, abs((e->>'inertia')::float8 - 78.851441426146) / 78.851441426146 < 1e-12 AS inertia_is_sklearns,
       abs((e->>'silhouette')::float8 - 0.55281901235641) < 1e-12 AS silhouette_is_sklearns,
       abs((e->>'mean_inertia')::float8 * 150 - (e->>'inertia')::float8) < 1e-9 AS mean_is_per_row
  FROM mm_evaluate('un_km', 'un_iris', version => 1) AS e;
SELECT (mm_evaluate('un_km', 'SELECT * FROM un_iris WHERE species = ''setosa''', version => 1)->>'n')::int AS setosa_rows;
SELECT mm_evaluate('un_km', 'SELECT sepal_length FROM un_iris');
SELECT mm_evaluate('un_km', 'SELECT * FROM un_iris WHERE false');
SELECT mm_evaluate('un_pca', 'un_iris');

-- export and import carry a clustering model whole
SELECT mm_import('un_km_copy', mm_export('un_km'));
SELECT count(*) FILTER (WHERE mm_predict('un_km_copy', i.*) = mm_predict('un_km', i.*)) AS same_cluster
  FROM un_iris i;
SELECT task, algorithm FROM mm_models WHERE model = 'un_km_copy';

SELECT mm_drop('un_km');
SELECT mm_drop('un_km_copy');
SELECT mm_drop('un_pca');
DROP TABLE un_iris;
