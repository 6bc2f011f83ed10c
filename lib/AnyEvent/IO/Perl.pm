package AnyEvent::IO::Perl;

use strict;
use warnings;

use AnyEvent ();
use AnyEvent::IO::Args ();
use Errno ();
use Time::HiRes ();

our $VERSION = $AnyEvent::VERSION;

package AnyEvent::IO;

our $MODEL = "AnyEvent::IO::Perl";

BEGIN {
    *_fail = \&AnyEvent::IO::Args::fail;
    *_target = \&AnyEvent::IO::Args::target;
    *_path_cb = \&AnyEvent::IO::Args::path_ok;
    *_fh_cb = \&AnyEvent::IO::Args::handle_ok;
    *_check_cb = \&AnyEvent::IO::Args::callback;
}

sub aio_load($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    open(my $fh, '<:raw', $path) or return $cb->();
    my $size = (stat $fh)[7];
    defined $size or return $cb->();
    my $data = '';
    while (length $data < $size) {
        my $n = sysread $fh, $data, $size - length $data, length $data;
        defined $n or return $cb->();
        last unless $n;
    }
    unless ($size) {
        defined sysread($fh, my $probe, 0) or return $cb->();    # a directory: EISDIR
    }
    close $fh;
    $cb->($data);
}

sub aio_open($$$$) {
    my ($path, $flags, $mode, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    sysopen(my $fh, $path, $flags // 0, $mode // 0) or return $cb->();
    $cb->($fh);
}

sub aio_close($$) {
    my ($fh, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    close($fh) ? $cb->(1) : $cb->();
}

sub aio_seek($$$$) {
    my ($fh, $offset, $whence, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    my $pos = sysseek $fh, $offset // 0, $whence // 0;
    defined $pos ? $cb->(0 + $pos) : $cb->();
}

sub aio_read($$$) {
    my ($fh, $length, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    $length //= 0;
    return _fail(Errno::EINVAL(), $cb) if $length < 0;
    my $data = '';
    no warnings 'io';    # a write-only handle: EBADF, as the system reports it
    defined sysread($fh, $data, $length) ? $cb->($data) : $cb->();
}

sub aio_write($$$) {
    my ($fh, $data, $cb) = @_;
    _check_cb($cb);
    _fh_cb($fh, $cb) or return;
    no warnings 'io';    # a read-only handle: EBADF
    my $n = syswrite $fh, $data // '';
    defined $n ? $cb->($n) : $cb->();
}

sub aio_truncate($$$) {
    my ($target, $length, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // return $cb->();
    truncate($target, $length // 0) ? $cb->(1) : $cb->();
}

sub aio_utime($$$$) {
    my ($target, $atime, $mtime, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // return $cb->();
    my $ok;
    if (defined $atime || defined $mtime) {
        # to the microsecond, as the other backends set it; one undef time alone is 0
        ($atime, $mtime) = map { my $s = int($_ // 0); $s + int((($_ // 0) - $s) * 1e6) / 1e6 } $atime, $mtime;
        $ok = Time::HiRes::utime($atime, $mtime, $target);
    } else {
        $ok = Time::HiRes::utime(undef, undef, $target);    # now
    }
    $ok ? $cb->(1) : $cb->();
}

sub aio_chown($$$$) {
    my ($target, $uid, $gid, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // return $cb->();
    chown($uid // -1, $gid // -1, $target) ? $cb->(1) : $cb->();
}

sub aio_chmod($$$) {
    my ($target, $perms, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // return $cb->();
    chmod($perms // 0, $target) ? $cb->(1) : $cb->();
}

sub aio_stat($$) {
    my ($target, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // do { my $e = $!; stat ''; $! = $e; return $cb->() };
    stat($target) ? $cb->(1) : $cb->();
}

sub aio_lstat($$) {
    my ($target, $cb) = @_;
    _check_cb($cb);
    $target = _target($target) // do { my $e = $!; lstat ''; $! = $e; return $cb->() };
    # lstat of a handle is a stat of it (without lstat's warning)
    (ref \$target eq 'GLOB' || ref $target ? stat($target) : lstat($target)) ? $cb->(1) : $cb->();
}

sub aio_link($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    link($old, $new) ? $cb->(1) : $cb->();
}

sub aio_symlink($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    symlink($old, $new) ? $cb->(1) : $cb->();
}

sub aio_readlink($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    my $target = readlink $path;
    defined $target ? $cb->($target) : $cb->();
}

sub aio_rename($$$) {
    my ($old, $new, $cb) = @_;
    _check_cb($cb);
    _path_cb($old, $cb) && _path_cb($new, $cb) or return;
    rename($old, $new) ? $cb->(1) : $cb->();
}

sub aio_unlink($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    unlink($path) ? $cb->(1) : $cb->();
}

sub aio_mkdir($$$) {
    my ($path, $perms, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    mkdir($path, $perms // 0777) ? $cb->(1) : $cb->();
}

sub aio_rmdir($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    rmdir($path) ? $cb->(1) : $cb->();
}

sub aio_readdir($$) {
    my ($path, $cb) = @_;
    _check_cb($cb);
    _path_cb($path, $cb) or return;
    opendir(my $dh, $path) or return $cb->();
    my @names = grep $_ ne '.' && $_ ne '..', readdir $dh;
    closedir($dh) ? $cb->(\@names) : $cb->();
}

1;

__END__

=head1 NAME

AnyEvent::IO::Perl - synchronous AnyEvent::IO backend using Perl's built-ins

=head1 SYNOPSIS

    use AnyEvent::IO::Perl;   # before AnyEvent::IO: select this backend
    use AnyEvent::IO;

    # or: PERL_ANYEVENT_IO_MODEL=Perl

=head1 DESCRIPTION

This backend of L<AnyEvent::IO> (see there for the functions) calls Perl's built-ins
(C<sysopen>, C<sysread>, C<stat> ...) directly: each C<aio_>I<xxx> call does its work and calls
its callback before it returns, and the program (with its event loop) waits meanwhile. It is
always available and has no overhead, which suits small programs that can afford to wait for
the disk; it is used only when asked for (C<PERL_ANYEVENT_IO_MODEL=Perl>, or loading this module
before AnyEvent::IO).

Arguments are checked as the other backends check them (an undefined path fails with
C<ENOENT>, a closed handle with C<EBADF>), so that the callback, never a warning or an
exception, reports bad input.

=head1 FUNCTIONS

The C<aio_*> functions of L<AnyEvent::IO>, defined in that package when this backend is
loaded.

=head1 SEE ALSO

L<AnyEvent::IO>.

=head1 LICENSE

Same terms as Perl itself.

=cut
