# AnyEvent::IO with its synchronous Perl backend: the shared cases (t/lib/AETest/IOCases.pm).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
BEGIN { $ENV{PERL_ANYEVENT_IO_MODEL} = 'Perl' }
use AnyEvent::IO;
use AETest::IOCases;

watchdog(120);
is($AnyEvent::IO::MODEL, 'AnyEvent::IO::Perl', 'model');
AETest::IOCases::run();

# this backend calls the callback before the function returns
my $called = 0;
aio_stat('/', sub { $called = 1 });
ok($called, 'the callback is called before aio_stat returns');

done_testing;
