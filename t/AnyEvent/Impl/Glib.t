# AnyEvent inside GLib's main loop: AnyEvent::Impl::Glib (see AETest::Loops for what is checked).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('Glib') }
use Glib;
use AETest::Loops;

AETest::Loops::watchdog(120);

my $main = Glib::MainLoop->new;
AETest::Loops::check(
    model  => 'Glib',
    module => 'Glib',
    run    => sub { $main->run },
    quit   => sub { $main->quit },
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = Glib::Timeout->add($secs * 1000, sub { $cb->(); 1 });
        return AETest::Loops::Guard->new(sub { Glib::Source->remove($id) });
    },
    child  => sub {
        my ($pid, $cb) = @_;
        my $live = 1;
        my $id = Glib::Child->watch_add($pid, sub { $live = 0; $cb->($_[0], $_[1]) });
        return AETest::Loops::Guard->new(sub { Glib::Source->remove($id) if $live });
    },
);

done_testing;
