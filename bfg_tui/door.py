"""The door: what text from users may be before anything is written (SPEC §1 rule 6).

Ids, notes and values typed at the CLI or the console, and the strings of an imported
scenario, are checked here: no control or bidi character (a note may hold newlines and
tabs), a bounded length, and no secret (the same scan an export runs). Each rule gives a
one-line `Reason` that never quotes the input; the service refuses with it and records
the refusal, with the subject and actor shown through `bfg_tui.sanitise` and clipped.

Stdlib only (the headless CLI imports it).
"""

from __future__ import annotations

import re

from . import sanitise
from .errors import Reason
from .sanitise import shown

# The control-character patterns are read from `sanitise` where a rule runs, not imported:
# importing one compiles it, and the service (so `bfg-tui status`) imports this module.

MAX_ID = 64
MAX_NOTE = 2048
MAX_VALUE = 256
MAX_TARGET = 4096  # a probe target: a path or a DSN


WITHHELD = "(withheld: it looked like a secret)"


def recorded(text: str, limit: int = MAX_ID) -> str:
    """How a refusal records an id or reason it did not accept: visible, clipped, never a secret."""
    from .secrets import scan

    return WITHHELD if scan(text) else shown(text, limit)


def _control(field: str, text: str, pattern: re.Pattern[str]) -> Reason | None:
    found = pattern.search(text)
    if found is None:
        return None
    char = f"U+{ord(found.group()):04X}"
    return Reason.of("input.control", field=field, char=char, position=found.start() + 1)


def _length(field: str, text: str, limit: int) -> Reason | None:
    if len(text) <= limit:
        return None
    return Reason.of("input.too_long", field=field, length=len(text), limit=limit)


def secret_problem(field: str, text: str) -> Reason | None:
    """A secret-looking `text` (never quoted back): the same scan every export runs."""
    from .secrets import scan_fields

    findings = scan_fields([(field, text)])
    if not findings:
        return None
    kind = findings[0].kind
    return Reason.of("input.secret", field=field, kind=kind)


def id_problem(field: str, text: str) -> Reason | None:
    """An actor, check or packet id: printable, one line, at most 64 characters, no secret."""
    return _length(field, text, MAX_ID) or _control(field, text, sanitise.CONTROL) or secret_problem(field, text)


def note_problem(text: str, field: str = "note") -> Reason | None:
    """A note: newlines and tabs allowed, no other control; at most 2048 characters; no secret."""
    return _length(field, text, MAX_NOTE) or _control(field, text, sanitise.CONTROL_IN_NOTE) or secret_problem(field, text)


def value_problem(text: str, field: str = "value") -> Reason | None:
    """A chosen value: one line, at most 256 characters, no secret."""
    return _length(field, text, MAX_VALUE) or _control(field, text, sanitise.CONTROL) or secret_problem(field, text)


def target_problem(text: str, field: str = "probe target") -> Reason | None:
    """A probe target (a path or DSN; its password is redacted later, never stored)."""
    return _length(field, text, MAX_TARGET) or _control(field, text, sanitise.CONTROL)


# ---------------------------------------------------------------- imported scenarios

# Every secret the scan knows needs one of these in the text (lower-cased), or one of the
# case-sensitive prefixes below; a file without any is clean without running the scan.
_SECRET_WORDS = ("pass", "pwd", "token", "secret", "key", "authorization", "bearer", "://", "-----begin")
_SECRET_PREFIXES = ("AKIA", "ASIA", "eyJ", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "_live_", "AIza")
_CHUNK = 1 << 20


def _might_be_secret(text: str) -> bool:
    if any(p in text for p in _SECRET_PREFIXES) or "%" in text:  # the scan decodes percent-escapes
        return True
    low = text.lower()
    return any(word in low for word in _SECRET_WORDS)


_SECRET_WORDS_B = tuple(word.encode() for word in _SECRET_WORDS)
_SECRET_PREFIXES_B = (*(p.encode() for p in _SECRET_PREFIXES), b"%")


def import_suspect(text: str) -> bool:
    """Might scenario JSON text hold a control character or a secret? Cheap: a few C-speed passes.

    A JSON escape (`\\u…`, `\\n`) can spell either, so any backslash asks for the exact
    walk too. Only when this says yes does the import check every string (`import_problem`).
    """
    if "\\" in text or sanitise.CONTROL_IN_JSON.search(text) is not None:
        return True
    overlap = 16  # a word cut by a chunk border is still seen
    for start in range(0, len(text), _CHUNK):
        # bytes.lower is ASCII-only and several times faster than str.lower; every word is ASCII.
        chunk = text[max(0, start - overlap):start + _CHUNK].encode("utf-8", "surrogatepass")
        low = chunk.lower()
        if any(p in chunk for p in _SECRET_PREFIXES_B) or any(word in low for word in _SECRET_WORDS_B):
            return True
    return False


def import_problem(path: str, text: str) -> Reason | None:
    """A string of an imported scenario: newlines and tabs allowed, no other control, no secret."""
    problem = _control(path, text, sanitise.CONTROL_IN_NOTE)
    if problem is None and _might_be_secret(f"{path}={text}"):
        problem = secret_problem(path, text)
    return problem
