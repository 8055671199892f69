"""The audited store core: one write path, one set of writes and reads, for every backend.

Every change is one transaction: lock the audit head, check the idempotency key, check
that the stored state is the trail's, apply, append the hash-chained event, move the
head, seal the state's digest into the head, and let listeners know. `AuditedStore`
owns all of that, every write method, state assembly from rows and the trail checks.

A backend (store/sqlite.py, store/postgres.py) supplies only what differs:
transactions (`_write_tx`, `_read_tx`, yielding a `Tx`), its SQL strings (`Sql`), the
time of a write, bulk inserts of scenario rows, where an event row and its signature
go, change detection (`data_version`) and its migrations.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from bfg_tui.bookkeeping import replaces_evidence
from bfg_tui.canonical import SnapshotHasher
from bfg_tui.errors import AlreadyDone, Reason, StoreError
from bfg_tui.models import SnapshotInfo, State

from . import replay
from .audit_chain import (
    GENESIS,
    accept_data,
    create_data,
    event_body,
    event_hash,
    event_signature,
    export_data,
    freeze_data,
    idem_binding,
    probe_data,
    probe_facts_json,
    probe_transcript_json,
    refusal_data,
    revoke_data,
    save_data,
    state_fault,
    upgrade_data,
    verify_chain,
)
from .base import (
    CHANGE_KINDS,
    CONTRACT,
    ActorContext,
    AuditEvent,
    ProbeRunRecord,
    ScenarioPayload,
    ScenarioStore,
    StepRecord,
    VerifyResult,
    WriteRefused,
    like_substring,
)
from .state_plan import Tables, run_async, state_plan

STREAM_BATCH = 50000  # rows per fetch when a whole trail or scenario is hashed
READ_BATCH = 20000  # rows per batch handed to a caller that reads a scenario

Row = tuple[Any, ...]


# (kind, rows): rows of one kind, each (id as UTF-8, canonical body as UTF-8[, more columns]).
Run = tuple[str, list[tuple[bytes, bytes, Any]] | list[tuple[bytes, bytes]]]


class Tx(Protocol):
    """One backend transaction (or, for some reads, the bare connection)."""

    async def one(self, sql: str, params: Any = ()) -> Row | None: ...
    async def all(self, sql: str, params: Any = ()) -> list[Row]: ...
    async def run(self, sql: str, params: Any = ()) -> int: ...  # the rows it changed
    async def many(self, sql: str, rows: Iterable[Any]) -> None: ...
    def stream(self, sql: str, params: Any = (), size: int = STREAM_BATCH) -> AsyncIterator[list[Row]]: ...


Apply = Callable[[Tx, int, str], Awaitable[None]]  # (tx, seq, at)


class StoreInit(NamedTuple):
    """What a brand-new store is seeded with (the seed is built only when needed)."""

    target_adapter: str
    fallback_adapter: str
    seed: Callable[[], ScenarioPayload]
    system: ActorContext


class Sql(NamedTuple):
    """A backend's statements. Parameters come in the order each comment gives."""

    head: str  # -> count, head
    lock_head: str  # -> count, head; locks the head row for the write
    head_sealed: str  # -> count, head, state_digest
    move_head: str  # (count, head)
    seal: str  # (state_digest,)
    meta: str  # (key,) -> value
    insert_meta: str  # (key, value)
    set_meta: str  # (key, value): insert or replace
    idem_get: str  # (key,) -> event_seq, binding
    idem_put: str  # (key, event_seq, binding)
    max_version: str  # -> latest scenario version
    insert_scenario: str  # (version, saved_at, actor, source, records, kind_counts)
    prune_records: str  # (kept version,): drop records no longer needed
    latest_scenario: str  # -> version, saved_at, records, kind_counts
    record_bodies: str  # (version,) -> body, in canonical order
    next_snapshot_id: str  # -> id
    insert_snapshot: str  # (id, scenario_version, rows, digest, kind_counts, frozen_at, actor, event_seq)
    put_acceptance: str  # (check_id, actor, note, value, snapshot_digest, countersign, at, event_seq, key)
    delete_acceptance: str  # (check_id,)
    insert_probe_run: str  # (run_id, probe, target_kind, endpoint, passed, started_at, finished_at,
    #                         snapshot_digest, facts, steps, transcript, event_seq)
    passing_at: str  # (endpoint,) -> how many passing results name it
    put_probe_result: str  # (check_id, passed, target_kind, endpoint, detail, run_id, snapshot_digest,
    #                         tls, credentials_external, at, event_seq, fingerprint)
    next_export_id: str  # -> id
    insert_export: str  # (id, packet, format, destination, digest, at, actor, event_seq)
    page: str  # (limit, offset) -> seq, hash, body, signature; newest first
    page_like: str  # (like, like, like, limit, offset): kind, actor or subject match
    count_like: str  # (like, like, like) -> count
    history: str  # (subject, limit) -> seq, hash, body, signature; newest first
    trail: str  # -> body, hash[, columns differ], in seq order
    neighbours: str  # (first seq, last seq) -> seq, hash, body
    replay_events: str  # (replay params) -> body: the events a replay needs, in seq order
    signed: str  # -> seq, body, signature, in seq order
    roster: str  # -> seq, kind, body of the roster's events
    probe_run: str  # (run_id,) -> run_id, probe, target_kind, endpoint, started_at, finished_at,
    #                  steps, transcript, snapshot_digest, facts
    latest_runs: str  # (limit,) -> run_id, probe, endpoint, passed, finished_at
    snapshot_version: str  # (snapshot id,) -> scenario_version


class AuditedStore(ScenarioStore):
    """ScenarioStore.v1 over any backend that supplies transactions and SQL (see the module doc)."""

    contract = CONTRACT
    sql: Sql
    tables: Tables
    replay_params: tuple[Any, ...] = ()
    path: Path | str
    read_only: bool = False
    schema = ""
    login = ""
    login_actor: str | None = None

    # ------------------------------------------------------- backend hooks

    def _write_tx(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        """One write transaction, serialised against every other writer of this store."""
        raise NotImplementedError

    def _read_tx(self, *, snapshot: bool = False) -> contextlib.AbstractAsyncContextManager[Tx]:
        """A read; with `snapshot`, one consistent picture across several queries."""
        raise NotImplementedError

    async def _now(self, tx: Tx) -> str:
        """The time of the write in progress, in the chain's format."""
        raise NotImplementedError

    async def _insert_records(self, tx: Tx, version: int, rows: Any) -> tuple[int, dict[str, int]]:
        """Store a scenario version's rows; returns (count, rows per kind)."""
        raise NotImplementedError

    async def _insert_event(self, tx: Tx, seq: int, digest: str, body: bytes, kind: str, actor: str,
                            subject: str, signature: str | None) -> None:
        raise NotImplementedError

    async def _insert_head(self, tx: Tx) -> None:
        raise NotImplementedError

    def _no_head(self) -> StoreError:
        return StoreError(Reason.of("store.no_head", path=self.path))

    async def _column_fault(self, tx: Tx, count: int, head: str, differ: list[bool]) -> VerifyResult | None:
        """Whether the events' searchable columns still stand for their bodies (None: they do)."""
        raise NotImplementedError

    def _records(self, version: int, size: int) -> AsyncIterator[list[Row]]:
        """(kind, id, body) batches of a scenario version, in canonical order."""
        raise NotImplementedError

    async def _after_write(self, tx: Tx) -> None:
        """Inside the write's transaction, after the seal (PostgreSQL notifies listeners)."""

    async def data_version(self) -> int:
        """A number that moves whenever anyone commits to the store (the console's live refresh)."""
        raise NotImplementedError

    def server_key(self) -> tuple[str, str, str] | None:
        """(host, port, database) of a server-backed store, for telling a probe target apart."""
        return None

    async def store_id(self) -> str:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------- the write path

    async def _write(
        self, kind: str, ctx: ActorContext, data: dict[str, Any], *,
        apply: Apply | None = None, idem: str | None = None, idem_args: dict[str, Any] | None = None,
    ) -> int:
        """One atomic change: lock the head, idempotency check, state check, apply, audit, seal, notify."""
        if self.read_only:
            raise StoreError(Reason.of("store.read_only", path=self.path))
        sql = self.sql
        async with self._write_tx() as tx:
            # The head row lock serialises every writer of this store, in every process.
            count, prev = await self._lock_head(tx)
            binding = idem_binding(kind, ctx.actor_id, idem_args or {}) if idem else None
            if idem:
                done = await tx.one(sql.idem_get, (idem,))
                if done:
                    if done[1] == binding:
                        raise AlreadyDone(idem, int(done[0]))
                    raise WriteRefused("idempotency.key_reused", action=kind, subject=str(data.get("check", "")),
                                       key=idem, seq=int(done[0]))
            # Never build on a state that is not the trail's: that would bless a forgery.
            await self._read_state(tx)
            at = await self._now(tx)
            if apply is not None:
                await apply(tx, count + 1, at)
            seq = await self._append(tx, count, prev, kind, ctx, data, at, change=kind in CHANGE_KINDS)
            if idem:
                await tx.run(sql.idem_put, (idem, seq, binding))
            await self._seal(tx)
            await self._after_write(tx)
        return seq

    async def _lock_head(self, tx: Tx) -> tuple[int, str]:
        row = await tx.one(self.sql.lock_head)
        if row is None:
            raise self._no_head()
        return int(row[0]), str(row[1])

    async def _append(self, tx: Tx, count: int, prev: str, kind: str, ctx: ActorContext, data: dict[str, Any],
                      at: str, *, change: bool) -> int:
        seq = count + 1
        body = event_body(seq=seq, prev=prev, at=at, kind=kind, ctx=ctx, data=data)
        digest = event_hash(body)
        # Signed once seq and prev are fixed: a signature names its place in the chain.
        signature = await event_signature(ctx, body)
        await self._insert_event(tx, seq, digest, body.encode("utf-8"), kind, ctx.actor_id,
                                 replay.subject_of(kind, data), signature)
        await tx.run(self.sql.move_head, (seq, digest))
        if change:
            await self._set_meta(tx, "last_change_seq", str(seq))
        return seq

    async def _seal(self, tx: Tx) -> None:
        """Record in the head the digest of the state as now stored (same transaction as the event)."""
        state = await self._read_state(tx, check=False)
        await tx.run(self.sql.seal, (replay.state_digest(state),))

    async def _read_state(self, tx: Tx, *, check: bool = True) -> State:
        state: State = await run_async(state_plan(check, self.tables), tx)
        return state

    async def _get_meta(self, tx: Tx, key: str) -> str:
        row = await tx.one(self.sql.meta, (key,))
        return str(row[0]) if row else ""

    async def _set_meta(self, tx: Tx, key: str, value: str) -> None:
        await tx.run(self.sql.set_meta, (key, value))

    async def _stored_tables(self, tx: Tx) -> replay.Tables:
        prefix = self.tables.prefix
        rows = {table: await tx.all(f"select {columns} from {prefix}{table}")
                for table, columns in replay.STORED_COLUMNS.items()}
        return replay.tables_from_rows(rows)

    # ------------------------------------------------------- seeding, upgrading

    async def _seed(self, tx: Tx, init: StoreInit) -> None:
        """A new store: its meta, head and seed scenario, and the genesis event."""
        sql = self.sql
        at = await self._now(tx)
        meta = {
            "contract": CONTRACT,
            "target_adapter": init.target_adapter,
            "fallback_adapter": init.fallback_adapter,
            "last_change_seq": "0",
            "last_release_export_seq": "0",
            "connection_endpoint": "",
            "created_at": at,
        }
        await tx.many(sql.insert_meta, list(meta.items()))
        await self._insert_head(tx)
        seed = init.seed()
        count, kinds = await self._insert_records(tx, 0, seed.rows)
        await tx.run(sql.insert_scenario, (0, None, None, seed.source, count, json.dumps(kinds, sort_keys=True)))
        data = create_data(CONTRACT, count, seed.source, kinds, init.target_adapter, init.fallback_adapter)
        await self._append(tx, 0, GENESIS, "store.create", init.system, data, at, change=False)
        await self._seal(tx)
        await self._after_write(tx)

    async def _attest(self, tx: Tx, actor: ActorContext, from_version: int) -> None:
        """A store written before the trail could rebuild the state: the upgrade attests its tables."""
        count, prev = await self._lock_head(tx)
        tables = await self._stored_tables(tx)
        at = await self._now(tx)
        await self._append(tx, count, prev, "store.upgrade", actor, upgrade_data(from_version, tables), at,
                           change=False)
        await self._seal(tx)
        await self._after_write(tx)

    # ------------------------------------------------------------------ writes

    async def save_scenario(self, payload: ScenarioPayload, ctx: ActorContext, idem: str | None = None) -> int:
        sql = self.sql
        result: dict[str, Any] = {}

        async def apply(tx: Tx, seq: int, at: str) -> None:
            version = int((await required_row(tx, sql.max_version))[0]) + 1
            count, kinds = await self._insert_records(tx, version, payload.rows)
            await tx.run(sql.insert_scenario,
                         (version, at, ctx.actor_id, payload.source, count, json.dumps(kinds, sort_keys=True)))
            # Keep only the new version and the one the latest snapshot reads from.
            await tx.run(sql.prune_records, (version,))
            result.update(save_data(version, count, payload.source, kinds))

        return await self._write("scenario.save", ctx, result, apply=apply, idem=idem,
                                 idem_args={"source": payload.origin or payload.source})

    async def freeze_snapshot(self, ctx: ActorContext, session: str, tenant: str) -> SnapshotInfo:
        sql = self.sql
        data: dict[str, Any] = {}
        frozen: list[SnapshotInfo] = []

        async def apply(tx: Tx, seq: int, at: str) -> None:
            version, saved_at, records, kinds = await required_row(tx, sql.latest_scenario)
            if saved_at is None:
                raise WriteRefused("snapshot.no_scenario", action="snapshot.freeze")
            if records == 0:
                raise WriteRefused("snapshot.empty", action="snapshot.freeze")
            hasher = SnapshotHasher(session=session, tenant=tenant)
            # The stored canonical bytes, in canonical order: never a re-encoding.
            async for batch in tx.stream(sql.record_bodies, (version,)):
                hasher.add_many(map(_first, batch))
            digest = hasher.hexdigest()
            sid = int((await required_row(tx, sql.next_snapshot_id))[0])
            await tx.run(sql.insert_snapshot, (sid, version, hasher.rows, digest, kinds, at, ctx.actor_id, seq))
            frozen.append(SnapshotInfo(sid, hasher.rows, digest, at, json.loads(kinds)))
            data.update(freeze_data(sid, hasher.rows, digest, version, json.loads(kinds)))

        await self._write("snapshot.freeze", ctx, data, apply=apply)
        return frozen[0]

    async def accept(
        self, check_id: str, ctx: ActorContext, *, note: str, value: str | None,
        snapshot_digest: str | None, countersign: bool, idem: str | None = None,
    ) -> int:
        data = accept_data(check_id, note, value, snapshot_digest, countersign)

        async def apply(tx: Tx, seq: int, at: str) -> None:
            await tx.run(self.sql.put_acceptance, (check_id, ctx.actor_id, note, value, snapshot_digest,
                                                   bool(countersign), at, seq, ctx.key or None))

        return await self._write("check.accept", ctx, data, apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note, "value": value})

    async def revoke(self, check_id: str, ctx: ActorContext, *, note: str, idem: str | None = None) -> int:
        async def apply(tx: Tx, seq: int, at: str) -> None:
            if await tx.run(self.sql.delete_acceptance, (check_id,)) == 0:
                raise WriteRefused("check.not_accepted", action="check.revoke", subject=check_id, check=check_id)

        return await self._write("check.revoke", ctx, revoke_data(check_id, note), apply=apply, idem=idem,
                                 idem_args={"check": check_id, "note": note})

    async def record_probe(self, run: ProbeRunRecord, ctx: ActorContext, *, selects_target: bool) -> int:
        """Store a probe run; its steps become the evidence unless they would push out a selected
        target's passing evidence, and with `selects_target` its endpoint becomes the selected one."""
        sql = self.sql
        fingerprint = (run.facts or {}).get("fingerprint")

        async def apply(tx: Tx, seq: int, at: str) -> None:
            await tx.run(sql.insert_probe_run, (
                run.run_id, run.probe, run.target_kind, run.endpoint, run.passed, run.started_at,
                run.finished_at, run.snapshot_digest, probe_facts_json(run),
                json.dumps([s._asdict() for s in run.steps]), probe_transcript_json(run), seq))
            selected = await self._get_meta(tx, "connection_endpoint") or None
            holds = bool((await required_row(tx, sql.passing_at, (selected or "",)))[0])
            if not replaces_evidence(selected, holds, run.endpoint, run.passed):
                return
            await tx.many(sql.put_probe_result, [
                (s.check_id, s.passed, run.target_kind, run.endpoint, s.detail, run.run_id, run.snapshot_digest,
                 run.tls, run.credentials_external, run.finished_at, seq, fingerprint)
                for s in run.steps])
            if selects_target:
                await self._set_meta(tx, "connection_endpoint", run.endpoint)

        return await self._write("probe.run", ctx, probe_data(run), apply=apply)

    async def record_export(self, packet: str, fmt: str, destination: str, digest: str, ctx: ActorContext, *,
                            release: bool) -> int:
        """Store an export; a `release` export is what the release packet's freshness is measured by."""
        sql = self.sql

        async def apply(tx: Tx, seq: int, at: str) -> None:
            eid = int((await required_row(tx, sql.next_export_id))[0])
            await tx.run(sql.insert_export, (eid, packet, fmt, destination, digest, at, ctx.actor_id, seq))
            if release:
                await self._set_meta(tx, "last_release_export_seq", str(seq))

        return await self._write("packet.export", ctx, export_data(packet, fmt, destination, digest), apply=apply)

    async def record_refusal(self, action: str, subject: str, reason: str, ctx: ActorContext) -> int:
        return await self._write("action.refused", ctx, refusal_data(action, subject, reason))

    async def record_event(self, kind: str, data: dict[str, Any], ctx: ActorContext) -> int:
        return await self._write(kind, ctx, data)

    # ------------------------------------------------------------------ reads

    async def load_state(self) -> State:
        async with self._read_tx(snapshot=True) as tx:
            return await self._read_state(tx)

    async def audit_head(self) -> tuple[int, str]:
        async with self._read_tx() as tx:
            row = await required_row(tx, self.sql.head)
        return int(row[0]), str(row[1])

    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[AuditEvent]:
        """Newest first; `text` filters on kind, actor or subject (substring)."""
        async with self._read_tx() as tx:
            if text:
                like = like_substring(text)
                rows = await tx.all(self.sql.page_like, (like, like, like, limit, offset))
            else:
                rows = await tx.all(self.sql.page, (limit, offset))
        return [_event(r) for r in rows]

    async def audit_count(self, text: str = "") -> int:
        if not text:
            return (await self.audit_head())[0]
        like = like_substring(text)
        async with self._read_tx() as tx:
            row = await required_row(tx, self.sql.count_like, (like, like, like))
        return int(row[0])

    async def check_history(self, check_id: str, limit: int = 50) -> list[AuditEvent]:
        async with self._read_tx() as tx:
            rows = await tx.all(self.sql.history, (check_id, limit))
        return [_event(r) for r in rows]

    async def roster_events(self) -> list[tuple[int, str, dict[str, Any]]]:
        async with self._read_tx() as tx:
            rows = await tx.all(self.sql.roster)
        return [(seq, kind, json.loads(bytes(body))["data"]) for seq, kind, body in rows]

    async def signed_rows(self) -> AsyncIterator[list[tuple[int, bytes, str | None]]]:
        """(seq, body, signature) batches in seq order, for checking the signatures."""
        async with self._read_tx() as tx:
            async for batch in tx.stream(self.sql.signed):
                yield [(seq, bytes(body), signature) for seq, body, signature in batch]

    async def probe_run(self, run_id: str) -> ProbeRunRecord | None:
        async with self._read_tx() as tx:
            row = await tx.one(self.sql.probe_run, (run_id,))
        if row is None:
            return None
        facts = json.loads(row[9])
        return ProbeRunRecord(
            row[0], row[1], row[2], row[3], row[4], row[5],
            tuple(StepRecord(**s) for s in json.loads(row[6])), tuple(json.loads(row[7])),
            row[8], bool(facts.get("tls")), bool(facts.get("credentials_external")), facts,
        )

    async def latest_probe_runs(self, limit: int = 20) -> list[tuple[str, str, str, bool, str]]:
        async with self._read_tx() as tx:
            rows = await tx.all(self.sql.latest_runs, (limit,))
        return [(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    async def _snapshot_version(self, snapshot_id: int) -> int:
        """The scenario version a snapshot froze."""
        async with self._read_tx() as tx:
            row = await tx.one(self.sql.snapshot_version, (snapshot_id,))
        if row is None:
            raise StoreError(Reason.of("store.no_snapshot", path=self.path, snapshot=snapshot_id))
        return int(row[0])

    async def snapshot_batches(self, snapshot_id: int, size: int = 20000) -> AsyncGenerator[list[Row], None]:
        """(kind, id, body) batches of the scenario version a snapshot froze."""
        async for batch in self._records(await self._snapshot_version(snapshot_id), size):
            yield batch

    async def snapshot_runs(self, snapshot_id: int, size: int = 5000) -> AsyncGenerator[Run, None]:
        """The records of the scenario version a snapshot froze, in canonical order, as runs:
        (kind, [(id as UTF-8, body, …), …]), every record of a batch of that one kind. What a
        bulk copy needs: the kind once per batch, the id as stored bytes, nothing decoded."""
        async for run in self._record_runs(await self._snapshot_version(snapshot_id), size):
            yield run

    async def _record_runs(self, version: int, size: int) -> AsyncIterator[Run]:
        """Runs from the (kind, id, body) batches; a store may read them more cheaply."""
        async for batch in self._records(version, size):
            for kind, rows in groupby(batch, key=_first):
                yield str(kind), [(str(rid).encode(), bytes(body)) for _kind, rid, body in rows]

    async def scenario_rows(self, version: int | None = None) -> AsyncIterator[list[Row]]:
        """(kind, id, body) batches of a scenario version (the latest by default)."""
        if version is None:
            async with self._read_tx() as tx:
                version = int((await required_row(tx, self.sql.max_version))[0])
        async for batch in self._records(version, READ_BATCH):
            yield batch

    # ------------------------------------------------------------------ verify

    async def audit_verify(self) -> VerifyResult:
        """The chain, then the searchable columns, then the state against the trail's replay."""
        sql = self.sql
        async with self._read_tx(snapshot=True) as tx:
            count, head, sealed = await required_row(tx, sql.head_sealed)
            bodies: list[bytes] = []
            hashes: list[Any] = []
            differ: list[bool] = []
            async for batch in tx.stream(sql.trail):
                bodies.extend(map(bytes, map(_first, batch)))
                hashes.extend(map(_second, batch))
                if batch and len(batch[0]) > 2:
                    differ.extend(map(_third, batch))
            stored: dict[int, tuple[str, bytes]] = {}
            # A hash column rewritten as another type by a hand edit counts as wrong.
            joined = "".join(h if isinstance(h, str) else "" for h in hashes).encode("ascii", "replace")
            result = verify_chain(bodies, count, head, stored.get, hashes=joined)
            if not result.ok and result.first_bad_seq:
                # Slow path, failures only: fetch the neighbours to name the fault precisely.
                rows = await tx.all(sql.neighbours, (result.first_bad_seq - 1, result.first_bad_seq))
                stored.update({seq: (digest, bytes(body)) for seq, digest, body in rows})
                result = verify_chain(bodies, count, head, stored.get, hashes=joined)
            elif (fault := await self._column_fault(tx, count, head, differ)) is not None:
                result = fault
            else:
                result = await self._state_fault(tx, count, head, sealed)
        return result

    async def _state_fault(self, tx: Tx, count: int, head: str, digest: str) -> VerifyResult:
        """Replay the trail and compare every state table with it, then the head's digest."""
        rows = await tx.all(self.sql.replay_events, self.replay_params)
        try:
            trail = replay.replay(bytes(r[0]) for r in rows)
        except replay.ReplayFault as fault:
            return VerifyResult(False, count, head, fault.reason, fault.seq)
        return state_fault(trail, await self._stored_tables(tx), count, head, digest)


_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


async def migrate(steps: Sequence[Any], version: int, target: int, run: Callable[[Any], Awaitable[Any]]) -> None:
    """Every schema step from `version` up to `target`, in order: `steps[n]` moves n to n + 1.

    The caller holds the backend's migration lock and transaction, re-reads the version
    under it, and records the new one; forward migrations only.
    """
    for step in range(version, target):
        await run(steps[step])


async def required_row(tx: Tx, sql: str, params: Any = ()) -> Row:
    """A row that must be there (the store seeds it)."""
    row = await tx.one(sql, params)
    if row is None:
        raise StoreError(Reason.of("store.row_missing"))
    return row


def _event(row: Row) -> AuditEvent:
    seq, digest, body, signature = row
    text = body if isinstance(body, str) else bytes(body).decode("utf-8")
    doc = json.loads(text)
    return AuditEvent(seq, doc["at"], doc["kind"], doc["actor"], doc["data"], doc["auth"], digest, doc["prev"],
                      signature, text)
