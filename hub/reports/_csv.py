"""CSV of report rows (pure): RFC 4180 quoting, CRLF line ends, UTF-8 with a BOM so Excel
opens Chinese text as UTF-8."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """``rows`` as CSV bytes (header = ``columns`` or the keys in first-seen order)."""
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    lines = [",".join(_cell(c) for c in columns)]
    lines += [",".join(_cell(row.get(c)) for c in columns) for row in rows]
    return (BOM + "\r\n".join(lines) + "\r\n").encode("utf-8")
