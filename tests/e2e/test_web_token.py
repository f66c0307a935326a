"""A short web token is refused by the real CLI (a process) with how to make one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.cli import one_line, run_cli_on
from tests.harness.panel import write_config


@pytest.mark.parametrize("command", [("check-config",), ("run", "--once")])
def test_a_short_web_token_is_refused_with_how_to_make_one(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = write_config(tmp_path)
    result = run_cli_on(config, *command, env={"DIGESTBOT_WEB_TOKEN": "abc"})
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr) if command[0] == "run" else result.stderr.splitlines()[0]
    assert "web.token_env" in line and "openssl rand -hex 32" in line and "abc" not in line.split(":", 2)[-1]
    assert run_cli_on(config, "check-config", env={"DIGESTBOT_WEB_TOKEN": "0123456789abcdef"}).returncode == 0
