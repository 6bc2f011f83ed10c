/* The AnyEvent::Handle engine (declared in xs/handle.h): the one place where
 *   - typed read requests are made (make_request) and served (extract, serve_typed),
 *   - the socket is read and written (read(2), send(2): fd_read, fd_write) and the activity
 *     timestamps are kept (note_activity),
 *   - the write buffer is written out, plain or through TLS (one TLS write loop: tls_push), and
 *     the write watcher is kept (queue_write, drain_wbuf, on_writable),
 *   - rbuf is fed to the read queue and on_read (drain_rbuf).
 * The XS fast paths of push_read/unshift_read/push_write and the Perl bodies of
 * lib/AnyEvent/Handle.pm (read types, write types, the TLS state machine) call it; nothing here is
 * repeated in Perl. TLS records themselves are Rust (rust/ffi/tls.rs); the line, marker and chunk
 * scans are libc (memchr, memmem), netstrings rust/ffi/stream.rs.
 *
 * Also AnyEvent::TLS's small helpers (session and context objects). */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE    /* memmem */
#endif
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/handle.h"

/* ------------------------------------------------------------------ byte strings, objects */

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

/* ------------------------------------------------------------------ the handle's hash */

/* The keys of the handle's hash the engine uses. Each is kept as a shared-string SV with its hash
 * computed (made at boot, handle_boot): a lookup compares HEK pointers, as Perl's own
 * $self->{key} does, instead of hashing and comparing the bytes every time. (Per process, for
 * one Perl interpreter, as the rest of the glue's state: the loop, the watcher stashes.) */
#define HANDLE_KEYS(K)                                                                           \
    K(fh) K(_fd) K(rbuf) K(wbuf) K(_queue) K(_tls) K(_ww) K(_rw) K(_eof) K(on_read) K(on_eof)    \
    K(on_drain) K(rbuf_max) K(wbuf_max) K(read_size) K(max_read_size) K(autocork)                \
    K(low_water_mark) K(_skip_drain_rbuf) K(_activity) K(_ractivity) K(_wactivity)               \
    K(_tls_prelude) K(_tls_ready) K(_tls_unannounced)
#define KEY_ENUM(name) HK_##name,
#define KEY_NAME(name) #name,
enum handle_key { HANDLE_KEYS(KEY_ENUM) HK_COUNT };
static const char *const key_name[HK_COUNT] = { HANDLE_KEYS(KEY_NAME) };
static SV *key_sv[HK_COUNT];

static GV *fast_types_gv;    /* $AnyEvent::Handle::_FAST_TYPES (a GV: `local` replaces its SV) */
static HV *req_stash;        /* AnyEvent::Handle::_req */

void handle_boot(pTHX)
{
    int i;
    for (i = 0; i < HK_COUNT; i++)
        key_sv[i] = newSVpvn_share(key_name[i], (I32)strlen(key_name[i]), 0);
    fast_types_gv = gv_fetchpvs("AnyEvent::Handle::_FAST_TYPES", GV_ADD | GV_ADDMULTI, SVt_PV);
    req_stash = gv_stashpvs("AnyEvent::Handle::_req", GV_ADD);
}

#define KSV(k) key_sv[HK_##k]
#define KHASH(k) SvSHARED_HASH(key_sv[HK_##k])

/* $self->{key}: the value, or NULL when the key is missing. */
static SV *hv_value(pTHX_ HV *hv, SV *key)
{
    HE *he = hv_fetch_ent(hv, key, 0, SvSHARED_HASH(key));
    return he ? HeVAL(he) : NULL;
}
#define H_VALUE(hv, k) hv_value(aTHX_ (hv), KSV(k))
#define H_SLOT(hv, k) HeVAL(hv_fetch_ent((hv), KSV(k), 1, KHASH(k)))    /* (an lvalue: made when missing) */
#define H_TRUE(hv, k) (sv_true_(aTHX_ H_VALUE(hv, k)))
#define H_DEFINED(hv, k) (sv_defined_(H_VALUE(hv, k)))
#define H_EXISTS(hv, k) hv_exists_ent((hv), KSV(k), KHASH(k))
#define H_STORE(hv, k, v) ((void)hv_store_ent((hv), KSV(k), (v), KHASH(k)))
#define H_DELETE(hv, k) ((void)hv_delete_ent((hv), KSV(k), G_DISCARD, KHASH(k)))
static int sv_true_(pTHX_ SV *v) { return v && SvTRUE(v); }
static int sv_defined_(SV *v) { return v && SvOK(v); }

/* length($sv) in characters, 0 for a missing or undefined value. */
static STRLEN length_of(pTHX_ SV *sv)
{
    return sv && SvOK(sv) ? sv_len_utf8(sv) : 0;
}

/* Keeps the handle alive until the matching LEAVE, as `my $self = $weak` does in Perl: a callback
 * may drop the last reference to it while the engine still works on it. */
#define HOLD_HANDLE(hv) STMT_START { ENTER; SAVEFREESV(SvREFCNT_inc_simple_NN((SV *)(hv))); } STMT_END

/* local $self->{key} = value (value taken over), undone at the next LEAVE. */
static void local_helem(pTHX_ HV *self, SV *key, SV *value)
{
    U32 hash = SvSHARED_HASH(key);
    if (hv_exists_ent(self, key, hash)) {
        SV **slot = &HeVAL(hv_fetch_ent(self, key, 1, hash));
        save_helem_flags(self, key, slot, SAVEf_SETMAGIC);
    } else
        SAVEHDELETE(self, key);
    (void)hv_store_ent(self, key, value, hash);
}

/* $self->{_activity} = $self->{_ractivity or _wactivity} = AE::now. */
static void note_activity(pTHX_ HV *self, SV *dir)
{
    NV now = loop_now(aTHX);
    sv_setnv(H_SLOT(self, _activity), now);
    sv_setnv(HeVAL(hv_fetch_ent(self, dir, 1, SvSHARED_HASH(dir))), now);
}
#define READ_ACTIVITY KSV(_ractivity)
#define WRITE_ACTIVITY KSV(_wactivity)

/* ------------------------------------------------------------------ system calls */

/* One read(2) of up to len bytes (retried on EINTR): 0 with the count in *got (0: end of file),
 * or the errno. errno itself is left as it was: a failure is the caller's to report. */
static int fd_read(int fd, char *buf, size_t len, size_t *got)
{
    int saved = errno, st = 0;
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        st = errno;
    else
        *got = (size_t)n;
    errno = saved;
    return st;
}

/* One write of up to len bytes (retried on EINTR): send(2) with MSG_NOSIGNAL, so that a closed
 * peer is EPIPE and not SIGPIPE; write(2) for descriptors that are no socket. As fd_read. */
static int fd_write(int fd, const char *buf, size_t len, size_t *put)
{
    int saved = errno, st = 0;
    ssize_t n;
    do {
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        st = errno;
    else
        *put = (size_t)n;
    errno = saved;
    return st;
}

static int would_block(int st)
{
    return st == EAGAIN || st == EINTR || st == EWOULDBLOCK;
}

/* ------------------------------------------------------------------ calling Perl */

/* $cb->($self), for on_read, on_eof and on_drain. */
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

/* $cb->($self, $a[, $b]) (a and b are mortalised). */
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

/* The truth of $self->$method (method set) or of $reader->($self) (reader set). */
static int call_for_truth(pTHX_ const char *method, SV *reader, SV *self_ref)
{
    dSP;
    int n, ok;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    XPUSHs(self_ref);
    PUTBACK;
    n = method ? call_method(method, G_SCALAR) : call_sv(reader, G_SCALAR);
    SPAGAIN;
    ok = n > 0 && SvTRUE(POPs);
    PUTBACK;
    FREETMPS;
    LEAVE;
    return ok;
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

/* ------------------------------------------------------------------ typed read requests */

/* A typed read request is [kind, cb, arg] blessed into AnyEvent::Handle::_req; the drain loop
 * serves it without calling Perl reader closures. Only this file knows the kinds. */
enum req_kind { REQ_LINE = 1, REQ_MARKED_LINE, REQ_CHUNK, REQ_REGEX_LINE };

#ifdef RX_OFFSp
#  define MATCH_START(rx) (RX_OFFSp(rx)[0].start)
#  define MATCH_END(rx) (RX_OFFSp(rx)[0].end)
#else
#  define MATCH_START(rx) (RX_OFFS(rx)[0].start)
#  define MATCH_END(rx) (RX_OFFS(rx)[0].end)
#endif

/* The kind of a line request with end-of-line `eol` (NULL or undef: \015?\012), and in *arg
 * what the request keeps of it (a new SV); 0 when no typed request fits: an empty marker, one
 * with characters above 255 (the line type croaks for both), a reference other than a regex. */
static int line_kind(pTHX_ SV *eol, SV **arg)
{
    *arg = NULL;
    if (!eol || !SvOK(eol))
        return REQ_LINE;
    if (SvRXOK(eol)) {
        *arg = newSVsv(eol);
        return REQ_REGEX_LINE;
    }
    if (SvROK(eol))
        return 0;
    {
        STRLEN len;
        const char *p = SvPV(eol, len);
        SV *marker;
        if (!len)
            return 0;
        marker = newSVpvn_flags(p, len, SvUTF8(eol) ? SVf_UTF8 : 0);
        if (SvUTF8(marker) && !sv_utf8_downgrade(marker, 1)) {
            SvREFCNT_dec(marker);
            return 0;
        }
        *arg = marker;
        return REQ_MARKED_LINE;
    }
}

/* A chunk length the engine takes: a plain string of ASCII digits (or a number that reads so). */
static int plain_count(pTHX_ SV *sv)
{
    STRLEN len, i;
    const char *p;
    if (!sv || !SvOK(sv) || SvROK(sv))
        return 0;
    p = SvPV(sv, len);
    if (!len)
        return 0;
    for (i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* The typed request for a line (`line` true: args = [$eol]) or chunk (args = [$octets]) read
 * with callback cb, or NULL when it takes a reader closure (the read type's constructor in
 * Handle.pm then makes one, and croaks for what is wrong). */
static SV *make_request(pTHX_ int line, SV **args, int nargs, SV *cb)
{
    SV *arg = NULL, *req;
    AV *r;
    int kind;
    if (!SvROK(cb))
        return NULL;
    if (line)
        kind = line_kind(aTHX_ nargs ? args[0] : NULL, &arg);
    else if (nargs && plain_count(aTHX_ args[0])) {
        kind = REQ_CHUNK;
        arg = newSVsv(args[0]);
    } else
        kind = 0;
    if (!kind)
        return NULL;
    r = newAV();
    av_extend(r, 2);
    av_push(r, newSViv(kind));
    av_push(r, newSVsv(cb));
    if (arg)
        av_push(r, arg);
    req = newRV_noinc((SV *)r);
    sv_bless(req, req_stash);
    return req;
}

/* push_read/unshift_read's arguments (type, @args, cb): the typed request, or NULL. */
static SV *request_of(pTHX_ SV **args, int n)
{
    STRLEN tlen;
    const char *t;
    if (n < 2 || SvROK(args[0]) || !SvPOK(args[0])
        || !SvTRUE(GvSVn(fast_types_gv)))    /* line or chunk replaced */
        return NULL;
    t = SvPV(args[0], tlen);
    if (tlen == 4 && memEQ(t, "line", 4))
        return make_request(aTHX_ 1, args + 1, n - 2, args[n - 1]);
    if (tlen == 5 && memEQ(t, "chunk", 5))
        return make_request(aTHX_ 0, args + 1, n - 2, args[n - 1]);
    return NULL;
}

/* ------------------------------------------------------------------ extraction */

/* Takes what a request of `kind` (with `arg`, see make_request) wants off the front of rbuf:
 * 1 with the line in *a and its end in *b (new SVs; *b NULL for a chunk), 0 when rbuf does not
 * hold it yet. */
static int extract(pTHX_ SV *rbuf, int kind, SV *arg, SV **a, SV **b)
{
    STRLEN len;
    const char *p;
    size_t start, end;
    *a = *b = NULL;
    if (!SvOK(rbuf))
        return 0;
    p = bytes_of(aTHX_ rbuf, &len, "AnyEvent::Handle read");
    switch (kind) {
    case REQ_LINE: {
        const char *nl = len ? (const char *)memchr(p, '\n', len) : NULL;
        if (!nl)
            return 0;
        end = nl - p + 1;
        start = nl > p && nl[-1] == '\r' ? end - 2 : end - 1;
        break;
    }
    case REQ_MARKED_LINE: {
        STRLEN nlen;
        const char *needle = SvPV(arg, nlen);
        const char *at = len >= nlen ? (const char *)memmem(p, len, needle, nlen) : NULL;
        if (!at)
            return 0;
        start = at - p;
        end = start + nlen;
        break;
    }
    case REQ_REGEX_LINE: {
        /* as s/^(.*?)($eol)//s: the line ends at the leftmost match of the regex */
        REGEXP *rx = SvRX(arg);
        if (!rx || !pregexec(rx, (char *)p, (char *)p + len, (char *)p, 0, rbuf, 1))
            return 0;
        start = MATCH_START(rx);
        end = MATCH_END(rx);
        break;
    }
    case REQ_CHUNK: {
        UV want = SvUV(arg);
        if (want > len)
            return 0;
        *a = newSVpvn(p, want);
        chop_front(aTHX_ rbuf, want);
        SvSETMAGIC(rbuf);
        return 1;
    }
    default:
        croak("AnyEvent::Handle: corrupt read request");
    }
    *a = newSVpvn(p, start);
    *b = newSVpvn(p + start, end - start);
    chop_front(aTHX_ rbuf, end);
    SvSETMAGIC(rbuf);
    return 1;
}

int take_line(pTHX_ SV *rbuf, SV *eol, SV **line, SV **end)
{
    SV *arg;
    int kind = line_kind(aTHX_ eol, &arg), got;
    if (!kind)
        croak("AnyEvent::Handle line: not an end-of-line marker");    /* (the line type checked it) */
    if (arg)
        sv_2mortal(arg);
    got = extract(aTHX_ rbuf, kind, arg, line, end);
    return got;
}

/* Serves one typed request from rbuf: 1 done, 0 needs more data. */
static int serve_typed(pTHX_ HV *self, SV *self_ref, AV *req)
{
    SV **kind = av_fetch(req, 0, 0), **cb = av_fetch(req, 1, 0), **arg = av_fetch(req, 2, 0);
    SV *rb = H_VALUE(self, rbuf);
    SV *a, *b;
    if (!kind || !cb || !rb)
        return 0;
    if (!extract(aTHX_ rb, (int)SvIV(*kind), arg ? *arg : NULL, &a, &b))
        return 0;
    call_reader_cb(aTHX_ *cb, self_ref, a, b);
    return 1;
}

/* ------------------------------------------------------------------ the read queue */

static AV *queue_of(pTHX_ HV *self)
{
    SV *q = H_VALUE(self, _queue);
    return q && SvROK(q) && SvTYPE(SvRV(q)) == SVt_PVAV ? (AV *)SvRV(q) : NULL;
}

/* Feeds rbuf to the read queue: 0 the queue ran empty, 1 the head request waits for data,
 * 2 the handle was destroyed by a callback. */
static int drain_queue(pTHX_ SV *self_ref)
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
            done = call_for_truth(aTHX_ NULL, reader, self_ref);
        if (!H_EXISTS(self, fh))
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

int fast_push_read(pTHX_ SV **args, int n, int front)
{
    SV *self_ref = args[0], *req;
    HV *self;
    AV *queue;
    if (!SvROK(self_ref) || SvTYPE(SvRV(self_ref)) != SVt_PVHV)
        return 0;
    self = (HV *)SvRV(self_ref);
    if (!(queue = queue_of(aTHX_ self)) || !(req = request_of(aTHX_ args + 1, n - 1)))
        return 0;
    if (front) {
        av_unshift(queue, 1);
        av_store(queue, 0, req);
    } else
        av_push(queue, req);
    drain_rbuf(aTHX_ self_ref);    /* (a running drain loop serves it instead) */
    return 1;
}

/* length($self->{rbuf} //= ""): a deleted or undefined rbuf is an empty one (AnyEvent::HTTP
 * deletes it in on_read). */
static STRLEN rbuf_length(pTHX_ HV *self)
{
    SV *rbuf = H_SLOT(self, rbuf);
    if (!SvOK(rbuf))
        sv_setpvs(rbuf, "");
    return sv_len(rbuf);
}

void drain_rbuf(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    AV *queue;
    SV *cb, *max;
    if (H_TRUE(self, _skip_drain_rbuf))
        return;
    ENTER;
    /* (the saved element holds the handle until LEAVE) */
    local_helem(aTHX_ self, KSV(_skip_drain_rbuf), newSViv(1));

    for (;;) {
        STRLEN len = rbuf_length(aTHX_ self);
        queue = queue_of(aTHX_ self);
        if (queue && AvFILL(queue) >= 0) {
            int state = drain_queue(aTHX_ self_ref);    /* 0: queue empty, 1: waiting, 2: destroyed */
            if (state == 2 || !H_TRUE(self, fh))
                goto done;
            if (!state)
                continue;
            if (H_TRUE(self, _eof)) {
                fatal_error(aTHX_ self_ref, EPIPE, NULL);    /* a request never to be satisfied */
                goto done;
            }
            break;
        } else if ((cb = H_VALUE(self, on_read)) && SvTRUE(cb)) {
            if (!len)
                break;
            call_self_cb(aTHX_ cb, self_ref);
            if (!H_TRUE(self, fh))
                goto done;
            queue = queue_of(aTHX_ self);
            if (len != rbuf_length(aTHX_ self) || (queue && AvFILL(queue) >= 0))
                continue;
            if (H_TRUE(self, _eof)) {
                fatal_error(aTHX_ self_ref, EPIPE, NULL);    /* on_read left data it will never see again */
                goto done;
            }
            break;
        } else {
            if (!H_TRUE(self, _tls))    /* nobody wants data: stop reading */
                H_DELETE(self, _rw);
            break;
        }
    }

    if (H_TRUE(self, _eof)) {
        if ((cb = H_VALUE(self, on_eof)) && SvTRUE(cb))
            call_self_cb(aTHX_ cb, self_ref);
        else
            fatal_error(aTHX_ self_ref, 0, "Unexpected end-of-file");
        goto done;
    }
    if ((max = H_VALUE(self, rbuf_max)) && SvOK(max) && SvNV(max) < (NV)rbuf_length(aTHX_ self)) {
        fatal_error(aTHX_ self_ref, ENOSPC, NULL);
        goto done;
    }
    queue = queue_of(aTHX_ self);
    if (H_TRUE(self, fh) && !H_TRUE(self, _rw)
        && (((cb = H_VALUE(self, on_read)) && SvTRUE(cb)) || (queue && AvFILL(queue) >= 0)))
        call_self_method(aTHX_ "start_read", &self_ref, 1);
done:
    LEAVE;
    /* what the callbacks pushed leaves now, in one write (unless the handle is gone) */
    if (SvROK(self_ref) && SvTYPE(SvRV(self_ref)) == SVt_PVHV && H_TRUE((HV *)SvRV(self_ref), fh))
        drain_wbuf(aTHX_ self_ref);
}

/* ------------------------------------------------------------------ reading */

void on_readable(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    SV *fd, *size_sv, *max, *rbuf;
    UV size;
    size_t got = 0;
    int st;
    if (H_TRUE(self, _tls)) {
        call_self_method(aTHX_ "_tls_receive", &self_ref, 1);
        return;
    }
    fd = H_VALUE(self, _fd);
    size_sv = H_VALUE(self, read_size);
    if (!fd || !SvOK(fd) || !size_sv || !(size = SvUV(size_sv)))
        return;    /* not started, or destroyed */
    if (!fd_owned(aTHX_ H_VALUE(self, fh), SvIV(fd))) {
        fatal_error(aTHX_ self_ref, EBADF, NULL);
        return;
    }
    rbuf = H_SLOT(self, rbuf);
    st = fd_read((int)SvIV(fd), spare_of(aTHX_ rbuf, size, "AnyEvent::Handle read"), size, &got);
    if (st) {
        if (!would_block(st))
            fatal_error(aTHX_ self_ref, st, NULL);
        return;
    }
    IO_SUCCEEDED();
    if (got) {
        grew_by(aTHX_ rbuf, got);
        note_activity(aTHX_ self, READ_ACTIVITY);
        max = H_VALUE(self, max_read_size);
        if (got == size && max && size < SvUV(max))
            H_STORE(self, read_size, newSVuv(size * 2));
    } else {
        H_DELETE(self, _rw);
        H_STORE(self, _eof, newSViv(1));
    }
    drain_rbuf(aTHX_ self_ref);
}

static aers_tls *session_of(pTHX_ HV *self)
{
    return tls_ptr(aTHX_ H_VALUE(self, _tls), "AnyEvent::TLS::_Session");
}

int tls_read(pTHX_ HV *self, UV *total, int *end)
{
    aers_tls *s = session_of(aTHX_ self);
    SV *rbuf = H_SLOT(self, rbuf), *size_sv = H_VALUE(self, read_size);
    UV size = size_sv ? SvUV(size_sv) : 0;
    *total = 0;
    *end = 0;
    if (!size)
        size = 2048;
    for (;;) {
        size_t got = 0;
        char *spare = spare_of(aTHX_ rbuf, size, "AnyEvent::Handle TLS read");
        int st = aers_tls_read(s, spare, size, &got);
        CHECK_PANIC(st, "AnyEvent::TLS");
        if (st == EAGAIN)
            break;
        if (st == EPIPE) {
            *end = 2;
            break;
        }
        if (st)
            return st;
        if (!got) {
            *end = 1;
            break;
        }
        grew_by(aTHX_ rbuf, got);
        *total += got;
    }
    if (*total)
        note_activity(aTHX_ self, READ_ACTIVITY);
    return 0;
}

/* ------------------------------------------------------------------ writing */

int write_plain(pTHX_ SV *fh, SV *fd, SV *buf, size_t *put)
{
    STRLEN len;
    char *p;
    int st;
    *put = 0;
    if (!SvOK(buf))
        return 0;
    p = bytes_of(aTHX_ buf, &len, "AnyEvent::Handle write");
    st = fd && SvOK(fd) && fd_owned(aTHX_ fh, SvIV(fd)) ? fd_write((int)SvIV(fd), p, len, put) : EBADF;
    if (st)
        return st;
    IO_SUCCEEDED();
    chop_front(aTHX_ buf, *put);
    SvSETMAGIC(buf);
    return 0;
}

int tls_flush(pTHX_ aers_tls *s, SV *fh, SV *fd, bool *done)
{
    int st;
    *done = 0;
    st = fd && SvOK(fd) && fd_owned(aTHX_ fh, SvIV(fd)) ? aers_tls_flush(s, (int)SvIV(fd), done) : EBADF;
    CHECK_PANIC(st, "AnyEvent::TLS");
    if (!st)
        IO_SUCCEEDED();
    return st;
}

int tls_push(pTHX_ aers_tls *s, SV *fh, SV *fd, SV *wbuf)
{
    bool done;
    int st;
    while (length_of(aTHX_ wbuf)) {
        STRLEN len;
        size_t put = 0;
        char *p = bytes_of(aTHX_ wbuf, &len, "AnyEvent::Handle TLS write");
        st = aers_tls_write(s, p, len, &put);
        CHECK_PANIC(st, "AnyEvent::TLS write");
        if (st) {
            tls_note_error(aTHX);
            return st;
        }
        chop_front(aTHX_ wbuf, put);
        SvSETMAGIC(wbuf);
        if (!put)
            break;
        if ((st = tls_flush(aTHX_ s, fh, fd, &done)))
            return st;
        if (!done)
            break;
    }
    return tls_flush(aTHX_ s, fh, fd, &done);
}

int tls_send(pTHX_ HV *self)
{
    SV *fh = H_VALUE(self, fh), *fd = H_VALUE(self, _fd), *prelude = H_VALUE(self, _tls_prelude);
    aers_tls *s = session_of(aTHX_ self);
    if (prelude && SvOK(prelude) && length_of(aTHX_ prelude)) {    /* cleartext that preceded starttls goes first */
        size_t put;
        int st = write_plain(aTHX_ fh, fd, prelude, &put);
        if (st)
            return st;
        if (length_of(aTHX_ prelude))
            return 0;
        H_DELETE(self, _tls_prelude);
    }
    return tls_push(aTHX_ s, fh, fd, H_TRUE(self, _tls_ready) ? H_VALUE(self, wbuf) : NULL);
}

int wants_write(pTHX_ HV *self)
{
    int32_t state;
    if (!H_TRUE(self, _tls))
        return length_of(aTHX_ H_VALUE(self, wbuf)) > 0;
    if (length_of(aTHX_ H_VALUE(self, _tls_prelude)))
        return 1;
    CHECK_STATUS(aers_tls_state(session_of(aTHX_ self), &state), "AnyEvent::TLS");
    if (state & AERS_TLS_WANTS_WRITE)
        return 1;
    return H_TRUE(self, _tls_ready) && length_of(aTHX_ H_VALUE(self, wbuf));
}

/* Writes what it can: a plain handle's wbuf, or for TLS the prelude, plaintext once the
 * handshake is done, and the session's records. 0 with in *wrote whether it counts as write
 * activity, or an errno. */
static int write_out(pTHX_ HV *self, int *wrote)
{
    int st;
    size_t put = 0;
    if (H_TRUE(self, _tls)) {
        st = tls_send(aTHX_ self);
        *wrote = !st;
        return st;
    }
    st = write_plain(aTHX_ H_VALUE(self, fh), H_VALUE(self, _fd), H_SLOT(self, wbuf), &put);
    *wrote = put > 0;
    return st;
}

/* Whether the write buffer counts as empty for on_drain: at most low_water_mark octets (TLS:
 * plaintext still to be encrypted). */
int drained(pTHX_ HV *self)
{
    SV *lwm = H_VALUE(self, low_water_mark);
    return (lwm && SvTRUE(lwm) ? SvNV(lwm) : 0) >= (NV)length_of(aTHX_ H_VALUE(self, wbuf));
}

void on_writable(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    HOLD_HANDLE(self);
    for (;;) {
        int wrote, st = write_out(aTHX_ self, &wrote);
        SV *cb;
        if (st) {
            if (!would_block(st))
                fatal_error(aTHX_ self_ref, st, NULL);
            break;
        }
        if (wrote)
            note_activity(aTHX_ self, WRITE_ACTIVITY);
        if (H_TRUE(self, _tls_unannounced)) {
            int32_t state;
            CHECK_STATUS(aers_tls_state(session_of(aTHX_ self), &state), "AnyEvent::TLS");
            if (!(state & AERS_TLS_WANTS_WRITE)
                && !call_for_truth(aTHX_ "_tls_announce", NULL, self_ref))
                break;    /* our last handshake flight is out; on_starttls closed the handle or TLS */
        }
        if ((cb = H_VALUE(self, on_drain)) && SvTRUE(cb)) {
            SV *ww = H_VALUE(self, _ww);
            STRLEN before = length_of(aTHX_ H_VALUE(self, wbuf));
            if (drained(aTHX_ self)) {
                /* What on_drain pushes is written by this loop rather than by a nested writer: a
                 * body streamed chunk by chunk from on_drain (Twiggy) is written as promptly as
                 * with AnyEvent 7.17, without a recursion per chunk. */
                ENTER;
                local_helem(aTHX_ self, KSV(_ww), ww && SvTRUE(ww) ? newSVsv(ww) : newSViv(1));
                call_self_cb(aTHX_ cb, self_ref);
                LEAVE;
                if (!H_TRUE(self, fh))
                    break;
                if (wrote && length_of(aTHX_ H_VALUE(self, wbuf)) > before)
                    continue;
            }
        }
        if (!wants_write(aTHX_ self))
            H_DELETE(self, _ww);
        break;
    }
    LEAVE;
}

void drain_wbuf(pTHX_ SV *self_ref)
{
    HV *self = (HV *)SvRV(self_ref);
    if (H_TRUE(self, _ww) || !wants_write(aTHX_ self))
        return;
    HOLD_HANDLE(self);
    if (!H_TRUE(self, autocork))
        on_writable(aTHX_ self_ref);
    if (H_TRUE(self, fh) && !H_TRUE(self, _ww) && wants_write(aTHX_ self)) {
        SV *fd = H_VALUE(self, _fd);
        if (!fd || !SvOK(fd) || !fd_owned(aTHX_ H_VALUE(self, fh), SvIV(fd)))
            fatal_error(aTHX_ self_ref, EBADF, NULL);
        else
            call_self_method(aTHX_ "_watch_write", &self_ref, 1);
    }
    LEAVE;
}

void queue_write(pTHX_ SV *self_ref, SV *data)
{
    HV *self = (HV *)SvRV(self_ref);
    SV *wbuf = H_SLOT(self, wbuf), *max;
    if (SvUTF8(data)) {    /* octets only: croak at the call, before anything is queued */
        data = sv_mortalcopy(data);
        if (!sv_utf8_downgrade(data, 1))
            croak_caller(aTHX_ "AnyEvent::Handle write: wide character in the buffer");
    }
    if (!SvOK(wbuf))
        sv_setpvs(wbuf, "");
    sv_catsv_mg(wbuf, data);
    if (!H_TRUE(self, fh))
        return;
    HOLD_HANDLE(self);
    /* Inside drain_rbuf's callbacks the write waits for the end of the drain (unless wbuf_max
     * has to be judged on what is really left). */
    if (!H_TRUE(self, _ww) && !(H_TRUE(self, _skip_drain_rbuf) && !H_DEFINED(self, wbuf_max)))
        drain_wbuf(aTHX_ self_ref);
    if ((max = H_VALUE(self, wbuf_max)) && SvOK(max) && H_TRUE(self, fh)
        && SvNV(max) < (NV)length_of(aTHX_ H_VALUE(self, wbuf)))
        fatal_error(aTHX_ self_ref, ENOSPC, NULL);
    LEAVE;
}
