"""Unbounded or malformed input: a one-line error naming the problem, never a hang, a crash or a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.helpers.rows import audit_rows

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


def assert_one_line(result, code: int, *needles: str) -> None:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err and "unexpected" not in result.err, result.err
    for needle in needles:
        assert needle in result.err, result.err


def scenario_file(path: Path, orders: int, *, escaped: bool = False) -> Path:
    """A valid BFGScenarioImport.v1 file with the demo generator's records, one record a line.

    Like `dump_scenario`, non-ASCII text is written as UTF-8; `escaped` writes `\\u` escapes
    instead, which the door's cheap look treats as suspect (every string then checked).
    """
    from bfg_tui.catalog import default_catalog
    from bfg_tui.scenario_rows import demo_rows

    with path.open("w", encoding="utf-8") as out:
        out.write('{"schema": "BFGScenarioImport.v1", "tenant": "bfg", "records": [\n')
        for n, (_kind, _rid, body) in enumerate(demo_rows(default_catalog(), orders)):
            doc = json.loads(body)
            out.write(("" if n == 0 else ",\n") + json.dumps(doc, separators=(",", ":"), ensure_ascii=escaped))
        out.write("\n]}\n")
    return path


def _limited() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # an unbounded read fails fast, not the machine


@pytest.mark.slow
def test_dev_zero_is_refused_without_reading(db: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(db), "--as", MAREK, "scenario", "save",
                           "--from", "/dev/zero"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          preexec_fn=_limited)
    assert proc.returncode == 1, proc.stderr
    assert "/dev/zero: not a regular file (a character device)" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_a_fifo_is_refused_without_hanging(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.fifo"
    os.mkfifo(fifo)
    try:
        proc = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(db), "--as", MAREK, "scenario", "save",
                               "--from", str(fifo)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("scenario save --from FIFO hung waiting for a writer")
    assert proc.returncode == 1 and "not a regular file (a FIFO)" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_an_oversized_file_names_the_cap_and_how_to_raise_it(cli, db: Path, tmp_path: Path, monkeypatch) -> None:
    big = scenario_file(tmp_path / "big.json", 3000)
    assert 1024 * 1024 < big.stat().st_size < 8 * 1024 * 1024
    monkeypatch.setenv("BFG_TUI_MAX_IMPORT_MB", "1")
    result = cli("scenario", "save", "--from", str(big), actor=MAREK)
    assert_one_line(result, 1, "over the import cap of 1 MiB", "BFG_TUI_MAX_IMPORT_MB")
    monkeypatch.setenv("BFG_TUI_MAX_IMPORT_MB", "8")
    saved = cli("scenario", "save", "--from", str(big), actor=MAREK)
    assert saved.code == 0 and "scenario saved" in saved.out, saved
    monkeypatch.setenv("BFG_TUI_MAX_IMPORT_MB", "lots")
    assert_one_line(cli("scenario", "save", "--from", str(big), actor=MAREK), 1, "BFG_TUI_MAX_IMPORT_MB must be")


@pytest.mark.parametrize("escaped", [False, True])
def test_the_streamed_import_equals_the_whole_document_parse(tmp_path: Path, escaped: bool) -> None:
    from bfg_tui.canonical import record_json
    from bfg_tui.catalog import default_catalog
    from bfg_tui.scenario_io import load_scenario_rows, parse_scenario

    catalog = default_catalog()
    path = scenario_file(tmp_path / "s.json", 600, escaped=escaped)  # > 1 MiB: several chunks
    assert path.stat().st_size > 1024 * 1024
    text = path.read_text(encoding="utf-8")
    whole = [(k, i, record_json(k, i, d, checked=False)) for k, i, d in parse_scenario(text, catalog)]
    assert load_scenario_rows(path, catalog) == whole


def test_a_secret_in_a_late_chunk_is_refused_with_its_field(cli, db: Path, tmp_path: Path) -> None:
    path = scenario_file(tmp_path / "s.json", 600)
    text = path.read_text(encoding="utf-8")
    cut = text.rindex('{"data":{')  # the last record
    planted = text[:cut] + '{"data":{"remark":"postgresql://app:hunter2@db.internal/bfg",' + text[cut + 9:]
    path.write_text(planted, encoding="utf-8")
    result = cli("scenario", "save", "--from", str(path), actor=MAREK)
    assert result.code == 1 and ".data.remark" in result.err and "hunter2" not in result.err, result
    assert result.err.count("\n") == 1


@pytest.mark.slow
def test_import_memory_stays_within_three_times_the_file(tmp_path: Path) -> None:
    path = scenario_file(tmp_path / "mem.json", 4000)
    size = path.stat().st_size
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from bfg_tui.catalog import default_catalog\n"
        "from bfg_tui.scenario_io import load_scenario_rows\n"
        "import bfg_tui.canonical, pydantic\n"
        "catalog = default_catalog()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "rows = load_scenario_rows(Path(sys.argv[1]), catalog)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(len(rows), (after - before) * 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, check=True)
    rows, grown = map(int, proc.stdout.split())
    assert rows > 40000
    assert grown <= 3 * size, f"import grew RSS by {grown / size:.1f}x the file size ({size} bytes)"


@pytest.mark.parametrize("scale", ["100000000000000000000", "10000000000"])
def test_scale_past_the_generator_is_one_line(cli, db: Path, scale: str) -> None:
    result = cli("scenario", "save", "--scale", scale, actor=MAREK)
    assert_one_line(result, 1, "--scale", "at most")


@pytest.mark.slow
def test_invalid_utf8_in_arguments_is_one_line(db: Path) -> None:
    for argv in ([b"--as", b"user\xff", b"accept", b"transition.db_schema"],
                 [b"--as", OLENA.encode(), b"accept", b"transition.db_schema", b"--note", b"bad \xc3\x28 byte"]):
        proc = subprocess.run([sys.executable.encode(), b"-m", b"bfg_tui", b"--db", str(db).encode(), *argv],
                              capture_output=True, timeout=60, cwd=ROOT)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 2 and "not valid UTF-8" in err and err.count("\n") == 1, err
    assert not db.exists() or all(kind != "check.accept" for _s, kind, _b in audit_rows(db))


def test_a_huge_limit_is_a_usage_error(cli, db: Path) -> None:
    assert cli("init").code == 0
    assert_one_line(cli("audit", "list", "--limit", "100000000000000000000"), 2, "--limit")
    assert_one_line(cli("audit", "list", "--limit", "0"), 2, "--limit")


@pytest.mark.parametrize("argv", [("status",), ("status", "--json"), ("audit", "verify"), ("audit", "list"),
                                  ("checks",), ("export", "release"), ("accept", "transition.db_schema")],
                         ids=" ".join)
def test_a_deleted_audit_head_is_named(cli, db: Path, argv) -> None:
    assert cli("init").code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("delete from audit_head")
    result = cli(*argv, actor=OLENA if argv[0] == "accept" else ANNA)
    assert_one_line(result, 1, "audit head", "missing")


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_a_character_device_is_no_probe_target(cli, db: Path, tmp_path: Path) -> None:
    import stat as st

    dev = tmp_path / "null"
    os.mknod(dev, 0o666 | st.S_IFCHR, os.makedev(1, 3))
    result = cli("probe", "connection", str(dev), actor=MAREK)
    assert result.code == 1 and "not a regular file" in result.err, result
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["null", db.name])


@pytest.mark.parametrize(("table", "verbs"), [
    ("scenarios", [("status",), ("checks",), ("export", "release"), ("accept", "transition.db_schema")]),
    ("audit_events", [("audit", "verify")]),
])
def test_a_deleted_table_is_named_not_a_crash(cli, db: Path, table: str, verbs) -> None:
    assert cli("scenario", "save", actor=MAREK).code == 0
    with sqlite3.connect(db) as conn:
        conn.execute(f"delete from {table}")
    for argv in verbs:
        result = cli(*argv, actor=OLENA if argv[0] == "accept" else ANNA)
        assert result.code == 1, result
        assert result.err.count("\n") == 1 and "unexpected" not in result.err, result.err
