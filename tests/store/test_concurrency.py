"""Real subprocesses: concurrent writers lose nothing; SIGKILL mid-write loses nothing acknowledged."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # real subprocesses, SIGKILL mid-write

WORKER = [sys.executable, "-m", "tests.helpers.workers.hammer"]


def _acks(output: str) -> list[tuple[int, str]]:
    return [(int(line.split()[1]), line.split()[2]) for line in output.splitlines() if line.startswith("ack ")]


def _events(db: Path) -> dict[int, dict]:
    conn = sqlite3.connect(db)
    try:
        return {seq: json.loads(body) for seq, body in conn.execute("select seq, body from audit_events")}
    finally:
        conn.close()


def test_two_processes_accepting_and_revoking_lose_nothing(cli, db: Path) -> None:
    assert cli("init").code == 0  # create the store
    rounds = 25
    procs = [
        subprocess.Popen([*WORKER, str(db), "user_accountant_olena", "transition.db_schema", str(rounds)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([*WORKER, str(db), "user_dispatcher_marek", "transition.role_headers_mapped", str(rounds)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    acks = [a for out, _err in outputs for a in _acks(out)]
    assert len(acks) == 2 * 2 * rounds
    assert len({seq for seq, _ in acks}) == len(acks)  # no two writers got the same seq
    events = _events(db)
    assert len(events) == 1 + len(acks)
    for seq, verb in acks:
        assert events[seq]["kind"] == f"check.{verb}"
    verify = cli("audit", "verify")
    assert verify.code == 0, verify
    assert f"{1 + len(acks)} events" in verify.out


def test_sigkill_mid_write_keeps_the_store_sound(cli, db: Path) -> None:
    assert cli("init").code == 0
    proc = subprocess.Popen([*WORKER, str(db), "user_accountant_olena", "transition.db_schema", "100000"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: list[tuple[int, str]] = []
    assert proc.stdout is not None
    while len(acked) < 40:  # the worker writes 100000 times unless it fails (its output then ends)
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("ack "):
            acked.extend(_acks(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # Whatever the killed process printed before dying was acknowledged too.
    rest = proc.stdout.read()
    acked.extend(_acks(rest))
    assert len(acked) >= 40

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    events = _events(db)
    for seq, verb in acked:
        assert events[seq]["kind"] == f"check.{verb}"
    assert cli("audit", "verify").code == 0
    # The store still takes writes after the crash.
    assert cli("accept", "transition.secrets_and_auth", actor="user_accountant_olena").code == 0
