//! `hftws.Router`: a whole socket read's events routed to their callbacks in one native call.
//!
//! The message handler (`python/hftws/handlers/base.py`) registers, per message type, the
//! callables that receive it (library listeners first, then user callbacks and `async for`);
//! `dispatch(events, recv_ns)` then does for every event of a read what the Python loop did:
//! the event's `kind` names its route (one dict lookup on the kind string, which the Gate.io
//! and MEXC getters return interned), the route's callables are called in order, the per-type
//! count goes up, and the stage latencies are recorded once for the whole read. Nothing on
//! that path runs Python code of the library.
//!
//! Semantics kept from the Python loop:
//! - a user callback that raises an `Exception` is counted and logged (`on_raise(callback,
//!   exc)`) and the read goes on; a library listener that raises, or a callback raising a
//!   `BaseException` that is not an `Exception` (KeyboardInterrupt, SystemExit,
//!   CancelledError), stops the read;
//! - a callback's result that is not None goes to `schedule` (coroutines become tasks);
//! - events of a batch type (MEXC trades and book-ticker pushes) reach their route one item
//!   per call; items without a `kind` (raw payloads the decoder refused, list results) go to
//!   `fallback(item, recv_ns)`, the handler's per-message template method;
//! - `convert` (private handlers) maps each event before delivery; an `HftwsError` from it is
//!   reported with `on_error(exc)` and the event skipped.
//!
//! With a batch callback, the routed events of a read (after fan-out and conversion) are also
//! handed over as one list, after the per-event callbacks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use super::errors::HftwsError;
use super::metrics::PyHistogram;

/// Interned kind strings, one per distinct `&'static str` (a few dozen in all).
static KIND_STRINGS: Mutex<Vec<(&'static str, Py<PyString>)>> = Mutex::new(Vec::new());

/// The interned Python string for an event kind the core names with a `&'static str` (enum
/// names, not literals `intern!` could cache): a getter returning it builds no new string
/// per call, and the router's kind lookup meets an object whose hash is already known.
pub(crate) fn kind_object<'py>(py: Python<'py>, kind: &'static str) -> Bound<'py, PyString> {
    let mut cache = KIND_STRINGS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, s)) = cache
        .iter()
        .find(|(k, _)| std::ptr::eq(*k, kind) || *k == kind)
    {
        return s.bind(py).clone();
    }
    let s = PyString::intern(py, kind);
    cache.push((kind, s.clone().unbind()));
    s
}

/// Route slots per router (message types: 14 today).
const MAX_ROUTES: usize = 32;

/// Who receives the events of one message type.
struct Route {
    /// Library listeners: called first; an exception from one propagates.
    internal: Vec<Py<PyAny>>,
    /// User callbacks (and `async for`): exceptions counted, the read goes on.
    user: Vec<Py<PyAny>>,
    /// Whether the type is one the handler delivers to users (goes into batches).
    routed: bool,
}

/// `(internal, user, routed)` of one route, as `configure` takes it from Python.
type RouteSpec = (Vec<Py<PyAny>>, Vec<Py<PyAny>>, bool);

/// Every callable the router calls. Dispatch works on a snapshot (`Arc`), so a callback that
/// registers or removes another never meets a borrowed router; `__clear__` drops it whole,
/// which breaks the handler -> router -> bound method -> handler cycle.
struct Table {
    routes: Vec<Route>,
    convert: Option<Py<PyAny>>,
    batch: Option<Py<PyAny>>,
    batch_types: Vec<Py<PyType>>,
    fallback: Py<PyAny>,
    on_raise: Py<PyAny>,
    on_error: Py<PyAny>,
    schedule: Py<PyAny>,
}

/// Converts between `time.monotonic_ns()` readings and `Instant`s: both are CLOCK_MONOTONIC
/// on Linux, so one pairing at construction is enough.
#[derive(Clone, Copy)]
struct Clock {
    base_ns: i64,
    base: Instant,
}

impl Clock {
    fn new(py: Python<'_>) -> PyResult<Self> {
        let monotonic_ns = py.import("time")?.getattr("monotonic_ns")?;
        let before = Instant::now();
        let base_ns: i64 = monotonic_ns.call0()?.extract()?;
        // The Python reading was taken between the two: pair it with their midpoint.
        let base = before + before.elapsed() / 2;
        Ok(Self { base_ns, base })
    }

    #[inline]
    fn now_ns(&self) -> i64 {
        let elapsed = i64::try_from(self.base.elapsed().as_nanos()).unwrap_or(i64::MAX);
        self.base_ns.saturating_add(elapsed)
    }
}

/// Native router of one message handler.
#[pyclass(name = "Router", module = "hftws")]
pub(crate) struct PyRouter {
    /// kind string -> route index (a Python dict: the kind's cached hash, pointer equality).
    kinds: Py<PyDict>,
    /// Route keys (the handler's `MessageType` members), by index.
    keys: Vec<Py<PyAny>>,
    unknown: usize,
    hists: [Py<PyHistogram>; 3],
    table: Option<Arc<Table>>,
    counts: [u64; MAX_ROUTES],
    reads: u64,
    clock: Clock,
}

/// The per-read context, taken out of the router so that callbacks can use the router.
struct Ctx<'a, 'py> {
    py: Python<'py>,
    table: &'a Table,
    kinds: Bound<'py, PyDict>,
    unknown: usize,
    batch: Option<Bound<'py, PyList>>,
    counts: [u64; MAX_ROUTES],
    /// Whether an event of the read was typed (then the `dispatch` stage is recorded).
    typed: bool,
}

impl<'py> Ctx<'_, 'py> {
    /// The route of an event with a `kind`, or None for items the template method takes.
    fn route_of(&self, event: &Bound<'py, PyAny>) -> PyResult<Option<usize>> {
        // Raw payloads and list results have no kind: no attribute lookup (and no
        // AttributeError) for them.
        if event.is_exact_instance_of::<PyBytes>()
            || event.is_exact_instance_of::<PyString>()
            || event.is_exact_instance_of::<PyTuple>()
        {
            return Ok(None);
        }
        let Ok(kind) = event.getattr(pyo3::intern!(self.py, "kind")) else {
            return Ok(None);
        };
        if !kind.is_exact_instance_of::<PyString>() {
            return Ok(None);
        }
        Ok(Some(match self.kinds.get_item(&kind)? {
            Some(i) => i.extract()?,
            None => self.unknown,
        }))
    }

    fn is_batch(&self, event: &Bound<'py, PyAny>) -> bool {
        let ty = event.get_type();
        self.table.batch_types.iter().any(|t| ty.is(t))
    }

    /// Calls a user callable; a raise is reported and swallowed, a result scheduled.
    fn call_user(&self, cb: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>) -> PyResult<()> {
        match cb.call1((arg,)) {
            Ok(r) => {
                if !r.is_none() {
                    self.table.schedule.bind(self.py).call1((r,))?;
                }
            }
            // As `except Exception`: KeyboardInterrupt, SystemExit and CancelledError stop
            // the read.
            Err(e) if e.is_instance_of::<PyException>(self.py) => {
                self.table
                    .on_raise
                    .bind(self.py)
                    .call1((cb, e.into_value(self.py)))?;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// One event to the callables of route `idx`.
    fn deliver(&self, idx: usize, event: Bound<'py, PyAny>) -> PyResult<()> {
        let (py, table) = (self.py, self.table);
        let Some(route) = table.routes.get(idx) else {
            return Ok(());
        };
        let event = match &table.convert {
            None => event,
            Some(convert) => match convert.bind(py).call1((event,)) {
                Ok(e) => e,
                Err(e) if e.is_instance_of::<HftwsError>(py) => {
                    self.table.on_error.bind(py).call1((e.into_value(py),))?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            },
        };
        for cb in &route.internal {
            cb.bind(py).call1((&event,))?;
        }
        for cb in &route.user {
            self.call_user(cb.bind(py), &event)?;
        }
        if route.routed {
            if let Some(list) = &self.batch {
                list.append(event)?;
            }
        }
        Ok(())
    }

    /// Routes every event of the read.
    fn run(&mut self, events: &Bound<'py, PyAny>, recv_ns: i64) -> PyResult<()> {
        // A list (what the decoder returns) is walked without an iterator object.
        if let Ok(list) = events.cast::<PyList>() {
            for event in list.iter() {
                self.route(event, recv_ns)?;
            }
            return Ok(());
        }
        for event in events.try_iter()? {
            self.route(event?, recv_ns)?;
        }
        Ok(())
    }

    /// Routes one event of the read.
    fn route(&mut self, event: Bound<'py, PyAny>, recv_ns: i64) -> PyResult<()> {
        let Some(idx) = self.route_of(&event)? else {
            self.table.fallback.bind(self.py).call1((&event, recv_ns))?;
            return Ok(());
        };
        self.typed = true;
        // Per message, as the Python path counts: a batch push is one message.
        if let Some(c) = self.counts.get_mut(idx) {
            *c += 1;
        }
        if self.is_batch(&event) {
            for item in event.try_iter()? {
                self.deliver(idx, item?)?;
            }
            Ok(())
        } else {
            self.deliver(idx, event)
        }
    }

    /// Hands the read's routed events to the batch callback, if any.
    fn flush_batch(&self) -> PyResult<()> {
        let (Some(cb), Some(list)) = (&self.table.batch, &self.batch) else {
            return Ok(());
        };
        if !list.is_empty() {
            self.call_user(cb.bind(self.py), list.as_any())?;
        }
        Ok(())
    }
}

impl PyRouter {
    fn record(&self, py: Python<'_>, stage: usize, ns: i64) {
        // The histograms are the Metrics object's; a reader holding one (summary) is brief.
        if let Ok(mut h) = self.hists[stage].bind(py).try_borrow_mut() {
            h.record_ns(ns);
        }
    }

    fn table(&self) -> PyResult<&Arc<Table>> {
        self.table
            .as_ref()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("router was cleared"))
    }
}

#[pymethods]
impl PyRouter {
    /// `keys`: the route keys (message types), by route index; `kinds`: event kind -> route
    /// index; `unknown`: the route of kinds not in `kinds`; `batch_types`: event classes
    /// delivered one item per call; `fallback(item, recv_ns)`: the per-message path for items
    /// without a kind; `on_raise(callback, exc)`: a user callback raised; `on_error(exc)`: a
    /// conversion failed; `schedule(result)`: a callback returned something (a coroutine);
    /// `decode`, `dispatch`, `callback`: the stage histograms recorded once per read.
    #[new]
    #[pyo3(signature = (keys, kinds, unknown, batch_types, fallback, on_raise, on_error, schedule, decode, dispatch, callback))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        keys: Vec<Py<PyAny>>,
        kinds: &Bound<'_, PyDict>,
        unknown: usize,
        batch_types: Vec<Py<PyType>>,
        fallback: Py<PyAny>,
        on_raise: Py<PyAny>,
        on_error: Py<PyAny>,
        schedule: Py<PyAny>,
        decode: Py<PyHistogram>,
        dispatch: Py<PyHistogram>,
        callback: Py<PyHistogram>,
    ) -> PyResult<Self> {
        let n = keys.len();
        if n > MAX_ROUTES {
            return Err(PyValueError::new_err(format!(
                "at most {MAX_ROUTES} routes"
            )));
        }
        if unknown >= n {
            return Err(PyValueError::new_err("unknown must be a route index"));
        }
        // Interned copies of the kinds: the Rust getters return interned strings, so the
        // lookup meets the very same objects.
        let table = PyDict::new(py);
        for (k, v) in kinds.iter() {
            let idx: usize = v.extract()?;
            if idx >= n {
                return Err(PyValueError::new_err(format!(
                    "route index {idx} out of range"
                )));
            }
            let name = PyString::intern(py, k.cast::<PyString>()?.to_str()?);
            table.set_item(name, idx)?;
        }
        let routes = (0..n)
            .map(|_| Route {
                internal: Vec::new(),
                user: Vec::new(),
                routed: false,
            })
            .collect();
        Ok(Self {
            kinds: table.unbind(),
            keys,
            unknown,
            hists: [decode, dispatch, callback],
            table: Some(Arc::new(Table {
                routes,
                convert: None,
                batch: None,
                batch_types,
                fallback,
                on_raise,
                on_error,
                schedule,
            })),
            counts: [0; MAX_ROUTES],
            reads: 0,
            clock: Clock::new(py)?,
        })
    }

    /// Replaces the callables of every route at once: `routes[i] = (internal, user,
    /// routed)`; `convert` maps events before delivery; `batch(list)` gets each read's routed
    /// events (None: no list is built).
    #[pyo3(signature = (routes, convert = None, batch = None))]
    fn configure(
        &mut self,
        py: Python<'_>,
        routes: Vec<RouteSpec>,
        convert: Option<Py<PyAny>>,
        batch: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        if routes.len() != self.keys.len() {
            return Err(PyValueError::new_err(format!(
                "expected {} routes, got {}",
                self.keys.len(),
                routes.len()
            )));
        }
        let old = self.table()?;
        let table = Table {
            routes: routes
                .into_iter()
                .map(|(internal, user, routed)| Route {
                    internal,
                    user,
                    routed,
                })
                .collect(),
            convert,
            batch,
            batch_types: old.batch_types.iter().map(|t| t.clone_ref(py)).collect(),
            fallback: old.fallback.clone_ref(py),
            on_raise: old.on_raise.clone_ref(py),
            on_error: old.on_error.clone_ref(py),
            schedule: old.schedule.clone_ref(py),
        };
        self.table = Some(Arc::new(table));
        Ok(())
    }

    /// Routes the events one socket read produced (see the module doc); records `decode`
    /// (receive -> here), `dispatch` (receive -> typing starts; the same reading, when the
    /// read has a typed event) and `callback` (receive -> the read's last callback
    /// returned) once for the read, and counts it.
    /// `StreamDecoder.feed_routed` calls it in the same native call as the decoding.
    pub(crate) fn dispatch(
        slf: &Bound<'_, Self>,
        events: &Bound<'_, PyAny>,
        recv_ns: i64,
    ) -> PyResult<()> {
        let py = slf.py();
        // One clock reading for `decode` and `dispatch`: typing the first event takes tens
        // of ns, below the histograms' ~3% resolution at these latencies, and a reading costs
        // 20-150 ns depending on the machine.
        let (table, kinds, unknown, start) = {
            let mut me = slf.borrow_mut();
            me.reads += 1;
            let start = me.clock.now_ns();
            me.record(py, 0, start - recv_ns);
            let table = Arc::clone(me.table()?);
            (table, me.kinds.bind(py).clone(), me.unknown, start)
        };
        let mut ctx = Ctx {
            py,
            table: &table,
            kinds,
            unknown,
            batch: table.batch.as_ref().map(|_| PyList::empty(py)),
            counts: [0; MAX_ROUTES],
            typed: false,
        };
        let result = ctx.run(events, recv_ns);
        {
            // Counts and timings of what was delivered, even when a listener raised.
            let mut me = slf.borrow_mut();
            for (c, n) in me.counts.iter_mut().zip(&ctx.counts) {
                *c += n;
            }
            if ctx.typed {
                me.record(py, 1, start - recv_ns);
            }
        }
        result?;
        ctx.flush_batch()?;
        let me = slf.borrow();
        let now = me.clock.now_ns();
        me.record(py, 2, now - recv_ns);
        Ok(())
    }

    /// Messages routed so far, per route key (keys never routed are left out).
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, &n) in self.keys.iter().zip(&self.counts) {
            if n > 0 {
                d.set_item(k.bind(py), n)?;
            }
        }
        Ok(d)
    }

    /// Reads dispatched so far.
    #[getter]
    fn reads(&self) -> u64 {
        self.reads
    }

    /// The clock the stage latencies use, in `time.monotonic_ns()` units.
    fn now_ns(&self) -> i64 {
        self.clock.now_ns()
    }

    /// Holds callables that may refer back to the handler: let the cycle collector see them.
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        let Some(t) = &self.table else {
            return Ok(());
        };
        for r in &t.routes {
            for cb in r.internal.iter().chain(&r.user) {
                visit.call(cb)?;
            }
        }
        for o in [&t.convert, &t.batch].into_iter().flatten() {
            visit.call(o)?;
        }
        for o in [&t.fallback, &t.on_raise, &t.on_error, &t.schedule] {
            visit.call(o)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.table = None;
    }
}
