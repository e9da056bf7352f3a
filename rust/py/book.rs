//! `hftws.OrderBook` and `hftws.BookStatus`: the Rust book driven from Python.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::convert::{extract_decimal, to_py_decimal, to_py_str};
use crate::book::{OrderBook, Pending, SeqRule, Side, Status};
use crate::decimal::Decimal;
use crate::feed;

/// Outcome of a snapshot or delta.
#[pyclass(eq, eq_int, frozen, hash, name = "BookStatus", module = "hftws")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub(crate) enum PyBookStatus {
    APPLIED = 0,
    STALE = 1,
    GAP = 2,
    CROSSED = 3,
    NOT_SYNCED = 4,
}

static STATUS_OBJECTS: PyOnceLock<[Py<PyBookStatus>; 5]> = PyOnceLock::new();

/// The shared Python object for `s`: the class attribute itself (so `is` works), fetched
/// once; returning a status allocates nothing.
pub(crate) fn status_object(py: Python<'_>, s: Status) -> PyResult<Py<PyBookStatus>> {
    let all = STATUS_OBJECTS.get_or_try_init(py, || -> PyResult<_> {
        let cls = py.get_type::<PyBookStatus>();
        let get = |name: &str| -> PyResult<Py<PyBookStatus>> {
            Ok(cls.getattr(name)?.cast_into::<PyBookStatus>()?.unbind())
        };
        Ok([
            get("APPLIED")?,
            get("STALE")?,
            get("GAP")?,
            get("CROSSED")?,
            get("NOT_SYNCED")?,
        ])
    })?;
    let i = match s {
        Status::Applied => 0,
        Status::Stale => 1,
        Status::Gap => 2,
        Status::Crossed => 3,
        Status::NotSynced => 4,
    };
    Ok(all[i].clone_ref(py))
}

#[pymethods]
impl PyBookStatus {
    /// True for APPLIED and STALE: the book is still in sync.
    #[getter]
    fn ok(&self) -> bool {
        matches!(self, PyBookStatus::APPLIED | PyBookStatus::STALE)
    }
}

/// A local L2 order book with exchange sequence rules.
#[pyclass(name = "OrderBook", module = "hftws")]
pub(crate) struct PyOrderBook {
    book: OrderBook,
    symbol: String,
}

/// Feeds `(price, size)` pairs from a Python iterable into `put`.
#[inline]
fn for_each_level(
    levels: &Bound<'_, PyAny>,
    mut put: impl FnMut(Decimal, Decimal),
) -> PyResult<()> {
    let mut one = |pair: Bound<'_, PyAny>| -> PyResult<()> {
        if let Ok(t) = pair.cast::<PyTuple>() {
            if t.len() == 2 {
                let p = extract_decimal(&*t.get_borrowed_item(0)?)?;
                let s = extract_decimal(&*t.get_borrowed_item(1)?)?;
                put(p, s);
                return Ok(());
            }
        } else if let Ok(l) = pair.cast::<PyList>() {
            if l.len() == 2 {
                let p = extract_decimal(&l.get_item(0)?)?;
                let s = extract_decimal(&l.get_item(1)?)?;
                put(p, s);
                return Ok(());
            }
        }
        Err(PyTypeError::new_err(
            "each level must be a (price, size) pair",
        ))
    };
    if let Ok(list) = levels.cast::<PyList>() {
        for pair in list.iter() {
            one(pair)?;
        }
    } else {
        for pair in levels.try_iter()? {
            one(pair?)?;
        }
    }
    Ok(())
}

fn float_pair(py: Python<'_>, level: Option<(Decimal, Decimal)>) -> PyResult<Py<PyAny>> {
    match level {
        Some((p, s)) => Ok((p.to_f64(), s.to_f64())
            .into_pyobject(py)?
            .into_any()
            .unbind()),
        None => Ok(py.None()),
    }
}

fn decimal_pair(py: Python<'_>, level: Option<(Decimal, Decimal)>) -> PyResult<Py<PyAny>> {
    match level {
        Some((p, s)) => Ok((to_py_decimal(py, p)?, to_py_decimal(py, s)?)
            .into_pyobject(py)?
            .into_any()
            .unbind()),
        None => Ok(py.None()),
    }
}

fn side_floats<'py>(py: Python<'py>, side: &Side, n: usize) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<(f64, f64)> = side
        .iter()
        .take(n)
        .map(|(p, s)| (p.to_f64(), s.to_f64()))
        .collect();
    PyList::new(py, items)
}

fn side_decimals<'py>(py: Python<'py>, side: &Side, n: usize) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (p, s) in side.iter().take(n) {
        list.append((to_py_decimal(py, p)?, to_py_decimal(py, s)?))?;
    }
    Ok(list)
}

fn side_strings<'py>(py: Python<'py>, side: &Side, n: usize) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (p, s) in side.iter().take(n) {
        list.append((to_py_str(py, p), to_py_str(py, s)))?;
    }
    Ok(list)
}

pub(crate) fn parse_rule(rule: &str) -> PyResult<SeqRule> {
    match rule {
        "mexc" => Ok(SeqRule::Mexc),
        "gate" | "gateio" => Ok(SeqRule::Gate),
        "binance" => Ok(SeqRule::BinanceSpot),
        "binance_futures" => Ok(SeqRule::BinanceFutures),
        "kucoin" => Ok(SeqRule::KucoinSpot),
        "kucoin_futures" => Ok(SeqRule::KucoinFutures),
        other => Err(PyValueError::new_err(format!(
            "unknown sequence rule {other:?}: expected 'mexc', 'gate', 'binance', \
             'binance_futures', 'kucoin' or 'kucoin_futures'"
        ))),
    }
}

impl PyOrderBook {
    /// The Rust book, for decoders that stream levels straight into it.
    pub(crate) fn inner_mut(&mut self) -> &mut OrderBook {
        &mut self.book
    }

    /// Offers one push to the book (apply, or hold while it waits for a snapshot); a Gate.io
    /// push must name the book's symbol, if it has one.
    pub(crate) fn offer(&mut self, payload: &[u8]) -> Result<feed::Offer, feed::DepthError> {
        let want = (!self.symbol.is_empty()).then_some(self.symbol.as_str());
        feed::offer(&mut self.book, want, payload)
    }

    /// The core book and the symbol it was created for (decoders apply frames in place).
    pub(crate) fn inner_with_symbol_mut(&mut self) -> (&mut OrderBook, &str) {
        (&mut self.book, &self.symbol)
    }

    /// As [`PyOrderBook::offer`], for the pair the book was registered under.
    pub(crate) fn offer_for(
        &mut self,
        want: &str,
        payload: &[u8],
    ) -> Result<feed::Offer, feed::DepthError> {
        feed::offer(&mut self.book, Some(want), payload)
    }

    /// Whether the book follows MEXC's rules (and so takes MEXC protobuf pushes).
    pub(crate) fn rule_is_mexc(&self) -> bool {
        self.book.rule() == SeqRule::Mexc
    }

    /// The symbol the book was created for.
    pub(crate) fn symbol_str(&self) -> &str {
        &self.symbol
    }

    fn apply_one(
        &mut self,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
        first_seq: u64,
        last_seq: u64,
    ) -> PyResult<Status> {
        self.book.apply_delta(first_seq, last_seq, |w| {
            for_each_level(bids, |p, s| w.bid(p, s))?;
            for_each_level(asks, |p, s| w.ask(p, s))
        })
    }
}

#[pymethods]
impl PyOrderBook {
    #[new]
    #[pyo3(signature = (rule = "gate", max_depth = None, symbol = String::new(), *, hold = 0, hold_bytes = 64 << 20))]
    fn new(
        rule: &str,
        max_depth: Option<usize>,
        symbol: String,
        hold: usize,
        hold_bytes: usize,
    ) -> PyResult<Self> {
        if max_depth == Some(0) {
            return Err(PyValueError::new_err("max_depth must be positive"));
        }
        let mut book = OrderBook::new(parse_rule(rule)?, max_depth);
        book.pending = Pending::new(hold, hold_bytes);
        Ok(Self { book, symbol })
    }

    /// Replaces the book with a REST snapshot whose last change id is `sequence`, then replays
    /// the pushes held while it was fetched (`hold=`). APPLIED: a push bridged the snapshot
    /// and the book is confirmed; STALE: no push has bridged it yet (not in sync until one
    /// does); GAP: the held pushes start after it (fetch a newer one); CROSSED.
    fn load_snapshot(
        &mut self,
        py: Python<'_>,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
        sequence: u64,
    ) -> PyResult<Py<PyBookStatus>> {
        let st = self.book.load_snapshot(sequence, |w| {
            for_each_level(bids, |p, s| w.bid(p, s))?;
            for_each_level(asks, |p, s| w.ask(p, s))
        })?;
        let st = match st {
            Status::Applied => {
                let want = (!self.symbol.is_empty()).then_some(self.symbol.as_str());
                feed::replay(&mut self.book, want)
            }
            other => {
                self.book.pending.clear();
                other
            }
        };
        status_object(py, st)
    }

    /// Applies a delta of absolute sizes covering change ids `first_seq..=last_seq`.
    fn apply(
        &mut self,
        py: Python<'_>,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
        first_seq: u64,
        last_seq: u64,
    ) -> PyResult<Py<PyBookStatus>> {
        let st = self.apply_one(bids, asks, first_seq, last_seq)?;
        status_object(py, st)
    }

    /// Applies `(bids, asks, first_seq, last_seq)` deltas in order, stopping at the first
    /// gap, crossed book or refusal; returns the last status.
    fn apply_many(
        &mut self,
        py: Python<'_>,
        updates: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyBookStatus>> {
        let mut last = Status::Stale;
        let mut one = |u: &Bound<'_, PyAny>| -> PyResult<bool> {
            // The common shape, a 4-tuple, is read in place; anything else goes through extract.
            last = if let Ok(t) = u.cast::<PyTuple>().map_err(PyErr::from).and_then(|t| {
                if t.len() == 4 {
                    Ok(t)
                } else {
                    Err(PyTypeError::new_err(
                        "update must be (bids, asks, first_seq, last_seq)",
                    ))
                }
            }) {
                let first: u64 = t.get_borrowed_item(2)?.extract()?;
                let lastseq: u64 = t.get_borrowed_item(3)?.extract()?;
                self.apply_one(
                    &*t.get_borrowed_item(0)?,
                    &*t.get_borrowed_item(1)?,
                    first,
                    lastseq,
                )?
            } else {
                let (bids, asks, first, lastseq): (Bound<'_, PyAny>, Bound<'_, PyAny>, u64, u64) =
                    u.extract()?;
                self.apply_one(&bids, &asks, first, lastseq)?
            };
            Ok(matches!(last, Status::Applied | Status::Stale))
        };
        if let Ok(list) = updates.cast::<PyList>() {
            for u in list.iter() {
                if !one(&u)? {
                    break;
                }
            }
        } else {
            for u in updates.try_iter()? {
                if !one(&u?)? {
                    break;
                }
            }
        }
        status_object(py, last)
    }

    /// The status a delta covering `first_seq..=last_seq` would get, without applying it.
    fn check(&self, py: Python<'_>, first_seq: u64, last_seq: u64) -> PyResult<Py<PyBookStatus>> {
        status_object(py, self.book.check(first_seq, last_seq))
    }

    /// Best bid as `(price, size)` floats, or None.
    fn best_bid(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        float_pair(py, self.book.bids().best())
    }
    /// Best ask as `(price, size)` floats, or None.
    fn best_ask(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        float_pair(py, self.book.asks().best())
    }
    /// Best bid as exact `(Decimal, Decimal)`, or None.
    fn best_bid_decimal(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        decimal_pair(py, self.book.bids().best())
    }
    /// Best ask as exact `(Decimal, Decimal)`, or None.
    fn best_ask_decimal(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        decimal_pair(py, self.book.asks().best())
    }
    /// `(bid_price, bid_size, ask_price, ask_size)` floats in one call; NaN for an empty side.
    fn bbo(&self) -> (f64, f64, f64, f64) {
        let (bp, bs) = self
            .book
            .bids()
            .best()
            .map_or((f64::NAN, f64::NAN), |(p, s)| (p.to_f64(), s.to_f64()));
        let (ap, az) = self
            .book
            .asks()
            .best()
            .map_or((f64::NAN, f64::NAN), |(p, s)| (p.to_f64(), s.to_f64()));
        (bp, bs, ap, az)
    }
    /// Mid price as a float, or None when a side is empty.
    fn mid(&self) -> Option<f64> {
        let b = self.book.bids().best_price()?;
        let a = self.book.asks().best_price()?;
        Some((b.to_f64() + a.to_f64()) / 2.0)
    }
    /// Best ask minus best bid as an exact Decimal, or None when a side is empty.
    fn spread<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match (self.book.bids().best_price(), self.book.asks().best_price()) {
            (Some(b), Some(a)) => Ok(Some(to_py_decimal(
                py,
                Decimal::from_raw(a.raw() - b.raw()),
            )?)),
            _ => Ok(None),
        }
    }
    /// The `n` best levels per side as float pairs: `(bids, asks)`.
    fn top<'py>(
        &self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        Ok((
            side_floats(py, self.book.bids(), n)?,
            side_floats(py, self.book.asks(), n)?,
        ))
    }
    /// The `n` best levels per side as exact Decimal pairs.
    fn top_decimal<'py>(
        &self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        Ok((
            side_decimals(py, self.book.bids(), n)?,
            side_decimals(py, self.book.asks(), n)?,
        ))
    }
    /// Every level per side as canonical decimal strings, best first (exact export).
    #[pyo3(signature = (n = None))]
    fn depth<'py>(
        &self,
        py: Python<'py>,
        n: Option<usize>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let n = n.unwrap_or(usize::MAX);
        Ok((
            side_strings(py, self.book.bids(), n)?,
            side_strings(py, self.book.asks(), n)?,
        ))
    }
    /// Exact size resting at `price` on `side` ('bid' or 'ask'); zero when absent.
    fn size_at<'py>(
        &self,
        py: Python<'py>,
        side: &str,
        price: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = extract_decimal(price)?;
        let s = match side {
            "bid" | "bids" => self.book.bids().size_at(p),
            "ask" | "asks" => self.book.asks().size_at(p),
            _ => return Err(PyValueError::new_err("side must be 'bid' or 'ask'")),
        };
        to_py_decimal(py, s)
    }

    /// Turns the change journal on or off: while on, every level an applied delta sets (and
    /// every level the depth limit cuts off) is recorded for `BusEncoder.update`.
    fn set_journal(&mut self, on: bool) {
        self.book.set_journal(on);
    }

    /// The journal's entries as `(side, price, size)` strings (None when off); for tests and
    /// tools, the encoder reads the journal without building these.
    fn journal_changes<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let Some(j) = self.book.journal() else {
            return Ok(None);
        };
        let list = PyList::empty(py);
        for c in &j.changes {
            list.append((
                if c.is_bid { "bid" } else { "ask" },
                to_py_str(py, c.price),
                to_py_str(py, c.size),
            ))?;
        }
        Ok(Some(list))
    }

    /// Marks the book out of sync until the next snapshot (after a reconnect, say).
    fn mark_out_of_sync(&mut self) {
        self.book.mark_out_of_sync();
    }
    /// Removes every level and forgets the snapshot.
    fn clear(&mut self) {
        self.book.clear();
    }

    /// Tells the book whether its connection is up with its subscription confirmed; losing
    /// the link also takes it out of sync until the next snapshot.
    fn set_linked(&mut self, linked: bool) {
        self.book.set_linked(linked);
    }

    /// True only when seeded by a snapshot that a stream push has bridged (or that came on
    /// the stream), continuous since, and linked (connection up, subscription confirmed).
    #[getter]
    fn in_sync(&self) -> bool {
        self.book.in_sync()
    }
    /// 'empty', 'unconfirmed' (snapshot not yet bridged by a push), 'unlinked' (connection or
    /// subscription down), 'out_of_sync' or 'synced'.
    #[getter]
    fn state(&self) -> &'static str {
        self.book.phase().name()
    }
    /// Whether the book's connection is up with its subscription confirmed.
    #[getter]
    fn linked(&self) -> bool {
        self.book.linked()
    }
    /// The highest change id any stream push has covered (0: none yet): a REST snapshot with
    /// a higher id is ahead of anything the stream has confirmed.
    #[getter]
    fn stream_sequence(&self) -> u64 {
        self.book.stream_sequence()
    }
    /// Deltas applied since the book was made.
    #[getter]
    fn applied(&self) -> u64 {
        self.book.counts.applied
    }
    /// Pushes held now while the book waits for a snapshot.
    #[getter]
    fn held(&self) -> usize {
        self.book.pending.len()
    }
    /// Last applied change id.
    #[getter]
    fn sequence(&self) -> u64 {
        self.book.sequence()
    }
    /// The instrument name given at construction.
    #[getter]
    fn symbol(&self) -> &str {
        &self.symbol
    }
    /// 'mexc', 'gate', 'binance', 'binance_futures', 'kucoin' or 'kucoin_futures'.
    #[getter]
    fn rule(&self) -> &'static str {
        match self.book.rule() {
            SeqRule::Mexc => "mexc",
            SeqRule::Gate => "gate",
            SeqRule::BinanceSpot => "binance",
            SeqRule::BinanceFutures => "binance_futures",
            SeqRule::KucoinSpot => "kucoin",
            SeqRule::KucoinFutures => "kucoin_futures",
        }
    }
    /// Levels kept per side, or None.
    #[getter]
    fn max_depth(&self) -> Option<usize> {
        self.book.max_depth()
    }
    /// Number of bid levels.
    #[getter]
    fn bid_count(&self) -> usize {
        self.book.bids().len()
    }
    /// Number of ask levels.
    #[getter]
    fn ask_count(&self) -> usize {
        self.book.asks().len()
    }
    /// True when the last applied update changed the best bid or ask level.
    #[getter]
    fn top_changed(&self) -> bool {
        self.book.top_changed()
    }
    /// Counters: applied, stale, gaps, crossed, refused, snapshots.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = self.book.counts;
        let d = PyDict::new(py);
        d.set_item("applied", c.applied)?;
        d.set_item("stale", c.stale)?;
        d.set_item("gaps", c.gaps)?;
        d.set_item("crossed", c.crossed)?;
        d.set_item("refused", c.refused)?;
        d.set_item("snapshots", c.snapshots)?;
        d.set_item("held", self.book.pending.buffered)?;
        d.set_item("held_dropped", self.book.pending.dropped)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let fmt = |l: Option<(Decimal, Decimal)>| {
            l.map_or_else(|| "-".to_owned(), |(p, s)| format!("{s}@{p}"))
        };
        format!(
            "OrderBook(symbol={:?}, rule={}, state={}, seq={}, bid={}, ask={}, levels={}/{})",
            self.symbol,
            self.rule(),
            self.state(),
            self.book.sequence(),
            fmt(self.book.bids().best()),
            fmt(self.book.asks().best()),
            self.book.bids().len(),
            self.book.asks().len(),
        )
    }
}
