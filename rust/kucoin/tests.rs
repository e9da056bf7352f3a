//! Golden frames from `kucoin.md` §12 and the §4.1/§7.2 worked examples, through `parse` and
//! straight into a book.

use super::*;
use crate::book::{Level, OrderBook, SeqRule, Status};
use crate::decimal::Decimal;
use std::convert::Infallible;

const SPOT_L2: &str = r#"{"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update","data":{"changes":{"asks":[["67993.3","1.21427407","14701689783"]],"bids":[]},"sequenceEnd":14701689783,"sequenceStart":14701689783,"symbol":"BTC-USDT","time":1729816425625}}"#;
const TICKER: &str = r#"{"type":"message","topic":"/market/ticker:BTC-USDT","subject":"trade.ticker","data":{"sequence":"1545896668986","price":"0.08","size":"0.011","bestAsk":"0.08","bestAskSize":"0.18","bestBid":"0.049","bestBidSize":"0.036","Time":1704873323416}}"#;
const MATCH: &str = r#"{"topic":"/market/match:BTC-USDT","type":"message","subject":"trade.l3match","data":{"makerOrderId":"671b5007389355000701b1d3","price":"67523","sequence":"11067996711960577","side":"buy","size":"0.003","symbol":"BTC-USDT","takerOrderId":"671b50161777ff00074c168d","time":"1729843222921000000","tradeId":"11067996711960577","type":"match"}}"#;
const DEPTH5: &str = r#"{"topic":"/spotMarket/level2Depth5:BTC-USDT","type":"message","subject":"level2","data":{"asks":[["67996.7","1.14213262"],["67996.8","0.21748212"],["67996.9","0.1503747"],["67997","0.11446863"],["67997.1","0.14842782"]],"bids":[["67996.6","0.37969491"],["67995.3","0.20779746"],["67994.5","0.00047785"],["67993.4","0.405"],["67993.3","0.13528566"]],"timestamp":1729822226746}}"#;
const FUT_L2: &str = r#"{"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2","sn":1709400450243,"data":{"sequence":1709400450243,"change":"90631.2,sell,2","timestamp":1731897467182}}"#;
const FUT_DEPTH5: &str = r#"{"topic":"/contractMarket/level2Depth5:XBTUSDTM","type":"message","subject":"level2","sn":1731680019100,"data":{"bids":[["89720.9",513],["89720.8",12],["89718.6",113],["89718.4",19],["89718.3",7]],"sequence":1709294294670,"timestamp":1731680019100,"ts":1731680019100,"asks":[["89721",906],["89721.1",203],["89721.4",113],["89723.2",113],["89725.4",113]]}}"#;
const EXECUTION: &str = r#"{"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match","sn":1794100537695,"data":{"symbol":"XBTUSDTM","sequence":1794100537695,"side":"buy","size":2,"price":"90503.9","takerOrderId":"247822202957807616","makerOrderId":"247822167163555840","tradeId":"1794100537695","ts":1731898619520000000}}"#;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn book(rule: SeqRule, id: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> OrderBook {
    let mut b = OrderBook::new(rule, None);
    b.load_snapshot::<Infallible>(id, |w| {
        for (p, z) in bids {
            w.bid(d(p), d(z));
        }
        for (p, z) in asks {
            w.ask(d(p), d(z));
        }
        Ok(())
    })
    .unwrap();
    b
}

fn levels(b: &OrderBook) -> (Vec<Level>, Vec<Level>) {
    (b.bids().iter().collect(), b.asks().iter().collect())
}

#[test]
fn every_reference_example_parses_to_its_kind() {
    let cases: &[(&str, Kind)] = &[
        (r#"{"id":"hQvf8jkno","type":"welcome"}"#, Kind::Welcome),
        (r#"{"id":"1545910590801","type":"pong"}"#, Kind::Pong),
        (r#"{"id":"1545910660739","type":"ack"}"#, Kind::Ack),
        (
            r#"{"id":"1","type":"error","code":509,"data":"exceed max subscription count limitation of 100 per time"}"#,
            Kind::Error,
        ),
        (
            r#"{"code":404,"data":"topic /market/level2:BSV-BTC is not found","id":"1551623050668","type":"error"}"#,
            Kind::Error,
        ),
        (SPOT_L2, Kind::SpotLevel2),
        (TICKER, Kind::SpotTicker),
        (MATCH, Kind::SpotMatch),
        (DEPTH5, Kind::SpotDepth),
        (FUT_L2, Kind::FuturesLevel2),
        (FUT_DEPTH5, Kind::FuturesDepth),
        (EXECUTION, Kind::FuturesExecution),
    ];
    for (f, k) in cases {
        let m = parse(f.as_bytes()).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(m.env.kind, *k, "{f}");
    }
    let m = parse(SPOT_L2.as_bytes()).unwrap();
    let h = m.depth.unwrap();
    assert_eq!((h.first, h.last), (Some(14_701_689_783), 14_701_689_783));
    let m = parse(FUT_L2.as_bytes()).unwrap();
    assert_eq!(m.depth.unwrap().change, Some((d("90631.2"), false, d("2"))));
    assert_eq!(m.env.sn, Some(1_709_400_450_243));
    let e = parse(br#"{"id":"1","type":"error","code":509,"data":"x"}"#).unwrap();
    assert_eq!(e.env.code, Some(509));
    assert!(e.text.is_some());
}

#[test]
fn malformed_and_repeated_keys_are_refused() {
    for f in [
        r#"{"type":"message","type":"message","topic":"/market/level2:X","data":{}}"#,
        r#"{"type":"message","topic":"/market/level2:X"}"#,
        r#"{"type":"message","topic":"/market/level2:X","data":{"changes":{"asks":[],"asks":[]},"sequenceStart":1,"sequenceEnd":1}}"#,
        r#"{"type":"message","topic":"/market/level2:X","data":{"changes":{"asks":[["1","2"]]},"sequenceStart":1,"sequenceEnd":1}}"#,
        r#"{"type":"message","topic":"/market/level2:X","data":{"changes":{"asks":[["1","-2","3"]]},"sequenceStart":1,"sequenceEnd":1}}"#,
        r#"{"type":"message","topic":"/market/level2:X","data":{"changes":{},"sequenceStart":1}}"#,
        r#"{"type":"message","topic":"/contractMarket/level2:X","data":{"sequence":1,"change":"1,up,2"}}"#,
        r#"{"type":"message","topic":"/contractMarket/level2:X","data":{"sequence":1,"change":"1,buy"}}"#,
        r#"{"type":"message","topic":"/contractMarket/level2:X","data":{"sequence":-1,"change":"1,buy,1"}}"#,
        r#"{"type":"welcome"} x"#,
        r#"{"id":"1"}"#,
        "",
    ] {
        assert!(parse(f.as_bytes()).is_err(), "{f}");
    }
}

/// `kucoin.md` §4.1: snapshot 16; asks `3988.59@16` (not newer), `3988.61 -> 0 @19`
/// (removed), `3988.62@15` (not newer); bid `3988.50 -> 44 @18`: book at 19. The doc prints
/// the two range fields swapped; here they are in order.
#[test]
fn spot_calibration_follows_the_worked_example() {
    let mut b = book(
        SeqRule::KucoinSpot,
        16,
        &[("3988.50", "1"), ("3988.49", "2")],
        &[("3988.59", "1"), ("3988.61", "5"), ("3988.62", "7")],
    );
    let f = r#"{"type":"message","topic":"/market/level2:ETH-USDT","subject":"trade.l2update","data":{"sequenceStart":15,"sequenceEnd":19,"symbol":"ETH-USDT","changes":{"asks":[["3988.59","3","16"],["3988.61","0","19"],["3988.62","8","15"]],"bids":[["3988.50","44","18"],["0","0","17"]]}}}"#;
    let out = apply_frame(f.as_bytes(), &mut b, Some("ETH-USDT")).unwrap();
    assert_eq!(out, DepthOutcome::Book(Status::Applied));
    assert_eq!(b.sequence(), 19);
    let (bids, asks) = levels(&b);
    assert_eq!(bids, vec![(d("3988.50"), d("44")), (d("3988.49"), d("2"))]);
    assert_eq!(asks, vec![(d("3988.59"), d("1")), (d("3988.62"), d("7"))]);
    // Later pushes must start at 20.
    let next = f
        .replace("\"sequenceStart\":15", "\"sequenceStart\":21")
        .replace("\"sequenceEnd\":19", "\"sequenceEnd\":22");
    assert_eq!(
        apply_frame(next.as_bytes(), &mut b, None).unwrap(),
        DepthOutcome::Book(Status::Gap)
    );
}

#[test]
fn futures_follow_the_worked_example_and_other_symbols_are_refused() {
    let mut b = book(
        SeqRule::KucoinFutures,
        16,
        &[("3988.40", "3")],
        &[("3988.61", "5")],
    );
    let push = |seq: u64, change: &str| {
        format!(
            r#"{{"topic":"/contractMarket/level2:XBTUSDM","type":"message","subject":"level2","sn":{seq},"data":{{"sequence":{seq},"change":"{change}","timestamp":1}}}}"#
        )
    };
    let ok = |b: &mut OrderBook, f: String| apply_frame(f.as_bytes(), b, Some("XBTUSDM")).unwrap();
    assert_eq!(
        ok(&mut b, push(16, "1,buy,1")),
        DepthOutcome::Book(Status::Stale)
    );
    assert_eq!(
        ok(&mut b, push(17, "3988.50,buy,44")),
        DepthOutcome::Book(Status::Applied)
    );
    assert_eq!(
        ok(&mut b, push(18, "3988.61,sell,0")),
        DepthOutcome::Book(Status::Applied)
    );
    assert_eq!(b.sequence(), 18);
    let (bids, asks) = levels(&b);
    assert_eq!(bids, vec![(d("3988.50"), d("44")), (d("3988.40"), d("3"))]);
    assert!(asks.is_empty());
    let other = push(19, "1,buy,1").replace("XBTUSDM", "ETHUSDM");
    assert_eq!(ok(&mut b, other), DepthOutcome::WrongSymbol);
    assert_eq!(
        ok(&mut b, push(20, "1,buy,1")),
        DepthOutcome::Book(Status::Gap)
    );
    // A spot push on a futures book is an error, not silently ignored.
    assert!(apply_frame(SPOT_L2.as_bytes(), &mut b, None).is_err());
    assert_eq!(
        apply_frame(MATCH.as_bytes(), &mut b, None).unwrap(),
        DepthOutcome::NotDepth
    );
}

#[test]
fn stream_snapshots_replace_the_book() {
    let mut b = OrderBook::new(SeqRule::KucoinSpot, None);
    let out = apply_frame(DEPTH5.as_bytes(), &mut b, Some("BTC-USDT")).unwrap();
    assert_eq!(out, DepthOutcome::Book(Status::Applied));
    assert!(b.confirmed());
    assert_eq!(b.bids().len(), 5);
    let mut f = OrderBook::new(SeqRule::KucoinFutures, None);
    apply_frame(FUT_DEPTH5.as_bytes(), &mut f, None).unwrap();
    assert_eq!(f.sequence(), 1_709_294_294_670);
    assert_eq!(f.asks().iter().next(), Some((d("89721"), d("906"))));
}

/// A random spot stream replayed after a snapshot: the book must equal a map model that
/// applies the documented per-entry rule.
#[test]
fn spot_book_agrees_with_a_model() {
    use std::collections::BTreeMap;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for _ in 0..300 {
        let snap = 100 + rnd(20);
        let mut b = book(SeqRule::KucoinSpot, snap, &[("10", "1")], &[("20", "1")]);
        // [asks, bids], indexed by `usize::from(bid)`.
        let mut model: [BTreeMap<u64, u64>; 2] =
            [BTreeMap::from([(20, 1)]), BTreeMap::from([(10, 1)])];
        let mut seq = snap - rnd(5);
        for _ in 0..20 {
            let start = seq + 1;
            let n = 1 + rnd(4);
            let mut entries = [String::new(), String::new()];
            for k in 0..n {
                let bid = rnd(2) == 0;
                let price = if bid { 1 + rnd(14) } else { 16 + rnd(14) };
                let price = if rnd(10) == 0 { 0 } else { price };
                let size = rnd(3);
                let q = start + k;
                let e = &mut entries[usize::from(bid)];
                if !e.is_empty() {
                    e.push(',');
                }
                e.push_str(&format!(r#"["{price}","{size}","{q}"]"#));
                if price != 0 && q > snap.max(b.sequence()) {
                    let side = &mut model[usize::from(bid)];
                    if size == 0 {
                        side.remove(&price);
                    } else {
                        side.insert(price, size);
                    }
                }
            }
            let end = start + n - 1;
            let f = format!(
                r#"{{"type":"message","topic":"/market/level2:A-B","subject":"trade.l2update","data":{{"changes":{{"asks":[{}],"bids":[{}]}},"sequenceStart":{start},"sequenceEnd":{end}}}}}"#,
                entries[0], entries[1]
            );
            let st = apply_frame(f.as_bytes(), &mut b, Some("A-B")).unwrap();
            assert!(
                matches!(st, DepthOutcome::Book(Status::Applied | Status::Stale)),
                "{st:?}"
            );
            seq = end;
        }
        let want = |m: &BTreeMap<u64, u64>| -> Vec<(Decimal, Decimal)> {
            m.iter()
                .map(|(p, z)| (Decimal::from_i64(*p as i64), Decimal::from_i64(*z as i64)))
                .collect()
        };
        let (mut bids, asks) = levels(&b);
        bids.reverse();
        assert_eq!(bids, want(&model[1]));
        assert_eq!(asks, want(&model[0]));
    }
}
