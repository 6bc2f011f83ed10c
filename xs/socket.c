/* Socket and IDN areas: glue helpers for the XSUBs in xs/socket.xsh (declared in
 * xs/socket.h). */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "aers.h"
#include "xs/glue.h"
#include "xs/socket.h"

int socket_status_ok(pTHX_ int status, const char *what)
{
    if (status == AERS_PANICKED)
        croak_status(aTHX_ status, what);
    if (status) {
        SETERRNO(status, 0);
        return 0;
    }
    return 1;
}

/* Separate input and output PerlIO streams on the fd, IO type socket. */
SV *socket_handle(pTHX_ int fd)
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

const uint8_t *sockaddr_arg(pTHX_ SV *sv, STRLEN *len, const char *who)
{
    const char *p;
    if (!SvOK(sv))
        croak_caller(aTHX_ "%s: sockaddr is required (a packed socket address)", who);
    p = SvPVbyte(sv, *len);
    return (const uint8_t *)p;
}
