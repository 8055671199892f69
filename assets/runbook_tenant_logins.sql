-- Runbook option `tenant-logins`: one login role per tenant, policies on session_user.
-- Apply it after assets/runbook.sql in the SAME transaction
-- (psql --single-transaction -f assets/runbook.sql -f assets/runbook_tenant_logins.sql, or
-- bfg_tui.runbook.runbook_sql("tenant-logins")). Idempotent like the runbook.
-- Generated from the runbook's tenant tables by bfg_tui.runbook.tenant_logins_sql
-- (`make runbook`); edit the generator, not this file.
--
-- The default runbook trusts the application server to set bfg.tenant_id per request:
-- that protects honest code paths, not a client holding the app login's credentials (it can set the
-- tenant itself). With this option the tenant is the connected login's, mapped by the
-- migrator, and no setting the client can change moves it:
--   GRANT bfg_app TO acme_app;   -- by a DBA: one plain login per tenant (no CREATEROLE,
--                                --  no membership of bfg_migrator or of a bypassing role)
--   INSERT INTO bfg_flowcontrol.tenant_logins (login, tenant_id) VALUES ('acme_app', 'acme');
-- A login without a mapping sees and writes nothing. Snapshot partitions are reached only
-- through scenario_records (the app has no grant on any partition), whose policy applies.

create table if not exists bfg_flowcontrol.tenant_logins (
  login text not null,
  tenant_id text not null,
  created_at timestamptz not null default now(),
  constraint tenant_logins_pkey primary key (login),
  constraint tenant_logins_tenant_fkey foreign key (tenant_id)
    references bfg_flowcontrol.tenants (tenant_id)
);
alter table bfg_flowcontrol.tenant_logins enable row level security;
alter table bfg_flowcontrol.tenant_logins force row level security;
drop policy if exists bfg_own_login on bfg_flowcontrol.tenant_logins;
create policy bfg_own_login on bfg_flowcontrol.tenant_logins
  as permissive for all to public
  using (login = session_user::text)
  with check (login = session_user::text);
revoke all on bfg_flowcontrol.tenant_logins from public;
grant select on bfg_flowcontrol.tenant_logins to bfg_app;

-- Every tenant table: the tenant is the session_user's, through the mapping.
drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.tenants;
create policy bfg_tenant_isolation on bfg_flowcontrol.tenants
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.users;
create policy bfg_tenant_isolation on bfg_flowcontrol.users
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.permissions;
create policy bfg_tenant_isolation on bfg_flowcontrol.permissions
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_snapshots;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_snapshots
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_records;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_records
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_records_default;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_records_default
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.scenario_replays;
create policy bfg_tenant_isolation on bfg_flowcontrol.scenario_replays
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

drop policy if exists bfg_tenant_isolation on bfg_flowcontrol.audit_events;
create policy bfg_tenant_isolation on bfg_flowcontrol.audit_events
  as permissive for all to public
  using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text))
  with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l where l.login = session_user::text));

-- Snapshot partitions attached by earlier dry-runs get the same policy.
do $partitions$
declare
  part regclass;
begin
  for part in select i.inhrelid::regclass from pg_inherits i
               where i.inhparent = 'bfg_flowcontrol.scenario_records'::regclass loop
    execute format('drop policy if exists bfg_tenant_isolation on %s', part);
    execute format('create policy bfg_tenant_isolation on %s as permissive for all to public'
                   ' using (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l'
                   ' where l.login = session_user::text))'
                   ' with check (tenant_id = (select l.tenant_id from bfg_flowcontrol.tenant_logins l'
                   ' where l.login = session_user::text))', part);
  end loop;
end
$partitions$;
