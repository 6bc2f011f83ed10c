#!/usr/bin/perl
# TLS handshakes per second in ONE server process (issue 7, workload 2).
#
# This process runs a tcp_server on 127.0.0.1; every accepted connection becomes an
# AnyEvent::Handle with tls => "accept" and one shared AnyEvent::TLS context (a certificate made
# with openssl at run time: ECDSA P-256 or RSA-2048); on_starttls counts a completed handshake
# and destroys the handle. The load comes from bench/tls_client (Rust + rustls, built here with
# cargo on first use), a separate process whose THREADS threads each do full handshakes (no
# resumption, no verification) one after the other, waiting for the server to close each
# connection. After a 0.5 s warm-up the server counts handshakes for SECONDS. TLS 1.3 unless
# "tls1.2" is given (the client then offers TLS 1.2 only). The client answers each server record
# as soon as it has read it (as OpenSSL's and Go's clients do). "delack" (default): the client's
# kernel delays its ACKs as usual, so a server whose handshake flight goes out in several small
# sends waits ~40 ms (Nagle) whenever the client's ACK is delayed; "quickack": the client sets
# TCP_QUICKACK before each read, which takes that stall out and leaves the server's CPU-bound rate.
#
# usage: perl bench/handshake.pl [SECONDS [ecdsa|rsa [THREADS [tls1.3|tls1.2 [delack|quickack]]]]]
#        (default 3 ecdsa 4 tls1.3 delack)
#   perl ../shared/bench/compare.pl . 3 bench/handshake.pl 3 ecdsa
#   perl ../shared/bench/compare.pl . 3 bench/handshake.pl 3 rsa
# Prints on stderr:
#   model=... config=... handshakes_per_s=... server_cpu_us_per_handshake=... server_errors=...
#   client_errors=... client_cpu_us_per_handshake=...
# handshakes_per_s counts the server's successful on_starttls in the window. On this 2-core
# machine the server shares the CPU with the client: server_cpu_us_per_handshake (this process's
# user+system CPU per handshake in the window) is the server's own cost whether or not the client
# kept it busy; client_cpu_us_per_handshake is the client's, over its whole run.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use BenchPeers qw(tmpdir make_cert build_rust spawn forget cpu_seconds);
use Time::HiRes ();
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket;
use AnyEvent::TLS;

my ($seconds, $cert_type, $threads, $proto, $ack) = @ARGV;
$seconds   ||= 3;
$cert_type ||= "ecdsa";
$threads   ||= 4;
$proto     ||= "tls1.3";
$ack       ||= "delack";
die "ack mode must be delack or quickack\n" unless $ack =~ /^(delack|quickack)$/;
die "protocol must be tls1.3 or tls1.2\n" unless $proto =~ /^tls1\.[23]$/;

my $client = build_rust("tls_client");
my $dir = tmpdir();
my (undef, undef, $pem) = make_cert($dir, $cert_type);
my $ctx = AnyEvent::TLS->new(cert_file => $pem);

my ($ok, $failed, $errors) = (0, 0, 0);
my $port;
my $server = tcp_server "127.0.0.1", 0, sub {
    my ($fh) = @_;
    my $h;
    $h = AnyEvent::Handle->new(
        fh          => $fh,
        tls         => "accept",
        tls_ctx     => $ctx,
        on_starttls => sub { $_[1] ? ++$ok : ++$failed; $h->destroy; undef $h },
        on_error    => sub { ++$errors; $h->destroy; undef $h },
        on_eof      => sub { ++$errors; $h->destroy; undef $h },
    );
}, sub { $port = $_[2]; 1024 };

my $run = 0.5 + $seconds + 0.3;
my $pid = spawn("TERM", "sh", "-c", "exec $client 127.0.0.1 $port $threads $run $proto " . ($ack eq "quickack" ? "quickack" : "") . " > $dir/client.out");
my $exited = AE::cv;
my $cw = AE::child $pid, sub { forget($pid); $exited->send };

my (@start, @end);
my $measure = sub { (Time::HiRes::time, cpu_seconds(), $ok, $errors + $failed) };
my $w1 = AE::timer 0.5, 0, sub { @start = $measure->() };
my $w2 = AE::timer 0.5 + $seconds, 0, sub { @end = $measure->() };
my $w3 = AE::timer $run + 10, 0, sub { warn "the client did not exit\n"; $exited->send };
$exited->recv;
die "the client ended before the measurement did\n" unless @end;

my $client_out = do { open my $f, "<", "$dir/client.out"; local $/; <$f> // "" };
my ($client_errors) = $client_out =~ /errors=(\d+)/;
my ($client_cpu)    = $client_out =~ /cpu_us_per_handshake=([\d.]+)/;
warn "client printed: $client_out\n" unless defined $client_cpu;

my $n = $end[2] - $start[2];
AnyEvent::detect();
printf STDERR "model=%s config=%s-%s-threads%d-%s handshakes_per_s=%.0f server_cpu_us_per_handshake=%.1f "
    . "server_errors=%d client_errors=%d client_cpu_us_per_handshake=%.1f\n",
    $AnyEvent::MODEL, $proto, $cert_type, $threads, $ack, $n / ($end[0] - $start[0]),
    $n ? 1e6 * ($end[1] - $start[1]) / $n : 0, $end[3] - $start[3], $client_errors // -1, $client_cpu // 0;
