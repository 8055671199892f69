"""Errors the user sees as one line. Nothing here imports UI or storage code."""

from __future__ import annotations


class Reason(str):
    """A one-line English reason (it *is* that string) that also carries a stable message id.

    `code` and `params` name the catalog's sentence (`msg.<code>`): the console renders it in
    its language (`bfg_tui.i18n.message_text`); the CLI, the audit trail and the tests see the
    English. `Reason.of` takes that English from the catalog too.
    """

    code: str
    params: dict[str, object]

    def __new__(cls, text: str, code: str, /, **params: object) -> Reason:
        reason = super().__new__(cls, text)
        reason.code = code
        reason.params = params
        return reason

    @classmethod
    def of(cls, code: str, /, **params: object) -> Reason:
        """The reason `code` (message id `msg.<code>`), its English rendered from the catalog."""
        from .i18n import said  # on use: every start-up path loads this module, the catalog only when it speaks

        return cls(said(f"msg.{code}", "en", params), code, **params)

    @staticmethod
    def said(reason: str) -> object:
        """A reason as a parameter of another message: its message (said in the outer one's language), or its text."""
        from .i18n import Msg

        code = getattr(reason, "code", "")
        return Msg(f"msg.{code}", getattr(reason, "params", {})) if code else str(reason)


class BfgError(Exception):
    """An error with a one-line reason for the user; `exit_code` is what the CLI returns."""

    exit_code = 1

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CatalogError(BfgError):
    """The catalog asset is invalid (unknown id, duplicate, cycle...)."""


class Refused(BfgError):
    """An action was refused by RBAC or by a product rule; recorded as an audit event.

    `code` and `params` name the message (taken from a `Reason`); `reason` is the English,
    still the `Reason` itself when it was one, so a refusal passed on keeps its message id.
    """

    def __init__(
        self, reason: str, *, action: str = "", subject: str = "", code: str = "",
        params: dict[str, object] | None = None,
    ) -> None:
        super().__init__(str(reason))
        self.reason = reason if isinstance(reason, Reason) else str(reason)
        self.action = action
        self.subject = subject
        self.code = code or getattr(reason, "code", "")
        self.params = params if params is not None else dict(getattr(reason, "params", {}))


class StoreError(BfgError):
    """The store cannot be opened or written (corrupt, locked, read-only, newer schema)."""


class InputError(BfgError):
    """A malformed input file or argument."""


class StateMismatch(StoreError):
    """The stored state is not what the audit trail says it is: no decision is reported."""


class AlreadyDone(Exception):
    """An idempotency key was used before for this very action: nothing was changed."""

    def __init__(self, key: str, seq: int) -> None:
        super().__init__(f"already done at event {seq}")
        self.key = key
        self.seq = seq
