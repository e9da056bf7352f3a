//! Field tables of the record payloads and the table-driven reader.
//!
//! Each kind lists the fields hftws types (`binance.md` §3, §8.2; markPrice, forceOrder and
//! 24hrMiniTicker field names from the exchange's stream pages, see the module docs of
//! [`super`]). A record is read in one pass into one [`Slot`] per field, reusing the Gate.io
//! slot readers (exact decimals, integers, strings, bools checked at decode time, text left
//! in the frame). One nested object is supported (`kline.k`, `forceOrder.o`). Unknown keys are
//! skipped but validated; a typed key given twice is refused (`json.loads` would keep the
//! last one), so an accepted record always means what Python's `json` says it means.

use super::error::BinanceError;
use super::frame::expect_object;
use super::route::Kind;
use crate::gate::channels::{fast_slot, read_slot, Field, Slot, Ty};
use crate::json::{JStr, Scan};

macro_rules! table {
    ($name:ident: $($f:literal $t:ident),* $(,)?) => {
        #[doc = concat!("Fields of `", stringify!($name), "` payloads.")]
        pub const $name: &[Field] = &[$(Field { name: $f, ty: Ty::$t }),*];
    };
}

table!(TRADE: "e" Str, "E" Int, "T" Int, "s" Str, "t" Int, "p" Dec, "q" Dec, "X" Str,
    "m" Bool, "M" Bool);
table!(AGG_TRADE: "e" Str, "E" Int, "s" Str, "a" Int, "p" Dec, "q" Dec, "nq" Dec, "f" Int,
    "l" Int, "T" Int, "m" Bool, "M" Bool);
table!(BOOK_TICKER: "e" Str, "u" Int, "E" Int, "T" Int, "s" Str, "b" Dec, "B" Dec, "a" Dec,
    "A" Dec);
table!(KLINE: "e" Str, "E" Int, "s" Str);
table!(KLINE_K: "t" Int, "T" Int, "s" Str, "i" Str, "f" Int, "L" Int, "o" Dec, "c" Dec,
    "h" Dec, "l" Dec, "v" Dec, "n" Int, "x" Bool, "q" Dec, "V" Dec, "Q" Dec);
table!(MINI_TICKER: "e" Str, "E" Int, "s" Str, "c" Dec, "o" Dec, "h" Dec, "l" Dec, "v" Dec,
    "q" Dec);
table!(MARK_PRICE: "e" Str, "E" Int, "s" Str, "p" Dec, "i" Dec, "P" Dec, "r" Dec, "T" Int);
table!(FORCE_ORDER: "e" Str, "E" Int);
table!(FORCE_ORDER_O: "s" Str, "S" Str, "o" Str, "f" Str, "q" Dec, "p" Dec, "ap" Dec,
    "X" Str, "l" Dec, "z" Dec, "T" Int);
table!(SERVER_SHUTDOWN: "e" Str, "E" Int);
table!(OTHER: "e" Str, "E" Int, "s" Str);

/// The top-level table and the optional nested object (`key`, table) of a kind.
#[must_use]
pub const fn tables(kind: Kind) -> (&'static [Field], Option<(&'static str, &'static [Field])>) {
    match kind {
        Kind::Trade => (TRADE, None),
        Kind::AggTrade => (AGG_TRADE, None),
        Kind::BookTicker => (BOOK_TICKER, None),
        Kind::Kline => (KLINE, Some(("k", KLINE_K))),
        Kind::MiniTicker => (MINI_TICKER, None),
        Kind::MarkPrice => (MARK_PRICE, None),
        Kind::ForceOrder => (FORCE_ORDER, Some(("o", FORCE_ORDER_O))),
        Kind::ServerShutdown => (SERVER_SHUTDOWN, None),
        // Depth has its own reader (`depth.rs`); as a record only its envelope is typed.
        Kind::DiffDepth | Kind::PartialDepth | Kind::Other => (OTHER, None),
    }
}

/// One decoded record payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its kind (selects the tables).
    pub kind: Kind,
    /// One slot per top-level field, then one per nested field.
    pub slots: Box<[Slot]>,
    /// Span of the payload object in the frame (`{` .. `}` inclusive).
    pub span: (usize, usize),
}

impl Record {
    /// The slot of top-level field `i`.
    #[must_use]
    pub fn slot(&self, i: usize) -> Slot {
        self.slots.get(i).copied().unwrap_or_default()
    }

    /// The slot of field `i` of the nested object.
    #[must_use]
    pub fn nested(&self, i: usize) -> Slot {
        self.slot(tables(self.kind).0.len() + i)
    }

    /// The event type `e` as raw text, if present.
    #[must_use]
    pub fn event<'a>(&self, frame: &'a [u8]) -> Option<JStr<'a>> {
        let e = self.slot(0);
        (e.tag == crate::gate::channels::Tag::Str).then(|| e.span.jstr(frame))
    }
}

/// Reads the fields of one object (cursor at `{`) into `slots`.
fn read_object(
    s: &mut Scan<'_>,
    fields: &[Field],
    slots: &mut [Slot],
    nested: Option<(&str, &[Field])>,
    nested_slots: &mut [Slot],
) -> Result<(), BinanceError> {
    let frame = s.bytes();
    let mut seen: u64 = 0;
    let mut first = true;
    let j = |e| BinanceError::from(crate::gate::GateError::json("", e));
    expect_object(s)?;
    // Binance sends fields in documentation order, which is table order: start each search
    // just after the previous hit so the usual lookup is one comparison.
    let mut hint = 0usize;
    while let Some(k) = s.next_key(&mut first).map_err(j)? {
        s.peek();
        let pos = s.i;
        if let Some((key, sub)) = nested {
            if k.is(key) {
                if seen & (1 << 63) != 0 {
                    return Err(BinanceError::duplicate(key, pos));
                }
                seen |= 1 << 63;
                read_object(s, sub, nested_slots, None, &mut []).map_err(|e| e.under(key))?;
                continue;
            }
        }
        let found = match fields.get(hint) {
            Some(f) if k.is(f.name) => Some(hint),
            _ => fields.iter().position(|f| k.is(f.name)),
        };
        let Some(i) = found else {
            s.skip().map_err(j)?;
            continue;
        };
        if seen & (1 << i) != 0 {
            return Err(BinanceError::duplicate(fields[i].name, pos));
        }
        seen |= 1 << i;
        hint = i + 1;
        if let Some(fast) = fast_slot(s, fields[i].ty) {
            slots[i] = fast;
            continue;
        }
        let v = s
            .value()
            .map_err(|e| BinanceError::from(crate::gate::GateError::json(fields[i].name, e)))?;
        slots[i] = read_slot(frame, &v, &fields[i], pos)?;
    }
    Ok(())
}

/// Reads one record payload of `kind` (cursor at `{`).
///
/// # Errors
/// Malformed JSON, a non-object, a typed field with the wrong type or a bad number, or a
/// typed field given twice.
pub fn read_record(s: &mut Scan<'_>, kind: Kind) -> Result<Record, BinanceError> {
    let (top, nested) = tables(kind);
    let n_nested = nested.map_or(0, |(_, t)| t.len());
    let mut slots = vec![Slot::default(); top.len() + n_nested].into_boxed_slice();
    s.peek();
    let start = s.i;
    let (head, tail) = slots.split_at_mut(top.len());
    read_object(s, top, head, nested, tail)?;
    Ok(Record {
        kind,
        slots,
        span: (start, s.i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::gate::channels::{index, Tag};

    fn rec(kind: Kind, json: &str) -> Result<Record, BinanceError> {
        read_record(&mut Scan::new(json.as_bytes()), kind)
    }

    #[test]
    fn trade_fields_are_typed_and_exact() {
        let j = r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#;
        let r = rec(Kind::Trade, j).unwrap();
        assert_eq!(r.slot(index(TRADE, "t")).int(), Some(12345));
        assert_eq!(
            r.slot(index(TRADE, "p")).decimal(),
            Some(Decimal::parse("0.001").unwrap())
        );
        assert_eq!(r.slot(index(TRADE, "m")).boolean(), Some(true));
        assert_eq!(r.slot(index(TRADE, "X")).tag, Tag::Absent);
        assert_eq!(r.event(j.as_bytes()).unwrap().raw, b"trade");
    }

    #[test]
    fn nested_objects_fill_their_own_slots() {
        let j = r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"T":2,"s":"BNBBTC","i":"1m","o":"0.0010","x":false,"B":"123456"}}"#;
        let r = rec(Kind::Kline, j).unwrap();
        assert_eq!(
            r.nested(index(KLINE_K, "o")).decimal(),
            Some(Decimal::parse("0.001").unwrap())
        );
        assert_eq!(r.nested(index(KLINE_K, "x")).boolean(), Some(false));
        let e = rec(Kind::Kline, r#"{"k":{"o":[1]}}"#).unwrap_err();
        assert_eq!(e.field, "k.o");
        let e = rec(Kind::Kline, r#"{"k":{},"k":{}}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key"));
    }

    #[test]
    fn duplicate_typed_keys_are_refused_unknown_ones_skipped() {
        let e = rec(Kind::Trade, r#"{"p":"1","p":"2"}"#).unwrap_err();
        assert_eq!(e.field, "p");
        assert!(rec(Kind::Trade, r#"{"zz":1,"zz":2}"#).is_ok());
        let e = rec(Kind::Trade, r#"{"e":"trade","e":"aggTrade"}"#).unwrap_err();
        assert_eq!(e.field, "e");
    }

    #[test]
    fn wrong_types_name_the_field() {
        assert_eq!(rec(Kind::Trade, r#"{"p":true}"#).unwrap_err().field, "p");
        assert_eq!(rec(Kind::Trade, r#"{"t":"x"}"#).unwrap_err().field, "t");
        assert_eq!(rec(Kind::Trade, r#"{"m":"true"}"#).unwrap_err().field, "m");
        assert!(rec(Kind::Trade, "[]").is_err());
    }
}
