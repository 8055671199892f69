"""Timestamps. BFG_TUI_FIXED_CLOCK pins them (snapshot tests, reproducible demos)."""

from __future__ import annotations

import os
from datetime import UTC, datetime


def utc_now() -> str:
    fixed = os.environ.get("BFG_TUI_FIXED_CLOCK")
    if fixed:
        return fixed
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
