package AnyEvent::Impl::FLTK;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use FLTK ();

our @ISA = ('AnyEvent::Impl::Embed');

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    return [$fh, FLTK::add_fd($fh, FLTK::READ(), sub { $cb->() })];
}

sub _timer {
    my (undef, $after, $cb) = @_;
    return FLTK::add_timeout($after, sub { $cb->() });
}

sub _poll { FLTK::wait() }

1;

__END__

=head1 NAME

AnyEvent::Impl::FLTK - AnyEvent inside FLTK's loop (untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when C<FLTK> is loaded and no loop earlier in AnyEvent's
order is, or with C<PERL_ANYEVENT_MODEL=FLTK>. The Rust loop runs as one source of that loop
(L<AnyEvent::Impl::Embed>); C<< $cv->recv >> runs one iteration of it at a time until the
condvar is sent. Signal and child watchers are the Rust loop's.

This model is B<untested>: FLTK has no Debian package, so neither the project nor its CI can run
it. It uses only the calls AnyEvent 7.17's adaptor for FLTK uses.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<FLTK>.

=cut
