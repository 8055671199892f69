"""The ScenarioStore.v1 suite, run on both backends through `bfg_tui.service.Console`.

`store` is parametrised: `sqlite` always (a temp file), `postgresql` (marked `postgres`)
on the test server, and `pgbouncer`: the same server through PgBouncer in transaction
pooling mode. Each PostgreSQL test gets a fresh schema, installed by the migration login,
with every actor's own login mapped to it (no owner, no superuser, no BYPASSRLS); each
actor acts through a console on its own login (`OwnersConsole`), as owners on several
hosts do. Dropped afterwards. The superuser appears only where a test plays an attacker
editing the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from bfg_tui.store.base import CHANGE_KINDS, ProbeRunRecord, StepRecord

from bfg_tui.canonical import SnapshotHasher
from bfg_tui.catalog import default_catalog
from bfg_tui.engine import status_document
from bfg_tui.errors import Refused
from bfg_tui.i18n import render
from bfg_tui.scenario import DEMO_ORDERS
from bfg_tui.scenario_rows import demo_rows
from bfg_tui.service import Console, actor_context, open_store
from tests.helpers import eventually
from tests.helpers.backends import Backend, OwnersConsole, pg_backend
from tests.helpers.fresh import FRESH_DECISIONS, FRESH_GROUPS
from tests.helpers.pg_server import ACTOR_LOGINS, PgServer

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
DRIVER = "driver_tarasenko"
CATALOG = default_catalog()


def reference_digest(orders: int = DEMO_ORDERS) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The demo snapshot's digest computed without any store, and its rows as bytes."""
    rows = [(k, i, b.encode("utf-8") if isinstance(b, str) else b) for k, i, b in demo_rows(CATALOG, orders)]
    hasher = SnapshotHasher(session=CATALOG.session, tenant=CATALOG.tenant_id)
    hasher.add_many(r[2] for r in rows)
    return hasher.hexdigest(), rows


async def collect(batches: Any) -> list[tuple[str, str, bytes]]:
    return [(k, i, bytes(b)) async for batch in batches for k, i, b in batch]


# --- the suite ------------------------------------------------------------------------------


async def test_fresh_state_shows_the_seed_figures(console: Console) -> None:
    state, ev = await console.evaluate()
    doc = status_document(CATALOG, state, ev, render)
    assert {g: (v["ready"], v["total"]) for g, v in doc["groups"].items()} == FRESH_GROUPS
    assert doc["decisions"] == FRESH_DECISIONS
    assert doc["recommended_action"]["gate"] == "connection"
    assert doc["snapshot"] == {"rows": 0, "checksum": None, "digest": None}
    assert doc["scenario"]["last_save"] is None and doc["stale"] == []
    assert state.store_contract == "ScenarioStore.v1"
    assert state.target_adapter == CATALOG.target_adapter and state.fallback_adapter == CATALOG.fallback_adapter
    assert state.audit_count == 1 and state.last_change_seq == 0
    events = await console.store.audit_page()
    assert [e.kind for e in events] == ["store.create"]
    assert (await console.store.audit_verify()).ok


async def test_save_and_freeze_give_the_reference_checksum(console: Console) -> None:
    digest, rows = reference_digest()
    saved = await console.save_scenario(MAREK)
    assert saved.seq == 2 and f"{len(rows)} records" in saved.message
    frozen = await console.freeze(MAREK)
    assert frozen.data == {"rows": len(rows), "checksum": "bfg-" + digest[:8], "digest": digest}
    state = await console.state()
    assert state.snapshot is not None and state.snapshot.id == 1 and state.snapshot.digest == digest
    assert state.scenario.records == len(rows) and state.last_save_actor == MAREK
    assert sum(state.snapshot.kind_counts.values()) == len(rows)
    # The snapshot reads back in canonical order, byte for byte, in any batch size.
    assert await collect(console.store.snapshot_batches(state.snapshot.id)) == rows
    assert await collect(console.store.snapshot_batches(state.snapshot.id, size=7)) == rows
    assert await collect(console.store.scenario_rows()) == rows
    # As runs of one kind for a bulk copy: the same records, the id as its UTF-8 bytes.
    for size in (5000, 7, 1):
        assert await collect_runs(console.store.snapshot_runs(state.snapshot.id, size=size)) == rows


async def collect_runs(runs: Any) -> list[tuple[str, str, bytes]]:
    out = []
    async for kind, batch in runs:
        assert batch, "a run has at least one record"
        out += [(kind, bytes(row[0]).decode(), bytes(row[1])) for row in batch]
    return out


async def test_snapshot_runs_read_one_state_while_another_owner_saves(tmp_path: Path) -> None:
    """A replay reading a snapshot keeps reading the state it began with: another owner's save,
    freeze and save (which prunes the records the first snapshot froze) change nothing it reads."""
    db = str(tmp_path / "s.db")
    reader, other = await Console.open(db), None
    try:
        await reader.save_scenario(MAREK)
        await reader.freeze(MAREK)
        snap = (await reader.state()).snapshot
        assert snap is not None
        expected = await collect_runs(reader.store.snapshot_runs(snap.id))
        runs = reader.store.snapshot_runs(snap.id, size=2)
        kind, batch = await anext(runs)
        got = [(kind, bytes(r[0]).decode(), bytes(r[1])) for r in batch]
        other = await Console.open(db)
        await other.save_scenario(MAREK)
        await other.freeze(MAREK)
        await other.save_scenario(MAREK)  # keeps the new version and the latest snapshot's: not the one read
        async for kind, batch in runs:
            got += [(kind, bytes(r[0]).decode(), bytes(r[1])) for r in batch]
        assert got == expected
    finally:
        await reader.close()
        if other is not None:
            await other.close()


async def test_snapshot_runs_follow_the_stored_order_even_where_kinds_interleave(tmp_path: Path) -> None:
    """Canonical order keeps each kind together; a hand-edited file that does not is still read
    record by record in its stored order, each run of one kind, nothing dropped or doubled."""
    db = tmp_path / "s.db"
    console = await Console.open(str(db))
    try:
        await console.save_scenario(MAREK)
        await console.freeze(MAREK)
        snap = (await console.state()).snapshot
        assert snap is not None
    finally:
        await console.close()
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        version = conn.execute("select scenario_version from snapshots where id = ?", (snap.id,)).fetchone()[0]
        # Every third order becomes a payment: orders and payments interleave. Two records get
        # kinds the counts do not name ("0" is not the first kind's position).
        conn.execute("update scenario_records set kind = 'payments' where version = ? and kind = 'orders'"
                     " and ord % 3 = 0", (version,))
        conn.execute("update scenario_records set kind = 'ghosts' where version = ? and ord = 7", (version,))
        conn.execute("update scenario_records set kind = 0 where version = ? and ord = 9", (version,))
        stored = [(str(k), r, bytes(b)) for k, r, b in conn.execute(
            "select kind, rid, body from scenario_records where version = ? order by ord", (version,))]
        assert ("ghosts" in {k for k, _r, _b in stored}) and ("0" in {k for k, _r, _b in stored})
    console = await Console.open(str(db))
    try:
        for size in (5000, 2):
            runs = [(kind, len(batch)) async for kind, batch in console.store.snapshot_runs(snap.id, size=size)]
            assert await collect_runs(console.store.snapshot_runs(snap.id, size=size)) == stored
            assert all(n > 0 for _kind, n in runs)
            # Consecutive runs of one kind are only a batch cut: merged, they are the stored kinds' runs.
            merged = [(kind, sum(n for _k, n in group)) for kind, group in itertools.groupby(runs, key=lambda r: r[0])]
            assert merged == [(kind, len(list(group))) for kind, group in itertools.groupby(k for k, _r, _b in stored)]
            assert len(merged) > 10
    finally:
        await console.close()


async def test_freezing_twice_gives_the_same_checksum_and_a_new_snapshot(console: Console) -> None:
    await console.save_scenario(MAREK)
    first = await console.freeze(MAREK)
    second = await console.freeze(MAREK)
    assert first.data == second.data
    assert (await console.state()).snapshot.id == 2


async def test_freeze_before_save_is_refused_and_changes_nothing(console: Console) -> None:
    before = await console.state()
    with pytest.raises(Refused, match="no scenario saved yet"):
        await console.freeze(MAREK)
    after = await console.state()
    assert after.snapshot is None
    assert after.audit_count == before.audit_count + 1  # only the refusal, no freeze event
    last = (await console.store.audit_page(limit=1))[0]
    assert last.kind == "action.refused" and last.data["action"] == "snapshot.freeze"


async def test_accept_revoke_and_idempotency(console: Console) -> None:
    first = await console.accept(OLENA, "transition.db_schema", note="checked", idem="k-1")
    state = await console.state()
    acc = state.acceptances["transition.db_schema"]
    assert (acc.actor_id, acc.note, acc.seq, acc.countersign) == (OLENA, "checked", first.seq, False)
    assert state.last_change_seq == first.seq

    again = await console.accept(OLENA, "transition.db_schema", note="checked", idem="k-1")
    assert again.seq == first.seq and (await console.state()).audit_count == state.audit_count
    # Without a key, an identical re-accept is a no-op too; a different note is recorded.
    same = await console.accept(OLENA, "transition.db_schema", note="checked")
    assert "already accepted" in same.message and (await console.state()).audit_count == state.audit_count
    other = await console.accept(OLENA, "transition.db_schema", note="re-checked")
    assert other.seq == first.seq + 1

    countersigned = await console.accept(ANNA, "transition.secrets_and_auth")
    assert (await console.state()).acceptances["transition.secrets_and_auth"].countersign is True
    assert "countersigned" in countersigned.message

    revoked = await console.revoke(OLENA, "transition.db_schema", note="undo", idem="r-1")
    state = await console.state()
    assert "transition.db_schema" not in state.acceptances and state.last_change_seq == revoked.seq
    assert (await console.revoke(OLENA, "transition.db_schema", note="undo", idem="r-1")).seq == revoked.seq
    history = await console.store.check_history("transition.db_schema")
    assert [e.kind for e in history] == ["check.revoke", "check.accept", "check.accept"]
    assert history[0].data == {"check": "transition.db_schema", "note": "undo"}


async def test_scenario_save_retry_with_a_key_changes_nothing(console: Console) -> None:
    first = await console.save_scenario(MAREK, idem="save-1")
    count = (await console.state()).audit_count
    again = await console.save_scenario(MAREK, idem="save-1")
    assert again.seq == first.seq and (await console.state()).audit_count == count


async def test_a_save_keeps_only_its_own_rows_and_the_frozen_snapshots(console: Console) -> None:
    await console.save_scenario(MAREK, scale=2)  # version 1, frozen below
    await console.freeze(MAREK)
    await console.save_scenario(MAREK, scale=3)  # version 2, superseded by version 3
    await console.save_scenario(MAREK)  # version 3
    held = {v: len(await collect(console.store.scenario_rows(v))) for v in range(4)}
    assert held == {0: 0, 1: len(list(demo_rows(CATALOG, 2))), 2: 0, 3: len(list(demo_rows(CATALOG)))}


async def test_refusals_are_recorded(console: Console) -> None:
    with pytest.raises(Refused):
        await console.accept(DRIVER, "transition.db_schema")
    with pytest.raises(Refused):
        await console.save_scenario("cp_client_lviv_farma")
    events = await console.store.audit_page(limit=2)
    assert [(e.kind, e.actor, e.data["action"]) for e in events] == [
        ("action.refused", "cp_client_lviv_farma", "scenario.save"),
        ("action.refused", DRIVER, "check.accept"),
    ]
    assert events[1].data["subject"] == "transition.db_schema" and events[1].data["reason"]
    state = await console.state()
    assert state.acceptances == {} and state.scenario.saved_at is None
    assert state.last_change_seq == 0  # a refusal is not a change


async def test_refused_inside_a_write_rolls_it_back(console: Console) -> None:
    before = await console.state()
    with pytest.raises(Refused, match="is not accepted"):
        await console.revoke(OLENA, "transition.db_schema")
    after = await console.state()
    kinds = [e.kind for e in await console.store.audit_page()]
    assert kinds.count("check.revoke") == 0 and kinds[0] == "action.refused"
    assert after.audit_count == before.audit_count + 1 and after.last_change_seq == before.last_change_seq


async def test_snapshot_bound_acceptance_goes_stale_after_a_refreeze(console: Console) -> None:
    check = "transition.rehearsal_scenario_store"
    assert CATALOG.checks[check].binds_snapshot
    await console.save_scenario(MAREK)
    await console.freeze(MAREK)
    await console.accept(MAREK, check)
    _state, ev = await console.evaluate()
    assert ev.checks[check].ready and not ev.checks[check].stale
    await console.save_scenario(MAREK, scale=DEMO_ORDERS + 1)
    await console.freeze(MAREK)
    state, ev = await console.evaluate()
    assert ev.checks[check].stale and not ev.checks[check].ready
    assert check in ev.stale and check in state.acceptances  # kept in history, not counted
    await console.accept(MAREK, check)
    _state, ev = await console.evaluate()
    assert ev.checks[check].ready and check not in ev.stale


async def test_audit_verify_ok_then_detects_an_edited_event(store: Backend, console: Console) -> None:
    await console.save_scenario(MAREK)
    await console.freeze(MAREK)
    await console.accept(OLENA, "transition.db_schema")
    await console.accept(OLENA, "transition.secrets_and_auth")
    with pytest.raises(Refused):
        await console.accept(DRIVER, "transition.db_schema")
    await console.revoke(OLENA, "transition.db_schema")
    result = await console.store.audit_verify()
    assert result.ok and result.count == 7
    assert result.head == (await console.state()).audit_head
    store.tamper(4, OLENA, ANNA)
    result = await console.store.audit_verify()
    assert not result.ok and result.first_bad_seq == 4
    assert result.reason == "event 4 was edited: its hash does not match its content"


async def test_audit_page_filter_count_and_history(console: Console) -> None:
    await console.accept(OLENA, "transition.db_schema")
    await console.accept(MAREK, "transition.role_headers_mapped")
    await console.revoke(OLENA, "transition.db_schema")
    assert await console.store.audit_count() == 4
    assert await console.store.audit_count("CHECK.ACCEPT") == 2  # case-insensitive on both backends
    page = await console.store.audit_page(text="olena")
    assert [e.kind for e in page] == ["check.revoke", "check.accept"]
    assert [e.seq for e in await console.store.audit_page(offset=1, limit=2)] == [3, 2]
    head = await console.store.audit_head()
    assert head == (4, (await console.state()).audit_head)
    assert page[0].prev == (await console.store.audit_page(limit=1, offset=1))[0].hash


async def test_probe_record_round_trip(console: Console) -> None:
    endpoint = "postgresql://bfg_app@db.example:5432/bfg?sslmode=require"
    run = ProbeRunRecord(
        run_id="run-0123456789ab", probe="connection", target_kind="postgresql", endpoint=endpoint,
        started_at="2026-01-01T00:00:00.000000Z", finished_at="2026-01-01T00:00:01.000000Z",
        steps=tuple(StepRecord(c, True, f"{c} ok") for c in (
            "connection.endpoint_reachability", "connection.tls_fingerprint", "connection.rbac_session",
            "connection.write_probe")),
        transcript=("[  0.000s] start", "[  0.900s] Zażółć: done"), tls=True, credentials_external=True,
        facts={"fingerprint": "sha256:" + "ab" * 32, "server": "PostgreSQL 15.18", "replay_id": None},
    )
    marek = (await console.of(MAREK)).store if isinstance(console, OwnersConsole) else console.store
    seq = await marek.record_probe(run, actor_context(MAREK), selects_target=True)
    stored = await console.store.probe_run(run.run_id)
    assert stored == run._replace(facts={**run.facts, "tls": True, "credentials_external": True})
    assert await console.store.probe_run("run-missing") is None
    state, ev = await console.evaluate()
    assert state.connection_endpoint == endpoint and state.last_change_seq == seq
    result = state.probes["connection.tls_fingerprint"]
    assert (result.passed, result.endpoint, result.run_id, result.seq, result.tls, result.credentials_external) == (
        True, endpoint, run.run_id, seq, True, True)
    # Both backends keep the certificate's fingerprint beside the result (the packets read it there).
    assert {r.fingerprint for r in state.probes.values()} == {"sha256:" + "ab" * 32}
    assert ev.groups["connection"] == (4, 4)
    assert (await console.store.latest_probe_runs())[0] == (run.run_id, "connection", endpoint, True, run.finished_at)
    event = (await console.store.audit_page(limit=1))[0]
    assert event.kind == "probe.run" and event.data["steps"][0]["check"] == "connection.endpoint_reachability"


async def test_release_export_freshness(console: Console) -> None:
    await console.accept(OLENA, "transition.db_schema")
    out = await console.export(ANNA, "release")
    state, ev = await console.evaluate()
    assert state.last_release_export_seq == out.seq > state.last_change_seq
    assert ev.checks["rollback.audit_packet"].ready
    other = await console.export(ANNA, "connection")  # another packet: not the release export
    state, ev = await console.evaluate()
    assert state.last_release_export_seq == out.seq < other.seq and ev.checks["rollback.audit_packet"].ready
    event = (await console.store.audit_page(limit=2))[1]
    assert event.kind == "packet.export" and event.data["packet"] == "release" and event.data["sha256"]
    assert "packet.export" not in CHANGE_KINDS
    await console.accept(OLENA, "transition.secrets_and_auth")  # a change after the export: stale again
    _state, ev = await console.evaluate()
    assert not ev.checks["rollback.audit_packet"].ready


async def test_data_version_moves_when_another_connection_commits(store: Backend, console: Console) -> None:
    other = await store.console()
    try:
        before = await console.store.data_version()
        await other.accept(OLENA, "transition.db_schema")

        async def moved() -> bool:
            return await console.store.data_version() != before

        await eventually(moved, "the other connection's commit never moved data_version")
        assert "transition.db_schema" in (await console.state()).acceptances
    finally:
        await other.close()


async def test_two_concurrent_writers_keep_one_valid_chain(store: Backend, console: Console) -> None:
    second = await store.console()
    rounds = 25

    async def writer(c: Console, actor: str, check: str) -> list[int]:
        seqs = []
        for i in range(rounds):
            seqs.append((await c.accept(actor, check, note=f"round {i}", idem=f"{actor}:{i}:a")).seq)
            seqs.append((await c.revoke(actor, check, note=f"round {i}", idem=f"{actor}:{i}:r")).seq)
        return seqs

    try:
        a, b = await asyncio.gather(
            writer(console, OLENA, "transition.db_schema"),
            writer(second, MAREK, "transition.role_headers_mapped"),
        )
    finally:
        await second.close()
    assert len(a) == len(b) == 2 * rounds
    assert sorted(a + b) == list(range(2, 2 + 4 * rounds))  # every seq once, no gaps
    result = await console.store.audit_verify()
    assert result.ok and result.count == 1 + 4 * rounds
    events = {e.seq: e for e in await console.store.audit_page(limit=200)}
    assert all(events[s].actor == OLENA for s in a) and all(events[s].actor == MAREK for s in b)


# --- one scenario, two backends: the same bytes -----------------------------------------------


async def _script(console: Console) -> None:
    await console.save_scenario(MAREK)
    await console.freeze(MAREK)
    await console.accept(OLENA, "transition.db_schema", note="schema reviewed")
    await console.accept(ANNA, "infra.region_residency", value="eu-central")
    with pytest.raises(Refused):
        await console.accept(DRIVER, "transition.secrets_and_auth")
    await console.revoke(OLENA, "transition.db_schema")
    await console.export(ANNA, "release", "json")


_AT = re.compile(rb'"at":"[0-9T:.Z-]+"')
_HASHES = re.compile(rb'"(sha256|prev)":"[0-9a-f]{64}"')


def _without_time(body: bytes) -> bytes:
    # The links hash the times, and the release packet prints the head: set them aside too.
    return _HASHES.sub(rb'"\1":"<hash>"', _AT.sub(b'"at":"<server time>"', body))


@contextlib.asynccontextmanager
async def both_backends(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch,
                        tmp_path: Path) -> AsyncIterator[tuple[Backend, Backend]]:
    """A SQLite store on a pinned clock and a fresh PostgreSQL schema (which keeps the server's time)."""
    monkeypatch.setenv("BFG_TUI_FIXED_CLOCK", "2026-03-01T09:00:00.000000Z")
    async with pg_backend(pg_server, monkeypatch) as backend:
        yield Backend("sqlite", str(tmp_path / "console.db")), backend


def _event(e: Any) -> tuple[Any, ...]:
    return (e.seq, e.kind, e.actor, {k: v for k, v in e.data.items() if k != "sha256"}, e.auth)


@pytest.mark.postgres
@pytest.mark.slow
async def test_same_actions_give_the_same_bodies_on_both_backends_but_for_the_server_time(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite takes the client's clock (pinned here); PostgreSQL takes the server's for
    # every event, so the bodies agree byte for byte once `at` is set aside, and each
    # chain verifies on its own.
    async with both_backends(pg_server, monkeypatch, tmp_path) as (sqlite_backend, pg_backend_):
        results = []
        for backend in (sqlite_backend, pg_backend_):
            console = await backend.console()
            try:
                await _script(console)
                snap = (await console.state()).snapshot
                results.append((
                    await console.state(),
                    await console.store.audit_page(limit=100),
                    await console.store.audit_verify(),
                    await collect(console.store.snapshot_batches(snap.id)),
                ))
            finally:
                await console.close()
        (s_state, s_events, s_verify, s_rows), (p_state, p_events, p_verify, p_rows) = results
        assert p_state.snapshot.digest == s_state.snapshot.digest and p_state.acceptances.keys() == s_state.acceptances.keys()
        assert p_state.audit_count == s_state.audit_count == 8
        assert [_event(e) for e in p_events] == [_event(e) for e in s_events]
        assert p_verify.ok and s_verify.ok and p_verify.count == s_verify.count
        assert all(e.at != "2026-03-01T09:00:00.000000Z" for e in p_events)  # the server's clock, not ours
        assert [e.at for e in p_events] == sorted(e.at for e in p_events)[::-1]  # newest first, never backwards
        assert p_rows == s_rows
        conn = sqlite3.connect(sqlite_backend.location)
        sqlite_bodies = [bytes(b) for (b,) in conn.execute("select body from audit_events order by seq")]
        conn.close()
        with pg_server.connect(ACTOR_LOGINS[ANNA]) as pconn:  # Anna's own login: RLS shows her tenant
            pg_bodies = [bytes(b) for (b,) in pconn.execute(
                f"select body from {pg_backend_.schema}.audit_events order by seq")]
        assert [_without_time(b) for b in pg_bodies] == [_without_time(b) for b in sqlite_bodies]


# --- signed identity on both backends ---------------------------------------------------------


async def signed_console(store: Backend, keys: dict[str, str], actors: tuple[str, ...] = (ANNA, MAREK, OLENA)) -> Any:
    """A console whose keyring holds `actors`' keys, on a store whose roster lists every actor
    (on PostgreSQL: each actor's own login, each with that keyring)."""
    from bfg_tui.identity.gate import Identity
    from bfg_tui.identity.signing import KeyRing, load_key_file

    def everyone_identity() -> Any:
        return Identity(ring=KeyRing([load_key_file(k) for k in keys.values()], "test"))

    if store.pg is None:
        everyone: Any = Console(await open_store(store.location, CATALOG), CATALOG, identity=everyone_identity())
    else:
        everyone = await OwnersConsole(store, identity=everyone_identity).open()
    if not (await everyone.roster()).signed:
        await everyone.roster_init(ANNA, keys[ANNA] + ".pub")
        for actor in (MAREK, OLENA, DRIVER):
            await everyone.roster_add(ANNA, actor, keys[actor] + ".pub")
    await everyone.close()

    def identity() -> Any:
        return Identity(ring=KeyRing([load_key_file(keys[a]) for a in actors], "test"))

    if store.pg is None:
        return Console(await open_store(store.location, CATALOG), CATALOG, identity=identity())
    return await OwnersConsole(store, identity=identity).open()


@pytest.mark.skipif(not __import__("shutil").which("ssh-keygen"), reason="ssh-keygen is not installed")
async def test_signed_writes_carry_verifiable_signatures(store: Backend, actor_keys: dict[str, str]) -> None:
    from bfg_tui.identity import NAMESPACE
    from bfg_tui.identity.sshsig import verify

    console = await store.console()
    await console.save_scenario(MAREK)
    await console.freeze(MAREK)
    await console.accept(OLENA, "transition.db_schema")  # demo era: self-asserted
    await console.close()
    console = await signed_console(store, actor_keys, (ANNA, OLENA))
    try:
        state = await console.state()
        assert state.identity == "signed" and state.roster_seq == 5
        assert state.acceptances["transition.db_schema"].key is None
        await console.accept(OLENA, "transition.db_schema", note="signed now")
        with pytest.raises(Refused, match=f"no key for {MAREK} in your agent"):
            await console.freeze(MAREK)
        state = await console.state()
        olena_fp = (await console.roster()).actor_keys(OLENA)[0].fingerprint
        assert state.acceptances["transition.db_schema"].key == olena_fp
        refused, accept = (await console.store.audit_page(limit=2))
        assert refused.signature is None and refused.auth["mode"] == "unsigned"
        assert verify(accept.body.encode(), accept.signature, NAMESPACE).fingerprint == olena_fp
        assert [kind for _seq, kind, _data in await console.store.roster_events()] == [
            "roster.init", "roster.add", "roster.add", "roster.add"]
        report = await console.verify_signatures()
        assert report.ok and (report.signed, report.keys, report.actors, report.before_roster) == (5, 2, 2, 4)
        seq = accept.seq
    finally:
        await console.close()
    # An attacker who rewrites a signed event (and its hash) cannot re-sign it.
    store.tamper(seq, "signed now", "signed n0w")
    console = await store.console()
    try:
        report = await console.verify_signatures()
        assert not report.ok and report.first_bad_seq == seq and "does not match" in report.reason
    finally:
        await console.close()


@pytest.mark.postgres
@pytest.mark.slow
async def test_signed_chains_agree_on_both_backends_but_for_the_server_time(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, actor_keys: dict[str, str],
) -> None:
    # PostgreSQL's events carry the server's time, so the signed bodies differ there and
    # only there; each backend's signatures verify over its own exact bodies.
    async with both_backends(pg_server, monkeypatch, tmp_path) as backends:
        trails = []
        for backend in backends:
            console = await signed_console(backend, actor_keys)
            try:
                await _script(console)
                events = await console.store.audit_page(limit=100)
                assert all(e.signature for e in events if e.seq >= 2 and e.kind != "action.refused")
                assert (await console.verify_signatures()).ok
                trails.append([(e.seq, _without_time(e.body.encode()), bool(e.signature)) for e in events])
            finally:
                await console.close()
        assert trails[0] == trails[1]
