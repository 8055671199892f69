"""The shared store's own tables in PostgreSQL (schema `bfg_console` by default).

Separate from the migration runbook's `bfg_flowcontrol` schema: these tables hold the
console's state (scenario, snapshots, acceptances, probe evidence, exports, the audit
trail) for every tenant that shares the server. Versioned by `schema_version` (the one
table without tenant data); forward migrations only, each run in one transaction.

Tenant scoping is row-level security, the same shape as the runbook: every table with
a `tenant_id` column has RLS enabled and forced (the owner included) and one policy
with `using` and `with check` on `tenant_id = nullif(current_setting('bfg.tenant_id',
true), '')`, so an unset or empty tenant matches nothing. `tenant_id` defaults to the
tenant setting, so the store never writes a tenant id itself: it only sets the tenant
transaction-locally (`bfg_tui.runbook.SET_TENANT_SQL`). Every key leads with
`tenant_id`; there are no foreign keys (nothing can reference another tenant's rows).

`{s}` stands for the schema name (validated by `valid_schema` before use).
"""

from __future__ import annotations

import re

DEFAULT_SCHEMA = "bfg_console"
SCHEMA_VERSION = 3
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
# What the app role may do on each (audit_events is append-only for everyone).
APP_GRANTS = {table: "select, insert, update, delete" for table in TENANT_TABLES} | {
    "audit_events": "select, insert",
    "audit_head": "select, insert, update",
}

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_TENANT = "tenant_id text not null default nullif(current_setting('bfg.tenant_id', true), '') check (tenant_id <> '')"
_POLICY = "nullif(current_setting('bfg.tenant_id', true), '')"


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

# MIGRATIONS[n] moves a schema from version n to n + 1 (0: nothing there yet).
# 3: signed identity. The SSHSIG signature beside each event (over its exact body),
# and the signing key's fingerprint beside each acceptance.
_V3 = """
alter table {s}.audit_events add column signature text;
alter table {s}.acceptances add column key text;
"""
MIGRATIONS: list[str] = [_V1, _V2, _V3]


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
    ]
    lines += [f"grant {privs} on {schema}.{table} to {app_role};" for table, privs in APP_GRANTS.items()]
    return "\n".join(lines)


def schema_sql(schema: str = DEFAULT_SCHEMA) -> str:
    """The whole current schema (every migration), e.g. for the RLS lint or a review."""
    return "\n".join(migration_sql(step, schema) for step in range(SCHEMA_VERSION))
