//! JSON control frames on the MEXC spot socket (mexc.md §2): subscription acks, refusals
//! and PONG. They arrive as text frames next to the binary pushes.
//!
//! The server answers a refused subscription with `code: 0` too ("Not Subscribed
//! successfully! [...].  Reason： Blocked! "), so `code` is never trusted: an ack succeeds
//! only when every comma-separated token of `msg` is a channel that was requested (§2.2).
//! Frames are tiny and rare, so a small JSON reader for one flat object is enough here (nested
//! values are skipped); a text frame that is not JSON (`Invalid listen key`) is kept as text.

use super::error::{ErrorKind, FieldPath, MexcError};

/// What a control frame says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// `msg` is `PONG`.
    Pong,
    /// An acknowledgement echoing channel names (check it with [`Control::is_success`]).
    Ack,
    /// `msg` contains "Not Subscribed": some or all channels were refused.
    Refused,
    /// A non-zero `code`.
    Error,
    /// Not a JSON object: the raw text (e.g. `Invalid listen key`).
    Text,
}

impl ControlKind {
    /// Lower-case name for Python.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ControlKind::Pong => "pong",
            ControlKind::Ack => "ack",
            ControlKind::Refused => "refused",
            ControlKind::Error => "error",
            ControlKind::Text => "text",
        }
    }
}

/// A parsed control frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// The classification.
    pub kind: ControlKind,
    /// `id`, if present and an integer.
    pub id: Option<i64>,
    /// `code`, if present and an integer.
    pub code: Option<i64>,
    /// `msg` (for `Text`, the whole frame).
    pub msg: String,
}

fn bad(why: &'static str) -> MexcError {
    MexcError::new(FieldPath::ROOT, ErrorKind::InvalidJson(why))
}

impl Control {
    /// Parses one text frame.
    ///
    /// # Errors
    /// `InvalidJson` when the frame starts like a JSON object but is not one.
    pub fn parse(text: &str) -> Result<Self, MexcError> {
        let trimmed = text.trim();
        if !trimmed.starts_with('{') {
            return Ok(Control {
                kind: ControlKind::Text,
                id: None,
                code: None,
                msg: trimmed.to_owned(),
            });
        }
        let mut p = Json {
            b: trimmed.as_bytes(),
            i: 0,
        };
        let (mut id, mut code, mut msg) = (None, None, None);
        p.object(|key, v| match (key.as_str(), v) {
            ("id", Scalar::Int(n)) => id = Some(n),
            ("code", Scalar::Int(n)) => code = Some(n),
            ("msg", Scalar::Str(s)) => msg = Some(s),
            _ => {}
        })?;
        p.ws();
        if p.i != p.b.len() {
            return Err(bad("trailing characters"));
        }
        let msg = msg.unwrap_or_default();
        let kind = if msg == "PONG" {
            ControlKind::Pong
        } else if msg.contains("Not Subscribed") {
            ControlKind::Refused
        } else if code.is_some_and(|c| c != 0) {
            ControlKind::Error
        } else {
            ControlKind::Ack
        };
        Ok(Control {
            kind,
            id,
            code,
            msg,
        })
    }

    /// True when this acknowledges exactly channels from `requested`: `msg` split on `,` is
    /// non-empty and every token is one of them (mexc.md §2.2). Refusals never succeed.
    #[must_use]
    pub fn is_success<S: AsRef<str>>(&self, requested: &[S]) -> bool {
        self.kind == ControlKind::Ack
            && !self.msg.is_empty()
            && self
                .msg
                .split(',')
                .all(|t| requested.iter().any(|r| r.as_ref() == t))
    }

    /// Channels named as refused (`Not Subscribed successfully! [a,b]`), trimmed.
    #[must_use]
    pub fn refused_channels(&self) -> Vec<&str> {
        bracketed(&self.msg, "Not Subscribed successfully!")
    }
}

fn bracketed<'m>(msg: &'m str, marker: &str) -> Vec<&'m str> {
    let Some(at) = msg.find(marker) else {
        return Vec::new();
    };
    let rest = &msg[at + marker.len()..];
    let Some(open) = rest.find('[') else {
        return Vec::new();
    };
    let inner = &rest[open + 1..];
    let close = inner.find(']').unwrap_or(inner.len());
    inner[..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

enum Scalar {
    Str(String),
    Int(i64),
    Other,
}

struct Json<'b> {
    b: &'b [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), MexcError> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(bad("unexpected character"))
        }
    }

    fn object(&mut self, mut each: impl FnMut(String, Scalar)) -> Result<(), MexcError> {
        self.eat(b'{')?;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.eat(b':')?;
            let v = self.value(0)?;
            each(key, v);
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(bad("expected ',' or '}'")),
            }
        }
    }

    fn value(&mut self, depth: u32) -> Result<Scalar, MexcError> {
        if depth > 32 {
            return Err(bad("nested too deep"));
        }
        self.ws();
        match self.b.get(self.i) {
            Some(b'"') => Ok(Scalar::Str(self.string()?)),
            Some(b'{' | b'[') => {
                let close = if self.b[self.i] == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&close) {
                    self.i += 1;
                    return Ok(Scalar::Other);
                }
                loop {
                    if close == b'}' {
                        self.ws();
                        self.string()?;
                        self.eat(b':')?;
                    }
                    self.value(depth + 1)?;
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(&c) if c == close => {
                            self.i += 1;
                            return Ok(Scalar::Other);
                        }
                        _ => return Err(bad("unterminated container")),
                    }
                }
            }
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| bad("number"))?;
                match t.parse::<i64>() {
                    Ok(n) => Ok(Scalar::Int(n)),
                    Err(_) if t.parse::<f64>().is_ok() => Ok(Scalar::Other),
                    Err(_) => Err(bad("invalid number")),
                }
            }
            _ => Err(bad("unexpected value")),
        }
    }

    fn word(&mut self, w: &[u8]) -> Result<Scalar, MexcError> {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(Scalar::Other)
        } else {
            Err(bad("unexpected literal"))
        }
    }

    fn hex4(&mut self) -> Result<u32, MexcError> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .ok_or(bad("short \\u escape"))?;
        let s = std::str::from_utf8(h).map_err(|_| bad("bad \\u escape"))?;
        self.i += 4;
        u32::from_str_radix(s, 16).map_err(|_| bad("bad \\u escape"))
    }

    fn string(&mut self) -> Result<String, MexcError> {
        if self.b.get(self.i) != Some(&b'"') {
            return Err(bad("expected a string"));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err(bad("unterminated string"));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return Err(bad("unterminated escape"));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u) && self.b[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                u = 0x10000
                                    + ((u - 0xD800) << 10)
                                    + (lo.wrapping_sub(0xDC00) & 0x3FF);
                            }
                            char::from_u32(u).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(bad("invalid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
        // The input is a &str, and escapes were encoded as UTF-8, so this cannot fail.
        String::from_utf8(out).map_err(|_| bad("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT";
    const DEPTH: &str = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT";

    #[test]
    fn acks_succeed_only_for_requested_channels() {
        let c = Control::parse(&format!(r#"{{"id":0,"code":0,"msg":"{BOOK},{DEPTH}"}}"#)).unwrap();
        assert_eq!(c.kind, ControlKind::Ack);
        assert_eq!((c.id, c.code), (Some(0), Some(0)));
        assert!(c.is_success(&[BOOK, DEPTH]));
        assert!(!c.is_success(&[BOOK]));
    }

    #[test]
    fn refusals_with_code_zero_fail() {
        let text = "{\"id\":0,\"code\":0,\"msg\":\"Not Subscribed successfully! [spot@public.increase.depth.v3.api@BTCUSDT].  Reason： Blocked! \"}";
        let c = Control::parse(text).unwrap();
        assert_eq!(c.kind, ControlKind::Refused);
        assert!(!c.is_success(&["spot@public.increase.depth.v3.api@BTCUSDT"]));
        assert_eq!(
            c.refused_channels(),
            ["spot@public.increase.depth.v3.api@BTCUSDT"]
        );
        let partial = r#"{"id":0,"code":0,"msg":"Subscribed successful! [a,b]. Not Subscribed successfully! [c, d].  Reason： Blocked! "}"#;
        let c = Control::parse(partial).unwrap();
        assert_eq!(c.kind, ControlKind::Refused);
        assert_eq!(c.refused_channels(), ["c", "d"]);
    }

    #[test]
    fn pong_text_errors_and_escapes() {
        let c = Control::parse(r#" {"id":0,"code":0,"msg":"PONG"} "#).unwrap();
        assert_eq!(c.kind, ControlKind::Pong);
        let c = Control::parse("Invalid listen key").unwrap();
        assert_eq!(
            (c.kind, c.msg.as_str()),
            (ControlKind::Text, "Invalid listen key")
        );
        let c = Control::parse(
            r#"{"code":700002,"msg":"x\u00e9\ud83d\ude00\n","extra":{"a":[1,2.5,null,true]}}"#,
        )
        .unwrap();
        assert_eq!(c.kind, ControlKind::Error);
        assert_eq!(c.msg, "x\u{e9}\u{1F600}\n");
        for bad in [
            "{",
            "{\"msg\":}",
            "{\"msg\":\"x\"} trailing",
            "{\"a\":tru}",
            "{\"a\":\"\\q\"}",
        ] {
            assert!(Control::parse(bad).is_err(), "{bad}");
        }
    }
}
