//! `apply_frame` against the reference's examples and the sequence rules, end to end.

use super::{apply_frame, DepthOutcome};
use crate::book::{OrderBook, SeqRule, Status};
use crate::decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn book(rule: SeqRule, id: u64) -> OrderBook {
    let mut b = OrderBook::new(rule, None);
    b.load_snapshot::<()>(id, |w| {
        w.bid(d("0.0024"), d("1"));
        w.ask(d("0.0026"), d("1"));
        Ok(())
    })
    .unwrap();
    b
}

fn spot(first: u64, last: u64, bid: &str) -> String {
    format!(
        r#"{{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":{first},"u":{last},"b":[["0.0024","{bid}"]],"a":[]}}"#
    )
}

fn fut(first: u64, last: u64, prev: u64) -> String {
    format!(
        r#"{{"e":"depthUpdate","E":123456789,"T":123456788,"s":"BTCUSDT","U":{first},"u":{last},"pu":{prev},"b":[["0.0024","{last}"]],"a":[["0.0026","100"]]}}"#
    )
}

fn apply(f: &str, b: &mut OrderBook, want: Option<&str>) -> DepthOutcome {
    apply_frame(f.as_bytes(), b, want).unwrap()
}

const fn st(s: Status) -> DepthOutcome {
    DepthOutcome::Book(s)
}

#[test]
fn spot_diffs_follow_the_documented_rules() {
    let mut b = book(SeqRule::BinanceSpot, 156);
    assert_eq!(apply(&spot(150, 156, "7"), &mut b, None), st(Status::Stale));
    assert_eq!(
        apply(&spot(157, 160, "10"), &mut b, Some("BNBBTC")),
        st(Status::Applied)
    );
    assert_eq!(b.bids().best(), Some((d("0.0024"), d("10"))));
    assert_eq!(
        apply(&spot(161, 161, "0"), &mut b, None),
        st(Status::Applied)
    );
    assert_eq!(b.bids().best(), None);
    assert_eq!(apply(&spot(163, 170, "1"), &mut b, None), st(Status::Gap));
    assert!(!b.in_sync());
}

#[test]
fn futures_diffs_chain_on_pu() {
    let mut b = book(SeqRule::BinanceFutures, 160);
    // The reference's example: U=157 <= 160 <= u=160 applies as the first push.
    assert_eq!(
        apply(&fut(157, 160, 149), &mut b, Some("BTCUSDT")),
        st(Status::Applied)
    );
    assert_eq!(
        apply(&fut(165, 170, 160), &mut b, None),
        st(Status::Applied)
    );
    assert_eq!(b.sequence(), 170);
    assert_eq!(b.bids().best(), Some((d("0.0024"), d("170"))));
    assert_eq!(apply(&fut(175, 180, 171), &mut b, None), st(Status::Gap));
    // A spot push has no `pu`: a futures book refuses it with a typed error.
    let mut b = book(SeqRule::BinanceFutures, 160);
    let e = apply_frame(spot(157, 160, "1").as_bytes(), &mut b, None).unwrap_err();
    assert_eq!(e.field, "pu");
}

#[test]
fn partial_depth_and_snapshots_replace_the_book() {
    let mut b = book(SeqRule::BinanceSpot, 1);
    let f = r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#;
    assert_eq!(apply(f, &mut b, Some("BNBBTC")), st(Status::Applied));
    assert_eq!(b.sequence(), 160);
    let f = r#"{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#;
    assert_eq!(apply(f, &mut b, None), st(Status::Applied));
    assert_eq!(b.asks().best(), Some((d("4.000002"), d("12"))));
    let f = r#"{"stream":"btcusdt@depth5@100ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":1,"u":9,"pu":0,"b":[["1","1"]],"a":[["2","1"]]}}"#;
    let mut b = book(SeqRule::BinanceFutures, 1);
    assert_eq!(apply(f, &mut b, Some("BTCUSDT")), st(Status::Applied));
    assert_eq!((b.sequence(), b.bids().len()), (9, 1));
}

#[test]
fn combined_frames_route_by_stream_and_check_symbols() {
    let mut b = book(SeqRule::BinanceSpot, 156);
    let wrap = |stream: &str, data: &str| format!(r#"{{"stream":"{stream}","data":{data}}}"#);
    let diff = spot(157, 160, "3");
    assert_eq!(
        apply(&wrap("ethbtc@depth", &diff), &mut b, Some("BNBBTC")),
        DepthOutcome::WrongSymbol
    );
    assert_eq!(
        apply(&diff.replace("BNBBTC", "ETHBTC"), &mut b, Some("BNBBTC")),
        DepthOutcome::WrongSymbol
    );
    assert_eq!(b.sequence(), 156, "another symbol never touches the book");
    assert_eq!(
        apply(&wrap("bnbbtc@depth@100ms", &diff), &mut b, Some("BNBBTC")),
        st(Status::Applied)
    );
    let trade =
        r#"{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"0.001","q":"100","T":1,"m":true,"M":true}"#;
    assert_eq!(
        apply(&wrap("bnbbtc@trade", trade), &mut b, None),
        DepthOutcome::NotDepth
    );
    assert_eq!(apply(trade, &mut b, None), DepthOutcome::NotDepth);
    assert_eq!(
        apply(r#"{"result":null,"id":1}"#, &mut b, None),
        DepthOutcome::NotDepth
    );
    let bt = r#"{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}"#;
    assert_eq!(apply(bt, &mut b, None), DepthOutcome::NotDepth);
    // data before stream.
    let f = format!(
        r#"{{"data":{},"stream":"bnbbtc@depth"}}"#,
        spot(161, 161, "4")
    );
    assert_eq!(apply(&f, &mut b, None), st(Status::Applied));
    assert_eq!(b.bids().best(), Some((d("0.0024"), d("4"))));
}

/// Malformed or ambiguous pushes are errors; levels may already have been streamed into the
/// book when the problem shows (a repeated key after the levels), and then the book is out
/// of sync: never in sync and different from what the frame means.
#[test]
fn ambiguous_frames_are_refused_and_never_leave_a_wrong_book_in_sync() {
    let bad = [
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"u":170,"b":[],"a":[]}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"b":[["0.0024","9"]],"b":[],"a":[]}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"b":[["0.0024","9"]],"a":[],"e":"trade"}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"lastUpdateId":160,"b":[],"a":[]}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"b":[["0.0024","-9"]],"a":[]}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":-1,"u":160,"b":[],"a":[]}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"b":[["0.0024"]],"a":[]}"#,
        r#"{"lastUpdateId":160,"bids":[["0.0024","9"]],"asks":[],"e":"depthUpdate"}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":157,"u":160,"b":[],"a":[],"lastUpdateId":1}"#,
        r#"{"e":"depthUpdate","s":"BNBBTC","U":150,"u":155,"b":[["x","1"]],"a":[]}"#,
    ];
    for f in bad {
        let mut b = book(SeqRule::BinanceSpot, 156);
        assert!(apply_frame(f.as_bytes(), &mut b, None).is_err(), "{f}");
        let untouched = b.bids().best() == Some((d("0.0024"), d("1"))) && b.sequence() == 156;
        assert!(untouched || !b.in_sync(), "{f}");
    }
}
