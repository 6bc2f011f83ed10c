# The resolver is a source of the event loop: a request in flight keeps the loop active (an
# embedding loop such as EV::run keeps running for it) and its timeout counts in the loop's
# next timeout; the callback comes from the loop, never from inside the call; once nothing is
# in flight the resolver's idle sockets keep nothing running.
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

watchdog(30);

my $dns = AETest::Dnsmasq->start('--local-ttl=60', '--host-record=loop.test,10.4.4.4');
my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [3], cache => 0);
ok !AnyEvent::Impl::Rust::is_active(), 'a resolver with nothing in flight: the loop is not active';

my $cv = AE::cv;
my ($inside, $called_inside) = (1);
$r->resolve('loop.test', 'a', sub { $called_inside = $inside; $cv->send(map $_->[4], @_) });
$inside = 0;
ok AnyEvent::Impl::Rust::is_active(), 'a request in flight keeps it active';
my $t = AnyEvent::Impl::Rust::next_timeout();
ok defined $t && $t > 0 && $t <= 3, "the request's timeout counts in next_timeout ($t)";
is_deeply [$cv->recv], ['10.4.4.4'], 'the answer';
ok !$called_inside, '... delivered from the loop, not inside resolve';
ok !AnyEvent::Impl::Rust::is_active(), 'done: the loop is not active (the pooled sockets do not count)';
is AnyEvent::Impl::Rust::next_timeout(), undef, '... and has no deadline';

# An answer from the cache, or a request that cannot be made, is no different.
$r->cache(1);
$cv = AE::cv;
$r->resolve('loop.test', 'a', sub { $cv->send });
$cv->recv;
$cv = AE::cv;
$cv->begin for 1 .. 3;
$inside = 1;
my @inside;
$r->resolve('loop.test', 'a', sub { push @inside, $inside; $cv->end });    # from the cache
$r->request({ rd => 1, qd => [['bad..name', 'a']] }, sub { push @inside, $inside; $cv->end });
$r->resolve('bad..name', 'a', sub { push @inside, $inside; $cv->end });
$inside = 0;
is AnyEvent::Impl::Rust::next_timeout(), 0, 'a request that finished at once: the loop has work now';
$cv->recv;
is_deeply \@inside, [0, 0, 0], '... which it does from the loop';
is $r->stats->{cached}, 1, '(the first one came from the cache)';

# A timeout alone wakes the loop: the request ends with nothing after it.
my $dead = AETest::FakeDNS::udp_socket();
my $silent = AnyEvent::DNS->new(server => ['127.0.0.1:' . (unpack_sockaddr_in(getsockname $dead))[0]], timeout => [0.2]);
$cv = AE::cv;
$silent->resolve('nobody.test.', 'a', sub { $cv->send(scalar @_) });
is $cv->recv, 0, 'no answer: the timeout, kept by the loop, ends the request';

done_testing;
