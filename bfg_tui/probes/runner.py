"""The probe use case: run the connection wizard or the dry-run against a target, return its record.

Every step runs for real; a failed step stops the probe, and the checks after it are
recorded as not run. The caller (the service) decides who may run it and stores the
returned record (steps, transcript, redacted endpoint) in one audited write; a probe
that may not run raises `Refused` with a message code, which the service records.
Nothing here ever sees a password: targets read credentials from the environment or
pgpass themselves. Nothing here imports the service.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from ..catalog import PROBES
from ..clock import utc_now
from ..errors import Reason, Refused
from ..models import Catalog, State
from ..secrets import scrub
from ..targets import known_secrets, redact_endpoint, target_kind
from .base import ConnectionFacts, Log, SnapshotSource, StepResult, Target

if TYPE_CHECKING:
    from bfg_tui.store.base import ActorContext, ProbeRunRecord, ScenarioStore


class Prober(NamedTuple):
    """Who runs a probe, as the service resolved them: the actor, and every actor's auth claim
    set in catalog order (the connection probe opens a session with the first's, the dry-run
    replays them all)."""

    actor_id: str
    claims: tuple[dict[str, object], ...]


def open_target(target: str, catalog: Catalog, open_store: Callable[[str], Awaitable[ScenarioStore]],
                system: ActorContext) -> Target:
    """The probe target for `target`. A SQLite file target becomes a store of its own, opened
    with `open_store` (location -> awaitable store) and written as `system` (an actor context)."""
    kind = target_kind(target)
    if kind == "postgresql":
        from .postgres_target import PostgresTarget

        return PostgresTarget(target, catalog)
    from .sqlite_target import SQLiteFileTarget

    return SQLiteFileTarget(target, catalog.environment, catalog, open_store=open_store, system=system)


def replay_id_for(digest: str, endpoint: str) -> str:
    # Deterministic: re-running the same snapshot into the same target reuses the id,
    # so the target can refuse duplicate rows.
    return "rpl-" + hashlib.sha256(f"{digest}|{endpoint}".encode()).hexdigest()[:12]


class _Transcript:
    def __init__(self, sink: Callable[[str], None]) -> None:
        self.lines: list[str] = []
        self._t0 = time.perf_counter()
        self._sink = sink

    def __call__(self, line: str) -> None:
        stamped = f"[{time.perf_counter() - self._t0:7.3f}s] {line}"
        self.lines.append(stamped)
        self._sink(stamped)


def new_target_reason(state: State, endpoint: str) -> Reason | None:
    """Why a connection probe of `endpoint` needs --new-target (None when it does not).

    Only a selected target with passing evidence is guarded: that evidence is what a
    mistyped path would otherwise push out of the figures.
    """
    selected = state.connection_endpoint
    holds = any(r.passed and r.endpoint == selected for r in state.probes.values())
    if selected and selected != endpoint and holds:
        return Reason.of("probe.new_target", endpoint=endpoint, selected=selected)
    return None


def probe_name(probe: str) -> str:
    """`dry-run` as `dry_run`; refused (with its code) when it names no probe."""
    name = probe.replace("-", "_")
    if name not in PROBES:
        raise _refused(name, Reason.of("probe.unknown", probe=name))
    return name


def _refused(probe: str, reason: str) -> Refused:
    return Refused(reason, action="probe.run", subject=f"probe:{probe}")


async def run_probe(store: ScenarioStore, target: str, prober: Prober, sink: Log, *, probe: str, catalog: Catalog,
                    open_target: Callable[[str], Target], new_target: bool = False) -> ProbeRunRecord:
    """Run `probe` against `target` for real and return its ProbeRunRecord (not yet stored).

    `store` is the console's own: read for its state and snapshot, and to refuse a target that
    is the store itself; never written here. `open_target` makes the Target from the string.
    Raises Refused (action probe.run, a message code) when the probe may not run.
    """
    from bfg_tui.store.base import ProbeRunRecord, StepRecord

    from .own_store import own_store_reason

    probe = probe_name(probe)
    try:
        endpoint = redact_endpoint(target)
        kind = target_kind(target)
    except ValueError as exc:
        raise _refused(probe, Reason.of("probe.bad_target", detail=Reason.said(exc.args[0]))) from None
    own = await own_store_reason(store, target, kind)
    if own:  # a replay into the store that reports on it would pass and pollute its trail
        raise _refused(probe, own)

    state = await store.load_state()
    source: SnapshotSource | None = None
    if probe == "connection" and not new_target:
        reason = new_target_reason(state, endpoint)
        if reason:
            raise _refused(probe, reason)
    if probe == "dry_run":
        reason = _dry_run_blocker(state, endpoint, catalog.probe_checks("connection"))
        if reason:
            raise _refused(probe, reason)
        snap = state.snapshot
        assert snap is not None
        source = SnapshotSource(
            snapshot_id=snap.id, digest=snap.digest, rows=snap.rows, kind_counts=snap.kind_counts,
            tenant_id=catalog.tenant_id, session=catalog.session,
            batches=lambda: store.snapshot_batches(snap.id), runs=lambda: store.snapshot_runs(snap.id),
        )

    log = _Transcript(sink)
    started = utc_now()
    run_id = "run-" + uuid.uuid4().hex[:12]
    facts = ConnectionFacts()
    tgt = open_target(target)
    log(f"{catalog.packet(probe).schema} run {run_id} against {endpoint} by {prober.actor_id}")
    try:
        if probe == "connection":
            steps = await _connection_steps(catalog, prober, tgt, log, facts)
            checks: tuple[str, ...] = catalog.probe_checks("connection")
        else:
            assert source is not None
            steps = await _dry_run_steps(catalog, prober, tgt, log, source, endpoint)
            checks = catalog.probe_checks("dry_run")
    finally:
        await tgt.close()
    # Every target's details pass the one scrubber here: a driver's error text can quote anything.
    known = known_secrets(target)
    steps = [replace(s, detail=scrub(s.detail, known, limit=None)) for s in _fill_not_run(steps, checks)]
    for step in steps:
        log(f"{step.check_id}: {'PASS' if step.passed else 'FAIL'} — {step.detail}")
    return ProbeRunRecord(
        run_id=run_id, probe=probe, target_kind=kind, endpoint=endpoint, started_at=started,
        finished_at=utc_now(), steps=tuple(StepRecord(s.check_id, s.passed, s.detail) for s in steps),
        transcript=tuple(log.lines), snapshot_digest=source.digest if source else None,
        tls=facts.tls, credentials_external=facts.credentials_external,
        facts={"fingerprint": facts.fingerprint, "server": facts.server,
               "replay_id": replay_id_for(source.digest, endpoint) if source else None},
    )


def _dry_run_blocker(state: State, endpoint: str, connection_checks: tuple[str, ...]) -> Reason | None:
    if state.snapshot is None:
        return Reason.of("probe.dry_run.needs_snapshot")
    passed = [state.probes.get(c) for c in connection_checks]
    if not all(p is not None and p.passed for p in passed):
        return Reason.of("probe.dry_run.needs_connection")
    if any(p.endpoint != endpoint for p in passed if p is not None):
        other = passed[0].endpoint  # type: ignore[union-attr]
        return Reason.of("probe.dry_run.other_target", endpoint=other)
    return None


def _stopped(steps: list[StepResult]) -> bool:
    """The last step failed: the probe stops there."""
    return not steps[-1].passed


def _fill_not_run(steps: list[StepResult], checks: tuple[str, ...]) -> list[StepResult]:
    done = {s.check_id for s in steps}
    first_fail = next((s for s in steps if not s.passed), None)
    why = f"not run: {first_fail.check_id} failed" if first_fail else "not run"
    return steps + [StepResult(c, False, why) for c in checks if c not in done]


async def _connection_steps(catalog: Catalog, prober: Prober, tgt: Target, log: Log,
                            facts: ConnectionFacts) -> list[StepResult]:
    claims = prober.claims[0]
    steps = [await tgt.reach(log)]
    if _stopped(steps):
        return steps
    steps.append(await tgt.tls(log, facts))
    if _stopped(steps):
        return steps
    steps.append(await tgt.rbac_session(log, catalog.tenant_id, claims))
    if _stopped(steps):
        return steps
    steps.append(await tgt.write_probe(log))
    return steps


async def _recompute(source: SnapshotSource) -> tuple[int, str]:
    from ..canonical import SnapshotHasher

    hasher = SnapshotHasher(session=source.session, tenant=source.tenant_id)
    batches: AsyncIterator[list[tuple[str, str, bytes]]] = source.batches()
    async for batch in batches:
        hasher.add_many(body for _k, _i, body in batch)
    return hasher.rows, hasher.hexdigest()


async def _dry_run_steps(catalog: Catalog, prober: Prober, tgt: Target, log: Log, source: SnapshotSource,
                         endpoint: str) -> list[StepResult]:
    rows, digest = await _recompute(source)
    ok = digest == source.digest and rows == source.rows
    log(f"exported snapshot {source.snapshot_id}: {rows} records, recomputed {'bfg-' + digest[:8]}")
    steps = [StepResult("dryrun.snapshot_export", ok, f"{rows} records, checksum bfg-{digest[:8]} recomputed equal"
                        if ok else f"checksum mismatch: stored bfg-{source.digest[:8]}, recomputed bfg-{digest[:8]}")]
    if not ok:
        return steps
    steps.append(await tgt.schema_map(log, catalog.kind_tables, sorted(source.kind_counts)))
    if _stopped(steps):
        return steps
    steps.append(await tgt.replay_claims(log, catalog.tenant_id, list(prober.claims)))
    if _stopped(steps):
        return steps
    replay_id = replay_id_for(source.digest, endpoint)
    outcome = await tgt.replay(log, source, replay_id)
    equal = outcome.readback_digest == source.digest and outcome.rows_written == source.rows
    same = equal and outcome.passed and outcome.duplicate_rows == 0
    if not outcome.readback_digest:
        detail = outcome.detail or "replay failed"
    elif not equal:
        detail = f"read-back checksum bfg-{outcome.readback_digest[:8]} differs from bfg-{source.digest[:8]}"
    elif outcome.duplicate_rows:
        detail = f"{outcome.duplicate_rows} duplicate rows in the target for this snapshot"
    else:
        detail = f"{outcome.rows_written} records replayed and read back, checksum bfg-{outcome.readback_digest[:8]} equal"
    if outcome.detail and outcome.readback_digest:
        detail += f"; {outcome.detail}"
    steps.append(StepResult("dryrun.adapter_replay", same, detail))
    if not same:
        return steps
    # The file-local fallback must still read back to the same checksum after the replay.
    _rows, fallback = await _recompute(source)
    target_part = await tgt.rollback_checkpoint(log, source, replay_id)
    fallback_ok = fallback == source.digest
    log(f"file-local fallback readable, checksum bfg-{fallback[:8]} {'equal' if fallback_ok else 'DIFFERS'}")
    steps.append(StepResult(
        "dryrun.rollback_checkpoint", fallback_ok and target_part.passed,
        f"file-local fallback verified (bfg-{fallback[:8]}); {target_part.detail}",
    ))
    return steps
