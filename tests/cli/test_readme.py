"""The README's code blocks run as written, so they cannot rot.

Blocks fenced as ```sh run are pasted, in order, into one fresh bash at the top of the
checkout (as a reader would after `source .venv/bin/activate`), with a scratch HOME; the
```sh run-postgres block also needs the test server. Other blocks are reference only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.helpers.pg_server import PgServer

pytestmark = pytest.mark.slow  # the README's walkthroughs, pasted into bash

README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.S | re.M)


def blocks(kind: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(README.read_text(encoding="utf-8")) if m["info"].strip() == f"sh {kind}"]


def _run(script: str, home: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BFG_TUI_DB", "BFG_ACTOR", "PG", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}", **(extra or {}))
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_readme_marks_its_runnable_blocks_and_never_points_outside_the_project() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(blocks("run")) >= 2 and len(blocks("run-postgres")) == 1
    assert "../shared" not in text and "docs/model.md" in text


def test_the_local_blocks_run_as_pasted(tmp_path: Path) -> None:
    result = _run("\n".join(blocks("run")), tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "go/no-go: BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS" in result.stdout
    assert "Only a PostgreSQL target can prove what is missing" in result.stdout
    assert (tmp_path / "bfg-demo" / "release.env").is_file()


@pytest.mark.postgres
def test_the_postgresql_walkthrough_ends_ready_for_reviewed_cutover(pg_server: PgServer, tmp_path: Path) -> None:
    result = _run(blocks("run-postgres")[0], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "go/no-go: READY_FOR_REVIEWED_CUTOVER" in result.stdout
    # The shared store acts as the login's actor: Olena's login refuses to act as Anna.
    assert "login bfg_olena_login acts as user_accountant_olena; --as user_md_anna refused" in result.stderr
