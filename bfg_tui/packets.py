"""The nine reviewer packets of SPEC §7: build from state, render, secret-scan, export.

Every figure in a packet is read from the `Evaluation` (counts, decisions) or the
`State` (snapshot, probes, acceptances, audit head): rule 1 says a decision is derived,
never typed, so nothing here writes a figure by hand. The one constant is
`traffic=production_traffic_disabled`: this product never switches production traffic
on, whatever the wiring decision says.

Field order follows the seed page (packet formats at seed lines 92–116, 283–330, 363,
429, 449, 467). Each packet ends with the snapshot it describes and the audit head it
was built at, so a reviewer can tie a packet to one point of the hash-chained log.

Stdlib only (no Textual, no SQLite): the headless `export` command imports this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import i18n
from .catalog import default_catalog
from .engine import release_env
from .errors import Reason, Refused
from .models import Catalog, Evaluation, PacketSpec, State
from .runbook import render_runbook, shipped_lint
from .sanitise import dumps, visible
from .secrets import Finding, scan, scan_fields

Format = Literal["text", "json", "md"]
FORMATS: tuple[Format, ...] = ("text", "json", "md")

# The packets are declared in the catalog (id, schema, gate group, text layout); the
# fields of each are built by its function in _BUILDERS below.
_SPECS: dict[str, PacketSpec] = {p.id: p for p in default_catalog().packets}
PACKETS: dict[str, str] = {pid: spec.schema for pid, spec in _SPECS.items()}
TRAFFIC = "production_traffic_disabled"
NONE = "none"
NOT_RECORDED = "not-recorded"



@dataclass
class Packet:
    id: str
    schema: str
    fields: list[tuple[str, str]]
    body: str | None = None

    def get(self, key: str) -> str | None:
        return next((v for k, v in self.fields if k == key), None)


def packet_id(name: str) -> str:
    """Normalise a packet name: `dry-run` → `dry_run`; a schema name maps to its id."""
    key = name.strip()
    low = key.lower().replace("-", "_")
    if low in PACKETS:
        return low
    for pid, schema in PACKETS.items():
        if key.lower() == schema.lower():
            return pid
    raise ValueError(Reason.of("packet.unknown", packet=repr(name[:40]), packets=", ".join(PACKETS)))


# ---------------------------------------------------------------- helpers


def _one_line(value: object) -> str:
    # Text formats are line-based: a stray newline in a note or probe detail would
    # forge a field (or escape a `--` SQL comment in the runbook header); any other
    # control character an old store holds is shown, never sent to a reader's terminal.
    return visible(" ".join(str(value).split()))


def _checksum(state: State) -> str:
    return state.snapshot.checksum if state.snapshot else NONE


def _trailer(state: State, *, checksum: bool = True) -> list[tuple[str, str]]:
    fields = [("snapshot_checksum", _checksum(state))] if checksum else []
    fields += [
        ("snapshot_digest", state.snapshot.digest if state.snapshot else NONE),
        ("audit_events", str(state.audit_count)),
        ("audit_head", state.audit_head or NONE),
    ]
    # Who the acceptances are from: proven by SSH keys ("signed"), or typed names ("demo").
    return [("identity", "signed" if state.identity == "signed" else "demo"), *fields]


def _target(state: State) -> str:
    return state.target_adapter or NONE


def _probe_status(state: State, ev: Evaluation, check_id: str) -> tuple[str, str]:
    """(passed|failed|stale|waiting, one-line detail) of a probe check."""
    status = ev.checks[check_id]
    result = state.probes.get(check_id)
    reason = i18n.render(status.reason)  # packets are English
    if status.stale:
        return "stale", reason
    if status.ready:
        return "passed", result.detail if result else reason
    if result is not None and not result.passed:
        return "failed", result.detail
    return "waiting", reason


def _owner_fields(catalog: Catalog, state: State, ev: Evaluation, group: str) -> list[tuple[str, str]]:
    """Owner checks with their accepted value, who and when — or `pending`."""
    fields: list[tuple[str, str]] = []
    for cid in catalog.groups[group].checks:
        status = ev.checks[cid]
        acc = state.acceptances.get(cid)
        if status.ready:
            word = "accepted"
        elif acc is not None and state.identity == "signed" and acc.key is None:
            word = "self-asserted, sign again"
        elif status.stale:
            word = "stale"
        else:
            word = "pending"
        fields.append((cid, word))
        fields.append((f"{cid}.owner", catalog.checks[cid].owner or NONE))
        if acc is not None:
            fields.append((f"{cid}.value", acc.value if acc.value is not None else NONE))
            fields.append((f"{cid}.accepted_by", acc.actor_id + (" (countersign)" if acc.countersign else "")))
            fields.append((f"{cid}.signed_by", acc.key or "self-asserted"))  # the signer's key fingerprint
            fields.append((f"{cid}.at", acc.at))
    return fields


def _endpoint(state: State, check_ids: tuple[str, ...]) -> tuple[str, str]:
    """(endpoint, target kind) of the latest run of these probes, as stored (redacted).

    Deliberately not re-redacted here: if a secret ever reached the store, the export
    scan refuses loudly instead of this function hiding the defect.
    """
    results = [state.probes[c] for c in check_ids if c in state.probes]
    if results:
        latest = max(results, key=lambda r: r.seq)
        return latest.endpoint, latest.target_kind
    if state.connection_endpoint:
        return state.connection_endpoint, NOT_RECORDED
    return NOT_RECORDED, NOT_RECORDED


def _camel(check_id: str) -> str:
    head, *rest = check_id.split(".", 1)[-1].split("_")
    return head + "".join(part.capitalize() for part in rest)


# ---------------------------------------------------------------- builders


def _runbook(catalog: Catalog, state: State, ev: Evaluation) -> tuple[list[tuple[str, str]], str]:
    snap = state.snapshot
    lint = shipped_lint()
    fields = [
        ("source", catalog.snapshot_schema),
        ("target", _target(state)),
        ("session", catalog.session),
        ("checksum", _checksum(state)),
        ("rows", str(snap.rows if snap else 0)),
        ("runbook_decision", ev.decisions["runbook"]),
        ("rls_lint", "pass" if lint.ok else "fail"),
        ("rls_lint_tables", ",".join(lint.tables) or NONE),
        ("rls_lint_problems", str(len(lint.problems))),
    ]
    fields += [(f"rls_lint_problem_{i}", p) for i, p in enumerate(lint.problems, start=1)]
    fields += _trailer(state, checksum=False)
    fields = [(k, _one_line(v)) for k, v in fields]
    return fields, render_runbook(dict(fields), catalog.packet("runbook").schema)


def _cutover(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    snap = state.snapshot
    counts = state.scenario.kind_counts
    # Rows of the batch groups that hold rows in the current scenario (SPEC §5).
    batch_rows = sum(counts.get(kind, 0) for batch in catalog.batches for kind in batch.kinds)
    return [
        ("target", _target(state)),
        ("session", catalog.session),
        ("snapshot_schema", catalog.snapshot_schema),
        ("snapshot_checksum", _checksum(state)),
        ("snapshot_rows", str(snap.rows if snap else 0)),
        ("batch_rows", str(batch_rows)),
        ("batches", ev.count("batch_groups")),
        ("steps", ev.count("data_cutover")),
        ("connection", ev.count("connection")),
        ("dry_run", ev.count("dry_run")),
        ("runbook_decision", ev.decisions["runbook"]),
        ("release_decision", ev.decisions["release"]),
        ("rollback_decision", ev.decisions["rollback"]),
        ("cutover_decision", ev.decisions["cutover"]),
        *_trailer(state, checksum=False),
    ]


def _preflight(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    snap = state.snapshot
    return [
        ("schema", catalog.snapshot_schema),
        ("target", _target(state)),
        ("session", catalog.session),
        ("checksum", _checksum(state)),
        ("rows", str(snap.rows if snap else 0)),
        ("adapter_contract", state.store_contract),
        ("dry_run", ev.count("dry_run")),
        ("connection", ev.count("connection")),
        ("rollback_decision", ev.decisions["rollback"]),
        *_trailer(state, checksum=False),
    ]


def _release(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    env = release_env(catalog, state, ev.decisions["release"])
    return [*env.items(), *_trailer(state)]


def _rollback(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    owner = catalog.checks["rollback.owner_confirmation"].owner or ""
    return [
        ("BFG_ROLLBACK_DECISION", ev.decisions["rollback"]),
        ("BFG_ROLLBACK_OWNER", owner),
        ("BFG_ROLLBACK_STORAGE", state.fallback_adapter or ""),
        ("BFG_ROLLBACK_AUTH", catalog.auth_mode),
        ("BFG_ROLLBACK_EVIDENCE", catalog.packet("release").schema),
        ("BFG_ROLLBACK_PACKET", catalog.packet("rollback").schema),
        *_trailer(state),
    ]


def _connection(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    checks = catalog.groups["connection"].checks
    endpoint, kind = _endpoint(state, checks)
    tls_result = state.probes.get("connection.tls_fingerprint")
    fingerprint = tls_result.fingerprint if tls_result else None
    reach = state.probes.get("connection.endpoint_reachability")
    fields = [
        ("adapter_target", _target(state)),
        ("target_kind", kind),
        ("endpoint", endpoint),
        ("fingerprint", fingerprint or NOT_RECORDED),
        ("tls", ("yes" if tls_result.tls else "no") if tls_result else NOT_RECORDED),
        ("run_id", reach.run_id if reach else NOT_RECORDED),
    ]
    for cid in checks:
        status, detail = _probe_status(state, ev, cid)
        fields += [(cid, status), (f"{cid}.detail", detail)]
    fields += [("connection", ev.count("connection")), *_trailer(state)]
    return fields


def _dry_run(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    checks = catalog.groups["dry_run"].checks
    endpoint, kind = _endpoint(state, checks)
    checkpoint = state.probes.get("dryrun.rollback_checkpoint")
    ran = [state.probes[c] for c in checks if c in state.probes]
    ran_digest = max(ran, key=lambda r: r.seq).snapshot_digest if ran else None
    fields = [
        ("adapter_target", _target(state)),
        ("target_kind", kind),
        ("endpoint", endpoint),
        ("replay_id", checkpoint.run_id if checkpoint else NOT_RECORDED),
        # The snapshot the latest dry-run replayed; differs from snapshot_checksum when stale.
        ("replay_snapshot_checksum", "bfg-" + ran_digest[:8] if ran_digest else NONE),
    ]
    for cid in checks:
        status, detail = _probe_status(state, ev, cid)
        fields += [(cid, status), (f"{cid}.detail", detail)]
    stale = [c for c in checks if ev.checks[c].stale]
    fields += [
        ("dry_run", ev.count("dry_run")),
        ("stale", ",".join(stale) or NONE),
        *_trailer(state),
    ]
    return fields


def _infrastructure(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    return [
        ("adapter_target", _target(state)),
        *_owner_fields(catalog, state, ev, "infrastructure"),
        ("infrastructure", ev.count("infrastructure")),
        *_owner_fields(catalog, state, ev, "provider_selection"),
        ("provider_selection", ev.count("provider_selection")),
        ("go_no_go", ev.decisions[catalog.go_no_go.id]),
        *_trailer(state),
    ]


def _wiring(catalog: Catalog, state: State, ev: Evaluation) -> list[tuple[str, str]]:
    prefix = _target(state)
    fields = [
        (f"{prefix}.{_camel(cid)}", "ready" if ev.checks[cid].ready else "blocked")
        for cid in catalog.groups["wiring"].checks
    ]
    return [
        *fields,
        ("infrastructure", ev.count("infrastructure")),
        ("wiring", ev.count("wiring")),
        ("decision", ev.decisions["wiring"]),
        # Never derived: this product has no code path that enables production traffic.
        ("traffic", TRAFFIC),
        *_trailer(state),
    ]


_BUILDERS = {
    "cutover": _cutover,
    "preflight": _preflight,
    "release": _release,
    "rollback": _rollback,
    "connection": _connection,
    "dry_run": _dry_run,
    "infrastructure": _infrastructure,
    "wiring": _wiring,
}


def build_packet(packet_id_: str, catalog: Catalog, state: State, ev: Evaluation) -> Packet:
    """The packet's fields (seed order) and, for the runbook, its SQL body."""
    pid = packet_id(packet_id_)
    if pid == "runbook":
        fields, body = _runbook(catalog, state, ev)
        return Packet(pid, PACKETS[pid], fields, body)
    fields = [(k, _one_line(v)) for k, v in _BUILDERS[pid](catalog, state, ev)]
    keys = [k for k, _ in fields]
    if len(set(keys)) != len(keys):  # JSON renders a dict: a duplicate would vanish
        raise AssertionError(f"packet {pid} has duplicate field keys")
    return Packet(pid, PACKETS[pid], fields)


# ---------------------------------------------------------------- render


def _text(packet: Packet) -> str:
    if packet.body is not None:
        return packet.body if packet.body.endswith("\n") else packet.body + "\n"
    pairs = [f"{k}={v}" for k, v in packet.fields]
    spec = _SPECS[packet.id]
    if spec.layout == "line":  # `Schema k=v k=v ...`
        return " ".join([packet.schema, *pairs]) + "\n"
    # A comment header names the packet and keeps env packets shell-sourceable.
    lines = [f"# {packet.schema}"]
    joined = spec.joined  # fields the seed prints together on one line
    done: set[str] = set()
    for key, value in packet.fields:
        if key in done:
            continue
        if key in joined:
            lines.append(" ".join(f"{k}={packet.get(k)}" for k in joined))
            done.update(joined)
        else:
            lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def _json(packet: Packet) -> str:
    doc = {"schema": packet.schema, "fields": dict(packet.fields), "body": packet.body}
    return dumps(doc, indent=2) + "\n"


def _md_cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|") or " "


def _md(packet: Packet) -> str:
    lines = [f"# {packet.schema}", "", "| field | value |", "|---|---|"]
    lines += [f"| `{k}` | {_md_cell(v)} |" for k, v in packet.fields]
    if packet.body is not None:
        fence = "```"
        while fence in packet.body:
            fence += "`"
        lines += ["", fence + "sql", packet.body.rstrip("\n"), fence]
    return "\n".join(lines) + "\n"


def render(packet: Packet, fmt: Format) -> str:
    """Text (the seed's format), JSON (`schema`, ordered `fields`, `body`) or Markdown."""
    if fmt == "text":
        return _text(packet)
    if fmt == "json":
        return _json(packet)
    if fmt == "md":
        return _md(packet)
    raise ValueError(Reason.of("packet.unknown_format", format=repr(str(fmt)[:20]), formats=", ".join(FORMATS)))


def export_findings(packet: Packet, rendered: str) -> list[Finding]:
    """Everything the secret scan finds in a packet: fields first (they name the field)."""
    findings = scan_fields(packet.fields)
    if packet.body is not None:
        findings += [Finding(f"body {f.field}", f.kind) for f in scan(packet.body)]
    findings += [Finding(f"output {f.field}", f.kind) for f in scan(rendered)]
    return findings


def export_text(packet_id_: str, fmt: str, catalog: Catalog, state: State, ev: Evaluation) -> str:
    """The rendered packet, or `Refused` naming the field if anything looks like a secret."""
    pid = packet_id(packet_id_)
    if fmt not in FORMATS:
        raise ValueError(Reason.of("packet.unknown_format", format=repr(str(fmt)[:20]), formats=", ".join(FORMATS)))
    packet = build_packet(pid, catalog, state, ev)
    rendered = render(packet, fmt)
    findings = export_findings(packet, rendered)
    if findings:
        first = findings[0]
        raise Refused(
            Reason.of("export.secret", field=first.field, kind=first.kind),
            action="packet.export",
            subject=pid,
        )
    return rendered
