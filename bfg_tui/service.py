"""The console's application service: every action goes through here.

It authorises (rbac), refuses with a recorded audit event, calls the store, and
derives figures with the engine. Screens and the CLI both call it; it imports no UI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import bookkeeping, door
from .errors import AlreadyDone, BfgError, Reason, Refused, StoreError
from .models import P_ACCEPT, P_COUNTERSIGN, Actor, Catalog, State
from .paths import default_db
from .targets import is_libpq_keyvalue, is_postgres

if TYPE_CHECKING:
    from bfg_tui.store.base import ScenarioStore

    from .identity.origin import Origin
    from .models import Evaluation

# Everything else is imported where it is used: `bfg-tui status` reads through this module,
# and its start-up pays for each module imported here (RBAC and hashing it does not need).

SYSTEM_ACTOR = "system"
MAX_REASON = 500  # characters of a refusal reason kept in the trail


def actor_context(actor_id: str, signer: Any = None, *, unsigned: bool = False, origin: Origin | None = None) -> Any:
    """Who acts and from where; with `signer`, proven by that SSH key (the event is signed).

    `unsigned` marks an event that a signed store records without a signature: a refusal
    of an actor who holds no key. `origin` is the session's, read once at the edge (a caller
    outside a session, a test, gets the environment's).
    """
    from bfg_tui.store.base import ActorContext

    from .identity.origin import Origin

    where = origin or Origin.from_env()
    if signer is not None:
        return ActorContext(actor_id=actor_id[:64], os_user=where.os_user, ssh=where.ssh, auth_mode="sshsig",
                            self_asserted=False, key=signer.key.fingerprint, signer=signer)
    if unsigned:
        return ActorContext(actor_id=actor_id[:64], os_user=where.os_user, ssh=where.ssh, auth_mode="unsigned")
    return ActorContext(actor_id=actor_id[:64], os_user=where.os_user, ssh=where.ssh)


def _seed_payload(catalog: Catalog) -> Any:
    from bfg_tui.store.base import ScenarioPayload

    from .canonical import record_json
    from .scenario import seed_records

    rows = [(k, i, record_json(k, i, d)) for k, i, d in seed_records(catalog)]
    return ScenarioPayload(rows=rows, source="seed")


async def open_store(location: str | None, catalog: Catalog, *, create: bool = True, adopt: bool = False,
                     origin: Origin | None = None) -> ScenarioStore:
    """Open (creating and seeding if new) the store at `location`; `origin` records who seeded it.

    `adopt`: a SQLite probe target the connection probe left empty is made a store in place.
    """
    from .clock import utc_now

    location = location or default_db()
    if is_libpq_keyvalue(location):
        raise StoreError(Reason.of("store.keyvalue_refused"))  # never echoed: it may hold a password
    if is_postgres(location):
        try:
            from bfg_tui.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(Reason.of("store.postgres_unavailable", error=str(exc))) from None
        return await PostgresStore.open(location, _store_init(catalog, origin) if create else None, utc_now,
                                        tenant=catalog.tenant_id)
    from bfg_tui.store.sqlite import SQLiteStore

    return await SQLiteStore.open(Path(location), _store_init(catalog, origin) if create else None, utc_now,
                                  adopt=adopt)


def _store_init(catalog: Catalog, origin: Origin | None = None) -> Any:
    from bfg_tui.store.sqlite import StoreInit

    return StoreInit(
        target_adapter=catalog.target_adapter,
        fallback_adapter=catalog.fallback_adapter,
        seed=lambda: _seed_payload(catalog),
        system=actor_context(SYSTEM_ACTOR, origin=origin),
    )


# ------------------------------------------------ the store's refusals, worded here
def store_reason(exc: Refused) -> str:
    """The refusal a store write raised, in words: the store names it by a code and its params,
    the catalog says it (`msg.<code>`, with the command that helps)."""
    from .i18n import known

    if not exc.code or not known(f"msg.{exc.code}"):
        return exc.reason
    return Reason.of(exc.code, **exc.params)


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


def outcome(code: str, seq: int = 0, data: dict[str, Any] | None = None, /, **params: Any) -> Outcome:
    """The outcome `msg.<code>`: its English for the CLI and the trail, its code for a screen's language."""
    from .i18n import t

    return Outcome(t(f"msg.{code}", "en", **params), seq, data, code, params)


def already_done(done: AlreadyDone) -> Outcome:
    """A retry with the same idempotency key: the first outcome stands, nothing changed."""
    return outcome("outcome.already_done", done.seq, seq=done.seq, key=done.key)


def _reason(exc: Refused) -> str:
    """The reason a Refused carries, with its message code again when it has one."""
    return Reason(exc.reason, exc.code, **(exc.params or {})) if exc.code else exc.reason


class Verdict(NamedTuple):
    """Whether an actor may do an action (`Console.can`): the reason when not, and whether
    accepting or revoking would be a countersignature."""

    ok: bool
    reason: str | None = None
    countersign: bool = False


class Status(NamedTuple):
    """What `bfg-tui status` prints: its document, and whether go/no-go is blocked."""

    document: dict[str, Any]
    blocked: bool


def finished_state(state: State) -> State:
    """A state as the store read it, completed with what only the code knows (the runbook's lint)."""
    from .runbook import shipped_lint_ok

    return state._replace(runbook_lint_ok=shipped_lint_ok())


def status_of(catalog: Catalog, state: State, lang: str = "en") -> Status:
    """The status document of a (finished) state."""
    from .assess import assess
    from .engine import status_document
    from .i18n import render

    doc = status_document(catalog, state, assess(catalog, state), lambda said: render(said, lang))
    blocked = doc["decisions"]["go_no_go"] != catalog.go_no_go.ready  # type: ignore[index]
    return Status(doc, blocked)


def read_state_now(location: str | None) -> State | None:
    """The finished state of an existing SQLite store, read with plain sqlite3 (no asyncio, no write path).

    None when this does not apply (PostgreSQL, no store yet, one that needs a migration):
    then `Console.open` does the work. Raises StateMismatch when the state is not the trail's.
    """
    location = location or default_db()
    if is_postgres(location) or is_libpq_keyvalue(location):
        return None
    from bfg_tui.store.sqlite_plans import read_state_sync

    state = read_state_sync(Path(location))
    return None if state is None else finished_state(state)


def read_status_now(location: str | None, lang: str = "en") -> Status | None:
    """`status` of an existing SQLite store without opening a Console (start-up); None as `read_state_now`."""
    from .catalog import default_catalog

    state = read_state_now(location)
    return None if state is None else status_of(default_catalog(), state, lang)


def store_exists(location: str | None) -> bool:
    """Is there a store at `location` already (a PostgreSQL location always counts as one)?"""
    location = location or default_db()
    if is_postgres(location):
        return True
    from bfg_tui.store.sqlite_files import existing_store

    return existing_store(Path(location))


# ------------------------------------------------------------- the shared store's administration


def _postgres_admin() -> tuple[Any, Any]:
    try:
        from bfg_tui.store import postgres, postgres_admin
    except ImportError as exc:
        raise StoreError(Reason.of("store.postgres_unavailable", error=str(exc))) from None
    return postgres, postgres_admin


async def install_store(location: str) -> tuple[str, int, int]:
    """Create or upgrade the shared store's schema (the migration login): (schema, version before, after)."""
    postgres, _admin = _postgres_admin()
    before, after = await postgres.install(location)
    return postgres.parse_location(location).schema, before, after


async def add_login(location: str, actor_id: str, login: str, tenant: str) -> Any:
    """Map a PostgreSQL login to an actor in a tenant (the migration login)."""
    _postgres, admin = _postgres_admin()
    return await admin.add_login(location, actor_id, login, tenant)


async def list_logins(location: str) -> list[Any]:
    """The login → (tenant, actor) mappings of the shared store."""
    _postgres, admin = _postgres_admin()
    return list(await admin.list_logins(location))


class Console:
    def __init__(self, store: ScenarioStore, catalog: Catalog | None = None, clock: Callable[[], str] | None = None,
                 identity: Any = None) -> None:
        from .catalog import default_catalog
        from .clock import utc_now
        from .identity.gate import Identity

        self.store = store
        self.catalog = catalog or default_catalog()
        self.clock = clock or utc_now
        self.identity: Identity = identity or Identity()

    @classmethod
    async def open(cls, location: str | None = None, catalog: Catalog | None = None, *,
                   key_file: str | None = None, create: bool = True, identity: Any = None) -> Console:
        """Open the console's store; `create=False` (the read verbs) never makes one.

        `identity` is the session's, resolved once at the edge (the CLI's entry, the console's
        start); without it, it is read from the environment now, once, with `key_file`.
        """
        from .catalog import default_catalog
        from .identity.gate import Identity

        catalog = catalog or default_catalog()
        identity = identity or Identity(key_file)
        return cls(await open_store(location, catalog, create=create, origin=identity.origin), catalog,
                   identity=identity)

    async def close(self) -> None:
        await self.identity.close()
        await self.store.close()

    # ------------------------------------------------------------- the store's seam

    @property
    def login(self) -> str:
        """On the shared PostgreSQL store: the connected login ("" on SQLite)."""
        return self.store.login

    async def data_version(self) -> int:
        """Moves whenever anyone commits to the store: the console's live refresh polls it."""
        return await self.store.data_version()

    # ------------------------------------------------------------- identity

    async def context(self, actor: Actor, action: str, subject: str = "") -> Any:
        """The actor context a write is made with: in a signed store, signed with the actor's key or refused."""
        await self.identity.refresh(self.store)
        if not self.identity.roster.signed:
            return self.acting(actor.id)
        signer = await self.identity.signer_for(actor.id)
        if signer is None:
            from .identity.gate import no_key_reason

            raise await self.refuse(action, subject, no_key_reason(actor.id, self.identity.origin), actor.id)
        return self.acting(actor.id, signer)

    def acting(self, actor_id: str, signer: Any = None, *, unsigned: bool = False) -> Any:
        """The actor context of this session's origin (read once, when the session began)."""
        return actor_context(actor_id, signer, unsigned=unsigned, origin=self.identity.origin)

    async def key_actors(self) -> list[str] | None:
        """In a signed store, the actors whose keys this session holds; None in a demo store."""
        await self.identity.refresh(self.store)
        return await self.identity.key_actors() if self.identity.roster.signed else None

    # ------------------------------------------------------------- reading

    async def state(self) -> State:
        """The store's state as the engine reads it."""
        return finished_state(await self.store.load_state())

    async def evaluate(self) -> tuple[State, Evaluation]:
        """The state and the engine's evaluation of it, with the recommended action."""
        from .assess import assess

        state = await self.state()
        return state, assess(self.catalog, state)

    async def status(self, lang: str = "en") -> Status:
        """The `status` document (gates, decisions, recommended action) and whether go/no-go is blocked."""
        return status_of(self.catalog, await self.state(), lang)

    @property
    def store_path(self) -> Path | None:
        """The SQLite store's file; None on the shared PostgreSQL store."""
        path = self.store.path
        return path if isinstance(path, Path) else None

    async def audit_page(self, *, offset: int = 0, limit: int = 100, text: str = "") -> list[Any]:
        """Audit events, newest first; `text` filters on kind, actor or subject."""
        return list(await self.store.audit_page(offset=offset, limit=limit, text=text))

    async def audit_count(self, text: str = "") -> int:
        """How many audit events match `text` (all of them when empty)."""
        return int(await self.store.audit_count(text))

    async def verify_audit(self) -> Any:
        """Recompute the hash chain and the state's replay: ok, or the first bad event and why."""
        return await self.store.audit_verify()

    async def check_history(self, check_id: str, limit: int = 20) -> list[Any]:
        """The events about one check, newest first (a probe check's are its probe's runs)."""
        check = self.catalog.checks.get(check_id)
        subject = f"probe:{check.probe}" if check is not None and check.kind == "probe" else check_id
        return list(await self.store.check_history(subject, limit))

    async def probe_run(self, run_id: str) -> Any:
        """One stored probe run (steps, transcript, endpoint), or None."""
        return await self.store.probe_run(run_id)

    async def latest_probe_runs(self, limit: int = 20) -> list[tuple[str, str, str, bool, str]]:
        """The latest probe runs, newest first: (run id, probe, endpoint, passed, finished at)."""
        return list(await self.store.latest_probe_runs(limit))

    def packet_preview(self, packet: str, state: State, ev: Evaluation, fmt: str = "text") -> str:
        """A packet rendered from an evaluated state, for the screen (an export goes through `export`)."""
        from .packets import build_packet, packet_id, render

        return render(build_packet(packet_id(packet), self.catalog, state, ev), fmt)  # type: ignore[arg-type]

    # ------------------------------------------------------------- who may

    def find_actor(self, actor_id: str | None) -> Actor | str:
        """The actor with this id, or the one-line reason there is none."""
        from . import rbac

        return rbac.resolve_actor(self.catalog, actor_id)

    def can(self, actor_id: str | None, action: str, check_id: str | None = None) -> Verdict:
        """May `actor_id` do `action` (on `check_id` for check.accept / check.revoke)? Records nothing.

        For greying out keys and choosing a form; the action itself decides again, and records a refusal.
        """
        from . import rbac

        actor = rbac.resolve_actor(self.catalog, actor_id)
        if isinstance(actor, str):
            return Verdict(False, actor)
        if action in ("check.accept", "check.revoke"):
            verb = action.split(".")[1]
            if check_id is None:  # may this actor sign checks at all: the reason a read-only role gets
                if P_ACCEPT in rbac.permissions(self.catalog, actor):
                    return Verdict(True, None)
                check_id = next(c.id for c in self.catalog.checks.values() if c.kind == "owner")
            grant = rbac.may_sign(self.catalog, actor, check_id, verb)
            if isinstance(grant, str):
                return Verdict(False, grant)
            return Verdict(True, None, grant.countersign)
        reason = rbac.may(self.catalog, actor, action)
        return Verdict(reason is None, reason)

    def permissions(self, actor_id: str) -> tuple[str, ...]:
        """The permissions of an actor's role (none for an unknown actor)."""
        from . import rbac

        actor = self.catalog.actor(actor_id)
        return rbac.permissions(self.catalog, actor) if actor else ()

    def claims(self, actor_id: str) -> dict[str, object]:
        """The auth claim set an actor becomes under OIDC/RBAC (empty for an unknown actor)."""
        from . import rbac

        actor = self.catalog.actor(actor_id)
        return rbac.claims(self.catalog, actor) if actor else {}

    # ------------------------------------------------------------- what applies to a check

    def applies(self, action: str, check_id: str | None, state: State) -> Reason | None:
        """Why `action` cannot apply to `check_id` as `state` stands (None: it can, or it is not
        about a check), in the words pressing its key gives. Records nothing: beside `can`, for
        dimming keys; the action itself still decides, and refuses.
        """
        check = self.catalog.checks.get(check_id) if check_id else None
        if check is None:
            return None
        if action == "check.revoke" and check.id not in state.acceptances:
            return Reason.of("check.not_accepted", check=check.id)
        if action == "probe.run" and not (check.kind == "probe" and check.probe):
            return Reason.of("check.not_probe", check=check.id)
        return None

    # --------------------------------------------------------- refusing

    @property
    def login_actor(self) -> str | None:
        """On the shared PostgreSQL store: the actor the connected login is mapped to."""
        return self.store.login_actor

    async def refuse(self, action: str, subject: str, reason: str, actor_id: str) -> Refused:
        """Record the refusal as an audit event and return the error to raise.

        The subject and actor may be what the door just refused: they are recorded made
        visible and clipped, never raw (and so is a reason that quotes them).
        """
        # On the shared store the login's own actor is who acted (the database checks it).
        actor_id = self.login_actor or actor_id
        recorded_actor = door.recorded(actor_id or "anonymous")
        subject = door.recorded(subject)
        safe = door.recorded(reason, MAX_REASON)
        if safe != reason:
            reason = safe  # a plain string now: what its message id would show quoted raw text
        ctx = self.acting(recorded_actor)
        with contextlib.suppress(StoreError):
            await self.identity.refresh(self.store)
        if self.identity.roster.signed:
            # Signed when the actor's key is here; otherwise recorded unsigned, marked so.
            signer = await self.identity.signer_for(actor_id)
            ctx = self.acting(recorded_actor, signer, unsigned=signer is None)
        # A read-only store cannot record it; the refusal still stands.
        with contextlib.suppress(StoreError):
            await self.store.record_refusal(action, subject, str(reason), ctx)
        return Refused(reason, action=action, subject=subject)  # a Reason's code and params go along

    async def at_the_door(self, action: str, subject: str, actor_id: str, problem: str | None) -> None:
        """Refuse (recorded) when the door found a problem with the input."""
        if problem:
            raise await self.refuse(action, subject, problem, actor_id)

    async def actor(self, actor_id: str | None, action: str, subject: str = "") -> Actor:
        if actor_id:
            await self.at_the_door(action, subject, actor_id, door.id_problem("actor id", actor_id))
        login_actor = self.login_actor
        if login_actor is not None:
            if not actor_id:
                actor_id = login_actor
            elif actor_id != login_actor:
                login = self.store.login
                reason = Reason.of("actor.login_mismatch", login=login, actor=login_actor, claimed=actor_id[:64])
                raise await self.refuse(action, subject, reason, login_actor)
        if not actor_id:
            # In a signed store the key says who acts; several keys: --as chooses.
            held = await self.key_actors()
            if held and len(held) == 1:
                actor_id = held[0]
            elif held:
                reason = Reason.of("identity.several", actors=", ".join(held))
                raise await self.refuse(action, subject, reason, "anonymous")
        from . import rbac

        found = rbac.resolve_actor(self.catalog, actor_id)
        if isinstance(found, str):
            raise await self.refuse(action, subject, found, actor_id or "anonymous")
        return found

    async def require(self, actor_id: str | None, action: str, subject: str = "") -> Actor:
        from . import rbac

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

        from .scenario import DEMO_ORDERS, MAX_ORDERS
        from .scenario_rows import demo_rows

        actor = await self.require(actor_id, "scenario.save", "scenario")
        if source_file is not None:
            from .scenario_io import load_scenario_rows

            try:
                rows: Any = load_scenario_rows(source_file, self.catalog)
            except BfgError as exc:
                raise await self.refuse("scenario.save", "scenario", exc.reason, actor.id) from None
            source = f"file:{door.recorded(source_file.name, 128)}"
            origin = f"file:{source_file.resolve()}"
        else:
            if scale is not None and scale < 1:
                reason = Reason.of("scenario.scale_min")
                raise await self.refuse("scenario.save", "scenario", reason, actor.id)
            if scale is not None and scale > MAX_ORDERS:
                reason = Reason.of("scenario.scale_max", scale=scale, max=MAX_ORDERS)
                raise await self.refuse("scenario.save", "scenario", reason, actor.id)
            rows = demo_rows(self.catalog, scale or DEMO_ORDERS)
            source = "demo" if scale is None else f"demo:scale={scale}"
            origin = source
        ctx = await self.context(actor, "scenario.save", "scenario")
        try:
            seq = await self.store.save_scenario(ScenarioPayload(rows=rows, source=source, origin=origin),
                                                 ctx, idem)
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("scenario.save", "scenario", store_reason(exc), actor.id) from None
        state = await self.state()
        records = state.scenario.records
        return outcome("outcome.scenario_saved", seq, records=records, source=source)

    async def freeze(self, actor_id: str | None) -> Outcome:
        actor = await self.require(actor_id, "snapshot.freeze", "snapshot")
        ctx = await self.context(actor, "snapshot.freeze", "snapshot")
        try:
            snap = await self.store.freeze_snapshot(ctx, self.catalog.session, self.catalog.tenant_id)
        except Refused as exc:
            raise await self.refuse("snapshot.freeze", "snapshot", store_reason(exc), actor.id) from None
        data = {"rows": snap.rows, "checksum": snap.checksum, "digest": snap.digest}
        return outcome("outcome.snapshot_frozen", 0, data, **data)

    async def accept(
        self, actor_id: str | None, check_id: str, *, note: str = "", value: str | None = None,
        idem: str | None = None,
    ) -> Outcome:
        from . import rbac

        actor = await self.actor(actor_id, "check.accept", check_id)
        await self.at_the_door("check.accept", check_id, actor.id, door.id_problem("check id", check_id)
                               or door.note_problem(note) or (door.value_problem(value) if value else None))
        grant = rbac.may_sign(self.catalog, actor, check_id, "accept")
        if isinstance(grant, str):
            raise await self.refuse("check.accept", check_id, grant, actor.id)
        check = self.catalog.checks[check_id]
        value = value.strip() if value else None
        if check.value is None and value:
            reason = Reason.of("check.takes_no_value", check=check_id)
            raise await self.refuse("check.accept", check_id, reason, actor.id)
        if check.value is not None and not value:
            reason = Reason.of("check.needs_value", check=check_id, example=check.value.example)
            raise await self.refuse("check.accept", check_id, reason, actor.id)
        state = await self.state()
        digest = None
        if check.binds_snapshot:
            if state.snapshot is None:
                reason = Reason.of("check.needs_snapshot", check=check_id)
                raise await self.refuse("check.accept", check_id, reason, actor.id)
            digest = state.snapshot.digest
        current = state.acceptances.get(check_id)
        ctx = await self.context(actor, "check.accept", check_id)
        if (
            current is not None and idem is None and current.actor_id == actor.id and current.note == note
            and current.value == value and current.snapshot_digest == digest and current.key == (ctx.key or None)
        ):
            # A retried command must never double an acceptance.
            return outcome("outcome.already_accepted", current.seq, check=check_id, actor=actor.id)
        try:
            seq = await self.store.accept(
                check_id, ctx, note=note, value=value, snapshot_digest=digest,
                countersign=grant.countersign, idem=idem,
            )
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("check.accept", check_id, store_reason(exc), actor.id) from None
        how = "outcome.countersigned" if grant.countersign else "outcome.accepted"
        return outcome(how, seq, check=check_id, actor=actor.id)

    async def revoke(self, actor_id: str | None, check_id: str, *, note: str = "", idem: str | None = None) -> Outcome:
        from . import rbac

        actor = await self.actor(actor_id, "check.revoke", check_id)
        await self.at_the_door("check.revoke", check_id, actor.id,
                               door.id_problem("check id", check_id) or door.note_problem(note))
        grant = rbac.may_sign(self.catalog, actor, check_id, "revoke")
        if isinstance(grant, str):
            raise await self.refuse("check.revoke", check_id, grant, actor.id)
        ctx = await self.context(actor, "check.revoke", check_id)
        try:
            seq = await self.store.revoke(check_id, ctx, note=note, idem=idem)
        except AlreadyDone as done:
            return already_done(done)
        except Refused as exc:
            raise await self.refuse("check.revoke", check_id, store_reason(exc), actor.id) from None
        return outcome("outcome.revoked", seq, check=check_id, actor=actor.id)

    async def switch_actor(self, from_id: str, to_id: str) -> Outcome:
        """Demo mode only: switching who acts is itself an audited action."""
        target = await self.actor(to_id, "session.switch_actor", to_id)
        if (await self.key_actors()) is not None:
            # Signed: only to an actor whose key is here, and the switch is signed with it.
            ctx = await self.context(target, "session.switch_actor", f"actor:{target.id}")
        else:
            ctx = self.acting(door.recorded(from_id) or target.id)
        seq = await self.store.record_event(
            "session.switch_actor", {"from": door.recorded(from_id), "to": target.id, "subject": f"actor:{target.id}"},
            ctx,
        )
        return outcome("outcome.acting_as", seq, actor=target.id)

    async def export(
        self, actor_id: str | None, packet: str, fmt: str = "text", destination: str = "stdout",
        *, write: Callable[[str], None] | None = None,
    ) -> Outcome:
        """Render a packet, hand it to `write`, and record the export only once that succeeded.

        `write` gets the text (newline-terminated) and raises a BfgError when the bytes did not
        arrive (bfg_tui.safe_write); then nothing is recorded but a `packet.export_failed` event,
        which no check counts. Without `write` the caller keeps the text in memory (tests).
        """
        import hashlib

        from .packets import export_text, packet_id

        try:
            pid = packet_id(packet)
        except ValueError as exc:
            raise await self.refuse("packet.export", packet, exc.args[0], actor_id or "anonymous") from None
        actor = await self.require(actor_id, "packet.export", f"packet:{pid}")
        if self.store.read_only:
            raise StoreError(Reason.of("export.read_only", path=self.store.path))
        state, ev = await self.evaluate()
        try:
            text = export_text(pid, fmt, self.catalog, state, ev)
        except Refused as exc:
            raise await self.refuse("packet.export", f"packet:{pid}", exc.reason, actor.id) from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        ctx = await self.context(actor, "packet.export", f"packet:{pid}")
        if write is not None:
            try:
                write(text if text.endswith("\n") else text + "\n")
            except BfgError as exc:
                await self._export_failed(pid, fmt, destination, exc.reason, ctx)
                raise
        seq = await self.store.record_export(pid, fmt, destination, digest, ctx,
                                             release=bookkeeping.marks_release_export(pid))
        return Outcome(text, seq, {"packet": pid, "sha256": digest})

    async def _export_failed(self, pid: str, fmt: str, destination: str, reason: str, ctx: Any) -> None:
        """Note the failed attempt; it is not a `packet.export`, so nothing counts it as done."""
        data = {"packet": pid, "format": fmt, "destination": destination, "reason": str(reason)[:512],
                "subject": f"packet:{pid}"}
        # The store may sit on the same full disk: the failure itself is what the user sees.
        with contextlib.suppress(BfgError):
            await self.store.record_event("packet.export_failed", data, ctx)

    async def probe(self, actor_id: str | None, probe: str, target: str, log: Callable[[str], None] | None = None,
                    *, new_target: bool = False) -> Any:
        """Run the connection or dry-run probe for real; returns the stored run record.

        A connection probe of a target other than the selected one needs `new_target`
        (the console asks first), so a mistyped path is never probed by accident.
        """
        from . import rbac
        from .probes.runner import Prober, open_target, probe_name, run_probe

        actor = await self.require(actor_id, "probe.run", f"probe:{probe}")
        await self.at_the_door("probe.run", f"probe:{probe}", actor.id, door.target_problem(target))
        try:
            name = probe_name(probe)
        except Refused as exc:
            raise await self.refuse(exc.action, exc.subject, _reason(exc), actor.id) from None
        ctx = await self.context(actor, "probe.run", f"probe:{name}")  # in a signed store: the key, before the run
        prober = Prober(actor.id, tuple(rbac.claims(self.catalog, a) for a in self.catalog.actors))
        system = self.acting(SYSTEM_ACTOR)

        def target_of(location: str) -> Any:
            return open_target(location, self.catalog, self._target_store, system)

        try:
            record = await run_probe(self.store, target, prober, log or (lambda _line: None), probe=name,
                                     catalog=self.catalog, open_target=target_of, new_target=new_target)
        except Refused as exc:
            if exc.action != "probe.run":
                raise  # not the probe's own refusal (a target store's rule): as before, unrecorded
            raise await self.refuse(exc.action, exc.subject, _reason(exc), actor.id) from None
        await self.store.record_probe(record, ctx, selects_target=bookkeeping.selects_target(record.probe))
        return record

    async def _target_store(self, location: str) -> Any:
        """A SQLite probe target opened as a store of its own (adopted when the connection probe left it empty)."""
        return await open_store(location, self.catalog, adopt=True, origin=self.identity.origin)

    def other_selected_target(self, state: State, target: str) -> str | None:
        """The selected target, when a connection probe of `target` needs `new_target` (the console asks first)."""
        from .probes.runner import new_target_reason
        from .targets import redact_endpoint

        try:
            endpoint = redact_endpoint(target)
        except ValueError:
            return None  # the probe refuses a bad target with its reason
        return state.connection_endpoint if new_target_reason(state, endpoint) else None

    # --------------------------------------------------------- the roster

    async def _roster_manager(self, actor_id: str | None, action: str, target: str) -> Actor:
        from . import rbac

        actor = await self.actor(actor_id, action, "roster")
        # Whoever may countersign for every owner (the managing director) manages who signs.
        if P_COUNTERSIGN not in rbac.permissions(self.catalog, actor):
            reason = Reason.of("identity.not_manager", actor=actor.id, role=actor.role)
            raise await self.refuse(action, "roster", reason, actor.id)
        if target and self.catalog.actor(target) is None:
            raise await self.refuse(action, "roster", Reason.of("roster.unknown_actor", actor=target), actor.id)
        return actor

    async def roster_init(self, actor_id: str | None, key_path: str) -> Outcome:
        """Turn a demo store into signed identity: the first roster key, signed with itself."""
        from .identity.keys import KeyFormatError, read_public_key_file
        from .identity.roster import init_data

        if not actor_id:
            raise BfgError(Reason.of("roster.init_needs_actor"))
        roster = await self.identity.refresh(self.store)
        if roster.signed:
            raise await self.refuse("roster.init", "roster", Reason.of("roster.in_force", seq=roster.init_seq),
                                    actor_id)
        actor = await self._roster_manager(actor_id, "roster.init", actor_id)
        try:
            key = read_public_key_file(key_path)
        except KeyFormatError as exc:
            raise await self.refuse("roster.init", "roster", exc.reason, actor.id) from None
        found = (await self.identity.keyring()).for_fingerprints({key.fingerprint})
        if not found:
            raise await self.refuse("roster.init", "roster", Reason.of("roster.key_not_in_agent", key=key.fingerprint),
                                    actor.id)
        seq = await self.store.record_event("roster.init", init_data(actor.id, key), self.acting(actor.id, found[0]))
        await self.identity.refresh(self.store)
        return outcome("outcome.roster_init", seq, actor=actor.id, key=key.fingerprint)

    async def roster_add(self, actor_id: str | None, target: str, key_path: str) -> Outcome:
        from .identity.keys import KeyFormatError, read_public_key_file
        from .identity.roster import RosterError, add_data

        actor = await self._signed_manager(actor_id, "roster.add", target)
        try:
            key = read_public_key_file(key_path)
            self.identity.roster.check_add(target, key)
        except (KeyFormatError, RosterError) as exc:
            raise await self.refuse("roster.add", "roster", exc.reason, actor.id) from None
        ctx = await self.context(actor, "roster.add", "roster")
        seq = await self.store.record_event("roster.add", add_data(target, key), ctx)
        return outcome("outcome.roster_add", seq, actor=target, key=key.fingerprint)

    async def roster_revoke(self, actor_id: str | None, target: str, fingerprint: str | None) -> Outcome:
        from .identity.roster import RosterError, revoke_data

        actor = await self._signed_manager(actor_id, "roster.revoke", target)
        try:
            fingerprints = self.identity.roster.check_revoke(target, fingerprint)
        except RosterError as exc:
            raise await self.refuse("roster.revoke", "roster", exc.reason, actor.id) from None
        ctx = await self.context(actor, "roster.revoke", "roster")
        seq = await self.store.record_event("roster.revoke", revoke_data(target, fingerprints), ctx)
        return outcome("outcome.roster_revoke", seq, actor=target, keys=", ".join(fingerprints), seq=seq)

    async def _signed_manager(self, actor_id: str | None, action: str, target: str) -> Actor:
        roster = await self.identity.refresh(self.store)
        if not roster.signed:
            raise BfgError(Reason.of("roster.none"))
        return await self._roster_manager(actor_id, action, target)

    async def verify_signatures(self) -> Any:
        """Every signature against the roster in force at its event (bfg_tui.identity.trail)."""
        from .identity.trail import verify_signatures

        rows: list[tuple[int, bytes, str | None]] = []
        async for batch in self.store.signed_rows():
            rows.extend(batch)
        return verify_signatures(rows)

    async def roster(self) -> Any:
        return await self.identity.refresh(self.store)

    # --------------------------------------------------------- reads for the console
    # What the App needs besides the reads above; it records nothing.

    async def signer_fingerprint(self, actor_id: str | None) -> str | None:
        """In a signed store: the fingerprint of the key this session signs with as `actor_id`."""
        if not actor_id:
            return None
        signer = await self.identity.signer_for(actor_id)
        return signer.key.fingerprint if signer else None
