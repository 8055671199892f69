"""OpenSSH's SSHSIG signature format (PROTOCOL.sshsig), as `ssh-keygen -Y sign/verify` use it.

The signed data is a fixed wrapper around a hash of the message; the signature blob
carries the public key, the namespace, the hash algorithm and the key's own signature.
The armor is byte-for-byte what ssh-keygen writes: base64 wrapped at 70 columns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from bfg_tui.errors import BfgError, Reason

from .keys import KeyFormatError, PublicKey, from_blob, read_string, string

if TYPE_CHECKING:  # cryptography is imported only when a signature is checked
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

MAGIC = b"SSHSIG"
VERSION = 1
HASH_ALG = "sha512"  # ssh-keygen's default
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
_WRAP = 70  # sshbuf_dtob64 wraps at 70 columns
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


class SignatureError(BfgError):
    """A signature that is damaged, of the wrong namespace, or does not match."""


class Signature(NamedTuple):
    key: PublicKey
    namespace: str
    hash_alg: str
    sig_alg: str
    sig: bytes  # the algorithm's raw signature (for ECDSA: the r, s mpints)


def signed_data(message: bytes, namespace: str, hash_alg: str = HASH_ALG) -> bytes:
    """What the key actually signs: the SSHSIG wrapper around H(message)."""
    digest = _HASHES[hash_alg](message).digest()
    return MAGIC + string(namespace.encode()) + string(b"") + string(hash_alg.encode()) + string(digest)


def encode(key: PublicKey, namespace: str, sig_blob: bytes, hash_alg: str = HASH_ALG) -> bytes:
    """The SSHSIG blob; `sig_blob` is the SSH signature encoding (string alg, string sig)."""
    return (MAGIC + struct.pack(">I", VERSION) + string(key.blob) + string(namespace.encode()) + string(b"")
            + string(hash_alg.encode()) + string(sig_blob))


def armor(blob: bytes) -> str:
    b64 = base64.b64encode(blob).decode("ascii")
    lines = [b64[i:i + _WRAP] for i in range(0, len(b64), _WRAP)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def dearmor(text: str) -> bytes:
    lines = text.strip().splitlines()
    if len(lines) < 3 or lines[0].strip() != BEGIN or lines[-1].strip() != END:
        raise SignatureError(Reason.of("signature.no_armor"))
    try:
        return base64.b64decode("".join(line.strip() for line in lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(Reason.of("signature.bad_base64")) from None


def parse(armored: str) -> Signature:
    blob = dearmor(armored)
    try:
        if blob[:6] != MAGIC:
            raise ValueError("no SSHSIG magic")
        (version,) = struct.unpack_from(">I", blob, 6)
        if version != VERSION:
            raise ValueError(f"SSHSIG version {version}")
        key_blob, at = read_string(blob, 10)
        namespace, at = read_string(blob, at)
        _reserved, at = read_string(blob, at)
        hash_alg, at = read_string(blob, at)
        sig_blob, at = read_string(blob, at)
        if at != len(blob):
            raise ValueError("trailing bytes")
        sig_alg, inner = read_string(sig_blob, 0)
        sig, inner = read_string(sig_blob, inner)
        if inner != len(sig_blob):
            raise ValueError("trailing bytes in the signature")
        key = from_blob(key_blob)
        return Signature(key, namespace.decode(), hash_alg.decode(), sig_alg.decode(), sig)
    except (ValueError, struct.error, UnicodeDecodeError, KeyFormatError) as exc:
        raise SignatureError(Reason.of("signature.damaged_blob", error=str(exc))) from None


def verify(message: bytes, armored: str, namespace: str) -> PublicKey:
    """Check `armored` signs `message` in `namespace`; return the signing key, else raise SignatureError."""
    sig = parse(armored)
    if sig.namespace != namespace:
        raise SignatureError(Reason.of("signature.namespace", got=repr(sig.namespace), expected=repr(namespace)))
    if sig.hash_alg not in _HASHES:
        raise SignatureError(Reason.of("signature.hash", hash=sig.hash_alg[:20]))
    data = signed_data(message, namespace, sig.hash_alg)
    if not _verify_raw(sig.key, sig.sig_alg, sig.sig, data):
        raise SignatureError(Reason.of("signature.mismatch", key=sig.key.fingerprint))
    return sig.key


def _verify_raw(key: PublicKey, sig_alg: str, sig: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    crypto = key.crypto()
    try:
        if key.key_type == "ssh-ed25519":
            if sig_alg != "ssh-ed25519":
                return False
            crypto.verify(sig, data)
        elif key.key_type == "ssh-rsa":
            # SSHSIG refuses SHA-1 ("ssh-rsa") signatures, as ssh-keygen does.
            algs = {"rsa-sha2-512": hashes.SHA512(), "rsa-sha2-256": hashes.SHA256()}
            if sig_alg not in algs:
                return False
            crypto.verify(sig, data, padding.PKCS1v15(), algs[sig_alg])
        else:
            if sig_alg != key.key_type:
                return False
            r, at = read_string(sig, 0)
            s, _ = read_string(sig, at)
            der = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
            crypto.verify(der, data, ec.ECDSA(_ecdsa_hash(key.key_type)))
    except (InvalidSignature, ValueError):
        return False
    return True


def _ecdsa_hash(key_type: str) -> HashAlgorithm:
    from cryptography.hazmat.primitives import hashes

    # RFC 5656: the curve fixes the hash.
    curves: dict[str, Callable[[], HashAlgorithm]] = {
        "ecdsa-sha2-nistp256": hashes.SHA256, "ecdsa-sha2-nistp384": hashes.SHA384,
        "ecdsa-sha2-nistp521": hashes.SHA512}
    return curves[key_type]()
