"""The deterministic demo scenario (SPEC §5): pharma distribution Poland → Ukraine.

Pure and stdlib-only: no I/O, no wall clock, no `random`. Every value is index
arithmetic over small tables, so the same arguments always give the same records and
`--scale 100000` (≈1M records) stays fast. Values are integers, booleans, null or
strings — never floats — because canonical JSON refuses floats; money, temperatures
and OCR confidences are decimal strings.

Records come out in canonical order without sorting: kind by kind in
`catalog.record_kinds` order, and within a kind by id, whose zero-padded numbers make
string order equal numeric order.

One generator, two outputs:
- `scenario_rows.demo_rows` yields `(kind, id, body)` with `body` already canonical JSON
  (UTF-8): what a save writes. The stdlib JSON encoder costs several µs per record, so
  1M records could not be saved in seconds through it: each per-order kind's value rules
  are written once, in `scenario_rows`, as pieces of canonical JSON built once per
  pattern of values, over the tables and day arithmetic here. The pieces only ever hold
  values from this module's own tables, digits and `canonical_json`-encoded catalog
  strings, so nothing needs escaping;
- `scenario_rows.demo_records` yields the same records as `(kind, id, data)` with `data`
  a dict, read back from those bodies, for tests and a scenario file.
The tests pin a checksum over every value pattern across a year's turn, and check that
each body is the canonical JSON of its record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import cache
from typing import Any

from .canonical import canonical_json, record_json
from .models import Catalog

Record = tuple[str, str, dict[str, Any]]

DEMO_ORDERS = 12
BASE_DATE = date(2026, 3, 2)  # fixed, so nothing depends on when the demo is generated
ID_DIGITS = 6

CLIENT_ID = "cp_client_lviv_farma"
CLIENT_NAME = "Lviv Farma Distribution"
DRIVER_ID = "driver_tarasenko"
DISPATCHER_ID = "user_dispatcher_marek"
SELLER_NIP = "1234563218"  # fictitious (checksum-valid) issuer tax id that opens every KSeF number

# Records per order, by kind. The other kinds the demo writes are the tenant, its actors
# (`users`) and the scenario audit notes; a kind the catalog adds gets no demo records.
PER_ORDER: dict[str, int] = {
    "orders": 1,
    "dispatch_events": 2,
    "driver_events": 3,
    "client_events": 1,
    "documents": 1,
    "ksef_packages": 1,
    "payments": 1,
}

_ORIGINS = ("Warszawa", "Łódź", "Poznań", "Kraków")
_DESTINATIONS = ("Lviv", "Kyiv", "Lutsk")
# Lviv traffic spreads over three crossings; Kyiv and Lutsk traffic goes via Dorohusk.
_LVIV_CROSSINGS = ("Korczowa–Krakovets", "Medyka–Shehyni", "Hrebenne–Rava-Ruska")
_DOROHUSK = "Dorohusk–Jagodyn"
_VEHICLES = ("WX 4821K", "EL 7315C", "PO 2K846", "KR 9GT52", "WX 1305M", "EL 58A47")
# (confidence, needs manual review): OCR below 0.90 goes to a human.
_CONFIDENCES = (
    ("0.97", False),
    ("0.99", False),
    ("0.93", False),
    ("0.96", False),
    ("0.88", True),
    ("0.98", False),
    ("0.95", False),
)
_CLIENT_EVENTS = ("eta_viewed", "delivery_confirmed", "pod_downloaded")
# Net freight in grosze by lane: [origin][destination].
_LANE_NET = (
    (780000, 1240000, 690000),  # Warszawa → Lviv, Kyiv, Lutsk
    (840000, 1310000, 760000),  # Łódź
    (960000, 1420000, 880000),  # Poznań
    (720000, 1190000, 810000),  # Kraków
)
_PALLET_GR = 16500  # per-pallet handling, grosze
_REEFER_GR = 95000  # cold-chain surcharge, grosze
_VAT_PERCENT = 23

_MINUTES_PER_DAY = 1440
_FIRST_PICKUP = 6 * 60  # 06:00 UTC on the base date
_PICKUP_SPACING = 20  # minutes between consecutive order pickups
_SLACK_DAYS = 30  # the latest event (a payment) is < 30 days after the last pickup
# The most orders whose dates still fit in a calendar year of four digits (date.max).
MAX_ORDERS = (((date.max - BASE_DATE).days - _SLACK_DAYS + 1) * _MINUTES_PER_DAY - 1 - _FIRST_PICKUP) // _PICKUP_SPACING + 1
# "HH:MM:00Z" for every minute of a day: a timestamp is then one concatenation.
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}:00Z" for m in range(_MINUTES_PER_DAY))
# Tenths of a degree as "d.d", 0.0 .. 29.9 °C.
_TENTHS = tuple(f"{t // 10}.{t % 10}" for t in range(300))
_JSON_BOOL = ("false", "true")
# Every value of order i but its dates and ids depends on i only modulo 3, 4, 5, 6, 7, 9
# or 27: their least common multiple is every pattern the orders can take.
ALL_PATTERNS = 3780


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8_TABLE = _crc8_table()  # CRC-8, polynomial 0x07: the KSeF number checksum
_TECHNICAL_BYTES = 6  # the 12 hex digits of a KSeF number's technical part

_AUDIT_NOTES: tuple[tuple[str, str, str, str, str], ...] = (
    # (topic, actor, status, at, note)
    (
        "risk",
        "user_md_anna",
        "open",
        "2026-03-01T09:00:00Z",
        "Cold-chain excursions at the border must stay visible after cutover; "
        "temperature readings migrate with every driver event.",
    ),
    (
        "cutover",
        "user_dispatcher_marek",
        "planned",
        "2026-03-01T10:30:00Z",
        "Replay tenant+RBAC, operations, finance and audit batches from the frozen "
        "snapshot; the file-local store stays as fallback.",
    ),
    (
        "connection",
        "user_dispatcher_marek",
        "pending",
        "2026-03-01T11:15:00Z",
        "Connection evidence keeps a redacted endpoint only; credentials come from "
        "the environment, never from the store.",
    ),
    (
        "dry_run",
        "user_accountant_olena",
        "pending",
        "2026-03-01T13:40:00Z",
        "KSeF packages and payments must replay with equal checksums before the "
        "finance ledger is signed off.",
    ),
    (
        "sign_off",
        "user_md_anna",
        "pending",
        "2026-03-01T16:00:00Z",
        "Go/no-go needs release, cutover and wiring READY; production traffic stays "
        "disabled until then.",
    ),
)


# ---------------------------------------------------------------- public API


def kind_counts_for(catalog: Catalog, orders: int) -> dict[str, int]:
    """Exactly how many records of each of the catalog's kinds the demo holds, in its order."""
    counts = _demo_counts(catalog, orders)
    return {kind: counts.get(kind, 0) for kind in catalog.record_kinds}


def record_count(catalog: Catalog, orders: int) -> int:
    """Exactly how many records `scenario_rows.demo_rows(catalog, orders)` yields."""
    return sum(kind_counts_for(catalog, orders).values())


def seed_records(catalog: Catalog) -> list[Record]:
    """The tenant and its actors: what a fresh store holds, in canonical order."""
    records: list[Record] = [
        ("tenants", catalog.tenant_id, {"name": catalog.tenant_name, "mode": catalog.tenant_mode})
    ]
    for actor in sorted(catalog.actors, key=lambda a: a.id):
        role = catalog.roles[actor.role]
        data = {
            "name": actor.name,
            "role": actor.role,
            "desk": actor.desk,
            "scope": role.scope,
            "tenant_id": catalog.tenant_id,
            "permissions": list(role.permissions),
        }
        records.append(("users", actor.id, data))
    return records


# ---------------------------------------------------------------- internals


def context(catalog: Catalog, orders: int) -> _Context:
    """What every kind's generator shares, for `orders` orders of `catalog`'s tenant."""
    for kind in _demo_counts(catalog, orders):
        if kind not in catalog.record_kinds:
            raise ValueError(f"the catalog has no record kind {kind!r}, which the demo scenario writes")
    return _Context(catalog, orders)


def _demo_counts(catalog: Catalog, orders: int) -> dict[str, int]:
    """Every kind the demo writes, with how many records of it."""
    _check_orders(orders)
    counts = {"tenants": 1, "users": len(catalog.actors), "scenario_audit": len(_AUDIT_NOTES)}
    counts.update({kind: n * orders for kind, n in PER_ORDER.items()})
    return counts


def other_rows(ctx: _Context, kind: str) -> Iterator[tuple[str, str, bytes]]:
    """The kinds that are not per order (tenant, users, scenario audit): few, encoded the safe way."""
    records = _scenario_audit(ctx) if kind == "scenario_audit" else [r for r in seed_records(ctx.catalog) if r[0] == kind]
    for k, rid, data in records:
        yield (k, rid, record_json(k, rid, data, checked=False).encode("utf-8"))


def _check_orders(orders: int) -> None:
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ValueError(f"orders must be a non-negative integer, not {orders!r}")


class _Context:
    """What every kind generator shares: the tenant, the id format and day tables."""

    def __init__(self, catalog: Catalog, orders: int) -> None:
        self.catalog = catalog
        self.tenant = catalog.tenant_id
        self.tenant_json = canonical_json(catalog.tenant_id)  # quoted and escaped once
        self.orders = orders
        width = max(ID_DIGITS, len(str(orders)))  # keeps string order == numeric order
        self.fmt: Callable[[int], str] = f"{{:0{width}d}}".format
        # Every date an event of the last order can touch, formatted once.
        last = _pickup(max(orders, 1)) // _MINUTES_PER_DAY + _SLACK_DAYS
        days = [BASE_DATE + timedelta(days=d) for d in range(last + 1)]
        self.day_t = [d.isoformat() + "T" for d in days]  # "2026-03-02T"
        self.day = [d.isoformat() for d in days]  # "2026-03-02"
        self.ymd = [d.strftime("%Y%m%d") for d in days]  # "20260302"


def _pickup(i: int) -> int:
    """Planned pickup of order i, in minutes after the base date's midnight (UTC)."""
    return _FIRST_PICKUP + (i - 1) * _PICKUP_SPACING


def _delivery(i: int) -> int:
    # 18–20.5 hours door to door to Lviv or Lutsk, border queue included; Kyiv is 6 h
    # further.
    extra = 360 if i % 3 == 1 else 0
    return _pickup(i) + 1080 + (i % 6) * 30 + extra


def _invoiced(i: int) -> int:
    return _delivery(i) + 120


def _pallets(i: int) -> int:
    return 6 + (i * 7) % 27  # 6..32: never more than a 33-pallet reefer trailer


def _cold(i: int) -> bool:
    # Most loads are 2–8 °C biologics; every fifth is 15–25 °C ambient pharma.
    return i % 5 != 0


def _money(grosze: int) -> str:
    return f"{grosze // 100}.{grosze % 100:02d}"


def _net_grosze(i: int) -> int:
    net = _LANE_NET[i % 4][i % 3] + _pallets(i) * _PALLET_GR
    return net + _REEFER_GR if _cold(i) else net


def _vat_grosze(net: int) -> int:
    return (net * _VAT_PERCENT + 50) // 100  # half-up to the grosz


# Every amount depends on i only through i % 4, % 3, % 27 (pallets) and % 5 (cold chain).
_AMOUNT_PERIOD = 540


@cache
def _amounts() -> tuple[tuple[str, str, str], ...]:
    """(net, vat, gross) as decimal strings for each residue of i mod _AMOUNT_PERIOD."""
    out = []
    for r in range(_AMOUNT_PERIOD):
        net = _net_grosze(r)
        vat = _vat_grosze(net)
        out.append((_money(net), _money(vat), _money(net + vat)))
    return tuple(out)


def _crossing(i: int) -> str:
    return _LVIV_CROSSINGS[(i // 3) % 3] if i % 3 == 0 else _DOROHUSK


def _crc8(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc = _CRC8_TABLE[crc ^ byte]
    return crc


def ksef_checksum(number_without_checksum: str) -> str:
    """The two hex digits that close a KSeF number: CRC-8 (poly 0x07, init 0x00).

    Computed over the first 32 characters, "NIP-YYYYMMDD-TTTTTTTTTTTT".
    """
    return f"{_crc8(number_without_checksum.encode('ascii')):02X}"


@cache
def _technical_crc_tables() -> tuple[tuple[int, ...], ...]:
    """CRC-8 contribution of each byte of the technical part, by position.

    This CRC (init 0, no final XOR) is linear: crc(a ^ b) == crc(a) ^ crc(b) for
    equal-length messages. So crc(prefix + technical) is crc(prefix + zeros) XOR one
    table entry per technical byte — six lookups instead of a 32-byte loop per record.
    """
    tables = []
    for pos in range(_TECHNICAL_BYTES):
        tail = bytes(2 * (_TECHNICAL_BYTES - 1 - pos))  # the zero hex digits after it
        tables.append(tuple(_crc8(f"{v:02X}".encode("ascii") + tail) for v in range(256)))
    return tuple(tables)


def _scenario_audit(c: _Context) -> list[Record]:
    return [
        (
            "scenario_audit",
            "aud-" + c.fmt(k),
            {
                "tenant_id": c.tenant,
                "topic": topic,
                "actor_id": actor,
                "status": status,
                "note": note,
                "orders": c.orders,
                "at": at,
            },
        )
        for k, (topic, actor, status, at, note) in enumerate(_AUDIT_NOTES, start=1)
    ]
