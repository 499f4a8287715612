"""Write the hub's OpenAPI document, as ``create_app`` builds it, to a JSON file.

``make console`` runs it before ``openapi-typescript`` generates the console's API types
(``console/src/api/schema.d.ts``) from that file: the types are never written by hand.

Usage: ``python console/scripts/openapi.py console/openapi.json``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def openapi_document() -> dict[str, object]:
    from hub import Settings
    from hub.app import create_app

    settings = Settings(db_url="sqlite+aiosqlite:///:memory:", mqtt_url=None, jwt_secret="x" * 32)
    document: dict[str, object] = create_app(settings).openapi_schema.to_schema()
    return document


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "console/openapi.json")
    out.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
