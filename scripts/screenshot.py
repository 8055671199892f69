"""Save docs/screenshot-<screen>.svg for each of the six screens of a fresh demo, painted by the app itself.

    .venv/bin/python scripts/screenshot.py [OUT_DIR]      (make screenshots)

The copilot is shown as Olena sees it (her queue first); the other screens as Anna.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ("home", "providers", "rbac", "board", "cutover", "audit")


async def shoot(out_dir: Path, db: Path, key: str, name: str, actor: str) -> None:
    from textual.widgets import Input

    from bfg_tui.app import BfgApp
    from tests.helpers.console import settle

    app = BfgApp(db=str(db), actor=actor, lang="en", poll_seconds=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        # Waited for as the snapshot tests wait: the store loaded, the screen built, no worker
        # busy, no animation pending; never a fixed pause.
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        app.save_screenshot(filename=f"screenshot-{name}.svg", path=str(out_dir))
    print(f"saved {out_dir / f'screenshot-{name}.svg'}")


async def main(out_dir: Path) -> None:
    os.environ.setdefault("BFG_TUI_FIXED_CLOCK", "2026-01-15T09:30:00.000000Z")
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        for i, name in enumerate(SCREENS, 1):
            await shoot(out_dir, db, str(i), name, "user_accountant_olena" if name == "home" else "user_md_anna")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target.resolve()))
