//! The worker thread: connect, read, decode, apply to the books, publish, queue the rest;
//! reconnect with bounded, jittered backoff; obey commands from Python.
//!
//! Books belong to this thread (no lock on the write path). A disconnect, a close frame, a
//! silent socket or a protocol error unlinks every book at once (so none reads as in sync),
//! then the worker reconnects, re-sends the subscriptions it was given and tells Python
//! (`Item::Up`), which confirms them from the acks and refetches snapshots. A panic in the
//! worker is caught at the thread boundary: the books go out of sync and Python gets
//! `Item::Dead` with the reason.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::conn::{Conn, ConnError, WsUrl};
use super::dispatch::{depth_route, DepthRoute, Exchange};
use super::queue::{lock, EventQueue, Item};
use super::stats::{Counters, Stats, Trace, TraceEntry};
use super::sys::{monotonic_ns, wait_readable};
use super::view::BookView;
use crate::book::{OrderBook, Status};
use crate::decimal::Decimal;
use crate::feed::{self, Offer};
use crate::ws::mask::fill_random;
use crate::ws::{Decoder, DecoderConfig, Message, Opcode, WsError};

/// How the worker connects and reconnects.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which decoders read the data messages.
    pub exchange: Exchange,
    /// Where to connect.
    pub url: WsUrl,
    /// TLS settings for `wss://` URLs (trusted roots; `super::tls::client_config`).
    pub tls: Arc<rustls::ClientConfig>,
    /// Extra upgrade request headers.
    pub headers: Vec<(String, String)>,
    /// Offer permessage-deflate.
    pub compression: bool,
    /// Largest message accepted.
    pub max_message_size: usize,
    /// TCP connect plus handshake limit.
    pub connect_timeout: Duration,
    /// No byte for this long: the connection is dead (None: never).
    pub idle_timeout: Option<Duration>,
    /// First reconnect delay.
    pub reconnect_initial: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// A connection that lived this long resets the backoff.
    pub reconnect_reset_after: Duration,
    /// Trace ring entries (0: off).
    pub trace: usize,
    /// Each connection needs a URL of its own (`Command::SetUrl`; KuCoin's carries a
    /// one-use token): after `url` is used once, the worker waits for the next one.
    pub fresh_url: bool,
    /// The server greets each connection (KuCoin's `welcome`, `kucoin.md` §2: "do nothing
    /// until it arrives"): nothing is sent before its first data message, which must come
    /// within this long (None: no greeting, subscribe at once).
    pub greeting_timeout: Option<Duration>,
}

/// A level `(price, size)`.
pub type Level = (Decimal, Decimal);

/// What Python asks of the worker.
pub enum Command {
    /// Start feeding `book` with the pushes for `symbol`, publishing into `view`.
    AddBook {
        /// Registration id (unique per feed).
        id: u32,
        /// The pair as the stream names it.
        symbol: String,
        /// The book, usually empty and unlinked.
        book: Box<OrderBook>,
        /// Where its state is published.
        view: Arc<BookView>,
    },
    /// Stop feeding the book `id` (it is published out of sync one last time).
    RemoveBook {
        /// Registration id.
        id: u32,
    },
    /// Load a REST snapshot and replay the held pushes (`crate::feed::replay`); the reply is
    /// the status for the lot, None for an unknown book.
    Snapshot {
        /// Registration id.
        id: u32,
        /// The snapshot's last change id.
        last_id: u64,
        /// Bid levels.
        bids: Vec<Level>,
        /// Ask levels.
        asks: Vec<Level>,
        /// Where the status goes.
        reply: SyncSender<Option<Status>>,
    },
    /// Link or unlink a book (its subscription was confirmed or lost). A link for another
    /// connection than the current one (`epoch`) is refused: the reply says whether it held.
    SetLinked {
        /// Registration id.
        id: u32,
        /// Linked or not.
        linked: bool,
        /// The connection whose ack confirmed the subscription.
        epoch: u64,
        /// Whether the book is now as asked.
        reply: SyncSender<bool>,
    },
    /// Take the book out of sync (a forced resync, an unconfirmed snapshot).
    MarkOutOfSync {
        /// Registration id.
        id: u32,
        /// Sent once done.
        reply: SyncSender<()>,
    },
    /// Remember a subscribe frame under `key` (re-sent after each reconnect) and send it now
    /// when connected.
    Subscribe {
        /// Identifies the subscription for `Unsubscribe`.
        key: String,
        /// The text frame, as the Python venue protocol built it.
        text: String,
    },
    /// Forget the subscription `key` and send `text` (the unsubscribe frame) when connected.
    Unsubscribe {
        /// The key given to `Subscribe`.
        key: String,
        /// The text frame.
        text: String,
    },
    /// Send a text frame now when connected (application-level pings).
    Send {
        /// The text.
        text: String,
    },
    /// The URL of the next connection (with `Config::fresh_url`).
    SetUrl {
        /// Where to connect next.
        url: WsUrl,
    },
    /// Close the connection and end the thread.
    Stop,
    /// Which applied updates of a book notify Python (its `on_update` listeners).
    SetEmit {
        /// Registration id.
        id: u32,
        /// The policy.
        emit: Emit,
    },
    /// Tests only: a bug in the worker (the panic must not cross the thread boundary).
    #[cfg(test)]
    Panic,
}

/// What the worker and Python share.
pub struct Shared {
    /// Items for Python.
    pub queue: EventQueue,
    /// Counters and the latency histogram.
    pub stats: Mutex<Stats>,
    /// The trace ring.
    pub trace: Mutex<Trace>,
    /// A connection is up.
    pub connected: AtomicBool,
    /// Connections opened so far (the current one's number while connected).
    pub epoch: AtomicU64,
    /// Why the worker died (set once, with the books out of sync).
    pub dead: Mutex<Option<String>>,
    /// The last reason a connection was lost or failed.
    pub last_error: Mutex<Option<String>>,
    /// Python asked the worker to stop (read where commands cannot be: mid-handshake).
    pub stop: AtomicBool,
}

impl Shared {
    /// Shared state with a queue of `capacity` data messages, waking Python through `wake`.
    #[must_use]
    pub fn new(capacity: usize, wake: Option<UnixStream>, trace: usize) -> Self {
        Self {
            queue: EventQueue::new(capacity, wake),
            stats: Mutex::new(Stats::default()),
            trace: Mutex::new(Trace::new(trace)),
            connected: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            dead: Mutex::new(None),
            last_error: Mutex::new(None),
            stop: AtomicBool::new(false),
        }
    }
}

/// Python's end of a running worker.
pub struct Handle {
    tx: Sender<Command>,
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
    /// Signalled when the thread ends (a Mutex: the handle is shared with Python threads).
    done: Mutex<Receiver<()>>,
    /// What the worker and Python share.
    pub shared: Arc<Shared>,
}

/// The worker is gone (stopped or dead): the command was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// A second sender of commands (for the objects that outlive a borrow of the handle).
pub struct Commander {
    tx: Sender<Command>,
    wake: UnixStream,
}

impl Commander {
    /// Sends a command and wakes the worker.
    ///
    /// # Errors
    /// [`Gone`] once the worker has ended.
    pub fn send(&self, cmd: Command) -> Result<(), Gone> {
        self.tx.send(cmd).map_err(|_| Gone)?;
        // Non-blocking: a full buffer already holds a wake-up.
        let _ = (&self.wake).write(&[1]);
        Ok(())
    }
}

impl Handle {
    /// Another sender of commands to this worker.
    ///
    /// # Errors
    /// The wake-up socket could not be duplicated.
    pub fn commander(&self) -> std::io::Result<Commander> {
        Ok(Commander {
            tx: self.tx.clone(),
            wake: self.wake.try_clone()?,
        })
    }

    /// Starts the worker thread.
    ///
    /// # Errors
    /// The wake-up socket or the thread could not be created.
    pub fn spawn(config: Config, shared: Arc<Shared>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let (wake, wake_rx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let (done_tx, done) = mpsc::sync_channel(1);
        let sh = Arc::clone(&shared);
        let name = format!("hftws-native-{}", config.exchange.name());
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let mut w = Worker::new(config, sh, rx, wake_rx);
            // No panic crosses the thread boundary: the books go out of sync, Python is told.
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| w.run())) {
                let why = p
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                w.die(&format!("worker panicked: {why}"));
            }
            let _ = done_tx.send(());
        })?;
        Ok(Self {
            tx,
            wake,
            thread: Some(thread),
            done: Mutex::new(done),
            shared,
        })
    }

    /// Sends a command and wakes the worker.
    ///
    /// # Errors
    /// [`Gone`] once the worker has ended.
    pub fn command(&self, cmd: Command) -> Result<(), Gone> {
        self.tx.send(cmd).map_err(|_| Gone)?;
        // Non-blocking: a full buffer already holds a wake-up.
        let _ = (&self.wake).write(&[1]);
        Ok(())
    }

    /// Whether the thread has ended.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the worker and joins it within `timeout`; false if it did not end in time (it
    /// is then left to end on its own: it owns nothing Python still uses).
    pub fn stop(&mut self, timeout: Duration) -> bool {
        let Some(thread) = self.thread.take() else {
            return true;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.command(Command::Stop);
        if thread.is_finished() || lock(&self.done).recv_timeout(timeout).is_ok() {
            let _ = thread.join();
            return true;
        }
        false
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(2));
    }
}

/// Which applied updates of a book notify Python, besides the sync changes (which always
/// do): none, those that changed the best bid or ask, or all (coalesced while one waits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// Sync changes only.
    Changes,
    /// And applied updates that changed the best bid or ask.
    Top,
    /// And every applied update.
    All,
}

/// One registered book on the worker.
struct Slot {
    id: u32,
    symbol: String,
    book: Box<OrderBook>,
    view: Arc<BookView>,
    /// Changed during the current read: publish after it.
    dirty: bool,
    /// Which applied updates notify Python.
    emit: Emit,
    /// The read and apply times of the last applied update in the current read.
    read_ns: u64,
    applied_ns: u64,
}

impl Slot {
    fn publish(&mut self) {
        self.view.publish(&self.book, self.read_ns, self.applied_ns);
        self.dirty = false;
        self.applied_ns = 0;
    }
}

/// Where a data message went.
enum Routed {
    /// Decode it as an event.
    NotBook,
    /// A JSON push for another pair than this book's.
    WrongSymbol,
    /// A book took it.
    Book,
}

/// Why a session ended.
enum End {
    Lost(String),
    Stop,
}

struct Worker {
    cfg: Config,
    shared: Arc<Shared>,
    rx: Receiver<Command>,
    wake_rx: UnixStream,
    books: Vec<Slot>,
    /// Subscribe frames by key, in the order they were given.
    subs: VecDeque<(String, String)>,
    stopping: bool,
    /// Per-read tallies, moved into the shared stats once per read.
    tally: Counters,
    applied: Vec<TraceEntry>,
    /// The socket, while connected.
    conn: Option<Conn>,
    /// Frames to send after the current read (pongs, the close answer).
    replies: Vec<(Opcode, Vec<u8>)>,
    /// The URL of the next connection, when each needs its own.
    next_url: Option<WsUrl>,
    /// The current connection may be written to (greeted, or no greeting expected).
    greeted: bool,
}

impl Worker {
    fn new(cfg: Config, shared: Arc<Shared>, rx: Receiver<Command>, wake_rx: UnixStream) -> Self {
        Self {
            cfg,
            shared,
            rx,
            wake_rx,
            books: Vec::new(),
            subs: VecDeque::new(),
            stopping: false,
            tally: Counters::default(),
            applied: Vec::new(),
            conn: None,
            replies: Vec::new(),
            next_url: None,
            greeted: false,
        }
    }

    fn run(&mut self) {
        let mut attempt: u32 = 0;
        let mut url = Some(self.cfg.url.clone());
        while !self.stopping {
            if url.is_none() {
                url = self.wait_url();
                continue;
            }
            let target = url.take().unwrap_or_else(|| self.cfg.url.clone());
            if !self.cfg.fresh_url {
                url = Some(target.clone());
            }
            let started = Instant::now();
            let shared = Arc::clone(&self.shared);
            let end = match Conn::open(
                &target,
                &self.cfg.tls,
                &self.cfg.headers,
                self.cfg.compression,
                self.cfg.connect_timeout,
                &move || shared.stop.load(Ordering::SeqCst),
            ) {
                Ok(opened) => self.session(opened.conn, opened.deflate, opened.leftover),
                Err(e) => End::Lost(format!("connect to {}: {e}", target.authority)),
            };
            let reason = match end {
                End::Stop => break,
                End::Lost(_) if self.shared.stop.load(Ordering::SeqCst) => break,
                End::Lost(r) => r,
            };
            self.lost(&reason);
            if started.elapsed() >= self.cfg.reconnect_reset_after {
                attempt = 0;
            }
            let delay = backoff(&self.cfg, attempt);
            attempt = attempt.saturating_add(1);
            self.idle_until(Instant::now() + delay);
        }
        self.lost("stopped");
    }

    /// The connection is gone: unlink every book at once, publish, tell Python.
    fn lost(&mut self, reason: &str) {
        if let Some(mut c) = self.conn.take() {
            c.close();
        }
        // Books first: once Python sees the connection down, they read out of sync.
        for s in &mut self.books {
            s.book.set_linked(false);
            s.publish();
        }
        let was_up = self.shared.connected.swap(false, Ordering::SeqCst);
        *lock(&self.shared.last_error) = Some(reason.to_owned());
        if was_up {
            self.tally.disconnects += 1;
        }
        self.flush_stats();
        if was_up || reason != "stopped" {
            self.shared.queue.push_control(Item::Down {
                reason: reason.to_owned(),
            });
        }
    }

    /// The worker cannot go on: books out of sync, Python told.
    fn die(&mut self, reason: &str) {
        self.shared.connected.store(false, Ordering::SeqCst);
        for s in &mut self.books {
            s.book.mark_out_of_sync();
            s.view.publish(&s.book, 0, 0);
        }
        *lock(&self.shared.dead) = Some(reason.to_owned());
        self.shared.queue.push_control(Item::Dead {
            reason: reason.to_owned(),
        });
    }

    /// Waits for the URL of the next connection (`Command::SetUrl`), obeying commands.
    fn wait_url(&mut self) -> Option<WsUrl> {
        while !self.stopping && self.next_url.is_none() {
            let [cmd] = wait_readable([self.wake_rx.as_raw_fd()], 1000);
            if cmd {
                self.commands();
            }
        }
        self.next_url.take()
    }

    /// Waits until `deadline` between connections, obeying commands meanwhile.
    fn idle_until(&mut self, deadline: Instant) {
        while !self.stopping {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let [cmd] = wait_readable([self.wake_rx.as_raw_fd()], millis(left));
            if cmd {
                self.commands();
            }
        }
    }

    fn session(
        &mut self,
        conn: Conn,
        deflate: Option<crate::ws::DeflateParams>,
        first: Vec<u8>,
    ) -> End {
        let mut decoder = Decoder::new(DecoderConfig {
            max_message_size: self.cfg.max_message_size,
            deflate,
        });
        let fd = conn.fd();
        self.conn = Some(conn);
        let epoch = self.shared.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.connected.store(true, Ordering::SeqCst);
        self.tally.connects += 1;
        self.greeted = false;
        let greet_by = self.cfg.greeting_timeout.map(|t| Instant::now() + t);
        if greet_by.is_none() {
            if let Some(end) = self.greet() {
                return end;
            }
        }
        self.shared.queue.push_control(Item::Up { epoch });
        if !first.is_empty() {
            if let Some(end) = self.on_bytes(&mut decoder, &first, monotonic_ns()) {
                return end;
            }
        }
        let mut buf = vec![0u8; 1 << 16];
        let mut last_rx = Instant::now();
        loop {
            if let (false, Some(by)) = (self.greeted, greet_by) {
                if Instant::now() >= by {
                    return End::Lost("no greeting from the server in time".into());
                }
            }
            let timeout = match self.cfg.idle_timeout {
                Some(idle) => {
                    let left = (last_rx + idle).saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return End::Lost(format!("no data for {:.1}s", idle.as_secs_f64()));
                    }
                    millis(left)
                }
                None => -1,
            };
            // TLS may hold data the fd no longer shows: then only look, do not wait.
            let pending = self.conn.as_ref().is_some_and(Conn::pending);
            let timeout = if pending { 0 } else { timeout };
            let [sock, cmd] = wait_readable([fd, self.wake_rx.as_raw_fd()], timeout);
            if cmd {
                self.commands();
                if self.stopping {
                    // A polite close; the server's answer is not waited for.
                    let payload = 1000u16.to_be_bytes();
                    let _ = self.send(Opcode::Close, &payload);
                    return End::Stop;
                }
                if self.conn.is_none() {
                    return End::Lost("send failed".into());
                }
            }
            if !sock && !pending {
                continue;
            }
            let Some(conn) = self.conn.as_mut() else {
                return End::Lost("send failed".into());
            };
            let n = match conn.read(&mut buf, sock) {
                Ok(0) => return End::Lost("connection closed by the server (EOF)".into()),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {
                    continue
                }
                Err(e) => return End::Lost(format!("read: {e}")),
            };
            let recv_ns = monotonic_ns();
            last_rx = Instant::now();
            if let Some(end) = self.on_bytes(&mut decoder, &buf[..n], recv_ns) {
                return end;
            }
        }
    }

    /// The connection may be written to: send the remembered subscriptions.
    fn greet(&mut self) -> Option<End> {
        self.greeted = true;
        let frames: Vec<String> = self.subs.iter().map(|(_, t)| t.clone()).collect();
        for text in frames {
            if let Err(e) = self.send(Opcode::Text, text.as_bytes()) {
                return Some(End::Lost(format!("send subscription: {e}")));
            }
        }
        None
    }

    fn send(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), ConnError> {
        match self.conn.as_mut() {
            Some(c) => c.send(opcode, payload).inspect_err(|_| {
                self.conn = None;
            }),
            None => Err(ConnError("not connected".into())),
        }
    }

    /// One socket read: decode every message, apply depth, queue the rest, publish the books
    /// it touched, answer pings. Some(end) when the connection must end.
    fn on_bytes(&mut self, decoder: &mut Decoder, data: &[u8], recv_ns: u64) -> Option<End> {
        self.tally.reads += 1;
        self.tally.bytes += data.len() as u64;
        let mut close: Option<(Option<u16>, String)> = None;
        let r = decoder.feed_with(data, |m: Message<'_>| -> Result<(), WsError> {
            match m.opcode {
                Opcode::Text | Opcode::Binary => self.on_data(m.opcode, m.payload, recv_ns),
                Opcode::Ping => {
                    self.tally.pings += 1;
                    self.replies.push((Opcode::Pong, m.payload.to_vec()));
                }
                Opcode::Close => {
                    let (code, reason) = m.close_info().unwrap_or((None, ""));
                    close = Some((code, reason.to_owned()));
                }
                _ => {}
            }
            Ok(())
        });
        for s in &mut self.books {
            if s.dirty {
                s.publish();
            }
        }
        let data = self.tally.messages > 0;
        self.flush_stats();
        // One wake-up for everything this read queued, once the books are published.
        self.shared.queue.wake_pending();
        if !self.greeted && data {
            // The greeting (the first data message) arrived: now the subscriptions go out.
            if let Some(end) = self.greet() {
                return Some(end);
            }
        }
        let replies = std::mem::take(&mut self.replies);
        for (op, payload) in replies {
            if let Err(e) = self.send(op, &payload) {
                return Some(End::Lost(format!("send pong: {e}")));
            }
        }
        if let Err(e) = r {
            let code = e.kind.close_code();
            let _ = self.send(Opcode::Close, &code.to_be_bytes());
            return Some(End::Lost(format!("protocol error: {e}")));
        }
        if let Some((code, reason)) = close {
            // Answer the close (RFC 6455 §5.5.1), then drop the socket.
            let echo = code.map(u16::to_be_bytes);
            let _ = self.send(Opcode::Close, echo.as_ref().map_or(&[][..], |b| &b[..]));
            let code = code.map_or_else(|| "no code".to_owned(), |c| c.to_string());
            return Some(End::Lost(format!("closed by the server ({code} {reason})")));
        }
        None
    }

    fn on_data(&mut self, opcode: Opcode, payload: &[u8], recv_ns: u64) {
        self.tally.messages += 1;
        let routed = match depth_route(self.cfg.exchange, opcode, payload) {
            DepthRoute::NotDepth => Routed::NotBook,
            DepthRoute::Symbol(sym) => match self.books.iter().position(|s| s.symbol == sym) {
                Some(i) => self.offer(i, payload, recv_ns),
                None => Routed::NotBook,
            },
            DepthRoute::EachBook => {
                let mut out = Routed::NotBook;
                for i in 0..self.books.len() {
                    match self.offer(i, payload, recv_ns) {
                        Routed::WrongSymbol => {}
                        other => {
                            out = other;
                            break;
                        }
                    }
                }
                out
            }
        };
        if matches!(routed, Routed::NotBook | Routed::WrongSymbol) {
            let item = Item::Data {
                opcode,
                payload: payload.to_vec(),
                recv_ns,
            };
            if self.shared.queue.push_data_deferred(item) {
                self.tally.queued += 1;
            }
        }
    }

    /// Offers a push to book `i` through `crate::feed` (the one place a push meets a book)
    /// and tells Python what changed its sync, as `register_book(emit=False)` does.
    fn offer(&mut self, i: usize, payload: &[u8], recv_ns: u64) -> Routed {
        let s = &mut self.books[i];
        let was_in_sync = s.book.in_sync();
        let st = match feed::offer(&mut s.book, Some(&s.symbol), payload) {
            Ok(Offer::NotDepth) => return Routed::NotBook,
            Ok(Offer::WrongSymbol) => return Routed::WrongSymbol,
            Ok(Offer::Held) => Status::NotSynced,
            Ok(Offer::Book(st)) => st,
            // A malformed push took the book out of sync: Python resyncs it as after a gap.
            Err(_) => Status::Gap,
        };
        self.tally.depth += 1;
        s.dirty = true;
        if st == Status::Applied {
            let now = monotonic_ns();
            s.read_ns = recv_ns;
            s.applied_ns = now;
            self.applied.push((s.id, s.book.sequence(), recv_ns, now));
        }
        if st == Status::Applied && s.emit != Emit::Changes && s.book.in_sync() {
            if s.book.top_changed() {
                s.view.top_since.store(true, Ordering::SeqCst);
            }
            let want = s.emit == Emit::All || s.view.top_since.load(Ordering::SeqCst);
            if want && was_in_sync && !s.view.notified.swap(true, Ordering::SeqCst) {
                self.shared.queue.push_control_deferred(Item::Book {
                    id: s.id,
                    status: st,
                });
            }
        }
        let wanted = match st {
            Status::Applied => !was_in_sync && s.book.in_sync(),
            Status::Stale => false,
            // Held pushes wake the sync task only while it has none to work with.
            Status::NotSynced => s.book.pending.len() <= 1,
            Status::Gap | Status::Crossed => true,
        };
        if wanted {
            self.shared.queue.push_control_deferred(Item::Book {
                id: s.id,
                status: st,
            });
        }
        Routed::Book
    }

    /// Moves the per-read tallies into the shared stats (one lock per read).
    fn flush_stats(&mut self) {
        {
            let mut st = lock(&self.shared.stats);
            for &(_, _, read, applied) in &self.applied {
                st.read_to_applied.record(applied.saturating_sub(read));
            }
            st.counts.add(&self.tally);
            self.tally = Counters::default();
        }
        if !self.applied.is_empty() {
            let mut tr = lock(&self.shared.trace);
            if tr.enabled() {
                for &e in &self.applied {
                    tr.push(e);
                }
            }
        }
        self.applied.clear();
    }

    fn commands(&mut self) {
        // Drain the wake-up bytes first: a command sent after this read wakes the next poll.
        let mut sink = [0u8; 256];
        while matches!((&self.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        loop {
            match self.rx.try_recv() {
                Ok(cmd) => {
                    self.tally.commands += 1;
                    self.command(cmd);
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.stopping = true;
                    return;
                }
            }
        }
    }

    fn slot(&mut self, id: u32) -> Option<&mut Slot> {
        self.books.iter_mut().find(|s| s.id == id)
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::AddBook {
                id,
                symbol,
                book,
                view,
            } => {
                let mut slot = Slot {
                    id,
                    symbol,
                    book,
                    view,
                    dirty: false,
                    emit: Emit::Changes,
                    read_ns: 0,
                    applied_ns: 0,
                };
                slot.publish();
                self.books.retain(|s| s.symbol != slot.symbol);
                self.books.push(slot);
            }
            Command::RemoveBook { id } => {
                if let Some(i) = self.books.iter().position(|s| s.id == id) {
                    let mut s = self.books.remove(i);
                    s.book.mark_out_of_sync();
                    s.book.set_linked(false);
                    s.publish();
                }
            }
            Command::Snapshot {
                id,
                last_id,
                bids,
                asks,
                reply,
            } => {
                let st = self.slot(id).map(|s| {
                    let loaded = s.book.load_snapshot::<Infallible>(last_id, |w| {
                        for &(p, q) in &bids {
                            w.bid(p, q);
                        }
                        for &(p, q) in &asks {
                            w.ask(p, q);
                        }
                        Ok(())
                    });
                    // Same rules as `OrderBook.load_snapshot`: replay what was held.
                    let st = match loaded {
                        Ok(Status::Applied) => feed::replay(&mut s.book, Some(&s.symbol)),
                        Ok(other) => {
                            s.book.pending.clear();
                            other
                        }
                        Err(never) => match never {},
                    };
                    s.publish();
                    st
                });
                let _ = reply.send(st);
            }
            Command::SetLinked {
                id,
                linked,
                epoch,
                reply,
            } => {
                let current = self.shared.connected.load(Ordering::SeqCst)
                    && self.shared.epoch.load(Ordering::SeqCst) == epoch;
                let ok = match self.slot(id) {
                    Some(s) if !linked || current => {
                        s.book.set_linked(linked);
                        s.publish();
                        true
                    }
                    _ => false,
                };
                let _ = reply.send(ok);
            }
            Command::MarkOutOfSync { id, reply } => {
                if let Some(s) = self.slot(id) {
                    s.book.mark_out_of_sync();
                    s.publish();
                }
                let _ = reply.send(());
            }
            Command::Subscribe { key, text } => {
                self.subs.retain(|(k, _)| *k != key);
                self.subs.push_back((key, text.clone()));
                if self.conn.is_some() && self.greeted {
                    let _ = self.send(Opcode::Text, text.as_bytes());
                }
            }
            Command::Unsubscribe { key, text } => {
                self.subs.retain(|(k, _)| *k != key);
                if self.conn.is_some() && self.greeted {
                    let _ = self.send(Opcode::Text, text.as_bytes());
                }
            }
            Command::Send { text } => {
                if self.conn.is_some() && self.greeted {
                    let _ = self.send(Opcode::Text, text.as_bytes());
                }
            }
            Command::SetUrl { url } => self.next_url = Some(url),
            Command::SetEmit { id, emit } => {
                if let Some(s) = self.slot(id) {
                    s.emit = emit;
                }
            }
            Command::Stop => self.stopping = true,
            #[cfg(test)]
            Command::Panic => panic!("injected"),
        }
    }
}

/// `attempt`'s reconnect delay: doubling from the initial delay up to the maximum, times a
/// random factor in [0.5, 1) so that many clients do not reconnect in step.
fn backoff(cfg: &Config, attempt: u32) -> Duration {
    let base = cfg
        .reconnect_initial
        .saturating_mul(1u32 << attempt.min(20))
        .min(cfg.reconnect_max);
    let mut r = [0u8; 2];
    let jitter = if fill_random(&mut r).is_ok() {
        f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    base.mul_f64(0.5 + jitter / 2.0)
}

/// A poll timeout in whole milliseconds, rounded up (so a wait never ends early).
fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
}
