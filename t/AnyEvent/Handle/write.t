# The write side: on_drain, push_shutdown, a packstring bigger than the socket buffer,
# autocork, linger, socket options.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use IO::Socket::INET;
use AETest qw(watchdog sockets);
use AnyEvent;
use AnyEvent::Handle;

watchdog(30);

subtest 'on_drain: immediately when empty, then when the buffer empties' => sub {
    my ($x, $y) = sockets();
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { fail "error: $_[2]" });
    my $drained = 0;
    $h->on_drain(sub { $drained++ });
    is $drained, 1, 'called at once on an empty buffer';
    my $cv = AE::cv;
    $h->push_write("z" x 1_000_000);    # more than the socket takes at once
    ok length $h->{wbuf} > 0, 'data waits in wbuf';
    $h->on_drain(sub { $cv->send(length $_[0]{wbuf}) });
    my $reader = AnyEvent::Handle->new(fh => $y, on_error => sub {}, on_read => sub { $_[0]{rbuf} = "" });
    is $cv->recv, 0, 'on_drain called when wbuf became empty';
};

subtest 'low_water_mark: a buffer at or below it counts as empty' => sub {
    my ($x, $y) = sockets();
    my $mark = 1_000_000;
    my $h = AnyEvent::Handle->new(fh => $x, low_water_mark => $mark, on_error => sub { fail "error: $_[2]" });
    $h->push_write("z" x 3_000_000);
    cmp_ok length $h->{wbuf}, '>', $mark, 'more than the mark waits in wbuf';
    my $early = 0;
    $h->on_drain(sub { $early++ });
    is $early, 0, 'setting on_drain above the mark does not call it';
    my $cv = AE::cv;
    $h->on_drain(sub { $cv->send(length $_[0]{wbuf}) });
    my $reader = AnyEvent::Handle->new(fh => $y, on_error => sub {}, on_read => sub { $_[0]{rbuf} = "" });
    my $left = $cv->recv;
    cmp_ok $left, '<=', $mark, 'on_drain called once wbuf is at the mark or below';
    cmp_ok $left, '>', 0, '... before it is empty';
    undef $reader;
    my $at_once;
    $h->on_drain(sub { $at_once = length $_[0]{wbuf} });
    is $at_once, $left, 'setting on_drain at or below the mark calls it at once';
};

subtest 'large packstring through a full socket buffer' => sub {
    my ($x, $y) = sockets();
    my $w = AnyEvent::Handle->new(fh => $x, on_error => sub { fail "writer: $_[2]" });
    my $r = AnyEvent::Handle->new(fh => $y, on_error => sub { fail "reader: $_[2]" });
    my $big = join "", map { chr($_ % 251) } 1 .. 3_000_000;
    my $cv = AE::cv;
    $r->push_read(packstring => "N", sub { $cv->send($_[1]) });
    $w->push_write(packstring => "N", $big);
    my $got = $cv->recv;
    is length $got, length $big, 'all 3 MB arrived';
    ok $got eq $big, 'intact';
};

subtest 'push_shutdown: the peer sees EOF after the data' => sub {
    my ($x, $y) = sockets();
    my $w = AnyEvent::Handle->new(fh => $x, on_error => sub { fail "writer: $_[2]" });
    my $cv = AE::cv;
    my $data = "";
    my $r = AnyEvent::Handle->new(fh => $y, on_error => sub { fail "reader: $_[2]" },
        on_read => sub { $data .= $_[0]{rbuf}; $_[0]{rbuf} = "" }, on_eof => sub { $cv->send });
    $w->push_write("x" x 300_000);
    $w->push_shutdown;
    $cv->recv;
    is length $data, 300_000, 'all data before EOF';
};

subtest 'autocork queues until the loop runs' => sub {
    my ($x, $y) = sockets();
    my $w = AnyEvent::Handle->new(fh => $x, autocork => 1, on_error => sub { fail "writer: $_[2]" });
    $w->push_write("a");
    $w->push_write("b");
    is $w->{wbuf}, "ab", 'nothing written yet';
    my $cv = AE::cv;
    my $r = AnyEvent::Handle->new(fh => $y, on_error => sub {});
    $r->push_read(chunk => 2, sub { $cv->send($_[1]) });
    is $cv->recv, "ab", 'written on the next iteration';
    $w->autocork(0);
    $w->push_write("c");
    is $w->{wbuf}, "", 'without autocork the write happens at once';
};

subtest 'linger: data pending at destroy is still delivered' => sub {
    my ($x, $y) = sockets();
    my $w = AnyEvent::Handle->new(fh => $x, on_error => sub {});
    $w->push_write("q" x 1_000_000);
    undef $x;
    $w->destroy;
    my $cv = AE::cv;
    my $n = 0;
    my $r = AnyEvent::Handle->new(fh => $y, on_error => sub { $cv->send("error $_[2]") },
        on_read => sub { $n += length $_[0]{rbuf}; $_[0]{rbuf} = "" }, on_eof => sub { $cv->send("eof") });
    is $cv->recv, "eof", 'EOF after lingering';
    is $n, 1_000_000, 'all pending data was written';
};

subtest 'socket options on TCP' => sub {
    my $listen = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp") or die $!;
    my $client = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $listen->sockport, Proto => "tcp") or die $!;
    my $h = AnyEvent::Handle->new(fh => $client, no_delay => 1, keepalive => 1, on_error => sub {});
    my $int = sub { unpack "i", getsockopt($client, $_[0], $_[1]) };
    is $int->(Socket::IPPROTO_TCP(), Socket::TCP_NODELAY()), 1, 'no_delay sets TCP_NODELAY';
    is $int->(Socket::SOL_SOCKET(), Socket::SO_KEEPALIVE()), 1, 'keepalive sets SO_KEEPALIVE';
    ok $int->(Socket::SOL_SOCKET(), Socket::SO_OOBINLINE()), 'oobinline is on by default';
    $h->no_delay(0);
    $h->keepalive(0);
    $h->oobinline(0);
    is $int->(Socket::IPPROTO_TCP(), Socket::TCP_NODELAY()), 0, 'no_delay(0)';
    is $int->(Socket::SOL_SOCKET(), Socket::SO_KEEPALIVE()), 0, 'keepalive(0)';
    is $int->(Socket::SOL_SOCKET(), Socket::SO_OOBINLINE()), 0, 'oobinline(0)';
};

done_testing;
