# Every read type and write type over a real socket pair, queues with unshift_read, on_read
# mixed with push_read, custom types.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Socket;
use Errno qw(EBADMSG);
use AETest qw(watchdog);
use AnyEvent;
use AnyEvent::Handle;

watchdog(20);

sub pair {
    my (%opt) = @_;
    socketpair my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    my @errors;
    my $reader = AnyEvent::Handle->new(fh => $x, on_error => sub { push @errors, [$_[1], $_[2], $! + 0] }, %opt);
    my $writer = AnyEvent::Handle->new(fh => $y, on_error => sub { die "writer error: $_[2]" });
    ($reader, $writer, \@errors);
}

# Runs the loop until $n results were collected.
sub collect {
    my ($n, $setup) = @_;
    my @got;
    my $cv = AE::cv;
    $setup->(sub { push @got, [@_]; $cv->send if @got == $n });
    $cv->recv;
    @got;
}

subtest 'line: default, string and regex end-of-line markers' => sub {
    my ($r, $w) = pair();
    my @got = collect(5, sub {
        my $done = shift;
        $r->push_read(line => sub { $done->($_[1], $_[2]) });
        $r->push_read(line => sub { $done->($_[1], $_[2]) });
        $r->push_read(line => "\015\012\015\012", sub { $done->($_[1], $_[2]) });
        $r->push_read(line => qr/;+/, sub { $done->($_[1], $_[2]) });
        $r->push_read(line => sub { $done->($_[1], $_[2]) });
        $w->push_write("crlf\015\012lf\012head: 1\015\012x: 2\015\012\015\012a;;b\n");
        $w->push_write("\n");
    });
    is_deeply \@got, [["crlf", "\015\012"], ["lf", "\012"], ["head: 1\015\012x: 2", "\015\012\015\012"],
        ["a", ";;"], ["b", "\n"]], 'lines and markers split as asked';
    is $r->{rbuf}, "\n", 'the rest stays in rbuf';
};

subtest 'line split across reads' => sub {
    my ($r, $w) = pair();
    my $cv = AE::cv;
    $r->push_read(line => sub { $cv->send($_[1]) });
    $w->push_write("par");
    my $t = AE::timer(0.05, 0, sub { $w->push_write("tial\r\n") });
    is $cv->recv, "partial", 'a line arriving in two pieces is delivered whole';
};

subtest 'chunk' => sub {
    my ($r, $w) = pair();
    my @got = collect(3, sub {
        my $done = shift;
        $r->push_read(chunk => $_, sub { $done->($_[1]) }) for 2, 0, 5;
        $w->push_write("abcdefgh");
    });
    is_deeply \@got, [["ab"], [""], ["cdefg"]], 'chunks of the asked sizes';
    is $r->{rbuf}, "h", 'remainder kept';
};

subtest 'regex: accept, reject, skip' => sub {
    my ($r, $w, $errors) = pair();
    my @got = collect(2, sub {
        my $done = shift;
        $r->push_read(regex => qr/(\d+)\n/, sub { $done->($_[1], $1) });
        $r->push_read(regex => qr/\r\n\r\n/, undef, qr/^.*[^\r\n]/s, sub { $done->($_[1]) });
        $w->push_write("12\nheader\r\nmore\r\n\r\nrest");
    });
    is_deeply \@got, [["12\n", 12], ["header\r\nmore\r\n\r\n"]], 'accepted text (with skipped prefix) and captures';

    my $cv = AE::cv;
    $r->on_error(sub { $cv->send([$_[1], $! + 0]) });
    $r->push_read(regex => qr/^\d+\s/, qr/[^\d]/, sub { fail 'rejected data must not be accepted' });
    my ($fatal, $errno) = @{ $cv->recv };
    is $errno, EBADMSG, 'reject regex raises EBADMSG';
    ok !$fatal, '... as a non-fatal error';
};

subtest 'netstring' => sub {
    my ($r, $w) = pair();
    my @got = collect(3, sub {
        my $done = shift;
        $r->push_read(netstring => sub { $done->($_[1]) }) for 1 .. 3;
        $w->push_write(netstring => "hello");
        $w->push_write(netstring => "");
        $w->push_write(netstring => "with,comma:colon");
    });
    is_deeply \@got, [["hello"], [""], ["with,comma:colon"]], 'netstrings round-trip';

    my $cv = AE::cv;
    $r->on_error(sub { $cv->send($! + 0) });
    $r->push_read(netstring => sub { fail 'a malformed netstring must not be delivered' });
    $w->push_write("5:hello;");
    is $cv->recv, EBADMSG, 'malformed netstring raises EBADMSG';
};

subtest 'packstring' => sub {
    my ($r, $w) = pair();
    my $big = "x" x 70000;
    my @got = collect(4, sub {
        my $done = shift;
        for my $format (qw(N n w C)) {
            $r->push_read(packstring => $format, sub { $done->($format, length $_[1], substr $_[1], 0, 3) });
        }
        $w->push_write(packstring => "N", "abc");
        $w->push_write(packstring => "n", "defg");
        $w->push_write(packstring => "w", $big);
        $w->push_write(packstring => "C", "");
    });
    is_deeply \@got, [["N", 3, "abc"], ["n", 4, "def"], ["w", 70000, "xxx"], ["C", 0, ""]], 'length-prefixed strings';
    eval { $r->push_read(packstring => "a*", sub {}) };
    like $@, qr/single-integer pack format/, 'a non-integer format croaks';
};

subtest 'json' => sub {
    my ($r, $w) = pair();
    my @got = collect(2, sub {
        my $done = shift;
        $r->push_read(json => sub { $done->($_[1]) }) for 1, 2;
        $w->push_write(json => { a => [1, 2] });
        $w->push_write(json => ["\x{263a}"]);
    });
    is_deeply \@got, [[{ a => [1, 2] }], [["\x{263a}"]]], 'JSON texts, UTF-8 on the wire';

    my $cv = AE::cv;
    $r->on_error(sub { $cv->send($! + 0) });
    $r->push_read(json => sub { fail 'bad JSON must not be delivered' });
    $w->push_write("{nope}");
    is $cv->recv, EBADMSG, 'bad JSON raises EBADMSG';
};

subtest 'storable' => sub {
    my ($r, $w) = pair();
    my @got = collect(1, sub {
        my $done = shift;
        $r->push_read(storable => sub { $done->($_[1]) });
        $w->push_write(storable => { list => [1 .. 3], nested => { x => "y" } });
    });
    is_deeply $got[0][0], { list => [1 .. 3], nested => { x => "y" } }, 'frozen structure thawed';
};

subtest 'cbor' => sub {
    plan skip_all => 'CBOR::XS not installed' unless eval { require CBOR::XS; 1 };
    my ($r, $w) = pair();
    my @got = collect(2, sub {
        my $done = shift;
        $r->push_read(cbor => sub { $done->($_[1]) }) for 1, 2;
        $w->push_write(cbor => [1, "two"]);
        $w->push_write(cbor => { k => 3 });
    });
    is_deeply \@got, [[[1, "two"]], [{ k => 3 }]], 'CBOR values round-trip';

    my $cv = AE::cv;
    $r->on_error(sub { $cv->send($! + 0) });
    $r->push_read(cbor => sub { fail 'bad CBOR must not be delivered' });
    $w->push_write("\xff\xff\xff");
    is $cv->recv, EBADMSG, 'bad CBOR raises EBADMSG';
};

subtest 'tls_detect' => sub {
    my ($r, $w) = pair();
    my @got = collect(1, sub {
        my $done = shift;
        $r->push_read(tls_detect => sub { $done->(@_[1 .. $#_]) });
        $w->push_write("\x16\x03\x01\x00\x05hello");
    });
    is_deeply $got[0], [1, 3, 1], 'a TLS record header is detected with its version';
    is length $r->{rbuf}, 10, 'tls_detect consumes nothing';

    my ($r2, $w2) = pair();
    @got = collect(1, sub {
        my $done = shift;
        $r2->push_read(tls_detect => sub { $done->(@_[1 .. $#_]) });
        $w2->push_write("GET / HTTP/1.0\r\n");
    });
    is_deeply $got[0], [0], 'plain text is not TLS';
};

subtest 'unshift_read runs before queued reads' => sub {
    my ($r, $w) = pair();
    my @got = collect(4, sub {
        my $done = shift;
        $r->push_read(line => sub {
            $done->("first", $_[1]);
            $_[0]->unshift_read(line => sub { $done->("unshifted", $_[1]) });
            $_[0]->unshift_read(chunk => 1, sub { $done->("unshifted-first", $_[1]) });
        });
        $r->push_read(line => sub { $done->("second", $_[1]) });
        $w->push_write("a\nbc\nd\n");
    });
    is_deeply \@got, [["first", "a"], ["unshifted-first", "b"], ["unshifted", "c"], ["second", "d"]], 'queue order';
};

subtest 'coderef readers and on_read mixed with push_read' => sub {
    my ($r, $w) = pair();
    my @got;
    my $cv = AE::cv;
    $r->push_read(sub {
        # the tutorial's reader: an even number of characters followed by a colon
        $_[0]{rbuf} =~ s/^( (?:..)* ) ://x or return;
        push @got, ["even", $1];
        1;
    });
    $r->on_read(sub {
        my $h = shift;
        if ($h->{rbuf} =~ s/^cmd=line\n//) {
            $h->push_read(line => sub { push @got, ["pushed", $_[1]] });
        } else {
            push @got, ["on_read", $h->rbuf];
            $h->rbuf = "";
            $cv->send;
        }
    });
    $w->push_write("abcd:cmd=line\nvalue\ntail");
    $cv->recv;
    is_deeply \@got, [["even", "abcd"], ["pushed", "value"], ["on_read", "tail"]], 'queue first, then on_read, which can push reads';
};

subtest 'stop_read and start_read' => sub {
    my ($r, $w) = pair();
    my @got;
    $r->on_read(sub { push @got, $_[0]{rbuf}; $_[0]{rbuf} = "" });
    $r->stop_read;
    $w->push_write("held");
    my $cv = AE::cv;
    my $t = AE::timer(0.1, 0, sub { $cv->send });
    $cv->recv;
    is_deeply \@got, [], 'nothing read while stopped';
    $cv = AE::cv;
    $r->on_read(sub { push @got, $_[0]{rbuf}; $_[0]{rbuf} = ""; $cv->send });
    $r->start_read;
    $cv->recv;
    is_deeply \@got, ["held"], 'data arrives after start_read';
};

{
    package My::Upper;
    sub anyevent_read_type {
        my ($handle, $cb, $len) = @_;
        sub { return 0 if length $_[0]{rbuf} < $len; $cb->($_[0], uc substr $_[0]{rbuf}, 0, $len, ""); 1 };
    }
    sub anyevent_write_type { my ($handle, $sep, @parts) = @_; join $sep, @parts }
}

subtest 'custom types: register_* and Package::anyevent_*_type' => sub {
    AnyEvent::Handle::register_read_type(two => sub { my ($h, $cb) = @_; $AnyEvent::Handle::RH{chunk}->($h, $cb, 2) });
    AnyEvent::Handle::register_write_type(bracket => sub { "[$_[1]]" });
    my ($r, $w) = pair();
    my @got = collect(2, sub {
        my $done = shift;
        $r->push_read(two => sub { $done->($_[1]) });
        $r->push_read('My::Upper' => 5, sub { $done->($_[1]) });
        $w->push_write(bracket => "x");
        $w->push_write('My::Upper' => "-", "a", "b", "c");
    });
    is_deeply \@got, [["[x"], ["]A-B-"]], 'registered and package types';
    eval { $r->push_read('No::Such::Type' => sub {}) };
    like $@, qr/unknown read type 'No::Such::Type'/, 'an unknown type croaks';
};

subtest 'push_read line from inside a read callback, several lines already buffered' => sub {
    my ($r, $w) = pair();
    my @order;
    my @got = collect(3, sub {
        my $done = shift;
        $r->push_read(line => sub {
            push @order, "first:$_[1]";
            $_[0]->push_read(line => sub { push @order, "second:$_[1]"; $done->($_[1]) });
            $_[0]->unshift_read(line => sub { push @order, "unshifted:$_[1]"; $done->($_[1]) });
            $done->($_[1]);
        });
        $w->push_write("a\nb\nc\n");    # arrive together: all three are in rbuf at once
    });
    is_deeply \@order, ["first:a", "unshifted:b", "second:c"], 'served in queue order by the running drain';
    is $r->{rbuf}, "", 'nothing left behind';
};

subtest 'a registered "line" type replaces the built-in one' => sub {
    my ($r, $w) = pair();
    # (last subtest: the replacement stays for the rest of this file)
    AnyEvent::Handle::register_read_type(line => sub {
        my ($h, $cb) = @_;
        sub { $_[0]{rbuf} =~ s/^(.*?);// or return 0; $cb->($_[0], "custom:$1"); 1 };
    });
    my @got = collect(1, sub {
        my $done = shift;
        $r->push_read(line => sub { $done->($_[1]) });
        $w->push_write("x;y\n");
    });
    is_deeply \@got, [["custom:x"]], 'push_read(line => ...) used the registered reader';
};

done_testing;
