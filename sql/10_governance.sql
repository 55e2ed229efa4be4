-- Per-model privileges with GRANT semantics, the audit log, export and
-- import.  Three roles walk the matrix role x operation.
CREATE ROLE gov_owner LOGIN;
CREATE ROLE gov_reader LOGIN;
CREATE ROLE gov_trainer LOGIN;
CREATE TABLE gov_t AS SELECT i, i::float8 AS x, (2 * i + 1 + i % 3)::float8 AS y FROM generate_series(1, 100) i;
GRANT SELECT ON gov_t TO gov_owner, gov_reader, gov_trainer;

SET ROLE gov_owner;
SELECT version FROM mm_train('gov', 'linear_regression', 'gov_t', 'y', features => ARRAY['x']);
RESET ROLE;

-- a helper that runs one operation as a role and reports ok or the error
CREATE FUNCTION gov_try(r text, op text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET ROLE %I', r);
  BEGIN
    EXECUTE op;
    RESET ROLE;
    RETURN 'ok';
  EXCEPTION WHEN OTHERS THEN
    RESET ROLE;
    RETURN SQLERRM;
  END;
END $$;
CREATE TABLE gov_ops (n int, op text);
INSERT INTO gov_ops VALUES
  (1, $$SELECT mm_predict('gov', ARRAY[1.0])$$),
  (2, $$SELECT mm_evaluate('gov', 'gov_t')$$),
  (3, $$SELECT * FROM mm_weights('gov')$$),
  (4, $$SELECT mm_export('gov')$$),
  (5, $$SELECT 1 / count(*) FROM mm_models WHERE model = 'gov'$$),
  (6, $$SELECT * FROM mm_train('gov', 'ridge', 'gov_t', 'y', features => ARRAY['x'], deploy => 'never')$$),
  (7, $$SELECT mm_deploy('gov', 1)$$),
  (8, $$SELECT mm_grant('gov', 'gov_reader', 'predict')$$),
  (9, $$SELECT mm_drop('gov', 1)$$);

-- nothing granted: the owner may do everything, the others nothing
SELECT n, gov_try('gov_owner', op) AS gov_owner, gov_try('gov_reader', op) AS gov_reader,
       gov_try('gov_trainer', op) AS gov_trainer
  FROM gov_ops WHERE n <> 9 ORDER BY n;

-- predict to the reader; train (without deploy) to the trainer
SET ROLE gov_owner;
SELECT mm_grant('gov', 'gov_reader', 'predict');
SELECT mm_grant('gov', 'gov_trainer', 'train');
RESET ROLE;
SELECT n, gov_try('gov_reader', op) AS gov_reader, gov_try('gov_trainer', op) AS gov_trainer
  FROM gov_ops WHERE n <> 9 ORDER BY n;
-- train without deploy: versions are stored, never deployed
SET ROLE gov_trainer;
SELECT version, deployed FROM mm_train('gov', 'ridge', 'gov_t', 'y', features => ARRAY['x'], deploy => 'always');
RESET ROLE;
SELECT version, trained_by, deployed FROM mm_versions WHERE model = 'gov' ORDER BY version;
-- deploy too; then rollback works for the trainer
SET ROLE gov_owner;
SELECT mm_grant('gov', 'gov_trainer', 'deploy');
RESET ROLE;
SELECT gov_try('gov_trainer', $$SELECT mm_deploy('gov', 2)$$) AS deploy,
       gov_try('gov_trainer', $$SELECT mm_rollback('gov')$$) AS rollback,
       gov_try('gov_trainer', $$SELECT mm_drop('gov', 2)$$) AS drop,
       gov_try('gov_trainer', $$SELECT mm_grant('gov', 'gov_reader', 'train')$$) AS grant_;

-- PUBLIC, and revoke
SET ROLE gov_owner;
SELECT mm_revoke('gov', 'gov_reader', 'predict');
RESET ROLE;
SELECT gov_try('gov_reader', $$SELECT mm_predict('gov', ARRAY[1.0])$$) AS after_revoke;
SET ROLE gov_owner;
-- a role name with quotes and a backslash is stored and audited as it is
RESET ROLE;
CREATE ROLE "gov ""odd\role";
SET ROLE gov_owner;
SELECT mm_grant('gov', 'gov "odd\role', 'predict');
SELECT mm_revoke('gov', 'gov "odd\role', 'predict');
SELECT detail->>'role' AS audited_role, detail->>'privilege' AS privilege
  FROM mm_audit WHERE model = 'gov' AND action IN ('grant', 'revoke') AND detail->>'role' LIKE 'gov "%' ORDER BY id;
RESET ROLE;
DROP ROLE "gov ""odd\role";
SET ROLE gov_owner;
SELECT mm_grant('gov', 'public', 'predict');
RESET ROLE;
SELECT gov_try('gov_reader', $$SELECT mm_predict('gov', ARRAY[1.0])$$) AS via_public;
SET ROLE gov_owner;
SELECT mm_revoke('gov', 'PUBLIC', 'all');
SELECT mm_revoke('gov', 'gov_trainer', 'all');
RESET ROLE;
SELECT gov_try('gov_reader', $$SELECT mm_predict('gov', ARRAY[1.0])$$) AS public_revoked,
       gov_try('gov_trainer', $$SELECT mm_predict('gov', ARRAY[1.0])$$) AS all_revoked;
SELECT acl FROM mm.models WHERE name = 'gov';

-- bad grants
SET ROLE gov_owner;
SELECT mm_grant('gov', 'gov_reader', 'select');
SELECT mm_grant('gov', 'no_such_role', 'predict');
SELECT mm_grant('no_such_model', 'gov_reader', 'predict');
SELECT mm_grant('gov', NULL, 'predict');
RESET ROLE;

-- the catalog stays closed to every role but through the functions
SELECT gov_try('gov_owner', $$UPDATE mm.models SET acl = NULL$$) AS update_catalog,
       gov_try('gov_owner', $$SELECT count(*) FROM mm.audit$$) AS read_audit_table;

-- export and import: the copy predicts the same, and belongs to the importer
CREATE TABLE gov_blob (b bytea);
GRANT SELECT, INSERT ON gov_blob TO PUBLIC;
SELECT gov_try('gov_reader', $$INSERT INTO gov_blob SELECT mm_export('gov')$$) AS export_without_predict;
SELECT gov_try('gov_owner', $$INSERT INTO gov_blob SELECT mm_export('gov')$$) AS export_as_owner;
-- importing into another role's model needs train on it
SELECT gov_try('gov_reader', $$SELECT mm_import('gov', (SELECT b FROM gov_blob))$$) AS import_into_foreign;
SET ROLE gov_reader;
SELECT mm_import('gov_copy', (SELECT b FROM gov_blob));
SELECT model, owner, deployed_version FROM mm_models WHERE model = 'gov_copy';
RESET ROLE;
SELECT mm_predict('gov_copy', ARRAY[10.0]) = mm_predict('gov', ARRAY[10.0]) AS same_prediction;
SELECT a.params = b.params AS same_params, a.metrics = b.metrics AS same_metrics, a.features = b.features AS same_features
  FROM mm_versions a, mm_versions b WHERE a.model = 'gov' AND a.version = 1 AND b.model = 'gov_copy';
-- a classifier with categorical features round-trips too
SELECT version FROM mm_train('gov_cls', 'logistic_regression',
  'SELECT (ARRAY[''a'', ''b'', ''c''])[1 + i % 3] AS c, x, i % 2 = 0 AS label FROM gov_t', 'label');
SELECT mm_import('gov_cls_copy', mm_export('gov_cls'));
SELECT mm_labels('gov_cls_copy') = mm_labels('gov_cls') AS same_labels,
       mm_predict_proba('gov_cls_copy', ROW('b', 3.0)) = mm_predict_proba('gov_cls', ROW('b', 3.0)) AS same_proba;
-- importing into a model of the other task is refused
SELECT mm_import('gov', mm_export('gov_cls'));
-- corrupted, truncated, oversized and random data are refused, never a crash
SELECT mm_import('bad', NULL::bytea);
SELECT mm_import('bad', ''::bytea);
SELECT mm_import('bad', '\x4d4d4558'::bytea);
SELECT mm_import('bad', substr((SELECT b FROM gov_blob), 1, 30));
SELECT mm_import('bad', (SELECT b FROM gov_blob) || '\x00'::bytea);
SELECT mm_import('bad', overlay((SELECT b FROM gov_blob) placing '\xffffffff'::bytea from 9 for 4));
SELECT mm_import('bad', overlay((SELECT b FROM gov_blob) placing '\x02'::bytea from 5 for 1));
SELECT mm_import('bad', decode(md5('random') || md5('bytes'), 'hex'));
DO $$
DECLARE
  good bytea := (SELECT b FROM gov_blob);
  bad bytea;
  refused int := 0;
  bits int := length(good) * 8;
  pos int;
BEGIN
  PERFORM setseed(0.25);
  FOR k IN 1 .. 400 LOOP
    pos := (random() * (bits - 1))::int;
    bad := set_bit(good, pos, 1 - get_bit(good, pos));
    BEGIN
      PERFORM mm_import('flip', bad);
    EXCEPTION WHEN data_corrupted THEN
      refused := refused + 1;
    END;
  END LOOP;
  RAISE NOTICE 'random bit flips: % of 400 imports refused', refused;
END $$;
SELECT count(*) AS flips_stored FROM mm_models WHERE model = 'flip';
-- well-formed envelopes (right lengths, right CRC-32C) around bad metadata
CREATE TABLE gov_model AS
  SELECT substr(b, 21 + (get_byte(b, 8) + 256 * get_byte(b, 9))) AS m FROM gov_blob;
-- the envelope builder reproduces mm_export's bytes: the checks below are of the metadata only
SELECT regress.envelope(convert_from(substr(b, 21, get_byte(b, 8) + 256 * get_byte(b, 9)), 'UTF8'),
                    (SELECT m FROM gov_model)) = b AS builder_matches_export FROM gov_blob;
SELECT mm_import('gov_bad', regress.envelope('{"n_train": 10', (SELECT m FROM gov_model)));
SELECT mm_import('gov_bad', regress.envelope('[1, 2]', (SELECT m FROM gov_model)));
SELECT mm_import('gov_bad', regress.envelope('{"params": 3}', (SELECT m FROM gov_model)));
SELECT mm_import('gov_bad', regress.envelope('{"n_train": 1e300}', (SELECT m FROM gov_model)));
SELECT mm_import('gov_bad', regress.envelope('{"n_train": -1}', (SELECT m FROM gov_model)));
SELECT count(*) AS bad_stored FROM mm_models WHERE model = 'gov_bad';
-- minimal metadata are enough: the model blob carries the model
SELECT mm_import('gov_min', regress.envelope('{}', (SELECT m FROM gov_model)));
SELECT n_train, params, metrics FROM mm_versions WHERE model = 'gov_min';
SELECT mm_drop('gov_min');
-- a version-3 blob built by hand (an mlp classifier, the fuzz seed mlp_3classes) imports
CREATE TABLE gov_mlp AS SELECT
  '\x0205006c6162656c020000000200783101010000000001007602020000000000010300000003006361740300636f770300646f670102000000030000000400000003000000dbb66ddbb66debbfb76ddbb66ddbe6bf922449922449e2bfdbb66ddbb66ddbbf922449922449d2bf922449922449c2bf0000000000000000922449922449c23f922449922449d23fdbb66ddbb66ddb3f922449922449e23fb76ddbb66ddbe63f0000000000000000000000000000c03f000000000000d03f000000000000d83f9a9999999999c9bf101111111111c13f186cc1166cc1b6bf9ef4499ff449cf3f106cc1166cc1963f9a9999999999c9bf101111111111c13f186cc1166cc1b6bf9ef4499ff449cf3f106cc1166cc1963f9a9999999999c9bf101111111111c13f0000000000000000000000000000e0bf000000000000f0bf'::bytea AS payload;
SELECT mm_import('gov_nn', regress.envelope('{}',
         '\x4d4d444c0300070000000000'::bytea || regress.le32(length(payload)) || regress.le32(regress.crc32c(payload))
         || '\x00000000'::bytea || payload)) FROM gov_mlp;
SELECT task, algorithm FROM mm_models WHERE model = 'gov_nn';
SELECT mm_labels('gov_nn'), mm_predict_label('gov_nn', ARRAY[1.0, 2.0, 3.0]) IS NOT NULL AS predicts;
SELECT mm_drop('gov_nn');
-- a blob stored into the catalog behind massmodel's back (superuser only) is
-- still validated against the call: here its 3 features against 1 given
SELECT version FROM mm_train('gov_tamper', 'linear_regression', 'gov_t', 'y', features => ARRAY['x']);
UPDATE mm.versions SET blob = '\x4d4d444c0300070000000000'::bytea || regress.le32(length(payload))
         || regress.le32(regress.crc32c(payload)) || '\x00000000'::bytea || payload
  FROM gov_mlp WHERE model_id = (SELECT id FROM mm.models WHERE name = 'gov_tamper');
SELECT mm_predict('gov_tamper', ARRAY[1.0]);
SELECT mm_drop('gov_tamper');

-- the audit log: every action, visible to the owner, kept after a drop
SET ROLE gov_owner;
SELECT action, role, version, detail FROM mm_audit WHERE model = 'gov' ORDER BY id;
SELECT mm_drop('gov');
SELECT count(*) AS kept_after_drop FROM mm_audit WHERE model = 'gov';
RESET ROLE;
SET ROLE gov_trainer;
SELECT count(*) AS seen_by_other_roles FROM mm_audit WHERE model = 'gov';
RESET ROLE;
SELECT action, role FROM mm_audit WHERE model = 'gov_copy' ORDER BY id;

SELECT mm_drop('gov_copy');
SELECT mm_drop('gov_cls');
SELECT mm_drop('gov_cls_copy');
DROP FUNCTION gov_try(text, text);
DROP TABLE gov_t, gov_ops, gov_blob, gov_model, gov_mlp;
DROP OWNED BY gov_owner, gov_reader, gov_trainer;
DROP ROLE gov_owner, gov_reader, gov_trainer;
