package AnyEvent::Impl::Irssi;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Carp ();
use Irssi ();

our @ISA = ('AnyEvent::Impl::Embed');

# Irssi accepts input and timeout sources only from the package of a loaded script (it removes
# them when the script is unloaded). So the calls are made from a permanent script of our own:
# irssi runs `init` in that script's package, which gets the four small subs below.
our $SCRIPT;

sub init {
    $SCRIPT = caller;
    eval "package $SCRIPT;" . q{
        sub ae_input_add      { Irssi::input_add($_[0], Irssi::INPUT_READ(), $_[1], undef) }
        sub ae_input_remove   { Irssi::input_remove($_[0]) }
        sub ae_timeout_add    { Irssi::timeout_add_once($_[0], $_[1], undef) }
        sub ae_timeout_remove { Irssi::timeout_remove($_[0]) }
        1;
    } or Carp::croak("AnyEvent::Impl::Irssi: cannot set up the helper script: $@");
    return;
}

sub _start {
    Irssi::command("/script exec -permanent AnyEvent::Impl::Irssi::init 'AnyEvent adaptor'") unless $SCRIPT;
    Carp::croak('AnyEvent::Impl::Irssi: irssi did not run the helper script') unless $SCRIPT;
    return;
}

sub _script_call {
    my $name = shift;
    return $SCRIPT->can($name)->(@_);
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $tag = _script_call(ae_input_add => $fd, sub { $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { _script_call(ae_input_remove => $tag) });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    # Irssi refuses timeouts under 10 ms
    my $ms = $after * 1000;
    my $tag = _script_call(ae_timeout_add => $ms > 10 ? $ms : 10, sub { $cb->(); 0 });
    return AnyEvent::Impl::Embed::_guard(sub { _script_call(ae_timeout_remove => $tag) });
}

sub _poll { Carp::croak('AnyEvent::Impl::Irssi: blocking waits (recv on a condvar not yet sent) are not possible inside irssi') }

1;

__END__

=head1 NAME

AnyEvent::Impl::Irssi - AnyEvent inside irssi (untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> inside an irssi script (the C<Irssi> package exists) when
no loop earlier in AnyEvent's order is loaded, or with C<PERL_ANYEVENT_MODEL=Irssi>. The Rust
loop runs as one source of irssi's main loop (L<AnyEvent::Impl::Embed>): an input source on its
epoll descriptor and one timeout for its next deadline, added from a small permanent script
("AnyEvent adaptor") because irssi takes sources only from scripts. Signal and child watchers
are the Rust loop's; children it reaps are the ones with AnyEvent child watchers.

Limits, as with AnyEvent 7.17's adaptor: no blocking waits (C<< $cv->recv >> on a condvar that
was not sent croaks: use callbacks), and timers are late by up to 10 ms (irssi's shortest
timeout).

This model is B<untested>: it needs a running irssi, which the project's tests and CI cannot
provide.

=head1 FUNCTIONS

=over 4

=item AnyEvent::Impl::Irssi::init

Called by irssi in the helper script's package (C</script exec>); not for programs.

=back

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<Irssi>.

=cut
