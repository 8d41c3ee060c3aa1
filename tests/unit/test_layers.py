"""The layering of DESIGN.md, checked on the source: which package may import which at run time, and no cycles.

An import under `if TYPE_CHECKING:` is for annotations only and does not count; an import inside a function
does (it runs when the function does).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("ragflow", "openai", "opsbee", "apps")

COMPOSITION = ("service.app", "service.deps", "service.runtime", "service.cli")  # where the layers are put together
BELOW_TEXT = ("service.api", "service.db", "service.domain", "service.jobs", "service.providers", "workers")

# (package whose modules are checked, modules it must not import at run time, why)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    ("service/api", ("service.db", "service.runtime", "service.jobs", "workers"), "controllers go through the domain"),
    ("service/domain", ("service.api", *COMPOSITION, "workers"), "the domain serves every family and the workers"),
    ("service/providers", ("service.domain", "service.api", "service.db", "service.jobs"), "providers know no domain"),
    ("service/jobs", ("service.domain", "service.api", "workers"), "the queue knows no domain"),
    ("service/text", (*BELOW_TEXT, *COMPOSITION, "sqlalchemy"), "parsing and chunking are pure"),
    ("workers", ("service.api", *COMPOSITION), "the root starts the inline worker, never the reverse"),
]


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield node
        yield from _runtime_nodes(node)


def runtime_imports(path: Path) -> set[str]:
    """The absolute module names `path` imports at run time (`from a.b import c` counts as `a.b` and `a.b.c`)."""
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violates(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules(package):
        for name in sorted(runtime_imports(path)):
            if _violates(name, forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize(("package", "forbidden", "why"), RULES, ids=[f"{r[0]}:{r[2]}" for r in RULES])
def test_layer_rule(package: str, forbidden: tuple[str, ...], why: str) -> None:
    assert modules(package), f"{package} has no modules: the rule checks nothing"
    assert violations(package, forbidden) == [], why


@pytest.mark.parametrize("family", FAMILIES)
def test_families_never_import_each_other(family: str) -> None:
    others = tuple(f"service.api.{other}" for other in FAMILIES if other != family)
    assert violations(f"service/api/{family}", others) == []


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(*packages: str) -> dict[str, set[str]]:
    """Each module of `packages` → the modules of `packages` it imports at run time."""
    paths = {module_name(path): path for package in packages for path in modules(package)}
    return {name: runtime_imports(path) & paths.keys() - {name} for name, path in paths.items()}


def first_cycle(graph: dict[str, set[str]]) -> list[str]:
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return []


def test_no_import_cycles() -> None:
    graph = import_graph("service", "workers")
    assert {"service.runtime", "workers.main", "service.api.ragflow.chats"} <= graph.keys()
    assert first_cycle(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert set(first_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == {"a", "b", "c"}


def test_the_checker_sees_runtime_imports_and_ignores_annotation_only_ones(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import service.db.engine\n"
        "if TYPE_CHECKING:\n"
        "    from service.db.models import Assistant\n"
        "else:\n"
        "    from service.jobs import enqueue\n"
        "def later() -> None:\n"
        "    from service.runtime import Runtime\n"
    )
    found = runtime_imports(source)
    assert {"service.db.engine", "service.jobs.enqueue", "service.runtime.Runtime"} <= found
    assert not any(name.startswith("service.db.models") for name in found)
