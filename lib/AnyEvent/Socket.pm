package AnyEvent::Socket;

use strict;
use warnings;
use Carp ();
use Errno ();
use Socket ();
use AnyEvent ();
use AnyEvent::Util qw(guard AF_INET6);
use Exporter 'import';

our $VERSION = $AnyEvent::VERSION;

our @EXPORT = qw(
    getprotobyname
    parse_hostport format_hostport
    parse_ipv4 parse_ipv6
    parse_ip parse_address
    format_ipv4 format_ipv6
    format_ip format_address
    address_family
    inet_aton
    tcp_server
    tcp_connect
);

$Carp::Internal{+__PACKAGE__}++;

use constant { AF_INET => Socket::AF_INET(), AF_UNIX => Socket::AF_UNIX(), SOCK_STREAM => Socket::SOCK_STREAM(),
               SOCK_DGRAM => Socket::SOCK_DGRAM() };
use constant TCP_CONGESTION => eval { Socket::TCP_CONGESTION() } // ($^O eq 'linux' ? 13 : undef);

# The MSG_ and TCP_ constants AnyEvent::Socket provides: the platform's value, or undef where it
# has none. Socket lacks MSG_MORE; Linux has it as 0x8000.
BEGIN {
    my %fallback = (MSG_MORE => $^O eq 'linux' ? 0x8000 : undef);
    for my $name (qw(MSG_DONTWAIT MSG_FASTOPEN MSG_MORE MSG_NOSIGNAL
                     TCP_CONNECTIONTIMEOUT TCP_CORK TCP_DEFER_ACCEPT TCP_FASTOPEN TCP_INFO
                     TCP_INIT_CWND TCP_KEEPALIVE TCP_KEEPCNT TCP_KEEPIDLE TCP_KEEPINIT TCP_KEEPINTVL
                     TCP_LINGER2 TCP_MAXSEG TCP_MD5SIG TCP_NOOPT TCP_NOPUSH TCP_QUICKACK
                     TCP_SACK_ENABLE TCP_SYNCNT TCP_WINDOW_CLAMP)) {
        my $value = eval { Socket->can($name)->() } // $fallback{$name};
        constant->import($name => $value);
    }
}

# ---- parsing and formatting addresses ----------------------------------------------------

sub parse_ipv4($) {
    my ($text) = @_;
    return undef unless defined $text;
    # the common dotted quad first (a leading 0 would mean octal, so none here)
    if ($text =~ /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\z/) {
        return $1 < 256 && $2 < 256 && $3 < 256 && $4 < 256 ? pack('C4', $1, $2, $3, $4) : undef;
    }
    return undef unless $text =~ /^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:\.(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)){0,3}$/;
    my @part = map { /^0/ ? oct : $_ } split /\./, $text;
    my $last = pop @part;
    return undef if grep { $_ > 255 } @part;
    return undef if $last >= 2 ** (8 * (4 - @part));
    my $value = $last;
    $value += $part[$_] << (24 - 8 * $_) for 0 .. $#part;
    return pack 'N', $value;
}

sub parse_ipv6($) {
    my ($text) = @_;
    return undef unless defined $text;
    my $colons = $text =~ tr/://;
    if ($colons < 2 || $colons > 8) {
        my $ipv4 = !$colons && parse_ipv4($text);
        return $ipv4 ? "\0" x 10 . "\xff\xff" . $ipv4 : undef;
    }
    my ($head, $tail) = $text =~ /::/ ? split(/::/, $text, 2) : ('', $text);
    my @head = length $head ? split(/:/, $head, -1) : ();
    my @tail = length $tail ? split(/:/, $tail, -1) : ();
    if (@tail && $tail[-1] =~ /\./) {
        return undef if $colons > 6;
        my $ipv4 = parse_ipv4(pop @tail) or return undef;
        push @tail, map { sprintf '%x', $_ } unpack 'nn', $ipv4;
    }
    return undef unless @head + @tail == 8 || $text =~ /::/;
    return undef if @head + @tail > 8 || grep { !/^[0-9a-fA-F]{1,4}$/ } @head, @tail;
    push @head, 0 while @head + @tail < 8;
    return pack 'n*', map { hex } @head, @tail;
}

sub parse_unix($) {
    return defined $_[0] && $_[0] eq 'unix/' ? pack('S', AF_UNIX) : undef;
}

sub parse_address($) {
    # without colons only IPv4 (mapped by parse_ipv6, unmapped again here) or unix/ can match
    return parse_ipv4($_[0]) || parse_unix($_[0]) if defined $_[0] && index($_[0], ':') < 0;
    my $ipn = parse_ipv6($_[0]) or return parse_unix($_[0]);
    $ipn =~ s/^\0{10}\xff\xff(?=.{4}\z)//s;
    return $ipn;
}
*parse_ip = \&parse_address;
*aton     = \&parse_address;

sub address_family($) {
    my ($ipn) = @_;
    return length $ipn == 4 ? AF_INET : length $ipn == 16 ? AF_INET6 : unpack 'S', $ipn;
}

sub format_ipv4($) {
    return join '.', unpack 'C4', $_[0];
}

sub format_ipv6($) {
    my ($ipn) = @_;
    if ($ipn =~ /^\0{8}/) {
        return '::'  if $ipn eq "\0" x 16;
        return '::1' if $ipn eq "\0" x 15 . "\1";
        my $prefix = substr $ipn, 0, 12;
        my $ipv4   = format_ipv4(substr $ipn, 12);
        return "::$ipv4"         if $prefix eq "\0" x 12;                 # IPv4-compatible
        return "::ffff:$ipv4"    if $prefix eq "\0" x 10 . "\xff\xff";    # IPv4-mapped
        return "::ffff:0:$ipv4"  if $prefix eq "\0" x 8 . "\xff\xff\0\0"; # IPv4-translated
    }
    my @group = map { sprintf '%x', $_ } unpack 'n8', $ipn;
    # the longest run of two or more zero groups (the first of equal runs) becomes "::"
    my ($best_at, $best_len, $at) = (-1, 1, -1);
    for my $i (0 .. 8) {
        if ($i < 8 && $group[$i] eq '0') {
            $at = $i if $at < 0;
        } elsif ($at >= 0) {
            ($best_at, $best_len) = ($at, $i - $at) if $i - $at > $best_len;
            $at = -1;
        }
    }
    return join ':', @group if $best_at < 0;
    return join(':', @group[0 .. $best_at - 1]) . '::' . join(':', @group[$best_at + $best_len .. 7]);
}

sub format_address($) {
    my ($ipn) = @_;
    return format_ipv4($ipn) if length $ipn == 4;
    if (length $ipn == 16) {
        return $ipn =~ /^\0{10}\xff\xff(.{4})\z/s ? format_ipv4($1) : format_ipv6($ipn);
    }
    return 'unix/' if length $ipn >= 2 && address_family($ipn) == AF_UNIX;
    return undef;
}
*format_ip = \&format_address;
*ntoa      = \&format_address;

# ---- host:port strings ---------------------------------------------------------------------

sub parse_hostport($;$) {
    my ($text, $default_service) = @_;
    my ($host, $port);
    for ("$text") {
        return ('unix/', $_) if m{^/};
        # an IPv6 literal first, as it contains colons itself
        unless (($host) = /^\s*([0-9a-fA-F:]*:[0-9a-fA-F:]*:[0-9a-fA-F.:]*)/gc and parse_ipv6($host)) {
            /^\s*/gc;
            if (/\G\[([^\[\]]+)\]/gc) {
                $host = $1;
            } elsif (/\G([^\[\]: ]+)/gc) {
                $host = $1;
            } else {
                return;
            }
        }
        if (/\G(?:\s+|:|#)([^:[:space:]]+)\s*$/gc) {
            $port = $1;
        } elsif (/\G\s*$/gc && defined $default_service && length $default_service) {
            $port = $default_service;
        } else {
            return;
        }
    }
    return if $host =~ /:/ && !parse_ipv6($host);
    return ($host, $port);
}

sub format_hostport($;$) {
    my ($host, $port) = @_;
    $host = "[$host]" if $host =~ /:/;
    return defined $port && length $port ? "$host:$port" : $host;
}

# ---- protocols, socket addresses ---------------------------------------------------------

my %PROTOCOL_NUMBER = (tcp => Socket::IPPROTO_TCP(), udp => Socket::IPPROTO_UDP(),
                       icmp => eval { Socket::IPPROTO_ICMP() } // 1);

sub getprotobyname($) {
    my $name = lc shift;
    my $number = $PROTOCOL_NUMBER{$name} // (CORE::getprotobyname($name))[2];
    return unless defined $number;
    return ($name, uc $name, $number);
}

# The family of a packed sockaddr (AnyEvent::DNS and others call it by this name).
*sockaddr_family = \&Socket::sockaddr_family;

sub pack_sockaddr($$) {
    my ($service, $host) = @_;
    my $af = address_family($host);
    return Socket::pack_sockaddr_in($service, $host) if $af == AF_INET;
    return pack 'S n N a16 N', AF_INET6, $service, 0, $host, 0 if $af == AF_INET6;
    return Socket::pack_sockaddr_un($service) if $af == AF_UNIX;
    Carp::croak('pack_sockaddr: invalid host');
}

sub unpack_sockaddr($) {
    my ($sa) = @_;
    my $af = unpack 'S', $sa;
    return Socket::unpack_sockaddr_in($sa) if $af == AF_INET;
    return unpack 'x2 n x4 a16', $sa if $af == AF_INET6;
    if ($af == AF_UNIX) {
        (my $path = substr $sa, 2) =~ s/\0.*//s; # unnamed peers have no path at all
        return ($path, pack 'S', AF_UNIX);
    }
    Carp::croak("unpack_sockaddr: unsupported protocol family $af");
}

# ---- name resolution -----------------------------------------------------------------------

our %HOSTS;          # name => [[IPv4 addresses], [IPv6 addresses]], from the hosts file
our @HOSTS_CHECKING; # continuations waiting for the hosts file to be checked (and read)
our $HOSTS_MTIME;    # of the file %HOSTS was read from
my $hosts_file_read = '';

sub _hosts_file {
    return length($ENV{PERL_ANYEVENT_HOSTS} // '') ? $ENV{PERL_ANYEVENT_HOSTS} : '/etc/hosts';
}

# Fills %HOSTS from the text of a hosts file, read by the Rust core's parser (the one the
# resolver's hosts fallback uses, rust/dns/hosts.rs): names lower-cased, a final dot dropped.
# The name and prototype are AnyEvent 7.17's (CPAN modules call it).
sub _parse_hosts($) {
    %HOSTS = ();
    for (@{ _rs_parse_hosts($_[0] // '') }) {
        my ($name, $ipv4, $ipv6) = @$_;
        $HOSTS{$name}[0] = $ipv4 if @$ipv4;
        $HOSTS{$name}[1] = $ipv6 if @$ipv6;
    }
}

# _load_hosts_unless { continuation } $cv, @dns_results: unless DNS delivered results, makes
# sure %HOSTS is current (the hosts file is stat'ed, and read again when it changed, through
# AnyEvent::IO, so without blocking the loop), then calls the continuation; in both cases ends
# with $cv->end. Concurrent callers share one check. Name, prototype and arguments are AnyEvent
# 7.17's: CPAN modules (AnyEvent::DNS::EtcHosts) call it or replace it, so resolve_sockaddr
# calls it through its name.
sub _load_hosts_unless(&$@) {
    my ($cont, $cv, @dns) = @_;
    return $cv->end if @dns;
    push @HOSTS_CHECKING, sub { $cont->(); $cv->end };
    return if @HOSTS_CHECKING > 1;    # a check is under way: it calls us too
    my $file = _hosts_file();
    require AnyEvent::IO;
    my $done = sub { (shift @HOSTS_CHECKING)->() while @HOSTS_CHECKING };
    AnyEvent::IO::aio_stat($file, sub {
        my $mtime = @_ ? (stat _)[9] : -1;
        return $done->() if $file eq $hosts_file_read && defined $HOSTS_MTIME && $mtime == $HOSTS_MTIME;
        AE::log(8 => "(re)loading $file.");
        ($hosts_file_read, $HOSTS_MTIME) = ($file, $mtime);
        if ($mtime < 0) {    # no hosts file: no names
            _parse_hosts('');
            return $done->();
        }
        # a newer file read meanwhile is harmless: the next check reads it again
        AnyEvent::IO::aio_load($file, sub {
            _parse_hosts($_[0]);
            $done->();
        });
    });
}

# The resolver is loaded on the first real look-up only. Without it (not installed), look-ups
# find no records and host names resolve through the hosts file alone.
my $have_dns;

sub _dns {
    my ($type, @args) = @_;
    $have_dns //= eval { require AnyEvent::DNS; 1 } || do {
        AnyEvent::log(5, "AnyEvent::DNS is not available, host names resolve through "
            . _hosts_file() . " only: $@");
        0;
    };
    return AnyEvent::DNS->can($type)->(@args) if $have_dns;
    my $cb = $args[-1];
    AE::postpone(sub { $cb->() });
}

sub inet_aton {
    my ($name, $cb) = @_;
    if (my $ipn = parse_ipv4($name) || parse_ipv6($name)) {
        return $cb->($ipn);
    }
    return $cb->(parse_ipv4('127.0.0.1'), parse_ipv6('::1')) if ($name // '') eq 'localhost';
    my @by_rank;
    my $cv = AE::cv(sub { $cb->(map { @{ $_ || [] } } reverse @by_rank) });
    $cv->begin;
    for ([ipv4 => 'a', \&parse_ipv4], [ipv6 => 'aaaa', \&parse_ipv6]) {
        my ($protocol, $type, $parse) = @$_;
        my $rank = $AnyEvent::PROTOCOL{$protocol} or next;
        $cv->begin;
        _dns($type, $name, sub {
            $by_rank[$rank] = [map { $parse->($_) } @_];
            $cv->end;
        });
    }
    $cv->end;
    return;
}

sub _service_port {
    my ($service, $proto) = @_;
    return (undef, $service) if $service =~ /^\d+$/;
    return ($1, $2) if $service =~ /^(\S+)=(\d+)$/;
    my $port = (getservbyname $service, $proto)[2]
        or Carp::croak("$service/$proto: service unknown");
    return ($service, $port);
}

sub resolve_sockaddr($$$$$$) {
    my ($node, $service, $proto, $family, $type, $cb) = @_;
    $family ||= 0;

    return $cb->() unless defined $node; # no host: no address (7.17 looks up "" after a warning)
    if ($node eq 'unix/') {
        return $cb->() if $family || !defined $service || $service !~ m{^/};
        return $cb->([AF_UNIX, $type // SOCK_STREAM, 0, Socket::pack_sockaddr_un($service)]);
    }

    unless (AF_INET6) {
        return $cb->() if $family == 6;
        $family = 4;
    }
    return $cb->() if $family == 4 && !$AnyEvent::PROTOCOL{ipv4};
    return $cb->() if $family == 6 && !$AnyEvent::PROTOCOL{ipv6};
    $family ||= 4 unless $AnyEvent::PROTOCOL{ipv6};
    $family ||= 6 unless $AnyEvent::PROTOCOL{ipv4};

    $proto ||= 'tcp';
    $type  ||= $proto eq 'udp' ? SOCK_DGRAM : SOCK_STREAM;
    my $proto_number = (AnyEvent::Socket::getprotobyname($proto))[2]
        // Carp::croak("$proto: protocol unknown");
    my $port;
    ($service, $port) = _service_port($service // Carp::croak('resolve_sockaddr: service is required'), $proto);

    # the common case, a literal address, needs no look-up
    if (my $ipn = parse_address($node)) {
        my $af = address_family($ipn);
        return $cb->() if $af == AF_INET ? $family == 6 : $family == 4;
        return $cb->([$af, $type, $proto_number, pack_sockaddr($port, $ipn)]);
    }

    my $resolve = sub {
        _resolve_targets(\@_, $family, $type, $proto_number, $cb);
    };

    $node = AnyEvent::Util::idn_to_ascii($node) if $node =~ /[^\x00-\x7f]/;

    if ($node eq 'localhost') {
        $resolve->(['127.0.0.1', $port], ['::1', $port]);
    } elsif (defined $service && !parse_address($node)) { # (an IDN may map to a literal)
        _dns(srv => $service, $proto, $node, sub {
            my @srv = @_;
            return $resolve->([$node, $port]) unless @srv;
            # a single record with target "." says: no such service here
            return $cb->() if @srv == 1 && ($srv[0][3] eq '.' || $srv[0][3] eq '');
            $resolve->(map { ["$_->[3].", $_->[2]] } grep { $_->[3] ne '.' } @srv);
        });
    } else {
        $resolve->([$node, $port]);
    }
    return;
}

# Turns [host, port] targets into [family, type, protocol, sockaddr] candidates: literals at
# once, names through A/AAAA look-ups, falling back to the hosts file when DNS has no records.
# Candidates are ordered by protocol preference, then by target.
sub _resolve_targets {
    my ($targets, $family, $type, $proto_number, $cb) = @_;
    my @found; # [order, protocol, candidate]
    my $cv = AE::cv(sub {
        $cb->(map { $_->[2] }
              sort { $AnyEvent::PROTOCOL{$b->[1]} <=> $AnyEvent::PROTOCOL{$a->[1]} or $a->[0] <=> $b->[0] }
              @found);
    });
    $cv->begin;
    for my $idx (0 .. $#$targets) {
        my ($node, $port) = @{ $targets->[$idx] };
        if (my $ipn = parse_address($node)) {
            my $af = address_family($ipn);
            push @found, [$idx, 'ipv4', [AF_INET, $type, $proto_number, pack_sockaddr($port, $ipn)]]
                if $af == AF_INET && $family != 6;
            push @found, [$idx, 'ipv6', [AF_INET6, $type, $proto_number, pack_sockaddr($port, $ipn)]]
                if $af == AF_INET6 && $family != 4;
            next;
        }
        $node = lc $node;
        (my $host_name = $node) =~ s/\.$//;
        for ([ipv4 => 'a', AF_INET, \&parse_ipv4, 0, 4], [ipv6 => 'aaaa', AF_INET6, \&parse_ipv6, 1, 6]) {
            my ($protocol, $rr, $af, $parse, $slot, $not_family) = @$_;
            next if $family && $family != $not_family;
            $cv->begin;
            _dns($rr, $node, sub {
                my @addresses = map { $parse->($_) } @_;
                push @found, map { [$idx, $protocol, [$af, $type, $proto_number, pack_sockaddr($port, $_)]] }
                             @addresses;
                # DNS takes precedence over the hosts file (this ends $cv)
                _load_hosts_unless {
                    push @found, map { [$idx + 0.5 * $slot, $protocol, [$af, $type, $proto_number, pack_sockaddr($port, $_)]] }
                                 @{ ($HOSTS{$host_name} || [])->[$slot] || [] };
                } $cv, @addresses;
            });
        }
    }
    $cv->end;
}

# ---- connecting ----------------------------------------------------------------------------

sub tcp_connect($$$;$) {
    my ($host, $service, $connect_cb, $prepare_cb) = @_;
    my %state = (alive => 1);

    resolve_sockaddr($host, $service, 0, 0, undef, sub {
        my @targets = @_;
        $state{next} = sub { _connect_next(\%state, \@targets, $connect_cb, $prepare_cb) };
        $! = Errno::ENXIO(); # reported when no target is left to try
        $state{next}->();
    });

    return defined wantarray ? guard { %state = () } : ();
}

# Tries the next target; with none left, reports the last error (asynchronously, so that the
# callback never runs before tcp_connect has returned).
sub _connect_next {
    my ($state, $targets, $connect_cb, $prepare_cb) = @_;
    return unless $state->{alive};
    delete @$state{qw(io timer fh)};
    my $errno = $! + 0;

    my $target = shift @$targets or return AE::postpone(sub {
        return unless $state->{alive};
        %$state = ();
        $! = $errno;
        $connect_cb->();
    });
    my ($domain, $type, $proto, $sockaddr) = @$target;

    my $fh = _rs_open($domain, $type, $proto) // return $state->{next}->();
    $state->{fh} = $fh;

    my $timeout = $prepare_cb && $prepare_cb->($fh);
    return unless $state->{alive}; # the prepare callback cancelled us
    $state->{timer} = AE::timer($timeout, 0, sub {
        $! = Errno::ETIMEDOUT();
        $state->{next}->();
    }) if $timeout;

    return $state->{next}->() unless _rs_connect($fh, $sockaddr) || $! == Errno::EINPROGRESS();

    $state->{io} = AE::io($fh, 1, sub {
        my $peer = _rs_connect_result($fh);
        return $state->{next}->() unless defined $peer; # failed, $! says why
        return unless length $peer;                     # still in progress
        delete @$state{qw(io timer)};
        my ($port, $peer_host) = unpack_sockaddr($peer);
        # Dropping the retry callback unused ends the attempt's state; calling it goes on.
        my $cleanup = guard { %$state = () };
        $connect_cb->(delete $state->{fh}, format_address($peer_host), $port, sub {
            $cleanup->cancel;
            $state->{next}->();
        });
    });
}

# ---- listening -----------------------------------------------------------------------------

# Creates, binds and listens; calls $done->(\%state) with the listening handle in $state{fh}.
# Every failure croaks with "tcp_bind: ..." (also for tcp_server), as AnyEvent 7.17 does.
sub _tcp_bind {
    my ($host, $service, $done, $prepare_cb) = @_;
    my $who = 'tcp_bind';
    my $dual_stack;
    unless (defined $host) {
        $dual_stack = AF_INET6 && $AnyEvent::PROTOCOL{ipv6};
        $host = $dual_stack ? '::' : '0';
    }
    my $ipn = parse_address($host)
        or Carp::croak("$who: cannot parse '$host' as host address");
    my $af = address_family($ipn);
    my %state;

    if ($af == AF_UNIX) {
        Carp::croak("$who: service must be the socket's path name for unix/") unless defined $service && length $service;
        unlink $service;
    } else {
        $service = 0 unless defined $service && length $service;
        unless ($service =~ /^\d+$/) {
            $service = (getservbyname $service, 'tcp')[2]
                or Carp::croak("$who: unknown service '$_[1]'");
        }
    }

    my $fh = _rs_open($af, SOCK_STREAM, 0);
    if (!defined $fh && $dual_stack && $! == Errno::EAFNOSUPPORT()) { # no IPv6 in this kernel
        ($ipn, $af, $dual_stack) = (parse_address('0'), AF_INET, 0);
        $fh = _rs_open($af, SOCK_STREAM, 0);
    }
    defined $fh or Carp::croak("$who: $!");
    _rs_bind($fh, pack_sockaddr($service, $ipn), $af != AF_UNIX, $dual_stack ? 0 : -1)
        or Carp::croak("$who: $!");
    $state{fh} = $fh;

    if ($af == AF_UNIX && defined wantarray) {
        my $inode = (lstat $service)[1];
        $state{unlink} = guard { unlink $service if ((lstat $service)[1] // -1) == $inode };
    }

    my $backlog;
    if ($prepare_cb) {
        my ($port, $bound) = unpack_sockaddr(_rs_local_addr($fh) // Carp::croak("$who: $!"));
        $backlog = $prepare_cb->($fh, format_address($bound), $port);
    }
    _rs_listen($fh, $backlog || 128) or Carp::croak("$who: $!");

    $done->(\%state);
    return defined wantarray ? guard { %state = () } : ();
}

sub tcp_bind($$$;$) {
    my ($host, $service, $done_cb, $prepare_cb) = @_;
    return _tcp_bind($host, $service, sub { $done_cb->(delete $_[0]{fh}) }, $prepare_cb);
}

sub tcp_server($$$;$) {
    my ($host, $service, $accept_cb, $prepare_cb) = @_;
    return _tcp_bind($host, $service, sub { _accept_loop($_[0], $accept_cb) }, $prepare_cb);
}

# Logs at level 4. AnyEvent::log loads AnyEvent::Log for the first message it logs, which fails
# while the process is out of descriptors: the message then goes to STDERR as it is.
sub _log_shortage {
    my ($message) = @_;
    local $@;
    eval { AnyEvent::log(4, $message); 1 } or print STDERR "AnyEvent::Socket: $message\n";
}

# How long a server stops accepting when the process or the system is out of descriptors.
sub ACCEPT_PAUSE() { 0.1 }

# Accepts the connections waiting on $state->{fh}. When accept fails for want of descriptors or
# memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), the listener stays readable and watching it would
# spin: accepting pauses for ACCEPT_PAUSE instead and then resumes by itself, the clients
# waiting in the backlog meanwhile. The pause is logged (level 4) once per such episode, which
# ends when the backlog is drained again.
sub _accept_loop {
    my ($state, $accept_cb) = @_;
    my $listener = $state->{fh};
    # the watcher's closure keeps %$state (and so the listener) alive until the guard clears it
    $state->{io} = AE::io($listener, 0, sub {
        while ($state->{fh}) {
            my ($fh, $peer) = _rs_accept($listener) or last;
            my ($port, $peer_host) = unpack_sockaddr($peer);
            $accept_cb->($fh, format_address($peer_host), $port);
        }
        return unless $state->{fh};
        my $errno = $! + 0;
        if ($errno == Errno::EMFILE() || $errno == Errno::ENFILE() || $errno == Errno::ENOBUFS()
            || $errno == Errno::ENOMEM()) {
            _log_shortage("tcp_server: accept: $!; not accepting for " . ACCEPT_PAUSE . " s at a time until it works again")
                unless $state->{starved}++;
            delete $state->{io};
            $state->{pause} = AE::timer(ACCEPT_PAUSE, 0, sub {
                delete $state->{pause};
                _accept_loop($state, $accept_cb) if $state->{fh};
            });
        } elsif ($errno == Errno::EAGAIN() || $errno == Errno::EWOULDBLOCK()) {
            delete $state->{starved}; # drained: the next shortage is a new episode
        }
    });
}

# ---- socket options ------------------------------------------------------------------------

sub tcp_nodelay($$) {
    my ($fh, $enable) = @_;
    return setsockopt $fh, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), $enable ? 1 : 0;
}

sub tcp_congestion($$) {
    my ($fh, $algorithm) = @_;
    return undef unless defined TCP_CONGESTION;
    return setsockopt $fh, Socket::IPPROTO_TCP(), TCP_CONGESTION, "$algorithm";
}

1;

__END__

=head1 NAME

AnyEvent::Socket - IPv4, IPv6 and unix domain addresses, non-blocking connects and servers

=head1 SYNOPSIS

    use AnyEvent::Socket;

    tcp_connect "localhost", "finger", sub {
        my ($fh, $host, $port) = @_
            or die "connect failed: $!";
        syswrite $fh, "root\015\012";
        ...
    };

    my $server = tcp_server undef, 8888, sub {
        my ($fh, $host, $port) = @_;
        syswrite $fh, "hello $host:$port\015\012";
    };

=head1 DESCRIPTION

The address, resolution and socket functions of AnyEvent 7.17, with the same names, arguments,
results and errors. Sockets are created, connected, bound and accepted by the Rust core
(C<socket2>): every socket it makes is non-blocking and close-on-exec, and comes back as an
ordinary Perl file handle (the same kind Perl's C<socket> builtin makes), usable with
C<sysread>, C<syswrite>, L<AnyEvent::Handle> and the socket builtins.

Host addresses in "network form" are binary strings: 4 octets for IPv4, 16 for IPv6, and a
special token for unix domain sockets (C<parse_unix>).

The functions without the C<AnyEvent::Socket::> prefix below are exported by default:
C<getprotobyname parse_hostport format_hostport parse_ipv4 parse_ipv6 parse_ip parse_address
format_ipv4 format_ipv6 format_ip format_address address_family inet_aton tcp_server
tcp_connect>.

=head1 ADDRESSES

=head2 $ipn = parse_ipv4 $text

Takes an IPv4 address in any form POSIX allows (C<10.0.0.1>, C<10.1>, C<10.0x020304>,
C<0x12345678>, C<0377.0377.0377.0377>) and returns it as 4 octets, or C<undef> when the text is
not such an address (including parts out of range).

=head2 $ipn = parse_ipv6 $text

Takes an IPv6 address as RFC 2373 writes it (with C<::> compression and an optional dotted IPv4
tail), or any IPv4 form C<parse_ipv4> accepts (returned IPv4-mapped, C<::ffff:a.b.c.d>), and
returns 16 octets, or C<undef>. Scope ids (C<%eth0>) are not accepted.

=head2 $token = AnyEvent::Socket::parse_unix $text

Returns the unix domain socket token for the text C<unix/>, C<undef> for anything else.

=head2 $ipn = parse_address $text

C<parse_ipv6>, C<parse_ipv4> and C<parse_unix> in one: returns 4 octets for IPv4 addresses
(also when written IPv4-mapped, C<::ffff:1.2.3.4>), 16 octets for other IPv6 addresses, the unix
token for C<unix/>, or C<undef>. Never resolves names.

=head2 $ipn = parse_ip $text, $ipn = AnyEvent::Socket::aton $text

Other names for C<parse_address>.

=head2 $af = address_family $ipn

Returns the address family (C<AF_INET>, C<AF_INET6> or C<AF_UNIX>) of an address in network form.

=head2 $text = format_ipv4 $ipn

Formats 4 octets as a dotted quad.

=head2 $text = format_ipv6 $ipn

Formats 16 octets as text: the longest run of two or more zero groups (the first of equally
long runs) is written C<::>, hex digits in lower case, and addresses whose first 8 octets are
zero are written as AnyEvent writes them: C<::>, C<::1>, C<::a.b.c.d> (IPv4-compatible),
C<::ffff:a.b.c.d> (mapped) and C<::ffff:0:a.b.c.d> (translated).

=head2 $text = format_address $ipn

Formats an address in network form: IPv4 as a dotted quad, IPv4-mapped IPv6 as the plain IPv4
address, other IPv6 as C<format_ipv6> does, the unix token as C<unix/>. Returns C<undef> for
anything else.

=head2 $text = format_ip $ipn, $text = AnyEvent::Socket::ntoa $ipn

Other names for C<format_address>.

=head2 ($host, $service) = parse_hostport $text[, $default_service]

Splits C<host:port> strings, accepting C<host:port>, C<ipv4:port>, a bare IPv6 address,
C<[host]:port>, C<[host] port>, C<host port>, C<host#port>, C<unix/:path> and C</path> (a unix
socket). The port may be a number, a service name or C<name=number>. Without a port in the text,
C<$default_service> is used. Returns the empty list when no port was found and no default
given, or the text cannot be parsed (for example a host name containing colons).

=head2 $text = format_hostport $host[, $port]

The inverse: puts IPv6 addresses in brackets and appends C<:$port> when C<$port> is given.

=head1 RESOLUTION

=head2 ($name, $aliases, $number) = getprotobyname $name

Like the builtin, case-insensitive, with C<tcp>, C<udp> and C<icmp> known even without
F</etc/protocols>. Returns the protocol number in scalar context and the empty list for unknown
names.

=head2 inet_aton $name, $cb->(@addresses)

Calls C<$cb> with the addresses of C<$name> in network form: the address itself for IP
literals, C<127.0.0.1> and C<::1> for C<localhost> (both synchronously), otherwise the A and
AAAA records (those of the preferred protocol first, see C<PERL_ANYEVENT_PROTOCOLS>) from
L<AnyEvent::DNS>, or nothing. Returns nothing.

=head2 AnyEvent::Socket::resolve_sockaddr $node, $service, $proto, $family, $type, $cb->([$family, $type, $proto, $sockaddr], ...)

Resolves a host and a service into the socket addresses to try, in order, like
C<getaddrinfo>. C<$node> is an IP literal, a host name (an IDN is converted with
C<AnyEvent::Util::idn_to_ascii>) or C<unix/>. C<$service> is a port number, a service name from
F</etc/services>, C<name=port>, or for C<unix/> the socket's absolute path. C<$proto> is
C<tcp> (default), C<udp> or another protocol name; C<$family> 0 (any, default), 4 or 6;
C<$type> a socket type (default C<SOCK_STREAM>, or C<SOCK_DGRAM> for udp).

Literals need no look-up; C<localhost> is C<127.0.0.1> and C<::1>. For other names, when the
service is a name, SRV records are consulted first; then A and AAAA records; when DNS has none
for a name, the hosts file (F</etc/hosts>, or C<$ENV{PERL_ANYEVENT_HOSTS}>; read again when it
changes) supplies them. L<AnyEvent::DNS> is loaded on the first look-up only; when it is not
installed, names resolve through the hosts file alone. Candidates come ordered by the protocol
preference of C<PERL_ANYEVENT_PROTOCOLS> (default C<ipv4,ipv6>), then in record order.

Calls C<$cb> with one array reference per candidate (C<[$family, $type, $protocol_number,
$sockaddr]>), or with nothing when the name has no usable address - also when C<$node> is
undefined or not a valid domain name (an empty label, a label over 63 octets, a name over 255),
whether the caller passed it or it came from a DNS answer (an SRV target). Returns nothing.
Croaks for an unknown service (C<"http-x/tcp: service unknown">) or protocol.

=head2 The hosts file helpers (AnyEvent 7.17's internals)

These have AnyEvent 7.17's names, prototypes and arguments because CPAN modules call or replace
them (C<AnyEvent::DNS::EtcHosts> from CPAN, for one); other code should use C<resolve_sockaddr>.

C<%AnyEvent::Socket::HOSTS>: the hosts file's contents, C<< $HOSTS{$name} = [[$ipv4, ...],
[$ipv6, ...]] >> with names in lower case and addresses in network (binary) form.

C<AnyEvent::Socket::_parse_hosts $text>: empties C<%HOSTS> and fills it from the text of a
hosts file (comments and lines without names are skipped; a final dot on a name is dropped;
addresses are read as C<parse_ipv4>, else C<parse_ipv6>, read them). Returns nothing. The
parser is the Rust core's, the one behind the hosts fallback of L<AnyEvent::DNS>'s C<a> and
C<aaaa>.

C<AnyEvent::Socket::_load_hosts_unless { ... } $cv, @dns_results>: when C<@dns_results> is
empty, checks the hosts file's modification time (with L<AnyEvent::IO>, so without blocking the
loop), reads it again with C<_parse_hosts> when it changed, calls the block and then
C<< $cv->end >>; when C<@dns_results> is not empty, only calls C<< $cv->end >>. Concurrent
calls share one check (the waiting blocks are in C<@AnyEvent::Socket::HOSTS_CHECKING>). Returns
nothing. C<resolve_sockaddr> calls it through its name, so a replacement installed in its glob
is what runs. A missing hosts file gives no names.

=head2 $sa = AnyEvent::Socket::pack_sockaddr $port, $ipn

Packs a port and a host address in network form (IPv4, IPv6, or the unix token with the path as
C<$port>) into a C<sockaddr>. Croaks with C<pack_sockaddr: invalid host> for other hosts.

=head2 $af = AnyEvent::Socket::sockaddr_family $sa

The address family of a packed C<sockaddr> (C<Socket::sockaddr_family>).

=head2 ($port, $ipn) = AnyEvent::Socket::unpack_sockaddr $sa

The inverse: returns the port and the host in network form; for unix domain sockets the path
(empty for unnamed sockets) and the unix token. Croaks for other address families.

=head1 SOCKETS

=head2 $guard = tcp_connect $host, $service, $connect_cb[, $prepare_cb]

Connects a stream socket without blocking. C<$host> and C<$service> are resolved with
C<resolve_sockaddr> (so C<$host> may be a name, an IP literal or C<unix/>, C<$service> a port, a
service name, C<name=port>, or the path of a unix socket), and every address found is tried in
turn until one connects.

For each attempt, C<< $prepare_cb->($fh) >> (if given) is called with the new, not yet
connected handle; it may bind or set options, and its return value is the timeout of this
attempt in seconds (0, C<undef> or nothing: no timeout of our own; the kernel's applies).

On success C<< $connect_cb->($fh, $host, $port, $retry) >> is called with the connected handle
(non-blocking, close-on-exec), the peer's address as text and its port (for unix sockets
C<unix/> and the path). Calling C<< $retry->() >> drops this connection and goes on with the
next address. When no address is left, C<$connect_cb> is called without arguments and C<$!>
says why: the error of the last attempt (C<ECONNREFUSED>, C<ETIMEDOUT> when the prepare
callback's timeout expired, C<EMFILE> when no socket could be made, ...), or C<ENXIO> when the
name had no addresses at all - as for a host that is undefined or no valid domain name (a name
from a DNS answer, say, such as an MX exchange whose label holds a dot), as AnyEvent 7.17
reports it. The callback is never called before C<tcp_connect> has returned.

Returns, unless called in void context, a guard: destroying it before the callback was called
cancels the connect, and the callback is then never called. Croaks when the service is unknown.

=head2 $guard = tcp_server $host, $service, $accept_cb[, $prepare_cb]

Listens on a stream socket and calls C<< $accept_cb->($fh, $host, $port) >> for each
connection, with the accepted handle (non-blocking, close-on-exec) and the peer's address and
port (C<unix/> and the empty string for unix sockets).

C<$host> is an IP literal (C<0> is the IPv4 wildcard, C<::> the IPv6 one), C<unix/>, or
C<undef>: then the socket listens on C<::> accepting IPv6 and IPv4 connections (dual-stack),
or on C<0> when IPv6 is not available or disabled by C<PERL_ANYEVENT_PROTOCOLS>. (AnyEvent 7.17
binds C<undef> to C<0> or C<::>, one of them.) C<$service> is a port number, a service name, or
C<0>/C<undef> for a free port; for C<unix/> the socket's path, which is unlinked before binding
and, when the guard is destroyed, after. Internet sockets get C<SO_REUSEADDR>.

C<< $prepare_cb->($fh, $host, $port) >>, if given, is called after binding and before listening,
with the bound address (so a free port picked for port 0 can be read here); its return value is
the listen backlog (0 or C<undef>: 128).

When accepting fails because the process or the system is out of descriptors (C<EMFILE>,
C<ENFILE>) or memory (C<ENOBUFS>, C<ENOMEM>), the server stops accepting for 0.1 s at a time
instead of retrying at once (the listening socket stays readable: AnyEvent 7.17 spins at full
CPU there), keeps serving the connections it has, and accepts the clients waiting in the
backlog by itself once descriptors are free again. The shortage is logged once per episode
(C<AnyEvent::log> level 4, shown at C<PERL_ANYEVENT_VERBOSE> 4 or more); an episode ends when
the backlog was drained.

Returns, unless called in void context, a guard that stops listening (and unlinks a unix
socket) when destroyed; connections already accepted are not affected. In void context the
server runs for the life of the program. When C<tcp_server> returns, the socket listens.
Croaks when the host is not an address (C<tcp_bind: cannot parse 'x' as host address>), the
service is unknown (C<tcp_bind: unknown service 'x'>; 7.17 shows C<''> there, not the name), or socket, bind or listen fail (C<tcp_bind:
Address already in use>). The messages start with C<tcp_bind:> for C<tcp_server> too, as in
AnyEvent 7.17.

=head2 AnyEvent::Socket::ACCEPT_PAUSE

The length, in seconds, of C<tcp_server>'s pauses in accepting when descriptors or memory run
out (a constant: 0.1).

=head2 $guard = AnyEvent::Socket::tcp_bind $host, $service, $done_cb[, $prepare_cb]

As C<tcp_server>, but does not accept: C<< $done_cb->($fh) >> is called (before C<tcp_bind>
returns) with the listening handle. The guard unlinks a unix socket when destroyed; the handle
itself stays open as long as you keep it. Croaks like C<tcp_server>.

=head2 AnyEvent::Socket::tcp_nodelay $fh, $enable

Sets or clears C<TCP_NODELAY> (disables or enables Nagle's algorithm). Returns true on success,
false with C<$!> set on error.

=head2 AnyEvent::Socket::tcp_congestion $fh, $algorithm

Sets the congestion control algorithm (C<TCP_CONGESTION>, e.g. C<reno>, C<cubic>). Returns true
on success, false with C<$!> set (e.g. for an algorithm the kernel does not offer), C<undef>
where the option does not exist.

=head2 Socket option constants

C<AnyEvent::Socket::TCP_CONGESTION>, C<TCP_CONNECTIONTIMEOUT>, C<TCP_CORK>,
C<TCP_DEFER_ACCEPT>, C<TCP_FASTOPEN>, C<TCP_INFO>, C<TCP_INIT_CWND>, C<TCP_KEEPALIVE>,
C<TCP_KEEPCNT>, C<TCP_KEEPIDLE>, C<TCP_KEEPINIT>, C<TCP_KEEPINTVL>, C<TCP_LINGER2>,
C<TCP_MAXSEG>, C<TCP_MD5SIG>, C<TCP_NOOPT>, C<TCP_NOPUSH>, C<TCP_QUICKACK>,
C<TCP_SACK_ENABLE>, C<TCP_SYNCNT>, C<TCP_WINDOW_CLAMP>, and C<MSG_DONTWAIT>,
C<MSG_FASTOPEN>, C<MSG_MORE>, C<MSG_NOSIGNAL>: constant functions (not exported) giving the
platform's value for C<setsockopt> or C<send>, or C<undef> where the platform has no such
option, as AnyEvent provides them.

=head1 ERRORS THAT CROAK

Host names - from the caller or from DNS answers - never make these functions croak: a name
that has no address, or that is no valid domain name, ends in the callback with nothing
(C<tcp_connect>: C<$!> = C<ENXIO>), and connection failures end there with their C<$!>. What
croaks, at the call and as in AnyEvent 7.17, are programmer errors and a server that cannot be
set up:

    resolve_sockaddr, tcp_connect   an unknown service or protocol; no service
    tcp_server, tcp_bind            a host that is no address (or unix/ without a path); an
                                    unknown service; socket, bind or listen failing
                                    ("tcp_bind: Address already in use", also from tcp_server)
    pack_sockaddr                   a host that is no address in network form
    unpack_sockaddr                 an address family other than IPv4, IPv6 or unix

=head1 ENVIRONMENT

C<PERL_ANYEVENT_PROTOCOLS> (e.g. C<ipv6,ipv4>; default C<ipv4,ipv6>): the protocols to use and
their preference, read when AnyEvent::Socket is loaded (into C<%AnyEvent::PROTOCOL> unless
already set). C<PERL_ANYEVENT_HOSTS>: the hosts file to use instead of F</etc/hosts>.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Util>, L<AnyEvent::DNS>, L<AnyEvent::Handle>.

=head1 LICENSE

Same terms as Perl itself.

=cut
