"""The composition root: builds config → store → adapters → delivery service → web, and runs the commands.

The only package that imports every other one (`bot`, `adapters`, `scheduler`, `web`); nothing
imports it. `app.cli` is the click layer (`digestbot …`), `app.checks` the `check-config` pass.
"""
