"""The engine, models and store import without Textual; headless verbs never load it."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

HEADLESS = [
    "bfg_tui.engine", "bfg_tui.models", "bfg_tui.catalog", "bfg_tui.canonical", "bfg_tui.rbac",
    "bfg_tui.service", "bfg_tui.packets", "bfg_tui.secrets", "bfg_tui.scenario", "bfg_tui.cli",
    "bfg_tui.store.sqlite", "bfg_tui.store.base", "bfg_tui.store.audit_chain", "bfg_tui.probes.runner",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return set(out.split())


def test_domain_and_store_import_without_textual() -> None:
    loaded = _modules_after("\n".join(f"import {m}" for m in HEADLESS))
    assert "textual" not in loaded
    assert "sqlite3" not in _modules_after("import bfg_tui.engine, bfg_tui.models")


def test_headless_verbs_never_import_textual(tmp_path) -> None:
    db = tmp_path / "h.db"
    script = (
        "from bfg_tui.cli import main\n"
        f"for argv in (['init'], ['status', '--json'], ['audit', 'verify'], ['export', 'release'], ['checks']):\n"
        f"    main(['--db', {str(db)!r}, '--as', 'user_md_anna', *argv])\n"
    )
    loaded = _modules_after(script)
    assert "textual" not in loaded
    assert "bfg_tui.app" not in loaded


def test_status_fast_path_does_not_import_asyncio(tmp_path) -> None:
    db = tmp_path / "f.db"
    subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(db), "init"], cwd=ROOT, check=True,
                   capture_output=True)
    loaded = _modules_after(f"from bfg_tui.cli import main\nmain(['--db', {str(db)!r}, 'status', '--json'])")
    assert "asyncio" not in loaded and "aiosqlite" not in loaded


def test_status_skips_the_exit_collection(tmp_path) -> None:
    """Everything a status run made lives until exit: it is frozen out of the interpreter's last collection."""
    db = tmp_path / "g.db"
    subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(db), "init"], cwd=ROOT, check=True,
                   capture_output=True)
    code = ("import atexit, gc\n"
            "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
            f"from bfg_tui.cli import main\nmain(['--db', {str(db)!r}, 'status', '--json'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.splitlines()[-1] == "frozen at exit: True"
