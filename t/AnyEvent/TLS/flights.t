# How our handles put bytes on the wire: every TLS flight (a handshake step, the client's
# Finished with the request queued meanwhile) leaves in one write, and what the callbacks of
# one read answer with goes out in one write too. A relay counts the writes: the handle under
# test writes into a SOCK_SEQPACKET socket, where each write(2) stays one packet, and the relay
# forwards to the peer over a stream socket. Also: on_starttls reports success only once our
# last handshake flight is written.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket qw(AF_UNIX SOCK_STREAM SOCK_SEQPACKET PF_UNSPEC);
use AETest qw(watchdog sockets);
use AETest::TLS qw(make_pki);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);
my $pki = make_pki();
my %server_ctx = (cert_file => "$pki/server.pem", key_file => "$pki/server.key");

# Returns ($near, $far, $log): the handle under test uses $near, its peer $far. $log lists
# the traffic in order: "n" for each packet $near wrote, "f" for each chunk from $far.
sub counting_relay {
    socketpair(my $near, my $relay_near, AF_UNIX, SOCK_SEQPACKET, PF_UNSPEC) or die "socketpair: $!";
    socketpair(my $relay_far, my $far, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    my @log;
    my ($w1, $w2);
    $w1 = AE::io $relay_near, 0, sub {
        my $n = sysread $relay_near, my $buf, 1 << 20;
        unless ($n) { shutdown $relay_far, 1; undef $w1; return }
        push @log, "n";
        syswrite $relay_far, $buf;
    };
    $w2 = AE::io $relay_far, 0, sub {
        my $n = sysread $relay_far, my $buf, 65536;
        unless ($n) { shutdown $relay_near, 1; undef $w2; return }
        push @log, "f";
        # packets small enough for any read of the handle under test (nothing is truncated)
        syswrite $relay_near, substr($buf, 0, 1024, "") while length $buf;
    };
    return ($near, $far, \@log, [\$w1, \$w2]);
}

# "n n f f n" -> [2, 1]: how many writes each turn of the handle under test took.
sub writes_per_turn {
    my ($log) = @_;
    my $seq = join "", @$log;
    [map length, $seq =~ /(n+)/g];
}

for my $version (qw(TLSv1_2 TLSv1_3)) {
    subtest "$version client: each flight one write, the request rides with Finished" => sub {
        my ($near, $far, $log, $keep) = counting_relay();
        my $cv = AE::cv;
        my $server = AnyEvent::Handle->new(fh => $far, tls => "accept", tls_ctx => { %server_ctx, method => $version },
            on_error => sub { $cv->send("server error: $_[2]") });
        $server->push_read(line => sub { $_[0]->push_write("answer to $_[1]\n") });
        my $client = AnyEvent::Handle->new(fh => $near, tls => "connect", tls_ctx => { method => $version },
            on_error => sub { $cv->send("client error: $_[2]") });
        $client->push_write("request\n");
        $client->push_read(line => sub { $cv->send($_[1]) });
        is $cv->recv, "answer to request", 'request answered';
        if ($version eq "TLSv1_3") {
            is_deeply writes_per_turn($log), [1, 1], 'ClientHello in one write; Finished and the request in one write';
        } else {    # TLS 1.2: the request has to wait for the server's Finished
            is_deeply writes_per_turn($log), [1, 1, 1], 'ClientHello, key exchange with Finished, the request: one write each';
        }
    };

    subtest "$version server: its handshake flight is one write" => sub {
        my ($near, $far, $log, $keep) = counting_relay();
        my $cv = AE::cv;
        my $server = AnyEvent::Handle->new(fh => $near, tls => "accept", tls_ctx => { %server_ctx, method => $version },
            on_error => sub { $cv->send("server error: $_[2]") });
        $server->push_read(line => sub { $_[0]->push_write("answer to $_[1]\n") });
        my $client = AnyEvent::Handle->new(fh => $far, tls => "connect", tls_ctx => { method => $version },
            on_error => sub { $cv->send("client error: $_[2]") });
        $client->push_write("request\n");
        $client->push_read(line => sub { $cv->send($_[1]) });
        is $cv->recv, "answer to request", 'request answered';
        my $turns = writes_per_turn($log);
        is $turns->[0], 1, 'ServerHello ... (Finished) in one write';
        ok !grep($_ != 1, @$turns), "every turn one write (@$turns)";
    };
}

subtest 'plain: the answers to one read go out in one write' => sub {
    my ($near, $far, $log, $keep) = counting_relay();
    my $cv = AE::cv;
    my $server = AnyEvent::Handle->new(fh => $near, on_error => sub { $cv->send("server error: $_[2]") });
    my $reader; $reader = sub { $_[0]->push_write("echo $_[1]\n"); $_[0]->push_read(line => $reader) };
    $server->push_read(line => $reader);
    my @got;
    my $client = AnyEvent::Handle->new(fh => $far, on_error => sub { $cv->send("client error: $_[2]") });
    $client->push_write(join "", map "line $_\n", 1 .. 20);    # one write: one read on the server
    my $collect; $collect = sub { push @got, $_[1]; @got == 20 ? $cv->send : $_[0]->push_read(line => $collect) };
    $client->push_read(line => $collect);
    $cv->recv;
    is_deeply \@got, [map "echo line $_", 1 .. 20], 'all 20 answers, in order';
    is_deeply writes_per_turn($log), [1], '20 answers in one write';
};

subtest 'on_starttls reports success only once our last flight is written' => sub {
    # The client closes the connection (no linger) in on_starttls: if its Finished were still
    # queued, the server would see the connection close during the handshake.
    for my $version (qw(TLSv1_2 TLSv1_3)) {
        my $fails = 0;
        for (1 .. 20) {
            my ($x, $y) = sockets();
            my $cv = AE::cv;
            my $server = AnyEvent::Handle->new(fh => $x, tls => "accept", tls_ctx => { %server_ctx, method => $version },
                on_starttls => sub { $cv->send($_[1] ? "ok" : "server failed: $_[2]") },
                on_error => sub { $cv->send("server error: $_[2]") });
            my $client; $client = AnyEvent::Handle->new(fh => $y, tls => "connect", linger => 0, tls_ctx => { method => $version },
                on_starttls => sub { $client->destroy; undef $client },
                on_error => sub { $cv->send("client error: $_[2]") });
            my $result = $cv->recv;
            $fails++, diag $result unless $result eq "ok";
        }
        is $fails, 0, "$version: the server completed all 20 handshakes";
    }
};

done_testing;
