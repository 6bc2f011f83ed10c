# AnyEvent inside POE's kernel: AnyEvent::Impl::POE (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('POE') }
use POE;
use AETest::Loops;

AETest::Loops::watchdog(150);

# POE::Kernel->run returns when no session has work; a session of the test keeps it running
# until quit.
my $quit;
sub run_kernel {
    POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->delay(check => 0.01) },
        check  => sub { $_[KERNEL]->delay(check => 0.01) unless $quit },
    });
    $quit = 0;
    POE::Kernel->run;
}

my %timers;
my $tid = 0;
AETest::Loops::check(
    model  => 'POE',
    module => 'POE',
    run    => \&run_kernel,
    # run returns when no session has work; ours has while watchers of ours exist: stop it
    quit   => sub { $quit = 1; POE::Kernel->stop },
    # POE answers an exception in any handler by stopping every session (the DIE signal)
    death_ends_loop => "POE stops every session, the test's own timer included, when a callback dies",
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = ++$tid;
        $timers{$id} = 1;
        POE::Session->create(inline_states => {
            _start => sub { $_[KERNEL]->delay(tick => $secs) },
            tick   => sub { return unless $timers{$id}; $cb->(); $_[KERNEL]->delay(tick => $secs) },
        });
        return AETest::Loops::Guard->new(sub { delete $timers{$id} });
    },
    # POE's own child watcher: sig_child in a session of the test
    child  => sub {
        my ($pid, $cb) = @_;
        my $live = 1;
        POE::Session->create(inline_states => {
            _start => sub { $_[KERNEL]->sig_child($pid, 'done') },
            done   => sub { $cb->(@_[ARG1, ARG2]) if $live },
        });
        return AETest::Loops::Guard->new(sub { $live = 0 });
    },
);

subtest 'POE::Kernel->run returns when nothing of ours is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    POE::Kernel->run;
    is $fired, 1, 'POE::Kernel->run ran our timer, then returned on its own';
};

# POE reaps every exited child whenever one of its runs returns: choosing the model must not run
# it, or a child that exited before then is lost to its watcher (run_cmd's first child was).
subtest 'a child that exited before the model was chosen is reported to its watcher' => sub {
    require AETest::Perl;
    my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_MODEL => 'POE' }, q{
        use POE; use AnyEvent; use POSIX ();
        alarm 10;
        my $exited;
        $SIG{CHLD} = sub { $exited = 1 };
        my $pid = fork // die "fork: $!";
        POSIX::_exit(9) unless $pid;
        select undef, undef, undef, 0.01 until $exited;    # SIGCHLD ends the wait
        $SIG{CHLD} = 'DEFAULT';
        my $cv = AE::cv;
        my $w = AE::child $pid, sub { $cv->send($_[0] == $pid ? $_[1] >> 8 : "pid $_[0]") };
        print $AnyEvent::MODEL, ' ', $cv->recv;
    });
    is $out, 'AnyEvent::Impl::POE 9', 'the watcher got the exit status';
    is $err, '', 'and POE said nothing (no "Stopped child process reaped")';
};

done_testing;
