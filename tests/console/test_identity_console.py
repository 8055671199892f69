"""The console in a signed store: the key decides who acts, the picker offers only actors whose keys are here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.console import screen_text, settle
from tests.helpers.identity import signed_store
from tests.helpers.ssh_tools import NEED_SSH, ssh_agent, ssh_fingerprint
from tests.helpers.walkthrough import ANNA, OLENA

pytestmark = NEED_SSH


@pytest.fixture
def signed(cli: Callable, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signed_store(cli, keys, tmp_path, monkeypatch)  # a sync fixture: the CLI runs its own event loop


async def test_the_agents_keys_decide_who_may_act(make_app: Callable, signed: None, keys: dict[str, Path],
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ssh_agent(tmp_path / "keys", keys["olena"], keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        app = make_app(None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert type(app.screen).__name__ == "ActorPicker"  # two keys: she chooses among them
            assert [o.id for o in app.screen.query_one("#actors")._options] == [ANNA, OLENA]
            await pilot.press("j", "enter")
            await settle(pilot)
            assert app.actor_id == OLENA
            text = screen_text(app)
            assert f"signed · {ssh_fingerprint(Path(str(keys['olena']) + '.pub'))[:11]}…" in text


async def test_one_key_acts_without_a_picker(make_app: Callable, signed: None, keys: dict[str, Path],
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ssh_agent(tmp_path / "keys", keys["olena"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        app = make_app(None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.actor_id == OLENA and type(app.screen).__name__ != "ActorPicker"
            await pilot.press("ctrl+a")
            await settle(pilot)
            assert [o.id for o in app.screen.query_one("#actors")._options] == [OLENA]
