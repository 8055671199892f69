r"""The one sanitiser: every character a terminal could act on, made visible.

Stored text (notes, values, the ids of refused actions, probe endpoints, file names)
may hold escape sequences: an OSC 52 overwrites the reader's clipboard, an OSC 2
retitles the terminal, CSI 2J clears it, a newline forges a line of `audit list`, and a
bidi override reorders what the reader sees. Rich strips only a few control codes.
`bfg_tui.door` refuses them in new input; every exit (CLI text and JSON, packets, the
console) renders through this module too, because old stores hold whatever was written
before the door existed.

A control character is shown as its JSON escape (`\u001b`, `\n`, `\u202e`): one form
that reads the same in text and stays valid, meaning the same, inside a JSON string.
Stdlib only, cheap to import (the `status` start-up budget).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0, DEL, C1; the Arabic letter mark, LRM/RLM, the line and paragraph separators, the
# bidi embeddings/overrides and isolates; lone surrogates (undecodable bytes from argv or
# a file), which a strict UTF-8 stream cannot even write.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
CONTROL_CLASS = "\x00-\x1f" + _BEYOND_C0
# The patterns, compiled on first use (PEP 562 below): `status` prints clean text and
# never needs one, and each compile costs a millisecond of its start-up budget.
_PATTERNS = {
    "CONTROL": f"[{CONTROL_CLASS}]",
    "CONTROL_BUT_NEWLINE": f"[\x00-\x09\x0b-\x1f{_BEYOND_C0}]",
    # What a note may not hold: every control but the newline and the tab.
    "CONTROL_IN_NOTE": f"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]",
    # Raw in JSON text but outside the whitespace JSON allows between tokens (\t \n \r).
    "CONTROL_IN_JSON": f"[\x00-\x08\x0b\x0c\x0e-\x1f{_BEYOND_C0}]",
}
_COMPILED: dict[str, re.Pattern[str]] = {}
# For a text field that must refuse them as they are typed or pasted (Textual's `restrict`).
NO_CONTROL = f"[^{CONTROL_CLASS}]*"


def __getattr__(name: str) -> re.Pattern[str]:
    if name not in _PATTERNS:
        raise AttributeError(name)
    found = _COMPILED.get(name)
    if found is None:
        found = _COMPILED[name] = re.compile(_PATTERNS[name])
    return found


_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or f"\\u{ord(char):04x}"


def visible(text: str) -> str:
    """`text` on one line with every control character shown as its escape."""
    if text.isprintable():  # no control, format or separator character at all: nothing to do
        return text
    pattern = __getattr__("CONTROL")
    return pattern.sub(_escape, text) if pattern.search(text) else text


def visible_lines(text: str) -> str:
    """Like `visible`, but keeps the newlines: for a document we laid out ourselves."""
    if text.replace("\n", "").isprintable():
        return text
    pattern = __getattr__("CONTROL_BUT_NEWLINE")
    return pattern.sub(_escape, text) if pattern.search(text) else text


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, the last an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def shown(text: str, limit: int) -> str:
    """Visible, then clipped: what a refusal records of an id it could not accept."""
    return clip(visible(text), limit)


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON as `json.dumps(ensure_ascii=False)` writes it, with C1, bidi and separators escaped too.

    json escapes C0 only; a raw U+009B or U+202E inside a string would still act on a
    terminal that shows the output. Escaping them keeps the document equal.
    """
    return visible_lines(json.dumps(obj, ensure_ascii=False, **kwargs))
