"""Fixtures the console (Pilot and snapshot) tests share. The App itself is the root
conftest's `make_app`, which every layer that runs the console uses."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's tmp folder as the working directory: a probe target typed as `t.db` is made there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
