"""One book pipeline for live runs, recordings and replays.

:class:`Pipeline` is the library's :class:`~hftws.books.OrderBookManager` with two additions
the CLI needs, and nothing else changed on the path a frame takes:

- **recording**: every connection records through its own Rust decoder
  (``BaseWebSocketInterface.record``: each data message is appended with its receive time
  before it is decoded), plus a state tap; the REST snapshots the books ask for go through
  :class:`RecordingRest`, which writes each response into the same file at the moment it
  arrived;
- **replay**: connections are built but never connected; :meth:`Pipeline.feed` hands a
  recorded message to ``BaseWebSocketInterface.replay_message`` (the same Rust decoder, books
  and handlers as a socket read), recorded state changes go through ``replay_state`` (so a
  recorded reconnect resyncs the books as it did live), and snapshots come from
  :class:`ReplayRest`, which serves each recorded response once the replay has reached it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hftws.books import OrderBookManager
from hftws.cli.record import KIND_REST, RecordingWriter, decode_rest
from hftws.interface import BaseWebSocketInterface, ConnectionState
from hftws.manager import AnyWebSocketManager, create_websocket_manager
from hftws.mixins.subscription import Subscription
from hftws.rest import RestClient, RestError

#: Record kind of a connection state change (payload: the state's value, e.g. b"reconnecting").
KIND_STATE = 17


def _rest_key(url: str, params: Mapping[str, Any] | str | None) -> tuple[str, str]:
    query = (
        ""
        if params is None
        else params
        if isinstance(params, str)
        else "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    )
    return urlsplit(url).path, query


class RecordingRest(RestClient):
    """A REST client that also records every successful GET into a recording."""

    def __init__(self, writer: RecordingWriter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._writer = writer

    async def get(self, url: str, **kwargs: Any) -> Any:
        body = await super().get(url, **kwargs)
        path, query = _rest_key(url, kwargs.get("params"))
        self._writer.add_rest(time.monotonic_ns(), path, query, body)
        return body


class ReplayRest:
    """Serves recorded REST responses, each once, in recorded order, when the replay reaches it.

    A request for a response the replay has not reached yet waits for it (the live pipeline
    waited for the network at the same point); after :meth:`end` such requests fail.
    """

    def __init__(self) -> None:
        self._ready: dict[tuple[str, str], deque[Any]] = {}
        self._waiting: dict[tuple[str, str], deque[asyncio.Future[Any]]] = {}
        self._ended = False
        self.served = 0

    def offer(self, payload: bytes) -> None:
        doc = decode_rest(payload)
        key = (doc["url"], doc["params"] or "")
        waiters = self._waiting.get(key)
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(doc["body"])
                self.served += 1
                return
        self._ready.setdefault(key, deque()).append(doc["body"])

    @property
    def waiting(self) -> bool:
        return any(any(not f.done() for f in q) for q in self._waiting.values())

    async def get(self, url: str, **kwargs: Any) -> Any:
        key = _rest_key(url, kwargs.get("params"))
        ready = self._ready.get(key)
        if ready:
            self.served += 1
            return ready.popleft()
        if self._ended:
            raise RestError(f"GET {key[0]}: the recording holds no further response")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(fut)
        return await fut

    def end(self) -> None:
        self._ended = True
        for queue in self._waiting.values():
            for fut in queue:
                if not fut.done():
                    fut.set_exception(RestError("the recording ended before this response"))
            queue.clear()

    async def close(self) -> None:
        self.end()


class Pipeline(OrderBookManager):
    """``OrderBookManager`` that can record its input or be fed a recording (module docstring).

    Args:
        writer: record raw frames, state changes and snapshots into this writer.
        replay: build connections without connecting; feed them with :meth:`feed`.
    """

    def __init__(
        self,
        *,
        writer: RecordingWriter | None = None,
        replay: bool = False,
        **kwargs: Any,
    ) -> None:
        self.replay_rest = ReplayRest() if replay else None
        if replay:
            kwargs["rest"] = self.replay_rest
        elif writer is not None:
            kwargs["rest"] = RecordingRest(writer)
        super().__init__(**kwargs)
        if writer is not None and "rest" in kwargs:
            self._own_rest = True  # the recording client is ours to close
        self.writer = writer
        self.replaying = replay
        #: Exchange -> source index in the recording.
        self.sources: dict[str, int] = {}
        self._tapped: set[int] = set()

    async def manager(self, exchange: str) -> AnyWebSocketManager:
        """The (connected, unless replaying) manager of ``exchange``."""
        return await self._ensure_manager(exchange)

    async def subscribe(self, exchange: str, *subs: Subscription) -> None:
        """Plain streams (trades, tickers, raw channels) next to the books."""
        await (await self.manager(exchange)).subscribe(*subs)

    async def _ensure_manager(self, exchange: str) -> AnyWebSocketManager:
        self.sources.setdefault(exchange, len(self.sources))
        if not self.replaying:
            return await super()._ensure_manager(exchange)
        manager = self.managers.get(exchange)
        if manager is None:
            manager = create_websocket_manager(exchange, **self._policy)
            self.managers[exchange] = manager
            manager.on_shard(lambda shard: self._attach(exchange, shard))
        return manager

    def _attach(self, exchange: str, shard: Any) -> None:
        super()._attach(exchange, shard)
        writer = self.writer
        if writer is None or id(shard) in self._tapped:
            return
        self._tapped.add(id(shard))
        source = self.sources[exchange]

        def state(value: ConnectionState) -> None:
            writer.add(KIND_STATE, time.monotonic_ns(), value.value.encode(), source)

        shard.record(writer.add_records, source)
        shard.on_state_change(state)

    # -- replay ------------------------------------------------------------------------------------

    def connection(self, exchange: str) -> BaseWebSocketInterface[Any]:
        shard: BaseWebSocketInterface[Any] = self.managers[exchange].handler
        return shard

    def feed(self, exchange: str, kind: int, payload: bytes) -> None:
        """Push one recorded record through the live path of ``exchange``'s connection."""
        if kind == KIND_REST:
            assert self.replay_rest is not None
            self.replay_rest.offer(payload)
        elif kind == KIND_STATE:
            state = ConnectionState(payload.decode())
            # CLOSED is the live run's own shutdown: the replay ends when it closes, not here.
            if state is not ConnectionState.CLOSED:
                self.connection(exchange).replay_state(state)
        else:
            self.connection(exchange).replay_message(kind, payload, time.monotonic_ns())

    @property
    def settling(self) -> bool:
        """A book is syncing and the loop should run its sync task before the next frame."""
        return any(not b.in_sync for b in self.books.values())
