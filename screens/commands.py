"""The command palette (ctrl+p): every screen and console action, in the app's language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from bfg_tui.i18n import t

from .base import MODE_ORDER


class ConsoleCommands(Provider):
    """Screens 1–6, switch actor, theme, save, freeze, export, help, quit."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        lang = getattr(app, "lang", "en")
        for i, mode in enumerate(MODE_ORDER, 1):
            name = t(f"mode.{mode}", lang)
            yield f"{i} {t('cmd.go', lang, screen=name)}", t(f"tip.screen.{mode}", lang), partial(app.action_go, mode)
        yield t("cmd.switch_actor", lang), t("tip.actor.switch", lang), app.action_switch_actor
        yield t("cmd.save", lang), t("tip.scenario.save", lang), app.action_save_scenario
        yield t("cmd.freeze", lang), t("tip.snapshot.freeze", lang), app.action_freeze
        yield t("cmd.export", lang), t("tip.packet.export", lang), app.action_export
        yield t("cmd.theme", lang), t("tip.theme.toggle", lang), app.action_toggle_theme
        yield t("cmd.help", lang), t("tip.help", lang), app.action_help
        yield t("cmd.quit", lang), t("tip.quit", lang), app.exit

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
