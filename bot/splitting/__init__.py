"""One feed entry's HTML → an issue of sections and items.

Owns the splitter (`split`, `items`, `richtext`), section keys and names (`sections`,
`section_names`), recognising which entries are newsletter issues (`detect`) and their numbering
(`edition`). Imports `bot.core`, `bot.contract` and `bot.settings`.
"""
