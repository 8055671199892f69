"""Real OpenSSH tools for the identity tests: keys from ssh-keygen, an ssh-agent of the test's own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import wait_for

NEED_SSH = pytest.mark.skipif(
    not (shutil.which("ssh-keygen") and shutil.which("ssh-agent") and shutil.which("ssh-add")),
    reason="OpenSSH client tools (ssh-keygen, ssh-agent, ssh-add) are not installed",
)


def keygen(directory: Path, name: str, key_type: str = "ed25519", passphrase: str = "") -> Path:
    """A new key pair from ssh-keygen; returns the private key path (the .pub is beside it)."""
    path = directory / name
    args = ["ssh-keygen", "-q", "-t", key_type, "-N", passphrase, "-C", f"{name}@test", "-f", str(path)]
    if key_type == "rsa":
        args[4:4] = ["-b", "2048"]
    subprocess.run(args, check=True, capture_output=True)
    return path


def ssh_fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


def ssh_sign(key: Path, message: bytes, namespace: str = "bfg-tui") -> str:
    out = subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", str(key), "-n", namespace], input=message,
                         check=True, capture_output=True)
    return out.stdout.decode("ascii")


def ssh_verify(allowed_signers: str, identity: str, message: bytes, signature: str, tmp: Path,
               namespace: str = "bfg-tui") -> subprocess.CompletedProcess[bytes]:
    signers = tmp / "allowed_signers"
    signers.write_text(allowed_signers)
    sig = tmp / "message.sig"
    sig.write_text(signature)
    return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", identity, "-n", namespace,
                           "-s", str(sig)], input=message, capture_output=True)


@contextmanager
def ssh_agent(directory: Path, *keys: Path) -> Iterator[str]:
    """An ssh-agent of this test's own, holding `keys`; yields its socket path."""
    sock = directory / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:  # the socket file appears at bind(), before listen()
            if proc.poll() is not None:
                raise RuntimeError("ssh-agent did not start")
            return _accepts(sock)

        wait_for(listening, "ssh-agent did not start")
        for key in keys:
            ssh_add(str(sock), key)
        yield str(sock)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def _accepts(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def ssh_add(sock: str, key: Path) -> None:
    subprocess.run(["ssh-add", "-q", str(key)], check=True, capture_output=True,
                   env={**os.environ, "SSH_AUTH_SOCK": sock})
