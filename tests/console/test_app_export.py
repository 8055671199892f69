"""Pilot tests: the console's export dialog (packets by key, path shown, asks before replacing, refuses odd targets)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.helpers.console import screen_text, settle, widget_text

ANNA = "user_md_anna"


def exported(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("select packet, destination from exports order by event_seq").fetchall()


def export_folder() -> Path:
    return Path(os.environ["BFG_TUI_EXPORT_DIR"])


async def open_dialog(pilot) -> None:
    await pilot.press("x")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "ExportModal"


async def test_the_copilot_preselects_release_and_shows_path_and_format(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot)
        target = export_folder() / "bfg-release.env"
        shown = screen_text(app)
        assert "[r] release" in shown and "[b] rollback" in shown and "[w] wiring" in shown
        assert str(export_folder()) in shown and "BFG_TUI_EXPORT_DIR" in shown
        plan = widget_text(app.screen.query_one("#plan", Static))
        assert plan == f"Writes release as text to {target}"
        await pilot.press("enter")
        await settle(pilot)
    assert target.read_text().startswith("# ProductionReleaseHandoff.v1")
    assert exported(db) == [("release", "file:bfg-release.env")]
    assert stat.S_IMODE(export_folder().stat().st_mode) == 0o700  # the default folder, made on first use


async def test_the_export_dialog_chooses_release_with_one_key(make_app, db: Path) -> None:
    app = make_app(ANNA)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")  # the cutover console opens on the connection tab: its packet is preselected
        await settle(pilot)
        await open_dialog(pilot)
        assert app.screen.packet == "connection"
        await pilot.press("r")
        assert app.screen.packet == "release"
        target = export_folder() / "bfg-release.env"
        assert widget_text(app.screen.query_one("#plan", Static)) == f"Writes release as text to {target}"
        await pilot.press("m")  # markdown: the path follows the format
        md = export_folder() / "bfg-release.md"
        assert widget_text(app.screen.query_one("#plan", Static)) == f"Writes release as md to {md}"
        await pilot.press("enter")
        await settle(pilot)
        assert f"Exported release (md) to {md}" in widget_text(app.screen.query_one("#message", Static))
        # The clipboard (OSC 52) by key as well.
        await open_dialog(pilot)
        await pilot.press("b", "y", "enter")
        await settle(pilot)
        assert app.clipboard.startswith("# ProductionRollbackDrill.v1")
    assert md.read_text().startswith("# ProductionReleaseHandoff.v1")
    assert exported(db) == [("release", "file:bfg-release.md"), ("rollback", "clipboard:osc52")]


async def test_the_export_dialog_asks_before_replacing(make_app, db: Path) -> None:
    folder = export_folder()
    folder.mkdir()
    target = folder / "bfg-release.env"
    target.write_text("keep me\n")
    target.chmod(0o640)
    app = make_app(ANNA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot)
        assert "you will be asked" in widget_text(app.screen.query_one("#plan", Static))
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmModal"
        assert app.screen.question.startswith(f"{target} exists. Replace it")
        assert "Replace the file?" in screen_text(app)
        await pilot.press("n")  # no: the file stays, nothing is exported
        await settle(pilot)
        assert type(app.screen).__name__ == "ExportModal"
        assert target.read_text() == "keep me\n" and exported(db) == []
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")  # yes: replaced, its mode kept
        await settle(pilot)
    assert target.read_text().startswith("# ProductionReleaseHandoff.v1")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert exported(db) == [("release", "file:bfg-release.env")]


async def test_a_refused_target_shows_a_one_line_reason(make_app, db: Path, tmp_path: Path) -> None:
    folder = export_folder()
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (folder / "bfg-release.env").symlink_to(victim)
    app = make_app(ANNA)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "ExportModal"  # still open: change the path or cancel
        problem = widget_text(app.screen.query_one("#problem", Static))
        assert "is a symbolic link" in problem and "\n" not in problem
        await pilot.press("escape")
        await settle(pilot)
    assert victim.read_text() == "precious\n" and (folder / "bfg-release.env").is_symlink()
    assert exported(db) == []


@pytest.mark.slow  # walks every gate
async def test_the_focused_gate_s_packet_is_preselected(make_app, db: Path) -> None:
    from bfg_tui.screens.widgets import Table

    app = make_app(ANNA)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        gates = app.screen.query_one("#gates", Table)
        gates.focus()
        await pilot.pause()
        seen = {}
        for _ in range(gates.row_count):
            await open_dialog(pilot)
            seen[gates.current] = app.screen.packet
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("j")
        assert seen["data_cutover"] == "cutover" and seen["dry_run"] == "dry_run" and seen["runbook"] == "runbook"
        assert seen["provider_contracts"] == "release"  # a gate without a packet: the release packet
