"""Credentials: hidden in reprs and errors, read from the environment, checked before connecting."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from hftws import Credentials, MissingCredentials
from hftws.credentials import env_names
from hftws.exchanges import (
    GateioFuturesPrivateHandler,
    GateioSpotPrivateHandler,
    MexcPrivateHandler,
)
from hftws.manager import create_websocket_handler_direct
from hftws.testing.mexc_server import MexcServer

KEY, SECRET = "AKIA-visible-key-123", "s3cr3t-value-that-must-not-leak"


def test_repr_and_str_hide_everything() -> None:
    creds = Credentials(KEY, SECRET, uid="424242")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds]), repr({"c": creds})):
        assert KEY not in text and SECRET not in text and "424242" not in text
    assert repr(creds) == "Credentials(<hidden>)"
    with pytest.raises(TypeError):
        pickle.dumps(creds)
    with pytest.raises(AttributeError):
        creds.api_key = "other"  # type: ignore[misc]


def test_from_env_reads_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_names("mexc") == ("HFTWS_MEXC_API_KEY", "HFTWS_MEXC_API_SECRET", "HFTWS_MEXC_UID")
    assert env_names("gateio_futures")[0] == "HFTWS_GATEIO_API_KEY"
    monkeypatch.setenv("HFTWS_GATEIO_API_KEY", KEY)
    monkeypatch.setenv("HFTWS_GATEIO_API_SECRET", SECRET)
    monkeypatch.setenv("HFTWS_GATEIO_UID", "99")
    creds = Credentials.from_env("gateio")
    assert (creds.api_key, creds.api_secret, creds.uid) == (KEY, SECRET, "99")


def test_missing_variables_are_named_but_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HFTWS_MEXC_API_KEY", raising=False)
    monkeypatch.setenv("HFTWS_MEXC_API_SECRET", SECRET)
    with pytest.raises(MissingCredentials) as info:
        Credentials.from_env("mexc")
    assert "HFTWS_MEXC_API_KEY" in str(info.value)
    assert "HFTWS_MEXC_API_SECRET" not in str(info.value)
    assert SECRET not in str(info.value)


def test_empty_values_are_refused() -> None:
    with pytest.raises(MissingCredentials):
        Credentials("", SECRET)
    with pytest.raises(MissingCredentials):
        Credentials(KEY, "")


@pytest.mark.parametrize(
    "factory",
    [MexcPrivateHandler, GateioSpotPrivateHandler, GateioFuturesPrivateHandler],
)
async def test_handlers_fail_before_connecting_without_credentials(
    factory: Any, monkeypatch: pytest.MonkeyPatch, mexc_server: MexcServer
) -> None:
    for var in ("MEXC", "GATEIO"):
        for suffix in ("API_KEY", "API_SECRET", "UID"):
            monkeypatch.delenv(f"HFTWS_{var}_{suffix}", raising=False)
    with pytest.raises(MissingCredentials):
        factory(url=mexc_server.url, rest_url=mexc_server.rest_url)
    assert mexc_server.connections == 0 and mexc_server.private.calls == []


def test_futures_need_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTWS_GATEIO_API_KEY", KEY)
    monkeypatch.setenv("HFTWS_GATEIO_API_SECRET", SECRET)
    monkeypatch.delenv("HFTWS_GATEIO_UID", raising=False)
    GateioSpotPrivateHandler()  # spot does not need it
    with pytest.raises(MissingCredentials) as info:
        GateioFuturesPrivateHandler()
    assert "HFTWS_GATEIO_UID" in str(info.value)
    with pytest.raises(MissingCredentials):
        GateioFuturesPrivateHandler(credentials=Credentials(KEY, SECRET))


def test_factory_passes_credentials_and_reprs_stay_clean() -> None:
    creds = Credentials(KEY, SECRET, uid="5")
    for name in ("mexc_private", "gateio_private", "gateio_futures_private"):
        ws: Any = create_websocket_handler_direct(name, credentials=creds)
        assert ws.auth.credentials is creds
        for text in (repr(ws), str(ws), repr(ws.stats())):
            assert KEY not in text and SECRET not in text
    with pytest.raises(TypeError):
        not_credentials: Any = (KEY, SECRET)
        create_websocket_handler_direct("mexc_private", credentials=not_credentials)
