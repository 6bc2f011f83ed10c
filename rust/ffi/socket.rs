//! C ABI of the socket area (rust/socket.rs). Addresses cross as raw `sockaddr` bytes: inputs as
//! pointer + length, outputs into a caller buffer whose capacity `*len` holds on entry and
//! whose used length it holds on return. Statuses as everywhere: 0, an errno, or PANICKED.

use super::guarded;
use crate::socket;
use socket2::SockAddr;
use std::io;

fn addr_in(addr: *const u8, len: usize) -> io::Result<SockAddr> {
    if addr.is_null() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    socket::sockaddr_from_bytes(unsafe { std::slice::from_raw_parts(addr, len) })
}

fn addr_out(addr: &SockAddr, buf: *mut u8, len: *mut usize) -> io::Result<i32> {
    let bytes = socket::sockaddr_bytes(addr);
    let capacity = unsafe { *len };
    if bytes.len() > capacity {
        return Err(io::Error::from_raw_os_error(libc::ENOSPC));
    }
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        *len = bytes.len();
    }
    Ok(0)
}

/// A new non-blocking, close-on-exec socket in `*fd`.
#[no_mangle]
pub extern "C" fn aers_socket_open(domain: i32, ty: i32, protocol: i32, fd: *mut i32) -> i32 {
    guarded(|| {
        unsafe { *fd = socket::open(domain, ty, protocol)? };
        Ok(0)
    })
}

/// Starts a connect: 0 when connected at once, EINPROGRESS when it goes on in the background.
#[no_mangle]
pub extern "C" fn aers_socket_connect(fd: i32, addr: *const u8, len: usize) -> i32 {
    guarded(|| {
        socket::connect(fd, &addr_in(addr, len)?)?;
        Ok(0)
    })
}

/// Where a background connect stands: 0 with the peer address in `peer` when connected, 0 with
/// `*len` = 0 while in progress, the connect's errno when it failed.
#[no_mangle]
pub extern "C" fn aers_socket_connect_result(fd: i32, peer: *mut u8, len: *mut usize) -> i32 {
    guarded(|| match socket::connect_result(fd)? {
        Some(addr) => addr_out(&addr, peer, len),
        None => {
            unsafe { *len = 0 };
            Ok(0)
        }
    })
}

/// Binds `fd`, with SO_REUSEADDR when `reuse_address` is non-zero and IPV6_V6ONLY set to
/// `only_v6` unless it is negative.
#[no_mangle]
pub extern "C" fn aers_socket_bind(
    fd: i32,
    addr: *const u8,
    len: usize,
    reuse_address: i32,
    only_v6: i32,
) -> i32 {
    guarded(|| {
        let only_v6 = if only_v6 < 0 {
            None
        } else {
            Some(only_v6 != 0)
        };
        socket::bind(fd, &addr_in(addr, len)?, reuse_address != 0, only_v6)?;
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn aers_socket_listen(fd: i32, backlog: i32) -> i32 {
    guarded(|| {
        socket::listen(fd, backlog)?;
        Ok(0)
    })
}

/// Accepts one pending connection into `*out_fd` (non-blocking, close-on-exec) with the peer
/// address in `peer`; EAGAIN when none is pending.
#[no_mangle]
pub extern "C" fn aers_socket_accept(
    fd: i32,
    out_fd: *mut i32,
    peer: *mut u8,
    len: *mut usize,
) -> i32 {
    guarded(|| {
        let (new_fd, addr) = socket::accept(fd)?;
        unsafe { *out_fd = new_fd };
        addr_out(&addr, peer, len)
    })
}

/// The local address of `fd` (getsockname).
#[no_mangle]
pub extern "C" fn aers_socket_local_addr(fd: i32, buf: *mut u8, len: *mut usize) -> i32 {
    guarded(|| addr_out(&socket::local_addr(fd)?, buf, len))
}
