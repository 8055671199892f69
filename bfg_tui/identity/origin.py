"""Where a session acts from, read once at the edge (the CLI's entry, the console's start).

Every event records the OS user and the SSH client it came from; the signing side needs the
key file and the agent. They are read from the environment once, into one value the
service passes down, so every write and refusal of a session says the same thing.
"""

# No `from __future__ import annotations`: a NamedTuple compiles each string annotation.

import os
from collections.abc import Mapping
from typing import NamedTuple


class Origin(NamedTuple):
    os_user: str = ""
    ssh: str = ""  # the SSH client's address and port ("" when local)
    over_ssh: bool = False
    key_file: str | None = None  # a signing key file (--key or BFG_TUI_SIGNING_KEY)
    agent_sock: str = ""  # SSH_AUTH_SOCK ("" when there is no agent)

    @classmethod
    def from_env(cls, key_file: str | None = None, environ: Mapping[str, str] | None = None) -> "Origin":
        """Read once: the OS user, SSH_CONNECTION, BFG_TUI_SIGNING_KEY and SSH_AUTH_SOCK."""
        import getpass

        env = os.environ if environ is None else environ
        try:
            os_user = getpass.getuser()
        except (KeyError, OSError):
            os_user = str(os.getuid())
        ssh = env.get("SSH_CONNECTION", "")
        # Keep only the client address and port of SSH_CONNECTION; the rest is ours.
        return cls(os_user=os_user, ssh=" ".join(ssh.split()[:2]) if ssh else "", over_ssh=bool(ssh),
                   key_file=key_file or env.get("BFG_TUI_SIGNING_KEY") or None,
                   agent_sock=env.get("SSH_AUTH_SOCK", ""))
