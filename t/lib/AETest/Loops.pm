package AETest::Loops;

# The tests every foreign event loop gets (t/AnyEvent/Impl/<Loop>.t), given how to drive it:
#
#   AETest::Loops::check(
#       model  => 'EV',                         # AnyEvent::Impl::EV
#       module => 'EV',                         # what the program loads
#       run    => sub { EV::run },              # the loop's own main function
#       quit   => sub { EV::break },            # makes it return
#       timer  => sub { my ($secs, $cb) = @_; ... return $guard },   # the loop's own repeating timer
#       child  => sub { my ($pid, $cb) = @_; ... return $guard },    # optional: its own child watcher
#       death_ends_loop => 'why',    # optional: a dying callback ends the loop's own watchers too
#   );
#
# Subtests: detection (loaded before or after AnyEvent, PERL_ANYEVENT_MODEL); everything firing
# while the loop's main function runs (timer, io, signal, child, idle, postpone, a Handle round
# trip, a DNS lookup against dnsmasq); the loop's watchers and ours interleaving, with an idle
# watcher of ours that must not starve the loop; recv iterating the foreign loop; a dying
# callback; child processes seen once on each side; the core tests re-run with the loop in
# charge.

use strict;
use warnings;
use Test::More;
use Socket ();
use POSIX ();
use AETest ();
use AETest::Dnsmasq;
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::DNS;

# Core tests re-run under each loop (they drive the loop through recv only).
our @CORE = qw(t/AnyEvent/io.t t/AnyEvent/timer.t t/AnyEvent/signal.t t/AnyEvent/child.t
               t/AnyEvent/idle.t t/AnyEvent/lifetime.t t/AE.t t/AnyEvent/DNS/records.t
               t/AnyEvent/Handle/write.t t/AnyEvent/Util/run_cmd.t t/AnyEvent/Util/fork_call.t
               t/AnyEvent/errno.t t/AnyEvent/IO/Rust.t t/AnyEvent/TLS/openssl_peers.t
               t/AnyEvent/TLS/http_contexts.t t/AnyEvent/Socket/connect.t t/AnyEvent/Handle/order.t
               t/AnyEvent/Handle/read_types.t);

# A watchdog that works while a foreign loop blocks in C (Perl's deferred %SIG handlers would
# wait for it to return): an immediate SIGALRM handler that reports and exits.
sub watchdog {
    my ($seconds) = @_;
    my $action = POSIX::SigAction->new(sub {
        syswrite STDOUT, "Bail out!  watchdog: test did not finish within $seconds s\n";
        # Where it hung, for the CI log (the plain message above is out even if this fails):
        # the running subtest, the Perl call stack, and the state of our embedded loop.
        my $where = eval { Test::Builder->new->name } // '?';
        my $stack = eval { require Carp; Carp::longmess('blocked') } // '?';
        my $state = eval {
            my ($timeout, $active, $fd) = AnyEvent::Impl::Rust::_embed_state();
            my $src = $AnyEvent::Impl::Embed::SOURCE || {};
            sprintf 'next timeout %s, active %s, epoll fd %s; source: %s', $timeout // 'none', $active, $fd,
                join ', ', map { "$_=" . ($src->{$_} // 'undef') } sort grep { !ref $src->{$_} } keys %$src;
        } // "? ($@)";
        syswrite STDERR, "# watchdog: the running subtest was: $where\n# watchdog: our loop: $state\n"
            . join('', map { "# $_\n" } split /\n/, $stack);
        POSIX::_exit(255);
    });
    $action->safe(0);
    POSIX::sigaction(POSIX::SIGALRM(), $action);
    alarm $seconds;
}

# How long one core test may run under a foreign loop (they take a second or two).
our $CORE_TIMEOUT = 60;

sub perl_inc { map { "-I$_" } grep { !ref } @INC }

sub check {
    my (%spec) = @_;
    my $impl = "AnyEvent::Impl::$spec{model}";
    # The loop must run until told: our pending watchers keep it going, the quit ends it.
    my $run = sub {
        my ($done) = @_;
        for (1 .. 10) {
            last if $done->();
            eval { $spec{run}->(); 1 } or note("the loop's main function died: $@");
        }
    };

    subtest 'detection' => sub {
        my @inc = perl_inc();
        my $mod = $spec{module};
        is qx{$^X @inc -M$mod -MAnyEvent -e "AnyEvent::detect; print \\\$AnyEvent::MODEL"}, $impl,
            "$mod loaded first: $impl";
        is qx{$^X @inc -MAnyEvent -M$mod -e "my \\\$t = AE::timer 9, 0, sub { }; print \\\$AnyEvent::MODEL"}, $impl,
            "$mod loaded after AnyEvent, before the first watcher: $impl";
        local $ENV{PERL_ANYEVENT_MODEL} = $spec{model};
        is qx{$^X @inc -MAnyEvent -e "AnyEvent::detect; print \\\$AnyEvent::MODEL"}, $impl,
            "PERL_ANYEVENT_MODEL=$spec{model}: $impl";
        # AnyEvent::Strict and AnyEvent::Debug's wrapping, loaded with AnyEvent, choose no model
        # and see the first watcher.
        require AETest::Perl;
        my ($out, $err) = AETest::Perl::run_perl({ PERL_ANYEVENT_STRICT => 1, PERL_ANYEVENT_DEBUG_WRAP => 1 }, qq{
            use AnyEvent; use $mod;
            print eval { AE::timer 1, -1, sub { }; 1 } ? 'unchecked' : \$@ =~ /illegal interval/ ? 'checked' : "died: \$@";
            my \$t = AE::timer 9, 0, sub { };
            print ' ', \$AnyEvent::MODEL, ' ', ref \$t;
        });
        is $out, "checked $impl AnyEvent::Debug::Wrapped",
            "PERL_ANYEVENT_STRICT and _DEBUG_WRAP, $mod loaded after AnyEvent: $impl, the first watcher checked, then wrapped"
            or diag $err;
    };

    is AnyEvent::detect(), $impl, "in this test: $impl";

    subtest "everything fires while the loop's own main function runs" => sub {
        my $dns = AETest::Dnsmasq->start('--host-record=loop.test,10.9.8.7');
        local $AnyEvent::DNS::RESOLVER = AnyEvent::DNS->new(server => [$dns->server], timeout => [2]);
        my %got;
        my $want = 8;
        my $note = sub { $got{$_[0]} = $_[1]; note "got $_[0]" if $ENV{AE_TEST_DEBUG}; $spec{quit}->() if keys %got == $want };
        pipe my $r, my $w or die "pipe: $!";
        my $io = AE::io $r, 0, sub { sysread $r, my $buf, 100; $note->(io => $buf) };
        my $t = AE::timer 0.01, 0, sub { $note->(timer => 1); syswrite $w, 'data' };
        my $sig = AE::signal USR1 => sub { $note->(signal => 1) };
        my $pid = fork // die "fork: $!";
        POSIX::_exit(7) unless $pid;
        my $child = AE::child $pid, sub { $note->(child => $_[1] >> 8) };
        my $idle; $idle = AE::idle sub { undef $idle; $note->(idle => 1) };
        AnyEvent::postpone { $note->(postpone => 1) };
        socketpair my $s1, my $s2, Socket::AF_UNIX(), Socket::SOCK_STREAM(), 0 or die "socketpair: $!";
        my $h1 = AnyEvent::Handle->new(fh => $s1, on_error => sub { $note->(h_error => $_[2]) });
        my $h2 = AnyEvent::Handle->new(fh => $s2, on_error => sub { $note->(h_error => $_[2]) });
        $h2->push_read(line => sub { $_[0]->push_write("pong $_[1]\n") });
        $h1->push_write("ping\n");
        $h1->push_read(line => sub { $note->(handle => $_[1]) });
        AnyEvent::DNS::a('loop.test', sub { $note->(dns => "@_") });
        # The signal comes from outside, while the loop waits.
        my $kid = fork // die "fork: $!";
        unless ($kid) { kill USR1 => getppid; POSIX::_exit(0) }
        my $reaper = AE::child $kid, sub { };
        $run->(sub { keys %got >= $want });
        is_deeply \%got, { io => 'data', timer => 1, signal => 1, child => 7, idle => 1, postpone => 1,
                           handle => 'pong ping', dns => '10.9.8.7', map { $_ => $got{$_} } grep /error/, keys %got },
            'io, timer, signal, child, idle, postpone, Handle, DNS';
        ok !exists $got{h_error}, 'no Handle error';
    };

    my $rerun_ok = !$spec{no_rerun};
    subtest "the loop's watchers and ours interleave; our idle watcher does not starve it" => sub {
        plan skip_all => $spec{no_rerun} unless $rerun_ok;
        my ($ours, $theirs, @order) = (0, 0);
        my $idle_calls = 0;
        my $idle = AE::idle sub { $idle_calls++ };
        my $t = AE::timer 0.005, 0.005, sub { $ours++; push @order, 'a' };
        my $g = $spec{timer}->(0.005, sub { $theirs++; push @order, 'f' });
        my $stop = AE::timer 0, 0.01, sub { $spec{quit}->() if $ours >= 10 && $theirs >= 10 };
        $run->(sub { $ours >= 10 && $theirs >= 10 });
        cmp_ok $ours, '>=', 10, 'our timer fired';
        cmp_ok $theirs, '>=', 10, "the loop's timer fired, although an idle watcher of ours is busy";
        cmp_ok $idle_calls, '>', 0, 'our idle watcher ran';
        my $switches = () = join('', @order) =~ /af|fa/g;
        cmp_ok $switches, '>=', 5, 'they alternate';
    };

    subtest 'recv iterates the foreign loop' => sub {
        my $cv = AE::cv;
        my $n = 0;
        my $g = $spec{timer}->(0.01, sub { $cv->send('theirs') if ++$n == 2 });
        is $cv->recv, 'theirs', "the loop's own timer sent the condvar";
        my $cv2 = AE::cv;
        my $t = AE::timer 0.01, 0, sub { $cv2->send('ours') };
        is $cv2->recv, 'ours', 'and ours';
        return unless $rerun_ok;
        # A recv in one of our callbacks, run by the loop's main function.
        my $got;
        my $t2 = AE::timer 0, 0, sub {
            my $inner = AE::cv;
            my $t3 = AE::timer 0.01, 0, sub { $inner->send('inner') };
            my $n2 = 0;
            my $g2 = $spec{timer}->(0.005, sub { $n2++ });
            $got = $inner->recv;
            $got .= $n2 > 0 ? ' (and the loop ran)' : '';
            $spec{quit}->();
        };
        $run->(sub { defined $got });
        is $got, 'inner (and the loop ran)', "a recv in a callback of ours, under the loop's main function";
    };

    subtest "a timer made in the loop's own callback counts from then" => sub {
        plan skip_all => $spec{no_rerun} unless $rerun_ok;
        # Nothing of ours runs for 0.3 s, so our last iteration is that old when the loop's own
        # timer fires; AnyEvent's time there is the current one (as EV::now or Glib's clock).
        my ($lag, $after, $start, $t);
        my $g = $spec{timer}->(0.3, sub {
            return if $start;
            $start = AE::time;
            $lag = abs(AE::now - $start);
            $t = AE::timer 0.2, 0, sub { $after = AE::time - $start; $spec{quit}->() };
        });
        $run->(sub { defined $after });
        cmp_ok $after, '>=', 0.19, 'AE::timer 0.2 made there fires 0.2 s later, not at once';
        cmp_ok $lag, '<', 0.1, 'AE::now there is the current time';
    };

    subtest 'a callback that dies does not leave our loop half-iterated' => sub {
        plan skip_all => $spec{no_rerun} unless $rerun_ok;
        my @fired;
        my $t1 = AE::timer 0.01, 0, sub { push @fired, 1; die "deliberate\n" };
        my $t2 = AE::timer 0.01, 0, sub { push @fired, 2 };
        my $t3 = AE::timer 0.05, 0, sub { push @fired, 3; $spec{quit}->() };
        local $SIG{__WARN__} = sub { push @fired, 'warned' if $_[0] =~ /deliberate/ };
        $run->(sub { grep { $_ eq 3 } @fired });
        is_deeply [grep /\d/, @fired], [1, 2, 3], 'the callback queued after the dying one still ran, then the rest';
        # The same through the loop's watcher on our epoll descriptor: an io callback that dies
        # must not cost the later io events (GLib drops a watch whose callback dies).
        if ($spec{death_ends_loop}) {
            note "io callback that dies: not checked ($spec{death_ends_loop})";
            return;
        }
        pipe my $r, my $w or die "pipe: $!";
        my @read;
        my $io = AE::io $r, 0, sub {
            sysread $r, my $buf, 1;
            push @read, $buf;
            die "deliberate io\n" if $buf eq 'a';
            $spec{quit}->() if $buf eq 'b';
        };
        # Both bytes come from the loop's own timer, so that only its watcher on our epoll
        # descriptor runs our loop.
        my $ticks = 0;
        my $t4 = $spec{timer}->(0.02, sub { $ticks++; syswrite $w, $ticks == 1 ? 'a' : 'b' if $ticks == 1 || $ticks == 3 });
        my $gave_up;
        my $give_up = $spec{timer}->(5, sub { $gave_up = 1; $spec{quit}->() });    # the loop's own
        $run->(sub { $gave_up || grep { $_ eq 'b' } @read });
        is join('', @read), 'ab', 'an io event after an io callback that died is still delivered';
    };

    if ($spec{child} && $rerun_ok) {
        subtest "children: the loop's own child watchers and ours each see theirs once" => sub {
            my (%ours, %theirs);
            my @pids = map { my $p = fork // die; POSIX::_exit($_) unless $p; $p } 3, 4, 5;
            my @g = (
                AE::child($pids[0], sub { $ours{ $_[0] }++ }),
                $spec{child}->($pids[1], sub { $theirs{ $_[0] }++ }),
                AE::child($pids[2], sub { $ours{ $_[0] }++ }),
                ($spec{same_pid_both} ? $spec{child}->($pids[2], sub { $theirs{ $_[0] }++ }) : ()),
            );
            my $want_theirs = $spec{same_pid_both} ? 2 : 1;
            my $check = AE::timer 0, 0.01, sub { $spec{quit}->() if keys %ours == 2 && keys %theirs == $want_theirs };
            $run->(sub { keys %ours == 2 && keys %theirs == $want_theirs });
            is_deeply \%ours, { $pids[0] => 1, $pids[2] => 1 }, 'ours once each';
            is_deeply \%theirs, { $pids[1] => 1, ($spec{same_pid_both} ? ($pids[2] => 1) : ()) },
                "the loop's once each" . ($spec{same_pid_both} ? ' (one pid watched on both sides)' : '');
        };

        subtest "watchers for any child (pid 0) beside the loop's own child watchers: every child once to each" => sub {
            my (@any, @pids, %ours, %theirs);
            my $done = sub {
                keys %ours == ($spec{same_pid_both} ? 2 : 1) && keys %theirs == 2
                    && !grep { my $seen = $_; grep { !$seen->{$_} } @pids } @any
            };
            # One child exits before any watcher exists, the others later.
            pipe my $r, my $w or die "pipe: $!";
            my $early = fork // die "fork: $!";
            POSIX::_exit(20) unless $early;
            @any = ({}, {});
            my @g = map { my $seen = $any[$_]; AE::child(0, sub { $seen->{ $_[0] }{ $_[1] >> 8 }++ }) } 0, 1;
            @pids = ($early, map { my $p = fork // die; unless ($p) { close $w; sysread $r, my $go, 1; POSIX::_exit($_) } $p } 21 .. 24);
            close $r;
            # $pids[1]: no watcher but ours for any child; [2]: the loop's; [3]: ours for the pid;
            # [4]: the loop's, and ours for the pid where the loop allows both.
            push @g, $spec{child}->($pids[2], sub { $theirs{ $_[0] }{ $_[1] >> 8 }++ }),
                     AE::child($pids[3], sub { $ours{ $_[0] }{ $_[1] >> 8 }++ }),
                     $spec{child}->($pids[4], sub { $theirs{ $_[0] }{ $_[1] >> 8 }++ });
            push @g, AE::child($pids[4], sub { $ours{ $_[0] }{ $_[1] >> 8 }++ }) if $spec{same_pid_both};
            close $w;    # the children exit
            my $check = AE::timer 0, 0.01, sub { $spec{quit}->() if $done->() };
            $run->($done);
            my %all = map { $pids[$_] => { 20 + $_ => 1 } } 0 .. 4;
            # (children of earlier subtests whose watchers are gone are reported too)
            my @mine = map { my $seen = $_; +{ map { exists $seen->{$_} ? ($_ => $seen->{$_}) : () } @pids } } @any;
            is_deeply $mine[0], \%all, 'the first watcher for any child saw each child once, with its status';
            is_deeply $mine[1], \%all, 'and so did the second';
            is_deeply \%ours, { $pids[3] => { 23 => 1 }, ($spec{same_pid_both} ? ($pids[4] => { 24 => 1 }) : ()) },
                'our watcher for a pid saw its child once';
            is_deeply \%theirs, { $pids[2] => { 22 => 1 }, $pids[4] => { 24 => 1 } }, "the loop's own watchers saw theirs once";
        };
    }

    subtest 'core tests with the loop in charge' => sub {
        my @inc = perl_inc();
        local $ENV{PERL_ANYEVENT_MODEL} = $spec{model};
        # Under a loop that notices signals only when it wakes up (Event), the tests' 5 s waits
        # need wake-ups more often than the default 10 s.
        local $ENV{PERL_ANYEVENT_MAX_SIGNAL_LATENCY} = 1;
        for my $test ($spec{core} ? @{ $spec{core} } : @CORE) {
            # A core test that hangs while the foreign loop blocks in C never sees its own
            # (deferred) watchdog: `timeout` ends it, and its output says where it stood.
            my $out = qx{timeout -k 5 $CORE_TIMEOUT $^X @inc -M$spec{module} $test 2>&1};
            is $?, 0, "$test" . ($? >> 8 == 124 ? " (killed after $CORE_TIMEOUT s)" : '') or diag $out;
            like $out, qr/^1\.\.\d+/m, "$test ran its plan";
        }
    };
}

1;

package AETest::Loops::Guard;

sub new { my ($class, $cb) = @_; bless [$cb], $class }
sub DESTROY { $_[0][0]->() }

1;
