"""The console walkthrough by keyboard alone: tab to a table, j/k to a row, accept, switch actor, probe."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.console import confirm, press, screen_text, settle, widget_text

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
ACTOR_ORDER = [ANNA, MAREK, OLENA, "driver_tarasenko", "cp_client_lviv_farma"]
VALUES = {  # short, so the typing stays quick
    "provider.live_db_auth_provider": "PG15",
    "provider.auth_rbac_owner": "OIDC",
    "provider.tenant_secrets_boundary": "RLS",
    "provider.live_wiring_go_no_go": "stg",
    "infra.hosting_provider": "HCloud",
    "infra.region_residency": "EU",
    "infra.runtime_owner": "marek",
    "infra.secrets_backup": "RPO15",
}


async def focus_table(pilot, table_id: str) -> None:
    """Tab until the table has focus (keyboard only)."""
    for _ in range(30):
        if pilot.app.focused is not None and pilot.app.focused.id == table_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"could not tab to #{table_id}")


async def cursor_to(pilot, check_id: str) -> None:
    """j/k the cursor to the check (the test reads the rows to know how far to go)."""
    table = pilot.app.focused
    target = table.get_row_index(check_id)
    step = target - table.cursor_row
    if step:
        await pilot.press(*(["j"] * step if step > 0 else ["k"] * -step))
    assert table.current == check_id


async def accept(pilot, table_id: str, check_id: str, value: str = "") -> None:
    await focus_table(pilot, table_id)
    await cursor_to(pilot, check_id)
    await pilot.press("a")
    await settle(pilot)
    if value:
        await pilot.press(*value, "enter")  # value, then on to the note
    await pilot.press("enter")  # the note (empty)
    await settle(pilot)
    await pilot.press("enter")  # confirm
    await settle(pilot)
    assert pilot.app.view.ev.checks[check_id].ready, widget_text(pilot.app.screen.query_one("#message"))


async def become(pilot, actor: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+a")
    await settle(pilot)
    step = ACTOR_ORDER.index(actor) - ACTOR_ORDER.index(app.actor_id)
    await pilot.press(*(["j"] * step if step > 0 else ["k"] * -step), "enter")
    await settle(pilot)
    assert app.actor_id == actor


async def probe(pilot, target: str | None = None) -> None:
    await pilot.press("p")
    await settle(pilot)
    if target is not None:
        await pilot.press("home", "ctrl+k", *target)
    await pilot.press("enter")
    await settle(pilot)
    assert pilot.app.screen.outcome == "passed", screen_text(pilot.app)
    await pilot.press("enter")
    await settle(pilot)


async def save_and_freeze_by_keys(pilot) -> None:
    """On the copilot: s saves the scenario, f freezes it, each confirmed with enter."""
    await confirm(pilot, "s")
    await confirm(pilot, "f")


async def probe_connection_and_dry_run(pilot, target: str) -> None:
    """On the cutover console: the connection wizard against `target`, then the dry-run (its
    target defaults to the one the connection ran against)."""
    await press(pilot, "5")
    await probe(pilot, target)
    await press(pilot, "right_square_bracket")
    await probe(pilot)


async def export_release(pilot, exports: Path) -> str:
    """x, enter: the release packet (preselected on the release tab) to its default file; its text."""
    await confirm(pilot, "x")
    return (exports / "bfg-release.env").read_text()
