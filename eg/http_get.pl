#!/usr/bin/perl
# The tutorial's HTTP GET with AnyEvent::Handle; with --tls, its HTTPS variant.
# usage: perl eg/http_get.pl [--tls] host [uri] [port]
#   e.g. perl eg/http_get.pl 127.0.0.1 / 8080
use strict;
use warnings;
use AnyEvent;
use AnyEvent::Socket;
use AnyEvent::Handle;

my $tls = @ARGV && $ARGV[0] eq "--tls" ? shift : 0;
my ($host, $uri, $port) = @ARGV;
die "usage: $0 [--tls] host [uri] [port]\n" unless defined $host;
$uri  = "/" unless defined $uri;
$port = $tls ? "https" : "http" unless defined $port;

sub http_get {
   my ($host, $uri, $cb) = @_;

   tcp_connect $host, $port, sub {
      my ($fh) = @_
         or return $cb->("HTTP/1.0 500 $!");

      # store results here
      my ($response, $header, $body);

      my $handle; $handle = new AnyEvent::Handle
         fh       => $fh,
         ($tls ? (tls => "connect", peername => $host) : ()),
         on_error => sub {
            undef $handle;
            $cb->("HTTP/1.0 500 $!");
         },
         on_eof   => sub {
            undef $handle; # keep it alive till eof
            $cb->($response, $header, $body);
         };

      $handle->push_write ("GET $uri HTTP/1.0\015\012\015\012");

      # now fetch response status line
      $handle->push_read (line => sub {
         my ($handle, $line) = @_;
         $response = $line;
      });

      # then the headers
      $handle->push_read (line => "\015\012\015\012", sub {
         my ($handle, $line) = @_;
         $header = $line;
      });

      # and finally handle any remaining data as body
      $handle->on_read (sub {
         $body .= $_[0]->rbuf;
         $_[0]->rbuf = "";
      });
   };
}

my $done = AnyEvent->condvar;
http_get $host, $uri, sub {
   my ($response, $header, $body) = @_;

   print
      $response, "\n",
      (defined $body ? length $body : 0), " octets of body\n";
   $done->send;
};
$done->recv;
