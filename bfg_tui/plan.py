"""The path to GO: the fewest remaining actions, in order, from the catalog and the state.

Pure: no I/O, no Textual. `make_plan` lists the steps, then checks them by applying each
one to a copy of the state and re-running the engine, which tells what each step unlocks
and which decision the whole plan reaches. The console's "Path to GO" panel, the
recommended action and `bfg-tui plan` all read this one list.

Two phases. While anything a local rehearsal can prove is missing, the plan lists those
steps (a probe TARGET may be a SQLite file). When only evidence a SQLite target cannot
give is missing (RLS, TLS, live credentials: the wiring checks), the plan names it and
lists the probes against a PostgreSQL target, and the release export they make stale.
"""

from __future__ import annotations

from typing import NamedTuple

from . import bookkeeping
from .engine import evaluate
from .i18n import t
from .models import (
    DECISION_READY,
    P_COUNTERSIGN,
    P_EXPORT,
    P_FREEZE,
    P_PROBE,
    P_WRITE,
    Acceptance,
    Action,
    Actor,
    Catalog,
    Evaluation,
    Msg,
    ProbeResult,
    ScenarioInfo,
    SnapshotInfo,
    State,
)

TARGET = "TARGET"
_PG_FACTS = frozenset({"postgres_endpoint", "postgres_tenant_context", "live_credentials"})


class Step(NamedTuple):
    actor: str
    action: str  # save | freeze | accept | probe_connection | probe_dry_run | export_release
    check: str | None
    argv: tuple[str, ...]
    needs_value: bool = False
    unlocks: tuple[str, ...] = ()
    postgresql: bool = False  # the step needs a PostgreSQL target

    def as_json(self) -> dict[str, object]:
        return {"actor": self.actor, "action": self.action, "check": self.check, "argv": list(self.argv),
                "needs_value": self.needs_value, "unlocks": list(self.unlocks)}


class Plan(NamedTuple):
    decision: str  # the go/no-go the steps reach
    steps: tuple[Step, ...]
    # Checks only a PostgreSQL target can prove that are still missing (empty when none).
    postgresql_evidence: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"decision": self.decision, "steps": [s.as_json() for s in self.steps]}

    def by_actor(self) -> dict[str, list[Step]]:
        """Steps grouped by who takes them, in order of each actor's first step."""
        groups: dict[str, list[Step]] = {}
        for step in self.steps:
            groups.setdefault(step.actor, []).append(step)
        return groups


# ------------------------------------------------------------------ who does what


def _operator(catalog: Catalog, permission: str) -> str:
    """Who runs the operational steps: an actor with `permission` who does not countersign
    (the dispatcher), so the director's queue holds only sign-offs; else any holder."""
    holders = [a for a in catalog.actors if permission in catalog.permissions(a)]
    plain = [a for a in holders if P_COUNTERSIGN not in catalog.permissions(a)]
    chosen = (plain or holders or list(catalog.actors))[0]
    return chosen.id


def _exporter(catalog: Catalog) -> str:
    owner = catalog.checks["rollback.owner_confirmation"].owner if "rollback.owner_confirmation" in catalog.checks else None
    actor: Actor | None = catalog.actor(owner) if owner else None
    if actor is not None and P_EXPORT in catalog.permissions(actor):
        return actor.id
    return _operator(catalog, P_EXPORT)


# ------------------------------------------------------------------ order of the owner checks


def _reaches(catalog: Catalog) -> dict[str, set[str]]:
    """node -> every node it reads, transitively."""
    memo: dict[str, set[str]] = {}
    for node in catalog.order:  # dependencies come first in the evaluation order
        found: set[str] = set()
        for dep in catalog.deps.get(node, ()):
            found.add(dep)
            found |= memo.get(dep, set())
        memo[node] = found
    return memo


_ORDER_CACHE: dict[tuple[str, ...], list[str]] = {}


def owner_check_order(catalog: Catalog) -> list[str]:
    """Owner checks in the order the pipeline needs them: by the first gate that reads one
    (gates in pipeline order), then the checks no gate reads, in catalog order."""
    key = catalog.order
    if key not in _ORDER_CACHE:
        _ORDER_CACHE[key] = _owner_check_order(catalog)
    return _ORDER_CACHE[key]


def _owner_check_order(catalog: Catalog) -> list[str]:
    reaches = _reaches(catalog)
    gate_nodes = [f"group:{g.group}" for g in catalog.gates]
    owner_checks = [c.id for c in catalog.checks.values() if c.kind == "owner"]

    def rank(check_id: str) -> tuple[int, int]:
        first = next((i for i, node in enumerate(gate_nodes) if check_id in reaches[node]), len(gate_nodes))
        return first, owner_checks.index(check_id)

    return sorted(owner_checks, key=rank)


# ------------------------------------------------------------------ simulation


class _Sim(NamedTuple):
    state: State
    seq: int


def _probe_checks(catalog: Catalog, probe: str) -> list[str]:
    return [c.id for c in catalog.checks.values() if c.kind == "probe" and c.probe == probe]


# The audit kind each step records: the bookkeeping rules are read by kind, as the store's.
_KINDS = {"save": "scenario.save", "freeze": "snapshot.freeze", "accept": "check.accept",
          "probe_connection": "probe.run", "probe_dry_run": "probe.run", "export_release": "packet.export"}


def _apply(catalog: Catalog, sim: _Sim, step: Step, kind: str) -> _Sim:
    """The state after `step`, as the store would record it (ids and times are stand-ins)."""
    state, seq = sim.state, sim.seq + 1
    if step.action == "save":
        counts = {k: 1 for k in catalog.record_kinds}
        scenario = ScenarioInfo(state.scenario.version + 1, f"plan-{seq}", len(counts), counts)
        state = state._replace(scenario=scenario)
    elif step.action == "freeze":
        snap_id = (state.snapshot.id if state.snapshot else 0) + 1
        rows = max(1, state.scenario.records)
        counts = dict(state.scenario.kind_counts) or {k: 1 for k in catalog.record_kinds}
        state = state._replace(snapshot=SnapshotInfo(snap_id, rows, f"plan{seq:060d}", f"plan-{seq}", counts))
    elif step.action == "accept" and step.check:
        check = catalog.checks[step.check]
        digest = state.snapshot.digest if check.binds_snapshot and state.snapshot else None
        acc = Acceptance(step.check, step.actor, f"plan-{seq}", seq, value="plan" if step.needs_value else None,
                         snapshot_digest=digest)
        state = state._replace(acceptances={**state.acceptances, step.check: acc})
    elif step.action in ("probe_connection", "probe_dry_run"):
        state = _apply_probe(catalog, state, seq, "connection" if step.action == "probe_connection" else "dry_run", kind)
    elif step.action == "export_release" and bookkeeping.marks_release_export(step.argv[1]):
        state = state._replace(last_release_export_seq=seq)
    if _KINDS[step.action] in bookkeeping.CHANGE_KINDS:
        state = state._replace(last_change_seq=seq)
    return _Sim(state, seq)


def _apply_probe(catalog: Catalog, state: State, seq: int, probe: str, kind: str) -> State:
    """A passing run of `probe` against the plan's stand-in target, kept as the store keeps one."""
    endpoint = f"plan-{kind}-target"
    selected = state.connection_endpoint
    holds = any(r.passed and r.endpoint == selected for r in state.probes.values())
    if not bookkeeping.replaces_evidence(selected, holds, endpoint, True):
        return state
    digest = state.snapshot.digest if probe == "dry_run" and state.snapshot else None
    pg = kind == "postgresql"
    results = {
        c: ProbeResult(c, True, kind, endpoint, "plan", f"plan-{seq}", f"plan-{seq}", seq, digest, pg, pg,  # type: ignore[arg-type]
                       "sha256:plan" if pg else "not-applicable:file")
        for c in _probe_checks(catalog, probe)
    }
    state = state._replace(probes={**state.probes, **results})
    if bookkeeping.selects_target(probe):
        state = state._replace(connection_endpoint=endpoint)
    return state


def _gain(catalog: Catalog, before: Evaluation, after: Evaluation) -> tuple[str, ...]:
    """What a step unlocks: gates and owner groups that became complete, decisions that became READY,
    and the go/no-go value when it changed."""
    out: list[str] = []
    for group in [g.group for g in catalog.gates] + [g for g in catalog.groups if g not in {x.group for x in catalog.gates}]:
        node = f"group:{group}"
        if after.nodes[node] and not before.nodes[node]:
            out.append(f"{group} {after.count(group)}")
    for did in catalog.decisions:
        if after.decisions[did] == DECISION_READY != before.decisions[did]:
            out.append(f"{did} {DECISION_READY}")
    go = catalog.go_no_go.id
    if after.decisions[go] != before.decisions[go]:
        out.append(f"go/no-go {after.decisions[go]}")
    return tuple(out)


# ------------------------------------------------------------------ the plan


def _target_kind(state: State) -> str:
    endpoint = state.connection_endpoint or ""
    return "postgresql" if endpoint.startswith("postgresql") else "sqlite"


def _snapshot_outdated(state: State) -> bool:
    snap = state.snapshot
    if snap is None or snap.rows == 0:
        return True
    saved = state.scenario.saved_at
    return bool(saved and snap.at < saved)


def _local_steps(catalog: Catalog, state: State, ev: Evaluation) -> list[Step]:
    operator = _operator(catalog, P_PROBE)
    steps: list[Step] = []
    conn_checks = _probe_checks(catalog, "connection")
    dry_checks = _probe_checks(catalog, "dry_run")
    if not all(ev.checks[c].ready for c in conn_checks):
        steps.append(Step(operator, "probe_connection", conn_checks[0], ("probe", "connection", TARGET)))
    scenario_missing = state.scenario.saved_at is None or state.scenario.records == 0
    if scenario_missing:
        steps.append(Step(_operator(catalog, P_WRITE), "save", None, ("scenario", "save")))
    if scenario_missing or _snapshot_outdated(state):
        steps.append(Step(_operator(catalog, P_FREEZE), "freeze", None, ("snapshot", "freeze")))
    refreeze = any(s.action == "freeze" for s in steps)
    if refreeze or not all(ev.checks[c].ready for c in dry_checks):
        steps.append(Step(operator, "probe_dry_run", dry_checks[0], ("probe", "dry-run", TARGET)))
    for check_id in owner_check_order(catalog):
        check = catalog.checks[check_id]
        if ev.checks[check_id].ready and not (refreeze and check.binds_snapshot):
            continue
        steps.append(Step(check.owner or "", "accept", check_id, ("accept", check_id),
                          needs_value=check.value is not None))
    return steps


def _export_step(catalog: Catalog) -> Step:
    return Step(_exporter(catalog), "export_release", "rollback.audit_packet", ("export", "release"))


def _missing_pg_evidence(catalog: Catalog, ev: Evaluation) -> tuple[str, ...]:
    return tuple(c.id for c in catalog.checks.values()
                 if c.kind == "derived" and c.rule is not None and c.rule.fact in _PG_FACTS and not ev.checks[c.id].ready)


def _with_export(catalog: Catalog, state: State, ev: Evaluation, steps: list[Step]) -> list[Step]:
    # Any change makes the release packet stale, so its export comes last.
    packet = catalog.checks.get("rollback.audit_packet")
    if packet is not None and (steps or not ev.checks[packet.id].ready):
        steps = [*steps, _export_step(catalog)]
    return steps


def _simulate(catalog: Catalog, state: State, steps: list[Step], kind: str) -> tuple[list[Step], Evaluation]:
    sim = _Sim(state, max(state.last_change_seq, state.last_release_export_seq, state.audit_count))
    before = evaluate(catalog, state)
    done: list[Step] = []
    for step in steps:
        sim = _apply(catalog, sim, step, kind)
        after = evaluate(catalog, sim.state)
        done.append(step._replace(unlocks=_gain(catalog, before, after)))
        before = after
    return done, before


def _planned(catalog: Catalog, state: State, ev: Evaluation) -> tuple[list[Step], str, tuple[str, ...] | None]:
    """The steps, the target kind they run against, and the PostgreSQL-only evidence still missing
    (None while the local rehearsal is unfinished: then it is what remains after the steps)."""
    kind = _target_kind(state)
    # A stale release packet is local work too: the rollback drill needs it before anything else.
    local = _with_export(catalog, state, ev, _local_steps(catalog, state, ev))
    if local:
        return local, kind, None
    missing = _missing_pg_evidence(catalog, ev)
    pg_steps: list[Step] = []
    if missing:
        operator = _operator(catalog, P_PROBE)
        new = ("--new-target",) if state.connection_endpoint and kind != "postgresql" else ()
        conn = missing[0]  # the first evidence only PostgreSQL gives
        dry = _probe_checks(catalog, "dry_run")[0]
        pg_steps = [
            Step(operator, "probe_connection", conn, ("probe", "connection", *new, TARGET), postgresql=True),
            Step(operator, "probe_dry_run", dry, ("probe", "dry-run", TARGET), postgresql=True),
        ]
    return _with_export(catalog, state, ev, pg_steps), "postgresql", missing


def make_plan(catalog: Catalog, state: State, ev: Evaluation | None = None) -> Plan:
    """The path to GO from `state`: the local rehearsal first, then the PostgreSQL evidence."""
    ev = ev or evaluate(catalog, state)
    planned, kind, missing = _planned(catalog, state, ev)
    steps, end = _simulate(catalog, state, planned, kind)
    return Plan(end.decisions[catalog.go_no_go.id], tuple(steps),
                _missing_pg_evidence(catalog, end) if missing is None else missing)


def recommend(catalog: Catalog, state: State, ev: Evaluation) -> Action:
    """The recommended action: `recommend_action` of the plan, without simulating the steps
    (it reads only the first step, not what each unlocks nor where the plan ends)."""
    planned, _kind, missing = _planned(catalog, state, ev)
    return recommend_action(catalog, state, ev, Plan(ev.decisions[catalog.go_no_go.id], tuple(planned), missing or ()))


# ------------------------------------------------------------------ the recommended action


def _name(catalog: Catalog, actor_id: str) -> str:
    actor = catalog.actor(actor_id)
    return actor.name if actor else actor_id


def command_line(step: Step, example: str = "") -> str:
    """The step as a command a person types (`--as` included, `--value` with an example)."""
    argv = ["bfg-tui", "--as", step.actor, *step.argv]
    if step.needs_value:
        argv += ["--value", f'"{example or "…"}"']
    return " ".join(argv)


def recommend_action(catalog: Catalog, state: State, ev: Evaluation, plan: Plan) -> Action:
    """The plan's first step, phrased for people (as messages: the edge renders them)."""
    gates = {g.group: g for g in catalog.gates}
    go = ev.decisions[catalog.go_no_go.id]
    if not plan.steps:
        if go == catalog.go_no_go.ready:
            return Action(None, Msg("plan.done_title"), Msg("plan.done_detail"))
        first = next((c for c, s in ev.checks.items() if not s.ready), "")
        return Action(None, Msg("plan.stuck_title", {"decision": go}), Msg("plan.stuck_detail", {"check": first}))
    step = plan.steps[0]
    who = _name(catalog, step.actor)
    check = catalog.checks.get(step.check) if step.check else None
    example = check.value.example if check is not None and check.value is not None else ""
    cmd = command_line(step, example)
    if step.postgresql:
        return Action(None, Msg("plan.pg_title"),
                      Msg("plan.pg_detail", {"checks": ", ".join(plan.postgresql_evidence), "actor": who, "cmd": cmd}))
    if step.action in ("probe_connection", "probe_dry_run"):
        group = "connection" if step.action == "probe_connection" else "dry_run"
        gate = gates.get(group)
        if gate is not None and not ev.nodes[f"group:{group}"]:
            ready, total = ev.groups[group]
            return Action(gate.id, Msg(text=gate.action), Msg(params={"ready": ready, "total": total}, text=gate.hint))
        return Action(group, Msg(f"plan.{step.action}_title"), Msg("plan.rerun_detail", {"actor": who, "cmd": cmd}))
    if step.action == "accept" and check is not None:
        group_title = catalog.groups[check.group].title
        return Action(check.group, Msg("plan.accept_title", {"actor": who, "check": check.title}),
                      Msg("plan.accept_detail", {"group": group_title, "count": ev.count(check.group), "cmd": cmd}))
    if step.action == "export_release":
        return Action("rollback", Msg("plan.export_title"),
                      Msg("plan.export_detail", {"count": ev.count("rollback"), "actor": who, "cmd": cmd}))
    return Action(None, Msg(f"plan.{step.action}_title"), Msg(f"plan.{step.action}_detail", {"actor": who, "cmd": cmd}))


# ------------------------------------------------------------------ the plan in words


def owner_summary(catalog: Catalog, plan: Plan, lang: str = "en") -> str:
    """"Anna Kowalska: 11 sign-offs, release export; Marek Zielinski: save, freeze, 2 probes…"."""
    parts = []
    for actor_id, steps in plan.by_actor().items():
        words: list[str] = []
        accepts = sum(1 for s in steps if s.action == "accept")
        if accepts:
            words.append(t("plan.sign_offs", lang, n=accepts))
        probes = sum(1 for s in steps if s.action.startswith("probe_"))
        for s in steps:
            if s.action in ("save", "freeze", "export_release"):
                words.append(t(f"plan.act.{s.action}", lang))
        if probes:
            words.append(t("plan.probes", lang, n=probes))
        parts.append(f"{_name(catalog, actor_id)}: {', '.join(words)}")
    return "; ".join(parts)


def step_text(catalog: Catalog, step: Step, lang: str = "en", short: bool = False) -> str:
    """One step as a line: who, what (the command), and what it unlocks.

    `short` (the console's panel): the actor's first name and the verb, without `bfg-tui --as`.
    """
    check = catalog.checks.get(step.check) if step.check else None
    example = check.value.example if check is not None and check.value is not None else ""
    if short:
        line = f"{_name(catalog, step.actor).split()[0]}: {' '.join(step.argv)}"
        if step.needs_value:
            line += " --value …"
    else:
        line = command_line(step, example)
    if step.postgresql:
        line += "  (postgresql://…)"
    if step.unlocks:
        line += "  → " + t("plan.unlocks", lang, what=", ".join(step.unlocks))
    return line


def plan_text(catalog: Catalog, plan: Plan, ev: Evaluation, lang: str = "en") -> str:
    go = ev.decisions[catalog.go_no_go.id]
    if not plan.steps:
        return t("plan.none", lang, decision=go)
    lines = [f"{t('plan.heading', lang)}: {t('plan.summary', lang, n=len(plan.steps), decision=plan.decision)}",
             owner_summary(catalog, plan, lang), ""]
    if plan.steps[0].postgresql:
        lines.insert(2, t("plan.pg_now", lang, checks=", ".join(plan.postgresql_evidence)))
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"{i:>3}. {step_text(catalog, step, lang)}")
    if plan.postgresql_evidence and not plan.steps[0].postgresql:
        lines += ["", t("plan.pg_note", lang, checks=", ".join(plan.postgresql_evidence))]
    return "\n".join(lines)
