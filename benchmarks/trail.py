"""The benchmarks' long audit trail: a store whose trail holds many acceptances (a fixture).

Built through the store's own append path, so it is what the store itself would have
written: each event is chained, signed when a signer is given, and indexed by the store's
`_append`, the acceptance row is the store's own statement, and the head's state digest
is sealed by the store's `_seal`. Only the per-event write transaction (and its state
check, which reads the state twice per event) is left out: all events go in one, so a
100k-event trail takes seconds, not an hour of commits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AT = "2026-11-27T00:00:00.000000Z"


async def long_trail(path: Path, events: int, actor: str, check: str, *, signer: Any = None) -> None:
    """Create the store at `path` and append `events` events as `actor`, who accepts `check`
    again and again (with a signer, the first event is the roster's, naming the signer's key)."""
    from bfg_tui.store.audit_chain import accept_data, event_body, event_hash
    from bfg_tui.store.base import CHANGE_KINDS

    from bfg_tui.service import Console, actor_context

    console = await Console.open(str(path))
    store = console.store
    ctx = actor_context(actor, signer)
    try:
        async with store._write_tx() as tx:
            count, prev = await store._lock_head(tx)
            for seq in range(count + 1, count + events + 1):
                if signer is not None and seq == count + 1:
                    from bfg_tui.identity.roster import init_data

                    kind, data = "roster.init", init_data(actor, signer.key)
                else:
                    kind, data = "check.accept", accept_data(check, f"n{seq}", None, None, False)
                await store._append(tx, seq - 1, prev, kind, ctx, data, AT, change=kind in CHANGE_KINDS)
                prev = event_hash(event_body(seq=seq, prev=prev, at=AT, kind=kind, ctx=ctx, data=data))
            # The state those events leave: the last acceptance, as `accept` writes it.
            last = count + events
            await tx.run(store.sql.put_acceptance, (check, actor, f"n{last}", None, None, False, AT, last,
                                                    ctx.key or None))
            await store._seal(tx)
    finally:
        await console.close()
