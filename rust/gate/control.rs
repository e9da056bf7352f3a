//! Control frames: subscribe/unsubscribe acks, error objects, pongs (`gateio.md` §2.2–2.4).
//!
//! Auth failures come in odd shapes (§2.3, §8): codes 4, 6 and 11, and code 2 whose message
//! carries a REST label (`INVALID_KEY`, `INVALID_SIGNATURE`, `FORBIDDEN`, `IP_FORBIDDEN`,
//! `REQUEST_EXPIRED`) or says "auth fail(ed)". The message may itself be JSON
//! (`{"label":"INVALID_KEY","message":"Invalid key provided"}`), whose `label` is kept.

use super::error::{GateError, GateErrorKind};
use super::value;
use crate::json::{Scan, Span, Val};

/// Labels in a code-2 message that mean the credentials were refused.
pub const AUTH_LABELS: [&str; 5] = [
    "INVALID_KEY",
    "INVALID_SIGNATURE",
    "FORBIDDEN",
    "IP_FORBIDDEN",
    "REQUEST_EXPIRED",
];

/// How a client should react to an error object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Credentials or signature refused (re-sign, check key, sync clock).
    Auth,
    /// Server-side, retry later (code 3).
    Transient,
    /// The request itself is wrong (unknown pair, duplicate obu subscription, ...).
    Permanent,
}

impl ErrorClass {
    /// Lower-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Transient => "transient",
            Self::Permanent => "permanent",
        }
    }
}

/// Classifies an error by code and message text.
#[must_use]
pub fn classify(code: Option<i64>, message: &str) -> ErrorClass {
    match code {
        Some(4 | 6 | 11) => ErrorClass::Auth,
        Some(3) => ErrorClass::Transient,
        Some(2) if is_auth_message(message) => ErrorClass::Auth,
        _ => ErrorClass::Permanent,
    }
}

fn is_auth_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    AUTH_LABELS.iter().any(|l| message.contains(l))
        || lower.contains("auth fail")
        || lower.contains("authentication fail")
}

/// An `error` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    /// `code`.
    pub code: Option<i64>,
    /// `message` span.
    pub message: Option<Span>,
    /// `label` when the message is itself a JSON object carrying one.
    pub label: Option<String>,
    /// Auth / transient / permanent.
    pub class: ErrorClass,
}

/// Reads an `error` object (cursor at `{`).
///
/// # Errors
/// Malformed JSON or wrongly typed `code` / `message`.
pub fn read_error(s: &mut Scan<'_>) -> Result<ErrorInfo, GateError> {
    let frame = s.bytes();
    let (mut code, mut message) = (None, None);
    let mut first = true;
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| GateError::json("error", e))?
    {
        s.peek();
        let pos = s.i;
        let v = s.value().map_err(|e| GateError::json("error", e))?;
        if k.is("code") {
            code = value::int(&v, "code", pos).map_err(|e| e.under("error"))?;
        } else if k.is("message") || k.is("msg") {
            message = value::string(&v, "message", pos).map_err(|e| e.under("error"))?;
        }
    }
    let text = match message {
        Some(m) => m
            .decode()
            .map_err(|k| GateError::at("error.message", 0, GateErrorKind::Json(k)))?
            .into_owned(),
        None => String::new(),
    };
    let label = label_of(&text);
    let class = classify(code, label.as_deref().map_or(text.as_str(), |l| l));
    let class = if class == ErrorClass::Permanent {
        classify(code, &text)
    } else {
        class
    };
    Ok(ErrorInfo {
        code,
        message: message.map(|m| Span::of(frame, &m)),
        label,
        class,
    })
}

/// The `label` of a message that is a JSON object (`{"label":"INVALID_KEY",...}`).
fn label_of(message: &str) -> Option<String> {
    let b = message.trim().as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut s = Scan::new(b);
    let mut first = true;
    let mut label = None;
    while let Ok(Some(k)) = s.next_key(&mut first) {
        match s.value() {
            Ok(Val::Str(v)) if k.is("label") => label = v.decode().ok().map(|c| c.into_owned()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    label
}

/// Reads an ack's `result` (`{"status":"success"}` / `{"status":"fail"}`) and returns the
/// status text span, if any.
///
/// # Errors
/// Malformed JSON or a non-string `status`.
pub fn read_ack_status(s: &mut Scan<'_>) -> Result<Option<Span>, GateError> {
    let frame = s.bytes();
    if s.peek() != Some(b'{') {
        s.skip().map_err(|e| GateError::json("result", e))?;
        return Ok(None);
    }
    let mut status = None;
    let mut first = true;
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| GateError::json("result", e))?
    {
        s.peek();
        let pos = s.i;
        let v = s.value().map_err(|e| GateError::json("result", e))?;
        if k.is("status") {
            status = value::string(&v, "status", pos)
                .map_err(|e| e.under("result"))?
                .map(|j| Span::of(frame, &j));
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> ErrorInfo {
        read_error(&mut Scan::new(json.as_bytes())).unwrap()
    }

    #[test]
    fn auth_failures_are_recognised_in_every_shape() {
        for code in [4, 6, 11] {
            assert_eq!(classify(Some(code), "whatever"), ErrorClass::Auth);
        }
        for label in AUTH_LABELS {
            assert_eq!(
                classify(Some(2), &format!("{{\"label\":\"{label}\"}}")),
                ErrorClass::Auth
            );
        }
        assert_eq!(classify(Some(2), "auth faild"), ErrorClass::Auth);
        assert_eq!(
            classify(Some(2), "unknown currency pair FOO_BAR"),
            ErrorClass::Permanent
        );
        assert_eq!(classify(Some(3), "service error"), ErrorClass::Transient);
        assert_eq!(classify(None, ""), ErrorClass::Permanent);
    }

    #[test]
    fn error_objects_keep_code_message_and_label() {
        let j = r#"{"code":4,"message":"{\"label\":\"INVALID_KEY\",\"message\":\"Invalid key provided\"}"}"#;
        let e = err(j);
        assert_eq!(e.code, Some(4));
        assert_eq!(e.label.as_deref(), Some("INVALID_KEY"));
        assert_eq!(e.class, ErrorClass::Auth);
        let e = err(r#"{"message":"Alert sub ob.BTC_USDT.400","code":2}"#);
        assert_eq!(e.class, ErrorClass::Permanent);
        assert!(e.label.is_none());
        assert!(read_error(&mut Scan::new(br#"{"code":"x"}"#)).is_err());
        assert!(read_error(&mut Scan::new(br#"{"message":5}"#)).is_err());
    }

    #[test]
    fn ack_status_is_read_from_result() {
        let j = br#"{"status":"success"}"#;
        let sp = read_ack_status(&mut Scan::new(j)).unwrap().unwrap();
        assert_eq!(sp.decode(j).unwrap(), "success");
        assert_eq!(read_ack_status(&mut Scan::new(b"null")).unwrap(), None);
        assert!(read_ack_status(&mut Scan::new(br#"{"status":1}"#)).is_err());
    }
}
