# guard, portable_pipe, portable_socketpair, fh_nonblocking, close_all_fds_except.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use Fcntl ();
use POSIX ();
use AnyEvent;
use AnyEvent::Util;
use AnyEvent::Util qw(close_all_fds_except AF_INET6);

watchdog(20);

# guard is Guard::guard when the Guard module is installed (as in 7.17), else our own.
my $have_guard = !$ENV{PERL_ANYEVENT_AVOID_GUARD} && eval { require Guard; $Guard::VERSION >= 0.5 };

subtest guard => sub {
    my $ran = 0;
    { my $g = guard { $ran++ }; is $ran, 0, 'not run while alive'; }
    is $ran, 1, 'run when destroyed';
    { my $g = guard { $ran++ }; $g->cancel; }
    is $ran, 1, 'cancelled guard does not run';
    isa_ok guard { 1 }, $have_guard ? 'Guard' : 'AnyEvent::Util::guard';
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    my $after = 0;
    { my $g = guard { die "oops\n" }; }
    $after = 1;
    ok $after, 'an exception in the guard does not propagate';
    like "@warnings", qr/oops/, 'but is reported';
    local $@ = 'kept';
    { my $g = guard { eval { die "inner\n" } }; }
    is $@, 'kept', '$@ is left alone';
};

subtest 'guard without the Guard module' => sub {
    require AETest::Perl;
    # as 7.17's own guard: logged at level 4 (error), not seen by $SIG{__DIE__}
    my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_AVOID_GUARD => 1 }, q{
        use AnyEvent::Util; my $die_handler = 0; $SIG{__DIE__} = sub { $die_handler++ };
        print ref(guard { 1 }), " ";
        { my $g = guard { die "oops\n" }; } print "die handler: $die_handler";
    });
    is $out, 'AnyEvent::Util::guard die handler: 0', 'an AnyEvent::Util::guard; $SIG{__DIE__} is not called';
    like $err, qr/^\S+ \S+ \S+ error AnyEvent::Util: Runtime error in AnyEvent::guard callback: oops$/m,
        'the exception is logged as an error, in 7.17\'s words';
};

SKIP: {
    # CI installs Guard (libguard-perl): there, its absence fails instead of skipping.
    BAIL_OUT('module Guard is required (AE_TEST_PEERS=required) but not installed')
        if !$have_guard && !$ENV{PERL_ANYEVENT_AVOID_GUARD} && ($ENV{AE_TEST_PEERS} // '') eq 'required';
    skip 'the Guard module is not installed', 1 unless $have_guard;
    subtest 'guard with the Guard module' => sub {
        my ($out, $err) = AETest::Perl::run_perl({}, q{
            use AnyEvent::Util; $Guard::DIED = sub { print "DIED: $@" };
            print ref(guard { 1 }), " "; { my $g = guard { die "oops\n" }; } print "end";
        });
        is $out, "Guard DIED: oops\nend", 'Guard::guard, whose exceptions go to $Guard::DIED (as 7.17)';
        is $err, '', 'nothing logged';
    };
}

subtest pipes => sub {
    my ($r, $w) = portable_pipe;
    ok $r && $w, 'portable_pipe';
    syswrite $w, "through\n";
    is sysread($r, my $buf, 100), 8, 'data flows';
    is $buf, "through\n", 'unchanged';

    my ($one, $two) = portable_socketpair;
    ok $one && $two, 'portable_socketpair';
    syswrite $one, "ab"; syswrite $two, "ba";
    sysread $two, my $x, 10; sysread $one, my $y, 10;
    is "$x$y", 'abba', 'both directions';

    ok fh_nonblocking($one, 1), 'fh_nonblocking on';
    ok fcntl($one, Fcntl::F_GETFL(), 0) & Fcntl::O_NONBLOCK(), 'O_NONBLOCK set';
    is sysread($one, my $z, 10), undef, 'empty non-blocking read fails';
    ok $!{EAGAIN}, 'with EAGAIN';
    ok fh_nonblocking($one, 0), 'fh_nonblocking off';
    ok !(fcntl($one, Fcntl::F_GETFL(), 0) & Fcntl::O_NONBLOCK()), 'O_NONBLOCK cleared';
    ok AF_INET6, 'AF_INET6 exported on request';
};

# Coro::Handle (under Corona / Net::Server::Coro) calls fh_nonblocking on a glob that is not
# open yet: 7.17 fails quietly there, returning one undef; on a closed handle it dies.
subtest 'fh_nonblocking on unopened and closed handles' => sub {
    require Symbol;
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    my $glob = Symbol::gensym();
    for my $call ([fh_nonblocking => sub { fh_nonblocking($glob, 1) }],
                  [fh_unblock => sub { AnyEvent::fh_unblock($glob) }],
                  [fh_block => sub { AnyEvent::fh_block($glob) }]) {
        my @ret = $call->[1]->();
        is_deeply \@ret, [undef], "$call->[0] on an unopened glob returns one undef";
        ok $!{EBADF}, '... with EBADF';
    }
    is_deeply \@warnings, [], '... and warns nothing';
    my ($r, $w) = portable_pipe;
    close $r;
    for my $call ([fh_nonblocking => sub { fh_nonblocking($r, 1) }],
                  [fh_unblock => sub { AnyEvent::fh_unblock($r) }]) {
        ok !eval { $call->[1]->(); 1 }, "$call->[0] on a closed handle dies";
        like $@, qr/^fcntl\(\) on closed filehandle \$r at /, '... as 7.17 does';
    }
    is scalar(AnyEvent::fh_unblock($w)), '0 but true', "fh_unblock returns fcntl's result";
};

subtest close_all_fds_except => sub {
    my ($r, $w) = portable_pipe;
    my ($keep_r, $keep_w) = portable_pipe;
    my $kept = fileno $keep_w;
    my $pid = fork // die;
    unless ($pid) {
        close_all_fds_except(fileno $keep_w, 2);
        # report which of our descriptors are still open, through the kept one
        my @open = grep { -e "/proc/self/fd/$_" } 0 .. 64; # stat allocates no descriptor
        POSIX::write(fileno $keep_w, "@open", length "@open");
        POSIX::_exit(0);
    }
    close $keep_w;
    my $got = do { local $/; <$keep_r> };
    waitpid $pid, 0;
    is $got, join(' ', sort { $a <=> $b } 2, $kept), 'only the kept descriptors stay open';
};
subtest 'names kept from AnyEvent 4: inet_aton and dotted_quad' => sub {
    ok !defined &main::dotted_quad, 'dotted_quad is not exported';
    ok AnyEvent::Util::dotted_quad('192.168.0.1'), '192.168.0.1 is a dotted quad';
    ok AnyEvent::Util::dotted_quad('0.0.0.0'), '0.0.0.0 is one';
    ok AnyEvent::Util::dotted_quad('255.255.255.255'), '255.255.255.255 is one';
    ok !AnyEvent::Util::dotted_quad($_), "'$_' is not one"
        for '256.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.', 'a.b.c.d', '::1', '', '1.2.3.4 ', '0x1.2.3.4';
    my @got;
    AnyEvent::Util::inet_aton('127.0.0.1', sub { @got = @_ });
    is_deeply \@got, ["\x7f\0\0\1"], 'AnyEvent::Util::inet_aton resolves a literal as AnyEvent::Socket::inet_aton does';
    AnyEvent::Util::inet_aton('localhost', sub { @got = @_ });
    is scalar(@got), 2, 'and localhost to its two loopback addresses';
};

done_testing;
