package AnyEvent::Loop;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();

sub run       { AnyEvent::Impl::Rust::run() }
sub one_event { AnyEvent::Impl::Rust::one_event() }

1;

__END__

=head1 NAME

AnyEvent::Loop - run AnyEvent's event loop directly

=head1 SYNOPSIS

    use AnyEvent::Loop;

    my $t = AE::timer 1, 1, sub { print "tick\n" };
    AnyEvent::Loop::run;          # never returns (unless a callback dies)

=head1 DESCRIPTION

In AnyEvent this module is the pure-Perl event loop; here it is a thin interface to the Rust
loop that every watcher uses anyway.

=head1 FUNCTIONS

=head2 AnyEvent::Loop::run

Runs the event loop forever. Returns only by an exception from a callback (which propagates)
or not at all (C<exit> from a callback ends the program).

=head2 AnyEvent::Loop::one_event

Waits for at least one event (or due timer) and calls the ready callbacks, then returns.
Returns nothing; exceptions from callbacks propagate.

=cut
