# The order in which a client sees the end of a reply: when the server sends a reply, more data
# and the end of the connection back to back, the data is delivered in the callback that reads
# it and the end of file on a later loop turn, for plain and TLS handles, whether the end is a
# TCP FIN (push_shutdown) or a TLS close_notify (stoptls). Code that registers on_read/on_eof
# after a condvar sent from the reply's callback returns (AnyEvent::WebSocket::Client does)
# still gets both, as with AnyEvent 7.17.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::TLS qw(make_pki);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket;

watchdog(60);
my $pki = make_pki();
my %server_ctx = (cert_file => "$pki/server.pem", key_file => "$pki/server.key");

sub run_case {
    my ($tls, $end) = @_;
    my $port_cv = AE::cv;
    my %conns;
    my $server = tcp_server "127.0.0.1", 0, sub {
        my ($fh) = @_;
        my $h = AnyEvent::Handle->new(fh => $fh, ($tls ? (tls => "accept", tls_ctx => \%server_ctx) : ()),
            on_error => sub { delete $conns{ $_[0] } }, on_eof => sub { delete $conns{ $_[0] } });
        $conns{$h} = $h;
        $h->push_read(line => sub {
            my ($h) = @_;
            $h->push_write("REPLY\n");               # the handshake reply
            $h->push_write("FRAME-DATA");            # one frame, back to back
            $end eq "close_notify" ? $h->stoptls : $h->push_shutdown;
        });
    }, sub { $port_cv->send($_[2]); 0 };
    my $port = $port_cv->recv;

    my $connected = AE::cv;
    my $client = AnyEvent::Handle->new(connect => ["127.0.0.1", $port], ($tls ? (tls => "connect") : ()),
        on_error => sub { $connected->send("error before the callbacks were set: $_[2]") });
    $client->push_write("HELLO\n");
    $client->push_read(line => sub { $connected->send("reply $_[1]") });
    is $connected->recv, "reply REPLY", "reply received";

    # only now, as after AnyEvent::WebSocket::Client's connect(...)->recv
    my $done = AE::cv;
    my $data = "";
    $client->on_read(sub { $data .= delete $_[0]{rbuf} });
    $client->on_eof(sub { $done->send("eof") });
    $client->on_error(sub { $done->send("error: $_[2]") });
    my $timeout = AE::timer 10, 0, sub { $done->send("timeout") };
    is $done->recv, "eof", "end of file reported to the callbacks set after recv";
    is $data, "FRAME-DATA", "the data that came with the reply arrived too";
}

for my $case (["plain", 0, "fin"], ["TLS", 1, "fin"], ["TLS", 1, "close_notify"]) {
    my ($name, $tls, $end) = @$case;
    subtest "$name, ended by $end" => sub { run_case($tls, $end) };
}

done_testing;
