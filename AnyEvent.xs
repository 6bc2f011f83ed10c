/* XS glue between Perl and the Rust core (the C ABI of rust/ffi/, declared in aers.h).
 *
 * This file: the loop and its watchers (argument conversion, watcher objects: a blessed
 * reference to a scalar holding the Rust watcher key; reference counting of callbacks; calling
 * the ready callbacks the loop hands out), the constants Perl gets from C (ae_constants, the
 * condvar keys) and the helpers every area shares (xs/glue.h). The loop's logic is Rust
 * (rust/event_loop.rs); the other areas keep their glue in xs/<area>.c (C functions, declared
 * in xs/<area>.h) and xs/<area>.xsh (their XSUBs, INCLUDEd at the end); AnyEvent::Handle's
 * engine is C (xs/handle.c). */

#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <string.h>
#include <fcntl.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/socket.h"
#include "xs/dns.h"
#include "xs/handle.h"
#include "xs/log.h"
#include "xs/fileio.h"
#include "xs/embed.h"

aers_loop *THE_LOOP;

static const char *const kind_class[KIND_COUNT] = {
    "AnyEvent::Impl::Rust::io", "AnyEvent::Impl::Rust::timer", "AnyEvent::Impl::Rust::signal",
    "AnyEvent::Impl::Rust::child", "AnyEvent::Impl::Rust::idle",
};
static int (*const kind_stop[KIND_COUNT])(aers_loop *, uint64_t, void **) = {
    aers_io_stop, aers_timer_stop, aers_signal_stop, aers_child_stop, aers_idle_stop,
};
static HV *kind_stash[KIND_COUNT];

/* The numbers of the Rust ABI (aers.h) the Perl modules use, installed as constant subs at
 * boot (as EV.xs does): Perl never repeats them. */
static const struct { const char *pkg, *name; IV value; } ae_constants[] = {
    { "AnyEvent::TLS", "_TLS12", AERS_TLS12 },
    { "AnyEvent::TLS", "_TLS13", AERS_TLS13 },
    { "AnyEvent::TLS", "_VERIFY", AERS_TLS_VERIFY },
    { "AnyEvent::TLS", "_REQUIRE_CLIENT_CERT", AERS_TLS_REQUIRE_CLIENT_CERT },
    { "AnyEvent::TLS", "_CHECK_PEERNAME", AERS_TLS_CHECK_PEERNAME },
    { "AnyEvent::TLS", "_DEFER_VERDICT", AERS_TLS_DEFER_VERDICT },
    { "AnyEvent::TLS", "_CLIENT_TICKETS", AERS_TLS_CLIENT_TICKETS },
    { "AnyEvent::TLS", "_SERVER_TICKETS", AERS_TLS_SERVER_TICKETS },
    { "AnyEvent::Handle", "_TLS_HANDSHAKING", AERS_TLS_HANDSHAKING },
    { "AnyEvent::Handle", "_TLS_WANTS_WRITE", AERS_TLS_WANTS_WRITE },
    { "AnyEvent::Handle", "_TLS_RECORDS", AERS_TLS_RECORDS },
    { "AnyEvent::Handle", "_TLS_WOULD_BLOCK", AERS_TLS_WOULD_BLOCK },
    { "AnyEvent::Handle", "_TLS_EOF", AERS_TLS_EOF },
    { "AnyEvent::Handle", "_TLS_VERDICT_NONE", AERS_TLS_VERDICT_NONE },
    { "AnyEvent::Handle", "_TLS_VERDICT_PASSED", AERS_TLS_VERDICT_PASSED },
    { "AnyEvent::Handle", "_TLS_VERDICT_FAILED", AERS_TLS_VERDICT_FAILED },
    { "AnyEvent::Util", "_IDN_TO_ASCII", AERS_IDN_TO_ASCII },
    { "AnyEvent::Util", "_IDN_TO_UNICODE", AERS_IDN_TO_UNICODE },
    { "AnyEvent::Util", "_PUNYCODE_ENCODE", AERS_IDN_PUNYCODE_ENCODE },
    { "AnyEvent::Util", "_PUNYCODE_DECODE", AERS_IDN_PUNYCODE_DECODE },
    { "AnyEvent::DNS", "_FOUND", AERS_DNS_FOUND },
    { "AnyEvent::DNS", "_ASK", AERS_DNS_ASK },
    { "AnyEvent::DNS", "_NEXT_NAME", AERS_DNS_NEXT_NAME },
};
static HV *condvar_stash;

/* The keys of a condvar's hash, which this file (AE::cv, _wait) and lib/AnyEvent/CondVar.pm
 * share: defined here only, installed into AnyEvent::CondVar::Base as constant subs at boot. */
#define CV_SENT "_ae_sent"    /* the values sent (an array reference) */
#define CV_CB "_ae_cb"        /* the callback of cb */
#define CV_CROAK "_ae_croak"  /* the message of croak */
#define CV_COUNTER "_ae_counter"
#define CV_END_CB "_ae_end_cb"
static const struct { const char *name, *key; } cv_keys[] = {
    { "_SENT", CV_SENT }, { "_CB", CV_CB }, { "_CROAK", CV_CROAK },
    { "_COUNTER", CV_COUNTER }, { "_END_CB", CV_END_CB },
};

/* Croaks at the user's line: through Carp when called from one of our Perl modules (listed in
 * %Carp::Internal), directly otherwise (Carp would print a backtrace when the XSUB was called
 * from a sub of the same package as its caller). */
void croak_caller(pTHX_ const char *fmt, ...)
{
    dSP;
    va_list args;
    SV *msg;
    HV *internal = get_hv("Carp::Internal", 0);
    const char *pkg = CopSTASHPV(PL_curcop);
    va_start(args, fmt);
    msg = sv_2mortal(vnewSVpvf(fmt, &args));
    va_end(args);
    if (!pkg || !internal || !hv_exists(internal, pkg, strlen(pkg)))
        croak("%" SVf, SVfARG(msg));
    PUSHMARK(SP);
    XPUSHs(msg);
    PUTBACK;
    call_pv("Carp::croak", G_VOID | G_DISCARD);
    croak_sv(msg); /* not reached */
}

void last_error(char *buf, size_t len)
{
    aers_last_error(buf, len);
}

void croak_status(pTHX_ int status, const char *what)
{
    if (status == AERS_PANICKED) {
        char buf[512];
        last_error(buf, sizeof buf);
        croak("%s: %s", what, buf);
    }
    errno = status;
    croak("%s: %s", what, strerror(status));
}

NV wall_time(pTHX)
{
    double now;
    CHECK_STATUS(aers_time(&now), "AnyEvent->time");
    return now;
}

NV loop_now(pTHX)
{
    double now;
    CHECK_STATUS(aers_now(THE_LOOP, &now), "AnyEvent->now");
    return now;
}

/* The fd of the PerlIO handle behind a glob, glob reference or IO handle (object): -1 when it
 * is closed, -2 when sv is no file handle at all. */
int fh_fileno(pTHX_ SV *sv)
{
    IO *io = NULL;
    PerlIO *fp;
    SvGETMAGIC(sv);
    if (SvROK(sv))
        sv = SvRV(sv);
    if (isGV_with_GP(sv))
        io = GvIO((GV *)sv);
    else if (SvTYPE(sv) == SVt_PVIO)
        io = (IO *)sv;
    if (!io)
        return -2;
    fp = IoIFP(io) ? IoIFP(io) : IoOFP(io);
    return fp ? PerlIO_fileno(fp) : -1;
}

/* The fd of a glob, glob reference, IO handle (object) or fd number. */
int fd_of(pTHX_ SV *fh, const char *who)
{
    SV *sv = fh;
    int fd = fh_fileno(aTHX_ fh);
    if (fd >= 0)
        return fd;
    if (fd == -1)
        croak_caller(aTHX_ "%s: fh is not an open file handle", who);
    if (SvROK(sv))
        sv = SvRV(sv);
    if (!SvROK(fh) && SvOK(sv) && looks_like_number(sv)) {
        IV n = SvIV(sv);
        if (n >= 0 && n <= INT_MAX) {
            if (fcntl((int)n, F_GETFD) < 0)
                croak_caller(aTHX_ "%s: fh %d is not an open file descriptor", who, (int)n);
            return (int)n;
        }
    }
    croak_caller(aTHX_ "%s: fh must be a file handle or a file descriptor number, not '%" SVf "'", who,
                 SVfARG(fh));
    return -1;
}

/* The code reference to call (a CV, or what an object's &{} overloading yields, as for
 * condvars), with a reference taken for the watcher. */
SV *callback_of(pTHX_ SV *cb, const char *who)
{
    SvGETMAGIC(cb);
    if (SvROK(cb)) {
        if (SvTYPE(SvRV(cb)) == SVt_PVCV)
            return SvREFCNT_inc_simple_NN(SvRV(cb));
        if (SvAMAGIC(cb)) {
            HV *stash;
            GV *gv;
            CV *cv = sv_2cv(cb, &stash, &gv, 0);
            if (cv)
                return SvREFCNT_inc_simple_NN((SV *)cv);
        }
    }
    croak_caller(aTHX_ SvOK(cb) ? "%s: cb must be a code reference" : "%s: cb is required (a code reference)", who);
    return NULL;
}

static SV *watcher_new(pTHX_ enum kind kind, uint64_t key)
{
    SV *obj = newSV_type(SVt_PVMG);
    SvUV_set(obj, key);
    SvIOK_on(obj);
    SvIsUV_on(obj);
    return sv_bless(newRV_noinc(obj), kind_stash[kind]);
}

/* Undoes the reference callback_of took when the Rust side refused the watcher. */
static void check_start(pTHX_ int status, SV *cb, const char *who)
{
    if (status) {
        SvREFCNT_dec(cb);
        croak_status(aTHX_ status, who);
    }
}

/* Calls every callback the loop has queued (watchers', postponed ones, finished DNS requests
 * with their arguments; a callback the core gives up is only released). A callback may die:
 * the exception propagates, and the rest of the queue stays in the loop for the next
 * iteration. Each callback starts with
 * errno ($!) as the program had it when the iteration began: nothing the loop or an earlier
 * callback's internals (EAGAIN from a drained socket, say) did shows through. `user_errno` is
 * errno when the program entered the loop (recv, run, one_event). */
static void invoke_ready(pTHX_ int user_errno)
{
    aers_ready r;
    bool found;
    int status;
    while (!(status = aers_next_ready(THE_LOOP, &r, &found)) && found) {
        dSP;
        SV *cb = (SV *)r.cb;
        if (r.release) {
            SvREFCNT_dec(cb);
            continue;
        }
        errno = user_errno;
        ENTER;
        SAVETMPS;
        /* The callback may destroy its own watcher; keep the code alive until it returns. */
        if (!r.owned)
            SvREFCNT_inc_simple_void_NN(cb);
        SAVEFREESV(cb);
        PUSHMARK(SP);
        if (r.is_child) {
            EXTEND(SP, 2);
            mPUSHi(r.pid);
            mPUSHi(r.status);
        }
        PUTBACK;
        if (r.args)
            dns_push_list(aTHX_ r.args);
        call_sv(cb, G_VOID | G_DISCARD);
        FREETMPS;
        LEAVE;
    }
    if (status)
        croak_status(aTHX_ status, "AnyEvent loop");
}

/* One iteration: poll (unless callbacks are still queued) and run what became ready. */
static void one_iteration(pTHX_ int block, int user_errno)
{
    CHECK_STATUS(aers_poll(THE_LOOP, block), "AnyEvent loop");
    /* A signal with a Perl %SIG handler (alarm and $SIG{ALRM}, say) interrupts the wait; Perl
     * defers such handlers to its run loop, which a blocked recv never reaches: run them now. */
    PERL_ASYNC_CHECK();
    invoke_ready(aTHX_ user_errno);
}

static int signum_of(pTHX_ SV *name)
{
    STRLEN len;
    const char *s = SvPV(name, len);
    I32 num;
    if (len > 3 && memEQ(s, "SIG", 3))
        s += 3;
    num = whichsig_pv(s);
    if (num <= 0 && looks_like_number(name))
        num = (I32)SvIV(name);
    return num;
}

MODULE = AnyEvent		PACKAGE = AE

PROTOTYPES: ENABLE

BOOT:
{
    int i;
    CHECK_STATUS(aers_loop_new(&THE_LOOP), "AnyEvent: cannot create the event loop");
    for (i = 0; i < KIND_COUNT; i++)
        kind_stash[i] = gv_stashpv(kind_class[i], GV_ADD);
    condvar_stash = gv_stashpv("AnyEvent::CondVar", GV_ADD);
    for (i = 0; i < (int)(sizeof ae_constants / sizeof ae_constants[0]); i++)
        newCONSTSUB(gv_stashpv(ae_constants[i].pkg, GV_ADD), ae_constants[i].name, newSViv(ae_constants[i].value));
    for (i = 0; i < (int)(sizeof cv_keys / sizeof cv_keys[0]); i++)
        newCONSTSUB(gv_stashpvs("AnyEvent::CondVar::Base", GV_ADD), cv_keys[i].name, newSVpv(cv_keys[i].key, 0));
}

SV *
io(SV *fh, SV *poll, SV *cb)
    PROTOTYPE: $$$
    CODE:
    {
        int fd = fd_of(aTHX_ fh, "AnyEvent io watcher");
        SV *code = callback_of(aTHX_ cb, "AnyEvent io watcher");
        uint64_t key;
        ENSURE_MODEL;
        check_start(aTHX_ aers_io_start(THE_LOOP, fd, SvTRUE(poll) ? 2 : 1, code, &key), code, "AnyEvent io watcher");
        RETVAL = watcher_new(aTHX_ KIND_IO, key);
        WATCHER_ADDED;
    }
    OUTPUT:
        RETVAL

SV *
timer(SV *after, SV *interval, SV *cb)
    PROTOTYPE: $$$
    CODE:
    {
        NV at, every;
        SV *code;
        uint64_t key;
        /* a false interval (undef, 0, "") means one-shot, as AnyEvent documents */
        if (SvTRUE(interval) && !looks_like_number(interval))
            croak_caller(aTHX_ "AnyEvent timer: interval must be a non-negative number of seconds, not '%" SVf "'", SVfARG(interval));
        if (SvOK(after) && !looks_like_number(after))
            croak_caller(aTHX_ "AnyEvent timer: after must be a number of seconds, not '%" SVf "'", SVfARG(after));
        at = SvOK(after) ? SvNV(after) : 0.;
        every = SvTRUE(interval) ? SvNV(interval) : 0.;
        if (every < 0. || every != every)
            croak_caller(aTHX_ "AnyEvent timer: interval must be a non-negative number of seconds, not %" NVgf, every);
        if (at != at)
            croak_caller(aTHX_ "AnyEvent timer: after must be a number of seconds");
        code = callback_of(aTHX_ cb, "AnyEvent timer");
        ENSURE_MODEL;
        check_start(aTHX_ aers_timer_start(THE_LOOP, at, every, code, &key), code, "AnyEvent timer");
        RETVAL = watcher_new(aTHX_ KIND_TIMER, key);
        WATCHER_ADDED;
    }
    OUTPUT:
        RETVAL

SV *
signal(SV *name, SV *cb)
    PROTOTYPE: $$
    CODE:
    {
        int signum;
        SV *code;
        uint64_t key;
        int status;
        ENSURE_MODEL;
        if (delegate[KIND_SIGNAL] && (RETVAL = call_delegate(aTHX_ KIND_SIGNAL, name, cb)))
            goto done;
        signum = signum_of(aTHX_ name);
        if (signum <= 0)
            croak_caller(aTHX_ "AnyEvent signal watcher: unknown signal name '%" SVf "'", SVfARG(name));
        code = callback_of(aTHX_ cb, "AnyEvent signal watcher");
        status = aers_signal_start(THE_LOOP, signum, code, &key);
        if (status == EINVAL) {
            SvREFCNT_dec(code);
            croak_caller(aTHX_ "AnyEvent signal watcher: signal '%" SVf "' cannot be caught", SVfARG(name));
        }
        check_start(aTHX_ status, code, "AnyEvent signal watcher");
        RETVAL = watcher_new(aTHX_ KIND_SIGNAL, key);
        WATCHER_ADDED;
      done:;
    }
    OUTPUT:
        RETVAL

SV *
child(SV *pid, SV *cb)
    PROTOTYPE: $$
    CODE:
    {
        IV p;
        SV *code;
        uint64_t key;
        ENSURE_MODEL;
        if (!SvOK(pid) || !looks_like_number(pid) || (p = SvIV(pid)) < 0 || p > INT_MAX)
            croak_caller(aTHX_ "AnyEvent child watcher: pid must be a process id or 0 (any child)");
        if (delegate[KIND_CHILD] && (RETVAL = call_delegate(aTHX_ KIND_CHILD, pid, cb)))
            goto done;
        code = callback_of(aTHX_ cb, "AnyEvent child watcher");
        check_start(aTHX_ aers_child_start(THE_LOOP, (int)p, code, &key), code, "AnyEvent child watcher");
        RETVAL = watcher_new(aTHX_ KIND_CHILD, key);
        WATCHER_ADDED;
      done:;
    }
    OUTPUT:
        RETVAL

SV *
idle(SV *cb)
    PROTOTYPE: $
    CODE:
    {
        SV *code = callback_of(aTHX_ cb, "AnyEvent idle watcher");
        uint64_t key;
        ENSURE_MODEL;
        check_start(aTHX_ aers_idle_start(THE_LOOP, code, &key), code, "AnyEvent idle watcher");
        RETVAL = watcher_new(aTHX_ KIND_IDLE, key);
        WATCHER_ADDED;
    }
    OUTPUT:
        RETVAL

# (AnyEvent->condvar calls it as AnyEvent::_new_condvar: AE::cv may be hooked to call that
# method, see AnyEvent::Base)
SV *
cv(...)
    PROTOTYPE: ;&
    ALIAS:
        AnyEvent::_new_condvar = 1
    CODE:
    {
        HV *hv = newHV();
        if (items > 0 && SvOK(ST(0)))
            hv_stores(hv, CV_CB, newSVsv(ST(0)));
        RETVAL = sv_bless(newRV_noinc((SV *)hv), condvar_stash);
    }
    OUTPUT:
        RETVAL

void
postpone(SV *cb)
    PROTOTYPE: &
    CODE:
    {
        SV *code = callback_of(aTHX_ cb, "AnyEvent::postpone");
        ENSURE_MODEL;
        CHECK_STATUS(aers_postpone(THE_LOOP, code), "AnyEvent::postpone");
        WATCHER_ADDED;
    }

NV
now()
    PROTOTYPE:
    CODE:
        RETVAL = loop_now(aTHX);
    OUTPUT:
        RETVAL

void
now_update()
    PROTOTYPE:
    CODE:
        CHECK_STATUS(aers_now_update(THE_LOOP), "AnyEvent->now_update");

NV
time()
    PROTOTYPE:
    CODE:
        RETVAL = wall_time(aTHX);
    OUTPUT:
        RETVAL

MODULE = AnyEvent		PACKAGE = AnyEvent::Impl::Rust

PROTOTYPES: DISABLE

void
one_event()
    CODE:
        one_iteration(aTHX_ 1, errno);

void
run_nowait()
    CODE:
        embed_armed = 1; /* the embedding model re-arms after this run (_embed_state) */
        one_iteration(aTHX_ 0, errno);

void
run()
    CODE:
    {
        int user_errno = errno;
        for (;;)
            one_iteration(aTHX_ 1, user_errno);
    }

void
_wait(SV *cv)
    CODE:
    {
        HV *hv;
        int user_errno;
        if (!SvROK(cv) || SvTYPE(SvRV(cv)) != SVt_PVHV)
            croak("AnyEvent::CondVar: not a condition variable");
        hv = (HV *)SvRV(cv);
        user_errno = errno;
        while (!hv_exists(hv, CV_SENT, sizeof CV_SENT - 1))
            one_iteration(aTHX_ 1, user_errno);
    }

int
backend_fd()
    CODE:
    {
        int32_t fd;
        CHECK_STATUS(aers_backend_fd(THE_LOOP, &fd), "AnyEvent::Impl::Rust::backend_fd");
        RETVAL = fd;
    }
    OUTPUT:
        RETVAL

SV *
next_timeout()
    CODE:
    {
        double t;
        CHECK_STATUS(aers_next_timeout(THE_LOOP, &t), "AnyEvent::Impl::Rust::next_timeout");
        RETVAL = t < 0 ? &PL_sv_undef : newSVnv(t);
    }
    OUTPUT:
        RETVAL

# Makes the Rust core panic inside its FFI wrapper (for the tests of the panic path: the
# call croaks with the message, and every later call into the core croaks too).
void
_test_panic(SV *what)
    CODE:
    {
        STRLEN len;
        const char *p = SvPVbyte(what, len);
        CHECK_STATUS(aers_test_panic(p, len), "AnyEvent::Impl::Rust::_test_panic");
    }

MODULE = AnyEvent		PACKAGE = AnyEvent::Impl::Rust::io

void
DESTROY(SV *self)
    ALIAS:
        AnyEvent::Impl::Rust::timer::DESTROY = KIND_TIMER
        AnyEvent::Impl::Rust::signal::DESTROY = KIND_SIGNAL
        AnyEvent::Impl::Rust::child::DESTROY = KIND_CHILD
        AnyEvent::Impl::Rust::idle::DESTROY = KIND_IDLE
    CODE:
    {
        void *cb = NULL;
        int status;
        if (!SvROK(self))
            XSRETURN_EMPTY;
        status = kind_stop[ix](THE_LOOP, SvUV(SvRV(self)), &cb);
        /* (after a panic the core refuses work: the callback stays referenced, silently; the
         * program was told by the croak of the call that panicked) */
        if (status && status != AERS_PANICKED)
            warn("AnyEvent: stopping a %s watcher failed (status %d)", kind_class[ix], status);
        if (cb)
            SvREFCNT_dec((SV *)cb);
    }

# Area XSUBs (each file starts with its own MODULE/PACKAGE line):
INCLUDE: xs/socket.xsh

INCLUDE: xs/dns.xsh

INCLUDE: xs/handle.xsh

INCLUDE: xs/embed.xsh

INCLUDE: xs/log.xsh

INCLUDE: xs/fileio.xsh
