"""Shared fixtures: a temp store per test, the user's real config kept out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFG_TUI_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("BFG_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("BFG_ACTOR", raising=False)
    # The developer's own agent and signing key never reach a test.
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("BFG_TUI_SIGNING_KEY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("BFG_TUI_EXPORT_DIR", str(tmp_path / "exports"))


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> object:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err!r})"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "console.db"


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the CLI in-process against the test store: cli("status", "--json", actor=...)."""
    from bfg_tui.cli import main

    def run(*args: str, actor: str | None = None, store: Path | None = None) -> CliResult:
        argv = ["--db", str(store or db)]
        if actor:
            argv += ["--as", actor]
        capsys.readouterr()
        try:
            code = main([*argv, *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli_proc(db: Path) -> Callable[..., CliResult]:
    """Run the CLI as a real subprocess."""

    def run(*args: str, actor: str | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> CliResult:
        argv = [sys.executable, "-m", "bfg_tui", "--db", str(db)]
        if actor:
            argv += ["--as", actor]
        proc = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


def audit_rows(db: Path) -> list[tuple[int, str, str]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("select seq, kind, body from audit_events order by seq").fetchall()
    finally:
        conn.close()


def table_dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table except the audit trail, for 'nothing else changed' checks."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        return {n: conn.execute(f"select * from {n}").fetchall() for n in names
                if n not in ("audit_events", "audit_head")}
    finally:
        conn.close()


from tests.pg_server import pg_server  # noqa: E402, F401  (session fixture: a running PostgreSQL, or skip/fail)

# ---------------------------------------------------------------- console (Textual) helpers


@pytest.fixture
def make_app(db: Path) -> Callable[..., object]:
    """Build the console App on the test store: make_app(actor=..., lang=...)."""

    def make(actor: str | None = "user_md_anna", lang: str = "en", **kwargs: object) -> object:
        from bfg_tui.app import BfgApp

        return BfgApp(db=str(db), actor=actor, lang=lang, **kwargs)

    return make


async def settle(pilot: object, timeout: float = 20.0) -> None:
    """Wait until the console is loaded and no worker is busy (a flow waiting on a modal is idle)."""
    import asyncio
    import time

    from textual.screen import ModalScreen
    from textual.worker import WorkerState

    app = pilot.app  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause()  # type: ignore[attr-defined]
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if isinstance(app.screen, ModalScreen):
            busy = [w for w in busy if w.group != "flow"]
        built = getattr(app.screen, "built", True)
        if app.view is not None and not busy and built:
            await pilot.pause()  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"console did not settle: {[w.name for w in app.workers]}")


def screen_text(app: object) -> str:
    """The visible screen as plain text."""
    import io

    from rich.console import Console

    width, height = app.size  # type: ignore[attr-defined]
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False,
                      color_system=None, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True))  # type: ignore[attr-defined]
    return console.export_text()


def widget_text(widget: object) -> str:
    """The plain text a Static shows."""
    content = widget.content  # type: ignore[attr-defined]
    return content.plain if hasattr(content, "plain") else str(content)


async def service_do(db: Path, *calls: tuple[str, tuple[object, ...], dict[str, object]]) -> None:
    """Run service actions in-process (from an async test): ("accept", (actor, check), {"note": ..})."""
    import contextlib

    from bfg_tui.errors import Refused
    from bfg_tui.service import Console

    console = await Console.open(str(db))
    try:
        for name, args, kwargs in calls:
            with contextlib.suppress(Refused):
                await getattr(console, name)(*args, **kwargs)
    finally:
        await console.close()
