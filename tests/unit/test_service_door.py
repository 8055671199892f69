"""The service is the only door: every read the CLI and the screens need is a service method,
`can()` decides who may (recording nothing), the CLI touches no store (rbac imported by the
service alone is an import-linter contract), identity is read once at the edge, and the probe runner is a use case the
service calls (no probe module imports the service)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bfg_tui.service import Console, read_state_now, read_status_now, store_exists
from tests.helpers import ROOT
from tests.helpers.rows import audit_rows

ANNA, MAREK, OLENA, DRIVER = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena", "driver_tarasenko"


@pytest.fixture
async def console(db: Path):
    c = await Console.open(str(db))
    try:
        yield c
    finally:
        await c.close()


async def test_can_answers_without_recording(console: Console, db: Path) -> None:
    before = audit_rows(db)
    own = console.can(OLENA, "check.accept", "transition.db_schema")
    assert own.ok and own.reason is None and not own.countersign
    countersign = console.can(ANNA, "check.accept", "transition.db_schema")
    assert countersign.ok and countersign.countersign
    other = console.can(MAREK, "check.revoke", "transition.db_schema")
    assert not other.ok and "is owned by user_accountant_olena" in str(other.reason)
    probe = console.can(ANNA, "check.accept", "connection.endpoint_reachability")
    assert not probe.ok and "is a probe check" in str(probe.reason)
    read_only = console.can(DRIVER, "check.accept")
    assert not read_only.ok and "may not accept checks: read-only role" in str(read_only.reason)
    assert console.can(OLENA, "check.accept").ok
    assert console.can(MAREK, "scenario.save").ok
    lacks = console.can(OLENA, "snapshot.freeze")
    assert not lacks.ok and "lacks permission snapshot.freeze" in str(lacks.reason)
    unknown = console.can("nobody", "scenario.save")
    assert not unknown.ok and "unknown actor 'nobody'" in str(unknown.reason)
    assert audit_rows(db) == before  # asking is not acting: nothing recorded


async def test_actor_reads(console: Console) -> None:
    assert "gates.countersign" in console.permissions(ANNA)
    assert "gates.countersign" not in console.permissions(OLENA)
    assert console.permissions("nobody") == ()
    claims = console.claims(MAREK)
    assert claims["sub"] == MAREK and claims["tenant_id"] == console.catalog.tenant_id
    assert console.claims("nobody") == {}
    assert console.find_actor(OLENA).id == OLENA  # type: ignore[union-attr]
    assert "unknown actor" in str(console.find_actor("nobody"))


async def test_audit_reads(console: Console) -> None:
    await console.accept(OLENA, "transition.db_schema", note="reviewed")
    total = await console.audit_count()
    page = await console.audit_page(limit=2)
    assert len(page) == 2 and page[0].seq == total and page[0].kind == "check.accept"
    assert await console.audit_count("check.accept") == 1
    assert [e.kind for e in await console.audit_page(text="check.accept")] == ["check.accept"]
    result = await console.verify_audit()
    assert result.ok and result.count == total
    history = await console.check_history("transition.db_schema")
    assert [e.kind for e in history] == ["check.accept"]


async def test_probe_reads(console: Console, tmp_path: Path) -> None:
    target = tmp_path / "rehearsal.db"
    run = await console.probe(MAREK, "connection", str(target))
    assert run.passed
    assert [r[0] for r in await console.latest_probe_runs()] == [run.run_id]
    stored = await console.probe_run(run.run_id)
    assert stored is not None and stored.transcript == run.transcript
    # A probe check's history is its probe's runs.
    history = await console.check_history("connection.tls_fingerprint")
    assert history and all(e.data.get("probe") == "connection" for e in history)


async def test_packet_preview_is_the_packet(console: Console) -> None:
    state, ev = await console.evaluate()
    text = console.packet_preview("release", state, ev)
    assert text.startswith("BFGReleaseNotes") or "release" in text.lower()
    out = await console.export(ANNA, "release", "text")
    assert out.message.rstrip("\n") == text.rstrip("\n")


async def test_status_is_one_path(console: Console, db: Path) -> None:
    """The fast read (no asyncio) and the service's status give the same document."""
    await console.accept(OLENA, "transition.db_schema", note="reviewed")
    assert read_status_now(str(db)) == await console.status()
    assert read_state_now(str(db)) == await console.state()
    assert (await console.status()).blocked


def test_fast_read_does_not_apply(tmp_path: Path) -> None:
    assert read_status_now(str(tmp_path / "none.db")) is None  # no store yet: the full path says so
    assert not store_exists(str(tmp_path / "none.db"))
    assert read_status_now("postgresql://localhost/x") is None
    assert store_exists("postgresql://localhost/x")


def _package(path: Path) -> list[str]:
    """The installed package a source file belongs to (`store/` is bfg_tui.store, `screens/` bfg_tui.screens)."""
    parts = list(path.relative_to(ROOT).parent.parts)
    return parts if parts[0] == "bfg_tui" else ["bfg_tui", *parts]


def _imports(path: Path) -> set[str]:
    """Every module (and imported name) a file imports, relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = _package(path)
            base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])]) \
                if node.level else (node.module or "")
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def test_cli_touches_no_store() -> None:
    cli = ROOT / "bfg_tui" / "cli.py"
    assert ".store." not in cli.read_text(encoding="utf-8")
    assert not {m for m in _imports(cli) if m.startswith("bfg_tui.store")}, "the CLI reads through the service"


def test_no_probe_module_imports_the_service() -> None:
    for path in sorted((ROOT / "bfg_tui" / "probes").rglob("*.py")):
        imported = _imports(path)
        assert not {m for m in imported if m.startswith(("bfg_tui.service", "bfg_tui.rbac", "bfg_tui.cli",
                                                         "bfg_tui.app", "bfg_tui.screens"))}, path


def test_status_path_imports_no_rbac(tmp_path: Path) -> None:
    """`status` reads through the service without RBAC, the planner's simulation or hashing (start-up)."""
    db = tmp_path / "s.db"
    subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(db), "init"], cwd=ROOT, check=True,
                   capture_output=True)
    code = (f"from bfg_tui.cli import main\nmain(['--db', {str(db)!r}, 'status', '--json'])\nimport sys\n"
            "print('\\n'.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    loaded = set(out.split())
    assert "bfg_tui.service" in loaded
    assert not loaded & {"bfg_tui.rbac", "dataclasses", "hashlib", "asyncio", "bfg_tui.rls_lint"}


async def test_identity_is_read_once_at_the_edge(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write and refusal of a session records the origin read when it began."""
    from bfg_tui.errors import Refused

    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.7 50000 10.0.0.1 22")
    console = await Console.open(str(db))
    try:
        monkeypatch.setenv("SSH_CONNECTION", "198.51.100.9 40000 10.0.0.1 22")
        await console.accept(OLENA, "transition.db_schema", note="reviewed")
        with pytest.raises(Refused, match="is owned by"):
            await console.accept(MAREK, "transition.db_schema")
    finally:
        await console.close()
    bodies = [json.loads(body) for _seq, kind, body in audit_rows(db) if kind in ("check.accept", "action.refused")]
    assert len(bodies) == 2
    assert {b["auth"]["ssh"] for b in bodies} == {"203.0.113.7 50000"}


async def test_the_runner_returns_a_record_and_the_service_stores_it(db: Path, tmp_path: Path) -> None:
    """The use case runs against a store, a target, a prober and a sink, and writes nothing itself."""
    from bfg_tui.errors import Refused
    from bfg_tui.probes.runner import Prober, open_target, run_probe
    from bfg_tui.service import SYSTEM_ACTOR, open_store

    console = await Console.open(str(db))
    try:
        before = await console.audit_count()
        lines: list[str] = []
        prober = Prober(MAREK, tuple(console.claims(a.id) for a in console.catalog.actors))
        system = console.acting(SYSTEM_ACTOR)

        async def target_store(location: str):
            return await open_store(location, console.catalog, adopt=True)

        def target_of(location: str):
            return open_target(location, console.catalog, target_store, system)

        target = str(tmp_path / "rehearsal.db")
        record = await run_probe(console.store, target, prober, lines.append, probe="connection",
                                 catalog=console.catalog, open_target=target_of)
        assert record.passed and len(record.steps) == 4 and lines == list(record.transcript)
        assert await console.audit_count() == before  # the use case stored nothing
        with pytest.raises(Refused) as refused:
            await run_probe(console.store, target, prober, lines.append, probe="dry-run", catalog=console.catalog,
                            open_target=target_of)
        assert refused.value.code == "probe.dry_run.needs_snapshot" and refused.value.action == "probe.run"
        with pytest.raises(Refused) as refused:
            await run_probe(console.store, str(db), prober, lines.append, probe="connection",
                            catalog=console.catalog, open_target=target_of)
        assert refused.value.code == "probe.own_store_file"  # the same file: the console's own store
        assert await console.audit_count() == before
        # Through the service: refused and recorded with its code, or run and stored.
        with pytest.raises(Refused) as refused:
            await console.probe(MAREK, "dry-run", target)
        assert refused.value.code == "probe.dry_run.needs_snapshot"
        stored = await console.probe(MAREK, "connection", target)
        assert (await console.probe_run(stored.run_id)) is not None
        kinds = [e.kind for e in await console.audit_page(limit=2)]
        assert kinds == ["probe.run", "action.refused"]
    finally:
        await console.close()


async def test_other_selected_target(console: Console, tmp_path: Path) -> None:
    """The console asks before probing a target other than the selected one that holds evidence."""
    first, other = tmp_path / "first.db", tmp_path / "other.db"
    state = await console.state()
    assert console.other_selected_target(state, str(other)) is None  # nothing selected yet
    await console.probe(MAREK, "connection", str(first))
    state = await console.state()
    assert console.other_selected_target(state, str(first)) is None  # the selected one itself
    assert console.other_selected_target(state, str(other)) == state.connection_endpoint


async def test_every_targets_step_details_pass_the_one_scrubber(db: Path, tmp_path: Path) -> None:
    """Whatever a target puts in a step's detail (a driver's error text, say) is scrubbed by
    the runner before it reaches the record or the transcript, for every kind of target."""
    from bfg_tui.probes.base import StepResult
    from bfg_tui.probes.runner import Prober, run_probe
    from bfg_tui.probes.sqlite_target import SQLiteFileTarget
    from bfg_tui.secrets import WITHHELD
    from bfg_tui.service import SYSTEM_ACTOR, open_store

    canary = "Canary-Pw-7f3a91"

    class Leaky(SQLiteFileTarget):
        async def reach(self, log):  # type: ignore[no-untyped-def]
            return StepResult("connection.endpoint_reachability", False,
                              f"cannot open: driver said postgresql://u:{canary}@db.example/app")

    console = await Console.open(str(db))
    try:
        system = console.acting(SYSTEM_ACTOR)

        async def target_store(location: str):  # type: ignore[no-untyped-def]
            return await open_store(location, console.catalog, adopt=True)

        prober = Prober(MAREK, tuple(console.claims(a.id) for a in console.catalog.actors))
        record = await run_probe(
            console.store, str(tmp_path / "t.db"), prober, lambda line: None, probe="connection",
            catalog=console.catalog,
            open_target=lambda t: Leaky(t, console.catalog.environment, console.catalog, open_store=target_store,
                                        system=system))
    finally:
        await console.close()
    assert record.steps[0].detail == WITHHELD
    assert canary not in repr(record)
