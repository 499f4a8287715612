"""``/metrics`` (Prometheus text) and ``/healthz`` (JSON) on a local port.

A deliberately tiny HTTP/1.0 server on ``asyncio.start_server``: two GET routes, one
request per connection, a bounded request head, and a timeout on every read, so it is owned
by the agent's TaskGroup like everything else (prometheus-client's own server is a thread).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

_log = logging.getLogger(__name__)
MAX_HEAD = 8192


class MetricsServer:
    """Serves the registry and a health document; ``port`` is known after :meth:`start`."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health: Callable[[], dict[str, object]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._registry = registry
        self._health = health
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        _log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def serve(self) -> None:
        """Start (if needed) and serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        try:
            await self._server.serve_forever()
        finally:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5.0):
                head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEAD:
                raise ValueError("request head too large")
            parts = head.split(b"\r\n", 1)[0].split()
            method, path = (parts[0], parts[1]) if len(parts) >= 2 else (b"", b"")
            if method != b"GET":
                status, ctype, body = "405 Method Not Allowed", "text/plain", b"GET only\n"
            elif path.split(b"?")[0] == b"/metrics":
                status, ctype, body = "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
            elif path.split(b"?")[0] == b"/healthz":
                doc = self._health()
                status = "200 OK" if doc.get("ok") else "503 Service Unavailable"
                ctype, body = "application/json", msgspec.json.encode(doc)
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            async with asyncio.timeout(5.0):
                await writer.drain()
        except (
            TimeoutError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
        ):
            pass
        finally:
            writer.close()


__all__ = ["MetricsServer"]
