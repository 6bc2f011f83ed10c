# AnyEvent inside Event's loop: AnyEvent::Impl::Event (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('Event') }
use Event;
use AETest::Loops;

AETest::Loops::watchdog(150);

AETest::Loops::check(
    model  => 'Event',
    module => 'Event',
    run    => sub { Event::loop() },
    quit   => sub { Event::unloop_all() },
    timer  => sub {
        my ($secs, $cb) = @_;
        my $w = Event->timer(after => $secs, interval => $secs, cb => sub { $cb->() });
        return AETest::Loops::Guard->new(sub { $w->cancel });
    },
);

subtest 'Event::loop returns when nothing of ours is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    Event::loop();
    is $fired, 1, 'Event::loop ran our timer, then returned on its own';
};

# Event notices a caught signal only when it wakes up. Here SIGUSR1 is blocked while Event waits,
# which gives every SIGUSR1 the timing of one that arrives just before Event blocks: only a
# wake-up of the loop (PERL_ANYEVENT_MAX_SIGNAL_LATENCY, 1 s here) lets the watcher see it.
subtest 'a signal that arrives while Event waits is seen within MAX_SIGNAL_LATENCY' => sub {
    require AETest::Perl;
    my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_MODEL => 'Event', PERL_ANYEVENT_MAX_SIGNAL_LATENCY => 1 }, q{
        use Event; use AnyEvent; use POSIX (); use Time::HiRes ();
        alarm 20;
        use AETest::Perl qw(block_signal_during);
        block_signal_during('Event::one_event', 'USR1');
        my $cv = AE::cv;
        my $s = AE::signal USR1 => sub { $cv->send('seen') };
        my $parent = $$;
        my $pid = fork // die "fork: $!";
        # (the child stays until it is killed: its exit would wake the loop)
        unless ($pid) { Time::HiRes::sleep(0.5); kill USR1 => $parent; sleep 30; POSIX::_exit(0) }
        my $t = AE::timer 5, 0, sub { $cv->send('not seen within 5 s') };
        print $cv->recv;
        kill KILL => $pid;
        waitpid $pid, 0;
    });
    is $out, 'seen', 'the signal watcher was called' or diag $err;
};

done_testing;
