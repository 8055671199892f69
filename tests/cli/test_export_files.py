"""`export -o PATH` never destroys what is at PATH, and only a written export is recorded."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.rows import audit_rows

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"


@pytest.fixture
def store(cli, db: Path) -> Path:
    assert cli("scenario", "save", actor=MAREK).code == 0
    return db


def exports(db: Path) -> list[str]:
    return [kind for _seq, kind, _body in audit_rows(db) if kind.startswith("packet.export")]


def release_fresh(cli) -> bool:
    rows = cli("checks", "--json").json()
    return next(r for r in rows if r["id"] == "rollback.audit_packet")["ready"]


def assert_one_line(result, code: int, *needles: str) -> None:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err and "unexpected" not in result.err, result.err
    for needle in needles:
        assert needle in result.err, result.err


def test_a_new_file_is_written_and_follows_the_umask(cli, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "release.env"
    old = os.umask(0o027)
    try:
        result = cli("export", "release", "-o", str(out), actor=ANNA)
    finally:
        os.umask(old)
    assert result.code == 0, result
    assert out.read_text().startswith("# ProductionReleaseHandoff.v1")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert exports(store) == ["packet.export"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".release.env")]  # no temp left behind


def test_an_existing_file_is_refused_without_force(cli, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "release.env"
    out.write_text("keep me\n")
    result = cli("export", "release", "-o", str(out), actor=ANNA)
    assert_one_line(result, 1, f"{out} already exists", "--force")
    assert out.read_text() == "keep me\n"
    assert exports(store) == [] and not release_fresh(cli)


def test_force_replaces_a_regular_file_keeping_its_mode(cli, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "release.env"
    out.write_text("old\n")
    out.chmod(0o604)
    result = cli("export", "release", "-o", str(out), "--force", actor=ANNA)
    assert result.code == 0, result
    assert out.read_text().startswith("# ProductionReleaseHandoff.v1")
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert exports(store) == ["packet.export"] and release_fresh(cli)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
@pytest.mark.parametrize("force", [False, True])
def test_a_character_device_is_never_replaced(cli, store: Path, tmp_path: Path, force: bool) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the same device as /dev/null
    result = cli("export", "release", "-o", str(null), *(["--force"] if force else []), actor=ANNA)
    assert_one_line(result, 1, str(null), "is a character device")
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert exports(store) == []


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory", "socket"])
def test_force_refuses_anything_but_a_regular_file(cli, store: Path, tmp_path: Path, kind: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "target"
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        sock.close()
    words = {"symlink": "symbolic link", "fifo": "FIFO", "directory": "directory", "socket": "socket"}
    result = cli("export", "release", "-o", str(target), "--force", actor=ANNA)
    assert_one_line(result, 1, str(target), words[kind])
    assert victim.read_text() == "precious\n"
    mode = os.lstat(target).st_mode
    assert {"symlink": stat.S_ISLNK, "fifo": stat.S_ISFIFO, "directory": stat.S_ISDIR,
            "socket": stat.S_ISSOCK}[kind](mode)
    assert exports(store) == []


def test_a_planted_temp_name_symlink_is_not_followed(cli, store: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    planted = tmp_path / ".release.env.tmp"  # the old, predictable temp name
    planted.symlink_to(victim)
    out = tmp_path / "release.env"
    assert cli("export", "release", "-o", str(out), actor=ANNA).code == 0
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink() and not out.is_symlink()
    assert out.read_text().startswith("# ProductionReleaseHandoff.v1")


def test_even_a_symlink_at_the_random_temp_name_is_not_followed(tmp_path: Path, monkeypatch) -> None:
    from bfg_tui import safe_write

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(safe_write, "_token", lambda: next(names))
    (tmp_path / ".out.txt.aaaa.tmp").symlink_to(victim)  # an attacker guessed the first name
    safe_write.write_file(tmp_path / "out.txt", b"data\n", force=False)
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.txt").read_bytes() == b"data\n"
    assert not (tmp_path / ".out.txt.bbbb.tmp").exists()


def test_dash_still_means_stdout(cli, store: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("export", "release", "-o", "-", actor=ANNA)
    assert result.code == 0 and result.out.startswith("# ProductionReleaseHandoff.v1")
    assert not Path("-").exists()
    assert exports(store) == ["packet.export"]


def test_a_missing_directory_records_nothing(cli, store: Path, tmp_path: Path) -> None:
    result = cli("export", "release", "-o", str(tmp_path / "nope" / "release.env"), actor=ANNA)
    assert_one_line(result, 1, "does not exist")
    assert exports(store) in ([], ["packet.export_failed"]) and not release_fresh(cli)


def test_no_space_left_records_nothing_and_leaves_no_file(cli, store: Path, tmp_path: Path, monkeypatch) -> None:
    from bfg_tui import safe_write

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(safe_write.os, "write", full)
    result = cli("export", "release", "-o", str(tmp_path / "release.env"), actor=ANNA)
    monkeypatch.undo()
    assert_one_line(result, 1, "No space left on device")
    assert list(tmp_path.glob("*release*")) == [] and list(tmp_path.glob(".release*")) == []
    assert "packet.export" not in exports(store) and not release_fresh(cli)


def test_a_failed_fsync_records_nothing(cli, store: Path, tmp_path: Path, monkeypatch) -> None:
    from bfg_tui import safe_write

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(safe_write.os, "fsync", failing)
    result = cli("export", "release", "-o", str(tmp_path / "release.env"), actor=ANNA)
    monkeypatch.undo()
    assert_one_line(result, 1, "Input/output error")
    assert not (tmp_path / "release.env").exists()
    assert "packet.export" not in exports(store) and not release_fresh(cli)


def _run_shell(db: Path, redirect: str) -> subprocess.CompletedProcess[str]:
    cmd = f'exec "{sys.executable}" -m bfg_tui --db "{db}" --as {ANNA} export release {redirect}'
    return subprocess.run(["sh", "-c", cmd], capture_output=False, stderr=subprocess.PIPE, text=True, timeout=60)


@pytest.mark.parametrize(("redirect", "needle"), [(">&-", "stdout is closed"), (">/dev/full", "No space left")])
def test_a_failed_stdout_records_nothing(cli, store: Path, redirect: str, needle: str) -> None:
    proc = _run_shell(store, redirect)
    assert proc.returncode == 1, proc.stderr
    assert needle in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "packet.export" not in exports(store) and not release_fresh(cli)


def test_a_broken_pipe_records_nothing(cli, store: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # nobody will ever read: the first write gets EPIPE
    proc = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(store), "--as", ANNA, "export", "release"],
                          stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(writer)
    assert proc.returncode == 1, proc.stderr
    assert "broken pipe" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "packet.export" not in exports(store) and not release_fresh(cli)


def test_a_failed_release_export_does_not_satisfy_the_audit_packet_check(cli, store: Path, tmp_path: Path) -> None:
    """The rollback drill's audit-packet check counts only a release export that was written."""
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    assert cli("export", "release", "-o", str(tmp_path / "missing" / "r.env"), actor=ANNA).code == 1
    assert not release_fresh(cli)
    with sqlite3.connect(store) as conn:
        meta = dict(conn.execute("select key, value from meta").fetchall())
        assert conn.execute("select count(*) from exports").fetchone()[0] == 0
    assert meta["last_release_export_seq"] == "0"
    failed = [json.loads(body)["data"] for _s, kind, body in audit_rows(store) if kind == "packet.export_failed"]
    assert all(d["packet"] == "release" for d in failed)
    assert cli("export", "release", "-o", str(tmp_path / "r.env"), actor=ANNA).code == 0
    assert release_fresh(cli)


@pytest.mark.parametrize("verb", [["checks"], ["status"], ["audit", "list"]])
def test_a_reader_that_leaves_gets_one_line_not_an_unexpected_error(store: Path, verb: list[str]) -> None:
    """`bfg-tui checks | head`: the reader closes the pipe; the CLI says so in one line, exit 1."""
    reader, writer = os.pipe()
    os.close(reader)
    proc = subprocess.run([sys.executable, "-m", "bfg_tui", "--db", str(store), "--as", ANNA, *verb],
                          stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(writer)
    assert proc.returncode == 1, proc.stderr
    assert "broken pipe" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr
