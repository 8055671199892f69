"""One canonical JSON encoding, fixed checksum vectors, cross-checked against rfc8785."""

from __future__ import annotations

import hashlib

import pytest
import rfc8785

from bfg_tui.canonical import (
    CanonicalError,
    SnapshotHasher,
    canonical_json,
    record_json,
    short_checksum,
    snapshot_document,
)

SAMPLES = [
    {"b": 1, "a": [True, None, "x"], "c": {"z": "ż", "y": -7}},
    {"kind": "orders", "id": "ord-000001", "data": {"pallets": 12, "temp_min": "2.0", "route": "Łódź → Lviv"}},
    {"nested": [{"k": "\u2028 line sep"}, {"k": "quote \" and \\ backslash"}, {"k": "\n\t"}]},
    [],
    {},
    "plain",
    0,
    -(2**53) + 1,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_matches_rfc8785_reference(value: object) -> None:
    assert canonical_json(value).encode("utf-8") == rfc8785.dumps(value)


def test_floats_are_refused_with_their_path() -> None:
    with pytest.raises(CanonicalError, match=r"\$\.data\.temp: floats are not allowed"):
        canonical_json({"data": {"temp": 4.5}})


def test_fixed_vectors() -> None:
    # Fixed vectors: a change in the encoding or the checksum rule fails here.
    empty = SnapshotHasher(session="grant-demo-local", tenant="bfg")
    assert empty.hexdigest() == "390342a1630ce9b6ae52c95a2b199fe96c5cbbf278bd52cd1d100aada9a6bcd4"
    one = SnapshotHasher(session="grant-demo-local", tenant="bfg")
    one.add(record_json("tenants", "bfg", {"name": "BFG Control"}))
    assert one.hexdigest() == FIXED_ONE
    assert short_checksum(one.hexdigest()) == "bfg-" + FIXED_ONE[:8]


# SHA-256 of {"records":[{"data":{"name":"BFG Control"},"id":"bfg","kind":"tenants"}],
# "schema":"BFGScenarioSnapshot.v1","session":"grant-demo-local","tenant":"bfg"}
FIXED_ONE = "5081bc9930fc94679cc2a21f6432bb771e89d60c9bd78f285658d0ebe66ea903"


def test_streaming_hash_equals_whole_document_hash() -> None:
    records = [{"data": {"n": i, "s": f"v{i}"}, "id": f"r-{i:04d}", "kind": "orders"} for i in range(50)]
    whole = hashlib.sha256(
        canonical_json(snapshot_document(records, session="s", tenant="t")).encode()
    ).hexdigest()
    one_by_one = SnapshotHasher(session="s", tenant="t")
    for r in records:
        one_by_one.add(canonical_json(r))
    batched = SnapshotHasher(session="s", tenant="t")
    batched.add_many(canonical_json(r) for r in records[:17])
    batched.add_many(canonical_json(r) for r in records[17:])
    assert whole == one_by_one.hexdigest() == batched.hexdigest()
