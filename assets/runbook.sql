-- Hardened runbook body: schema, tables, row-level security, roles and grants.
-- Transaction-safe and idempotent: run it inside ONE transaction (the dry-run does;
-- with psql use --single-transaction); running it again changes nothing.
-- Tenant scoping: every tenant table has RLS enabled AND forced, and one policy with
-- both `using` and `with check` on tenant_id = nullif(current_setting('bfg.tenant_id', true), ''),
-- so an unset or empty tenant matches nothing. Sessions set the tenant transaction-locally:
--   select set_config('bfg.tenant_id', 'bfg', true);
-- Keys and foreign keys all include tenant_id: a duplicate id in another tenant is not a
-- conflict (no id probe) and a row can only reference rows of its own tenant.
-- Roles: bfg_migrator (NOLOGIN, BYPASSRLS, owns the schema and every object; COPY runs
-- under it) and bfg_app (NOLOGIN, not an owner, no BYPASSRLS, only the grants below).
-- Logins are granted these roles outside the runbook (GRANT bfg_app TO bfg_app_login).
-- Creating the roles needs a superuser; when they exist (the normal case) the block
-- below only verifies them, so the migration login can run the whole script.
-- What the tenant setting protects: it is set per request by a trusted application
-- server, so honest code paths (a forgotten `where`, a buggy join) see one tenant. It
-- does not protect against a client holding the app login's credentials, which can
-- set the tenant itself (the dry-run shows this as the EXPECTED switching attack). The
-- runbook option `tenant-logins` (assets/runbook_tenant_logins.sql) removes that trust:
-- one login per tenant, policies on session_user.

-- One runbook run or replay at a time (each replay takes this lock too): their table
-- locks, taken in different orders, deadlocked (40P01).
select pg_advisory_xact_lock(1111902036, 1);

do $roles$
begin
  if not exists (select 1 from pg_roles where rolname = 'bfg_migrator') then
    create role bfg_migrator nologin bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'bfg_app') then
    create role bfg_app nologin nosuperuser nobypassrls nocreatedb nocreaterole;
  end if;
  if exists (select 1 from pg_roles where rolname = 'bfg_app'
             and (rolsuper or rolbypassrls or rolcreaterole)) then
    raise exception 'bfg_app must not be superuser, bypass RLS or create roles';
  end if;
end
$roles$;

-- Everything below is created by, and owned by, the migration role.
set local role bfg_migrator;
do $txn$
begin
  if current_user <> 'bfg_migrator' then
    raise exception 'run the runbook inside one transaction: SET LOCAL ROLE had no effect (current_user=%)',
      current_user;
  end if;
end
$txn$;

create schema if not exists bfg_flowcontrol authorization bfg_migrator;
revoke all on schema bfg_flowcontrol from public;
grant usage on schema bfg_flowcontrol to bfg_app;

-- batch group tenant+RBAC -------------------------------------------------------
create table if not exists bfg_flowcontrol.tenants (
  tenant_id text not null check (tenant_id <> ''),
  name text not null,
  tenant_mode text not null default 'tenant-rbac',
  created_at timestamptz not null default now(),
  constraint tenants_pkey primary key (tenant_id)
);

create table if not exists bfg_flowcontrol.users (
  tenant_id text not null,
  user_id text not null,
  role_key text not null,
  display_name text not null,
  desk text,
  created_at timestamptz not null default now(),
  constraint users_pkey primary key (tenant_id, user_id),
  constraint users_tenant_fkey foreign key (tenant_id)
    references bfg_flowcontrol.tenants (tenant_id)
);

create table if not exists bfg_flowcontrol.permissions (
  tenant_id text not null,
  role_key text not null,
  permission text not null,
  constraint permissions_pkey primary key (tenant_id, role_key, permission),
  constraint permissions_tenant_fkey foreign key (tenant_id)
    references bfg_flowcontrol.tenants (tenant_id)
);

-- frozen snapshots and their records (operations, finance, audit batch groups) ---
create table if not exists bfg_flowcontrol.scenario_snapshots (
  tenant_id text not null,
  snapshot_id text not null,
  schema_version text not null default 'BFGScenarioSnapshot.v1',
  checksum text not null check (checksum ~ '^bfg-[0-9a-f]{8}$'),
  digest text not null check (digest ~ '^[0-9a-f]{64}$'),
  record_count integer not null check (record_count >= 0),
  session text,
  created_at timestamptz not null default now(),
  constraint scenario_snapshots_pkey primary key (tenant_id, snapshot_id),
  constraint scenario_snapshots_tenant_fkey foreign key (tenant_id)
    references bfg_flowcontrol.tenants (tenant_id)
);

-- One row per snapshot record. `body` is the canonical JSON text exactly as frozen:
-- checksums are recomputed from body, never from jsonb::text. `seq` is the record's
-- canonical position in the snapshot (kind by kind in catalog order, then record_id in
-- code point order, hence the "C" collation); the key (tenant_id, snapshot_id, seq)
-- reads a snapshot back in canonical order. record_id is unique per snapshot upstream
-- (import validation, generator); the replay read-back re-proves it (kind, record_id
-- strictly increasing in seq order) and the checksum covers every body.
-- Partitioned by snapshot_id: a replay COPYs a new snapshot into a table of its own
-- (RLS enabled, forced, same policy), builds its key after the load and attaches it as
-- that snapshot's partition, all in its transaction. Per-row maintenance of one large
-- shared key held COPY to 70-110k rows/s on 2 cores; this reaches 150-200k. Rows written
-- row by row (by the app, or for a snapshot id without a partition of its own) live in
-- the default partition. The app reads and writes only through the parent: its RLS
-- policy applies, and the app has no grant on any partition. `payload` is an optional
-- parsed copy for queries only. No per-row foreign key to scenario_snapshots: it would
-- halve COPY throughput; the replay verifies count and checksum against
-- scenario_snapshots instead, and deleting a snapshot deletes its records explicitly.

-- Migration of a target made by an earlier runbook, where scenario_records is a plain
-- table keyed by (tenant_id, snapshot_id, kind, record_id): in this transaction, key it
-- by (tenant_id, snapshot_id, seq) and rename it scenario_records_legacy; below it is
-- attached, rows and all, as the partition of exactly the snapshot ids it holds (so
-- the default partition starts empty and attaching a new snapshot never scans the old
-- rows). Refused, with nothing changed, when two rows of one snapshot share a seq. A
-- second run finds the partitioned table and does nothing.
do $records_layout$
declare
  key_name name;
  key_columns text[];
begin
  if not exists (select 1 from pg_class
                  where oid = to_regclass('bfg_flowcontrol.scenario_records') and relkind = 'r') then
    return;
  end if;
  lock table bfg_flowcontrol.scenario_records in access exclusive mode;
  select c.conname, array_agg(a.attname::text order by k.ord) into key_name, key_columns
    from pg_constraint c
    cross join lateral unnest(c.conkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
   where c.conrelid = 'bfg_flowcontrol.scenario_records'::regclass and c.contype = 'p'
   group by c.conname;
  if key_columns is distinct from array['tenant_id', 'snapshot_id', 'seq'] then
    if exists (select 1 from bfg_flowcontrol.scenario_records
                group by tenant_id, snapshot_id, seq having count(*) > 1) then
      raise exception 'bfg_flowcontrol.scenario_records: two rows of one snapshot share a seq; the key (tenant_id, snapshot_id, seq) cannot replace (%)',
        array_to_string(key_columns, ', ')
        using hint = 'delete the records of the affected snapshots (or recreate the rehearsal target), then run the runbook again';
    end if;
    if key_name is not null then
      execute format('alter table bfg_flowcontrol.scenario_records drop constraint %I', key_name);
    end if;
    alter table bfg_flowcontrol.scenario_records
      add constraint scenario_records_legacy_pkey primary key (tenant_id, snapshot_id, seq);
  else
    execute format('alter table bfg_flowcontrol.scenario_records rename constraint %I to scenario_records_legacy_pkey',
                   key_name);
  end if;
  alter table bfg_flowcontrol.scenario_records rename to scenario_records_legacy;
end
$records_layout$;

create table if not exists bfg_flowcontrol.scenario_records (
  tenant_id text not null,
  snapshot_id text not null,
  seq integer not null constraint scenario_records_seq_check check (seq >= 0),
  batch_group text not null constraint scenario_records_batch_group_check
    check (batch_group in ('tenant_rbac', 'operations', 'finance', 'audit')),
  kind text collate "C" not null,
  record_id text collate "C" not null,
  body text not null,
  payload jsonb,
  constraint scenario_records_pkey primary key (tenant_id, snapshot_id, seq)
) partition by list (snapshot_id);

create table if not exists bfg_flowcontrol.scenario_records_default
  partition of bfg_flowcontrol.scenario_records default;

-- The migrated plain table, if any, becomes the partition of the snapshot ids it holds
-- (dropped when it holds no rows at all).
do $records_legacy$
declare
  bound text;
begin
  if not exists (select 1 from pg_class
                  where oid = to_regclass('bfg_flowcontrol.scenario_records_legacy') and not relispartition) then
    return;
  end if;
  select string_agg(format('%L', snapshot_id), ', ' order by snapshot_id) into bound
    from (select distinct snapshot_id from bfg_flowcontrol.scenario_records_legacy) ids;
  if bound is null then
    drop table bfg_flowcontrol.scenario_records_legacy;
  else
    execute format('alter table bfg_flowcontrol.scenario_records attach partition '
                   'bfg_flowcontrol.scenario_records_legacy for values in (%s)', bound);
  end if;
end
$records_legacy$;

-- Every record belongs to a tenant of this target. The check runs once per snapshot
-- partition, when the dry-run attaches it (one scan), not per row of the COPY.
do $records_fk$
begin
  if not exists (select 1 from pg_constraint where conname = 'scenario_records_tenant_fkey'
                  and conrelid = 'bfg_flowcontrol.scenario_records'::regclass) then
    if exists (select 1 from bfg_flowcontrol.scenario_records r
                where not exists (select 1 from bfg_flowcontrol.tenants t where t.tenant_id = r.tenant_id)) then
      raise exception 'bfg_flowcontrol.scenario_records holds records of tenants missing from bfg_flowcontrol.tenants'
        using hint = 'insert those tenants (or delete their records), then run the runbook again';
    end if;
    alter table bfg_flowcontrol.scenario_records
      add constraint scenario_records_tenant_fkey foreign key (tenant_id)
      references bfg_flowcontrol.tenants (tenant_id);
  end if;
end
$records_fk$;

-- One row per replay id: re-running a replay with the same id adds nothing
-- (insert ... on conflict do nothing here and on scenario_records).
create table if not exists bfg_flowcontrol.scenario_replays (
  tenant_id text not null,
  replay_id text not null,
  snapshot_id text not null,
  rows_written integer not null check (rows_written >= 0),
  readback_digest text check (readback_digest ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  constraint scenario_replays_pkey primary key (tenant_id, replay_id),
  constraint scenario_replays_snapshot_fkey foreign key (tenant_id, snapshot_id)
    references bfg_flowcontrol.scenario_snapshots (tenant_id, snapshot_id)
);

-- audit trail: append-only for the app, order, ids and time assigned by the server ---
create table if not exists bfg_flowcontrol.audit_events (
  tenant_id text not null,
  event_id text not null default gen_random_uuid()::text,
  actor_id text not null,
  source text not null,
  action text not null,
  payload jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint audit_events_pkey primary key (tenant_id, event_id),
  constraint audit_events_actor_fkey foreign key (tenant_id, actor_id)
    references bfg_flowcontrol.users (tenant_id, user_id),
  constraint audit_events_tenant_fkey foreign key (tenant_id)
    references bfg_flowcontrol.tenants (tenant_id)
);

-- Indexes: every primary key leads with tenant_id; these cover the other lookups.
create index if not exists users_tenant_role_idx
  on bfg_flowcontrol.users (tenant_id, role_key);
create index if not exists scenario_replays_snapshot_idx
  on bfg_flowcontrol.scenario_replays (tenant_id, snapshot_id);
create index if not exists audit_events_tenant_created_idx
  on bfg_flowcontrol.audit_events (tenant_id, created_at);
create index if not exists audit_events_actor_idx
  on bfg_flowcontrol.audit_events (tenant_id, actor_id);

-- Server order: every event gets the next value of one sequence (existing rows, from an
-- earlier runbook, are numbered once in created_at order).
create sequence if not exists bfg_flowcontrol.audit_events_seq as bigint;
alter table bfg_flowcontrol.audit_events add column if not exists seq bigint;
do $audit_seq$
begin
  if exists (select 1 from bfg_flowcontrol.audit_events where seq is null) then
    alter table bfg_flowcontrol.audit_events disable trigger audit_events_append_only;
    with ordered as (
      select tenant_id, event_id, nextval('bfg_flowcontrol.audit_events_seq') as n
        from (select tenant_id, event_id from bfg_flowcontrol.audit_events
               where seq is null order by created_at, event_id) e)
    update bfg_flowcontrol.audit_events a set seq = o.n
      from ordered o where a.tenant_id = o.tenant_id and a.event_id = o.event_id;
    alter table bfg_flowcontrol.audit_events enable trigger audit_events_append_only;
  end if;
end
$audit_seq$;
alter table bfg_flowcontrol.audit_events alter column seq set not null;
create unique index if not exists audit_events_seq_idx
  on bfg_flowcontrol.audit_events (tenant_id, seq);

-- The app chooses the tenant (RLS checks it), the actor (a foreign key to users) and the
-- payload; the server chooses the id, the order and the time, overriding any client value.
-- Security definer (owned by bfg_migrator) only so the app needs no sequence privilege.
create or replace function bfg_flowcontrol.audit_events_server_assigned()
  returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog
as $fn$
begin
  new.seq := nextval('bfg_flowcontrol.audit_events_seq');
  new.event_id := gen_random_uuid()::text;
  new.created_at := clock_timestamp();
  return new;
end
$fn$;
revoke all on function bfg_flowcontrol.audit_events_server_assigned() from public;
create or replace trigger audit_events_server_assigned
  before insert on bfg_flowcontrol.audit_events
  for each row execute function bfg_flowcontrol.audit_events_server_assigned();

-- Audit rows cannot change through the app or an owner's mistake. This is not proof
-- against the owner: an owner can disable the trigger. The defence against a rewritten
-- trail is the console's signed, hash-chained trail and its head kept outside the
-- database (the packets print it; `bfg-tui audit verify --expect-head`).
create or replace function bfg_flowcontrol.audit_events_append_only()
  returns trigger
  language plpgsql
  set search_path = pg_catalog
as $fn$
begin
  raise exception 'bfg_flowcontrol.audit_events is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end
$fn$;
revoke all on function bfg_flowcontrol.audit_events_append_only() from public;

create or replace trigger audit_events_append_only
  before update or delete on bfg_flowcontrol.audit_events
  for each row execute function bfg_flowcontrol.audit_events_append_only();
create or replace trigger audit_events_no_truncate
  before truncate on bfg_flowcontrol.audit_events
  for each statement execute function bfg_flowcontrol.audit_events_append_only();

-- Row-level security: enabled, forced (owner included), using + with check. -----
alter table bfg_flowcontrol.tenants enable row level security;
alter table bfg_flowcontrol.tenants force row level security;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.tenants;
create policy bfg_tenant_isolation on bfg_flowcontrol.tenants
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.users enable row level security;
alter table bfg_flowcontrol.users force row level security;
drop policy if exists bfg_tenant_users on bfg_flowcontrol.users;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.users;
create policy bfg_tenant_isolation on bfg_flowcontrol.users
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.permissions enable row level security;
alter table bfg_flowcontrol.permissions force row level security;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.permissions;
create policy bfg_tenant_isolation on bfg_flowcontrol.permissions
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.scenario_snapshots enable row level security;
alter table bfg_flowcontrol.scenario_snapshots force row level security;
drop policy if exists bfg_tenant_snapshots on bfg_flowcontrol.scenario_snapshots;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_snapshots;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_snapshots
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.scenario_records enable row level security;
alter table bfg_flowcontrol.scenario_records force row level security;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_records;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_records
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

-- Partitions too (the app has no grant on them; reads and writes go through the parent,
-- whose policy applies). The dry-run gives each snapshot partition the same three.
alter table bfg_flowcontrol.scenario_records_default enable row level security;
alter table bfg_flowcontrol.scenario_records_default force row level security;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_records_default;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_records_default
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.scenario_replays enable row level security;
alter table bfg_flowcontrol.scenario_replays force row level security;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_replays;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_replays
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

alter table bfg_flowcontrol.audit_events enable row level security;
alter table bfg_flowcontrol.audit_events force row level security;
drop policy if exists bfg_tenant_audit on bfg_flowcontrol.audit_events;
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.audit_events;
create policy bfg_tenant_isolation on bfg_flowcontrol.audit_events
  as permissive for all to public
  using (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''))
  with check (tenant_id = nullif(current_setting('bfg.tenant_id', true), ''));

-- Grants: reset, then exactly what the app needs. --------------------------------
revoke all on all tables in schema bfg_flowcontrol from public;
revoke all on all tables in schema bfg_flowcontrol from bfg_app;
grant select on bfg_flowcontrol.tenants to bfg_app;
grant select, insert, update, delete on
  bfg_flowcontrol.users,
  bfg_flowcontrol.permissions,
  bfg_flowcontrol.scenario_snapshots,
  bfg_flowcontrol.scenario_records,
  bfg_flowcontrol.scenario_replays
  to bfg_app;
grant select, insert on bfg_flowcontrol.audit_events to bfg_app;
