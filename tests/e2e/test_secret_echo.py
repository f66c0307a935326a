"""Secrets everywhere: a platform's error page that echoes the request URL never puts the token on screen.

Black-box: `digestbot check-config --online` in a subprocess against the fake Bot API made to answer
`getMe` with a bare HTML error page quoting `POST /bot<token>/getMe` (as a proxy in front of the API
may). The user sees one line per problem, redacted, and no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness.cli import check_config_online
from tests.harness.corpus import CORPUS

TG_TOKEN = "515151:ONLINE-token_abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("status", [200, 502])
async def test_echoing_error_page_under_check_config_online(tmp_path: Path, status: int) -> None:
    async with FakeTelegram(TG_TOKEN) as telegram:
        telegram.add_chat(-1001234, "channel", username="digest_fr")
        telegram.error_page(status, "<html><body><h1>Error</h1>POST {path}</body></html>", methods=("getMe",),
                            times=5)
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
        code, out, err = await check_config_online(config, {"TELEGRAM_BOT_TOKEN": TG_TOKEN})
        assert [r.description for r in telegram.requests if TG_TOKEN in r.description], "the page did echo it"
    secret_half = TG_TOKEN.partition(":")[2]
    assert code == 2, out + err
    assert TG_TOKEN not in out + err and secret_half not in out + err
    assert "Traceback" not in err and "File \"" not in err
    assert any(line.startswith("telegram.api_base_url: Telegram did not answer") for line in err.splitlines()), err
    assert err.splitlines()[-1].endswith(": 1 problem")
