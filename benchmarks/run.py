"""The benchmark runner: `make bench` prints one table of figures against their budgets.

Each row shows its figure, the floor it is judged against measured in the same run,
its budget, the 1-minute load average before → after it, and ok / MISSED / skipped.
The PostgreSQL rows use the test server, which the runner starts (and stops again)
when none is running and `scripts/pg-test-server` can start one.

Options: --quick (skip the 1M-record rows), --only NAME[,NAME…] (rows whose name holds any
of these parts, e.g. `--only "status --json,data_on_screen"`),
--scale (the scale curve: 100k, 1M and 10M records; --sizes to choose).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import core_bench
from benchmarks.rows import Row, Skip, load, result_of

ROOT = Path(__file__).resolve().parent.parent


def _rows(quick: bool) -> list[Row]:
    rows = list(core_bench.rows(quick))
    for name in ("benchmarks.identity_bench", "benchmarks.tui_bench", "benchmarks.pg_bench", "benchmarks.mutation_bench"):
        module = __import__(name, fromlist=["rows"])
        rows.extend(module.rows(quick))
    return rows


def _compile() -> None:
    # Measure what users run: an installed package has its bytecode compiled (pip does it);
    # an editable checkout under PYTHONDONTWRITEBYTECODE=1 would recompile on every start.
    import compileall

    for folder in ("bfg_tui", "store", "screens"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def start_pg_server() -> bool:
    """Start the PostgreSQL test server when none answers; True when this call started it."""
    from benchmarks import pg_bench

    try:
        pg_bench.server()
        return False
    except Skip:
        pass
    script = ROOT / "scripts" / "pg-test-server"
    if not os.environ.get("BFG_PG_STATE"):
        # A state directory of this run's own: another run's stop never stops this server.
        import tempfile

        os.environ["BFG_PG_STATE"] = tempfile.mkdtemp(prefix="bfg-pg-bench.")
    try:
        out = subprocess.run([str(script), "start"], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pg_bench.NOT_STARTED = f"scripts/pg-test-server start failed ({exc})"
        return False
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        pg_bench.NOT_STARTED = f"scripts/pg-test-server start failed: {last}"
        return False
    os.environ["BFG_TUI_PG_ENV"] = out.stdout.strip()
    if "already running" in out.stderr:  # someone else's server: use it, never stop it
        return False
    print(f"  ... started the PostgreSQL test server ({out.stdout.strip()}; stopped at the end)",
          file=sys.stderr, flush=True)
    return True


def stop_pg_server() -> None:
    subprocess.run([str(ROOT / "scripts" / "pg-test-server"), "stop"], capture_output=True, timeout=120)


def selected(name: str, only: str) -> bool:
    """--only: a comma-separated list of name parts; a row runs when its name holds any of them."""
    parts = [p.strip() for p in only.split(",") if p.strip()]
    return not parts or any(p in name for p in parts)


def run_rows(rows: list[Row], only: str = "") -> list[tuple[str, str, str, str, str, str]]:
    results = []
    for row in rows:
        if not selected(row.name, only):
            continue
        before = load()
        try:
            verdict = row.verdict(row.run())
            figure, floor, result = verdict.figure, verdict.floor, result_of(verdict)
        except Skip as why:
            figure, floor, result = "—", "—", f"skipped: {why}"
        except Exception as exc:  # a broken row is reported, the table goes on
            figure, floor, result = f"error: {type(exc).__name__}: {exc}", "—", "MISSED"
        loads = f"{before:.1f} → {load():.1f}"
        results.append((row.name, figure, floor, row.budget, loads, result))
        print(f"  ... {row.name}: {figure} | floor {floor} | load {loads} | {result}", file=sys.stderr, flush=True)
    return results


def print_table(results: list[tuple[str, str, str, str, str, str]]) -> None:
    head = ("benchmark", "figure", "floor (same run)", "budget", "load 1m", "result")
    widths = [max(len(head[i]), *(len(r[i]) for r in results)) for i in range(5)] if results else [10] * 5
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + "  " + head[5])
    print("-" * (sum(widths) + 2 * 5 + 8))
    for r in results:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[5])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="skip the 1M-record rows")
    parser.add_argument("--only", default="", help="run rows whose name contains this (comma-separated: any of these)")
    parser.add_argument("--scale", action="store_true", help="the scale curve instead of the budget table")
    parser.add_argument("--sizes", default="100k,1M,10M", help="scale curve sizes (records): e.g. 100k,1M")
    args = parser.parse_args(argv)
    _compile()
    started = start_pg_server()
    t0 = time.perf_counter()
    try:
        if args.scale:
            from benchmarks import scale_bench

            return scale_bench.main(args.sizes)
        results = run_rows(_rows(args.quick), args.only)
        print_table(results)
    finally:
        if started:
            stop_pg_server()
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
