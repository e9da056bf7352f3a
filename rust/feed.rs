//! Depth pushes from a connection into a registered book: apply, hold, or replay.
//!
//! This is the one place where a book fed by a stream decides what a push does to it, for live
//! sockets, recordings and replays alike:
//! - a book in sync (or waiting for the stream to confirm its snapshot) takes the push through
//!   its own sequence rules;
//! - a book waiting for a snapshot holds the raw push (bounded, see [`crate::book::Pending`]);
//! - loading a snapshot, from REST or from the stream itself (Gate.io `full: true`), replays
//!   the held pushes under the same rules and reports one status for the lot.
//!
//! Snapshot statuses: [`Status::Applied`] when a stream push has bridged the snapshot (the book
//! is confirmed), [`Status::Stale`] when none has yet (a snapshot ahead of the stream, or no
//! push held: the book stays out of sync until one bridges it), [`Status::Gap`] when the held
//! pushes start after the snapshot (it is older than the stream: fetch another) and
//! [`Status::Crossed`].

use crate::binance::{self, BinanceError};
use crate::book::{OrderBook, SeqRule, Status};
use crate::gate::depth::{apply_frame, DepthOutcome};
use crate::gate::GateError;
use crate::kucoin::{self, KucoinError};
use crate::mexc::depth::apply_depth_push as mexc_apply_depth;
use crate::mexc::MexcError;

/// What one push did to a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Not a depth push: the book is untouched.
    NotDepth,
    /// A Gate.io depth push for another pair: the book is untouched.
    WrongSymbol,
    /// The book judged the push with this status.
    Book(Status),
    /// The book waits for a snapshot: the push is held for the replay.
    Held,
}

/// A malformed push, in its exchange decoder's words.
#[derive(Debug)]
pub enum DepthError {
    /// From the MEXC protobuf decoder.
    Mexc(MexcError),
    /// From the Gate.io JSON decoder.
    Gate(GateError),
    /// From the Binance JSON decoder.
    Binance(BinanceError),
    /// From the KuCoin JSON decoder.
    Kucoin(KucoinError),
}

/// Whether a Binance push is an SBE binary message (schema id 1 in its 8-byte header) rather
/// than JSON text (which starts with `{`, `[` or whitespace): the held pushes of a book keep no
/// opcode, so the replay tells the two apart by their bytes.
fn is_sbe(payload: &[u8]) -> bool {
    payload.len() >= 8
        && !matches!(payload[0], b'{' | b'[' | b' ' | b'\t' | b'\r' | b'\n')
        && u16::from_le_bytes([payload[4], payload[5]]) == 1
}

/// Applies one push with the decoder of the book's exchange; `want` names the pair a Gate.io
/// push must be for (MEXC callers match the symbol from the push header).
fn apply(book: &mut OrderBook, want: Option<&str>, payload: &[u8]) -> Result<Offer, DepthError> {
    match book.rule() {
        // A push of another kind (trades, tickers) leaves the book alone, as on Gate.io.
        SeqRule::Mexc => match mexc_apply_depth(payload, book) {
            Ok(Some(o)) => Ok(Offer::Book(o.status)),
            Ok(None) => Ok(Offer::NotDepth),
            Err(e) => Err(DepthError::Mexc(e)),
        },
        SeqRule::Gate => match apply_frame(payload, book, want) {
            Ok(DepthOutcome::NotDepth) => Ok(Offer::NotDepth),
            Ok(DepthOutcome::WrongSymbol) => Ok(Offer::WrongSymbol),
            Ok(DepthOutcome::Book(st)) => Ok(Offer::Book(st)),
            Err(e) => Err(DepthError::Gate(e)),
        },
        SeqRule::BinanceSpot | SeqRule::BinanceFutures => {
            let applied = if is_sbe(payload) {
                binance::sbe::apply_sbe_depth(payload, book, want)
            } else {
                binance::apply_frame(payload, book, want)
            };
            match applied {
                Ok(binance::DepthOutcome::NotDepth) => Ok(Offer::NotDepth),
                Ok(binance::DepthOutcome::WrongSymbol) => Ok(Offer::WrongSymbol),
                Ok(binance::DepthOutcome::Book(st)) => Ok(Offer::Book(st)),
                Err(e) => Err(DepthError::Binance(e)),
            }
        }
        SeqRule::KucoinSpot | SeqRule::KucoinFutures => {
            match kucoin::apply_frame(payload, book, want) {
                Ok(kucoin::DepthOutcome::NotDepth) => Ok(Offer::NotDepth),
                Ok(kucoin::DepthOutcome::WrongSymbol) => Ok(Offer::WrongSymbol),
                Ok(kucoin::DepthOutcome::Book(st)) => Ok(Offer::Book(st)),
                Err(e) => Err(DepthError::Kucoin(e)),
            }
        }
    }
}

/// One push from the stream for `book`.
///
/// # Errors
/// A malformed push; the book is then out of sync (it may have been half applied).
pub fn offer(
    book: &mut OrderBook,
    want: Option<&str>,
    payload: &[u8],
) -> Result<Offer, DepthError> {
    let seeds = book.counts.snapshots;
    match apply(book, want, payload) {
        Ok(Offer::Book(Status::NotSynced)) if book.pending.enabled() => {
            book.pending.push(payload);
            Ok(Offer::Held)
        }
        Ok(Offer::Book(Status::Applied)) if book.counts.snapshots != seeds => {
            // The push was a snapshot (Gate.io `full: true`): the held pushes follow it.
            Ok(Offer::Book(replay(book, want)))
        }
        Err(e) => {
            book.mark_out_of_sync();
            Err(e)
        }
        other => other,
    }
}

/// Replays the held pushes after a snapshot was loaded; returns the status for the lot (see
/// the module doc). The buffer is empty afterwards.
pub fn replay(book: &mut OrderBook, want: Option<&str>) -> Status {
    if book.is_crossed() {
        book.pending.clear();
        return Status::Crossed;
    }
    for frame in book.pending.take() {
        match apply(book, want, &frame) {
            Ok(
                Offer::Book(Status::Applied | Status::Stale) | Offer::NotDepth | Offer::WrongSymbol,
            ) => {}
            Ok(Offer::Book(Status::Crossed)) => return Status::Crossed,
            // A hole in the held pushes, a snapshot older than them, or a malformed one:
            // the book cannot be aligned from this snapshot.
            Ok(Offer::Book(Status::Gap | Status::NotSynced) | Offer::Held) | Err(_) => {
                book.mark_out_of_sync();
                return Status::Gap;
            }
        }
    }
    if book.confirmed() {
        Status::Applied
    } else {
        Status::Stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{Pending, Phase};
    use crate::decimal::Decimal;
    use std::convert::Infallible;

    fn gate_push(first: u64, last: u64, bid: &str) -> Vec<u8> {
        format!(
            r#"{{"time":1,"channel":"spot.order_book_update","event":"update","result":{{"t":1,"s":"BTC_USDT","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["200","1"]]}}}}"#
        )
        .into_bytes()
    }

    fn put(b: &mut OrderBook, payload: &[u8]) -> Offer {
        offer(b, Some("BTC_USDT"), payload).unwrap()
    }

    fn book() -> OrderBook {
        let mut b = OrderBook::new(SeqRule::Gate, None);
        b.pending = Pending::new(100, 1 << 20);
        b
    }

    fn rest(b: &mut OrderBook, id: u64) -> Status {
        b.load_snapshot::<Infallible>(id, |w| {
            w.bid(Decimal::parse("90").unwrap(), Decimal::parse("1").unwrap());
            w.ask(Decimal::parse("210").unwrap(), Decimal::parse("1").unwrap());
            Ok(())
        })
        .unwrap();
        replay(b, Some("BTC_USDT"))
    }

    #[test]
    fn pushes_are_held_then_bridge_the_snapshot() {
        let mut b = book();
        for (f, l) in [(1, 5), (6, 9), (10, 12)] {
            assert_eq!(put(&mut b, &gate_push(f, l, "100")), Offer::Held);
        }
        assert_eq!(rest(&mut b, 7), Status::Applied);
        assert!(b.in_sync());
        assert_eq!(b.sequence(), 12);
        assert!(b.pending.is_empty());
    }

    #[test]
    fn a_snapshot_ahead_of_the_stream_is_not_in_sync_until_bridged() {
        let mut b = book();
        put(&mut b, &gate_push(1, 5, "100"));
        assert_eq!(rest(&mut b, 20), Status::Stale);
        assert_eq!(b.phase(), Phase::Unconfirmed);
        assert!(!b.in_sync());
        assert_eq!(
            put(&mut b, &gate_push(6, 15, "101")),
            Offer::Book(Status::Stale)
        );
        assert!(!b.in_sync(), "stale pushes never confirm a snapshot");
        assert_eq!(
            put(&mut b, &gate_push(16, 25, "102")),
            Offer::Book(Status::Applied)
        );
        assert!(b.in_sync());
    }

    #[test]
    fn a_snapshot_behind_the_held_pushes_is_a_gap() {
        let mut b = book();
        put(&mut b, &gate_push(10, 15, "100"));
        assert_eq!(rest(&mut b, 5), Status::Gap);
        assert!(!b.in_sync());
        assert_eq!(b.phase(), Phase::OutOfSync);
    }

    #[test]
    fn losing_the_link_takes_the_book_out_of_sync_and_drops_held_pushes() {
        let mut b = book();
        put(&mut b, &gate_push(1, 5, "100"));
        assert_eq!(rest(&mut b, 3), Status::Applied);
        assert!(b.in_sync());
        b.set_linked(false);
        assert!(!b.in_sync());
        assert_eq!(b.phase(), Phase::OutOfSync);
        put(&mut b, &gate_push(6, 7, "100"));
        assert_eq!(b.pending.len(), 1, "held while waiting for a snapshot");
        assert_eq!(rest(&mut b, 6), Status::Applied);
        assert_eq!(b.phase(), Phase::Unlinked, "confirmed, but not subscribed");
        b.set_linked(true);
        assert!(b.in_sync());
    }

    #[test]
    fn a_push_for_another_pair_is_neither_held_nor_applied() {
        let mut b = book();
        let other = String::from_utf8(gate_push(1, 5, "100"))
            .unwrap()
            .replace("BTC_USDT", "ETH_USDT");
        assert_eq!(put(&mut b, other.as_bytes()), Offer::WrongSymbol);
        assert!(b.pending.is_empty());
    }

    /// The reference's SBE DepthDiff vector (`binance.md` §5): ids 100..102, BTCUSDT.
    const SBE_DIFF: [u8; 82] = [
        0x1a, 0x00, 0x13, 0x27, 0x01, 0x00, 0x00, 0x00, 0x40, 0x22, 0x20, 0x18, 0x24, 0x0a, 0x06,
        0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xfe, 0xf8, 0x10, 0x00, 0x01, 0x00, 0xac, 0x2e, 0x63, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x80, 0xd1, 0xf0, 0x08, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0xad, 0x2e,
        0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
        0x42, 0x54, 0x43, 0x55, 0x53, 0x44, 0x54,
    ];

    #[test]
    fn held_binance_sbe_and_json_pushes_replay_by_their_bytes() {
        assert!(is_sbe(&SBE_DIFF));
        assert!(!is_sbe(br#"{"e":"depthUpdate"}"#));
        assert!(!is_sbe(b" {}"));
        let mut b = OrderBook::new(SeqRule::BinanceSpot, None);
        b.pending = Pending::new(100, 1 << 20);
        let json = br#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":103,"u":104,"b":[["65000.11","2"]],"a":[]}"#;
        assert_eq!(
            offer(&mut b, Some("BTCUSDT"), &SBE_DIFF).unwrap(),
            Offer::Held
        );
        assert_eq!(offer(&mut b, Some("BTCUSDT"), json).unwrap(), Offer::Held);
        b.load_snapshot::<Infallible>(101, |w| {
            w.ask(
                Decimal::parse("65000.13").unwrap(),
                Decimal::parse("1").unwrap(),
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(replay(&mut b, Some("BTCUSDT")), Status::Applied);
        assert!(b.in_sync());
        assert_eq!(b.sequence(), 104);
        assert_eq!(b.asks().best(), None, "the SBE diff deleted the only ask");
    }
}
