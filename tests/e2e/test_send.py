"""`digestbot send` as a maintainer runs it: one destination only, an honest outcome, a dry run that sends nothing."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from tests.fakes.telegram import SEND_METHODS, FakeTelegram
from tests.harness.cli import run_cli_async
from tests.harness.config import ConfigFile
from tests.harness.corpus import CORPUS

TOKEN = "515151:SEND-token_abcdefghijklmnopqrstuvwxyz"
FORUM = -1005550001


def _outbox_rows(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return dict(conn.execute("select destination, count(*) from outbox group by destination").fetchall())


def _console_config(tmp_path: Path) -> Path:
    return (ConfigFile(tmp_path).storage().table("console", log=tmp_path / "console.jsonl").feed("nlp", CORPUS)
            .destination("a", "console", languages=["fr"]).destination("b", "console", languages=["fr"]).write())


async def test_send_on_a_fresh_database_touches_only_that_destination(tmp_path: Path) -> None:
    config = _console_config(tmp_path)
    log = tmp_path / "console.jsonl"
    code, out, err = await run_cli_async("send", "a", "--issue", "4", "--section", "tools_datasets", "--config",
                                         str(config))
    assert code == 0, err
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records and {r["dest"] for r in records} == {"a"}
    assert all("Outils" in r["text"] for r in records)
    lines = out.strip().splitlines()  # the console platform prints its posts on stdout first
    (report,) = [line for line in lines if line.startswith("a ← ")]
    assert "Outils" in report and report.endswith(": delivered")
    assert lines[-1] == "a: 1 of 1 post delivered"
    assert set(_outbox_rows(tmp_path / "bot.db")) == {"a"}  # nothing queued for b either


async def test_a_dead_post_is_reported_and_exits_1(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(FORUM, "supergroup", is_forum=True, topics=(5,))
        config = tmp_path / "config.toml"
        config.write_text(f"""
[storage]
path = "{tmp_path / 'bot.db'}"
[[feeds]]
name = "nlp"
url = "{CORPUS}"
[telegram]
api_base_url = "{fake.base_url}"
time_scale = 0.01
[[destinations]]
name = "forum"
platform = "telegram"
chat = "{FORUM}"
languages = ["fr"]
topics = {{ tools_datasets = 99, publications = 5 }}
""", encoding="utf-8")
        env = {"TELEGRAM_BOT_TOKEN": TOKEN}
        code, out, err = await run_cli_async("send", "forum", "--issue", "4", "--section", "tools_datasets",
                                             "--config", str(config), env=env)
        assert code == 1, out + err
        lines = out.strip().splitlines()
        assert "dead: rejected:" in lines[0] and "thread not found" in lines[0]
        assert lines[-1] == "forum: 0 of 1 post delivered"
        assert TOKEN not in out + err
        code, out, err = await run_cli_async("send", "forum", "--issue", "4", "--section", "publications",
                                             "--config", str(config), env=env)
        assert code == 0, out + err
        assert [m.thread for m in fake.sent(FORUM)] and all(m.thread == 5 for m in fake.sent(FORUM))


async def test_dry_run_prints_the_rendered_posts_and_sends_nothing(tmp_path: Path) -> None:
    async with FakeTelegram(TOKEN, time_scale=0.01) as fake:
        fake.add_chat(-1001234, "channel", username="digest_fr")
        config = tmp_path / "config.toml"
        config.write_text(f"""
[storage]
path = "{tmp_path / 'bot.db'}"
[[feeds]]
name = "nlp"
url = "{CORPUS}"
[telegram]
api_base_url = "{fake.base_url}"
time_scale = 0.01
[[destinations]]
name = "fr"
platform = "telegram"
chat = "@digest_fr"
languages = ["fr"]
""", encoding="utf-8")
        env = {"TELEGRAM_BOT_TOKEN": TOKEN}
        code, out, err = await run_cli_async("send", "fr", "--issue", "4", "--dry-run", "--config", str(config),
                                             env=env)
        assert code == 0, err
        assert "fr ← " in out and "Outils" in out and "<b>" in out  # Telegram HTML, as it would be sent
        assert out.strip().endswith("dry run, nothing sent")
        assert not [r for r in fake.requests if r.method.lower() in SEND_METHODS]
        assert fake.sent() == []
        assert _outbox_rows(tmp_path / "bot.db") == {}
