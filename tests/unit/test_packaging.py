"""The built wheel carries the package data, and building it warns about nothing we configure."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.mark.slow
def test_a_built_wheel_ships_the_data_without_package_warnings(tmp_path: Path) -> None:
    # The tree is copied so the build's egg-info and build/ never land in the worktree.
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(source.read_bytes())
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    assert "absent from the `packages` configuration" not in log, log[-3000:]
    (wheel,) = (tmp_path / "dist").glob("bfg_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in ("en", "pl"):
        for ext in ("mo", "po"):
            assert f"bfg_tui/locale/{lang}/LC_MESSAGES/bfg_tui.{ext}" in names
    assert {"bfg_tui/assets/catalog.json", "bfg_tui/assets/runbook.sql",
            "bfg_tui/assets/runbook_tenant_logins.sql", "bfg_tui/store/core.py", "bfg_tui/screens/base.py"} <= names
    assert any(n.startswith("bfg_tui/screens/") and n.endswith(".tcss") for n in names)
