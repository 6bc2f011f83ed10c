package AnyEvent::IO::Args;

# Argument checks of the Perl-level AnyEvent::IO backends (AnyEvent::IO::Perl and ::IOAIO), so
# that bad arguments fail the same way with every backend (the Rust backend's glue applies the
# same rules): an undefined path, or one with a NUL byte, names no file (ENOENT); what is not an
# open file handle where one is needed is EBADF. Internal.

use strict;
use warnings;

use Carp ();
use Errno ();
use Scalar::Util ();
use overload ();

our $VERSION = '7.17';

# Croaks report the caller of the aio_* function.
$Carp::Internal{$_}++ for qw(AnyEvent::IO AnyEvent::IO::Args);

# Croaks unless $cb can be called: a code reference or an object overloading &{} (a condvar).
sub callback {
    my ($cb) = @_;
    return if ref $cb eq 'CODE' || (Scalar::Util::blessed($cb) && overload::Method($cb, '&{}'));
    Carp::croak(defined $cb ? "AnyEvent::IO: cb must be a code reference" : "AnyEvent::IO: cb is required (a code reference)");
}

# True for a file handle (glob, glob reference, IO object), open or not.
sub is_handle {
    my ($x) = @_;
    return 1 if ref \$x eq 'GLOB';
    my $type = ref $x ? Scalar::Util::reftype($x) : '';
    return $type eq 'GLOB' || $type eq 'IO';
}

# The handle if it is an open file handle with a descriptor, else undef.
sub open_handle {
    my ($x) = @_;
    return undef unless is_handle($x);
    my $fd = eval { fileno $x };
    return defined $fd && $fd >= 0 ? $x : undef;
}

sub bad_path { !defined $_[0] || index($_[0], "\0") >= 0 }

# Calls $cb with no arguments and $! set to $errno.
sub fail {
    my ($errno, $cb) = @_;
    $! = $errno;
    $cb->();
}

# (path, cb): true when the path is usable, else fails the callback (ENOENT) and returns false.
sub path_ok {
    return 1 unless bad_path($_[0]);
    fail(Errno::ENOENT(), $_[1]);
    return 0;
}

# (fh, cb): true for an open handle, else fails the callback (EBADF) and returns false.
sub handle_ok {
    return 1 if open_handle($_[0]);
    fail(Errno::EBADF(), $_[1]);
    return 0;
}

# A path-or-handle argument: the open handle, or the path as a string; undef with $! set when
# it is neither.
sub target {
    my ($x) = @_;
    if (is_handle($x)) {
        return open_handle($x) // do { $! = Errno::EBADF(); undef };
    }
    return bad_path($x) ? do { $! = Errno::ENOENT(); undef } : "$x";
}

1;

__END__

=head1 NAME

AnyEvent::IO::Args - argument checks shared by AnyEvent::IO's Perl-level backends (internal)

=head1 DESCRIPTION

Used by L<AnyEvent::IO::Perl> and L<AnyEvent::IO::IOAIO>; not an interface.

=head1 FUNCTIONS

=over 4

=item callback($cb)

Returns nothing; croaks unless C<$cb> is a code reference or an object overloading C<&{}>.

=item is_handle($x)

True when C<$x> is a glob, a glob reference or an IO object, open or not.

=item open_handle($x)

C<$x> when it is an open file handle with a descriptor, else undef.

=item bad_path($path)

True when C<$path> is undef or contains a NUL byte (it names no file).

=item fail($errno, $cb)

Calls C<$cb> with no arguments and C<$!> set to C<$errno>.

=item path_ok($path, $cb), handle_ok($fh, $cb)

True when the argument is usable; otherwise false, after failing C<$cb> with C<ENOENT> (a bad
path) or C<EBADF> (not an open handle).

=item target($fh_or_path)

The open handle, or the path as a string; undef with C<$!> set to C<EBADF> (a handle that is
not open) or C<ENOENT> (a bad path).

=back

=head1 LICENSE

Same terms as Perl itself.

=cut
