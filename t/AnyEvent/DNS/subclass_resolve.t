# A resolver subclass that overrides resolve and caches what the base class answers, as
# AnyEvent::CacheDNS (CPAN) does: it is made with ->new(untaint => 1), keeps its cache in its own
# hash ($self->{_cache}), calls SUPER::resolve($qname, $qtype, %opt, $cb), reads the TTL from
# $_[0][3] to expire entries, and is installed as $AnyEvent::DNS::RESOLVER. a, aaaa and
# resolve_sockaddr must go through its resolve; a and aaaa ask DNS only (as in 7.17), so a name
# only in the hosts file is cached as "no answer" and resolve_sockaddr still finds it there.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir recv_within write_file);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;
use AnyEvent::Socket;

watchdog(30);

{
    package My::CacheDNS;
    our @ISA = ('AnyEvent::DNS');
    our (@asked, $on_expire);
    sub resolve {
        my $cb = pop @_;
        my ($self, $qname, $qtype, %opt) = @_;
        my $cache = $self->{_cache}{$qtype} ||= {};
        if (exists $cache->{$qname}) {
            my $response = $cache->{$qname};
            $cb->($response ? ($response) : ());
            return;
        }
        push @asked, "$qtype $qname";
        $self->SUPER::resolve($qname, $qtype, %opt, sub {
            $cache->{$qname} ||= @_ ? $_[0] : undef;
            my $ttl = @_ ? int($_[0][3] || 0) : 0;
            if ($ttl > 0) {
                my $wt;
                $wt = AE::timer($ttl, 0, sub { undef $wt; delete $cache->{$qname}; $on_expire->($qname) if $on_expire });
            }
            $cb->(@_);
        });
    }
}

my $dns = AETest::Dnsmasq->start('--host-record=www.test,10.1.1.1', '--local-ttl=1');
my $dir = tempdir();
write_file("$dir/hosts", "10.7.7.7 onlyhosts.test\n");
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";

my $r = My::CacheDNS->new(untaint => 1, server => [$dns->server], timeout => [2]);
isa_ok $r, 'AnyEvent::DNS';
is ref $r, 'My::CacheDNS', 'new blesses into the subclass';
$AnyEvent::DNS::RESOLVER = $r;

sub a_of {
    my ($name) = @_;
    my $cv = AE::cv;
    AnyEvent::DNS::a($name, sub { $cv->send(@_) });
    [recv_within($cv, 10, "a $name")];
}

is_deeply a_of('www.test'), ['10.1.1.1'], 'a through the subclass';
is_deeply \@My::CacheDNS::asked, ['a www.test'], '... which asked the base class';
is_deeply a_of('www.test'), ['10.1.1.1'], 'again: from its cache';
is_deeply \@My::CacheDNS::asked, ['a www.test'], '... without asking again';
is $r->{_cache}{a}{'www.test'}[3], 1, 'the record carries its TTL at index 3';

is_deeply a_of('onlyhosts.test'), [], 'a: a name only in the hosts file is not found (DNS only)';
ok exists $r->{_cache}{a}{'onlyhosts.test'} && !defined $r->{_cache}{a}{'onlyhosts.test'},
    '... and cached as no answer';

my $cv = AE::cv;
AnyEvent::Socket::resolve_sockaddr('onlyhosts.test', 80, 'tcp', 4, undef, sub { $cv->send(@_) });
my @targets = recv_within($cv, 10, 'resolve_sockaddr');
is_deeply [map { format_address((AnyEvent::Socket::unpack_sockaddr($_->[3]))[1]) } @targets], ['10.7.7.7'],
    'resolve_sockaddr falls back to the hosts file';

# the TTL timer empties the cache entry: wait for it, then the next look-up asks again
$cv = AE::cv;
$My::CacheDNS::on_expire = sub { $cv->send if $_[0] eq 'www.test' };
recv_within($cv, 10, 'the cache entry to expire');
ok !exists $r->{_cache}{a}{'www.test'}, 'the TTL timer removed the entry';
is_deeply a_of('www.test'), ['10.1.1.1'], 'after the TTL: answered again';
is scalar(grep $_ eq 'a www.test', @My::CacheDNS::asked), 2, '... by asking the base class again';

done_testing;
