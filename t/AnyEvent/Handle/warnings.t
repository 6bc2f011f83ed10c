# No warnings from our modules where AnyEvent 7.17 prints none, under `use warnings`: what
# CPAN modules do with handles (AnyEvent::HTTP deletes {rbuf} in on_read) and TLS contexts
# made from a PEM text holding both key and certificate. (AETest also fails any test whose run
# printed a warning from lib/.)
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog sockets);
use AETest::TLS qw(make_pki);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::TLS;

watchdog(60);
my $pki = make_pki();
my @warnings;
$SIG{__WARN__} = sub { push @warnings, @_ };

for my $tls (0, 1) {
    subtest(($tls ? "TLS" : "plain") . ": on_read deleting {rbuf}, as AnyEvent::HTTP does" => sub {
        @warnings = ();
        my ($x, $y) = sockets();
        my $cv = AE::cv;
        my @server_tls = $tls ? (tls => "accept", tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key" }) : ();
        my $server = AnyEvent::Handle->new(fh => $x, @server_tls, on_error => sub { $cv->send("server error: $_[2]") });
        $server->push_write("chunk $_\n") for 1 .. 50;
        $server->push_shutdown;
        my $body = "";
        my $client = AnyEvent::Handle->new(fh => $y, ($tls ? (tls => "connect") : ()),
            on_error => sub { $cv->send("client error: $_[2]") },
            on_eof   => sub { $cv->send($body) });
        $client->on_read(sub { $body .= delete $_[0]{rbuf} });
        is $cv->recv, join("", map "chunk $_\n", 1 .. 50), "the whole body arrived";
        is_deeply \@warnings, [], "no warnings";
    });
}

subtest 'push_read after {rbuf} was deleted' => sub {
    @warnings = ();
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, rbuf_max => 100, on_error => sub { $cv->send("error: $_[2]") });
    delete $h->{rbuf};
    $h->push_read(line => sub { $cv->send($_[1]) });
    syswrite $y, "a line\n";
    is $cv->recv, "a line", "read served";
    is_deeply \@warnings, [], "no warnings";
};

subtest 'on_drain writing the next chunk (as Twiggy streams a body): no deep-recursion warning' => sub {
    @warnings = ();
    my ($x, $y) = sockets();
    my @chunks = map "chunk $_\n", 1 .. 300;
    my $expect = join "", @chunks;
    my $cv = AE::cv;
    my $got = "";
    my $reader = AnyEvent::Handle->new(fh => $y, on_error => sub { $cv->send("reader error: $_[2]") },
        on_read => sub { $got .= delete $_[0]{rbuf} }, on_eof => sub { $cv->send($got) });
    my $writer = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send("writer error: $_[2]") });
    $writer->on_drain(sub {
        if (defined(my $chunk = shift @chunks)) { $_[0]->push_write($chunk) }
        else { $_[0]->on_drain(sub { shutdown $_[0]->fh, 1 }) }
    });
    is $cv->recv, $expect, "all chunks arrived";
    is_deeply \@warnings, [], "no warnings";
};

subtest 'AnyEvent::TLS->new(cert => PEM text with key and certificate)' => sub {
    @warnings = ();
    my $pem = do { local $/; open my $fh, '<', "$pki/server-combined.pem" or die $!; <$fh> };
    ok eval { AnyEvent::TLS->new(cert => $pem) }, "context made" or diag $@;
    is_deeply \@warnings, [], "no warnings";
};

done_testing;
