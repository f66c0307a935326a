"""A config.toml for a test, built table by table: `ConfigFile(tmp_path).storage().feed(...).write()`.

Values are written as TOML (strings quoted, lists and inline tables as TOML spells them); `raw` adds text
as it is, for the tests that write a broken line on purpose. The file lands beside the database, so a
relative path in it means the same thing to every command the test runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self, TypeAlias

from tests.harness.corpus import CORPUS

__all__ = ["ConfigFile", "console_deployment", "toml_value"]

Value: TypeAlias = "str | bool | int | float | Path | Sequence[Value] | Mapping[str, Value]"


def toml_value(value: Value) -> str:
    """One TOML value: JSON's string escapes are TOML's basic-string escapes."""
    match value:
        case bool():
            return "true" if value else "false"
        case int() | float():
            return repr(value)
        case str() | Path():
            return json.dumps(str(value), ensure_ascii=False)
        case Mapping():
            return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
        case _:
            return "[" + ", ".join(toml_value(item) for item in value) + "]"


def _table(header: str, options: Mapping[str, Value | None]) -> str:
    lines = [header, *(f"{key} = {toml_value(value)}" for key, value in options.items() if value is not None)]
    return "\n".join(lines) + "\n"


@dataclass
class ConfigFile:
    """The tables of one config file, in the order they are added."""

    folder: Path
    parts: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        """Where `storage()` puts the database by default."""
        return self.folder / "bot.db"

    def storage(self, path: Path | str | None = None) -> Self:
        return self.table("storage", path=self.db if path is None else path)

    def feed(self, name: str = "nlp", url: Path | str = CORPUS, **options: Value | None) -> Self:
        self.parts.append(_table("[[feeds]]", {"name": name, "url": url, **options}))
        return self

    def destination(self, name: str, platform: str = "console", **options: Value | None) -> Self:
        self.parts.append(_table("[[destinations]]", {"name": name, "platform": platform, **options}))
        return self

    def table(self, name: str, **options: Value | None) -> Self:
        """`[name]` with its keys: console, telegram, discord, delivery, web, sections.aliases …"""
        self.parts.append(_table(f"[{name}]", options))
        return self

    def raw(self, text: str) -> Self:
        self.parts.append(text if text.endswith("\n") else text + "\n")
        return self

    def text(self) -> str:
        return "\n".join(self.parts)

    def write(self, name: str = "config.toml") -> Path:
        path = self.folder / name
        path.write_text(self.text(), encoding="utf-8")
        return path


def console_deployment(folder: Path, db: Path | str, *, destinations: int = 1, poll: str = "1h",
                       log: Path | None = None, delay: float = 0.0) -> Path:
    """The corpus feed to `destinations` French console destinations (console-0, console-1, …), written to
    FOLDER/config.toml: the operator-fault tests' deployment. `log` is the console's delivery log, `delay`
    how slow each send is."""
    config = ConfigFile(folder).storage(db).feed("nlp", CORPUS, poll_interval=poll)
    if log is not None:
        config.table("console", log=log, delay=delay)
    for n in range(destinations):
        config.destination(f"console-{n}", "console", languages=["fr"])
    return config.write()
