# The hosts file and the resolver: a and aaaa do not read it (as in AnyEvent 7.17); resolve's
# hosts option (an extension) falls back to it when DNS has no address.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir write_file);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

my $dns = AETest::Dnsmasq->start('--host-record=www.test,10.1.1.1');
$AnyEvent::DNS::RESOLVER = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);

my $dir = tempdir();
sub write_hosts { write_file("$dir/hosts", @_) }
write_hosts("# test hosts\n10.7.7.7 onlyhosts.test Alias.Test\n10.8.8.8 www.test\nfd00::7 onlyhosts.test\n10.9.9.9 dotted.test.\n127.1 short.test\n", time - 100);
$ENV{PERL_ANYEVENT_HOSTS} = "$dir/hosts";

sub got {
    my ($f, @args) = @_;
    my $cv = AE::cv;
    $f->(@args, sub { $cv->send(@_) });
    [$cv->recv];
}

# As in AnyEvent 7.17, a and aaaa ask DNS only (AnyEvent::CacheDNS on CPAN caches what they
# give, and AnyEvent::DNS::a 'localhost' finds nothing when DNS does not know the name); the
# hosts file is AnyEvent::Socket's fallback (t/AnyEvent/Socket/hosts.t).
is_deeply got(\&AnyEvent::DNS::a, 'onlyhosts.test'), [], 'a: a name only in the hosts file is not found';
is_deeply got(\&AnyEvent::DNS::aaaa, 'onlyhosts.test'), [], '... nor by aaaa';
is_deeply got(\&AnyEvent::DNS::a, 'localhost'), [], '... nor localhost, when DNS does not know it';
is_deeply got(\&AnyEvent::DNS::a, 'www.test'), ['10.1.1.1'], 'names DNS knows are found';

my $cv = AE::cv;
AnyEvent::DNS::resolver()->resolve('onlyhosts.test', 'a', sub { $cv->send(@_) });
is_deeply [$cv->recv], [], 'resolve itself does not read the hosts file';

sub from_file {
    my ($name, $type) = @_;
    my $cv = AE::cv;
    AnyEvent::DNS::resolver()->resolve($name, $type // 'a', hosts => "$dir/hosts", sub { $cv->send(@_) });
    [map $_->[4], $cv->recv];
}
is_deeply [do { my $cv = AE::cv;
    AnyEvent::DNS::resolver()->resolve('onlyhosts.test', 'a', hosts => "$dir/hosts", sub { $cv->send(@_) });
    $cv->recv }], [['onlyhosts.test', 'a', 'in', 0, '10.7.7.7']], 'the hosts option (an extension) reads the file';
is_deeply from_file('ALIAS.test'), ['10.7.7.7'], '... aliases too, without regard to case';
is_deeply from_file('onlyhosts.test', 'aaaa'), ['fd00::7'], '... AAAA too';
is_deeply from_file('www.test'), ['10.1.1.1'], 'DNS answers take precedence over the hosts file';
is_deeply from_file('nowhere.test'), [], 'in neither: empty list';
is_deeply from_file('dotted.test.'), ['10.9.9.9'], 'a name listed with a final dot, looked up with one';
is_deeply from_file('dotted.test'), ['10.9.9.9'], '... and without';
is_deeply from_file('short.test'), ['127.0.0.1'], 'addresses read as AnyEvent::Socket reads them (one parser for both)';

write_hosts("10.7.7.8 onlyhosts.test\n", time);
is_deeply from_file('onlyhosts.test'), ['10.7.7.8'], 'a changed hosts file is read again';

done_testing;
