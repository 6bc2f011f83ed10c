package AnyEvent::Strict;

use strict;
use warnings;
use Carp ();
use Errno ();
use POSIX ();

use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

$Carp::Internal{$_}++ for qw(AE AnyEvent::Strict AnyEvent::Base);

# Every watcher constructor call (AnyEvent->io ... and, through them, AE::io ...) comes here
# first (hook slot 1, see AnyEvent::Base); the checked call goes on with SUPER::.
AnyEvent::_isa_hook(1 => 'AnyEvent::Strict', 1);

# --- callbacks --------------------------------------------------------------------------------

# Callbacks run with $_ read-only (a callback that changes $_ without local would clobber its
# caller's), and count as "inside the loop" for the blocking-recv check below.
our $IN_CALLBACK = 0;

sub wrap {
    my ($cb) = @_;
    return sub {
        local $_;
        Internals::SvREADONLY($_, 1);
        &$cb;
    };
}

# The same, for the callbacks the event loop calls.
sub _wrap_loop_cb {
    my ($cb) = @_;
    return sub {
        local $_;
        Internals::SvREADONLY($_, 1);
        local $IN_CALLBACK = 1;
        &$cb;
    };
}

# A blocking recv on a condition variable that is not ready, from inside a watcher callback,
# waits for an event that the program may only produce after the callback returns: a deadlock,
# or a loop running inside a callback. Strict mode reports it.
{
    no warnings 'redefine';
    my $recv = \&AnyEvent::CondVar::Base::recv;
    my $checked = sub {
        Carp::confess('AnyEvent::CondVar: blocking recv on a condition variable that is not ready, '
                    . 'called from inside an event callback (it would wait inside the event loop)')
            if $IN_CALLBACK && !$_[0]->ready;
        goto &$recv;
    };
    *AnyEvent::CondVar::Base::recv = $checked;
    *AnyEvent::CondVar::Base::wait = $checked;
}

# --- descriptors ------------------------------------------------------------------------------

# Descriptors with io watchers; every 4 seconds some of them are checked for having been closed
# behind AnyEvent's back (logged at "crit", as 7.17 does).
our (@FD_INUSE, $FD_I);
sub _check_fds {
    my $count = (@FD_INUSE < 1000 ? int(@FD_INUSE * 0.1) : 100) || 10;
    if (!$FD_I || $FD_I <= 0) {
        $FD_I = @FD_INUSE or return;
    }
    $count = $FD_I if $count > $FD_I;
    while ($count--) {
        --$FD_I;
        next unless $FD_INUSE[$FD_I];
        next if POSIX::lseek($FD_I, 0, 1) != -1 || $! != Errno::EBADF;
        AE::log(crit => "File descriptor $FD_I registered with AnyEvent but prematurely closed, event loop might malfunction.");
    }
}
# The timer waits for the model to be chosen: loading this module must not choose it (with
# PERL_ANYEVENT_STRICT it is loaded by AnyEvent itself, before the program loads its loop).
our $FD_CHECK_W;
AnyEvent::post_detect(sub { $FD_CHECK_W = AE::timer(4, 4, \&_check_fds) });

sub _unsupported {
    my ($method, $arg) = @_;
    Carp::confess("AnyEvent->$method called with unsupported parameter(s) " . join ', ', sort keys %$arg)
        if %$arg;
}

sub _cb {
    my ($method, $arg) = @_;
    my $cb = delete $arg->{cb};
    Carp::confess("AnyEvent->$method called with illegal cb argument '" . ($cb // 'undef') . "'") unless ref $cb;
    return _wrap_loop_cb($cb);
}

sub _number_ok {
    my ($value) = @_;
    return defined $value && !ref $value && $value =~ /^\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)\s*\z/;
}

# --- the checked methods ----------------------------------------------------------------------

sub io {
    my ($class, %arg) = @_;
    my $cb = _cb(io => \%arg);
    my $poll = delete $arg{poll};
    Carp::confess("AnyEvent->io called with illegal poll argument '" . ($poll // 'undef') . "'")
        unless defined $poll && $poll =~ /^[rw]\z/;
    my $fh = delete $arg{fh};
    my $fd;
    if (defined $fh && !ref $fh && $fh =~ /^\s*\d+\s*\z/) {
        $fd = $fh + 0;
        ($fh) = AnyEvent::_dupfh($poll, $fd);
    } else {
        $fd = eval { fileno $fh };
        Carp::confess("AnyEvent->io called with illegal fh argument '" . ($fh // 'undef') . "'") unless defined $fd;
    }
    Carp::confess('AnyEvent->io called with fh argument pointing to a file') if -f $fh;
    _unsupported(io => \%arg);
    ++$FD_INUSE[$fd];
    # [fd, watcher, handle]: a duplicated descriptor lives as long as its watcher
    return bless [$fd, $class->SUPER::io(fh => $fh, poll => $poll, cb => $cb), $fh], 'AnyEvent::Strict::io';
}

sub AnyEvent::Strict::io::DESTROY { --$FD_INUSE[ $_[0][0] ] }

sub timer {
    my ($class, %arg) = @_;
    my $cb = _cb(timer => \%arg);
    Carp::confess("AnyEvent->timer called without mandatory 'after' parameter") unless exists $arg{after};
    my $after = delete $arg{after};
    Carp::confess("AnyEvent->timer called with illegal after argument '" . ($after // 'undef') . "'")
        unless _number_ok($after) && $after >= 0;
    my $interval = delete $arg{interval};
    Carp::confess("AnyEvent->timer called with illegal interval argument '$interval'")
        if $interval && !(_number_ok($interval) && $interval > 0);
    _unsupported(timer => \%arg);
    return $class->SUPER::timer(after => $after, interval => $interval, cb => $cb);
}

sub signal {
    my ($class, %arg) = @_;
    my $cb = _cb(signal => \%arg);
    my $signal = delete $arg{signal};
    Carp::confess("AnyEvent->signal called with illegal signal name '" . ($signal // 'undef') . "'")
        unless defined $signal && $signal !~ /^\d+\z/ && defined AnyEvent::Base::sig2num($signal);
    _unsupported(signal => \%arg);
    return $class->SUPER::signal(signal => $signal, cb => $cb);
}

sub child {
    my ($class, %arg) = @_;
    my $cb = _cb(child => \%arg);
    my $pid = delete $arg{pid};
    Carp::confess("AnyEvent->child called with malformed pid value '" . ($pid // 'undef') . "'")
        unless defined $pid && $pid =~ /^-?\d+\z/;
    _unsupported(child => \%arg);
    return $class->SUPER::child(pid => $pid, cb => $cb);
}

sub idle {
    my ($class, %arg) = @_;
    my $cb = _cb(idle => \%arg);
    _unsupported(idle => \%arg);
    return $class->SUPER::idle(cb => $cb);
}

sub condvar {
    my ($class, %arg) = @_;
    my @cb;
    if (exists $arg{cb}) {
        Carp::confess("AnyEvent->condvar called with illegal cb argument '" . ($arg{cb} // 'undef') . "'") unless ref $arg{cb};
        @cb = (cb => wrap(delete $arg{cb}));
    }
    _unsupported(condvar => \%arg);
    return $class->SUPER::condvar(@cb);
}

# (7.17's messages, spelling included.)
sub time {
    my $class = shift;
    Carp::confess('AnyEvent->time wrongly called with paramaters') if @_;
    return $class->SUPER::time;
}

sub now {
    my $class = shift;
    Carp::confess('AnyEvent->now wrongly called with paramaters') if @_;
    return $class->SUPER::now;
}

1;

__END__

=head1 NAME

AnyEvent::Strict - strict mode: check every argument of every AnyEvent watcher call

=head1 SYNOPSIS

    use AnyEvent::Strict;    # from now on, bad arguments die with a backtrace

    # or, without changing the program:
    PERL_ANYEVENT_STRICT=1 perl myprogram

=head1 DESCRIPTION

Loading this module (at any time) switches AnyEvent into strict mode for the whole process;
setting C<PERL_ANYEVENT_STRICT> to a true value loads it when L<AnyEvent> is loaded. It is
meant for development: the checks cost more than the calls they check. A program that never
loads it pays nothing for it: AnyEvent's methods and the L<AE> functions are not touched
until it is loaded.

In strict mode, every call of C<< AnyEvent->io >>, C<timer>, C<signal>, C<child>, C<idle>,
C<condvar>, C<time> and C<now>, and of the L<AE> functions, which then go through these
methods, is checked, and a problem dies through C<Carp::confess> (with a backtrace) with one of
these messages:

=over 4

=item C<< AnyEvent->METHOD called with illegal cb argument '...' >>

C<cb> is missing or not a reference (for C<condvar>: given, but not a reference).

=item C<< AnyEvent->METHOD called with unsupported parameter(s) a, b >>

Unknown keys, listed in sorted order.

=item C<< AnyEvent->io called with illegal poll argument '...' >>

C<poll> is not C<"r"> or C<"w">.

=item C<< AnyEvent->io called with illegal fh argument '...' >>

C<fh> is not a handle with a file descriptor (not open, say). A file descriptor number is
duplicated (see L<AnyEvent::Base/AnyEvent::_dupfh>); one that is not open dies with
"AnyEvent->io: cannot dup() filehandle ...".

=item C<< AnyEvent->io called with fh argument pointing to a file >>

Regular files are always readable and writable; watching them is a bug.

=item C<< AnyEvent->timer called without mandatory 'after' parameter >>

=item C<< AnyEvent->timer called with illegal after argument '...' >>

C<after> is not a number, or negative.

=item C<< AnyEvent->timer called with illegal interval argument '...' >>

C<interval> is true but not a positive number.

=item C<< AnyEvent->signal called with illegal signal name '...' >>

Not a signal name (numbers are not accepted either).

=item C<< AnyEvent->child called with malformed pid value '...' >>

Not an integer.

=item C<< AnyEvent->time wrongly called with paramaters >>, C<< AnyEvent->now ... >>

Arguments given (spelled as in AnyEvent 7.17).

=item C<< AnyEvent::CondVar: blocking recv on a condition variable that is not ready, called from inside an event callback ... >>

C<recv> (or C<wait>) on a condition variable that has not been sent yet, from inside a
callback of a watcher created in strict mode: the wait would run the event loop inside one of
its own callbacks, and deadlocks when the awaited event depends on the callback returning.

=back

Besides, strict mode wraps the callbacks of watchers created while it is on: C<$_> is read-only
inside them (changing it without C<local> dies with "Modification of a read-only value
attempted"), io watchers are C<AnyEvent::Strict::io> objects holding the real watcher, and
every 4 seconds (from the time the model is detected) some of the file descriptors that have io watchers are checked for having been
closed behind AnyEvent's back, which is logged at level C<crit> ("File descriptor N registered
with AnyEvent but prematurely closed, event loop might malfunction.").

Strict mode cannot be switched off once loaded.

=head1 FUNCTIONS

=head2 $wrapped = AnyEvent::Strict::wrap $cb

Returns the callback as strict mode calls it: C<$cb> with its arguments, C<$_> local and
read-only. Croaks (when called) as C<$cb> does.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Debug>

=cut
