package AnyEvent::Impl::Mojo;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Mojo::IOLoop ();

our @ISA = ('AnyEvent::Impl::Embed');

sub _reactor { Mojo::IOLoop->singleton->reactor }

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    my $reactor = _reactor();
    $reactor->io($fh => sub { $cb->() })->watch($fh, 1, 0);
    return AnyEvent::Impl::Embed::_guard(sub { $reactor->remove($fh) });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $reactor = _reactor();
    my $id;
    $id = $reactor->timer($after => sub { undef $id; $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $reactor->remove($id) if defined $id });
}

sub _poll { _reactor()->one_tick }

# Mojo's reactors stop on their own when nothing is watched: our source is given up while the
# Rust loop has no watchers.
sub _keepalive {
    my (undef, $source, $alive) = @_;
    return if $alive;
    delete @$source{qw(io timer)};
    $source->{fd} = -1;
    return;
}

1;

__END__

=head1 NAME

AnyEvent::Impl::Mojo - AnyEvent inside Mojo::IOLoop (beyond AnyEvent 7.17)

=head1 SYNOPSIS

    use Mojo::IOLoop;
    use AnyEvent;
    my $w = AnyEvent->timer(after => 1, cb => sub { Mojo::IOLoop->stop });
    Mojo::IOLoop->start;

=head1 DESCRIPTION

AnyEvent 7.17 has no Mojo model; this one makes C<< Mojo::IOLoop->start >> drive AnyEvent's
watchers. With L<Mojo::Reactor::EV> (Mojolicious' choice when L<EV> is installed) EV is
loaded, so L<AnyEvent::Impl::EV> is chosen first and our watchers run inside EV, where Mojo's
do too. With L<Mojo::Reactor::Poll> (C<MOJO_REACTOR=Mojo::Reactor::Poll>, or no EV), this model
is chosen when L<Mojo::IOLoop> is loaded (last in the detection order), or with
C<PERL_ANYEVENT_MODEL=Mojo>: the Rust loop runs as one source of the singleton loop's reactor
(L<AnyEvent::Impl::Embed>), and C<< $cv->recv >> calls the reactor's C<one_tick> until the
condvar is sent. Our source is given up while the Rust loop has no watchers, so
C<< Mojo::IOLoop->start >> can end on its own when nothing is left.

Signal and child watchers are the Rust loop's (Mojo has none).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<Mojo::IOLoop>.

=cut
