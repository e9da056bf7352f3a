//! One frame to one typed message: the dispatcher behind `hftws.binance.parse`.
//!
//! The payload's kind comes from the stream name (combined streams) or from the payload
//! itself: its `e` when that is the first key (as Binance sends it), otherwise one look at
//! all of its keys (`e`; `lastUpdateId` for spot partial depth; `result`/`code`/`error` for
//! control replies; `u`+`s`+`b`+`a` without `e` for spot `bookTicker`). An array payload
//! (`!miniTicker@arr`, `!markPrice@arr`, ...) gives one record per element; a payload of a
//! kind hftws does not model is [`Body::Other`].

use super::depth::{parse_payload, DepthUpdate};
use super::error::BinanceError;
use super::frame::{scan_frame, sniff, Stream};
use super::records::{read_record, Record};
use super::route::{self, Kind};
use crate::gate::channels::{read_slot, Field, Slot, Ty};
use crate::gate::{GateError, GateErrorKind};
use crate::json::{JsonError, Scan, Span};

/// What a payload holds.
#[derive(Debug, Clone)]
pub enum Body {
    /// A depth diff or partial depth (boxed: much larger than the others).
    Depth(Box<DepthUpdate>),
    /// A record payload (trade, aggTrade, bookTicker, kline, ...).
    Record(Record),
    /// `{"result":..,"id":..}`: a reply to SUBSCRIBE, LIST_SUBSCRIPTIONS, GET_PROPERTY, ...
    Reply {
        /// Byte offset of the `result` value.
        result_at: usize,
        /// `id`.
        id: Slot,
    },
    /// `{"code":..,"msg":..,"id":..}` or `{"error":{"code":..,"msg":..},"id":..}`.
    Error {
        /// `code`.
        code: Slot,
        /// `msg`.
        msg: Slot,
        /// `id`.
        id: Slot,
    },
    /// An array payload of records (`!miniTicker@arr`, `!markPrice@arr`, ...).
    Records(Vec<Record>),
    /// A payload of a kind hftws does not model (or a mixed array).
    Other,
}

/// A decoded frame.
#[derive(Debug, Clone)]
pub struct Message {
    /// Stream name (combined streams).
    pub stream: Option<Span>,
    /// The payload's kind.
    pub kind: Kind,
    /// Span of the payload value (the whole frame for raw streams).
    pub payload: (usize, usize),
    /// The decoded payload.
    pub body: Body,
}

fn json(field: &str, e: JsonError) -> BinanceError {
    GateError::json(field, e).into()
}

const ID: Field = Field {
    name: "id",
    ty: Ty::Any,
};
const CODE: Field = Field {
    name: "code",
    ty: Ty::Int,
};
const MSG: Field = Field {
    name: "msg",
    ty: Ty::Str,
};

/// Reads a control reply object (cursor at `{`).
fn read_control(s: &mut Scan<'_>) -> Result<Body, BinanceError> {
    let frame = s.bytes();
    let (mut result_at, mut id, mut code, mut msg) = (None, None, None, None);
    let mut error_seen = false;
    let mut first = true;
    let slot = |s: &mut Scan<'_>, f: &Field, dst: &mut Option<Slot>| {
        s.peek();
        let pos = s.i;
        if dst.is_some() {
            return Err(BinanceError::duplicate(f.name, pos));
        }
        let v = s.value().map_err(|e| json(f.name, e))?;
        *dst = Some(read_slot(frame, &v, f, pos)?);
        Ok(())
    };
    while let Some(k) = s.next_key(&mut first).map_err(|e| json("", e))? {
        s.peek();
        let pos = s.i;
        if k.is("result") {
            if result_at.is_some() {
                return Err(BinanceError::duplicate("result", pos));
            }
            result_at = Some(pos);
            s.skip().map_err(|e| json("result", e))?;
        } else if k.is("id") {
            slot(s, &ID, &mut id)?;
        } else if k.is("code") {
            slot(s, &CODE, &mut code)?;
        } else if k.is("msg") {
            slot(s, &MSG, &mut msg)?;
        } else if k.is("error") {
            if error_seen {
                return Err(BinanceError::duplicate("error", pos));
            }
            error_seen = true;
            if s.peek() == Some(b'{') && code.is_none() && msg.is_none() {
                let mut inner = true;
                while let Some(k) = s.next_key(&mut inner).map_err(|e| json("error", e))? {
                    let r = if k.is("code") {
                        slot(s, &CODE, &mut code)
                    } else if k.is("msg") {
                        slot(s, &MSG, &mut msg)
                    } else {
                        s.skip().map_err(|e| json("error", e))
                    };
                    r.map_err(|e| e.under("error"))?;
                }
            } else {
                // `error` beside a top-level code/msg, or not an object: two sources for one
                // code would need a rule json.loads does not give; refuse.
                return Err(BinanceError::invalid(
                    "error",
                    pos,
                    "error must be an object and the only code/msg",
                ));
            }
        } else {
            s.skip().map_err(|e| json("", e))?;
        }
    }
    let id = id.unwrap_or_default();
    if code.is_some() || msg.is_some() || error_seen {
        return Ok(Body::Error {
            code: code.unwrap_or_default(),
            msg: msg.unwrap_or_default(),
            id,
        });
    }
    Ok(match result_at {
        Some(result_at) => Body::Reply { result_at, id },
        None => Body::Other,
    })
}

fn payload_body(
    stream: Option<&Stream<'_>>,
    s: &mut Scan<'_>,
) -> Result<(Kind, (usize, usize), Body), BinanceError> {
    s.peek();
    let start = s.i;
    let route = stream.map(|st| st.kind);
    if s.peek() == Some(b'[') {
        let (kind, body) = read_array(s, route)?;
        return Ok((kind, (start, s.i), body));
    }
    if s.peek() != Some(b'{') {
        let v = s.value().map_err(|e| json("", e))?;
        return Err(BinanceError::at(
            "",
            start,
            GateErrorKind::Type {
                expected: "object or array",
                found: v.type_name(),
            },
        ));
    }
    let (kind, control) = match route {
        Some(k) => (k, false),
        None => sniff(s)?,
    };
    let body = match kind {
        Kind::DiffDepth | Kind::PartialDepth => {
            let u = parse_payload(s, route)?;
            let kind = if u.snapshot {
                Kind::PartialDepth
            } else {
                Kind::DiffDepth
            };
            return Ok((kind, (start, s.i), Body::Depth(Box::new(u))));
        }
        Kind::Other if control => read_control(s)?,
        Kind::Other => {
            // Not modelled, but its envelope (`e`, `E`, `s`) is still type-checked.
            read_record(s, Kind::Other)?;
            Body::Other
        }
        Kind::Trade
        | Kind::AggTrade
        | Kind::BookTicker
        | Kind::Kline
        | Kind::MiniTicker
        | Kind::MarkPrice
        | Kind::ForceOrder
        | Kind::ServerShutdown => Body::Record(record_body(s, kind, route)?),
    };
    Ok((kind, (start, s.i), body))
}

/// True for the kinds read by the record tables.
const fn is_record(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Trade
            | Kind::AggTrade
            | Kind::BookTicker
            | Kind::Kline
            | Kind::MiniTicker
            | Kind::MarkPrice
            | Kind::ForceOrder
            | Kind::ServerShutdown
    )
}

/// An array payload (`!miniTicker@arr`, `!markPrice@arr`, ...): one record per element when
/// every element is a record of one modelled kind (by the stream name, else each element's
/// `e`); anything else is [`Body::Other`] (still validated).
fn read_array(s: &mut Scan<'_>, route: Option<Kind>) -> Result<(Kind, Body), BinanceError> {
    let start = s.i;
    let mut records = Vec::new();
    let mut kind: Option<Kind> = route;
    let mut first = true;
    while s.next_item(&mut first).map_err(|e| json("", e))? {
        let n = records.len();
        let at = |e: BinanceError| e.under(&format!("[{n}]"));
        let item_kind = match (route, s.peek()) {
            (Some(r), _) => r,
            (None, Some(b'{')) => sniff(s).map_err(at)?.0,
            (None, _) => Kind::Other,
        };
        if !is_record(item_kind) || kind.is_some_and(|k| k != item_kind) || s.peek() != Some(b'{') {
            // Not an array of one record kind: validate the whole payload, model none of it.
            let mut all = Scan::at(s.bytes(), start);
            all.skip().map_err(|e| json("", e))?;
            *s = all;
            return Ok((route.unwrap_or(Kind::Other), Body::Other));
        }
        kind = Some(item_kind);
        records.push(record_body(s, item_kind, route).map_err(at)?);
    }
    match kind {
        Some(k) if !records.is_empty() => Ok((k, Body::Records(records))),
        _ => Ok((route.unwrap_or(Kind::Other), Body::Other)),
    }
}

/// Reads one record payload of `kind` and checks its `e` against the stream's kind.
fn record_body(s: &mut Scan<'_>, kind: Kind, route: Option<Kind>) -> Result<Record, BinanceError> {
    s.peek();
    let start = s.i;
    let rec = read_record(s, kind)?;
    let e = rec
        .event(s.bytes())
        .map(|j| j.decode())
        .transpose()
        .map_err(|k| BinanceError::at("e", start, GateErrorKind::Json(k)))?;
    // Sniffed by its keys (spot bookTicker) or by `e`, a payload is consistent by construction.
    if route.is_some_and(|r| !route::consistent(r, e.as_deref())) {
        return Err(BinanceError::invalid(
            "e",
            start,
            "event type does not match the stream name",
        ));
    }
    Ok(rec)
}

/// Decodes one Binance text frame (raw or combined stream, or a control reply).
///
/// # Errors
/// A [`BinanceError`] naming the stream and field for malformed JSON, wrong types, numbers
/// that do not parse, repeated keys the decoder reads, or an `e` that contradicts the stream.
pub fn parse(frame: &[u8]) -> Result<Message, BinanceError> {
    let (stream, (kind, payload, body)) = scan_frame(frame, payload_body)?;
    Ok(Message {
        stream: stream.map(|st| Span::of(frame, &st.raw)),
        kind,
        payload,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::gate::channels::index;

    fn msg(f: &str) -> Message {
        parse(f.as_bytes()).unwrap()
    }

    #[test]
    fn documented_examples_route() {
        let m = msg(
            r#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#,
        );
        assert_eq!(m.kind, Kind::DiffDepth);
        let Body::Depth(d) = m.body else { panic!() };
        assert_eq!((d.first_id, d.last_id, d.prev_id), (Some(157), 160, None));
        assert_eq!(
            d.levels.bids,
            vec![(Decimal::parse("0.0024").unwrap(), Decimal::from_i64(10))]
        );
        let m = msg(r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#);
        assert_eq!(m.kind, Kind::PartialDepth);
        let m = msg(
            r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#,
        );
        assert_eq!(m.kind, Kind::BookTicker);
        let Body::Record(r) = m.body else { panic!() };
        assert_eq!(
            r.slot(index(super::super::records::BOOK_TICKER, "u")).int(),
            Some(400_900_217)
        );
        let m = msg(r#"{"result":null,"id":1}"#);
        assert!(matches!(m.body, Body::Reply { .. }));
        let m = msg(r#"{"code": 0, "msg": "Unknown property","id": 7}"#);
        let Body::Error { code, id, .. } = m.body else {
            panic!()
        };
        assert_eq!(
            (code.int(), id.tag),
            (Some(0), crate::gate::channels::Tag::Num)
        );
        let m = msg(r#"{"error":{"code":2,"msg":"Invalid request"},"id":null}"#);
        assert!(matches!(m.body, Body::Error { .. }));
        let m =
            msg(r#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#);
        assert_eq!(m.kind, Kind::ServerShutdown);
        assert!(m.stream.is_some());
        let m = msg(
            r#"{"stream":"btcusdt@depth20@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":5,"pu":0,"b":[],"a":[]}}"#,
        );
        assert_eq!(m.kind, Kind::PartialDepth);
        let m = msg(r#"[{"e":"24hrMiniTicker","s":"A","c":"1"},{"e":"24hrMiniTicker","s":"B"}]"#);
        assert_eq!(m.kind, Kind::MiniTicker);
        assert!(matches!(m.body, Body::Records(ref v) if v.len() == 2));
        assert_eq!(
            msg(r#"[{"e":"24hrMiniTicker"},{"e":"trade"}]"#).kind,
            Kind::Other
        );
        assert_eq!(msg(r#"[1,2]"#).kind, Kind::Other);
        assert_eq!(msg(r#"[]"#).kind, Kind::Other);
        let e = parse(br#"{"stream":"!markPrice@arr","data":[{"e":"markPriceUpdate","p":"1"},{"e":"markPriceUpdate","p":"x"}]}"#).unwrap_err();
        assert_eq!(e.field, "data[1].p");
        assert_eq!(msg(r#"{"e":"24hrTicker","E":1}"#).kind, Kind::Other);
    }

    #[test]
    fn contradictions_and_duplicates_are_refused() {
        let bad = [
            r#"{"stream":"btcusdt@trade","data":{"e":"aggTrade"}}"#,
            r#"{"e":"trade","p":"1","e":"aggTrade"}"#,
            r#"{"p":"1","e":"trade","e":"aggTrade"}"#,
            r#"{"e":"depthUpdate","U":1,"u":2,"b":[],"b":[]}"#,
            r#"{"lastUpdateId":1,"bids":[],"b":[]}"#,
            r#"{"result":null,"id":1,"id":2}"#,
            r#"{"code":1,"error":{"code":2}}"#,
            r#"{"e":"depthUpdate","U":1}"#,
            r#"{"e":"trade","p":"abc"}"#,
        ];
        for f in bad {
            assert!(parse(f.as_bytes()).is_err(), "{f}");
        }
        let e = parse(br#"{"stream":"btcusdt@trade","data":{"e":"trade","p":[1]}}"#).unwrap_err();
        assert_eq!(
            (e.stream.as_str(), e.field.as_str()),
            ("btcusdt@trade", "data.p")
        );
    }

    #[test]
    fn first_key_detection_tolerates_whitespace() {
        let m = msg("{ \"e\" : \"trade\", \"p\":\"1\"}");
        assert_eq!(m.kind, Kind::Trade);
        let m = msg(r#"{"x":1,"e":"trade","p":"1"}"#);
        assert_eq!(m.kind, Kind::Trade);
    }
}
