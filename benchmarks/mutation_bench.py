"""The mutation score row: read from the last `make mutate` (build/mutation/last.json), not re-run
here (a full pass takes minutes). Budget: every mutant not listed as equivalent is killed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.rows import Row, Skip, Verdict

RESULT = Path(__file__).resolve().parent.parent / "build" / "mutation" / "last.json"


def _last() -> dict[str, Any]:
    if not RESULT.exists():
        raise Skip("no mutation run yet: make mutate")
    return json.loads(RESULT.read_text())


def _verdict(r: dict[str, Any]) -> Verdict:
    parts = [f"{m['module']} {m['score']:.0f}% ({m['killed']}/{m['mutants'] - m['equivalent']}, "
             f"{m['equivalent']} eq)" for m in r["modules"]]
    ok = all(m["survived"] == 0 for m in r["modules"])
    return Verdict(f"{'; '.join(parts)}; {r['wall_s']:.0f} s on {r['commit']}", "—", ok)


def rows(quick: bool) -> list[Row]:
    return [Row("mutation score (last make mutate)", _last, "100% of non-equivalent killed", _verdict)]
