package AnyEvent::Impl::Tk;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Tk ();

our @ISA = ('AnyEvent::Impl::Embed');

# Tk's file and timer events belong to a widget: a withdrawn main window, as in AnyEvent 7.17.
our $mw;

sub _start {
    $mw = Tk::MainWindow->new(-title => 'AnyEvent');
    $mw->withdraw;
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    $mw->fileevent($fh, readable => $cb);
    return AnyEvent::Impl::Embed::_guard(sub { $mw->fileevent($fh, readable => '') if Tk::Exists($mw) });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $id = $mw->after(int($after * 1000 + 0.999), $cb);
    return AnyEvent::Impl::Embed::_guard(sub { $id->cancel if Tk::Exists($mw) });
}

sub _poll { Tk::DoOneEvent(0) }

1;

__END__

=head1 NAME

AnyEvent::Impl::Tk - AnyEvent inside Tk's main loop

=head1 SYNOPSIS

    use Tk;
    use AnyEvent;
    my $top = MainWindow->new;
    my $w = AnyEvent->timer(after => 1, cb => sub { $top->destroy });
    MainLoop;

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<Tk> is loaded and no loop earlier in AnyEvent's order is,
or with C<PERL_ANYEVENT_MODEL=Tk>. The Rust loop runs as one source of Tk's event loop
(L<AnyEvent::Impl::Embed>): a C<fileevent> on its epoll descriptor and one C<after> timer, both
on a withdrawn main window of our own, as in AnyEvent 7.17; C<< $cv->recv >> calls
C<Tk::DoOneEvent(0)> until the condvar is sent.

That withdrawn window counts for C<MainLoop>, which runs while any main window exists (as
with AnyEvent 7.17): a program that ends C<MainLoop> by destroying its own windows should also
destroy C<$AnyEvent::Impl::Tk::mw>, or leave with C<exit>.

Signal and child watchers are the Rust loop's (Tk has none).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<Tk>.

=cut
