"""The message catalog: one gettext catalog per language, every id used, none missing.

Babel reads the `.po` and `.mo` files; the ids the code asks for by literal (`t("…")`,
`self.tr("…")`) are read from its syntax tree, and ids built at run time come from the
real lists that build them (bindings, modes, cutover tabs, facts, check kinds, plan actions).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import string
from collections.abc import Iterable, Iterator

import pytest
from babel.messages.catalog import Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.helpers import ROOT

LOCALE = ROOT / "bfg_tui" / "locale"
SOURCES = (ROOT / "bfg_tui", ROOT / "screens", ROOT / "store")
LANGS = ("en", "pl")


def _entries(messages: Iterable[Message]) -> dict[str, str | tuple[str, ...]]:
    """id -> text; a message with plural forms -> the tuple of its forms."""
    return {(m.id[0] if isinstance(m.id, (list, tuple)) else m.id): (tuple(m.string) if m.pluralizable else m.string)
            for m in messages if m.id}


def _po(lang: str) -> dict[str, str | tuple[str, ...]]:
    with open(LOCALE / lang / "LC_MESSAGES" / "bfg_tui.po", "rb") as fp:
        return _entries(read_po(fp))


def _mo(lang: str) -> dict[str, str | tuple[str, ...]]:
    with open(LOCALE / lang / "LC_MESSAGES" / "bfg_tui.mo", "rb") as fp:
        return _entries(read_mo(fp))


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def _fields(text: str | tuple[str, ...]) -> list[str]:
    """The placeholders of a message (of each plural form: they must agree)."""
    found = {tuple(sorted(name for _lit, name, _spec, _conv in string.Formatter().parse(form) if name is not None))
             for form in _forms(text)}
    return list(found.pop()) if len(found) == 1 else ["<plural forms differ>", *sorted(map(str, found))]


def _asked(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):  # t("a" if ok else "b")
        yield from _asked(node.body)
        yield from _asked(node.orelse)


def _extracted() -> set[str]:
    """The ids asked for by literal: `t("id")`, `self.tr("id")`, `Msg("id")`, and `Reason.of("code")` (`msg.code`)."""
    found: set[str] = set()
    for root in SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in ("t", "tr", "Msg"):
                    found.update(key for key in _asked(node.args[0]) if key)
                elif name == "of" and getattr(node.func.value, "id", "") == "Reason":
                    found.update(f"msg.{code}" for code in _asked(node.args[0]) if code)
    return found


def _literals() -> set[str]:
    """Every string constant in the sources: ids kept in tables (column specs, card lists) and message codes."""
    found: set[str] = set()
    for root in SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def _binding_ids() -> Iterator[str]:
    from bfg_tui.app import BfgApp

    classes: list[type] = [BfgApp]
    for module in ("home", "providers", "rbac", "board", "cutover", "audit", "widgets", "modals", "base"):
        mod = importlib.import_module(f"bfg_tui.screens.{module}")
        classes += [c for c in vars(mod).values()
                    if isinstance(c, type) and c.__module__ == mod.__name__ and "BINDINGS" in vars(c)]
    for cls in classes:
        yield from (b.id for b in vars(cls)["BINDINGS"] if b.id)


def _runtime_ids() -> set[str]:
    """The ids built from data at run time (f-strings), from the lists that build them."""
    from bfg_tui.screens.cutover import TABS

    from bfg_tui import engine
    from bfg_tui.app import BfgApp
    from bfg_tui.catalog import default_catalog
    from bfg_tui.models import ScenarioInfo, State

    cat = default_catalog()
    ids: set[str] = set()
    for ident in _binding_ids():
        ids |= {f"bind.{ident}", f"tip.{ident}"}
    from bfg_tui.screens.modals import _OWN_ACTIONS

    ids |= {f"bind.{ident}" for ident in _OWN_ACTIONS.values() if ident}  # Textual's keys: words only
    for mode in BfgApp.MODES:
        ids |= {f"mode.{mode}", f"nav.{mode}", f"tip.screen.{mode}"}
    for tab in TABS:
        ids |= {f"cut.{tab.id}", f"cut.{tab.id}_intro"}
    ids |= {f"{card}_detail" for card in _literals() if card.startswith("card.")}  # home.py: a card's second line
    ids |= {f"kind.{check.kind}" for check in cat.checks.values()}
    ids |= {f"why.{fact}" for fact in engine._facts(cat, State(cat.store_contract, None, None, ScenarioInfo(0, None, 0, {})))}
    ids |= {f"group.{name}" for name in engine._group_names(cat) if name not in cat.groups}
    # plan.py: a probe step's title; the save and freeze steps' title and detail; every counted action's word
    ids |= {f"plan.{action}_title" for action in ("probe_connection", "probe_dry_run", "save", "freeze")}
    ids |= {f"plan.{action}_detail" for action in ("save", "freeze")}
    ids |= {f"plan.act.{action}" for action in ("save", "freeze", "export_release", "probe_connection",
                                                 "probe_dry_run")}
    # rbac.py and the service: one sentence per verb, one outcome per way of accepting
    for verb in ("accept", "revoke"):
        ids |= {f"msg.check.derived.{verb}", f"msg.check.owned_by.{verb}", f"msg.rbac.read_only.{verb}"}
    ids |= {"msg.outcome.accepted", "msg.outcome.countersigned"}
    from bfg_tui.catalog import texts

    ids |= {text.id for text in texts(cat)}  # each catalog entity's texts: cat.<kind>.<id>[.<field>]
    return ids


def test_both_languages_have_the_same_ids_and_no_empty_text() -> None:
    en, pl = _po("en"), _po("pl")
    assert sorted(en) == sorted(pl)
    assert not [key for key, text in (*en.items(), *pl.items()) if not all(_forms(text))]


def test_the_compiled_catalogs_match_their_sources() -> None:
    """The .mo beside each .po is what `make locale` (pybabel compile) makes of it."""
    for lang in LANGS:
        assert _mo(lang) == _po(lang), f"run `make locale`: {lang}.mo is out of date"


def test_every_placeholder_is_the_same_in_both_languages() -> None:
    en, pl = _po("en"), _po("pl")
    differ = [key for key in en if _fields(en[key]) != _fields(pl[key])]
    assert not differ, differ


def test_every_service_message_has_its_own_polish() -> None:
    en, pl = _po("en"), _po("pl")
    assert not [key for key in en if key.startswith("msg.") and en[key] == pl[key]]


def test_no_id_the_code_asks_for_is_missing() -> None:
    ids = set(_po("en"))
    missing = sorted((_extracted() | _runtime_ids()) - ids)
    assert not missing, missing


def test_no_id_is_unused() -> None:
    literals = _literals()
    used = _extracted() | _runtime_ids() | literals | {f"msg.{code}" for code in literals}
    unused = sorted(set(_po("en")) - used)
    assert not unused, unused


@pytest.mark.parametrize(("lang", "form_of"), [("en", {1: 0, 2: 1, 5: 1, 21: 1}), ("pl", {1: 0, 2: 1, 5: 2, 22: 1})])
def test_the_runtime_reads_the_compiled_catalog(lang: str, form_of: dict[int, int]) -> None:
    from bfg_tui.i18n import _template, known, t

    plural = 0
    for key, text in _po(lang).items():
        if isinstance(text, tuple):  # the count `n` chooses the form, by the language's plural rule
            plural += 1
            assert all(_template(key, lang, n) == text[form] for n, form in form_of.items()), key
        else:
            assert t(key, lang) == text
    assert plural and known("fig.records") and known("app.loading") and not known("no.such_id")
    assert t("no.such_id", lang) == "no.such_id"
    assert t("fig.records", lang, n=5) == {"en": "5 records", "pl": "5 rekordów"}[lang]


_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
# Stripped spellings that are words too: Polish ("że"/"ze", "ją"/"ja") or an English term the Polish keeps
# ("write probe" beside "próbę").
_ALSO_WORDS = frozenset({"ze", "ja", "moc", "probe"})
# Stripped spellings the seed page used: they must not come back.
_STRIPPED = ("mozna", "otworzyc", "tozsamosc", "gotowosc", "gotowosci", "zamrozone", "ksiegowosc", "sa", "sie",
             "juz", "dzialasz", "rekordow", "checkow", "wartosc", "sciezka", "lancuch", "blad", "kazda", "zadnej")


def _polish_texts() -> list[str]:
    """Every Polish text: the catalog's seed texts are messages too (`cat.…`)."""
    return [form for text in _po("pl").values() for form in _forms(text)]


def test_the_polish_is_written_with_its_letters() -> None:
    """No Polish word appears without its diacritics where the catalog spells it with them elsewhere."""
    import re

    words = {w for text in _polish_texts() for w in re.findall(r"[^\W\d_]+", text)}
    # A final ą or ę is grammar (decyzją, decyzja): only the letters inside a word tell.
    with_letters = {w.lower().translate(_FOLD) for w in words if w.lower()[:-1].translate(_FOLD) != w.lower()[:-1]}
    stripped = {w for w in words if w.lower() in (with_letters | set(_STRIPPED)) - _ALSO_WORDS}
    assert not stripped, sorted(stripped)


# English words that, standing alone in a Polish text, mean a sentence or a phrase was left untranslated: the
# words of English grammar, and the product's English phrases the Polish once kept ("Audit trail", "Connection
# checks", "Live credentials"). Names stay as they are and are not matched: ALL-CAPS names (READY, RLS, TLS,
# WITH CHECK), `commands`, 'quoted values', {placeholders}, --options, `bfg-tui <verb>`, and any word joined
# to an id, a path or a file name by `.`, `_`, `-`, `/`, `=` or `[`.
_ENGLISH = frozenset({
    "the", "is", "are", "was", "not", "must", "and", "of", "with", "for", "or", "be", "has", "have", "will", "can",
    "should", "only", "from", "this", "that", "its", "into", "before", "after", "ready", "failed", "passed",
    "accepted", "checks", "locked", "selection", "decision", "board", "trail", "evidence", "live", "production",
    "infrastructure", "acceptance", "contract", "context", "credentials", "boundary", "handoff", "rehearsal",
    "rehearsals", "reachability", "state", "traffic", "owners", "packets", "gates", "records", "integration",
    "readiness", "guarded", "wiring", "reviewer", "proof", "path", "setup", "write", "session", "freeze", "seal",
    "storage", "transcript", "account", "intelligence", "driver", "sync", "policy", "draft", "owner", "provider",
    "run", "ledger", "fingerprint", "residency", "rollout", "first",
    # English nouns given Polish endings: the Polish words are właściciel and dostawca.
    "ownera", "ownerem", "ownerowi", "ownerzy", "ownerów", "ownerami", "providera", "providerem", "providerzy",
    "providerów", "providery", "providerami",
})
# Where one of those words is a name the user types or reads in a file, kept in English on purpose.
_ENGLISH_NAMES: dict[str, frozenset[str]] = {
    # The export dialog's key for a packet is the packet's id, as `bfg-tui export PACKET` takes it.
    "bind.export.packet.infrastructure": frozenset({"infrastructure"}),
    "tip.export.packet.infrastructure": frozenset({"infrastructure"}),
    "bind.export.packet.wiring": frozenset({"wiring"}),
    "tip.export.packet.wiring": frozenset({"wiring"}),
    # `records` is the scenario file's JSON field that the message points at.
    "msg.import.no_records": frozenset({"records"}),
}
_NAMES_IN_TEXT = re.compile(r"\{[^}]*\}|`[^`]*`|'[^']*'|bfg-tui [a-z-]+|--?[a-z][a-z-]*|\S*[._/=\[]\S+")


def _english_words(text: str) -> set[str]:
    text = _NAMES_IN_TEXT.sub(" ", text)
    return {word.lower() for word in re.findall(r"(?<![\w-])[^\W\d_]+(?![\w-])", text)
            if not word.isupper() and word.lower() in _ENGLISH}


def test_no_polish_text_keeps_an_english_phrase() -> None:
    """A Polish text says it in Polish: an English word of grammar or one of the product's old English phrases
    fails here, unless it is a name listed above with its reason."""
    left = {key: sorted(words) for key, text in _po("pl").items() for form in _forms(text)
            if (words := _english_words(form) - _ENGLISH_NAMES.get(key, frozenset()))}
    assert not left, left


def test_the_english_scan_finds_an_english_phrase_and_spares_names() -> None:
    assert _english_words("Connection checks: {ready}/{total}; zapisz pakiet") == {"checks"}
    assert _english_words("Audit trail z łańcuchem haszy") == {"trail"}
    assert _english_words("potwierdź ownera i providerów") == {"ownera", "providerów"}
    assert _english_words("the state is not ready") == {"the", "state", "is", "not", "ready"}
    assert not _english_words("release READY; `bfg-tui audit verify`; bfg-tui checks; --exit-code; "
                              "records[{first}]; transition.db_schema; 'the'; {state}; USING i WITH CHECK")


def test_no_english_is_written_beside_a_code() -> None:
    """`Reason(text, code)` and `Outcome(text, code=…)` take their English from the catalog (`Reason.of`, the
    service's `outcome`), never from a sentence written beside the code: the two could drift apart."""
    written = []
    for root in SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("Reason", "Outcome")
                        and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))):
                    written.append(f"{path.name}:{node.lineno}")
    assert not written, written


def test_the_compiled_catalogs_ship_with_the_package() -> None:
    """A wheel and an editable install carry the .po and the .mo (package data), and the runtime finds them there."""
    import tomllib

    from bfg_tui.i18n import LOCALE_DIR

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bfg_tui"]
    assert {"locale/*/LC_MESSAGES/*.mo", "locale/*/LC_MESSAGES/*.po"} <= set(data)
    assert LOCALE_DIR == LOCALE and all((LOCALE / lang / "LC_MESSAGES" / "bfg_tui.mo").is_file() for lang in LANGS)


def test_a_parameter_may_take_any_name() -> None:
    """Parameters are the message's own names: `key`, `code` or `text` never collide with the call's."""
    from bfg_tui.errors import Reason
    from bfg_tui.i18n import t

    reason = Reason.of("idempotency.key_reused", key="k-8", seq=3)
    assert reason.startswith("idempotency key 'k-8' was already used") and reason.params == {"key": "k-8", "seq": 3}
    assert t("msg.idempotency.key_reused", "pl", key="k-8", seq=3).startswith("klucz idempotencji 'k-8'")


# A person's name is given as it is written (nominative): after a preposition or a noun that governs
# another case ("czeka na Anna Kowalska", "Kontrole ownera Anna Kowalska") Polish would decline it.
_NAMES = ("who", "name", "owner", "owners")
_GOVERNS = ("na", "przez", "dla", "od", "do", "ownera", "właściciela", "u", "z", "ze", "o", "przy", "po", "wobec", "bez",
            "dzięki")


def test_no_polish_sentence_declines_a_name() -> None:
    import re

    declined = re.compile(r"\b(?:" + "|".join(_GOVERNS) + r")\s+[„\"']?\{(?:" + "|".join(_NAMES) + r")\}",
                          re.IGNORECASE)
    found = [(key, form) for key, text in _po("pl").items() for form in _forms(text) if declined.search(form)]
    assert not found, found


def test_every_catalog_text_is_a_message_in_both_languages() -> None:
    """catalog.json is structure only: each entity's texts (a check's title and detail, a gate's action and
    hint, …) are message ids made from its kind and id (`cat.check.<id>.title`), in both `.po` files."""
    from bfg_tui.catalog import default_catalog, parse_catalog, texts

    en, pl = _po("en"), _po("pl")
    ids = [text.id for text in texts(default_catalog())]
    assert len(ids) == len(set(ids)) and len(ids) > 150
    assert not [key for key in ids if key not in en or key not in pl]
    assert not [key for key in en if key.startswith("cat.") and key not in ids]  # none left behind

    doc = json.loads((ROOT / "assets" / "catalog.json").read_text(encoding="utf-8"))
    doc["checks"].append({**doc["checks"][0], "id": "transition.new_check"})  # a new entity, no messages yet
    missing = [text.id for text in texts(parse_catalog(doc)) if text.id not in en or text.id not in pl]
    assert missing == ["cat.check.transition.new_check.title", "cat.check.transition.new_check.detail"]


def test_the_catalog_json_holds_no_text_pairs() -> None:
    def pairs(node: object) -> int:
        if isinstance(node, dict):
            return int({"en", "pl"} <= set(node)) + sum(pairs(v) for v in node.values())
        if isinstance(node, list):
            return sum(pairs(v) for v in node)
        return 0

    assert pairs(json.loads((ROOT / "assets" / "catalog.json").read_text(encoding="utf-8"))) == 0
