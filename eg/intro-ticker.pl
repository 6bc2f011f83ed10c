#!/usr/bin/perl
# AnyEvent::Intro, "Timers and other event sources" and "The main loop": a repeating timer made by
# re-creating a one-shot timer, in a program that runs until a callback sends $quit_program.
# Usage: intro-ticker.pl [PERIOD [TICKS]]   (default: a tick per second, forever)
use strict;
use warnings;
use AnyEvent;

my $period = shift // 1;
my $ticks  = shift // 0;    # quit after this many ticks; 0: never

my $quit_program = AnyEvent->condvar;

my $time_watcher;
my $count = 0;

sub once_per_second {
   print "tick\n";
   return $quit_program->send if $ticks && ++$count == $ticks;

   # (re-)create the watcher
   $time_watcher = AnyEvent->timer (
      after => $period,
      cb    => \&once_per_second,
   );
}

$| = 1;

# now start the timer
once_per_second;

$quit_program->recv;
