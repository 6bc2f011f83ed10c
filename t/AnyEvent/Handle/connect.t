# connect => [$host, $service]: on_prepare, on_connect, on_connect_error, queues filled while
# connecting, SNI/peername from the connect host. Needs AnyEvent::Socket (tcp_connect).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Errno qw(ECONNREFUSED);
use AETest qw(watchdog);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::Socket ();
watchdog(30);

my $listen = IO::Socket::INET->new(Listen => 5, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", ReuseAddr => 1) or die $!;
my $port = $listen->sockport;
my @served;
my $accept = AE::io $listen, 0, sub {
    my $fh = $listen->accept or return;
    my $h; $h = AnyEvent::Handle->new(fh => $fh, on_error => sub { undef $h }, on_eof => sub { undef $h });
    $h->push_read(line => sub { push @served, $_[1]; $_[0]->push_write("echo $_[1]\n") });
    push @served, $h;
};

subtest 'connect, with reads and writes queued before the connection is up' => sub {
    my $cv = AE::cv;
    my @events;
    my $h = AnyEvent::Handle->new(
        connect    => ["127.0.0.1", $port],
        on_prepare => sub { push @events, "prepare:" . (defined fileno $_[0]{fh} ? "fh" : "none"); 5 },
        on_connect => sub { push @events, "connect:$_[1]:$_[2]"; ok ref $_[3] eq 'CODE', 'retry callback' },
        on_error   => sub { $cv->send("error $_[2]") },
    );
    is $h->{peername}, "127.0.0.1", 'peername defaults to the connect host';
    $h->push_write("queued\n");
    $h->push_read(line => sub { $cv->send($_[1]) });
    is $cv->recv, "echo queued", 'queued write sent and read satisfied after connecting';
    is_deeply \@events, ["prepare:fh", "connect:127.0.0.1:$port"], 'on_prepare, then on_connect with the peer address';
};

subtest 'connection refused' => sub {
    my $closed = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp") or die $!;
    my $dead_port = $closed->sockport;
    close $closed;
    my $cv = AE::cv;
    my $h = AnyEvent::Handle->new(connect => ["127.0.0.1", $dead_port],
        on_connect_error => sub { $cv->send("connect_error", $! + 0, $_[1]) },
        on_error => sub { $cv->send("error", $! + 0, $_[2]) });
    my ($which, $errno, $message) = $cv->recv;
    is $which, "connect_error", 'on_connect_error called';
    is $errno, ECONNREFUSED, '$! is ECONNREFUSED';

    my $cv2 = AE::cv;
    my $h2 = AnyEvent::Handle->new(connect => ["127.0.0.1", $dead_port], on_error => sub { $cv2->send($_[1], $! + 0) });
    my ($fatal, $errno2) = $cv2->recv;
    ok $fatal, 'without on_connect_error: a fatal on_error';
    is $errno2, ECONNREFUSED, '... with ECONNREFUSED';
};

done_testing;
