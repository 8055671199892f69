"""Domain models: the catalog (what exists) and the state (what happened).

Plain frozen dataclasses: they import in microseconds, which keeps `bfg-tui status`
inside its start-up budget. Untrusted input (scenario files) is validated with pydantic
in `scenario_io`; the catalog is validated by `catalog.load_catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CheckKind = Literal["owner", "probe", "derived"]
TargetKind = Literal["sqlite", "postgresql"]

DECISION_READY = "READY"
BLOCKED_PREFIX = "BLOCKED_PENDING_"


@dataclass(frozen=True)
class Text:
    en: str
    pl: str

    def get(self, lang: str) -> str:
        return self.pl if lang == "pl" else self.en


@dataclass(frozen=True)
class Role:
    id: str
    label: Text
    scope: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    role: str
    desk: str


@dataclass(frozen=True)
class ValueSpec:
    label: Text
    example: str


@dataclass(frozen=True)
class Check:
    id: str
    kind: CheckKind
    group: str
    title: Text
    detail: Text
    owner: str | None = None
    binds_snapshot: bool = False
    value: ValueSpec | None = None
    probe: str | None = None
    passes_when: str = ""
    rule: Rule | None = None


@dataclass(frozen=True)
class Rule:
    """A derived value: all `refs` ready (`all`), or a named fact computed from state."""

    all: tuple[str, ...] = ()
    fact: str | None = None

    def refs(self) -> tuple[str, ...]:
        return self.all


@dataclass(frozen=True)
class Group:
    id: str
    title: Text
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gate:
    id: str
    group: str
    action: Text
    hint: Text


@dataclass(frozen=True)
class BoardRow:
    id: str
    owner: str
    title: Text
    subject: str
    detail: Text
    checks: tuple[str, ...] = ()
    rule: Rule | None = None
    evidence: Text | None = None


@dataclass(frozen=True)
class Batch:
    id: str
    kinds: tuple[str, ...]
    title: Text


@dataclass(frozen=True)
class Requirement:
    key: str
    all: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    id: str
    gate: str
    packet: str
    requires: tuple[Requirement, ...]


@dataclass(frozen=True)
class GoNoGo:
    id: str
    first_blocked_of: tuple[str, ...]
    ready: str


@dataclass(frozen=True)
class Provider:
    id: str
    name: Text
    current: str
    target: str
    contract: str
    detail: Text


@dataclass(frozen=True)
class Environment:
    id: str
    adapter: str
    title: Text
    detail: Text


@dataclass(frozen=True)
class Catalog:
    tenant_id: str
    tenant_name: str
    session: str
    tenant_mode: str
    tenant_mode_target: str
    store_contract: str
    snapshot_schema: str
    target_adapter: str
    fallback_adapter: str
    auth_mode: str
    environment: str
    actors: tuple[Actor, ...]
    roles: dict[str, Role]
    providers: tuple[Provider, ...]
    environments: tuple[Environment, ...]
    groups: dict[str, Group]
    checks: dict[str, Check]
    gates: tuple[Gate, ...]
    board: tuple[BoardRow, ...]
    batches: tuple[Batch, ...]
    record_kinds: tuple[str, ...]
    kind_tables: dict[str, str]
    decisions: dict[str, Decision]
    go_no_go: GoNoGo
    # Evaluation order of every node ("check id", "board:x", "batch:x", "group:x",
    # "decision:x"), computed once at load from the dependency graph.
    order: tuple[str, ...] = field(default=())

    def actor(self, actor_id: str) -> Actor | None:
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        return None


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class Acceptance:
    check_id: str
    actor_id: str
    at: str
    seq: int
    note: str = ""
    value: str | None = None
    snapshot_digest: str | None = None
    countersign: bool = False


@dataclass(frozen=True)
class ProbeResult:
    """The latest outcome of one probe check."""

    check_id: str
    passed: bool
    target_kind: TargetKind
    endpoint: str  # always redacted
    detail: str
    run_id: str
    at: str
    seq: int
    snapshot_digest: str | None = None
    tls: bool = False
    credentials_external: bool = False


@dataclass(frozen=True)
class ScenarioInfo:
    version: int
    saved_at: str | None
    records: int
    kind_counts: dict[str, int]


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    rows: int
    digest: str
    at: str
    kind_counts: dict[str, int]

    @property
    def checksum(self) -> str:
        return "bfg-" + self.digest[:8]


@dataclass(frozen=True)
class State:
    """Everything the engine reads. Built by the store; never mutated by the engine."""

    store_contract: str
    target_adapter: str | None
    fallback_adapter: str | None
    scenario: ScenarioInfo
    snapshot: SnapshotInfo | None = None
    acceptances: dict[str, Acceptance] = field(default_factory=dict)
    probes: dict[str, ProbeResult] = field(default_factory=dict)
    connection_endpoint: str | None = None  # endpoint of the latest connection run
    last_change_seq: int = 0
    last_release_export_seq: int = 0
    audit_count: int = 0
    audit_head: str = ""
    runbook_lint_ok: bool = True
    last_save_actor: str | None = None
