"""The SQLite store's statements for the core (store.core.Sql)."""

from __future__ import annotations

from . import replay
from .core import Sql
from .schema import MIGRATIONS

# What `audit_events` must be: kind, actor and subject generated from the body. A table
# rebuilt with plain columns (writable_schema) could make them say anything.
AUDIT_TABLE = " ".join(MIGRATIONS[2].split("create table audit_events_v3", 1)[1].split(";")[0].split("(", 1)[1].split())
# The events a replay needs: every one that shapes a table, and of acceptances only the
# latest per check (the columns it selects on are verified first).
_KINDS = ", ".join(f"'{k}'" for k in replay.STATE_KINDS)
_EVENT = "select seq, hash, body, signature from audit_events left join audit_signatures using (seq) "
_LIKE = "kind like ? escape '\\' or actor like ? escape '\\' or subject like ? escape '\\'"

SQL = Sql(
    head="select count, head from audit_head where id = 1",
    lock_head="select count, head from audit_head where id = 1",  # BEGIN IMMEDIATE holds the write lock
    head_sealed="select count, head, state_digest from audit_head where id = 1",
    move_head="update audit_head set count = ?, head = ? where id = 1",
    seal="update audit_head set state_digest = ? where id = 1",
    meta="select value from meta where key = ?",
    insert_meta="insert into meta(key, value) values (?, ?)",
    set_meta="insert into meta(key, value) values (?, ?) on conflict(key) do update set value = excluded.value",
    idem_get="select event_seq, binding from idempotency where key = ?",
    idem_put="insert into idempotency(key, event_seq, binding) values (?, ?, ?)",
    max_version="select max(version) from scenarios",
    insert_scenario="insert into scenarios(version, saved_at, actor, source, records, kind_counts) "
                    "values (?, ?, ?, ?, ?, ?)",
    # By version through the primary key: `version <> ?` alone would scan every row.
    prune_records="delete from scenario_records where version in (select version from scenarios "
                  "where version <> ? and version not in "
                  "(select scenario_version from snapshots order by id desc limit 1))",
    latest_scenario="select version, saved_at, records, kind_counts from scenarios order by version desc limit 1",
    record_bodies="select body from scenario_records where version = ? order by ord",
    next_snapshot_id="select coalesce(max(id), 0) + 1 from snapshots",
    insert_snapshot="insert into snapshots(id, scenario_version, rows, digest, kind_counts, frozen_at, actor, "
                    "event_seq) values (?, ?, ?, ?, ?, ?, ?, ?)",
    put_acceptance="insert or replace into acceptances(check_id, actor, note, value, snapshot_digest, countersign, "
                   "at, event_seq, key) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    delete_acceptance="delete from acceptances where check_id = ?",
    insert_probe_run="insert into probe_runs(run_id, probe, target_kind, endpoint, passed, started_at, finished_at, "
                     "snapshot_digest, facts, steps, transcript, event_seq) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    passing_at="select count(*) from probe_results where passed = 1 and endpoint = ?",
    put_probe_result="insert or replace into probe_results(check_id, passed, target_kind, endpoint, detail, run_id, "
                     "snapshot_digest, tls, credentials_external, at, event_seq, fingerprint) "
                     "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    next_export_id="select coalesce(max(id), 0) + 1 from exports",
    insert_export="insert into exports(id, packet, format, destination, digest, at, actor, event_seq) "
                  "values (?, ?, ?, ?, ?, ?, ?, ?)",
    page=_EVENT + "order by seq desc limit ? offset ?",
    page_like=_EVENT + f"where {_LIKE} order by seq desc limit ? offset ?",
    count_like=f"select count(*) from audit_events where {_LIKE}",
    history=_EVENT + "where subject = ? order by seq desc limit ?",
    # cast: a body rewritten as TEXT by a hand edit still compares as bytes.
    trail="select cast(body as blob), hash from audit_events order by seq",
    neighbours="select seq, hash, cast(body as blob) from audit_events where seq between ? and ?",
    replay_events=(
        f"select cast(body as blob) from audit_events where seq in (select seq from audit_events where kind in ({_KINDS}) "
        f"union all select max(seq) from audit_events where kind = 'check.accept' group by subject "
        f"union all select max(seq) from audit_events where kind = 'check.revoke' group by subject) order by seq"
    ),
    signed="select seq, cast(body as blob), signature from audit_events left join audit_signatures using (seq) "
           "order by seq",
    roster="select seq, kind, body from audit_events where subject = 'roster' order by seq",
    probe_run="select run_id, probe, target_kind, endpoint, started_at, finished_at, steps, transcript, "
              "snapshot_digest, facts from probe_runs where run_id = ?",
    latest_runs="select run_id, probe, endpoint, passed, finished_at from probe_runs order by event_seq desc limit ?",
    snapshot_version="select scenario_version from snapshots where id = ?",
)
