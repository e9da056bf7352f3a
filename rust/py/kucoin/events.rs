//! Typed, immutable Python events for KuCoin frames (`hftws.kucoin.Kucoin*`).
//!
//! An event keeps one owned copy of its frame plus the offsets found by the core
//! (`crate::kucoin::parse`); Python objects are made only when an attribute is read. Prices
//! and sizes are exact `decimal.Decimal` (KuCoin sends them as text; futures sizes are
//! contract counts), ids and times are `int` (ns times exceed f64). `to_dict()` is the whole
//! frame as `json.loads` gives it.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::decimal::Decimal;
use crate::gate::levels::Levels;
use crate::gate::value;
use crate::json::{Scan, Val};
use crate::kucoin::depth::read_entries;
use crate::kucoin::records::table;
use crate::kucoin::route::topic_symbol;
use crate::kucoin::{Kind, Message};
use crate::py::convert::to_py_decimal;
use crate::py::frame::{json_to_py, span_text, Src};

/// One frame owned by its event, with what the core found in it.
pub(crate) struct KFrame {
    pub(crate) src: Src,
    pub(crate) msg: Message,
}

fn bad<E: std::fmt::Display>(e: E) -> PyErr {
    PyValueError::new_err(e.to_string())
}

impl KFrame {
    fn bytes(&self) -> &[u8] {
        match &self.src {
            Src::Bytes(b) => b,
            Src::Str(s) => s.as_bytes(),
        }
    }

    fn topic<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.msg
            .env
            .topic
            .map(|s| span_text(py, self.bytes(), s))
            .transpose()
    }

    /// The symbol: the topic suffix (`subject` for `:all`), else the payload's `symbol`.
    fn symbol<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        if let Some(t) = self.topic(py)? {
            let text = t.to_str()?;
            match topic_symbol(text) {
                // `/market/ticker:all` names the symbol in `subject` (`kucoin.md` §2.2).
                Some("all") => {
                    if let Some(s) = self.msg.env.subject {
                        return span_text(py, self.bytes(), s).map(Some);
                    }
                }
                Some(sym) => return Ok(Some(PyString::new(py, sym))),
                None => {}
            }
        }
        if let Some(h) = self.msg.depth.and_then(|h| h.symbol) {
            return span_text(py, self.bytes(), h).map(Some);
        }
        self.text(py, "symbol")
    }

    /// Offset of record field `name` in the frame, if present.
    fn slot(&self, name: &str) -> Option<usize> {
        let i = table(self.msg.env.kind)
            .iter()
            .position(|(n, _)| *n == name)?;
        self.msg.fields[i]
    }

    fn text<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyString>>> {
        let Some(pos) = self.slot(name) else {
            return Ok(None);
        };
        let v = Scan::at(self.bytes(), pos)
            .value()
            .map_err(|e| bad(e.kind.describe()))?;
        match value::string(&v, name, pos).map_err(bad)? {
            Some(j) => Ok(Some(PyString::new(
                py,
                &j.decode().map_err(|k| bad(k.describe()))?,
            ))),
            None => Ok(None),
        }
    }

    /// The first of `names` the frame has (spot and futures name some fields differently).
    fn slot_of<'n>(&self, names: &[&'n str]) -> Option<(&'n str, usize)> {
        names.iter().find_map(|n| self.slot(n).map(|pos| (*n, pos)))
    }

    fn value_of<'n>(&self, names: &[&'n str]) -> PyResult<Option<(Val<'_>, &'n str, usize)>> {
        let Some((name, pos)) = self.slot_of(names) else {
            return Ok(None);
        };
        let v = Scan::at(self.bytes(), pos)
            .value()
            .map_err(|e| bad(e.kind.describe()))?;
        Ok(Some((v, name, pos)))
    }

    fn decimal_of(&self, names: &[&str]) -> PyResult<Option<Decimal>> {
        match self.value_of(names)? {
            Some((v, name, pos)) => value::decimal(&v, name, pos).map_err(bad),
            None => Ok(None),
        }
    }

    /// A price or size as an exact `decimal.Decimal`.
    fn dec<'py>(&self, py: Python<'py>, names: &[&str]) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.decimal_of(names)?
            .map(|d| to_py_decimal(py, d))
            .transpose()
    }

    /// A price or size as a float (correctly rounded from the exact value).
    fn float(&self, names: &[&str]) -> PyResult<Option<f64>> {
        Ok(self.decimal_of(names)?.map(Decimal::to_f64))
    }

    /// A price or size as KuCoin wrote it (the string's text, or the JSON number's).
    fn dec_text<'py>(
        &self,
        py: Python<'py>,
        names: &[&str],
    ) -> PyResult<Option<Bound<'py, PyString>>> {
        // Checked first, so the text is a valid decimal.
        if self.decimal_of(names)?.is_none() {
            return Ok(None);
        }
        Ok(match self.value_of(names)? {
            Some((Val::Str(j), ..)) => Some(PyString::new(
                py,
                &j.decode().map_err(|k| bad(k.describe()))?,
            )),
            Some((Val::Num(n), ..)) => {
                Some(PyString::new(py, std::str::from_utf8(n).map_err(bad)?))
            }
            _ => None,
        })
    }

    fn int(&self, name: &str) -> PyResult<Option<i64>> {
        let Some(pos) = self.slot(name) else {
            return Ok(None);
        };
        let v = Scan::at(self.bytes(), pos)
            .value()
            .map_err(|e| bad(e.kind.describe()))?;
        value::int(&v, name, pos).map_err(bad)
    }

    fn pairs<'py>(&self, py: Python<'py>, bid: bool) -> PyResult<Bound<'py, PyList>> {
        let mut lv = Levels::default();
        if let Some(h) = self.msg.depth {
            h.fill_top(self.bytes(), &mut lv).map_err(bad)?;
        }
        let side = if bid { &lv.bids } else { &lv.asks };
        let out = PyList::empty(py);
        for (p, z) in side {
            out.append(PyTuple::new(
                py,
                [to_py_decimal(py, *p)?, to_py_decimal(py, *z)?],
            )?)?;
        }
        Ok(out)
    }

    fn entries<'py>(&self, py: Python<'py>, bid: bool) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let Some(h) = self.msg.depth else {
            return Ok(out);
        };
        let (at, side) = if bid {
            (h.bids, "bids")
        } else {
            (h.asks, "asks")
        };
        let Some(pos) = at else {
            return Ok(out);
        };
        let mut got: Vec<(Decimal, Decimal, u64)> = Vec::new();
        read_entries(self.bytes(), pos, side, |p, z, q| got.push((p, z, q))).map_err(bad)?;
        for (p, z, q) in got {
            let t = (to_py_decimal(py, p)?, to_py_decimal(py, z)?, q);
            out.append(t.into_pyobject(py)?)?;
        }
        Ok(out)
    }
}

/// `None` or the value, as Python would print it.
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "None".to_owned(), |v| v.to_string())
}

/// An event class: struct, the getters every event has, then `$extra`.
macro_rules! event_class {
    ($ty:ident = $pyname:literal, $doc:literal, { $($extra:tt)* }) => {
        event_class!($ty = $pyname, $doc, dec [], { $($extra)* });
    };
    (
        $ty:ident = $pyname:literal, $doc:literal,
        dec [$($dn:ident = $df:expr),* $(,)?],
        { $($extra:tt)* }
    ) => {
        paste::paste! {
        #[doc = $doc]
        #[pyclass(frozen, name = $pyname, module = "hftws.kucoin")]
        pub(crate) struct $ty {
            pub(crate) f: KFrame,
        }

        #[pymethods]
        impl $ty {
            /// Event kind (`"level2"`, `"match"`, `"welcome"`, ...).
            #[getter]
            fn kind<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
                // Interned: routing reads it for every message.
                crate::py::router::kind_object(py, self.f.msg.env.kind.name())
            }
            /// The envelope `type` (`"message"`, `"welcome"`, `"pong"`, `"ack"`, `"error"`).
            #[getter(r#type)]
            fn frame_type<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
                span_text(py, self.f.bytes(), self.f.msg.env.frame_type)
            }
            /// `topic` (None for control frames).
            #[getter]
            fn topic<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                self.f.topic(py)
            }
            /// `subject` (None for control frames).
            #[getter]
            fn subject<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                self.f
                    .msg
                    .env
                    .subject
                    .map(|s| span_text(py, self.f.bytes(), s))
                    .transpose()
            }
            /// The symbol (topic suffix, else the payload's `symbol`).
            #[getter]
            fn symbol<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                self.f.symbol(py)
            }
            /// The frame as `json.loads` gives it.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                json_to_py(py, self.f.bytes(), 0)
            }
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let t = self.f.topic(py)?.map(|s| format!("{:?}", s.to_string()));
                Ok(format!(
                    "{}(kind={:?}, topic={})",
                    $pyname,
                    self.f.msg.env.kind.name(),
                    opt(t)
                ))
            }
            $(
                    #[doc = concat!("`", stringify!($df), "` as a float.")]
                    #[getter]
                    fn $dn(&self) -> PyResult<Option<f64>> {
                        self.f.float(&$df)
                    }
                    #[doc = concat!("`", stringify!($df), "` as an exact decimal.Decimal.")]
                    #[getter]
                    fn [<$dn _decimal>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                        self.f.dec(py, &$df)
                    }
                    #[doc = concat!("`", stringify!($df), "` as KuCoin's text.")]
                    #[getter]
                    fn [<$dn _str>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        self.f.dec_text(py, &$df)
                    }
            )*
            $($extra)*
        }
        }
    };
}

event_class!(
    PyKucoinControl = "KucoinControl",
    "`welcome`, `pong`, `ack` or `error` frame (`kucoin.md` §2.2).",
    {
        /// `id` (the connectId for `welcome`, the request id otherwise).
        #[getter]
        fn id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f
                .msg
                .env
                .id
                .map(|s| span_text(py, self.f.bytes(), s))
                .transpose()
        }
        /// `code` of an `error` frame (e.g. 509, 404, 401).
        #[getter]
        fn code(&self) -> Option<i64> {
            self.f.msg.env.code
        }
        /// `data` text of an `error` frame.
        #[getter]
        fn message<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f
                .msg
                .text
                .map(|s| span_text(py, self.f.bytes(), s))
                .transpose()
        }
    }
);

event_class!(
    PyKucoinLevel2 = "KucoinLevel2",
    "Spot `/market/level2` increment (`trade.l2update`, `kucoin.md` §4).",
    {
        /// `sequenceStart`.
        #[getter]
        fn sequence_start(&self) -> Option<u64> {
            self.f.msg.depth.and_then(|h| h.first)
        }
        /// `sequenceEnd`.
        #[getter]
        fn sequence_end(&self) -> Option<u64> {
            self.f.msg.depth.map(|h| h.last)
        }
        /// `time` (ms).
        #[getter]
        fn time(&self) -> Option<i64> {
            self.f.msg.depth.and_then(|h| h.time)
        }
        /// `changes.bids` as `(price, size, sequence)` in wire order (price 0 entries included).
        #[getter]
        fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.f.entries(py, true)
        }
        /// `changes.asks`, as `bids`.
        #[getter]
        fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.f.entries(py, false)
        }
    }
);

event_class!(
    PyKucoinFuturesLevel2 = "KucoinFuturesLevel2",
    "Futures `/contractMarket/level2` change (`kucoin.md` §7.2).",
    {
        /// `sequence`.
        #[getter]
        fn sequence(&self) -> Option<u64> {
            self.f.msg.depth.map(|h| h.last)
        }
        /// `sn` of the envelope.
        #[getter]
        fn sn(&self) -> Option<i64> {
            self.f.msg.env.sn
        }
        /// `timestamp` (ms).
        #[getter]
        fn timestamp(&self) -> Option<i64> {
            self.f.msg.depth.and_then(|h| h.time)
        }
        /// The change's price.
        #[getter]
        fn price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            self.f
                .msg
                .depth
                .and_then(|h| h.change)
                .map(|c| to_py_decimal(py, c.0))
                .transpose()
        }
        /// The change's side, `"buy"` (bids) or `"sell"` (asks).
        #[getter]
        fn side(&self) -> Option<&'static str> {
            self.f
                .msg
                .depth
                .and_then(|h| h.change)
                .map(|c| if c.1 { "buy" } else { "sell" })
        }
        /// The change's absolute size in contracts (0 removes the price).
        #[getter]
        fn size<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            self.f
                .msg
                .depth
                .and_then(|h| h.change)
                .map(|c| to_py_decimal(py, c.2))
                .transpose()
        }
    }
);

event_class!(
    PyKucoinDepthSnapshot = "KucoinDepthSnapshot",
    "Spot `/spotMarket/level2Depth5|50` or futures `/contractMarket/level2Depth5|50` top-N book.",
    {
        /// Futures `sequence` (None on spot, which carries none).
        #[getter]
        fn sequence(&self) -> Option<u64> {
            (self.f.msg.env.kind == Kind::FuturesDepth)
                .then(|| self.f.msg.depth.map(|h| h.last))
                .flatten()
        }
        /// `timestamp` (ms).
        #[getter]
        fn timestamp(&self) -> Option<i64> {
            self.f.msg.depth.and_then(|h| h.time)
        }
        /// Bids, best first, as `(price, size)`.
        #[getter]
        fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.f.pairs(py, true)
        }
        /// Asks, best first, as `(price, size)`.
        #[getter]
        fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.f.pairs(py, false)
        }
    }
);

// Prices and sizes have three views (float, `_decimal`, `_str`) like every exchange's events;
// `amount`, `trade_time`, the `bid_*`/`ask_*` and `update_id` names are the common trade and
// book ticker shapes (`hftws.events.Trade`, `hftws.events.BookTicker`).
event_class!(
    PyKucoinTrade = "KucoinTrade",
    "Spot `/market/match` (`match`) or futures `/contractMarket/execution` (`execution`) trade.",
    dec [price = ["price"], size = ["size"], amount = ["size"]],
    {
        /// Taker side, `"buy"` or `"sell"`.
        #[getter]
        fn side<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f.text(py, "side")
        }
        /// `sequence`.
        #[getter]
        fn sequence(&self) -> PyResult<Option<i64>> {
            self.f.int("sequence")
        }
        /// `tradeId`.
        #[getter]
        fn trade_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f.text(py, "tradeId")
        }
        /// `makerOrderId`.
        #[getter]
        fn maker_order_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f.text(py, "makerOrderId")
        }
        /// `takerOrderId`.
        #[getter]
        fn taker_order_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.f.text(py, "takerOrderId")
        }
        /// Trade time in ns (spot `time`, futures `ts`).
        #[getter]
        fn time_ns(&self) -> PyResult<Option<i64>> {
            match self.f.msg.env.kind {
                Kind::FuturesExecution => self.f.int("ts"),
                _ => self.f.int("time"),
            }
        }
        /// Trade time, Unix ms.
        #[getter]
        fn trade_time(&self) -> PyResult<Option<i64>> {
            Ok(self.time_ns()?.map(|ns| ns.div_euclid(1_000_000)))
        }
    }
);

event_class!(
    PyKucoinTicker = "KucoinTicker",
    "Spot `/market/ticker` (`ticker`) or futures `/contractMarket/tickerV2` (`futures_ticker`).",
    dec [
        price = ["price"],
        size = ["size"],
        bid_price = ["bestBid", "bestBidPrice"],
        bid_size = ["bestBidSize"],
        ask_price = ["bestAsk", "bestAskPrice"],
        ask_size = ["bestAskSize"],
    ],
    {
        /// `sequence`.
        #[getter]
        fn sequence(&self) -> PyResult<Option<i64>> {
            self.f.int("sequence")
        }
        /// `sequence` (the common book ticker's update id).
        #[getter]
        fn update_id(&self) -> PyResult<Option<i64>> {
            self.f.int("sequence")
        }
        /// Spot `time`/`Time` (ms) or futures `ts` (ns), as sent.
        #[getter]
        fn time(&self) -> PyResult<Option<i64>> {
            if self.f.msg.env.kind == Kind::FuturesTicker {
                return self.f.int("ts");
            }
            Ok(self.f.int("time")?.or(self.f.int("Time")?))
        }
        /// Quote time, Unix ms (futures `ts` is in ns).
        #[getter]
        fn time_ms(&self) -> PyResult<Option<i64>> {
            let t = self.time()?;
            Ok(if self.f.msg.env.kind == Kind::FuturesTicker {
                t.map(|ns| ns.div_euclid(1_000_000))
            } else {
                t
            })
        }
    }
);

event_class!(
    PyKucoinOther = "KucoinOther",
    "Any other frame (other topics, `notice`/`command` types); read it with `to_dict()`.",
    {}
);
