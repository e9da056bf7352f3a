"""The Rust order book against a plain Python model, plus API behaviour."""

from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hftws import BookStatus, DecimalParseError, OrderBook


def state_of(book: OrderBook) -> str:
    """The book's state, read afresh (mypy would keep an earlier comparison's narrowing)."""
    return book.state


def test_snapshot_then_deltas_track_levels_and_sequence() -> None:
    book = OrderBook("mexc", symbol="BTCUSDT")
    assert book.state == "empty" and not book.in_sync
    assert book.best_bid() is None
    st_ = book.load_snapshot(
        [("117145.48", "0.512"), ("117144.90", "1")], [("117145.49", "2")], 100
    )
    # A REST snapshot alone is unconfirmed: only a stream push that bridges it makes it true.
    assert st_ == BookStatus.STALE and not book.in_sync and state_of(book) == "unconfirmed"
    assert book.sequence == 100
    assert (
        book.apply([("117144.90", "0")], [("117145.50", "0.01234500")], 95, 105)
        == BookStatus.APPLIED
    )
    assert book.in_sync and book.state == "synced"
    assert book.best_bid() == (117145.48, 0.512)
    assert book.best_bid_decimal() == (Decimal("117145.48"), Decimal("0.512"))
    assert book.bbo() == (117145.48, 0.512, 117145.49, 2.0)
    assert book.depth() == (
        [("117145.48", "0.512")],
        [("117145.49", "2"), ("117145.5", "0.012345")],
    )
    assert book.spread() == Decimal("0.01")
    assert book.size_at("ask", "117145.50") == Decimal("0.012345")
    assert book.top(1) == ([(117145.48, 0.512)], [(117145.49, 2.0)])
    assert book.sequence == 105


def test_mexc_gap_and_gate_straddle_differ() -> None:
    rules: tuple[tuple[Literal["mexc", "gate"], BookStatus], ...] = (
        ("mexc", BookStatus.GAP),
        ("gate", BookStatus.APPLIED),
    )
    for seq_rule, want in rules:
        book = OrderBook(seq_rule)
        book.load_snapshot([("1", "1")], [("2", "1")], 10)
        assert book.apply([], [], 11, 12) == BookStatus.APPLIED
        assert book.apply([], [], 12, 14) == want, seq_rule


def test_gap_refuses_until_snapshot_and_is_counted() -> None:
    book = OrderBook("gate")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    assert book.apply([("1.5", "1")], [], 12, 13) == BookStatus.GAP
    assert not book.in_sync and book.state == "out_of_sync"
    assert book.best_bid() == (1.0, 1.0)
    assert book.apply([], [], 11, 11) == BookStatus.NOT_SYNCED
    book.load_snapshot([("1", "1")], [("2", "1")], 20)
    assert not book.in_sync and state_of(book) == "unconfirmed"
    assert book.apply([], [], 21, 21) == BookStatus.APPLIED and book.in_sync
    assert book.counts == {
        "applied": 1,
        "stale": 0,
        "gaps": 1,
        "crossed": 0,
        "refused": 1,
        "snapshots": 2,
        "held": 0,
        "held_dropped": 0,
    }


def test_link_is_part_of_in_sync() -> None:
    book = OrderBook("gate")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    assert book.apply([], [], 11, 11) == BookStatus.APPLIED and book.in_sync
    book.set_linked(False)
    assert not book.in_sync and book.state == "out_of_sync" and not book.linked
    assert book.apply([], [], 12, 12) == BookStatus.NOT_SYNCED
    book.load_snapshot([("1", "1")], [("2", "1")], 12)
    assert book.apply([], [], 13, 13) == BookStatus.APPLIED
    assert book.state == "unlinked" and not book.in_sync, "confirmed, but not subscribed"
    book.set_linked(True)
    assert book.in_sync and book.state == "synced"


def test_crossed_book_is_reported() -> None:
    book = OrderBook("gate")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    status = book.apply([("2", "5")], [], 11, 11)
    assert status == BookStatus.CROSSED and not status.ok and not book.in_sync


def test_malformed_level_raises_typed_error_and_desyncs() -> None:
    book = OrderBook("gate")
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    with pytest.raises(DecimalParseError):
        book.apply([("1.x", "1")], [], 11, 11)
    assert not book.in_sync
    # An out-of-sync book refuses before looking at the levels.
    assert book.apply([("1", "1", "1")], [], 11, 11) == BookStatus.NOT_SYNCED
    book.load_snapshot([("1", "1")], [("2", "1")], 10)
    with pytest.raises(TypeError):
        book.apply([("1", "1", "1")], [], 11, 11)
    assert not book.in_sync


def test_max_depth_keeps_only_top_levels() -> None:
    book = OrderBook("gate", max_depth=2)
    book.load_snapshot([(str(p), "1") for p in range(1, 6)], [], 1)
    assert book.depth()[0] == [("5", "1"), ("4", "1")]


def test_apply_many_stops_at_the_first_gap() -> None:
    book = OrderBook("mexc")
    book.load_snapshot([("1", "1")], [("3", "1")], 10)
    updates: list[Any] = [
        ([("1.1", "1")], [], 11, 11),
        ([], [], 13, 13),
        ([("1.2", "1")], [], 14, 14),
    ]
    assert book.apply_many(updates) == BookStatus.GAP
    assert book.best_bid() == (1.1, 1.0)


def test_invalid_rule_and_depth_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="mexc"):
        unknown: Any = "kraken"  # "binance" is a rule since issue 16
        OrderBook(unknown)
    with pytest.raises(ValueError):
        OrderBook("gate", max_depth=0)


# --- stateful comparison with a model -------------------------------------------------------

PRICES = [f"{100 + i * 0.5:.1f}" for i in range(24)]
price = st.sampled_from(PRICES)
size = st.one_of(st.just("0"), st.just("0.000"), st.sampled_from(["1", "2.5", "0.00000001", "7"]))
levels = st.lists(st.tuples(price, size), max_size=8)


class Model:
    """The specification, written plainly with Decimal keys."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.state = "empty"
        self.last = 0
        self.first_pending = True

    def crossed(self) -> bool:
        return bool(self.bids and self.asks and max(self.bids) >= min(self.asks))

    def snapshot(self, bids: Any, asks: Any, seq: Any) -> BookStatus:
        # A repeated price: the last pair wins, then zero sizes are dropped.
        self.bids = {p: s for p, s in {Decimal(p): Decimal(s) for p, s in bids}.items() if s}
        self.asks = {p: s for p, s in {Decimal(p): Decimal(s) for p, s in asks}.items() if s}
        self.last, self.first_pending, self.state = seq, True, "synced"
        # Nothing held: the snapshot waits for a stream push to confirm it.
        return self._crossed_or(BookStatus.STALE)

    @property
    def phase(self) -> str:
        if self.state == "synced" and self.first_pending:
            return "unconfirmed"
        return self.state

    def _crossed_or(self, ok: BookStatus) -> BookStatus:
        if self.crossed():
            self.state = "out_of_sync"
            return BookStatus.CROSSED
        return ok

    def delta(self, bids: Any, asks: Any, first: Any, last: Any) -> BookStatus:
        if self.state != "synced":
            return BookStatus.NOT_SYNCED
        if first > last:
            self.state = "out_of_sync"
            return BookStatus.GAP
        if last <= self.last:
            return BookStatus.STALE
        if self.first_pending or self.rule == "gate":
            ok = first <= self.last + 1
        else:
            ok = first == self.last + 1
        if not ok:
            self.state = "out_of_sync"
            return BookStatus.GAP
        for side, items in ((self.bids, bids), (self.asks, asks)):
            for p, s in items:
                if Decimal(s) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(s)
        self.last, self.first_pending = last, False
        return self._crossed_or(BookStatus.APPLIED)


class BookMachine(RuleBasedStateMachine):
    @initialize(rule_=st.sampled_from(["mexc", "gate"]))
    def start(self, rule_: Any) -> None:
        self.book = OrderBook(rule_)
        self.model = Model(rule_)

    @rule(bids=levels, asks=levels, seq=st.integers(0, 2**64 - 100))
    def snapshot(self, bids: Any, asks: Any, seq: Any) -> None:
        # Snapshots are mostly uncrossed: bids low, asks high.
        bids = [(p, s) for p, s in bids if float(p) < 106]
        asks = [(p, s) for p, s in asks if float(p) >= 106]
        assert self.book.load_snapshot(bids, asks, seq) == self.model.snapshot(bids, asks, seq)

    @precondition(lambda self: self.model.state != "empty")
    @rule(
        bids=levels,
        asks=levels,
        kind=st.sampled_from(["next", "next", "next", "straddle", "stale", "gap", "reversed"]),
        span=st.integers(0, 5),
    )
    def delta(self, bids: Any, asks: Any, kind: Any, span: Any) -> None:
        last_id = self.model.last
        first = {
            "next": last_id + 1,
            "straddle": max(last_id - span, 0),
            "stale": max(last_id - span - 1, 0),
            "gap": last_id + 2 + span,
            "reversed": last_id + 3 + span,
        }[kind]
        last = {"stale": max(last_id - 1, first), "reversed": first - 2}.get(kind, first + span)
        if kind == "stale" and last > last_id:
            last = last_id
        first = min(first, 2**64 - 1)
        last = max(min(last, 2**64 - 1), 0)
        want = self.model.delta(bids, asks, first, last)
        assert self.book.apply(bids, asks, first, last) == want, (kind, first, last)

    @invariant()
    def agree(self) -> None:
        if not hasattr(self, "book"):
            return
        assert self.book.state == self.model.phase
        assert self.book.in_sync == (self.model.phase == "synced")
        if self.model.state == "empty":
            return
        assert self.book.sequence == self.model.last
        bids, asks = self.book.depth()
        assert [(Decimal(p), Decimal(s)) for p, s in bids] == sorted(
            self.model.bids.items(), reverse=True
        )
        assert [(Decimal(p), Decimal(s)) for p, s in asks] == sorted(self.model.asks.items())


TestBookAgainstModel = BookMachine.TestCase
