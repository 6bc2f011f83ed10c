# condition variables: send/recv, croak, cb, ready, begin/end, old names, callable condvars,
# recursive recv, and the AE::cv / AnyEvent->condvar constructors.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AnyEvent;

watchdog(20);

sub fail_after {
    my ($cv, $secs) = @_;
    return AE::timer $secs, 0, sub { $cv->croak("timed out after $secs s") };
}

subtest 'send and recv, list and scalar context' => sub {
    my $cv = AnyEvent->condvar;
    isa_ok $cv, 'AnyEvent::CondVar';
    my $t = AE::timer 0.01, 0, sub { $cv->send(1, 'two', [3]) };
    my @all = $cv->recv;
    is_deeply \@all, [1, 'two', [3]], 'recv in list context returns every value sent';
    my $first = $cv->recv;
    is $first, 1, 'recv in scalar context returns the first value';
    is_deeply [$cv->recv], \@all, 'recv again returns the same values without waiting';

    my $empty = AE::cv;
    $empty->send;
    is_deeply [$empty->recv], [], 'send without values: recv returns the empty list';
    is scalar($empty->recv), undef, '... and undef in scalar context';

    my $resend = AE::cv;
    $resend->send('a');
    $resend->send('b');
    is $resend->recv, 'b', 'sending again replaces the values';
};

subtest 'croak makes recv die, with the error given' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0.01, 0, sub { $cv->croak("it broke") };
    my $line = __LINE__ + 1;
    ok !eval { $cv->recv; 1 }, 'recv died';
    like $@, qr/^it broke at \Q$0\E line $line\.$/, "with the croak message, at the recv's line";
    ok !eval { $cv->recv; 1 }, 'and dies again on the next recv';
    like $@, qr/^it broke/, 'with the same message';
    ok $cv->ready, 'a croaked condvar is ready';
};

subtest 'ready' => sub {
    my $cv = AE::cv;
    ok !$cv->ready, 'not ready before send';
    $cv->send(0);
    ok $cv->ready, 'ready after send (even of a false value)';
};

subtest 'cb: get, set, called once when sent' => sub {
    my $cv = AE::cv;
    is $cv->cb, undef, 'no callback by default';
    my @calls;
    my $code = sub { push @calls, [@_] };
    is $cv->cb($code), $code, 'cb($code) returns the callback';
    is $cv->cb, $code, 'cb returns it';
    is scalar(@calls), 0, 'not called before send';
    $cv->send('v');
    is scalar(@calls), 1, 'called when sent';
    is $calls[0][0], $cv, 'with the condvar as its argument';
    is $calls[0][0]->recv, 'v', 'the callback can recv the value without blocking';
    $cv->send('w');
    is scalar(@calls), 1, 'called only once';

    my $late = AE::cv;
    $late->send('early');
    my $got;
    $late->cb(sub { $got = $_[0]->recv });
    is $got, 'early', 'a callback set after send is called at once';
};

subtest 'AnyEvent->condvar(cb => ...) and AE::cv with a callback' => sub {
    my @got;
    my $cv1 = AnyEvent->condvar(cb => sub { push @got, ['method', $_[0]->recv] });
    my $cv2 = AE::cv { push @got, ['AE', $_[0]->recv] };
    my $cv3 = AE::cv sub { push @got, ['AE sub', $_[0]->recv] };
    my $t = AE::timer 0, 0, sub { $cv1->send(1); $cv2->send(2); $cv3->send(3) };
    my $done = AE::cv;
    my $t2 = AE::timer 0.01, 0, sub { $done->send };
    $done->recv;
    is_deeply \@got, [['method', 1], ['AE', 2], ['AE sub', 3]], 'constructor callbacks called once sent';
};

subtest 'begin/end' => sub {
    my $cv = AE::cv;
    $cv->begin for 1 .. 3;
    my @t = map { my $i = $_; AE::timer 0.01 * $i, 0, sub { $cv->end } } 1 .. 3;
    my $guard = fail_after($cv, 3);
    my @r = $cv->recv;
    is_deeply \@r, [], 'without a begin callback the last end sends (no values)';

    my $sum = 0;
    my $cv2 = AE::cv;
    my $group_calls = 0;
    $cv2->begin(sub { $group_calls++; $_[0]->send($sum) });
    for my $n (1 .. 4) {
        $cv2->begin;
        AE::postpone { $sum += $n; $cv2->end };
    }
    $cv2->end;    # the outer begin
    my $guard2 = fail_after($cv2, 3);
    is $cv2->recv, 10, 'the begin callback runs when the counter drops to zero, and can send';
    is $group_calls, 1, 'it ran once';

    my $cv3 = AE::cv;
    $cv3->begin;
    $cv3->end;
    ok $cv3->ready, 'begin then end sends at once';
};

subtest 'broadcast and wait: the old names' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0.01, 0, sub { $cv->broadcast('old') };
    my $guard = fail_after($cv, 3);
    $cv->wait;
    is $cv->recv, 'old', 'broadcast sends, wait waits';
};

subtest 'a condvar is callable: cb => $cv' => sub {
    my $cv = AE::cv;
    my $t = AnyEvent->timer(after => 0.01, cb => $cv);
    my $guard = fail_after($cv, 3);
    $cv->recv;
    ok $cv->ready, 'the timer sent the condvar by calling it';

    my $cv2 = AE::cv;
    $cv2->('x', 'y');
    is_deeply [$cv2->recv], ['x', 'y'], '$cv->(@values) is $cv->send(@values)';

    my $child_cv = AE::cv;
    my $pid = fork // die;
    require POSIX;
    POSIX::_exit(4) unless $pid;
    my $c = AE::child $pid, $child_cv;
    my $guard3 = fail_after($child_cv, 3);
    my ($p, $status) = $child_cv->recv;
    is_deeply [$p, $status >> 8], [$pid, 4], 'a child watcher sends its arguments to a condvar callback';
};

subtest 'recursive recv croaks' => sub {
    my $outer = AE::cv;
    my $inner = AE::cv;
    my $line;
    my $t = AE::timer 0, 0, sub {
        $line = __LINE__ + 1;
        my $ok = eval { $inner->recv; 1 };
        $outer->send($ok ? 'no error' : $@);
    };
    my $guard = fail_after($outer, 3);
    like $outer->recv, qr/recursive blocking wait attempted at \Q$0\E line $line\./,
        "recv inside a callback of a waiting recv croaks, at the inner recv's line";

    my $sent = AE::cv;
    $sent->send(5);
    my $nested = AE::cv;
    my $t2 = AE::timer 0, 0, sub { $nested->send($sent->recv) };
    my $guard2 = fail_after($nested, 3);
    is $nested->recv, 5, 'recv of an already sent condvar inside a callback is fine';
};

subtest 'recv inside a callback run by the loop itself (not by recv) is allowed' => sub {
    require AnyEvent::Loop;
    my $inner = AE::cv;
    my $t_inner = AE::timer 0.02, 0, sub { $inner->send('inner') };
    my ($got, $sibling) = (undef, 0);
    my $t = AE::timer 0, 0, sub { $got = $inner->recv; die "done\n" };
    my $t2 = AE::timer 0, 0, sub { $sibling++ };
    my $fallback = AE::timer 3, 0, sub { die "fallback\n" };
    ok !eval { AnyEvent::Loop::run(); 1 }, 'run ended';
    is $@, "done\n", 'by the callback, after its nested recv returned';
    is $got, 'inner', 'the nested recv got its value';
    is $sibling, 1, 'the callback due in the same batch ran once (from the nested loop)';
};

subtest 'subclassing: AnyEvent::CondVar->new and the _send hook' => sub {
    package My::Result {
        our @ISA = ('AnyEvent::CondVar');
        sub new { my $self = shift->SUPER::new(@_); $self->{_my_sends} = 0; $self }
        sub _send { $_[0]{_my_sends}++ }
    }
    my $r = My::Result->new;
    isa_ok $r, 'My::Result';
    isa_ok $r, 'AnyEvent::CondVar';
    ok !$r->ready, 'a new subclassed condvar is not ready';
    my $t = AE::timer 0.01, 0, sub { $r->send('value') };
    is $r->recv, 'value', 'recv on the subclass runs the loop until sent';
    is $r->{_my_sends}, 1, '_send was called once by send';
    $r->croak("bad\n");
    is $r->{_my_sends}, 2, 'croak goes through send and so through _send';

    my @seen;
    my $with_cb = My::Result->new(cb => sub { push @seen, ref $_[0] });
    $with_cb->send;
    is_deeply \@seen, ['My::Result'], 'new passes cb => on; the callback gets the subclass object';

    my $plain = AnyEvent::CondVar->new;
    is ref $plain, 'AnyEvent::CondVar', 'AnyEvent::CondVar->new gives a plain condvar';
    $plain->send(7);
    is $plain->recv, 7, 'and it works as one';
};

done_testing;
