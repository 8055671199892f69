"""A SQLite file as the probe target: the local rehearsal of the cutover (SPEC §6).

The target file becomes a ScenarioStore.v1 store of its own; the dry-run replays the
frozen snapshot into it through that contract and freezes it there to read it back.
SQLite has no row-level security: tenant scoping is the adapter's, and the transcript
says so. Only a PostgreSQL target proves RLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..canonical import canonical_json
from ..errors import AlreadyDone, BfgError
from .base import ConnectionFacts, Log, ReplayOutcome, SnapshotSource, StepResult

if TYPE_CHECKING:
    from bfg_tui.store.base import ActorContext, ScenarioStore

    from ..models import Catalog, TargetKind

OTHER_TENANT = "probe-other-tenant"


def sqlite_path(target: str) -> Path:
    # One parser for targets everywhere: the same one that redacts them for display.
    from ..targets import sqlite_path as parse

    return Path(parse(target))


class SQLiteFileTarget:
    kind: TargetKind = "sqlite"

    def __init__(self, target: str, environment: str, catalog: Catalog, *,
                 open_store: Callable[[str], Awaitable[ScenarioStore]], system: ActorContext) -> None:
        """`open_store` opens (adopting) the target file as a store; `system` is the actor context
        the target's own events are written with."""
        self.path = sqlite_path(target)
        self.endpoint = f"sqlite://{self.path}"
        self.environment = environment
        self.catalog = catalog
        self._open_store = open_store
        self._system = system
        self._store: ScenarioStore | None = None

    # ---- short-lived sqlite3 connections, run off the event loop (asyncio.to_thread)

    def _connect(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise OSError(f"directory {self.path.parent} does not exist")
        if self.path.exists() and not self.path.is_file():  # /dev/null would "pass" and grow a -journal
            raise OSError(f"{self.path} is not a regular file")
        conn = sqlite3.connect(str(self.path), timeout=5, isolation_level=None)
        conn.execute("pragma busy_timeout = 5000")
        return conn

    # ---- connection wizard

    async def reach(self, log: Log) -> StepResult:
        def work() -> str:
            conn = self._connect()
            try:
                conn.execute("select count(*) from sqlite_master").fetchone()
                version: str = conn.execute("select sqlite_version()").fetchone()[0]
                return version
            finally:
                conn.close()

        try:
            version = await asyncio.to_thread(work)
        except (OSError, sqlite3.Error) as exc:
            return StepResult("connection.endpoint_reachability", False, f"cannot open {self.endpoint}: {exc}")
        log(f"opened {self.endpoint} (SQLite {version})")
        return StepResult("connection.endpoint_reachability", True, f"SQLite {version} file accepts connections")

    async def tls(self, log: Log, facts: ConnectionFacts) -> StepResult:
        facts.fingerprint = "not-applicable:file"
        facts.tls = False
        if self.environment != "local-demo":
            log("a local file has no TLS; only accepted for the local-demo rehearsal")
            return StepResult("connection.tls_fingerprint", False, "not-applicable:file outside local-demo")
        log("local file target: TLS not applicable (not-applicable:file), accepted for local-demo rehearsal")
        return StepResult("connection.tls_fingerprint", True, "not-applicable:file")

    async def rbac_session(self, log: Log, tenant_id: str, claims: dict[str, object]) -> StepResult:
        # Two tenants' rows in one rolled-back transaction; the adapter's scoped read
        # (tenant from the actor's claims) must return only its own tenant's row.
        def work() -> tuple[list[str], int]:
            conn = self._connect()
            try:
                conn.execute("begin immediate")
                conn.execute("create temp table bfg_probe_scope (tenant_id text not null, rid text not null)")
                conn.executemany("insert into bfg_probe_scope values (?, ?)",
                                 [(tenant_id, "own-1"), (OTHER_TENANT, "other-1")])
                seen = [r[0] for r in conn.execute(
                    "select tenant_id from bfg_probe_scope where tenant_id = ?", (claims["tenant_id"],))]
                total = conn.execute("select count(*) from bfg_probe_scope").fetchone()[0]
                conn.execute("rollback")
                return seen, total
            finally:
                conn.close()

        try:
            seen, total = await asyncio.to_thread(work)
        except (OSError, sqlite3.Error) as exc:
            return StepResult("connection.rbac_session", False, f"session failed: {exc}")
        ok = seen == [tenant_id] and total == 2
        log(f"session as {claims['sub']} (tenant {claims['tenant_id']}) saw {len(seen)} of {total} rows "
            "— adapter scoping, SQLite has no RLS")
        detail = f"claims of {claims['sub']} see only tenant {tenant_id} (adapter scoping; no RLS on SQLite)"
        return StepResult("connection.rbac_session", ok, detail if ok else f"tenant leak: saw {seen}")

    async def write_probe(self, log: Log) -> StepResult:
        def work() -> tuple[bool, bool]:
            conn = self._connect()
            try:
                conn.execute("begin immediate")
                conn.execute("create table if not exists bfg_write_probe (probe_id text primary key, note text)")
                conn.execute("insert into bfg_write_probe values ('probe-1', 'no-secret write probe')")
                read = conn.execute("select note from bfg_write_probe where probe_id = 'probe-1'").fetchone()
                conn.execute("rollback")
                exists = conn.execute(
                    "select count(*) from sqlite_master where name = 'bfg_write_probe'").fetchone()[0]
                return read == ("no-secret write probe",), exists == 0
            finally:
                conn.close()

        try:
            read_ok, rolled_back = await asyncio.to_thread(work)
        except (OSError, sqlite3.Error) as exc:
            return StepResult("connection.write_probe", False, f"write probe failed: {exc}")
        log(f"write probe: written and read back={read_ok}, rolled back={rolled_back}")
        ok = read_ok and rolled_back
        return StepResult("connection.write_probe", ok, "row written, read back and rolled back" if ok
                          else "write probe did not round-trip")

    # ---- dry-run

    async def _target_store(self) -> ScenarioStore:
        if self._store is None:
            self._store = await self._open_store(str(self.path))
        return self._store

    async def schema_map(self, log: Log, kind_tables: dict[str, str], kinds: list[str]) -> StepResult:
        try:
            store = await self._target_store()
        except BfgError as exc:
            return StepResult("dryrun.schema_map", False, f"target is not a ScenarioStore.v1 file: {exc.reason}")
        unknown = [k for k in kinds if k not in kind_tables]
        if unknown:
            return StepResult("dryrun.schema_map", False, f"record kind {unknown[0]} maps to no target table")
        log(f"target answers {store.contract}; {len(kinds)} record kinds map to scenario_records (kind-keyed)")
        return StepResult("dryrun.schema_map", True, f"{len(kinds)} kinds map to {store.contract} scenario_records")

    async def replay_claims(self, log: Log, tenant_id: str, claims: list[dict[str, object]]) -> StepResult:
        store = await self._target_store()
        written = canonical_json(claims)
        await store.record_event("claims.replay", {"tenant": tenant_id, "claims": claims}, self._system)
        back = (await store.audit_page(limit=1, text="claims.replay"))[0]
        ok = canonical_json(back.data["claims"]) == written
        log(f"replayed {len(claims)} actor claim sets; read back equal={ok}")
        return StepResult("dryrun.rbac_claims_probe", ok, f"{len(claims)} actors replay as claims with permissions"
                          if ok else "claims read back differ")

    async def replay(self, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
        from bfg_tui.store.base import ScenarioPayload

        store = await self._target_store()
        # Streamed batch by batch: a 1M-record snapshot never sits in memory whole.
        # A repeated dry-run of the same snapshot into the same target finds its key: nothing to add.
        with contextlib.suppress(AlreadyDone):
            await store.save_scenario(ScenarioPayload(rows=source.batches(), source=f"replay:{replay_id}"),
                                      self._system, idem=f"replay:{replay_id}:{source.digest}")
        # Reading back = freezing in the target, which re-reads every row it stored.
        snap = await store.freeze_snapshot(self._system, source.session, source.tenant_id)
        log(f"replayed {snap.rows} records into {self.endpoint}; target checksum {snap.checksum}")
        return ReplayOutcome(snap.rows, snap.digest)

    async def rollback_checkpoint(self, log: Log, source: SnapshotSource, replay_id: str) -> StepResult:
        store = await self._target_store()
        events = await store.audit_page(limit=20, text="scenario.save")
        recorded = any(e.data.get("source") == f"replay:{replay_id}" for e in events)
        log(f"replay id {replay_id} recorded in target={recorded}")
        return StepResult("dryrun.rollback_checkpoint", recorded, f"replay id {replay_id} recorded"
                          if recorded else "replay id missing from target")

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
