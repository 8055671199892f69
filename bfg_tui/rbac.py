"""Who may do what (SPEC §2–§3). Pure functions: they return a reason or None.

A reason is a `Reason`: the English sentence, with a message id and its parameters
so the console can show it in Polish too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Reason
from .models import P_ACCEPT, P_COUNTERSIGN, P_EXPORT, P_FREEZE, P_PROBE, P_WRITE, Actor, Catalog, Check
from .models import P_READ as P_READ

ACTION_PERMISSION = {
    "scenario.save": P_WRITE,
    "snapshot.freeze": P_FREEZE,
    "probe.run": P_PROBE,
    "packet.export": P_EXPORT,
}


@dataclass(frozen=True)
class Grant:
    countersign: bool = False


def permissions(catalog: Catalog, actor: Actor) -> tuple[str, ...]:
    return catalog.permissions(actor)


def claims(catalog: Catalog, actor: Actor) -> dict[str, object]:
    """The auth claim set this actor becomes under OIDC/RBAC."""
    role = catalog.roles[actor.role]
    return {
        "sub": actor.id,
        "name": actor.name,
        "tenant_id": catalog.tenant_id,
        "org": actor.desk,
        "roles": [actor.role],
        "scope": role.scope,
        "permissions": list(role.permissions),
    }


def resolve_actor(catalog: Catalog, actor_id: str | None) -> Actor | str:
    """The actor, or a one-line reason why there is none."""
    actors = ", ".join(a.id for a in catalog.actors)
    if not actor_id:
        return Reason.of("actor.none", actors=actors)
    actor = catalog.actor(actor_id)
    if actor is None:
        return Reason.of("actor.unknown", actor=actor_id, actors=actors)
    return actor


def may(catalog: Catalog, actor: Actor, action: str) -> str | None:
    """None when `actor` may perform `action`, else the reason."""
    needed = ACTION_PERMISSION[action]
    if needed in permissions(catalog, actor):
        return None
    return Reason.of("rbac.lacks_permission", actor=actor.id, role=actor.role, permission=needed, action=action)


def may_sign(catalog: Catalog, actor: Actor, check_id: str, verb: str = "accept") -> Grant | str:
    """Whether `actor` may accept or revoke `check_id`: a Grant, or the reason not."""
    check: Check | None = catalog.checks.get(check_id)
    if check is None:
        return Reason.of("check.unknown", check=check_id)
    if check.kind == "probe":
        assert check.probe is not None  # the catalog names every probe check's probe
        probe = check.probe.replace("_", "-")
        return Reason.of("check.is_probe", check=check_id, probe=probe)
    if check.kind == "derived":
        return Reason.of(f"check.derived.{verb}", check=check_id)
    perms = permissions(catalog, actor)
    if P_ACCEPT not in perms:
        return Reason.of(f"rbac.read_only.{verb}", actor=actor.id, role=actor.role)
    if check.owner == actor.id:
        return Grant(countersign=False)
    if P_COUNTERSIGN in perms:
        return Grant(countersign=True)
    return Reason.of(f"check.owned_by.{verb}", check=check_id, owner=check.owner or "", actor=actor.id)
