# AnyEvent::IO with its default backend, the Rust worker pool: the shared cases
# (t/lib/AETest/IOCases.pm); what only this backend promises (the loop keeps running while file
# I/O is slow or stuck, fork, a dying callback, the program's end) is in pool.t.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
BEGIN { delete $ENV{PERL_ANYEVENT_IO_MODEL} }
use AnyEvent::IO;
use AETest::IOCases;

watchdog(120);
is($AnyEvent::IO::MODEL, 'AnyEvent::IO::Rust', 'model: the default');
AETest::IOCases::run();

# callbacks are called from the loop, after the function returned
my $called = 0;
my $cv = AE::cv;
aio_stat('/', sub { $called = 1; $cv->send });
ok(!$called, 'the callback is not called before aio_stat returns');
$cv->recv;
ok($called, '... but from the loop');

done_testing;
