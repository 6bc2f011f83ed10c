/* AnyEvent::Handle and AnyEvent::TLS glue (xs/handle.c), used by the XSUBs in xs/handle.xsh on
 * top of rust/ffi/stream.rs and rust/ffi/tls.rs: byte-string helpers, the read queue drain
 * (typed line/chunk requests served in C), the fast paths of push_read/unshift_read/push_write,
 * the read watcher's work and writing wbuf at once. */
#ifndef AE_HANDLE_H
#define AE_HANDLE_H

/* A successful read or write of the socket clears $!, as Perl's sysread and syswrite do (what
 * AnyEvent 7.17's callbacks see after its own I/O). */
#define IO_SUCCEEDED() SETERRNO(0, 0)

/* Returns undef from an XSUB with $! set. */
#define RETURN_ERRNO(e) STMT_START { errno = (e); SETERRNO((e), 0); XSRETURN_UNDEF; } STMT_END

/* A byte string's buffer, downgraded from UTF-8 (croaks on wide characters, as syswrite). */
char *bytes_of(pTHX_ SV *sv, STRLEN *len, const char *who);

/* Makes room for `size` more bytes at the end of a string buffer; returns where they go. */
char *spare_of(pTHX_ SV *sv, STRLEN size, const char *who);

/* Counts n more bytes written into the spare room spare_of made. */
void grew_by(pTHX_ SV *sv, STRLEN n);

/* Removes the first n bytes of a string (cheap: moves the start, no copy). */
void chop_front(pTHX_ SV *sv, STRLEN n);

/* Whether a handle's descriptor fd still belongs to its fh: the fh was not closed, or reopened
 * onto another descriptor, behind the handle's back. A descriptor it no longer owns may be a
 * new socket by now: it is never read, written or shut down. (One pointer away: no syscall.) */
int fd_owned(pTHX_ SV *fh, IV fd);

/* The TLS context or session behind an object of `class` (croaks for anything else). */
void *tls_ptr(pTHX_ SV *obj, const char *class);

/* An object of `class` holding a TLS context or session. */
SV *tls_wrap(pTHX_ void *p, const char *class);

/* Sets $AnyEvent::TLS::ERROR to the message of the last TLS failure. */
void tls_note_error(pTHX);

/* Feeds rbuf to the read queue: 0 the queue ran empty, 1 the head request waits for data,
 * 2 the handle was destroyed by a callback. */
int drain_queue(pTHX_ SV *self_ref);

/* Calls $self->$method(@args) in void context. */
void call_self_method(pTHX_ const char *method, SV **args, int n);

/* Serves what rbuf holds: the read queue first, then on_read; then reports end of file (or
 * EPIPE when a request can never be satisfied), checks rbuf_max and restarts reading when
 * somebody waits for data. While it runs, _skip_drain_rbuf is set (as with `local`): nested
 * calls return at once and push_write collects; at the end what the callbacks pushed is written
 * in one go. */
void drain_rbuf(pTHX_ SV *self_ref);

/* push_read/unshift_read: 1 when served here. */
int fast_push_read(pTHX_ SV **args, int n, int front);

/* push_write of plain bytes on a plain handle: append, and write at once unless a write
 * watcher already waits or _drain_rbuf collects the writes of its callbacks (it ends with
 * _flush_wbuf). 0: the Perl _push_write_pp must do it. */
int fast_push_write(pTHX_ SV *self_ref, SV *data);

/* The end of a read drain: writes what its callbacks pushed. */
void flush_wbuf(pTHX_ SV *self_ref);

/* The read watcher's work on a plain handle (TLS handles go to _tls_receive): one read(2) of up
 * to read_size octets into rbuf (read_size doubles, up to max_read_size, while reads fill it),
 * then the drain; end of file is noted for the drain; errors other than EAGAIN/EINTR are fatal. */
void on_readable(pTHX_ SV *self_ref);

#endif
