"""The one deterministic market-data corpus every benchmark uses.

A seeded simulation of one instrument: a 1,000-level book per side around a drifting mid, then
a stream of events: depth deltas of 1-20 levels (about a quarter deletions, clustered near the
top of the book the way real feeds are), trades and best bid/ask tickers. The same stream is
written as Gate.io spot JSON pushes (``spot.order_book_update``, ``spot.trades``,
``spot.book_ticker``; gateio.md §3) and as MEXC protobuf pushes (bodies 313, 314, 315;
mexc.md §4): message ``i`` is the same event in both. The generator keeps its own exact model,
so every pipeline's final book is checked against ``expected_bids``/``expected_asks``.

``depth_corpus`` (levels as strings, no wire encoding) serves the book-only benchmark.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sortedcontainers import SortedDict

Levels = list[tuple[str, str]]

GATE_PAIR = "BTC_USDT"
MEXC_SYMBOL = "BTCUSDT"
T0_MS = 1_754_741_322_000
SNAPSHOT_ID = 1_000_000


@dataclass
class DepthCorpus:
    snapshot_bids: Levels
    snapshot_asks: Levels
    snapshot_id: int
    updates: list[tuple[Levels, Levels, int, int]]
    expected_bids: dict[Decimal, Decimal]
    expected_asks: dict[Decimal, Decimal]


@dataclass
class Corpus:
    """One event stream in both wire formats, plus the book it must produce."""

    snapshot_bids: Levels
    snapshot_asks: Levels
    snapshot_id: int
    #: "depth", "trade" or "ticker" per message.
    kinds: list[str]
    gate: list[bytes]
    mexc: list[bytes]
    expected_bids: dict[Decimal, Decimal]
    expected_asks: dict[Decimal, Decimal]
    levels: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)

    @property
    def expected_best(self) -> tuple[Decimal, Decimal]:
        return max(self.expected_bids), min(self.expected_asks)

    def select(self, fmt: str, kind: str) -> list[bytes]:
        """The messages of one kind (``fmt`` is "gate" or "mexc")."""
        frames = self.gate if fmt == "gate" else self.mexc
        return [frames[i] for i in self.by_kind.get(kind, [])]


def _fmt_size(rng: random.Random) -> str:
    return f"{rng.uniform(0.0001, 5):.8f}"


class _Model:
    """The exact book the stream describes; bids keyed by negated ticks (index 0 = best)."""

    def __init__(self, rng: random.Random, depth: int, mid_ticks: int, deep: float = 0.1) -> None:
        self.rng, self.depth, self.near = rng, depth, 1 - deep
        self.tick = Decimal("0.01")
        self.bids = SortedDict({-(mid_ticks - 1 - 2 * i): _fmt_size(rng) for i in range(depth)})
        self.asks = SortedDict({mid_ticks + 1 + 2 * i: _fmt_size(rng) for i in range(depth)})

    def px(self, key: int, is_bid: bool) -> str:
        return str((-key if is_bid else key) * self.tick)

    def delta(self) -> tuple[Levels, Levels]:
        rng = self.rng
        upd_bids: Levels = []
        upd_asks: Levels = []
        for _ in range(rng.randint(1, 20)):
            is_bid = rng.random() < 0.5
            side, other = (self.bids, self.asks) if is_bid else (self.asks, self.bids)
            out = upd_bids if is_bid else upd_asks
            # Distance from the top: mostly the first few levels, sometimes deep.
            near = rng.random() < self.near
            dist = int(rng.expovariate(1 / 6)) if near else rng.randrange(len(side))
            dist = min(dist, len(side) - 1)
            if rng.random() < 0.25 and len(side) > 1:
                key = side.keys()[dist]
                del side[key]
                out.append((self.px(key, is_bid), "0"))
                continue
            if len(side) < self.depth:
                # A new level: just inside the spread or in a hole near the top.
                best_key = side.keys()[0]
                key = best_key - 1 if rng.random() < 0.3 else side.keys()[dist] + 1
                while key in side:
                    key += 1
                # Never cross: a bid must stay below the best ask and vice versa.
                crosses = (-key >= other.keys()[0]) if is_bid else (key <= -other.keys()[0])
                if other and crosses:
                    key = side.keys()[-1] + 1
            else:
                key = side.keys()[dist]
            size = _fmt_size(rng)
            side[key] = size
            out.append((self.px(key, is_bid), size))
        return upd_bids, upd_asks

    def snapshot(self) -> tuple[Levels, Levels]:
        return (
            [(self.px(k, True), s) for k, s in self.bids.items()],
            [(self.px(k, False), s) for k, s in self.asks.items()],
        )

    def expected(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        return (
            {Decimal(self.px(k, True)): Decimal(s) for k, s in self.bids.items()},
            {Decimal(self.px(k, False)): Decimal(s) for k, s in self.asks.items()},
        )


def depth_corpus(
    n_updates: int = 20_000, depth: int = 1_000, seed: int = 7, mid_ticks: int = 3_000_000
) -> DepthCorpus:
    """A snapshot plus ``n_updates`` deltas as strings (prices in ticks of 0.01)."""
    rng = random.Random(seed)
    model = _Model(rng, depth, mid_ticks)
    snap_bids, snap_asks = model.snapshot()
    seq = snapshot_id = SNAPSHOT_ID
    updates = []
    for _ in range(n_updates):
        b, a = model.delta()
        first = seq + 1
        seq += rng.randint(1, 4)
        updates.append((b, a, first, seq))
    exp_b, exp_a = model.expected()
    return DepthCorpus(snap_bids, snap_asks, snapshot_id, updates, exp_b, exp_a)


# --- wire encodings ---------------------------------------------------------------------------


def _gate(channel: str, t_ms: int, result: dict[str, object]) -> bytes:
    msg = {
        "time": t_ms // 1000,
        "time_ms": t_ms,
        "channel": channel,
        "event": "update",
        "result": result,
    }
    return json.dumps(msg, separators=(",", ":")).encode()


class _Mexc:
    """MEXC pushes built with Google's protobuf runtime from the compiled ``proto/``."""

    def __init__(self) -> None:
        from hftws import mexc
        from hftws.testing.mexc_proto import load

        self.pb = load()
        self.depth_ch = mexc.depth_channel(MEXC_SYMBOL)
        self.deals_ch = mexc.deals_channel(MEXC_SYMBOL)
        self.ticker_ch = mexc.book_ticker_channel(MEXC_SYMBOL)

    def wrapper(self, channel: str, t_ms: int):
        return self.pb.PushDataV3ApiWrapper(channel=channel, symbol=MEXC_SYMBOL, sendTime=t_ms)

    def depth(self, bids: Levels, asks: Levels, first: int, last: int, t_ms: int) -> bytes:
        push = self.wrapper(self.depth_ch, t_ms)
        body = push.publicAggreDepths
        for levels, out in ((bids, body.bids), (asks, body.asks)):
            for p, s in levels:
                item = out.add()
                item.price, item.quantity = p, s
        body.eventType = "spot@public.aggre.depth.v3.api.pb@10ms"
        body.fromVersion, body.toVersion = str(first), str(last)
        body.lastOrderCreateTime = t_ms - 3
        return push.SerializeToString()

    def trade(self, price: str, qty: str, buy: bool, trade_id: int, t_ms: int) -> bytes:
        push = self.wrapper(self.deals_ch, t_ms)
        d = push.publicAggreDeals.deals.add()
        d.price, d.quantity, d.tradeType, d.time = price, qty, 1 if buy else 2, t_ms - 2
        d.tradeId = str(trade_id)
        push.publicAggreDeals.eventType = "spot@public.aggre.deals.v3.api.pb@10ms"
        return push.SerializeToString()

    def ticker(self, bid: tuple[str, str], ask: tuple[str, str], uid: int, t_ms: int) -> bytes:
        push = self.wrapper(self.ticker_ch, t_ms)
        t = push.publicAggreBookTicker
        t.bidPrice, t.bidQuantity = bid
        t.askPrice, t.askQuantity = ask
        t.version, t.lastOrderCreateTime = str(uid), t_ms - 1
        return push.SerializeToString()


def corpus(
    n: int = 20_000,
    *,
    depth_share: float = 1.0,
    depth: int = 1_000,
    seed: int = 7,
    mid_ticks: int = 3_000_000,
    deep: float = 0.1,
    trade_share: float | None = None,
) -> Corpus:
    """``n`` events, a ``depth_share`` of them depth deltas and the rest split between trades
    and book tickers (``trade_share`` of all events are trades; default: half the rest), in
    both wire formats. ``deep`` is the share of levels anywhere in the book rather than near
    the top."""
    trades_to = depth_share + ((1 - depth_share) / 2 if trade_share is None else trade_share)
    rng = random.Random(seed)
    model = _Model(rng, depth, mid_ticks, deep)
    snap_bids, snap_asks = model.snapshot()
    mx = _Mexc()
    seq = snapshot_id = SNAPSHOT_ID
    t_ms = T0_MS
    kinds: list[str] = []
    gate: list[bytes] = []
    mexc: list[bytes] = []
    by_kind: dict[str, list[int]] = {"depth": [], "trade": [], "ticker": []}
    levels = 0
    trade_id = 9_834_412_201
    for i in range(n):
        t_ms += rng.randint(1, 20)
        roll = rng.random()
        if roll < depth_share:
            kind = "depth"
            b, a = model.delta()
            levels += len(b) + len(a)
            first = seq + 1
            seq += rng.randint(1, 4)
            result = {
                "t": t_ms,
                "e": "depthUpdate",
                "E": t_ms // 1000,
                "s": GATE_PAIR,
                "U": first,
                "u": seq,
                "b": [list(x) for x in b],
                "a": [list(x) for x in a],
            }
            gate.append(_gate("spot.order_book_update", t_ms, result))
            mexc.append(mx.depth(b, a, first, seq, t_ms))
        elif roll < trades_to:
            kind = "trade"
            bid_key, ask_key = model.bids.keys()[0], model.asks.keys()[0]
            buy = rng.random() < 0.5
            price = model.px(ask_key, False) if buy else model.px(bid_key, True)
            qty = f"{rng.uniform(0.0001, 2):.6f}"
            trade_id += 1
            result = {
                "id": trade_id,
                "create_time": t_ms // 1000,
                "create_time_ms": f"{t_ms - 2}.000",
                "side": "buy" if buy else "sell",
                "currency_pair": GATE_PAIR,
                "amount": qty,
                "price": price,
                "range": f"{trade_id}-{trade_id}",
            }
            gate.append(_gate("spot.trades", t_ms, result))
            mexc.append(mx.trade(price, qty, buy, trade_id, t_ms))
        else:
            kind = "ticker"
            (bk, bs), (ak, as_) = model.bids.peekitem(0), model.asks.peekitem(0)
            bid, ask = (model.px(bk, True), bs), (model.px(ak, False), as_)
            result = {
                "t": t_ms,
                "u": seq,
                "s": GATE_PAIR,
                "b": bid[0],
                "B": bid[1],
                "a": ask[0],
                "A": ask[1],
            }
            gate.append(_gate("spot.book_ticker", t_ms, result))
            mexc.append(mx.ticker(bid, ask, seq, t_ms))
        kinds.append(kind)
        by_kind[kind].append(i)
    exp_b, exp_a = model.expected()
    return Corpus(
        snap_bids, snap_asks, snapshot_id, kinds, gate, mexc, exp_b, exp_a, levels, by_kind
    )


BINANCE_SYMBOL = "BTCUSDT"
BINANCE_STREAMS = {
    "depth": "btcusdt@depth@100ms",
    "trade": "btcusdt@trade",
    "ticker": "btcusdt@bookTicker",
}


def binance_frames(c: Corpus) -> list[bytes]:
    """The corpus as Binance spot combined-stream JSON (binance.md §2.1, §3): the same events
    as ``c.gate``, message for message (``depthUpdate``, ``trade``, ``bookTicker``)."""
    out = []
    for kind, frame in zip(c.kinds, c.gate, strict=True):
        msg = json.loads(frame)
        r, t_ms = msg["result"], msg["time_ms"]
        data: dict[str, object]
        if kind == "depth":
            data = {"e": "depthUpdate", "E": t_ms, "s": BINANCE_SYMBOL, "U": r["U"], "u": r["u"]}
            data |= {"b": r["b"], "a": r["a"]}
        elif kind == "trade":
            data = {"e": "trade", "E": t_ms, "s": BINANCE_SYMBOL, "t": r["id"], "p": r["price"]}
            # `m`: the buyer is the maker, i.e. the taker sold.
            data |= {"q": r["amount"], "T": t_ms - 2, "m": r["side"] == "sell", "M": True}
        else:
            data = {"u": r["u"], "s": BINANCE_SYMBOL, "b": r["b"], "B": r["B"], "a": r["a"]}
            data["A"] = r["A"]
        wrapped = {"stream": BINANCE_STREAMS[kind], "data": data}
        out.append(json.dumps(wrapped, separators=(",", ":")).encode())
    return out


# --- helpers shared by the pipelines ----------------------------------------------------------


def server_frame(payload: bytes, opcode: int = 1) -> bytes:
    """One unmasked server frame (RFC 6455 §5.2), FIN set."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def batches(frames: list[bytes], size: int) -> list[list[bytes]]:
    return [frames[i : i + size] for i in range(0, len(frames), size)]


def hftws_book(c: Corpus, exchange: str):
    """An ``hftws.OrderBook`` loaded with the corpus snapshot."""
    import hftws

    if exchange == "gate":
        book = hftws.OrderBook("gate", symbol=GATE_PAIR)
    elif exchange == "binance":
        book = hftws.OrderBook("binance", symbol=BINANCE_SYMBOL)
    else:
        book = hftws.OrderBook("mexc")
    book.load_snapshot(c.snapshot_bids, c.snapshot_asks, c.snapshot_id)
    return book


def check_book(name: str, bids: dict, asks: dict, c: Corpus) -> None:
    """Raise unless the final ``{price: size}`` sides (Decimal or float keys) match."""

    def norm(d: dict) -> dict[Decimal, Decimal]:
        return {Decimal(str(p)).normalize(): Decimal(str(s)).normalize() for p, s in d.items()}

    want_b = {p.normalize(): s.normalize() for p, s in c.expected_bids.items()}
    want_a = {p.normalize(): s.normalize() for p, s in c.expected_asks.items()}
    if norm(bids) != want_b or norm(asks) != want_a:
        raise AssertionError(f"{name}: final book differs from the corpus's expected book")


def check_hftws(name: str, book, c: Corpus) -> None:
    """Raise unless an ``hftws.OrderBook`` holds exactly the corpus's expected book."""
    bids, asks = book.depth()
    check_book(name, dict(bids), dict(asks), c)
