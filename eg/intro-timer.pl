#!/usr/bin/perl
# AnyEvent::Intro, "Timers and other event sources": a one-shot timer and a condition variable.
# Usage: intro-timer.pl [SECONDS]   (default 1.5, as in the tutorial)
use strict;
use warnings;
use AnyEvent;

my $seconds = shift // 1.5;

my $cv = AnyEvent->condvar;

my $wait_one_and_a_half_seconds = AnyEvent->timer (
   after => $seconds, # after how many seconds to invoke the cb?
   cb    => sub {     # the callback to invoke
      $cv->send;
   },
);

# can do something else here

# now wait till our time has come
$cv->recv;

print "waited $seconds seconds\n";
