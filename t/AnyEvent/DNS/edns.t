# EDNS0: queries advertise a 1232-byte payload (edns0 => N to change, 0 to send plain queries);
# a server that answers FORMERR to the OPT record is asked again without it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;

watchdog(20);

# The OPT record's payload size in a query (undef without one).
sub edns_payload {
    my ($query) = @_;
    return undef unless (unpack 'n6', $query)[5];
    my (undef, $question) = AETest::FakeDNS::parse_query($query);
    my ($root, $type, $payload) = unpack 'C n n', substr $query, 12 + length $question;
    $type == 41 ? $payload : undef;
}

# Knows no EDNS: FORMERR for queries with an OPT record.
my $old = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    $fake->send_to(defined edns_payload($query)
        ? AETest::FakeDNS::answer_a($query, rcode => 1)
        : AETest::FakeDNS::answer_a($query, addrs => ['10.9.9.6']), $peer);
});

sub addrs {
    my ($r, $name) = @_;
    my $cv = AE::cv;
    $r->resolve($name, 'a', sub { $cv->send(map $_->[4], @_) });
    [$cv->recv];
}

my $r = AnyEvent::DNS->new(server => [$old->server], timeout => [2]);
is_deeply addrs($r, 'old.test'), ['10.9.9.6'], 'FORMERR to EDNS0: asked again without, and answered';
my @q = $old->queries;
is scalar @q, 2, 'two queries';
is edns_payload($q[0][0]), 1232, 'the first advertised 1232 bytes';
is edns_payload($q[1][0]), undef, 'the second had no OPT record';
is unpack('n', $q[0][0]), unpack('n', $q[1][0]), '... and the same id';

$r = AnyEvent::DNS->new(server => [$old->server], timeout => [2], edns0 => 0);
is_deeply addrs($r, 'plain.test'), ['10.9.9.6'], 'edns0 => 0';
is edns_payload(($old->queries)[-1][0]), undef, '... sends plain queries';

$r = AnyEvent::DNS->new(server => [$old->server], timeout => [2], edns0 => 4096);
addrs($r, 'big.test');
is edns_payload(($old->queries)[-2][0]), 4096, 'edns0 => 4096 advertises 4096 bytes';

done_testing;
