"""The store layer's fixtures: the ScenarioStore on each backend, and a console over it.

`store` is parametrised: `sqlite` always (a temp file), `postgresql` (marked `postgres` and
`slow`) on the test server, and `pgbouncer`: the same server through PgBouncer in
transaction pooling mode, each PostgreSQL one a fresh schema dropped afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bfg_tui.catalog import default_catalog
from tests.helpers.backends import Backend, pg_backend

PG = (pytest.mark.postgres, pytest.mark.slow)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=PG), pytest.param("pgbouncer", marks=PG)])
async def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "console.db"))
        return
    async with pg_backend(request.getfixturevalue("pg_server"), monkeypatch,
                          pooled=request.param == "pgbouncer") as backend:
        yield backend


@pytest.fixture
async def console(store: Backend) -> AsyncIterator[Any]:
    """The service on `store` (on PostgreSQL each actor acts through its own login)."""
    console = await store.console()
    try:
        yield console
    finally:
        await console.close()


@pytest.fixture(scope="session")
def actor_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One ssh-keygen Ed25519 key per actor (deterministic signatures: both backends sign alike)."""
    from tests.helpers.ssh_tools import keygen

    directory = tmp_path_factory.mktemp("actor-keys")
    return {actor.id: str(keygen(directory, actor.id)) for actor in default_catalog().actors}
