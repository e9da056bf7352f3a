"""Smoke test of the public API from an installed wheel (run by .ci/wheel_check.sh).

Run from outside the source tree with the wheel's interpreter: every check must use the
installed package (the abi3 extension, the embedded local exchange) and nothing else.
"""

from __future__ import annotations

import asyncio
import sys
from importlib import metadata
from pathlib import Path

import hftws
from hftws import BookStatus, OrderBook, gateio, mexc
from hftws._core import __file__ as core_file
from hftws.testing.mexc_wire import encode


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"wheel smoke: {what}")


def main() -> None:
    site = Path(hftws.__file__).resolve().parent
    check("site-packages" in site.parts, f"hftws imported from {site}, not an installed wheel")
    check(core_file.endswith(".abi3.so"), f"extension is not abi3: {core_file}")
    check(hftws.__version__ == metadata.version("hftws"), "version differs from the metadata")
    check(
        (site.parent / f"hftws-{hftws.__version__}.dist-info/licenses/LICENSE").exists()
        or any(site.parent.glob("hftws-*.dist-info/licenses/LICENSE")),
        "no LICENSE in the wheel",
    )
    notices = site / "THIRD_PARTY_NOTICES.md"
    check(notices.is_file() and "rustls" in notices.read_text(), "no third-party notices")

    book = OrderBook("mexc", symbol="BTCUSDT")
    book.load_snapshot(bids=[("100.5", "1")], asks=[("100.6", "2")], sequence=10)
    check(book.apply([("100.5", "0")], [("100.7", "3")], 11, 11) == BookStatus.APPLIED, "apply")
    check(book.best_ask() == (100.6, 2.0), f"best ask {book.best_ask()}")

    frame = encode(
        {
            "channel": "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
            "symbol": "BTCUSDT",
            "publicAggreDepths": {
                "bids": [{"price": "100.4", "quantity": "5"}],
                "fromVersion": "12",
                "toVersion": "12",
            },
        }
    )
    check(mexc.apply_depth(frame, book) == BookStatus.APPLIED, "mexc.apply_depth")
    check(book.best_bid() == (100.4, 5.0), f"best bid {book.best_bid()}")

    ev = gateio.parse(
        b'{"time":1,"channel":"spot.trades","event":"update","result":'
        b'{"id":7,"create_time_ms":"1","side":"buy","currency_pair":"BTC_USDT",'
        b'"amount":"0.5","price":"101.25"}}'
    )
    check(ev.kind == "trade" and ev.price_str == "101.25", f"gateio.parse: {ev!r}")

    binance_signing()
    asyncio.run(live_book())
    print(f"wheel smoke: ok (hftws {hftws.__version__}, {Path(core_file).name})")


def binance_signing() -> None:
    """Ed25519 and RSA signatures need the ``cryptography`` runtime dependency."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from hftws.auth.binance_signing import BinanceSigner

    payload = "apiKey=k&timestamp=1"
    for key_type, key, length in (
        ("ed25519", ed25519.Ed25519PrivateKey.generate(), 88),
        ("rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048), 344),
    ):
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        signature = BinanceSigner(key_type, pem).sign(payload)
        check(len(signature) == length, f"binance {key_type} signature: {len(signature)} chars")


async def live_book() -> None:
    """One book synced from the embedded local exchange (websockets + REST on 127.0.0.1)."""
    from hftws.books import OrderBookManager
    from hftws.testing.gate_server import GateSpotServer

    async with (
        GateSpotServer(rate=200) as server,
        OrderBookManager(
            urls={"gateio": server.url}, rest_urls={"gateio": server.rest_url}
        ) as books,
    ):
        book = await books.watch("gateio", "BTC_USDT", timeout=20)
        check(book.in_sync and book.best_bid() is not None, "live book not in sync")


if __name__ == "__main__":
    main()
