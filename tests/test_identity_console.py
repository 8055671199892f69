"""The console in a signed store: the key decides who acts, the picker offers only actors whose keys are here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import screen_text, settle
from tests.test_app_screens import no_animations  # noqa: F401  (autouse)
from tests.test_identity_cli import ANNA, OLENA, _signed_store, keys  # noqa: F401  (fixture)

from .ssh_tools import NEED_SSH, ssh_agent, ssh_fingerprint

pytestmark = NEED_SSH


@pytest.fixture
def signed(cli: Callable, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _signed_store(cli, keys, tmp_path, monkeypatch)  # a sync fixture: the CLI runs its own event loop


async def test_the_agents_keys_decide_who_may_act(make_app: Callable, signed: None, keys: dict[str, Path],  # noqa: F811
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


async def test_one_key_acts_without_a_picker(make_app: Callable, signed: None, keys: dict[str, Path],  # noqa: F811
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
