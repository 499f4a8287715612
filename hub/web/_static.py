"""The console's built bundle at ``/``: files from ``static/``, ``index.html`` for every
other path that is not the API (the single-page app routes in the browser).

Hashed assets under ``/assets/`` are cached for a year; ``index.html`` is revalidated on
every load, so a new bundle is picked up by a reload. Nothing here needs a login: the
bundle holds no data; every figure it shows comes from the authenticated API.
"""

from __future__ import annotations

import functools
import gzip
import mimetypes
from pathlib import Path
from typing import Any, Final

from litestar import Request, Response, get
from litestar.params import FromPath

from hub.errors import NotFoundError

STATIC_DIR: Final = Path(__file__).parent / "static"
API_PREFIXES: Final = ("api/", "schema", "healthz", "readyz", "metrics")
"""Paths that are never the console: an unknown one is a 404, not the app."""
_TYPES: Final = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; connect-src 'self';"
    " img-src 'self' data: blob:;"
    " style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'self';"
    " frame-ancestors 'none'"
)
"""The console's page may load nothing from anywhere but the hub. Charts style elements
inline, and ECharts GL's compositor compiles its size expressions with ``Function``
(hence ``'unsafe-eval'``)."""
NOT_BUILT: Final = (
    "<!doctype html><meta charset=utf-8><title>Lingtan VPP</title>"
    "<p>The console bundle is not built into this install (hub/web/static is empty):"
    " run <code>make console</code>. The API is at <a href=/schema>/schema</a>.</p>"
)


def _file(root: Path, rel: str) -> Path | None:
    """``rel`` under ``root`` if it is a file there (no way out of ``root``)."""
    try:
        candidate = (root / rel).resolve()
        candidate.relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return candidate if candidate.is_file() else None


COMPRESSIBLE: Final = frozenset({".js", ".mjs", ".css", ".html", ".svg", ".json"})
MIN_GZIP_BYTES: Final = 1024


@functools.lru_cache(maxsize=256)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    """A bundle file gzipped once per version of it (the bundle changes only on deploy)."""
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def _body(found: Path, accept_encoding: str) -> tuple[bytes, dict[str, str]]:
    """The file's bytes, gzipped when the client accepts it and it is worth it."""
    raw = found.read_bytes()
    if (
        "gzip" in accept_encoding.lower()
        and found.suffix in COMPRESSIBLE
        and len(raw) >= MIN_GZIP_BYTES
    ):
        return _gzipped(found, found.stat().st_mtime_ns), {
            "Content-Encoding": "gzip",
            "Vary": "Accept-Encoding",
        }
    return raw, {"Vary": "Accept-Encoding"} if found.suffix in COMPRESSIBLE else {}


def console_response(
    path: str, root: Path = STATIC_DIR, accept_encoding: str = ""
) -> Response[bytes]:
    rel = path.lstrip("/")
    if rel.startswith(API_PREFIXES):
        raise NotFoundError(f"no route for /{rel}")
    found = _file(root, rel) if rel else None
    if found is not None and found.name != "index.html":
        media = _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0]
        cache = "public, max-age=31536000, immutable" if rel.startswith("assets/") else "no-cache"
        body, encoding = _body(found, accept_encoding)
        return Response(
            body,
            media_type=media or "application/octet-stream",
            headers={"Cache-Control": cache, **encoding},
        )
    if rel.startswith("assets/") or "." in rel.rsplit("/", 1)[-1]:
        raise NotFoundError(f"no file /{rel}")  # a missing asset is a 404, not the app
    index = _file(root, "index.html")
    if index is None:
        return Response(
            NOT_BUILT.encode(),
            media_type="text/html",
            status_code=503,
            headers={"Cache-Control": "no-cache"},
        )
    body, encoding = _body(index, accept_encoding)
    return Response(
        body,
        media_type="text/html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP, **encoding},
    )


@get("/", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def console_root(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The console (single-page app)."""
    return console_response("/", accept_encoding=request.headers.get("accept-encoding", ""))


@get("/{path:path}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def console(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[bytes]:
    """A file of the console's bundle, or the app itself for one of its routes."""
    return console_response(path, accept_encoding=request.headers.get("accept-encoding", ""))
