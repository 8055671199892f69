"""The thin App: requests are message classes handled by the flows, the screens watch the
App's reactives, and who may act is the service's answer, never the App's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bfg_tui.screens.messages import (
    AcceptRequested,
    ConsoleRequest,
    DetailRequested,
    ExportRequested,
    FreezeRequested,
    ProbeRequested,
    RevokeRequested,
    SaveRequested,
    SwitchActorRequested,
)
from textual.message import Message
from textual.widgets import Static

from bfg_tui.i18n import t
from tests.helpers.console import screen_text, service_do, settle, widget_text

ANNA, OLENA = "user_md_anna", "user_accountant_olena"


async def _dialog_for(app: Any, pilot: Any, request: object) -> str:
    """Post one request to the App; the name of the dialog it opens (closed again with escape)."""
    app.post_message(request)
    await settle(pilot)
    name = type(app.screen).__name__
    if name != "HomeScreen":
        await pilot.press("escape")
        await settle(pilot)
    return name


async def test_each_request_is_a_message_class_with_its_flow(make_app, db: Path) -> None:
    await service_do(db, ("accept", (ANNA, "transition.contracts_frozen"), {}))
    app = make_app(ANNA)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await _dialog_for(app, pilot, AcceptRequested("transition.db_schema")) == "AcceptModal"
        assert await _dialog_for(app, pilot, RevokeRequested("transition.contracts_frozen")) == "ConfirmModal"
        assert await _dialog_for(app, pilot, DetailRequested("transition.db_schema")) == "CheckDetail"
        assert await _dialog_for(app, pilot, ProbeRequested("connection", "connection")) == "ProbeModal"
        assert await _dialog_for(app, pilot, SaveRequested()) == "ConfirmModal"
        assert await _dialog_for(app, pilot, FreezeRequested()) == "ConfirmModal"
        assert await _dialog_for(app, pilot, SwitchActorRequested()) == "ActorPicker"
        app.post_message(ExportRequested("runbook"))
        await settle(pilot)
        assert type(app.screen).__name__ == "ExportModal" and app.screen.packet == "runbook"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        assert await _dialog_for(app, pilot, ProbeRequested(None, "transition.db_schema")) == "HomeScreen"
        assert "transition.db_schema" in str(app.last_message)  # not a probe check: said in place


async def test_check_keys_post_the_requests(make_app, db: Path) -> None:
    from bfg_tui.screens.widgets import CheckTable

    app = make_app(ANNA)
    seen: list[object] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#queue", CheckTable)
        table.focus()
        original = table.post_message

        def spy(message: Message) -> bool:  # the requests are noted, not sent: no dialog opens
            if isinstance(message, ConsoleRequest):
                seen.append(message)
                return True
            return original(message)

        table.post_message = spy  # type: ignore[method-assign]
        for key in ("a", "r", "enter", "p"):
            await pilot.press(key)
        assert [type(m) for m in seen] == [AcceptRequested, RevokeRequested, DetailRequested, ProbeRequested]
        assert {m.check_id for m in seen[:3]} == {table.current}  # type: ignore[attr-defined]
        assert seen[3].probe is None and seen[3].subject == table.current  # type: ignore[attr-defined]


async def test_the_screens_watch_the_apps_view_and_message(make_app, db: Path) -> None:
    from bfg_tui.screens.base import View

    app = make_app(ANNA)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "2/9 integration gates are ready" in screen_text(app)
        # Another process changes the store; the App is handed the new evaluation, nothing else.
        await service_do(db, ("save_scenario", (ANNA,), {}), ("freeze", (ANNA,), {}))
        state, ev = await app.service.evaluate()
        app.view = View(app.service.catalog, state, ev)
        await pilot.pause()
        assert f"checksum {state.snapshot.checksum}" in widget_text(app.screen.query_one("#summary", Static))
        app.last_message = "said once, shown where the user looks"
        await pilot.pause()
        assert widget_text(app.screen.query_one("#message", Static)) == "said once, shown where the user looks"


async def test_the_dialog_follows_the_services_answer(make_app, db: Path) -> None:
    from bfg_tui.service import Verdict

    app = make_app(OLENA)
    asked: list[tuple[object, ...]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        service = app.service

        may = app.may  # the key bar asks too (through app.may), to dim keys: not counted here

        def can(actor_id: str | None, action: str, check_id: str | None = None) -> Verdict:
            if not dimming:
                asked.append((actor_id, action, check_id))
            return Verdict(True, None, countersign=True)  # the service's word, even on her own check

        def may_for_keys(action: str, check_id: str | None = None) -> bool:
            nonlocal dimming
            dimming = True
            try:
                return may(action, check_id)
            finally:
                dimming = False

        dimming = False
        service.can = can
        app.may = may_for_keys
        app.post_message(AcceptRequested("transition.db_schema"))
        await settle(pilot)
        assert asked == [(OLENA, "check.accept", "transition.db_schema")]
        assert type(app.screen).__name__ == "AcceptModal"
        assert "countersign" in screen_text(app).lower()


async def test_an_unexpected_errors_text_is_scrubbed_before_it_is_shown(make_app, monkeypatch) -> None:
    """One scrubber: a known secret (the libpq password in the environment) is cut out and the
    rest shown; text that still looks like it holds a secret is withheld, in the console's language."""
    canary = "Canary-Pw-7f3a91"
    monkeypatch.setenv("PGPASSWORD", canary)
    app = make_app(ANNA)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)

        async def fails(message: str) -> Any:
            raise RuntimeError(message)

        await app.act(fails(f"server said: authentication failed, tried {canary} as the password"))
        shown = str(app.last_message)
        assert canary not in shown
        assert "RuntimeError: server said: authentication failed, tried *** as the password" in shown
        await app.act(fails("connect to postgresql://u:Other-Secret-93@h/db failed"))
        shown = str(app.last_message)
        assert "Other-Secret-93" not in shown and t("app.secret_error", "en") in shown
