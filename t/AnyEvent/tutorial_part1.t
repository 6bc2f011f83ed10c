# The programs of AnyEvent::Intro, part one (up to "Network programming and AnyEvent"), kept
# runnable in eg/ and run here as the tutorial's reader would: in their own perl, fed through a
# pipe.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use AnyEvent;
use IPC::Open3 ();
use POSIX ();

watchdog(20);

my @inc = map { "-I$_" } grep { m{blib} } @INC;
@inc or BAIL_OUT('run the tests against the built module (make test, or prove -b)');

# Starts an eg/ program; returns its pid, a handle on its stdin and one on its stdout+stderr.
sub start_program {
    my ($script, @args) = @_;
    my $pid = IPC::Open3::open3(my $in, my $out, undef, $^X, @inc, $script, @args);
    return ($pid, $in, $out);
}

# Reads from $fh until $re matches what was read (or EOF).
sub read_until {
    my ($fh, $re) = @_;
    my $buf = '';
    while ($buf !~ $re) {
        my $n = sysread $fh, $buf, 4096, length $buf;
        last unless $n;
    }
    return $buf;
}

sub finish {
    my ($pid, $out) = @_;
    my $rest = read_until($out, qr/(?!)/);    # to EOF
    waitpid $pid, 0;
    return ($rest, $? >> 8);
}

for my $script ('eg/intro-read-name.pl', 'eg/intro-condvar.pl') {
    subtest "$script reads a name from STDIN" => sub {
        my ($pid, $in, $out) = start_program($script);
        is read_until($out, qr/> /), 'enter your name> ', 'prompt printed';
        is waitpid($pid, POSIX::WNOHANG()), 0, 'the program waits (in recv) for input';
        print {$in} "Ada Lovelace\n";
        close $in;
        my ($rest, $exit) = finish($pid, $out);
        is $rest, "your name is Ada Lovelace\n\n", 'the io watcher read the line and the condvar delivered it';
        is $exit, 0, 'exit status 0';
    };
}

subtest 'eg/intro-timer.pl: a one-shot timer and recv' => sub {
    my $start = AE::time;
    my ($pid, $in, $out) = start_program('eg/intro-timer.pl', 0.2);
    close $in;
    my ($rest, $exit) = finish($pid, $out);
    is $rest, "waited 0.2 seconds\n", 'the program waited for its timer';
    cmp_ok AE::time - $start, '>=', 0.2, 'at least as long as asked';
    is $exit, 0, 'exit status 0';
};

subtest 'eg/intro-ticker.pl: once_per_second re-creates its timer until $quit_program is sent' => sub {
    my ($pid, $in, $out) = start_program('eg/intro-ticker.pl', 0.05, 4);
    close $in;
    my $first = read_until($out, qr/tick\n/);
    my $t0 = AE::time;
    is $first, "tick\n", 'first tick at once';
    my ($rest, $exit) = finish($pid, $out);
    is $rest, "tick\ntick\ntick\n", 'three more ticks, then the program quit';
    # The first timer counts from the loop time of the program's start, the others each from
    # the previous tick: at least two full periods pass between our reading tick 1 and the end.
    cmp_ok AE::time - $t0, '>=', 0.095, 'each one a period after the previous one';
    is $exit, 0, 'exit status 0';
};

subtest 'eg/intro-ticker.pl without a tick limit runs until killed' => sub {
    my ($pid, $in, $out) = start_program('eg/intro-ticker.pl', 0.01);
    close $in;
    like read_until($out, qr/(?:tick\n){5}/), qr/\A(?:tick\n){5,}\z/, 'keeps ticking';
    kill TERM => $pid;
    waitpid $pid, 0;
    is $? & 127, 15, 'still running when killed';
};

# The tutorial's condvar forms in this process, with a pipe standing in for STDIN.
subtest 'condvar send/recv forms, in process' => sub {
    pipe(my $r, my $w) or die;
    $w->autoflush(1);
    my $name_ready = AnyEvent->condvar;
    my $wait_for_input = AnyEvent->io(
        fh => $r, poll => "r",
        cb => sub { $name_ready->send(scalar <$r>) },
    );
    my $feed = AnyEvent->timer(after => 0.01, cb => sub { print {$w} "Grace\n" });
    my $fallback = AnyEvent->timer(after => 3, cb => sub { $name_ready->croak('no input') });
    my $name = $name_ready->recv;
    undef $wait_for_input;
    is $name, "Grace\n", '$name_ready->send(scalar <FH>) ... $name_ready->recv';

    my $quit_program = AnyEvent->condvar;
    my $quitter = AnyEvent->timer(after => 0.01, cb => sub { $quit_program->send });
    my $fb = AnyEvent->timer(after => 3, cb => sub { $quit_program->croak('never quit') });
    $quit_program->recv;
    pass '$quit_program->recv returns once a watcher sends it';
};

done_testing;
