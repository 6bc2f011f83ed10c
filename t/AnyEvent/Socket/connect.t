# tcp_connect / tcp_server / tcp_bind over real sockets: IPv4, IPv6, unix; failures.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use AETest qw(watchdog tempdir);
use Errno qw(ECONNREFUSED ETIMEDOUT ENXIO);
use Socket ();
use AnyEvent;
use AnyEvent::Socket;

watchdog(30);

my $have_ipv6 = do {
    my $s;
    socket($s, Socket::AF_INET6(), Socket::SOCK_STREAM(), 0)
        && bind($s, AnyEvent::Socket::pack_sockaddr(0, parse_address('::1')));
};

# An echo server answering "<peer host> <line>"; returns (guard, port, bound host).
sub echo_server {
    my ($host, $service) = @_;
    my ($bound_host, $port);
    my $guard = tcp_server $host, $service, sub {
        my ($fh, $peer_host) = @_;
        my $w;
        $w = AE::io $fh, 0, sub {
            my $n = sysread $fh, my $buf, 1024;
            if ($n) { syswrite $fh, "$peer_host $buf" } else { undef $w }
        };
    }, sub { (undef, $bound_host, $port) = @_; 0 };
    return ($guard, $port, $bound_host);
}

# Connects, sends a line, returns (reply, peer host, peer port) or () with the error in $!.
sub round_trip {
    my ($host, $service, $line, $prepare) = @_;
    my $cv = AE::cv;
    my @peer;
    my $g = tcp_connect $host, $service, sub {
        my ($fh, @rest) = @_ or return $cv->send;
        @peer = @rest[0, 1];
        syswrite $fh, "$line\n";
        my $w;
        $w = AE::io $fh, 0, sub {
            sysread $fh, my $buf, 1024;
            undef $w;
            $cv->send($buf);
        };
    }, $prepare;
    my $reply = $cv->recv;
    return defined $reply ? ($reply, @peer) : ();
}

subtest 'IPv4' => sub {
    my ($server, $port, $bound) = echo_server('127.0.0.1', 0);
    is $bound, '127.0.0.1', 'prepare callback gets the bound host';
    like $port, qr/^[1-9]\d*$/, 'and the free port picked for port 0';
    my ($reply, $host, $peer_port) = round_trip('127.0.0.1', $port, 'hello');
    is $reply, "127.0.0.1 hello\n", 'round trip over 127.0.0.1';
    is $host, '127.0.0.1', 'connect callback gets the peer host';
    is $peer_port, $port, 'and the peer port';
    ($reply) = round_trip('127.0.0.1', "whatever=$port", 'named');
    is $reply, "127.0.0.1 named\n", 'name=port service form';
};

SKIP: {
    skip 'no IPv6 on lo', 1 unless $have_ipv6;
    subtest 'IPv6' => sub {
        my ($server, $port, $bound) = echo_server('::1', 0);
        is $bound, '::1', 'bound to ::1';
        my ($reply, $host) = round_trip('::1', $port, 'six');
        is $reply, "::1 six\n", 'round trip over ::1';
        is $host, '::1', 'peer host ::1';
        ($reply) = round_trip(parse_hostport("[::1]:$port"), 'again');
        is $reply, "::1 again\n", 'host and port from parse_hostport';
    };

    subtest 'undef host listens dual-stack' => sub {
        my ($server, $port, $bound) = echo_server(undef, undef);
        is $bound, '::', 'bound to ::';
        is((round_trip('127.0.0.1', $port, 'four'))[0], "127.0.0.1 four\n", 'IPv4 client served (shown unmapped)');
        is((round_trip('::1', $port, 'six'))[0], "::1 six\n", 'IPv6 client served');
    };

    subtest 'every address is tried in turn' => sub {
        # localhost is 127.0.0.1 then ::1 (default preference ipv4,ipv6); only ::1 listens
        my ($server, $port) = echo_server('::1', 0);
        my ($reply, $host) = round_trip('localhost', $port, 'fallback');
        is $reply, "::1 fallback\n", '127.0.0.1 refused, ::1 connected';
        is $host, '::1', 'connect callback names the address that worked';
    };

    subtest 'PERL_ANYEVENT_PROTOCOLS orders the attempts' => sub {
        for (['ipv6,ipv4', "::1 127.0.0.1"], ['ipv4,ipv6', "127.0.0.1 ::1"], ['ipv4', '127.0.0.1'], ['ipv6', '::1']) {
            my ($protocols, $want) = @$_;
            local $ENV{PERL_ANYEVENT_PROTOCOLS} = $protocols;
            my $got = `$^X -Mblib -MAnyEvent::Socket -e 'AnyEvent::Socket::resolve_sockaddr("localhost", 80, 0, 0, undef, sub { print join " ", map { format_address((AnyEvent::Socket::unpack_sockaddr(\$_->[3]))[1]) } \@_ })'`;
            is $got, $want, "PERL_ANYEVENT_PROTOCOLS=$protocols";
        }
    };
}

subtest 'unix sockets' => sub {
    my $path = tempdir() . '/sock';
    my ($server, $port, $bound) = echo_server('unix/', $path);
    is $bound, 'unix/', 'prepare callback gets unix/';
    is $port, $path, 'and the path';
    ok -S $path, 'socket file exists';
    my ($reply, $host, $peer) = round_trip('unix/', $path, 'local');
    is $reply, "unix/ local\n", 'round trip over a unix socket';
    is $host, 'unix/', 'peer host unix/';
    is $peer, $path, 'peer "port" is the path';
    undef $server;
    ok !-e $path, 'destroying the guard unlinks the socket';
    open my $stale, '>', $path or die; # a leftover file where the socket goes
    close $stale;
    ($server) = echo_server('unix/', $path);
    ok -S $path, 'a leftover file is replaced';
    is((round_trip('unix/', $path, 'again'))[0], "unix/ again\n", 'and served');
};

subtest 'service names via /etc/services' => sub {
    my $port = (getservbyname('http', 'tcp'))[2];
    ok $port, 'http is in /etc/services';
    my @bound;
    my $server = eval { tcp_server '127.0.0.1', 'http', sub { }, sub { @bound = @_[1, 2]; 0 } };
    plan skip_all => "port $port busy: $@" unless $server;
    is $bound[1], $port, 'tcp_server resolves the service name';
    my $cv = AE::cv;
    tcp_connect '127.0.0.1', 'http', sub { $cv->send($_[2]) };
    is $cv->recv, $port, 'tcp_connect resolves it too';
    ok !eval { tcp_server '127.0.0.1', 'no-such-service', sub { }; 1 }, 'unknown service croaks';
    like $@, qr/unknown service 'no-such-service'/, '... naming it';
    ok !eval { tcp_connect '127.0.0.1', 'no-such-service', sub { }; 1 }, 'tcp_connect croaks too';
};

subtest 'refused connect' => sub {
    my ($server, $port) = echo_server('127.0.0.1', 0);
    undef $server; # nothing listens there any more
    my $cv = AE::cv;
    my $returned = 0;
    tcp_connect '127.0.0.1', $port, sub { $cv->send([scalar @_, $! + 0, $returned]) };
    $returned = 1;
    my ($args, $errno, $after_return) = @{ $cv->recv };
    is $args, 0, 'callback gets no arguments';
    is $errno, ECONNREFUSED, '$! is ECONNREFUSED';
    ok $after_return, 'callback ran after tcp_connect returned';
};

subtest 'no address at all' => sub {
    my $cv = AE::cv;
    tcp_connect 'unix/', 'relative-path', sub { $cv->send([scalar @_, $! + 0]) };
    is_deeply $cv->recv, [0, ENXIO], 'unusable target reports ENXIO';
};

subtest 'timed-out connect' => sub {
    # A listener that never accepts, with backlog 1: two connects fill its queue; the kernel
    # then drops further SYNs, so the third connect can only time out.
    my ($listener, $port);
    my $bind_guard = AnyEvent::Socket::tcp_bind '127.0.0.1', 0, sub { $listener = shift }, sub { $port = $_[2]; 1 };
    ok $listener, 'tcp_bind passes the listening handle';
    my @filled;
    for (1 .. 2) {
        my $cv = AE::cv;
        tcp_connect '127.0.0.1', $port, sub { $cv->send($_[0]) }, sub { 2 };
        push @filled, $cv->recv;
    }
    is scalar(grep { defined } @filled), 2, 'two connects fill the queue';
    my $cv = AE::cv;
    my $start = AE::now;
    my $prepared;
    tcp_connect '127.0.0.1', $port, sub { $cv->send([scalar @_, $! + 0]) }, sub { $prepared = $_[0]; 0.3 };
    ok defined fileno $prepared, 'prepare callback gets the unconnected handle';
    is_deeply $cv->recv, [0, ETIMEDOUT], 'the next one times out with ETIMEDOUT';
    AE::now_update;
    my $took = AE::now - $start;
    cmp_ok $took, '>=', 0.25, 'after the prepare callback\'s timeout';
};

subtest 'cancelled connect never calls back' => sub {
    my $called = 0;
    my ($server, $port) = echo_server('127.0.0.1', 0);
    my $guard = tcp_connect '127.0.0.1', $port, sub { $called++ };
    undef $guard;
    # a cancelled refused connect, too
    my ($gone, $gone_port) = echo_server('127.0.0.1', 0);
    undef $gone;
    my $g2 = tcp_connect '127.0.0.1', $gone_port, sub { $called++ };
    undef $g2;
    my $control = AE::cv;
    tcp_connect '127.0.0.1', $port, sub { $control->send(1) }; # a later connect completes
    ok $control->recv, 'a connect started after them completes';
    my $idle = AE::cv;
    my $t = AE::timer 0.1, 0, sub { $idle->send };
    $idle->recv;
    is $called, 0, 'neither cancelled connect called back';
};

subtest 'retry callback' => sub {
    my ($server, $port) = echo_server('127.0.0.1', 0);
    my @hosts;
    my $cv = AE::cv;
    tcp_connect 'localhost', $port, sub {
        my ($fh, $host, undef, $retry) = @_ or return $cv->send([@hosts, $! + 0]);
        push @hosts, $host;
        $retry->();
    };
    my $got = $cv->recv;
    is $got->[0], '127.0.0.1', 'first connection offered';
    is $got->[-1], ECONNREFUSED, 'retrying goes on to ::1 (refused) and reports the error' if $have_ipv6;
};

subtest 'server guard stops listening; accepted connections stay' => sub {
    my @accepted;
    my $port;
    my $server = tcp_server '127.0.0.1', 0, sub { push @accepted, $_[0] }, sub { $port = $_[2]; 0 };
    my $cv = AE::cv;
    my $client;
    tcp_connect '127.0.0.1', $port, sub { $client = $_[0]; $cv->send };
    $cv->recv;
    my $wait = AE::cv;
    my $w = AE::io $client, 1, sub { $wait->send }; # give the server a turn to accept
    my $t = AE::timer 0.05, 0, sub { $wait->send };
    $wait->recv until @accepted;
    undef $server;
    syswrite $client, "still here\n";
    my $read = AE::cv;
    my $r = AE::io $accepted[0], 0, sub { sysread $accepted[0], my $buf, 100; $read->send($buf) };
    is $read->recv, "still here\n", 'accepted connection survives the guard';
    my $refused = AE::cv;
    tcp_connect '127.0.0.1', $port, sub { $refused->send($! + 0) };
    is $refused->recv, ECONNREFUSED, 'new connects are refused';
};

subtest 'socket options, handles' => sub {
    my ($server, $port) = echo_server('127.0.0.1', 0);
    my $cv = AE::cv;
    tcp_connect '127.0.0.1', $port, sub { $cv->send($_[0]) };
    my $fh = $cv->recv;
    ok AnyEvent::Socket::tcp_nodelay($fh, 1), 'tcp_nodelay on';
    is unpack('i', getsockopt($fh, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY())), 1, 'TCP_NODELAY set';
    ok AnyEvent::Socket::tcp_nodelay($fh, 0), 'tcp_nodelay off';
    is unpack('i', getsockopt($fh, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY())), 0, 'TCP_NODELAY cleared';
    ok AnyEvent::Socket::tcp_congestion($fh, 'reno'), 'tcp_congestion reno';
    ok !AnyEvent::Socket::tcp_congestion($fh, 'no-such-algorithm'), 'unknown algorithm fails';
    require Fcntl;
    ok fcntl($fh, Fcntl::F_GETFL(), 0) & Fcntl::O_NONBLOCK(), 'connected handle is non-blocking';
    ok fcntl($fh, Fcntl::F_GETFD(), 0) & Fcntl::FD_CLOEXEC(), 'and close-on-exec';
    ok !eval { tcp_server '127.0.0.1', $port, sub { }; 1 }, 'a port in use croaks';
    # 7.17 names tcp_bind in every bind failure, tcp_server's too (Twiggy shows this text).
    like $@, qr/^tcp_bind: Address already in use at \Q$0\E line/, '... as tcp_bind: at the caller\'s line';
    ok !eval { AnyEvent::Socket::tcp_bind('127.0.0.1', $port, sub { }); 1 }, 'tcp_bind on a port in use croaks';
    like $@, qr/^tcp_bind: Address already in use at \Q$0\E line/, '... with the same message';
    ok !eval { tcp_server 'unix/', '/nonexistent-dir/sock', sub { }; 1 }, 'unix/ in a missing directory croaks';
    like $@, qr/^tcp_bind: No such file or directory at \Q$0\E line/, '... tcp_bind: ENOENT (as Twiggy reports it)';
    ok !eval { tcp_server 'not-an-address', 0, sub { }; 1 }, 'tcp_server croaks for a host name';
    like $@, qr/^tcp_bind: cannot parse 'not-an-address' as host address/, '... saying so';
    ok !eval { tcp_server '127.0.0.1', 'no-such-service', sub { }; 1 }, 'an unknown service croaks';
    like $@, qr/^tcp_bind: unknown service 'no-such-service' at /, '... with the tcp_bind: prefix';
};

subtest 'socket option constants' => sub {
    my ($server, $port) = echo_server('127.0.0.1', 0);
    my $cv = AE::cv;
    tcp_connect '127.0.0.1', $port, sub { $cv->send($_[0]) };
    my $fh = $cv->recv;
    my $tcp = Socket::IPPROTO_TCP();
    for my $option ([TCP_KEEPIDLE => 77], [TCP_KEEPINTVL => 11], [TCP_KEEPCNT => 4], [TCP_CORK => 1]) {
        my ($name, $value) = @$option;
        my $number = AnyEvent::Socket->can($name)->();
        ok defined $number, "AnyEvent::Socket::$name is defined on Linux";
        ok setsockopt($fh, $tcp, $number, $value), "setsockopt $name";
        is unpack('i', getsockopt($fh, $tcp, $number)), $value, "$name reads back as $value";
    }
    ok defined AnyEvent::Socket::MSG_NOSIGNAL(), 'MSG_NOSIGNAL is defined';
    is send($fh, "ping\n", AnyEvent::Socket::MSG_NOSIGNAL() | AnyEvent::Socket::MSG_DONTWAIT()), 5,
        'send with MSG_NOSIGNAL | MSG_DONTWAIT works';
    ok defined AnyEvent::Socket::MSG_MORE(), 'MSG_MORE has its Linux value although Socket lacks it';
    ok !defined AnyEvent::Socket::TCP_NOPUSH(), 'a BSD-only option is undef here';
    ok !defined &main::TCP_KEEPIDLE, 'the constants are not exported';
};

done_testing;
