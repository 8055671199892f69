"""SPEC §4 "Fresh state": the seed's figures for a brand-new store."""

from __future__ import annotations

FRESH_GROUPS = {
    "gates": (2, 9), "preflight": (1, 5), "transition": (0, 6), "connection": (0, 4), "dry_run": (0, 5),
    "runbook": (1, 6), "data_cutover": (0, 5), "batch_groups": (1, 4), "release": (3, 5), "rollback": (0, 4),
    "decision_board": (1, 7), "infrastructure": (0, 4), "provider_selection": (0, 4), "wiring": (2, 7),
}
FRESH_DECISIONS = {
    "runbook": "BLOCKED_PENDING_PREFLIGHT",
    "release": "BLOCKED_PENDING_DRY_RUN",
    "rollback": "BLOCKED_PENDING_DRY_RUN",
    "cutover": "BLOCKED_PENDING_DATA_CUTOVER",
    "wiring": "BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS",
    "go_no_go": "BLOCKED_PENDING_DRY_RUN",
}
