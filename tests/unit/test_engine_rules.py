"""The engine's rules as a reviewer reads them: `status --json` and `checks --json`.

Each test names the rule it pins; removing or bending that rule in the engine fails it.
"""

from __future__ import annotations

import json
from pathlib import Path

from bfg_tui.i18n import render
from tests.helpers.walkthrough import ANNA, MAREK, counts, owners_values, release_ready, status

SCHEMA = "BFGScenarioImport.v1"
DRY_RUN = {"dryrun.snapshot_export", "dryrun.schema_map", "dryrun.rbac_claims_probe", "dryrun.adapter_replay",
           "dryrun.rollback_checkpoint"}


def _import(cli, tmp_path: Path, *records: tuple[str, str, dict]) -> None:
    path = tmp_path / "scenario.json"
    doc = {"schema": SCHEMA, "tenant": "bfg", "records": [{"kind": k, "id": i, "data": d} for k, i, d in records]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = cli("scenario", "save", "--from", str(path), actor=MAREK)
    assert result.code == 0, result


def _checks(cli) -> dict[str, dict]:
    return {c["id"]: c for c in cli("checks", "--json").json()}


def test_rule_dry_run_evidence_goes_stale_when_the_connection_is_repointed_to_another_target(
        cli, tmp_path: Path) -> None:
    first, second = tmp_path / "rehearsal-a.db", tmp_path / "rehearsal-b.db"
    release_ready(cli, first)
    before = status(cli)
    assert before["decisions"]["release"] == "READY" and before["groups"]["dry_run"] == {"ready": 5, "total": 5}

    # The connection now points at another target: the dry-run proved nothing about it.
    assert cli("probe", "connection", str(second), "--new-target", actor=MAREK).code == 0
    after = status(cli)
    assert set(after["stale"]) == DRY_RUN
    assert counts(after, "connection", "dry_run") == {"connection": "4/4", "dry_run": "0/5"}
    assert after["decisions"]["release"] == "BLOCKED_PENDING_DRY_RUN"
    checks = _checks(cli)
    for check in DRY_RUN:
        assert checks[check]["stale"] is True
        assert checks[check]["reason"] == "stale: ran against another target"

    # A dry-run against the new target makes the evidence current again.
    assert cli("probe", "dry-run", str(second), actor=MAREK).code == 0
    again = status(cli)
    assert again["stale"] == [] and again["decisions"]["release"] == "READY"


def test_rule_a_snapshot_of_one_record_is_a_payload(cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, ("orders", "ord-000001", {"pallets": 1}))
    assert cli("snapshot", "freeze", actor=MAREK).code == 0
    doc = status(cli)
    assert doc["snapshot"]["rows"] == 1
    assert _checks(cli)["preflight.snapshot_payload"]["ready"] is True
    assert counts(doc, "preflight") == {"preflight": "2/5"}


def test_rule_no_snapshot_is_no_payload(cli) -> None:
    assert cli("init").code == 0
    assert _checks(cli)["preflight.snapshot_payload"]["ready"] is False


def test_rule_a_batch_group_with_one_record_of_one_of_its_kinds_holds_data(cli, tmp_path: Path) -> None:
    # One order (operations) and one payment (finance); no tenant, user or audit records.
    _import(cli, tmp_path, ("orders", "ord-000001", {"pallets": 1}), ("payments", "pay-000001", {"amount": "1.00"}))
    assert counts(status(cli), "batch_groups") == {"batch_groups": "2/4"}


def test_rule_all_local_gates_ready_recommends_the_postgresql_probe_in_english_and_polish(
        cli, tmp_path: Path) -> None:
    release_ready(cli, tmp_path / "target.db")
    owners_values(cli)
    assert cli("export", "release", "-o", str(tmp_path / "release.env"), actor=ANNA).code == 0

    english = status(cli)
    assert english["groups"]["gates"] == {"ready": 9, "total": 9}
    action = english["recommended_action"]
    assert (action["gate"], action["title"]) == (None, "Probe a PostgreSQL target for wiring")
    assert action["detail"].startswith("Every local gate is ready; a SQLite rehearsal cannot prove wiring.")
    polish = cli("--lang", "pl", "status", "--json")
    assert polish.code == 0, polish
    action = polish.json()["recommended_action"]
    assert (action["gate"], action["title"]) == (None, "Sprawdź cel PostgreSQL do podłączenia")
    assert action["detail"].startswith("Wszystkie lokalne bramki są gotowe; próba na SQLite nie dowiedzie wiring.")


async def test_rule_go_ready_recommends_reviewing_the_decision_in_english_and_polish(db: Path) -> None:
    from bfg_tui.assess import assess

    catalog, state = await _state(db)
    ready = _all_ready(catalog, state)
    action = assess(catalog, ready).recommended
    english, polish = ((action.gate, render(action.title, lang), render(action.detail, lang)) for lang in ("en", "pl"))
    assert english == (None, "Go/no-go is READY_FOR_REVIEWED_CUTOVER",
                       "Nothing is left to do here: review the go/no-go decision and the packets; traffic stays "
                       "disabled.")
    assert polish == (None, "Go/no-go: READY_FOR_REVIEWED_CUTOVER",
                      "Nic tu już nie zostało: przejrzyj decyzję go/no-go i pakiety; ruch produkcyjny pozostaje "
                      "wyłączony.")


def test_rule_the_first_unready_gate_is_recommended_in_polish_too(cli) -> None:
    assert cli("init").code == 0
    doc = cli("--lang", "pl", "status", "--json").json()
    assert doc["recommended_action"] == {
        "gate": "connection", "title": "Zapisz dowody połączenia adaptera",
        "detail": "Kontrole połączenia: 0/4; zapisz pakiet ze zredagowanym endpointem przed dry-run.",
    }


# ------------------------------------------------------------- the engine's own rules, in-process
# The CLI cannot build these states (a catalog with a bad provider, a snapshot of zero rows, a
# PostgreSQL probe without a server), so they are evaluated directly from a real store's state.


async def _state(db: Path, *actions: tuple[str, tuple, dict]):
    from bfg_tui.catalog import default_catalog
    from bfg_tui.service import Console
    from tests.helpers.console import service_do

    await service_do(db, *actions)
    console = await Console.open(str(db))
    try:
        return default_catalog(), await console.state()
    finally:
        await console.close()


def _derived(catalog, state, check: str) -> bool:
    from bfg_tui.engine import evaluate

    return evaluate(catalog, state).checks[check].ready


async def test_rule_providers_are_visible_only_when_each_names_current_target_and_contract(db: Path) -> None:
    catalog, state = await _state(db)
    assert _derived(catalog, state, "contracts.providers_visible") is True
    first = catalog.providers[0]
    for field in ("current", "target", "contract"):
        bad = catalog._replace(providers=(first._replace(**{field: ""}), *catalog.providers[1:]))
        assert _derived(bad, state, "contracts.providers_visible") is False, field
    assert _derived(catalog._replace(providers=()), state, "contracts.providers_visible") is False


async def test_rule_every_actor_needs_a_role_with_permissions_for_the_claims(db: Path) -> None:
    catalog, state = await _state(db)
    assert _derived(catalog, state, "preflight.rbac_claims") is True
    role = catalog.actors[0].role
    empty = catalog._replace(roles={**catalog.roles, role: catalog.roles[role]._replace(permissions=())})
    assert _derived(empty, state, "preflight.rbac_claims") is False


async def test_rule_a_snapshot_of_zero_rows_is_no_payload(db: Path) -> None:
    catalog, state = await _state(db, ("save_scenario", (MAREK,), {}), ("freeze", (MAREK,), {}))
    assert _derived(catalog, state, "preflight.snapshot_payload") is True
    empty = state._replace(snapshot=state.snapshot._replace(rows=0))
    assert _derived(catalog, empty, "preflight.snapshot_payload") is False


async def test_rule_the_adapter_selection_row_needs_a_selected_target(db: Path) -> None:
    from bfg_tui.engine import evaluate

    catalog, state = await _state(db)
    assert evaluate(catalog, state).ready("board:adapter_selection") is True
    unselected = evaluate(catalog, state._replace(target_adapter=None))
    assert unselected.ready("board:adapter_selection") is False
    assert unselected.checks["release.adapter_target"].ready is False


async def test_rule_wiring_facts_need_a_passed_probe_against_postgresql(db: Path) -> None:
    from bfg_tui.engine import evaluate
    from bfg_tui.models import ProbeResult

    catalog, state = await _state(db)

    def probe(check: str, kind: str, passed: bool = True) -> ProbeResult:
        return ProbeResult(check, passed, kind, "postgresql://db.example/bfg", "ok", "run-1", "t", 1,
                           tls=True, credentials_external=True)

    def wiring(kind: str, passed: bool = True) -> dict[str, bool]:
        probes = {c: probe(c, kind, passed) for c in ("connection.endpoint_reachability", "connection.rbac_session",
                                                      "connection.tls_fingerprint")}
        ev = evaluate(catalog, state._replace(probes=probes))
        return {c: ev.checks[c].ready for c in ("wiring.endpoint_contract", "wiring.tenant_context",
                                                "wiring.live_credentials")}

    assert set(wiring("postgresql").values()) == {True}
    assert set(wiring("sqlite").values()) == {False}
    assert set(wiring("postgresql", passed=False).values()) == {False}


async def test_every_decision_node_is_ready_exactly_when_its_decision_reads_ready(db: Path) -> None:
    from bfg_tui.engine import evaluate
    from bfg_tui.models import DECISION_READY

    catalog, state = await _state(db)
    go = catalog.go_no_go.id
    blocked, ready = evaluate(catalog, state), evaluate(catalog, _all_ready(catalog, state))
    assert blocked.decisions[go] != catalog.go_no_go.ready and ready.decisions[go] == catalog.go_no_go.ready
    for ev in (blocked, ready):
        for decision, value in ev.decisions.items():
            expected = value in (DECISION_READY, catalog.go_no_go.ready)
            assert ev.ready(f"decision:{decision}") is expected, decision


def _all_ready(catalog, state):
    """The state a reviewed PostgreSQL cutover reaches: every owner check accepted, every probe passed."""
    from bfg_tui.models import Acceptance, ProbeResult, SnapshotInfo

    snap = SnapshotInfo(1, 10, "ab" * 32, "t", {})
    accepted = {c.id: Acceptance(c.id, c.owner or "", "t", 1, snapshot_digest=snap.digest)
                for c in catalog.checks.values() if c.kind == "owner"}
    probes = {c.id: ProbeResult(c.id, True, "postgresql", "postgresql://db/bfg", "ok", "r", "t", 2,
                                snapshot_digest=snap.digest, tls=True, credentials_external=True)
              for c in catalog.checks.values() if c.kind == "probe"}
    scenario = state.scenario._replace(saved_at="t", records=len(catalog.record_kinds),
                                      kind_counts=dict.fromkeys(catalog.record_kinds, 1))
    return state._replace(scenario=scenario, snapshot=snap, acceptances=accepted, probes=probes, connection_endpoint="postgresql://db/bfg",
                          last_change_seq=3, last_release_export_seq=4)


def test_an_owner_acceptance_reads_accepted_and_a_countersignature_reads_countersigned(cli) -> None:
    assert cli("accept", "transition.db_schema", actor="user_accountant_olena").code == 0
    assert cli("accept", "transition.role_headers_mapped", actor=ANNA).code == 0  # owned by Marek
    checks = _checks(cli)
    assert checks["transition.db_schema"]["reason"] == "accepted by user_accountant_olena"
    assert checks["transition.role_headers_mapped"]["reason"] == "countersigned by user_md_anna"


def test_a_failed_probe_is_not_evidence_and_not_stale(cli, tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "target.db"
    result = cli("probe", "connection", str(target), actor=MAREK)
    assert result.code == 1
    checks = _checks(cli)
    failed = [c for c in checks.values() if c["reason"].startswith("failed: ")]
    assert failed, checks
    assert all(c["ready"] is False and c["stale"] is False for c in failed)
    assert status(cli)["stale"] == []


async def test_rule_once_identities_are_signed_an_unsigned_acceptance_no_longer_counts(db: Path) -> None:
    from bfg_tui.engine import evaluate
    from bfg_tui.models import Acceptance

    catalog, state = await _state(db)
    check = "transition.db_schema"
    unsigned = Acceptance(check, "user_accountant_olena", "t", 1)
    signed = unsigned._replace(key="SHA256:" + "k" * 43)
    ev = evaluate(catalog, state._replace(identity="signed", acceptances={check: unsigned}))
    assert ev.checks[check][:3] == (check, False, False)
    assert render(ev.checks[check].reason) == "self-asserted by user_accountant_olena, sign again"
    assert ev.stale == ()
    ev = evaluate(catalog, state._replace(identity="signed", acceptances={check: signed}))
    assert ev.checks[check][:3] == (check, True, False)
    assert render(ev.checks[check].reason) == "accepted by user_accountant_olena"
    # Before the roster exists, a self-asserted acceptance counts as it always did.
    assert evaluate(catalog, state._replace(acceptances={check: unsigned})).checks[check].ready is True


def test_every_check_says_why_it_is_or_is_not_ready(cli) -> None:
    assert cli("init").code == 0
    reasons = {c["id"]: (c["ready"], c["reason"]) for c in cli("checks", "--json").json()}
    assert reasons["transition.db_schema"] == (False, "waiting for Olena Shevchenko")  # the owner, by name
    assert reasons["dryrun.adapter_replay"] == (False, "waiting for the dry-run probe")
    assert reasons["connection.endpoint_reachability"] == (False, "waiting for the connection probe")
    assert reasons["contracts.providers_visible"] == (True, "ready")
    assert reasons["preflight.snapshot_payload"] == (False, "waiting for a frozen snapshot with records")
    # A derived check that is not ready names its first unmet dependency.
    assert reasons["runbook.freeze_snapshot"] == (False, "waiting for Snapshot payload 0 records")
    assert all(reason for _ready, reason in reasons.values())


async def test_an_owner_missing_from_the_actors_is_named_by_id(db: Path) -> None:
    from bfg_tui.engine import evaluate

    catalog, state = await _state(db)
    check = catalog.checks["transition.db_schema"]
    ghost = catalog._replace(checks={**catalog.checks, check.id: check._replace(owner="user_gone")})
    assert render(evaluate(ghost, state).checks[check.id].reason) == "waiting for user_gone"
