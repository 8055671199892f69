"""Fixtures for the CLI tests: the CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import CliResult


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
