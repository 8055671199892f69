"""Nothing planted reaches the terminal: the console's real output, captured at the driver.

An old store (written before the door) holds OSC 52 / OSC 2 / CSI 2J / C1 / bidi
sequences in a note, a value, a refused actor and subject, a probe endpoint and its
transcript. Every screen, the cutover tabs, the detail dialog, the actor picker, the
probe dialog and its toast are driven with Pilot, and every byte Textual writes to the
terminal is captured: none of the planted sequences may be among them.

Textual's test driver is headless and writes nothing; here it is replaced by one that
says it is not headless, so `App._display` renders each frame exactly as it would for a
terminal, and keeps the bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bfg_tui.store.base import ProbeRunRecord, StepRecord
from textual.drivers import headless_driver

from bfg_tui.service import Console, actor_context
from tests.helpers.console import settle

ANNA, OLENA = "user_md_anna", "user_accountant_olena"
OSC52 = "\x1b]52;c;ZXZpbA==\x1b\\"
OSC2 = "\x1b]2;pwned\x07"
CSI_CLEAR = "\x1b[2J"
C1 = "\x9b2J\x9d52;c;ZXZpbA==\x9c"
BIDI = "\u202eevil\u202c\u2066x\u2069\u200e\u200f\u061c"
EVIL = OSC52 + OSC2 + CSI_CLEAR + C1 + BIDI
# Textual writes escape sequences of its own (SGR, cursor moves, OSC 22 pointer shapes),
# but never these: each one found in the output came from the store.
PLANTED = ("\x1b]52", "\x1b]2;", "\x1b[2J", "\x9b", "\x9c", "\x9d", "\u202e", "\u202c", "\u2066", "\u2069",
           "\u200e", "\u200f", "\u061c")


class CapturingDriver(headless_driver.HeadlessDriver):
    """The headless driver, rendering frames and keeping what a terminal would receive."""

    output: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        CapturingDriver.output.append(data)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    CapturingDriver.output = []
    monkeypatch.setattr(headless_driver, "HeadlessDriver", CapturingDriver)
    return CapturingDriver.output


def assert_nothing_planted(output: list[str]) -> None:
    written = "".join(output)
    assert len(written) > 10_000, "the capture saw no frames"
    for sequence in PLANTED:
        at = written.find(sequence)
        assert at < 0, f"planted {sequence!r} reached the terminal: …{written[max(0, at - 80):at + 40]!r}…"


async def plant(db: Path) -> None:
    """Write hostile text below the door, as a store from before it would hold it (the trail stays intact)."""
    console = await Console.open(str(db))
    try:
        store = console.store
        await store.accept("infra.region_residency", actor_context(ANNA), note="note " + EVIL + "\nsecond line",
                           value="eu " + EVIL, snapshot_digest=None, countersign=False)
        await store.accept("transition.db_schema", actor_context(OLENA), note="ok " + EVIL, value=None,
                           snapshot_digest=None, countersign=False)
        await store.record_refusal("check.accept", "x" + EVIL, "unknown actor " + EVIL, actor_context("nobody" + EVIL))
        run = ProbeRunRecord(
            "run-evil", "connection", "sqlite", "sqlite:///tmp/t" + EVIL + ".db", "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z", (StepRecord("connection.endpoint_reachability", True, "reached " + EVIL),),
            ("connect " + EVIL, "done " + OSC52),
        )
        await store.record_probe(run, actor_context("user_dispatcher_marek"), selects_target=True)
    finally:
        await console.close()


async def open_detail(pilot, table_id: str, check_id: str) -> None:
    from bfg_tui.screens.modals import CheckDetail
    from bfg_tui.screens.widgets import CheckTable

    app = pilot.app
    table = app.screen.query_one(table_id, CheckTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(check_id))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CheckDetail)
    await pilot.pause()
    await pilot.press("escape")
    await settle(pilot)


@pytest.mark.slow  # every screen and dialog over a planted store
async def test_no_planted_sequence_reaches_the_terminal(make_app, db: Path, terminal: list[str]) -> None:
    from bfg_tui.screens.modals import ActorPicker, ProbeModal
    from textual import events
    from textual.widgets import Input

    await plant(db)
    app = make_app(actor=ANNA)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        await settle(pilot)
        for key in "123456":  # every screen
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        await open_detail(pilot, "#infrastructure", "infra.region_residency")  # value, note, history
        await pilot.press("5")
        await settle(pilot)
        for _ in range(8):  # every cutover tab; the connection tab shows the planted transcript
            await pilot.press("]")
            await settle(pilot)
            if app.screen.query("#checks-connection") and app.screen.query_one("#checks-connection").display:
                break
        await open_detail(pilot, "#checks-connection", "connection.endpoint_reachability")  # evidence
        await pilot.press("ctrl+a")  # the actor picker
        await settle(pilot)
        assert isinstance(app.screen, ActorPicker)
        await pilot.press("escape")
        await settle(pilot)
        # A probe target pasted with control characters is refused as it is pasted.
        table = app.screen.query_one("#checks-connection")
        table.focus()
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProbeModal)
        target = app.screen.query_one("#target", Input)
        before = target.value
        target.post_message(events.Paste("/tmp/t" + EVIL + ".db"))
        await settle(pilot)
        assert target.value == before
        await pilot.press("escape")
        await settle(pilot)
        # A refusal whose reason quotes stored text: the message line and the toast.
        app.refused("unknown actor 'nobody" + EVIL + "'")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
    written = "".join(terminal)
    assert "ZXZpbA==" in written and "pwned" in written  # the planted text was shown: made visible
    assert_nothing_planted(terminal)


async def test_a_hostile_actor_id_is_shown_visibly(make_app, db: Path, terminal: list[str]) -> None:
    app = make_app(actor="nobody" + EVIL, pick_actor=False)  # the top bar while loading, then "unknown actor"
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
    assert "pwned" in "".join(terminal)
    assert_nothing_planted(terminal)
