"""The demo scenario as rows with their bodies as canonical JSON in UTF-8, fast.

This is the one definition of each per-order kind's values (`demo_records` reads these
bodies back into dicts); the tables, dates and amounts they are built from are in
`bfg_tui.scenario`.

Every value of order i that is not a date or an id depends on i only through small
moduli (`scenario.ALL_PATTERNS` is their least common multiple), so each kind's body is
cut into pieces around the values that change with every order (dates, ids), and the
pieces are built once per residue of i, already encoded. A body is then one join of
bytes: at a million records the generator's share of a save is its Python work per
row, and encoding text with Polish letters to UTF-8 cost more than writing the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from itertools import chain, cycle, islice
from typing import Any

from . import scenario as s
from .models import Catalog

_DAY = s._MINUTES_PER_DAY
_CLOCK = tuple(t.encode("ascii") for t in s._CLOCK)  # b"HH:MM:00Z" for every minute of a day
_HEX2 = tuple(f"{b:02X}".encode("ascii") for b in range(256))
_hex12 = b"%012X".__mod__  # twelve hex digits of an int, as bytes
_join = b"".join

Row = tuple[str, str, bytes]


def demo_rows(catalog: Catalog, orders: int = s.DEMO_ORDERS) -> Iterator[Row]:
    """The demo scenario's records in canonical order, each body canonical JSON in UTF-8.

    `body == canonical.record_json(kind, id, data).encode()` for the record it holds; a
    save keeps the bytes as they are.
    """
    ctx = s.context(catalog, orders)
    days = _Days(ctx)
    return chain.from_iterable(
        _KINDS[kind](ctx, days) if kind in _KINDS else s.other_rows(ctx, kind)
        for kind in catalog.record_kinds
    )


def demo_records(catalog: Catalog, orders: int = s.DEMO_ORDERS) -> Iterator[s.Record]:
    """Seed records plus `orders` orders with their events, documents and finance rows, as
    `(kind, id, data)` with `data` a dict: `demo_rows` read back."""
    import json

    rows = demo_rows(catalog, orders)  # checks its arguments now, not at the first record
    return ((kind, rid, json.loads(body)["data"]) for kind, rid, body in rows)


class _Days:
    """The context's day tables as UTF-8."""

    def __init__(self, c: s._Context) -> None:
        self.day_t = [d.encode("ascii") for d in c.day_t]  # b"2026-03-02T"
        self.day = [d.encode("ascii") for d in c.day]  # b"2026-03-02"
        self.year = [d[:4].encode("ascii") for d in c.ymd]  # b"2026"


def _by_residue(table: list[Any]) -> Iterator[Any]:
    """table[i % len(table)] for i = 1, 2, 3, … without end (zipped with the orders' numbers)."""
    return islice(cycle(table), 1, None)


def _numbered(c: s._Context, table: list[Any]) -> Iterator[tuple[str, bytes, Any]]:
    """(number as text for the id column, as UTF-8 for the body, the pieces of its residue)."""
    numbers = range(1, c.orders + 1)
    return zip(map(c.fmt, numbers), map(str.encode, map(c.fmt, numbers)), _by_residue(table), strict=False)


def _utf8(*pieces: str | int | bool | None) -> tuple[Any, ...]:
    return tuple(p.encode("utf-8") if isinstance(p, str) else p for p in pieces)


# ------------------------------------------------------------------ orders


@cache
def _order_pieces(tenant_json: str) -> list[tuple[Any, ...]]:
    out = []
    for i in range(s.ALL_PATTERNS):
        pallets = s._pallets(i)
        weight = pallets * (180 + (i * 13) % 9 * 40)
        t_min, t_max = ("2.0", "8.0") if s._cold(i) else ("15.0", "25.0")
        out.append(_utf8(
            f'{{"data":{{"adr":{s._JSON_BOOL[i % 7 == 0]},"client_id":"{s.CLIENT_ID}","delivery_at":"',
            f'","destination":"{s._DESTINATIONS[i % 3]}","gdp":true,"origin":"{s._ORIGINS[i % 4]}",'
            f'"pallets":{pallets},"pickup_at":"',
            f'","temperature_max":"{t_max}","temperature_min":"{t_min}","tenant_id":{tenant_json},'
            f'"weight_kg":{weight}}},"id":"ord-',
            s._delivery(i) - s._pickup(i),
        ))
    return out


def _orders(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock, end = days.day_t, _CLOCK, b'","kind":"orders"}'
    pickup = s._pickup(0)
    for n, nb, (head, mid, tail, to_delivery) in _numbered(c, _order_pieces(c.tenant_json)):
        pickup += s._PICKUP_SPACING
        d = pickup + to_delivery
        yield "orders", "ord-" + n, _join((
            head, day_t[d // _DAY], clock[d % _DAY], mid, day_t[pickup // _DAY], clock[pickup % _DAY],
            tail, nb, end))


# ------------------------------------------------------------------ dispatch events


@cache
def _dispatch_pieces() -> list[tuple[Any, ...]]:
    out = []
    for i in range(12):
        vehicle = s._VEHICLES[i % 6]
        out.append(_utf8(
            f'","type":"assigned","vehicle":"{vehicle}"}},"id":"dsp-',
            f'","type":"route_confirmed","vehicle":"{vehicle}"}},"id":"dsp-',
            -180 - (i % 4) * 15,
        ))
    return out


def _dispatch_events(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock = days.day_t, _CLOCK
    head, mid = _utf8(f'{{"data":{{"actor_id":"{s.DISPATCHER_ID}","at":"',
                      f'","driver_id":"{s.DRIVER_ID}","order_id":"ord-')
    end1, end2 = b'-1","kind":"dispatch_events"}', b'-2","kind":"dispatch_events"}'
    pickup = s._pickup(0)
    for n, nb, (first, second, to_assigned) in _numbered(c, _dispatch_pieces()):
        pickup += s._PICKUP_SPACING
        a, b = pickup + to_assigned, pickup - 60
        yield "dispatch_events", f"dsp-{n}-1", _join(
            (head, day_t[a // _DAY], clock[a % _DAY], mid, nb, first, nb, end1))
        yield "dispatch_events", f"dsp-{n}-2", _join(
            (head, day_t[b // _DAY], clock[b % _DAY], mid, nb, second, nb, end2))


# ------------------------------------------------------------------ driver events

_DRIVER_PERIOD = 2520  # lcm of the moduli a driver event uses: 3, 4, 5, 6, 7, 9, 40


@cache
def _driver_pieces() -> list[tuple[tuple[Any, ...], ...]]:
    out = []
    for i in range(_DRIVER_PERIOD):
        low = 30 if s._cold(i) else 170
        to_delivery = s._delivery(i) - s._pickup(i)
        steps = (
            ("pickup_scan", s._ORIGINS[i % 4], low + (i * 7) % 40, (i % 5) * 3),
            ("border_crossing", s._crossing(i), low + (i * 11 + 3) % 40, 300 + (i % 7) * 20),
            ("delivered", s._DESTINATIONS[i % 3], low + (i * 13 + 5) % 40, to_delivery + (i % 5) * 10 - 20),
        )
        out.append(tuple(
            _utf8(f'","driver_id":"{s.DRIVER_ID}","location":"{location}","order_id":"ord-',
                  f'","temperature_c":"{s._TENTHS[tenths]}","type":"{kind}"}},"id":"drv-', offset)
            for kind, location, tenths, offset in steps
        ))
    return out


def _driver_events(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock, head = days.day_t, _CLOCK, b'{"data":{"at":"'
    end1, end2, end3 = (f'-{k}","kind":"driver_events"}}'.encode("ascii") for k in (1, 2, 3))
    pickup = s._pickup(0)
    for n, nb, ((mid1, tail1, o1), (mid2, tail2, o2), (mid3, tail3, o3)) in _numbered(c, _driver_pieces()):
        pickup += s._PICKUP_SPACING
        a, b, d = pickup + o1, pickup + o2, pickup + o3
        yield "driver_events", f"drv-{n}-1", _join(
            (head, day_t[a // _DAY], clock[a % _DAY], mid1, nb, tail1, nb, end1))
        yield "driver_events", f"drv-{n}-2", _join(
            (head, day_t[b // _DAY], clock[b % _DAY], mid2, nb, tail2, nb, end2))
        yield "driver_events", f"drv-{n}-3", _join(
            (head, day_t[d // _DAY], clock[d % _DAY], mid3, nb, tail3, nb, end3))


# ------------------------------------------------------------------ client events


@cache
def _client_pieces() -> list[tuple[Any, ...]]:
    return [
        _utf8(f'","channel":"client_portal","client_id":"{s.CLIENT_ID}","order_id":"ord-',
              f'","type":"{s._CLIENT_EVENTS[i % 3]}"}},"id":"cle-',
              s._delivery(i) - s._pickup(i) + 60 + (i % 4) * 15)
        for i in range(12)
    ]


def _client_events(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock, head, end = days.day_t, _CLOCK, b'{"data":{"at":"', b'","kind":"client_events"}'
    pickup = s._pickup(0)
    for n, nb, (mid, tail, to_event) in _numbered(c, _client_pieces()):
        pickup += s._PICKUP_SPACING
        a = pickup + to_event
        yield "client_events", "cle-" + n, _join((head, day_t[a // _DAY], clock[a % _DAY], mid, nb, tail, nb, end))


# ------------------------------------------------------------------ documents


@cache
def _document_pieces() -> list[tuple[Any, ...]]:
    """(head, middle or None, tail, minutes from pickup to the day the number names, to the scan)."""
    out = []
    amounts = s._amounts()
    for i in range(s.ALL_PATTERNS):
        confidence, review = s._CONFIDENCES[i % 7]
        to_delivery = s._delivery(i) - s._pickup(i)
        tail = f'"}},"needs_review":{s._JSON_BOOL[review]},"order_id":"ord-'
        if i % 4:  # three CMR consignment notes per invoice
            out.append(_utf8(
                f'{{"data":{{"confidence":"{confidence}","doc_type":"CMR","fields":{{"cmr_number":"CMR/',
                f'","consignee":"{s.CLIENT_NAME}","pallets":{s._pallets(i)},"seal":"PL', tail, 0, to_delivery + 30))
        else:
            gross = amounts[i % s._AMOUNT_PERIOD][2]
            out.append(_utf8(
                f'{{"data":{{"confidence":"{confidence}","doc_type":"invoice","fields":{{'
                f'"buyer":"{s.CLIENT_NAME}","currency":"PLN","gross":"{gross}","invoice_number":"FV/',
                None, tail, to_delivery + 120, to_delivery + 30))
    return out


def _documents(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock, year = days.day_t, _CLOCK, days.year
    scanned, end = b'","provider":"local-ocr","scanned_at":"', b'"},"id":"doc-'
    kind = b'","kind":"documents"}'
    pickup = s._pickup(0)
    for n, nb, (head, mid, tail, to_numbered, to_scan) in _numbered(c, _document_pieces()):
        pickup += s._PICKUP_SPACING
        a = pickup + to_scan
        y = year[(pickup + to_numbered) // _DAY]
        if mid is not None:
            yield "documents", "doc-" + n, _join((
                head, y, b"/", nb, mid, nb, tail, nb, scanned, day_t[a // _DAY], clock[a % _DAY], end, nb, kind))
        else:
            yield "documents", "doc-" + n, _join((
                head, y, b"/", nb, tail, nb, scanned, day_t[a // _DAY], clock[a % _DAY], end, nb, kind))


# ------------------------------------------------------------------ KSeF packages


@cache
def _ksef_pieces() -> list[tuple[Any, ...]]:
    out = []
    amounts = s._amounts()
    for i in range(s._AMOUNT_PERIOD):  # a multiple of 6, the delivery offsets' period
        net, vat, gross = amounts[i]
        out.append(_utf8(
            f'{{"data":{{"currency":"PLN","gross":"{gross}","invoice_number":"FV/',
            f'","net":"{net}","order_id":"ord-',
            f'","status":"accepted","vat":"{vat}"}},"id":"ksef-',
            s._invoiced(i) - s._pickup(i),
        ))
    return out


def _ksef_packages(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, clock, year = days.day_t, _CLOCK, days.year
    issued_at, number_at, end = b'","issued_at":"', b'","ksef_number":"', b'","kind":"ksef_packages"}'
    t0, t1, t2, t3, t4, t5 = s._technical_crc_tables()
    zeros = bytes(2 * s._TECHNICAL_BYTES)
    prefixes: dict[int, tuple[bytes, int]] = {}  # per day: b"NIP-YYYYMMDD-", crc of it + 12 zeros
    pickup = s._pickup(0)
    for i, (n, nb, (head, mid, tail, to_issued)) in enumerate(_numbered(c, _ksef_pieces()), start=1):
        pickup += s._PICKUP_SPACING
        issued = pickup + to_issued
        day = issued // _DAY
        known = prefixes.get(day)
        if known is None:
            prefix = (s.SELLER_NIP + "-" + c.ymd[day] + "-").encode("ascii")
            known = prefixes[day] = (prefix, s._crc8(prefix + zeros))
        prefix, crc = known
        t = (i * 0x9E3779B1 + 0x0A1B2C3D4E5F) & 0xFFFFFFFFFFFF
        crc ^= (
            t0[t >> 40] ^ t1[(t >> 32) & 255] ^ t2[(t >> 24) & 255]
            ^ t3[(t >> 16) & 255] ^ t4[(t >> 8) & 255] ^ t5[t & 255]
        )
        yield "ksef_packages", "ksef-" + n, _join((
            head, year[day], b"/", nb, issued_at, day_t[day], clock[issued % _DAY], number_at,
            prefix, _hex12(t), b"-", _HEX2[crc], mid, nb, tail, nb, end))


# ------------------------------------------------------------------ payments


@cache
def _payment_pieces() -> list[tuple[Any, ...]]:
    """(head, tail, minutes from pickup to the invoice, from the invoice to the payment or None)."""
    out = []
    amounts = s._amounts()
    for i in range(s._AMOUNT_PERIOD):  # a multiple of 3, 5 and 6
        paid = i % 3 != 0
        out.append(_utf8(
            f'{{"data":{{"amount":"{amounts[i][2]}","currency":"PLN","due_date":"',
            f',"status":"{"paid" if paid else "pending"}"}},"id":"pay-',
            s._invoiced(i) - s._pickup(i),
            (7 + i % 5) * _DAY if paid else None,
        ))
    return out


def _payments(c: s._Context, days: _Days) -> Iterator[Row]:
    day_t, day, clock = days.day_t, days.day, _CLOCK
    invoice, paid_at, end = b'","invoice_id":"ksef-', b'","method":"bank_transfer","paid_at":', b'","kind":"payments"}'
    pickup = s._pickup(0)
    for n, nb, (head, tail, to_issued, to_paid) in _numbered(c, _payment_pieces()):
        pickup += s._PICKUP_SPACING
        issued = pickup + to_issued
        due = day[issued // _DAY + 14]  # 14-day payment terms
        if to_paid is None:
            yield "payments", "pay-" + n, _join((head, due, invoice, nb, paid_at, b"null", tail, nb, end))
        else:
            p = issued + to_paid
            yield "payments", "pay-" + n, _join((
                head, due, invoice, nb, paid_at, b'"', day_t[p // _DAY], clock[p % _DAY], b'"', tail, nb, end))


_KINDS = {
    "orders": _orders,
    "dispatch_events": _dispatch_events,
    "driver_events": _driver_events,
    "client_events": _client_events,
    "documents": _documents,
    "ksef_packages": _ksef_packages,
    "payments": _payments,
}
