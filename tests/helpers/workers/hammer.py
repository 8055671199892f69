"""A real writer process: accepts and revokes a check N times, printing each acknowledged seq."""

from __future__ import annotations

import asyncio
import sys

from bfg_tui.service import Console


async def main(db: str, actor: str, check: str, rounds: int) -> None:
    console = await Console.open(db)
    try:
        for i in range(rounds):
            # An idempotency key per step: a retried step must not double.
            out = await console.accept(actor, check, note=f"round {i}", idem=f"{actor}:{check}:{i}:a")
            print(f"ack {out.seq} accept", flush=True)
            out = await console.revoke(actor, check, note=f"round {i}", idem=f"{actor}:{check}:{i}:r")
            print(f"ack {out.seq} revoke", flush=True)
    finally:
        await console.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
