"""SQLite schema, versioned with PRAGMA user_version; forward migrations only."""

from __future__ import annotations

APPLICATION_ID = 0x42464754  # "BFGT": tells our files from other SQLite databases
SCHEMA_VERSION = 5

# The searchable copies of an event's body, as SQLite generated columns; the subject as
# store.replay.subject_of derives it.
_BODY = "json_extract(cast(body as text), "
AUDIT_COLUMNS = (
    f"kind text generated always as ({_BODY}'$.kind')) virtual,\n"
    f"        actor text generated always as ({_BODY}'$.actor')) virtual,\n"
    f"        subject text generated always as (case {_BODY}'$.kind') "
    f"when 'check.accept' then coalesce({_BODY}'$.data.check'), '') "
    f"when 'check.revoke' then coalesce({_BODY}'$.data.check'), '') "
    f"when 'probe.run' then 'probe:' || coalesce({_BODY}'$.data.probe'), '') "
    f"when 'packet.export' then 'packet:' || coalesce({_BODY}'$.data.packet'), '') "
    f"else (case when json_type(cast(body as text), '$.data.subject') = 'text' "
    f"then {_BODY}'$.data.subject') else '' end) end) virtual"
)

# MIGRATIONS[n] moves a database from version n to n + 1.
MIGRATIONS: list[str] = [
    """
    create table meta (key text primary key, value text not null);
    create table scenarios (
        version integer primary key,
        saved_at text,
        actor text,
        source text not null,
        records integer not null,
        kind_counts text not null
    );
    create table scenario_records (
        version integer not null,
        ord integer not null,
        kind text not null,
        rid text not null,
        body blob not null, -- canonical JSON, UTF-8: hashed as stored, never re-encoded
        primary key (version, ord)
    ) without rowid;
    create table snapshots (
        id integer primary key,
        scenario_version integer not null,
        rows integer not null,
        digest text not null,
        kind_counts text not null,
        frozen_at text not null,
        actor text not null,
        event_seq integer not null
    );
    create table acceptances (
        check_id text primary key,
        actor text not null,
        note text not null,
        value text,
        snapshot_digest text,
        countersign integer not null,
        at text not null,
        event_seq integer not null
    );
    create table probe_runs (
        run_id text primary key,
        probe text not null,
        target_kind text not null,
        endpoint text not null,
        passed integer not null,
        started_at text not null,
        finished_at text not null,
        snapshot_digest text,
        facts text not null,
        steps text not null,
        transcript text not null,
        event_seq integer not null
    );
    create table probe_results (
        check_id text primary key,
        passed integer not null,
        target_kind text not null,
        endpoint text not null,
        detail text not null,
        run_id text not null,
        snapshot_digest text,
        tls integer not null,
        credentials_external integer not null,
        at text not null,
        event_seq integer not null,
        fingerprint text
    );
    create table exports (
        id integer primary key,
        packet text not null,
        format text not null,
        destination text not null,
        digest text not null,
        at text not null,
        actor text not null,
        event_seq integer not null
    );
    create table audit_events (
        seq integer primary key,
        hash text not null,
        body blob not null, -- canonical JSON, UTF-8: what the hash covers
        kind text not null,
        actor text not null,
        subject text not null default ''
    );
    create index audit_subject on audit_events(subject);
    create table audit_head (
        id integer primary key check (id = 1),
        count integer not null,
        head text not null
    );
    create table idempotency (key text primary key, event_seq integer not null);
    """,
    # 2: the head carries the digest of the state it stands for (the state tables are a
    # cache of the trail's replay), and an idempotency key is bound to its action.
    """
    alter table audit_head add column state_digest text not null default '';
    alter table idempotency add column binding text;
    """,
    # 3: an event's searchable kind, actor and subject are computed from its hashed body
    # (generated columns: they cannot be edited apart from it; verify checks the table's
    # definition), indexed for the filters and for replaying the state.
    f"""
    create table audit_events_v3 (
        seq integer primary key,
        hash text not null,
        body blob not null, -- canonical JSON, UTF-8: what the hash covers
        {AUDIT_COLUMNS}
    );
    insert into audit_events_v3(seq, hash, body) select seq, hash, body from audit_events;
    drop table audit_events;
    alter table audit_events_v3 rename to audit_events;
    create index audit_subject on audit_events(subject, seq);
    create index audit_kind on audit_events(kind, subject, seq);
    """,
    # 4: signed identity. The SSHSIG signature beside each signed event (over its exact
    # body; a table of its own, so audit_events keeps the definition verify checks), and
    # the signing key's fingerprint beside each acceptance.
    """
    create table audit_signatures (seq integer primary key, signature text not null);
    alter table acceptances add column key text;
    """,
    # 5: a store id, so a probe aimed at the console's own store (or a copy) is recognised.
    """
    alter table audit_head add column store_id text not null default '';
    update audit_head set store_id = lower(hex(randomblob(16)));
    """,
]
