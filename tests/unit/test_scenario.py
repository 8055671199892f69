"""The demo scenario generator and scenario file import/export (SPEC §5)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bfg_tui.canonical import record_json
from bfg_tui.errors import InputError
from bfg_tui.models import Catalog
from bfg_tui.scenario import (
    DEMO_ORDERS,
    kind_counts_for,
    ksef_checksum,
    record_count,
    seed_records,
)
from bfg_tui.scenario_io import SCHEMA, dump_scenario, load_scenario_file, parse_scenario
from bfg_tui.scenario_rows import demo_records, demo_rows

# SHA-256 of "\n".join(record_json(...)) over demo_records(catalog, 3). Any change to
# the generator changes it: update it only for an intended change of the demo data.
DEMO3_SHA256 = "6ea7bb01b02fef56ba1a6601937f635157788230f63e043b9e578bb47d620429"
# lcm of every modulus the generator uses (3, 4, 5, 6, 7, 9, 27): all value patterns.
ALL_PATTERNS = 3780
# SHA-256 over demo_rows(catalog, 8 * ALL_PATTERNS), each row as kind, NUL, id, NUL, body,
# newline: every value pattern eight times, and dates past the turn of the year (2027),
# where the invoice and CMR numbers change their year. Pinned while a second, dict-based
# generator still existed and agreed with it byte for byte.
ROWS_SHA256 = "953c648922552d034b3644703fe692cd8ccb3773c6ac1b9b27bd59bdd41adbc5"

DECIMAL = re.compile(r"-?\d+\.\d+\Z")
KSEF_NUMBER = re.compile(r"\d{10}-\d{8}-[0-9A-F]{12}-[0-9A-F]{2}\Z")


def _walk(value: Any) -> list[Any]:
    out = [value]
    if isinstance(value, dict):
        for child in value.values():
            out.extend(_walk(child))
    elif isinstance(value, list):
        for child in value:
            out.extend(_walk(child))
    return out


def _money(text: str) -> int:
    assert DECIMAL.match(text) and len(text.split(".")[1]) == 2, text
    return int(text.replace(".", ""))


# ---------------------------------------------------------------- generator


def test_same_arguments_give_the_same_records(catalog: Catalog) -> None:
    assert list(demo_records(catalog)) == list(demo_records(catalog))
    assert list(demo_rows(catalog, 50)) == list(demo_rows(catalog, 50))


def test_fixed_vector_for_three_orders(catalog: Catalog) -> None:
    body = "\n".join(record_json(k, i, d) for k, i, d in demo_records(catalog, 3))
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == DEMO3_SHA256


def test_fixed_vector_over_every_pattern_past_a_new_year(catalog: Catalog) -> None:
    digest = hashlib.sha256()
    last = b""
    for kind, rid, body in demo_rows(catalog, 8 * ALL_PATTERNS):
        digest.update(kind.encode() + b"\0" + rid.encode() + b"\0" + body + b"\n")
        last = body if kind == "payments" else last
    assert b'"due_date":"2027-' in last
    assert digest.hexdigest() == ROWS_SHA256


def test_rows_are_the_canonical_json_of_the_records(catalog: Catalog) -> None:
    records = demo_records(catalog, ALL_PATTERNS)
    rows = demo_rows(catalog, ALL_PATTERNS)
    for (kind, rid, data), row in zip(records, rows, strict=True):
        assert row == (kind, rid, record_json(kind, rid, data).encode("utf-8"))


def test_records_are_in_canonical_order(catalog: Catalog) -> None:
    position = {kind: n for n, kind in enumerate(catalog.record_kinds)}
    keys = [(position[k], i) for k, i, _ in demo_records(catalog, 1200)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_ids_widen_past_a_million_orders_so_order_still_holds(catalog: Catalog) -> None:
    first_order = next(r for r in demo_records(catalog, 1_234_567) if r[0] == "orders")
    assert first_order[1] == "ord-0000001"
    assert next(r for r in demo_records(catalog, 999_999) if r[0] == "orders")[1] == "ord-000001"


def test_no_floats_anywhere(catalog: Catalog) -> None:
    for _kind, _rid, data in demo_records(catalog, 420):
        assert not [v for v in _walk(data) if isinstance(v, float)]
    floats: list[str] = []
    for _kind, _rid, body in demo_rows(catalog, 420):
        json.loads(body, parse_float=floats.append)
    assert floats == []


@pytest.mark.parametrize("orders", [0, 1, DEMO_ORDERS, 101])
def test_counts_are_exact(catalog: Catalog, orders: int) -> None:
    counted = Counter(kind for kind, _, _ in demo_records(catalog, orders))
    expected = kind_counts_for(catalog, orders)
    assert {k: v for k, v in expected.items() if v} == dict(counted)
    assert list(expected) == list(catalog.record_kinds)
    assert record_count(catalog, orders) == sum(counted.values()) == sum(expected.values())


def test_every_kind_and_every_batch_group_holds_rows(catalog: Catalog) -> None:
    kinds = {kind for kind, _, _ in demo_records(catalog)}
    assert kinds == set(catalog.record_kinds)
    for batch in catalog.batches:
        assert kinds & set(batch.kinds), batch.id


def test_seed_records_are_the_tenant_and_the_actors(catalog: Catalog) -> None:
    seeds = seed_records(catalog)
    assert seeds[0] == ("tenants", "bfg", {"name": "BFG Control", "mode": "single-tenant-local"})
    users = seeds[1:]
    assert [rid for _, rid, _ in users] == sorted(a.id for a in catalog.actors)
    for kind, rid, data in users:
        actor = catalog.actor(rid)
        assert kind == "users" and actor is not None
        assert data["name"] == actor.name and data["role"] == actor.role
        assert data["desk"] == actor.desk and data["tenant_id"] == "bfg"
        assert data["permissions"] == list(catalog.roles[actor.role].permissions)
    assert list(demo_records(catalog, 0))[: len(seeds)] == seeds


def test_demo_values_are_plausible(catalog: Catalog) -> None:
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, rid, data in demo_records(catalog, 60):
        by_kind.setdefault(kind, {})[rid] = data
    for order in by_kind["orders"].values():
        assert order["origin"] in {"Warszawa", "Łódź", "Poznań", "Kraków"}
        assert order["destination"] in {"Lviv", "Kyiv", "Lutsk"}
        assert order["client_id"] == "cp_client_lviv_farma"
        assert 1 <= order["pallets"] <= 33 and order["weight_kg"] > 0
        low, high = order["temperature_min"], order["temperature_max"]
        assert DECIMAL.match(low) and DECIMAL.match(high) and float(low) < float(high)
        pickup = datetime.fromisoformat(order["pickup_at"])
        assert pickup >= datetime.fromisoformat("2026-03-02T00:00:00+00:00")
        assert datetime.fromisoformat(order["delivery_at"]) > pickup
    for event in by_kind["driver_events"].values():
        assert event["driver_id"] == "driver_tarasenko" and DECIMAL.match(event["temperature_c"])
        order = by_kind["orders"][event["order_id"]]
        reading = float(event["temperature_c"])
        assert float(order["temperature_min"]) <= reading <= float(order["temperature_max"])
    assert any("Dorohusk" in e["location"] for e in by_kind["driver_events"].values())
    for rid, package in by_kind["ksef_packages"].items():
        number = package["ksef_number"]
        assert KSEF_NUMBER.match(number), number
        assert ksef_checksum(number[:32]) == number[33:]
        assert _money(package["net"]) + _money(package["vat"]) == _money(package["gross"])
        payment = by_kind["payments"]["pay-" + rid.removeprefix("ksef-")]
        assert payment["amount"] == package["gross"] and payment["currency"] == "PLN"
    statuses = Counter(p["status"] for p in by_kind["payments"].values())
    assert statuses["paid"] and statuses["pending"]
    for document in by_kind["documents"].values():
        assert document["doc_type"] in {"CMR", "invoice"} and DECIMAL.match(document["confidence"])
    topics = [a["topic"] for a in by_kind["scenario_audit"].values()]
    assert topics == ["risk", "cutover", "connection", "dry_run", "sign_off"]


def test_ksef_checksum_matches_the_published_example() -> None:
    # The Ministry of Finance's documented KSeF number and its CRC-8.
    assert ksef_checksum("5265877635-20250826-0100001AF629") == "AF"


@pytest.mark.parametrize("orders", [-1, True, 1.5, "3"])
def test_bad_order_counts_are_refused(catalog: Catalog, orders: Any) -> None:
    with pytest.raises(ValueError, match="orders must be a non-negative integer"):
        list(demo_records(catalog, orders))
    with pytest.raises(ValueError):
        record_count(catalog, orders)


# ---------------------------------------------------------------- file round trip


def test_dump_then_load_returns_equal_records(catalog: Catalog, tmp_path: Path) -> None:
    records = list(demo_records(catalog))
    path = tmp_path / "scenario.json"
    path.write_text(dump_scenario(records, catalog), encoding="utf-8")
    assert load_scenario_file(path, catalog) == records


def test_load_sorts_records_into_canonical_order(catalog: Catalog, tmp_path: Path) -> None:
    records = list(demo_records(catalog, 2))
    shuffled = records[::-1]
    doc = {
        "schema": SCHEMA,
        "tenant": "bfg",
        "records": [{"kind": k, "id": i, "data": d} for k, i, d in shuffled],
    }
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_scenario_file(path, catalog) == records


def test_dump_refuses_values_the_file_could_not_hold(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match=r"orders/o1\.data\.pallets: floats are not allowed"):
        dump_scenario([("orders", "o1", {"pallets": 1.5})], catalog)
    with pytest.raises(ValueError, match="unknown record kind 'trucks'"):
        dump_scenario([("trucks", "t1", {})], catalog)


# ---------------------------------------------------------------- import errors


def _doc(*records: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA, "tenant": "bfg", "records": list(records)}
    doc.update(envelope)
    return doc


def _order(rid: str = "ord-000001", **data: Any) -> dict[str, Any]:
    return {"kind": "orders", "id": rid, "data": {"pallets": 12, **data}}


def _error(catalog: Catalog, tmp_path: Path, content: Any) -> str:
    """Load `content` (JSON-encoded unless str/bytes) and return the error after the path."""
    path = tmp_path / "scenario.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    with pytest.raises(InputError) as info:
        load_scenario_file(path, catalog)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_unreadable_file(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(InputError) as info:
        load_scenario_file(path, catalog)
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"


def test_not_utf8(catalog: Catalog, tmp_path: Path) -> None:
    assert _error(catalog, tmp_path, b'{"schema": "\xff"}') == "not UTF-8 text (byte 12)"


def test_invalid_json_names_line_and_column(catalog: Catalog, tmp_path: Path) -> None:
    text = '{\n  "schema": "BFGScenarioImport.v1",\n  "tenant": "bfg"\n  "records": []\n}'
    assert (
        _error(catalog, tmp_path, text)
        == "invalid JSON at line 4 column 3: Expecting ',' delimiter"
    )


def test_duplicate_json_key(catalog: Catalog, tmp_path: Path) -> None:
    text = '{"schema": "BFGScenarioImport.v1", "tenant": "bfg", "tenant": "x", "records": []}'
    assert _error(catalog, tmp_path, text) == 'invalid JSON: duplicate key "tenant"'


def test_not_an_object(catalog: Catalog, tmp_path: Path) -> None:
    assert (
        _error(catalog, tmp_path, [_order()])
        == "the document must be a JSON object, not an array"
    )


def test_wrong_schema(catalog: Catalog, tmp_path: Path) -> None:
    assert (
        _error(catalog, tmp_path, _doc(_order(), schema="BFGScenarioSnapshot.v1"))
        == "schema: expected 'BFGScenarioImport.v1', got 'BFGScenarioSnapshot.v1'"
    )


def test_missing_schema(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order())
    del doc["schema"]
    assert _error(catalog, tmp_path, doc) == "schema: is required"


def test_tenant_not_the_catalog_tenant(catalog: Catalog, tmp_path: Path) -> None:
    assert (
        _error(catalog, tmp_path, _doc(_order(), tenant="acme"))
        == "tenant: 'acme' is not the catalog tenant 'bfg'"
    )


def test_unknown_envelope_field(catalog: Catalog, tmp_path: Path) -> None:
    assert _error(catalog, tmp_path, _doc(_order(), token="abc")) == "token: unknown field"


def test_unknown_record_field(catalog: Catalog, tmp_path: Path) -> None:
    record = {**_order(), "note": "x"}
    assert _error(catalog, tmp_path, _doc(record)) == "records[0].note: unknown field"


def test_unknown_kind(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(), {"kind": "trucks", "id": "t1", "data": {}})
    assert _error(catalog, tmp_path, doc) == "records[1].kind: unknown record kind 'trucks'"


def test_missing_id(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(), {"kind": "orders", "data": {}})
    assert _error(catalog, tmp_path, doc) == "records[1].id: is required"


def test_empty_id(catalog: Catalog, tmp_path: Path) -> None:
    assert _error(catalog, tmp_path, _doc(_order(""))) == "records[0].id: must not be empty"


def test_id_not_a_string(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc({"kind": "orders", "id": 7, "data": {}})
    assert _error(catalog, tmp_path, doc) == "records[0].id: must be a string"


def test_duplicate_kind_and_id(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order("o1"), _order("o2"), _order("o1"))
    assert (
        _error(catalog, tmp_path, doc)
        == "records[2].id: duplicate orders record 'o1' (first at records[0])"
    )


def test_same_id_in_two_kinds_is_fine(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    doc = _doc(_order("x1"), {"kind": "payments", "id": "x1", "data": {}})
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert [r[0] for r in load_scenario_file(path, catalog)] == ["orders", "payments"]


def test_data_not_an_object(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc({"kind": "orders", "id": "o1", "data": [1, 2]})
    assert _error(catalog, tmp_path, doc) == "records[0].data: must be a JSON object"


def test_float_in_data(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order("o1"), _order("o2"), _order("o3"), _order("o4", temperature_min=2.0))
    assert (
        _error(catalog, tmp_path, doc)
        == "records[3].data.temperature_min: floats are not allowed; use a decimal string"
    )


def test_nested_float_in_data(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(readings=[{"c": "4.1"}, {"c": 4.2}]))
    assert (
        _error(catalog, tmp_path, doc)
        == "records[0].data.readings[1].c: floats are not allowed; use a decimal string"
    )


def test_nan_is_a_float(catalog: Catalog, tmp_path: Path) -> None:
    text = json.dumps(_doc(_order())).replace('"pallets": 12', '"pallets": NaN')
    assert (
        _error(catalog, tmp_path, text)
        == "records[0].data.pallets: floats are not allowed; use a decimal string"
    )


def test_integer_beyond_the_safe_range(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(weight_kg=2**53))
    assert _error(catalog, tmp_path, doc).startswith(
        "records[0].data.weight_kg: integers beyond ±9007199254740991 are not allowed"
    )


def test_non_ascii_data_key(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(**{"miasto_łódź": "x"}))
    assert (
        _error(catalog, tmp_path, doc)
        == 'records[0].data["miasto_łódź"]: object keys must be ASCII'
    )


def test_user_that_is_not_an_actor(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(), {"kind": "users", "id": "user_mallory", "data": {"tenant_id": "bfg"}})
    assert _error(catalog, tmp_path, doc) == "records[1].id: 'user_mallory' is not a catalog actor"


def test_tenant_record_of_another_tenant(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc({"kind": "tenants", "id": "acme", "data": {"name": "ACME"}})
    assert _error(catalog, tmp_path, doc) == "records[0].id: 'acme' is not the catalog tenant 'bfg'"


def test_zero_records(catalog: Catalog, tmp_path: Path) -> None:
    assert _error(catalog, tmp_path, _doc()) == "records: the scenario holds no records"


def test_tenant_id_of_another_tenant(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(), _order("o2", tenant_id="acme"))
    assert (
        _error(catalog, tmp_path, doc)
        == "records[1].data.tenant_id: 'acme' is not the catalog tenant 'bfg'"
    )


def test_secret_values_are_redacted(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc(_order(db_secret={"tenant_id": "hunter2"}))
    message = _error(catalog, tmp_path, doc)
    assert message == (
        "records[0].data.db_secret.tenant_id: <redacted> is not the catalog tenant 'bfg'"
    )
    assert "hunter2" not in message


def test_long_or_multiline_values_stay_on_one_short_line(catalog: Catalog, tmp_path: Path) -> None:
    doc = _doc({"kind": "trucks\n" + "x" * 200, "id": "t1", "data": {}})
    message = _error(catalog, tmp_path, doc)
    assert message.startswith("records[0].kind: unknown record kind 'trucks\\nxxx")
    assert len(message) < 120


def test_deeply_nested_data(catalog: Catalog, tmp_path: Path) -> None:
    deep = "[" * 50000 + "]" * 50000
    text = json.dumps(_doc(_order())).replace('"pallets": 12', '"deep": ' + deep)
    assert _error(catalog, tmp_path, text) == "the document is nested too deeply"


def test_parse_scenario_names_its_source(catalog: Catalog) -> None:
    with pytest.raises(InputError, match=r"^stdin: records: the scenario holds no records$"):
        parse_scenario(json.dumps(_doc()), catalog, source="stdin")
