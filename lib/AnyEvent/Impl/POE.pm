package AnyEvent::Impl::POE;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use POE;    # POE::Kernel (set up by its import) and POE::Session

our @ISA = ('AnyEvent::Impl::Embed');

# One POE session carries our source: a select on the epoll fd and one alarm. POE ends a
# session that has nothing left to watch, and POE::Kernel->run ends when no session has, so
# the session is created on demand and given up while the Rust loop has no watchers.
my $session;
my (%fd_cb, %alarm_cb);

# POE::Kernel->stop takes our session with what it watched. Until POE runs again (run or
# loop_do_timeslice), nothing is re-created: a new session would keep the stopped kernel going.
# (POE has no hook for either: its run and stop are wrapped, see _start.)
my $stopped;

sub _stopping {
    undef $session;
    _held_by(undef);
    %fd_cb = %alarm_cb = ();
    $stopped = 1;
    return;
}

sub _resume {
    return unless $stopped;
    $stopped = 0;
    my $src = $AnyEvent::Impl::Embed::SOURCE or return;
    delete @$src{qw(io timer)};
    $src->{fd} = -1;
    $src->rearm;
    _rewatch();
    return;
}

sub _session {
    return $session if $session;
    my $s = POE::Session->create(inline_states => {
        _start    => sub { },
        _stop     => sub { undef $session; _held_by(undef) },
        fd_ready  => sub { my $cb = $fd_cb{ fileno $_[POE::Session::ARG0()] }; _guarded($cb) if $cb },
        alarm     => sub { my $cb = delete $alarm_cb{ $_[POE::Session::ARG0()] }; _guarded($cb) if $cb },
        watch     => sub { $_[POE::Session::KERNEL()]->select_read($_[POE::Session::ARG0()], 'fd_ready') },
        unwatch   => sub { $_[POE::Session::KERNEL()]->select_read($_[POE::Session::ARG0()]) },
        set_alarm => sub { $_[POE::Session::KERNEL()]->delay_set(alarm => $_[POE::Session::ARG0()], $_[POE::Session::ARG1()]) },
        clear     => sub { $_[POE::Session::KERNEL()]->alarm_remove($_[POE::Session::ARG0()]) },
        # a signal's arguments (CHLD: pid, status) come between its name and ours
        sig_catch => sub { my $cb = $_[-1]; $_[POE::Session::KERNEL()]->sig_handled; _guarded($cb, @_[POE::Session::ARG1() .. $#_ - 1]) },
        sig_watch => sub {
            $_[POE::Session::KERNEL()]->sig($_[POE::Session::ARG0()], 'sig_catch', $_[POE::Session::ARG1()]);
            $_[POE::Session::KERNEL()]->yield('chld_recheck') if $_[POE::Session::ARG0()] eq 'CHLD';
        },
        sig_stop  => sub { $_[POE::Session::KERNEL()]->sig($_[POE::Session::ARG0()]) },
        child_done => sub { my $cb = $_[-1]; _guarded($cb, $_[POE::Session::ARG1()], $_[POE::Session::ARG2()]) },
        child_watch => sub {
            $_[POE::Session::KERNEL()]->sig_child($_[POE::Session::ARG0()], 'child_done', $_[POE::Session::ARG1()]);
            $_[POE::Session::KERNEL()]->yield('chld_recheck');
        },
        # POE installs its SIGCHLD handler only after a first waitpid pass (an event it queues
        # when CHLD gets watched): a child that exits between the two would never be reported.
        # A SIGCHLD of our own once the handler is in place makes POE look again.
        chld_recheck => sub { kill CHLD => $$ if ref $SIG{CHLD} eq 'CODE' },
        # POE's %SIG handlers are Perl's deferred ones: a signal (SIGCHLD, say) that arrives
        # just before POE blocks in select(2) is handled only when select returns, which with
        # nothing else to wake it may be never (POE's race, as under 7.17). While signal or
        # child watchers of ours exist, this alarm wakes POE every second, which bounds that wait.
        tick      => sub { $_[POE::Session::KERNEL()]->delay(tick => 1) },
        tick_stop => sub { $_[POE::Session::KERNEL()]->delay('tick') },
        child_stop => sub { $_[POE::Session::KERNEL()]->sig_child($_[POE::Session::ARG0()]) },
    });
    return $session = $s->ID;
}

sub _call { return if $stopped; $POE::Kernel::poe_kernel->call(_session(), @_) }

sub _start {
    # A kernel that had sessions but was never run complains at exit. AnyEvent 7.17 runs it once
    # with a session that stops it; but every POE::Kernel->run that returns reaps all exited
    # children (waitpid -1, "Stopped child process reaped"), among them any child forked before
    # the model was chosen, whose watcher would then wait for ever (run_cmd's first child, for
    # one). So the kernel is told it was run (the flag its run sets), and only when that flag is
    # not where POE 1.3xx keeps it, run as 7.17 does.
    my $flag = eval { $POE::Kernel::poe_kernel->[POE::Kernel::KR_RUN()] };
    if (ref $flag eq 'SCALAR' && defined &POE::Kernel::KR_RUN_CALLED) {
        $$flag |= POE::Kernel::KR_RUN_CALLED();
    } else {
        POE::Session->create(inline_states => { _start => sub { $_[POE::Session::KERNEL()]->stop } });
        POE::Kernel->run;
    }
    # POE::Kernel->stop takes our session; POE::Kernel->run after it: watch again first.
    my $run = \&POE::Kernel::run;
    my $stop = \&POE::Kernel::stop;
    no warnings 'redefine';
    *POE::Kernel::run = sub { _resume(); goto &$run };
    *POE::Kernel::stop = sub { _stopping(); goto &$stop };
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    my $dup = fileno $fh;    # POE reports the handle it selects
    $fd_cb{$dup} = $cb;
    _call(watch => $fh);
    return AnyEvent::Impl::Embed::_guard(sub {
        delete $fd_cb{$dup};
        _call(unwatch => $fh) if $session;
    });
}

my $next_alarm = 0;

sub _timer {
    my (undef, $after, $cb) = @_;
    my $token = ++$next_alarm;
    $alarm_cb{$token} = $cb;
    my $id = _call(set_alarm => $after, $token);
    return AnyEvent::Impl::Embed::_guard(sub {
        delete $alarm_cb{$token} or return;
        _call(clear => $id) if $session;
    });
}

# An exception from our callbacks. Under POE::Kernel->run it is POE's, as from any handler: POE
# signals DIE to the session and, unless a session handles that, stops every session and
# rethrows it from run (our source is made anew when POE runs again). During our recv
# (loop_do_timeslice, which has no rethrow point of its own: the stopped kernel would be left
# without even its own session) it is held back from POE and rethrown by recv, as the models
# whose loop passes it on do; POE's sessions carry on.
our ($IN_POLL, $ERROR) = (0);

sub _guarded {
    my ($cb, @args) = @_;
    return $cb->(@args) unless $IN_POLL;
    local $@;
    eval { $cb->(@args); 1 } and return;
    my $e = $@ // 'Died';
    # a second one in the same timeslice: appended, as POE does (unless either is an object)
    $ERROR = !defined $ERROR ? $e
           : ref $ERROR || ref $e ? $ERROR
           : "$ERROR" . "Additional error thrown in the same timeslice:\n$e";
    return;
}

sub _poll {
    _resume();
    local $IN_POLL = 1;
    local $ERROR;
    POE::Kernel->loop_do_timeslice;
    die $ERROR if defined $ERROR;
    return;
}

sub _keepalive {
    my (undef, $source, $alive) = @_;
    return if $alive;
    delete @$source{qw(io timer)};
    $source->{fd} = -1;
    return;
}

# POE handles signals through %SIG and reaps children itself: our own handlers would be
# replaced by its, so both go through POE, as in AnyEvent 7.17. Once anything watches SIGCHLD,
# POE reaps every child (waitpid -1) and reports each one to the sig_child registrations for its
# pid and, as the CHLD signal with (pid, status), to every session watching CHLD: a watcher for
# any child (pid 0) is a CHLD signal watcher, so each side sees every child once.
# POE keeps one handler per session and signal: the AnyEvent watchers of a signal share it
# (a CHLD signal watcher with the pid-0 child watchers); likewise one sig_child per pid.
my %sig_cbs;         # signal => { key => cb }, called with the signal's arguments
my %child_by_pid;    # pid => { key => cb }

# Calls the callbacks of a set that still exist when their turn comes (an earlier one may
# destroy a later watcher).
sub _call_set {
    my ($set, @args) = @_;
    for my $key (sort { $a <=> $b } keys %$set) {
        my $cb = $set->{$key} or next;
        $cb->(@args);
    }
    return;
}

sub _watch_signal {
    my ($sig) = @_;
    my $set = $sig_cbs{$sig};
    _call(sig_watch => $sig, sub { _call_set($set, @_) });
    return;
}

sub _watch_pid {
    my ($pid) = @_;
    my $set = $child_by_pid{$pid};
    _call(child_watch => $pid, sub {
        # POE forgets a sig_child registration once its child is reaped
        if (($child_by_pid{$pid} // 0) == $set) {
            delete $child_by_pid{$pid};
            _hold();
        }
        _call_set($set, @_);
    });
    return;
}

# After POE::Kernel->stop took our session, POE runs again: watch what our watchers still want.
sub _rewatch {
    _watch_signal($_) for keys %sig_cbs;
    _watch_pid($_) for keys %child_by_pid;
    _hold();
    return;
}

# Signal registrations do not keep a POE session alive, and ours has nothing else to watch while
# the Rust loop is empty: while watchers of ours are registered with POE, our session holds a
# reference count, so that they are not lost with it and keep POE::Kernel->run going, as active
# watchers keep every loop going.
my $held;    # the session that holds it

sub _held_by { $held = $_[0] }

sub _hold {
    my $want = %sig_cbs || %child_by_pid;
    return if $stopped;
    if ($want && !defined $held) {
        $held = _session();
        $POE::Kernel::poe_kernel->refcount_increment($held, 'AnyEvent');
        _call('tick');
    } elsif (!$want && defined $held) {
        if ($session && $session eq $held) {
            _call('tick_stop');
            $POE::Kernel::poe_kernel->refcount_decrement($held, 'AnyEvent');
        }
        undef $held;
    }
    return;
}

# Adds $cb to the set of $key in %$sets, made (and watched with $watch) when it is the first;
# returns the guard that takes it out again and stops watching with the last one.
sub _join {
    my ($sets, $key, $watch, $unwatch, $cb) = @_;
    my $new = !$sets->{$key};
    my $set = $sets->{$key} ||= {};
    $watch->($key) if $new;
    my $id = ++$AnyEvent::Impl::Embed::NEXT_KEY;
    $set->{$id} = $cb;
    _hold();
    return AnyEvent::Impl::Embed::_guard(sub {
        delete $set->{$id};
        return if %$set || ($sets->{$key} // 0) != $set;
        delete $sets->{$key};
        _call($unwatch => $key) if $session;
        _hold();
    });
}

sub _loop_signal {
    my ($name, $cb) = @_;
    my $sig = AnyEvent::Impl::Embed::_check_signal($name, $cb);
    return _join(\%sig_cbs, $sig, \&_watch_signal, 'sig_stop', sub { $cb->() });
}

sub _loop_child {
    my ($pid, $cb) = @_;
    $pid = AnyEvent::Impl::Embed::_check_child($pid, $cb);
    return _join(\%sig_cbs, 'CHLD', \&_watch_signal, 'sig_stop', sub { $cb->($_[0], $_[1]) }) unless $pid;
    return _join(\%child_by_pid, $pid, \&_watch_pid, 'child_stop', sub { $cb->($_[0], $_[1]) });
}

1;

__END__

=head1 NAME

AnyEvent::Impl::POE - AnyEvent inside POE's kernel

=head1 SYNOPSIS

    use POE;
    use AnyEvent;
    my $w = AnyEvent->timer(after => 1, cb => sub { print "later\n" });
    POE::Kernel->run;    # returns when nothing (of POE's or ours) is left

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<POE::Kernel> (or Wx or Prima) is loaded and no loop earlier
in AnyEvent's order is, or with C<PERL_ANYEVENT_MODEL=POE>. The Rust loop runs as one source of
POE (L<AnyEvent::Impl::Embed>): a single session of ours selects the epoll descriptor and keeps
one alarm. The session exists only while the Rust loop has watchers, so C<< POE::Kernel->run >>
returns when both sides are done. C<< $cv->recv >> calls C<< POE::Kernel->loop_do_timeslice >>
until the condvar is sent.

Signal watchers use POE's C<sig> and child watchers for a pid POE's C<sig_child>, as in
AnyEvent 7.17: POE installs C<%SIG> handlers and, once anything watches C<SIGCHLD>, reaps every
child itself. Several AnyEvent watchers for one signal or pid share one registration.
C<< AnyEvent->child(pid => 0) >> (any child) watches POE's C<CHLD> signal, which POE raises
with the pid and status of every child it reaps: a program that uses both C<sig_child> (or
C<sig(CHLD =E<gt> ...)>) and AnyEvent's child watchers sees each child once on each side. While
such watchers exist our session holds a reference count (POE would otherwise collect it when the
Rust loop has nothing to watch, registrations and all), so they keep C<< POE::Kernel->run >>
running, as under every other loop. After C<< POE::Kernel->stop >> (which takes every session,
ours too) these registrations are made again when POE runs again.

POE's C<%SIG> handlers are Perl's deferred ones: a signal that arrives just before POE blocks
in C<select(2)> is handled only when C<select> returns, which with nothing else to wake it may be
never (a child watcher whose child exited then waits on; under AnyEvent 7.17 too). While signal
or child watchers exist, our session wakes POE every second, which bounds that wait.

POE sets its C<SIGCHLD> handler only after a first C<waitpid> pass, which it queues when
C<SIGCHLD> gets watched; a child that exits between the two was never reported (under
AnyEvent 7.17 too: its watcher waits for ever). Each new registration is followed by a
C<SIGCHLD> sent to ourselves once POE's handler is in place, so that POE looks again.

Selecting this model does not run POE's kernel, unlike AnyEvent 7.17 (which runs it once with
an empty session, so that POE does not complain at exit that it was never run): every return
of C<< POE::Kernel->run >> reaps all exited children (POE's "Stopped child process reaped"),
which would take any child forked before the model was chosen from its watcher (and hang
C<run_cmd>). POE's flag that says it was run is set instead; should a POE version keep it
elsewhere, the model runs the kernel once as 7.17 does. Programs that call
C<< POE::Kernel->run >> themselves are subject to that reaping each time it returns.

A callback of ours that dies while C<< POE::Kernel->run >> is in charge is treated as POE
treats an exception from any of its handlers: POE signals C<DIE> to the session that ran it
(ours) and its parents and, unless one of them handles that, stops every session, the
program's too, and C<run> dies with the exception. Our loop is not left half-iterated: when POE
runs again our watchers carry on, and callbacks that were due are delivered. This cannot be
contained further without departing from POE: an exception can leave C<run> only that way, and
a C<DIE> handler of the program sees it only if its session is a parent of ours (ours is
created under whichever session is active when AnyEvent first needs it). During C<< $cv->recv >>, which drives POE one C<loop_do_timeslice> at a time (that
has no point where POE would rethrow, and a kernel stopped there is left without even its own
session), the exception is kept from POE and C<recv> dies with it, as with the models whose
loop passes exceptions on: POE's sessions and our watchers carry on.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<POE>.

=cut
