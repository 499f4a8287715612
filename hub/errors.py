"""Errors of the hub and their one mapping to RFC 9457 problem details.

Hierarchy::

    HubError                      -> 500
    ├── NotFoundError                  -> 404  unknown id
    ├── ConflictError                  -> 409  state conflicts (template in use, duplicates)
    ├── InvalidInputError              -> 422  a field that passed the schema but not the rules
    ├── UnauthorizedError              -> 401  no or bad credentials
    ├── ForbiddenError                 -> 403  wrong role
    ├── UnavailableError               -> 503  a bounded queue is full (Retry-After)
    └── GatewayTimeoutError            -> 504  an edge did not answer in time

A database ``IntegrityError`` that slipped past the checks (a race between two writers)
is a 409. Litestar's own ``HTTPException`` family (``ValidationException`` -> 400 naming the field,
``NotAuthorizedException``, ``PermissionDeniedException``, ``TooManyRequestsException`` with
``Retry-After``...) goes through :func:`problem_response` too, as does anything unexpected
(500, logged once with its traceback, no internals in the body).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import IntegrityError

_log = logging.getLogger(__name__)
_MISSING = re.compile(r"missing required field `([^`]+)`")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://lingtan-vpp.invalid/problems/"


class HubError(Exception):
    status_code = 500
    type_ = "internal"
    title = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """``errors``: one entry per problem (``field``, ``message``, more keys allowed)
        when there are several; otherwise ``field`` names the one field at fault.
        ``extra``: more members of the problem details (RFC 9457 extension members)."""
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors
        self.extra = extra


class NotFoundError(HubError):
    status_code = 404
    type_ = "not-found"
    title = "Not found"


class ConflictError(HubError):
    status_code = 409
    type_ = "conflict"
    title = "Conflict"


class InvalidInputError(HubError):
    status_code = 422
    type_ = "invalid-input"
    title = "Invalid input"


class UnauthorizedError(HubError):
    status_code = 401
    type_ = "unauthorized"
    title = "Unauthorized"


class ForbiddenError(HubError):
    status_code = 403
    type_ = "forbidden"
    title = "Forbidden"


class UnavailableError(HubError):
    """A bounded resource is full (a queue): try again later (``Retry-After``)."""

    status_code = 503
    type_ = "unavailable"
    title = "Service unavailable"
    retry_after_s = 5


class GatewayTimeoutError(HubError):
    """An edge did not answer before the deadline."""

    status_code = 504
    type_ = "gateway-timeout"
    title = "Gateway timeout"


_TITLES = {
    400: ("validation", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request entity too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    429: ("rate-limited", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
    504: ("gateway-timeout", "Gateway timeout"),
}


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    default_type, default_title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_ or default_type),
        "title": title or default_title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else [exc.extra] if exc.extra else []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or "")
            missing = _MISSING.search(str(item.get("message", "")))
            if missing is not None:
                key = missing.group(1) if key in {"", "data"} else f"{key}.{missing.group(1)}"
            out.append(
                {
                    "field": key or "body",
                    "message": str(item.get("message", "")),
                    "source": str(item.get("source", "")),
                }
            )
    return out


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The one place any exception becomes a problem-details response."""
    if isinstance(exc, HubError):
        errors = exc.errors or (
            [{"field": exc.field, "message": exc.detail}] if exc.field else None
        )
        headers = (
            {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, UnavailableError) else None
        )
        return _problem(
            request,
            exc.status_code,
            exc.detail,
            type_=exc.type_,
            title=exc.title,
            errors=errors,
            headers=headers,
            extra=exc.extra,
        )
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        fields = ", ".join(e["field"] for e in errors)
        detail = f"invalid {fields}" if fields else str(exc.detail)
        return _problem(request, 400, detail, errors=errors)
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == HTTP_429_TOO_MANY_REQUESTS:
            headers.setdefault("Retry-After", headers.get("RateLimit-Reset", "1"))
        return _problem(request, exc.status_code, str(exc.detail), headers=headers or None)
    if isinstance(exc, IntegrityError):
        _log.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return _problem(request, 409, "the request conflicts with stored data", type_="conflict")
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _problem(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal error", type_="internal")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HubError: problem_response,
    HTTPException: problem_response,
    Exception: problem_response,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "ConflictError",
    "ForbiddenError",
    "GatewayTimeoutError",
    "HubError",
    "InvalidInputError",
    "NotFoundError",
    "UnauthorizedError",
    "UnavailableError",
    "problem_response",
]
