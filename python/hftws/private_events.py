"""Typed private events common to MEXC and Gate.io: orders, fills, balances, positions.

Each event is an immutable dataclass with the fields both exchanges share, as exact
``decimal.Decimal`` values taken from the Rust decoders' ``*_decimal`` accessors (never through a
float), plus ``raw``: the exchange's own event (``hftws.mexc.MexcOrder``,
``hftws.gateio.GateOrder``...), so every exchange-specific field stays reachable.

Common vocabularies: ``side`` is ``"buy"``/``"sell"`` (positions ``"long"``/``"short"``), order
``status`` is one of :data:`ORDER_STATUSES`. The builders below follow ``mexc.md`` §4.3 and
``gateio.md`` §5.2-5.4, §6.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "ORDER_STATUSES",
    "BalanceUpdate",
    "Execution",
    "OrderUpdate",
    "PositionUpdate",
    "from_gate",
    "from_mexc",
]

#: Order states common to both exchanges.
ORDER_STATUSES: Final = ("new", "partially_filled", "filled", "cancelled", "unknown")

_MEXC_STATUS = {1: "new", 2: "filled", 3: "partially_filled", 4: "cancelled", 5: "cancelled"}
_MEXC_ORDER_TYPE = {
    1: "limit",
    2: "post_only",
    3: "ioc",
    4: "fok",
    5: "market",
    100: "stop",
}
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A change of one of our orders."""

    exchange: str
    symbol: str | None
    order_id: str
    client_order_id: str | None
    side: str | None
    order_type: str | None
    status: str
    price: Decimal | None
    quantity: Decimal | None
    filled_quantity: Decimal | None
    remaining_quantity: Decimal | None
    avg_price: Decimal | None
    time_ms: int | None
    raw: Any


@dataclass(frozen=True, slots=True)
class Execution:
    """A fill of one of our orders."""

    exchange: str
    symbol: str | None
    trade_id: str
    order_id: str
    client_order_id: str | None
    side: str | None
    price: Decimal | None
    quantity: Decimal | None
    fee: Decimal | None
    fee_currency: str | None
    is_maker: bool | None
    time_ms: int | None
    raw: Any


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """A balance change of one asset (absolute values after the change, when given)."""

    exchange: str
    asset: str | None
    available: Decimal | None
    frozen: Decimal | None
    total: Decimal | None
    change: Decimal | None
    change_type: str | None
    time_ms: int | None
    raw: Any


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """A futures position after a change (``size`` signed: negative = short)."""

    exchange: str
    symbol: str | None
    size: Decimal | None
    side: str | None
    entry_price: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None
    margin: Decimal | None
    realised_pnl: Decimal | None
    mode: str | None
    time_ms: int | None
    raw: Any


PrivateEvent = OrderUpdate | Execution | BalanceUpdate | PositionUpdate


def _s(value: Any) -> str | None:
    """Ids arrive as str or int; empty means absent."""
    if value is None or value == "":
        return None
    return str(value)


def _ms(value: Decimal | float | int | None) -> int | None:
    return None if value is None else int(value)


# -- MEXC (protobuf bodies 304/306/307) ---------------------------------------------------------


def from_mexc(event: Any) -> PrivateEvent | None:
    """The common event for a decoded MEXC private push (``None`` for other kinds)."""
    kind = event.kind
    if kind == "order":
        return OrderUpdate(
            exchange="mexc",
            symbol=event.symbol,
            order_id=event.id,
            client_order_id=_s(event.client_id),
            side=event.side,
            order_type=_MEXC_ORDER_TYPE.get(event.order_type),
            status=_MEXC_STATUS.get(event.status, "unknown"),
            price=event.price_decimal,
            quantity=event.quantity_decimal,
            filled_quantity=event.cumulative_quantity_decimal,
            remaining_quantity=event.remain_quantity_decimal,
            avg_price=event.avg_price_decimal,
            time_ms=event.order_create_time or event.send_time,
            raw=event,
        )
    if kind == "deal":
        return Execution(
            exchange="mexc",
            symbol=event.symbol,
            trade_id=event.trade_id,
            order_id=event.order_id,
            client_order_id=_s(event.client_order_id),
            side=event.side,
            price=event.price_decimal,
            quantity=event.quantity_decimal,
            fee=event.fee_amount_decimal,
            fee_currency=_s(event.fee_currency),
            is_maker=event.is_maker,
            time_ms=event.time or event.send_time,
            raw=event,
        )
    if kind == "account":
        available, frozen = event.balance_amount_decimal, event.frozen_amount_decimal
        total = None if available is None or frozen is None else available + frozen
        return BalanceUpdate(
            exchange="mexc",
            asset=_s(event.asset),
            available=available,
            frozen=frozen,
            total=total,
            change=event.balance_amount_change_decimal,
            change_type=_s(event.change_type),
            time_ms=event.time or event.send_time,
            raw=event,
        )
    return None


# -- Gate.io (JSON records of spot.* and futures.* private channels) ----------------------------


def _gate_order_status(event: Any, futures: bool, filled: Decimal | None) -> str:
    finish_as = event.finish_as
    done = event.status == "finished" if futures else event.order_event == "finish"
    if done:
        if finish_as == "filled":
            return "filled"
        if not futures and event.left_decimal == _ZERO:
            return "filled"  # ccxt's rule for spot: finished with nothing left
        return "cancelled"
    if filled is not None and filled > _ZERO:
        return "partially_filled"
    return "new"


def _gate_order(event: Any) -> OrderUpdate:
    futures = event.market == "futures"
    left = event.left_decimal
    if futures:
        size = event.size_decimal
        side = None if size is None or size == _ZERO else ("buy" if size > _ZERO else "sell")
        quantity = None if size is None else abs(size)
        remaining = None if left is None else abs(left)
        filled = None if quantity is None or remaining is None else quantity - remaining
        price, avg = event.price_decimal, event.fill_price_decimal
        order_type = "market" if price == _ZERO else "limit"
        tif = event.tif
        time_ms = _ms(event.update_time_decimal) or _ms(event.create_time_ms_decimal)
    else:
        side, quantity, remaining = event.side, event.amount_decimal, left
        filled = event.filled_amount_decimal
        if filled is None and quantity is not None and left is not None:
            filled = quantity - left
        price, avg = event.price_decimal, event.avg_deal_price_decimal
        order_type = event.type_
        tif = event.time_in_force
        time_ms = _ms(event.update_time_ms_decimal) or _ms(event.create_time_ms_decimal)
    if tif in ("ioc", "fok", "poc") and order_type == "limit":
        order_type = "post_only" if tif == "poc" else tif
    return OrderUpdate(
        exchange="gateio_futures" if futures else "gateio",
        symbol=event.symbol,
        order_id=str(event.id),
        client_order_id=_s(event.text),
        side=side,
        order_type=order_type,
        status=_gate_order_status(event, futures, filled),
        price=price,
        quantity=quantity,
        filled_quantity=filled,
        remaining_quantity=remaining,
        avg_price=avg,
        time_ms=time_ms or event.time_ms,
        raw=event,
    )


def _gate_user_trade(event: Any) -> Execution:
    futures = event.market == "futures"
    if futures:
        size = event.size_decimal
        side = None if size is None or size == _ZERO else ("buy" if size > _ZERO else "sell")
        quantity = None if size is None else abs(size)
    else:
        side, quantity = event.side, event.amount_decimal
    role = event.role
    return Execution(
        exchange="gateio_futures" if futures else "gateio",
        symbol=event.symbol,
        trade_id=str(event.id),
        order_id=str(event.order_id),
        client_order_id=_s(event.text),
        side=side,
        price=event.price_decimal,
        quantity=quantity,
        fee=event.fee_decimal,
        fee_currency=event.fee_currency,
        is_maker=None if role is None else role == "maker",
        time_ms=_ms(event.create_time_ms_decimal) or event.time_ms,
        raw=event,
    )


def _gate_balance(event: Any) -> BalanceUpdate:
    futures = event.market == "futures"
    total = event.balance_decimal if futures else event.total_decimal
    return BalanceUpdate(
        exchange="gateio_futures" if futures else "gateio",
        asset=event.currency,
        available=None if futures else event.available_decimal,
        frozen=None if futures else event.freeze_decimal,
        total=total,
        change=event.change_decimal,
        change_type=event.type_ if futures else event.change_type,
        time_ms=event.record_time_ms or _ms(event.timestamp_ms_decimal) or event.time_ms,
        raw=event,
    )


def _gate_position(event: Any) -> PositionUpdate:
    size = event.size_decimal
    side = None if size is None or size == _ZERO else ("long" if size > _ZERO else "short")
    return PositionUpdate(
        exchange="gateio_futures",
        symbol=event.symbol,
        size=size,
        side=side,
        entry_price=event.entry_price_decimal,
        leverage=event.leverage_decimal,
        liquidation_price=event.liq_price_decimal,
        margin=event.margin_decimal,
        realised_pnl=event.realised_pnl_decimal,
        mode=event.mode,
        time_ms=event.record_time_ms or event.time_ms,
        raw=event,
    )


_GATE = {
    "order": _gate_order,
    "user_trade": _gate_user_trade,
    "balance": _gate_balance,
    "position": _gate_position,
}


def from_gate(event: Any) -> PrivateEvent | None:
    """The common event for one parsed Gate.io private record (``None`` for other kinds)."""
    build = _GATE.get(event.kind)
    return None if build is None else build(event)
