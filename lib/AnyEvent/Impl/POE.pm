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
        _stop     => sub { undef $session },
        fd_ready  => sub { my $cb = $fd_cb{ fileno $_[POE::Session::ARG0()] }; $cb->() if $cb },
        alarm     => sub { my $cb = delete $alarm_cb{ $_[POE::Session::ARG0()] }; $cb->() if $cb },
        watch     => sub { $_[POE::Session::KERNEL()]->select_read($_[POE::Session::ARG0()], 'fd_ready') },
        unwatch   => sub { $_[POE::Session::KERNEL()]->select_read($_[POE::Session::ARG0()]) },
        set_alarm => sub { $_[POE::Session::KERNEL()]->delay_set(alarm => $_[POE::Session::ARG0()], $_[POE::Session::ARG1()]) },
        clear     => sub { $_[POE::Session::KERNEL()]->alarm_remove($_[POE::Session::ARG0()]) },
        # a signal's arguments (CHLD: pid, status) come between its name and ours
        sig_catch => sub { my $cb = $_[-1]; $_[POE::Session::KERNEL()]->sig_handled; $cb->(@_[POE::Session::ARG1() .. $#_ - 1]) },
        sig_watch => sub { $_[POE::Session::KERNEL()]->sig($_[POE::Session::ARG0()], 'sig_catch', $_[POE::Session::ARG1()]) },
        sig_stop  => sub { $_[POE::Session::KERNEL()]->sig($_[POE::Session::ARG0()]) },
        child_done => sub { my $cb = $_[-1]; $cb->($_[POE::Session::ARG1()], $_[POE::Session::ARG2()]) },
        child_watch => sub { $_[POE::Session::KERNEL()]->sig_child($_[POE::Session::ARG0()], 'child_done', $_[POE::Session::ARG1()]) },
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

sub _poll { _resume(); POE::Kernel->loop_do_timeslice }

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
        delete $child_by_pid{$pid} if ($child_by_pid{$pid} // 0) == $set;
        _call_set($set, @_);
    });
    return;
}

# After POE::Kernel->stop took our session, POE runs again: watch what our watchers still want.
sub _rewatch {
    _watch_signal($_) for keys %sig_cbs;
    _watch_pid($_) for keys %child_by_pid;
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
    return AnyEvent::Impl::Embed::_guard(sub {
        delete $set->{$id};
        return if %$set || ($sets->{$key} // 0) != $set;
        delete $sets->{$key};
        _call($unwatch => $key) if $session;
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
until the condvar is sent. As AnyEvent 7.17 does, selecting this model runs POE's kernel once
with an empty session, so that POE does not complain at exit that it was never run.

Signal watchers use POE's C<sig> and child watchers for a pid POE's C<sig_child>, as in
AnyEvent 7.17: POE installs C<%SIG> handlers and reaps children itself. Several AnyEvent
watchers for one pid share one C<sig_child> registration. C<< AnyEvent->child(pid => 0) >> is
served by the Rust loop (POE has no catch-all child watcher): do not mix it with C<sig_child>.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<POE>.

=cut
