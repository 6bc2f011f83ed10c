/* The AnyEvent::Handle engine and AnyEvent::TLS helpers (xs/handle.c), used by the XSUBs in
 * xs/handle.xsh: typed read requests and their extraction, the read queue drain, reading and
 * writing the socket with the activity timestamps, the TLS write loop, byte-string helpers. */
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

/* Sets up what the engine keeps from the start (the hash keys it uses); called at boot. */
void handle_boot(pTHX);

/* Calls $self->$method(@args) in void context. */
void call_self_method(pTHX_ const char *method, SV **args, int n);

/* --- reading. Every function taking self_ref wants a reference to the handle's hash. */

/* push_read/unshift_read (args: self, type, @args, cb): queues the typed request for a line or
 * chunk read and serves the queue; 0 when the arguments take the Perl body (_push_read_pp). */
int fast_push_read(pTHX_ SV **args, int n, int front);

/* The line read's work for reader closures (the line type's, when no typed request is made):
 * takes a line ending in eol (NULL or undef: \015?\012; a byte string; a regex) off the front of
 * rbuf: 1 with the line and its end in new SVs, 0 when rbuf holds no complete line. */
int take_line(pTHX_ SV *rbuf, SV *eol, SV **line, SV **end);

/* Serves what rbuf holds: the read queue first, then on_read; then reports end of file (or
 * EPIPE when a request can never be satisfied), checks rbuf_max and restarts reading when
 * somebody waits for data. While it runs, _skip_drain_rbuf is set (as with `local`): nested
 * calls return at once and push_write collects; at the end what the callbacks pushed is written
 * in one go (drain_wbuf). */
void drain_rbuf(pTHX_ SV *self_ref);

/* The read watcher's work on a plain handle (TLS handles go to _tls_receive): one read(2) of up
 * to read_size octets into rbuf (read_size doubles, up to max_read_size, while reads fill it),
 * the read activity timestamps, then the drain; end of file is noted for the drain; errors
 * other than EAGAIN/EINTR are fatal. */
void on_readable(pTHX_ SV *self_ref);

/* TLS: decrypts what the session holds into rbuf (read_size octets at a time) and stamps the
 * read activity: 0 with the octets added in *total and in *end 0, 1 (the peer's close_notify)
 * or 2 (the stream ended); or an errno. */
int tls_read(pTHX_ HV *self, UV *total, int *end);

/* --- writing */

/* Writes what the kernel takes of buf to fd, which must still be fh's (else EBADF), and takes
 * it off buf: 0 ($! cleared, the count in *put) or an errno ($! left alone). */
int write_plain(pTHX_ SV *fh, SV *fd, SV *buf, size_t *put);

/* Writes the session's records to fd, which must still be fh's (else EBADF): 0 ($! cleared)
 * with *done true when nothing is left, or an errno. */
int tls_flush(pTHX_ aers_tls *s, SV *fh, SV *fd, bool *done);

/* The TLS write loop: hands the plaintext of wbuf (NULL: none) to the session and writes its
 * records, until the session takes no more or the socket is full, then writes the records left.
 * 0 or an errno (EAGAIN: the socket is full; EPROTO: the session failed, message in
 * $AnyEvent::TLS::ERROR). */
int tls_push(pTHX_ aers_tls *s, SV *fh, SV *fd, SV *wbuf);

/* A TLS handle's write: the cleartext prelude (what was pushed before starttls), then tls_push
 * (plaintext only once the handshake is done). 0 or an errno. */
int tls_send(pTHX_ HV *self);

/* Whether something waits to be written (TLS: prelude, records, or plaintext once ready). */
int wants_write(pTHX_ HV *self);

/* Whether wbuf counts as empty for on_drain: at most low_water_mark octets (TLS: plaintext). */
int drained(pTHX_ HV *self);

/* The write watcher's work: writes what it can (write activity stamped), tells on_starttls once
 * our last handshake flight is out, calls on_drain when wbuf is at the low water mark (and goes
 * on writing what it pushed), and drops the write watcher once nothing is left. Errors other
 * than EAGAIN/EINTR are fatal. */
void on_writable(pTHX_ SV *self_ref);

/* Writes at once (unless corked) and starts the write watcher while something is left. */
void drain_wbuf(pTHX_ SV *self_ref);

/* push_write's work for data (octets; croaks on wide characters before queueing): appends to
 * wbuf and writes at once, unless a write watcher waits or a read drain collects its callbacks'
 * writes; a fatal ENOSPC when wbuf_max is exceeded. */
void queue_write(pTHX_ SV *self_ref, SV *data);

#endif
