# A server that never answers: the query times out, is retried, and falls back to the next
# server; with no server answering, callbacks get an empty list (never an exception).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;
use Socket qw(unpack_sockaddr_in);
use Time::HiRes qw(time);

watchdog(30);

my $dns = AETest::Dnsmasq->start('--host-record=www.test,10.1.1.1');

# A bound UDP socket nobody reads: queries to it vanish.
my $dead = AETest::FakeDNS::udp_socket();
my $dead_server = '127.0.0.1:' . (unpack_sockaddr_in(getsockname $dead))[0];

sub queued_queries {
    my $n = 0;
    $n++ while recv $dead, my $pkt, 4096, Socket::MSG_DONTWAIT();
    $n;
}

my $r = AnyEvent::DNS->new(server => [$dead_server, $dns->server], timeout => [0.3], cache => 0);
my $t0 = time;
my $cv = AE::cv;
$r->resolve('www.test', 'a', sub { $cv->send(@_) });
is_deeply [map $_->[4], $cv->recv], ['10.1.1.1'], 'the second server answers after the first timed out';
cmp_ok time - $t0, '>=', 0.25, '... after the first try\'s timeout';
is queued_queries(), 1, '... the first server got the query';

$r = AnyEvent::DNS->new(server => [$dead_server], timeout => [0.2, 0.3]);
$t0 = time;
$cv = AE::cv;
$r->resolve('www.test', 'a', sub { $cv->send(scalar @_) });
is $cv->recv, 0, 'no server answers: an empty list';
cmp_ok time - $t0, '>=', 0.45, '... after both tries timed out';
is queued_queries(), 2, '... the query was sent once per timeout';

$cv = AE::cv;
$r->request({ rd => 1, qd => [['www.test', 'a']] }, sub { $cv->send(scalar @_) });
is $cv->recv, 0, 'request: no arguments when no server answers';
queued_queries();

# Timed-out requests release their slot: more requests than max_outstanding all finish.
$r = AnyEvent::DNS->new(server => [$dead_server], timeout => [0.1], max_outstanding => 2);
$cv = AE::cv;
my $finished = 0;
for (1 .. 5) {
    $cv->begin;
    $r->resolve("n$_.test.", 'a', sub { $finished++; $cv->end });
}
is $r->stats->{queued}, 3, 'requests beyond max_outstanding wait';
$cv->recv;
is $finished, 5, 'all of them end (after timing out in turn)';
is queued_queries(), 5, 'each was sent once';

# wait_for_slot waits while all slots are taken.
$r = AnyEvent::DNS->new(server => [$dead_server], timeout => [0.2], max_outstanding => 1);
my @order;
$cv = AE::cv;
$r->resolve('slot.test.', 'a', sub { push @order, 'resolved' });
$r->wait_for_slot(sub { push @order, 'slot'; $cv->send($_[0]) });
is_deeply \@order, [], 'wait_for_slot: not called while the only slot is taken';
is $cv->recv, $r, '... called with the resolver once it is free';
is_deeply \@order, ['resolved', 'slot'], '... after the request that held it ended';
queued_queries();

# A callback that dies does not lose the other callbacks.
$r = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);
my @got;
$cv = AE::cv;
$cv->begin for 1 .. 2;
$r->resolve('www.test', 'a', sub { push @got, 1; $cv->end; die "callback failure\n" });
$r->resolve('www.test', 'a', sub { push @got, 2; $cv->end });
my $died = !eval { $cv->recv; 1 };
$cv->recv if $died;   # the exception came out of the loop; the other callback still runs
ok $died, 'an exception from a callback propagates out of the loop' or diag $@;
is_deeply [sort @got], [1, 2], 'the other callback still ran';

done_testing;
