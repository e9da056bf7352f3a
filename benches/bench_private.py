"""Private streams: one pushed order/fill to a typed event with exact decimals, per message.

What a private-stream consumer pays per update, measured through the whole handler (detect,
decode in Rust, build the common ``OrderUpdate``/``Execution`` dataclass with ``Decimal``
fields, call the callback) against Python pipelines producing the same event:

- Gate.io ``spot.orders`` / ``spot.usertrades`` frames (one record each): hftws
  ``GateioSpotPrivateMessageHandler`` vs ``json.loads`` + ``Decimal(str)`` fields vs ``msgspec``
  typed structs + ``Decimal``;
- MEXC ``PrivateOrdersV3Api`` / ``PrivateDealsV3Api`` pushes: hftws
  ``MexcPrivateMessageHandler`` vs Google protobuf (upb) ``ParseFromString`` + ``Decimal``.

Also the per-request signing cost (Gate HMAC-SHA512 channel auth, MEXC signed query).

Run: ``.venv/bin/python benches/bench_private.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec

from _harness import measure, save, table
from hftws import gateio, mexc
from hftws.exchanges.gateio_private import GateioSpotPrivateMessageHandler
from hftws.exchanges.mexc_private import MexcPrivateMessageHandler
from hftws.private_events import Execution, OrderUpdate, from_gate, from_mexc
from hftws.signing import mexc_signed_query
from hftws.testing import mexc_proto

STATUS = {1: "new", 2: "filled", 3: "partially_filled", 4: "cancelled", 5: "cancelled"}


def _dec(value: str | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def gate_frames(n: int, rng: random.Random) -> tuple[list[bytes], list[bytes]]:
    orders, trades = [], []
    for i in range(n):
        price = f"{63000 + rng.randint(0, 5000) / 10:.1f}"
        amount = f"{rng.randint(1, 10**6) / 10**5:.5f}"
        order = {
            "id": str(10**9 + i), "user": 10001, "text": f"t-{i}", "create_time": "1700000000",
            "create_time_ms": "1700000000123", "update_time": "1700000000",
            "update_time_ms": "1700000000456", "event": "update", "currency_pair": "BTC_USDT",
            "type": "limit", "account": "spot", "side": "buy", "amount": amount, "price": price,
            "time_in_force": "gtc", "left": "0.00001", "filled_total": "1.5",
            "filled_amount": "0.00002", "avg_deal_price": price, "fee": "0.0000001",
            "fee_currency": "BTC", "point_fee": "0", "gt_fee": "0", "gt_discount": False,
            "rebated_fee": "0", "rebated_fee_currency": "USDT", "finish_as": "open",
        }  # fmt: skip
        trade = {
            "id": 5_000_000 + i, "user_id": 10001, "order_id": str(10**9 + i),
            "currency_pair": "BTC_USDT", "create_time": 1700000000,
            "create_time_ms": "1700000000123.456", "side": "buy", "amount": amount,
            "role": "maker", "price": price, "fee": "0.0000001", "fee_currency": "BTC",
            "point_fee": "0", "gt_fee": "0", "text": f"t-{i}", "id_market": i,
        }  # fmt: skip
        for out, channel, rec in (
            (orders, "spot.orders", order),
            (trades, "spot.usertrades", trade),
        ):
            env = {"time": 1700000000, "time_ms": 1700000000999, "channel": channel,
                   "event": "update", "result": [rec]}  # fmt: skip
            out.append(json.dumps(env, separators=(",", ":")).encode())
    return orders, trades


def mexc_frames(n: int, rng: random.Random) -> tuple[list[bytes], list[bytes]]:
    pb = mexc_proto.load()
    orders, deals = [], []
    for i in range(n):
        price = f"{117000 + rng.randint(0, 5000) / 100:.2f}"
        qty = f"{rng.randint(1, 10**6) / 10**6:.6f}"
        w = pb.PushDataV3ApiWrapper(channel="spot@private.orders.v3.api.pb", symbol="BTCUSDT",
                                    sendTime=1700000000999)  # fmt: skip
        o = w.privateOrders
        o.id, o.clientId, o.price, o.quantity, o.amount = f"C02__{i}", f"c-{i}", price, qty, "1"
        o.avgPrice, o.orderType, o.tradeType, o.remainQuantity = price, 1, 1, "0.000001"
        o.cumulativeQuantity, o.cumulativeAmount, o.status = qty, "1", 3
        o.createTime = 1700000000123
        orders.append(w.SerializeToString())
        w = pb.PushDataV3ApiWrapper(channel="spot@private.deals.v3.api.pb", symbol="BTCUSDT",
                                    sendTime=1700000000999)  # fmt: skip
        d = w.privateDeals
        d.price, d.quantity, d.amount, d.tradeType, d.isMaker = price, qty, "1", 2, True
        d.tradeId, d.orderId, d.clientOrderId = f"T{i}", f"C02__{i}", f"c-{i}"
        d.feeAmount, d.feeCurrency, d.time = "0.0001", "USDT", 1700000000123
        deals.append(w.SerializeToString())
    return orders, deals


def hftws_case(handler, frames):
    out: list = []
    handler.on_order(out.append)
    handler.on_execution(out.append)
    handle = handler._handle_message

    def run() -> int:
        out.clear()
        for f in frames:
            handle(f)
        assert len(out) == len(frames)
        return len(frames)

    return run


def json_gate_order(raw: bytes) -> OrderUpdate:
    r = json.loads(raw)["result"][0]
    return OrderUpdate("gateio", r["currency_pair"], r["id"], r["text"] or None, r["side"],
                       r["type"], "partially_filled", _dec(r["price"]), _dec(r["amount"]),
                       _dec(r.get("filled_amount")), _dec(r["left"]),
                       _dec(r.get("avg_deal_price")), int(r["update_time_ms"]), r)  # fmt: skip


def json_gate_trade(raw: bytes) -> Execution:
    r = json.loads(raw)["result"][0]
    return Execution("gateio", r["currency_pair"], str(r["id"]), r["order_id"], r["text"] or None,
                     r["side"], _dec(r["price"]), _dec(r["amount"]), _dec(r["fee"]),
                     r["fee_currency"], r["role"] == "maker",
                     int(float(r["create_time_ms"])), r)  # fmt: skip


class GOrder(msgspec.Struct):
    id: str
    text: str
    currency_pair: str
    side: str
    type: str
    amount: str
    price: str
    left: str
    update_time_ms: str
    filled_amount: str | None = None
    avg_deal_price: str | None = None


class GTrade(msgspec.Struct):
    id: int
    order_id: str
    currency_pair: str
    side: str
    amount: str
    price: str
    fee: str
    fee_currency: str
    role: str
    text: str
    create_time_ms: str


class GOrders(msgspec.Struct):
    result: list[GOrder]


class GTrades(msgspec.Struct):
    result: list[GTrade]


_orders_dec = msgspec.json.Decoder(GOrders)
_trades_dec = msgspec.json.Decoder(GTrades)


def msgspec_gate_order(raw: bytes) -> OrderUpdate:
    r = _orders_dec.decode(raw).result[0]
    return OrderUpdate("gateio", r.currency_pair, r.id, r.text or None, r.side, r.type,
                       "partially_filled", Decimal(r.price), Decimal(r.amount),
                       _dec(r.filled_amount), Decimal(r.left), _dec(r.avg_deal_price),
                       int(r.update_time_ms), r)  # fmt: skip


def msgspec_gate_trade(raw: bytes) -> Execution:
    r = _trades_dec.decode(raw).result[0]
    return Execution("gateio", r.currency_pair, str(r.id), r.order_id, r.text or None, r.side,
                     Decimal(r.price), Decimal(r.amount), Decimal(r.fee), r.fee_currency,
                     r.role == "maker", int(float(r.create_time_ms)), r)  # fmt: skip


def pb_mexc(wrapper_cls):
    def order(raw: bytes) -> OrderUpdate:
        w = wrapper_cls()
        w.ParseFromString(raw)
        o = w.privateOrders
        return OrderUpdate("mexc", w.symbol, o.id, o.clientId or None,
                           "buy" if o.tradeType == 1 else "sell", "limit", STATUS[o.status],
                           _dec(o.price), _dec(o.quantity), _dec(o.cumulativeQuantity),
                           _dec(o.remainQuantity), _dec(o.avgPrice), o.createTime, w)  # fmt: skip

    def deal(raw: bytes) -> Execution:
        w = wrapper_cls()
        w.ParseFromString(raw)
        d = w.privateDeals
        return Execution("mexc", w.symbol, d.tradeId, d.orderId, d.clientOrderId or None,
                         "buy" if d.tradeType == 1 else "sell", _dec(d.price), _dec(d.quantity),
                         _dec(d.feeAmount), d.feeCurrency, d.isMaker, d.time, w)  # fmt: skip

    return order, deal


def loop(fn, frames):
    def run() -> int:
        for f in frames:
            fn(f)
        return len(frames)

    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, repeat = (2_000, 3) if args.quick else (20_000, 7)
    rng = random.Random(11)
    g_orders, g_trades = gate_frames(n, rng)
    m_orders, m_deals = mexc_frames(n, rng)
    # Same answers from every pipeline before timing anything.
    ours: list = []
    h = GateioSpotPrivateMessageHandler()
    h.on_order(ours.append)
    h._handle_message(g_orders[0])
    assert (
        ours[0].price == json_gate_order(g_orders[0]).price == msgspec_gate_order(g_orders[0]).price
    )
    order_pb, deal_pb = pb_mexc(mexc_proto.load().PushDataV3ApiWrapper)
    hm = MexcPrivateMessageHandler()
    hm.on_order(ours.append)
    hm._handle_message(m_orders[0])
    assert ours[1].quantity == order_pb(m_orders[0]).quantity

    results = {}
    cases = {
        "gate orders": (
            {
                "hftws handler -> OrderUpdate": hftws_case(
                    GateioSpotPrivateMessageHandler(), g_orders
                ),
                "hftws parse + from_gate (no handler)": loop(
                    lambda f: from_gate(gateio.parse(f)[0]), g_orders
                ),
                "json.loads + Decimal": loop(json_gate_order, g_orders),
                "msgspec struct + Decimal": loop(msgspec_gate_order, g_orders),
            },
            "json.loads + Decimal",
        ),
        "gate usertrades": (
            {
                "hftws handler -> Execution": hftws_case(
                    GateioSpotPrivateMessageHandler(), g_trades
                ),
                "hftws parse + from_gate (no handler)": loop(
                    lambda f: from_gate(gateio.parse(f)[0]), g_trades
                ),
                "json.loads + Decimal": loop(json_gate_trade, g_trades),
                "msgspec struct + Decimal": loop(msgspec_gate_trade, g_trades),
            },
            "json.loads + Decimal",
        ),
        "mexc orders (304)": (
            {
                "hftws handler -> OrderUpdate": hftws_case(MexcPrivateMessageHandler(), m_orders),
                "hftws decode + from_mexc (no handler)": loop(
                    lambda f: from_mexc(mexc.decode(f)), m_orders
                ),
                "protobuf (upb) + Decimal": loop(order_pb, m_orders),
            },
            "protobuf (upb) + Decimal",
        ),
        "mexc deals (306)": (
            {
                "hftws handler -> Execution": hftws_case(MexcPrivateMessageHandler(), m_deals),
                "hftws decode + from_mexc (no handler)": loop(
                    lambda f: from_mexc(mexc.decode(f)), m_deals
                ),
                "protobuf (upb) + Decimal": loop(deal_pb, m_deals),
            },
            "protobuf (upb) + Decimal",
        ),
    }
    for title, (group, base) in cases.items():
        timings = measure(group, repeat=repeat)
        results[title] = timings
        print(table(f"{title}: one push to a typed event ({n:,} msgs)", timings, base))

    k = n // 4
    sign = measure(
        {
            "gate sign_channel (HMAC-SHA512)": loop(
                lambda t: gateio.sign_channel("s" * 32, "spot.orders", "subscribe", t), range(k)
            ),
            "mexc signed query (HMAC-SHA256)": loop(
                lambda t: mexc_signed_query("s" * 32, [("listenKey", "k" * 64)], t), range(k)
            ),
        },
        repeat=repeat,
    )
    results["signing"] = sign
    print(table("request signing (per request)", sign))
    save("private", {"n": n, **{k2: v for k2, v in results.items()}})


if __name__ == "__main__":
    main()
