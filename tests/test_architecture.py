"""Architecture rules that code review alone would not keep.

* Dependencies point one way: ``protocol`` imports nothing of ours (only msgspec and the
  standard library); ``firmware_sims`` plays the device and never imports the agent or the
  hub; ``edge_agent`` and ``hub`` never import each other. ``edge_agent`` may import
  ``firmware_sims`` only in its CLI (``vpp agent init --preset``), never in the agent.
* pymodbus and asyncua are imported by the agent only inside ``edge_agent/devices/``.
* Every package declares ``__all__`` in its ``__init__`` and every name in it exists.
* The hub is one package per capability (:data:`CAPABILITIES`); its root holds only the
  wiring, settings, errors, the CLI and their plumbing (:data:`HUB_ROOT`).
* A hub capability's pure logic imports no I/O library (DESIGN: importable by the
  backtest): only the standard library without its I/O modules, msgspec, numpy, highspy,
  ``protocol`` (msgspec Structs, checked above) and other pure hub modules, and from a
  capability's ``__init__`` only the names it loads eagerly (the pure ones; the
  controllers and services load lazily). :data:`PURE` lists those packages with their I/O
  modules (the controllers and services, which may use Litestar and SQLAlchemy).
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
    "hub/strategy": {"_controller.py", "_service.py", "_worker.py", "_data.py"},
    "hub/markets": {
        "_history.py",
        "_openadr.py",
        "_openadr_connectors.py",
        "_http.py",
        "_sim_server.py",
        "_cli.py",
        "_controller.py",
        "_service.py",
        "_factory.py",
    },
    "hub/trading": {"_controller.py", "_service.py", "_loop.py"},
    "hub/catalogue": {"_templates.py", "_instances.py", "_service.py"},
    "hub/vpps": {"_controller.py", "_service.py"},
    "hub/dispatch": {"_controller.py", "_service.py", "_outbox.py", "_execution.py", "_pg.py"},
    "hub/ingest": {"_bus.py"},
    "hub/commands": {"_relay.py", "_service.py", "_controller.py"},
    "hub/models": {
        "_controller.py",
        "_service.py",
        "_experiments.py",
        "_training.py",
        "_train.py",
        "_formats.py",
        "_files.py",
        "_runtime.py",
    },
    "hub/settlement": {"_controller.py", "_service.py", "_job.py"},
    "hub/reports": {"_controller.py", "_service.py"},
    "hub/ops": {"_controller.py", "_alerts.py", "_fleet.py", "relay.py"},
}
PURE_THIRD_PARTY = {"msgspec", "numpy", "highspy", "protocol"}
PURE_HUB_MODULES = {"hub._dto"}  # the shared bases of the REST bodies: msgspec only
CAPABILITIES = {
    "auth", "catalogue", "dispatch", "ingest", "ops", "store", "strategy", "vpps", "web",
    "markets", "trading", "settlement", "models", "reports", "jobs", "commands",
}  # fmt: skip
HUB_ROOT = {
    "__init__.py", "app.py", "cli.py", "errors.py", "_settings.py", "_logging.py",
    "_metrics.py", "_context.py", "_deps.py", "_dto.py", "_serve.py", "_respcache.py",
    "_gc.py",
}  # fmt: skip
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


def module_name(path: Path) -> str:
    """The dotted name of a source file under :data:`ROOT`."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def hub_imports(path: Path, module: str) -> set[tuple[str, str | None]]:
    """``(module, name)`` of every import of ours in ``path`` (relative ones resolved
    against ``module``, the file's dotted name); ``name`` is None for ``import x`` and for
    a submodule imported by ``from package import _sub``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[tuple[str, str | None]] = set()
    type_only = {  # under ``if TYPE_CHECKING:``: the lazy names of a package ``__init__``
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for outer in node.body
        for inner in ast.walk(outer)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if (ROOT / (sub.replace(".", "/") + ".py")).exists() or alias.name.startswith("_"):
                    found.add((sub, None))
                else:
                    found.add((target, alias.name))
    return {(m, n) for m, n in found if m.split(".")[0] in OURS}


def pure_modules() -> set[str]:
    """Dotted names of every pure hub module (package ``__init__`` files included)."""
    return {
        module_name(path)
        for package, io in PURE.items()
        for path in sources(package)
        if path.name not in io
    } | PURE_HUB_MODULES


def impure_imports(path: Path, module: str | None = None) -> set[str]:
    """What a pure module imports that it must not."""
    module = module or module_name(path)
    allowed = (set(sys.stdlib_module_names) - IO_STDLIB) | PURE_THIRD_PARTY | {"__future__"}
    bad = {name for name in imports_of(path) if name not in allowed and name != "hub"}
    pure = pure_modules()
    for target, name in hub_imports(path, module):
        if target.split(".")[0] != "hub":
            continue
        if target not in pure:
            bad.add(target)
        elif name is not None and name in getattr(importlib.import_module(target), "_LAZY", {}):
            bad.add(f"{target}.{name}")  # a lazy (I/O) name through a pure __init__
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
        "import numpy\nimport msgspec\nfrom hub.vpps import aggregate\nfrom . import _types\n"
        "from ._aggregate import member_range\nfrom hub.catalogue._types import Category\n"
        "def f():\n    import sqlalchemy\n    from asyncio import sleep\n"
        "    from hub.store import y\n    import os.path\n    from ._service import z\n"
        "    from hub.vpps import VppController\n    from .. import app\n"
    )
    assert impure_imports(sample, "hub.vpps._sample") == {
        "sqlalchemy",
        "asyncio",
        "hub.store",
        "os",
        "hub.vpps._service",
        "hub.vpps.VppController",
        "hub.app",
    }


def test_the_hub_is_laid_out_by_capability() -> None:
    hub = ROOT / "hub"
    packages = {p.name for p in hub.iterdir() if (p / "__init__.py").exists()}
    modules = {p.name for p in hub.glob("*.py")}
    assert packages <= CAPABILITIES, packages - CAPABILITIES
    assert modules <= HUB_ROOT, modules - HUB_ROOT
    for package, io in PURE.items():
        assert io <= {p.name for p in (ROOT / package).glob("*.py")}, package


@pytest.mark.parametrize("package", PACKAGES)
def test_public_packages_declare_all_and_every_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{package}/__init__.py must declare __all__"
    assert len(set(exported)) == len(exported), "duplicates in __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, missing
    assert all(not name.startswith("_") or name == "__version__" for name in exported)


def _from_imports() -> list[tuple[str, str, str]]:
    """``(file, module, name)`` of every ``from <ours> import name`` in the repository
    (relative imports resolved), tests and benchmarks included."""
    found: list[tuple[str, str, str]] = []
    for base in [*PACKAGES, "tests", "bench"]:
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT)
            parts = list(rel.with_suffix("").parts)
            package = parts[:-1]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if node.level:
                    anchor = package[: len(package) - node.level + 1]
                    module = ".".join([*anchor, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                if module.split(".")[0] not in OURS:
                    continue
                found.extend((str(rel), module, alias.name) for alias in node.names)
    return found


def test_every_name_imported_from_our_packages_exists() -> None:
    """A package that loads names lazily (a module ``__getattr__``) hides a stale import
    from mypy (``__getattr__`` returns Any): resolve every one of them here instead."""
    missing = []
    for file, module_name, name in _from_imports():
        if name == "*":
            continue
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            continue
        try:
            importlib.import_module(f"{module_name}.{name}")
        except ModuleNotFoundError:
            missing.append(f"{file}: from {module_name} import {name}")
    assert not missing, missing
