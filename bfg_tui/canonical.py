"""One canonical JSON encoding and the snapshot checksum (SPEC §5).

Canonical JSON here is RFC 8785 restricted to what we hash: objects, arrays, strings,
integers, booleans and null, with ASCII keys. Floats are refused, so the only part of
RFC 8785 that differs from `json.dumps(sort_keys=True)` — number formatting and
UTF-16 key order for non-ASCII keys — never arises. The tests cross-check the output
against the `rfc8785` reference implementation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

SNAPSHOT_SCHEMA = "BFGScenarioSnapshot.v1"

_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class CanonicalError(ValueError):
    """A value that has no canonical encoding (a float, a non-string key...)."""


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in hashed payloads; use an integer or a decimal string")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings")
            if not key.isascii():
                raise CanonicalError(f"{path}.{key}: object keys must be ASCII")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any, *, checked: bool = True) -> str:
    """Encode `value` canonically. `checked=False` skips validation for trusted hot paths."""
    if checked:
        _check(value, "$")
    return _encoder.encode(value)


def short_checksum(digest: str) -> str:
    """`bfg-` + the first 8 hex digits of the SHA-256 digest."""
    return "bfg-" + digest[:8]


class SnapshotHasher:
    """Streams the canonical JSON of a snapshot into SHA-256 without building it in memory.

    The snapshot document is `{"records":[R1,R2,...],"schema":S,"session":X,"tenant":T}`
    with records already canonical (stored that way at save time) and in canonical order.
    Keys are sorted, so `records` comes first and the header fields after it.
    """

    def __init__(self, *, session: str, tenant: str, schema: str = SNAPSHOT_SCHEMA) -> None:
        self._hash = hashlib.sha256(b'{"records":[')
        self._tail = canonical_json({"schema": schema, "session": session, "tenant": tenant})[1:]
        self.rows = 0

    def add(self, record_json: str) -> None:
        if self.rows:
            self._hash.update(b",")
        self._hash.update(record_json.encode("utf-8"))
        self.rows += 1

    def add_many(self, records: Iterable[str | bytes]) -> None:
        """Add a batch of canonical records, as UTF-8 bytes (fast) or str."""
        # Joining a batch is much faster than one update per record; bytes skip encoding.
        batch = list(records)
        if not batch:
            return
        if self.rows:
            self._hash.update(b",")
        if isinstance(batch[0], bytes):
            self._hash.update(b",".join(batch))  # type: ignore[arg-type]
        else:
            self._hash.update(",".join(batch).encode("utf-8"))  # type: ignore[arg-type]
        self.rows += len(batch)

    def add_joined(self, joined: bytes, count: int) -> None:
        """Add `count` canonical records already joined with "," (as a database can send them)."""
        if not count:
            return
        if self.rows:
            self._hash.update(b",")
        self._hash.update(joined)
        self.rows += count

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(b"]," + self._tail.encode("utf-8"))
        return final.hexdigest()


def snapshot_document(records: list[dict[str, Any]], *, session: str, tenant: str) -> dict[str, Any]:
    """The whole snapshot as one value (for small snapshots and tests)."""
    return {"records": records, "schema": SNAPSHOT_SCHEMA, "session": session, "tenant": tenant}


def record_json(kind: str, rid: str, data: dict[str, Any], *, checked: bool = True) -> str:
    """The canonical form of one scenario record."""
    return canonical_json({"data": data, "id": rid, "kind": kind}, checked=checked)
