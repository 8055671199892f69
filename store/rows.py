"""Scenario rows in column batches, for the stores' bulk inserts.

A scenario save moves ~1M `(kind, id, body)` rows. A Python loop over them (append,
encode, count) cost about as much as SQLite's own inserting, so the rows are cut into
batches and turned into columns by C code (`islice`, `zip`, `map`, `Counter`): the
per-row Python work left is the generator's.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any, NamedTuple

BATCH = 20000


class Columns(NamedTuple):
    """One batch: the kinds, ids and UTF-8 bodies of `len(kinds)` consecutive rows."""

    kinds: tuple[str, ...]
    rids: tuple[str, ...]
    bodies: list[bytes]


def utf8_bodies(bodies: tuple[Any, ...]) -> list[bytes]:
    """Canonical bodies as UTF-8 bytes: stored and hashed as they are, never re-encoded."""
    first = bodies[0]
    try:
        if isinstance(first, str):
            return list(map(str.encode, bodies))  # UTF-8 is str.encode's default
        if isinstance(first, bytes):
            if set(map(type, bodies)) == {bytes}:  # the generator's own rows: kept as they are
                return list(bodies)
            return list(map(bytes, bodies))  # a str among bytes raises TypeError
    except TypeError:
        pass
    # A mixed batch, or memoryviews from a database driver: one at a time.
    return [b.encode("utf-8") if isinstance(b, str) else bytes(b) for b in bodies]


def columns(batch: list[Any]) -> Columns:
    kinds, rids, bodies = zip(*batch, strict=True)
    return Columns(kinds, rids, utf8_bodies(bodies))


async def column_batches(rows: Any, size: int = BATCH) -> AsyncIterator[Columns]:
    """`rows` as Columns: a plain iterable of rows, or an async iterable of row lists."""
    if hasattr(rows, "__aiter__"):
        async for batch in rows:
            if batch:
                yield columns(batch)
        return
    it = iter(rows)
    while True:
        with _no_cycle_collection():
            batch = list(islice(it, size))
            cols = columns(batch) if batch else None
        if cols is None:
            return
        yield cols


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """While a batch is built: its rows hold no reference cycles, yet each few hundred new
    tuples would set off a collection that walks every object kept so far."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Tally:
    """Rows and rows per kind, counted a batch at a time."""

    def __init__(self) -> None:
        self.count = 0
        self._kinds: Counter[str] = Counter()

    def add(self, cols: Columns) -> int:
        """Count a batch; returns the ordinal of its first row."""
        start = self.count
        self.count += len(cols.kinds)
        self._kinds.update(cols.kinds)
        return start

    @property
    def kinds(self) -> dict[str, int]:
        return dict(self._kinds)
