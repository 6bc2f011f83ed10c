package AnyEvent::Debug;

use strict;
use warnings;
use B ();
use Carp ();
use Errno ();
use Scalar::Util ();

use AnyEvent ();
use AnyEvent::Util ();
use AnyEvent::Socket ();
use AnyEvent::Log ();

our $VERSION = $AnyEvent::VERSION;

our $TRACE = 1;              # tracing state of newly wrapped watchers
our ($TRACE_LOGGER, $TRACE_ENABLED);
our $WRAP_LEVEL = 0;
our $TRACE_CUR;              # the wrapped watcher whose callback runs now
our %Wrapped;                # id => wrapped watcher (weak)
our $SHELL;                  # the shell of PERL_ANYEVENT_DEBUG_SHELL
our %STRCACHE;               # file names, shared between watchers

# --- the shell --------------------------------------------------------------------------------

sub shell($$) {
    my ($host, $service) = @_;
    local $TRACE = 0;
    return AnyEvent::Socket::tcp_server($host, $service, sub {
        my ($fh, $peer_host, $peer_port) = @_;
        syswrite $fh, "Welcome, $peer_host:$peer_port, use 'help' for more info!\015\012> ";

        # log messages reaching $COLLECT go to the connection (at the level set with "v")
        my $logger = AnyEvent::Log::Ctx->new(log_cb => sub { syswrite $fh, $_[0]; 0 });
        $logger->level(0);
        $AnyEvent::Log::COLLECT->attach($logger);
        my $detach = AnyEvent::Util::guard(sub { $AnyEvent::Log::COLLECT->detach($logger) if $AnyEvent::Log::COLLECT && $logger });

        local $TRACE = 0;
        my $rbuf = '';
        my $rw;
        $rw = AE::io($fh, 0, sub {
            $detach if 0;    # lives as long as the watcher
            my $len = sysread $fh, $rbuf, 1024, length $rbuf;
            if (defined $len ? $len == 0 : ($! != Errno::EAGAIN && $! != Errno::EWOULDBLOCK)) {
                undef $rw;
                return;
            }
            while ($rbuf =~ s/^(.*?)\015?\012//) {
                my $line = $1;
                AnyEvent::fh_block($fh);
                syswrite $fh, _command($line, $logger, $fh);
                syswrite $fh, '> ';
                AnyEvent::fh_unblock($fh);
            }
        });
    });
}

# Runs one line of the shell; returns the text to send back (output goes to the connection).
sub _command {
    my ($line, $logger, $fh) = @_;
    return "sorry, no... if you want to execute exit, try CORE::exit.\015\012" if $line =~ /^\s*exit\b/;
    if ($line =~ /^\s*coro\b/) {
        return "Coro not available.\015\012" unless eval { require Coro; require Coro::Debug; 1 };
        return "Coro::Debug is not supported by this shell.\015\012";
    }
    my $old = select $fh;
    local $| = 1;
    my @res = AnyEvent::Debug::shell::_eval($line, $logger);
    select $old;
    my $out = $@ ? "$@" : '';
    $out .= "\015\012";
    if (@res > 1) {
        $out .= "$_: " . ($res[$_] // 'undef') . "\015\012" for 0 .. $#res;
    } elsif (@res == 1) {
        $out .= ($res[0] // 'undef') . "\015\012";
    }
    return $out;
}

{
    package AnyEvent::Debug::shell;

    our $LOGGER;

    sub _eval {
        local $LOGGER = $_[1];
        no strict;
        use strict 'subs';
        no warnings;
        return eval $_[0];
    }

    sub help() {
        return <<'EOF';
help         this command
wr [level]   sets wrap level to level (or toggles if missing)
v [level]    sets verbosity (or toggles between 0 and 9 if missing)
wl 'regex'   print wrapped watchers matching the regex (or all if missing)
i id,...     prints the watcher with the given ids in more detail
t            enable tracing for newly created watchers (enabled by default)
ut           disable tracing for newly created watchers
t  id,...    enable tracing for the given watcher (enabled by default)
ut id,...    disable tracing for the given watcher
w id,...     converts the watcher ids to watcher objects (for scripting)
coro xxx     run xxx as Coro::Debug shell command, if available
coro         switch to Coro::Debug shell, if available
EOF
    }

    sub wl(;$) {
        my $re = @_ ? qr/$_[0]/i : qr/./;
        my %line;
        for my $id (keys %AnyEvent::Debug::Wrapped) {
            my $w = $AnyEvent::Debug::Wrapped{$id} or next;
            my $str = "$w";
            $line{$str} = $id . (exists $w->{error} ? '*' : ' ') if $str =~ $re;
        }
        return join '', map "$line{$_} $_\n", sort keys %line;
    }

    sub w {
        return map {
            $AnyEvent::Debug::Wrapped{$_} || do { print "$_: no such wrapped watcher.\n"; () }
        } @_;
    }

    sub i {
        return join '', map { $_->id . " $_\n" . $_->verbose . "\n" } &w;
    }

    sub wr {
        AnyEvent::Debug::wrap(@_);
        return "wrap level now $AnyEvent::Debug::WRAP_LEVEL";
    }

    # t / ut: tracing on or off for the listed watchers, or for watchers created from now on
    sub _trace {
        my ($on, @ids) = @_;
        my $what = $on ? "enabled" : "disabled";
        if (@ids) {
            my @w = w(@ids);
            $_->trace($on) for @w;
            return "tracing $what for @w.";
        }
        $AnyEvent::Debug::TRACE = $on;
        return "tracing for newly created watchers is now $what.";
    }

    sub t  { _trace(1, @_) }
    sub ut { _trace(0, @_) }

    *u = \&ut;

    sub v {
        my $on = $LOGGER->{mask};
        $LOGGER->level(@_ ? $_[0] : $on ? 0 : 9);
        return 'verbose logging is now ' . ($LOGGER->{mask} ? 'enabled' : 'disabled') . '.';
    }
}

# --- wrapping ---------------------------------------------------------------------------------

sub wrap(;$) {
    my $previous = $WRAP_LEVEL;
    $WRAP_LEVEL = @_ ? 0 + shift : $WRAP_LEVEL ? 0 : 1;
    if ($WRAP_LEVEL && !$previous) {
        $TRACE_LOGGER = AnyEvent::Log::logger(trace => \$TRACE_ENABLED);
        AnyEvent::_isa_hook(0 => 'AnyEvent::Debug::Wrap', 1);
    } elsif (!$WRAP_LEVEL && $previous) {
        AnyEvent::_isa_hook(0 => undef);
    }
    return;
}

sub path2mod($) {
    my ($path) = @_;
    for my $key (keys %INC) {
        next unless defined $INC{$key} && $INC{$key} eq $path;
        my $mod = $key;
        $mod =~ s{/}{::}g if $mod =~ s/\.pm\z//;
        return $mod;
    }
    $path =~ s{^\./}{};
    return $path;
}

sub cb2str($) {
    my ($cb) = @_;
    return "$cb" unless ref $cb eq 'CODE';
    my $str = eval {
        my $cv = B::svref_2object($cb);
        my $gv = $cv->GV;
        return undef if !$gv || $gv->isa('B::SPECIAL');
        return path2mod($gv->FILE) . ':' . $cv->START->line
            if $gv->NAME eq '__ANON__' && $cv->START->can('line');
        return path2mod($gv->FILE) . ':' . $gv->LINE if $gv->NAME eq '__ANON__';
        return $gv->STASH->NAME . '::' . $gv->NAME;
    };
    return defined $str ? $str : "$cb";
}

sub sv2str($) {
    my ($sv) = @_;
    return ref $sv eq 'CODE' ? "$sv=" . cb2str($sv) : "$sv" if ref $sv;
    return 'undef' unless defined $sv;
    my $str = "'$sv'";
    my $max = $Carp::MaxArgLen || 64;
    substr($str, $max) = "'..." if length $str > $max;
    return $str;
}

sub backtrace(;$) {
    my $skip = shift // 0;
    my @frames;
    while (1) {
        my @c;
        {
            package DB;
            @c = caller($skip++);
        }
        last unless @c;
        my $sub;
        if ($c[7]) {
            $sub = "require $c[6]";
        } elsif (defined $c[6]) {
            $sub = 'eval ""';
        } else {
            $sub = ($c[4] ? '' : '&') . $c[3];
            if ($c[4]) {
                my $max = $Carp::MaxArgNums || 8;
                my @args = @DB::args > $max ? @DB::args[0 .. $max - 1] : @DB::args;
                $sub .= '(' . join(',', map sv2str($_), @args) . ')';
            }
        }
        push @frames, [\($STRCACHE{ $c[1] } ||= $c[1]), $c[2], $sub];
    }
    @DB::args = ();
    return bless \@frames, 'AnyEvent::Debug::Backtrace';
}

package AnyEvent::Debug::Wrap;

# The watcher hook of wrap(): each watcher becomes an AnyEvent::Debug::Wrapped object.

for my $type (qw(io timer signal child idle)) {
    my $super = "SUPER::$type";
    no strict 'refs';
    *$type = sub {
        my ($class, %arg) = @_;
        my $trace = $AnyEvent::Debug::TRACE;
        my ($pkg, $file, $line);
        my $depth = 0;
        do {
            ($pkg, $file, $line) = caller $depth++;
        } while defined $pkg
            && $pkg =~ /^(?:AE|AnyEvent::(?:Socket|Handle|Util|Debug|Debug::Wrap|Strict|Base|CondVar|CondVar::Base|Impl::.*)|Coro::AnyEvent::CondVar)\z/;
        my $sub = (caller $depth)[3];

        my $self;
        my $cb = $arg{cb};
        $arg{cb} = sub {
            ++$self->{called};
            local $AnyEvent::Debug::TRACE_CUR = $self;
            $AnyEvent::Debug::TRACE_LOGGER->("enter $self") if $AnyEvent::Debug::TRACE_ENABLED && $trace;
            my $ok = eval {
                local $SIG{__DIE__} = sub { die $_[0] . AnyEvent::Debug::backtrace() if defined $^S };
                &$cb;
                1;
            };
            unless ($ok) {
                my $err = "$@";
                push @{ $self->{error} }, [AE::now(), $err] if @{ $self->{error} || [] } < 10;
                AE::log(die => "($self) $err") or warn "($self) $err";
            }
            $AnyEvent::Debug::TRACE_LOGGER->("leave $self") if $AnyEvent::Debug::TRACE_ENABLED && $trace;
        };

        my $w = $class->$super(%arg);
        delete $arg{cb};
        my $obj = bless {
            type   => $type,
            w      => $w,
            rfile  => \($AnyEvent::Debug::STRCACHE{$file} ||= $file),
            line   => $line,
            sub    => $sub,
            cur    => defined $AnyEvent::Debug::TRACE_CUR ? "$AnyEvent::Debug::TRACE_CUR" : '',
            now    => AE::now(),
            arg    => \%arg,
            cb     => $cb,
            called => 0,
            rt     => \$trace,
        }, 'AnyEvent::Debug::Wrapped';
        $obj->{bt} = AnyEvent::Debug::backtrace(1) if $AnyEvent::Debug::WRAP_LEVEL >= 2;
        # the callback and the registry must not keep the watcher alive
        $self = $obj;
        Scalar::Util::weaken($self);
        my $id = Scalar::Util::refaddr $obj;
        Scalar::Util::weaken($AnyEvent::Debug::Wrapped{$id} = $obj);
        $AnyEvent::Debug::TRACE_LOGGER->("creat $obj") if $AnyEvent::Debug::TRACE_ENABLED && $trace;
        return $obj;
    };
}

package AnyEvent::Debug::Wrapped;

use overload '""' => \&_str, fallback => 1;

sub _str {
    my ($self) = @_;
    return $self->{str} //= do {
        my $mod = AnyEvent::Debug::path2mod(${ $self->{rfile} });
        my $sub = $self->{sub};
        if (defined $sub) {
            $sub =~ s/^\Q$mod\E:://;
            $sub = "($sub)";
        } else {
            $sub = '';
        }
        "$mod:$self->{line}$sub>$self->{type}>" . AnyEvent::Debug::cb2str($self->{cb});
    };
}

sub id { Scalar::Util::refaddr $_[0] }

sub verbose {
    my ($self) = @_;
    my $text = "type:    $self->{type} watcher\n"
             . 'args:    ' . join(' ', map { $_ // 'undef' } %{ $self->{arg} }) . "\n"
             . 'created: ' . AnyEvent::Log::format_time($self->{now}) . " ($self->{now})\n"
             . "file:    ${ $self->{rfile} }\n"
             . "line:    $self->{line}\n"
             . 'subname: ' . ($self->{sub} // '') . "\n"
             . "context: $self->{cur}\n"
             . 'tracing: ' . (${ $self->{rt} } ? 'enabled' : 'disabled') . "\n"
             . "cb:      $self->{cb} (" . AnyEvent::Debug::cb2str($self->{cb}) . ")\n"
             . "invoked: $self->{called} times\n";
    $text .= "created\n$self->{bt}" if exists $self->{bt};
    if (exists $self->{error}) {
        $text .= 'errors:   ' . @{ $self->{error} } . "\n";
        $text .= 'error: ' . AnyEvent::Log::format_time($_->[0]) . " ($_->[0]) $_->[1]\n" for @{ $self->{error} };
    }
    return $text;
}

sub trace {
    ${ $_[0]{rt} } = $_[1];
    return;
}

sub DESTROY {
    $AnyEvent::Debug::TRACE_LOGGER->("dstry $_[0]") if $AnyEvent::Debug::TRACE_ENABLED && ${ $_[0]{rt} };
    delete $AnyEvent::Debug::Wrapped{ Scalar::Util::refaddr $_[0] };
}

package AnyEvent::Debug::Backtrace;

use overload '""' => \&as_string, fallback => 1;

sub as_string {
    my ($self) = @_;
    my (@rows, $width);
    $width = 0;
    for my $frame (@$self) {
        my ($rpath, $line, $sub) = @$frame;
        my $where = AnyEvent::Debug::path2mod($$rpath) . " line $line";
        $width = length $where if length $where > $width;
        $sub =~ s/\r/\\r/g;
        $sub =~ s/\n/\\n/g;
        $sub =~ s/([\x00-\x1f\x7e-\xff])/sprintf "\\x%02x", ord $1/ge;
        $sub =~ s/([^\x20-\x7e])/sprintf "\\x{%x}", ord $1/ge;
        push @rows, [$where, $sub];
    }
    return join '', map { sprintf "%-*s %s\n", $width, @$_ } @rows;
}

package AnyEvent::Debug;

wrap($ENV{PERL_ANYEVENT_DEBUG_WRAP}) if $ENV{PERL_ANYEVENT_DEBUG_WRAP} && !$WRAP_LEVEL;

1;

__END__

=head1 NAME

AnyEvent::Debug - a debug shell into a running program, and watcher tracing

=head1 SYNOPSIS

    use AnyEvent::Debug;

    # a shell on a unix socket: connect with "socat readline /home/me/myshell"
    our $SHELL = AnyEvent::Debug::shell "unix/", "/home/me/myshell";

    AnyEvent::Debug::wrap 1;    # wrap (and trace) every watcher created from now on

    # or from the environment:
    PERL_ANYEVENT_DEBUG_SHELL=/tmp/debug\$\$.sock PERL_ANYEVENT_DEBUG_WRAP=1 myprog

=head1 DESCRIPTION

Debugging aids, as in AnyEvent 7.17: an interactive shell that executes Perl code inside the
program, and wrapping of watchers, which records where each was created, counts its callback
invocations, keeps its errors and can trace them through L<AnyEvent::Log> at level C<trace>.

=head1 FUNCTIONS

=head2 $shell = AnyEvent::Debug::shell $host, $service

Listens on C<$host> and C<$service> (as L<AnyEvent::Socket/tcp_server> takes them; C<"unix/">
and a path for a unix socket) and returns the guard of the listener: the shell exists as long
as it is kept. Each connection is greeted ("Welcome, HOST:PORT, use 'help' for more info!")
and gets a C<< > >> prompt; every line is evaluated as Perl code in package
C<AnyEvent::Debug::shell> (under C<use strict 'subs'>) while the connection is the selected
output handle, blocking. The result is printed (a list numbered, one element per line), an
error as it is. C<exit> is refused (use C<CORE::exit>). Each connection also has a log context,
C<$LOGGER> (attached to C<$AnyEvent::Log::COLLECT>, all levels off until C<v> is used), whose
messages are written to the connection. There is no authentication: prefer a unix socket in a
private directory. The shell's commands:

    help         this command
    wr [level]   sets wrap level to level (or toggles if missing)
    v [level]    sets verbosity (or toggles between 0 and 9 if missing)
    wl 'regex'   print wrapped watchers matching the regex (or all if missing)
    i id,...     prints the watcher with the given ids in more detail
    t            enable tracing for newly created watchers (enabled by default)
    ut           disable tracing for newly created watchers
    t  id,...    enable tracing for the given watcher (enabled by default)
    ut id,...    disable tracing for the given watcher
    w id,...     converts the watcher ids to watcher objects (for scripting)
    coro ...     (Coro::Debug; not supported by this shell)

C<wl> lists one watcher per line as C<ID STRING>, with C<*> after the id of a watcher whose
callback has died. Croaks when C<$host>/C<$service> cannot be listened on.

=head2 AnyEvent::Debug::wrap [$level]

Sets the wrap level for watchers created from now on (without an argument: toggles between 0
and 1); returns nothing. Level 0 is normal operation. At level 1 every watcher (io, timer,
signal, child, idle; through the method and the L<AE> API alike) is an
C<AnyEvent::Debug::Wrapped> object that records where it was created and wraps its callback:
invocations are counted and traced ("enter ..."/"leave ...", also "creat" and "dstry") at
level C<trace> in the context C<AnyEvent::Debug> when tracing is on for the watcher
(C<$AnyEvent::Debug::TRACE> at creation, default 1) and trace messages of that context are
logged somewhere; an exception in the callback is kept (up to 10, with a backtrace) and logged
at C<error> (or warned), and does not propagate. Level 2 also records a full backtrace at
creation (slow). C<$ENV{PERL_ANYEVENT_DEBUG_WRAP}> sets the level when AnyEvent is loaded.
Back at level 0, AnyEvent's methods and the L<AE> functions are the plain ones again.

=head2 $name = AnyEvent::Debug::path2mod $path

The module name (C<AnyEvent::Debug>) of a file path found in C<%INC>; other paths are
returned as they are, without a leading C<./>.

=head2 $text = AnyEvent::Debug::cb2str $cb

A readable name for a callback: C<Package::name> for a named sub, C<FILE:LINE> (with the
module name for files of C<%INC>) for an anonymous one, the stringified value for anything
else.

=head2 $text = AnyEvent::Debug::sv2str $value

A value as backtraces show arguments: quoted and shortened to C<$Carp::MaxArgLen>,
references stringified, code references with their C<cb2str> name.

=head2 $bt = AnyEvent::Debug::backtrace [$skip]

The call stack from the caller on (skipping C<$skip> more frames), as an
C<AnyEvent::Debug::Backtrace> object, which stringifies (C<as_string>) to one line per frame:
C<MODULE line N>, then the sub with its arguments (or C<require ...>, C<eval "">).

=head1 VARIABLES

C<$AnyEvent::Debug::TRACE> (tracing for new wrapped watchers, default 1),
C<$AnyEvent::Debug::WRAP_LEVEL>, C<%AnyEvent::Debug::Wrapped> (id => wrapped watcher, weak),
C<$AnyEvent::Debug::SHELL> (the shell from C<PERL_ANYEVENT_DEBUG_SHELL>).

=head1 AnyEvent::Debug::Wrapped

A wrapped watcher: a hash with C<type> (io, timer ...), C<w> (the real watcher), C<rfile>
(reference to the file name), C<line> and C<sub> (where it was created), C<cur> (the wrapped
watcher whose callback was running then, as a string), C<now> (creation time), C<arg> (the
arguments without C<cb>), C<cb>, C<called> (invocation count), C<error> (C<[time, message]>
pairs) and, at level 2, C<bt>. It stringifies to C<MODULE:LINE(SUB)>TYPE>CALLBACK>. Dropping it
stops the watcher.

=head2 $id = $w->id

Its numeric id (the key in C<%AnyEvent::Debug::Wrapped>).

=head2 $text = $w->verbose

A multi-line description: type, arguments, creation time, file, line, sub, context, tracing,
callback, invocation count, the creation backtrace and the recorded errors.

=head2 $w->trace($on)

Turns tracing of this watcher on or off. Returns nothing.

=head1 ENVIRONMENT

C<PERL_ANYEVENT_DEBUG_SHELL> (C<HOST:PORT> or a unix socket path, C<$$> replaced by the
process id: a shell is started when the model is detected, as in 7.17, and kept in
C<$AnyEvent::Debug::SHELL>),
C<PERL_ANYEVENT_DEBUG_WRAP> (the wrap level).

=head1 SEE ALSO

L<AnyEvent::Log>, L<AnyEvent::Strict>

=cut
