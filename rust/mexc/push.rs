//! `PushDataV3ApiWrapper`: the envelope of every MEXC spot binary frame (mexc.md §2.3, §4.1;
//! `proto/PushDataV3ApiWrapper.proto`) and the dispatch of its `oneof body` (301-315).
//!
//! One frame holds exactly one message with no length prefix. Fields may come in any order;
//! unknown ones are skipped. A second body field is refused ([`ErrorKind::DuplicateBody`]):
//! Google's runtime would merge two occurrences of the same field and keep the last of two
//! different `oneof` members, and merging zero-copy bodies is not worth it for a frame no
//! exchange sends; a refusal never gives the frame another meaning, and never drops a body
//! unchecked.

use super::bodies::{
    Message, PrivateAccount, PrivateDeals, PrivateOrders, PublicAggreBookTicker, PublicAggreDeals,
    PublicAggreDepths, PublicBookTicker, PublicBookTickerBatch, PublicDeals, PublicIncreaseDepths,
    PublicIncreaseDepthsBatch, PublicLimitDepths, PublicMiniTicker, PublicMiniTickers,
    PublicSpotKline, Value,
};
use super::error::{ErrorKind, FieldPath, MexcError};
use super::wire::Reader;
use super::FieldKind;

/// The wrapper fields other than the body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// `channel` (1): the full subscribed channel string.
    pub channel: &'a str,
    /// `symbol` (3, optional): absent on miniTickers and account pushes.
    pub symbol: Option<&'a str>,
    /// `symbolId` (4, optional).
    pub symbol_id: Option<&'a str>,
    /// `createTime` (5, optional), Unix ms.
    pub create_time: Option<i64>,
    /// `sendTime` (6, optional), Unix ms.
    pub send_time: Option<i64>,
}

impl<'a> Header<'a> {
    /// Appends the header fields to a protobuf-JSON view, in schema order.
    pub fn write_value(&self, out: &mut Vec<(&'static str, Value<'a>)>) {
        out.push(("channel", Value::Str(self.channel)));
        let opt = [
            ("symbol", self.symbol.map(Value::Str)),
            ("symbolId", self.symbol_id.map(Value::Str)),
            ("createTime", self.create_time.map(Value::Int)),
            ("sendTime", self.send_time.map(Value::Int)),
        ];
        out.extend(opt.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    }
}

/// The body of a push: one variant per wrapper field 301-315.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Body<'a> {
    PublicDeals(PublicDeals<'a>),
    PublicIncreaseDepths(PublicIncreaseDepths<'a>),
    PublicLimitDepths(PublicLimitDepths<'a>),
    PrivateOrders(PrivateOrders<'a>),
    PublicBookTicker(PublicBookTicker<'a>),
    PrivateDeals(PrivateDeals<'a>),
    PrivateAccount(PrivateAccount<'a>),
    PublicSpotKline(PublicSpotKline<'a>),
    PublicMiniTicker(PublicMiniTicker<'a>),
    PublicMiniTickers(PublicMiniTickers<'a>),
    PublicBookTickerBatch(PublicBookTickerBatch<'a>),
    PublicIncreaseDepthsBatch(PublicIncreaseDepthsBatch<'a>),
    PublicAggreDepths(PublicAggreDepths<'a>),
    PublicAggreDeals(PublicAggreDeals<'a>),
    PublicAggreBookTicker(PublicAggreBookTicker<'a>),
}

/// Schema name of wrapper field `num` (301-315), if it is a body field.
#[must_use]
pub const fn body_name(num: u32) -> Option<&'static str> {
    Some(match num {
        301 => "publicDeals",
        302 => "publicIncreaseDepths",
        303 => "publicLimitDepths",
        304 => "privateOrders",
        305 => "publicBookTicker",
        306 => "privateDeals",
        307 => "privateAccount",
        308 => "publicSpotKline",
        309 => "publicMiniTicker",
        310 => "publicMiniTickers",
        311 => "publicBookTickerBatch",
        312 => "publicIncreaseDepthsBatch",
        313 => "publicAggreDepths",
        314 => "publicAggreDeals",
        315 => "publicAggreBookTicker",
        _ => return None,
    })
}

impl<'a> Body<'a> {
    /// Decodes body field `num` from its bytes.
    ///
    /// # Errors
    /// The body's decode error; `NoBody` if `num` is not 301-315.
    pub fn decode(num: u32, buf: &'a [u8]) -> Result<Self, MexcError> {
        let Some(name) = body_name(num) else {
            return Err(MexcError::new(FieldPath::ROOT, ErrorKind::NoBody));
        };
        let p = FieldPath::ROOT.push(name);
        Ok(match num {
            301 => Body::PublicDeals(Message::decode(buf, p)?),
            302 => Body::PublicIncreaseDepths(Message::decode(buf, p)?),
            303 => Body::PublicLimitDepths(Message::decode(buf, p)?),
            304 => Body::PrivateOrders(Message::decode(buf, p)?),
            305 => Body::PublicBookTicker(Message::decode(buf, p)?),
            306 => Body::PrivateDeals(Message::decode(buf, p)?),
            307 => Body::PrivateAccount(Message::decode(buf, p)?),
            308 => Body::PublicSpotKline(Message::decode(buf, p)?),
            309 => Body::PublicMiniTicker(Message::decode(buf, p)?),
            310 => Body::PublicMiniTickers(Message::decode(buf, p)?),
            311 => Body::PublicBookTickerBatch(Message::decode(buf, p)?),
            312 => Body::PublicIncreaseDepthsBatch(Message::decode(buf, p)?),
            313 => Body::PublicAggreDepths(Message::decode(buf, p)?),
            314 => Body::PublicAggreDeals(Message::decode(buf, p)?),
            _ => Body::PublicAggreBookTicker(Message::decode(buf, p)?),
        })
    }

    /// The wrapper field number of this body (301-315).
    #[must_use]
    pub fn field_number(&self) -> u32 {
        match self {
            Body::PublicDeals(_) => 301,
            Body::PublicIncreaseDepths(_) => 302,
            Body::PublicLimitDepths(_) => 303,
            Body::PrivateOrders(_) => 304,
            Body::PublicBookTicker(_) => 305,
            Body::PrivateDeals(_) => 306,
            Body::PrivateAccount(_) => 307,
            Body::PublicSpotKline(_) => 308,
            Body::PublicMiniTicker(_) => 309,
            Body::PublicMiniTickers(_) => 310,
            Body::PublicBookTickerBatch(_) => 311,
            Body::PublicIncreaseDepthsBatch(_) => 312,
            Body::PublicAggreDepths(_) => 313,
            Body::PublicAggreDeals(_) => 314,
            Body::PublicAggreBookTicker(_) => 315,
        }
    }

    /// The schema name of this body's wrapper field (`publicAggreDepths`, ...).
    #[must_use]
    pub fn name(&self) -> &'static str {
        body_name(self.field_number()).unwrap_or("body")
    }

    /// The body's protobuf-JSON view.
    #[must_use]
    pub fn to_value(&self) -> Value<'a> {
        match self {
            Body::PublicDeals(b) => b.to_value(),
            Body::PublicIncreaseDepths(b) => b.to_value(),
            Body::PublicLimitDepths(b) => b.to_value(),
            Body::PrivateOrders(b) => b.to_value(),
            Body::PublicBookTicker(b) => b.to_value(),
            Body::PrivateDeals(b) => b.to_value(),
            Body::PrivateAccount(b) => b.to_value(),
            Body::PublicSpotKline(b) => b.to_value(),
            Body::PublicMiniTicker(b) => b.to_value(),
            Body::PublicMiniTickers(b) => b.to_value(),
            Body::PublicBookTickerBatch(b) => b.to_value(),
            Body::PublicIncreaseDepthsBatch(b) => b.to_value(),
            Body::PublicAggreDepths(b) => b.to_value(),
            Body::PublicAggreDeals(b) => b.to_value(),
            Body::PublicAggreBookTicker(b) => b.to_value(),
        }
    }
}

/// One decoded binary frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push<'a> {
    /// Channel, symbol and times.
    pub header: Header<'a>,
    /// The body.
    pub body: Body<'a>,
}

/// Reads the wrapper's header fields and returns the last body field seen as
/// `(field number, bytes)`, without decoding it.
///
/// # Errors
/// Wire errors in the wrapper; `NoBody` when no field 301-315 is present.
pub fn split(frame: &[u8]) -> Result<(Header<'_>, u32, &[u8]), MexcError> {
    let root = FieldPath::ROOT;
    let mut h = Header::default();
    let mut body: Option<(u32, &[u8])> = None;
    let mut r = Reader::new(frame);
    while let Some((num, wire)) = r.tag(root)? {
        match num {
            1 => h.channel.merge(&mut r, wire, root.push("channel"))?,
            3 => h.symbol.merge(&mut r, wire, root.push("symbol"))?,
            4 => h.symbol_id.merge(&mut r, wire, root.push("symbolId"))?,
            5 => h.create_time.merge(&mut r, wire, root.push("createTime"))?,
            6 => h.send_time.merge(&mut r, wire, root.push("sendTime"))?,
            301..=315 => {
                let name = body_name(num).unwrap_or("body");
                let bytes = r.len_field(wire, root.push(name))?;
                if body.is_some() {
                    return Err(MexcError::new(root.push(name), ErrorKind::DuplicateBody));
                }
                body = Some((num, bytes));
            }
            _ => r.skip(wire, root)?,
        }
    }
    match body {
        Some((num, b)) => Ok((h, num, b)),
        None => Err(MexcError::new(root, ErrorKind::NoBody)),
    }
}

impl<'a> Push<'a> {
    /// Decodes one binary frame completely (every string checked, every number parsed).
    ///
    /// # Errors
    /// A [`MexcError`] naming the first offending field.
    pub fn decode(frame: &'a [u8]) -> Result<Self, MexcError> {
        let (header, num, buf) = split(frame)?;
        Ok(Push {
            header,
            body: Body::decode(num, buf)?,
        })
    }

    /// The whole push in protobuf-JSON shape, keyed by the schema's field names.
    #[must_use]
    pub fn to_value(&self) -> Value<'a> {
        let mut out = Vec::with_capacity(6);
        self.header.write_value(&mut out);
        out.push((self.body.name(), self.body.to_value()));
        Value::Msg(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::mexc::testdata::{len, tag, varint, vector_273};

    #[test]
    fn decodes_the_reference_vector() {
        let frame = vector_273();
        assert_eq!(frame.len(), 273);
        let p = Push::decode(&frame).unwrap();
        assert_eq!(
            p.header.channel,
            "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
        );
        assert_eq!(p.header.symbol, Some("BTCUSDT"));
        assert_eq!(p.header.send_time, Some(1_754_741_322_152));
        assert_eq!(p.header.create_time, None);
        let Body::PublicAggreDepths(d) = &p.body else {
            panic!("wrong body {:?}", p.body.name());
        };
        assert_eq!(d.asks.len(), 3);
        assert_eq!(d.bids[2].quantity.text, "2.00100000");
        assert_eq!(d.bids[2].quantity.value, Decimal::parse("2.001").ok());
        assert_eq!(d.asks[0].quantity.value, Some(Decimal::ZERO));
        assert_eq!(d.from_version.value, Some(43_296_363_236));
        assert_eq!(d.to_version.value, Some(43_296_363_255));
        assert_eq!(d.last_order_create_time, 1_754_741_322_149);
        assert_eq!(d.event_type, "spot@public.aggre.depth.v3.api.pb@10ms");
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let frame = vector_273();
        for cut in 0..frame.len() {
            assert!(Push::decode(&frame[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn unknown_fields_are_skipped_and_order_is_free() {
        let mut body = Vec::new();
        tag(&mut body, 99, 0);
        varint(&mut body, u64::MAX);
        tag(&mut body, 2, 2);
        len(&mut body, b"spot@public.aggre.deals.v3.api.pb@10ms");
        tag(&mut body, 7, 1);
        body.extend_from_slice(&[0; 8]);
        let mut item = Vec::new();
        tag(&mut item, 5, 2);
        len(&mut item, "730292425431437318X0".as_bytes());
        tag(&mut item, 3, 0);
        varint(&mut item, u64::MAX); // int32 -1, sign-extended
        tag(&mut item, 1, 2);
        len(&mut item, b"117145.50");
        tag(&mut item, 9, 5);
        item.extend_from_slice(&[0; 4]);
        tag(&mut body, 1, 2);
        len(&mut body, &item);
        let mut frame = Vec::new();
        tag(&mut frame, 314, 2);
        len(&mut frame, &body);
        tag(&mut frame, 6, 0);
        varint(&mut frame, 1_754_741_322_171);
        tag(&mut frame, 1, 2);
        len(&mut frame, "spot@x@BTCUSDT".as_bytes());
        let p = Push::decode(&frame).unwrap();
        let Body::PublicAggreDeals(d) = &p.body else {
            panic!("wrong body");
        };
        assert_eq!(d.deals.len(), 1);
        let t = &d.deals[0];
        assert_eq!(
            (t.trade_type, t.time, t.trade_id),
            (-1, 0, "730292425431437318X0")
        );
        assert_eq!(t.quantity.value, None, "absent decimal stays absent");
        assert_eq!(p.header.send_time, Some(1_754_741_322_171));
        let Value::Msg(fields) = p.to_value() else {
            panic!("not a message");
        };
        let keys: Vec<_> = fields.iter().map(|f| f.0).collect();
        assert_eq!(keys, ["channel", "sendTime", "publicAggreDeals"]);
    }

    #[test]
    fn wrong_wire_types_utf8_and_missing_body() {
        let mut frame = Vec::new();
        tag(&mut frame, 1, 0);
        varint(&mut frame, 5);
        let e = Push::decode(&frame).unwrap_err();
        assert_eq!(e.path.to_string(), "channel");
        assert!(matches!(
            e.kind,
            ErrorKind::BadWireType {
                expected: 2,
                got: 0
            }
        ));
        let mut frame = Vec::new();
        tag(&mut frame, 3, 2);
        len(&mut frame, b"\xc3\x28");
        assert_eq!(
            Push::decode(&frame).unwrap_err().kind,
            ErrorKind::InvalidUtf8
        );
        let mut frame = Vec::new();
        tag(&mut frame, 1, 2);
        len(&mut frame, b"x");
        tag(&mut frame, 316, 2);
        len(&mut frame, b"");
        assert_eq!(Push::decode(&frame).unwrap_err().kind, ErrorKind::NoBody);
    }

    /// Finding 4 of issue 13: a second body used to replace the first unchecked.
    #[test]
    fn a_second_body_field_is_refused() {
        let frame = vector_273();
        let (_, _, body) = split(&frame).unwrap();
        for (second, first_body) in [
            (313, body.to_vec()),
            (314, body.to_vec()),
            (313, vec![0xff]),
        ] {
            let mut f = Vec::new();
            tag(&mut f, 313, 2);
            len(&mut f, &first_body);
            tag(&mut f, second, 2);
            len(&mut f, body);
            let e = Push::decode(&f).unwrap_err();
            assert_eq!(e.kind, ErrorKind::DuplicateBody, "{second}");
        }
    }

    #[test]
    fn malformed_numbers_name_their_field() {
        let mut body = Vec::new();
        tag(&mut body, 3, 2);
        len(&mut body, b"1..2");
        let mut frame = Vec::new();
        tag(&mut frame, 308, 2);
        len(&mut frame, &body);
        let e = Push::decode(&frame).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("publicSpotKline.openingPrice: invalid decimal"),
            "{e}"
        );
    }
}
