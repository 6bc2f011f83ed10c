package AnyEvent::Impl::Event;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Event ();

our @ISA = ('AnyEvent::Impl::Embed');

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $w = Event->io(fd => $fd, poll => 'r', cb => sub { $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $w->cancel if $w });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $w = Event->timer(after => $after, cb => sub { $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $w->cancel if $w });
}

sub _poll { Event::one_event() }

# Event::loop returns when no watcher is active: ours count only while our loop has watchers.
sub _keepalive {
    my (undef, $source, $alive) = @_;
    return if $alive;
    delete @$source{qw(io timer)};
    $source->{fd} = -1;
    return;
}

# Event catches the signals it watches with its own handler: signal watchers are Event's, as
# in AnyEvent 7.17. Child watchers are ours (Event has none).
#
# Event notices a caught signal only when it wakes up: one that arrives just before it blocks
# waits for the next unrelated event. As AnyEvent 7.17 does, while signal watchers exist a timer
# wakes the loop every $AnyEvent::MAX_SIGNAL_LATENCY seconds.
my ($signal_watchers, $latency_timer) = (0);

sub _loop_signal {
    my ($name, $cb) = @_;
    my $sig = AnyEvent::Impl::Embed::_check_signal($name, $cb);
    my $w = Event->signal(signal => $sig, cb => sub { $cb->() });
    my $every = $AnyEvent::MAX_SIGNAL_LATENCY;
    $latency_timer = AE::timer($every, $every, sub { }) unless $signal_watchers++;
    return AnyEvent::Impl::Embed::_guard(sub {
        $w->cancel if $w;
        undef $latency_timer unless --$signal_watchers;
    });
}

1;

__END__

=head1 NAME

AnyEvent::Impl::Event - AnyEvent inside Event's loop

=head1 SYNOPSIS

    use Event;
    use AnyEvent;
    my $w = AnyEvent->timer(after => 1, cb => sub { Event::unloop_all });
    Event::loop;

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<Event> is loaded and no loop earlier in AnyEvent's order
is, or with C<PERL_ANYEVENT_MODEL=Event>. The Rust loop runs as one source of Event's loop
(L<AnyEvent::Impl::Embed>); C<< $cv->recv >> calls C<Event::one_event> until the condvar is
sent. Our source is dropped while the Rust loop has no watchers, so C<Event::loop> can return
when nothing is left.

Signal watchers are Event's (C<< Event->signal >>), as in AnyEvent 7.17; child watchers are the
Rust loop's, which reaps only the pids it watches (all children for C<pid =E<gt> 0>). Event
notices a caught signal only when it wakes up, so a signal that arrives just before it blocks
waits for the next event; as in 7.17, while signal watchers exist a timer wakes the loop every
C<$AnyEvent::MAX_SIGNAL_LATENCY> seconds (10 unless C<PERL_ANYEVENT_MAX_SIGNAL_LATENCY> says
otherwise).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<Event>.

=cut
