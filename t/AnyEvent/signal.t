# signal watchers: names, several watchers per signal, delivery from the loop, the previous
# disposition restored, and a signal waking a blocked loop at once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within run_for wait_until_blocked);
use AnyEvent;
use POSIX ();

watchdog(30);

subtest 'by name, with and without SIG; called from the loop, not inside kill' => sub {
    for my $name (qw(USR1 SIGUSR1 USR2)) {
        my $calls = 0;
        my $cv = AE::cv;
        my $w = AnyEvent->signal(signal => $name, cb => sub { $calls++; $cv->send(scalar @_) });
        kill $name =~ s/^SIG//r, $$;
        is $calls, 0, "$name: callback not run inside kill()";
        my $nargs = recv_within($cv, 2, $name);
        is $calls, 1, "$name: callback run by the loop";
        is $nargs, 0, "$name: callback got no arguments";
    }
};

subtest 'several watchers on one signal all fire' => sub {
    my %calls;
    my $cv = AE::cv;
    $cv->begin for 1 .. 3;
    my @w = map { my $i = $_; AE::signal 'USR1', sub { $calls{$i}++; $cv->end } } 1 .. 3;
    kill USR1 => $$;
    recv_within($cv, 2, 'three watchers');
    is_deeply \%calls, { 1 => 1, 2 => 1, 3 => 1 }, 'each watcher called once';
    undef $w[1];
    %calls = ();
    kill USR1 => $$;
    run_for(0.05);
    is_deeply \%calls, { 1 => 1, 3 => 1 }, 'after one watcher is destroyed the others still fire, it does not';
};

subtest 'the previous disposition returns after the last watcher is gone' => sub {
    plan skip_all => "the signal is the foreign loop's own (libev, IO::Async, Event, POE), which does not restore %SIG as ours does"
        if AnyEvent::detect() =~ /::(?:EV|IOAsync|Event|POE)$/;
    my $perl_handler = 0;
    local $SIG{USR1} = sub { $perl_handler++ };
    my $calls = 0;
    my @w = map { AE::signal 'USR1', sub { $calls++ } } 1 .. 2;
    kill USR1 => $$;
    run_for(0.02);
    is $calls, 2, 'both watchers fired';
    is $perl_handler, 0, 'the earlier %SIG handler was replaced while watchers exist';
    shift @w;
    kill USR1 => $$;
    run_for(0.02);
    is $perl_handler, 0, 'still replaced while one watcher is left';
    @w = ();
    kill USR1 => $$;
    1 for 1 .. 10;    # Perl runs its deferred handler at the next op
    is $perl_handler, 1, 'the %SIG handler set before runs again once the last watcher is gone';
    is $calls, 3, 'no watcher called after destruction';

    local $SIG{USR2} = 'IGNORE';
    my $w = AE::signal 'USR2', sub { };
    undef $w;
    kill USR2 => $$;
    1 for 1 .. 10;
    pass 'IGNORE restored: USR2 after the watcher is gone does not kill the process';
};

subtest 'a signal wakes a loop blocked in recv at once' => sub {
    my $cv = AE::cv;
    my $w = AE::signal 'USR1', sub { $cv->send('signal') };
    my $fallback = AE::timer 10, 0, sub { $cv->send('fallback timer') };
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        wait_until_blocked($parent);
        kill USR1 => $parent;
        POSIX::_exit(0);
    }
    my $start = AE::time;
    my $how = $cv->recv;
    my $elapsed = AE::time - $start;
    waitpid $pid, 0;
    is $how, 'signal', 'the signal watcher ended the wait, not the 10 s fallback timer';
    cmp_ok $elapsed, '<', 3, 'and it did so quickly';

    # one_event: the signal interrupts epoll_wait; the same iteration must deliver it. (Under a
    # foreign loop, one iteration of that loop may end for one of its other sources.)
    return if AnyEvent::detect() !~ /::(?:Rust|Perl)$/;
    my $calls = 0;
    my $w2 = AE::signal 'USR2', sub { $calls++ };
    $pid = fork // die "fork: $!";
    if (!$pid) {
        wait_until_blocked($parent);
        kill USR2 => $parent;
        POSIX::_exit(0);
    }
    AnyEvent::Impl::Rust::one_event();
    waitpid $pid, 0;
    is $calls, 1, 'one_event woken by a signal calls its watcher in that same iteration';
};

subtest 'Perl %SIG handlers run while the loop waits' => sub {
    plan skip_all => 'a foreign loop waiting in C runs deferred %SIG handlers only when it returns to Perl'
        if AnyEvent::detect() !~ /::(?:Rust|Perl)$/;
    my $parent = $$;
    my $cv = AE::cv;
    my $fallback = AE::timer 10, 0, sub { $cv->send('fallback timer') };
    local $SIG{HUP} = sub { $cv->send('%SIG handler') };
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        wait_until_blocked($parent);
        kill HUP => $parent;
        POSIX::_exit(0);
    }
    my $start = AE::time;
    is $cv->recv, '%SIG handler', 'a $SIG{HUP} handler ran while recv was blocked, and could send';
    cmp_ok AE::time - $start, '<', 3, 'at once';
    waitpid $pid, 0;

    local $SIG{HUP} = sub { die "from the handler\n" };
    my $cv2 = AE::cv;
    my $fallback2 = AE::timer 10, 0, sub { $cv2->send('fallback timer') };
    $pid = fork // die "fork: $!";
    if (!$pid) {
        wait_until_blocked($parent);
        kill HUP => $parent;
        POSIX::_exit(0);
    }
    ok !eval { $cv2->recv; 1 }, 'die in a %SIG handler leaves recv';
    is $@, "from the handler\n", 'with its exception (the alarm/die timeout idiom)';
    waitpid $pid, 0;
};

done_testing;
