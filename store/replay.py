"""The state tables as a replay of the audit trail (pure: no SQL, no I/O).

The trail is the truth; the tables (meta, scenarios, snapshots, acceptances, probe runs
and results, exports) are a cache of folding its events in order. `apply` folds one
event body into `Tables`; each backend loads its stored tables into the same shape
(`tables_from_rows`), and `first_difference` names where they part.

Two levels of checking:

* `audit verify` replays the whole trail and compares every table with it.
* Every read compares `state_digest(state)` — a digest of exactly what the engine
  reads — with the digest the head row carries, written in the same transaction as
  each event. That is cheap, and catches a row planted or edited without an event;
  whoever also recomputes the digest is caught by `audit verify`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bfg_tui.bookkeeping import CHANGE_KINDS, marks_release_export, replaces_evidence, selects_target
from bfg_tui.errors import Reason
from bfg_tui.i18n import Msg
from bfg_tui.models import Acceptance, ProbeResult, ScenarioInfo, SnapshotInfo, State

try:  # `bfg-tui status` checks the digest: the builtin SHA-256 spares it loading OpenSSL
    from _sha256 import sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import sha256

# The digest's encoding: canonical (sorted keys, no spaces, UTF-8) for the plain values here.
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


# Kinds whose every event shapes the tables. Of check.accept / check.revoke only the
# latest per check matters, so a replay may skip the others (`needed_kinds`).
STATE_KINDS = ("store.create", "store.upgrade", "scenario.save", "snapshot.freeze", "probe.run", "packet.export")
ACCEPTANCE_KINDS = ("check.accept", "check.revoke")

TABLES = ("meta", "scenarios", "snapshots", "acceptances", "probe_runs", "probe_results", "exports")
# How a difference names a row of each table.
# How a row is named in a difference (a message fragment: `{key}` is the row's key).
_ROW_NAMES = {
    "meta": "replay.row.meta",
    "scenarios": "replay.row.scenario",
    "snapshots": "replay.row.snapshot",
    "acceptances": "replay.row.acceptance",
    "probe_runs": "replay.row.probe_run",
    "probe_results": "replay.row.probe_result",
    "exports": "replay.row.export",
}

Tables = dict[str, dict[str, Any]]


def empty() -> Tables:
    return {name: {} for name in TABLES}


def sha256_text(text: str) -> str:
    return str(sha256(text.encode("utf-8")).hexdigest())


def subject_of(kind: str, data: Mapping[str, Any]) -> str:
    """The searchable subject column of an event, derived from its body alone."""
    if kind in ACCEPTANCE_KINDS:
        return str(data.get("check", ""))
    if kind == "probe.run":
        return f"probe:{data.get('probe', '')}"
    if kind == "packet.export":
        return f"packet:{data.get('packet', '')}"
    subject = data.get("subject", "")
    return subject if isinstance(subject, str) else ""


# ------------------------------------------------------------------ folding


def apply(tables: Tables, doc: Mapping[str, Any]) -> Tables:
    """Fold one event body (parsed) into `tables`; returns the tables (a new object on upgrade)."""
    kind, data, seq, at, actor = doc["kind"], doc["data"], int(doc["seq"]), doc["at"], doc["actor"]
    meta = tables["meta"]
    if kind == "store.create":
        meta.update({
            "contract": data.get("contract", ""), "target_adapter": data.get("target_adapter", ""),
            "fallback_adapter": data.get("fallback_adapter", ""), "last_change_seq": "0",
            "last_release_export_seq": "0", "connection_endpoint": "", "created_at": at,
        })
        tables["scenarios"]["0"] = {"saved_at": None, "actor": None, "source": data.get("source", "seed"),
                                    "records": data.get("seed_records", 0), "kind_counts": data.get("kind_counts", {})}
    elif kind == "store.upgrade":
        # An upgrade from a store that kept no replayable trail attests the tables it found.
        tables = json.loads(json.dumps(data["state"]))  # a copy: the event's data stays as read
    elif kind == "scenario.save":
        tables["scenarios"][str(data["version"])] = {
            "saved_at": at, "actor": actor, "source": data["source"], "records": data["records"],
            "kind_counts": data.get("kind_counts", {}),
        }
    elif kind == "snapshot.freeze":
        tables["snapshots"][str(data["snapshot_id"])] = {
            "scenario_version": data["scenario_version"], "rows": data["rows"], "digest": data["digest"],
            "kind_counts": data.get("kind_counts", {}), "frozen_at": at, "actor": actor, "event_seq": seq,
        }
    elif kind == "check.accept":
        tables["acceptances"][data["check"]] = {
            "actor": actor, "note": data["note"], "value": data["value"],
            "snapshot_digest": data["snapshot_digest"], "countersign": bool(data["countersign"]),
            "at": at, "event_seq": seq, "key": doc["auth"].get("key") or None,  # the signer's fingerprint
        }
    elif kind == "check.revoke":
        tables["acceptances"].pop(data["check"], None)
    elif kind == "probe.run":
        _apply_probe(tables, data, seq)
    elif kind == "packet.export":
        tables["exports"][str(seq)] = {"packet": data["packet"], "format": data["format"],
                                       "destination": data["destination"], "digest": data["sha256"],
                                       "at": at, "actor": actor}
        if marks_release_export(data["packet"]):
            meta["last_release_export_seq"] = str(seq)
    if kind in CHANGE_KINDS:
        tables["meta"]["last_change_seq"] = str(seq)
    return tables


def _apply_probe(tables: Tables, data: Mapping[str, Any], seq: int) -> None:
    steps = [{"check": s["check"], "passed": bool(s["passed"]), "detail": s["detail"]} for s in data["steps"]]
    tables["probe_runs"][data["run_id"]] = {
        "probe": data["probe"], "target_kind": data["target_kind"], "endpoint": data["endpoint"],
        "passed": bool(data["passed"]), "started_at": data.get("started_at"), "finished_at": data.get("finished_at"),
        "snapshot_digest": data["snapshot_digest"], "facts_sha256": data.get("facts_sha256"),
        "steps": steps, "transcript_sha256": data.get("transcript_sha256"), "event_seq": seq,
    }
    selected = tables["meta"].get("connection_endpoint") or None
    holds = any(r["passed"] and r["endpoint"] == selected for r in tables["probe_results"].values())
    if not replaces_evidence(selected, holds, data["endpoint"], bool(data["passed"])):
        return
    for step in steps:
        tables["probe_results"][step["check"]] = {
            "passed": step["passed"], "target_kind": data["target_kind"], "endpoint": data["endpoint"],
            "detail": step["detail"], "run_id": data["run_id"], "snapshot_digest": data["snapshot_digest"],
            "tls": bool(data.get("tls")), "credentials_external": bool(data.get("credentials_external")),
            "at": data.get("finished_at"), "event_seq": seq, "fingerprint": data.get("fingerprint"),
        }
    if selects_target(data["probe"]):
        tables["meta"]["connection_endpoint"] = data["endpoint"]


class ReplayFault(ValueError):
    """An event the trail cannot hold where it stands (named by seq)."""

    def __init__(self, seq: int, reason: Reason) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def replay(bodies: Iterable[bytes | str]) -> Tables:
    """The tables the trail's events (in seq order) produce."""
    tables = empty()
    replayable = False  # from here on the trail alone rebuilds the tables
    for body in bodies:
        doc = json.loads(body)
        if doc["kind"] == "store.upgrade" and replayable:
            # An upgrade attests the tables it finds: only once, and only on an older store.
            seq = int(doc["seq"])
            raise ReplayFault(seq, Reason.of("replay.needless_upgrade", seq=seq))
        replayable = replayable or doc["kind"] == "store.upgrade" or (
            doc["kind"] == "store.create" and "kind_counts" in doc["data"])
        tables = apply(tables, doc)
    return tables


# ------------------------------------------------------------------ stored rows


def tables_from_rows(rows: Mapping[str, list[tuple[Any, ...]]]) -> Tables:
    """The stored tables, from rows fetched with each backend's `STORED_QUERIES` columns."""
    t = empty()
    t["meta"] = {k: v for k, v in rows["meta"]}
    for version, saved_at, actor, source, records, kinds in rows["scenarios"]:
        t["scenarios"][str(version)] = {"saved_at": saved_at, "actor": actor, "source": source,
                                        "records": records, "kind_counts": json.loads(kinds)}
    for sid, version, n, digest, kinds, at, actor, seq in rows["snapshots"]:
        t["snapshots"][str(sid)] = {"scenario_version": version, "rows": n, "digest": digest,
                                    "kind_counts": json.loads(kinds), "frozen_at": at, "actor": actor,
                                    "event_seq": seq}
    for check, actor, note, value, digest, countersign, at, seq, key in rows["acceptances"]:
        t["acceptances"][check] = {"actor": actor, "note": note, "value": value, "snapshot_digest": digest,
                                   "countersign": bool(countersign), "at": at, "event_seq": seq, "key": key}
    for (run_id, probe, kind, endpoint, passed, started, finished, digest, facts, steps, transcript,
         seq) in rows["probe_runs"]:
        t["probe_runs"][run_id] = {
            "probe": probe, "target_kind": kind, "endpoint": endpoint, "passed": bool(passed),
            "started_at": started, "finished_at": finished, "snapshot_digest": digest,
            "facts_sha256": sha256_text(facts),
            "steps": [{"check": s.get("check_id"), "passed": bool(s.get("passed")), "detail": s.get("detail")}
                      for s in json.loads(steps)],
            "transcript_sha256": sha256_text(transcript), "event_seq": seq,
        }
    for (check, passed, kind, endpoint, detail, run_id, digest, tls, external, at, seq,
         fingerprint) in rows["probe_results"]:
        t["probe_results"][check] = {
            "passed": bool(passed), "target_kind": kind, "endpoint": endpoint, "detail": detail, "run_id": run_id,
            "snapshot_digest": digest, "tls": bool(tls), "credentials_external": bool(external), "at": at,
            "event_seq": seq, "fingerprint": fingerprint,
        }
    for packet, fmt, destination, digest, at, actor, seq in rows["exports"]:
        t["exports"][str(seq)] = {"packet": packet, "format": fmt, "destination": destination, "digest": digest,
                                  "at": at, "actor": actor}
    return t


# Column lists both backends select, in this order, for `tables_from_rows`.
STORED_COLUMNS = {
    "meta": "key, value",
    "scenarios": "version, saved_at, actor, source, records, kind_counts",
    "snapshots": "id, scenario_version, rows, digest, kind_counts, frozen_at, actor, event_seq",
    "acceptances": "check_id, actor, note, value, snapshot_digest, countersign, at, event_seq, key",
    "probe_runs": "run_id, probe, target_kind, endpoint, passed, started_at, finished_at, snapshot_digest, "
                  "facts, steps, transcript, event_seq",
    "probe_results": "check_id, passed, target_kind, endpoint, detail, run_id, snapshot_digest, tls, "
                     "credentials_external, at, event_seq, fingerprint",
    "exports": "packet, format, destination, digest, at, actor, event_seq",
}


def first_difference(trail: Tables, stored: Tables) -> Reason | None:
    """The first way the stored tables differ from the trail's replay, as a message; None if equal."""
    for table in TABLES:
        want, have = trail.get(table, {}), stored.get(table, {})
        for key in sorted(set(want) | set(have), key=_order):
            row = Msg(_ROW_NAMES[table], {"key": key})
            if key not in want:
                return Reason.of("replay.not_in_trail", row=row)
            if key not in have:
                return Reason.of("replay.missing_from_state", row=row)
            if want[key] != have[key]:
                if isinstance(want[key], dict) and isinstance(have[key], dict):
                    fields = sorted(f for f in set(want[key]) | set(have[key]) if want[key].get(f) != have[key].get(f))
                    return Reason.of("replay.differs_in", row=row, fields=", ".join(fields))
                return Reason.of("replay.differs", row=row)
    return None


def _order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


# ------------------------------------------------------------------ the decision's digest


def state_from_tables(t: Tables, audit_count: int = 0, audit_head: str = "") -> State:
    """What the engine reads, from (replayed or stored) tables: as the stores' load_state builds it."""
    meta = t["meta"]
    latest = max(t["scenarios"], key=int)
    sc = t["scenarios"][latest]
    snapshot = None
    if t["snapshots"]:
        sid = max(t["snapshots"], key=int)
        sn = t["snapshots"][sid]
        snapshot = SnapshotInfo(int(sid), sn["rows"], sn["digest"], sn["frozen_at"], sn["kind_counts"])
    return State(
        store_contract=meta.get("contract", ""),
        target_adapter=meta.get("target_adapter") or None,
        fallback_adapter=meta.get("fallback_adapter") or None,
        scenario=ScenarioInfo(int(latest), sc["saved_at"], sc["records"], sc["kind_counts"]),
        snapshot=snapshot,
        acceptances={c: Acceptance(c, a["actor"], a["at"], a["event_seq"], a["note"], a["value"],
                                   a["snapshot_digest"], a["countersign"], a.get("key"))
                     for c, a in t["acceptances"].items()},
        probes={c: ProbeResult(c, p["passed"], p["target_kind"], p["endpoint"], p["detail"], p["run_id"], p["at"],
                               p["event_seq"], p["snapshot_digest"], p["tls"], p["credentials_external"],
                               p["fingerprint"]) for c, p in t["probe_results"].items()},
        connection_endpoint=meta.get("connection_endpoint") or None,
        last_change_seq=int(meta.get("last_change_seq", "0")),
        last_release_export_seq=int(meta.get("last_release_export_seq", "0")),
        audit_count=audit_count,
        audit_head=audit_head,
        last_save_actor=sc["actor"],
    )


def state_digest(state: State) -> str:
    """SHA-256 of everything the engine reads from the store (not the head itself)."""
    doc = {
        "contract": state.store_contract, "target_adapter": state.target_adapter,
        "fallback_adapter": state.fallback_adapter,
        "scenario": [state.scenario.version, state.scenario.saved_at, state.scenario.records,
                     dict(state.scenario.kind_counts), state.last_save_actor],
        "snapshot": None if state.snapshot is None else [
            state.snapshot.id, state.snapshot.rows, state.snapshot.digest, state.snapshot.at,
            dict(state.snapshot.kind_counts)],
        # The signer's key only when signed, so a demo store's digest is what it always was.
        "acceptances": {c: [a.actor_id, a.at, a.seq, a.note, a.value, a.snapshot_digest, bool(a.countersign),
                            *([a.key] if a.key else [])]
                        for c, a in state.acceptances.items()},
        "probes": {c: [bool(p.passed), p.target_kind, p.endpoint, p.detail, p.run_id, p.at, p.seq,
                       p.snapshot_digest, bool(p.tls), bool(p.credentials_external), p.fingerprint]
                   for c, p in state.probes.items()},
        "connection_endpoint": state.connection_endpoint,
        "last_change_seq": state.last_change_seq,
        "last_release_export_seq": state.last_release_export_seq,
    }
    return str(sha256(_ENCODE(doc).encode("utf-8")).hexdigest())
