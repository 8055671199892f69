"""Fuzz the door through the CLI entry point (hypothesis, derandomised: the same examples every run).

Arbitrary text goes into notes, values, actor/check/packet ids, the audit filter and
scenario import files. Whatever it is: the exit code is 0, 1 or 2, there is never a
traceback, no control byte reaches stdout or stderr, and `audit verify` stays ok.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow  # hypothesis examples through the whole door

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
# Written out here, not imported from the sanitiser under test. The newline is the
# output's own line break; every other control is refused.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                         "\ud800-\udfff]")

# Pieces an attacker reaches for, mixed with anything hypothesis draws.
HOSTILE = ["\x1b]52;c;ZXZpbA==\x1b\\", "\x1b]2;pwned\x07", "\x1b[2J", "\x9b2J", "\x9d0;t\x9c", "\u202e", "\u2066",
           "\u200f", "\u061c", "\u2028", "\n", "\t", "\r", "\x00", "\x7f", "\udcff", "%", "_", "'", '"', "\\",
           "[b]", "[@click=app.quit]x[/]", "password=hunter2-canary", "-----BEGIN PRIVATE KEY-----", "é", "ł", "—"]
text = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=8).map("".join),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "é", "\x1b", "ab "]), st.integers(60, 2100)),
)
FUZZ = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def run(db: Path, *argv: str, actor: str | None = None) -> tuple[int, str, str]:
    """`bfg-tui` in-process: (exit code, stdout, stderr), checked for the fuzz invariants."""
    from bfg_tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    args = ["--db", str(db), *(["--as", actor] if actor is not None else []), *argv]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    stdout, stderr = out.getvalue(), err.getvalue()
    assert code in (0, 1, 2), (argv, code, stderr)
    assert "Traceback" not in stderr and "unexpected error" not in stderr, (argv, stderr)
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        found = RAW_CONTROL.search(stream)
        assert found is None, f"{found.group()!r} on {name} for {argv!r}: {stream[:300]!r}"
    return code, stdout, stderr


def verify(db: Path) -> None:
    code, out, err = run(db, "audit", "verify")
    assert code == 0 and out.startswith("audit trail ok"), err
    run(db, "audit", "list")
    json.loads(run(db, "audit", "list", "--json")[1])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "fuzz.db"
    assert run(db, "scenario", "save", actor=MAREK)[0] == 0
    return db


@FUZZ
@given(note=text)
def test_fuzz_notes(store: Path, note: str) -> None:
    code, _out, _err = run(store, "accept", "transition.db_schema", "--note", note, actor=OLENA)
    if code == 0:
        run(store, "revoke", "transition.db_schema", "--note", note, actor=OLENA)
    verify(store)


@FUZZ
@given(value=text)
def test_fuzz_values(store: Path, value: str) -> None:
    run(store, "accept", "infra.region_residency", "--value", value, actor=ANNA)
    run(store, "export", "infrastructure", "--format", "md", actor=ANNA)
    verify(store)


@FUZZ
@given(some_id=text)
def test_fuzz_ids(store: Path, some_id: str) -> None:
    run(store, "accept", "transition.db_schema", actor=some_id)
    run(store, "accept", some_id, actor=OLENA)
    run(store, "revoke", some_id, actor="nobody")
    run(store, "export", some_id, actor=ANNA)
    run(store, "audit", "list", "--filter", some_id)
    verify(store)


def _record(kind: str, rid: str, data: dict) -> dict:
    return {"kind": kind, "id": rid, "data": data}


scenario_doc = st.fixed_dictionaries({
    "schema": st.one_of(st.just("BFGScenarioImport.v1"), text),
    "tenant": st.one_of(st.just("bfg"), text),
    "records": st.lists(st.builds(
        _record,
        st.one_of(st.sampled_from(["orders", "documents", "payments"]), text),
        st.one_of(st.sampled_from(["ord-1", "doc-1"]), text),
        st.dictionaries(st.one_of(st.sampled_from(["client", "note", "password", "city"]), text),
                        st.one_of(text, st.integers(-5, 5), st.lists(text, max_size=3)), max_size=4),
    ), min_size=0, max_size=3),
})


@FUZZ
@given(doc=scenario_doc, raw=st.one_of(st.none(), text))
def test_fuzz_scenario_import(store: Path, doc: dict, raw: str | None) -> None:
    path = store.parent / "import.json"
    content = json.dumps(doc, ensure_ascii=bool(len(doc["records"]) % 2)) if raw is None else raw
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    run(store, "scenario", "save", "--from", str(path), actor=MAREK)
    run(store, "status")
    verify(store)
