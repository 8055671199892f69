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
    del check(doc, "transition.db_schema")["title"]
    with pytest.raises(CatalogError, match="check 'transition.db_schema' is missing 'title'"):
        parse_catalog(doc)
