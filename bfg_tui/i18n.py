"""Every sentence the console and the CLI show, rendered from one gettext catalog.

A sentence has a message id (`app.title`, `msg.check.unknown`); its English and its Polish
live in `locale/<lang>/LC_MESSAGES/bfg_tui.po`, compiled to `.mo` beside it (`make locale`).
The runtime reads the `.mo` with the stdlib `gettext`, once per language, on first use.
Stdlib only: no Textual, no Babel.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LANGS = ("en", "pl")
DOMAIN = "bfg_tui"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class _Missing(gettext.NullTranslations):
    """The last fallback: an id no catalog holds comes back as None, not as itself."""

    def gettext(self, message: str) -> str:
        return None  # type: ignore[return-value]


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang`; Polish falls back to English, English to nothing."""
    lang = lang if lang in LANGS else "en"
    try:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as fp:
            translations: gettext.NullTranslations = gettext.GNUTranslations(fp)
    except OSError:
        translations = gettext.NullTranslations()
    translations.add_fallback(_translations("en") if lang != "en" else _Missing())
    return translations


def known(key: str) -> bool:
    """Whether `key` is a message id of the catalog."""
    return _translations("en").gettext(key) is not None


def t(key: str, lang: str = "en", **kwargs: object) -> str:
    """The message `key` in `lang`, formatted with `kwargs`. An unknown id shows itself."""
    if not key:
        return ""
    text = _translations(lang).gettext(key)
    if text is None:
        return key
    return text.format(**kwargs) if kwargs else text



def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """`pl` when the locale says Polish (LC_ALL, then LC_MESSAGES, then LANG), else `en`."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "pl" if value.lower().startswith("pl") else "en"
    return "en"


# Engine reasons are one-line English sentences; their fixed prefixes are translated,
# the data after them (actor ids, endpoints, probe details) is shown as stored.
_REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    ("stale: accepted against another snapshot", "nieaktualne: zaakceptowane dla innego snapshotu"),
    ("stale: ran against another snapshot", "nieaktualne: uruchomione na innym snapshocie"),
    ("stale: ran against another target", "nieaktualne: uruchomione na innym celu"),
    ("waiting for the connection probe", "czeka na próbę connection"),
    ("waiting for the dry-run probe", "czeka na próbę dry-run"),
    ("waiting for ", "czeka na "),
    ("countersigned by ", "kontrasygnowane przez "),
    ("accepted by ", "zaakceptowane przez "),
    ("passed on ", "przeszło na "),
    ("failed: ", "nie przeszło: "),
    ("derived", "wyliczane"),
    ("ready", "gotowe"),
)


def reason_text(reason: str, lang: str) -> str:
    """An engine reason in `lang` (English as is)."""
    if lang != "pl":
        return reason
    for en, pl in _REASON_PREFIXES:
        if reason.startswith(en):
            return pl + reason[len(en):]
    return reason


# Refusals raised below the service (the stores, the probe runner, the packet scan) carry
# no message id; their fixed sentences are matched here, the data in them shown as stored.
_MESSAGE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"no scenario saved yet: run `bfg-tui scenario save` first",
     "brak zapisanego scenariusza: najpierw uruchom `bfg-tui scenario save`"),
    (r"the scenario holds no records: an empty snapshot cannot be frozen",
     "scenariusz nie ma rekordów: pustego snapshotu nie można zamrozić"),
    (r"(?P<check>\S+) is not accepted; nothing to revoke", "{check} nie jest zaakceptowana; nie ma czego cofać"),
    (r"export refused: secret-like value in field '(?P<field>[^']*)' \((?P<kind>[^)]*)\)",
     "eksport odrzucony: wartość podobna do sekretu w polu '{field}' ({kind})"),
    (r"unknown probe '(?P<probe>[^']*)' \(connection, dry-run\)", "nieznana próba '{probe}' (connection, dry-run)"),
    (r"bad target: (?P<detail>.*)", "zły cel: {detail}"),
    (r"dry-run needs a frozen snapshot: run `bfg-tui snapshot freeze` first",
     "dry-run wymaga zamrożonego snapshotu: najpierw uruchom `bfg-tui snapshot freeze`"),
    (r"dry-run needs connection 4/4 for this target: run `bfg-tui probe connection TARGET` first",
     "dry-run wymaga connection 4/4 dla tego celu: najpierw uruchom `bfg-tui probe connection CEL`"),
    (r"dry-run needs connection 4/4 for this target; the connection evidence is for (?P<endpoint>.*)",
     "dry-run wymaga connection 4/4 dla tego celu; dowód connection dotyczy {endpoint}"),
)
_COMPILED: list[tuple[re.Pattern[str], str]] = []


def message_text(text: str, lang: str, code: str = "", params: Mapping[str, object] | None = None) -> str:
    """A service message (a refusal reason or an outcome) in `lang`; in English, the message as it is.

    `code` and `params` come from a `Reason`, a `Refused` or an `Outcome`; a message without
    a code is matched against the known fixed sentences; anything else is shown as stored.
    """
    if lang != "pl":
        return text
    code = code or getattr(text, "code", "")
    params = params if params is not None else getattr(text, "params", {})
    if code and known(f"msg.{code}"):
        try:
            return t(f"msg.{code}", lang, **params)
        except (KeyError, IndexError):
            return text
    if not _COMPILED:
        _COMPILED.extend((re.compile(pattern), template) for pattern, template in _MESSAGE_PATTERNS)
    for pattern, template in _COMPILED:
        found = pattern.fullmatch(text)
        if found:
            return template.format(**found.groupdict())
    return text
