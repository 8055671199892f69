"""The nine reviewer packets (SPEC §7): seed formats, computed figures, secret refusal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from bfg_tui.engine import evaluate, release_env
from bfg_tui.errors import Refused
from bfg_tui.models import Acceptance, Catalog, Evaluation, ProbeResult, ScenarioInfo, SnapshotInfo, State
from bfg_tui.packets import (
    FORMATS,
    PACKETS,
    TRAFFIC,
    Packet,
    build_packet,
    export_text,
    packet_id,
    render,
)
from bfg_tui.rls_lint import lint_rls
from bfg_tui.runbook import render_runbook, runbook_sql

CANARY = "CANARY-Pa55w0rd-7f3e"
DIGEST = hashlib.sha256(b"snapshot-1").hexdigest()
OLD_DIGEST = hashlib.sha256(b"snapshot-0").hexdigest()
HEAD = hashlib.sha256(b"audit-head").hexdigest()
ENDPOINT = "postgresql://app:***@db.example:5432/bfg?sslmode=require"
FINGERPRINT = "sha256:" + hashlib.sha256(b"cert").hexdigest()
AT = "2026-11-27T10:00:00Z"

# The seed page's packet lines (integration-console.txt 363, 429, 449, 467, 96–116).
SEED_CUTOVER = (
    "ProductionDataCutoverPlan.v1 target=db-auth-session-adapter session=grant-demo-local "
    "snapshot_schema=BFGScenarioSnapshot.v1 snapshot_checksum=bfg-e7a2d068 snapshot_rows=0 batch_rows=5 "
    "batches=1/4 steps=0/5 connection=0/4 dry_run=0/5 runbook_decision=BLOCKED_PENDING_PREFLIGHT "
    "release_decision=BLOCKED_PENDING_DRY_RUN rollback_decision=BLOCKED_PENDING_DRY_RUN "
    "cutover_decision=BLOCKED_PENDING_DATA_CUTOVER"
)
SEED_PREFLIGHT = (
    "ProductionAdapterMigrationPreflight.v1 schema=BFGScenarioSnapshot.v1 target=db-auth-session-adapter "
    "session=grant-demo-local checksum=bfg-eba94650 rows=0 adapter_contract=ScenarioStore.v1 dry_run=0/5 "
    "connection=0/4 rollback_decision=BLOCKED_PENDING_DRY_RUN"
)
SEED_RELEASE = (
    "BFG_RELEASE_ENVIRONMENT=local-demo BFG_RELEASE_TARGET=db-auth-session-adapter "
    "BFG_SCENARIO_ADAPTER=ScenarioStore.v1 BFG_STORAGE_ADAPTER=file-local BFG_AUTH_MODE=mock-auth-header "
    "BFG_TENANT_MODE=single-tenant-local BFG_ROLLBACK_OWNER=user_md_anna "
    "BFG_RELEASE_EVIDENCE=ProductionAdapterDryRun.v1 BFG_RELEASE_DECISION=BLOCKED_PENDING_DRY_RUN"
)
SEED_ROLLBACK = (
    "BFG_ROLLBACK_DECISION=BLOCKED_PENDING_DRY_RUN BFG_ROLLBACK_OWNER=user_md_anna "
    "BFG_ROLLBACK_STORAGE=file-local BFG_ROLLBACK_AUTH=mock-auth-header "
    "BFG_ROLLBACK_EVIDENCE=ProductionReleaseHandoff.v1 BFG_ROLLBACK_PACKET=ProductionRollbackDrill.v1"
)
SEED_WIRING = (
    "infrastructureAcceptance", "endpointContract", "tenantContext", "oidcRbacClaims",
    "rlsPolicyDraft", "secretsBackupBoundary", "liveCredentials",
)
# Checksum fields: the seed shows three different checksums for one empty snapshot (a
# defect, SPEC §5); with nothing frozen the packets say `none`.
CHECKSUM_KEYS = {"checksum", "snapshot_checksum"}


def pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for token in text.split():
        key, sep, value = token.partition("=")
        if sep:
            out.append((key, value))
    return out


def make_state(**overrides: Any) -> State:
    base: dict[str, Any] = dict(
        store_contract="ScenarioStore.v1",
        target_adapter="db-auth-session-adapter",
        fallback_adapter="file-local",
        scenario=ScenarioInfo(0, None, 6, {"tenants": 1, "users": 5}),
    )
    base.update(overrides)
    return State(**base)


def full_state(catalog: Catalog, **overrides: Any) -> State:
    """Everything accepted and probed on a TLS PostgreSQL target against one snapshot."""
    kinds = {k: 3 for k in catalog.record_kinds} | {"tenants": 1, "users": 5}
    rows = sum(kinds.values())
    acceptances = {
        cid: Acceptance(cid, check.owner or "", AT, i, value=check.value.example if check.value else None,
                        snapshot_digest=DIGEST)
        for i, (cid, check) in enumerate(catalog.checks.items())
        if check.kind == "owner"
    }
    probes = {}
    for i, (cid, check) in enumerate(catalog.checks.items()):
        if check.kind != "probe":
            continue
        detail = f"TLSv1.3 server certificate {FINGERPRINT}" if cid == "connection.tls_fingerprint" else "ok"
        run = "run-conn-1" if cid.startswith("connection.") else "replay-0001"
        probes[cid] = ProbeResult(cid, True, "postgresql", ENDPOINT, detail, run, AT, 100 + i,
                                  snapshot_digest=DIGEST if cid.startswith("dryrun.") else None,
                                  tls=True, credentials_external=True,
                                  fingerprint=FINGERPRINT if cid.startswith("connection.") else None)
    base: dict[str, Any] = dict(
        scenario=ScenarioInfo(3, AT, rows, kinds),
        snapshot=SnapshotInfo(1, rows, DIGEST, AT, kinds),
        acceptances=acceptances,
        probes=probes,
        connection_endpoint=ENDPOINT,
        last_change_seq=200,
        last_release_export_seq=201,
        audit_count=57,
        audit_head=HEAD,
    )
    base.update(overrides)
    return make_state(**base)


def with_(obj: Any, **changes: Any) -> Any:
    """Copy a model with changes, whether it is a NamedTuple or a dataclass."""
    return obj._replace(**changes) if hasattr(obj, "_replace") else dataclasses.replace(obj, **changes)


def text_of(pid: str, catalog: Catalog, state: State, fmt: str = "text") -> str:
    return export_text(pid, fmt, catalog, state, evaluate(catalog, state))  # type: ignore[arg-type]


def packet_of(pid: str, catalog: Catalog, state: State) -> Packet:
    return build_packet(pid, catalog, state, evaluate(catalog, state))


def fields_of(pid: str, catalog: Catalog, state: State) -> dict[str, str]:
    return dict(packet_of(pid, catalog, state).fields)


# ---------------------------------------------------------------- ids


def test_packet_ids_and_aliases() -> None:
    assert list(PACKETS) == [
        "runbook", "cutover", "preflight", "release", "rollback",
        "connection", "dry_run", "infrastructure", "wiring",
    ]
    assert PACKETS["dry_run"] == "ProductionAdapterDryRun.v1"
    assert PACKETS["wiring"] == "ProductionDbAuthAdapterWiring.v1"
    assert packet_id("dry-run") == "dry_run"
    assert packet_id("DRY_RUN") == "dry_run"
    assert packet_id("ProductionReleaseHandoff.v1") == "release"
    with pytest.raises(ValueError) as info:
        packet_id("handoff")
    message = str(info.value)
    assert "\n" not in message
    assert all(pid in message for pid in PACKETS)


# ---------------------------------------------------------------- fresh state = seed


def test_fresh_preflight_matches_seed(catalog: Catalog) -> None:
    text = text_of("preflight", catalog, make_state())
    assert text.count("\n") == 1 and text.startswith("ProductionAdapterMigrationPreflight.v1 ")
    got = pairs(text)
    seed = pairs(SEED_PREFLIGHT)
    assert [k for k, _ in got[: len(seed)]] == [k for k, _ in seed]
    for (key, value), (_, seed_value) in zip(got, seed, strict=False):
        assert value == ("none" if key in CHECKSUM_KEYS else seed_value), key
    assert got[len(seed):] == [
        ("identity", "demo"), ("snapshot_digest", "none"), ("audit_events", "0"), ("audit_head", "none"),
    ]


def test_fresh_cutover_matches_seed(catalog: Catalog) -> None:
    text = text_of("cutover", catalog, make_state())
    assert text.count("\n") == 1 and text.startswith("ProductionDataCutoverPlan.v1 ")
    got = pairs(text)
    seed = pairs(SEED_CUTOVER)
    assert [k for k, _ in got[: len(seed)]] == [k for k, _ in seed]
    for (key, value), (_, seed_value) in zip(got, seed, strict=False):
        if key in CHECKSUM_KEYS:
            assert value == "none"
        elif key == "batch_rows":
            # Computed: the tenant row + five actors of the tenant+RBAC group. The seed
            # showed 5 (it counted actors only).
            assert value == "6"
        else:
            assert value == seed_value, key
    assert "batches=1/4 steps=0/5" in text


def test_fresh_release_env_matches_seed(catalog: Catalog) -> None:
    state = make_state()
    lines = text_of("release", catalog, state).splitlines()
    assert lines[0] == "# ProductionReleaseHandoff.v1"
    assert lines[1:10] == SEED_RELEASE.split()
    ev = evaluate(catalog, state)
    assert lines[1:10] == [f"{k}={v}" for k, v in release_env(catalog, state, ev.decisions["release"]).items()]
    assert "BFG_RELEASE_DECISION=BLOCKED_PENDING_DRY_RUN" in lines
    assert lines[10:] == ["identity=demo", "snapshot_checksum=none", "snapshot_digest=none", "audit_events=0",
                          "audit_head=none"]


def test_fresh_rollback_env_matches_seed(catalog: Catalog) -> None:
    lines = text_of("rollback", catalog, make_state()).splitlines()
    assert lines[0] == "# ProductionRollbackDrill.v1"
    assert lines[1:7] == SEED_ROLLBACK.split()


def test_fresh_wiring_matches_seed(catalog: Catalog) -> None:
    lines = text_of("wiring", catalog, make_state()).splitlines()
    assert lines[0] == "# ProductionDbAuthAdapterWiring.v1"
    checks = lines[1:8]
    assert [line.split("=")[0] for line in checks] == [f"db-auth-session-adapter.{n}" for n in SEED_WIRING]
    # Fresh: wiring 2/7 — claims and the RLS lint (SPEC §4).
    ready = {line.split("=")[0].split(".")[1] for line in checks if line.endswith("=ready")}
    assert ready == {"oidcRbacClaims", "rlsPolicyDraft"}
    assert all(line.endswith(("=ready", "=blocked")) for line in checks)
    assert "wiring=2/7" in lines
    assert "decision=BLOCKED_PENDING_INFRASTRUCTURE_OR_CREDENTIALS traffic=production_traffic_disabled" in lines


def test_fresh_runbook_header_and_lint(catalog: Catalog) -> None:
    packet = packet_of("runbook", catalog, make_state())
    assert packet.schema == "ProductionAdapterMigrationRunbook.v1"
    assert [k for k, _ in packet.fields[:7]] == [
        "source", "target", "session", "checksum", "rows", "runbook_decision", "rls_lint",
    ]
    lint = lint_rls(runbook_sql())
    assert packet.get("rls_lint") == ("pass" if lint.ok else "fail")
    assert packet.get("rls_lint_problems") == str(len(lint.problems))
    assert packet.body == render_runbook(dict(packet.fields), packet.schema)
    text = render(packet, "text")
    assert text.splitlines()[:7] == [
        "-- ProductionAdapterMigrationRunbook.v1",
        "-- source=BFGScenarioSnapshot.v1",
        "-- target=db-auth-session-adapter",
        "-- session=grant-demo-local",
        "-- checksum=none",
        "-- rows=0",
        "-- runbook_decision=BLOCKED_PENDING_PREFLIGHT",
    ]
    assert "create schema if not exists bfg_flowcontrol" in text


def test_the_fingerprint_comes_from_the_stored_result_not_its_detail(catalog: Catalog) -> None:
    state = full_state(catalog)
    probes = {cid: with_(p, fingerprint=None) for cid, p in state.probes.items()}
    # The detail still names the certificate; only what the store kept counts.
    assert FINGERPRINT in probes["connection.tls_fingerprint"].detail
    conn = fields_of("connection", catalog, with_(state, probes=probes))
    assert conn["fingerprint"] == "not-recorded"


def test_fresh_connection_dry_run_and_infrastructure(catalog: Catalog) -> None:
    conn = fields_of("connection", catalog, make_state())
    assert conn["adapter_target"] == "db-auth-session-adapter"
    assert conn["endpoint"] == "not-recorded"
    assert conn["fingerprint"] == "not-recorded"
    assert conn["connection"] == "0/4"
    assert [conn[c] for c in catalog.groups["connection"].checks] == ["waiting"] * 4
    dry = fields_of("dry_run", catalog, make_state())
    assert dry["dry_run"] == "0/5" and dry["replay_id"] == "not-recorded" and dry["stale"] == "none"
    assert [dry[c] for c in catalog.groups["dry_run"].checks] == ["waiting"] * 5
    infra = fields_of("infrastructure", catalog, make_state())
    assert infra["infrastructure"] == "0/4" and infra["provider_selection"] == "0/4"
    assert [infra[c] for c in catalog.groups["infrastructure"].checks] == ["pending"] * 4
    assert infra["go_no_go"] == "BLOCKED_PENDING_DRY_RUN"


# ---------------------------------------------------------------- every packet, every format


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pid", list(PACKETS))
def test_every_packet_renders_with_trailer(catalog: Catalog, pid: str, fmt: str) -> None:
    state = full_state(catalog)
    packet = packet_of(pid, catalog, state)
    keys = [k for k, _ in packet.fields]
    assert len(keys) == len(set(keys))
    assert keys[-3:] == ["snapshot_digest", "audit_events", "audit_head"]
    assert CHECKSUM_KEYS & set(keys)
    assert packet.get("audit_head") == HEAD and packet.get("audit_events") == "57"
    assert packet.get("snapshot_digest") == DIGEST
    assert "bfg-" + DIGEST[:8] in {packet.get(k) for k in CHECKSUM_KEYS}
    assert all("\n" not in v for _, v in packet.fields)

    out = text_of(pid, catalog, state, fmt)  # passes the secret scan: no false positives
    assert out.endswith("\n")
    assert HEAD in out and DIGEST in out and "bfg-" + DIGEST[:8] in out
    if fmt == "text":
        assert f"audit_head={HEAD}" in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["schema"] == PACKETS[pid]
        assert list(doc["fields"]) == keys
        assert doc["fields"]["audit_head"] == HEAD
        assert doc["body"] == packet.body
    if fmt == "md":
        assert out.startswith(f"# {PACKETS[pid]}\n")
        assert "| field | value |" in out
        assert f"| `audit_head` | {HEAD} |" in out
        assert ("```sql" in out) == (pid == "runbook")


@pytest.mark.parametrize("pid", list(PACKETS))
def test_fresh_state_exports_in_every_format(catalog: Catalog, pid: str) -> None:
    for fmt in FORMATS:
        assert text_of(pid, catalog, make_state(), fmt)


def test_unknown_format_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError):
        text_of("preflight", catalog, make_state(), "yaml")


# ---------------------------------------------------------------- figures are computed


def test_figures_follow_the_state(catalog: Catalog) -> None:
    fresh, full = make_state(), full_state(catalog)
    ev_full = evaluate(catalog, full)
    pre = pairs(text_of("preflight", catalog, full))
    assert dict(pre)["checksum"] == "bfg-" + DIGEST[:8]
    assert dict(pre)["rows"] == str(full.snapshot.rows)  # type: ignore[union-attr]
    assert dict(pre)["dry_run"] == "5/5" and dict(pre)["connection"] == "4/4"
    assert dict(pre)["rollback_decision"] == ev_full.decisions["rollback"] == "READY"

    cut = dict(pairs(text_of("cutover", catalog, full)))
    assert cut["batches"] == "4/4" and cut["steps"] == "5/5"
    assert cut["batch_rows"] == str(sum(full.scenario.kind_counts.values()))
    assert cut["cutover_decision"] == "READY"

    assert "BFG_RELEASE_DECISION=READY" in text_of("release", catalog, full)
    assert "BFG_ROLLBACK_DECISION=READY" in text_of("rollback", catalog, full)
    assert text_of("preflight", catalog, fresh) != text_of("preflight", catalog, full)


def test_acceptances_change_infrastructure_figures(catalog: Catalog) -> None:
    acc = {
        "infra.hosting_provider": Acceptance("infra.hosting_provider", "user_md_anna", AT, 7,
                                             value="Hetzner Cloud, account bfg-prod"),
        "infra.secrets_backup": Acceptance("infra.secrets_backup", "user_md_anna", AT, 8,
                                           value="managed secrets; RPO 15 min; restore owner user_md_anna"),
    }
    state = make_state(acceptances=acc, audit_count=9, audit_head=HEAD)
    infra = fields_of("infrastructure", catalog, state)
    assert infra["infrastructure"] == "2/4"
    assert infra["infra.hosting_provider"] == "accepted"
    assert infra["infra.hosting_provider.value"] == "Hetzner Cloud, account bfg-prod"
    assert infra["infra.hosting_provider.accepted_by"] == "user_md_anna"
    assert infra["infra.hosting_provider.at"] == AT
    assert infra["infra.region_residency"] == "pending"
    assert infra["audit_events"] == "9" and infra["audit_head"] == HEAD
    wiring = text_of("wiring", catalog, state)
    assert "db-auth-session-adapter.secretsBackupBoundary=ready" in wiring
    assert "wiring=3/7" in wiring
    export_text("infrastructure", "text", catalog, state, evaluate(catalog, state))  # scan stays quiet


def test_full_state_wiring_ready_but_traffic_stays_disabled(catalog: Catalog) -> None:
    state = full_state(catalog)
    lines = text_of("wiring", catalog, state).splitlines()
    assert all(line.endswith("=ready") for line in lines[1:8])
    assert f"decision=READY traffic={TRAFFIC}" in lines
    assert TRAFFIC == "production_traffic_disabled"


def test_connection_and_dry_run_evidence(catalog: Catalog) -> None:
    state = full_state(catalog)
    conn = fields_of("connection", catalog, state)
    assert conn["endpoint"] == ENDPOINT and conn["target_kind"] == "postgresql"
    assert conn["fingerprint"] == FINGERPRINT and conn["tls"] == "yes" and conn["run_id"] == "run-conn-1"
    assert [conn[c] for c in catalog.groups["connection"].checks] == ["passed"] * 4
    assert conn["connection"] == "4/4"
    dry = fields_of("dry_run", catalog, state)
    assert dry["replay_id"] == "replay-0001" and dry["dry_run"] == "5/5" and dry["stale"] == "none"
    assert dry["replay_snapshot_checksum"] == "bfg-" + DIGEST[:8]


def test_stale_dry_run_is_flagged(catalog: Catalog) -> None:
    base = full_state(catalog)
    stale_probes = {
        cid: (with_(p, snapshot_digest=OLD_DIGEST) if cid.startswith("dryrun.") else p)
        for cid, p in base.probes.items()
    }
    state = full_state(catalog, probes=stale_probes)
    dry = fields_of("dry_run", catalog, state)
    dry_checks = catalog.groups["dry_run"].checks
    assert dry["stale"] == ",".join(dry_checks)
    assert [dry[c] for c in dry_checks] == ["stale"] * 5
    assert dry["dry_run"] == "0/5"
    assert dry["replay_snapshot_checksum"] == "bfg-" + OLD_DIGEST[:8]
    assert dry["snapshot_checksum"] == "bfg-" + DIGEST[:8]


def test_failed_probe_and_multiline_detail(catalog: Catalog) -> None:
    failed = ProbeResult("connection.write_probe", False, "sqlite", "sqlite:///tmp/x.db",
                         "write refused:\nread-only file", "run-2", AT, 5)
    state = make_state(probes={"connection.write_probe": failed}, connection_endpoint="sqlite:///tmp/x.db")
    conn = fields_of("connection", catalog, state)
    assert conn["connection.write_probe"] == "failed"
    assert conn["connection.write_probe.detail"] == "write refused: read-only file"
    assert conn["endpoint"] == "sqlite:///tmp/x.db" and conn["target_kind"] == "sqlite"


# ---------------------------------------------------------------- secret refusal


def leaky(catalog: Catalog, **probe_overrides: Any) -> State:
    """A state whose stored probe evidence accidentally holds the canary password."""
    base = full_state(catalog)
    probes = {cid: with_(p, **probe_overrides) for cid, p in base.probes.items()}
    return full_state(catalog, probes=probes, connection_endpoint=probes["connection.endpoint_reachability"].endpoint)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pid", ["connection", "dry_run"])
def test_leaked_endpoint_refuses_export(catalog: Catalog, pid: str, fmt: str) -> None:
    state = leaky(catalog, endpoint=f"postgresql://app:{CANARY}@db.example:5432/bfg")
    ev: Evaluation = evaluate(catalog, state)
    with pytest.raises(Refused) as info:
        export_text(pid, fmt, catalog, state, ev)  # type: ignore[arg-type]
    exc = info.value
    assert exc.reason == "export refused: secret-like value in field 'endpoint' (url-password)"
    assert exc.action == "packet.export" and exc.subject == pid
    assert CANARY not in str(exc) and CANARY not in repr(exc.args)


def test_leaked_detail_and_value_name_their_field(catalog: Catalog) -> None:
    state = leaky(catalog, detail=f"connected with password={CANARY}")
    with pytest.raises(Refused) as info:
        text_of("connection", catalog, state)
    assert "field 'connection.endpoint_reachability.detail' (password)" in info.value.reason
    assert CANARY not in info.value.reason

    acc = {"infra.secrets_backup": Acceptance("infra.secrets_backup", "user_md_anna", AT, 3,
                                              value="vault token=hvs8a7sd6f5g4h3j2k1")}
    state = make_state(acceptances=acc)
    with pytest.raises(Refused) as info:
        text_of("infrastructure", catalog, state)
    assert "field 'infra.secrets_backup.value' (token)" in info.value.reason


def test_render_escapes_markdown_cells(catalog: Catalog) -> None:
    acc = {"infra.region_residency": Acceptance("infra.region_residency", "user_md_anna", AT, 3,
                                                value="eu-central | backups in EU")}
    out = text_of("infrastructure", catalog, make_state(acceptances=acc), "md")
    assert "| `infra.region_residency.value` | eu-central \\| backups in EU |" in out
