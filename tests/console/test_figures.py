"""Every derived row shows its figure as the seed page words it, and says why it is not passing.

Table-driven from the catalog: every derived check has an expected figure at fresh state
(the seed's) and after the local walkthrough, checked in `bfg-tui checks --json`, in the
console's rows and, for the reasons, in `bfg-tui explain`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bfg_tui.catalog import default_catalog
from tests.helpers.console import settle
from tests.helpers.plan import follow, plan

pytestmark = pytest.mark.usefixtures("initialised")  # `checks` and `explain` are read verbs: they never create the store

# The seed page's figures at fresh state ("Schema map 1/7", "RBAC claims 5 aktorow", ...).
FRESH = {
    "contracts.providers_visible": ("6", "6"),
    "session.adapter_open": ("ScenarioStore.v1", "ScenarioStore.v1"),
    "preflight.snapshot_payload": ("0 records", "0 rekordów"),
    "preflight.schema_map": ("1/7", "1/7"),
    "preflight.rbac_claims": ("5 actors", "5 aktorów"),
    "preflight.adapter_replay": ("0/5", "0/5"),
    "preflight.rollback_evidence": ("Blocked", "Zablokowane"),
    "runbook.freeze_snapshot": ("0 / —", "0 / —"),
    "runbook.schema_rls": ("0/6", "0/6"),
    "runbook.actor_claims": ("5", "5"),
    "runbook.adapter_replay": ("0/4 + 0/5", "0/4 + 0/5"),
    "runbook.checksum_verification": ("1/5", "1/5"),
    "runbook.rollback_seal": ("BLOCKED_PENDING_DRY_RUN",) * 2,
    "cutover.snapshot_freeze": ("0 rows", "0 wierszy"),
    "cutover.seed_tenant_rls": ("1/6", "1/6"),
    "cutover.batch_replay": ("0/4 + 0/5", "0/4 + 0/5"),
    "cutover.audit_parity": ("1/4", "1/4"),
    "cutover.rollback_seal": ("BLOCKED_PENDING_DRY_RUN",) * 2,
    "release.env_vars": ("9", "9"),
    "release.adapter_target": ("1/7", "1/7"),
    "release.dry_run_transcript": ("0/5", "0/5"),
    "release.rollback_fallback": ("file-local", "file-local"),
    "release.owner_evidence": ("0/6", "0/6"),
    "rollback.freeze_window": ("BLOCKED_PENDING_DRY_RUN",) * 2,
    "rollback.storage_fallback": ("file-local", "file-local"),
    "rollback.audit_packet": ("ProductionRollbackDrill.v1",) * 2,
    "wiring.infrastructure_acceptance": ("0/4 + 0/4", "0/4 + 0/4"),
    "wiring.endpoint_contract": ("not recorded", "nie zapisano"),
    "wiring.tenant_context": ("single-tenant-local", "single-tenant-local"),
    "wiring.oidc_rbac_claims": ("5 actors", "5 aktorów"),
    "wiring.rls_policy_draft": ("RLS lint passes", "lint RLS przechodzi"),
    "wiring.secrets_backup_boundary": ("Secrets/backup pending", "Secrets/backup oczekuje"),
    "wiring.live_credentials": ("Blocked", "Zablokowane"),
}
# After the local walkthrough (the plan followed with a SQLite target); {rows}/{checksum} from status.
WALKED = {
    **{k: v[0] for k, v in FRESH.items()},
    "preflight.snapshot_payload": "{rows} records",
    "preflight.schema_map": "7/7",
    "preflight.adapter_replay": "5/5",
    "preflight.rollback_evidence": "file-local",
    "runbook.freeze_snapshot": "{rows} / {checksum}",
    "runbook.schema_rls": "6/6",
    "runbook.adapter_replay": "4/4 + 5/5",
    "runbook.checksum_verification": "5/5",
    "runbook.rollback_seal": "READY",
    "cutover.snapshot_freeze": "{rows} rows / {checksum}",
    "cutover.seed_tenant_rls": "6/6",
    "cutover.batch_replay": "4/4 + 5/5",
    "cutover.audit_parity": "4/4",
    "cutover.rollback_seal": "READY",
    "release.adapter_target": "7/7",
    "release.dry_run_transcript": "5/5",
    "release.owner_evidence": "6/6",
    "rollback.freeze_window": "READY",
    "wiring.infrastructure_acceptance": "4/4 + 4/4",
    "wiring.secrets_backup_boundary": "{secrets_backup}",
}
DERIVED = [c.id for c in default_catalog().checks.values() if c.kind == "derived"]


def test_every_derived_check_has_a_seed_figure() -> None:
    assert sorted(FRESH) == sorted(DERIVED) == sorted(WALKED)


def _values(cli, lang: str = "en") -> dict[str, str]:
    args = ("--lang", lang) if lang != "en" else ()
    return {r["id"]: r for r in cli(*args, "checks", "--json").json()}


def test_fresh_figures_and_reasons(cli) -> None:
    rows = _values(cli)
    for check_id in DERIVED:
        assert rows[check_id]["value"] == FRESH[check_id][0], check_id
        if not rows[check_id]["ready"]:
            assert rows[check_id]["reason"].startswith("waiting for "), rows[check_id]
    assert rows["preflight.adapter_replay"]["reason"] == "waiting for Dry-run 0/5"
    assert rows["runbook.rollback_seal"]["reason"] == "waiting for the rollback decision BLOCKED_PENDING_DRY_RUN"


def test_explain_shows_the_dependency_tree_with_each_state(cli) -> None:
    out = cli("explain", "runbook.adapter_replay").out.splitlines()
    assert out[0].startswith("-- runbook.adapter_replay") and "[0/4 + 0/5]" in out[0]
    assert "waiting for Connection 0/4" in out[0]
    assert any(line.startswith("  -- group:dry_run") and "[0/5]" in line for line in out)
    assert any("connection.write_probe" in line and "waiting for the connection probe" in line for line in out)
    assert cli("explain", "no.such_check").code == 2


def _walk(cli, tmp_path: Path) -> dict[str, str]:
    catalog = default_catalog()
    follow(cli, plan(cli), str(tmp_path / "target.db"), catalog)
    snap = cli("status", "--json").json()["snapshot"]
    return {"rows": snap["rows"], "checksum": snap["checksum"],
            "secrets_backup": catalog.checks["infra.secrets_backup"].value.example}


def test_figures_after_the_walkthrough(cli, tmp_path: Path) -> None:
    fill = _walk(cli, tmp_path)
    rows = _values(cli)
    for check_id in DERIVED:
        assert rows[check_id]["value"] == WALKED[check_id].format(**fill), check_id


def _shows(cell: str, figure: str, cid: str) -> None:
    """The row shows the figure, or its start cut with … where the column is narrower."""
    assert cell == figure or (cell.endswith("…") and figure.startswith(cell[:-1])), (cid, cell, figure)


@pytest.fixture
def walked(request, cli, tmp_path: Path) -> dict[str, str] | None:
    """The store after the local walkthrough (run before the console's event loop starts)."""
    return _walk(cli, tmp_path) if request.param else None


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "walked"), [("en", False), ("pl", False), ("en", True)], indirect=["walked"])
async def test_console_rows_show_the_figures(make_app, lang: str, walked: dict[str, str] | None) -> None:
    """Each cutover tab's and the copilot's derived rows show the figure in their row."""
    from bfg_tui.screens.cutover import TABS
    from bfg_tui.screens.widgets import CheckTable
    from textual.widgets import TabbedContent

    i = 0 if lang == "en" else 1
    expected = {k: v[i] for k, v in FRESH.items()}
    if walked is not None:
        expected = {k: v.format(**walked) for k, v in WALKED.items()}
    app = make_app(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen: set[str] = set()
        for table in app.screen.query(CheckTable):
            for row in range(table.row_count):
                cid = table._keys[row]
                if cid in expected:
                    _shows(str(table.get_row_at(row)[2]), expected[cid], cid)
                    seen.add(cid)
        await pilot.press("5")
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        for tab in TABS:
            tabs.active = tab.id
            await settle(pilot)
            table = app.screen.query_one(f"#checks-{tab.id}", CheckTable)
            for row in range(table.row_count):
                cid = table._keys[row]
                if cid in expected:
                    _shows(str(table.get_row_at(row)[2]), expected[cid], cid)
                    seen.add(cid)
        assert {c for c in DERIVED if not c.startswith(("contracts.", "session."))} <= seen


def _rendered(widget, width: int = 118) -> str:
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return " ".join(console.export_text().split())


SENTENCES = {
    "en": ("Production adapter setup · Integration console", "One settings surface drives",
           "Decision needed", "do not claim production readiness", "Infrastructure decision prompt",
           "keeps real DB/auth cutover blocked until infrastructure owners choose the live provider",
           "ready for local replay, not live production traffic", "Preflight not run",
           "infrastructure status: blocked", "not present in the MVP workspace",
           "Scenario contract ScenarioStore.v1", "Role actors 5", "Provider modes 6", "Preflight 1/5",
           "Transition steps 0/6", "Connection 0/4"),
    "pl": ("Konfiguracja adaptera produkcyjnego · Konsola integracji", "Jedna powierzchnia ustawień steruje",
           "Potrzebna decyzja", "nie deklaruj gotowości produkcyjnej", "Decyzja infrastruktury",
           "gotowy do lokalnego odtworzenia, nie do prawdziwego ruchu produkcyjnego", "Preflight nieuruchomiony",
           "status infrastruktury: zablokowany", "nie ma prawdziwych danych logowania ani sekretów",
           "Kontrakt scenariusza ScenarioStore.v1", "Aktorzy ról 5", "Tryby dostawców 6", "Preflight 1/5",
           "Kroki przejścia 0/6", "Połączenie 0/4"),
}


@pytest.mark.parametrize("lang", ("en", "pl"))
async def test_the_seed_sentences_and_summary_cards_are_back(make_app, lang: str) -> None:
    from textual.widgets import Static

    app = make_app(lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = " ".join(_rendered(w) for w in app.screen.query(Static) if w.id in (
            "summary", "decision-needed", "cards", "wiring-decision"))
        for sentence in SENTENCES[lang]:
            assert sentence in text, sentence
