package AnyEvent::Handle;

# Buffered, queued, non-blocking stream I/O. The engine is C (xs/handle.c, its XSUBs in
# xs/handle.xsh): reading and writing the socket with the activity timestamps, the typed line and
# chunk requests and their extraction, the read queue drain, the write watcher and the TLS write
# loop; TLS records and netstrings are Rust. This file holds the rest: construction, errors,
# timeouts, the read and write types, the TLS state machine, teardown. The queues, callbacks and
# the read and write buffers ($self->{rbuf}, $self->{wbuf}) are plain Perl data, so user code
# and subclasses may look at and edit them.

use strict;
use warnings;
use Carp ();
use Scalar::Util ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR EPIPE ETIMEDOUT EBADMSG EPROTO EBADF);
use Socket ();
use AnyEvent ();

our $VERSION = '7.17';

# The default max_read_size (the name is AnyEvent 7.17's).
sub MAX_READ_SIZE() { 131072 }

my $HANDSHAKING = _TLS_HANDSHAKING;    # bits of AnyEvent::TLS::_Session::state (from rust/ffi/tls.rs)
my $WANTS_WRITE = _TLS_WANTS_WRITE;

our (%RH, %WH);         # read and write types: name => constructor

############################################################################ construction

sub new {
    my $class = shift;
    Carp::croak("AnyEvent::Handle->new: odd number of arguments (expected key => value pairs)") if @_ % 2;
    my $self = bless {@_}, $class;
    $self->{_queue} = [];
    $self->{rbuf}   = "" unless defined $self->{rbuf};
    $self->{wbuf}   = "" unless defined $self->{wbuf};

    if ($self->{fh}) {
        $self->_start;
        return unless $self->{fh};    # an error in _start destroyed us
    } elsif ($self->{connect}) {
        $self->_connect;
    } else {
        Carp::croak("AnyEvent::Handle->new: either fh or connect is required");
    }
    $self;
}

sub _connect {
    my ($self) = @_;
    my $target = $self->{connect};
    ref $target eq 'ARRAY' && @$target == 2
        or Carp::croak("AnyEvent::Handle->new: connect must be [\$host, \$service]");
    require AnyEvent::Socket;
    $self->{peername} = $target->[0] unless exists $self->{peername};
    $self->{_skip_drain_rbuf} = 1;    # queues fill up while connecting

    Scalar::Util::weaken(my $weak = $self);
    $self->{_connect} = AnyEvent::Socket::tcp_connect(
        $target->[0], $target->[1],
        sub {
            my ($fh, $host, $port, $retry) = @_;
            my $self = $weak or return;
            delete $self->{_connect};
            if ($fh) {
                $self->{fh} = $fh;
                delete $self->{_skip_drain_rbuf};
                $self->_start;
                $self->{on_connect}
                    and $self->{on_connect}($self, $host, $port, sub {
                        delete @$self{qw(fh _fd _rw _ww _tw _rtw _wtw _eof tls _tls)};
                        $self->{_skip_drain_rbuf} = 1;
                        &$retry;
                    });
            } else {
                if ($self->{on_connect_error}) {
                    $self->{on_connect_error}($self, "$!");
                    $self->destroy if $self;
                } else {
                    $self->_error($!, 1);
                }
            }
        },
        sub {
            my $self = $weak or return;
            local $self->{fh} = $_[0];
            $self->{on_prepare} ? $self->{on_prepare}->($self) : ();
        });
}

# Takes over the file handle: non-blocking mode, socket options, timers, TLS, first I/O.
sub _start {
    my ($self) = @_;
    my $fh = $self->{fh};
    defined(my $fd = fileno $fh) or Carp::croak("AnyEvent::Handle->new: fh is not an open file handle");
    $self->{_fd} = $fd;
    AnyEvent::fh_unblock($fh);

    $self->{_activity} = $self->{_ractivity} = $self->{_wactivity} = AE::now;
    $self->{read_size}      ||= 2048;
    $self->{max_read_size}  = $self->{read_size} if ($self->{max_read_size} || MAX_READ_SIZE) < $self->{read_size};
    $self->{max_read_size}  ||= MAX_READ_SIZE;
    $self->{low_water_mark} ||= 0;

    $self->timeout(delete $self->{timeout})   if $self->{timeout};
    $self->rtimeout(delete $self->{rtimeout}) if $self->{rtimeout};
    $self->wtimeout(delete $self->{wtimeout}) if $self->{wtimeout};
    $self->no_delay($self->{no_delay})   if exists $self->{no_delay} && $self->{no_delay};
    $self->keepalive($self->{keepalive}) if exists $self->{keepalive} && $self->{keepalive};
    $self->oobinline(exists $self->{oobinline} ? $self->{oobinline} : 1);

    # (data pushed while connecting is TLS plaintext: no cleartext prelude)
    $self->starttls(delete $self->{tls}, delete $self->{tls_ctx}, 1) if $self->{tls};
    return unless $self->{fh};

    $self->start_read if $self->{on_read} || @{ $self->{_queue} };
    $self->_drain_wbuf;
}

############################################################################ errors

sub _error {
    my ($self, $errno, $fatal, $message) = @_;
    $! = $errno;
    $message = "$!" unless defined $message && length $message;

    if ($self->{on_error}) {
        $self->{on_error}($self, $fatal, $message);
        $self->destroy if $fatal;
    } elsif ($self->{fh} || $self->{connect}) {
        $self->destroy;
        Carp::croak("AnyEvent::Handle uncaught error: $message");
    }
}

############################################################################ accessors

sub fh { $_[0]{fh} }

sub rbuf : lvalue { $_[0]{rbuf} }

for my $cb (qw(on_error on_eof on_timeout on_rtimeout on_wtimeout on_starttls on_stoptls)) {
    no strict 'refs';
    *$cb = sub { $_[0]{$cb} = $_[1] };
}

sub on_read {
    my ($self, $cb) = @_;
    $self->{on_read} = $cb;
    $self->_drain_rbuf if $cb;
}

sub autocork { $_[0]{autocork} = $_[1] }

sub _sockopt {
    my ($self, $level, $name, $value) = @_;
    my $fh = $self->{fh} or return;
    setsockopt $fh, $level, $name, int !!$value;    # not a socket, or not TCP: nothing to set
}

sub no_delay {
    $_[0]{no_delay} = $_[1];
    $_[0]->_sockopt(Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), $_[1]);
}

sub keepalive {
    $_[0]{keepalive} = $_[1];
    $_[0]->_sockopt(Socket::SOL_SOCKET(), Socket::SO_KEEPALIVE(), $_[1]);
}

sub oobinline {
    $_[0]{oobinline} = $_[1];
    $_[0]->_sockopt(Socket::SOL_SOCKET(), Socket::SO_OOBINLINE(), $_[1]);
}

sub rbuf_max { $_[0]{rbuf_max} = $_[1] }
sub wbuf_max { $_[0]{wbuf_max} = $_[1] }

############################################################################ timeouts

# timeout/rtimeout/wtimeout, their resets and timers; "" is read-or-write activity. One timer per
# direction at most; it is only replaced when a new timeout must fire earlier than it would
# (a timer that fires early sees the activity since and waits for the rest), so setting the
# timeout per request, as AnyEvent::HTTP does, costs no new timer.
for my $dir ("", "r", "w") {
    my $timeout  = "${dir}timeout";
    my $timer    = "_${dir}tw";
    my $due      = "_${dir}tw_at";
    my $on       = "on_${dir}timeout";
    my $activity = "_${dir}activity";

    my $schedule;
    $schedule = sub {
        my ($self) = @_;
        my $at = $self->{$activity} + $self->{$timeout};
        return if $self->{$timer} && $self->{$due} <= $at;    # fires in time; checks then
        delete $self->{$timer};
        my $after = $at - AE::now;
        Scalar::Util::weaken(my $weak = $self);
        $self->{$due} = $at;
        $self->{$timer} = AE::timer($after > 0 ? $after : 0, 0, sub {
            my $self = $weak or return;
            delete $self->{$timer};
            return unless $self->{$timeout} && $self->{fh};
            if ($self->{$activity} + $self->{$timeout} - AE::now > 0) {
                $schedule->($self);    # there was activity since: wait for the rest
                return;
            }
            $self->{$activity} = AE::now;    # returning from the callback restarts the timeout
            if ($self->{$on}) {
                $self->{$on}($self);
            } else {
                $self->_error(ETIMEDOUT);
            }
            $schedule->($self) if $self->{fh} && $self->{$timeout} && !$self->{$timer};
        });
    };

    no strict 'refs';
    *$timeout = sub {
        my ($self, $seconds) = @_;
        $self->{$timeout} = $seconds;
        $self->{$activity} = AE::now;
        if ($seconds && $self->{fh}) {
            $schedule->($self);
        } else {
            delete $self->{$timer};
        }
    };
    *{"${dir}timeout_reset"} = sub { $_[0]{$activity} = AE::now };
}

############################################################################ write queue

sub on_drain {
    my ($self, $cb) = @_;
    $self->{on_drain} = $cb;
    $cb->($self) if $cb && $self->_drained;    # _drained: XSUB (xs/handle.c drained)
}

# push_write is an XSUB (xs/handle.xsh): data goes to the engine's queue_write (append to wbuf,
# write at once unless a write watcher waits or a read drain collects its callbacks' writes,
# wbuf_max); typed writes and undefined data come here first.
sub _push_write_pp {
    my $self = shift;
    if (@_ > 1) {
        my $type = shift;
        @_ = ($WH{$type} ||= _load_type($type, 'write'))->($self, @_);
    }
    Carp::croak("AnyEvent::Handle::push_write: data must be defined") unless defined $_[0];
    _queue_write($self, $_[0]);
}

sub push_shutdown {
    my ($self) = @_;
    delete $self->{low_water_mark};
    $self->on_drain(sub { $_[0]->_shutdown_write });
}

# The on_drain of push_shutdown. TLS: close_notify first, and the shutdown only once every
# record went out (until then the write watcher calls on_drain again).
sub _shutdown_write {
    my ($self) = @_;
    return unless $self->{fh};
    if (my $session = $self->{_tls}) {
        $session->close_notify unless $self->{_close_notify_sent}++;
        my $done = $session->flush($self->{fh}, $self->{_fd});
        if (defined $done && !$done) {
            $self->_drain_wbuf;
            return;
        }
    }
    return $self->_error(EBADF, 1) unless _fd_owned($self->{fh}, $self->{_fd});
    shutdown $self->{fh}, 1;
}

# _drain_wbuf (write at once unless corked, and keep a write watcher while something is left),
# _on_writable (the write watcher's work: write, stamp the write activity, announce TLS, call
# on_drain), _wants_write and _drained are XSUBs (xs/handle.c drain_wbuf, on_writable,
# wants_write, drained).

# Starts the write watcher (for xs/handle.c drain_wbuf); its callback is made once per handle and
# holds the handle weakly.
sub _watch_write {
    my ($self) = @_;
    my $cb = $self->{_on_writable} ||= do {
        Scalar::Util::weaken(my $weak = $self);
        sub { _on_writable($weak) if $weak };
    };
    $self->{_ww} = AE::io($self->{fh}, 1, $cb);
}

############################################################################ write types

sub register_write_type($$) { $WH{ $_[0] } = $_[1] }

register_write_type(netstring => sub {
    my (undef, $string) = @_;
    utf8::downgrade($string, 1) or Carp::croak("AnyEvent::Handle netstring: wide character in the data");
    length($string) . ":$string,";
});

register_write_type(packstring => sub {
    my (undef, $format, $string) = @_;
    pack "$format/a*", $string;
});

register_write_type(json => sub {
    my ($self, $ref) = @_;
    ($self->{json} ||= json_coder())->encode($ref);
});

register_write_type(cbor => sub {
    my ($self, $scalar) = @_;
    ($self->{cbor} ||= cbor_coder())->encode($scalar);
});

register_write_type(storable => sub {
    my (undef, $ref) = @_;
    require Storable;
    pack "w/a*", Storable::nfreeze($ref);
});

# The default coders, called through their names (AnyEvent 7.17's): programs replace them, to
# make every handle's JSON canonical, say.
sub json_coder() {
    eval { require JSON::XS; JSON::XS->new->utf8 } || do { require JSON::PP; JSON::PP->new->utf8 };
}

sub cbor_coder() {
    eval { require CBOR::XS; 1 }
        or Carp::croak("AnyEvent::Handle: the cbor type needs CBOR::XS, which is not installed");
    CBOR::XS->new;
}

# A read or write type named after a package: Package::anyevent_read_type (or _write_type),
# looked up in the package and then in its parents, loading them as needed.
sub _load_type {
    my ($type, $kind) = @_;
    my $func = "anyevent_${kind}_type";
    my $pkg  = $type;
    while (length $pkg) {
        my $code = $pkg->can($func) || do {
            (my $file = "$pkg.pm") =~ s{::}{/}g;
            eval { require $file };
            $pkg->can($func);
        };
        return $code if $code;
        $pkg =~ s/(?:::)?[^:]*$// or last;
    }
    Carp::croak("AnyEvent::Handle: unknown $kind type '$type'");
}

############################################################################ read queue

# push_read and unshift_read are XSUBs (xs/handle.xsh): line and chunk requests become typed
# requests of the engine (xs/handle.c make_request), served by its drain loop without a reader
# closure. Everything else comes here: a reader callback, or a read type's reader closure.
sub _push_read_pp    { _queue_read(push_read    => @_) }
sub _unshift_read_pp { _queue_read(unshift_read => @_) }

sub _queue_read {
    my ($method, $self) = (shift, shift);
    my $cb = pop;
    if (@_) {
        my $type = shift;
        $cb = ($RH{$type} ||= _load_type($type, 'read'))->($self, $cb, @_);
    }
    ref $cb or Carp::croak("AnyEvent::Handle::$method: a callback (code reference) is required");
    $method eq 'push_read' ? push @{ $self->{_queue} }, $cb : unshift @{ $self->{_queue} }, $cb;
    $self->_drain_rbuf;
}

# _drain_rbuf is an XSUB (xs/handle.c drain_rbuf): it feeds the read buffer to the queue, then
# on_read, then reports EOF; restarts reading when something still waits for data. What the
# callbacks push_write meanwhile is collected and written in one go at the end (one write(2)
# for many answers to one read).

# Stops reading even under TLS, as AnyEvent 7.17 does (so a peer cannot force us to buffer);
# only the automatic idling in _drain_rbuf keeps TLS handles reading for the protocol's sake.
sub stop_read {
    my ($self) = @_;
    delete $self->{_rw};
}

sub start_read {
    my ($self) = @_;
    return if $self->{_rw} || $self->{_eof} || !$self->{fh};
    return $self->_error(EBADF, 1) unless _fd_owned($self->{fh}, $self->{_fd});
    Scalar::Util::weaken(my $weak = $self);
    $self->{_rw} = AE::io($self->{fh}, 0, sub { _on_readable($weak) if $weak });
}

# _on_readable (the read watcher's callback) is an XSUB (xs/handle.c on_readable): one read(2)
# into rbuf, then _drain_rbuf; TLS handles go to _tls_receive.

############################################################################ read types

# Replacing line or chunk turns off the engine's typed requests for them (push_read then calls
# the replacement).
our $_FAST_TYPES = 1;
sub register_read_type($$) {
    $_FAST_TYPES = 0 if ($_[0] eq 'line' || $_[0] eq 'chunk') && $RH{ $_[0] };
    $RH{ $_[0] } = $_[1];
}

# The reader closures of line and chunk serve what push_read does not make a typed request of:
# callbacks that are no references, calls through %RH or a type of another name. A line is
# taken by the engine (_take_line, as for typed requests); a chunk length that is not a plain
# count keeps AnyEvent 7.17's arithmetic.
register_read_type(chunk => sub {
    my ($self, $cb, $len) = @_;
    sub {
        return 0 if $len > length $_[0]{rbuf};
        $cb->($_[0], substr $_[0]{rbuf}, 0, $len, "");
        1;
    };
});

register_read_type(line => sub {
    my ($self, $cb, $eol) = @_;
    if (ref $eol) {
        $eol = qr/$eol/s unless re::is_regexp($eol);
    } elsif (defined $eol) {
        utf8::downgrade($eol, 1) or Carp::croak("AnyEvent::Handle line: wide character in the end-of-line marker");
        length $eol or Carp::croak("AnyEvent::Handle line: the end-of-line marker must not be empty");
    }
    sub {
        (my ($line, $end) = _take_line($_[0]{rbuf}, $eol)) or return 0;
        $cb->($_[0], $line, $end);
        1;
    };
});

register_read_type(regex => sub {
    my ($self, $cb, $accept, $reject, $skip) = @_;
    my $data = "";
    sub {
        my $rbuf = \$_[0]{rbuf};
        if ($$rbuf =~ $accept) {
            $data .= substr $$rbuf, 0, $+[0], "";
            my $got = $data;
            $data = "";
            $cb->($_[0], $got);
            return 1;
        }
        if (defined $reject && $$rbuf =~ $reject) {
            $_[0]->_error(EBADMSG);
            return 0;
        }
        if (defined $skip && $$rbuf =~ $skip) {
            $data .= substr $$rbuf, 0, $+[0], "";
        }
        0;
    };
});

register_read_type(netstring => sub {
    my ($self, $cb) = @_;
    sub {
        my ($state, $string) = _take_netstring($_[0]{rbuf});
        return 0 unless $state;
        if ($state < 0) {
            $_[0]->_error(EBADMSG);
            return 0;
        }
        $cb->($_[0], $string);
        1;
    };
});

register_read_type(packstring => sub {
    my ($self, $cb, $format) = @_;
    $format =~ /^[cCsSlLqQiInNvVjJw][!<>]?\z/
        or Carp::croak("AnyEvent::Handle packstring: '$format' is not a single-integer pack format");
    sub {
        # an incomplete prefix: nothing (fixed formats) or an exception ("w")
        my $len = eval { unpack $format, $_[0]{rbuf} };
        return 0 unless defined $len;
        my $prefix = length pack $format, $len;
        return 0 if $prefix + $len > length $_[0]{rbuf};
        my $string = substr $_[0]{rbuf}, $prefix, $len;
        substr $_[0]{rbuf}, 0, $prefix + $len, "";
        $cb->($_[0], $string);
        1;
    };
});

register_read_type(json => sub {
    my ($self, $cb) = @_;
    my $json = $self->{json} ||= json_coder();
    sub {
        my $ref = eval { $json->incr_parse($_[0]{rbuf}) };
        if ($ref) {
            $_[0]{rbuf} = $json->incr_text;
            $json->incr_text = "";
            $cb->($_[0], $ref);
            return 1;
        }
        if ($@) {
            $json->incr_skip;
            $_[0]{rbuf} = $json->incr_text;
            $json->incr_text = "";
            $_[0]->_error(EBADMSG);
            return 0;
        }
        $_[0]{rbuf} = "";    # the parser keeps the partial text
        0;
    };
});

register_read_type(cbor => sub {
    my ($self, $cb) = @_;
    my $cbor = $self->{cbor} ||= cbor_coder();
    sub {
        my @values = eval { $cbor->incr_parse($_[0]{rbuf}) };
        if ($@) {
            $cbor->incr_reset;
            $_[0]->_error(EBADMSG);
            return 0;
        }
        return 0 unless @values;
        $cb->($_[0], $values[0]);
        1;
    };
});

register_read_type(storable => sub {
    my ($self, $cb) = @_;
    require Storable;
    sub {
        my $len = eval { unpack "w", $_[0]{rbuf} };
        return 0 unless defined $len;
        my $prefix = length pack "w", $len;
        return 0 if $prefix + $len > length $_[0]{rbuf};
        my $frozen = substr $_[0]{rbuf}, $prefix, $len;
        substr $_[0]{rbuf}, 0, $prefix + $len, "";
        my $ref = eval { Storable::thaw($frozen) };
        if (!$ref) {
            $_[0]->_error(EBADMSG);
            return 0;
        }
        $cb->($_[0], $ref);
        1;
    };
});

# A TLS record header (SSL3+ framing: content type 22, version 3.x) or an SSL2-framed
# ClientHello that offers 3.x. Returns (1, major, minor), (0) when surely not TLS, () when
# more data is needed. Consumes nothing.
sub _detect_tls {
    my ($buf) = @_;
    return () if length $buf < 3;
    return (1, 3, ord substr $buf, 2, 1) if $buf =~ /^\x16\x03[\x00-\x04]/;
    if ($buf =~ /^[\x80-\xff]/) {
        return () if length $buf < 5;
        return (1, 3, ord substr $buf, 4, 1) if $buf =~ /^[\x80-\xff].\x01\x03[\x00-\x04]/s;
    }
    (0);
}

register_read_type(tls_detect => sub {
    my ($self, $cb) = @_;
    sub {
        (my @verdict = _detect_tls($_[0]{rbuf})) or do {
            $_[0]->_error(EPIPE, 1) if $_[0]{_eof};
            return 0;
        };
        $cb->($_[0], @verdict);
        1;
    };
});

register_read_type(tls_autostart => sub {
    my ($self, $tls, $ctx) = @_;
    $RH{tls_detect}->($self, sub {
        return unless $_[1];
        $_[0]->starttls($tls, $ctx);
    });
});

############################################################################ TLS

our $TLS_CTX;

sub TLS_CTX() {
    $TLS_CTX ||= do { require AnyEvent::TLS; AnyEvent::TLS->new };
}

# Contexts made from option hashes with a true `cache` key, one per hash (as AnyEvent 7.17), so
# the handles of e.g. AnyEvent::HTTP share one context and its session cache.
our %TLS_CACHE;

sub _tls_ctx_from_hash {
    my ($options) = @_;
    return AnyEvent::TLS->new(%$options) unless $options->{cache};
    $TLS_CACHE{ Scalar::Util::refaddr($options) } ||= AnyEvent::TLS->new(%$options);
}

sub starttls {
    my ($self, $tls, $ctx, $at_start) = @_;
    Carp::croak("AnyEvent::Handle::starttls: TLS is already active on this handle") if $self->{_tls};
    Carp::croak("AnyEvent::Handle::starttls: tls must be \"accept\" or \"connect\"")
        unless defined $tls && ($tls eq "accept" || $tls eq "connect");

    $self->{tls} = $tls;
    $self->{tls_ctx} = $ctx if defined $ctx;
    return unless $self->{fh};    # started when the connection is up

    require AnyEvent::TLS;
    $ctx = $self->{tls_ctx};
    $ctx = _tls_ctx_from_hash($ctx) if ref $ctx eq 'HASH';
    $ctx ||= TLS_CTX();
    $self->{tls_ctx} = $ctx;

    # Data pushed on the plain connection before starttls is sent in the clear, ahead of the
    # handshake (as 7.17 does): an SMTP server's "220 go ahead" before STARTTLS, say.
    if (!$at_start && length $self->{wbuf}) {
        _write($self->{fh}, $self->{_fd}, $self->{wbuf});
        $self->{_tls_prelude} = $self->{wbuf};
        $self->{wbuf} = "";
    }

    my $session = $ctx->_session($self, $tls);
    unless ($session) {
        $self->_tls_failed($AnyEvent::TLS::ERROR);
        return;
    }
    $self->{_tls} = $session;
    delete $self->{_tls_ready};

    # Bytes read before TLS started (a ClientHello seen by tls_autostart) belong to TLS.
    if (length($self->{rbuf} // "")) {
        my $early = $self->{rbuf};
        $self->{rbuf} = "";
        unless ($session->feed($early)) {
            $self->_tls_failed($AnyEvent::TLS::ERROR);
            return;
        }
    }

    return $self->_error(EBADF, 1) unless _fd_owned($self->{fh}, $self->{_fd});
    Scalar::Util::weaken(my $weak = $self);
    $self->{_rw} = AE::io($self->{fh}, 0, sub { _on_readable($weak) if $weak });
    $self->_tls_progress;
}

sub stoptls {
    my ($self) = @_;
    my $session = $self->{_tls} or return;
    $self->_tls_send if $self->{fh} && $self->{_tls_ready};    # queued plaintext goes first
    $session->close_notify;
    $session->flush($self->{fh}, $self->{_fd}) if $self->{fh};
    $self->_freetls;
}

# resettls: AnyEvent 7.17's name for dropping the TLS state without a close_notify.
*resettls = \&_freetls;

sub _freetls {
    my ($self) = @_;
    delete @$self{qw(_tls _tls_ready tls _close_notify_sent _tls_unannounced _tls_end_pending)};
    delete $self->{_ww} unless length $self->{wbuf};
    delete $self->{_rw} unless $self->{on_read} || @{ $self->{_queue} || [] };
}

sub _tls_failed {
    my ($self, $message) = @_;
    $message = "TLS error" unless defined $message && length $message;
    $message = "TLS error: $message" unless $message =~ /^TLS/;
    if (!$self->{_tls_ready} && $self->{on_starttls}) {
        my $session = $self->{_tls};
        $self->_freetls;
        delete $self->{_rw};
        local $self->{tls} = $session;
        $! = EPROTO;
        $self->{on_starttls}($self, 0, $message);
    } else {
        $self->_error(EPROTO, 1, $message);
    }
}

# Reads records, decrypts into rbuf, sends what the handshake wants, and reports handshake,
# shutdown and EOF.
sub _tls_receive {
    my ($self) = @_;
    my $session = $self->{_tls};
    return if $self->{_tls_end_pending};    # the end was seen; it is reported next turn
    my $what = $session->receive($self->{fh}, $self->{_fd});
    unless (defined $what) {
        return if $! == EAGAIN || $! == EINTR || $! == EWOULDBLOCK;
        return $! == EPROTO ? $self->_tls_send_alert_and_fail : $self->_error($!, 1);
    }
    return if $what == _TLS_WOULD_BLOCK;    # nothing was there after all
    $self->_tls_progress($what == _TLS_EOF);
}

sub _tls_send_alert_and_fail {
    my ($self) = @_;
    my $message = $AnyEvent::TLS::ERROR;
    $self->{_tls}->flush($self->{fh}, $self->{_fd}) if $self->{_tls};    # the alert telling the peer why
    $self->_tls_failed($message);
}

sub _tls_progress {
    my ($self, $socket_eof) = @_;
    my $session = $self->{_tls} or return;

    if (!$self->{_tls_ready} && !($session->state & $HANDSHAKING)) {
        return unless $self->_tls_handshake_done;
        $session = $self->{_tls} or return;
    }

    my ($got, $end) = _tls_read($self);    # (stamps the read activity)
    return $self->_error($!, 1) unless defined $got;

    # What rustls queued (a handshake step, tickets) goes out now, or with the answers of the
    # callbacks when data came: _drain_rbuf ends with a write.
    $self->_drain_wbuf unless $got;
    return unless $self->{fh};

    $end ||= 2 if $socket_eof;    # 1: close_notify, 2: the stream ended
    if ($end && $got && $self->{_tls_ready}) {
        # The end came with data. As on a plain socket, where end of file is a read of its own,
        # the data is delivered now and the end on the next loop turn: code that sets on_eof
        # once a condvar sent from the data's callback returns still sees it.
        $self->{_tls_end_pending} = $end;
        Scalar::Util::weaken(my $weak = $self);
        AE::postpone(sub {
            my $self = $weak or return;
            my $end = delete $self->{_tls_end_pending} or return;
            $self->_tls_end($end, 0) if $self->{fh} && $self->{_tls};
        });
        $self->_drain_rbuf;
        return;
    }
    return $self->_tls_end($end, $got) if $end;
    $self->_drain_rbuf if $got;
}

# The peer ended TLS (close_notify, $end 1) or the connection ($end 2); $got: data was just
# read along with it.
sub _tls_end {
    my ($self, $end, $got) = @_;
    if ($end == 1 && $self->{on_stoptls}) {
        my $cb = $self->{on_stoptls};
        local $self->{tls} = $self->{_tls};
        $self->_freetls;
        $self->_drain_rbuf if $got;
        $cb->($self) if $self->{fh};
        return;
    }
    $self->_freetls if $end == 1;
    delete $self->{_rw};
    $self->{_eof} = 1;
    if ($end == 2 && !$self->{_tls_ready}) {
        $self->_tls_failed("TLS error: the connection closed during the handshake");
        return;
    }
    $self->_drain_rbuf;
}

# The handshake finished: give Perl its say on the peer's certificate, then send our last
# flight together with the plaintext queued meanwhile (one write), and tell on_starttls once
# that flight is out: a peer never waits for a Finished that we already called done.
sub _tls_handshake_done {
    my ($self) = @_;
    my $session = $self->{_tls};
    my $ctx = $self->{tls_ctx};
    my $verdict = $session->take_verdict;    # _TLS_VERDICT_NONE: Rust decided during the handshake
    if ($verdict != _TLS_VERDICT_NONE && !$ctx->_final_verdict($self, $session, $verdict == _TLS_VERDICT_PASSED)) {
        my $why = $verdict == _TLS_VERDICT_FAILED ? $AnyEvent::TLS::ERROR : "certificate rejected by verify_cb";
        $self->_tls_failed("TLS error: certificate verification failed: $why");
        return 0;
    }
    $self->{_tls_ready} = 1;
    # A TLS 1.3 server sent its Finished in its first flight; what it has queued now are session
    # tickets, which may as well go out with the answer to the first request.
    return $self->_tls_announce if $self->{tls} eq "accept" && ($session->version // "") eq "TLSv1_3";
    if (!defined $self->_tls_send && $! != EAGAIN && $! != EINTR && $! != EWOULDBLOCK) {
        $self->_error($!, 1);
        return 0;
    }
    if ($session->state & $WANTS_WRITE) {    # the rest goes out from the write watcher
        $self->{_tls_unannounced} = 1;
        $self->_drain_wbuf;
        return $self->{fh} && $self->{_tls} ? 1 : 0;
    }
    $self->_tls_announce;
}

# Tells on_starttls that TLS is up. Returns false when the callback closed the handle or TLS.
sub _tls_announce {
    my ($self) = @_;
    delete $self->{_tls_unannounced};
    return 1 unless $self->{on_starttls};
    $self->{on_starttls}($self, 1, "TLS/SSL connection established");
    $self->{fh} && $self->{_tls} ? 1 : 0;
}

# _tls_send (an XSUB, xs/handle.c tls_send): the cleartext that preceded starttls, then queued
# plaintext (once the handshake is done) and the records, through the one TLS write loop.

sub tls_alpn {
    my ($self) = @_;
    $self->{_tls} ? $self->{_tls}->alpn : undef;
}

sub tls_version {
    my ($self) = @_;
    $self->{_tls} ? $self->{_tls}->version : undef;
}

sub tls_peer_certificate {
    my ($self) = @_;
    $self->{_tls} ? $self->{_tls}->peer_cert(0) : undef;
}

############################################################################ teardown

sub destroy {
    my ($self) = @_;
    $self->DESTROY;
    %$self = ();
    bless $self, "AnyEvent::Handle::destroyed";
}

sub destroyed { 0 }

# Linger for a TLS handle: keeps its session (and file handle) alive until the outstanding
# plaintext is encrypted and every record is written, or $linger seconds pass.
sub _linger_tls {
    my ($fh, $fd, $session, $wbuf, $linger) = @_;
    my @linger;
    push @linger, AE::io($fh, 1, sub {    # the closure holds $fh: it stays open while we linger
        my $ok = _tls_push($session, $fh, $fd, $wbuf);    # (the TLS write loop of xs/handle.c)
        @linger = () if defined $ok
            ? !length $wbuf && !($session->state & $WANTS_WRITE)
            : $! != EAGAIN && $! != EINTR;    # (EPROTO: the session failed)
    });
    push @linger, AE::timer($linger, 0, sub { @linger = () });
}

sub DESTROY {
    my ($self) = @_;
    my $linger = exists $self->{linger} ? $self->{linger} : 3600;
    my ($fh, $fd) = @$self{qw(fh _fd)};
    # (a descriptor the fh no longer owns is not written to: nothing lingers then)
    if (!$fh || !$linger || !_fd_owned($fh, $fd)) {
    } elsif ($self->{_tls}) {
        _linger_tls($fh, $fd, $self->{_tls}, $self->{wbuf}, $linger)
            if $self->{_tls_ready} && $self->_wants_write;
    } elsif (length($self->{wbuf} // "")) {
        # Outstanding data keeps the file handle alive until written (or linger expires).
        my $wbuf = $self->{wbuf};
        my @linger;
        push @linger, AE::io($fh, 1, sub {
            my $len = _write($fh, $fd, $wbuf);    # $fh stays open as long as we write
            if (!defined $len ? ($! != EAGAIN && $! != EINTR) : !length $wbuf) {
                @linger = ();
            }
        });
        push @linger, AE::timer($linger, 0, sub { @linger = () });
    }
    delete @$self{qw(_rw _ww _tw _rtw _wtw _connect _tls)};
}

sub AnyEvent::Handle::destroyed::AUTOLOAD { }
sub AnyEvent::Handle::destroyed::destroyed { 1 }
sub AnyEvent::Handle::destroyed::DESTROY { }

1;

__END__

=head1 NAME

AnyEvent::Handle - non-blocking, buffered, queued stream I/O (with TLS)

=head1 SYNOPSIS

    use AnyEvent;
    use AnyEvent::Handle;

    my $done = AE::cv;
    my $handle; $handle = AnyEvent::Handle->new(
        fh       => $socket,                 # or connect => [$host, $service]
        on_error => sub {
            my ($handle, $fatal, $message) = @_;
            AE::log error => $message;
            $handle->destroy;
            $done->send;
        },
        on_eof   => sub { $handle->destroy; $done->send },
    );

    $handle->push_write("GET / HTTP/1.0\015\012\015\012");
    $handle->push_read(line => sub {
        my ($handle, $line, $eol) = @_;
        print "status: $line\n";
    });
    $done->recv;

=head1 DESCRIPTION

An AnyEvent::Handle wraps a stream file handle (usually a socket) and gives it a write queue,
a read queue of typed read requests (lines, chunks, netstrings, JSON ...), inactivity
timeouts, and optionally TLS. It is the AnyEvent 7.17 API, implemented on this distribution's
C glue and Rust core:

=over 4

=item *

The reads and writes (non-blocking C<read(2)>, C<send(2)> with C<MSG_NOSIGNAL>), the line and
chunk requests (line ends found with memchr, fixed end markers with memmem) and the write
queue are served in C, without Perl code between the socket and your callbacks; the TLS
records (rustls) and netstring headers are handled in Rust.

=item *

The read buffer C<< $handle->{rbuf} >> and the write buffer C<< $handle->{wbuf} >> are ordinary
Perl strings. You may read C<rbuf> and remove data from its start (or, in your own read
callbacks, edit it), as the tutorial does with C<< $handle->{rbuf} =~ s/^( (?:..)* ) ://x >>.
Reads append to it in place, without copying; consumed data is removed by moving the string's
start, also without copying.

=item *

The handle is a blessed hash: constructor arguments become members of the same name, internal
members start with C<_>, so subclasses and C<< $_[0]{...} >> access keep working.

=back

With TLS, C<wbuf> holds the plaintext not yet handed to TLS (at most what rustls buffers,
64 KiB, is in between), and C<rbuf> receives decrypted data.

=head1 CONSTRUCTOR

=head2 $handle = AnyEvent::Handle->new(key => value, ...)

Takes key/value pairs; returns the handle object. Croaks when neither C<fh> nor C<connect> is
given, when C<fh> is not an open file handle, or on an odd number of arguments. If a fatal
error happens while starting (e.g. TLS setup without C<on_error>), it may return nothing.

=over 4

=item fh => $filehandle

The stream to use. It is put into non-blocking mode. Either C<fh> or C<connect> is required.

=item connect => [$host, $service]

Connects with C<AnyEvent::Socket::tcp_connect> (loaded on use). C<$host> also becomes the
default C<peername>. Reads and writes may be queued, and properties changed, while connecting.

=over 4

=item on_prepare => $cb->($handle)

Called before a connection attempt, with the new socket in C<< $handle->{fh} >>. Its return
value is the connect timeout in seconds (0, undef or an empty list: the default).

=item on_connect => $cb->($handle, $host, $port, $retry->())

Called once connected, with the peer's numeric address and port. Calling C<$retry> drops this
connection and tries the next address of the host (possibly after the callback returned).

=item on_connect_error => $cb->($handle, $message)

Called when no connection could be made; C<$!> holds the error (C<ENXIO> when the host has
no address, also when it is not a valid domain name at all). The handle is destroyed
afterwards. Without it, C<on_error> is called with a fatal error.

=back

=item on_error => $cb->($handle, $fatal, $message)

Called on errors, with C<$!> set to the error code and C<$message> describing it (print the
message rather than C<$!>). After a fatal error (C<$fatal> true) the handle is destroyed once
the callback returns. The codes AnyEvent::Handle reports:

    EPIPE      end of file while read requests are pending (fatal), or on_read not
               consuming data at end of file
    ETIMEDOUT  an inactivity timeout without on_*timeout callback (not fatal)
    ENOSPC     rbuf_max or wbuf_max exceeded (fatal)
    EBADMSG    malformed netstring, JSON, CBOR, storable data, or a reject regex matched
               (not fatal; the request stays queued)
    EPROTO     TLS failures: handshake, certificate verification, bad records (fatal)
    EBADF      the file handle was closed (or reopened onto another descriptor) behind
               the handle's back (fatal; see below)
    others     as read(2)/write(2) report them (fatal)

A handle never reads, writes or shuts down a descriptor its file handle no longer owns: each
time, it checks that C<fileno> of its C<fh> is still the descriptor it started with. Once user
code closed C<fh>, the number may belong to a new socket; the handle then fails with C<EBADF>
instead of reading the new socket's data or writing its own queue into it, and lingers on
nothing when destroyed. (A file handle reopened onto the very same descriptor number is the
file handle's own: the handle goes on using it, as AnyEvent 7.17 reads through its C<fh>.)

Without C<on_error>, an error destroys the handle and croaks with
C<AnyEvent::Handle uncaught error: $message> (from inside the event loop).

=item on_read => $cb->($handle)

Called when data arrived and the read queue is empty (only when C<rbuf> is not empty). It
should consume data from C<rbuf> or push read requests. At end of file, remaining data is first
offered to the queue and C<on_read>; if it makes no progress a fatal C<EPIPE> error follows.

=item on_eof => $cb->($handle)

Called at a clean end of file when no read request is pending. Writing is still possible.
Without it, end of file is a fatal error with C<$!> = 0 ("Unexpected end-of-file").

=item on_drain => $cb->($handle)

Called when the write buffer becomes empty (at most C<low_water_mark> octets), and at once
when set while it is empty.

=item timeout => $seconds, rtimeout => $seconds, wtimeout => $seconds

Inactivity timeouts: for reads or writes, reads only, writes only. When that many seconds pass
without a successful read (or write, or a C<*timeout_reset> call), C<on_timeout> (or
C<on_rtimeout>, C<on_wtimeout>) is called and the timeout restarts; without callback, a
non-fatal C<ETIMEDOUT> error is raised. They are active even when nothing is queued. 0 (the
default) disables.

=item on_timeout, on_rtimeout, on_wtimeout => $cb->($handle)

See above.

=item rbuf_max => $octets, wbuf_max => $octets

A fatal C<ENOSPC> error when the read (write) buffer grows beyond this size. For TLS handles,
C<wbuf_max> counts the plaintext waiting in C<wbuf>.

=item autocork => $boolean

Off (default): C<push_write> writes at once when it can. On: writes wait for the next loop
iteration (fewer system calls for many small writes, more latency).

=item no_delay => $boolean, keepalive => $boolean, oobinline => $boolean

Set C<TCP_NODELAY>, C<SO_KEEPALIVE>, C<SO_OOBINLINE> on the socket. C<oobinline> is enabled
unless given as false. Harmless on handles that are not TCP sockets.

=item read_size => $octets, max_read_size => $octets

The initial read size (default 2048), doubled after every read that filled it, up to
C<max_read_size> (default 131072, C<AnyEvent::Handle::MAX_READ_SIZE>, or C<read_size> if
larger).

=item low_water_mark => $octets

The write buffer size (default 0) at or below which it counts as empty for C<on_drain>.

=item linger => $seconds

When the handle is destroyed with data still in C<wbuf>, keep writing it for up to this many
seconds (default 3600; 0 disables). No errors are reported. TLS handles linger too: the pending
plaintext is encrypted and every record written.

=item peername => $string

The peer's name: used for TLS server name indication and, when C<verify_peername> asks for
it, for the certificate host name check.

=item tls => "accept" | "connect"

Starts TLS (server or client side) as soon as the connection is up. TLS failures are
C<EPROTO> errors. Unlike AnyEvent on Net::SSLeay, a Net::SSLeay session object is not accepted.

=item tls_ctx => $anyevent_tls | { key => value, ... }

The L<AnyEvent::TLS> context to use, or a hash of options to make one. Default:
C<AnyEvent::Handle::TLS_CTX>. When the hash has a true C<cache> key (as AnyEvent::HTTP's
built-in contexts do), the context made from it is kept in C<%AnyEvent::Handle::TLS_CACHE>
(keyed by the hash's address) and shared by every handle given that same hash, so building it
is paid once and TLS client sessions are resumed across connections.

=item on_starttls => $cb->($handle, $success[, $message])

Called when the TLS handshake finished (C<$success> true), or failed (false, with the message;
C<on_error> is then not called, TLS is switched off and reading stops). Success is reported
only once this side's last handshake flight (a client's Finished) has been written, together
with the data queued with C<push_write> during the handshake, so a handle closed in this
callback never leaves the peer with half a handshake.

=item on_stoptls => $cb->($handle)

Called when the peer ends TLS (close_notify); the handle continues in plaintext. Without it, a
TLS shutdown counts as end of file.

=item json => $coder, cbor => $coder

The JSON (JSON::XS or JSON::PP; default: a UTF-8 coder of whichever is installed) and CBOR
(CBOR::XS) coders for the json and cbor types. The defaults come from
C<AnyEvent::Handle::json_coder()> and C<AnyEvent::Handle::cbor_coder()> (no arguments; each
returns a new coder; C<cbor_coder> croaks without CBOR::XS), called through their names when a
handle first needs one, so a program may replace them.

=back

=head1 METHODS

=head2 $fh = $handle->fh

Returns the file handle.

=head2 $handle->on_error($cb), on_eof($cb), on_read($cb), on_timeout($cb), on_rtimeout($cb), on_wtimeout($cb), on_starttls($cb), on_stoptls($cb)

Replace the callback (see the constructor). Return the new value. C<on_read> also processes
data already in C<rbuf>.

=head2 $handle->autocork($boolean), no_delay($boolean), keepalive($boolean), oobinline($boolean)

Change the option (socket options are set at once). Return values unspecified.

=head2 $handle->rbuf_max($octets), $handle->wbuf_max($octets)

Set the limits (undef: none).

=head2 $handle->timeout($seconds), rtimeout($seconds), wtimeout($seconds)

Set (0: disable) the inactivity timeout and restart it from now.

=head2 $handle->timeout_reset, rtimeout_reset, wtimeout_reset

Count now as activity for the timeout.

=head2 $handle->rbuf

The read buffer as an lvalue: C<< $handle->rbuf = "" >> empties it.

=head1 WRITE QUEUE

=head2 $handle->on_drain($cb)

Sets the drain callback; calls it at once if the write buffer is (at or below the low water
mark) empty.

=head2 $handle->push_write($data)

Appends octets to the write buffer and writes what it can (unless corked). Croaks on undef
data or characters above 255. A fatal C<ENOSPC> error when C<wbuf_max> is exceeded.

Inside the callbacks that serve one read (C<push_read> callbacks, C<on_read>, C<on_eof>), the
data is collected and written once they are done, before the loop polls again: twenty answers
to twenty pipelined requests leave in one C<write>, not twenty. (Without C<wbuf_max>, which is
judged on every push.) On a TLS handle the records of one write, and all the records of a
handshake step, leave in one C<writev>.

=head2 $handle->push_write(type => @args)

Encodes C<@args> with a write type and appends the result:

    netstring  => $string          "<length>:<string>,"
    packstring => $format, $string pack "$format/a*" (e.g. "N", "n", "w")
    json       => $ref             JSON text (UTF-8) from the json coder
    cbor       => $scalar          CBOR from the cbor coder (croaks without CBOR::XS)
    storable   => $ref             pack "w/a*", Storable::nfreeze($ref)

Any other type is looked up as a registered type, or as a package with an
C<anyevent_write_type($handle, @args)> function (the package, then its parents, are loaded as
needed) which returns the octets to write. Croaks on an unknown type.

=head2 AnyEvent::Handle::register_write_type($name => $coderef->($handle, @args))

Registers a write type; the code returns the octets to append.

=head2 $handle->push_shutdown

Replaces C<on_drain> with a callback that shuts down the writing side (sending a TLS
close_notify first on TLS handles) once the buffer is written. The peer sees end of file.

=head1 READ QUEUE

Read requests are served in order; each is a callback that looks at C<rbuf> and returns true
when it consumed what it needed (it is then removed) or false to wait for more data. When
the queue is empty, C<on_read> gets the data.

=head2 $handle->push_read($cb->($handle)), $handle->unshift_read($cb)

Appends (prepends) a reader callback. The callback must return true once done.

=head2 $handle->push_read(type => @args, $cb), $handle->unshift_read(type => @args, $cb)

Appends (prepends) a typed request:

=over 4

=item chunk => $octets, $cb->($handle, $data)

Exactly C<$octets> octets.

=item line => [$eol,] $cb->($handle, $line, $eol)

A line without its end marker, and the marker. C<$eol> is a string (a fixed marker, e.g.
C<"\015\012\015\012"> for a header block) or a C<qr//> regex; missing or undef:
C<\015?\012>. Partial lines at end of file are never returned.

=item regex => $accept[, $reject[, $skip]], $cb->($handle, $data)

Everything up to and including the first match of C<$accept> (capture variables are
available in the callback). If C<$reject> matches while C<$accept> does not: C<EBADMSG>. If
C<$skip> matches, everything up to its match end is accepted into the result without being
rescanned.

=item netstring => $cb->($handle, $string)

A netstring; malformed data raises C<EBADMSG>.

=item packstring => $format, $cb->($handle, $string)

An octet string after a length in pack C<$format> (one of C<cCsSlLqQiInNvVjJw>, optionally
with C<!>, C<< < >>, C<< > >>). Croaks on other formats.

=item json => $cb->($handle, $ref)

A JSON text (incremental parse; C<EBADMSG> on errors).

=item cbor => $cb->($handle, $scalar)

A CBOR value (needs CBOR::XS; C<EBADMSG> on errors).

=item storable => $cb->($handle, $ref)

What the storable write type wrote; C<EBADMSG> when it cannot be thawed.

=item tls_detect => $cb->($handle, $detect, $major, $minor)

Looks at the start of the stream without consuming it: C<$detect> true with the record
version (3, 0..4) for a TLS (or SSLv2-framed 3.x) ClientHello, false when it cannot be TLS.

=item tls_autostart => [$tls_ctx,] $tls

Like tls_detect, and starts TLS (C<< starttls($tls, $tls_ctx) >>, normally "accept") when a
handshake is detected; the data read so far goes to TLS.

=back

Other types are registered types or packages with C<anyevent_read_type($handle, $cb, @args)>,
which returns a reader callback. Croaks on an unknown type.

=head2 AnyEvent::Handle::register_read_type($name => $coderef->($handle, $cb, @args))

Registers a read type; the code returns a reader callback as described above.

=head2 $handle->stop_read, $handle->start_read

Stop and resume reading from the file handle (for flow control), TLS handles included (as in
AnyEvent 7.17: a peer cannot make us buffer unlimited data; a TLS peer that insists on reading
our answer first, e.g. during renegotiation, may stall meanwhile). Pushing a read request or
setting C<on_read> starts reading again. Both return nothing.

=head1 TLS

=head2 $handle->starttls($tls[, $tls_ctx])

Starts TLS on the connection ("accept" or "connect"), optionally with a context (object or
option hash). Data already in C<rbuf> is handed to TLS first. Croaks if TLS is already active
or C<$tls> is neither "accept" nor "connect". Failures to set up (e.g. no server certificate)
and handshake failures go to C<on_starttls> or C<on_error> (C<EPROTO>).

=head2 $handle->stoptls

Encrypts and sends what is queued, then a close_notify, and goes back to plaintext. Data the peer sends after its own close_notify
in the same packet may be lost (as with any TLS implementation reading ahead).

=head2 $handle->resettls

Drops the TLS state at once, without a close_notify, and goes back to plaintext: what was
queued or in flight inside TLS is lost. For skipping over a TLS stream whose contents do not
matter. Returns nothing.

=head2 $protocol = $handle->tls_alpn

The negotiated ALPN protocol (see C<alpn> in L<AnyEvent::TLS>), or undef. Not in AnyEvent.

=head2 $version = $handle->tls_version

"TLSv1_2" or "TLSv1_3" once negotiated, else undef. Not in AnyEvent.

=head2 $der = $handle->tls_peer_certificate

The peer's certificate (DER octets), or undef. Not in AnyEvent.

=head2 AnyEvent::Handle::MAX_READ_SIZE

A constant: the default C<max_read_size> (131072 octets).

=head2 $coder = AnyEvent::Handle::json_coder(), $coder = AnyEvent::Handle::cbor_coder()

Return a new default coder for the json and cbor read and write types: C<json_coder> a UTF-8
JSON::XS coder (JSON::PP when JSON::XS is not installed), C<cbor_coder>
a CBOR::XS coder (croaks without CBOR::XS). A handle calls them through their names the first
time it needs a coder and keeps the coder, so a program may replace them before that.

=head2 AnyEvent::Handle::TLS_CTX

The default context (C<< AnyEvent::TLS->new >> with defaults: no verification), made on first
use.

=head1 DESTRUCTION

=head2 $handle->destroy

Stops all watchers and timers, drops callbacks and buffers (after starting the C<linger>
writer if data is pending), and turns the object into an C<AnyEvent::Handle::destroyed>
whose methods do nothing. Safe inside callbacks; no callback of the handle runs afterwards.

=head2 $handle->destroyed

True once the handle was destroyed (by C<destroy> or a fatal error).

=head1 EVENT ORDER

What arrives is delivered as AnyEvent 7.17 delivers it, turn by turn of the event loop:

=over 4

=item *

One read event reads what the socket has (one C<read> for plain handles; for TLS until a short
read) and serves the read queue and C<on_read> with it in that same callback.

=item *

The end of the stream is reported on a later loop turn than data that came with it: on a
plain socket end of file is a read of its own; a TLS close_notify or end of file that arrived
together with data is reported on the next turn. So code that sets C<on_read>/C<on_eof> after a
condvar sent from a read callback returns still sees the rest of the data and the end (as
AnyEvent::WebSocket::Client does).

=item *

TLS: C<on_starttls> success comes once this side's last handshake flight is written (see
C<on_starttls>), before the data that arrived with the peer's last flight is served.

=item *

Errors: a failed read or write calls C<on_error> from the callback that hit it, with C<$!> set.
Callbacks called after the handle's own successful read or write see C<$!> == 0, as after
Perl's C<sysread>/C<syswrite> (which AnyEvent 7.17 uses); otherwise C<$!> is as the program
left it: nothing the loop or this module did internally (EAGAIN on a drained socket, say)
shows through.

=back

=head1 ERRORS THAT CROAK

Nothing a peer sends (data, malformed JSON/CBOR/netstrings, TLS records, the end of the
stream) and no host name given to C<connect> makes a handle croak: those end in C<on_error>
or C<on_connect_error> (a name that is no domain name: C<ENXIO>, as from C<tcp_connect>).
What croaks, at the call, are programmer errors:

    new            an odd number of arguments; neither fh nor connect; connect not
                   [$host, $service]; fh not an open file handle
    push_write     undefined data; characters above 255 (also in a netstring); an
                   unknown write type; cbor without CBOR::XS
    push_read,     no callback; an unknown read type; a line end marker that is empty or
    unshift_read   has characters above 255; a packstring format that is not one integer
    starttls       TLS already active; a mode other than "accept" or "connect"

and, as in AnyEvent 7.17, an error on a handle without C<on_error> (C<AnyEvent::Handle
uncaught error: ...>, from the callback that hit it). L<AnyEvent::TLS>'s constructor croaks for
unusable TLS options.

=head1 DIFFERENCES FROM ANYEVENT 7.17

C<push_shutdown> on a TLS handle sends a close_notify before shutting down the write side
(AnyEvent 7.17 only shuts down the socket, which peers such as C<openssl s_client> report as a
truncated stream).

C<tls> does not accept Net::SSLeay objects, C<resettls> and C<< $handle->{tls} >> as a
Net::SSLeay session do not exist (C<< $handle->{tls} >> is the mode while TLS is active).
C<tls_alpn>, C<tls_version> and C<tls_peer_certificate> are additions. See L<AnyEvent::TLS> for
the TLS options.

=head1 SEE ALSO

L<AnyEvent>, L<AnyEvent::TLS>, L<AnyEvent::Socket>.

=cut
