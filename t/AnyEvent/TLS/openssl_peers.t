# AnyEvent::Handle TLS against real OpenSSL peers: our client against `openssl s_server`, our
# server against `openssl s_client`, TLS 1.2 and 1.3, ALPN, verification by the peer.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use AETest qw(watchdog);
use AETest::TLS qw(make_pki start_s_server s_client);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);
my $pki = make_pki();

sub tcp_to {
    my ($port) = @_;
    IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp") or die "connect: $!";
}

for my $version (qw(1_2 1_3)) {
    subtest "our client, openssl s_server, TLS $version" => sub {
        my ($port) = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-tls$version",
            -alpn => "h2,echo", "-rev");
        my $cv = AE::cv;
        my $h = AnyEvent::Handle->new(
            fh => tcp_to($port), peername => "localhost", tls => "connect",
            tls_ctx => { verify => 1, verify_peername => "https", ca_file => "$pki/ca.pem", alpn => ["echo"] },
            on_error => sub { $cv->send("error: $_[2]") },
            on_starttls => sub { $_[0]{handshake} = $_[1] },
        );
        $h->push_write("hello tls\n");
        $h->push_read(line => sub { $cv->send($_[1]) });
        is $cv->recv, "slt olleh", 's_server answered (reversed line) through TLS';
        ok $h->{handshake}, 'on_starttls reported success';
        is $h->tls_version, "TLSv$version", "negotiated TLS $version";
        is $h->tls_alpn, "echo", 'ALPN protocol negotiated';
        ok length($h->tls_peer_certificate // "") > 100, 'peer certificate (DER) readable';
    };

    subtest "our server, openssl s_client, TLS $version" => sub {
        my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
        my $server;
        my $accept = AE::io $listen, 0, sub {
            my $fh = $listen->accept or return;
            $server = AnyEvent::Handle->new(
                fh => $fh, tls => "accept",
                tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key", alpn => ["echo"] },
                on_error => sub { diag "server error: $_[2]"; undef $server },
            );
            $server->push_read(line => sub {
                $_[0]->push_write(uc($_[1]) . " VIA " . $_[0]->tls_version . "\n");
                $_[0]->push_shutdown;
                $_[0]->on_eof(sub { undef $server });
            });
        };
        my ($out, $status) = s_client($listen->sockport, "ping\n", "-tls$version", -CAfile => "$pki/ca.pem",
            -verify_return_error => (), -verify_hostname => "localhost", -alpn => "echo")->recv;
        like $out, qr/^PING VIA TLSv\Q$version\E$/m, 's_client got our answer';
        is $status, 0, 's_client verified our certificate chain and host name';
    };
}

subtest 'SNI from peername' => sub {
    require MIME::Base64;
    my $der = sub {
        open my $fh, '<', $_[0] or die $!;
        my ($b64) = do { local $/; <$fh> } =~ /-----BEGIN CERTIFICATE-----(.*?)-----END/s;
        MIME::Base64::decode_base64($b64);
    };
    # s_server shows the second certificate to clients asking for "sni.test"
    my ($port) = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key",
        -servername => "sni.test", -cert2 => "$pki/rogue.pem", -key2 => "$pki/rogue.key", "-rev");
    for my $case ([undef, "server.pem"], ["sni.test", "rogue.pem"]) {
        my ($peername, $expect) = @$case;
        my $cv = AE::cv;
        my $h = AnyEvent::Handle->new(fh => tcp_to($port), peername => $peername, tls => "connect",
            on_error => sub { $cv->send("error: $_[2]") });
        $h->push_write("x\n");
        $h->push_read(line => sub { $cv->send($_[0]->tls_peer_certificate) });
        ok $cv->recv eq $der->("$pki/$expect"), "peername " . ($peername // "undef") . ": s_server chose $expect";
    }
};

subtest 'combined key+certificate file for the server' => sub {
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my $server;
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        $server = AnyEvent::Handle->new(fh => $fh, tls => "accept",
            tls_ctx => { cert_file => "$pki/server-combined.pem" },
            on_error => sub { undef $server });
        $server->push_read(line => sub { $_[0]->push_write("ok $_[1]\n"); $_[0]->push_shutdown });
    };
    my ($out) = s_client($listen->sockport, "combined\n", -CAfile => "$pki/ca.pem", "-verify_return_error")->recv;
    like $out, qr/^ok combined$/m, 'server works with one PEM file holding key and certificate';
};

done_testing;
