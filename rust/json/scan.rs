//! A validating, allocation-free JSON scanner over one text frame (RFC 8259).
//!
//! Gate.io frames are small objects whose interesting values are strings and numbers, and the
//! hot depth channel only needs to stream `[price, size]` pairs into a book. A DOM parser
//! would allocate every key and level; this scanner instead walks the bytes once, hands out
//! borrowed slices (string contents, number literals) and skips values it does not need while
//! still checking their syntax, so malformed input is always reported. Strings are decoded only
//! on demand (`JStr::decode`), which also validates escapes and surrogate pairs.
//!
//! What it accepts matches Python's `json.loads` in strict mode except for two deliberate
//! refusals: `NaN`/`Infinity` (not JSON) and lone UTF-16 surrogates (not representable in Rust
//! strings). Nesting is limited to [`MAX_DEPTH`] so hostile input cannot exhaust the stack.

use std::borrow::Cow;

/// Deepest nesting accepted; Gate frames use at most four levels.
pub const MAX_DEPTH: usize = 128;

/// Why the bytes are not valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value.
    Eof,
    /// A byte that cannot start or continue the expected token.
    Unexpected,
    /// A malformed `\` escape or lone surrogate in a string.
    BadEscape,
    /// A raw control character (< 0x20) inside a string.
    ControlChar,
    /// Bytes that are not UTF-8 inside a string.
    BadUtf8,
    /// A number that does not follow the JSON grammar.
    BadNumber,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Non-whitespace after the top-level value.
    Trailing,
}

impl JsonErrorKind {
    /// Human-readable description.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Eof => "unexpected end of input",
            Self::Unexpected => "unexpected character",
            Self::BadEscape => "invalid escape in string",
            Self::ControlChar => "control character in string",
            Self::BadUtf8 => "invalid UTF-8 in string",
            Self::BadNumber => "invalid number",
            Self::TooDeep => "nesting too deep",
            Self::Trailing => "trailing characters after the message",
        }
    }
}

/// A JSON syntax error at byte offset `pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub kind: JsonErrorKind,
    /// Byte offset in the frame.
    pub pos: usize,
}

/// The contents of a JSON string, between the quotes, not yet unescaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JStr<'a> {
    /// Raw bytes between the quotes.
    pub raw: &'a [u8],
    /// True when `raw` contains a backslash escape.
    pub escaped: bool,
}

impl<'a> JStr<'a> {
    /// The decoded text (borrowed unless escapes had to be resolved).
    ///
    /// # Errors
    /// [`JsonErrorKind::BadUtf8`] or [`JsonErrorKind::BadEscape`] (position relative to the
    /// string start).
    pub fn decode(&self) -> Result<Cow<'a, str>, JsonErrorKind> {
        if !self.escaped {
            return std::str::from_utf8(self.raw)
                .map(Cow::Borrowed)
                .map_err(|_| JsonErrorKind::BadUtf8);
        }
        let mut out = String::with_capacity(self.raw.len());
        let raw = self.raw;
        let mut i = 0;
        while i < raw.len() {
            let start = i;
            while i < raw.len() && raw[i] != b'\\' {
                i += 1;
            }
            out.push_str(std::str::from_utf8(&raw[start..i]).map_err(|_| JsonErrorKind::BadUtf8)?);
            if i >= raw.len() {
                break;
            }
            let c = *raw.get(i + 1).ok_or(JsonErrorKind::BadEscape)?;
            i += 2;
            let ch = match c {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = hex4(raw.get(i..i + 4))?;
                    i += 4;
                    let code = if (0xD800..0xDC00).contains(&hi) {
                        if raw.get(i) != Some(&b'\\') || raw.get(i + 1) != Some(&b'u') {
                            return Err(JsonErrorKind::BadEscape);
                        }
                        let lo = hex4(raw.get(i + 2..i + 6))?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(JsonErrorKind::BadEscape);
                        }
                        i += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    };
                    char::from_u32(code).ok_or(JsonErrorKind::BadEscape)?
                }
                _ => return Err(JsonErrorKind::BadEscape),
            };
            out.push(ch);
        }
        Ok(Cow::Owned(out))
    }

    /// The decoded bytes of a key, borrowed unless escapes had to be resolved (an undecodable
    /// key reads as empty: it matches no field name).
    #[inline]
    #[must_use]
    pub fn key_bytes(&self) -> Cow<'a, [u8]> {
        if self.escaped {
            Cow::Owned(
                self.decode()
                    .map(|c| c.into_owned())
                    .unwrap_or_default()
                    .into_bytes(),
            )
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// True when the decoded string equals `lit` (ASCII literal), without allocating for the
    /// common unescaped case.
    #[inline]
    #[must_use]
    pub fn is(&self, lit: &str) -> bool {
        if self.escaped {
            matches!(self.decode(), Ok(s) if s == lit)
        } else {
            // Keys are a few bytes: an inline loop beats a call to memcmp.
            let lit = lit.as_bytes();
            self.raw.len() == lit.len() && self.raw.iter().zip(lit).all(|(a, b)| a == b)
        }
    }
}

fn hex4(b: Option<&[u8]>) -> Result<u32, JsonErrorKind> {
    let b = b.ok_or(JsonErrorKind::BadEscape)?;
    let mut v = 0u32;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(JsonErrorKind::BadEscape),
        };
        v = v * 16 + u32::from(d);
    }
    Ok(v)
}

/// One scalar value, or the span of a container that was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    /// A string.
    Str(JStr<'a>),
    /// A number literal (grammar-checked).
    Num(&'a [u8]),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object, as its byte span in the frame (`{` .. `}` inclusive).
    Obj(usize, usize),
    /// An array, as its byte span in the frame.
    Arr(usize, usize),
}

impl Val<'_> {
    /// JSON type name for error messages.
    #[must_use]
    pub const fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Num(_) => "number",
            Val::Bool(_) => "bool",
            Val::Null => "null",
            Val::Obj(..) => "object",
            Val::Arr(..) => "array",
        }
    }
}

/// A cursor over one frame.
#[derive(Debug, Clone)]
pub struct Scan<'a> {
    b: &'a [u8],
    /// Current byte offset.
    pub i: usize,
}

/// Bytes that end the fast part of a string scan: quote, backslash, control, non-ASCII.
const fn string_stop_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = c < 0x20 || c == b'"' as usize || c == b'\\' as usize || c >= 0x80;
        c += 1;
    }
    t
}
static STRING_STOP: [bool; 256] = string_stop_table();

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte at or after `i` that ends the plain part of a string (quote,
/// backslash, control or non-ASCII byte), or `b.len()`. Eight bytes at a time (SWAR): keys and
/// values are short, so this is usually one step.
#[inline(always)]
#[must_use]
pub fn string_stop(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        let quote = x ^ (LO * u64::from(b'"'));
        let slash = x ^ (LO * u64::from(b'\\'));
        // A byte is flagged when it is zero after the xor (quote / backslash), below 0x20, or
        // has its high bit set. Borrows can only flag bytes above the first real hit, so the
        // lowest flag is exact.
        let zero = |v: u64| v.wrapping_sub(LO) & !v;
        let mask = (zero(quote) | zero(slash) | x.wrapping_sub(LO * 0x20) | x) & HI;
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if STRING_STOP[c as usize] {
            break;
        }
        i += 1;
    }
    i
}

impl<'a> Scan<'a> {
    /// A cursor at the start of `b`.
    #[must_use]
    pub fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    /// A cursor at `i` within `b`.
    #[must_use]
    pub fn at(b: &'a [u8], i: usize) -> Self {
        Self { b, i }
    }

    /// The whole frame.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    #[inline]
    fn err<T>(&self, kind: JsonErrorKind) -> Result<T, JsonError> {
        Err(JsonError { kind, pos: self.i })
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    /// Consumes `c` (after whitespace) or fails.
    ///
    /// # Errors
    /// [`JsonErrorKind::Eof`] / [`JsonErrorKind::Unexpected`].
    #[inline(always)]
    pub fn expect(&mut self, c: u8) -> Result<(), JsonError> {
        match self.peek() {
            Some(x) if x == c => {
                self.i += 1;
                Ok(())
            }
            Some(_) => self.err(JsonErrorKind::Unexpected),
            None => self.err(JsonErrorKind::Eof),
        }
    }

    /// Checks that only whitespace remains.
    ///
    /// # Errors
    /// [`JsonErrorKind::Trailing`].
    pub fn finish(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.err(JsonErrorKind::Trailing),
        }
    }

    /// Reads a string; the cursor must be at its opening quote (whitespace allowed).
    ///
    /// # Errors
    /// Syntax errors in the string.
    #[inline(always)]
    pub fn string(&mut self) -> Result<JStr<'a>, JsonError> {
        self.expect(b'"')?;
        let start = self.i;
        let mut escaped = false;
        let mut non_ascii = false;
        loop {
            self.i = string_stop(self.b, self.i);
            match self.b.get(self.i) {
                None => return self.err(JsonErrorKind::Eof),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    // The escape's validity is checked here so skipped strings are validated
                    // too; only the decoding is left to `JStr::decode`.
                    match self.b.get(self.i + 1) {
                        None => return self.err(JsonErrorKind::Eof),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.i += 2;
                        }
                        Some(b'u') => {
                            if hex4(self.b.get(self.i + 2..self.i + 6)).is_err() {
                                return self.err(JsonErrorKind::BadEscape);
                            }
                            self.i += 6;
                        }
                        Some(_) => return self.err(JsonErrorKind::BadEscape),
                    }
                }
                Some(&c) if c >= 0x80 => {
                    non_ascii = true;
                    self.i += 1;
                }
                Some(_) => return self.err(JsonErrorKind::ControlChar),
            }
        }
        let raw = &self.b[start..self.i];
        self.i += 1;
        if non_ascii && std::str::from_utf8(raw).is_err() {
            return Err(JsonError {
                kind: JsonErrorKind::BadUtf8,
                pos: start,
            });
        }
        if escaped {
            // Surrogate pairing is only known after decoding; refuse lone halves now so that a
            // skipped string and a decoded one are judged alike.
            if let Err(kind) = (JStr { raw, escaped }).decode() {
                return Err(JsonError { kind, pos: start });
            }
        }
        Ok(JStr { raw, escaped })
    }

    /// Reads a number literal; the cursor must be at its first byte.
    ///
    /// # Errors
    /// [`JsonErrorKind::BadNumber`].
    #[inline(always)]
    pub fn number(&mut self) -> Result<&'a [u8], JsonError> {
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return self.err(JsonErrorKind::BadNumber);
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err(JsonErrorKind::BadNumber);
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err(JsonErrorKind::BadNumber);
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.i = i;
        Ok(&b[start..i])
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else if self.b.len() < self.i + word.len() && word.starts_with(&self.b[self.i..]) {
            self.err(JsonErrorKind::Eof)
        } else {
            self.err(JsonErrorKind::Unexpected)
        }
    }

    /// Reads one value: scalars are returned, containers are skipped (validated) and returned
    /// as spans.
    ///
    /// # Errors
    /// Any syntax error inside the value.
    #[inline]
    pub fn value(&mut self) -> Result<Val<'a>, JsonError> {
        match self.peek() {
            None => self.err(JsonErrorKind::Eof),
            Some(b'"') => Ok(Val::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(Val::Num(self.number()?)),
            Some(b't') => self.literal(b"true").map(|()| Val::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Val::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Val::Null),
            Some(b'{') => {
                let s = self.i;
                self.skip_container(0)?;
                Ok(Val::Obj(s, self.i))
            }
            Some(b'[') => {
                let s = self.i;
                self.skip_container(0)?;
                Ok(Val::Arr(s, self.i))
            }
            Some(_) => self.err(JsonErrorKind::Unexpected),
        }
    }

    /// Skips one value of any type, validating it.
    ///
    /// # Errors
    /// Any syntax error inside the value.
    pub fn skip(&mut self) -> Result<(), JsonError> {
        self.value().map(|_| ())
    }

    fn skip_container(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth >= MAX_DEPTH {
            return self.err(JsonErrorKind::TooDeep);
        }
        let is_obj = self.b.get(self.i) == Some(&b'{');
        self.i += 1;
        let close = if is_obj { b'}' } else { b']' };
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            if is_obj {
                self.string()?;
                self.expect(b':')?;
            }
            match self.peek() {
                Some(b'{' | b'[') => self.skip_container(depth + 1)?,
                _ => {
                    self.value()?;
                }
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                Some(_) => return self.err(JsonErrorKind::Unexpected),
                None => return self.err(JsonErrorKind::Eof),
            }
        }
    }

    /// Iterates an object: call with `first = true` at `{`; returns the next key (cursor after
    /// its `:`) or `None` after the closing `}`.
    ///
    /// # Errors
    /// Syntax errors in the object's punctuation or keys.
    #[inline(always)]
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<JStr<'a>>, JsonError> {
        if *first {
            *first = false;
            self.expect(b'{')?;
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(None);
            }
        } else {
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(None);
                }
                Some(_) => return self.err(JsonErrorKind::Unexpected),
                None => return self.err(JsonErrorKind::Eof),
            }
        }
        let k = self.string()?;
        self.expect(b':')?;
        Ok(Some(k))
    }

    /// Iterates an array: call with `first = true` at `[`; returns true when an element
    /// follows (cursor at it) and false after the closing `]`.
    ///
    /// # Errors
    /// Syntax errors in the array's punctuation.
    #[inline(always)]
    pub fn next_item(&mut self, first: &mut bool) -> Result<bool, JsonError> {
        if *first {
            *first = false;
            self.expect(b'[')?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(false);
            }
            return Ok(true);
        }
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(b']') => {
                self.i += 1;
                Ok(false)
            }
            Some(_) => self.err(JsonErrorKind::Unexpected),
            None => self.err(JsonErrorKind::Eof),
        }
    }
}

/// Validates that `b` is exactly one JSON value.
///
/// # Errors
/// The first syntax error.
pub fn validate(b: &[u8]) -> Result<(), JsonError> {
    let mut s = Scan::new(b);
    s.skip()?;
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) {
        assert_eq!(validate(s.as_bytes()), Ok(()), "{s}");
    }
    fn bad(s: &[u8], kind: JsonErrorKind) {
        assert_eq!(validate(s).map_err(|e| e.kind), Err(kind), "{s:?}");
    }

    #[test]
    fn accepts_what_json_allows() {
        ok(r#"{"a":[1,-2.5e3,0,"x",true,false,null,{},[]]}"#);
        ok(" \n{ \"k\" : \"\\u00e9\\n\\\"\" }\t");
        ok(r#""\ud83d\ude00""#);
        ok("\"caf\u{e9}\"");
        ok("-0.0E+1");
    }

    #[test]
    fn refuses_malformed_input_with_a_kind() {
        bad(b"{", JsonErrorKind::Eof);
        bad(b"{\"a\":}", JsonErrorKind::Unexpected);
        bad(b"{\"a\" 1}", JsonErrorKind::Unexpected);
        bad(b"[1,]", JsonErrorKind::Unexpected);
        bad(b"[1 2]", JsonErrorKind::Unexpected);
        bad(b"01", JsonErrorKind::Trailing);
        bad(b"1.", JsonErrorKind::BadNumber);
        bad(b"-", JsonErrorKind::BadNumber);
        bad(b"1e+", JsonErrorKind::BadNumber);
        bad(b"NaN", JsonErrorKind::Unexpected);
        bad(b"tru", JsonErrorKind::Eof);
        bad(b"\"a\x01\"", JsonErrorKind::ControlChar);
        bad(b"\"\\x\"", JsonErrorKind::BadEscape);
        bad(b"\"\\ud800\"", JsonErrorKind::BadEscape);
        bad(b"\"\\udc00\"", JsonErrorKind::BadEscape);
        bad(b"\"\xff\"", JsonErrorKind::BadUtf8);
        bad(b"{} x", JsonErrorKind::Trailing);
        bad(b"{]", JsonErrorKind::Unexpected);
        bad(b"[}", JsonErrorKind::Unexpected);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        bad(deep.as_bytes(), JsonErrorKind::TooDeep);
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        ok(&fine);
    }

    #[test]
    fn decodes_escapes_and_compares_keys() {
        let mut s = Scan::new(br#""a\"b\\c\/\u0041\ud83d\ude00""#);
        let j = s.string().unwrap();
        assert!(j.escaped);
        assert_eq!(j.decode().unwrap(), "a\"b\\c/A\u{1F600}");
        let mut s = Scan::new(br#""\u0073""#);
        assert!(s.string().unwrap().is("s"));
        let mut s = Scan::new(br#""s""#);
        assert!(s.string().unwrap().is("s"));
    }

    #[test]
    fn swar_string_stop_matches_the_byte_loop() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        for _ in 0..20_000 {
            let len = (x % 24) as usize;
            let mut buf = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly plain ASCII, sometimes a stop byte.
                let c = match x % 16 {
                    0 => b'"',
                    1 => b'\\',
                    2 => (x >> 8) as u8 & 0x1f,
                    3 => 0x80 | (x >> 8) as u8,
                    _ => b'a' + (x >> 8) as u8 % 26,
                };
                buf.push(c);
            }
            for start in 0..=buf.len() {
                let want = (start..buf.len())
                    .find(|&i| STRING_STOP[buf[i] as usize])
                    .unwrap_or(buf.len());
                assert_eq!(string_stop(&buf, start), want, "{buf:?} from {start}");
            }
        }
    }

    #[test]
    fn iterates_objects_and_arrays() {
        let mut s = Scan::new(br#"{"a":1,"b":[2,3]}"#);
        let mut first = true;
        let mut keys = Vec::new();
        while let Some(k) = s.next_key(&mut first).unwrap() {
            keys.push(k.decode().unwrap().into_owned());
            s.skip().unwrap();
        }
        assert_eq!(keys, ["a", "b"]);
        let mut s = Scan::new(b"[]");
        let mut first = true;
        assert!(!s.next_item(&mut first).unwrap());
    }
}
