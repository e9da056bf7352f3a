//! Field tables of the record channels and the table-driven record reader.
//!
//! Channels (`gateio.md` §3.1–3.4, §5.2–5.4, §6.2, §6.5): trades, book tickers, tickers,
//! candlesticks, orders, user trades, positions and balances, spot and futures. Each kind has
//! one table listing the union of the spot and futures fields with the type the exchange uses
//! for them; a record is read in one pass into one slot per table entry, so every listed
//! field is type-checked (and every decimal parsed exactly) at decode time while text stays in
//! the frame until someone asks for it. Unknown keys are skipped (still validated); for a
//! repeated key the last value wins, as in Python's `json`.

use super::error::{GateError, GateErrorKind};
use super::value;
use crate::decimal::Decimal;
use crate::error::DecimalErrorKind;
use crate::json::{Scan, Span, Val};

/// How a field is typed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A JSON string.
    Str,
    /// Price, size, amount, fee, rate or fractional time: decimal string or JSON number,
    /// kept exact; `""` and `null` read as absent.
    Dec,
    /// Id or timestamp: JSON integer or integer string.
    Int,
    /// JSON bool.
    Bool,
    /// Any scalar, kept as sent (ids whose encoding differs between spot and futures).
    Any,
}

/// One field of a record table.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The exchange's field name.
    pub name: &'static str,
    /// Its wire type.
    pub ty: Ty,
}

/// The record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `*.trades`.
    Trade,
    /// `*.book_ticker`.
    BookTicker,
    /// `*.tickers`.
    Ticker,
    /// `*.candlesticks`.
    Candle,
    /// `*.orders`.
    Order,
    /// `*.usertrades`.
    UserTrade,
    /// `futures.positions`.
    Position,
    /// `*.balances`.
    Balance,
}

impl Kind {
    /// The record kind of a channel name (after its `spot.`/`futures.` prefix).
    #[must_use]
    pub fn from_channel(name: &str) -> Option<Self> {
        Some(match name {
            "trades" | "trades_v2" => Kind::Trade,
            "book_ticker" => Kind::BookTicker,
            "tickers" => Kind::Ticker,
            "candlesticks" => Kind::Candle,
            "orders" | "orders_v2" => Kind::Order,
            "usertrades" | "usertrades_v2" => Kind::UserTrade,
            "positions" => Kind::Position,
            "balances" | "cross_balances" => Kind::Balance,
            _ => return None,
        })
    }

    /// The field table.
    #[must_use]
    pub const fn fields(self) -> &'static [Field] {
        match self {
            Kind::Trade => TRADE,
            Kind::BookTicker => BOOK_TICKER,
            Kind::Ticker => TICKER,
            Kind::Candle => CANDLE,
            Kind::Order => ORDER,
            Kind::UserTrade => USER_TRADE,
            Kind::Position => POSITION,
            Kind::Balance => BALANCE,
        }
    }

    /// Lower-case name used as the Python `kind`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Trade => "trade",
            Kind::BookTicker => "book_ticker",
            Kind::Ticker => "ticker",
            Kind::Candle => "candle",
            Kind::Order => "order",
            Kind::UserTrade => "user_trade",
            Kind::Position => "position",
            Kind::Balance => "balance",
        }
    }
}

macro_rules! table {
    ($name:ident: $($f:literal $t:ident),* $(,)?) => {
        #[doc = concat!("Fields of the `", stringify!($name), "` records.")]
        pub const $name: &[Field] = &[$(Field { name: $f, ty: Ty::$t }),*];
    };
}

table!(TRADE: "id" Int, "id_market" Int, "create_time" Int, "create_time_ms" Dec, "side" Str,
    "currency_pair" Str, "contract" Str, "amount" Dec, "size" Dec, "price" Dec, "range" Str,
    "is_internal" Bool);
table!(BOOK_TICKER: "t" Int, "u" Int, "s" Str, "b" Dec, "B" Dec, "a" Dec, "A" Dec);
table!(TICKER: "currency_pair" Str, "contract" Str, "last" Dec, "lowest_ask" Dec,
    "highest_bid" Dec, "change_percentage" Dec, "base_volume" Dec, "quote_volume" Dec,
    "high_24h" Dec, "low_24h" Dec, "funding_rate" Dec, "funding_rate_indicative" Dec,
    "mark_price" Dec, "index_price" Dec, "total_size" Dec, "volume_24h" Dec,
    "volume_24h_base" Dec, "volume_24h_quote" Dec, "volume_24h_settle" Dec,
    "volume_24h_btc" Dec, "volume_24h_usd" Dec, "quanto_base_rate" Dec);
table!(CANDLE: "t" Int, "v" Dec, "c" Dec, "h" Dec, "l" Dec, "o" Dec, "n" Str, "a" Dec,
    "w" Bool);
table!(ORDER: "id" Any, "user" Any, "text" Str, "create_time" Dec, "create_time_ms" Dec,
    "update_time" Dec, "update_time_ms" Dec, "event" Str, "currency_pair" Str, "contract" Str,
    "type" Str, "account" Str, "side" Str, "amount" Dec, "price" Dec, "time_in_force" Str,
    "tif" Str, "left" Dec, "filled_total" Dec, "filled_amount" Dec, "avg_deal_price" Dec,
    "fill_price" Dec, "size" Dec, "iceberg" Dec, "fee" Dec, "fee_currency" Str,
    "point_fee" Dec, "gt_fee" Dec, "gt_discount" Bool, "rebated_fee" Dec,
    "rebated_fee_currency" Str, "auto_repay" Bool, "auto_borrow" Bool, "stp_id" Any,
    "stp_act" Str, "finish_as" Str, "status" Str, "is_close" Bool, "is_liq" Bool,
    "is_reduce_only" Bool, "finish_time" Dec, "finish_time_ms" Dec, "mkfr" Dec, "tkfr" Dec,
    "refu" Any, "refr" Dec, "amend_text" Str, "update_id" Any, "biz_info" Str,
    "slippage" Dec, "stop_profit_price" Dec, "stop_loss_price" Dec,
    "market_order_slip_ratio" Dec);
table!(USER_TRADE: "id" Any, "user_id" Any, "order_id" Any, "currency_pair" Str,
    "contract" Str, "create_time" Dec, "create_time_ms" Dec, "side" Str, "amount" Dec,
    "size" Dec, "role" Str, "price" Dec, "fee" Dec, "fee_currency" Str, "point_fee" Dec,
    "gt_fee" Dec, "text" Str, "id_market" Any, "amend_text" Str, "biz_info" Str);
table!(POSITION: "contract" Str, "size" Dec, "entry_price" Dec, "leverage" Dec,
    "cross_leverage_limit" Dec, "leverage_max" Dec, "liq_price" Dec, "maintenance_rate" Dec,
    "margin" Dec, "realised_pnl" Dec, "realised_point" Dec, "history_pnl" Dec,
    "history_point" Dec, "last_close_pnl" Dec, "risk_limit" Dec, "mode" Str, "time" Int,
    "time_ms" Int, "user" Any, "update_id" Any);
table!(BALANCE: "timestamp" Int, "timestamp_ms" Dec, "user" Any, "currency" Str,
    "change" Dec, "total" Dec, "available" Dec, "freeze" Dec, "freeze_change" Dec,
    "change_type" Str, "balance" Dec, "text" Str, "time" Int, "time_ms" Int, "type" Str);

/// Index of `name` in `fields`, at compile time (a typo fails the build).
#[must_use]
pub const fn index(fields: &[Field], name: &str) -> usize {
    let mut i = 0;
    while i < fields.len() {
        let a = fields[i].name.as_bytes();
        let b = name.as_bytes();
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("field not in table")
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tag {
    /// Key absent.
    #[default]
    Absent,
    /// `null` (or `""` for a decimal).
    Null,
    /// A string; `Slot::span` is its contents.
    Str,
    /// A number; `Slot::span` is its literal.
    Num,
    /// A bool in `Slot::val` (0/1).
    Bool,
}

/// One field's value: its text span plus the typed value for `Dec` (raw decimal), `Int`
/// and `Bool`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slot {
    /// Typed value: decimal raw units, integer, or 0/1.
    pub val: i128,
    /// Where the text is in the frame.
    pub span: Span,
    /// What the slot holds.
    pub tag: Tag,
    /// For `Dec`: the value fits [`Decimal`] (false for valid decimals with more than 18
    /// fractional digits or above ~1.7e20, which are kept as text only).
    pub fits: bool,
}

impl Slot {
    /// The decimal value, if present.
    #[must_use]
    pub fn decimal(&self) -> Option<Decimal> {
        (self.fits && matches!(self.tag, Tag::Str | Tag::Num)).then(|| Decimal::from_raw(self.val))
    }
    /// The integer value, if present.
    #[must_use]
    pub fn int(&self) -> Option<i64> {
        matches!(self.tag, Tag::Str | Tag::Num).then(|| i64::try_from(self.val).unwrap_or_default())
    }
    /// The bool value, if present.
    #[must_use]
    pub fn boolean(&self) -> Option<bool> {
        (self.tag == Tag::Bool).then_some(self.val != 0)
    }
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its kind (selects the field table).
    pub kind: Kind,
    /// One slot per table entry.
    pub slots: Box<[Slot]>,
    /// Span of the record object in the frame.
    pub span: (usize, usize),
}

impl Record {
    /// The slot of field `i` (absent for out-of-range indices).
    #[must_use]
    pub fn slot(&self, i: usize) -> Slot {
        self.slots.get(i).copied().unwrap_or_default()
    }
}

/// Types one value read for table field `f` (the general, fully checking path).
///
/// # Errors
/// The value's type or number does not fit the field.
pub fn read_slot(frame: &[u8], v: &Val<'_>, f: &Field, pos: usize) -> Result<Slot, GateError> {
    let text = |tag| match v {
        Val::Str(j) => Slot {
            span: Span::of(frame, j),
            tag,
            ..Slot::default()
        },
        Val::Num(n) => Slot {
            val: 0,
            span: Span::of(
                frame,
                &crate::json::JStr {
                    raw: n,
                    escaped: false,
                },
            ),
            tag,
            ..Slot::default()
        },
        _ => Slot::default(),
    };
    let tag_of = || match v {
        Val::Str(_) => Tag::Str,
        Val::Num(_) => Tag::Num,
        _ => Tag::Null,
    };
    Ok(match f.ty {
        Ty::Str => match value::string(v, f.name, pos)? {
            Some(_) => text(Tag::Str),
            None => Slot {
                tag: Tag::Null,
                ..Slot::default()
            },
        },
        Ty::Dec => match value::decimal(v, f.name, pos) {
            Ok(Some(d)) => Slot {
                val: d.raw(),
                fits: true,
                ..text(tag_of())
            },
            Ok(None) => Slot {
                tag: Tag::Null,
                ..text(Tag::Null)
            },
            // Gate's own ticker example has a 20-digit fraction in `quote_volume`: such values
            // are valid decimals, kept exactly as text (Python's Decimal reads them).
            Err(e)
                if matches!(
                    &e.kind,
                    GateErrorKind::Decimal(d)
                        if matches!(d.kind, DecimalErrorKind::TooPrecise | DecimalErrorKind::Overflow)
                ) =>
            {
                text(tag_of())
            }
            Err(e) => return Err(e),
        },
        Ty::Int => match value::int(v, f.name, pos)? {
            Some(i) => Slot {
                val: i128::from(i),
                ..text(tag_of())
            },
            None => Slot {
                tag: Tag::Null,
                ..Slot::default()
            },
        },
        Ty::Bool => match value::boolean(v, f.name, pos)? {
            Some(b) => Slot {
                val: i128::from(b),
                tag: Tag::Bool,
                ..Slot::default()
            },
            None => Slot {
                tag: Tag::Null,
                ..Slot::default()
            },
        },
        Ty::Any => {
            value::scalar(v, f.name, pos)?;
            match v {
                Val::Bool(b) => Slot {
                    val: i128::from(*b),
                    tag: Tag::Bool,
                    ..Slot::default()
                },
                Val::Null => Slot {
                    tag: Tag::Null,
                    ..Slot::default()
                },
                _ => text(tag_of()),
            }
        }
    })
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end).unwrap_or(u32::MAX),
        escaped: false,
    }
}

/// The common encodings read in place: plain strings, plain decimals, integers. Returns `None`
/// without moving the cursor for anything else, which then takes the general (checking) path.
#[inline(always)]
pub fn fast_slot(s: &mut Scan<'_>, ty: Ty) -> Option<Slot> {
    let b = s.bytes();
    let at = s.i;
    let quoted = b.get(at) == Some(&b'"');
    let body = at + usize::from(quoted);
    let slot = match ty {
        Ty::Str if quoted => {
            let end = crate::json::string_stop(b, body);
            if b.get(end) != Some(&b'"') {
                return None;
            }
            s.i = end + 1;
            return Some(Slot {
                span: span(body, end),
                tag: Tag::Str,
                ..Slot::default()
            });
        }
        Ty::Dec | Ty::Int => {
            let (d, end) = value::scan_plain_decimal(b, body)?;
            let leading_zero =
                b.get(body) == Some(&b'0') && matches!(b.get(body + 1), Some(b'0'..=b'9'));
            let close = if quoted {
                b.get(end) == Some(&b'"')
            } else {
                // A JSON number ends here and has no leading zero ("0123" is not JSON).
                !leading_zero && !matches!(b.get(end), Some(b'e' | b'E' | b'.' | b'0'..=b'9'))
            };
            if !close {
                return None;
            }
            let tag = if quoted { Tag::Str } else { Tag::Num };
            let val = if ty == Ty::Int {
                // Integers only: a fraction or an out-of-range value goes to the general
                // path, which reports it.
                i128::from(value::parse_i64(b.get(body..end)?)?)
            } else {
                d.raw()
            };
            s.i = end + usize::from(quoted);
            Slot {
                val,
                span: span(body, end),
                tag,
                fits: ty == Ty::Dec,
            }
        }
        _ => return None,
    };
    Some(slot)
}

/// Reads one record object (cursor at `{`).
///
/// # Errors
/// Malformed JSON, a non-object, or a listed field with the wrong type or a bad number.
pub fn read_record(s: &mut Scan<'_>, kind: Kind) -> Result<Record, GateError> {
    let frame = s.bytes();
    let fields = kind.fields();
    let mut slots = vec![Slot::default(); fields.len()].into_boxed_slice();
    s.peek();
    let start = s.i;
    if s.peek() != Some(b'{') {
        let v = s.value().map_err(|e| GateError::json("", e))?;
        return Err(GateError::at(
            "",
            start,
            GateErrorKind::Type {
                expected: "object",
                found: v.type_name(),
            },
        ));
    }
    let mut first = true;
    // Gate sends fields in documentation order, which is table order: start each search just
    // after the previous hit so the usual lookup is one comparison.
    let mut hint = 0usize;
    while let Some(k) = s.next_key(&mut first).map_err(|e| GateError::json("", e))? {
        s.peek();
        let pos = s.i;
        let found = match fields.get(hint) {
            Some(f) if k.is(f.name) => Some(hint),
            _ => fields.iter().position(|f| k.is(f.name)),
        };
        if let Some(i) = found {
            hint = i + 1;
            if let (Some(slot), Some(fast)) = (slots.get_mut(i), fast_slot(s, fields[i].ty)) {
                *slot = fast;
                continue;
            }
        }
        let v = s.value().map_err(|e| match found {
            Some(i) => GateError::json(fields[i].name, e),
            None => GateError::json("", e),
        })?;
        if let Some(i) = found {
            if let Some(slot) = slots.get_mut(i) {
                *slot = read_slot(frame, &v, &fields[i], pos)?;
            }
        }
    }
    Ok(Record {
        kind,
        slots,
        span: (start, s.i),
    })
}

/// A `result` of records: one object, or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Records {
    /// `result` was one object (no vector is allocated for it).
    One(Record),
    /// `result` was a JSON array.
    List(Vec<Record>),
}

/// Reads a `result` that is one record object or a list of them.
///
/// # Errors
/// As [`read_record`]; field paths are prefixed with `result` / `result[i]`.
pub fn read_records(s: &mut Scan<'_>, kind: Kind) -> Result<Records, GateError> {
    match s.peek() {
        Some(b'[') => {
            let mut out = Vec::new();
            let mut first = true;
            while s
                .next_item(&mut first)
                .map_err(|e| GateError::json("result", e))?
            {
                let n = out.len();
                out.push(read_record(s, kind).map_err(|e| e.under(&format!("result[{n}]")))?);
            }
            Ok(Records::List(out))
        }
        _ => Ok(Records::One(
            read_record(s, kind).map_err(|e| e.under("result"))?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: Kind, json: &str) -> Result<Record, GateError> {
        read_record(&mut Scan::new(json.as_bytes()), kind)
    }

    #[test]
    fn trade_fields_are_typed_and_exact() {
        let j = r#"{"id":9834412201,"id_market":512993347,"create_time":1727000012,"create_time_ms":"1727000012085.3310","side":"buy","currency_pair":"BTC_USDT","amount":"0.0153","price":"63251.1","range":"512993347-512993347","extra":{"x":[1]}}"#;
        let r = rec(Kind::Trade, j).unwrap();
        let f = |n| r.slot(index(TRADE, n));
        assert_eq!(f("id").int(), Some(9_834_412_201));
        assert_eq!(
            f("price").decimal(),
            Some(Decimal::parse("63251.1").unwrap())
        );
        assert_eq!(
            f("create_time_ms").decimal(),
            Some(Decimal::parse("1727000012085.331").unwrap())
        );
        assert_eq!(f("side").span.decode(j.as_bytes()).unwrap(), "buy");
        assert_eq!(f("size").tag, Tag::Absent);
        assert_eq!(f("is_internal").boolean(), None);
    }

    #[test]
    fn futures_sizes_are_signed_numbers_or_strings() {
        let r = rec(
            Kind::Trade,
            r#"{"size":-250,"price":"63240.3","contract":"BTC_USDT","is_internal":true}"#,
        )
        .unwrap();
        assert_eq!(
            r.slot(index(TRADE, "size")).decimal(),
            Some(Decimal::from_i64(-250))
        );
        assert_eq!(r.slot(index(TRADE, "size")).tag, Tag::Num);
        assert_eq!(r.slot(index(TRADE, "is_internal")).boolean(), Some(true));
        let r = rec(Kind::Trade, r#"{"size":"-250"}"#).unwrap();
        assert_eq!(
            r.slot(index(TRADE, "size")).decimal(),
            Some(Decimal::from_i64(-250))
        );
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = rec(Kind::Trade, r#"{"price":[1]}"#).unwrap_err();
        assert_eq!(e.field, "price");
        let e = rec(Kind::Trade, r#"{"side":1}"#).unwrap_err();
        assert_eq!(e.field, "side");
        let e = rec(Kind::Candle, r#"{"w":"true"}"#).unwrap_err();
        assert_eq!(e.field, "w");
        let e = rec(Kind::Order, r#"{"id":{}}"#).unwrap_err();
        assert_eq!(e.field, "id");
        let e = rec(Kind::Ticker, r#"{"last":"1.2.3"}"#).unwrap_err();
        assert!(matches!(e.kind, GateErrorKind::Decimal(_)));
        assert!(rec(Kind::Ticker, "[]").is_err());
    }

    #[test]
    fn over_precise_decimals_are_kept_as_text() {
        let j = r#"{"quote_volume":"53441606.52411221454674732293","last":"1"}"#;
        let r = rec(Kind::Ticker, j).unwrap();
        let q = r.slot(index(TICKER, "quote_volume"));
        assert_eq!(q.decimal(), None);
        assert_eq!(q.span.raw(j.as_bytes()), b"53441606.52411221454674732293");
        assert!(rec(Kind::Ticker, r#"{"last":"1x"}"#).is_err());
    }

    #[test]
    fn numbers_that_are_not_json_are_refused() {
        assert!(rec(Kind::Trade, r#"{"size":0123}"#).is_err());
        assert!(rec(Kind::Trade, r#"{"id":0123}"#).is_err());
        assert!(rec(Kind::Trade, r#"{"size":1.}"#).is_err());
        assert!(rec(Kind::Trade, r#"{"size":0}"#).is_ok());
        assert!(rec(Kind::Trade, r#"{"size":"0123"}"#).is_ok());
    }

    #[test]
    fn empty_decimal_strings_are_absent_values() {
        let r = rec(Kind::BookTicker, r#"{"b":"","B":0,"a":"1","A":"2"}"#).unwrap();
        assert_eq!(r.slot(index(BOOK_TICKER, "b")).decimal(), None);
        assert_eq!(
            r.slot(index(BOOK_TICKER, "B")).decimal(),
            Some(Decimal::ZERO)
        );
    }

    #[test]
    fn list_results_give_one_record_each() {
        let j = r#"[{"id":1},{"id":2}]"#;
        let Records::List(v) = read_records(&mut Scan::new(j.as_bytes()), Kind::Trade).unwrap()
        else {
            panic!("a list result gives a list");
        };
        assert_eq!(v.len(), 2);
        let e = read_records(&mut Scan::new(br#"[{"id":1},{"id":"x"}]"#), Kind::Trade).unwrap_err();
        assert_eq!(e.field, "result[1].id");
    }

    #[test]
    fn channel_names_map_to_kinds() {
        assert_eq!(Kind::from_channel("trades"), Some(Kind::Trade));
        assert_eq!(Kind::from_channel("usertrades"), Some(Kind::UserTrade));
        assert_eq!(Kind::from_channel("order_book"), None);
        assert_eq!(index(ORDER, "market_order_slip_ratio"), ORDER.len() - 1);
    }
}
