//! TLS for the native connection (`wss://`): rustls with the `ring` provider over a blocking
//! `TcpStream` the worker polls.
//!
//! Certificates and host names are always verified (no switch turns that off): against the
//! Mozilla CA set (`webpki-roots`) or, with a `ca_file`, against that PEM bundle only (the
//! same rule as `ssl.create_default_context(cafile=...)`). SNI is the URL's host.
//!
//! The worker polls the socket's fd, but rustls may already hold decrypted bytes or whole
//! records the fd no longer shows: [`TlsStream::pending`] says so, and the worker reads again
//! before it polls. Ciphertext is taken from the socket in one `read` of up to 64 KiB (rustls
//! itself would take 4 KiB per call) and fed to rustls from our buffer.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore};

/// Why a TLS session failed, by kind (the reason Python sees is its `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate is not for the host the URL names.
    HostnameMismatch,
    /// Outside its validity period.
    Expired,
    /// Another certificate problem (the rustls name of it).
    BadCertificate(String),
    /// The server sent a fatal alert (its name).
    Alert(String),
    /// The URL's host is not a valid DNS name or address.
    BadServerName,
    /// Any other TLS protocol error.
    Protocol(String),
}

/// A TLS failure with the host it happened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    /// The URL's host.
    pub host: String,
    /// What went wrong.
    pub failure: TlsFailure,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = &self.host;
        match &self.failure {
            TlsFailure::UnknownIssuer => write!(
                f,
                "TLS: certificate of {host} refused: unknown issuer (not signed by a trusted CA)"
            ),
            TlsFailure::HostnameMismatch => write!(
                f,
                "TLS: certificate refused: not valid for {host} (hostname mismatch)"
            ),
            TlsFailure::Expired => write!(
                f,
                "TLS: certificate of {host} refused: expired or not yet valid"
            ),
            TlsFailure::BadCertificate(why) => {
                write!(f, "TLS: certificate of {host} refused: {why}")
            }
            TlsFailure::Alert(a) => write!(f, "TLS: {host} sent the alert {a}"),
            TlsFailure::BadServerName => write!(f, "TLS: {host:?} is not a valid server name"),
            TlsFailure::Protocol(why) => write!(f, "TLS with {host}: {why}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl TlsError {
    fn from_rustls(host: &str, e: &rustls::Error) -> Self {
        let failure = match e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => TlsFailure::HostnameMismatch,
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
                other => TlsFailure::BadCertificate(format!("{other:?}")),
            },
            rustls::Error::AlertReceived(a) => TlsFailure::Alert(format!("{a:?}")),
            other => TlsFailure::Protocol(other.to_string()),
        };
        Self {
            host: host.to_owned(),
            failure,
        }
    }

    fn into_io(self) -> io::Error {
        io::Error::new(ErrorKind::InvalidData, self)
    }
}

/// The client configuration every `wss://` connection of a feed uses: TLS 1.2 and 1.3 with
/// the `ring` provider, trusting the Mozilla roots or, with `ca_file`, that PEM bundle only.
///
/// # Errors
/// The bundle cannot be read or holds no usable certificate.
pub fn client_config(ca_file: Option<&str>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect)
                .map_err(|e| format!("ca_file {path}: {e}"))?;
            let (added, _bad) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("ca_file {path}: no usable CA certificate"));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Ciphertext read from the socket at once (rustls takes what fits, the rest waits here).
const CIPHER_CHUNK: usize = 1 << 16;

/// A client TLS session on a blocking socket.
pub struct TlsStream {
    tls: ClientConnection,
    sock: TcpStream,
    host: String,
    /// Ciphertext read from the socket, not yet given to rustls: `cipher[pos..]`.
    cipher: Vec<u8>,
    pos: usize,
    /// The last read filled the caller's buffer: more plaintext may wait in rustls.
    more_plain: bool,
}

impl TlsStream {
    /// Runs the TLS handshake on a connected socket by `deadline`; `abort()` is asked every
    /// 50 ms while the server's answer is awaited. Certificate and host name are verified.
    ///
    /// # Errors
    /// [`TlsError`] (wrapped in an `io::Error` of kind `InvalidData`) when TLS refused the
    /// server, or the socket failed, timed out (`TimedOut`) or was aborted (`Interrupted`).
    pub fn handshake(
        config: Arc<ClientConfig>,
        host: &str,
        sock: TcpStream,
        deadline: Instant,
        abort: &dyn Fn() -> bool,
    ) -> io::Result<Self> {
        let name = ServerName::try_from(host.to_owned()).map_err(|_| {
            TlsError {
                host: host.to_owned(),
                failure: TlsFailure::BadServerName,
            }
            .into_io()
        })?;
        let tls = ClientConnection::new(config, name)
            .map_err(|e| TlsError::from_rustls(host, &e).into_io())?;
        let mut s = Self {
            tls,
            sock,
            host: host.to_owned(),
            cipher: Vec::new(),
            pos: 0,
            more_plain: false,
        };
        while s.tls.is_handshaking() {
            s.flush()?;
            if !s.tls.is_handshaking() {
                break;
            }
            if s.pos < s.cipher.len() {
                s.feed()?;
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    "TLS handshake timed out",
                ));
            }
            s.sock
                .set_read_timeout(Some(left.min(Duration::from_millis(50))))?;
            match s.fill() {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "closed during the TLS handshake",
                    ))
                }
                Ok(_) => s.feed()?,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if abort() {
                        return Err(io::Error::new(
                            ErrorKind::Interrupted,
                            "stopped during the TLS handshake",
                        ));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // TLS 1.3: the client's Finished goes out here.
        s.flush()?;
        Ok(s)
    }

    /// The socket (for poll and timeouts).
    #[must_use]
    pub fn socket(&self) -> &TcpStream {
        &self.sock
    }

    /// Data may be readable without the socket being readable: rustls holds plaintext or
    /// ciphertext waits in our buffer. The worker reads again before polling.
    #[must_use]
    pub fn pending(&self) -> bool {
        self.more_plain || self.pos < self.cipher.len()
    }

    /// Reads plaintext into `out`. Takes from the socket (one `read`) only when `sock_ready`
    /// (the poll said so, or the socket has a read timeout); `WouldBlock` when no whole
    /// record is there yet. `Ok(0)`: the server closed the session with `close_notify`.
    ///
    /// # Errors
    /// A TLS error (kind `InvalidData`, a [`TlsError`] inside), a close without
    /// `close_notify` (`UnexpectedEof`), or the socket's error.
    pub fn read(&mut self, out: &mut [u8], sock_ready: bool) -> io::Result<usize> {
        let mut took_socket = false;
        loop {
            match self.tls.reader().read(out) {
                Ok(n) => {
                    self.more_plain = n == out.len() && n > 0;
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        format!("{} closed the TLS session without close_notify", self.host),
                    ))
                }
                Err(e) => return Err(e),
            }
            self.more_plain = false;
            if self.pos < self.cipher.len() {
                self.feed()?;
                continue;
            }
            if took_socket || !sock_ready {
                return Err(ErrorKind::WouldBlock.into());
            }
            took_socket = true;
            if self.fill()? == 0 {
                // EOF: rustls learns it from an empty read, then says whether it was clean.
                self.tls.read_tls(&mut &[][..])?;
                self.process()?;
            } else {
                self.feed()?;
            }
        }
    }

    /// Sends `data` as application data.
    ///
    /// # Errors
    /// The socket failed or the write timed out.
    pub fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.tls.writer().write(data)?;
            data = &data[n..];
            self.flush()?;
        }
        Ok(())
    }

    /// Ends the session politely: `close_notify`, then the TCP shutdown.
    pub fn close(&mut self) {
        // A peer that stopped reading must not hold a closing worker for long.
        let _ = self
            .sock
            .set_write_timeout(Some(Duration::from_millis(100)));
        self.tls.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }

    /// One socket read into the ciphertext buffer (which is empty).
    fn fill(&mut self) -> io::Result<usize> {
        self.cipher.resize(CIPHER_CHUNK, 0);
        self.pos = 0;
        let n = self.sock.read(&mut self.cipher).inspect_err(|_| {
            self.cipher.clear();
        })?;
        self.cipher.truncate(n);
        Ok(n)
    }

    /// Gives buffered ciphertext to rustls (as much as it takes) and processes it.
    fn feed(&mut self) -> io::Result<()> {
        let mut rest = &self.cipher[self.pos..];
        let before = rest.len();
        let took = self.tls.read_tls(&mut rest);
        self.pos += before - rest.len();
        if self.pos == self.cipher.len() {
            self.cipher.clear();
            self.pos = 0;
        }
        took?;
        self.process()
    }

    fn process(&mut self) -> io::Result<()> {
        match self.tls.process_new_packets() {
            Ok(_) => self.flush(),
            Err(e) => {
                // rustls queued an alert for the server (bad_certificate, ...): send it.
                let _ = self.flush();
                Err(TlsError::from_rustls(&self.host, &e).into_io())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.sock)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;
    use std::thread::JoinHandle;

    use rustls::pki_types::PrivateKeyDer;
    use rustls::{ServerConfig, ServerConnection, StreamOwned};

    use super::*;
    use crate::native::sys::wait_readable;

    /// A throwaway CA and a server certificate for `localhost` / `127.0.0.1` signed by it,
    /// valid until 2124 (written by the `cryptography` package).
    const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rust/native/testdata/ca.pem");
    const CERT: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rust/native/testdata/server.pem"
    );
    const KEY: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rust/native/testdata/server.key"
    );

    fn server_config() -> Arc<ServerConfig> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(CERT)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(KEY).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        )
    }

    /// A one-connection TLS server running `serve` on the session (errors end it quietly).
    fn server(
        serve: impl FnOnce(&mut StreamOwned<ServerConnection, TcpStream>) -> io::Result<()>
            + Send
            + 'static,
    ) -> (TcpStream, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let conn = ServerConnection::new(server_config()).unwrap();
            let mut s = StreamOwned::new(conn, sock);
            let _ = serve(&mut s);
        });
        (TcpStream::connect(addr).unwrap(), t)
    }

    fn open(ca: Option<&str>, host: &str, sock: TcpStream) -> io::Result<TlsStream> {
        let cfg = client_config(ca).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        TlsStream::handshake(cfg, host, sock, deadline, &|| false)
    }

    fn failure(e: &io::Error) -> TlsFailure {
        e.get_ref()
            .and_then(|x| x.downcast_ref::<TlsError>())
            .map(|t| t.failure.clone())
            .unwrap_or_else(|| panic!("not a TLS error: {e}"))
    }

    #[test]
    fn session_reads_what_rustls_buffered_before_polling_again() {
        const N: usize = 200_000;
        let data: Vec<u8> = (0..N).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let (sock, t) = server(move |s| {
            let mut hello = [0u8; 5];
            s.read_exact(&mut hello)?;
            assert_eq!(&hello, b"hello");
            s.write_all(&sent)?;
            s.conn.send_close_notify();
            s.flush()
        });
        let mut c = open(Some(CA), "127.0.0.1", sock).unwrap();
        c.write_all(b"hello").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        let mut pending_reads = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "stalled at {} bytes", got.len());
            let pending = c.pending();
            // The fd is polled only when TLS holds nothing: a stall here would hang the test.
            let ready = pending || wait_readable([c.socket().as_raw_fd()], 2000)[0];
            assert!(ready, "no data and nothing pending at {} bytes", got.len());
            match c.read(&mut buf, !pending) {
                Ok(0) => break,
                Ok(n) => {
                    pending_reads += usize::from(pending);
                    got.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        assert_eq!(got.len(), N);
        assert!(got == data);
        assert!(pending_reads > 0, "nothing was read from the TLS buffers");
        t.join().unwrap();
    }

    #[test]
    fn close_sends_close_notify() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (sock, t) = server(move |s| {
            // Ok(0) only after close_notify; a bare TCP close is an UnexpectedEof error.
            let r = s.read(&mut [0u8; 16]).map_err(|e| e.kind());
            tx.send(r).unwrap();
            Ok(())
        });
        let mut c = open(Some(CA), "localhost", sock).unwrap();
        c.close();
        let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(r, Ok(0));
        t.join().unwrap();
    }

    #[test]
    fn unknown_issuer_is_refused_with_its_reason() {
        let (sock, t) = server(|s| s.read(&mut [0u8; 1]).map(drop));
        let e = open(None, "127.0.0.1", sock).err().expect("accepted");
        assert_eq!(failure(&e), TlsFailure::UnknownIssuer);
        assert!(e.to_string().contains("unknown issuer"), "{e}");
        t.join().unwrap();
    }

    #[test]
    fn hostname_mismatch_is_refused_with_its_reason() {
        let (sock, t) = server(|s| s.read(&mut [0u8; 1]).map(drop));
        let e = open(Some(CA), "api.example.com", sock)
            .err()
            .expect("accepted");
        assert_eq!(failure(&e), TlsFailure::HostnameMismatch);
        assert!(e.to_string().contains("api.example.com"), "{e}");
        t.join().unwrap();
    }

    #[test]
    fn silent_server_times_out_the_handshake() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sock = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let cfg = client_config(Some(CA)).unwrap();
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        let e = TlsStream::handshake(cfg, "127.0.0.1", sock, deadline, &|| false)
            .err()
            .expect("no server, yet a session");
        assert_eq!(e.kind(), ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(listener);
    }

    #[test]
    fn bad_ca_file_is_refused() {
        assert!(client_config(Some("/nonexistent/ca.pem"))
            .unwrap_err()
            .contains("/nonexistent/ca.pem"));
        assert!(client_config(Some(KEY)).is_err());
    }
}
