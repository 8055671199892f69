"""Owners over SSH, end to end: OpenSSH's sshd on 127.0.0.1 with the printed authorized_keys lines.

sshd runs with its own host key and config at a free high port; keys come from ssh-keygen,
agents are the test's own, and every connection is a real `ssh` client.
"""

from __future__ import annotations

import getpass
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.helpers.ssh_tools import NEED_SSH, keygen, ssh_agent
from tests.helpers.walkthrough import save_and_freeze

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
ANNA, OLENA = "user_md_anna", "user_accountant_olena"

pytestmark = [NEED_SSH, pytest.mark.slow]


def _need_sshd() -> None:
    if SSHD is None:
        if os.environ.get("CI"):
            pytest.fail("sshd (openssh-server) is missing: .ci/run installs it")
        pytest.skip("sshd (openssh-server) is not installed: scripts/ensure-sshd installs it")
    if os.geteuid() != 0:
        pytest.skip("sshd needs to run as root to log a user in")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen) -> None:
    def accepting() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(accepting, "sshd did not start listening")


class Sshd:
    def __init__(self, port: int, directory: Path, host_pub: Path) -> None:
        self.port, self.directory = port, directory
        self.known_hosts = directory / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub.read_text()}")

    def ssh(self, key: Path, *command: str, agent: str | None = None, tty: bool = False) -> list[str]:
        args = ["ssh", "-F", "/dev/null", "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-i", str(key)]
        args += ["-A"] if agent else ["-a"]
        args += ["-tt"] if tty else ["-T"]
        return [*args, "--", f"{getpass.getuser()}@127.0.0.1", *command]  # "--": the command is not ssh options

    def run(self, key: Path, *command: str, agent: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
        if agent:
            env["SSH_AUTH_SOCK"] = agent
        return subprocess.run(self.ssh(key, *command, agent=agent), capture_output=True, text=True, env=env,
                              timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def served(tmp_path: Path, cli: Callable, db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sshd, dict[str, Path]]]:
    _need_sshd()
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    keys = {name: keygen(keys_dir, name) for name in ("anna", "olena", "stranger")}
    # A signed store: Anna starts the roster and adds Olena; Marek has saved and frozen.
    save_and_freeze(cli)
    with ssh_agent(keys_dir, keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        assert cli("roster", "init", "--actor", ANNA, "--key", f"{keys['anna']}.pub").code == 0
        assert cli("roster", "add", OLENA, f"{keys['olena']}.pub").code == 0
    monkeypatch.delenv("SSH_AUTH_SOCK")
    bfg_tui = Path(sys.executable).parent / "bfg-tui"
    lines = cli("ssh", "authorized-keys", "--bfg-tui", str(bfg_tui))
    assert lines.code == 0, lines
    assert all(line.startswith("restrict,pty,agent-forwarding,command=") for line in lines.out.splitlines())
    server = tmp_path / "sshd"
    server.mkdir()
    (server / "authorized_keys").write_text(lines.out)
    host = keygen(server, "host_ed25519")
    port = _free_port()
    config = server / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host}", f"PidFile {server / 'sshd.pid'}",
        f"AuthorizedKeysFile {server / 'authorized_keys'}", "StrictModes no", "UsePAM no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password", "AllowAgentForwarding yes", "PermitTTY yes", "LogLevel VERBOSE", "",
    ]))
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc)
        yield Sshd(port, server, Path(f"{host}.pub")), keys
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_olena_signs_her_check_over_ssh_and_nothing_else(served: tuple[Sshd, dict[str, Path]], cli: Callable,
                                                         tmp_path: Path) -> None:
    sshd, keys = served
    with ssh_agent(tmp_path, keys["olena"]) as agent:
        done = sshd.run(keys["olena"], "accept", "transition.db_schema", agent=agent)
        assert done.returncode == 0, done.stderr
        assert f"accepted by {OLENA}" in done.stdout
        anna_check = sshd.run(keys["olena"], "accept", "transition.contracts_frozen", agent=agent)
        assert anna_check.returncode == 1 and "owned by user_md_anna" in anna_check.stderr
        as_anna = sshd.run(keys["olena"], f"--as {ANNA} accept transition.contracts_frozen", agent=agent)
        assert as_anna.returncode == 2 and "--as is not allowed over SSH" in as_anna.stderr
        shell = sshd.run(keys["olena"], "status; cat /etc/hostname", agent=agent)
        assert shell.returncode == 2 and "not allowed over SSH" in shell.stderr
        assert socket.gethostname() not in shell.stdout
        verified = sshd.run(keys["olena"], "audit", "verify", agent=agent)
        assert verified.returncode == 0 and "signed by 2 keys of 2 actors" in verified.stdout
    without_agent = sshd.run(keys["olena"], "revoke", "transition.db_schema")
    assert without_agent.returncode == 1 and "connect with ssh -A to sign" in without_agent.stderr
    assert sshd.run(keys["olena"], "status").returncode == 0  # reading needs no agent
    accept = next(e for e in cli("audit", "list", "--json", "--filter", "transition.db_schema").json()
                  if e["kind"] == "check.accept")
    assert accept["actor"] == OLENA and accept["auth"]["mode"] == "sshsig" and accept["signature"]
    assert accept["auth"]["ssh"].startswith("127.0.0.1 ")


def test_unknown_key_is_refused_by_sshd(served: tuple[Sshd, dict[str, Path]]) -> None:
    sshd, keys = served
    refused = sshd.run(keys["stranger"], "status")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr


def test_console_over_ssh_is_bound_to_her(served: tuple[Sshd, dict[str, Path]], tmp_path: Path) -> None:
    sshd, keys = served
    with ssh_agent(tmp_path, keys["olena"]) as agent:
        env = {**os.environ, "SSH_AUTH_SOCK": agent, "TERM": "xterm-256color"}
        proc = subprocess.Popen(sshd.ssh(keys["olena"], agent=agent, tty=True), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        seen = b""

        def shows(text: bytes, limit: float = 30) -> None:
            nonlocal seen
            deadline = time.monotonic() + limit
            while text not in seen:
                left = deadline - time.monotonic()
                assert left > 0, f"{text!r} never shown; screen so far ends {seen[-400:]!r}"
                ready, _, _ = select.select([proc.stdout], [], [], left)
                if ready:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    assert chunk, f"ssh closed before {text!r} was shown; it ended {seen[-1500:]!r}"
                    seen += chunk

        try:
            shows(b"Olena Shevchenko")  # her home screen, acting as her
            shows(b"SHA256:")  # the top bar shows her key (signed identity)
            proc.stdin.write(b"u")  # actor.switch: no other actor over this key
            proc.stdin.flush()
            shows(b"this SSH session acts only as")
            proc.stdin.write(b"q")
            proc.stdin.flush()
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
