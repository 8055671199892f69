"""Load and validate the catalog asset (checks, groups, gates, decisions, owners).

Every problem is a one-line `CatalogError` naming the entry: an unknown owner or id,
a duplicate id, a missing field or a dependency cycle.
"""

from __future__ import annotations

import json
from functools import cache
from graphlib import CycleError, TopologicalSorter
from typing import Any

from .engine import FACTS
from .errors import CatalogError
from .models import (
    Actor,
    Batch,
    BoardRow,
    Catalog,
    Check,
    Decision,
    Environment,
    Gate,
    GoNoGo,
    Group,
    PacketSpec,
    Provider,
    Requirement,
    Role,
    Rule,
    Text,
    ValueSpec,
)

CHECK_KINDS = ("owner", "probe", "derived")
PROBES = ("connection", "dry_run")
PACKET_LAYOUTS = ("fields", "line")


def _field(entry: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(entry, dict):
        raise CatalogError(f"catalog: {where} must be an object")
    if key not in entry:
        raise CatalogError(f"catalog: {where} is missing '{key}'")
    value = entry[key]
    if not isinstance(value, kind):
        raise CatalogError(f"catalog: {where}.{key} has the wrong type")
    return value


def _text(kind: str, ident: str, field: str = "") -> Text:
    """The text of a catalog entity, by the message id its kind and id make: `cat.check.<id>.title`."""
    return Text(f"cat.{kind}.{ident}" + (f".{field}" if field else ""))


def texts(catalog: Catalog) -> list[Text]:
    """Every text the catalog names (each one message id in both languages' gettext catalogs)."""
    found: list[Text] = []

    def walk(node: object) -> None:
        if isinstance(node, Text):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (tuple, list)):
            for value in node:
                walk(value)

    walk(tuple(catalog))
    return found


def _rule(raw: dict[str, Any], where: str) -> Rule:
    if not isinstance(raw, dict) or ("all" in raw) == ("fact" in raw):
        raise CatalogError(f"catalog: {where}.rule needs exactly one of 'all' or 'fact'")
    if "fact" in raw:
        fact = _field(raw, "fact", str, f"{where}.rule")
        if fact not in FACTS:
            raise CatalogError(f"catalog: {where} uses unknown fact '{fact}'")
        return Rule(fact=fact)
    refs = _field(raw, "all", list, f"{where}.rule")
    return Rule(all=tuple(str(r) for r in refs))


# The figure kinds of bfg_tui.figures ("count:dry_run", "decision:rollback", "actors", ...).
FIGURE_KINDS = frozenset({
    "providers", "store_contract", "snapshot_records", "snapshot_checksum", "snapshot_rows", "actors",
    "actor_count", "env_vars", "fallback", "fallback_or_blocked", "packet", "pg_endpoint", "tenant_mode",
    "rls_lint", "live_credentials", "count", "decision", "value",
})


def _figure(raw: object, where: str) -> str:
    if not isinstance(raw, str):
        raise CatalogError(f"catalog: {where}.figure must be a string")
    kind = raw.partition(":")[0]
    if raw and kind not in FIGURE_KINDS:
        raise CatalogError(f"catalog: {where} uses unknown figure '{kind}'")
    return raw


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise CatalogError(f"catalog: duplicate {what} id '{item}'")
        seen.add(item)


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    """Build a validated `Catalog` from its JSON form."""
    if not isinstance(raw, dict):
        raise CatalogError("catalog: the document must be a JSON object")
    tenant = _field(raw, "tenant", dict, "tenant")
    tenant_mode = _field(raw, "tenant_mode", dict, "tenant_mode")

    roles: dict[str, Role] = {}
    for rid, r in _field(raw, "roles", dict, "roles").items():
        where = f"roles.{rid}"
        perms = _field(r, "permissions", list, where)
        roles[rid] = Role(rid, _text("role", rid), _field(r, "scope", str, where), tuple(perms))

    actors = []
    for i, a in enumerate(_field(raw, "actors", list, "actors")):
        where = f"actors[{i}]"
        actor = Actor(*(_field(a, k, str, where) for k in ("id", "name", "role", "desk")))
        if actor.role not in roles:
            raise CatalogError(f"catalog: actor '{actor.id}' has unknown role '{actor.role}'")
        actors.append(actor)
    _unique([a.id for a in actors], "actor")
    actor_ids = {a.id for a in actors}

    providers = tuple(
        Provider(
            id=_field(p, "id", str, f"providers[{i}]"),
            name=_text("provider", p["id"], "name"),
            current=_field(p, "current", str, f"providers[{i}]"),
            target=_field(p, "target", str, f"providers[{i}]"),
            contract=_field(p, "contract", str, f"providers[{i}]"),
            detail=_text("provider", p["id"], "detail"),
        )
        for i, p in enumerate(_field(raw, "providers", list, "providers"))
    )
    _unique([p.id for p in providers], "provider")
    environments = tuple(
        Environment(
            _field(e, "id", str, f"environments[{i}]"),
            _field(e, "adapter", str, f"environments[{i}]"),
            _text("env", e["id"], "title"),
            _text("env", e["id"], "detail"),
        )
        for i, e in enumerate(_field(raw, "environments", list, "environments"))
    )

    group_entries = _field(raw, "groups", list, "groups")
    _unique([_field(g, "id", str, f"groups[{i}]") for i, g in enumerate(group_entries)], "group")
    group_titles = {g["id"]: _text("group", g["id"]) for g in group_entries}

    checks: dict[str, Check] = {}
    members: dict[str, list[str]] = {g: [] for g in group_titles}
    for i, c in enumerate(_field(raw, "checks", list, "checks")):
        cid = _field(c, "id", str, f"checks[{i}]")
        where = f"check '{cid}'"
        if cid in checks:
            raise CatalogError(f"catalog: duplicate check id '{cid}'")
        kind = _field(c, "kind", str, where)
        if kind not in CHECK_KINDS:
            raise CatalogError(f"catalog: {where} has unknown kind '{kind}'")
        group = _field(c, "group", str, where)
        if group not in members:
            raise CatalogError(f"catalog: {where} is in unknown group '{group}'")
        owner = c.get("owner")
        if kind == "owner":
            if owner not in actor_ids:
                raise CatalogError(f"catalog: {where} has unknown owner '{owner}'")
        elif owner is not None:
            raise CatalogError(f"catalog: {where} is {kind} and cannot have an owner")
        probe = c.get("probe")
        if kind == "probe" and probe not in PROBES:
            raise CatalogError(f"catalog: {where} has unknown probe '{probe}'")
        rule = _rule(c.get("rule"), where) if kind == "derived" else None
        figure = _figure(c.get("figure", ""), where)
        value = None
        if "value" in c:
            value = ValueSpec(_text("check", cid, "value"), _field(c["value"], "example", str, where))
        checks[cid] = Check(
            id=cid,
            kind=kind,
            group=group,
            title=_text("check", cid, "title"),
            detail=_text("check", cid, "detail"),
            owner=owner,
            binds_snapshot=bool(c.get("binds_snapshot", False)),
            value=value,
            probe=probe,
            passes_when=str(c.get("passes_when", "")),
            rule=rule,
            figure=figure,
        )
        members[group].append(cid)
    groups = {g: Group(g, group_titles[g], tuple(members[g])) for g in group_titles}

    gates = tuple(
        Gate(
            _field(g, "id", str, f"gates[{i}]"),
            _field(g, "group", str, f"gates[{i}]"),
            _text("gate", g["id"], "action"),
            _text("gate", g["id"], "hint"),
        )
        for i, g in enumerate(_field(raw, "gates", list, "gates"))
    )
    _unique([g.id for g in gates], "gate")
    for gate in gates:
        if gate.group not in groups:
            raise CatalogError(f"catalog: gate '{gate.id}' names unknown group '{gate.group}'")

    board = []
    for i, b in enumerate(_field(raw, "board", list, "board")):
        bid = _field(b, "id", str, f"board[{i}]")
        where = f"board row '{bid}'"
        owner = _field(b, "owner", str, where)
        if owner not in actor_ids:
            raise CatalogError(f"catalog: {where} has unknown owner '{owner}'")
        row_checks = tuple(b.get("checks", ()))
        rule = _rule(b["rule"], where) if "rule" in b else None
        if not row_checks and rule is None:
            raise CatalogError(f"catalog: {where} needs 'checks' or 'rule'")
        evidence = _text("board", bid, "evidence") if b.get("evidence") else None
        board.append(
            BoardRow(bid, owner, _text("board", bid, "title"), _field(b, "subject", str, where),
                     _text("board", bid, "detail"), row_checks, rule, evidence)
        )
    _unique([b.id for b in board], "board row")

    record_kinds = tuple(_field(raw, "record_kinds", list, "record_kinds"))
    kind_tables = dict(_field(raw, "kind_tables", dict, "kind_tables"))
    batches = []
    for i, b in enumerate(_field(raw, "batches", list, "batches")):
        bid = _field(b, "id", str, f"batches[{i}]")
        kinds = tuple(_field(b, "kinds", list, f"batch '{bid}'"))
        for kind in kinds:
            if kind not in record_kinds:
                raise CatalogError(f"catalog: batch '{bid}' names unknown record kind '{kind}'")
        batches.append(Batch(bid, kinds, _text("batch", bid)))
    _unique([b.id for b in batches], "batch")

    decisions: dict[str, Decision] = {}
    for i, d in enumerate(_field(raw, "decisions", list, "decisions")):
        did = _field(d, "id", str, f"decisions[{i}]")
        if did in decisions:
            raise CatalogError(f"catalog: duplicate decision id '{did}'")
        where = f"decision '{did}'"
        reqs = tuple(
            Requirement(_field(r, "key", str, where), tuple(_field(r, "all", list, where)))
            for r in _field(d, "requires", list, where)
        )
        decisions[did] = Decision(did, _field(d, "gate", str, where), _field(d, "packet", str, where), reqs)
    go = _field(raw, "go_no_go", dict, "go_no_go")
    go_no_go = GoNoGo(
        _field(go, "id", str, "go_no_go"),
        tuple(_field(go, "first_blocked_of", list, "go_no_go")),
        _field(go, "ready", str, "go_no_go"),
    )

    packets = tuple(_packet(p, f"packets[{i}]", groups) for i, p in enumerate(_field(raw, "packets", list, "packets")))
    _unique([p.id for p in packets], "packet")
    keys = [p.key for p in packets]
    for key in keys:
        if keys.count(key) > 1:
            raise CatalogError(f"catalog: duplicate packet key '{key}'")
    for decision in decisions.values():
        if decision.packet not in {p.id for p in packets}:
            raise CatalogError(f"catalog: decision '{decision.id}' names unknown packet '{decision.packet}'")

    catalog = Catalog(
        tenant_id=_field(tenant, "id", str, "tenant"),
        tenant_name=_field(tenant, "name", str, "tenant"),
        session=_field(raw, "session", str, "session"),
        tenant_mode=_field(tenant_mode, "current", str, "tenant_mode"),
        tenant_mode_target=_field(tenant_mode, "target", str, "tenant_mode"),
        store_contract=_field(raw, "store_contract", str, "store_contract"),
        snapshot_schema=_field(raw, "snapshot_schema", str, "snapshot_schema"),
        target_adapter=_field(raw, "target_adapter", str, "target_adapter"),
        fallback_adapter=_field(raw, "fallback_adapter", str, "fallback_adapter"),
        auth_mode=_field(raw, "auth_mode", str, "auth_mode"),
        environment=_field(raw, "environment", str, "environment"),
        actors=tuple(actors),
        roles=roles,
        providers=providers,
        environments=environments,
        groups=groups,
        checks=checks,
        gates=gates,
        board=tuple(board),
        batches=tuple(batches),
        record_kinds=record_kinds,
        kind_tables=kind_tables,
        decisions=decisions,
        go_no_go=go_no_go,
        packets=packets,
    )
    _check_figures(catalog)
    deps = node_dependencies(catalog)
    order = _evaluation_order(deps)
    _check_decision_coverage(catalog)
    return catalog._replace(order=order, deps=deps)


def _packet(raw: dict[str, Any], where: str, groups: dict[str, Group]) -> PacketSpec:
    pid = _field(raw, "id", str, where)
    where = f"packet '{pid}'"
    group = _field(raw, "group", str, where)
    if group not in groups:
        raise CatalogError(f"catalog: {where} names unknown group '{group}'")
    layout = raw.get("layout", "fields")
    if layout not in PACKET_LAYOUTS:
        raise CatalogError(f"catalog: {where} has unknown layout '{layout}'")
    joined = tuple(str(k) for k in raw.get("joined", ()))
    key = raw.get("key")
    if not (isinstance(key, str) and len(key) == 1 and "a" <= key <= "z"):
        raise CatalogError(f"catalog: {where} needs a one-letter key (a-z) for the export dialog")
    return PacketSpec(pid, _field(raw, "schema", str, where), group, layout, joined, key)


def node_dependencies(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """The dependency graph: node -> the nodes it reads."""
    graph: dict[str, tuple[str, ...]] = {}
    for check in catalog.checks.values():
        graph[check.id] = check.rule.all if check.rule else ()
    for group in catalog.groups.values():
        graph[f"group:{group.id}"] = group.checks
    for row in catalog.board:
        graph[f"board:{row.id}"] = row.checks + (row.rule.all if row.rule else ())
    graph["group:decision_board"] = tuple(f"board:{row.id}" for row in catalog.board)
    for batch in catalog.batches:
        graph[f"batch:{batch.id}"] = ()
    graph["group:batch_groups"] = tuple(f"batch:{b.id}" for b in catalog.batches)
    graph["group:gates"] = tuple(f"group:{g.group}" for g in catalog.gates)
    for decision in catalog.decisions.values():
        graph[f"decision:{decision.id}"] = tuple(r for req in decision.requires for r in req.all)
    graph[f"decision:{catalog.go_no_go.id}"] = tuple(
        f"decision:{d}" for d in catalog.go_no_go.first_blocked_of
    )
    return graph


def _evaluation_order(graph: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    for node, deps in graph.items():
        for dep in deps:
            if dep not in graph:
                raise CatalogError(f"catalog: '{node}' depends on unknown id '{dep}'")
    try:
        return tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise CatalogError(f"catalog: dependency cycle: {cycle}") from None


def _check_figures(catalog: Catalog) -> None:
    """A figure names groups, decisions or checks that exist."""
    synthetic = {"decision_board", "batch_groups", "gates"}
    for check in catalog.checks.values():
        kind, _, arg = check.figure.partition(":")
        for ref in filter(None, arg.split("+")):
            known = ((kind == "count" and (ref in catalog.groups or ref in synthetic))
                     or (kind == "decision" and ref in catalog.decisions)
                     or (kind == "value" and ref in catalog.checks))
            if not known:
                raise CatalogError(f"catalog: check '{check.id}' figure names unknown '{ref}'")


def _check_decision_coverage(catalog: Catalog) -> None:
    # A decision may never be READY while its gate is incomplete: every check of the
    # gate must appear in one of its requirements (directly or through its group).
    for decision in catalog.decisions.values():
        if decision.gate not in catalog.groups:
            raise CatalogError(f"catalog: decision '{decision.id}' names unknown gate '{decision.gate}'")
        covered: set[str] = set()
        for req in decision.requires:
            for ref in req.all:
                if ref.startswith("group:") and ref[6:] in catalog.groups:
                    covered.update(catalog.groups[ref[6:]].checks)
                covered.add(ref)
        missing = [c for c in catalog.groups[decision.gate].checks if c not in covered]
        if missing:
            raise CatalogError(
                f"catalog: decision '{decision.id}' does not cover gate check '{missing[0]}'"
            )
    for did in catalog.go_no_go.first_blocked_of:
        if did not in catalog.decisions:
            raise CatalogError(f"catalog: go_no_go names unknown decision '{did}'")


@cache
def default_catalog() -> Catalog:
    """The shipped catalog, parsed once per process."""
    from .assets_io import asset_text

    return parse_catalog(json.loads(asset_text("catalog.json")))
