"""Every sentence the console and the CLI show, rendered from one gettext catalog.

A sentence has a message id (`app.title`, `msg.check.unknown`); its English and its Polish
live in `locale/<lang>/LC_MESSAGES/bfg_tui.po`, compiled to `.mo` beside it (`make locale`).
The runtime reads the `.mo` with the stdlib `gettext`, once per language, on first use.
Stdlib only: no Textual, no Babel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import gettext

LANGS = ("en", "pl")
DOMAIN = "bfg_tui"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Msg(NamedTuple):
    """A sentence by message id and its parameters, in no language yet.

    The engine and the planner say what they mean with these; the CLI, the console and the
    packets render them (`bfg_tui.i18n.render`). A parameter may be a `Msg`, a catalog
    `Text` or a tuple of them (read one after another). `text` is a catalog sentence used
    instead of the message id (a gate's action). An empty `Msg()` says nothing: it is false.
    """

    id: str = ""
    params: Mapping[str, object] = _EMPTY
    text: Text | None = None

    def __bool__(self) -> bool:
        return bool(self.id or self.text)


class Text(NamedTuple):
    """A catalog text by its message id (`cat.check.<id>.title`): its words live in the catalogs here."""

    id: str

    def get(self, lang: str) -> str:
        return t(self.id, lang)


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang`; Polish falls back to English, English to nothing."""
    import gettext  # on first use: the message types above load with the models at start-up

    class _Missing(gettext.NullTranslations):
        """The last fallback: an id no catalog holds comes back as None, not as itself."""

        def gettext(self, message: str) -> str:
            return None  # type: ignore[return-value]

        def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
            return None  # type: ignore[return-value]

    lang = lang if lang in LANGS else "en"
    try:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fp:
            translations: gettext.NullTranslations = gettext.GNUTranslations(fp)
    except OSError:
        translations = gettext.NullTranslations()
    translations.add_fallback(_translations("en") if lang != "en" else _Missing())
    return translations


def _template(key: str, lang: str, n: object = None) -> str | None:
    """The text of `key`; a message with plural forms takes the one its count `n` needs."""
    translations = _translations(lang)
    if isinstance(n, int):
        text = translations.ngettext(key, key, n)
        if text is not None:
            return text
    return translations.gettext(key)


def known(key: str) -> bool:
    """Whether `key` is a message id of the catalog."""
    return _template(key, "en", 1) is not None


def t(key: str, lang: str = "en", /, **kwargs: object) -> str:
    """The message `key` in `lang`, formatted with `kwargs` (`n` chooses a plural form). An unknown id shows itself."""
    if not key:
        return ""
    text = _template(key, lang, kwargs.get("n", 1))
    if text is None:
        return key
    return text.format(**kwargs) if kwargs else text


def said(key: str, lang: str, params: Mapping[str, object]) -> str:
    """`t(key, lang, **params)`, where a parameter may itself be a message (a `Msg`: a coded fragment)."""
    return t(key, lang, **{k: render(v, lang) if isinstance(v, Msg) else v for k, v in params.items()})


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """`pl` when the locale says Polish (LC_ALL, then LC_MESSAGES, then LANG), else `en`."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "pl" if value.lower().startswith("pl") else "en"
    return "en"


def render(said: object, lang: str = "en") -> str:
    """A `Msg`, a catalog `Text`, a tuple of them (one after another) or a plain string, in `lang`."""
    if isinstance(said, Msg):
        template: str
        if said.text is not None:
            template = said.text.get(lang)
        else:
            found = _template(said.id, lang, said.params.get("n", 1)) if said.id else ""
            template = said.id if found is None else found
        if not said.params:
            return template
        params = {k: render(v, lang) if isinstance(v, tuple) else v for k, v in said.params.items()}
        return template.format(**params)
    if isinstance(said, Text):
        return said.get(lang)
    if isinstance(said, tuple):
        return "".join(render(part, lang) for part in said)
    return str(said)


def message_text(text: str, lang: str, code: str = "", params: Mapping[str, object] | None = None) -> str:
    """A service message (a refusal reason or an outcome) in `lang`, rendered from its message id.

    `code` and `params` come from a `Reason`, a `Refused` or an `Outcome`; a message without
    a code (a store's or a driver's own words, or a reason made safe for the trail) is shown
    as it is.
    """
    code = code or getattr(text, "code", "")
    if not code or not known(f"msg.{code}"):
        return text
    params = params if params is not None else getattr(text, "params", {})
    try:
        return said(f"msg.{code}", lang, params)
    except (KeyError, IndexError):
        return text
