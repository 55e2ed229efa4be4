-- Benchmark data and timing harness for bench/run.sh.
--
-- bench_t: :rows rows of 20 float8 features x1..x20 and a target
--   y = 3 + sum_i w_i * x_i + noise,  w_i = (i % 7) - 3 + i / 10.0,
-- generated with random() after setseed(), in one serial statement, so
-- the same :rows always gives the same table.  The features have different
-- scales (x_i uniform in [-i, i]) and the noise is uniform in [-0.5, 0.5].
\set ON_ERROR_STOP on

CREATE EXTENSION massmodel;
CREATE EXTENSION pg_prewarm;

SELECT setseed(0.4242);
CREATE TABLE bench_t AS
SELECT x1, x2, x3, x4, x5, x6, x7, x8, x9, x10,
       x11, x12, x13, x14, x15, x16, x17, x18, x19, x20,
       3.0
       + (1 % 7 - 3 + 0.1) * x1  + (2 % 7 - 3 + 0.2) * x2  + (3 % 7 - 3 + 0.3) * x3
       + (4 % 7 - 3 + 0.4) * x4  + (5 % 7 - 3 + 0.5) * x5  + (6 % 7 - 3 + 0.6) * x6
       + (7 % 7 - 3 + 0.7) * x7  + (8 % 7 - 3 + 0.8) * x8  + (9 % 7 - 3 + 0.9) * x9
       + (10 % 7 - 3 + 1.0) * x10 + (11 % 7 - 3 + 1.1) * x11 + (12 % 7 - 3 + 1.2) * x12
       + (13 % 7 - 3 + 1.3) * x13 + (14 % 7 - 3 + 1.4) * x14 + (15 % 7 - 3 + 1.5) * x15
       + (16 % 7 - 3 + 1.6) * x16 + (17 % 7 - 3 + 1.7) * x17 + (18 % 7 - 3 + 1.8) * x18
       + (19 % 7 - 3 + 1.9) * x19 + (20 % 7 - 3 + 2.0) * x20
       + (random() - 0.5) AS y
  FROM (SELECT (2 * random() - 1) *  1 AS x1,  (2 * random() - 1) *  2 AS x2,
               (2 * random() - 1) *  3 AS x3,  (2 * random() - 1) *  4 AS x4,
               (2 * random() - 1) *  5 AS x5,  (2 * random() - 1) *  6 AS x6,
               (2 * random() - 1) *  7 AS x7,  (2 * random() - 1) *  8 AS x8,
               (2 * random() - 1) *  9 AS x9,  (2 * random() - 1) * 10 AS x10,
               (2 * random() - 1) * 11 AS x11, (2 * random() - 1) * 12 AS x12,
               (2 * random() - 1) * 13 AS x13, (2 * random() - 1) * 14 AS x14,
               (2 * random() - 1) * 15 AS x15, (2 * random() - 1) * 16 AS x16,
               (2 * random() - 1) * 17 AS x17, (2 * random() - 1) * 18 AS x18,
               (2 * random() - 1) * 19 AS x19, (2 * random() - 1) * 20 AS x20
          FROM generate_series(1, :rows)
        OFFSET 0) s;

-- bench_lt (logistic regression): :rows rows of 20 float8 features and an
-- integer label y in {0, 1} drawn from the logistic model
--   P(y = 1) = 1 / (1 + exp(-s)),  s = 0.3 + sum_i (c_i / i) * x_i,
--   c_i = (i % 5) - 1.7,  x_i uniform in [-i/2, i/2],
-- so the classes overlap (not separable; about 77 % of the labels agree
-- with the sign of s).  Generated like bench_t, after its own setseed().
SELECT setseed(0.1717);
CREATE TABLE bench_lt AS
SELECT x1, x2, x3, x4, x5, x6, x7, x8, x9, x10,
       x11, x12, x13, x14, x15, x16, x17, x18, x19, x20,
       (random() < 1 / (1 + exp(-(0.3
          + (1 % 5 - 1.7) / 1 * x1  + (2 % 5 - 1.7) / 2 * x2  + (3 % 5 - 1.7) / 3 * x3
          + (4 % 5 - 1.7) / 4 * x4  + (5 % 5 - 1.7) / 5 * x5  + (6 % 5 - 1.7) / 6 * x6
          + (7 % 5 - 1.7) / 7 * x7  + (8 % 5 - 1.7) / 8 * x8  + (9 % 5 - 1.7) / 9 * x9
          + (10 % 5 - 1.7) / 10 * x10 + (11 % 5 - 1.7) / 11 * x11 + (12 % 5 - 1.7) / 12 * x12
          + (13 % 5 - 1.7) / 13 * x13 + (14 % 5 - 1.7) / 14 * x14 + (15 % 5 - 1.7) / 15 * x15
          + (16 % 5 - 1.7) / 16 * x16 + (17 % 5 - 1.7) / 17 * x17 + (18 % 5 - 1.7) / 18 * x18
          + (19 % 5 - 1.7) / 19 * x19 + (20 % 5 - 1.7) / 20 * x20))))::int AS y
  FROM (SELECT (random() - 0.5) *  1 AS x1,  (random() - 0.5) *  2 AS x2,
               (random() - 0.5) *  3 AS x3,  (random() - 0.5) *  4 AS x4,
               (random() - 0.5) *  5 AS x5,  (random() - 0.5) *  6 AS x6,
               (random() - 0.5) *  7 AS x7,  (random() - 0.5) *  8 AS x8,
               (random() - 0.5) *  9 AS x9,  (random() - 0.5) * 10 AS x10,
               (random() - 0.5) * 11 AS x11, (random() - 0.5) * 12 AS x12,
               (random() - 0.5) * 13 AS x13, (random() - 0.5) * 14 AS x14,
               (random() - 0.5) * 15 AS x15, (random() - 0.5) * 16 AS x16,
               (random() - 0.5) * 17 AS x17, (random() - 0.5) * 18 AS x18,
               (random() - 0.5) * 19 AS x19, (random() - 0.5) * 20 AS x20
          FROM generate_series(1, :rows)
        OFFSET 0) s;

-- hint bits set, visibility map full, statistics current, pages in
-- shared_buffers: every timed scan reads the same cached, frozen pages
VACUUM (FREEZE, ANALYZE) bench_t;
VACUUM (FREEZE, ANALYZE) bench_lt;
CHECKPOINT;
SELECT pg_prewarm('bench_t') AS prewarmed_pages;
SELECT pg_prewarm('bench_lt') AS prewarmed_pages_lt;

-- Timings: one row per timed execution.
CREATE TABLE bench_times (
    phase   text NOT NULL,
    label   text NOT NULL,
    rep     int NOT NULL,
    ms      float8 NOT NULL
);

-- bench_run(phase, labels, statements, reps): run every statement once as
-- a warm-up, then `reps` rounds; each round runs every statement once, in
-- order (the compared statements alternate, so slow drifts of the machine
-- hit both sides alike).  Each execution is timed by clock_timestamp()
-- around EXECUTE, in this backend, and committed on its own.
CREATE PROCEDURE bench_run(phase text, labels text[], stmts text[], reps int)
LANGUAGE plpgsql AS $$
DECLARE
    t0  timestamptz;
    t1  timestamptz;
BEGIN
    FOR i IN 1 .. array_length(stmts, 1) LOOP
        EXECUTE stmts[i];
    END LOOP;
    COMMIT;
    FOR r IN 1 .. reps LOOP
        FOR i IN 1 .. array_length(stmts, 1) LOOP
            t0 := clock_timestamp();
            EXECUTE stmts[i];
            t1 := clock_timestamp();
            INSERT INTO bench_times VALUES
                (phase, labels[i], r, extract(epoch FROM t1 - t0) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;

-- median of one (phase, label)
CREATE FUNCTION bench_median(p text, l text) RETURNS float8
LANGUAGE sql STABLE AS $$
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
      FROM bench_times WHERE phase = p AND label = l
$$;
