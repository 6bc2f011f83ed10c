#!/usr/bin/perl
# Connection rate of tcp_connect + tcp_server over loopback, in one process.
# usage: connect.pl [CONNECTIONS [IN_FLIGHT [HOST]]]   (default 10000 50 127.0.0.1)
# Each connection: tcp_connect, the server's accept callback writes one byte and closes, the
# client reads it and closes; IN_FLIGHT connections run at a time. Prints on stderr:
#   model=... connections_per_s=... us_per_connection=...
use strict;
use warnings;
use AnyEvent;
use AnyEvent::Socket;
use Time::HiRes ();

my ($total, $in_flight, $host) = @ARGV;
$total     ||= 10000;
$in_flight ||= 50;
$host      //= '127.0.0.1';

my $port;
my $server = tcp_server $host, 0, sub {
    my ($fh) = @_;
    syswrite $fh, 'x';
}, sub { $port = $_[2]; 1024 };

my $done = AE::cv;
my ($started, $finished) = (0, 0);

sub start_one {
    return if $started >= $total;
    ++$started;
    tcp_connect $host, $port, sub {
        my ($fh) = @_ or die "connect failed: $!\n";
        my $w;
        $w = AE::io $fh, 0, sub {
            sysread $fh, my $buf, 1;
            undef $w;
            close $fh;
            $done->send if ++$finished == $total;
            start_one();
        };
    };
}

my $t0 = Time::HiRes::time;
start_one() for 1 .. $in_flight;
$done->recv;
my $elapsed = Time::HiRes::time - $t0;

AnyEvent::detect();
printf STDERR "model=%s connections_per_s=%.0f us_per_connection=%.2f\n",
    $AnyEvent::MODEL, $total / $elapsed, 1e6 * $elapsed / $total;
