"""The state every PostgreSQL probe step shares: the two logins' connections, the phase a
failure is reported in, and the scrubbing of error text.

Two logins, both found outside the store:

* TARGET (the probe argument) is the NON-OWNER app login, e.g.
  `postgresql://bfg_app_login@db:5432/bfg?sslmode=require`. Every verification runs
  as this login: it must be neither superuser nor BYPASSRLS, must not be able to
  assume such a role, and must own none of the tenant tables.
* The migration login comes from `BFG_TUI_MIGRATION_DSN` (fallback
  `BFG_TUI_PG_MIGRATION_DSN`). It applies the runbook (one transaction, idempotent),
  seeds the RLS probe tenant, writes the actor claims and COPYs the snapshot under
  `SET ROLE bfg_migrator` (COPY FROM is refused for a role subject to RLS).

Passwords come only from libpq: PGPASSWORD or the pgpass file (PGPASSFILE). A password
typed inline in a DSN is used to connect but is never kept, logged or shown, and makes
`credentials_external` false. Nothing here logs a DSN: transcript lines show the
redacted endpoint only, and every error message is scrubbed of every secret the
process knows of, then secret-scanned, before it becomes a one-line step detail.
Every failure becomes a failed `StepResult`; no exception leaves a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from ...runbook import MIGRATOR_ROLE, SCHEMA
from ...secrets import scrub
from ...targets import MIGRATION_ENV, known_secrets, libpq_params, redact_endpoint
from ..base import Log, StepResult

# The other tenant of every RLS proof: seeded by the migration login with one tenants
# row and one users row, never anything else (no secrets, no scenario data).
PROBE_TENANT = "bfg-rls-probe"
PROBE_USER = "rls-probe-user"
CONNECT_TIMEOUT_S = 10


class Fail(Exception):
    """A clean, one-line, secret-free reason for a failed step."""


def q(table: str) -> str:
    return f"{SCHEMA}.{table}"


# Taken exclusively by assets/runbook.sql, every replay and every claims write, so they run
# one at a time per database; taken shared by the app login's transactions that read
# scenario_records and then users, the other order from the runbook's table locks, so those
# never meet a runbook half-way (40P01).
RUNBOOK_LOCK = (0x42464754, 1)


async def readers_turn(conn: Any) -> None:
    """Inside a transaction: wait until no runbook, replay or claims write runs, and hold one off."""
    await conn.execute("select pg_advisory_xact_lock_shared(%s, %s)", RUNBOOK_LOCK)


class PgSession:
    """One probe run's connections and bookkeeping, shared by the step modules."""

    def __init__(self, target: str, catalog: Any) -> None:
        self.catalog = catalog
        self.dsn = target.strip()
        self.endpoint = _safe_redact(self.dsn)
        self.mig_dsn = next((os.environ[k].strip() for k in MIGRATION_ENV if os.environ.get(k, "").strip()), "")
        self.migration_endpoint = _safe_redact(self.mig_dsn) if self.mig_dsn else ""
        self.secrets = known_secrets(self.dsn)
        self.params: dict[str, str] | None = None
        self.app: Any = None
        self.mig: Any = None
        self.mig_checked = False
        self.phase = "connecting"
        self.readback_digest = ""
        self.replay_rows = 0
        self.server = ""
        self.switching_attack: bool | None = None  # None: not run; True: the expected, documented gap
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ secrets and errors

    def clean(self, text: str) -> str:
        """One line with every known secret removed; withheld when it still looks secret."""
        return scrub(text, self.secrets)

    def why(self, exc: BaseException) -> str:
        if isinstance(exc, Fail):
            return self.clean(str(exc))
        try:
            import psycopg
        except ImportError:  # then nothing below came from psycopg
            return self.clean(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, psycopg.Error):
            diag = getattr(exc, "diag", None)
            primary = getattr(diag, "message_primary", None) if diag is not None else None
            text = primary or str(exc) or type(exc).__name__
            sqlstate = getattr(exc, "sqlstate", None)
            return self.clean(f"{text}" + (f" (SQLSTATE {sqlstate})" if sqlstate else ""))
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return "timed out"
        if isinstance(exc, OSError):
            return self.clean(os.strerror(exc.errno) if exc.errno else (str(exc) or type(exc).__name__))
        return self.clean(f"{type(exc).__name__}: {exc}")

    def failed(self, check_id: str, log: Log, exc: BaseException) -> StepResult:
        why = f"{self.phase}: {self.why(exc)}"
        log(f"{check_id}: {why}")
        return StepResult(check_id, False, why)

    # ------------------------------------------------------------ connections

    def conninfo(self) -> dict[str, str]:
        if self.params is None:
            try:
                self.params = libpq_params(self.dsn)
            except ValueError:  # a fixed reason; the parser's own message quotes the input
                raise Fail("the target is not a valid libpq connection string") from None
        return self.params

    def address(self) -> tuple[str, int]:
        params = self.conninfo()
        host = (params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "/var/run/postgresql")
        port = (params.get("port") or os.environ.get("PGPORT") or "5432")
        host, port = host.split(",")[0].strip(), port.split(",")[0].strip()
        if params.get("hostaddr"):
            host = params["hostaddr"].split(",")[0].strip()
        try:
            return host, int(port)
        except ValueError:
            raise Fail("the port is not a number") from None

    async def connect(self, dsn: str) -> Any:
        import psycopg

        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in dsn:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
        return await psycopg.AsyncConnection.connect(dsn, **kwargs)

    async def app_conn(self) -> Any:
        if self.app is None or self.app.closed:
            self.phase = "connecting as the target login"
            self.conninfo()
            self.app = await self.connect(self.dsn)
        return self.app

    async def mig_conn(self, log: Log) -> Any:
        if not self.mig_dsn:
            raise Fail("no migration login: set BFG_TUI_MIGRATION_DSN (schema owner, member of bfg_migrator; "
                       "password via PGPASSWORD or pgpass)")
        if self.mig is None or self.mig.closed:
            try:
                libpq_params(self.mig_dsn)
            except ValueError:  # a fixed reason; the parser's own message quotes the input
                raise Fail("BFG_TUI_MIGRATION_DSN is not a valid libpq connection string") from None
            self.phase = f"connecting the migration login {self.migration_endpoint}"
            self.mig = await self.connect(self.mig_dsn)
        if not self.mig_checked:
            app = await self.app_conn()
            self.phase = "checking the migration login"
            ident = "select current_database(), inet_server_port(), pg_postmaster_start_time()::text"
            mine = await (await app.execute(ident)).fetchone()
            theirs = await (await self.mig.execute(ident)).fetchone()
            if mine != theirs:
                raise Fail("the migration login (BFG_TUI_MIGRATION_DSN) points at another server or database")
            if not self.mig.pgconn.ssl_in_use:
                raise Fail("the migration login connected without TLS; use sslmode=require or stronger")
            member = await (await self.mig.execute(
                "select pg_has_role(current_user, %s, 'member')", (MIGRATOR_ROLE,))).fetchone()
            if not member[0]:
                raise Fail(f"the migration login is not a member of {MIGRATOR_ROLE}")
            log(f"migration login {self.migration_endpoint} (member of {MIGRATOR_ROLE}, TLS) on the same database")
            self.mig_checked = True
        return self.mig

    async def close(self) -> None:
        for conn in (self.app, self.mig):
            if conn is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    await conn.close()
        self.app = self.mig = None


def _safe_redact(dsn: str) -> str:
    try:
        return redact_endpoint(dsn)
    except ValueError:
        return "postgresql://(unparseable target)"
