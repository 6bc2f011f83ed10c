package AnyEvent::Impl::Embed;

use strict;
use warnings;
use Carp ();

our $VERSION = '7.17';

use AnyEvent ();

$Carp::Internal{+__PACKAGE__}++;

# The model that embeds our loop in a foreign one, and the source currently driving it (a
# nested recv gets a source of its own, see _wait).
our $CLASS;
our $SOURCE;

# Keys for the callback sets of models that share one foreign watcher among several of ours.
our $NEXT_KEY = 0;

# The program's $! while a recv waits: the callbacks of our runs start with it, as under our own
# loop (the foreign loop's system calls run in between).
our $ERRNO;

# Called by AnyEvent::detect when a subclass was chosen.
sub _activate {
    my ($class) = @_;
    $CLASS = $class;
    $class->_start if $class->can('_start');
    $SOURCE = AnyEvent::Impl::Embed::Source->new($class);
    AnyEvent::Impl::Rust::_embed(\&_wake);
    for my $kind (qw(signal child)) {
        my $fn = $class->can("_loop_$kind") or next;
        AnyEvent::Impl::Rust::_delegate($kind, sub { $fn->($_[0], _errno_cb($_[1])) });
    }
    no warnings 'redefine';
    *AnyEvent::CondVar::Base::_wait = \&_wait;
    return;
}

# A callback the foreign loop calls itself (delegated signal and child watchers) starts, during
# a recv, with the program's $! as ours do. Anything but a callback is passed on for the checks.
sub _errno_cb {
    my ($cb) = @_;
    return $cb unless ref $cb eq 'CODE' || (Scalar::Util::blessed($cb) && overload::Method($cb, '&{}'));
    return sub {
        local $! = $ERRNO if defined $ERRNO;
        &$cb;
    };
}

# The XS calls this when a watcher was created while no run of ours is due.
sub _wake { $SOURCE->soon if $SOURCE }

# recv: iterate the foreign loop until the condvar is sent. Inside one of our own callbacks, the
# source that is running us may be blocked by the foreign loop (GLib does not dispatch a source
# recursively): a second source serves the nested wait.
sub _wait {
    my ($cv) = @_;
    my $class = $CLASS;
    local $ERRNO = $! + 0;
    if ($SOURCE && $SOURCE->{running}) {
        local $SOURCE = AnyEvent::Impl::Embed::Source->new($class);
        $class->_poll until $cv->{+AnyEvent::CondVar::Base::_SENT};
        return;
    }
    $class->_poll until $cv->{+AnyEvent::CondVar::Base::_SENT};
    return;
}

# What a subclass provides (class methods):
#   _watch_fd($fd, $cb)   a foreign read watcher on $fd calling $cb; destroyed to stop it
#   _timer($seconds, $cb) a foreign one-shot timer calling $cb; destroyed to stop it
#   _poll                 one blocking iteration of the foreign loop
# and optionally:
#   _start                  called once when the model is chosen
#   _keepalive($src, $bool) whether our watchers keep the foreign loop running
#   _watch_ends_on_die      true when the loop drops a watcher whose callback died (GLib):
#                           the watcher on our epoll fd is then made anew before the rethrow
#   _loop_signal($name, $cb), _loop_child($pid, $cb)
#                           create signal / child watchers with the foreign loop's own API

sub _keepalive { }
sub _watch_ends_on_die { 0 }

# Shared argument checks for the delegated watchers (the same messages as our own).
sub _check_signal {
    my ($name, $cb) = @_;
    my $sig = defined $name ? "$name" : '';
    $sig =~ s/^SIG//;
    Carp::croak("AnyEvent signal watcher: unknown signal name '$sig'")
        unless length $sig && (exists $SIG{$sig} || $sig =~ /^\d+$/) && $sig ne 'ZERO';
    Carp::croak("AnyEvent signal watcher: signal '$sig' cannot be caught") if $sig eq 'KILL' || $sig eq 'STOP';
    _check_cb($cb, 'AnyEvent signal watcher');
    return $sig;
}

sub _check_child {
    my ($pid, $cb) = @_;
    Carp::croak('AnyEvent child watcher: pid must be a process id or 0 (any child)')
        unless defined $pid && $pid =~ /^\s*\+?\d+\s*$/ && $pid <= 2**31 - 1;
    _check_cb($cb, 'AnyEvent child watcher');
    return $pid + 0;
}

sub _check_cb {
    my ($cb, $who) = @_;
    Carp::croak("$who: cb is required (a code reference)") unless defined $cb;
    Carp::croak("$who: cb must be a code reference")
        unless ref $cb eq 'CODE' || (Scalar::Util::blessed($cb) && overload::Method($cb, '&{}'));
    return;
}

require Scalar::Util;
require overload;

# A guard calling its code when destroyed: what the subclasses return for foreign watchers that
# are not objects that stop themselves.
sub _guard { bless [$_[0]], 'AnyEvent::Impl::Embed::Guard' }

sub AnyEvent::Impl::Embed::Guard::DESTROY {
    # at global destruction the foreign loop may be gone already
    $_[0][0]->() unless ${^GLOBAL_PHASE} eq 'DESTRUCT';
}

# A Perl handle for our epoll fd, for loops that watch handles, not descriptors: a duplicate,
# so that closing the handle leaves our fd alone (it refers to the same epoll instance).
sub _fd_handle {
    my ($fd) = @_;
    open my $fh, '<&', $fd or Carp::croak("AnyEvent: cannot open a handle for fd $fd: $!");
    return $fh;
}

package AnyEvent::Impl::Embed::Source;

# Our loop as one source of the foreign loop: a read watcher on the epoll fd, one timer for the
# next deadline, one non-blocking run of ours when either fires.

sub new {
    my ($pkg, $class) = @_;
    my $self = bless { class => $class, fd => -1, at => 0, running => 0, alive => -1, runs => 0, armed_runs => 0}, $pkg;
    $self->rearm;
    return $self;
}

# Runs whatever is due in our loop, then re-arms. A callback that dies propagates into the
# foreign loop (which reports it as it does its own), after re-arming: callbacks still queued
# are delivered by the next run.
sub run {
    my ($self) = @_;
    my $ok = do {
        local $self->{running} = $self->{running} + 1;
        local $@;
        local $! = $ERRNO if defined $ERRNO;
        eval { AnyEvent::Impl::Rust::run_nowait(); 1 } or do { $self->{error} = $@; 0 };
    };
    $self->{runs}++;
    if (!$ok && $self->{class}->_watch_ends_on_die) {
        delete $self->{io};
        $self->{fd} = -1;
    }
    $self->rearm;
    die delete $self->{error} unless $ok;
    return;
}

sub rearm {
    my ($self) = @_;
    my ($timeout, $active, $fd) = AnyEvent::Impl::Rust::_embed_state();
    my $class = $self->{class};
    if ($fd != $self->{fd}) {
        delete $self->{io};
        Scalar::Util::weaken(my $weak = $self);
        $self->{io} = $class->_watch_fd($fd, sub { $weak->run if $weak });
        $self->{fd} = $fd;
        $self->{alive} = -1;
    }
    if (!defined $timeout) {
        delete $self->{timer};
    } else {
        my $at = AE::now() + $timeout;
        # An armed timer that fires early is harmless (the run finds nothing due and re-arms),
        # so it is only replaced when we are due sooner.
        if (!$self->{timer} || $at < $self->{at} - 0.0005) {
            $self->{timer} = undef;
            $self->{timer} = $class->_timer($timeout, $self->_timer_cb);
            $self->{at} = $at;
            $self->{armed_runs} = $self->{runs};
        }
    }
    if ($active != $self->{alive}) {
        $self->{alive} = $active;
        $class->_keepalive($self, $active);
    }
    return;
}

sub _timer_cb {
    my ($self) = @_;
    Scalar::Util::weaken(my $weak = $self);
    return $self->{timer_cb} ||= sub {
        return unless $weak;
        $weak->{timer} = undef;
        # The foreign loop may call the fd watcher and the timer in one of its iterations: when a
        # run since the timer was armed already served its deadline, a second one would only
        # call level-triggered watchers again.
        if ($weak->{runs} > $weak->{armed_runs} && AE::now() >= $weak->{at}) {
            $weak->rearm;
            return;
        }
        # Likewise when our epoll fd is readable: its watcher runs us in this iteration of the
        # foreign loop or the next, and that run serves the timers too.
        if ($weak->{fd} >= 0) {
            vec(my $bits = "", $weak->{fd}, 1) = 1;
            return if select($bits, undef, undef, 0) > 0;
        }
        $weak->run;
    };
}

# A watcher was created outside our runs: run us at the foreign loop's next iteration.
sub soon {
    my ($self) = @_;
    my $class = $self->{class};
    if (!$self->{timer} || $self->{at} > AE::now()) {
        $self->{timer} = undef;
        $self->{timer} = $class->_timer(0, $self->_timer_cb);
        $self->{at} = AE::now();
    }
    $self->{armed_runs} = $self->{runs};
    if ($self->{alive} != 1) {
        $self->{alive} = 1;
        $class->_keepalive($self, 1);
    }
    return;
}

1;

__END__

=head1 NAME

AnyEvent::Impl::Embed - how AnyEvent runs its Rust loop inside another event loop

=head1 SYNOPSIS

    # not used directly: AnyEvent::detect chooses a model such as AnyEvent::Impl::Glib, which
    # is a subclass of this one
    use Gtk3 -init;
    use AnyEvent;
    my $w = AnyEvent->timer(after => 1, cb => sub { Gtk3::main_quit });
    Gtk3::main;

=head1 DESCRIPTION

Every AnyEvent watcher lives in the Rust loop, whatever the model. When another event loop is in
charge (the program runs C<Gtk3::main>, C<EV::run>, C<< $loop->run >>...), the model embeds the
whole Rust loop into it as a single source:

=over 4

=item * a read watcher of the foreign loop on the epoll descriptor of ours
(L<AnyEvent::Impl::Rust/backend_fd>), which becomes readable when an io watcher, a signal or
a resolver socket of ours has something to report;

=item * one timer of the foreign loop for our next deadline
(L<AnyEvent::Impl::Rust/next_timeout>);

=item * when either fires, one non-blocking iteration of ours
(L<AnyEvent::Impl::Rust/run_nowait>), after which the timer is re-armed.

=back

A watcher created outside such a run (from the foreign loop's own callbacks, or before the loop
starts) makes the model schedule a run at the foreign loop's next iteration, so the watcher
takes effect at once. C<< $cv->recv >> iterates the foreign loop until the condvar is sent, so
both loops make progress; a C<recv> nested in one of our callbacks gets a source of its own for
the duration of the wait (GLib, for one, never dispatches a source recursively).

A callback of ours that dies propagates into the foreign loop, which reports it as it reports
exceptions from its own callbacks: EV, Glib and Mojo warn and go on; Event, IO::Async and Tk
pass it on (out of C<recv>, say); under C<< POE::Kernel->run >> POE stops all its sessions
and C<run> dies with it, while during C<recv> it leaves C<recv> and POE carries on (see
L<AnyEvent::Impl::POE>). Our loop is never left
half-iterated: the callbacks that were due are delivered by the next run, which is scheduled
before the exception leaves (and under Glib, which drops a watch whose callback died, the
watch on our descriptor is made anew).

During C<< $cv->recv >> our callbacks start with the program's C<$!> at the time of the call,
as under our own loop; run by the foreign loop's own main function, they start with whatever
that loop left in C<$!>.

Signal and child watchers are handed to the foreign loop's own API where that loop owns the
signal or the reaping of children (see each model's documentation), so that a program using
both the loop's watchers and AnyEvent's sees every signal and child where it asked for it.

=head1 FUNCTIONS

This class has no public functions. A subclass provides the class methods C<_watch_fd($fd,
$cb)> (a foreign read watcher), C<_timer($seconds, $cb)> (a foreign one-shot timer), C<_poll>
(one blocking iteration of the foreign loop) and optionally C<_start>, C<_keepalive($source,
$bool)>, C<_loop_signal($name, $cb)> and C<_loop_child($pid, $cb)>.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Rust>, and the models: L<AnyEvent::Impl::EV>,
L<AnyEvent::Impl::Glib>, L<AnyEvent::Impl::Event>, L<AnyEvent::Impl::IOAsync>,
L<AnyEvent::Impl::Tk>, L<AnyEvent::Impl::POE>, L<AnyEvent::Impl::Mojo>.

=cut
