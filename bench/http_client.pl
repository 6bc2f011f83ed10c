#!/usr/bin/perl
# An AnyEvent::HTTP-shaped client: keep-alive GET requests per second against a private nginx
# on loopback, plain HTTP (issue 7, workload 4).
#
# IN_FLIGHT connections (tcp_connect + AnyEvent::Handle) each send one request after the other,
# reusing the connection (nginx allows 1e6 requests per connection). Per request it does what
# AnyEvent::HTTP 2.25's http_request does on this path (the code follows it closely):
#   - on_error/on_eof set, timeout_reset, timeout(300);
#   - push_write of "GET /small.txt HTTP/1.1" with its headers (Host, User-Agent,
#     Connection: keep-alive, Te, Te: trailers) built the way AnyEvent::HTTP builds them;
#   - status line and headers read with push_read(line => $qr_nlnl, ...) (AnyEvent::HTTP's
#     regex, qr{(?<![^\012])\015?\012}: the whole header block as one regex "line"); on a
#     reused connection, from an on_read that queues that push_read when data arrives;
#     mode "line" instead reads the status line and each header with push_read(line =>
#     qr{\r?\n}) until the empty line;
#   - the headers parsed with AnyEvent::HTTP's regexes (y/\015//d, status line, _parse_hdr);
#   - the body (Content-Length, 1 KiB) by on_read with
#     `substr delete $_[0]{rbuf}, 0, $len, ""` once {rbuf} holds it;
#   - then, as its ka_store does, on_error/on_eof/on_read set to a destroy closure and
#     timeout(3) while the connection is idle, and the next request.
# After one warm-up second the requests completed in SECONDS are counted.
#
# usage: perl bench/http_client.pl [SECONDS [IN_FLIGHT [nlnl|line]]]      (default 3 50 nlnl)
#   perl ../shared/bench/compare.pl . 3 bench/http_client.pl 3 50
#   perl ../shared/bench/compare.pl . 3 bench/http_client.pl 3 50 line
# Prints on stderr:
#   model=... config=... requests_per_s=... client_cpu_us_per_request=... nginx_cpu_us_per_request=... errors=...
# (client_cpu_us_per_request: this process's user+system CPU per request in the window;
# nginx_cpu_us_per_request: nginx's (one worker), from /proc.)
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use BenchPeers qw(tmpdir start_nginx cpu_seconds nginx_cpu_seconds);
use Time::HiRes ();
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket;

my ($seconds, $in_flight, $mode) = @ARGV;
$seconds   ||= 3;
$in_flight ||= 50;
$mode      ||= "nlnl";
die "mode must be nlnl or line\n" unless $mode =~ /^(nlnl|line)$/;

my $dir   = tmpdir();
my $nginx = start_nginx(dir => $dir);   # only its plain HTTP port is used
my $port  = $nginx->{http};
my $size  = $nginx->{size};

our $qr_nlnl = qr{(?<![^\012])\015?\012};
my  $qr_line = qr{\r?\n};

# AnyEvent::HTTP 2.25's _parse_hdr: parses $_ from pos() on
sub _parse_hdr() {
    my %hdr;
    $hdr{lc $1} .= ",$2"
        while /\G
              ([^:\000-\037]*):
              [\011\040]*
              ((?: [^\012]+ | \012[\011\040] )*)
              \012
           /gxc;
    /\G$/
        or return;
    substr $_, 0, 1, ""
        for values %hdr;
    \%hdr
}

my ($done, $errors, $counting) = (0, 0, 0);
my $fail = sub { warn "request failed: $_[0]\n" if $errors++ < 3 };

# one request on $hdl; $was_persistent: the handle served a request before
sub request {
    my ($hdl, $was_persistent) = @_;
    my %state = (handle => $hdl);
    my @pseudo;

    # $prepare_handle
    $hdl->on_error(sub { $fail->($_[2]); %state = () });
    $hdl->on_eof(sub { $fail->("Unexpected end-of-file"); %state = () });
    $hdl->timeout_reset;
    $hdl->timeout(300);

    my %hdr = (
        host         => "127.0.0.1:$port",
        "user-agent" => "Mozilla/5.0 (compatible; U; AnyEvent-HTTP/2.25; +http://software.schmorp.de/pkg/AnyEvent)",
        connection   => "keep-alive, Te",
        te           => "trailers",
    );
    $hdl->push_write(
        "GET /small.txt HTTP/1.1\015\012"
        . (join "", map "\u$_: $hdr{$_}\015\012", grep defined $hdr{$_}, keys %hdr)
        . "\015\012"
    );
    %hdr = ();

    $state{read_response} = sub {
        return unless %state;
        for ("$_[1]") {
            y/\015//d;
            /^HTTP\/0*([0-9\.]+) \s+ ([0-9]{3}) (?: \s+ ([^\012]*) )? \012/gxci
                or return $fail->("Invalid server response"), %state = ();
            push @pseudo, HTTPVersion => $1, Status => $2, Reason => $3;
            my $hdr = _parse_hdr
                or return $fail->("Garbled response headers"), %state = ();
            %hdr = (%$hdr, @pseudo);
        }
        my $len = $hdr{"content-length"};
        my $finish = sub {
            my ($body) = @_;
            $fail->("short body") unless length $body == $size;
            my $h = delete $state{handle};
            %state = ();
            # ka_store
            my $destroy = sub { $fail->("idle connection closed"); $h->destroy };
            $h->on_error($destroy);
            $h->on_eof($destroy);
            $h->on_read($destroy);
            $h->timeout(3);
            ++$done if $counting;
            request($h, 1);
        };
        $_[0]->on_eof(undef);
        $_[0]->on_read(sub {
            $finish->((substr delete $_[0]{rbuf}, 0, $len, ""), undef, undef, 1)
                if $len <= length $_[0]{rbuf};
        });
    };

    my $read_headers = $state{read_response};
    if ($mode eq "line") {
        # status line and headers one line at a time, then the same parser
        my $block = "";
        $read_headers = sub {
            my ($h, $line) = @_;
            if (length $line) {
                $block .= "$line\012";
                $h->push_read(line => $qr_line, $read_headers);
            } else {
                $state{read_response}->($h, $block);
            }
        };
    }
    my $hdr_re = $mode eq "line" ? $qr_line : $qr_nlnl;

    if ($was_persistent) {
        my $old_eof = $hdl->{on_eof};
        $hdl->{on_eof} = sub { $fail->("keep-alive connection closed"); %state = () };
        $hdl->on_read(sub {
            return unless %state;
            $hdl->{on_eof} = $old_eof;
            $hdl->push_read(line => $hdr_re, $read_headers);
        });
    } else {
        $hdl->push_read(line => $hdr_re, $read_headers);
    }
}

for (1 .. $in_flight) {
    tcp_connect "127.0.0.1", $port, sub {
        my ($fh) = @_ or return $fail->("connect: $!");
        request(AnyEvent::Handle->new(fh => $fh, peername => "127.0.0.1"), 0);
    }, sub { 300 };
}

my (@start, @end);
my $cv = AE::cv;
my $w1 = AE::timer 1, 0, sub { $counting = 1; @start = (Time::HiRes::time, cpu_seconds(), nginx_cpu_seconds($nginx)) };
my $w2 = AE::timer 1 + $seconds, 0, sub { @end = (Time::HiRes::time, cpu_seconds(), nginx_cpu_seconds($nginx)); $cv->send };
$cv->recv;

AnyEvent::detect();
printf STDERR "model=%s config=%s-inflight%d requests_per_s=%.0f client_cpu_us_per_request=%.2f nginx_cpu_us_per_request=%.2f errors=%d\n",
    $AnyEvent::MODEL, $mode, $in_flight, $done / ($end[0] - $start[0]),
    $done ? 1e6 * ($end[1] - $start[1]) / $done : 0, $done ? 1e6 * ($end[2] - $start[2]) / $done : 0, $errors;
