"""The service's reads the console needs besides the status and audit reads: who is logged in,
whether another process committed, which key signs. None of them records anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bfg_tui.service import Console

OLENA = "user_accountant_olena"


def audit_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from audit_events").fetchone()[0])


async def test_data_version_login_and_signer(db: Path) -> None:
    console = await Console.open(str(db))
    try:
        before = audit_count(db)
        assert console.login == ""  # a SQLite store has no login
        assert await console.signer_fingerprint(OLENA) is None  # a demo store: nobody signs
        assert await console.signer_fingerprint(None) is None
        first = await console.data_version()
        assert first is not None and await console.data_version() == first
        assert audit_count(db) == before  # reading is not acting
        other = await Console.open(str(db))  # another process's commit changes it
        try:
            await other.accept(OLENA, "transition.db_schema", note="ok")
        finally:
            await other.close()
        assert await console.data_version() != first
    finally:
        await console.close()
