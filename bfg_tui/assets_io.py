"""Read a shipped asset. A plain file read: importlib.resources would add its imports to every start."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def asset_text(name: str) -> str:
    import bfg_tui.assets as package

    return (Path(package.__file__).parent / name).read_text(encoding="utf-8")
