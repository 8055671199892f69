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

import codecs
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .canonical import record_json
from .door import import_problem, import_suspect
from .errors import InputError, Reason
from .i18n import Msg
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
MIB = 1024 * 1024


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
    raw = read_import_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Reason.of("import.not_utf8", path=path, byte=exc.start)) from None
    return parse_scenario(text, catalog, source=str(path))


# ---------------------------------------------------------------- reading a file, bounded

MAX_IMPORT_MB_ENV = "BFG_TUI_MAX_IMPORT_MB"
DEFAULT_MAX_IMPORT_MB = 64
_CHUNK = MIB


def max_import_bytes() -> int:
    """The import size cap: BFG_TUI_MAX_IMPORT_MB (a whole number of MiB), else 64 MiB."""
    raw = os.environ.get(MAX_IMPORT_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_IMPORT_MB * MIB
    if not raw.isdigit() or not 1 <= int(raw) <= 1024 * 1024:
        raise InputError(Reason.of("import.bad_cap", name=MAX_IMPORT_MB_ENV))
    return int(raw) * MIB


def _open_import(path: Path) -> tuple[int, int]:
    """An open descriptor on a regular file within the cap, and the cap; anything else is refused."""
    cap = max_import_bytes()
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(Reason.of("import.cannot_read", path=path, error=exc.strerror or str(exc))) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(Reason.of("import.not_a_file", path=path, kind=_file_kind(st.st_mode)))
        if st.st_size > cap:
            raise InputError(_over_cap(path, st.st_size, cap))
    except BaseException:
        os.close(fd)
        raise
    return fd, cap


def _chunks(path: Path, fd: int, cap: int, size: int = _CHUNK) -> Iterator[bytes]:
    """The file's bytes in chunks, never more than the cap in all (a file growing meanwhile is refused)."""
    total = 0
    while True:
        try:
            chunk = os.read(fd, size)
        except OSError as exc:
            raise InputError(Reason.of("import.cannot_read", path=path, error=exc.strerror or str(exc))) from None
        if not chunk:
            return
        total += len(chunk)
        if total > cap:
            raise InputError(_over_cap(path, total, cap))
        yield chunk


def read_import_bytes(path: Path) -> bytes:
    """The whole file (a regular file, within the cap)."""
    fd, cap = _open_import(path)
    try:
        return b"".join(_chunks(path, fd, cap))
    finally:
        os.close(fd)


def _over_cap(path: Path, size: int, cap: int) -> Reason:
    return Reason.of("import.over_cap", path=path, size=f"{size / MIB:.1f}", cap=cap // MIB, variable=MAX_IMPORT_MB_ENV)


def _file_kind(mode: int) -> Msg:
    for test, kind in ((stat.S_ISDIR, "file.kind.directory"), (stat.S_ISCHR, "file.kind.character_device"),
                       (stat.S_ISBLK, "file.kind.block_device"), (stat.S_ISFIFO, "file.kind.pipe"),
                       (stat.S_ISSOCK, "file.kind.socket")):
        if test(mode):
            return Msg(kind)
    return Msg("file.kind.other")


# ---------------------------------------------------------------- streaming the records

_WS = re.compile(r"[ \t\n\r]*")


class _Fallback(Exception):
    """Anything unusual: the whole-document parser finds the problem and names it exactly."""


class _Text:
    """A sliding window of the file's text: records are decoded out of it one at a time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.at = 0
        self.eof = False
        # The door's cheap look (`import_suspect`), chunk by chunk with an overlap: once any text
        # is suspect, every record decoded from then on has each string checked. A record is
        # decoded only when all of it has arrived, so none escapes the look.
        self.suspect = False
        self._tail = ""

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        try:
            text = self._decoder.decode(chunk or b"", final=chunk is None)
        except UnicodeDecodeError:
            raise _Fallback from None
        self.eof = chunk is None
        if not self.suspect:
            self.suspect = import_suspect(self._tail + text)
            self._tail = text[-64:]
        self.buf = self.buf[self.at:] + text
        self.at = 0
        return True

    def peek(self) -> str:
        """The next character after whitespace ('' at the end of the file)."""
        while True:
            self.at = _WS.match(self.buf, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.buf) or not self.more():
                return self.buf[self.at:self.at + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Fallback
        self.at += 1

    def value(self, decoder: json.JSONDecoder) -> Any:
        """One complete JSON value (an object, array or string: never cut at a chunk's end)."""
        self.peek()
        while True:
            try:
                value, self.at = decoder.raw_decode(self.buf, self.at)
                return value
            except json.JSONDecodeError:
                if not self.more():  # truly malformed: the full parser says where
                    raise _Fallback from None


def load_scenario_rows(path: Path, catalog: Catalog) -> list[tuple[str, str, str]]:
    """The canonical (kind, id, body) rows of a scenario file, in canonical order.

    Memory stays near the file's size: the text is read in chunks, each record decoded
    out of it and kept only as its canonical body. Anything unusual (a problem to name,
    an odd layout) sends the file through the whole-document parser, which names it
    exactly as `parse_scenario` does.
    """
    fd, cap = _open_import(path)
    try:
        return _stream_rows(_Text(_chunks(path, fd, cap)), catalog)
    except (_Fallback, _DuplicateKey, RecursionError):
        pass
    finally:
        os.close(fd)
    records = load_scenario_file(path, catalog)  # raises the exact problem
    return [(kind, rid, record_json(kind, rid, data, checked=False)) for kind, rid, data in records]


def _stream_rows(text: _Text, catalog: Catalog) -> list[tuple[str, str, str]]:
    decoder = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)
    order = {kind: n for n, kind in enumerate(catalog.record_kinds)}
    actors = {actor.id for actor in catalog.actors}
    tenant = catalog.tenant_id
    keyed: list[Any] = []  # (kind order, id, body), turned into (kind, id, body) in place at the end
    envelope: dict[str, Any] = {}
    text.expect("{")
    while True:
        if text.peek() != '"':
            raise _Fallback
        key = text.value(decoder)
        text.expect(":")
        if key in envelope:
            raise _Fallback
        if key == "records":
            text.expect("[")
            if text.peek() == "]":
                raise _Fallback  # no records: the full parser says so
            while True:
                keyed.append(_stream_record(text.value(decoder), order, actors, tenant, text.suspect))
                if text.peek() == "]":
                    text.at += 1
                    break
                text.expect(",")
            envelope[key] = True
        elif key in ("schema", "tenant"):
            if text.peek() != '"':
                raise _Fallback
            envelope[key] = text.value(decoder)
        else:
            raise _Fallback
        if text.peek() == ",":
            text.at += 1
            continue
        text.expect("}")
        if text.peek() != "":
            raise _Fallback
        break
    if envelope.get("schema") != SCHEMA or envelope.get("tenant") != tenant or "records" not in envelope:
        raise _Fallback
    keyed.sort(key=lambda r: (r[0], r[1]))
    kinds = catalog.record_kinds
    for n, (rank, rid, body) in enumerate(keyed):
        if n and keyed[n - 1][1] == rid and keyed[n - 1][0] == kinds[rank]:
            raise _Fallback  # a duplicate (neighbours once sorted): the full parser names both places
        keyed[n] = (kinds[rank], rid, body)  # in place: the old tuple is freed as we go
    return keyed


def _stream_record(
    record: Any, order: dict[str, int], actors: set[str], tenant: str, suspect: bool,
) -> tuple[int, str, str]:
    """One record checked as `_check_records` checks it; its canonical body, keyed for sorting."""
    if type(record) is not dict or len(record) != 3:
        raise _Fallback
    kind, rid, data = record.get("kind"), record.get("id"), record.get("data")
    if type(kind) is not str or type(rid) is not str or type(data) is not dict or kind not in order:
        raise _Fallback
    if not rid or len(rid) > MAX_ID_LENGTH or not rid.isprintable():
        raise _Fallback
    if (kind == "users" and rid not in actors) or (kind == "tenants" and rid != tenant):
        raise _Fallback
    if not _clean(data, tenant) or (suspect and _door_problem(data, "data") is not None):
        raise _Fallback
    return order[kind], rid, record_json(kind, rid, data, checked=False)


def parse_scenario(text: str, catalog: Catalog, *, source: str = "scenario.json") -> list[Record]:
    """Validate scenario JSON text; `source` names it in error messages."""
    try:
        return _parse(text, catalog, source)
    except RecursionError:
        # json, pydantic and the value walk all recurse; a hostile file must not crash us.
        raise InputError(Reason.of("import.too_deep", source=source)) from None


def _parse(text: str, catalog: Catalog, source: str) -> list[Record]:
    # The door's cheap look at the whole text first: only a suspect file has each string checked.
    suspect = import_suspect(text)
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(Reason.of("import.invalid_json", source=source, line=exc.lineno, column=exc.colno,
                                   error=exc.msg)) from None
    except _DuplicateKey as exc:
        raise InputError(Reason.of("import.duplicate_key", source=source, key=_show_key(exc.key))) from None
    if not isinstance(raw, dict):
        raise InputError(Reason.of("import.not_an_object", source=source, type=_json_type(raw)))
    # A different schema makes every other complaint meaningless: report it first.
    schema = raw.get("schema")
    if isinstance(schema, str) and schema != SCHEMA:
        raise InputError(Reason.of("import.schema", source=source, schema=SCHEMA, got=_show("schema", schema)))
    try:
        envelope = _ScenarioIn.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_pydantic_problem(exc, source)) from None
    if envelope.tenant != catalog.tenant_id:
        raise InputError(Reason.of("import.tenant", source=source, tenant=_show("tenant", envelope.tenant),
                                   expected=catalog.tenant_id))
    if not envelope.records:
        raise InputError(Reason.of("import.no_records", source=source))
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
            raise ValueError(Reason.of("import.dump_unknown_kind", kind=kind))
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
            raise InputError(Reason.of("import.unknown_kind", source=source, where=where, kind=_show("kind", kind)))
        if not rid:
            raise InputError(Reason.of("import.empty_id", source=source, where=where))
        if len(rid) > MAX_ID_LENGTH or not rid.isprintable():
            raise InputError(Reason.of("import.long_id", source=source, where=where, max=MAX_ID_LENGTH))
        previous = first_seen.setdefault((kind, rid), n)
        if previous != n:
            raise InputError(Reason.of("import.duplicate_record", source=source, where=where, kind=kind,
                                       id=_show("id", rid), first=previous))
        if kind == "users" and rid not in actors:
            raise InputError(Reason.of("import.not_an_actor", source=source, where=where, id=_show("id", rid)))
        if kind == "tenants" and rid != tenant:
            raise InputError(Reason.of("import.not_the_tenant", source=source, where=where, id=_show("id", rid),
                                       tenant=tenant))
        problem = _check_value(record.data, f"{where}.data", tenant)
        if problem is None and suspect:
            problem = _door_problem(record.data, f"{where}.data")
        if problem:
            raise InputError(_in_file(source, problem))
        out.append((kind, rid, record.data))
    out.sort(key=lambda r: (order[r[0]], r[1]))
    return out


def _clean(value: Any, tenant: str) -> bool:
    """Fast yes/no for `_check_value`: no path strings are built on the common path."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        number: int = value
        return -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER
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


def _check_value(value: Any, path: str, tenant: str) -> Reason | None:
    """The first problem in `value` ("path: reason"), or None."""
    if _clean(value, tenant):
        return None
    # Slow path, only for a bad value: walk again, this time naming every field.
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is float:
            return Reason.of("import.float", where=where)
        if kind is int and abs(item) > MAX_SAFE_INTEGER:
            return Reason.of("import.big_integer", where=where, max=MAX_SAFE_INTEGER)
        if kind is dict:
            children = []
            for key, child in item.items():
                child_path = where + _key_path(key)
                if not key.isascii():
                    return Reason.of("import.key_not_ascii", where=child_path)
                if key == "tenant_id" and child != tenant:
                    return Reason.of("import.value_tenant", where=child_path, value=_show(child_path, child),
                                     tenant=tenant)
                children.append((child, child_path))
            stack.extend(reversed(children))  # report problems in document order
        elif kind is list:
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif not (kind is str or kind is bool or kind is int or item is None):
            return Reason.of("import.no_json_form", where=where, type=kind.__name__)
    return None


def _door_problem(value: Any, path: str) -> Reason | None:
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
                    return problem
                children.append((child, child_path))
            stack.extend(reversed(children))  # report problems in document order
        elif type(item) is list:
            stack.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif type(item) is str:
            problem = import_problem(where, item)
            if problem:
                return problem
    return None


# pydantic's error types our strict models can raise, by message id; any other keeps pydantic's own words.
_PYDANTIC_REASONS = {
    "missing": "msg.import.is_required",
    "extra_forbidden": "msg.import.unknown_field",
    "string_type": "msg.import.must_be_string",
    "dict_type": "msg.import.must_be_object",
    "list_type": "msg.import.must_be_array",
    "model_type": "msg.import.must_be_object",
    "model_attributes_type": "msg.import.must_be_object",
}


def _pydantic_problem(exc: ValidationError, source: str) -> Reason:
    """The first field pydantic refused: "source: path: reason"."""
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = _loc_path(error["loc"])
    code = _PYDANTIC_REASONS.get(error["type"])
    if code and loc:
        return Reason.of(code.removeprefix("msg."), source=source, where=loc)
    reason = error["msg"].splitlines()[0]
    return Reason.of("import.pydantic", source=source, problem=f"{loc}: {reason}" if loc else reason)


def _in_file(source: str, problem: Reason) -> Reason:
    """A value's problem with the file it is in named before its field: "source: field: reason"."""
    field = "field" if "field" in problem.params else "where"
    return Reason.of(problem.code, **{**problem.params, field: f"{source}: {problem.params[field]}"})


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


def _show(field_path: str, value: Any) -> str | Msg:
    """A value for an error line: quoted, one line, short, and never a secret."""
    if _SECRET.search(field_path):
        return "<redacted>"
    if not isinstance(value, str):
        return _json_type(value)
    text = dumps(value)[1:-1]  # escapes newlines, quotes and every other control
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return f"'{text}'"


def _json_type(value: Any) -> Msg:
    """What a JSON value is ("an array"), a fragment said in the message's language."""
    if value is None:
        return Msg("json.null")
    if isinstance(value, bool):
        return Msg("json.boolean")
    if isinstance(value, (int, float)):
        return Msg("json.number")
    if isinstance(value, str):
        return Msg("json.string")
    if isinstance(value, list):
        return Msg("json.array")
    return Msg("json.object")
