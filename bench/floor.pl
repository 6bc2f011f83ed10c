#!/usr/bin/perl
# The large-server benchmark's per-request work without any event loop: the same 9000 socket
# pairs and callback body (read a byte, forward it to a random pair, re-create the idle timer),
# with the ready sockets taken from a queue instead of from the loop. It shows how much of
# server.pl's request time no event loop can save.
# usage: perl floor.pl [full|bare]     bare: without the timer re-creation
use strict;
use warnings;
use Socket;
use Time::HiRes qw(time);
use AnyEvent;

my $n    = 9000;
my $mode = shift // 'full';
srand 42;

my @conn;
for (1 .. $n) {
    socketpair my $r, my $w, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    push @conn, { r => $r, w => $w, to => AE::timer(3600, 0, sub { die }) };
}
my @queue = map { int rand @conn } 1 .. 90;
syswrite $conn[$_]{w}, "x", 1 for @queue;

my $count = 0;
my $t0    = time;
while ($count < 500_000) {
    my $self = $conn[shift @queue];
    ++$count;
    sysread $self->{r}, my $buf, 1;
    my $next = int rand @conn;
    syswrite $conn[$next]{w}, $buf, 1;
    push @queue, $next;
    $self->{to} = AE::timer(3600, 0, sub { die "timeout fired" }) if $mode eq 'full';
}
printf STDERR "model=%s mode=%s request=%.2f\n", AnyEvent::detect(), $mode, (time - $t0) / $count * 1e6;
