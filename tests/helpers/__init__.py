"""Helpers shared by test modules of several layers (plain functions, data and fixtures)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
