//! `hftws.NativeFeed` and `hftws.NativeBook`: the native I/O mode's binding
//! (`crate::native`).
//!
//! A `NativeFeed` owns a worker thread that reads one connection and keeps its books outside
//! the GIL. A `NativeBook` reads what the worker published for one book (a sequence-locked
//! copy: never a lock the worker waits on) and forwards the few writes Python makes
//! (snapshot, link, forced resync) to the worker as commands, waiting for the answer with
//! the GIL released. It has the reader API of `OrderBook`, cut to the published top levels.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

use super::book::{parse_rule, status_object, PyBookStatus};
use super::convert::{extract_decimal, to_py_decimal, to_py_str};
use super::errors::HftwsError;
use super::pipeline::event_item;
use crate::book::{OrderBook, Pending, SeqRule, Status};
use crate::decimal::Decimal;
use crate::native::conn::parse_url;
use crate::native::dispatch::{Exchange, EXCHANGE_NAMES};
use crate::native::queue::{lock, Item};
use crate::native::tls::client_config;
use crate::native::view::{BookState, BookView, DEFAULT_TOP};
use crate::native::worker::{Command, Commander, Config, Emit, Handle, Level, Shared};
use crate::ws::DEFAULT_MAX_MESSAGE_SIZE;

/// Seqlock attempts before a reader gives up (the writer publishes in well under a
/// microsecond, so this many collisions in a row means something is wrong).
const READ_ATTEMPTS: u32 = 10_000;
/// How long a command that answers (snapshot, link) may wait for the worker.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

fn secs(name: &str, v: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(v).map_err(|_| {
        PyValueError::new_err(format!("{name} must be a non-negative number of seconds"))
    })
}

/// What the feed and its books share on the Python side.
struct FeedCore {
    exchange: Exchange,
    commander: Commander,
    /// The connection whose `("up", epoch)` item Python handled last: links are for it.
    epoch: AtomicU64,
    /// The worker's state (is a connection up).
    shared: Arc<Shared>,
}

impl FeedCore {
    /// No connection: the worker has unlinked every book already and may be blocked in a
    /// connect, so unlinking commands are sent without waiting for the answer.
    fn offline(&self) -> bool {
        !self.shared.connected.load(Ordering::SeqCst)
    }
}

/// One book kept by a `NativeFeed`'s worker: the published state and the commands.
#[pyclass(frozen, name = "NativeBook", module = "hftws")]
pub(crate) struct PyNativeBook {
    id: u32,
    symbol: String,
    rule: &'static str,
    max_depth: Option<usize>,
    view: Arc<BookView>,
    core: Arc<FeedCore>,
    /// Whether the updates behind the notification being handled changed the best level.
    top_seen: std::sync::atomic::AtomicBool,
}

fn float_pair(py: Python<'_>, level: Option<&(Decimal, Decimal)>) -> PyResult<Py<PyAny>> {
    match level {
        Some((p, s)) => (p.to_f64(), s.to_f64()).into_py_any(py),
        None => Ok(py.None()),
    }
}

fn decimal_pair(py: Python<'_>, level: Option<&(Decimal, Decimal)>) -> PyResult<Py<PyAny>> {
    match level {
        Some(&(p, s)) => (to_py_decimal(py, p)?, to_py_decimal(py, s)?).into_py_any(py),
        None => Ok(py.None()),
    }
}

/// `(price, size)` pairs from a Python iterable of 2-sequences.
fn levels_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Level>> {
    let mut out = Vec::new();
    for pair in obj.try_iter()? {
        let pair = pair?;
        let ok = pair.len().is_ok_and(|n| n == 2);
        if !ok || pair.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "each level must be a (price, size) pair",
            ));
        }
        let p = extract_decimal(&pair.get_item(0)?)?;
        let s = extract_decimal(&pair.get_item(1)?)?;
        out.push((p, s));
    }
    Ok(out)
}

impl PyNativeBook {
    fn state(&self, levels: usize) -> PyResult<BookState> {
        self.view.read(levels, READ_ATTEMPTS).map_err(|_| {
            HftwsError::new_err(format!(
                "{} {}: no consistent read of the published book in {READ_ATTEMPTS} attempts",
                self.core.exchange.name(),
                self.symbol
            ))
        })
    }

    fn send(&self, cmd: Command) -> PyResult<()> {
        self.core.commander.send(cmd).map_err(|_| {
            HftwsError::new_err(format!(
                "{} {}: the native feed is closed",
                self.core.exchange.name(),
                self.symbol
            ))
        })
    }

    /// Waits for the worker's answer with the GIL released.
    fn wait<T: Send>(&self, py: Python<'_>, rx: Receiver<T>, what: &str) -> PyResult<T> {
        py.detach(move || rx.recv_timeout(REPLY_TIMEOUT))
            .map_err(|_| {
                HftwsError::new_err(format!(
                    "{} {}: the native worker did not answer {what} within {}s",
                    self.core.exchange.name(),
                    self.symbol,
                    REPLY_TIMEOUT.as_secs()
                ))
            })
    }

    fn side_list<'py>(
        py: Python<'py>,
        side: &[(Decimal, Decimal)],
        as_: fn(Python<'py>, Decimal) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for &(p, s) in side {
            list.append((as_(py, p)?, as_(py, s)?))?;
        }
        Ok(list)
    }
}

fn py_float(py: Python<'_>, d: Decimal) -> PyResult<Bound<'_, PyAny>> {
    d.to_f64().into_bound_py_any(py)
}

fn py_str(py: Python<'_>, d: Decimal) -> PyResult<Bound<'_, PyAny>> {
    Ok(to_py_str(py, d).into_any())
}

#[pymethods]
impl PyNativeBook {
    /// True only when the worker's book is in sync (snapshot bridged, continuous, linked).
    #[getter]
    fn in_sync(&self) -> PyResult<bool> {
        Ok(self.state(0)?.in_sync())
    }
    /// The phase name, as `OrderBook.state`.
    #[getter]
    fn get_state(&self) -> PyResult<&'static str> {
        Ok(self
            .state(0)?
            .phase
            .map_or("empty", crate::book::Phase::name))
    }
    #[getter]
    fn linked(&self) -> PyResult<bool> {
        Ok(self.state(0)?.linked)
    }
    #[getter]
    fn sequence(&self) -> PyResult<u64> {
        Ok(self.state(0)?.sequence)
    }
    #[getter]
    fn stream_sequence(&self) -> PyResult<u64> {
        Ok(self.state(0)?.stream_sequence)
    }
    #[getter]
    fn applied(&self) -> PyResult<u64> {
        Ok(self.state(0)?.applied)
    }
    #[getter]
    fn held(&self) -> PyResult<u64> {
        Ok(self.state(0)?.held)
    }
    #[getter]
    fn bid_count(&self) -> PyResult<u64> {
        Ok(self.state(0)?.bid_count)
    }
    #[getter]
    fn ask_count(&self) -> PyResult<u64> {
        Ok(self.state(0)?.ask_count)
    }
    /// While an `APPLIED` notification is handled: whether any update it stands for changed
    /// the best bid or ask (they coalesce while one waits).
    #[getter]
    fn top_changed(&self) -> bool {
        self.top_seen.load(Ordering::SeqCst)
    }
    /// `CLOCK_MONOTONIC` ns (as `time.monotonic_ns()`) of the socket read that carried the
    /// last applied update (0 before any).
    #[getter]
    fn read_ns(&self) -> PyResult<u64> {
        Ok(self.state(0)?.read_ns)
    }
    /// `CLOCK_MONOTONIC` ns when the worker applied that update.
    #[getter]
    fn applied_ns(&self) -> PyResult<u64> {
        Ok(self.state(0)?.applied_ns)
    }
    #[getter]
    fn symbol(&self) -> &str {
        &self.symbol
    }
    #[getter]
    fn rule(&self) -> &'static str {
        self.rule
    }
    #[getter]
    fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }
    /// Levels per side the worker publishes (`top(n)`/`depth(n)` return at most this many).
    #[getter]
    fn published_levels(&self) -> usize {
        self.view.top()
    }
    /// Counters, as `OrderBook.counts`.
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.state(0)?;
        let d = PyDict::new(py);
        d.set_item("applied", st.applied)?;
        d.set_item("stale", st.stale)?;
        d.set_item("gaps", st.gaps)?;
        d.set_item("crossed", st.crossed)?;
        d.set_item("refused", st.refused)?;
        d.set_item("snapshots", st.snapshots)?;
        Ok(d)
    }
    fn best_bid(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        float_pair(py, self.state(1)?.bids.first())
    }
    fn best_ask(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        float_pair(py, self.state(1)?.asks.first())
    }
    fn best_bid_decimal(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        decimal_pair(py, self.state(1)?.bids.first())
    }
    fn best_ask_decimal(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        decimal_pair(py, self.state(1)?.asks.first())
    }
    /// `(bid_price, bid_size, ask_price, ask_size)` from one consistent read; NaN for an
    /// empty side.
    fn bbo(&self) -> PyResult<(f64, f64, f64, f64)> {
        let st = self.state(1)?;
        let f = |l: Option<&(Decimal, Decimal)>| {
            l.map_or((f64::NAN, f64::NAN), |(p, s)| (p.to_f64(), s.to_f64()))
        };
        let ((bp, bs), (ap, az)) = (f(st.bids.first()), f(st.asks.first()));
        Ok((bp, bs, ap, az))
    }
    fn mid(&self) -> PyResult<Option<f64>> {
        let st = self.state(1)?;
        Ok(match (st.bids.first(), st.asks.first()) {
            (Some(b), Some(a)) => Some((b.0.to_f64() + a.0.to_f64()) / 2.0),
            _ => None,
        })
    }
    fn spread<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let st = self.state(1)?;
        match (st.bids.first(), st.asks.first()) {
            (Some(b), Some(a)) => Ok(Some(to_py_decimal(
                py,
                Decimal::from_raw(a.0.raw() - b.0.raw()),
            )?)),
            _ => Ok(None),
        }
    }
    /// The `n` best published levels per side as float pairs, from one consistent read.
    fn top<'py>(
        &self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let st = self.state(n)?;
        Ok((
            Self::side_list(py, &st.bids, py_float)?,
            Self::side_list(py, &st.asks, py_float)?,
        ))
    }
    fn top_decimal<'py>(
        &self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let st = self.state(n)?;
        Ok((
            Self::side_list(py, &st.bids, to_py_decimal)?,
            Self::side_list(py, &st.asks, to_py_decimal)?,
        ))
    }
    /// The published levels (at most `published_levels`, or `n`) as decimal strings.
    #[pyo3(signature = (n = None))]
    fn depth<'py>(
        &self,
        py: Python<'py>,
        n: Option<usize>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let st = self.state(n.unwrap_or(usize::MAX))?;
        Ok((
            Self::side_list(py, &st.bids, py_str)?,
            Self::side_list(py, &st.asks, py_str)?,
        ))
    }
    /// Everything published, from one consistent read, as a dict (levels as strings).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.state(usize::MAX)?;
        let d = PyDict::new(py);
        d.set_item("state", st.phase.map_or("empty", crate::book::Phase::name))?;
        d.set_item("in_sync", st.in_sync())?;
        d.set_item("sequence", st.sequence)?;
        d.set_item("applied", st.applied)?;
        d.set_item("read_ns", st.read_ns)?;
        d.set_item("applied_ns", st.applied_ns)?;
        d.set_item("bids", Self::side_list(py, &st.bids, py_str)?)?;
        d.set_item("asks", Self::side_list(py, &st.asks, py_str)?)?;
        Ok(d)
    }

    /// Loads a REST snapshot on the worker and replays the held pushes (the rules of
    /// `OrderBook.load_snapshot`); waits for the status with the GIL released.
    fn load_snapshot(
        &self,
        py: Python<'_>,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
        sequence: u64,
    ) -> PyResult<Py<PyBookStatus>> {
        let (bids, asks) = (levels_of(bids)?, levels_of(asks)?);
        let (reply, rx) = sync_channel(1);
        self.send(Command::Snapshot {
            id: self.id,
            last_id: sequence,
            bids,
            asks,
            reply,
        })?;
        match self.wait(py, rx, "a snapshot")? {
            Some(st) => status_object(py, st),
            None => Err(HftwsError::new_err(format!(
                "{} {}: the book is no longer registered",
                self.core.exchange.name(),
                self.symbol
            ))),
        }
    }

    /// Links (the subscription was confirmed on the connection Python last saw come up) or
    /// unlinks the book; returns whether the worker did so (a link for a connection that is
    /// already gone is refused).
    fn set_linked(&self, py: Python<'_>, linked: bool) -> PyResult<bool> {
        if self.core.offline() {
            if linked {
                return Ok(false); // the worker would refuse it: no connection to link to
            }
            let (reply, _) = sync_channel(1);
            let epoch = 0;
            self.send(Command::SetLinked {
                id: self.id,
                linked,
                epoch,
                reply,
            })?;
            return Ok(true);
        }
        let (reply, rx) = sync_channel(1);
        self.send(Command::SetLinked {
            id: self.id,
            linked,
            epoch: self.core.epoch.load(Ordering::SeqCst),
            reply,
        })?;
        self.wait(py, rx, "a link change")
    }

    /// Which applied updates notify Python (`("book", self, APPLIED)` items, at most one
    /// waiting per book): none (`emit=False`), those that changed the best bid or ask
    /// (`top_only=True`) or all. Sync changes always do.
    #[pyo3(signature = (emit, top_only = false))]
    fn set_emit(&self, emit: bool, top_only: bool) -> PyResult<()> {
        let emit = match (emit, top_only) {
            (false, _) => Emit::Changes,
            (true, true) => Emit::Top,
            (true, false) => Emit::All,
        };
        self.send(Command::SetEmit { id: self.id, emit })
    }

    /// Takes the book out of sync at once (waits until the worker has done it).
    fn mark_out_of_sync(&self, py: Python<'_>) -> PyResult<()> {
        let (reply, rx) = sync_channel(1);
        self.send(Command::MarkOutOfSync { id: self.id, reply })?;
        if self.core.offline() {
            return Ok(()); // already out of sync (unlinked); done when the worker gets to it
        }
        self.wait(py, rx, "a resync")
    }

    fn __repr__(&self) -> PyResult<String> {
        let st = self.state(0)?;
        Ok(format!(
            "NativeBook({} {}, {}, seq={})",
            self.core.exchange.name(),
            self.symbol,
            st.phase.map_or("empty", crate::book::Phase::name),
            st.sequence
        ))
    }
}

fn rule_name(rule: SeqRule) -> &'static str {
    match rule {
        SeqRule::Mexc => "mexc",
        SeqRule::Gate => "gate",
        SeqRule::BinanceSpot => "binance",
        SeqRule::BinanceFutures => "binance_futures",
        SeqRule::KucoinSpot => "kucoin",
        SeqRule::KucoinFutures => "kucoin_futures",
    }
}

/// One connection read by a native worker thread.
#[pyclass(name = "NativeFeed", module = "hftws")]
pub(crate) struct PyNativeFeed {
    handle: Option<Handle>,
    shared: Arc<crate::native::worker::Shared>,
    core: Arc<FeedCore>,
    /// Python's end of the wake-up pair (readable when the queue went non-empty).
    wake: UnixStream,
    books: Vec<Py<PyNativeBook>>,
    next_id: u32,
    url: String,
}

impl PyNativeFeed {
    fn book_by_id(&self, py: Python<'_>, id: u32) -> Option<Py<PyNativeBook>> {
        self.books
            .iter()
            .find(|b| b.get().id == id)
            .map(|b| b.clone_ref(py))
    }

    fn closed_error(&self) -> PyErr {
        HftwsError::new_err(format!(
            "{} {}: the native feed is closed",
            self.core.exchange.name(),
            self.url
        ))
    }

    fn send(&self, cmd: Command) -> PyResult<()> {
        match &self.handle {
            Some(h) => h.command(cmd).map_err(|_| self.closed_error()),
            None => Err(self.closed_error()),
        }
    }
}

#[pymethods]
impl PyNativeFeed {
    /// Starts the worker: it connects to `url` (ws:// or wss://) at once and reconnects
    /// forever. `ca_file`: a PEM bundle trusted for wss:// instead of the built-in Mozilla
    /// roots (a private CA); certificates and host names are always verified.
    #[new]
    #[pyo3(signature = (
        exchange, url, *, headers = Vec::new(), compression = false,
        max_message_size = DEFAULT_MAX_MESSAGE_SIZE, connect_timeout = 10.0,
        idle_timeout = None, reconnect_initial = 0.5, reconnect_max = 30.0,
        reconnect_reset_after = 60.0, queue_capacity = 65_536, trace = 0, fresh_url = false,
        greeting_timeout = None, ca_file = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        exchange: &str,
        url: &str,
        headers: Vec<(String, String)>,
        compression: bool,
        max_message_size: usize,
        connect_timeout: f64,
        idle_timeout: Option<f64>,
        reconnect_initial: f64,
        reconnect_max: f64,
        reconnect_reset_after: f64,
        queue_capacity: usize,
        trace: usize,
        fresh_url: bool,
        greeting_timeout: Option<f64>,
        ca_file: Option<std::path::PathBuf>,
    ) -> PyResult<Self> {
        let ex = Exchange::parse(exchange).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown exchange {exchange:?}: use {EXCHANGE_NAMES}"
            ))
        })?;
        let parsed = parse_url(url).map_err(|e| HftwsError::new_err(format!("{exchange}: {e}")))?;
        if max_message_size == 0 || queue_capacity == 0 {
            return Err(PyValueError::new_err(
                "max_message_size and queue_capacity must be positive",
            ));
        }
        let ca_file = ca_file.map(|p| p.to_string_lossy().into_owned());
        let tls = client_config(ca_file.as_deref())
            .map_err(|e| HftwsError::new_err(format!("{exchange}: {e}")))?;
        let config = Config {
            exchange: ex,
            url: parsed,
            tls,
            headers,
            compression,
            max_message_size,
            connect_timeout: secs("connect_timeout", connect_timeout)?,
            idle_timeout: idle_timeout.map(|s| secs("idle_timeout", s)).transpose()?,
            reconnect_initial: secs("reconnect_initial", reconnect_initial)?,
            reconnect_max: secs("reconnect_max", reconnect_max)?,
            reconnect_reset_after: secs("reconnect_reset_after", reconnect_reset_after)?,
            trace,
            fresh_url,
            greeting_timeout: greeting_timeout
                .map(|s| secs("greeting_timeout", s))
                .transpose()?,
        };
        let io = |e: std::io::Error| HftwsError::new_err(format!("{exchange}: native feed: {e}"));
        let (worker_wake, wake) = UnixStream::pair().map_err(io)?;
        worker_wake.set_nonblocking(true).map_err(io)?;
        wake.set_nonblocking(true).map_err(io)?;
        let shared = Arc::new(Shared::new(queue_capacity, Some(worker_wake), trace));
        let handle = Handle::spawn(config, Arc::clone(&shared)).map_err(io)?;
        let core = Arc::new(FeedCore {
            exchange: ex,
            commander: handle.commander().map_err(io)?,
            epoch: AtomicU64::new(0),
            shared: Arc::clone(&shared),
        });
        Ok(Self {
            handle: Some(handle),
            shared,
            core,
            wake,
            books: Vec::new(),
            next_id: 1,
            url: url.to_owned(),
        })
    }

    /// Registers a book for `symbol` (unlinked: it waits for its subscription and snapshot);
    /// the worker publishes its `top` best levels per side after every read that changed it.
    #[pyo3(signature = (symbol, rule, *, max_depth = None, hold = 20_000, hold_bytes = 64 << 20, top = DEFAULT_TOP))]
    #[allow(clippy::too_many_arguments)] // the Python keyword arguments
    fn add_book(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        rule: &str,
        max_depth: Option<usize>,
        hold: usize,
        hold_bytes: usize,
        top: usize,
    ) -> PyResult<Py<PyNativeBook>> {
        if max_depth == Some(0) || top == 0 {
            return Err(PyValueError::new_err("max_depth and top must be positive"));
        }
        let seq_rule = parse_rule(rule)?;
        let mut book = OrderBook::new(seq_rule, max_depth);
        book.pending = Pending::new(hold, hold_bytes);
        book.set_linked(false);
        let view = Arc::new(BookView::new(top));
        view.publish(&book, 0, 0);
        let id = self.next_id;
        self.next_id += 1;
        self.send(Command::AddBook {
            id,
            symbol: symbol.to_owned(),
            book: Box::new(book),
            view: Arc::clone(&view),
        })?;
        let obj = Py::new(
            py,
            PyNativeBook {
                id,
                symbol: symbol.to_owned(),
                rule: rule_name(seq_rule),
                max_depth,
                view,
                core: Arc::clone(&self.core),
                top_seen: std::sync::atomic::AtomicBool::new(false),
            },
        )?;
        self.books.retain(|b| b.get().symbol != symbol);
        self.books.push(obj.clone_ref(py));
        Ok(obj)
    }

    /// Stops feeding the book of `symbol`; returns whether one was registered.
    fn remove_book(&mut self, symbol: &str) -> PyResult<bool> {
        let Some(i) = self.books.iter().position(|b| b.get().symbol == symbol) else {
            return Ok(false);
        };
        let b = self.books.remove(i);
        self.send(Command::RemoveBook { id: b.get().id })?;
        Ok(true)
    }

    /// Sends `text` now and again after every reconnect (until `unsubscribe(key, ...)`).
    fn subscribe(&self, key: String, text: String) -> PyResult<()> {
        self.send(Command::Subscribe { key, text })
    }

    /// Forgets the subscription `key` and sends `text` (its unsubscribe frame).
    fn unsubscribe(&self, key: String, text: String) -> PyResult<()> {
        self.send(Command::Unsubscribe { key, text })
    }

    /// The URL of the next connection (feeds made with `fresh_url=True` wait for one after
    /// each connection: KuCoin's URL carries a one-use token).
    fn set_url(&self, url: &str) -> PyResult<()> {
        let parsed = parse_url(url)
            .map_err(|e| HftwsError::new_err(format!("{}: {e}", self.core.exchange.name())))?;
        self.send(Command::SetUrl { url: parsed })
    }

    /// Sends a text frame now if connected (application-level pings).
    fn send_text(&self, text: String) -> PyResult<()> {
        self.send(Command::Send { text })
    }

    /// Python handled the `("up", epoch)` item: link commands are for that connection.
    fn confirm_epoch(&self, epoch: u64) {
        self.core.epoch.store(epoch, Ordering::SeqCst);
    }

    /// The file descriptor that becomes readable when items wait (`loop.add_reader`).
    fn fileno(&self) -> i32 {
        self.wake.as_raw_fd()
    }

    /// Every waiting item, in order, as tuples: `("events", [event, ...], recv_ns)` for a run
    /// of data messages (typed events, decoded here by the exchange decoder; the raw payload
    /// when it refuses one), `("book", NativeBook, BookStatus)`, `("up", epoch, None)`,
    /// `("down", reason, None)`, `("dead", reason, None)`.
    fn drain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        use std::io::Read;
        let mut sink = [0u8; 256];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
        let items = self.shared.queue.drain();
        let out = PyList::empty(py);
        let mut run: Option<(Bound<'py, PyList>, u64)> = None;
        let ex = self.core.exchange;
        for item in items {
            if let Item::Data {
                opcode,
                payload,
                recv_ns,
            } = item
            {
                let ev = event_item(py, ex, opcode, &payload)?;
                match &run {
                    Some((list, _)) => list.append(ev)?,
                    None => {
                        let list = PyList::empty(py);
                        list.append(ev)?;
                        run = Some((list, recv_ns));
                    }
                }
                continue;
            }
            if let Some((list, ns)) = run.take() {
                out.append(PyTuple::new(
                    py,
                    [
                        pyo3::intern!(py, "events").clone().into_any(),
                        list.into_any(),
                        ns.into_bound_py_any(py)?,
                    ],
                )?)?;
            }
            let tuple = match item {
                Item::Book { id, status } => match self.book_by_id(py, id) {
                    Some(book) => {
                        if status == Status::Applied {
                            // Taken: the next applied update may notify again.
                            let b = book.get();
                            b.view.notified.store(false, Ordering::SeqCst);
                            let top = b.view.top_since.swap(false, Ordering::SeqCst);
                            b.top_seen.store(top, Ordering::SeqCst);
                        }
                        (
                            "book",
                            book.into_any(),
                            status_object(py, status)?.into_any(),
                        )
                    }
                    None => continue,
                },
                Item::Up { epoch } => ("up", epoch.into_py_any(py)?, py.None()),
                Item::Down { reason } => ("down", reason.into_py_any(py)?, py.None()),
                Item::Dead { reason } => ("dead", reason.into_py_any(py)?, py.None()),
                Item::Data { .. } => continue,
            };
            out.append(tuple)?;
        }
        if let Some((list, ns)) = run.take() {
            out.append(("events", list, ns))?;
        }
        Ok(out)
    }

    /// Stops the worker and joins it within `timeout` seconds; False if it did not end in
    /// time. The books stay readable (out of sync).
    #[pyo3(signature = (timeout = 2.0))]
    fn close(&mut self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let t = secs("timeout", timeout)?;
        let Some(mut h) = self.handle.take() else {
            return Ok(true);
        };
        Ok(py.detach(move || h.stop(t)))
    }

    #[getter]
    fn exchange(&self) -> &'static str {
        self.core.exchange.name()
    }
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }
    /// A connection is up.
    #[getter]
    fn connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }
    /// Connections opened so far.
    #[getter]
    fn epoch(&self) -> u64 {
        self.shared.epoch.load(Ordering::SeqCst)
    }
    /// False once closed or dead.
    #[getter]
    fn running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.finished())
    }
    /// Why the worker died (None while it runs or after a clean close).
    #[getter]
    fn dead(&self) -> Option<String> {
        lock(&self.shared.dead).clone()
    }
    /// The last reason a connection was lost or could not be opened.
    #[getter]
    fn last_error(&self) -> Option<String> {
        lock(&self.shared.last_error).clone()
    }
    /// The registered books.
    #[getter]
    fn books(&self, py: Python<'_>) -> Vec<Py<PyNativeBook>> {
        self.books.iter().map(|b| b.clone_ref(py)).collect()
    }

    /// The worker's counters and the read -> applied latency of depth updates (ns).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (c, h) = {
            let st = lock(&self.shared.stats);
            (st.counts, st.read_to_applied.clone())
        };
        let d = PyDict::new(py);
        d.set_item("reads", c.reads)?;
        d.set_item("bytes", c.bytes)?;
        d.set_item("messages", c.messages)?;
        d.set_item("depth", c.depth)?;
        d.set_item("queued", c.queued)?;
        d.set_item("dropped", self.shared.queue.dropped.load(Ordering::Relaxed))?;
        d.set_item("waiting", self.shared.queue.len())?;
        d.set_item("connects", c.connects)?;
        d.set_item("disconnects", c.disconnects)?;
        d.set_item("reconnects", c.connects.saturating_sub(1))?;
        d.set_item("pings", c.pings)?;
        d.set_item("commands", c.commands)?;
        let lat = PyDict::new(py);
        lat.set_item("count", h.count())?;
        lat.set_item("p50", h.quantile(0.5))?;
        lat.set_item("p99", h.quantile(0.99))?;
        lat.set_item("p999", h.quantile(0.999))?;
        lat.set_item("max", h.max())?;
        lat.set_item("mean", h.mean())?;
        d.set_item("read_to_applied_ns", lat)?;
        Ok(d)
    }

    /// The trace ring (`trace=` entries): `(symbol, update_id, read_ns, applied_ns)` per
    /// applied depth update, oldest first.
    fn trace(&self) -> Vec<(String, u64, u64, u64)> {
        let entries = lock(&self.shared.trace).entries();
        let names: Vec<(u32, String)> = self
            .books
            .iter()
            .map(|b| (b.get().id, b.get().symbol.clone()))
            .collect();
        entries
            .into_iter()
            .map(|(id, seq, r, a)| {
                let name = names
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map_or_else(String::new, |(_, n)| n.clone());
                (name, seq, r, a)
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeFeed({} {}, {})",
            self.core.exchange.name(),
            self.url,
            if self.connected() {
                "connected"
            } else {
                "not connected"
            }
        )
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        for b in &self.books {
            visit.call(b)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.books.clear();
    }
}
