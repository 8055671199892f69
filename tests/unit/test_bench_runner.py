"""`make bench BENCH_ARGS=--only …`: which rows a filter runs."""

from __future__ import annotations

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
