//! A blocking client WebSocket connection on a `std::net::TcpStream` (`ws://` only).
//!
//! The opening handshake, frame masking and permessage-deflate are the crate's sans-I/O
//! pieces (`crate::ws::handshake`, `crate::ws::Encoder`); this module only moves bytes.
//! TLS (`wss://`) is not supported here: the native mode refuses such URLs.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::ws::handshake::{build_request, generate_key, validate_response};
use crate::ws::{DeflateOffer, DeflateParams, Encoder, Opcode, WsError};

/// A `ws://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port (80 when the URL has none).
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

/// Parses a `ws://` URL.
///
/// # Errors
/// Another scheme (`wss://` needs TLS, which the native mode does not have) or a malformed URL.
pub fn parse_url(full: &str) -> Result<WsUrl, ConnError> {
    // Errors show the URL without its query: it may carry a token (KuCoin).
    let url = full.split('?').next().unwrap_or_default();
    let Some(rest) = full.strip_prefix("ws://") else {
        if url.starts_with("wss://") {
            return Err(ConnError(format!(
                "{url}: wss:// (TLS) is not supported by the native I/O mode; use io='asyncio'"
            )));
        }
        return Err(ConnError(format!("{url}: not a ws:// URL")));
    };
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
            None => 80,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse()
                    .map_err(|_| ConnError(format!("{url}: bad port")))?,
            ),
            None => (authority.to_owned(), 80),
        }
    };
    if host.is_empty() {
        return Err(ConnError(format!("{url}: no host")));
    }
    Ok(WsUrl {
        host,
        port,
        path,
        authority: authority.to_owned(),
    })
}

/// An open connection: the socket and the encoder for what the client sends.
pub struct Conn {
    /// The socket (blocking; reads are driven by the worker's poll).
    pub stream: TcpStream,
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
    /// Connects and runs the opening handshake within `timeout`; `abort()` is asked every
    /// 50 ms while the answer is awaited (a stopping worker does not wait out the timeout).
    ///
    /// # Errors
    /// No address, refused connection, timeout, abort, or a refused/invalid upgrade.
    pub fn open(
        url: &WsUrl,
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
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.into(),
            }
        }
        let mut stream = stream.ok_or(last)?;
        stream.set_nodelay(true)?;
        let key = generate_key()?;
        let offer = compression.then(DeflateOffer::default);
        let hdrs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = build_request(&url.authority, &url.path, &key, offer.as_ref(), &hdrs)?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(&req)?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        let accepted = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnError("no handshake answer in time".into()));
            }
            stream.set_read_timeout(Some(left.min(Duration::from_millis(50))))?;
            let n = match stream.read(&mut chunk) {
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
        stream.set_read_timeout(None)?;
        let leftover = buf.split_off(accepted.consumed);
        Ok(Opened {
            conn: Conn {
                stream,
                encoder: Encoder::new(accepted.deflate.as_ref())?,
                out: Vec::new(),
            },
            deflate: accepted.deflate,
            leftover,
        })
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
        self.stream.write_all(&self.out)?;
        Ok(())
    }
}
