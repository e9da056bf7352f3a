"""Binance request signing (``binance.md`` §7): the reference vectors, Ed25519 and RSA checked
against OpenSSL and against the public keys, the payload rules, the clock, and no secret
anywhere in reprs or errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import pickle
from typing import Any
from urllib.parse import unquote

import pytest
from binance_keys import ED25519_PEM, ED25519_SIGNATURE, PAYLOAD, RSA_PEM, RSA_SIGNATURE
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hypothesis import given
from hypothesis import strategies as st

from hftws import Credentials
from hftws.auth.binance_signing import (
    BinanceSigner,
    rest_payload,
    signed_rest_query,
    signed_ws_params,
    ws_api_payload,
)
from hftws.credentials import MissingCredentials

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
FUTURES_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"

REST_ORDER = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
]
WS_ORDER = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01000000",
    "price": "52000.00",
    "recvWindow": 100,
}


def test_rest_reference_vector() -> None:
    query = signed_rest_query(BinanceSigner("hmac", SECRET), REST_ORDER, 1499827319559, 5000)
    payload, _, sig = query.rpartition("&signature=")
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sig == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_rest_non_ascii_symbol_is_percent_encoded_before_signing() -> None:
    params = [("symbol", "１２３４５６"), *REST_ORDER[1:]]
    query = signed_rest_query(BinanceSigner("hmac", SECRET), params, 1499827319559, 5000)
    assert query.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert query.endswith("e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")


def test_futures_rest_reference_vector() -> None:
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "1"),
        ("price", "9000"),
        ("timeInForce", "GTC"),
    ]
    query = signed_rest_query(BinanceSigner("hmac", FUTURES_SECRET), params, 1591702613943, 5000)
    assert query.endswith("3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9")


@pytest.mark.parametrize(
    ("params", "timestamp", "expected"),
    [
        (
            WS_ORDER,
            1645423376532,
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
        ),
        ({}, 1649729878532, "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"),
        ({}, 1747385641636, "681110a6057ad58657af22f5640fab9dd17418834cdfccdc81be8b0f7b2cde3e"),
    ],
)
def test_ws_api_reference_vectors(params: Any, timestamp: Any, expected: Any) -> None:
    signed = signed_ws_params(BinanceSigner("hmac", SECRET), API_KEY, params, timestamp)
    assert signed["signature"] == expected
    assert signed["apiKey"] == API_KEY and signed["timestamp"] == timestamp


def test_ws_api_payload_is_sorted_and_not_encoded() -> None:
    payload = ws_api_payload(
        {"timestamp": 2, "apiKey": "k", "symbol": "测试USDT", "signature": "x"}
    )
    assert payload == "apiKey=k&symbol=测试USDT&timestamp=2"
    assert ws_api_payload({"a": True, "b": False}) == "a=true&b=false"


def test_ed25519_and_rsa_match_openssl() -> None:
    assert BinanceSigner("ed25519", ED25519_PEM).sign(PAYLOAD) == ED25519_SIGNATURE
    assert BinanceSigner("rsa", RSA_PEM).sign(PAYLOAD) == RSA_SIGNATURE


# Loaded once: an RSA private key load checks the key and costs tens of milliseconds.
_ED_KEY = load_pem_private_key(ED25519_PEM.encode(), None)
_RSA_KEY = load_pem_private_key(RSA_PEM.encode(), None)
_ED_SIGNER = BinanceSigner("ed25519", ED25519_PEM)
_RSA_SIGNER = BinanceSigner("rsa", RSA_PEM)


@given(payload=st.text(max_size=300))
def test_asymmetric_signatures_verify_with_the_public_keys(payload: str) -> None:
    assert isinstance(_ED_KEY, ed25519.Ed25519PrivateKey)
    assert isinstance(_RSA_KEY, rsa.RSAPrivateKey)
    data = payload.encode()
    ed_sig = base64.b64decode(_ED_SIGNER.sign(payload))
    _ED_KEY.public_key().verify(ed_sig, data)  # raises InvalidSignature when wrong
    rsa_sig = base64.b64decode(_RSA_SIGNER.sign(payload))
    _RSA_KEY.public_key().verify(rsa_sig, data, padding.PKCS1v15(), hashes.SHA256())


@given(secret=st.text(min_size=1, max_size=64), payload=st.text(max_size=300))
def test_hmac_matches_independent_hmac(secret: str, payload: str) -> None:
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert BinanceSigner("hmac", secret).sign(payload) == expected


@given(
    params=st.lists(st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=20)), max_size=6)
)
def test_rest_payload_round_trips_and_is_ascii(params: list[tuple[str, str]]) -> None:
    payload = rest_payload(params)
    assert payload.isascii()
    if params:
        parts = [p.split("=") for p in payload.split("&")]
        assert [(unquote(k), unquote(v)) for k, v in parts] == params


def test_rest_signature_of_base64_keys_is_percent_encoded() -> None:
    query = signed_rest_query(BinanceSigner("ed25519", ED25519_PEM), [], 1747385641636)
    sig = query.rpartition("&signature=")[2]
    assert "+" not in sig and "/" not in sig and "=" not in sig
    assert base64.b64decode(unquote(sig))


def test_recv_window_bounds() -> None:
    signer = BinanceSigner("hmac", SECRET)
    assert "recvWindow=60000" in signed_rest_query(signer, [], 1, 60000)
    for bad in (0, 60001):
        with pytest.raises(ValueError):
            signed_rest_query(signer, [], 1, bad)
        with pytest.raises(ValueError):
            signed_ws_params(signer, API_KEY, {}, 1, bad)


def test_secrets_never_in_reprs_or_errors() -> None:
    for signer in (
        BinanceSigner("hmac", SECRET),
        BinanceSigner("ed25519", ED25519_PEM),
        BinanceSigner("rsa", RSA_PEM),
    ):
        assert SECRET not in repr(signer) and "PRIVATE" not in repr(signer)
        with pytest.raises(TypeError):
            pickle.dumps(signer)
    secret_pem = ED25519_PEM.replace("MC4C", "XX4C")
    for key_type, bad in (("ed25519", secret_pem), ("rsa", ED25519_PEM), ("ed25519", SECRET)):
        with pytest.raises(MissingCredentials) as info:
            BinanceSigner(key_type, bad)
        assert bad not in str(info.value) and "XX4C" not in str(info.value)
        assert SECRET not in str(info.value)
    with pytest.raises(ValueError, match="unknown Binance key type"):
        BinanceSigner("dsa", SECRET)
    creds = Credentials(API_KEY, ED25519_PEM, key_type="ed25519")
    assert "PRIVATE" not in repr(creds) and API_KEY not in repr(creds)


def test_credentials_from_env_key_types(tmp_path: Any) -> None:
    env = {"HFTWS_BINANCE_API_KEY": "k", "HFTWS_BINANCE_API_SECRET": "s"}
    assert Credentials.from_env("binance", environ=env).key_type == "hmac"
    pem = tmp_path / "key.pem"
    pem.write_text(ED25519_PEM)
    env = {
        "HFTWS_BINANCE_API_KEY": "k",
        "HFTWS_BINANCE_KEY_TYPE": "ED25519",
        "HFTWS_BINANCE_PRIVATE_KEY_FILE": str(pem),
    }
    creds = Credentials.from_env("binance_futures_private", environ=env)
    assert (creds.key_type, creds.api_secret) == ("ed25519", ED25519_PEM)
    with pytest.raises(MissingCredentials, match="key_type"):
        Credentials.from_env("binance", environ={**env, "HFTWS_BINANCE_KEY_TYPE": "dsa"})
    missing = {**env, "HFTWS_BINANCE_PRIVATE_KEY_FILE": str(tmp_path / "nope.pem")}
    with pytest.raises(MissingCredentials, match="PRIVATE_KEY_FILE"):
        Credentials.from_env("binance", environ=missing)
