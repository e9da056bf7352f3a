"""KuCoin request signatures (``kucoin.md`` §6): reference vectors, an independent HMAC, the
headers, and credentials that never show."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftws import Credentials, MissingCredentials
from hftws.auth.kucoin import (
    KucoinTokenAuthenticator,
    kucoin_headers,
    kucoin_passphrase,
    kucoin_signature,
)
from hftws.credentials import passphrase_env_name

# kucoin.md §6 (secret "test_api_secret"), recomputed there with Python hmac and OpenSSL.
SECRET = "test_api_secret"
VECTORS = [
    ("test_plain", "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="),
    ("test_passphrase", "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0="),
    ("1700000000000POST/api/v1/bullet-private", "tjIYTE2HrB7Z9GuGIpBT0vsm7A5LA9Cpb95o7dG/OM4="),
    (
        "1700000000000GET/api/v3/market/orderbook/level2?symbol=BTC-USDT",
        "sEHIFGN5urEMsaSI1RyMQq6JhMRHbNkwlS6meM7vU74=",
    ),
]


def independent(secret: str, message: str) -> str:
    """base64(HMAC-SHA256) written out without the library's helpers."""
    mac = hmac.HMAC(secret.encode("utf-8"), digestmod=hashlib.sha256)
    mac.update(message.encode("utf-8"))
    return base64.standard_b64encode(mac.digest()).decode("ascii")


@pytest.mark.parametrize(("message", "expected"), VECTORS)
def test_reference_vectors_independently(message: str, expected: str) -> None:
    assert independent(SECRET, message) == expected


def test_reference_vectors_through_the_library() -> None:
    sig = kucoin_signature(SECRET, 1700000000000, "post", "/api/v1/bullet-private")
    assert sig == VECTORS[2][1]
    sig = kucoin_signature(
        SECRET, "1700000000000", "GET", "/api/v3/market/orderbook/level2?symbol=BTC-USDT"
    )
    assert sig == VECTORS[3][1]
    assert kucoin_passphrase(SECRET, "test_passphrase") == VECTORS[1][1]
    assert kucoin_passphrase(SECRET, "test_passphrase", "3") == VECTORS[1][1]
    assert kucoin_passphrase(SECRET, "test_passphrase", "1") == "test_passphrase"
    with pytest.raises(ValueError):
        kucoin_passphrase(SECRET, "p", "4")


@given(
    secret=st.text(min_size=1, max_size=40),
    ts=st.integers(min_value=0, max_value=2**45),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    endpoint=st.text(max_size=60),
    body=st.text(max_size=60),
)
def test_signature_matches_an_independent_hmac(
    secret: str, ts: int, method: str, endpoint: str, body: str
) -> None:
    expected = independent(secret, str(ts) + method + endpoint + body)
    assert kucoin_signature(secret, ts, method.lower(), endpoint, body) == expected


def test_headers_of_a_post_and_of_a_get() -> None:
    creds = Credentials("key-1", SECRET, passphrase="test_passphrase")
    h = kucoin_headers(creds, "POST", "/api/v1/bullet-private", timestamp=1700000000000)
    assert h == {
        "KC-API-KEY": "key-1",
        "KC-API-SIGN": VECTORS[2][1],
        "KC-API-TIMESTAMP": "1700000000000",
        "KC-API-PASSPHRASE": VECTORS[1][1],
        "KC-API-KEY-VERSION": "2",
        "Content-Type": "application/json",
    }
    body = '{"symbol":"BTC-USDT"}'
    h3 = kucoin_headers(creds, "post", "/api/v1/orders", body, timestamp=5, key_version="3")
    assert h3["KC-API-KEY-VERSION"] == "3"
    assert h3["KC-API-SIGN"] == independent(SECRET, "5POST/api/v1/orders" + body)
    with pytest.raises(MissingCredentials):
        kucoin_headers(Credentials("k", "s"), "GET", "/x", timestamp=1)


def test_from_env_reads_the_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "HFTWS_KUCOIN_API_KEY": "k",
        "HFTWS_KUCOIN_API_SECRET": "s3cr3t-kc",
        "HFTWS_KUCOIN_API_PASSPHRASE": "phr4se-kc",
    }
    assert passphrase_env_name("kucoin_futures_private") == "HFTWS_KUCOIN_API_PASSPHRASE"
    creds = Credentials.from_env("kucoin", environ=env)
    assert (creds.api_key, creds.api_secret, creds.passphrase) == ("k", "s3cr3t-kc", "phr4se-kc")
    assert Credentials.from_env("kucoin_futures", environ=env) == creds
    del env["HFTWS_KUCOIN_API_PASSPHRASE"]
    with pytest.raises(MissingCredentials) as info:
        Credentials.from_env("kucoin", environ=env)
    text = str(info.value)
    assert "HFTWS_KUCOIN_API_PASSPHRASE" in text and "HFTWS_KUCOIN_API_KEY" not in text
    assert "s3cr3t-kc" not in text
    # Other exchanges do not ask for one.
    monkeypatch.setenv("HFTWS_MEXC_API_KEY", "k")
    monkeypatch.setenv("HFTWS_MEXC_API_SECRET", "s")
    assert Credentials.from_env("mexc").passphrase is None
    with pytest.raises(MissingCredentials) as info:
        Credentials.resolve(Credentials("k", "s3cr3t-kc"), "kucoin_private")
    assert "passphrase" in str(info.value) and "s3cr3t-kc" not in str(info.value)
    with pytest.raises(MissingCredentials):
        Credentials("k", "s", passphrase="")


def test_no_secret_in_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    creds = Credentials("visible-key-77", "s3cr3t-kc", passphrase="phr4se-kc")
    auth = KucoinTokenAuthenticator(creds)
    headers = kucoin_headers(creds, "POST", "/api/v1/bullet-private", timestamp=1)
    caplog.set_level(logging.DEBUG)
    for text in (repr(creds), str(creds), repr(auth), str(auth), repr([creds, auth])):
        for secret in ("s3cr3t-kc", "phr4se-kc", "visible-key-77", headers["KC-API-PASSPHRASE"]):
            assert secret not in text
    assert "s3cr3t-kc" not in caplog.text
    with pytest.raises(MissingCredentials) as info:
        KucoinTokenAuthenticator(Credentials("k", "s3cr3t-kc"))
    assert "s3cr3t-kc" not in str(info.value)
