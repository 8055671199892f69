"""One canonical JSON encoding, fixed checksum vectors, cross-checked against rfc8785."""

from __future__ import annotations

import hashlib
import json

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


def test_non_string_keys_are_refused_so_they_never_hash_like_string_keys() -> None:
    with pytest.raises(CanonicalError, match=r"^\$\.data: object keys must be strings$"):
        canonical_json({"data": {1: "a"}})
    assert canonical_json({"1": "a"}) == '{"1":"a"}'


def test_non_ascii_keys_are_refused_because_rfc8785_orders_them_differently() -> None:
    # RFC 8785 sorts keys by UTF-16 code units; a plain sort would give another order here.
    with pytest.raises(CanonicalError, match=r"^\$\.\U0001f600: object keys must be ASCII$"):
        canonical_json({"\U0001f600": 1, "\uff61": 2})
    with pytest.raises(CanonicalError, match=r"^\$\.data\.żółw: object keys must be ASCII$"):
        canonical_json({"data": {"żółw": 1}})


def test_floats_inside_lists_are_refused_with_their_index() -> None:
    with pytest.raises(CanonicalError, match=r"^\$\.temps\[1\]: floats are not allowed"):
        canonical_json({"temps": [4, 4.5]})
    with pytest.raises(CanonicalError, match=r"^\$\[0\]\.t: floats are not allowed"):
        canonical_json([{"t": 1.0}])


def test_values_without_a_canonical_form_are_refused_by_type() -> None:
    with pytest.raises(CanonicalError, match=r"^\$\.when: set has no canonical JSON form$"):
        canonical_json({"when": {1}})


def test_record_json_validates_unless_told_the_record_is_trusted() -> None:
    with pytest.raises(CanonicalError, match=r"^\$\.data\.pallets: floats are not allowed"):
        record_json("orders", "o-1", {"pallets": 1.5})
    with pytest.raises(CanonicalError, match=r"object keys must be ASCII"):
        record_json("orders", "o-1", {"paleta\u0301": 1})
    # The hot path skips the walk for records already known to be canonical.
    assert record_json("orders", "o-1", {"pallets": 2}, checked=False) == (
        '{"data":{"pallets":2},"id":"o-1","kind":"orders"}')


def test_a_one_record_batch_hashes_like_adding_that_record() -> None:
    record = record_json("tenants", "bfg", {"name": "BFG Control"})
    for batch in ([record], [record.encode()]):
        hasher = SnapshotHasher(session="grant-demo-local", tenant="bfg")
        hasher.add_many(batch)
        assert hasher.hexdigest() == FIXED_ONE and hasher.rows == 1


def _one_by_one(records: list[str]) -> SnapshotHasher:
    plain = SnapshotHasher(session="s", tenant="t")
    for r in records:
        plain.add(r)
    return plain


def test_an_empty_batch_after_records_changes_nothing() -> None:
    records = [record_json("orders", f"o-{i}", {"n": i}) for i in range(3)]
    plain = _one_by_one(records)
    batched = SnapshotHasher(session="s", tenant="t")
    batched.add_many(records[:2])
    batched.add_many([])
    batched.add_many(r.encode() for r in records[2:])
    batched.add_many(iter(()))
    assert batched.hexdigest() == plain.hexdigest() and batched.rows == plain.rows == 3


def test_records_added_after_a_batch_are_separated() -> None:
    records = [record_json("orders", f"o-{i}", {"n": i}) for i in range(3)]
    whole = hashlib.sha256(canonical_json(snapshot_document(
        [json.loads(r) for r in records], session="s", tenant="t")).encode()).hexdigest()
    mixed = SnapshotHasher(session="s", tenant="t")
    mixed.add_many(records[:1])
    mixed.add(records[1])
    mixed.add_many([records[2]])
    assert mixed.hexdigest() == whole


def test_the_unchecked_hot_path_still_never_writes_nan() -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical_json({"t": float("nan")}, checked=False)


def test_records_joined_by_the_database_hash_like_records_added_one_by_one() -> None:
    records = [record_json("orders", f"o-{i}", {"n": i}) for i in range(5)]
    plain = _one_by_one(records)
    joined = SnapshotHasher(session="s", tenant="t")
    joined.add_joined(",".join(records[:2]).encode(), 2)
    joined.add_joined(b"", 0)  # an empty batch after records adds nothing, not a comma
    joined.add_joined(",".join(records[2:]).encode(), 3)
    assert joined.hexdigest() == plain.hexdigest() and joined.rows == plain.rows == 5
