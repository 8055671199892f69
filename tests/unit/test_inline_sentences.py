"""No user-visible sentence is written inline: what is raised, refused, returned as an outcome or printed
says a message id (`Reason.of("code", …)`, `t("id", lang, …)`) and the edge renders it in English or Polish.

The scan reads the package's syntax tree: the first argument of every exception raised or built, of
`Reason(…)`, `Outcome(…)`, a refusal, the CLI's `_print`/`_err`/`_usage`, `print` and `notify`, and every
string a function returns. A string is a sentence when its literal text holds two words (an id, a key or
a format like "{a}: {b}" is not). The allow-list below names what stays English, and why.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

SOURCES = (ROOT / "bfg_tui", ROOT / "screens", ROOT / "store")

# Calls whose first argument is shown to a user as it is.
_SHOWN = frozenset({"Reason", "Outcome", "_print", "_err", "_usage", "print", "notify", "BfgError", "StoreError",
                    "InputError", "Refused", "StateMismatch", "WriteRefused", "SignatureError", "KeyFormatError",
                    "IdentityError", "ArgumentTypeError"})
_WORDS = re.compile(r"[A-Za-z]{2,}[,;:()']* +[(']*[A-Za-z]{2,}")  # two words, a space between
_SQL = re.compile(r"\s*\(?(select|insert|update|delete|create|alter|drop|grant|revoke|with|set|begin|copy)\b", re.I)

# Files whose sentences stay English, and why.
ALLOWED: dict[str, str] = {
    # The packaged catalog's validation: an error in a file the developers ship, named by its JSON path.
    "bfg_tui/catalog.py": "developer: the packaged catalog.json is invalid",
    # A probe's step details are evidence: stored in the trail as they were said, hashed, exported in packets.
    "bfg_tui/probes/postgres/replay.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/connection.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/rls.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/copy_in.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/session.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/readback.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/postgres/schema.py": "stored evidence (probe step detail)",
    "bfg_tui/probes/sqlite_target.py": "stored evidence (probe step detail)",
    "bfg_tui/runbook.py": "a guard on the code's own options",
    "bfg_tui/rls_lint.py": "evidence: the RLS lint summary a probe logs and records",
    # A payload the code hashes: only the code builds one (imported files are validated before).
    "bfg_tui/canonical.py": "internal: a programming error",
    # The demo generator's guards: the service checks --scale first, the catalog's kinds are the developers'.
    "bfg_tui/scenario.py": "internal: a programming error",
    # SQL text, not sentences; and a guard on a schema name the callers have validated.
    "store/postgres_schema.py": "SQL",
    "store/postgres_sql.py": "SQL",
}
# One sentence each, internal: never shown unless the code itself is wrong.
ALLOWED_TEXTS = frozenset({
    "bfg_tui/packets.py: packet   has duplicate field keys",
    # The SSHSIG parser's detail, shown inside a coded message ("damaged SSH signature (…)"), as a library's would be.
    "bfg_tui/identity/sshsig.py: no SSHSIG magic",
    "bfg_tui/identity/sshsig.py: SSHSIG version ",
    "bfg_tui/identity/sshsig.py: trailing bytes",
    "bfg_tui/identity/sshsig.py: trailing bytes in the signature",
})


def _texts(node: ast.expr | None) -> list[str]:
    """The literal texts a string expression may take: a string, an f-string's constant parts, each branch
    of `a if c else b`, the parts of `"…" + "…"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [" ".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [" ".join(_texts(node.left) + _texts(node.right))]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    return []


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _said(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every sentence raised, refused, printed or returned."""
    for node in ast.walk(tree):
        shown: list[ast.expr | None] = []
        if isinstance(node, ast.Call):
            name = _name(node)
            if name in _SHOWN or name.endswith(("Error", "Exception")):
                shown.append(node.args[0] if node.args else None)
            elif name == "refuse" and len(node.args) >= 3:
                shown.append(node.args[2])
            elif name == "VerifyResult" and len(node.args) >= 4:  # (ok, count, head, reason, …)
                shown.append(node.args[3])
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            shown += node.exc.args[:1]
        elif isinstance(node, ast.Return):
            shown.append(node.value)
        for expr in shown:
            for text in _texts(expr):
                if _WORDS.search(text) and not _SQL.match(text):
                    yield node.lineno, text


def inline_sentences(root: Path = ROOT) -> set[str]:
    """"path: text" of every sentence written inline, outside the files allowed."""
    found = set()
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            where = path.relative_to(root).as_posix()
            if where in ALLOWED:
                continue
            for _line, text in _said(ast.parse(path.read_text(encoding="utf-8"))):
                found.add(f"{where}: {text[:60]}")
    return found - ALLOWED_TEXTS


def test_no_sentence_is_written_inline() -> None:
    """A new sentence raised, refused, printed or returned fails here: give it a message id instead."""
    new = sorted(inline_sentences())
    assert not new, "\n".join(new)


def test_the_scan_finds_a_new_inline_sentence(tmp_path: Path) -> None:
    """A planted `raise StoreError("…")`, a refusal and a printed sentence are each found; ids and formats are not."""
    tree = ast.parse(
        "def f(x):\n"
        "    raise StoreError(f'cannot open {x}: the file is locked')\n"
        "async def g(self):\n"
        "    raise await self.refuse('a', 'b', 'no such check here', 'c')\n"
        "def h(x):\n"
        "    _print(f'{x} saved to disk')\n"
        "    _print(f'{x}: {x}')\n"
        "    raise StoreError(Reason.of('store.locked', path=x))\n"
        "    return 'check.accept'\n")
    assert sorted({line for line, _text in _said(tree)}) == [2, 4, 6]


def test_the_scan_finds_an_inline_verify_reason() -> None:
    """`audit verify`'s reason is the fourth field of its result: a sentence written there is found too."""
    tree = ast.parse(
        "def f(seq, head):\n"
        "    return VerifyResult(False, seq, head, f'event {seq} was edited', seq)\n"
        "def g(seq, head):\n"
        "    return VerifyResult(False, seq, head, Reason.of('audit.edited', seq=seq), seq)\n")
    assert [line for line, _text in _said(tree)] == [2]


def test_every_allowed_file_still_exists() -> None:
    assert not [where for where in ALLOWED if not (ROOT / where).is_file()]
    assert not [text for text in ALLOWED_TEXTS if not (ROOT / text.split(": ", 1)[0]).is_file()]
