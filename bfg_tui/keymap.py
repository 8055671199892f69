"""User key remapping: `<config dir>/keymap.toml` maps binding ids to keys.

    # ~/.config/bfg-tui/keymap.toml
    [keymap]
    "check.accept" = "A"
    "screen.audit" = "f6,6"

A top-level table works too. Stdlib only (tomllib); the App applies the result with
`App.set_keymap`.
"""

from __future__ import annotations

from pathlib import Path

KEYMAP_FILE = "keymap.toml"


def keymap_path() -> Path:
    from .paths import config_dir

    return config_dir() / KEYMAP_FILE


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """(binding id -> keys, None), or ({}, a one-line reason) when the file is unusable."""
    path = path or keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"cannot read it ({exc})"
    import tomllib  # only when there is a file: start-up budget

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, f"not valid TOML ({exc})"
    table = raw.get("keymap", raw)
    if not isinstance(table, dict):
        return {}, "[keymap] must be a table of binding id = \"keys\""
    keymap: dict[str, str] = {}
    for binding_id, keys in table.items():
        if isinstance(keys, list):
            keys = ",".join(str(k) for k in keys)
        if not isinstance(keys, str) or not keys.strip():
            return {}, f"{binding_id!r} must map to a key string such as \"ctrl+a\""
        keymap[str(binding_id)] = keys.replace(" ", "")
    return keymap, None
