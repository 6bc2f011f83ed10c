#!/usr/bin/perl
# AnyEvent::Intro, "Condition Variables": wait for a name on STDIN with an io watcher and a
# condition variable, the name kept in a variable.
use strict;
use warnings;
use AnyEvent;

$| = 1; print "enter your name> ";

my $name;

my $name_ready = AnyEvent->condvar;

my $wait_for_input = AnyEvent->io (
   fh   => \*STDIN, # which file handle to check
   poll => "r",     # which event to wait for ("r"ead data)
   cb   => sub {    # what callback to execute
      $name = <STDIN>; # read it
      $name_ready->send; # flag the name as being ready
   }
);

# do something else here

# now wait until the name is available:
$name_ready->recv;

undef $wait_for_input; # watcher no longer needed

print "your name is $name\n";
