"""The PostgreSQL walkthrough through the console: the probes by keyboard, to READY_FOR_REVIEWED_CUTOVER."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.backends import pg_console
from tests.helpers.console import press, screen_text, settle
from tests.helpers.keyboard import ANNA, MAREK, OLENA, VALUES, become, export_release, probe_connection_and_dry_run
from tests.helpers.pg_server import PgServer
from tests.helpers.walkthrough import signed_off_before_the_probes

pytestmark = pytest.mark.postgres
pytest.importorskip("psycopg")


async def test_console_walkthrough_against_postgresql_is_ready_for_reviewed_cutover(
    pg: PgServer, make_app, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    # The owner checks are the local walkthrough's (tested by keyboard there); here the
    # keyboard runs what PostgreSQL adds: the real connection wizard and dry-run.
    from bfg_tui.service import Console

    console = await Console.open(str(db))
    try:
        await signed_off_before_the_probes(console, VALUES)
    finally:
        await console.close()
    app = make_app(MAREK)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.view.ev.count("transition") == "6/6"
        await probe_connection_and_dry_run(pilot, pg.app_dsn)
        ev = app.view.ev
        assert ev.count("connection") == "4/4" and ev.count("dry_run") == "5/5"
        assert ev.count("wiring") == "7/7"
        assert ev.decisions["go_no_go"] == "BLOCKED_PENDING_DATA_CUTOVER"  # the release packet is not fresh

        # Anna exports the release packet last.
        await become(pilot, ANNA)
        await press(pilot, "left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert "BFG_RELEASE_DECISION=READY" in await export_release(pilot, tmp_path / "exports")

        await pilot.press("1")
        await settle(pilot)
        assert app.view.ev.decisions["go_no_go"] == "READY_FOR_REVIEWED_CUTOVER"
        text = screen_text(app)
        assert "READY_FOR_REVIEWED_CUTOVER" in text
        assert "password" not in text.lower()


async def test_console_walkthrough_on_the_shared_store_with_each_owners_own_login(
    pg: PgServer, make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The console's own store in PostgreSQL: Marek's console (his login) runs the probes,
    Anna's console (hers) exports the release packet, and both reach READY_FOR_REVIEWED_CUTOVER."""
    monkeypatch.chdir(tmp_path)
    async with pg_console(pg, monkeypatch) as (backend, owners):
        await signed_off_before_the_probes(owners, VALUES)
        await owners.close()  # the consoles below open their own
        marek = make_app(None, store=backend.at(MAREK))  # no --as: the login is Marek's
        async with marek.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert marek.actor_id == MAREK and marek.view.ev.count("transition") == "6/6"
            await probe_connection_and_dry_run(pilot, pg.app_dsn)
            assert marek.view.ev.count("dry_run") == "5/5" and marek.view.ev.count("wiring") == "7/7"
        anna = make_app(ANNA, store=backend.at(ANNA))
        async with anna.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await press(pilot, "5")
            await press(pilot, "left_square_bracket", "left_square_bracket")  # connection → rollback → release
            assert "BFG_RELEASE_DECISION=READY" in await export_release(pilot, tmp_path / "exports"), screen_text(anna)
            await pilot.press("1")
            await settle(pilot)
            assert anna.view.ev.decisions["go_no_go"] == "READY_FOR_REVIEWED_CUTOVER"
        # Another --as than the login's is refused: the console acts as nobody.
        wrong = make_app(ANNA, store=backend.at(OLENA))
        async with wrong.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert wrong.actor_id is None
            assert "login bfg_olena_login acts as user_accountant_olena; --as user_md_anna refused" in str(
                wrong.last_message)
