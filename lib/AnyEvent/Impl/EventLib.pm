package AnyEvent::Impl::EventLib;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Event::Lib ();

our @ISA = ('AnyEvent::Impl::Embed');

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    my $w = Event::Lib::event_new($fh, Event::Lib::EV_READ() | Event::Lib::EV_PERSIST(), sub { $cb->() });
    Event::Lib::event_add($w);
    return AnyEvent::Impl::Embed::_guard(sub { $w->remove });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $w = Event::Lib::timer_new(sub { $cb->() });
    Event::Lib::event_add($w, $after || 1e-10);    # Event::Lib ignores a timeout of 0
    return AnyEvent::Impl::Embed::_guard(sub { $w->remove });
}

sub _poll { Event::Lib::event_one_loop() }

1;

__END__

=head1 NAME

AnyEvent::Impl::EventLib - AnyEvent inside Event::Lib's loop (untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when C<Event::Lib> is loaded and no loop earlier in
AnyEvent's order is, or with C<PERL_ANYEVENT_MODEL=EventLib>. The Rust loop runs as one source
of that loop (L<AnyEvent::Impl::Embed>); C<< $cv->recv >> runs one iteration of it at a time
until the condvar is sent. Signal and child watchers are the Rust loop's.

This model is B<untested>: Event::Lib has no Debian package, so neither the project nor its CI can run
it. It uses only the calls AnyEvent 7.17's adaptor for Event::Lib uses.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<Event::Lib>.

=cut
