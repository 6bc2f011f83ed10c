# AnyEvent inside Mojo::IOLoop with Mojo::Reactor::Poll: AnyEvent::Impl::Mojo (see
# AETest::Loops). With Mojo::Reactor::EV, EV is loaded and the EV model runs (checked last).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { $ENV{MOJO_REACTOR} = 'Mojo::Reactor::Poll'; need_module('Mojo::IOLoop') }
use Mojo::IOLoop;
use AETest::Loops;

AETest::Loops::watchdog(150);

AETest::Loops::check(
    model  => 'Mojo',
    module => 'Mojo::IOLoop',
    run    => sub { Mojo::IOLoop->start },
    quit   => sub { Mojo::IOLoop->stop },
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = Mojo::IOLoop->recurring($secs => sub { $cb->() });
        return AETest::Loops::Guard->new(sub { Mojo::IOLoop->remove($id) });
    },
);

subtest 'Mojo::IOLoop->start returns when nothing of ours is left' => sub {
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++ };
    Mojo::IOLoop->start;
    is $fired, 1, 'it ran our timer, then returned on its own';
};

subtest 'with Mojo::Reactor::EV our watchers run inside EV' => sub {
    need_module('EV');
    my @inc = AETest::Loops::perl_inc();
    local $ENV{MOJO_REACTOR} = 'Mojo::Reactor::EV';
    my $out = qx{$^X @inc -MMojo::IOLoop -MAnyEvent -e "my \\\$n = 0; my \\\$t = AE::timer 0.01, 0, sub { \\\$n++; Mojo::IOLoop->stop }; Mojo::IOLoop->start; print ref(Mojo::IOLoop->singleton->reactor), ' ', \\\$AnyEvent::MODEL, ' ', \\\$n"};
    is $out, 'Mojo::Reactor::EV AnyEvent::Impl::EV 1', 'Mojo::IOLoop->start ran our timer inside EV';
};

done_testing;
