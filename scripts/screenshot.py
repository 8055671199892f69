"""Save docs/screenshot-home.svg: the home screen of a fresh demo, painted by the app itself.

    .venv/bin/python scripts/screenshot.py [OUT.svg]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def main(out: Path) -> None:
    os.environ.setdefault("BFG_TUI_FIXED_CLOCK", "2026-01-15T09:30:00.000000Z")
    sys.path.insert(0, str(ROOT))
    from bfg_tui.app import BfgApp

    with tempfile.TemporaryDirectory() as tmp:
        app = BfgApp(db=str(Path(tmp) / "demo.db"), actor="user_md_anna", lang="en", poll_seconds=3600)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.view is None:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"saved {out}")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot-home.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target.resolve()))
