/* Socket and IDN areas: glue helpers (xs/socket.c) for the XSUBs in xs/socket.xsh, on top of
 * rust/ffi/socket.rs and rust/ffi/idn.rs. */
#ifndef AE_SOCKET_H
#define AE_SOCKET_H

/* A failed socket call sets $! and makes the XSUB return undef (or the empty list): 0; only an
 * internal error (a Rust panic) croaks. 1 for success. */
int socket_status_ok(pTHX_ int status, const char *what);

/* A Perl file handle (a reference to an anonymous glob) owning socket `fd`, made as Perl's own
 * socket() makes one. NULL with errno set (and fd closed) when PerlIO cannot take it. */
SV *socket_handle(pTHX_ int fd);

/* The bytes of a packed sockaddr argument (croaks for undef). */
const uint8_t *sockaddr_arg(pTHX_ SV *sv, STRLEN *len, const char *who);

#endif
