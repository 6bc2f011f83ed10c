# tcp_connect, resolve_sockaddr and AnyEvent::Handle's connect with host names that are no
# domain names: the callback runs with nothing and $! = ENXIO, as with AnyEvent 7.17, also for a
# name decoded from a DNS answer and used inside the DNS callback. The program goes on.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Errno qw(ENXIO);
use AETest qw(watchdog recv_within tempdir);
use AETest::FakeDNS;
use AnyEvent;
use AnyEvent::DNS;
use AnyEvent::Handle;
use AnyEvent::Socket;

watchdog(30);

# No hosts file entries; a DNS server whose MX answer names "x..y.test" and that has an A record
# for everything else.
my $dir = tempdir();
open my $hosts, '>', "$dir/hosts" or die $!;
close $hosts;
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";
my $fake = AETest::FakeDNS->new(sub {
    my ($fake, $query, $peer) = @_;
    my $type = AETest::FakeDNS::query_type($query);
    my $answer = $type == 15 ? AETest::FakeDNS::answer_records($query, [15, pack('n', 10) . AETest::FakeDNS::wire_name('x.', 'y', 'test')])
               : $type == 1  ? AETest::FakeDNS::answer_a($query, addrs => ['127.0.0.1'])
               : AETest::FakeDNS::answer_a($query);    # no records (AAAA, SRV)
    $fake->send_to($answer, $peer);
});
$AnyEvent::DNS::RESOLVER = AnyEvent::DNS->new(server => [$fake->server], timeout => [2], cache => 0);

# Something to connect to once the names are valid.
my $port;
my $server = tcp_server '127.0.0.1', 0, sub { syswrite $_[0], "hello\n" }, sub { $port = $_[2]; 0 };

my %invalid = (
    'a label of 64 octets' => ('a' x 64) . '.example',
    'a name of 257 octets' => join('.', ('a' x 63) x 4),
    'an empty label'       => 'a..b.test',
    '130 labels'           => join('.', ('a') x 130),
    'undef'                => undef,
);

for my $what (sort keys %invalid) {
    my $host = $invalid{$what};

    my $cv = AE::cv;
    my $ok = eval { tcp_connect($host, $port, sub { $cv->send(scalar @_, $! + 0) }); 1 };
    ok $ok, "tcp_connect, $what: no croak" or diag $@;
    my ($args, $errno) = recv_within($cv, 5, 'tcp_connect callback');
    is $args, 0, "tcp_connect, $what: the callback runs without a handle";
    is $errno, ENXIO, "tcp_connect, $what: \$! is ENXIO";

    $cv = AE::cv;
    $ok = eval { AnyEvent::Socket::resolve_sockaddr($host, $port, 'tcp', 0, undef, sub { $cv->send(@_) }); 1 };
    ok $ok, "resolve_sockaddr, $what: no croak" or diag $@;
    is_deeply [recv_within($cv, 5, 'resolve_sockaddr callback')], [], "resolve_sockaddr, $what: no addresses";

    $cv = AE::cv;
    my $h = AnyEvent::Handle->new(
        connect          => [$host, $port],
        on_connect       => sub { $cv->send('connected') },
        on_connect_error => sub { $cv->send($_[1], $! + 0) },
    );
    my ($message, $handle_errno) = recv_within($cv, 5, 'on_connect_error');
    is $handle_errno, ENXIO, "AnyEvent::Handle connect, $what: on_connect_error with ENXIO";
    is $message, do { local $! = ENXIO; "$!" }, "AnyEvent::Handle connect, $what: ... and its message";

    $cv = AE::cv;
    $h = AnyEvent::Handle->new(connect => [$host, $port], on_error => sub { $cv->send($_[1], $! + 0) });
    my ($fatal, $error_errno) = recv_within($cv, 5, 'on_error');
    ok $fatal && $error_errno == ENXIO, "AnyEvent::Handle connect, $what: without on_connect_error, a fatal ENXIO through on_error";
}

# A name from the wire: the application connects to the MX host inside the DNS callback.
my $cv = AE::cv;
AnyEvent::DNS::mx('mail.test', sub {
    my ($exchange) = @_;
    tcp_connect($exchange, 25, sub { $cv->send($exchange, scalar @_, $! + 0) });
});
my ($exchange, $args, $errno) = recv_within($cv, 5, 'connect to the MX host');
is $exchange, 'x..y.test', 'the MX answer names x..y.test';
ok $args == 0 && $errno == ENXIO, 'connecting to it from the DNS callback: the callback with ENXIO, no croak';

# The program goes on: a valid name connects.
$cv = AE::cv;
tcp_connect('valid.test', $port, sub {
    my ($fh) = @_ or return $cv->send("connect failed: $!");
    my $w; $w = AE::io $fh, 0, sub { sysread $fh, my $line, 100; undef $w; $cv->send($line) };
});
is recv_within($cv, 5, 'a valid connect'), "hello\n", 'a valid name connects afterwards';

done_testing;
