//! Typed, immutable Python events for Binance frames (`hftws.binance.Binance*`).
//!
//! A JSON event keeps one owned copy of its frame plus the slots decoded by the core
//! (`crate::binance`); Python objects are made only when an attribute is read. Decimal fields
//! have three views: `x` (float), `x_decimal` (exact `decimal.Decimal`) and `x_str` (the
//! exchange's text). `to_dict()` is the payload as `json.loads` gives it (`data` of a combined
//! stream). SBE events keep the binary frame and decode it again on access (zero-copy).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use super::BFrame;
use crate::binance::depth::DepthUpdate;
use crate::binance::records::{
    Record, AGG_TRADE, BOOK_TICKER, FORCE_ORDER, FORCE_ORDER_O, KLINE, KLINE_K, MARK_PRICE,
    MINI_TICKER, SERVER_SHUTDOWN, TRADE,
};
use crate::binance::sbe::{self, mantissa_decimal, SbeMessage};
use crate::decimal::Decimal;
use crate::gate::channels::{index, Slot};
use crate::gate::levels::level_values;
use crate::json::Val;
use crate::py::convert::to_py_decimal;
use crate::py::frame::{json_to_py, slot_any, slot_decimal, slot_float, slot_text, span_text};
use pyo3::pybacked::PyBackedBytes;

impl BFrame {
    fn stream<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.stream
            .map(|s| span_text(py, self.bytes(), s))
            .transpose()
    }
    fn payload_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, self.bytes(), self.payload.0)
    }
}

/// `None` or the value, as Python would print it.
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "None".to_owned(), |v| v.to_string())
}

/// The `#[pymethods]` block of a JSON event: the getters every event has, then `$extra`.
macro_rules! event_methods {
    ($ty:ident, { $($extra:tt)* }) => {
        #[pymethods]
        impl $ty {
            /// Event kind (`"depth"`, `"trade"`, `"reply"`, ...), interned: routing reads it
            /// for every message.
            #[getter]
            fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
                crate::py::router::kind_object(py, self.kind_name())
            }
            /// Stream name of a combined-stream frame (None for raw streams).
            #[getter]
            fn stream<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                self.f.stream(py)
            }
            /// The payload as `json.loads` gives it (`data` of a combined stream).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.f.payload_dict(py)
            }
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let st = self.f.stream(py)?.map(|s| s.to_string());
                Ok(format!(
                    "{}(stream={}{})",
                    stringify!($ty).trim_start_matches("Py"),
                    opt(st.map(|s| format!("{s:?}"))),
                    self.repr_extra(py)?
                ))
            }
            $($extra)*
        }
    };
}

/// A record event class: struct, common getters, and typed getters of the listed fields of
/// the top-level table (`dec`, `int`, `str`, `bool`) and of the nested object (`n...`).
macro_rules! record_class {
    (
        $ty:ident = $pyname:literal, $kind:literal, $doc:literal, $table:expr, $nested:expr,
        dec [$($dn:ident = $df:literal),* $(,)?],
        int [$($inn:ident = $inf:literal),* $(,)?],
        str [$($sn:ident = $sf:literal),* $(,)?],
        bool [$($bn:ident = $bf:literal),* $(,)?],
        ndec [$($ndn:ident = $ndf:literal),* $(,)?],
        nint [$($ninn:ident = $ninf:literal),* $(,)?],
        nstr [$($nsn:ident = $nsf:literal),* $(,)?],
        nbool [$($nbn:ident = $nbf:literal),* $(,)?]
        $(, extra { $($extra:tt)* })?
    ) => {
        #[doc = $doc]
        #[pyclass(frozen, name = $pyname, module = "hftws.binance")]
        pub(crate) struct $ty {
            pub(crate) f: BFrame,
            pub(crate) rec: Record,
        }
        impl $ty {
            fn kind_name(&self) -> &'static str {
                $kind
            }
            fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
                // forceOrder keeps its symbol in `o`, serverShutdown has none.
                let slot = match $table.iter().position(|f| f.name == "s") {
                    Some(i) => self.top(i),
                    None => match $nested.iter().position(|f| f.name == "s") {
                        Some(i) => self.sub(i),
                        None => return Ok(String::new()),
                    },
                };
                let sym = slot_text(py, self.f.bytes(), slot)?;
                Ok(format!(", symbol={}", opt(sym.map(|s| format!("{:?}", s.to_string())))))
            }
            #[inline]
            fn top(&self, i: usize) -> Slot {
                self.rec.slot(i)
            }
            #[inline]
            fn sub(&self, i: usize) -> Slot {
                self.rec.nested(i)
            }
        }
        paste::paste! {
            event_methods!($ty, {
                /// `e`: event type as sent (None for spot bookTicker, which has none).
                #[getter]
                fn event_type<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                    slot_text(py, self.f.bytes(), self.top(const { index($table, "e") }))
                }
                $(
                    #[doc = concat!("`", $df, "` as a float.")]
                    #[getter]
                    fn $dn(&self) -> Option<f64> {
                        slot_float(self.f.bytes(), self.top(const { index($table, $df) }))
                    }
                    #[doc = concat!("`", $df, "` as an exact decimal.Decimal.")]
                    #[getter]
                    fn [<$dn _decimal>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                        slot_decimal(py, self.f.bytes(), self.top(const { index($table, $df) }))
                    }
                    #[doc = concat!("`", $df, "` as the exchange's text.")]
                    #[getter]
                    fn [<$dn _str>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.top(const { index($table, $df) }))
                    }
                )*
                $(
                    #[doc = concat!("`", $inf, "`.")]
                    #[getter]
                    fn $inn(&self) -> Option<i64> {
                        self.top(const { index($table, $inf) }).int()
                    }
                )*
                $(
                    #[doc = concat!("`", $sf, "`.")]
                    #[getter]
                    fn $sn<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.top(const { index($table, $sf) }))
                    }
                )*
                $(
                    #[doc = concat!("`", $bf, "`.")]
                    #[getter]
                    fn $bn(&self) -> Option<bool> {
                        self.top(const { index($table, $bf) }).boolean()
                    }
                )*
                $(
                    #[doc = concat!("Nested `", $ndf, "` as a float.")]
                    #[getter]
                    fn $ndn(&self) -> Option<f64> {
                        slot_float(self.f.bytes(), self.sub(const { index($nested, $ndf) }))
                    }
                    #[doc = concat!("Nested `", $ndf, "` as an exact decimal.Decimal.")]
                    #[getter]
                    fn [<$ndn _decimal>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                        slot_decimal(py, self.f.bytes(), self.sub(const { index($nested, $ndf) }))
                    }
                    #[doc = concat!("Nested `", $ndf, "` as the exchange's text.")]
                    #[getter]
                    fn [<$ndn _str>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.sub(const { index($nested, $ndf) }))
                    }
                )*
                $(
                    #[doc = concat!("Nested `", $ninf, "`.")]
                    #[getter]
                    fn $ninn(&self) -> Option<i64> {
                        self.sub(const { index($nested, $ninf) }).int()
                    }
                )*
                $(
                    #[doc = concat!("Nested `", $nsf, "`.")]
                    #[getter]
                    fn $nsn<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.sub(const { index($nested, $nsf) }))
                    }
                )*
                $(
                    #[doc = concat!("Nested `", $nbf, "`.")]
                    #[getter]
                    fn $nbn(&self) -> Option<bool> {
                        self.sub(const { index($nested, $nbf) }).boolean()
                    }
                )*
                $($($extra)*)?
            });
        }
    };
}

const NONE: &[crate::gate::channels::Field] = &[];

/// The taker's side from `m` (the buyer was the maker: the taker sold).
fn taker_side(buyer_is_maker: Slot) -> Option<&'static str> {
    buyer_is_maker
        .boolean()
        .map(|m| if m { "sell" } else { "buy" })
}

// `amount` and `trade_id` (aggTrade) repeat fields under the common trade shape's names
// (`hftws.events.Trade`).
record_class!(PyBinanceTrade = "BinanceTrade", "trade", "A raw trade (`<s>@trade`).", TRADE, NONE,
dec [price = "p", quantity = "q", amount = "q"],
int [event_time = "E", trade_time = "T", trade_id = "t"],
str [symbol = "s"],
bool [buyer_is_maker = "m"],
ndec [], nint [], nstr [], nbool [],
extra {
    /// Taker side (the common trade shape): `"sell"` when the buyer was the maker.
    #[getter]
    fn side(&self) -> Option<&'static str> {
        taker_side(self.top(const { index(TRADE, "m") }))
    }
});

record_class!(PyBinanceAggTrade = "BinanceAggTrade", "agg_trade",
"An aggregated trade (`<s>@aggTrade`; futures adds `nq`).", AGG_TRADE, NONE,
dec [price = "p", quantity = "q", amount = "q", normal_quantity = "nq"],
int [event_time = "E", agg_trade_id = "a", trade_id = "a", first_trade_id = "f",
    last_trade_id = "l", trade_time = "T"],
str [symbol = "s"],
bool [buyer_is_maker = "m"],
ndec [], nint [], nstr [], nbool [],
extra {
    /// Taker side (the common trade shape): `"sell"` when the buyer was the maker.
    #[getter]
    fn side(&self) -> Option<&'static str> {
        taker_side(self.top(const { index(AGG_TRADE, "m") }))
    }
});

record_class!(PyBinanceBookTicker = "BinanceBookTicker", "book_ticker",
"Best bid/ask (`<s>@bookTicker`; `u` shares the depth id space).", BOOK_TICKER, NONE,
dec [bid_price = "b", bid_size = "B", ask_price = "a", ask_size = "A"],
int [update_id = "u", event_time = "E", transaction_time = "T"],
str [symbol = "s"],
bool [],
ndec [], nint [], nstr [], nbool [],
extra {
    /// Quote time, Unix ms (the common ticker time): futures `E`; None on spot, whose
    /// bookTicker carries no time.
    #[getter]
    fn time_ms(&self) -> Option<i64> {
        self.top(const { index(BOOK_TICKER, "E") }).int()
    }
});

record_class!(PyBinanceKline = "BinanceKline", "kline", "A candle (`<s>@kline_<i>`).", KLINE, KLINE_K,
    dec [],
    int [event_time = "E"],
    str [symbol = "s"],
    bool [],
    ndec [open = "o", close = "c", high = "h", low = "l", volume = "v", quote_volume = "q",
        taker_buy_volume = "V", taker_buy_quote_volume = "Q"],
    nint [start_time = "t", close_time = "T", first_trade_id = "f", last_trade_id = "L",
        trade_count = "n"],
    nstr [interval = "i"],
    nbool [closed = "x"]);

record_class!(PyBinanceMiniTicker = "BinanceMiniTicker", "mini_ticker",
    "24 h rolling mini ticker (`<s>@miniTicker`).", MINI_TICKER, NONE,
    dec [close = "c", open = "o", high = "h", low = "l", volume = "v", quote_volume = "q"],
    int [event_time = "E"],
    str [symbol = "s"],
    bool [],
    ndec [], nint [], nstr [], nbool []);

record_class!(PyBinanceMarkPrice = "BinanceMarkPrice", "mark_price",
    "USDⓈ-M mark price and funding (`<s>@markPrice[@1s]`).", MARK_PRICE, NONE,
    dec [mark_price = "p", index_price = "i", estimated_settle_price = "P",
        funding_rate = "r"],
    int [event_time = "E", next_funding_time = "T"],
    str [symbol = "s"],
    bool [],
    ndec [], nint [], nstr [], nbool []);

record_class!(PyBinanceForceOrder = "BinanceForceOrder", "force_order",
    "USDⓈ-M liquidation order snapshot (`<s>@forceOrder`).", FORCE_ORDER, FORCE_ORDER_O,
    dec [],
    int [event_time = "E"],
    str [],
    bool [],
    ndec [quantity = "q", price = "p", average_price = "ap", last_filled_quantity = "l",
        filled_quantity = "z"],
    nint [trade_time = "T"],
    nstr [symbol = "s", side = "S", order_type = "o", time_in_force = "f", status = "X"],
    nbool []);

record_class!(PyBinanceServerShutdown = "BinanceServerShutdown", "server_shutdown",
    "`serverShutdown`: open a new connection, resubscribe, then close this one.",
    SERVER_SHUTDOWN, NONE,
    dec [], int [event_time = "E"], str [], bool [],
    ndec [], nint [], nstr [], nbool []);

/// A depth diff (`depthUpdate`) or partial depth / snapshot.
#[pyclass(frozen, name = "BinanceDepthUpdate", module = "hftws.binance")]
pub(crate) struct PyBinanceDepthUpdate {
    pub(crate) f: BFrame,
    pub(crate) u: DepthUpdate,
}

impl PyBinanceDepthUpdate {
    fn kind_name(&self) -> &'static str {
        self.f.kind.name()
    }
    fn repr_extra(&self, _py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            ", symbol={}, U={}, u={}, pu={}, snapshot={}, bids={}, asks={}",
            opt(self.symbol_text().map(|s| format!("{s:?}"))),
            opt(self.u.first_id),
            self.u.last_id,
            opt(self.u.prev_id),
            self.u.snapshot,
            self.u.levels.bids.len(),
            self.u.levels.asks.len()
        ))
    }
    fn symbol_text(&self) -> Option<String> {
        let s = self.u.symbol?;
        s.decode(self.f.bytes()).ok().map(|c| c.into_owned())
    }
    fn level_strings<'py>(
        &self,
        py: Python<'py>,
        span: Option<(usize, usize)>,
    ) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        if let Some((start, _)) = span {
            let mut items = Vec::new();
            level_values(self.f.bytes(), start, |p, s| items.push((p, s)))
                .map_err(|e| crate::py::errors::binance_error(py, &e.into()))?;
            for (p, s) in items {
                list.append((value_text(py, p)?, value_text(py, s)?))?;
            }
        }
        Ok(list)
    }
}

fn value_text<'py>(py: Python<'py>, v: Val<'_>) -> PyResult<Bound<'py, PyString>> {
    Ok(match v {
        Val::Str(j) => PyString::new(
            py,
            &j.decode()
                .map_err(|k| pyo3::exceptions::PyValueError::new_err(k.describe()))?,
        ),
        Val::Num(n) => PyString::new(py, std::str::from_utf8(n).unwrap_or_default()),
        _ => PyString::new(py, ""),
    })
}

fn float_levels<'py>(
    py: Python<'py>,
    levels: &[(Decimal, Decimal)],
) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, levels.iter().map(|(p, s)| (p.to_f64(), s.to_f64())))
}

fn decimal_levels<'py>(
    py: Python<'py>,
    levels: &[(Decimal, Decimal)],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (p, s) in levels {
        list.append((to_py_decimal(py, *p)?, to_py_decimal(py, *s)?))?;
    }
    Ok(list)
}

event_methods!(PyBinanceDepthUpdate, {
    /// `s` (None for spot partial depth, whose symbol is only in the stream name).
    #[getter]
    fn symbol(&self) -> Option<String> {
        self.symbol_text()
    }
    /// `U`: first update id (None for partial depth without it).
    #[getter]
    fn first_id(&self) -> Option<u64> {
        self.u.first_id
    }
    /// `u`, or `lastUpdateId` for spot partial depth / snapshots.
    #[getter]
    fn last_id(&self) -> u64 {
        self.u.last_id
    }
    /// `pu`: last id of the previous push (USDⓈ-M futures).
    #[getter]
    fn prev_id(&self) -> Option<u64> {
        self.u.prev_id
    }
    /// True for partial depth and snapshots: they replace the book.
    #[getter]
    fn snapshot(&self) -> bool {
        self.u.snapshot
    }
    /// `E`: event time.
    #[getter]
    fn event_time(&self) -> Option<i64> {
        self.u.event_time
    }
    /// `T`: transaction time (futures).
    #[getter]
    fn transaction_time(&self) -> Option<i64> {
        self.u.transact_time
    }
    /// Bids as `(price, size)` floats, in wire order.
    #[getter]
    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        float_levels(py, &self.u.levels.bids)
    }
    /// Asks as `(price, size)` floats, in wire order.
    #[getter]
    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        float_levels(py, &self.u.levels.asks)
    }
    /// Bids as exact `(Decimal, Decimal)`.
    #[getter]
    fn bids_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        decimal_levels(py, &self.u.levels.bids)
    }
    /// Asks as exact `(Decimal, Decimal)`.
    #[getter]
    fn asks_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        decimal_levels(py, &self.u.levels.asks)
    }
    /// Bids as the exchange's `(price, size)` strings.
    #[getter]
    fn bids_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.level_strings(py, self.u.bids_span)
    }
    /// Asks as the exchange's `(price, size)` strings.
    #[getter]
    fn asks_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.level_strings(py, self.u.asks_span)
    }
});

/// A reply to a control request: `{"result": ..., "id": ...}`.
#[pyclass(frozen, name = "BinanceReply", module = "hftws.binance")]
pub(crate) struct PyBinanceReply {
    pub(crate) f: BFrame,
    pub(crate) result_at: usize,
    pub(crate) id: Slot,
}

impl PyBinanceReply {
    fn kind_name(&self) -> &'static str {
        "reply"
    }
    fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            ", id={}",
            slot_any(py, self.f.bytes(), self.id)?.repr()?
        ))
    }
}
event_methods!(PyBinanceReply, {
    /// `result` as `json.loads` gives it (None = success of SUBSCRIBE and friends).
    #[getter]
    fn result<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, self.f.bytes(), self.result_at)
    }
    /// Request `id` echo (int, str or None).
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        slot_any(py, self.f.bytes(), self.id)
    }
});

/// A refused request: `{"code":..,"msg":..,"id":..}` or `{"error":{"code","msg"},"id":..}`.
#[pyclass(frozen, name = "BinanceError", module = "hftws.binance")]
pub(crate) struct PyBinanceError {
    pub(crate) f: BFrame,
    pub(crate) code: Slot,
    pub(crate) msg: Slot,
    pub(crate) id: Slot,
}

impl PyBinanceError {
    fn kind_name(&self) -> &'static str {
        "error"
    }
    fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
        let msg = slot_text(py, self.f.bytes(), self.msg)?.map(|s| s.to_string());
        Ok(format!(", code={}, msg={:?}", opt(self.code.int()), msg))
    }
}
event_methods!(PyBinanceError, {
    /// `code` (0-3 on market streams, negative on the WS API).
    #[getter]
    fn code(&self) -> Option<i64> {
        self.code.int()
    }
    /// `msg`.
    #[getter]
    fn msg<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        slot_text(py, self.f.bytes(), self.msg)
    }
    /// Request `id` echo (int, str or None).
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        slot_any(py, self.f.bytes(), self.id)
    }
});

/// A payload hftws does not model (tickers, mixed arrays, user data).
#[pyclass(frozen, name = "BinanceOther", module = "hftws.binance")]
pub(crate) struct PyBinanceOther {
    pub(crate) f: BFrame,
}

impl PyBinanceOther {
    fn kind_name(&self) -> &'static str {
        "other"
    }
    fn repr_extra(&self, _py: Python<'_>) -> PyResult<String> {
        Ok(String::new())
    }
}
event_methods!(PyBinanceOther, {});

// --- SBE ------------------------------------------------------------------------------------

fn decoded(bytes: &PyBackedBytes) -> PyResult<SbeMessage<'_>> {
    // The frame was decoded once when the event was made; this cannot fail.
    Python::attach(|py| sbe::decode(bytes).map_err(|e| crate::py::errors::binance_error(py, &e)))
}

fn mantissa_py<'py>(py: Python<'py>, m: i64, e: i8) -> PyResult<Bound<'py, PyAny>> {
    let d = mantissa_decimal(m, e)?;
    to_py_decimal(py, d)
}

fn sbe_levels<'py>(
    py: Python<'py>,
    levels: &sbe::Levels<'_>,
    side: &str,
    exact: bool,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for i in 0..levels.len() {
        let (p, q) = levels
            .level(i, side)
            .map_err(|e| crate::py::errors::binance_error(py, &e))?;
        if exact {
            list.append((to_py_decimal(py, p)?, to_py_decimal(py, q)?))?;
        } else {
            list.append((p.to_f64(), q.to_f64()))?;
        }
    }
    Ok(list)
}

/// SBE `DepthDiffStreamEvent` (`<s>@depth`) or `DepthSnapshotStreamEvent` (`<s>@depth20`).
#[pyclass(frozen, name = "BinanceSbeDepth", module = "hftws.binance")]
pub(crate) struct PyBinanceSbeDepth {
    pub(crate) bytes: PyBackedBytes,
}

impl PyBinanceSbeDepth {
    fn depth(&self) -> PyResult<sbe::Depth<'_>> {
        match decoded(&self.bytes)? {
            SbeMessage::DepthDiff(d) | SbeMessage::DepthSnapshot(d) => Ok(d),
            _ => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "not a depth message",
            )),
        }
    }
}

#[pymethods]
impl PyBinanceSbeDepth {
    /// `"depth"` (diff) or `"partial_depth"` (depth20 snapshot).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        Ok(if self.depth()?.first_id.is_some() {
            pyo3::intern!(py, "depth").clone()
        } else {
            pyo3::intern!(py, "partial_depth").clone()
        })
    }
    /// True for the depth20 snapshot.
    #[getter]
    fn snapshot(&self) -> PyResult<bool> {
        Ok(self.depth()?.first_id.is_none())
    }
    /// Event time, µs.
    #[getter]
    fn event_time(&self) -> PyResult<i64> {
        Ok(self.depth()?.event_time)
    }
    /// `firstBookUpdateId` (None for snapshots).
    #[getter]
    fn first_id(&self) -> PyResult<Option<u64>> {
        Ok(self.depth()?.first_id)
    }
    /// `lastBookUpdateId`, or the snapshot's `bookUpdateId`.
    #[getter]
    fn last_id(&self) -> PyResult<u64> {
        Ok(self.depth()?.last_id)
    }
    /// Price exponent.
    #[getter]
    fn price_exponent(&self) -> PyResult<i8> {
        Ok(self.depth()?.price_exp)
    }
    /// Quantity exponent.
    #[getter]
    fn qty_exponent(&self) -> PyResult<i8> {
        Ok(self.depth()?.qty_exp)
    }
    /// Symbol.
    #[getter]
    fn symbol(&self) -> PyResult<String> {
        Ok(self.depth()?.symbol.to_owned())
    }
    /// Bids as `(price, size)` floats.
    #[getter]
    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        sbe_levels(py, &self.depth()?.bids, "bids", false)
    }
    /// Asks as `(price, size)` floats.
    #[getter]
    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        sbe_levels(py, &self.depth()?.asks, "asks", false)
    }
    /// Bids as exact `(Decimal, Decimal)`.
    #[getter]
    fn bids_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        sbe_levels(py, &self.depth()?.bids, "bids", true)
    }
    /// Asks as exact `(Decimal, Decimal)`.
    #[getter]
    fn asks_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        sbe_levels(py, &self.depth()?.asks, "asks", true)
    }
    /// Bids as raw `(price, qty)` mantissas.
    #[getter]
    fn bids_raw(&self) -> PyResult<Vec<(i64, i64)>> {
        let d = self.depth()?;
        Ok((0..d.bids.len()).map(|i| d.bids.mantissas(i)).collect())
    }
    /// Asks as raw `(price, qty)` mantissas.
    #[getter]
    fn asks_raw(&self) -> PyResult<Vec<(i64, i64)>> {
        let d = self.depth()?;
        Ok((0..d.asks.len()).map(|i| d.asks.mantissas(i)).collect())
    }
    fn __repr__(&self) -> PyResult<String> {
        let d = self.depth()?;
        Ok(format!(
            "BinanceSbeDepth(symbol={:?}, first_id={}, last_id={}, bids={}, asks={})",
            d.symbol,
            opt(d.first_id),
            d.last_id,
            d.bids.len(),
            d.asks.len()
        ))
    }
}

/// Mantissas `(bid price, bid qty, ask price, ask qty)` and exponents `(price, qty)`.
type BboRaw = ((i64, i64, i64, i64), (i8, i8));

/// SBE `BestBidAskStreamEvent` (`<s>@bestBidAsk`).
#[pyclass(frozen, name = "BinanceSbeBestBidAsk", module = "hftws.binance")]
pub(crate) struct PyBinanceSbeBestBidAsk {
    pub(crate) bytes: PyBackedBytes,
}

impl PyBinanceSbeBestBidAsk {
    fn bba(&self) -> PyResult<sbe::BestBidAsk<'_>> {
        match decoded(&self.bytes)? {
            SbeMessage::BestBidAsk(b) => Ok(b),
            _ => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "not a best bid/ask",
            )),
        }
    }
    fn value<'py>(&self, py: Python<'py>, i: usize, exact: bool) -> PyResult<Bound<'py, PyAny>> {
        let b = self.bba()?;
        let e = if i % 2 == 0 { b.price_exp } else { b.qty_exp };
        let d = mantissa_py(py, b.mantissas[i], e)?;
        if exact {
            Ok(d)
        } else {
            Ok(
                pyo3::types::PyFloat::new(py, mantissa_decimal(b.mantissas[i], e)?.to_f64())
                    .into_any(),
            )
        }
    }
}

#[pymethods]
impl PyBinanceSbeBestBidAsk {
    /// `"book_ticker"`.
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> &Bound<'py, PyString> {
        pyo3::intern!(py, "book_ticker")
    }
    /// Event time, µs.
    #[getter]
    fn event_time(&self) -> PyResult<i64> {
        Ok(self.bba()?.event_time)
    }
    /// `bookUpdateId`.
    #[getter]
    fn update_id(&self) -> PyResult<i64> {
        Ok(self.bba()?.book_update_id)
    }
    /// Symbol.
    #[getter]
    fn symbol(&self) -> PyResult<String> {
        Ok(self.bba()?.symbol.to_owned())
    }
    /// Raw mantissas `(bid_price, bid_qty, ask_price, ask_qty)` and exponents `(price, qty)`.
    #[getter]
    fn raw(&self) -> PyResult<BboRaw> {
        let b = self.bba()?;
        let m = b.mantissas;
        Ok(((m[0], m[1], m[2], m[3]), (b.price_exp, b.qty_exp)))
    }
    /// Best bid price (float).
    #[getter]
    fn bid_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 0, false)
    }
    /// Best bid size (float).
    #[getter]
    fn bid_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 1, false)
    }
    /// Best ask price (float).
    #[getter]
    fn ask_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 2, false)
    }
    /// Best ask size (float).
    #[getter]
    fn ask_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 3, false)
    }
    /// Best bid price, exact.
    #[getter]
    fn bid_price_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 0, true)
    }
    /// Best bid size, exact.
    #[getter]
    fn bid_size_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 1, true)
    }
    /// Best ask price, exact.
    #[getter]
    fn ask_price_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 2, true)
    }
    /// Best ask size, exact.
    #[getter]
    fn ask_size_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.value(py, 3, true)
    }
}

/// SBE `TradesStreamEvent` (`<s>@trade`): one or more trades of one match.
#[pyclass(frozen, name = "BinanceSbeTrades", module = "hftws.binance")]
pub(crate) struct PyBinanceSbeTrades {
    pub(crate) bytes: PyBackedBytes,
}

impl PyBinanceSbeTrades {
    fn trades(&self) -> PyResult<sbe::Trades<'_>> {
        match decoded(&self.bytes)? {
            SbeMessage::Trades(t) => Ok(t),
            _ => Err(pyo3::exceptions::PyRuntimeError::new_err("not trades")),
        }
    }
}

#[pymethods]
impl PyBinanceSbeTrades {
    /// `"trades"`.
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> &Bound<'py, PyString> {
        pyo3::intern!(py, "trades")
    }
    /// Event time, µs.
    #[getter]
    fn event_time(&self) -> PyResult<i64> {
        Ok(self.trades()?.event_time)
    }
    /// Transaction time, µs.
    #[getter]
    fn transaction_time(&self) -> PyResult<i64> {
        Ok(self.trades()?.transact_time)
    }
    /// Symbol.
    #[getter]
    fn symbol(&self) -> PyResult<String> {
        Ok(self.trades()?.symbol.to_owned())
    }
    /// Price and quantity exponents.
    #[getter]
    fn exponents(&self) -> PyResult<(i8, i8)> {
        let t = self.trades()?;
        Ok((t.price_exp, t.qty_exp))
    }
    /// Raw trades: `(id, price mantissa, qty mantissa, is_buyer_maker)`.
    #[getter]
    fn raw(&self) -> PyResult<Vec<(i64, i64, i64, bool)>> {
        let t = self.trades()?;
        Ok((0..t.len())
            .map(|i| {
                let x = t.get(i);
                (x.id, x.price, x.qty, x.is_buyer_maker)
            })
            .collect())
    }
    /// Trades as dicts: `id`, `price` and `quantity` (exact Decimal), `buyer_is_maker`.
    fn trades_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let t = self.trades()?;
        let list = PyList::empty(py);
        for i in 0..t.len() {
            let x = t.get(i);
            let d = PyDict::new(py);
            d.set_item("id", x.id)?;
            d.set_item("price", mantissa_py(py, x.price, t.price_exp)?)?;
            d.set_item("quantity", mantissa_py(py, x.qty, t.qty_exp)?)?;
            d.set_item("buyer_is_maker", x.is_buyer_maker)?;
            list.append(d)?;
        }
        Ok(list)
    }
    fn __len__(&self) -> PyResult<usize> {
        Ok(self.trades()?.len())
    }
}
