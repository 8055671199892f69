"""What an action moves in the state besides its own rows: the product's bookkeeping rules.

The service decides with these when it records an action (the store does what it is told,
inside the write's transaction), and the trail's replay (store.replay) applies the same
rules when it rebuilds the state from the events, so a write and its replay never differ.
"""

from __future__ import annotations

# Audit kinds that change checks, evidence or the snapshot: the latest of them is what the
# release packet's freshness is measured against. Exports and refusals are not changes.
CHANGE_KINDS = frozenset({"scenario.save", "snapshot.freeze", "check.accept", "check.revoke", "probe.run"})

RELEASE_PACKET = "release"
SELECTING_PROBE = "connection"


def marks_release_export(packet: str) -> bool:
    """An export of the release packet is the one `release_packet_fresh` compares with the last change."""
    return packet == RELEASE_PACKET


def selects_target(probe: str) -> bool:
    """A connection run's endpoint becomes the selected target (when its evidence counts)."""
    return probe == SELECTING_PROBE


def replaces_evidence(selected: str | None, selected_passing: bool, endpoint: str, passed: bool) -> bool:
    """Whether a probe run becomes the latest evidence (and, for a connection, the selected target).

    A failed run against another target never pushes a selected target's passing evidence
    out of the figures (a mistyped path): it is kept in the runs and the trail, not counted.
    The store applies it inside the write (it reads the evidence held at that moment).
    """
    return passed or not selected or endpoint == selected or not selected_passing
