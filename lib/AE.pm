package AE;

use strict;
use warnings;

# The AE:: functions are XSUBs installed by AnyEvent's XS module.
use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

1;

__END__

=head1 NAME

AE - AnyEvent's short API: positional arguments, less overhead

=head1 SYNOPSIS

    use AE;

    my $io    = AE::io $fh, 0, sub { ... };          # 0: readable, 1: writable
    my $timer = AE::timer 2, 0.5, sub { ... };      # after 2 s, then every 0.5 s
    my $sig   = AE::signal INT => sub { ... };
    my $child = AE::child $pid, sub { my ($pid, $status) = @_ };
    my $idle  = AE::idle sub { ... };
    my $cv    = AE::cv;
    AE::postpone { ... };

=head1 DESCRIPTION

Loading C<AE> loads L<AnyEvent>. All functions below are XSUBs that go straight to the Rust
loop; watchers are the same objects the method API returns and stop when destroyed.

=head1 FUNCTIONS

=head2 $w = AE::io $fh, $watch_write, $cb

An io watcher: C<$fh> a handle or fd number; C<$watch_write> false for readability, true for
writability. Croaks for a bad handle or callback. See L<AnyEvent/io>.

=head2 $w = AE::timer $after, $interval, $cb

A timer firing after C<$after> seconds and then, if C<$interval> is true (not C<undef>, C<0> or
C<"">), every C<$interval> seconds. Croaks for a negative interval or a bad callback.

=head2 $w = AE::signal $name, $cb

A signal watcher for the named signal (with or without C<SIG>). Croaks for an unknown or
uncatchable signal or a bad callback.

=head2 $w = AE::child $pid, $cb

A child watcher; C<$cb> receives C<($pid, $status)>. C<$pid> 0 watches every child. Croaks for
a bad pid or callback.

=head2 $w = AE::idle $cb

An idle watcher, called when the loop has nothing else to do.

=head2 $cv = AE::cv [$cb]

A new L<AnyEvent::CondVar>, with C<$cb> as its callback when given.

=head2 AE::now, AE::now_update, AE::time

The loop time, its update, and the current time; see L<AnyEvent>.

=head2 AE::postpone { BLOCK }

Runs BLOCK at the next loop iteration.

=head2 AE::log $level, $message[, @args]

See L<AnyEvent/AnyEvent::log>.

=cut
