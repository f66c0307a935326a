"""The CLI as a user runs it: preview JSON shape, ask, check-config errors that name the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.harness.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=120,
                          env=full_env, cwd=cwd or ROOT)


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "ingest", "preview", "ask", "check-config", "status", "plan", "send", "retry", "demo"):
        assert command in result.output
    for command in ("preview", "ask", "ingest", "check-config"):
        sub = CliRunner().invoke(main, [command, "--help"])
        assert sub.exit_code == 0 and "--config" in sub.output


def test_preview_json_has_the_stable_shape() -> None:
    result = CliRunner().invoke(main, ["preview", "--feed", str(CORPUS), "--json"])
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
    result = CliRunner().invoke(main, ["preview", "--feed", str(CORPUS), "--json", "--lang", "fr", "--issue", "4",
                                       "--section", "tools_datasets"])
    (edition,) = json.loads(result.stdout)
    assert [s["key"] for s in edition["sections"]] == ["tools_datasets"]


def test_ask_answers_from_a_fresh_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n[[feeds]]\nname = "n"\nurl = "{CORPUS}"\n')
    result = _run("ask", "/section outils", "--lang", "fr", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "Outils et jeux de données" in result.stdout
    bad = _run("ask", "/section zzzz", "--lang", "fr", "--config", str(config))
    assert bad.returncode == 1 and "zzzz" in bad.stdout


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ("[storage]\npaht = 'x'\n", "storage.paht", "unknown key"),
        ("[[destinations]]\nname='d'\nplatform='console'\nschedule='cron 61 * * * *'\n",
         "destinations.d.schedule", 'minute: "61" is not valid (allowed: 0-59)'),
        ("[[destinations]]\nname='d'\nplatform='console'\nschedule='weekly'\n", "destinations.d.schedule", "schedule"),
        ("[[destinations]]\nname='d'\nplatform='console'\ntimezone='Mars/Olympus'\n", "destinations.d.timezone",
         "unknown timezone"),
        ("[[destinations]]\nname='d'\nplatform='console'\nsections=['nonsense']\n", "destinations.d.sections",
         "unknown section"),
        ("[[destinations]]\nname='d'\nplatform='telegram'\nchat='@xchan'\n", "telegram.token_env",
         "TELEGRAM_BOT_TOKEN"),
        ("[telegram]\ntoken = '123:abc'\n", "token", "must not"),
        ("[[feeds]]\nname='f'\nurl='x'\npoll_interval='soon'\n", "feeds.f.poll_interval", "duration"),
        ("not toml = = =", "config.toml", "TOML"),
    ],
)
def test_check_config_names_the_bad_key(tmp_path: Path, body: str, key: str, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body)
    result = _run("check-config", "--config", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert key in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_accepts_the_shipped_config() -> None:
    result = _run("check-config", "--config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    env_result = _run("check-config", env={"DIGESTBOT_CONFIG": str(ROOT / "config.toml")})
    assert env_result.returncode == 0 and "config.toml" in env_result.stdout


def test_run_keeps_delivering_when_a_platform_is_down(tmp_path: Path) -> None:
    """Telegram unreachable: the console destination still gets its posts; SIGTERM exits cleanly."""
    import signal
    import time

    log = tmp_path / "console.jsonl"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[storage]
path = "{tmp_path / 'db.sqlite'}"
[[feeds]]
name = "n"
url = "{CORPUS}"
[telegram]
api_base_url = "http://127.0.0.1:9/bot"
[console]
log = "{log}"
[[destinations]]
name = "console"
platform = "console"
languages = ["fr"]
[[destinations]]
name = "tg"
platform = "telegram"
chat = "@nowhere"
languages = ["fr"]
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    env.update({"TELEGRAM_BOT_TOKEN": "123456:TEST-token-never-logged"})
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "run", "--config", str(config)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and len(log.read_text().splitlines()) >= 8:
                break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.2)
        assert log.exists() and len(log.read_text().splitlines()) >= 8
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "telegram" in stderr and "retrying" in stderr
    assert "TEST-token-never-logged" not in stderr
