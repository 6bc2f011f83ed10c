# $! inside callbacks: the loop's own system calls (epoll_ctl on a closed fd: EBADF; reads and
# writes that would block: EAGAIN) never show through. Callbacks of every watcher kind and of
# AnyEvent::Handle see $! as the program left it (0 here, as with AnyEvent 7.17); errors meant
# for the program (on_error, a refused connect) still carry their errno.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use POSIX ();
use Errno qw(ECONNREFUSED EPIPE);
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use IO::Socket::INET;
use AETest qw(watchdog sockets);
use AETest::TLS qw(make_pki);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket;

watchdog(60);
my $pki = make_pki();

my %seen;    # callback name => list of $! values seen
sub saw { push @{ $seen{ $_[0] } }, $! + 0 }

# Something that makes the loop hit an error internally on every iteration. (The handles below
# add EAGAIN: writes larger than the socket buffer, TLS reads until the socket is drained.)
sub internal_trouble {
    my @keep;
    # an io watcher whose fd was closed under it: epoll_ctl fails with EBADF
    pipe my $r, my $w or die $!;
    push @keep, AE::io($r, 0, sub { });
    close $r; close $w;
    @keep;
}

subtest 'watcher callbacks' => sub {
    my @trouble = internal_trouble();
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $count = 0;
    my $io; $io = AE::io($y, 1, sub { saw("io"); undef $io });
    my $timer = AE::timer(0.005, 0.005, sub { saw("timer"); $cv->send if ++$count == 5 });
    my $idle; $idle = AE::idle(sub { saw("idle") });
    my $signal = AE::signal(USR1 => sub { saw("signal") });
    my $child_cv = AE::cv;
    my $pid = fork // die $!;
    # _exit: a child that ran END blocks and destructors would close, say, Tk's X connection,
    # which it shares with this process when the test runs under Tk (t/AnyEvent/Impl/Tk.t).
    POSIX::_exit(0) unless $pid;
    my $child = AE::child($pid, sub { saw("child"); $child_cv->send });
    kill USR1 => $$;
    AE::postpone { saw("postpone") };
    $! = 0;
    $cv->recv;
    $! = 0;
    $child_cv->recv;
    for my $kind (qw(io timer idle signal child postpone)) {
        ok $seen{$kind} && @{ $seen{$kind} }, "$kind callback ran";
        is_deeply [grep $_, @{ $seen{$kind} || [] }], [], "$kind callbacks saw \$! == 0";
    }
};

subtest 'AnyEvent::Handle callbacks, plain and TLS' => sub {
    %seen = ();
    my @trouble = internal_trouble();
    for my $tls (0, 1) {
        my ($x, $y) = sockets();
        my $cv = AE::cv;
        my @tls_server = $tls ? (tls => "accept", tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key" }) : ();
        my @tls_client = $tls ? (tls => "connect", on_starttls => sub { saw("on_starttls") }) : ();
        my $server = AnyEvent::Handle->new(fh => $x, @tls_server, on_error => sub { $cv->send("server error $_[2]") });
        $server->push_read(line => sub {
            saw("push_read");
            $_[0]->push_write("x" x 300000);    # more than the socket takes: the write waits
            $_[0]->on_drain(sub { saw("on_drain"); $_[0]->push_shutdown });
        });
        my $got = 0;
        my $client = AnyEvent::Handle->new(fh => $y, @tls_client,
            on_error => sub { $cv->send("client error $_[2]") },
            on_read  => sub { saw("on_read"); $got += length delete $_[0]{rbuf} },
            on_eof   => sub { saw("on_eof"); $cv->send($got) });
        $client->push_write("hello\n");
        $! = 0;
        is $cv->recv, 300000, ($tls ? "TLS" : "plain") . ": everything arrived";
    }
    for my $kind (qw(push_read on_drain on_read on_eof on_starttls)) {
        ok $seen{$kind} && @{ $seen{$kind} }, "$kind ran";
        is_deeply [grep $_, @{ $seen{$kind} || [] }], [], "$kind saw \$! == 0";
    }
};

subtest 'after our successful reads and writes $! is 0, as after Perl\'s sysread/syswrite' => sub {
    # Twiggy streams a PSGI body from on_drain and, when getline returns undef, treats a true $!
    # as a read error of the body. Whatever $! held before (here EBADF, as Plack::Util's file
    # tests leave it), the writes of the handle clear it, as AnyEvent 7.17's syswrite does.
    my ($x, $y) = sockets();
    my @chunks = map "chunk $_\n", 1 .. 20;
    my ($cv, $errno_at_end) = (AE::cv);
    my $reader = AnyEvent::Handle->new(fh => $y, on_read => sub { delete $_[0]{rbuf} }, on_eof => sub { $cv->send },
        on_error => sub { $cv->send });
    $! = Errno::EBADF();
    my $writer = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send });
    $writer->on_drain(sub {
        if (defined(my $chunk = shift @chunks)) { return $_[0]->push_write($chunk) }
        $errno_at_end = $! + 0;
        $_[0]->push_shutdown;
    });
    $cv->recv;
    is $errno_at_end, 0, '$! is 0 when the body ends';

    ($x, $y) = sockets();
    $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, on_read => sub { $cv->send($! + 0) });
    syswrite $y, "data";
    $! = Errno::EBADF();
    AE::postpone { $! = Errno::EBADF() };    # a callback that leaves $! set, just before the read
    is $cv->recv, 0, 'on_read after our read sees $! == 0';
};

subtest 'errors still carry their errno' => sub {
    my $port = do {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp") or die $!;
        $s->sockport;    # closed again: nobody listens there
    };
    my $cv = AE::cv;
    tcp_connect("127.0.0.1", $port, sub { $cv->send(@_ ? "connected" : $! + 0) });
    is $cv->recv, ECONNREFUSED, 'a refused tcp_connect reports ECONNREFUSED in $!';

    my ($x, $y) = sockets();
    $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send($! + 0) });
    close $y;
    $h->push_write("x" x 100000);
    is $cv->recv, EPIPE, 'on_error sees EPIPE in $! when the peer is gone';
};

done_testing;
