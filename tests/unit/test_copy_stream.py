"""The PostgreSQL target's binary COPY pieces that need no server: the COPY-out row reader,
the read-back's canonical-order check and the COPY-in encoder."""

from __future__ import annotations

import struct

import pytest

from bfg_tui.canonical import SnapshotHasher
from bfg_tui.probes.postgres.copy_in import COPY_COLUMNS, copy_encoder, key_sort_memory_mb
from bfg_tui.probes.postgres.readback import BinaryRows, canonical_run
from bfg_tui.probes.postgres.session import Fail

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)


def _tuple(*fields: bytes | None) -> bytes:
    out = struct.pack("!h", len(fields))
    for f in fields:
        out += struct.pack("!i", -1) if f is None else struct.pack("!i", len(f)) + f
    return out


def test_binary_rows_read_a_stream_cut_anywhere() -> None:
    stream = HEADER + _tuple(b"\x00\x00\x00\x07", b"a,b") + _tuple(None, b"") + _tuple(b"x" * 70000) + b"\xff\xff"
    for cut in (1, 2, 5, 19, 20, 23, 4096):
        reader, rows = BinaryRows(), []
        for start in range(0, len(stream), cut):
            rows += reader.feed(stream[start:start + cut])
        assert rows == [[b"\x00\x00\x00\x07", b"a,b"], [None, b""], [b"x" * 70000]]
        assert reader.done


def test_binary_rows_refuse_a_stream_without_the_binary_header() -> None:
    with pytest.raises(Fail, match="no binary header"):
        BinaryRows().feed(b"1\tabc\n" * 10)


RANKS = {"orders": "!", "payments": '"'}


def test_canonical_run_follows_kind_then_id_across_groups() -> None:
    ok, last = canonical_run("orders\x1fo-1\x1eorders\x1fo-2\x1epayments\x1fp-1", 3, RANKS, "")
    assert ok
    assert canonical_run("payments\x1fp-2", 1, RANKS, last) == (True, '"\x1fp-2')
    assert not canonical_run("orders\x1fo-9", 1, RANKS, last)[0]  # a kind going back
    assert not canonical_run("orders\x1fo-2\x1eorders\x1fo-2", 2, RANKS, "")[0]  # a repeated id
    assert not canonical_run("orders\x1fo-2\x1eorders\x1fo-1", 2, RANKS, "")[0]  # ids going back


def test_canonical_run_cannot_tell_with_an_unknown_kind_or_a_separator_in_an_id() -> None:
    assert not canonical_run("zebras\x1fz-1", 1, RANKS, "")[0]
    assert not canonical_run("orders\x1fo\x1e1", 1, RANKS, "")[0]  # splits into 2 keys for 1 row


def test_the_copy_encoder_writes_binary_tuples_and_collects_projected_rows() -> None:
    projected: list[tuple[str, str, bytes]] = []
    encode = copy_encoder("bfg", "snap-1", {"orders": "ops", "users": "rbac"}, projected, defaults=True)
    body = '{"n":"Łódź"}'.encode()
    out = encode("users", [(b"u-1", body), (b"u-2", b"{}")], 7) + encode("orders", [(b"o-1", b"{}", -1)], 9)
    assert out == (_tuple(b"rbac", b"users", struct.pack("!i", 7), b"u-1", body)
                   + _tuple(b"rbac", b"users", struct.pack("!i", 8), b"u-2", b"{}")
                   + _tuple(b"ops", b"orders", struct.pack("!i", 9), b"o-1", b"{}"))
    assert projected == [("users", "u-1", body), ("users", "u-2", b"{}")]
    with pytest.raises(Fail, match="no batch group"):
        encode("ghosts", [(b"g-1", b"{}")], 10)


def test_add_joined_hashes_as_add_many_does() -> None:
    bodies = [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    one, two = SnapshotHasher(session="s", tenant="t"), SnapshotHasher(session="s", tenant="t")
    one.add_many(bodies)
    two.add_joined(b",".join(bodies[:2]), 2)
    two.add_joined(b"", 0)
    two.add_joined(bodies[2], 1)
    assert (one.hexdigest(), one.rows) == (two.hexdigest(), two.rows)


def test_the_copy_encoder_frames_any_length_and_seq() -> None:
    encode = copy_encoder("bfg", "snap-1", {"orders": "ops"}, [], defaults=False)
    big, rid = b"{" + b"x" * 70_000 + b"}", ("o-" + "7" * 300).encode()
    out = encode("orders", [(rid, big), (b"", b"")], 16_777_300)
    assert out == (_tuple(b"bfg", b"snap-1", b"ops", b"orders", struct.pack("!i", 16_777_300), rid, big)
                   + _tuple(b"bfg", b"snap-1", b"ops", b"orders", struct.pack("!i", 16_777_301), b"", b""))


def test_the_copy_columns_are_in_the_order_the_encoder_writes() -> None:
    assert COPY_COLUMNS == ("tenant_id", "snapshot_id", "batch_group", "kind", "seq", "record_id", "body")


def test_the_key_build_may_sort_every_key_in_memory_up_to_a_cap() -> None:
    # About 95 bytes a key on PostgreSQL 15 (trace_sort): 1M keys fit the 256 MB floor, 10M
    # get room for all of them instead of spilling to temp files; 2 GB at most.
    assert key_sort_memory_mb(1_000_000) == 256
    assert key_sort_memory_mb(10_000_000) == 1221
    assert key_sort_memory_mb(100_000_000) == 2048
