"""A canary password typed into a probe target appears nowhere (SPEC §1 rule 3).

The canary is given every way a PostgreSQL target can carry a password (URL user info,
`?password=`, key=value `password=`, `options=-c password=`) and through PGPASSWORD.
After the probe, nothing may hold it: the SQLite store file and its WAL, every other
file the console wrote, `audit list --json`, every packet in every format, the
stdout/stderr of every command (in-process and as a real subprocess), `status --json`
and the stored probe transcript. Against a closed port no server is needed; against
the real server (postgres-marked) a throwaway login whose password IS the canary
passes the whole connection wizard and dry-run, and its password still shows nowhere
(nor in the target database or the server log).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bfg_tui.packets import PACKETS
from tests.helpers.pg_server import PG_ENV_KEYS
from tests.helpers.walkthrough import save_and_freeze

pytestmark = pytest.mark.slow  # subprocesses and real connection attempts in every target form

CANARY = "CANARY-pw-9c1e7"
ANNA, MAREK = "user_md_anna", "user_dispatcher_marek"
FORMS = {
    "url-userinfo": "postgresql://{user}:{pw}@{host}:{port}/bfg?sslmode=require",
    "url-query": "postgresql://{user}@{host}:{port}/bfg?sslmode=require&password={pw}",
    "keyvalue": "host={host} port={port} dbname=bfg user={user} sslmode=require password={pw}",
    "options": "host={host} port={port} dbname=bfg user={user} sslmode=require options='-c password={pw}'",
}


def _target(form: str, host: str, port: int, user: str = "bfg_app_login") -> str:
    return FORMS[form].format(user=user, pw=CANARY, host=host, port=port)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _clean_pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in PG_ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


class Sightings:
    """Everything the commands printed, for one assertion that names where a leak was."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, result) -> None:
        self.texts.append((f"{where} stdout", result.out))
        self.texts.append((f"{where} stderr", result.err))

    def assert_clean(self, root: Path) -> None:
        leaks = [where for where, text in self.texts if CANARY in text]
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if CANARY.encode() in data or CANARY.encode("utf-16-le") in data:
                leaks.append(f"file {path.relative_to(root)}")
        assert not leaks, f"canary found in: {leaks}"


def _everything_after(cli: Callable, sink: Sightings, tmp_path: Path) -> None:
    """Every reading and exporting command, all outputs collected."""
    for args in (("status", "--json"), ("status",), ("audit", "list", "--json", "--limit", "500"),
                 ("audit", "list", "--limit", "500"), ("audit", "verify"), ("checks", "--json"), ("checks",)):
        result = cli(*args)
        assert result.code == 0, result
        sink.add(" ".join(args), result)
    out_dir = tmp_path / "exports"
    out_dir.mkdir(exist_ok=True)
    for packet in PACKETS:
        for fmt in ("text", "json", "md"):
            result = cli("export", packet, "--format", fmt, actor=ANNA)
            sink.add(f"export {packet} {fmt}", result)
            assert result.code == 0, result
            written = cli("export", packet, "--format", fmt, "-o", str(out_dir / f"{packet}.{fmt}"), actor=ANNA)
            sink.add(f"export -o {packet} {fmt}", written)


def _stored_transcripts(db: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("select transcript from probe_runs")]
    finally:
        conn.close()


# --------------------------------------------------------------------------- no server needed


def test_canary_in_every_target_form_against_a_closed_port(cli, cli_proc, db: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", CANARY)  # in the environment too: never stored or printed
    sink = Sightings()
    port = _free_port()
    save_and_freeze(cli)
    for form in FORMS:
        target = _target(form, "127.0.0.1", port)
        result = cli("probe", "connection", target, actor=MAREK)
        sink.add(f"probe {form}", result)
        assert result.code == 1, result
        assert result.err.startswith("bfg-tui: probe failed: connection.endpoint_reachability: "), result.err
        assert "Traceback" not in result.err
        dry = cli("probe", "dry-run", target, actor=MAREK)  # refused: no connection evidence
        sink.add(f"dry-run {form}", dry)
        assert dry.code == 1
        proc = cli_proc("probe", "connection", target, actor=MAREK, env={"PGPASSWORD": CANARY})
        sink.add(f"subprocess probe {form}", proc)
        assert proc.code == 1 and "Traceback" not in proc.err, proc
    # the endpoint was stored, redacted
    doc = cli("status", "--json").json()
    assert doc["groups"]["connection"]["ready"] == 0
    transcripts = _stored_transcripts(db)
    assert len(transcripts) == 2 * len(FORMS)
    assert all(CANARY not in t for t in transcripts)
    assert any(":***@127.0.0.1" in t for t in transcripts)
    _everything_after(cli, sink, tmp_path)
    sink.assert_clean(tmp_path)


def test_unparseable_target_with_canary_is_refused_without_echo(cli, tmp_path: Path) -> None:
    sink = Sightings()
    for target in (f"host=127.0.0.1 {CANARY}", f"postgresql://u:{CANARY}@h:notaport/db",
                   f"postgresql://u:{CANARY}/x@h/db", f"host=h password='{CANARY}"):
        result = cli("probe", "connection", target, actor=MAREK)
        sink.add(f"probe {target[:10]}", result)
        assert result.code == 1
    _everything_after(cli, sink, tmp_path)
    sink.assert_clean(tmp_path)


# --------------------------------------------------------------------------- real server


@pytest.fixture
def pg(pg_server, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    monkeypatch.setenv("BFG_TUI_MIGRATION_DSN", pg_server.migration_dsn)
    return pg_server


@pytest.fixture
def canary_login(pg) -> Iterator[str]:
    """A throwaway app login (member of bfg_app) whose password is the canary."""
    from psycopg import sql

    name = f"bfg_canary_{uuid.uuid4().hex[:8]}"
    with pg.connect("admin", autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login nosuperuser nobypassrls password {} in role bfg_app")
                     .format(sql.Identifier(name), sql.Literal(CANARY)))
    try:
        yield name
    finally:
        with pg.connect("admin", autocommit=True) as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _target_db_clean(pg) -> list[str]:
    with pg.connect("admin", autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'bfg_flowcontrol'").fetchall()]
        return [t for t in tables if conn.execute(
            f"select count(*) from bfg_flowcontrol.{t} x where x::text like %s", (f"%{CANARY}%",)).fetchone()[0]]


@pytest.mark.postgres
def test_canary_against_the_real_server(pg, canary_login: str, cli, cli_proc, db: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sink = Sightings()
    log_before = len(pg.server_log())
    save_and_freeze(cli)

    # The app login with the canary as its (wrong) password, every form: fails at login.
    for form in FORMS:
        result = cli("probe", "connection", _target(form, pg.host, pg.port), actor=MAREK)
        sink.add(f"probe {form}", result)
        assert result.code == 1, result
        assert "Traceback" not in result.err
    # PGPASSWORD wins over pgpass: the wrong canary password fails the login, unprinted.
    monkeypatch.setenv("PGPASSWORD", CANARY)
    result = cli("probe", "connection", pg.app_dsn, actor=MAREK)
    sink.add("probe PGPASSWORD", result)
    assert result.code == 1 and "password authentication failed" in result.err
    monkeypatch.delenv("PGPASSWORD")

    # A login whose password IS the canary, given inline: the whole wizard and dry-run pass,
    # but inline credentials never count as live credentials.
    for form in ("url-query", "keyvalue", "url-userinfo"):
        target = _target(form, pg.host, pg.port, user=canary_login)
        conn = cli("probe", "connection", target, actor=MAREK)
        sink.add(f"probe canary login {form}", conn)
        assert conn.code == 0, conn
        assert "password was given inline" in conn.out
    dry = cli("probe", "dry-run", target, actor=MAREK)
    sink.add("dry-run canary login", dry)
    assert dry.code == 0, dry
    proc = cli_proc("probe", "connection", target, actor=MAREK)
    sink.add("subprocess probe canary login", proc)
    assert proc.code == 0, proc
    doc = cli("status", "--json").json()
    assert doc["groups"]["connection"]["ready"] == 4 and doc["groups"]["dry_run"]["ready"] == 5
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks["wiring.live_credentials"]["ready"] is False
    assert checks["wiring.tenant_context"]["ready"] is True

    assert all(CANARY not in t for t in _stored_transcripts(db))
    _everything_after(cli, sink, tmp_path)
    sink.assert_clean(tmp_path)
    assert _target_db_clean(pg) == []
    assert CANARY.encode() not in pg.server_log()[log_before:]
