package AnyEvent::Impl::Qt;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();
use AnyEvent::Impl::Embed ();
use Carp ();
use Qt ();

our @ISA = ('AnyEvent::Impl::Embed');

# PerlQt connects signals only to slots of Perl subclasses of Qt classes: one socket notifier
# class and one single-shot timer class, compiled when the model is chosen.
my $CLASSES = q{
    package AnyEvent::Impl::Qt::Io;
    use Qt;
    use Qt::isa qw(Qt::SocketNotifier);
    use Qt::slots cb => [];
    sub NEW {
        my ($class, $fd, $cb) = @_;
        shift->SUPER::NEW($fd, Qt::SocketNotifier::Read());
        this->{cb} = $cb;
        this->connect(this, SIGNAL('activated(int)'), SLOT('cb()'));
    }
    sub cb { this->{cb}->() }

    package AnyEvent::Impl::Qt::Timer;
    use Qt;
    use Qt::isa qw(Qt::Timer);
    use Qt::slots cb => [];
    sub NEW {
        my ($class, $ms, $cb) = @_;
        shift->SUPER::NEW();
        this->{cb} = $cb;
        this->connect(this, SIGNAL('timeout()'), SLOT('cb()'));
        this->start($ms, 1);
    }
    sub cb { this->{cb}->() }
    1;
};

our $APP;

sub _start {
    eval $CLASSES or Carp::croak("AnyEvent::Impl::Qt: cannot set up Qt classes: $@");
    # Qt needs an application object before any notifier or timer
    $APP = Qt::app() || Qt::Application(\@ARGV);
    return;
}

sub _watch_fd {
    my (undef, $fd, $cb) = @_;
    my $n = AnyEvent::Impl::Qt::Io($fd, sub { $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $n->setEnabled(0) });
}

sub _timer {
    my (undef, $after, $cb) = @_;
    # old Qt versions treat a timeout of 0 as "when idle"
    my $t = AnyEvent::Impl::Qt::Timer($after * 1000 || 1, sub { $cb->() });
    return AnyEvent::Impl::Embed::_guard(sub { $t->stop });
}

sub _poll { Qt::app()->processOneEvent }

1;

__END__

=head1 NAME

AnyEvent::Impl::Qt - AnyEvent inside Qt's event loop (PerlQt; untested)

=head1 DESCRIPTION

Chosen by L<AnyEvent/AnyEvent::detect> when C<Qt> is loaded and no loop earlier in AnyEvent's
order is, or with C<PERL_ANYEVENT_MODEL=Qt>. The Rust loop runs as one source of Qt's loop
(L<AnyEvent::Impl::Embed>): a socket notifier on its epoll descriptor and a single-shot timer
for its next deadline; C<< $cv->recv >> runs C<< Qt::app->processOneEvent >> until the condvar
is sent. A C<Qt::Application> is created when there is none yet (Qt needs one; create your own
first if you need it configured). Signal and child watchers are the Rust loop's.

This model is B<untested>: PerlQt has no Debian package, so neither the project nor its CI can
run it. It uses the classes and calls AnyEvent 7.17's adaptor for Qt uses
(C<Qt::SocketNotifier>, C<Qt::Timer>, C<processOneEvent>).

=head1 FUNCTIONS

None: the model is used through L<AnyEvent>'s API.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::Impl::Embed>, C<Qt>.

=cut
