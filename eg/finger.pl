#!/usr/bin/perl
# The tutorial's parallel finger client (tcp_connect and a raw io watcher).
# usage: perl eg/finger.pl user@host [user@host ...]
use strict;
use warnings;
use AnyEvent;
use AnyEvent::Socket;

sub finger($$) {
   my ($user, $host) = @_;

   # use a condvar to return results
   my $cv = AnyEvent->condvar;

   # first, connect to the host
   tcp_connect $host, "finger", sub {
      # the callback receives the socket handle - or nothing
      my ($fh) = @_
         or return $cv->send;

      # now write the username
      syswrite $fh, "$user\015\012";

      my $response;

      # register a read watcher
      my $read_watcher; $read_watcher = AnyEvent->io (
         fh   => $fh,
         poll => "r",
         cb   => sub {
            my $len = sysread $fh, $response, 1024, length $response;

            if ($len <= 0) {
               # we are done, or an error occured, lets ignore the latter
               undef $read_watcher; # no longer interested
               $cv->send ($response); # send results
            }
         },
      );
   };

   # pass $cv to the caller
   $cv
}

my @requests = map { /^(.*)\@(.+)$/ or die "usage: $0 user\@host ...\n"; [$_, finger $1, $2] } @ARGV
   or die "usage: $0 user\@host ...\n";
# all requests run in parallel; the results are collected in order
for (@requests) {
   my ($who, $cv) = @$_;
   my $answer = $cv->recv;
   print "$who: ", defined $answer ? $answer : "error: $!", "\n";
}
