"""Where things are, computed once: a test module never counts `parents[...]` from its own depth."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
TWIR_FEED = DATA / "this-week-in-rust-616-635.xml"  # This Week in Rust #616–#635 (CC-BY-SA 4.0)
LOCALES = ROOT / "bot" / "locales"
TEMPLATES = ROOT / "web" / "templates"
