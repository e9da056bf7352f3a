//! Where a Gate.io frame goes, from its channel name alone: the product, and a depth channel,
//! a record channel, a pong or nothing hftws models.
//!
//! A leaf of the module graph (it knows channel names, not frames or books), so the envelope
//! reader, the depth walker and the bindings all route through it without depending on each
//! other.

use super::channels::Kind;

/// Which depth channel a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepthChannel {
    /// `*.order_book_update`: increments, `full: true` snapshots.
    Update,
    /// `*.obu`: order book v2, stream-named.
    Obu,
    /// `*.order_book`: limited-level snapshots, every push replaces the book.
    Snapshot,
}

impl DepthChannel {
    /// The depth channel named by `name` (the part after `spot.`/`futures.`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "order_book_update" => Some(Self::Update),
            "obu" => Some(Self::Obu),
            "order_book" => Some(Self::Snapshot),
            _ => None,
        }
    }
}

/// Which Gate product a channel belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    /// `spot.*`
    Spot,
    /// `futures.*`
    Futures,
    /// Anything else (or no channel).
    Other,
}

/// What a channel name routes to, worked out once per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// A depth channel.
    Depth(DepthChannel),
    /// A record channel.
    Record(Kind),
    /// `*.pong`.
    Pong,
    /// No channel, another product, or a channel hftws does not model.
    #[default]
    Other,
}

/// The route of channel `name` (the part after `spot.`/`futures.`) in `market`.
pub(super) fn route_of(market: Market, name: &str) -> Route {
    if market == Market::Other {
        return Route::Other;
    }
    if let Some(d) = DepthChannel::from_name(name) {
        return Route::Depth(d);
    }
    if let Some(k) = Kind::from_channel(name) {
        return Route::Record(k);
    }
    if name == "pong" {
        return Route::Pong;
    }
    Route::Other
}
