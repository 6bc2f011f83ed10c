# Errors as AnyEvent reports them: EPIPE at EOF with reads pending, on_eof, rbuf_max and
# wbuf_max (ENOSPC), croaking without on_error, destroy inside callbacks.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use Errno qw(EPIPE ENOSPC);
use AETest qw(watchdog sockets);
use AnyEvent;
use AnyEvent::Handle;

watchdog(20);

subtest 'EOF with a read pending is a fatal EPIPE' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send([$_[1], $! + 0, $_[2]]) },
        on_eof => sub { fail 'on_eof must not be called while a read is pending' });
    $h->push_read(line => sub { fail 'a partial line must not be delivered' });
    syswrite $y, "partial";
    close $y;
    my ($fatal, $errno, $message) = @{ $cv->recv };
    is $errno, EPIPE, 'errno is EPIPE';
    ok $fatal, 'the error is fatal';
    like $message, qr/pipe/i, 'message describes it';
    ok $h->destroyed, 'the handle is destroyed after a fatal error';
};

subtest 'EOF without pending reads calls on_eof after the data' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my @events;
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send("error: $_[2]") },
        on_read => sub { push @events, "data:" . $_[0]{rbuf}; $_[0]{rbuf} = "" },
        on_eof  => sub { push @events, "eof"; $cv->send("eof") });
    syswrite $y, "last words";
    close $y;
    is $cv->recv, "eof", 'on_eof called';
    is_deeply \@events, ["data:last words", "eof"], 'remaining data first, then EOF';
};

subtest 'EOF without on_eof is a fatal error with $! = 0' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { $cv->send([$_[1], $! + 0, $_[2]]) });
    $h->start_read;
    close $y;
    my ($fatal, $errno, $message) = @{ $cv->recv };
    ok $fatal, 'fatal';
    is $errno, 0, 'errno 0';
    like $message, qr/end-of-file/i, 'message';
};

subtest 'rbuf_max' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, rbuf_max => 1000, on_error => sub { $cv->send([$_[1], $! + 0]) });
    $h->push_read(line => sub { fail 'no line end was sent' });
    syswrite $y, "x" x 5000;
    my ($fatal, $errno) = @{ $cv->recv };
    is $errno, ENOSPC, 'ENOSPC when the read buffer exceeds rbuf_max';
    ok $fatal, 'fatal';
};

subtest 'wbuf_max' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(fh => $x, wbuf_max => 100_000, on_error => sub { $cv->send([$_[1], $! + 0]) });
    # nobody reads $y: the socket buffer fills, then the write buffer grows past the limit
    my $t = AE::timer(0, 0.001, sub { $h->push_write("y" x 65536) unless $h->destroyed });
    my ($fatal, $errno) = @{ $cv->recv };
    is $errno, ENOSPC, 'ENOSPC when the write buffer exceeds wbuf_max';
    ok $fatal, 'fatal';
};

subtest 'without on_error a fatal error croaks' => sub {
    my ($x, $y) = sockets();
    my $h = AnyEvent::Handle->new(fh => $x);
    $h->push_read(chunk => 10, sub {});
    close $y;
    my $died = eval { AE::cv->recv; 1 } ? "" : $@;
    like $died, qr/AnyEvent::Handle uncaught error: .*pipe/i, 'croaks with the message';
    ok $h->destroyed, 'and the handle is destroyed';
};

subtest 'destroy inside callbacks' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $calls = 0;
    my $h; $h = AnyEvent::Handle->new(fh => $x, on_error => sub { fail "no error expected: $_[2]" });
    $h->push_read(line => sub { $calls++; $_[0]->destroy; my $t; $t = AE::timer(0.05, 0, sub { undef $t; $cv->send }) });
    $h->push_read(line => sub { $calls++ });
    syswrite $y, "one\ntwo\n";
    $cv->recv;
    is $calls, 1, 'no callback runs after destroy';
    ok $h->destroyed, 'destroyed() is true';
    $h->push_write("ignored");    # methods on a destroyed handle do nothing
    pass 'methods on a destroyed handle are harmless';

    # undef of the last reference inside on_read (the tutorial's pattern)
    my ($x2, $y2) = sockets();
    my $cv2 = AE::cv;
    my $h2; $h2 = AnyEvent::Handle->new(fh => $x2, on_error => sub { $cv2->send("error") },
        on_read => sub { undef $h2; $cv2->send("undef in on_read") });
    syswrite $y2, "data";
    is $cv2->recv, "undef in on_read", 'releasing the handle inside its callback is fine';
};

subtest 'new without fh or connect croaks' => sub {
    eval { AnyEvent::Handle->new(on_error => sub {}) };
    like $@, qr/fh or connect/, 'clear message';
};

done_testing;
