# Crashes and cancellations in the middle of a training.
#
# A training writes nothing to the catalog until it stores its version, in
# the transaction of the mm_train call.  This test checks, with a real
# server (massmodel in shared_preload_libraries, for mm_progress and
# mm_stat_models), that:
#
#  1. kill -9 of a backend in the middle of a long mlp training (seen
#     fitting in mm_progress) is followed by the server's crash recovery,
#     after which the catalog is unchanged (no partial version of an
#     existing model, no row of a new model), the indexes and heaps of the
#     catalog verify (amcheck), existing models predict the same values,
#     mm_progress and mm_stat_models start over, and training works again;
#  2. a version committed right before an immediate shutdown (no
#     checkpoint) is replayed from the WAL: it is there, deployed, and
#     predicts the same values;
#  3. a training cancelled by statement_timeout, one cancelled by
#     pg_cancel_backend and one whose backend is terminated end with the
#     standard errors, store nothing, leave mm_progress empty and leave the
#     session usable;
#  4. after a clean restart, the models predict the same values and
#     mm_stat_models counts again from zero.
#
# The outcomes are tested, never durations.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'massmodel'
restart_after_crash = on
});
$node->start;

# 3000 rows: two numeric features, a text feature, a numeric target and a label
$node->safe_psql('postgres', q{
CREATE EXTENSION massmodel;
CREATE EXTENSION amcheck;
CREATE TABLE t AS
SELECT i AS id,
       (i % 200) / 20.0::float8 AS x1,
       ((i * 37) % 101) / 10.0::float8 AS x2,
       (ARRAY['a', 'b', 'c'])[1 + i % 3] AS c,
       (1.5 + 3.0 * ((i % 200) / 20.0) - 2.0 * (((i * 37) % 101) / 10.0) + 0.3 * sin(i))::float8 AS y,
       CASE WHEN (i % 200) / 20.0 - 0.5 * (((i * 37) % 101) / 10.0) + 2.0 * sin(i * 7) > 0
            THEN 'hi' ELSE 'lo' END AS label
  FROM generate_series(1, 3000) AS i;
ALTER TABLE t ADD PRIMARY KEY (id);
});

$node->safe_psql('postgres', q{
SELECT version FROM mm_train('base', 'linear_regression', 'SELECT x1, x2, c, y FROM t', 'y');
SELECT version FROM mm_train('base', 'ridge', 'SELECT x1, x2, c, y FROM t', 'y',
                             params => '{"alpha": 10}', deploy => 'never');
SELECT version FROM mm_train('cls', 'logistic_regression', 'SELECT x1, x2, c, label FROM t', 'label');
SELECT version FROM mm_train('net', 'mlp', 'SELECT x1, x2, y FROM t', 'y',
                             params => '{"hidden_layers": [8], "epochs": 5}');
});

# A training that runs far longer than this test: 100000 epochs of
# mini-batches of 16 over 2400 rows through two layers of 64 units.
my $long_params = q{'{"hidden_layers": [64, 64], "epochs": 100000, "batch_size": 16}'};

# Everything that must not change, as text.  Predictions are compared
# exactly (float8 output is exact since PostgreSQL 12), as count|md5.
my %catalog = (
	'mm_models' => q{
SELECT model, task, algorithm, deployed_version, latest_version, versions, owner, metrics::text,
       size_bytes, updated_at
  FROM mm_models ORDER BY model},
	'mm_versions' => q{
SELECT model, version, algorithm, deployed, params::text, features::text, target, metrics::text,
       n_train, trained_at, size_bytes
  FROM mm_versions ORDER BY model, version},
	'rows of mm.models'      => q{SELECT m::text FROM mm.models m ORDER BY id},
	'rows of mm.versions'    => q{
SELECT model_id, version, uid, algorithm, md5(blob), md5(v::text) FROM mm.versions v
 ORDER BY model_id, version},
	'rows of mm.deployments' => q{SELECT d::text FROM mm.deployments d ORDER BY id},
	'rows of mm.evaluations' => q{SELECT e::text FROM mm.evaluations e ORDER BY id},
	'rows of mm.audit'       => q{SELECT a::text FROM mm.audit a ORDER BY id},
);
my %predictions = (
	'base' => q{
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict('base', t) AS p FROM t OFFSET 0) s},
	'base version 2' => q{
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict('base', t, 2) AS p FROM t OFFSET 0) s},
	'cls labels' => q{
SELECT count(p) || '|' || md5(string_agg(p, ',' ORDER BY id))
  FROM (SELECT id, mm_predict_label('cls', t) AS p FROM t OFFSET 0) s},
	'cls probabilities' => q{
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict_proba('cls', t) AS p FROM t OFFSET 0) s},
	'net' => q{
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict('net', ARRAY[x1, x2]) AS p FROM t OFFSET 0) s},
);

sub snapshot
{
	my %q = (%catalog, map { ("predictions of $_" => $predictions{$_}) } keys %predictions);
	return { map { ($_ => $node->safe_psql('postgres', $q{$_})) } keys %q };
}

sub compare_snapshot
{
	my ($before, $label) = @_;
	my $now = snapshot();
	for my $name (sort keys %$before)
	{
		is($now->{$name}, $before->{$name}, "$label: $name unchanged");
	}
}

# The catalog's indexes and heaps verify (amcheck): no error, no corruption.
sub check_catalog_amcheck
{
	my ($label) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', q{
SELECT count(*) FROM (
  SELECT bt_index_check(c.oid, true)
    FROM pg_class c JOIN pg_am am ON am.oid = c.relam
   WHERE c.relnamespace = 'mm'::regnamespace AND c.relkind = 'i' AND am.amname = 'btree') s;
SELECT count(*) FROM pg_class c, LATERAL verify_heapam(c.oid, check_toast => true) v
 WHERE c.relnamespace = 'mm'::regnamespace AND c.relkind = 'r';
});
	is($rc, 0, "$label: amcheck of the mm catalog runs without error") or diag($err);
	like($out, qr/^[1-9]\d*\n0$/,
		"$label: every btree index of mm verifies, verify_heapam finds no corruption")
	  or diag($out);
}

# Log lines of this server that no crash, cancel or termination should cause.
sub check_log_clean
{
	my ($offset, $label) = @_;
	my $log = slurp_file($node->logfile, $offset);
	my @bad = grep { /\b(WARNING|PANIC|TRAP):/ } split /\n/, $log;
	is(scalar(@bad), 0, "$label: no WARNING, PANIC or TRAP in the server log")
	  or diag(join("\n", @bad));
}

# Start a training in a background session; return the session and its pid
# once mm_progress shows it fitting (an epoch done, a loss known).
sub start_long_training
{
	my ($model, %opt) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe(q{\set VERBOSITY verbose});
	$bg->query_safe($opt{setup}) if defined $opt{setup};
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, qq{
\\echo started
SELECT version FROM mm_train('$model', 'mlp', 'SELECT x1, x2, y FROM t', 'y', params => $long_params);
});
	ok( $node->poll_query_until('postgres', qq{
SELECT phase = 'fitting' AND epoch > 0 AND epochs = 100000 AND loss > 0 AND rows_done = 3000
       AND pid = $pid
  FROM mm_progress WHERE model = '$model'}),
		"$model: mm_progress shows the training fitting in backend $pid");
	return ($bg, $pid);
}

# kill -9 of the backend of a training, then the server's crash recovery.
sub crash_during_training
{
	my ($model) = @_;
	my ($bg, $pid) = start_long_training($model);
	my $offset = -s $node->logfile;

	ok(kill('KILL', $pid), "$model: kill -9 of backend $pid");
	ok( pump_until(
			$bg->{run}, $bg->{timeout}, \$bg->{stderr},
			qr/server closed the connection unexpectedly|connection to server was lost/),
		"$model: the training session loses its connection");
	eval { $bg->{run}->finish; };

	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/server process \(PID $pid\) was terminated by signal 9/,
		"$model: the postmaster saw backend $pid killed");
	like($log, qr/all server processes terminated; reinitializing/,
		"$model: the postmaster reinitialised");
	like($log, qr/database system was not properly shut down; automatic recovery in progress/,
		"$model: crash recovery ran");
	check_log_clean($offset, "$model crash");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM mm_progress'),
		'0', "$model: after the crash, mm_progress is empty");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM mm_stat_models'),
		'0', "$model: after the crash, mm_stat_models starts over (shared memory reinitialised)");
	return;
}

# ---------------------------------------------------------------------------
# 1. kill -9 in the middle of a training
# ---------------------------------------------------------------------------

# prediction statistics before the crash
$node->safe_psql('postgres', $predictions{base});
is($node->safe_psql('postgres', q{SELECT version, calls, rows, errors FROM mm_stat_models WHERE model = 'base'}),
	'1|1|3000|0', 'before the crash: mm_stat_models counts the predictions of base');

my $before = snapshot();
like($before->{'predictions of net'}, qr/^3000\|[0-9a-f]{32}$/, 'net predicts every row');
like($before->{'predictions of cls labels'}, qr/^3000\|/, 'cls predicts every row');
is($node->safe_psql('postgres', q{SELECT latest_version FROM mm_models WHERE model = 'net'}),
	'1', 'net has one version');

# 1a. a new version of an existing model
crash_during_training('net');
compare_snapshot($before, 'after kill -9 of a new version of net');
check_catalog_amcheck('after kill -9 of a new version of net');

# the predictions of the snapshot, counted from zero after the crash
is($node->safe_psql('postgres', q{
SELECT model || ':' || version || ':' || calls || ':' || rows || ':' || errors
  FROM mm_stat_models ORDER BY model, version}),
	"base:1:1:3000:0\nbase:2:1:3000:0\ncls:1:2:6000:0\nnet:1:1:3000:0",
	'after the crash, mm_stat_models counts again');

# 1b. the first version of a new model
crash_during_training('fresh');
compare_snapshot($before, 'after kill -9 of the first train of fresh');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mm.models WHERE name = 'fresh'}),
	'0', 'after the crash, no row of the new model fresh');
check_catalog_amcheck('after kill -9 of the first train of fresh');

# training works again; the version number of the lost train is given again
is($node->safe_psql('postgres', q{
SELECT version || '|' || deployed FROM mm_train('net', 'mlp', 'SELECT x1, x2, y FROM t', 'y',
                                                params => '{"hidden_layers": [8], "epochs": 5, "seed": 7}',
                                                deploy => 'never')}),
	'2|false', 'after the crashes, net trains version 2');
is($node->safe_psql('postgres', q{
SELECT version FROM mm_train('fresh', 'linear_regression', 'SELECT x1, x2, y FROM t', 'y')}),
	'1', 'after the crashes, the new model fresh trains version 1');
cmp_ok($node->safe_psql('postgres', q{
SELECT min(v.uid) FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE (m.name, v.version) IN (('net', 2), ('fresh', 1))}),
	'>', $node->safe_psql('postgres', q{
SELECT max(v.uid) FROM mm.versions v JOIN mm.models m ON m.id = v.model_id
 WHERE NOT (m.name, v.version) IN (('net', 2), ('fresh', 1))}),
	'the new versions get fresh uids');
like($node->safe_psql('postgres', q{
SELECT count(p) || '|' || count(DISTINCT p) FROM (SELECT mm_predict('net', ARRAY[x1, x2], 2) AS p FROM t OFFSET 0) s}),
	qr/^3000\|[1-9]/, 'version 2 of net predicts every row');
is($node->safe_psql('postgres', q{SELECT model, versions FROM mm_models WHERE model IN ('net', 'fresh') ORDER BY 1}),
	"fresh|1\nnet|2", 'mm_models: fresh has one version, net two');

# ---------------------------------------------------------------------------
# 2. a crash right after the commit keeps the version (WAL replay)
# ---------------------------------------------------------------------------

my $committed = $node->safe_psql('postgres', qq{
SELECT redo_lsn FROM pg_control_checkpoint();
SELECT version || '|' || deployed FROM mm_train('base', 'ridge', 'SELECT x1, x2, c, y FROM t', 'y',
                                                params => '{"alpha": 0.5}', deploy => 'always');
SELECT version || '|' || deployed FROM mm_train('late', 'logistic_regression', 'SELECT x1, x2, c, label FROM t', 'label');
$predictions{base};
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict_proba('late', t) AS p FROM t OFFSET 0) s;
SELECT redo_lsn FROM pg_control_checkpoint();
});
my $offset = -s $node->logfile;
$node->stop('immediate');
$node->start;
my ($redo_before, $v3, $late1, $pred_base3, $pred_late1, $redo_after) = split /\n/, $committed;
is($redo_after, $redo_before, 'no checkpoint between the trains and the immediate shutdown');
is($v3,    '3|true', 'base trained version 3 and deployed it');
is($late1, '1|true', 'the new model late trained version 1');
my $log = slurp_file($node->logfile, $offset);
like($log, qr/database system was interrupted/, 'the immediate shutdown left no shutdown checkpoint');
like($log, qr/redo starts at/, 'startup replayed the WAL');

is($node->safe_psql('postgres', q{SELECT deployed_version, latest_version, versions FROM mm_models WHERE model = 'base'}),
	'3|3|3', 'after the immediate shutdown: version 3 of base is there and deployed');
is($node->safe_psql('postgres', q{SELECT deployed_version, latest_version, versions FROM mm_models WHERE model = 'late'}),
	'1|1|1', 'after the immediate shutdown: the new model late is there');
is($node->safe_psql('postgres', $predictions{base}), $pred_base3,
	'after the immediate shutdown: base (version 3) predicts the same values');
is($node->safe_psql('postgres', q{
SELECT count(p) || '|' || md5(string_agg(p::text, ',' ORDER BY id))
  FROM (SELECT id, mm_predict_proba('late', t) AS p FROM t OFFSET 0) s}),
	$pred_late1, 'after the immediate shutdown: late predicts the same probabilities');
is($node->safe_psql('postgres', q{
SELECT string_agg(d.kind || ':' || d.version, ',' ORDER BY d.id) FROM mm.deployments d
  JOIN mm.models m ON m.id = d.model_id WHERE m.name = 'base'}),
	'deploy:1,deploy:3', 'after the immediate shutdown: the deployment history of base');
check_catalog_amcheck('after the immediate shutdown');

# ---------------------------------------------------------------------------
# 3. cancellation: statement_timeout, pg_cancel_backend, pg_terminate_backend
# ---------------------------------------------------------------------------

$before = snapshot();
$offset = -s $node->logfile;

# Wait for the error of the training, then run a query in the same session:
# its transaction has been rolled back by then, so its mm_progress slot must
# be free.  Return (the error output, the query's output).
sub finish_cancelled
{
	my ($bg, $expect, $label) = @_;
	ok(pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, $expect),
		"$label: the training ends with an error");
	my $after = $bg->query(q{SELECT count(*) || '|' || current_setting('statement_timeout') FROM mm_progress});
	my $err = $bg->{stderr};
	$bg->{stderr} = '';
	$bg->quit;
	return ($err, $after);
}

# 3a. statement_timeout, on a new version of an existing model
{
	my ($bg, $pid) = start_long_training('net', setup => q{SET statement_timeout = '3s'});
	my ($err, $after) = finish_cancelled($bg, qr/canceling statement due to statement timeout/,
		'statement_timeout');
	like($err,
		qr/\A(psql:<stdin>:\d+: )?ERROR:  57014: canceling statement due to statement timeout\nLOCATION:  ProcessInterrupts, postgres\.c:\d+\n?\z/,
		'statement_timeout: the standard error (57014, from ProcessInterrupts), nothing else')
	  or diag($err);
	is($after, '0|3s', 'statement_timeout: the session is usable, mm_progress is empty');
}

# 3b. pg_cancel_backend from another session, on a new model
{
	my ($bg, $pid) = start_long_training('gone');
	is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't',
		'pg_cancel_backend of the training backend');
	my ($err, $after) = finish_cancelled($bg, qr/canceling statement due to user request/,
		'pg_cancel_backend');
	like($err,
		qr/\A(psql:<stdin>:\d+: )?ERROR:  57014: canceling statement due to user request\nLOCATION:  ProcessInterrupts, postgres\.c:\d+\n?\z/,
		'pg_cancel_backend: the standard error (57014, from ProcessInterrupts), nothing else')
	  or diag($err);
	is($after, '0|0', 'pg_cancel_backend: the session is usable, mm_progress is empty');
}

# 3c. pg_terminate_backend: the backend exits (FATAL) in the middle of the fit
{
	my ($bg, $pid) = start_long_training('gone');
	is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't',
		'pg_terminate_backend of the training backend');
	ok( pump_until(
			$bg->{run}, $bg->{timeout}, \$bg->{stderr},
			qr/terminating connection due to administrator command/),
		'pg_terminate_backend: the session gets the standard FATAL');
	like($bg->{stderr}, qr/FATAL:  57P01: terminating connection due to administrator command/,
		'pg_terminate_backend: SQLSTATE 57P01');
	eval { $bg->{run}->finish; };
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
		'pg_terminate_backend: the backend has exited');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM mm_progress'),
		'0', 'pg_terminate_backend: mm_progress is empty');
}

compare_snapshot($before, 'after the cancellations');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mm.models WHERE name = 'gone'}),
	'0', 'after the cancellations, no row of the new model gone');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE a.backend_type = 'client backend' AND l.pid <> pg_backend_pid()}),
	'0', 'after the cancellations, no client backend holds a lock');
check_log_clean($offset, 'cancellations');

# training still works, in a new session and with a timeout that is not hit
is($node->safe_psql('postgres', q{
SET statement_timeout = '10min';
SELECT version FROM mm_train('gone', 'linear_regression', 'SELECT x1, x2, y FROM t', 'y')}),
	'1', 'after the cancellations, gone trains version 1');

# ---------------------------------------------------------------------------
# 4. a clean restart with shared_preload_libraries
# ---------------------------------------------------------------------------

$before = snapshot();
$node->safe_psql('postgres', 'SELECT mm_stat_reset()');
$node->safe_psql('postgres', $predictions{base});
is($node->safe_psql('postgres', q{SELECT version, calls, rows FROM mm_stat_models WHERE model = 'base'}),
	'3|1|3000', 'before the restart: one call of base version 3 counted');

$node->restart;
is($node->safe_psql('postgres', q{SHOW shared_preload_libraries}), 'massmodel',
	'after the restart: massmodel is preloaded');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mm_stat_models}),
	'0', 'after the restart: mm_stat_models starts over');
compare_snapshot($before, 'after a clean restart');
is($node->safe_psql('postgres', q{
SELECT model || ':' || version || ':' || calls || ':' || rows || ':' || errors
  FROM mm_stat_models ORDER BY model, version}),
	"base:2:1:3000:0\nbase:3:1:3000:0\ncls:1:2:6000:0\nnet:1:1:3000:0",
	'after the restart: mm_stat_models counts the predictions of the snapshot again');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mm_progress}),
	'0', 'after the restart: mm_progress is empty');

$node->stop;
done_testing();
