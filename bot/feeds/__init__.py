"""Feeds: fetching and parsing (`fetch`, `lift`) and ingesting them into the store (`ingest`).

Imports every engine part below it (`core`, `contract`, `settings`, `splitting`, `storage`).
"""
