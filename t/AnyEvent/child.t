# child watchers: specific pid and pid 0, exit status, death by signal, and a child that exited
# before its watcher was created.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;
use POSIX ();

watchdog(20);

# Forks a child that runs $code and exits with its return value (without running END blocks).
sub spawn {
    my ($code) = @_;
    my $pid = fork // die "fork: $!";
    POSIX::_exit($code->() // 0) unless $pid;
    return $pid;
}

subtest 'pid-specific watcher gets ($pid, $status)' => sub {
    pipe(my $r, my $w) or die;
    my $pid = spawn(sub { close $w; sysread $r, my $go, 1; 3 });   # waits for our go
    close $r;
    my $cv = AE::cv;
    my $c = AnyEvent->child(pid => $pid, cb => sub { $cv->send(@_) });
    syswrite $w, 'g';
    my ($got_pid, $status) = recv_within($cv, 5, 'child exit');
    is $got_pid, $pid, 'callback got the pid';
    is $status >> 8, 3, 'exit 3 gives $status >> 8 == 3';
    is $status & 127, 0, 'no signal';
};

subtest 'pid 0 watches every child; a specific watcher fires too' => sub {
    my $cv = AE::cv;
    $cv->begin for 1 .. 2;
    my (@any, @specific);
    my $any = AnyEvent->child(pid => 0, cb => sub { push @any, [@_]; $cv->end });
    my $pid = spawn(sub { 7 });
    my $one = AE::child $pid, sub { push @specific, [@_]; $cv->end };
    recv_within($cv, 5, 'both watchers');
    is_deeply [map { [$_->[0], $_->[1] >> 8] } @any], [[$pid, 7]], 'pid 0 watcher: ($pid, exit 7)';
    is_deeply [map { [$_->[0], $_->[1] >> 8] } @specific], [[$pid, 7]], 'pid watcher: ($pid, exit 7)';
};

subtest 'several children, each reported to its own watcher' => sub {
    my %status;
    my $cv = AE::cv;
    my @w;
    for my $code (1 .. 4) {
        $cv->begin;
        my $pid = spawn(sub { $code });
        push @w, AE::child $pid, sub { $status{$code} = [$_[0] == $pid, $_[1] >> 8]; $cv->end };
    }
    recv_within($cv, 5, 'four children');
    is_deeply \%status, { map { $_ => [1, $_] } 1 .. 4 }, 'every child reported with its pid and exit code';
};

subtest 'death by a signal is in the low bits of $status' => sub {
    my $pid = spawn(sub { kill TERM => $$; sleep 5; 0 });
    my $cv = AE::cv;
    my $c = AE::child $pid, sub { $cv->send($_[1]) };
    my $status = recv_within($cv, 5, 'killed child');
    is $status & 127, 15, 'terminated by SIGTERM';
};

subtest 'a child that exited before its watcher was created is still reported' => sub {
    pipe(my $r, my $w) or die;
    my $pid = spawn(sub { close $r; 3 });
    close $w;
    my $eof = sysread $r, my $buf, 1;     # EOF: the child has exited (or at least closed the pipe)
    is $eof, 0, 'pipe closed by the exiting child';
    # Make sure the exit really happened before the watcher exists, without reaping it.
    for (1 .. 1000) {
        last if `cat /proc/$pid/stat 2>/dev/null` =~ /^\d+ \(.*?\) Z /;
        select undef, undef, undef, 0.002;
    }
    my $cv = AE::cv;
    my $c = AE::child $pid, sub { $cv->send(@_) };
    my ($got, $status) = recv_within($cv, 5, 'early child');
    is $got, $pid, 'reported with its pid';
    is $status >> 8, 3, 'and its exit status';
};

subtest 'a destroyed child watcher is not called' => sub {
    plan skip_all => 'IO::Async reaps and drops a child whose watch was removed (as with AnyEvent 7.17 on IO::Async)'
        if AnyEvent::detect() eq 'AnyEvent::Impl::IOAsync';
    my $called = 0;
    my $pid = spawn(sub { 0 });
    my $c = AE::child $pid, sub { $called++ };
    undef $c;
    my $cv = AE::cv;
    my $any = AE::child 0, sub { $cv->send($_[0]) };
    is recv_within($cv, 5, 'pid 0 watcher'), $pid, 'child reaped by the pid 0 watcher';
    is $called, 0, 'the destroyed watcher was not called';
};

subtest 'a SIGCHLD signal watcher alone does not reap children' => sub {
    plan skip_all => "the foreign loop (libev's default loop, IO::Async, POE) reaps children itself (as with AnyEvent 7.17 on it)"
        if AnyEvent::detect() =~ /::(?:EV|IOAsync|POE)$/;
    my $cv = AE::cv;
    my $s = AE::signal CHLD => sub { $cv->send('CHLD') };
    my $pid = spawn(sub { 5 });
    is recv_within($cv, 5, 'SIGCHLD'), 'CHLD', 'the signal watcher saw SIGCHLD';
    is waitpid($pid, 0), $pid, "the program's own waitpid gets the child";
    is $? >> 8, 5, 'with its exit status';
};

subtest 'child watchers and a SIGCHLD signal watcher together' => sub {
    plan skip_all => "the foreign loop's own SIGCHLD handling replaces ours (AnyEvent::Impl::Event)"
        if AnyEvent::detect() =~ /::(?:Event)$/;
    my $cv = AE::cv;
    $cv->begin for 1 .. 2;
    my ($sig, @child) = (0);
    my $s = AE::signal CHLD => sub { $cv->end unless $sig++ };
    my $pid = spawn(sub { 2 });
    my $c = AE::child $pid, sub { @child = @_; $cv->end };
    recv_within($cv, 5, 'both');
    is_deeply [$child[0], $child[1] >> 8], [$pid, 2], 'the child watcher got the exit status';
    ok $sig >= 1, 'the signal watcher fired';
    undef $s;
    my $cv2 = AE::cv;
    my $pid2 = spawn(sub { 4 });
    my $c2 = AE::child $pid2, sub { $cv2->send($_[1] >> 8) };
    is recv_within($cv2, 5, 'child after the signal watcher is gone'), 4,
        'child watchers keep working after the SIGCHLD signal watcher is gone';
};

done_testing;
