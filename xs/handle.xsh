MODULE = AnyEvent		PACKAGE = AnyEvent::Handle

PROTOTYPES: DISABLE

# Writes what the kernel takes of wbuf to fd, which must still be fh's (else EBADF); returns the
# count written, or undef with $! set.
void
_write(SV *fh, IV fd, SV *wbuf)
    PPCODE:
    {
        STRLEN len;
        size_t put = 0;
        char *p = bytes_of(aTHX_ wbuf, &len, "AnyEvent::Handle write");
        int st = fd_owned(aTHX_ fh, fd) ? aers_stream_write((int)fd, p, len, &put) : EBADF;
        CHECK_PANIC(st, "AnyEvent::Handle write");
        if (st)
            RETURN_ERRNO(st);
        IO_SUCCEEDED();
        chop_front(aTHX_ wbuf, put);
        SvSETMAGIC(wbuf);
        mXPUSHu(put);
    }

# Whether fd is still the descriptor of fh (see fd_owned).
int
_fd_owned(SV *fh, SV *fd)
    CODE:
        RETVAL = SvOK(fd) && fd_owned(aTHX_ fh, SvIV(fd));
    OUTPUT:
        RETVAL

void
_take_line(SV *rbuf, SV *eol = NULL)
    PPCODE:
    {
        STRLEN len, nlen = 0;
        size_t start, end;
        const char *p, *needle = NULL;
        bool found;
        if (!SvOK(rbuf))
            XSRETURN_EMPTY;
        p = bytes_of(aTHX_ rbuf, &len, "AnyEvent::Handle line");
        if (eol) {
            needle = SvPVbyte(eol, nlen);
            CHECK_STATUS(aers_find_marker(p, len, needle, nlen, 0, &start, &found), "AnyEvent::Handle line");
            end = start + nlen;
        } else
            CHECK_STATUS(aers_find_line_end(p, len, 0, &start, &end, &found), "AnyEvent::Handle line");
        if (!found)
            XSRETURN_EMPTY;
        EXTEND(SP, 2);
        mPUSHp(p, start);
        mPUSHp(p + start, end - start);
        chop_front(aTHX_ rbuf, end);
        SvSETMAGIC(rbuf);
    }

int
_drain_queue(SV *self)
    CODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        RETVAL = drain_queue(aTHX_ self);
    OUTPUT:
        RETVAL

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

void
_on_readable(SV *self)
    PPCODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        on_readable(aTHX_ self);
        XSRETURN_EMPTY;

void
_drain_rbuf(SV *self)
    PPCODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        drain_rbuf(aTHX_ self);
        XSRETURN_EMPTY;

void
_flush_wbuf(SV *self)
    PPCODE:
        if (!SvROK(self) || SvTYPE(SvRV(self)) != SVt_PVHV)
            croak("AnyEvent::Handle: not a handle");
        flush_wbuf(aTHX_ self);
        XSRETURN_EMPTY;

void
push_write(SV *self, ...)
    PPCODE:
        if (items != 2 || !fast_push_write(aTHX_ self, ST(1)))
            call_self_method(aTHX_ "_push_write_pp", &ST(0), items);
        XSRETURN_EMPTY;

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
read_into(SV *self, SV *rbuf, UV size)
    PPCODE:
    {
        aers_tls *s = tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session");
        UV total = 0;
        int end = 0;
        for (;;) {
            size_t got = 0;
            char *spare = spare_of(aTHX_ rbuf, size, "AnyEvent::Handle TLS read");
            int st = aers_tls_read(s, spare, size, &got);
            CHECK_PANIC(st, "AnyEvent::TLS");
            if (st == EAGAIN)
                break;
            if (st == EPIPE) { end = 2; break; }
            if (st)
                RETURN_ERRNO(st);
            if (!got) { end = 1; break; }
            grew_by(aTHX_ rbuf, got);
            total += got;
        }
        EXTEND(SP, 2);
        mPUSHu(total);
        mPUSHi(end);
    }

# How much plaintext the session took from wbuf, or undef with $! = EPROTO when it has failed.
void
write_from(SV *self, SV *wbuf)
    PPCODE:
    {
        STRLEN len;
        size_t put = 0;
        char *p = bytes_of(aTHX_ wbuf, &len, "AnyEvent::Handle TLS write");
        int st = aers_tls_write(tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session"), p, len, &put);
        CHECK_PANIC(st, "AnyEvent::TLS write");
        if (st) {
            tls_note_error(aTHX);
            RETURN_ERRNO(st);
        }
        chop_front(aTHX_ wbuf, put);
        SvSETMAGIC(wbuf);
        mXPUSHu(put);
    }

void
flush(SV *self, SV *fh, IV fd)
    PPCODE:
    {
        bool done = 0;
        aers_tls *s = tls_ptr(aTHX_ self, "AnyEvent::TLS::_Session");
        int st = fd_owned(aTHX_ fh, fd) ? aers_tls_flush(s, (int)fd, &done) : EBADF;
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st)
            RETURN_ERRNO(st);
        IO_SUCCEEDED();
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
