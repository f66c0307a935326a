"""The vocabulary every part of the engine shares.

Owns the data model (`models`: issues, sections, items, spans), the messages handed to adapters
(`messages`: one type per kind of post and answer), the error hierarchy (`errors`), text cleaning
(`cleantext`), the one URL sanitiser (`urls`), secret redaction (`redact`), regex safety
(`regexcheck`), the language list and detection (`language`) and the reply catalogues (`i18n`).
Imports nothing else of `bot`.
"""
