"""The control server of a running site: JSON lines over loopback TCP.

Requests (one JSON object per line) and their replies::

    {"op": "fault", "device": "bess-1", "kind": "slow", "seconds": 30, "params": {"delay_s": 1}}
    {"op": "clear", "device": "bess-1", "kind": "slow"}        # "kind" omitted: clear all
    {"op": "status"}
    -> {"ok": true, ...}  or  {"ok": false, "error": "kind: unknown fault 'x' (...)"}
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

from ._errors import SimControlError, SimError
from ._faults import fault_params, parse_kind

if TYPE_CHECKING:
    from ._site import SimSite

MAX_LINE: Final = 64 * 1024
MAX_REQUESTS_PER_CONNECTION: Final = 10_000
IDLE_TIMEOUT_S: Final = 300.0


class ControlRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    op: Literal["fault", "clear", "status"]
    device: str | None = None
    kind: str | None = None
    seconds: float | None = None
    params: dict[str, float] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(ControlRequest)
_encoder = msgspec.json.Encoder()


def handle(site: SimSite, line: bytes) -> dict[str, Any]:
    """Apply one request line to ``site``; never raises for bad input."""
    try:
        req = _decoder.decode(line)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        text, _, path = msg.rpartition(" - at `$.")
        return {"ok": False, "error": f"{path.rstrip('`')}: {text}" if path and text else msg}
    except msgspec.DecodeError as exc:
        return {"ok": False, "error": f"request is not valid JSON: {exc}"}
    try:
        if req.op == "status":
            return {
                "ok": True,
                "t": site.t,
                "meter_import_w": round(site.meter_import_w, 1),
                "faults": {name: site.faults(name) for name in site.names},
            }
        if req.device is None:
            raise SimControlError("device: required")
        if req.op == "fault":
            if req.kind is None:
                raise SimControlError("kind: required")
            # Validate first: a parameter named like set_fault's own arguments ("seconds",
            # "device", "kind") must be a bad-request reply, not a TypeError.
            fault_params(parse_kind(req.kind), req.params)
            site.set_fault(req.device, req.kind, req.seconds, **req.params)
        else:
            site.clear_fault(req.device, req.kind)
        return {"ok": True, "device": req.device, "faults": site.faults(req.device)}
    except SimError as exc:
        return {"ok": False, "error": str(exc)}


@contextlib.asynccontextmanager
async def serve_control(site: SimSite, host: str, port: int) -> AsyncIterator[tuple[str, int]]:
    """Serve control requests on ``host:port`` (0 = free port); yields the bound address."""

    open_writers: set[asyncio.StreamWriter] = set()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.add(writer)
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                async with asyncio.timeout(IDLE_TIMEOUT_S):
                    line = await reader.readline()
                if not line:
                    break
                writer.write(_encoder.encode(handle(site, line)) + b"\n")
                async with asyncio.timeout(IDLE_TIMEOUT_S):  # a client that never reads
                    await writer.drain()
        except (ValueError, TimeoutError, ConnectionError):
            pass  # over-long line, idle or gone: close the connection
        finally:
            open_writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(client, host, port, limit=MAX_LINE)
    bound = server.sockets[0].getsockname()
    try:
        yield str(bound[0]), int(bound[1])
    finally:
        server.close()
        for writer in list(open_writers):  # idle control connections end with the site
            writer.close()
        await server.wait_closed()
        for _ in range(3):  # let the handlers see EOF and finish
            await asyncio.sleep(0)


async def send_control(
    host: str, port: int, request: dict[str, Any], *, wait_s: float = 10.0
) -> dict[str, Any]:
    """Send one request to a running site's control server and return its reply."""
    async with asyncio.timeout(wait_s):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(_encoder.encode(request) + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    if not line:
        raise SimControlError("control server closed the connection without a reply")
    reply: dict[str, Any] = msgspec.json.decode(line)
    return reply
