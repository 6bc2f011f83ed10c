package AnyEvent::Log;

use strict;
use warnings;
use Carp ();
use POSIX ();
use Scalar::Util ();

use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

# Errors about bad arguments are reported at the caller's line.
$Carp::Internal{$_}++ for qw(AnyEvent::Log AnyEvent::Log::Ctx);

# Level names (with their syslog and perl aliases) come from the XS front, which needs them to
# decide without Perl; level numbers back to the names used in formatted messages.
our %STR2LEVEL = _level_names();
our @LEVEL2STR = qw(0 fatal alert crit error warn note info debug trace);

use constant ALL_LEVELS => 0x3fe;    # bits 1..9

our ($COLLECT, $FILTER, $LOG);
our %CTX;       # package name => its context
our %LOGGER;    # id => [ctx, level, \$enabled] of every live logger closure

# --- levels -----------------------------------------------------------------------------------

# A level argument (1..9 or a name) as its number; croaks naming WHAT for anything else.
sub _level_num {
    my ($level, $what) = @_;
    return $level + 0 if defined $level && $level =~ /^[1-9]\z/;
    return $STR2LEVEL{$level} if defined $level && exists $STR2LEVEL{$level};
    Carp::croak((defined $level ? $level : 'undef') . ": not a valid logging level, caught" . ($what ? " ($what)" : ''));
}

# A list of levels, where "all" stands for every level.
sub _level_list {
    my $what = shift;
    map { defined $_ && $_ eq 'all' ? (1 .. 9) : _level_num($_, $what) } @_;
}

# A single level that may also be 0 ("off", "none"): the level number, 0, or 9 for "all".
sub _level_or_off {
    my ($level, $what) = @_;
    return 0 if defined $level && $level =~ /^(?:0|off|none)\z/;
    return 9 if defined $level && $level eq 'all';
    return _level_num($level, $what);
}

# --- the configuration changed ----------------------------------------------------------------

# Every change that can alter whether a message is logged ends here: the XS front drops its
# cached per-package decisions, and the $$enabled variables of logger closures are updated.
sub _config_changed {
    _changed();
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT';
    for my $logger (values %LOGGER) {
        my ($ctx, $level, $enabled) = @$logger;
        $$enabled = $level <= 1 || _walk($ctx, $level, \&_stop_at_target) ? 1 : 0;
    }
    return;
}

# --- contexts ---------------------------------------------------------------------------------

sub _new_ctx {
    my ($title) = @_;
    return bless { title => $title, mask => ALL_LEVELS, slaves => {}, cap => 0 }, 'AnyEvent::Log::Ctx';
}

# The default slave of a package context: the context of the package one level up, or $COLLECT.
sub _parent_of {
    my ($pkg) = @_;
    return $pkg =~ /^(.+)::[^:]*\z/ ? ctx("$1") : $COLLECT;
}

sub _pkg_ctx {
    my ($pkg) = @_;
    my $ctx = $CTX{$pkg} = _new_ctx($pkg);
    my $parent = _parent_of($pkg);
    $ctx->{slaves}{Scalar::Util::refaddr $parent} = $parent;
    return $ctx;
}

sub ctx(;$) {
    my $pkg = @_ ? shift : (caller)[0];
    return $pkg if ref $pkg;
    return _new_ctx('') unless defined $pkg;
    return $CTX{$pkg} || _pkg_ctx($pkg);
}

sub reset {
    our $ORIG_VERBOSE;
    for my $ctx ($LOG, $FILTER, $COLLECT) {
        %$ctx = %{ _new_ctx('') };
    }
    for my $pkg (keys %CTX) {
        %{ $CTX{$pkg} } = %{ _new_ctx($pkg) };
    }
    for my $pkg (keys %CTX) {
        my $parent = _parent_of($pkg);
        $CTX{$pkg}{slaves}{Scalar::Util::refaddr $parent} = $parent;
    }
    $LOG->{title} = '$AnyEvent::Log::LOG';
    $LOG->log_to_warn;
    $FILTER->{title} = '$AnyEvent::Log::FILTER';
    $FILTER->{slaves} = { Scalar::Util::refaddr($LOG) => $LOG };
    $FILTER->{mask} = _mask_up_to($ORIG_VERBOSE);
    $COLLECT->{title} = '$AnyEvent::Log::COLLECT';
    $COLLECT->{slaves} = { Scalar::Util::refaddr($FILTER) => $FILTER };
    _config_changed();
    return;
}

# The mask of levels 1..$level (0: none; more than 9: all).
sub _mask_up_to {
    my ($level) = @_;
    $level = 0 if !defined $level || $level !~ /^\d+(?:\.\d*)?\z/;
    $level = 9 if $level > 9;
    return ((1 << int $level) - 1) << 1;
}

# --- walking the context graph ----------------------------------------------------------------

# Visits the contexts a message at $level entering $ctx reaches: each context whose mask has
# $level, once, then its slaves. $visit->($ctx, $effective_level) returns PROPAGATE (go on to
# the slaves), CONSUMED (not to the slaves) or STOP (end the walk, _walk returns true).
use constant { PROPAGATE => 0, CONSUMED => 1, STOP => 2 };

sub _walk {
    my ($start, $level, $visit) = @_;
    my $bit = 1 << $level;
    my (%seen, @todo);
    @todo = ([$start, $level]);
    while (my $item = pop @todo) {
        my ($ctx, $lvl) = @$item;
        next unless $ctx && ($ctx->{mask} || 0) & $bit;    # (contexts half gone at global destruction)
        next if $seen{Scalar::Util::refaddr $ctx}++;
        $lvl = $ctx->{cap} if ($ctx->{cap} || 0) > $lvl;
        my $what = $visit->($ctx, $lvl);
        return 1 if $what == STOP;
        push @todo, map [$_, $lvl], values %{ $ctx->{slaves} } if $what == PROPAGATE;
    }
    return 0;
}

sub _stop_at_target { $_[0]{log_cb} ? STOP : PROPAGATE }

# For the XS front: the levels at which a message from $pkg would be logged (bit n: level n).
sub _pkg_mask {
    my ($pkg) = @_;
    my $ctx = $CTX{$pkg} || _pkg_ctx($pkg);
    my $mask = 1 << 1;
    for my $level (2 .. 9) {
        $mask |= 1 << $level if _walk($ctx, $level, \&_stop_at_target);
    }
    return $mask;
}

# --- logging ----------------------------------------------------------------------------------

our $TIME_EXACT = 0;

sub exact_time($) {
    $TIME_EXACT = $_[0] ? 1 : 0;
    return;
}

{
    my ($sec, $head, $zone) = (-1);

    sub format_time($) {
        my ($time) = @_;
        my $int = POSIX::floor($time);
        if ($int != $sec) {
            my @tm = localtime $int;
            ($sec, $head, $zone) = ($int, POSIX::strftime('%Y-%m-%d %H:%M:%S', @tm), POSIX::strftime('%z', @tm));
        }
        return sprintf '%s.%06d %s', $head, int(($time - $int) * 1e6), $zone;
    }
}

sub default_format($$$$) {
    my ($time, $ctx, $level, $msg) = @_;
    my $stamp = format_time($time);
    my $title = $ctx->{title} // '';
    my ($first, @more) = split /\n/, sprintf '%-5s %s: %s', $LEVEL2STR[$level], $title, $msg;
    return join '', "$stamp $first\n", map "$stamp + $_\n", @more;
}

sub fatal_exit() {
    exit 1;
}

# Logs a message at $level into $ctx: returns 1 when some context's log_cb took it, else 0.
sub _log {
    my ($ctx, $level, $msg, @args) = @_;
    $level = _level_num($level);
    local ($!, $@);
    my ($time, %formatted);
    _walk($ctx, $level, sub {
        my ($target, $lvl) = @_;
        my $cb = $target->{log_cb} or return PROPAGATE;
        unless (defined $time) {    # the first target: make the message
            $msg = $msg->() if ref $msg eq 'CODE';
            $msg = sprintf $msg, @args if @args;
            $msg = '' unless defined $msg;
            $msg =~ s/\n\z//;
            $time = $TIME_EXACT ? AE::time() : AE::now();
        }
        my $str = $target->{fmt_cb}
            ? $target->{fmt_cb}->($time, $ctx, $lvl, $msg)
            : ($formatted{$lvl} //= default_format($time, $ctx, $lvl, $msg));
        return $cb->($str) ? CONSUMED : PROPAGATE;
    });
    fatal_exit() if $level <= 1;
    return defined $time ? 1 : 0;
}

# For the XS front (AnyEvent::log, AE::log): log in the context of package $pkg.
sub _log_pkg {
    my $pkg = shift;
    return _log($CTX{$pkg} || _pkg_ctx($pkg), @_);
}

*log = \&AnyEvent::log;

sub _logger {
    my ($ctx, $level, $enabled) = @_;
    $level = _level_num($level, 'logger level');
    Carp::croak('logger: the enabled flag must be a scalar reference') if defined $enabled && ref $enabled ne 'SCALAR';
    $enabled ||= \my $unused;
    my $entry = [$ctx, $level, $enabled];
    my $id = Scalar::Util::refaddr $entry;
    $LOGGER{$id} = $entry;
    $$enabled = $level <= 1 || _walk($ctx, $level, \&_stop_at_target) ? 1 : 0;
    my $guard = bless \$id, 'AnyEvent::Log::_LoggerGuard';
    return sub {
        $guard if 0;    # captured: the registration lives as long as this closure
        return unless $$enabled;
        return _log($ctx, $level, @_);
    };
}

sub AnyEvent::Log::_LoggerGuard::DESTROY { delete $LOGGER{ ${ $_[0] } } }

sub logger($;$) {
    return _logger(ctx((caller)[0]), @_);
}

# --- the context class ------------------------------------------------------------------------

package AnyEvent::Log::Ctx;

use strict;
use warnings;

sub new {
    my $class = shift;
    Carp::croak('AnyEvent::Log::Ctx->new: odd number of arguments (expects method => value pairs)') if @_ % 2;
    my $ctx = AnyEvent::Log::_new_ctx('');
    bless $ctx, $class;
    while (@_) {
        my ($method, $value) = splice @_, 0, 2;
        Carp::croak("AnyEvent::Log::Ctx->new: $method: no such method") unless $ctx->can($method);
        $ctx->$method(ref $value eq 'ARRAY' ? @$value : $value);
    }
    return $ctx;
}

sub title {
    my $ctx = shift;
    $ctx->{title} = shift if @_;
    return $ctx->{title};
}

sub levels {
    my $ctx = shift;
    my $mask = 0;
    $mask |= 1 << $_ for AnyEvent::Log::_level_list('levels', @_);
    $ctx->{mask} = $mask;
    AnyEvent::Log::_config_changed();
    return;
}

sub level {
    my ($ctx, $level) = @_;
    $ctx->{mask} = AnyEvent::Log::_mask_up_to(AnyEvent::Log::_level_or_off($level, 'level'));
    AnyEvent::Log::_config_changed();
    return;
}

sub enable {
    my $ctx = shift;
    $ctx->{mask} |= 1 << $_ for AnyEvent::Log::_level_list('enable', @_);
    AnyEvent::Log::_config_changed();
    return;
}

sub disable {
    my $ctx = shift;
    $ctx->{mask} &= ~(1 << $_) for AnyEvent::Log::_level_list('disable', @_);
    AnyEvent::Log::_config_changed();
    return;
}

sub cap {
    my ($ctx, $level) = @_;
    $ctx->{cap} = AnyEvent::Log::_level_or_off($level, 'cap');
    return;
}

sub _ctx_list {
    my $what = shift;
    map {
        Carp::croak("$what: undef is not a context or package name") unless defined $_;
        AnyEvent::Log::ctx($_)
    } @_;
}

sub attach {
    my $ctx = shift;
    $ctx->{slaves}{ Scalar::Util::refaddr $_ } = $_ for _ctx_list('attach', @_);
    AnyEvent::Log::_config_changed();
    return;
}

sub detach {
    my $ctx = shift;
    delete $ctx->{slaves}{ Scalar::Util::refaddr $_ } for _ctx_list('detach', @_);
    AnyEvent::Log::_config_changed();
    return;
}

sub slaves {
    my $ctx = shift;
    my @slaves = _ctx_list('slaves', @_);
    $ctx->{slaves} = { map { Scalar::Util::refaddr($_) => $_ } @slaves };
    AnyEvent::Log::_config_changed();
    return;
}

sub log_cb {
    my ($ctx, $cb) = @_;
    Carp::croak('log_cb: the callback must be a code reference or undef') if defined $cb && !_callable($cb);
    $ctx->{log_cb} = $cb;
    AnyEvent::Log::_config_changed();
    return;
}

sub fmt_cb {
    my ($ctx, $cb) = @_;
    Carp::croak('fmt_cb: the callback must be a code reference or undef') if defined $cb && !_callable($cb);
    $ctx->{fmt_cb} = $cb;
    return;
}

sub _callable {
    my ($cb) = @_;
    require overload;
    return ref $cb eq 'CODE' || (Scalar::Util::blessed $cb && overload::Method($cb, '&{}'));
}

sub log_to_warn {
    my ($ctx) = @_;
    $ctx->log_cb(sub { warn $_[0]; 0 });
    return;
}

# Appends formatted messages to $path: keeping the file open (log_to_file) or opening it for
# each message (log_to_path). Failures are logged at "error" from AnyEvent::Log's own context
# (once until the file works again), and the message is dropped.
sub _log_to_disk {
    my ($ctx, $path, $keep_open, $what) = @_;
    Carp::croak("$what: the path must be a non-empty string") unless defined $path && length $path && !ref $path;
    my ($fh, $failing, $busy);
    my $complain = sub {
        my ($problem) = @_;
        return if $failing++;
        $busy = 1;    # our own message must not come back here
        eval { AnyEvent::Log::ctx('AnyEvent::Log')->log(error => "unable to $problem logfile '$path': $!") };
        $busy = 0;
    };
    $ctx->log_cb(sub {
        my ($str) = @_;
        return 0 if $busy;
        unless ($fh) {
            open $fh, '>>', $path or do { undef $fh; $complain->('open'); return 0 };
        }
        my $len = syswrite $fh, $str;
        if (!defined $len) {
            $complain->('write to');
        } elsif ($len != length $str) {
            local $! = 0;
            $complain->('write to');    # short write
        } else {
            $failing = 0;
        }
        undef $fh unless $keep_open;
        return 0;
    });
    return;
}

sub log_to_file {
    my ($ctx, $path) = @_;
    _log_to_disk($ctx, $path, 1, 'log_to_file');
}

sub log_to_path {
    my ($ctx, $path) = @_;
    _log_to_disk($ctx, $path, 0, 'log_to_path');
}

sub log_to_syslog {
    my ($ctx, $facility) = @_;
    require Sys::Syslog;
    $facility = 'user' unless defined $facility && length $facility;
    my $number = $facility =~ /^\w+\z/ ? Sys::Syslog::xlate($facility) : -1;
    Carp::croak("log_to_syslog: '$facility' is not a syslog facility")
        unless $number =~ /^\d+\z/ && ($number > 7 || lc $facility eq 'kern');
    $ctx->fmt_cb(sub {
        my ($time, $orig, $level, $msg) = @_;
        $msg =~ s/\n(?=.)/\n+ /g;
        return [$level, '(' . ($orig->{title} // '') . ") $msg"];
    });
    $ctx->log_cb(sub {
        my ($level, $text) = @{ $_[0] };
        my $priority = ($level > 8 ? 8 : $level) - 1;    # trace is logged as debug
        Sys::Syslog::syslog("$facility|$priority", '%s', $_) for split /\n/, $text;
        return 0;
    });
    return;
}

sub log {
    my $ctx = shift;
    return AnyEvent::Log::_log($ctx, @_);
}

sub logger {
    my $ctx = shift;
    return AnyEvent::Log::_logger($ctx, @_);
}

# --- start-up ---------------------------------------------------------------------------------

package AnyEvent::Log;

# The level AnyEvent's front used until now becomes $FILTER's level; $AnyEvent::VERBOSE is set
# to 9 as in AnyEvent 7.17 (all decisions are made here from now on).
our $ORIG_VERBOSE = $AnyEvent::VERBOSE;
$AnyEvent::VERBOSE = 9;

*AnyEvent::logger = *AE::logger = \&logger;

$LOG     = _new_ctx('');
$FILTER  = _new_ctx('');
$COLLECT = _new_ctx('');
AnyEvent::Log::reset();

# --- PERL_ANYEVENT_LOG ------------------------------------------------------------------------

# Applies a PERL_ANYEVENT_LOG specification. Problems (unknown names, syntax errors) are
# collected, skipped, and reported in one warning; the rest of the specification applies.
sub _configure {
    my ($spec) = @_;
    my (@problems, %anon);
    my $unescape = sub { (my $s = $_[0]) =~ s/\\(.)/$1/gs; $s };
    my $ctx_named = sub {
        my ($name) = @_;
        return $LOG     if $name eq 'log';
        return $FILTER  if $name eq 'filter';
        return $COLLECT if $name eq 'collect';
        return $anon{$name} ||= _new_ctx($name) if $name =~ /^%./s;
        $name =~ s/::\z//;
        return ctx($name);
    };
    my $token = qr/(?:[^\\:=,\s]|::|\\.)+/s;

    for ($spec) {
        pos($_) = 0;
        /\G[:\s]+/gc;
        while (pos($_) < length($_)) {
            unless (/\G($token)=/gc) {
                /\G([^:\s]*)/gc;
                push @problems, "'$1' is not context=directives";
                /\G[:\s]+/gc;
                next;
            }
            my $ctx = $ctx_named->($unescape->($1));
            my $mode = 'level';
            while (/\G((?:$token|=)+)/gc) {
                my $dir = $unescape->($1);
                eval { _directive($ctx, $dir, \$mode, $ctx_named); 1 }
                    or push @problems, $@ =~ /^(.*?)(?: at .*)?\n?\z/s ? $1 : $@;
                /\G,/gc or last;
            }
            unless (/\G(?=[:\s]|\z)/gc) {
                /\G([^:\s]*)/gc;
                push @problems, "unexpected '$1'";
            }
            /\G[:\s]+/gc;
        }
    }
    warn "AnyEvent::Log: PERL_ANYEVENT_LOG ($spec): " . join('; ', @problems) . " (ignored, the rest applies)\n"
        if @problems;
    return;
}

sub _directive {
    my ($ctx, $dir, $mode, $ctx_named) = @_;
    if    ($dir eq 'stderr')            { $ctx->log_to_warn }
    elsif ($dir =~ /^file=(.+)\z/s)     { $ctx->log_to_file($1) }
    elsif ($dir =~ /^path=(.+)\z/s)     { $ctx->log_to_path($1) }
    elsif ($dir =~ /^syslog(?:=(.*))?\z/s) { $ctx->log_to_syslog($1) }
    elsif ($dir eq 'nolog')             { $ctx->log_cb(undef) }
    elsif ($dir =~ /^cap=(.+)\z/s)      { $ctx->cap($1) }
    elsif ($dir eq '+')                 { $ctx->slaves }
    elsif ($dir =~ /^\+(.+)\z/s)        { $ctx->attach($ctx_named->($1)) }
    elsif ($dir eq '0' || $dir eq 'off') { $ctx->level(0) }
    elsif ($dir eq 'all')               { $ctx->level('all') }
    elsif ($dir eq 'level')             { $ctx->level('all'); $$mode = 'level' }
    elsif ($dir eq 'only')              { $ctx->level('off'); $$mode = 'enable' }
    elsif ($dir eq 'except')            { $ctx->level('all'); $$mode = 'disable' }
    elsif ($dir =~ /^[1-9]\z/ || exists $STR2LEVEL{$dir}) { my $m = $$mode; $ctx->$m($dir) }
    else { die "unknown directive '$dir'\n" }
    return;
}

_configure($ENV{PERL_ANYEVENT_LOG}) if defined $ENV{PERL_ANYEVENT_LOG} && length $ENV{PERL_ANYEVENT_LOG};

1;

__END__

=head1 NAME

AnyEvent::Log - AnyEvent's logging: levels, contexts, targets

=head1 SYNOPSIS

    use AnyEvent;

    AE::log error => "cannot open %s: %s", $path, $!;   # sprintf when there are arguments
    AE::log debug => sub { expensive_dump() };           # called only when logged

    use AnyEvent::Log;
    my $trace = AnyEvent::Log::logger trace => \my $tracing;
    $trace->("state: %s", $state) if $tracing;

    $AnyEvent::Log::FILTER->level("info");               # the global level
    AnyEvent::Log::ctx("My::Module")->attach($AnyEvent::Log::LOG);   # bypass it for a package
    $AnyEvent::Log::LOG->log_to_file("/var/log/myprog.log");

    # or from the environment:
    PERL_ANYEVENT_LOG='filter=info:log=file=/var/log/myprog.log' myprog

=head1 DESCRIPTION

The logging of AnyEvent 7.17, with the same levels, contexts, targets, formats and
environment variables. C<AE::log> and C<AnyEvent::log> are its front: they are always
available, decide without entering Perl whether a message would be logged (so that logging at
a disabled level costs next to nothing), and load this module when the first message is to be
logged. A program that never logs anything never loads it. C<PERL_ANYEVENT_LOG> loads it when
AnyEvent is loaded.

=head1 LEVELS

    1 fatal    (also emerg, exit)     ends the program after logging
    2 alert
    3 critical (also crit)
    4 error    (also err, die)        the default level
    5 warn     (also warning)
    6 note     (also notice)
    7 info
    8 debug
    9 trace

Wherever a level is expected, the number or any of the names can be given. A bad level croaks
with "LEVEL: not a valid logging level, caught". The default level is
C<$ENV{PERL_ANYEVENT_VERBOSE}>, or 4.

=head1 LOGGING FUNCTIONS

=head2 AnyEvent::Log::log $level, $msg[, @args]

Also C<AE::log> and C<AnyEvent::log>. Logs C<$msg> at C<$level> in the context of the calling
package. With C<@args>, C<$msg> is a sprintf format; a code reference as C<$msg> is called
(only when the message is logged) to make the message. One trailing newline is removed;
messages of several lines are logged as such. C<$!> and C<$@> are left as they were.

Returns 1 when the message was logged somewhere (a context's C<log_cb> received it), 0
otherwise. At level C<fatal> it calls C<AnyEvent::Log::fatal_exit> afterwards (whether or
not the message was logged), which does not return. Croaks for a bad level.

=head2 $logger = AnyEvent::Log::logger $level[, \$enabled]

Returns a code reference that logs its arguments (C<$msg[, @args]>, as above) at C<$level> in
the caller's context. When C<\$enabled> (a scalar reference) is given, C<$enabled> is kept
true exactly while a message at that level would be logged (always true for C<fatal>),
following every configuration change for as long as C<$logger> exists, so that callers can
skip the call: C<< $logger->(...) if $enabled >>. Croaks for a bad level or a C<\$enabled>
that is not a scalar reference. Also C<AE::logger> and C<AnyEvent::logger> once this module is
loaded.

=head2 AnyEvent::Log::exact_time $on

Time stamps are the loop time (C<AE::now>) by default; with a true C<$on> the current time
(C<AE::time>) is taken for each message. Returns nothing.

=head2 $text = AnyEvent::Log::format_time $time

Formats a time stamp (seconds since the epoch, fractional) as the default format does: local
time as C<YYYY-MM-DD HH:MM:SS.uuuuuu +ZZZZ>. A program may redefine this function to change
the time format of all messages.

=head2 $text = AnyEvent::Log::default_format $time, $ctx, $level, $msg

The default formatting: one line per line of C<$msg>, each starting with the formatted time;
the first continues with the level name (padded to 5), the title of the context C<$ctx> the
message was logged to, a colon and the text; the others with C<+> and their text. Each line
ends with a newline. May be redefined by a program.

    2026-11-30 12:00:00.000123 +0100 error My::Module: first line
    2026-11-30 12:00:00.000123 +0100 + second line

=head2 AnyEvent::Log::fatal_exit

Called after a C<fatal> message; calls C<exit 1>. A program may redefine it (it must not
return).

=head1 CONTEXTS

Every message is logged into a context: the context of the calling package, or the one a
C<< $ctx->log >> call names. A context has a set of enabled levels (all by default), an
optional logging callback (C<log_cb>) with a formatting callback (C<fmt_cb>), a cap, and
slave contexts. A message whose level is enabled in a context is handed to the context's
C<log_cb> (formatted by its C<fmt_cb>, or C<AnyEvent::Log::default_format>); unless that
callback returns true ("consumed"), it then goes on to all slaves. Each context handles a
message at most once, so cycles do no harm.

A package context has the package name as title and, as its one slave, the context of the
package one level up (C<A::B> for C<A::B::C>), or C<$AnyEvent::Log::COLLECT> for top-level
packages. The default hierarchy is

    package contexts -> $COLLECT -> $FILTER -> $LOG

=over 4

=item $AnyEvent::Log::COLLECT

Receives all messages of all packages. Nothing configured by default.

=item $AnyEvent::Log::FILTER

Its levels are the global level (C<PERL_ANYEVENT_VERBOSE>, default 4): set them to change
what is logged by default.

=item $AnyEvent::Log::LOG

Logs with C<warn> (C<log_to_warn>). Change its target to log elsewhere.

=back

=head2 $ctx = AnyEvent::Log::ctx [$pkg]

Returns the context of package C<$pkg> (created when first needed), of the calling package
without an argument, a new anonymous context (empty title, no slaves, all levels) for
C<undef>, and a context object given as argument unchanged.

=head2 AnyEvent::Log::reset

Restores the default configuration: package contexts get their defaults back (title, all
levels, no callbacks, no cap, the parent as the only slave), and the three root contexts
their default roles, with C<$FILTER> at the level AnyEvent started with. Existing context
objects stay valid. Returns nothing.

=head2 $ctx = AnyEvent::Log::Ctx->new(method => $value, ...)

A new anonymous context, configured by calling each method with its value (with the elements
of an array reference as arguments), in order:

    my $errors = AnyEvent::Log::Ctx->new(title => "errors", level => "error",
                                         log_to_file => "/var/log/errors");

Croaks for an odd number of arguments or an unknown method.

=head1 CONTEXT METHODS

All methods croak for bad levels or arguments; the setters return nothing.

=head2 $title = $ctx->title([$new_title])

Returns the title; sets it first when an argument is given.

=head2 $ctx->level($level)

Enables C<$level> and all levels of higher priority (lower numbers); disables the others.
Also accepts C<0>, C<off> or C<none> (nothing) and C<all>.

=head2 $ctx->levels($level, ...)

Enables exactly the given levels (C<all> for every level).

=head2 $ctx->enable($level, ...), $ctx->disable($level, ...)

Enables or disables the given levels (or C<all>), leaving the others as they are.

=head2 $ctx->cap($level)

Messages passing this context with a higher priority than C<$level> continue (and are
formatted here) with C<$level> instead. C<0>/C<off> removes the cap. Does not change whether a
message is logged.

=head2 $ctx->attach($ctx2, ...), $ctx->detach($ctx2, ...), $ctx->slaves($ctx2, ...)

Adds slave contexts (adding one twice has no effect), removes them, or replaces all of them
(with no arguments: removes all). Contexts may be given as objects or package names.

=head2 $ctx->log_cb($cb)

Sets the logging callback (C<undef>: none, the default). It receives the formatted message
and returns true when it has consumed the message (it then goes to no slave), false
otherwise.

=head2 $ctx->fmt_cb($cb)

Sets the formatting callback (C<undef>: C<AnyEvent::Log::default_format>). It receives
C<($time, $orig_ctx, $level, $msg)> (C<$orig_ctx> the context the message was logged to,
C<$level> a number) and returns what C<log_cb> will receive: usually a string, but anything
goes.

=head2 $ctx->log_to_warn

Logs with C<warn> (normally to STDERR); does not consume.

=head2 $ctx->log_to_file($path)

Appends each message to the file C<$path>, opened at the first message and kept open (a
renamed file keeps receiving), written unbuffered with one C<syswrite> per message. The
writes are synchronous: AnyEvent::IO is not used. If the file cannot be opened or written,
that is logged once at C<error> in the context C<AnyEvent::Log> ("unable to open logfile
'PATH': REASON"), the message is dropped and the next message tries again. Croaks for an
undefined or empty C<$path>.

=head2 $ctx->log_to_path($path)

Like C<log_to_file>, but opens C<$path> for every message and closes it afterwards: slower,
but the file may be moved or removed at any time.

=head2 $ctx->log_to_syslog([$facility])

Logs through L<Sys::Syslog> with facility C<$facility> (C<user> by default; a name as
Sys::Syslog knows it, such as C<local0> or C<LOG_LOCAL0>, or a number), one syslog message per
line of the message: the first is C<(TITLE) text>, the others C<+ text>. Levels map to syslog
priorities (fatal to emerg ... debug to debug; trace is sent as debug). Also sets C<fmt_cb>.
Sys::Syslog's own configuration (C<openlog>, C<setlogsock>) applies. Croaks for an unknown
facility.

=head2 $ctx->log($level, $msg[, @args])

Like C<AnyEvent::Log::log>, in this context.

=head2 $logger = $ctx->logger($level[, \$enabled])

Like C<AnyEvent::Log::logger>, in this context.

=head1 PERL_ANYEVENT_LOG

C<PERL_ANYEVENT_LOG> (or C<AE_LOG>) configures logging when AnyEvent is loaded. It holds
specifications separated by C<:> or whitespace, each C<CONTEXT=DIRECTIVE,DIRECTIVE,...>. A
context is C<log>, C<filter> or C<collect> (the three root contexts), C<%name> (an anonymous
context, created when first named), or a package name (C<Pkg::> forces a package name).
Directives:

    stderr           log_to_warn
    file=PATH        log_to_file
    path=PATH        log_to_path
    syslog[=FAC]     log_to_syslog
    nolog            log_cb(undef)
    cap=LEVEL        cap
    +CONTEXT         attach
    +                slaves (remove all)
    0, off           level(0)
    all              level("all")
    level            level("all"), then LEVEL means "this and higher priority" (the default)
    only             level(0), then LEVEL means "enable this level"
    except           level("all"), then LEVEL means "disable this level"
    LEVEL            a level number or name, as the last level/only/except says

A backslash escapes the next character (C<file=/a\:b\,c>). Example:

    PERL_ANYEVENT_LOG='filter=warn:AnyEvent::Debug=+%trace:%trace=only,trace,file=/tmp/trace'

Unknown directives, bad levels and syntax errors are reported in one warning naming each
problem ("AnyEvent::Log: PERL_ANYEVENT_LOG (SPEC): unknown directive 'x'; ... (ignored, the
rest applies)"); everything else in the specification is applied and logging goes on.

=head1 PERL_ANYEVENT_VERBOSE

The level of C<$FILTER>, and so the global level (default 4). Unlike C<PERL_ANYEVENT_LOG> it
does not load this module. Until the module is loaded, C<$AnyEvent::VERBOSE> is the level the
front compares with; once loaded, the module sets it to 9 (as 7.17 does) and decides alone.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Debug>

=cut
