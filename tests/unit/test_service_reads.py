"""The service's reads for the console: permissions asked, never decided elsewhere, and never recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bfg_tui.service import Console

ANNA, MAREK, OLENA, DRIVER = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena", "driver_tarasenko"


def audit_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from audit_events").fetchone()[0])


async def test_can_answers_as_the_write_would_and_records_nothing(db: Path) -> None:
    console = await Console.open(str(db))
    try:
        before = audit_count(db)
        own = console.can(OLENA, "check.accept", "transition.db_schema")
        assert own and not own.countersign and own.reason is None
        countersigned = console.can(ANNA, "check.accept", "transition.db_schema")
        assert countersigned and countersigned.countersign
        others = console.can(MAREK, "check.revoke", "transition.db_schema")
        assert not others and "owned by user_accountant_olena" in str(others.reason)
        probe = console.can(ANNA, "check.accept", "connection.endpoint_reachability")
        assert not probe and "probe check" in str(probe.reason)
        assert not console.can(DRIVER, "check.accept", "transition.db_schema")
        # Without a check: may the actor sign checks at all?
        assert console.can(OLENA, "check.accept") and console.can(MAREK, "check.accept")
        read_only = console.can(DRIVER, "check.accept")
        assert not read_only and "read-only role" in str(read_only.reason)
        assert console.can(MAREK, "scenario.save") and console.can(MAREK, "snapshot.freeze")
        refused = console.can(OLENA, "snapshot.freeze")
        assert not refused and "lacks permission snapshot.freeze" in str(refused.reason)
        assert not console.can(None, "scenario.save") and not console.can("nobody", "packet.export")
        assert console.can(DRIVER, "session.switch_actor")
        assert audit_count(db) == before  # asking is not acting
        # The write decides again, and refuses with the same reason.
        from bfg_tui.errors import Refused

        try:
            await console.freeze(OLENA)
        except Refused as exc:
            assert str(exc.reason) == str(refused.reason)
        else:
            raise AssertionError("the freeze was not refused")
    finally:
        await console.close()


async def test_actor_reads(db: Path) -> None:
    console = await Console.open(str(db))
    try:
        assert "gates.countersign" in console.permissions(ANNA)
        assert console.permissions("nobody") == ()
        claims = console.claims(OLENA)
        assert claims["sub"] == OLENA and claims["roles"] == ["accountant"]
        assert console.claims("nobody") == {}
        assert console.lookup_actor(MAREK).id == MAREK  # type: ignore[union-attr]
        assert "unknown actor 'nobody'" in str(console.lookup_actor("nobody"))
        assert console.login == ""  # a SQLite store has no login
        first = await console.data_version()
        other = await Console.open(str(db))  # another process's commit changes it
        try:
            await other.accept(OLENA, "transition.db_schema", note="ok")
        finally:
            await other.close()
        assert first is not None and await console.data_version() != first
    finally:
        await console.close()


async def test_audit_page_history_and_transcript(db: Path) -> None:
    console = await Console.open(str(db))
    try:
        await console.accept(OLENA, "transition.db_schema", note="first")
        await console.revoke(OLENA, "transition.db_schema", note="again")
        page = await console.audit_page(offset=0, limit=2)
        assert page.total >= 3 and page.offset == 0 and len(page.events) == 2
        assert page.events[0].kind == "check.revoke"  # newest first
        last = await console.audit_page(offset=10_000, limit=2)  # past the end: the last page
        assert last.offset == (page.total - 1) // 2 * 2 and last.events
        filtered = await console.audit_page(text="db_schema")
        assert filtered.total == 2 and {e.kind for e in filtered.events} == {"check.accept", "check.revoke"}
        history = await console.check_history("transition.db_schema")
        assert [e.kind for e in history] == ["check.revoke", "check.accept"]
        assert (await console.verify()).ok
        assert await console.probe_transcript("no-such-run") is None
        assert await console.latest_probe_runs() == []
    finally:
        await console.close()
