package AnyEvent::DNS;

use strict;
use warnings;
use Carp ();
use Scalar::Util ();
use Socket ();

use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

$Carp::Internal{+__PACKAGE__}++;

# The tables of names and numbers and the resolver's defaults are the Rust core's
# (rust/dns/wire.rs, rust/dns/resolver.rs), handed over once here: nothing is repeated.
my $TABLES = _tables();
my %DEFAULT = %{ $TABLES->{defaults} };   # timeout ndots max_outstanding reuse edns0 cache port

sub MAX_PKT() { 4096 } # the EDNS0 payload dns_pack advertises when $EDNS0 is set (AnyEvent's)
sub DOMAIN_PORT() { $DEFAULT{port} }

# The payload size the resolver advertises in its own queries (EDNS0).
sub DEFAULT_EDNS_PAYLOAD() { $DEFAULT{edns0} }

our $EDNS0 = ($ENV{PERL_ANYEVENT_EDNS0} // 0) * 1;

our %opcode_id = @{ $TABLES->{opcode} };
our %opcode_str = reverse %opcode_id;

our %rcode_id = @{ $TABLES->{rcode} };
our %rcode_str = reverse %rcode_id;

our %type_id = @{ $TABLES->{type} };
our %type_str = reverse %type_id;

our %class_id = @{ $TABLES->{class} };
our %class_str = reverse %class_id;

# Record decoding happens in the Rust core; this hash exists for code that looks at it, but
# entries added to it are not consulted.
our %dec_rr;

our $RESOLVER;

# ---- convenience functions ----------------------------------------------------------------

sub a($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'a', sub { $cb->(map $_->[4], @_) });
}

sub aaaa($$) {
    my ($domain, $cb) = @_;
    resolver()->resolve($domain => 'aaaa', sub { $cb->(map $_->[4], @_) });
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
    my $name = defined $domain ? "_$service._$proto.$domain" : undef;    # (undef: no name, no records)
    resolver()->resolve($name => 'srv', sub { $cb->(_order_srv(@_)) });
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
    my ($pkt, $why) = _encode($_[0]);
    Carp::croak("AnyEvent::DNS::dns_pack: $why") unless defined $pkt;
    $pkt;
}

# The packet of a request, or (undef, why) when one of its names cannot be encoded (croaks for
# the programmer errors: not a hash, records to encode, unknown opcode, rcode, type or class).
sub _encode {
    my ($req) = @_;
    Carp::croak('AnyEvent::DNS::dns_pack: the request must be a hash reference') unless ref $req eq 'HASH';
    for my $section (qw(an ns ar)) {
        Carp::croak("AnyEvent::DNS::dns_pack: encoding of resource records ($section section) is not supported")
            if $req->{$section} && @{ $req->{$section} };
    }
    my $op = $opcode_id{ $req->{op} // 'query' } // Carp::croak("AnyEvent::DNS::dns_pack: unknown opcode '$req->{op}'");
    my $rc = $rcode_id{ $req->{rc} // 'noerror' } // Carp::croak("AnyEvent::DNS::dns_pack: unknown rcode '$req->{rc}'");
    my (@names, @types, @classes);
    for my $q (@{ $req->{qd} || [] }) {
        my $name = $q->[0] // '';
        utf8::downgrade($name, 1) or return (undef, "invalid domain name (wide characters)");
        push @names, $name;
        push @types, _type_number($q->[1], 'AnyEvent::DNS::dns_pack');
        push @classes, _class_number($q->[2], 'AnyEvent::DNS::dns_pack');
    }
    # (the header flags qr aa tc rd ra ad cd are read from $req)
    my ($pkt, $why) = _pack(($req->{id} // 0) & 0xffff, $op, $rc, $req, $EDNS0 ? MAX_PKT : 0, \@names, \@types, \@classes);
    ($pkt, $why);
}

sub dns_unpack($) { _unpack($_[0]) }

# ---- the resolver -------------------------------------------------------------------------

sub resolver() {
    $RESOLVER ||= do {
        my $cache = $ENV{PERL_ANYEVENT_DNS_CACHE};
        my $r = AnyEvent::DNS->new(
            untaint         => 1,
            max_outstanding => ($ENV{PERL_ANYEVENT_MAX_OUTSTANDING_DNS} // 0) * 1 || $DEFAULT{max_outstanding},
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
        server  => [],
        search  => [],
        timeout => [@{ $DEFAULT{timeout} }],
        (map { $_ => $DEFAULT{$_} } qw(ndots max_outstanding reuse edns0 cache)),
        %arg,
        wait    => [],
    }, $class;
    for my $list (qw(server timeout search)) {
        Carp::croak("AnyEvent::DNS->new: $list must be an array reference")
            unless ref $self->{$list} eq 'ARRAY';
    }
    # The resolver lives in the loop, which owns its sockets, deadlines and fork handling.
    $self->{_rs} = _rs_new();
    $self->_compile;
    $self;
}

# Server addresses: packed IPv4/IPv6 (the DNS port), text "ip", "ip:port", "[ipv6]:port", or
# [ip, port]; the Rust core takes "ip:port" / "[ipv6]:port".
sub _server_text {
    my ($server) = @_;
    my ($host, $port) = ref $server eq 'ARRAY' ? @$server : ($server, undef);
    Carp::croak('AnyEvent::DNS: a server address is undefined') unless defined $host;
    # Text "ip:port" / "[ipv6]:port" (only when the address part is an address: a packed
    # address may contain a colon byte).
    if (!defined $port && ($host =~ /^\[([^\]]+)\]:(\d+)\z/ || $host =~ /^([0-9.]+):(\d+)\z/)
        && _text_family($1)) {
        ($host, $port) = ($1, $2);
    }
    $port //= $DEFAULT{port};
    Carp::croak("AnyEvent::DNS: invalid server port '$port'") unless $port =~ /^\d+\z/ && $port > 0 && $port < 65536;
    my $family = _text_family($host);
    return $family == Socket::AF_INET() ? "$host:$port" : "[$host]:$port" if $family;
    return Socket::inet_ntop(Socket::AF_INET(), $host) . ":$port" if length $host == 4;
    return '[' . Socket::inet_ntop(Socket::AF_INET6(), $host) . "]:$port" if length $host == 16;
    Carp::croak("AnyEvent::DNS: invalid server address '$host' (an IP address, packed or as text, \"ip:port\" or [ip, port])");
}

# AF_INET or AF_INET6 for an address in text form, else 0.
sub _text_family {
    my ($text) = @_;
    return Socket::AF_INET() if $text =~ /^[0-9.]+\z/ && Socket::inet_pton(Socket::AF_INET(), $text);
    return Socket::AF_INET6() if $text =~ /^[0-9a-fA-F:.]+\z/ && Socket::inet_pton(Socket::AF_INET6(), $text);
    0;
}

sub _compile {
    my ($self) = @_;
    my (%seen_search, %seen_server);
    $self->{search} = [grep { defined && length && !$seen_search{$_}++ } @{ $self->{search} }];
    $self->{server} = [grep { defined && (ref || length) && !$seen_server{ ref $_ ? "@$_" : $_ }++ } @{ $self->{server} }];
    my $edns = $self->{edns0};
    $edns = $DEFAULT{edns0} if defined $edns && $edns eq '1';
    _rs_configure(
        $self->{_rs},
        [map _server_text($_), @{ $self->{server} }],
        $self->{timeout},
        $self->{search},
        ($self->{ndots} // $DEFAULT{ndots}) * 1,
        ($self->{max_outstanding} // $DEFAULT{max_outstanding}) * 1,
        ($self->{reuse} // $DEFAULT{reuse}) * 1,
        ($edns || 0) * 1,
        $self->{cache} ? 1 : 0,
    );
    $self;
}

sub parse_resolv_conf {
    my ($self, $text) = @_;
    my $conf = _parse_resolv_conf($text // '');
    AE::log(5 => "nameserver $_ invalid and ignored, while parsing resolver config.") for @{ $conf->{invalid} };
    # Addresses on the DNS port are kept packed, as AnyEvent keeps them; others as "ip:port".
    $self->{server} = [map {
        my ($ip, $port) = /^\[(.*)\]:(\d+)\z/ ? ($1, $2) : /^([^:]*):(\d+)\z/ ? ($1, $2) : ();
        defined $port && $port == $DEFAULT{port} ? Socket::inet_pton(_text_family($ip), $ip) : $_
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
    Carp::croak('AnyEvent::DNS request: the callback must be a code reference') unless ref $cb;
    # A name that cannot be encoded gets no answer: the callback, from the loop, with nothing.
    my ($pkt) = _encode($req);
    return AE::postpone(sub { $cb->() }) unless defined $pkt;
    _rs_request($self->{_rs}, $pkt, $cb);    # (the answer comes decoded, as dns_unpack's)
}

sub resolve($%) {
    my $cb = pop;
    my ($self, $qname, $qtype, %opt) = @_;
    Carp::croak('AnyEvent::DNS resolve: the last argument must be the callback (a code reference)') unless ref $cb;
    my $type = $type_id{$qtype // ''} // _type_number($qtype, 'AnyEvent::DNS resolve');
    my $class = defined $opt{class} ? _class_number($opt{class}, 'AnyEvent::DNS resolve') : 1;
    my $accept = $opt{accept} && [map _type_number($_, 'AnyEvent::DNS resolve: accept'), @{ $opt{accept} }];
    return $self->_resolve_by_requests($qname, $qtype, $type, $accept, \%opt, $cb)
        if ref $self ne __PACKAGE__ && $self->can('request') != \&request;
    # (copied out: an absent $opt{...} as a call argument would cost Perl a magical stand-in)
    my ($search, $hosts) = @opt{qw(search hosts)};
    _rs_resolve($self->{_rs}, $qname, $type, $class, $search, $accept, $hosts, $cb);
}

# resolve for a subclass that overrides request (AnyEvent::DNS::EtcHosts on CPAN answers from
# the hosts file there): as in AnyEvent 7.17, whose resolve is built on request, every name of
# the search list and every step of a CNAME chain (at most 10) is asked through $self->request,
# and the first answer with records of the accepted types is the result. The rules (which
# names, what an answer means) are the Rust look-ups' (rust/dns/lookup.rs); here is only the
# asking.
sub _resolve_by_requests {
    my ($self, $qname, $qtype, $type, $accept, $opt, $cb) = @_;
    my @names = _rs_search_names($self->{_rs}, $qname, $opt->{search});
    my $class = $opt->{class} // 'in';
    my ($next_name, $ask);
    $next_name = sub {
        return (undef $next_name, undef $ask, $cb->()) unless @names;
        my $name = shift @names;
        my $depth;    # CNAME links left (undef: all of them)
        $ask = sub {
            $self->request({ rd => 1, qd => [[$name, $qtype, $class]] }, sub {
                my ($res) = @_ or return $next_name->();
                my $an = $res->{an} || [];
                (my $verdict, $name, $depth, my @found) = _examine($an, $name, $depth, $type, $accept);
                return (undef $next_name, undef $ask, $cb->(@$an[@found])) if $verdict == _FOUND;
                return $ask->() if $verdict == _ASK;    # the end of a CNAME chain
                $next_name->();
            });
        };
        $ask->();
    };
    $next_name->();
}

sub wait_for_slot {
    my ($self, $cb) = @_;
    push @{ $self->{wait} }, $cb;
    # The loop calls us back whenever a request of the resolver ended.
    $self->{_on_slot} ||= do {
        Scalar::Util::weaken(my $weak = $self);
        _rs_on_slot($self->{_rs}, sub { $weak->_wake_waiters if $weak });
        1;
    };
    $self->_wake_waiters;
}

sub _wake_waiters {
    my ($self) = @_;
    while (@{ $self->{wait} } && _rs_has_slot($self->{_rs})) {
        (shift @{ $self->{wait} })->($self);
    }
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT';
    _rs_free($self->{_rs}) if $self->{_rs};
}


# As in AnyEvent, loading the resolver makes AnyEvent::Socket available too.
require AnyEvent::Socket;

1;

__END__

=head1 NAME

AnyEvent::DNS - asynchronous DNS resolution, with the resolver written in Rust

=head1 SYNOPSIS

    use AnyEvent;
    use AnyEvent::DNS;

    my $cv = AE::cv;
    AnyEvent::DNS::a "www.example.org", $cv;
    my @addrs = $cv->recv;              # ("192.0.2.10", ...) or () on failure

    # full records, any type
    AnyEvent::DNS::resolver->resolve("example.org", "mx", sub {
        for my $rr (@_) {
            my ($name, $type, $class, $ttl, $preference, $exchange) = @$rr;
        }
    });

    # a resolver of your own
    my $r = AnyEvent::DNS->new(server => ["127.0.0.1:5353"], timeout => [1, 2], search => ["lan"]);

=head1 DESCRIPTION

The AnyEvent::DNS interface of AnyEvent 7.17 - convenience functions, the resolver class,
C<dns_pack> and C<dns_unpack> - on a stub resolver implemented in Rust. The resolver owns its
sockets and all query state (ids, retries, deadlines, the answer cache, the hosts file) and
uses hickory-proto to encode and decode messages. It is part of the event loop, whatever the
model: its sockets are watched and its deadlines kept by the loop, which calls your callbacks
among its other ready callbacks (under a foreign loop such as EV or Glib, the loop embedded in
it: see L<AnyEvent::Impl::Embed>). The tables of names and numbers (C<%type_id> ...) and the
defaults of C<new> come from the Rust core. A request in flight keeps the loop active (an
embedding loop such as C<EV::run> does not return while one is).

Callbacks are never called from inside the call that starts a request: even an answer from the
cache is delivered from the event loop. A request that fails (no answer, NXDOMAIN, no records
of the type, timeout of every server) calls its callback with an empty list; resolving never
dies because of what the network does. Neither does it for a name that is no valid domain name
(an empty label, a label over 63 octets, a name over 255 octets on the wire, an undefined name,
wide characters), whether the caller passed it or it was decoded from an answer (an MX
exchange or PTR name whose label holds a dot decodes to C<x..y.test>): such a look-up finds
nothing and calls back with an empty list, from the loop, without a query on the wire, as
AnyEvent 7.17 ends up doing. Programmer errors (an unknown record type, a missing callback, see
L</ERRORS THAT CROAK>) croak at the call.

=head2 Security

Every query gets a random 16-bit id and leaves from one of a small pool of UDP sockets bound
to random unprivileged ports (each socket is replaced by one on a fresh random port after 256
queries). An answer is accepted only when it carries the id of a query in flight, arrives on
the socket that query was sent from, comes from the address and port of a server the query was
sent to, and repeats the question (name without regard to case, type and class). Anything else
is dropped and counted (see C<dropped>). An id whose query timed out is not reused for
C<reuse> seconds, so a late answer cannot be taken for a newer query. This is still a stub
resolver: it trusts the servers it is configured with.

=head1 CONVENIENCE FUNCTIONS

These use the shared resolver (C<AnyEvent::DNS::resolver> (below)). Each takes a callback (a code
reference or a condition variable) and calls it once, with the results or with an empty list
(also for a name that is no valid domain name).

=over 4

=item AnyEvent::DNS::a $domain, $cb->(@ipv4_addresses)

Resolves C<$domain> to IPv4 addresses in dotted-quad text, following CNAMEs and applying the
search list. Only DNS is asked: the hosts file is not read (C<resolve_sockaddr>,
C<tcp_connect> and the other functions of L<AnyEvent::Socket> fall back to it).

=item AnyEvent::DNS::aaaa $domain, $cb->(@ipv6_addresses)

The same for IPv6 addresses, in compressed text form (C<2001:db8::1>; v4-mapped addresses as
C<::ffff:192.0.2.1>).

=item AnyEvent::DNS::mx $domain, $cb->(@hostnames)

The mail exchangers of C<$domain>, lowest preference value first.

=item AnyEvent::DNS::ns $domain, $cb->(@hostnames)

The name servers of C<$domain>.

=item AnyEvent::DNS::txt $domain, $cb->(@strings)

The first string of each TXT record of C<$domain>. For all strings, use C<resolve> with type
C<txt>: each record is C<[$name, "txt", $class, $ttl, @strings]>.

=item AnyEvent::DNS::srv $service, $proto, $domain, $cb->(@srv_rr)

Looks up C<_$service._$proto.$domain> and returns its SRV records as
C<[$priority, $weight, $port, $target]>, lowest priority first and, within a priority, in
the random weighted order RFC 2782 prescribes.

    AnyEvent::DNS::srv "sip", "udp", "example.org", sub { ... };
    # @_ = ([10, 60, 5060, "sip1.example.org"], [10, 40, 5060, "sip2.example.org"])

=item AnyEvent::DNS::any $domain, $cb->(@rrs)

An ANY query; the callback gets all records (full records, as C<resolve> returns them). ANY
queries are deprecated (RFC 8482) and many servers answer them partially.

=item AnyEvent::DNS::ptr $domain, $cb->(@hostnames)

The PTR records of C<$domain> (a name such as C<4.3.2.1.in-addr.arpa>).

=item AnyEvent::DNS::reverse_lookup $ip, $cb->(@hostnames)

The host names of an IPv4 or IPv6 address given as text. v4-mapped and v4-compatible IPv6
addresses are looked up as IPv4 (but C<::1> and C<::> as IPv6). Something that is not an
address gives an empty list.

=item AnyEvent::DNS::reverse_verify $ip, $cb->(@hostnames)

Like C<reverse_lookup>, but keeps only the names whose forward look-up (A for IPv4, AAAA for
IPv6) gives C<$ip> back. This is the way to turn an address into a name you can show.

=back

=head1 LOW-LEVEL ENCODING AND DECODING

=over 4

=item $AnyEvent::DNS::EDNS0

When true, C<dns_pack> adds an EDNS0 OPT record advertising 4096 bytes, as AnyEvent does.
Default: C<$ENV{PERL_ANYEVENT_EDNS0}>, else 0. (The resolver's own queries are configured by
its C<edns0> option instead.)

=item $packet = AnyEvent::DNS::dns_pack $hashref

Encodes a DNS message with questions only (encoding resource records is not supported, as in
AnyEvent; a non-empty C<an>, C<ns> or C<ar> croaks). Fields: C<id> (default 0), C<op>
(opcode name or number, default C<query>), C<rc> (rcode name or number, default C<noerror>),
the flags C<qr aa tc rd ra ad cd> (true or false), and C<qd>, a list of questions
C<[$name, $type, $class]> (type and class as names - see C<%type_id>, C<%class_id> - or
numbers; class defaults to C<in>).

    my $pkt = AnyEvent::DNS::dns_pack { id => 4711, rd => 1, qd => [["example.org", "mx"]] };

Croaks for a name it cannot encode (empty label, label over 63 bytes, name over 255 bytes,
wide characters; AnyEvent 7.17 returns a malformed packet) and for unknown types, classes,
opcodes or rcodes. Names may be compressed in the packet.

=item $hashref = AnyEvent::DNS::dns_unpack $packet

Decodes a DNS message into the hash AnyEvent returns: C<id>; the flags C<qr aa tc rd ra ad
cd> (1 or the empty string); C<op> and C<rc> as names (numbers when they have none); C<qd>, a
list of C<[$name, $type, $class]>; C<an>, C<ns> and C<ar>, lists of records
C<[$name, $type, $class, $ttl, @data]> (see C<resolve> for C<@data>); and C<__>, the packet
itself. Names have no final dot. The EDNS0 OPT record is not listed in C<ar>. Returns undef
when the packet is not a well-formed DNS message.

=item %AnyEvent::DNS::opcode_id, %opcode_str, %rcode_id, %rcode_str, %type_id, %type_str, %class_id, %class_str

AnyEvent's tables of names and numbers. The encoder side (C<dns_pack>, the C<$qtype>,
C<class> and C<accept> arguments of C<resolve>) consults C<%type_id> and C<%class_id>, so
names added there can be used. Decoding happens in Rust with the same built-in names: names
added to the C<_str> tables and decoders added to C<%AnyEvent::DNS::dec_rr> are not consulted
(records of types without a decoder come back with their raw rdata).

=item AnyEvent::DNS::DOMAIN_PORT

The DNS port, 53 (a constant, as the other two).

=item AnyEvent::DNS::MAX_PKT

The UDP payload size C<dns_pack> advertises in its EDNS0 record when C<$AnyEvent::DNS::EDNS0>
is set: 4096.

=item AnyEvent::DNS::DEFAULT_EDNS_PAYLOAD

The default of the resolver's C<edns0> option (the payload size advertised in its own
queries): 1232.

=back

=head1 THE AnyEvent::DNS RESOLVER CLASS

=over 4

=item $resolver = AnyEvent::DNS::resolver

The shared resolver, created on first use and kept in C<$AnyEvent::DNS::RESOLVER>. It reads
the file named by C<$ENV{PERL_ANYEVENT_RESOLV_CONF}> if set, else F</etc/resolv.conf> (see
C<os_config>). C<max_outstanding> is C<$ENV{PERL_ANYEVENT_MAX_OUTSTANDING_DNS}> or 10; the
cache is on unless C<$ENV{PERL_ANYEVENT_DNS_CACHE}> is set to a false value.

=item $AnyEvent::DNS::RESOLVER

The shared resolver, or undef before its first use. Store your own resolver (any object with a
C<resolve> method) here to have the convenience functions use it.

=item $resolver = AnyEvent::DNS->new(key => value, ...)

Creates a resolver. Options:

=over 4

=item server => [...]

The name servers, tried in order. Each is an IPv4 or IPv6 address in AnyEvent's packed form
(4 or 16 bytes, as C<AnyEvent::Socket::parse_address> returns; port 53), or - an extension,
so that a server can listen on another port - text: C<"192.0.2.1">, C<"192.0.2.1:5353">,
C<"::1">, C<"[::1]:5353">, or an array reference C<[$ip, $port]>. Default: 127.0.0.1 port 53.
Duplicates are dropped. An address that is none of these croaks.

=item timeout => [$seconds, ...]

The timeout of each round of tries; every round asks every server in turn. Default
C<[2, 5, 5]>. Timeouts must be positive numbers (fractions allowed), else the call croaks.

=item search => [$suffix, ...]

Suffixes appended to names (see C<resolve>). Default: none.

=item ndots => $n

A name with at least this many dots is tried as it is before the search list, else after it.
Default 1.

=item max_outstanding => $n

At most this many queries are on the wire at once; more wait in a queue. Default 10.

=item reuse => $seconds

How long the id of a timed-out query stays unused. Default 300.

=item edns0 => $bytes

Extension: the EDNS0 payload size advertised in the resolver's queries. Default 1232 (the
size that fits any usual path without fragmentation, recommended since DNS flag day 2020);
0 sends plain queries (answers then truncate at 512 bytes). Answers that come back truncated
are fetched again over TCP; a server answering FORMERR to the OPT record is asked again
without it.

=item cache => $bool

Extension: keep answers (default on; see L</CACHE>). 0 turns the cache off.

=item untaint => $bool

Accepted for compatibility; results are never tainted.

=back

=item $resolver->parse_resolv_conf($text)

Configures the resolver from resolv.conf text: C<nameserver> (IPv4 or IPv6; as an extension
also C<ip:port> and C<[ipv6]:port>), C<domain> and C<search> (the search list),
C<options> C<ndots:N>, C<timeout:N> and C<attempts:N> (the timeout list becomes N copies of
the timeout). C<#> and C<;> start comments; anything else is ignored. The server and search
lists start empty; invalid nameserver lines are logged (AE::log level 5) and skipped. Port 53
servers are stored packed in C<< $resolver->{server} >>, others as C<ip:port> text.

=item $resolver->os_config

Reads F</etc/resolv.conf> with C<parse_resolv_conf> (the server list stays empty - hence
127.0.0.1 - when the file does not exist). The file is read synchronously: it is small and
local.

=item $resolver->timeout($seconds, ...)

Sets the timeouts (a list, not an array reference).

=item $resolver->max_outstanding($n)

Sets C<max_outstanding>.

=item $resolver->resolve($qname, $qtype, %options, $cb->(@rrs))

Looks up C<$qname>. C<$qtype> is a type name in lower case (C<a>, C<aaaa>, C<mx>, C<txt>,
C<srv>, C<ptr>, C<*> for ANY ... as in C<%type_id>) or a number. The callback gets the
matching records, or an empty list on any failure. Each record is an array reference:

    [$name, $type, $class, $ttl, @data]

with C<$type> and C<$class> as names (numbers when they have none) and C<$ttl> the remaining
seconds. C<@data> by type: C<a> the dotted quad; C<aaaa> the compressed IPv6 text; C<ns>,
C<cname>, C<ptr> a name; C<mx> preference and exchange; C<txt> and C<spf> all strings;
C<srv> priority, weight, port, target; C<soa> mname, rname, serial, refresh, retry, expire,
minimum; C<hinfo> cpu and os; C<naptr> order, preference, flags, service, regexp,
replacement; C<caa> flags, tag, value; C<wks> address, protocol, bitmap; any other type its
raw rdata. Names have no final dot.

The name is asked in lower case. CNAMEs are followed (at most 10 per name) unless C<cname>
is an accepted type; a name ending in a dot is tried as it is, otherwise with the search list
per C<ndots>, the first suffix giving records winning. Options:

=over 4

=item search => [$suffix, ...]

The suffixes to try instead of the configured search list (the empty suffix C<""> is the name
itself; an empty list tries nothing).

=item accept => [$type, ...]

The record types to return (default: C<$qtype> only; C<*> accepts all).

=item class => $class

C<in> (default), C<ch>, C<hs>, or a number.

=item hosts => $file

Extension: when DNS gives no records for an A or AAAA look-up, take the addresses from this
hosts file.

=back

Croaks for an unknown type or class, or a missing callback. An undefined or invalid name
calls back with nothing.

=item $resolver->request($req, $cb->($response))

Sends one DNS message (a hash as for C<dns_pack>, normally a question with C<< rd => 1 >>)
to the servers in turn, with the configured timeouts and the TCP fallback, and calls back with
the decoded answer (as C<dns_unpack> returns it, whatever its rcode) or with no arguments when
no server answered - or when a name in it cannot be encoded (then without asking). No search
list, no CNAME following, no cache. Croaks like C<dns_pack> otherwise, and for a request
without a question.

A subclass may override C<request> (C<AnyEvent::DNS::EtcHosts> on CPAN answers from the hosts
file there): C<resolve> (and so C<a>, C<aaaa>, C<resolve_sockaddr> ...) on an object of such a
class then makes every query through C<< $self->request >>, as AnyEvent 7.17's C<resolve> does:
one request per name of the search list until one has records of the accepted types, CNAME
chains followed by asking for their targets (at most 10 steps). The request hash is C<< { rd =>
1, qd => [[$name, $qtype, $class]] } >> with C<$qtype> as given to C<resolve> and C<$class>
C<in> unless given; the response is read like C<dns_unpack>'s. The cache and the C<hosts>
option of C<resolve> are not used on that path; C<< $self->SUPER::request >> reaches the servers.

=item $resolver->wait_for_slot($cb->($resolver))

Calls the callback as soon as a request would be sent at once rather than queued (at once, if
that is now). The callback may start requests or not.

=item $resolver->cache($bool)

Extension: turns the answer cache on or off (off also empties it).

=item $resolver->clear_cache

Extension: forgets all cached answers.

=item $n = $resolver->dropped

Extension: the number of datagrams dropped so far because they matched no query in flight
(wrong id, question, source address or port, socket) or did not parse.

=item $hashref = $resolver->stats

Extension: counters - C<dropped>, C<outstanding> (queries on the wire), C<queued> (waiting
for a slot), C<cached> (answers in the cache), C<tcp> (truncated answers fetched over TCP),
C<has_slot> (whether a request would go out at once).

=back

=head1 ERRORS THAT CROAK

Nothing a server sends and no name - passed by the caller or decoded from an answer - makes
the resolver croak. What croaks, at the call, are programmer errors:

    new, timeout            server, timeout or search not an array reference; a server
                            that is no IP address; a timeout that is not a positive number
    resolve                 a missing callback; an unknown type or class (also in accept);
                            accept or search not an array reference
    request                 a missing callback; what dns_pack croaks for, except names; a
                            request without a question
    dns_pack                not a hash reference; records in an, ns or ar; an unknown
                            opcode, rcode, type or class; a name it cannot encode

=head1 CACHE

Beyond AnyEvent: answers to C<resolve>'s questions are kept, keyed by name (without case),
type and class. A positive answer is kept for the smallest TTL among its records, a negative
one (NXDOMAIN, or no records of the type) for the TTL of the SOA record in it, capped by the
SOA's minimum field (RFC 2308). Answers with TTL 0, negative answers without SOA, truncated
answers and other errors are not kept; nothing is kept longer than a day, and the cache holds
at most 10000 answers. Records from the cache carry their remaining TTL. C<request> never uses
the cache. Turn it off with C<< cache => 0 >>, C<< $resolver->cache(0) >>, or (for the shared
resolver) C<PERL_ANYEVENT_DNS_CACHE=0>.

=head1 ENVIRONMENT

C<PERL_ANYEVENT_RESOLV_CONF> (resolv.conf file of the shared resolver),
C<PERL_ANYEVENT_MAX_OUTSTANDING_DNS>,
C<PERL_ANYEVENT_EDNS0> (C<$EDNS0>), C<PERL_ANYEVENT_DNS_CACHE> (0 turns the shared resolver's
cache off).

=head1 DIFFERENCES FROM AnyEvent 7.17

The resolver advertises EDNS0 (1232 bytes) by default; AnyEvent sends plain queries unless
C<PERL_ANYEVENT_EDNS0> is set. Answers are
cached. Queries leave from random source ports, and answers must match the question and the
server's port as well as the id. A numeric C<$qtype> matches records of that type (AnyEvent
compares it with type names and finds nothing). Without a configured server the default is
127.0.0.1 only: no public fallback servers are added. resolv.conf is read synchronously. Invalid
names find nothing at once (AnyEvent 7.17 sends a malformed query and waits for the answer or
the timeouts); C<dns_pack> croaks for them. C<::1> and C<::> reverse-map as IPv6 (AnyEvent takes
them for v4-compatible addresses). C<%dec_rr> and the C<_str> tables are not consulted
by the decoder.

=head1 FORK

After C<fork>, the child's event loop starts its resolvers over (at its next iteration, or at
the child's first call on a resolver, whichever comes first): they keep their configuration
but close the parent's sockets and open new ones, so parent and child never read each other's
answers, and their answer caches start empty. Requests the parent had in flight at the time of
the fork are not answered in the child (they still are in the parent); their callbacks are
released there without being called.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Socket> (C<resolve_sockaddr> builds on this module).

=cut
