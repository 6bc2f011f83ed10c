package AnyEvent::Impl::Perl;

use strict;
use warnings;

our $VERSION = '7.17';

use AnyEvent ();

# Code asking for the pure-Perl backend gets the Rust loop, which keeps the same semantics.
our @ISA = ('AnyEvent::Impl::Rust');

1;

__END__

=head1 NAME

AnyEvent::Impl::Perl - compatibility name for the Rust event loop

=head1 DESCRIPTION

AnyEvent's pure-Perl backend is replaced by L<AnyEvent::Impl::Rust> in this distribution.
Loading this module, or setting C<PERL_ANYEVENT_MODEL=Perl>, simply selects the Rust loop, so
programs that ask for the pure-Perl loop keep working. It has no functions of its own.

=cut
