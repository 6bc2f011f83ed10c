/* AnyEvent::Handle and AnyEvent::TLS glue (declared in xs/handle.h). */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/handle.h"

char *bytes_of(pTHX_ SV *sv, STRLEN *len, const char *who)
{
    if (SvUTF8(sv) && !sv_utf8_downgrade(sv, 1))
        croak_caller(aTHX_ "%s: wide character in the buffer", who);
    return SvPV_force(sv, *len);
}

char *spare_of(pTHX_ SV *sv, STRLEN size, const char *who)
{
    STRLEN len;
    if (!SvOK(sv))
        sv_setpvs(sv, "");
    bytes_of(aTHX_ sv, &len, who);
    return SvGROW(sv, len + size + 1) + len;
}

void grew_by(pTHX_ SV *sv, STRLEN n)
{
    SvCUR_set(sv, SvCUR(sv) + n);
    *SvEND(sv) = 0;
    SvSETMAGIC(sv);
}

void chop_front(pTHX_ SV *sv, STRLEN n)
{
    if (n == SvCUR(sv)) {
        SvCUR_set(sv, 0);
        *SvPVX(sv) = 0;
    } else if (n)
        sv_chop(sv, SvPVX(sv) + n);
}

int fd_owned(pTHX_ SV *fh, IV fd)
{
    return fh && fd >= 0 && fh_fileno(aTHX_ fh) == fd;
}

void *tls_ptr(pTHX_ SV *obj, const char *class)
{
    if (!SvROK(obj) || !sv_derived_from(obj, class))
        croak_caller(aTHX_ "not a %s object", class);
    return INT2PTR(void *, SvIV(SvRV(obj)));
}

SV *tls_wrap(pTHX_ void *p, const char *class)
{
    return sv_bless(newRV_noinc(newSViv(PTR2IV(p))), gv_stashpv(class, GV_ADD));
}

void tls_note_error(pTHX)
{
    char buf[1024];
    last_error(buf, sizeof buf);
    sv_setpv(get_sv("AnyEvent::TLS::ERROR", GV_ADD), buf);
}

/* Typed read requests ([kind, cb, arg] blessed into AnyEvent::Handle::_req) that the drain
 * loop serves without calling Perl reader closures. */
enum { REQ_LINE = 1, REQ_MARKED_LINE = 2, REQ_CHUNK = 3, REQ_REGEX_LINE = 4 };

#ifdef RX_OFFSp
#  define MATCH_START(rx) (RX_OFFSp(rx)[0].start)
#  define MATCH_END(rx) (RX_OFFSp(rx)[0].end)
#else
#  define MATCH_START(rx) (RX_OFFS(rx)[0].start)
#  define MATCH_END(rx) (RX_OFFS(rx)[0].end)
#endif

/* $cb->($self), for on_read and on_eof. */
static void call_self_cb(pTHX_ SV *cb, SV *self_ref)
{
    dSP;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    XPUSHs(self_ref);
    PUTBACK;
    call_sv(cb, G_VOID | G_DISCARD);
    FREETMPS;
    LEAVE;
}

static void call_reader_cb(pTHX_ SV *cb, SV *self_ref, SV *a, SV *b)
{
    dSP;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    EXTEND(SP, 3);
    PUSHs(self_ref);
    mPUSHs(a);
    if (b)
        mPUSHs(b);
    PUTBACK;
    call_sv(cb, G_VOID | G_DISCARD);
    FREETMPS;
    LEAVE;
}

/* Serves one typed request from rbuf: 1 done, 0 needs more data. */
static int serve_typed(pTHX_ HV *self, SV *self_ref, AV *req)
{
    SV **kind = av_fetch(req, 0, 0), **cb = av_fetch(req, 1, 0), **arg = av_fetch(req, 2, 0);
    SV **rb = hv_fetchs(self, "rbuf", 0);
    SV *rbuf;
    STRLEN len;
    const char *p;
    size_t start, end;
    bool found;
    if (!kind || !cb || !rb || !SvOK(*rb))
        return 0;
    rbuf = *rb;
    p = bytes_of(aTHX_ rbuf, &len, "AnyEvent::Handle read");
    switch (SvIV(*kind)) {
    case REQ_LINE:
        CHECK_STATUS(aers_find_line_end(p, len, 0, &start, &end, &found), "AnyEvent::Handle read");
        if (!found)
            return 0;
        break;
    case REQ_MARKED_LINE: {
        STRLEN nlen;
        const char *needle = SvPVbyte(*arg, nlen);
        CHECK_STATUS(aers_find_marker(p, len, needle, nlen, 0, &start, &found), "AnyEvent::Handle read");
        if (!found)
            return 0;
        end = start + nlen;
        break;
    }
    case REQ_REGEX_LINE: {
        /* as s/^(.*?)($eol)//s: the line ends at the leftmost match of the regex */
        REGEXP *rx = SvRX(*arg);
        if (!rx || !pregexec(rx, (char *)p, (char *)p + len, (char *)p, 0, rbuf, 1))
            return 0;
        start = MATCH_START(rx);
        end = MATCH_END(rx);
        break;
    }
    case REQ_CHUNK: {
        UV want = SvUV(*arg);
        SV *data;
        if (want > len)
            return 0;
        data = newSVpvn(p, want);
        chop_front(aTHX_ rbuf, want);
        SvSETMAGIC(rbuf);
        call_reader_cb(aTHX_ *cb, self_ref, data, NULL);
        return 1;
    }
    default:
        croak("AnyEvent::Handle: corrupt read request");
    }
    {
        SV *line = newSVpvn(p, start);
        SV *eol = newSVpvn(p + start, end - start);
        chop_front(aTHX_ rbuf, end);
        SvSETMAGIC(rbuf);
        call_reader_cb(aTHX_ *cb, self_ref, line, eol);
    }
    return 1;
}

/* Calls a reader closure with the handle; returns its truth. */
static int call_reader(pTHX_ SV *reader, SV *self_ref)
{
    dSP;
    int ok, n;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    XPUSHs(self_ref);
    PUTBACK;
    n = call_sv(reader, G_SCALAR);
    SPAGAIN;
    ok = n > 0 && SvTRUE(POPs);
    PUTBACK;
    FREETMPS;
    LEAVE;
    return ok;
}

static AV *queue_of(pTHX_ HV *self)
{
    SV **q = hv_fetchs(self, "_queue", 0);
    return q && SvROK(*q) && SvTYPE(SvRV(*q)) == SVt_PVAV ? (AV *)SvRV(*q) : NULL;
}

int drain_queue(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    for (;;) {
        AV *queue = queue_of(aTHX_ self);
        SV *reader;
        int done;
        if (!queue)
            return 2;
        if (AvFILL(queue) < 0)
            return 0;
        reader = sv_2mortal(av_shift(queue));
        if (SvROK(reader) && SvOBJECT(SvRV(reader)) && SvTYPE(SvRV(reader)) == SVt_PVAV)
            done = serve_typed(aTHX_ self, self_ref, (AV *)SvRV(reader));
        else
            done = call_reader(aTHX_ reader, self_ref);
        if (!hv_exists(self, "fh", 2))
            return 2;
        if (!done) {
            if (!(queue = queue_of(aTHX_ self)))
                return 2;
            av_unshift(queue, 1);
            av_store(queue, 0, SvREFCNT_inc_simple_NN(reader));
            return 1;
        }
    }
}

/* Fast paths of push_read/unshift_read/push_write for the common cases (plain line, line with
 * a marker, chunk; plain bytes on a non-TLS handle). Anything else returns 0 and the XSUB
 * hands the call to the Perl body (_push_read_pp etc.), so semantics stay in one place. */

static SV *hv_value(pTHX_ HV *hv, const char *key, I32 klen)
{
    SV **v = hv_fetch(hv, key, klen, 0);
    return v ? *v : NULL;
}
#define HV_TRUE(hv, key) (hv_true_(aTHX_ hv_value(aTHX_ (hv), key, sizeof(key) - 1)))
static int hv_true_(pTHX_ SV *v) { return v && SvTRUE(v); }

static int all_digits(pTHX_ SV *sv)
{
    STRLEN len, i;
    const char *p;
    if (!SvOK(sv) || SvROK(sv))
        return 0;
    p = SvPV(sv, len);
    if (!len)
        return 0;
    for (i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* The typed request for (line [, eol], cb) or (chunk, n, cb), or NULL to leave it to Perl. */
static SV *fast_request(pTHX_ SV **args, int n)
{
    SV *type, *cb, *arg = NULL, *req;
    AV *r;
    int kind;
    STRLEN tlen;
    const char *t;
    if (n < 2 || n > 3 || !SvTRUE(get_sv("AnyEvent::Handle::_FAST_TYPES", GV_ADD)))
        return NULL;
    type = args[0];
    cb = args[n - 1];
    if (!SvROK(cb) || SvTYPE(SvRV(cb)) != SVt_PVCV || SvROK(type) || !SvPOK(type))
        return NULL;
    t = SvPV(type, tlen);
    if (tlen == 4 && memEQ(t, "line", 4)) {
        if (n == 2 || !SvOK(args[1]))
            kind = REQ_LINE;
        else if (!SvROK(args[1]) && !SvUTF8(args[1]) && SvPOK(args[1]) && SvCUR(args[1])) {
            kind = REQ_MARKED_LINE;
            arg = args[1];
        } else if (SvRXOK(args[1])) {
            kind = REQ_REGEX_LINE;
            arg = args[1];
        } else
            return NULL;
    } else if (tlen == 5 && memEQ(t, "chunk", 5) && n == 3 && all_digits(aTHX_ args[1])) {
        kind = REQ_CHUNK;
        arg = args[1];
    } else
        return NULL;
    r = newAV();
    av_extend(r, 2);
    av_push(r, newSViv(kind));
    av_push(r, newSVsv(cb));
    if (arg)
        av_push(r, newSVsv(arg));
    req = newRV_noinc((SV *)r);
    sv_bless(req, gv_stashpvs("AnyEvent::Handle::_req", GV_ADD));
    return req;
}

void call_self_method(pTHX_ const char *method, SV **args, int n)
{
    dSP;
    int i;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    EXTEND(SP, n);
    for (i = 0; i < n; i++)
        PUSHs(args[i]);
    PUTBACK;
    call_method(method, G_VOID | G_DISCARD);
    FREETMPS;
    LEAVE;
}

/* $self->_error($errno, 1[, $message]): a fatal error. */
static void fatal_error(pTHX_ SV *self_ref, int err, const char *message)
{
    SV *args[4];
    args[0] = self_ref;
    args[1] = sv_2mortal(newSViv(err));
    args[2] = &PL_sv_yes;
    args[3] = message ? sv_2mortal(newSVpv(message, 0)) : NULL;
    call_self_method(aTHX_ "_error", args, message ? 4 : 3);
}

int fast_push_read(pTHX_ SV **args, int n, int front)
{
    SV *self_ref = args[0], *req;
    HV *self;
    AV *queue;
    if (!SvROK(self_ref) || SvTYPE(SvRV(self_ref)) != SVt_PVHV)
        return 0;
    self = (HV *)SvRV(self_ref);
    if (!(queue = queue_of(aTHX_ self)) || !(req = fast_request(aTHX_ args + 1, n - 1)))
        return 0;
    if (front) {
        av_unshift(queue, 1);
        av_store(queue, 0, req);
    } else
        av_push(queue, req);
    drain_rbuf(aTHX_ self_ref);    /* (a running drain loop serves it instead) */
    return 1;
}

/* The handle's write buffer when the C paths may serve it: a plain (non-TLS, uncorked,
 * unlimited) open handle whose wbuf is a plain byte string; else NULL. */
static SV *plain_wbuf(pTHX_ HV *self)
{
    SV **wb;
    if (!HV_TRUE(self, "fh") || HV_TRUE(self, "_tls") || HV_TRUE(self, "autocork")
        || (hv_value(aTHX_ self, "wbuf_max", 8) && SvOK(hv_value(aTHX_ self, "wbuf_max", 8))))
        return NULL;
    wb = hv_fetchs(self, "wbuf", 0);
    if (!wb || SvUTF8(*wb) || SvROK(*wb) || SvMAGICAL(*wb) || SvREADONLY(*wb))
        return NULL;
    if (!SvOK(*wb))
        sv_setpvs(*wb, "");
    return *wb;
}

/* Writes what it can of wbuf now. 1 when served here (everything written, or the rest handed to
 * the Perl _drain_wbuf after EAGAIN, an error or a partial write), 0 when the Perl path must do
 * it all (on_drain is set, or no descriptor). */
static int write_now(pTHX_ SV *self_ref, HV *self, SV *wbuf)
{
    SV *fd;
    STRLEN len;
    char *p;
    size_t put = 0;
    int st;
    if (HV_TRUE(self, "on_drain") || !(fd = hv_value(aTHX_ self, "_fd", 3)) || !SvIOK(fd))
        return 0;
    p = SvPV_force(wbuf, len);
    st = fd_owned(aTHX_ hv_value(aTHX_ self, "fh", 2), SvIV(fd)) ? aers_stream_write((int)SvIV(fd), p, len, &put) : EBADF;
    CHECK_PANIC(st, "AnyEvent::Handle write");
    if (!st) {
        IO_SUCCEEDED();
        chop_front(aTHX_ wbuf, put);
        if (put) {
            NV now = loop_now(aTHX);
            (void)hv_stores(self, "_activity", newSVnv(now));
            (void)hv_stores(self, "_wactivity", newSVnv(now));
        }
    }
    if (st && st != EAGAIN && st != EINTR && st != EWOULDBLOCK)
        fatal_error(aTHX_ self_ref, st, NULL);
    else if (st || SvCUR(wbuf))    /* EAGAIN or a partial write: the write watcher takes over */
        call_self_method(aTHX_ "_drain_wbuf", &self_ref, 1);
    return 1;
}

int fast_push_write(pTHX_ SV *self_ref, SV *data)
{
    HV *self;
    SV *wbuf;
    STRLEN dlen;
    const char *d;
    if (!SvROK(self_ref) || SvTYPE(SvRV(self_ref)) != SVt_PVHV || !SvOK(data) || SvROK(data)
        || SvUTF8(data))
        return 0;
    self = (HV *)SvRV(self_ref);
    if (!(wbuf = plain_wbuf(aTHX_ self)))
        return 0;
    if (!HV_TRUE(self, "_ww") && !HV_TRUE(self, "_skip_drain_rbuf")
        && (HV_TRUE(self, "on_drain") || !hv_value(aTHX_ self, "_fd", 3)))
        return 0;
    d = SvPV(data, dlen);
    sv_catpvn(wbuf, d, dlen);
    if (HV_TRUE(self, "_ww") || HV_TRUE(self, "_skip_drain_rbuf"))
        return 1;
    return write_now(aTHX_ self_ref, self, wbuf);
}

void flush_wbuf(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    SV *wbuf;
    if (!HV_TRUE(self, "fh") || HV_TRUE(self, "_ww"))
        return;
    wbuf = plain_wbuf(aTHX_ self);
    if (wbuf && !SvCUR(wbuf))
        return;
    if (!wbuf || !write_now(aTHX_ self_ref, self, wbuf))
        call_self_method(aTHX_ "_drain_wbuf", &self_ref, 1);
}

void on_readable(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    SV *fd, *size_sv, *max, *rbuf;
    UV size;
    size_t got = 0;
    int st;
    if (HV_TRUE(self, "_tls")) {
        call_self_method(aTHX_ "_tls_receive", &self_ref, 1);
        return;
    }
    fd = hv_value(aTHX_ self, "_fd", 3);
    size_sv = hv_value(aTHX_ self, "read_size", 9);
    if (!fd || !SvOK(fd) || !size_sv || !(size = SvUV(size_sv)))
        return;    /* not started, or destroyed */
    if (!fd_owned(aTHX_ hv_value(aTHX_ self, "fh", 2), SvIV(fd))) {
        fatal_error(aTHX_ self_ref, EBADF, NULL);
        return;
    }
    rbuf = *hv_fetchs(self, "rbuf", 1);
    st = aers_stream_read((int)SvIV(fd), spare_of(aTHX_ rbuf, size, "AnyEvent::Handle read"), size, &got);
    CHECK_PANIC(st, "AnyEvent::Handle read");
    if (st) {
        if (st != EAGAIN && st != EINTR && st != EWOULDBLOCK)
            fatal_error(aTHX_ self_ref, st, NULL);
        return;
    }
    IO_SUCCEEDED();
    if (got) {
        NV now = loop_now(aTHX);
        grew_by(aTHX_ rbuf, got);
        (void)hv_stores(self, "_activity", newSVnv(now));
        (void)hv_stores(self, "_ractivity", newSVnv(now));
        max = hv_value(aTHX_ self, "max_read_size", 13);
        if (got == size && max && size < SvUV(max))
            (void)hv_stores(self, "read_size", newSVuv(size * 2));
    } else {
        (void)hv_delete(self, "_rw", 3, G_DISCARD);
        (void)hv_stores(self, "_eof", newSViv(1));
    }
    drain_rbuf(aTHX_ self_ref);
}


/* length($self->{rbuf} //= ""): a deleted or undefined rbuf is an empty one (AnyEvent::HTTP
 * deletes it in on_read). */
static STRLEN rbuf_length(pTHX_ HV *self)
{
    SV *rbuf = *hv_fetchs(self, "rbuf", 1);
    if (!SvOK(rbuf))
        sv_setpvs(rbuf, "");
    return sv_len(rbuf);
}

void drain_rbuf(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    SV *key;
    AV *queue;
    SV *cb, *max;
    if (HV_TRUE(self, "_skip_drain_rbuf"))
        return;
    ENTER;
    key = newSVpvs_flags("_skip_drain_rbuf", SVs_TEMP);
    if (hv_exists_ent(self, key, 0)) {
        SV **slot = hv_fetchs(self, "_skip_drain_rbuf", 1);
        save_helem_flags(self, key, slot, SAVEf_SETMAGIC);
    } else
        SAVEHDELETE(self, key);
    (void)hv_stores(self, "_skip_drain_rbuf", newSViv(1));

    for (;;) {
        STRLEN len = rbuf_length(aTHX_ self);
        queue = queue_of(aTHX_ self);
        if (queue && AvFILL(queue) >= 0) {
            int state = drain_queue(aTHX_ self_ref);    /* 0: queue empty, 1: waiting, 2: destroyed */
            if (state == 2 || !HV_TRUE(self, "fh"))
                goto done;
            if (!state)
                continue;
            if (HV_TRUE(self, "_eof")) {
                fatal_error(aTHX_ self_ref, EPIPE, NULL);    /* a request never to be satisfied */
                goto done;
            }
            break;
        } else if ((cb = hv_value(aTHX_ self, "on_read", 7)) && SvTRUE(cb)) {
            if (!len)
                break;
            call_self_cb(aTHX_ cb, self_ref);
            if (!HV_TRUE(self, "fh"))
                goto done;
            queue = queue_of(aTHX_ self);
            if (len != rbuf_length(aTHX_ self) || (queue && AvFILL(queue) >= 0))
                continue;
            if (HV_TRUE(self, "_eof")) {
                fatal_error(aTHX_ self_ref, EPIPE, NULL);    /* on_read left data it will never see again */
                goto done;
            }
            break;
        } else {
            if (!HV_TRUE(self, "_tls"))    /* nobody wants data: stop reading */
                (void)hv_delete(self, "_rw", 3, G_DISCARD);
            break;
        }
    }

    if (HV_TRUE(self, "_eof")) {
        if ((cb = hv_value(aTHX_ self, "on_eof", 6)) && SvTRUE(cb))
            call_self_cb(aTHX_ cb, self_ref);
        else
            fatal_error(aTHX_ self_ref, 0, "Unexpected end-of-file");
        goto done;
    }
    if ((max = hv_value(aTHX_ self, "rbuf_max", 8)) && SvOK(max) && SvNV(max) < (NV)rbuf_length(aTHX_ self)) {
        fatal_error(aTHX_ self_ref, ENOSPC, NULL);
        goto done;
    }
    queue = queue_of(aTHX_ self);
    if (HV_TRUE(self, "fh") && !HV_TRUE(self, "_rw")
        && (((cb = hv_value(aTHX_ self, "on_read", 7)) && SvTRUE(cb)) || (queue && AvFILL(queue) >= 0)))
        call_self_method(aTHX_ "start_read", &self_ref, 1);
done:
    LEAVE;
    if (SvROK(self_ref) && SvTYPE(SvRV(self_ref)) == SVt_PVHV)
        flush_wbuf(aTHX_ self_ref);
}
