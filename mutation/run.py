"""Mutation testing of the core: `make mutate` (python -m mutation.run [--modules engine,rbac]).

Cosmic Ray lists the mutants of each module (`cosmic-ray init`) and applies each one in
place (`cosmic_ray.mutating.mutate_and_test`) to a scratch copy of the tree laid out as it
installs (`store/` becomes `bfg_tui/store/`, from pyproject's package-dir), then runs that
module's fast test subset there and restores the file. Two scratch copies, two workers.

A mutant the tests do not kill must be listed in mutation/equivalent.txt with a reason, or
the run fails. Mutants are keyed by module, enclosing function, operator, the source line's
text and an ordinal among identical keys, never by line number, so edits elsewhere in a
module leave the list valid.
"""

from __future__ import annotations

import argparse
import compileall
import json
import multiprocessing
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
EQUIVALENT = ROOT / "mutation" / "equivalent.txt"
RESULT = WORK / "last.json"


class Module(NamedTuple):
    source: str  # path in the repository
    tests: tuple[str, ...]  # the fast subset that guards it


# The modules whose rules users rely on, each with the tests that exercise it (to extend:
# add a row, run `make mutate --modules NAME`, kill or list what survives).
MODULES: dict[str, Module] = {
    "engine": Module("bfg_tui/engine.py", ("tests/unit/test_engine_rules.py", "tests/unit/test_walkthrough.py",
                                           "tests/unit/test_fresh_state.py")),
    "rbac": Module("bfg_tui/rbac.py", ("tests/cli/test_refusals.py", "tests/unit/test_rbac.py")),
    "audit_chain": Module("store/audit_chain.py", ("tests/unit/test_audit_chain.py", "tests/store/test_store_contract.py")),
    "canonical": Module("bfg_tui/canonical.py", ("tests/unit/test_canonical.py", "tests/unit/test_scenario.py")),
}

# Cosmic Ray's full operator set makes ~1000 mutants of these four modules, most of them
# redundant: eleven replacements for every arithmetic operator and seven for every
# comparison. We keep one arithmetic replacement per operator, the negated and the
# off-by-one comparisons, and deleting a unary operator. `|` is skipped: in these modules
# it only appears in type annotations, which `from __future__ import annotations` never
# evaluates.
_KEPT_BINARY = "Add_Sub|Sub_Add|Mul_Add|Div_Mul|FloorDiv_Mul|Mod_Add|Pow_Mul"
_KEPT_COMPARE = ("Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt"
                 "|Lt_Gt|Gt_Lt|LtE_GtE|GtE_LtE")
SKIPPED_OPERATORS = re.compile(
    rf"core/(ReplaceBinaryOperator_(?!({_KEPT_BINARY})$)\w+"
    rf"|ReplaceComparisonOperator_(?!({_KEPT_COMPARE})$)\w+"
    r"|ReplaceUnaryOperator_(?!Delete_)\w+)$"
)

PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:textual-snapshot",
          "-p", "no:syrupy", "-m", "not postgres"]


class Mutant(NamedTuple):
    module: str
    job_id: str
    operator: str
    occurrence: int
    row: int
    col: int
    definition: str
    line: str
    ordinal: int

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        return (self.module, self.definition, self.operator, self.line, self.ordinal)


# ------------------------------------------------------------------ the scratch tree


def _installed_paths() -> dict[str, str]:
    """Repository folder -> installed package path, from pyproject's package-dir."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {folder: package.replace(".", "/") for package, folder in mapping.items()}


def scratch_path(source: str) -> str:
    folder, _, rest = source.partition("/")
    return f"{_installed_paths()[folder]}/{rest}"


def build_scratch(dest: Path, mutated: list[str]) -> None:
    """A copy of the tree as it installs, plus the tests, with no stale bytecode for `mutated`."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    # Parents first, so bfg_tui/ exists before bfg_tui/store/ is copied into it.
    for folder, package in sorted(_installed_paths().items(), key=lambda item: item[1].count("/")):
        shutil.copytree(ROOT / folder, dest / package, ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    compileall.compile_dir(dest, quiet=1)
    # Tests run with PYTHONDONTWRITEBYTECODE; a mutated module must never load old bytecode.
    for path in mutated:
        for pyc in (dest / path).parent.glob(f"__pycache__/{Path(path).stem}.*.pyc"):
            pyc.unlink()


def _env(scratch: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}


def check_scratch_is_imported(scratch: Path, modules: list[str]) -> None:
    """The tests must import the scratch copy, not the editable install, or nothing is tested."""
    names = [scratch_path(MODULES[m].source)[:-3].replace("/", ".") for m in modules]
    code = "import importlib, sys\nfor n in sys.argv[1:]: print(importlib.import_module(n).__file__)"
    out = subprocess.run([sys.executable, "-c", code, *names], cwd=scratch, env=_env(scratch),
                         capture_output=True, text=True, check=True).stdout.split()
    outside = [f for f in out if not Path(f).resolve().is_relative_to(scratch.resolve())]
    if outside:
        raise SystemExit(f"mutate: the scratch copy is not what the tests import: {outside}")


# ------------------------------------------------------------------ listing the mutants


def list_mutants(name: str, scratch: Path) -> list[Mutant]:
    from cosmic_ray.work_db import WorkDB, use_db

    module = MODULES[name]
    target = scratch_path(module.source)
    config = WORK / f"{name}.toml"
    session = WORK / f"{name}.sqlite"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(target)}\n"
        "timeout = 60.0\nexcluded-modules = []\n"
        f"test-command = {json.dumps(shlex.join(PYTEST))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session.unlink(missing_ok=True)
    subprocess.run([_tool("cosmic-ray"), "init", str(config), str(session)], cwd=scratch, check=True)
    lines = (scratch / target).read_text().splitlines()
    specs = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in db.work_items:
            spec = item.mutations[0]
            if SKIPPED_OPERATORS.match(spec.operator_name):
                continue
            specs.append((item.job_id, spec))
    specs.sort(key=lambda s: (s[1].start_pos, s[1].operator_name, s[1].occurrence))
    seen: dict[tuple[str, str, str, str], int] = {}
    mutants = []
    for job_id, spec in specs:
        row, col = spec.start_pos
        line = lines[row - 1].strip()
        base = (name, spec.definition_name or "<module>", spec.operator_name, line)
        ordinal = seen.get(base, 0)
        seen[base] = ordinal + 1
        mutants.append(Mutant(name, job_id, spec.operator_name, spec.occurrence, row, col, base[1], line, ordinal))
    return mutants


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# ------------------------------------------------------------------ running them

_scratch: Path | None = None


def _worker_init(dirs: Any) -> None:
    global _scratch
    _scratch = Path(dirs.get())
    os.chdir(_scratch)
    os.environ.update(_env(_scratch))


def _baseline(tests: tuple[str, ...]) -> tuple[bool, float, str]:
    """The unmutated run, through the same runner as the mutants: it must pass."""
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_item import TestOutcome

    t0 = time.perf_counter()
    outcome, output = run_tests(shlex.join([*PYTEST, *tests]), 600)
    return outcome == TestOutcome.SURVIVED, time.perf_counter() - t0, output[-3000:]


def _mutate(target: str, operator: str, occurrence: int, tests: tuple[str, ...], timeout: float) -> dict[str, Any]:
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_item import MutationSpec

    spec = MutationSpec(module_path=Path(target), operator_name=operator, occurrence=occurrence,
                        start_pos=(0, 0), end_pos=(0, 1))
    command = shlex.join([*PYTEST, *tests])
    t0 = time.perf_counter()
    result = mutate_and_test([spec], command, timeout)
    return {"worker": str(result.worker_outcome.value), "test": result.test_outcome and str(result.test_outcome.value),
            "diff": result.diff or "", "output": (result.output or "")[-2000:], "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------ the reviewed list


def read_equivalent(path: Path = EQUIVALENT) -> dict[tuple[str, str, str, str, int], str]:
    """Blocks of `module function operator #ordinal`, `  line: <text>`, `  why: <reason>`."""
    entries: dict[tuple[str, str, str, str, int], str] = {}
    block: list[str] = []
    text = path.read_text() if path.exists() else ""
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if raw.strip():
            block.append(raw)
            continue
        if not block:
            continue
        head, fields = block[0].split(), dict(b.strip().split(": ", 1) for b in block[1:])
        if len(head) != 4 or not head[3].startswith("#") or set(fields) != {"line", "why"} or not fields["why"]:
            raise SystemExit(f"mutate: malformed entry in {path.name}: {block[0]!r} (see the header)")
        entries[(head[0], head[1], head[2], fields["line"], int(head[3][1:]))] = fields["why"]
        block = []
    return entries


def entry_text(m: Mutant, why: str = "TODO: why no behaviour can observe this") -> str:
    return f"{m.module} {m.definition} {m.operator} #{m.ordinal}\n  line: {m.line}\n  why: {why}\n"


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mutation.run", description=__doc__.split("\n")[0])
    parser.add_argument("--modules", default=",".join(MODULES), help="comma-separated, of: " + ", ".join(MODULES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout-factor", type=float, default=4.0,
                        help="a mutant's test run may take this many times the unmutated run (+5 s)")
    args = parser.parse_args(argv)
    names = [n for n in args.modules.split(",") if n]
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r} (one of: {', '.join(MODULES)})")
    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    targets = [scratch_path(MODULES[n].source) for n in names]
    dirs = [WORK / f"w{i}" for i in range(args.workers)]
    for d in dirs:
        build_scratch(d, targets)
    check_scratch_is_imported(dirs[0], names)
    mutants = {n: list_mutants(n, dirs[0]) for n in names}
    equivalent = read_equivalent()

    queue = multiprocessing.Manager().Queue()
    for d in dirs:
        queue.put(str(d))
    outcomes: dict[str, dict[str, Any]] = {}
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_worker_init, initargs=(queue,)) as pool:
        timeouts: dict[str, float] = {}
        for n, (ok, seconds, output) in zip(names, pool.map(_baseline, [MODULES[n].tests for n in names]),
                                            strict=True):
            if not ok:
                print(output, file=sys.stderr)
                print(f"mutate: the {n} test subset fails without any mutation; fix the tests first", file=sys.stderr)
                return 1
            timeouts[n] = args.timeout_factor * seconds + 5
        # Longest modules first keeps both workers busy to the end.
        jobs = sorted((m for n in names for m in mutants[n]), key=lambda m: -timeouts[m.module])
        futures = {pool.submit(_mutate, scratch_path(MODULES[m.module].source), m.operator, m.occurrence,
                               MODULES[m.module].tests, timeouts[m.module]): m for m in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            outcomes[futures[future].job_id] = future.result()
            if done % 25 == 0 or done == len(futures):
                print(f"  ... {done}/{len(futures)} mutants ({time.perf_counter() - started:.0f} s)",
                      file=sys.stderr, flush=True)
    return report(names, mutants, outcomes, equivalent, time.perf_counter() - started, args.workers)


def report(names: list[str], mutants: dict[str, list[Mutant]], outcomes: dict[str, dict[str, Any]],
           equivalent: dict[tuple[str, str, str, str, int], str], wall: float, workers: int) -> int:
    rows, survivors, errors, not_equivalent = [], [], [], []
    for n in names:
        killed = equiv = 0
        seconds = 0.0
        for m in mutants[n]:
            out = outcomes[m.job_id]
            seconds += out["seconds"]
            if out["worker"] != "normal":
                errors.append((m, out))
            elif out["test"] == "killed":
                killed += 1
                if m.key in equivalent:
                    not_equivalent.append(m)
            elif m.key in equivalent:
                equiv += 1
            else:
                survivors.append((m, out))
        total = len(mutants[n])
        scored = total - equiv
        rows.append({"module": n, "source": MODULES[n].source, "mutants": total, "killed": killed,
                     "equivalent": equiv, "survived": scored - killed,
                     "score": round(100.0 * killed / scored, 1) if scored else 100.0, "cpu_s": round(seconds)})
    for m, out in survivors:
        print(f"\nSURVIVED {m.module} line {m.row}:\n{out['diff']}\n{entry_text(m)}", end="")
    for m, out in errors:
        print(f"\nERROR {m.module} line {m.row} ({out['worker']}):\n{out['output']}", end="")
    for m in not_equivalent:
        print(f"\nLISTED AS EQUIVALENT BUT KILLED (remove it from {EQUIVALENT.name}):\n{entry_text(m, '...')}", end="")
    produced = {m.key for n in names for m in mutants[n]}
    stale = [k for k in equivalent if k[0] in names and k not in produced]
    for k in stale:
        print(f"\nnote: {EQUIVALENT.name} lists a mutant no longer produced (source changed?): {k[0]} {k[1]} "
              f"{k[2]} #{k[4]}: {k[3]}", end="")
    print()
    print(format_table(rows))
    print(f"wall {wall:.0f} s, {workers} workers; {len(survivors)} survived, {len(errors)} errors")
    result = {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": _commit(), "wall_s": round(wall, 1),
              "workers": workers, "modules": rows}
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if survivors or errors else 0


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'module':<24} {'mutants':>7} {'killed':>7} {'equivalent':>10} {'survived':>8} {'score':>7} "
             f"{'test time':>9}"]
    for r in rows:
        lines.append(f"{r['source']:<24} {r['mutants']:>7} {r['killed']:>7} {r['equivalent']:>10} "
                     f"{r['survived']:>8} {r['score']:>6.1f}% {r['cpu_s']:>7} s")
    return "\n".join(lines)


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
