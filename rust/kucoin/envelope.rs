//! The envelope `{"type","topic","subject","data",...}` and control frames (`kucoin.md` §2.2).

use super::error::KucoinError;
use super::object::{locate, Trust};
use super::route::{self, Kind};
use crate::gate::{value, GateErrorKind};
use crate::json::{Scan, Span};

const KEYS: [&str; 9] = [
    "type",
    "topic",
    "subject",
    "data",
    "id",
    "code",
    "sn",
    "userId",
    "channelType",
];

/// Where the envelope fields of one frame are.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    /// What the frame is.
    pub kind: Kind,
    /// `type` (`message`, `welcome`, `pong`, `ack`, `error`, ...).
    pub frame_type: Span,
    /// `topic`, e.g. `/market/level2:BTC-USDT`.
    pub topic: Option<Span>,
    /// `subject`, e.g. `trade.l2update`.
    pub subject: Option<Span>,
    /// `id` of control frames (the connectId or the request id).
    pub id: Option<Span>,
    /// `code` of an error frame.
    pub code: Option<i64>,
    /// Futures `sn`.
    pub sn: Option<i64>,
    /// Offset of the `data` value.
    pub data: Option<usize>,
}

fn text<'a>(
    frame: &'a [u8],
    sp: Option<Span>,
    field: &str,
) -> Result<Option<std::borrow::Cow<'a, str>>, KucoinError> {
    sp.map(|s| {
        s.decode(frame)
            .map_err(|k| KucoinError::at(field, s.start as usize, GateErrorKind::Json(k)))
    })
    .transpose()
}

fn str_at(
    frame: &[u8],
    at: Option<usize>,
    name: &'static str,
) -> Result<Option<Span>, KucoinError> {
    let Some(pos) = at else { return Ok(None) };
    let mut s = Scan::at(frame, pos);
    Ok(value::read_str(&mut s, name)?.map(|j| Span::of(frame, &j)))
}

/// Reads an integer field at `at` (a JSON integer or an integer string).
pub(crate) fn int_at(
    frame: &[u8],
    at: Option<usize>,
    name: &'static str,
) -> Result<Option<i64>, KucoinError> {
    let Some(pos) = at else { return Ok(None) };
    Ok(value::read_int(&mut Scan::at(frame, pos), name)?)
}

/// Scans the whole frame (validating it) and routes it.
///
/// # Errors
/// Malformed JSON, trailing bytes, a repeated envelope key, wrong field types, a missing
/// `type`, or a data push without `topic`/`data`.
pub fn scan(frame: &[u8]) -> Result<Envelope, KucoinError> {
    let mut s = Scan::new(frame);
    let at = locate(&mut s, &KEYS, Trust::Raw)?;
    s.finish().map_err(|e| KucoinError::json("", e))?;
    let frame_type = str_at(frame, at[0], "type")?
        .ok_or_else(|| KucoinError::at("type", 0, GateErrorKind::Missing))?;
    let topic = str_at(frame, at[1], "topic")?;
    let subject = str_at(frame, at[2], "subject")?;
    let id = str_at(frame, at[4], "id")?;
    let code = int_at(frame, at[5], "code")?;
    let sn = int_at(frame, at[6], "sn")?;
    // `userId` and `channelType` (private pushes) are strings when present.
    str_at(frame, at[7], "userId")?;
    str_at(frame, at[8], "channelType")?;
    let ty = text(frame, Some(frame_type), "type")?.unwrap_or_default();
    let topic_text = text(frame, topic, "topic")?;
    let kind = Kind::of(&ty, topic_text.as_deref());
    if ty == "message" && (topic.is_none() || at[3].is_none()) {
        let field = if topic.is_none() { "topic" } else { "data" };
        return Err(KucoinError::at(field, 0, GateErrorKind::Missing));
    }
    Ok(Envelope {
        kind,
        frame_type,
        topic,
        subject,
        id,
        code,
        sn,
        data: at[3],
    })
}

impl Envelope {
    /// The topic text (empty when absent).
    #[must_use]
    pub fn topic_text<'a>(&self, frame: &'a [u8]) -> std::borrow::Cow<'a, str> {
        self.topic
            .and_then(|t| t.decode(frame).ok())
            .unwrap_or_default()
    }

    /// Whether the topic's symbol is `want` (true when no symbol is wanted).
    #[must_use]
    pub fn symbol_is(&self, frame: &[u8], want: Option<&str>) -> bool {
        let Some(want) = want else { return true };
        route::topic_symbol(&self.topic_text(frame)) == Some(want)
    }
}
