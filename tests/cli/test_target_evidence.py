"""Evidence per target: a probe of another target needs --new-target, a failed probe of a
mistyped path never erases the selected target's passing evidence, a passing one moves the
selection (and the old target's dry-run evidence goes stale)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.walkthrough import MAREK, probe_target


@pytest.fixture
def rehearsed(cli, frozen: Path, tmp_path: Path) -> Path:
    target = tmp_path / "target.db"
    probe_target(cli, target)
    return target


def _groups(cli) -> dict[str, dict[str, int]]:
    return cli("status", "--json").json()["groups"]


def test_another_target_needs_new_target(cli, rehearsed: Path, tmp_path: Path) -> None:
    before = _groups(cli)
    result = cli("probe", "connection", str(tmp_path / "other.db"), actor=MAREK)
    assert result.code == 1 and "--new-target" in result.err and len(result.err.strip().splitlines()) == 1
    assert _groups(cli) == before


def test_a_failed_probe_of_a_mistyped_path_keeps_the_passing_evidence(cli, rehearsed: Path, tmp_path: Path) -> None:
    mistyped = tmp_path / "no-such-dir" / "targte.db"
    result = cli("probe", "connection", "--new-target", str(mistyped), actor=MAREK)
    assert result.code == 1, result
    groups = _groups(cli)
    assert groups["connection"] == {"ready": 4, "total": 4}
    assert groups["dry_run"] == {"ready": 5, "total": 5}
    assert cli("status", "--json").json()["stale"] == []
    assert cli("audit", "verify").code == 0  # the trail's replay keeps the same evidence


def test_a_passing_new_target_becomes_selected_and_the_old_dry_run_goes_stale(cli, rehearsed: Path,
                                                                              tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    assert cli("probe", "connection", "--new-target", str(other), actor=MAREK).code == 0
    doc = cli("status", "--json").json()
    assert doc["groups"]["connection"] == {"ready": 4, "total": 4}
    assert doc["groups"]["dry_run"]["ready"] == 0
    assert "dryrun.adapter_replay" in doc["stale"]
    assert cli("probe", "dry-run", str(other), actor=MAREK).code == 0
    assert _groups(cli)["dry_run"] == {"ready": 5, "total": 5}
    assert cli("audit", "verify").code == 0
