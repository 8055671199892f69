"""The local walkthrough's actors and values, and the status reads it checks (through the CLI)."""

from __future__ import annotations

from pathlib import Path

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


def save_and_freeze(cli, *save_args: str, store: Path | None = None) -> None:
    """Marek saves the demo scenario (`save_args`, e.g. "--scale", "5") and freezes it."""
    for args in (("scenario", "save", *save_args), ("snapshot", "freeze")):
        result = cli(*args, actor=MAREK, store=store)
        assert result.code == 0, result


def transition_signed_off(cli, note: str = "") -> None:
    """Marek saves and freezes the scenario, then each transition check is accepted by its owner."""
    save_and_freeze(cli)
    for check, owner in TRANSITION:
        result = cli("accept", check, *(["--note", note] if note else []), actor=owner)
        assert result.code == 0, result


def release_ready(cli, target: Path) -> None:
    """The transition signed off, then the connection and dry-run probes into `target`:
    the release gate is READY."""
    transition_signed_off(cli)
    probe_target(cli, target)


def probe_target(cli, target: Path) -> None:
    """Marek's connection probe, then the dry-run, into `target` (a saved and frozen store)."""
    for probe in ("connection", "dry-run"):
        result = cli("probe", probe, str(target), actor=MAREK)
        assert result.code == 0, result


def owners_values(cli) -> None:
    """Anna confirms the rollback owner and records every provider and infrastructure value."""
    assert cli("accept", "rollback.owner_confirmation", actor=ANNA).code == 0
    for check, value in VALUES.items():
        result = cli("accept", check, "--value", value, actor=ANNA)
        assert result.code == 0, result


async def signed_off_before_the_probes(console, values: dict[str, str]) -> None:
    """Through the service: every owner check of the walkthrough that needs no probe (the
    transition, the rollback owner, the provider and infrastructure values)."""
    await console.save_scenario(MAREK)
    await console.freeze(MAREK)
    for check, owner in TRANSITION:
        await console.accept(owner, check, note="rehearsed")
    await console.accept(ANNA, "rollback.owner_confirmation")
    for check, value in values.items():
        await console.accept(ANNA, check, value=value)
