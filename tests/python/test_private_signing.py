"""Request signatures: reference vectors and an independent HMAC computation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftws import Credentials, gateio
from hftws.exchanges import GateioFuturesPrivateHandler, GateioSpotPrivateHandler
from hftws.signing import mexc_query, mexc_signature, mexc_signed_query

# gateio.md §5.1 (secret "secret").
GATE_VECTORS = [
    (
        "spot.orders",
        "833a44bb4cd083e47bc1fec22b5c12e8b98c30fc7a9f4a1e52800dcfdff9a57240d7c10f1e9553dee020011fa5d02cdc7d1155a380cc4dcbd45f8fb525e41f4b",
    ),
    (
        "futures.orders",
        "7c9b3c7deb4f57d9551a862399a4b759f5c7f1d74372a7bc8767213052f8139d997ea8eabaffcd4a55825541f2016221fb7a72897fcbde36f9a73b73a301f0c0",
    ),
]
# mexc.md §7.2 (secret 45d0b3c26f2644f19bfb98b07741b2f5).
MEXC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
MEXC_VECTORS = [
    (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087",
        "",
        "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a",
    ),
    (
        "symbol=BTCUSDT&side=BUY&type=LIMIT",
        "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087",
        "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592",
    ),
]


def _independent_gate(secret: str, channel: str, event: str, t: int) -> str:
    msg = "channel=" + channel + "&event=" + event + "&time=" + str(t)
    return hmac.HMAC(secret.encode(), msg.encode(), "sha512").hexdigest()


@pytest.mark.parametrize(("channel", "expected"), GATE_VECTORS)
def test_gate_reference_vectors(channel: Any, expected: Any) -> None:
    assert gateio.sign_channel("secret", channel, "subscribe", 1611541000) == expected
    assert _independent_gate("secret", channel, "subscribe", 1611541000) == expected


@pytest.mark.parametrize(("query", "body", "expected"), MEXC_VECTORS)
def test_mexc_reference_vectors(query: Any, body: Any, expected: Any) -> None:
    assert mexc_signature(MEXC_SECRET, query, body) == expected
    independent = hmac.new(MEXC_SECRET.encode(), (query + body).encode(), hashlib.sha256)
    assert independent.hexdigest() == expected


def test_mexc_doc_example_value_does_not_reproduce() -> None:
    # mexc.md: the docs print 323c96ab... for vector 1; it is a doc error and must not match.
    assert not mexc_signature(MEXC_SECRET, MEXC_VECTORS[0][0]).startswith("323c96ab")


def test_mexc_signed_query_layout_and_signature() -> None:
    q = mexc_signed_query(MEXC_SECRET, [("listenKey", "k1")], 1644489390087, 5000)
    signed, _, sig = q.rpartition("&signature=")
    assert signed == "listenKey=k1&recvWindow=5000&timestamp=1644489390087"
    assert sig == hmac.new(MEXC_SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
    assert sig == sig.lower() and len(sig) == 64


def test_mexc_query_upper_case_escapes_and_recv_window_bounds() -> None:
    assert mexc_query([("symbols", "BTCUSDT,ETHUSDT")]) == "symbols=BTCUSDT%2CETHUSDT"
    with pytest.raises(ValueError):
        mexc_signed_query("s", [], 1, 60000)
    assert "recvWindow" not in mexc_signed_query("s", [], 1, None)


@given(
    secret=st.text(min_size=1, max_size=64),
    query=st.text(max_size=200),
    body=st.text(max_size=200),
)
def test_mexc_signature_matches_hmac(secret: Any, query: Any, body: Any) -> None:
    expected = hmac.new(secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    assert mexc_signature(secret, query, body) == expected


@given(
    secret=st.text(min_size=1, max_size=64),
    channel=st.sampled_from(["spot.orders", "spot.balances", "futures.positions"]),
    event=st.sampled_from(["subscribe", "unsubscribe"]),
    t=st.integers(0, 2**40),
)
def test_gate_signature_matches_hmac(secret: Any, channel: Any, event: Any, t: Any) -> None:
    assert gateio.sign_channel(secret, channel, event, t) == _independent_gate(
        secret, channel, event, t
    )


def test_gate_mixin_signs_private_requests_only() -> None:
    creds = Credentials("the-key", "the-secret", uid="77")
    ws = GateioSpotPrivateHandler(credentials=creds, url="ws://127.0.0.1:9/ws/v4/")
    ws.gate_auth.clock_offset = 100.0
    public = {"time": 1, "id": 1, "channel": "spot.trades", "event": "subscribe"}
    assert "auth" not in ws._sign_request(dict(public))
    req = ws._sign_request({"time": 1, "id": 2, "channel": "spot.orders", "event": "unsubscribe"})
    assert req["time"] == pytest.approx(ws._server_now(), abs=2)
    assert req["time"] > 100  # the server offset was applied, not the caller's time
    assert req["auth"] == {
        "method": "api_key",
        "KEY": "the-key",
        "SIGN": _independent_gate("the-secret", "spot.orders", "unsubscribe", req["time"]),
    }


def test_futures_requests_carry_the_uid_first() -> None:
    creds = Credentials("k", "s", uid="123456")
    ws = GateioFuturesPrivateHandler(credentials=creds, url="ws://127.0.0.1:9/v4/ws/usdt")
    sub = ws._sub("futures.orders", "BTC_USDT")
    ((text, _key, _covered),) = ws._subscription_requests([sub], unsubscribe=False)
    assert '"payload":["123456","BTC_USDT"]' in text
    assert ws._sub("futures.balances", None).params == ("123456",)
