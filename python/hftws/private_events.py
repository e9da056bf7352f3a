"""Typed private events common to MEXC, Gate.io, KuCoin and Binance: orders, fills, balances,
positions.

Each event is an immutable dataclass with the fields both exchanges share, as exact
``decimal.Decimal`` values built from the exchange's own text (the ``*_str`` accessors, already
validated by the Rust decoders; never through a float), plus ``raw``: the exchange's own event
(``hftws.mexc.MexcOrder``, ``hftws.gateio.GateOrder``...), so every exchange-specific field
stays reachable.

Common vocabularies: ``side`` is ``"buy"``/``"sell"`` (positions ``"long"``/``"short"``), order
``status`` is one of :data:`ORDER_STATUSES`. The builders below follow ``mexc.md`` §4.3 and
``gateio.md`` §5.2-5.4, §6.5, ``kucoin.md`` §5, §7.3 and ``binance.md`` §6.3, §8.6.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from hftws._core import DecodeError

__all__ = [
    "ORDER_STATUSES",
    "BalanceUpdate",
    "Execution",
    "OrderUpdate",
    "PositionUpdate",
    "from_binance",
    "from_gate",
    "from_kucoin",
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


def _d(text: str | None) -> Decimal | None:
    """Exact decimal of a wire string; absent or empty (proto3 default) -> None."""
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise DecodeError(f"invalid decimal {text[:40]!r}") from None


def _s(value: Any) -> str | None:
    """Ids arrive as str or int; empty means absent."""
    if value is None or value == "":
        return None
    return str(value)


def _ms(text: str | None) -> int | None:
    """Milliseconds from a wire string that may carry a fraction (``"1700000000123.456"``)."""
    if not text:
        return None
    try:
        return int(text.partition(".")[0])
    except ValueError:
        return None


def _side_of(size: Decimal | None, positive: str, negative: str) -> str | None:
    if size is None or not size:
        return None
    return positive if size > 0 else negative


# -- Binance (JSON user data: spot WebSocket API §6.3, USDⓈ-M listenKey stream §8.6) -------------

_BINANCE_STATUS = {
    "NEW": "new",
    "PENDING_NEW": "new",
    "PARTIALLY_FILLED": "partially_filled",
    "FILLED": "filled",
    "CANCELED": "cancelled",
    "PENDING_CANCEL": "cancelled",
    "REJECTED": "cancelled",
    "EXPIRED": "cancelled",
    "EXPIRED_IN_MATCH": "cancelled",
}
#: listStatus ``L`` (list order status): the list as a whole; ALL_DONE does not say whether a
#: leg filled, so it stays "unknown" (the legs' own executionReports say it).
_BINANCE_LIST_STATUS = {"EXECUTING": "new", "REJECT": "cancelled"}
_BINANCE_TIF_TYPE = {"IOC": "ioc", "FOK": "fok", "GTX": "post_only"}
_BINANCE_STOP = ("STOP", "TAKE_PROFIT", "TRAILING_STOP")


def _b(value: Any) -> Decimal | None:
    """Exact decimal of a Binance decimal string (JSON numbers arrive as Decimal or int)."""
    # Strings first: they are what Binance sends for every price and quantity.
    if type(value) is str:
        if not value:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            raise DecodeError(f"invalid decimal {value[:40]!r}") from None
    if value is None:
        return None
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    raise DecodeError(f"binance: not a decimal: {type(value).__name__}")


def _bstr(value: Any) -> str | None:
    """A symbol or asset name: a string or absent, nothing else."""
    if value is None or type(value) is str:
        return value
    raise DecodeError(f"binance: expected a string, got {type(value).__name__}")


def _bint(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _binance_order_type(order_type: Any, tif: Any) -> str | None:
    if not isinstance(order_type, str):
        return None
    if order_type == "LIMIT":
        return _BINANCE_TIF_TYPE.get(str(tif), "limit")
    if order_type == "LIMIT_MAKER":
        return "post_only"
    if order_type.startswith(_BINANCE_STOP):
        return "stop"
    return order_type.lower()


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _binance_order(
    exchange: str, o: dict[str, Any], client_id: Any, time_ms: int | None, raw: Any
) -> OrderUpdate:
    quantity, filled = _b(o.get("q")), _b(o.get("z"))
    remaining = None
    if quantity is not None and filled is not None and quantity:
        remaining = quantity - filled
    avg = _b(o.get("ap"))  # futures: the average price
    if avg is None or not avg:
        quote = _b(o.get("Z"))  # spot: cumulative quote quantity / cumulative quantity
        avg = quote / filled if quote is not None and filled else None
    return OrderUpdate(
        exchange,
        _bstr(o.get("s")),
        str(o.get("i")),
        _s(client_id),
        _lower(o.get("S")),
        _binance_order_type(o.get("o"), o.get("f")),
        _BINANCE_STATUS.get(str(o.get("X")), "unknown"),
        _b(o.get("p")),
        quantity,
        filled,
        remaining,
        avg,
        time_ms,
        raw,
    )


def _binance_fill(exchange: str, o: dict[str, Any], time_ms: int | None, raw: Any) -> Execution:
    maker = o.get("m")
    return Execution(
        exchange,
        _bstr(o.get("s")),
        str(o.get("t")),
        str(o.get("i")),
        _s(o.get("c")),
        _lower(o.get("S")),
        _b(o.get("L")),
        _b(o.get("l")),
        _b(o.get("n")),
        _s(o.get("N")),
        maker if isinstance(maker, bool) else None,
        time_ms,
        raw,
    )


def _binance_execution_report(e: Any) -> tuple[PrivateEvent, ...]:
    d = e.data
    time_ms = _bint(d.get("T")) or e.event_time_ms
    # A cancel carries the cancel request's id in `c` and the order's own in `C`.
    client_id = d.get("C") or d.get("c")
    order = _binance_order("binance", d, client_id, time_ms, e)
    if d.get("x") == "TRADE":
        return order, _binance_fill("binance", d, time_ms, e)
    return (order,)


def _binance_list_status(e: Any) -> tuple[PrivateEvent, ...]:
    d = e.data
    update = OrderUpdate(
        "binance",
        _bstr(d.get("s")),
        f"list:{d.get('g')}",
        _s(d.get("C") or d.get("c")),
        None,
        _lower(d.get("c")),
        _BINANCE_LIST_STATUS.get(str(d.get("L")), "unknown"),
        None,
        None,
        None,
        None,
        None,
        _bint(d.get("T")) or e.event_time_ms,
        e,
    )
    return (update,)


def _binance_account_position(e: Any) -> tuple[PrivateEvent, ...]:
    out: list[PrivateEvent] = []
    for entry in e.data.get("B") or ():
        free, locked = _b(entry.get("f")), _b(entry.get("l"))
        total = None if free is None or locked is None else free + locked
        out.append(
            BalanceUpdate(
                "binance",
                _bstr(entry.get("a")),
                free,
                locked,
                total,
                None,
                "account_position",
                e.event_time_ms,
                e,
            )
        )
    return tuple(out)


def _binance_balance_delta(e: Any) -> tuple[PrivateEvent, ...]:
    d = e.data
    change_type = "balance_update" if e.event_type == "balanceUpdate" else "external_lock"
    time_ms = _bint(d.get("T")) or e.event_time_ms
    return (
        BalanceUpdate(
            "binance", _bstr(d.get("a")), None, None, None, _b(d.get("d")), change_type, time_ms, e
        ),
    )


def _binance_futures_order(e: Any) -> tuple[PrivateEvent, ...]:
    o = e.data.get("o")
    if not isinstance(o, dict):
        raise DecodeError("binance: ORDER_TRADE_UPDATE without 'o'")
    time_ms = _bint(o.get("T")) or _bint(e.data.get("T")) or e.event_time_ms
    order = _binance_order("binance_futures", o, o.get("c"), time_ms, e)
    if o.get("x") in ("TRADE", "CALCULATED") and _b(o.get("l")):
        return order, _binance_fill("binance_futures", o, time_ms, e)
    return (order,)


def _binance_trade_lite(e: Any) -> tuple[PrivateEvent, ...]:
    d = e.data
    return (_binance_fill("binance_futures", d, _bint(d.get("T")) or e.event_time_ms, e),)


def _binance_account_update(e: Any) -> tuple[PrivateEvent, ...]:
    a = e.data.get("a")
    if not isinstance(a, dict):
        raise DecodeError("binance: ACCOUNT_UPDATE without 'a'")
    time_ms = _bint(e.data.get("T")) or e.event_time_ms
    reason = _lower(a.get("m"))
    out: list[PrivateEvent] = []
    for entry in a.get("B") or ():
        # `wb` is the wallet balance; `cw` (cross wallet) is not what can be spent, so
        # `available` stays None, as on Gate futures (`raw.data` keeps `cw`).
        out.append(
            BalanceUpdate(
                "binance_futures",
                _bstr(entry.get("a")),
                None,
                None,
                _b(entry.get("wb")),
                _b(entry.get("bc")),
                reason,
                time_ms,
                e,
            )
        )
    for p in a.get("P") or ():
        size = _b(p.get("pa"))
        hedge = p.get("ps")
        side = _lower(hedge) if hedge in ("LONG", "SHORT") else _side_of(size, "long", "short")
        isolated = p.get("mt") == "isolated"
        out.append(
            PositionUpdate(
                "binance_futures",
                _bstr(p.get("s")),
                size,
                side,
                _b(p.get("ep")),
                None,
                None,
                _b(p.get("iw")) if isolated else None,
                _b(p.get("cr")),
                _lower(p.get("mt")),
                time_ms,
                e,
            )
        )
    return tuple(out)


_BINANCE: dict[str, Callable[[Any], tuple[PrivateEvent, ...]]] = {
    "executionReport": _binance_execution_report,
    "listStatus": _binance_list_status,
    "outboundAccountPosition": _binance_account_position,
    "balanceUpdate": _binance_balance_delta,
    "externalLockUpdate": _binance_balance_delta,
    "ORDER_TRADE_UPDATE": _binance_futures_order,
    "TRADE_LITE": _binance_trade_lite,
    "ACCOUNT_UPDATE": _binance_account_update,
}


def from_binance(event: Any) -> tuple[PrivateEvent, ...]:
    """The common events of one Binance user-data record
    (:class:`hftws.binance_user_data.BinanceUserEvent`): an executionReport of a trade is an
    order update and a fill, an ACCOUNT_UPDATE one balance per asset and one position per
    symbol; other event types give none. Each keeps the record as ``raw``."""
    build = _BINANCE.get(getattr(event, "event_type", ""))
    if build is None:
        return ()
    try:
        return build(event)
    except (AttributeError, TypeError, KeyError) as exc:
        # A field of the wrong JSON type (a list where an object was due...).
        raise DecodeError(f"binance: malformed {event.event_type}: {type(exc).__name__}") from None


# -- MEXC (protobuf bodies 304/306/307) ---------------------------------------------------------


def _mexc_order(e: Any) -> OrderUpdate:
    return OrderUpdate(
        "mexc",
        e.symbol,
        e.id,
        e.client_id or None,
        e.side,
        _MEXC_ORDER_TYPE.get(e.order_type),
        _MEXC_STATUS.get(e.status, "unknown"),
        _d(e.price_str),
        _d(e.quantity_str),
        _d(e.cumulative_quantity_str),
        _d(e.remain_quantity_str),
        _d(e.avg_price_str),
        e.order_create_time or e.send_time,
        e,
    )


def _mexc_deal(e: Any) -> Execution:
    return Execution(
        "mexc",
        e.symbol,
        e.trade_id,
        e.order_id,
        e.client_order_id or None,
        e.side,
        _d(e.price_str),
        _d(e.quantity_str),
        _d(e.fee_amount_str),
        e.fee_currency or None,
        e.is_maker,
        e.time or e.send_time,
        e,
    )


def _mexc_account(e: Any) -> BalanceUpdate:
    available, frozen = _d(e.balance_amount_str), _d(e.frozen_amount_str)
    total = None if available is None or frozen is None else available + frozen
    return BalanceUpdate(
        "mexc",
        e.asset or None,
        available,
        frozen,
        total,
        _d(e.balance_amount_change_str),
        e.change_type or None,
        e.time or e.send_time,
        e,
    )


_MEXC: dict[str, Callable[[Any], PrivateEvent]] = {
    "order": _mexc_order,
    "deal": _mexc_deal,
    "account": _mexc_account,
}


def from_mexc(event: Any) -> PrivateEvent | None:
    """The common event for a decoded MEXC private push (``None`` for other kinds)."""
    build = _MEXC.get(event.kind)
    return None if build is None else build(event)


# -- Gate.io (JSON records of spot.* and futures.* private channels) ----------------------------


def _gate_order_status(e: Any, futures: bool, filled: Decimal | None) -> str:
    if e.status == "finished" if futures else e.order_event == "finish":
        if e.finish_as == "filled":
            return "filled"
        if not futures and _d(e.left_str) == _ZERO:
            return "filled"  # ccxt's rule for spot: finished with nothing left
        return "cancelled"
    if filled:
        return "partially_filled"
    return "new"


def _gate_order(e: Any) -> OrderUpdate:
    futures = e.market == "futures"
    left = _d(e.left_str)
    price = _d(e.price_str)
    if futures:
        size = _d(e.size_str)
        side = _side_of(size, "buy", "sell")
        quantity = None if size is None else abs(size)
        remaining = None if left is None else abs(left)
        filled = None if quantity is None or remaining is None else quantity - remaining
        avg = _d(e.fill_price_str)
        order_type = "market" if price == _ZERO else "limit"
        tif = e.tif
        time_ms = _ms(e.update_time_str) or _ms(e.create_time_ms_str)
    else:
        side, quantity, remaining = e.side, _d(e.amount_str), left
        filled = _d(e.filled_amount_str)
        if filled is None and quantity is not None and left is not None:
            filled = quantity - left
        avg = _d(e.avg_deal_price_str)
        order_type = e.type_
        tif = e.time_in_force
        time_ms = _ms(e.update_time_ms_str) or _ms(e.create_time_ms_str)
    if order_type == "limit" and tif in ("ioc", "fok", "poc"):
        order_type = "post_only" if tif == "poc" else tif
    return OrderUpdate(
        "gateio_futures" if futures else "gateio",
        e.symbol,
        str(e.id),
        _s(e.text),
        side,
        order_type,
        _gate_order_status(e, futures, filled),
        price,
        quantity,
        filled,
        remaining,
        avg,
        time_ms or e.time_ms,
        e,
    )


def _gate_user_trade(e: Any) -> Execution:
    futures = e.market == "futures"
    if futures:
        size = _d(e.size_str)
        side = _side_of(size, "buy", "sell")
        quantity = None if size is None else abs(size)
    else:
        side, quantity = e.side, _d(e.amount_str)
    role = e.role
    return Execution(
        "gateio_futures" if futures else "gateio",
        e.symbol,
        str(e.id),
        str(e.order_id),
        _s(e.text),
        side,
        _d(e.price_str),
        quantity,
        _d(e.fee_str),
        e.fee_currency,
        None if role is None else role == "maker",
        _ms(e.create_time_ms_str) or e.time_ms,
        e,
    )


def _gate_balance(e: Any) -> BalanceUpdate:
    if e.market == "futures":
        return BalanceUpdate(
            "gateio_futures",
            e.currency,
            None,
            None,
            _d(e.balance_str),
            _d(e.change_str),
            e.type_,
            e.record_time_ms or e.time_ms,
            e,
        )
    return BalanceUpdate(
        "gateio",
        e.currency,
        _d(e.available_str),
        _d(e.freeze_str),
        _d(e.total_str),
        _d(e.change_str),
        e.change_type,
        _ms(e.timestamp_ms_str) or e.time_ms,
        e,
    )


def _gate_position(e: Any) -> PositionUpdate:
    size = _d(e.size_str)
    return PositionUpdate(
        "gateio_futures",
        e.symbol,
        size,
        _side_of(size, "long", "short"),
        _d(e.entry_price_str),
        _d(e.leverage_str),
        _d(e.liq_price_str),
        _d(e.margin_str),
        _d(e.realised_pnl_str),
        e.mode,
        e.record_time_ms or e.time_ms,
        e,
    )


_GATE: dict[str, Callable[[Any], PrivateEvent]] = {
    "order": _gate_order,
    "user_trade": _gate_user_trade,
    "balance": _gate_balance,
    "position": _gate_position,
}


def from_gate(event: Any) -> PrivateEvent | None:
    """The common event for one parsed Gate.io private record (``None`` for other kinds)."""
    build = _GATE.get(event.kind)
    return None if build is None else build(event)


# -- KuCoin (JSON ``data`` of the private topics, numbers already exact Decimals) ---------------


def _kt(value: Any) -> str | None:
    """A KuCoin text field (ids may come as integers); absent or empty -> None; anything else
    (an object, a list, a boolean) is a decode error, not a crash later."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DecodeError(f"kucoin: expected text, got {type(value).__name__}")


def _kd(value: Any) -> Decimal | None:
    """Exact decimal of a KuCoin field: a string (spot, futures orders) or a JSON number read
    as ``Decimal``/``int`` (futures positions); absent or empty -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return _d(value)
    raise DecodeError(f"invalid decimal {str(value)[:40]!r}")


def _kucoin_ms(value: Any) -> int | None:
    """Milliseconds from a KuCoin time in ms, us or ns (int or string): the unit is read from
    the magnitude, as ``orderTime`` is ms in the 2025 spec and ns in older captures."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        t = int(value)
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        return None
    if t >= 10**17:
        return t // 1_000_000
    if t >= 10**14:
        return t // 1_000
    return t


def _kucoin_exchange(record: Any) -> str:
    return "kucoin_futures" if record.market == "futures" else "kucoin"


def _kucoin_order_status(d: dict[str, Any], filled: Decimal | None) -> str:
    """``kucoin.md`` §5.2: ``filled``/``canceled`` are final, ``match`` is a fill, the others
    (``received``, ``open``, ``update``) keep the order live."""
    kind = _kt(d.get("type"))
    if kind == "filled":
        return "filled"
    if kind == "canceled":
        return "cancelled"
    if kind == "match":
        remaining = _kd(d.get("remainSize"))
        return "filled" if remaining is not None and not remaining else "partially_filled"
    if kind in ("received", "open", "update"):
        return "partially_filled" if filled else "new"
    return "unknown"


def _kucoin_order(record: Any) -> OrderUpdate:
    d = record.data
    filled = _kd(d.get("filledSize"))
    size = _kd(d.get("size"))
    return OrderUpdate(
        _kucoin_exchange(record),
        _kt(d.get("symbol")) or record.symbol,
        _kt(d.get("orderId")) or "",
        _kt(d.get("clientOid")),
        _kt(d.get("side")),
        _kt(d.get("orderType")),
        _kucoin_order_status(d, filled),
        _kd(d.get("price")),
        size if size is not None else _kd(d.get("originSize")),
        filled,
        _kd(d.get("remainSize")),
        None,
        _kucoin_ms(d.get("ts")) or _kucoin_ms(d.get("orderTime")),
        record,
    )


def _kucoin_fill(record: Any) -> Execution:
    d = record.data
    fee_type = _kt(d.get("feeType"))
    liquidity = _kt(d.get("liquidity"))
    # The docs: ``liquidity`` may say taker for a maker that hit a hidden order; the fee type
    # says what was charged, so it wins when present.
    if fee_type in ("makerFee", "takerFee"):
        is_maker: bool | None = fee_type == "makerFee"
    else:
        is_maker = None if liquidity is None else liquidity == "maker"
    return Execution(
        _kucoin_exchange(record),
        _kt(d.get("symbol")) or record.symbol,
        _kt(d.get("tradeId")) or "",
        _kt(d.get("orderId")) or "",
        _kt(d.get("clientOid")),
        _kt(d.get("side")),
        _kd(d.get("matchPrice")),
        _kd(d.get("matchSize")),
        None,
        None,
        is_maker,
        _kucoin_ms(d.get("ts")),
        record,
    )


def _kucoin_balance(record: Any) -> BalanceUpdate:
    d = record.data
    return BalanceUpdate(
        "kucoin",
        _kt(d.get("currency")),
        _kd(d.get("available")),
        _kd(d.get("hold")),
        _kd(d.get("total")),
        _kd(d.get("availableChange")),
        _kt(d.get("relationEvent")),
        _kucoin_ms(d.get("time")),
        record,
    )


def _kucoin_wallet(record: Any) -> BalanceUpdate:
    d = record.data
    return BalanceUpdate(
        "kucoin_futures",
        _kt(d.get("currency")),
        _kd(d.get("availableBalance")),
        _kd(d.get("holdBalance")),
        _kd(d.get("walletBalance")),
        None,
        record.subject,
        _kucoin_ms(d.get("timestamp")),
        record,
    )


def _kucoin_position(record: Any) -> PositionUpdate:
    d = record.data
    size = _kd(d.get("currentQty"))
    side = {"LONG": "long", "SHORT": "short"}.get((_kt(d.get("positionSide")) or "").upper())
    leverage = _kd(d.get("leverage"))
    return PositionUpdate(
        "kucoin_futures",
        _kt(d.get("symbol")) or record.symbol,
        size,
        side or _side_of(size, "long", "short"),
        _kd(d.get("avgEntryPrice")),
        leverage if leverage is not None else _kd(d.get("realLeverage")),
        _kd(d.get("liquidationPrice")),
        _kd(d.get("posMargin")),
        _kd(d.get("realisedPnl")),
        _kt(d.get("marginMode")),
        _kucoin_ms(d.get("currentTimestamp")) or _kucoin_ms(d.get("timestamp")),
        record,
    )


def from_kucoin(record: Any) -> tuple[PrivateEvent, ...]:
    """The common events of one KuCoin private push (``kind`` ``order``, ``balance``,
    ``wallet``, ``position``): an order ``match`` gives its ``OrderUpdate`` and the
    ``Execution`` of the fill (KuCoin has no separate fill topic, ``kucoin.md`` §5.1); other
    pushes (stop orders, position settlements...) give nothing and stay readable raw."""
    kind = record.kind
    if not isinstance(record.data, dict):
        return ()
    if kind == "order":
        order = _kucoin_order(record)
        if _kt(record.data.get("type")) == "match":
            return (order, _kucoin_fill(record))
        return (order,)
    if kind == "balance":
        return (_kucoin_balance(record),)
    if kind == "wallet":
        return (_kucoin_wallet(record),)
    if kind == "position" and record.subject == "position.change":
        return (_kucoin_position(record),)
    return ()
