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
    # known gap: a subtest of run_cmd.t hangs under POE (not investigated yet)
    core   => [grep !m{run_cmd\.t}, @AETest::Loops::CORE],
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
);

subtest 'POE::Kernel->run returns when nothing of ours is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    POE::Kernel->run;
    is $fired, 1, 'POE::Kernel->run ran our timer, then returned on its own';
};

done_testing;
