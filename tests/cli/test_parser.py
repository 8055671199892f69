"""The parser: each subcommand is built only when chosen, and every one still has its help."""

from __future__ import annotations

import pytest

from bfg_tui.cli import build_parser, main

VERBS = [
    ["status"], ["scenario", "save"], ["snapshot", "freeze"], ["accept"], ["revoke"], ["probe", "connection"],
    ["probe", "dry-run"], ["export"], ["audit", "list"], ["audit", "verify"], ["plan"], ["init"],
    ["roster", "init"], ["roster", "add"], ["roster", "revoke"], ["roster", "list"], ["roster", "export"],
    ["ssh", "authorized-keys"], ["ssh-session"], ["explain"], ["store", "install"], ["store", "add-login"],
    ["store", "logins"], ["checks"], ["paths"],
]


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_every_verb_has_its_help(verb: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*verb, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: bfg-tui {' '.join(verb)} ")


def test_the_top_level_help_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for verb in {v[0] for v in VERBS}:
        assert f"\n    {verb} " in out or f"\n    {verb}\n" in out, verb


def test_only_the_chosen_verb_is_built() -> None:
    parser = build_parser()
    args = parser.parse_args(["--db", "x.db", "status", "--json"])
    assert args.command == "status" and args.json
    verbs = next(a for a in parser._actions if a.dest == "command").choices
    assert dict.keys(verbs) == {"status"}  # the other parsers were never made
    assert list(verbs) == [v for v in dict.fromkeys(v[0] for v in VERBS)]  # and all are still choices


def test_an_unknown_verb_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["nosuch"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuch' (choose from 'status', 'scenario'" in err


def test_help_is_as_wide_as_the_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    narrow = capsys.readouterr().out.splitlines()
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    wide = capsys.readouterr().out.splitlines()
    assert max(map(len, narrow)) <= 48 < max(map(len, wide))
