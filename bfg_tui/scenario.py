"""The deterministic demo scenario (SPEC §5): pharma distribution Poland → Ukraine.

Pure and stdlib-only: no I/O, no wall clock, no `random`. Every value is index
arithmetic over small tables, so the same arguments always give the same records and
`--scale 100000` (≈1M records) stays fast. Values are integers, booleans, null or
strings — never floats — because canonical JSON refuses floats; money, temperatures
and OCR confidences are decimal strings.

Records come out in canonical order without sorting: kind by kind in
`catalog.record_kinds` order, and within a kind by id, whose zero-padded numbers make
string order equal numeric order.

Two outputs:
- `demo_records` yields `(kind, id, data)` with `data` a dict, from the generators
  here: they are the readable definition of the demo data;
- `scenario_rows.demo_rows` yields `(kind, id, body)` with `body` already canonical JSON
  (UTF-8). The stdlib
  JSON encoder costs several µs per record, so 1M records could not be saved in seconds
  through it: the per-order kinds are written by `scenario_rows` from pieces of canonical
  JSON built once per pattern of values. The pieces only ever hold values from this
  module's own tables, digits and `canonical_json`-encoded catalog strings, so nothing
  needs escaping; the tests check `body == record_json(kind, id, data).encode()` over every
  pattern (`ALL_PATTERNS` orders), so the two outputs cannot drift apart unnoticed.
"""

from __future__ import annotations

import itertools
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
    """Exactly how many records `demo_records(catalog, orders)` yields."""
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


def demo_records(catalog: Catalog, orders: int = DEMO_ORDERS) -> Iterator[Record]:
    """Seed records plus `orders` orders with their events, documents and finance rows.

    `scenario_rows.demo_rows` yields the same records with their bodies already encoded.
    """
    per_order: dict[str, Callable[[_Context], _Out]] = {
        "orders": _orders,
        "dispatch_events": _dispatch_events,
        "driver_events": _driver_events,
        "client_events": _client_events,
        "documents": _documents,
        "ksef_packages": _ksef_packages,
        "payments": _payments,
    }
    ctx = context(catalog, orders)
    return _chain(
        per_order[kind](ctx) if kind in per_order else other_records(ctx, kind, rows=False)
        for kind in catalog.record_kinds
    )


# ---------------------------------------------------------------- internals

_Out = Iterator[tuple[str, str, Any]]


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


def other_records(ctx: _Context, kind: str, *, rows: bool) -> _Out:
    """The kinds that are not per order (tenant, users, scenario audit): few, encoded the safe way."""
    if kind == "scenario_audit":
        return _encoded(_scenario_audit(ctx), rows)
    return _encoded([r for r in seed_records(ctx.catalog) if r[0] == kind], rows)


def _chain(parts: Iterator[_Out]) -> _Out:
    return itertools.chain.from_iterable(parts)  # no Python frame per record


def _check_orders(orders: int) -> None:
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ValueError(f"orders must be a non-negative integer, not {orders!r}")


def _encoded(records: list[Record], rows: bool) -> _Out:
    """The few records that are not per-order: encoded the slow, safe way."""
    for kind, rid, data in records:
        yield (kind, rid, record_json(kind, rid, data, checked=False).encode("utf-8") if rows else data)


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
        self.year = [d[:4] for d in self.ymd]  # "2026"
        day_t = self.day_t

        def ts(minute: int) -> str:
            """ISO-8601 UTC timestamp `minute` minutes after the base date's midnight."""
            return day_t[minute // _MINUTES_PER_DAY] + _CLOCK[minute % _MINUTES_PER_DAY]

        self.ts: Callable[[int], str] = ts


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


def _orders(c: _Context) -> _Out:
    fmt, ts, tenant = c.fmt, c.ts, c.tenant
    for i in range(1, c.orders + 1):
        rid = "ord-" + fmt(i)
        pallets = _pallets(i)
        weight = pallets * (180 + (i * 13) % 9 * 40)
        cold = _cold(i)
        t_min, t_max = ("2.0", "8.0") if cold else ("15.0", "25.0")
        origin, dest = _ORIGINS[i % 4], _DESTINATIONS[i % 3]
        adr = i % 7 == 0  # e.g. ethanol-based disinfectants, UN 1170
        pickup, delivery = ts(_pickup(i)), ts(_delivery(i))
        yield "orders", rid, {
            "tenant_id": tenant,
            "client_id": CLIENT_ID,
            "origin": origin,
            "destination": dest,
            "pallets": pallets,
            "weight_kg": weight,
            "temperature_min": t_min,
            "temperature_max": t_max,
            "adr": adr,
            "gdp": True,  # every load is medicinal product under GDP
            "pickup_at": pickup,
            "delivery_at": delivery,
        }


def _dispatch_events(c: _Context) -> _Out:
    fmt, ts = c.fmt, c.ts
    for i in range(1, c.orders + 1):
        n = fmt(i)
        order_id = "ord-" + n
        vehicle = _VEHICLES[i % 6]
        pickup = _pickup(i)
        # Assigned 3–3.75 h before pickup, route confirmed one hour before.
        steps = (
            ("1", "assigned", pickup - 180 - (i % 4) * 15),
            ("2", "route_confirmed", pickup - 60),
        )
        for suffix, kind, minute in steps:
            rid = "dsp-" + n + "-" + suffix
            at = ts(minute)
            yield "dispatch_events", rid, {
                "order_id": order_id,
                "type": kind,
                "actor_id": DISPATCHER_ID,
                "driver_id": DRIVER_ID,
                "vehicle": vehicle,
                "at": at,
            }


def _driver_events(c: _Context) -> _Out:
    fmt, ts = c.fmt, c.ts
    for i in range(1, c.orders + 1):
        n = fmt(i)
        order_id = "ord-" + n
        pickup = _pickup(i)
        # Readings in tenths of a degree inside the order's range: 3.0–6.9 or 17.0–20.9.
        low = 30 if _cold(i) else 170
        # (suffix, type, location, reading, minute): scan at loading, the border ~5 h
        # out, the hand-over at the destination around the planned delivery time.
        steps = (
            ("1", "pickup_scan", _ORIGINS[i % 4], low + (i * 7) % 40, pickup + (i % 5) * 3),
            ("2", "border_crossing", _crossing(i), low + (i * 11 + 3) % 40,
             pickup + 300 + (i % 7) * 20),
            ("3", "delivered", _DESTINATIONS[i % 3], low + (i * 13 + 5) % 40,
             _delivery(i) + (i % 5) * 10 - 20),
        )
        for suffix, kind, location, tenths, minute in steps:
            rid = "drv-" + n + "-" + suffix
            temp, at = _TENTHS[tenths], ts(minute)
            yield "driver_events", rid, {
                "order_id": order_id,
                "driver_id": DRIVER_ID,
                "type": kind,
                "location": location,
                "temperature_c": temp,
                "at": at,
            }


def _client_events(c: _Context) -> _Out:
    fmt, ts = c.fmt, c.ts
    for i in range(1, c.orders + 1):
        n = fmt(i)
        rid, order_id = "cle-" + n, "ord-" + n
        kind = _CLIENT_EVENTS[i % 3]
        at = ts(_delivery(i) + 60 + (i % 4) * 15)
        yield "client_events", rid, {
            "order_id": order_id,
            "client_id": CLIENT_ID,
            "type": kind,
            "channel": "client_portal",
            "at": at,
        }


def _documents(c: _Context) -> _Out:
    fmt, ts, ymd, amounts = c.fmt, c.ts, c.ymd, _amounts()
    for i in range(1, c.orders + 1):
        n = fmt(i)
        rid, order_id = "doc-" + n, "ord-" + n
        confidence, review = _CONFIDENCES[i % 7]
        at = ts(_delivery(i) + 30)
        # OCR "fields" as read off the scan: three CMR consignment notes per invoice.
        fields: Any
        if i % 4:
            doc_type = "CMR"
            cmr_number = "CMR/" + ymd[_pickup(i) // _MINUTES_PER_DAY][:4] + "/" + n
            pallets = _pallets(i)
            fields = {
                "cmr_number": cmr_number,
                "consignee": CLIENT_NAME,
                "pallets": pallets,
                "seal": "PL" + n,
            }
        else:
            doc_type = "invoice"
            invoice = "FV/" + ymd[_invoiced(i) // _MINUTES_PER_DAY][:4] + "/" + n  # = KSeF's
            gross = amounts[i % _AMOUNT_PERIOD][2]
            fields = {
                "invoice_number": invoice,
                "buyer": CLIENT_NAME,
                "gross": gross,
                "currency": "PLN",
            }
        yield "documents", rid, {
            "order_id": order_id,
            "doc_type": doc_type,
            "provider": "local-ocr",
            "confidence": confidence,
            "needs_review": review,
            "fields": fields,
            "scanned_at": at,
        }


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


def _ksef_packages(c: _Context) -> _Out:
    fmt, ts, ymd, amounts = c.fmt, c.ts, c.ymd, _amounts()
    t0, t1, t2, t3, t4, t5 = _technical_crc_tables()
    zeros = bytes(2 * _TECHNICAL_BYTES)
    prefix_crc: dict[int, int] = {}  # per day: crc("NIP-YYYYMMDD-" + 12 zeros)
    for i in range(1, c.orders + 1):
        n = fmt(i)
        rid, order_id = "ksef-" + n, "ord-" + n
        issued = _invoiced(i)
        day = issued // _MINUTES_PER_DAY
        at = ts(issued)
        net, vat, gross = amounts[i % _AMOUNT_PERIOD]
        invoice = "FV/" + ymd[day][:4] + "/" + n
        # NIP-YYYYMMDD-TTTTTTTTTTTT-CC like a real KSeF number: the date is the day
        # KSeF accepted the invoice, CC the CRC-8 of everything before it.
        prefix = SELLER_NIP + "-" + ymd[day] + "-"
        crc = prefix_crc.get(day)
        if crc is None:
            crc = prefix_crc[day] = _crc8(prefix.encode("ascii") + zeros)
        t = (i * 0x9E3779B1 + 0x0A1B2C3D4E5F) & 0xFFFFFFFFFFFF
        crc ^= (
            t0[t >> 40] ^ t1[(t >> 32) & 255] ^ t2[(t >> 24) & 255]
            ^ t3[(t >> 16) & 255] ^ t4[(t >> 8) & 255] ^ t5[t & 255]
        )
        number = f"{prefix}{t:012X}-{crc:02X}"
        yield "ksef_packages", rid, {
            "order_id": order_id,
            "ksef_number": number,
            "invoice_number": invoice,
            "net": net,
            "vat": vat,
            "gross": gross,
            "currency": "PLN",
            "status": "accepted",
            "issued_at": at,
        }


def _payments(c: _Context) -> _Out:
    fmt, ts, day, amounts = c.fmt, c.ts, c.day, _amounts()
    for i in range(1, c.orders + 1):
        n = fmt(i)
        rid, invoice_id = "pay-" + n, "ksef-" + n
        issued = _invoiced(i)
        amount = amounts[i % _AMOUNT_PERIOD][2]
        due = day[issued // _MINUTES_PER_DAY + 14]  # 14-day payment terms
        paid = i % 3 != 0  # every third invoice is still open
        paid_at = ts(issued + (7 + i % 5) * _MINUTES_PER_DAY) if paid else None
        yield "payments", rid, {
            "invoice_id": invoice_id,
            "amount": amount,
            "currency": "PLN",
            "method": "bank_transfer",
            "status": "paid" if paid else "pending",
            "due_date": due,
            "paid_at": paid_at,
        }


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
