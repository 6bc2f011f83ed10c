//! C ABI of the socket area (rust/socket.rs), for `AnyEvent::Socket`'s glue (xs/socket.xsh).
//! Addresses cross as raw `sockaddr` bytes: inputs as pointer + length, outputs into a caller
//! buffer whose capacity `*len` holds on entry and whose used length it holds on return.
//!
//! Safety, for every function here: a pointer/length pair points at that many readable bytes
//! (an address output: `*len` writable bytes), and every out-pointer points at a writable value
//! of its type.

use super::bytes;
use super::contract::{call, Fail, Status};
use crate::socket;
use socket2::SockAddr;

/// The address in the caller's bytes (EINVAL for null).
///
/// # Safety
/// Unless null, `addr` points at `len` readable bytes.
unsafe fn addr_in(addr: *const u8, len: usize) -> Result<SockAddr, Fail> {
    if addr.is_null() {
        return Err(Fail::errno(libc::EINVAL));
    }
    // SAFETY: the caller's guarantee.
    Ok(socket::sockaddr_from_bytes(unsafe { bytes(addr, len) })?)
}

/// Copies `addr` into the caller's buffer (ENOSPC when it does not fit).
///
/// # Safety
/// `len` is writable and holds the capacity of `buf`, which is writable.
unsafe fn addr_out(addr: &SockAddr, buf: *mut u8, len: *mut usize) -> Result<(), Fail> {
    let bytes = socket::sockaddr_bytes(addr);
    // SAFETY: the caller's guarantee.
    unsafe {
        if bytes.len() > *len {
            return Err(Fail::errno(libc::ENOSPC));
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        len.write(bytes.len());
    }
    Ok(())
}

/// A new non-blocking, close-on-exec socket in `*fd`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_open(
    domain: i32,
    ty: i32,
    protocol: i32,
    fd: *mut i32,
) -> Status {
    call(|| {
        let new = socket::open(domain, ty, protocol)?;
        // SAFETY: the module's contract.
        unsafe { fd.write(new) };
        Ok(())
    })
}

/// Starts a connect: 0 when connected at once, EINPROGRESS when it goes on in the background.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_connect(fd: i32, addr: *const u8, len: usize) -> Status {
    call(|| {
        // SAFETY: the module's contract.
        socket::connect(fd, &unsafe { addr_in(addr, len) }?)?;
        Ok(())
    })
}

/// Where a background connect stands: 0 with the peer address in `peer` when connected, 0 with
/// `*len` = 0 while in progress, the connect's errno when it failed.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_connect_result(
    fd: i32,
    peer: *mut u8,
    len: *mut usize,
) -> Status {
    call(|| match socket::connect_result(fd)? {
        // SAFETY: the module's contract.
        Some(addr) => unsafe { addr_out(&addr, peer, len) },
        None => {
            // SAFETY: the module's contract.
            unsafe { len.write(0) };
            Ok(())
        }
    })
}

/// Binds `fd`, with SO_REUSEADDR when `reuse_address` is non-zero and IPV6_V6ONLY set to
/// `only_v6` unless it is negative.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_bind(
    fd: i32,
    addr: *const u8,
    len: usize,
    reuse_address: i32,
    only_v6: i32,
) -> Status {
    call(|| {
        let only_v6 = if only_v6 < 0 {
            None
        } else {
            Some(only_v6 != 0)
        };
        // SAFETY: the module's contract.
        let addr = unsafe { addr_in(addr, len) }?;
        socket::bind(fd, &addr, reuse_address != 0, only_v6)?;
        Ok(())
    })
}

/// Listens on `fd` with room for `backlog` pending connections.
#[no_mangle]
pub extern "C" fn aers_socket_listen(fd: i32, backlog: i32) -> Status {
    call(|| {
        socket::listen(fd, backlog)?;
        Ok(())
    })
}

/// Accepts one pending connection into `*out_fd` (non-blocking, close-on-exec) with the peer
/// address in `peer`; EAGAIN when none is pending.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_accept(
    fd: i32,
    out_fd: *mut i32,
    peer: *mut u8,
    len: *mut usize,
) -> Status {
    call(|| {
        let (new_fd, addr) = socket::accept(fd)?;
        // SAFETY: the module's contract.
        unsafe {
            out_fd.write(new_fd);
            addr_out(&addr, peer, len)
        }
    })
}

/// The local address of `fd` (getsockname) in `buf`.
///
/// # Safety
/// As in the module documentation.
#[no_mangle]
pub unsafe extern "C" fn aers_socket_local_addr(fd: i32, buf: *mut u8, len: *mut usize) -> Status {
    call(|| {
        let addr = socket::local_addr(fd)?;
        // SAFETY: the module's contract.
        unsafe { addr_out(&addr, buf, len) }
    })
}
