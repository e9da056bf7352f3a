//! Unit tests of `depth.rs`: Gate's U/u rules through whole frames (`gateio.md` §4.2, §4.3, §9).

use super::*;
use crate::book::SeqRule;
use crate::decimal::Decimal;
use crate::gate::levels::compact_level;
use std::convert::Infallible;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn seeded(id: u64) -> OrderBook {
    let mut b = OrderBook::new(SeqRule::Gate, None);
    b.load_snapshot::<Infallible>(id, |w| {
        w.bid(d("63250.1"), d("0.4"));
        w.bid(d("63248.0"), d("0.05"));
        w.ask(d("63250.2"), d("0.0087"));
        w.ask(d("63250.9"), d("1.2"));
        Ok(())
    })
    .unwrap();
    b
}

fn apply(frame: &str, b: &mut OrderBook) -> DepthOutcome {
    apply_frame(frame.as_bytes(), b, None).unwrap_or_else(|e| panic!("{e}"))
}

const SPOT_4: &str = r#"{"time":1727000006,"time_ms":1727000006118,"channel":"spot.order_book_update","event":"update","result":{"t":1727000006101,"l":"100","e":"depthUpdate","E":1727000006,"s":"BTC_USDT","U":41886300,"u":41886309,"b":[["63250.1","0.41230"],["63249.8","0"]],"a":[["63250.2","0.00870"]]}}"#;

#[test]
fn reference_example_4_straddles_the_snapshot() {
    let mut b = seeded(41_886_301);
    assert_eq!(apply(SPOT_4, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.sequence(), 41_886_309);
    assert_eq!(b.bids().best(), Some((d("63250.1"), d("0.4123"))));
    assert_eq!(b.asks().best(), Some((d("63250.2"), d("0.0087"))));
    // The same push again is stale and leaves the book alone.
    assert_eq!(apply(SPOT_4, &mut b), DepthOutcome::Book(Status::Stale));
}

#[test]
fn gap_and_not_synced_leave_levels_alone() {
    let mut b = seeded(100);
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":105,"u":110,"b":[["1","1"]],"a":[]}}"#;
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::Gap));
    assert_eq!(b.bids().len(), 2);
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::NotSynced));
}

#[test]
fn ids_after_levels_use_the_two_pass_road() {
    let mut b = seeded(100);
    let f = r#"{"result":{"b":[["63250.5","2"]],"a":[["63250.2","0"]],"u":101,"U":101,"s":"BTC_USDT"},"channel":"spot.order_book_update","event":"update"}"#;
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.bids().best(), Some((d("63250.5"), d("2"))));
    assert_eq!(b.asks().best_price(), Some(d("63250.9")));
}

#[test]
fn full_after_levels_is_still_a_snapshot() {
    let mut b = seeded(100);
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"U":5,"u":7,"b":[["10","1"]],"a":[["11","2"]],"full":true}}"#;
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.sequence(), 7);
    assert_eq!(b.bids().len(), 1);
    assert_eq!(b.asks().best(), Some((d("11"), d("2"))));
}

#[test]
fn obu_full_then_increment_then_gap() {
    let mut b = OrderBook::new(SeqRule::Gate, Some(50));
    let full = r#"{"channel":"spot.obu","result":{"t":1727000010233,"full":true,"s":"ob.ETH_USDT.50","u":9120044512,"b":[["2631.55","12.4410"],["2631.54","3.0000"]],"a":[["2631.56","0.8820"],["2631.60","5.1200"]]},"time_ms":1727000010240}"#;
    assert_eq!(
        apply_frame(full.as_bytes(), &mut b, Some("ETH_USDT")).unwrap(),
        DepthOutcome::Book(Status::Applied)
    );
    let inc = r#"{"channel":"spot.obu","result":{"t":1727000010251,"s":"ob.ETH_USDT.50","U":9120044513,"u":9120044530,"b":[["2631.55","11.9000"]],"a":[["2631.56","0"],["2631.58","2.2500"]]},"time_ms":1727000010256}"#;
    assert_eq!(apply(inc, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.asks().best(), Some((d("2631.58"), d("2.25"))));
    assert_eq!(b.bids().best(), Some((d("2631.55"), d("11.9"))));
    assert_eq!(
        apply_frame(inc.as_bytes(), &mut b, Some("BTC_USDT")).unwrap(),
        DepthOutcome::WrongSymbol
    );
    let gap = inc
        .replace("9120044513", "9120044540")
        .replace("9120044530", "9120044550");
    assert_eq!(apply(&gap, &mut b), DepthOutcome::Book(Status::Gap));
}

#[test]
fn futures_levels_are_objects_with_integer_or_string_sizes() {
    let mut b = OrderBook::new(SeqRule::Gate, None);
    let snap = r#"{"channel":"futures.order_book","event":"all","result":{"t":1,"contract":"BTC_USDT","id":50,"asks":[{"p":"63240.4","s":37}],"bids":[{"s":1520,"p":"63240.1"},{"p":"63240.3","s":"12"}],"l":"100"}}"#;
    assert_eq!(apply(snap, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.bids().best(), Some((d("63240.3"), d("12"))));
    let inc = r#"{"time":1727000030,"time_ms":1727000030377,"channel":"futures.order_book_update","event":"update","result":{"t":1727000030360,"s":"BTC_USDT","U":51,"u":60,"b":[{"p":"63240.3","s":"0"},{"p":"63240.1","s":1600}],"a":[{"p":"63240.4","s":37}],"l":"100"}}"#;
    assert_eq!(apply(inc, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.bids().best(), Some((d("63240.1"), d("1600"))));
}

#[test]
fn crossed_update_is_reported() {
    let mut b = seeded(100);
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"U":101,"u":101,"b":[["63300","1"]]}}"#;
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::Crossed));
    assert!(!b.in_sync());
}

#[test]
fn acks_pongs_and_other_channels_are_not_depth() {
    let mut b = seeded(100);
    for f in [
        r#"{"time":1,"channel":"spot.order_book_update","event":"subscribe","result":{"status":"success"}}"#,
        r#"{"channel":"spot.order_book_update","result":{"status":"success"},"event":"subscribe"}"#,
        r#"{"channel":"spot.order_book_update","event":"subscribe","error":{"code":2,"message":"x"},"result":{"status":"fail"}}"#,
        r#"{"time":1,"channel":"spot.pong","event":"","error":null,"result":null}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"id":1}}"#,
    ] {
        assert_eq!(apply(f, &mut b), DepthOutcome::NotDepth, "{f}");
    }
    assert_eq!(b.sequence(), 100);
}

#[test]
fn malformed_levels_name_the_field_and_unsync_the_book() {
    let mut b = seeded(100);
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[["1","1"],["x","2"]]}}"#;
    let e = apply_frame(f.as_bytes(), &mut b, None).unwrap_err();
    assert_eq!(e.channel, "spot.order_book_update");
    assert_eq!(e.field, "result.b[1][0]");
    assert!(!b.in_sync());
    let mut b = seeded(100);
    let f = r#"{"channel":"futures.order_book_update","event":"update","result":{"U":101,"u":102,"a":[{"p":"1","s":-3}]}}"#;
    let e = apply_frame(f.as_bytes(), &mut b, None).unwrap_err();
    assert_eq!(e.field, "result.a[0].s");
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"U":101,"b":[]}}"#;
    assert_eq!(
        apply_frame(f.as_bytes(), &mut seeded(100), None)
            .unwrap_err()
            .field,
        "result.u"
    );
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"U":101,"u":102,"b":[["1","1"]]"#;
    assert!(apply_frame(f.as_bytes(), &mut seeded(100), None).is_err());
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":[1]}"#;
    assert!(apply_frame(f.as_bytes(), &mut seeded(100), None).is_err());
}

#[test]
fn stale_push_is_still_validated() {
    let mut b = seeded(100);
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"U":90,"u":95,"b":[["1","1"]],"a":[[1,]]}}"#;
    assert!(apply_frame(f.as_bytes(), &mut b, None).is_err());
    assert_eq!(b.sequence(), 100, "a stale push never touches the book");
    assert_eq!(b.state(), crate::book::SyncState::Synced);
}

#[test]
fn wrong_symbol_is_refused_before_touching_the_book() {
    let mut b = seeded(100);
    let f = SPOT_4.replace("BTC_USDT", "ETH_USDT");
    assert_eq!(
        apply_frame(f.as_bytes(), &mut b, Some("BTC_USDT")).unwrap(),
        DepthOutcome::WrongSymbol
    );
    assert_eq!(b.sequence(), 100);
}

#[test]
fn obu_stream_names_give_the_pair() {
    assert_eq!(
        pair_of("ob.BTC_USDT.400", DepthChannel::Obu, 0).unwrap(),
        "BTC_USDT"
    );
    assert_eq!(
        pair_of("BTC_USDT", DepthChannel::Update, 0).unwrap(),
        "BTC_USDT"
    );
    for bad in ["BTC_USDT", "ob..50", "ob.BTC_USDT"] {
        assert!(pair_of(bad, DepthChannel::Obu, 0).is_err(), "{bad}");
    }
}

#[test]
fn parse_result_keeps_levels_and_spans() {
    let f = SPOT_4.as_bytes();
    let env = envelope::parse(f).unwrap();
    let mut s = Scan::at(f, env.result_pos);
    let u = parse_result(&mut s, DepthChannel::Update).unwrap();
    assert_eq!(u.first_id, Some(41_886_300));
    assert_eq!(u.last_id, 41_886_309);
    assert!(!u.snapshot);
    assert_eq!(
        u.levels.bids,
        vec![(d("63250.1"), d("0.4123")), (d("63249.8"), d("0"))]
    );
    assert_eq!(u.levels.asks.len(), 1);
    assert_eq!(u.symbol.unwrap().decode(f).unwrap(), "BTC_USDT");
    assert_eq!(u.time, Some(1_727_000_006_101));
}

#[test]
fn levels_before_the_ids_are_not_lost() {
    let mut b = OrderBook::new(SeqRule::Gate, None);
    b.load_snapshot::<Infallible>(0, |_| Ok(())).unwrap();
    let f = r#"{"channel":"spot.order_book_update","event":"update","result":{"u":1,"a":[["5","1"]],"U":1,"b":[["4","2"]]}}"#;
    assert_eq!(apply(f, &mut b), DepthOutcome::Book(Status::Applied));
    assert_eq!(b.asks().best(), Some((d("5"), d("1"))));
    assert_eq!(b.bids().best(), Some((d("4"), d("2"))));
}

#[test]
fn compact_levels_take_the_fast_path() {
    let (p, z, end) = compact_level(br#"["63250.1","0.41230"],"#, 0).unwrap();
    assert_eq!((p, z, end), (d("63250.1"), d("0.4123"), 21));
    let (p, z, end) = compact_level(br#"{"p":"63240.1","s":1520}"#, 0).unwrap();
    assert_eq!((p, z, end), (d("63240.1"), d("1520"), 24));
    let (_, z, _) = compact_level(br#"{"p":"1","s":"2.5"}"#, 0).unwrap();
    assert_eq!(z, d("2.5"));
    for other in [
        r#"[ "1","2"]"#,
        r#"["1",2]"#,
        r#"{"s":1,"p":"2"}"#,
        r#"{"p":"1","s":1.5e3}"#,
        r#"["-1","2"]"#,
    ] {
        assert!(compact_level(other.as_bytes(), 0).is_none(), "{other}");
    }
}

/// Finding 1: keys after `result` that make the frame an error or an ack must not leave the
/// push applied (the in-place path used to stop looking at `result`).
#[test]
fn a_trailing_error_or_event_refuses_the_push() {
    let push = r#"{"channel":"spot.order_book_update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[["63250.1","9"]],"a":[]}"#;
    for tail in [
        r#","error":{"code":2,"message":"x"}}"#,
        r#","event":"subscribe"}"#,
        r#","event":"unsubscribe"}"#,
    ] {
        let frame = format!("{push}{tail}");
        let mut b = seeded(100);
        let got = apply_frame(frame.as_bytes(), &mut b, None);
        assert!(
            got.is_err() || got == Ok(DepthOutcome::NotDepth),
            "{frame}: {got:?}"
        );
        assert_ne!(b.sequence(), 102, "{frame}");
        assert!(
            !b.in_sync() || b.bids().size_at(d("63250.1")) == d("0.4"),
            "{frame}"
        );
        // Stale and gap verdicts must not change the book's state either.
        let mut b = seeded(200);
        let _ = apply_frame(frame.as_bytes(), &mut b, None);
        assert!(
            b.state() == crate::book::SyncState::Synced && b.sequence() == 200,
            "{frame}"
        );
    }
    // A trailing `error: null` and unknown keys leave it a plain push.
    let ok = format!(r#"{push},"error":null,"conn_id":"x"}}"#);
    let mut b = seeded(100);
    assert_eq!(apply(&ok, &mut b), DepthOutcome::Book(Status::Applied));
}

/// Finding 2: repeated keys are refused (JSON keeps the last; hftws used the first or all).
#[test]
fn repeated_keys_are_refused() {
    let frames = [
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[["1","1"]],"b":[["2","1"]],"a":[]}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[],"u":999}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[],"U":7}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[],"s":"ETH_USDT"}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"lastUpdateId":102,"b":[],"a":[]}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[]},"result":{"s":"BTC_USDT","U":103,"u":104,"b":[],"a":[]}}"#,
        r#"{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[]},"channel":"spot.trades"}"#,
        r#"{"channel":"spot.order_book_update","event":"update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[],"a":[]}}"#,
        r#"{"channel":"futures.order_book_update","event":"update","result":{"s":"BTC_USDT","U":101,"u":102,"b":[{"p":"1","s":"1","s":"2"}],"a":[]}}"#,
        r#"{"result":{"b":[],"u":102,"U":101,"s":"BTC_USDT","b":[]},"channel":"spot.order_book_update","event":"update"}"#,
    ];
    for f in frames {
        let e = apply_frame(f.as_bytes(), &mut seeded(100), None).unwrap_err();
        assert!(e.to_string().contains("duplicate key"), "{f}: {e}");
        let e = crate::gate::parse(f.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("duplicate key"), "{f}: {e}");
    }
}

/// Finding 3: a push without `s` does not match a named instrument.
#[test]
fn a_push_without_a_symbol_is_refused_for_a_named_book() {
    for f in [
        r#"{"channel":"spot.order_book_update","event":"update","result":{"U":101,"u":102,"b":[["1","1"]],"a":[]}}"#,
        r#"{"result":{"U":101,"u":102,"b":[["1","1"]],"a":[]},"channel":"spot.order_book_update","event":"update"}"#,
        r#"{"channel":"spot.obu","result":{"full":true,"u":102,"b":[["1","1"]],"a":[]}}"#,
    ] {
        let mut b = seeded(100);
        let e = apply_frame(f.as_bytes(), &mut b, Some("BTC_USDT")).unwrap_err();
        assert_eq!(e.field, "result.s", "{f}");
        assert_eq!(e.kind, GateErrorKind::Missing);
        assert_eq!(b.sequence(), 100);
        assert_eq!(b.bids().size_at(d("1")), Decimal::ZERO);
    }
}
