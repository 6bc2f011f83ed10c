# A forked child resolves with its own sockets: the parent's are not shared with it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(30);

my $dns = AETest::Dnsmasq->start('--local-ttl=0', '--host-record=forked.test,10.7.7.7');
my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [2], cache => 0);

my $cv = AE::cv;
$r->resolve('forked.test', 'a', sub { $cv->send(map $_->[4], @_) });
is recv_within($cv, 5, 'the parent answer'), '10.7.7.7', 'the parent resolves before the fork';
my %parent_sockets = map { $_ => 1 } _watched_sockets($r);
ok %parent_sockets, 'the parent has its resolver sockets';

pipe my $from_child, my $to_parent or die "pipe: $!";
my $pid = fork // die "fork: $!";
if (!$pid) {
    close $from_child;
    my $done = AE::cv;
    $r->resolve('forked.test', 'a', sub { $done->send(map $_->[4], @_) });
    my $t = AE::timer 5, 0, sub { $done->send('timeout') };
    my $answer = $done->recv;
    my $shared = grep { $parent_sockets{$_} } _watched_sockets($r);
    print $to_parent "$answer $shared\n";
    close $to_parent;
    require POSIX;
    POSIX::_exit(0);
}
close $to_parent;

# Meanwhile the parent keeps its resolver busy, so a shared socket would steal the child's answer.
my $busy = AE::cv;
$busy->begin for 1 .. 20;
$r->resolve('forked.test', 'a', sub { $busy->end }) for 1 .. 20;
recv_within($busy, 5, 'the parent answers');

my $line = <$from_child>;
waitpid $pid, 0;
my ($answer, $shared) = split ' ', $line // '';
is $answer, '10.7.7.7', 'the child gets its answer';
is $shared, 0, 'the child uses none of the sockets it inherited';

done_testing;

# The sockets ("socket:[inode]") behind the resolver's descriptors (as the loop, which owns
# the resolver, lists them).
sub _watched_sockets {
    my ($resolver) = @_;
    return grep { defined } map { readlink "/proc/self/fd/$_" } AnyEvent::DNS::_rs_sockets($resolver->{_rs});
}
