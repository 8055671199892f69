"""The cutover console lists each target's latest connection and dry-run runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.helpers.console import settle, widget_text
from tests.helpers.walkthrough import MAREK, probe_target


@pytest.fixture
def two_targets(cli, frozen: Path, tmp_path: Path) -> Path:
    """Both probes passed into target.db, then a failed connection probe of a mistyped new target."""
    probe_target(cli, tmp_path / "target.db")
    assert cli("probe", "connection", "--new-target", str(tmp_path / "nope" / "t.db"), actor=MAREK).code == 1
    return tmp_path / "target.db"


async def test_the_cutover_console_lists_each_targets_latest_evidence(make_app, two_targets: Path) -> None:
    app = make_app(actor=MAREK)
    assert app.animation_level == "none"  # Pilot never waits on a tab's underline
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        text = widget_text(app.screen.query_one("#pane-connection .targets", Static))
        lines = text.splitlines()
        assert len(lines) == 2, text
        selected = next(line for line in lines if line.startswith("▶"))
        assert "target.db" in selected and "selected" in selected and "connection passed" in selected
        assert "dry-run passed" in selected
        other = next(line for line in lines if not line.startswith("▶"))
        assert "nope" in other and "connection failed" in other
