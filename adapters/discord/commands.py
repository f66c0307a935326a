"""Slash commands: `DiscordCommands` (the command source) and the Cog that answers them.

interaction → `Query` → `QueryEngine.answer` → rendered reply. Nothing more.

What `/section outils` means lives in `bot/chat/query.py`; this Cog only parses options,
picks the language (the option, else `QueryEngine.lang_for`'s order for who reads the answer:
lookups are ephemeral by default, seen by the asker only, and answered in the asker's locale
first; public answers in the channel's language first), and replies within Discord's 3 s
(deferring first for commands that may be slow).
Names and descriptions are `locale_str`s resolved by `CatalogueTranslator` from
`bot/locales/<lang>/discord.toml`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from adapters.discord.payloads import DiscordPayload
from adapters.discord.platform import DiscordSender, message_kwargs
from adapters.discord.render import DiscordRenderer
from bot.chat.commands import (
    Audience,
    Command,
    Help,
    Issues,
    Latest,
    Page,
    Query,
    SearchCommand,
    SectionCommand,
    SectionsCommand,
    Unsubscribe,
    subscription,
)
from bot.core.i18n import LANGUAGES, normalize_language, supported_languages, t
from bot.core.messages import Answer, ErrorAnswer
from bot.ports import Rendered

if TYPE_CHECKING:
    from bot.chat.query import QueryEngine

__all__ = ["LANGUAGE_CHOICES", "CatalogueTranslator", "DigestCommands", "DiscordCommands", "PageButton",
           "catalogue_language"]

log = logging.getLogger(__name__)

#: Edition languages of the newsletter, offered as choices of every `language` option.
LANGUAGE_CHOICES = [app_commands.Choice(name=name, value=code) for code, name in LANGUAGES.items()]


def _s(default: str, key: str) -> locale_str:
    """A command string with its catalogue key (`discord.<key>`) for the translator."""
    return locale_str(default, key=f"discord.{key}")


def catalogue_language(locale: discord.Locale | str) -> str | None:
    """Our catalogue for a Discord locale: es-ES/es-419 → es, pt-BR → pt-br, zh-CN/zh-TW → zh, tr → tr.

    None when we have no catalogue for it (Discord has no Arabic locale, so `ar` is never picked here).
    """
    lang = normalize_language(locale.value if isinstance(locale, discord.Locale) else locale)
    return lang if lang in supported_languages() else None


class CatalogueTranslator(app_commands.Translator):
    """Resolves command names and descriptions from our TOML catalogue, so FR users see `/dernier`."""

    async def translate(self, string: locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        key = string.extras.get("key")
        lang = catalogue_language(locale)
        if not key or lang is None:
            return None
        text = t(key, lang)
        return None if text == key else text


#: The `public` option of the lookups (see LOOKUPS).
_PUBLIC_NAME = _s("public", "opt.public.name")
_PUBLIC_DESCRIPTION = _s("True: everyone in the channel sees the answer; false: only you", "opt.public.description")

PAGE_PREFIX = "digest:page:"
#: Reading commands: answered for the asker only (ephemeral) unless `public` or `[discord] answers = "public"`.
LOOKUPS = frozenset({"section", "sections", "search", "latest", "issues"})


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"digest:page:(?P<token>[!-~]{1,40})"):
    """A ◀/▶ button carrying the engine's page token; dynamic, so it still works after a restart."""

    def __init__(self, token: str, label: str = "▶") -> None:
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle.secondary,
                                           custom_id=f"{PAGE_PREFIX}{token}"))
        self.token = token

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: Any, /) -> PageButton:
        return cls(match["token"], getattr(item, "label", None) or "▶")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("DigestCommands") if isinstance(interaction.client, commands.Bot) else None
        if isinstance(cog, DigestCommands):
            await cog.turn_page(interaction, self.token)


def _view(payload: Any) -> discord.ui.View | None:
    buttons = payload.get("buttons") or ()
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(PageButton(button["token"], button["label"]))
    return view


def _reply_kwargs(part: Rendered) -> dict[str, Any]:
    payload: DiscordPayload = part.payload  # type: ignore[assignment]
    kwargs = {k: v for k, v in message_kwargs(payload).items() if v}
    kwargs["allowed_mentions"] = discord.AllowedMentions.none()
    view = _view(payload)
    if view is not None:
        kwargs["view"] = view
    return kwargs


class DigestCommands(commands.Cog):
    """The bot's slash commands; one `QueryEngine` answers them all."""

    def __init__(self, engine: QueryEngine, render_answer: Callable[[Answer], Sequence[Rendered]],
                 slow_commands: frozenset[str], *, public_lookups: bool = False) -> None:
        self.engine = engine
        self.render_answer = render_answer
        self.slow_commands = slow_commands
        self.public_lookups = public_lookups

    # ----------------------------------------------------------------------- plumbing
    def _audience(self, interaction: discord.Interaction, command: str, public: bool | None) -> Audience:
        """Who will read the answer: a DM is private; a lookup is the asker's alone unless shared."""
        if interaction.guild_id is None:
            return Audience.PRIVATE
        if command in LOOKUPS and not (self.public_lookups if public is None else public):
            return Audience.EPHEMERAL
        return Audience.PUBLIC

    def _lang(self, interaction: discord.Interaction, explicit: str | None, audience: Audience) -> str:
        if explicit:
            return normalize_language(explicit)
        user, server = interaction.locale, interaction.guild_locale
        return self.engine.lang_for("discord", str(interaction.channel_id or ""), user.value if user else None,
                                    server.value if server else None, audience=audience)

    @staticmethod
    def _is_admin(interaction: discord.Interaction) -> bool:
        """May this member change the channel's state? Managers of the channel or the server (or admins)."""
        permissions = interaction.permissions  # the member's, in this channel (overwrites applied by Discord)
        return bool(permissions.manage_channels or permissions.manage_guild or permissions.administrator)

    async def _run(self, interaction: discord.Interaction, command: Command, language: str | None = None,
                   public: bool | None = None) -> None:
        audience = self._audience(interaction, command.name, public)
        lang = self._lang(interaction, language, audience)
        query = Query(command, lang=lang, platform="discord",
                      chat=str(interaction.channel_id or ""), user=str(interaction.user.id),
                      is_admin=self._is_admin(interaction), is_private=interaction.guild is None)
        private = audience is Audience.EPHEMERAL
        deferred = False
        if command.name in self.slow_commands:  # the engine is synchronous: acknowledge first, answer after
            await interaction.response.defer(thinking=True, ephemeral=private)
            deferred = True
        try:
            answer = self.engine.answer(query)
        except Exception:  # the engine promises not to raise; a bug must still get a reply
            log.exception("/%s failed", command.name)
            answer = ErrorAnswer(lang=lang, message=t("discord.error_generic", lang))
        await self._reply(interaction, self.render_answer(answer), deferred=deferred, private=private)

    async def _reply(self, interaction: discord.Interaction, parts: Sequence[Rendered], *, deferred: bool,
                     private: bool = False) -> None:
        """Send the parts; `private` (the asker's eyes only) was decided before any deferral."""
        ephemeral = private or bool(parts and parts[0].payload.get("ephemeral"))
        first, rest = parts[0], parts[1:]
        if not deferred:
            await interaction.response.send_message(ephemeral=ephemeral, **_reply_kwargs(first))
        elif ephemeral and not private:  # the deferred reply is public: replace it by a private one
            await interaction.delete_original_response()
            await interaction.followup.send(ephemeral=True, **_reply_kwargs(first))
        else:
            kwargs = _reply_kwargs(first)
            await interaction.edit_original_response(content=kwargs.get("content"), embeds=kwargs.get("embeds", []),
                                                     view=kwargs.get("view"),
                                                     allowed_mentions=kwargs["allowed_mentions"])
        for part in rest:
            await interaction.followup.send(ephemeral=ephemeral, **_reply_kwargs(part))

    async def turn_page(self, interaction: discord.Interaction, token: str) -> None:
        """A ◀/▶ click: the neighbouring section replaces the message in place."""
        message = interaction.message
        if interaction.guild_id is None:
            audience = Audience.PRIVATE
        else:
            audience = Audience.EPHEMERAL if message is not None and message.flags.ephemeral else Audience.PUBLIC
        lang = self._lang(interaction, None, audience)
        answer = self.engine.answer(Query(Page(token), lang=lang, platform="discord",
                                          chat=str(interaction.channel_id or ""), user=str(interaction.user.id)))
        parts = self.render_answer(answer)
        if isinstance(answer, ErrorAnswer):
            await interaction.response.send_message(ephemeral=True, **_reply_kwargs(parts[0]))
            return
        kwargs = _reply_kwargs(parts[0])
        await interaction.response.edit_message(content=kwargs.get("content"), embeds=kwargs.get("embeds", []),
                                                view=kwargs.get("view"), allowed_mentions=kwargs["allowed_mentions"])

    async def cog_app_command_error(self, interaction: discord.Interaction,
                                    error: app_commands.AppCommandError) -> None:
        """Bad option values (a transformer failed) and bugs: a private, translated message."""
        lang = normalize_language((interaction.guild_locale or interaction.locale).value)
        log.warning("slash command error: %s", error)
        message = t("discord.error_generic", lang)
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)

    # ----------------------------------------------------------------------- commands
    @app_commands.command(name=_s("section", "cmd.section.name"),
                          description=_s("Show one section of an issue", "cmd.section.description"))
    @app_commands.rename(name=_s("name", "opt.name.name"), issue=_s("issue", "opt.issue.name"),
                         language=_s("language", "opt.language.name"),
                         newsletter=_s("newsletter", "opt.newsletter.name"), public=_PUBLIC_NAME)
    @app_commands.describe(name=_s("Section name", "opt.name.description"),
                           issue=_s("Issue number", "opt.issue.description"),
                           language=_s("Edition language", "opt.language.description"),
                           newsletter=_s("Which newsletter", "opt.newsletter.description"),
                           public=_PUBLIC_DESCRIPTION)
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def section(self, interaction: discord.Interaction, name: str,
                      issue: app_commands.Range[int, 1, 100000] | None = None,
                      language: str | None = None, newsletter: str | None = None,
                      public: bool | None = None) -> None:
        await self._run(interaction, SectionCommand(name, issue, newsletter or ""), language, public)

    @section.autocomplete("name")
    async def section_name_autocomplete(self, interaction: discord.Interaction,
                                        current: str) -> list[app_commands.Choice[str]]:
        """Section names of the relevant issue in the chat's language, ≤ 25."""
        namespace = interaction.namespace
        audience = self._audience(interaction, "section", getattr(namespace, "public", None))
        lang = self._lang(interaction, getattr(namespace, "language", None), audience)
        issue = getattr(namespace, "issue", None)
        try:
            feeds = self.engine.feeds_for("discord", str(interaction.channel_id or ""),
                                          named=str(getattr(namespace, "newsletter", None) or "")) or ()
            choices = self.engine.section_choices(current[:100], lang=lang,
                                                  issue=int(issue) if issue is not None else None, feeds=feeds)
        except Exception:  # autocomplete must answer; an empty list is an answer
            log.exception("autocomplete failed")
            choices = []
        return [app_commands.Choice(name=display[:100] or value[:100], value=value[:100])
                for display, value in choices[:25]]

    @app_commands.command(name=_s("sections", "cmd.sections.name"),
                          description=_s("List the sections of an issue", "cmd.sections.description"))
    @app_commands.rename(issue=_s("issue", "opt.issue.name"), language=_s("language", "opt.language.name"),
                         newsletter=_s("newsletter", "opt.newsletter.name"), public=_PUBLIC_NAME)
    @app_commands.describe(issue=_s("Issue number", "opt.issue.description"),
                           language=_s("Edition language", "opt.language.description"),
                           newsletter=_s("Which newsletter", "opt.newsletter.description"),
                           public=_PUBLIC_DESCRIPTION)
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def sections(self, interaction: discord.Interaction,
                       issue: app_commands.Range[int, 1, 100000] | None = None,
                       language: str | None = None, newsletter: str | None = None,
                       public: bool | None = None) -> None:
        await self._run(interaction, SectionsCommand(issue, newsletter or ""), language, public)

    @app_commands.command(name=_s("latest", "cmd.latest.name"),
                          description=_s("The latest issue and its sections", "cmd.latest.description"))
    @app_commands.rename(language=_s("language", "opt.language.name"),
                         newsletter=_s("newsletter", "opt.newsletter.name"), public=_PUBLIC_NAME)
    @app_commands.describe(language=_s("Edition language", "opt.language.description"),
                           newsletter=_s("Which newsletter", "opt.newsletter.description"),
                           public=_PUBLIC_DESCRIPTION)
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def latest(self, interaction: discord.Interaction, language: str | None = None,
                     newsletter: str | None = None, public: bool | None = None) -> None:
        await self._run(interaction, Latest(newsletter or ""), language, public)

    @app_commands.command(name=_s("issues", "cmd.issues.name"),
                          description=_s("The issues I know", "cmd.issues.description"))
    @app_commands.rename(language=_s("language", "opt.language.name"),
                         newsletter=_s("newsletter", "opt.newsletter.name"), public=_PUBLIC_NAME)
    @app_commands.describe(language=_s("Edition language", "opt.language.description"),
                           newsletter=_s("Which newsletter", "opt.newsletter.description"),
                           public=_PUBLIC_DESCRIPTION)
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def issues(self, interaction: discord.Interaction, language: str | None = None,
                     newsletter: str | None = None, public: bool | None = None) -> None:
        await self._run(interaction, Issues(newsletter or ""), language, public)

    @app_commands.command(name=_s("search", "cmd.search.name"),
                          description=_s("Find items in the newsletter", "cmd.search.description"))
    @app_commands.rename(words=_s("words", "opt.words.name"), language=_s("language", "opt.language.name"),
                         newsletter=_s("newsletter", "opt.newsletter.name"), public=_PUBLIC_NAME)
    @app_commands.describe(words=_s("Words to look for", "opt.words.description"),
                           language=_s("Edition language", "opt.language.description"),
                           newsletter=_s("Which newsletter", "opt.newsletter.description"),
                           public=_PUBLIC_DESCRIPTION)
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def search(self, interaction: discord.Interaction, words: app_commands.Range[str, 1, 200],
                     language: str | None = None, newsletter: str | None = None,
                     public: bool | None = None) -> None:
        await self._run(interaction, SearchCommand(words, newsletter or ""), language, public)

    @section.autocomplete("newsletter")
    @sections.autocomplete("newsletter")
    @latest.autocomplete("newsletter")
    @issues.autocomplete("newsletter")
    @search.autocomplete("newsletter")
    async def newsletter_autocomplete(self, interaction: discord.Interaction,
                                      current: str) -> list[app_commands.Choice[str]]:
        """The newsletters the bot has issues of, whose name starts with (or contains) what is typed."""
        try:
            names = self.engine.newsletter_choices(current[:100])
        except Exception:  # autocomplete must answer; an empty list is an answer
            log.exception("autocomplete failed")
            names = []
        return [app_commands.Choice(name=name[:100], value=name[:100]) for name in names[:25]]

    @app_commands.command(name=_s("subscribe", "cmd.subscribe.name"),
                          description=_s("Post new issues in this channel", "cmd.subscribe.description"))
    @app_commands.rename(sections=_s("sections", "opt.sections.name"),
                         schedule=_s("schedule", "opt.schedule.name"),
                         language=_s("language", "opt.language.name"))
    @app_commands.describe(sections=_s("Sections and +word/-word filters (default: all)", "opt.sections.description"),
                           schedule=_s("on_publish, cron or digest", "opt.schedule.description"),
                           language=_s("Edition language", "opt.language.description"))
    @app_commands.choices(language=LANGUAGE_CHOICES)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def subscribe(self, interaction: discord.Interaction, sections: str = "",
                        schedule: str = "", language: str | None = None) -> None:
        await self._run(interaction, subscription(sections, schedule), language)

    @app_commands.command(name=_s("unsubscribe", "cmd.unsubscribe.name"),
                          description=_s("Stop posting new issues here", "cmd.unsubscribe.description"))
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, Unsubscribe())

    @app_commands.command(name=_s("help", "cmd.help.name"), description=_s("What I can do", "cmd.help.description"))
    async def help(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, Help())


class DiscordCommands:
    """Serves slash commands on a `DiscordSender`'s gateway connection (see `bot.ports.CommandSource`).

    The commands are added and published (bulk overwrite) on every new connection: each
    `start` of the sender builds a new client, which knows no commands until told.

    Args:
        sender: the connection; `serve` starts it if needed.
        renderer: renders the engine's answers.
        slow_commands: commands acknowledged (deferred) before the engine answers.
        enabled: False keeps the connection but registers no commands.
        answers: "ephemeral" (lookups are seen by the asker only unless `public: True`) or
            "public" (lookups are posted in the channel unless `public: False`).
    """

    name = "discord"

    def __init__(self, sender: DiscordSender, renderer: DiscordRenderer | None = None, *,
                 slow_commands: frozenset[str] = frozenset({"search"}), enabled: bool = True,
                 answers: Literal["ephemeral", "public"] = "ephemeral") -> None:
        self.sender = sender
        self.answers = answers
        self.renderer = renderer or DiscordRenderer()
        self.slow_commands = slow_commands
        self.enabled = enabled
        self._registered = 0  # the sender generation whose client has our commands

    def __repr__(self) -> str:
        return f"DiscordCommands({self.sender!r})"

    async def close(self) -> None:
        await self.sender.close()

    async def register(self, engine: QueryEngine) -> None:
        """Add the slash commands to the current client and publish them, localised by our catalogue."""
        client = self.sender.client
        if client is None or self._registered == self.sender.generation:
            return
        await client.add_cog(DigestCommands(engine, self.renderer.render_answer, self.slow_commands,
                                            public_lookups=self.answers == "public"))
        client.add_dynamic_items(PageButton)
        await client.tree.set_translator(CatalogueTranslator())
        with self.sender.delivery_errors("slash commands"):
            await client.tree.sync()
        self._registered = self.sender.generation

    async def serve(self, engine: QueryEngine) -> None:
        """Answer slash commands until cancelled or until the gateway connection ends (then raise)."""
        await self.sender.start()
        if self.enabled:
            await self.register(engine)
        task = self.sender.connection
        if task is None:
            raise ConnectionError("Discord gateway connection is gone")
        await asyncio.shield(task)
        raise ConnectionError("Discord gateway connection ended")
