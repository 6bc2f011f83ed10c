package AnyEvent::Impl::Rust;

use strict;
use warnings;

our $VERSION = '7.17';

# The functions of this package are XSUBs from AnyEvent's XS module.
use AnyEvent ();

# One blocking iteration (AnyEvent->one_event and AnyEvent->_poll under this model).
sub _poll { one_event() }

1;

__END__

=head1 NAME

AnyEvent::Impl::Rust - the Rust event loop behind AnyEvent, and how to embed it

=head1 SYNOPSIS

    use AnyEvent;
    print $AnyEvent::MODEL;                       # AnyEvent::Impl::Rust

    # drive the loop from another event loop
    my $fd = AnyEvent::Impl::Rust::backend_fd();  # readable when events are waiting
    my $t  = AnyEvent::Impl::Rust::next_timeout(); # seconds, or undef
    AnyEvent::Impl::Rust::run_nowait();            # one non-blocking iteration

=head1 DESCRIPTION

The event loop of this AnyEvent: an epoll loop written in Rust (mio), with io, timer, signal,
child and idle watchers. It is the model when no other event loop is loaded; under another
model (L<AnyEvent/MODELS>) it still holds the watchers and runs as one source of that loop
(L<AnyEvent::Impl::Embed>). You never need to load it yourself; L<AnyEvent> does.

=head1 FUNCTIONS

=head2 one_event()

Runs one loop iteration: waits until something is ready (or the next timer is due), then calls
the ready callbacks. Returns nothing; exceptions from callbacks propagate.

=head2 run()

Runs the loop forever. Leave it with an exception or C<exit>.

=head2 run_nowait()

Runs one iteration without waiting: calls whatever is ready now. Returns nothing.

=head2 backend_fd()

Returns the epoll file descriptor. It becomes readable when an io watcher, a signal or a
socket of an L<AnyEvent::DNS> resolver has something to report, so another event loop can
watch it and call C<run_nowait> then.

=head2 next_timeout()

Returns the number of seconds until the loop must run again to serve a timer or a DNS
request's timeout (0 when something is due already: idle watchers, postponed callbacks and
finished DNS requests, always-ready descriptors, io watchers created or changed since the last
iteration, which epoll does not know yet), or undef when
only an event on C<backend_fd> can make work. An embedding loop waits at most this long before
calling C<run_nowait>.

=head2 is_active()

Returns true while the loop has something to watch or to call: io, timer, signal, child or idle
watchers, DNS requests in flight, postponed callbacks, or ready callbacks not yet called. An embedding loop may stop
counting the loop as a reason to keep running while it returns false.

=head1 EMBEDDING EXAMPLE

With Glib (as in the AnyEvent tutorial's Gtk2 example):

    my $fd = AnyEvent::Impl::Rust::backend_fd();
    Glib::IO->add_watch($fd, in => sub { AnyEvent::Impl::Rust::run_nowait(); 1 });
    # and re-arm a Glib timeout from next_timeout() after each run_nowait

=head1 INTERNAL ERRORS

A bug in the Rust core (a Rust panic) never unwinds into Perl: the call that met it croaks with
C<... internal error in the Rust core: MESSAGE>. The core's state may be broken after that, so
it refuses further work: every later call into it (new watchers, C<AnyEvent-E<gt>now>, running
the loop, sockets, DNS, TLS, AnyEvent::IO) croaks with C<... the Rust core refuses further work
after an internal error (...)>. Destroying watchers stays quiet, so the program can still end.

=cut
