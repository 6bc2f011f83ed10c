//! C ABI of the TLS contexts and sessions (rust/tls.rs), for the glue in xs/handle.xsh and the
//! Handle engine in xs/handle.c (its TLS write loop and reads). TLS errors return EPROTO (EINVAL for bad configuration) with their message in the last-error
//! channel (`aers_last_error`).
//!
//! Safety, for every function here: `c` is a context from [`aers_tls_ctx_new`] and `s` a
//! session from [`aers_tls_new`], not yet freed, used by one call at a time; a pointer/length
//! pair points at that many bytes (readable; writable for `aers_tls_read`) that nothing else
//! uses during the call; every out-pointer points at a writable value of its type.

use super::contract::{call, set_last_error, Fail, Status};
use super::{bytes, bytes_mut};
use crate::tls::{Context, Received, Session, Settings};
use std::io;

/// The context behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
unsafe fn ctx<'a>(p: *mut Context) -> &'a mut Context {
    // SAFETY: the module's contract.
    unsafe { &mut *p }
}

/// The session behind the glue's pointer.
///
/// # Safety
/// As in the module documentation.
unsafe fn sess<'a>(p: *mut Session) -> &'a mut Session {
    // SAFETY: the module's contract.
    unsafe { &mut *p }
}

/// Context flag: TLS 1.2 allowed.
pub const AERS_TLS12: u32 = 1;
/// Context flag: TLS 1.3 allowed.
pub const AERS_TLS13: u32 = 2;
/// Context flag: verify the peer's certificate chain.
pub const AERS_TLS_VERIFY: u32 = 4;
/// Context flag: a server requires a client certificate.
pub const AERS_TLS_REQUIRE_CLIENT_CERT: u32 = 8;
/// Context flag: check the peer's name against its certificate.
pub const AERS_TLS_CHECK_PEERNAME: u32 = 16;
/// Context flag: verification failures are reported by `aers_tls_take_verdict` instead of
/// failing the handshake.
pub const AERS_TLS_DEFER_VERDICT: u32 = 32;
/// Context flag: a client resumes sessions with tickets.
pub const AERS_TLS_CLIENT_TICKETS: u32 = 64;
/// Context flag: a server issues session tickets.
pub const AERS_TLS_SERVER_TICKETS: u32 = 128;

/// A new context in `*out`. `alpn` is the protocol list in wire form (each name prefixed by
/// its length).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_ctx_new(
    flags: u32,
    alpn: *const u8,
    alpn_len: usize,
    out: *mut *mut Context,
) -> Status {
    call(|| {
        let mut names = Vec::new();
        // SAFETY: the module's contract.
        let mut wire = unsafe { bytes(alpn, alpn_len) };
        while let Some((&n, rest)) = wire.split_first() {
            if n == 0 || rest.len() < n as usize {
                return Err(Fail::msg(libc::EINVAL, "malformed ALPN protocol list"));
            }
            names.push(rest[..n as usize].to_vec());
            wire = &rest[n as usize..];
        }
        let settings = Settings {
            tls12: flags & AERS_TLS12 != 0,
            tls13: flags & AERS_TLS13 != 0,
            verify: flags & AERS_TLS_VERIFY != 0,
            require_client_cert: flags & AERS_TLS_REQUIRE_CLIENT_CERT != 0,
            check_peername: flags & AERS_TLS_CHECK_PEERNAME != 0,
            defer_verdict: flags & AERS_TLS_DEFER_VERDICT != 0,
            client_tickets: flags & AERS_TLS_CLIENT_TICKETS != 0,
            server_tickets: flags & AERS_TLS_SERVER_TICKETS != 0,
            alpn: names,
        };
        // SAFETY: the module's contract.
        unsafe { out.write(Box::into_raw(Box::new(Context::new(settings)))) };
        Ok(())
    })
}

/// Frees a context (null: nothing to do).
///
/// # Safety
/// As in the module documentation; `c` is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_ctx_free(c: *mut Context) -> Status {
    call(|| {
        if !c.is_null() {
            // SAFETY: c came from Box::into_raw in aers_tls_ctx_new and is freed once.
            drop(unsafe { Box::from_raw(c) });
        }
        Ok(())
    })
}

/// Stores a loader's count in `*count`, or fails with EINVAL and its message.
///
/// # Safety
/// `count` points at a writable size_t.
unsafe fn counted(r: Result<usize, rustls::Error>, count: *mut usize) -> Result<(), Fail> {
    let n = r.map_err(|e| Fail::msg(libc::EINVAL, e.to_string()))?;
    // SAFETY: the caller's guarantee.
    unsafe { count.write(n) };
    Ok(())
}

/// Adds trusted certificates from PEM text; `*count` is how many were usable.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_ctx_add_trusted(
    c: *mut Context,
    pem: *const u8,
    len: usize,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { counted(ctx(c).add_trusted_pem(bytes(pem, len)), count) }
    })
}

/// Sets the certificate chain from PEM text; `*count` is the number of certificates.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_ctx_set_chain(
    c: *mut Context,
    pem: *const u8,
    len: usize,
    count: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { counted(ctx(c).set_chain_pem(bytes(pem, len)), count) }
    })
}

/// Sets the private key from PEM text.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_ctx_set_key(
    c: *mut Context,
    pem: *const u8,
    len: usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { ctx(c).set_key_pem(bytes(pem, len)) }
            .map_err(|e| Fail::msg(libc::EINVAL, e.to_string()))
    })
}

/// A new session in `*out`: server side when `server` is non-zero, else client side for
/// `name`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_new(
    c: *mut Context,
    server: i32,
    name: *const u8,
    name_len: usize,
    out: *mut *mut Session,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let c = unsafe { ctx(c) };
        let made = if server != 0 {
            Session::server(c)
        } else {
            // SAFETY: the module's contract.
            let name = std::str::from_utf8(unsafe { bytes(name, name_len) }).ok();
            Session::client(c, name)
        };
        let s = made.map_err(|e| Fail::msg(libc::EPROTO, e.to_string()))?;
        // SAFETY: the module's contract.
        unsafe { out.write(Box::into_raw(Box::new(s))) };
        Ok(())
    })
}

/// Frees a session (null: nothing to do).
///
/// # Safety
/// As in the module documentation; `s` is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_free(s: *mut Session) -> Status {
    call(|| {
        if !s.is_null() {
            // SAFETY: s came from Box::into_raw in aers_tls_new and is freed once.
            drop(unsafe { Box::from_raw(s) });
        }
        Ok(())
    })
}

/// `aers_tls_receive`: records were processed.
pub const AERS_TLS_RECORDS: i32 = 0;
/// `aers_tls_receive`: nothing to read.
pub const AERS_TLS_WOULD_BLOCK: i32 = 1;
/// `aers_tls_receive`: end of file.
pub const AERS_TLS_EOF: i32 = 2;

/// Reads records from `fd`; `*what` is one of `AERS_TLS_RECORDS`, `AERS_TLS_WOULD_BLOCK`,
/// `AERS_TLS_EOF`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_receive(s: *mut Session, fd: i32, what: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let r = match unsafe { sess(s) }.receive(fd) {
            Ok(r) => r,
            Err(Ok(tls)) => return Err(Fail::msg(libc::EPROTO, tls.to_string())),
            Err(Err(io)) => return Err(io.into()),
        };
        let code = match r {
            Received::Records => AERS_TLS_RECORDS,
            Received::WouldBlock => AERS_TLS_WOULD_BLOCK,
            Received::Eof => AERS_TLS_EOF,
        };
        // SAFETY: the module's contract.
        unsafe { what.write(code) };
        Ok(())
    })
}

/// Processes records already read from the socket (`buf`), as if they came from it.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_feed(s: *mut Session, buf: *const u8, len: usize) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { sess(s).feed(bytes(buf, len)) }.map_err(|e| Fail::msg(libc::EPROTO, e.to_string()))
    })
}

/// Decrypted data: `*got` bytes (0: the peer closed TLS cleanly); EAGAIN when none is
/// buffered, EPIPE when the stream ended without close_notify.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_read(
    s: *mut Session,
    buf: *mut u8,
    len: usize,
    got: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        match unsafe { sess(s).read_plaintext(bytes_mut(buf, len)) } {
            Ok(n) => {
                // SAFETY: the module's contract.
                unsafe { got.write(n) };
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Fail::errno(libc::EAGAIN)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Fail::errno(libc::EPIPE)),
            Err(e) => Err(e.into()),
        }
    })
}

/// Hands plaintext to rustls; `*put` is how much it took (it bounds its buffer). EPROTO (with
/// the message) when the session already failed, e.g. on records a peer forged.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_write(
    s: *mut Session,
    buf: *const u8,
    len: usize,
    put: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let (s, data) = unsafe { (sess(s), bytes(buf, len)) };
        let n = io::Write::write(&mut s.conn.writer(), data)
            .map_err(|e| Fail::msg(libc::EPROTO, e.to_string()))?;
        // SAFETY: the module's contract.
        unsafe { put.write(n) };
        Ok(())
    })
}

/// Sends buffered records to `fd`; `*done` is true when nothing is left.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_flush(s: *mut Session, fd: i32, done: *mut bool) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let all = unsafe { sess(s) }.flush(fd)?;
        // SAFETY: the module's contract.
        unsafe { done.write(all) };
        Ok(())
    })
}

/// `aers_tls_state` bit: the handshake is still going on.
pub const AERS_TLS_HANDSHAKING: i32 = 1;
/// `aers_tls_state` bit: records wait to be sent.
pub const AERS_TLS_WANTS_WRITE: i32 = 2;

/// The session's state bits (`AERS_TLS_HANDSHAKING`, `AERS_TLS_WANTS_WRITE`) in `*state`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_state(s: *mut Session, state: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let conn = &unsafe { sess(s) }.conn;
        let bits = if conn.is_handshaking() {
            AERS_TLS_HANDSHAKING
        } else {
            0
        } | if conn.wants_write() {
            AERS_TLS_WANTS_WRITE
        } else {
            0
        };
        // SAFETY: the module's contract.
        unsafe { state.write(bits) };
        Ok(())
    })
}

/// `aers_tls_take_verdict`: no deferred verdict (Rust decided during the handshake).
pub const AERS_TLS_VERDICT_NONE: i32 = 0;
/// `aers_tls_take_verdict`: the deferred verification passed.
pub const AERS_TLS_VERDICT_PASSED: i32 = 1;
/// `aers_tls_take_verdict`: the deferred verification failed (message in the last error).
pub const AERS_TLS_VERDICT_FAILED: i32 = 2;

/// The deferred verification verdict, taken once, in `*verdict`: one of the
/// `AERS_TLS_VERDICT_*` values; a failure's message goes to the last-error channel.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_take_verdict(s: *mut Session, verdict: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let v = match unsafe { sess(s) }.deferred.take() {
            None => AERS_TLS_VERDICT_NONE,
            Some(None) => AERS_TLS_VERDICT_PASSED,
            Some(Some(msg)) => {
                // A verdict, not a failed call: the status stays 0, the message is kept.
                set_last_error(msg);
                AERS_TLS_VERDICT_FAILED
            }
        };
        // SAFETY: the module's contract.
        unsafe { verdict.write(v) };
        Ok(())
    })
}

/// The negotiated ALPN protocol: `*out` points into the session (valid until the next call on
/// it) with `*len` bytes, or is null when none was negotiated.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_alpn(
    s: *mut Session,
    out: *mut *const u8,
    len: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let p = unsafe { sess(s) }.conn.alpn_protocol();
        // SAFETY: the module's contract.
        unsafe {
            out.write(p.map_or(std::ptr::null(), |p| p.as_ptr()));
            len.write(p.map_or(0, |p| p.len()));
        }
        Ok(())
    })
}

/// The negotiated protocol version in `*version` (0x0303 TLS 1.2, 0x0304 TLS 1.3), 0 before
/// the handshake.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_version(s: *mut Session, version: *mut i32) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let v = unsafe { sess(s) }.conn.protocol_version();
        // SAFETY: the module's contract.
        unsafe { version.write(v.map_or(0, |v| u16::from(v) as i32)) };
        Ok(())
    })
}

/// The DER of the peer's certificate number `idx` (0: the peer's own): `*out` points into the
/// session (valid until the next call on it) with `*len` bytes, or is null when there is none.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_peer_cert(
    s: *mut Session,
    idx: usize,
    out: *mut *const u8,
    len: *mut usize,
) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        let cert = unsafe { sess(s) }
            .conn
            .peer_certificates()
            .and_then(|c| c.get(idx))
            .map(|c| c.as_ref());
        // SAFETY: the module's contract.
        unsafe {
            out.write(cert.map_or(std::ptr::null(), |c| c.as_ptr()));
            len.write(cert.map_or(0, |c| c.len()));
        }
        Ok(())
    })
}

/// Queues a close_notify alert (sent by the next flush).
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_tls_close_notify(s: *mut Session) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        unsafe { sess(s) }.conn.send_close_notify();
        Ok(())
    })
}
