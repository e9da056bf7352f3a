//! Python events for MEXC pushes that carry several items: trades (301, 314), book tickers
//! (311), mini tickers (310) and increase-depth batches (312). Items are built as their own
//! event objects only when asked for, and share the frame's bytes.

use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};

use super::events::{
    event_class, items, wrap, DepthBody, PyMexcBookTicker, PyMexcBookTickerPart, PyMexcDepthUpdate,
    PyMexcDepthUpdatePart, PyMexcMiniTicker, PyMexcMiniTickerPart, PyMexcTrade, PyMexcTradePart,
    TickerBody, TradeBody,
};
use super::{value_to_py, Cart};
use crate::mexc::bodies::{
    Message, PublicAggreDealsItem, PublicBookTickerBatch, PublicIncreaseDepthsBatch,
    PublicMiniTickers,
};
use crate::mexc::{Header, Value};

/// The trades of a `publicAggreDeals` (314) or `publicDeals` (301) push.
pub(crate) struct TradesBody<'a> {
    pub(crate) deals: Vec<PublicAggreDealsItem<'a>>,
    pub(crate) event_type: &'a str,
    pub(crate) aggregated: bool,
}

event_class! {
    /// Public trades of one symbol.
    PyMexcTrades = "MexcTrades", kind = "trades", body = TradesBody;
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
    /// True for `publicAggreDeals` (314).
    #[getter]
    fn aggregated(&self) -> bool {
        self.body().aggregated
    }
    /// The trades, oldest first as sent.
    #[getter]
    fn trades<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        items(
            py,
            (0..self.body().deals.len()).map(|i| PyMexcTrade {
                part: self.part.map_project_cloned(move |p, _| PyMexcTradePart {
                    header: p.header.clone(),
                    body: TradeBody {
                        item: p.body.deals[i].clone(),
                        aggregated: p.body.aggregated,
                    },
                }),
                field: self.field,
                standalone: false,
            }),
        )
    }
    fn __len__(&self) -> usize {
        self.body().deals.len()
    }
    /// Iterates the trades (`MexcTrade`, the common trade shape).
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.trades(py)?.try_iter()
    }
}

impl PyMexcTrades {
    fn to_value(&self) -> Value<'_> {
        let deals = self
            .body()
            .deals
            .iter()
            .map(|d| {
                if self.body().aggregated {
                    d.to_value()
                } else {
                    Value::Msg(vec![
                        ("price", Value::Str(d.price.text)),
                        ("quantity", Value::Str(d.quantity.text)),
                        ("tradeType", Value::Int(i64::from(d.trade_type))),
                        ("time", Value::Int(d.time)),
                    ])
                }
            })
            .collect();
        let body = Value::Msg(vec![
            ("deals", Value::List(deals)),
            ("eventType", Value::Str(self.body().event_type)),
        ]);
        wrap(self.header(), self.body_name(), body)
    }
}

event_class! {
    /// Best bid/ask of several books (`publicBookTickerBatch`, 311).
    PyMexcBookTickers = "MexcBookTickers", kind = "book_tickers", body = PublicBookTickerBatch;
    decimals {}
    /// Symbol of the push.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// Book version (2026-06), None when not sent.
    #[getter]
    fn version(&self) -> Option<u64> {
        self.body().version.value
    }
    /// `lastOrderCreateTime` (2026-06); 0 when not sent.
    #[getter]
    fn last_order_create_time(&self) -> i64 {
        self.body().last_order_create_time
    }
    /// The tickers as `MexcBookTicker` events.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        items(
            py,
            (0..self.body().items.len()).map(|i| PyMexcBookTicker {
                part: self.part.map_project_cloned(move |p, _| PyMexcBookTickerPart {
                    header: p.header.clone(),
                    body: TickerBody::plain(&p.body.items[i]),
                }),
                field: self.field,
                standalone: false,
            }),
        )
    }
    fn __len__(&self) -> usize {
        self.body().items.len()
    }
    /// Iterates the tickers (`MexcBookTicker`, the common book ticker shape).
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.items(py)?.try_iter()
    }
}

impl PyMexcBookTickers {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

event_class! {
    /// Mini tickers of every symbol (`publicMiniTickers`, 310).
    PyMexcMiniTickers = "MexcMiniTickers", kind = "mini_tickers", body = PublicMiniTickers;
    decimals {}
    /// Always None: the all-symbol stream has no wrapper symbol.
    #[getter]
    fn symbol(&self) -> Option<&str> {
        self.header().symbol
    }
    /// The tickers as `MexcMiniTicker` events.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        items(
            py,
            (0..self.body().items.len()).map(|i| PyMexcMiniTicker {
                part: self.part.map_project_cloned(move |p, _| PyMexcMiniTickerPart {
                    header: p.header.clone(),
                    body: p.body.items[i].clone(),
                }),
                field: self.field,
                standalone: false,
            }),
        )
    }
    fn __len__(&self) -> usize {
        self.body().items.len()
    }
}

impl PyMexcMiniTickers {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}

event_class! {
    /// A batch of per-version depth deltas (`publicIncreaseDepthsBatch`, 312).
    PyMexcDepthBatch = "MexcDepthBatch", kind = "depth_batch", body = PublicIncreaseDepthsBatch;
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
    /// The deltas as `MexcDepthUpdate` events, in order.
    #[getter]
    fn updates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        items(
            py,
            (0..self.body().items.len()).map(|i| PyMexcDepthUpdate {
                part: self.part.map_project_cloned(move |p, _| PyMexcDepthUpdatePart {
                    header: p.header.clone(),
                    body: DepthBody::increase(p.body.items[i].clone()),
                }),
                field: self.field,
                standalone: false,
            }),
        )
    }
    fn __len__(&self) -> usize {
        self.body().items.len()
    }
}

impl PyMexcDepthBatch {
    fn to_value(&self) -> Value<'_> {
        wrap(self.header(), self.body_name(), self.body().to_value())
    }
}
