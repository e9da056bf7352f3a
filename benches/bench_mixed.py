"""A realistic mixed stream: depth, trades and book tickers interleaved on one socket.

Stream: the shared corpus with about 6 depth pushes, 3 trades and 1 book ticker per 10
messages, in random order as an exchange sends them, written as Gate.io spot JSON and as MEXC
protobuf (message ``i`` is the same event in both). A strategy reads what it uses: price,
amount and side of every trade, bid and ask of every ticker, the best bid and ask after every
depth push. Every book is checked against the corpus's expected book before timings count.

(a) one call per message, in-process (CPU ns per message, ``time.thread_time_ns``):

- hftws ``gateio.apply_depth`` (the book takes depth pushes; ``None`` for anything else) then
  ``gateio.parse`` for trades and tickers; ``mexc.apply_depth`` / ``mexc.decode`` likewise;
- hftws ``StreamDecoder.feed`` with the book registered, 1 and 10 frames per call (the fused
  path the connections run);
- ``msgspec`` typed structs decoded in one pass (a tagged union on ``channel``, prices decoded
  straight to floats with ``strict=False``) + ``SortedDict`` books (float keys): the strongest
  pure-Python pipeline; and ``orjson.loads`` + ``SortedDict``;
- MEXC: Google ``protobuf`` (upb) ``ParseFromString`` + ``SortedDict`` (msgspec has no
  protobuf);
- profile rows for the floor: the same depth pushes replayed stale (call + envelope scan + id
  check, no book writes) and a bare Python→Rust call.

(b) trades alone and tickers alone: hftws typed events with the fields read vs msgspec typed
structs (and upb for MEXC) with the same fields read.

(c) end to end over loopback (``bench_e2e``'s server process): hftws full stack
(``GateioSpotPublicHandler`` / ``MexcPublicHandler``, book registered, ``on_orderbook`` /
``on_trade`` / ``on_ticker`` callbacks) vs ``picows`` + msgspec typed + ``SortedDict`` (Gate),
``picows`` + upb + ``SortedDict`` (MEXC) and ``picows`` + orjson + ``SortedDict``, with the same
callbacks, on asyncio and uvloop; ``picows`` raw frames is the floor of a Python client.
Reported: messages/s and client CPU µs per message (``time.process_time``).

Run: ``.venv/bin/python benches/bench_mixed.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import orjson
from picows import WSListener, WSMsgType, ws_connect
from sortedcontainers import SortedDict

import corpus as C
from _harness import (
    Callbacks,
    Strategy,
    apply_float,
    e2e_table,
    float_book,
    measure,
    save,
    summarize,
    table,
)
from bench_e2e import Run, client_hftws_raw, run_clients
from hftws import gateio, mexc, transport
from hftws.exchanges import GateioSpotPublicHandler, MexcPublicHandler
from hftws.testing.mexc_proto import load as load_proto
from hftws.ws import StreamDecoder, WebSocketDecoder

BATCH = 10
DEPTH_SHARE, TRADE_SHARE = 0.6, 0.3  # the rest (0.1) are book tickers
VENUE = {"gate": ("gateio", C.GATE_PAIR, 1), "mexc": ("mexc", C.MEXC_SYMBOL, 2)}


def mixed_corpus(n: int) -> C.Corpus:
    return C.corpus(n, depth_share=DEPTH_SHARE, trade_share=TRADE_SHARE, seed=19)


# --- msgspec: one pass over a Gate.io message, tagged on "channel" -----------------------------
# ``strict=False`` lets msgspec turn the JSON strings "65000.01" into floats while decoding, so
# no Python ``float()`` call is left on the baseline's path; unread envelope fields are skipped.


class GLevels(msgspec.Struct):
    U: int
    u: int
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]


class GTradeR(msgspec.Struct):
    id: int
    side: str
    amount: float
    price: float


class GTickerR(msgspec.Struct):
    u: int
    b: float
    B: float
    a: float
    A: float


class GDepth(msgspec.Struct, tag_field="channel", tag="spot.order_book_update"):
    time_ms: int
    result: GLevels


class GTrade(msgspec.Struct, tag_field="channel", tag="spot.trades"):
    time_ms: int
    result: GTradeR


class GTicker(msgspec.Struct, tag_field="channel", tag="spot.book_ticker"):
    time_ms: int
    result: GTickerR


GATE_UNION = GDepth | GTrade | GTicker


def gate_decoder() -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(GATE_UNION, strict=False)


# --- (a) in-process pipelines -------------------------------------------------------------------


def gate_hftws(book: Any, frames: list[bytes], st: Strategy) -> int:
    apply, parse, bbo = gateio.apply_depth, gateio.parse, book.bbo
    for f in frames:
        if apply(f, book) is None:
            ev = parse(f)
            if ev.kind == "trade":
                st.last_trade = (ev.price, ev.amount, ev.side)
            else:
                st.bid, st.ask = ev.bid_price, ev.ask_price
        else:
            top = bbo()
            st.bid, st.ask = top[0], top[2]
    return len(frames)


#: A MEXC push starts with its channel (wrapper field 1, tag 0x0a and a one-byte length): the
#: cheapest way for Python to tell a depth push (``mexc.apply_depth``) from the rest.
MEXC_DEPTH = b"spot@public.aggre.depth."


def mexc_hftws(book: Any, frames: list[bytes], st: Strategy) -> int:
    apply, decode, bbo = mexc.apply_depth, mexc.decode, book.bbo
    for f in frames:
        if f.startswith(MEXC_DEPTH, 2):
            apply(f, book)
            top = bbo()
            st.bid, st.ask = top[0], top[2]
        else:
            ev = decode(f)
            if ev.kind == "trades":
                for t in ev:
                    st.last_trade = (t.price, t.amount, t.side)
            else:
                st.bid, st.ask = ev.bid_price, ev.ask_price
    return len(frames)


def stream_hftws(book: Any, exchange: str, wire: list[bytes], st: Strategy) -> int:
    """The fused path: frames + parse + book in one call per read, then the items dispatched."""
    _venue, symbol, _op = VENUE[exchange]
    dec = StreamDecoder(_venue)
    dec.register_book(symbol, book)
    feed, bbo = dec.feed, book.bbo
    n = 0
    for chunk in wire:
        for item in feed(chunk):
            n += 1
            kind = item.kind
            if kind == "book":
                top = bbo()
                st.bid, st.ask = top[0], top[2]
            elif kind == "trade":
                st.last_trade = (item.price, item.amount, item.side)
            elif kind == "trades":
                for t in item:
                    st.last_trade = (t.price, t.amount, t.side)
            else:
                st.bid, st.ask = item.bid_price, item.ask_price
    return n


def gate_msgspec(books: tuple[SortedDict, SortedDict], frames: list[bytes], st: Strategy) -> int:
    bids, asks = books
    decode = gate_decoder().decode
    last = C.SNAPSHOT_ID
    for f in frames:
        m = decode(f)
        if type(m) is GDepth:
            r = m.result
            if r.u <= last:
                continue
            if r.U > last + 1:
                raise RuntimeError("gap")
            for p, s in r.b:
                if s == 0.0:
                    bids.pop(p, None)
                else:
                    bids[p] = s
            for p, s in r.a:
                if s == 0.0:
                    asks.pop(p, None)
                else:
                    asks[p] = s
            last = r.u
            st.bid, st.ask = bids.peekitem(-1)[0], asks.peekitem(0)[0]
        elif type(m) is GTrade:
            t = m.result
            st.last_trade = (t.price, t.amount, t.side)
        else:
            k = m.result
            st.bid, st.ask = k.b, k.a
    return len(frames)


def gate_orjson(books: tuple[SortedDict, SortedDict], frames: list[bytes], st: Strategy) -> int:
    bids, asks = books
    loads = orjson.loads
    last = C.SNAPSHOT_ID
    for f in frames:
        m = loads(f)
        ch, r = m["channel"], m["result"]
        if ch == "spot.order_book_update":
            if r["u"] <= last:
                continue
            if r["U"] > last + 1:
                raise RuntimeError("gap")
            apply_float(bids, r["b"])
            apply_float(asks, r["a"])
            last = r["u"]
            st.bid, st.ask = bids.peekitem(-1)[0], asks.peekitem(0)[0]
        elif ch == "spot.trades":
            st.last_trade = (float(r["price"]), float(r["amount"]), r["side"])
        else:
            st.bid, st.ask = float(r["b"]), float(r["a"])
    return len(frames)


class Upb:
    """Google protobuf (upb) + SortedDict: the fastest pure-Python MEXC pipeline."""

    def __init__(self) -> None:
        self.msg = load_proto().PushDataV3ApiWrapper()

    def run(self, books: tuple[SortedDict, SortedDict], frames: list[bytes], st: Strategy) -> int:
        bids, asks = books
        msg = self.msg
        last = C.SNAPSHOT_ID
        for f in frames:
            self.on_push(msg, f, bids, asks, st, last)
            if msg.WhichOneof("body") == "publicAggreDepths":
                last = int(msg.publicAggreDepths.toVersion)
        return len(frames)

    @staticmethod
    def on_push(msg: Any, f: bytes, bids: SortedDict, asks: SortedDict, st: Strategy, last: int):
        msg.ParseFromString(f)
        body = msg.WhichOneof("body")
        if body == "publicAggreDepths":
            d = msg.publicAggreDepths
            if int(d.fromVersion) != last + 1:
                raise RuntimeError("gap")
            for lvl in d.bids:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    bids.pop(p, None)
                else:
                    bids[p] = q
            for lvl in d.asks:
                p, q = float(lvl.price), float(lvl.quantity)
                if q == 0.0:
                    asks.pop(p, None)
                else:
                    asks[p] = q
            st.bid, st.ask = bids.peekitem(-1)[0], asks.peekitem(0)[0]
        elif body == "publicAggreDeals":
            for d in msg.publicAggreDeals.deals:
                side = "buy" if d.tradeType == 1 else "sell"
                st.last_trade = (float(d.price), float(d.quantity), side)
        else:
            t = msg.publicAggreBookTicker
            st.bid, st.ask = float(t.bidPrice), float(t.askPrice)


def stale_depth(book: Any, frames: list[bytes], apply: Callable[..., Any]) -> int:
    """Profile: depth pushes applied one per call, best read after each (into a book that
    already holds them: call + scan + id check, no writes)."""
    bbo = book.bbo
    for f in frames:
        apply(f, book)
        bbo()
    return len(frames)


def handler_layers(
    cls: type, exchange: str, fmt: str, symbol: str, c: C.Corpus, frames: list[bytes], opcode: int
) -> Callable[[], int]:
    """Profile: the handler layers alone. Each message is decoded beforehand by the connection's
    fused decoder (book registered, one message per read); the timed pass hands each read's
    items to the handler's ``_on_events``, as the transport does, with the strategy callbacks
    registered. No socket, no loop, no decoding inside the clock."""
    book = C.hftws_book(c, fmt)
    dec = StreamDecoder(exchange)
    dec.register_book(symbol, book)
    reads = [dec.feed(C.server_frame(f, opcode)) for f in frames]
    iface = cls(url="ws://127.0.0.1:9/", ping_interval=3600, idle_timeout=3600)
    bbo = book.bbo

    def top() -> tuple[float, float]:
        t = bbo()
        return t[0], t[2]

    cb = Callbacks(lambda: None, top)
    on_trade, on_ticker = cb.on_trade, cb.on_ticker
    iface.handler.on_orderbook(cb.on_book)
    iface.handler.on_trade(lambda ev: on_trade(ev.price, ev.amount, ev.side))
    iface.handler.on_ticker(lambda ev: on_ticker(ev.bid_price, ev.ask_price))
    deliver = iface._on_events

    def run() -> int:
        recv_ns = time.monotonic_ns()
        for items in reads:
            deliver(items, recv_ns)
        return len(reads)

    return run


def bare_call(n: int) -> int:
    feed_count, empty = WebSocketDecoder().feed_count, b""
    for _ in range(n):
        feed_count(empty)
    return n


def in_process(c: C.Corpus, repeat: int) -> tuple[dict[str, Any], str]:
    n = len(c.kinds)
    wire = {
        fmt: {
            k: [b"".join(C.server_frame(f, VENUE[fmt][2]) for f in b) for b in C.batches(frames, k)]
            for k in (1, BATCH)
        }
        for fmt, frames in (("gate", c.gate), ("mexc", c.mexc))
    }
    upb = Upb()
    snap = (c.snapshot_bids, c.snapshot_asks)

    # pipeline name -> (fresh state, run(state, strategy) -> messages)
    pipes: dict[str, tuple[Callable[[], Any], Callable[[Any, Strategy], int], str]] = {
        "gate: hftws apply_depth / parse (1 call/msg)": (
            lambda: C.hftws_book(c, "gate"),
            lambda b, st: gate_hftws(b, c.gate, st),
            "gate",
        ),
        "gate: hftws StreamDecoder.feed (1 frame/call)": (
            lambda: C.hftws_book(c, "gate"),
            lambda b, st: stream_hftws(b, "gate", wire["gate"][1], st),
            "gate",
        ),
        f"gate: hftws StreamDecoder.feed ({BATCH} frames/read)": (
            lambda: C.hftws_book(c, "gate"),
            lambda b, st: stream_hftws(b, "gate", wire["gate"][BATCH], st),
            "gate",
        ),
        "gate: msgspec typed union (1 pass) + SortedDict": (
            lambda: float_book(*snap),
            lambda b, st: gate_msgspec(b, c.gate, st),
            "gate",
        ),
        "gate: orjson + SortedDict": (
            lambda: float_book(*snap),
            lambda b, st: gate_orjson(b, c.gate, st),
            "gate",
        ),
        "mexc: hftws apply_depth / decode (1 call/msg)": (
            lambda: C.hftws_book(c, "mexc"),
            lambda b, st: mexc_hftws(b, c.mexc, st),
            "mexc",
        ),
        "mexc: hftws StreamDecoder.feed (1 frame/call)": (
            lambda: C.hftws_book(c, "mexc"),
            lambda b, st: stream_hftws(b, "mexc", wire["mexc"][1], st),
            "mexc",
        ),
        f"mexc: hftws StreamDecoder.feed ({BATCH} frames/read)": (
            lambda: C.hftws_book(c, "mexc"),
            lambda b, st: stream_hftws(b, "mexc", wire["mexc"][BATCH], st),
            "mexc",
        ),
        "mexc: upb ParseFromString + SortedDict": (
            lambda: float_book(*snap),
            lambda b, st: upb.run(b, c.mexc, st),
            "mexc",
        ),
    }
    # Correctness first: every pipeline ends with the corpus's book and the same last fields.
    finals: dict[str, tuple[float, float, Any]] = {}
    for name, (make, run, _fmt) in pipes.items():
        state, st = make(), Strategy()
        assert run(state, st) == n, name
        if isinstance(state, tuple):
            C.check_book(name, dict(state[0]), dict(state[1]), c)
        else:
            C.check_hftws(name, state, c)
        finals[name] = (st.bid, st.ask, st.last_trade)
    if len({repr(v) for v in finals.values()}) != 1:
        raise AssertionError(f"pipelines disagree on the fields read: {finals}")

    def case(make: Callable[[], Any], run: Callable[[Any, Strategy], int]) -> Callable[[], int]:
        states = [make() for _ in range(repeat)]
        return lambda: run(states.pop(), Strategy())

    cases = {name: case(make, run) for name, (make, run, _f) in pipes.items()}
    # Profile rows: the mixed stream's depth pushes, replayed into books that already hold them.
    for fmt, apply in (("gate", gateio.apply_depth), ("mexc", mexc.apply_depth)):
        held = C.hftws_book(c, fmt)
        depth = c.select(fmt, "depth")
        stale_depth(held, depth, apply)
        cases[f"{fmt}: profile: depth pushes replayed stale (call + scan + ids, no writes)"] = (
            lambda held=held, depth=depth, apply=apply: stale_depth(held, depth, apply)
        )
        pool = [C.hftws_book(c, fmt) for _ in range(repeat)]
        cases[f"{fmt}: profile: depth pushes alone, fresh book (call + scan + book)"] = (
            lambda pool=pool, depth=depth, apply=apply: stale_depth(pool.pop(), depth, apply)
        )
    for fmt, cls in (("gate", GateioSpotPublicHandler), ("mexc", MexcPublicHandler)):
        exchange, symbol, opcode = VENUE[fmt]
        frames = c.gate if fmt == "gate" else c.mexc
        cases[f"{fmt}: profile: handler layers per message (pre-decoded, 1 read/msg)"] = (
            handler_layers(cls, exchange, fmt, symbol, c, frames, opcode)
        )
    cases["profile: bare Python→Rust call (feed_count of b'')"] = lambda: bare_call(n)
    timings = measure(cases, repeat=repeat, clock=time.thread_time_ns)
    lines = []
    for fmt, base in (
        ("gate", "gate: msgspec typed union (1 pass) + SortedDict"),
        ("mexc", "mexc: upb ParseFromString + SortedDict"),
    ):
        sub = {k: v for k, v in timings.items() if k.startswith(fmt + ":")}
        counts = {k: len(c.by_kind[k]) for k in ("depth", "trade", "ticker")}
        lines.append(
            table(
                f"{fmt}: mixed stream, CPU ns per message ({n:,} messages: {counts['depth']:,} "
                f"depth, {counts['trade']:,} trades, {counts['ticker']:,} book tickers; "
                "fields read; the depth-push profile rows are per depth push)",
                sub,
                baseline=base,
            )
        )
    call = timings["profile: bare Python→Rust call (feed_count of b'')"].median
    lines.append(f"A bare Python→Rust call: {call:,.0f} ns.\n")
    return {"timings": timings}, "\n".join(lines)


# --- (b) trades alone and tickers alone --------------------------------------------------------


def typed_only(c: C.Corpus, repeat: int) -> tuple[dict[str, Any], str]:
    g_trades, g_tickers = c.select("gate", "trade"), c.select("gate", "ticker")
    m_trades, m_tickers = c.select("mexc", "trade"), c.select("mexc", "ticker")
    upb_msg = Upb().msg

    def hftws_gate_trades() -> int:
        parse, st = gateio.parse, Strategy()
        for f in g_trades:
            ev = parse(f)
            st.last_trade = (ev.price, ev.amount, ev.side)
        return len(g_trades)

    def hftws_gate_tickers() -> int:
        parse, st = gateio.parse, Strategy()
        for f in g_tickers:
            ev = parse(f)
            st.bid, st.ask = ev.bid_price, ev.ask_price
        return len(g_tickers)

    def parse_only(frames: list[bytes]) -> Callable[[], int]:
        def run() -> int:
            parse = gateio.parse
            for f in frames:
                parse(f)
            return len(frames)

        return run

    def msgspec_gate_trades() -> int:
        decode, st = msgspec.json.Decoder(GTrade, strict=False).decode, Strategy()
        for f in g_trades:
            t = decode(f).result
            st.last_trade = (t.price, t.amount, t.side)
        return len(g_trades)

    def msgspec_gate_tickers() -> int:
        decode, st = msgspec.json.Decoder(GTicker, strict=False).decode, Strategy()
        for f in g_tickers:
            k = decode(f).result
            st.bid, st.ask = k.b, k.a
        return len(g_tickers)

    def hftws_mexc_trades() -> int:
        decode, st = mexc.decode, Strategy()
        for f in m_trades:
            for t in decode(f):
                st.last_trade = (t.price, t.amount, t.side)
        return len(m_trades)

    def hftws_mexc_tickers() -> int:
        decode, st = mexc.decode, Strategy()
        for f in m_tickers:
            ev = decode(f)
            st.bid, st.ask = ev.bid_price, ev.ask_price
        return len(m_tickers)

    def upb_mexc_trades() -> int:
        msg, st = upb_msg, Strategy()
        for f in m_trades:
            msg.ParseFromString(f)
            for d in msg.publicAggreDeals.deals:
                side = "buy" if d.tradeType == 1 else "sell"
                st.last_trade = (float(d.price), float(d.quantity), side)
        return len(m_trades)

    def upb_mexc_tickers() -> int:
        msg, st = upb_msg, Strategy()
        for f in m_tickers:
            msg.ParseFromString(f)
            t = msg.publicAggreBookTicker
            st.bid, st.ask = float(t.bidPrice), float(t.askPrice)
        return len(m_tickers)

    groups = {
        "gate trades": {
            "hftws gateio.parse + price/amount/side": hftws_gate_trades,
            "msgspec typed struct + price/amount/side": msgspec_gate_trades,
            "hftws profile: gateio.parse only (no field read)": parse_only(g_trades),
        },
        "gate book tickers": {
            "hftws gateio.parse + bid/ask": hftws_gate_tickers,
            "msgspec typed struct + bid/ask": msgspec_gate_tickers,
            "hftws profile: gateio.parse only (no field read)": parse_only(g_tickers),
        },
        "mexc trades": {
            "hftws mexc.decode + price/amount/side": hftws_mexc_trades,
            "upb ParseFromString + price/amount/side": upb_mexc_trades,
        },
        "mexc book tickers": {
            "hftws mexc.decode + bid/ask": hftws_mexc_tickers,
            "upb ParseFromString + bid/ask": upb_mexc_tickers,
        },
    }
    out: dict[str, Any] = {}
    lines = []
    for title, cases in groups.items():
        timings = measure(cases, repeat=repeat, clock=time.thread_time_ns)
        out[title] = timings
        base = next(k for k in cases if not k.startswith("hftws"))
        lines.append(table(f"{title} alone, CPU ns per message, fields read", timings, base))
    return out, "\n".join(lines)


# --- (c) end to end over loopback ----------------------------------------------------------------


def hftws_client(cls: type, fmt: str, symbol: str, c: C.Corpus) -> Callable[..., Any]:
    """A public handler with the book registered and the three strategy callbacks."""

    async def client(url: str, run: Run) -> Any:
        book = C.hftws_book(c, fmt)
        iface = cls(url=url, ping_interval=3600, idle_timeout=3600)
        iface.register_book(symbol, book)
        bbo = book.bbo

        def top() -> tuple[float, float]:
            t = bbo()
            return t[0], t[2]

        cb = Callbacks(run.tick, top)
        on_trade, on_ticker = cb.on_trade, cb.on_ticker
        iface.handler.on_orderbook(cb.on_book)
        iface.handler.on_trade(lambda ev: on_trade(ev.price, ev.amount, ev.side))
        iface.handler.on_ticker(lambda ev: on_ticker(ev.bid_price, ev.ask_price))
        await iface.connect()
        await run.done
        await iface.close()
        return book

    return client


def hftws_transport_client(exchange: str, fmt: str, symbol: str, c: C.Corpus) -> Callable:
    """``transport.connect(exchange=...)`` with the book registered: the fused decoder's items
    dispatched to the strategy callbacks in ``on_messages``, no handler layer."""

    async def client(url: str, run: Run) -> Any:
        book = C.hftws_book(c, fmt)
        bbo = book.bbo

        def top() -> tuple[float, float]:
            t = bbo()
            return t[0], t[2]

        cb = Callbacks(run.tick, top)
        on_book, on_trade, on_ticker = cb.on_book, cb.on_trade, cb.on_ticker

        def on_messages(items: list[Any], _recv_ns: int) -> None:
            for item in items:
                kind = item.kind
                if kind == "book":
                    on_book()
                elif kind == "trade":
                    on_trade(item.price, item.amount, item.side)
                elif kind == "trades":
                    for t in item:
                        on_trade(t.price, t.amount, t.side)
                else:
                    on_ticker(item.bid_price, item.ask_price)

        conn = await transport.connect(
            url, on_messages=on_messages, exchange=exchange, books={symbol: book}
        )
        await run.done
        await conn.close()
        return book

    return client


def hftws_raw(c: C.Corpus) -> Callable[..., Any]:
    async def client(url: str, run: Run) -> Any:
        return await client_hftws_raw(url, c, run)

    return client


async def picows_client(url: str, run: Run, on_payload: Callable[[bytes], None], binary: bool):
    """picows: every data frame's payload as bytes to ``on_payload``."""
    want = WSMsgType.BINARY if binary else WSMsgType.TEXT

    class Listener(WSListener):
        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            if frame.msg_type == want:
                on_payload(frame.get_payload_as_bytes())

    tr, _ = await ws_connect(Listener, url)
    await run.done
    tr.disconnect()


def sorted_top(books: tuple[SortedDict, SortedDict]) -> Callable[[], tuple[float, float]]:
    bids, asks = books
    return lambda: (bids.peekitem(-1)[0], asks.peekitem(0)[0])


def picows_msgspec(c: C.Corpus) -> Callable[..., Any]:
    async def client(url: str, run: Run) -> Any:
        books = float_book(c.snapshot_bids, c.snapshot_asks)
        bids, asks = books
        cb = Callbacks(run.tick, sorted_top(books))
        decode = gate_decoder().decode
        last = [C.SNAPSHOT_ID]

        def on_payload(payload: bytes) -> None:
            m = decode(payload)
            if type(m) is GDepth:
                r = m.result
                if r.u <= last[0]:
                    return
                if r.U > last[0] + 1:
                    raise RuntimeError("gap")
                for p, s in r.b:
                    if s == 0.0:
                        bids.pop(p, None)
                    else:
                        bids[p] = s
                for p, s in r.a:
                    if s == 0.0:
                        asks.pop(p, None)
                    else:
                        asks[p] = s
                last[0] = r.u
                cb.on_book()
            elif type(m) is GTrade:
                t = m.result
                cb.on_trade(t.price, t.amount, t.side)
            else:
                cb.on_ticker(m.result.b, m.result.a)

        await picows_client(url, run, on_payload, False)
        return books

    return client


def picows_orjson(c: C.Corpus) -> Callable[..., Any]:
    async def client(url: str, run: Run) -> Any:
        books = float_book(c.snapshot_bids, c.snapshot_asks)
        bids, asks = books
        cb = Callbacks(run.tick, sorted_top(books))
        loads = orjson.loads
        last = [C.SNAPSHOT_ID]

        def on_payload(payload: bytes) -> None:
            m = loads(payload)
            ch, r = m["channel"], m["result"]
            if ch == "spot.order_book_update":
                if r["u"] <= last[0]:
                    return
                if r["U"] > last[0] + 1:
                    raise RuntimeError("gap")
                apply_float(bids, r["b"])
                apply_float(asks, r["a"])
                last[0] = r["u"]
                cb.on_book()
            elif ch == "spot.trades":
                cb.on_trade(float(r["price"]), float(r["amount"]), r["side"])
            else:
                cb.on_ticker(float(r["b"]), float(r["a"]))

        await picows_client(url, run, on_payload, False)
        return books

    return client


def picows_upb(c: C.Corpus) -> Callable[..., Any]:
    async def client(url: str, run: Run) -> Any:
        books = float_book(c.snapshot_bids, c.snapshot_asks)
        bids, asks = books
        cb = Callbacks(run.tick, sorted_top(books))
        msg = load_proto().PushDataV3ApiWrapper()
        last = [C.SNAPSHOT_ID]

        def on_payload(payload: bytes) -> None:
            msg.ParseFromString(payload)
            body = msg.WhichOneof("body")
            if body == "publicAggreDepths":
                d = msg.publicAggreDepths
                if int(d.fromVersion) != last[0] + 1:
                    raise RuntimeError("gap")
                for lvl in d.bids:
                    p, q = float(lvl.price), float(lvl.quantity)
                    if q == 0.0:
                        bids.pop(p, None)
                    else:
                        bids[p] = q
                for lvl in d.asks:
                    p, q = float(lvl.price), float(lvl.quantity)
                    if q == 0.0:
                        asks.pop(p, None)
                    else:
                        asks[p] = q
                last[0] = int(d.toVersion)
                cb.on_book()
            elif body == "publicAggreDeals":
                for t in msg.publicAggreDeals.deals:
                    side = "buy" if t.tradeType == 1 else "sell"
                    cb.on_trade(float(t.price), float(t.quantity), side)
            else:
                t = msg.publicAggreBookTicker
                cb.on_ticker(float(t.bidPrice), float(t.askPrice))

        await picows_client(url, run, on_payload, True)
        return books

    return client


def picows_raw(binary: bool) -> Callable[..., Any]:
    async def client(url: str, run: Run) -> Any:
        tick = run.tick
        await picows_client(url, run, lambda _p: tick(), binary)

    return client


GATE_BASE = "picows + msgspec typed union + SortedDict"
MEXC_BASE = "picows + upb + SortedDict"


def e2e(c: C.Corpus, repeat: int) -> tuple[dict[str, Any], str]:
    clients = {
        "gate": {
            "hftws full stack (GateioSpotPublicHandler + book + callbacks)": hftws_client(
                GateioSpotPublicHandler, "gate", C.GATE_PAIR, c
            ),
            "hftws transport + StreamDecoder + book + callbacks": hftws_transport_client(
                "gateio", "gate", C.GATE_PAIR, c
            ),
            "hftws raw frames (no decoding)": hftws_raw(c),
            GATE_BASE: picows_msgspec(c),
            "picows + orjson + SortedDict": picows_orjson(c),
            "picows raw frames (no decoding)": picows_raw(False),
        },
        "mexc": {
            "hftws full stack (MexcPublicHandler + book + callbacks)": hftws_client(
                MexcPublicHandler, "mexc", C.MEXC_SYMBOL, c
            ),
            "hftws transport + StreamDecoder + book + callbacks": hftws_transport_client(
                "mexc", "mexc", C.MEXC_SYMBOL, c
            ),
            "hftws raw frames (no decoding)": hftws_raw(c),
            MEXC_BASE: picows_upb(c),
            "picows raw frames (no decoding)": picows_raw(True),
        },
    }
    out: dict[str, Any] = {}
    lines = []
    for fmt, cl in clients.items():
        opcode = VENUE[fmt][2]
        wire = [C.server_frame(f, opcode) for f in (c.gate if fmt == "gate" else c.mexc)]
        summary = summarize(run_clients(cl, wire, c, repeat))
        out[fmt] = summary
        lines.append(
            e2e_table(
                f"{fmt}: end to end over loopback, mixed stream ({len(wire):,} messages), "
                "book + strategy callbacks",
                summary,
                GATE_BASE if fmt == "gate" else MEXC_BASE,
            )
        )
    return out, "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (about a minute)")
    ap.add_argument("--only", choices=("inproc", "typed", "e2e"), nargs="*")
    args = ap.parse_args()
    n, n_e2e, repeat = (5_000, 10_000, 3) if args.quick else (20_000, 40_000, 5)
    parts = args.only or ["inproc", "typed", "e2e"]
    c = mixed_corpus(n)
    payload: dict[str, Any] = {"n": n, "n_e2e": n_e2e, "repeat": repeat}
    texts = []
    if "inproc" in parts:
        data, text = in_process(c, repeat)
        payload["inproc"] = data["timings"]
        texts.append(text)
    if "typed" in parts:
        # Small passes (a few ms): more of them keep the medians steady on a shared machine.
        data, text = typed_only(c, 3 * repeat)
        for k, v in data.items():
            payload[f"typed {k}"] = v
        texts.append(text)
    if "e2e" in parts:
        data, text = e2e(mixed_corpus(n_e2e), repeat if not args.quick else 2)
        payload["e2e"] = data
        texts.append(text)
    text = "\n".join(texts)
    print(text)
    path = save("bench_mixed_quick" if args.quick else "bench_mixed", payload | {"markdown": text})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
