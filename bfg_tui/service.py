"""The console's application service: every action goes through here.

It authorises (rbac), refuses with a recorded audit event, calls the store, and
derives figures with the engine. Screens and the CLI both call it; it imports no UI.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from . import rbac
from .canonical import record_json
from .catalog import default_catalog
from .clock import utc_now
from .engine import Evaluation, evaluate
from .errors import AlreadyDone, BfgError, Reason, Refused, StoreError
from .models import Actor, Catalog, State
from .paths import default_db, is_postgres
from .runbook import shipped_lint

SYSTEM_ACTOR = "system"


def actor_context(actor_id: str) -> Any:
    from bfg_tui.store.base import ActorContext

    ssh = os.environ.get("SSH_CONNECTION", "")
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):
        os_user = str(os.getuid())
    # Keep only the client address and port of SSH_CONNECTION; the rest is ours.
    ssh_client = " ".join(ssh.split()[:2]) if ssh else ""
    return ActorContext(actor_id=actor_id[:64], os_user=os_user, ssh=ssh_client)


def _seed_payload(catalog: Catalog) -> Any:
    from bfg_tui.store.base import ScenarioPayload

    from .scenario import seed_records

    rows = [(k, i, record_json(k, i, d)) for k, i, d in seed_records(catalog)]
    return ScenarioPayload(rows=rows, source="seed")


async def open_store(location: str | None, catalog: Catalog, *, create: bool = True) -> Any:
    """Open (creating and seeding if new) the store at `location`."""
    location = location or default_db()
    if is_postgres(location):
        try:
            from bfg_tui.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(f"PostgreSQL store unavailable: {exc}") from None
        return await PostgresStore.open(location, _store_init(catalog) if create else None, utc_now,
                                        tenant=catalog.tenant_id)
    from bfg_tui.store.sqlite import SQLiteStore

    return await SQLiteStore.open(Path(location), _store_init(catalog) if create else None, utc_now)


def _store_init(catalog: Catalog) -> Any:
    from bfg_tui.store.sqlite import StoreInit

    return StoreInit(
        target_adapter=catalog.target_adapter,
        fallback_adapter=catalog.fallback_adapter,
        seed=lambda: _seed_payload(catalog),
        system=actor_context(SYSTEM_ACTOR),
    )


class Outcome(NamedTuple):
    """What an action did, for the CLI and the screens to show.

    `code` and `params` name the message so a screen can say it in its language
    (`bfg_tui.i18n.message_text`); `message` is the English the CLI prints.
    """

    message: str
    seq: int = 0
    data: dict[str, Any] | None = None
    code: str = ""
    params: dict[str, Any] | None = None


def already_done(done: AlreadyDone) -> Outcome:
    """A retry with the same idempotency key: the first outcome stands, nothing changed."""
    return Outcome(f"already done at event {done.seq} (idempotency key '{done.key}'); nothing changed", done.seq,
                   code="outcome.already_done", params={"seq": done.seq, "key": done.key})


class Console:
    def __init__(self, store: Any, catalog: Catalog | None = None, clock: Callable[[], str] = utc_now) -> None:
        self.store = store
        self.catalog = catalog or default_catalog()
        self.clock = clock

    @classmethod
    async def open(cls, location: str | None = None, catalog: Catalog | None = None) -> Console:
        catalog = catalog or default_catalog()
        return cls(await open_store(location, catalog), catalog)

    async def close(self) -> None:
        await self.store.close()

    # ------------------------------------------------------------- reading

    async def state(self) -> State:
        state = await self.store.load_state()
        return state._replace(runbook_lint_ok=shipped_lint().ok)

    async def evaluate(self, lang: str = "en") -> tuple[State, Evaluation]:
        state = await self.state()
        return state, evaluate(self.catalog, state, lang)

    # --------------------------------------------------------- refusing

    async def refuse(self, action: str, subject: str, reason: str, actor_id: str) -> Refused:
        """Record the refusal as an audit event and return the error to raise."""
        ctx = actor_context(actor_id or "anonymous")
        # A read-only store cannot record it; the refusal still stands.
        with contextlib.suppress(StoreError):
            await self.store.record_refusal(action, subject, str(reason), ctx)
        return Refused(reason, action=action, subject=subject)  # a Reason's code and params go along

    async def actor(self, actor_id: str | None, action: str, subject: str = "") -> Actor:
        found = rbac.resolve_actor(self.catalog, actor_id)
        if isinstance(found, str):
            raise await self.refuse(action, subject, found, actor_id or "anonymous")
        return found

    async def require(self, actor_id: str | None, action: str, subject: str = "") -> Actor:
        actor = await self.actor(actor_id, action, subject)
        reason = rbac.may(self.catalog, actor, action)
        if reason:
            raise await self.refuse(action, subject, reason, actor.id)
        return actor

    # --------------------------------------------------------- actions

    async def save_scenario(
        self, actor_id: str | None, *, source_file: Path | None = None, scale: int | None = None,
        idem: str | None = None,
    ) -> Outcome:
        from bfg_tui.store.base import ScenarioPayload

        from .scenario import DEMO_ORDERS, demo_rows

        actor = await self.require(actor_id, "scenario.save", "scenario")
        if source_file is not None:
            from .scenario_io import load_scenario_file

            try:
                records = load_scenario_file(source_file, self.catalog)
            except BfgError as exc:
                raise await self.refuse("scenario.save", "scenario", exc.reason, actor.id) from None
            rows: Any = ((k, i, record_json(k, i, d, checked=False)) for k, i, d in records)
            source = f"file:{source_file.name}"
            origin = f"file:{source_file.resolve()}"
        else:
            if scale is not None and scale < 1:
                reason = Reason("--scale must be at least 1", "scenario.scale_min")
                raise await self.refuse("scenario.save", "scenario", reason, actor.id)
            rows = demo_rows(self.catalog, scale or DEMO_ORDERS)
            source = "demo" if scale is None else f"demo:scale={scale}"
            origin = source
        try:
            seq = await self.store.save_scenario(ScenarioPayload(rows=rows, source=source, origin=origin),
                                                 actor_context(actor.id), idem)
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("scenario.save", "scenario", exc.reason, actor.id) from None
        state = await self.state()
        records = state.scenario.records
        return Outcome(f"scenario saved: {records} records ({source})", seq, code="outcome.scenario_saved",
                       params={"records": records, "source": source})

    async def freeze(self, actor_id: str | None) -> Outcome:
        actor = await self.require(actor_id, "snapshot.freeze", "snapshot")
        try:
            snap = await self.store.freeze_snapshot(
                actor_context(actor.id), self.catalog.session, self.catalog.tenant_id
            )
        except Refused as exc:
            raise await self.refuse("snapshot.freeze", "snapshot", exc.reason, actor.id) from None
        data = {"rows": snap.rows, "checksum": snap.checksum, "digest": snap.digest}
        return Outcome(f"snapshot frozen: {snap.rows} records, checksum {snap.checksum} ({snap.digest})",
                       data=data, code="outcome.snapshot_frozen", params=dict(data))

    async def accept(
        self, actor_id: str | None, check_id: str, *, note: str = "", value: str | None = None,
        idem: str | None = None,
    ) -> Outcome:
        actor = await self.actor(actor_id, "check.accept", check_id)
        grant = rbac.may_sign(self.catalog, actor, check_id, "accept")
        if isinstance(grant, str):
            raise await self.refuse("check.accept", check_id, grant, actor.id)
        check = self.catalog.checks[check_id]
        value = value.strip() if value else None
        if check.value is not None and not value:
            reason = Reason(f"{check_id} needs a chosen value (--value), e.g. '{check.value.example}'",
                            "check.needs_value", check=check_id, example=check.value.example)
            raise await self.refuse("check.accept", check_id, reason, actor.id)
        state = await self.state()
        digest = None
        if check.binds_snapshot:
            if state.snapshot is None:
                reason = Reason(f"{check_id} binds to the snapshot: freeze one first (`bfg-tui snapshot freeze`)",
                                "check.needs_snapshot", check=check_id)
                raise await self.refuse("check.accept", check_id, reason, actor.id)
            digest = state.snapshot.digest
        current = state.acceptances.get(check_id)
        if (
            current is not None and idem is None and current.actor_id == actor.id and current.note == note
            and current.value == value and current.snapshot_digest == digest
        ):
            # A retried command must never double an acceptance.
            return Outcome(f"{check_id} already accepted by {actor.id}; nothing changed", current.seq,
                           code="outcome.already_accepted", params={"check": check_id, "actor": actor.id})
        try:
            seq = await self.store.accept(
                check_id, actor_context(actor.id), note=note, value=value, snapshot_digest=digest,
                countersign=grant.countersign, idem=idem,
            )
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("check.accept", check_id, exc.reason, actor.id) from None
        how = "countersigned" if grant.countersign else "accepted"
        return Outcome(f"{check_id} {how} by {actor.id}", seq, code=f"outcome.{how}",
                       params={"check": check_id, "actor": actor.id})

    async def revoke(self, actor_id: str | None, check_id: str, *, note: str = "", idem: str | None = None) -> Outcome:
        actor = await self.actor(actor_id, "check.revoke", check_id)
        grant = rbac.may_sign(self.catalog, actor, check_id, "revoke")
        if isinstance(grant, str):
            raise await self.refuse("check.revoke", check_id, grant, actor.id)
        try:
            seq = await self.store.revoke(check_id, actor_context(actor.id), note=note, idem=idem)
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("check.revoke", check_id, exc.reason, actor.id) from None
        return Outcome(f"{check_id} revoked by {actor.id}", seq, code="outcome.revoked",
                       params={"check": check_id, "actor": actor.id})

    async def switch_actor(self, from_id: str, to_id: str) -> Outcome:
        """Demo mode only: switching who acts is itself an audited action."""
        target = await self.actor(to_id, "session.switch_actor", to_id)
        seq = await self.store.record_event(
            "session.switch_actor", {"from": from_id, "to": target.id, "subject": f"actor:{target.id}"},
            actor_context(from_id or target.id),
        )
        return Outcome(f"now acting as {target.id}", seq, code="outcome.acting_as", params={"actor": target.id})

    async def export(
        self, actor_id: str | None, packet: str, fmt: str = "text", destination: str = "stdout",
        *, write: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Render a packet, hand it to `write`, and record the export only once that succeeded.

        `write` gets the text (newline-terminated) and raises a BfgError when the bytes did not
        arrive (bfg_tui.safe_write); then nothing is recorded but a `packet.export_failed` event,
        which no check counts. Without `write` the caller keeps the text in memory (tests).
        """
        from .packets import export_text, packet_id

        try:
            pid = packet_id(packet)
        except ValueError as exc:
            raise await self.refuse("packet.export", packet[:64], str(exc), actor_id or "anonymous") from None
        actor = await self.require(actor_id, "packet.export", f"packet:{pid}")
        if getattr(self.store, "read_only", False):
            raise StoreError(f"{self.store.path}: database is read-only; an export must be audited, so nothing was exported")
        state, ev = await self.evaluate()
        try:
            text = export_text(pid, fmt, self.catalog, state, ev)
        except Refused as exc:
            raise await self.refuse("packet.export", f"packet:{pid}", exc.reason, actor.id) from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if write is not None:
            try:
                write(text if text.endswith("\n") else text + "\n")
            except BfgError as exc:
                await self._export_failed(pid, fmt, destination, exc.reason, actor.id)
                raise
        seq = await self.store.record_export(pid, fmt, destination, digest, actor_context(actor.id))
        return Outcome(text, seq, {"packet": pid, "sha256": digest})

    async def _export_failed(self, pid: str, fmt: str, destination: str, reason: str, actor_id: str) -> None:
        """Note the failed attempt; it is not a `packet.export`, so nothing counts it as done."""
        data = {"packet": pid, "format": fmt, "destination": destination, "reason": str(reason)[:512],
                "subject": f"packet:{pid}"}
        # The store may sit on the same full disk: the failure itself is what the user sees.
        with contextlib.suppress(BfgError):
            await self.store.record_event("packet.export_failed", data, actor_context(actor_id))

    async def probe(self, actor_id: str | None, probe: str, target: str, log: Callable[[str], None] | None = None,
                    *, new_target: bool = False) -> Any:
        """Run the connection or dry-run probe for real; returns the stored run record.

        A connection probe of a target other than the selected one needs `new_target`
        (the console asks first), so a mistyped path is never probed by accident.
        """
        from .probes.runner import run_probe

        actor = await self.require(actor_id, "probe.run", f"probe:{probe}")
        return await run_probe(self, actor, probe, target, log or (lambda _line: None), new_target=new_target)
