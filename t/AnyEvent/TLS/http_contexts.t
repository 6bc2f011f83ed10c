# What AnyEvent::HTTP does with TLS, reproduced with our modules against real peers: its two
# built-in tls_ctx hashes ({cache => 1, sslv2 => 1} and {cache => 1, verify => 1,
# verify_peername => "https"}) fetch https pages from nginx; unknown keys are ignored (one info
# line); `cache` shares one context, whose client sessions are resumed; client session tickets
# are off unless asked for (AnyEvent 7.17's default); sequential requests on new connections do
# not stall on delayed ACKs.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes ();
use AETest qw(watchdog);
use AETest::TLS qw(make_pki start_s_server);
use AETest::Nginx qw(start_nginx);
use AnyEvent;
use AnyEvent::Handle;
use AnyEvent::TLS;

watchdog(60);

my $pki = make_pki();
my $page = "https page " . ("y" x 3000) . "\n";
my $nginx = start_nginx(files => { "index.html" => $page }, cert => "$pki/server.pem", key => "$pki/server.key");

# AnyEvent::HTTP 2.25's contexts, as it defines them (package variables, reused per request).
our $TLS_CTX_LOW  = { cache => 1, sslv2 => 1 };
our $TLS_CTX_HIGH = { cache => 1, verify => 1, verify_peername => "https" };

# One GET on a new connection, the way AnyEvent::HTTP makes its handles; returns (status, body).
sub https_get {
    my ($port, $ctx, $path) = @_;
    my $cv = AE::cv;
    my ($status, $body) = ("", "");
    my $h; $h = AnyEvent::Handle->new(
        connect  => ["localhost", $port],
        tls      => "connect",
        tls_ctx  => $ctx,
        peername => "localhost",
        on_error => sub { $cv->send("error: $_[2]", ""); undef $h },
        on_eof   => sub { $cv->send($status, $body); undef $h },
    );
    $h->push_write("GET $path HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    $h->push_read(line => qr{\r?\n\r?\n}, sub {
        ($status) = $_[1] =~ m{^HTTP/1\.\d (\d+)};
        $_[0]->on_read(sub { $body .= delete $_[0]{rbuf} });
    });
    $cv->recv;
}

subtest "AnyEvent::HTTP's default context (cache, sslv2)" => sub {
    my ($status, $body) = https_get($nginx->{https}, $TLS_CTX_LOW, "/index.html");
    is $status, 200, 'https GET answered 200';
    is $body, $page, 'the whole page arrived';
};

subtest "AnyEvent::HTTP's verifying context (cache, verify, verify_peername https)" => sub {
    local $ENV{PERL_ANYEVENT_CA_FILE} = "$pki/ca.pem";
    my ($status, $body) = https_get($nginx->{https}, $TLS_CTX_HIGH, "/index.html");
    is $status, 200, 'verified https GET answered 200';
    is $body, $page, 'the whole page arrived';
};

subtest 'cache => 1 shares one context per hash' => sub {
    my $ctx = { cache => 1 };
    my (@seen, @handles);
    for (1 .. 2) {
        my $cv = AE::cv;
        my $h = AnyEvent::Handle->new(connect => ["127.0.0.1", $nginx->{https}], tls => "connect", tls_ctx => $ctx,
            on_starttls => sub { $cv->send($_[1]) }, on_error => sub { $cv->send(0) });
        ok $cv->recv, "connection $_ is up";
        push @seen, $h->{tls_ctx};
        push @handles, $h;
    }
    isa_ok $seen[0], 'AnyEvent::TLS';
    is $seen[0], $seen[1], 'both handles use the same AnyEvent::TLS object';
    my $other = AnyEvent::Handle->new(connect => ["127.0.0.1", $nginx->{https}], tls => "connect", tls_ctx => { cache => 1 },
        on_error => sub { });
    my $cv = AE::cv;
    $other->on_starttls(sub { $cv->send });
    $cv->recv;
    isnt $other->{tls_ctx}, $seen[0], 'another hash gets its own context';
    my $plain = AnyEvent::Handle->new(connect => ["127.0.0.1", $nginx->{https}], tls => "connect", tls_ctx => { },
        on_error => sub { });
    $cv = AE::cv;
    $plain->on_starttls(sub { $cv->send });
    $cv->recv;
    is scalar(grep $_ == $plain->{tls_ctx}, values %AnyEvent::Handle::TLS_CACHE), 0, 'without cache nothing is kept';
};

subtest 'unknown keys are ignored, with one info line at verbose 7' => sub {
    my @said;
    local $SIG{__WARN__} = sub { push @said, @_ };
    my $tls = eval { AnyEvent::TLS->new(no_such_option => 1, cache => 1, sslv3 => 1, tlsv1 => 1, tlsv1_1 => 1) };
    ok $tls, 'no croak' or diag $@;
    is_deeply \@said, [], 'silent at the default verbosity';
    local $AnyEvent::VERBOSE = 7;
    AnyEvent::TLS->new(no_such_option => 1);
    is scalar(@said), 1, 'one line at verbose 7';
    like $said[0] // "", qr/ignoring unknown option 'no_such_option'/, 'naming the option';
};

# s_server -www answers with a page describing the session: "New, ..." or "Reused, ...".
sub www_session {
    my ($port, $ctx) = @_;
    my $cv = AE::cv;
    my $page = "";
    my $h; $h = AnyEvent::Handle->new(connect => ["127.0.0.1", $port], tls => "connect", tls_ctx => $ctx,
        on_error => sub { $cv->send($page); undef $h }, on_eof => sub { $cv->send($page); undef $h });
    $h->push_write("GET / HTTP/1.0\r\n\r\n");
    $h->on_read(sub { $page .= delete $_[0]{rbuf} });
    my $text = $cv->recv;
    $text =~ /^(New|Reused), (TLSv[\d.]+)/m ? "$1 $2" : "no session line in: " . substr($text, 0, 200);
}

for my $version (qw(1_2 1_3)) {
    subtest "a cached context resumes its sessions (TLS $version)" => sub {
        my ($port) = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-tls$version", "-www");
        my $ctx = { cache => 1 };
        (my $v = $version) =~ tr/_/./;
        is www_session($port, $ctx), "New TLSv$v", 'first connection: a new session';
        is www_session($port, $ctx), "Reused TLSv$v", 'second connection with the same context: resumed';
    };
}

subtest 'client session tickets are off unless session_ticket => 1' => sub {
    # -tlsextdebug makes s_server print every extension of the ClientHello.
    for my $case ([{}, 0], [{ session_ticket => 1 }, 1]) {
        my ($ctx, $want) = @$case;
        my ($port, $out, $pid) = start_s_server(-cert => "$pki/server.pem", -key => "$pki/server.key", "-tls1_2", "-www", "-tlsextdebug");
        like www_session($port, $ctx), qr/^New/, 'served';
        kill 'TERM', $pid;    # its output ends: read all of it
        my $seen = do { local $/; <$out> } // "";
        my $has = $seen =~ /TLS client extension "session ticket"/ ? 1 : 0;
        is $has, $want, "session_ticket " . ($ctx->{session_ticket} // "unset") . ": ticket extension " . ($want ? "sent" : "not sent");
    }
};

subtest 'sequential HTTPS requests on new connections do not wait for delayed ACKs' => sub {
    # Each TLS flight is one write: a handshake step sent in several small writes makes the
    # second wait for the peer's delayed ACK (40 ms with Nagle), 0.8 s for these 20 requests.
    # The best of up to three rounds counts: a stall happens in every round, a busy machine's
    # scheduling delays do not.
    my ($ok, $best, $rounds) = (0, 9e9, 0);
    while ($rounds < 3) {
        $rounds++;
        my $t0 = Time::HiRes::time();
        for (1 .. 20) {
            my ($status) = https_get($nginx->{https}, $TLS_CTX_LOW, "/index.html");
            $ok++ if $status eq "200";
        }
        my $took = Time::HiRes::time() - $t0;
        $best = $took if $took < $best;
        last if $best < 0.4;
    }
    is $ok, 20 * $rounds, '20 requests answered in each round';
    cmp_ok $best, '<', 0.4, sprintf('in %.3f s (a delayed-ACK stall per connection would take 0.8 s)', $best);
};

done_testing;
