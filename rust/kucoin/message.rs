//! One frame to one checked message (`kucoin.md` §2.2, §3, §7.1).

use super::depth::{head, DepthHead};
use super::envelope::{self, Envelope};
use super::error::KucoinError;
use super::records;
use super::route::Kind;
use crate::gate::{value, GateErrorKind};
use crate::json::{Scan, Span};

/// A checked frame: the envelope, and for depth pushes their ids.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// Where the envelope fields are, and the kind.
    pub env: Envelope,
    /// Depth pushes: ids, times and level arrays.
    pub depth: Option<DepthHead>,
    /// Records: offsets of the table fields in the frame (see [`records::table`]).
    pub fields: [Option<usize>; 10],
    /// Error frames: the `data` text.
    pub text: Option<Span>,
}

/// Decodes and checks one text frame.
///
/// # Errors
/// A [`KucoinError`] naming the topic and field.
pub fn parse(frame: &[u8]) -> Result<Message, KucoinError> {
    let env = envelope::scan(frame)?;
    let topic = env.topic_text(frame).into_owned();
    let named = |e: KucoinError| {
        if topic.is_empty() {
            e
        } else {
            e.in_topic(&topic)
        }
    };
    body(frame, env).map_err(named)
}

fn body(frame: &[u8], env: Envelope) -> Result<Message, KucoinError> {
    let mut msg = Message {
        env,
        depth: None,
        fields: [None; 10],
        text: None,
    };
    let data = env.data;
    match env.kind {
        Kind::SpotLevel2 | Kind::FuturesLevel2 | Kind::SpotDepth | Kind::FuturesDepth => {
            let d = data.ok_or_else(|| KucoinError::at("data", 0, GateErrorKind::Missing))?;
            let h = head(frame, env.kind, d)?;
            if env.kind == Kind::SpotLevel2 {
                h.validate_l2(frame)?;
            }
            msg.depth = Some(h);
        }
        Kind::SpotMatch | Kind::SpotTicker | Kind::FuturesExecution | Kind::FuturesTicker => {
            let d = data.ok_or_else(|| KucoinError::at("data", 0, GateErrorKind::Missing))?;
            msg.fields = records::check(frame, env.kind, d)?;
        }
        Kind::Error => {
            if let Some(p) = data {
                msg.text =
                    value::read_str(&mut Scan::at(frame, p), "data")?.map(|j| Span::of(frame, &j));
            }
        }
        Kind::Welcome | Kind::Pong | Kind::Ack | Kind::Other => {}
    }
    Ok(msg)
}
