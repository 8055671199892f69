"""The connection wizard and the dry-run against a real PostgreSQL server, through the CLI.

The target is always the app login (non-owner, no BYPASSRLS) with its password in the
pgpass file; the migration login comes from BFG_TUI_MIGRATION_DSN. Rows are counted
as the admin login only to check what the probes did, never to prove RLS.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bfg_tui.canonical import canonical_json
from bfg_tui.probes.postgres_target import partition_name
from tests.helpers import ROOT, wait_for
from tests.helpers.pg_server import PgServer, read_env_file
from tests.helpers.walkthrough import ANNA, MAREK, counts, owners_values, save_and_freeze, status, transition_signed_off

pytestmark = pytest.mark.postgres
psycopg = pytest.importorskip("psycopg")

S = "bfg_flowcontrol"


def _snap_key(digest: str) -> str:
    from bfg_tui.probes.postgres_target import snapshot_key

    return snapshot_key("bfg", digest)


def _replay_id(digest: str, endpoint: str) -> str:
    from bfg_tui.probes.runner import replay_id_for

    return replay_id_for(digest, endpoint)


def _admin_counts(pg: PgServer, digest: str, replay_id: str) -> tuple[int, int, int]:
    with pg.connect("admin", autocommit=True) as conn:
        return conn.execute(
            f"select (select count(*) from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s),"
            f" (select count(*) from {S}.scenario_snapshots where tenant_id = 'bfg' and snapshot_id = %s),"
            f" (select count(*) from {S}.scenario_replays where tenant_id = 'bfg' and replay_id = %s)",
            (_snap_key(digest), _snap_key(digest), replay_id),
        ).fetchone()


def _forget_snapshot(pg: PgServer, digest: str) -> None:
    """Remove a replayed snapshot from the target (admin), its partition included, so the
    next replay really COPYs, as the first replay of a snapshot does."""
    snap = _snap_key(digest)
    with pg.connect("admin") as conn:
        conn.execute(f"select 1 from {S}.scenario_snapshots limit 0")  # schema exists (runbook applied)
        conn.execute(f"delete from {S}.scenario_replays where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {S}.scenario_snapshots where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"drop table if exists {S}.{partition_name(snap)}")


@pytest.fixture
def own_snapshot(pg: PgServer, cli) -> Iterator[Callable[[str], dict]]:
    """own_snapshot(scale): the scenario saved at that scale and frozen, its snapshot not in the
    target, so the next replay really COPYs (removed from the target again afterwards); its status."""
    digests: list[str] = []

    def make(scale: str) -> dict:
        save_and_freeze(cli, "--scale", scale)
        snapshot = status(cli)["snapshot"]
        _forget_snapshot(pg, snapshot["digest"])
        digests.append(snapshot["digest"])
        return snapshot

    yield make
    for digest in digests:
        _forget_snapshot(pg, digest)


def _server_fingerprint(pg: PgServer) -> str:
    pem = Path(pg.sslrootcert).read_text()
    return "sha256:" + hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def _one_line_failure(result, check: str) -> str:
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"bfg-tui: probe failed: {check}: "), lines[0]
    assert "Traceback" not in result.err + result.out
    return lines[0]


def _stored_failure(cli, check: str) -> str:
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks[check]["ready"] is False
    assert checks[check]["reason"].startswith("failed: "), checks[check]
    return checks[check]["reason"]


# --------------------------------------------------------------------------- walkthrough


def test_walkthrough_reaches_ready_for_reviewed_cutover(pg, cli, tmp_path: Path) -> None:
    target = pg.app_dsn
    transition_signed_off(cli, note="rehearsed on PostgreSQL")

    conn = cli("probe", "connection", target, actor=MAREK)
    assert conn.code == 0, conn
    assert "connection probe passed: 4/4 against postgresql://bfg_app_login@" in conn.out
    doc = status(cli)
    assert counts(doc, "connection") == {"connection": "4/4"}

    dry = cli("probe", "dry-run", target, actor=MAREK)
    assert dry.code == 0, dry
    assert "tenant A/B matrix 15/15" in dry.out
    # The switching attack is shown as the documented gap of an app-server-set tenant, not a pass.
    assert "EXPECTED switching attack: the app login set the tenant to bfg-rls-probe mid-transaction" in dry.out
    doc = status(cli)
    assert counts(doc, "dry_run", "preflight", "release") == {"dry_run": "5/5", "preflight": "5/5", "release": "5/5"}
    # Partition names (and bounds), which every login can read in the catalog, reveal no checksum or tenant.
    from bfg_tui.probes.postgres_target import partition_name

    part = partition_name(_snap_key(doc["snapshot"]["digest"]))
    with pg.connect("app") as app:
        seen = " ".join(r[0] for r in app.execute(
            "select c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) || ' ' || coalesce(string_agg("
            " pg_get_constraintdef(k.oid), ' '), '') from pg_class c left join pg_constraint k on k.conrelid = c.oid"
            " where c.oid = %s::regclass group by c.oid", (f"{S}.{part}",)).fetchall())
    assert part in seen and doc["snapshot"]["digest"][:8] not in seen and "bfg'" not in seen

    # Re-running the dry-run with the same replay id adds no rows (counted as admin).
    digest = doc["snapshot"]["digest"]
    endpoint = conn.out.rsplit(" against ", 1)[1].strip()
    replay_id = _replay_id(digest, endpoint)
    first = _admin_counts(pg, digest, replay_id)
    again = cli("probe", "dry-run", target, actor=MAREK)
    assert again.code == 0, again
    assert "COPY skipped, 0 rows added" in again.out
    assert _admin_counts(pg, digest, replay_id) == first == (doc["snapshot"]["rows"], 1, 1)

    owners_values(cli)
    release = tmp_path / "release.env"
    assert cli("export", "release", "-o", str(release), actor=ANNA).code == 0
    doc = status(cli)
    assert counts(doc, "wiring", "gates") == {"wiring": "7/7", "gates": "9/9"}
    assert doc["decisions"]["wiring"] == "READY"
    assert doc["decisions"]["go_no_go"] == "READY_FOR_REVIEWED_CUTOVER"

    wiring = cli("export", "wiring", actor=ANNA)
    assert wiring.code == 0, wiring
    assert "traffic=production_traffic_disabled" in wiring.out
    packet = cli("export", "connection", "--format", "json", actor=ANNA)
    assert packet.code == 0, packet
    assert _server_fingerprint(pg) in packet.out
    assert '"postgresql"' in packet.out
    assert cli("audit", "verify").code == 0


# --------------------------------------------------------------------------- COPY replay, 100k


@pytest.fixture
def scaled_store(cli) -> Iterator[dict]:
    save_and_freeze(cli, "--scale", "10000")
    yield status(cli)["snapshot"]


def test_copy_replay_of_100k_records_has_checksum_parity(pg, cli, scaled_store) -> None:
    digest, rows = scaled_store["digest"], scaled_store["rows"]
    assert rows >= 100_000
    _forget_snapshot(pg, digest)
    try:
        assert cli("probe", "connection", pg.app_dsn, actor=MAREK).code == 0
        dry = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
        assert dry.code == 0, dry
        assert f"COPY wrote {rows} rows" in dry.out
        assert f"read back {rows} records as the app login" in dry.out
        assert f"dryrun.adapter_replay: PASS — {rows} records replayed and read back, checksum bfg-{digest[:8]} equal" \
            in dry.out
        # Independent of the probe: the server hashes the exact bodies (never jsonb::text).
        tail = canonical_json({"schema": "BFGScenarioSnapshot.v1", "session": "grant-demo-local", "tenant": "bfg"})[1:]
        with pg.connect("admin", autocommit=True) as conn:
            server_digest, count = conn.execute(
                f"""select encode(sha256(convert_to(
                           '{{"records":[' || string_agg(body, ',' order by seq) || '],' || %s, 'UTF8')), 'hex'),
                           count(*)
                      from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s""",
                (tail, _snap_key(digest)),
            ).fetchone()
        assert (server_digest, count) == (digest, rows)
        doc = status(cli)
        assert counts(doc, "dry_run") == {"dry_run": "5/5"}
        # Its own partition, attached, with forced RLS and the tenant policy; the app has no
        # grant on it and reaches the rows only through the parent.
        assert f"into the new partition {S}.{partition_name(_snap_key(digest))}" in dry.out
        with pg.connect("app", autocommit=True) as conn:
            part = conn.execute(
                "select pg_get_expr(c.relpartbound, c.oid), c.relrowsecurity, c.relforcerowsecurity,"
                " has_table_privilege(c.oid, 'select, insert, update, delete'),"
                " (select count(*) from pg_policies p where p.schemaname = %s and p.tablename = c.relname"
                "  and p.qual is not null and p.with_check is not null)"
                " from pg_class c where c.oid = to_regclass(%s)",
                (S, f"{S}.{partition_name(_snap_key(digest))}"),
            ).fetchone()
        assert part == (f"FOR VALUES IN ('{_snap_key(digest)}')", True, True, False, 1)
        # Loaded frozen (COPY FREEZE into the table made in the same transaction): every page
        # is all-visible from the start, so the attach's foreign-key check reads only the key
        # and no later read or vacuum has to rewrite the pages.
        with pg.connect("admin", autocommit=True) as conn:
            pages, visible = conn.execute(
                "select relpages, relallvisible from pg_class where oid = to_regclass(%s)",
                (f"{S}.{partition_name(_snap_key(digest))}",)).fetchone()
        assert pages > 0 and visible == pages, (pages, visible)
    finally:
        _forget_snapshot(pg, digest)


def test_read_back_catches_a_record_id_repeated_in_the_target(pg, cli, own_snapshot) -> None:
    """The key is (tenant_id, snapshot_id, seq): record_id uniqueness per snapshot is proven
    by the read-back instead. A row whose record_id is changed to its neighbour's (same
    body, same count, so the checksum still matches) fails the replay."""
    digest = own_snapshot("3")["digest"]
    assert cli("probe", "connection", pg.app_dsn, actor=MAREK).code == 0
    first = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
    assert first.code == 0, first
    assert "(kind, record_id) unique and in canonical order" in first.out
    with pg.connect("admin") as conn:
        changed = conn.execute(
            f"""update {S}.scenario_records r set record_id = p.record_id
                  from {S}.scenario_records p
                 where r.tenant_id = 'bfg' and r.snapshot_id = %s and p.tenant_id = r.tenant_id
                   and p.snapshot_id = r.snapshot_id and p.seq = r.seq - 1 and p.kind = r.kind
                   and r.seq = (select min(seq) from {S}.scenario_records where tenant_id = 'bfg'
                                   and snapshot_id = %s and kind = 'orders') + 1""",
            (_snap_key(digest), _snap_key(digest)),
        ).rowcount
    assert changed == 1
    again = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
    assert again.code == 1, again
    assert "COPY skipped, 0 rows added" in again.out
    assert "1 rows out of canonical (kind, record_id) order, 1 repeat an id" in again.out
    assert "dryrun.adapter_replay: FAIL — 1 duplicate rows in the target for this snapshot" in again.out


def _records_where(pg: PgServer, digest: str) -> tuple[int, str | None]:
    """(records of tenant bfg for the snapshot, its partition if it exists), counted as admin."""
    snap = _snap_key(digest)
    with pg.connect("admin", autocommit=True) as conn:
        return conn.execute(
            f"select (select count(*) from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s),"
            " to_regclass(%s)::text",
            (snap, f"{S}.{partition_name(snap)}"),
        ).fetchone()


def test_replay_when_the_default_partition_holds_the_snapshot_id(pg, cli, own_snapshot) -> None:
    """A row with the same snapshot id written row by row before (here: another tenant's)
    keeps the new partition from attaching: the replay rolls that back to a savepoint and
    writes through the parent instead. An interrupted replay is then completed through a
    staging table."""
    snapshot = own_snapshot("4")
    digest, rows = snapshot["digest"], snapshot["rows"]
    snap = _snap_key(digest)
    with pg.connect("admin") as conn:
        conn.execute(f"insert into {S}.tenants (tenant_id, name) values ('tenant-elsewhere', 'x') on conflict do nothing")
        conn.execute(
            f"insert into {S}.scenario_records (tenant_id, snapshot_id, seq, batch_group, kind, record_id, body)"
            " values ('tenant-elsewhere', %s, 0, 'audit', 'scenario_audit', 'x', '{}')", (snap,))
    try:
        assert cli("probe", "connection", pg.app_dsn, actor=MAREK).code == 0
        first = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
        assert first.code == 0, first
        assert f"the default partition already holds rows with snapshot id {snap}: writing through the parent" \
            in first.out
        assert f"COPY wrote {rows} rows" in first.out
        assert _records_where(pg, digest) == (rows, None)
        with pg.connect("admin") as conn:  # an interrupted replay: the snapshot row, half the records
            conn.execute(f"delete from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s"
                         " and seq %% 2 = 1", (snap,))
        again = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
        assert again.code == 0, again
        assert f"staging merge: {rows // 2} missing records added" in again.out
        assert f"read back {rows} records as the app login" in again.out
        assert _records_where(pg, digest) == (rows, None)
    finally:
        with pg.connect("admin") as conn:
            conn.execute(f"delete from {S}.scenario_records where tenant_id = 'tenant-elsewhere'")


def test_replay_into_a_partition_left_empty(pg, cli, own_snapshot) -> None:
    """Records and snapshot row removed but the partition kept (a manual clean-up): the next
    replay truncates the empty partition and loads it in place."""
    snapshot = own_snapshot("5")
    digest, rows = snapshot["digest"], snapshot["rows"]
    snap, part = _snap_key(digest), f"{S}.{partition_name(_snap_key(digest))}"
    assert cli("probe", "connection", pg.app_dsn, actor=MAREK).code == 0
    assert cli("probe", "dry-run", pg.app_dsn, actor=MAREK).code == 0
    assert _records_where(pg, digest) == (rows, part)
    with pg.connect("admin") as conn:
        conn.execute(f"delete from {S}.scenario_replays where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {S}.scenario_records where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
        conn.execute(f"delete from {S}.scenario_snapshots where tenant_id = 'bfg' and snapshot_id = %s", (snap,))
    again = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
    assert again.code == 0, again
    assert f"partition {part} was left empty by an earlier replay: truncated, loaded in place" in again.out
    assert f"COPY wrote {rows} rows" in again.out
    assert _records_where(pg, digest) == (rows, part)


# --------------------------------------------------------------------------- refusals and failures


def test_dry_run_refuses_a_target_without_connection_evidence(pg, cli, tmp_path: Path) -> None:
    save_and_freeze(cli)
    refused = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
    assert refused.code == 1
    assert "dry-run needs connection 4/4" in refused.err
    # Evidence for another target (a local file) does not count for the PostgreSQL one.
    assert cli("probe", "connection", str(tmp_path / "rehearsal.db"), actor=MAREK).code == 0
    refused = cli("probe", "dry-run", pg.app_dsn, actor=MAREK)
    assert refused.code == 1
    assert "the connection evidence is for sqlite://" in refused.err
    assert status(cli)["groups"]["dry_run"]["ready"] == 0
    assert any(e["kind"] == "action.refused" for e in cli("audit", "list", "--json").json())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_closed_port_fails_cleanly(pg, cli) -> None:
    result = cli("probe", "connection", f"postgresql://bfg_app_login@127.0.0.1:{_free_port()}/bfg?sslmode=require",
                 actor=MAREK)
    line = _one_line_failure(result, "connection.endpoint_reachability")
    assert "Connection refused" in line
    assert _stored_failure(cli, "connection.endpoint_reachability")
    assert status(cli)["groups"]["connection"]["ready"] == 0


def test_wrong_password_fails_cleanly(pg, cli, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong-Pw-0000")  # libpq prefers it over pgpass
    result = cli("probe", "connection", pg.app_dsn, actor=MAREK)
    line = _one_line_failure(result, "connection.endpoint_reachability")
    assert "password authentication failed" in line
    assert "wrong-Pw-0000" not in result.out + result.err
    assert "wrong-Pw-0000" not in _stored_failure(cli, "connection.endpoint_reachability")


@pytest.mark.parametrize(("which", "why"), [
    ("admin", "bfg_admin bypasses row-level security"),
    ("migration", "bfg_migration_login is a member of bfg_migrator"),
    ("bfg_createrole_login", "bfg_createrole_login holds CREATEROLE"),  # could grant itself bfg_migrator
    ("bfg_indirect_login", "bfg_indirect_login is a member of bfg_migrator"),  # through bfg_ops
])
def test_owner_superuser_createrole_or_migrator_member_login_fails_rbac_session(pg, cli, which: str, why: str) -> None:
    result = cli("probe", "connection", pg.conninfo(which), actor=MAREK)
    line = _one_line_failure(result, "connection.rbac_session")
    assert why in line and "probe with the non-owner app login" in line
    reason = _stored_failure(cli, "connection.rbac_session")
    assert why in reason
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks["connection.endpoint_reachability"]["ready"] and checks["connection.tls_fingerprint"]["ready"]
    assert status(cli)["groups"]["wiring"]["ready"] < 7


def test_missing_migration_login_is_a_clear_reason(pg, cli, monkeypatch) -> None:
    monkeypatch.delenv("BFG_TUI_MIGRATION_DSN", raising=False)
    monkeypatch.delenv("BFG_TUI_PG_MIGRATION_DSN", raising=False)
    result = cli("probe", "connection", pg.app_dsn, actor=MAREK)
    line = _one_line_failure(result, "connection.rbac_session")
    assert "set BFG_TUI_MIGRATION_DSN" in line


@pytest.fixture
def norls_db(pg: PgServer, new_database) -> str:
    """A database whose bfg_flowcontrol tables have no row-level security at all."""
    name = new_database(owned=False)
    with psycopg.connect(pg.in_database("admin", name), passfile=pg.passfile, autocommit=True) as conn:
        conn.execute(f"create schema {S}; grant usage on schema {S} to bfg_app")
        for table in ("tenants", "users", "permissions", "scenario_snapshots", "scenario_records",
                      "scenario_replays", "audit_events"):
            conn.execute(f"create table {S}.{table} (tenant_id text not null, id text)")
            conn.execute(f"grant select, insert, update, delete on {S}.{table} to bfg_app")
    return name


def test_target_without_rls_fails_rbac_session(pg, cli, norls_db: str, target_in) -> None:
    result = cli("probe", "connection", target_in(norls_db), actor=MAREK)
    line = _one_line_failure(result, "connection.rbac_session")
    assert "row level security is not enabled" in line


@pytest.fixture(scope="module")
def plain_server() -> Iterator[dict[str, str]]:
    """A second throwaway server that also accepts TCP without TLS (BFG_PG_ALLOW_PLAIN=1)."""
    script = ROOT / "scripts" / "pg-test-server"
    if os.geteuid() != 0 or not shutil.which("openssl"):
        pytest.skip("starting a second PostgreSQL server needs root (scripts/pg-test-server)")
    state = f"/tmp/bfg-pg-plain-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "BFG_PG_STATE": state, "BFG_PG_ALLOW_PLAIN": "1", "BFG_PG_PORT": str(_free_port())}
    proc = subprocess.run([str(script), "start"], capture_output=True, text=True, env=env, timeout=120)
    try:
        if proc.returncode != 0:
            pytest.skip(f"could not start a plain-TCP PostgreSQL: {proc.stderr.strip()[-200:]}")
        yield read_env_file(f"{state}/env")
    finally:
        subprocess.run([str(script), "stop"], capture_output=True, env=env, timeout=60)
        Path(f"{state}.lock").unlink(missing_ok=True)


def test_server_without_tls_fails_the_tls_step(pg, cli, plain_server, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSFILE", plain_server["PGPASSFILE"])
    target = plain_server["BFG_TUI_PG_APP_DSN"].replace("sslmode=require", "sslmode=disable")
    result = cli("probe", "connection", target, actor=MAREK)
    line = _one_line_failure(result, "connection.tls_fingerprint")
    assert "does not use TLS (sslmode=disable)" in line
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks["connection.endpoint_reachability"]["ready"] is True
    assert checks["connection.tls_fingerprint"]["reason"].startswith("failed: ")
    doc = status(cli)
    assert doc["groups"]["wiring"]["ready"] < 7


def test_password_from_pgpassword_counts_as_external_and_is_never_shown(pg, cli, db: Path, monkeypatch) -> None:
    # What libpq would read from pgpass, handed over through the environment instead.
    def password_of(user: str) -> str:
        line = next(entry for entry in Path(pg.passfile).read_text().splitlines()
                    if entry.startswith(f"{pg.host}:") and f":{user}:" in entry)
        return line.rsplit(":", 1)[1]

    password, migration_pw = password_of("bfg_app_login"), password_of("bfg_migration_login")
    monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    # PGPASSWORD applies to every libpq connection of the process (it beats pgpass), so
    # the migration login, another role, carries its own password in its env variable.
    monkeypatch.setenv("BFG_TUI_MIGRATION_DSN",
                       pg.migration_dsn.replace("bfg_migration_login@", f"bfg_migration_login:{migration_pw}@"))
    result = cli("probe", "connection", pg.app_dsn, actor=MAREK)
    assert result.code == 0, result
    assert "password supplied by libpq from PGPASSWORD" in result.out
    checks = {c["id"]: c for c in cli("checks", "--json").json()}
    assert checks["wiring.live_credentials"]["ready"] is True
    shown = result.out + result.err + cli("audit", "list", "--json").out + cli("status", "--json").out
    for secret in (password, migration_pw):
        assert secret not in shown
        assert all(secret.encode() not in p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_fresh_database_gets_the_runbook_and_passes(pg, cli, new_database, target_in) -> None:
    target = target_in(new_database())  # without the schema
    save_and_freeze(cli)
    conn = cli("probe", "connection", target, actor=MAREK)
    assert conn.code == 0, conn
    assert "schema bfg_flowcontrol not found: applying the runbook" in conn.out
    dry = cli("probe", "dry-run", target, actor=MAREK)
    assert dry.code == 0, dry
    assert "COPY wrote" in dry.out and "tenant A/B matrix 15/15" in dry.out
    assert counts(status(cli), "connection", "dry_run") == {"connection": "4/4", "dry_run": "5/5"}


class _ReadsUsersAfterRecords:
    """The app login's connection during one dry-run phase: the first time that phase reads
    the users table (its transaction has read scenario_records already), `meet` runs first."""

    def __init__(self, conn: object, session: object, phase: str, meet: Callable[[], None]) -> None:
        self._conn, self._session, self._phase, self._meet = conn, session, phase, meet

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    async def execute(self, query: object, *args: object, **kwargs: object) -> object:
        import re

        if (self._session.phase.startswith(self._phase)  # type: ignore[attr-defined]
                and re.search(r"\busers\b", str(query)) and self._meet is not None):
            meet, self._meet = self._meet, None
            meet()
        return await self._conn.execute(query, *args, **kwargs)  # type: ignore[attr-defined]


@pytest.mark.parametrize("phase", ["reading the snapshot back", "tenant A/B matrix"])
def test_a_dry_runs_app_reads_take_turns_with_another_dry_runs_runbook(
    pg, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phase: str,
) -> None:
    """Dry-run A's app login reads scenario_records, then users, in one transaction (the
    read-back; the tenant matrix). Dry-run B's runbook, started at that moment, locks users,
    then scenario_records: the other order. They take turns instead of deadlocking: both pass.
    A (in this process) is held just before it reads users until B waits on a lock."""
    import sys

    from bfg_tui.probes.postgres.session import PgSession

    stores, digests = [tmp_path / "a.db", tmp_path / "b.db"], []
    for store, scale in zip(stores, ("3", "4"), strict=True):
        save_and_freeze(cli, "--scale", scale, store=store)
        assert cli("probe", "connection", pg.app_dsn, actor=MAREK, store=store).code == 0
        digests.append(cli("status", "--json", store=store).json()["snapshot"]["digest"])
    other: list[subprocess.Popen[str]] = []

    def start_the_other_and_meet() -> None:
        other.append(subprocess.Popen(
            [sys.executable, "-m", "bfg_tui", "--as", MAREK, "--db", str(stores[1]), "probe", "dry-run", pg.app_dsn],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()))
        with pg.connect("admin", autocommit=True) as watch:
            def waits() -> bool:
                assert other[0].poll() is None, other[0].communicate()
                return watch.execute("select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                                     " and usename = 'bfg_migration_login'").fetchone()[0] >= 1

            wait_for(waits, "the other dry-run's runbook never waited on this one", timeout=120, every=0.05)

    app_conn = PgSession.app_conn

    async def watched_app_conn(self: PgSession) -> object:
        conn = await app_conn(self)
        if self.app is conn and not hasattr(self, "watched"):
            self.watched = _ReadsUsersAfterRecords(conn, self, phase, start_the_other_and_meet)
        return self.watched if self.app is conn else conn

    monkeypatch.setattr(PgSession, "app_conn", watched_app_conn)
    for digest in digests:
        _forget_snapshot(pg, digest)
    try:
        mine = cli("probe", "dry-run", pg.app_dsn, actor=MAREK, store=stores[0])
        assert other, "the phase never read users"
        out, err = other[0].communicate(timeout=120)
        assert "deadlock" not in mine.out + mine.err
        assert "deadlock" not in out + err
        assert mine.code == 0, mine
        assert other[0].returncode == 0, (out, err)
        assert "dryrun.adapter_replay: PASS" in mine.out and "dryrun.adapter_replay: PASS" in out
    finally:
        for proc in other:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        for digest in digests:
            _forget_snapshot(pg, digest)


def test_two_replays_into_one_database_at_once(pg, cli, tmp_path: Path) -> None:
    """Two dry-runs (two stores, two snapshots) replaying into the same database at the same
    moment both pass: attaching a partition locks the parent and the tenants table (its
    foreign key), so two replays that each hold one of them would deadlock; replays take
    turns instead. The test holds the default partition, which every attach must lock, so
    both replays reach their attach before either can finish it."""
    import sys

    stores, digests = [tmp_path / "a.db", tmp_path / "b.db"], []
    for store, scale in zip(stores, ("3", "4"), strict=True):
        save_and_freeze(cli, "--scale", scale, store=store)
        assert cli("probe", "connection", pg.app_dsn, actor=MAREK, store=store).code == 0
        digests.append(cli("status", "--json", store=store).json()["snapshot"]["digest"])
    for digest in digests:
        _forget_snapshot(pg, digest)
    argv = [sys.executable, "-m", "bfg_tui", "--as", MAREK]
    try:
        with pg.connect("admin") as holder:
            holder.execute(f"lock table {S}.scenario_records_default in access exclusive mode")
            procs = [subprocess.Popen([*argv, "--db", str(store), "probe", "dry-run", pg.app_dsn],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
                     for store in stores]
            with pg.connect("admin", autocommit=True) as watch:
                def both_waiting() -> bool:
                    assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
                    return watch.execute("select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                                         " and usename = 'bfg_migration_login'").fetchone()[0] >= 2

                wait_for(both_waiting, "the two replays never met", timeout=120, every=0.05)
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0, (out, err)
            assert "deadlock" not in out + err
            assert "dryrun.adapter_replay: PASS" in out
    finally:
        for digest in digests:
            _forget_snapshot(pg, digest)
