"""Reading `bfg-tui plan --json` and following it argv by argv."""

from __future__ import annotations

CONTRACT_KEYS = {"actor", "action", "check", "argv", "needs_value", "unlocks"}


def plan(cli) -> dict:
    result = cli("plan", "--json")
    assert result.code == 0, result
    doc = result.json()
    assert set(doc) == {"decision", "steps"}
    for step in doc["steps"]:
        assert set(step) == CONTRACT_KEYS, step
        assert "--db" not in step["argv"] and "--as" not in step["argv"]
    return doc


def follow(cli, doc: dict, target: str, catalog) -> None:
    for step in doc["steps"]:
        argv = [target if a == "TARGET" else a for a in step["argv"]]
        if step["needs_value"]:
            argv += ["--value", catalog.checks[step["check"]].value.example]
        result = cli(*argv, actor=step["actor"])
        assert result.code == 0, (step, result)
