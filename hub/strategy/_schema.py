"""The strategy config as JSON Schema, generated from the Structs (for the console editor).

``docs/strategy-rules.schema.json`` is this output, committed; a test fails when it is
stale. Regenerate it with::

    python -c "import hub.strategy as s; print(s.config_schema_text(), end='')" \
        > docs/strategy-rules.schema.json
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ._rules import StrategyConfig


def config_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a strategy ``config``: rules, model_config, optimiser."""
    schema: dict[str, Any] = msgspec.json.schema(StrategyConfig)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Lingtan VPP strategy config",
        **schema,
    }


def config_schema_text() -> str:
    """The schema as the committed file holds it (sorted keys, 2-space indent)."""
    return json.dumps(config_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
