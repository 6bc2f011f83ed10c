//! TLS for AnyEvent::Handle on rustls: a context (AnyEvent::TLS) that builds client and server
//! configurations from PEM material and the AnyEvent verification options, and sessions that
//! move records between a file descriptor and rustls.
//!
//! Verification follows AnyEvent::TLS: off by default (a verifier that accepts any certificate
//! but still checks the handshake signatures), the chain checked when `verify` is on, the host
//! name checked only when `verify_peername` is set. When Perl wants the last word (`verify_cb`),
//! the verifier (of server certificates on the client side, of client certificates on the
//! server side) records its verdict and lets the handshake go on; the glue then decides before
//! any application data is exchanged.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, Connection, DigitallySignedStruct, DistinguishedName, Error,
    RootCertStore, ServerConfig, SignatureScheme,
};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::sync::Arc;

thread_local! {
    /// The verdict of the last certificate verification that deferred to Perl (None: passed).
    static DEFERRED_VERDICT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// The settings of an AnyEvent::TLS context.
#[derive(Default)]
pub(crate) struct Settings {
    pub(crate) tls12: bool,
    pub(crate) tls13: bool,
    pub(crate) verify: bool,
    pub(crate) require_client_cert: bool,
    pub(crate) check_peername: bool,
    pub(crate) defer_verdict: bool,
    /// RFC 5077 tickets on the client side (TLS 1.2; AnyEvent's default: off).
    pub(crate) client_tickets: bool,
    /// A server issues tickets (AnyEvent's default: on).
    pub(crate) server_tickets: bool,
    pub(crate) alpn: Vec<Vec<u8>>,
}

/// A TLS context: settings, trust anchors, certificate chain and key, and the rustls
/// configurations made from them (the glue holds it as an opaque pointer).
pub struct Context {
    pub(crate) settings: Settings,
    roots: RootCertStore,
    chain: Vec<CertificateDer<'static>>,
    key: Option<PrivateKeyDer<'static>>,
    client: Option<Arc<ClientConfig>>,
    server: Option<Arc<ServerConfig>>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn bad(msg: impl Into<String>) -> Error {
    Error::General(msg.into())
}

impl Context {
    pub(crate) fn new(settings: Settings) -> Self {
        Context {
            settings,
            roots: RootCertStore::empty(),
            chain: Vec::new(),
            key: None,
            client: None,
            server: None,
        }
    }

    /// Adds every certificate of a PEM text to the trust anchors; returns how many.
    pub(crate) fn add_trusted_pem(&mut self, pem: &[u8]) -> Result<usize, Error> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("bad PEM certificate: {e}")))?;
        let (added, _ignored) = self.roots.add_parsable_certificates(certs);
        Ok(added)
    }

    /// Sets this side's certificate chain (leaf first) from PEM text.
    pub(crate) fn set_chain_pem(&mut self, pem: &[u8]) -> Result<usize, Error> {
        self.chain = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("bad PEM certificate: {e}")))?;
        Ok(self.chain.len())
    }

    /// Sets this side's private key from PEM text (PKCS#8, PKCS#1 or SEC1; not encrypted).
    pub(crate) fn set_key_pem(&mut self, pem: &[u8]) -> Result<(), Error> {
        if memchr::memmem::find(pem, b"ENCRYPTED").is_some() {
            return Err(bad("the private key is encrypted; rustls cannot use encrypted keys (cert_password): decrypt it first, e.g. with `openssl pkey`"));
        }
        let key = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| bad(format!("no usable private key in the PEM data: {e}")))?;
        provider()
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| bad(format!("unusable private key: {e}")))?;
        self.key = Some(key);
        Ok(())
    }

    fn versions(&self) -> Vec<&'static rustls::SupportedProtocolVersion> {
        let mut v = Vec::new();
        if self.settings.tls13 {
            v.push(&rustls::version::TLS13);
        }
        if self.settings.tls12 {
            v.push(&rustls::version::TLS12);
        }
        v
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, Error> {
        if self.roots.is_empty() {
            return Err(bad("verify is on but no trusted certificate was loaded (ca_file, ca_path, ca_cert or the system store)"));
        }
        Ok(Arc::new(self.roots.clone()))
    }

    fn server_verifier(&self) -> Result<Arc<dyn ServerCertVerifier>, Error> {
        let inner: Arc<dyn ServerCertVerifier> = if self.settings.verify {
            WebPkiServerVerifier::builder_with_provider(self.roots()?, provider())
                .build()
                .map_err(|e| bad(e.to_string()))?
        } else {
            Arc::new(AnyServerCert(provider()))
        };
        Ok(Arc::new(PolicyVerifier {
            inner,
            check_name: self.settings.check_peername,
            defer: self.settings.defer_verdict,
        }))
    }

    pub(crate) fn client_config(&mut self) -> Result<Arc<ClientConfig>, Error> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&self.versions())?
            .dangerous()
            .with_custom_certificate_verifier(self.server_verifier()?);
        let mut config = match &self.key {
            Some(key) if !self.chain.is_empty() => {
                builder.with_client_auth_cert(self.chain.clone(), key.clone_key())?
            }
            _ => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.settings.alpn.clone();
        config.enable_sni = true;
        // The context keeps its sessions (rustls' in-memory store), so handles sharing one
        // context (AnyEvent::Handle's `cache`) resume; TLS 1.2 tickets only when asked for.
        let tls12 = if self.settings.client_tickets {
            rustls::client::Tls12Resumption::SessionIdOrTickets
        } else {
            rustls::client::Tls12Resumption::SessionIdOnly
        };
        config.resumption =
            rustls::client::Resumption::in_memory_sessions(256).tls12_resumption(tls12);
        let config = Arc::new(config);
        self.client = Some(config.clone());
        Ok(config)
    }

    pub(crate) fn server_config(&mut self) -> Result<Arc<ServerConfig>, Error> {
        if let Some(c) = &self.server {
            return Ok(c.clone());
        }
        let key = self.key.as_ref().ok_or_else(|| {
            bad("a TLS server needs a private key (key_file or key, or cert_file holding both)")
        })?;
        if self.chain.is_empty() {
            return Err(bad("a TLS server needs a certificate (cert_file or cert)"));
        }
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&self.versions())?;
        let builder = if self.settings.verify {
            let b = WebPkiClientVerifier::builder_with_provider(self.roots()?, provider());
            let b = if self.settings.require_client_cert {
                b
            } else {
                b.allow_unauthenticated()
            };
            let inner = b.build().map_err(|e| bad(e.to_string()))?;
            let verifier: Arc<dyn ClientCertVerifier> = if self.settings.defer_verdict {
                Arc::new(DeferringClientVerifier(inner))
            } else {
                inner
            };
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut config = builder.with_single_cert(self.chain.clone(), key.clone_key())?;
        config.alpn_protocols = self.settings.alpn.clone();
        if self.settings.server_tickets {
            config.ticketer = ring::Ticketer::new()?;
        }
        let config = Arc::new(config);
        self.server = Some(config.clone());
        Ok(config)
    }
}

/// AnyEvent's default (verify off): any certificate is accepted. The handshake signatures are
/// still checked, so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Applies AnyEvent's policy on top of a verifier: a wrong host name only counts when
/// verify_peername asked for the check, and with `defer` the verdict goes to Perl.
#[derive(Debug)]
struct PolicyVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    check_name: bool,
    defer: bool,
}

fn is_name_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

impl ServerCertVerifier for PolicyVerifier {
    fn verify_server_cert(
        &self,
        ee: &CertificateDer<'_>,
        im: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = match self.inner.verify_server_cert(ee, im, name, ocsp, now) {
            Err(e) if is_name_error(&e) && !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        };
        if self.defer {
            DEFERRED_VERDICT
                .with(|v| *v.borrow_mut() = Some(verdict.as_ref().err().map(|e| e.to_string())));
            return Ok(ServerCertVerified::assertion());
        }
        verdict
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A server's check of client certificates when Perl has the last word (verify_cb): the
/// chain's verdict is recorded for Perl and the handshake goes on; signatures are still checked.
#[derive(Debug)]
struct DeferringClientVerifier(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for DeferringClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.0.offer_client_auth()
    }
    fn client_auth_mandatory(&self) -> bool {
        self.0.client_auth_mandatory()
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        ee: &CertificateDer<'_>,
        im: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verdict = self.0.verify_client_cert(ee, im, now);
        DEFERRED_VERDICT.with(|v| *v.borrow_mut() = Some(verdict.err().map(|e| e.to_string())));
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// What reading from the socket and decrypting yielded.
pub(crate) enum Received {
    /// Records were read (plaintext may be waiting).
    Records,
    /// The socket had nothing to read.
    WouldBlock,
    /// The socket reached end of file.
    Eof,
}

/// One TLS connection over a non-blocking file descriptor.
pub struct Session {
    pub(crate) conn: Connection,
    /// Set once the peer's certificate was judged and Perl has to decide (see `defer`).
    pub(crate) deferred: Option<Option<String>>,
}

/// The socket as rustls sees it. `last_read` remembers how much the last read asked for and
/// got, so that `receive` can tell a drained socket from a full buffer.
struct Fd {
    fd: i32,
    last_read: (usize, usize),
}

impl Fd {
    fn new(fd: i32) -> Self {
        Fd {
            fd,
            last_read: (0, 0),
        }
    }
}

impl Read for Fd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = crate::stream::read_into(self.fd, buf)?;
        self.last_read = (buf.len(), n);
        Ok(n)
    }
}

impl Write for Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        crate::stream::write_from(self.fd, buf)
    }
    /// rustls hands over every queued record at once: they leave in one writev, so a
    /// handshake flight or a burst of records is one segment, not one per record (with Nagle,
    /// a second small write would wait for the peer's delayed ACK).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        crate::stream::write_vectored_from(self.fd, bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Session {
    pub(crate) fn client(ctx: &mut Context, peername: Option<&str>) -> Result<Session, Error> {
        // Without a peer name there is no SNI; an IP address name makes rustls send none. A
        // name that is no host name (it came from the caller or from DNS data) only fails the
        // session when the certificate has to be checked against it; otherwise it is left out.
        let no_sni = || ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into());
        let name = match peername.filter(|n| !n.is_empty()) {
            Some(n) => match ServerName::try_from(n.to_string()) {
                Ok(name) => name,
                Err(_) if ctx.settings.check_peername => {
                    return Err(bad(format!("invalid peer name '{n}'")))
                }
                Err(_) => no_sni(),
            },
            None => no_sni(),
        };
        Ok(Session {
            conn: rustls::ClientConnection::new(ctx.client_config()?, name)?.into(),
            deferred: None,
        })
    }

    pub(crate) fn server(ctx: &mut Context) -> Result<Session, Error> {
        Ok(Session {
            conn: rustls::ServerConnection::new(ctx.server_config()?)?.into(),
            deferred: None,
        })
    }

    /// Reads what the socket has and processes the records. A TLS error is returned as
    /// `Err(Ok(error))`, an I/O error as `Err(Err(io))`. Reading stops at a short read (the
    /// socket is drained), so the end of the stream is seen by a read of its own, on a later
    /// call, as with a plain socket.
    pub(crate) fn receive(&mut self, fd: i32) -> Result<Received, Result<Error, io::Error>> {
        let mut got_any = false;
        let mut socket = Fd::new(fd);
        loop {
            match self.conn.read_tls(&mut socket) {
                Ok(0) => {
                    self.process().map_err(Ok)?;
                    return Ok(if got_any {
                        Received::Records
                    } else {
                        Received::Eof
                    });
                }
                Ok(_) => {
                    got_any = true;
                    self.process().map_err(Ok)?;
                    let (asked, got) = socket.last_read;
                    if !self.conn.wants_read() || got < asked {
                        return Ok(Received::Records);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(if got_any {
                        Received::Records
                    } else {
                        Received::WouldBlock
                    });
                }
                Err(e) => return Err(Err(e)),
            }
        }
    }

    /// Processes records that were read before TLS started (left in the read buffer).
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            if self
                .conn
                .read_tls(&mut data)
                .map_err(|e| bad(e.to_string()))?
                == 0
            {
                break;
            }
            self.process()?;
        }
        Ok(())
    }

    fn process(&mut self) -> Result<(), Error> {
        DEFERRED_VERDICT.with(|v| v.borrow_mut().take());
        let r = self.conn.process_new_packets().map(|_| ());
        if let Some(verdict) = DEFERRED_VERDICT.with(|v| v.borrow_mut().take()) {
            self.deferred = Some(verdict);
        }
        r
    }

    /// Moves decrypted data into `buf`: Ok(n), or Ok(0) when the peer sent close_notify,
    /// Err(WouldBlock) when nothing is buffered, Err(UnexpectedEof) on a truncated stream.
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.reader().read(buf)
    }

    /// Sends what rustls has buffered; Ok(true) when everything went out.
    pub(crate) fn flush(&mut self, fd: i32) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut Fd::new(fd)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    const CERT: &[u8] = include_bytes!("testdata/cert.pem");
    const KEY: &[u8] = include_bytes!("testdata/key.pem");

    /// A non-blocking SOCK_SEQPACKET pair: every write(v) becomes one packet, so the number of
    /// packets is the number of writes that carried records.
    fn packet_pair() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        let kind = libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        assert_eq!(
            // SAFETY: fds has room for the two descriptors socketpair writes.
            unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) },
            0
        );
        // SAFETY: both fds were just created and are owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    /// Moves every packet waiting on `from` to `to`; returns how many there were.
    fn relay(from: &OwnedFd, to: &OwnedFd) -> usize {
        let mut buf = vec![0u8; 65536];
        let mut packets = 0;
        while let Ok(n) = crate::stream::read_into(from.as_raw_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            assert_eq!(
                crate::stream::write_from(to.as_raw_fd(), &buf[..n]).unwrap(),
                n
            );
            packets += 1;
        }
        packets
    }

    fn contexts() -> (Context, Context) {
        let both = || Settings {
            tls12: true,
            tls13: true,
            server_tickets: true,
            ..Settings::default()
        };
        let mut server = Context::new(both());
        server.set_chain_pem(CERT).unwrap();
        server.set_key_pem(KEY).unwrap();
        (Context::new(both()), server)
    }

    #[test]
    fn each_flight_and_the_first_data_leave_in_one_write() {
        let (mut cctx, mut sctx) = contexts();
        let mut client = Session::client(&mut cctx, Some("localhost")).unwrap();
        let mut server = Session::server(&mut sctx).unwrap();
        // client <-> c_wire | relay | s_wire <-> server
        let (c_fd, c_wire) = packet_pair();
        let (s_fd, s_wire) = packet_pair();

        assert!(client.flush(c_fd.as_raw_fd()).unwrap());
        assert_eq!(relay(&c_wire, &s_wire), 1, "ClientHello");

        server.receive(s_fd.as_raw_fd()).unwrap();
        assert!(server.flush(s_fd.as_raw_fd()).unwrap());
        assert_eq!(
            relay(&s_wire, &c_wire),
            1,
            "ServerHello .. server Finished: one write"
        );

        client.receive(c_fd.as_raw_fd()).unwrap();
        assert!(!client.conn.is_handshaking());
        client
            .conn
            .writer()
            .write_all(b"GET / HTTP/1.0\r\n\r\n")
            .unwrap();
        assert!(client.flush(c_fd.as_raw_fd()).unwrap());
        assert_eq!(
            relay(&c_wire, &s_wire),
            1,
            "client Finished and the request: one write"
        );

        server.receive(s_fd.as_raw_fd()).unwrap();
        assert!(!server.conn.is_handshaking());
        let mut got = [0u8; 64];
        let n = server.read_plaintext(&mut got).unwrap();
        assert_eq!(&got[..n], b"GET / HTTP/1.0\r\n\r\n");
        server
            .conn
            .writer()
            .write_all(b"HTTP/1.0 200 OK\r\n\r\n")
            .unwrap();
        assert!(server.flush(s_fd.as_raw_fd()).unwrap());
        assert_eq!(
            relay(&s_wire, &c_wire),
            1,
            "session tickets and the answer: one write"
        );
        client.receive(c_fd.as_raw_fd()).unwrap();
        let n = client.read_plaintext(&mut got).unwrap();
        assert_eq!(&got[..n], b"HTTP/1.0 200 OK\r\n\r\n");
    }

    #[test]
    fn a_burst_of_records_is_one_write() {
        let (mut cctx, mut sctx) = contexts();
        let mut client = Session::client(&mut cctx, None).unwrap();
        let mut server = Session::server(&mut sctx).unwrap();
        let (c_fd, c_wire) = packet_pair();
        let (s_fd, s_wire) = packet_pair();
        client.flush(c_fd.as_raw_fd()).unwrap();
        relay(&c_wire, &s_wire);
        server.receive(s_fd.as_raw_fd()).unwrap();
        server.flush(s_fd.as_raw_fd()).unwrap();
        relay(&s_wire, &c_wire);
        client.receive(c_fd.as_raw_fd()).unwrap();
        client.flush(c_fd.as_raw_fd()).unwrap();
        relay(&c_wire, &s_wire);
        server.receive(s_fd.as_raw_fd()).unwrap();
        assert!(!server.conn.is_handshaking());
        // ten application writes queue ten records; they go out together
        for i in 0..10 {
            client
                .conn
                .writer()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        assert!(client.flush(c_fd.as_raw_fd()).unwrap());
        assert_eq!(relay(&c_wire, &s_wire), 1);
        server.receive(s_fd.as_raw_fd()).unwrap();
        let mut got = vec![0u8; 1024];
        let mut text = Vec::new();
        while let Ok(n) = server.read_plaintext(&mut got) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&got[..n]);
        }
        let want: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(String::from_utf8(text).unwrap(), want);
    }
}
