"""The console's layers, read from its source: the App wires, the flows act, only the service
touches the store or decides permissions, and the product carries no benchmark hooks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = [ROOT / "bfg_tui" / name for name in ("app.py", "live.py", "flows.py")] + sorted((ROOT / "screens").glob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _code(path: Path) -> str:
    """The source without its strings and comments (a docstring may name a private attribute)."""
    import io
    import tokenize

    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return " ".join(tok.string for tok in tokens if tok.type not in (tokenize.STRING, tokenize.COMMENT))


def test_the_console_reads_and_writes_through_the_service_only() -> None:
    for path in CONSOLE:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.store\b(?!s)", text.replace("bfg_tui.store.", "")), f"{path.name} touches the store"
        rbac = [i for i in _imports(path) if "rbac" in i.split(".")]
        assert not rbac, f"{path.name} imports {rbac}: permissions are the service's (Console.can)"


def test_the_app_is_wiring() -> None:
    app = (ROOT / "bfg_tui" / "app.py").read_text(encoding="utf-8")
    assert len(app.splitlines()) < 200
    assert "@work" not in app and "push_screen_wait" not in app, "flows belong in bfg_tui/flows.py"


def test_no_benchmark_hooks_in_the_product() -> None:
    for path in [*(ROOT / "bfg_tui").rglob("*.py"), *(ROOT / "screens").glob("*.py")]:
        assert "BFG_TUI_BENCH" not in path.read_text(encoding="utf-8"), path


def test_textual_private_names_only_in_the_compat_module() -> None:
    private = re.compile(r"\btextual\s*\.\s*_|\.\s*_(bindings|css_update_count|compositor|display)\b")
    assert private.search(_code(ROOT / "bfg_tui" / "textual_compat.py")), "the search finds nothing at all"
    for path in [*(ROOT / "bfg_tui").rglob("*.py"), *(ROOT / "screens").glob("*.py"), *(ROOT / "benchmarks").glob("*.py"),
                 *(ROOT / "scripts").glob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        if path.name in ("textual_compat.py", "test_textual_compat.py"):
            continue
        found = private.search(_code(path))
        assert found is None, f"{path.relative_to(ROOT)} uses {found.group()}: go through bfg_tui/textual_compat.py"
