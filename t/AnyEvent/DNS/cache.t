# The answer cache: positive answers for their TTL, negative ones for the SOA's, and its off
# switch (cache => 0).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

sub addrs {
    my ($r, $name) = @_;
    my $cv = AE::cv;
    $r->resolve($name, 'a', sub { $cv->send(@_) });
    [$cv->recv];
}

my $dns = AETest::Dnsmasq->start('--local-ttl=30', '--host-record=www.test,10.1.1.1', '--cname=alias.test,www.test');
my $cached = AnyEvent::DNS->new(server => [$dns->server], timeout => [0.3]);
my $uncached = AnyEvent::DNS->new(server => [$dns->server], timeout => [0.3], cache => 0);
is_deeply addrs($cached, 'www.test'), [['www.test', 'a', 'in', 30, '10.1.1.1']], 'answer from the server';
is_deeply addrs($cached, 'alias.test'), [['www.test', 'a', 'in', 30, '10.1.1.1']], 'through a CNAME';
is_deeply addrs($uncached, 'www.test'), [['www.test', 'a', 'in', 30, '10.1.1.1']], 'the same without cache';
is $cached->stats->{cached}, 2, 'two answers are kept';
is $uncached->stats->{cached}, 0, 'none with cache => 0';

$dns->stop;
my $again = addrs($cached, 'www.test');
is_deeply [map @$_[0, 1, 2, 4], @$again], ['www.test', 'a', 'in', '10.1.1.1'], 'with the server gone, the cache answers';
cmp_ok $again->[0][3], '<=', 30, '... with the TTL that is left';
is_deeply [map $_->[4], @{ addrs($cached, 'alias.test') }], ['10.1.1.1'], '... CNAME chains too';
is_deeply addrs($uncached, 'www.test'), [], 'without cache: no answer (the server is gone)';

$cached->clear_cache;
is_deeply addrs($cached, 'www.test'), [], 'clear_cache forgets the answers';

# Negative answers are kept for the SOA's TTL (capped by its minimum), and TTL 0 not at all.
my $nx = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    my $name = lc join '.', unpack '(C/a*)*', substr $query, 12, -5;
    $fake->send_to($name =~ /^zero/
        ? AETest::FakeDNS::answer_a($query, addrs => ['10.9.9.1'], ttl => 0)
        : AETest::FakeDNS::nxdomain_soa($query, 300, 60), $peer);
});
my $r = AnyEvent::DNS->new(server => [$nx->server], timeout => [1]);
my $cv0 = AE::cv;
$r->request({ rd => 1, qd => [['gone.test', 'a']] }, sub { $cv0->send(@_) });
my $res = $cv0->recv;
is_deeply [$res->{rc}, $res->{an}, $res->{ns}], ['nxdomain', [], [['gone.test', 'soa', 'in', 300, '', '', 1, 3600, 600, 86400, 60]]],
    'request: NXDOMAIN with the SOA record decoded (mname, rname, serial, refresh, retry, expire, minimum)';
is_deeply addrs($r, 'gone.test'), [], 'NXDOMAIN';
is_deeply addrs($r, 'gone.test'), [], 'NXDOMAIN again';
is scalar $nx->queries, 2, '... answered from the negative cache (request does not use the cache)';
addrs($r, 'zero.test') for 1 .. 2;
is scalar $nx->queries, 4, 'an answer with TTL 0 is not kept';
$r->cache(0);
addrs($r, 'gone.test');
is scalar $nx->queries, 5, 'cache(0) turns the cache off';

# Expiry: a one-second TTL.
my $short = AETest::Dnsmasq->start('--local-ttl=1', '--host-record=brief.test,10.1.1.2');
$r = AnyEvent::DNS->new(server => [$short->server], timeout => [0.3]);
is_deeply [map $_->[4], @{ addrs($r, 'brief.test') }], ['10.1.1.2'], 'a record with TTL 1';
$short->stop;
my $cv = AE::cv;
my $t = AE::timer 1.1, 0, sub { $cv->send };
$cv->recv;
is_deeply addrs($r, 'brief.test'), [], 'after its TTL it is gone from the cache';

done_testing;
