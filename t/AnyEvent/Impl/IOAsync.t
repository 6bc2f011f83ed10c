# AnyEvent inside an IO::Async loop: AnyEvent::Impl::IOAsync (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('IO::Async::Loop') }
use IO::Async::Loop;
use AETest::Loops;
use AnyEvent;
use POSIX ();

AETest::Loops::watchdog(150);

my $loop = IO::Async::Loop->new;
AnyEvent::Impl::IOAsync::set_loop($loop) if AnyEvent::detect() eq 'AnyEvent::Impl::IOAsync';
ok !eval { AnyEvent::Impl::IOAsync::set_loop('nope'); 1 }, 'set_loop croaks for a non-loop';
like $@, qr/loop must be an IO::Async::Loop/, 'naming the argument';

AETest::Loops::check(
    model  => 'IOAsync',
    module => 'IO::Async::Loop',
    run    => sub { $loop->run },
    quit   => sub { $loop->stop },
    timer  => sub {
        my ($secs, $cb) = @_;
        my ($id, $tick);
        $tick = sub { $id = $loop->watch_time(after => $secs, code => $tick); $cb->() };
        $id = $loop->watch_time(after => $secs, code => $tick);
        return AETest::Loops::Guard->new(sub { $loop->unwatch_time($id); undef $tick });
    },
    child  => sub {
        my ($pid, $cb) = @_;
        $loop->watch_process($pid, sub { $cb->(@_) });
        return AETest::Loops::Guard->new(sub { });
    },
);

# Children that exit while no SIGCHLD handler is installed (IO::Async installs its own with the
# first watch_process and asks waitpid about that pid only): the watchers made for the others
# right after must still see them. The children are made zombies before any watcher exists.
sub zombie {
    my ($pid) = @_;
    for (1 .. 5000) {
        open my $fh, '<', "/proc/$pid/stat" or return;
        return 1 if <$fh> =~ /^\d+ \(.*\) Z/;
        select undef, undef, undef, 0.001;
    }
    return 0;
}
subtest 'children that exited before the first watcher installed the SIGCHLD handler' => sub {
    is ref $SIG{CHLD}, '', 'no SIGCHLD handler is installed now';
    my @pids = map { my $p = fork // die "fork: $!"; POSIX::_exit($_) unless $p; $p } 31, 32, 33;
    ok !(grep { !zombie($_) } @pids), 'the children have exited';
    my (%ours, %theirs);
    my @g = (AE::child($pids[0], sub { $ours{ $_[0] } = $_[1] >> 8 }));
    $loop->watch_process($pids[1], sub { $theirs{ $_[0] } = $_[1] >> 8 });
    push @g, AE::child($pids[2], sub { $ours{ $_[0] } = $_[1] >> 8 });
    my $done = sub { keys %ours == 2 && keys %theirs == 1 };
    my $check = AE::timer 0, 0.01, sub { $loop->stop if $done->() };
    my $give_up = $loop->watch_time(after => 5, code => sub { $loop->stop });
    $loop->run;
    $loop->unwatch_time($give_up);
    is_deeply \%ours, { $pids[0] => 31, $pids[2] => 33 }, 'our watchers saw their children';
    is_deeply \%theirs, { $pids[1] => 32 }, "and the loop's own watcher its child";
};

done_testing;
