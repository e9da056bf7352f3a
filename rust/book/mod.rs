//! L2 order books with the exchanges' sequence rules built in.

mod ladder;
mod order_book;
mod pages;
mod pending;
mod sequence;
mod side;
mod sink;
#[cfg(test)]
pub(crate) mod testkit;

pub use order_book::{
    Change, Counts, Journal, Level, LevelWriter, OrderBook, Phase, SnapshotWriter,
};
pub use pending::Pending;
pub use sequence::{SeqRule, Status, SyncState};
pub use side::Side;
pub use sink::LevelSink;
