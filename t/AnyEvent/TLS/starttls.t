# TLS started mid-stream: SMTP STARTTLS against `openssl s_client -starttls smtp`, starttls and
# stoptls between two handles, tls_autostart.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use IO::Socket::INET;
use AETest qw(watchdog);
use AETest::TLS qw(make_pki s_client);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);
my $pki = make_pki();
my %server_ctx = (cert_file => "$pki/server.pem", key_file => "$pki/server.key");

subtest 'SMTP STARTTLS with openssl s_client' => sub {
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my ($server, @log);
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        $server = AnyEvent::Handle->new(fh => $fh, on_error => sub { push @log, "error: $_[2]"; undef $server });
        $server->push_write("220 test.invalid ESMTP\r\n");
        my $command; $command = sub {
            my ($h, $line) = @_;
            push @log, ($h->{_tls} ? "tls:" : "plain:") . $line;
            if ($line =~ /^EHLO/i) {
                $h->push_write("250-test.invalid\r\n250 STARTTLS\r\n");
            } elsif ($line =~ /^STARTTLS/i) {
                $h->push_write("220 go ahead\r\n");
                $h->starttls("accept", \%server_ctx);
            } else {
                $h->push_write("250 got $line\r\n");
                $h->push_shutdown;
                $h->on_eof(sub { undef $server });
                return;
            }
            $h->push_read(line => $command);
        };
        $server->push_read(line => $command);
    };
    my ($out, $status) = s_client($listen->sockport, "MAIL FROM:<a\@b>\r\n", -starttls => "smtp",
        -CAfile => "$pki/ca.pem", "-verify_return_error", -verify_hostname => "localhost")->recv;
    like $out, qr/^250 got MAIL FROM:<a\@b>/m, 'answer received through TLS';
    is $status, 0, 's_client verified the certificate after STARTTLS';
    is_deeply [map { s/ .*//r } @log], ["plain:EHLO", "plain:STARTTLS", "tls:MAIL"], 'commands before and after STARTTLS';
};

subtest 'starttls and stoptls between two handles' => sub {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my @events;
    my $cv = AE::cv;
    my $server = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send("server error: $_[2]") },
        on_stoptls => sub {
            push @events, "server saw stoptls";
            $_[0]->push_write("plain again\n");    # the client has left TLS: plaintext from here
        });
    my $client = AnyEvent::Handle->new(fh => $y, peername => "localhost", on_error => sub { $cv->send("client error: $_[2]") },
        on_starttls => sub { push @events, "client handshake $_[1]" });

    $server->push_read(line => sub {
        push @events, "server plain: $_[1]";
        $_[0]->starttls("accept", \%server_ctx);
        $_[0]->push_read(line => sub {
            push @events, "server tls: $_[1] (" . ($_[0]{_tls} ? "encrypted" : "plain") . ")";
            $_[0]->push_write("secret reply\n");
        });
    });
    $client->push_write("hello\n");
    $client->starttls("connect", { verify => 1, ca_file => "$pki/ca.pem", verify_peername => "https" });
    $client->push_write("over tls\n");
    $client->push_read(line => sub {
        push @events, "client tls: $_[1]";
        $_[0]->stoptls;
        $_[0]->push_read(line => sub { push @events, "client plain again: $_[1] (" . ($_[0]{_tls} ? "encrypted" : "plain") . ")"; $cv->send("done") });
    });
    is $cv->recv, "done", 'conversation completed';
    is_deeply \@events, ["server plain: hello", "client handshake 1", "server tls: over tls (encrypted)",
        "client tls: secret reply", "server saw stoptls", "client plain again: plain again (plain)"], 'events in order';
};

subtest 'tls_autostart: TLS and plain clients on one server' => sub {
    my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
    my %servers;
    my $accept = AE::io $listen, 0, sub {
        my $fh = $listen->accept or return;
        my $h; $h = AnyEvent::Handle->new(fh => $fh, tls_ctx => \%server_ctx, on_error => sub { delete $servers{$h} });
        $servers{$h} = $h;
        $h->push_read(tls_autostart => "accept");
        $h->push_read(line => sub {
            $_[0]->push_write(($_[0]{_tls} ? "encrypted" : "cleartext") . " <$_[1]>\n");
        });
    };
    for my $tls (0, 1) {
        my $fh = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $listen->sockport, Proto => "tcp") or die $!;
        my $cv = AE::cv;
        my $c = AnyEvent::Handle->new(fh => $fh, ($tls ? (tls => "connect") : ()), on_error => sub { $cv->send("error $_[2]") });
        $c->push_write("line\n");
        $c->push_read(line => sub { $cv->send($_[1]) });
        is $cv->recv, ($tls ? "encrypted" : "cleartext") . " <line>", ($tls ? "TLS client" : "plain client");
    }
};

subtest 'push_shutdown over TLS delivers everything, then EOF' => sub {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $cv = AE::cv;
    my $server = AnyEvent::Handle->new(fh => $x, tls => "accept", tls_ctx => \%server_ctx, on_error => sub { $cv->send("server error: $_[2]") });
    my $got = "";
    my $client = AnyEvent::Handle->new(fh => $y, tls => "connect", on_error => sub { $cv->send("client error: $_[2]") },
        on_read => sub { $got .= $_[0]{rbuf}; $_[0]{rbuf} = "" }, on_eof => sub { $cv->send("eof") });
    my $data = join "", map { chr(65 + $_ % 26) } 1 .. 3_000_000;
    $server->push_write($data);
    $server->push_shutdown;
    is $cv->recv, "eof", 'clean end of file after close_notify';
    ok $got eq $data, 'all 3 MB arrived intact';
};

subtest 'handshake failure goes to on_starttls when set' => sub {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $cv = AE::cv;
    my $server = AnyEvent::Handle->new(fh => $x, tls => "accept", tls_ctx => \%server_ctx, on_error => sub {});
    my $client = AnyEvent::Handle->new(fh => $y, tls => "connect", peername => "wrong.test",
        tls_ctx => { verify => 1, verify_peername => "https", ca_file => "$pki/ca.pem" },
        on_error => sub { $cv->send("on_error: $_[2]") },
        on_starttls => sub { $cv->send("on_starttls: $_[1] $_[2]") });
    like $cv->recv, qr/^on_starttls: 0 TLS error: .*name/i, 'failure reported to on_starttls with the reason';
};

subtest 'stop_read pauses a TLS handle too (as in AnyEvent 7.17)' => sub {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $cv = AE::cv;
    my $server = AnyEvent::Handle->new(fh => $x, tls => "accept", tls_ctx => \%server_ctx,
        on_error => sub { $cv->send("server error: $_[2]") });
    my @got;
    my $client = AnyEvent::Handle->new(fh => $y, tls => "connect",
        on_error => sub { $cv->send("client error: $_[2]") },
        on_read  => sub { push @got, $_[0]{rbuf}; $_[0]{rbuf} = ""; $cv->send("read") });
    $server->push_write("first\n");
    is $cv->recv, "read", 'data arrives through TLS';

    $client->stop_read;
    ok !$client->{_rw}, 'no read watcher after stop_read';
    $cv = AE::cv;
    $server->push_write("second\n");
    my $t = AE::timer 0.3, 0, sub { $cv->send("quiet") };
    is $cv->recv, "quiet", 'nothing is read while stopped';
    is_deeply \@got, ["first\n"], 'on_read was not called';

    $cv = AE::cv;
    $client->start_read;
    is $cv->recv, "read", 'start_read resumes';
    is_deeply \@got, ["first\n", "second\n"], 'the data sent meanwhile arrives';
};

subtest 'linger: TLS data pending at destroy is still delivered' => sub {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $total = 1_000_000;
    my $cv = AE::cv;
    my $n = 0;
    my $server = AnyEvent::Handle->new(fh => $x, tls => "accept", tls_ctx => \%server_ctx,
        on_error => sub { $cv->send("server error: $_[2]") });
    my $client = AnyEvent::Handle->new(fh => $y, tls => "connect",
        on_error => sub { $cv->send("client error after $n bytes: $_[2]") },
        on_eof   => sub { $cv->send("eof") },
        on_read  => sub { $n += length $_[0]{rbuf}; $_[0]{rbuf} = ""; $cv->send("all") if $n >= $total });
    $server->push_read(line => sub {
        $_[0]->push_write("q" x $total);    # far more than the socket buffer takes at once
        undef $server;                       # destroyed with most of it still unwritten
        undef $x;
    });
    $client->push_write("go\n");
    is $cv->recv, "all", 'the reader got everything';
    is $n, $total, 'all pending plaintext was encrypted and written after destroy';
};

done_testing;
