"""Which PostgreSQL server and database a location names, however it is spelled.

Kept in the store so both the store (its own identity) and the probes (a target's) can
compare locations without the store reaching up into the probes.
"""

from __future__ import annotations

import os


def pg_server_key(location: str) -> tuple[str, str, str]:
    """(host, port, database) of a PostgreSQL location, with libpq's defaults filled in."""
    import psycopg

    base = location.partition("?")[0] if location.startswith(("postgresql://", "postgres://")) else location
    try:
        params = psycopg.conninfo.conninfo_to_dict(base)
    except psycopg.Error:
        return ("", "", "")
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
    user = params.get("user") or os.environ.get("PGUSER") or ""
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    if host in ("127.0.0.1", "::1"):
        host = "localhost"
    return (str(host), port, str(dbname))
