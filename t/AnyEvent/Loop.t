# The loop as a whole: AnyEvent::Loop, the model names, PERL_ANYEVENT_MODEL, the version, and the
# embedding API of AnyEvent::Impl::Rust (backend_fd, next_timeout, run_nowait).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog wait_until_blocked);
use AnyEvent;
use AnyEvent::Loop;
use AnyEvent::Impl::Perl;
use POSIX ();

watchdog(20);

# Runs perl with our blib (as prove -b does) and returns its combined output.
sub run_perl {
    my ($env, @args) = @_;
    my @inc = map { "-I$_" } grep { m{blib} } @INC;
    local @ENV{keys %$env} = values %$env;
    my $out = qx{$^X @inc @args 2>&1};
    return $out;
}

subtest 'model, version, detect, post_detect' => sub {
    cmp_ok $AnyEvent::VERSION, '>=', 7.17, '$AnyEvent::VERSION >= 7.17';
    is AnyEvent::detect(), 'AnyEvent::Impl::Perl', 'detect: AnyEvent::Loop is loaded, so the "Perl" model (our own loop), as 7.17';
    is $AnyEvent::MODEL, 'AnyEvent::Impl::Perl', '$AnyEvent::MODEL';
    ok(AnyEvent::Impl::Perl->isa('AnyEvent::Impl::Rust'), 'AnyEvent::Impl::Perl is a name for the Rust loop');
    my $ran = 0;
    AnyEvent::post_detect { $ran++ };
    is $ran, 1, 'post_detect runs its block at once (the model is known)';
    is run_perl({}, q{-e 'BEGIN { push @AnyEvent::post_detect, sub { print "post_detect ran\n" } } use AnyEvent; print "loaded\n"; AnyEvent::detect'}),
        "loaded\npost_detect ran\n", '@AnyEvent::post_detect pushed before loading runs at detection';
};

subtest 'PERL_ANYEVENT_MODEL' => sub {
    for (['Perl', 'AnyEvent::Impl::Perl'], ['Rust', 'AnyEvent::Impl::Rust'], ['AnyEvent::Impl::Perl::', 'AnyEvent::Impl::Perl']) {
        my ($model, $want) = @$_;
        is run_perl({ PERL_ANYEVENT_MODEL => $model }, q{-MAnyEvent -e 'AnyEvent::detect; print $AnyEvent::MODEL'}),
            $want, "PERL_ANYEVENT_MODEL=$model runs on our own loop, silently";
    }
    my $out = run_perl({ PERL_ANYEVENT_MODEL => 'NoSuchLoop' },
        q{-MAnyEvent -e 'my $cv = AE::cv; my $t = AE::timer 0, 0, $cv; $cv->recv; print "model $AnyEvent::MODEL\n"'});
    like $out, qr/model AnyEvent::Impl::Rust$/m, 'PERL_ANYEVENT_MODEL=NoSuchLoop: falls back to detection, our loop, and it works';
    like $out, qr/^[-\d]+ [:.\d]+ [-+]\d{4} alert AnyEvent: unable to load model 'AnyEvent::Impl::NoSuchLoop'/m,
        'the unavailable model is reported (AnyEvent::Log, level alert)';
    is scalar(() = $out =~ /^.* AnyEvent: /mg), 1, 'in one line';
    $out = run_perl({ PERL_ANYEVENT_MODEL => 'NoSuchLoop', PERL_ANYEVENT_VERBOSE => 1 },
        q{-MAnyEvent -e 'AnyEvent::detect; print "model $AnyEvent::MODEL\n"'});
    is $out, "model AnyEvent::Impl::Rust\n", 'silent below verbose 2';
    # A model whose loop is there but cannot start: Tk without a display.
    if (eval { require Tk; 1 }) {
        $out = run_perl({ PERL_ANYEVENT_MODEL => 'Tk', DISPLAY => '' },
            q{-MAnyEvent -e 'my $cv = AE::cv; my $t = AE::timer 0, 0, $cv; $cv->recv; print "model $AnyEvent::MODEL\n"'});
        like $out, qr/^[-\d]+ [:.\d]+ [-+]\d{4} alert AnyEvent: cannot start model 'AnyEvent::Impl::Tk': .*display.*\nmodel AnyEvent::Impl::Rust\n\z/,
            'PERL_ANYEVENT_MODEL=Tk without a display: one line, then our loop runs';
    }
};

subtest 'AnyEvent::Loop::run and one_event' => sub {
    my $n = 0;
    my $t = AE::timer 0, 0.001, sub { die "stop\n" if ++$n == 3 };
    ok !eval { AnyEvent::Loop::run(); 1 }, 'run returns only by an exception';
    is $@, "stop\n", 'the callback\'s exception';
    is $n, 3, 'it ran the loop until then';
    undef $t;
    my $fired = 0;
    my $t2 = AE::timer 0.01, 0, sub { $fired++ };
    AnyEvent::Loop::one_event() until $fired;
    is $fired, 1, 'one_event blocks until something happened';
    $fired = 0;
    my $t3 = AE::timer 0, 0, sub { $fired++ };
    AnyEvent->one_event;
    is $fired, 1, 'AnyEvent->one_event (the 4.x name) too';
};

subtest 'embedding: backend_fd, next_timeout, run_nowait' => sub {
    my $fd = AnyEvent::Impl::Rust::backend_fd();
    like $fd, qr/^\d+$/, 'backend_fd is a descriptor number';
    ok -e "/proc/self/fd/$fd", 'and it is open';
    like readlink("/proc/self/fd/$fd"), qr/eventpoll/, 'an epoll instance';
    is AnyEvent::Impl::Rust::next_timeout(), undef, 'no watchers: next_timeout is undef';

    my $t = AE::timer 5, 0, sub { };
    my $to = AnyEvent::Impl::Rust::next_timeout();
    ok defined $to && $to > 4 && $to <= 5, 'with a 5 s timer, next_timeout is about 5'
        or diag "next_timeout: " . ($to // 'undef');
    my $start = AE::time;
    AnyEvent::Impl::Rust::run_nowait();
    cmp_ok AE::time - $start, '<', 1, 'run_nowait does not wait for the timer';
    undef $t;

    my $idle = AE::idle sub { };
    is AnyEvent::Impl::Rust::next_timeout(), 0, 'with an idle watcher, next_timeout is 0';
    undef $idle;

    my $ran = 0;
    my $t0 = AE::timer 0, 0, sub { $ran++ };
    AnyEvent::Impl::Rust::run_nowait();
    is $ran, 1, 'run_nowait runs what is due';
};

# A foreign event loop (here: select) waiting on backend_fd with next_timeout as its timeout.
sub foreign_loop {
    my ($done, $max) = @_;
    my $deadline = AE::time + $max;
    until ($done->() || AE::time > $deadline) {
        my $to = AnyEvent::Impl::Rust::next_timeout();
        $to = $deadline - AE::time if !defined $to || $to > $deadline - AE::time;
        $to = 0 if $to < 0;
        vec(my $rin = '', AnyEvent::Impl::Rust::backend_fd(), 1) = 1;
        select($rin, undef, undef, $to);
        AnyEvent::Impl::Rust::run_nowait();
    }
}

subtest 'embedding: a foreign select loop drives timers, io and signals' => sub {
    my @got;
    my $t = AE::timer 0.05, 0, sub { push @got, 'timer' };
    foreign_loop(sub { @got }, 3);
    is "@got", 'timer', 'timer served';

    pipe(my $r, my $w) or die;
    my $io = AE::io $r, 0, sub { sysread $r, my $buf, 10; push @got, "io:$buf" };
    my $pid = fork // die;
    if (!$pid) {
        wait_until_blocked(getppid);
        syswrite $w, 'data';
        POSIX::_exit(0);
    }
    my $start = AE::time;
    foreign_loop(sub { @got > 1 }, 3);
    waitpid $pid, 0;
    is "@got", 'timer io:data', 'io served: backend_fd became readable';
    cmp_ok AE::time - $start, '<', 2, 'without waiting for the safety deadline';

    my $s = AE::signal USR1 => sub { push @got, 'signal' };
    $pid = fork // die;
    if (!$pid) {
        wait_until_blocked(getppid);
        kill USR1 => getppid;
        POSIX::_exit(0);
    }
    $start = AE::time;
    foreign_loop(sub { @got > 2 }, 3);
    waitpid $pid, 0;
    is "@got", 'timer io:data signal', 'signal served';
    cmp_ok AE::time - $start, '<', 2, 'without waiting for the safety deadline';
};

done_testing;
