//! The Gate.io v4 envelope shared by every frame (`gateio.md` §2.2).
//!
//! `{"time":..,"time_ms":..,"id":..,"channel":..,"event":..,"error":..,"result":..}` in any key
//! order, with unknown keys (`conn_id`, `trace_id`, `payload`, ...) skipped but still
//! validated. obu pushes carry neither `time` nor `event`, so nothing here is required; callers
//! dispatch on `channel`. The `result` value is either handed to a hook while the cursor is on
//! it (one pass when `channel` came first, as Gate sends it) or recorded as a span for a second
//! look once the whole envelope is known.
//!
//! Duplicate keys: Python's `json` (the judge of what a frame means) keeps the last occurrence
//! of a repeated key. hftws refuses a repeated envelope key it reads (`channel`, `event`,
//! `time`, `time_ms`, `id`, `error`, `result`) with a [`GateError`] instead: a refusal never
//! gives a frame a different meaning, and it lets the hot path commit to the first value it
//! sees. A hook that acts on `result` before the rest of the frame is read uses [`tail`] to
//! learn what the keys after it say.

use super::error::{GateError, GateErrorKind};
use super::route::{route_of, Market, Route};
use super::value;
use crate::json::{JStr, Scan, Val};

/// The envelope fields of one frame; `result` and `error` are spans into the frame.
#[derive(Debug, Clone, Default)]
pub struct Envelope<'a> {
    /// `time` (seconds).
    pub time: Option<i64>,
    /// `time_ms` (milliseconds).
    pub time_ms: Option<i64>,
    /// `id` (request id echo): any scalar.
    pub id: Option<Val<'a>>,
    /// `channel`.
    pub channel: Option<JStr<'a>>,
    /// `event` (absent on obu pushes, `""` on pongs).
    pub event: Option<JStr<'a>>,
    /// `error`, unless absent or `null`: an object span.
    pub error: Option<(usize, usize)>,
    /// `result` value, unless absent.
    pub result: Option<Val<'a>>,
    /// Byte offset of the `result` value.
    pub result_pos: usize,
    /// True when a hook consumed `result` in place.
    pub result_consumed: bool,
    /// Market and channel name after the prefix, worked out once when `channel` is read.
    pub split: Option<(Market, std::borrow::Cow<'a, str>)>,
    /// Where the channel routes.
    pub route: Route,
    /// Envelope keys already read (one bit per [`Field`]), to refuse repeats.
    pub seen: u8,
}

/// The envelope keys that are read (and so may not repeat); the discriminant is the bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Channel,
    Event,
    Time,
    TimeMs,
    Id,
    Error,
    Result,
}

impl<'a> Envelope<'a> {
    /// The channel name ("" when absent or not decodable).
    #[must_use]
    pub fn channel_str(&self) -> std::borrow::Cow<'a, str> {
        self.channel
            .and_then(|c| c.decode().ok())
            .unwrap_or(std::borrow::Cow::Borrowed(""))
    }

    /// The event name, if present.
    #[must_use]
    pub fn event_is(&self, name: &str) -> bool {
        self.event.is_some_and(|e| e.is(name))
    }

    /// True when the frame is a data push as far as the envelope goes: no `error` and an
    /// `event` that is absent (obu pushes), `update`, or `all` (legacy futures snapshots).
    #[must_use]
    pub fn is_plain_push(&self) -> bool {
        self.error.is_none()
            && (self.event.is_none() || self.event_is("update") || self.event_is("all"))
    }

    /// Marks `field` read; a second occurrence is refused.
    #[inline(always)]
    fn mark(&mut self, field: Field, name: &str, pos: usize) -> Result<(), GateError> {
        let bit = 1u8 << field as u8;
        if self.seen & bit != 0 {
            return Err(GateError::duplicate(name, pos));
        }
        self.seen |= bit;
        Ok(())
    }

    /// Market and the channel name after its `spot.`/`futures.` prefix.
    #[must_use]
    pub fn split_channel(&self) -> (Market, std::borrow::Cow<'a, str>) {
        if let Some(split) = &self.split {
            return split.clone();
        }
        let ch = self.channel_str();
        match ch {
            std::borrow::Cow::Borrowed(s) => {
                let (m, rest) = split(s);
                (m, std::borrow::Cow::Borrowed(rest))
            }
            std::borrow::Cow::Owned(s) => {
                let (m, rest) = split(&s);
                (m, std::borrow::Cow::Owned(rest.to_owned()))
            }
        }
    }
}

fn split_raw<'a>(c: &JStr<'a>) -> (Market, std::borrow::Cow<'a, str>) {
    match c.decode() {
        Ok(std::borrow::Cow::Borrowed(s)) => {
            let (m, rest) = split(s);
            (m, std::borrow::Cow::Borrowed(rest))
        }
        Ok(std::borrow::Cow::Owned(s)) => {
            let (m, rest) = split(&s);
            (m, std::borrow::Cow::Owned(rest.to_owned()))
        }
        Err(_) => (Market::Other, std::borrow::Cow::Borrowed("")),
    }
}

fn split(s: &str) -> (Market, &str) {
    if let Some(rest) = s.strip_prefix("spot.") {
        (Market::Spot, rest)
    } else if let Some(rest) = s.strip_prefix("futures.") {
        (Market::Futures, rest)
    } else {
        (Market::Other, s)
    }
}

/// Scans the envelope of `frame`. When the cursor reaches `result` and `channel` is already
/// known, `hook` may consume the value in place (return `true`); otherwise the value is
/// skipped and its span recorded in [`Envelope::result`].
///
/// # Errors
/// Malformed JSON, a non-object frame, or a wrongly typed envelope field; errors from `hook`
/// are passed through.
pub fn scan<'a, F>(frame: &'a [u8], hook: F) -> Result<Envelope<'a>, GateError>
where
    F: FnMut(&Envelope<'a>, &mut Scan<'a>) -> Result<bool, GateError>,
{
    let mut env = Envelope::default();
    match scan_into(frame, &mut env, hook) {
        Ok(()) => Ok(env),
        Err(e) => Err(e.in_channel(&env.channel_str())),
    }
}

fn scan_into<'a, F>(frame: &'a [u8], env: &mut Envelope<'a>, hook: F) -> Result<(), GateError>
where
    F: FnMut(&Envelope<'a>, &mut Scan<'a>) -> Result<bool, GateError>,
{
    let mut s = Scan::new(frame);
    if s.peek() != Some(b'{') {
        let v = s.value().map_err(|e| GateError::json("", e))?;
        return Err(GateError::at(
            "",
            0,
            GateErrorKind::Type {
                expected: "object",
                found: v.type_name(),
            },
        ));
    }
    scan_keys(&mut s, env, true, hook)
}

/// Reads the keys of the envelope object from the cursor (at its `{` when `first`, else after
/// a value) to the end of the frame.
fn scan_keys<'a, F>(
    s: &mut Scan<'a>,
    env: &mut Envelope<'a>,
    mut first: bool,
    mut hook: F,
) -> Result<(), GateError>
where
    F: FnMut(&Envelope<'a>, &mut Scan<'a>) -> Result<bool, GateError>,
{
    while let Some(key) = s.next_key(&mut first).map_err(|e| GateError::json("", e))? {
        let decoded;
        let name: &[u8] = if key.escaped {
            decoded = key.key_bytes();
            &decoded
        } else {
            key.raw
        };
        if name == b"result" {
            s.peek();
            let pos = s.i;
            env.mark(Field::Result, "result", pos)?;
            env.result_pos = pos;
            if env.channel.is_some() && hook(env, s)? {
                env.result_consumed = true;
                env.result = Some(Val::Null);
                continue;
            }
            let v = s.value().map_err(|e| GateError::json("result", e))?;
            env.result = Some(v);
            env.result_consumed = false;
            continue;
        }
        read_key(s, env, name)?;
    }
    s.finish().map_err(|e| GateError::json("", e))
}

/// Reads the value of one envelope key other than `result` (cursor after its `:`).
#[inline(always)]
fn read_key<'a>(s: &mut Scan<'a>, env: &mut Envelope<'a>, name: &[u8]) -> Result<(), GateError> {
    s.peek();
    let pos = s.i;
    match name {
        b"channel" => {
            env.mark(Field::Channel, "channel", pos)?;
            env.channel = value::read_str(s, "channel")?;
            env.split = env.channel.map(|c| split_raw(&c));
            env.route = env
                .split
                .as_ref()
                .map_or(Route::Other, |(m, n)| route_of(*m, n));
        }
        b"event" => {
            env.mark(Field::Event, "event", pos)?;
            env.event = value::read_str(s, "event")?;
        }
        b"time" => {
            env.mark(Field::Time, "time", pos)?;
            env.time = value::read_int(s, "time")?;
        }
        b"time_ms" => {
            env.mark(Field::TimeMs, "time_ms", pos)?;
            env.time_ms = value::read_int(s, "time_ms")?;
        }
        b"id" => {
            env.mark(Field::Id, "id", pos)?;
            let v = s.value().map_err(|e| GateError::json("id", e))?;
            value::scalar(&v, "id", pos)?;
            env.id = Some(v);
        }
        b"error" => {
            env.mark(Field::Error, "error", pos)?;
            let v = s.value().map_err(|e| GateError::json("error", e))?;
            env.error = match v {
                Val::Null => None,
                Val::Obj(a, b) => Some((a, b)),
                other => {
                    return Err(GateError::at(
                        "error",
                        pos,
                        GateErrorKind::Type {
                            expected: "object or null",
                            found: other.type_name(),
                        },
                    ))
                }
            }
        }
        other => s
            .skip()
            .map_err(|e| GateError::json(field_name(other), e))?,
    }
    Ok(())
}

/// What the keys after a `result` that a hook is consuming say: reads them (from a copy of
/// the cursor, which must be just after the `result` value) into a copy of `env`, checks
/// that the frame ends there, and returns the completed envelope. A hook about to change
/// state calls this first, so a later `error`, `event` or repeated key is known in time.
/// Gate puts `result` last, so this is usually just the closing `}`.
///
/// # Errors
/// As [`scan`] for the remaining keys.
pub fn tail<'a>(s: &Scan<'a>, env: &Envelope<'a>) -> Result<Envelope<'a>, GateError> {
    let mut s = s.clone();
    let mut env = env.clone();
    scan_keys(&mut s, &mut env, false, |_, _| Ok(false))?;
    Ok(env)
}

fn field_name(name: &[u8]) -> &str {
    std::str::from_utf8(name).unwrap_or("?")
}

/// Scans the envelope without consuming `result`.
///
/// # Errors
/// As [`scan`].
pub fn parse(frame: &[u8]) -> Result<Envelope<'_>, GateError> {
    scan(frame, |_, _| Ok(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_any_order_and_skips_unknown_keys() {
        let f = br#"{"result":{"status":"success"},"payload":["BTC_USDT","100ms"],"conn_id":"x","id":17,"event":"subscribe","channel":"spot.order_book_update","time_ms":1727000000212,"time":1727000000}"#;
        let e = parse(f).unwrap();
        assert_eq!(e.channel_str(), "spot.order_book_update");
        assert!(e.event_is("subscribe"));
        assert_eq!(e.time, Some(1_727_000_000));
        assert_eq!(e.time_ms, Some(1_727_000_000_212));
        assert_eq!(e.id, Some(Val::Num(b"17")));
        assert!(matches!(e.result, Some(Val::Obj(..))));
        assert_eq!(e.split_channel().0, Market::Spot);
        assert_eq!(e.split_channel().1, "order_book_update");
    }

    #[test]
    fn obu_pushes_have_no_event_or_time() {
        let f = br#"{"channel":"futures.obu","result":{"t":1},"time_ms":5}"#;
        let e = parse(f).unwrap();
        assert!(e.event.is_none() && e.time.is_none());
        assert_eq!(e.split_channel(), (Market::Futures, "obu".into()));
    }

    #[test]
    fn hook_consumes_result_only_after_channel() {
        let mut calls = 0;
        let f = br#"{"channel":"spot.trades","result":[1,2]}"#;
        let e = scan(f, |_, s| {
            calls += 1;
            s.skip().map_err(|e| GateError::json("result", e))?;
            Ok(true)
        })
        .unwrap();
        assert_eq!(calls, 1);
        assert!(e.result_consumed);
        let f = br#"{"result":[1,2],"channel":"spot.trades"}"#;
        let e = scan(f, |_, _| panic!("channel unknown at result")).unwrap();
        assert!(matches!(e.result, Some(Val::Arr(..))));
    }

    #[test]
    fn refuses_bad_envelopes_with_field_names() {
        assert!(parse(b"[1]")
            .unwrap_err()
            .to_string()
            .contains("expected object, got array"));
        let e = parse(br#"{"channel":5}"#).unwrap_err();
        assert_eq!(e.field, "channel");
        let e = parse(br#"{"channel":"spot.pong","time":"x"}"#).unwrap_err();
        assert_eq!(e.field, "time");
        let e = parse(br#"{"channel":"spot.pong","error":"x"}"#).unwrap_err();
        assert_eq!(e.field, "error");
        assert!(parse(br#"{"channel":"spot.pong"} x"#).is_err());
        assert!(parse(br#"{"channel":"spot.pong","#).is_err());
        let e = parse(br#"{"\u0063hannel":"spot.pong","error":null}"#).unwrap();
        assert_eq!(e.channel_str(), "spot.pong");
        assert!(e.error.is_none());
    }
}
