"""A probe aimed at the console's own store is refused before it runs, however it is spelled."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.rows import audit_rows, table_dump

MAREK = "user_dispatcher_marek"


def _spellings(db: Path, tmp_path: Path) -> dict[str, str]:
    link = tmp_path / "link.db"
    link.symlink_to(db)
    hard = tmp_path / "hard.db"
    os.link(db, hard)
    sub = tmp_path / "sub"
    sub.mkdir()
    return {"same path": str(db), "symlink": str(link), "hard link": str(hard),
            "dot-dot": str(sub / ".." / db.name), "relative": os.path.relpath(db)}


@pytest.mark.parametrize("probe", ["connection", "dry-run"])
@pytest.mark.parametrize("spelling", ["same path", "symlink", "hard link", "dot-dot", "relative"])
def test_a_probe_into_the_console_store_is_refused(cli, frozen: Path, tmp_path: Path, probe: str,
                                                   spelling: str) -> None:
    target = _spellings(frozen, tmp_path)[spelling]
    before_rows, before_events = table_dump(frozen), audit_rows(frozen)
    result = cli("probe", probe, target, actor=MAREK)
    assert result.code == 1, result
    assert "the target is the console's own store (the same file)" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert table_dump(frozen) == before_rows  # no scenario, snapshot or evidence written
    events = audit_rows(frozen)
    assert events[:-1] == before_events and events[-1][1] == "action.refused"
    assert cli("audit", "verify").code == 0


def test_a_copy_of_the_console_store_is_refused_by_store_id(cli, frozen: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copyfile(frozen, copy)
    result = cli("probe", "dry-run", str(copy), actor=MAREK)
    assert result.code == 1 and "a copy of it: the same store id" in result.err, result


def test_another_store_is_still_a_target(cli, frozen: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    assert cli("probe", "connection", str(target), actor=MAREK).code == 0
    assert cli("probe", "dry-run", str(target), actor=MAREK).code == 0
    again = cli("probe", "dry-run", str(target), actor=MAREK)  # a repeated replay into the same target
    assert again.code == 0, again
    assert cli("audit", "verify").code == 0
    assert cli("audit", "verify", store=target).code == 0


@pytest.mark.postgres
async def test_a_dry_run_into_the_console_store_schema_on_postgres_is_refused(
    pg_server, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same server, database and schema: refused, whether the target is a URL or key=value conninfo."""
    pytest.importorskip("psycopg")
    from bfg_tui import runbook
    from bfg_tui.errors import Refused
    from tests.helpers.backends import pg_console

    async with pg_console(pg_server, monkeypatch) as (backend, console):
        await console.save_scenario(MAREK)
        await console.freeze(MAREK)
        monkeypatch.setattr(runbook, "SCHEMA", backend.schema)  # the store lives where a dry-run writes
        before = await console.store.audit_head()
        keyvalue = f"host={pg_server.host} port={pg_server.port} dbname=bfg user=bfg_app_login sslmode=require"
        for target in (pg_server.app_dsn, keyvalue):
            for probe in ("connection", "dry_run"):
                with pytest.raises(Refused, match="the target is the console's own store"):
                    await console.probe(MAREK, probe, target)
        count, _head = await console.store.audit_head()
        assert count == before[0] + 4  # the four refusals, nothing else
        assert (await console.store.audit_verify()).ok
