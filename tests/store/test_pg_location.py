"""A PostgreSQL location is read once, by the one parser in `bfg_tui.targets`: the store's
location (with our `schema` parameter) and a server's identity agree with libpq's reading,
and no error ever quotes a password."""

from __future__ import annotations

import pytest
from bfg_tui.store.postgres import parse_location

from bfg_tui.errors import StoreError
from bfg_tui.targets import server_key

CANARY = "Canary-Pw-7f3a91"


@pytest.fixture(autouse=True)
def _no_libpq_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE"):
        monkeypatch.delenv(key, raising=False)


@pytest.mark.parametrize(("location", "key"), [
    ("postgresql://u@db.example:5433/app", ("db.example", "5433", "app")),
    ("postgresql://u@db.example:5433/app?schema=tenant_a&sslmode=require", ("db.example", "5433", "app")),
    # The query's host and port are libpq's: a socket directory or another port is another server.
    ("postgresql://u@/app?host=/var/run/postgresql&port=5434&schema=s", ("/var/run/postgresql", "5434", "app")),
    ("postgresql://u@%2Fvar%2Frun%2Fpostgresql:5434/app", ("/var/run/postgresql", "5434", "app")),
    ("host=/var/run/postgresql port=5434 dbname=app user=u", ("/var/run/postgresql", "5434", "app")),
    ("postgresql://u@[::1]:5433/app", ("localhost", "5433", "app")),
    ("postgresql://u@[2001:db8::7]/app?schema=x", ("2001:db8::7", "5432", "app")),
    ("postgres://u@127.0.0.1/app", ("localhost", "5432", "app")),
    ("postgresql://u@h", ("h", "5432", "u")),  # the database defaults to the user, as in libpq
])
def test_the_server_key_is_libpqs_reading(location: str, key: tuple[str, str, str]) -> None:
    assert server_key(location) == key


def test_unreadable_locations_have_no_server_key() -> None:
    assert server_key("postgresql://u@h/app?nonsense=1") == ("", "", "")
    assert server_key("host='unterminated") == ("", "", "")


@pytest.mark.parametrize(("location", "conninfo", "schema"), [
    ("postgresql://u@h/app", "postgresql://u@h/app", "bfg_console"),
    ("postgresql://u@h/app?schema=tenant_a", "postgresql://u@h/app", "tenant_a"),
    ("postgresql://u@h/app?sslmode=require&schema=tenant_a&application_name=x",
     "postgresql://u@h/app?sslmode=require&application_name=x", "tenant_a"),
    ("postgresql://u@/app?host=%2Ftmp&schema=s", "postgresql://u@/app?host=%2Ftmp", "s"),
    ("postgresql://u@[::1]:5433/app?schema=s", "postgresql://u@[::1]:5433/app", "s"),
])
def test_the_store_location_keeps_libpqs_part_and_our_schema(location: str, conninfo: str, schema: str) -> None:
    loc = parse_location(location)
    assert (loc.conninfo, loc.schema) == (conninfo, schema)


@pytest.mark.parametrize("location", [
    f"postgresql://u:{CANARY}@h/app",
    f"postgresql://u:{CANARY}@h/app?schema=s",
    f"postgresql://u@h/app?password={CANARY}",
    f"postgresql://u@h/app?schema=s&password={CANARY}",
    f"postgresql://u@h/app?sslpassword={CANARY}",
    f"postgresql://u@h/app?schema={CANARY}&password={CANARY}",
    f"postgresql://u:{CANARY}@h/app#frag",
    f"postgresql://u:{CANARY}@[::1/app",
    f"postgresql://u@h/app?schema=bad-{CANARY}",
    f"postgresql://u:{CANARY}@%2Ftmp/app?sslmode=verify-full",
    f"postgresql://u@h:99999/app?password={CANARY}",
    f"postgresql://u@h/app?options=-c%20password%3D{CANARY}&schema=s",
])
def test_no_error_about_a_location_quotes_its_password(location: str) -> None:
    with pytest.raises(StoreError) as refused:
        parse_location(location)
    message = str(refused.value)
    assert CANARY not in message and len(message.splitlines()) == 1
    assert CANARY not in "".join(server_key(location))



def test_a_string_libpq_cannot_read_is_refused_by_a_coded_reason() -> None:
    """The refusal never quotes the input, and has its message id: English as before, Polish under --lang pl."""
    from bfg_tui.i18n import message_text
    from bfg_tui.targets import libpq_params

    with pytest.raises(ValueError) as refused:
        libpq_params("host='unterminated password=s3cr3t-canary")
    reason = refused.value.args[0]
    assert reason == "not a valid libpq connection string" and "canary" not in reason
    assert message_text(reason, "pl") == "to nie jest poprawny napis połączenia libpq"
