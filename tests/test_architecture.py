"""Architecture rules that code review alone would not keep.

* Dependencies point one way: ``protocol`` imports nothing of ours (only msgspec and the
  standard library); ``firmware_sims`` plays the device and never imports the agent or the
  hub; ``edge_agent`` and ``hub`` never import each other. ``edge_agent`` may import
  ``firmware_sims`` only in its CLI (``vpp agent init --preset``), never in the agent.
* pymodbus and asyncua are imported by the agent only inside ``edge_agent/devices/``.
* Every package declares ``__all__`` in its ``__init__`` and every name in it exists.
* A hub capability's pure logic imports no I/O library (DESIGN: importable by the
  backtest): only the standard library without its I/O modules, msgspec, numpy, highspy and
  other pure hub modules. :data:`PURE` lists those packages with their I/O modules (the
  controllers and services, which may use Litestar and SQLAlchemy).
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"protocol", "edge_agent", "hub", "firmware_sims", "lingtan"}
PACKAGES = ["protocol", "edge_agent", "hub", "firmware_sims", "lingtan"]

FORBIDDEN: dict[str, set[str]] = {
    "protocol": OURS - {"protocol"},
    "firmware_sims": {"edge_agent", "hub", "lingtan"},
    "edge_agent": {"hub", "lingtan", "firmware_sims"},
    "hub": {"edge_agent", "firmware_sims", "lingtan"},
}
ALLOWED_EXCEPTIONS = {("edge_agent/cli.py", "firmware_sims")}
DEVICE_LIBRARIES = {"pymodbus", "asyncua"}

PURE: dict[str, set[str]] = {
    # package -> its modules that may do I/O (file names); every other module is pure.
    "hub/strategy": set(),
}
PURE_THIRD_PARTY = {"msgspec", "numpy", "highspy"}
PURE_HUB_PACKAGES = {"hub.strategy", "hub.domain"}
IO_STDLIB = {
    "asyncio", "socket", "ssl", "select", "selectors", "socketserver", "sqlite3", "dbm",
    "shelve", "subprocess", "multiprocessing", "threading", "concurrent", "urllib", "http",
    "ftplib", "smtplib", "imaplib", "poplib", "xmlrpc", "webbrowser", "os", "io", "pathlib",
    "shutil", "tempfile", "glob", "fileinput", "signal", "mmap", "pickle", "logging",
}  # fmt: skip


def imports_of(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file (at any depth, lazy ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def absolute_imports(path: Path) -> set[str]:
    """Full dotted names of every absolute import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def impure_imports(path: Path) -> set[str]:
    """What a pure module imports that it must not."""
    allowed = (set(sys.stdlib_module_names) - IO_STDLIB) | PURE_THIRD_PARTY | {"__future__"}
    bad = {name for name in imports_of(path) if name not in allowed and name != "hub"}
    bad |= {
        name
        for name in absolute_imports(path)
        if name.split(".")[0] == "hub"
        and not any(name == p or name.startswith(p + ".") for p in PURE_HUB_PACKAGES)
    }
    return bad


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    violations = []
    for path in sources(package):
        relative = path.relative_to(ROOT).as_posix()
        for name in imports_of(path) & FORBIDDEN[package]:
            if (relative, name) not in ALLOWED_EXCEPTIONS:
                violations.append(f"{relative} imports {name}")
    assert not violations, violations


def test_protocol_needs_only_msgspec_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"msgspec", "protocol", "__future__"}
    extra = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources("protocol")
        for name in imports_of(path) - allowed
    }
    assert not extra, extra


def test_agent_talks_to_devices_only_through_its_adapters() -> None:
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in sources("edge_agent")
        if imports_of(path) & DEVICE_LIBRARIES
        and "edge_agent/devices/" not in path.relative_to(ROOT).as_posix()
    ]
    assert not offenders, offenders


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import hub.app\n    from edge_agent import x\n")
    assert imports_of(sample) == {"hub", "edge_agent"}


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_logic_imports_no_io_library(package: str) -> None:
    modules = [p for p in sources(package) if p.name not in PURE[package]]
    assert modules, f"no modules found under {package}"
    offenders = {
        f"{path.relative_to(ROOT).as_posix()}: {sorted(bad)}"
        for path in modules
        if (bad := impure_imports(path))
    }
    assert not offenders, offenders


def test_the_purity_checker_sees_io_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import numpy\nimport msgspec\nfrom hub.domain import x\nfrom . import _rules\n"
        "def f():\n    import sqlalchemy\n    from asyncio import sleep\n"
        "    from hub.store import y\n    import os.path\n"
    )
    assert impure_imports(sample) == {"sqlalchemy", "asyncio", "hub.store", "os"}


@pytest.mark.parametrize("package", PACKAGES)
def test_public_packages_declare_all_and_every_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{package}/__init__.py must declare __all__"
    assert len(set(exported)) == len(exported), "duplicates in __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, missing
    assert all(not name.startswith("_") or name == "__version__" for name in exported)
