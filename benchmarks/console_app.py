"""The console with benchmark hooks: an App subclass, so the product carries none.

    python -m benchmarks.console_app --first-frame --db DB --as ACTOR [--lang en]
        paints the first frame and exits; stderr gets BFG_TUI_FIRST_FRAME_MS (counted from
        BFG_TUI_BENCH_T0, the spawn time the caller sets)
    python -m benchmarks.console_app --after-load --db DB --as ACTOR
        loads and paints the store and exits; stderr gets BFG_TUI_VMRSS / BFG_TUI_VMHWM (kB)

Everything up to those moments is the real console's start path (`bfg_tui.app.run_app`
differs only in building a BfgApp; the garbage collector is paused before the console is
imported, as `bfg-tui` pauses it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bfg_tui.startup import pause_gc

pause_gc()  # as `bfg-tui` does before it imports the console (resumed at the first frame)

from rich.text import Text  # noqa: E402

from bfg_tui.app import BfgApp  # noqa: E402


class BenchApp(BfgApp):
    """BfgApp that leaves at a measured moment and notes what it measured."""

    def __init__(self, *args: object, exit_on: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.exit_on = exit_on
        self.figures: dict[str, str] = {}

    def first_frame(self) -> None:
        if self.exit_on != "first-frame":
            super().first_frame()
            return
        t0 = float(os.environ.get("BFG_TUI_BENCH_T0") or 0)
        if t0:
            self.figures["FIRST_FRAME_MS"] = f"{(time.time() - t0) * 1000:.1f}"
        self.exit(0)

    def loaded(self, login_refusal: Text | None = None) -> None:
        if self.exit_on != "after-load":
            super().loaded(login_refusal)
            return
        self.call_after_refresh(self._note_memory)  # once the loaded store is painted

    def _note_memory(self) -> None:
        status = Path("/proc/self/status")
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines()) if status.exists() else {}
        self.figures.update({k.upper(): fields[k].strip() for k in ("VmRSS", "VmHWM") if k in fields})
        self.exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.console_app")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--first-frame", dest="exit_on", action="store_const", const="first-frame")
    when.add_argument("--after-load", dest="exit_on", action="store_const", const="after-load")
    parser.add_argument("--db")
    parser.add_argument("--as", dest="actor")
    parser.add_argument("--lang")
    args = parser.parse_args(argv)
    app = BenchApp(db=args.db, actor=args.actor, lang=args.lang, exit_on=args.exit_on)
    code = app.run()
    for key, value in app.figures.items():
        sys.stderr.write(f"BFG_TUI_{key}={value}\n")
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
