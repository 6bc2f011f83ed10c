package AnyEvent::IO;

use strict;
use warnings;

use AnyEvent ();
use Fcntl ();

our $VERSION = $AnyEvent::VERSION;

use Exporter 'import';

our @AIO_REQ = qw(
    aio_load aio_open aio_close aio_seek aio_read aio_write aio_truncate
    aio_utime aio_chown aio_chmod aio_stat aio_lstat
    aio_link aio_symlink aio_readlink aio_rename aio_unlink
    aio_mkdir aio_rmdir aio_readdir
);
our @FLAGS = qw(O_RDONLY O_WRONLY O_RDWR O_CREAT O_EXCL O_TRUNC O_APPEND);
our @EXPORT = @AIO_REQ;
our @EXPORT_OK = @FLAGS;
our %EXPORT_TAGS = (aio => \@AIO_REQ, flags => \@FLAGS);

# The open flags, the platform's values (as Fcntl has them), without loading Fcntl's exports.
use constant {
    O_RDONLY => Fcntl::O_RDONLY(),
    O_WRONLY => Fcntl::O_WRONLY(),
    O_RDWR   => Fcntl::O_RDWR(),
    O_CREAT  => Fcntl::O_CREAT(),
    O_EXCL   => Fcntl::O_EXCL(),
    O_TRUNC  => Fcntl::O_TRUNC(),
    O_APPEND => Fcntl::O_APPEND(),
};

our $MODEL;

# The backend is chosen once, when this module is loaded: one already loaded (it set $MODEL),
# else the one PERL_ANYEVENT_IO_MODEL names, else IOAIO when the program has loaded IO::AIO
# and AnyEvent::AIO, else the Rust worker pool.
sub _select {
    if ($MODEL) {
        AnyEvent::log(7, "Found preloaded IO model '$MODEL', using it.");
        return;
    }
    my $wanted = $ENV{PERL_ANYEVENT_IO_MODEL};
    if (defined $wanted && length $wanted) {
        if ($wanted =~ /^(?:AnyEvent::IO::)?([a-zA-Z0-9_]+)$/) {
            my $name = $1;
            local $@;
            if (eval { require "AnyEvent/IO/$name.pm"; 1 }) {
                AnyEvent::log(7, "Loaded IO model '$MODEL' (forced by \$ENV{PERL_ANYEVENT_IO_MODEL}), using it.");
                return;
            }
            undef $MODEL;
            AnyEvent::log(4, "Unable to load IO model '$wanted' (from \$ENV{PERL_ANYEVENT_IO_MODEL}):\n$@");
        } else {
            AnyEvent::log(4, "Ignoring invalid IO model name '$wanted' (from \$ENV{PERL_ANYEVENT_IO_MODEL}).");
        }
    }
    if ($INC{'IO/AIO.pm'} && $INC{'AnyEvent/AIO.pm'}) {
        local $@;
        if (eval { require AnyEvent::IO::IOAIO; 1 }) {
            AnyEvent::log(7, "IO::AIO and AnyEvent::AIO are loaded: using IO model 'IOAIO'.");
            return;
        }
        undef $MODEL;
        AnyEvent::log(4, "Unable to load IO model 'IOAIO':\n$@");
    }
    require AnyEvent::IO::Rust;
    AnyEvent::log(7, "Using IO model 'Rust'.");
}

_select();

1;

__END__

=head1 NAME

AnyEvent::IO - file and directory I/O that does not block the event loop

=head1 SYNOPSIS

    use AnyEvent::IO;                       # the aio_* functions
    use AnyEvent::IO qw(:DEFAULT :flags);   # ... and O_RDONLY, O_CREAT ...

    aio_load "/etc/hostname", sub {
        my ($data) = @_
            or return AE::log error => "/etc/hostname: $!";
        print "host: $data";
    };

    aio_open "/var/tmp/log.$$", O_CREAT | O_WRONLY | O_APPEND, 0644, sub {
        my ($fh) = @_
            or return AE::log error => "open: $!";
        aio_write $fh, "started\n", sub {
            my ($written) = @_
                or return AE::log error => "write: $!";
            aio_close $fh, sub { };
        };
    };

    AE::cv->recv;

=head1 DESCRIPTION

Each C<aio_>I<xxx> function starts one file system operation (the asynchronous counterpart
of the Perl built-in of the same name) and returns nothing; the last argument, a callback, is
called with the result when the operation has finished.

The operation is done by a backend, chosen once, when AnyEvent::IO is loaded, and named by
C<$AnyEvent::IO::MODEL>:

=over 4

=item AnyEvent::IO::Rust (the default)

The operations run on a small pool of worker threads (started when needed, at most 4;
C<PERL_ANYEVENT_IO_THREADS> changes the limit). The results come back through the event loop,
like any event: a slow disk, a dead network file system or a FIFO nobody opens delays only
the callbacks waiting for them, never timers or other watchers. See L<AnyEvent::IO::Rust> for
how the workers are scheduled. This backend is an addition of this implementation; AnyEvent
7.17 has only the two below.

=item AnyEvent::IO::IOAIO

Uses L<IO::AIO>'s thread pool. Chosen when the program has loaded L<IO::AIO> and
C<AnyEvent::AIO> (on CPAN) before AnyEvent::IO (AnyEvent 7.17 chooses it whenever they can be loaded;
here the Rust pool is preferred unless the program uses IO::AIO itself).

=item AnyEvent::IO::Perl

Plain Perl built-ins, called at once: the callback is called before the function returns, and
the program waits for the disk. Only chosen when asked for.

=back

A backend can be forced with C<PERL_ANYEVENT_IO_MODEL> (C<Rust>, C<IOAIO> or C<Perl>), or by
loading its module (C<use AnyEvent::IO::Perl>) before AnyEvent::IO. A backend that cannot be
loaded is reported (log level 4, an error) and the default choice is made.

Results and errors are the same with every backend: each operation makes the system call the
Perl built-in makes, and C<$!> is the error the system reported.

=head1 CALLBACKS AND ERRORS

On success the callback gets the result (described for each function below). On failure it
is called with no arguments and C<$!> set to the error, so any of these works:

    aio_stat $path, sub {
        @_ or return warn "$path: $!\n";
        ...
    };
    aio_open $path, O_RDONLY, 0, sub {
        my $fh = shift or return warn "$path: $!\n";     # undef on error
        ...
    };

Bad arguments are errors of the same kind: an undefined path (or one containing a NUL byte)
names no file (C<ENOENT>); a file handle that is closed, or an argument that is not a handle
where one is required, is C<EBADF>. Only a missing callback (or one that is not a code
reference) croaks, at the call.

With the default backend callbacks are always called from the event loop, after the
function returned; with AnyEvent::IO::Perl (and for some errors with AnyEvent::IO::IOAIO)
before it returns. Code should work either way.

=head2 Paths and shared state

Relative paths are resolved when the operation runs, which may be later: do not C<chdir>
while operations are outstanding (or use absolute paths). The same goes for the umask and the
effective user and group ids.

=head2 At program exit

Operations started before the program ends are completed, and their callbacks called (they may
start more): when the program falls off its end (or calls C<exit>), the outstanding
operations are waited for, in an C<END> block. A program must therefore not end with an
operation that can never finish (an open of a FIFO that nobody will open for writing, say).

=head1 FUNCTIONS

All functions are exported by default (also as the C<:aio> tag). Arguments shown as
C<$fh> are Perl file handles (globs, glob references, L<IO::Handle> objects); C<$fh_or_path>
takes either a handle or a path.

=head2 $AnyEvent::IO::MODEL

The package name of the backend in use: C<AnyEvent::IO::Rust>, C<AnyEvent::IO::IOAIO> or
C<AnyEvent::IO::Perl>.

=head2 aio_load $path, $cb->($data)

Reads the whole file at C<$path>. Takes: a path. Passes: the contents as a byte string
(as many bytes as the file's size when it was opened, fewer if it ends earlier). Errors:
those of C<open> and C<read> (C<ENOENT>, C<EACCES>, C<EISDIR> for a directory ...).

=head2 aio_open $path, $flags, $mode, $cb->($fh)

Opens C<$path> like C<sysopen>: C<$flags> are C<O_>I<xxx> flags (C<O_RDONLY>, C<O_WRONLY>,
C<O_RDWR>, C<O_CREAT>, C<O_EXCL>, C<O_TRUNC>, C<O_APPEND>, exported with C<:flags> or as
C<AnyEvent::IO::O_RDONLY> ...; any other flag of L<Fcntl> works too), C<$mode> the permissions
of a created file (before the umask; 0666 is usual with C<O_CREAT>, 0 otherwise). Passes: a
new Perl file handle (a glob reference) for the file, opened for reading, writing or both as
the flags say, with its descriptor closed on exec. Errors: those of C<open(2)>.

=head2 aio_close $fh, $cb->($success)

Closes the handle. Passes: 1. Errors: C<EBADF> for a handle that is not open, and what closing
reported (data buffered by C<print> is written first). With the default backend the handle is
closed at once, but the descriptor's last close (the one that can wait for a network file
system) is done by a worker. With IOAIO, as IO::AIO documents, the handle may instead stay open
on another file and must not be used any more.

=head2 aio_read $fh, $length, $cb->($data)

Reads up to C<$length> bytes at the handle's current position, like C<sysread> (Perl's
buffered input is bypassed). Passes: the bytes read (fewer than asked near the end of the file,
the empty string at its end). Errors: those of C<read(2)> (C<EBADF> for a handle not open for
reading, C<EISDIR> for a directory); C<EINVAL> for a negative length.

=head2 aio_write $fh, $data, $cb->($length)

Writes the bytes of C<$data> at the handle's current position, like C<syswrite> (one
C<write(2)>). Passes: the number of bytes written (which may be less than C<length $data>).
Errors: those of C<write(2)>.

Several outstanding C<aio_read>/C<aio_write> on one file (or handles sharing its position) run
in no particular order.

=head2 aio_seek $fh, $offset, $whence, $cb->($offset)

Moves the handle's position like C<sysseek>; C<$whence> is 0 (from the start), 1 (from the
current position) or 2 (from the end). Passes: the new position, counted from the start (a
number; 0 at the start). Errors: those of C<lseek(2)> (C<EINVAL>, C<ESPIPE> ...).

=head2 aio_truncate $fh_or_path, $length, $cb->($success)

Sets the file's size like C<truncate>. Passes: 1. Errors: those of C<truncate(2)> and
C<ftruncate(2)>.

=head2 aio_utime $fh_or_path, $atime, $mtime, $cb->($success)

Sets the access and modification times (seconds since the epoch; fractions are kept to the
microsecond). When both are C<undef> the times become the current time; one C<undef> alone is 0.
Passes: 1. Errors: those of C<utimensat(2)>.

=head2 aio_chown $fh_or_path, $uid, $gid, $cb->($success)

Changes the owner and group; C<undef> leaves one unchanged (as -1 does for C<chown>). Passes:
1. Errors: those of C<chown(2)> (C<EPERM> ...).

=head2 aio_chmod $fh_or_path, $perms, $cb->($success)

Changes the permissions like C<chmod>. Passes: 1. Errors: those of C<chmod(2)>.

=head2 aio_stat $fh_or_path, $cb->($success)

Like C<stat>; see C<aio_lstat> for the details of both.

=head2 aio_lstat $fh_or_path, $cb->($success)

Like C<stat> and C<lstat> (C<aio_lstat> of a handle is a C<stat> of it). Passes: 1; the
results are in Perl's stat buffer, read with C<_> (C<stat _>, C<-s _>, C<-d _>, and C<-l _>
after C<aio_lstat> of a path) until the next stat. Errors: those of C<stat(2)>; after a failure
C<-e _> is false.

=head2 aio_link $oldpath, $newpath, $cb->($success)

Like C<link>. Passes: 1. Errors: those of C<link(2)> (C<EEXIST>, C<ENOENT> ...).

=head2 aio_symlink $target, $newpath, $cb->($success)

Like C<symlink>. Passes: 1. Errors: those of C<symlink(2)> (C<EEXIST>, C<ENOENT> ...).

=head2 aio_rename $oldpath, $newpath, $cb->($success)

Like C<rename>. Passes: 1. Errors: those of C<rename(2)> (C<ENOENT>, C<EISDIR> ...).

=head2 aio_readlink $path, $cb->($target)

Like C<readlink>. Passes: the link's contents. Errors: C<EINVAL> when C<$path> is not a
symbolic link, and those of C<readlink(2)>.

=head2 aio_unlink $path, $cb->($success)

Removes a file like C<unlink> (not a directory: C<EISDIR>). Passes: 1.

=head2 aio_mkdir $path, $perms, $cb->($success)

Creates a directory like C<mkdir> (C<$perms> before the umask; C<undef> is 0777). Passes: 1.
Errors: those of C<mkdir(2)>.

=head2 aio_rmdir $path, $cb->($success)

Removes an empty directory like C<rmdir>. Passes: 1. Errors: those of C<rmdir(2)>
(C<ENOTEMPTY>, C<ENOTDIR> ...).

=head2 aio_readdir $path, $cb->(\@names)

Reads a directory. Passes: a reference to an array of the entries' names, without C<.> and
C<..> and without a path prefix, in no particular order (IOAIO puts directories first).
Errors: those of C<opendir(3)> (C<ENOTDIR> ...).

=head1 ENVIRONMENT

=over 4

=item PERL_ANYEVENT_IO_MODEL

C<Rust>, C<IOAIO> or C<Perl> (or the full package name): the backend to use.

=item PERL_ANYEVENT_IO_THREADS

The most worker threads the Rust backend starts (default 4).

=back

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::IO::Rust>, L<AnyEvent::IO::IOAIO>, L<AnyEvent::IO::Perl>, L<IO::AIO>.

=head1 LICENSE

Same terms as Perl itself.

=cut
