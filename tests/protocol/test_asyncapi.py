"""Generated contract documents: AsyncAPI 3.0 and JSON Schema, and their committed copies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from lingtan import __version__
from lingtan.cli import app
from protocol import MESSAGE_TYPES, asyncapi_document, json_schemas, tag_of
from protocol.topics import RETAINED_KINDS, TopicKind, parse

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_cli_prints_asyncapi_3_with_one_channel_per_topic() -> None:
    result = runner.invoke(app, ["protocol", "asyncapi"])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    assert len(channels) == len(TopicKind)
    kinds = set()
    for channel in channels.values():
        address = channel["address"]
        concrete = address.format(tenant="acme", edge="park-a", device="bess-1")
        kinds.add(parse(concrete).kind)
        for parameter in re.findall(r"{(\w+)}", address):
            assert parameter in channel["parameters"]
    assert kinds == set(TopicKind)


def test_every_reference_resolves_and_retain_flags_follow_the_design() -> None:
    document = asyncapi_document()
    refs = _refs(document)
    assert refs
    for ref in refs:
        _resolve(document, ref)
    for name, operation in document["operations"].items():
        channel = _resolve(document, operation["channel"]["$ref"])
        concrete = channel["address"].format(tenant="t", edge="e", device="d")
        kind = parse(concrete).kind
        assert operation["bindings"]["mqtt"]["retain"] is (kind in RETAINED_KINDS), name
        assert operation["bindings"]["mqtt"]["qos"] == 1


def test_message_schemas_carry_their_tags_and_constraints() -> None:
    schemas = asyncapi_document()["components"]["schemas"]
    for cls in MESSAGE_TYPES:
        schema = schemas[cls.__name__]
        assert schema["properties"]["kind"]["enum"] == [tag_of(cls)]
    edge = schemas["TelemetryBatch"]["properties"]["edge"]
    assert edge["maxLength"] == 64 and "pattern" in edge
    assert schemas["TelemetryBatch"]["properties"]["points"]["maxItems"] == 10_000


def test_cli_prints_json_schema_covering_every_message() -> None:
    result = runner.invoke(app, ["protocol", "schema"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["$schema"].endswith("2020-12/schema")
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in document["anyOf"]} == {
        cls.__name__ for cls in MESSAGE_TYPES
    }
    for ref in _refs(document):
        _resolve(document, ref)


def test_committed_asyncapi_document_is_up_to_date() -> None:
    committed = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert committed == asyncapi_document(__version__), (
        "docs/asyncapi.yaml is stale: run `make docs` and commit the result"
    )


def test_committed_json_schema_is_up_to_date() -> None:
    committed = json.loads((ROOT / "docs" / "schema.json").read_text(encoding="utf-8"))
    assert committed == json_schemas(), "docs/schema.json is stale: run `make docs`"


def test_output_file_and_format_options(tmp_path: Path) -> None:
    target = tmp_path / "asyncapi.json"
    result = runner.invoke(app, ["protocol", "asyncapi", "--format", "json", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["asyncapi"] == "3.0.0"
    result = runner.invoke(app, ["protocol", "schema", "--format", "yaml"])
    assert yaml.safe_load(result.stdout)["title"].startswith("Lingtan VPP")


def test_unknown_format_is_a_usage_error_naming_the_option() -> None:
    result = runner.invoke(app, ["protocol", "asyncapi", "--format", "xml"])
    assert result.exit_code == 2
    assert "--format" in result.output
