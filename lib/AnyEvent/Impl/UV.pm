package AnyEvent::Impl::UV;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Carp ();
use UV ();

our @ISA = ('AnyEvent::Impl::Embed');

# UV's handles must be stopped and closed explicitly; a guard does both.
sub _handle_guard {
    my ($handle, $stop) = @_;
    return AnyEvent::Impl::Embed::_guard(sub { $stop->($handle); UV::close($handle) });
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $w = UV::poll_init($fd);
    Carp::croak("AnyEvent::Impl::UV: cannot watch fd $fd: " . UV::strerror(UV::last_error())) unless defined $w;
    UV::poll_start($w, UV::READABLE(), sub { $cb->() });
    return _handle_guard($w, \&UV::poll_stop);
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $t = UV::timer_init();
    UV::timer_start($t, $after * 1000, 0, sub { $cb->() });
    return _handle_guard($t, \&UV::timer_stop);
}

sub _poll { UV::run(UV::RUN_ONCE()) }

1;

__END__

=head1 NAME

AnyEvent::Impl::UV - AnyEvent inside libuv's loop (UV module; untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when C<UV> is loaded and no loop earlier in AnyEvent's
order is, or with C<PERL_ANYEVENT_MODEL=UV>. The Rust loop runs as one source of libuv's loop
(L<AnyEvent::Impl::Embed>): a poll handle on its epoll descriptor and one timer handle for its
next deadline; C<< $cv->recv >> runs C<UV::run(UV::RUN_ONCE)> until the condvar is sent. Signal
and child watchers are the Rust loop's.

This model is B<untested>: the UV module has no Debian package, so neither the project nor its
CI can run it. It uses the function interface of UV 0.24 (C<poll_init>, C<poll_start>,
C<timer_init>, C<timer_start>, C<run>), which AnyEvent 7.17's adaptor uses too.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<UV>.

=cut
