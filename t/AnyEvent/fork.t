# fork: the child keeps using the loop (timers, io, watchers from before the fork), and nothing
# the child does disturbs the parent's loop.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;
use POSIX ();
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);

watchdog(20);

sub new_socketpair {
    socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    return ($x, $y);
}

# Forks; the child runs $code (whose return value, a line of text, is reported back) and exits.
# Returns the pid and the read end of the report pipe.
sub fork_reporting {
    my ($code) = @_;
    pipe(my $r, my $w) or die;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        $SIG{ALRM} = sub { POSIX::_exit(1) };    # the parent's watchdog is not inherited
        alarm 10;
        my $report = eval { $code->() } // "child died: $@";
        syswrite $w, "$report\n";
        POSIX::_exit(0);
    }
    close $w;
    return ($pid, $r);
}

# Reads the child's report through the loop (so the parent's io watchers are exercised too).
sub read_report {
    my ($fh) = @_;
    my $cv = AE::cv;
    my $buf = '';
    my $w = AE::io $fh, 0, sub {
        my $n = sysread $fh, $buf, 4096, length $buf;
        $cv->send($buf) if !$n;
    };
    return recv_within($cv, 5, 'child report');
}

subtest 'the child keeps using the loop' => sub {
    my ($x, $y) = new_socketpair();
    my $old_calls = 0;
    my $old_seen = AE::cv;
    my $old_io = AE::io $x, 0, sub { $old_calls++; sysread $x, my $b, 100; $old_seen->send };
    # Watched by the child only (the parent drops its copy), so that the two do not race to
    # read the same socket.
    my ($cx, $cy) = new_socketpair();
    my $child_seen = AE::cv;
    my $child_io = AE::io $cx, 0, sub { sysread $cx, my $b, 100; $child_seen->send('inherited io') };
    my $parent_timer_calls = 0;
    my $parent_timer = AE::timer 0.3, 0, sub { $parent_timer_calls++ };
    AnyEvent::Impl::Rust::run_nowait();    # the watchers are now registered with epoll

    my ($pid, $report) = fork_reporting(sub {
        my @r;
        my $cv = AE::cv;
        my $t = AE::timer 0.01, 0, sub { $cv->send('timer') };
        push @r, recv_within($cv, 2, 'timer in the child');

        my ($p, $q) = new_socketpair();
        my $io_cv = AE::cv;
        my $io = AE::io $p, 0, sub { sysread $p, my $buf, 10; $io_cv->send("io:$buf") };
        syswrite $q, 'abc';
        push @r, recv_within($io_cv, 2, 'io in the child');

        syswrite $cy, 'z';         # the socket watched since before the fork
        push @r, recv_within($child_seen, 2, 'inherited io watcher');
        join ',', @r;
    });
    undef $child_io;
    is read_report($report), "timer,io:abc,inherited io\n", 'timers, new io and inherited io watchers work in the child';
    waitpid $pid, 0;

    syswrite $y, 'p';
    recv_within($old_seen, 2, 'parent io');
    is $old_calls, 1, "the parent's io watcher still works";
    my $done = AE::cv;
    my $t = AE::timer 0.35, 0, sub { $done->send };
    $done->recv;
    is $parent_timer_calls, 1, "the parent's timer from before the fork fired once";
};

subtest "a child destroying inherited watchers does not disturb the parent" => sub {
    my ($x, $y) = new_socketpair();
    my $calls = 0;
    my $seen = AE::cv;
    my $io = AE::io $x, 0, sub { $calls++; sysread $x, my $b, 100; $seen->send };
    my $sig_calls = 0;
    my $sig_seen = AE::cv;
    my $sig = AE::signal USR2 => sub { $sig_calls++; $sig_seen->send };
    AnyEvent::Impl::Rust::run_nowait();    # registered with the (shared) epoll instance

    my ($pid, $report) = fork_reporting(sub {
        undef $io;        # before the child's loop ever ran again
        undef $sig;
        'destroyed';
    });
    is read_report($report), "destroyed\n", 'child destroyed its copies of the watchers';
    waitpid $pid, 0;

    syswrite $y, 'still there?';
    recv_within($seen, 2, "the parent's io watcher");
    is $calls, 1, "the parent's io watcher still fires";

    kill USR2 => $$;
    recv_within($sig_seen, 2, "the parent's signal watcher");
    is $sig_calls, 1, "the parent's signal watcher still fires";
};

subtest 'signals and children in a forked child' => sub {
    my ($pid, $report) = fork_reporting(sub {
        my $cv = AE::cv;
        my $s = AE::signal USR1 => sub { $cv->send('signal') };
        kill USR1 => $$;
        my @r = recv_within($cv, 2, 'signal in the child');
        my $gpid = fork // die;
        POSIX::_exit(6) unless $gpid;
        my $ccv = AE::cv;
        my $c = AE::child $gpid, sub { $ccv->send('grandchild exit ' . ($_[1] >> 8)) };
        push @r, recv_within($ccv, 2, 'grandchild');
        join ',', @r;
    });
    is read_report($report), "signal,grandchild exit 6\n", 'signal and child watchers work in the child';
    waitpid $pid, 0;
};

done_testing;
