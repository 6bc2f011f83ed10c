# The Handle engine (xs/handle.c) against models and across its entry points: lines (line end,
# fixed marker, regex) and chunks served from rbuf by typed requests (push_read) and by the
# read types' closures (a type registered under another name) agree with a Perl model on random
# buffers; push_write takes octets only and croaks at the call; a handle whose last reference
# goes away inside one of its callbacks is released once the engine is done with it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use Scalar::Util qw(weaken);
use AETest qw(watchdog recv_within);
use AnyEvent;
use AnyEvent::Handle;
watchdog(60);

sub pair {
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    my $h = AnyEvent::Handle->new(fh => $x, on_error => sub { die "handle error: $_[2]\n" }, @_);
    return ($h, $y);
}

# The same constructors under other names: push_read makes no typed request for these, so the
# closures serve them.
AnyEvent::Handle::register_read_type(line_closure  => $AnyEvent::Handle::RH{line});
AnyEvent::Handle::register_read_type(chunk_closure => $AnyEvent::Handle::RH{chunk});

# Everything one kind of request takes from $buf, one request after the other, and the rest.
sub served {
    my ($type, $buf, @args) = @_;
    my ($h) = pair();
    $h->{rbuf} = $buf;
    my @got;
    my $reader;
    $reader = sub { push @got, [@_[1 .. $#_]]; $_[0]->push_read($type => @args, $reader) };
    $h->push_read($type => @args, $reader);    # served at once: rbuf holds the data
    my $rest = $h->{rbuf};
    $h->destroy;
    undef $reader;
    return [\@got, $rest];
}

sub line_model {
    my ($buf, $eol) = @_;
    my $re = !defined $eol ? qr/\015?\012/ : ref $eol ? $eol : qr/\Q$eol\E/;
    my @got;
    push @got, [$1, $2] while $buf =~ s/^(.*?)($re)//s;
    return [\@got, $buf];
}

sub chunk_model {
    my ($buf, $n) = @_;
    my @got;
    push @got, [substr $buf, 0, $n, ""] while $n <= length $buf;
    return [\@got, $buf];
}

my @regexes = (qr/;+/, qr/\015?\012\015?\012/, qr/(?<![^\012])\015?\012/, qr/\d/, qr/a|,/, qr/:(?=0)/);
my @alphabet = split //, "\015\012:,0a;1b";

my $seed = $ENV{AE_TEST_SEED} // int(rand 2**31);
srand $seed;
note "random buffers: AE_TEST_SEED=$seed";
my $mismatches = 0;
for my $case (1 .. 300) {
    my $buf = join "", map { $alphabet[rand @alphabet] } 1 .. int rand 60;
    $buf .= chr(int rand 256) x (rand() < 0.2);    # now and then a byte from the whole range
    my $marker = join "", map { $alphabet[rand @alphabet] } 0 .. int rand 3;
    my $re = $regexes[rand @regexes];
    my $n = 1 + int rand 8;    # (a chunk of 0 is served forever)
    my @checks = (
        ["line",             served(line => $buf),                    line_model($buf)],
        ["line undef",       served(line => $buf, undef),             line_model($buf)],
        ["line closure",     served(line_closure => $buf),            line_model($buf)],
        ["marker",           served(line => $buf, $marker),           line_model($buf, $marker)],
        ["marker closure",   served(line_closure => $buf, $marker),   line_model($buf, $marker)],
        ["regex",            served(line => $buf, $re),               line_model($buf, $re)],
        ["regex closure",    served(line_closure => $buf, $re),       line_model($buf, $re)],
        ["chunk",            served(chunk => $buf, $n),               chunk_model($buf, $n)],
        ["chunk closure",    served(chunk_closure => $buf, $n),       chunk_model($buf, $n)],
    );
    for (@checks) {
        my ($what, $got, $want) = @$_;
        next if Test::More::eq_array($got, $want);
        $mismatches++;
        is_deeply $got, $want, "$what on " . join("", map { sprintf "\\x%02x", ord } split //, $buf)
            . " (marker " . unpack("H*", $marker) . ", regex $re, chunk $n; AE_TEST_SEED=$seed)";
    }
}
is $mismatches, 0, "300 random buffers: typed requests, closures and the model agree (AE_TEST_SEED=$seed)";

subtest 'push_write takes octets: wide characters croak at the call, nothing is queued' => sub {
    my ($h, $peer) = pair();
    my $line = __LINE__ + 1;
    ok !eval { $h->push_write("smile \x{263a}\n"); 1 }, 'a wide character croaks';
    like $@, qr/wide character/, 'and says so';
    like $@, qr/ at \Q$0\E line $line\.$/, 'at the caller\'s line';
    is $h->{wbuf}, "", 'nothing was queued';
    my $latin1 = "caf\x{e9}\n";
    utf8::upgrade($latin1);
    $h->push_write($latin1);
    my $cv = AE::cv;
    my $w = AE::io $peer, 0, sub { sysread $peer, my $buf, 100; $cv->send($buf) };
    is recv_within($cv, 5, "the write"), "caf\xe9\n", 'characters up to 255 go out as single octets';
};

subtest 'typed requests take any callable callback, and extra arguments as 7.17 does' => sub {
    my ($h) = pair();
    $h->{rbuf} = "one\ntwo|three";
    my $cv = AE::cv;
    $h->push_read(line => $cv);    # a condvar is callable: $cv->($handle, $line, $eol) sends
    is_deeply [($cv->recv)[1, 2]], ["one", "\n"], 'a condvar as the callback';
    my @got;
    $h->push_read(line => "|", "ignored", sub { push @got, @_[1, 2] });
    is_deeply \@got, ["two", "|"], 'an argument after the marker is ignored';
};

subtest 'the last reference dropped inside a callback' => sub {
    for my $where (qw(on_read push_read on_drain)) {
        my ($h, $peer) = pair();
        my $alive = $h;
        weaken $alive;
        my $cv = AE::cv;
        if ($where eq "on_read") {
            $h->on_read(sub { $_[0]{rbuf} = ""; undef $h; $cv->send });
            syswrite $peer, "data\n";
        } elsif ($where eq "push_read") {
            $h->push_read(line => sub { undef $h; $cv->send });
            syswrite $peer, "a line\nand more\n";
        } else {
            $h->push_write("x" x (4 << 20));    # more than the socket takes: the write watcher runs
            my $r = AnyEvent::Handle->new(fh => $peer, on_error => sub {}, on_read => sub { $_[0]{rbuf} = "" });
            $h->on_drain(sub { undef $h; $cv->send });
            recv_within($cv, 10, "on_drain");
            undef $r;
        }
        recv_within($cv, 10, $where) unless $where eq "on_drain";
        ok !defined $alive, "$where: the handle is gone once its callback returned";
    }
};

done_testing;
