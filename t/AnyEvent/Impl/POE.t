# AnyEvent inside POE's kernel: AnyEvent::Impl::POE (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('POE') }
use POE;
use AETest::Loops;

AETest::Loops::watchdog(150);

# POE::Kernel->run returns when no session has work; a session of the test keeps it running
# until quit.
my $quit;
sub run_kernel {
    POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->delay(check => 0.01) },
        check  => sub { $_[KERNEL]->delay(check => 0.01) unless $quit },
    });
    $quit = 0;
    POE::Kernel->run;
}

my %timers;
my $tid = 0;
AETest::Loops::check(
    model  => 'POE',
    module => 'POE',
    run    => \&run_kernel,
    # run returns when no session has work; ours has while watchers of ours exist: stop it
    quit   => sub { $quit = 1; POE::Kernel->stop },
    # POE answers an exception in any handler by stopping every session (the DIE signal)
    death_ends_loop => "under POE::Kernel->run, POE stops every session when a handler dies, the test's own timer included; "
        . 'see the subtests below for what carries on',
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = ++$tid;
        $timers{$id} = 1;
        POE::Session->create(inline_states => {
            _start => sub { $_[KERNEL]->delay(tick => $secs) },
            tick   => sub { return unless $timers{$id}; $cb->(); $_[KERNEL]->delay(tick => $secs) },
        });
        return AETest::Loops::Guard->new(sub { delete $timers{$id} });
    },
    # POE's own child watcher: sig_child in a session of the test
    child  => sub {
        my ($pid, $cb) = @_;
        my $live = 1;
        POE::Session->create(inline_states => {
            _start => sub { $_[KERNEL]->sig_child($pid, 'done') },
            done   => sub { $cb->(@_[ARG1, ARG2]) if $live },
        });
        return AETest::Loops::Guard->new(sub { $live = 0 });
    },
);

subtest 'POE::Kernel->run returns when nothing of ours is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    POE::Kernel->run;
    is $fired, 1, 'POE::Kernel->run ran our timer, then returned on its own';
};

# A callback of ours that dies. Under POE::Kernel->run POE treats it as it treats an exception
# from any handler (it stops every session and rethrows it from run); our watchers carry on when
# POE runs again.
subtest 'a callback that dies under POE::Kernel->run: POE passes it on; our io watcher carries on' => sub {
    pipe my $r, my $w or die "pipe: $!";
    my @read;
    my $io = AE::io $r, 0, sub {
        sysread $r, my $buf, 1;
        push @read, $buf;
        die "deliberate io\n" if $buf eq 'a';
        $quit = 1;
        POE::Kernel->stop;
    };
    syswrite $w, 'a';
    my $err = eval { run_kernel(); 1 } ? 'returned' : $@;
    is $err, "deliberate io\n", 'POE::Kernel->run died with the exception';
    syswrite $w, 'b';
    run_kernel();
    is join('', @read), 'ab', 'the io event after it was delivered when POE ran again';
};

# During recv, which drives POE one timeslice at a time, the exception leaves recv, and POE's
# sessions are left alone.
subtest 'a callback that dies during recv: recv passes it on; POE and our loop carry on' => sub {
    my $ticks = 0;
    my $ticking = 1;
    POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->delay(tick => 0.005) },
        tick   => sub { $ticks++; $_[KERNEL]->delay(tick => 0.005) if $ticking },
    });
    my @fired;
    my $t1 = AE::timer 0.01, 0, sub { push @fired, 1; die "deliberate\n" };
    my $t2 = AE::timer 0.01, 0, sub { push @fired, 2 };
    my $cv = AE::cv;
    my $t3 = AE::timer 0.03, 0, sub { push @fired, 3; $cv->send('done') };
    my $err = eval { $cv->recv; 1 } ? 'returned' : $@;
    is $err, "deliberate\n", 'recv died with the exception';
    is $cv->recv, 'done', 'the next recv went on';
    is_deeply \@fired, [1, 2, 3], 'the callback queued after the dying one, then the rest';
    my $before = $ticks;
    my $cv2 = AE::cv;
    my $t4 = AE::timer 0.03, 0, sub { $cv2->send };
    $cv2->recv;
    cmp_ok $ticks, '>', $before, "the program's POE session still runs";
    $ticking = 0;
};

# POE::Kernel->stop takes every session with its signal and child registrations: ours are made
# again when POE runs again.
subtest 'signal and child watchers made before POE::Kernel->stop work when POE runs again' => sub {
    my (%got, $kid);
    my $done = sub { keys %got == 2 and do { $quit = 1; POE::Kernel->stop } };
    my $s = AE::signal USR2 => sub { $got{signal}++; $done->() };
    pipe my $r, my $w or die "pipe: $!";
    $kid = fork // die "fork: $!";
    unless ($kid) { close $w; sysread $r, my $go, 1; POSIX::_exit(6) }
    close $r;
    my $c = AE::child $kid, sub { $got{child} = $_[1] >> 8; $done->() };
    my $t = AE::timer 0, 0, sub { $quit = 1; POE::Kernel->stop };
    run_kernel();    # stopped at once
    undef $t;
    # the signal and the child's exit come while POE runs again
    my $t2 = AE::timer 0.01, 0, sub { kill USR2 => $$; close $w };
    run_kernel();
    is_deeply \%got, { signal => 1, child => 6 }, 'the signal and the child were reported';
};

# POE registrations alone (signals, any child) do not keep a POE session: ours must hold on while
# they exist, also when the Rust loop has nothing to watch.
subtest 'a signal watcher and a watcher for any child alone keep working' => sub {
    my %got;
    my $cv = AE::cv;
    my $s = AE::signal WINCH => sub { $got{signal}++; $cv->send if keys %got == 2 };
    my $c = AE::child 0, sub { $got{child} = $_[1] >> 8; $cv->send if keys %got == 2 };
    # our loop's one timer ends, which leaves it empty: POE collects sessions with nothing left
    my $cv0 = AE::cv;
    my $t = AE::timer 0.01, 0, sub { $cv0->send };
    $cv0->recv;
    undef $t;
    kill WINCH => $$;
    my $pid = fork // die "fork: $!";
    POSIX::_exit(5) unless $pid;
    my $watchdog = AE::timer 5, 0, sub { $cv->send };
    $cv->recv;
    is_deeply \%got, { signal => 1, child => 5 }, 'the signal and the child were reported';
};

# POE reaps every exited child whenever one of its runs returns: choosing the model must not run
# it, or a child that exited before then is lost to its watcher (run_cmd's first child was).
subtest 'a child that exited before the model was chosen is reported to its watcher' => sub {
    require AETest::Perl;
    my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_MODEL => 'POE' }, q{
        use POE; use AnyEvent; use POSIX ();
        alarm 10;
        my $exited;
        $SIG{CHLD} = sub { $exited = 1 };
        my $pid = fork // die "fork: $!";
        POSIX::_exit(9) unless $pid;
        select undef, undef, undef, 0.01 until $exited;    # SIGCHLD ends the wait
        $SIG{CHLD} = 'DEFAULT';
        my $cv = AE::cv;
        my $w = AE::child $pid, sub { $cv->send($_[0] == $pid ? $_[1] >> 8 : "pid $_[0]") };
        print $AnyEvent::MODEL, ' ', $cv->recv;
    });
    is $out, 'AnyEvent::Impl::POE 9', 'the watcher got the exit status';
    is $err, '', 'and POE said nothing (no "Stopped child process reaped")';
};

# POE sets its SIGCHLD handler only after a first waitpid pass: a child that exits in between
# sends its SIGCHLD to the default disposition. The pass is slowed down here (POE's own
# _data_sig_reap_pids wrapped with a pause) so that the child exits in that gap every time.
for my $case (['a watcher for the pid', '$pid'], ['a watcher for any child (pid 0)', '0']) {
    my ($what, $watched) = @$case;
    subtest "a child that exits while POE installs its SIGCHLD handler: $what" => sub {
        plan skip_all => "this POE has no _data_sig_reap_pids to slow down"
            unless defined &POE::Kernel::_data_sig_reap_pids;
        require AETest::Perl;
        my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_MODEL => 'POE' }, q{
            use POE; use AnyEvent; use POSIX (); use Time::HiRes ();
            alarm 10;
            my $reap = \&POE::Kernel::_data_sig_reap_pids;
            { no warnings 'redefine';
              *POE::Kernel::_data_sig_reap_pids = sub { my @r = $reap->(@_); Time::HiRes::sleep(0.3); @r } }
            pipe my $r, my $w or die "pipe: $!";
            my $pid = fork // die "fork: $!";
            unless ($pid) { close $w; sysread $r, my $go, 1; Time::HiRes::sleep(0.1); POSIX::_exit(9) }
            close $r;
            my $cv = AE::cv;
            my $c = AE::child WATCHED, sub { $cv->send($_[0] == $pid ? $_[1] >> 8 : "pid $_[0]") };
            close $w;    # the child exits 0.1 s from now, during POE's first (slowed) pass
            my $t = AE::timer 5, 0, sub { $cv->send('never reported') };
            print $cv->recv;
        } =~ s/WATCHED/$watched/r);
        is $out, '9', 'the watcher got the exit status' or diag $err;
    };
}

# POE's %SIG handlers are Perl's deferred ones: a SIGCHLD that arrives just before POE blocks in
# select(2) is handled only when select returns. Here SIGCHLD is blocked while POE's timeslice
# runs, which gives every SIGCHLD that timing: only a wake-up of POE lets the child be reported.
for my $case (['a watcher for the pid', '$pid'], ['a watcher for any child (pid 0)', '0']) {
    my ($what, $watched) = @$case;
    subtest "a SIGCHLD handled only when POE's select returns: $what" => sub {
        require AETest::Perl;
        my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_MODEL => 'POE' }, q{
            use POE; use AnyEvent; use POSIX (); use Time::HiRes ();
            alarm 20;
            use AETest::Perl qw(block_signal_during);
            block_signal_during('POE::Kernel::loop_do_timeslice', 'CHLD');
            my $pid = fork // die "fork: $!";
            unless ($pid) { Time::HiRes::sleep(0.5); POSIX::_exit(9) }
            my $cv = AE::cv;
            my $c = AE::child WATCHED, sub { $cv->send($_[0] == $pid ? $_[1] >> 8 : "pid $_[0]") };
            my $t = AE::timer 5, 0, sub { $cv->send('not reported within 5 s') };
            print $cv->recv;
        } =~ s/WATCHED/$watched/r);
        is $out, '9', 'the watcher got the exit status' or diag $err;
    };
}

done_testing;
