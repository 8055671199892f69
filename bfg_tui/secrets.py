"""Secret hygiene: the display form of probe targets and the pre-export secret scan.

SPEC §1 rule 3: passwords and tokens are never stored or printed. Two tools keep it:

* `redact_endpoint` turns whatever an operator typed as a probe target into the one
  display form that is stored and printed. It works by *allowlisting*: only host,
  port, dbname, user and sslmode are parsed out, validated and re-rendered; every
  other part of the input is dropped unread. Stripping known-secret keys instead
  would leak the next key nobody thought of (`options=-c password=…`, `sslpassword`,
  a `?password=` in a URL...).
* `scan` / `scan_fields` look for secret-shaped text in anything about to leave the
  process (a packet export), as a second line of defence when a secret slipped into
  stored data anyway.

Neither ever returns, logs or raises with the secret: `Finding` carries only where and
what kind, and every `ValueError` from `redact_endpoint` has a fixed reason that does
not quote the input (the input may be a full DSN with its password).

Stdlib only, so the headless CLI and the store can use it without Textual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import NamedTuple, NoReturn

from .models import TargetKind

MASK = "***"
SSLMODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_PG_SCHEMES = frozenset({"postgresql", "postgres"})

# libpq connection keywords: a key=value DSN must name at least one of them, so a
# relative file name such as `a=b.db` is not mistaken for a DSN.
_LIBPQ_KEYS = frozenset(
    {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "options",
        "sslmode", "sslcert", "sslkey", "sslrootcert", "sslpassword", "sslcrl",
        "application_name", "connect_timeout", "service", "target_session_attrs",
        "channel_binding", "gssencmode", "krbsrvname", "require_auth", "load_balance_hosts",
        "keepalives", "client_encoding", "fallback_application_name",
    }
)

class _Lazy:
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


def _quote(text: str, safe: str = "") -> str:
    from urllib.parse import quote  # deferred: urllib.parse is slow to import

    return quote(text, safe=safe)


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


_SCHEME_RE = _Lazy(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DSN_RE = _Lazy(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")
_HOSTNAME_RE = _Lazy(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")
_IPV6_RE = _Lazy(r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?$")
_SOCKET_RE = _Lazy(r"^/[A-Za-z0-9_./-]*$")
_USER_RE = _Lazy(r"^[A-Za-z0-9_.@+-]{1,128}$")
_DBNAME_RE = _Lazy(r"^[A-Za-z0-9_.$-]{1,128}$")
_PORT_RE = _Lazy(r"^[0-9]{1,5}$")


def _fail(reason: str) -> NoReturn:
    # `from None`: a chained exception's message (urllib's, say) could quote the input.
    raise ValueError(f"invalid probe target: {reason}") from None


# ---------------------------------------------------------------- classification


def _classify(target: str) -> tuple[TargetKind, str]:
    """(kind, form) where form is 'url', 'dsn', 'sqlite-url' or 'path'."""
    if not isinstance(target, str):
        _fail("the target must be text")
    text = target.strip()
    if not text:
        _fail("the target is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        _fail("the target contains control characters")
    scheme = _SCHEME_RE.match(text)
    if scheme:
        name = scheme.group(1).lower()
        if name == "sqlite":
            return "sqlite", "sqlite-url"
        if name in _PG_SCHEMES:
            if not text[scheme.end():].startswith("//"):
                _fail("a PostgreSQL URL must start with postgresql://")
            return "postgresql", "url"
        if text[scheme.end():].startswith("//"):
            _fail("unsupported URL scheme; use postgresql://, postgres:// or sqlite:///")
        # `C:\data\x.db` or `name:with-colon.db`: a path, handled below.
    if _DSN_RE.match(text):
        return "postgresql", "dsn"
    return "sqlite", "path"


def target_kind(target: str) -> TargetKind:
    """Which probe target a target string names: a SQLite file or a PostgreSQL server."""
    return _classify(target)[0]


# ---------------------------------------------------------------- SQLite


def sqlite_path(target: str) -> str:
    """The absolute file path a SQLite target names (`path` or `sqlite:///path`).

    `sqlite://` + path, read like a file URL: `sqlite:///tmp/x.db` is `/tmp/x.db`,
    `sqlite:x.db` and `sqlite://x.db` are relative to the working directory. A query
    (`?mode=ro`, a SQLCipher `?key=`) is dropped. The file need not exist; symlinks in
    the existing part of the path are resolved.
    """
    kind, form = _classify(target)
    if kind != "sqlite":
        _fail("not a SQLite target")
    text = target.strip()
    if form == "sqlite-url":
        rest = text[len("sqlite:"):]
        if rest.startswith("//"):
            rest = rest[2:]
        rest = _unquote(rest.split("?", 1)[0].split("#", 1)[0])
    else:
        rest = text
    if not rest:
        _fail("no SQLite database path")
    if rest == ":memory:":
        _fail("an in-memory SQLite database is not a probe target")
    # realpath, like the SQLite probe target's Path.resolve(): the endpoint shown is the
    # file actually opened, and one file has one endpoint (staleness compares them).
    path = os.path.realpath(os.path.expanduser(rest))
    # POSIX keeps a leading '//' as implementation-defined; one canonical form only.
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path


def _redact_sqlite(target: str) -> str:
    # Only the characters that would change how the URL reads back are escaped; the
    # rest stays as the probe target prints it.
    path = sqlite_path(target)
    return "sqlite://" + path.replace("%", "%25").replace("?", "%3F").replace("#", "%23")


# ---------------------------------------------------------------- PostgreSQL


class _Pg:
    """The allowlisted parts of a PostgreSQL target; nothing else is ever kept."""

    def __init__(self) -> None:
        self.user = ""
        self.hosts: tuple[str, ...] = ()
        self.ports: tuple[str, ...] = ()
        self.dbname = ""
        self.sslmode = ""
        self.secret = False  # a password (or other secret) was present and dropped


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",")) if value else ()


def _parse_pg_url(text: str) -> _Pg:
    rest = text.split("://", 1)[1]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    # An '@' after the authority means the user info held an unencoded '/', '?' or '#'
    # and the split above went wrong; re-rendering would then show a piece of the
    # password as a host or database name. Refuse instead.
    if "@" in tail:
        _fail("unexpected '@' after the host; percent-encode special characters in the user info")
    pg = _Pg()
    if "@" in authority:
        userinfo, _, hostinfo = authority.rpartition("@")
        user, sep, password = userinfo.partition(":")
        pg.user = _unquote(user)
        pg.secret = bool(sep and password)
    else:
        hostinfo = authority
    hosts: list[str] = []
    ports: list[str] = []
    for item in hostinfo.split(",") if hostinfo else ():
        if item.startswith("["):
            close = item.find("]")
            if close < 0:
                _fail("unterminated IPv6 address")
            host, after = item[1:close], item[close + 1:]
            if after and not after.startswith(":"):
                _fail("unexpected text after an IPv6 address")
            port = after[1:]
        else:
            host, _, port = item.partition(":")
        hosts.append(_unquote(host))
        ports.append(port)
    pg.hosts = tuple(hosts)
    pg.ports = tuple(ports) if any(ports) else ()
    path, _, query = tail.partition("?")
    query = query.split("#", 1)[0]
    path = path.split("#", 1)[0]
    if path.startswith("/"):
        pg.dbname = _unquote(path[1:])
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        _apply_param(pg, _unquote(key), _unquote(value))
    return pg


def _apply_param(pg: _Pg, key: str, value: str) -> None:
    """Keep allowlisted display keys; only *note* that anything secret was dropped."""
    name = key.strip().lower()
    if name == "user":
        pg.user = value
    elif name in ("host", "hostaddr"):
        # libpq: hostaddr is used when host is absent; host wins for display.
        if name == "host" or not pg.hosts:
            pg.hosts = _split_list(value)
    elif name == "port":
        pg.ports = _split_list(value)
    elif name == "dbname":
        pg.dbname = value
    elif name == "sslmode":
        pg.sslmode = value
    elif value and (name.endswith(("password", "passwd")) or scan(f"{key}={value}")):
        pg.secret = True
    # Every other key (options, application_name, service, sslkey...) is dropped unread.


def _parse_conninfo(text: str) -> _Pg:
    """libpq `key=value` conninfo: spaces around '=', single-quoted values with \\ escapes."""
    pg = _Pg()
    known = False
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and (text[i].isalnum() or text[i] == "_"):
            i += 1
        key = text[start:i]
        if not key:
            _fail("expected key=value pairs in the connection string")
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            _fail("missing '=' after a key in the connection string")
        i += 1
        while i < n and text[i].isspace():
            i += 1
        chars: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    _fail("unterminated quoted value in the connection string")
                c = text[i]
                if c == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    i += 2
                elif c == "'":
                    i += 1
                    break
                else:
                    chars.append(c)
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    i += 2
                else:
                    chars.append(text[i])
                    i += 1
        known = known or key.lower() in _LIBPQ_KEYS
        _apply_param(pg, key, "".join(chars))
    if not known:
        _fail("no libpq connection keys (host, port, dbname, user...) in the connection string")
    return pg


def _render_host(host: str) -> str:
    if _SOCKET_RE.match(host):
        return _quote(host, safe="")
    if ":" in host:
        if not _IPV6_RE.match(host):
            _fail("malformed IPv6 host")
        return f"[{host}]"
    if not _HOSTNAME_RE.match(host):
        _fail("host has characters outside a hostname, IP address or socket path")
    return host.lower()


def _render_pg(pg: _Pg) -> str:
    hosts = [h for h in pg.hosts if h]
    ports = list(pg.ports)
    for port in ports:
        if port and (not _PORT_RE.match(port) or not 0 < int(port) < 65536):
            _fail("port is not a number between 1 and 65535")
    if len(ports) == 1 and len(hosts) > 1:
        ports = ports * len(hosts)
    if ports and len(ports) != max(len(hosts), 1):
        _fail("the number of ports does not match the number of hosts")
    if not hosts:
        hostspec = f":{ports[0]}" if ports and ports[0] else ""
    else:
        hostspec = ",".join(
            _render_host(h) + (f":{ports[i]}" if ports and ports[i] else "") for i, h in enumerate(hosts)
        )
    if pg.user and not _USER_RE.match(pg.user):
        _fail("user name has characters outside [A-Za-z0-9_.@+-]")
    if pg.dbname and not _DBNAME_RE.match(pg.dbname):
        _fail("database name has characters outside [A-Za-z0-9_.$-]")
    if pg.sslmode and pg.sslmode not in SSLMODES:
        _fail("unsupported sslmode; use one of " + ", ".join(sorted(SSLMODES)))
    userinfo = ""
    if pg.user or pg.secret:
        userinfo = _quote(pg.user, safe="") + (":" + MASK if pg.secret else "") + "@"
    out = f"postgresql://{userinfo}{hostspec}"
    if pg.dbname:
        out += "/" + pg.dbname
    if pg.sslmode:
        out += "?sslmode=" + pg.sslmode
    return out


def redact_endpoint(target: str) -> str:
    """The one display form of a probe target; never contains a password or token.

    PostgreSQL URLs and key=value DSNs both become
    `postgresql://user[:***]@host[:port][,host2...][/dbname][?sslmode=...]` (`:***` only
    when the input carried a password). SQLite targets become `sqlite:///abs/path`.
    Raises `ValueError` with a one-line reason that never quotes the input.
    """
    kind, form = _classify(target)
    if kind == "sqlite":
        shown = _redact_sqlite(target)
    else:
        text = target.strip()
        shown = _render_pg(_parse_pg_url(text) if form == "url" else _parse_conninfo(text))
    # Last guard: whatever survived the allowlist must not look like a secret either
    # (a bare file name `x.db?key=...`, a token pasted where the user name goes).
    if scan(shown):
        _fail("the target looks like it holds a secret outside the password field")
    return shown


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
_PASSWORD_RE = _Lazy(
    r"(?<![A-Za-z0-9])(?P<key>[A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd))"
    + _SEP + _VALUE,
    re.IGNORECASE,
)
_TOKEN_RE = _Lazy(
    r"(?<![A-Za-z0-9])(?P<key>[A-Za-z0-9_.-]*?(?:token|secret|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|auth[_-]?key))"
    + _SEP + _VALUE,
    re.IGNORECASE,
)
_SQL_PASSWORD_RE = _Lazy(r"\bpassword\s+(?P<val>'(?:[^']|'')*')", re.IGNORECASE)
_URL_USERINFO_RE = _Lazy(
    r"""\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'"]*:(?P<val>[^\s@'"]*)@"""
)
_AUTH_HEADER_RE = _Lazy(
    r"""\bAuthorization\b["']?\s*[:=]\s*["']?(?:Bearer|Basic|Token|Digest)\s+(?P<val>[^\s'"]+)""",
    re.IGNORECASE,
)
_BEARER_RE = _Lazy(r"\bBearer\s+(?P<val>[A-Za-z0-9._~+/-]{16,}=*)", re.IGNORECASE)
_PEM_RE = _Lazy(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_AWS_RE = _Lazy(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_JWT_RE = _Lazy(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
)
_VENDOR_RES = (
    (_Lazy(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "github-token"),
    (_Lazy(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "slack-token"),
    (_Lazy(r"\b[sr]k_live_[A-Za-z0-9]{16,}"), "stripe-key"),
    (_Lazy(r"\bAIza[0-9A-Za-z_-]{35}\b"), "google-api-key"),
)
# Lower-case words joined by - or _ (mock-auth-header, production_traffic_disabled,
# not-recorded): identifiers, not credentials.
_WORDS_RE = _Lazy(r"^[a-z]+(?:[-_][a-z]+)*$")


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
