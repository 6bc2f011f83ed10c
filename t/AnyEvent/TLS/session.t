# session_ticket: our TLS server issues session tickets that openssl s_client can resume with,
# and issues none when session_ticket => 0.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use AETest qw(watchdog tempdir);
use AETest::TLS qw(make_pki s_client_verbose);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::TLS;

watchdog(60);
my $pki = make_pki();
my $dir = tempdir();

# A line-echo TLS server with one context (tickets are bound to the context's ticketer).
sub start_server {
    my (%ctx) = @_;
    my $tls = AnyEvent::TLS->new(cert_file => "$pki/server.pem", key_file => "$pki/server.key", %ctx);
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my %handles;
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        my $h; $h = AnyEvent::Handle->new(fh => $fh, tls => "accept", tls_ctx => $tls,
            on_error => sub { delete $handles{$h} }, on_eof => sub { delete $handles{$h} });
        $handles{$h} = $h;
        $h->push_read(line => sub { $_[0]->push_write("echo $_[1]\n"); $_[0]->push_shutdown });
    };
    return ($listen->sockport, [$listen, $accept, \%handles]);
}

for my $tls13 (1, 0) {
    my @args = ($tls13 ? "-tls1_3" : "-tls1_2", "-ign_eof");    # -ign_eof: stay for the answer
    my $name = $tls13 ? "TLS 1.3" : "TLS 1.2";

    my ($port, $keep) = start_server();
    my $file = "$dir/session-$tls13";
    my ($out) = s_client_verbose($port, "one\n", @args, -sess_out => $file)->recv;
    like $out, qr/^echo one/m, "$name: first connection served";
    like $out, qr/^New, /m, "$name: first connection is a full handshake";
    ($out) = s_client_verbose($port, "two\n", @args, -sess_in => $file)->recv;
    like $out, qr/^echo two/m, "$name: second connection served";
    like $out, qr/^Reused, /m, "$name: second connection resumes the session";
}

# TLS 1.2 shows the difference: with session_ticket on (the default) the server sends an RFC 5077
# ticket, with session_ticket => 0 it does not (resumption by session id still works).
for my $enabled (1, 0) {
    my ($port, $keep) = start_server($enabled ? () : (session_ticket => 0));
    my ($out) = s_client_verbose($port, "x\n", "-tls1_2", "-ign_eof")->recv;
    like $out, qr/^echo x/m, "session_ticket => $enabled: served";
    if ($enabled) {
        like $out, qr/TLS session ticket lifetime hint/, 'a session ticket was issued';
    } else {
        unlike $out, qr/TLS session ticket lifetime hint/, 'no session ticket was issued';
    }
}

done_testing;
