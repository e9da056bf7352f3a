//! A blocking client WebSocket connection on a `std::net::TcpStream`, plain (`ws://`) or in
//! TLS (`wss://`, `super::tls`).
//!
//! The opening handshake, frame masking and permessage-deflate are the crate's sans-I/O
//! pieces (`crate::ws::handshake`, `crate::ws::Encoder`); this module only moves bytes.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use super::tls::TlsStream;

use crate::ws::handshake::{build_request, generate_key, validate_response};
use crate::ws::{DeflateOffer, DeflateParams, Encoder, Opcode, WsError};

/// A `ws://` or `wss://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss://`: the connection runs in TLS.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port (80, or 443 with TLS, when the URL has none).
    pub port: u16,
    /// Request path with query, from `/`.
    pub path: String,
    /// The `Host` header value.
    pub authority: String,
}

/// Why a URL or a connection failed, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnError(pub String);

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<WsError> for ConnError {
    fn from(e: WsError) -> Self {
        Self(e.to_string())
    }
}

impl From<std::io::Error> for ConnError {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}

/// Parses a `ws://` or `wss://` URL.
///
/// # Errors
/// Another scheme or a malformed URL.
pub fn parse_url(full: &str) -> Result<WsUrl, ConnError> {
    // Errors show the URL without its query: it may carry a token (KuCoin).
    let url = full.split('?').next().unwrap_or_default();
    let (tls, rest) = if let Some(r) = full.strip_prefix("ws://") {
        (false, r)
    } else if let Some(r) = full.strip_prefix("wss://") {
        (true, r)
    } else {
        return Err(ConnError(format!("{url}: not a ws:// or wss:// URL")));
    };
    let default_port = if tls { 443 } else { 80 };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6
            .split_once(']')
            .ok_or_else(|| ConnError(format!("{url}: bad IPv6 host")))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p
                .parse()
                .map_err(|_| ConnError(format!("{url}: bad port")))?,
            None => default_port,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse()
                    .map_err(|_| ConnError(format!("{url}: bad port")))?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err(ConnError(format!("{url}: no host")));
    }
    Ok(WsUrl {
        tls,
        host,
        port,
        path,
        authority: authority.to_owned(),
    })
}

/// The byte stream under the WebSocket.
enum Link {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// An open connection: the socket (plain or TLS) and the encoder for what the client sends.
pub struct Conn {
    link: Link,
    encoder: Encoder,
    out: Vec<u8>,
}

/// What the handshake left: the connection, the negotiated compression and the frame bytes
/// that arrived with the `101` answer.
pub struct Opened {
    /// The connection.
    pub conn: Conn,
    /// permessage-deflate, when the server accepted the offer.
    pub deflate: Option<DeflateParams>,
    /// Bytes after the HTTP head: the first frames.
    pub leftover: Vec<u8>,
}

impl Conn {
    /// Connects, runs the TLS handshake (`wss://`, with `tls`) and the opening handshake,
    /// all within `timeout`; `abort()` is asked every 50 ms while an answer is awaited (a
    /// stopping worker does not wait out the timeout).
    ///
    /// # Errors
    /// No address, refused connection, timeout, abort, TLS refused (a [`super::tls::TlsError`]
    /// says why), or a refused/invalid upgrade.
    pub fn open(
        url: &WsUrl,
        tls: &Arc<ClientConfig>,
        headers: &[(String, String)],
        compression: bool,
        timeout: Duration,
        abort: &dyn Fn() -> bool,
    ) -> Result<Opened, ConnError> {
        let deadline = Instant::now() + timeout;
        let addrs: Vec<_> = (url.host.as_str(), url.port).to_socket_addrs()?.collect();
        let mut last = ConnError(format!("{}: no address", url.host));
        let mut stream = None;
        for a in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                last = ConnError("connect timed out".into());
                break;
            }
            match TcpStream::connect_timeout(&a, left) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.into(),
            }
        }
        let stream = stream.ok_or(last)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(timeout))?;
        let link = if url.tls {
            let s = TlsStream::handshake(Arc::clone(tls), &url.host, stream, deadline, abort)?;
            Link::Tls(Box::new(s))
        } else {
            Link::Plain(stream)
        };
        let mut conn = Conn {
            link,
            encoder: Encoder::new(None)?,
            out: Vec::new(),
        };
        let key = generate_key()?;
        let offer = compression.then(DeflateOffer::default);
        let hdrs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = build_request(&url.authority, &url.path, &key, offer.as_ref(), &hdrs)?;
        conn.write_all(&req)?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let accepted = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnError("no handshake answer in time".into()));
            }
            conn.socket()
                .set_read_timeout(Some(left.min(Duration::from_millis(50))))?;
            let n = match conn.read(&mut chunk, true) {
                Ok(0) => return Err(ConnError("closed during the handshake".into())),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if abort() {
                        return Err(ConnError("stopped during the handshake".into()));
                    }
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            buf.extend_from_slice(&chunk[..n]);
            if let Some(a) = validate_response(&buf, &key, offer.as_ref())? {
                break a;
            }
        };
        conn.socket().set_read_timeout(None)?;
        let leftover = buf.split_off(accepted.consumed);
        conn.encoder = Encoder::new(accepted.deflate.as_ref())?;
        Ok(Opened {
            conn,
            deflate: accepted.deflate,
            leftover,
        })
    }

    /// The TCP socket.
    fn socket(&self) -> &TcpStream {
        match &self.link {
            Link::Plain(s) => s,
            Link::Tls(t) => t.socket(),
        }
    }

    /// The socket's fd, for the worker's poll.
    #[must_use]
    pub fn fd(&self) -> RawFd {
        self.socket().as_raw_fd()
    }

    /// Bytes may be readable that the fd does not show (TLS buffers): read before polling.
    #[must_use]
    pub fn pending(&self) -> bool {
        match &self.link {
            Link::Plain(_) => false,
            Link::Tls(t) => t.pending(),
        }
    }

    /// Reads what arrived into `buf` (one socket read at most, and only when `sock_ready`);
    /// `Ok(0)` at the end of the stream, `WouldBlock` when nothing whole arrived yet.
    ///
    /// # Errors
    /// The socket's error, or a TLS error (kind `InvalidData`, with the reason).
    pub fn read(&mut self, buf: &mut [u8], sock_ready: bool) -> std::io::Result<usize> {
        match &mut self.link {
            Link::Plain(s) if sock_ready => s.read(buf),
            Link::Plain(_) => Err(ErrorKind::WouldBlock.into()),
            Link::Tls(t) => t.read(buf, sock_ready),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match &mut self.link {
            Link::Plain(s) => s.write_all(data),
            Link::Tls(t) => t.write_all(data),
        }
    }

    /// Closes the connection at once (with `close_notify` in TLS).
    pub fn close(&mut self) {
        match &mut self.link {
            Link::Plain(s) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            Link::Tls(t) => t.close(),
        }
    }

    /// Sends one whole message (masked, compressed when negotiated).
    ///
    /// # Errors
    /// The socket failed or the write timed out.
    pub fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), ConnError> {
        let out = &mut self.out;
        self.encoder
            .encode_with(opcode, payload, |len, write| -> Result<(), WsError> {
                out.clear();
                out.resize(len, 0);
                write(out);
                Ok(())
            })?;
        let frame = std::mem::take(&mut self.out);
        let r = self.write_all(&frame);
        self.out = frame;
        r?;
        Ok(())
    }
}
