//! Raw payloads and the combined-stream wrapper `{"stream":<name>,"data":<payload>}`.
//!
//! A frame whose first key is `stream` or `data` is a wrapper (`binance.md` §2.1); anything
//! else is a raw payload. The payload is handed to a callback with the cursor on it: in
//! place when `stream` came first (as Binance sends it), or after the wrapper was read when
//! `data` came first. Both wrapper keys are required and may not repeat; other wrapper keys
//! are skipped but validated.

use std::borrow::Cow;

use super::error::BinanceError;
use super::route::{self, Kind};
use crate::gate::{value, GateError, GateErrorKind};
use crate::json::{JStr, Scan};

/// The stream name of a combined-stream frame.
#[derive(Debug, Clone)]
pub struct Stream<'a> {
    /// The name as it lies in the frame.
    pub raw: JStr<'a>,
    /// The decoded name.
    pub name: Cow<'a, str>,
    /// What the name routes to.
    pub kind: Kind,
}

impl Stream<'_> {
    /// Symbol part of the name (`btcusdt` in `btcusdt@depth`).
    #[must_use]
    pub fn symbol(&self) -> Option<&str> {
        route::stream_symbol(&self.name)
    }
}

/// Checks that the cursor is at an object (`{`); anything else is read (validated) and
/// reported as a type error.
///
/// # Errors
/// Malformed JSON or a value that is not an object.
pub fn expect_object(s: &mut Scan<'_>) -> Result<(), BinanceError> {
    if s.peek() == Some(b'{') {
        return Ok(());
    }
    let pos = s.i;
    let v = s
        .value()
        .map_err(|e| BinanceError::from(GateError::json("", e)))?;
    Err(BinanceError::at(
        "",
        pos,
        GateErrorKind::Type {
            expected: "object",
            found: v.type_name(),
        },
    ))
}

fn is_wrapper(frame: &[u8]) -> bool {
    let mut s = Scan::new(frame);
    let mut first = true;
    matches!(s.next_key(&mut first), Ok(Some(k)) if k.is("stream") || k.is("data"))
}

/// Runs `payload` on the frame's payload and checks that nothing but whitespace follows.
///
/// # Errors
/// Malformed JSON, a wrapper without `stream` or `data`, or a repeated wrapper key; errors
/// from `payload` (their field paths get a `data.` prefix inside a wrapper, and the stream
/// name once it is known).
pub fn scan_frame<'a, T>(
    frame: &'a [u8],
    mut payload: impl FnMut(Option<&Stream<'a>>, &mut Scan<'a>) -> Result<T, BinanceError>,
) -> Result<(Option<Stream<'a>>, T), BinanceError> {
    let mut s = Scan::new(frame);
    let j = |e| BinanceError::from(GateError::json("", e));
    if !is_wrapper(frame) {
        let out = payload(None, &mut s)?;
        s.finish().map_err(j)?;
        return Ok((None, out));
    }
    let mut stream: Option<Stream<'a>> = None;
    let mut out: Option<T> = None;
    let mut data_at: Option<usize> = None;
    let mut first = true;
    let in_stream = |e: BinanceError, st: &Option<Stream<'_>>| match st {
        Some(st) => e.in_stream(&st.name),
        None => e,
    };
    while let Some(k) = s.next_key(&mut first).map_err(j)? {
        s.peek();
        let pos = s.i;
        if k.is("stream") {
            if stream.is_some() {
                return Err(BinanceError::duplicate("stream", pos));
            }
            let raw = value::read_str(&mut s, "stream")?
                .ok_or_else(|| BinanceError::at("stream", pos, GateErrorKind::Missing))?;
            let name = raw
                .decode()
                .map_err(|k| BinanceError::at("stream", pos, GateErrorKind::Json(k)))?;
            let kind = Kind::of_stream(&name);
            stream = Some(Stream { raw, name, kind });
        } else if k.is("data") {
            if data_at.is_some() {
                return Err(in_stream(BinanceError::duplicate("data", pos), &stream));
            }
            data_at = Some(pos);
            if stream.is_some() {
                out = Some(
                    payload(stream.as_ref(), &mut s)
                        .map_err(|e| in_stream(e.under("data"), &stream))?,
                );
            } else {
                s.skip()
                    .map_err(|e| BinanceError::from(GateError::json("data", e)))?;
            }
        } else {
            s.skip().map_err(j)?;
        }
    }
    s.finish().map_err(j)?;
    let Some(st) = stream else {
        return Err(BinanceError::at("stream", 0, GateErrorKind::Missing));
    };
    let Some(at) = data_at else {
        return Err(BinanceError::at("data", 0, GateErrorKind::Missing).in_stream(&st.name));
    };
    let out = match out {
        Some(o) => o,
        None => payload(Some(&st), &mut Scan::at(frame, at))
            .map_err(|e| e.under("data").in_stream(&st.name))?,
    };
    Ok((Some(st), out))
}

/// The payload's kind without a stream name: `e` if it is the first key, otherwise one pass
/// over the keys. Control replies come back as `Kind::Other` with `control == true`.
///
/// # Errors
/// Malformed JSON, or `e` given twice or not a string.
pub fn sniff(s: &Scan<'_>) -> Result<(Kind, bool), BinanceError> {
    let mut s = s.clone();
    let mut first = true;
    let (mut e, mut luid, mut control, mut u, mut sym, mut b, mut a) =
        (None, false, false, false, false, false, false);
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| BinanceError::from(GateError::json("", e)))?
    {
        s.peek();
        let pos = s.i;
        if k.is("e") {
            if e.is_some() {
                return Err(BinanceError::duplicate("e", pos));
            }
            let v = crate::gate::value::read_str(&mut s, "e")?;
            let name = v
                .map(|j| j.decode())
                .transpose()
                .map_err(|k| BinanceError::at("e", pos, GateErrorKind::Json(k)))?;
            let kind = name.as_deref().map_or(Kind::Other, Kind::of_event);
            if first_key(pos, &s) {
                return Ok((kind, false));
            }
            e = Some(kind);
            continue;
        }
        luid |= k.is("lastUpdateId");
        control |= k.is("result") || k.is("code") || k.is("error");
        u |= k.is("u");
        sym |= k.is("s");
        b |= k.is("b");
        a |= k.is("a");
        s.skip()
            .map_err(|e| BinanceError::from(GateError::json("", e)))?;
    }
    Ok(match e {
        Some(kind) => (kind, false),
        None if luid => (Kind::PartialDepth, false),
        None if control => (Kind::Other, true),
        None if u && sym && b && a => (Kind::BookTicker, false),
        None => (Kind::Other, false),
    })
}

/// True when the value at `pos` belongs to the object's first key (`{"e":` or `{ "e" :`).
fn first_key(pos: usize, s: &Scan<'_>) -> bool {
    let before = &s.bytes()[..pos];
    let mut n = 0;
    for &c in before.iter().rev() {
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b'{' => return n == 4,
            _ => n += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(frame: &str) -> Result<(Option<Kind>, usize), BinanceError> {
        scan_frame(frame.as_bytes(), |st, s| {
            let at = s.i;
            s.skip()
                .map_err(|e| BinanceError::from(GateError::json("", e)))?;
            Ok((st.map(|x| x.kind), at))
        })
        .map(|(_, o)| o)
    }

    #[test]
    fn wrapper_in_any_order() {
        let (k, at) = kinds(r#"{"stream":"btcusdt@trade","data":{"e":"trade"}}"#).unwrap();
        assert_eq!(k, Some(Kind::Trade));
        assert_eq!(at, 33);
        let (k, _) = kinds(r#"{"data":{},"stream":"bnbbtc@depth5"}"#).unwrap();
        assert_eq!(k, Some(Kind::PartialDepth));
        assert_eq!(kinds(r#"{"e":"trade"}"#).unwrap(), (None, 0));
    }

    #[test]
    fn wrapper_errors_are_typed() {
        let e = kinds(r#"{"stream":"a@trade","stream":"b@trade","data":1}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key"));
        let e = kinds(r#"{"stream":"a@trade","data":1,"data":2}"#).unwrap_err();
        assert_eq!(e.stream, "a@trade");
        assert_eq!(
            kinds(r#"{"data":1}"#).unwrap_err().kind,
            GateErrorKind::Missing
        );
        assert_eq!(kinds(r#"{"stream":"x"}"#).unwrap_err().field, "data");
        assert!(kinds(r#"{"stream":"x","data":1} x"#).is_err());
        assert!(kinds(r#"{"stream":1,"data":1}"#).is_err());
    }
}
