"""The tests against a real PostgreSQL server (scripts/pg-test-server). Each needs the server
and most build a fresh schema, so all are marked `postgres` and `slow`: `make test` and CI
run them, `make test-fast` leaves them out."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.pg_server import PgServer

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def new_database(pg: PgServer) -> Iterator[Callable[..., str]]:
    """new_database(): a fresh database on the test server, its name; owned by bfg_migrator,
    which and bfg_app may connect to it (owned=False: the superuser's, with no grants).
    Dropped afterwards."""
    names: list[str] = []

    def make(owned: bool = True) -> str:
        name = f"bfg_t_{uuid.uuid4().hex[:8]}"
        with pg.connect("admin", autocommit=True) as conn:
            if owned:
                conn.execute(f"create database {name} owner bfg_migrator")
                conn.execute(f"revoke all on database {name} from public")
                conn.execute(f"grant connect, temporary on database {name} to bfg_migrator, bfg_app")
            else:
                conn.execute(f"create database {name}")
        names.append(name)
        return name

    try:
        yield make
    finally:
        with pg.connect("admin", autocommit=True) as conn:
            for name in names:
                conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture
def target_in(pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """target_in(database): the app login's DSN there, to probe; the migration login points there too."""

    def target(database: str) -> str:
        monkeypatch.setenv("BFG_TUI_MIGRATION_DSN", pg.in_database("migration", database))
        return pg.in_database("app", database)

    return target
