//! C ABI of the TLS contexts and sessions (rust/tls.rs). TLS errors return EPROTO (EINVAL for
//! bad configuration) with their message kept for `aers_tls_error_message`.

use super::bytes;
use super::guarded;
use crate::tls::{Context, Received, Session, Settings};
use std::cell::RefCell;
use std::io;
use std::slice;

thread_local! {
    static TLS_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn fail(status: i32, msg: String) -> io::Result<i32> {
    TLS_ERROR.with(|m| *m.borrow_mut() = msg);
    Ok(status)
}

unsafe fn ctx<'a>(p: *mut Context) -> &'a mut Context {
    &mut *p
}

unsafe fn sess<'a>(p: *mut Session) -> &'a mut Session {
    &mut *p
}

/// Copies the last TLS error message (NUL-terminated, truncated to `len`).
#[no_mangle]
pub extern "C" fn aers_tls_error_message(buf: *mut u8, len: usize) {
    if len == 0 {
        return;
    }
    TLS_ERROR.with(|m| super::copy_c_string(&m.borrow(), buf, len))
}

pub const TLS12: u32 = 1;
pub const TLS13: u32 = 2;
pub const VERIFY: u32 = 4;
pub const REQUIRE_CLIENT_CERT: u32 = 8;
pub const CHECK_PEERNAME: u32 = 16;
pub const DEFER_VERDICT: u32 = 32;
pub const CLIENT_TICKETS: u32 = 64;
pub const SERVER_TICKETS: u32 = 128;

/// A new context. `alpn` is the protocol list in wire form (each name prefixed by its length).
#[no_mangle]
pub extern "C" fn aers_tls_ctx_new(
    flags: u32,
    alpn: *const u8,
    alpn_len: usize,
    out: *mut *mut Context,
) -> i32 {
    guarded(|| {
        let mut names = Vec::new();
        let mut wire = unsafe { bytes(alpn, alpn_len) };
        while let Some((&n, rest)) = wire.split_first() {
            if n == 0 || rest.len() < n as usize {
                return fail(libc::EINVAL, "malformed ALPN protocol list".into());
            }
            names.push(rest[..n as usize].to_vec());
            wire = &rest[n as usize..];
        }
        let settings = Settings {
            tls12: flags & TLS12 != 0,
            tls13: flags & TLS13 != 0,
            verify: flags & VERIFY != 0,
            require_client_cert: flags & REQUIRE_CLIENT_CERT != 0,
            check_peername: flags & CHECK_PEERNAME != 0,
            defer_verdict: flags & DEFER_VERDICT != 0,
            client_tickets: flags & CLIENT_TICKETS != 0,
            server_tickets: flags & SERVER_TICKETS != 0,
            alpn: names,
        };
        unsafe { *out = Box::into_raw(Box::new(Context::new(settings))) };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_tls_ctx_free(c: *mut Context) {
    if !c.is_null() {
        let _ = guarded(|| {
            drop(unsafe { Box::from_raw(c) });
            Ok(0)
        });
    }
}

/// Stores a loader's count in `*count`, or turns its error into EINVAL with the message kept.
fn counted(r: Result<usize, rustls::Error>, count: *mut usize) -> io::Result<i32> {
    match r {
        Ok(n) => {
            unsafe { *count = n };
            Ok(0)
        }
        Err(e) => fail(libc::EINVAL, e.to_string()),
    }
}

/// Adds trusted certificates from PEM text; `*count` is how many were usable.
#[no_mangle]
pub extern "C" fn aers_tls_ctx_add_trusted(
    c: *mut Context,
    pem: *const u8,
    len: usize,
    count: *mut usize,
) -> i32 {
    guarded(|| {
        counted(
            unsafe { ctx(c) }.add_trusted_pem(unsafe { bytes(pem, len) }),
            count,
        )
    })
}

/// Sets the certificate chain from PEM text; `*count` is the number of certificates.
#[no_mangle]
pub extern "C" fn aers_tls_ctx_set_chain(
    c: *mut Context,
    pem: *const u8,
    len: usize,
    count: *mut usize,
) -> i32 {
    guarded(|| {
        counted(
            unsafe { ctx(c) }.set_chain_pem(unsafe { bytes(pem, len) }),
            count,
        )
    })
}

#[no_mangle]
pub extern "C" fn aers_tls_ctx_set_key(c: *mut Context, pem: *const u8, len: usize) -> i32 {
    guarded(
        || match unsafe { ctx(c) }.set_key_pem(unsafe { bytes(pem, len) }) {
            Ok(()) => Ok(0),
            Err(e) => fail(libc::EINVAL, e.to_string()),
        },
    )
}

/// A new session: server side when `server` is non-zero, else client side for `name`.
#[no_mangle]
pub extern "C" fn aers_tls_new(
    c: *mut Context,
    server: i32,
    name: *const u8,
    name_len: usize,
    out: *mut *mut Session,
) -> i32 {
    guarded(|| {
        let c = unsafe { ctx(c) };
        let made = if server != 0 {
            Session::server(c)
        } else {
            let name = std::str::from_utf8(unsafe { bytes(name, name_len) }).ok();
            Session::client(c, name)
        };
        match made {
            Ok(s) => {
                unsafe { *out = Box::into_raw(Box::new(s)) };
                Ok(0)
            }
            Err(e) => fail(libc::EPROTO, e.to_string()),
        }
    })
}

#[no_mangle]
pub extern "C" fn aers_tls_free(s: *mut Session) {
    if !s.is_null() {
        let _ = guarded(|| {
            drop(unsafe { Box::from_raw(s) });
            Ok(0)
        });
    }
}

/// Reads records from `fd`. `*what`: 0 records processed, 1 nothing to read, 2 end of file.
#[no_mangle]
pub extern "C" fn aers_tls_receive(s: *mut Session, fd: i32, what: *mut i32) -> i32 {
    guarded(|| match unsafe { sess(s) }.receive(fd) {
        Ok(r) => {
            unsafe {
                *what = match r {
                    Received::Records => 0,
                    Received::WouldBlock => 1,
                    Received::Eof => 2,
                }
            };
            Ok(0)
        }
        Err(Ok(tls)) => fail(libc::EPROTO, tls.to_string()),
        Err(Err(io)) => Err(io),
    })
}

/// Processes records already read from the socket (`buf`), as if they came from it.
#[no_mangle]
pub extern "C" fn aers_tls_feed(s: *mut Session, buf: *const u8, len: usize) -> i32 {
    guarded(
        || match unsafe { sess(s) }.feed(unsafe { bytes(buf, len) }) {
            Ok(()) => Ok(0),
            Err(e) => fail(libc::EPROTO, e.to_string()),
        },
    )
}

/// Decrypted data: status 0 with `*got` bytes (0: the peer closed TLS cleanly), EAGAIN when
/// none is buffered, EPIPE when the stream ended without close_notify.
#[no_mangle]
pub extern "C" fn aers_tls_read(s: *mut Session, buf: *mut u8, len: usize, got: *mut usize) -> i32 {
    guarded(|| {
        match unsafe { sess(s) }.read_plaintext(unsafe { slice::from_raw_parts_mut(buf, len) }) {
            Ok(n) => {
                unsafe { *got = n };
                Ok(0)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(libc::EAGAIN),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(libc::EPIPE),
            Err(e) => Err(e),
        }
    })
}

/// Hands plaintext to rustls; `*put` is how much it took (it bounds its buffer). EPROTO (message
/// kept) when the session already failed, e.g. on records a peer forged.
#[no_mangle]
pub extern "C" fn aers_tls_write(
    s: *mut Session,
    buf: *const u8,
    len: usize,
    put: *mut usize,
) -> i32 {
    // SAFETY: s is a live session from aers_tls_new, buf holds len bytes of a Perl string, and
    // put points at the glue's size_t (the glue's contract for every function here).
    guarded(|| {
        match io::Write::write(&mut unsafe { sess(s) }.conn.writer(), unsafe {
            bytes(buf, len)
        }) {
            Ok(n) => {
                // SAFETY: as above.
                unsafe { *put = n };
                Ok(0)
            }
            Err(e) => fail(libc::EPROTO, e.to_string()),
        }
    })
}

/// Sends buffered records to `fd`; `*done` is 1 when nothing is left.
#[no_mangle]
pub extern "C" fn aers_tls_flush(s: *mut Session, fd: i32, done: *mut i32) -> i32 {
    guarded(|| {
        let all = unsafe { sess(s) }.flush(fd)?;
        unsafe { *done = all as i32 };
        Ok(0)
    })
}

pub const HANDSHAKING: i32 = 1;
pub const WANTS_WRITE: i32 = 2;

/// State bits: HANDSHAKING, WANTS_WRITE.
#[no_mangle]
pub extern "C" fn aers_tls_state(s: *mut Session) -> i32 {
    let s = unsafe { sess(s) };
    (if s.conn.is_handshaking() {
        HANDSHAKING
    } else {
        0
    }) | (if s.conn.wants_write() { WANTS_WRITE } else { 0 })
}

/// The deferred verification verdict, taken once: 0 none, 1 passed, 2 failed (message kept).
#[no_mangle]
pub extern "C" fn aers_tls_take_verdict(s: *mut Session) -> i32 {
    match unsafe { sess(s) }.deferred.take() {
        None => 0,
        Some(None) => 1,
        Some(Some(msg)) => {
            TLS_ERROR.with(|m| *m.borrow_mut() = msg);
            2
        }
    }
}

/// The negotiated ALPN protocol (pointer into the session, valid until the next call), or 0.
#[no_mangle]
pub extern "C" fn aers_tls_alpn(s: *mut Session, out: *mut *const u8, len: *mut usize) -> i32 {
    match unsafe { sess(s) }.conn.alpn_protocol() {
        Some(p) => {
            unsafe { (*out, *len) = (p.as_ptr(), p.len()) };
            1
        }
        None => 0,
    }
}

/// The negotiated protocol version (0x0303 TLS 1.2, 0x0304 TLS 1.3), 0 before the handshake.
#[no_mangle]
pub extern "C" fn aers_tls_version(s: *mut Session) -> i32 {
    unsafe { sess(s) }
        .conn
        .protocol_version()
        .map(|v| u16::from(v) as i32)
        .unwrap_or(0)
}

/// The DER of the peer's certificate number `idx` (0: the peer's own), or 0 when none.
#[no_mangle]
pub extern "C" fn aers_tls_peer_cert(
    s: *mut Session,
    idx: usize,
    out: *mut *const u8,
    len: *mut usize,
) -> i32 {
    match unsafe { sess(s) }
        .conn
        .peer_certificates()
        .and_then(|c| c.get(idx))
    {
        Some(c) => {
            unsafe { (*out, *len) = (c.as_ref().as_ptr(), c.as_ref().len()) };
            1
        }
        None => 0,
    }
}

/// Queues a close_notify alert (sent by the next flush).
#[no_mangle]
pub extern "C" fn aers_tls_close_notify(s: *mut Session) {
    unsafe { sess(s) }.conn.send_close_notify();
}
