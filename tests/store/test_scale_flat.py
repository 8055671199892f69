"""An accept and the state read after it do the same work whatever the scenario's size.

Counted in SQLite virtual-machine steps (a progress handler called on every step), not
timed: a query that scans the scenario's records, or a check that walks the whole trail,
shows as many more steps on the larger store.
"""

from __future__ import annotations

from pathlib import Path

from bfg_tui.service import Console

MAREK = "user_dispatcher_marek"
ANNA = "user_md_anna"
CHECK = "transition.contracts_frozen"


async def _steps_per_accept(path: Path, orders: int) -> int:
    console = await Console.open(str(path))
    try:
        await console.save_scenario(MAREK, scale=orders)
        await console.freeze(MAREK)
        await console.accept(ANNA, CHECK, note="warm-up")  # first-use caches and lookups
        await console.revoke(ANNA, CHECK)
        await console.evaluate()
        steps = 0

        def step() -> int:
            nonlocal steps
            steps += 1
            return 0  # go on

        conn = console.store._conn  # the store's aiosqlite connection
        await conn.set_progress_handler(step, 1)
        try:
            await console.accept(ANNA, CHECK, note="counted")  # what the console's accept key does
            await console.evaluate()  # and the reload that repaints it
        finally:
            await conn.set_progress_handler(None, 1)
        return steps
    finally:
        await console.close()


async def test_an_accept_reads_no_more_on_a_large_scenario(tmp_path: Path) -> None:
    small = await _steps_per_accept(tmp_path / "small.db", 1)  # 19 records
    large = await _steps_per_accept(tmp_path / "large.db", 2000)  # 20,011 records
    assert small > 0
    # A scan of the records alone would add tens of thousands of steps.
    assert large <= small + 200, (small, large)
