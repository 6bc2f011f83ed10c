# TLS handles and what callers or peers may hand them: peer names that are no host names (left
# out of SNI when nothing has to be verified against them, an EPROTO through on_error when
# something has - never a croak), and a TLS handle whose fh is closed behind its back while a
# new socket gets its descriptor number (EBADF, nothing read from or written to the new socket).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use Errno qw(EPROTO EBADF);
use AETest qw(watchdog sockets recv_within);
use AETest::TLS qw(make_pki start_s_server);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);
my $pki = make_pki();
my ($port) = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-rev");

# Connects with TLS and sends a line; returns "ok <answer>" or "error <errno> <message>".
sub try_client {
    my ($peername, %ctx) = @_;
    my $fh = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp") or die $!;
    my $cv = AE::cv;
    my $h;
    eval {
        $h = AnyEvent::Handle->new(fh => $fh, peername => $peername, tls => "connect", tls_ctx => \%ctx,
            on_error => sub { $cv->send("error " . ($! + 0) . " $_[2]") });
        1;
    } or return "croaked: $@";
    if ($h) {    # (a session that cannot be made fails at once, inside new)
        $h->push_write("abc\n");
        $h->push_read(line => sub { $cv->send("ok $_[1]") });
    }
    recv_within($cv, 10, 'the TLS answer');
}

my %verify = (verify => 1, verify_peername => "https", ca_file => "$pki/ca.pem");
for my $name ('x..y.test', ('a' x 64) . '.test', "b\x{fc}cher..test", "\x{263a}\x{263a}..test", 'with space.test') {
    (my $shown = $name) =~ s/([^\x20-\x7e])/sprintf '\\x{%x}', ord $1/ge;
    is try_client($name), "ok cba", "peer name '$shown', nothing to verify: the connection works";
    like try_client($name, %verify), qr/^error ${\ EPROTO} /, "peer name '$shown' with verify_peername: EPROTO through on_error";
}

subtest 'a TLS handle never touches a descriptor its fh no longer owns' => sub {
    my $fh = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Proto => "tcp") or die $!;
    my $fd = fileno $fh;
    my $cv = AE::cv;
    my @error;
    my $h = AnyEvent::Handle->new(fh => $fh, tls => "connect", on_error => sub { push @error, [$_[1], $! + 0]; $cv->send });
    $h->push_write("first\n");
    $h->push_read(line => sub { $cv->send($_[1]) });
    is recv_within($cv, 10, 'the first answer'), 'tsrif', 'the TLS connection works';

    $cv = AE::cv;
    $h->on_read(sub { fail 'the old handle must read nothing'; $_[0]{rbuf} = '' });
    close $fh;    # behind the handle's back
    my ($new, $new_peer) = sockets();
    is fileno $new, $fd, 'the new socket has the old descriptor number';
    my @new_read;
    my $cv2 = AE::cv;
    my $h2 = AnyEvent::Handle->new(fh => $new, on_read => sub { push @new_read, $_[0]{rbuf}; $_[0]{rbuf} = ''; $cv2->send },
        on_error => sub { fail "new handle: $_[2]" });
    syswrite $new_peer, "\x16\x03\x01\x00\x05hello";    # looks like a TLS record
    recv_within($cv, 5, 'the old handle to fail');
    is_deeply \@error, [[1, EBADF]], 'the old handle failed with a fatal EBADF';
    recv_within($cv2, 5, 'the new handle to read');
    is join('', @new_read), "\x16\x03\x01\x00\x05hello", 'the new handle got its data';
    AnyEvent::fh_unblock($new_peer);
    is sysread($new_peer, my $buf, 100), undef, 'nothing was written into the new socket';
};

subtest 'a peer that forges records while our data waits: EPROTO, and the handle lets go' => sub {
    my ($c, $s) = sockets();
    my $ready = AE::cv;
    $ready->begin for 1 .. 2;
    my $server = AnyEvent::Handle->new(fh => $s, tls => 'accept', on_error => sub { },
        tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key" }, on_starttls => sub { $ready->end });
    my $failed = AE::cv;
    my $client = AnyEvent::Handle->new(fh => $c, tls => 'connect', on_starttls => sub { $ready->end },
        on_error => sub { $failed->send($! + 0, $_[2]); $_[0]->destroy });
    undef $c;    # the handle (and its linger) holds the only reference
    recv_within($ready, 10, 'the handshake');
    $server->stop_read;
    $client->push_write('x' x (8 << 20));    # more than the sockets hold: data waits
    syswrite $s, "\x17\x03\x03\x00\x0fforged-record!!";    # application data no key made
    my ($errno, $message) = recv_within($failed, 5, 'the client to fail');
    is $errno, EPROTO, "the forged record fails the client with EPROTO ($message)";
    undef $client;
    # Reading the records that went out lets the destroyed handle's linger run: it must stop
    # (the session failed) and close the socket, not croak from the loop.
    AnyEvent::fh_unblock($s);
    my $eof = AE::cv;
    my $w = AE::io $s, 0, sub {
        my $n = sysread $s, my $buf, 1 << 20;
        $eof->send('eof') if defined $n && !$n;
    };
    is recv_within($eof, 5, 'end of file after the linger'), 'eof', 'the lingering handle gave up and closed the socket';
};

done_testing;
