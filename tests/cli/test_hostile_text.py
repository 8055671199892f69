"""Hostile text at the door and at every exit (SPEC §1 rule 6).

At the door: ids, notes and values holding control or bidi characters, or longer than
their cap, or holding a secret, are refused before anything but a sanitised refusal is
written. At the exits: whatever an old store holds (written before the door existed)
is shown with every control character made visible, in text, JSON and packets.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from bfg_tui.service import Console, actor_context
from tests.helpers.rows import audit_rows

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"

OSC52 = "\x1b]52;c;ZXZpbA==\x1b\\"
OSC2 = "\x1b]2;pwned\x07"
CSI_CLEAR = "\x1b[2J"
C1_CSI = "\x9b2J"
C1_OSC = "\x9d52;c;ZXZpbA==\x9c"
BIDI = "\u202eevil\u202c"
ISOLATE = "\u2066x\u2069"
MARKS = "\u200e\u200f\u061c"
HOSTILE = {"osc52": OSC52, "osc2": OSC2, "csi": CSI_CLEAR, "c1-csi": C1_CSI, "c1-osc": C1_OSC,
           "bidi": BIDI, "isolate": ISOLATE, "marks": MARKS, "del": "x\x7fy", "nul": "x\x00y"}

# Written out here, not imported: the test must not share the code it checks.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
CANARY = "CANARY-Pa55w0rd-7f3e"


def assert_no_control(text: str, where: str = "output") -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, f"raw control {found.group()!r} in {where}: {text!r}"


def assert_clean_result(result) -> None:
    assert_no_control(result.out, "stdout")
    assert_no_control(result.err, "stderr")
    assert "Traceback" not in result.err


def refusals(db: Path) -> list[dict]:
    return [json.loads(body) for _seq, kind, body in audit_rows(db) if kind == "action.refused"]


def store_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


# ---------------------------------------------------------------- the door: ids


def test_refused_actor_with_osc52_in_the_check_id_is_recorded_visibly(cli, db: Path) -> None:
    result = cli("accept", "x" + OSC52, actor="nobody")
    assert result.code == 1
    assert_clean_result(result)
    [event] = refusals(db)
    assert_no_control(event["data"]["subject"], "the recorded subject")
    assert "ZXZpbA==" in event["data"]["subject"]  # shown, made visible, not dropped
    listed = cli("audit", "list")
    assert listed.code == 0
    assert_clean_result(listed)
    assert "x\\u001b]52;c;ZXZpbA==" in listed.out


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_an_actor_id_with_control_characters_is_refused(cli, db: Path, name: str) -> None:
    result = cli("accept", "transition.db_schema", actor="user_" + HOSTILE[name])
    assert result.code == 1 and "control" in result.err, result
    assert_clean_result(result)
    [event] = refusals(db)
    assert_no_control(event["actor"], "the recorded actor")
    assert_no_control(json.dumps(event, ensure_ascii=False), "the refusal event")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_check_id_with_control_characters_is_refused(cli, db: Path, name: str) -> None:
    result = cli("accept", "transition.db_schema" + HOSTILE[name], actor=OLENA)
    assert result.code == 1, result
    assert_clean_result(result)
    [event] = refusals(db)
    assert_no_control(event["data"]["subject"], "the recorded subject")


def test_a_newline_in_a_check_id_cannot_forge_an_audit_line(cli) -> None:
    forged = "x\n    99  2026-01-01T00:00:00Z  user_md_anna           check.accept         infra.region_residency"
    assert cli("accept", forged, actor="nobody").code == 1
    listed = cli("audit", "list")
    lines = listed.out.splitlines()
    assert len(lines) == 2, lines  # store.create and the one refusal, nothing forged
    assert not any(line.lstrip().startswith("99 ") for line in lines)


def test_long_ids_are_refused_and_recorded_truncated(cli, db: Path) -> None:
    result = cli("accept", "transition." + "a" * 200, actor="nobody" + "b" * 200)
    assert result.code == 1 and "64" in result.err, result
    assert len(result.err) < 400
    [event] = refusals(db)
    assert len(event["data"]["subject"]) <= 64 and len(event["actor"]) <= 64
    ok = cli("accept", "transition.db_schema", actor="a" * 64)  # 64 is allowed: an unknown actor, not too long
    assert "unknown actor" in ok.err


# ---------------------------------------------------------------- the door: notes and values


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_note_with_control_characters_is_refused_and_nothing_is_accepted(cli, db: Path, name: str) -> None:
    result = cli("accept", "transition.db_schema", "--note", "reviewed " + HOSTILE[name], actor=OLENA)
    assert result.code == 1 and "note" in result.err, result
    assert_clean_result(result)
    assert [e["data"]["action"] for e in refusals(db)] == ["check.accept"]
    assert not any(kind == "check.accept" for _s, kind, _b in audit_rows(db))


def test_a_note_may_hold_newlines_and_tabs_and_they_are_shown_visibly(cli, db: Path) -> None:
    result = cli("accept", "transition.db_schema", "--note", "line one\n\tline two", actor=OLENA)
    assert result.code == 0, result
    listed = cli("audit", "list", "--json")
    assert listed.json()[0]["data"]["note"] == "line one\n\tline two"  # stored as typed


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_value_with_control_characters_is_refused(cli, db: Path, name: str) -> None:
    result = cli("accept", "infra.region_residency", "--value", "eu-central" + HOSTILE[name], actor=ANNA)
    assert result.code == 1 and "value" in result.err, result
    assert_clean_result(result)
    assert not any(kind == "check.accept" for _s, kind, _b in audit_rows(db))


def test_a_value_is_one_line(cli) -> None:
    result = cli("accept", "infra.region_residency", "--value", "eu-central\nregion=us", actor=ANNA)
    assert result.code == 1 and "value" in result.err, result


def test_length_caps(cli) -> None:
    assert cli("accept", "transition.db_schema", "--note", "n" * 2049, actor=OLENA).code == 1
    assert cli("accept", "infra.region_residency", "--value", "v" * 257, actor=ANNA).code == 1
    assert cli("revoke", "transition.db_schema", "--note", "n" * 2049, actor=OLENA).code == 1
    assert cli("accept", "transition.db_schema", "--note", "n" * 2048, actor=OLENA).code == 0
    assert cli("accept", "infra.region_residency", "--value", "v" * 256, actor=ANNA).code == 0
    refused = cli("accept", "transition.secrets_and_auth", "--note", "n" * 100_000, actor=OLENA)
    assert "2048" in refused.err and len(refused.err) < 300


def test_a_revoke_note_goes_through_the_same_door(cli) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    result = cli("revoke", "transition.db_schema", "--note", "bye" + OSC2, actor=OLENA)
    assert result.code == 1 and "note" in result.err
    assert_clean_result(result)


def test_a_packet_name_with_control_characters_is_refused_cleanly(cli, db: Path) -> None:
    assert cli("init").code == 0
    result = cli("export", "release" + OSC52, actor=ANNA)
    assert result.code == 1
    assert_clean_result(result)
    [event] = refusals(db)
    assert_no_control(json.dumps(event, ensure_ascii=False))


def test_usage_errors_never_echo_control_characters(cli) -> None:
    result = cli("status", "--x" + OSC2)  # argparse echoes unrecognised arguments as typed
    assert result.code == 2
    assert_clean_result(result)


# ---------------------------------------------------------------- secrets at the door


def test_a_password_in_a_note_is_refused_naming_the_field_and_never_stored(cli, db: Path) -> None:
    result = cli("accept", "transition.db_schema", "--note", f"db password={CANARY}", actor=OLENA)
    assert result.code == 1 and "note" in result.err and "secret" in result.err, result
    assert CANARY not in result.err and CANARY not in result.out
    assert CANARY.encode() not in store_bytes(db)
    assert [e["data"]["action"] for e in refusals(db)] == ["check.accept"]


def test_a_password_in_a_value_is_refused_and_never_stored(cli, db: Path) -> None:
    result = cli("accept", "infra.secrets_backup", "--value", f"vault, root pwd: {CANARY}", actor=ANNA)
    assert result.code == 1 and "value" in result.err and "secret" in result.err, result
    assert CANARY.encode() not in store_bytes(db)


def test_a_token_in_a_revoke_note_is_refused(cli, db: Path) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    result = cli("revoke", "transition.db_schema", "--note", "Authorization: Bearer abcdef0123456789abcdef", actor=OLENA)
    assert result.code == 1 and "secret" in result.err
    assert b"abcdef0123456789abcdef" not in store_bytes(db)


def _scenario(tmp_path: Path, data: dict, rid: str = "ord-000001") -> Path:
    doc = {"schema": "BFGScenarioImport.v1", "tenant": "bfg",
           "records": [{"kind": "orders", "id": rid, "data": {"pallets": 3, **data}}]}
    path = tmp_path / "import.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_password_in_a_scenario_import_field_is_refused_naming_the_field(cli, db: Path, tmp_path: Path) -> None:
    path = _scenario(tmp_path, {"notes": {"driver": f"gate code, password {CANARY!r}"}})
    result = cli("scenario", "save", "--from", str(path), actor=MAREK)
    assert result.code == 1 and "records[0].data.notes.driver" in result.err and "secret" in result.err, result
    assert CANARY not in result.err
    assert CANARY.encode() not in store_bytes(db)
    path = _scenario(tmp_path, {"api_token": CANARY + "abcdef"})
    result = cli("scenario", "save", "--from", str(path), actor=MAREK)
    assert result.code == 1 and "records[0].data.api_token" in result.err, result
    assert CANARY.encode() not in store_bytes(db)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_control_characters_in_scenario_import_strings_are_refused(cli, db: Path, tmp_path: Path, name: str) -> None:
    path = _scenario(tmp_path, {"client": "Lviv " + HOSTILE[name]})
    result = cli("scenario", "save", "--from", str(path), actor=MAREK)
    assert result.code == 1 and "records[0].data.client" in result.err, result
    assert_clean_result(result)


def test_a_plain_scenario_import_still_loads(cli, tmp_path: Path) -> None:
    path = _scenario(tmp_path, {"client": "Lviv Farma — łódź\nline two\ttab"})
    assert cli("scenario", "save", "--from", str(path), actor=MAREK).code == 0


# ---------------------------------------------------------------- the smaller ones


def test_expect_head_needs_count_and_hash(cli) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    head = cli("audit", "verify").out.split("head ")[1].split()[0]
    for bad in ("2", "2:", ":" + head, "x:" + head, "2:zz", "2:" + head[:8], "2:" + head + "0"):
        assert cli("audit", "verify", "--expect-head", bad).code == 2, bad
    assert cli("audit", "verify", "--expect-head", f"2:{head}").code == 0
    assert cli("audit", "verify", "--expect-head", f"3:{head}").code == 1


def test_filter_wildcards_are_literal(cli) -> None:
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    assert len(cli("audit", "list", "--json", "--filter", "check.accept").json()) == 1
    assert cli("audit", "list", "--json", "--filter", "check_accept").json() == []
    assert cli("audit", "list", "--json", "--filter", "check%accept").json() == []
    assert cli("audit", "list", "--json", "--filter", "%").json() == []


def test_as_conflicting_with_bfg_actor_is_a_usage_error(cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFG_ACTOR", ANNA)
    result = cli("accept", "transition.db_schema", actor=OLENA)
    assert result.code == 2 and "BFG_ACTOR" in result.err, result
    assert cli("accept", "transition.contracts_frozen", actor=ANNA).code == 0  # the same identity twice is fine
    assert _main(db, "--as", "", "status") == 2
    monkeypatch.delenv("BFG_ACTOR")
    assert _main(db, "--as", "", "accept", "transition.db_schema") == 2
    assert not any(kind == "action.refused" for _s, kind, _b in audit_rows(db))


def _main(db: Path, *argv: str) -> int:
    from bfg_tui.cli import main

    try:
        return main(["--db", str(db), *argv])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_a_subcommand_actor_option_is_not_the_acting_identity(cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFG_ACTOR", OLENA)
    assert cli("init").code == 0
    code = _main(db, "roster", "init", "--actor", ANNA, "--key", str(db.parent / "missing.pub"))
    assert code == 1  # no such key file: refused for that, not as a contradicting --as (exit 2)
    from bfg_tui.cli import build_parser

    args = build_parser().parse_args(["--as", ANNA, "roster", "init", "--actor", OLENA, "--key", "k.pub"])
    assert (args.as_actor, args.actor) == (ANNA, OLENA)


def test_a_value_on_a_check_that_takes_none_is_refused(cli, db: Path) -> None:
    result = cli("accept", "transition.db_schema", "--value", "postgres 15", actor=OLENA)
    assert result.code == 1 and "value" in result.err, result
    assert [e["data"]["action"] for e in refusals(db)] == ["check.accept"]


# ---------------------------------------------------------------- exits: an old store holds raw text


async def _plant(db: Path) -> None:
    """What an old store written before the door may hold: raw controls in a note, a value,
    a refused actor and subject, a probe endpoint. Written through the store, below the door,
    so the trail is intact."""
    console = await Console.open(str(db))
    try:
        store = console.store
        evil = OSC52 + OSC2 + CSI_CLEAR + C1_CSI + BIDI + "\n" + ISOLATE
        await store.accept("infra.region_residency", actor_context(ANNA), note="note " + evil,
                           value="eu " + evil, snapshot_digest=None, countersign=False)
        await store.accept("transition.db_schema", actor_context(OLENA), note="fine " + evil, value=None,
                           snapshot_digest=None, countersign=False)
        await store.record_refusal("check.accept", "x" + evil, "unknown actor", actor_context("nobody" + OSC2))
        from bfg_tui.store.base import ProbeRunRecord, StepRecord

        forged = "\nok     connection.tls_fingerprint             probe    -                      passed"
        await store.record_probe(ProbeRunRecord(
            "run-evil", "connection", "sqlite", "sqlite:///tmp/t" + OSC52 + forged, "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z", (StepRecord("connection.endpoint_reachability", True, "reached" + forged),),
            ("connect " + evil,)), actor_context(MAREK), selects_target=True)
    finally:
        await console.close()


@pytest.fixture
def old_store(db: Path) -> Path:
    asyncio.run(_plant(db))
    return db


@pytest.mark.parametrize("args", [
    ("audit", "list"), ("audit", "list", "--json"), ("status",), ("status", "--json"), ("checks",),
    ("checks", "--json"), ("audit", "verify"),
    *[("export", packet, "--format", fmt) for packet in ("infrastructure", "release", "runbook", "preflight")
      for fmt in ("text", "md", "json")],
])
def test_every_cli_exit_shows_planted_controls_visibly(cli, old_store: Path, args: tuple[str, ...]) -> None:
    result = cli(*args, actor=ANNA)
    assert result.code in (0, 1), result
    assert_clean_result(result)
    if "--json" in args or "json" in args:
        json.loads(result.out)  # still valid JSON


def test_audit_list_shows_the_planted_refusal_visibly(cli, old_store: Path) -> None:
    out = cli("audit", "list").out
    assert "nobody\\u001b]2;pwned\\u0007" in out
    assert len(out.splitlines()) == 5  # the planted newline forged no line


def test_checks_rows_stay_one_line_each(cli, old_store: Path) -> None:
    from bfg_tui.catalog import default_catalog

    out = cli("checks").out
    assert len(out.splitlines()) == len(default_catalog().checks), out


def test_json_escapes_c1_and_bidi(cli, old_store: Path) -> None:
    out = cli("audit", "list", "--json").out
    assert "\\u009b2J" in out and "\\u202eevil" in out and "\\u2066" in out
    [event] = [e for e in json.loads(out) if e["data"].get("check") == "infra.region_residency"]
    assert event["data"]["note"].startswith("note \x1b]52")  # the data itself round-trips


def test_packets_show_the_planted_value_visibly(cli, old_store: Path) -> None:
    text = cli("export", "infrastructure", actor=ANNA).out
    line = next(line for line in text.splitlines() if line.startswith("infra.region_residency.value="))
    assert "\\u001b]52;c;ZXZpbA==" in line and "\\u202e" in line
    md = cli("export", "infrastructure", "--format", "md", actor=ANNA).out
    assert "\\u009b2J" in md


# ---------------------------------------------------------------- both backends: the filter is a substring


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def backend_console(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tests.helpers.backends import Backend, pg_backend

    async def use(backend: Backend):
        console = await backend.console()
        try:
            yield console
        finally:
            await console.close()

    if request.param == "sqlite":
        async for console in use(Backend("sqlite", str(tmp_path / "console.db"))):
            yield console
        return
    async with pg_backend(request.getfixturevalue("pg_server"), monkeypatch) as backend:
        async for console in use(backend):
            yield console


async def test_store_filter_treats_like_wildcards_literally(backend_console: Console) -> None:
    console = backend_console
    await console.accept(OLENA, "transition.db_schema")
    store = console.store
    assert [e.kind for e in await store.audit_page(text="check.accept")] == ["check.accept"]
    assert await store.audit_count("user_accountant") == 1  # a literal underscore still matches itself
    for text in ("check_accept", "check%accept", "%", "\\", "user\\_md"):
        assert await store.audit_page(text=text) == [], text
        assert await store.audit_count(text) == 0, text
