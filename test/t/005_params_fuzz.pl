# Fuzzing the params of mm_train (and of mm_ensemble, mm_drift) through SQL.
#
# params is jsonb: PostgreSQL parses the bytes; massmodel walks the result
# (src/mm_train.c MmParseParams, src/mm_search.c, src/mm_fusion.c,
# src/mm_drift.c).  The libFuzzer target test/fuzz/fuzz_blob covers the
# bytes massmodel parses itself; this test covers the params walkers the
# only way they can run, in a server: a seeded generator builds 3,000
# params objects for every algorithm from keys the algorithms take, keys
# they do not, and values of every JSON type, extreme numbers and
# arrays (search dimensions) included, and calls mm_train with each in a
# subtransaction.  Every call must succeed or fail with a clean error: no
# internal error (XX000), no crash (the server stays up), and nothing is
# left behind by a failed call.  Then 400 mutated exports go through
# mm_import (and, when accepted, mm_predict).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION massmodel;
CREATE TABLE fz AS
SELECT i AS id, (i % 7)::float8 AS x1, ((i * 13) % 11)::float8 AS x2,
       (ARRAY['p', 'q', 'r'])[1 + i % 3] AS c,
       (2 * (i % 7) - ((i * 13) % 11) + (i % 3))::float8 AS y,
       (ARRAY['u', 'v'])[1 + (i % 7 + (i * 13) % 11) % 2] AS label
  FROM generate_series(1, 60) AS i;
CREATE TABLE fz_outcomes (n int, algorithm text, params jsonb, state text);
SELECT version FROM mm_train('fz_r', 'ridge', 'SELECT x1, x2, c, y FROM fz', 'y');
SELECT version FROM mm_train('fz_l', 'lasso', 'SELECT x1, x2, c, y FROM fz', 'y');
});

my $calls = $node->safe_psql('postgres', q{
SET statement_timeout = '60s';
DO $$
DECLARE
  algs text[] := ARRAY['linear_regression', 'ridge', 'lasso', 'elastic_net', 'logistic_regression',
                       'naive_bayes', 'kmeans', 'pca', 'mlp', 'stacking'];
  keys text[] := ARRAY['alpha', 'l1_ratio', 'max_iter', 'tol', 'fit_intercept', 'C', 'penalty',
                       'var_smoothing', 'k', 'init', 'n_init', 'n_components', 'whiten',
                       'hidden_layers', 'activation', 'optimizer', 'learning_rate', 'epochs',
                       'batch_size', 'dropout', 'weight_decay', 'early_stopping', 'momentum',
                       'patience', 'validation_fraction', 'task', 'warm_start', 'seed', 'scale',
                       'impute', 'verbose', 'search', 'cv', 'n_iter', 'members', 'final',
                       'final_params', 'bogus', ''];
  vals jsonb[] := ARRAY['0', '1', '2', '3', '-1', '0.5', '1e-300', '1e300', '1e9', '-1e9',
                        '2147483648', '9007199254740993', 'true', 'false', 'null', '"x"', '""',
                        '"l2"', '"none"', '"standard"', '"minmax"', '"mean"', '"grid"', '"random"',
                        '"relu"', '"tanh"', '"adam"', '"sgd"', '"classification"', '"regression"',
                        '"kmeans++"', '"ridge"', '"logistic_regression"', '[]', '[1, 2]', '[0.1, 10]',
                        '[[2], [3, 2]]', '[[]]', '["a", 1]', '{}', '{"alpha": 1}',
                        '["fz_r", "fz_l"]', '["fz_r", {"algorithm": "ridge"}]', '[{"algorithm": "kmeans"}]',
                        '[true, false]', '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]']::jsonb[];
  alg text;
  p jsonb;
  st text;
  tgt text;
  src text;
BEGIN
  PERFORM setseed(0.4242);
  FOR n IN 1 .. 3000 LOOP
    alg := algs[1 + floor(random() * array_length(algs, 1))::int];
    p := '{}';
    FOR j IN 1 .. floor(random() * 5)::int LOOP
      p := p || jsonb_build_object(keys[1 + floor(random() * array_length(keys, 1))::int],
                                   vals[1 + floor(random() * array_length(vals, 1))::int]);
    END LOOP;
    tgt := CASE WHEN alg IN ('kmeans', 'pca') THEN NULL
                WHEN alg IN ('logistic_regression', 'naive_bayes') THEN 'label'
                WHEN alg IN ('mlp', 'stacking') AND random() < 0.5 THEN 'label'
                ELSE 'y' END;
    src := CASE WHEN tgt IS NULL THEN 'SELECT x1, x2, c FROM fz'
                ELSE format('SELECT x1, x2, c, %I FROM fz', tgt) END;
    BEGIN
      PERFORM * FROM mm_train('fz_' || n, alg, src, tgt, params => p);
      st := 'ok';
    EXCEPTION WHEN OTHERS THEN
      st := SQLSTATE;
    END;
    INSERT INTO fz_outcomes VALUES (n, alg, p, st);
  END LOOP;
END $$;
SELECT count(*) FROM fz_outcomes;
});
is($calls, '3000', '3,000 fuzzed calls of mm_train ran to their end');

my $internal = $node->safe_psql('postgres',
	q{SELECT count(*) FROM fz_outcomes WHERE state LIKE 'XX%' OR state LIKE '58%'});
is($internal, '0', 'no internal error');
if ($internal ne '0')
{
	diag($node->safe_psql('postgres',
		q{SELECT n, algorithm, params, state FROM fz_outcomes WHERE state LIKE 'XX%' OR state LIKE '58%' LIMIT 10}));
}
note($node->safe_psql('postgres',
	q{SELECT state || ': ' || count(*) FROM fz_outcomes GROUP BY state ORDER BY count(*) DESC}));
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM fz_outcomes WHERE state = 'ok'}),
	'>', 100, 'the generator reaches successful trains too');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM mm_models m
 WHERE m.model LIKE 'fz\_%' AND m.model NOT IN ('fz_r', 'fz_l')
   AND NOT EXISTS (SELECT 1 FROM fz_outcomes o WHERE 'fz_' || o.n = m.model AND o.state = 'ok')}),
	'0', 'a failed call leaves no model behind');

# mm_ensemble and mm_drift params through the same generator's values
my $other = $node->safe_psql('postgres', q{
DO $$
DECLARE
  vals jsonb[] := ARRAY['0', '-1', '1e300', 'null', '"x"', '[]', '{}', '{"threshold": -1}',
                        '{"threshold": "x"}', '{"version": 0}', '{"version": 1e12}', '{"version": 1}',
                        '{"threshold": 1e-300}', '{"bins": 3}']::jsonb[];
  w float8[];
BEGIN
  FOR n IN 1 .. array_length(vals, 1) LOOP
    BEGIN
      PERFORM * FROM mm_drift('fz_r', 'SELECT x1, x2, c FROM fz', vals[n]);
      INSERT INTO fz_outcomes VALUES (-n, 'mm_drift', vals[n], 'ok');
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO fz_outcomes VALUES (-n, 'mm_drift', vals[n], SQLSTATE);
    END;
  END LOOP;
  FOREACH w SLICE 1 IN ARRAY ARRAY[[1, 1], [0, 0], [-1, 1], ['NaN', 1], ['Infinity', 1], [1e308, 1e308]]::float8[] LOOP
    BEGIN
      PERFORM mm_ensemble('fz_e', ARRAY['fz_r', 'fz_l'], NULL, w);
      INSERT INTO fz_outcomes VALUES (-100, 'mm_ensemble', to_jsonb(w), 'ok');
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO fz_outcomes VALUES (-100, 'mm_ensemble', to_jsonb(w), SQLSTATE);
    END;
  END LOOP;
END $$;
SELECT count(*) FROM fz_outcomes WHERE n < 0 AND (state LIKE 'XX%' OR state LIKE '58%');
});
is($other, '0', 'mm_drift params and mm_ensemble weights: no internal error');

# ---- mm_import of mutated exports ------------------------------------------
# An export is untrusted bytes: envelope, JSON metadata, model blob.  Each
# mutation changes random bytes of the metadata or of the blob, then stamps
# the checksums afresh (the blob's own and the envelope's), so that the
# parsers behind them are reached rather than stopped by a CRC mismatch.

sub crc32c
{
	my ($data) = @_;
	my $crc = 0xFFFFFFFF;
	for my $b (unpack('C*', $data))
	{
		$crc ^= $b;
		$crc = ($crc & 1) ? (($crc >> 1) ^ 0x82F63B78) : ($crc >> 1) for 1 .. 8;
	}
	return $crc ^ 0xFFFFFFFF;
}

my @exports = map { pack('H*', $node->safe_psql('postgres', "SELECT encode(mm_export('$_'), 'hex')")) }
  ('fz_r', 'fz_l');
srand(4242);
my $sql = "CREATE TABLE fz_imports (n int, state text);\n";
for my $n (1 .. 400)
{
	my $e = $exports[$n % 2];
	my $mlen = unpack('V', substr($e, 8, 4));
	my $blob_at = 20 + $mlen;
	my $blen = length($e) - $blob_at;
	for (1 .. 1 + int(rand(4)))
	{
		# the metadata half the time, the blob's payload otherwise
		my $pos = rand() < 0.5 ? 20 + int(rand($mlen)) : $blob_at + 24 + int(rand($blen - 24));
		substr($e, $pos, 1) = chr(int(rand(256)));
	}
	substr($e, $blob_at + 16, 4) = pack('V', crc32c(substr($e, $blob_at + 24)));
	substr($e, 16, 4) = pack('V', crc32c(substr($e, 20)));
	my $hex = unpack('H*', $e);
	$sql .= "DO \$\$ BEGIN PERFORM mm_import('imp_$n', '\\x$hex'::bytea); "
	  . "PERFORM mm_predict('imp_$n', f.*) FROM fz f; INSERT INTO fz_imports VALUES ($n, 'ok'); "
	  . "EXCEPTION WHEN OTHERS THEN INSERT INTO fz_imports VALUES ($n, SQLSTATE); END \$\$;\n";
}
$node->safe_psql('postgres', $sql);
is($node->safe_psql('postgres', q{SELECT count(*) FROM fz_imports}), '400',
	'400 mutated exports were imported or refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM fz_imports WHERE state LIKE 'XX0%' AND state <> 'XX001' OR state LIKE '58%'}),
	'0', 'no internal error (XX001, data corrupted, is the refusal of a bad blob)');
note($node->safe_psql('postgres',
	q{SELECT state || ': ' || count(*) FROM fz_imports GROUP BY state ORDER BY count(*) DESC}));

$node->stop;
done_testing();
