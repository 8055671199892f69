"""What a screen or widget asks the console to do: one message class per request.

They bubble up to the App, whose flows (`bfg_tui.flows`) handle each with `@on`,
ask the service and show the outcome.
"""

from __future__ import annotations

from textual.message import Message


class ConsoleRequest(Message):
    """A request for one of the console's flows."""


class CheckRequest(ConsoleRequest):
    """A request about one check (the focused row of a check list)."""

    def __init__(self, check_id: str) -> None:
        super().__init__()
        self.check_id = check_id


class AcceptRequested(CheckRequest):
    """Accept the check: note (and value), confirm, sign."""


class RevokeRequested(CheckRequest):
    """Revoke the check's acceptance, after a confirmation."""


class DetailRequested(CheckRequest):
    """Show the check in full: state, history, evidence, transcript."""


class ProbeRequested(ConsoleRequest):
    """Run `probe` (connection, dry_run) against a target the user chooses.

    `probe` is None when what was focused (`subject`: a check or a cutover tab) has no probe.
    """

    def __init__(self, probe: str | None, subject: str) -> None:
        super().__init__()
        self.probe = probe
        self.subject = subject


class SaveRequested(ConsoleRequest):
    """Save the demo scenario, after a confirmation."""


class FreezeRequested(ConsoleRequest):
    """Freeze the snapshot, after a confirmation."""


class ExportRequested(ConsoleRequest):
    """Export a packet; `packet` preselects one (None: the current screen's)."""

    def __init__(self, packet: str | None = None) -> None:
        super().__init__()
        self.packet = packet


class SwitchActorRequested(ConsoleRequest):
    """Choose who acts; `initial` is the start-up pick (not an audited switch)."""

    def __init__(self, initial: bool = False) -> None:
        super().__init__()
        self.initial = initial
