//! One frame to one typed message: the dispatcher behind `hftws.gateio.parse`.
//!
//! Dispatch follows `gateio.md` §2.2: a non-null `error` makes an error message whatever the
//! channel; `*.pong` is a pong; `subscribe`/`unsubscribe` events are acks; everything else is
//! routed by `channel` (never by `event == "update"` alone, since obu pushes carry no event).
//! Channels this crate does not model come back as [`Body::Other`] so a feed never breaks on a
//! new channel.

use super::channels::{read_records, Kind, Records};
use super::control::{read_ack_status, read_error, ErrorInfo};
use super::depth::{parse_result, DepthUpdate};
use super::envelope::{self, Envelope};
use super::error::{GateError, GateErrorKind};
use super::route::{Market, Route};
use crate::json::{Scan, Span, Val};

/// The `id` echo of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdEcho {
    /// A string id.
    Str(Span),
    /// A number literal.
    Num(Span),
}

/// Envelope fields kept with every message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// `channel`.
    pub channel: Option<Span>,
    /// `event`.
    pub event: Option<Span>,
    /// `time` (s).
    pub time: Option<i64>,
    /// `time_ms`.
    pub time_ms: Option<i64>,
    /// `id`.
    pub id: Option<IdEcho>,
    /// Spot or futures.
    pub futures: bool,
}

/// What a frame holds.
#[derive(Debug, Clone)]
pub enum Body {
    /// A depth push or snapshot (boxed: it is much larger than the other variants).
    Depth(Box<DepthUpdate>),
    /// Record channel: the record(s), as one object or a list.
    Records {
        /// Kind of every record.
        kind: Kind,
        /// The records.
        records: Records,
    },
    /// Subscribe/unsubscribe ack without an error.
    Ack {
        /// `result.status`, if sent.
        status: Option<Span>,
    },
    /// An error object.
    Error(ErrorInfo),
    /// `spot.pong` / `futures.pong`.
    Pong,
    /// A channel this crate does not model.
    Other,
}

/// A decoded frame.
#[derive(Debug, Clone)]
pub struct Message {
    /// Envelope fields.
    pub head: Head,
    /// The payload.
    pub body: Body,
}

fn head_of(frame: &[u8], env: &Envelope<'_>) -> Head {
    let id = env.id.and_then(|v| match v {
        Val::Str(j) => Some(IdEcho::Str(Span::of(frame, &j))),
        Val::Num(n) => Some(IdEcho::Num(Span::of(
            frame,
            &crate::json::JStr {
                raw: n,
                escaped: false,
            },
        ))),
        _ => None,
    });
    Head {
        channel: env.channel.map(|j| Span::of(frame, &j)),
        event: env.event.map(|j| Span::of(frame, &j)),
        time: env.time,
        time_ms: env.time_ms,
        id,
        futures: env.split_channel().0 == Market::Futures,
    }
}

/// True when the event already read says this is a push. obu pushes carry no event, but an
/// event-less frame could still turn out to be an ack once a later `event` key is read, so
/// those take the second pass.
fn is_push(env: &Envelope<'_>) -> bool {
    env.event_is("update") || env.event_is("all")
}

/// Decodes one data `result` (cursor at it) for the channel of `env`.
fn data_body(s: &mut Scan<'_>, env: &Envelope<'_>) -> Result<Option<Body>, GateError> {
    match env.route {
        Route::Depth(ch) => Ok(Some(Body::Depth(Box::new(parse_result(s, ch)?)))),
        Route::Record(kind) => {
            let records = read_records(s, kind)?;
            Ok(Some(Body::Records { kind, records }))
        }
        Route::Pong | Route::Other => Ok(None),
    }
}

fn known_data_channel(env: &Envelope<'_>) -> bool {
    matches!(env.route, Route::Depth(_) | Route::Record(_))
}

/// Decodes one Gate.io text frame.
///
/// # Errors
/// A [`GateError`] naming the channel and field for malformed JSON, wrong types, numbers that
/// do not parse, or a data push without a `result`.
#[inline]
pub fn parse(frame: &[u8]) -> Result<Message, GateError> {
    // Record pushes as Gate writes them (trades, tickers, ...) in one pass; everything else,
    // and every frame that reader leaves alone, through the general path.
    if let Some(m) = super::compact_records::parse(frame) {
        return Ok(m);
    }
    parse_checked(frame)
}

/// [`parse`] for every spelling: the envelope through the validating scanner, then the body.
///
/// # Errors
/// As [`parse`].
pub fn parse_checked(frame: &[u8]) -> Result<Message, GateError> {
    let mut early: Option<Body> = None;
    let env = envelope::scan(frame, |env, s| {
        // One pass for pushes whose event (or, for obu, channel) came before `result`.
        if env.error.is_none() && is_push(env) && known_data_channel(env) {
            if let Some(body) = data_body(s, env)? {
                early = Some(body);
                return Ok(true);
            }
        }
        Ok(false)
    })?;
    let channel = env.channel_str();
    let head = head_of(frame, &env);
    let body = body_of(frame, &env, early).map_err(|e| e.in_channel(&channel))?;
    Ok(Message { head, body })
}

fn body_of(frame: &[u8], env: &Envelope<'_>, early: Option<Body>) -> Result<Body, GateError> {
    if let Some((start, _)) = env.error {
        return Ok(Body::Error(read_error(&mut Scan::at(frame, start))?));
    }
    if env.route == Route::Pong {
        return Ok(Body::Pong);
    }
    if env.event_is("subscribe") || env.event_is("unsubscribe") {
        let status = match env.result {
            Some(_) if !env.result_consumed => {
                read_ack_status(&mut Scan::at(frame, env.result_pos))?
            }
            _ => None,
        };
        return Ok(Body::Ack { status });
    }
    if let Some(body) = early {
        return Ok(body);
    }
    if !known_data_channel(env) {
        return Ok(Body::Other);
    }
    match env.result {
        None | Some(Val::Null) => Err(GateError::at(
            "result",
            env.result_pos,
            GateErrorKind::Missing,
        )),
        Some(_) => {
            let mut s = Scan::at(frame, env.result_pos);
            Ok(data_body(&mut s, env)?.unwrap_or(Body::Other))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(f: &str) -> Body {
        parse(f.as_bytes()).unwrap_or_else(|e| panic!("{e}")).body
    }

    #[test]
    fn control_frames_are_classified() {
        let ack = r#"{"time":1727000000,"time_ms":1727000000212,"id":17,"conn_id":"5c1f","trace_id":"9b7e","channel":"spot.order_book_update","event":"subscribe","payload":["BTC_USDT","100ms"],"result":{"status":"success"}}"#;
        let m = parse(ack.as_bytes()).unwrap();
        assert!(matches!(m.body, Body::Ack { status: Some(_) }));
        assert_eq!(
            m.head.id,
            Some(IdEcho::Num(Span {
                start: 48,
                end: 50,
                escaped: false
            }))
        );
        let refused = r#"{"time":1727000001,"time_ms":1727000001050,"id":18,"channel":"spot.order_book_update","event":"subscribe","error":{"code":2,"message":"unknown currency pair FOO_BAR"},"result":{"status":"fail"}}"#;
        assert!(matches!(
            body(refused),
            Body::Error(ErrorInfo { code: Some(2), .. })
        ));
        let pong = r#"{"time":1727000005,"time_ms":1727000005004,"channel":"spot.pong","event":"","error":null,"result":null}"#;
        assert!(matches!(body(pong), Body::Pong));
        assert!(matches!(
            body(r#"{"channel":"futures.system","event":"update","result":{"type":"upgrade"}}"#),
            Body::Other
        ));
        assert!(matches!(
            body(r#"{"request_id":"login-1","header":{"status":"200"}}"#),
            Body::Other
        ));
    }

    #[test]
    fn data_frames_route_by_channel_in_any_key_order() {
        let t = r#"{"result":[{"id":412093377,"contract":"BTC_USDT","size":"-250","price":"63240.3","create_time":1727000030,"create_time_ms":1727000030386}],"event":"update","channel":"futures.trades","time":1727000030}"#;
        let m = parse(t.as_bytes()).unwrap();
        assert!(m.head.futures);
        match m.body {
            Body::Records {
                kind,
                records: Records::List(records),
            } => {
                assert_eq!(kind, Kind::Trade);
                assert_eq!(records.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let obu = r#"{"channel":"spot.obu","result":{"t":1,"full":true,"s":"ob.ETH_USDT.50","u":9,"b":[],"a":[]},"time_ms":2}"#;
        assert!(matches!(body(obu), Body::Depth(u) if u.snapshot && u.last_id == 9));
    }

    #[test]
    fn errors_name_the_channel_even_when_it_comes_last() {
        let f = r#"{"event":"update","result":{"price":[1]},"channel":"spot.trades"}"#;
        let e = parse(f.as_bytes()).unwrap_err();
        assert_eq!(e.channel, "spot.trades");
        assert_eq!(e.field, "result.price");
        let f = r#"{"channel":"spot.trades","event":"update","result":{"price":"x"}}"#;
        let e = parse(f.as_bytes()).unwrap_err();
        assert_eq!(
            (e.channel.as_str(), e.field.as_str()),
            ("spot.trades", "result.price")
        );
        let e = parse(br#"{"channel":"spot.trades","event":"update"}"#).unwrap_err();
        assert_eq!(e.field, "result");
        assert!(parse(b"not json").is_err());
        assert!(parse(b"").is_err());
    }
}
