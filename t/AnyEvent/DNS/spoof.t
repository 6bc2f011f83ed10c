# Answers are accepted only when id, question and source match the query: spoofed answers
# sent by a fake server (the test's own socket) are dropped and counted, never delivered.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;
use Socket qw(unpack_sockaddr_in);

watchdog(20);

my $other = AETest::FakeDNS::udp_socket();   # sends from the right address, wrong port
my $server = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    my ($id) = AETest::FakeDNS::parse_query($query);
    my @spoofs = (
        AETest::FakeDNS::answer_a($query, id => $id ^ 1, addrs => ['6.6.6.1']),
        AETest::FakeDNS::answer_a($query, question => AETest::FakeDNS::question('other.test', 1), addrs => ['6.6.6.2']),
        AETest::FakeDNS::answer_a($query, question => AETest::FakeDNS::question('victim.test', 28), addrs => ['6.6.6.3']),
        substr($query, 0, 7),   # too short to be a message
    );
    $fake->send_to($_, $peer) for @spoofs;
    send $other, AETest::FakeDNS::answer_a($query, addrs => ['6.6.6.4']), 0, $peer;
    # The real answer comes last: everything before it must have been rejected.
    $fake->send_to(AETest::FakeDNS::answer_a($query, addrs => ['10.9.9.9']), $peer);
});

my $r = AnyEvent::DNS->new(server => [$server->server], timeout => [3], cache => 0);
my $cv = AE::cv;
$r->resolve('VICTIM.test', 'a', sub { $cv->send(@_) });
is_deeply [$cv->recv], [['victim.test', 'a', 'in', 60, '10.9.9.9']], 'the matching answer is delivered';
is $r->dropped, 5, 'the wrong id, two wrong questions, a runt and the wrong source port were dropped and counted';

# The question is matched without regard to case (0x20 randomisation by servers is fine).
my $upper = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    $fake->send_to(AETest::FakeDNS::answer_a($query, question => AETest::FakeDNS::question('MiXeD.TeSt', 1), addrs => ['10.9.9.8']), $peer);
});
$r = AnyEvent::DNS->new(server => [$upper->server], timeout => [3], cache => 0);
$cv = AE::cv;
$r->resolve('mixed.test', 'a', sub { $cv->send(@_) });
is_deeply [map $_->[4], $cv->recv], ['10.9.9.8'], 'a question differing only in case matches';
is $r->dropped, 0, '... and nothing was dropped';

# Ids and source ports vary from query to query.
my $echo = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    $fake->send_to(AETest::FakeDNS::answer_a($query, addrs => ['10.9.9.7']), $peer);
});
$r = AnyEvent::DNS->new(server => [$echo->server], timeout => [3], cache => 0, max_outstanding => 1);
$cv = AE::cv;
for (1 .. 40) {
    $cv->begin;
    $r->resolve("q$_.test", 'a', sub { $cv->end });
}
$cv->recv;
my @queries = $echo->queries;
is scalar @queries, 40, 'all queries reached the server';
my %ids = map { (AETest::FakeDNS::parse_query($_->[0]))[0] => 1 } @queries;
my %ports = map { (unpack_sockaddr_in($_->[1]))[0] => 1 } @queries;
cmp_ok scalar keys %ids, '>', 30, 'query ids are random (' . scalar(keys %ids) . ' distinct of 40)';
cmp_ok scalar keys %ports, '>', 1, 'queries leave from several source ports (' . scalar(keys %ports) . ')';
ok !(grep { $_ < 1024 } keys %ports), 'source ports are unprivileged';

done_testing;
