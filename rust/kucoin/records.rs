//! Trade and ticker payloads, checked by table (`kucoin.md` §3, §7.1, §12).
//!
//! Each field has the type the reference gives it; a present field of the wrong type (or a
//! repeated known key) is an error, a missing one reads as None. Decimals stay exact text.

use super::error::KucoinError;
use super::object::{locate_into, Trust};
use super::route::Kind;
use crate::gate::{value, GateErrorKind};
use crate::json::Scan;

/// How a record field is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A string (ids, symbols, `type`).
    Str,
    /// An exact decimal: a decimal string, or a JSON number (futures sizes).
    Dec,
    /// An integer, or an integer in a string (sequences, ns times).
    Int,
    /// `buy` or `sell`.
    Side,
}

/// The fields of spot `/market/match` (`trade.l3match`).
pub const SPOT_MATCH: &[(&str, Ty)] = &[
    ("makerOrderId", Ty::Str),
    ("takerOrderId", Ty::Str),
    ("price", Ty::Dec),
    ("size", Ty::Dec),
    ("side", Ty::Side),
    ("sequence", Ty::Int),
    ("symbol", Ty::Str),
    ("time", Ty::Int),
    ("tradeId", Ty::Str),
    ("type", Ty::Str),
];

/// The fields of spot `/market/ticker` (the SDK example spells `time` as `Time`: both read).
pub const SPOT_TICKER: &[(&str, Ty)] = &[
    ("sequence", Ty::Int),
    ("price", Ty::Dec),
    ("size", Ty::Dec),
    ("bestAsk", Ty::Dec),
    ("bestAskSize", Ty::Dec),
    ("bestBid", Ty::Dec),
    ("bestBidSize", Ty::Dec),
    ("time", Ty::Int),
    ("Time", Ty::Int),
];

/// The fields of futures `/contractMarket/execution` (`match`).
pub const FUT_EXECUTION: &[(&str, Ty)] = &[
    ("symbol", Ty::Str),
    ("sequence", Ty::Int),
    ("side", Ty::Side),
    ("size", Ty::Dec),
    ("price", Ty::Dec),
    ("takerOrderId", Ty::Str),
    ("makerOrderId", Ty::Str),
    ("tradeId", Ty::Str),
    ("ts", Ty::Int),
];

/// The fields of futures `/contractMarket/tickerV2`.
pub const FUT_TICKER: &[(&str, Ty)] = &[
    ("symbol", Ty::Str),
    ("sequence", Ty::Int),
    ("bestBidPrice", Ty::Dec),
    ("bestAskPrice", Ty::Dec),
    ("bestBidSize", Ty::Dec),
    ("bestAskSize", Ty::Dec),
    ("ts", Ty::Int),
];

/// The field table of a record kind (empty for the other kinds).
#[must_use]
pub fn table(kind: Kind) -> &'static [(&'static str, Ty)] {
    match kind {
        Kind::SpotMatch => SPOT_MATCH,
        Kind::SpotTicker => SPOT_TICKER,
        Kind::FuturesExecution => FUT_EXECUTION,
        Kind::FuturesTicker => FUT_TICKER,
        _ => &[],
    }
}

/// Up to this many fields per table.
const MAX: usize = 10;

/// Offsets of the fields of `kind`'s table in the `data` object at `data` (checked).
///
/// # Errors
/// Not an object, a repeated known key, or a field of the wrong type.
pub fn check(frame: &[u8], kind: Kind, data: usize) -> Result<[Option<usize>; MAX], KucoinError> {
    let t = table(kind);
    let mut names = [""; MAX];
    for (n, (name, _)) in names.iter_mut().zip(t) {
        *n = name;
    }
    let mut at = [None; MAX];
    locate_into(
        &mut Scan::at(frame, data),
        &names[..t.len()],
        &mut at,
        Trust::Valid,
    )
    .map_err(|e| e.under("data"))?;
    for ((name, ty), pos) in t.iter().zip(at) {
        if let Some(p) = pos {
            check_value(frame, p, name, *ty).map_err(|e| e.under("data"))?;
        }
    }
    Ok(at)
}

fn check_value(frame: &[u8], pos: usize, name: &str, ty: Ty) -> Result<(), KucoinError> {
    let mut s = Scan::at(frame, pos);
    let v = s.value().map_err(|e| KucoinError::json(name, e))?;
    match ty {
        Ty::Str => {
            value::string(&v, name, pos)?;
        }
        Ty::Dec => {
            if let Some(d) = value::decimal(&v, name, pos)? {
                if d.is_negative() {
                    return Err(KucoinError::invalid(name, pos, "negative price or size"));
                }
            }
        }
        Ty::Int => {
            value::int(&v, name, pos)?;
        }
        Ty::Side => {
            if let Some(j) = value::string(&v, name, pos)? {
                if !(j.is("buy") || j.is("sell")) {
                    return Err(KucoinError::at(
                        name,
                        pos,
                        GateErrorKind::Invalid("side must be buy or sell"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit() {
        for k in [
            Kind::SpotMatch,
            Kind::SpotTicker,
            Kind::FuturesExecution,
            Kind::FuturesTicker,
        ] {
            assert!(!table(k).is_empty() && table(k).len() <= MAX);
        }
    }

    #[test]
    fn wrong_types_are_refused() {
        let f = br#"{"price":"1.5","side":"buy","sequence":"12"}"#;
        assert!(check(f, Kind::SpotMatch, 0).is_ok());
        let f = br#"{"price":true}"#;
        assert!(check(f, Kind::SpotMatch, 0).is_err());
        let f = br#"{"side":"up"}"#;
        assert!(check(f, Kind::SpotMatch, 0).is_err());
        let f = br#"{"sequence":"1.5"}"#;
        assert!(check(f, Kind::SpotMatch, 0).is_err());
        let f = br#"{"price":"1","price":"2"}"#;
        assert!(check(f, Kind::SpotMatch, 0).is_err());
    }
}
