//! Byte-stream I/O on a file descriptor for the TLS sessions (rust/tls.rs): non-blocking reads
//! and writes, writev of queued records; and the netstring parser of AnyEvent::Handle's
//! netstring read type. (A plain Handle reads and writes its socket from C, xs/handle.c.)

use std::io;

/// Reads once from `fd` into `buf`. Ok(0) is end of file.
pub(crate) fn read_into(fd: i32, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is writable for its length; a bad fd only makes the call fail.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Writes once from `buf` to `fd`. Sockets are written with MSG_NOSIGNAL so a closed peer is
/// an EPIPE error, not a SIGPIPE; other descriptors fall back to write(2).
pub(crate) fn write_from(fd: i32, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is readable for its length; a bad fd only makes the call fail.
        let mut n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOTSOCK) {
            // SAFETY: as above.
            n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        }
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Writes the buffers in order with one writev(2) (sockets: sendmsg with MSG_NOSIGNAL, as
/// `write_from`). Returns how many bytes went out.
pub(crate) fn write_vectored_from(fd: i32, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    // IoSlice is guaranteed ABI-compatible with iovec on Unix.
    let iov = bufs.as_ptr() as *mut libc::iovec;
    let count = bufs.len().min(libc::UIO_MAXIOV as usize);
    loop {
        // SAFETY: a zeroed msghdr is valid (no name, no control data); iov points at `count`
        // live IoSlices that outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov;
        msg.msg_iovlen = count as _;
        // SAFETY: msg describes valid buffers (above); the kernel only reads them.
        let mut n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOTSOCK) {
            // SAFETY: the same buffers, for a descriptor that is not a socket.
            n = unsafe { libc::writev(fd, iov, count as i32) };
        }
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// What the start of a buffer says about a netstring (`<digits>:<data>,`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Netstring {
    /// Not enough data yet.
    Incomplete,
    /// Not a netstring (or a length beyond `max`).
    Malformed,
    /// The data is `buf[start..start + len]`; the netstring ends at `start + len + 1`.
    Complete { start: usize, len: usize },
}

pub(crate) fn parse_netstring(buf: &[u8], max: usize) -> Netstring {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == buf.len() {
        return if digits > 20 {
            Netstring::Malformed
        } else {
            Netstring::Incomplete
        };
    }
    if digits == 0 || buf[digits] != b':' || (digits > 1 && buf[0] == b'0') {
        return Netstring::Malformed;
    }
    let len = match std::str::from_utf8(&buf[..digits])
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        Some(len) if len <= max => len,
        _ => return Netstring::Malformed,
    };
    let start = digits + 1;
    match buf.get(start + len) {
        None => Netstring::Incomplete,
        Some(b',') => Netstring::Complete { start, len },
        Some(_) => Netstring::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstrings() {
        assert_eq!(
            parse_netstring(b"5:hello,", 100),
            Netstring::Complete { start: 2, len: 5 }
        );
        assert_eq!(
            parse_netstring(b"0:,", 100),
            Netstring::Complete { start: 2, len: 0 }
        );
        assert_eq!(parse_netstring(b"5:hel", 100), Netstring::Incomplete);
        assert_eq!(parse_netstring(b"12", 100), Netstring::Incomplete);
        assert_eq!(parse_netstring(b"", 100), Netstring::Incomplete);
        assert_eq!(parse_netstring(b"5:hello;", 100), Netstring::Malformed);
        assert_eq!(parse_netstring(b"x:", 100), Netstring::Malformed);
        assert_eq!(parse_netstring(b"05:hello,", 100), Netstring::Malformed);
        assert_eq!(parse_netstring(b"500:", 100), Netstring::Malformed);
    }
}
