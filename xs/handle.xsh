MODULE = AnyEvent		PACKAGE = AnyEvent::Handle

PROTOTYPES: DISABLE

BOOT:
    handle_boot(aTHX);

# The XSUBs of the Handle engine (xs/handle.c). Those taking a handle want a reference to its
# hash (AnyEvent::Handle::destroyed objects never get here: their methods are AUTOLOADed).

# Writes what the kernel takes of wbuf to fd, which must still be fh's (else EBADF); returns the
# count written, or undef with $! set. (No activity timestamps: for linger and the prelude.)
void
_write(SV *fh, SV *fd, SV *wbuf)
    PPCODE:
    {
        size_t put;
        int st = write_plain(aTHX_ fh, fd, wbuf, &put);
        if (st)
            RETURN_ERRNO(st);
        mXPUSHu(put);
    }

# Whether fd is still the descriptor of fh (see fd_owned).
int
_fd_owned(SV *fh, SV *fd)
    CODE:
        RETVAL = SvOK(fd) && fd_owned(aTHX_ fh, SvIV(fd));
    OUTPUT:
        RETVAL

# (line, eol) taken off the front of rbuf, or nothing: the line type's reader closures.
void
_take_line(SV *rbuf, SV *eol = NULL)
    PPCODE:
    {
        SV *line, *end;
        if (!take_line(aTHX_ rbuf, eol, &line, &end))
            XSRETURN_EMPTY;
        EXTEND(SP, 2);
        mPUSHs(line);
        mPUSHs(end);
    }

# (1, data) for a complete netstring at the start of rbuf (taken off it), 0 when incomplete,
# -1 when malformed.
void
_take_netstring(SV *rbuf)
    PPCODE:
    {
        STRLEN len;
        size_t start, dlen;
        const char *p;
        int32_t state;
        if (!SvOK(rbuf))
            XSRETURN_EMPTY;
        p = bytes_of(aTHX_ rbuf, &len, "AnyEvent::Handle netstring");
        CHECK_STATUS(aers_parse_netstring(p, len, (size_t)1 << 40, &state, &start, &dlen), "AnyEvent::Handle netstring");
        mXPUSHi(state == AERS_NETSTRING_COMPLETE ? 1 : state == AERS_NETSTRING_MALFORMED ? -1 : 0);
        if (state == AERS_NETSTRING_COMPLETE) {
            mXPUSHp(p + start, dlen);
            chop_front(aTHX_ rbuf, start + dlen + 1);
            SvSETMAGIC(rbuf);
        }
    }

void
push_read(SV *self, ...)
    PPCODE:
        if (!fast_push_read(aTHX_ &ST(0), items, 0))
            call_self_method(aTHX_ "_push_read_pp", &ST(0), items);
        XSRETURN_EMPTY;

void
unshift_read(SV *self, ...)
    PPCODE:
        if (!fast_push_read(aTHX_ &ST(0), items, 1))
            call_self_method(aTHX_ "_unshift_read_pp", &ST(0), items);
        XSRETURN_EMPTY;

# push_write($data) is the engine's queue_write; typed writes and undefined data (which croaks)
# go through the Perl body, _push_write_pp, which ends in _queue_write.
void
push_write(SV *self, ...)
    PPCODE:
        if (items == 2 && SvOK(ST(1)) && SvROK(self) && SvTYPE(SvRV(self)) == SVt_PVHV)
            queue_write(aTHX_ self, ST(1));
        else
            call_self_method(aTHX_ "_push_write_pp", &ST(0), items);
        XSRETURN_EMPTY;

void
_on_readable(SV *self)
    ALIAS:
        _drain_rbuf = 1
        _on_writable = 2
        _drain_wbuf = 3
    PPCODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        switch (ix) {
        case 0: on_readable(aTHX_ self); break;
        case 1: drain_rbuf(aTHX_ self); break;
        case 2: on_writable(aTHX_ self); break;
        default: drain_wbuf(aTHX_ self); break;
        }
        XSRETURN_EMPTY;

void
_queue_write(SV *self, SV *data)
    PPCODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        queue_write(aTHX_ self, data);
        XSRETURN_EMPTY;

int
_wants_write(SV *self)
    ALIAS:
        _drained = 1
    CODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        RETVAL = ix ? drained(aTHX_ (HV *)SvRV(self)) : wants_write(aTHX_ (HV *)SvRV(self));
    OUTPUT:
        RETVAL

# TLS: the prelude, then plaintext (once the handshake is done) and records; 1, or undef with $!.
void
_tls_send(SV *self)
    PPCODE:
    {
        int st;
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        if ((st = tls_send(aTHX_ (HV *)SvRV(self))))
            RETURN_ERRNO(st);
        mXPUSHi(1);
    }

# TLS: (octets decrypted into rbuf, end: 0, 1 close_notify, 2 end of stream), or undef with $!.
void
_tls_read(SV *self)
    PPCODE:
    {
        UV total;
        int end, st;
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        if ((st = tls_read(aTHX_ (HV *)SvRV(self), &total, &end)))
            RETURN_ERRNO(st);
        EXTEND(SP, 2);
        mPUSHu(total);
        mPUSHi(end);
    }

# TLS linger: tls_push of wbuf through session to fh/fd; 1, or undef with $!.
void
_tls_push(SV *session, SV *fh, SV *fd, SV *wbuf)
    PPCODE:
    {
        int st = tls_push(aTHX_ tls_ptr(aTHX_ session, "AnyEvent::TLS::_Session"), fh, fd, wbuf);
        if (st)
            RETURN_ERRNO(st);
        mXPUSHi(1);
    }

MODULE = AnyEvent		PACKAGE = AnyEvent::TLS

SV *
_ctx_new(UV flags, SV *alpn)
    CODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(alpn, len);
        aers_tls_ctx *c;
        int st = aers_tls_ctx_new((uint32_t)flags, p, len, &c);
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st) {
            tls_note_error(aTHX);
            croak_caller(aTHX_ "AnyEvent::TLS: %" SVf, SVfARG(get_sv("AnyEvent::TLS::ERROR", 0)));
        }
        RETVAL = tls_wrap(aTHX_ c, "AnyEvent::TLS::_Ctx");
    }
    OUTPUT:
        RETVAL

MODULE = AnyEvent		PACKAGE = AnyEvent::TLS::_Ctx

UV
_load(SV *self, int what, SV *pem)
    CODE:
    {
        aers_tls_ctx *c = tls_ptr(aTHX_ self, "AnyEvent::TLS::_Ctx");
        STRLEN len;
        const char *p = SvPVbyte(pem, len);
        size_t count = 0;
        int st = what == 0 ? aers_tls_ctx_add_trusted(c, p, len, &count)
               : what == 1 ? aers_tls_ctx_set_chain(c, p, len, &count)
               : aers_tls_ctx_set_key(c, p, len);
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st) {
            tls_note_error(aTHX);
            croak("%" SVf, SVfARG(get_sv("AnyEvent::TLS::ERROR", 0)));
        }
        RETVAL = count;
    }
    OUTPUT:
        RETVAL

void
session(SV *self, int server, SV *name)
    PPCODE:
    {
        aers_tls_ctx *c = tls_ptr(aTHX_ self, "AnyEvent::TLS::_Ctx");
        STRLEN len = 0;
        const char *p = SvOK(name) ? SvPVutf8(name, len) : ""; /* (wide characters: no host name) */
        aers_tls *s;
        int st = aers_tls_new(c, server, p, len, &s);
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st) {
            tls_note_error(aTHX);
            RETURN_ERRNO(st);
        }
        mXPUSHs(tls_wrap(aTHX_ s, "AnyEvent::TLS::_Session"));
    }

void
DESTROY(SV *self)
    CODE:
        if (SvROK(self))
            (void)aers_tls_ctx_free(INT2PTR(aers_tls_ctx *, SvIV(SvRV(self))));    /* (fails only after a panic: then it is left alone) */

MODULE = AnyEvent		PACKAGE = AnyEvent::TLS::_Session

void
receive(SV *self, SV *fh, IV fd)
    PPCODE:
    {
        int32_t what = 0;
        aers_tls *s = tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session");
        int st = fd_owned(aTHX_ fh, fd) ? aers_tls_receive(s, (int)fd, &what) : EBADF;
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st == EPROTO)
            tls_note_error(aTHX);
        if (st)
            RETURN_ERRNO(st);
        if (what != AERS_TLS_WOULD_BLOCK)    /* records or end of file were read */
            IO_SUCCEEDED();
        mXPUSHi(what);
    }

void
feed(SV *self, SV *data)
    PPCODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(data, len);
        int st = aers_tls_feed(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), p, len);
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st) {
            tls_note_error(aTHX);
            RETURN_ERRNO(st);
        }
        mXPUSHi(1);
    }

void
flush(SV *self, SV *fh, SV *fd)
    PPCODE:
    {
        bool done;
        int st = tls_flush(aTHX_ tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), fh, fd, &done);
        if (st)
            RETURN_ERRNO(st);
        mXPUSHi(done);
    }

# State bits: AERS_TLS_HANDSHAKING (1), AERS_TLS_WANTS_WRITE (2).
int
state(SV *self)
    CODE:
    {
        int32_t state;
        CHECK_STATUS(aers_tls_state(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), &state), "AnyEvent::TLS");
        RETVAL = state;
    }
    OUTPUT:
        RETVAL

# The deferred verdict: 0 none (Rust decided), 1 passed, 2 failed ($AnyEvent::TLS::ERROR says why).
int
take_verdict(SV *self)
    CODE:
    {
        int32_t verdict;
        CHECK_STATUS(aers_tls_take_verdict(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), &verdict), "AnyEvent::TLS");
        if (verdict == AERS_TLS_VERDICT_FAILED)
            tls_note_error(aTHX);
        RETVAL = verdict;
    }
    OUTPUT:
        RETVAL

SV *
alpn(SV *self)
    CODE:
    {
        const char *p;
        size_t len;
        CHECK_STATUS(aers_tls_alpn(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), &p, &len), "AnyEvent::TLS");
        RETVAL = p ? newSVpvn(p, len) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
version(SV *self)
    CODE:
    {
        int32_t v;
        CHECK_STATUS(aers_tls_version(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), &v), "AnyEvent::TLS");
        RETVAL = v == 0x0304 ? newSVpvs("TLSv1_3") : v == 0x0303 ? newSVpvs("TLSv1_2") : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
peer_cert(SV *self, UV idx = 0)
    CODE:
    {
        const char *p;
        size_t len;
        CHECK_STATUS(aers_tls_peer_cert(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), idx, &p, &len), "AnyEvent::TLS");
        RETVAL = p ? newSVpvn(p, len) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

void
close_notify(SV *self)
    CODE:
        CHECK_STATUS(aers_tls_close_notify(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session")), "AnyEvent::TLS");

void
DESTROY(SV *self)
    CODE:
        if (SvROK(self))
            (void)aers_tls_free(INT2PTR(aers_tls *, SvIV(SvRV(self))));    /* (as for contexts) */
