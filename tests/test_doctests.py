"""Docstring examples are executed: an example that lies fails the build (STYLE #20)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["protocol", "firmware_sims", "edge_agent", "hub", "lingtan"]
EXAMPLE = re.compile(r"^\s*>>> (?!#)", re.MULTILINE)  # commented-out sketches do not count


def modules_with_examples() -> list[str]:
    found = []
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            path = ROOT / (info.name.replace(".", "/") + ".py")
            if not path.exists():
                path = ROOT / info.name.replace(".", "/") / "__init__.py"
            if path.exists() and EXAMPLE.search(path.read_text(encoding="utf-8")):
                found.append(info.name)
    return sorted(found)


MODULES = modules_with_examples()


def test_the_examples_that_document_the_contract_are_found() -> None:
    assert {"protocol.topics", "protocol.clock"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
