"""Pilot tests: every screen shows the engine's figures for the fresh demo; shell features."""

from __future__ import annotations

from pathlib import Path

import pytest
from bfg_tui.screens.widgets import RowTable
from textual.widgets import Static, TabbedContent

from tests.helpers.console import press, running, screen_text, service_do, settle, wait_until, widget_text

ANNA = "user_md_anna"


async def test_the_first_frame_is_the_data(make_app, db: Path) -> None:
    await service_do(db)  # an existing store, as on every start but the very first
    assert db.exists()
    app = make_app(first_frame_wait=60)  # never the loading frame here, however busy the machine
    async with app.run_test(size=(120, 40)):
        # The first frame already shows the figures, read before the console service opened.
        assert app.view is not None
        text = screen_text(app)
        assert "2/9 integration gates are ready" in text and "Opening the store" not in text
        assert "go/no-go BLOCKED_PENDING_DRY_RUN" in text
        assert "acting as Anna Kowalska (user_md_anna · Managing Director)" in text


async def test_a_store_slower_than_the_wait_gets_a_loading_frame_first(make_app, db: Path) -> None:
    app = make_app(first_frame_wait=0)
    async with app.run_test(size=(120, 40)) as pilot:
        # The first frame: a loading top bar, no store yet.
        assert app.view is None
        assert "Opening the store" in screen_text(app)
        await settle(pilot)
        assert app.view is not None and db.exists()
        assert "go/no-go BLOCKED_PENDING_DRY_RUN" in screen_text(app)


async def test_the_console_opens_its_service_after_a_data_first_frame(make_app, db: Path) -> None:
    await service_do(db)
    app = make_app(first_frame_wait=60)
    async with running(app) as pilot:
        assert app.service is not None
        await service_do(db, ("accept", (ANNA, "transition.contracts_frozen"), {}))
        await app.poll()  # the service's data version saw the CLI's commit
        await settle(pilot)
        assert "transition.contracts_frozen" in app.view.state.acceptances


async def test_home_shows_the_fresh_figures(make_app) -> None:
    app = make_app()
    async with running(app):
        screen = app.screen
        summary = widget_text(screen.query_one("#summary", Static))
        assert "2/9 integration gates are ready for db-auth-session-adapter." in summary
        assert "BLOCKED_PENDING_DRY_RUN" in widget_text(screen.query_one("#gonogo", Static))
        rec = widget_text(screen.query_one("#recommended", Static))
        assert "Record adapter connection evidence" in rec and "0/4" in rec
        gates = screen.query_one("#gates", RowTable)
        assert [str(gates.get_row_at(i)[1]) for i in range(gates.row_count)] == [
            "1/1", "1/1", "0/4", "0/5", "1/5", "1/6", "0/5", "3/5", "0/4"]
        blockers = screen.query_one("#blockers", RowTable)
        assert blockers.row_count > 0 and blockers.get_row_at(0)[1] == "Endpoint reachability"
        assert screen.query_one("#provider-selection", RowTable).row_count == 4
        assert screen.query_one("#infrastructure", RowTable).row_count == 4
        assert screen.query_one("#wiring", RowTable).row_count == 7
        wiring = widget_text(screen.query_one("#wiring-decision", Static))
        assert "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS" in wiring and "production_traffic_disabled" in wiring
        assert "acting as Anna Kowalska (user_md_anna · Managing Director)" in screen_text(app)


async def test_number_keys_switch_all_six_screens(make_app) -> None:
    app = make_app()
    async with running(app) as pilot:
        expected = {"1": "HomeScreen", "2": "ProvidersScreen", "3": "RbacScreen", "4": "BoardScreen",
                    "5": "CutoverScreen", "6": "AuditScreen"}
        for key, name in [*expected.items(), ("1", "HomeScreen")]:
            await press(pilot, key)
            assert type(app.screen).__name__ == name
            assert "acting as Anna Kowalska" in screen_text(app)  # the badge is always there


async def test_providers_screen(make_app) -> None:
    app = make_app()
    async with running(app, "2"):
        table = app.screen.query_one("#providers", RowTable)
        assert table.row_count == 6
        assert [str(c) for c in table.get_row_at(0)] == ["Scenario store", "file-local", "→", "Postgres/RLS",
                                                          "ScenarioStore.v1"]
        text = screen_text(app)
        assert "Last save        none yet" in text
        assert "single-tenant-local → tenant-rbac" in text
        rollout = app.screen.query_one("#rollout", RowTable)
        assert [rollout.get_row_at(i)[1] for i in range(3)] == ["file-local", "db-auth-session-adapter",
                                                                "tenant-rbac-adapter"]


async def test_rbac_screen_shows_claims_and_owned_checks(make_app) -> None:
    app = make_app()
    async with running(app, "3") as pilot:
        actors = app.screen.query_one("#actors", RowTable)
        assert actors.row_count == 5
        actors.focus()
        await pilot.press("j")  # Marek
        await pilot.pause()
        assert "Checks owned by Marek Zielinski" in widget_text(app.screen.query_one("#owned", Static))
        assert "transition.role_headers_mapped" in widget_text(app.screen.query_one("#owned", Static))
        claims = app.screen.claims_json
        import json

        doc = json.loads(claims)
        assert doc["sub"] == "user_dispatcher_marek" and "probes.run" in doc["permissions"]


async def test_decision_board_screen(make_app) -> None:
    app = make_app()
    async with running(app, "4"):
        board = app.screen.query_one("#board", RowTable)
        assert board.row_count == 7
        evidence = [str(board.get_row_at(i)[3]) for i in range(7)]
        # The migration dry-run row needs the dry-run evidence as well as the owner's tick.
        assert evidence == ["Target locked", "0/2 checks accepted", "0/2 checks accepted", "0/1 checks accepted",
                            "0/1 checks accepted + Dry-run 0/5", "0/2 checks accepted", "0/6 checks accepted"]
        assert app.screen.query_one("#transition", RowTable).row_count == 6
        assert "Decision board 1/7" in widget_text(app.screen.query_one("#board-intro", Static))


async def test_cutover_console_tabs(make_app) -> None:
    app = make_app()
    async with running(app, "5") as pilot:
        tabs = app.screen.query_one(TabbedContent)
        assert [p.id for p in tabs.query("TabPane")] == [
            "connection", "dry_run", "preflight", "runbook", "data_cutover", "release", "rollback"]
        await pilot.press("right_square_bracket")
        assert tabs.active == "dry_run"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tabs.active == "rollback"
        tabs.active = "runbook"
        await settle(pilot)
        text = screen_text(app)
        assert "Migration runbook 1/6" in text and "BLOCKED_PENDING_PREFLIGHT" in text
        tabs.active = "release"
        await settle(pilot)
        packet = widget_text(app.screen.query_one("#pane-release .packet", Static))
        assert "BFG_RELEASE_DECISION=BLOCKED_PENDING_DRY_RUN" in packet
        tabs.active = "data_cutover"
        await settle(pilot)
        assert "Batch groups holding rows: 1/4" in widget_text(app.screen.query_one("#pane-data_cutover .batches"))


async def test_audit_trail_pages_and_filters(make_app, db: Path) -> None:
    await service_do(db, *[("accept", (ANNA, "transition.contracts_frozen"), {"note": "x"}),
                           ("revoke", (ANNA, "transition.contracts_frozen"), {})] * 3,
                     ("accept", ("driver_tarasenko", "transition.db_schema"), {}))  # refused, recorded
    app = make_app()
    async with running(app, "6") as pilot:
        events = app.screen.query_one("#events", RowTable)
        assert events.row_count == 8
        assert events.get_row_at(0)[3] == "action.refused"  # newest first
        assert "chain ok: 8 events" in widget_text(app.screen.query_one("#chain", Static))
        await pilot.press("slash")
        await press(pilot, *"revoke")
        assert events.row_count == 3
        assert "events 1–3 of 3" in widget_text(app.screen.query_one("#page", Static))


async def test_audit_trail_never_loads_everything(make_app, db: Path, monkeypatch) -> None:
    from bfg_tui.screens import audit

    monkeypatch.setattr(audit, "PAGE", 2)
    await service_do(db, *[("accept", (ANNA, "transition.contracts_frozen"), {"note": "x"}),
                           ("revoke", (ANNA, "transition.contracts_frozen"), {})] * 2)
    app = make_app()
    async with running(app, "6") as pilot:
        events = app.screen.query_one("#events", RowTable)
        assert events.row_count == 2 and events.get_row_at(0)[0] == "5"
        await press(pilot, "right_square_bracket")
        assert events.row_count == 2 and events.get_row_at(0)[0] == "3"
        assert "events 3–4 of 5" in widget_text(app.screen.query_one("#page", Static))


async def test_polish(make_app) -> None:
    app = make_app(lang="pl")
    async with running(app) as pilot:
        text = screen_text(app)
        assert "działasz jako Anna Kowalska (user_md_anna · Dyrektor)" in text
        assert "Zapisz scenariusz" in text  # the footer is Polish too
        await press(pilot, "2")
        text = screen_text(app)
        assert "Ostatni zapis" in text and "Jeszcze bez zapisu" in text
        await press(pilot, "4")
        board = app.screen.query_one("#board", RowTable)
        assert str(board.get_row_at(1)[3]) == "zaakceptowane kontrole: 0/2"
        transition = app.screen.query_one("#transition", RowTable)
        assert transition.get_row_at(0)[1] == "Kontrakty zamrożone"
        assert "czeka na: Anna Kowalska" in str(transition.get_row_at(0)[3])


def test_language_defaults_from_the_locale() -> None:
    from bfg_tui.i18n import default_lang

    assert default_lang({"LANG": "pl_PL.UTF-8"}) == "pl"
    assert default_lang({"LC_ALL": "en_US.UTF-8", "LANG": "pl_PL.UTF-8"}) == "en"
    assert default_lang({}) == "en"


@pytest.mark.parametrize("key", ["f1", "question_mark"])
async def test_help_for_the_focused_part(make_app, key: str) -> None:
    app = make_app()
    async with running(app, "4") as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        assert "A check list" in screen_text(app) and "check.accept" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_every_binding_has_an_id_and_a_tooltip(make_app) -> None:
    import importlib

    from bfg_tui.screens.base import ConsoleScreen
    from textual.binding import Binding

    app = make_app()
    classes: list[type] = [type(app)]
    for module in ("home", "providers", "rbac", "board", "cutover", "audit", "widgets", "modals"):
        mod = importlib.import_module(f"bfg_tui.screens.{module}")
        classes += [c for c in vars(mod).values()
                    if isinstance(c, type) and c.__module__ == mod.__name__ and "BINDINGS" in vars(c)]
    from bfg_tui.i18n import known

    assert ConsoleScreen not in classes
    for cls in classes:
        for binding in vars(cls)["BINDINGS"]:
            assert isinstance(binding, Binding) and binding.id and binding.tooltip, (cls, binding)
            assert known(f"bind.{binding.id}") and known(f"tip.{binding.id}"), binding.id


async def test_keymap_file_remaps_keys(make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "keymap.toml").write_text('[keymap]\n"screen.audit" = "f6"\n"check.accept" = "A"\n')
    app = make_app()
    async with running(app, "f6"):
        assert type(app.screen).__name__ == "AuditScreen"


async def test_command_palette_lists_the_screens(make_app) -> None:
    from textual.command import CommandList

    app = make_app()
    async with running(app) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"audit")

        def audit_offered() -> bool:  # the palette gathers its hits in the background
            hits = app.screen.query_one(CommandList)
            return hits.highlighted is not None and "Audit" in str(hits.options[hits.highlighted].prompt)

        await wait_until(pilot, audit_offered, failure="the palette never offered the audit trail")
        await press(pilot, "enter")
        assert type(app.screen).__name__ == "AuditScreen"


async def test_theme_toggle_and_small_terminal(make_app) -> None:
    app = make_app()
    async with running(app, size=(80, 24)) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        text = screen_text(app)
        assert "go/no-go BLOCKED_PENDING_DRY_RUN" in text and "as Anna Kowalska" in text


async def test_no_color_is_honoured(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with running(app, size=(80, 24)):
        assert app.no_color
        assert "ok" in screen_text(app) or "--" in screen_text(app)  # states read without colour


def test_service_messages_say_the_same_in_both_languages() -> None:
    """Each message id's English is the service's own sentence; each has its Polish."""
    from bfg_tui import rbac
    from bfg_tui.catalog import default_catalog
    from bfg_tui.i18n import message_text, t

    cat = default_catalog()
    anna, driver, olena = cat.actor(ANNA), cat.actor("driver_tarasenko"), cat.actor("user_accountant_olena")
    derived = next(c.id for c in cat.checks.values() if c.kind == "derived")
    reasons = [
        rbac.resolve_actor(cat, None), rbac.resolve_actor(cat, "nobody"), rbac.may(cat, driver, "scenario.save"),
        rbac.may_sign(cat, anna, "no.such_check"), rbac.may_sign(cat, anna, "connection.endpoint_reachability"),
        *(rbac.may_sign(cat, driver, "transition.db_schema", verb) for verb in ("accept", "revoke")),
        *(rbac.may_sign(cat, olena, "transition.contracts_frozen", verb) for verb in ("accept", "revoke")),
        *(rbac.may_sign(cat, anna, derived, verb) for verb in ("accept", "revoke")),
    ]
    for reason in reasons:
        english, polish = t(f"msg.{reason.code}", "en"), t(f"msg.{reason.code}", "pl")
        assert english.format(**reason.params) == reason and english != polish
        assert message_text(reason, "en") == reason and message_text(reason, "pl") == polish.format(**reason.params)


@pytest.mark.parametrize(("key", "focused"), [("2", "providers"), ("3", "actors"), ("4", "transition"),
                                              ("6", "events")])
async def test_a_screen_lands_on_its_list_with_its_heading_in_view(make_app, key: str, focused: str) -> None:
    """Landing focuses the screen's list without scrolling the page: its heading stays on screen."""
    app = make_app()
    async with running(app, key) as pilot:
        await wait_until(pilot, lambda: app.screen.focused is not None and app.screen.focused.id == focused,
                         failure=lambda: f"focused {app.screen.focused!r}")
        await settle(pilot)
        scrolled = [w for w in app.screen.query("*") if w.is_scrollable and not isinstance(w, RowTable) and w.scroll_y]
        assert not scrolled
