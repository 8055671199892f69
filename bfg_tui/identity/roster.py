"""The roster: which SSH keys speak for which actor, replayed from the store's roster events.

Every change is an audit event (`roster.init`, `roster.add`, `roster.revoke`), so the
roster in force at any event is the replay of the roster events before it.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any, NamedTuple

from bfg_tui.errors import BfgError, Reason

from . import NAMESPACE
from .keys import PublicKey, parse_public_key

KINDS = ("roster.init", "roster.add", "roster.revoke")
SUBJECT = "roster"


class RosterError(BfgError):
    """A roster change that cannot be made."""


class RosterKey(NamedTuple):
    actor: str
    key: PublicKey
    added_seq: int
    revoked_seq: int | None = None

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint


def init_data(actor: str, key: PublicKey) -> dict[str, Any]:
    return {"actor": actor, "key": key.openssh(comment=False), "fingerprint": key.fingerprint,
            "comment": key.comment, "subject": SUBJECT}


add_data = init_data


def revoke_data(actor: str, fingerprints: list[str]) -> dict[str, Any]:
    return {"actor": actor, "fingerprints": sorted(fingerprints), "subject": SUBJECT}


class Roster:
    def __init__(self) -> None:
        self.init_seq: int | None = None
        self.keys: dict[str, RosterKey] = {}  # by fingerprint, in the order added

    @classmethod
    def replay(cls, events: Iterable[tuple[int, str, dict[str, Any]]]) -> Roster:
        roster = cls()
        for seq, kind, data in events:
            roster.apply(seq, kind, data)
        return roster

    @property
    def signed(self) -> bool:
        return self.init_seq is not None

    def apply(self, seq: int, kind: str, data: dict[str, Any]) -> None:
        """Apply one roster event (events of other kinds are ignored)."""
        if kind == "roster.init":
            if self.init_seq is None:
                self.init_seq = seq
            self._add(seq, data)
        elif kind == "roster.add":
            self._add(seq, data)
        elif kind == "roster.revoke":
            for fp in data.get("fingerprints", ()):
                rk = self.keys.get(fp)
                if rk is not None and rk.revoked_seq is None and rk.actor == data.get("actor"):
                    self.keys[fp] = rk._replace(revoked_seq=seq)

    def _add(self, seq: int, data: dict[str, Any]) -> None:
        key = parse_public_key(f"{data['key']} {data.get('comment', '')}")
        current = self.keys.get(key.fingerprint)
        if current is None or current.revoked_seq is not None:
            self.keys[key.fingerprint] = RosterKey(str(data["actor"]), key, seq)

    def active(self) -> list[RosterKey]:
        return [rk for rk in self.keys.values() if rk.revoked_seq is None]

    def actor_keys(self, actor: str) -> list[RosterKey]:
        return [rk for rk in self.active() if rk.actor == actor]

    def holder(self, fingerprint: str) -> RosterKey | None:
        """The roster key with this fingerprint, revoked or not."""
        return self.keys.get(fingerprint)

    def actors(self) -> list[str]:
        return sorted({rk.actor for rk in self.active()})

    # ----------------------------------------------------------- checks for changes

    def check_add(self, actor: str, key: PublicKey) -> None:
        current = self.keys.get(key.fingerprint)
        if current is not None and current.revoked_seq is None:
            raise RosterError(Reason.of("roster.key_present", key=key.fingerprint, actor=current.actor))
        if current is not None:
            raise RosterError(Reason.of("roster.key_revoked", key=key.fingerprint, seq=current.revoked_seq))

    def check_revoke(self, actor: str, fingerprint: str | None) -> list[str]:
        """The fingerprints to revoke, or a RosterError."""
        keys = self.actor_keys(actor)
        if fingerprint:
            keys = [rk for rk in keys if rk.fingerprint == fingerprint]
            if not keys:
                raise RosterError(Reason.of("roster.no_such_key", actor=actor, key=fingerprint))
        if not keys:
            raise RosterError(Reason.of("roster.no_active_key", actor=actor))
        return [rk.fingerprint for rk in keys]

    # ----------------------------------------------------------------- exports

    def allowed_signers(self) -> str:
        """An OpenSSH allowed_signers file (`ssh-keygen -Y verify -f`): one line per active key."""
        return "".join(f'{rk.actor} namespaces="{NAMESPACE}" {rk.key.openssh(comment=False)}\n' for rk in self.active())

    def authorized_keys(self, bfg_tui: str, db: str) -> str:
        """sshd authorized_keys lines: each key may only run `ssh-session` as its actor."""
        lines = []
        for rk in self.active():
            command = f"{shlex.quote(bfg_tui)} --db {shlex.quote(db)} ssh-session --actor {rk.actor}"
            quoted = command.replace("\\", "\\\\").replace('"', '\\"')
            comment = f" {rk.key.comment}" if rk.key.comment else ""
            lines.append(f'restrict,pty,agent-forwarding,command="{quoted}" {rk.key.openssh(comment=False)}{comment}\n')
        return "".join(lines)
