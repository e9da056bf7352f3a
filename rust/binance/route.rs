//! What a Binance frame is: one exhaustive match on the event type (`e`) or the stream name.
//!
//! Raw streams (`/ws/<stream>`) are routed by `e`; a few payloads carry none (spot
//! `bookTicker`, spot partial depth `{lastUpdateId,bids,asks}`, control replies) and are
//! recognised by their keys (`frame.rs`). Combined streams (`{"stream":..,"data":..}`) are
//! routed by the stream name, which is the only way to tell a futures `@depth<N>` push (it
//! carries `"e":"depthUpdate"`) from a diff (`binance.md` §2.1, §3, §8.2).

/// The payload kinds hftws models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `depthUpdate`: a diff covering `U..=u` (futures: also `pu`).
    DiffDepth,
    /// `@depth<N>` top-N book (spot `lastUpdateId/bids/asks`, futures `depthUpdate` shape),
    /// or a REST depth snapshot body: replaces the book.
    PartialDepth,
    /// `trade`.
    Trade,
    /// `aggTrade`.
    AggTrade,
    /// `bookTicker` (spot pushes carry no `e`).
    BookTicker,
    /// `kline`.
    Kline,
    /// `24hrMiniTicker`.
    MiniTicker,
    /// USDⓈ-M `markPriceUpdate`.
    MarkPrice,
    /// USDⓈ-M `forceOrder` (liquidation snapshot).
    ForceOrder,
    /// `serverShutdown`: reconnect soon.
    ServerShutdown,
    /// Anything else (tickers, user data, streams hftws does not model).
    Other,
}

impl Kind {
    /// The kind named by an event type `e`.
    #[must_use]
    pub fn of_event(e: &str) -> Self {
        match e {
            "depthUpdate" => Self::DiffDepth,
            "trade" => Self::Trade,
            "aggTrade" => Self::AggTrade,
            "bookTicker" => Self::BookTicker,
            "kline" => Self::Kline,
            "24hrMiniTicker" => Self::MiniTicker,
            "markPriceUpdate" => Self::MarkPrice,
            "forceOrder" => Self::ForceOrder,
            "serverShutdown" => Self::ServerShutdown,
            _ => Self::Other,
        }
    }

    /// The kind of a stream name (`btcusdt@depth@100ms`, `!miniTicker@arr`, ...).
    #[must_use]
    pub fn of_stream(name: &str) -> Self {
        match stream_type(name) {
            "depth" => Self::DiffDepth,
            "depth5" | "depth10" | "depth20" => Self::PartialDepth,
            "trade" => Self::Trade,
            "aggTrade" => Self::AggTrade,
            "bookTicker" => Self::BookTicker,
            t if t.starts_with("kline_") => Self::Kline,
            "miniTicker" => Self::MiniTicker,
            "markPrice" => Self::MarkPrice,
            "forceOrder" => Self::ForceOrder,
            "serverShutdown" => Self::ServerShutdown,
            _ => Self::Other,
        }
    }

    /// The event type a payload of this kind carries, when it carries one.
    #[must_use]
    pub const fn event_name(self) -> Option<&'static str> {
        match self {
            Self::DiffDepth | Self::PartialDepth => Some("depthUpdate"),
            Self::Trade => Some("trade"),
            Self::AggTrade => Some("aggTrade"),
            Self::BookTicker => Some("bookTicker"),
            Self::Kline => Some("kline"),
            Self::MiniTicker => Some("24hrMiniTicker"),
            Self::MarkPrice => Some("markPriceUpdate"),
            Self::ForceOrder => Some("forceOrder"),
            Self::ServerShutdown => Some("serverShutdown"),
            Self::Other => None,
        }
    }

    /// Lower-case name used as the Python `kind`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::DiffDepth => "depth",
            Self::PartialDepth => "partial_depth",
            Self::Trade => "trade",
            Self::AggTrade => "agg_trade",
            Self::BookTicker => "book_ticker",
            Self::Kline => "kline",
            Self::MiniTicker => "mini_ticker",
            Self::MarkPrice => "mark_price",
            Self::ForceOrder => "force_order",
            Self::ServerShutdown => "server_shutdown",
            Self::Other => "other",
        }
    }

    /// True for the two depth kinds.
    #[must_use]
    pub const fn is_depth(self) -> bool {
        matches!(self, Self::DiffDepth | Self::PartialDepth)
    }
}

/// The stream type: `depth` in `btcusdt@depth@100ms`, `miniTicker` in `!miniTicker@arr`.
#[must_use]
pub fn stream_type(name: &str) -> &str {
    let rest = match name.strip_prefix('!') {
        Some(all_market) => all_market,
        None => name.split_once('@').map_or("", |(_, r)| r),
    };
    rest.split('@').next().unwrap_or_default()
}

/// The symbol part of a stream name (`btcusdt` in `btcusdt@trade`); None for `!` streams.
#[must_use]
pub fn stream_symbol(name: &str) -> Option<&str> {
    if name.starts_with('!') {
        return None;
    }
    name.split_once('@').map(|(s, _)| s)
}

/// True when a stream-name symbol (lower case, `binance.md` §0) names `symbol` (as the
/// exchange spells it in `s`, upper case). Compared char by char, without allocating.
#[must_use]
pub fn stream_symbol_is(stream_sym: &str, symbol: &str) -> bool {
    stream_sym
        .chars()
        .eq(symbol.chars().flat_map(char::to_lowercase))
}

/// Whether a payload's own `e` agrees with the kind its stream name gives. A futures
/// `@depth<N>` push carries `depthUpdate`; spot `bookTicker` and partial depth carry none.
#[must_use]
pub fn consistent(stream: Kind, e: Option<&str>) -> bool {
    match (stream.event_name(), e) {
        (_, None) | (None, _) => true,
        (Some(want), Some(got)) => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_route() {
        assert_eq!(Kind::of_stream("btcusdt@depth"), Kind::DiffDepth);
        assert_eq!(Kind::of_stream("btcusdt@depth@100ms"), Kind::DiffDepth);
        assert_eq!(Kind::of_stream("btcusdt@depth20@100ms"), Kind::PartialDepth);
        assert_eq!(Kind::of_stream("bnbbtc@depth5"), Kind::PartialDepth);
        assert_eq!(Kind::of_stream("btcusdt@kline_1m@+08:00"), Kind::Kline);
        assert_eq!(Kind::of_stream("!miniTicker@arr"), Kind::MiniTicker);
        assert_eq!(Kind::of_stream("!markPrice@arr@1s"), Kind::MarkPrice);
        assert_eq!(Kind::of_stream("!serverShutdown"), Kind::ServerShutdown);
        assert_eq!(Kind::of_stream("!bookTicker"), Kind::BookTicker);
        assert_eq!(Kind::of_stream("btcusdt@rpiDepth@500ms"), Kind::Other);
        assert_eq!(Kind::of_stream("btcusdt@ticker"), Kind::Other);
        assert_eq!(Kind::of_stream("nonsense"), Kind::Other);
        assert_eq!(stream_symbol("btcusdt@trade"), Some("btcusdt"));
        assert_eq!(stream_symbol("!bookTicker"), None);
    }

    #[test]
    fn event_types_route_and_round_trip() {
        for k in [
            Kind::DiffDepth,
            Kind::Trade,
            Kind::AggTrade,
            Kind::BookTicker,
            Kind::Kline,
            Kind::MiniTicker,
            Kind::MarkPrice,
            Kind::ForceOrder,
            Kind::ServerShutdown,
        ] {
            assert_eq!(Kind::of_event(k.event_name().unwrap()), k);
        }
        assert_eq!(Kind::of_event("24hrTicker"), Kind::Other);
        assert!(consistent(Kind::PartialDepth, Some("depthUpdate")));
        assert!(consistent(Kind::BookTicker, None));
        assert!(!consistent(Kind::Trade, Some("aggTrade")));
    }

    #[test]
    fn stream_symbols_compare_case_insensitively_to_s() {
        assert!(stream_symbol_is("btcusdt", "BTCUSDT"));
        assert!(!stream_symbol_is("btcusdt", "ETHUSDT"));
        assert!(!stream_symbol_is("btcusd", "BTCUSDT"));
        assert!(stream_symbol_is("测试usdt", "测试USDT"));
    }
}
