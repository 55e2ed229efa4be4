# The direct read of a table (mm.direct_scan) must not hide a read from a
# module that checks or audits the executor's reads.  With pgaudit loaded
# (it hooks ExecutorCheckPerms), mm_train reads through the query, and
# pgaudit's session log records the nested SELECT of the training table;
# without pgaudit the same train reads the heap directly.  The two versions
# are the same.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('audit');
$node->init;
$node->start;

my $setup = q{
CREATE EXTENSION massmodel;
CREATE TABLE audited AS
SELECT i::float8 AS x1, ((i * 37) % 101)::float8 AS x2,
       (1.5 + 3.0 * i - 2.0 * ((i * 37) % 101) + sin(i))::float8 AS y
  FROM generate_series(1, 2000) AS i;
};
$node->safe_psql('postgres', $setup);

my $train = q{SELECT version FROM mm_train('aud', 'linear_regression', 'audited', 'y',
                                          params => '{"verbose": true}')};

# ---- without pgaudit: the direct read ----------------------------------------
my ($rc, $out, $err) = $node->psql('postgres', $train);
is($rc, 0, 'without pgaudit: the train succeeds');
like($err, qr/read \d+ training and \d+ held-out rows directly from the table/,
	'without pgaudit: the table is read directly');

# ---- with pgaudit: through the query, which pgaudit logs ---------------------
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pgaudit'
pgaudit.log = 'read'
pgaudit.log_relation = on
});
$node->restart;
my $log_offset = -s $node->logfile;
($rc, $out, $err) = $node->psql('postgres', $train);
is($rc, 0, 'with pgaudit: the train succeeds');
like($err, qr/read \d+ training and \d+ held-out rows\n/,
	'with pgaudit: the rows are read through the query');
unlike($err, qr/directly from the table/, 'with pgaudit: no direct read');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/AUDIT: SESSION,\d+,\d+,READ,SELECT,TABLE,public\.audited,.*mm_linear_stats/,
	'with pgaudit: the nested read of the training table is in the audit log');

is($node->safe_psql('postgres', q{
SELECT a.blob = b.blob AND a.metrics = b.metrics
  FROM mm.versions a JOIN mm.versions b ON a.model_id = b.model_id
 WHERE a.version = 1 AND b.version = 2}), 't',
	'the direct read and the audited query give the same version');

$node->stop;
done_testing();
