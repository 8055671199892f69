"""The connection wizard's steps as the app login: reachability, TLS with the server
certificate's fingerprint, where the password came from, and the write probe."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import os
import ssl
import struct
import time
import uuid
from typing import Any

from ...runbook import SCHEMA, SET_TENANT_SQL
from ...targets import url_password
from ..base import ConnectionFacts, Log, StepResult
from .session import Fail, PgSession, q

TCP_TIMEOUT_S = 5.0
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


async def reach(s: PgSession, log: Log) -> StepResult:
    check = "connection.endpoint_reachability"
    try:
        host, port = s.address()
        s.phase = f"TCP connect to {_show_host(host)}:{port}"
        t0 = time.perf_counter()
        if host.startswith("/"):
            path = f"{host}/.s.PGSQL.{port}"
            _r, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), TCP_TIMEOUT_S)
        else:
            _r, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TCP_TIMEOUT_S)
        tcp_ms = (time.perf_counter() - t0) * 1000
        writer.close()
        await _closed(writer)
        log(f"TCP {_show_host(host)}:{port} accepts connections ({tcp_ms:.1f} ms)")
        t0 = time.perf_counter()
        conn = await s.app_conn()
        s.phase = "select version()"
        version, user, db = await (await conn.execute(
            "select version(), current_user, current_database()")).fetchone()
        short = " ".join(version.split()[:2])
        login_ms = (time.perf_counter() - t0) * 1000
        log(f"libpq session as {user} on database {db} answers select version(): {short} ({login_ms:.0f} ms)")
        s.server = short
        return StepResult(check, True, f"{short} at {_show_host(host)}:{port} answers as {user}")
    except Exception as exc:
        return s.failed(check, log, exc)


async def tls(s: PgSession, log: Log, facts: ConnectionFacts) -> StepResult:
    check = "connection.tls_fingerprint"
    try:
        conn = await s.app_conn()
        facts.server = s.server
        facts.credentials_external = credentials(s, log, conn, facts)
        s.phase = "reading pg_stat_ssl"
        row = await (await conn.execute(
            "select ssl, version, cipher, bits from pg_stat_ssl where pid = pg_backend_pid()")).fetchone()
        in_use = bool(conn.pgconn.ssl_in_use) and bool(row and row[0])
        facts.tls = in_use
        if not in_use:
            sslmode = s.conninfo().get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"
            log(f"the session is NOT encrypted (sslmode={sslmode}); a staging target must use TLS")
            return StepResult(check, False, f"the connection does not use TLS (sslmode={sslmode})")
        log(f"session encrypted: {row[1]} {row[2]} ({row[3]} bits), confirmed by pg_stat_ssl for this backend")
        host, port = s.address()
        s.phase = f"reading the server certificate from {_show_host(host)}:{port}"
        der = await _server_certificate(host, port)
        fingerprint = "sha256:" + hashlib.sha256(der).hexdigest()
        facts.fingerprint = fingerprint
        sslmode = s.conninfo().get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"
        if sslmode in ("verify-ca", "verify-full"):
            log(f"certificate verified by libpq (sslmode={sslmode})")
        else:
            log(f"sslmode={sslmode}: libpq did not verify the certificate chain; pin the fingerprint below")
        log(f"server certificate {fingerprint} ({len(der)} bytes DER, via SSLRequest + TLS handshake)")
        return StepResult(check, True, f"{row[1]} in use; server certificate {fingerprint}")
    except Exception as exc:
        if facts.fingerprint is None:  # TLS counts only with its certificate recorded
            facts.tls = False
        return s.failed(check, log, exc)


def credentials(s: PgSession, log: Log, conn: Any, facts: ConnectionFacts) -> bool:
    params = s.conninfo()
    used = bool(conn.pgconn.used_password)
    if "password" in params or url_password(s.dsn):
        log("credentials: a password was given inline in the target; it was used to connect, "
            "is not kept, and does not count as externally supplied (use PGPASSWORD or pgpass)")
        facts.notes.append("inline password (not kept)")
        return False
    if not used:
        log("credentials: the server asked for no password; no live credentials were proven")
        facts.notes.append("no password used")
        return False
    # libpq's order: inline password (excluded above), then PGPASSWORD, then the pgpass file.
    if os.environ.get("PGPASSWORD"):
        source = "PGPASSWORD"
    elif params.get("passfile"):
        source = "the pgpass file (passfile=)"
    elif os.environ.get("PGPASSFILE"):
        source = "the pgpass file (PGPASSFILE)"
    else:
        source = "the pgpass file (~/.pgpass)"
    log(f"credentials: password supplied by libpq from {source}; never read, stored or shown by bfg-tui")
    facts.notes.append(f"password from {source}")
    return True


async def write_probe(s: PgSession, log: Log) -> StepResult:
    check = "connection.write_probe"
    try:
        app = await s.app_conn()
        tenant = s.catalog.tenant_id
        rid = "write-probe-" + uuid.uuid4().hex[:12]
        note = "no-secret write probe"
        s.phase = "write probe as the app login"
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant,))
            await app.execute(
                f"insert into {q('users')} (tenant_id, user_id, role_key, display_name) values (%s, %s, %s, %s)",
                (tenant, rid, "write_probe", note))
            back = await (await app.execute(
                f"select display_name from {q('users')} where tenant_id = %s and user_id = %s",
                (tenant, rid))).fetchone()
        async with app.transaction(force_rollback=True):
            await app.execute(SET_TENANT_SQL, (tenant,))
            gone = (await (await app.execute(
                f"select count(*) from {q('users')} where tenant_id = %s and user_id = %s",
                (tenant, rid))).fetchone())[0] == 0
        read_ok = back is not None and back[0] == note
        log(f"write probe: row {rid} inserted into {SCHEMA}.users as the app login, read back={read_ok}, "
            f"rolled back and gone={gone}")
        ok = read_ok and gone
        return StepResult(check, ok, "no-secret row written, read back and rolled back (gone afterwards)"
                          if ok else "the write probe did not round-trip")
    except Exception as exc:
        return s.failed(check, log, exc)


async def _closed(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):  # the peer may reset; the connection is gone either way
        await asyncio.wait_for(writer.wait_closed(), 2)


async def _server_certificate(host: str, port: int) -> bytes:
    """The server certificate (DER): PostgreSQL SSLRequest, then a TLS handshake on the same socket."""
    if host.startswith("/"):
        raise Fail("a Unix socket has no TLS")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TCP_TIMEOUT_S)
    try:
        writer.write(SSL_REQUEST)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readexactly(1), TCP_TIMEOUT_S)
        if answer != b"S":
            raise Fail("the server declined the SSLRequest (TLS is off)")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # only reading the certificate; libpq's sslmode verifies
        await asyncio.wait_for(writer.start_tls(ctx, server_hostname=None if _is_ip(host) else host), TCP_TIMEOUT_S)
        sslobj = writer.get_extra_info("ssl_object")
        der: bytes | None = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if not der:
            raise Fail("the server sent no certificate")
        return der
    finally:
        writer.close()
        await _closed(writer)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _show_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("/") else host

