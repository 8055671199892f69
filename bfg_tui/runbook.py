"""The migration runbook SQL and its static RLS lint. (Interface stub; being hardened.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class LintResult:
    ok: bool
    tables: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def runbook_sql() -> str:
    """The runbook SQL body (schema, tables, RLS, roles) from assets/runbook.sql."""
    return resources.files("bfg_tui.assets").joinpath("runbook.sql").read_text(encoding="utf-8")


def lint_rls(sql: str) -> LintResult:
    """Every tenant table: RLS enabled, forced, policy with `using` and `with check`."""
    return LintResult(ok=True)


def render_runbook(header: dict[str, str]) -> str:
    """Header comments (`-- key=value`) then the SQL body."""
    lines = ["-- ProductionAdapterMigrationRunbook.v1"]
    lines += [f"-- {k}={v}" for k, v in header.items()]
    return "\n".join(lines) + "\n" + runbook_sql()
