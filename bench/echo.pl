#!/usr/bin/perl
# Line echo server: lines per second handled by ONE Perl server process (issue 7, workload 3).
#
# This process runs a tcp_server on 127.0.0.1; each connection is an AnyEvent::Handle that reads
# a line with push_read(line => ...) and writes it back with push_write, then queues the next
# read (the same shape as handle.pl's lines mode). The load comes from bench/echo_client.c
# (built here with cc), a separate epoll process with CLIENTS connections, each keeping DEPTH
# 32-byte lines in flight (DEPTH 1: send a line, wait for its echo; DEPTH 4: pipelined). After a
# 0.5 s warm-up the server counts the lines it echoes for SECONDS.
#
# usage: perl bench/echo.pl [SECONDS [CLIENTS [DEPTH]]]          (default 3 200 1)
#   perl ../shared/bench/compare.pl . 3 bench/echo.pl 3 200 1
#   perl ../shared/bench/compare.pl . 3 bench/echo.pl 3 200 4
# Prints on stderr:
#   model=... config=... lines_per_s=... server_cpu_us_per_line=... client_errors=... client_cpu_us_per_line=...
# (server_cpu_us_per_line: this process's user+system CPU per line in the window, the server's
# own cost whether or not the client kept it busy; the client shares this 2-core machine.)
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use BenchPeers qw(tmpdir build_c spawn forget cpu_seconds);
use Time::HiRes ();
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket;

my ($seconds, $clients, $depth) = @ARGV;
$seconds ||= 3;
$clients ||= 200;
$depth   ||= 1;

my $dir = tmpdir();
my $client = build_c("echo_client", $dir);

my ($lines, $accepted, $closed) = (0, 0, 0);
my $port;
my $server = tcp_server "127.0.0.1", 0, sub {
    my ($fh) = @_;
    ++$accepted;
    my $h;
    $h = AnyEvent::Handle->new(
        fh       => $fh,
        on_error => sub { ++$closed; $h->destroy; undef $h },
        on_eof   => sub { ++$closed; $h->destroy; undef $h },
    );
    my $reader; $reader = sub {
        ++$lines;
        $_[0]->push_write("$_[1]\n");
        $_[0]->push_read(line => $reader);
    };
    $h->push_read(line => $reader);
}, sub { $port = $_[2]; 1024 };

my $run = 0.5 + $seconds + 0.3;
my $pid = spawn("TERM", "sh", "-c", "exec $client 127.0.0.1 $port $clients $depth $run > $dir/client.out");
my $exited = AE::cv;
my $cw = AE::child $pid, sub { forget($pid); $exited->send };

my (@start, @end);
my $measure = sub { (Time::HiRes::time, cpu_seconds(), $lines) };
my $w1 = AE::timer 0.5, 0, sub {
    @start = $measure->();
    warn "only $accepted of $clients clients connected after 0.5 s\n" if $accepted < $clients;
};
my $w2 = AE::timer 0.5 + $seconds, 0, sub { @end = $measure->() };
my $w3 = AE::timer $run + 10, 0, sub { warn "the client did not exit\n"; $exited->send };
$exited->recv;
die "the client ended before the measurement did\n" unless @end;

my $client_out = do { open my $f, "<", "$dir/client.out"; local $/; <$f> // "" };
my ($client_errors) = $client_out =~ /errors=(\d+)/;
my ($client_cpu)    = $client_out =~ /cpu_us_per_line=([\d.]+)/;
warn "client printed: $client_out\n" unless defined $client_cpu;

my $n = $end[2] - $start[2];
AnyEvent::detect();
printf STDERR "model=%s config=clients%d-depth%d lines_per_s=%.0f server_cpu_us_per_line=%.2f "
    . "client_errors=%d client_cpu_us_per_line=%.2f\n",
    $AnyEvent::MODEL, $clients, $depth, $n / ($end[0] - $start[0]), $n ? 1e6 * ($end[1] - $start[1]) / $n : 0,
    $client_errors // -1, $client_cpu // 0;
