"""`check-config --online` against the fake platforms: each broken place named by its key, nothing posted."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.discord import TOKEN as DISCORD_TOKEN
from tests.fakes.discord import running_fake
from tests.fakes.telegram import SEND_METHODS, FakeTelegram
from tests.harness.cli import check_config_online
from tests.harness.corpus import CORPUS

TG_TOKEN = "515151:ONLINE-token_abcdefghijklmnopqrstuvwxyz"
FORUM = -1005550002
SEND_MESSAGES = 1 << 11


async def test_online_names_the_missing_chat_topic_and_channel_permission(tmp_path: Path) -> None:
    async with FakeTelegram(TG_TOKEN, time_scale=0.01) as telegram, running_fake() as discord:
        telegram.add_chat(FORUM, "supergroup", is_forum=True, topics=(5,))
        telegram.add_chat(-1001234, "channel", username="digest_fr")
        hidden = discord.add_channel("hidden", forbidden=True)
        read_only = discord.add_channel("read-only", deny=SEND_MESSAGES)
        config = tmp_path / "config.toml"
        config.write_text(f"""
[storage]
path = "{tmp_path / 'bot.db'}"
[[feeds]]
name = "nlp"
url = "{CORPUS}"
[[feeds]]
name = "gone"
url = "{telegram.base_url.removesuffix('/bot')}/feed.xml"
[telegram]
api_base_url = "{telegram.base_url}"
[discord]
api_base_url = "{discord.api_base}"
[[destinations]]
name = "fr"
platform = "telegram"
chat = "@digest_fr"
[[destinations]]
name = "nowhere"
platform = "telegram"
chat = "@no_such_chat"
[[destinations]]
name = "forum"
platform = "telegram"
chat = "{FORUM}"
topics = {{ publications = 5, tools_datasets = 99 }}
[[destinations]]
name = "ok-channel"
platform = "discord"
channel = "{discord.default_channel}"
[[destinations]]
name = "hidden"
platform = "discord"
channel = "{hidden}"
[[destinations]]
name = "read-only"
platform = "discord"
channel = "{read_only}"
""", encoding="utf-8")
        code, out, err = await check_config_online(config, {"TELEGRAM_BOT_TOKEN": TG_TOKEN,
                                                                   "DISCORD_BOT_TOKEN": DISCORD_TOKEN})
        lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
        assert code == 2, out + err
        problems = {line.split(": ", 1)[0]: line for line in lines[:-1]}
        assert set(problems) == {"feeds.gone.url", "destinations.nowhere.chat",
                                 "destinations.forum.topics.tools_datasets", "destinations.hidden.channel",
                                 "destinations.read-only.channel"}, err
        assert "chat not found" in problems["destinations.nowhere.chat"].lower()
        assert "thread not found" in problems["destinations.forum.topics.tools_datasets"]
        assert "cannot see" in problems["destinations.hidden.channel"]
        assert "Send Messages" in problems["destinations.read-only.channel"]
        assert "404" in problems["feeds.gone.url"]
        assert lines[-1].endswith("5 problems")
        assert [r.method for r in telegram.requests if r.method.lower() in SEND_METHODS] == []
        assert all(not discord.channel_messages(c) for c in discord.channels)
        assert TG_TOKEN not in err and DISCORD_TOKEN not in err


async def test_online_refused_token_is_one_line(tmp_path: Path) -> None:
    async with FakeTelegram(TG_TOKEN) as telegram:
        telegram.add_chat(-1001234, "channel", username="digest_fr")
        config = tmp_path / "config.toml"
        config.write_text(f"""
[[feeds]]
name = "nlp"
url = "{CORPUS}"
[telegram]
api_base_url = "{telegram.base_url}"
[[destinations]]
name = "fr"
platform = "telegram"
chat = "@digest_fr"
""", encoding="utf-8")
        wrong = "999999:WRONG-token_abcdefghijklmnopqrstuvwxyz"
        code, out, err = await check_config_online(config, {"TELEGRAM_BOT_TOKEN": wrong})
        assert code == 2
        assert err.splitlines()[0] == "telegram.token_env: Telegram refused the token in TELEGRAM_BOT_TOKEN"
        assert wrong not in err and "WRONG" not in err
        code, out, err = await check_config_online(config, {"TELEGRAM_BOT_TOKEN": TG_TOKEN})
        assert code == 0, err
        assert "online" in out
