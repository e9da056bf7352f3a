//! Depth channels straight into an [`OrderBook`]: the hot path (`gateio.md` §3.5–3.7, §4, §6.2–6.3).
//!
//! Channels: `spot.order_book_update`, `spot.obu`, `spot.order_book`, and the `futures.` ones.
//! Levels are `[price, amount]` pairs (spot, obu) or `{"p":price,"s":size}` objects (futures,
//! size an integer or a decimal string); prices and sizes are absolute, zero deletes.
//!
//! Id rules: an increment covers `U..=u` and goes through [`OrderBook::apply_delta`] with the
//! book's Gate rule (stale / gap / straddle, §4.2, §6.3); `full: true` (update and obu) and the
//! `order_book` snapshot channels replace the book via [`OrderBook::load_stream_snapshot`] with id `u`
//! (`lastUpdateId` / `id` for snapshots). The obu `s` is a stream name `ob.PAIR.LEVEL`.
//!
//! One pass, no allocation: the book's verdict needs the ids before any level is touched, and
//! Gate sends `U`/`u` (and `full`) before `b`/`a`, so when the first level array is reached
//! with the ids known the levels are parsed straight into the book's writer while the rest of
//! the object is read. When the ids come after the levels, the level arrays are only located
//! on the first pass and parsed on a second one; a `full: true` that turns up after levels
//! already applied as an increment reloads the push as a snapshot. Any key order is correct.
//!
//! Strictness (the judge is Python's `json`): a repeated key of the result that is read (`t`,
//! `full`, `s`/`contract`, `U`, `u`/`lastUpdateId`/`id`, `l`, `b`/`bids`, `a`/`asks`,
//! `status`; aliases count as the same key) is refused with a [`GateError`], as are repeated
//! envelope keys ([`envelope`]). A push applied in place checks the envelope keys after its
//! `result` ([`envelope::tail`]) before the book's state changes: a frame that is not a plain
//! push (an `error`, an `event` other than `update`/`all`) is refused, and if levels were
//! already streamed into the book, the book is marked out of sync, as for a malformed level.
//! When the caller names an instrument, a push without `s`/`contract` is refused too: it
//! cannot be shown to be for that instrument.

use super::envelope::{self, Envelope};
use super::error::{GateError, GateErrorKind};
use super::levels::read_levels;
pub use super::levels::{level_values, Levels};
pub use super::route::DepthChannel;
use super::route::Route;
use super::value;
use crate::book::{LevelSink, OrderBook, Status};
use crate::json::{JStr, Scan, Span, Val};

/// What [`apply_frame`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepthOutcome {
    /// The frame is not a depth push (ack, pong, error, other channel); the book is untouched.
    NotDepth,
    /// The push went to the book with this verdict.
    Book(Status),
    /// The push is for another instrument than the one the caller named; untouched.
    WrongSymbol,
}

/// The non-level fields of a depth result.
#[derive(Debug, Clone, Copy, Default)]
pub struct Head<'a> {
    /// `t`: book time, ms.
    pub t: Option<i64>,
    /// `full`.
    pub full: Option<bool>,
    /// `s` / `contract`: pair, or obu stream name.
    pub s: Option<JStr<'a>>,
    /// `U`.
    pub first: Option<u64>,
    /// `u` / `lastUpdateId` / `id`.
    pub last: Option<u64>,
    /// `l`: level of the stream.
    pub l: Option<JStr<'a>>,
    /// Span of the bid array (`[` .. `]`).
    pub bids: Option<(usize, usize)>,
    /// Span of the ask array.
    pub asks: Option<(usize, usize)>,
    /// A `status` key was seen (an ack's `{"status":"success"}`, not a push).
    pub status: bool,
    /// Keys already read (one bit per [`Key`] variant), to refuse repeats.
    seen: u16,
}

impl Head<'_> {
    /// Marks `key` read; a second occurrence (or an alias of one) is refused.
    #[inline(always)]
    fn mark(&mut self, key: &Key, pos: usize) -> Result<(), GateError> {
        if matches!(key, Key::Other) {
            return Ok(());
        }
        let bit = 1u16 << (*key as u16);
        if self.seen & bit != 0 {
            return Err(GateError::duplicate(key_name(key, "b/a"), pos).under("result"));
        }
        self.seen |= bit;
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Key {
    T,
    Full,
    Sym,
    First,
    Last,
    Level,
    Bids,
    Asks,
    Status,
    Other,
}

#[inline]
fn classify(k: &JStr<'_>) -> Key {
    if k.escaped {
        return classify_name(&k.key_bytes());
    }
    classify_name(k.raw)
}

#[inline(always)]
fn classify_name(name: &[u8]) -> Key {
    match name {
        b"t" => Key::T,
        b"full" => Key::Full,
        b"s" | b"contract" => Key::Sym,
        b"U" => Key::First,
        b"u" | b"lastUpdateId" | b"id" => Key::Last,
        b"l" => Key::Level,
        b"b" | b"bids" => Key::Bids,
        b"a" | b"asks" => Key::Asks,
        b"status" => Key::Status,
        _ => Key::Other,
    }
}

fn key_name(k: &Key, bid_name: &'static str) -> &'static str {
    match k {
        Key::T => "t",
        Key::Full => "full",
        Key::Sym => "s",
        Key::First => "U",
        Key::Last => "u",
        Key::Level => "l",
        Key::Bids | Key::Asks => bid_name,
        Key::Status => "status",
        Key::Other => "",
    }
}

use value::read_int as int_field;

#[inline(always)]
fn seq_field(s: &mut Scan<'_>, name: &'static str) -> Result<u64, GateError> {
    let pos = s.i;
    let v = int_field(s, name)?.ok_or_else(|| GateError::at(name, pos, GateErrorKind::Missing))?;
    u64::try_from(v).map_err(|_| GateError::at(name, pos, GateErrorKind::Invalid("negative id")))
}

/// Reads one non-level field into `head`.
#[inline]
fn read_field<'a>(s: &mut Scan<'a>, head: &mut Head<'a>, key: &Key) -> Result<(), GateError> {
    match key {
        Key::T => head.t = int_field(s, "t")?,
        Key::First => head.first = Some(seq_field(s, "U")?),
        Key::Last => head.last = Some(seq_field(s, "u")?),
        Key::Sym => {
            let pos = s.i;
            head.s = if s.peek() == Some(b'"') {
                Some(s.string().map_err(|e| GateError::json("s", e))?)
            } else {
                let v = s.value().map_err(|e| GateError::json("s", e))?;
                value::string(&v, "s", pos)?
            };
        }
        Key::Other | Key::Bids | Key::Asks => s.skip().map_err(|e| GateError::json("", e))?,
        Key::Full | Key::Level | Key::Status => {
            let pos = s.i;
            let name = key_name(key, "");
            let v = s.value().map_err(|e| GateError::json(name, e))?;
            match key {
                Key::Full => head.full = value::boolean(&v, "full", pos)?,
                Key::Level => {
                    // `l` is a string ("100"); tolerate a number, refuse containers.
                    value::scalar(&v, "l", pos)?;
                    head.l = if let Val::Str(j) = v { Some(j) } else { None };
                }
                _ => head.status = true,
            }
        }
    }
    Ok(())
}

/// The pair of an obu stream name `ob.PAIR.LEVEL`, or the symbol itself for other channels.
///
/// # Errors
/// [`GateErrorKind::Invalid`] for a stream name that is not `ob.<pair>.<level>`.
pub fn pair_of(sym: &str, channel: DepthChannel, pos: usize) -> Result<&str, GateError> {
    if channel != DepthChannel::Obu {
        return Ok(sym);
    }
    sym.strip_prefix("ob.")
        .and_then(|r| r.rsplit_once('.'))
        .map(|(pair, _level)| pair)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            GateError::at(
                "s",
                pos,
                GateErrorKind::Invalid("obu stream name is not ob.<PAIR>.<LEVEL>"),
            )
        })
}

fn symbol_matches(
    head: &Head<'_>,
    want: Option<&str>,
    channel: DepthChannel,
) -> Result<bool, GateError> {
    let Some(want) = want else { return Ok(true) };
    // A push that does not say which instrument it is for cannot be shown to be for `want`.
    let Some(sym) = head.s else {
        return Err(GateError::at("result.s", 0, GateErrorKind::Missing));
    };
    let text = sym
        .decode()
        .map_err(|k| GateError::at("s", 0, GateErrorKind::Json(k)))?;
    Ok(pair_of(&text, channel, 0)? == want)
}

/// Everything a commit needs.
struct Ctx<'w, 'a> {
    channel: DepthChannel,
    want: Option<&'w str>,
    /// The envelope read so far, when `result` is being consumed before the rest of the frame
    /// is known (`None` when the whole envelope was read first).
    env: Option<&'w Envelope<'a>>,
}

impl Ctx<'_, '_> {
    /// Before the book's state changes: the cursor is just after the result object; the keys
    /// after it must leave the frame a plain push.
    fn check_tail(&self, s: &Scan<'_>) -> Result<(), GateError> {
        let Some(env) = self.env else { return Ok(()) };
        // Gate puts `result` last: when only `}` follows, the envelope is the one the hook was
        // given, which is a plain push.
        let mut end = s.clone();
        if end.peek() == Some(b'}') {
            end.i += 1;
            if end.finish().is_ok() {
                return Ok(());
            }
        }
        let full = envelope::tail(s, env)?;
        if full.is_plain_push() {
            return Ok(());
        }
        let field = if full.error.is_some() {
            "error"
        } else {
            "event"
        };
        Err(GateError::at(
            field,
            s.i,
            GateErrorKind::Invalid("a depth result followed by an error or a non-update event"),
        ))
    }
}

/// Applies the depth result under the cursor (any JSON value) to `book`.
fn apply_result<'a>(
    s: &mut Scan<'a>,
    book: &mut OrderBook,
    cx: &Ctx<'_, 'a>,
) -> Result<DepthOutcome, GateError> {
    if s.peek() != Some(b'{') {
        let pos = s.i;
        let v = s.value().map_err(|e| GateError::json("result", e))?;
        return Err(GateError::at(
            "result",
            pos,
            GateErrorKind::Type {
                expected: "object",
                found: v.type_name(),
            },
        ));
    }
    let mut head = Head::default();
    let mut first = true;
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| GateError::json("result", e))?
    {
        let key = classify(&k);
        head.mark(&key, s.i)?;
        let bid = match key {
            Key::Bids => true,
            Key::Asks => false,
            _ => {
                read_field(s, &mut head, &key).map_err(|e| e.under("result"))?;
                continue;
            }
        };
        if ready(&head, cx) {
            return commit_streaming(s, book, cx, head, bid);
        }
        let start = {
            s.peek();
            s.i
        };
        s.skip()
            .map_err(|e| GateError::json(if bid { "result.b" } else { "result.a" }, e))?;
        if bid {
            head.bids = Some((start, s.i));
        } else {
            head.asks = Some((start, s.i));
        }
    }
    commit_spans(s, book, cx, &head)
}

/// True when the levels can go straight into the book: the verdict's inputs (ids, and the
/// symbol when the caller checks it) are known.
#[inline]
fn ready(head: &Head<'_>, cx: &Ctx<'_, '_>) -> bool {
    head.last.is_some()
        && (cx.want.is_none() || head.s.is_some())
        && (cx.channel == DepthChannel::Snapshot || head.full.is_some() || head.first.is_some())
}

fn is_snapshot(head: &Head<'_>, cx: &Ctx<'_, '_>) -> bool {
    cx.channel == DepthChannel::Snapshot || head.full == Some(true)
}

/// What the part of the object after the commit point held.
#[derive(Default)]
struct Rest {
    /// Spans of the level arrays (the one at the commit point included).
    bids: Option<(usize, usize)>,
    asks: Option<(usize, usize)>,
    /// A `full: true` key came after the levels of a push committed as an increment.
    late_full: bool,
}

impl Rest {
    fn record(&mut self, bid: bool, span: (usize, usize)) {
        if bid {
            self.bids = Some(span);
        } else {
            self.asks = Some(span);
        }
    }
}

fn commit_streaming<'a>(
    s: &mut Scan<'a>,
    book: &mut OrderBook,
    cx: &Ctx<'_, 'a>,
    mut head: Head<'a>,
    bid: bool,
) -> Result<DepthOutcome, GateError> {
    let mut rest = Rest::default();
    if !symbol_matches(&head, cx.want, cx.channel)? {
        rest_of_object::<Levels>(s, None, &mut head, &mut rest, bid)?;
        return Ok(DepthOutcome::WrongSymbol);
    }
    let last = head.last.unwrap_or_default();
    let watch_full = head.full.is_none();
    let frame = s.bytes();
    // Level arrays seen before the ids were known were only located; they go in first.
    let (early_bids, early_asks) = (head.bids, head.asks);
    let st = if is_snapshot(&head, cx) {
        book.load_stream_snapshot(last, |w| {
            fill_spans(frame, w, &head)?;
            rest_of_object(s, Some(w), &mut head, &mut rest, bid)?;
            cx.check_tail(s)
        })?
    } else {
        let first = head.first.unwrap_or_default();
        if book.check(first, last) == Status::Applied {
            book.apply_delta(first, last, |w| {
                fill_spans(frame, w, &head)?;
                rest_of_object(s, Some(w), &mut head, &mut rest, bid)?;
                cx.check_tail(s)
            })?
        } else {
            // The verdict (stale, gap, ...) needs no levels: read the rest of the frame before
            // the book's state changes.
            rest_of_object::<Levels>(s, None, &mut head, &mut rest, bid)?;
            cx.check_tail(s)?;
            book.apply_delta(first, last, |_| Ok::<(), GateError>(()))?
        }
    };
    if watch_full && rest.late_full {
        // `full: true` after the levels: the push is a snapshot after all. Loading it replaces
        // whatever the increment did, so the book ends up exactly as if the key came first
        // (only the book's counters saw one extra increment).
        head.full = Some(true);
        head.bids = rest.bids.or(early_bids);
        head.asks = rest.asks.or(early_asks);
        let st = book.load_stream_snapshot(last, |w| fill_spans(frame, w, &head))?;
        return Ok(DepthOutcome::Book(st));
    }
    Ok(DepthOutcome::Book(st))
}

/// Reads the level array under the cursor and every remaining key of the object; levels go to
/// `w` when given, otherwise they are only validated. Spans and a late `full` are recorded.
fn rest_of_object<'a, W: LevelSink>(
    s: &mut Scan<'a>,
    mut w: Option<&mut W>,
    head: &mut Head<'a>,
    rest: &mut Rest,
    bid: bool,
) -> Result<(), GateError> {
    let mut side = Some(bid);
    let mut first = false;
    loop {
        if let Some(bid) = side.take() {
            s.peek();
            let start = s.i;
            match w.as_deref_mut() {
                Some(w) => read_levels(s, w, bid).map_err(|e| e.under("result"))?,
                None => s
                    .skip()
                    .map_err(|e| GateError::json(if bid { "result.b" } else { "result.a" }, e))?,
            }
            rest.record(bid, (start, s.i));
        }
        let Some(k) = s
            .next_key(&mut first)
            .map_err(|e| GateError::json("result", e))?
        else {
            return Ok(());
        };
        let key = classify(&k);
        head.mark(&key, s.i)?;
        match key {
            Key::Bids => side = Some(true),
            Key::Asks => side = Some(false),
            Key::Full => {
                let pos = s.i;
                let v = s.value().map_err(|e| GateError::json("result.full", e))?;
                if value::boolean(&v, "full", pos).map_err(|e| e.under("result"))? == Some(true) {
                    rest.late_full = true;
                }
            }
            // Ids and the symbol were fixed when the push was committed (a repeat was refused
            // above); a first occurrence this late is still type-checked.
            key => read_field(s, head, &key).map_err(|e| e.under("result"))?,
        }
    }
}

fn fill_spans<W: LevelSink>(frame: &[u8], w: &mut W, head: &Head<'_>) -> Result<(), GateError> {
    if let Some((a, _)) = head.bids {
        read_levels(&mut Scan::at(frame, a), w, true).map_err(|e| e.under("result"))?;
    }
    if let Some((a, _)) = head.asks {
        read_levels(&mut Scan::at(frame, a), w, false).map_err(|e| e.under("result"))?;
    }
    Ok(())
}

/// Checks the ids a push needs; `Ok(false)` for an ack-like result with no ids at all.
fn check_ids(head: &Head<'_>, cx: &Ctx<'_, '_>, pos: usize) -> Result<bool, GateError> {
    if head.last.is_none() {
        if head.status && head.first.is_none() && head.bids.is_none() && head.asks.is_none() {
            return Ok(false);
        }
        return Err(GateError::at("result.u", pos, GateErrorKind::Missing));
    }
    if !is_snapshot(head, cx) && head.first.is_none() {
        return Err(GateError::at("result.U", pos, GateErrorKind::Missing));
    }
    Ok(true)
}

fn commit_spans(
    s: &Scan<'_>,
    book: &mut OrderBook,
    cx: &Ctx<'_, '_>,
    head: &Head<'_>,
) -> Result<DepthOutcome, GateError> {
    let frame = s.bytes();
    if !check_ids(head, cx, 0)? {
        return Ok(DepthOutcome::NotDepth);
    }
    if !symbol_matches(head, cx.want, cx.channel)? {
        return Ok(DepthOutcome::WrongSymbol);
    }
    cx.check_tail(s)?;
    let last = head.last.unwrap_or_default();
    let st = if is_snapshot(head, cx) {
        book.load_stream_snapshot(last, |w| fill_spans(frame, w, head))?
    } else {
        book.apply_delta(head.first.unwrap_or_default(), last, |w| {
            fill_spans(frame, w, head)
        })?
    };
    Ok(DepthOutcome::Book(st))
}

/// The depth channel of an envelope, if it is a depth push (not an ack or error).
fn depth_channel(env: &Envelope<'_>) -> Option<DepthChannel> {
    let Route::Depth(ch) = env.route else {
        return None;
    };
    if env.error.is_some() || env.event_is("subscribe") || env.event_is("unsubscribe") {
        return None;
    }
    Some(ch)
}

/// Applies one text frame to `book` when it is a depth push; `want` (a pair such as
/// `BTC_USDT`) refuses pushes for another instrument before they touch the book.
///
/// # Errors
/// A [`GateError`] for malformed frames; if it happened while levels were being written the
/// book is out of sync (see [`OrderBook::apply_delta`]).
pub fn apply_frame(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, GateError> {
    // `order_book_update` pushes as Gate writes them, in one pass; anything else (the book
    // untouched) takes the general path below.
    if let Some(st) = super::compact::apply(frame, book, want) {
        return Ok(DepthOutcome::Book(st));
    }
    // Trades and tickers are declined from their channel (SIMD checks that no later key can
    // rename it), or else in one pass when written as Gate writes them: such a frame is valid
    // JSON with a record channel and no repeated envelope key, which the general path would
    // also decline (`NotDepth`), after classifying every key.
    if super::decline::not_depth(frame) || super::compact_records::is_record_push(frame) {
        return Ok(DepthOutcome::NotDepth);
    }
    apply_checked(frame, book, want)
}

/// [`apply_frame`] for every spelling: validates the envelope, then reads the push.
pub(super) fn apply_checked(
    frame: &[u8],
    book: &mut OrderBook,
    want: Option<&str>,
) -> Result<DepthOutcome, GateError> {
    let mut outcome = DepthOutcome::NotDepth;
    let env = envelope::scan(frame, |env, s| {
        // In place only when the event says this is a push (obu pushes carry no event at all);
        // the keys after `result` are checked before the book changes (`Ctx::check_tail`).
        match depth_channel(env) {
            Some(channel) if env.is_plain_push() => {
                let cx = Ctx {
                    channel,
                    want,
                    env: Some(env),
                };
                outcome = apply_result(s, book, &cx)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })?;
    if env.result_consumed {
        if env.event_is("subscribe") || env.event_is("unsubscribe") || env.error.is_some() {
            // An event key after `result` turned the frame into an ack; it can only have been
            // consumed as one (no ids), so the book was not touched.
            return Ok(DepthOutcome::NotDepth);
        }
        return Ok(outcome);
    }
    let Some(channel) = depth_channel(&env) else {
        return Ok(DepthOutcome::NotDepth);
    };
    if !env.is_plain_push() || env.result.is_none() || env.result == Some(Val::Null) {
        return Ok(DepthOutcome::NotDepth);
    }
    let mut s = Scan::at(frame, env.result_pos);
    let ch = env.channel_str();
    let cx = Ctx {
        channel,
        want,
        env: None,
    };
    apply_result(&mut s, book, &cx).map_err(|e| e.in_channel(&ch))
}

/// A depth push decoded into owned levels (for `parse`, not the book path).
#[derive(Debug, Clone, Default)]
pub struct DepthUpdate {
    /// `t` (ms).
    pub time: Option<i64>,
    /// True for `full: true` pushes and the `order_book` snapshot channels.
    pub snapshot: bool,
    /// The `full` flag as sent.
    pub full: Option<bool>,
    /// `s` / `contract` (obu: the stream name).
    pub symbol: Option<Span>,
    /// `U`.
    pub first_id: Option<u64>,
    /// `u` / `lastUpdateId` / `id`.
    pub last_id: u64,
    /// `l`.
    pub level: Option<Span>,
    /// Levels.
    pub levels: Levels,
    /// Spans of the `b` / `a` arrays, for exact string access.
    pub bids_span: Option<(usize, usize)>,
    /// See `bids_span`.
    pub asks_span: Option<(usize, usize)>,
}

/// Decodes a depth result (cursor at it) into owned levels.
///
/// # Errors
/// As [`apply_frame`].
pub fn parse_result(s: &mut Scan<'_>, channel: DepthChannel) -> Result<DepthUpdate, GateError> {
    let frame = s.bytes();
    let mut head = Head::default();
    let pos = s.i;
    if s.peek() != Some(b'{') {
        let v = s.value().map_err(|e| GateError::json("result", e))?;
        return Err(GateError::at(
            "result",
            pos,
            GateErrorKind::Type {
                expected: "object",
                found: v.type_name(),
            },
        ));
    }
    let mut first = true;
    while let Some(k) = s
        .next_key(&mut first)
        .map_err(|e| GateError::json("result", e))?
    {
        let key = classify(&k);
        head.mark(&key, s.i)?;
        match key {
            Key::Bids | Key::Asks => {
                s.peek();
                let start = s.i;
                s.skip().map_err(|e| GateError::json("result", e))?;
                if matches!(key, Key::Bids) {
                    head.bids = Some((start, s.i));
                } else {
                    head.asks = Some((start, s.i));
                }
            }
            _ => read_field(s, &mut head, &key).map_err(|e| e.under("result"))?,
        }
    }
    let cx = Ctx {
        channel,
        want: None,
        env: None,
    };
    if !check_ids(&head, &cx, pos)? {
        return Err(GateError::at("result.u", pos, GateErrorKind::Missing));
    }
    if let Some(sym) = head.s {
        let text = sym
            .decode()
            .map_err(|k| GateError::at("result.s", pos, GateErrorKind::Json(k)))?;
        pair_of(&text, channel, pos).map_err(|e| e.under("result"))?;
    }
    let mut levels = Levels::default();
    fill_spans(frame, &mut levels, &head)?;
    Ok(DepthUpdate {
        time: head.t,
        snapshot: is_snapshot(&head, &cx),
        full: head.full,
        symbol: head.s.map(|j| Span::of(frame, &j)),
        first_id: head.first,
        last_id: head.last.unwrap_or_default(),
        level: head.l.map(|j| Span::of(frame, &j)),
        levels,
        bids_span: head.bids,
        asks_span: head.asks,
    })
}

#[cfg(test)]
#[path = "depth_tests.rs"]
mod tests;
