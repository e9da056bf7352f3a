//! What a KuCoin frame is: one exhaustive match on the envelope `type` and topic prefix.
//!
//! `kucoin.md` §2.2: dispatch on `type`, then on the topic prefix before `:` (the suffix is
//! the symbol). Control frames (`welcome`, `pong`, `ack`, `error`) carry no topic.

/// The frame kinds hftws models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `{"id","type":"welcome"}`: the connection is ready.
    Welcome,
    /// `{"id","type":"pong"}`: answer to a client ping.
    Pong,
    /// `{"id","type":"ack"}`: a subscription was accepted.
    Ack,
    /// `{"id","type":"error","code","data"}`: a refused request.
    Error,
    /// Spot `/market/level2` increment (`trade.l2update`).
    SpotLevel2,
    /// Spot `/market/match` trade (`trade.l3match`).
    SpotMatch,
    /// Spot `/market/ticker` (`trade.ticker`, or the symbol for `:all`).
    SpotTicker,
    /// Spot `/spotMarket/level2Depth5` / `Depth50`: top-N book, a stream snapshot.
    SpotDepth,
    /// Futures `/contractMarket/level2`: one change per push.
    FuturesLevel2,
    /// Futures `/contractMarket/level2Depth5` / `Depth50`: top-N book with `sequence`.
    FuturesDepth,
    /// Futures `/contractMarket/execution` trade (`match`).
    FuturesExecution,
    /// Futures `/contractMarket/tickerV2`.
    FuturesTicker,
    /// Any other frame (other topics, `notice`/`command` types).
    Other,
}

impl Kind {
    /// The kind of a frame with envelope `type` and `topic` (`None` when absent).
    #[must_use]
    pub fn of(frame_type: &str, topic: Option<&str>) -> Self {
        match frame_type {
            "welcome" => Self::Welcome,
            "pong" => Self::Pong,
            "ack" => Self::Ack,
            "error" => Self::Error,
            "message" => Self::of_topic(topic.unwrap_or_default()),
            _ => Self::Other,
        }
    }

    /// The kind of a data push on `topic` (`/market/level2:BTC-USDT`).
    #[must_use]
    pub fn of_topic(topic: &str) -> Self {
        match topic_prefix(topic) {
            "/market/level2" => Self::SpotLevel2,
            "/market/match" => Self::SpotMatch,
            "/market/ticker" => Self::SpotTicker,
            "/spotMarket/level2Depth5" | "/spotMarket/level2Depth50" => Self::SpotDepth,
            "/contractMarket/level2" => Self::FuturesLevel2,
            "/contractMarket/level2Depth5" | "/contractMarket/level2Depth50" => Self::FuturesDepth,
            "/contractMarket/execution" => Self::FuturesExecution,
            "/contractMarket/tickerV2" => Self::FuturesTicker,
            _ => Self::Other,
        }
    }

    /// Lower-case name used as the Python `kind`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::Pong => "pong",
            Self::Ack => "ack",
            Self::Error => "error",
            Self::SpotLevel2 => "level2",
            Self::SpotMatch => "match",
            Self::SpotTicker => "ticker",
            Self::SpotDepth => "depth_snapshot",
            Self::FuturesLevel2 => "futures_level2",
            Self::FuturesDepth => "futures_depth_snapshot",
            Self::FuturesExecution => "execution",
            Self::FuturesTicker => "futures_ticker",
            Self::Other => "other",
        }
    }

    /// True for the kinds that write into a book.
    #[must_use]
    pub const fn is_depth(self) -> bool {
        matches!(
            self,
            Self::SpotLevel2 | Self::SpotDepth | Self::FuturesLevel2 | Self::FuturesDepth
        )
    }

    /// True for the futures kinds (their book follows `SeqRule::KucoinFutures`).
    #[must_use]
    pub const fn is_futures(self) -> bool {
        matches!(
            self,
            Self::FuturesLevel2 | Self::FuturesDepth | Self::FuturesExecution | Self::FuturesTicker
        )
    }
}

/// The part of a topic before `:` (the whole topic when there is none).
#[must_use]
pub fn topic_prefix(topic: &str) -> &str {
    topic.split_once(':').map_or(topic, |(p, _)| p)
}

/// The symbol part of a topic (`BTC-USDT` in `/market/level2:BTC-USDT`).
#[must_use]
pub fn topic_symbol(topic: &str) -> Option<&str> {
    topic.split_once(':').map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_route_by_type_then_topic() {
        assert_eq!(Kind::of("welcome", None), Kind::Welcome);
        assert_eq!(Kind::of("pong", None), Kind::Pong);
        assert_eq!(Kind::of("ack", None), Kind::Ack);
        assert_eq!(Kind::of("error", None), Kind::Error);
        assert_eq!(Kind::of("notice", Some("/market/level2:X")), Kind::Other);
        let m = |t| Kind::of("message", Some(t));
        assert_eq!(m("/market/level2:BTC-USDT"), Kind::SpotLevel2);
        assert_eq!(m("/market/match:BTC-USDT"), Kind::SpotMatch);
        assert_eq!(m("/market/ticker:all"), Kind::SpotTicker);
        assert_eq!(m("/spotMarket/level2Depth5:BTC-USDT"), Kind::SpotDepth);
        assert_eq!(m("/spotMarket/level2Depth50:BTC-USDT"), Kind::SpotDepth);
        assert_eq!(m("/contractMarket/level2:XBTUSDTM"), Kind::FuturesLevel2);
        assert_eq!(
            m("/contractMarket/level2Depth5:XBTUSDTM"),
            Kind::FuturesDepth
        );
        assert_eq!(
            m("/contractMarket/execution:XBTUSDTM"),
            Kind::FuturesExecution
        );
        assert_eq!(m("/contractMarket/tickerV2:XBTUSDTM"), Kind::FuturesTicker);
        assert_eq!(m("/market/candles:BTC-USDT_1hour"), Kind::Other);
        assert_eq!(m("/market/level2Depth5:BTC-USDT"), Kind::Other);
        assert_eq!(topic_symbol("/market/level2:BTC-USDT"), Some("BTC-USDT"));
        assert_eq!(topic_symbol("/account/balance"), None);
    }
}
