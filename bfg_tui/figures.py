"""Every figure a check row shows, as the seed page words it, and why a check is not passing.

Pure: catalog + state + evaluation in, text out. Each derived check names its figure in
the catalog (`"figure": "count:dry_run"`); `value` renders it, `why` names the first unmet
dependency ("waiting for Dry-run 0/5"), and `tree` lays out the whole dependency tree for
`bfg-tui explain` and the detail dialog.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from .i18n import render, t
from .models import RELEASE_ENV_KEYS, Catalog, Evaluation, Msg, State, Text

# What a figure says before it is rendered: a plain string, a message, a catalog text, or
# a tuple of those read one after another.
Said: TypeAlias = "str | Msg | Text | tuple[Said, ...]"


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
    return render(_value(catalog, state, ev, check_id), lang)


def _value(catalog: Catalog, state: State, ev: Evaluation, check_id: str) -> Said:
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
        return acc.value or "" if acc is not None and ev.checks[args[0]].ready else Msg("fig.pending")
    if kind == "providers":
        return str(len(catalog.providers))
    if kind == "store_contract":
        return state.store_contract
    if kind == "snapshot_records":
        return Msg("fig.records", {"n": snap.rows if snap else 0})
    if kind == "snapshot_checksum":
        return f"{snap.rows} / {snap.checksum}" if snap else "0 / —"
    if kind == "snapshot_rows":
        rows = Msg("fig.rows", {"n": snap.rows if snap else 0})
        return (rows, f" / {snap.checksum}") if snap else rows
    if kind == "actors":
        return Msg("fig.actors", {"n": len(catalog.actors)})
    if kind == "actor_count":
        return str(len(catalog.actors))
    if kind == "env_vars":
        return str(len(RELEASE_ENV_KEYS))
    if kind == "fallback":
        return state.fallback_adapter or "—"
    if kind == "fallback_or_blocked":
        return (state.fallback_adapter or "—") if ev.checks[check_id].ready else Msg("fig.blocked")
    if kind == "packet":  # the schema of the packet that carries this check's group
        packet = catalog.packet_for(catalog.checks[check_id].group)
        return packet.schema if packet else "—"
    if kind == "pg_endpoint":
        result = state.probes.get("connection.endpoint_reachability")
        if result is not None and result.passed and result.target_kind == "postgresql":
            return result.endpoint
        return Msg("fig.not_recorded")
    if kind == "tenant_mode":
        return catalog.tenant_mode_target + " (RLS)" if ev.checks[check_id].ready else catalog.tenant_mode
    if kind == "rls_lint":
        return Msg("fig.lint_ok" if state.runbook_lint_ok else "fig.lint_failed")
    if kind == "live_credentials":
        return Msg("fig.credentials_ok" if ev.checks[check_id].ready else "fig.blocked")
    return ""


# ------------------------------------------------------------------ why not


def node_title(catalog: Catalog, node: str, lang: str = "en") -> str:
    return render(_node_title(catalog, node), lang)


def _node_title(catalog: Catalog, node: str) -> Said:
    prefix, _, name = node.partition(":")
    if node in catalog.checks:
        return catalog.checks[node].title
    if prefix == "group":
        if name in catalog.groups:
            return catalog.groups[name].title
        return Msg(f"group.{name}")
    if prefix == "board":
        row = next((b for b in catalog.board if b.id == name), None)
        return row.title if row else name
    if prefix == "batch":
        batch = next((b for b in catalog.batches if b.id == name), None)
        return batch.title if batch else name
    if prefix == "decision":
        return Msg("fig.decision", {"decision": name})
    return node


def node_figure(catalog: Catalog, state: State, ev: Evaluation, node: str, lang: str = "en") -> str:
    return render(_node_figure(catalog, state, ev, node), lang)


def _node_figure(catalog: Catalog, state: State, ev: Evaluation, node: str) -> Said:
    prefix, _, name = node.partition(":")
    if node in catalog.checks:
        return _value(catalog, state, ev, node)
    if prefix == "group":
        return _count(ev.groups, name)
    if prefix == "decision":
        return ev.decisions[name]
    if prefix == "batch":
        batch = next(b for b in catalog.batches if b.id == name)
        return Msg("fig.rows", {"n": sum(state.scenario.kind_counts.get(k, 0) for k in batch.kinds)})
    return ""


def _named(catalog: Catalog, state: State, ev: Evaluation, node: str) -> Said:
    """A dependency by name, with its figure: "Dry-run 0/5", "the rollback decision BLOCKED_PENDING_DRY_RUN"."""
    title = _node_title(catalog, node)
    if node in catalog.checks and catalog.checks[node].kind != "derived":
        return title
    figure = _node_figure(catalog, state, ev, node)
    return (title, " ", figure) if figure else title


def why(catalog: Catalog, state: State, ev: Evaluation, check_id: str, lang: str = "en") -> str:
    """Why a check is not passing: its first unmet dependency, by name (empty when it passes)."""
    return render(why_said(catalog, state, ev, check_id), lang)


def why_said(catalog: Catalog, state: State, ev: Evaluation, check_id: str) -> Msg:
    """`why`, in no language yet (the engine keeps it as a derived check's reason)."""
    status = ev.checks[check_id]
    if status.ready:
        return Msg()
    check = catalog.checks[check_id]
    if check.kind != "derived" or check.rule is None:
        return status.reason
    if check.rule.fact:
        return Msg(f"why.{check.rule.fact}")
    for ref in check.rule.all:
        if not ev.nodes[ref]:
            return Msg("why.waiting", {"what": _named(catalog, state, ev, ref)})
    return Msg()


# ------------------------------------------------------------------ the dependency tree


def tree(catalog: Catalog, state: State, ev: Evaluation, root: str, lang: str = "en", max_depth: int = 6) -> list[Node]:
    """The node and everything it reads, depth first; a node met twice is listed once, then marked."""
    seen: set[str] = set()
    out: list[Node] = []

    def walk(node: str, depth: int) -> None:
        ready = ev.nodes.get(node, False)
        reason = why(catalog, state, ev, node, lang) if node in catalog.checks else ""
        if node in catalog.checks and not reason and not ready:
            reason = render(ev.checks[node].reason, lang)
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


