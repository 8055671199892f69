"""OpenSSH public keys: parsing, wire blobs, fingerprints, and the `cryptography` key for verifying."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from functools import lru_cache
from typing import Any, NamedTuple

from bfg_tui.errors import BfgError, Reason

# Key types we can verify (SSHSIG's signature algorithm for each; RSA signs with rsa-sha2-512).
KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")


class KeyFormatError(BfgError):
    """A key that cannot be read or is of a type we do not verify."""


def read_string(buf: bytes, at: int) -> tuple[bytes, int]:
    """One SSH wire `string` (uint32 length, bytes) from `buf` at `at`; the bytes and the next offset."""
    if at + 4 > len(buf):
        raise ValueError("truncated")
    (size,) = struct.unpack_from(">I", buf, at)
    end = at + 4 + size
    if end > len(buf):
        raise ValueError("truncated")
    return buf[at + 4:end], end


def string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


class PublicKey(NamedTuple):
    key_type: str
    blob: bytes  # the SSH wire encoding, as in authorized_keys after base64
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        """As `ssh-keygen -l` prints it: SHA256:base64 without padding."""
        return fingerprint(self.blob)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")

    def openssh(self, comment: bool = True) -> str:
        line = f"{self.key_type} {self.base64}"
        return f"{line} {self.comment}" if comment and self.comment else line

    def crypto(self) -> Any:
        """The `cryptography` public key (cached per blob: verifying a trail reuses a few keys)."""
        return _crypto_key(self.blob)


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def from_blob(blob: bytes, comment: str = "") -> PublicKey:
    try:
        key_type = read_string(blob, 0)[0].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise KeyFormatError(Reason.of("key.damaged_blob")) from None
    if key_type not in KEY_TYPES:
        raise KeyFormatError(Reason.of("key.unsupported_type", type=key_type[:40], types=", ".join(KEY_TYPES)))
    key = PublicKey(key_type, blob, comment)
    try:
        key.crypto()
    except (ValueError, TypeError):
        raise KeyFormatError(Reason.of("key.damaged", type=key_type)) from None
    return key


def parse_public_key(line: str) -> PublicKey:
    """An OpenSSH public key line (`TYPE BASE64 [COMMENT]`), as in a .pub file."""
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise KeyFormatError(Reason.of("key.not_a_line"))
    key_type, data = parts[0], parts[1]
    if key_type.startswith("-----BEGIN"):
        raise KeyFormatError(Reason.of("key.is_private"))
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(Reason.of("key.not_base64")) from None
    key = from_blob(blob, parts[2].strip() if len(parts) > 2 else "")
    if key.key_type != key_type:
        raise KeyFormatError(Reason.of("key.type_differs", key_type=key.key_type, line_type=key_type[:40]))
    return key


def read_public_key_file(path: str) -> PublicKey:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(64 * 1024)
    except OSError as exc:
        raise KeyFormatError(Reason.of("key.cannot_read", path=path, error=exc.strerror)) from None
    except UnicodeDecodeError:
        raise KeyFormatError(Reason.of("key.not_a_file", path=path)) from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise KeyFormatError(Reason.of("key.none_in_file", path=path))
    try:
        return parse_public_key(lines[0])
    except KeyFormatError as exc:
        raise KeyFormatError(Reason.of("key.in_file", path=path, problem=Reason.said(exc.reason))) from None


@lru_cache(maxsize=256)
def _crypto_key(blob: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    key_type = read_string(blob, 0)[0].decode("ascii")
    return load_ssh_public_key(f"{key_type} {base64.b64encode(blob).decode('ascii')}".encode("ascii"))
