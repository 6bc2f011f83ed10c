package AnyEvent::Impl::EV;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use EV 4.00;

our @ISA = ('AnyEvent::Impl::Embed');

sub _watch_fd { EV::io($_[1], EV::READ(), $_[2]) }
sub _timer    { EV::timer($_[1], 0, $_[2]) }
sub _poll     { EV::run(EV::RUN_ONCE()) }

# EV::run returns when no watcher is active: ours count only while our loop has watchers.
sub _keepalive {
    my (undef, $source, $alive) = @_;
    $source->{io}->keepalive($alive) if $source->{io};
    $source->{timer}->keepalive($alive) if $source->{timer};
    return;
}

sub _callable { ref $_[0] eq 'CODE' ? $_[0] : do { my $cb = $_[0]; sub { &$cb } } }

# libev owns the signals it watches and reaps every child in its default loop (its SIGCHLD
# handler calls waitpid(-1)): AnyEvent's signal and child watchers are EV's own.
sub _loop_signal {
    my ($name, $cb) = @_;
    my $sig = AnyEvent::Impl::Embed::_check_signal($name, $cb);
    return EV::signal($sig, sub { $cb->() });
}

sub _loop_child {
    my ($pid, $cb) = @_;
    $pid = AnyEvent::Impl::Embed::_check_child($pid, $cb);
    $cb = _callable($cb);
    return EV::child($pid, 0, sub { $cb->($_[0]->rpid, $_[0]->rstatus) });
}

1;

__END__

=head1 NAME

AnyEvent::Impl::EV - AnyEvent inside EV's loop

=head1 SYNOPSIS

    use EV;
    use AnyEvent;
    my $w = AnyEvent->timer(after => 1, cb => sub { EV::break });
    EV::run;

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when L<EV> is loaded (first in AnyEvent's order), or with
C<PERL_ANYEVENT_MODEL=EV>. The Rust loop runs as one source of EV's default loop, as described
in L<AnyEvent::Impl::Embed>: io, timer and idle watchers, AnyEvent::Handle, AnyEvent::Socket and
AnyEvent::DNS keep running on the Rust loop while the program runs C<EV::run> (or C<EV::loop>),
and C<< $cv->recv >> runs C<EV::run EV::RUN_ONCE> until the condvar is sent.

C<EV::run> still returns when nothing is left to watch: EV counts our source only while the
Rust loop has watchers or scheduled timers.

Signal and child watchers are EV's own (C<EV::signal>, C<EV::child>), as in AnyEvent 7.17:
libev installs its handler for the signals it watches and reaps every child of the process
from its default loop, so a watcher of ours could never see them. A program that uses both
C<EV::child> and C<< AnyEvent->child >> for the same pid sees the exit on both.

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, L<EV>.

=cut
