-- Prediction: array and row inputs, versions, NULLs, and bad input.
SELECT model, version FROM mm_train('p', 'linear_regression',
  'SELECT bmi, s5, progression FROM diabetes', 'progression', test_fraction => 0);
SELECT feature, round(weight::numeric, 6) AS weight FROM mm_weights('p');
CREATE TABLE pin (id int, bmi float8, s5 float8, extra text);
INSERT INTO pin VALUES (1, 30.0, 4.5, 'ignored'), (2, 22.5, 4.0, NULL), (3, NULL, 5.0, 'x');

-- the same prediction through every input form
SELECT round(mm_predict('p', ARRAY[30.0, 4.5]::float8[])::numeric, 6) AS float8_array,
       round(mm_predict('p', ARRAY[30.0, 4.5]::float4[])::numeric, 6) AS float4_array,
       round(mm_predict('p', ARRAY[30.0, 4.5])::numeric, 6) AS numeric_array,
       round(mm_predict('p', ARRAY[30, 4])::numeric, 6) - round(mm_predict('p', ARRAY[30.0, 4.0])::numeric, 6) AS int_array_diff,
       round(mm_predict('p', t)::numeric, 6) AS row_input,
       round(mm_predict('p', t.*)::numeric, 6) AS row_star,
       round(mm_predict('p', ROW(30.0, 4.5))::numeric, 6) AS anonymous_row
  FROM pin t WHERE id = 1;
-- the by-hand formula agrees
SELECT abs(mm_predict('p', ARRAY[bmi, s5]) -
           ((SELECT weight FROM mm_weights('p') WHERE feature = 'intercept') +
            (SELECT weight FROM mm_weights('p') WHERE feature = 'bmi') * bmi +
            (SELECT weight FROM mm_weights('p') WHERE feature = 's5') * s5)) < 1e-9 AS ok
  FROM pin WHERE id <= 2;
-- a row maps by name: column order and extra columns do not matter
SELECT round(mm_predict('p', q)::numeric, 6) AS by_name
  FROM (SELECT 'x'::text AS note, 4.5::float8 AS s5, 30.0::numeric AS bmi) q;
-- a version argument; NULL inputs give NULL
SELECT model, version FROM mm_train('p', 'ridge', 'SELECT bmi, s5, progression FROM diabetes',
  'progression', params => '{"alpha": 100000}', test_fraction => 0, deploy => 'never');
SELECT round(mm_predict('p', ARRAY[30.0, 4.5], 1)::numeric, 6) AS v1,
       round(mm_predict('p', ARRAY[30.0, 4.5], 2)::numeric, 6) AS v2,
       round(mm_predict('p', ARRAY[30.0, 4.5], NULL)::numeric, 6) AS deployed;
SELECT mm_predict('p', NULL::float8[]) IS NULL AS null_array,
       mm_predict('p', NULL::float4[]) IS NULL AS null_float4,
       mm_predict(NULL, ARRAY[1.0, 2.0]) IS NULL AS null_model,
       mm_predict('p', NULL::pin) IS NULL AS null_row;
-- many rows, one statement
SELECT count(*), round(avg(mm_predict('p', d))::numeric, 6) = round(avg(progression)::numeric, 6) AS mean_ok
  FROM diabetes d;

-- bad input
SELECT mm_predict('p', ARRAY[1.0, 2.0, 3.0]);
SELECT mm_predict('p', ARRAY[1.0]::float4[]);
SELECT mm_predict('p', '{}'::float8[]);
SELECT mm_predict('p', ARRAY[[1.0, 2.0], [3.0, 4.0]]::float8[]);
SELECT mm_predict('p', ARRAY[1.0, NULL]::float8[]);
SELECT mm_predict('p', ARRAY['NaN', 1.0]::float8[]);
SELECT mm_predict('p', ARRAY[1.0, 'Infinity']::float8[]);
SELECT mm_predict('p', ARRAY[1.0, '-Infinity']::float4[]);
SELECT mm_predict('p', ARRAY[1e308, 1e308]::float8[]);
SELECT mm_predict('p', t) FROM pin t WHERE id = 3;
SELECT mm_predict('p', q) FROM (SELECT 1.0::float8 AS bmi) q;
SELECT mm_predict('p', q) FROM (SELECT 'a'::text AS bmi, 1.0::float8 AS s5) q;
SELECT mm_predict('p', q) FROM (SELECT 'NaN'::float8 AS bmi, 1.0::float8 AS s5) q;
SELECT mm_predict('p', ROW(30.0, 4.5, 1.0));   -- an anonymous record maps by position
SELECT mm_predict('p', 1.5);
SELECT mm_predict('p', ARRAY['a', 'b']);
SELECT mm_predict('no_such_model', ARRAY[1.0, 2.0]);
SELECT mm_predict('p', ARRAY[1.0, 2.0], 99);
SELECT mm_predict('', ARRAY[1.0, 2.0]);
SELECT mm_predict(repeat('x', 64), ARRAY[1.0, 2.0]);
