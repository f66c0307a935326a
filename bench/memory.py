"""Peak memory of `digestbot ingest` on a 20 MB feed, as an operator runs it.

Each feed of the repository (the dair.ai corpus, This Week in Rust) is grown to at least 20 MB
by repeating its entries under distinct ids; the real CLI ingests it into a fresh database in
a child process, whose peak RSS (`ru_maxrss`, from `wait4`) is reported next to the RSS of the
same CLI doing nothing but `--version` (the interpreter and imports). Target: peak ≤ 300 MB.

    .venv/bin/python bench/memory.py [--mb 20]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_ENTRY = re.compile(rb"<entry>.*?</entry>", re.S)
TARGET_MB = 300.0
FEEDS = {"dair.ai": ROOT / "bot" / "data" / "dair-ai-feed-2020-03-17.xml",
         "this-week-in-rust": ROOT / "tests" / "data" / "this-week-in-rust-616-635.xml"}


def big_feed(source: bytes, megabytes: float) -> bytes:
    """`source`'s entries repeated under distinct ids until the feed holds `megabytes`."""
    entries = _ENTRY.findall(source)
    head = source[: source.index(entries[0])]
    tail = source[source.rindex(entries[-1]) + len(entries[-1]):]
    copies: list[bytes] = []
    size, n = len(head) + len(tail), 0
    while size < megabytes * 1024 * 1024:
        for entry in entries:
            copy = re.sub(rb"<id>(.*?)</id>", lambda m, n=n: b"<id>" + m.group(1) + b"-copy%d</id>" % n, entry, count=1)
            copies.append(copy)
            size += len(copy) + 1
        n += 1
    return head + b"\n".join(copies) + tail


def peak_mb(*args: str) -> tuple[float, str]:
    """Run the CLI with `args`; its peak RSS in MB and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGESTBOT", "TELEGRAM", "DISCORD"))}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"digestbot {' '.join(args)} failed: {output}")
    return usage.ru_maxrss / 1024, output


def measure(name: str, source: Path, megabytes: float, folder: Path) -> bool:
    feed = folder / f"{name}.xml"
    feed.write_bytes(big_feed(source.read_bytes(), megabytes))
    config = folder / f"{name}.toml"
    config.write_text(f'[storage]\npath = "{folder / name}.db"\n[[feeds]]\nname = "{name}"\nurl = "{feed}"\n'
                      f"max_bytes = {200 * 1024 * 1024}\n", encoding="utf-8")
    idle, _ = peak_mb("--version")
    peak, output = peak_mb("ingest", "--config", str(config))
    size = feed.stat().st_size / 1024 / 1024
    ok = peak <= TARGET_MB
    print(f"{name}: feed {size:.1f} MB ({output.strip()}); peak RSS {peak:.0f} MB "
          f"(CLI at rest {idle:.0f} MB, ingest {peak - idle:.0f} MB = {(peak - idle) / size:.1f}× the feed); "
          f"target ≤ {TARGET_MB:.0f} MB: {'OK' if ok else 'OVER'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = [measure(name, path, args.mb, Path(folder)) for name, path in FEEDS.items()]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
