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


@pytest.mark.parametrize("path", _modules("bot"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_imports_no_platform_scheduler_adapter_web_or_app(path: Path) -> None:
    forbidden = _imports(path) & (PLATFORM_LIBRARIES | {"scheduler", "adapters", "web", "app"})
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_never_import_the_scheduler(path: Path) -> None:
    imports = _imports(path)
    assert not imports & {"scheduler", "apscheduler", "web", "app"}
    assert "feedparser" not in imports, "adapters never parse feeds"


@pytest.mark.parametrize("path", _modules("scheduler"), ids=lambda p: str(p.relative_to(ROOT)))
def test_scheduler_reaches_adapters_only_through_ports(path: Path) -> None:
    imports = _imports(path)
    assert not imports & {"adapters", "web", "app", "telegram", "discord"}


@pytest.mark.parametrize("path", _modules("web"), ids=lambda p: str(p.relative_to(ROOT)))
def test_web_never_imports_an_adapter(path: Path) -> None:
    """The panel gets its previews from renderers handed in by the composition root."""
    assert not _imports(path) & {"adapters", "app", "telegram", "discord"}


def test_nothing_imports_the_composition_root() -> None:
    for package in ("bot", "adapters", "scheduler", "web"):
        for path in _modules(package):
            assert "app" not in _imports(path), path


#: The engine's parts from the bottom up: a module may import its own part and the parts before it.
ENGINE_LAYERS = ("bot.core", "bot.contract", "bot.settings", "bot.splitting", "bot.storage", "bot.feeds",
                 "bot.chat", "bot.ports")


def _layer(module: str) -> int:
    for rank, layer in enumerate(ENGINE_LAYERS):
        if module == layer or module.startswith(layer + "."):
            return rank
    raise AssertionError(f"{module} belongs to no engine part: add it to a sub-package of bot/")


def test_every_engine_module_sits_in_a_part_with_a_docstring() -> None:
    for path in _modules("bot"):
        module = _module_name(path)
        if module != "bot":
            _layer(module)
    for layer in ENGINE_LAYERS:
        package = ROOT / layer.replace(".", "/") / "__init__.py"
        if package.exists():
            assert ast.get_docstring(ast.parse(package.read_text(encoding="utf-8"))), f"{package} says what it owns"


def test_engine_parts_import_only_downwards() -> None:
    graph = _import_graph()
    upward = [f"{module} → {target}" for module, targets in graph.items() if module.startswith("bot.")
              for target in targets if target.startswith("bot.") and _layer(target) > _layer(module)]
    assert upward == []


def test_the_layer_check_sees_an_upward_import() -> None:
    assert _layer("bot.core.models") < _layer("bot.storage.store") < _layer("bot.chat.query")
    with pytest.raises(AssertionError):
        _layer("bot.somewhere")


#: Imports inside functions allowed for a reason other than layering: the composition root loads a
#: platform library (python-telegram-bot, discord.py) or the web server only for the commands that use them,
#: which keeps `status`, `plan` or `ask` from paying their import time.
LAZY_ALLOWED = ("adapters.telegram", "adapters.discord", "web")


@pytest.mark.parametrize("package", ["app", "bot", "adapters", "scheduler", "web"])
def test_no_lazy_imports_of_our_own_modules(package: str) -> None:
    """A module of ours imported inside a function hides a dependency (usually one that breaks the layering)."""
    lazy = []
    for path in _modules(package):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                         else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
                for name in names:
                    ours = name.split(".")[0] in {"app", "bot", "adapters", "scheduler", "web"}
                    allowed = package == "app" and name.startswith(LAZY_ALLOWED)
                    if ours and not allowed:
                        lazy.append(f"{path.relative_to(ROOT)}: {name}")
    assert lazy == []


PRODUCTION = ("app", "bot", "scheduler", "adapters", "web")
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
            while target and target not in known:  # `import bot.core.models.x` → nearest module of ours
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
    assert "bot.core.models" in graph and "bot.chat.query" in graph["bot.ports"]  # the graph sees real imports
    cycles = _cycles(graph)
    assert [cycle for cycle in cycles if cycle not in PENDING_CYCLES] == []
    assert [cycle for cycle in PENDING_CYCLES if cycle not in cycles] == [], "a pending cycle is gone: delete its line"


@pytest.mark.parametrize("path", [p for package in PRODUCTION for p in _modules(package)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_production_code_never_imports_tests(path: Path) -> None:
    assert "tests" not in _imports(path), f"{path.relative_to(ROOT)} imports tests"
