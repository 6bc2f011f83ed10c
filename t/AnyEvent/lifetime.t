# Watcher lifetime: a watcher holds its callback (and what the callback closes over) exactly as
# long as it lives; nothing is kept after destruction, after a postponed block ran, or after a
# watcher creation failed.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;

watchdog(20);

package Tracker {
    my %alive;
    sub new     { my ($class, $name) = @_; $alive{$name} = 1; bless { name => $name }, $class }
    sub DESTROY { delete $alive{ $_[0]{name} } }
    sub alive   { exists $alive{ $_[1] } }
}

pipe(my $r, my $w) or die;

my %make = (
    io     => sub { my $cb = shift; AE::io $r, 0, $cb },
    timer  => sub { my $cb = shift; AE::timer 100, 0, $cb },
    signal => sub { my $cb = shift; AE::signal USR1 => $cb },
    child  => sub { my $cb = shift; AE::child 0, $cb },
    idle   => sub { my $cb = shift; AE::idle $cb },
);

for my $kind (sort keys %make) {
    subtest "$kind watcher: the callback lives as long as the watcher" => sub {
        my $watcher;
        {
            my $guard = Tracker->new($kind);
            $watcher = $make{$kind}->(sub { my $g = $guard });
        }
        ok(Tracker->alive($kind), 'the watcher keeps its callback alive');
        undef $watcher;
        ok(!Tracker->alive($kind), 'destroying the watcher frees the callback');
    };
}

subtest 'a watcher referenced only from its callback is freed by undef in the callback' => sub {
    my $cv = AE::cv;
    {
        my $guard = Tracker->new('self');
        my $w;
        $w = AE::timer 0, 0.001, sub { my $g = $guard; undef $w; $cv->send };
    }
    ok(Tracker->alive('self'), 'alive while it holds itself');
    recv_within($cv, 2, 'timer');
    ok(!Tracker->alive('self'), 'freed once it undef-ed itself');
};

subtest 'postponed blocks are freed after they ran' => sub {
    my $ran = 0;
    {
        my $guard = Tracker->new('postponed');
        AE::postpone { my $g = $guard; $ran++ };
    }
    ok(Tracker->alive('postponed'), 'held until it runs');
    AnyEvent::Impl::Rust::one_event();
    is $ran, 1, 'ran';
    ok(!Tracker->alive('postponed'), 'freed after running');
};

subtest 'a failed watcher creation keeps nothing' => sub {
    my %bad = (
        'io on a string'        => sub { AE::io 'foo', 0, $_[0] },
        'signal unknown'        => sub { AE::signal NOSUCHSIG => $_[0] },
        'signal uncatchable'    => sub { AE::signal KILL => $_[0] },
        'timer bad interval'    => sub { AE::timer 0, -1, $_[0] },
        'child bad pid'         => sub { AE::child -1, $_[0] },
    );
    for my $case (sort keys %bad) {
        {
            my $guard = Tracker->new($case);
            my $cb = sub { my $g = $guard };
            ok !eval { my $w = $bad{$case}->($cb); 1 }, "$case: croaks";
        }
        ok(!Tracker->alive($case), "$case: the callback was not kept");
    }
};

subtest 'a callback may destroy its own watcher and still finish' => sub {
    my $cv = AE::cv;
    my $w;
    $w = AE::timer 0, 0, sub {
        undef $w;               # frees the watcher while its callback runs
        my @work = map { $_ * 2 } 1 .. 100;
        $cv->send(scalar @work);
    };
    is recv_within($cv, 2, 'timer'), 100, 'the callback ran to its end';
};

done_testing;
