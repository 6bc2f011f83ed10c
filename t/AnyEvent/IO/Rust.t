# AnyEvent::IO with its default backend, the Rust worker pool: the shared cases
# (t/lib/AETest/IOCases.pm), then what only this backend promises: the loop keeps running
# while file I/O is stuck or slow (FIFOs, a large file), handles closed while a request is
# outstanding, fork, a dying callback, $! in callbacks, the thread limit, the program's end.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir recv_within);
use Errno qw(ENOTTY ENOENT);
use Fcntl ();
use POSIX ();
BEGIN { delete $ENV{PERL_ANYEVENT_IO_MODEL} }
use AnyEvent::IO qw(:DEFAULT :flags);
use AETest::IOCases;

watchdog(120);
is($AnyEvent::IO::MODEL, 'AnyEvent::IO::Rust', 'model: the default');
AETest::IOCases::run();

# callbacks are called from the loop, after the function returned
my $called = 0;
my $cv = AE::cv;
aio_stat('/', sub { $called = 1; $cv->send });
ok(!$called, 'the callback is not called before aio_stat returns');
$cv->recv;
ok($called, '... but from the loop');

my $dir = tempdir();

# Runs the loop until $cv is sent, with a 10 ms interval timer and an idle watcher; returns the
# number of ticks and of idle calls meanwhile. A backend that blocked the loop would leave both at
# 0 (the FIFO cases would not even finish: their writer is opened from a timer). The thresholds
# ask for a fraction of the ticks due, so that a busy machine's scheduling does not fail them.
sub ticking {
    my ($cv, $what) = @_;
    my ($ticks, $idles) = (0, 0);
    my $t = AE::timer(0.01, 0.01, sub { $ticks++ });
    my $i = AE::idle(sub { $idles++ });
    my @r = recv_within($cv, 30, $what);
    return ($ticks, $idles, @r);
}

# A FIFO that nobody opens for writing: aio_open blocks a worker, not the loop.
{
    POSIX::mkfifo("$dir/fifo", 0600) or die "mkfifo: $!";
    my $opened = AE::cv;
    aio_open("$dir/fifo", O_RDONLY, 0, sub { $opened->send(@_) });
    my $stat = AE::cv;
    aio_stat("$dir", sub { $stat->send(scalar @_) });
    is((recv_within($stat, 10, 'stat while a FIFO open is stuck'))[0], 1, 'other requests complete while a FIFO open is stuck');
    my $writer;
    my $w = AE::timer(0.3, 0, sub {
        # a reader is waiting, so a non-blocking open for writing succeeds and releases it
        sysopen($writer, "$dir/fifo", Fcntl::O_WRONLY() | Fcntl::O_NONBLOCK()) or die "open writer: $!";
    });
    my ($ticks, $idles, $fh) = ticking($opened, 'FIFO open');
    ok($fh, 'aio_open of the FIFO completes once a writer opens it');
    cmp_ok($ticks, '>=', 5, "timers fired while it was stuck ($ticks ticks of the ~30 due)");

    # aio_read of the FIFO with no data: the read waits in a worker
    my $read = AE::cv;
    aio_read($fh, 100, sub { $read->send(@_) });
    my $t = AE::timer(0.2, 0, sub { syswrite $writer, "late data" });
    ($ticks, $idles, my $data) = ticking($read, 'FIFO read');
    is($data, 'late data', 'aio_read of an empty FIFO completes when data comes');
    cmp_ok($ticks, '>=', 4, "timers fired meanwhile ($ticks ticks of the ~20 due)");

    # the handle is closed (and its descriptor number reused) while a read is outstanding: the
    # request still reads the FIFO
    $read = AE::cv;
    aio_read($fh, 100, sub { $read->send(@_) });
    my $fd = fileno $fh;
    close $fh;
    open(my $other, '+>', "$dir/fifo.other") or die $!;    # likely gets the same descriptor
    syswrite $writer, "still the fifo";
    is((recv_within($read, 10, 'read after close'))[0], 'still the fifo', 'a request on a handle closed meanwhile still reads its file');
    close $writer;
}

# Quick requests queued before and after a stuck one all complete while it is stuck (results
# held back to wake the loop once for several are released before a request that may block).
{
    POSIX::mkfifo("$dir/fifo3", 0600) or die "mkfifo: $!";
    my $stats = AE::cv;
    $stats->begin, aio_stat("/", sub { $stats->end }) for 1 .. 50;
    my $opened = AE::cv;
    aio_open("$dir/fifo3", O_RDONLY, 0, sub { $opened->send(@_) });
    $stats->begin, aio_stat("/", sub { $stats->end }) for 1 .. 50;
    recv_within($stats, 10, 'stats around a stuck open');
    pass('100 quick requests around a stuck one complete while it is stuck');
    sysopen(my $writer, "$dir/fifo3", Fcntl::O_WRONLY() | Fcntl::O_NONBLOCK()) or die "open writer: $!";
    ok((recv_within($opened, 10, 'fifo3 open'))[0], '... and then the stuck one');
}

# A large file: loading it does not hold up timers.
{
    my $size = 64 * 1024 * 1024;
    open(my $w, '>', "$dir/large") or die $!;
    truncate $w, $size or die $!;
    close $w;
    my $done = AE::cv;
    aio_load("$dir/large", sub { $done->send(length $_[0]) });
    my ($ticks, $idles, $len) = ticking($done, 'large load');
    is($len, $size, 'aio_load of 64 MiB');
    cmp_ok($idles, '>', 0, "the loop kept running meanwhile ($idles idle calls, $ticks ticks)");
}

# $! in callbacks: the program's on success, the request's on failure.
{
    my $cv = AE::cv;
    aio_stat("/", sub { $cv->send($! + 0) });
    $! = ENOTTY;
    is((recv_within($cv, 10, 'errno'))[0], ENOTTY, 'a successful callback sees the program\'s $!');
    $cv = AE::cv;
    aio_stat("$dir/missing", sub { $cv->send($! + 0) });
    $! = ENOTTY;
    is((recv_within($cv, 10, 'errno'))[0], ENOENT, 'a failed one the error');
}

# A callback that dies: the exception leaves the loop, the other results are still delivered.
# Under a foreign loop the loop decides (see AnyEvent::Impl::Embed): Event, IO::Async and Tk
# pass it on like ours, EV, GLib and Mojo report it and go on, POE stops all its sessions.
SKIP: {
    skip 'POE stops every session when a callback dies', 3 if AnyEvent::detect() eq 'AnyEvent::Impl::POE';
    my $passes_on = AnyEvent::detect() =~ /::(?:Rust|Perl|Event|IOAsync|Tk)$/;
    my @reported;
    local $SIG{__WARN__} = $passes_on ? $SIG{__WARN__} : sub { push @reported, @_ };
    my $all = AE::cv;
    my $called = 0;
    my $died = 0;
    for my $i (1 .. 20) {
        $all->begin;
        aio_stat("/", sub { $called++; $all->end; die "first\n" unless $died++ });
    }
    if ($passes_on) {
        ok(!eval { $all->recv; 1 }, 'the exception of a callback comes out of recv');
        is($@, "first\n", '... with its message');
    } else {
        ok(eval { recv_within($all, 10, 'all callbacks'); 1 }, 'the foreign loop reports the exception and goes on');
        like("@reported", qr/\bfirst\b/, '... as a warning');
    }
    recv_within($all, 10, 'the other callbacks');
    is($called, 20, 'the other 19 callbacks are still called');
}

# The thread limit (4 by default).
{
    my $all = AE::cv;
    $all->begin, aio_stat("/", sub { $all->end }) for 1 .. 500;
    recv_within($all, 30, '500 stats');
    opendir(my $tasks, "/proc/$$/task") or die $!;
    my $threads = grep /^\d+$/, readdir $tasks;
    cmp_ok($threads - 1, '<=', 4, 'at most 4 worker threads');
}

# fork: the child has a pool of its own, without the parent's requests.
{
    POSIX::mkfifo("$dir/fifo2", 0600) or die $!;
    my $parent_open = AE::cv;
    aio_open("$dir/fifo2", O_RDONLY, 0, sub { $parent_open->send(@_) });    # outstanding across the fork
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $ok = 0;
        my $cv = AE::cv;
        aio_stat($dir, sub { $cv->send(scalar @_) });
        my $t = AE::timer(10, 0, sub { $cv->send(0) });
        $ok = $cv->recv;
        POSIX::_exit($ok ? 0 : 1);
    }
    my $child = AE::cv;
    my $cw = AE::child($pid, sub { $child->send($_[1]) });
    is((recv_within($child, 20, 'child'))[0], 0, 'after fork, a request in the child completes');
    sysopen(my $writer, "$dir/fifo2", Fcntl::O_WRONLY()) or die $!;
    ok((recv_within($parent_open, 10, 'parent open'))[0], 'the parent\'s outstanding request completes in the parent');
}

# At the program's end, outstanding requests are completed (and may start more).
{
    my $script = q{aio_stat "/", sub { aio_stat "/nonexistent", sub { print "both: $!\n" } }};
    my $out = `$^X -Mblib -MAnyEvent::IO -e '$script' 2>&1`;
    my $enoent = do { local $! = ENOENT; "$!" };
    is($out, "both: $enoent\n", 'requests outstanding at the end are completed');
}

done_testing;
