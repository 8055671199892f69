"""Floors: the same work done the plainest way the standard library allows, timed beside the figure.

    python -m benchmarks.floors sqlite-rows DB ROWS KIND_BYTES RID_BYTES BODY_BYTES

writes ROWS rows of those sizes into a fresh SQLite file, in a table shaped like
`scenario_records` (version, ord, kind, rid, body; primary key (version, ord), without
rowid), in one transaction, with the store's journal settings (WAL, synchronous=FULL):
what `scenario save` would cost if generating and encoding the records were free.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

TABLE = (
    "create table scenario_records (version integer not null, ord integer not null, kind text not null, "
    "rid text not null, body blob not null, primary key (version, ord)) without rowid"
)


def row_shape(db: Path) -> tuple[int, int, int, int]:
    """(rows, kind bytes, id bytes, body bytes): the count and rounded average sizes of the latest save."""
    with sqlite3.connect(db) as conn:
        n, kind, rid, body = conn.execute(
            "select count(*), avg(length(kind)), avg(length(rid)), avg(length(body)) from scenario_records "
            "where version = (select max(version) from scenarios)"
        ).fetchone()
    return int(n), round(kind), round(rid), round(body)


def sqlite_rows(db: Path, rows: int, kind_bytes: int, rid_bytes: int, body_bytes: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = full")
    conn.execute(TABLE)
    kind, rid, body = "k" * kind_bytes, "r" * rid_bytes, b"b" * body_bytes
    conn.execute("begin immediate")
    conn.executemany("insert into scenario_records values (?, ?, ?, ?, ?)",
                     ((1, i, kind, rid, body) for i in range(rows)))
    conn.execute("commit")
    conn.close()


def main(argv: list[str]) -> int:
    if len(argv) == 6 and argv[0] == "sqlite-rows":
        sqlite_rows(Path(argv[1]), *(int(a) for a in argv[2:]))
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
