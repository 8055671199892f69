"""Who may act in this session: the store's roster against the keys this session holds.

A demo store (no roster) keeps self-asserted identity. In a signed store an actor acts
only with one of their roster keys present in the agent (or given as a key file), and
every event is signed with it.
"""

from __future__ import annotations

from typing import Any

from ..errors import Reason
from .origin import Origin
from .roster import Roster
from .signing import KeyRing, open_keyring


def no_key_reason(actor: str, origin: Origin) -> Reason:
    if origin.over_ssh and not origin.agent_sock:
        return Reason.of("identity.no_agent", actor=actor)
    return Reason.of("identity.no_key", actor=actor)


class Identity:
    """This session's identity: where it acts from (read once at the edge) and the keys it holds."""

    def __init__(self, key_file: str | None = None, agent_sock: str | None = None, ring: KeyRing | None = None,
                 origin: Origin | None = None) -> None:
        origin = origin or Origin.from_env(key_file)
        self.origin = origin if agent_sock is None else origin._replace(agent_sock=agent_sock)
        self._ring = ring  # given: these keys (tests, benchmarks); else opened on first use
        self.roster = Roster()

    async def refresh(self, store: Any) -> Roster:
        """Re-read the roster (a few indexed rows): another owner may have changed it."""
        self.roster = Roster.replay(await store.roster_events())
        return self.roster

    @property
    def mode(self) -> str:
        return "signed" if self.roster.signed else "demo"

    async def keyring(self) -> KeyRing:
        if self._ring is None:
            self._ring = await open_keyring(self.origin.key_file, self.origin.agent_sock)
        return self._ring

    async def signer_for(self, actor: str) -> Any:
        """A signer holding one of `actor`'s active roster keys, or None."""
        fingerprints = {rk.fingerprint for rk in self.roster.actor_keys(actor)}
        if not fingerprints:
            return None
        found = (await self.keyring()).for_fingerprints(fingerprints)
        return found[0] if found else None

    async def key_actors(self) -> list[str]:
        """The actors whose roster keys this session holds, in roster order."""
        held = {s.key.fingerprint for s in (await self.keyring()).signers}
        actors: list[str] = []
        for rk in self.roster.active():
            if rk.fingerprint in held and rk.actor not in actors:
                actors.append(rk.actor)
        return actors

    async def close(self) -> None:
        if self._ring is not None:
            await self._ring.close()
            self._ring = None
