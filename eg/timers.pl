#!/usr/bin/perl
# Timers, a repeating timer and a condition variable: prints three ticks, then quits.
use strict;
use warnings;
use AnyEvent;

my $done  = AnyEvent->condvar;
my $ticks = 0;

my $every = AnyEvent->timer(after => 0.1, interval => 0.1, cb => sub {
    printf "tick %d at %.2f\n", ++$ticks, AnyEvent->now;
    $done->send($ticks) if $ticks == 3;
});

my $once = AE::timer 0.05, 0, sub { print "the one-shot timer fired first\n" };

print "done after ", $done->recv, " ticks (model $AnyEvent::MODEL)\n";
