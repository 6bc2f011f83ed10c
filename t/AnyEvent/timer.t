# timers: one-shot, after => 0, repeating, ordering, the cached loop time, and the tutorial's
# re-created once_per_second timer.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;

watchdog(20);

subtest 'one-shot timer fires once, not before its time' => sub {
    AnyEvent->now_update;           # timers count from the loop time
    my $start = AnyEvent->now;
    my $calls = 0;
    my $cv = AE::cv;
    my $t = AnyEvent->timer(after => 0.1, cb => sub { $calls++; $cv->send(AnyEvent->time) });
    my $at = recv_within($cv, 3, 'timer');
    cmp_ok $at - $start, '>=', 0.095, 'fired after (about) 0.1 s, not earlier';
    my $done = AE::cv;
    my $later = AE::timer 0.15, 0, sub { $done->send };
    $done->recv;
    is $calls, 1, 'a one-shot timer fires once';
};

subtest 'after => 0 fires at the next iteration, not synchronously' => sub {
    my $fired = 0;
    my $t = AnyEvent->timer(after => 0, cb => sub { $fired++ });
    is $fired, 0, 'not called from inside AnyEvent->timer';
    AnyEvent::Impl::Rust::one_event();
    is $fired, 1, 'called by the next loop iteration';
    my $neg = 0;
    my $t2 = AE::timer -5, 0, sub { $neg++ };
    AnyEvent::Impl::Rust::one_event();
    is $neg, 1, 'a negative after counts as 0';
};

subtest 'interval repeats' => sub {
    my @at;
    my $cv = AE::cv;
    my $start = AnyEvent->now;
    my $t = AnyEvent->timer(after => 0.01, interval => 0.02, cb => sub {
        push @at, AnyEvent->now;
        $cv->send if @at == 5;
    });
    recv_within($cv, 3, 'five ticks');
    is scalar(@at), 5, 'fired five times';
    cmp_ok $at[-1] - $start, '>=', 0.085, 'five ticks took at least after + 4 intervals';
    my @gaps = map { $at[$_] - $at[$_ - 1] } 1 .. $#at;
    # Ticks that fell due together (the process was late) are not fired in one burst: each
    # comes in an iteration of its own, whose AnyEvent->now is later. (As with EV, a late tick
    # may come in the very next iteration, so how much later depends on the load.)
    ok !(grep { $_ <= 0 } @gaps), "each tick in its own iteration (no burst of catch-up ticks)"
        or diag "gaps: @gaps";
    undef $t;
    my $n = @at;
    my $done = AE::cv;
    my $w = AE::timer 0.06, 0, sub { $done->send };
    $done->recv;
    is scalar(@at), $n, 'no tick after undef';
};

subtest 'ordering of different afters; equal afters in creation order' => sub {
    my @order;
    my $cv = AE::cv;
    my @t = (
        AE::timer(0.06, 0, sub { push @order, 'c'; $cv->send }),
        AE::timer(0.02, 0, sub { push @order, 'a' }),
        AE::timer(0.04, 0, sub { push @order, 'b' }),
        AE::timer(0,    0, sub { push @order, 'zero' }),
    );
    recv_within($cv, 3, 'last timer');
    is "@order", 'zero a b c', 'timers fire in deadline order';

    @order = ();
    my $all = AE::cv;
    my @same = map { my $i = $_; AE::timer 0.01, 0, sub { push @order, $i; $all->send if @order == 5 } } 1 .. 5;
    recv_within($all, 3, 'equal timers');
    is "@order", '1 2 3 4 5', 'equal deadlines fire first-come first-served';
};

subtest 'AnyEvent->now is cached per iteration; time and now_update are not' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub {
        my $now = AnyEvent->now;
        my $time = AnyEvent->time;
        my $end = $time + 0.03;
        1 while AE::time < $end;           # a long computation inside one callback
        my %r = (now_before => $now, now_after => AE::now, time_after => AnyEvent->time);
        AnyEvent->now_update;
        $r{now_updated} = AnyEvent->now;
        $cv->send(\%r);
    };
    my $r = recv_within($cv, 3, 'timer');
    is $r->{now_after}, $r->{now_before}, 'now does not move during one callback';
    cmp_ok $r->{time_after} - $r->{now_before}, '>=', 0.029, 'time does';
    cmp_ok $r->{now_updated}, '>=', $r->{time_after}, 'now_update brings now up to the current time';
    cmp_ok abs(AnyEvent->now - AnyEvent->time), '<', 1, 'now is wall-clock time (epoch seconds)';

    my ($first, $second, $t2);
    my $done = AE::cv;
    my $t1 = AE::timer 0, 0, sub {
        $first = AE::now;
        $t2 = AE::timer 0.02, 0, sub { $second = AE::now; $done->send };
    };
    recv_within($done, 3, 'second timer');
    cmp_ok $second - $first, '>=', 0.015, 'now advances between iterations';
};

subtest "the tutorial's once_per_second timer, re-created from its own callback" => sub {
    my $ticks = 0;
    my $quit = AnyEvent->condvar;
    my $time_watcher;
    my $once_per_second;
    $once_per_second = sub {
        $ticks++;
        return $quit->send if $ticks == 4;
        # (re-)create the watcher
        $time_watcher = AnyEvent->timer(after => 0.02, cb => $once_per_second);
    };
    $once_per_second->();
    my $start = AE::now;
    recv_within($quit, 3, 'four ticks');
    is $ticks, 4, 'ticked four times (one call, then three re-created timers)';
    cmp_ok AE::now - $start, '>=', 0.055, 'each re-created timer waited its time';
    undef $once_per_second;
};

subtest 'timers too far away for the clock (9**9**9 means never) do not disturb the loop' => sub {
    my $fired = 0;
    my $never = AE::timer 9**9**9, 0, sub { $fired++ };
    my $far = AE::timer 1e20, 0, sub { $fired++ };
    is_deeply [AnyEvent::Impl::Rust::next_timeout() > 1e6], [1], 'next_timeout is huge';
    pipe(my $r, my $w) or die;
    my $got = 0;
    my $io = AE::io $r, 0, sub { sysread $r, my $buf, 1; $got++ };
    my $parent = $$;
    my $pid = fork // die;
    if (!$pid) {
        for (1 .. 2000) {    # wait until the parent blocks in epoll_wait
            open(my $fh, '<', "/proc/$parent/wchan") or last;
            last if (<$fh> // '') =~ /epoll/;
            select undef, undef, undef, 0.001;
        }
        syswrite $w, 'x';
        require POSIX;
        POSIX::_exit(0);
    }
    AnyEvent::Impl::Rust::one_event() until $got;
    waitpid $pid, 0;
    is $got, 1, 'the loop waited for io (no error about the timeout)';
    is $fired, 0, 'the far timers did not fire';
};

subtest '300 timers at random times, a third destroyed: the rest fire once, in order' => sub {
    srand 42;
    AnyEvent->now_update;
    my (@fired, %timer);
    my $cv = AE::cv;
    my @after = map { int(rand 50) / 1000 } 1 .. 300;
    for my $i (0 .. $#after) {
        $cv->begin unless $i % 3 == 0;
        $timer{$i} = AE::timer $after[$i], 0, sub { push @fired, $i; $cv->end };
    }
    delete $timer{$_} for grep { $_ % 3 == 0 } keys %timer;
    recv_within($cv, 5, 'the timers');
    my @expected = sort { $after[$a] <=> $after[$b] || $a <=> $b } grep { $_ % 3 } 0 .. $#after;
    is_deeply \@fired, \@expected, 'every surviving timer fired once, by deadline, ties in creation order';
};

subtest 'a false interval means one-shot' => sub {
    for my $interval (undef, 0, '', '0') {
        my $label = defined $interval ? "'$interval'" : 'undef';
        my $calls = 0;
        my @warnings;
        local $SIG{__WARN__} = sub { push @warnings, @_ };
        my $t = AnyEvent->timer(after => 0, interval => $interval, cb => sub { $calls++ });
        my $t2 = AE::timer 0, $interval, sub { $calls++ };
        my $done = AE::cv;
        my $later = AE::timer 0.05, 0, sub { $done->send };
        $done->recv;
        is $calls, 2, "interval => $label: each timer fired once";
        is_deeply \@warnings, [], "interval => $label: no warning";
    }
};

done_testing;
