"""CLI configuration: TOML file, environment variables, command-line options (in rising priority).

A config file (``--config FILE`` or ``$HFTWS_CONFIG``) holds one table per command with the
same names as the long options, and one table per exchange for endpoints and keys::

    [demo]
    duration = 30
    symbols = ["BTC", "ETH", "SOL"]
    exchanges = ["mexc", "gateio"]

    [exchanges.mexc]
    url = "wss://wbs-api.mexc.com/ws"
    rest_url = "https://api.mexc.com"

Endpoints and keys can also come from the environment: ``HFTWS_<EXCHANGE>_URL``,
``HFTWS_<EXCHANGE>_REST_URL``, ``HFTWS_<EXCHANGE>_API_KEY``, ``HFTWS_<EXCHANGE>_API_SECRET``
(``<EXCHANGE>`` upper-cased: ``MEXC``, ``GATEIO``, ``GATEIO_FUTURES``). Secrets are only read
from the environment or the file, never from the command line (they would end up in shell
history and ``ps``), and are never printed.
"""

from __future__ import annotations

import argparse
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hftws.manager import ALIASES, EXCHANGES

ENV_CONFIG = "HFTWS_CONFIG"
_EXCHANGE_KEYS = ("url", "rest_url", "api_key", "api_secret")


class ConfigError(Exception):
    """The configuration file or a value in it is unusable (reported as a usage error)."""


def exchange_name(name: str) -> str:
    """Canonical exchange name (``gate`` -> ``gateio``); ConfigError listing the valid ones."""
    canon = ALIASES.get(name.lower(), name.lower())
    if canon not in EXCHANGES:
        raise ConfigError(
            f"unknown exchange {name!r}; valid choices: {', '.join(sorted(EXCHANGES))}"
        )
    return canon


def load(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The parsed TOML file (``{}`` when there is none)."""
    if path is None:
        path = os.environ.get(ENV_CONFIG) or None
    if path is None:
        return {}
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p}: {exc}") from None
    for name, table in (data.get("exchanges") or {}).items():
        exchange_name(name)
        if not isinstance(table, dict):
            raise ConfigError(f"config file {p}: [exchanges.{name}] must be a table")
        unknown = set(table) - set(_EXCHANGE_KEYS)
        if unknown:
            raise ConfigError(
                f"config file {p}: unknown key(s) {', '.join(sorted(unknown))} in "
                f"[exchanges.{name}]; valid: {', '.join(_EXCHANGE_KEYS)}"
            )
    return data


def command_defaults(
    data: Mapping[str, Any], command: str, options: Mapping[str, argparse.Action]
) -> dict[str, Any]:
    """Option defaults for ``command`` from its table (keys as long options, ``-`` or ``_``),
    each checked against its option's type (ConfigError naming the key otherwise)."""
    table = data.get(command) or {}
    if not isinstance(table, dict):
        raise ConfigError(f"[{command}] must be a table")
    out = {}
    for key, value in table.items():
        dest = key.replace("-", "_")
        if dest not in options:
            raise ConfigError(
                f"unknown option {key!r} in [{command}]; valid: "
                f"{', '.join(sorted(v.replace('_', '-') for v in options))}"
            )
        _check_value(f"[{command}] {key}", value, options[dest])
        out[dest] = value
    return out


def _finite(text: str, *, zero: bool) -> float:
    value = float(text)  # a ValueError becomes argparse's "invalid ... value" line
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        bound = ">= 0" if zero else "> 0"
        raise argparse.ArgumentTypeError(f"must be a finite number {bound}, not {text!r}")
    return value


def positive(text: str) -> float:
    """argparse type for seconds and rates: finite and > 0 (``nan`` would never end a run)."""
    return _finite(text, zero=False)


def non_negative(text: str) -> float:
    """argparse type: finite and >= 0."""
    return _finite(text, zero=True)


_NUMBERS = (int, float, positive, non_negative)
_TOML_TYPES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}


def _check_value(where: str, value: Any, action: argparse.Action) -> None:
    # argparse converts string defaults with the option's type (so "abc" for a number is
    # already reported well), but passes any other TOML value through unchecked.
    if action.nargs == 0:  # a flag
        ok, want = isinstance(value, bool), "true or false"
    elif action.type in _NUMBERS:
        integer = action.type is int
        number = isinstance(value, int | str) or (not integer and isinstance(value, float))
        ok, want = number and not isinstance(value, bool), "an integer" if integer else "a number"
        if ok and not isinstance(value, str):  # strings are converted (and checked) by argparse
            try:
                action.type(str(value))
            except (argparse.ArgumentTypeError, ValueError) as exc:
                raise ConfigError(f"{where} {exc}") from None
    elif action.type is None:
        ok, want = isinstance(value, str), "a string"
    else:  # comma-separated lists: a string or an array of strings
        ok = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        want = "a string or an array of strings"
    if ok and action.choices is not None and value not in action.choices:
        ok, want = False, "one of " + ", ".join(map(str, action.choices))
    if not ok:
        got = _TOML_TYPES.get(type(value), f"a {type(value).__name__}")
        raise ConfigError(f"{where} must be {want}, not {got} ({value!r})")


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect to one exchange."""

    url: str | None = None
    rest_url: str | None = None
    api_key: str | None = None
    api_secret: str | None = None

    def __repr__(self) -> str:  # never show secrets
        return f"Endpoint(url={self.url!r}, rest_url={self.rest_url!r})"


def endpoint(
    data: Mapping[str, Any],
    exchange: str,
    *,
    url: str | None = None,
    rest_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """Endpoint of ``exchange``: command line over environment over the config file."""
    env = os.environ if environ is None else environ
    table = (data.get("exchanges") or {}).get(exchange) or {}
    prefix = f"HFTWS_{exchange.upper()}_"
    values = {k: env.get(prefix + k.upper()) or table.get(k) for k in _EXCHANGE_KEYS}
    if url:
        values["url"] = url
    if rest_url:
        values["rest_url"] = rest_url
    for key, schemes in (("url", ("ws://", "wss://")), ("rest_url", ("http://", "https://"))):
        value = values[key]
        if not value:
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{key.replace('_', '-')} must be a string, not {value!r}")
        if not value.lower().startswith(schemes):
            raise ConfigError(
                f"{key.replace('_', '-')} {value!r} must start with {' or '.join(schemes)}"
            )
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - parsing the port is the check (raises on a bad one)
        except ValueError as exc:
            raise ConfigError(
                f"{key.replace('_', '-')} {value!r} is not a valid URL ({exc})"
            ) from None
        if not parts.hostname:
            raise ConfigError(f"{key.replace('_', '-')} {value!r} has no host")
    return Endpoint(**values)
