"""The hash chain over audit events, shared by every backend.

Each event body is canonical JSON whose keys sort as actor, at, auth, data, kind,
prev, seq — so the body ends with `,"prev":"<hash>","seq":<n>}` and the link to the
previous event can be checked without parsing. hash = SHA-256(body).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from bfg_tui.canonical import canonical_json

from .base import ActorContext, VerifyResult

GENESIS = "0" * 64


def event_body(
    *, seq: int, prev: str, at: str, kind: str, ctx: ActorContext, data: dict[str, Any]
) -> str:
    return canonical_json(
        {"actor": ctx.actor_id, "at": at, "auth": ctx.as_json(), "data": data, "kind": kind,
         "prev": prev, "seq": seq}
    )


def event_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify_chain(rows: Iterable[tuple[int, str, str]], head_count: int, head_hash: str) -> VerifyResult:
    """Check (seq, hash, body) rows in seq order against the stored head."""
    prev = GENESIS
    expected = 1
    sha = hashlib.sha256
    for seq, stored_hash, body in rows:
        if seq != expected:
            return VerifyResult(False, expected - 1, prev, f"event {expected} is missing (next stored is {seq})", expected)
        if sha(body.encode("utf-8")).hexdigest() != stored_hash:
            return VerifyResult(False, expected - 1, prev, f"event {seq} was edited: its hash does not match its content", seq)
        if not body.endswith(f',"prev":"{prev}","seq":{seq}}}'):
            return VerifyResult(False, expected - 1, prev, f"event {seq} does not chain to event {seq - 1} (moved, swapped or replaced)", seq)
        prev = stored_hash
        expected += 1
    count = expected - 1
    if count != head_count:
        return VerifyResult(
            False, count, prev,
            f"trail holds {count} events but the head records {head_count}: truncated or appended outside the store",
            count + 1,
        )
    if prev != head_hash:
        return VerifyResult(False, count, prev, "the last event's hash does not match the recorded head", count)
    return VerifyResult(True, count, prev)
