"""The CLI as a user runs it, as a process: ask, check-config errors that name the key, a bot that keeps going."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.cli import run_cli, start_run, stop
from tests.harness.corpus import CORPUS
from tests.harness.paths import ROOT
from tests.harness.poll import wait_until
from tests.harness.probes import console_log


def test_ask_answers_from_a_fresh_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n[[feeds]]\nname = "n"\nurl = "{CORPUS}"\n')
    result = run_cli("ask", "/section outils", "--lang", "fr", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "Outils et jeux de données" in result.stdout
    bad = run_cli("ask", "/section zzzz", "--lang", "fr", "--config", str(config))
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
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert key in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_accepts_the_shipped_config() -> None:
    result = run_cli("check-config", "--config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    env_result = run_cli("check-config", env={"DIGESTBOT_CONFIG": str(ROOT / "config.toml")})
    assert env_result.returncode == 0 and "config.toml" in env_result.stdout


def test_run_keeps_delivering_when_a_platform_is_down(tmp_path: Path) -> None:
    """Telegram unreachable: the console destination still gets its posts; SIGTERM exits cleanly."""
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
    process = start_run("run", "--config", str(config), env={"TELEGRAM_BOT_TOKEN": "123456:TEST-token-never-logged"})
    try:
        wait_until(lambda: len(console_log(log)) >= 8, "eight console deliveries", proc=process, every=0.2)
    finally:
        code, stderr = stop(process)
    assert code == 0, stderr
    assert "telegram" in stderr and "retrying" in stderr
    assert "TEST-token-never-logged" not in stderr


def test_ask_shows_the_fallback_note_the_bots_show(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n[[feeds]]\nname = "n"\nurl = "{CORPUS}"\n')
    result = run_cli("ask", "/section tools 7", "--lang", "es", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Tools")  # no blank line first
    assert "No hay edición en español de este número; aquí tienes la edición en inglés." in result.stdout
