"""API credentials for private streams, and the errors of authentication.

``Credentials`` holds an API key, its secret, (Gate.io futures) the user id and (KuCoin) the
API passphrase. It never shows any of them: ``repr``/``str`` print ``Credentials(<hidden>)``, and
every error message names the environment variables or the failure, never a value. Credentials
come from arguments or from the environment (``HFTWS_<EXCHANGE>_API_KEY``, ``..._API_SECRET``,
``..._UID``, ``..._API_PASSPHRASE``), and a missing one is a :class:`MissingCredentials` raised
when the handler is built, before any connection is made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hftws._core import HftwsError

__all__ = [
    "AuthenticationError",
    "Credentials",
    "MissingCredentials",
    "env_names",
    "passphrase_env_name",
]

#: Exchange names accepted by :meth:`Credentials.from_env` -> the environment prefix.
_ENV_EXCHANGES = {
    "mexc": "MEXC",
    "mexc_private": "MEXC",
    "gate": "GATEIO",
    "gateio": "GATEIO",
    "gateio_private": "GATEIO",
    "gateio_futures": "GATEIO",
    "gateio_futures_private": "GATEIO",
    "binance": "BINANCE",
    "binance_private": "BINANCE",
    "binance_futures": "BINANCE",
    "binance_futures_private": "BINANCE",
    "kucoin": "KUCOIN",
    "kucoin_private": "KUCOIN",
    "kucoin_futures": "KUCOIN",
    "kucoin_futures_private": "KUCOIN",
}
#: Environment prefixes whose keys always come with an API passphrase (KuCoin, ``kucoin.md`` §6).
_PASSPHRASE_PREFIXES = frozenset({"KUCOIN"})

#: Key types of :attr:`Credentials.key_type` (Binance signs with any of them, ``binance.md`` §7).
KEY_TYPES = ("hmac", "ed25519", "rsa")


class MissingCredentials(HftwsError):
    """A private stream was requested without an API key, secret or uid."""


class AuthenticationError(HftwsError):
    """The exchange refused our credentials (bad key, bad signature, expired request/key).

    ``reason`` is the exchange's short label (``INVALID_KEY``, ``700002``...), never a secret.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


def _env_prefix(exchange: str) -> str:
    return _ENV_EXCHANGES.get(exchange.lower().replace("-", "_"), exchange.upper())


def env_names(exchange: str) -> tuple[str, str, str]:
    """The three variable names read for ``exchange`` (key, secret, uid)."""
    base = f"HFTWS_{_env_prefix(exchange)}"
    return f"{base}_API_KEY", f"{base}_API_SECRET", f"{base}_UID"


def passphrase_env_name(exchange: str) -> str:
    """The variable holding the API passphrase of ``exchange`` (``HFTWS_KUCOIN_API_PASSPHRASE``)."""
    return f"HFTWS_{_env_prefix(exchange)}_API_PASSPHRASE"


def _needs_passphrase(exchange: str) -> bool:
    return _env_prefix(exchange) in _PASSPHRASE_PREFIXES


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key pair (and the account's user id or passphrase where an exchange needs it).

    Args:
        api_key: the API key (sent to the exchange; still never printed).
        api_secret: the secret used to sign (never sent, never printed).
        uid: the account's user id (Gate.io futures private channels).
        passphrase: the API passphrase chosen when the key was created (KuCoin); sent only
            encrypted with the secret (key version 2 and later), never printed.
        key_type: how ``api_secret`` signs: ``"hmac"`` (a shared secret, every exchange), or
            ``"ed25519"``/``"rsa"`` (Binance: ``api_secret`` is then the PEM private key).
    """

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    uid: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    key_type: str = field(default="hmac", repr=False)

    def __post_init__(self) -> None:
        for name in ("api_key", "api_secret"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise MissingCredentials(f"Credentials.{name} must be a non-empty string")
        if self.uid is not None:
            object.__setattr__(self, "uid", str(self.uid))
            if not self.uid:
                raise MissingCredentials("Credentials.uid must not be empty when given")
        if self.key_type not in KEY_TYPES:
            raise MissingCredentials(f"Credentials.key_type must be one of {', '.join(KEY_TYPES)}")
        if self.passphrase is not None and (
            not isinstance(self.passphrase, str) or not self.passphrase
        ):
            raise MissingCredentials("Credentials.passphrase must be a non-empty string when given")

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        # Pickling would copy the secret into whatever reads the pickle.
        raise TypeError("Credentials cannot be pickled")

    @classmethod
    def from_env(
        cls,
        exchange: str,
        *,
        require_uid: bool = False,
        require_passphrase: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Read ``HFTWS_<EXCHANGE>_API_KEY``/``_API_SECRET``/``_UID``/``_API_PASSPHRASE``
        (MEXC, GATEIO, KUCOIN, BINANCE).

        ``require_passphrase`` defaults to True for KuCoin (its keys always have one).
        ``HFTWS_<EXCHANGE>_KEY_TYPE`` (``hmac``, ``ed25519``, ``rsa``; default ``hmac``) says
        how the secret signs; for Ed25519/RSA keys the secret is the PEM private key, given
        in ``_API_SECRET`` or read from the file named by ``HFTWS_<EXCHANGE>_PRIVATE_KEY_FILE``.

        Raises:
            MissingCredentials: naming every variable that is unset or empty.
        """
        env = os.environ if environ is None else environ
        key_var, secret_var, uid_var = env_names(exchange)
        phrase_var = passphrase_env_name(exchange)
        key, secret, uid = env.get(key_var), env.get(secret_var), env.get(uid_var) or None
        passphrase = env.get(phrase_var) or None
        prefix = key_var.removesuffix("_API_KEY")
        key_type = (env.get(f"{prefix}_KEY_TYPE") or "hmac").strip().lower()
        key_file = env.get(f"{prefix}_PRIVATE_KEY_FILE")
        if not secret and key_file and key_type != "hmac":
            try:
                with open(key_file, encoding="utf-8") as fh:
                    secret = fh.read()
            except OSError as exc:
                raise MissingCredentials(
                    f"{exchange}: cannot read {prefix}_PRIVATE_KEY_FILE ({type(exc).__name__})"
                ) from None
        missing = [n for n, v in ((key_var, key), (secret_var, secret)) if not v]
        if require_uid and uid is None:
            missing.append(uid_var)
        if require_passphrase is None:
            require_passphrase = _needs_passphrase(exchange)
        if require_passphrase and passphrase is None:
            missing.append(phrase_var)
        if missing:
            raise MissingCredentials(
                f"{exchange} private streams need credentials: pass credentials=Credentials(...) "
                f"or set {', '.join(missing)}"
            )
        assert key is not None and secret is not None
        return cls(key, secret, uid, passphrase, key_type)

    @classmethod
    def resolve(
        cls,
        credentials: Credentials | None,
        exchange: str,
        *,
        require_uid: bool = False,
        require_passphrase: bool | None = None,
    ) -> Credentials:
        """``credentials`` if given (checked), else :meth:`from_env`."""
        if require_passphrase is None:
            require_passphrase = _needs_passphrase(exchange)
        if credentials is None:
            return cls.from_env(
                exchange, require_uid=require_uid, require_passphrase=require_passphrase
            )
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a hftws.Credentials")
        if require_passphrase and credentials.passphrase is None:
            raise MissingCredentials(
                f"{exchange} private streams need the API passphrase: "
                f"Credentials(..., passphrase=...) or {passphrase_env_name(exchange)}"
            )
        if require_uid and credentials.uid is None:
            _, _, uid_var = env_names(exchange)
            raise MissingCredentials(
                f"{exchange} private channels need the account uid: Credentials(..., uid=...) "
                f"or {uid_var}"
            )
        return credentials
