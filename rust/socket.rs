//! Sockets for AnyEvent::Socket: non-blocking, close-on-exec stream sockets, non-blocking
//! connects, listeners with SO_REUSEADDR, and accept. Descriptors are handed to the caller as
//! raw fds (the Perl side wraps them in file handles and owns them from then on); addresses
//! travel as raw `sockaddr` bytes, the form Perl's socket functions use.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::mem::{size_of, ManuallyDrop, MaybeUninit};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};

/// Borrows a descriptor the caller owns, for the duration of one call: never closed here.
fn borrow(fd: RawFd) -> ManuallyDrop<Socket> {
    // SAFETY: the Socket never closes fd (ManuallyDrop), so ownership stays with the caller.
    ManuallyDrop::new(unsafe { Socket::from_raw_fd(fd) })
}

/// A socket address from raw `sockaddr` bytes (as Perl's pack_sockaddr_in & co. produce them).
pub(crate) fn sockaddr_from_bytes(bytes: &[u8]) -> io::Result<SockAddr> {
    if bytes.len() < size_of::<libc::sa_family_t>()
        || bytes.len() > size_of::<libc::sockaddr_storage>()
    {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    // SAFETY: bytes fits in the zeroed storage (checked above), which any bytes initialise.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            storage.as_mut_ptr().cast::<u8>(),
            bytes.len(),
        );
        Ok(SockAddr::new(
            storage.assume_init(),
            bytes.len() as libc::socklen_t,
        ))
    }
}

/// The raw bytes of a socket address.
pub(crate) fn sockaddr_bytes(addr: &SockAddr) -> &[u8] {
    // SAFETY: a SockAddr holds addr.len() initialised bytes of storage.
    unsafe { std::slice::from_raw_parts(addr.as_ptr().cast::<u8>(), addr.len() as usize) }
}

/// A new non-blocking, close-on-exec socket.
pub(crate) fn open(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    let protocol = if protocol == 0 {
        None
    } else {
        Some(Protocol::from(protocol))
    };
    let socket = Socket::new(Domain::from(domain), Type::from(ty).nonblocking(), protocol)?;
    Ok(socket.into_raw_fd())
}

/// Starts a connect; `Err(EINPROGRESS)` means it continues in the background (wait for
/// writability, then ask [`connect_result`]).
pub(crate) fn connect(fd: RawFd, addr: &SockAddr) -> io::Result<()> {
    borrow(fd).connect(addr)
}

/// The outcome of a background connect: `Ok(None)` while it is still in progress, the peer
/// address once connected, or the error that ended it.
pub(crate) fn connect_result(fd: RawFd) -> io::Result<Option<SockAddr>> {
    let socket = borrow(fd);
    // a connected socket has a peer: one system call in the common case
    match socket.peer_addr() {
        Ok(peer) => Ok(Some(peer)),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => match socket.take_error()? {
            Some(error) => Err(error),
            None => Ok(None),
        },
        Err(e) => Err(e),
    }
}

/// Binds a listening socket: SO_REUSEADDR for internet sockets, and IPV6_V6ONLY as asked
/// (`None` leaves the system default).
pub(crate) fn bind(
    fd: RawFd,
    addr: &SockAddr,
    reuse_address: bool,
    only_v6: Option<bool>,
) -> io::Result<()> {
    let socket = borrow(fd);
    if reuse_address {
        socket.set_reuse_address(true)?;
    }
    if let Some(only) = only_v6 {
        socket.set_only_v6(only)?;
    }
    socket.bind(addr)
}

pub(crate) fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    borrow(fd).listen(backlog)
}

/// Accepts one connection as a non-blocking, close-on-exec socket; `Err(EAGAIN)` when none
/// is pending.
pub(crate) fn accept(fd: RawFd) -> io::Result<(RawFd, SockAddr)> {
    let (socket, peer) = borrow(fd).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)?;
    Ok((socket.into_raw_fd(), peer))
}

pub(crate) fn local_addr(fd: RawFd) -> io::Result<SockAddr> {
    borrow(fd).local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};

    fn close(fd: RawFd) {
        // SAFETY: the tests close only descriptors they opened and no longer use.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn connect_accept_over_loopback() {
        let listener = open(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        let any = SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        bind(listener, &any, true, None).unwrap();
        listen(listener, 8).unwrap();
        let addr = local_addr(listener).unwrap();
        let addr = sockaddr_from_bytes(sockaddr_bytes(&addr)).unwrap();

        let client = open(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        match connect(client, &addr) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS)),
        }
        let (server_side, peer) = loop {
            match accept(listener) {
                Ok(pair) => break pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("accept: {e}"),
            }
        };
        let connected = loop {
            if let Some(p) = connect_result(client).unwrap() {
                break p;
            }
            std::thread::yield_now();
        };
        assert_eq!(connected.as_socket(), addr.as_socket());
        assert_eq!(peer.as_socket(), local_addr(client).unwrap().as_socket());
        for fd in [server_side, client, listener] {
            // SAFETY: F_GETFD takes no pointer; fd is the test's own.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            assert!(flags & libc::FD_CLOEXEC != 0);
            close(fd);
        }
    }

    #[test]
    fn refused_connect_reports_econnrefused() {
        let listener = open(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        bind(
            listener,
            &SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            true,
            None,
        )
        .unwrap();
        let addr = local_addr(listener).unwrap();
        close(listener); // bound but never listening, then closed: nothing accepts there
        let client = open(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        let err = match connect(client, &addr) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
                match connect_result(client) {
                    Ok(None) => std::thread::yield_now(),
                    Ok(Some(_)) => panic!("connected to a closed port"),
                    Err(e) => break e,
                }
            },
            Err(e) => e,
            Ok(()) => panic!("connected to a closed port"),
        };
        assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED));
        close(client);
    }

    #[test]
    fn short_sockaddr_is_rejected() {
        assert_eq!(
            sockaddr_from_bytes(&[1]).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
    }
}
