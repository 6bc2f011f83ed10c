# AnyEvent::IO with IO::AIO: the shared cases (t/lib/AETest/IOCases.pm). AnyEvent::AIO is not
# installed here (its Debian package depends on AnyEvent 7.17 itself): the test provides what it
# does, IO::AIO's result descriptor watched by an AnyEvent io watcher.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);

BEGIN {
    unless (eval { require IO::AIO; IO::AIO->VERSION(4.13); 1 }) {
        BAIL_OUT("IO::AIO 4.13 is required (AE_TEST_PEERS=required)") if ($ENV{AE_TEST_PEERS} // '') eq 'required';
        plan skip_all => 'IO::AIO 4.13 or newer is not installed';
    }
    require AnyEvent;
    package AnyEvent::AIO;
    our $WATCHER = AE::io(IO::AIO::poll_fileno(), 0, \&IO::AIO::poll_cb);
    $INC{'AnyEvent/AIO.pm'} = __FILE__;
}
use AnyEvent::IO;
use AETest::IOCases;

watchdog(120);
is($AnyEvent::IO::MODEL, 'AnyEvent::IO::IOAIO', 'model: chosen because IO::AIO and AnyEvent::AIO are loaded');
AETest::IOCases::run();

done_testing;
