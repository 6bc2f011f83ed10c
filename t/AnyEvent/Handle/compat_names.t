# Names of AnyEvent::Handle 7.17 that programs use besides the documented methods:
# MAX_READ_SIZE (the default max_read_size), json_coder and cbor_coder (the default coders,
# replaceable), and the documented resettls (drop TLS without a close_notify).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use AETest qw(watchdog recv_within);
use AETest::TLS qw(make_pki);
use AnyEvent;
use AnyEvent::Handle;

watchdog(60);

sub pair {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my @h = map { AnyEvent::Handle->new(fh => $_, on_error => sub { diag "error: $_[2]" }) } $x, $y;
    return @h;
}

is(AnyEvent::Handle::MAX_READ_SIZE(), 131072, 'MAX_READ_SIZE');
{
    my ($x) = pair();
    is($x->{max_read_size}, AnyEvent::Handle::MAX_READ_SIZE(), '... the default max_read_size');
}

is(prototype('AnyEvent::Handle::json_coder'), '', 'json_coder()');
is(prototype('AnyEvent::Handle::cbor_coder'), '', 'cbor_coder()');
my $coder = AnyEvent::Handle::json_coder();
ok($coder->can('encode') && $coder->can('incr_parse'), 'json_coder returns a JSON coder');
is($coder->encode(["\x{e9}"]), "[\"\xc3\xa9\"]", '... producing UTF-8');

{
    no warnings 'redefine';
    my $default = \&AnyEvent::Handle::json_coder;
    local *AnyEvent::Handle::json_coder = sub () { $default->()->canonical(1) };
    my ($x, $y) = pair();
    $x->push_write(json => { b => 1, a => 2, c => 3 });
    $x->push_write("\n");
    my $cv = AE::cv;
    $y->push_read(line => sub { $cv->send($_[1]) });
    is(recv_within($cv, 10, 'json line'), '{"a":2,"b":1,"c":3}', 'a replaced json_coder is used for the json write type');
    $cv = AE::cv;
    $y->push_read(json => sub { $cv->send($_[1]) });
    $x->push_write(json => [1, "two"]);
    is_deeply(recv_within($cv, 10, 'json read'), [1, "two"], '... and read type');
}

SKIP: {
    skip 'CBOR::XS is not installed', 3 unless eval { require CBOR::XS; 1 };
    isa_ok(AnyEvent::Handle::cbor_coder(), 'CBOR::XS', 'cbor_coder');
    my $used = 0;
    no warnings 'redefine';
    my $default = \&AnyEvent::Handle::cbor_coder;
    local *AnyEvent::Handle::cbor_coder = sub () { $used++; $default->() };
    my ($x, $y) = pair();
    my $cv = AE::cv;
    $y->push_read(cbor => sub { $cv->send($_[1]) });
    $x->push_write(cbor => { k => [1, 2] });
    is_deeply(recv_within($cv, 10, 'cbor'), { k => [1, 2] }, 'cbor write and read types');
    is($used, 2, '... with coders from a replaced cbor_coder (one per handle)');
}

# resettls: both ends drop TLS after the handshake, and talk in plaintext
{
    my $pki = make_pki();
    socketpair my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die $!;
    my $up = AE::cv;
    $up->begin for 1 .. 2;
    my $server = AnyEvent::Handle->new(fh => $a, tls => 'accept',
        tls_ctx => { cert_file => "$pki/server.pem", key_file => "$pki/server.key" },
        on_starttls => sub { $up->end }, on_error => sub { diag "server: $_[2]" });
    my $client = AnyEvent::Handle->new(fh => $b, tls => 'connect', peername => 'localhost',
        on_starttls => sub { $up->end }, on_error => sub { diag "client: $_[2]" });
    recv_within($up, 20, 'handshakes');
    ok($client->{tls} && $server->{tls}, 'TLS is up on both ends');
    $client->resettls;
    $server->resettls;
    ok(!$client->{tls} && !$server->{tls}, 'resettls drops it');
    is($client->tls_version, undef, '... tls_version is undef');
    my $cv = AE::cv;
    $server->push_read(line => sub { $cv->send($_[1]) });
    $client->push_write("in the clear\n");
    is(recv_within($cv, 10, 'plaintext'), 'in the clear', 'plaintext flows afterwards');
}

done_testing;
