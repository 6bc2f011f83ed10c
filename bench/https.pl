#!/usr/bin/perl
# HTTPS requests on NEW connections against a private nginx on loopback (issue 7, workload 1).
#
# Each request: AnyEvent::Handle->new(connect => [127.0.0.1, port], tls => "connect") with the
# default TLS context, push_write of "GET /small.txt HTTP/1.1" with "Connection: close", the
# response (1 KiB body) read to EOF (on_read keeps it in {rbuf}; EOF, or EPIPE as AnyEvent::HTTP
# treats it, ends it and the status line and length are checked).
# IN_FLIGHT requests run at a time (1 = strictly sequential) for SECONDS after one warm-up
# request. nginx (one worker, started and stopped by this script, config in a temp dir) serves
# TLSv1.2 and TLSv1.3 (TLS 1.3 is what a default client negotiates); "tls1.2" selects a server
# block that allows TLSv1.2 only. The certificate is made with openssl at run time.
#
# "noticket" uses one AnyEvent::TLS->new(session_ticket => 0) instead of Handle's default
# context (7.17's default client does full handshakes; ours resumes with tickets unless told not to).
#
# usage: perl bench/https.pl [SECONDS [IN_FLIGHT [tls1.3|tls1.2 [ecdsa|rsa [default|noticket]]]]]
#        (default 3 1 tls1.3 ecdsa default)
#   perl ../shared/bench/compare.pl . 3 bench/https.pl 3 1
#   perl ../shared/bench/compare.pl . 3 bench/https.pl 3 50
# Prints on stderr:
#   model=... config=... requests_per_s=... client_cpu_us_per_request=... nginx_cpu_us_per_request=...
#   resumed_pct=... errors=...
# (client_cpu_us_per_request: user+system CPU of this process per request, including the
# requests still in flight at the deadline, which are completed but not counted in the rate;
# nginx_cpu_us_per_request: the same for nginx's master and worker, from /proc; resumed_pct: share of
# the measured connections nginx logged as resumed TLS sessions, 0 = all full handshakes.)
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use BenchPeers qw(tmpdir make_cert start_nginx stop cpu_seconds nginx_cpu_seconds);
use Time::HiRes ();
use Errno ();
use AnyEvent;
use AnyEvent::Handle;

my ($seconds, $in_flight, $proto, $cert_type, $ctx_kind) = @ARGV;
$seconds   ||= 3;
$in_flight ||= 1;
$proto     ||= "tls1.3";
$cert_type ||= "ecdsa";
$ctx_kind  ||= "default";
die "protocol must be tls1.3 or tls1.2\n" unless $proto =~ /^tls1\.[23]$/;
die "context must be default or noticket\n" unless $ctx_kind =~ /^(default|noticket)$/;

# "default": Handle's default TLS context (what tls => "connect" alone gives);
# "noticket": one shared AnyEvent::TLS->new(session_ticket => 0)
my @tls_ctx;
if ($ctx_kind eq "noticket") {
    require AnyEvent::TLS;
    @tls_ctx = (tls_ctx => AnyEvent::TLS->new(session_ticket => 0));
}

my $dir = tmpdir();
my ($crt, $key) = make_cert($dir, $cert_type);
my $nginx = start_nginx(dir => $dir, cert => $crt, key => $key);
my $port  = $proto eq "tls1.2" ? $nginx->{https12} : $nginx->{https};
my $size  = $nginx->{size};
my $request = "GET /small.txt HTTP/1.1\015\012Host: 127.0.0.1:$port\015\012"
            . "User-Agent: ae-bench\015\012Connection: close\015\012\015\012";

my ($done, $done_all, $errors, $deadline, $all_done) = (0, 0, 0, 0, undef);
my %live;

sub one_request {
    my ($finish) = @_;
    my $h;
    my $end = sub {
        my ($ok) = @_;
        delete $live{$h};
        $h->destroy;
        undef $h;
        $finish->($ok);
    };
    my $check = sub {
        my $ok = $h->{rbuf} =~ m{^HTTP/1\.1 200 } && length $h->{rbuf} > $size;
        warn "bad response: " . substr($h->{rbuf}, 0, 80) . "\n" if !$ok && $errors++ < 3;
        $end->($ok);
    };
    $h = AnyEvent::Handle->new(
        connect  => ["127.0.0.1", $port],
        tls      => "connect",
        @tls_ctx,
        on_read  => sub { },   # keep the response in {rbuf} until EOF
        # the end of the response: EOF, or (as AnyEvent::HTTP treats it) EPIPE when the TLS layer
        # answers nginx's close_notify after nginx closed; check what arrived
        on_eof   => sub { $check->() },
        on_error => sub {
            return $check->() if $! == Errno::EPIPE() || !$!;
            warn "request failed: $_[2]\n" if $errors++ < 3;
            $end->(0);
        },
    );
    $h->push_write($request);
    $live{$h} = $h;
}

# warm-up: loads the TLS code and makes the default context
my $cv = AE::cv;
one_request(sub { $_[0] or die "warm-up request failed\n"; $cv->send });
$cv->recv;

my $t0   = Time::HiRes::time;
my $cpu0 = cpu_seconds();
my $ncpu0 = nginx_cpu_seconds($nginx);
$deadline = $t0 + $seconds;
$all_done = AE::cv;
my $started = 0;
my $t1;
my $next; $next = sub {
    if (Time::HiRes::time >= $deadline) {
        $t1 //= Time::HiRes::time;
        $all_done->send unless %live;
        return;
    }
    ++$started;
    one_request(sub { if ($_[0]) { ++$done_all; ++$done unless defined $t1 } $next->() });
};
$next->() for 1 .. $in_flight;
$all_done->recv;
my $elapsed = $t1 - $t0;
my $cpu = cpu_seconds() - $cpu0;
my $ncpu = nginx_cpu_seconds($nginx) - $ncpu0;

stop($nginx->{pid});   # flushes the TLS log
my ($conns, $resumed) = (0, 0);
if (open my $log, "<", "$dir/tls.log") {
    my @lines = <$log>;
    shift @lines;      # the warm-up connection
    $conns   = @lines;
    $resumed = grep /\sr$/, @lines;
}

AnyEvent::detect();
printf STDERR "model=%s config=%s-%s-%s-%s-inflight%d requests_per_s=%.1f client_cpu_us_per_request=%.0f nginx_cpu_us_per_request=%.0f resumed_pct=%.1f errors=%d\n",
    $AnyEvent::MODEL, $proto, $cert_type, $ctx_kind, "new-conn", $in_flight, $done / $elapsed,
    $done_all ? 1e6 * $cpu / $done_all : 0, $done_all ? 1e6 * $ncpu / $done_all : 0, $conns ? 100 * $resumed / $conns : 0, $errors;
