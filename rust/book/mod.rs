//! L2 order books with the exchanges' sequence rules built in.

mod order_book;
mod sequence;
mod side;

pub use order_book::{Counts, Level, LevelWriter, OrderBook, SnapshotWriter};
pub use sequence::{SeqRule, Status, SyncState};
pub use side::Side;
