# The tutorial's Gtk example ported to Gtk3 (eg/gtk3.pl) under Xvfb: a label set from a line
# written to a pipe while Gtk3::main runs, then Gtk3::main_quit.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
use AETest::Loops;
use AETest::Xvfb;

BEGIN { need_module('Glib'); need_module('Gtk3') }
my $x = AETest::Xvfb->start;
AETest::Loops::watchdog(60);
require Gtk3;
Gtk3->import('-init');
require './eg/gtk3.pl';

pipe my $r, my $w or die "pipe: $!";
$w->autoflush(1);
my (@seen, $t);
my $window = gtk3_demo($r, sub {
    push @seen, $_[0]->get_text;
    # the second line comes from an AnyEvent timer
    $t = AnyEvent->timer(after => 0.01, cb => sub { print $w "second line\n" }) if @seen == 1;
    Gtk3::main_quit() if @seen == 2;
});
# The first line arrives from a Glib timeout, while Gtk3::main runs.
Glib::Timeout->add(10, sub { print $w "hello from a pipe\n"; 0 });
Gtk3::main;
is $AnyEvent::MODEL, 'AnyEvent::Impl::Glib', 'Gtk3 program: the Glib model';
is_deeply \@seen, ['hello from a pipe', 'second line'], 'the label showed each line read by the AnyEvent io watcher';
is $window->get_child->get_text, 'second line', 'and keeps the last one';
done_testing;
