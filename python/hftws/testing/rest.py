"""Minimal aiohttp REST server used by the local exchange servers.

Each exchange server owns one :class:`RestServer` on its own OS-assigned port
(``server.rest_url``). Routes are ``(method, path, handler, snapshot)`` tuples; handlers are
``async def handler(request, shift) -> web.Response``. On *snapshot* routes (the order-book
endpoints) the REST faults of :class:`~hftws.testing.faults.Faults` apply, in this order:
``delay`` (sleep), ``status`` (HTTP error, optional ``Retry-After``), ``stale``/``ahead`` (the
``shift`` passed to the handler: negative = ids in the past, positive = ids ahead) and
``malformed`` (the handler's body cut in half). Other routes never misbehave.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from aiohttp import web

from hftws.testing.faults import Faults

__all__ = ["RestServer", "Route", "json_response"]

Handler = Callable[[web.Request, int], Awaitable[web.Response]]


class Route(NamedTuple):
    """One REST endpoint; ``snapshot=True`` makes it subject to the REST faults."""

    method: str
    path: str
    handler: Handler
    snapshot: bool = False


def json_response(payload: Any, status: int = 200) -> web.Response:
    """Compact JSON response (exchanges send no spaces)."""
    return web.Response(
        body=json.dumps(payload, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


class RestServer:
    """aiohttp application on ``host``, port chosen by the OS.

    Args:
        faults: the owning server's fault controller.
        routes: the endpoints.
        host: interface to bind.
    """

    def __init__(self, faults: Faults, routes: list[Route], host: str = "127.0.0.1") -> None:
        self._faults = faults
        self._app = web.Application()
        for route in routes:
            self._app.router.add_route(route.method, route.path, self._wrap(route))
        self._runner: web.AppRunner | None = None
        self._host = host
        self.requests = 0

    async def start(self) -> str:
        """Start listening; returns the base URL (``http://127.0.0.1:<port>``)."""
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        """Close the listener and every open HTTP connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _wrap(self, route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            self.requests += 1
            if not route.snapshot:
                return await route.handler(request, 0)
            shift, malformed = 0, False
            for fault in self._faults.take_rest():
                if fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                elif fault.kind == "status":
                    headers = {}
                    if fault.retry_after is not None:
                        headers["Retry-After"] = f"{fault.retry_after:g}"
                    return web.Response(
                        status=fault.status,
                        headers=headers,
                        text=json.dumps({"message": f"simulated HTTP {fault.status}"}),
                        content_type="application/json",
                    )
                elif fault.kind == "stale":
                    shift -= fault.ids
                elif fault.kind == "ahead":
                    shift += fault.ids
                elif fault.kind == "malformed":
                    malformed = True
            response = await route.handler(request, shift)
            if malformed and isinstance(response.body, bytes):
                body = response.body
                response.body = body[: max(1, len(body) // 2)]
            return response

        return handle
