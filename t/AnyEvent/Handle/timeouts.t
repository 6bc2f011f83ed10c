# Inactivity timeouts: timeout, rtimeout, wtimeout, their callbacks and resets.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use Errno qw(ETIMEDOUT);
use AETest qw(watchdog sockets);
use AnyEvent;
use AnyEvent::Handle;

watchdog(20);

subtest 'timeout without on_timeout raises non-fatal ETIMEDOUT' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $t0 = AE::now;
    my $h = AnyEvent::Handle->new(fh => $x, timeout => 0.1, on_error => sub { $cv->send([$_[1], $! + 0]) });
    my ($fatal, $errno) = @{ $cv->recv };
    is $errno, ETIMEDOUT, 'ETIMEDOUT';
    ok !$fatal, 'not fatal';
    ok AE::now - $t0 >= 0.09, 'not before the timeout';
    ok !$h->destroyed, 'handle still usable';
};

subtest 'activity postpones the timeout; on_timeout restarts it' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my @fired;
    my $t0 = AE::now;
    my $h = AnyEvent::Handle->new(fh => $x, rtimeout => 0.15, on_error => sub { fail "error: $_[2]" },
        on_read => sub { $_[0]{rbuf} = "" },
        on_rtimeout => sub { push @fired, AE::now - $t0; $cv->send if @fired == 2 });
    my $n = 0;
    my $feed; $feed = AE::timer(0.05, 0.05, sub { syswrite $y, "x"; undef $feed if ++$n == 4 });
    $cv->recv;
    ok $fired[0] >= 0.3, "first rtimeout only after reads stopped (at $fired[0])";
    ok $fired[1] - $fired[0] >= 0.14, 'on_rtimeout returning restarts the timeout';
};

subtest 'changing the timeout: shorter fires earlier, longer does not fire at the old time' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $t0 = AE::now;
    my $h = AnyEvent::Handle->new(fh => $x, timeout => 300, on_timeout => sub { $cv->send(AE::now - $t0) },
        on_error => sub { fail "error: $_[2]" });
    $h->timeout(0.1);    # as AnyEvent::HTTP sets it per request
    my $at = $cv->recv;
    ok $at >= 0.09 && $at < 5, "the shorter timeout fired (after $at s)";

    $cv = AE::cv;
    my @fired;
    $h->on_timeout(sub { push @fired, AE::now - $t0 });
    $t0 = AE::now;
    $h->timeout(0.05);
    $h->timeout(0.3);
    my $check = AE::timer 0.2, 0, sub { $cv->send };
    $cv->recv;
    is_deeply \@fired, [], 'the longer timeout set after a shorter one did not fire at the shorter time';
    $h->timeout(0);
    $cv = AE::cv;
    $check = AE::timer 0.4, 0, sub { $cv->send };
    $cv->recv;
    is_deeply \@fired, [], 'timeout 0 turns it off';
};

subtest 'wtimeout fires while writes are stuck; timeout_reset postpones' => sub {
    my ($x, $y) = sockets();
    my $cv = AE::cv;
    my $t0 = AE::now;
    my $h = AnyEvent::Handle->new(fh => $x, wtimeout => 0.2, on_error => sub { fail "error: $_[2]" },
        on_wtimeout => sub { $cv->send(AE::now - $t0) });
    my $reset = AE::timer(0.1, 0, sub { $h->wtimeout_reset });
    my $elapsed = $cv->recv;
    ok $elapsed >= 0.29, "wtimeout_reset moved the deadline (fired at $elapsed)";
    $h->wtimeout(0);
    my $cv2 = AE::cv;
    my $t = AE::timer(0.3, 0, sub { $cv2->send });
    $h->on_wtimeout(sub { fail 'a disabled timeout must not fire' });
    $cv2->recv;
    pass 'timeout(0) disables';
};

done_testing;
