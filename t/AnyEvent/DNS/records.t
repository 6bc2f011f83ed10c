# Record types and AnyEvent's data layout, against a real dnsmasq.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

my $dns = AETest::Dnsmasq->start(
    '--local-ttl=30',
    '--host-record=www.test,10.1.1.1,fd00::1',
    '--host-record=two.test,10.1.1.2',
    '--host-record=two.test,10.1.1.3',
    '--cname=alias.test,hop.test', '--cname=hop.test,www.test',
    '--mx-host=mail.test,mx-b.test,20', '--mx-host=mail.test,mx-a.test,10',
    '--srv-host=_sip._udp.test,sip-low.test,5060,10,0',
    '--srv-host=_sip._udp.test,sip-high.test,5061,20,0',
    '--txt-record=text.test,first,second',
    '--ptr-record=1.1.1.10.in-addr.arpa,www.test',
    '--ptr-record=1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa,www.test',
);

# The convenience functions use the shared resolver: point it at our dnsmasq.
$AnyEvent::DNS::RESOLVER = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);
my $r = $AnyEvent::DNS::RESOLVER;

sub got { my ($start) = @_; my $cv = AE::cv; $start->(sub { $cv->send(@_) }); [$cv->recv] }

is_deeply got(sub { $r->resolve('www.test', 'a', $_[0]) }), [['www.test', 'a', 'in', 30, '10.1.1.1']],
    'resolve a: [name, type, class, ttl, address]';
is_deeply got(sub { $r->resolve('WWW.Test', 'aaaa', $_[0]) }), [['www.test', 'aaaa', 'in', 30, 'fd00::1']],
    'resolve aaaa: compressed IPv6 text; the name is asked in lower case, as AnyEvent does';
is_deeply [sort @{ got(sub { AnyEvent::DNS::a('two.test', $_[0]) }) }], ['10.1.1.2', '10.1.1.3'], 'a: all addresses';
is_deeply got(sub { AnyEvent::DNS::aaaa('www.test', $_[0]) }), ['fd00::1'], 'aaaa';

is_deeply got(sub { $r->resolve('alias.test', 'a', $_[0]) }), [['www.test', 'a', 'in', 30, '10.1.1.1']],
    'a CNAME chain is followed to the address';
is_deeply got(sub { $r->resolve('alias.test', 'cname', $_[0]) }), [['alias.test', 'cname', 'in', 30, 'hop.test']],
    'asking for the CNAME itself returns it';
is_deeply got(sub { $r->resolve('alias.test', 'a', accept => ['cname'], $_[0]) }),
    [['alias.test', 'cname', 'in', 30, 'hop.test']], 'accept => [cname] stops at the CNAME';

is_deeply got(sub { AnyEvent::DNS::mx('mail.test', $_[0]) }), ['mx-a.test', 'mx-b.test'], 'mx: sorted by preference';
is_deeply [sort { $a->[4] <=> $b->[4] } @{ got(sub { $r->resolve('mail.test', 'mx', $_[0]) }) }],
    [['mail.test', 'mx', 'in', 30, 10, 'mx-a.test'], ['mail.test', 'mx', 'in', 30, 20, 'mx-b.test']], 'mx records';

is_deeply got(sub { AnyEvent::DNS::srv('sip', 'udp', 'test', $_[0]) }),
    [[10, 0, 5060, 'sip-low.test'], [20, 0, 5061, 'sip-high.test']], 'srv: [priority, weight, port, target] by priority';

is_deeply got(sub { $r->resolve('text.test', 'txt', $_[0]) }), [['text.test', 'txt', 'in', 30, 'first', 'second']],
    'txt record: all strings';
is_deeply got(sub { AnyEvent::DNS::txt('text.test', $_[0]) }), ['first'], 'txt: the first string per record';

is_deeply got(sub { AnyEvent::DNS::ptr('1.1.1.10.in-addr.arpa', $_[0]) }), ['www.test'], 'ptr';
is_deeply got(sub { AnyEvent::DNS::reverse_lookup('10.1.1.1', $_[0]) }), ['www.test'], 'reverse_lookup IPv4';
is_deeply got(sub { AnyEvent::DNS::reverse_lookup('fd00::1', $_[0]) }), ['www.test'], 'reverse_lookup IPv6';
is_deeply got(sub { AnyEvent::DNS::reverse_lookup('::ffff:10.1.1.1', $_[0]) }), ['www.test'], 'reverse_lookup v4-mapped';
is_deeply got(sub { AnyEvent::DNS::reverse_verify('10.1.1.1', $_[0]) }), ['www.test'], 'reverse_verify: forward matches';
is_deeply got(sub { AnyEvent::DNS::reverse_lookup('not an ip', $_[0]) }), [], 'reverse_lookup of a non-address: nothing';

my $any = got(sub { AnyEvent::DNS::any('www.test', $_[0]) });
ok((grep { $_->[1] eq 'a' && $_->[4] eq '10.1.1.1' } @$any), 'any: includes the A record') or diag explain $any;
is_deeply [sort map $_->[1], @{ got(sub { $r->resolve('www.test', '*', accept => ['a', 'aaaa'], $_[0]) }) }], ['a', 'aaaa'],
    'accept filters the types of an ANY answer';

is_deeply got(sub { $r->resolve('www.test', 1, $_[0]) }), [['www.test', 'a', 'in', 30, '10.1.1.1']], 'numeric query type';
is_deeply got(sub { $r->resolve('www.test', 'a', class => 'in', $_[0]) }), [['www.test', 'a', 'in', 30, '10.1.1.1']],
    'class option';

is_deeply got(sub { $r->resolve('missing.test', 'a', $_[0]) }), [], 'NXDOMAIN: empty list';
is_deeply got(sub { $r->resolve('two.test', 'aaaa', $_[0]) }), [], 'no records of the type: empty list';
is_deeply got(sub { AnyEvent::DNS::a('missing.test', $_[0]) }), [], 'a on NXDOMAIN: empty list';

# The low-level request: a decoded packet in dns_unpack's layout.
my ($res) = @{ got(sub { $r->request({ rd => 1, qd => [['www.test', 'a']] }, $_[0]) }) };
is $res->{rc}, 'noerror', 'request: rc';
ok $res->{qr} && $res->{rd} && !$res->{tc}, 'request: flags';
is_deeply $res->{qd}, [['www.test', 'a', 'in']], 'request: question section';
is_deeply $res->{an}, [['www.test', 'a', 'in', 30, '10.1.1.1']], 'request: answer section';
is_deeply AnyEvent::DNS::dns_unpack($res->{__}), $res, 'dns_unpack of the raw packet gives the same hash';
($res) = @{ got(sub { $r->request({ rd => 1, qd => [['missing.test', 'a']] }, $_[0]) }) };
is $res->{rc}, 'nxdomain', 'request: NXDOMAIN rc';

# Programmer errors croak at the call (invalid names call back with nothing: invalid_names.t).
ok !eval { $r->resolve('www.test', 'nosuchtype', sub { }); 1 }, 'unknown type croaks';
like $@, qr/unknown record type 'nosuchtype'/, '... naming it';
ok !eval { $r->resolve('www.test', 'a'); 1 }, 'a missing callback croaks';
like $@, qr/callback/, '... saying so';

is $r->dropped, 0, 'nothing was dropped';
done_testing;
