"""The probe target contract. A SQLite file target exists; PostgreSQL implements the same.

A probe is a list of steps, one per probe check. Each step runs for real against the
target and returns a `StepResult`; the runner stores every result and the transcript.
Targets never see or return secrets: `endpoint` is already redacted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..models import TargetKind

Log = Callable[[str], None]


@dataclass(frozen=True)
class StepResult:
    check_id: str
    passed: bool
    detail: str  # one line, no secrets


@dataclass(frozen=True)
class SnapshotSource:
    """What the dry-run replays: the frozen snapshot, read through ScenarioStore.v1."""

    snapshot_id: int
    digest: str
    rows: int
    kind_counts: dict[str, int]
    tenant_id: str
    session: str
    # Yields batches of (kind, id, canonical record JSON as UTF-8 bytes), in canonical order.
    # A generator, so a reader that stops early closes it (and the store's cursor) at once.
    batches: Callable[[], AsyncGenerator[list[tuple[str, str, bytes]], None]]
    # The same records as runs of one kind: (kind, [(id as UTF-8, body, …), …]), for a bulk copy.
    runs: Callable[[], AsyncGenerator[tuple[str, list[tuple[bytes, bytes, Any]] | list[tuple[bytes, bytes]]], None]]


@dataclass(frozen=True)
class ReplayOutcome:
    rows_written: int
    readback_digest: str  # canonical checksum recomputed from what the target returned
    duplicate_rows: int = 0
    detail: str = ""
    # False when a verification besides the checksum failed (e.g. the PostgreSQL tenant
    # A/B matrix), or the replay itself failed (then readback_digest is "").
    passed: bool = True


@dataclass
class ConnectionFacts:
    """Facts a connection probe learned, stored with its results (never a secret)."""

    tls: bool = False
    fingerprint: str | None = None  # "sha256:<hex>" or "not-applicable:file"
    credentials_external: bool = False  # password came from env/pgpass, never stored
    server: str = ""
    notes: list[str] = field(default_factory=list)


class Target(Protocol):
    kind: TargetKind
    endpoint: str  # redacted display form

    async def reach(self, log: Log) -> StepResult:
        """connection.endpoint_reachability"""

    async def tls(self, log: Log, facts: ConnectionFacts) -> StepResult:
        """connection.tls_fingerprint"""

    async def rbac_session(self, log: Log, tenant_id: str, claims: dict[str, object]) -> StepResult:
        """connection.rbac_session: a session with these claims sees only its tenant."""

    async def write_probe(self, log: Log) -> StepResult:
        """connection.write_probe: a no-secret row written, read back, rolled back."""

    async def schema_map(self, log: Log, kind_tables: dict[str, str], kinds: list[str]) -> StepResult:
        """dryrun.schema_map: apply the target schema; every kind maps to an existing table."""

    async def replay_claims(self, log: Log, tenant_id: str, claims: list[dict[str, object]]) -> StepResult:
        """dryrun.rbac_claims_probe: every actor written as a claim and read back equal."""

    async def replay(self, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
        """dryrun.adapter_replay: write every record, read back, recompute the checksum."""

    async def rollback_checkpoint(self, log: Log, source: SnapshotSource, replay_id: str) -> StepResult:
        """dryrun.rollback_checkpoint target part (e.g. restore drill); file-local check is the runner's."""

    async def close(self) -> None: ...
