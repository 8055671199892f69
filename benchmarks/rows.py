"""What every benchmark row shares: its shape, the floor it is judged against, skips, load.

A row's function returns a dict of figures; its formatter turns that into a `Verdict`:
the figure, the floor measured in the same run (or "—" when a budget is absolute), and
whether the budget is met. A row that cannot run here raises `Skip` with the reason.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


class Skip(Exception):
    """This row cannot run here (no server, no disk): the table says why instead of MISSED."""


class Verdict(NamedTuple):
    figure: str
    floor: str
    ok: bool | None  # None: a figure reported beside a budget set at another size, judged there


def result_of(verdict: Verdict) -> str:
    return "ok" if verdict.ok else "—" if verdict.ok is None else "MISSED"


class Row(NamedTuple):
    name: str
    run: Callable[[], dict[str, Any]]
    budget: str
    verdict: Callable[[dict[str, Any]], Verdict]


def load() -> float:
    """The 1-minute load average: on a shared 2-core machine every figure depends on it."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no getloadavg
        return float("nan")


def wall_ms(argv: Sequence[str], **kwargs: Any) -> float:
    """One whole-process run, spawn to exit, in ms (its output thrown away)."""
    t0 = time.perf_counter()
    subprocess.run(list(argv), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    return (time.perf_counter() - t0) * 1000


def paired(figure: Callable[[], float], floor: Callable[[], float], runs: int, warmup: int = 1) -> dict[str, Any]:
    """Run figure and floor in turn (A B A B …) so both see the same machine; medians and
    the median of the per-pair ratios (a pair shares its moment's load)."""
    for _ in range(warmup):
        figure()
        floor()
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(figure())
        b.append(floor())
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return {"median": statistics.median(a), "min": min(a), "max": max(a), "floor_median": statistics.median(b),
            "floor_min": min(b), "ratio": statistics.median(ratios), "runs": runs, "all": a, "floor_all": b}
