"""SPEC §4 "Fresh state": a brand-new store shows exactly the seed's figures."""

from __future__ import annotations

import pytest

from tests.helpers.fresh import FRESH_DECISIONS, FRESH_GROUPS

pytestmark = pytest.mark.usefixtures("initialised")  # read verbs never create a store


def test_fresh_status_json_matches_spec_field_by_field(cli) -> None:
    result = cli("status", "--json")
    assert result.code == 0, result
    doc = result.json()
    assert set(doc["groups"]) == set(FRESH_GROUPS)
    for gid, (ready, total) in FRESH_GROUPS.items():
        assert doc["groups"][gid] == {"ready": ready, "total": total}, gid
    assert doc["decisions"] == FRESH_DECISIONS
    assert doc["recommended_action"]["gate"] == "connection"
    assert doc["recommended_action"]["title"] == "Record adapter connection evidence"
    assert doc["recommended_action"]["detail"] == (
        "Connection checks show 0/4; record the redacted endpoint packet before dry-run."
    )
    assert doc["snapshot"]["rows"] == 0
    assert doc["snapshot"]["checksum"] is None
    assert doc["stale"] == []
    assert doc["scenario"]["last_save"] is None


def test_fresh_status_is_the_same_on_the_second_read(cli) -> None:
    # Both read the store `init` created and seeded, on the fast path.
    first = cli("status", "--json").json()
    second = cli("status", "--json").json()
    assert first == second


def test_status_exit_code_is_3_while_blocked(cli) -> None:
    assert cli("status", "--exit-code").code == 3
    assert cli("status").code == 0
