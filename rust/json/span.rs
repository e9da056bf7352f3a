//! Frame-relative spans, so decoded events can outlive the borrow of the frame they came from.
//!
//! Events keep one owned copy of the frame and remember where each string field lies in it;
//! text is decoded only when Python asks for it.

use super::scan::{JStr, JsonErrorKind};

/// Where a JSON string's contents lie in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte after the opening quote.
    pub start: u32,
    /// Byte of the closing quote.
    pub end: u32,
    /// True when the contents hold `\` escapes.
    pub escaped: bool,
}

impl Span {
    /// The span of `s`, which must borrow from `frame`.
    #[must_use]
    pub fn of(frame: &[u8], s: &JStr<'_>) -> Self {
        let base = frame.as_ptr() as usize;
        let start = (s.raw.as_ptr() as usize).saturating_sub(base);
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(start + s.raw.len()).unwrap_or(u32::MAX),
            escaped: s.escaped,
        }
    }

    /// The raw (undecoded) bytes in `frame`.
    #[must_use]
    pub fn raw<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        frame
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// The string view again.
    #[must_use]
    pub fn jstr<'a>(&self, frame: &'a [u8]) -> JStr<'a> {
        JStr {
            raw: self.raw(frame),
            escaped: self.escaped,
        }
    }

    /// The decoded text.
    ///
    /// # Errors
    /// Never for spans produced by the scanner (it validated the string already).
    pub fn decode<'a>(&self, frame: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, JsonErrorKind> {
        self.jstr(frame).decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Scan;

    #[test]
    fn spans_find_their_text_again() {
        let frame = br#"{"s":"BTC\u005fUSDT"}"#;
        let mut sc = Scan::at(frame, 5);
        let j = sc.string().unwrap();
        let sp = Span::of(frame, &j);
        assert_eq!(sp.start, 6);
        assert!(sp.escaped);
        assert_eq!(sp.decode(frame).unwrap(), "BTC_USDT");
        assert_eq!(Span::default().raw(frame), b"");
    }
}
