"""The identity tests against real OpenSSH tools: every test here skips without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.ssh_tools import NEED_SSH

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(NEED_SSH)
