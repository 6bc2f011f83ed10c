/* File I/O area: AnyEvent::IO::Rust's glue (declared in xs/fileio.h). */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/fileio.h"

/* PL_statcache is filled from the pool's struct stat. */
typedef char fio_stat_matches[sizeof(Stat_t) == sizeof(struct stat) ? 1 : -1];

aers_fio *fio_pool;
U32 fio_max_threads = 4;

static aers_fio *fio_get(pTHX)
{
    if (!fio_pool)
        CHECK_STATUS(aers_fio_new(fio_max_threads, &fio_pool), "AnyEvent::IO");
    return fio_pool;
}

/* Starts watching the pool's wake-up descriptor when the pool asks for it (first request,
 * first use after a fork): AnyEvent::IO::Rust::_watch($fd) replaces the io watcher. */
static void fio_watch(pTHX_ int fd)
{
    dSP;
    if (fd < 0)
        return;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    mXPUSHi(fd);
    PUTBACK;
    call_pv("AnyEvent::IO::Rust::_watch", G_VOID | G_DISCARD);
    FREETMPS;
    LEAVE;
    CHECK_STATUS(aers_fio_watched(fio_pool), "AnyEvent::IO");
}

int fio_fd(pTHX_ SV *sv)
{
    IO *io = NULL;
    SvGETMAGIC(sv);
    if (SvROK(sv))
        sv = SvRV(sv);
    if (isGV_with_GP(sv))
        io = GvIO((GV *)sv);
    else if (SvTYPE(sv) == SVt_PVIO)
        io = (IO *)sv;
    else
        return -2;
    if (io) {
        PerlIO *fp = IoIFP(io) ? IoIFP(io) : IoOFP(io);
        int fd = fp ? PerlIO_fileno(fp) : -1;
        return fd < 0 ? -1 : fd;
    }
    return -1;
}

void fio_path(pTHX_ SV *sv, const char **p, size_t *len)
{
    STRLEN l = 0;
    SvGETMAGIC(sv);
    if (SvOK(sv)) {
        *p = SvPV_nomg(sv, l);
    } else {
        *p = "";
    }
    *len = l;
}

void fio_target(pTHX_ aers_fio_req *r, SV *sv)
{
    int fd = fio_fd(aTHX_ sv);
    if (fd == -2) {
        fio_path(aTHX_ sv, &r->path, &r->path_len);
    } else {
        r->use_fd = 1;
        r->fd = fd;
    }
}

void fio_handle_target(pTHX_ aers_fio_req *r, SV *sv)
{
    int fd = fio_fd(aTHX_ sv);
    r->use_fd = 1;
    r->fd = fd < 0 ? -1 : fd;
}

IV fio_iv(pTHX_ SV *sv, IV dflt)
{
    SvGETMAGIC(sv);
    return SvOK(sv) ? SvIV_nomg(sv) : dflt;
}

static NV fio_nv(pTHX_ SV *sv)
{
    SvGETMAGIC(sv);
    return SvOK(sv) ? SvNV_nomg(sv) : 0.;
}

void fio_submit(pTHX_ aers_fio_req *r, SV *cb, const char *who)
{
    SV *code = callback_of(aTHX_ cb, who);
    int32_t watch = -1;
    int status = aers_fio_submit(fio_get(aTHX), r, code, &watch);
    if (status) {
        SvREFCNT_dec(code);
        croak_status(aTHX_ status, who);
    }
    fio_watch(aTHX_ watch);
}

/* A Perl file handle for a descriptor the pool opened, made as sysopen makes one for `flags`;
 * NULL (errno set, descriptor closed) when Perl cannot take it. */
static SV *fio_open_handle(pTHX_ int fd, int flags)
{
    GV *gv = MUTABLE_GV(newSV_type(SVt_NULL));
    char mode[32];
    int acc = flags & O_ACCMODE, len;
    const char *how = acc == O_RDONLY ? "<"
                    : acc == O_WRONLY ? (flags & O_APPEND ? ">>" : ">")
                    : (flags & O_APPEND ? "+>>" : "+<");
    gv_init_pvn(gv, gv_stashpvs("AnyEvent::IO", GV_ADD), "$fh", 3, 0);
    len = snprintf(mode, sizeof mode, "%s&=%d", how, fd);
    if (!do_openn(gv, mode, len, 0, 0, 0, NULL, NULL, 0)) {
        int err = errno ? errno : EBADF;
        close(fd);
        SvREFCNT_dec(gv);
        SETERRNO(err, 0);
        return NULL;
    }
    return newRV_noinc((SV *)gv);
}

/* Perl's allocator is malloc (no perl malloc, no memory pool tracking): a string can adopt the
 * malloc'ed buffer a result was read into, instead of copying it (a large aio_load would
 * otherwise hold up the loop for the copy). */
#if !defined(MYMALLOC) && !defined(PERL_TRACK_MEMPOOL)
#  define FIO_ADOPT 1
#else
#  define FIO_ADOPT 1
#endif

/* A string adopting a result's buffer: what fio_unadopt needs to take the buffer back. */
typedef struct { char *ptr; size_t cap; STRLEN len; } fio_adopted;

static SV *fio_bytes(pTHX_ const aers_fio_done *d, fio_adopted *a)
{
    a->ptr = NULL;
    if (FIO_ADOPT && d->len > 0) {
        size_t len = 0;
        CHECK_STATUS(aers_fio_take_bytes(fio_pool, &a->ptr, &len, &a->cap), "AnyEvent::IO");
        if (a->ptr) {
            SV *sv = newSV_type(SVt_PV);
            sv_usepvn_flags(sv, a->ptr, len, SV_HAS_TRAILING_NUL);
            a->len = SvLEN(sv);
            return sv;
        }
    }
    return newSVpvn(d->data ? d->data : "", d->len);
}

/* After the callback: a string that nothing else refers to and that still has the adopted
 * buffer, untouched in size, gives it back to the pool for the next request. */
static void fio_unadopt(pTHX_ SV *sv, const fio_adopted *a)
{
    if (!a->ptr || SvREFCNT(sv) != 1 || SvTYPE(sv) != SVt_PV || !SvPOK(sv) || SvOOK(sv) || SvIsCOW(sv)
        || SvPVX(sv) != a->ptr || SvLEN(sv) != a->len)
        return;
    SvPV_set(sv, NULL);
    SvLEN_set(sv, 0);
    SvCUR_set(sv, 0);
    SvPOK_off(sv);
    CHECK_STATUS(aers_fio_recycle(fio_pool, a->ptr, a->cap), "AnyEvent::IO");
}

/* Calls the callback of one result: with the result, or with nothing and $! set. */
static void fio_deliver(pTHX_ const aers_fio_done *d, int user_errno)
{
    dSP;
    SV *cb = (SV *)d->cb;
    SV *arg = NULL;
    int err = d->err;
    fio_adopted adopted = { NULL, 0, 0 };
    ENTER;
    SAVETMPS;
    SAVEFREESV(cb);
    if (!err) {
        switch (d->op) {
        case AERS_FIO_LOAD: case AERS_FIO_READ: case AERS_FIO_READLINK:
            arg = fio_bytes(aTHX_ d, &adopted);
            break;
        case AERS_FIO_OPEN:
            if (!(arg = fio_open_handle(aTHX_ (int)d->value, (int)d->aux)))
                err = errno;
            break;
        case AERS_FIO_WRITE: case AERS_FIO_SEEK:
            arg = newSViv((IV)d->value);
            break;
        case AERS_FIO_STAT: case AERS_FIO_LSTAT:
            PL_laststype = d->op == AERS_FIO_LSTAT ? OP_LSTAT : OP_STAT;
            PL_laststatval = 0;
            PL_statcache = *(const Stat_t *)d->stat;
            arg = newSViv(1);
            break;
        case AERS_FIO_READDIR: {
            AV *names = newAV();
            const char *p = d->data;
            size_t i;
            av_extend(names, d->count);
            for (i = 0; i < d->count; i++) {
                size_t n = strlen(p);
                av_push(names, newSVpvn(p, n));
                p += n + 1;
            }
            arg = newRV_noinc((SV *)names);
            break;
        }
        default:
            arg = newSViv(1);
        }
    } else if (d->op == AERS_FIO_STAT || d->op == AERS_FIO_LSTAT) {
        PL_laststype = d->op == AERS_FIO_LSTAT ? OP_LSTAT : OP_STAT;
        PL_laststatval = -1;
    }
    PUSHMARK(SP);
    if (arg)
        mXPUSHs(arg);
    PUTBACK;
    errno = err ? err : user_errno;
    call_sv(cb, G_VOID | G_DISCARD);
    if (adopted.ptr) {
        int e = errno;
        fio_unadopt(aTHX_ arg, &adopted);
        errno = e;
    }
    FREETMPS;
    LEAVE;
}

/* On the way out of fio_drain (also when a callback dies): the workers are woken for the
 * callbacks' requests, and results left undelivered make the loop come back. */
static void fio_delivered(pTHX_ void *p)
{
    PERL_UNUSED_ARG(p);
    (void)aers_fio_delivered(fio_pool);    /* (fails only after a panic, which croaks anyway) */
}

void fio_drain(pTHX)
{
    int user_errno = errno;
    aers_fio_done d;
    bool found;
    int status;
    int32_t watch = -1;
    if (!fio_pool)
        return;
    ENTER;
    SAVEDESTRUCTOR_X(fio_delivered, NULL);
    CHECK_STATUS(aers_fio_collect(fio_pool, &watch), "AnyEvent::IO");
    fio_watch(aTHX_ watch);
    while (!(status = aers_fio_next(fio_pool, &d, &found)) && found)
        fio_deliver(aTHX_ &d, user_errno);
    LEAVE;
    errno = user_errno;
    if (status)
        croak_status(aTHX_ status, "AnyEvent::IO");
}
