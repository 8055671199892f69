"""The hash chain over audit events, shared by every backend.

Each event body is canonical JSON whose keys sort as actor, at, auth, data, kind,
prev, seq — so the body ends with `,"prev":"<hash>","seq":<n>}` and the link to the
previous event can be checked without parsing. hash = SHA-256(body).
"""

from __future__ import annotations

import hashlib
import json
from binascii import hexlify
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from bfg_tui.canonical import canonical_json
from bfg_tui.errors import Reason

from .base import ActorContext, ProbeRunRecord, VerifyResult
from .replay import Tables, first_difference, sha256_text, state_digest, state_from_tables, subject_of

GENESIS = "0" * 64


def event_body(
    *, seq: int, prev: str, at: str, kind: str, ctx: ActorContext, data: dict[str, Any]
) -> str:
    return canonical_json(
        {"actor": ctx.actor_id, "at": at, "auth": ctx.as_json(), "data": data, "kind": kind,
         "prev": prev, "seq": seq}
    )


async def event_signature(ctx: ActorContext, body: str) -> str | None:
    """The signing hook: the armored SSHSIG over the exact body bytes the chain hashes.

    Called inside the append transaction, once seq and prev are fixed, so a signature
    names its place in the chain and cannot be replayed elsewhere.
    """
    return await ctx.signer.sign(body.encode("utf-8")) if ctx.signer is not None else None


def event_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# The payloads of the audit events, one definition for every backend: the chain hashes
# them, so the same action must give the same bytes on SQLite and on PostgreSQL.


def accept_data(check_id: str, note: str, value: str | None, snapshot_digest: str | None,
                countersign: bool) -> dict[str, Any]:
    return {"check": check_id, "note": note, "value": value, "snapshot_digest": snapshot_digest,
            "countersign": countersign}


def revoke_data(check_id: str, note: str) -> dict[str, Any]:
    return {"check": check_id, "note": note}


def create_data(contract: str, seed_records: int, source: str, kind_counts: dict[str, int],
                target_adapter: str, fallback_adapter: str) -> dict[str, Any]:
    return {"contract": contract, "seed_records": seed_records, "source": source, "kind_counts": kind_counts,
            "target_adapter": target_adapter, "fallback_adapter": fallback_adapter}


def save_data(version: int, records: int, source: str, kind_counts: dict[str, int]) -> dict[str, Any]:
    return {"version": version, "records": records, "source": source, "kind_counts": kind_counts}


def upgrade_data(from_version: int, tables: dict[str, Any]) -> dict[str, Any]:
    """A store upgraded from a version whose trail cannot be replayed attests the tables it found."""
    return {"from_version": from_version, "state": tables}


def probe_facts_json(run: ProbeRunRecord) -> str:
    """The run's facts as stored (probe_runs.facts): what the event's facts_sha256 covers."""
    facts = dict(run.facts or {})
    facts.update(tls=run.tls, credentials_external=run.credentials_external)
    return json.dumps(facts, sort_keys=True)


def probe_transcript_json(run: ProbeRunRecord) -> str:
    return json.dumps(list(run.transcript))


def probe_data(run: ProbeRunRecord) -> dict[str, Any]:
    # Everything the stored run and its results hold, so the trail alone rebuilds them;
    # the facts and the transcript by digest (they can be long).
    return {
        "run_id": run.run_id, "probe": run.probe, "target_kind": run.target_kind, "endpoint": run.endpoint,
        "passed": run.passed, "snapshot_digest": run.snapshot_digest,
        "steps": [{"check": s.check_id, "passed": s.passed, "detail": s.detail} for s in run.steps],
        "started_at": run.started_at, "finished_at": run.finished_at, "tls": run.tls,
        "credentials_external": run.credentials_external, "fingerprint": (run.facts or {}).get("fingerprint"),
        "facts_sha256": sha256_text(probe_facts_json(run)),
        "transcript_sha256": sha256_text(probe_transcript_json(run)),
    }


def export_data(packet: str, fmt: str, destination: str, digest: str) -> dict[str, Any]:
    return {"packet": packet, "format": fmt, "destination": destination, "sha256": digest}


def refusal_data(action: str, subject: str, reason: str) -> dict[str, Any]:
    return {"action": action, "subject": subject, "reason": reason}


def freeze_data(snapshot_id: int, rows: int, digest: str, scenario_version: int,
                kind_counts: dict[str, int]) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, "rows": rows, "checksum": "bfg-" + digest[:8], "digest": digest,
            "scenario_version": scenario_version, "kind_counts": kind_counts}


def idem_binding(verb: str, actor: str, args: dict[str, Any]) -> str:
    """What an idempotency key stands for: this verb, by this actor, with these arguments."""
    return event_hash(canonical_json({"actor": actor, "args": args, "verb": verb}, checked=False))


def verify_chain(bodies: Iterable[bytes], head_count: int, head_hash: str,
                 inspect: Callable[[int], tuple[str, bytes] | None] | None = None,
                 hashes: bytes | None = None) -> VerifyResult:
    """Check the bodies, in seq order, against the recorded head.

    The chain lives in the bodies alone: each ends with the hash of the one before and
    its own seq, so an intact chain also proves every seq. Only when a link breaks does
    `inspect(seq)` (stored hash, body) tell an edit from a gap. `hashes`, the stored hash
    column joined in seq order, is checked against the bodies too.
    """
    bodies = bodies if isinstance(bodies, list) else list(bodies)
    sha = hashlib.sha256
    # Whole-trail passes in C keep this ≥ 300k events/s: hash every body, hex the
    # joined digests once, cut every body's `prev` out with fixed slices, compare once.
    hex_all = hexlify(b"".join([sha(body).digest() for body in bodies]))
    if bodies and not _links_hold(bodies, hex_all):  # no bodies at all: the count check below names it
        seq = _first_broken(bodies, hex_all)
        return _diagnose(seq, bodies[seq - 1], _hash_at(hex_all, seq - 1), _hash_at(hex_all, seq - 2), inspect)
    seq = len(bodies)
    last = hex_all[-64:] if bodies else GENESIS.encode()
    head = last.decode()
    if seq != head_count:
        return VerifyResult(
            False, seq, head,
            Reason.of("audit.count_differs", count=seq, recorded=head_count),
            seq + 1,
        )
    if head != head_hash:
        # The last event itself was changed (nothing after it to break the link).
        return VerifyResult(False, seq, head, Reason.of("audit.last_edited", seq=seq), seq)
    if hashes is not None and hashes != hex_all:
        bad = next((i for i in range(0, len(hex_all), 64) if hashes[i:i + 64] != hex_all[i:i + 64]), len(hex_all))
        bad_seq = bad // 64 + 1
        return VerifyResult(False, seq, head, Reason.of("audit.hash_column", seq=bad_seq), bad_seq)
    return VerifyResult(True, seq, head)


def column_fault(seq: int, columns: tuple[str, str, str], body: bytes, count: int, head: str) -> VerifyResult:
    """Name which searchable copy (kind, actor, subject) of event `seq` differs from its body."""
    doc = json.loads(body)
    truth = (doc.get("kind"), doc.get("actor"), subject_of(str(doc.get("kind")), doc.get("data") or {}))
    for name, have, want in zip(("kind", "actor", "subject"), columns, truth, strict=True):
        if have != want:
            return VerifyResult(False, count, head, Reason.of("audit.column", seq=seq, name=name), seq)
    return VerifyResult(False, count, head, Reason.of("audit.columns", seq=seq), seq)


def state_fault(trail: Tables, stored: Tables, count: int, head: str, digest: str) -> VerifyResult:
    """Does the stored state equal the trail's replay, and does the head's digest stand for it?"""
    difference = first_difference(trail, stored)
    if difference is None and state_digest(state_from_tables(trail)) != digest:
        difference = Reason.of("audit.digest_differs")
    if difference is not None:
        return VerifyResult(False, count, head, Reason.of("audit.state_differs", difference=Reason.said(difference)))
    return VerifyResult(True, count, head)


def _links_hold(bodies: list[bytes], hex_all: bytes) -> bool:
    """Does every body end with `"prev":"<hash of the one before>","seq":<n>}`?"""
    prevs: list[bytes] = []
    start, digits, n = 0, 1, len(bodies)
    while start < n:
        # Seqs with the same number of digits put `prev` at the same offset from the end.
        end = min(n, 10**digits - 1)
        prevs.extend(map(itemgetter(slice(-(73 + digits), -(9 + digits))), bodies[start:end]))
        start, digits = end, digits + 1
    return b"".join(prevs) == GENESIS.encode() + hex_all[:-64]


def _first_broken(bodies: list[bytes], hex_all: bytes) -> int:
    """The seq of the first body whose tail does not name its predecessor and itself."""
    for index, body in enumerate(bodies):
        prev = GENESIS.encode() if index == 0 else hex_all[64 * (index - 1):64 * index]
        if not body.endswith(b'"prev":"%s","seq":%d}' % (prev, index + 1)):
            return index + 1
    return len(bodies)


def _hash_at(hex_all: bytes, seq: int) -> str:
    """The hash of event `seq` from the joined hex digests; GENESIS before the first event."""
    return hex_all[64 * (seq - 1):64 * seq].decode() if seq > 0 else GENESIS


def _diagnose(seq: int, body: bytes, prev: str, before: str,
              inspect: Callable[[int], tuple[str, bytes] | None] | None) -> VerifyResult:
    """Name what broke at `seq`: a missing event, an edited one before it, or a move.

    `prev` is the hash of event seq-1, `before` of event seq-2: when event seq-1 is the edited
    one, what verified ends at seq-2, so that is the head reported.
    """
    good = seq - 1
    at = body.rfind(b',"prev":"')
    tail = body[at + 73:]
    if tail.startswith(b'","seq":') and tail[8:-1].isdigit() and int(tail[8:-1]) > seq:
        return VerifyResult(False, good, prev, Reason.of("audit.missing", seq=seq, next=int(tail[8:-1])), seq)
    if inspect is not None and seq > 1:
        previous = inspect(seq - 1)
        if previous is not None:
            stored_hash, previous_body = previous
            if hashlib.sha256(previous_body).hexdigest() != stored_hash:
                return VerifyResult(False, seq - 2, before, Reason.of("audit.edited", seq=seq - 1), seq - 1)
    current = inspect(seq) if inspect is not None else None
    if current is not None and hashlib.sha256(current[1]).hexdigest() != current[0]:
        return VerifyResult(False, good, prev, Reason.of("audit.edited", seq=seq), seq)
    return VerifyResult(False, good, prev, Reason.of("audit.unchained", seq=seq, previous=seq - 1), seq)
