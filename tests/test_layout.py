"""The tests' own layout, checked on the source: what `make check` leaves out is exactly the slow kinds.

- a test module imports helpers from tests/harness/ or tests/fakes/, never from another test module;
- only tests under tests/e2e/ start `digestbot` as a process (the directory marks them `subprocess`),
  only tests under tests/e2e/browser/ drive a browser (marked `browser`);
- tests/bot/<part>/ and tests/adapters/<platform>/ mirror a package that exists.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.harness.paths import ROOT

TESTS = ROOT / "tests"
E2E = TESTS / "e2e"
BROWSER = E2E / "browser"
#: what starts a process or a browser: the harness's process runners, the standard library's, Playwright
PROCESS_RUNNERS = {"run_cli", "run_cli_async", "run_cli_on", "run_cli_on_async", "start_run", "start_run_async",
                   "start_run_on", "check_config", "check_config_online", "create_subprocess_exec", "Popen"}


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p.name != "test_layout.py")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _names_used(tree: ast.Module) -> set[str]:
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    return names


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", [*_modules(), *sorted((TESTS / "harness").glob("*.py"))], ids=_id)
def test_no_test_module_imports_another(path: Path) -> None:
    others = {m for m in _imported_modules(_tree(path)) if m.startswith("tests.") and
              m.rsplit(".", 1)[-1].startswith("test_")}
    assert not others, f"{_id(path)} imports test modules {sorted(others)}: move the helper to tests/harness/"


@pytest.mark.parametrize("path", [p for p in _modules() if not p.is_relative_to(E2E)], ids=_id)
def test_only_e2e_starts_processes(path: Path) -> None:
    tree = _tree(path)
    runners = sorted(_names_used(tree) & PROCESS_RUNNERS)
    assert not runners, f"{_id(path)} uses {runners}: a test that starts a process belongs under tests/e2e/"
    if path.name != "test_deploy.py":  # it runs `systemd-analyze verify` on the unit file, never digestbot
        assert "subprocess" not in _imported_modules(tree), f"{_id(path)} imports subprocess: tests/e2e/ it is"


@pytest.mark.parametrize("path", [p for p in _modules() if not p.is_relative_to(BROWSER)], ids=_id)
def test_only_e2e_browser_drives_a_browser(path: Path) -> None:
    browsers = {m for m in _imported_modules(_tree(path)) if m.split(".")[0] in ("playwright", "selenium")}
    assert not browsers, f"{_id(path)} drives a browser: it belongs under tests/e2e/browser/"


@pytest.mark.parametrize("folder", [p for group in ("bot", "adapters") for p in sorted((TESTS / group).iterdir())
                                    if p.is_dir() and p.name != "__pycache__"], ids=_id)
def test_test_folders_mirror_packages(folder: Path) -> None:
    package = ROOT / folder.relative_to(TESTS)
    assert (package / "__init__.py").exists(), f"{_id(folder)} mirrors no package ({_id(package)} is missing)"


def test_the_slow_kinds_are_marked_by_directory(request: pytest.FixtureRequest) -> None:
    """Every collected test under e2e/ carries `subprocess`, under e2e/browser/ also `browser`, none elsewhere."""
    for item in request.session.items:
        kinds = {mark.name for mark in item.iter_markers()} & {"subprocess", "browser"}
        expected = {"subprocess"} if item.path.is_relative_to(E2E) else set()
        if item.path.is_relative_to(BROWSER):
            expected.add("browser")
        assert kinds == expected, f"{item.nodeid} is marked {sorted(kinds)}, its directory says {sorted(expected)}"
