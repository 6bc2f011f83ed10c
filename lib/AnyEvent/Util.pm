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

sub fh_nonblocking($$) {
    my ($fh, $nonblocking) = @_;
    my $flags = fcntl $fh, Fcntl::F_GETFL(), 0 or return;
    $flags = $nonblocking ? $flags | Fcntl::O_NONBLOCK() : $flags & ~Fcntl::O_NONBLOCK();
    return fcntl $fh, Fcntl::F_SETFL(), $flags;
}

# ---- guards ----------------------------------------------------------------------------

sub guard(&) {
    my ($code) = @_;
    return bless \$code, 'AnyEvent::Util::guard';
}

sub AnyEvent::Util::guard::DESTROY {
    my $code = ${ $_[0] } or return;
    ${ $_[0] } = undef;
    local $@;
    eval { $code->(); 1 } or do {
        my $err = $@;
        local $@;
        AnyEvent::log(3, "runtime error in AnyEvent::guard callback: $err");
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
        unless ref $cb eq 'CODE' || (ref $cb && overload::Method($cb, '&{}'));
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

use constant { IDN_TO_ASCII => 0, IDN_TO_UNICODE => 1, PUNYCODE_ENCODE => 2, PUNYCODE_DECODE => 3 };

sub punycode_encode($) {
    my ($string) = @_;
    my $encoded = _rs_idn(PUNYCODE_ENCODE, $string // '');
    Carp::croak("punycode_encode: cannot encode '$string'") unless defined $encoded;
    return $encoded;
}

sub punycode_decode($) {
    my ($string) = @_;
    my $decoded = _rs_idn(PUNYCODE_DECODE, $string // '');
    Carp::croak("punycode_decode: '$string' is not valid punycode") unless defined $decoded;
    return $decoded;
}

sub idn_nameprep($;$) {
    my ($name, $display) = @_;
    my $prepared = _rs_idn(IDN_TO_UNICODE, $name // '');
    Carp::croak("idn_nameprep: '$name' is not a valid domain name") unless defined $prepared;
    return $prepared;
}

sub idn_to_ascii($) {
    my ($name) = @_;
    return $name unless defined $name && $name =~ /[^\x00-\x7f]/;
    return _rs_idn(IDN_TO_ASCII, $name) // $name;
}

sub idn_to_unicode($) {
    my ($name) = @_;
    return $name unless defined $name;
    return _rs_idn(IDN_TO_UNICODE, $name) // $name;
}

1;
