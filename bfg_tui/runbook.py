"""The migration runbook SQL, and whether it passes the RLS lint.

`runbook_sql()` is the hardened, idempotent, transaction-safe body shipped in
assets/runbook.sql. The lint itself is `bfg_tui.rls_lint`; every status read asks
`shipped_lint_ok()`, which answers from the verdict recorded for the shipped runbook
(assets/runbook_lint.json) while the runbook is the one it was recorded for, and lints
otherwise. Pure and stdlib only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .rls_lint import LintResult

SCHEMA = "bfg_flowcontrol"
MIGRATOR_ROLE = "bfg_migrator"
APP_ROLE = "bfg_app"
# Set the tenant for the current transaction only (parameter: the tenant id).
SET_TENANT_SQL = "select set_config('bfg.tenant_id', %s, true)"


# Runbook options: SQL applied after the runbook, in the same transaction.
OPTIONS = {"tenant-logins": "runbook_tenant_logins.sql"}


def runbook_sql(option: str | None = None) -> str:
    """The runbook SQL body (schema, tables, RLS, roles) from assets/runbook.sql, and an
    option's SQL after it (`tenant-logins`: one login per tenant, policies on session_user)."""
    if option is None:
        return _load_asset("runbook.sql")
    if option not in OPTIONS:
        raise ValueError(f"unknown runbook option {option!r} (one of: {', '.join(OPTIONS)})")
    return _load_asset("runbook.sql") + "\n" + _load_asset(OPTIONS[option])


@lru_cache(maxsize=4)
def _load_asset(name: str) -> str:
    from .assets_io import asset_text

    return asset_text(name)


def shipped_lint() -> LintResult:
    """The lint of the shipped runbook: what the packets report."""
    from .rls_lint import lint_rls

    return lint_rls(runbook_sql())


def runbook_sha256(sql: str) -> str:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # hashlib's own import costs more (start-up)
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import sha256
    return str(sha256(sql.encode("utf-8")).hexdigest())


def shipped_record() -> dict[str, Any]:
    """What assets/runbook_lint.json holds: the shipped runbook it speaks for, and the lint's verdict."""
    sql = runbook_sql()
    return {"runbook_sha256": runbook_sha256(sql), "ok": shipped_lint().ok}


def shipped_lint_ok() -> bool:
    """Does the shipped runbook pass the lint (the `rls_lint` fact)?

    The recorded verdict while the runbook is the one it was recorded for; any other
    runbook (edited in place, say) is linted. Compiling the lint's expressions would
    cost more than the rest of a `status` read.
    """
    import json

    try:
        recorded = json.loads(_load_asset("runbook_lint.json"))
    except (OSError, ValueError):
        recorded = None
    if (isinstance(recorded, dict) and isinstance(recorded.get("ok"), bool)
            and recorded.get("runbook_sha256") == runbook_sha256(runbook_sql())):
        return bool(recorded["ok"])
    return shipped_lint().ok


_GRANT = r"^\s*(grant|revoke)\b[^;]*?\b(?:to|from)\s+bfg_app\s*;"


def app_role_statements(sql: str | None = None) -> list[str]:
    """The grant/revoke statements of the runbook that concern the app role, one line each."""
    text = runbook_sql() if sql is None else sql
    return [re.sub(r"\s+", " ", m.group(0)).strip()
            for m in re.finditer(_GRANT, text, re.IGNORECASE | re.MULTILINE)]


def render_runbook(header: dict[str, str], schema: str) -> str:
    """The packet's schema and header comments (`-- key=value`), then the SQL body."""
    lines = [f"-- {schema}"]
    lines += [f"-- {k}={v}" for k, v in header.items()]
    return "\n".join(lines) + "\n" + runbook_sql()


if __name__ == "__main__":  # `make runbook-lint` writes assets/runbook_lint.json
    import json

    print(json.dumps(shipped_record(), indent=2))
