# AnyEvent inside GLib's main loop: AnyEvent::Impl::Glib (see AETest::Loops for what is checked).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(need_module);
BEGIN { need_module('Glib') }
use Glib;
use AETest::Loops;
use File::Temp ();

AETest::Loops::watchdog(120);

my $main = Glib::MainLoop->new;
AETest::Loops::check(
    model  => 'Glib',
    module => 'Glib',
    run    => sub { $main->run },
    quit   => sub { $main->quit },
    timer  => sub {
        my ($secs, $cb) = @_;
        my $id = Glib::Timeout->add($secs * 1000, sub { $cb->(); 1 });
        return AETest::Loops::Guard->new(sub { Glib::Source->remove($id) });
    },
    child  => sub {
        my ($pid, $cb) = @_;
        my $live = 1;
        my $id = Glib::Child->watch_add($pid, sub { $live = 0; $cb->($_[0], $_[1]) });
        return AETest::Loops::Guard->new(sub { Glib::Source->remove($id) if $live });
    },
);

# GLib watches a child through a pidfd where it can; where it cannot (kernels before 5.3, a
# seccomp filter) it installs its SIGCHLD handler while it watches any child and the default
# when it stops, over ours: a watcher for any child must hear SIGCHLD all the same. strace's
# fault injection makes pidfd_open fail here, so that GLib takes that path.
subtest 'watchers for any child while GLib reaps through its SIGCHLD handler (no pidfd)' => sub {
    my ($strace) = grep { -x } map { "$_/strace" } split(/:/, $ENV{PATH} // ''), qw(/usr/bin /bin);
    if (!$strace) {
        fail 'strace is required (AE_TEST_PEERS=required) but not installed' if ($ENV{AE_TEST_PEERS} // '') eq 'required';
        plan skip_all => 'strace (for its fault injection) not installed';
    }
    plan skip_all => 'strace cannot trace here (ptrace not permitted)'
        unless system($strace, '-qq', '-e', 'trace=none', '-o', '/dev/null', $^X, '-e', '1') == 0;
    my $code = q{
        use strict; use warnings; use Glib; use AnyEvent; use POSIX ();
        alarm 30;
        my (%any, %theirs, %ours);
        my $a0 = AE::child 0, sub { $any{ $_[0] }++ };
        my @lost;
        for my $round (1 .. 10) {
            pipe my $r, my $w or die;
            my @p = map { my $p = fork // die; unless ($p) { close $w; sysread $r, my $x, 1; POSIX::_exit(0) } $p } 1 .. 3;
            close $r;
            my $cv = AE::cv;
            Glib::Child->watch_add($p[0], sub { $theirs{ $_[0] }++ });
            my $o = AE::child $p[1], sub { $ours{ $_[0] }++ };
            close $w;
            my $t = AE::timer 0, 0.005, sub { $cv->send if 3 == grep({ $any{$_} } @p) && $theirs{ $p[0] } && $ours{ $p[1] } };
            $cv->recv;
            # GLib watches nothing now (its default disposition replaced ours): a lone child
            my $q = fork // die;
            POSIX::_exit(0) unless $q;
            my $cv2 = AE::cv;
            my $t2 = AE::timer 0, 0.005, sub { $cv2->send if $any{$q} };
            my $give_up = AE::timer 5, 0, sub { push @lost, $q; $cv2->send };
            $cv2->recv;
        }
        printf "any %d (%d more than once), theirs %d, ours %d, lost %d\n", scalar(keys %any),
            scalar(grep { $any{$_} > 1 } keys %any), scalar(keys %theirs), scalar(keys %ours), scalar @lost;
    };
    my $trace = File::Temp->new;
    my @inc = AETest::Loops::perl_inc();
    open my $saved, '>&', \*STDIN or die;
    my $pid = open my $from, '-|' // die "fork: $!";
    unless ($pid) {
        open STDERR, '>&', \*STDOUT or die;
        exec $strace, '-qq', '-e', 'trace=rt_sigaction,pidfd_open', '-e', 'inject=pidfd_open:error=ENOSYS', '-o', $trace->filename,
            $^X, @inc, '-e', $code or die "exec: $!";
    }
    my $out = do { local $/; <$from> };
    close $from;
    is $out, "any 40 (0 more than once), theirs 10, ours 10, lost 0\n",
        'every child once to the watcher for any child, GLib\'s and ours to theirs, none lost after GLib stopped watching';
    my $log = do { local $/; open my $fh, '<', $trace->filename or die; <$fh> };
    like $log, qr/rt_sigaction\(SIGCHLD, \{sa_handler=0x[0-9a-f]+, sa_mask=\[\], sa_flags=[^}]*SA_NOCLDSTOP/,
        'GLib did install its SIGCHLD handler (the path under test)';
};

done_testing;
