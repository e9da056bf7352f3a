"""The parts of a connection, unit-tested alone: subscription set, transition table,
exchange protocols and authenticators (no sockets; REST answered by a stand-in client)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hftws import (
    AuthenticationError,
    ConnectionState,
    Credentials,
    HftwsError,
    IllegalTransition,
    Subscription,
    SubscriptionError,
)
from hftws.auth import GateioAuthenticator, MexcListenKeyAuthenticator, NoAuth
from hftws.auth.mexc import ListenKeyRejected
from hftws.gateio import sign_channel
from hftws.lifecycle import CONNECTION_TRANSITIONS, StateMachine
from hftws.metrics import Metrics
from hftws.policy import ConnectionPolicy
from hftws.rest import RateLimited, RestClient, RestError
from hftws.subscriptions import SubscriptionSet
from hftws.venues import GateioFuturesProtocol, GateioProtocol, MexcProtocol

A, B, C = (Subscription("ch", (s,)) for s in "abc")

# -- subscription set ----------------------------------------------------------------------------


def test_subscription_set_tracks_active_pending_refused_and_reports() -> None:
    results: list[tuple[Subscription, bool, str]] = []
    subs = SubscriptionSet(max_subscriptions=3)
    subs.on_result(lambda s, ok, why: results.append((s, ok, why)))
    assert subs.add([A, B, A]) == [A, B]
    assert subs.add([A]) == [] and subs.capacity == 1
    subs.track("k1", [A, B])
    assert subs.pending == {"k1": [A, B]}
    subs.confirm([A])
    subs.refuse([B], "Blocked!")
    subs.untrack("k1")
    assert subs.pending == {}
    assert subs.active == {A} and subs.refused == {B}
    assert results == [(A, True, ""), (B, False, "Blocked!")]
    # Asking again for a refused stream is an explicit new request.
    assert subs.add([B]) == [B] and B not in subs.refused
    assert subs.remove([B, C]) == [B]
    subs.refuse([A], "key")
    subs.restore([A])
    assert A in subs and A not in subs.refused
    assert subs.snapshot() == [A]


def test_subscription_set_cap_is_a_subscription_error() -> None:
    subs = SubscriptionSet(max_subscriptions=2)
    subs.add([A, B])
    with pytest.raises(SubscriptionError, match="limit of 2"):
        subs.add([C])
    assert subs.active == {A, B}


def test_a_failing_result_listener_does_not_stop_the_others() -> None:
    seen: list[Subscription] = []
    subs = SubscriptionSet()

    def bad(s: Subscription, ok: bool, why: str) -> None:
        raise RuntimeError("boom")

    subs.on_result(bad)
    subs.on_result(lambda s, ok, why: seen.append(s))
    subs.confirm([A])
    assert seen == [A]


# -- transition table ----------------------------------------------------------------------------

S = ConnectionState


def test_connection_lifecycle_follows_the_table_and_rejects_the_rest() -> None:
    machine = StateMachine(S.IDLE, CONNECTION_TRANSITIONS)
    seen: list[ConnectionState] = []
    machine.listen(seen.append)
    for state in (S.CONNECTING, S.CONNECTED, S.SUBSCRIBED, S.RECONNECTING, S.CONNECTING):
        machine.move(state)
    assert not machine.move(S.CONNECTING)  # staying put is not a change
    machine.move(S.CLOSED)
    assert seen == [S.CONNECTING, S.CONNECTED, S.SUBSCRIBED, S.RECONNECTING, S.CONNECTING, S.CLOSED]
    with pytest.raises(IllegalTransition, match="closed -> subscribed"):
        machine.move(S.SUBSCRIBED)
    assert machine.state is S.CLOSED


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.IDLE, S.SUBSCRIBED),
        (S.IDLE, S.RECONNECTING),
        (S.RECONNECTING, S.SUBSCRIBED),
        (S.RECONNECTING, S.CONNECTED),
        (S.CLOSED, S.RECONNECTING),
    ],
)
def test_illegal_connection_moves(start: Any, target: Any) -> None:
    machine = StateMachine(start, CONNECTION_TRANSITIONS)
    assert not machine.can(target)
    with pytest.raises(IllegalTransition):
        machine.move(target)


def test_every_state_can_reach_closed() -> None:
    for state, targets in CONNECTION_TRANSITIONS.items():
        assert state is S.CLOSED or S.CLOSED in targets


# -- exchange protocols --------------------------------------------------------------------------


class Ack:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def refused_channels(self) -> list[str]:
        bad: list[str] = self.__dict__["bad"]
        return bad


def test_mexc_requests_chunk_by_30_and_acks_match_channel_lists() -> None:
    proto = MexcProtocol()
    subs = [Subscription(f"spot@x.{i}") for i in range(31)]
    first, second = proto.subscription_requests(subs, False)
    assert json.loads(first.text)["method"] == "SUBSCRIPTION"
    assert len(first.covered) == 30 and second.covered == subs[30:]
    pending = {first.key: first.covered, second.key: second.covered}
    ok = proto.ack_outcome(Ack(kind="ack", msg="spot@x.30"), pending)
    assert ok == [(second.key, frozenset(second.covered), frozenset(), "")]
    bad = proto.ack_outcome(Ack(kind="refused", msg=" Blocked! ", bad=["spot@x.3"]), pending)
    ((key, good, refused, why),) = bad
    assert key == first.key and refused == {subs[3]} and len(good) == 29 and why == "Blocked!"


def test_gate_requests_are_signed_when_built_and_acks_match_ids() -> None:
    proto = GateioProtocol()
    signed: list[str] = []

    def sign(request: dict[str, Any]) -> dict[str, Any]:
        signed.append(request["channel"])
        return {**request, "auth": "x"}

    (req,) = proto.subscription_requests([Subscription("spot.orders", ("!all",))], False, sign)
    body = json.loads(req.text)
    assert body["auth"] == "x" and body["event"] == "subscribe" and signed == ["spot.orders"]
    pending = {req.key: req.covered}
    assert proto.ack_outcome(Ack(id=req.key, success=True), pending)[0][1] == set(req.covered)
    refused = proto.ack_outcome(Ack(id=req.key, success=False, code=4, message="bad"), pending)
    assert refused[0][2] == set(req.covered) and "code 4" in refused[0][3]
    assert proto.ack_outcome(Ack(id=-1, success=True), pending) == []


def test_stream_names_come_from_the_exchange_protocol() -> None:
    assert MexcProtocol.depth_subscription("BTCUSDT").channel.startswith("spot@public.aggre")
    assert GateioProtocol.depth_subscription("BTC_USDT").params == ("BTC_USDT", "100ms")
    assert GateioFuturesProtocol.trades_subscription("BTC_USDT").channel == "futures.trades"
    policy = GateioFuturesProtocol().default_policy("ws://x")
    assert policy.url == "ws://x" and policy.ping_message is not None
    assert "futures.ping" in policy.ping_message()


# -- authenticators ------------------------------------------------------------------------------


class Host:
    """A stand-in connection (``hftws.auth.AuthHost``)."""

    exchange = "test"
    rest_url = "https://api.example.com"
    policy = ConnectionPolicy(url="wss://example.com/ws")
    closing = False

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.failed: list[str] = []
        self.rollovers = 0

    def fail_pending(self, reason: str) -> None:
        self.failed.append(reason)

    async def rollover(self) -> None:
        self.rollovers += 1


class Rest(RestClient):
    """A stand-in RestClient: answers from a script, records the calls (no socket)."""

    def __init__(self, *answers: Any) -> None:
        super().__init__()
        self.answers = list(answers)
        self.calls: list[tuple[str, str]] = []
        self.closed = False

    async def request(self, method: str, url: str, **_: Any) -> Any:
        self.calls.append((method, url))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def get(self, url: str, **kw: Any) -> Any:
        return await self.request("GET", url, **kw)

    async def close(self) -> None:
        self.closed = True


CREDS = Credentials("the-key", "the-secret", uid="7")


def test_no_auth_is_the_identity() -> None:
    auth = NoAuth()
    request = {"channel": "spot.orders"}
    assert auth.sign(request) is request and auth.redact("abc") == "abc"
    assert auth.session_valid and auth.keepalive() is None
    with pytest.raises(HftwsError, match="not bound"):
        auth.host  # noqa: B018


async def test_gate_authenticator_syncs_the_clock_from_the_host_root() -> None:
    auth = GateioAuthenticator(CREDS)
    host = Host()
    auth.bind(host)
    rest = Rest({"server_time": 4_000_000_000_000})
    auth._rest_client = rest
    await auth.after_connect()
    assert rest.calls == [("GET", "https://api.example.com/api/v4/spot/time")]
    assert auth.clock_offset > 1_000_000  # the server's clock, far ahead of ours
    signed = auth.sign({"time": 1, "id": 1, "channel": "spot.orders", "event": "subscribe"})
    t = signed["time"]
    assert t >= 4_000_000_000
    assert signed["auth"]["SIGN"] == sign_channel("the-secret", "spot.orders", "subscribe", t)
    public = {"time": 1, "channel": "spot.trades", "event": "subscribe"}
    assert "auth" not in auth.sign(dict(public))
    await auth.close()
    assert rest.closed


async def test_gate_authenticator_judges_refusals() -> None:
    auth = GateioAuthenticator(CREDS, sync_time=False)
    host = Host()
    auth.bind(host)
    refusal = SubscriptionError("refused", [A])
    auth.begin_request()
    assert not await auth.judge_refusal(refusal, 0)  # not an auth error: the caller re-raises

    class GateError:
        is_auth = True
        code = 2
        label = "REQUEST_EXPIRED"

    auth._rest_client = Rest({"server_time": 1_000})
    auth.on_server_error(GateError())
    assert host.metrics.errors["auth"] == 1
    assert await auth.judge_refusal(refusal, 0)  # expired: clock re-read, retry once
    with pytest.raises(AuthenticationError) as info:
        await auth.judge_refusal(refusal, 1)
    assert info.value.reason == "REQUEST_EXPIRED" and "the-secret" not in str(info.value)


def listen_key_auth(*answers: Any) -> tuple[MexcListenKeyAuthenticator, Host, Rest]:
    auth = MexcListenKeyAuthenticator(CREDS, sync_time=False)
    host = Host()
    auth.bind(host)
    rest = Rest(*answers)
    auth._rest_client = rest
    return auth, host, rest


def body(code: int, msg: str) -> str:
    return json.dumps({"code": code, "msg": msg})


@pytest.mark.parametrize(
    ("status", "code", "msg"),
    [
        (400, 730100, "Invalid listen key"),
        (400, 10001, "listenKey does not exist"),  # not the text the old code guessed
        (404, 0, "Not Found"),
        (410, 999999, ""),
    ],
)
async def test_any_4xx_about_the_listen_key_makes_a_new_key(
    status: Any, code: Any, msg: Any
) -> None:
    auth, _host, rest = listen_key_auth(
        {"listenKey": "k1"},
        RestError("PUT /api/v3/userDataStream: HTTP", status, body(code, msg)),
        {"listenKey": "k2"},
    )
    assert (await auth.connection_url("wss://x/ws")).endswith("?listenKey=k1")
    url = await auth.connection_url("wss://x/ws")  # a reconnect: PUT refused -> new key
    assert url.endswith("?listenKey=k2")
    assert [m for m, _ in rest.calls] == ["POST", "PUT", "POST"]
    assert auth.stats["created"] == 2 and auth.stats["rejected"] == 1


async def test_listen_key_auth_errors_are_not_mistaken_for_an_expired_key() -> None:
    auth, host, _rest = listen_key_auth(
        {"listenKey": "k1"}, RestError("PUT: HTTP 400", 400, body(700002, "Signature invalid"))
    )
    await auth.connection_url("wss://x/ws")
    with pytest.raises(AuthenticationError) as info:
        await auth.connection_url("wss://x/ws")
    assert info.value.reason == "700002" and host.metrics.errors["auth"] == 1
    # 5xx and rate limits are neither: they propagate for the connection's backoff.
    for error in (RestError("PUT: HTTP 503", 503, ""), RateLimited("PUT: 429", 429, 1.0)):
        auth2, _h, _r = listen_key_auth({"listenKey": "k"}, error)
        await auth2.connection_url("wss://x/ws")
        with pytest.raises(RestError):
            await auth2.connection_url("wss://x/ws")


async def test_listen_key_rejected_on_the_socket_fails_pending_and_needs_a_new_key() -> None:
    auth, host, _rest = listen_key_auth({"listenKey": "secret-key"})
    await auth.connection_url("wss://x/ws")

    class Text:
        msg = "Listen Key expired, bye"  # any wording about the listen key

    auth.on_server_error(Text())
    assert host.failed and not auth.session_valid
    assert isinstance(auth.session_error(), ListenKeyRejected)
    assert auth.redact("wss://x/ws?listenKey=secret-key") == "wss://x/ws?listenKey=<listenKey>"

    class Other:
        msg = "something else"

    auth2, host2, _ = listen_key_auth()
    auth2.on_server_error(Other())
    assert auth2.session_valid and not host2.failed


async def test_listen_key_keepalive_refused_rolls_over() -> None:
    import asyncio

    auth, host, _rest = listen_key_auth({"listenKey": "k1"}, RestError("PUT", 400, body(1, "gone")))
    auth.keepalive_interval = 0.01
    await auth.connection_url("wss://x/ws")
    task = asyncio.ensure_future(auth._keepalive_loop())
    try:
        async with asyncio.timeout(2):
            while not host.rollovers:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert not auth.session_valid  # the rollover's connection_url makes a new key
