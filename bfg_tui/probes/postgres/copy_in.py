"""Binary COPY of a snapshot's records as the migration role: into a new keyless partition
(its key, RLS and the attach come after the load), through the parent, or through a
staging table that fills only the gap an interrupted replay left. Tenants and users
records are projected into their own tables afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import struct
import time
from collections.abc import Awaitable, Callable, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from ...runbook import MIGRATOR_ROLE, SCHEMA
from ..base import Log, SnapshotSource
from .session import Fail, PgSession, q

COPY_COLUMNS = ("tenant_id", "snapshot_id", "batch_group", "kind", "seq", "record_id", "body")
COPY_PIECE = 5_000  # records encoded at a time (~1.4 MB), so the COPY starts and streams early
COPY_FIRST_PIECE = 1_000
COPY_QUEUE = 8  # encoded pieces waiting for the COPY
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = b"\xff\xff"
_I32 = struct.Struct("!i")
_COPY_LINE = "COPY wrote {rows} rows in {secs:.2f} s ({rate:,.0f} rows/s)"
# The policy of every tenant table (assets/runbook.sql), for the snapshot partitions a replay makes.
TENANT_POLICY = ("as permissive for all to public"
                 " using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))"
                 " with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))")
_PARTITIONED_SNAPSHOT = re.compile(r"^snap-[0-9a-f]{24}$")
_PROJECTED = frozenset({"tenants", "users"})  # record kinds that also land in their own tables


def partition_name(snapshot_id: str) -> str | None:
    """The scenario_records partition a replay makes for this (content-addressed) snapshot id;
    None for any other id (its records go to the default partition)."""
    return "scenario_records_" + snapshot_id.replace("-", "_") if _PARTITIONED_SNAPSHOT.match(snapshot_id) else None


_KEY_BYTES = 128  # sort memory a key takes, with headroom (PostgreSQL 15: about 95 bytes)
_KEY_SORT_MB = (256, 2048)


def key_sort_memory_mb(rows: int) -> int:
    """maintenance_work_mem for building a snapshot partition's key: room to sort every key
    in memory, at least the floor (which fits 1M keys) and at most the cap."""
    low, high = _KEY_SORT_MB
    return min(high, max(low, -(-rows * _KEY_BYTES // (1 << 20))))


async def copy_new_partition(s: PgSession, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                              groups: dict[str, str], part: str) -> int:
    """COPY into a new table without an index, then build its key, give it forced RLS and
    attach it as the snapshot's partition: maintaining a key row by row in a large shared
    index costs the server more than the load itself. All inside the replay transaction,
    so nobody sees the table before it is a complete, keyed, RLS-protected partition."""
    from psycopg import sql

    table = sql.Identifier(SCHEMA, part)
    parent = sql.Identifier(SCHEMA, "scenario_records")

    async def create() -> None:  # while the first batch is read and encoded
        s.phase = f"creating the partition {SCHEMA}.{part}"
        await conn.execute(sql.SQL("create table {} (like {} including defaults including constraints)")
                           .format(table, parent))
        # Implies the partition bound, so attaching need not scan the new table.
        await conn.execute(sql.SQL("alter table {} add constraint {} check (snapshot_id = {})").format(
            table, sql.Identifier(f"{part}_snapshot_check"), sql.Literal(snap)))
        # Constant for the whole load: filled in by the server, not sent with every row.
        await conn.execute(sql.SQL("alter table {} alter column tenant_id set default {},"
                                   " alter column snapshot_id set default {}").format(
            table, sql.Literal(tenant), sql.Literal(snap)))

    t0 = time.perf_counter()
    # FREEZE: the table is new in this (sub)transaction, so its rows can be written frozen and
    # its pages all-visible: the attach's foreign-key check then reads the key alone, and
    # neither the read-back nor a vacuum rewrites the pages to set hint bits or freeze them.
    rows, projected = await stream_copy(s, conn, source, tenant, snap, groups, f"{SCHEMA}.{part}",
                                              prepare=create, defaults=True, freeze=True)
    await conn.execute(sql.SQL("alter table {} alter column tenant_id drop default,"
                               " alter column snapshot_id drop default").format(table))
    copy_s = time.perf_counter() - t0
    s.phase = f"building the key of {SCHEMA}.{part}"
    # One backend sorts in memory: on a small server, parallel workers cost more than they
    # save (benchmarks/pg_bench.py), and a sort that spills to temp files writes and reads
    # every key again.
    await conn.execute("set local max_parallel_maintenance_workers = 0")
    await conn.execute(f"set local maintenance_work_mem = '{key_sort_memory_mb(rows)}MB'")
    await conn.execute(sql.SQL("alter table {} add constraint {} primary key (tenant_id, snapshot_id, seq)")
                       .format(table, sql.Identifier(f"{part}_pkey")))
    key_s = time.perf_counter() - t0 - copy_s
    s.phase = f"attaching {SCHEMA}.{part}"
    for statement in ("alter table {} enable row level security", "alter table {} force row level security",
                      "create policy bfg_tenant_isolation on {} " + TENANT_POLICY):
        await conn.execute(sql.SQL(statement).format(table))
    await conn.execute(sql.SQL("alter table {} attach partition {} for values in ({})").format(
        parent, table, sql.Literal(snap)))
    secs = time.perf_counter() - t0
    log_copy(s, log, rows, secs, f"into the new partition {SCHEMA}.{part} (binary, frozen, pipelined; COPY "
                                    f"{copy_s:.2f} s, key {key_s:.2f} s, RLS + attach "
                                    f"{secs - copy_s - key_s:.2f} s; one transaction)")
    await project(s, conn, log, tenant, projected)
    return rows


async def copy(s: PgSession, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                groups: dict[str, str], table: str) -> int:
    """Binary COPY of every snapshot record into an existing table; returns rows written."""
    t0 = time.perf_counter()
    rows, projected = await stream_copy(s, conn, source, tenant, snap, groups, table)
    log_copy(s, log, rows, time.perf_counter() - t0, f"into {table} (binary, pipelined, one transaction)")
    await project(s, conn, log, tenant, projected)
    return rows


def log_copy(s: PgSession, log: Log, rows: int, secs: float, where: str) -> None:
    s.timings["copy_s"] = secs
    s.timings["copy_rows"] = rows
    log(_COPY_LINE.format(rows=rows, secs=secs, rate=rows / secs if secs else 0.0) + f" as {MIGRATOR_ROLE} {where}")


async def stream_copy(s: PgSession, conn: Any, source: SnapshotSource, tenant: str, snap: str,
                       groups: dict[str, str], table: str,
                       prepare: Callable[[], Awaitable[None]] | None = None, defaults: bool = False,
                       freeze: bool = False) -> tuple[int, list[tuple[str, str, bytes]]]:
    """Binary COPY of every snapshot record, streamed batch by batch: (rows, tenants/users records).

    Pipelined, so the server never waits for the client: a producer task reads the
    next batch from the store and encodes it, COPY_PIECE records at a time, in a worker
    thread while the COPY sends what is ready (at most COPY_QUEUE pieces wait in
    memory). `prepare` (e.g. creating the table) runs while the first batch is read.
    With `defaults` the table's column defaults fill tenant_id and snapshot_id; `freeze`
    writes the rows frozen (the table must be new in the current subtransaction).
    """
    projected: list[tuple[str, str, bytes]] = []
    encode = copy_encoder(tenant, snap, groups, projected, defaults=defaults)
    columns = ", ".join(c for c in COPY_COLUMNS if not (defaults and c in ("tenant_id", "snapshot_id")))
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=COPY_QUEUE)

    async def produce() -> int:
        seq = 0
        try:
            async with contextlib.aclosing(source.runs()) as runs:
                async for kind, batch in runs:
                    start = 0
                    while start < len(batch):  # a small first piece gets the COPY going sooner
                        piece = batch[start:start + (COPY_PIECE if seq else COPY_FIRST_PIECE)]
                        chunk = await asyncio.to_thread(encode, kind, piece, seq)
                        start += len(piece)
                        seq += len(piece)
                        await queue.put(chunk)
        except asyncio.CancelledError:
            raise  # the COPY side is gone: nobody reads the queue any more
        except BaseException:
            await queue.put(None)  # wake the COPY side; it re-raises this from the task
            raise
        await queue.put(None)
        return seq

    producer = asyncio.create_task(produce())
    try:
        if prepare is not None:
            await prepare()
        s.phase = f"COPY into {table}"
        options = "format binary, freeze" if freeze else "format binary"
        async with conn.cursor().copy(f"copy {table} ({columns}) from stdin ({options})") as copy:
            await copy.write(COPY_HEADER)
            while (chunk := await queue.get()) is not None:
                await copy.write(chunk)
            seq = await producer  # the producer's error, if any, aborts the COPY here
            await copy.write(_COPY_TRAILER)
    finally:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(BaseException):  # its outcome no longer matters
                await producer
    if seq != source.rows:
        raise Fail(f"the snapshot streamed {seq} records, expected {source.rows}")
    return seq, projected


async def copy_via_staging(s: PgSession, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                            groups: dict[str, str]) -> int:
    s.phase = "COPY into a staging table"
    await conn.execute(f"create temp table bfg_replay_staging (like {q('scenario_records')}) on commit drop")
    await copy(s, conn, log, source, tenant, snap, groups, "bfg_replay_staging")
    cur = await conn.execute(
        f"insert into {q('scenario_records')} (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
        " select tenant_id, snapshot_id, seq, batch_group, kind, record_id, body from bfg_replay_staging"
        " on conflict do nothing")
    added: int = cur.rowcount
    log(f"staging merge: {added} missing records added (insert ... on conflict do nothing)")
    return added


async def project(s: PgSession, conn: Any, log: Log, tenant: str, projected: list[tuple[str, str, bytes]]) -> None:
    """Tenants and users records also land in their own tables (catalog kind_tables)."""
    users = []
    for kind, rid, raw in projected:
        data = json.loads(raw)["data"]
        if kind == "tenants" and rid == tenant:
            await conn.execute(f"update {q('tenants')} set name = %s where tenant_id = %s",
                               (str(data.get("name") or tenant), tenant))
        elif kind == "users":
            users.append((tenant, rid, str(data.get("role") or ""), str(data.get("name") or rid), data.get("desk")))
    if users:
        async with conn.cursor() as cur:
            await cur.executemany(
                f"insert into {q('users')} (tenant_id, user_id, role_key, display_name, desk)"
                " values (%s, %s, %s, %s, %s) on conflict (tenant_id, user_id) do update set"
                " role_key = excluded.role_key, display_name = excluded.display_name, desk = excluded.desk", users)
    log(f"projected {len(users)} users and the tenant row into {SCHEMA}.users / {SCHEMA}.tenants")


def _field(value: bytes) -> bytes:
    return _I32.pack(len(value)) + value


def copy_encoder(tenant: str, snap: str, groups: dict[str, str], projected: list[tuple[str, str, bytes]],
                  *, defaults: bool = False) -> Callable[[str, Sequence[tuple[Any, ...]], int], bytes]:
    """encode(kind, rows, first_seq): rows of one kind, each (id as UTF-8, body, …), as binary
    COPY tuples of COPY_COLUMNS (without tenant_id and snapshot_id when `defaults`: the table
    fills them).

    The columns are sent in the order that keeps what is constant together: per kind, the
    field count, tenant, snapshot id, batch group, kind and the seq field's length are one
    prepared piece; per record the seq with the id's length are packed at once, then the id,
    the body's length and the body. The tuples are assembled by C code (map, zip, chain,
    join) rather than a Python loop per record. Tenants and users records are also collected
    into `projected` (they land in their own tables afterwards).
    """
    head = struct.pack("!h", 5) if defaults else struct.pack("!h", 7) + _field(tenant.encode()) + _field(snap.encode())
    heads: dict[str, bytes] = {}
    pack = _I32.pack

    def encode(kind: str, rows: Sequence[tuple[Any, ...]], seq: int) -> bytes:
        prefix = heads.get(kind)
        if prefix is None:
            if kind not in groups:
                raise Fail(f"record kind {kind} belongs to no batch group")
            prefix = heads[kind] = head + _field(groups[kind].encode()) + _field(kind.encode()) + pack(4)
        rids = list(map(_first, rows))
        bodies = list(map(_second, rows))
        if kind in _PROJECTED:
            projected.extend((kind, bytes(r).decode(), bytes(b)) for r, b in zip(rids, bodies, strict=True))
        return b"".join(chain.from_iterable(zip(
            repeat(prefix), map(_SEQ_AND_LENGTH, range(seq, seq + len(rows)), map(len, rids)), rids,
            map(pack, map(len, bodies)), bodies)))

    return encode


_first, _second = itemgetter(0), itemgetter(1)
_SEQ_AND_LENGTH = struct.Struct("!ii").pack  # a record's seq, then the length of its id (the next field)
