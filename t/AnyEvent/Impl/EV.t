# AnyEvent inside EV's loop: AnyEvent::Impl::EV (see AETest::Loops for what is checked).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('EV') }
use EV;
use AETest::Loops;

AETest::Loops::watchdog(120);

AETest::Loops::check(
    model  => 'EV',
    module => 'EV',
    run    => sub { EV::run() },
    quit   => sub { EV::break(EV::BREAK_ALL()) },
    timer  => sub { my ($secs, $cb) = @_; EV::timer($secs, $secs, $cb) },
    child  => sub { my ($pid, $cb) = @_; EV::child($pid, 0, sub { $cb->($_[0]->rpid, $_[0]->rstatus) }) },
    same_pid_both => 1,
);

subtest 'EV::run returns when nothing of ours (or EV) is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    EV::run();
    is $fired, 1, 'EV::run ran our timer, then returned on its own';
};

done_testing;
