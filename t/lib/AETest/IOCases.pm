package AETest::IOCases;

# The AnyEvent::IO cases every backend runs, with identical expectations (results and $!):
# t/AnyEvent/IO/{Rust,Perl,IOAIO}.t select a backend and call run().

use strict;
use warnings;
use Test::More;
use AETest qw(tempdir recv_within);
use AnyEvent;
use AnyEvent::IO qw(:DEFAULT :flags);
use Errno qw(ENOENT EACCES EISDIR EBADF EEXIST EINVAL ENOTDIR ENOTEMPTY ESPIPE);
use Fcntl ();
use POSIX ();

# Calls an aio_* function and waits for its callback. Returns a hash: args (the callback's
# arguments), errno ($! as the callback saw it), stat (stat _ inside the callback), islink
# (-l _ inside it, undef when that croaks), async (whether the function returned first).
sub call {
    my ($f, @args) = @_;
    my $cv = AE::cv;
    my $returned = 0;
    $f->(@args, sub {
        my $errno = $! + 0;
        my @st = stat _;
        my $islink = eval { -l _ ? 1 : 0 };
        $cv->send({ args => [@_], errno => $errno, stat => \@st, islink => $islink, async => $returned });
    });
    $returned = 1;
    return recv_within($cv, 20, "callback");
}

sub ok_result {
    my ($r, $name) = @_;
    ok(scalar @{ $r->{args} }, $name) or diag("failed with: " . ($! = $r->{errno}));
}

sub fails_with {
    my ($r, $errno, $name) = @_;
    my $want = do { local $! = $errno; "$!" };
    my $got = do { local $! = $r->{errno}; "$!" };
    is(scalar @{ $r->{args} }, 0, "$name: no arguments");
    is($got, $want, "$name: \$! is '$want'");
}

# The EACCES cases in $acc (prepared by run): [name, result] each.
sub eacces_cases {
    my ($acc) = @_;
    my @cases = (
        ['aio_load below a mode 000 directory', \&aio_load, "$acc/locked/f"],
        ['aio_stat below a mode 000 directory', \&aio_stat, "$acc/locked/f"],
        ['aio_readdir of a mode 000 directory', \&aio_readdir, "$acc/locked"],
        ['aio_open of a mode 000 file', \&aio_open, "$acc/unreadable", O_RDONLY, 0],
        ['aio_load of a mode 000 file', \&aio_load, "$acc/unreadable"],
        ['aio_mkdir in a mode 000 directory', \&aio_mkdir, "$acc/locked/d", 0700],
        ['aio_unlink in a mode 000 directory', \&aio_unlink, "$acc/locked/f"],
        ['aio_rename out of a mode 000 directory', \&aio_rename, "$acc/locked/f", "$acc/g"],
    );
    return map { my ($name, $f, @args) = @$_; [$name, call($f, @args)] } @cases;
}

sub run {
    # the test started again by itself as user nobody: only the EACCES cases, reported on stdout
    if (my $acc = $ENV{AE_IO_EACCES_CHILD}) {
        $| = 1;
        print join("\t", 'EACCES', $_->[0], scalar @{ $_->[1]{args} }, $_->[1]{errno}), "\n" for eacces_cases($acc);
        POSIX::_exit(0);
    }
    my $dir = tempdir();
    my $umask = umask;

    # open, write, seek, read, stat of the handle, truncate, close
    my $r = call(\&aio_open, "$dir/f", O_CREAT | O_EXCL | O_RDWR, 0600);
    ok_result($r, 'aio_open creates');
    my $fh = $r->{args}[0];
    is(ref $fh, 'GLOB', 'aio_open passes a glob reference');
    ok(defined fileno $fh, '... an open handle');
    is(call(\&aio_write, $fh, "hello world")->{args}[0], 11, 'aio_write: bytes written');
    is(call(\&aio_seek, $fh, 0, 0)->{args}[0], 0, 'aio_seek to the start: 0');
    ok(exists call(\&aio_seek, $fh, 0, 0)->{args}[0], 'aio_seek to 0 passes a value');
    is(call(\&aio_read, $fh, 5)->{args}[0], 'hello', 'aio_read: 5 bytes');
    is(call(\&aio_read, $fh, 100)->{args}[0], ' world', 'aio_read: the rest');
    $r = call(\&aio_read, $fh, 10);
    is_deeply($r->{args}, [''], 'aio_read at the end: the empty string');
    is(call(\&aio_seek, $fh, -5, 2)->{args}[0], 6, 'aio_seek from the end');
    is(call(\&aio_seek, $fh, 2, 1)->{args}[0], 8, 'aio_seek from the current position');
    is(call(\&aio_read, $fh, 100)->{args}[0], 'rld', 'aio_read after aio_seek');
    fails_with(call(\&aio_seek, $fh, -100, 0), EINVAL, 'aio_seek before the start');
    $r = call(\&aio_stat, $fh);
    ok_result($r, 'aio_stat of a handle');
    is($r->{stat}[7], 11, '... its size in the stat buffer (_)');
    is($r->{stat}[2] & 07777, 0600 & ~$umask, '... its mode');
    ok(call(\&aio_truncate, $fh, 5)->{args}[0], 'aio_truncate of a handle');
    is(-s "$dir/f", 5, '... truncated');
    ok(call(\&aio_chmod, $fh, 0640)->{args}[0], 'aio_chmod of a handle');
    is((stat "$dir/f")[2] & 07777, 0640, '... mode set');
    ok(call(\&aio_utime, $fh, 1_000_000_000, 1_000_000_100.5)->{args}[0], 'aio_utime of a handle');
    is((stat "$dir/f")[9], 1_000_000_100, '... mtime set');
    ok(call(\&aio_chown, $fh, undef, undef)->{args}[0], 'aio_chown of a handle, nothing changed');
    is_deeply(call(\&aio_close, $fh)->{args}, [1], 'aio_close passes 1');
    ok(!defined fileno $fh, '... the handle is closed');
    fails_with(call(\&aio_close, $fh), EBADF, 'aio_close of a closed handle');

    # the handle's flags: O_APPEND, O_WRONLY, O_RDONLY
    $fh = call(\&aio_open, "$dir/f", O_WRONLY | O_APPEND, 0)->{args}[0];
    ok($fh, 'aio_open O_WRONLY|O_APPEND');
    is(call(\&aio_write, $fh, "++")->{args}[0], 2, '... appends');
    fails_with(call(\&aio_read, $fh, 1), EBADF, 'aio_read of a write-only handle');
    print {$fh} "!";    # a Perl-level write, buffered until the close
    ok(call(\&aio_close, $fh)->{args}[0], '... closed');
    is(call(\&aio_load, "$dir/f")->{args}[0], "hello++!", 'aio_load after appending (buffered data written by aio_close)');
    $fh = call(\&aio_open, "$dir/f", O_RDONLY, 0)->{args}[0];
    fails_with(call(\&aio_write, $fh, "x"), EBADF, 'aio_write to a read-only handle');
    is(scalar(<$fh>), "hello++!", 'a handle from aio_open reads with readline');
    ok(call(\&aio_close, $fh)->{args}[0], 'closed');

    # aio_load
    my $big = join '', map { chr($_ % 251) } 1 .. 200_000;
    { open my $w, '>', "$dir/big" or die $!; binmode $w; print $w $big; close $w }
    $r = call(\&aio_load, "$dir/big");
    is(length $r->{args}[0], length $big, 'aio_load of 200000 bytes: length');
    ok($r->{args}[0] eq $big, '... contents');
    ok(!utf8::is_utf8($r->{args}[0]), '... bytes');
    $r->{args}[0] .= "x" x 300_000;    # an ordinary string: grows, and is freed later
    is(length $r->{args}[0], 500_000, '... an ordinary string that can grow');
    substr($r->{args}[0], 0, 1, "");
    is(substr($r->{args}[0], 0, 2), substr($big, 1, 2), '... and shrink');
    { open my $w, '>', "$dir/empty" or die $! }
    is_deeply(call(\&aio_load, "$dir/empty")->{args}, [''], 'aio_load of an empty file: the empty string');

    # errors of open and load: ENOENT, EEXIST, EISDIR
    fails_with(call(\&aio_open, "$dir/missing", O_RDONLY, 0), ENOENT, 'aio_open of a missing file');
    fails_with(call(\&aio_open, "$dir/f", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST, 'aio_open O_EXCL of an existing file');
    fails_with(call(\&aio_open, $dir, O_WRONLY, 0), EISDIR, 'aio_open of a directory for writing');
    fails_with(call(\&aio_load, "$dir/missing"), ENOENT, 'aio_load of a missing file');
    fails_with(call(\&aio_load, $dir), EISDIR, 'aio_load of a directory');
    my $dh = call(\&aio_open, $dir, O_RDONLY, 0)->{args}[0];
    ok($dh, 'aio_open of a directory for reading');
    fails_with(call(\&aio_read, $dh, 10), EISDIR, 'aio_read of a directory');
    ok(call(\&aio_close, $dh)->{args}[0], 'closed');
    fails_with(call(\&aio_open, "$dir/missing/x", O_CREAT | O_WRONLY, 0600), ENOENT, 'aio_open O_CREAT in a missing directory');
    fails_with(call(\&aio_open, "$dir/f/x", O_RDONLY, 0), ENOTDIR, 'aio_open below a file');

    # stat, lstat, symlink, readlink, link, rename, unlink
    $r = call(\&aio_stat, "$dir/f");
    ok_result($r, 'aio_stat of a path');
    is($r->{stat}[7], 8, '... size');
    ok(call(\&aio_symlink, "f", "$dir/l")->{args}[0], 'aio_symlink');
    $r = call(\&aio_lstat, "$dir/l");
    ok_result($r, 'aio_lstat of a symlink');
    is($r->{islink}, 1, '... -l _ is true');
    $r = call(\&aio_stat, "$dir/l");
    is($r->{stat}[7], 8, 'aio_stat follows the symlink');
    is($r->{islink}, undef, '... and -l _ croaks after it, as after stat');
    is(call(\&aio_readlink, "$dir/l")->{args}[0], "f", 'aio_readlink');
    fails_with(call(\&aio_readlink, "$dir/f"), EINVAL, 'aio_readlink of a file');
    fails_with(call(\&aio_readlink, "$dir/missing"), ENOENT, 'aio_readlink of a missing path');
    fails_with(call(\&aio_symlink, "x", "$dir/l"), EEXIST, 'aio_symlink over an existing name');
    $r = call(\&aio_stat, "$dir/missing");
    fails_with($r, ENOENT, 'aio_stat of a missing path');
    ok(!-e _, '... -e _ is false after it');
    fails_with(call(\&aio_lstat, "$dir/missing"), ENOENT, 'aio_lstat of a missing path');
    ok(call(\&aio_link, "$dir/f", "$dir/hard")->{args}[0], 'aio_link');
    is((stat "$dir/f")[3], 2, '... two links');
    fails_with(call(\&aio_link, "$dir/missing", "$dir/hard2"), ENOENT, 'aio_link of a missing file');
    ok(call(\&aio_rename, "$dir/hard", "$dir/moved")->{args}[0], 'aio_rename');
    ok(!-e "$dir/hard" && -e "$dir/moved", '... moved');
    fails_with(call(\&aio_rename, "$dir/hard", "$dir/x"), ENOENT, 'aio_rename of a missing file');
    ok(call(\&aio_unlink, "$dir/moved")->{args}[0], 'aio_unlink');
    ok(!-e "$dir/moved", '... gone');
    fails_with(call(\&aio_unlink, "$dir/moved"), ENOENT, 'aio_unlink of a missing file');
    fails_with(call(\&aio_unlink, $dir), EISDIR, 'aio_unlink of a directory');

    # truncate, chmod, utime, chown of paths
    ok(call(\&aio_truncate, "$dir/f", 3)->{args}[0], 'aio_truncate of a path');
    is(-s "$dir/f", 3, '... size 3');
    fails_with(call(\&aio_truncate, "$dir/missing", 0), ENOENT, 'aio_truncate of a missing path');
    fails_with(call(\&aio_truncate, $dir, 0), EISDIR, 'aio_truncate of a directory');
    ok(call(\&aio_chmod, "$dir/f", 0604)->{args}[0], 'aio_chmod of a path');
    is((stat "$dir/f")[2] & 07777, 0604, '... mode set');
    fails_with(call(\&aio_chmod, "$dir/missing", 0600), ENOENT, 'aio_chmod of a missing path');
    ok(call(\&aio_utime, "$dir/f", 1_200_000_000.25, 1_300_000_000.5)->{args}[0], 'aio_utime of a path');
    {
        require Time::HiRes;
        my @st = Time::HiRes::stat("$dir/f");
        is($st[8], 1_200_000_000.25, '... atime, with its fraction');
        is($st[9], 1_300_000_000.5, '... mtime, with its fraction');
    }
    ok(call(\&aio_utime, "$dir/f", undef, undef)->{args}[0], 'aio_utime to now');
    cmp_ok(abs((stat "$dir/f")[9] - time), '<', 100, '... mtime is now');
    ok(call(\&aio_utime, "$dir/f", undef, 7)->{args}[0], 'aio_utime with one undef time');
    is_deeply([(stat "$dir/f")[8, 9]], [0, 7], '... that one is 0');
    fails_with(call(\&aio_utime, "$dir/missing", 1, 1), ENOENT, 'aio_utime of a missing path');
    my ($uid, $gid) = ((stat "$dir/f")[4, 5]);
    ok(call(\&aio_chown, "$dir/f", $uid, $gid)->{args}[0], 'aio_chown to the same owner');
    ok(call(\&aio_chown, "$dir/f", undef, $gid)->{args}[0], 'aio_chown of the group only');
    fails_with(call(\&aio_chown, "$dir/missing", $uid, $gid), ENOENT, 'aio_chown of a missing path');
    if ($> == 0) {
        ok(call(\&aio_chown, "$dir/f", 4321, undef)->{args}[0], 'aio_chown to another owner (root)');
        is_deeply([(stat "$dir/f")[4, 5]], [4321, $gid], '... owner changed, group kept');
    }

    # directories
    ok(call(\&aio_mkdir, "$dir/d", 0750)->{args}[0], 'aio_mkdir');
    ok(-d "$dir/d", '... a directory');
    is((stat "$dir/d")[2] & 07777, 0750 & ~$umask, '... with the mode (umask applied)');
    fails_with(call(\&aio_mkdir, "$dir/d", 0700), EEXIST, 'aio_mkdir of an existing directory');
    fails_with(call(\&aio_mkdir, "$dir/missing/d", 0700), ENOENT, 'aio_mkdir in a missing directory');
    for my $name (qw(a b c)) { open my $w, '>', "$dir/d/$name" or die $! }
    mkdir "$dir/d/sub";
    $r = call(\&aio_readdir, "$dir/d");
    is(ref $r->{args}[0], 'ARRAY', 'aio_readdir passes an array reference');
    is_deeply([sort @{ $r->{args}[0] }], [qw(a b c sub)], '... of the names, without . and ..');
    is_deeply(call(\&aio_readdir, "$dir/d/sub")->{args}, [[]], 'aio_readdir of an empty directory');
    fails_with(call(\&aio_readdir, "$dir/f"), ENOTDIR, 'aio_readdir of a file');
    fails_with(call(\&aio_readdir, "$dir/missing"), ENOENT, 'aio_readdir of a missing directory');
    fails_with(call(\&aio_rmdir, "$dir/d"), ENOTEMPTY, 'aio_rmdir of a non-empty directory');
    fails_with(call(\&aio_rmdir, "$dir/f"), ENOTDIR, 'aio_rmdir of a file');
    ok(call(\&aio_rmdir, "$dir/d/sub")->{args}[0], 'aio_rmdir');
    ok(!-e "$dir/d/sub", '... gone');
    fails_with(call(\&aio_rmdir, "$dir/d/sub"), ENOENT, 'aio_rmdir of a missing directory');

    # pipes: seeking is an error
    pipe(my $pr, my $pw) or die $!;
    fails_with(call(\&aio_seek, $pr, 0, 0), ESPIPE, 'aio_seek on a pipe');
    is(call(\&aio_write, $pw, "through")->{args}[0], 7, 'aio_write to a pipe');
    is(call(\&aio_read, $pr, 100)->{args}[0], "through", 'aio_read from a pipe');
    close $pw;
    is_deeply(call(\&aio_read, $pr, 100)->{args}, [''], 'aio_read at the end of a pipe');

    # permissions: EACCES, as a user without the permission (root, which passes permission
    # checks, runs these cases in a new process of this test as user nobody)
    {
        chmod 0711, $dir;
        mkdir "$dir/acc", 0755 or die $!;
        mkdir "$dir/acc/locked" or die $!;
        { open my $w, '>', "$dir/acc/locked/f" or die $! }
        { open my $w, '>', "$dir/acc/unreadable" or die $! }
        chmod 0000, "$dir/acc/unreadable", "$dir/acc/locked";
        my @results;
        if ($> != 0) {
            @results = eacces_cases("$dir/acc");
        } else {
            local $ENV{AE_IO_EACCES_CHILD} = "$dir/acc";
            my $pid = open(my $from, '-|') // die "fork: $!";
            if (!$pid) {
                my $nobody = getpwnam('nobody') // 65534;
                POSIX::setgid($nobody);
                POSIX::setuid($nobody);
                if ($> == 0 || $< == 0) { print "setuid failed\n"; POSIX::_exit(1) }
                exec($^X, (map { "-I$_" } grep { !ref } @INC), $0) or POSIX::_exit(127);
            }
            while (my $line = <$from>) {
                chomp $line;
                my ($tag, $name, $n, $errno) = split /\t/, $line;
                next unless $tag eq 'EACCES' && defined $errno;    # (the test's own output before it)
                push @results, [$name, { args => [(1) x $n], errno => $errno }];
            }
            close $from;
            is($?, 0, 'EACCES cases ran in a new process as user nobody');
        }
        is(scalar @results, 8, 'every EACCES case ran');
        fails_with($_->[1], EACCES, $_->[0]) for @results;
        chmod 0700, "$dir/acc/locked";
    }
    SKIP: {
        # root passes permission checks, but not a read-only sysctl (mode 0444) opened for writing
        my $ro = '/proc/sys/kernel/version';
        skip "$ro cannot be opened", 2 unless -e $ro;
        my $plain = sysopen(my $probe, $ro, Fcntl::O_WRONLY()) ? 0 : $! + 0;
        skip "opening $ro for writing does not fail with EACCES here", 2 unless $plain == EACCES;
        fails_with(call(\&aio_open, $ro, O_WRONLY, 0), EACCES, 'aio_open of a read-only sysctl for writing');
    }

    # bad input: undef or NUL paths, closed handles, non-handles, bad numbers
    for my $case (
        [aio_load => \&aio_load], [aio_stat => \&aio_stat], [aio_lstat => \&aio_lstat],
        [aio_readlink => \&aio_readlink], [aio_unlink => \&aio_unlink], [aio_rmdir => \&aio_rmdir],
        [aio_readdir => \&aio_readdir],
    ) {
        my ($name, $f) = @$case;
        fails_with(call($f, undef), ENOENT, "$name of undef");
        fails_with(call($f, "$dir/f\0x"), ENOENT, "$name of a path with a NUL byte");
    }
    fails_with(call(\&aio_open, undef, O_RDONLY, 0), ENOENT, 'aio_open of undef');
    fails_with(call(\&aio_mkdir, undef, 0700), ENOENT, 'aio_mkdir of undef');
    fails_with(call(\&aio_truncate, undef, 0), ENOENT, 'aio_truncate of undef');
    fails_with(call(\&aio_chmod, undef, 0600), ENOENT, 'aio_chmod of undef');
    fails_with(call(\&aio_chown, undef, undef, undef), ENOENT, 'aio_chown of undef');
    fails_with(call(\&aio_utime, undef, 1, 1), ENOENT, 'aio_utime of undef');
    fails_with(call(\&aio_link, "$dir/f", undef), ENOENT, 'aio_link to undef');
    fails_with(call(\&aio_symlink, undef, "$dir/s"), ENOENT, 'aio_symlink of undef');
    fails_with(call(\&aio_rename, undef, "$dir/r"), ENOENT, 'aio_rename of undef');
    ok(-e "$dir/f", 'the file is still there');

    open my $closed, '<', "$dir/f" or die $!;
    close $closed;
    for my $case (
        [aio_read => \&aio_read, 10], [aio_write => \&aio_write, "x"], [aio_seek => \&aio_seek, 0, 0],
        [aio_close => \&aio_close], [aio_stat => \&aio_stat], [aio_lstat => \&aio_lstat],
        [aio_truncate => \&aio_truncate, 0], [aio_chmod => \&aio_chmod, 0600],
        [aio_chown => \&aio_chown, undef, undef], [aio_utime => \&aio_utime, undef, undef],
    ) {
        my ($name, $f, @rest) = @$case;
        fails_with(call($f, $closed, @rest), EBADF, "$name of a closed handle");
    }
    for my $case ([aio_read => \&aio_read, 10], [aio_write => \&aio_write, "x"], [aio_seek => \&aio_seek, 0, 0], [aio_close => \&aio_close]) {
        my ($name, $f, @rest) = @$case;
        fails_with(call($f, "$dir/f", @rest), EBADF, "$name of a path (not a handle)");
        fails_with(call($f, undef, @rest), EBADF, "$name of undef");
    }
    open my $rfh, '<', "$dir/f" or die $!;
    fails_with(call(\&aio_read, $rfh, -1), EINVAL, 'aio_read of a negative length');
    is_deeply(call(\&aio_read, $rfh, 0)->{args}, [''], 'aio_read of 0 bytes');
    is(call(\&aio_read, \*$rfh, 2)->{args}[0], 'he', 'aio_read of a glob (not a reference)');
    is(call(\&aio_read, *$rfh{IO}, 1)->{args}[0], 'l', 'aio_read of an IO object');
    close $rfh;

    # a callback is required
    for my $bad (undef, 'string', []) {
        ok(!eval { aio_stat("$dir/f", $bad); 1 }, 'aio_stat without a code reference croaks');
    }

    # a condvar as the callback
    my $cv = AE::cv;
    aio_stat "$dir/f", $cv;
    is_deeply([recv_within($cv, 20, 'condvar callback')], [1], 'a condvar works as the callback');

    # strings passed to callbacks stay intact however they are kept, while more loads and
    # reads follow (the Rust backend reuses the buffers of strings nobody kept)
    {
        my @content = map { chr(65 + $_) x (1000 + $_) } 0 .. 9;
        for my $i (0 .. 9) { open my $w, '>', "$dir/k$i" or die $!; print $w $content[$i] }
        my (@copies, @refs, @aliases, @substrs);
        my $all = AE::cv;
        for my $i (0 .. 9) {
            $all->begin;
            aio_load("$dir/k$i", sub {
                push @copies, [$i, $_[0]];
                push @refs, [$i, \$_[0]];
                push @aliases, [$i, \@_];
                push @substrs, [$i, substr($_[0], 0, 10)];
                $all->end;
            });
        }
        recv_within($all, 20, 'kept loads');
        my $more = AE::cv;
        for my $round (1 .. 5) {
            for my $i (0 .. 9) {
                $more->begin;
                aio_load("$dir/k" . (9 - $i), sub { $more->end });
            }
        }
        recv_within($more, 20, 'more loads');
        my $bad = 0;
        for (@copies, @refs, @aliases) {
            my ($i, $v) = @$_;
            my $s = ref $v eq 'SCALAR' ? $$v : ref $v eq 'ARRAY' ? $v->[0] : $v;
            $bad++ unless $s eq $content[$i];
        }
        for (@substrs) { $bad++ unless $_->[1] eq substr($content[$_->[0]], 0, 10) }
        is($bad, 0, 'loaded strings kept by copy, reference or alias are intact after more loads');
    }

    # many at once
    my $all = AE::cv;
    my %seen;
    for my $i (1 .. 200) {
        $all->begin;
        aio_stat($i % 2 ? "$dir/f" : "$dir/missing$i", sub { $seen{$i} = @_ ? 'ok' : $! + 0; $all->end });
    }
    recv_within($all, 30, '200 requests');
    is(scalar(grep { $seen{$_} eq ($_ % 2 ? 'ok' : ENOENT) } 1 .. 200), 200, '200 requests at once: each its own result');
}

1;
