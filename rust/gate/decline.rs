//! Declining a frame that is not a depth push from its channel alone (`gateio.apply_depth`
//! and a registered book are offered every frame of a connection, most of them trades and
//! tickers).
//!
//! Python's `json` keeps the last of repeated keys, so the channel a frame names first is its
//! channel only if no later key is also `channel`. With no backslash anywhere in the frame
//! (SIMD `memchr`) a key can only be `channel` if the bytes `channel` appear (SIMD `memmem`),
//! so a frame whose envelope starts the way Gate writes it (`{"time":..,"time_ms":..,
//! "channel":"..."`) with a channel that is not a depth channel, and that has neither, is
//! certainly not a depth push: the rest of it is not read. What is wrong with such a frame,
//! if anything, `gateio.parse` reports; the book is not touched either way.

use std::sync::LazyLock;

use memchr::{memchr, memmem};

use super::route::{route_of, Market, Route};
use crate::json::compact::{lit, uint};

/// True when `b` is certainly not a depth push, decided from its channel (see the module
/// doc); false means "read it".
#[must_use]
pub fn not_depth(b: &[u8]) -> bool {
    let Some(start) = channel_start(b) else {
        return false;
    };
    let Some(len) = memchr(b'"', &b[start..]) else {
        return false;
    };
    let end = start + len;
    let Ok(name) = std::str::from_utf8(&b[start..end]) else {
        return false;
    };
    let (market, rest) = if let Some(r) = name.strip_prefix("spot.") {
        (Market::Spot, r)
    } else if let Some(r) = name.strip_prefix("futures.") {
        (Market::Futures, r)
    } else {
        (Market::Other, name)
    };
    if matches!(route_of(market, rest), Route::Depth(_)) {
        return false;
    }
    memchr(b'\\', b).is_none() && CHANNEL.find(&b[end..]).is_none()
}

/// The searcher for `channel`, built once (building one per call costs more than the search).
static CHANNEL: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"channel"));

/// The index of the channel's text when the frame starts `{` + `"time":N,` / `"time_ms":N,`
/// (any order, any number) + `"channel":"`: the channel is then a key of the envelope itself.
#[inline]
fn channel_start(b: &[u8]) -> Option<usize> {
    let mut i = lit(b, 0, b"{")?;
    loop {
        if let Some(j) = lit(b, i, b"\"channel\":\"") {
            return Some(j);
        }
        let j = lit(b, i, b"\"time\":").or_else(|| lit(b, i, b"\"time_ms\":"))?;
        i = lit(b, uint(b, j)?.1, b",")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_record_channels_only() {
        let trade =
            br#"{"time":1,"time_ms":2,"channel":"spot.trades","event":"update","result":{"id":1}}"#;
        assert!(not_depth(trade));
        assert!(not_depth(
            br#"{"channel":"futures.book_ticker","event":"update"}"#
        ));
        assert!(not_depth(
            br#"{"time":1,"channel":"spot.pong","event":"","result":null}"#
        ));
        assert!(not_depth(
            br#"{"channel":"options.order_book_update","result":{}}"#
        ));
        // Depth channels, and frames whose channel could be renamed later, are read.
        for f in [
            &br#"{"time":1,"channel":"spot.order_book_update","event":"update","result":{}}"#[..],
            br#"{"channel":"futures.obu","result":{}}"#,
            br#"{"channel":"spot.order_book","result":{}}"#,
            br#"{"channel":"spot.trades","result":{},"channel":"spot.obu"}"#,
            br#"{"channel":"spot.trades","result":{},"\u0063hannel":"spot.obu"}"#,
            br#"{"channel":"spot.trades","result":{"text":"a\"b"}}"#,
            br#"{"event":"update","channel":"spot.trades","result":{}}"#,
            br#"{"result":{"channel":"spot.trades"}}"#,
            br#"{"time":"1","channel":"spot.trades"}"#,
            br#"{"time":1 ,"channel":"spot.trades"}"#,
            b"",
        ] {
            assert!(!not_depth(f), "{}", String::from_utf8_lossy(f));
        }
    }
}
