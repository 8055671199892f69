"""Timing what a terminal shows: spawn a program in a pseudo-terminal, read what it writes.

The moment measured is when the bytes holding every marker have reached the terminal
(the pty's master side), counted from just before the spawn: what a user would see,
whatever the program does inside. The program is then ended (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS, LINES = 120, 40


class NotShown(RuntimeError):
    """The program ended or timed out before every marker was on screen."""


def time_until_shown(
    argv: Sequence[str], markers: Sequence[str], env: dict[str, str] | None = None, *,
    timeout: float = 60.0, size: tuple[int, int] = (COLUMNS, LINES),
) -> float:
    """Milliseconds from spawn until every marker has been written to the terminal."""
    return times_until_shown(argv, [markers], env, timeout=timeout, size=size)[0]


def times_until_shown(
    argv: Sequence[str], stages: Sequence[Sequence[str]], env: dict[str, str] | None = None, *,
    timeout: float = 60.0, size: tuple[int, int] = (COLUMNS, LINES),
) -> list[float]:
    """Milliseconds from spawn until each stage's markers have all been written to the terminal."""
    master, slave = pty.openpty()
    cols, lines = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, cols, 0, 0))
    os.set_blocking(master, False)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(lines), **(env or {})}
    wanted = [[m.encode("utf-8") for m in markers] for markers in stages]
    times: list[float] = []
    seen = b""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            close_fds=True, start_new_session=True)
    os.close(slave)
    try:
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:
                    data = b""
                if data:
                    seen += data
                    now = (time.perf_counter() - t0) * 1000
                    while len(times) < len(wanted) and all(w in seen for w in wanted[len(times)]):
                        times.append(now)
                    if len(times) == len(wanted):
                        return times
                    continue
            if proc.poll() is not None:
                break
        tail = seen[-300:].decode("utf-8", "replace")
        missing = " + ".join(stages[len(times)])
        raise NotShown(f"{missing} never shown (exit {proc.poll()}): {tail!r}")
    finally:
        _end(proc)
        os.close(master)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
