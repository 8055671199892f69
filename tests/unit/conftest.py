"""Fixtures the unit tests share: the shipped catalog, loaded once per module."""

from __future__ import annotations

import pytest

from bfg_tui.catalog import default_catalog
from bfg_tui.models import Catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()
