# Certificate verification with a test CA made by the test: a good chain passes, a wrong host
# name and an untrusted chain fail with EPROTO, client certificates required and supplied,
# verify_cb and verify_peername callbacks, options that must croak.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Errno qw(EPROTO);
use AETest qw(watchdog);
use AETest::TLS qw(make_pki start_s_server s_client);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::TLS;

watchdog(60);
my $pki = make_pki();

my ($good_port)  = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-rev");
my ($rogue_port) = start_s_server(-cert => "$pki/rogue.pem",  -key => "$pki/rogue.key",  "-rev");
my ($mtls_port)  = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-rev",
    -Verify => 1, -CAfile => "$pki/ca.pem", "-verify_return_error");

# Connects with TLS and sends a line; returns "ok <answer>" or "error <errno> <message>".
sub try_client {
    my ($port, $peername, %ctx) = @_;
    my $fh = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp") or die $!;
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $fh, peername => $peername, tls => "connect", tls_ctx => \%ctx,
        on_error => sub { $cv->send("error " . ($! + 0) . " $_[2]") });
    $h->push_write("abc\n");
    $h->push_read(line => sub { $cv->send("ok $_[1]") });
    $cv->recv;
}

my %verify = (verify => 1, verify_peername => "https", ca_file => "$pki/ca.pem");

is try_client($good_port, "localhost", %verify), "ok cba", 'good chain and host name pass';
is try_client($good_port, "127.0.0.1", %verify), "ok cba", 'IP address peer name matches the IP SAN';

my $r = try_client($good_port, "wrong.test", %verify);
like $r, qr/^error ${\ EPROTO} .*(?i:name)/, "wrong host name fails with EPROTO ($r)";

is try_client($good_port, "wrong.test", verify => 1, ca_file => "$pki/ca.pem"), "ok cba",
    'without verify_peername the name is not checked (as AnyEvent)';

$r = try_client($rogue_port, "localhost", %verify);
like $r, qr/^error ${\ EPROTO} .*(?i:issuer|unknown)/, "untrusted chain fails with EPROTO ($r)";

$r = try_client($good_port, "localhost", %verify, ca_file => "$pki/other-ca.pem");
like $r, qr/^error ${\ EPROTO} /, 'a chain to a CA we do not trust fails';

is try_client($rogue_port, "localhost", verify => 0), "ok cba", 'verify off (the default) accepts any certificate';

{
    open my $fh, '<', "$pki/ca.pem" or die $!;
    my $pem = do { local $/; <$fh> };
    is try_client($good_port, "localhost", verify => 1, verify_peername => "http", ca_cert => $pem), "ok cba", 'ca_cert (PEM string)';
}

# Default trust: the system store (our test CA is not in it), PERL_ANYEVENT_CA_FILE.
like try_client($good_port, "localhost", verify => 1, verify_peername => "https"), qr/^error ${\ EPROTO} /,
    'the system store does not trust the test CA';
{
    local @AnyEvent::TLS::SYSTEM_CA_FILES = ("$pki/ca.pem");
    is try_client($good_port, "localhost", verify => 1, verify_peername => "https"), "ok cba",
        'without ca_* options the system CA file is loaded';
}
{
    local $ENV{PERL_ANYEVENT_CA_FILE} = "$pki/ca.pem";
    is try_client($good_port, "localhost", verify => 1, verify_peername => "https"), "ok cba", 'PERL_ANYEVENT_CA_FILE';
}
{
    my $dir = AETest::tempdir();
    system("cp", "$pki/ca.pem", "$dir/test-ca.pem") == 0 or die;
    is try_client($good_port, "localhost", verify => 1, verify_peername => "https", ca_path => $dir), "ok cba", 'ca_path';
}

# verify_cb has the last word, with the result so far.
my @cb_args;
is try_client($rogue_port, "localhost", %verify, verify_cb => sub { @cb_args = @_; 1 }), "ok cba",
    'verify_cb can accept an untrusted chain';
is $cb_args[4], 0, 'verify_cb saw preverify_ok = 0';
is $cb_args[2], "localhost", 'verify_cb got the peer name';
ok length $cb_args[6] > 100, 'verify_cb got the certificate (DER)';
$r = try_client($good_port, "localhost", %verify, verify_cb => sub { $_[4] && 0 });
like $r, qr/^error ${\ EPROTO} .*verif/i, 'verify_cb can reject a good chain';

my @name_args;
is try_client($good_port, "localhost", verify => 1, ca_file => "$pki/ca.pem",
    verify_peername => sub { @name_args = @_; $_[2] eq "localhost" }), "ok cba", 'verify_peername callback accepting';
is $name_args[2], "localhost", 'callback got the peer name';
like try_client($good_port, "localhost", verify => 1, ca_file => "$pki/ca.pem", verify_peername => sub { 0 }),
    qr/^error ${\ EPROTO} /, 'verify_peername callback rejecting';

# Client certificates: s_server requires one (-Verify).
like try_client($mtls_port, "localhost", %verify), qr/^error /, 'no client certificate: the server refuses';
is try_client($mtls_port, "localhost", %verify, cert_file => "$pki/client.pem", key_file => "$pki/client.key"),
    "ok cba", 'client certificate supplied and accepted';

# Our server requiring client certificates, against s_client.
subtest 'verify_require_client_cert on our server' => sub {
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my (@errors, %servers);
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        my $h; $h = AnyEvent::Handle->new(fh => $fh, tls => "accept",
            tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key", verify => 1,
                         verify_require_client_cert => 1, ca_file => "$pki/ca.pem" },
            on_error => sub { push @errors, [$! + 0, $_[2]]; delete $servers{$h} });
        $servers{$h} = $h;
        $h->push_read(line => sub { $_[0]->push_write("hi $_[1]\n"); $_[0]->push_shutdown; $_[0]->on_eof(sub { delete $servers{$h} }) });
    };
    my ($out) = s_client($listen->sockport, "anon\n", -CAfile => "$pki/ca.pem")->recv;
    unlike $out, qr/^hi anon/m, 'a client without certificate gets no answer';
    is $errors[0][0], EPROTO, 'and our server reports EPROTO';
    ($out) = s_client($listen->sockport, "known\n", -CAfile => "$pki/ca.pem", -cert => "$pki/client.pem", -key => "$pki/client.key")->recv;
    like $out, qr/^hi known$/m, 'a client with a certificate from our CA is served';
};

# verify_cb on our server: it sees the client's certificate and has the last word.
subtest 'verify_cb on our server (client certificates)' => sub {
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my (@errors, @cb_args, %servers);
    my $answer = 1;
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        my $h; $h = AnyEvent::Handle->new(fh => $fh, tls => "accept",
            tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key", verify => 1,
                         verify_require_client_cert => 1, ca_file => "$pki/ca.pem",
                         verify_cb => sub { push @cb_args, [@_]; $answer } },
            on_error => sub { push @errors, [$! + 0, $_[2]]; delete $servers{$h} });
        $servers{$h} = $h;
        $h->push_read(line => sub { $_[0]->push_write("hi $_[1]\n"); $_[0]->push_shutdown; $_[0]->on_eof(sub { delete $servers{$h} }) });
    };
    my @client = (-CAfile => "$pki/ca.pem", -cert => "$pki/client.pem", -key => "$pki/client.key");
    my ($out) = s_client($listen->sockport, "known\n", @client)->recv;
    like $out, qr/^hi known$/m, 'a trusted client certificate is served when verify_cb agrees';
    is scalar @cb_args, 1, 'verify_cb was called once';
    is $cb_args[0][4], 1, 'with preverify_ok = 1';
    ok length($cb_args[0][6] // "") > 100, 'and the client certificate (DER)';

    $answer = 0;
    ($out) = s_client($listen->sockport, "refused\n", @client)->recv;
    unlike $out, qr/^hi refused/m, 'verify_cb can reject a trusted client certificate';
    is $errors[-1][0], EPROTO, 'our server reports EPROTO';

    $answer = 1;
    @cb_args = ();
    ($out) = s_client($listen->sockport, "rogue\n", -CAfile => "$pki/ca.pem", -cert => "$pki/rogue.pem", -key => "$pki/rogue.key")->recv;
    like $out, qr/^hi rogue$/m, 'verify_cb can accept a client certificate our CA did not issue';
    is $cb_args[0][4], 0, 'verify_cb saw preverify_ok = 0';
};

subtest 'options' => sub {
    eval { AnyEvent::TLS->new(check_crl => 1) };
    like $@, qr/check_crl is not supported/, 'check_crl croaks rather than not checking';
    eval { AnyEvent::TLS->new(method => "SSLv3") };
    like $@, qr/method 'SSLv3' is not supported/, 'old protocols croak';
    eval { AnyEvent::TLS->new(cert_file => "$pki/server.pem", key_file => "$pki/encrypted.key", cert_password => "secret") };
    like $@, qr/encrypted.*cert_password/s, 'an encrypted key croaks clearly';
    eval { AnyEvent::TLS->new(cert_file => "$pki/nonexistent.pem") };
    like $@, qr/cannot read cert_file/, 'a missing file croaks';
    my $prepared;
    AnyEvent::TLS->new(prepare => sub { $prepared = ref $_[0] });
    is $prepared, "AnyEvent::TLS", 'prepare is called with the context';
    eval { AnyEvent::TLS->new(alpn => "h2") };
    like $@, qr/alpn must be an array reference/, 'alpn must be a list';
    my $tls = eval { AnyEvent::TLS->new(cipher_list => "HIGH", dh => "schmorp2048", method => "TLSv1_2") };
    ok $tls, 'ignored options (cipher_list, dh) are accepted' or diag $@;

    my $cv = AE::cv;
    my $fh = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $good_port, Proto => "tcp") or die $!;
    my $h = AnyEvent::Handle->new(fh => $fh, tls => "connect", tls_ctx => { method => "TLSv1_3" }, peername => "localhost",
        on_error => sub { $cv->send("error $_[2]") });
    $h->push_write("x\n");
    $h->push_read(line => sub { $cv->send($_[0]->tls_version) });
    is $cv->recv, "TLSv1_3", 'method TLSv1_3 negotiates TLS 1.3';
};

done_testing;
