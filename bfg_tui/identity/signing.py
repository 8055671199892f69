"""Making SSHSIG signatures: through ssh-agent (asyncssh's agent client) or from a key file.

The key never leaves the agent; a key file is for automation and must not be encrypted
(an encrypted key belongs in the agent, where its passphrase is asked once).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from bfg_tui.errors import BfgError, Reason

from . import NAMESPACE
from .keys import PublicKey, parse_public_key, string
from .sshsig import armor, encode, signed_data


class IdentityError(BfgError):
    """No agent, no usable key, or a key file we may not use."""


class Signer(Protocol):
    key: PublicKey

    async def sign(self, message: bytes) -> str:
        """The ASCII-armored SSHSIG signature of `message` in the bfg-tui namespace."""
        ...


class AgentSigner:
    """A key held by ssh-agent."""

    def __init__(self, keypair: Any, key: PublicKey) -> None:
        self._keypair = keypair
        self.key = key
        if key.key_type == "ssh-rsa":
            keypair.set_sig_algorithm(b"rsa-sha2-512")  # as ssh-keygen -Y sign; never SHA-1

    async def sign(self, message: bytes) -> str:
        try:
            sig_blob = await self._keypair.sign_async(signed_data(message, NAMESPACE))
        except (ValueError, OSError) as exc:
            raise IdentityError(Reason.of("identity.agent_refused", key=self.key.fingerprint, error=str(exc))) from None
        return armor(encode(self.key, NAMESPACE, sig_blob))


class KeyFileSigner:
    """An unencrypted private key file (OpenSSH or PEM format)."""

    def __init__(self, private_key: Any, key: PublicKey) -> None:
        self._private = private_key
        self.key = key

    async def sign(self, message: bytes) -> str:
        return self.sign_sync(message)

    def sign_sync(self, message: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        data = signed_data(message, NAMESPACE)
        kind = self.key.key_type
        if kind == "ssh-ed25519":
            sig_blob = string(b"ssh-ed25519") + string(self._private.sign(data))
        elif kind == "ssh-rsa":
            raw = self._private.sign(data, padding.PKCS1v15(), hashes.SHA512())
            sig_blob = string(b"rsa-sha2-512") + string(raw)
        else:
            from .sshsig import _ecdsa_hash

            r, s = decode_dss_signature(self._private.sign(data, ec.ECDSA(_ecdsa_hash(kind))))
            sig_blob = string(kind.encode()) + string(_mpint(r) + _mpint(s))
        return armor(encode(self.key, NAMESPACE, sig_blob))


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return string(raw)


def load_key_file(path: str) -> KeyFileSigner:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
        load_ssh_private_key,
    )

    try:
        with open(path, "rb") as fh:
            data = fh.read(1024 * 1024)
    except OSError as exc:
        raise IdentityError(Reason.of("identity.key_file_unreadable", path=path, error=exc.strerror)) from None
    if b"PRIVATE KEY" not in data:
        raise IdentityError(Reason.of("identity.key_file_public", path=path))
    loader = load_ssh_private_key if b"OPENSSH PRIVATE KEY" in data else load_pem_private_key
    try:
        private = loader(data, password=None)
    except TypeError:
        raise IdentityError(Reason.of("identity.key_file_encrypted", path=path)) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise IdentityError(Reason.of("identity.key_file_damaged", path=path, error=str(exc).splitlines()[0][:80])) from None
    line = private.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode("ascii")
    return KeyFileSigner(private, parse_public_key(line))


class KeyRing:
    """The keys this session can sign with: the agent's, or the one key file given."""

    def __init__(self, signers: list[Any], source: str, agent: Any = None) -> None:
        self.signers = signers
        self.source = source  # "agent", "key file PATH" or "none"
        self._agent = agent

    def for_fingerprints(self, fingerprints: set[str]) -> list[Any]:
        return [s for s in self.signers if s.key.fingerprint in fingerprints]

    async def close(self) -> None:
        if self._agent is not None:
            self._agent.close()
            await self._agent.wait_closed()
            self._agent = None


async def open_keyring(key_file: str | None = None, agent_sock: str | None = None) -> KeyRing:
    """The key file if one is given (or BFG_TUI_SIGNING_KEY), else the agent at SSH_AUTH_SOCK."""
    key_file = key_file or os.environ.get("BFG_TUI_SIGNING_KEY") or None
    if key_file:
        return KeyRing([load_key_file(key_file)], f"key file {key_file}")
    sock = agent_sock if agent_sock is not None else os.environ.get("SSH_AUTH_SOCK", "")
    if not sock:
        return KeyRing([], "none")
    from asyncssh.agent import SSHAgentClient

    agent = SSHAgentClient(sock)
    try:
        keypairs = await agent.get_keys()
    except (ValueError, OSError):
        agent.close()
        return KeyRing([], "none")
    signers = []
    from .keys import KeyFormatError, from_blob

    for pair in keypairs:
        try:
            key = from_blob(pair.public_data, pair.get_comment() or "")
        except KeyFormatError:
            continue  # a key type we do not verify (e.g. a security key): skip it
        signers.append(AgentSigner(pair, key))
    return KeyRing(signers, "agent", agent)
