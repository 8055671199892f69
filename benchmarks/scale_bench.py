"""The scale curve: `make bench BENCH_ARGS=--scale` (sizes with --sizes, default 100k,1M,10M).

For each size, a fresh store in the temp directory: `scenario save --scale`, `snapshot
freeze` and `status --json` as whole processes, the checksum (every stored body hashed
in canonical order, in-process), the console's accept round trip and its RSS once loaded,
and the PostgreSQL replay (COPY rate and app-role read-back) when the test server runs.
Then each figure's growth factor per 10× records: about 10 for work done per record,
about 1 for what must not grow (status, the round trip, RSS); more shows as worse than
linear. The disk each size needs is printed and checked before it runs; a size that
does not fit says so instead of running.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import pg_bench, tui_bench
from benchmarks.rows import Skip, load, wall_ms

MAREK = "user_dispatcher_marek"
RSS_BUDGET_MB = 150.0
ACCEPT_P95_BUDGET_MS = 20.0
# Bytes per record the store takes, measured (file + WAL during the save, with headroom),
# and what the PostgreSQL partition takes: to refuse a size that would fill the disk.
STORE_BYTES_PER_RECORD = 900
SIZES = {"100k": 10_000, "1M": 100_000, "10M": 1_000_000}  # records → orders (10 records an order)

# (figure, unit, how it should grow per 10×: "linear" or "flat")
FIGURES = (
    ("save_s", "s", "linear"), ("freeze_s", "s", "linear"), ("checksum_s", "s", "linear"),
    ("status_ms", "ms", "flat"), ("accept_p95_ms", "ms", "flat"), ("rss_mb", "MB", "flat"),
    ("pg_copy_s", "s", "linear"), ("pg_readback_s", "s", "linear"),
    ("store_mb", "MB", "linear"), ("pg_mb", "MB", "linear"),
)


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _checksum_s(db: Path) -> float:
    """Every body of the latest snapshot, read in canonical order and hashed (in-process)."""
    from bfg_tui.canonical import SnapshotHasher

    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    try:
        version = conn.execute("select scenario_version from snapshots order by id desc limit 1").fetchone()[0]
        hasher = SnapshotHasher(session="s", tenant="t")
        cursor = conn.execute("select body from scenario_records where version = ? order by ord", (version,))
        while batch := cursor.fetchmany(50_000):
            hasher.add_many(b[0] for b in batch)
        hasher.hexdigest()
    finally:
        conn.close()
    return time.perf_counter() - t0


def _store_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def measure(label: str, orders: int, tmp: Path) -> dict[str, Any]:
    records = orders * 10
    need = records * STORE_BYTES_PER_RECORD
    free = shutil.disk_usage(tmp).free
    if free < need:
        raise Skip(f"needs ~{need / 1e9:.1f} GB free in {tmp}, {free / 1e9:.1f} GB there")
    db = tmp / f"scale-{label}.db"
    out: dict[str, Any] = {"label": label, "load_before": load(), "disk_needed_gb": need / 1e9}
    base = [_bin("bfg-tui"), "--db", str(db)]
    wall_ms([*base, "init"])  # create the store: the save is what is timed
    out["save_s"] = wall_ms([*base, "--as", MAREK, "scenario", "save", "--scale", str(orders)]) / 1000
    out["freeze_s"] = wall_ms([*base, "--as", MAREK, "snapshot", "freeze"]) / 1000
    out["store_mb"] = _store_bytes(db) / 1e6
    out["checksum_s"] = _checksum_s(db)
    out["status_ms"] = statistics.median(wall_ms([*base, "status", "--json"]) for _ in range(5))
    accept = tui_bench.accept_round_trip(db=db, rounds=20)
    out["accept_p95_ms"], out["accept_p50_ms"] = accept["p95_ms"], accept["p50_ms"]
    out["rss_mb"] = tui_bench.console_rss(db)["rss_mb"]
    try:
        replay = asyncio.run(pg_bench.replay_store(db))
        out.update(pg_copy_s=replay["copy_s"], pg_rows_per_s=replay["rows_per_s"],
                   pg_readback_s=replay["readback_s"], pg_mb=replay["pg_bytes"] / 1e6, pg_split=replay.get("split"))
    except Skip as why:
        out["pg_skipped"] = str(why)
    except Exception as exc:  # a failed replay is reported with the size, the curve goes on
        out["pg_skipped"] = f"failed: {type(exc).__name__}: {exc}"
    out["load_after"] = load()
    out["records"] = records
    return out


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.0f} {unit}"


def report(results: list[dict[str, Any]]) -> None:
    labels = [r["label"] for r in results]
    print(f"{'figure':<16}" + "".join(f"{label:>14}" for label in labels) + "   growth per 10×")
    print("-" * (16 + 14 * len(labels) + 40))
    for key, unit, shape in FIGURES:
        values = [r.get(key) for r in results]
        growth = []
        for a, b in itertools.pairwise(values):
            growth.append(f"×{b / a:.1f}" if a and b else "—")
        verdict = ""
        if shape == "flat" and any(g != "—" and float(g[1:]) > 2 for g in growth):
            verdict = "  grows (should stay flat)"
        if shape == "linear" and any(g != "—" and float(g[1:]) > 13 for g in growth):
            verdict = "  worse than linear"
        print(f"{key:<16}" + "".join(f"{_fmt(v, unit):>14}" for v in values) + "   " + " ".join(growth) + verdict)
    rates = [r.get("pg_rows_per_s") for r in results]
    print(f"{'pg_rows_per_s':<16}" + "".join(f"{(f'{v / 1000:.0f}k' if v else '—'):>14}" for v in rates))
    splits = ["/".join(f"{x:.2f}" for x in r["pg_split"]) if r.get("pg_split") else "—" for r in results]
    print(f"{'pg COPY/key/att':<16}" + "".join(f" {v:>13}" for v in splits) + "   seconds each")
    print(f"{'disk needed':<16}" + "".join(f"{r['disk_needed_gb']:>11.1f} GB" for r in results))
    print(f"{'load 1m':<16}" + "".join(f"{r['load_before']:>7.1f}→{r['load_after']:<6.1f}" for r in results))
    for r in results:
        if r.get("pg_skipped"):
            print(f"{r['label']}: PostgreSQL replay skipped: {r['pg_skipped']}")
    last = results[-1]
    if last["label"] == "10M":
        rss_ok = last["rss_mb"] <= RSS_BUDGET_MB
        acc_ok = last["accept_p95_ms"] <= ACCEPT_P95_BUDGET_MS
        print(f"10M: console RSS {last['rss_mb']:.0f} MB (≤ {RSS_BUDGET_MB:.0f} MB: {'ok' if rss_ok else 'MISSED'}); "
              f"accept p95 {last['accept_p95_ms']:.1f} ms (≤ {ACCEPT_P95_BUDGET_MS:.0f} ms: "
              f"{'ok' if acc_ok else 'MISSED'})")


def main(sizes: str) -> int:
    labels = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in labels if s not in SIZES]
    if unknown:
        sys.stderr.write(f"benchmarks.run: unknown size {unknown[0]} (one of {', '.join(SIZES)})\n")
        return 2
    results = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bfg-scale-") as tmp:
        for label in labels:
            try:
                result = measure(label, SIZES[label], Path(tmp))
            except Skip as why:
                print(f"  ... {label}: skipped: {why}", file=sys.stderr, flush=True)
                continue
            finally:
                for path in Path(tmp).glob(f"scale-{label}.db*"):  # one size's files at a time
                    path.unlink(missing_ok=True)
            results.append(result)
            print(f"  ... {label}: {result}", file=sys.stderr, flush=True)
    if results:
        report(results)
    print(f"({time.perf_counter() - t0:.0f} s, pid {os.getpid()})", file=sys.stderr)
    return 0
