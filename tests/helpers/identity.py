"""A signed demo store for the identity tests: the roster made with keys from ssh-keygen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.ssh_tools import ssh_agent
from tests.helpers.walkthrough import ANNA, MAREK, OLENA, save_and_freeze


def signed_store(cli: Callable, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Demo store with Olena's demo-era acceptance, then the roster: Anna (init), Olena, Marek."""
    save_and_freeze(cli)
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    with ssh_agent(tmp_path / "keys", keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        done = cli("roster", "init", "--actor", ANNA, "--key", f"{keys['anna']}.pub")
        assert done.code == 0, done
        assert cli("roster", "add", OLENA, f"{keys['olena']}.pub").code == 0
        assert cli("roster", "add", MAREK, f"{keys['marek']}.pub").code == 0
    monkeypatch.delenv("SSH_AUTH_SOCK")
