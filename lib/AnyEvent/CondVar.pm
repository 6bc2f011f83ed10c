package AnyEvent::CondVar;

use strict;
use warnings;
use Carp ();
use AnyEvent ();    # (its XS defines the constants below; loading it first loads this file)

our $VERSION = '7.17';
our @ISA = ('AnyEvent::CondVar::Base');

# For subclasses: a condvar blessed into the calling class.
sub new {
    my $class = shift;
    return bless AnyEvent->condvar(@_), $class;
}

package AnyEvent::CondVar::Base;

use strict;
use warnings;

# A condvar is a hash; the keys this class uses (the layout the XS shares: AE::cv and the loop's
# wait) are constants from AnyEvent.xs (cv_keys): _SENT (the values sent, an array), _CB (the
# callback), _CROAK (the message of croak), _COUNTER and _END_CB (begin/end).

# A condvar is callable: $cv->(@values) sends, so `cb => $cv` works.
use overload '&{}' => sub { my $cv = shift; sub { $cv->send(@_) } }, fallback => 1;

# True while a recv is waiting: waiting again from inside would deadlock.
our $WAITING;

sub send {
    my $cv = shift;
    $cv->{+_SENT} = [@_];
    (delete $cv->{+_CB})->($cv) if $cv->{+_CB};
    $cv->_send;
    return;
}

# Hook for subclasses, called at the end of every send (and croak).
sub _send { }

sub croak {
    $_[0]{+_CROAK} = $_[1];
    $_[0]->send;
}

sub ready { $_[0]{+_SENT} }

sub recv {
    my $cv = $_[0];
    unless ($cv->{+_SENT}) {
        Carp::croak('AnyEvent::CondVar: recursive blocking wait attempted') if $WAITING;
        local $WAITING = 1;
        $cv->_wait;
    }
    Carp::croak($cv->{+_CROAK}) if $cv->{+_CROAK};
    return wantarray ? @{ $cv->{+_SENT} } : $cv->{+_SENT}[0];
}

# Our loop waits here; a model that embeds it in another loop replaces this function with one
# that iterates that loop. The first recv detects the model.
sub _wait {
    return AnyEvent::Impl::Rust::_wait($_[0]) if $AnyEvent::MODEL;
    AnyEvent::detect();
    goto &{ AnyEvent::CondVar::Base->can('_wait') };
}

sub cb {
    my $cv = shift;
    if (@_) {
        $cv->{+_CB} = shift;
        (delete $cv->{+_CB})->($cv) if $cv->{+_CB} && $cv->{+_SENT};
    }
    return $cv->{+_CB};
}

sub begin {
    ++$_[0]{+_COUNTER};
    $_[0]{+_END_CB} = $_[1] if @_ > 1;
    return;
}

sub end {
    return if --$_[0]{+_COUNTER};
    my $cb = $_[0]{+_END_CB};
    $cb ? $cb->($_[0]) : $_[0]->send;
    return;
}

# The names used before AnyEvent 3.4.
*broadcast = \&send;
*wait      = \&recv;

1;

__END__

=head1 NAME

AnyEvent::CondVar - condition variables: wait for, and deliver, a result

=head1 SYNOPSIS

    my $cv = AnyEvent->condvar;           # or AE::cv
    my $w  = AnyEvent->timer(after => 1, cb => sub { $cv->send(42, "answer") });
    my ($num, $what) = $cv->recv;         # runs the loop until sent

    # group several jobs
    my $all = AE::cv;
    for my $job (@jobs) {
        $all->begin;
        start_job($job, sub { $all->end });
    }
    $all->recv;

=head1 DESCRIPTION

A condition variable stands for a result that becomes available later. The producer calls
C<send> (or C<croak>), the consumer calls C<recv>, which runs the event loop until the result
is there, or sets a callback with C<cb>. Condvars are hashes; keys beginning with C<_ae_> are
used by this class and should be left alone by subclasses.

A condvar is callable: C<< $cv->(@values) >> is C<< $cv->send(@values) >>, so it can be passed
wherever a callback is expected (C<< cb => $cv >>).

=head1 CONSTRUCTOR

=head2 $cv = AnyEvent::CondVar->new(cb => $cb)

For subclasses: returns a condition variable like C<< AnyEvent->condvar >> (taking the same
optional C<cb>), blessed into the class it is called on. A subclass calls it from its own
C<new>:

    package My::Result;
    our @ISA = ('AnyEvent::CondVar');
    sub new { my $self = shift->SUPER::new; $self->{started} = AE::now; $self }

Subclasses may override C<_send>, which C<send> (and so C<croak>) calls on the condvar
after storing the values and calling the callback; the base method does nothing.

=head1 METHODS FOR PRODUCERS

=head2 $cv->send(@values)

Flags the condvar as sent and stores C<@values> for C<recv>; calls the callback set with
C<cb> (once). Sending again replaces the values. Returns nothing.

=head2 $cv->croak($error)

Like C<send>, but makes every C<recv> die with C<$error> (through C<Carp::croak>).

=head2 $cv->begin([$group_cb])

Increments the condvar's counter; when given, C<$group_cb> is remembered and replaces any
earlier one. Returns nothing.

=head2 $cv->end

Decrements the counter. When it reaches zero, calls the group callback with the condvar
(C<< $group_cb->($cv) >>), or sends the condvar with no values when there is none. Returns
nothing.

=head2 $cv->broadcast

Old name of C<send>.

=head1 METHODS FOR CONSUMERS

=head2 @values = $cv->recv, $first = $cv->recv

Runs the event loop until the condvar is sent, then returns the values given to C<send> (in
scalar context the first one). Dies with the error given to C<croak>, if any. Croaks with
"recursive blocking wait attempted" when called while another recv is already waiting (from
a callback), because that would deadlock. Exceptions from callbacks run meanwhile propagate.

=head2 $cv->wait

Old name of C<recv>.

=head2 $bool = $cv->ready

True once the condvar has been sent.

=head2 $cb = $cv->cb([$cb])

Returns the callback; with an argument, sets it first. The callback is called with the condvar
as its argument when the condvar is sent, immediately if it already is. It is called once and
then forgotten.

=head1 SEE ALSO

L<AnyEvent>

=cut
