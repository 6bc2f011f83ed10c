package AnyEvent::IO::Rust;

use strict;
use warnings;

use AnyEvent ();

our $VERSION = $AnyEvent::VERSION;

# The io watcher on the pool's wake-up descriptor, made by the glue on the first request (and
# again after a fork: the child gets a pool of its own).
our $WATCHER;

sub _watch {
    my ($fd) = @_;
    $WATCHER = AE::io($fd, 0, \&_drain);
}

if (defined $ENV{PERL_ANYEVENT_IO_THREADS} && $ENV{PERL_ANYEVENT_IO_THREADS} =~ /^\s*([0-9]+)\s*$/ && $1 > 0) {
    _set_threads($1);
}

package AnyEvent::IO;

our $MODEL = "AnyEvent::IO::Rust";

{
    no strict 'refs';
    *{"AnyEvent::IO::$_"} = \&{"AnyEvent::IO::Rust::$_"} for qw(
        aio_load aio_open aio_close aio_seek aio_read aio_write aio_truncate
        aio_utime aio_chown aio_chmod aio_stat aio_lstat
        aio_link aio_symlink aio_readlink aio_rename aio_unlink
        aio_mkdir aio_rmdir aio_readdir
    );
}

# Outstanding requests are completed (and their callbacks called) before the program ends.
END { AnyEvent::IO::Rust::_flush() }

1;

__END__

=head1 NAME

AnyEvent::IO::Rust - AnyEvent::IO backend running the file I/O on Rust worker threads

=head1 SYNOPSIS

    use AnyEvent::IO;     # this backend unless another one is asked for

=head1 DESCRIPTION

The default backend of L<AnyEvent::IO> (see there for the functions). Each request becomes a
job for a small pool of worker threads, started when first needed; each worker makes the
system call that Perl's built-in would make. Finished jobs are handed back through one
descriptor the event loop watches with an ordinary io watcher, and their callbacks are called
from the loop, in the order the jobs finished.

Scheduling: at most one worker fewer than there are CPUs (at least one) runs jobs at a time,
so that the loop's thread keeps a CPU (copying file data from the page cache is CPU work). A
job running for longer than 2 ms (a slow disk, a FIFO that nobody opens) no longer counts: the
next job starts on another worker, up to the thread limit (4, or C<PERL_ANYEVENT_IO_THREADS>).
So timers and other watchers keep running whatever the jobs do, and so do other jobs while
threads are left. New jobs queued by callbacks wake the workers once, after the callbacks ran;
results of quick jobs (page-cache hits) finished while more jobs are queued may be passed to
the loop together, which then wakes once for several of them.

Data read by C<aio_load> and C<aio_read> becomes the callback's string without being copied.
When the callback keeps no hold on the string (no copy, reference or alias of it), its buffer
is reused for a later load or read; up to 8 MiB of such buffers are kept for that.

File handles passed in are used through a duplicate of their descriptor, so closing or
reopening the handle while a request on it is outstanding does not redirect the request to
another file. C<aio_close> closes the Perl handle at once; the last close of the file, the one
that may block, is done by a worker.

Callbacks are always called from the loop, never before the function returns; each callback
starts with C<$!> as the program had it, or set to the request's error. At program end (an
C<END> block) outstanding requests are waited for and their callbacks called.

After C<fork>, the child starts with no outstanding requests (the parent's are the parent's)
and its own workers.

=head1 FUNCTIONS

The C<aio_*> functions of L<AnyEvent::IO> are XSUBs in this package, installed into
AnyEvent::IO when it uses this backend. Nothing else here is meant to be called.

=head1 ENVIRONMENT

C<PERL_ANYEVENT_IO_THREADS>: the most worker threads (a positive number; default 4), read
when this module is loaded.

=head1 SEE ALSO

L<AnyEvent::IO>.

=head1 LICENSE

Same terms as Perl itself.

=cut
