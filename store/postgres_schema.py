"""The shared store's own tables in PostgreSQL (schema `bfg_console` by default).

Separate from the migration runbook's `bfg_flowcontrol` schema: these tables hold the
console's state (scenario, snapshots, acceptances, probe evidence, exports, the audit
trail) for every tenant that shares the server. Versioned by `schema_version` (the one
table without tenant data); forward migrations only, each run in one transaction.

Who is connected decides everything (version 4). `logins` maps a login role to its
(tenant, actor); only the migrator writes it, and each login reads only its own row.
Every tenant table has RLS enabled and forced (the owner included) and one policy with
`using` and `with check` on `tenant_id = <the session_user's mapped tenant>`: never a
setting the client can change (`set_config` of any custom setting changes nothing), and
a login without a mapping matches nothing. `tenant_id` defaults to the mapped tenant,
so the store never writes a tenant id itself. `audit_events` also checks that an event's
actor is the login's mapped actor (the one exception: the genesis `store.create` event
by `system`, seq 1), and a trigger gives every event its server-assigned order and time
(below). Every key leads with `tenant_id`; there are no foreign keys (nothing can
reference another tenant's rows).

Server order and time without breaking the chain: the chain hashes `seq` and `at`
inside the event body, so the server cannot rewrite them after the fact. Instead the
store, holding the tenant's head row lock, reads the next seq (head + 1) and the server
clock (`clock_timestamp()`) and builds the body from them; the BEFORE INSERT trigger
then assigns the `seq` and `at` columns itself (client values are overridden) and
refuses a body that disagrees: its seq must be the server's next, its prev the hash of
the previous event, its `at` within [transaction start, now] and not before the
previous event's, and the stored hash, kind and actor are recomputed from the body.

`{s}` stands for the schema name (validated by `valid_schema` before use).
"""

from __future__ import annotations

import re

DEFAULT_SCHEMA = "bfg_console"
SCHEMA_VERSION = 4
NOTIFY_CHANNEL = "bfg_console"
LOCK_CLASS = 0x42464754  # "BFGT": advisory-lock namespace of this store

# Tables that hold tenant rows (all of them RLS-forced), in creation order.
TENANT_TABLES = (
    "meta",
    "scenarios",
    "scenario_records",
    "snapshots",
    "acceptances",
    "probe_runs",
    "probe_results",
    "exports",
    "audit_events",
    "audit_head",
    "idempotency",
)
# The mapping table (also tenant-keyed and RLS-forced, scoped to the session_user's row).
LOGINS_TABLE = "logins"
# What the app role may do on each (audit_events is append-only for everyone).
APP_GRANTS = {table: "select, insert, update, delete" for table in TENANT_TABLES} | {
    "audit_events": "select, insert",
    "audit_head": "select, insert, update",
}

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_TENANT = "tenant_id text not null default nullif(current_setting('bfg.tenant_id', true), '') check (tenant_id <> '')"
_POLICY = "nullif(current_setting('bfg.tenant_id', true), '')"


def _mapped(column: str, s: str = "{s}") -> str:
    """The session_user's mapped tenant or actor, as a scalar subquery (one InitPlan per query)."""
    return f"(select l.{column} from {s}.logins l where l.login = session_user::text)"


def valid_schema(name: str) -> bool:
    return bool(_SCHEMA_RE.match(name)) and not name.startswith("pg_")


def _rls(table: str) -> str:
    return f"""
alter table {{s}}.{table} enable row level security;
alter table {{s}}.{table} force row level security;
create policy bfg_tenant_isolation on {{s}}.{table}
  as permissive for all to public
  using (tenant_id = {_POLICY})
  with check (tenant_id = {_POLICY});
"""


_V1 = f"""
create table {{s}}.schema_version (
  singleton boolean primary key default true check (singleton),
  version integer not null,
  migrated_at timestamptz not null default now()
);

create table {{s}}.meta (
  {_TENANT},
  key text not null,
  value text not null,
  constraint meta_pkey primary key (tenant_id, key)
);

create table {{s}}.scenarios (
  {_TENANT},
  version integer not null,
  saved_at text,
  actor text,
  source text not null,
  records integer not null,
  kind_counts text not null,
  constraint scenarios_pkey primary key (tenant_id, version)
);

-- body: the canonical JSON as UTF-8 bytes; hashed as stored, never re-encoded
-- (and never through jsonb::text).
create table {{s}}.scenario_records (
  {_TENANT},
  version integer not null,
  ord integer not null,
  kind text collate "C" not null,
  rid text collate "C" not null,
  body bytea not null,
  constraint scenario_records_pkey primary key (tenant_id, version, ord)
);

create table {{s}}.snapshots (
  {_TENANT},
  id integer not null,
  scenario_version integer not null,
  rows integer not null,
  digest text not null check (length(digest) = 64 and digest ~ '^[0-9a-f]+$'),
  kind_counts text not null,
  frozen_at text not null,
  actor text not null,
  event_seq integer not null,
  constraint snapshots_pkey primary key (tenant_id, id)
);

create table {{s}}.acceptances (
  {_TENANT},
  check_id text not null,
  actor text not null,
  note text not null,
  value text,
  snapshot_digest text,
  countersign boolean not null,
  at text not null,
  event_seq integer not null,
  constraint acceptances_pkey primary key (tenant_id, check_id)
);

create table {{s}}.probe_runs (
  {_TENANT},
  run_id text not null,
  probe text not null,
  target_kind text not null,
  endpoint text not null,
  passed boolean not null,
  started_at text not null,
  finished_at text not null,
  snapshot_digest text,
  facts text not null,
  steps text not null,
  transcript text not null,
  event_seq integer not null,
  constraint probe_runs_pkey primary key (tenant_id, run_id)
);
create index probe_runs_event_idx on {{s}}.probe_runs (tenant_id, event_seq);

create table {{s}}.probe_results (
  {_TENANT},
  check_id text not null,
  passed boolean not null,
  target_kind text not null,
  endpoint text not null,
  detail text not null,
  run_id text not null,
  snapshot_digest text,
  tls boolean not null,
  credentials_external boolean not null,
  at text not null,
  event_seq integer not null,
  constraint probe_results_pkey primary key (tenant_id, check_id)
);

create table {{s}}.exports (
  {_TENANT},
  id integer not null,
  packet text not null,
  format text not null,
  destination text not null,
  digest text not null,
  at text not null,
  actor text not null,
  event_seq integer not null,
  constraint exports_pkey primary key (tenant_id, id)
);

-- body: the canonical JSON event as UTF-8 bytes, exactly what the hash covers.
create table {{s}}.audit_events (
  {_TENANT},
  seq integer not null,
  hash text not null,
  body bytea not null,
  kind text not null,
  actor text not null,
  subject text not null default '',
  constraint audit_events_pkey primary key (tenant_id, seq)
);
create index audit_events_subject_idx on {{s}}.audit_events (tenant_id, subject, seq);

create table {{s}}.audit_head (
  {_TENANT},
  count integer not null,
  head text not null,
  constraint audit_head_pkey primary key (tenant_id)
);

create table {{s}}.idempotency (
  {_TENANT},
  key text not null,
  event_seq integer not null,
  constraint idempotency_pkey primary key (tenant_id, key)
);

-- The audit trail is append-only for everyone, the owner included.
create function {{s}}.audit_events_append_only()
  returns trigger
  language plpgsql
  set search_path = pg_catalog
as $fn$
begin
  raise exception 'the bfg-tui audit trail is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end
$fn$;
revoke all on function {{s}}.audit_events_append_only() from public;
create trigger audit_events_append_only
  before update or delete on {{s}}.audit_events
  for each row execute function {{s}}.audit_events_append_only();
create trigger audit_events_no_truncate
  before truncate on {{s}}.audit_events
  for each statement execute function {{s}}.audit_events_append_only();
""" + "".join(_rls(t) for t in TENANT_TABLES)

# 2: the head carries the digest of the state it stands for (the state tables are a cache
# of the trail's replay; a tenant written by version 1 is attested by a store.upgrade
# event when first opened), an idempotency key is bound to its action, and a probe
# result keeps the TLS fingerprint as SQLite does.
_V2 = """
alter table {s}.audit_head add column state_digest text not null default '';
alter table {s}.idempotency add column binding text;
alter table {s}.probe_results add column fingerprint text;
"""

# 3: signed identity. The SSHSIG signature beside each event (over its exact body),
# and the signing key's fingerprint beside each acceptance.
_V3 = """
alter table {s}.audit_events add column signature text;
alter table {s}.acceptances add column key text;
"""


def _login_policy(table: str) -> str:
    check = f"tenant_id = {_mapped('tenant_id')}"
    if table == "audit_events":
        # Authorship: the login writes only as its own actor; the genesis event is by system.
        check += (f" and (actor = {_mapped('actor')}"
                  " or (seq = 1 and kind = 'store.create' and actor = 'system'))")
    return f"""
drop policy bfg_tenant_isolation on {{s}}.{table};
create policy bfg_login_tenant on {{s}}.{table}
  as permissive for all to public
  using (tenant_id = {_mapped('tenant_id')})
  with check ({check});
alter table {{s}}.{table} alter column tenant_id set default {{s}}.login_tenant();
"""


# 4: who is connected (logins; policies on session_user) and the server's order and time.
_V4 = """
-- Who is connected: login role -> (tenant, actor). Written by the migrator only
-- (`bfg-tui store add-login`); each login reads only its own row.
create table {s}.logins (
  login text not null,
  tenant_id text not null check (tenant_id <> ''),
  actor text not null check (actor <> ''),
  created_at timestamptz not null default now(),
  constraint logins_pkey primary key (login)
);
alter table {s}.logins enable row level security;
alter table {s}.logins force row level security;
create policy bfg_own_login on {s}.logins
  as permissive for all to public
  using (login = session_user::text)
  with check (login = session_user::text);

create function {s}.login_tenant()
  returns text
  language sql
  stable
  set search_path = pg_catalog
as $fn$ select l.tenant_id from {s}.logins l where l.login = session_user::text $fn$;

-- Server-assigned time of every event (the body's `at`, checked by the trigger below).
alter table {s}.audit_events add column at timestamptz;
alter table {s}.audit_events disable trigger audit_events_append_only;
update {s}.audit_events set at = (convert_from(body, 'UTF8')::jsonb ->> 'at')::timestamptz;
alter table {s}.audit_events enable trigger audit_events_append_only;
alter table {s}.audit_events alter column at set default now(), alter column at set not null;

create function {s}.audit_events_server_order()
  returns trigger
  language plpgsql
  set search_path = pg_catalog
as $fn$
declare
  doc jsonb;
  last_seq integer;
  last_hash text;
  last_at timestamptz;
  claimed timestamptz;
begin
  doc := convert_from(new.body, 'UTF8')::jsonb;
  select e.seq, e.hash, e.at into last_seq, last_hash, last_at
    from {s}.audit_events e where e.tenant_id = new.tenant_id order by e.seq desc limit 1;
  -- The server's order, whatever the client sent.
  new.seq := coalesce(last_seq, 0) + 1;
  if jsonb_typeof(doc -> 'seq') is distinct from 'number' or (doc ->> 'seq')::integer <> new.seq then
    raise exception 'audit event body says seq %, the server assigns %', doc ->> 'seq', new.seq
      using errcode = 'check_violation';
  end if;
  if (doc ->> 'prev') is distinct from coalesce(last_hash, repeat('0', 64)) then
    raise exception 'audit event % does not chain to the previous event', new.seq
      using errcode = 'check_violation';
  end if;
  if coalesce(doc ->> 'at', '') !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$' then
    raise exception 'audit event % has no server time', new.seq using errcode = 'check_violation';
  end if;
  claimed := (doc ->> 'at')::timestamptz;
  -- The server's time: read inside this transaction, not before the previous event.
  if claimed < now() or claimed > clock_timestamp() or claimed < last_at then
    raise exception 'audit event % time % is not the server''s (transaction started %)', new.seq, doc ->> 'at', now()
      using errcode = 'check_violation';
  end if;
  new.at := claimed;
  -- The searchable copies come from the hashed body, never from the client.
  new.hash := encode(sha256(new.body), 'hex');
  new.kind := doc ->> 'kind';
  new.actor := doc ->> 'actor';
  return new;
end
$fn$;
revoke all on function {s}.audit_events_server_order() from public;
create trigger audit_events_server_order
  before insert on {s}.audit_events
  for each row execute function {s}.audit_events_server_order();
""" + "".join(_login_policy(t) for t in TENANT_TABLES)

# MIGRATIONS[n] moves a schema from version n to n + 1 (0: nothing there yet).
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]


def migration_sql(step: int, schema: str) -> str:
    if not valid_schema(schema):
        raise ValueError("invalid schema name")
    return MIGRATIONS[step].replace("{s}", schema)


def grants_sql(schema: str, app_role: str) -> str:
    """Exactly what the app role needs: usage, the schema version, the tenant tables."""
    lines = [
        f"revoke all on schema {schema} from public;",
        f"grant usage on schema {schema} to {app_role};",
        f"revoke all on all tables in schema {schema} from public;",
        f"grant select on {schema}.schema_version to {app_role};",
        f"grant select on {schema}.{LOGINS_TABLE} to {app_role};",
        f"revoke all on function {schema}.login_tenant() from public;",
        f"grant execute on function {schema}.login_tenant() to {app_role};",
    ]
    lines += [f"grant {privs} on {schema}.{table} to {app_role};" for table, privs in APP_GRANTS.items()]
    return "\n".join(lines)


def schema_sql(schema: str = DEFAULT_SCHEMA) -> str:
    """The whole current schema (every migration), e.g. for the RLS lint or a review."""
    return "\n".join(migration_sql(step, schema) for step in range(SCHEMA_VERSION))
