# AnyEvent::Socket's hosts file helpers with AnyEvent 7.17's names, prototypes and arguments,
# which CPAN modules call or replace (AnyEvent::DNS::EtcHosts): %HOSTS, _parse_hosts,
# _load_hosts_unless (asynchronous, through AnyEvent::IO; one check shared by concurrent
# callers; the file read again when it changes), and resolve_sockaddr calling it by name.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir recv_within write_file);
use AnyEvent;
use AnyEvent::Socket;

watchdog(30);
my $dir = tempdir();

is(prototype('AnyEvent::Socket::_parse_hosts'), '$', '_parse_hosts($)');
is(prototype('AnyEvent::Socket::_load_hosts_unless'), '&$@', '_load_hosts_unless(&$@)');

# _parse_hosts
AnyEvent::Socket::_parse_hosts(<<'HOSTS');
# comment
10.0.0.1  One.test one  # trailing comment
	10.0.0.2 two.test
fd00::1   one.test
10.0.0.3  dotted.test.
no-address-line
not-an-address some.test
HOSTS
is_deeply(\%AnyEvent::Socket::HOSTS, {
    'one.test'    => [[parse_ipv4('10.0.0.1')], [parse_ipv6('fd00::1')]],
    'one'         => [[parse_ipv4('10.0.0.1')]],
    'two.test'    => [[parse_ipv4('10.0.0.2')]],
    'dotted.test' => [[parse_ipv4('10.0.0.3')]],
}, '_parse_hosts fills %HOSTS: names lower-cased, [IPv4 list, IPv6 list] in binary form');
AnyEvent::Socket::_parse_hosts("127.1 short.test\n0x7f.0.0.2 hex.test\n::ffff:10.1 mapped.test\n");
is_deeply(\%AnyEvent::Socket::HOSTS, {
    'short.test'  => [[parse_ipv4('127.0.0.1')]],
    'hex.test'    => [[parse_ipv4('127.0.0.2')]],
    'mapped.test' => [undef, [parse_ipv6('::ffff:10.0.0.1')]],
}, '... addresses in every form parse_ipv4 and parse_ipv6 take');
AnyEvent::Socket::_parse_hosts('');
is_deeply(\%AnyEvent::Socket::HOSTS, {}, '... and empties it first');

sub write_hosts { write_file("$dir/hosts", @_) }
write_hosts("10.1.1.1 a.test\n", time - 100);
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";

# Calls _load_hosts_unless with @dns; returns whether the continuation ran and what %HOSTS had
# for a.test then.
sub load_unless {
    my (@dns) = @_;
    my $cv = AE::cv;
    my $ran;
    $cv->begin(sub { $cv->send });
    AnyEvent::Socket::_load_hosts_unless(sub { $ran = [map { format_address($_) } @{ ($AnyEvent::Socket::HOSTS{'a.test'} || [[]])->[0] }] }, $cv, @dns);
    recv_within($cv, 10, '_load_hosts_unless');
    return $ran;
}

is_deeply(load_unless(), ['10.1.1.1'], '_load_hosts_unless without DNS results: reads the file, runs the continuation');
is(load_unless('10.9.9.9'), undef, '... with DNS results: only ends the condvar');
write_hosts("10.1.1.2 a.test\n", time - 50);
is_deeply(load_unless(), ['10.1.1.2'], '... the file is read again when it changed');
%AnyEvent::Socket::HOSTS = ();
is_deeply(load_unless(), [], '... and not when it did not (its mtime is the same)');
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/missing";
is_deeply(load_unless(), [], 'a missing hosts file: no names, the continuation still runs');
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";

# concurrent callers share one check
{
    write_hosts("10.1.1.3 a.test\n", time - 20);
    my $cv = AE::cv;
    my @ran;
    $cv->begin(sub { $cv->send });
    for my $i (1 .. 5) {
        $cv->begin;
        AnyEvent::Socket::_load_hosts_unless(sub {
            push @ran, [$i, scalar @AnyEvent::Socket::HOSTS_CHECKING, format_address($AnyEvent::Socket::HOSTS{'a.test'}[0][0])];
        }, $cv);
    }
    is(scalar @AnyEvent::Socket::HOSTS_CHECKING, 5, 'five concurrent callers wait for one check');
    $cv->end;
    recv_within($cv, 10, 'concurrent checks');
    is_deeply([map { $_->[0] } @ran], [1 .. 5], '... their continuations run in order');
    is_deeply([map { $_->[2] } @ran], [('10.1.1.3') x 5], '... all after the file was read');
}

# resolve_sockaddr calls it by name: a replacement (as AnyEvent::DNS::EtcHosts installs one)
# is what runs
{
    write_hosts("10.1.1.4 b.test\n", time - 10);
    sub resolve {
        my ($name) = @_;
        my $cv = AE::cv;
        AnyEvent::Socket::resolve_sockaddr($name, 80, 'tcp', 4, undef, sub { $cv->send(map { format_address((AnyEvent::Socket::unpack_sockaddr($_->[3]))[1]) } @_) });
        return [recv_within($cv, 10, 'resolve_sockaddr')];
    }
    # DNS knows nothing: a resolver whose request (see t/AnyEvent/DNS/subclass.t) finds nothing
    require AnyEvent::DNS;
    @NoDNS::ISA = ('AnyEvent::DNS');
    sub NoDNS::request { my ($self, $req, $cb) = @_; $cb->() }
    no warnings "once";
    local $AnyEvent::DNS::RESOLVER = NoDNS->new(server => ["127.0.0.1"]);
    is_deeply(resolve('b.test'), ['10.1.1.4'], 'resolve_sockaddr falls back to the hosts file');
    my $called = 0;
    {
        no warnings 'redefine';
        my $orig = \&AnyEvent::Socket::_load_hosts_unless;
        local *AnyEvent::Socket::_load_hosts_unless = sub (&$@) { my ($cont, $cv) = @_; $called++; $cv->end };
        is_deeply(resolve('b.test'), [], 'with _load_hosts_unless replaced by one that skips the hosts file: nothing');
    }
    ok($called, '... the replacement was called');
    is_deeply(resolve('b.test'), ['10.1.1.4'], 'restored: the hosts file again');
}

done_testing;
