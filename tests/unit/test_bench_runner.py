"""`make bench BENCH_ARGS=--only …`: which rows a filter runs."""

from __future__ import annotations

from benchmarks.rows import Verdict, result_of
from benchmarks.run import selected

STATUS = "status --json (demo store), whole process"
DATA = "data_on_screen: spawn → copilot figures painted (pty)"
ENGINE = "engine recompute (full catalog)"


def test_no_filter_runs_every_row() -> None:
    assert selected(STATUS, "") and selected(ENGINE, "")


def test_a_filter_runs_the_rows_holding_any_of_its_parts() -> None:
    only = "status --json, data_on_screen"
    assert selected(STATUS, only) and selected(DATA, only)
    assert not selected(ENGINE, only)
    assert not selected(ENGINE, "accept")


def test_a_row_judged_at_another_size_is_neither_ok_nor_missed() -> None:
    assert result_of(Verdict("300k rows/s", "600k rows/s", None)) == "—"
    assert result_of(Verdict("450k rows/s", "600k rows/s", True)) == "ok"
    assert result_of(Verdict("350k rows/s", "600k rows/s", False)) == "MISSED"


def test_the_replay_budget_is_judged_at_1m_records_only() -> None:
    from benchmarks.pg_bench import rows

    by_name = {row.name: row for row in rows(quick=False)}
    figures = {"rows": 100_011, "copy_s": 0.5, "rows_per_s": 200_022.0, "floor_rows_per_s": 600_000.0,
               "dry_run_s": 1.0}
    assert by_name["PG replay (COPY) 100k records"].verdict(figures).ok is None
    assert by_name["PG replay (COPY) 1M records"].verdict(figures).ok is False
    assert by_name["PG replay (COPY) 1M records"].verdict({**figures, "rows_per_s": 400_000.0}).ok is True
