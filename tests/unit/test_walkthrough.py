"""The local walkthrough through the CLI, as the right actors, decision by decision."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.walkthrough import (
    ANNA,
    MAREK,
    TRANSITION,
    counts,
    owners_values,
    release_ready,
    save_and_freeze,
    status,
)


def test_local_walkthrough_reaches_blocked_pending_infrastructure(cli, tmp_path: Path) -> None:
    target = tmp_path / "rehearsal-target.db"
    assert cli("init").code == 0
    doc = status(cli)
    assert doc["decisions"]["go_no_go"] == "BLOCKED_PENDING_DRY_RUN"

    assert cli("scenario", "save", actor=MAREK).code == 0
    doc = status(cli)
    assert counts(doc, "batch_groups") == {"batch_groups": "4/4"}
    assert doc["scenario"]["last_save"] is not None

    freeze = cli("snapshot", "freeze", actor=MAREK)
    assert freeze.code == 0, freeze
    doc = status(cli)
    assert doc["snapshot"]["rows"] > 0 and doc["snapshot"]["checksum"].startswith("bfg-")
    assert counts(doc, "preflight", "runbook") == {"preflight": "2/5", "runbook": "2/6"}
    assert doc["decisions"]["runbook"] == "BLOCKED_PENDING_PREFLIGHT"

    for check, owner in TRANSITION:
        result = cli("accept", check, "--note", "rehearsed", actor=owner)
        assert result.code == 0, result
    doc = status(cli)
    assert counts(doc, "transition", "decision_board", "preflight") == {
        "transition": "6/6", "decision_board": "6/7", "preflight": "2/5"}  # the dry-run row waits for the dry-run
    assert doc["decisions"]["release"] == "BLOCKED_PENDING_DRY_RUN"

    conn = cli("probe", "connection", str(target), actor=MAREK)
    assert conn.code == 0, conn
    doc = status(cli)
    assert counts(doc, "connection") == {"connection": "4/4"}
    assert doc["recommended_action"]["gate"] == "dry_run"

    dry = cli("probe", "dry-run", str(target), actor=MAREK)
    assert dry.code == 0, dry
    doc = status(cli)
    assert counts(doc, "dry_run", "preflight", "release") == {"dry_run": "5/5", "preflight": "5/5", "release": "5/5"}
    assert doc["decisions"]["release"] == "READY"
    assert doc["decisions"]["rollback"] == "BLOCKED_PENDING_ROLLBACK_DRILL"
    assert doc["decisions"]["runbook"] == "BLOCKED_PENDING_ROLLBACK"
    assert doc["decisions"]["cutover"] == "BLOCKED_PENDING_DATA_CUTOVER"
    assert doc["decisions"]["go_no_go"] == "BLOCKED_PENDING_DATA_CUTOVER"

    owners_values(cli)
    doc = status(cli)
    assert counts(doc, "infrastructure", "provider_selection", "wiring") == {
        "infrastructure": "4/4", "provider_selection": "4/4", "wiring": "4/7"}
    assert doc["decisions"]["rollback"] == "BLOCKED_PENDING_ROLLBACK_DRILL"  # no fresh release packet yet

    out = tmp_path / "release.env"
    exported = cli("export", "release", "-o", str(out), actor=ANNA)
    assert exported.code == 0, exported
    assert "BFG_RELEASE_DECISION=READY" in out.read_text()
    doc = status(cli)
    assert doc["decisions"]["rollback"] == "READY"
    assert doc["decisions"]["runbook"] == "READY"
    assert doc["decisions"]["cutover"] == "READY"
    assert doc["groups"]["gates"] == {"ready": 9, "total": 9}
    assert doc["decisions"]["wiring"] == "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS"
    assert doc["decisions"]["go_no_go"] == "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS"
    assert doc["recommended_action"]["gate"] is None
    assert cli("audit", "verify").code == 0

    # A later change to checks makes the release packet stale again: rollback falls back.
    assert cli("revoke", "infra.runtime_owner", actor=ANNA).code == 0
    assert cli("accept", "infra.runtime_owner", "--value", "user_dispatcher_marek on-call", actor=ANNA).code == 0
    assert status(cli)["decisions"]["rollback"] == "BLOCKED_PENDING_ROLLBACK_DRILL"


def test_refreeze_of_a_changed_scenario_makes_bound_evidence_stale(cli, tmp_path: Path) -> None:
    target = tmp_path / "target.db"
    release_ready(cli, target)
    before = status(cli)
    assert before["decisions"]["release"] == "READY" and before["stale"] == []

    # Same content re-frozen: same checksum, nothing stale.
    assert cli("snapshot", "freeze", actor=MAREK).code == 0
    assert status(cli)["stale"] == []

    # Changed content: another scale.
    save_and_freeze(cli, "--scale", "20")
    after = status(cli)
    assert after["snapshot"]["checksum"] != before["snapshot"]["checksum"]
    assert set(after["stale"]) == {
        "dryrun.snapshot_export", "dryrun.schema_map", "dryrun.rbac_claims_probe", "dryrun.adapter_replay",
        "dryrun.rollback_checkpoint", "transition.rehearsal_scenario_store", "transition.migration_and_rollback",
    }
    assert after["groups"]["dry_run"] == {"ready": 0, "total": 5}
    assert after["groups"]["transition"] == {"ready": 4, "total": 6}
    assert after["groups"]["connection"] == {"ready": 4, "total": 4}  # bound to the target, not the snapshot
    assert after["decisions"]["release"] == "BLOCKED_PENDING_DRY_RUN"
    assert after["decisions"]["go_no_go"] == "BLOCKED_PENDING_DRY_RUN"
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks["dryrun.adapter_replay"]["stale"] is True

    # Re-running and re-accepting clears the staleness.
    assert cli("probe", "dry-run", str(target), actor=MAREK).code == 0
    assert cli("accept", "transition.rehearsal_scenario_store", actor=MAREK).code == 0
    assert cli("accept", "transition.migration_and_rollback", actor=ANNA).code == 0
    again = status(cli)
    assert again["stale"] == []
    assert again["decisions"]["release"] == "READY"
