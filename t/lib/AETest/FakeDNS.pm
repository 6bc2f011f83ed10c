package AETest::FakeDNS;

# A DNS server played by the test itself: a UDP socket on 127.0.0.1 whose queries go to a
# handler the test gives, with helpers that turn a query into an answer. For the cases a real
# server cannot produce on demand (spoofed answers, exact timing, counted queries).

use strict;
use warnings;
use Socket qw(AF_INET SOCK_DGRAM inet_aton pack_sockaddr_in unpack_sockaddr_in);
use AnyEvent;

# AETest::FakeDNS->new(sub { my ($server, $query, $peer) = @_; ... })
sub new {
    my ($class, $handler) = @_;
    my $self = bless { queries => [] }, $class;
    $self->{sock} = udp_socket();
    $self->{port} = (unpack_sockaddr_in(getsockname $self->{sock}))[0];
    $self->{w} = AE::io($self->{sock}, 0, sub {
        my $peer = recv $self->{sock}, my $query, 4096, 0 or return;
        push @{ $self->{queries} }, [$query, $peer];
        $handler->($self, $query, $peer) if $handler;
    });
    $self;
}

sub udp_socket {
    socket my $s, AF_INET, SOCK_DGRAM, 0 or die "socket: $!";
    bind $s, pack_sockaddr_in(0, inet_aton('127.0.0.1')) or die "bind: $!";
    $s;
}

sub server  { "127.0.0.1:$_[0]{port}" }
sub queries { @{ $_[0]{queries} } }
sub send_to { my ($self, $pkt, $peer) = @_; send $self->{sock}, $pkt, 0, $peer }

# The id and the question section of a query.
sub parse_query {
    my ($query) = @_;
    my $id = unpack 'n', $query;
    my $end = 12;
    $end += 1 + unpack 'C', substr $query, $end, 1 while unpack('C', substr $query, $end, 1);
    ($id, substr($query, 12, $end + 1 + 4 - 12));
}

# The answer to $query with the given id (default: the query's), question (default: the
# query's) and A record addresses.
sub answer_a {
    my ($query, %opt) = @_;
    my ($id, $question) = parse_query($query);
    $id = $opt{id} // $id;
    $question = $opt{question} // $question;
    my @addrs = @{ $opt{addrs} || [] };
    my $rr = join '', map { pack('n n n N n', 0xc00c, 1, 1, $opt{ttl} // 60, 4) . inet_aton($_) } @addrs;
    pack('n n n n n n', $id, 0x8180 | ($opt{rcode} // 0), 1, scalar @addrs, 0, 0) . $question . $rr;
}

# NXDOMAIN with an SOA record (TTL $ttl, minimum $min) in the authority section.
sub nxdomain_soa {
    my ($query, $ttl, $min) = @_;
    my ($id, $question) = parse_query($query);
    my $soa_rdata = "\0\0" . pack('N5', 1, 3600, 600, 86400, $min);
    pack('n n n n n n', $id, 0x8183, 1, 0, 1, 0) . $question
        . pack('n n n N n', 0xc00c, 6, 1, $ttl, length $soa_rdata) . $soa_rdata;
}

# The answer to $query with records [$type, $rdata] for the question's name (TTL 60).
sub answer_records {
    my ($query, @records) = @_;
    my ($id, $question) = parse_query($query);
    pack('n n n n n n', $id, 0x8180, 1, scalar @records, 0, 0) . $question
        . join '', map { pack('n n n N n/a*', 0xc00c, $_->[0], 1, 60, $_->[1]) } @records;
}

# A name in wire form from its labels, taken as they are (so a label may contain dots).
sub wire_name { join('', map { pack 'C/a*', $_ } @_) . "\0" }

# The query type of a query.
sub query_type { unpack 'n', substr((parse_query($_[0]))[1], -4, 2) }

# A question section for another name or type.
sub question {
    my ($name, $type) = @_;
    join('', map { pack 'C/a*', $_ } split /\./, $name) . "\0" . pack('n n', $type, 1);
}

1;
