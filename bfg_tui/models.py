"""Domain models: the catalog (what exists), the state (what happened) and what the engine
computes from them (`Evaluation`).

NamedTuples, not dataclasses: creating a dataclass costs over a millisecond at import
on a small machine, a NamedTuple a fifth of that, and `bfg-tui status` has a budget. Untrusted input (scenario files) is validated with pydantic
in `scenario_io`; the catalog is validated by `catalog.load_catalog`.
"""

# No `from __future__ import annotations`: a NamedTuple turns each string annotation into a
# ForwardRef and compiles it: a quarter of this module's import time (start-up).

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

# A sentence by message id, and a catalog text by message id: the message catalog's own types.
from .i18n import Msg as Msg
from .i18n import Text as Text

CheckKind = Literal["owner", "probe", "derived"]
TargetKind = Literal["sqlite", "postgresql"]

DECISION_READY = "READY"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
BLOCKED_PREFIX = "BLOCKED_PENDING_"


# The permissions roles grant, as the catalog names them.
P_READ = "scenario.read"
P_WRITE = "scenario.write"
P_FREEZE = "snapshot.freeze"
P_PROBE = "probes.run"
P_EXPORT = "packets.export"
P_ACCEPT = "gates.accept.own"
P_COUNTERSIGN = "gates.countersign"


class Role(NamedTuple):
    id: str
    label: Text
    scope: str
    permissions: tuple[str, ...]


class Actor(NamedTuple):
    id: str
    name: str
    role: str
    desk: str


class ValueSpec(NamedTuple):
    label: Text
    example: str


class Check(NamedTuple):
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
    rule: "Rule | None" = None
    figure: str = ""  # a derived check's figure, e.g. "count:dry_run" (bfg_tui.figures)


class Rule(NamedTuple):
    """A derived value: all `refs` ready (`all`), or a named fact computed from state."""

    all: tuple[str, ...] = ()
    fact: str | None = None

    def refs(self) -> tuple[str, ...]:
        return self.all


class Group(NamedTuple):
    id: str
    title: Text
    checks: tuple[str, ...] = ()


class Gate(NamedTuple):
    id: str
    group: str
    action: Text
    hint: Text


class BoardRow(NamedTuple):
    id: str
    owner: str
    title: Text
    subject: str
    detail: Text
    checks: tuple[str, ...] = ()
    rule: Rule | None = None
    evidence: Text | None = None


class Batch(NamedTuple):
    id: str
    kinds: tuple[str, ...]
    title: Text


class PacketSpec(NamedTuple):
    """A reviewer packet the catalog declares; its fields are built in bfg_tui.packets."""

    id: str
    schema: str
    group: str  # the gate group whose evidence it carries (the cutover tab that previews it)
    layout: str = "fields"  # text form: "fields" (`# Schema`, then K=V per line, shell-sourceable) or "line"
    joined: tuple[str, ...] = ()  # fields printed together on one line
    key: str = ""  # the letter that chooses it in the export dialog


class Requirement(NamedTuple):
    key: str
    all: tuple[str, ...]


class Decision(NamedTuple):
    id: str
    gate: str
    packet: str
    requires: tuple[Requirement, ...]


class GoNoGo(NamedTuple):
    id: str
    first_blocked_of: tuple[str, ...]
    ready: str


class Provider(NamedTuple):
    id: str
    name: Text
    current: str
    target: str
    contract: str
    detail: Text


class Environment(NamedTuple):
    id: str
    adapter: str
    title: Text
    detail: Text


class Catalog(NamedTuple):
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
    # The reviewer packets, in the order they are listed (CLI help, export dialog).
    packets: tuple[PacketSpec, ...] = ()
    # Evaluation order of every node ("check id", "board:x", "batch:x", "group:x",
    # "decision:x"), computed once at load from the dependency graph.
    order: tuple[str, ...] = ()
    # node -> the nodes it reads (a group's members, a rule's refs), built at load.
    deps: Mapping[str, tuple[str, ...]] = _EMPTY

    def actor(self, actor_id: str) -> Actor | None:
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        return None

    def permissions(self, actor: Actor) -> tuple[str, ...]:
        """The permissions of the actor's role (what it may do is decided by bfg_tui.rbac)."""
        role = self.roles.get(actor.role)
        return role.permissions if role else ()

    def probe_checks(self, probe: str) -> tuple[str, ...]:
        """The checks a probe ("connection", "dry_run") produces, in the order it runs them."""
        return tuple(c.id for c in self.checks.values() if c.kind == "probe" and c.probe == probe)

    def packet(self, pid: str) -> PacketSpec:
        """The packet with this id; KeyError when the catalog declares none."""
        for packet in self.packets:
            if packet.id == pid:
                return packet
        raise KeyError(pid)

    def packet_for(self, group: str) -> PacketSpec | None:
        """The packet that carries a gate group's evidence, if any."""
        return next((p for p in self.packets if p.group == group), None)


# ---------------------------------------------------------------- state


class Acceptance(NamedTuple):
    check_id: str
    actor_id: str
    at: str
    seq: int
    note: str = ""
    value: str | None = None
    snapshot_digest: str | None = None
    countersign: bool = False
    key: str | None = None  # the signing key's fingerprint; None: self-asserted (demo identity)


class ProbeResult(NamedTuple):
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
    fingerprint: str | None = None  # "sha256:<hex>" or "not-applicable:file", from the run


class ScenarioInfo(NamedTuple):
    version: int
    saved_at: str | None
    records: int
    kind_counts: dict[str, int]


class SnapshotInfo(NamedTuple):
    id: int
    rows: int
    digest: str
    at: str
    kind_counts: dict[str, int]

    @property
    def checksum(self) -> str:
        return "bfg-" + self.digest[:8]


class State(NamedTuple):
    """Everything the engine reads. Built by the store; never mutated by the engine."""

    store_contract: str
    target_adapter: str | None
    fallback_adapter: str | None
    scenario: ScenarioInfo
    snapshot: SnapshotInfo | None = None
    acceptances: Mapping[str, Acceptance] = _EMPTY
    probes: Mapping[str, ProbeResult] = _EMPTY
    connection_endpoint: str | None = None  # endpoint of the latest connection run
    last_change_seq: int = 0
    last_release_export_seq: int = 0
    audit_count: int = 0
    audit_head: str = ""
    runbook_lint_ok: bool = True
    last_save_actor: str | None = None
    # "demo" (self-asserted) until `roster init`, then "signed" (from event `roster_seq` on).
    identity: str = "demo"
    roster_seq: int = 0


# ------------------------------------------------------------------ what the engine computes

# The nine release variables, in the release packet's order (`engine.release_env` fills them).
RELEASE_ENV_KEYS = (
    "BFG_RELEASE_ENVIRONMENT",
    "BFG_RELEASE_TARGET",
    "BFG_SCENARIO_ADAPTER",
    "BFG_STORAGE_ADAPTER",
    "BFG_AUTH_MODE",
    "BFG_TENANT_MODE",
    "BFG_ROLLBACK_OWNER",
    "BFG_RELEASE_EVIDENCE",
    "BFG_RELEASE_DECISION",
)


class CheckStatus(NamedTuple):
    id: str
    ready: bool
    stale: bool
    reason: Msg  # why it is (not) ready, one line, in no language yet


class Action(NamedTuple):
    """The recommended action, phrased for people: the path to GO's first step."""

    gate: str | None
    title: Msg
    detail: Msg


NO_ACTION = Action(None, Msg(), Msg())


class Evaluation(NamedTuple):
    """Every figure and decision the engine computed from the catalog and one state.

    `recommended` is the planner's, attached above the engine (`bfg_tui.assess`): the
    planner re-runs the engine, so the engine alone leaves it `NO_ACTION`.
    """

    nodes: dict[str, bool]
    checks: dict[str, CheckStatus]
    groups: dict[str, tuple[int, int]]
    decisions: dict[str, str]
    recommended: Action
    stale: tuple[str, ...]

    def ready(self, node: str) -> bool:
        return self.nodes[node]

    def count(self, group: str) -> str:  # type: ignore[override]  # a group's n/m, not tuple.count
        ready, total = self.groups[group]
        return f"{ready}/{total}"
