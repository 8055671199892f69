"""The static RLS lint of migration SQL (`lint_rls`), and its record for the shipped runbook.

`lint_rls(sql)` checks, statically and fast (regular expressions, cached), that every
tenant table (a `create table` with a `tenant_id` column) has row level security enabled
and forced and a policy with both `using` and `with check` that scopes by tenant_id.
Pure and stdlib only. Compiling its expressions costs more than a `status` read of the
store, so the verdict on the shipped runbook is recorded in assets/runbook_lint.json
(`make runbook-lint` writes it; a test fails when it is stale) and this module is
imported only when SQL must really be linted (see `bfg_tui.runbook.shipped_lint_ok`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class LintResult(NamedTuple):
    ok: bool
    tables: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for packets and the runbook view."""
        if self.ok:
            return f"rls_lint=passed tenant_tables={len(self.tables)}"
        return f"rls_lint=failed tenant_tables={len(self.tables)} problems={len(self.problems)}"



# --- lexical clean-up -----------------------------------------------------------------

# Comments, string literals, dollar-quoted bodies and quoted identifiers, in one pass.
_LEX = re.compile(
    r"--[^\n]*"
    r"|/\*.*?\*/"
    r"|'(?:[^']|'')*'"
    r"|\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$"
    r'|"(?:[^"]|"")*"',
    re.DOTALL,
)


def _clean(sql: str) -> str:
    """Lower-case SQL with comments removed, literals emptied and identifiers unquoted."""

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith(("--", "/*")):
            return " "
        if tok.startswith("'"):
            return "''"
        if tok.startswith("$"):
            return "$$ $$"
        return tok[1:-1].replace('""', '"')  # quoted identifier

    return _LEX.sub(sub, sql).lower()


_NAME = r"[a-z_][\w$]*(?:\s*\.\s*[a-z_][\w$]*)?"
_CREATE_TABLE = re.compile(
    r"\bcreate\s+(?:(?:global|local)\s+)?(?:(?:temporary|temp|unlogged)\s+)?table\s+"
    r"(?:if\s+not\s+exists\s+)?(" + _NAME + r")\s*\(",
)
_ALTER_TABLE = re.compile(r"\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?(" + _NAME + r")\s+(.*)", re.DOTALL)
_CREATE_POLICY = re.compile(r"\bcreate\s+policy\s+(" + _NAME + r")\s+on\s+(" + _NAME + r")\b(.*)", re.DOTALL)
_DROP_POLICY = re.compile(r"\bdrop\s+policy\s+(?:if\s+exists\s+)?(" + _NAME + r")\s+on\s+(" + _NAME + r")")
_DROP_TABLE = re.compile(r"\bdrop\s+table\s+(?:if\s+exists\s+)?(.*)", re.DOTALL)
_PARENS = re.compile(r"[(),]")
_WS = re.compile(r"\s+")


def _norm(name: str) -> str:
    return _WS.sub("", name)


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    if "." in a and "." in b:
        return False
    return a.rsplit(".", 1)[-1] == b.rsplit(".", 1)[-1]


def _top_level_items(body: str) -> list[str]:
    """Split on commas outside parentheses."""
    items, depth, start = [], 0, 0
    for m in _PARENS.finditer(body):
        ch = m.group(0)
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            items.append(body[start : m.start()])
            start = m.end()
    items.append(body[start:])
    return items


# A column definition `tenant_id <type>` right after the opening parenthesis or a comma.
# (`primary key (tenant_id, x)` or `references t (tenant_id)` do not match; a check
# constraint on tenant_id could, but only in a table that has that column anyway.)
_TENANT_COLUMN = re.compile(r"[(,]\s*tenant_id\s+[a-z]")
_USING = re.compile(r"\busing\s*\(")
_WITH_CHECK = re.compile(r"\bwith\s+check\s*\(")


def _policy_clauses(rest: str) -> tuple[str | None, str | None]:
    """(using expression, with check expression); the grammar puts using first."""
    u = _USING.search(rest)
    w = _WITH_CHECK.search(rest)
    using = rest[u.end() : w.start() if w and w.start() > u.end() else len(rest)] if u else None
    check = rest[w.end() :] if w else None
    return using, check


class _Policy(NamedTuple):
    name: str
    using: str | None
    with_check: str | None


class _Table:
    __slots__ = ("enabled", "forced", "name", "policies")

    def __init__(self, name: str) -> None:
        self.name = name
        self.enabled = False
        self.forced = False
        self.policies: dict[str, _Policy] = {}


def _scoped(expr: str) -> bool:
    """Scoped by the tenant setting (set by a trusted app server) or by who is connected."""
    return ("tenant_id" in expr and "current_setting" in expr) or "session_user" in expr


def _empty_safe(expr: str) -> bool:
    """An empty tenant setting must match nothing: current_setting wrapped in nullif."""
    return "current_setting" not in expr or re.search(r"\bnullif\s*\(\s*current_setting", expr) is not None


@lru_cache(maxsize=16)
def lint_rls(sql: str) -> LintResult:
    """Every tenant table: RLS enabled, forced, policy with `using` and `with check`."""
    tables: list[_Table] = []

    def find(name: str) -> _Table | None:
        for t in tables:
            if _same(t.name, name):
                return t
        return None

    for stmt in _clean(sql).split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        head = stmt[:7]
        if head.startswith("create"):
            m = _CREATE_TABLE.match(stmt)
            if m:
                name = _norm(m.group(1))
                if _TENANT_COLUMN.search(stmt, m.end() - 1) and find(name) is None:
                    tables.append(_Table(name))
                continue
            m = _CREATE_POLICY.match(stmt)
            if m:
                t = find(_norm(m.group(2)))
                if t is not None:
                    name = _norm(m.group(1))
                    t.policies[name] = _Policy(name, *_policy_clauses(m.group(3)))
        elif head.startswith("alter"):
            m = _ALTER_TABLE.match(stmt)
            if m:
                t = find(_norm(m.group(1)))
                if t is not None:
                    for action in _top_level_items(m.group(2)):
                        a = _WS.sub(" ", action).strip()
                        if a == "enable row level security":
                            t.enabled = True
                        elif a == "disable row level security":
                            t.enabled = False
                        elif a == "force row level security":
                            t.forced = True
                        elif a == "no force row level security":
                            t.forced = False
        elif head.startswith("drop"):
            m = _DROP_POLICY.match(stmt)
            if m:
                t = find(_norm(m.group(2)))
                if t is not None:
                    t.policies.pop(_norm(m.group(1)), None)
                continue
            m = _DROP_TABLE.match(stmt)
            if m:
                for item in _top_level_items(m.group(1)):
                    words = item.split()
                    if words:
                        t = find(_norm(words[0]))
                        if t is not None:
                            tables.remove(t)

    problems: list[str] = []
    if not tables:
        problems.append("no tenant tables found (no create table with a tenant_id column)")
    for t in tables:
        if not t.enabled:
            problems.append(f"{t.name}: row level security not enabled")
        if not t.forced:
            problems.append(f"{t.name}: row level security not forced (owner bypasses policies)")
        if not t.policies:
            problems.append(f"{t.name}: no policy")
            continue
        complete = [p for p in t.policies.values() if p.using is not None and p.with_check is not None]
        if not complete:
            missing = sorted(
                {"using" for p in t.policies.values() if p.using is None}
                | {"with check" for p in t.policies.values() if p.with_check is None}
            )
            problems.append(f"{t.name}: no policy with both using and with check (missing {', '.join(missing)})")
            continue
        for p in complete:
            using, check = p.using or "", p.with_check or ""
            if not (_scoped(using) and _scoped(check)):
                problems.append(f"{t.name}: policy {p.name} does not compare tenant_id to the tenant setting"
                                " or to the session_user's mapping")
            elif not (_empty_safe(using) and _empty_safe(check)):
                problems.append(
                    f"{t.name}: policy {p.name} lets an empty tenant setting match"
                    " (use nullif(current_setting(...), ''))"
                )
    return LintResult(ok=not problems, tables=tuple(t.name for t in tables), problems=tuple(problems))
