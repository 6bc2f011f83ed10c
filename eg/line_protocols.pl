#!/usr/bin/perl
# The tutorial's read-queue examples, each against a small in-process peer on a socket pair:
# an SMTP multi-line reply (unshift_read), an NNTP article (a "line" ended by "\012.\015\012"),
# and a hand-written reader that edits $handle->{rbuf}.
use strict;
use warnings;
use Socket;
use AnyEvent;
use AnyEvent::Handle;

sub pair {
   socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
   (AnyEvent::Handle->new (fh => $y, on_error => sub { die "client: $_[2]\n" }),
    AnyEvent::Handle->new (fh => $x, on_error => sub { die "server: $_[2]\n" }));
}

# SMTP: multi-line response
{
   my ($handle, $server) = pair;
   my $done = AnyEvent->condvar;
   $server->push_write ("220-mail.example.invalid Neverusesendmail 8.8.8\015\012220-hey guys\015\012220 my response is longer than yours\015\012");

   my $response; # response lines end up in here

   my $read_response; $read_response = sub {
      my ($handle, $line) = @_;

      $response .= "$line\n";

      # check for continuation lines ("-" as 4th character")
      if ($line =~ /^...-/) {
         # if yes, then unshift another line read
         $handle->unshift_read (line => $read_response);

      } else {
         # otherwise we are done

         # free callback
         undef $read_response;
         print "we are done reading: $response\n";
         $done->send;
      }
   };

   $handle->push_read (line => $read_response);
   $done->recv;
}

# NNTP: article 42
{
   my ($handle, $server) = pair;
   my $done = AnyEvent->condvar;
   my $finish = sub { print "status: $_[0]\n", defined $_[1] ? "body:\n$_[1]\n" : ""; $done->send };
   $server->push_read (line => sub {
      $_[0]->push_write ("220 42 <x\@y> article\015\012Subject: hello\015\012\015\012the article\015\012.\015\012");
   });

   $handle->push_write ("article 42\015\012");

   # read response line
   $handle->push_read (line => sub {
      my ($handle, $status) = @_;

      # article data following?
      if ($status =~ /^2/) {
         # yes, read article body
         $handle->unshift_read (line => "\012.\015\012", sub {
            my ($handle, $body) = @_;

            $finish->($status, $body);
         });

      } else {
         # some error occured, no article data

         $finish->($status);
      }
   });
   $done->recv;
}

# Your own read queue handler: an even number of characters followed by a colon
{
   my ($handle, $server) = pair;
   my $done = AnyEvent->condvar;
   $server->push_write ("ab");
   my $later = AnyEvent->timer (after => 0.1, cb => sub { $server->push_write ("cd:rest") });

   $handle->push_read (sub {
      my ($handle) = @_;

      # check for even number of characters + ":"
      # and remove the data if a match is found.
      # if not, return false (actually nothing)

      $handle->{rbuf} =~ s/^( (?:..)* ) ://x
         or return;

      # we got some data in $1, pass it to whoever wants it
      print "even reader got: $1\n";
      $done->send;

      # and return true to indicate we are done
      1
   });
   $done->recv;
}
