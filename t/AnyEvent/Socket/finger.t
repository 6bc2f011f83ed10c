# The tutorial's parallel finger client (AnyEvent::Intro, "Implementing a parallel finger
# client"), verbatim, against a local finger server on 127.0.0.1 port 79 (service "finger").
# The server answers each user after a different delay; the three requests run in parallel.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog);
use Time::HiRes ();

watchdog(20);

unless (getservbyname('finger', 'tcp')) {
    BAIL_OUT('the finger service is not in /etc/services (install netbase)') if ($ENV{AE_TEST_PEERS} // '') eq 'required';
    plan skip_all => 'the finger service is not in /etc/services';
}
plan skip_all => 'binding port 79 needs root' if $> != 0;

# ---- the tutorial's program, verbatim --------------------------------------------------
no warnings 'uninitialized'; # the tutorial's programs are written without warnings

use AnyEvent;
use AnyEvent::Socket;

sub finger($$) {
   my ($user, $host) = @_;

   # use a condvar to return results
   my $cv = AnyEvent->condvar;

   # first, connect to the host
   tcp_connect $host, "finger", sub {
      # the callback receives the socket handle - or nothing
      my ($fh) = @_
         or return $cv->send;

      # now write the username
      syswrite $fh, "$user\015\012";

      my $response;

      # register a read watcher
      my $read_watcher; $read_watcher = AnyEvent->io (
         fh   => $fh,
         poll => "r",
         cb   => sub {
            my $len = sysread $fh, $response, 1024, length $response;

            if ($len <= 0) {
               # we are done, or an error occured, lets ignore the latter
               undef $read_watcher; # no longer interested
               $cv->send ($response); # send results
            }
         },
      );
   };

   # pass $cv to the caller
   $cv
}

use warnings;

# ---- the local finger server -----------------------------------------------------------

my %delay = (trouble => 0.4, 1736 => 0.6, johnc => 0.8);
my %answer = (
    trouble => "no trouble tickets\n",
    1736    => "ticket 1736: closed\n",
    johnc   => "Plan: ship it.\n",
);
my %pending;
my $server = eval {
    tcp_server "127.0.0.1", "finger", sub {
        my ($fh) = @_;
        my ($request, $reader) = ('');
        $reader = AE::io $fh, 0, sub {
            sysread $fh, $request, 1024, length $request or return undef $reader;
            return unless $request =~ s/\015\012\z//;
            undef $reader;
            my $user = $request;
            $pending{$fh} = AE::timer $delay{$user} // 0, 0, sub {
                delete $pending{$fh};
                syswrite $fh, $answer{$user} // "no such user\n";
                close $fh;
            };
        };
    };
};
plan skip_all => "cannot listen on 127.0.0.1:79: $@" unless $server;

# ---- the tutorial's usage, against it ----------------------------------------------------

my $start = Time::HiRes::time;

my $f1 = finger "trouble", "127.0.0.1"; # check for trouble tickets
my $f2 = finger "1736"   , "127.0.0.1"; # fetch ticket 1736
my $f3 = finger "johnc", "127.0.0.1"; # finger john

is $f1->recv, $answer{trouble}, 'trouble tickets';
is $f2->recv, $answer{1736}, 'ticket 1736';
is $f3->recv, $answer{johnc}, "john's plan";

my $took = Time::HiRes::time - $start;
cmp_ok $took, '>=', 0.8, 'no answer before the slowest one is due';
cmp_ok $took, '<', 0.8 + 0.6, 'parallel: about as long as the slowest (sequential would take 1.8 s)';

my $nobody = finger "nobody", "localhost"; # localhost: 127.0.0.1 first
is $nobody->recv, "no such user\n", 'finger by name localhost';

undef $server;
my $failed = finger "trouble", "127.0.0.1";
is $failed->recv, undef, 'no server: the condvar is sent nothing';

done_testing;
