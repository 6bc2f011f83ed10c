# The XS fast paths of push_read/unshift_read (line, line with a marker, chunk) and push_write
# (plain bytes): ordering, requests pushed from inside callbacks, synchronous service when rbuf
# already holds a match, writes while the socket is full or the handle corked, overrides.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use AETest qw(watchdog);
use AnyEvent;
use AnyEvent::Handle;
watchdog(30);

sub pair {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { die "handle error: $_[2]\n" }, @_);
    return ($h, $y);
}

subtest 'requests pushed from a callback while rbuf holds several lines' => sub {
    my ($h, $peer) = pair();
    my $cv = AE::cv;
    my @got;
    syswrite $peer, "a\nb\nc\nd\n";
    $h->push_read(line => sub {
        push @got, "first:$_[1]";
        $_[0]->push_read(line => sub { push @got, "pushed:$_[1]" });
        $_[0]->unshift_read(line => sub { push @got, "unshifted:$_[1]" });
        $_[0]->push_read(line => sub { push @got, "last:$_[1]"; $cv->send });
    });
    $cv->recv;
    is_deeply \@got, ["first:a", "unshifted:b", "pushed:c", "last:d"], 'unshift_read goes first, push_read in order';
    is $h->{rbuf}, "", 'every line consumed';
};

subtest 'push_read is served at once when rbuf already holds a match' => sub {
    my ($h) = pair();
    $h->{rbuf} = "one\r\ntwo|three12345";
    my @got;
    $h->push_read(line => sub { push @got, [@_[1, 2]] });
    is_deeply \@got, [["one", "\r\n"]], 'line served before push_read returns, eol passed';
    $h->push_read(line => "|", sub { push @got, [@_[1, 2]] });
    is_deeply $got[1], ["two", "|"], 'line with an explicit marker';
    $h->push_read(chunk => "5", sub { push @got, $_[1] });
    is $got[2], "three", 'chunk';
    $h->push_read(line => undef, sub { push @got, $_[1] });
    is scalar @got, 3, 'line with an undef marker waits for a line end';
    is $h->{rbuf}, "12345", 'the rest stays in rbuf';
    $h->unshift_read(chunk => 2, sub { push @got, "chunk:$_[1]" });
    is $got[3], "chunk:12", 'unshift_read goes before the waiting line request';
    $h->{rbuf} .= "\n";
    $h->push_read(chunk => 0, sub { push @got, "empty:$_[1]" });
    is_deeply [@got[4 .. 6]], ["345", "empty:", undef], 'queue served in order once a line end arrives';
};

subtest 'line with a regex end-of-line (AnyEvent::HTTP reads its headers so)' => sub {
    my ($h, $peer) = pair();
    my $qr_nlnl = qr{(?<![^\012])\015?\012};    # AnyEvent::HTTP 2.25's header block end
    my @got;
    $h->{rbuf} = "HTTP/1.1 200 OK\015\012A: b\015\012\015\012body";
    $h->push_read(line => $qr_nlnl, sub { push @got, [@_[1, 2]] });
    is_deeply \@got, [["HTTP/1.1 200 OK\015\012A: b\015\012", "\015\012"]], 'the header block up to the empty line';
    is $h->{rbuf}, "body", 'the body stays';
    my $cv = AE::cv;
    $h->push_read(line => qr/;+/, sub { push @got, [@_[1, 2]]; $cv->send });
    syswrite $peer, "x;;y";
    $cv->recv;
    is_deeply $got[1], ["bodyx", ";;"], 'a regex end-of-line waits for data and takes the whole match';
    $h->unshift_read(line => qr/\d/, sub { push @got, [@_[1, 2]] });
    syswrite $peer, "z7";
    $cv = AE::cv;
    $h->push_read(chunk => 0, sub { $cv->send });
    $cv->recv;
    is_deeply $got[2], ["yz", "7"], 'unshift_read with a regex';
};

subtest 'bad requests still croak through the Perl path' => sub {
    my ($h) = pair();
    ok !eval { $h->push_read("x"); 1 }, 'no callback';
    like $@, qr/callback/, 'message names the callback';
    ok !eval { $h->push_read(nosuchtype => sub {}); 1 }, 'unknown type';
    like $@, qr/unknown read type 'nosuchtype'/, 'message names the type';
    ok !eval { $h->push_write(undef); 1 }, 'undef data';
    like $@, qr/data must be defined/, 'message says so';
};

subtest 'push_write while the socket is full keeps the order' => sub {
    my ($h, $peer) = pair();
    my $big = "x" x (1 << 20);
    $h->push_write($big);
    ok length $h->{wbuf}, 'the socket is full, data waits in wbuf';
    $h->push_write("piece $_\n") for 1 .. 100;
    my $want = $big . join "", map "piece $_\n", 1 .. 100;
    my $got = "";
    my $cv = AE::cv;
    my $w = AE::io $peer, 0, sub {
        sysread $peer, $got, 65536, length $got or die "eof";
        $cv->send if length $got >= length $want;
    };
    $cv->recv;
    ok $got eq $want, 'every byte arrived in order';
};

subtest 'corked handle writes on the next loop iteration' => sub {
    my ($h, $peer) = pair(autocork => 1);
    $h->push_write("corked\n");
    is $h->{wbuf}, "corked\n", 'nothing written yet';
    my $cv = AE::cv;
    my $w = AE::io $peer, 0, sub { sysread $peer, my $buf, 100; $cv->send($buf) };
    is $cv->recv, "corked\n", 'written by the write watcher';
};

subtest 'on_drain is called after a write that empties wbuf' => sub {
    my ($h, $peer) = pair();
    my $drained = 0;
    $h->on_drain(sub { $drained++ });
    is $drained, 1, 'called at once for an empty wbuf';
    $h->push_write("x");
    my $cv = AE::cv;
    my $t = AE::timer 0, 0, sub { $cv->send };
    $cv->recv;
    is $drained, 2, 'called again after the write';
};

subtest 'subclass overrides and replaced types' => sub {
    package My::Handle { our @ISA = 'AnyEvent::Handle'; sub push_write { my $s = shift; $s->SUPER::push_write(uc $_[0]) } }
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die;
    my $h = My::Handle->new(fh => $x, on_error => sub { die $_[2] });
    $h->push_write("shout\n");
    sysread $y, my $buf, 100;
    is $buf, "SHOUT\n", 'the subclass method runs and reaches the base one';

    AnyEvent::Handle::register_read_type(line => sub { my ($self, $cb) = @_; sub { $cb->($_[0], "custom"); 1 } });
    my ($h2) = pair();
    my $got;
    $h2->push_read(line => sub { $got = $_[1] });
    is $got, "custom", 'a replaced line type is used instead of the fast path';
};

done_testing;
