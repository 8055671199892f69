"""Import and export of a scenario as one JSON file (`BFGScenarioImport.v1`).

    {"schema": "BFGScenarioImport.v1", "tenant": "bfg",
     "records": [{"kind": "...", "id": "...", "data": {...}}, ...]}

An imported file is untrusted: its shape is validated with pydantic (strict types,
unknown fields refused), then every rule that needs the catalog or the whole file
(known kinds, unique ids, actors, tenant, no floats) is checked here. Every problem
is one `InputError` line naming the file and the exact field, e.g.
`scenario.json: records[3].data.temperature_min: floats are not allowed; use a decimal string`.

pydantic is imported only by this module, so commands that never import a scenario
do not pay for it at start-up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .canonical import record_json
from .door import import_problem, import_suspect
from .errors import InputError
from .models import Catalog
from .sanitise import dumps
from .scenario import Record

SCHEMA = "BFGScenarioImport.v1"
MAX_ID_LENGTH = 200
# RFC 8785 numbers are IEEE doubles: larger integers would not survive other
# canonicalisers, so they must be written as decimal strings.
MAX_SAFE_INTEGER = 2**53 - 1

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SECRET = re.compile(r"passw|pwd|token|secret|api_?key|private_?key|credential", re.IGNORECASE)
_SHOWN_CHARS = 60


class _RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: str
    id: str
    data: dict[str, Any]


class _ScenarioIn(BaseModel):
    # `schema` would shadow a BaseModel attribute, hence the alias.
    model_config = ConfigDict(extra="forbid", strict=True)

    schema_: str = Field(alias="schema")
    tenant: str
    records: list[_RecordIn]


# ---------------------------------------------------------------- public API


def load_scenario_file(path: Path, catalog: Catalog) -> list[Record]:
    """Read, validate and return the records of a scenario file, in canonical order."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_scenario(text, catalog, source=str(path))


def parse_scenario(text: str, catalog: Catalog, *, source: str = "scenario.json") -> list[Record]:
    """Validate scenario JSON text; `source` names it in error messages."""
    try:
        return _parse(text, catalog, source)
    except RecursionError:
        # json, pydantic and the value walk all recurse; a hostile file must not crash us.
        raise InputError(f"{source}: the document is nested too deeply") from None


def _parse(text: str, catalog: Catalog, source: str) -> list[Record]:
    # The door's cheap look at the whole text first: only a suspect file has each string checked.
    suspect = import_suspect(text)
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except _DuplicateKey as exc:
        raise InputError(f"{source}: invalid JSON: duplicate key {_show_key(exc.key)}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{source}: the document must be a JSON object, not {_json_type(raw)}")
    # A different schema makes every other complaint meaningless: report it first.
    schema = raw.get("schema")
    if isinstance(schema, str) and schema != SCHEMA:
        raise InputError(f"{source}: schema: expected '{SCHEMA}', got {_show('schema', schema)}")
    try:
        envelope = _ScenarioIn.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{source}: {_pydantic_problem(exc)}") from None
    if envelope.tenant != catalog.tenant_id:
        raise InputError(
            f"{source}: tenant: {_show('tenant', envelope.tenant)} is not the catalog "
            f"tenant '{catalog.tenant_id}'"
        )
    if not envelope.records:
        raise InputError(f"{source}: records: the scenario holds no records")
    return _check_records(envelope.records, catalog, source, suspect)


def dump_scenario(records: Iterable[Record], catalog: Catalog) -> str:
    """The records as a scenario file: canonical order, one canonical record per line.

    Refuses (`ValueError`) what the file could not load back: an unknown kind, a
    float or other value with no canonical form, another tenant's `tenant_id`.
    """
    order = {kind: n for n, kind in enumerate(catalog.record_kinds)}
    rows = list(records)
    for kind, rid, data in rows:
        if kind not in order:
            raise ValueError(f"unknown record kind '{kind}'")
        problem = _check_value(data, f"{kind}/{rid}.data", catalog.tenant_id)
        if problem:
            raise ValueError(problem)
    rows.sort(key=lambda r: (order[r[0]], r[1]))
    head = json.dumps({"schema": SCHEMA, "tenant": catalog.tenant_id}, ensure_ascii=False)
    lines = [record_json(kind, rid, data, checked=False) for kind, rid, data in rows]
    return head[:-1] + ', "records": [\n' + ",\n".join(lines) + "\n]}\n"


# ---------------------------------------------------------------- validation


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys silently; two readers of the same
    # file could then disagree on its content (and its checksum).
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _check_records(records: list[_RecordIn], catalog: Catalog, source: str, suspect: bool = True) -> list[Record]:
    order = {kind: n for n, kind in enumerate(catalog.record_kinds)}
    actors = {actor.id for actor in catalog.actors}
    tenant = catalog.tenant_id
    first_seen: dict[tuple[str, str], int] = {}
    out: list[Record] = []
    for n, record in enumerate(records):
        where = f"records[{n}]"
        kind, rid = record.kind, record.id
        if kind not in order:
            raise InputError(f"{source}: {where}.kind: unknown record kind {_show('kind', kind)}")
        if not rid:
            raise InputError(f"{source}: {where}.id: must not be empty")
        if len(rid) > MAX_ID_LENGTH or not rid.isprintable():
            raise InputError(
                f"{source}: {where}.id: must be at most {MAX_ID_LENGTH} printable characters"
            )
        previous = first_seen.setdefault((kind, rid), n)
        if previous != n:
            raise InputError(
                f"{source}: {where}.id: duplicate {kind} record {_show('id', rid)} "
                f"(first at records[{previous}])"
            )
        if kind == "users" and rid not in actors:
            raise InputError(f"{source}: {where}.id: {_show('id', rid)} is not a catalog actor")
        if kind == "tenants" and rid != tenant:
            raise InputError(
                f"{source}: {where}.id: {_show('id', rid)} is not the catalog tenant '{tenant}'"
            )
        problem = _check_value(record.data, f"{where}.data", tenant)
        if problem is None and suspect:
            problem = _door_problem(record.data, f"{where}.data")
        if problem:
            raise InputError(f"{source}: {problem}")
        out.append((kind, rid, record.data))
    out.sort(key=lambda r: (order[r[0]], r[1]))
    return out


def _clean(value: Any, tenant: str) -> bool:
    """Fast yes/no for `_check_value`: no path strings are built on the common path."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if kind is dict:
        for key, child in value.items():
            if not key.isascii() or (key == "tenant_id" and child != tenant):
                return False
            if type(child) is not str and not _clean(child, tenant):
                return False
        return True
    if kind is list:
        return all(_clean(child, tenant) for child in value)
    return False  # floats, and anything JSON has no canonical form for


def _check_value(value: Any, path: str, tenant: str) -> str | None:
    """The first problem in `value` as "path: reason", or None."""
    if _clean(value, tenant):
        return None
    # Slow path, only for a bad value: walk again, this time naming every field.
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is float:
            return f"{where}: floats are not allowed; use a decimal string"
        if kind is int and abs(item) > MAX_SAFE_INTEGER:
            return (
                f"{where}: integers beyond ±{MAX_SAFE_INTEGER} are not allowed; "
                "use a decimal string"
            )
        if kind is dict:
            children = []
            for key, child in item.items():
                child_path = where + _key_path(key)
                if not key.isascii():
                    return f"{child_path}: object keys must be ASCII"
                if key == "tenant_id" and child != tenant:
                    return (
                        f"{child_path}: {_show(child_path, child)} is not the catalog "
                        f"tenant '{tenant}'"
                    )
                children.append((child, child_path))
            stack.extend(reversed(children))  # report problems in document order
        elif kind is list:
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif not (kind is str or kind is bool or kind is int or item is None):
            return f"{where}: {kind.__name__} has no JSON form"
    return None


def _door_problem(value: Any, path: str) -> str | None:
    """The first string or key of a record's data the door refuses (a control character, a secret)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if type(item) is dict:
            children = []
            for key, child in item.items():
                child_path = where + _key_path(key)
                problem = import_problem(child_path + " (its key)", key) if not key.isidentifier() else None
                if problem:
                    return str(problem)
                children.append((child, child_path))
            stack.extend(reversed(children))  # report problems in document order
        elif type(item) is list:
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif type(item) is str:
            problem = import_problem(where, item)
            if problem:
                return str(problem)
    return None


_PYDANTIC_REASONS = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "dict_type": "must be a JSON object",
    "list_type": "must be an array",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}


def _pydantic_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = _loc_path(error["loc"])
    reason = _PYDANTIC_REASONS.get(error["type"]) or error["msg"].splitlines()[0]
    return f"{loc}: {reason}" if loc else reason


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += _key_path(part)
    return path.removeprefix(".")


def _key_path(key: str) -> str:
    # Plain names read as `.name`; anything else is quoted so the line stays one line.
    return "." + key if _IDENT.match(key) else "[" + dumps(key) + "]"


def _show_key(key: str) -> str:
    return dumps(key)


def _show(field_path: str, value: Any) -> str:
    """A value for an error line: quoted, one line, short, and never a secret."""
    if _SECRET.search(field_path):
        return "<redacted>"
    if not isinstance(value, str):
        return _json_type(value)
    text = dumps(value)[1:-1]  # escapes newlines, quotes and every other control
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return f"'{text}'"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
