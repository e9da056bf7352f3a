//! Typed, immutable Python events for Gate.io frames (`hftws.gateio.Gate*`).
//!
//! Each event keeps one owned copy of its frame plus the decoded slots from the core
//! (`crate::gate`); Python objects (str, Decimal, level lists) are made only when an attribute
//! is read. Decimal fields have three views: `x` (float), `x_decimal` (exact
//! `decimal.Decimal`) and `x_str` (the exchange's original text). `to_dict()` rebuilds the
//! message as `json.loads` would; for a record that came in a list `result`, `result` holds
//! just that record.

use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyString};

use super::{FrameRef, Shared};
use crate::decimal::Decimal;
use crate::gate::channels::{
    index, Record, Slot, Tag, BALANCE, BOOK_TICKER, CANDLE, ORDER, POSITION, TICKER, TRADE,
    USER_TRADE,
};
use crate::gate::control::ErrorInfo;
use crate::gate::depth::{level_values, pair_of, DepthChannel, DepthUpdate};
use crate::gate::message::IdEcho;
use crate::json::Span;
use crate::py::convert::to_py_decimal;
use crate::py::frame::{
    json_to_py, py_decimal, slot_any, slot_decimal, slot_float, slot_text, span_text,
};

/// Envelope accessors shared by every event.
impl Shared {
    fn channel<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.head
            .channel
            .map(|s| span_text(py, self.bytes(), s))
            .transpose()
    }
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.head
            .event
            .map(|s| span_text(py, self.bytes(), s))
            .transpose()
    }
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        result: Option<(usize, usize)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let d = json_to_py(py, self.bytes(), 0)?;
        if let Some((start, _)) = result {
            d.set_item("result", json_to_py(py, self.bytes(), start)?)?;
        }
        Ok(d)
    }
    fn market(&self) -> &'static str {
        if self.head.futures {
            "futures"
        } else {
            "spot"
        }
    }
}

macro_rules! event_class {
    (
        $ty:ident, $kind:literal, $table:expr,
        dec [$($dn:ident = $df:literal),* $(,)?],
        $(eager [$($en:ident = $ef:literal),* $(,)?],)?
        int [$($inn:ident = $inf:literal),* $(,)?],
        str [$($sn:ident = $sf:literal),* $(,)?],
        bool [$($bn:ident = $bf:literal),* $(,)?],
        any [$($an:ident = $af:literal),* $(,)?],
        { $($extra:tt)* }
    ) => {
        paste::paste! {
            #[pymethods]
            impl $ty {
                /// Event kind. A class attribute: routing reads it for every message, and a
                /// read is then a type-dictionary lookup (no call, no new string).
                #[classattr]
                fn kind() -> &'static str {
                    $kind
                }
                /// `channel` of the frame.
                #[getter]
                fn channel<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                    self.f.channel(py)
                }
                /// `event` of the frame (None for obu pushes).
                #[getter]
                fn event<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                    self.f.event(py)
                }
                /// `time_ms` of the envelope.
                #[getter]
                fn time_ms(&self) -> Option<i64> {
                    self.f.head.time_ms
                }
                /// `time` of the envelope (seconds).
                #[getter]
                fn time(&self) -> Option<i64> {
                    self.f.head.time
                }
                /// "spot" or "futures".
                #[getter]
                fn market(&self) -> &'static str {
                    self.f.market()
                }
                /// The message as `json.loads` gives it (exchange field names, original strings).
                fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    self.f.to_dict(py, self.result_override())
                }
                fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                    let ch = self.f.channel(py)?.map(|s| s.to_string()).unwrap_or_default();
                    Ok(format!("{}(channel={:?}, time_ms={}{})", stringify!($ty).trim_start_matches("Py"), ch, opt(self.f.head.time_ms), self.repr_extra(py)?))
                }
                $(
                    #[doc = concat!("`", $df, "` as a float.")]
                    #[getter]
                    fn $dn(&self) -> Option<f64> {
                        slot_float(self.f.bytes(), self.slot(const { index($table, $df) }))
                    }
                    #[doc = concat!("`", $df, "` as an exact decimal.Decimal.")]
                    #[getter]
                    fn [<$dn _decimal>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                        slot_decimal(py, self.f.bytes(), self.slot(const { index($table, $df) }))
                    }
                    #[doc = concat!("`", $df, "` as the exchange's original text.")]
                    #[getter]
                    fn [<$dn _str>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.slot(const { index($table, $df) }))
                    }
                )*
                $($(
                    #[doc = concat!("`", $ef, "` as an exact decimal.Decimal.")]
                    #[getter]
                    fn [<$en _decimal>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                        slot_decimal(py, self.f.bytes(), self.slot(const { index($table, $ef) }))
                    }
                    #[doc = concat!("`", $ef, "` as the exchange's original text.")]
                    #[getter]
                    fn [<$en _str>]<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.slot(const { index($table, $ef) }))
                    }
                )*)?
                $(
                    #[doc = concat!("`", $inf, "`.")]
                    #[getter]
                    fn $inn(&self) -> Option<i64> {
                        self.slot(const { index($table, $inf) }).int()
                    }
                )*
                $(
                    #[doc = concat!("`", $sf, "`.")]
                    #[getter]
                    fn $sn<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
                        slot_text(py, self.f.bytes(), self.slot(const { index($table, $sf) }))
                    }
                )*
                $(
                    #[doc = concat!("`", $bf, "`.")]
                    #[getter]
                    fn $bn(&self) -> Option<bool> {
                        self.slot(const { index($table, $bf) }).boolean()
                    }
                )*
                $(
                    #[doc = concat!("`", $af, "` as sent (str, int or float).")]
                    #[getter]
                    fn $an<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                        slot_any(py, self.f.bytes(), self.slot(const { index($table, $af) }))
                    }
                )*
                $($extra)*
            }
        }
    };
}

macro_rules! record_struct {
    ($ty:ident, $pyname:literal, $doc:literal $(, { $($(#[doc = $mdoc:literal])* $m:ident),* $(,)? })?) => {
        #[doc = $doc]
        #[pyclass(frozen, name = $pyname, module = "hftws.gateio")]
        pub(crate) struct $ty {
            $($(
                $(#[doc = $mdoc])*
                #[pyo3(get)]
                pub(crate) $m: Py<PyAny>,
            )*)?
            pub(crate) f: FrameRef,
            pub(crate) rec: Record,
            pub(crate) in_list: bool,
        }
        impl $ty {
            #[inline]
            fn slot(&self, i: usize) -> crate::gate::channels::Slot {
                self.rec.slot(i)
            }
            fn result_override(&self) -> Option<(usize, usize)> {
                self.in_list.then_some(self.rec.span)
            }
            fn symbol_of(&self, py: Python<'_>, names: &[&str]) -> PyResult<Option<Py<PyString>>> {
                let fields = self.rec.kind.fields();
                for n in names {
                    if let Some(i) = fields.iter().position(|f| f.name == *n) {
                        if let Some(s) = slot_text(py, self.f.bytes(), self.rec.slot(i))? {
                            return Ok(Some(s.unbind()));
                        }
                    }
                }
                Ok(None)
            }
            fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
                let sym =
                    self.symbol_of(py, &["currency_pair", "contract", "s", "currency", "n"])?;
                Ok(sym.map(|s| format!(", symbol={s:?}")).unwrap_or_default())
            }
        }
    };
}

// The fields a strategy reads from every trade and book ticker are made when the event is
// (a float, an interned side): a struct member read costs Python a pointer load, where a
// getter call costs a native call and an object every time.
record_struct!(
    PyGateTrade,
    "GateTrade",
    "A public trade (`spot.trades`, `futures.trades`).",
    {
        /// `price` as a float.
        price,
        /// Traded quantity: spot `amount` as sent, or the futures `|size|` (contracts).
        amount,
        /// Taker side: spot `side`, or the sign of the futures `size`.
        side,
    }
);
record_struct!(
    PyGateBookTicker,
    "GateBookTicker",
    "Best bid/ask (`*.book_ticker`).",
    {
        /// `b` as a float.
        bid_price,
        /// `B` as a float.
        bid_size,
        /// `a` as a float.
        ask_price,
        /// `A` as a float.
        ask_size,
    }
);
record_struct!(PyGateTicker, "GateTicker", "24 h ticker (`*.tickers`).");
record_struct!(
    PyGateCandle,
    "GateCandle",
    "A candlestick (`*.candlesticks`)."
);
record_struct!(
    PyGateOrder,
    "GateOrder",
    "An own order update (`spot.orders`, `futures.orders`)."
);
record_struct!(
    PyGateUserTrade,
    "GateUserTrade",
    "An own fill (`*.usertrades`)."
);
record_struct!(
    PyGatePosition,
    "GatePosition",
    "A position update (`futures.positions`)."
);
record_struct!(
    PyGateBalance,
    "GateBalance",
    "A balance change (`*.balances`)."
);

// `trade_id` repeats `id` under the common trade shape's name (`hftws.events.Trade`).
event_class!(PyGateTrade, "trade", TRADE,
    dec [size = "size", create_time_ms = "create_time_ms"],
    eager [price = "price"],
    int [id = "id", trade_id = "id", id_market = "id_market", create_time = "create_time"],
    str [currency_pair = "currency_pair", contract = "contract", range = "range"],
    bool [is_internal = "is_internal"],
    any [],
    {
        /// `amount` as an exact decimal.Decimal.
        #[getter]
        fn amount_decimal<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            match self.amount_str(py)? {
                Some(text) => py_decimal(py, &text).map(Some),
                None => Ok(None),
            }
        }
        /// `amount` as the exchange's text (a futures size without its sign).
        #[getter]
        fn amount_str<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            let s = self.amount_slot();
            if !matches!(s.tag, Tag::Str | Tag::Num) {
                return Ok(None);
            }
            let text = s
                .span
                .decode(self.f.bytes())
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.describe()))?;
            let text = if self.f.market() == "futures" {
                text.strip_prefix('-').unwrap_or(&text)
            } else {
                &text
            };
            Ok(Some(PyString::new(py, text)))
        }
        /// Trade time, Unix ms (`create_time_ms` without its fraction; the common trade time).
        #[getter]
        fn trade_time(&self, py: Python<'_>) -> PyResult<Option<i64>> {
            let slot = self.slot(const { index(TRADE, "create_time_ms") });
            if let Some(ms) = slot.decimal() {
                return Ok(i64::try_from(ms.raw() / Decimal::ONE_RAW).ok());
            }
            // Exponents or more than 18 decimals: Python's int(Decimal) reads the text exactly.
            let Some(exact) = slot_decimal(py, self.f.bytes(), slot)? else {
                return Ok(None);
            };
            Ok(exact.call_method0("__int__").ok().and_then(|i| i.extract().ok()))
        }
        /// Pair (spot) or contract (futures).
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<Py<PyString>>> {
            self.symbol_of(py, &["currency_pair", "contract"])
        }
    }
);

/// `Some(float)` or None, as a Python object.
fn float_obj(py: Python<'_>, v: Option<f64>) -> Py<PyAny> {
    match v {
        Some(v) => PyFloat::new(py, v).into_any().unbind(),
        None => py.None(),
    }
}

/// The decimal slot `i` of `rec` as a float object (or None).
fn slot_float_obj(py: Python<'_>, f: &Shared, rec: &Record, i: usize) -> Py<PyAny> {
    float_obj(py, slot_float(f.bytes(), rec.slot(i)))
}

/// Spot `amount`, or the futures `size` (signed: the sign is the side).
fn amount_slot(f: &Shared, rec: &Record) -> Slot {
    if f.head.futures {
        rec.slot(const { index(TRADE, "size") })
    } else {
        rec.slot(const { index(TRADE, "amount") })
    }
}

/// A side as sent: "buy" and "sell" are interned (no string is made per trade).
fn side_text<'py>(py: Python<'py>, f: &Shared, s: Slot) -> PyResult<Option<Bound<'py, PyString>>> {
    if s.tag == Tag::Str && !s.span.escaped {
        match s.span.raw(f.bytes()) {
            b"buy" => return Ok(Some(pyo3::intern!(py, "buy").clone())),
            b"sell" => return Ok(Some(pyo3::intern!(py, "sell").clone())),
            _ => {}
        }
    }
    slot_text(py, f.bytes(), s)
}

impl PyGateTrade {
    /// Spot `amount`, or the futures `size` (signed: the sign is the side).
    fn amount_slot(&self) -> Slot {
        amount_slot(&self.f, &self.rec)
    }

    /// The event, with the fields every strategy reads made now.
    pub(crate) fn new(py: Python<'_>, f: FrameRef, rec: Record, in_list: bool) -> PyResult<Self> {
        let price = slot_float_obj(py, &f, &rec, const { index(TRADE, "price") });
        let amount = slot_float(f.bytes(), amount_slot(&f, &rec));
        let amount = float_obj(py, amount.map(|v| if f.head.futures { v.abs() } else { v }));
        let side = match side_text(py, &f, rec.slot(const { index(TRADE, "side") }))? {
            Some(s) => Some(s),
            None => rec.slot(const { index(TRADE, "size") }).decimal().map(|d| {
                let s = if d.is_negative() {
                    pyo3::intern!(py, "sell")
                } else {
                    pyo3::intern!(py, "buy")
                };
                s.clone()
            }),
        };
        let side = side.map_or_else(|| py.None(), |s| s.into_any().unbind());
        Ok(Self {
            price,
            amount,
            side,
            f,
            rec,
            in_list,
        })
    }
}

impl PyGateBookTicker {
    /// The event, with the four prices and sizes made now.
    pub(crate) fn new(py: Python<'_>, f: FrameRef, rec: Record, in_list: bool) -> Self {
        const T: &[crate::gate::channels::Field] = BOOK_TICKER;
        Self {
            bid_price: slot_float_obj(py, &f, &rec, const { index(T, "b") }),
            bid_size: slot_float_obj(py, &f, &rec, const { index(T, "B") }),
            ask_price: slot_float_obj(py, &f, &rec, const { index(T, "a") }),
            ask_size: slot_float_obj(py, &f, &rec, const { index(T, "A") }),
            f,
            rec,
            in_list,
        }
    }
}

event_class!(PyGateBookTicker, "book_ticker", BOOK_TICKER,
    dec [],
    eager [bid_price = "b", bid_size = "B", ask_price = "a", ask_size = "A"],
    int [book_time_ms = "t", update_id = "u"],
    str [symbol = "s"],
    bool [],
    any [],
    {}
);

event_class!(PyGateTicker, "ticker", TICKER,
    dec [last = "last", lowest_ask = "lowest_ask", highest_bid = "highest_bid",
        change_percentage = "change_percentage", base_volume = "base_volume",
        quote_volume = "quote_volume", high_24h = "high_24h", low_24h = "low_24h",
        funding_rate = "funding_rate", funding_rate_indicative = "funding_rate_indicative",
        mark_price = "mark_price", index_price = "index_price", total_size = "total_size",
        volume_24h = "volume_24h", volume_24h_base = "volume_24h_base",
        volume_24h_quote = "volume_24h_quote", volume_24h_settle = "volume_24h_settle",
        volume_24h_btc = "volume_24h_btc", volume_24h_usd = "volume_24h_usd",
        quanto_base_rate = "quanto_base_rate"],
    int [],
    str [currency_pair = "currency_pair", contract = "contract"],
    bool [],
    any [],
    {
        /// Pair (spot) or contract (futures).
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<Py<PyString>>> {
            self.symbol_of(py, &["currency_pair", "contract"])
        }
    }
);

event_class!(PyGateCandle, "candle", CANDLE,
    dec [open = "o", high = "h", low = "l", close = "c", volume = "v", amount = "a"],
    int [start = "t"],
    str [name = "n"],
    bool [closed = "w"],
    any [],
    {
        /// Interval part of `n` (`1m`, `mark_1m`, ...).
        #[getter]
        fn interval(&self, py: Python<'_>) -> PyResult<Option<String>> {
            Ok(self.name_parts(py)?.map(|(i, _)| i))
        }
        /// Pair/contract part of `n`.
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<String>> {
            Ok(self.name_parts(py)?.map(|(_, s)| s))
        }
    }
);

impl PyGateCandle {
    /// `n` is `<interval>_<pair>`; the pair has an `_` itself, so split at the first one,
    /// after a `mark_`/`index_` prefix (`gateio.md` §3.3, §6.2).
    fn name_parts(&self, py: Python<'_>) -> PyResult<Option<(String, String)>> {
        let Some(n) = slot_text(py, self.f.bytes(), self.slot(const { index(CANDLE, "n") }))?
        else {
            return Ok(None);
        };
        let n = n.to_str()?;
        let skip = ["mark_", "index_"]
            .iter()
            .find(|p| n.starts_with(*p))
            .map_or(0, |p| p.len());
        Ok(n.get(skip..)
            .and_then(|rest| rest.split_once('_'))
            .map(|(i, s)| (format!("{}{i}", &n[..skip]), s.to_owned())))
    }
}

event_class!(PyGateOrder, "order", ORDER,
    dec [amount = "amount", price = "price", left = "left", filled_total = "filled_total",
        filled_amount = "filled_amount", avg_deal_price = "avg_deal_price",
        fill_price = "fill_price", size = "size", iceberg = "iceberg", fee = "fee",
        point_fee = "point_fee", gt_fee = "gt_fee", rebated_fee = "rebated_fee",
        create_time = "create_time", create_time_ms = "create_time_ms",
        update_time = "update_time", update_time_ms = "update_time_ms",
        finish_time = "finish_time", finish_time_ms = "finish_time_ms", mkfr = "mkfr",
        tkfr = "tkfr", refr = "refr", slippage = "slippage",
        stop_profit_price = "stop_profit_price", stop_loss_price = "stop_loss_price",
        market_order_slip_ratio = "market_order_slip_ratio"],
    int [],
    str [text = "text", order_event = "event", currency_pair = "currency_pair",
        contract = "contract", type_ = "type", account = "account", side = "side",
        time_in_force = "time_in_force", tif = "tif", fee_currency = "fee_currency",
        rebated_fee_currency = "rebated_fee_currency", stp_act = "stp_act",
        finish_as = "finish_as", status = "status", amend_text = "amend_text",
        biz_info = "biz_info"],
    bool [gt_discount = "gt_discount", auto_repay = "auto_repay", auto_borrow = "auto_borrow",
        is_close = "is_close", is_liq = "is_liq", is_reduce_only = "is_reduce_only"],
    any [id = "id", user = "user", stp_id = "stp_id", refu = "refu", update_id = "update_id"],
    {
        /// Pair (spot) or contract (futures).
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<Py<PyString>>> {
            self.symbol_of(py, &["currency_pair", "contract"])
        }
    }
);

event_class!(PyGateUserTrade, "user_trade", USER_TRADE,
    dec [amount = "amount", size = "size", price = "price", fee = "fee",
        point_fee = "point_fee", gt_fee = "gt_fee", create_time = "create_time",
        create_time_ms = "create_time_ms"],
    int [],
    str [currency_pair = "currency_pair", contract = "contract", side = "side", role = "role",
        fee_currency = "fee_currency", text = "text", amend_text = "amend_text",
        biz_info = "biz_info"],
    bool [],
    any [id = "id", user_id = "user_id", order_id = "order_id", id_market = "id_market"],
    {
        /// Pair (spot) or contract (futures).
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<Py<PyString>>> {
            self.symbol_of(py, &["currency_pair", "contract"])
        }
    }
);

event_class!(PyGatePosition, "position", POSITION,
    dec [size = "size", entry_price = "entry_price", leverage = "leverage",
        cross_leverage_limit = "cross_leverage_limit", leverage_max = "leverage_max",
        liq_price = "liq_price", maintenance_rate = "maintenance_rate", margin = "margin",
        realised_pnl = "realised_pnl", realised_point = "realised_point",
        history_pnl = "history_pnl", history_point = "history_point",
        last_close_pnl = "last_close_pnl", risk_limit = "risk_limit"],
    int [record_time = "time", record_time_ms = "time_ms"],
    str [contract = "contract", mode = "mode"],
    bool [],
    any [user = "user", update_id = "update_id"],
    {
        /// The contract.
        #[getter]
        fn symbol(&self, py: Python<'_>) -> PyResult<Option<Py<PyString>>> {
            self.symbol_of(py, &["contract"])
        }
    }
);

event_class!(PyGateBalance, "balance", BALANCE,
    dec [change = "change", total = "total", available = "available", freeze = "freeze",
        freeze_change = "freeze_change", balance = "balance", timestamp_ms = "timestamp_ms"],
    int [timestamp = "timestamp", record_time = "time", record_time_ms = "time_ms"],
    str [currency = "currency", change_type = "change_type", text = "text", type_ = "type"],
    bool [],
    any [user = "user"],
    {}
);

/// A depth push or snapshot (`*.order_book_update`, `*.obu`, `*.order_book`).
#[pyclass(frozen, name = "GateDepthUpdate", module = "hftws.gateio")]
pub(crate) struct PyGateDepthUpdate {
    pub(crate) f: FrameRef,
    pub(crate) u: DepthUpdate,
    pub(crate) channel: DepthChannel,
}

impl PyGateDepthUpdate {
    fn result_override(&self) -> Option<(usize, usize)> {
        None
    }
    fn repr_extra(&self, _py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            ", symbol={}, U={}, u={}, full={}, bids={}, asks={}",
            opt(self.symbol().map(|s| format!("{s:?}"))),
            opt(self.u.first_id),
            self.u.last_id,
            self.u.snapshot,
            self.u.levels.bids.len(),
            self.u.levels.asks.len()
        ))
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
                .map_err(|e| crate::py::errors::gate_error(py, &e))?;
            for (p, s) in items {
                list.append((value_text(py, p)?, value_text(py, s)?))?;
            }
        }
        Ok(list)
    }
}

/// `None` or the value, as Python would print it.
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "None".to_owned(), |v| v.to_string())
}

fn value_text<'py>(py: Python<'py>, v: crate::json::Val<'_>) -> PyResult<Bound<'py, PyString>> {
    use crate::json::Val;
    Ok(match v {
        Val::Str(j) => PyString::new(
            py,
            &j.decode()
                .map_err(|_| pyo3::exceptions::PyValueError::new_err("bad string"))?,
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

event_class!(PyGateDepthUpdate, "depth", &[],
    dec [], int [], str [], bool [], any [],
    {
        /// Pair (for obu: parsed out of the stream name `ob.PAIR.LEVEL`).
        #[getter]
        fn symbol(&self) -> Option<String> {
            let s = self.u.symbol?;
            let text = s.decode(self.f.bytes()).ok()?;
            pair_of(&text, self.channel, 0).ok().map(str::to_owned)
        }
        /// obu stream name (`ob.BTC_USDT.50`), None on other channels.
        #[getter]
        fn stream<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            match (self.channel, self.u.symbol) {
                (DepthChannel::Obu, Some(s)) => Ok(Some(span_text(py, self.f.bytes(), s)?)),
                _ => Ok(None),
            }
        }
        /// `U`: first update id (None on snapshots).
        #[getter]
        fn first_id(&self) -> Option<u64> {
            self.u.first_id
        }
        /// `u` (or `lastUpdateId` / `id` on snapshot channels): last update id.
        #[getter]
        fn last_id(&self) -> u64 {
            self.u.last_id
        }
        /// True when the push replaces the book (`full: true`, or a `*.order_book` snapshot).
        #[getter]
        fn full(&self) -> bool {
            self.u.snapshot
        }
        /// `t`: book time in ms.
        #[getter]
        fn book_time_ms(&self) -> Option<i64> {
            self.u.time
        }
        /// `l`: depth level of the stream.
        #[getter]
        fn level<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
            self.u.level.map(|s: Span| span_text(py, self.f.bytes(), s)).transpose()
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
        /// Bids as the exchange's original `(price, size)` strings.
        #[getter]
        fn bids_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.level_strings(py, self.u.bids_span)
        }
        /// Asks as the exchange's original `(price, size)` strings.
        #[getter]
        fn asks_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            self.level_strings(py, self.u.asks_span)
        }
    }
);

macro_rules! plain_struct {
    ($ty:ident, $pyname:literal, $doc:literal $(, $field:ident : $fty:ty)*) => {
        #[doc = $doc]
        #[pyclass(frozen, name = $pyname, module = "hftws.gateio")]
        pub(crate) struct $ty {
            pub(crate) f: FrameRef,
            $(pub(crate) $field: $fty,)*
        }
        impl $ty {
            fn result_override(&self) -> Option<(usize, usize)> {
                None
            }
        }
    };
}

plain_struct!(PyGateAck, "GateAck", "A subscribe/unsubscribe ack without an error.", status: Option<Span>);
plain_struct!(PyGateError, "GateError", "An error object (refused request, auth failure).", info: ErrorInfo);
plain_struct!(PyGatePong, "GatePong", "`spot.pong` / `futures.pong`.");
plain_struct!(
    PyGateOther,
    "GateOther",
    "A frame of a channel hftws does not model."
);

fn id_echo<'py>(py: Python<'py>, f: &Shared) -> PyResult<Bound<'py, PyAny>> {
    match f.head.id {
        Some(IdEcho::Str(span)) => slot_any(
            py,
            f.bytes(),
            Slot {
                span,
                tag: Tag::Str,
                ..Slot::default()
            },
        ),
        Some(IdEcho::Num(span)) => slot_any(
            py,
            f.bytes(),
            Slot {
                span,
                tag: Tag::Num,
                ..Slot::default()
            },
        ),
        None => Ok(py.None().into_bound(py)),
    }
}

impl PyGateAck {
    fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            ", event={:?}, success={}",
            self.f.event(py)?.map(|s| s.to_string()),
            self.success_flag()
        ))
    }
    fn success_flag(&self) -> bool {
        self.status
            .is_none_or(|s| s.raw(self.f.bytes()) == b"success")
    }
}

event_class!(PyGateAck, "ack", &[], dec [], int [], str [], bool [], any [], {
    /// True unless `result.status` says otherwise (a refusal with an error object is a GateError).
    #[getter]
    fn success(&self) -> bool {
        self.success_flag()
    }
    /// `result.status` as sent.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.status.map(|s| span_text(py, self.f.bytes(), s)).transpose()
    }
    /// Request `id` echo.
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        id_echo(py, &self.f)
    }
});

impl PyGateError {
    fn repr_extra(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            ", code={:?}, message={:?}, class={}",
            self.info.code,
            self.message(py)?.map(|s| s.to_string()),
            self.info.class.name()
        ))
    }
}

event_class!(PyGateError, "error", &[], dec [], int [], str [], bool [], any [], {
    /// `error.code`.
    #[getter]
    fn code(&self) -> Option<i64> {
        self.info.code
    }
    /// `error.message`.
    #[getter]
    fn message<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.info.message.map(|s| span_text(py, self.f.bytes(), s)).transpose()
    }
    /// `label` when the message is itself JSON (`INVALID_KEY`, ...).
    #[getter]
    fn label(&self) -> Option<&str> {
        self.info.label.as_deref()
    }
    /// True for authentication failures (codes 4/6/11, or code 2 with an auth label).
    #[getter]
    fn is_auth(&self) -> bool {
        self.info.class == crate::gate::control::ErrorClass::Auth
    }
    /// "auth", "transient" (code 3: retry later) or "permanent".
    #[getter]
    fn error_class(&self) -> &'static str {
        self.info.class.name()
    }
    /// Request `id` echo.
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        id_echo(py, &self.f)
    }
});

impl PyGatePong {
    fn repr_extra(&self, _py: Python<'_>) -> PyResult<String> {
        Ok(String::new())
    }
}
event_class!(PyGatePong, "pong", &[], dec [], int [], str [], bool [], any [], {});

impl PyGateOther {
    fn repr_extra(&self, _py: Python<'_>) -> PyResult<String> {
        Ok(String::new())
    }
}
event_class!(PyGateOther, "other", &[], dec [], int [], str [], bool [], any [], {});
