"""Role hygiene: which logins must never run as the store's or the probe's app login.

Shared by the shared store (store/postgres.py, store/postgres_admin.py) and the
connection probe (probes/postgres/rls.py). Refused: superuser, BYPASSRLS, CREATEROLE
(on PostgreSQL 15 a CREATEROLE role can grant itself any non-superuser role, the
migrator included), and any login that is a member, directly or indirectly, of a role
that is one of those. Membership is `pg_has_role(..., 'MEMBER')`: inherited or not, a
member can SET ROLE. Owning the tables (or being a member of their owner) is checked by
each caller against its own schema. Pure SQL text and a check on its row: no driver here.
"""

from __future__ import annotations

from typing import Any

from .errors import Reason

# One row: (login, superuser, bypassrls, createrole, member-of roles that are any of those,
# read-only server). `session_user` may be replaced by a parameter (see for_role).
HYGIENE_SQL = """
select session_user::text, r.rolsuper, r.rolbypassrls, r.rolcreaterole,
       (select string_agg(m.rolname, ', ' order by m.rolname) from pg_roles m
         where m.oid <> r.oid and pg_has_role(session_user, m.oid, 'MEMBER')
           and (m.rolsuper or m.rolbypassrls or m.rolcreaterole)),
       pg_is_in_recovery() or current_setting('default_transaction_read_only') = 'on'
  from pg_roles r where r.rolname = session_user
"""


def for_role() -> str:
    """HYGIENE_SQL about a named role (parameter `%(u)s`) instead of the connected login."""
    return HYGIENE_SQL.replace("session_user", "%(u)s::name")


def hygiene_problem(row: tuple[Any, ...]) -> Reason | None:
    """Why this login must not run as an app login (its English is a probe's evidence); None when it may."""
    user, sup, bypass, createrole, members = row[:5]
    if sup or bypass:
        return Reason.of("login.bypasses_rls", user=user)
    if createrole:
        return Reason.of("login.createrole", user=user)
    if members:
        return Reason.of("login.member_of_privileged", user=user, members=members)
    return None
