"""Secret scanning: secret-shaped text in anything about to leave the process, and the one
scrubber every error message passes through before it is shown, logged or stored.

SPEC §1 rule 3: passwords and tokens are never stored or printed. `scan` / `scan_fields`
look for secret-shaped text in anything about to leave the process (a packet export),
as a second line of defence when a secret slipped into stored data anyway. `scrub`
turns an error message into one line with every secret the caller knows of cut out,
and withholds it when it still looks like it holds one. Target parsing and the display
form of endpoints are in `targets.py`.

Nothing here ever returns, logs or raises with the secret: `Finding` carries only where
and what kind.

Stdlib only, so the headless CLI and the store can use it without Textual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

MASK = "***"
WITHHELD = "the error message was withheld (it looked like it held a secret)"
WITHHELD_KNOWN = "the error message was withheld (it contained a secret)"


class LazyRe:
    """A regex compiled on first use, so importing this module stays cheap (CLI start-up)."""

    __slots__ = ("_args", "_rx")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._rx: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        if self._rx is None:
            self._rx = re.compile(*self._args)
        return self._rx

    def match(self, text: str) -> re.Match[str] | None:
        return self._get().match(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self._get().search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._get().finditer(text)


def _unquote(text: str) -> str:
    from urllib.parse import unquote  # deferred: urllib.parse is slow to import

    return unquote(text)


# ---------------------------------------------------------------- scan


class Finding(NamedTuple):
    """Where a secret-like value was found and what it looks like. Never the value."""

    field: str
    kind: str


# One value: single- or double-quoted (with backslash escapes) or bare up to a separator.
_VALUE = r"""(?P<val>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'"&;,)]+)"""
# Key/value separator: `key = v`, `key=v`, `key: v`, `"key": v`. A colon must follow
# the key directly, so SQL `password :'var'` (a psql variable) is not an assignment.
_SEP = r"""(?:["']?\s*=|["']?:)\s*"""
# A key ending in a password word, or pwd; the lookbehind keeps `x_password` whole.
_PASSWORD_RE = LazyRe(
    r"(?<![A-Za-z0-9])(?P<key>[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd))"
    + _SEP + _VALUE,
    re.IGNORECASE,
)
_TOKEN_RE = LazyRe(
    r"(?<![A-Za-z0-9])(?P<key>[A-Za-z0-9_.-]*?(?:token|secret|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|auth[_-]?key))"
    + _SEP + _VALUE,
    re.IGNORECASE,
)
_SQL_PASSWORD_RE = LazyRe(r"\bpassword\s+(?P<val>'(?:[^']|'')*')", re.IGNORECASE)
_URL_USERINFO_RE = LazyRe(
    r"""\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'"]*:(?P<val>[^\s@'"]*)@"""
)
_AUTH_HEADER_RE = LazyRe(
    r"""\bAuthorization\b["']?\s*[:=]\s*["']?(?:Bearer|Basic|Token|Digest)\s+(?P<val>[^\s'"]+)""",
    re.IGNORECASE,
)
_BEARER_RE = LazyRe(r"\bBearer\s+(?P<val>[A-Za-z0-9._~+/-]{16,}=*)", re.IGNORECASE)
_PEM_RE = LazyRe(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_AWS_RE = LazyRe(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_JWT_RE = LazyRe(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
)
_VENDOR_RES = (
    (LazyRe(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "github-token"),
    (LazyRe(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "slack-token"),
    (LazyRe(r"\b[sr]k_live_[A-Za-z0-9]{16,}"), "stripe-key"),
    (LazyRe(r"\bAIza[0-9A-Za-z_-]{35}\b"), "google-api-key"),
)
# Lower-case words joined by - or _ (mock-auth-header, production_traffic_disabled,
# not-recorded): identifiers, not credentials.
_WORDS_RE = LazyRe(r"^[a-z]+(?:[-_][a-z]+)*$")


def _unquote_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _placeholder(value: str) -> bool:
    """Values that stand for a secret without being one: masks and references."""
    v = _unquote_value(value).strip()
    return (
        not v
        or set(v) <= {"*"}
        or v.lower() in ("%2a%2a%2a", "redacted", "<redacted>", "[redacted]")
        or v.startswith(("$", ":'", ":\"", "<", "%("))  # $ENV, ${ENV}, psql :'var', <secret>
    )


def _real_looking(value: str) -> bool:
    """A token-ish value: long enough, no spaces, not a word-like identifier."""
    v = _unquote_value(value).strip()
    if _placeholder(v) or len(v) < 8 or any(c.isspace() for c in v):
        return False
    return not _WORDS_RE.match(v)


def _detect(text: str) -> list[str]:
    kinds: list[str] = []

    def add(kind: str) -> None:
        if kind not in kinds:
            kinds.append(kind)

    for m in _URL_USERINFO_RE.finditer(text):
        if not _placeholder(m.group("val")):
            add("url-password")
    for m in _PASSWORD_RE.finditer(text):
        value = _unquote_value(m.group("val"))
        # `PWD=/home/anna` in an env dump is the working directory, not a password.
        if m.group("key").lower() == "pwd" and value.startswith(("/", "~")):
            continue
        if not _placeholder(value):
            add("password")
    for m in _SQL_PASSWORD_RE.finditer(text):
        if not _placeholder(m.group("val")[1:-1]):
            add("password")
    for m in _AUTH_HEADER_RE.finditer(text):
        if not _placeholder(m.group("val")):
            add("bearer-token")
    for m in _BEARER_RE.finditer(text):
        if any(c.isdigit() for c in m.group("val")) or _real_looking(m.group("val")):
            add("bearer-token")
    for m in _TOKEN_RE.finditer(text):
        if _real_looking(m.group("val")):
            add("token")
    if _PEM_RE.search(text):
        add("private-key")
    if _AWS_RE.search(text):
        add("aws-access-key")
    if _JWT_RE.search(text):
        add("jwt")
    for pattern, kind in _VENDOR_RES:
        if pattern.search(text):
            add(kind)
    return kinds


def _detect_all(text: str) -> list[str]:
    kinds = _detect(text)
    # A percent-encoded secret (`options=-c%20password%3Dx`) is still a secret.
    if "%" in text:
        for kind in _detect(_unquote(text)):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def scan(text: str) -> list[Finding]:
    """Secret-like values in `text`, one `Finding(f"line {n}", kind)` per line and kind."""
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        findings.extend(Finding(f"line {number}", kind) for kind in _detect_all(line))
    return findings


def scan_fields(fields: list[tuple[str, str]]) -> list[Finding]:
    """Secret-like values in (key, value) pairs; the key names the field.

    The value is scanned as `key=value` too, so a field called `password` with a bare
    value is caught, while a harmless key keeps a plain value from being read as one.
    """
    findings: list[Finding] = []
    for key, value in fields:
        kinds = _detect_all(value)
        for kind in _detect_all(f"{key}={value}"):
            if kind not in kinds:
                kinds.append(kind)
        findings.extend(Finding(key, kind) for kind in kinds)
    return findings


def scrub(text: object, known: Iterable[str] = (), limit: int | None = 300, withheld: str | None = None) -> str:
    """An error message as one line fit to show: every `known` secret cut out (longest
    first), withheld when a known secret is too short to cut out safely or when what is
    left still looks like it holds a secret, and clipped to `limit` characters (None: not clipped).

    A known secret is cut out because its exact text is known. What only *looks* like a
    secret is withheld with the whole line, not cut out: the scan knows a secret's kind,
    not where it ends (a token runs on past its pattern, an encoded form differs), so a cut
    could leave part of it. `withheld` replaces the English sentence said instead (the console's own).
    """
    line = " ".join(str(text).split())
    for secret in sorted({k for k in known if k}, key=len, reverse=True):
        if secret in line:
            if len(secret) < 4:  # too short to cut out safely: keep nothing
                return withheld or WITHHELD_KNOWN
            line = line.replace(secret, MASK)
    if scan(line):
        return withheld or WITHHELD
    return line if limit is None else line[:limit]
