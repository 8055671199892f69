"""Fixtures every layer uses: a temp store per test, the user's real config kept out, the CLI
in-process, the console App, the PostgreSQL test server and OpenSSH keys. Fixtures one layer
alone uses live in that folder's conftest; plain helpers in tests/helpers/."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.pg_server import PG_ENV_KEYS, PgServer, pg_server  # noqa: F401  (session fixture)
from tests.helpers.ssh_tools import keygen
from tests.helpers.walkthrough import save_and_freeze


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


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "console.db"


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the CLI in-process against the test store: cli("status", "--json", actor=...)."""
    from bfg_tui.cli import main

    def run(*args: str, actor: str | None = None, store: Path | None = None) -> CliResult:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # a sync test: the CLI runs its own event loop
        else:
            raise AssertionError("cli() cannot run inside an async test's event loop: "
                                 "use service_do() or a subprocess there")
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
def initialised(cli: Callable[..., CliResult]) -> None:
    """The test store created (`bfg-tui init`): the read verbs never create one."""
    assert cli("init").code == 0


@pytest.fixture
def frozen(cli: Callable[..., CliResult], db: Path) -> Path:
    """The test store with the demo scenario saved and frozen by Marek."""
    save_and_freeze(cli)
    return db


@pytest.fixture
def make_app(db: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Build the console App on the test store (or on `store`): make_app(actor=..., lang=...).

    Without animations: Pilot waits for each to end (a tab switch's underline)."""

    def make(actor: str | None = "user_md_anna", lang: str = "en", store: str | None = None,
             **kwargs: object) -> object:
        import textual.constants

        from bfg_tui.app import BfgApp

        monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")  # read as the App is made
        return BfgApp(db=store or str(db), actor=actor, lang=lang, **kwargs)

    return make


@pytest.fixture
def pg(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> PgServer:  # noqa: F811
    """The server, with libpq finding passwords in its pgpass file and the migration login set."""
    for key in PG_ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PGPASSFILE", pg_server.passfile)
    monkeypatch.setenv("BFG_TUI_MIGRATION_DSN", pg_server.migration_dsn)
    return pg_server


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """Key pairs from ssh-keygen for three owners and a stranger (tests that use it need NEED_SSH)."""
    directory = tmp_path / "keys"
    directory.mkdir()
    return {name: keygen(directory, name) for name in ("anna", "olena", "marek", "stranger")}
