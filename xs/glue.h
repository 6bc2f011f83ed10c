/* What the glue's C files share (defined in AnyEvent.xs): the loop, croaking for a status of
 * the Rust core, and the argument helpers. Each of AnyEvent.xs and xs/<area>.c includes the
 * Perl headers (with PERL_NO_GET_CONTEXT), then aers.h, then this. */
#ifndef AE_GLUE_H
#define AE_GLUE_H

#include "aers.h"

extern aers_loop *THE_LOOP;

/* The watcher kinds of AnyEvent.xs. */
enum kind { KIND_IO, KIND_TIMER, KIND_SIGNAL, KIND_CHILD, KIND_IDLE, KIND_COUNT };

/* Croaks at the user's line (through Carp when called from one of our Perl modules). */
void croak_caller(pTHX_ const char *fmt, ...) __attribute__noreturn__;

/* Croaks for a status of the Rust core other than AERS_OK: the last-error message for
 * AERS_PANICKED (a panic, or any call after one: the core refuses further work), strerror for
 * an errno. */
void croak_status(pTHX_ int status, const char *what) __attribute__noreturn__;

#define CHECK_STATUS(call, what) STMT_START { int st_ = (call); if (st_) croak_status(aTHX_ st_, what); } STMT_END

/* Croaks only for AERS_PANICKED; other statuses are the caller's to handle. */
#define CHECK_PANIC(st, what) STMT_START { if ((st) == AERS_PANICKED) croak_status(aTHX_ (st), what); } STMT_END

/* The last-error message of the Rust core (for a status that comes with one). */
void last_error(char *buf, size_t len);

/* The loop time (AnyEvent->now). */
NV loop_now(pTHX);

/* The wall-clock time (AnyEvent->time). */
NV wall_time(pTHX);

/* The fd of the PerlIO handle behind a glob, glob reference or IO handle (object): -1 when it
 * is closed, -2 when sv is no file handle at all. */
int fh_fileno(pTHX_ SV *sv);

/* The fd of a glob, glob reference, IO handle (object) or fd number; croaks otherwise. */
int fd_of(pTHX_ SV *fh, const char *who);

/* The code reference to call, with a reference taken for the watcher; croaks otherwise. */
SV *callback_of(pTHX_ SV *cb, const char *who);

#endif
