"""The pure engine: catalog + state -> every figure and decision the console shows.

No I/O, no Textual, no SQLite. One function, `evaluate`, walks the nodes in the
catalog's precomputed topological order, so each node is computed once.
"""

from __future__ import annotations

from collections.abc import Callable

from .figures import why_said
from .models import (
    BLOCKED_PREFIX,
    DECISION_READY,
    NO_ACTION,
    Catalog,
    Check,
    CheckStatus,
    Evaluation,
    Msg,
    State,
)

STATUS_GROUPS = (
    "gates",
    "preflight",
    "transition",
    "connection",
    "dry_run",
    "runbook",
    "data_cutover",
    "batch_groups",
    "release",
    "rollback",
    "decision_board",
    "infrastructure",
    "provider_selection",
    "wiring",
)


_READY = Msg("reason.ready")


def release_env(catalog: Catalog, state: State, decision: str) -> dict[str, str]:
    """The nine release variables (seed line 449), from session metadata."""
    owner = catalog.checks["rollback.owner_confirmation"].owner
    return {
        "BFG_RELEASE_ENVIRONMENT": catalog.environment,
        "BFG_RELEASE_TARGET": state.target_adapter or "",
        "BFG_SCENARIO_ADAPTER": state.store_contract,
        "BFG_STORAGE_ADAPTER": state.fallback_adapter or "",
        "BFG_AUTH_MODE": catalog.auth_mode,
        "BFG_TENANT_MODE": catalog.tenant_mode,
        "BFG_ROLLBACK_OWNER": owner or "",
        "BFG_RELEASE_EVIDENCE": catalog.packet("dry_run").schema,
        "BFG_RELEASE_DECISION": decision,
    }


def _probe_passed(state: State, check_id: str, target_kind: str | None = None) -> bool:
    result = state.probes.get(check_id)
    return bool(result and result.passed and (target_kind is None or result.target_kind == target_kind))


def _live_credentials(_catalog: Catalog, state: State) -> bool:
    return (
        _probe_passed(state, "connection.tls_fingerprint", "postgresql")
        and state.probes["connection.tls_fingerprint"].tls
        and state.probes["connection.tls_fingerprint"].credentials_external
    )


# Every fact a derived check's rule may name (the catalog refuses any other), and how it is read.
FACTS: dict[str, Callable[[Catalog, State], bool]] = {
    "providers_visible": lambda catalog, _state: bool(catalog.providers)
    and all(p.current and p.target and p.contract for p in catalog.providers),
    "store_open": lambda catalog, state: state.store_contract == catalog.store_contract,
    "snapshot_payload": lambda _catalog, state: state.snapshot is not None and state.snapshot.rows > 0,
    "actor_claims": lambda catalog, _state: all(
        a.role in catalog.roles and catalog.roles[a.role].permissions for a in catalog.actors
    ),
    "release_env_complete": lambda catalog, state: all(release_env(catalog, state, "-").values()),
    "target_selected": lambda _catalog, state: bool(state.target_adapter),
    "fallback_named": lambda _catalog, state: bool(state.fallback_adapter),
    "release_packet_fresh": lambda _catalog, state: state.last_release_export_seq > state.last_change_seq,
    "postgres_endpoint": lambda _catalog, state: _probe_passed(state, "connection.endpoint_reachability", "postgresql"),
    "postgres_tenant_context": lambda _catalog, state: _probe_passed(state, "connection.rbac_session", "postgresql"),
    "rls_lint": lambda _catalog, state: state.runbook_lint_ok,
    "live_credentials": _live_credentials,
}


def _facts(catalog: Catalog, state: State) -> dict[str, bool]:
    return {name: read(catalog, state) for name, read in FACTS.items()}


def _owner_status(check: Check, state: State, catalog: Catalog) -> CheckStatus:
    acc = state.acceptances.get(check.id)
    if acc is None:
        owner = catalog.actor(check.owner or "")
        return CheckStatus(check.id, False, False, Msg("reason.waiting_for",
                                                       {"who": owner.name if owner else check.owner}))
    if state.identity == "signed" and acc.key is None:
        # Accepted before the roster: anyone could have typed that name. It no longer counts.
        return CheckStatus(check.id, False, False, Msg("reason.self_asserted", {"actor": acc.actor_id}))
    digest = state.snapshot.digest if state.snapshot else None
    if check.binds_snapshot and acc.snapshot_digest != digest:
        return CheckStatus(check.id, False, True, Msg("reason.stale_accepted"))
    how = "reason.countersigned" if acc.countersign else "reason.accepted"
    return CheckStatus(check.id, True, False, Msg(how, {"actor": acc.actor_id}))


def _probe_status(check: Check, state: State) -> CheckStatus:
    result = state.probes.get(check.id)
    if result is None:
        probe = (check.probe or "").replace("_", "-")
        return CheckStatus(check.id, False, False, Msg("reason.waiting_probe", {"probe": probe}))
    if check.binds_snapshot:
        digest = state.snapshot.digest if state.snapshot else None
        if result.snapshot_digest != digest:
            return CheckStatus(check.id, False, True, Msg("reason.stale_snapshot"))
        if state.connection_endpoint is not None and result.endpoint != state.connection_endpoint:
            return CheckStatus(check.id, False, True, Msg("reason.stale_target"))
    if not result.passed:
        return CheckStatus(check.id, False, False, Msg("reason.failed", {"detail": result.detail}))
    return CheckStatus(check.id, True, False, Msg("reason.passed", {"endpoint": result.endpoint}))


def evaluate(catalog: Catalog, state: State) -> Evaluation:
    """Every figure and decision. The recommended action is left empty: it is the path to
    GO's first step, and the planner re-runs this to find that path (`bfg_tui.assess`
    attaches it).

    Every sentence in it is a `Msg`: the edge renders it in the reader's language.
    """
    facts = _facts(catalog, state)
    nodes: dict[str, bool] = {}
    checks: dict[str, CheckStatus] = {}
    decisions: dict[str, str] = {}
    kind_counts = state.scenario.kind_counts
    batches = {b.id: b for b in catalog.batches}
    board = {b.id: b for b in catalog.board}
    go = catalog.go_no_go

    for node in catalog.order:
        if node in catalog.checks:
            check = catalog.checks[node]
            if check.kind == "owner":
                status = _owner_status(check, state, catalog)
            elif check.kind == "probe":
                status = _probe_status(check, state)
            else:
                rule = check.rule
                assert rule is not None
                ok = facts[rule.fact] if rule.fact else all(nodes[r] for r in rule.all)
                status = CheckStatus(node, ok, False, _READY if ok else Msg())
            checks[node] = status
            nodes[node] = status.ready
            continue
        prefix, _, name = node.partition(":")
        if prefix == "group":
            nodes[node] = all(nodes[m] for m in catalog.deps[node])
        elif prefix == "board":
            row = board[name]
            ok = all(nodes[c] for c in row.checks)
            if row.rule is not None:
                ok = ok and (facts[row.rule.fact] if row.rule.fact else all(nodes[r] for r in row.rule.all))
            nodes[node] = ok
        elif prefix == "batch":
            nodes[node] = any(kind_counts.get(k, 0) > 0 for k in batches[name].kinds)
        elif prefix == "decision":
            if name == go.id:
                blocked = next((decisions[d] for d in go.first_blocked_of if decisions[d] != DECISION_READY), None)
                decisions[name] = blocked or go.ready
                nodes[node] = blocked is None
            else:
                value = DECISION_READY
                for req in catalog.decisions[name].requires:
                    if not all(nodes[r] for r in req.all):
                        value = BLOCKED_PREFIX + req.key
                        break
                decisions[name] = value
                nodes[node] = value == DECISION_READY

    groups = {name: _count(catalog, nodes, name) for name in _group_names(catalog)}
    stale = tuple(c for c, s in checks.items() if s.stale)
    ev = Evaluation(nodes, checks, groups, decisions, NO_ACTION, stale)
    # A derived check that is not ready says why: its first unmet dependency, by name.
    for cid, status in checks.items():
        if not status.ready and not status.reason:
            checks[cid] = status._replace(reason=why_said(catalog, state, ev, cid))
    return ev


def _group_names(catalog: Catalog) -> list[str]:
    return [*catalog.groups, "gates", "decision_board", "batch_groups"]


def _count(catalog: Catalog, nodes: dict[str, bool], name: str) -> tuple[int, int]:
    members = catalog.deps[f"group:{name}"]
    return sum(1 for m in members if nodes[m]), len(members)


def status_document(catalog: Catalog, state: State, ev: Evaluation, say: Callable[[Msg], str]) -> dict[str, object]:
    """The `status --json` document; `say` renders the recommended action in the reader's language."""
    snap = state.snapshot
    return {
        "groups": {g: {"ready": ev.groups[g][0], "total": ev.groups[g][1]} for g in STATUS_GROUPS},
        "decisions": {d: ev.decisions[d] for d in (*catalog.decisions, catalog.go_no_go.id)},
        "recommended_action": {
            "gate": ev.recommended.gate,
            "title": say(ev.recommended.title),
            "detail": say(ev.recommended.detail),
        },
        "snapshot": {
            "rows": snap.rows if snap else 0,
            "checksum": snap.checksum if snap else None,
            "digest": snap.digest if snap else None,
        },
        "stale": list(ev.stale),
        "scenario": {
            "last_save": state.scenario.saved_at,
            "records": state.scenario.records,
        },
        "audit": {"count": state.audit_count, "head": state.audit_head},
        "identity": state.identity,
    }
