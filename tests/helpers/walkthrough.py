"""The local walkthrough's actors and values, and the status reads it checks (through the CLI)."""

from __future__ import annotations

ANNA, MAREK, OLENA = "user_md_anna", "user_dispatcher_marek", "user_accountant_olena"
TRANSITION = [
    ("transition.contracts_frozen", ANNA),
    ("transition.role_headers_mapped", MAREK),
    ("transition.rehearsal_scenario_store", MAREK),
    ("transition.db_schema", OLENA),
    ("transition.secrets_and_auth", OLENA),
    ("transition.migration_and_rollback", ANNA),
]
VALUES = {
    "provider.live_db_auth_provider": "PostgreSQL 15 managed, EU",
    "provider.auth_rbac_owner": "OIDC/RBAC, owner user_accountant_olena",
    "provider.tenant_secrets_boundary": "tenant-rbac with RLS; managed secrets",
    "provider.live_wiring_go_no_go": "staging only",
    "infra.hosting_provider": "Hetzner Cloud, account bfg-prod",
    "infra.region_residency": "eu-central, backups in EU",
    "infra.runtime_owner": "user_dispatcher_marek on-call",
    "infra.secrets_backup": "managed secrets; RPO 15 min; restore owner user_md_anna",
}


def status(cli) -> dict:
    result = cli("status", "--json")
    assert result.code == 0, result
    return result.json()


def counts(doc: dict, *groups: str) -> dict[str, str]:
    return {g: f"{doc['groups'][g]['ready']}/{doc['groups'][g]['total']}" for g in groups}
