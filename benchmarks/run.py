"""The benchmark runner: `make bench` prints one table of figures against their budgets.

Options: --quick (skip the 1M-record rows), --only NAME (substring of a row name).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import core_bench

Row = tuple[str, Callable[[], dict[str, Any]], str, Callable[[dict[str, Any]], tuple[str, bool]]]


def _rows(quick: bool) -> list[Row]:
    rows: list[Row] = [
        ("status --json wall (demo store)", core_bench.status_wall, "≤ 150 ms median",
         lambda r: (f"median {r['median_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, min {r['min_ms']:.0f} ms",
                    r["median_ms"] <= 150)),
        ("engine recompute (full catalog)", core_bench.engine_recompute, "≤ 1 ms",
         lambda r: (f"{r['ms_per_recompute']:.3f} ms ({r['checks']} checks, {r['nodes']} nodes)",
                    r["ms_per_recompute"] <= 1)),
        ("freeze + checksum, 100k records", lambda: core_bench.freeze_and_checksum(10_000),
         "checksum ≥ 1M rec/s", _freeze_fmt(limit_s=None)),
    ]
    if not quick:
        rows.append(("freeze + checksum, 1M records", lambda: core_bench.freeze_and_checksum(100_000),
                     "freeze ≤ 4 s; checksum ≥ 1M rec/s", _freeze_fmt(limit_s=4.0)))
    rows.append(("audit verify, 100k events", core_bench.audit_verify, "≥ 300k events/s",
                 lambda r: (f"{r['events_per_s'] / 1000:.0f}k events/s ({r['seconds'] * 1000:.0f} ms)",
                            r["events_per_s"] >= 300_000)))
    rows.extend(_optional_rows(quick))
    return rows


def _freeze_fmt(limit_s: float | None) -> Callable[[dict[str, Any]], tuple[str, bool]]:
    def fmt(r: dict[str, Any]) -> tuple[str, bool]:
        ok = r["checksum_records_per_s"] >= 1_000_000 and (limit_s is None or r["freeze_s"] <= limit_s)
        return (f"{r['records']} rec: save {r['save_s']:.2f} s, freeze {r['freeze_s']:.2f} s, "
                f"checksum {r['checksum_records_per_s'] / 1e6:.2f}M rec/s", ok)

    return fmt


def _optional_rows(quick: bool) -> list[Row]:
    """Rows contributed by other parts (console, PostgreSQL) when present."""
    rows: list[Row] = []
    for name in ("benchmarks.tui_bench", "benchmarks.pg_bench"):
        try:
            module = __import__(name, fromlist=["ROWS"])
        except ImportError:
            continue
        rows.extend(module.rows(quick))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="skip the 1M-record rows")
    parser.add_argument("--only", default="", help="run rows whose name contains this")
    args = parser.parse_args(argv)
    # Measure what users run: an installed package has its bytecode compiled (pip does it);
    # an editable checkout under PYTHONDONTWRITEBYTECODE=1 would recompile on every start.
    import compileall
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for folder in ("bfg_tui", "store", "screens"):
        compileall.compile_dir(root / folder, quiet=1)
    results = []
    for name, fn, budget, fmt in _rows(args.quick):
        if args.only and args.only not in name:
            continue
        t0 = time.perf_counter()
        try:
            figure, ok = fmt(fn())
        except Exception as exc:  # a broken row is reported, the table goes on
            figure, ok = f"error: {type(exc).__name__}: {exc}", False
        results.append((name, figure, budget, "ok" if ok else "MISSED", time.perf_counter() - t0))
        print(f"  ... {name}: {figure}", file=sys.stderr, flush=True)
    width = max(len(r[0]) for r in results) if results else 10
    fwidth = max(len(r[1]) for r in results) if results else 10
    print(f"{'benchmark':<{width}}  {'figure':<{fwidth}}  {'budget':<34}  result")
    print("-" * (width + fwidth + 48))
    for name, figure, budget, verdict, _t in results:
        print(f"{name:<{width}}  {figure:<{fwidth}}  {budget:<34}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
