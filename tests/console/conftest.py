"""The console (Textual Pilot and snapshot) tests: no animations, so Pilot never waits on one."""

from __future__ import annotations

from tests.helpers.console import no_animations  # noqa: F401  (autouse fixture)
