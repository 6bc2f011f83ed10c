# Bad arguments croak with a message naming the argument, reported at the caller's line; an
# exception from a callback propagates out of recv and leaves the loop usable.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog recv_within);
use AnyEvent;

watchdog(20);

open(my $closed, '<', '/dev/null') or die;
close $closed;
my $unused_fd = do { open(my $fh, '<', '/dev/null') or die; my $n = fileno $fh; close $fh; $n };
my $cb = sub { };

# [line, code, expected message]: each case on one line so that __LINE__ is the caller's line.
my @cases = (
    [__LINE__, 'io: missing cb',          sub { AnyEvent->io(fh => \*STDIN, poll => 'r') }, qr/\bcb is required\b/],
    [__LINE__, 'io: cb not code',         sub { AnyEvent->io(fh => \*STDIN, poll => 'r', cb => 'main::foo') }, qr/\bcb must be a code reference\b/],
    [__LINE__, 'io: cb a hashref',        sub { AnyEvent->io(fh => \*STDIN, poll => 'r', cb => {}) }, qr/\bcb must be a code reference\b/],
    [__LINE__, 'io: missing poll',        sub { AnyEvent->io(fh => \*STDIN, cb => $cb) }, qr/\bpoll is required\b/],
    [__LINE__, 'io: poll "rw"',           sub { AnyEvent->io(fh => \*STDIN, poll => 'rw', cb => $cb) }, qr/\bpoll must be "r" or "w", not "rw"/],
    [__LINE__, 'io: missing fh',          sub { AnyEvent->io(poll => 'r', cb => $cb) }, qr/\bfh is required\b/],
    [__LINE__, 'io: fh a string',         sub { AnyEvent->io(fh => 'foo', poll => 'r', cb => $cb) }, qr/\bfh must be a file handle or a file descriptor number, not 'foo'/],
    [__LINE__, 'io: fh a hashref',        sub { AnyEvent->io(fh => {}, poll => 'r', cb => $cb) }, qr/\bfh must be a file handle or a file descriptor number/],
    [__LINE__, 'io: fh closed',           sub { AnyEvent->io(fh => $closed, poll => 'r', cb => $cb) }, qr/\bfh is not an open file handle\b/],
    [__LINE__, 'io: fd not open',         sub { AnyEvent->io(fh => $unused_fd, poll => 'r', cb => $cb) }, qr/\bfh\b.*\bnot an open file descriptor\b/],
    [__LINE__, 'io: negative fd',         sub { AnyEvent->io(fh => -1, poll => 'r', cb => $cb) }, qr/\bfh must be a file handle or a file descriptor number, not '-1'/],
    [__LINE__, 'AE::io: cb undef',        sub { AE::io(\*STDIN, 0, undef) }, qr/\bcb is required\b/],
    [__LINE__, 'AE::io: fh a string',     sub { AE::io('foo', 0, $cb) }, qr/\bfh must be a file handle\b/],
    [__LINE__, 'timer: missing cb',       sub { AnyEvent->timer(after => 1) }, qr/\bcb is required\b/],
    [__LINE__, 'timer: cb not code',      sub { AnyEvent->timer(after => 1, cb => 42) }, qr/\bcb must be a code reference\b/],
    [__LINE__, 'timer: negative interval', sub { AnyEvent->timer(after => 1, interval => -1, cb => $cb) }, qr/\binterval must be a non-negative number of seconds\b/],
    [__LINE__, 'timer: interval "abc"',   sub { AnyEvent->timer(after => 1, interval => 'abc', cb => $cb) }, qr/\binterval must be a non-negative number of seconds\b/],
    [__LINE__, 'timer: after "soon"',     sub { AnyEvent->timer(after => 'soon', cb => $cb) }, qr/\bafter must be a number of seconds\b/],
    [__LINE__, 'AE::timer: negative interval', sub { AE::timer(0, -0.5, $cb) }, qr/\binterval must be a non-negative\b/],
    [__LINE__, 'signal: unknown name',    sub { AnyEvent->signal(signal => 'NOSUCHSIG', cb => $cb) }, qr/\bunknown signal name 'NOSUCHSIG'/],
    [__LINE__, 'signal: missing name',    sub { AnyEvent->signal(cb => $cb) }, qr/\bsignal is required\b/],
    [__LINE__, 'signal: KILL',            sub { AnyEvent->signal(signal => 'KILL', cb => $cb) }, qr/\bsignal 'KILL' cannot be caught\b/],
    [__LINE__, 'signal: missing cb',      sub { AnyEvent->signal(signal => 'USR1') }, qr/\bcb is required\b/],
    [__LINE__, 'AE::signal: unknown',     sub { AE::signal('SIGNOPE', $cb) }, qr/\bunknown signal name 'SIGNOPE'/],
    [__LINE__, 'child: negative pid',     sub { AnyEvent->child(pid => -5, cb => $cb) }, qr/\bpid must be a process id or 0\b/],
    [__LINE__, 'child: pid "abc"',        sub { AnyEvent->child(pid => 'abc', cb => $cb) }, qr/\bpid must be a process id or 0\b/],
    [__LINE__, 'child: missing pid',      sub { AnyEvent->child(cb => $cb) }, qr/\bpid is required\b/],
    [__LINE__, 'child: cb not code',      sub { AnyEvent->child(pid => 0, cb => []) }, qr/\bcb must be a code reference\b/],
    [__LINE__, 'idle: missing cb',        sub { AnyEvent->idle }, qr/\bcb is required\b/],
    [__LINE__, 'idle: cb not code',       sub { AE::idle('x') }, qr/\bcb must be a code reference\b/],
    [__LINE__, 'postpone: undef',         sub { AE::postpone(undef) }, qr/\bcb is required\b/],
);

for my $case (@cases) {
    my ($line, $name, $code, $message) = @$case;
    my $ok = eval { my $w = $code->(); 1 };
    ok !$ok, "$name: croaks";
    like $@, $message, "$name: message names the argument";
    like $@, qr/ at \Q$0\E line $line\.$/, "$name: reported at the caller's line";
}

subtest 'a failed watcher creation leaks nothing and leaves the loop working' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0.01, 0, sub { $cv->send('fine') };
    eval { AE::signal('NOSUCHSIG', sub { }) } for 1 .. 3;
    is recv_within($cv, 2, 'timer'), 'fine', 'loop still runs';
};

subtest 'die in a callback propagates out of recv; the loop stays usable' => sub {
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub { die "callback failed\n" };
    my $guard = AE::timer 2, 0, sub { $cv->send('fallback') };
    ok !eval { $cv->recv; 1 }, 'recv died';
    is $@, "callback failed\n", 'with the exception of the callback';

    my $obj = bless { code => 42 }, 'My::Error';
    my $t2 = AE::timer 0, 0, sub { die $obj };
    ok !eval { $cv->recv; 1 }, 'recv died again';
    is $@, $obj, 'an exception object propagates as it is';

    my $later = AE::cv;
    my $t3 = AE::timer 0.01, 0, sub { $later->send('later timer') };
    is recv_within($later, 2, 'later timer'), 'later timer', 'a later timer still fires';
};

subtest 'callbacks due in the same batch as the one that died still run' => sub {
    my @ran;
    my $t1 = AE::timer 0.01, 0, sub { push @ran, 'first'; die "first died\n" };
    my $t2 = AE::timer 0.01, 0, sub { push @ran, 'second' };
    my $t3 = AE::timer 0.01, 0, sub { push @ran, 'third' };
    my $cv = AE::cv;
    ok !eval { recv_within($cv, 2, 'a death'); 1 }, 'recv died';
    is $@, "first died\n", 'from the first timer';
    is "@ran", 'first', 'the batch stopped at the exception';
    AnyEvent::Impl::Rust::one_event();
    is "@ran", 'first second third', 'the next iteration runs the rest of the batch, in order';
};

subtest 'die in io and signal callbacks propagates too' => sub {
    pipe(my $r, my $w) or die;
    syswrite $w, 'x';
    my $io = AE::io $r, 0, sub { die "io died\n" };
    my $cv = AE::cv;
    ok !eval { recv_within($cv, 2, 'io'); 1 }, 'recv died';
    is $@, "io died\n", 'with the io callback exception';
    undef $io;

    my $s = AE::signal USR1 => sub { die "signal died\n" };
    kill USR1 => $$;
    ok !eval { recv_within($cv, 2, 'signal'); 1 }, 'recv died';
    is $@, "signal died\n", 'with the signal callback exception';
};

subtest 'die inside a condvar callback propagates out of send' => sub {
    my $cv = AE::cv { die "cb died\n" };
    ok !eval { $cv->send; 1 }, 'send died';
    is $@, "cb died\n", 'with the callback exception';
};

done_testing;
