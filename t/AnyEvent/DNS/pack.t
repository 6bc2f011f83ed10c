# dns_pack / dns_unpack in AnyEvent's hash layout, and constructor arguments. No network.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest ();    # fails the run on warnings from lib/
use AnyEvent;
use AnyEvent::DNS;
use Socket qw(inet_aton inet_pton AF_INET6);

my $pkt = AnyEvent::DNS::dns_pack({ id => 10000, rd => 1, qd => [['host.domain.test', 'a'], ['other.test', 'mx', 'ch']] });
is_deeply [unpack 'n6', $pkt], [10000, 0x0100, 2, 0, 0, 0], 'header: id, rd, counts';

my $d = AnyEvent::DNS::dns_unpack($pkt);
is $d->{id}, 10000, 'unpack: id';
is $d->{__}, $pkt, '... the raw packet under __';
ok $d->{rd} && !$d->{qr} && !$d->{aa} && !$d->{tc} && !$d->{ra} && !$d->{ad} && !$d->{cd}, '... flags';
is $d->{op}, 'query', '... op';
is $d->{rc}, 'noerror', '... rc';
is_deeply $d->{qd}, [['host.domain.test', 'a', 'in'], ['other.test', 'mx', 'ch']], '... questions';
is_deeply [@$d{qw(an ns ar)}], [[], [], []], '... empty sections';

my $all = AnyEvent::DNS::dns_unpack(AnyEvent::DNS::dns_pack({
    id => 1, op => 'notify', rc => 'nxdomain', qr => 1, aa => 1, tc => 1, rd => 0, ra => 1, ad => 1, cd => 1,
    qd => [['x.test', 257]],
}));
is_deeply [@$all{qw(op rc qr aa tc rd ra ad cd)}], ['notify', 'nxdomain', 1, 1, 1, '', 1, 1, 1], 'every flag round-trips';
is_deeply $all->{qd}, [['x.test', 'caa', 'in']], 'numeric types come back by name';

{
    local $AnyEvent::DNS::EDNS0 = 1;
    my $e = AnyEvent::DNS::dns_pack({ id => 2, rd => 1, qd => [['x.test', 'a']] });
    is((unpack 'n6', $e)[5], 1, '$EDNS0: an OPT record in the additional section');
    like $e, qr/\x00\x00\x29\x10\x00/, '... advertising 4096 bytes';
}

ok !eval { AnyEvent::DNS::dns_pack({ qd => [['a..b', 'a']] }); 1 }, 'dns_pack: a bad name croaks';
like $@, qr/invalid domain name 'a\.\.b'/, '... naming it';
ok !eval { AnyEvent::DNS::dns_pack({ qd => [['x.test', 'a']], an => [['x.test', 'a', 'in', 1, '1.2.3.4']] }); 1 },
    'dns_pack: resource records are not encodable (as in AnyEvent)';
ok !eval { AnyEvent::DNS::dns_pack({ qd => [['x.test', 'bogus']] }); 1 }, 'dns_pack: unknown type croaks';
is AnyEvent::DNS::dns_unpack("\1\2\3"), undef, 'dns_unpack of garbage: undef';

# Servers: packed (port 53), "ip:port", [ip, port], text; nonsense croaks.
my $r = AnyEvent::DNS->new(server => [inet_aton('127.0.0.9'), '127.0.0.1:5353', ['::1', 5300], '10.0.0.1', inet_pton(AF_INET6, '::2')]);
isa_ok $r, 'AnyEvent::DNS';
is_deeply [map AnyEvent::DNS::_server_text($_), @{ $r->{server} }],
    ['127.0.0.9:53', '127.0.0.1:5353', '[::1]:5300', '10.0.0.1:53', '[::2]:53'], 'server forms';
is AnyEvent::DNS::_server_text(inet_aton('10.0.58.53')), '10.0.58.53:53', 'a packed address containing a colon byte';
ok !eval { AnyEvent::DNS->new(server => ['not-an-address']); 1 }, 'a bad server croaks';
like $@, qr/invalid server address 'not-an-address'/, '... naming it';
ok !eval { AnyEvent::DNS->new(server => ['127.0.0.1:99999']); 1 }, 'a bad port croaks';
ok !eval { AnyEvent::DNS->new(timeout => [-1]); 1 }, 'a negative timeout croaks';
like $@, qr/timeout/, '... naming the argument';
ok !eval { AnyEvent::DNS->new(server => '127.0.0.1'); 1 }, 'server must be an array reference';

my $dup = AnyEvent::DNS->new(server => ['127.0.0.1:53', '127.0.0.1:53'], search => ['a.test', '', 'a.test']);
is scalar @{ $dup->{server} }, 1, 'duplicate servers are merged';
is_deeply $dup->{search}, ['a.test'], 'duplicate and empty search entries are dropped';
$dup->timeout(1, 2);
is_deeply $dup->{timeout}, [1, 2], 'timeout(@seconds)';
$dup->max_outstanding(4);
is $dup->{max_outstanding}, 4, 'max_outstanding($n)';

# wait_for_slot: called at once while requests can be sent.
my $called;
$dup->wait_for_slot(sub { $called = shift });
is $called, $dup, 'wait_for_slot calls back with the resolver when a slot is free';

done_testing;
