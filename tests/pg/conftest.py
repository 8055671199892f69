"""The tests against a real PostgreSQL server (scripts/pg-test-server). Each needs the server
and most build a fresh schema, so all are marked `postgres` and `slow`: `make test` and CI
run them, `make test-fast` leaves them out."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.slow)
