# Names that are no domain names - from the caller, or decoded from an answer (a label with a
# dot in it) - end in the callback with no records, from the loop, as with AnyEvent 7.17: no
# croak, no query on the wire, and the resolver goes on working.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;

watchdog(20);

# MX and PTR answers name hosts whose first label holds a dot ("x..y.test" once decoded);
# every other question gets an A record.
my $fake = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    my $type = AETest::FakeDNS::query_type($query);
    my $answer = $type == 15 ? AETest::FakeDNS::answer_records($query, [15, pack('n', 10) . AETest::FakeDNS::wire_name('x.', 'y', 'test')])
               : $type == 12 ? AETest::FakeDNS::answer_records($query, [12, AETest::FakeDNS::wire_name('bad.', 'name', 'test')])
               : AETest::FakeDNS::answer_a($query, addrs => ['10.7.7.7']);
    $fake->send_to($answer, $peer);
});
my $r = $AnyEvent::DNS::RESOLVER = AnyEvent::DNS->new(server => [$fake->server], timeout => [2], cache => 0);

my %invalid = (
    'a label of 64 octets'      => ('a' x 64) . '.test',
    'a name of 257 octets'      => join('.', ('a' x 63) x 4),
    'an empty label'            => 'a..b.test',
    'a leading dot'             => '.test',
    '130 labels'                => join('.', ('a') x 130),
    'undef'                     => undef,
    'wide characters'           => "\x{263a}.test",
);
my %call = (
    resolve => sub { $r->resolve($_[0], 'a', $_[1]) },
    a       => sub { AnyEvent::DNS::a($_[0], $_[1]) },
    aaaa    => sub { AnyEvent::DNS::aaaa($_[0], $_[1]) },
    mx      => sub { AnyEvent::DNS::mx($_[0], $_[1]) },
    srv     => sub { AnyEvent::DNS::srv('sip', 'udp', $_[0], $_[1]) },
    request => sub { $r->request({ rd => 1, qd => [[$_[0], 'a']] }, $_[1]) },
);

for my $what (sort keys %invalid) {
    for my $func (sort keys %call) {
        next if $func eq 'request' && !defined $invalid{$what};    # (a question without a name asks for the root)
        my $cv = AE::cv;
        my $returned = 0;
        my $ok = eval { $call{$func}->($invalid{$what}, sub { $cv->send($returned, @_) }); 1 };
        $returned = 1;
        ok $ok, "$func, $what: no croak" or diag $@;
        my ($after_return, @got) = recv_within($cv, 5, "$func callback");
        ok $after_return, "$func, $what: the callback runs, after the call returned";
        is_deeply \@got, [], "$func, $what: with nothing";
    }
}
is scalar($fake->queries), 0, 'none of these names went on the wire';

my $cv = AE::cv;
AnyEvent::DNS::a('good.test', sub { $cv->send(@_) });
is_deeply [recv_within($cv, 5, 'a good name')], ['10.7.7.7'], 'a valid name still resolves afterwards';

# A name decoded from an answer: the application asks for its address inside the DNS callback.
$cv = AE::cv;
AnyEvent::DNS::mx('mail.test', sub {
    my @mx = @_;
    AnyEvent::DNS::a($mx[0], sub { $cv->send(\@mx, [@_]) });
});
my ($mx, $addresses) = recv_within($cv, 5, 'mx, then a');
is_deeply $mx, ['x..y.test'], 'an MX exchange with a dotted label decodes as AnyEvent 7.17 decodes it';
is_deeply $addresses, [], '... and looking it up gives nothing instead of dying in the callback';

# reverse_verify looks up the names a PTR answer gives.
$cv = AE::cv;
AnyEvent::DNS::reverse_verify('10.7.7.7', sub { $cv->send(@_) });
is_deeply [recv_within($cv, 5, 'reverse_verify')], [], 'reverse_verify with a PTR name that is no domain name: nothing verified';

# dns_pack itself only encodes: a name it cannot encode is the caller's error.
ok !eval { AnyEvent::DNS::dns_pack({ qd => [[('x' x 64) . '.test', 'a']] }); 1 }, 'dns_pack croaks for a name it cannot encode';
like $@, qr/dns_pack: invalid domain name .*label of 64 bytes/, '... saying why';

done_testing;
