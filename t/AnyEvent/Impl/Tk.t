# AnyEvent inside Tk's main loop under Xvfb: AnyEvent::Impl::Tk (see AETest::Loops).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
use AETest::Xvfb;
BEGIN { need_module('Tk') }
my $x;
BEGIN { $x = AETest::Xvfb->start }
use Tk;
use POSIX ();
use AETest::Loops;

AETest::Loops::watchdog(150);

# MainLoop runs while a main window exists: each run gets a window of its own, quit destroys it
# (our withdrawn window is destroyed too, and re-created... not: so MainLoop is emulated with
# the same DoOneEvent loop it runs, ending on a flag).
my $quit;
AETest::Loops::check(
    model  => 'Tk',
    module => 'Tk',
    run    => sub { $quit = 0; Tk::DoOneEvent(0) until $quit },
    quit   => sub { $quit = 1 },
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = $AnyEvent::Impl::Tk::mw->repeat(int($secs * 1000) || 1, $cb);
        return AETest::Loops::Guard->new(sub { $id->cancel });
    },
);

subtest 'Tk::MainLoop itself' => sub {
    my $top = MainWindow->new;
    my $fired = 0;
    my $t = AE::timer 0.01, 0, sub { $fired++; $top->destroy; $AnyEvent::Impl::Tk::mw->destroy };
    MainLoop;
    is $fired, 1, 'MainLoop ran our timer (which ended it by destroying the windows)';
};

done_testing;
# Tk still holds its X connection at global destruction, when the Xvfb object stops the server:
# leave without it (Test::More's output is complete), after stopping the servers this test
# started (END blocks and destructors do not run after _exit; Tk makes no X call in between).
AETest::Dnsmasq::stop_all();
$x->stop;
POSIX::_exit(Test::More->builder->is_passing ? 0 : 1);
