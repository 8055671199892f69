"""Signed identity rows: what signing adds to an accept round trip, and verifying signatures.

The accept row runs demo and signed stores in turn (A B A B …) through the service, the
signed one through an ssh-agent of its own holding an Ed25519 key from ssh-keygen. The
verify row builds a chain of signed events directly (the fixture, not the thing measured)
and times all of `audit verify`: the chain, the replay and every signature.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.rows import Row, Skip, Verdict

ROOT = Path(__file__).resolve().parent.parent
ANNA = "user_md_anna"


def _need_openssh() -> None:
    if not (shutil.which("ssh-keygen") and shutil.which("ssh-agent") and shutil.which("ssh-add")):
        raise Skip("OpenSSH client tools (ssh-keygen, ssh-agent, ssh-add) are not installed")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def _accept_pair(tmp: Path, sock: str, key: Path, runs: int) -> dict[str, Any]:
    from bfg_tui.identity.gate import Identity
    from bfg_tui.service import Console

    demo = await Console.open(str(tmp / "demo.db"))
    signed = Console(
        (await Console.open(str(tmp / "signed.db"))).store, identity=Identity(agent_sock=sock))
    try:
        for console in (demo, signed):
            await console.save_scenario("user_dispatcher_marek")
            await console.freeze("user_dispatcher_marek")
        await signed.roster_init(ANNA, f"{key}.pub")
        times: dict[str, list[float]] = {"demo": [], "signed": []}
        for i in range(runs + 5):
            for name, console in (("demo", demo), ("signed", signed)):
                t0 = time.perf_counter()
                await console.accept(ANNA, "transition.contracts_frozen", note=f"round {i}")
                took = (time.perf_counter() - t0) * 1000
                if i >= 5:  # warm-up: imports, the agent connection, caches
                    times[name].append(took)
    finally:
        await demo.close()
        await signed.close()
    return {"demo_p95": _p95(times["demo"]), "signed_p95": _p95(times["signed"]),
            "demo_median": statistics.median(times["demo"]), "signed_median": statistics.median(times["signed"]),
            "runs": runs}


def accept_round_trip(runs: int = 100) -> dict[str, Any]:
    _need_openssh()
    sys.path.insert(0, str(ROOT))
    from tests.helpers.ssh_tools import keygen, ssh_agent

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        key = keygen(tmp, "anna")
        with ssh_agent(tmp, key) as sock:
            result = asyncio.run(_accept_pair(tmp, sock, key, runs))
    result["added_p95"] = result["signed_p95"] - result["demo_p95"]
    return result


async def _signed_verify(events: int) -> dict[str, Any]:
    from benchmarks.trail import long_trail
    from bfg_tui.identity.signing import load_key_file
    from bfg_tui.service import Console

    sys.path.insert(0, str(ROOT))
    from tests.helpers.ssh_tools import keygen

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "audit.db"
        signer = load_key_file(str(keygen(tmp, "anna")))
        await long_trail(path, events, ANNA, "transition.contracts_frozen", signer=signer)
        console = await Console.open(str(path))
        try:
            t0 = time.perf_counter()
            chain = await console.store.audit_verify()
            report = await console.verify_signatures()
            took = time.perf_counter() - t0
        finally:
            await console.close()
    assert chain.ok, chain.reason
    assert report.ok, report.reason
    return {"events": report.events, "signed": report.signed, "seconds": took}


def signed_verify(events: int = 10_000) -> dict[str, Any]:
    _need_openssh()
    return asyncio.run(_signed_verify(events))


def rows(quick: bool) -> list[Row]:
    return [
        Row("accept round trip, signed (local ssh-agent) vs demo", accept_round_trip, "≤ demo + 5 ms p95",
            lambda r: Verdict(f"signed p95 {r['signed_p95']:.1f} ms (median {r['signed_median']:.1f}); "
                              f"+{r['added_p95']:.1f} ms p95 ({r['runs']} each)",
                              f"demo p95 {r['demo_p95']:.1f} ms (median {r['demo_median']:.1f})",
                              r["added_p95"] <= 5.0)),
        Row("audit verify, 10k signed events (chain, replay, signatures)", signed_verify, "≤ 2 s",
            lambda r: Verdict(f"{r['seconds']:.2f} s ({r['signed']} signatures)", "—", r["seconds"] <= 2.0)),
    ]


if __name__ == "__main__":  # pragma: no cover
    print(accept_round_trip(), signed_verify(), sep="\n")
