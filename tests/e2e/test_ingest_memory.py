"""Peak memory of `digestbot ingest` on a 20 MB feed stays ≤ 300 MB (black-box: the real CLI in a
child process, its peak RSS from `wait4`). It was ~380 MB: feedparser's "no Content-type" notice
made the light (lifted) parse look broken, and the whole document was parsed a second time."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.harness.cli import start_run
from tests.harness.corpus import CORPUS

_ENTRY = re.compile(rb"<entry>.*?</entry>", re.S)


def _twenty_megabytes(source: bytes) -> bytes:
    entries = _ENTRY.findall(source)
    head, tail = source[: source.index(entries[0])], source[source.rindex(entries[-1]) + len(entries[-1]):]
    copies, size, n = [], 0, 0
    while size < 20 * 1024 * 1024:
        for entry in entries:
            copy = entry.replace(b"</id>", b"-copy%d</id>" % n, 1)
            copies.append(copy)
            size += len(copy)
        n += 1
    return head + b"\n".join(copies) + tail


def test_ingesting_a_20_mb_feed_peaks_under_300_mb(tmp_path: Path) -> None:
    feed = tmp_path / "big.xml"
    feed.write_bytes(_twenty_megabytes(CORPUS.read_bytes()))
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "bot.db"}"\n[[feeds]]\nname = "nlp"\nurl = "{feed}"\n'
                      f"max_bytes = {64 * 1024 * 1024}\n", encoding="utf-8")
    proc = start_run("ingest", "--config", str(config), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0 and "editions" in out, out
    assert int(out.split(": ", 1)[1].split()[0]) > 700  # the whole feed was stored
    peak_mb = usage.ru_maxrss / 1024
    assert peak_mb <= 300, f"peak RSS {peak_mb:.0f} MB for a {feed.stat().st_size / 2**20:.1f} MB feed"
