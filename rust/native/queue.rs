//! What the worker hands Python besides the books: a bounded, counted queue and a wake-up.
//!
//! Data messages that are not depth pushes (trades, tickers, acks) are queued up to a
//! capacity; past it they are dropped and counted, so the socket reader never waits for
//! Python. Control items (a book's sync status, the connection going up or down, a dead
//! worker) are never dropped: the book path and the connection state must reach Python.
//!
//! Python is woken at most once per batch: the worker writes one byte to a socket pair only
//! when it queues an item while Python is waiting (armed); Python drains everything in one
//! call, then re-arms.

use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::book::Status;
use crate::ws::Opcode;

/// One item for Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A data message that is not a depth push for a registered book.
    Data {
        /// Text or binary.
        opcode: Opcode,
        /// The message (inflated, unmasked).
        payload: Vec<u8>,
        /// `CLOCK_MONOTONIC` ns of the socket read that carried it.
        recv_ns: u64,
    },
    /// A book's status after a push or a command changed its sync (the asyncio mode's
    /// `register_book(emit=False)` items: held first push, in sync, gap, crossed).
    Book {
        /// The registration id.
        id: u32,
        /// What happened.
        status: Status,
    },
    /// The connection is up (`epoch` counts connections) and the subscriptions were sent.
    Up {
        /// Connection number, from 1.
        epoch: u64,
    },
    /// The connection was lost; the books are out of sync and a reconnect is scheduled.
    Down {
        /// Why, in one line.
        reason: String,
    },
    /// The worker stopped for good (a bug or an unrecoverable error); the books are out of sync.
    Dead {
        /// Why, in one line.
        reason: String,
    },
}

/// The items and how many of them are data messages (the capacity counts those only).
#[derive(Default)]
struct Queued {
    items: VecDeque<Item>,
    data: usize,
}

/// The queue shared by the worker (producer) and Python (consumer).
pub struct EventQueue {
    items: Mutex<Queued>,
    capacity: usize,
    /// Data messages dropped because the queue was full.
    pub dropped: AtomicU64,
    armed: AtomicBool,
    wake: Mutex<Option<UnixStream>>,
}

impl EventQueue {
    /// A queue holding at most `capacity` data messages; `wake` is written when Python must
    /// be woken (its other end is what Python waits on).
    #[must_use]
    pub fn new(capacity: usize, wake: Option<UnixStream>) -> Self {
        Self {
            items: Mutex::new(Queued::default()),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            armed: AtomicBool::new(true),
            wake: Mutex::new(wake),
        }
    }

    /// Queues a data message without waking Python yet (the worker wakes it once, after
    /// the socket read: a wake-up is a syscall, not to be paid between two depth pushes);
    /// false (and counted) when the queue is full.
    pub fn push_data_deferred(&self, item: Item) -> bool {
        let mut q = lock(&self.items);
        if q.data >= self.capacity {
            drop(q);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.data += 1;
        q.items.push_back(item);
        true
    }

    /// Queues a control item without waking Python yet (see `push_data_deferred`).
    pub fn push_control_deferred(&self, item: Item) {
        lock(&self.items).items.push_back(item);
    }

    /// Wakes Python if items wait and it is waiting for them.
    pub fn wake_pending(&self) {
        if !self.is_empty() {
            self.wake();
        }
    }

    /// Queues a data message; false (and counted) when the queue is full.
    pub fn push_data(&self, item: Item) -> bool {
        {
            let mut q = lock(&self.items);
            if q.data >= self.capacity {
                drop(q);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            q.data += 1;
            q.items.push_back(item);
        }
        self.wake();
        true
    }

    /// Queues a control item (never dropped).
    pub fn push_control(&self, item: Item) {
        lock(&self.items).items.push_back(item);
        self.wake();
    }

    /// Everything queued, in order; afterwards the next item wakes Python again.
    pub fn drain(&self) -> Vec<Item> {
        self.armed.store(true, Ordering::SeqCst);
        let mut q = lock(&self.items);
        q.data = 0;
        q.items.drain(..).collect()
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        lock(&self.items).items.len()
    }

    /// Nothing waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn wake(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            if let Some(w) = lock(&self.wake).as_mut() {
                // Non-blocking: a full socket buffer already holds a wake-up.
                let _ = w.write(&[1]);
            }
        }
    }
}

/// A poisoned lock only means a panic elsewhere; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
