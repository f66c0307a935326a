"""The architecture's import rules, checked on the source: data flows one way, and no module cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBRARIES = {"telegram", "discord", "apscheduler"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", [p for p in _modules("bot") if p.name != "cli.py"], ids=lambda p: p.name)
def test_engine_imports_no_platform_scheduler_or_adapter(path: Path) -> None:
    forbidden = _imports(path) & (PLATFORM_LIBRARIES | {"scheduler", "adapters"})
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_never_import_the_scheduler(path: Path) -> None:
    imports = _imports(path)
    assert "scheduler" not in imports and "apscheduler" not in imports
    assert "feedparser" not in imports, "adapters never parse feeds"


@pytest.mark.parametrize("path", _modules("scheduler"), ids=lambda p: p.name)
def test_scheduler_reaches_adapters_only_through_ports(path: Path) -> None:
    imports = _imports(path)
    assert "adapters" not in imports and not imports & {"telegram", "discord"}


def test_nothing_imports_the_cli() -> None:
    for package in ("bot", "adapters", "scheduler"):
        for path in _modules(package):
            if path.name == "cli.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert "bot.cli" not in modules, path


PRODUCTION = ("bot", "scheduler", "adapters", "web")
#: Cycles whose removal is under way on another branch. Strict: once such a cycle is gone the test fails
#: until its line here is deleted, so none can linger. (The Telegram commands↔platform one is gone: the
#: sender no longer knows its command source.)
PENDING_CYCLES: list[list[str]] = []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(path: Path, known: set[str]) -> set[str]:
    """Our modules that `path` imports anywhere (top level, in functions, under TYPE_CHECKING).

    `from package import name` counts as importing `package.name` when that is a module
    of ours, else `package` itself; relative imports are resolved against the module.
    """
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import bot.models.x` → nearest module of ours
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _import_graph() -> dict[str, set[str]]:
    paths = [p for package in PRODUCTION for p in _modules(package)]
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _internal_imports(p, known) for p in paths}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules() -> None:
    """Any import counts, even one inside a function or under TYPE_CHECKING: a cycle is a design smell."""
    graph = _import_graph()
    assert "bot.models" in graph and "bot.query" in graph["bot.ports"]  # the graph sees real imports
    cycles = _cycles(graph)
    assert [cycle for cycle in cycles if cycle not in PENDING_CYCLES] == []
    assert [cycle for cycle in PENDING_CYCLES if cycle not in cycles] == [], "a pending cycle is gone: delete its line"


@pytest.mark.parametrize("path", [p for package in PRODUCTION for p in _modules(package)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_production_code_never_imports_tests(path: Path) -> None:
    assert "tests" not in _imports(path), f"{path.relative_to(ROOT)} imports tests"
