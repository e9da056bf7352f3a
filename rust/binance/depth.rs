//! Depth payloads straight into an [`OrderBook`] (`binance.md` §3, §4, §8.2–8.3).
//!
//! Payloads: `depthUpdate` diffs (`U`, `u`, futures `pu`, `b`, `a`), spot partial depth and
//! REST snapshots (`lastUpdateId`, `bids`, `asks`; futures adds `E`, `T`), and futures
//! `@depth<N>` pushes (a `depthUpdate` body routed as partial by its stream name). Diffs go
//! through the book's Binance rule ([`OrderBook::apply_linked_delta`]: spot `U`/`u`, futures
//! `pu`); partial depth replaces the book with id `lastUpdateId` (or `u`).
//!
//! One scan locates the ids, symbol and level arrays (validating everything); the levels are
//! then parsed straight from the frame into the book's writer, with no allocation per level
//! or per message. Every key the verdict depends on is refused when repeated, because
//! `json.loads` would keep the last one and a book cannot un-apply levels.

use super::error::BinanceError;
use super::frame::{expect_object, sniff};
use super::route::{self, Kind};
use crate::book::{LevelSink, OrderBook, SeqRule, Status};
use crate::gate::levels::{read_levels, Levels};
use crate::gate::{value, GateError, GateErrorKind};
use crate::json::{JStr, JsonError, Scan, Span};

/// What [`apply_payload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepthOutcome {
    /// Not a depth payload (trade, ticker, control reply, ...); the book is untouched.
    NotDepth,
    /// The push is for another symbol than the book's; the book is untouched.
    WrongSymbol,
    /// The push went to the book with this verdict.
    Book(Status),
}

/// The non-level fields of a depth payload, and where its level arrays are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Head<'a> {
    /// `e`.
    pub e: Option<JStr<'a>>,
    /// `E`: event time.
    pub event_time: Option<i64>,
    /// `T`: transaction time (futures).
    pub transact_time: Option<i64>,
    /// `s`.
    pub symbol: Option<JStr<'a>>,
    /// `U`.
    pub first: Option<u64>,
    /// `u`.
    pub last: Option<u64>,
    /// `pu` (futures).
    pub prev: Option<u64>,
    /// `lastUpdateId` (partial depth, REST snapshot).
    pub last_update_id: Option<u64>,
    /// Span of the bid array (`b` or `bids`).
    pub bids: Option<(usize, usize)>,
    /// Span of the ask array (`a` or `asks`).
    pub asks: Option<(usize, usize)>,
    seen: u16,
}

#[derive(Clone, Copy)]
enum Key {
    E,
    EventTime,
    TransactTime,
    Sym,
    First,
    Last,
    Prev,
    LastUpdateId,
    Bids,
    Asks,
    Other,
}

impl Key {
    fn of(k: &JStr<'_>) -> Self {
        let decoded;
        let raw: &[u8] = if k.escaped {
            decoded = k.decode().map(|c| c.into_owned()).unwrap_or_default();
            decoded.as_bytes()
        } else {
            k.raw
        };
        match raw {
            b"e" => Self::E,
            b"E" => Self::EventTime,
            b"T" => Self::TransactTime,
            b"s" => Self::Sym,
            b"U" => Self::First,
            b"u" => Self::Last,
            b"pu" => Self::Prev,
            b"lastUpdateId" => Self::LastUpdateId,
            // `b` and `bids` are the same side: both in one payload is a duplicate.
            b"b" | b"bids" => Self::Bids,
            b"a" | b"asks" => Self::Asks,
            _ => Self::Other,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::E => "e",
            Self::EventTime => "E",
            Self::TransactTime => "T",
            Self::Sym => "s",
            Self::First => "U",
            Self::Last => "u",
            Self::Prev => "pu",
            Self::LastUpdateId => "lastUpdateId",
            Self::Bids => "b",
            Self::Asks => "a",
            Self::Other => "",
        }
    }
}

fn json(field: &str, e: JsonError) -> BinanceError {
    GateError::json(field, e).into()
}

fn seq(s: &mut Scan<'_>, name: &'static str) -> Result<Option<u64>, BinanceError> {
    let pos = s.i;
    match value::read_int(s, name)? {
        None => Ok(None),
        Some(v) => u64::try_from(v)
            .map(Some)
            .map_err(|_| BinanceError::invalid(name, pos, "negative id")),
    }
}

/// Scans one payload object (cursor at `{`): fields into `head`, level arrays as spans.
///
/// # Errors
/// Malformed JSON, wrong types, or a repeated key. (`stream`/`data` keys are ordinary keys
/// here: a frame is a combined-stream wrapper only when one of them comes first.)
pub fn scan_head<'a>(s: &mut Scan<'a>) -> Result<Head<'a>, BinanceError> {
    let mut head = Head::default();
    expect_object(s)?;
    read_keys::<Discard>(s, &mut head, &mut true, None, &|_| false)?;
    Ok(head)
}

/// Reads the keys of a payload object (`first`: the `{` is still to be read) until its end,
/// or until a level array is reached while `stop(head)` holds: then returns `Some(bid)` with
/// the cursor on the array (its key already counted). Level arrays go to `sink` when given,
/// else are only located; either way their spans are recorded.
fn read_keys<'a, W: LevelSink>(
    s: &mut Scan<'a>,
    head: &mut Head<'a>,
    first: &mut bool,
    mut sink: Option<&mut W>,
    stop: &dyn Fn(&Head<'a>) -> bool,
) -> Result<Option<bool>, BinanceError> {
    while let Some(k) = s.next_key(first).map_err(|e| json("", e))? {
        let key = Key::of(&k);
        s.peek();
        let pos = s.i;
        let bit = 1u16 << (key as u16);
        match key {
            Key::Other => {
                s.skip().map_err(|e| json("", e))?;
                continue;
            }
            _ if head.seen & bit != 0 => return Err(BinanceError::duplicate(key.name(), pos)),
            _ => head.seen |= bit,
        }
        match key {
            Key::E => head.e = value::read_str(s, "e")?,
            Key::EventTime => head.event_time = value::read_int(s, "E")?,
            Key::TransactTime => head.transact_time = value::read_int(s, "T")?,
            Key::Sym => head.symbol = value::read_str(s, "s")?,
            Key::First => head.first = seq(s, "U")?,
            Key::Last => head.last = seq(s, "u")?,
            Key::Prev => head.prev = seq(s, "pu")?,
            Key::LastUpdateId => head.last_update_id = seq(s, "lastUpdateId")?,
            Key::Bids | Key::Asks => {
                let bid = matches!(key, Key::Bids);
                if stop(head) {
                    return Ok(Some(bid));
                }
                match sink.as_deref_mut() {
                    Some(w) => read_levels(s, w, bid)?,
                    None => s.skip().map_err(|e| json(key.name(), e))?,
                }
                head.record(bid, (pos, s.i));
            }
            Key::Other => {}
        }
    }
    Ok(None)
}

impl Head<'_> {
    fn record(&mut self, bid: bool, span: (usize, usize)) {
        if bid {
            self.bids = Some(span);
        } else {
            self.asks = Some(span);
        }
    }

    /// The depth kind of this payload: the stream name decides when there is one (a futures
    /// `@depth<N>` push looks like a diff), else `e`, else the `lastUpdateId` key.
    ///
    /// # Errors
    /// `e` contradicts the stream name, or `u` and `lastUpdateId` are both present.
    pub fn kind(&self, route: Option<Kind>) -> Result<Kind, BinanceError> {
        let e = self
            .e
            .map(|e| e.decode())
            .transpose()
            .map_err(|k| BinanceError::at("e", 0, GateErrorKind::Json(k)))?;
        if let Some(r) = route {
            if !route::consistent(r, e.as_deref()) {
                return Err(BinanceError::invalid(
                    "e",
                    0,
                    "event type does not match the stream name",
                ));
            }
            return Ok(r);
        }
        Ok(match e.as_deref() {
            Some(name) => Kind::of_event(name),
            None if self.last_update_id.is_some() => Kind::PartialDepth,
            None => Kind::Other,
        })
    }

    /// The id a partial/snapshot payload replaces the book with.
    fn snapshot_id(&self) -> Result<u64, BinanceError> {
        match (self.last_update_id, self.last) {
            (Some(_), Some(_)) => Err(BinanceError::invalid(
                "lastUpdateId",
                0,
                "both u and lastUpdateId are present",
            )),
            (Some(id), None) | (None, Some(id)) => Ok(id),
            (None, None) => Err(BinanceError::at("lastUpdateId", 0, GateErrorKind::Missing)),
        }
    }

    fn diff_ids(&self) -> Result<(u64, u64), BinanceError> {
        if self.last_update_id.is_some() {
            return Err(BinanceError::invalid(
                "lastUpdateId",
                0,
                "a depthUpdate carries U/u, not lastUpdateId",
            ));
        }
        let first = self
            .first
            .ok_or_else(|| BinanceError::at("U", 0, GateErrorKind::Missing))?;
        let last = self
            .last
            .ok_or_else(|| BinanceError::at("u", 0, GateErrorKind::Missing))?;
        Ok((first, last))
    }

    /// Streams both level arrays of `frame` into `sink`.
    fn fill<W: LevelSink>(&self, frame: &[u8], sink: &mut W) -> Result<(), BinanceError> {
        if let Some((a, _)) = self.bids {
            read_levels(&mut Scan::at(frame, a), sink, true)?;
        }
        if let Some((a, _)) = self.asks {
            read_levels(&mut Scan::at(frame, a), sink, false)?;
        }
        Ok(())
    }
}

/// Where a payload came from: the stream name's kind and symbol, and the book's symbol.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx<'w> {
    /// Kind given by the stream name (combined streams).
    pub route: Option<Kind>,
    /// Symbol part of the stream name (lower case).
    pub stream_symbol: Option<&'w str>,
    /// The book's symbol (as in `s`), if it checks one.
    pub want: Option<&'w str>,
}

fn symbol_matches(head: &Head<'_>, cx: &Ctx<'_>) -> Result<bool, BinanceError> {
    let Some(want) = cx.want else {
        return Ok(true);
    };
    if let Some(s) = head.symbol {
        let text = s
            .decode()
            .map_err(|k| BinanceError::at("s", 0, GateErrorKind::Json(k)))?;
        if text != want {
            return Ok(false);
        }
    }
    Ok(cx
        .stream_symbol
        .is_none_or(|ss| route::stream_symbol_is(ss, want)))
}

/// What a depth payload does to a book: its kind and `(first, last, prev)` ids (partial
/// depth: `(0, id, 0)`), or None for a payload that is not depth.
type Plan = Option<(Kind, (u64, u64, u64))>;

fn plan(head: &Head<'_>, cx: &Ctx<'_>, linked: bool) -> Result<Plan, BinanceError> {
    let kind = head.kind(cx.route)?;
    Ok(match kind {
        Kind::PartialDepth => Some((kind, (0, head.snapshot_id()?, 0))),
        Kind::DiffDepth => {
            let (first, last) = head.diff_ids()?;
            // Only a futures book reads `pu`; a spot book ignores it.
            let prev = match (linked, head.prev) {
                (true, None) => return Err(BinanceError::at("pu", 0, GateErrorKind::Missing)),
                (true, Some(p)) => p,
                (false, _) => 0,
            };
            Some((kind, (first, last, prev)))
        }
        _ => None,
    })
}

/// True when everything the verdict depends on is known, so the levels can go straight
/// into the book: the payload is depth, its ids are in, and so is `s` when the book checks it.
fn ready(h: &Head<'_>, cx: &Ctx<'_>, linked: bool) -> bool {
    let kind = match (cx.route, h.e) {
        (Some(r), _) => r,
        (None, Some(e)) if e.is("depthUpdate") => Kind::DiffDepth,
        (None, None) if h.last_update_id.is_some() => Kind::PartialDepth,
        _ => return false,
    };
    let ids = match kind {
        Kind::PartialDepth => h.last_update_id.is_some() || h.last.is_some(),
        _ => h.first.is_some() && h.last.is_some() && (!linked || h.prev.is_some()),
    };
    ids && (cx.want.is_none() || h.symbol.is_some())
}

/// Everything after the commit point of a streamed payload: the level arrays located before
/// it, the array under the cursor, and the rest of the object, levels into `w`. Keys read
/// after the levels may not change what the push is (its kind or ids); if they would, the
/// error leaves the book out of sync.
#[allow(clippy::too_many_arguments)]
fn finish<'a, W: LevelSink>(
    s: &mut Scan<'a>,
    w: &mut W,
    head: &mut Head<'a>,
    first: &mut bool,
    bid: bool,
    cx: &Ctx<'_>,
    linked: bool,
    committed: Plan,
) -> Result<(), BinanceError> {
    head.fill(s.bytes(), w)?;
    let start = s.i;
    read_levels(s, w, bid)?;
    head.record(bid, (start, s.i));
    read_keys(s, head, first, Some(w), &|_| false)?;
    if plan(head, cx, linked)? != committed {
        return Err(BinanceError::invalid(
            "",
            s.i,
            "keys after the levels change what the push is",
        ));
    }
    Ok(())
}

/// Applies the payload under the cursor to `book` if it is a depth payload.
///
/// Binance sends the ids and symbol before the levels, so the verdict is usually known when
/// the first level array is reached: the levels are then parsed straight into the book in
/// the same pass. Otherwise (any other key order) the arrays are located first and parsed
/// from their spans.
///
/// # Errors
/// A [`BinanceError`] for malformed payloads; one found while levels were being written
/// leaves the book out of sync (see [`OrderBook::apply_delta`]).
pub fn apply_payload(
    s: &mut Scan<'_>,
    book: &mut OrderBook,
    cx: &Ctx<'_>,
) -> Result<DepthOutcome, BinanceError> {
    let frame = s.bytes();
    if s.peek() == Some(b'[') {
        // `!miniTicker@arr` and friends: never depth.
        s.skip().map_err(|e| json("", e))?;
        return Ok(DepthOutcome::NotDepth);
    }
    let start = s.i;
    let linked = book.rule() == SeqRule::BinanceFutures;
    let mut head = Head::default();
    let mut first = true;
    let stop = |h: &Head<'_>| ready(h, cx, linked);
    let stopped = match expect_object(s)
        .and_then(|()| read_keys::<Discard>(s, &mut head, &mut first, None, &stop))
    {
        Ok(stopped) => stopped,
        // A raw payload that is not depth at all: its fields are not this reader's to judge
        // (`parse` types them with the right table); only its JSON must be valid.
        Err(_) if cx.route.is_none() && !sniff(&Scan::at(frame, start))?.0.is_depth() => {
            let mut rest = Scan::at(frame, start);
            rest.skip().map_err(|e| json("", e))?;
            *s = rest;
            return Ok(DepthOutcome::NotDepth);
        }
        Err(e) => return Err(e),
    };
    // Ids are checked before the symbol, so a malformed push is an error whatever its symbol.
    let committed = plan(&head, cx, linked)?;
    let Some((kind, ids)) = committed else {
        return Ok(DepthOutcome::NotDepth);
    };
    let Some(bid) = stopped else {
        return commit_spans(frame, book, &head, cx, kind, ids);
    };
    if !symbol_matches(&head, cx)? {
        finish(
            s,
            &mut Discard,
            &mut head,
            &mut first,
            bid,
            cx,
            linked,
            committed,
        )?;
        return Ok(DepthOutcome::WrongSymbol);
    }
    let mut ran = false;
    let st = if kind == Kind::PartialDepth && cx.route.is_some() {
        // Partial depth named by its stream is the stream's own top-N book: confirmed.
        book.load_stream_snapshot(ids.1, |w| {
            finish(s, w, &mut head, &mut first, bid, cx, linked, committed)
        })?
    } else if kind == Kind::PartialDepth {
        // A bare body may be a REST snapshot: the stream must confirm it first.
        book.load_snapshot(ids.1, |w| {
            finish(s, w, &mut head, &mut first, bid, cx, linked, committed)
        })?
    } else {
        book.apply_linked_delta(ids.0, ids.1, ids.2, |w| {
            ran = true;
            finish(s, w, &mut head, &mut first, bid, cx, linked, committed)
        })?
    };
    if kind == Kind::DiffDepth && !ran {
        // Stale, gap or refused: the levels were not needed, but a push with bad levels or
        // keys is an error whatever its ids (as `parse` says).
        finish(
            s,
            &mut Discard,
            &mut head,
            &mut first,
            bid,
            cx,
            linked,
            committed,
        )?;
    }
    Ok(DepthOutcome::Book(st))
}

/// Applies a payload whose level arrays were located before its ids were known.
fn commit_spans(
    frame: &[u8],
    book: &mut OrderBook,
    head: &Head<'_>,
    cx: &Ctx<'_>,
    kind: Kind,
    ids: (u64, u64, u64),
) -> Result<DepthOutcome, BinanceError> {
    if !symbol_matches(head, cx)? {
        return Ok(DepthOutcome::WrongSymbol);
    }
    let mut ran = false;
    let st = if kind == Kind::PartialDepth && cx.route.is_some() {
        book.load_stream_snapshot(ids.1, |w| head.fill(frame, w))?
    } else if kind == Kind::PartialDepth {
        book.load_snapshot(ids.1, |w| head.fill(frame, w))?
    } else {
        book.apply_linked_delta(ids.0, ids.1, ids.2, |w| {
            ran = true;
            head.fill(frame, w)
        })?
    };
    if kind == Kind::DiffDepth && !ran {
        head.fill(frame, &mut Discard)?;
    }
    Ok(DepthOutcome::Book(st))
}

/// A level sink that only lets the reader validate.
struct Discard;

impl LevelSink for Discard {
    fn level(
        &mut self,
        _bid: bool,
        _price: crate::decimal::Decimal,
        _size: crate::decimal::Decimal,
    ) {
    }
}

/// A depth payload decoded into owned levels (for `parse`).
#[derive(Debug, Clone, Default)]
pub struct DepthUpdate {
    /// True for partial depth / snapshots (they replace the book).
    pub snapshot: bool,
    /// `E`.
    pub event_time: Option<i64>,
    /// `T`.
    pub transact_time: Option<i64>,
    /// `s`.
    pub symbol: Option<Span>,
    /// `U`.
    pub first_id: Option<u64>,
    /// `u`, or `lastUpdateId` for spot partial depth.
    pub last_id: u64,
    /// `pu`.
    pub prev_id: Option<u64>,
    /// Levels in wire order.
    pub levels: Levels,
    /// Spans of the level arrays, for exact string access.
    pub bids_span: Option<(usize, usize)>,
    /// See `bids_span`.
    pub asks_span: Option<(usize, usize)>,
}

/// Decodes the depth payload under the cursor (`kind` already known to be depth).
///
/// # Errors
/// As [`apply_payload`].
pub fn parse_payload(s: &mut Scan<'_>, route: Option<Kind>) -> Result<DepthUpdate, BinanceError> {
    let frame = s.bytes();
    let head = scan_head(s)?;
    let kind = head.kind(route)?;
    let snapshot = kind == Kind::PartialDepth;
    let last_id = if snapshot {
        head.snapshot_id()?
    } else {
        head.diff_ids()?.1
    };
    let mut levels = Levels::default();
    head.fill(frame, &mut levels)?;
    Ok(DepthUpdate {
        snapshot,
        event_time: head.event_time,
        transact_time: head.transact_time,
        symbol: head.symbol.map(|j| Span::of(frame, &j)),
        first_id: head.first,
        last_id,
        prev_id: head.prev,
        levels,
        bids_span: head.bids,
        asks_span: head.asks,
    })
}
