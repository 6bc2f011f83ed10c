package AnyEvent::Util;

use strict;
use warnings;
use Carp ();
use Errno ();
use Fcntl ();
use Socket ();
use AnyEvent ();
use Exporter 'import';

our $VERSION = $AnyEvent::VERSION;

our @EXPORT = qw(fh_nonblocking guard fork_call portable_pipe portable_socketpair run_cmd);
our @EXPORT_OK = qw(
    AF_INET6 WSAEWOULDBLOCK WSAEINPROGRESS WSAEINVAL
    close_all_fds_except
    punycode_encode punycode_decode idn_nameprep idn_to_ascii idn_to_unicode
);

$Carp::Internal{+__PACKAGE__}++;

# AF_INET6 as Socket knows it (0 where the platform has no IPv6). The WSAE* error numbers exist
# only on Windows; elsewhere they are values no $! ever equals.
use constant AF_INET6       => eval { Socket::AF_INET6() } || 0;
use constant WSAEINVAL      => -1e99;
use constant WSAEWOULDBLOCK => -1e99;
use constant WSAEINPROGRESS => -1e99;

# ---- pipes and socket pairs --------------------------------------------------------------

sub portable_pipe() {
    pipe my $r, my $w or return;
    return ($r, $w);
}

sub portable_socketpair() {
    socketpair my $fh1, my $fh2, Socket::AF_UNIX(), Socket::SOCK_STREAM(), Socket::PF_UNSPEC()
        or return;
    return ($fh1, $fh2);
}

*fh_nonblocking = \&AnyEvent::_fh_nonblocking;

# ---- names kept from AnyEvent 4 (not exported) ----------------------------------------------

# True when $text is a dotted quad: four decimal numbers 0..255.
sub dotted_quad($) {
    my ($text) = @_;
    my @parts = split /\./, $text // '', -1;
    return @parts == 4 && !grep { !/^\d{1,3}\z/ || $_ > 255 } @parts;
}

sub inet_aton {
    require AnyEvent::Socket;
    goto &AnyEvent::Socket::inet_aton;
}

# ---- guards ----------------------------------------------------------------------------

# As 7.17: guards are the Guard module's when Guard 0.5 or later is installed (unless
# PERL_ANYEVENT_AVOID_GUARD is set), else AnyEvent::Util::guard objects.
BEGIN {
    local $@;
    if (!$ENV{PERL_ANYEVENT_AVOID_GUARD} && eval { require Guard; $Guard::VERSION >= 0.5 }) {
        *guard = \&Guard::guard;
    } else {
        *guard = sub (&) {
            my ($code) = @_;
            return bless \$code, 'AnyEvent::Util::guard';
        };
    }
}

sub AnyEvent::Util::guard::DESTROY {
    my $code = ${ $_[0] } or return;
    ${ $_[0] } = undef;
    local $@;
    eval { local $SIG{__DIE__}; $code->(); 1 } or do {
        my $err = $@;
        local $@;
        AnyEvent::log(4, "Runtime error in AnyEvent::guard callback: $err");
    };
}

sub AnyEvent::Util::guard::cancel { ${ $_[0] } = undef }

# ---- closing descriptors -----------------------------------------------------------------

sub close_all_fds_except {
    my %keep = map { $_ => 1 } @_;
    require POSIX;
    my @open;
    if (opendir my $dir, '/proc/self/fd') {
        @open = grep /^\d+$/, readdir $dir;
        closedir $dir; # its own descriptor was in the list; closing it again below is harmless
    } else {
        my $max = eval { POSIX::sysconf(POSIX::_SC_OPEN_MAX()) } || 1024;
        @open = 0 .. $max - 1;
    }
    $keep{$_} or POSIX::close($_) for @open;
    return;
}

# ---- fork_call ---------------------------------------------------------------------------

our $MAX_FORKS = int(($ENV{PERL_ANYEVENT_MAX_FORKS} // 0) * 1);
$MAX_FORKS = 10 if $MAX_FORKS <= 0;

my @fork_queue; # [$code, \@args, $cb] waiting for a free slot
my $forks = 0;  # children running

sub fork_call(&@) {
    my ($code, @args) = @_;
    my $cb = pop @args;
    Carp::croak('fork_call: the last argument must be the result callback (a code reference)')
        unless ref $cb; # a code reference, or an object that overloads &{} (a condvar)
    push @fork_queue, [$code, \@args, $cb];
    _start_forks();
    return;
}

sub _start_forks {
    while ($forks < $MAX_FORKS && @fork_queue) {
        my $job = shift @fork_queue;
        my ($r, $w) = portable_pipe();
        unless ($r) {
            unshift @fork_queue, $job;
            return if $forks; # a running job will start it when it ends
            die "fork_call: pipe: $!\n";
        }
        my $pid = fork;
        if (!defined $pid) {
            unshift @fork_queue, $job;
            return if $forks && ($! == Errno::EAGAIN() || $! == Errno::ENOMEM());
            die "fork_call: fork: $!\n";
        }
        _run_forked_job($job, $w) unless $pid; # never returns
        close $w;
        ++$forks;
        _collect_forked_result($pid, $r, $job->[2]);
    }
}

# In the child: run the code, send [exception, results...] back frozen, leave without running
# any of the parent's destructors or END blocks.
sub _run_forked_job {
    my ($job, $w) = @_;
    require Storable;
    require POSIX;
    my ($code, $args) = @$job;
    my $frozen = eval {
        local $SIG{__DIE__};
        Storable::freeze([undef, $code->(@$args)]);
    };
    $frozen = Storable::freeze(["$@"]) unless defined $frozen;
    my $offset = 0;
    while ($offset < length $frozen) {
        my $n = syswrite $w, $frozen, 65536, $offset;
        if (!defined $n) {
            next if $! == Errno::EINTR();
            last;
        }
        $offset += $n;
    }
    POSIX::_exit(0);
}

sub _collect_forked_result {
    my ($pid, $r, $cb) = @_;
    my $buf = '';
    my ($reader, $reaper);
    $reaper = AE::child($pid, sub { undef $reaper });
    $reader = AE::io($r, 0, sub {
        my $n = sysread $r, $buf, 65536, length $buf;
        return if !defined $n && ($! == Errno::EINTR() || $! == Errno::EAGAIN());
        return if $n;
        my $read_error = defined $n ? undef : $!;
        undef $reader;
        close $r;
        --$forks;
        _start_forks();
        require Storable;
        my $result = length $buf ? eval { Storable::thaw($buf) } : undef;
        if (ref $result eq 'ARRAY') {
            $@ = shift @$result;
            $cb->(@$result);
        } else {
            # The child died before it could answer (killed, exec'd, or exited in the code).
            $@ = $result ? "fork_call: unreadable result from child" : undef;
            $! = $read_error // Errno::EPIPE() unless defined $@;
            $cb->();
        }
    });
}

# ---- run_cmd -----------------------------------------------------------------------------

sub run_cmd {
    my ($cmd, @options) = @_;
    Carp::croak('run_cmd: cmd is required (a command string or an array reference)') unless defined $cmd;
    Carp::croak('run_cmd: options must be key => value pairs') if @options % 2;
    require POSIX;

    my $cv = AE::cv();
    my (%option, %redirect, @child_opens);
    while (my ($key, $target) = splice @options, 0, 2) {
        if ($key =~ /^(\d*)([<>])$/) {
            my $fd = length $1 ? $1 : $2 eq '>' ? 1 : 0;
            _redirect($cv, $fd, $2, $target, \%redirect, \@child_opens);
        } elsif ($key eq 'on_prepare' || $key eq 'close_all' || $key eq '$$') {
            $option{$key} = $target;
        } else {
            Carp::croak("run_cmd: unknown option '$key'");
        }
    }

    my $pid = fork;
    defined $pid or Carp::croak("run_cmd: fork: $!");
    _exec_child($cmd, \%option, \%redirect, \@child_opens) unless $pid;

    ${ $option{'$$'} } = $pid if ref $option{'$$'};
    %redirect = (); # our copies of the child's ends

    my $status;
    $cv->begin(sub { $_[0]->send($status) });
    my $watcher;
    $watcher = AE::child($pid, sub {
        $status = $_[1];
        undef $watcher;
        $cv->end;
    });
    return $cv;
}

# Sets up one redirection: a file handle is passed as it is, a file name is opened in the child,
# a scalar reference or callback is connected through a pipe the parent serves.
sub _redirect {
    my ($cv, $fd, $dir, $target, $redirect, $child_opens) = @_;
    if (defined eval { fileno $target }) {
        $redirect->{$fd} = $target;
    } elsif (ref $target) {
        my ($r, $w) = portable_pipe() or Carp::croak("run_cmd: pipe: $!");
        if ($dir eq '>') {
            $redirect->{$fd} = $w;
            _pipe_to_target($cv, $r, $target);
        } else {
            $redirect->{$fd} = $r;
            _pipe_from_source($cv, $w, $target);
        }
    } else {
        push @$child_opens, sub {
            open my $fh, $dir, $target or POSIX::_exit(125);
            $redirect->{$fd} = $fh;
        };
    }
}

# The child's output into a scalar (appended) or a callback (data, then an empty call at EOF).
sub _pipe_to_target {
    my ($cv, $r, $target) = @_;
    fcntl $r, Fcntl::F_SETFD(), Fcntl::FD_CLOEXEC();
    fh_nonblocking($r, 1);
    $cv->begin;
    my $watcher;
    $watcher = AE::io($r, 0, sub {
        my $n = ref $target eq 'SCALAR'
            ? sysread($r, $$target, 65536, length($$target // ''))
            : sysread($r, my $chunk, 65536);
        if ($n) {
            $target->($chunk) unless ref $target eq 'SCALAR';
            return;
        }
        return if !defined $n && ($! == Errno::EINTR() || $! == Errno::EAGAIN());
        undef $watcher;
        $cv->end;
        $target->() unless ref $target eq 'SCALAR';
    });
}

# The child's input from a scalar or from a callback returning chunks (empty or undef: EOF).
sub _pipe_from_source {
    my ($cv, $w, $source) = @_;
    my $data;
    if (ref $source eq 'SCALAR') {
        $data = $$source;
        $source = sub { undef };
    } else {
        $data = $source->();
    }
    fcntl $w, Fcntl::F_SETFD(), Fcntl::FD_CLOEXEC();
    fh_nonblocking($w, 1);
    $cv->begin;
    my $watcher;
    my $done = sub { undef $watcher; close $w; $cv->end };
    return $done->() unless defined $data && length $data;
    $watcher = AE::io($w, 1, sub {
        my $n = syswrite $w, $data;
        return if !defined $n && ($! == Errno::EINTR() || $! == Errno::EAGAIN());
        return $done->() unless $n; # the child closed its end
        substr $data, 0, $n, '';
        $data = $source->() unless length $data;
        $done->() unless defined $data && length $data;
    });
}

# In the child: open files, move descriptors into place, run on_prepare and exec. Exit codes as
# AnyEvent uses them: 125 a redirect file cannot be opened, 124 dup failed, 123 dup2 failed
# or on_prepare died, 126 exec failed.
sub _exec_child {
    my ($cmd, $option, $redirect, $child_opens) = @_;
    $_->() for @$child_opens;

    # First move every source descriptor out of the way of the target numbers, so that dup2
    # never overwrites a source still needed and always clears close-on-exec.
    my (@keep, %fd_of);
    for my $target (keys %$redirect) {
        push @keep, $redirect->{$target};
        my $fd = fileno $redirect->{$target};
        while (exists $redirect->{$fd}) {
            defined($fd = POSIX::dup($fd)) or POSIX::_exit(124);
        }
        $fd_of{$target} = $fd;
    }
    for my $target (keys %fd_of) {
        defined POSIX::dup2($fd_of{$target}, $target) or POSIX::_exit(123);
    }
    if ($option->{close_all}) {
        close_all_fds_except(0, 1, 2, keys %fd_of);
    } else {
        POSIX::close($_) for values %fd_of;
    }
    if ($option->{on_prepare}) {
        eval { $option->{on_prepare}->(); 1 } or POSIX::_exit(123);
    }
    {
        no warnings 'exec'; # the exit status says it
        ref $cmd ? exec { $cmd->[0] } @$cmd : exec '/bin/sh', '-c', $cmd;
    }
    POSIX::_exit(126);
}

# ---- internationalised domain names ------------------------------------------------------

# The conversions of _rs_idn: _IDN_TO_ASCII, _IDN_TO_UNICODE, _PUNYCODE_ENCODE, _PUNYCODE_DECODE
# (rust/ffi/idn.rs, installed by AnyEvent.xs).

sub punycode_encode($) {
    my ($string) = @_;
    my $encoded = _rs_idn(_PUNYCODE_ENCODE, $string // '');
    Carp::croak("punycode_encode: cannot encode '$string'") unless defined $encoded;
    return $encoded;
}

sub punycode_decode($) {
    my ($string) = @_;
    my $decoded = _rs_idn(_PUNYCODE_DECODE, $string // '');
    Carp::croak("punycode_decode: '$string' is not valid punycode") unless defined $decoded;
    return $decoded;
}

sub idn_nameprep($;$) {
    my ($name, $display) = @_;
    my $prepared = _rs_idn(_IDN_TO_UNICODE, $name // '');
    Carp::croak("idn_nameprep: '$name' is not a valid domain name") unless defined $prepared;
    return $prepared;
}

sub idn_to_ascii($) {
    my ($name) = @_;
    return $name unless defined $name && $name =~ /[^\x00-\x7f]/;
    return _rs_idn(_IDN_TO_ASCII, $name) // $name;
}

sub idn_to_unicode($) {
    my ($name) = @_;
    return $name unless defined $name;
    return _rs_idn(_IDN_TO_UNICODE, $name) // $name;
}

1;

__END__

=encoding utf8

=head1 NAME

AnyEvent::Util - pipes, guards, child processes and IDN helpers for AnyEvent programs

=head1 SYNOPSIS

    use AnyEvent::Util;

    my $cv = run_cmd [qw(ls -l /)], ">" => \my $listing;
    $cv->recv and die "ls failed";

    fork_call { expensive_computation(@_) } 1, 2, sub { my @result = @_ };

    my $guard = guard { unlink $tmpfile };

=head1 DESCRIPTION

The utility functions of AnyEvent 7.17, with the same names, arguments and results. Exported by
default: C<fh_nonblocking guard fork_call portable_pipe portable_socketpair run_cmd>. On request:
C<AF_INET6 WSAEWOULDBLOCK WSAEINPROGRESS WSAEINVAL close_all_fds_except punycode_encode
punycode_decode idn_nameprep idn_to_ascii idn_to_unicode>.

=head1 FUNCTIONS

=head2 ($r, $w) = portable_pipe

A unidirectional pipe (Perl's C<pipe>). Returns the read and the write handle, or the empty
list with C<$!> set.

=head2 ($fh1, $fh2) = portable_socketpair

A connected pair of unix stream sockets. Returns both handles, or the empty list with C<$!>
set.

=head2 fh_nonblocking $fh, $nonblocking

Puts the handle into non-blocking (true) or blocking (false) mode, as C<AnyEvent::fh_unblock>
and C<AnyEvent::fh_block> do: true on success, C<undef> with C<$!> set on failure; a closed
handle dies.

=head2 $guard = guard { CODE }

Returns an object that runs CODE when it is destroyed. As in AnyEvent 7.17, when the C<Guard>
module (0.5 or later) is installed and C<PERL_ANYEVENT_AVOID_GUARD> is not set, this is
C<Guard::guard>: a C<Guard> object, and an exception from CODE is handed to C<$Guard::DIED>
(by default printed as a warning). Otherwise it is an C<AnyEvent::Util::guard> object, and an
exception from CODE is logged through C<AnyEvent::log> (level 4, C<error>: a warning on STDERR
at the default verbosity) as C<Runtime error in AnyEvent::guard callback: ...>, without calling
a C<$SIG{__DIE__}> handler. Either way the exception does not propagate and C<$@> is left as it
was.

=head2 $guard->cancel

Makes the guard forget its code: destroying it then does nothing. Returns nothing useful.

=head2 fork_call { CODE } @args, $cb->(@results)

Runs CODE with C<@args> in a forked child process and calls C<$cb> in the parent with what it
returned (in list context), transferred with L<Storable>. On success C<$@> is C<undef> when
C<$cb> runs. When CODE dies, C<$cb> is called without arguments and C<$@> holds the exception;
when the child ends without answering (it exited or was killed), C<$cb> is called without
arguments, C<$@> undefined and C<$!> set (C<EPIPE>). The child leaves with C<POSIX::_exit>, so
no destructors or END blocks of the parent run in it; CODE must not use the event loop.

At most C<$AnyEvent::Util::MAX_FORKS> children run at a time; further calls wait in a queue.
Returns nothing. Croaks when the last argument is not a code reference; dies with
C<fork_call: fork: ...> when no child can be created while none is running.

=head2 $AnyEvent::Util::MAX_FORKS

The limit of parallel C<fork_call> children: C<$ENV{PERL_ANYEVENT_MAX_FORKS}>, or 10.

=head2 AnyEvent::Util::close_all_fds_except @fds

Closes every open file descriptor of the process except C<@fds> (the list is read from
F</proc/self/fd>, or all numbers up to the descriptor limit). Meant for a child just before
C<exec>. Returns nothing.

=head2 $cv = run_cmd $cmd, key => value, ...

Runs a command in a child process and returns a condition variable that is sent the exit
status (as in C<$?>) once the child has exited I<and> every redirected descriptor served by the
parent has reached EOF (or its data has been written).

C<$cmd> is a string, run with C</bin/sh -c>, or an array reference, run with C<execvp> (the
first element is both the program and C<argv[0]>).

Options:

=over 4

=item C<< ">" => $target >>, C<< "N>" => $target >>

Redirects the child's standard output (or descriptor number N, e.g. C<< "3>" >>). C<$target> is a file name (opened for
writing in the child), a file handle (its descriptor is passed), a scalar reference (output is
I<appended> to the scalar), or a code reference (called with each chunk of data, then once
without arguments at EOF).

=item C<< "<" => $source >>, C<< "NE<lt>" => $source >> (N a descriptor number)

Redirects standard input (or descriptor N): a file name (opened for reading in the child), a
file handle, a scalar reference (its contents are written), or a code reference (called for
data until it returns C<undef> or an empty string, which closes the pipe).

=item C<< '$$' => \$pid >>

Stores the child's process id in C<$pid> when C<run_cmd> returns.

=item C<< on_prepare => $cb >>

Called in the child just before C<exec> (after the redirections); if it dies, the child exits
with 123.

=item C<< close_all => $bool >>

Closes every descriptor in the child except 0, 1, 2 and the redirected ones.

=back

The child exits with 125 when a redirect file cannot be opened, 124 or 123 when a descriptor
cannot be duplicated, and 126 when C<exec> fails. Croaks when C<$cmd> is missing, for an odd
number of options or an unknown option, and when the fork or a pipe fails.

=head2 $ascii = AnyEvent::Util::idn_to_ascii $name

Converts an internationalised domain name (e.g. C<bücher.de>, C<日本語。ＪＰ>) to its ASCII form
(C<xn--bcher-kva.de>), following UTS #46 (the Rust C<idna> crate). Names that are ASCII already
are returned unchanged (idempotent). Never fails: a name that cannot be converted is returned
as it is.

=head2 $unicode = AnyEvent::Util::idn_to_unicode $name

The Unicode form of a domain name: C<xn--> labels decoded, characters mapped and lower-cased
(UTS #46). Idempotent; a name that cannot be converted is returned unchanged.

=head2 $prepared = AnyEvent::Util::idn_nameprep $name[, $display]

The UTS #46 mapping and normalisation of a domain name, in Unicode form (the same for lookup and
display here). Croaks when the name is not valid.

=head2 $encoded = AnyEvent::Util::punycode_encode $string

The punycode (RFC 3492) of one label, without the C<xn--> prefix and without case folding.
Croaks when the string cannot be encoded.

=head2 $string = AnyEvent::Util::punycode_decode $encoded

The label a punycode string encodes. Croaks (C<punycode_decode: '...' is not valid punycode>)
for malformed input.

=head2 AnyEvent::Util::inet_aton $name, $cb->(@addresses)

The old home of L<AnyEvent::Socket/inet_aton>, kept for modules written for AnyEvent 4:
the same function (not exported from here).

=head2 $bool = AnyEvent::Util::dotted_quad $text

Also kept from AnyEvent 4: true when C<$text> is an IPv4 address in dotted-quad form (four
decimal numbers from 0 to 255, like C<192.168.0.1>), false otherwise. Not exported.

=head2 AF_INET6, WSAEWOULDBLOCK, WSAEINPROGRESS, WSAEINVAL

C<AF_INET6> is Socket's value (0 without IPv6). The C<WSAE*> constants exist for Windows code;
here they are values C<$!> never equals.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Socket>.

=head1 LICENSE

Same terms as Perl itself.

=cut
