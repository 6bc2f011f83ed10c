# Many look-ups in flight at once, against a real dnsmasq: the same few names asked over and
# over (the resolver re-uses their encoded questions), A and AAAA mixed, more look-ups than
# max_outstanding (queries go out in batches, answers are read in batches). Every callback
# gets the records of its own name and type, once.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::DNS;

watchdog(60);

my $names = 11;    # (prime to 3: every name is asked for both types)
my $dns = AETest::Dnsmasq->start(
    '--local-ttl=0',
    map "--host-record=h$_.many.test,10.9.0.$_,fd00::9:$_", 1 .. $names,
);
my $r = AnyEvent::DNS->new(server => [$dns->server], timeout => [5], max_outstanding => 40, cache => 0);

my $lookups = 600;
my (%calls, @wrong);
my $cv = AE::cv;
for my $i (1 .. $lookups) {
    my $n = 1 + $i % $names;
    my $type = $i % 3 ? 'a' : 'aaaa';
    # every fifth asks in capitals: a name is a name whatever its case
    my $name = $i % 5 ? "h$n.many.test" : uc "h$n.many.test";
    my $want = $type eq 'a' ? "10.9.0.$n" : "fd00::9:$n";
    $cv->begin;
    $r->resolve($name, $type, sub {
        $calls{$i}++;
        push @wrong, "look-up $i ($name $type): " . join(' ', map "[@$_]", @_)
            unless @_ == 1 && lc $_[0][0] eq "h$n.many.test" && $_[0][1] eq $type && $_[0][4] eq $want;
        $cv->end;
    });
}
$cv->recv;
is scalar(keys %calls), $lookups, "each of the $lookups look-ups was called back";
is scalar(grep $_ != 1, values %calls), 0, '... once';
is_deeply [@wrong[0 .. ($#wrong < 4 ? $#wrong : 4)]], [], '... with the records of its own name and type';
is $r->stats->{dropped}, 0, 'no answer was dropped as not matching a query';

# The same resolver, after all that, still asks and matches single questions.
$cv = AE::cv;
$r->resolve("h3.many.test", 'aaaa', sub { $cv->send(map $_->[4], @_) });
is_deeply [$cv->recv], ['fd00::9:3'], 'a single look-up afterwards';

done_testing;
