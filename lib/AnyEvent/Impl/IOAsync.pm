package AnyEvent::Impl::IOAsync;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use IO::Async::Loop ();

our @ISA = ('AnyEvent::Impl::Embed');

our $LOOP;

sub set_loop($) {
    my ($loop) = @_;
    Carp::croak('AnyEvent::Impl::IOAsync::set_loop: loop must be an IO::Async::Loop')
        unless Scalar::Util::blessed($loop) && $loop->isa('IO::Async::Loop');
    my $old = $LOOP;
    $LOOP = $loop;
    # Move our source to the new loop.
    if ($old && $old != $loop && $AnyEvent::Impl::Embed::SOURCE) {
        my $src = $AnyEvent::Impl::Embed::SOURCE;
        delete @$src{qw(io timer)};
        $src->{fd} = -1;
        $src->rearm;
    }
    return;
}

sub _start { $LOOP ||= IO::Async::Loop->new }

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $fh = AnyEvent::Impl::Embed::_fd_handle($fd);
    my $loop = $LOOP;
    $loop->watch_io(handle => $fh, on_read_ready => $cb);
    return AnyEvent::Impl::Embed::_guard(sub { $loop->unwatch_io(handle => $fh, on_read_ready => 1) });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    my $loop = $LOOP;
    my $id;
    $id = $loop->watch_time(after => $after, code => sub { undef $id; $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $loop->unwatch_time($id) if defined $id });
}

sub _poll { $LOOP->loop_once }

# IO::Async handles signals through %SIG and reaps children itself (watch_process): our own
# handlers would be replaced by its, so both are IO::Async's, as in AnyEvent 7.17.
#
# IO::Async's %SIG handlers are Perl's deferred ones: a signal (SIGCHLD, say) that arrives just
# before IO::Async::Loop::Poll enters poll(2) is handled only when poll returns, which with
# nothing else to wake it is never (IO::Async's race, as under 7.17; its Epoll loop has none).
# While such watchers of ours exist, a timer of the loop wakes it every second, which bounds that
# wait.
my ($ticking, $tick_id, $tick_loop) = (0);

sub _tick {
    $tick_loop = $LOOP;
    $tick_id = $tick_loop->watch_time(after => 1, code => \&_tick);
}

sub _tick_start { _tick() unless $ticking++ }

sub _tick_stop {
    return if --$ticking > 0;
    $tick_loop->unwatch_time($tick_id) if defined $tick_id;
    undef $tick_id;
    return;
}

sub _loop_signal {
    my ($name, $cb) = @_;
    my $sig = AnyEvent::Impl::Embed::_check_signal($name, $cb);
    my $loop = $LOOP;
    # For CHLD IO::Async advises its own watch_process, which is no advice to an AnyEvent
    # program: that warning is dropped, any other one passed on.
    my $outer = $SIG{__WARN__};
    local $SIG{__WARN__} = sub {
        return if $_[0] =~ /^Attaching to SIGCHLD is not advised/;
        ref $outer eq 'CODE' ? $outer->(@_) : warn @_;
    };
    my $id = $loop->attach_signal($sig, sub { $cb->() });
    _tick_start();
    return AnyEvent::Impl::Embed::_guard(sub { _tick_stop(); $loop->detach_signal($sig, $id) });
}

# IO::Async installs its SIGCHLD handler with the first watch_process and then asks waitpid about
# that one pid only: any other child that exited while no handler was installed (its SIGCHLD
# went unnoticed) would wait for the next SIGCHLD, which may never come, though a watcher for it
# is made right after (CI saw a child watcher wait for ever so). A SIGCHLD of our own makes
# IO::Async reap at its next iteration, when the watchers made with this one exist.
sub _recheck_children { kill CHLD => $$ if ref $SIG{CHLD} eq 'CODE' }

# IO::Async keeps one callback per pid: several AnyEvent watchers for a pid share it.
my %by_pid;

sub _loop_child {
    my ($pid, $cb) = @_;
    $pid = AnyEvent::Impl::Embed::_check_child($pid, $cb);
    my $loop = $LOOP;
    my $cbs = $by_pid{$pid} ||= do {
        my %set;
        $loop->watch_process($pid, sub {
            my ($rpid, $status) = @_;
            delete $by_pid{$pid} if $pid;
            $_->($rpid, $status) for values %set;
        });
        _recheck_children();
        \%set;
    };
    my $key = ++$AnyEvent::Impl::Embed::NEXT_KEY;
    $cbs->{$key} = $cb;
    _tick_start();
    return AnyEvent::Impl::Embed::_guard(sub {
        _tick_stop();
        my $set = $by_pid{$pid} or return;
        delete $set->{$key};
        return if %$set;
        delete $by_pid{$pid};
        $loop->unwatch_process($pid);
    });
}

1;

__END__

=head1 NAME

AnyEvent::Impl::IOAsync - AnyEvent inside an IO::Async loop

=head1 SYNOPSIS

    use IO::Async::Loop;
    use AnyEvent;
    my $loop = IO::Async::Loop->new;
    AnyEvent::Impl::IOAsync::set_loop($loop);   # optional
    my $w = AnyEvent->timer(after => 1, cb => sub { $loop->stop });
    $loop->run;

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<IO::Async::Loop> is loaded and no loop earlier in
AnyEvent's order is, or with C<PERL_ANYEVENT_MODEL=IOAsync>. The Rust loop runs as one source
of the IO::Async loop (L<AnyEvent::Impl::Embed>): a read watcher on its epoll descriptor and
one timer; C<< $cv->recv >> calls C<< $loop->loop_once >> until the condvar is sent.

Signal watchers use C<attach_signal> and child watchers C<watch_process> of the loop, as in
AnyEvent 7.17: IO::Async installs C<%SIG> handlers and reaps the children it watches, which
would silence ours. IO::Async keeps one callback per pid, so the AnyEvent watchers for a pid
share one; a program that also calls C<watch_process> for the same pid replaces ours. A signal
watcher for C<CHLD> works, without IO::Async's warning that advises C<watch_process> (7.17
passes it on). While such watchers exist the loop is woken every second: IO::Async's signal
handlers are Perl's deferred ones, and a signal that arrives just before IO::Async::Loop::Poll
blocks in poll(2) would otherwise wait for the next unrelated event (under 7.17 too).

IO::Async installs its C<SIGCHLD> handler with the first C<watch_process> and then checks that
one pid only, so a child that exited while no handler was installed would never be reported,
neither to our watchers nor to the loop's own, made right after (under 7.17 too). After
creating a child watcher, this model therefore sends the process a C<SIGCHLD>, which makes
IO::Async reap all exited children at its next iteration.

=head1 FUNCTIONS

=head2 AnyEvent::Impl::IOAsync::set_loop $loop

Makes AnyEvent use C<$loop> (an L<IO::Async::Loop>) instead of C<< IO::Async::Loop->new >>
(IO::Async's shared loop). Call it before creating watchers; watchers that exist keep running
and move to the new loop. Returns nothing; croaks when C<$loop> is not an IO::Async::Loop.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<IO::Async::Loop>.

=cut
