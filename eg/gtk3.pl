#!/usr/bin/perl
# The tutorial's Gtk example, ported to Gtk3: a window with a label, and an AnyEvent io watcher
# that sets the label to each line read from a file handle while Gtk3::main runs.
#
#   perl eg/gtk3.pl            # type lines on stdin; the window shows the last one
#
# Run as a module by t/AnyEvent/Impl/Gtk3.t: gtk3_demo($fh, $on_line) builds the window and
# returns it; $on_line is called with the label after each line.
use strict;
use warnings;
use Gtk3 -init;
use AnyEvent;

sub gtk3_demo {
    my ($fh, $on_line) = @_;
    my $window = Gtk3::Window->new('toplevel');
    $window->set_title('AnyEvent in Gtk3');
    my $label = Gtk3::Label->new('soon replaced by the first line read');
    $window->add($label);
    $window->signal_connect(destroy => sub { Gtk3::main_quit() });
    $window->show_all;

    # The AnyEvent part: nothing here knows that Gtk3 runs the loop.
    my $io; $io = AnyEvent->io(fh => $fh, poll => 'r', cb => sub {
        my $line = <$fh>;
        unless (defined $line) { undef $io; return }
        chomp $line;
        $label->set_text($line);
        $on_line->($label) if $on_line;
    });
    $window->{io} = $io;    # the watcher lives as long as the window
    return $window;
}

unless (caller) {
    my $window = gtk3_demo(\*STDIN);
    Gtk3::main;
}

1;
