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

done_testing;
