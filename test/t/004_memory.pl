# Memory of a backend that predicts over 5,000,000 rows stays flat.
#
# One session predicts over a 5,000,000-row table three ways (the planner's
# rewrite of an array input, a row input, a classifier's label), and its
# backend's private memory (RssAnon in /proc/<pid>/status: heap and
# anonymous mappings, not the shared buffers the scan reads through) is
# read before and after.  A leak of even 8 bytes per prediction would add
# 40 MB per pass; the test allows 16 MB over all three passes together,
# which leaves room for the allocator and caches to settle.  A train that
# would need more than mm.max_train_memory is refused before it reads
# more than the budget, with both numbers in the message.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('mem');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'massmodel'
max_parallel_workers_per_gather = 0
jit = off
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION massmodel;
CREATE TABLE big AS
SELECT i AS id, (i % 1000) / 10.0::float8 AS x1, ((i * 37) % 101) / 10.0::float8 AS x2,
       (1.5 + 3.0 * ((i % 1000) / 10.0) - 2.0 * (((i * 37) % 101) / 10.0))::float8 AS y,
       CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END AS label
  FROM generate_series(1, 5000000) AS i;
SELECT version FROM mm_train('mem_r', 'linear_regression', 'SELECT x1, x2, y FROM big WHERE id <= 10000', 'y');
SELECT version FROM mm_train('mem_c', 'logistic_regression', 'SELECT x1, x2, label FROM big WHERE id <= 10000', 'label');
});

# one session: its pid, then the passes, reading RssAnon around them
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
chomp $pid;

sub rss_anon_kb
{
	open(my $fh, '<', "/proc/$pid/status") or die "cannot read /proc/$pid/status: $!";
	while (my $line = <$fh>)
	{
		return $1 if $line =~ /^RssAnon:\s+(\d+)\s+kB/;
	}
	die "no RssAnon in /proc/$pid/status";
}

# warm up: every path once on a few rows (caches, plans, the model cache)
$bg->query_safe(q{SELECT sum(mm_predict('mem_r', ARRAY[x1, x2])), sum(mm_predict('mem_r', b.*)),
                         count(mm_predict_label('mem_c', b.*)) FROM big b WHERE id <= 1000});
my $before = rss_anon_kb();

is($bg->query_safe(q{SELECT count(mm_predict('mem_r', ARRAY[x1, x2])) FROM big}),
	'5000000', 'array input (planner rewrite): 5,000,000 predictions');
my $after_array = rss_anon_kb();
is($bg->query_safe(q{SELECT count(mm_predict('mem_r', b.*)) FROM big b}),
	'5000000', 'row input: 5,000,000 predictions');
my $after_row = rss_anon_kb();
is($bg->query_safe(q{SELECT count(mm_predict_label('mem_c', b.*)) FROM big b}),
	'5000000', 'classifier labels: 5,000,000 predictions');
my $after_label = rss_anon_kb();

note("RssAnon kB: before $before, after array $after_array, after row $after_row, after label $after_label");
cmp_ok($after_label - $before, '<', 16 * 1024,
	'private memory of the backend grows by less than 16 MB over 15,000,000 predictions');
cmp_ok($after_label - $after_array, '<', 8 * 1024,
	'and by less than 8 MB from the first pass to the last');
$bg->quit;

# a train beyond mm.max_train_memory is refused with both numbers
my ($rc, $out, $err) = $node->psql('postgres', q{
SET mm.max_train_memory = '1MB';
SELECT * FROM mm_train('mem_big', 'logistic_regression', 'SELECT x1, x2, label FROM big', 'label');
});
like($err, qr/the training rows need more than mm\.max_train_memory \(1024 kB\)/,
	'a train beyond mm.max_train_memory is refused, naming the limit');
like($err, qr/DETAIL:\s+\d+ rows of \d+ values were read so far/, 'and the rows read so far');
is($node->safe_psql('postgres', q{SELECT count(*) FROM mm_models WHERE model = 'mem_big'}),
	'0', 'and stores nothing');

$node->stop;
done_testing();
