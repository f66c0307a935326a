"""The design card's import rules, checked on the source: data flows one way."""

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
