"""The deploy files, linted: no container engine runs on the test machines, so we check what we can.

The Dockerfile's instructions (slim base, non-root user, /data volume, HEALTHCHECK on /healthz,
no token in it, every COPY source present), compose.yaml parsed as YAML (tokens passed from the
environment, the volume, the stop grace period) and the systemd unit (Restart, TimeoutStopSec,
verified by `systemd-analyze` where it exists).
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STOP_SECONDS = 5  # how fast `run` stops on SIGTERM (asserted by tests/e2e/test_run_telegram.py)


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)?", value.strip())
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_dockerfile() -> None:
    steps = _instructions()
    known = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "VOLUME", "USER", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL",
             "ENTRYPOINT", "CMD", "ARG", "LABEL"}
    assert {op for op, _ in steps} <= known
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", steps[0][1])
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_run = max(i for i, (op, _) in enumerate(steps) if op == "RUN")
    assert max(i for i, (op, _) in enumerate(steps) if op == "USER") > last_run  # runs as that user
    assert any(op == "VOLUME" and "/data" in arg for op, arg in steps)
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in steps)
    assert ("STOPSIGNAL", "SIGTERM") in steps
    for op, arg in steps:
        if op == "COPY":
            for source in arg.split()[:-1]:
                assert (ROOT / source).exists(), source
        if op == "ENV":
            assert "TOKEN" not in arg.upper()
    entry = " ".join(arg for op, arg in steps if op in ("ENTRYPOINT", "CMD"))
    assert "digestbot" in entry and "run" in entry


def test_compose_file() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["digestbot"]
    assert service["build"] == "." and service["restart"] in ("unless-stopped", "always", "on-failure")
    env = service["environment"]
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        assert env[name].startswith("${" + name)  # passed through from the environment, never written here
    volumes = service["volumes"]
    assert any(v.endswith(":/data") for v in volumes)
    assert any(":/config/config.toml" in v and v.endswith(":ro") for v in volumes)
    assert env["DIGESTBOT_CONFIG"] == "/config/config.toml"
    named = [v.split(":")[0] for v in volumes if not v.startswith(".")]
    assert set(named) <= set(compose["volumes"])
    assert any(p.startswith("127.0.0.1:") and p.endswith(":8080") for p in service["ports"])
    assert _seconds(service["stop_grace_period"]) > STOP_SECONDS


def test_systemd_unit() -> None:
    path = ROOT / "deploy" / "digestbot.service"
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(path, encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert "2" in service["RestartPreventExitStatus"].split()  # a config error does not loop
    assert _seconds(service["TimeoutStopSec"]) > STOP_SECONDS
    assert service["ExecStart"].endswith("digestbot run")
    assert service["User"] not in ("root", "0")
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies() -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(ROOT / "deploy" / "digestbot.service")],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.strip() and "is not executable" not in line]  # /opt/digestbot is not installed here
    assert problems == []
