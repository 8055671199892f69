"""The path to GO: `bfg-tui plan --json`, followed exactly, reaches what it promises.

From a fresh store the plan lists the local rehearsal (TARGET = a SQLite file); followed
argv by argv it reaches every local gate ready in exactly its number of steps. Then the plan
names the evidence only PostgreSQL can give, and followed against the test server it
reaches READY_FOR_REVIEWED_CUTOVER.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.plan import follow, plan

pytestmark = pytest.mark.usefixtures("initialised")  # `plan` is a read verb: it never creates the store

PG_ONLY = {"wiring.endpoint_contract", "wiring.tenant_context", "wiring.live_credentials"}


def _status(cli) -> dict:
    return cli("status", "--json").json()


def test_fresh_plan_has_twenty_steps_and_the_recommended_action_is_its_first(cli) -> None:
    doc = plan(cli)
    actions = [s["action"] for s in doc["steps"]]
    assert len(actions) == 20
    assert actions.count("accept") == 15
    assert actions.count("save") == actions.count("freeze") == 1
    assert actions.count("probe_connection") == actions.count("probe_dry_run") == 1
    assert actions[-1] == "export_release"
    assert _status(cli)["recommended_action"]["gate"] == "connection"  # the first step: connection evidence
    text = cli("plan").out
    assert "Anna Kowalska: 11 sign-offs, release export" in text
    assert "Marek Zielinski: 2 sign-offs, save, freeze, 2 probes" in text
    assert "Then only a PostgreSQL target can prove: wiring.endpoint_contract" in text


def test_following_the_plan_reaches_every_local_gate_then_names_postgresql(cli, tmp_path: Path) -> None:
    from bfg_tui.catalog import default_catalog

    catalog = default_catalog()
    doc = plan(cli)
    follow(cli, doc, str(tmp_path / "target.db"), catalog)
    status = _status(cli)
    assert status["groups"]["gates"] == {"ready": 9, "total": 9}
    for group in ("transition", "infrastructure", "provider_selection", "decision_board"):
        assert status["groups"][group]["ready"] == status["groups"][group]["total"], group
    for decision in ("runbook", "release", "rollback", "cutover"):
        assert status["decisions"][decision] == "READY", decision
    assert status["decisions"]["go_no_go"] == doc["decision"] == "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS"

    after = plan(cli)
    first = after["steps"][0]
    assert first["action"] == "probe_connection" and first["check"] in PG_ONLY
    assert "--new-target" in first["argv"]
    rec = _status(cli)["recommended_action"]
    assert "PostgreSQL" in rec["title"] and "wiring.live_credentials" in rec["detail"]
    assert after["decision"] == "READY_FOR_REVIEWED_CUTOVER"


@pytest.mark.postgres
@pytest.mark.slow
def test_following_the_plan_with_postgresql_reaches_ready_for_reviewed_cutover(pg, cli, tmp_path: Path) -> None:
    from bfg_tui.catalog import default_catalog

    catalog = default_catalog()
    follow(cli, plan(cli), str(tmp_path / "target.db"), catalog)
    doc = plan(cli)
    follow(cli, doc, pg.app_dsn, catalog)
    assert _status(cli)["decisions"]["go_no_go"] == "READY_FOR_REVIEWED_CUTOVER"
    assert plan(cli) == {"decision": "READY_FOR_REVIEWED_CUTOVER", "steps": []}


def test_a_later_change_puts_the_release_export_back_on_the_path(cli, tmp_path: Path) -> None:
    from bfg_tui.catalog import default_catalog

    follow(cli, plan(cli), str(tmp_path / "target.db"), default_catalog())
    assert cli("revoke", "infra.runtime_owner", actor="user_md_anna").code == 0
    steps = plan(cli)["steps"]
    assert [s["action"] for s in steps] == ["accept", "export_release"]
    assert cli("accept", "infra.runtime_owner", "--value", "on-call", actor="user_md_anna").code == 0
    steps = plan(cli)["steps"]
    assert [s["action"] for s in steps] == ["export_release"]
    rec = _status(cli)["recommended_action"]
    assert rec["title"] == "Export the release packet" and "bfg-tui --as user_md_anna export release" in rec["detail"]


async def test_the_recommendation_is_the_plans_first_step_in_every_state_along_the_path(db: Path) -> None:
    """`recommend` (the one `assess` attaches, unsimulated) says what `recommend_action` of the whole plan says."""
    from bfg_tui.engine import evaluate
    from bfg_tui.plan import _apply, _Sim, _target_kind, make_plan, recommend, recommend_action
    from bfg_tui.service import Console

    console = await Console.open(str(db))
    try:
        state = await console.state()
    finally:
        await console.close()
    catalog = console.catalog
    seen = set()
    sim = _Sim(state, state.audit_count)
    for _ in range(40):
        state = sim.state
        ev = evaluate(catalog, state)
        plan = make_plan(catalog, state, ev)
        assert recommend(catalog, state, ev) == recommend_action(catalog, state, ev, plan)  # the same messages
        seen.add(plan.steps[0].postgresql if plan.steps else None)
        if not plan.steps:
            break
        step = plan.steps[0]
        kind = "postgresql" if step.postgresql else _target_kind(state)
        sim = _apply(catalog, sim, step, kind)
    assert {False, True} <= seen  # both the local rehearsal and the PostgreSQL evidence were recommended
