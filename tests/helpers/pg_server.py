"""The PostgreSQL test server, as the tests see it.

`scripts/pg-test-server start` writes an env file (default /tmp/bfg-pg/env, or the
path in BFG_TUI_PG_ENV) with password-free DSNs and PGPASSFILE. Variables already in
the environment win over the file, so an externally provided server works too.

No server: in CI (CI=true) the requesting test fails loudly; elsewhere it is skipped
with the reason. Use the `pg_server` fixture, or call `require_server()` directly.
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_ENV_FILE = "/tmp/bfg-pg/env"
KEYS = (
    "BFG_TUI_PG_ADMIN_DSN",
    "BFG_TUI_PG_MIGRATION_DSN",
    "BFG_TUI_PG_APP_DSN",
    "BFG_TUI_PG_SSLROOTCERT",
    "BFG_TUI_PG_HOST",
    "BFG_TUI_PG_PORT",
    "BFG_TUI_PG_POOL_PORT",
    "PGPASSFILE",
    "BFG_TUI_PG_DATA",
)
# The logins the test server makes for the shared store, one per actor (members of bfg_app).
ACTOR_LOGINS = {
    "user_md_anna": "bfg_anna_login",
    "user_dispatcher_marek": "bfg_marek_login",
    "user_accountant_olena": "bfg_olena_login",
    "driver_tarasenko": "bfg_driver_login",
    "cp_client_lviv_farma": "bfg_client_login",
}
OTHER_TENANT_LOGIN = "bfg_other_login"  # for a second tenant
CREATEROLE_LOGIN = "bfg_createrole_login"  # holds CREATEROLE: refused by the store and the probe
INDIRECT_LOGIN = "bfg_indirect_login"  # member of bfg_ops, member of bfg_migrator: refused too
# libpq settings a developer's shell may hold; a test that aims a probe at the server clears them.
PG_ENV_KEYS = ("PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE", "PGSERVICE", "PGOPTIONS")


@dataclass(frozen=True)
class PgServer:
    admin_dsn: str  # superuser, setup only: never for verifications
    migration_dsn: str  # member of bfg_migrator (SET ROLE bfg_migrator to own/COPY)
    app_dsn: str  # member of bfg_app: non-owner, no BYPASSRLS
    passfile: str  # libpq pgpass file holding the passwords
    sslrootcert: str  # the server's self-signed certificate
    host: str
    port: int
    pool_port: int | None = None  # PgBouncer (transaction pooling) in front of the server
    data_dir: str = ""  # scripts/pg-test-server's data folder (its server.log); "" for a server not started here

    def conninfo(self, which: str = "app") -> str:
        if which in ("admin", "migration", "app"):
            return {"admin": self.admin_dsn, "migration": self.migration_dsn, "app": self.app_dsn}[which]
        return self.login_dsn(which)

    def login_dsn(self, login: str, *, pooled: bool = False) -> str:
        """The app DSN for another login of the test server, direct or through PgBouncer."""
        dsn = self.app_dsn.replace("bfg_app_login@", f"{login}@", 1)
        if pooled:
            if not self.pool_port:
                pytest.skip("the test server runs no PgBouncer (BFG_TUI_PG_POOL_PORT is empty)")
            dsn = dsn.replace(f":{self.port}/", f":{self.pool_port}/", 1)
        return dsn

    def actor_dsn(self, actor: str, *, pooled: bool = False) -> str:
        return self.login_dsn(ACTOR_LOGINS[actor], pooled=pooled)

    def server_log(self) -> bytes:
        """The server's log, for "the canary reached nowhere" checks. A server started by
        scripts/pg-test-server always has one (a missing log fails); for another server the
        calling test is skipped (failed in CI) at this point, so the check is never silently left out."""
        if not self.data_dir:
            _unavailable("its log is unknown: BFG_TUI_PG_DATA is not set (a server not started by "
                         "scripts/pg-test-server)")
        return (Path(self.data_dir) / "server.log").read_bytes()

    def in_database(self, which: str, database: str) -> str:
        """The DSN of `admin`, `migration` or `app` (or a login) in another database of this server."""
        return self.conninfo(which).replace("/bfg?", f"/{database}?", 1)

    def connect(self, which: str = "app", **kwargs):
        """A psycopg 3 connection as `admin`, `migration` or `app` (password from pgpass)."""
        import psycopg

        kwargs.setdefault("passfile", self.passfile)
        kwargs.setdefault("connect_timeout", 10)
        return psycopg.connect(self.conninfo(which), **kwargs)


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """`export KEY='value'` lines into a dict (shell quoting honoured)."""
    values: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, raw = line.partition("=")
        if not sep:
            continue
        parts = shlex.split(raw)
        values[key.strip()] = parts[0] if parts else ""
    return values


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(
            f"PostgreSQL test server required in CI but unavailable: {reason} "
            "(run scripts/pg-test-server start before the tests)",
            pytrace=False,
        )
    pytest.skip(f"no PostgreSQL test server: {reason} (start one: scripts/pg-test-server start)")


def find_server() -> tuple[PgServer | None, str]:
    """(server, "") or (None, reason). Never raises, never skips."""
    env_path = os.environ.get("BFG_TUI_PG_ENV", DEFAULT_ENV_FILE)
    values: dict[str, str] = {}
    if Path(env_path).is_file():
        try:
            values = read_env_file(env_path)
        except (OSError, ValueError) as exc:
            return None, f"cannot read {env_path}: {exc}"
    values.update({k: os.environ[k] for k in KEYS if os.environ.get(k)})
    missing = [k for k in KEYS[:3] if not values.get(k)]
    if missing:
        return None, f"{', '.join(missing)} not set and no env file at {env_path}"
    passfile = values.get("PGPASSFILE", "")
    if passfile and not Path(passfile).is_file():
        return None, f"PGPASSFILE {passfile} does not exist"
    host = values.get("BFG_TUI_PG_HOST", "127.0.0.1")
    port = int(values.get("BFG_TUI_PG_PORT", "5432"))
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        return None, f"{host}:{port} does not accept connections ({exc.strerror or exc})"
    return (
        PgServer(
            admin_dsn=values["BFG_TUI_PG_ADMIN_DSN"],
            migration_dsn=values["BFG_TUI_PG_MIGRATION_DSN"],
            app_dsn=values["BFG_TUI_PG_APP_DSN"],
            passfile=passfile,
            sslrootcert=values.get("BFG_TUI_PG_SSLROOTCERT", ""),
            host=host,
            port=port,
            pool_port=int(values["BFG_TUI_PG_POOL_PORT"]) if values.get("BFG_TUI_PG_POOL_PORT") else None,
            data_dir=values.get("BFG_TUI_PG_DATA", ""),
        ),
        "",
    )


def require_server() -> PgServer:
    """The server, or fail (CI) / skip (elsewhere) the calling test with the reason."""
    server, reason = find_server()
    if server is None:
        _unavailable(reason)
    assert server is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    return server


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    """Session fixture: the running PostgreSQL test server (fail in CI, skip elsewhere)."""
    return require_server()
