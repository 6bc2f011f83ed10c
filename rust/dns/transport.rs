//! The resolver's sockets: UDP sockets bound to random ports (a small pool, each retired after
//! a number of queries so that source ports keep changing), and TCP connections for answers
//! that came back truncated. All are non-blocking and registered with the loop's mio poller
//! (edge-triggered: readers read until `WouldBlock`); the resolver is told when they are ready.

use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

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
