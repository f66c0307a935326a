"""The one test harness: what test modules import instead of importing each other.

- `paths`: ROOT, DATA, TWIR_FEED, LOCALES, TEMPLATES.
- `config`: `ConfigFile`, a config.toml built table by table; `console_deployment`, N console destinations.
- `cli`: the CLI in process (`invoke`, click's runner) and as a process (`run_cli`, `run_cli_async`,
  `run_cli_on`, `start_run`, `start_run_async`, `stop`, `check_config`, `check_config_online`), always with
  `clean_env` (no DIGESTBOT_/TELEGRAM_/DISCORD_ variables from the shell); `one_line` for error output.
  Only tests under tests/e2e/ may start processes (tests/test_layout.py).
- `poll`: `wait_until` / `until`, poll a condition with a deadline and a message, failing at once when
  the watched process exits.
- `probes`: read-only looks at what a running bot wrote (`outbox_settled`, `console_log`).
- `corpus`, `editions`, `destinations`: the shared corpus, extra editions, typed destinations.
- `channels`: one channel on each fake platform through the real client (`telegram_channel`, fixture
  `telegram_channel`), and `send_telegram` / `send_discord` to send one post there as the outbox would.
- `feed_server` (fixture `server`), `serving` (a Telegram bot answering on the fake), `panel` (the panel
  as `run` wires it), `scheduling` (clock, feeder, scripted platform), `disk` (full and read-only disks),
  `metrics` (one Prometheus sample).

The fake Telegram Bot API and Discord servers stay in tests/fakes/.
"""
