package AnyEvent::DNS;

use strict;
use warnings;
use Carp ();
use Scalar::Util ();
use Socket ();

use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

$Carp::Internal{+__PACKAGE__}++;

sub MAX_PKT()     { 4096 } # the EDNS0 payload dns_pack advertises when $EDNS0 is set
sub DOMAIN_PORT() { 53 }

# The payload size the resolver advertises in its own queries (EDNS0): 1232 bytes fits in one
# unfragmented packet on any usual path (the DNS flag day 2020 recommendation).
sub DEFAULT_EDNS_PAYLOAD() { 1232 }

our $EDNS0 = ($ENV{PERL_ANYEVENT_EDNS0} // 0) * 1;

our %opcode_id = (query => 0, iquery => 1, status => 2, notify => 4, update => 5, map +($_ => $_), 3, 6 .. 15);
our %opcode_str = reverse %opcode_id;

our %rcode_id = (
    noerror => 0, formerr => 1, servfail => 2, nxdomain => 3, notimp => 4, refused => 5,
    yxdomain => 6, yxrrset => 7, nxrrset => 8, notauth => 9, notzone => 10,
    map +($_ => $_), 11 .. 15
);
our %rcode_str = reverse %rcode_id;

our %type_id = (
    a => 1, ns => 2, md => 3, mf => 4, cname => 5, soa => 6, mb => 7, mg => 8, mr => 9, null => 10,
    wks => 11, ptr => 12, hinfo => 13, minfo => 14, mx => 15, txt => 16, sig => 24, key => 25,
    gpos => 27, aaaa => 28, loc => 29, srv => 33, naptr => 35, dname => 39, opt => 41, ds => 43,
    sshfp => 44, rrsig => 46, nsec => 47, dnskey => 48, smimea => 53, cds => 59, cdnskey => 60,
    openpgpkey => 61, csync => 62, spf => 99, tkey => 249, tsig => 250, ixfr => 251, axfr => 252,
    mailb => 253, '*' => 255, uri => 256, caa => 257,
);
our %type_str = reverse %type_id;

our %class_id = (in => 1, ch => 3, hs => 4, none => 254, '*' => 255);
our %class_str = reverse %class_id;

# Record decoding happens in the Rust core; this hash exists for code that looks at it, but
# entries added to it are not consulted.
our %dec_rr;

our $RESOLVER;

# ---- convenience functions ----------------------------------------------------------------

sub _hosts_file { length($ENV{PERL_ANYEVENT_HOSTS} // '') ? $ENV{PERL_ANYEVENT_HOSTS} : '/etc/hosts' }

sub a($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'a', hosts => _hosts_file(), sub { $cb->(map $_->[4], @_) });
}

sub aaaa($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'aaaa', hosts => _hosts_file(), sub { $cb->(map $_->[4], @_) });
}

sub mx($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'mx', sub { $cb->(map $_->[5], sort { $a->[4] <=> $b->[4] } @_) });
}

sub ns($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'ns', sub { $cb->(map $_->[4], @_) });
}

sub txt($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'txt', sub { $cb->(map $_->[4], @_) });
}

sub srv($$$$) {
    my ($service, $proto, $domain, $cb) = @_;
    resolver()->resolve("_$service._$proto.$domain" => 'srv', sub { $cb->(_order_srv(@_)) });
}

# RFC 2782: lowest priority first; within a priority, a random order weighted by weight.
sub _order_srv {
    my %by_priority;
    push @{ $by_priority{ $_->[4] } }, [@$_[4 .. 7]] for @_;
    my @ordered;
    for my $priority (sort { $a <=> $b } keys %by_priority) {
        my @rr = sort { $a->[1] <=> $b->[1] } @{ $by_priority{$priority} };
        my $sum = 0;
        $sum += $_->[1] for @rr;
        while (@rr) {
            my $pick = int rand($sum + 1);
            for my $i (0 .. $#rr) {
                if (($pick -= $rr[$i][1]) <= 0) {
                    $sum -= $rr[$i][1];
                    push @ordered, splice @rr, $i, 1;
                    last;
                }
            }
        }
    }
    @ordered;
}

sub ptr($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'ptr', sub { $cb->(map $_->[4], @_) });
}

sub any($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => '*', $cb);
}

sub reverse_lookup($$) {
    my ($ip, $cb) = @_;
    my $name = _ptr_name($ip // '');
    return $cb->() unless defined $name;
    resolver()->resolve($name => 'ptr', sub { $cb->(map $_->[4], @_) });
}

sub reverse_verify($$) {
    my ($ip, $cb) = @_;
    my $name = _ptr_name($ip // '');
    return $cb->() unless defined $name;
    # The forward look-up must give the same address (v4-mapped addresses verify as IPv4).
    my ($family, $want) = $name =~ /in-addr\.arpa\.$/
        ? (Socket::AF_INET(), Socket::inet_aton(join '.', reverse((split /\./, $name)[0 .. 3])))
        : (Socket::AF_INET6(), Socket::inet_pton(Socket::AF_INET6(), $ip));
    my $type = $family == Socket::AF_INET() ? 'a' : 'aaaa';
    ptr($name, sub {
        my @names = @_;
        return $cb->() unless @names;
        my ($pending, @verified) = (scalar @names);
        for my $host (@names) {
            resolver()->resolve("$host." => $type, sub {
                push @verified, $host if grep { my $n = Socket::inet_pton($family, $_->[4]); defined $n && $n eq $want } @_;
                $cb->(@verified) unless --$pending;
            });
        }
    });
}

# ---- encoding and decoding ----------------------------------------------------------------

sub _type_number {
    my ($type, $who) = @_;
    return $type if defined $type && $type =~ /^\d+\z/ && $type < 65536;
    my $n = $type_id{ lc($type // '') };
    Carp::croak("$who: unknown record type '" . ($type // 'undef') . "'") unless defined $n;
    $n;
}

sub _class_number {
    my ($class, $who) = @_;
    return 1 unless defined $class && length $class;
    return $class if $class =~ /^\d+\z/ && $class < 65536;
    my $n = $class_id{ lc $class };
    Carp::croak("$who: unknown record class '$class'") unless defined $n;
    $n;
}

sub dns_pack($) {
    my ($req) = @_;
    Carp::croak('AnyEvent::DNS::dns_pack: the request must be a hash reference') unless ref $req eq 'HASH';
    for my $section (qw(an ns ar)) {
        Carp::croak("AnyEvent::DNS::dns_pack: encoding of resource records ($section section) is not supported")
            if $req->{$section} && @{ $req->{$section} };
    }
    my $op = $opcode_id{ $req->{op} // 'query' } // Carp::croak("AnyEvent::DNS::dns_pack: unknown opcode '$req->{op}'");
    my $rc = $rcode_id{ $req->{rc} // 'noerror' } // Carp::croak("AnyEvent::DNS::dns_pack: unknown rcode '$req->{rc}'");
    my $flags = ($req->{qr} ? 0x8000 : 0) | ($op << 11) | ($req->{aa} ? 0x0400 : 0) | ($req->{tc} ? 0x0200 : 0)
        | ($req->{rd} ? 0x0100 : 0) | ($req->{ra} ? 0x0080 : 0) | ($req->{ad} ? 0x0020 : 0)
        | ($req->{cd} ? 0x0010 : 0) | $rc;
    my (@names, @types, @classes);
    for my $q (@{ $req->{qd} || [] }) {
        push @names, $q->[0] // '';
        push @types, _type_number($q->[1], 'AnyEvent::DNS::dns_pack');
        push @classes, _class_number($q->[2], 'AnyEvent::DNS::dns_pack');
    }
    _pack(($req->{id} // 0) & 0xffff, $flags, $EDNS0 ? MAX_PKT : 0, \@names, \@types, \@classes);
}

sub dns_unpack($) { _unpack($_[0]) }

# ---- the resolver -------------------------------------------------------------------------

sub resolver() {
    $RESOLVER ||= do {
        my $cache = $ENV{PERL_ANYEVENT_DNS_CACHE};
        my $r = AnyEvent::DNS->new(
            untaint         => 1,
            max_outstanding => ($ENV{PERL_ANYEVENT_MAX_OUTSTANDING_DNS} // 0) * 1 || 10,
            cache           => (!defined $cache || $cache) ? 1 : 0,
        );
        length($ENV{PERL_ANYEVENT_RESOLV_CONF} // '')
            ? $r->_load_resolv_conf_file($ENV{PERL_ANYEVENT_RESOLV_CONF})
            : $r->os_config;
        $r;
    };
}

sub new {
    my ($class, %arg) = @_;
    my $self = bless {
        server          => [],
        timeout         => [2, 5, 5],
        search          => [],
        ndots           => 1,
        max_outstanding => 10,
        reuse           => 300,
        edns0           => DEFAULT_EDNS_PAYLOAD,
        cache           => 1,
        %arg,
        wait            => [],
    }, $class;
    for my $list (qw(server timeout search)) {
        Carp::croak("AnyEvent::DNS->new: $list must be an array reference")
            unless ref $self->{$list} eq 'ARRAY';
    }
    $self->{_rs} = _rs_new();
    $self->_compile;
    $self;
}

# Server addresses: packed IPv4/IPv6 (port 53), text "ip", "ip:port", "[ipv6]:port", or
# [ip, port]; the Rust core takes "ip:port" / "[ipv6]:port".
sub _server_text {
    my ($server) = @_;
    my ($host, $port) = ref $server eq 'ARRAY' ? @$server : ($server, undef);
    Carp::croak('AnyEvent::DNS: a server address is undefined') unless defined $host;
    if (!defined $port) {
        if ($host =~ /^\[([^\]]+)\]:(\d+)\z/ || $host =~ /^([^:]+):(\d+)\z/) {
            ($host, $port) = ($1, $2);
        }
    }
    $port //= DOMAIN_PORT;
    Carp::croak("AnyEvent::DNS: invalid server port '$port'") unless $port =~ /^\d+\z/ && $port > 0 && $port < 65536;
    if (Socket::inet_pton(Socket::AF_INET(), $host)) {
        return "$host:$port";
    } elsif (Socket::inet_pton(Socket::AF_INET6(), $host)) {
        return "[$host]:$port";
    } elsif (length $host == 4) {
        return Socket::inet_ntop(Socket::AF_INET(), $host) . ":$port";
    } elsif (length $host == 16) {
        return '[' . Socket::inet_ntop(Socket::AF_INET6(), $host) . "]:$port";
    }
    Carp::croak("AnyEvent::DNS: invalid server address '$host' (an IP address, packed or as text, \"ip:port\" or [ip, port])");
}

sub _compile {
    my ($self) = @_;
    my (%seen_search, %seen_server);
    $self->{search} = [grep { defined && length && !$seen_search{$_}++ } @{ $self->{search} }];
    $self->{server} = [grep { defined && (ref || length) && !$seen_server{ ref $_ ? "@$_" : $_ }++ } @{ $self->{server} }];
    my $edns = $self->{edns0};
    $edns = DEFAULT_EDNS_PAYLOAD if defined $edns && $edns eq '1';
    my $flags = _rs_configure(
        $self->{_rs},
        [map _server_text($_), @{ $self->{server} }],
        $self->{timeout},
        $self->{search},
        ($self->{ndots} // 1) * 1,
        ($self->{max_outstanding} // 10) * 1,
        ($self->{reuse} // 300) * 1,
        ($edns || 0) * 1,
        $self->{cache} ? 1 : 0,
    );
    $self->_submitted($flags) if $flags;
    $self;
}

sub parse_resolv_conf {
    my ($self, $text) = @_;
    my $conf = _parse_resolv_conf($text // '');
    AE::log(5 => "nameserver $_ invalid and ignored, while parsing resolver config.") for @{ $conf->{invalid} };
    # Port 53 addresses are kept packed, as AnyEvent keeps them; others as "ip:port" text.
    $self->{server} = [map {
        /^\[(.*)\]:53\z/ ? Socket::inet_pton(Socket::AF_INET6(), $1)
        : /^([^:]*):53\z/ ? Socket::inet_pton(Socket::AF_INET(), $1)
        : $_
    } @{ $conf->{server} }];
    $self->{search} = $conf->{search};
    $self->{ndots} = $conf->{ndots} if defined $conf->{ndots};
    $self->{timeout} = $conf->{timeout} if $conf->{timeout};
    $self->_compile;
}

sub _load_resolv_conf_file {
    my ($self, $file) = @_;
    if (open my $fh, '<', $file) {
        local $/;
        $self->parse_resolv_conf(scalar <$fh>);
    } else {
        AE::log(4 => "$file: $!");
    }
    $self;
}

sub os_config {
    my ($self) = @_;
    $self->{server} = [];
    $self->{search} = [];
    if (-e '/etc/resolv.conf') {
        $self->_load_resolv_conf_file('/etc/resolv.conf');
    } else {
        $self->_compile;
    }
    $self;
}

sub timeout {
    my ($self, @timeout) = @_;
    $self->{timeout} = \@timeout;
    $self->_compile;
}

sub max_outstanding {
    my ($self, $max) = @_;
    $self->{max_outstanding} = $max;
    $self->_compile;
}

sub cache {
    my ($self, $on) = @_;
    $self->{cache} = $on ? 1 : 0;
    $self->_compile;
}

sub clear_cache { _rs_clear_cache($_[0]{_rs}); $_[0] }

sub dropped { _rs_stats($_[0]{_rs})->{dropped} }

sub stats { _rs_stats($_[0]{_rs}) }

sub request($$) {
    my ($self, $req, $cb) = @_;
    my $pkt = dns_pack($req);
    my $flags = _rs_request($self->{_rs}, $pkt, sub { $cb->(@_ ? dns_unpack($_[0]) : ()) });
    $self->_submitted($flags) if $flags;
}

sub resolve($%) {
    my $cb = pop;
    my ($self, $qname, $qtype, %opt) = @_;
    Carp::croak('AnyEvent::DNS resolve: the name is undefined') unless defined $qname;
    my $type = $type_id{$qtype // ''} // _type_number($qtype, 'AnyEvent::DNS resolve');
    my $class = defined $opt{class} ? _class_number($opt{class}, 'AnyEvent::DNS resolve') : 1;
    my $accept = $opt{accept} && [map _type_number($_, 'AnyEvent::DNS resolve: accept'), @{ $opt{accept} }];
    my $flags = _rs_resolve($self->{_rs}, $qname, $type, $class, $opt{search}, $accept, $opt{hosts}, $cb);
    $self->_submitted($flags) if $flags;
}

sub wait_for_slot {
    my ($self, $cb) = @_;
    push @{ $self->{wait} }, $cb;
    $self->_wake_waiters;
}

sub _wake_waiters {
    my ($self) = @_;
    while (@{ $self->{wait} } && _rs_stats($self->{_rs})->{has_slot}) {
        (shift @{ $self->{wait} })->($self);
    }
}

# What the Rust core's flags ask for: 1 new descriptors to watch, 2 an earlier deadline,
# 4 callbacks to run (at once after an event, from a postponed call after a new request: a
# callback never runs inside the call that made the request).
sub _event {
    my ($self, $flags) = @_;
    $self->_sync_watchers if $flags & 1;
    $self->_arm_timer if $flags & 2;
    $self->_dispatch if $flags & 4;
}

sub _submitted {
    my ($self, $flags) = @_;
    $self->_sync_watchers if $flags & 1;
    $self->_arm_timer if $flags & 2;
    $self->_defer_dispatch if $flags & 4;
}

sub _defer_dispatch {
    my ($self) = @_;
    return if $self->{_deferred}++;
    Scalar::Util::weaken(my $weak = $self);
    AE::postpone(sub {
        return unless $weak;
        $weak->{_deferred} = 0;
        $weak->_dispatch;
    });
}

sub _sync_watchers {
    my ($self) = @_;
    my @list = _rs_watch_list($self->{_rs});
    my %want;
    while (my ($fd, $write, $serial) = splice @list, 0, 3) {
        $want{"$fd/$serial/$write"} = [$fd, $write];
    }
    my $io = $self->{_io} ||= {};
    delete @$io{ grep !$want{$_}, keys %$io };
    Scalar::Util::weaken(my $weak = $self);
    for my $key (grep !$io->{$_}, keys %want) {
        my ($fd, $write) = @{ $want{$key} };
        $io->{$key} = $write
            ? AE::io($fd, 1, sub { $weak->_event(_rs_writable($weak->{_rs}, $fd)) if $weak })
            : AE::io($fd, 0, sub { my $f = $weak && _rs_readable($weak->{_rs}, $fd); $weak->_event($f) if $f });
    }
}

sub _arm_timer {
    my ($self) = @_;
    my $after = _rs_next_timeout($self->{_rs});
    return delete $self->{_timer} unless defined $after;
    Scalar::Util::weaken(my $weak = $self);
    $self->{_timer} = AE::timer($after, 0, sub { $weak->_event(_rs_timeout($weak->{_rs})) if $weak });
}

# Runs the finished requests' callbacks. Should one die, the rest run from a postponed call
# (the exception still propagates).
sub _dispatch {
    my ($self) = @_;
    eval { _rs_dispatch($self->{_rs}); 1 } or do {
        my $error = $@;
        $self->_defer_dispatch;
        die $error;
    };
    $self->_wake_waiters if @{ $self->{wait} };
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT';
    delete $self->{_io};
    delete $self->{_timer};
    _rs_free($self->{_rs}) if $self->{_rs};
}

1;
