# idle watchers run only when nothing else is pending; postpone runs after the current callback.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);

watchdog(20);

subtest 'idle runs repeatedly when nothing else happens' => sub {
    my $calls = 0;
    my $cv = AE::cv;
    my $idle = AnyEvent->idle(cb => sub { $cv->send if ++$calls == 3 });
    is $calls, 0, 'not called synchronously';
    recv_within($cv, 2, 'idle');
    is $calls, 3, 'called at each idle iteration';
    undef $idle;
    my $done = AE::cv;
    my $t = AE::timer 0.03, 0, sub { $done->send };
    $done->recv;
    is $calls, 3, 'not called after undef';
};

subtest 'idle waits while io is ready' => sub {
    socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die;
    syswrite $y, "data";
    my @seq;
    my $cv = AE::cv;
    my $io;
    $io = AE::io $x, 0, sub {
        push @seq, 'io';
        return if @seq < 4;
        sysread $x, my $buf, 100;    # drained: the fd is no longer ready
    };
    my $idle = AE::idle sub { push @seq, 'idle'; $cv->send };
    recv_within($cv, 2, 'idle after io');
    is "@seq", 'io io io io idle', 'idle ran only once the fd stopped being ready';
};

subtest 'idle does not run in an iteration with a due timer' => sub {
    my @seq;
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub { push @seq, 'timer' };
    my $idle = AE::idle sub { push @seq, 'idle'; $cv->send };
    recv_within($cv, 2, 'idle');
    is "@seq", 'timer idle', 'the due timer ran alone, idle in the following iteration';
};

subtest 'postpone runs after the current callback, at the next iteration' => sub {
    my @seq;
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub {
        AnyEvent::postpone { push @seq, 'postponed 1' };
        AE::postpone { push @seq, 'postponed 2'; $cv->send };
        push @seq, 'callback end';
    };
    recv_within($cv, 2, 'postponed');
    is_deeply \@seq, ['callback end', 'postponed 1', 'postponed 2'], 'postponed blocks ran after the callback, in order';

    my $ran = 0;
    AE::postpone { $ran++ };
    is $ran, 0, 'postpone outside a callback does not run synchronously';
    AnyEvent::Impl::Rust::one_event();
    is $ran, 1, 'it runs at the next iteration';

    my @order;
    my $done = AE::cv;
    my $idle = AE::idle sub { push @order, 'idle'; $done->send };
    AE::postpone { push @order, 'postponed' };
    recv_within($done, 2, 'idle');
    is $order[0], 'postponed', 'a postponed block counts as pending work: idle waits for it';
};

done_testing;
