"""Reading a SQLite store's rows directly, for 'what was written' checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def audit_rows(db: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select seq, kind, body from audit_events order by seq").fetchall()
    finally:
        conn.close()


def table_dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table except the audit trail, for 'nothing else changed' checks."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        return {n: conn.execute(f"select * from {n}").fetchall() for n in names
                if n not in ("audit_events", "audit_head")}
    finally:
        conn.close()


def run_sql(db: Path, *statements: str) -> None:
    """Write to the store behind its back (a planted or edited row), in one transaction."""
    conn = sqlite3.connect(db)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def event_kinds(db: Path) -> list[str]:
    """The audit trail's event kinds, oldest first."""
    return [kind for _seq, kind, _body in audit_rows(db)]
