"""Probe and store targets: which kind a target string names, its one display form, and
the one place a PostgreSQL URL or libpq key=value string is read.

SPEC §1 rule 3: passwords and tokens are never stored or printed. `redact_endpoint`
turns whatever an operator typed as a probe target into the one display form that is
stored and printed. It works by *allowlisting*: only host, port, dbname, user and
sslmode are parsed out, validated and re-rendered; every other part of the input is
dropped unread. Stripping known-secret keys instead would leak the next key nobody
thought of (`options=-c password=…`, `sslpassword`, a `?password=` in a URL...).

Every `ValueError` raised here has a fixed reason that does not quote the input (the
input may be a full DSN with its password). libpq's own reading of a connection string
(`libpq_params`, psycopg's parser) and the values of it that may be secret
(`secret_values`, for scrubbing error text) are here too, so nothing else parses one.

Stdlib only at import (psycopg is imported when libpq's reading is asked for), so the
headless CLI and the store can use it without Textual.
"""

from __future__ import annotations

import os
import re
from typing import NoReturn

from .models import TargetKind
from .secrets import MASK, LazyRe, scan

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


def _quote(text: str, safe: str = "") -> str:
    from urllib.parse import quote  # deferred: urllib.parse is slow to import

    return quote(text, safe=safe)


def _unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


_SCHEME_RE = LazyRe(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DSN_RE = LazyRe(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")
_HOSTNAME_RE = LazyRe(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$")
_IPV6_RE = LazyRe(r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?$")
_SOCKET_RE = LazyRe(r"^/[A-Za-z0-9_./-]*$")
_USER_RE = LazyRe(r"^[A-Za-z0-9_.@+-]{1,128}$")
_DBNAME_RE = LazyRe(r"^[A-Za-z0-9_.$-]{1,128}$")
_PORT_RE = LazyRe(r"^[0-9]{1,5}$")


def _fail(code: str, /, **params: object) -> NoReturn:
    """Refuse a target: the message `code` (a fragment, `target.…`), inside `msg.target.invalid`."""
    from .errors import Reason
    from .i18n import Msg

    # `from None`: a chained exception's message (urllib's, say) could quote the input.
    raise ValueError(Reason.of("target.invalid", problem=Msg(code, params))) from None


# ---------------------------------------------------------------- classification


def _classify(target: str) -> tuple[TargetKind, str]:
    """(kind, form) where form is 'url', 'dsn', 'sqlite-url' or 'path'."""
    if not isinstance(target, str):
        _fail("target.not_text")
    text = target.strip()
    if not text:
        _fail("target.empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        _fail("target.control")
    scheme = _SCHEME_RE.match(text)
    if scheme:
        name = scheme.group(1).lower()
        if name == "sqlite":
            return "sqlite", "sqlite-url"
        if name in _PG_SCHEMES:
            if not text[scheme.end():].startswith("//"):
                _fail("target.pg_scheme")
            return "postgresql", "url"
        if text[scheme.end():].startswith("//"):
            _fail("target.scheme")
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
        _fail("target.not_sqlite")
    text = target.strip()
    if form == "sqlite-url":
        rest = text[len("sqlite:"):]
        if rest.startswith("//"):
            rest = rest[2:]
        rest = _unquote(rest.split("?", 1)[0].split("#", 1)[0])
    else:
        rest = text
    if not rest:
        _fail("target.no_path")
    if rest == ":memory:":
        _fail("target.memory")
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
        _fail("target.at_sign")
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
                _fail("target.ipv6_open")
            host, after = item[1:close], item[close + 1:]
            if after and not after.startswith(":"):
                _fail("target.ipv6_after")
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
            _fail("target.pairs")
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            _fail("target.no_equals")
        i += 1
        while i < n and text[i].isspace():
            i += 1
        chars: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    _fail("target.quote")
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
        _fail("target.no_keys")
    return pg


def _render_host(host: str) -> str:
    if _SOCKET_RE.match(host):
        return _quote(host, safe="")
    if ":" in host:
        if not _IPV6_RE.match(host):
            _fail("target.ipv6_host")
        return f"[{host}]"
    if not _HOSTNAME_RE.match(host):
        _fail("target.host")
    return host.lower()


def _render_pg(pg: _Pg) -> str:
    hosts = [h for h in pg.hosts if h]
    ports = list(pg.ports)
    for port in ports:
        if port and (not _PORT_RE.match(port) or not 0 < int(port) < 65536):
            _fail("target.port")
    if len(ports) == 1 and len(hosts) > 1:
        ports = ports * len(hosts)
    if ports and len(ports) != max(len(hosts), 1):
        _fail("target.ports")
    if not hosts:
        hostspec = f":{ports[0]}" if ports and ports[0] else ""
    else:
        hostspec = ",".join(
            _render_host(h) + (f":{ports[i]}" if ports and ports[i] else "") for i, h in enumerate(hosts)
        )
    if pg.user and not _USER_RE.match(pg.user):
        _fail("target.user")
    if pg.dbname and not _DBNAME_RE.match(pg.dbname):
        _fail("target.dbname")
    if pg.sslmode and pg.sslmode not in SSLMODES:
        _fail("target.sslmode", modes=", ".join(sorted(SSLMODES)))
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
        _fail("target.secret")
    return shown


# ---------------------------------------------------------------- libpq's own reading

PG_URL_PREFIXES = ("postgresql://", "postgres://")
_KEYWORD = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=")
# libpq keys that are shown (allowlisted) or are harmless plumbing; every other value
# of a conninfo is treated as a possible secret when scrubbing messages.
_SHOWN_KEYS = frozenset({"host", "hostaddr", "port", "dbname", "user", "sslmode", "connect_timeout",
                         "application_name", "sslrootcert", "target_session_attrs"})


def is_postgres(location: str) -> bool:
    """A store location that names the shared PostgreSQL store (a postgresql:// URL)."""
    return location.startswith(PG_URL_PREFIXES)


def is_libpq_keyvalue(location: str) -> bool:
    """`host=… dbname=… password=…`: a libpq connection string, never a file name."""
    return bool(_KEYWORD.match(location)) and not location.startswith(("/", "./", "../", "~"))


def libpq_params(dsn: str) -> dict[str, str]:
    """libpq's own reading of a URL or key=value string (psycopg's parser), values as text.

    Raises `ValueError` with a fixed reason: the parser's message quotes the input.
    """
    from psycopg.conninfo import conninfo_to_dict

    from .errors import Reason

    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    except Exception:  # psycopg.ProgrammingError and friends: never shown
        raise ValueError(Reason.of("libpq.invalid")) from None


def url_query_param(url: str, name: str) -> tuple[str, str | None]:
    """(the URL without its `name=` query parameters, the last one's value or None).

    For a parameter of ours that libpq does not know (the store's `schema`): libpq refuses
    a URL that carries it, so it is taken out before libpq reads the rest. A key=value
    string is returned as it is.
    """
    if not is_postgres(url):
        return url, None
    base, sep, query = url.partition("?")
    value: str | None = None
    kept: list[str] = []
    for pair in query.split("&") if sep else ():
        key, _, raw = pair.partition("=")
        if _unquote(key) == name:
            value = _unquote(raw)
        elif pair:
            kept.append(pair)
    return base + ("?" + "&".join(kept) if kept else ""), value


def server_key(location: str) -> tuple[str, str, str]:
    """(host, port, database) a PostgreSQL location connects to, as libpq reads it, with
    libpq's defaults (environment, localhost, 5432, the user's name) filled in; loopback
    addresses are `localhost`. ("", "", "") when libpq cannot read it."""
    try:
        params = libpq_params(url_query_param(location.strip(), "schema")[0])
    except ValueError:
        return ("", "", "")
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    if host in ("127.0.0.1", "::1"):
        host = "localhost"
    return (host, port, dbname)


def url_password(dsn: str) -> str:
    """The password in a URL's user info (libpq lets ?password= override it, so it is not in the dict)."""
    m = _URL_USERINFO.match(dsn.strip())
    if not m or ":" not in m.group(1):
        return ""
    return _unquote(m.group(1).split(":", 1)[1])


_URL_USERINFO = LazyRe(r"^postgres(?:ql)?://([^@/?#]*)@", re.IGNORECASE)


# Where the environment holds a connection string with the migration login's secrets,
# and libpq's own password variables.
MIGRATION_ENV = ("BFG_TUI_MIGRATION_DSN", "BFG_TUI_PG_MIGRATION_DSN")
_PASSWORD_ENV = ("PGPASSWORD", "PGSSLPASSWORD")


def known_secrets(*dsns: str) -> set[str]:
    """Every secret an error text may quote that is known here, for `secrets.scrub`: the
    secret values of `dsns` and of the migration DSN in the environment, and libpq's
    password variables."""
    found: set[str] = set()
    for dsn in (*dsns, *(os.environ.get(k, "").strip() for k in MIGRATION_ENV)):
        found |= secret_values(dsn)
    found |= {os.environ[k] for k in _PASSWORD_ENV if os.environ.get(k)}
    return found


def secret_values(dsn: str) -> set[str]:
    """Every value of `dsn` that may be secret, raw and decoded, to scrub from messages."""
    if not dsn:
        return set()
    found = {dsn, dsn.strip()}
    url_pw = url_password(dsn)
    if url_pw:
        found.add(url_pw)
    m = _URL_USERINFO.match(dsn.strip())
    if m and ":" in m.group(1):
        found.add(m.group(1).split(":", 1)[1])
    try:
        params = libpq_params(dsn)
    except ValueError:
        params = {}
        # Unparseable: scrub every word of it that is not plainly a key or a host.
        found |= {w for w in re.split(r"[\s=&?@:/']+", dsn) if len(w) >= 6}
    for key, value in params.items():
        if key in _SHOWN_KEYS or not value:
            continue
        found.add(value)
        for token in re.split(r"\s+", value):
            _, _, tail = token.partition("=")
            if len(tail) >= 4:
                found.add(tail)
    return {s for s in found if s}
