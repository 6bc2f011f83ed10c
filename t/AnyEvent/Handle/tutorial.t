# The second part of the AnyEvent tutorial ("Network programming and AnyEvent"), its programs
# as written there: HTTP and HTTPS GET against nginx, the SMTP multi-line reply with
# unshift_read, the NNTP article read, and the even-characters reader that edits rbuf.
# The tcp_connect versions need AnyEvent::Socket; the same HTTP code also runs on handles made
# from sockets this test connects itself.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use IO::Socket::INET;
use AETest qw(watchdog);
use AETest::TLS qw(make_pki);
use AETest::Nginx qw(start_nginx);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);

my $pki = make_pki();
my $page = "<html>tutorial page " . ("x" x 20000) . "</html>\n";
my $nginx = start_nginx(files => { "test" => $page }, cert => "$pki/server.pem", key => "$pki/server.key");

# The tutorial's http_get, with the connection made by $connect (tcp_connect, or a socket
# this test makes) and the service as a port number, since nginx listens on a high port.
sub http_get_with {
    my ($connect, $host, $service, $uri, $cb, @tls) = @_;

    $connect->($host, $service, sub {
        my ($fh) = @_
            or $cb->("HTTP/1.0 500 $!");

        # store results here
        my ($response, $header, $body);

        my $handle; $handle = new AnyEvent::Handle
            fh       => $fh,
            @tls,
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
    });
}

my $own_socket = sub {
    my ($host, $port, $cb) = @_;
    my $fh = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => "tcp");
    $cb->($fh ? $fh : ());
};

sub get {
    my ($connect, $port, $uri, @tls) = @_;
    my $cv = AE::cv;
    http_get_with($connect, "127.0.0.1", $port, $uri, sub { $cv->send(@_) }, @tls);
    $cv->recv;
}

subtest 'HTTP GET against nginx (sockets made by the test)' => sub {
    my ($response, $header, $body) = get($own_socket, $nginx->{http}, "/test");
    is $response, "HTTP/1.1 200 OK", 'status line';
    like $header, qr/^Content-Length: ${\ length $page}\015?$/mi, 'headers as one paragraph';
    is $body, $page, 'body';
    ($response) = get($own_socket, $nginx->{http}, "/missing");
    is $response, "HTTP/1.1 404 Not Found", 'a missing page';
};

subtest 'HTTPS GET against nginx (tls => "connect")' => sub {
    my ($response, $header, $body) = get($own_socket, $nginx->{https}, "/test", tls => "connect");
    is $response, "HTTP/1.1 200 OK", 'status line through TLS';
    is $body, $page, 'body through TLS';
};

{
    require AnyEvent::Socket;
    my $tcp_connect = \&AnyEvent::Socket::tcp_connect;
    subtest 'HTTP GET with tcp_connect' => sub {
        my ($response, $header, $body) = get($tcp_connect, $nginx->{http}, "/test");
        is $response, "HTTP/1.1 200 OK", 'status line';
        is $body, $page, 'body';
    };
    subtest 'HTTPS GET with tcp_connect' => sub {
        my ($response, $header, $body) = get($tcp_connect, $nginx->{https}, "/test", tls => "connect");
        is $response, "HTTP/1.1 200 OK", 'status line';
        is $body, $page, 'body';
    };
}

# A peer for the protocol examples: the test plays the server on the other end of a socket pair.
sub peer {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $server = AnyEvent::Handle->new(fh => $x, on_error => sub {});
    my $handle = AnyEvent::Handle->new(fh => $y, on_error => sub { fail "client error: $_[2]" });
    ($handle, $server);
}

subtest 'SMTP multi-line response with unshift_read' => sub {
    my ($handle, $server) = peer();
    $server->push_write("220-mail.example.invalid Neverusesendmail 8.8.8\015\012220-hey guys\015\012220 my response is longer than yours\015\012");
    my $cv = AE::cv;

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
            $cv->send ("we are don reading: $response\n");
        }
    };

    $handle->push_read (line => $read_response);

    is $cv->recv, "we are don reading: 220-mail.example.invalid Neverusesendmail 8.8.8\n220-hey guys\n220 my response is longer than yours\n\n",
        'all three lines, read one by one';
};

subtest 'NNTP article read' => sub {
    my ($handle, $server) = peer();
    my $cv = AE::cv;
    my $finish = sub { $cv->send(@_) };
    $server->push_read(line => sub {
        $_[0]->push_write("220 42 <x\@y> article\015\012Subject: hi\015\012\015\012body line\015\012.\015\012") if $_[1] eq "article 42";
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

    my ($status, $body) = $cv->recv;
    is $status, "220 42 <x\@y> article", 'status line';
    is $body, "Subject: hi\015\012\015\012body line\015", 'article up to the terminating dot line';
};

subtest 'custom reader: an even number of characters followed by a colon' => sub {
    my ($handle, $server) = peer();
    my $cv = AE::cv;

    $handle->push_read (sub {
        my ($handle) = @_;

        # check for even number of characters + ":"
        # and remove the data if a match is found.
        # if not, return false (actually nothing)

        $handle->{rbuf} =~ s/^( (?:..)* ) ://x
            or return;

        # we got some data in $1, pass it to whoever wants it
        $cv->send ($1);

        # and return true to indicate we are done
        1
    });

    $server->push_write("ab");
    my $t = AE::timer(0.05, 0, sub { $server->push_write("cd:rest") });
    is $cv->recv, "abcd", 'data up to the colon after an even count';
    is $handle->{rbuf}, "rest", 'the rest stays in rbuf';
};

done_testing;
