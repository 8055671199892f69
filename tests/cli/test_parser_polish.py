"""`--lang pl` reaches argparse too: `--help` (ours and argparse's own words) and every usage error are Polish,
wherever `--lang pl` stands; without it, English word for word as before."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bfg_tui.cli import main
from tests.helpers import ROOT

ARGPARSE_PO = ROOT / "bfg_tui" / "locale" / "pl" / "LC_MESSAGES" / "argparse.po"
# English that must not be left in a Polish help page (argparse's words and ours).
ENGLISH = ("usage:", "options:", "positional arguments", "show this help", "the hash-chained", "machine-readable",
           "language (default", "store: a SQLite", "gates, decisions", "version number")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def test_the_top_level_help_is_polish(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, "--lang", "pl", "--help")
    assert code == 0 and out.startswith("użycie: bfg-tui ")
    assert "\nopcje:\n" in out and "pokaż tę pomoc i zakończ" in out
    assert "Konsola przełączenia obsługiwana z klawiatury" in out
    assert "bramki, decyzje i zalecane działanie" in out and "ścieżka audytu z łańcuchem haszy" in out
    assert not [word for word in ENGLISH if word in out], out


@pytest.mark.parametrize("argv", [("--lang", "pl", "status", "--help"), ("status", "--lang", "pl", "--help"),
                                  ("--lang=pl", "status", "--help")], ids=" ".join)
def test_a_verbs_help_is_polish_wherever_lang_stands(argv: tuple[str, ...],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, *argv)
    assert code == 0 and out.startswith("użycie: bfg-tui status ")
    assert "wynik do odczytu maszynowego" in out and "kod wyjścia 3, dopóki go/no-go jest zablokowane" in out
    assert not [word for word in ENGLISH if word in out], out


def test_every_verbs_polish_help_has_no_english_left(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli.test_parser import VERBS

    for verb in VERBS:
        code, out, _err = _run(capsys, "--lang", "pl", *verb, "--help")
        assert code == 0 and out.startswith(f"użycie: bfg-tui {' '.join(verb)}"), verb
        assert not [word for word in ENGLISH if word in out], (verb, out)
        assert not re.search(r"\bhelp\.[a-z_.]+", out), (verb, out)  # a message id shown for want of its text


# argv -> (the Polish line after "bfg-tui…: ", the English one)
ERRORS: dict[tuple[str, ...], tuple[str, str]] = {
    ("nosuch",): ("bfg-tui: błąd użycia: argument COMMAND: nieprawidłowy wybór: 'nosuch' (wybierz spośród: "
                  "'status', ", "bfg-tui: usage error: argument COMMAND: invalid choice: 'nosuch' (choose from "
                  "'status', "),
    ("accept",): ("bfg-tui accept: błąd użycia: wymagane są argumenty: CHECK (zobacz --help)\n",
                  "bfg-tui accept: usage error: the following arguments are required: CHECK (see --help)\n"),
    ("status", "--bogus"): ("bfg-tui: błąd użycia: nierozpoznane argumenty: --bogus (zobacz --help)\n",
                            "bfg-tui: usage error: unrecognized arguments: --bogus (see --help)\n"),
    ("audit", "list", "--limit"): ("bfg-tui audit list: błąd użycia: argument --limit: oczekiwano jednego "
                                   "argumentu (zobacz --help)\n",
                                   "bfg-tui audit list: usage error: argument --limit: expected one argument "
                                   "(see --help)\n"),
    ("export", "release", "--format", "pdf"): (
        "bfg-tui export: błąd użycia: argument --format: nieprawidłowy wybór: 'pdf' (wybierz spośród: 'text', "
        "'json', 'md') (zobacz --help)\n",
        "bfg-tui export: usage error: argument --format: invalid choice: 'pdf' (choose from 'text', 'json', "
        "'md') (see --help)\n"),
    ("scenario", "save", "--scale", "x"): (
        "bfg-tui scenario save: błąd użycia: argument --scale: niepoprawna wartość int: 'x' (zobacz --help)\n",
        "bfg-tui scenario save: usage error: argument --scale: invalid int value: 'x' (see --help)\n"),
}


@pytest.mark.parametrize("argv", sorted(ERRORS), ids=" ".join)
def test_a_usage_error_is_one_polish_line(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    polish, english = ERRORS[argv]
    code, out, err = _run(capsys, "--lang", "pl", *argv)
    assert code == 2 and out == "" and err.startswith(polish) and err.count("\n") == 1, err
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and err.startswith(english) and err.count("\n") == 1, err


def test_lang_after_the_verb_is_refused_in_polish(capsys: pytest.CaptureFixture[str]) -> None:
    """`--lang` belongs before the verb; given after it, argparse refuses it, and says so in the language asked for."""
    code, _out, err = _run(capsys, "status", "--lang", "pl")
    assert code == 2 and err == "bfg-tui: błąd użycia: nierozpoznane argumenty: --lang pl (zobacz --help)\n"


def test_english_stays_when_polish_was_asked_for_earlier(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's words are Polish only while a Polish command parses: the next command is English again."""
    _run(capsys, "--lang", "pl", "--help")
    code, out, _err = _run(capsys, "--help")
    assert code == 0 and out.startswith("usage: bfg-tui ") and "\noptions:\n" in out
    assert "show this help message and exit" in out
    assert argparse.ArgumentParser(prog="x").format_usage() == "usage: x [-h]\n"


def test_the_last_lang_given_is_the_one_spoken(capsys: pytest.CaptureFixture[str]) -> None:
    """As argparse takes the last `--lang`, so does the help: `--lang pl --lang en` is English."""
    assert _run(capsys, "--lang", "pl", "--lang", "en", "--help")[1].startswith("usage: bfg-tui ")
    assert _run(capsys, "--lang=en", "--lang=pl", "--help")[1].startswith("użycie: bfg-tui ")


def _argparse_ids() -> set[str]:
    """Every message argparse asks gettext for (`_("…")`, `ngettext("…", …)`), read from its source."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "ngettext")
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


def _id(key: object) -> str:
    return str(key[0] if isinstance(key, (list, tuple)) else key)


def _forms(text: object) -> tuple[str, ...]:
    return tuple(text) if isinstance(text, (list, tuple)) else (str(text),)


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%(?:\([a-z_]+\))?[sr]", text))


def test_the_argparse_catalog_is_argparses_own_messages_each_in_polish() -> None:
    """Every word argparse says has Polish with the same placeholders, and nothing else is in the catalog: a
    Python whose argparse says something new (or words an old message differently) fails here."""
    with open(ARGPARSE_PO, "rb") as fp:
        catalog = read_po(fp)
    entries = {_id(m.id): m for m in catalog if m.id}
    assert set(entries) == _argparse_ids()
    for key, message in entries.items():
        forms = _forms(message.string)
        assert all(forms), key
        assert all(_placeholders(form) == _placeholders(key) for form in forms), key
    with open(ARGPARSE_PO.with_suffix(".mo"), "rb") as fp:
        compiled = {_id(m.id): _forms(m.string) for m in read_mo(fp) if m.id}
    assert compiled == {key: _forms(m.string) for key, m in entries.items()}, "run `make locale`: argparse.mo is stale"


def test_argparse_still_says_its_words_through_its_module_names() -> None:
    """The seam this rests on: argparse looks every word up through its module's `_` and `ngettext` when it
    says it. If a Python changes that, Polish help would silently turn English: fail loudly instead."""
    import gettext

    assert vars(argparse)["_"] is gettext.gettext and vars(argparse)["ngettext"] is gettext.ngettext
    assert "usage: " in _argparse_ids() and "show this help message and exit" in _argparse_ids()


def test_the_lang_help_says_what_each_surface_defaults_to() -> None:
    """The console follows the locale; the headless commands stay English unless told (scripts read them)."""
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "LANG": "pl_PL.UTF-8", "BFG_TUI_DB": "/nonexistent/x.db"}
    out = subprocess.run([sys.executable, "-m", "bfg_tui", "--help"], capture_output=True, text=True, env=env)
    assert "the console follows the locale, the other commands speak English unless told" in " ".join(out.stdout.split())
    assert "usage:" in out.stdout  # English under a Polish locale, as the help says
