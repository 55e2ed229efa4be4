-- The catalog is closed; sources are read with the caller's rights; a
-- model belongs to its owner role (and its members).
CREATE ROLE mm_alice LOGIN;
CREATE ROLE mm_bob LOGIN;
CREATE TABLE secret (x float8, y float8);
INSERT INTO secret SELECT i, 2 * i FROM generate_series(1, 100) i;
CREATE TABLE shared_t (owner_name name, x float8, y float8);
INSERT INTO shared_t SELECT CASE WHEN i <= 30 THEN 'mm_alice' ELSE 'mm_bob' END, i, 3 * i + (i % 5)
  FROM generate_series(1, 100) i;
ALTER TABLE shared_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON shared_t FOR SELECT USING (owner_name = current_user);
GRANT SELECT ON shared_t TO mm_alice, mm_bob;
SELECT version FROM mm_train('pg_model', 'linear_regression', 'secret', 'y');

SET ROLE mm_alice;
-- the catalog tables are closed
SELECT count(*) FROM mm.models;
SELECT count(*) FROM mm.versions;
INSERT INTO mm.models (name, owner, task) VALUES ('x', 'mm_alice', 'regression');
-- no privilege to read the source: the caller's rights apply
SELECT * FROM mm_train('alice_m', 'linear_regression', 'secret', 'y');
SELECT * FROM mm_train('alice_m', 'linear_regression', 'SELECT * FROM secret', 'y');
-- row-level security applies: alice trains on her 30 rows only
SELECT version, metrics->>'n' AS heldout FROM mm_train('alice_m', 'linear_regression', 'shared_t', 'y',
  features => ARRAY['x'], test_fraction => 0);
SELECT n_train, trained_by FROM mm_versions WHERE model = 'alice_m';
-- others' models are invisible and unusable
SELECT model, owner FROM mm_models ORDER BY model;
SELECT mm_predict('pg_model', ARRAY[1.0]);
SELECT mm_evaluate('pg_model', 'shared_t');
SELECT * FROM mm_weights('pg_model');
SELECT * FROM mm_train('pg_model', 'linear_regression', 'shared_t', 'y', features => ARRAY['x']);
SELECT mm_deploy('pg_model', 1);
SELECT mm_rollback('pg_model');
SELECT mm_drop('pg_model');
SELECT round(mm_predict('alice_m', ARRAY[10.0])::numeric, 6) IS NOT NULL AS own_model_ok;
RESET ROLE;

-- a revoked EXECUTE holds for the forms the planner rewrites too
REVOKE EXECUTE ON FUNCTION mm_predict(text, anyelement, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mm_predict(text, float8[], int) FROM PUBLIC;
SET ROLE mm_alice;
SELECT mm_predict('alice_m', s) FROM shared_t s LIMIT 1;
SELECT mm_predict('alice_m', ARRAY[x]) FROM shared_t LIMIT 1;
RESET ROLE;
GRANT EXECUTE ON FUNCTION mm_predict(text, anyelement, int) TO PUBLIC;
GRANT EXECUTE ON FUNCTION mm_predict(text, float8[], int) TO PUBLIC;
SET ROLE mm_alice;
SELECT count(mm_predict('alice_m', s)) AS rows_predicted FROM shared_t s;
RESET ROLE;

SET ROLE mm_bob;
SELECT count(*) FROM mm_models;
SELECT mm_predict('alice_m', ARRAY[1.0]);
RESET ROLE;

-- members of the owner role share the model
GRANT mm_alice TO mm_bob;
SET ROLE mm_bob;
SELECT model, owner FROM mm_models;
SELECT round(mm_predict('alice_m', ARRAY[10.0])::numeric, 6) IS NOT NULL AS member_ok;
SELECT version FROM mm_train('alice_m', 'linear_regression', 'shared_t', 'y', features => ARRAY['x'], test_fraction => 0);
SELECT version, trained_by, n_train FROM mm_versions WHERE model = 'alice_m' ORDER BY version;
RESET ROLE;
REVOKE mm_alice FROM mm_bob;

-- the superuser sees every model
SELECT model, owner FROM mm_models WHERE model IN ('alice_m', 'pg_model') ORDER BY model;
SELECT mm_drop('alice_m');
DROP TABLE shared_t;
DROP ROLE mm_alice;
DROP ROLE mm_bob;
