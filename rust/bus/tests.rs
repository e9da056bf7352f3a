use super::*;
use crate::book::SeqRule;
use std::convert::Infallible;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn header(kind: Kind, seq: u64) -> Header<'static> {
    Header {
        kind,
        flags: 0,
        gateway_seq: seq,
        first_id: 10,
        last_id: 12,
        recv_ns: 1_700_000_000_000_000_000,
        publish_ns: 1_700_000_000_000_000_500,
        exchange: "gateio",
        symbol: "BTC_USDT",
    }
}

fn source() -> OrderBook {
    let mut b = OrderBook::new(SeqRule::Gate, Some(3));
    b.set_journal(true);
    b.load_stream_snapshot::<Infallible>(10, |w| {
        w.bid(d("99"), d("1"));
        w.bid(d("98"), d("2"));
        w.ask(d("101"), d("1.5"));
        Ok(())
    })
    .unwrap();
    b
}

type Sides = (Vec<(Decimal, Decimal)>, Vec<(Decimal, Decimal)>);

fn levels(b: &OrderBook) -> Sides {
    (b.bids().iter().collect(), b.asks().iter().collect())
}

#[test]
fn round_trip_keeps_every_field() {
    let mut out = Vec::new();
    let lv = [
        (true, d("1.5"), d("0.000000000000000001")),
        (false, d("-3"), d("0")),
    ];
    encode(&mut out, &header(Kind::Delta, 7), lv.iter().copied()).unwrap();
    assert_eq!(out.len(), HEADER + 2 + 6 + 8 + 4 + 2 * LEVEL);
    let m = decode(&out).unwrap();
    assert_eq!(m.header, header(Kind::Delta, 7));
    assert_eq!(m.levels().collect::<Vec<_>>(), lv);
}

#[test]
fn journal_replays_to_the_same_book_including_depth_cuts() {
    let mut src = source();
    let mut dst = OrderBook::new(SeqRule::KucoinFutures, None);
    let mut out = Vec::new();
    encode_book(&mut out, &header(Kind::Snapshot, 1), &src, None).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Snapshot(Status::Applied), 12))
    );
    src.clear_journal();
    // Two pushes, the second pushing a level past the depth limit of 3.
    for (i, (bids, asks)) in [
        (vec![("97", "1"), ("99", "0")], vec![("102", "4")]),
        (vec![("99.5", "2"), ("99.7", "1")], vec![]),
    ]
    .into_iter()
    .enumerate()
    {
        let id = 11 + i as u64;
        let st = src
            .apply_delta::<Infallible>(id, id, |w| {
                for (p, s) in &bids {
                    w.bid(d(p), d(s));
                }
                for (p, s) in &asks {
                    w.ask(d(p), d(s));
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(st, Status::Applied);
    }
    let j = src.journal().unwrap();
    assert_eq!(j.base_id, 10);
    assert!(!j.reseeded);
    // The cut level (97) is in the journal as a deletion.
    assert!(j.changes.contains(&Change {
        is_bid: true,
        price: d("97"),
        size: Decimal::ZERO
    }));
    out.clear();
    encode_changes(&mut out, &header(Kind::Delta, 2), &j.changes).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Delta(Status::Applied), 12))
    );
    assert_eq!(levels(&dst), levels(&src));
    assert!(dst.in_sync());
    // The same message again is stale; one skipped is a gap.
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Delta(Status::Stale), 12))
    );
    out.clear();
    encode_changes(&mut out, &header(Kind::Delta, 4), &[]).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Delta(Status::Gap), 12))
    );
    assert!(!dst.in_sync());
}

#[test]
fn journal_is_off_by_default_and_marks_reseeds() {
    let mut b = OrderBook::new(SeqRule::Gate, None);
    assert!(b.journal().is_none());
    let mut b2 = source();
    assert!(b2.journal().unwrap().reseeded);
    b2.clear_journal();
    assert!(!b2.journal().unwrap().reseeded);
    b.set_journal(true);
    b.set_journal(false);
    assert!(b.journal().is_none());
}

#[test]
fn stored_snapshot_waits_for_the_bridging_delta_and_markers_stop_the_book() {
    let src = source();
    let mut dst = OrderBook::new(SeqRule::KucoinFutures, None);
    let mut out = Vec::new();
    encode_book(&mut out, &header(Kind::Snapshot, 5), &src, Some(1)).unwrap();
    assert_eq!(decode(&out).unwrap().len(), 2);
    assert_eq!(
        load_stored(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok(Status::Applied)
    );
    assert!(!dst.in_sync());
    out.clear();
    encode_changes(&mut out, &header(Kind::Delta, 6), &[]).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Delta(Status::Applied), 12))
    );
    assert!(dst.in_sync());
    out.clear();
    encode_changes(&mut out, &header(Kind::OutOfSync, 5), &[]).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::OutOfSync(Status::Stale), 12))
    );
    out.clear();
    encode_changes(&mut out, &header(Kind::OutOfSync, 7), &[]).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::OutOfSync(Status::Applied), 12))
    );
    assert!(!dst.in_sync());
    // Wrong book, a delta in the bucket: typed errors, book out of sync.
    assert!(apply(&mut dst, &out, "mexc", "BTC_USDT").is_err());
    let mut delta = Vec::new();
    encode_changes(&mut delta, &header(Kind::Delta, 9), &[]).unwrap();
    assert!(load_stored(&mut dst, &delta, "gateio", "BTC_USDT").is_err());
}

#[test]
fn a_stored_marker_waits_for_a_later_snapshot_from_the_stream() {
    let src = source();
    let mut dst = OrderBook::new(SeqRule::KucoinFutures, None);
    let mut out = Vec::new();
    encode_changes(&mut out, &header(Kind::OutOfSync, 20), &[]).unwrap();
    assert_eq!(
        load_stored(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok(Status::NotSynced)
    );
    assert!(!dst.in_sync());
    // A snapshot from before the marker, replayed by the stream, is history.
    out.clear();
    encode_book(&mut out, &header(Kind::Snapshot, 19), &src, None).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Snapshot(Status::Stale), 12))
    );
    assert!(!dst.in_sync());
    out.clear();
    encode_book(&mut out, &header(Kind::Snapshot, 21), &src, None).unwrap();
    assert_eq!(
        apply(&mut dst, &out, "gateio", "BTC_USDT"),
        Ok((Applied::Snapshot(Status::Applied), 12))
    );
    assert!(dst.in_sync());
}

#[test]
fn malformed_messages_are_refused_with_the_field() {
    let mut out = Vec::new();
    encode_changes(
        &mut out,
        &header(Kind::Delta, 1),
        &[Change {
            is_bid: true,
            price: d("1"),
            size: d("1"),
        }],
    )
    .unwrap();
    let bad = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = out.clone();
        f(&mut b);
        decode(&b).unwrap_err().field
    };
    assert_eq!(bad(&|b| b[0] = 2), "version");
    assert_eq!(bad(&|b| b[1] = 9), "kind");
    assert_eq!(bad(&|b| b[2] = 1), "flags");
    assert_eq!(bad(&|b| b[3] = 8), "scale");
    assert_eq!(bad(&|b| b.truncate(30)), "header");
    assert_eq!(bad(&|b| b.push(0)), "levels");
    let n = b_len(&out);
    assert_eq!(bad(&|b| b[n] = 7), "side");
    assert_eq!(bad(&|b| b[n + 32] = 0x80), "size");
    assert_eq!(bad(&|b| b[HEADER] = 200), "exchange");
    for cut in 0..out.len() {
        assert!(decode(&out[..cut]).is_err());
    }
}

fn b_len(out: &[u8]) -> usize {
    out.len() - LEVEL
}
