package AnyEvent;

use strict;
use warnings;
use Carp ();

our $VERSION = '7.17';

our $MODEL;
our $VERBOSE;
our @post_detect;
our $MAX_SIGNAL_LATENCY;

# The loop and the AE:: functions are XSUBs backed by the Rust core.
require XSLoader;
XSLoader::load('AnyEvent', $VERSION);

require AnyEvent::CondVar;
require AnyEvent::Impl::Rust;
require AnyEvent::Base;    # AnyEvent::Base, AnyEvent::_dupfh, AnyEvent::_isa_hook

# Errors from AnyEvent's own frames are reported at the caller's line.
$Carp::Internal{$_}++ for qw(AnyEvent AE AnyEvent::Impl::Rust AnyEvent::CondVar AnyEvent::CondVar::Base);

use constant MODEL_NAME => 'AnyEvent::Impl::Rust';

# Platform constants AnyEvent provides and modules built on it use (AnyEvent::WIN32 ...).
use Fcntl ();
use constant {
    WIN32      => $^O eq 'MSWin32' ? 1 : 0,
    CYGWIN     => $^O eq 'cygwin' ? 1 : 0,
    TAINT      => ${^TAINT} ? 1 : 0,
    F_SETFD    => Fcntl::F_SETFD(),
    F_SETFL    => Fcntl::F_SETFL(),
    O_NONBLOCK => Fcntl::O_NONBLOCK(),
    FD_CLOEXEC => Fcntl::FD_CLOEXEC(),
};

# AE_xxx is a short name for PERL_ANYEVENT_xxx, copied over unless the long name exists. Under
# taint mode none of these variables is trusted: they end up present but undefined.
BEGIN {
    delete @ENV{grep /^PERL_ANYEVENT_/, keys %ENV} if ${^TAINT};
    for my $short (grep /^AE_/, keys %ENV) {
        (my $long = $short) =~ s/^AE_/PERL_ANYEVENT_/;
        $ENV{$long} = $ENV{$short} unless exists $ENV{$long};
    }
    @ENV{grep /^PERL_ANYEVENT_/, keys %ENV} = () if ${^TAINT};
}

BEGIN {
    $VERBOSE = length($ENV{PERL_ANYEVENT_VERBOSE} // '') ? $ENV{PERL_ANYEVENT_VERBOSE} * 1 : 4;
}

# Model detection, as AnyEvent 7.17: at the first watcher (the XS calls detect) or an explicit
# AnyEvent::detect, PERL_ANYEVENT_MODEL or the first event loop already loaded, in this order,
# picks the model; with none loaded our own loop runs. Every model keeps its watchers in the Rust
# loop; a foreign one only decides who waits (see AnyEvent::Impl::Embed).
our @REGISTRY;
our @models = (
    ['EV::' => 'AnyEvent::Impl::EV'],
    ['AnyEvent::Loop::' => 'AnyEvent::Impl::Perl'],
    ['Irssi::' => 'AnyEvent::Impl::Irssi'],
    ['Event::' => 'AnyEvent::Impl::Event'],
    ['Glib::' => 'AnyEvent::Impl::Glib'],
    ['Event::Lib::' => 'AnyEvent::Impl::EventLib'],
    ['Tk::' => 'AnyEvent::Impl::Tk'],
    ['UV::' => 'AnyEvent::Impl::UV'],
    ['Qt::' => 'AnyEvent::Impl::Qt'],
    ['POE::Kernel::' => 'AnyEvent::Impl::POE'],
    ['Wx::' => 'AnyEvent::Impl::POE'],
    ['Prima::' => 'AnyEvent::Impl::POE'],
    ['IO::Async::Loop::' => 'AnyEvent::Impl::IOAsync'],
    ['Cocoa::EventLoop::' => 'AnyEvent::Impl::Cocoa'],
    ['FLTK::' => 'AnyEvent::Impl::FLTK'],
    ['Mojo::IOLoop::' => 'AnyEvent::Impl::Mojo'],    # beyond 7.17: Mojo::Reactor::Poll
);

sub _loaded {
    my ($package) = @_;
    no strict 'refs';
    my $version = ${"${package}VERSION"};
    return 1 if defined $version && do { no warnings 'numeric'; $version > 0 };
    (my $file = $package) =~ s/::$/.pm/;
    $file =~ s{::}{/}g;
    return exists $INC{$file} && $package eq 'Mojo::IOLoop::';
}

sub _try_model {
    my ($model) = @_;
    local $@;
    return $model if eval "require $model; 1";
    return (undef, $@);
}

sub detect() {
    return $MODEL if $MODEL;
    AnyEvent::Impl::Rust::_model_known();
    local $SIG{__DIE__};
    my $model;
    if (defined $ENV{PERL_ANYEVENT_MODEL} && $ENV{PERL_ANYEVENT_MODEL} =~ /^([a-zA-Z0-9:]+)$/) {
        # "EV" means AnyEvent::Impl::EV; a name ending in "::" is used as it is
        my $want = $1;
        $want = "AnyEvent::Impl::$want" unless $want =~ s/::$// || $want =~ /^AnyEvent::Impl::/;
        my ($ok, $err) = _try_model($want);
        if ($ok) {
            AnyEvent::log(7, "loaded model '$want' (forced by \$ENV{PERL_ANYEVENT_MODEL}), using it");
            $model = $want;
        } else {
            $err =~ s/\n.*//s;
            $err =~ s/ \((?:you may need|\@INC contains)[^)]*\)//g;    # one readable line
            AnyEvent::log(2, "unable to load model '$want' (from \$ENV{PERL_ANYEVENT_MODEL}): $err");
        }
    }
    unless ($model) {
        for (@REGISTRY, @models) {
            my ($package, $impl) = @$_;
            next unless _loaded($package);
            my ($ok, $err) = _try_model($impl);
            if ($ok) {
                AnyEvent::log(7, "autodetected model '$impl', using it");
                $model = $impl;
                last;
            }
            AnyEvent::log(8, "detected event loop $package, but cannot load '$impl', skipping: $err");
        }
    }
    $model ||= MODEL_NAME;
    # A loop that cannot start (Tk without a display) leaves our own loop in charge.
    if ($model->can('_activate') && !eval { $model->_activate; 1 }) {
        (my $err = $@) =~ s/\n.*//s;
        AnyEvent::log(2, "cannot start model '$model': $err; using " . MODEL_NAME);
        $model = MODEL_NAME;
    }
    $MODEL = $model;
    (shift @post_detect)->() while @post_detect;
    return $MODEL;
}

# Protocol preference (AnyEvent::Socket, AnyEvent::DNS): ipv4/ipv6 => rank, higher preferred,
# absent disabled. From $ENV{PERL_ANYEVENT_PROTOCOLS}, default "ipv4,ipv6".
our %PROTOCOL;
{
    my $rank = 0;
    $PROTOCOL{$_} = ++$rank for reverse grep { /^ipv[46]$/ } split /\s*,\s*/, $ENV{PERL_ANYEVENT_PROTOCOLS} || 'ipv4,ipv6';
}

# Accepted for compatibility; the Rust loop delivers signals at once and never polls for them.
$MAX_SIGNAL_LATENCY = $ENV{PERL_ANYEVENT_MAX_SIGNAL_LATENCY} || 10;

# Before detection the block waits in @post_detect (the guard returned in non-void context
# removes it when destroyed); afterwards it runs at once and the "guard" is undef, as in 7.17.
sub post_detect(&) {
    my ($cb) = @_;
    if ($MODEL) {
        $cb->();
        return undef;
    }
    push @post_detect, $cb;
    return defined wantarray ? bless(\$cb, 'AnyEvent::Util::postdetect') : ();
}

sub AnyEvent::Util::postdetect::DESTROY {
    my $cb = ${ $_[0] };
    @post_detect = grep $_ != $cb, @post_detect;
}

sub postpone(&) { goto &AE::postpone }

# The method API: argument parsing on top of the AE:: XSUBs.

sub io {
    my (undef, %arg) = @_;
    my $poll = $arg{poll};
    Carp::croak('AnyEvent->io: poll is required ("r" or "w")') unless defined $poll;
    Carp::croak(qq{AnyEvent->io: poll must be "r" or "w", not "$poll"}) unless $poll eq 'r' || $poll eq 'w';
    Carp::croak('AnyEvent->io: fh is required') unless defined $arg{fh};
    AE::io($arg{fh}, $poll eq 'w', $arg{cb});
}

sub timer {
    my (undef, %arg) = @_;
    AE::timer($arg{after}, $arg{interval}, $arg{cb});
}

sub signal {
    my (undef, %arg) = @_;
    Carp::croak('AnyEvent->signal: signal is required (a signal name)') unless defined $arg{signal};
    AE::signal($arg{signal}, $arg{cb});
}

sub child {
    my (undef, %arg) = @_;
    Carp::croak('AnyEvent->child: pid is required (a process id, or 0 for any child)') unless defined $arg{pid};
    AE::child($arg{pid}, $arg{cb});
}

sub idle {
    my (undef, %arg) = @_;
    AE::idle($arg{cb});
}

sub condvar {
    my (undef, %arg) = @_;
    AnyEvent::_new_condvar($arg{cb});
}

sub now        { AE::now() }
sub time       { AE::time() }
sub now_update { AE::now_update() }

# Old-style blocking poll, used by modules written against AnyEvent 4.x: one iteration of the
# loop in charge (a foreign loop's, once one was detected).
sub one_event { ($MODEL || detect())->_poll }
sub _poll     { ($MODEL || detect())->_poll }

sub common_sense {
    strict->import(qw(vars subs));
    warnings->import(qw(FATAL closed threads internal debugging pack malloc portable prototype
                        inplace io pipe unpack glob digit printf layer reserved taint closure semicolon));
    warnings->unimport(qw(exec newline unopened));
}

sub fh_block($)   { _fh_nonblocking($_[0], 0) }
sub fh_unblock($) { _fh_nonblocking($_[0], 1) }

# The one home of fh_block, fh_unblock and AnyEvent::Util::fh_nonblocking. As in 7.17: a closed
# handle dies ("fcntl() on closed filehandle", fatal under common_sense), an unopened one fails
# without a warning, and the result is fcntl's (one value, undef on failure, in any context).
sub _fh_nonblocking($$) {
    my ($fh, $nonblocking) = @_;
    use warnings FATAL => 'closed';
    no warnings 'unopened';
    require Fcntl;
    my $flags = fcntl($fh, Fcntl::F_GETFL(), 0);
    return undef unless defined $flags;
    $flags = $nonblocking ? ($flags | Fcntl::O_NONBLOCK()) : ($flags & ~Fcntl::O_NONBLOCK());
    return scalar fcntl($fh, Fcntl::F_SETFL(), $flags);
}

# As AnyEvent does: a no-op SIGPIPE handler (a write to a closed socket must not kill the
# program), and SIGCHLD back to default so that exit statuses are not lost.
$SIG{PIPE} = sub { } unless defined $SIG{PIPE};
undef $SIG{CHLD} if defined $SIG{CHLD} && $SIG{CHLD} eq 'IGNORE';

# AnyEvent::log (and AE::log) is an XSUB, the front of AnyEvent::Log: it returns at once for a
# message nobody would log, and loads AnyEvent::Log for the first one that is. A logging
# specification in the environment loads it now, so that it applies from the start.
require AnyEvent::Log if length($ENV{PERL_ANYEVENT_LOG} // '');

# Development aids requested through the environment, as in 7.17. They are set up before any
# watcher exists (so that AnyEvent::Strict and AnyEvent::Debug's wrapping see the first one)
# and create no watcher themselves before the model is chosen: AnyEvent::Strict's descriptor
# check timer and the debug shell wait for detection (post_detect), which stays lazy.
require AnyEvent::Strict if $ENV{PERL_ANYEVENT_STRICT};
if ($ENV{PERL_ANYEVENT_DEBUG_WRAP}) {
    require AnyEvent::Debug;
    AnyEvent::Debug::wrap($ENV{PERL_ANYEVENT_DEBUG_WRAP});
}
if (length($ENV{PERL_ANYEVENT_DEBUG_SHELL} // '')) {
    require AnyEvent::Socket;
    require AnyEvent::Debug;
    (my $where = $ENV{PERL_ANYEVENT_DEBUG_SHELL}) =~ s/\$\$/$$/g;
    post_detect { $AnyEvent::Debug::SHELL = AnyEvent::Debug::shell(AnyEvent::Socket::parse_hostport($where)) };
}

package AE;

our $VERSION = $AnyEvent::VERSION;

*log = \&AnyEvent::log;

1;

__END__

=head1 NAME

AnyEvent - the AnyEvent event framework, with its event loop written in Rust

=head1 SYNOPSIS

    use AnyEvent;

    # one-shot and repeating timers
    my $once  = AnyEvent->timer(after => 1.5, cb => sub { warn "1.5 seconds later\n" });
    my $every = AnyEvent->timer(after => 0, interval => 1, cb => sub { warn "tick\n" });

    # I/O readiness
    my $w = AnyEvent->io(fh => \*STDIN, poll => 'r', cb => sub {
        my $line = <STDIN>;
        warn "read: $line";
    });

    # signals and child processes
    my $s = AnyEvent->signal(signal => 'TERM', cb => sub { warn "TERM received\n" });
    my $c = AnyEvent->child(pid => $pid, cb => sub { my ($pid, $status) = @_; ... });

    # condition variables
    my $cv = AnyEvent->condvar;
    my $t  = AnyEvent->timer(after => 1, cb => sub { $cv->send("done") });
    print $cv->recv, "\n";

    # the same with the short AE API
    my $t2 = AE::timer 1, 0, sub { ... };

=head1 DESCRIPTION

This distribution is a drop-in replacement for Marc Lehmann's AnyEvent 7.17. Programs and
modules that C<use AnyEvent> run unchanged; the event loop underneath is a loop written in Rust
(epoll through mio), linked into this module. When the program uses another event loop (EV,
Glib/Gtk3, Event, IO::Async, Tk, POE, Mojo), the Rust loop runs inside it (see L</MODELS>).

Watchers are objects: keep a reference to keep the watcher active, drop it (or C<undef> the
variable) to stop it. A watcher kept only inside its own callback's closure stays alive
(C<my $w; $w = AnyEvent-E<gt>io(... cb =E<gt> sub { ... undef $w })>). Callbacks receive no
arguments unless stated otherwise. An exception thrown by a callback propagates out of the
function that runs the loop (C<< $cv->recv >>, C<AnyEvent::Loop::run>); the loop stays usable
afterwards and callbacks that were already due are still called by the next iteration.

The loop is not thread-safe: use it from one Perl interpreter thread. After C<fork>, a child
process that keeps using AnyEvent gets a fresh epoll instance automatically.

=head1 WATCHERS

Watcher callbacks run with C<$!> as the program had it when it entered the loop (C<recv>,
C<AnyEvent::Loop::run>, C<one_event>): the loop's own system calls (C<epoll_ctl> on a closed
descriptor, reads that would block...) never leave their C<errno> behind for a callback to see.

=head2 $w = AnyEvent->io(fh => $fh, poll => "r"|"w", cb => $cb)

Calls C<$cb> whenever C<$fh> is readable (C<poll =E<gt> "r">) or writable (C<"w">), for as long
as it stays so (level-triggered). C<$fh> is a glob, glob reference, IO handle object, or a file
descriptor number. Any number of watchers may watch one fd, in either direction.

Descriptors that epoll cannot watch (regular files, F</dev/null>) are always ready, as with
libev. If the descriptor is closed while a watcher exists and its number is reused by a new
file, events of the old file are never delivered to watchers of the new one.

Returns the watcher. Croaks when C<poll> is missing or not C<"r"> or C<"w">, when C<fh> is
missing, not a handle or fd number, or not open, and when C<cb> is missing or not a code
reference (an object overloading C<&{}>, such as a condition variable, is accepted).

=head2 $w = AnyEvent->timer(after => $seconds, interval => $seconds, cb => $cb)

Calls C<$cb> once, C<after> seconds (fractions allowed; default 0, negative values count as 0)
from the loop time (L</AnyEvent-E<gt>now>). With C<interval> it then repeats every C<interval>
seconds, scheduled without drift; a false C<interval> (C<undef>, C<0>, C<"">) means one-shot. C<after =E<gt> 0> fires at the next loop iteration. Timers
run on the monotonic clock, so changing the system time does not disturb them. Timers due in a
loop iteration are called before that iteration's io callbacks (as with EV and AnyEvent's
pure-Perl loop).

Returns the watcher. Croaks for a negative or non-numeric C<interval>, a non-numeric C<after>,
and a missing or non-code C<cb>.

=head2 $w = AnyEvent->signal(signal => $name, cb => $cb)

Calls C<$cb> from the event loop (never in signal context) when the named signal arrives.
C<$name> is a signal name such as C<"TERM">, C<"USR1"> or C<"SIGUSR1">. Several watchers for
one signal all fire. Several arrivals of the same signal before the loop looks may be
reported once. A signal arriving while the loop waits wakes it at once. While watchers exist,
the signal's previous disposition is replaced; it returns when the last watcher for the
signal is destroyed.

Returns the watcher. Croaks for an unknown signal name, a signal that cannot be caught
(C<KILL>, C<STOP>), and a missing or non-code C<cb>.

=head2 $w = AnyEvent->child(pid => $pid, cb => $cb)

Calls C<$cb-E<gt>($pid, $status)> when the child process C<$pid> exits (C<$status> as in C<$?>).
C<pid =E<gt> 0> watches every child. Children are reaped with C<waitpid> while child watchers
exist, after C<SIGCHLD>, and once when a watcher is created, so a child that exited before its
watcher was created is still reported (unless another watcher reaped it first).

Returns the watcher. Croaks for a missing, negative or non-numeric C<pid> and a missing or
non-code C<cb>.

=head2 $w = AnyEvent->idle(cb => $cb)

Calls C<$cb> at every loop iteration in which nothing else is ready. Returns the watcher;
croaks for a missing or non-code C<cb>.

=head2 AnyEvent->now

The loop time: wall-clock seconds since the epoch (fractional), as of the start of the current
loop iteration. Timers count from this time. When a foreign loop is in charge (L</MODELS>), the
loop time outside our own callbacks (in the foreign loop's callbacks, or in code before its main
function runs) is the current time, as AnyEvent 7.17's time under Glib, POE, Tk and the other
loops without a cached time; a timer made there counts from the current time (timers made
together, before our loop runs again, share one starting time, so they keep their order).

=head2 AnyEvent->time

The current wall-clock time in fractional seconds.

=head2 AnyEvent->now_update

Sets the loop time to the current time; useful after a long computation, before creating
timers.

=head2 $cv = AnyEvent->condvar(cb => $cb)

A new condition variable, see L<AnyEvent::CondVar>. With C<cb>, it is called with the condvar
once it has been sent.

=head1 FUNCTIONS AND VARIABLES

=head2 $AnyEvent::MODEL

The model's class (see L</MODELS>), e.g. C<AnyEvent::Impl::Rust> or C<AnyEvent::Impl::Glib>;
undef until the model is detected.

=head2 AnyEvent::detect

Detects the model unless that happened already, and returns C<$AnyEvent::MODEL>. Detection
also happens at the first watcher, C<postpone> or C<recv>. Never croaks: a model that cannot be
loaded is logged and skipped.

=head2 $guard = AnyEvent::post_detect { BLOCK }

Before detection: remembers BLOCK, to be run right after the model is detected, and returns (in
non-void context) a guard object; destroying the guard forgets BLOCK. After detection: runs
BLOCK at once and returns C<undef>, so code that keeps the "guard" (C<$w ||= $guard>) works.
Code references pushed onto C<@AnyEvent::post_detect> are run at detection too.

=head2 @AnyEvent::REGISTRY

C<[$package, $model]> pairs looked at before AnyEvent's own list at detection: when
C<$package> is loaded (its C<$VERSION> is true), C<$model> is required and used.

=head2 AnyEvent::postpone { BLOCK }

Runs BLOCK from the event loop at its next iteration, after the current callback has returned.
Returns nothing; croaks if BLOCK is not code.

=head2 AnyEvent::one_event

Also C<< AnyEvent->one_event >>: runs one iteration of the event loop, as
L<AnyEvent::Loop/AnyEvent::Loop::one_event> does (waits for at least one event or due timer,
calls the ready callbacks, returns). Kept for old code; new code waits with a condition
variable instead.

=head2 AnyEvent::log $level, $message[, @args]

Also C<AE::log>: logs through L<AnyEvent::Log> (see there for levels, formats and
configuration). Decides without loading AnyEvent::Log (and at almost no cost) whether the
message would be logged, returning 0 at once if not; loads it for the first message that is.
Returns 1 when logged, 0 otherwise; at level C<fatal> the program ends. Croaks for a bad
level ("LEVEL: not a valid logging level, caught").

=head2 AnyEvent::fh_block $fh, AnyEvent::fh_unblock $fh

Puts the handle into blocking or non-blocking mode (prototype C<($)>; other file status flags
are kept). Returns true on success, C<undef> (with C<$!> set) on failure, also in list
context. An unopened handle fails quietly; a closed one dies (C<fcntl() on closed filehandle>),
as in AnyEvent 7.17.

=head2 Constants

C<AnyEvent::WIN32> and C<AnyEvent::CYGWIN> (true on those platforms, so 0 here),
C<AnyEvent::TAINT> (true under C<perl -T>), and C<AnyEvent::F_SETFD>, C<AnyEvent::F_SETFL>,
C<AnyEvent::O_NONBLOCK>, C<AnyEvent::FD_CLOEXEC> (the platform's values, as in L<Fcntl>):
constant functions that AnyEvent defines and modules built on it use.

=head2 $AnyEvent::MAX_SIGNAL_LATENCY

Initialised from C<$ENV{PERL_ANYEVENT_MAX_SIGNAL_LATENCY}> (default 10). The Rust loop is woken
by a signal as soon as it arrives, so under it signals and child exits are never delayed. Under
L<AnyEvent::Impl::Event>, whose loop notices a caught signal only when it wakes up, a timer
wakes it every C<$AnyEvent::MAX_SIGNAL_LATENCY> seconds while signal watchers exist, as in
AnyEvent 7.17 (set it before creating them).

=head2 AnyEvent::common_sense

Enables strict and a sensible set of warnings in the caller, as AnyEvent's modules use it.

=head1 THE AE API

The functions of package L<AE> are XSUBs that create the same watchers with positional
arguments and less overhead:

    AE::io $fh, $watch_write, $cb      # $watch_write: 0 = read, 1 = write
    AE::timer $after, $interval, $cb   # $interval 0: one-shot
    AE::signal $name, $cb
    AE::child $pid, $cb
    AE::idle $cb
    AE::cv [$cb]                       # a condition variable
    AE::now, AE::now_update, AE::time
    AE::postpone { ... }

They croak for the same bad arguments as the method API.

=head1 ENVIRONMENT

Every variable below can also be given with the prefix C<AE_> instead of C<PERL_ANYEVENT_>
(C<AE_VERBOSE> for C<PERL_ANYEVENT_VERBOSE>): when AnyEvent is loaded, each C<AE_xxx> is
copied to C<PERL_ANYEVENT_xxx> in C<%ENV> unless that one exists already (set it to the empty
string to override an C<AE_> variable meant for another program). This applies to the
variables read by L<AnyEvent::DNS>, L<AnyEvent::Socket> and L<AnyEvent::Util> too. Under taint
mode (C<perl -T>) the variables are ignored: every C<PERL_ANYEVENT_xxx> is removed from
C<%ENV>, then those with an C<AE_xxx> counterpart are set to C<undef>.

=over 4

=item PERL_ANYEVENT_MODEL

The model to use: C<Rust> or C<Perl> (our own loop), C<EV>, C<Glib>, C<Event>, C<IOAsync>,
C<Tk>, C<POE>, C<Mojo> (C<AnyEvent::Impl::> is prepended; a name ending in C<::> is used as it
is). A model that cannot be loaded is reported in one line at log level 2 and detection
proceeds as without the variable.

=item PERL_ANYEVENT_IO_MODEL

The backend of L<AnyEvent::IO>: C<Rust> (the default: worker threads), C<IOAIO> (L<IO::AIO>)
or C<Perl> (synchronous); see there. C<PERL_ANYEVENT_IO_THREADS> sets the most worker threads of
the Rust backend.

=item PERL_ANYEVENT_PROTOCOLS

Comma-separated preference of C<ipv4> and C<ipv6> for connections and DNS look-ups, most
preferred first (default C<ipv4,ipv6>); a protocol left out is not used. Kept in
C<%AnyEvent::PROTOCOL> (protocol => rank, higher preferred).

=item PERL_ANYEVENT_VERBOSE

The log level (default 4), see L<AnyEvent::Log>.

=item PERL_ANYEVENT_LOG

A logging configuration, see L<AnyEvent::Log/PERL_ANYEVENT_LOG>; loads AnyEvent::Log.

=item PERL_ANYEVENT_STRICT

When true, L<AnyEvent::Strict> is loaded with AnyEvent (before the model is detected): every
watcher call is checked, the first one included.

=item PERL_ANYEVENT_DEBUG_WRAP

The wrap level of L<AnyEvent::Debug/AnyEvent::Debug::wrap> (0, 1 or 2).

=item PERL_ANYEVENT_DEBUG_SHELL

C<HOST:PORT> or a unix socket path (C<$$> replaced by the process id): an
L<AnyEvent::Debug> shell is started there when the model is detected (its listening socket is a
watcher, so that loading AnyEvent does not choose the model), kept in
C<$AnyEvent::Debug::SHELL>.

=item PERL_ANYEVENT_MAX_SIGNAL_LATENCY

Sets C<$AnyEvent::MAX_SIGNAL_LATENCY> (see there).

=item PERL_ANYEVENT_AVOID_GUARD

When true, C<AnyEvent::Util::guard> does not use the C<Guard> module even if it is installed
(see L<AnyEvent::Util/guard>).

=back

=head1 SIGNALS

As AnyEvent does: when AnyEvent is loaded, a no-op C<SIGPIPE> handler is installed if
C<$SIG{PIPE}> is undefined, and C<SIGCHLD> set to C<IGNORE> is reset to the default.

=head1 MODELS

As in AnyEvent 7.17, the model is chosen once: at the first watcher (or C<postpone>, C<recv>,
C<AnyEvent::detect>). C<PERL_ANYEVENT_MODEL> is tried first; otherwise the first of these
modules that is loaded decides: EV (L<AnyEvent::Impl::EV>), AnyEvent::Loop
(L<AnyEvent::Impl::Perl>, our own loop), Irssi (L<AnyEvent::Impl::Irssi>), Event
(L<AnyEvent::Impl::Event>), Glib (L<AnyEvent::Impl::Glib>), Event::Lib, Tk
(L<AnyEvent::Impl::Tk>), UV (L<AnyEvent::Impl::UV>), Qt (L<AnyEvent::Impl::Qt>), POE::Kernel, Wx and
Prima (L<AnyEvent::Impl::POE>), IO::Async::Loop (L<AnyEvent::Impl::IOAsync>), Cocoa::EventLoop,
FLTK, and beyond 7.17 Mojo::IOLoop (L<AnyEvent::Impl::Mojo>). With none loaded, our own loop
runs (C<AnyEvent::Impl::Rust>); unlike 7.17 nothing is loaded just to probe. The models for
Event::Lib, FLTK, Cocoa::EventLoop, UV, Qt and Irssi exist but are untested (those loops have
no Debian packages; Irssi needs a running irssi).

Whatever the model, every watcher lives in the Rust loop; a foreign model runs that loop as one
source of the foreign loop, so watchers fire while the program runs the foreign loop's own main
function, and C<< $cv->recv >> iterates the foreign loop (L<AnyEvent::Impl::Embed>).

=head1 EMBEDDING

See L<AnyEvent::Impl::Rust> for running the loop inside another event loop.

=head1 SEE ALSO

L<AE>, L<AnyEvent::CondVar>, L<AnyEvent::Loop>, L<AnyEvent::Impl::Rust>, L<AnyEvent::Intro>
(the tutorial; its programs run unchanged).

=head1 LICENSE

Same terms as Perl itself.

=cut
