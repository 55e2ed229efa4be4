# Operations across server restarts, a hot standby and pg_cron.
#
#  1. Without massmodel in shared_preload_libraries, predictions work and
#     mm_stat_models / mm_progress say what is missing.
#  2. With it (after a restart), predictions are counted per version; a
#     restart starts the counts over (shared memory); a training under way
#     shows in mm_progress and leaves it when cancelled.
#  3. A streaming hot standby predicts the same values as the primary,
#     counts its own statistics, and sees a new deployment after replay.
#  4. mm_schedule creates a real pg_cron job that runs mm_retrain in this
#     database and stores a new version within a bounded wait (pg_cron 1.4
#     runs at minute granularity); mm_unschedule removes it.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;

$primary->safe_psql('postgres', q{
CREATE EXTENSION massmodel;
CREATE TABLE t AS
SELECT i AS id, i / 20.0::float8 AS x1, ((i * 37) % 101) / 10.0::float8 AS x2,
       (1.5 + 3.0 * (i / 20.0) - 2.0 * (((i * 37) % 101) / 10.0) + 0.3 * sin(i))::float8 AS y
  FROM generate_series(1, 300) AS i;
SELECT version FROM mm_train('ops', 'linear_regression', 'SELECT x1, x2, y FROM t', 'y');
});

# ---- 1. no preload ----------------------------------------------------------
is($primary->safe_psql('postgres', q{SELECT count(mm_predict('ops', ARRAY[x1, x2])) FROM t}),
	'300', 'without preload: predictions work');
my ($rc, $out, $err) = $primary->psql('postgres', q{SELECT * FROM mm_stat_models});
like($err, qr/massmodel statistics are not available/,
	'without preload: mm_stat_models says the statistics are missing');
like($err, qr/HINT:\s+Add massmodel to shared_preload_libraries/,
	'without preload: the hint names shared_preload_libraries');
($rc, $out, $err) = $primary->psql('postgres', q{SELECT * FROM mm_progress});
like($err, qr/massmodel statistics are not available/, 'without preload: mm_progress too');

# ---- 2. preloaded: counted, and a restart starts over ------------------------
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'massmodel,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$primary->restart;
$primary->safe_psql('postgres', q{SELECT count(mm_predict('ops', ARRAY[x1, x2])) FROM t});
$primary->safe_psql('postgres', q{SELECT count(mm_predict('ops', t.*)) FROM t WHERE id <= 100});
is($primary->safe_psql('postgres', q{SELECT version, calls, rows, errors FROM mm_stat_models}),
	'1|2|400|0', 'preloaded: two statements, 400 rows counted for version 1');
$primary->restart;
is($primary->safe_psql('postgres', q{SELECT count(*) FROM mm_stat_models}),
	'0', 'a restart starts the statistics over');

# ---- 2b. a training in progress, seen from another session -------------------
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/, q{
\echo started
SELECT * FROM mm_train('ops_slow', 'mlp', 'SELECT x1, x2, y FROM t', 'y',
                       params => '{"hidden_layers": [64, 64], "epochs": 100000, "batch_size": 16}');
});
ok($primary->poll_query_until('postgres',
		q{SELECT phase = 'fitting' AND epoch > 0 AND epochs = 100000 AND loss > 0 AND rows_done = 300
		    FROM mm_progress WHERE model = 'ops_slow'}),
	'mm_progress shows the mlp fitting: epoch of 100000, loss, rows read');
is($primary->safe_psql('postgres',
		q{SELECT algorithm || '|' || (elapsed > interval '0') FROM mm_progress WHERE model = 'ops_slow'}),
	'mlp|true', 'mm_progress names the algorithm and the time elapsed');
$primary->safe_psql('postgres',
	q{SELECT pg_cancel_backend(pid) FROM mm_progress WHERE model = 'ops_slow'});
ok($primary->poll_query_until('postgres', q{SELECT count(*) = 0 FROM mm_progress}),
	'a cancelled training leaves mm_progress');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM mm_models WHERE model = 'ops_slow'}),
	'0', 'and stores nothing');
$bg->quit;

# ---- 3. a hot standby --------------------------------------------------------
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

my $predict = q{SELECT string_agg(mm_predict('ops', t.*)::text, ',' ORDER BY id) FROM t};
is($standby->safe_psql('postgres', $predict), $primary->safe_psql('postgres', $predict),
	'standby: the same predictions as the primary');
is($standby->safe_psql('postgres', q{SELECT version, calls, rows FROM mm_stat_models}),
	'1|1|300', 'standby: its own statistics');
($rc, $out, $err) = $standby->psql('postgres',
	q{SELECT * FROM mm_train('ops', 'ridge', 'SELECT x1, x2, y FROM t', 'y')});
like($err, qr/read-only transaction/, 'standby: training is refused');

$primary->safe_psql('postgres', q{
SELECT version FROM mm_train('ops', 'ridge', 'SELECT x1, x2, y FROM t', 'y',
                             params => '{"alpha": 50}', deploy => 'always');
});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT deployed_version FROM mm_models WHERE model = 'ops'}),
	'2', 'standby: the new deployment is seen after replay');
is($standby->safe_psql('postgres', $predict), $primary->safe_psql('postgres', $predict),
	'standby: predictions follow the new deployment');
$standby->stop;

# ---- 4. a scheduled retrain through pg_cron ---------------------------------
$primary->safe_psql('postgres', q{CREATE EXTENSION pg_cron});
my $job = $primary->safe_psql('postgres', q{SELECT mm_schedule('ops', '* * * * *')});
like($job, qr/^\d+$/, 'mm_schedule returns the pg_cron job id');
is($primary->safe_psql('postgres',
		qq{SELECT schedule || '|' || database || '|' || jobname FROM cron.job WHERE jobid = $job}),
	'* * * * *|postgres|mm_retrain ops', 'the job runs every minute in this database');

# pg_cron starts jobs at the start of a minute: wait for the version (up to 150 s)
my $done = $primary->poll_query_until('postgres',
	q{SELECT latest_version >= 3 FROM mm_models WHERE model = 'ops'}, 't');
ok($done, 'the scheduled retrain stored a new version');
is($primary->safe_psql('postgres',
		q{SELECT algorithm || '|' || (params->>'alpha') FROM mm_versions WHERE model = 'ops' AND version = 3}),
	'ridge|50', 'the retrain repeated the latest version\'s algorithm and params');
like($primary->safe_psql('postgres',
		qq{SELECT status FROM cron.job_run_details WHERE jobid = $job ORDER BY runid LIMIT 1}),
	qr/succeeded|running/, 'pg_cron recorded the run');
is($primary->safe_psql('postgres', q{SELECT mm_unschedule('ops')}), 't', 'mm_unschedule removes the job');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM cron.job}), '0', 'no job is left');

$primary->stop;
done_testing();
