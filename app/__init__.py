"""The composition root: builds config → store → adapters → delivery service → web, and runs the commands.

The only package that imports every other one (`bot`, `adapters`, `scheduler`, `web`); nothing
imports it. Its modules, one job each:

- `app.cli`: the click commands (parse arguments, call, print), nothing else;
- `app.build`: the wiring — platforms, the delivery service, the operations service for each command,
  and the token-pause policy of a platform that is supervised;
- `app.running`: `digestbot run`, everything started and stopped together;
- `app.panel`: the HTTP face and the web panel, with the platforms' renderers and size meters handed in;
- `app.context`: what every command shares (config, store, one-instance lock) and errors as one line;
- `app.logs`: logging behind the one redaction; `app.feeds`: which feed a command reads;
- `app.storage`: the storage part of `status`; `app.checks`: the `check-config` pass.
"""
