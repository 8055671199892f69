"""A PostgreSQL server as the probe target (SPEC §6): the real staging cutover rehearsal.

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
import hashlib
import ipaddress
import json
import operator
import os
import re
import ssl
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from itertools import chain, islice, repeat
from operator import itemgetter
from typing import Any

from bfg_tui.store.rows import utf8_bodies

from ..canonical import SnapshotHasher
from ..runbook import MIGRATOR_ROLE, SCHEMA, SET_TENANT_SQL, runbook_sql, shipped_lint
from ..secrets import redact_endpoint, scan
from .base import ConnectionFacts, Log, ReplayOutcome, SnapshotSource, StepResult

MIGRATION_ENV = ("BFG_TUI_MIGRATION_DSN", "BFG_TUI_PG_MIGRATION_DSN")
# The other tenant of every RLS proof: seeded by the migration login with one tenants
# row and one users row, never anything else (no secrets, no scenario data).
PROBE_TENANT = "bfg-rls-probe"
PROBE_USER = "rls-probe-user"
TENANT_TABLES = (
    "tenants", "users", "permissions", "scenario_snapshots", "scenario_records", "scenario_replays", "audit_events",
)
TCP_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 10
COPY_CHUNK = 20_000
COPY_COLUMNS = ("tenant_id", "snapshot_id", "seq", "batch_group", "kind", "record_id", "body")
COPY_PIECE = 5_000  # records encoded at a time (~1.4 MB), so the COPY starts and streams early
COPY_FIRST_PIECE = 1_000
COPY_QUEUE = 8  # encoded pieces waiting for the COPY
READBACK_GROUP = 5_000  # records the server joins into one row of the read-back COPY
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = b"\xff\xff"
_I32 = struct.Struct("!i")
# libpq keys that are shown (allowlisted) or are harmless plumbing; every other value
# of the conninfo is treated as a possible secret when scrubbing messages.
_SHOWN_KEYS = frozenset({"host", "hostaddr", "port", "dbname", "user", "sslmode", "connect_timeout",
                         "application_name", "sslrootcert", "target_session_attrs"})
_WS = re.compile(r"\s+")
_COPY_LINE = "COPY wrote {rows} rows in {secs:.2f} s ({rate:,.0f} rows/s)"
# The policy of every tenant table (assets/runbook.sql), for the snapshot partitions a replay makes.
TENANT_POLICY = ("as permissive for all to public"
                 " using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))"
                 " with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))")
_PARTITIONED_SNAPSHOT = re.compile(r"^snap-[0-9a-f]{24}$")
_PROJECTED = frozenset({"tenants", "users"})  # record kinds that also land in their own tables
# Taken exclusively by assets/runbook.sql and shared by every replay (see _replay).
RUNBOOK_LOCK = (0x42464754, 1)


class _Fail(Exception):
    """A clean, one-line, secret-free reason for a failed step."""


def _q(table: str) -> str:
    return f"{SCHEMA}.{table}"


class PostgresTarget:
    kind = "postgresql"

    def __init__(self, target: str, catalog: Any) -> None:
        self.catalog = catalog
        self._dsn = target.strip()
        self.endpoint = _safe_redact(self._dsn)
        self._mig_dsn = next((os.environ[k].strip() for k in MIGRATION_ENV if os.environ.get(k, "").strip()), "")
        self.migration_endpoint = _safe_redact(self._mig_dsn) if self._mig_dsn else ""
        self._secrets = _secret_strings(self._dsn) | _secret_strings(self._mig_dsn)
        for key in ("PGPASSWORD", "PGSSLPASSWORD"):
            if os.environ.get(key):
                self._secrets.add(os.environ[key])
        self._secrets.discard("")
        self._params: dict[str, str] | None = None
        self._app: Any = None
        self._mig: Any = None
        self._mig_checked = False
        self._phase = "connecting"
        self._readback_digest = ""
        self._replay_rows = 0
        self.switching_attack: bool | None = None  # None: not run; True: the expected, documented gap
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ secrets and errors

    def _clean(self, text: str) -> str:
        """One line with every known secret removed; withheld when it still looks secret."""
        line = _WS.sub(" ", text).strip()
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in line:
                if len(secret) < 4:  # too short to cut out safely: keep nothing
                    return "the error message was withheld (it contained a secret)"
                line = line.replace(secret, "***")
        if scan(line):
            return "the error message was withheld (it looked like it held a secret)"
        return line[:300]

    def _why(self, exc: BaseException) -> str:
        if isinstance(exc, _Fail):
            return self._clean(str(exc))
        try:
            import psycopg
        except ImportError:  # then nothing below came from psycopg
            return self._clean(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, psycopg.Error):
            diag = getattr(exc, "diag", None)
            primary = getattr(diag, "message_primary", None) if diag is not None else None
            text = primary or str(exc) or type(exc).__name__
            sqlstate = getattr(exc, "sqlstate", None)
            return self._clean(f"{text}" + (f" (SQLSTATE {sqlstate})" if sqlstate else ""))
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return "timed out"
        if isinstance(exc, OSError):
            return self._clean(os.strerror(exc.errno) if exc.errno else (str(exc) or type(exc).__name__))
        return self._clean(f"{type(exc).__name__}: {exc}")

    def _failed(self, check_id: str, log: Log, exc: BaseException) -> StepResult:
        why = f"{self._phase}: {self._why(exc)}"
        log(f"{check_id}: {why}")
        return StepResult(check_id, False, why)

    # ------------------------------------------------------------ connections

    def _conninfo(self) -> dict[str, str]:
        if self._params is None:
            from psycopg.conninfo import conninfo_to_dict

            try:
                self._params = {k: str(v) for k, v in conninfo_to_dict(self._dsn).items()}
            except Exception:  # the message quotes the input: never show it
                raise _Fail("the target is not a valid libpq connection string") from None
        return self._params

    def _address(self) -> tuple[str, int]:
        params = self._conninfo()
        host = (params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "/var/run/postgresql")
        port = (params.get("port") or os.environ.get("PGPORT") or "5432")
        host, port = host.split(",")[0].strip(), port.split(",")[0].strip()
        if params.get("hostaddr"):
            host = params["hostaddr"].split(",")[0].strip()
        try:
            return host, int(port)
        except ValueError:
            raise _Fail("the port is not a number") from None

    async def _connect(self, dsn: str) -> Any:
        import psycopg

        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in dsn:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT_S
        return await psycopg.AsyncConnection.connect(dsn, **kwargs)

    async def _app_conn(self) -> Any:
        if self._app is None or self._app.closed:
            self._phase = "connecting as the target login"
            self._conninfo()
            self._app = await self._connect(self._dsn)
        return self._app

    async def _mig_conn(self, log: Log) -> Any:
        if not self._mig_dsn:
            raise _Fail("no migration login: set BFG_TUI_MIGRATION_DSN (schema owner, member of bfg_migrator; "
                        "password via PGPASSWORD or pgpass)")
        if self._mig is None or self._mig.closed:
            from psycopg.conninfo import conninfo_to_dict

            try:
                conninfo_to_dict(self._mig_dsn)
            except Exception:  # the message quotes the input: never show it
                raise _Fail("BFG_TUI_MIGRATION_DSN is not a valid libpq connection string") from None
            self._phase = f"connecting the migration login {self.migration_endpoint}"
            self._mig = await self._connect(self._mig_dsn)
        if not self._mig_checked:
            app = await self._app_conn()
            self._phase = "checking the migration login"
            ident = "select current_database(), inet_server_port(), pg_postmaster_start_time()::text"
            mine = await (await app.execute(ident)).fetchone()
            theirs = await (await self._mig.execute(ident)).fetchone()
            if mine != theirs:
                raise _Fail("the migration login (BFG_TUI_MIGRATION_DSN) points at another server or database")
            if not self._mig.pgconn.ssl_in_use:
                raise _Fail("the migration login connected without TLS; use sslmode=require or stronger")
            member = await (await self._mig.execute(
                "select pg_has_role(current_user, %s, 'member')", (MIGRATOR_ROLE,))).fetchone()
            if not member[0]:
                raise _Fail(f"the migration login is not a member of {MIGRATOR_ROLE}")
            log(f"migration login {self.migration_endpoint} (member of {MIGRATOR_ROLE}, TLS) on the same database")
            self._mig_checked = True
        return self._mig

    # ------------------------------------------------------------ connection wizard

    async def reach(self, log: Log) -> StepResult:
        check = "connection.endpoint_reachability"
        try:
            host, port = self._address()
            self._phase = f"TCP connect to {_show_host(host)}:{port}"
            t0 = time.perf_counter()
            if host.startswith("/"):
                path = f"{host}/.s.PGSQL.{port}"
                _r, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), TCP_TIMEOUT_S)
            else:
                _r, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TCP_TIMEOUT_S)
            tcp_ms = (time.perf_counter() - t0) * 1000
            writer.close()
            await _closed(writer)
            log(f"TCP {_show_host(host)}:{port} accepts connections ({tcp_ms:.1f} ms)")
            t0 = time.perf_counter()
            conn = await self._app_conn()
            self._phase = "select version()"
            version, user, db = await (await conn.execute(
                "select version(), current_user, current_database()")).fetchone()
            short = " ".join(version.split()[:2])
            login_ms = (time.perf_counter() - t0) * 1000
            log(f"libpq session as {user} on database {db} answers select version(): {short} ({login_ms:.0f} ms)")
            self._server = short
            return StepResult(check, True, f"{short} at {_show_host(host)}:{port} answers as {user}")
        except Exception as exc:
            return self._failed(check, log, exc)

    async def tls(self, log: Log, facts: ConnectionFacts) -> StepResult:
        check = "connection.tls_fingerprint"
        try:
            conn = await self._app_conn()
            facts.server = getattr(self, "_server", "")
            facts.credentials_external = self._credentials(log, conn, facts)
            self._phase = "reading pg_stat_ssl"
            row = await (await conn.execute(
                "select ssl, version, cipher, bits from pg_stat_ssl where pid = pg_backend_pid()")).fetchone()
            in_use = bool(conn.pgconn.ssl_in_use) and bool(row and row[0])
            facts.tls = in_use
            if not in_use:
                sslmode = self._conninfo().get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"
                log(f"the session is NOT encrypted (sslmode={sslmode}); a staging target must use TLS")
                return StepResult(check, False, f"the connection does not use TLS (sslmode={sslmode})")
            log(f"session encrypted: {row[1]} {row[2]} ({row[3]} bits), confirmed by pg_stat_ssl for this backend")
            host, port = self._address()
            self._phase = f"reading the server certificate from {_show_host(host)}:{port}"
            der = await _server_certificate(host, port)
            fingerprint = "sha256:" + hashlib.sha256(der).hexdigest()
            facts.fingerprint = fingerprint
            sslmode = self._conninfo().get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"
            if sslmode in ("verify-ca", "verify-full"):
                log(f"certificate verified by libpq (sslmode={sslmode})")
            else:
                log(f"sslmode={sslmode}: libpq did not verify the certificate chain; pin the fingerprint below")
            log(f"server certificate {fingerprint} ({len(der)} bytes DER, via SSLRequest + TLS handshake)")
            return StepResult(check, True, f"{row[1]} in use; server certificate {fingerprint}")
        except Exception as exc:
            if facts.fingerprint is None:  # TLS counts only with its certificate recorded
                facts.tls = False
            return self._failed(check, log, exc)

    def _credentials(self, log: Log, conn: Any, facts: ConnectionFacts) -> bool:
        params = self._conninfo()
        used = bool(conn.pgconn.used_password)
        if "password" in params or _url_password(self._dsn):
            log("credentials: a password was given inline in the target; it was used to connect, "
                "is not kept, and does not count as externally supplied (use PGPASSWORD or pgpass)")
            facts.notes.append("inline password (not kept)")
            return False
        if not used:
            log("credentials: the server asked for no password; no live credentials were proven")
            facts.notes.append("no password used")
            return False
        # libpq's order: inline password (excluded above), then PGPASSWORD, then the pgpass file.
        if os.environ.get("PGPASSWORD"):
            source = "PGPASSWORD"
        elif params.get("passfile"):
            source = "the pgpass file (passfile=)"
        elif os.environ.get("PGPASSFILE"):
            source = "the pgpass file (PGPASSFILE)"
        else:
            source = "the pgpass file (~/.pgpass)"
        log(f"credentials: password supplied by libpq from {source}; never read, stored or shown by bfg-tui")
        facts.notes.append(f"password from {source}")
        return True

    async def rbac_session(self, log: Log, tenant_id: str, claims: dict[str, object]) -> StepResult:
        check = "connection.rbac_session"
        try:
            app = await self._app_conn()
            await self._refuse_bypass(app, log)
            await self._require_rls(app, log, apply_if_missing=True)
            await self._seed_probe_tenant(log, tenant_id)
            self._phase = "tenant-scoped session as the app login"
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (tenant_id,))
                await app.execute("select set_config('bfg.claims', %s, true)", (json.dumps(claims, sort_keys=True),))
                seen = [r[0] for r in await (await app.execute(
                    f"select tenant_id from {_q('tenants')} order by 1")).fetchall()]
                other = (await (await app.execute(
                    f"select (select count(*) from {_q('users')} where tenant_id = %s)"
                    f" + (select count(*) from {_q('tenants')} where tenant_id = %s)",
                    (PROBE_TENANT, PROBE_TENANT))).fetchone())[0]
                sub = (await (await app.execute("select current_setting('bfg.claims', true)::json->>'sub'"))
                       .fetchone())[0]
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (PROBE_TENANT,))
                probe_sees = (await (await app.execute(
                    f"select count(*) from {_q('users')} where user_id = %s", (PROBE_USER,))).fetchone())[0]
            async with app.transaction(force_rollback=True):
                after = (await (await app.execute(
                    f"select coalesce(current_setting('bfg.tenant_id', true), ''),"
                    f" (select count(*) from {_q('tenants')})")).fetchone())
            mig = await self._mig_conn(log)
            async with mig.transaction(force_rollback=True):
                await mig.execute(f"set local role {MIGRATOR_ROLE}")
                total = (await (await mig.execute(f"select count(*) from {_q('tenants')}")).fetchone())[0]
            log(f"as {sub} with tenant {tenant_id} set transaction-locally: saw tenants {seen} of {total}, "
                f"{other} rows of probe tenant {PROBE_TENANT}")
            log(f"as probe tenant {PROBE_TENANT}: saw {probe_sees} of its own rows (RLS filters, not blanket denial)")
            log(f"after the transaction: tenant setting '{after[0]}', {after[1]} tenants visible (setting was local)")
            ok = seen == [tenant_id] and other == 0 and total >= 2 and probe_sees == 1 and after == ("", 0)
            if not ok:
                return StepResult(check, False, f"tenant isolation not proven: saw {seen[:3]} of {total} tenants, "
                                                f"{other} probe-tenant rows, {after[1]} with no tenant set")
            return StepResult(check, True, f"claims of {sub}: tenant {tenant_id} set transaction-locally sees only "
                                           f"its tenant (1 of {total}) under forced RLS as a non-owner, no-BYPASSRLS login")
        except Exception as exc:
            return self._failed(check, log, exc)

    async def _refuse_bypass(self, app: Any, log: Log) -> None:
        from ..pg_roles import HYGIENE_SQL, hygiene_problem

        self._phase = "checking the login's role attributes"
        row = await (await app.execute(HYGIENE_SQL)).fetchone()
        user = row[0]
        problem = hygiene_problem(row)
        if problem:
            raise _Fail(f"login {problem}; probe with the non-owner app login")
        owned = await (await app.execute(
            "select c.relname, pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind in ('r', 'p') and pg_has_role(session_user, c.relowner, 'member')"
            " order by 1", (SCHEMA,))).fetchall()
        if owned:
            raise _Fail(f"login {user} is {owned[0][1]} or a member of it, which owns {SCHEMA}.{owned[0][0]}: "
                        "an owner can switch RLS off; use the app login")
        log(f"login {user}: not superuser, no BYPASSRLS, no CREATEROLE, no member of a role that has one of them, "
            f"owns no {SCHEMA} table")

    async def _require_rls(self, app: Any, log: Log, *, apply_if_missing: bool) -> None:
        self._phase = "checking row-level security"
        rows = await self._rls_catalog(app)
        if not rows and apply_if_missing:
            log(f"schema {SCHEMA} not found: applying the runbook as the migration login")
            await self._apply_runbook(log)
            rows = await self._rls_catalog(app)
        found = {r[0]: r for r in rows}
        missing = [t for t in TENANT_TABLES if t not in found]
        if missing:
            raise _Fail(f"{SCHEMA}.{missing[0]} does not exist (or is not visible to the app login)")
        for name in TENANT_TABLES:
            _, enabled, forced, _policies, complete = found[name]
            if not enabled:
                raise _Fail(f"row level security is not enabled on {SCHEMA}.{name}")
            if not forced:
                raise _Fail(f"row level security is not forced on {SCHEMA}.{name}")
            if not complete:
                raise _Fail(f"{SCHEMA}.{name} has no policy with both using and with check")
        log(f"RLS enabled and forced on {len(TENANT_TABLES)}/{len(TENANT_TABLES)} {SCHEMA} tables, "
            "each with a using + with check policy")

    async def _rls_catalog(self, conn: Any) -> list[tuple]:
        return await (await conn.execute(
            "select c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (select count(*) from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname),"
            " exists (select 1 from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname"
            "         and p.qual is not null and p.with_check is not null)"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind in ('r', 'p') and c.relname = any(%s)",
            (SCHEMA, list(TENANT_TABLES)))).fetchall()

    async def _seed_probe_tenant(self, log: Log, tenant_id: str) -> None:
        mig = await self._mig_conn(log)
        self._phase = "seeding the RLS probe tenant as the migration login"
        async with mig.transaction():
            await mig.execute(f"set local role {MIGRATOR_ROLE}")
            await mig.execute(
                f"insert into {_q('tenants')} (tenant_id, name) values (%s, %s), (%s, %s) on conflict do nothing",
                (tenant_id, self.catalog.tenant_name, PROBE_TENANT, "RLS probe tenant (bfg-tui, no data)"))
            await mig.execute(
                f"insert into {_q('users')} (tenant_id, user_id, role_key, display_name)"
                " values (%s, %s, 'rls_probe', 'RLS probe user') on conflict do nothing", (PROBE_TENANT, PROBE_USER))

    async def write_probe(self, log: Log) -> StepResult:
        check = "connection.write_probe"
        try:
            app = await self._app_conn()
            tenant = self.catalog.tenant_id
            rid = "write-probe-" + uuid.uuid4().hex[:12]
            note = "no-secret write probe"
            self._phase = "write probe as the app login"
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (tenant,))
                await app.execute(
                    f"insert into {_q('users')} (tenant_id, user_id, role_key, display_name) values (%s, %s, %s, %s)",
                    (tenant, rid, "write_probe", note))
                back = await (await app.execute(
                    f"select display_name from {_q('users')} where tenant_id = %s and user_id = %s",
                    (tenant, rid))).fetchone()
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (tenant,))
                gone = (await (await app.execute(
                    f"select count(*) from {_q('users')} where tenant_id = %s and user_id = %s",
                    (tenant, rid))).fetchone())[0] == 0
            read_ok = back is not None and back[0] == note
            log(f"write probe: row {rid} inserted into {SCHEMA}.users as the app login, read back={read_ok}, "
                f"rolled back and gone={gone}")
            ok = read_ok and gone
            return StepResult(check, ok, "no-secret row written, read back and rolled back (gone afterwards)"
                              if ok else "the write probe did not round-trip")
        except Exception as exc:
            return self._failed(check, log, exc)

    # ------------------------------------------------------------ dry-run

    async def _apply_runbook(self, log: Log) -> float:
        mig = await self._mig_conn(log)
        self._phase = "applying the runbook as the migration login"
        t0 = time.perf_counter()
        async with mig.transaction():
            await mig.execute(runbook_sql())
        secs = time.perf_counter() - t0
        log(f"runbook applied in one transaction as the migration login ({secs:.2f} s; idempotent)")
        return secs

    async def schema_map(self, log: Log, kind_tables: dict[str, str], kinds: list[str]) -> StepResult:
        check = "dryrun.schema_map"
        try:
            lint = shipped_lint()
            log(f"runbook static RLS lint: {lint.summary()}")
            if not lint.ok:
                return StepResult(check, False, f"the runbook fails the RLS lint: {lint.problems[0]}")
            await self._apply_runbook(log)
            app = await self._app_conn()
            self._phase = "mapping record kinds to tables"
            tables = sorted({kind_tables[k] for k in kinds if k in kind_tables})
            unknown = [k for k in kinds if k not in kind_tables]
            if unknown:
                return StepResult(check, False, f"record kind {unknown[0]} maps to no target table")
            rows = await (await app.execute(
                "select t, to_regclass(%s || '.' || t) is not null"
                " and has_table_privilege(%s || '.' || t, 'select') from unnest(%s::text[]) t",
                (SCHEMA, SCHEMA, tables))).fetchall()
            absent = [t for t, ok in rows if not ok]
            if absent:
                return StepResult(check, False, f"table {SCHEMA}.{absent[0]} is missing or not readable by the app")
            await self._require_rls(app, log, apply_if_missing=False)
            log(f"{len(kinds)} record kinds map to {', '.join(f'{SCHEMA}.{t}' for t in tables)}")
            return StepResult(check, True, f"runbook applied (one transaction, idempotent); {len(kinds)} kinds map to "
                                           f"{len(tables)} tables with forced RLS")
        except Exception as exc:
            return self._failed(check, log, exc)

    async def replay_claims(self, log: Log, tenant_id: str, claims: list[dict[str, object]]) -> StepResult:
        check = "dryrun.rbac_claims_probe"
        try:
            mig = await self._mig_conn(log)
            self._phase = "writing the actor claims as the migration login"
            roles: dict[str, list[str]] = {}
            for c in claims:
                roles.setdefault(str(c["roles"][0]), sorted({str(p) for p in c["permissions"]}))  # type: ignore[index]
            async with mig.transaction():
                await mig.execute(f"set local role {MIGRATOR_ROLE}")
                await mig.execute(f"insert into {_q('tenants')} (tenant_id, name) values (%s, %s) on conflict do nothing",
                                  (tenant_id, self.catalog.tenant_name))
                async with mig.cursor() as cur:
                    await cur.executemany(
                        f"insert into {_q('users')} (tenant_id, user_id, role_key, display_name, desk)"
                        " values (%s, %s, %s, %s, %s) on conflict (tenant_id, user_id) do update set"
                        " role_key = excluded.role_key, display_name = excluded.display_name, desk = excluded.desk",
                        [(tenant_id, c["sub"], c["roles"][0], c["name"], c["org"]) for c in claims])  # type: ignore[index]
                    for role, perms in roles.items():
                        await cur.execute(
                            f"delete from {_q('permissions')} where tenant_id = %s and role_key = %s"
                            " and not (permission = any(%s))", (tenant_id, role, perms))
                    await cur.executemany(
                        f"insert into {_q('permissions')} (tenant_id, role_key, permission) values (%s, %s, %s)"
                        " on conflict do nothing",
                        [(tenant_id, role, p) for role, perms in roles.items() for p in perms])
            app = await self._app_conn()
            self._phase = "reading the claims back as the app login"
            subs = [str(c["sub"]) for c in claims]
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (tenant_id,))
                users = await (await app.execute(
                    f"select user_id, tenant_id, role_key, display_name, desk from {_q('users')}"
                    " where user_id = any(%s)", (subs,))).fetchall()
                perms = await (await app.execute(
                    f"select role_key, permission from {_q('permissions')} where role_key = any(%s)",
                    (list(roles),))).fetchall()
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (PROBE_TENANT,))
                leaked = (await (await app.execute(
                    f"select count(*) from {_q('users')} where user_id = any(%s)", (subs,))).fetchone())[0]
            by_role: dict[str, set[str]] = {}
            for role, perm in perms:
                by_role.setdefault(role, set()).add(perm)
            back = {u[0]: {"sub": u[0], "tenant_id": u[1], "roles": [u[2]], "name": u[3], "org": u[4],
                           "permissions": sorted(by_role.get(u[2], ()))} for u in users}
            want = {str(c["sub"]): {"sub": c["sub"], "tenant_id": c["tenant_id"], "roles": list(c["roles"]),  # type: ignore[call-overload]
                                    "name": c["name"], "org": c["org"],
                                    "permissions": sorted(str(p) for p in c["permissions"])} for c in claims}  # type: ignore[attr-defined]
            equal = [s for s in subs if back.get(s) == want[s]]
            log(f"claims: {len(claims)} actors written to {SCHEMA}.users/permissions as {MIGRATOR_ROLE}; read back "
                f"as the app login equal for {len(equal)}/{len(claims)}; visible to the probe tenant: {leaked}")
            if len(equal) != len(claims) or leaked:
                bad = next((s for s in subs if s not in equal), "")
                return StepResult(check, False, f"claims read back differ for {bad}" if bad else
                                  f"{leaked} claim rows visible to another tenant")
            return StepResult(check, True, f"{len(claims)} actors replay as claims with their permissions "
                                           "(read back equal as the app login; invisible to other tenants)")
        except Exception as exc:
            return self._failed(check, log, exc)

    async def replay(self, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
        try:
            return await self._replay(log, source, replay_id)
        except Exception as exc:
            why = f"{self._phase}: {self._why(exc)}"
            log(f"dryrun.adapter_replay: {why}")
            return ReplayOutcome(0, "", detail=f"replay failed: {why}", passed=False)

    def _snapshot_key(self, source: SnapshotSource) -> str:
        return snapshot_key(source.tenant_id, source.digest)

    async def _replay(self, log: Log, source: SnapshotSource, replay_id: str) -> ReplayOutcome:
        tenant, snap = source.tenant_id, self._snapshot_key(source)
        mig = await self._mig_conn(log)
        groups = {kind: b.id for b in self.catalog.batches for kind in b.kinds}
        self._phase = "replaying the snapshot as the migration login"
        t_all = time.perf_counter()
        written = 0
        async with mig.transaction():
            # Shared with other replays, exclusive against a runbook run (it takes the same
            # lock first): the two never interleave their table locks into a deadlock.
            await mig.execute("select pg_advisory_xact_lock_shared(%s, %s)", RUNBOOK_LOCK)
            await mig.execute(f"set local role {MIGRATOR_ROLE}")
            # The commit need not wait for its WAL flush: the replay is verified by the read-back
            # below and can simply be re-run. A crash loses this whole transaction or nothing
            # (snapshot row and records together), and any later synchronous commit (the
            # replay id in rollback_checkpoint) flushes it first.
            await mig.execute("set local synchronous_commit = off")
            await mig.execute(f"insert into {_q('tenants')} (tenant_id, name) values (%s, %s) on conflict do nothing",
                              (tenant, self.catalog.tenant_name))
            # The snapshot row is the replay's key: a second transaction with the same snapshot
            # waits on it, then finds it and adds nothing.
            fresh = await (await mig.execute(
                f"insert into {_q('scenario_snapshots')} (tenant_id, snapshot_id, checksum, digest, record_count, session)"
                " values (%s, %s, %s, %s, %s, %s) on conflict do nothing returning 1",
                (tenant, snap, "bfg-" + source.digest[:8], source.digest, source.rows, source.session))).fetchone()
            if fresh is None:
                digest, _count = await (await mig.execute(
                    f"select digest, record_count from {_q('scenario_snapshots')}"
                    " where tenant_id = %s and snapshot_id = %s", (tenant, snap))).fetchone()
                if digest != source.digest:
                    raise _Fail(f"snapshot id {snap} holds other content (digest bfg-{digest[:8]})")
                present = await self._count_records(mig, tenant, snap)
                if present >= source.rows:
                    log(f"replay {replay_id}: snapshot {snap} already holds {present} records; COPY skipped, "
                        "0 rows added")
                else:  # an interrupted earlier replay left part of it: fill the gap only
                    written = await self._copy_via_staging(mig, log, source, tenant, snap, groups)
            else:
                written = await self._write_new_snapshot(mig, log, source, tenant, snap, groups)
        self.timings["replay_write_s"] = time.perf_counter() - t_all
        return await self._verify_replay(log, source, replay_id, tenant, snap, written)

    async def _count_records(self, conn: Any, tenant: str, snap: str) -> int:
        return (await (await conn.execute(
            f"select count(*) from {_q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
            (tenant, snap))).fetchone())[0]

    async def _write_new_snapshot(self, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                                  groups: dict[str, str]) -> int:
        """The snapshot row was just inserted: write its records, into a partition of their own
        when possible, otherwise through the parent (into an existing partition or the default)."""
        from psycopg import sql

        self._phase = "choosing where the snapshot's records go"
        part = partition_name(snap)
        partitioned, exists = await (await conn.execute(
            "select c.relkind = 'p', %s::text is not null and to_regclass(%s) is not null"
            " from pg_class c where c.oid = %s::regclass",
            (part, f"{SCHEMA}.{part}", _q("scenario_records")))).fetchone()
        if part and partitioned and not exists:
            import psycopg

            try:
                async with conn.transaction():  # a savepoint: undone if the partition cannot be attached
                    return await self._copy_new_partition(conn, log, source, tenant, snap, groups, part)
            except psycopg.errors.CheckViolation as exc:
                if "default partition" not in (exc.diag.message_primary or ""):
                    raise
                # Rows with this snapshot id were written row by row before (any tenant).
                log(f"the default partition already holds rows with snapshot id {snap}: writing through the parent")
        orphans = await self._count_records(conn, tenant, snap)
        if orphans:
            await conn.execute(f"delete from {_q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
                               (tenant, snap))
            log(f"removed {orphans} orphan records of {snap} left without a snapshot row")
        if exists:  # a partition left by an earlier replay of this snapshot id
            empty = (await (await conn.execute(
                sql.SQL("select not exists (select 1 from {})").format(sql.Identifier(SCHEMA, part)))).fetchone())[0]
            if empty:  # drop its dead rows and index entries before loading it again
                await conn.execute(sql.SQL("truncate {}").format(sql.Identifier(SCHEMA, part)))
                log(f"partition {SCHEMA}.{part} was left empty by an earlier replay: truncated, loaded in place")
        return await self._copy(conn, log, source, tenant, snap, groups, _q("scenario_records"))

    async def _copy_new_partition(self, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                                  groups: dict[str, str], part: str) -> int:
        """COPY into a new table without an index, then build its key, give it forced RLS and
        attach it as the snapshot's partition: maintaining a key row by row in a large shared
        index costs the server more than the load itself. All inside the replay transaction,
        so nobody sees the table before it is a complete, keyed, RLS-protected partition."""
        from psycopg import sql

        table = sql.Identifier(SCHEMA, part)
        parent = sql.Identifier(SCHEMA, "scenario_records")

        async def create() -> None:  # while the first batch is read and encoded
            self._phase = f"creating the partition {SCHEMA}.{part}"
            await conn.execute(sql.SQL("create table {} (like {} including defaults including constraints)")
                               .format(table, parent))
            # Implies the partition bound, so attaching need not scan the new table.
            await conn.execute(sql.SQL("alter table {} add constraint {} check (snapshot_id = {})").format(
                table, sql.Identifier(f"{part}_snapshot_check"), sql.Literal(snap)))
            # Constant for the whole load: filled in by the server, not sent with every row.
            await conn.execute(sql.SQL("alter table {} alter column tenant_id set default {},"
                                       " alter column snapshot_id set default {}").format(
                table, sql.Literal(tenant), sql.Literal(snap)))

        t0 = time.perf_counter()
        rows, projected = await self._stream_copy(conn, source, tenant, snap, groups, f"{SCHEMA}.{part}",
                                                  prepare=create, defaults=True)
        await conn.execute(sql.SQL("alter table {} alter column tenant_id drop default,"
                                   " alter column snapshot_id drop default").format(table))
        copy_s = time.perf_counter() - t0
        self._phase = f"building the key of {SCHEMA}.{part}"
        # One backend sorts in memory: on a small server, parallel workers cost more than they
        # save (100k records: ~0.08 s alone, ~0.15 s with two workers), and 1M keys fit in 256 MB.
        await conn.execute("set local max_parallel_maintenance_workers = 0")
        await conn.execute("set local maintenance_work_mem = '256MB'")
        await conn.execute(sql.SQL("alter table {} add constraint {} primary key (tenant_id, snapshot_id, seq)")
                           .format(table, sql.Identifier(f"{part}_pkey")))
        key_s = time.perf_counter() - t0 - copy_s
        self._phase = f"attaching {SCHEMA}.{part}"
        for statement in ("alter table {} enable row level security", "alter table {} force row level security",
                          "create policy bfg_tenant_isolation on {} " + TENANT_POLICY):
            await conn.execute(sql.SQL(statement).format(table))  # type: ignore[arg-type]
        await conn.execute(sql.SQL("alter table {} attach partition {} for values in ({})").format(
            parent, table, sql.Literal(snap)))
        secs = time.perf_counter() - t0
        self._log_copy(log, rows, secs, f"into the new partition {SCHEMA}.{part} (binary, pipelined; COPY "
                                        f"{copy_s:.2f} s, key {key_s:.2f} s, RLS + attach "
                                        f"{secs - copy_s - key_s:.2f} s; one transaction)")
        await self._project(conn, log, tenant, projected)
        return rows

    async def _copy(self, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                    groups: dict[str, str], table: str) -> int:
        """Binary COPY of every snapshot record into an existing table; returns rows written."""
        t0 = time.perf_counter()
        rows, projected = await self._stream_copy(conn, source, tenant, snap, groups, table)
        self._log_copy(log, rows, time.perf_counter() - t0, f"into {table} (binary, pipelined, one transaction)")
        await self._project(conn, log, tenant, projected)
        return rows

    def _log_copy(self, log: Log, rows: int, secs: float, where: str) -> None:
        self.timings["copy_s"] = secs
        self.timings["copy_rows"] = rows
        log(_COPY_LINE.format(rows=rows, secs=secs, rate=rows / secs if secs else 0.0) + f" as {MIGRATOR_ROLE} {where}")

    async def _stream_copy(self, conn: Any, source: SnapshotSource, tenant: str, snap: str,
                           groups: dict[str, str], table: str,
                           prepare: Callable[[], Awaitable[None]] | None = None, defaults: bool = False,
                           ) -> tuple[int, list[tuple[str, str, bytes]]]:
        """Binary COPY of every snapshot record, streamed batch by batch: (rows, tenants/users records).

        Pipelined, so the server never waits for the client: a producer task reads the
        next batch from the store and encodes it, COPY_PIECE records at a time, in a worker
        thread while the COPY sends what is ready (at most COPY_QUEUE pieces wait in
        memory). `prepare` (e.g. creating the table) runs while the first batch is read.
        With `defaults` the table's column defaults fill tenant_id and snapshot_id.
        """
        projected: list[tuple[str, str, bytes]] = []
        encode = _copy_encoder(tenant, snap, groups, projected, defaults=defaults)
        columns = ", ".join(c for c in COPY_COLUMNS if not (defaults and c in ("tenant_id", "snapshot_id")))
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=COPY_QUEUE)

        async def produce() -> int:
            seq = 0
            try:
                async with contextlib.aclosing(source.batches()) as batches:
                    async for batch in batches:
                        start = 0
                        while start < len(batch):  # a small first piece gets the COPY going sooner
                            piece = batch[start:start + (COPY_PIECE if seq else COPY_FIRST_PIECE)]
                            chunk = await asyncio.to_thread(encode, piece, seq)
                            start += len(piece)
                            seq += len(piece)
                            await queue.put(chunk)
            except asyncio.CancelledError:
                raise  # the COPY side is gone: nobody reads the queue any more
            except BaseException:
                await queue.put(None)  # wake the COPY side; it re-raises this from the task
                raise
            await queue.put(None)
            return seq

        producer = asyncio.create_task(produce())
        try:
            if prepare is not None:
                await prepare()
            self._phase = f"COPY into {table}"
            async with conn.cursor().copy(f"copy {table} ({columns}) from stdin (format binary)") as copy:
                await copy.write(_COPY_HEADER)
                while (chunk := await queue.get()) is not None:
                    await copy.write(chunk)
                seq = await producer  # the producer's error, if any, aborts the COPY here
                await copy.write(_COPY_TRAILER)
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(BaseException):  # its outcome no longer matters
                    await producer
        if seq != source.rows:
            raise _Fail(f"the snapshot streamed {seq} records, expected {source.rows}")
        return seq, projected

    async def _copy_via_staging(self, conn: Any, log: Log, source: SnapshotSource, tenant: str, snap: str,
                                groups: dict[str, str]) -> int:
        self._phase = "COPY into a staging table"
        await conn.execute(f"create temp table bfg_replay_staging (like {_q('scenario_records')}) on commit drop")
        await self._copy(conn, log, source, tenant, snap, groups, "bfg_replay_staging")
        cur = await conn.execute(
            f"insert into {_q('scenario_records')} (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
            " select tenant_id, snapshot_id, seq, batch_group, kind, record_id, body from bfg_replay_staging"
            " on conflict do nothing")
        log(f"staging merge: {cur.rowcount} missing records added (insert ... on conflict do nothing)")
        return cur.rowcount

    async def _project(self, conn: Any, log: Log, tenant: str, projected: list[tuple[str, str, bytes]]) -> None:
        """Tenants and users records also land in their own tables (catalog kind_tables)."""
        users = []
        for kind, rid, raw in projected:
            data = json.loads(raw)["data"]
            if kind == "tenants" and rid == tenant:
                await conn.execute(f"update {_q('tenants')} set name = %s where tenant_id = %s",
                                   (str(data.get("name") or tenant), tenant))
            elif kind == "users":
                users.append((tenant, rid, str(data.get("role") or ""), str(data.get("name") or rid), data.get("desk")))
        if users:
            async with conn.cursor() as cur:
                await cur.executemany(
                    f"insert into {_q('users')} (tenant_id, user_id, role_key, display_name, desk)"
                    " values (%s, %s, %s, %s, %s) on conflict (tenant_id, user_id) do update set"
                    " role_key = excluded.role_key, display_name = excluded.display_name, desk = excluded.desk", users)
        log(f"projected {len(users)} users and the tenant row into {SCHEMA}.users / {SCHEMA}.tenants")

    async def _read_back(self, app: Any, tenant: str, snap: str, order: list[str],
                         source: SnapshotSource) -> tuple[SnapshotHasher, bool]:
        """Hash the snapshot's bodies in seq order as the app login: (hasher, True when
        (kind, record_id) strictly follow canonical order, which proves them unique).

        One `COPY (…) TO STDOUT (FORMAT binary)`: the server joins READBACK_GROUP records a
        row (their seqs, keys and bodies, each one string), so the client handles a few
        hundred rows, not a million, and checks them with C code (split, join, map). The
        server joins in the order it reads, which is the key's order when it reads the key
        (the usual plan); the joined seqs must then be exactly lo, lo+1, … in every group.
        When they are not (another plan, or gaps in seq), the whole read is done again with
        the joins sorted by seq, which costs the server a sort per group.
        """
        rec = _q("scenario_records")
        lo, hi = await (await app.execute(
            f"select min(seq), max(seq) from {rec} where tenant_id = %s and snapshot_id = %s",
            (tenant, snap))).fetchone()
        for sort in ("", " order by seq"):
            hasher = SnapshotHasher(session=source.session, tenant=source.tenant_id)
            if lo is None:
                return hasher, True
            in_order = await self._read_groups(app, rec, tenant, snap, order, hasher, lo, hi, sort)
            if in_order is not None:
                return hasher, in_order
        raise _Fail("the read-back could not put the records in seq order")  # pragma: no cover

    async def _read_groups(self, app: Any, rec: str, tenant: str, snap: str, order: list[str],
                           hasher: SnapshotHasher, lo: int, hi: int, sort: str) -> bool | None:
        """One read of every group; None when the seqs show the joins were not in seq order."""
        step = READBACK_GROUP
        query = (
            "copy (select g.lo, r.n, r.seqs, r.keys, r.bodies"
            " from generate_series(%(lo)s::int4, %(hi)s::int4, %(step)s::int4) as g(lo) cross join lateral ("
            f" select count(*)::int4 as n, string_agg(seq::text, ','{sort}) as seqs,"
            f" string_agg(kind || E'\\x1f' || record_id, E'\\x1e'{sort}) as keys,"
            f" string_agg(body, ','{sort}) as bodies"
            f" from {rec} where tenant_id = %(tenant)s and snapshot_id = %(snap)s"
            " and seq >= g.lo and seq < g.lo + %(step)s) as r) to stdout (format binary)")
        ranks = {kind: chr(0x21 + n) for n, kind in enumerate(order)}
        rows = _BinaryRows()
        ordered, in_seq, last, expect = True, True, "", lo
        async with app.cursor().copy(query, {"lo": lo, "hi": hi, "step": step, "tenant": tenant,
                                             "snap": snap}) as copy:
            async for data in copy:
                for g, n_raw, seqs, keys, bodies in rows.feed(data):
                    start, n = _I32.unpack(g)[0], _I32.unpack(n_raw)[0]
                    if start != expect:
                        raise _Fail(f"read-back groups out of order at seq {start}")
                    expect = start + step
                    if not n or not in_seq:
                        continue  # an empty range; or draining a read that is done again sorted
                    if not sort:  # sorted joins need no proof: seq is unique and the ranges ascend
                        in_seq = seqs.decode() == ",".join(map(str, range(start, start + n)))
                        if not in_seq:
                            continue
                    hasher.add_joined(bodies, n)
                    if ordered:
                        ordered, last = _canonical_run(keys.decode("utf-8"), n, ranks, last)
        if not rows.done:
            raise _Fail("the read-back COPY ended early")
        return ordered if in_seq else None

    async def _count_unordered(self, app: Any, tenant: str, snap: str, rank: dict[str, int]) -> int:
        """Rows out of canonical (kind, record_id) order, counted one by one: only when the
        read-back found the order broken (or could not tell), to name how badly."""
        unordered, last_rank, last_rid = 0, -1, ""
        async with app.cursor(name="bfg_readback_order", binary=True) as cur:
            cur.itersize = COPY_CHUNK
            await cur.execute(
                f"select kind, record_id from {_q('scenario_records')} where tenant_id = %s"
                " and snapshot_id = %s order by seq", (tenant, snap))
            while batch := await cur.fetchmany(COPY_CHUNK):
                for kind, rid in batch:
                    if kind in rank and rank[kind] == last_rank:
                        if rid <= last_rid:
                            unordered += 1
                    else:
                        this = rank.get(kind, len(rank))
                        if this <= last_rank:
                            unordered += 1
                        last_rank = this
                    last_rid = rid
        return unordered

    async def _verify_replay(self, log: Log, source: SnapshotSource, replay_id: str, tenant: str, snap: str,
                             written: int) -> ReplayOutcome:
        app = await self._app_conn()
        self._phase = "reading the snapshot back as the app login"
        t0 = time.perf_counter()
        order = [k for k in self.catalog.record_kinds if k in source.kind_counts]
        order += sorted(k for k in source.kind_counts if k not in order)
        rank = {kind: n for n, kind in enumerate(order)}
        # Canonical order is kind by kind (catalog order), then record_id (code points). Read
        # by seq, the canonical position (the key's order), every row must follow the one
        # before it in that order: this proves (kind, record_id) unique within the snapshot,
        # which the key no longer enforces. Only when it does not hold, the server counts.
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant,))
            hasher, in_order = await self._read_back(app, tenant, snap, order, source)
            total = hasher.rows
            unordered = 0 if in_order else await self._count_unordered(app, tenant, snap, rank)
            same_ids = 0
            if unordered:
                same_ids = (await (await app.execute(
                    f"select coalesce(sum(n - 1), 0) from (select count(*) as n from {_q('scenario_records')}"
                    " where tenant_id = %s and snapshot_id = %s group by kind, record_id having count(*) > 1) d",
                    (tenant, snap))).fetchone())[0]
            users_back = (await (await app.execute(
                f"select count(*) from {_q('users')} where user_id = any(%s)",
                ([a.id for a in self.catalog.actors],))).fetchone())[0]
        digest = hasher.hexdigest()
        secs = time.perf_counter() - t0
        self.timings["readback_s"] = secs
        self._readback_digest, self._replay_rows = digest, hasher.rows
        duplicates = max(total - source.rows, int(same_ids), 0)
        order_note = ("(kind, record_id) unique and in canonical order" if not unordered else
                      f"{unordered} rows out of canonical (kind, record_id) order, {same_ids} repeat an id")
        log(f"read back {hasher.rows} records as the app login in canonical order ({secs:.2f} s): checksum "
            f"bfg-{digest[:8]} {'equal to' if digest == source.digest else 'DIFFERS from'} bfg-{source.digest[:8]}; "
            f"{total} rows stored for {snap} ({duplicates} duplicates); {order_note}")
        t0 = time.perf_counter()
        matrix = await self._tenant_matrix(log, tenant, snap, hasher.rows)
        self.timings["matrix_s"] = time.perf_counter() - t0
        failed = [name for name, ok in matrix if not ok]
        verdict = (f"tenant A/B matrix {len(matrix) - len(failed)}/{len(matrix)} "
                   "(select/insert/update/delete both ways; unset and empty tenant read nothing)")
        log(f"{verdict} in {self.timings['matrix_s'] * 1000:.0f} ms")
        for name, ok in matrix:
            log(f"  {'ok  ' if ok else 'FAIL'} {name}")
        if self.switching_attack:
            log(f"  EXPECTED switching attack: the app login set the tenant to {PROBE_TENANT} mid-transaction and read "
                "its rows. The tenant setting is trusted from the application server only; it does not protect "
                "against a client holding the app password (runbook option tenant-logins: one login per tenant, "
                "policies on session_user)")
        else:
            log("  ok   switching attack: setting another tenant reads nothing (policies on session_user)")
        added = f"{written} rows added by COPY" if written else "0 rows added (replay id already present)"
        detail = f"{added}; {verdict}" if not failed else f"RLS matrix FAILED: {failed[0]}"
        if users_back < len(self.catalog.actors):
            detail += f"; only {users_back} of {len(self.catalog.actors)} actors in {SCHEMA}.users"
        return ReplayOutcome(rows_written=hasher.rows, readback_digest=digest, duplicate_rows=duplicates,
                             detail=detail, passed=not failed and users_back >= len(self.catalog.actors))

    async def _tenant_matrix(self, log: Log, tenant: str, snap: str, rows: int) -> list[tuple[str, bool]]:
        """Tenant A (the snapshot's) and B (the probe tenant), as the app login, all rolled back."""
        import psycopg

        app = await self._app_conn()
        self._phase = "tenant A/B matrix as the app login"
        a, b = tenant, PROBE_TENANT
        rec, users = _q("scenario_records"), _q("users")
        out: list[tuple[str, bool]] = []

        async def refused(sql: str, params: tuple) -> bool:
            try:
                async with app.transaction():  # a savepoint inside the rolled-back transaction
                    await app.execute(sql, params)
            except psycopg.errors.InsufficientPrivilege:
                return True
            except psycopg.Error:
                return False
            return False

        async def scalar(sql: str, params: tuple = ()) -> int:
            return (await (await app.execute(sql, params)).fetchone())[0]

        new_rec = (f"insert into {rec} (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
                   " values (%s, %s, 0, 'audit', 'scenario_audit', %s, '{}')")
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (b,))
            out.append((f"B select: {b} sees 0 of A's {rows} replayed rows",
                        await scalar(f"select count(*) from {rec} where snapshot_id = %s", (snap,)) == 0))
            out.append((f"B insert: {b} cannot insert a row for {a}",
                        await refused(new_rec, (a, snap, "matrix-b-into-a"))))
            out.append((f"B update: {b} updates 0 rows of {a}", (await app.execute(
                f"update {rec} set body = body where tenant_id = %s and snapshot_id = %s", (a, snap))).rowcount == 0))
            out.append((f"B delete: {b} deletes 0 rows of {a}", (await app.execute(
                f"delete from {rec} where tenant_id = %s and snapshot_id = %s", (a, snap))).rowcount == 0))
            out.append((f"B positive control: {b} sees its own probe user",
                        await scalar(f"select count(*) from {users} where user_id = %s", (PROBE_USER,)) == 1))
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (a,))
            out.append((f"A select: {a} sees 0 rows of {b}", await scalar(
                f"select (select count(*) from {users} where tenant_id = %s)"
                f" + (select count(*) from {_q('tenants')} where tenant_id = %s)", (b, b)) == 0))
            out.append((f"A insert: {a} cannot insert a row for {b}", await refused(
                f"insert into {users} (tenant_id, user_id, role_key, display_name) values (%s, 'matrix-a', 'x', 'x')",
                (b,))))
            out.append((f"A update: {a} updates 0 rows of {b}", (await app.execute(
                f"update {users} set display_name = display_name where tenant_id = %s", (b,))).rowcount == 0))
            out.append((f"A delete: {a} deletes 0 rows of {b}", (await app.execute(
                f"delete from {users} where tenant_id = %s", (b,))).rowcount == 0))
            out.append((f"A move: {a} cannot move its row to {b}", await refused(
                f"update {rec} set tenant_id = %s where tenant_id = %s and snapshot_id = %s and seq = 0", (b, a, snap))))
            out.append((f"A id probe: {b}'s user id is free for {a} (tenant-scoped keys)", not await refused(
                f"insert into {users} (tenant_id, user_id, role_key, display_name) values (%s, %s, 'x', 'x')",
                (a, PROBE_USER)) and await scalar(
                f"select count(*) from {users} where user_id = %s", (PROBE_USER,)) == 1))
            out.append((f"A positive control: {a} sees all {rows} of its replayed rows",
                        await scalar(f"select count(*) from {rec} where snapshot_id = %s", (snap,)) == rows))
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, ("",))
            out.append(("empty tenant: reads nothing", await scalar(
                f"select (select count(*) from {rec} where snapshot_id = %s) + (select count(*) from {users})"
                f" + (select count(*) from {_q('tenants')})", (snap,)) == 0))
            out.append(("empty tenant: cannot insert", await refused(new_rec, (a, snap, "matrix-empty"))))
        # The switching attack, run and shown as what it is: the app login may set the tenant
        # itself, so a client holding the app password reads another tenant. Expected with an
        # app-server-set tenant (the runbook's default); closed by the tenant-logins option.
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (a,))
            await app.execute(SET_TENANT_SQL, (b,))  # mid-transaction, as any client may
            switched = await scalar(f"select count(*) from {users} where user_id = %s", (PROBE_USER,))
        self.switching_attack = switched > 0
        fresh = await self._connect(self._dsn)  # a new session: the setting was never set at all
        try:
            async with fresh.transaction(force_rollback=True):
                unset = await (await fresh.execute(
                    f"select current_setting('bfg.tenant_id', true) is null,"
                    f" (select count(*) from {rec} where snapshot_id = %s) + (select count(*) from {users})"
                    f" + (select count(*) from {_q('tenants')})", (snap,))).fetchone()
            out.append(("unset tenant (new session): reads nothing", bool(unset[0]) and unset[1] == 0))
        finally:
            await fresh.close()
        return out

    async def rollback_checkpoint(self, log: Log, source: SnapshotSource, replay_id: str) -> StepResult:
        check = "dryrun.rollback_checkpoint"
        try:
            tenant, snap = source.tenant_id, self._snapshot_key(source)
            app = await self._app_conn()
            self._phase = "recording the replay id as the app login"
            async with app.transaction():
                await app.execute(SET_TENANT_SQL, (tenant,))
                added = (await app.execute(
                    f"insert into {_q('scenario_replays')} (tenant_id, replay_id, snapshot_id, rows_written,"
                    " readback_digest) values (%s, %s, %s, %s, %s) on conflict (tenant_id, replay_id) do update"
                    # A replay recorded by an earlier bfg-tui, under the snapshot's earlier id.
                    " set snapshot_id = excluded.snapshot_id, rows_written = excluded.rows_written,"
                    " readback_digest = excluded.readback_digest"
                    " where scenario_replays.snapshot_id <> excluded.snapshot_id",
                    (tenant, replay_id, snap, self._replay_rows, self._readback_digest or None))).rowcount
                row = await (await app.execute(
                    f"select snapshot_id, rows_written, readback_digest from {_q('scenario_replays')}"
                    " where tenant_id = %s and replay_id = %s", (tenant, replay_id))).fetchone()
            recorded = row is not None and row[0] == snap and row[2] == source.digest
            log(f"replay id {replay_id} {'recorded' if added else 'already recorded (re-run)'} in "
                f"{SCHEMA}.scenario_replays for {snap}; read back {'equal' if recorded else 'DIFFERENT'}")
            if not recorded:
                return StepResult(check, False, f"replay id {replay_id} not recorded with the snapshot checksum")
            # The drill: undo exactly this replay's rows as the role a rollback runs as, in a
            # transaction that is rolled back (the staging copy stays for review).
            mig = await self._mig_conn(log)
            self._phase = "rollback drill as the migration login"
            t0 = time.perf_counter()
            async with mig.transaction(force_rollback=True):
                await mig.execute(f"set local role {MIGRATOR_ROLE}")
                await mig.execute("set local lock_timeout = '10s'")
                removed = (await mig.execute(
                    f"delete from {_q('scenario_records')} where tenant_id = %s and snapshot_id = %s",
                    (tenant, snap))).rowcount
                left = await self._count_records(mig, tenant, snap)
            secs = time.perf_counter() - t0
            async with app.transaction(force_rollback=True):
                await app.execute(SET_TENANT_SQL, (tenant,))
                kept = await self._count_records(app, tenant, snap)
            ok = removed == source.rows and left == 0 and kept == source.rows
            log(f"rollback drill ({secs:.2f} s): undoing replay {replay_id} removes exactly its {removed} records "
                f"({left} left); drill transaction rolled back, target keeps {kept}; the file-local store "
                "stays the system of record")
            log(f"target read-back checksum bfg-{self._readback_digest[:8]} = snapshot checksum "
                f"bfg-{source.digest[:8]}: {self._readback_digest == source.digest}")
            if not ok:
                return StepResult(check, False, f"rollback drill: undo removed {removed} of {source.rows} records")
            return StepResult(check, True, f"replay id {replay_id} recorded in the target; rollback drill undoes "
                                           f"exactly {removed} records; target read-back bfg-{source.digest[:8]} equal")
        except Exception as exc:
            return self._failed(check, log, exc)

    async def close(self) -> None:
        for conn in (self._app, self._mig):
            if conn is not None:
                with contextlib.suppress(Exception):  # closing is best effort
                    await conn.close()
        self._app = self._mig = None


# ---------------------------------------------------------------- helpers


def snapshot_key(tenant: str, digest: str) -> str:
    """The snapshot's id in the target: the same snapshot of a tenant has one id whoever replays
    it, yet the id (and the partition named after it, which every login can see in the catalog)
    reveals neither the checksum nor the tenant."""
    return "snap-" + hashlib.sha256(f"bfg-snapshot-key/{tenant}/{digest}".encode()).hexdigest()[:24]


def partition_name(snapshot_id: str) -> str | None:
    """The scenario_records partition a replay makes for this (content-addressed) snapshot id;
    None for any other id (its records go to the default partition)."""
    return "scenario_records_" + snapshot_id.replace("-", "_") if _PARTITIONED_SNAPSHOT.match(snapshot_id) else None


def _field(value: bytes) -> bytes:
    return _I32.pack(len(value)) + value


def _copy_encoder(tenant: str, snap: str, groups: dict[str, str], projected: list[tuple[str, str, bytes]],
                  *, defaults: bool = False) -> Callable[[list[tuple[str, str, Any]], int], bytes]:
    """encode(batch, first_seq): one batch of (kind, id, body) as binary COPY tuples of
    COPY_COLUMNS (without tenant_id and snapshot_id when `defaults`: the table fills them).

    What is constant (field count, tenant, snapshot id, the seq field's length) and what is
    constant per kind (batch group, kind) are prepared once; per record the seq, the id and
    the body with their lengths are packed. The tuples are assembled by C code (map, zip, chain, join) rather
    than a Python loop per record. Tenants and users records are also collected into
    `projected` (they land in their own tables afterwards).
    """
    head = (struct.pack("!h", 5) if defaults else
            struct.pack("!h", 7) + _field(tenant.encode()) + _field(snap.encode())) + _I32.pack(4)
    tails: dict[str, bytes] = {}
    pack = _I32.pack

    def encode(batch: list[tuple[str, str, Any]], seq: int) -> bytes:
        kinds = list(map(_first, batch))
        for kind in set(kinds) - tails.keys():
            if kind not in groups:
                raise _Fail(f"record kind {kind} belongs to no batch group")
            tails[kind] = _field(groups[kind].encode()) + _field(kind.encode())
        rids = list(map(str.encode, map(_second, batch)))
        bodies = utf8_bodies(tuple(map(_third, batch)))
        if not _PROJECTED.isdisjoint(kinds):
            projected.extend((k, r, b) for k, r, b in zip(kinds, map(_second, batch), bodies, strict=True)
                             if k in _PROJECTED)
        return b"".join(chain.from_iterable(zip(
            repeat(head), map(pack, range(seq, seq + len(batch))), map(tails.__getitem__, kinds),
            map(pack, map(len, rids)), rids, map(pack, map(len, bodies)), bodies)))

    return encode


_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


def _canonical_run(keys: str, n: int, ranks: dict[str, str], last: str) -> tuple[bool, str]:
    """(strictly in canonical order, the last key) for one group's keys "kind␟id␞kind␟id…".

    Each kind becomes a one-character rank (catalog order), so plain string order of the
    keys is canonical order; the check is C code over the whole group.
    """
    keys = "\x1e" + keys
    for kind, rank in ranks.items():
        keys = keys.replace(f"\x1e{kind}\x1f", f"\x1e{rank}\x1f")
    split = keys[1:].split("\x1e")
    if len(split) != n or set(map(_second_char, split)) != {"\x1f"}:
        return False, last  # an unknown kind, or a separator inside an id: the slow check decides
    return last < split[0] and all(map(operator.lt, split, islice(split, 1, None))), split[-1]


def _second_char(key: str) -> str:
    return key[1:2]


class _BinaryRows:
    """Rows of a binary COPY stream, as lists of raw field values (None for NULL)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._started = False
        self.done = False

    def feed(self, data: bytes | memoryview) -> list[list[bytes | None]]:
        buf = self._buf
        buf += data
        pos, out, size = 0, [], len(buf)
        if not self._started:
            if size < 19:
                return out
            if bytes(buf[:11]) != _COPY_HEADER[:11]:
                raise _Fail("the read-back COPY sent no binary header")
            pos = 19 + int.from_bytes(buf[15:19], "big")
            self._started = True
        while size - pos >= 2:
            fields_n = int.from_bytes(buf[pos:pos + 2], "big", signed=True)
            if fields_n == -1:
                self.done = True
                pos += 2
                break
            p, fields = pos + 2, []
            for _ in range(fields_n):
                if size - p < 4:
                    break
                length = int.from_bytes(buf[p:p + 4], "big", signed=True)
                p += 4
                if length < 0:
                    fields.append(None)
                    continue
                if size - p < length:
                    break
                fields.append(bytes(buf[p:p + length]))
                p += length
            else:
                out.append(fields)
                pos = p
                continue
            break  # an incomplete row: wait for more data
        del buf[:pos]
        return out


async def _closed(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):  # the peer may reset; the connection is gone either way
        await asyncio.wait_for(writer.wait_closed(), 2)


async def _server_certificate(host: str, port: int) -> bytes:
    """The server certificate (DER): PostgreSQL SSLRequest, then a TLS handshake on the same socket."""
    if host.startswith("/"):
        raise _Fail("a Unix socket has no TLS")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TCP_TIMEOUT_S)
    try:
        writer.write(SSL_REQUEST)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readexactly(1), TCP_TIMEOUT_S)
        if answer != b"S":
            raise _Fail("the server declined the SSLRequest (TLS is off)")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # only reading the certificate; libpq's sslmode verifies
        await asyncio.wait_for(writer.start_tls(ctx, server_hostname=None if _is_ip(host) else host), TCP_TIMEOUT_S)
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if not der:
            raise _Fail("the server sent no certificate")
        return der
    finally:
        writer.close()
        await _closed(writer)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _show_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("/") else host


def _safe_redact(dsn: str) -> str:
    try:
        return redact_endpoint(dsn)
    except ValueError:
        return "postgresql://(unparseable target)"


def _url_password(dsn: str) -> str:
    """The password in a URL's user info (libpq lets ?password= override it, so it is not in the dict)."""
    from urllib.parse import unquote

    m = re.match(r"^postgres(?:ql)?://([^@/?#]*)@", dsn.strip(), re.IGNORECASE)
    if not m or ":" not in m.group(1):
        return ""
    return unquote(m.group(1).split(":", 1)[1])


def _secret_strings(dsn: str) -> set[str]:
    """Every value of `dsn` that may be secret, raw and decoded, to scrub from messages."""
    if not dsn:
        return set()
    from urllib.parse import unquote

    found = {dsn, dsn.strip()}
    url_pw = _url_password(dsn)
    if url_pw:
        found |= {url_pw, unquote(url_pw)}
    m = re.match(r"^postgres(?:ql)?://([^@/?#]*)@", dsn.strip(), re.IGNORECASE)
    if m and ":" in m.group(1):
        found.add(m.group(1).split(":", 1)[1])
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    except Exception:
        params = {}
        # Unparseable: scrub every word of it that is not plainly a key or a host.
        found |= {w for w in re.split(r"[\s=&?@:/']+", dsn) if len(w) >= 6}
    for key, value in params.items():
        if key in _SHOWN_KEYS or not value:
            continue
        found.add(value)
        for token in re.split(r"\s+", value):
            _, _, tail = token.partition("=")
            if len(tail) >= 4:
                found.add(tail)
    return {s for s in found if s}


__all__ = ["MIGRATION_ENV", "PROBE_TENANT", "PostgresTarget", "partition_name", "snapshot_key"]
