"""The catalog is data, validated at load with a one-line error naming the entry."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from bfg_tui.catalog import default_catalog, parse_catalog
from bfg_tui.errors import CatalogError


def raw() -> dict:
    return json.loads(resources.files("bfg_tui.assets").joinpath("catalog.json").read_text(encoding="utf-8"))


def check(doc: dict, cid: str) -> dict:
    return next(c for c in doc["checks"] if c["id"] == cid)


def test_shipped_catalog_loads() -> None:
    catalog = default_catalog()
    kinds = [c.kind for c in catalog.checks.values()]
    assert kinds.count("owner") == 15 and kinds.count("probe") == 9 and kinds.count("derived") == 33
    assert len(catalog.gates) == 9 and len(catalog.board) == 7 and len(catalog.actors) == 5
    assert len(catalog.providers) == 6


def test_unknown_owner() -> None:
    doc = raw()
    check(doc, "transition.db_schema")["owner"] = "user_ghost"
    with pytest.raises(CatalogError, match="check 'transition.db_schema' has unknown owner 'user_ghost'"):
        parse_catalog(doc)


def test_unknown_check_id_in_a_rule() -> None:
    doc = raw()
    check(doc, "runbook.freeze_snapshot")["rule"] = {"all": ["preflight.no_such_check"]}
    with pytest.raises(CatalogError, match="'runbook.freeze_snapshot' depends on unknown id 'preflight.no_such_check'"):
        parse_catalog(doc)


def test_duplicate_id() -> None:
    doc = raw()
    doc["checks"].append(copy.deepcopy(check(doc, "transition.db_schema")))
    with pytest.raises(CatalogError, match="duplicate check id 'transition.db_schema'"):
        parse_catalog(doc)


def test_dependency_cycle() -> None:
    # release may never depend on the runbook: runbook -> rollback -> release.
    doc = raw()
    check(doc, "release.env_vars")["rule"] = {"all": ["runbook.rollback_seal"]}
    with pytest.raises(CatalogError, match="dependency cycle"):
        parse_catalog(doc)


def test_decision_must_cover_its_gate() -> None:
    doc = raw()
    release = next(d for d in doc["decisions"] if d["id"] == "release")
    release["requires"][1]["all"].remove("release.env_vars")
    with pytest.raises(CatalogError, match="decision 'release' does not cover gate check 'release.env_vars'"):
        parse_catalog(doc)


def test_unknown_fact_and_missing_field() -> None:
    doc = raw()
    check(doc, "release.env_vars")["rule"] = {"fact": "always_true"}
    with pytest.raises(CatalogError, match="uses unknown fact 'always_true'"):
        parse_catalog(doc)
    doc = raw()
    del check(doc, "transition.db_schema")["kind"]  # its texts are messages (test_messages), not fields here
    with pytest.raises(CatalogError, match="check 'transition.db_schema' is missing 'kind'"):
        parse_catalog(doc)


# ---------------------------------------------------------------- lists derived from the catalog


def test_packets_are_declared_once_in_the_catalog() -> None:
    """Adding a packet is a catalog entry plus its builder: the CLI help, the schema names,
    the text layout, the cutover tab and the export dialog's keys all follow."""
    from bfg_tui.packets import _BUILDERS, PACKETS

    catalog = default_catalog()
    ids = [p.id for p in catalog.packets]
    assert list(PACKETS) == ids and PACKETS["dry_run"] == "ProductionAdapterDryRun.v1"
    assert set(_BUILDERS) | {"runbook"} == set(ids)
    assert {d.packet for d in catalog.decisions.values()} <= set(ids)
    assert [p.id for p in catalog.packets if p.layout == "line"] == ["cutover", "preflight"]


def test_export_dialog_has_a_key_for_every_packet() -> None:
    from bfg_tui.screens.modals import PACKET_KEYS

    assert set(PACKET_KEYS) == {p.id for p in default_catalog().packets}
    assert len(set(PACKET_KEYS.values())) == len(PACKET_KEYS)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["packets"][0].update(group="no_such_group"), "packet 'runbook' names unknown group 'no_such_group'"),
    (lambda d: d["packets"][1].update(layout="yaml"), "packet 'cutover' has unknown layout 'yaml'"),
    (lambda d: d["packets"].append(dict(d["packets"][0])), "duplicate packet id 'runbook'"),
    (lambda d: d["packets"].pop(0), "decision 'runbook' names unknown packet 'runbook'"),
])
def test_bad_packet_entries(mutate, message: str) -> None:
    doc = raw()
    mutate(doc)
    with pytest.raises(CatalogError, match=message):
        parse_catalog(doc)


def test_probe_checks_and_cutover_tabs_come_from_the_catalog() -> None:
    from bfg_tui.screens.cutover import TABS, Tab, tabs

    catalog = default_catalog()
    assert catalog.probe_checks("connection") == (
        "connection.endpoint_reachability", "connection.tls_fingerprint", "connection.rbac_session",
        "connection.write_probe")
    assert catalog.probe_checks("dry_run")[0] == "dryrun.snapshot_export" and len(catalog.probe_checks("dry_run")) == 5
    assert TABS == tabs(catalog) == (
        Tab("connection", "connection", "connection", probe="connection"),
        Tab("dry_run", "dry_run", "dry_run", probe="dry_run"),
        Tab("preflight", "preflight", "preflight"),
        Tab("runbook", "runbook", "runbook", "runbook"),
        Tab("data_cutover", "data_cutover", "cutover", "cutover"),
        Tab("release", "release", "release", "release"),
        Tab("rollback", "rollback", "rollback", "rollback"),
    )
    doc = raw()  # a packet for another gate group is one more tab, in gate order
    doc["packets"].append({"id": "contracts", "schema": "ProviderContracts.v1", "group": "contracts", "key": "k"})
    assert tabs(parse_catalog(doc))[0] == Tab("provider_contracts", "contracts", "contracts")


def test_rule_facts_are_the_engines() -> None:
    from bfg_tui.engine import FACTS

    used = {c.rule.fact for c in default_catalog().checks.values() if c.rule and c.rule.fact}
    assert used <= set(FACTS)
    doc = raw()
    fact_check = next(c for c in doc["checks"] if c.get("rule", {}).get("fact"))
    fact_check["rule"] = {"fact": "moon_phase"}
    with pytest.raises(CatalogError, match="uses unknown fact 'moon_phase'"):
        parse_catalog(doc)


def test_one_screen_registry() -> None:
    import importlib

    from bfg_tui.screens.base import MODE_ORDER, SCREENS

    assert MODE_ORDER == ("home", "providers", "rbac", "board", "cutover", "audit")
    for mode, path in SCREENS.items():
        module, cls = path.split(".")
        assert getattr(importlib.import_module(f"bfg_tui.screens.{module}"), cls).mode == mode


def test_export_help_lists_the_catalogs_packets(capsys: pytest.CaptureFixture[str]) -> None:
    from bfg_tui.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    listed = " ".join(capsys.readouterr().out.split())
    assert ", ".join(p.id.replace("_", "-") for p in default_catalog().packets) in listed
