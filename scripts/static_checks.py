"""The type checker and the layer contracts, run on the package as it installs.

`store/` installs as `bfg_tui.store` and `screens/` as `bfg_tui.screens` (pyproject's
package-dir), which the editable install maps with an import hook that neither mypy nor
import-linter can follow. So both run on a tree of symlinks laid out as the package
installs, rebuilt on every run (new and deleted files count), and mypy's paths are
mapped back to the repository's folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "installed-tree"


def package_dirs() -> dict[str, str]:
    """Installed package path ("bfg_tui/store") -> repository folder ("store")."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {package.replace(".", "/"): folder for package, folder in mapping.items()}


def build_tree(dest: Path = TREE) -> dict[str, str]:
    """Real directories, one symlink per source file; returns installed path -> folder."""
    if dest.exists():
        shutil.rmtree(dest)
    dirs = package_dirs()
    for package, folder in dirs.items():
        source = ROOT / folder
        for path in source.rglob("*.py"):
            target = dest / package / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return dirs


def _to_source(line: str, dirs: dict[str, str]) -> str:
    prefix = os.path.relpath(TREE, ROOT) + os.sep
    if not line.startswith(prefix):
        return line
    rest = line[len(prefix):]
    # The longest installed prefix wins: bfg_tui/store/x.py is store/x.py, not bfg_tui/store/x.py.
    for package in sorted(dirs, key=len, reverse=True):
        if rest.startswith(package + "/"):
            return dirs[package] + rest[len(package):]
    return rest


def run_mypy(dirs: dict[str, str]) -> int:
    from mypy import api

    os.environ["MYPYPATH"] = str(TREE)
    out, err, status = api.run(["-p", "bfg_tui"])
    for line in out.splitlines():
        print(_to_source(line, dirs))
    sys.stderr.write(err)
    return status


def run_lint_imports(tree: Path = TREE, config: Path = ROOT / "pyproject.toml",
                     capture: bool = False) -> subprocess.CompletedProcess[str]:
    # From inside the tree: the checkout's own bfg_tui/ (on the path as the working
    # directory) has no store/ or screens/ in it.
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(lint), "--no-cache", str(config)], cwd=tree, env=env,
                          capture_output=capture, text=True)


def main(argv: list[str]) -> int:
    dirs = build_tree()
    which = set(argv) or {"types", "layers"}
    status = 0
    if "types" in which:
        status |= run_mypy(dirs)
    if "layers" in which:
        status |= run_lint_imports().returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
