/* File I/O area: AnyEvent::IO::Rust's glue (xs/fileio.xsh) to the worker pool of
 * rust/ffi/fileio.rs. The glue turns aio_* arguments into a request, and delivers results: it
 * makes the Perl values (strings, file handles, the stat buffer of `_`), sets $! and calls the
 * callback. Results come back when the pool's wake-up descriptor, watched by an io watcher that
 * AnyEvent::IO::Rust::_watch makes, is readable (fio_drain). */
#ifndef AE_FILEIO_H
#define AE_FILEIO_H

extern aers_fio *fio_pool;       /* made by the first request */
extern U32 fio_max_threads;      /* for the pool, before it is made */

/* Delivers the results finished so far (those finishing meanwhile wait for the next wake-up,
 * so that timers and other watchers get their turn). */
void fio_drain(pTHX);

/* The descriptor of a Perl file handle (glob, glob reference, IO object): -1 when it is a
 * handle but not open, -2 when `sv` is not a handle at all (a path, for the requests that take
 * either). */
int fio_fd(pTHX_ SV *sv);

/* The target of a request that takes a handle: anything else is no open handle (EBADF). */
void fio_handle_target(pTHX_ aers_fio_req *r, SV *sv);

/* An integer argument, `dflt` for undef. */
IV fio_iv(pTHX_ SV *sv, IV dflt);

/* A path argument: undef is the empty path (which names no file: ENOENT), without a warning. */
void fio_path(pTHX_ SV *sv, const char **p, size_t *len);

/* Queues a request whose result goes to cb (croaks for a bad cb or a panic). */
void fio_submit(pTHX_ aers_fio_req *r, SV *cb, const char *who);

/* The target of a request that takes a handle or a path. */
void fio_target(pTHX_ aers_fio_req *r, SV *sv);

#endif
