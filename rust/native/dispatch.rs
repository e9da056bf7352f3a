//! The exchange dispatch shared by every receive path: which decoder a data message goes to,
//! and whether (and for which book) it may be a depth push.
//!
//! `hftws.StreamDecoder` (the asyncio mode) and the native worker both ask
//! [`depth_route`] first, then hand the push to `crate::feed::offer`, so a message's type is
//! decided in one place whichever thread reads the socket.

use crate::mexc::push::split as mexc_split;
use crate::ws::Opcode;

/// Which wire format the data messages are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchange {
    /// MEXC spot: protobuf pushes, JSON control text.
    Mexc,
    /// Gate.io spot v4 JSON.
    Gate,
    /// Gate.io USDT futures v4 JSON.
    GateFutures,
    /// Binance spot: JSON text, SBE binary.
    Binance,
    /// Binance USDⓈ-M futures.
    BinanceFutures,
    /// KuCoin spot.
    Kucoin,
    /// KuCoin futures.
    KucoinFutures,
}

/// The names [`Exchange::parse`] accepts, for error messages.
pub const EXCHANGE_NAMES: &str = "'mexc', 'gateio', 'gateio_futures', 'binance', \
                                  'binance_futures', 'kucoin' or 'kucoin_futures'";

impl Exchange {
    /// The exchange called `name` (Python spelling; `gate` is an alias of `gateio`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "mexc" => Self::Mexc,
            "gateio" | "gate" => Self::Gate,
            "gateio_futures" | "gate_futures" => Self::GateFutures,
            "binance" => Self::Binance,
            "binance_futures" => Self::BinanceFutures,
            "kucoin" => Self::Kucoin,
            "kucoin_futures" => Self::KucoinFutures,
            _ => return None,
        })
    }

    /// The canonical name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Mexc => "mexc",
            Self::Gate => "gateio",
            Self::GateFutures => "gateio_futures",
            Self::Binance => "binance",
            Self::BinanceFutures => "binance_futures",
            Self::Kucoin => "kucoin",
            Self::KucoinFutures => "kucoin_futures",
        }
    }
}

/// Where a data message may go before it is decoded as an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthRoute<'a> {
    /// Not a depth push: decode it as an event.
    NotDepth,
    /// A MEXC depth push for this symbol (read from the protobuf header only).
    Symbol(&'a str),
    /// The pair is inside the JSON (Gate `result.s`, Binance `s`, KuCoin `topic`): offer the
    /// push to each registered book in turn; a book refuses a push for another pair with
    /// `Offer::WrongSymbol` before touching anything.
    EachBook,
}

/// MEXC protobuf bodies that carry depth (`mexc.md` §4): aggregated and limit depth, spot
/// and its batch variants.
const MEXC_DEPTH_BODIES: [u32; 4] = [302, 303, 312, 313];

/// Where the data message `payload` may go; see [`DepthRoute`].
#[must_use]
pub fn depth_route(ex: Exchange, opcode: Opcode, payload: &[u8]) -> DepthRoute<'_> {
    match ex {
        // MEXC text frames are control JSON (acks, pongs), never depth.
        Exchange::Mexc if opcode != Opcode::Binary => DepthRoute::NotDepth,
        Exchange::Mexc => match mexc_split(payload) {
            Ok((header, num, _)) if MEXC_DEPTH_BODIES.contains(&num) => header
                .symbol
                .map_or(DepthRoute::NotDepth, DepthRoute::Symbol),
            _ => DepthRoute::NotDepth,
        },
        _ => DepthRoute::EachBook,
    }
}
