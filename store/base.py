"""The ScenarioStore.v1 contract: the narrow interface every backend implements.

The store persists what happened (scenario, snapshots, acceptances, probe evidence,
exports, refusals) and appends a hash-chained audit event in the same transaction as
each change. It knows nothing of screens; rules live in the engine and the service.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from bfg_tui import bookkeeping
from bfg_tui.errors import Refused
from bfg_tui.models import SnapshotInfo, State

CONTRACT = "ScenarioStore.v1"

# Audit kinds that change checks, evidence or the snapshot (the product's rule, kept with
# the other bookkeeping rules); re-exported for the store's callers.
CHANGE_KINDS = bookkeeping.CHANGE_KINDS


def like_substring(text: str) -> str:
    """A LIKE pattern matching `text` as a plain substring (with `escape '\\'`): `%` and `_` are literal."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class WriteRefused(Refused):
    """A write the stored state does not allow, named by `code` and `params` (no sentence).

    The store knows what went wrong, not how to say it: the service words it (with the
    command that helps) and records the refusal. `reason` is the code until then.
    """

    def __init__(self, code: str, *, action: str, subject: str = "", **params: object) -> None:
        super().__init__(code, action=action, subject=subject, code=code, params=params)


class ActorContext(NamedTuple):
    """Who acts, and from where: self-asserted (mock-auth-header), or proven by an SSH key.

    `key` is the signing key's fingerprint and `signer` signs the event's canonical body
    (bfg_tui.identity.signing.Signer); in a demo store both are empty.
    """

    actor_id: str
    os_user: str = ""
    ssh: str = ""
    auth_mode: str = "mock-auth-header"
    self_asserted: bool = True
    key: str = ""
    signer: Any = None

    def as_json(self) -> dict[str, Any]:
        doc = {
            "mode": self.auth_mode,
            "os_user": self.os_user,
            "self_asserted": self.self_asserted,
            "ssh": self.ssh,
        }
        if self.key:
            doc["key"] = self.key
        return doc


class AuditEvent(NamedTuple):
    seq: int
    at: str
    kind: str
    actor: str
    data: dict[str, Any]
    auth: dict[str, Any]
    hash: str
    prev: str
    signature: str | None = None  # ASCII-armored SSHSIG over `body`, in a signed store
    body: str = ""  # the exact signed (and hashed) text


class VerifyResult(NamedTuple):
    ok: bool
    count: int  # type: ignore[assignment]  # the field shadows tuple.count; callers read it by name
    head: str
    reason: str = ""
    first_bad_seq: int | None = None


class StepRecord(NamedTuple):
    check_id: str
    passed: bool
    detail: str


class ProbeRunRecord(NamedTuple):
    run_id: str
    probe: str  # "connection" | "dry_run"
    target_kind: str
    endpoint: str  # redacted
    started_at: str
    finished_at: str
    steps: tuple[StepRecord, ...]
    transcript: tuple[str, ...]
    snapshot_digest: str | None = None
    tls: bool = False
    credentials_external: bool = False
    facts: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.passed for s in self.steps)


class ScenarioPayload(NamedTuple):
    """A whole scenario to save: canonical record bodies in canonical order."""

    # (kind, id, canonical body) rows, or an async iterable of lists of such rows.
    # A body is text or, read back from a store, its UTF-8 bytes.
    rows: Iterable[tuple[str, str, str | bytes]] | AsyncIterable[Sequence[tuple[str, str, str | bytes]]]
    source: str  # "demo", "demo:scale=N", "file:<name>"
    origin: str = ""  # what the save was asked for (a resolved path): binds an idempotency key


class ScenarioStore(Protocol):
    """What the service relies on: every backend is a store.core.AuditedStore.

    On SQLite `path` is the file and `login_actor` is None; on the shared PostgreSQL store
    `path` is the allowlisted display form of the location, `login_actor` the actor the
    connected login is mapped to, and `server_key` tells its server apart.
    """

    contract: str
    path: Path | str  # what messages call the store
    read_only: bool
    schema: str  # PostgreSQL: the store's schema; SQLite: ""
    login: str  # PostgreSQL: the connected login; SQLite: ""
    login_actor: str | None

    async def load_state(self) -> State: ...
    async def save_scenario(self, payload: ScenarioPayload, ctx: ActorContext, idem: str | None = None) -> int: ...
    async def freeze_snapshot(self, ctx: ActorContext, session: str, tenant: str) -> SnapshotInfo: ...
    async def accept(
        self, check_id: str, ctx: ActorContext, *, note: str, value: str | None,
        snapshot_digest: str | None, countersign: bool, idem: str | None = None,
    ) -> int: ...
    async def revoke(self, check_id: str, ctx: ActorContext, *, note: str, idem: str | None = None) -> int: ...
    async def record_probe(self, run: ProbeRunRecord, ctx: ActorContext, *, selects_target: bool) -> int: ...
    async def record_export(
        self, packet: str, fmt: str, destination: str, digest: str, ctx: ActorContext, *, release: bool,
    ) -> int: ...
    async def record_refusal(self, action: str, subject: str, reason: str, ctx: ActorContext) -> int: ...
    async def record_event(self, kind: str, data: dict[str, Any], ctx: ActorContext) -> int: ...
    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[AuditEvent]: ...
    async def audit_verify(self) -> VerifyResult: ...
    def snapshot_batches(self, snapshot_id: int, size: int = 20000) -> AsyncGenerator[list[tuple[Any, ...]], None]: ...
    def snapshot_runs(self, snapshot_id: int, size: int = 5000) -> AsyncGenerator[
        tuple[str, list[tuple[bytes, bytes, Any]] | list[tuple[bytes, bytes]]], None]: ...
    def scenario_rows(self, version: int | None = None) -> AsyncIterator[list[tuple[Any, ...]]]: ...
    async def audit_head(self) -> tuple[int, str]: ...
    async def audit_count(self, text: str = "") -> int: ...
    async def probe_run(self, run_id: str) -> ProbeRunRecord | None: ...
    async def latest_probe_runs(self, limit: int = 20) -> list[tuple[str, str, str, bool, str]]: ...
    async def check_history(self, check_id: str, limit: int = 50) -> list[AuditEvent]: ...
    async def store_id(self) -> str: ...
    def server_key(self) -> tuple[str, str, str] | None: ...
    async def data_version(self) -> int: ...
    def signed_rows(self) -> AsyncIterator[list[tuple[int, bytes, str | None]]]: ...
    async def roster_events(self) -> list[tuple[int, str, dict[str, Any]]]: ...
    async def close(self) -> None: ...
