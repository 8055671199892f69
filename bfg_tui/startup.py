"""The cyclic garbage collector while the process starts, and at its exit.

Start-up makes tens of thousands of objects that live as long as the process (modules,
classes, the catalog, the console's widgets) and almost no cyclic garbage, so every
collection pass over them is wasted work, and so is the interpreter's last pass over
them at exit. The console pauses collection until its first frame and then freezes what
start-up made out of later passes (`gc.freeze`); `status` freezes everything at exit.
"""

from __future__ import annotations

import gc

_paused = False


def pause_gc() -> None:
    """No collection until `resume_gc` (a collector someone else disabled is left as it is)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_gc() -> None:
    """Start-up is over: what it made lives on, out of later passes; collection resumes."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_at_exit() -> None:
    """Skip the interpreter's last collection over what this run made (it all lives until exit)."""
    import atexit

    atexit.unregister(gc.freeze)  # once, however often a process calls the CLI in-process
    atexit.register(gc.freeze)
