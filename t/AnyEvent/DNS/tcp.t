# Answers too large for a datagram come back truncated (TC bit) and are fetched again over TCP.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

my @strings = map { chr(ord('a') + $_) x 200 } 0 .. 7;   # 1.6 kB of TXT: over the 1232-byte payload
my $dns = AETest::Dnsmasq->start(
    '--txt-record=big.test,' . join(',', @strings),
    '--txt-record=small.test,tiny',
    map("--host-record=many.test,10.2.0.$_", 1 .. 60),   # 60 A records: over 512 bytes
);

sub resolve_with {
    my ($r, @q) = @_;
    my $cv = AE::cv;
    $r->resolve(@q, sub { $cv->send(@_) });
    [$cv->recv];
}

my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);
is_deeply resolve_with($r, 'small.test', 'txt'), [['small.test', 'txt', 'in', 0, 'tiny']], 'a small answer';
is $r->stats->{tcp}, 0, '... comes over UDP';

is_deeply resolve_with($r, 'big.test', 'txt'), [['big.test', 'txt', 'in', 0, @strings]], 'a 1.6 kB TXT record arrives whole';
is $r->stats->{tcp}, 1, '... fetched over TCP after a truncated UDP answer';

# Without EDNS0 the limit is 512 bytes.
my $plain = AnyEvent::DNS->new(server => [$dns->server], timeout => [2], edns0 => 0);
my $many = resolve_with($plain, 'many.test', 'a');
is_deeply [sort { $a <=> $b } map { (split /\./, $_->[4])[3] } @$many], [1 .. 60], 'all 60 A records arrive';
is $plain->stats->{tcp}, 1, '... over TCP (no EDNS0: 512-byte datagrams)';
my $with_edns = resolve_with($r, 'many.test', 'a');
is scalar @$with_edns, 60, 'with EDNS0 (1232 bytes) the same answer';
is $r->stats->{tcp}, 1, '... fits in a datagram';

# The low-level request takes the same path.
my $cv = AE::cv;
$plain->request({ rd => 1, qd => [['big.test', 'txt']] }, sub { $cv->send(@_) });
my $res = $cv->recv;
ok !$res->{tc}, 'request: the answer handed out is the complete one';
is_deeply [@{ $res->{an}[0] }[4 .. 11]], \@strings, '... with all strings';
is $plain->stats->{tcp}, 2, '... from TCP';
is $r->dropped + $plain->dropped, 0, 'nothing dropped';

done_testing;
