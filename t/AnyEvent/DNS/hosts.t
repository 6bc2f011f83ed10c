# The hosts file (PERL_ANYEVENT_HOSTS): a and aaaa fall back to it when DNS has no address,
# as AnyEvent's resolve_sockaddr does; DNS answers take precedence.
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

is_deeply got(\&AnyEvent::DNS::a, 'onlyhosts.test'), ['10.7.7.7'], 'a: a name DNS does not know comes from the hosts file';
is_deeply got(\&AnyEvent::DNS::a, 'ALIAS.test'), ['10.7.7.7'], '... aliases too, without regard to case';
is_deeply got(\&AnyEvent::DNS::aaaa, 'onlyhosts.test'), ['fd00::7'], 'aaaa from the hosts file';
is_deeply got(\&AnyEvent::DNS::a, 'www.test'), ['10.1.1.1'], 'DNS answers take precedence over the hosts file';
is_deeply got(\&AnyEvent::DNS::a, 'nowhere.test'), [], 'in neither: empty list';
is_deeply got(\&AnyEvent::DNS::a, 'dotted.test.'), ['10.9.9.9'], 'a name listed with a final dot, looked up with one';
is_deeply got(\&AnyEvent::DNS::a, 'dotted.test'), ['10.9.9.9'], '... and without';
is_deeply got(\&AnyEvent::DNS::a, 'short.test'), ['127.0.0.1'],
    'addresses read as AnyEvent::Socket reads them (one parser for both)';

my $cv = AE::cv;
AnyEvent::DNS::resolver()->resolve('onlyhosts.test', 'a', sub { $cv->send(@_) });
is_deeply [$cv->recv], [], 'resolve itself does not read the hosts file';
$cv = AE::cv;
AnyEvent::DNS::resolver()->resolve('onlyhosts.test', 'a', hosts => "$dir/hosts", sub { $cv->send(@_) });
is_deeply [$cv->recv], [['onlyhosts.test', 'a', 'in', 0, '10.7.7.7']], '... unless given one (hosts option)';

write_hosts("10.7.7.8 onlyhosts.test\n", time);
is_deeply got(\&AnyEvent::DNS::a, 'onlyhosts.test'), ['10.7.7.8'], 'a changed hosts file is read again';

$ENV{PERL_ANYEVENT_HOSTS} = "$dir/missing";
is_deeply got(\&AnyEvent::DNS::a, 'onlyhosts.test'), [], 'a missing hosts file: nothing from it';

done_testing;
