//! The resolver's sockets: UDP sockets bound to random ports (a small pool, each retired after
//! a number of queries so that source ports keep changing), and TCP connections for answers
//! that came back truncated. All are non-blocking and registered with the loop's mio poller
//! (edge-triggered: readers read until `WouldBlock`); the resolver is told when they are ready.
//! UDP datagrams go out and come in several per system call (`sendmmsg`, `recvmmsg`): a busy
//! resolver sends a query for each answer it reads, and the calls were most of its time.

use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use socket2::SockAddr;

/// Datagrams handed to the kernel per `sendmmsg`.
const SEND_BATCH: usize = 64;
/// Datagrams read per `recvmmsg`.
pub(crate) const RECV_BATCH: usize = 16;
/// The largest UDP payload: a receive buffer this big never cuts a datagram short.
const MAX_DATAGRAM: usize = 65536;

/// Sockets kept open per address family.
pub(crate) const POOL_SIZE: usize = 4;
/// Queries a UDP socket sends before it is replaced by one on a fresh random port.
pub(crate) const QUERIES_PER_SOCKET: u32 = 256;

pub(crate) struct UdpSock {
    pub(crate) socket: UdpSocket,
    pub(crate) v6: bool,
    /// Queries sent from it so far.
    pub(crate) sent: u32,
    /// Queries still waiting for an answer on it.
    pub(crate) pending: u32,
    /// No new queries go out on it; it closes when nothing is pending.
    pub(crate) retired: bool,
    /// Its token in the resolver (the low half of its mio token).
    pub(crate) token: u32,
    /// Registered with the poller.
    registered: bool,
}

impl UdpSock {
    /// A socket on a random unprivileged port (the kernel's choice if none of a few random
    /// picks is free).
    pub(crate) fn bind_random(v6: bool) -> io::Result<UdpSock> {
        let ip = if v6 {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        let mut last_err = None;
        for _ in 0..8 {
            let port: u16 = rand::random_range(1025..=65535);
            match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
                Ok(s) => return Self::wrap(s, v6),
                Err(e) => last_err = Some(e),
            }
        }
        match std::net::UdpSocket::bind(SocketAddr::new(ip, 0)) {
            Ok(s) => Self::wrap(s, v6),
            Err(e) => Err(last_err.unwrap_or(e)),
        }
    }

    fn wrap(s: std::net::UdpSocket, v6: bool) -> io::Result<UdpSock> {
        s.set_nonblocking(true)?;
        Ok(UdpSock {
            socket: UdpSocket::from_std(s),
            v6,
            sent: 0,
            pending: 0,
            retired: false,
            token: 0,
            registered: false,
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Sends each `(packet, server)` as a datagram, as many per system call as the kernel
    /// takes. One the kernel refuses is lost, as a datagram may be on the wire: its try times
    /// out.
    pub(crate) fn send_all(&self, datagrams: &[(&[u8], SocketAddr)]) {
        for chunk in datagrams.chunks(SEND_BATCH) {
            let addrs: Vec<SockAddr> = chunk.iter().map(|&(_, to)| to.into()).collect();
            let mut iovs: Vec<libc::iovec> = chunk
                .iter()
                .map(|&(packet, _)| libc::iovec {
                    iov_base: packet.as_ptr() as *mut libc::c_void,
                    iov_len: packet.len(),
                })
                .collect();
            let mut msgs: Vec<libc::mmsghdr> = iovs
                .iter_mut()
                .zip(&addrs)
                .map(|(iov, to)| {
                    // SAFETY: mmsghdr is plain data, for which all zeroes is a valid value.
                    let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    m.msg_hdr.msg_name = to.as_ptr() as *mut libc::c_void;
                    m.msg_hdr.msg_namelen = to.len();
                    m.msg_hdr.msg_iov = iov;
                    m.msg_hdr.msg_iovlen = 1;
                    m
                })
                .collect();
            let mut sent = 0;
            while sent < msgs.len() {
                let rest = &mut msgs[sent..];
                // SAFETY: `rest` holds `rest.len()` headers whose names and buffers (`addrs`,
                // `iovs` and the packets) outlive the call; the kernel only reads them.
                let n = unsafe {
                    libc::sendmmsg(self.fd(), rest.as_mut_ptr(), rest.len() as libc::c_uint, 0)
                };
                if n > 0 {
                    sent += n as usize;
                } else if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    sent += 1;
                }
            }
        }
    }

    /// Reads up to `max` waiting datagrams (at most the batch's size) in one call; how many
    /// (at least one; [`RecvBatch::datagram`] has them), or the error (`WouldBlock` when none
    /// is waiting).
    pub(crate) fn recv_batch(&self, batch: &mut RecvBatch, max: usize) -> io::Result<usize> {
        let RecvBatch {
            bufs,
            addrs,
            msgs,
            iovs,
        } = batch;
        let count = max.min(msgs.len());
        for (i, m) in msgs[..count].iter_mut().enumerate() {
            iovs[i] = libc::iovec {
                iov_base: bufs[i].as_mut_ptr() as *mut libc::c_void,
                iov_len: bufs[i].len(),
            };
            m.msg_hdr.msg_name = &mut addrs[i] as *mut libc::sockaddr_storage as *mut libc::c_void;
            m.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.msg_iovlen = 1;
            m.msg_len = 0;
        }
        // SAFETY: every header points at a buffer, an iovec and an address slot of `batch`,
        // which the kernel may write within the lengths given and which outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                self.fd(),
                msgs.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Registers the socket for reading under `token`.
    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.socket, token, Interest::READABLE)?;
        self.registered = true;
        Ok(())
    }

    /// Removes the socket from the poller (before it closes, so that no copy of the descriptor
    /// in another process keeps it there).
    pub(crate) fn deregister(&mut self, registry: &Registry) {
        if std::mem::take(&mut self.registered) {
            let _ = registry.deregister(&mut self.socket);
        }
    }
}

/// Room for a batch of datagrams read at once ([`UdpSock::recv_batch`]).
pub(crate) struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    addrs: Vec<libc::sockaddr_storage>,
    msgs: Vec<libc::mmsghdr>,
    iovs: Vec<libc::iovec>,
}

impl RecvBatch {
    pub(crate) fn new(size: usize) -> RecvBatch {
        // SAFETY: sockaddr_storage and mmsghdr are plain data, for which all zeroes is valid.
        let (addr, msg) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        RecvBatch {
            bufs: (0..size).map(|_| vec![0; MAX_DATAGRAM]).collect(),
            addrs: vec![addr; size],
            msgs: vec![msg; size],
            iovs: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                size
            ],
        }
    }

    /// Datagram `i` of the last [`UdpSock::recv_batch`]: its bytes and where it came from
    /// (none for an address that is no IP socket address).
    pub(crate) fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let m = &self.msgs[i];
        let len = (m.msg_len as usize).min(self.bufs[i].len());
        // SAFETY: the kernel wrote an address of `msg_namelen` bytes into the storage.
        let from = unsafe { SockAddr::new(self.addrs[i], m.msg_hdr.msg_namelen) };
        (&self.bufs[i][..len], from.as_socket())
    }
}

/// One DNS exchange over TCP: connect, write the length-prefixed query, read one
/// length-prefixed answer.
pub(crate) struct TcpExchange {
    stream: TcpStream,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    /// Its token in the resolver (the low half of its mio token).
    pub(crate) token: u32,
    /// Registered with the poller.
    registered: bool,
}

impl TcpExchange {
    pub(crate) fn start(server: SocketAddr, query: &[u8]) -> io::Result<TcpExchange> {
        let stream = TcpStream::connect(server)?;
        let mut out = Vec::with_capacity(query.len() + 2);
        out.extend_from_slice(&(query.len() as u16).to_be_bytes());
        out.extend_from_slice(query);
        Ok(TcpExchange {
            stream,
            out,
            written: 0,
            input: Vec::new(),
            token: 0,
            registered: false,
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Registers the connection for reading and writing under `token` (edge-triggered: the
    /// connect completing, room to write and the answer arriving are each reported once).
    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(
            &mut self.stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.registered = true;
        Ok(())
    }

    /// Removes the connection from the poller (before it closes).
    pub(crate) fn deregister(&mut self, registry: &Registry) {
        if std::mem::take(&mut self.registered) {
            let _ = registry.deregister(&mut self.stream);
        }
    }

    pub(crate) fn wants_write(&self) -> bool {
        self.written < self.out.len()
    }

    /// Finishes the connect and writes what the socket takes.
    pub(crate) fn on_writable(&mut self) -> io::Result<()> {
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        while self.wants_write() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what is there; the answer once it is complete.
    pub(crate) fn on_readable(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut chunk = [0u8; 16384];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
            if let Some(answer) = self.complete_answer() {
                return Ok(Some(answer));
            }
        }
        Ok(self.complete_answer())
    }

    fn complete_answer(&self) -> Option<Vec<u8>> {
        let len = u16::from_be_bytes([*self.input.first()?, *self.input.get(1)?]) as usize;
        self.input.get(2..2 + len).map(|a| a.to_vec())
    }
}
