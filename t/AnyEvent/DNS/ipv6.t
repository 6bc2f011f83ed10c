# Servers on IPv6: a server given as "[::1]:PORT", and falling back from an IPv4 server that
# never answers to an IPv6 one.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;
use Socket qw(AF_INET6 SOCK_DGRAM inet_pton pack_sockaddr_in6 unpack_sockaddr_in);

watchdog(20);

socket my $probe, AF_INET6, SOCK_DGRAM, 0 or plan skip_all => "no IPv6 sockets: $!";
bind $probe, pack_sockaddr_in6(0, inet_pton(AF_INET6, '::1')) or plan skip_all => "no IPv6 loopback: $!";

my $dns = AETest::Dnsmasq->start({ listen => '::1' }, '--host-record=six.test,10.1.1.6,fd00::6');
like $dns->server, qr/^\[::1\]:\d+$/, 'dnsmasq on [::1]';

sub resolve_with {
    my ($r, @q) = @_;
    my $cv = AE::cv;
    $r->resolve(@q, sub { $cv->send(map $_->[4], @_) });
    [$cv->recv];
}

my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);
is_deeply resolve_with($r, 'six.test', 'a'), ['10.1.1.6'], 'A over IPv6';
is_deeply resolve_with($r, 'six.test', 'aaaa'), ['fd00::6'], 'AAAA over IPv6';
$r = AnyEvent::DNS->new(server => [['::1', $dns->port]], timeout => [2]);
is_deeply resolve_with($r, 'six.test', 'a'), ['10.1.1.6'], 'the server as [ip, port]';

my $dead = AETest::FakeDNS::udp_socket();
my $dead_port = (unpack_sockaddr_in(getsockname $dead))[0];
$r = AnyEvent::DNS->new(server => ["127.0.0.1:$dead_port", $dns->server], timeout => [0.2], cache => 0);
is_deeply resolve_with($r, 'six.test', 'a'), ['10.1.1.6'], 'a dead IPv4 server, then an IPv6 one that answers';
ok recv($dead, my $q, 4096, Socket::MSG_DONTWAIT()), '... the IPv4 server was asked first';
is $r->dropped, 0, 'nothing dropped';

done_testing;
