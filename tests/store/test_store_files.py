"""Where the store lives: read verbs create nothing, odd files are refused untouched, read-only media work."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.walkthrough import save_and_freeze

MAREK = "user_dispatcher_marek"
READ_VERBS = [("status",), ("status", "--json"), ("audit", "verify"), ("audit", "list"), ("checks",),
              ("export", "release")]


def assert_one_line(result, code: int, *needles: str) -> None:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err and "unexpected" not in result.err, result.err
    for needle in needles:
        assert needle in result.err, result.err


def fingerprint(path: Path) -> tuple[bytes, int, int]:
    st = os.lstat(path)
    return path.read_bytes(), st.st_mtime_ns, st.st_size


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("argv", READ_VERBS, ids=" ".join)
def test_read_verbs_on_a_missing_store_create_nothing(cli, tmp_path: Path, argv: tuple[str, ...]) -> None:
    missing = tmp_path / "typo" / "nested" / "console.db"
    result = cli(*argv, actor="user_md_anna", store=missing)
    assert_one_line(result, 1, f"no store at {missing}", "bfg-tui init")
    assert not (tmp_path / "typo").exists()


def test_read_verbs_do_not_create_the_default_store(tmp_path: Path, monkeypatch, capsys) -> None:
    from bfg_tui.cli import main

    monkeypatch.delenv("BFG_TUI_DB")
    for argv in READ_VERBS:
        assert main(["--as", "user_md_anna", *argv]) == 1
        assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "xdg-data").exists()


def test_init_creates_a_private_store_and_directories(cli, tmp_path: Path) -> None:
    store = tmp_path / "new" / "deeper" / "console.db"
    old = os.umask(0o022)
    try:
        result = cli("init", store=store)
    finally:
        os.umask(old)
    assert result.code == 0 and f"created a new store at {store}" in result.out, result
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    assert listing(store.parent) == ["console.db"]  # no temp file, no side files left
    assert cli("status", store=store).code == 0
    again = cli("init", store=store)
    assert again.code == 0 and "already" in again.out


def test_a_write_verb_creates_the_store_private(cli, tmp_path: Path) -> None:
    store = tmp_path / "w" / "console.db"
    assert cli("scenario", "save", actor=MAREK, store=store).code == 0
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700


FOREIGN = {
    "empty": b"",
    "text": b"hello, this is not a database\n",
    "short": b"SQLite",
}


@pytest.mark.parametrize("kind", [*FOREIGN, "sqlite-other", "sqlite-blank"])
@pytest.mark.parametrize("argv", [("status",), ("audit", "verify"), ("scenario", "save"), ("init",)], ids=" ".join)
def test_a_zero_byte_or_foreign_file_is_refused_untouched(cli, tmp_path: Path, kind: str, argv) -> None:
    import sqlite3

    target = tmp_path / "store.db"
    if kind in FOREIGN:
        target.write_bytes(FOREIGN[kind])
    else:
        conn = sqlite3.connect(target)
        if kind == "sqlite-other":
            conn.execute("create table invoices(id integer primary key, total text)")
            conn.execute("insert into invoices values (1, '10.00')")
            conn.commit()
        else:
            conn.execute("pragma user_version = 0")
            conn.execute("vacuum")
        conn.close()
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    before, folder = fingerprint(target), listing(tmp_path)
    result = cli(*argv, actor=MAREK, store=target)
    assert_one_line(result, 1, str(target), "bfg-tui store")
    assert fingerprint(target) == before
    assert listing(tmp_path) == folder


def test_an_empty_db_argument_is_a_usage_error(cli, tmp_path: Path, monkeypatch, capsys) -> None:
    from bfg_tui.cli import main

    monkeypatch.delenv("BFG_TUI_DB")
    for argv in (["--db", "", "status"], ["--db", "", "--as", MAREK, "scenario", "save"], ["--db", "", "init"]):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
        err = capsys.readouterr().err
        assert code == 2 and "--db" in err and err.count("\n") == 1, err
    assert not (tmp_path / "xdg-data").exists()


@pytest.mark.parametrize("argv", [("status",), ("init",), ("--as", MAREK, "scenario", "save"), ("paths",)],
                         ids=" ".join)
def test_a_libpq_key_value_string_is_never_a_file_name(tmp_path: Path, monkeypatch, capsys, argv) -> None:
    from bfg_tui.cli import main

    monkeypatch.chdir(tmp_path)
    location = "host=db.example.internal dbname=bfg user=app password=hunter2-canary"
    try:
        code = main(["--db", location, *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "hunter2-canary" not in captured.out + captured.err
    assert listing(tmp_path) == []
    if argv != ("paths",):
        assert code == 2 and "key=value" in captured.err and captured.err.count("\n") == 1, captured.err


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
@pytest.mark.parametrize("argv", [("status",), ("audit", "list"), ("init",), ("scenario", "save")], ids=" ".join)
def test_a_character_device_as_db_is_refused_without_a_journal(cli, tmp_path: Path, argv) -> None:
    dev = tmp_path / "null"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    result = cli(*argv, actor=MAREK, store=dev)
    assert_one_line(result, 1, str(dev), "character device")
    assert listing(tmp_path) == ["null"]


def test_a_directory_as_db_is_refused(cli, tmp_path: Path) -> None:
    result = cli("status", store=tmp_path)
    assert_one_line(result, 1, str(tmp_path), "directory")


# ---------------------------------------------------------------- read-only media


@pytest.fixture
def made(cli, tmp_path: Path) -> Path:
    store = tmp_path / "ro" / "console.db"
    save_and_freeze(cli, store=store)
    assert listing(store.parent) == ["console.db"]
    return store


def read_everything(cli, store: Path) -> None:
    status = cli("status", "--json", store=store)
    assert status.code == 0, status
    assert status.json()["snapshot"]["rows"] > 0  # type: ignore[index]
    listed = cli("audit", "list", store=store)
    assert listed.code == 0 and "snapshot.freeze" in listed.out, listed
    verified = cli("audit", "verify", store=store)
    assert verified.code == 0 and "audit trail ok" in verified.out, verified
    assert cli("checks", store=store).code == 0


def test_a_read_only_file(cli, made: Path) -> None:
    made.chmod(0o444)
    before, folder = fingerprint(made), listing(made.parent)
    read_everything(cli, made)
    assert fingerprint(made) == before and listing(made.parent) == folder
    refused = cli("accept", "transition.db_schema", actor="user_accountant_olena", store=made)
    assert_one_line(refused, 1, "read-only")


def test_a_read_only_directory(cli, made: Path) -> None:
    made.parent.chmod(0o555)
    try:
        folder = listing(made.parent)
        read_everything(cli, made)
        assert listing(made.parent) == folder
    finally:
        made.parent.chmod(0o700)


@contextlib.contextmanager
def read_only_mount(source: Path, tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root and mount(8)")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mount is not permitted here")
    try:
        shutil.copy2(source, mnt / source.name)
        if subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True).returncode:
            pytest.skip("remount read-only is not permitted here")
        yield mnt / source.name
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_read_only_filesystem(cli, made: Path, tmp_path: Path) -> None:
    with read_only_mount(made, tmp_path) as store:
        read_everything(cli, store)
        assert listing(store.parent) == ["console.db"]
        assert_one_line(cli("snapshot", "freeze", actor=MAREK, store=store), 1, "read-only")
