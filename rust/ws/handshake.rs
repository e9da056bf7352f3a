//! The client opening handshake (RFC 6455 §4.1-4.2, RFC 7692 §5): the HTTP/1.1 upgrade
//! request and the validation of the server's `101 Switching Protocols` answer.
//!
//! Sans-I/O like the rest of `ws`: bytes out, bytes in. The validator is fed the bytes
//! received so far and reports how many belong to the HTTP response, so frames that arrive
//! in the same read go to the decoder untouched.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

use super::deflate::{negotiate, DeflateOffer, DeflateParams};
use super::error::{WsError, WsErrorKind};
use super::mask::fill_random;

/// RFC 6455 §1.3 GUID appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest response head accepted; real servers send well under 1 KiB.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// Headers the request builder writes itself; callers may not override them.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
];

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (§4.1).
pub fn generate_key() -> Result<String, WsError> {
    let mut raw = [0u8; 16];
    fill_random(&mut raw)?;
    Ok(B64.encode(raw))
}

/// The `Sec-WebSocket-Accept` a server must answer for `key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    B64.encode(h.finalize())
}

fn invalid(detail: impl Into<String>) -> WsError {
    WsError::new(WsErrorKind::InvalidInput, detail)
}

fn check_token(what: &str, s: &str) -> Result<(), WsError> {
    if s.is_empty() || s.bytes().any(|b| b <= b' ' || b >= 0x7F || b == b':') {
        return Err(invalid(format!("invalid {what} {s:?}")));
    }
    Ok(())
}

fn check_value(what: &str, s: &str) -> Result<(), WsError> {
    // CR/LF would let a value inject headers (request splitting).
    if s.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7F) {
        return Err(invalid(format!("invalid {what} {s:?}")));
    }
    Ok(())
}

/// The upgrade request for `GET path` on `host` (`host` may carry `:port`).
///
/// `headers` are sent after the WebSocket ones (user agent, origin, auth...).
pub fn build_request(
    host: &str,
    path: &str,
    key: &str,
    offer: Option<&DeflateOffer>,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>, WsError> {
    // Host may carry ":port" or an IPv6 literal; it may not contain spaces or CR/LF.
    if host.is_empty() || host.bytes().any(|b| b <= b' ' || b >= 0x7F || b == b'/') {
        return Err(invalid(format!("invalid host {host:?}")));
    }
    if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b >= 0x7F) {
        return Err(invalid(format!("invalid request path {path:?}")));
    }
    check_token("key", key)?;
    let mut r = String::with_capacity(256);
    r.push_str("GET ");
    r.push_str(path);
    r.push_str(" HTTP/1.1\r\nHost: ");
    r.push_str(host);
    r.push_str("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    r.push_str(key);
    r.push_str("\r\nSec-WebSocket-Version: 13\r\n");
    if let Some(o) = offer {
        if o.server_max_window_bits
            .is_some_and(|b| !(8..=15).contains(&b))
        {
            return Err(invalid("server_max_window_bits must be 8..=15"));
        }
        r.push_str("Sec-WebSocket-Extensions: ");
        r.push_str(&o.header_value());
        r.push_str("\r\n");
    }
    for (name, value) in headers {
        check_token("header name", name)?;
        check_value("header value", value)?;
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!("header {name:?} is set by the handshake")));
        }
        r.push_str(name);
        r.push_str(": ");
        r.push_str(value);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    Ok(r.into_bytes())
}

/// A validated `101` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Bytes of `buf` that were the HTTP response; the rest are WebSocket frames.
    pub consumed: usize,
    /// Negotiated permessage-deflate, if the server accepted it.
    pub deflate: Option<DeflateParams>,
}

/// Validates the server's response to a request built with `key` and `offer`.
///
/// `Ok(None)`: the response head is not complete yet, call again with more bytes.
pub fn validate_response(
    buf: &[u8],
    key: &str,
    offer: Option<&DeflateOffer>,
) -> Result<Option<Accepted>, WsError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_RESPONSE_HEAD {
            return Err(WsError::handshake("response head larger than 16 KiB"));
        }
        return Ok(None);
    };
    if end > MAX_RESPONSE_HEAD {
        return Err(WsError::handshake("response head larger than 16 KiB"));
    }
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts.next().unwrap_or("");
    if version != "HTTP/1.1" {
        return Err(WsError::handshake(format!(
            "not an HTTP/1.1 response: {status_line:.80}"
        )));
    }
    if status != "101" {
        return Err(WsError::handshake(format!(
            "server refused the upgrade: {status_line:.80}"
        )));
    }
    let (mut upgrade, mut connection, mut accept) = (false, false, None::<String>);
    let mut accepts = 0u32;
    let mut extensions: Vec<String> = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(WsError::handshake(format!(
                "malformed header line {line:.80}"
            )));
        };
        if name.is_empty() || name.starts_with([' ', '\t']) {
            return Err(WsError::handshake("folded or empty header name"));
        }
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "upgrade" => upgrade |= value.eq_ignore_ascii_case("websocket"),
            "connection" => {
                connection |= value
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
            }
            "sec-websocket-accept" => {
                accepts += 1;
                accept = Some(value.to_owned());
            }
            "sec-websocket-extensions" => extensions.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
            ),
            "sec-websocket-protocol" => {
                return Err(WsError::handshake(
                    "server chose a subprotocol we did not offer",
                ));
            }
            _ => {}
        }
    }
    if !upgrade {
        return Err(WsError::handshake("missing Upgrade: websocket"));
    }
    if !connection {
        return Err(WsError::handshake("missing Connection: Upgrade"));
    }
    if accepts > 1 {
        return Err(WsError::handshake("several Sec-WebSocket-Accept headers"));
    }
    match accept {
        Some(a) if a == accept_key(key) => {}
        Some(a) => {
            return Err(WsError::handshake(format!(
                "wrong Sec-WebSocket-Accept {a:.40}"
            )))
        }
        None => return Err(WsError::handshake("missing Sec-WebSocket-Accept")),
    }
    let deflate = match (extensions.as_slice(), offer) {
        ([], _) => None,
        ([one], Some(o)) => Some(negotiate(one, o)?),
        ([first, ..], None) => {
            return Err(WsError::handshake(format!(
                "server enabled unrequested extension {first:.60}"
            )))
        }
        (_, Some(_)) => return Err(WsError::handshake("server accepted several extensions")),
    };
    Ok(Some(Accepted {
        consumed: end + 4,
        deflate,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn response(extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn computes_rfc_6455_example_accept_key() {
        assert_eq!(accept_key(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn generates_distinct_16_byte_keys() {
        let (a, b) = (generate_key().unwrap(), generate_key().unwrap());
        assert_ne!(a, b);
        assert_eq!(B64.decode(&a).unwrap().len(), 16);
    }

    #[test]
    fn builds_request_with_offer_and_extra_headers() {
        let offer = DeflateOffer::default();
        let r = build_request(
            "api.gateio.ws:443",
            "/ws/v4/",
            KEY,
            Some(&offer),
            &[("User-Agent", "hftws")],
        )
        .unwrap();
        let r = String::from_utf8(r).unwrap();
        assert!(r.starts_with("GET /ws/v4/ HTTP/1.1\r\nHost: api.gateio.ws:443\r\n"));
        assert!(r.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(r.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(r.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        ));
        assert!(r.ends_with("\r\nUser-Agent: hftws\r\n\r\n"));
    }

    #[test]
    fn refuses_header_injection_and_reserved_headers() {
        for (n, v) in [
            ("X", "a\r\nEvil: 1"),
            ("Bad Name", "v"),
            ("Host", "x"),
            ("", "v"),
        ] {
            assert!(
                build_request("h", "/", KEY, None, &[(n, v)]).is_err(),
                "{n}"
            );
        }
        assert!(build_request("h", "no-slash", KEY, None, &[]).is_err());
        assert!(build_request("h\r\n", "/", KEY, None, &[]).is_err());
    }

    #[test]
    fn accepts_valid_response_and_reports_consumed_bytes() {
        let mut buf = response("");
        let n = buf.len();
        buf.extend_from_slice(&[0x81, 0x00]);
        let a = validate_response(&buf, KEY, None).unwrap().unwrap();
        assert_eq!((a.consumed, a.deflate), (n, None));
        assert_eq!(validate_response(&buf[..n - 1], KEY, None).unwrap(), None);
    }

    #[test]
    fn rejects_wrong_accept_key() {
        let e = validate_response(&response(""), "AAAAAAAAAAAAAAAAAAAAAA==", None).unwrap_err();
        assert_eq!(e.kind, WsErrorKind::Handshake);
    }

    #[test]
    fn rejects_unrequested_extension_and_bad_status() {
        let r = response("Sec-WebSocket-Extensions: permessage-deflate\r\n");
        assert!(validate_response(&r, KEY, None).is_err());
        let forbidden = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        let e = validate_response(forbidden, KEY, None).unwrap_err();
        assert!(e.detail.contains("403"));
        let r = response("Sec-WebSocket-Protocol: chat\r\n");
        assert!(validate_response(&r, KEY, None).is_err());
        let no_upgrade = String::from_utf8(response(""))
            .unwrap()
            .replace("Upgrade: websocket\r\n", "");
        assert!(validate_response(no_upgrade.as_bytes(), KEY, None).is_err());
        assert!(validate_response(&vec![b'a'; MAX_RESPONSE_HEAD + 1], KEY, None).is_err());
    }

    #[test]
    fn negotiates_gate_style_deflate_answer() {
        let r = response(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n",
        );
        let a = validate_response(&r, KEY, Some(&DeflateOffer::default()))
            .unwrap()
            .unwrap();
        let d = a.deflate.unwrap();
        assert!(d.server_no_context_takeover && d.client_no_context_takeover);
        let two = response("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n");
        assert!(validate_response(&two, KEY, Some(&DeflateOffer::default())).is_err());
    }
}
