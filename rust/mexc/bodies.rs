//! The 15 body messages of `PushDataV3ApiWrapper` (fields 301-315) and their items, as
//! borrowed structs decoded straight from the frame (`proto/*.proto`, mexc.md §4.2-§4.4).
//!
//! Each message is declared once with its field numbers and schema names; the `message!`
//! macro derives the struct, a decoder that accepts fields in any order, skips unknown ones
//! and keeps proto3 defaults for absent ones, and `to_value` (the protobuf-JSON view keyed by
//! the schema's field names, used by `to_dict`). Field kinds: `&str` plain string, [`Dec`]
//! decimal string (parsed exactly, text kept), [`Ver`] integer string (u64), `i32`/`i64`/
//! `bool` varints, `Option<_>` for proto3 `optional`, `Vec<_>` for `repeated` messages.

use super::error::{FieldPath, MexcError};
use super::wire::{Dec, Reader, Ver};

/// A decoded value in the protobuf-JSON shape: what `to_dict` renders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A string field (decimals and versions keep their original text).
    Str(&'a str),
    /// Any integer field.
    Int(i64),
    /// A bool field.
    Bool(bool),
    /// A message: its present fields, in schema order.
    Msg(Vec<(&'static str, Value<'a>)>),
    /// A repeated message field.
    List(Vec<Value<'a>>),
}

/// A schema message that can be decoded from its bytes.
pub trait Message<'a>: Sized {
    /// Decodes one message; `path` names it in errors.
    ///
    /// # Errors
    /// A [`MexcError`] naming the offending field.
    fn decode(buf: &'a [u8], path: FieldPath) -> Result<Self, MexcError>;
    /// The protobuf-JSON view (every implicit-presence field, present optional fields).
    fn to_value(&self) -> Value<'a>;
}

/// How one field kind is read from the wire and rendered.
pub trait FieldKind<'a> {
    /// Reads one occurrence (a later occurrence of a singular field replaces it).
    ///
    /// # Errors
    /// Wire-type, truncation, UTF-8 and number errors naming `path`.
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError>;
    /// The rendered value, `None` for an absent optional field.
    fn value(&self) -> Option<Value<'a>>;
}

impl<'a> FieldKind<'a> for &'a str {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        *self = r.str_field(wire, path)?;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Str(self))
    }
}

impl<'a> FieldKind<'a> for Dec<'a> {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        *self = Dec::parse(r.str_field(wire, path)?, path)?;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Str(self.text))
    }
}

impl<'a> FieldKind<'a> for Ver<'a> {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        *self = Ver::parse(r.str_field(wire, path)?, path)?;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Str(self.text))
    }
}

impl<'a> FieldKind<'a> for i32 {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        // proto3 int32: a negative value is a sign-extended 10-byte varint; keep the low
        // 32 bits, as every protobuf runtime does.
        *self = r.varint_field(wire, path)? as i32;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Int(i64::from(*self)))
    }
}

impl<'a> FieldKind<'a> for i64 {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        // Two's complement reinterpretation is the int64 wire encoding.
        *self = r.varint_field(wire, path)? as i64;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Int(*self))
    }
}

impl<'a> FieldKind<'a> for bool {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        *self = r.varint_field(wire, path)? != 0;
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::Bool(*self))
    }
}

impl<'a, T: FieldKind<'a> + Default> FieldKind<'a> for Option<T> {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        let mut v = T::default();
        v.merge(r, wire, path)?;
        *self = Some(v);
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        self.as_ref().and_then(FieldKind::value)
    }
}

impl<'a, T: Message<'a>> FieldKind<'a> for Vec<T> {
    #[inline]
    fn merge(&mut self, r: &mut Reader<'a>, wire: u8, path: FieldPath) -> Result<(), MexcError> {
        let b = r.len_field(wire, path)?;
        self.push(T::decode(b, path)?);
        Ok(())
    }
    fn value(&self) -> Option<Value<'a>> {
        Some(Value::List(self.iter().map(Message::to_value).collect()))
    }
}

macro_rules! message {
    (
        $(#[$doc:meta])*
        $name:ident = $schema:literal {
            $( $num:literal $field:ident : $ty:ty = $key:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSchema message `", $schema, "`.")]
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name<'a> {
            $( #[doc = concat!("`", $key, "` (field ", $num, ")")] pub $field: $ty, )*
        }

        impl<'a> Message<'a> for $name<'a> {
            fn decode(buf: &'a [u8], path: FieldPath) -> Result<Self, MexcError> {
                let mut m = Self::default();
                let mut r = Reader::new(buf);
                while let Some((num, wire)) = r.tag(path)? {
                    match num {
                        $( $num => FieldKind::merge(&mut m.$field, &mut r, wire, path.push($key))?, )*
                        _ => r.skip(wire, path)?,
                    }
                }
                Ok(m)
            }

            fn to_value(&self) -> Value<'a> {
                let mut out = Vec::new();
                $( if let Some(v) = FieldKind::value(&self.$field) { out.push(($key, v)); } )*
                Value::Msg(out)
            }
        }
    };
}

message! {
    /// One price level of a depth body: the absolute size at `price` (zero deletes).
    DepthLevel = "PublicAggreDepthV3ApiItem / PublicIncreaseDepthV3ApiItem / PublicLimitDepthV3ApiItem" {
        1 price: Dec<'a> = "price",
        2 quantity: Dec<'a> = "quantity",
    }
}

message! {
    /// 313: aggregated incremental depth covering versions `fromVersion..=toVersion`.
    PublicAggreDepths = "PublicAggreDepthsV3Api" {
        1 asks: Vec<DepthLevel<'a>> = "asks",
        2 bids: Vec<DepthLevel<'a>> = "bids",
        3 event_type: &'a str = "eventType",
        4 from_version: Ver<'a> = "fromVersion",
        5 to_version: Ver<'a> = "toVersion",
        6 last_order_create_time: i64 = "lastOrderCreateTime",
    }
}

message! {
    /// 302: per-version incremental depth (retired channel).
    PublicIncreaseDepths = "PublicIncreaseDepthsV3Api" {
        1 asks: Vec<DepthLevel<'a>> = "asks",
        2 bids: Vec<DepthLevel<'a>> = "bids",
        3 event_type: &'a str = "eventType",
        4 version: Ver<'a> = "version",
    }
}

message! {
    /// 312: a batch of per-version incremental depths (retired channel).
    PublicIncreaseDepthsBatch = "PublicIncreaseDepthsBatchV3Api" {
        1 items: Vec<PublicIncreaseDepths<'a>> = "items",
        2 event_type: &'a str = "eventType",
    }
}

message! {
    /// 303: full top-N snapshot at `version`.
    PublicLimitDepths = "PublicLimitDepthsV3Api" {
        1 asks: Vec<DepthLevel<'a>> = "asks",
        2 bids: Vec<DepthLevel<'a>> = "bids",
        3 event_type: &'a str = "eventType",
        4 version: Ver<'a> = "version",
        5 last_order_create_time: i64 = "lastOrderCreateTime",
    }
}

message! {
    /// One trade of `publicDeals` (301).
    PublicDealsItem = "PublicDealsV3ApiItem" {
        1 price: Dec<'a> = "price",
        2 quantity: Dec<'a> = "quantity",
        3 trade_type: i32 = "tradeType",
        4 time: i64 = "time",
    }
}

message! {
    /// 301: trades (retired channel).
    PublicDeals = "PublicDealsV3Api" {
        1 deals: Vec<PublicDealsItem<'a>> = "deals",
        2 event_type: &'a str = "eventType",
    }
}

message! {
    /// One trade of `publicAggreDeals` (314).
    PublicAggreDealsItem = "PublicAggreDealsV3ApiItem" {
        1 price: Dec<'a> = "price",
        2 quantity: Dec<'a> = "quantity",
        3 trade_type: i32 = "tradeType",
        4 time: i64 = "time",
        5 trade_id: &'a str = "tradeId",
    }
}

message! {
    /// 314: aggregated trades.
    PublicAggreDeals = "PublicAggreDealsV3Api" {
        1 deals: Vec<PublicAggreDealsItem<'a>> = "deals",
        2 event_type: &'a str = "eventType",
    }
}

message! {
    /// 305 and the item of 311: best bid and ask.
    PublicBookTicker = "PublicBookTickerV3Api" {
        1 bid_price: Dec<'a> = "bidPrice",
        2 bid_quantity: Dec<'a> = "bidQuantity",
        3 ask_price: Dec<'a> = "askPrice",
        4 ask_quantity: Dec<'a> = "askQuantity",
    }
}

message! {
    /// 315: aggregated best bid and ask (a full BBO, not a delta).
    PublicAggreBookTicker = "PublicAggreBookTickerV3Api" {
        1 bid_price: Dec<'a> = "bidPrice",
        2 bid_quantity: Dec<'a> = "bidQuantity",
        3 ask_price: Dec<'a> = "askPrice",
        4 ask_quantity: Dec<'a> = "askQuantity",
        5 version: Ver<'a> = "version",
        6 last_order_create_time: i64 = "lastOrderCreateTime",
    }
}

message! {
    /// 311: best bid and ask, batched.
    PublicBookTickerBatch = "PublicBookTickerBatchV3Api" {
        1 items: Vec<PublicBookTicker<'a>> = "items",
        2 version: Ver<'a> = "version",
        3 last_order_create_time: i64 = "lastOrderCreateTime",
    }
}

message! {
    /// 308: one candle; window times are Unix seconds.
    PublicSpotKline = "PublicSpotKlineV3Api" {
        1 interval: &'a str = "interval",
        2 window_start: i64 = "windowStart",
        3 opening_price: Dec<'a> = "openingPrice",
        4 closing_price: Dec<'a> = "closingPrice",
        5 highest_price: Dec<'a> = "highestPrice",
        6 lowest_price: Dec<'a> = "lowestPrice",
        7 volume: Dec<'a> = "volume",
        8 amount: Dec<'a> = "amount",
        9 window_end: i64 = "windowEnd",
    }
}

message! {
    /// 309 and the item of 310: rolling ticker; rates are fractions.
    PublicMiniTicker = "PublicMiniTickerV3Api" {
        1 symbol: &'a str = "symbol",
        2 price: Dec<'a> = "price",
        3 rate: Dec<'a> = "rate",
        4 zoned_rate: Dec<'a> = "zonedRate",
        5 high: Dec<'a> = "high",
        6 low: Dec<'a> = "low",
        7 volume: Dec<'a> = "volume",
        8 quantity: Dec<'a> = "quantity",
        9 last_close_rate: Dec<'a> = "lastCloseRate",
        10 last_close_zoned_rate: Dec<'a> = "lastCloseZonedRate",
        11 last_close_high: Dec<'a> = "lastCloseHigh",
        12 last_close_low: Dec<'a> = "lastCloseLow",
    }
}

message! {
    /// 310: mini tickers of all symbols.
    PublicMiniTickers = "PublicMiniTickersV3Api" {
        1 items: Vec<PublicMiniTicker<'a>> = "items",
    }
}

message! {
    /// 304: private order update.
    PrivateOrders = "PrivateOrdersV3Api" {
        1 id: &'a str = "id",
        2 client_id: &'a str = "clientId",
        3 price: Dec<'a> = "price",
        4 quantity: Dec<'a> = "quantity",
        5 amount: Dec<'a> = "amount",
        6 avg_price: Dec<'a> = "avgPrice",
        7 order_type: i32 = "orderType",
        8 trade_type: i32 = "tradeType",
        9 is_maker: bool = "isMaker",
        10 remain_amount: Dec<'a> = "remainAmount",
        11 remain_quantity: Dec<'a> = "remainQuantity",
        12 last_deal_quantity: Option<Dec<'a>> = "lastDealQuantity",
        13 cumulative_quantity: Dec<'a> = "cumulativeQuantity",
        14 cumulative_amount: Dec<'a> = "cumulativeAmount",
        15 status: i32 = "status",
        16 create_time: i64 = "createTime",
        17 market: Option<&'a str> = "market",
        18 trigger_type: Option<i32> = "triggerType",
        19 trigger_price: Option<Dec<'a>> = "triggerPrice",
        20 state: Option<i32> = "state",
        21 oco_id: Option<&'a str> = "ocoId",
        22 route_factor: Option<&'a str> = "routeFactor",
        23 symbol_id: Option<&'a str> = "symbolId",
        24 market_id: Option<&'a str> = "marketId",
        25 market_currency_id: Option<&'a str> = "marketCurrencyId",
        26 currency_id: Option<&'a str> = "currencyId",
    }
}

message! {
    /// 306: private fill.
    PrivateDeals = "PrivateDealsV3Api" {
        1 price: Dec<'a> = "price",
        2 quantity: Dec<'a> = "quantity",
        3 amount: Dec<'a> = "amount",
        4 trade_type: i32 = "tradeType",
        5 is_maker: bool = "isMaker",
        6 is_self_trade: bool = "isSelfTrade",
        7 trade_id: &'a str = "tradeId",
        8 client_order_id: &'a str = "clientOrderId",
        9 order_id: &'a str = "orderId",
        10 fee_amount: Dec<'a> = "feeAmount",
        11 fee_currency: &'a str = "feeCurrency",
        12 time: i64 = "time",
    }
}

message! {
    /// 307: private balance change.
    PrivateAccount = "PrivateAccountV3Api" {
        1 vcoin_name: &'a str = "vcoinName",
        2 coin_id: &'a str = "coinId",
        3 balance_amount: Dec<'a> = "balanceAmount",
        4 balance_amount_change: Dec<'a> = "balanceAmountChange",
        5 frozen_amount: Dec<'a> = "frozenAmount",
        6 frozen_amount_change: Dec<'a> = "frozenAmountChange",
        7 change_type: &'a str = "type",
        8 time: i64 = "time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mexc::testdata::{len, tag, varint};

    const P: FieldPath = FieldPath::ROOT;

    #[test]
    fn optional_fields_have_presence_and_defaults_render() {
        let empty = PrivateOrders::decode(&[], P).unwrap();
        assert_eq!(empty.last_deal_quantity, None);
        assert_eq!(empty.trigger_type, None);
        let Value::Msg(fields) = empty.to_value() else {
            panic!("not a message");
        };
        let keys: Vec<_> = fields.iter().map(|f| f.0).collect();
        // Implicit-presence fields always render; absent `optional` ones never do.
        assert_eq!(keys.len(), 15);
        assert!(keys.contains(&"isMaker") && !keys.contains(&"market"));

        let mut buf = Vec::new();
        tag(&mut buf, 12, 2);
        len(&mut buf, b"");
        tag(&mut buf, 18, 0);
        varint(&mut buf, 0);
        let o = PrivateOrders::decode(&buf, P).unwrap();
        // Present but empty/zero is still present for explicit-presence fields.
        assert_eq!(o.last_deal_quantity.map(|d| d.text), Some(""));
        assert_eq!(o.trigger_type, Some(0));
    }

    #[test]
    fn repeated_items_keep_wire_order_and_nested_errors_name_the_path() {
        let mut buf = Vec::new();
        for p in ["3", "1", "2"] {
            let mut item = Vec::new();
            tag(&mut item, 1, 2);
            len(&mut item, p.as_bytes());
            tag(&mut buf, 1, 2);
            len(&mut buf, &item);
        }
        let m = PublicMiniTickers::decode(&buf, P).unwrap();
        let syms: Vec<_> = m.items.iter().map(|t| t.symbol).collect();
        assert_eq!(syms, ["3", "1", "2"]);

        let mut item = Vec::new();
        tag(&mut item, 2, 2);
        len(&mut item, b"1.2.3");
        let mut buf = Vec::new();
        tag(&mut buf, 1, 2);
        len(&mut buf, &item);
        let e = PublicMiniTickers::decode(&buf, P.push("publicMiniTickers")).unwrap_err();
        assert_eq!(e.path.to_string(), "publicMiniTickers.items.price");
    }

    #[test]
    fn scalars_follow_proto3_varint_semantics() {
        let mut buf = Vec::new();
        tag(&mut buf, 4, 0);
        varint(&mut buf, 1u64 << 32 | 7); // int32 keeps the low 32 bits
        tag(&mut buf, 5, 0);
        varint(&mut buf, 2); // any non-zero varint is true
        tag(&mut buf, 12, 0);
        varint(&mut buf, (-5i64) as u64);
        let d = PrivateDeals::decode(&buf, P).unwrap();
        assert_eq!((d.trade_type, d.is_maker, d.time), (7, true, -5));
    }
}
