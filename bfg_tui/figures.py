"""Every figure a check row shows, as the seed page words it, and why a check is not passing.

Pure: catalog + state + evaluation in, text out. Each derived check names its figure in
the catalog (`"figure": "count:dry_run"`); `value` renders it, `why` names the first unmet
dependency ("waiting for Dry-run 0/5"), and `tree` lays out the whole dependency tree for
`bfg-tui explain` and the detail dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .i18n import reason_text, t
from .models import Catalog, State

if TYPE_CHECKING:  # the engine imports this module to say why a check waits
    from .engine import Evaluation


class Node(NamedTuple):
    """One node of a dependency tree: depth, id, title, ready, figure, why (empty when ready)."""

    depth: int
    id: str
    title: str
    ready: bool
    value: str
    why: str
    repeated: bool = False


def parse_figure(spec: str) -> tuple[str, tuple[str, ...]]:
    kind, _, arg = spec.partition(":")
    return kind, tuple(a for a in arg.split("+") if a)


def _count(groups: dict[str, tuple[int, int]], group: str) -> str:
    ready, total = groups[group]
    return f"{ready}/{total}"


def value(catalog: Catalog, state: State, ev: Evaluation, check_id: str, lang: str = "en") -> str:
    """The figure a check's row shows: counts, checksums, rows, decisions, modes, values."""
    check = catalog.checks[check_id]
    if check.kind == "owner":
        acc = state.acceptances.get(check_id)
        return acc.value or "" if acc is not None else ""
    if check.kind == "probe":
        result = state.probes.get(check_id)
        if result is None:
            return ""
        if check_id == "connection.endpoint_reachability":
            return result.endpoint
        if check_id == "connection.tls_fingerprint" and result.fingerprint:
            return result.fingerprint[:23] + ("…" if len(result.fingerprint) > 23 else "")
        return result.detail
    if not check.figure:
        return ""
    kind, args = parse_figure(check.figure)
    snap = state.snapshot
    if kind == "count":
        return " + ".join(_count(ev.groups, g) for g in args)
    if kind == "decision":
        return ev.decisions[args[0]]
    if kind == "value":
        acc = state.acceptances.get(args[0])
        return acc.value or "" if acc is not None and ev.checks[args[0]].ready else t("fig.pending", lang)
    if kind == "providers":
        return str(len(catalog.providers))
    if kind == "store_contract":
        return state.store_contract
    if kind == "snapshot_records":
        return t("fig.records", lang, n=snap.rows if snap else 0)
    if kind == "snapshot_checksum":
        return f"{snap.rows} / {snap.checksum}" if snap else "0 / —"
    if kind == "snapshot_rows":
        rows = t("fig.rows", lang, n=snap.rows if snap else 0)
        return f"{rows} / {snap.checksum}" if snap else rows
    if kind == "actors":
        return t("fig.actors", lang, n=len(catalog.actors))
    if kind == "actor_count":
        return str(len(catalog.actors))
    if kind == "env_vars":
        from .engine import RELEASE_ENV_KEYS

        return str(len(RELEASE_ENV_KEYS))
    if kind == "fallback":
        return state.fallback_adapter or "—"
    if kind == "fallback_or_blocked":
        return (state.fallback_adapter or "—") if ev.checks[check_id].ready else t("fig.blocked", lang)
    if kind == "packet":
        return "ProductionRollbackDrill.v1"
    if kind == "pg_endpoint":
        result = state.probes.get("connection.endpoint_reachability")
        if result is not None and result.passed and result.target_kind == "postgresql":
            return result.endpoint
        return t("fig.not_recorded", lang)
    if kind == "tenant_mode":
        return catalog.tenant_mode_target + " (RLS)" if ev.checks[check_id].ready else catalog.tenant_mode
    if kind == "rls_lint":
        return t("fig.lint_ok" if state.runbook_lint_ok else "fig.lint_failed", lang)
    if kind == "live_credentials":
        return t("fig.credentials_ok" if ev.checks[check_id].ready else "fig.blocked", lang)
    return ""


# ------------------------------------------------------------------ why not


def node_title(catalog: Catalog, node: str, lang: str = "en") -> str:
    prefix, _, name = node.partition(":")
    if node in catalog.checks:
        return catalog.checks[node].title.get(lang)
    if prefix == "group":
        if name in catalog.groups:
            return catalog.groups[name].title.get(lang)
        return t(f"group.{name}", lang)
    if prefix == "board":
        row = next((b for b in catalog.board if b.id == name), None)
        return row.title.get(lang) if row else name
    if prefix == "batch":
        batch = next((b for b in catalog.batches if b.id == name), None)
        return batch.title.get(lang) if batch else name
    if prefix == "decision":
        return t("fig.decision", lang, decision=name)
    return node


def node_figure(catalog: Catalog, state: State, ev: Evaluation, node: str, lang: str = "en") -> str:
    prefix, _, name = node.partition(":")
    if node in catalog.checks:
        return value(catalog, state, ev, node, lang)
    if prefix == "group":
        return _count(ev.groups, name)
    if prefix == "decision":
        return ev.decisions[name]
    if prefix == "batch":
        batch = next(b for b in catalog.batches if b.id == name)
        return t("fig.rows", lang, n=sum(state.scenario.kind_counts.get(k, 0) for k in batch.kinds))
    return ""


def _named(catalog: Catalog, state: State, ev: Evaluation, node: str, lang: str) -> str:
    """A dependency by name, with its figure: "Dry-run 0/5", "the rollback decision BLOCKED_PENDING_DRY_RUN"."""
    figure = node_figure(catalog, state, ev, node, lang)
    title = node_title(catalog, node, lang)
    if node in catalog.checks and catalog.checks[node].kind != "derived":
        return title
    return f"{title} {figure}".strip()


def why(catalog: Catalog, state: State, ev: Evaluation, check_id: str, lang: str = "en") -> str:
    """Why a check is not passing: its first unmet dependency, by name (empty when it passes)."""
    status = ev.checks[check_id]
    if status.ready:
        return ""
    check = catalog.checks[check_id]
    if check.kind != "derived" or check.rule is None:
        return reason_text(status.reason, lang)
    if check.rule.fact:
        return t(f"why.{check.rule.fact}", lang)
    for ref in check.rule.all:
        if not ev.nodes[ref]:
            return t("why.waiting", lang, what=_named(catalog, state, ev, ref, lang))
    return ""


# ------------------------------------------------------------------ the dependency tree


def tree(catalog: Catalog, state: State, ev: Evaluation, root: str, lang: str = "en", max_depth: int = 6) -> list[Node]:
    """The node and everything it reads, depth first; a node met twice is listed once, then marked."""
    seen: set[str] = set()
    out: list[Node] = []

    def walk(node: str, depth: int) -> None:
        ready = ev.nodes.get(node, False)
        reason = why(catalog, state, ev, node, lang) if node in catalog.checks else ""
        if node in catalog.checks and not reason and not ready:
            reason = ev.checks[node].reason
        repeated = node in seen
        out.append(Node(depth, node, node_title(catalog, node, lang), ready,
                        node_figure(catalog, state, ev, node, lang), reason, repeated))
        if repeated or depth >= max_depth:
            return
        seen.add(node)
        for dep in catalog.deps.get(node, ()):
            walk(dep, depth + 1)

    walk(root, 0)
    return out


def tree_lines(nodes: list[Node], lang: str = "en") -> list[str]:
    lines = []
    for n in nodes:
        mark = "ok" if n.ready else "--"
        text = f"{'  ' * n.depth}{mark} {n.id}  {n.title}"
        if n.value:
            text += f"  [{n.value}]"
        if n.why:
            text += f"  — {n.why}"
        if n.repeated:
            text += "  " + t("fig.above", lang)
        lines.append(text)
    return lines


