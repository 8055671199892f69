"""The app login's read-back of a replayed snapshot: one binary `COPY … TO STDOUT` whose
rows join many records each, hashed to the canonical checksum and checked to follow
canonical (kind, record_id) order."""

from __future__ import annotations

import operator
import struct
from itertools import islice
from typing import Any

from ...canonical import SnapshotHasher
from ..base import SnapshotSource
from .copy_in import COPY_HEADER
from .session import Fail, PgSession, q

READBACK_GROUP = 5_000  # records the server joins into one row of the read-back COPY
COUNT_CHUNK = 20_000
_I32 = struct.Struct("!i")


async def read_back(s: PgSession, app: Any, tenant: str, snap: str, order: list[str],
                     source: SnapshotSource) -> tuple[SnapshotHasher, bool]:
    """Hash the snapshot's bodies in seq order as the app login: (hasher, True when
    (kind, record_id) strictly follow canonical order, which proves them unique).

    One `COPY (…) TO STDOUT (FORMAT binary)`: the server joins READBACK_GROUP records a
    row (their seqs, keys and bodies, each one string), so the client handles a few
    hundred rows, not a million, and checks them with C code (split, join, map). The
    server joins in the order it reads, which is the key's order when it reads the key
    (the usual plan); the joined seqs must then be exactly lo, lo+1, … in every group.
    When they are not (another plan, or gaps in seq), the whole read is done again with
    the joins sorted by seq, which costs the server a sort per group.
    """
    rec = q("scenario_records")
    lo, hi = await (await app.execute(
        f"select min(seq), max(seq) from {rec} where tenant_id = %s and snapshot_id = %s",
        (tenant, snap))).fetchone()
    for sort in ("", " order by seq"):
        hasher = SnapshotHasher(session=source.session, tenant=source.tenant_id)
        if lo is None:
            return hasher, True
        in_order = await read_groups(s, app, rec, tenant, snap, order, hasher, lo, hi, sort)
        if in_order is not None:
            return hasher, in_order
    raise Fail("the read-back could not put the records in seq order")  # pragma: no cover


async def read_groups(s: PgSession, app: Any, rec: str, tenant: str, snap: str, order: list[str],
                       hasher: SnapshotHasher, lo: int, hi: int, sort: str) -> bool | None:
    """One read of every group; None when the seqs show the joins were not in seq order."""
    step = READBACK_GROUP
    query = (
        "copy (select g.lo, r.n, r.seqs, r.keys, r.bodies"
        " from generate_series(%(lo)s::int4, %(hi)s::int4, %(step)s::int4) as g(lo) cross join lateral ("
        f" select count(*)::int4 as n, string_agg(seq::text, ','{sort}) as seqs,"
        f" string_agg(kind || E'\\x1f' || record_id, E'\\x1e'{sort}) as keys,"
        f" string_agg(body, ','{sort}) as bodies"
        f" from {rec} where tenant_id = %(tenant)s and snapshot_id = %(snap)s"
        " and seq >= g.lo and seq < g.lo + %(step)s) as r) to stdout (format binary)")
    ranks = {kind: chr(0x21 + n) for n, kind in enumerate(order)}
    rows = BinaryRows()
    ordered, in_seq, last, expect = True, True, "", lo
    async with app.cursor().copy(query, {"lo": lo, "hi": hi, "step": step, "tenant": tenant,
                                         "snap": snap}) as copy:
        async for data in copy:
            for g, n_raw, seqs, keys, bodies in rows.feed(data):
                assert g is not None and n_raw is not None  # generate_series and count(*) are never null
                start, n = _I32.unpack(g)[0], _I32.unpack(n_raw)[0]
                if start != expect:
                    raise Fail(f"read-back groups out of order at seq {start}")
                expect = start + step
                if not n or not in_seq:
                    continue  # an empty range; or draining a read that is done again sorted
                assert seqs is not None and keys is not None and bodies is not None  # null only when empty
                if not sort:  # sorted joins need no proof: seq is unique and the ranges ascend
                    in_seq = seqs.decode() == ",".join(map(str, range(start, start + n)))
                    if not in_seq:
                        continue
                hasher.add_joined(bodies, n)
                if ordered:
                    ordered, last = canonical_run(keys.decode("utf-8"), n, ranks, last)
    if not rows.done:
        raise Fail("the read-back COPY ended early")
    return ordered if in_seq else None


async def count_unordered(s: PgSession, app: Any, tenant: str, snap: str, rank: dict[str, int]) -> int:
    """Rows out of canonical (kind, record_id) order, counted one by one: only when the
    read-back found the order broken (or could not tell), to name how badly."""
    unordered, last_rank, last_rid = 0, -1, ""
    async with app.cursor(name="bfg_readback_order", binary=True) as cur:
        cur.itersize = COUNT_CHUNK
        await cur.execute(
            f"select kind, record_id from {q('scenario_records')} where tenant_id = %s"
            " and snapshot_id = %s order by seq", (tenant, snap))
        while batch := await cur.fetchmany(COUNT_CHUNK):
            for kind, rid in batch:
                if kind in rank and rank[kind] == last_rank:
                    if rid <= last_rid:
                        unordered += 1
                else:
                    this = rank.get(kind, len(rank))
                    if this <= last_rank:
                        unordered += 1
                    last_rank = this
                last_rid = rid
    return unordered


def canonical_run(keys: str, n: int, ranks: dict[str, str], last: str) -> tuple[bool, str]:
    """(strictly in canonical order, the last key) for one group's keys "kind␟id␞kind␟id…".

    Each kind becomes a one-character rank (catalog order), so plain string order of the
    keys is canonical order; the check is C code over the whole group.
    """
    keys = "\x1e" + keys
    for kind, rank in ranks.items():
        keys = keys.replace(f"\x1e{kind}\x1f", f"\x1e{rank}\x1f")
    split = keys[1:].split("\x1e")
    if len(split) != n or set(map(_second_char, split)) != {"\x1f"}:
        return False, last  # an unknown kind, or a separator inside an id: the slow check decides
    return last < split[0] and all(map(operator.lt, split, islice(split, 1, None))), split[-1]


def _second_char(key: str) -> str:
    return key[1:2]


class BinaryRows:
    """Rows of a binary COPY stream, as lists of raw field values (None for NULL)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._started = False
        self.done = False

    def feed(self, data: bytes | memoryview) -> list[list[bytes | None]]:
        buf = self._buf
        buf += data
        out: list[list[bytes | None]] = []
        pos, size = 0, len(buf)
        if not self._started:
            if size < 19:
                return out
            if bytes(buf[:11]) != COPY_HEADER[:11]:
                raise Fail("the read-back COPY sent no binary header")
            pos = 19 + int.from_bytes(buf[15:19], "big")
            self._started = True
        while size - pos >= 2:
            fields_n = int.from_bytes(buf[pos:pos + 2], "big", signed=True)
            if fields_n == -1:
                self.done = True
                pos += 2
                break
            p = pos + 2
            fields: list[bytes | None] = []
            for _ in range(fields_n):
                if size - p < 4:
                    break
                length = int.from_bytes(buf[p:p + 4], "big", signed=True)
                p += 4
                if length < 0:
                    fields.append(None)
                    continue
                if size - p < length:
                    break
                fields.append(bytes(buf[p:p + length]))
                p += length
            else:
                out.append(fields)
                pos = p
                continue
            break  # an incomplete row: wait for more data
        del buf[:pos]
        return out

