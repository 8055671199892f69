"""A PostgreSQL server as the probe target (SPEC §6): the real staging cutover rehearsal.

The steps live in `probes/postgres/`, one module per job (connection and TLS, RLS
proofs, schema and claims, COPY, read-back, replay, drill); this class composes them
around one `PgSession`, which holds both logins' connections and scrubs every error
message before it becomes a one-line step detail. See `postgres/session.py` for the two
logins and where their passwords come from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..targets import MIGRATION_ENV
from .base import ConnectionFacts, Log, ReplayOutcome, SnapshotSource, StepResult
from .postgres import connection, drill, replay, rls, schema
from .postgres.copy_in import partition_name
from .postgres.replay import snapshot_key
from .postgres.session import PROBE_TENANT, PgSession

if TYPE_CHECKING:
    from ..models import TargetKind


class PostgresTarget:
    kind: TargetKind = "postgresql"

    def __init__(self, target: str, catalog: Any) -> None:
        self.session = PgSession(target, catalog)
        self.catalog = catalog
        self.endpoint = self.session.endpoint
        self.migration_endpoint = self.session.migration_endpoint

    @property
    def switching_attack(self) -> bool | None:
        """None: not run; True: the expected, documented gap of an app-server-set tenant."""
        return self.session.switching_attack

    @property
    def timings(self) -> dict[str, float]:
        return self.session.timings

    async def reach(self, log: Log) -> StepResult:
        return await connection.reach(self.session, log)

    async def tls(self, log: Log, facts: ConnectionFacts) -> StepResult:
        return await connection.tls(self.session, log, facts)

    async def rbac_session(self, log: Log, tenant_id: str, claims: dict[str, object]) -> StepResult:
        return await rls.rbac_session(self.session, log, tenant_id, claims)

    async def write_probe(self, log: Log) -> StepResult:
        return await connection.write_probe(self.session, log)

    async def schema_map(self, log: Log, kind_tables: dict[str, str], kinds: list[str]) -> StepResult:
        return await schema.schema_map(self.session, log, kind_tables, kinds)

    async def replay_claims(self, log: Log, tenant_id: str, claims: list[dict[str, object]]) -> StepResult:
        return await schema.replay_claims(self.session, log, tenant_id, claims)

    async def replay(self, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
        return await replay.replay(self.session, log, source, replay_id)

    async def rollback_checkpoint(self, log: Log, source: SnapshotSource, replay_id: str) -> StepResult:
        return await drill.rollback_checkpoint(self.session, log, source, replay_id)

    async def tenant_matrix(self, log: Log, tenant: str, snap: str, rows: int) -> list[tuple[str, bool]]:
        """The tenant A/B matrix alone (the benchmarks time it)."""
        return await rls.tenant_matrix(self.session, log, tenant, snap, rows)

    async def close(self) -> None:
        await self.session.close()


__all__ = ["MIGRATION_ENV", "PROBE_TENANT", "PostgresTarget", "partition_name", "snapshot_key"]
