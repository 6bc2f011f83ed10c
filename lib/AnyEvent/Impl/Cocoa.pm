package AnyEvent::Impl::Cocoa;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Cocoa::EventLoop ();

our @ISA = ('AnyEvent::Impl::Embed');

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    return [$fh, Cocoa::EventLoop->io(fh => $fh, poll => "r", cb => $cb)];
}

sub _timer {
    my (undef, $after, $cb) = @_;
    return Cocoa::EventLoop->timer(after => $after, cb => $cb);
}

sub _poll { Cocoa::EventLoop->run_while(0.01) }

1;

__END__

=head1 NAME

AnyEvent::Impl::Cocoa - AnyEvent inside Cocoa::EventLoop's loop (untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when C<Cocoa::EventLoop> is loaded and no loop earlier in
AnyEvent's order is, or with C<PERL_ANYEVENT_MODEL=Cocoa>. The Rust loop runs as one source of
that loop (L<AnyEvent::Impl::Embed>); C<< $cv->recv >> runs one iteration of it at a time until
the condvar is sent. Signal and child watchers are the Rust loop's.

This model is B<untested>: Cocoa::EventLoop has no Debian package, so neither the project nor its CI can run
it. It uses only the calls AnyEvent 7.17's adaptor for Cocoa::EventLoop uses.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<Cocoa::EventLoop>.

=cut
