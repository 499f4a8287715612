"""The console's built bundle at ``/``: files from ``static/``, ``index.html`` for every
other path that is not the API (the single-page app routes in the browser).

Hashed assets under ``/assets/`` are cached for a year; ``index.html`` is revalidated on
every load, so a new bundle is picked up by a reload. Nothing here needs a login: the
bundle holds no data; every figure it shows comes from the authenticated API.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Final

from litestar import Response, get
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


def console_response(path: str, root: Path = STATIC_DIR) -> Response[bytes]:
    rel = path.lstrip("/")
    if rel.startswith(API_PREFIXES):
        raise NotFoundError(f"no route for /{rel}")
    found = _file(root, rel) if rel else None
    if found is not None and found.name != "index.html":
        media = _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0]
        cache = "public, max-age=31536000, immutable" if rel.startswith("assets/") else "no-cache"
        return Response(
            found.read_bytes(),
            media_type=media or "application/octet-stream",
            headers={"Cache-Control": cache},
        )
    if rel.startswith("assets/") or "." in rel.rsplit("/", 1)[-1]:
        raise NotFoundError(f"no file /{rel}")  # a missing asset is a 404, not the app
    index = _file(root, "index.html")
    body = index.read_bytes() if index is not None else NOT_BUILT.encode()
    return Response(
        body,
        media_type="text/html",
        status_code=200 if index is not None else 503,
        headers={"Cache-Control": "no-cache"},
    )


@get("/", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def console_root() -> Response[bytes]:
    """The console (single-page app)."""
    return console_response("/")


@get("/{path:path}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def console(path: FromPath[str]) -> Response[bytes]:
    """A file of the console's bundle, or the app itself for one of its routes."""
    return console_response(path)
