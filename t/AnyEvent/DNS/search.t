# Search domains and ndots, resolv.conf (PERL_ANYEVENT_RESOLV_CONF) and the shared resolver.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

my $dns = AETest::Dnsmasq->start(
    '--host-record=www.corp.test,10.3.3.3',
    '--host-record=db.test,10.4.4.4',
    '--host-record=db.test.corp.test,10.5.5.5',
    '--host-record=www.other.test,10.6.6.6',
);

sub addrs {
    my ($r, $name, @opt) = @_;
    my $cv = AE::cv;
    $r->resolve($name, 'a', @opt, sub { $cv->send(map $_->[4], @_) });
    [$cv->recv];
}

my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [2], search => ['corp.test', 'other.test']);
is_deeply addrs($r, 'www'), ['10.3.3.3'], 'a name with fewer dots than ndots gets the first matching suffix';
is_deeply addrs($r, 'db.test'), ['10.4.4.4'], 'a name with ndots dots is tried as it is first';
is_deeply addrs($r, 'www.'), [], 'a final dot: no search list';
is_deeply addrs($r, 'www', search => ['other.test']), ['10.6.6.6'], 'the search option replaces the list';
is_deeply addrs($r, 'www', search => []), [], 'an empty search option: nothing is asked';
is_deeply addrs($r, 'nothere'), [], 'no suffix matches: empty list';

my $r2 = AnyEvent::DNS->new(server => [$dns->server], timeout => [2], search => ['corp.test'], ndots => 2);
is_deeply addrs($r2, 'db.test'), ['10.5.5.5'], 'with ndots 2, the search list comes first for a one-dot name';

# resolv.conf: parse_resolv_conf, and the file named by PERL_ANYEVENT_RESOLV_CONF.
my $conf = "; comment\nnameserver " . $dns->server . "\nnameserver 10.255.255.254 # not ours\n"
    . "search corp.test other.test\noptions ndots:2 timeout:1 attempts:3 rotate\n";
my $p = AnyEvent::DNS->new;
$p->parse_resolv_conf($conf);
is_deeply $p->{search}, ['corp.test', 'other.test'], 'parse_resolv_conf: search';
is $p->{ndots}, 2, '... ndots';
is_deeply $p->{timeout}, [1, 1, 1], '... timeout repeated attempts times';
is_deeply $p->{server}, [$dns->server, Socket::inet_aton('10.255.255.254')],
    '... servers (port 53 ones packed, as AnyEvent keeps them)';
$p->parse_resolv_conf("domain only.test\n");
is_deeply $p->{search}, ['only.test'], 'domain sets the search list';
is_deeply $p->{server}, [], '... and a new parse starts with no servers';

my $dir = tempdir();
open my $fh, '>', "$dir/resolv.conf" or die $!;
print $fh "nameserver " . $dns->server . "\nsearch corp.test\noptions timeout:2\n";
close $fh;
{
    local $ENV{PERL_ANYEVENT_RESOLV_CONF} = "$dir/resolv.conf";
    local $AnyEvent::DNS::RESOLVER;
    my $shared = AnyEvent::DNS::resolver();
    is AnyEvent::DNS::resolver(), $shared, 'resolver: one shared resolver';
    is_deeply $shared->{server}, [$dns->server], 'resolver reads PERL_ANYEVENT_RESOLV_CONF';
    my $cv = AE::cv;
    AnyEvent::DNS::a('www', sub { $cv->send(@_) });
    is_deeply [$cv->recv], ['10.3.3.3'], 'AnyEvent::DNS::a uses its search list';
    is $shared->{max_outstanding}, 10, 'max_outstanding defaults to 10';
}
{
    local $ENV{PERL_ANYEVENT_RESOLV_CONF} = "$dir/resolv.conf";
    local $ENV{PERL_ANYEVENT_MAX_OUTSTANDING_DNS} = 3;
    local $AnyEvent::DNS::RESOLVER;
    is AnyEvent::DNS::resolver()->{max_outstanding}, 3, 'PERL_ANYEVENT_MAX_OUTSTANDING_DNS';
}

done_testing;
