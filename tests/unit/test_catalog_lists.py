"""Lists the catalog already holds are read from it, never written out again in code.

Each test changes the catalog (one more packet or record kind, a packet schema renamed)
and finds the change wherever the list is used.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from bfg_tui.catalog import parse_catalog
from bfg_tui.models import Catalog, ScenarioInfo, State


def raw() -> dict[str, Any]:
    text = resources.files("bfg_tui.assets").joinpath("catalog.json").read_text(encoding="utf-8")
    return copy.deepcopy(json.loads(text))


def renamed() -> Catalog:
    """The catalog with every packet schema at version 2."""
    doc = raw()
    for packet in doc["packets"]:
        packet["schema"] = packet["schema"].replace(".v1", ".v2")
    return parse_catalog(doc)


def fresh(catalog: Catalog) -> State:
    return State(catalog.store_contract, None, None, ScenarioInfo(0, None, 0, {}))


# ---------------------------------------------------------------- packets


def test_a_new_packet_gets_its_key_in_the_export_dialog() -> None:
    from bfg_tui.screens.modals import FORMAT_KEYS, PACKET_KEYS, ExportModal, packet_keys

    doc = raw()
    doc["packets"].append({"id": "contracts", "schema": "ProviderContracts.v1", "group": "contracts", "key": "k"})
    keys = packet_keys(parse_catalog(doc))
    assert keys["contracts"] == "k" and list(keys)[:-1] == list(PACKET_KEYS)
    # The shipped keys collide neither with each other nor with the dialog's own keys.
    own = {b.key for b in ExportModal.BINDINGS if not b.action.startswith("packet(")} - set(FORMAT_KEYS.values())
    assert len(set(PACKET_KEYS.values())) == len(PACKET_KEYS)
    assert not set(PACKET_KEYS.values()) & (own | set(FORMAT_KEYS.values()))


@pytest.mark.parametrize(("key", "message"), [
    ("", "packet 'runbook' needs a one-letter key"),
    ("rb", "packet 'runbook' needs a one-letter key"),
    ("R", "packet 'runbook' needs a one-letter key"),
    ("c", "duplicate packet key 'c'"),
])
def test_a_bad_packet_key_is_refused(key: str, message: str) -> None:
    from bfg_tui.errors import CatalogError

    doc = raw()
    doc["packets"][0]["key"] = key
    with pytest.raises(CatalogError, match=message):
        parse_catalog(doc)


def test_release_evidence_names_the_dry_run_packets_schema() -> None:
    from bfg_tui.engine import release_env

    catalog = renamed()
    env = release_env(catalog, fresh(catalog), "BLOCKED_PENDING_DRY_RUN")
    assert env["BFG_RELEASE_EVIDENCE"] == "ProductionAdapterDryRun.v2"


def test_the_audit_packet_figure_names_its_groups_packet() -> None:
    from bfg_tui.engine import evaluate
    from bfg_tui.figures import value

    catalog = renamed()
    state = fresh(catalog)
    assert value(catalog, state, evaluate(catalog, state), "rollback.audit_packet") == "ProductionRollbackDrill.v2"


def test_the_runbook_header_names_the_runbook_packets_schema() -> None:
    from bfg_tui.runbook import render_runbook

    text = render_runbook({"source": "x"}, renamed().packet("runbook").schema)
    assert text.splitlines()[:2] == ["-- ProductionAdapterMigrationRunbook.v2", "-- source=x"]


async def test_the_probe_transcript_names_the_probes_packet_schema(db: Path, tmp_path: Path) -> None:
    from bfg_tui.probes.runner import Prober, open_target, run_probe
    from bfg_tui.service import SYSTEM_ACTOR, Console, open_store

    catalog = renamed()
    console = await Console.open(str(db))
    try:
        prober = Prober("user_dispatcher_marek", tuple(console.claims(a.id) for a in console.catalog.actors))
        system = console.acting(SYSTEM_ACTOR)

        async def target_store(location: str):  # type: ignore[no-untyped-def]
            return await open_store(location, catalog, adopt=True)

        lines: list[str] = []
        record = await run_probe(console.store, str(tmp_path / "t.db"), prober, lines.append, probe="connection",
                                 catalog=catalog, open_target=lambda t: open_target(t, catalog, target_store, system))
    finally:
        await console.close()
    assert "] ProductionAdapterConnection.v2 run run-" in record.transcript[0]


# ---------------------------------------------------------------- record kinds


def test_a_new_record_kind_is_counted_and_generated_in_catalog_order() -> None:
    from bfg_tui.scenario import kind_counts_for, record_count
    from bfg_tui.scenario_rows import demo_records, demo_rows

    doc = raw()
    doc["record_kinds"].insert(3, "customs_declarations")
    doc["kind_tables"]["customs_declarations"] = "scenario_records"
    catalog = parse_catalog(doc)
    counts = kind_counts_for(catalog, 4)
    assert list(counts) == list(catalog.record_kinds) and counts["customs_declarations"] == 0
    assert counts["users"] == len(catalog.actors) and counts["driver_events"] == 12
    assert Counter(k for k, _, _ in demo_rows(catalog, 4)) == {k: n for k, n in counts.items() if n}
    assert Counter(k for k, _, _ in demo_records(catalog, 4)) == {k: n for k, n in counts.items() if n}
    assert record_count(catalog, 4) == sum(counts.values())


def test_a_catalog_without_a_generated_kind_is_refused_by_name() -> None:
    from bfg_tui.scenario_rows import demo_records

    doc = raw()
    doc["record_kinds"].remove("payments")
    for batch in doc["batches"]:
        batch["kinds"] = [k for k in batch["kinds"] if k != "payments"]
    with pytest.raises(ValueError, match="the catalog has no record kind 'payments'"):
        list(demo_records(parse_catalog(doc), 1))
