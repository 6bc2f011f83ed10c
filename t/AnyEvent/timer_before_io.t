# A timer that is due runs before the io callbacks of the same loop iteration, as with both of
# AnyEvent 7.17's own loops (EV, and the pure-Perl loop). AnyEvent::AggressiveIdle (CPAN) keeps
# a write watcher on an always-writable pipe end to run a callback every iteration; a zero timer
# created next to it must still run first.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within sockets);
use AnyEvent;
use AnyEvent::Util qw(portable_pipe);

watchdog(20);

subtest 'a due timer before a ready write watcher (the AggressiveIdle pattern)' => sub {
    my ($r, $w) = portable_pipe or die "pipe: $!";
    my @log;
    my $cv = AE::cv;
    my $n = 0;
    my $io = AE::io $w, 1, sub { push @log, "io$n"; $cv->send if ++$n == 3 };
    my $t = AE::timer 0, 0, sub { push @log, 'timer' };
    recv_within($cv, 5, 'io callbacks');
    is_deeply \@log, [qw(timer io0 io1 io2)], 'timer first, then the io callback each iteration';
};

subtest 'a due timer before a ready read watcher' => sub {
    my ($x, $y) = sockets();
    syswrite $y, "x";
    my @log;
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub { push @log, 'timer' };
    my $io = AE::io $x, 0, sub { sysread $x, my $buf, 1; push @log, 'read'; $cv->send };
    recv_within($cv, 5, 'read callback');
    is_deeply \@log, [qw(timer read)], 'timer first, then the read callback';
};

done_testing;
