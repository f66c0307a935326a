"""The HTTP face of `digestbot run`, beside the CLI: health, metrics (and later the panel).

Like `app/cli.py`, it only calls code that exists for every face (store, outbox, status);
it computes nothing of its own. `create_app` is the one place routes are added, so the
web panel extends the same application; `start_server` runs it in the bots' event loop.
"""

from __future__ import annotations

from web.app import APP_STATE, WebState, create_app, start_server
from web.metrics import MeteredEngine, Metrics

__all__ = ["APP_STATE", "Metrics", "MeteredEngine", "WebState", "create_app", "start_server"]
