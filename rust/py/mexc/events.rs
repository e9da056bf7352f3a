//! Typed, immutable Python events for MEXC pushes (`hftws.mexc.decode`).
//!
//! An event holds the frame's `bytes` object and the decoded body borrowing from it, so
//! building one copies nothing: Python strings, floats and `Decimal`s are made only when an
//! attribute is read. Every decimal field has three accessors: `name` (float, correctly
//! rounded; None when the field is absent), `name_decimal` (exact `decimal.Decimal`) and
//! `name_str` (the text as sent). `to_dict()` renders the push in protobuf-JSON shape keyed by
//! the schema's field names (`proto/`), with int64 values as ints.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::{value_to_py, Cart};
use crate::mexc::bodies::{
    DepthLevel, Message, PrivateAccount, PrivateDeals, PrivateOrders, PublicAggreBookTicker,
    PublicAggreDealsItem, PublicBookTicker, PublicIncreaseDepths, PublicMiniTicker,
    PublicSpotKline,
};
use crate::mexc::{Dec, Header, Value, Ver};
use crate::py::convert::to_py_decimal;

pub(crate) fn dec_float(d: &Dec<'_>) -> Option<f64> {
    d.value.map(crate::decimal::Decimal::to_f64)
}

pub(crate) fn dec_py<'py>(py: Python<'py>, d: &Dec<'_>) -> PyResult<Option<Bound<'py, PyAny>>> {
    d.value.map(|v| to_py_decimal(py, v)).transpose()
}

/// The wrapper fields plus this body, as `to_dict` renders a whole push.
pub(crate) fn wrap<'a>(header: &Header<'a>, name: &'static str, body: Value<'a>) -> Value<'a> {
    let mut out = Vec::with_capacity(6);
    header.write_value(&mut out);
    out.push((name, body));
    Value::Msg(out)
}

pub(crate) fn side_name(trade_type: i32) -> Option<&'static str> {
    match trade_type {
        1 => Some("buy"),
        2 => Some("sell"),
        _ => None,
    }
}

/// Declares one event class: its struct (frame, header, body, wrapper field, whether it is a
/// whole push or an item of a batch), the header getters every event has, `to_dict`, a repr,
/// the three accessors of each listed decimal field, and the class's own methods.
macro_rules! event_class {
    (
        $(#[$doc:meta])*
        $cls:ident = $pyname:literal, kind = $kind:literal, body = $body:ident;
        decimals { $( $f:ident, $fd:ident, $fs:ident = $($field:ident).+; )* }
        $($rest:tt)*
    ) => {
        paste::paste! {
            /// The wrapper header and this event's body, both borrowing the frame.
            #[derive(yoke::Yokeable)]
            pub(crate) struct [<$cls Part>]<'a> {
                pub(crate) header: Header<'a>,
                pub(crate) body: $body<'a>,
            }
        }

        $(#[$doc])*
        #[pyclass(frozen, name = $pyname, module = "hftws.mexc")]
        pub(crate) struct $cls {
            /// Header and body yoked to the frame they borrow from (see [`Cart`]).
            pub(crate) part: yoke::Yoke<paste::paste!([<$cls Part>]<'static>), Cart>,
            /// Wrapper field number of the push (301-315).
            pub(crate) field: u32,
            /// False for an item of a batch: `to_dict` then renders the item alone.
            pub(crate) standalone: bool,
        }

        impl $cls {
            /// The wrapper header.
            #[inline]
            pub(crate) fn header(&self) -> &Header<'_> {
                &self.part.get().header
            }
            /// The decoded body.
            #[inline]
            pub(crate) fn body(&self) -> &$body<'_> {
                &self.part.get().body
            }
            /// The frame's `bytes` object.
            #[inline]
            pub(crate) fn frame(&self) -> &Py<pyo3::types::PyBytes> {
                self.part.backing_cart()
            }
        }

        #[pymethods]
        impl $cls {
            /// Event kind (an interned string: routing reads it for every message).
            #[getter]
            fn kind<'py>(&self, py: Python<'py>) -> &Bound<'py, pyo3::types::PyString> {
                pyo3::intern!(py, $kind)
            }
            /// Full channel string of the push.
            #[getter]
            fn channel(&self) -> &str {
                self.header().channel
            }
            /// `symbolId` of the wrapper, if sent.
            #[getter]
            fn symbol_id(&self) -> Option<&str> {
                self.header().symbol_id
            }
            /// Push time (Unix ms), if sent.
            #[getter]
            fn send_time(&self) -> Option<i64> {
                self.header().send_time
            }
            /// Message creation time (Unix ms), if sent.
            #[getter]
            fn create_time(&self) -> Option<i64> {
                self.header().create_time
            }
            /// The frame's bytes (shared, not copied).
            #[getter]
            fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
                self.frame().bind(py).clone()
            }
            /// True for an item of a batch event (`to_dict` then renders the item alone).
            #[getter]
            fn is_item(&self) -> bool {
                !self.standalone
            }
            /// Wrapper body field number (301-315).
            #[getter]
            fn body_field(&self) -> u32 {
                self.field
            }
            /// Schema name of the wrapper body field (`publicAggreDepths`, ...).
            #[getter]
            fn body_name(&self) -> &'static str {
                crate::mexc::push::body_name(self.field).unwrap_or("body")
            }
            /// The push as nested dicts keyed by the schema's field names.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                value_to_py(py, &self.to_value())
            }
            fn __repr__(&self) -> String {
                format!(
                    "<{} {} channel='{}' send_time={}>",
                    $pyname,
                    self.body_name(),
                    self.header().channel.escape_debug(),
                    self.header().send_time.map_or_else(|| "None".to_owned(), |t| t.to_string())
                )
            }
            $(
                /// Float value of the decimal field (None when absent).
                #[getter]
                fn $f(&self) -> Option<f64> {
                    dec_float(&self.body().$($field).+)
                }
                /// Exact `decimal.Decimal` value (None when absent).
                #[getter]
                fn $fd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
                    dec_py(py, &self.body().$($field).+)
                }
                /// The decimal as sent.
                #[getter]
                fn $fs(&self) -> &str {
                    self.body().$($field).+.text
                }
            )*
            $($rest)*
        }
    };
}

pub(crate) use event_class;

/// One trade of `publicAggreDeals` (314) or `publicDeals` (301, no `tradeId`).
#[derive(Clone)]
pub(crate) struct TradeBody<'a> {
    pub(crate) item: PublicAggreDealsItem<'a>,
    pub(crate) aggregated: bool,
}

event_class! {
    /// One public trade.
    PyMexcTrade = "MexcTrade", kind = "trade", body = TradeBody;
    decimals {
        price, price_decimal, price_str = item.price;
        quantity, quantity_decimal, quantity_str = item.quantity;
        // The common trade shape (`hftws.events.Trade`) calls the base quantity `amount`.
        amount, amount_decimal, amount_str = item.quantity;
    }
    /// 1 buy, 2 sell.
    #[getter]
    fn trade_type(&self) -> i32 {
        self.body().item.trade_type
    }
    /// 'buy', 'sell' or None.
    #[getter]
    fn side(&self) -> Option<&'static str> {
        side_name(self.body().item.trade_type)
    }
    /// Trade time, Unix ms.
    #[getter]
    fn time(&self) -> i64 {
        self.body().item.time
    }
    /// Trade time, Unix ms (the common trade shape's name for `time`).
    #[getter]
    fn trade_time(&self) -> i64 {
        self.body().item.time
    }
    /// Opaque trade id (aggregated trades), None when not sent.
    #[getter]
    fn trade_id(&self) -> Option<&str> {
        Some(self.body().item.trade_id).filter(|s| !s.is_empty())
    }
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
}

impl PyMexcTrade {
    fn to_value(&self) -> Value<'_> {
        let i = &self.body().item;
        if self.body().aggregated {
            return i.to_value();
        }
        Value::Msg(vec![
            ("price", Value::Str(i.price.text)),
            ("quantity", Value::Str(i.quantity.text)),
            ("tradeType", Value::Int(i64::from(i.trade_type))),
            ("time", Value::Int(i.time)),
        ])
    }
}

/// A best bid/ask: `publicAggreBookTicker` (315), `publicBookTicker` (305) or an item of
/// `publicBookTickerBatch` (311), normalised to the aggregated shape.
#[derive(Clone)]
pub(crate) struct TickerBody<'a> {
    pub(crate) t: PublicAggreBookTicker<'a>,
    pub(crate) aggregated: bool,
}

impl<'a> TickerBody<'a> {
    pub(crate) fn plain(t: &PublicBookTicker<'a>) -> Self {
        Self {
            t: PublicAggreBookTicker {
                bid_price: t.bid_price,
                bid_quantity: t.bid_quantity,
                ask_price: t.ask_price,
                ask_quantity: t.ask_quantity,
                version: Ver::default(),
                last_order_create_time: 0,
            },
            aggregated: false,
        }
    }
}

event_class! {
    /// Best bid and ask.
    PyMexcBookTicker = "MexcBookTicker", kind = "book_ticker", body = TickerBody;
    decimals {
        bid_price, bid_price_decimal, bid_price_str = t.bid_price;
        bid_quantity, bid_quantity_decimal, bid_quantity_str = t.bid_quantity;
        ask_price, ask_price_decimal, ask_price_str = t.ask_price;
        ask_quantity, ask_quantity_decimal, ask_quantity_str = t.ask_quantity;
        // The common book ticker shape (`hftws.events.BookTicker`) calls them sizes.
        bid_size, bid_size_decimal, bid_size_str = t.bid_quantity;
        ask_size, ask_size_decimal, ask_size_str = t.ask_quantity;
    }
    /// Book version (aggregated ticker, 2026-06), None when not sent.
    #[getter]
    fn version(&self) -> Option<u64> {
        self.body().t.version.value
    }
    /// The common name of `version`.
    #[getter]
    fn update_id(&self) -> Option<u64> {
        self.body().t.version.value
    }
    /// Push time (Unix ms), if sent: the common ticker time.
    #[getter]
    fn time_ms(&self) -> Option<i64> {
        self.header().send_time
    }
    /// `lastOrderCreateTime` (aggregated ticker, 2026-06); 0 when not sent.
    #[getter]
    fn last_order_create_time(&self) -> i64 {
        self.body().t.last_order_create_time
    }
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
}

impl PyMexcBookTicker {
    fn to_value(&self) -> Value<'_> {
        let t = &self.body().t;
        let body = if self.body().aggregated {
            t.to_value()
        } else {
            PublicBookTicker {
                bid_price: t.bid_price,
                bid_quantity: t.bid_quantity,
                ask_price: t.ask_price,
                ask_quantity: t.ask_quantity,
            }
            .to_value()
        };
        if self.standalone {
            wrap(self.header(), self.body_name(), body)
        } else {
            body
        }
    }
}

event_class! {
    /// One candle (`publicSpotKline`, 308); window times are Unix seconds.
    PyMexcKline = "MexcKline", kind = "kline", body = PublicSpotKline;
    decimals {
        open, open_decimal, open_str = opening_price;
        close, close_decimal, close_str = closing_price;
        high, high_decimal, high_str = highest_price;
        low, low_decimal, low_str = lowest_price;
        volume, volume_decimal, volume_str = volume;
        amount, amount_decimal, amount_str = amount;
    }
    /// `Min1` ... `Month1`.
    #[getter]
    fn interval(&self) -> &str {
        self.body().interval
    }
    /// Candle open time, Unix seconds.
    #[getter]
    fn window_start(&self) -> i64 {
        self.body().window_start
    }
    /// Candle close time, Unix seconds.
    #[getter]
    fn window_end(&self) -> i64 {
        self.body().window_end
    }
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
}

impl PyMexcKline {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

event_class! {
    /// Rolling ticker of one symbol (`publicMiniTicker`, 309, or an item of 310).
    PyMexcMiniTicker = "MexcMiniTicker", kind = "mini_ticker", body = PublicMiniTicker;
    decimals {
        price, price_decimal, price_str = price;
        rate, rate_decimal, rate_str = rate;
        zoned_rate, zoned_rate_decimal, zoned_rate_str = zoned_rate;
        high, high_decimal, high_str = high;
        low, low_decimal, low_str = low;
        volume, volume_decimal, volume_str = volume;
        quantity, quantity_decimal, quantity_str = quantity;
        last_close_rate, last_close_rate_decimal, last_close_rate_str = last_close_rate;
        last_close_zoned_rate, last_close_zoned_rate_decimal, last_close_zoned_rate_str =
            last_close_zoned_rate;
        last_close_high, last_close_high_decimal, last_close_high_str = last_close_high;
        last_close_low, last_close_low_decimal, last_close_low_str = last_close_low;
    }
    /// The ticker's symbol (the body's, else the wrapper's).
    #[getter]
    fn symbol(&self) -> Option<&str> {
        Some(self.body().symbol).filter(|s| !s.is_empty()).or(self.header().symbol)
    }
}

impl PyMexcMiniTicker {
    fn to_value(&self) -> Value<'_> {
        if self.standalone {
            wrap(self.header(), self.body_name(), self.body().to_value())
        } else {
            self.body().to_value()
        }
    }
}

/// The levels and versions of a depth body, whatever its kind.
#[derive(Clone)]
pub(crate) struct DepthBody<'a> {
    pub(crate) asks: Vec<DepthLevel<'a>>,
    pub(crate) bids: Vec<DepthLevel<'a>>,
    pub(crate) event_type: &'a str,
    pub(crate) from: Ver<'a>,
    pub(crate) to: Ver<'a>,
    pub(crate) last_order_create_time: i64,
}

impl<'a> DepthBody<'a> {
    pub(crate) fn increase(b: PublicIncreaseDepths<'a>) -> Self {
        Self {
            asks: b.asks,
            bids: b.bids,
            event_type: b.event_type,
            from: b.version,
            to: b.version,
            last_order_create_time: 0,
        }
    }
}

fn levels_float<'py>(py: Python<'py>, l: &[DepthLevel<'_>]) -> PyResult<Bound<'py, PyList>> {
    let f = |d: &Dec<'_>| dec_float(d).unwrap_or(f64::NAN);
    PyList::new(py, l.iter().map(|x| (f(&x.price), f(&x.quantity))))
}

fn levels_decimal<'py>(py: Python<'py>, l: &[DepthLevel<'_>]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for x in l {
        out.append((dec_py(py, &x.price)?, dec_py(py, &x.quantity)?))?;
    }
    Ok(out)
}

fn levels_str<'py>(py: Python<'py>, l: &[DepthLevel<'_>]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, l.iter().map(|x| (x.price.text, x.quantity.text)))
}

event_class! {
    /// A depth push: aggregated delta (313), per-version delta (302 or an item of 312) or a
    /// top-N snapshot (303, `is_snapshot`). Sizes are absolute; zero deletes the level.
    PyMexcDepthUpdate = "MexcDepthUpdate", kind = "depth", body = DepthBody;
    decimals {}
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// Channel without the symbol.
    #[getter]
    fn event_type(&self) -> &str {
        self.body().event_type
    }
    /// First version covered (`fromVersion`, or `version`).
    #[getter]
    #[allow(clippy::wrong_self_convention)] // the schema's name, as a Python property
    fn from_version(&self) -> Option<u64> {
        self.body().from.value
    }
    /// Last version covered (`toVersion`, or `version`).
    #[getter]
    fn to_version(&self) -> Option<u64> {
        self.body().to.value
    }
    /// True for a top-N snapshot (`publicLimitDepths`).
    #[getter]
    fn is_snapshot(&self) -> bool {
        self.field == 303
    }
    /// `lastOrderCreateTime` (2026-06); 0 when not sent.
    #[getter]
    fn last_order_create_time(&self) -> i64 {
        self.body().last_order_create_time
    }
    /// Bid levels as `(price, size)` floats, in wire order.
    #[getter]
    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_float(py, &self.body().bids)
    }
    /// Ask levels as `(price, size)` floats, in wire order.
    #[getter]
    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_float(py, &self.body().asks)
    }
    /// Bid levels as exact `(Decimal, Decimal)`.
    #[getter]
    fn bids_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_decimal(py, &self.body().bids)
    }
    /// Ask levels as exact `(Decimal, Decimal)`.
    #[getter]
    fn asks_decimal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_decimal(py, &self.body().asks)
    }
    /// Bid levels as sent, `(price, size)` strings.
    #[getter]
    fn bids_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_str(py, &self.body().bids)
    }
    /// Ask levels as sent, `(price, size)` strings.
    #[getter]
    fn asks_str<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_str(py, &self.body().asks)
    }
}

impl PyMexcDepthUpdate {
    fn to_value(&self) -> Value<'_> {
        fn list<'a>(l: &[DepthLevel<'a>]) -> Value<'a> {
            Value::List(l.iter().map(Message::to_value).collect())
        }
        let b = self.body();
        let mut out = vec![
            ("asks", list(&b.asks)),
            ("bids", list(&b.bids)),
            ("eventType", Value::Str(b.event_type)),
        ];
        if self.field == 313 {
            out.push(("fromVersion", Value::Str(b.from.text)));
            out.push(("toVersion", Value::Str(b.to.text)));
        } else {
            out.push(("version", Value::Str(b.from.text)));
        }
        if self.field == 313 || self.field == 303 {
            out.push(("lastOrderCreateTime", Value::Int(b.last_order_create_time)));
        }
        if self.standalone {
            wrap(self.header(), self.body_name(), Value::Msg(out))
        } else {
            Value::Msg(out)
        }
    }
}

event_class! {
    /// A private order update (`privateOrders`, 304).
    PyMexcOrder = "MexcOrder", kind = "order", body = PrivateOrders;
    decimals {
        price, price_decimal, price_str = price;
        quantity, quantity_decimal, quantity_str = quantity;
        amount, amount_decimal, amount_str = amount;
        avg_price, avg_price_decimal, avg_price_str = avg_price;
        remain_amount, remain_amount_decimal, remain_amount_str = remain_amount;
        remain_quantity, remain_quantity_decimal, remain_quantity_str = remain_quantity;
        cumulative_quantity, cumulative_quantity_decimal, cumulative_quantity_str =
            cumulative_quantity;
        cumulative_amount, cumulative_amount_decimal, cumulative_amount_str = cumulative_amount;
    }
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// Order id.
    #[getter]
    fn id(&self) -> &str {
        self.body().id
    }
    /// Client order id.
    #[getter]
    fn client_id(&self) -> &str {
        self.body().client_id
    }
    /// 1 LIMIT, 2 POST_ONLY, 3 IOC, 4 FOK, 5 MARKET, 100 stop-loss/take-profit.
    #[getter]
    fn order_type(&self) -> i32 {
        self.body().order_type
    }
    /// 1 buy, 2 sell.
    #[getter]
    fn trade_type(&self) -> i32 {
        self.body().trade_type
    }
    /// 'buy', 'sell' or None.
    #[getter]
    fn side(&self) -> Option<&'static str> {
        side_name(self.body().trade_type)
    }
    /// Maker flag.
    #[getter]
    fn is_maker(&self) -> bool {
        self.body().is_maker
    }
    /// 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially filled then canceled.
    #[getter]
    fn status(&self) -> i32 {
        self.body().status
    }
    /// Order creation time (body `createTime`), Unix ms.
    #[getter]
    fn order_create_time(&self) -> i64 {
        self.body().create_time
    }
    /// Size of the latest fill (float), None when not sent.
    #[getter]
    fn last_deal_quantity(&self) -> Option<f64> {
        self.body().last_deal_quantity.as_ref().and_then(dec_float)
    }
    /// Size of the latest fill (exact), None when not sent.
    #[getter]
    fn last_deal_quantity_decimal<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match &self.body().last_deal_quantity {
            Some(d) => dec_py(py, d)?,
            None => None,
        })
    }
    /// Size of the latest fill as sent, None when not sent.
    #[getter]
    fn last_deal_quantity_str(&self) -> Option<&str> {
        self.body().last_deal_quantity.map(|d| d.text)
    }
    /// Trigger price as sent (trigger orders), None when not sent.
    #[getter]
    fn trigger_price_str(&self) -> Option<&str> {
        self.body().trigger_price.map(|d| d.text)
    }
    /// Trigger price (exact), None when not sent.
    #[getter]
    fn trigger_price_decimal<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(match &self.body().trigger_price {
            Some(d) => dec_py(py, d)?,
            None => None,
        })
    }
    /// Undocumented optional fields, None when not sent.
    #[getter]
    fn trigger_type(&self) -> Option<i32> {
        self.body().trigger_type
    }
    /// Undocumented optional field.
    #[getter]
    fn state(&self) -> Option<i32> {
        self.body().state
    }
    /// Undocumented optional field.
    #[getter]
    fn market(&self) -> Option<&str> {
        self.body().market
    }
    /// Undocumented optional field.
    #[getter]
    fn oco_id(&self) -> Option<&str> {
        self.body().oco_id
    }
}

impl PyMexcOrder {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

event_class! {
    /// A private fill (`privateDeals`, 306).
    PyMexcDeal = "MexcDeal", kind = "deal", body = PrivateDeals;
    decimals {
        price, price_decimal, price_str = price;
        quantity, quantity_decimal, quantity_str = quantity;
        amount, amount_decimal, amount_str = amount;
        fee_amount, fee_amount_decimal, fee_amount_str = fee_amount;
    }
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// 1 buy, 2 sell.
    #[getter]
    fn trade_type(&self) -> i32 {
        self.body().trade_type
    }
    /// 'buy', 'sell' or None.
    #[getter]
    fn side(&self) -> Option<&'static str> {
        side_name(self.body().trade_type)
    }
    /// Maker flag.
    #[getter]
    fn is_maker(&self) -> bool {
        self.body().is_maker
    }
    /// Self-trade flag.
    #[getter]
    fn is_self_trade(&self) -> bool {
        self.body().is_self_trade
    }
    /// Trade id.
    #[getter]
    fn trade_id(&self) -> &str {
        self.body().trade_id
    }
    /// Client order id.
    #[getter]
    fn client_order_id(&self) -> &str {
        self.body().client_order_id
    }
    /// Order id.
    #[getter]
    fn order_id(&self) -> &str {
        self.body().order_id
    }
    /// Fee asset.
    #[getter]
    fn fee_currency(&self) -> &str {
        self.body().fee_currency
    }
    /// Fill time, Unix ms.
    #[getter]
    fn time(&self) -> i64 {
        self.body().time
    }
}

impl PyMexcDeal {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

event_class! {
    /// A private balance change (`privateAccount`, 307).
    PyMexcAccountUpdate = "MexcAccountUpdate", kind = "account", body = PrivateAccount;
    decimals {
        balance_amount, balance_amount_decimal, balance_amount_str = balance_amount;
        balance_amount_change, balance_amount_change_decimal, balance_amount_change_str =
            balance_amount_change;
        frozen_amount, frozen_amount_decimal, frozen_amount_str = frozen_amount;
        frozen_amount_change, frozen_amount_change_decimal, frozen_amount_change_str =
            frozen_amount_change;
    }
    /// Always None: account pushes carry no symbol.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// Asset name (`vcoinName`, e.g. USDT).
    #[getter]
    fn asset(&self) -> &str {
        self.body().vcoin_name
    }
    /// Internal coin id.
    #[getter]
    fn coin_id(&self) -> &str {
        self.body().coin_id
    }
    /// Change type (`type`: DEPOSIT, ENTRUST, TRADE_FEE, ...).
    #[getter]
    fn change_type(&self) -> &str {
        self.body().change_type
    }
    /// Settlement time, Unix ms.
    #[getter]
    fn time(&self) -> i64 {
        self.body().time
    }
}

impl PyMexcAccountUpdate {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

/// Builds a tuple of item events sharing the frame.
pub(crate) fn items<'py, T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>>(
    py: Python<'py>,
    it: impl Iterator<Item = T>,
) -> PyResult<Bound<'py, PyTuple>> {
    let objs = it.map(|x| Py::new(py, x)).collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, objs)
}
