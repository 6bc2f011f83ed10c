# io watchers: level-triggered readiness on pipes, sockets, files; the handle forms AnyEvent
# accepts; many watchers per fd; fd reuse; watcher lifetime.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir recv_within run_for);
use AnyEvent;
use IO::Handle;
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);

watchdog(20);

sub new_socketpair {
    socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    $_->autoflush(1) for $x, $y;
    return ($x, $y);
}

subtest 'read watcher fires on data and keeps firing while it stays unread' => sub {
    pipe(my $r, my $w) or die "pipe: $!";
    $w->autoflush(1);
    my $calls = 0;
    my $cv = AE::cv;
    my $io = AnyEvent->io(fh => $r, poll => 'r', cb => sub { $cv->send if ++$calls == 5 });
    run_for(0.05);
    is $calls, 0, 'no call while the pipe is empty';
    my $feed = AE::timer 0.01, 0, sub { syswrite $w, "x" };
    recv_within($cv, 3, 'five calls on unread data');
    is $calls, 5, 'called again and again while the byte stays unread (level-triggered)';
    sysread $r, my $buf, 10;
    is $buf, 'x', 'the byte written is there';
    my $before = $calls;
    run_for(0.05);
    is $calls, $before, 'no more calls once the data has been read';
};

subtest 'fh forms: glob, globref, IO::Handle object, IO slot, fd number' => sub {
    pipe(R, W) or die "pipe: $!";
    W->autoflush(1);
    syswrite W, "y";
    my $fd = fileno R;
    my %form = (
        'bareword glob'     => *R,
        'glob reference'    => \*R,
        'IO slot (*R{IO})'  => *R{IO},
        'IO::Handle object' => IO::Handle->new_from_fd($fd, 'r'),
        'fd number'         => $fd,
        'fd number string'  => "$fd",
    );
    for my $name (sort keys %form) {
        my $cv = AE::cv;
        my $io = AnyEvent->io(fh => $form{$name}, poll => 'r', cb => sub { $cv->send(1) });
        ok recv_within($cv, 2, $name), "$name: watcher fires";
    }
    my $cv = AE::cv;
    my $io = AE::io \*W, 1, sub { $cv->send(1) };
    ok recv_within($cv, 2, 'write end'), 'write watcher on the write end of a pipe fires';
};

subtest '10000 watchers on one fd all fire' => sub {
    my ($x, $y) = new_socketpair();
    my %seen;
    my $cv = AE::cv;
    my @w = map { my $i = $_; AE::io $x, 0, sub { $seen{$i}++; $cv->send if keys %seen == 10000 } } 1 .. 10000;
    syswrite $y, "z";
    recv_within($cv, 5, '10000 watchers');
    is scalar(keys %seen), 10000, 'every one of the 10000 watchers was called';
    my @once = grep { $seen{$_} != 1 } keys %seen;
    is scalar(@once), 0, "each was called exactly once in that iteration";
    @w = ();
    my $calls = 0;
    my $probe = AE::io $x, 0, sub { $calls++ };
    run_for(0.02);
    ok $calls > 0, 'a new watcher on the same fd still works after 10000 were destroyed';
};

subtest 'read and write watchers on one socket' => sub {
    my ($x, $y) = new_socketpair();
    my ($reads, $writes) = (0, 0);
    my $cv = AE::cv;
    my ($rw, $ww);
    $ww = AnyEvent->io(fh => $x, poll => 'w', cb => sub {
        $writes++;
        undef $ww;
        syswrite $y, "ping";   # the peer answers: now $x becomes readable
    });
    $rw = AnyEvent->io(fh => $x, poll => 'r', cb => sub {
        $reads++;
        sysread $x, my $buf, 10;
        $cv->send($buf);
    });
    is recv_within($cv, 2, 'read on the socket'), 'ping', 'read watcher got the data';
    is $writes, 1, 'write watcher fired (socket writable), once before it stopped itself';
    is $reads, 1, 'read watcher fired once';
};

subtest 'fd reuse: no stale events for a new file under an old number' => sub {
    for my $keep_old_open (0, 1) {
        my $label = $keep_old_open ? 'old pipe still open through a dup' : 'old pipe gone';
        pipe(my $r1, my $w1) or die;
        $w1->autoflush(1);
        my $old_fd = fileno $r1;
        my $old_calls = 0;
        my $cv = AE::cv;
        my $old = AE::io $r1, 0, sub { $old_calls++; $cv->send };
        syswrite $w1, "old data";
        recv_within($cv, 2, 'old watcher');
        ok $old_calls >= 1, "$label: old watcher fired for the old pipe";
        open(my $dup, '<&', $r1) or die "dup: $!" if $keep_old_open;
        close $r1;               # the watcher is still alive
        pipe(my $r2, my $w2) or die;
        $w2->autoflush(1);
        is fileno($r2), $old_fd, "$label: the new pipe reuses fd $old_fd";
        $old_calls = 0;
        my $new_calls = 0;
        my $got = AE::cv;
        my $new = AE::io $r2, 0, sub { $new_calls++; $got->send };
        run_for(0.1);
        is $new_calls, 0, "$label: new watcher not called for the old file's data";
        is $old_calls, 0, "$label: old watcher gets nothing stale";
        syswrite $w2, "new";
        recv_within($got, 2, 'new watcher');
        is $new_calls, 1, "$label: new watcher fires for real data on the new pipe";
        sysread $r2, my $buf, 10;
        is $buf, 'new', "$label: and it is the new pipe's data";
        undef $old;
        undef $new;
    }
};

subtest 'regular files and /dev/null are always ready' => sub {
    my $file = tempdir() . '/data';
    open(my $fh, '+>', $file) or die "$file: $!";
    open(my $null, '<', '/dev/null') or die "/dev/null: $!";
    open(my $null_w, '>', '/dev/null') or die "/dev/null: $!";
    for ([$fh, 'r', 'regular file, read'], [$fh, 'w', 'regular file, write'],
         [$null, 'r', '/dev/null, read'], [$null_w, 'w', '/dev/null, write']) {
        my ($h, $poll, $what) = @$_;
        my $cv = AE::cv;
        my $calls = 0;
        my $io = AnyEvent->io(fh => $h, poll => $poll, cb => sub { $cv->send if ++$calls == 3 });
        recv_within($cv, 2, $what);
        is $calls, 3, "$what: ready at every iteration";
    }
};

subtest 'undef of a watcher stops it' => sub {
    my ($x, $y) = new_socketpair();
    syswrite $y, "data";
    my $calls = 0;
    my $cv = AE::cv;
    my $io = AE::io $x, 0, sub { $calls++; $cv->send };
    recv_within($cv, 2, 'first call');
    undef $io;
    my $before = $calls;
    run_for(0.05);
    is $calls, $before, 'no call after undef although data is still unread';
};

subtest 'a watcher destroyed by an earlier callback of the same batch is not called' => sub {
    my ($x, $y) = new_socketpair();
    syswrite $y, "data";
    my %calls = (a => 0, b => 0);
    my ($wa, $wb);
    my $cv = AE::cv;
    $wa = AE::io $x, 0, sub { $calls{a}++; undef $wb; $cv->send('a') };
    $wb = AE::io $x, 0, sub { $calls{b}++; undef $wa; $cv->send('b') };
    my $first = recv_within($cv, 2, 'either watcher');
    my $second = $first eq 'a' ? 'b' : 'a';
    run_for(0.02);
    is $calls{$second}, 0, "watcher $second, destroyed by watcher $first in the same batch, was never called";
    ok $calls{$first} >= 1, "watcher $first was called";
};

subtest 'the self-referencing "undef $w" idiom keeps the watcher alive' => sub {
    my ($x, $y) = new_socketpair();
    my $calls = 0;
    my $cv = AE::cv;
    {
        my $w;
        $w = AnyEvent->io(fh => $x, poll => 'r', cb => sub {
            $calls++;
            sysread $x, my $buf, 100;
            undef $w;
            $cv->send($buf);
        });
    }   # no reference outside the closure any more
    my $feed = AE::timer 0.05, 0, sub { syswrite $y, "late" };
    is recv_within($cv, 2, 'self-held watcher'), 'late', 'watcher outlived its scope and got the data';
    syswrite $y, "more";
    run_for(0.05);
    is $calls, 1, 'after undef $w in its callback it fired no more';
};

subtest 'EOF is readiness' => sub {
    pipe(my $r, my $w) or die;
    my $cv = AE::cv;
    my $io = AE::io $r, 0, sub { $cv->send(sysread $r, my $buf, 10) };
    my $closer = AE::timer 0.01, 0, sub { close $w };
    is recv_within($cv, 2, 'EOF'), 0, 'the read watcher fires when the writer closes; sysread returns 0';
};

subtest 'a write watcher waits while the pipe is full' => sub {
    pipe(my $r, my $w) or die;
    AnyEvent::fh_unblock($w);
    my $filled = 0;
    while (1) {
        my $n = syswrite $w, 'x' x 65536;
        last unless $n;
        $filled += $n;
    }
    ok $filled > 0, "pipe filled with $filled bytes";
    my $calls = 0;
    my $cv = AE::cv;
    my $io = AE::io $w, 1, sub { $calls++; $cv->send };
    run_for(0.05);
    is $calls, 0, 'no write readiness while the pipe is full';
    my $drain = AE::timer 0, 0, sub {
        my $left = $filled;
        $left -= sysread $r, my $buf, 65536 while $left > 0;
    };
    recv_within($cv, 2, 'writable');
    ok $calls >= 1, 'fires once the reader drained the pipe';
};

subtest 'a high fd number' => sub {
    require POSIX;
    pipe(my $r, my $w) or die;
    my $high = POSIX::dup2(fileno($r), 1000) or plan skip_all => "cannot dup2 to fd 1000: $!";
    my $cv = AE::cv;
    my $io = AE::io $high, 0, sub { $cv->send('high') };
    syswrite $w, 'x';
    is recv_within($cv, 2, 'fd 1000'), 'high', 'watcher on fd 1000 fires';
    undef $io;
    POSIX::close($high);
};

subtest 'a watcher created in a callback for a ready fd fires at the next iteration' => sub {
    my ($x, $y) = new_socketpair();
    syswrite $y, 'ready';
    my @seq;
    my $cv = AE::cv;
    my $inner;
    my $t = AE::timer 0, 0, sub {
        push @seq, 'timer';
        $inner = AE::io $x, 0, sub { push @seq, 'io'; undef $inner; $cv->send };
        push @seq, 'timer end';
    };
    recv_within($cv, 2, 'inner io');
    is "@seq", 'timer timer end io', 'not called from inside the creating callback';
};

done_testing;
