//! The one-pass record reader against the general path: seeded pushes of every record kind,
//! spelled as Gate writes them and respelled (numbers as strings and back, signs, empty and
//! null values, escapes, unicode, whitespace, repeated, unknown and reordered keys).

use super::*;
use crate::book::testkit::Rng;
use crate::gate::message::parse_checked;

/// The one-pass reader and the general path agree; true when the one-pass reader took it.
fn agree(frame: &str) -> bool {
    let general = parse_checked(frame.as_bytes());
    let fast = parse(frame.as_bytes());
    // The keep-nothing pass (`apply_depth` declining) takes exactly the same frames.
    assert_eq!(is_record_push(frame.as_bytes()), fast.is_some(), "{frame}");
    match fast {
        Some(fast) => {
            // What `apply_depth` declines in one pass, the general path declines too.
            let mut book = crate::book::testkit::seeded(crate::book::SeqRule::Gate, 100);
            let declined = crate::gate::depth::apply_checked(frame.as_bytes(), &mut book, None);
            assert!(
                matches!(declined, Ok(crate::gate::DepthOutcome::NotDepth)),
                "{frame}: {declined:?}"
            );
            let general = general.unwrap_or_else(|e| panic!("{frame}: general path: {e}"));
            assert_eq!(
                format!("{:?}", fast.head),
                format!("{:?}", general.head),
                "{frame}"
            );
            assert_eq!(
                format!("{:?}", fast.body),
                format!("{:?}", general.body),
                "{frame}"
            );
            true
        }
        None => false,
    }
}

const DECIMALS: [&str; 12] = [
    "63251.1",
    "0.0153",
    "-250",
    "0",
    "-0",
    "1727000012085.3310",
    "100.000000000000000001",
    "1e5",
    "0123",
    "1.",
    "",
    "9999999999999999999",
];

/// One value for a field of type `ty`, in one of the spellings seen on the wire or not.
fn value(r: &mut Rng, ty: Ty, clean: bool) -> String {
    if clean {
        // Only spellings the one-pass reader takes (and the general path reads alike).
        return match ty {
            Ty::Str => r
                .pick(&["\"buy\"", "\"ÉTH_USDT\"", "\"\"", "null"])
                .to_owned(),
            Ty::Dec => r
                .pick(&[
                    "\"63251.1\"",
                    "-250",
                    "\"-0\"",
                    "0",
                    "\"\"",
                    "null",
                    "1.5",
                    "\"0123\"",
                ])
                .to_owned(),
            Ty::Int => r
                .pick(&["17", "-5", "\"0123\"", "\"-9\"", "null"])
                .to_owned(),
            Ty::Bool => r.pick(&["true", "false", "null"]).to_owned(),
            Ty::Any => r
                .pick(&["17", "\"17\"", "-3", "true", "null", "1.5"])
                .to_owned(),
        };
    }
    match ty {
        Ty::Str => match r.below(8) {
            0 => "null".into(),
            1 => r#""BTC\u005fUSDT""#.into(),
            2 => "\"ÉTH_USDT\"".into(),
            3 => "5".into(),
            4 => "\"a\\\"b\"".into(),
            _ => format!(
                "\"{}\"",
                r.pick(&["buy", "sell", "BTC_USDT", "1m_BTC_USDT", ""])
            ),
        },
        Ty::Dec => {
            let d = r.pick(&DECIMALS);
            match r.below(6) {
                0 if !d.is_empty() => d.to_owned(),
                1 => "null".into(),
                2 => "true".into(),
                _ => format!("\"{d}\""),
            }
        }
        Ty::Int => match r.below(7) {
            0 => "\"1727000012\"".into(),
            1 => "-5".into(),
            2 => "null".into(),
            3 => "1.5".into(),
            4 => "\"0123\"".into(),
            5 => "12345678901234567890".into(),
            _ => format!("{}", r.below(1 << 40)),
        },
        Ty::Bool => r
            .pick(&["true", "false", "null", "\"true\"", "1"])
            .to_owned(),
        Ty::Any => r
            .pick(&["17", "\"17\"", "-3", "true", "null", "1.5", "[1]", "2e3"])
            .to_owned(),
    }
}

fn record(r: &mut Rng, kind: Kind) -> String {
    let fields = kind.fields();
    let clean = r.below(2) == 0;
    let mut keys: Vec<String> = Vec::new();
    for f in fields {
        if r.below(3) == 0 {
            continue;
        }
        keys.push(format!("\"{}\":{}", f.name, value(r, f.ty, clean)));
    }
    match r.below(12) {
        0 => keys.push(r#""extra":{"x":[1]}"#.into()),
        1 => keys.push(r#""extra":"x""#.into()),
        2 => keys.push(r#""extra":-1.25"#.into()),
        3 if !keys.is_empty() => {
            let k = keys[0].clone();
            keys.push(k);
        }
        4 if keys.len() > 1 => keys.swap(0, 1),
        5 => keys.push(r#""\u0070rice":"1""#.into()),
        _ => {}
    }
    format!("{{{}}}", keys.join(","))
}

fn frame(r: &mut Rng) -> String {
    let kinds = [
        (Kind::Trade, "trades"),
        (Kind::BookTicker, "book_ticker"),
        (Kind::Ticker, "tickers"),
        (Kind::Candle, "candlesticks"),
        (Kind::Order, "orders"),
        (Kind::UserTrade, "usertrades"),
        (Kind::Position, "positions"),
        (Kind::Balance, "balances"),
    ];
    let (kind, name) = kinds[usize::try_from(r.below(8)).unwrap()];
    let market = if r.below(2) == 0 { "spot" } else { "futures" };
    let result = if r.below(3) == 0 {
        let n = r.below(3);
        let items: Vec<String> = (0..n).map(|_| record(r, kind)).collect();
        format!("[{}]", items.join(","))
    } else {
        record(r, kind)
    };
    let mut env = vec![
        format!("\"time\":{}", 1_727_000_012 + r.below(100)),
        format!("\"time_ms\":{}", 1_727_000_012_034u64 + r.below(100)),
        format!("\"channel\":\"{market}.{name}\""),
        "\"event\":\"update\"".to_owned(),
    ];
    match r.below(14) {
        0 => env.swap(0, 2),
        1 => env.swap(1, 3),
        2 => {
            env.remove(3);
        }
        3 => env.push("\"event\":\"update\"".into()),
        4 => env.push("\"error\":null".into()),
        5 => env[3] = "\"event\":\"subscribe\"".into(),
        6 => env[2] = "\"channel\":\"spot.order_book_update\"".into(),
        7 => env[0] = "\"time\":\"1\"".into(),
        8 => env.push("\"id\":5".into()),
        _ => {}
    }
    let mut out = format!("{{{},\"result\":{result}", env.join(","));
    match r.below(16) {
        0 => out.push_str(",\"channel\":\"spot.trades\""),
        1 => out.push(' '),
        2 => out = out.replacen(':', ": ", 1),
        _ => {}
    }
    out.push('}');
    out
}

#[test]
fn agrees_with_the_general_path_on_seeded_frames() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut took = 0;
    let n = 40_000;
    for _ in 0..n {
        if agree(&frame(&mut r)) {
            took += 1;
        }
    }
    // The respelling must leave plenty for the one-pass reader, or the test proves nothing.
    assert!(took > n / 10, "one-pass reader took {took} of {n}");
}

#[test]
fn reads_the_reference_frames_in_one_pass() {
    let frames = [
        r#"{"time":1727000012,"time_ms":1727000012034,"channel":"spot.book_ticker","event":"update","result":{"t":1727000012030,"u":41886412,"s":"BTC_USDT","b":"63251.0","B":"0.2210","a":"63251.1","A":"1.0345"}}"#,
        r#"{"time":1727000012,"time_ms":1727000012090,"channel":"spot.trades","event":"update","result":{"id":9834412201,"id_market":512993347,"create_time":1727000012,"create_time_ms":"1727000012085.3310","side":"buy","currency_pair":"BTC_USDT","amount":"0.0153","price":"63251.1","range":"512993347-512993347"}}"#,
        r#"{"time":1727000030,"time_ms":1727000030390,"channel":"futures.trades","event":"update","result":[{"id":412093377,"contract":"BTC_USDT","size":"-250","price":"63240.3","create_time":1727000030,"create_time_ms":1727000030386}]}"#,
        r#"{"time":1727000030,"time_ms":1727000030390,"channel":"futures.trades","event":"update","result":[{"id":412093377,"contract":"BTC_USDT","size":-250,"price":"63240.3","create_time":1727000030,"create_time_ms":1727000030386,"is_internal":true}]}"#,
        r#"{"time":1,"time_ms":2,"channel":"futures.book_ticker","event":"update","result":{"t":1,"u":2,"s":"BTC_USDT","b":"","B":0,"a":"63251.1","A":"12"}}"#,
        r#"{"time":1,"time_ms":2,"channel":"spot.trades","event":"update","result":{"id":1,"side":"sell","currency_pair":"ÄÖ_USDT","amount":"1","price":"2"}}"#,
    ];
    for f in frames {
        assert!(agree(f), "{f}");
    }
}

#[test]
fn leaves_other_frames_to_the_general_path() {
    for f in [
        r#"{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1}}"#,
        r#"{"time":1,"channel":"spot.trades","event":"subscribe","result":{"status":"success"}}"#,
        r#"{"time":1,"channel":"spot.pong","event":"","result":null}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"side":"b\u0075y"}}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"price":"1","price":"2"}}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"price":1e3}}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"price":"1"},"id":1}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"price":"1"}} "#,
        r#"{"channel":"spot.trades","result":{"price":"1"},"event":"update"}"#,
        r#"{"channel":"spot.trades","event":"update","result":{"side":"a\u{1}"}}"#,
    ] {
        assert!(parse(f.as_bytes()).is_none(), "{f}");
    }
    // Invalid UTF-8 inside a string is never taken.
    let mut bad = br#"{"channel":"spot.trades","event":"update","result":{"side":"xx"}}"#.to_vec();
    let at = bad.len() - 4;
    bad[at] = 0xff;
    assert!(parse(&bad).is_none());
}
