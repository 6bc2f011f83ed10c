# AnyEvent inside an IO::Async loop: AnyEvent::Impl::IOAsync (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('IO::Async::Loop') }
use IO::Async::Loop;
use AETest::Loops;
use AnyEvent;

AETest::Loops::watchdog(150);

my $loop = IO::Async::Loop->new;
AnyEvent::Impl::IOAsync::set_loop($loop) if AnyEvent::detect() eq 'AnyEvent::Impl::IOAsync';
ok !eval { AnyEvent::Impl::IOAsync::set_loop('nope'); 1 }, 'set_loop croaks for a non-loop';
like $@, qr/loop must be an IO::Async::Loop/, 'naming the argument';

AETest::Loops::check(
    model  => 'IOAsync',
    module => 'IO::Async::Loop',
    run    => sub { $loop->run },
    quit   => sub { $loop->stop },
    timer  => sub {
        my ($secs, $cb) = @_;
        my ($id, $tick);
        $tick = sub { $id = $loop->watch_time(after => $secs, code => $tick); $cb->() };
        $id = $loop->watch_time(after => $secs, code => $tick);
        return AETest::Loops::Guard->new(sub { $loop->unwatch_time($id); undef $tick });
    },
    child  => sub {
        my ($pid, $cb) = @_;
        $loop->watch_process($pid, sub { $cb->(@_) });
        return AETest::Loops::Guard->new(sub { });
    },
);

done_testing;
