-- mlp: classification and regression, determinism, cancellation, errors.
-- Reference: test/reference/mlp_digits.py (Debian python3-sklearn 1.2.1,
-- MLPClassifier with the same architecture and optimiser) on the bundled
-- digits data, rows with id % 5 = 0 held out; its accuracies are in
-- test/reference/mlp_digits.out (mean 0.97493036211699169, min 0.97214484679665736).
CREATE TABLE nn_digits (id int, p0 smallint,p1 smallint,p2 smallint,p3 smallint,p4 smallint,p5 smallint,p6 smallint,p7 smallint,p8 smallint,p9 smallint,p10 smallint,p11 smallint,p12 smallint,p13 smallint,p14 smallint,p15 smallint,p16 smallint,p17 smallint,p18 smallint,p19 smallint,p20 smallint,p21 smallint,p22 smallint,p23 smallint,p24 smallint,p25 smallint,p26 smallint,p27 smallint,p28 smallint,p29 smallint,p30 smallint,p31 smallint,p32 smallint,p33 smallint,p34 smallint,p35 smallint,p36 smallint,p37 smallint,p38 smallint,p39 smallint,p40 smallint,p41 smallint,p42 smallint,p43 smallint,p44 smallint,p45 smallint,p46 smallint,p47 smallint,p48 smallint,p49 smallint,p50 smallint,p51 smallint,p52 smallint,p53 smallint,p54 smallint,p55 smallint,p56 smallint,p57 smallint,p58 smallint,p59 smallint,p60 smallint,p61 smallint,p62 smallint,p63 smallint, digit int);
\copy nn_digits FROM 'data/digits.csv' WITH (FORMAT csv, HEADER)
CREATE VIEW nn_px AS SELECT id, ARRAY[p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10,p11,p12,p13,p14,p15,p16,p17,p18,p19,p20,p21,p22,p23,p24,p25,p26,p27,p28,p29,p30,p31,p32,p33,p34,p35,p36,p37,p38,p39,p40,p41,p42,p43,p44,p45,p46,p47,p48,p49,p50,p51,p52,p53,p54,p55,p56,p57,p58,p59,p60,p61,p62,p63]::float8[] AS px, digit FROM nn_digits;
CREATE VIEW nn_train AS SELECT px, digit FROM nn_px WHERE id % 5 <> 0;
CREATE VIEW nn_test AS SELECT px, digit FROM nn_px WHERE id % 5 = 0;

-- 64 relu units, adam, 50 epochs of batches of 64: scikit-learn's architecture
SELECT model, version, deployed, metrics->>'evaluated_on' AS evaluated_on
  FROM mm_train('nn_digits', 'mlp', 'nn_train', 'digit',
                params => '{"hidden_layers": [64], "epochs": 50, "batch_size": 64, "learning_rate": 0.001,
                            "weight_decay": 0.0001, "task": "classification", "seed": 0}',
                test_fraction => 0);
SELECT task, algorithm FROM mm_models WHERE model = 'nn_digits';
SELECT params FROM mm_versions WHERE model = 'nn_digits';
-- held-out accuracy within 0.03 of scikit-learn's (its mean over five seeds)
SELECT (e->>'n')::int AS n, abs((e->>'accuracy')::float8 - 0.97493036211699169) < 0.03 AS within_003_of_sklearn
  FROM mm_evaluate('nn_digits', 'nn_test') AS e;
-- predictions by array and by row agree with mm_evaluate's
SELECT avg((mm_predict('nn_digits', t.px) = t.digit)::int) = (mm_evaluate('nn_digits', 'nn_test')->>'accuracy')::float8
       AS predict_agrees FROM nn_test t;
SELECT mm_labels('nn_digits');
SELECT abs((SELECT sum(p) FROM unnest(mm_predict_proba('nn_digits', t.px)) p) - 1) < 1e-12 AS proba_sums_to_1,
       mm_predict_label('nn_digits', t.px) = mm_predict('nn_digits', t.px)::text AS label_is_value
  FROM nn_test t LIMIT 1;
-- the same data, params and seed give the same blob, byte for byte
SELECT version FROM mm_train('nn_digits', 'mlp', 'nn_train', 'digit',
                params => '{"hidden_layers": [64], "epochs": 50, "batch_size": 64, "learning_rate": 0.001,
                            "weight_decay": 0.0001, "task": "classification", "seed": 0}',
                test_fraction => 0, deploy => 'never');
SELECT count(DISTINCT blob) AS distinct_blobs FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE m.name = 'nn_digits';

-- regression (a numeric target): a tanh network fits y = x^2, which no line can
CREATE TABLE nn_sq AS SELECT x, x * x AS y FROM generate_series(-2.0, 2.0, 0.01) x;
SELECT (metrics->>'rmse')::float8 < 0.05 AS fits_the_curve
  FROM mm_train('nn_sq', 'mlp', 'nn_sq', 'y',
                params => '{"hidden_layers": [16, 16], "activation": "tanh", "epochs": 300, "batch_size": 32,
                            "learning_rate": 0.01}');
SELECT (metrics->>'rmse')::float8 > 0.5 AS a_line_cannot
  FROM mm_train('nn_sq_line', 'linear_regression', 'nn_sq', 'y');
SELECT task FROM mm_models WHERE model = 'nn_sq';
SELECT abs(mm_predict('nn_sq', ARRAY[1.5]) - 2.25) < 0.15 AS near_2_25;
-- verbose: a NOTICE per epoch with the training and validation losses
-- (timings are in the details, hidden here)
\set VERBOSITY terse
SELECT version FROM mm_train('nn_verbose', 'mlp', 'nn_sq', 'y',
                             params => '{"hidden_layers": [4], "epochs": 3, "early_stopping": true, "verbose": true}');
\set VERBOSITY default
SELECT mm_drop('nn_verbose');
-- text labels make a classifier without params.task; sgd with momentum, early stopping
CREATE TABLE nn_flowers (sepal_length float8, sepal_width float8, petal_length float8,
                         petal_width float8, species text);
\copy nn_flowers FROM 'data/iris.csv' WITH (FORMAT csv, HEADER)
SELECT model, (metrics->>'accuracy')::float8 > 0.9 AS accurate
  FROM mm_train('nn_iris', 'mlp', 'nn_flowers', 'species',
                params => '{"hidden_layers": [8], "optimizer": "sgd", "momentum": 0.9, "learning_rate": 0.05,
                            "epochs": 200, "batch_size": 16, "early_stopping": true, "patience": 20}');
SELECT mm_predict_label('nn_iris', ROW(5.0, 3.4, 1.5, 0.2)) AS setosa_like;
SELECT mm_predict('nn_iris', ARRAY[5.0, 3.4, 1.5, 0.2]);

-- warm start: continue from the latest version's weights (and its scaling)
SELECT version FROM mm_train('nn_digits', 'mlp', 'nn_train', 'digit',
                params => '{"hidden_layers": [64], "epochs": 5, "batch_size": 64, "learning_rate": 0.001,
                            "task": "classification", "warm_start": true, "scale": "none"}',
                test_fraction => 0, deploy => 'never');
SELECT abs((mm_evaluate('nn_digits', 'nn_test', version => 3)->>'accuracy')::float8
           - 0.97493036211699169) < 0.03 AS still_within_003;
-- the previous version's scaling is kept (and recorded), whatever scale says
SELECT params->'warm_start' AS warm_start, params->'scale' AS scale
  FROM mm_versions WHERE model = 'nn_digits' AND version = 3;
SELECT * FROM mm_train('nn_digits', 'mlp', 'nn_train', 'digit',
                       params => '{"hidden_layers": [32], "task": "classification", "warm_start": true}');
SELECT * FROM mm_train('nn_digits', 'mlp', 'SELECT px[1:10] AS px, digit FROM nn_train', 'digit',
                       params => '{"hidden_layers": [64], "task": "classification", "warm_start": true}');
SELECT * FROM mm_train('nn_digits', 'mlp', 'SELECT px, digit FROM nn_train WHERE digit < 9', 'digit',
                       params => '{"hidden_layers": [64], "task": "classification", "warm_start": true}');
SELECT * FROM mm_train('nn_new', 'mlp', 'nn_train', 'digit', params => '{"warm_start": true}');
SELECT * FROM mm_train('nn_digits', 'naive_bayes', 'nn_train', 'digit', params => '{"warm_start": true}');
SELECT latest_version FROM mm_models WHERE model = 'nn_digits';
-- logistic regression: a warm start on the same rows lands on the same solution
SELECT version FROM mm_train('nn_logit', 'logistic_regression', 'nn_flowers', 'species', test_fraction => 0);
SELECT version FROM mm_train('nn_logit', 'logistic_regression', 'nn_flowers', 'species', test_fraction => 0,
                             params => '{"warm_start": true}');
SELECT max(abs(a.weight - b.weight)) < 1e-8 AS same_solution
  FROM mm_weights('nn_logit', 1) a JOIN mm_weights('nn_logit', 2) b USING (class, feature);
SELECT * FROM mm_train('nn_logit', 'logistic_regression', 'nn_flowers', 'species',
                       params => '{"warm_start": true, "fit_intercept": false}');
SELECT * FROM mm_train('nn_logit', 'logistic_regression', 'nn_flowers', 'species',
                       params => '{"warm_start": true, "penalty": "none"}');

-- statement_timeout stops a long training between batches and stores nothing
SET statement_timeout = '300ms';
SELECT * FROM mm_train('nn_digits', 'mlp', 'nn_train', 'digit',
                       params => '{"hidden_layers": [256, 256], "epochs": 100000, "task": "classification"}');
RESET statement_timeout;
SELECT latest_version FROM mm_models WHERE model = 'nn_digits';

-- errors
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"hidden_layers": 8}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"hidden_layers": [8, 0]}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y',
                       params => '{"hidden_layers": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"activation": "softplus"}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"optimizer": "lbfgs"}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"dropout": 1}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"momentum": 1.5}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"task": "clustering"}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"learning_rate": 0}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"validation_fraction": 1}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"learning_rate": 1e100, "optimizer": "sgd", "epochs": 5}');
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"task": "classification"}');
SELECT * FROM mm_train('nn_sq', 'mlp', 'SELECT x, (x > 0)::text AS y FROM nn_sq', 'y');
-- the memory a network needs is estimated before anything is allocated
SELECT * FROM mm_train('nn_bad', 'mlp', 'nn_sq', 'y', params => '{"hidden_layers": [100000, 100000]}');
SELECT count(*) AS nothing_stored FROM mm_models WHERE model = 'nn_bad';
SELECT mm_predict_label('nn_sq', ARRAY[1.0]);

SELECT mm_drop('nn_digits');
SELECT mm_drop('nn_sq');
SELECT mm_drop('nn_sq_line');
SELECT mm_drop('nn_iris');
SELECT mm_drop('nn_logit');
DROP TABLE nn_sq, nn_flowers;
DROP VIEW nn_train, nn_test, nn_px;
DROP TABLE nn_digits;
