# A handle whose fh is closed behind its back never uses its old descriptor again: when a new
# socket gets the same number, the old handle neither reads the new socket's data nor writes its
# own queued data into it; it fails with EBADF through on_error (fatal), as AnyEvent 7.17's
# handle fails on the closed fh, and the new connection works undisturbed.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Errno qw(EBADF EAGAIN);
use AETest qw(watchdog sockets recv_within);
use AnyEvent;
use AnyEvent::Handle;

watchdog(20);

# What can be read from a non-blocking socket now.
sub pending {
    my ($fh) = @_;
    AnyEvent::fh_unblock($fh);
    my $got = '';
    while (1) {
        my $n = sysread $fh, my $buf, 1 << 20;
        last unless $n;
        $got .= $buf;
    }
    $got;
}

subtest 'reads: the old handle fails, the new socket keeps its data' => sub {
    my ($old, $old_peer) = sockets();
    my $fd = fileno $old;
    my ($cv, @old_read, @old_error) = (AE::cv);
    my $h1 = AnyEvent::Handle->new(
        fh       => $old,
        on_read  => sub { push @old_read, $_[0]{rbuf}; $_[0]{rbuf} = ''; $cv->send },
        on_error => sub { push @old_error, [$_[1], $! + 0]; $cv->send },
    );
    syswrite $old_peer, "before\n";
    recv_within($cv, 5, 'the first read');
    is_deeply \@old_read, ["before\n"], 'the handle reads its own connection';

    close $old;    # behind the handle's back
    my ($new, $new_peer) = sockets();
    is fileno $new, $fd, 'the new socket has the old descriptor number';
    $cv = AE::cv;
    my @new_read;
    my $both = sub { $cv->send if @new_read && @old_error };
    $h1->on_read(sub { push @old_read, $_[0]{rbuf}; $_[0]{rbuf} = ''; $both->() });
    $h1->on_error(sub { push @old_error, [$_[1], $! + 0]; $both->() });
    my $h2 = AnyEvent::Handle->new(fh => $new, on_read => sub { push @new_read, $_[0]{rbuf}; $_[0]{rbuf} = ''; $both->() },
        on_error => sub { fail "new handle: $_[2]" });
    syswrite $new_peer, "secret\n";
    recv_within($cv, 5, 'the new handle to read and the old one to fail');
    is_deeply \@old_read, ["before\n"], 'the old handle read nothing of the new connection';
    is_deeply \@old_error, [[1, EBADF]], 'the old handle failed with a fatal EBADF';
    is join('', @new_read), "secret\n", 'the new handle got its data';
    ok $h1->destroyed, 'the old handle is destroyed';
};

subtest 'writes: queued data never goes into the new socket' => sub {
    my ($old, $old_peer) = sockets();
    my $fd = fileno $old;
    my $cv = AE::cv;
    my @old_error;
    my $h1 = AnyEvent::Handle->new(fh => $old, on_error => sub { push @old_error, [$_[1], $! + 0]; $cv->send });
    $h1->push_write('o' x (4 << 20));    # more than the socket buffers take: the rest waits
    ok length $h1->{wbuf}, 'data waits in the old handle';

    close $old;
    my ($new, $new_peer) = sockets();
    is fileno $new, $fd, 'the new socket has the old descriptor number';
    my $h2 = AnyEvent::Handle->new(fh => $new, on_read => sub { }, on_error => sub { fail "new handle: $_[2]" });
    $h2->push_write("mine\n");
    recv_within($cv, 5, 'the old handle to fail');
    is_deeply \@old_error, [[1, EBADF]], 'the old handle failed with a fatal EBADF';
    is pending($new_peer), "mine\n", "the new socket's peer got only the new handle's data";
};

subtest 'a closed fh, no new socket: errors instead of I/O' => sub {
    for my $case (
        [push_write    => sub { $_[0]->push_write("x") }],
        [push_shutdown => sub { $_[0]->push_shutdown }],
        [on_read       => sub { $_[0]->on_read(sub { }) }],
        [push_read     => sub { $_[0]->push_read(line => sub { }) }],
    ) {
        my ($name, $act) = @$case;
        my ($x, $y) = sockets();
        my @error;
        my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { push @error, [$_[1], $! + 0] });
        close $x;
        ok eval { $act->($h); 1 }, "$name: no croak" or diag $@;
        is_deeply \@error, [[1, EBADF]], "$name: a fatal EBADF through on_error";
    }

    # Destroying a handle with queued data does not linger on a descriptor it no longer owns.
    my ($x, $y) = sockets();
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { });
    $h->push_write('q' x (4 << 20));
    close $x;
    my ($new, $new_peer) = sockets();
    undef $h;
    # Watched again, the descriptor is writable: a lingering writer would run in the same loop
    # turn as this watcher, or before it.
    my $cv = AE::cv;
    my $w = AE::io $new, 1, sub { $cv->send };
    recv_within($cv, 5, 'the new socket to be writable');
    is pending($new_peer), '', 'nothing lingered into the new socket';
};

done_testing;
