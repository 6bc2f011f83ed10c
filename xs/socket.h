/* Socket and IDN areas: the Rust C ABI (rust/ffi/socket.rs, rust/ffi/idn.rs) and glue helpers
 * for the XSUBs in xs/socket.xsh. */
#include <errno.h>
#include <sys/socket.h>

int aers_socket_open(int domain, int type, int protocol, int *fd);
int aers_socket_connect(int fd, const uint8_t *addr, size_t len);
int aers_socket_connect_result(int fd, uint8_t *peer, size_t *len);
int aers_socket_bind(int fd, const uint8_t *addr, size_t len, int reuse_address, int only_v6);
int aers_socket_listen(int fd, int backlog);
int aers_socket_accept(int fd, int *out_fd, uint8_t *peer, size_t *len);
int aers_socket_local_addr(int fd, uint8_t *buf, size_t *len);

int aers_idn_convert(int op, const uint8_t *input, size_t len, uint8_t **out, size_t *out_len);
void aers_idn_free(uint8_t *buf, size_t len);

/* A failed socket call sets $! and makes the XSUB return undef (or the empty list); only an
 * internal error (a Rust panic) croaks. */
static int socket_status_ok(pTHX_ int status, const char *what)
{
    if (status == AERS_PANICKED)
        croak_status(aTHX_ status, what);
    if (status) {
        SETERRNO(status, 0);
        return 0;
    }
    return 1;
}

/* A Perl file handle (a reference to an anonymous glob) owning socket `fd`, made as Perl's own
 * socket() makes one: separate input and output PerlIO streams on the fd, IO type socket.
 * NULL with errno set (and fd closed) when PerlIO cannot take it. */
static SV *socket_handle(pTHX_ int fd)
{
    GV *gv = MUTABLE_GV(newSV_type(SVt_NULL));
    IO *io;
    gv_init_pvn(gv, gv_stashpvs("AnyEvent::Socket", GV_ADD), "__ANONIO__", 10, 0);
    io = GvIOn(gv);
    IoIFP(io) = PerlIO_fdopen(fd, "r");
    IoOFP(io) = PerlIO_fdopen(fd, "w");
    if (!IoIFP(io) || !IoOFP(io)) {
        int err = errno;
        if (IoIFP(io))
            PerlIO_close(IoIFP(io));
        if (IoOFP(io))
            PerlIO_close(IoOFP(io));
        if (!IoIFP(io) && !IoOFP(io))
            close(fd);
        IoIFP(io) = IoOFP(io) = NULL;
        SvREFCNT_dec(gv);
        SETERRNO(err, 0);
        return NULL;
    }
    IoTYPE(io) = IoTYPE_SOCKET;
    return newRV_noinc((SV *)gv);
}

/* The bytes of a packed sockaddr argument. */
static const uint8_t *sockaddr_arg(pTHX_ SV *sv, STRLEN *len, const char *who)
{
    const char *p;
    if (!SvOK(sv))
        croak_caller(aTHX_ "%s: sockaddr is required (a packed socket address)", who);
    p = SvPVbyte(sv, *len);
    return (const uint8_t *)p;
}
