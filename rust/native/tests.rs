//! Tests of the native core without Python: URL parsing, dispatch, the sequence lock, the
//! queue, the backoff, and a worker against a minimal WebSocket server on a local socket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::parse_url;
use super::dispatch::{depth_route, DepthRoute, Exchange};
use super::queue::{EventQueue, Item};
use super::view::BookView;
use super::worker::{Command, Config, Handle, Shared};
use crate::book::{OrderBook, Pending, Phase, SeqRule, Status};
use crate::decimal::Decimal;
use crate::ws::handshake::accept_key;
use crate::ws::Opcode;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

#[test]
fn urls_ws_and_wss() {
    let u = parse_url("ws://127.0.0.1:8080/ws/v4/?a=1").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("127.0.0.1", 8080, "/ws/v4/?a=1")
    );
    assert_eq!(u.authority, "127.0.0.1:8080");
    let u = parse_url("ws://example.com").unwrap();
    assert_eq!((u.port, u.path.as_str()), (80, "/"));
    let u = parse_url("ws://[::1]:9/x").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("::1", 9));
    assert!(!u.tls);
    let u = parse_url("wss://api.gateio.ws/ws/v4/").unwrap();
    assert!(u.tls);
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("api.gateio.ws", 443, "/ws/v4/")
    );
    assert_eq!(u.authority, "api.gateio.ws");
    let u = parse_url("wss://[::1]/x").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.tls), ("::1", 443, true));
    assert!(parse_url("http://x/").is_err());
    assert!(parse_url("ws://:80/").is_err());
}

#[test]
fn dispatch_routes_by_exchange() {
    assert_eq!(
        depth_route(Exchange::Mexc, Opcode::Text, b"{}"),
        DepthRoute::NotDepth
    );
    assert_eq!(
        depth_route(Exchange::Mexc, Opcode::Binary, b"\xff"),
        DepthRoute::NotDepth
    );
    assert_eq!(
        depth_route(Exchange::Gate, Opcode::Text, b"{}"),
        DepthRoute::EachBook
    );
    assert_eq!(Exchange::parse("gate"), Some(Exchange::Gate));
    assert_eq!(Exchange::parse("nope"), None);
}

fn gate_book(levels: usize) -> OrderBook {
    let mut b = OrderBook::new(SeqRule::Gate, None);
    b.load_snapshot::<std::convert::Infallible>(10, |w| {
        for i in 0..levels {
            w.bid(Decimal::from_i64(1000 - i as i64), Decimal::from_i64(1));
            w.ask(Decimal::from_i64(1001 + i as i64), Decimal::from_i64(1));
        }
        Ok(())
    })
    .unwrap();
    b
}

#[test]
fn a_view_reads_back_what_was_published() {
    let view = BookView::new(3);
    let book = gate_book(5);
    view.publish(&book, 7, 9);
    let st = view.read(usize::MAX, 1).unwrap();
    assert_eq!(st.sequence, 10);
    assert_eq!(st.bids.len(), 3, "cut to the published levels");
    assert_eq!(st.bids[0], (d("1000"), d("1")));
    assert_eq!(st.asks[2], (d("1003"), d("1")));
    assert_eq!((st.read_ns, st.applied_ns), (7, 9));
    assert_eq!((st.bid_count, st.ask_count), (5, 5));
    assert_eq!(view.read(1, 1).unwrap().bids.len(), 1);
    // A publish without an applied update keeps the last times.
    view.publish(&book, 0, 0);
    assert_eq!(view.read(0, 1).unwrap().applied_ns, 9);
}

#[test]
fn readers_never_see_a_torn_book() {
    // The writer publishes books whose every level size equals their sequence; a reader
    // that mixed two publishes would see sizes that disagree.
    let view = Arc::new(BookView::new(8));
    let w = Arc::clone(&view);
    let writer = std::thread::spawn(move || {
        let mut b = OrderBook::new(SeqRule::Gate, None);
        for n in 1..20_000i64 {
            b.load_snapshot::<std::convert::Infallible>(n as u64, |wr| {
                for i in 0..8 {
                    wr.bid(Decimal::from_i64(100 - i), Decimal::from_i64(n));
                    wr.ask(Decimal::from_i64(101 + i), Decimal::from_i64(n));
                }
                Ok(())
            })
            .unwrap();
            w.publish(&b, 0, 0);
        }
    });
    let mut reads = 0;
    while !writer.is_finished() || reads == 0 {
        if let Ok(st) = view.read(usize::MAX, 1_000) {
            let seq = Decimal::from_i64(st.sequence as i64);
            assert!(st
                .bids
                .iter()
                .chain(&st.asks)
                .all(|&(_, s)| s == seq || st.sequence == 0));
            reads += 1;
        }
    }
    writer.join().unwrap();
    assert!(reads > 0);
}

#[test]
fn the_queue_drops_data_past_its_capacity_but_never_control() {
    let (tx, mut rx) = std::os::unix::net::UnixStream::pair().unwrap();
    tx.set_nonblocking(true).unwrap();
    rx.set_nonblocking(true).unwrap();
    let q = EventQueue::new(2, Some(tx));
    let data = |n: u8| Item::Data {
        opcode: Opcode::Text,
        payload: vec![n],
        recv_ns: 1,
    };
    assert!(q.push_data(data(1)));
    assert!(q.push_data(data(2)));
    assert!(!q.push_data(data(3)));
    q.push_control(Item::Down { reason: "x".into() });
    assert_eq!(q.dropped.load(Ordering::Relaxed), 1);
    let mut buf = [0u8; 16];
    assert_eq!(
        rx.read(&mut buf).unwrap(),
        1,
        "one wake-up for the whole batch"
    );
    let items = q.drain();
    assert_eq!(items.len(), 3);
    assert!(matches!(items[2], Item::Down { .. }));
    assert!(q.push_data(data(4)), "room again after the drain");
    assert_eq!(rx.read(&mut buf).unwrap(), 1, "re-armed by the drain");
}

// -- a worker against a minimal server ----------------------------------------------------------

fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    if payload.len() < 126 {
        f.push(payload.len() as u8);
    } else {
        f.push(126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

fn accept(listener: &TcpListener) -> TcpStream {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        req.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(req).unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.trim())
    );
    s.write_all(resp.as_bytes()).unwrap();
    s
}

fn push(first: u64, last: u64, bid: &str) -> Vec<u8> {
    server_frame(
        1,
        format!(
            r#"{{"time":1,"channel":"spot.order_book_update","event":"update","result":{{"t":1,"s":"BTC_USDT","U":{first},"u":{last},"b":[["{bid}","1"]],"a":[["200","1"]]}}}}"#
        )
        .as_bytes(),
    )
}

fn wait(mut until: impl FnMut() -> bool) {
    let t = Instant::now();
    while !until() {
        assert!(t.elapsed() < Duration::from_secs(5), "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_worker_syncs_a_book_and_unlinks_it_when_the_server_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = parse_url(&format!("ws://{}/ws", listener.local_addr().unwrap())).unwrap();
    let shared = Arc::new(Shared::new(16, None, 8));
    let cfg = Config {
        exchange: Exchange::Gate,
        url,
        tls: super::tls::client_config(None).unwrap(),
        headers: Vec::new(),
        compression: false,
        max_message_size: 1 << 20,
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Some(Duration::from_secs(5)),
        reconnect_initial: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
        reconnect_reset_after: Duration::from_secs(60),
        trace: 8,
        fresh_url: false,
        greeting_timeout: None,
    };
    let mut handle = Handle::spawn(cfg, Arc::clone(&shared)).unwrap();
    let view = Arc::new(BookView::new(5));
    let mut book = OrderBook::new(SeqRule::Gate, None);
    book.pending = Pending::new(100, 1 << 20);
    book.set_linked(false);
    handle
        .command(Command::AddBook {
            id: 1,
            symbol: "BTC_USDT".into(),
            book: Box::new(book),
            view: Arc::clone(&view),
        })
        .unwrap();
    handle
        .command(Command::Subscribe {
            key: "depth".into(),
            text: "SUB".into(),
        })
        .unwrap();
    let mut s = accept(&listener);
    // The subscription frame arrives masked; its length byte says 3 payload bytes.
    let mut head = [0u8; 9];
    s.read_exact(&mut head).unwrap();
    assert_eq!((head[0], head[1]), (0x81, 0x80 | 3));
    wait(|| shared.connected.load(Ordering::SeqCst));
    s.write_all(&push(1, 5, "100")).unwrap();
    wait(|| view.read(0, 10).unwrap().held == 1);
    let (reply, rx) = sync_channel(1);
    handle
        .command(Command::Snapshot {
            id: 1,
            last_id: 3,
            bids: vec![(d("90"), d("1"))],
            asks: vec![(d("210"), d("1"))],
            reply,
        })
        .unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        Some(Status::Applied)
    );
    let (reply, rx) = sync_channel(1);
    let epoch = shared.epoch.load(Ordering::SeqCst);
    handle
        .command(Command::SetLinked {
            id: 1,
            linked: true,
            epoch,
            reply,
        })
        .unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
    assert!(view.read(0, 10).unwrap().in_sync());
    s.write_all(&push(6, 9, "101")).unwrap();
    wait(|| view.read(1, 10).unwrap().sequence == 9);
    let st = view.read(1, 10).unwrap();
    assert_eq!(st.bids[0], (d("101"), d("1")));
    assert!(st.read_ns > 0 && st.applied_ns >= st.read_ns);
    // A ping is answered; a close frame unlinks the book at once, then the worker reconnects.
    s.write_all(&server_frame(0x9, b"hi")).unwrap();
    s.write_all(&server_frame(0x8, &1001u16.to_be_bytes()))
        .unwrap();
    wait(|| !view.read(0, 10).unwrap().linked);
    assert_eq!(view.read(0, 10).unwrap().phase, Some(Phase::OutOfSync));
    let _second = accept(&listener);
    wait(|| shared.epoch.load(Ordering::SeqCst) == 2);
    let items = shared.queue.drain();
    assert!(items.iter().any(|i| matches!(i, Item::Up { epoch: 1 })));
    assert!(items
        .iter()
        .any(|i| matches!(i, Item::Down { reason } if reason.contains("1001"))));
    assert!(items.iter().any(|i| matches!(
        i,
        Item::Book {
            id: 1,
            status: Status::NotSynced
        }
    )));
    // A link for the old connection is refused.
    let (reply, rx) = sync_channel(1);
    handle
        .command(Command::SetLinked {
            id: 1,
            linked: true,
            epoch,
            reply,
        })
        .unwrap();
    assert!(!rx.recv_timeout(Duration::from_secs(5)).unwrap());
    let stats = shared.stats.lock().unwrap().clone();
    assert_eq!(stats.counts.pings, 1);
    assert_eq!(stats.read_to_applied.count(), 1);
    let t = Instant::now();
    assert!(handle.stop(Duration::from_secs(2)));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(handle.finished());
}

#[test]
fn a_panic_in_the_worker_leaves_the_books_out_of_sync_with_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = parse_url(&format!("ws://{}/", listener.local_addr().unwrap())).unwrap();
    let shared = Arc::new(Shared::new(4, None, 0));
    let cfg = Config {
        exchange: Exchange::Gate,
        url,
        tls: super::tls::client_config(None).unwrap(),
        headers: Vec::new(),
        compression: false,
        max_message_size: 1 << 20,
        connect_timeout: Duration::from_secs(5),
        idle_timeout: None,
        reconnect_initial: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
        reconnect_reset_after: Duration::from_secs(60),
        trace: 0,
        fresh_url: false,
        greeting_timeout: None,
    };
    let mut handle = Handle::spawn(cfg, Arc::clone(&shared)).unwrap();
    let view = Arc::new(BookView::new(2));
    let mut book = gate_book(3);
    book.set_linked(true);
    handle
        .command(Command::AddBook {
            id: 7,
            symbol: "BTC_USDT".into(),
            book: Box::new(book),
            view: Arc::clone(&view),
        })
        .unwrap();
    let _s = accept(&listener);
    wait(|| shared.connected.load(Ordering::SeqCst));
    handle.command(Command::Panic).unwrap();
    wait(|| handle.finished());
    assert_eq!(view.read(0, 10).unwrap().phase, Some(Phase::OutOfSync));
    assert!(shared
        .dead
        .lock()
        .unwrap()
        .as_deref()
        .unwrap()
        .contains("injected"));
    assert!(!shared.connected.load(Ordering::SeqCst));
    assert!(shared
        .queue
        .drain()
        .iter()
        .any(|i| matches!(i, Item::Dead { reason } if reason.contains("injected"))));
    assert!(
        handle.stop(Duration::from_secs(1)),
        "a dead worker joins at once"
    );
}

#[test]
fn a_greeting_server_gets_nothing_before_its_welcome() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = parse_url(&format!("ws://{}/", listener.local_addr().unwrap())).unwrap();
    let shared = Arc::new(Shared::new(4, None, 0));
    let cfg = Config {
        exchange: Exchange::Kucoin,
        url,
        tls: super::tls::client_config(None).unwrap(),
        headers: Vec::new(),
        compression: false,
        max_message_size: 1 << 20,
        connect_timeout: Duration::from_secs(5),
        idle_timeout: None,
        reconnect_initial: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
        reconnect_reset_after: Duration::from_secs(60),
        trace: 0,
        fresh_url: false,
        greeting_timeout: Some(Duration::from_secs(5)),
    };
    let mut handle = Handle::spawn(cfg, Arc::clone(&shared)).unwrap();
    handle
        .command(Command::Subscribe {
            key: "k".into(),
            text: "SUB".into(),
        })
        .unwrap();
    let mut s = accept(&listener);
    wait(|| shared.connected.load(Ordering::SeqCst));
    s.set_read_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    let mut head = [0u8; 9];
    assert!(
        s.read(&mut head).is_err(),
        "nothing sent before the welcome"
    );
    s.write_all(&server_frame(1, br#"{"id":"x","type":"welcome"}"#))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_exact(&mut head).unwrap();
    assert_eq!(
        (head[0], head[1]),
        (0x81, 0x80 | 3),
        "then the subscription"
    );
    assert!(handle.stop(Duration::from_secs(2)));
}
