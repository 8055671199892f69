"""The store backends the suites run on: a SQLite file, or a fresh PostgreSQL schema with
every actor on its own login (directly or through PgBouncer); and the CLI as a subprocess."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.service import Console, open_store
from tests.helpers import ROOT
from tests.helpers.pg_server import ACTOR_LOGINS, PgServer

ANNA = "user_md_anna"
CATALOG = default_catalog()


# --- backends -----------------------------------------------------------------------------


def with_schema(dsn: str, schema: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"


class OwnersConsole:
    """The console suite's one console on the shared store: each actor acts through a
    console on its own login (opened on first use); reads go through the first actor's."""

    ACTIONS = frozenset({"save_scenario", "freeze", "accept", "revoke", "export", "probe", "switch_actor",
                         "roster_init", "roster_add", "roster_revoke"})

    def __init__(self, backend: Backend, first: str = "user_md_anna", identity: Any = None) -> None:
        self._backend = backend
        self._consoles: dict[str, Console] = {}
        self._first = first
        self._identity = identity  # a factory: each console its own Identity

    async def open(self) -> OwnersConsole:
        await self.of(self._first)
        return self

    async def of(self, actor: str) -> Console:
        if actor not in self._consoles:
            identity = self._identity() if self._identity is not None else None
            self._consoles[actor] = Console(await open_store(self._backend.at(actor), CATALOG), CATALOG,
                                            identity=identity)
        return self._consoles[actor]

    @property
    def store(self) -> Any:
        return self._consoles[self._first].store

    @property
    def catalog(self) -> Any:
        return CATALOG

    def __getattr__(self, name: str) -> Any:
        if name in self.ACTIONS:
            async def act(actor: str, *args: Any, **kwargs: Any) -> Any:
                return await getattr(await self.of(actor), name)(actor, *args, **kwargs)
            return act
        return getattr(self._consoles[self._first], name)

    async def close(self) -> None:
        for console in self._consoles.values():
            await console.close()
        self._consoles.clear()


class Backend(NamedTuple):
    name: str
    location: str
    schema: str = ""
    pg: PgServer | None = None
    pooled: bool = False

    def at(self, actor: str) -> str:
        """The store location an actor uses: its own login on PostgreSQL."""
        if self.pg is None:
            return self.location
        return with_schema(self.pg.actor_dsn(actor, pooled=self.pooled), self.schema)

    async def console(self) -> Any:
        if self.pg is None:
            return Console(await open_store(self.location, CATALOG), CATALOG)
        return await OwnersConsole(self).open()

    def tamper(self, seq: int, old: str, new: str) -> None:
        """Edit an audit event behind the store's back (an attacker with file / superuser access)."""
        if self.pg is None:
            conn = sqlite3.connect(self.location)
            conn.execute("update audit_events set body = replace(body, ?, ?) where seq = ?", (old, new, seq))
            conn.commit()
            conn.close()
            return
        with self.pg.connect("admin", autocommit=True) as conn:
            conn.execute("set session_replication_role = replica")  # skips the append-only trigger
            conn.execute(
                f"update {self.schema}.audit_events set body = convert_to(replace(convert_from(body, 'UTF8'), "
                "%s, %s), 'UTF8') where seq = %s", (old, new, seq),
            )


def drop_schema(pg: PgServer, schema: str) -> None:
    with pg.connect("migration", autocommit=True) as conn:
        conn.execute("set lock_timeout = '10s'")  # never hang a run on a leaked transaction
        conn.execute(f"drop schema if exists {schema} cascade")


def map_logins(pg: PgServer, schema: str, logins: dict[str, str], tenant: str = "bfg") -> None:
    """As the migrator (what `bfg-tui store add-login` does): login -> (tenant, actor)."""
    with pg.connect("migration") as conn:
        conn.execute("set role bfg_migrator")
        for actor, login in logins.items():
            conn.execute(f"insert into {schema}.logins(login, tenant_id, actor) values (%s, %s, %s)",
                         (login, tenant, actor))


@contextlib.asynccontextmanager
async def pg_backend(pg: PgServer, monkeypatch: pytest.MonkeyPatch, *, pooled: bool = False) -> AsyncIterator[Backend]:
    """A fresh console schema: installed by the migration login, every actor's login mapped, dropped afterwards."""
    from bfg_tui.store.postgres import install_schema

    monkeypatch.setenv("PGPASSFILE", pg.passfile)
    schema = f"bfg_console_t{uuid.uuid4().hex[:12]}"
    await install_schema(with_schema(pg.migration_dsn, schema))
    map_logins(pg, schema, ACTOR_LOGINS)
    try:
        anna = with_schema(pg.actor_dsn(ANNA, pooled=pooled), schema)
        yield Backend("pgbouncer" if pooled else "postgresql", anna, schema, pg, pooled)
    finally:
        drop_schema(pg, schema)


def cli(location: str, *args: str, actor: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "bfg_tui", "--db", location, *(["--as", actor] if actor else []), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


@contextlib.asynccontextmanager
async def pg_console(pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Backend, Any]]:
    """A fresh console schema on the test server and its owners' console (server time, not the
    fixed clock), closed afterwards."""
    monkeypatch.delenv("BFG_TUI_FIXED_CLOCK", raising=False)
    async with pg_backend(pg, monkeypatch) as backend:
        console = await backend.console()
        try:
            yield backend, console
        finally:
            await console.close()
