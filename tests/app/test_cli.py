"""The click commands in process (`CliRunner`): help, and the preview JSON's stable shape and filters.

What needs a process of its own (ask on a fresh database, check-config, a running bot) is in
tests/e2e/test_cli.py.
"""

from __future__ import annotations

import json

from tests.harness.cli import invoke
from tests.harness.corpus import CORPUS


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "ingest", "preview", "ask", "check-config", "status", "plan", "send", "retry", "demo"):
        assert command in result.output
    for command in ("preview", "ask", "ingest", "check-config"):
        sub = invoke(command, "--help")
        assert sub.exit_code == 0 and "--config" in sub.output


def test_preview_json_has_the_stable_shape() -> None:
    result = invoke("preview", "--feed", str(CORPUS), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 19
    for edition in data:
        assert set(edition) == {"id", "link", "title", "language", "number", "sections"}
        for section in edition["sections"]:
            assert set(section) == {"key", "heading", "items"}
            for item in section["items"]:
                assert set(item) == {"title", "text", "images", "links"}
    fr4 = [e for e in data if e["language"] == "fr" and e["number"] == 4]
    assert len(fr4) == 1
    assert [s["key"] for s in fr4[0]["sections"]][:3] == ["publications", "creativity_society", "tools_datasets"]


def test_preview_filters() -> None:
    result = invoke("preview", "--feed", str(CORPUS), "--json", "--lang", "fr", "--issue", "4",
                    "--section", "tools_datasets")
    (edition,) = json.loads(result.stdout)
    assert [s["key"] for s in edition["sections"]] == ["tools_datasets"]
