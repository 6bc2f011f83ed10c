//! TLS handshake load client for bench/handshake.pl (issue 7, workload 2).
//!
//! THREADS threads each loop: connect to HOST:PORT (TCP_NODELAY), do a full TLS handshake with
//! rustls (ring; no resumption; no certificate or handshake-signature verification, to keep the
//! client's own cost low), then read until the server closes (the server closes right after
//! its handshake completes) and start over. Stops after SECONDS and prints on stdout
//!   handshakes=N errors=E cpu_us_per_handshake=C
//! (C: this process's user+system CPU per handshake).
//!
//! With "quickack" the client sets TCP_QUICKACK before each read during the handshake, so its
//! ACKs are never delayed and a server whose flight is split into several small sends is not
//! held back by Nagle's algorithm waiting for the client's delayed ACK (~40 ms): the server's
//! CPU-bound rate. Without it the client's kernel delays ACKs as usual.
//!
//! usage: tls_client HOST PORT THREADS SECONDS [tls1.2] [quickack]

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::Read;
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

extern "C" {
    fn setsockopt(fd: i32, level: i32, name: i32, val: *const std::ffi::c_void, len: u32) -> i32;
}

/// Asks the kernel to acknowledge what arrives next at once instead of delaying the ACK.
fn quickack(sock: &TcpStream) {
    use std::os::fd::AsRawFd;
    const IPPROTO_TCP: i32 = 6;
    const TCP_QUICKACK: i32 = 12;
    let one: i32 = 1;
    unsafe {
        setsockopt(
            sock.as_raw_fd(),
            IPPROTO_TCP,
            TCP_QUICKACK,
            &one as *const i32 as *const _,
            4,
        )
    };
}

fn one(
    addr: &str,
    config: &Arc<ClientConfig>,
    quick: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut sock = TcpStream::connect(addr)?;
    sock.set_nodelay(true)?;
    let mut conn = ClientConnection::new(config.clone(), ServerName::try_from("localhost")?)?;
    if std::env::var_os("TLS_CLIENT_COMPLETE_IO").is_some() {
        // rustls's own blocking driver (for comparison)
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
    }
    // one read, process, write what that produced: the client answers each server record as
    // soon as it has it (as OpenSSL's and Go's clients do)
    while conn.is_handshaking() {
        while conn.wants_write() {
            conn.write_tls(&mut sock)?;
        }
        if quick {
            quickack(&sock);
        }
        if conn.read_tls(&mut sock)? == 0 {
            return Err("EOF during the handshake".into());
        }
        conn.process_new_packets()?;
    }
    while conn.wants_write() {
        conn.write_tls(&mut sock)?;
    }
    // handshake done (our Finished is written): wait for the server to close
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

fn cpu_seconds() -> f64 {
    // utime and stime (fields 14 and 15 of /proc/self/stat), in clock ticks (100 per second)
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!(
            "usage: {} HOST PORT THREADS SECONDS [tls1.2] [quickack]",
            args[0]
        );
        std::process::exit(2);
    }
    let addr = format!("{}:{}", args[1], args[2]);
    let threads: usize = args[3].parse().expect("THREADS");
    let until = Instant::now() + Duration::from_secs_f64(args[4].parse().expect("SECONDS"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let opts: Vec<&str> = args[5..].iter().map(|s| s.as_str()).collect();
    let quick = opts.contains(&"quickack");
    let versions: &[&rustls::SupportedProtocolVersion] = if opts.contains(&"tls1.2") {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    let config = Arc::new(config);
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (addr, config, ok, errors) =
                (addr.clone(), config.clone(), ok.clone(), errors.clone());
            std::thread::spawn(move || {
                while Instant::now() < until {
                    match one(&addr, &config, quick) {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let n = ok.load(Ordering::Relaxed);
    println!(
        "handshakes={} errors={} cpu_us_per_handshake={:.1}",
        n,
        errors.load(Ordering::Relaxed),
        if n > 0 {
            1e6 * cpu_seconds() / n as f64
        } else {
            0.0
        }
    );
}
