MODULE = AnyEvent		PACKAGE = AnyEvent::Socket

PROTOTYPES: DISABLE

# Private primitives of AnyEvent::Socket (lib/AnyEvent/Socket.pm wraps them). When the system
# call fails, each sets $! and returns nothing defined. New sockets come back as file handles.

SV *
_rs_open(int domain, int type, int protocol)
    CODE:
    {
        int32_t fd;
        SV *fh = NULL;
        if (socket_status_ok(aTHX_ aers_socket_open(domain, type, protocol, &fd), "socket"))
            fh = socket_handle(aTHX_ fd);
        RETVAL = fh ? fh : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
_rs_connect(SV *fh, SV *sockaddr)
    CODE:
    {
        STRLEN len;
        int fd = fd_of(aTHX_ fh, "connect");
        const uint8_t *addr = sockaddr_arg(aTHX_ sockaddr, &len, "connect");
        RETVAL = socket_status_ok(aTHX_ aers_socket_connect(fd, addr, len), "connect")
            ? newSViv(1) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
_rs_connect_result(SV *fh)
    CODE:
    {
        uint8_t peer[sizeof(struct sockaddr_storage)];
        size_t len = sizeof peer;
        int fd = fd_of(aTHX_ fh, "connect");
        RETVAL = socket_status_ok(aTHX_ aers_socket_connect_result(fd, peer, &len), "connect")
            ? newSVpvn((const char *)peer, len) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
_rs_bind(SV *fh, SV *sockaddr, int reuse_address, int only_v6)
    CODE:
    {
        STRLEN len;
        int fd = fd_of(aTHX_ fh, "bind");
        const uint8_t *addr = sockaddr_arg(aTHX_ sockaddr, &len, "bind");
        RETVAL = socket_status_ok(aTHX_ aers_socket_bind(fd, addr, len, reuse_address, only_v6), "bind")
            ? newSViv(1) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

SV *
_rs_listen(SV *fh, int backlog)
    CODE:
    {
        int fd = fd_of(aTHX_ fh, "listen");
        RETVAL = socket_status_ok(aTHX_ aers_socket_listen(fd, backlog), "listen")
            ? newSViv(1) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

void
_rs_accept(SV *fh)
    PPCODE:
    {
        uint8_t peer[sizeof(struct sockaddr_storage)];
        size_t len = sizeof peer;
        int32_t new_fd;
        SV *handle;
        int fd = fd_of(aTHX_ fh, "accept");
        if (socket_status_ok(aTHX_ aers_socket_accept(fd, &new_fd, peer, &len), "accept")
            && (handle = socket_handle(aTHX_ new_fd))) {
            EXTEND(SP, 2);
            mPUSHs(handle);
            mPUSHp((const char *)peer, len);
        }
    }

SV *
_rs_local_addr(SV *fh)
    CODE:
    {
        uint8_t addr[sizeof(struct sockaddr_storage)];
        size_t len = sizeof addr;
        int fd = fd_of(aTHX_ fh, "getsockname");
        RETVAL = socket_status_ok(aTHX_ aers_socket_local_addr(fd, addr, &len), "getsockname")
            ? newSVpvn((const char *)addr, len) : &PL_sv_undef;
    }
    OUTPUT:
        RETVAL

MODULE = AnyEvent		PACKAGE = AnyEvent::Util

PROTOTYPES: DISABLE

# The IDN conversions of AnyEvent::Util: op is one of AERS_IDN_* (aers.h; in Perl
# AnyEvent::Util::_IDN_TO_ASCII etc.). Takes and returns character strings; nothing defined
# when the input cannot be converted.
SV *
_rs_idn(int op, SV *input)
    CODE:
    {
        STRLEN len;
        uint8_t *out = NULL;
        size_t out_len = 0;
        const char *in;
        int status;
        SV *copy = sv_2mortal(newSVsv(input));
        sv_utf8_upgrade(copy);
        in = SvPV(copy, len);
        status = aers_idn_convert(op, (const uint8_t *)in, len, &out, &out_len);
        CHECK_PANIC(status, "idn");
        if (status) {
            RETVAL = &PL_sv_undef;
        } else {
            RETVAL = newSVpvn((const char *)out, out_len);
            SvUTF8_on(RETVAL);
            CHECK_STATUS(aers_idn_free(out, out_len), "idn");
        }
    }
    OUTPUT:
        RETVAL
