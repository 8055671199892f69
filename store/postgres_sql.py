"""The shared store's statements for the core (store.core.Sql), in one schema.

Every table is RLS-forced on the login's tenant (postgres_schema), so no statement names
a tenant; keys lead with `tenant_id`, hence the `on conflict (tenant_id, …)` upserts.
"""

from __future__ import annotations

from . import replay
from .core import Sql
from .state_plan import Tables

# The server clock in the chain's format (UTC, microseconds): the event's `at`.
SERVER_NOW_SQL = """select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# The replay's parameters: the kinds whose every event counts, and those whose latest per check does.
REPLAY_PARAMS = (list(replay.STATE_KINDS), list(replay.ACCEPTANCE_KINDS))


def columns_differ(d: str) -> str:
    """True where an event's kind, actor or subject column is not the copy of its body (`d`, jsonb)."""
    return (
        f"({d}->>'kind' is distinct from e.kind or {d}->>'actor' is distinct from e.actor or "
        f"(case {d}->>'kind' when 'check.accept' then {d}->'data'->>'check' "
        f"when 'check.revoke' then {d}->'data'->>'check' "
        f"when 'probe.run' then 'probe:' || ({d}->'data'->>'probe') "
        f"when 'packet.export' then 'packet:' || ({d}->'data'->>'packet') "
        f"else (case when jsonb_typeof({d}->'data'->'subject') = 'string' then {d}->'data'->>'subject' "
        f"else '' end) end) is distinct from e.subject)"
    )


def tables(s: str) -> Tables:
    return Tables(prefix=f"{s}.", head="")


def pg_sql(s: str) -> Sql:
    """The statements on schema `s` (validated by postgres_schema.valid_schema)."""
    like = "kind ilike %s escape '\\' or actor ilike %s escape '\\' or subject ilike %s escape '\\'"
    event = f"select seq, hash, body, signature from {s}.audit_events "
    return Sql(
        head=f"select count, head from {s}.audit_head",
        lock_head=f"select count, head from {s}.audit_head for update",
        head_sealed=f"select count, head, state_digest from {s}.audit_head",
        move_head=f"update {s}.audit_head set count = %s, head = %s",
        seal=f"update {s}.audit_head set state_digest = %s",
        meta=f"select value from {s}.meta where key = %s",
        insert_meta=f"insert into {s}.meta(key, value) values (%s, %s)",
        set_meta=f"insert into {s}.meta(key, value) values (%s, %s) "
                 "on conflict (tenant_id, key) do update set value = excluded.value",
        idem_get=f"select event_seq, binding from {s}.idempotency where key = %s",
        idem_put=f"insert into {s}.idempotency(key, event_seq, binding) values (%s, %s, %s)",
        max_version=f"select max(version) from {s}.scenarios",
        insert_scenario=f"insert into {s}.scenarios(version, saved_at, actor, source, records, kind_counts) "
                        "values (%s, %s, %s, %s, %s, %s)",
        # By version through the key: `version <> %s` alone would read every kept record too.
        prune_records=f"delete from {s}.scenario_records where version = any(array(select version from "
                      f"{s}.scenarios where version <> %s and version not in "
                      f"(select scenario_version from {s}.snapshots order by id desc limit 1)))",
        latest_scenario=f"select version, saved_at, records, kind_counts from {s}.scenarios "
                        "order by version desc limit 1",
        record_bodies=f"select body from {s}.scenario_records where version = %s order by ord",
        next_snapshot_id=f"select coalesce(max(id), 0) + 1 from {s}.snapshots",
        insert_snapshot=f"insert into {s}.snapshots(id, scenario_version, rows, digest, kind_counts, frozen_at, "
                        "actor, event_seq) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        put_acceptance=f"insert into {s}.acceptances(check_id, actor, note, value, snapshot_digest, countersign, at, "
                       "event_seq, key) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                       "on conflict (tenant_id, check_id) do update "
                       "set actor = excluded.actor, note = excluded.note, value = excluded.value, "
                       "snapshot_digest = excluded.snapshot_digest, countersign = excluded.countersign, "
                       "at = excluded.at, event_seq = excluded.event_seq, key = excluded.key",
        delete_acceptance=f"delete from {s}.acceptances where check_id = %s",
        insert_probe_run=f"insert into {s}.probe_runs(run_id, probe, target_kind, endpoint, passed, started_at, "
                         "finished_at, snapshot_digest, facts, steps, transcript, event_seq) "
                         "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        passing_at=f"select count(*) from {s}.probe_results where passed and endpoint = %s",
        put_probe_result=f"insert into {s}.probe_results(check_id, passed, target_kind, endpoint, detail, run_id, "
                         "snapshot_digest, tls, credentials_external, at, event_seq, fingerprint) "
                         "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                         "on conflict (tenant_id, check_id) do update "
                         "set passed = excluded.passed, target_kind = excluded.target_kind, "
                         "endpoint = excluded.endpoint, detail = excluded.detail, run_id = excluded.run_id, "
                         "snapshot_digest = excluded.snapshot_digest, tls = excluded.tls, "
                         "credentials_external = excluded.credentials_external, at = excluded.at, "
                         "event_seq = excluded.event_seq, fingerprint = excluded.fingerprint",
        next_export_id=f"select coalesce(max(id), 0) + 1 from {s}.exports",
        insert_export=f"insert into {s}.exports(id, packet, format, destination, digest, at, actor, event_seq) "
                      "values (%s, %s, %s, %s, %s, %s, %s, %s)",
        page=event + "order by seq desc limit %s offset %s",
        page_like=event + f"where {like} order by seq desc limit %s offset %s",
        count_like=f"select count(*) from {s}.audit_events where {like}",
        history=event + "where subject = %s order by seq desc limit %s",
        trail=f"select e.body, e.hash, {columns_differ('j.d')} from {s}.audit_events e "
              "cross join lateral (select convert_from(e.body, 'UTF8')::jsonb as d) j order by e.seq",
        neighbours=f"select seq, hash, body from {s}.audit_events where seq between %s and %s",
        replay_events=f"select body from {s}.audit_events where kind = any(%s) or seq in (select max(seq) from "
                      f"{s}.audit_events where kind = any(%s) group by subject) order by seq",
        signed=f"select seq, body, signature from {s}.audit_events order by seq",
        roster=f"select seq, kind, body from {s}.audit_events where subject = 'roster' order by seq",
        probe_run=f"select run_id, probe, target_kind, endpoint, started_at, finished_at, steps, transcript, "
                  f"snapshot_digest, facts from {s}.probe_runs where run_id = %s",
        latest_runs=f"select run_id, probe, endpoint, passed, finished_at from {s}.probe_runs "
                    "order by event_seq desc limit %s",
        snapshot_version=f"select scenario_version from {s}.snapshots where id = %s",
    )
