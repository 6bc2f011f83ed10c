# tcp_server out of descriptors: while accept fails with EMFILE and clients wait in the backlog,
# the server neither spins (CPU over a 2 s window measured with times() in the server process)
# nor stops serving the connections it has, logs the shortage once (level 4), and accepts every
# waiting client by itself once descriptors are free again.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IPC::Open2 ();
use Socket qw(AF_INET SOCK_STREAM inet_aton pack_sockaddr_in);
use AETest qw(watchdog tempdir);

watchdog(30);

# The server: a child with RLIMIT_NOFILE lowered by the shell. It reads commands on stdin and
# reports on stdout; each tcp_server connection is an echo.
my $server = <<'PERL';
use strict; use warnings; use AnyEvent; use AnyEvent::Socket;
$| = 1;
my (%conn, @filler, $port);
my $guard = tcp_server '127.0.0.1', 0, sub {
    my ($fh) = @_;
    $conn{fileno $fh} = [$fh, AE::io($fh, 0, sub {
        my $n = sysread $fh, my $buf, 100;
        $n ? syswrite $fh, $buf : delete $conn{fileno $fh};
    })];
    print "accepted ", scalar(keys %conn), "\n";
}, sub { $port = $_[2]; 0 };
print "port $port\n";
my $done = AE::cv;
my ($window, $cpu0);
my $stdin = AE::io \*STDIN, 0, sub {
    my $cmd = <STDIN> // return $done->send;
    if ($cmd =~ /^fill/) {
        while (open my $fh, '<', '/dev/null') { push @filler, $fh }
        print "full $!\n";
    } elsif ($cmd =~ /^window/) {    # the measurement: CPU used over 2 s while clients wait
        my @t = times;
        $cpu0 = $t[0] + $t[1];
        $window = AE::timer 2, 0, sub {
            my @t = times;
            printf "cpu %.3f\n", $t[0] + $t[1] - $cpu0;
        };
    } elsif ($cmd =~ /^free/) {
        splice @filler, 0, 16;
        print "freed\n";
    }
};
$done->recv;
PERL

my $dir = tempdir();
local $ENV{PERL_ANYEVENT_VERBOSE} = 4;    # (the shortage is logged at level 4)
delete local $ENV{PERL_ANYEVENT_LOG};
my @inc = map { "-I$_" } grep { !ref } @INC;
my $pid = IPC::Open2::open2(my $out, my $in, 'sh', '-c', 'ulimit -n 48 && exec "$@" 2>"$0"', "$dir/stderr",
    $^X, @inc, '-e', $server);
$in->autoflush(1);
my $line = sub { my $l = <$out> // die "the server ended early\n"; chomp $l; $l };

my ($port) = $line->() =~ /^port (\d+)/ or die "no port";
sub client {
    socket my $s, AF_INET, SOCK_STREAM, 0 or die "socket: $!";
    connect $s, pack_sockaddr_in($port, inet_aton('127.0.0.1')) or die "connect: $!";
    $s;
}
sub echo {
    my ($s, $text) = @_;
    syswrite $s, $text;
    sysread $s, my $got, 100;
    $got;
}

my $first = client();
is $line->(), 'accepted 1', 'a first client is accepted';
is echo($first, "one\n"), "one\n", '... and served';

print $in "fill\n";
like $line->(), qr/^full Too many open files/, 'the server has no descriptor left';
my @waiting = map { client() } 1 .. 5;    # the kernel completes them; they wait for accept
print $in "window\n";
is echo($first, "two\n"), "two\n", 'the connection the server has is still served while accept fails';
my ($cpu) = $line->() =~ /^cpu ([\d.]+)/;
cmp_ok $cpu, '<', 0.5, "no spinning: $cpu s of CPU in the 2 s window with clients waiting";

print $in "free\n";
is $line->(), 'freed', 'descriptors are free again';
is_deeply [map { $line->() } 1 .. 5], [map { "accepted $_" } 2 .. 6], 'every waiting client is accepted, without being asked';
is echo($waiting[-1], "three\n"), "three\n", '... and served';

close $in;
waitpid $pid, 0;
is $? >> 8, 0, 'the server exited cleanly';
my @log = do { open my $fh, '<', "$dir/stderr" or die $!; <$fh> };
is scalar(grep /tcp_server: accept: Too many open files/, @log), 1, 'the shortage was logged once'
    or diag @log;
done_testing;
