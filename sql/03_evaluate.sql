-- Evaluation: metrics on a source, history, weights.
SELECT model, version FROM mm_train('e', 'linear_regression', 'diabetes', 'progression', test_fraction => 0);
-- evaluated on its own training rows, the metrics are the training metrics
-- (and those equal sklearn.metrics, see 01_linear)
SELECT mm_evaluate('e', 'diabetes') = (SELECT metrics - 'evaluated_on' FROM mm_versions WHERE model = 'e') AS same;
SELECT jsonb_object_keys(mm_evaluate('e', 'diabetes')) AS key ORDER BY 1;
-- closed form on a tiny source: y = 1 + 2x, predictions off by (+1, -1, +2)
CREATE TABLE tiny (x float8, y float8);
INSERT INTO tiny VALUES (0, 1), (1, 3), (2, 5), (3, 7);
SELECT model, version FROM mm_train('tiny', 'linear_regression', 'tiny', 'y', test_fraction => 0);
SELECT mm_evaluate('tiny', 'SELECT 0.0 AS x, 2.0 AS y UNION ALL SELECT 1, 2 UNION ALL SELECT 2, 7');
-- errors (1, -1, 2): n = 3, mse = 6/3 = 2, mae = 4/3, SS_tot = 50/3 so r2 = 1 - 6/(50/3) = 0.64,
-- Var(e)*n = 14/3 so explained_variance = 1 - (14/3)/(50/3) = 0.72
-- history
SELECT mm_evaluate('tiny', 'tiny', record => true) ->> 'mse' AS mse;
SELECT mm_evaluate('tiny', 'SELECT x, y + 1 AS y FROM tiny', version => 1, record => true) ->> 'mse' AS mse;
SELECT model, version, source, metrics->>'mse' AS mse, evaluated_by FROM mm_evaluations ORDER BY evaluated_at, mse;
-- weights of the deployed and of a given version
SELECT * FROM mm_weights('tiny');
SELECT * FROM mm_weights('tiny', 1);

-- bad input
SELECT mm_evaluate('no_such_model', 'tiny');
SELECT mm_evaluate('tiny', 'no_such_table');
SELECT mm_evaluate('tiny', 'VALUES (0.0, 2.0), (1.0, 2.0)');
SELECT mm_evaluate('tiny', 'SELECT x FROM tiny');
SELECT mm_evaluate('tiny', 'SELECT y FROM tiny');
SELECT mm_evaluate('tiny', 'SELECT x, NULL::float8 AS y FROM tiny');
SELECT mm_evaluate('tiny', 'SELECT NULL::float8 AS x, y FROM tiny');
SELECT mm_evaluate('tiny', 'SELECT x, y FROM tiny WHERE false');
SELECT mm_evaluate('tiny', 'SELECT ARRAY[x] AS x, y FROM tiny');
SELECT mm_evaluate('tiny', 'SELECT x::text AS x, y FROM tiny');
SELECT mm_evaluate('tiny', 'tiny', 7);
SELECT mm_evaluate(NULL, 'tiny');
SELECT * FROM mm_weights('no_such_model');
SELECT * FROM mm_weights('tiny', 0);
