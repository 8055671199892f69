"""The type checker and the layer contracts see the package as it installs, and the contracts bite."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT


def _static_checks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("static_checks", ROOT / "scripts" / "static_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("static_checks", module)
    spec.loader.exec_module(module)
    return module


def test_tree_holds_every_source_file_under_its_installed_name(tmp_path: Path) -> None:
    checks = _static_checks()
    tree = tmp_path / "tree"
    dirs = checks.build_tree(tree)
    assert dirs["bfg_tui/store"] == "store" and dirs["bfg_tui/screens"] == "screens"
    expected = {f"{package}/{path.relative_to(ROOT / folder)}"
                for package, folder in dirs.items() for path in (ROOT / folder).rglob("*.py")}
    linked = {str(path.relative_to(tree)) for path in tree.rglob("*.py")}
    assert linked == expected
    assert "bfg_tui/store/base.py" in linked and "bfg_tui/screens/base.py" in linked
    assert (tree / "bfg_tui/store/base.py").resolve() == ROOT / "store" / "base.py"


def test_mypy_paths_name_the_repository_folders() -> None:
    checks = _static_checks()
    dirs = checks.package_dirs()
    prefix = str(checks.TREE.relative_to(ROOT))
    assert checks._to_source(f"{prefix}/bfg_tui/store/core.py:3: error: x", dirs) == "store/core.py:3: error: x"
    assert checks._to_source(f"{prefix}/bfg_tui/screens/home.py:9: note", dirs) == "screens/home.py:9: note"
    assert checks._to_source(f"{prefix}/bfg_tui/engine.py:1: error", dirs) == "bfg_tui/engine.py:1: error"
    assert checks._to_source("Found 1 error in 1 file", dirs) == "Found 1 error in 1 file"


@pytest.mark.slow  # two import-linter runs
def test_layer_contracts_break_on_a_planted_import(tmp_path: Path) -> None:
    checks = _static_checks()
    tree = tmp_path / "tree"
    checks.build_tree(tree)
    assert checks.run_lint_imports(tree, capture=True).returncode == 0
    # A store module that reaches up into the service and the catalog, and draws with Textual.
    (tree / "bfg_tui/store/planted.py").write_text("import textual\nfrom bfg_tui import catalog, service\n")
    # A domain module that decides RBAC and reads the store.
    (tree / "bfg_tui/planted.py").write_text("from bfg_tui import rbac\nfrom bfg_tui.store import base\n")
    # The models, which the engine's results are, reaching up into the engine.
    models = tree / "bfg_tui/models.py"
    source = models.read_text()
    models.unlink()  # a copy, never written through the link to the checkout
    models.write_text(source + "\nfrom bfg_tui import engine  # noqa: E402\n")
    result = checks.run_lint_imports(tree, capture=True)
    assert result.returncode != 0
    # Every contract breaks: the layers, Textual in the ui, the store's imports, RBAC, the domain core, the cycle.
    summary = re.search(r"Contracts: (\d+) kept, (\d+) broken", result.stdout)
    assert summary is not None and summary.group(1) == "0" and int(summary.group(2)) >= 6, result.stdout
    assert "bfg_tui.store.planted -> textual" in result.stdout
    assert "bfg_tui.store.planted -> bfg_tui.service" in result.stdout
    assert "bfg_tui.planted -> bfg_tui.rbac" in result.stdout
    assert "bfg_tui.models is not allowed to import bfg_tui.engine" in result.stdout


def test_no_contract_ignores_an_import() -> None:
    """Every cycle is gone, so no contract carries an exception list that could hide a new one."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert {c["id"] for c in contracts} >= {"layers", "acyclic"}
    assert [c["id"] for c in contracts if c.get("ignore_imports")] == []


# The cycles the redesign removed, each planted back as the import that used to close it:
# the figures typing the engine's Evaluation, the engine asking the planner for the
# recommended action, the screens typing the App.
_CYCLES = {
    "figures -> engine": ("bfg_tui/figures.py", "if typing.TYPE_CHECKING:\n    from bfg_tui.engine import evaluate\n",
                          ("engine", "figures")),
    "engine -> plan": ("bfg_tui/engine.py", "def _first_step() -> object:\n    from bfg_tui.plan import recommend\n"
                       "    return recommend\n", ("engine", "plan")),
    "screens.base -> app": ("bfg_tui/screens/base.py", "if typing.TYPE_CHECKING:\n    from bfg_tui.app import BfgApp\n",
                            ("app", "screens")),
}


@pytest.mark.parametrize("cycle", sorted(_CYCLES))
def test_a_planted_cycle_fails_the_contracts(tmp_path: Path, cycle: str) -> None:
    checks = _static_checks()
    tree = tmp_path / "tree"
    checks.build_tree(tree)
    module, planted, pair = _CYCLES[cycle]
    path = tree / module
    source = path.read_text()
    path.unlink()  # the tree's file is a link to the checkout's: write a copy, never through the link
    path.write_text(f"{source}\nimport typing  # noqa: E402\n\n{planted}")
    result = checks.run_lint_imports(tree, capture=True)
    assert result.returncode != 0, result.stdout
    assert "no import cycle between modules or packages, at any depth BROKEN" in result.stdout, result.stdout
    edges = {tuple(sorted(m)) for m in re.findall(r"^- \.(\w+)(?:\.\w+)* -> \.(\w+)", result.stdout, re.M)}
    assert pair in edges, result.stdout
