MODULE = AnyEvent		PACKAGE = AnyEvent::IO::Rust

PROTOTYPES: ENABLE

# The aio_* functions of AnyEvent::IO's Rust backend (AnyEvent::IO::Rust installs them into
# AnyEvent::IO). Each one queues a request and returns nothing; the callback is called from the
# loop with the result, or with nothing and $! set.

void
aio_load(SV *path, SV *cb)
    PROTOTYPE: $$
    ALIAS:
        aio_readlink = AERS_FIO_READLINK
        aio_unlink = AERS_FIO_UNLINK
        aio_rmdir = AERS_FIO_RMDIR
        aio_readdir = AERS_FIO_READDIR
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = ix ? ix : AERS_FIO_LOAD;
        fio_path(aTHX_ path, &r.path, &r.path_len);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_stat(SV *fh_or_path, SV *cb)
    PROTOTYPE: $$
    ALIAS:
        aio_lstat = AERS_FIO_LSTAT
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = ix ? ix : AERS_FIO_STAT;
        fio_target(aTHX_ &r, fh_or_path);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_close(SV *fh, SV *cb)
    PROTOTYPE: $$
    CODE:
    {
        /* The Perl handle is closed now (its descriptor's close cannot block: a duplicate stays
         * open); the worker closes the duplicate, the close that may block, and reports. */
        aers_fio_req r;
        int fd = fio_fd(aTHX_ fh), status;
        int32_t dup = -1;
        SV *code = callback_of(aTHX_ cb, "AnyEvent::IO");
        SvREFCNT_dec(code); /* checked here, taken by fio_submit */
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_CLOSE;
        r.fd = -1;
        if (fd >= 0) {
            status = aers_fio_dup(fd, &dup);
            CHECK_PANIC(status, "AnyEvent::IO");
            if (status) {
                r.a = status;
            } else {
                SV *sv = SvROK(fh) ? SvRV(fh) : fh;
                GV *gv = isGV_with_GP(sv) ? (GV *)sv : NULL;
                r.fd = dup;
                errno = 0;
                if (gv ? !do_close(gv, TRUE) : PerlIO_close(IoIFP((IO *)sv)) != 0)
                    r.a = errno ? errno : EIO;
            }
        }
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_read(SV *fh, SV *length, SV *cb)
    PROTOTYPE: $$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_READ;
        fio_handle_target(aTHX_ &r, fh);
        r.a = fio_iv(aTHX_ length, 0);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_write(SV *fh, SV *data, SV *cb)
    PROTOTYPE: $$$
    CODE:
    {
        aers_fio_req r;
        STRLEN len = 0;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_WRITE;
        fio_handle_target(aTHX_ &r, fh);
        SvGETMAGIC(data);
        r.data = SvOK(data) ? SvPVbyte_nomg(data, len) : "";
        r.data_len = len;
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_link(SV *oldpath, SV *newpath, SV *cb)
    PROTOTYPE: $$$
    ALIAS:
        aio_symlink = AERS_FIO_SYMLINK
        aio_rename = AERS_FIO_RENAME
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = ix ? ix : AERS_FIO_LINK;
        fio_path(aTHX_ oldpath, &r.path, &r.path_len);
        fio_path(aTHX_ newpath, &r.path2, &r.path2_len);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_mkdir(SV *path, SV *perms, SV *cb)
    PROTOTYPE: $$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_MKDIR;
        fio_path(aTHX_ path, &r.path, &r.path_len);
        r.a = fio_iv(aTHX_ perms, 0777);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_truncate(SV *fh_or_path, SV *number, SV *cb)
    PROTOTYPE: $$$
    ALIAS:
        aio_chmod = AERS_FIO_CHMOD
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = ix ? ix : AERS_FIO_TRUNCATE;
        fio_target(aTHX_ &r, fh_or_path);
        r.a = fio_iv(aTHX_ number, 0);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_open(SV *path, SV *flags, SV *mode, SV *cb)
    PROTOTYPE: $$$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_OPEN;
        fio_path(aTHX_ path, &r.path, &r.path_len);
        r.a = fio_iv(aTHX_ flags, 0);
        r.b = fio_iv(aTHX_ mode, 0);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_seek(SV *fh, SV *offset, SV *whence, SV *cb)
    PROTOTYPE: $$$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_SEEK;
        fio_handle_target(aTHX_ &r, fh);
        r.a = fio_iv(aTHX_ offset, 0);
        r.b = fio_iv(aTHX_ whence, 0);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_utime(SV *fh_or_path, SV *atime, SV *mtime, SV *cb)
    PROTOTYPE: $$$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_UTIME;
        fio_target(aTHX_ &r, fh_or_path);
        SvGETMAGIC(atime);
        SvGETMAGIC(mtime);
        r.now = !SvOK(atime) && !SvOK(mtime);
        r.t1 = SvOK(atime) ? SvNV_nomg(atime) : 0.;
        r.t2 = SvOK(mtime) ? SvNV_nomg(mtime) : 0.;
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

void
aio_chown(SV *fh_or_path, SV *uid, SV *gid, SV *cb)
    PROTOTYPE: $$$$
    CODE:
    {
        aers_fio_req r;
        Zero(&r, 1, aers_fio_req);
        r.op = AERS_FIO_CHOWN;
        fio_target(aTHX_ &r, fh_or_path);
        r.a = fio_iv(aTHX_ uid, -1);
        r.b = fio_iv(aTHX_ gid, -1);
        fio_submit(aTHX_ &r, cb, "AnyEvent::IO");
    }

PROTOTYPES: DISABLE

# The io watcher's callback: delivers the results finished so far.
void
_drain(...)
    CODE:
        PERL_UNUSED_VAR(items);
        fio_drain(aTHX);

# Waits until every request made so far has delivered its result (at program end), or
# $timeout seconds have passed; returns the number still outstanding.
UV
_flush(NV timeout = -1.)
    CODE:
    {
        uint64_t n = 0;
        NV deadline = timeout >= 0. ? wall_time(aTHX) + timeout : 0.;
        if (fio_pool) {
            for (;;) {
                NV left = -1.;
                bool ready;
                CHECK_STATUS(aers_fio_outstanding(fio_pool, &n), "AnyEvent::IO");
                if (!n)
                    break;
                if (timeout >= 0. && (left = deadline - wall_time(aTHX)) <= 0.)
                    break;
                CHECK_STATUS(aers_fio_wait(fio_pool, left, &ready), "AnyEvent::IO");
                fio_drain(aTHX);
            }
        }
        RETVAL = (UV)n;
    }
    OUTPUT:
        RETVAL

# The number of worker threads the pool may start (takes effect before its first request).
void
_set_threads(UV n)
    CODE:
        fio_max_threads = n ? (U32)n : 1;
