# fork_call: results through Storable from real child processes, errors, MAX_FORKS queueing.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AnyEvent;
use AnyEvent::Util;

watchdog(30);

my $cv = AE::cv;
fork_call { ($$, $_[0] * 2, [@_], { nested => [1, 2] }) } 21, 'x', sub { $cv->send([$@, @_]) };
my ($err, $child_pid, $double, $args, $hash) = @{ $cv->recv };
is $err, undef, '$@ undefined on success';
isnt $child_pid, $$, 'ran in another process';
is $double, 42, 'arguments passed';
is_deeply $args, [21, 'x'], 'all of them';
is_deeply $hash, { nested => [1, 2] }, 'structures come back through Storable';

$cv = AE::cv;
fork_call { die "failed in child\n" } sub { $cv->send([$@, scalar @_]) };
is_deeply $cv->recv, ["failed in child\n", 0], 'an exception: no arguments, $@ set';

$cv = AE::cv;
fork_call { POSIX::_exit(1) } sub { $cv->send([scalar @_, $@, $! + 0]) };
my $died = $cv->recv;
is $died->[0], 0, 'a child that exits without answering: no arguments';
ok defined $died->[1] || $died->[2], '... with $@ or $! telling why';
require POSIX;

$cv = AE::cv;
fork_call { 'x' x 1_000_000 } sub { $cv->send(length $_[0]) };
is $cv->recv, 1_000_000, 'a large result';

# MAX_FORKS limits the children running at once: each child reports how many siblings were
# alive while it ran (counting lock files), with a limit of 2.
{
    local $AnyEvent::Util::MAX_FORKS = 2;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $all = AE::cv;
    my @peak;
    for my $n (1 .. 6) {
        $all->begin;
        fork_call {
            open my $f, '>', "$dir/$$" or die;
            close $f;
            my $peak = 0;
            for (1 .. 20) {
                opendir my $d, $dir or die;
                my $running = grep { /^\d+$/ } readdir $d;
                $peak = $running if $running > $peak;
                select undef, undef, undef, 0.01; # stay alive a while, in the child
            }
            unlink "$dir/$$";
            $peak;
        } sub { push @peak, $_[0]; $all->end };
    }
    $all->recv;
    is scalar @peak, 6, 'all six jobs ran';
    cmp_ok((sort { $b <=> $a } @peak)[0], '<=', 2, 'never more than MAX_FORKS at once');
}
require File::Temp;

ok !eval { fork_call { 1 } 'not a callback'; 1 }, 'a missing callback croaks';
like $@, qr/last argument must be the result callback/, '... saying so';

$cv = AE::cv;
fork_call { 'to a condvar' } $cv;
is $cv->recv, 'to a condvar', 'a condvar as the callback';

is $AnyEvent::Util::MAX_FORKS, 10, 'default MAX_FORKS is 10';
my $env = `PERL_ANYEVENT_MAX_FORKS=3 $^X -Mblib -MAnyEvent::Util -e 'print \$AnyEvent::Util::MAX_FORKS'`;
is $env, 3, 'PERL_ANYEVENT_MAX_FORKS sets it';

done_testing;
