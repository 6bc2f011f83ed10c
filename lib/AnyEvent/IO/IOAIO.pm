package AnyEvent::IO::IOAIO;

use strict;
use warnings;

use AnyEvent ();
use AnyEvent::IO::Args ();
use Errno ();
use Scalar::Util ();
use IO::AIO 4.13 ();
use AnyEvent::AIO ();

our $VERSION = $AnyEvent::VERSION;

package AnyEvent::IO;

our $MODEL = "AnyEvent::IO::IOAIO";

BEGIN {
    *_fail = \&AnyEvent::IO::Args::fail;
    *_target = \&AnyEvent::IO::Args::target;
    *_path_cb = \&AnyEvent::IO::Args::path_ok;
    *_fh_cb = \&AnyEvent::IO::Args::handle_ok;
    *_check_cb = \&AnyEvent::IO::Args::callback;
}

# IO::AIO reports a status (0 or a count: success; -1: failure with $! set) or a result (undef
# on failure); these turn that into the AnyEvent::IO convention.
sub _status_cb { my ($cb) = @_; sub { $_[0] < 0 ? $cb->() : $cb->(1) } }
sub _count_cb  { my ($cb) = @_; sub { $_[0] < 0 ? $cb->() : $cb->($_[0]) } }

# IO::AIO takes globs and glob references, not bare IO objects (*STDIN{IO}): those are put in a
# glob of their own.
sub _glob {
    my ($fh) = @_;
    return $fh unless ref $fh && Scalar::Util::reftype($fh) eq 'IO';
    my $glob = \do { no warnings 'once'; local *FH };
    *$glob = $fh;
    return $glob;
}

# Calls an IO::AIO request on a handle. IO::AIO croaks for a handle whose Perl-level mode does
# not allow the request (aio_write to a handle opened for input); the system would say EBADF,
# and so does the callback.
sub _on_handle {
    my ($request, $cb) = @_;
    local $@;
    eval { $request->(); 1 } or _fail(Errno::EBADF(), $cb);
    return;
}

sub aio_load($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    my $data;
    IO::AIO::aio_load($path, $data, sub { $_[0] < 0 ? $cb->() : $cb->($data // '') });
}

sub aio_open($$$$) {
    my ($path, $flags, $mode, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_open($path, $flags // 0, $mode // 0, sub {
        my ($fh) = @_;
        $fh or return $cb->();
        # IO::AIO passes a glob; Perl's sysopen (and the other backends) a glob reference.
        $cb->(ref $fh ? $fh : \$fh);
    });
}

sub aio_close($$) {
    my ($fh, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    $fh = _glob($fh);
    # Data buffered by print is written now, as close would (IO::AIO closes the descriptor).
    select((select($fh), $| = 1)[0]);
    _on_handle(sub {
        IO::AIO::aio_close($fh, sub {
            my ($status, $errno) = ($_[0], $! + 0);
            # IO::AIO left the handle open on a placeholder: close that, so that the handle is
            # closed afterwards, as with the other backends.
            { no warnings; close $fh }
            $! = $errno;
            $status < 0 ? $cb->() : $cb->(1);
        });
    }, $cb);
}

sub aio_seek($$$$) {
    my ($fh, $offset, $whence, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    $fh = _glob($fh);
    _on_handle(sub { IO::AIO::aio_seek($fh, $offset // 0, $whence // 0, _count_cb($cb)) }, $cb);
}

sub aio_read($$$) {
    my ($fh, $length, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    $fh = _glob($fh);
    $length //= 0;
    return _fail(Errno::EINVAL(), $cb) if $length < 0;
    my $data = '';
    _on_handle(sub { IO::AIO::aio_read($fh, undef, $length, $data, 0, sub { $_[0] < 0 ? $cb->() : $cb->($data) }) }, $cb);
}

sub aio_write($$$) {
    my ($fh, $data, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    $fh = _glob($fh);
    $data //= '';
    _on_handle(sub { IO::AIO::aio_write($fh, undef, length $data, $data, 0, _count_cb($cb)) }, $cb);
}

sub aio_truncate($$$) {
    my ($target, $length, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // return $cb->();
    IO::AIO::aio_truncate($target, $length // 0, _status_cb($cb));
}

sub aio_utime($$$$) {
    my ($target, $atime, $mtime, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // return $cb->();
    ($atime, $mtime) = ($atime // 0, $mtime // 0) if defined $atime || defined $mtime;
    IO::AIO::aio_utime($target, $atime, $mtime, _status_cb($cb));
}

sub aio_chown($$$$) {
    my ($target, $uid, $gid, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // return $cb->();
    IO::AIO::aio_chown($target, $uid, $gid, _status_cb($cb));
}

sub aio_chmod($$$) {
    my ($target, $perms, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // return $cb->();
    IO::AIO::aio_chmod($target, $perms // 0, _status_cb($cb));
}

sub aio_stat($$) {
    my ($target, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // do { my $e = $!; stat ''; $! = $e; return $cb->() };
    IO::AIO::aio_stat($target, _status_cb($cb));
}

sub aio_lstat($$) {
    my ($target, $cb) = @_;
    _check_cb($cb);
    $target = _glob(_target($target)) // do { my $e = $!; lstat ''; $! = $e; return $cb->() };
    IO::AIO::aio_lstat($target, _status_cb($cb));
}

sub aio_link($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    IO::AIO::aio_link($old, $new, _status_cb($cb));
}

sub aio_symlink($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    IO::AIO::aio_symlink($old, $new, _status_cb($cb));
}

sub aio_readlink($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_readlink($path, sub { defined $_[0] ? $cb->($_[0]) : $cb->() });
}

sub aio_rename($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    IO::AIO::aio_rename($old, $new, _status_cb($cb));
}

sub aio_unlink($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_unlink($path, _status_cb($cb));
}

sub aio_mkdir($$$) {
    my ($path, $perms, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_mkdir($path, $perms // 0777, _status_cb($cb));
}

sub aio_rmdir($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_rmdir($path, _status_cb($cb));
}

sub aio_readdir($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    IO::AIO::aio_readdirx($path, IO::AIO::READDIR_DIRS_FIRST() | IO::AIO::READDIR_STAT_ORDER(),
        sub { $_[0] ? $cb->($_[0]) : $cb->() });
}

1;

__END__

=head1 NAME

AnyEvent::IO::IOAIO - AnyEvent::IO backend using IO::AIO

=head1 SYNOPSIS

    use IO::AIO;
    use AnyEvent::AIO;
    use AnyEvent::IO;         # now uses IO::AIO's threads

    # or: PERL_ANYEVENT_IO_MODEL=IOAIO

=head1 DESCRIPTION

This backend of L<AnyEvent::IO> (see there for the functions) hands each request to
L<IO::AIO>, whose thread pool does the I/O; C<AnyEvent::AIO> (from CPAN; required) delivers the results
through the event loop. It is chosen when the program has loaded both modules before
AnyEvent::IO, or with C<PERL_ANYEVENT_IO_MODEL=IOAIO>; it needs IO::AIO 4.13 or newer.

Arguments are checked before IO::AIO sees them, as with the other backends: bad ones fail the
callback (an undefined path with C<ENOENT>, a closed handle with C<EBADF>; in that case the
callback is called before the function returns), instead of IO::AIO's exceptions. Handles from
C<aio_open> are glob references, as with the other backends. C<aio_readdir> lists directories
first (IO::AIO's C<READDIR_DIRS_FIRST>), in an order fast to C<stat> through.

As IO::AIO does, C<aio_close> may leave the handle open on another file: do not use it after.
IO::AIO waits for its outstanding requests at program end.

=head1 FUNCTIONS

The C<aio_*> functions of L<AnyEvent::IO>, defined in that package when this backend is
loaded.

=head1 SEE ALSO

L<AnyEvent::IO>, L<IO::AIO>, C<AnyEvent::AIO> (CPAN).

=head1 LICENSE

Same terms as Perl itself.

=cut
