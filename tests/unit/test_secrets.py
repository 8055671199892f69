"""Endpoint redaction (allowlist) and the pre-export secret scan (SPEC §1 rule 3, §7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bfg_tui.secrets import Finding, scan, scan_fields
from bfg_tui.targets import redact_endpoint, sqlite_path, target_kind

CANARY = "CANARY-Pa55w0rd-7f3e"
CANARY_BITS = ("CANARY", "Pa55w0rd", "7f3e")


def assert_clean(text: str) -> None:
    for bit in CANARY_BITS:
        assert bit not in text, f"canary fragment {bit!r} leaked into {text!r}"


# ---------------------------------------------------------------- redact_endpoint

LEAKY_TARGETS = {
    "url-userinfo": f"postgresql://app:{CANARY}@db.example:5432/bfg?sslmode=require",
    "postgres-scheme": f"postgres://app:{CANARY}@db.example:5432/bfg?sslmode=require",
    "url-encoded-userinfo": "postgresql://app:CANARY%2DPa55w0rd%2D7f3e@db.example:5432/bfg?sslmode=require",
    "query-password": f"postgresql://app@db.example:5432/bfg?password={CANARY}&sslmode=require",
    "query-password-first": f"postgresql://app@db.example:5432/bfg?sslmode=require&password={CANARY}",
    "options-raw": f"postgresql://app@db.example:5432/bfg?options=-c password={CANARY}&sslmode=require",
    "options-encoded": f"postgresql://app@db.example:5432/bfg?options=-c%20password%3D{CANARY}&sslmode=require",
    "other-param": f"postgresql://app@db.example:5432/bfg?sslmode=require&application_name={CANARY}",
    "dsn-quoted": f"host=db.example port=5432 dbname=bfg user=app password='{CANARY}' sslmode=require",
    "dsn-quoted-spaces": f"host=db.example port=5432 dbname=bfg user=app password='{CANARY} x y' sslmode=require",
    "dsn-unquoted": f"host=db.example port=5432 dbname=bfg user=app password={CANARY} sslmode=require",
    "dsn-spaces-around-eq": f"host = db.example port = 5432 dbname = bfg user = app password = {CANARY} sslmode=require",
    "dsn-options": f"host=db.example port=5432 dbname=bfg user=app options='-c password={CANARY}' sslmode=require",
    "dsn-escaped-quote": f"host=db.example port=5432 dbname=bfg user=app password='it\\'s-{CANARY}' sslmode=require",
    "dsn-pgpassword": f"PGPASSWORD={CANARY} host=db.example port=5432 dbname=bfg user=app sslmode=require",
    "dsn-sslpassword": f"host=db.example port=5432 dbname=bfg user=app sslpassword={CANARY} sslmode=require",
}


@pytest.mark.parametrize("name", sorted(LEAKY_TARGETS))
def test_redact_never_shows_the_password(name: str) -> None:
    shown = redact_endpoint(LEAKY_TARGETS[name])
    assert_clean(shown)
    # Allowlisted display keys survive, in one canonical form for URL and DSN input.
    assert shown.startswith("postgresql://app")
    assert "@db.example:5432/bfg" in shown
    assert shown.endswith("?sslmode=require")
    assert target_kind(LEAKY_TARGETS[name]) == "postgresql"


def test_redact_canonical_form_matches_spec_example() -> None:
    expected = "postgresql://app:***@db.example:5432/bfg?sslmode=require"
    assert redact_endpoint(LEAKY_TARGETS["url-userinfo"]) == expected
    assert redact_endpoint(LEAKY_TARGETS["dsn-quoted"]) == expected
    assert redact_endpoint(LEAKY_TARGETS["query-password"]) == expected
    # Deterministic: the same input gives the same output every time.
    assert redact_endpoint(LEAKY_TARGETS["dsn-unquoted"]) == redact_endpoint(LEAKY_TARGETS["dsn-unquoted"])


def test_mask_only_when_a_password_was_present() -> None:
    assert redact_endpoint("postgresql://app@db.example:5432/bfg") == "postgresql://app@db.example:5432/bfg"
    assert redact_endpoint("host=db.example dbname=bfg user=app") == "postgresql://app@db.example/bfg"
    assert redact_endpoint("postgresql://app:@db.example/bfg") == "postgresql://app@db.example/bfg"
    assert redact_endpoint("host=db.example user=app password=''") == "postgresql://app@db.example"


def test_only_allowlisted_keys_survive() -> None:
    shown = redact_endpoint(
        "host=db.example port=6432 dbname=bfg user=app sslmode=verify-full "
        "application_name=bfg-tui connect_timeout=5 sslrootcert=/etc/ca.pem service=x"
    )
    assert shown == "postgresql://app@db.example:6432/bfg?sslmode=verify-full"
    url = redact_endpoint(
        "postgresql://app@db.example:6432/bfg?sslmode=verify-full&application_name=x&target_session_attrs=any"
    )
    assert url == shown


def test_redact_hosts_sockets_and_ipv6() -> None:
    assert redact_endpoint("postgresql://h1:5432,h2:5433/bfg") == "postgresql://h1:5432,h2:5433/bfg"
    assert redact_endpoint("host=h1,h2 port=5432 dbname=bfg") == "postgresql://h1:5432,h2:5432/bfg"
    assert redact_endpoint("postgresql://[::1]:5432/bfg") == "postgresql://[::1]:5432/bfg"
    assert redact_endpoint("host=::1 dbname=bfg") == "postgresql://[::1]/bfg"
    assert redact_endpoint("postgresql:///bfg?host=/var/run/postgresql") == (
        "postgresql://%2Fvar%2Frun%2Fpostgresql/bfg"
    )
    assert redact_endpoint("postgresql://DB.Example/bfg") == "postgresql://db.example/bfg"


def test_redact_sqlite_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "rehearsal.db"
    real = os.path.realpath(db)
    assert redact_endpoint(str(db)) == f"sqlite://{real}"
    assert redact_endpoint(f"sqlite://{db}") == f"sqlite://{real}"
    assert redact_endpoint(f"sqlite:///{db}") == f"sqlite://{real}"  # sqlite:////abs
    assert redact_endpoint(f"sqlite://{db}?mode=ro&key={CANARY}") == f"sqlite://{real}"
    monkeypatch.chdir(tmp_path)
    assert redact_endpoint("rehearsal.db") == f"sqlite://{real}"
    assert redact_endpoint("sqlite:rehearsal.db") == f"sqlite://{real}"
    assert sqlite_path("./rehearsal.db") == real
    assert target_kind("rehearsal.db") == "sqlite"
    assert target_kind(f"sqlite://{db}") == "sqlite"


MALFORMED = {
    "empty": "   ",
    "scheme": f"mysql://app:{CANARY}@db/bfg",
    "pg-without-slashes": f"postgresql:app:{CANARY}@db/bfg",
    "unencoded-slash": f"postgresql://app:{CANARY}/x@db.example/bfg",
    "unencoded-slash-after-port-like": f"postgresql://app:12/{CANARY}@db.example/bfg",
    "unencoded-question": f"postgresql://app:ab?{CANARY}@db.example/bfg",
    "bad-port": f"postgresql://app:{CANARY}@db.example:99999/bfg",
    "port-not-number": f"postgresql://app:{CANARY}@db.example:{CANARY}/bfg",
    "bad-host": f"postgresql://app:{CANARY}@db example/bfg",
    "bad-dbname": f"postgresql://app:{CANARY}@db.example/{CANARY}!",
    "bad-sslmode": f"postgresql://app:{CANARY}@db.example/bfg?sslmode={CANARY}",
    "unterminated-quote": f"host=db.example password='{CANARY}",
    "missing-equals": f"host=db.example password {CANARY}",
    "no-libpq-keys": f"PGPASSWORD={CANARY}",
    "control-char": f"host=db.example\npassword={CANARY}",
    "memory": ":memory:",
    "token-in-path": f"/tmp/x.db?token=ghx8a7sd6f5g4h3j{CANARY}",
    "dsn-token-in-user": "host=db.example user=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_targets_raise_one_line_without_the_input(name: str) -> None:
    with pytest.raises(ValueError) as info:
        redact_endpoint(MALFORMED[name])
    message = str(info.value)
    assert message.startswith("invalid probe target: ")
    assert "\n" not in message
    assert_clean(message)
    assert_clean(repr(info.value.args))
    # No chained exception (urllib's messages can quote the input) rides along.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# ---------------------------------------------------------------- scan

SECRET_TEXTS = {
    "url-password": f"endpoint=postgresql://app:{CANARY}@db.example/bfg",
    "password-dsn": f"dsn=host=db.example password={CANARY}",
    "password-dsn-quoted": f"host=db password='{CANARY} with spaces'",
    "pgpassword-env": f"PGPASSWORD={CANARY}",
    "pgpassword-export": f'export PGPASSWORD="{CANARY}"',
    "pwd": f"pwd={CANARY}",
    "options-encoded": f"options=-c%20password%3D{CANARY}",
    "json-password": f'{{"password": "{CANARY}"}}',
    "yaml-password": f"password: {CANARY}",
    "sql-password": f"create role bfg_app login password '{CANARY}';",
    "auth-header": "Authorization: Bearer abc.def.ghi",
    "bearer": "curl -H 'X: Bearer 0123456789abcdefXYZ'",
    "token": "token=ghx8a7sd6f5g4h3j",
    "secret": "client_secret=s3cr3tValue99",
    "api-key": "api_key=AbCdEf123456",
    "apikey": 'apikey: "Zz9Yy8Xx7Ww6"',
    "pem": "-----BEGIN RSA PRIVATE KEY-----",
    "pem-pkcs8": "-----BEGIN PRIVATE KEY-----",
    "pem-openssh": "-----BEGIN OPENSSH PRIVATE KEY-----",
    "aws": "key AKIAIOSFODNN7EXAMPLE in a log",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX3Rlc3Q",
    "github": "ghp_" + "a1" * 18,
}


@pytest.mark.parametrize("name", sorted(SECRET_TEXTS))
def test_scan_finds_each_secret_form(name: str) -> None:
    findings = scan(SECRET_TEXTS[name])
    assert findings, name
    for finding in findings:
        assert finding.field == "line 1"
        assert_clean(repr(finding))


def test_scan_kinds() -> None:
    kinds = {name: {f.kind for f in scan(text)} for name, text in SECRET_TEXTS.items()}
    assert "url-password" in kinds["url-password"]
    assert kinds["pgpassword-env"] == {"password"}
    assert kinds["auth-header"] == {"bearer-token"}
    assert kinds["pem"] == {"private-key"}
    assert kinds["aws"] == {"aws-access-key"}
    assert "jwt" in kinds["jwt"]
    assert kinds["token"] == {"token"}


HARMLESS = [
    "BFG_ROLLBACK_AUTH=mock-auth-header",
    "secrets_backup",
    "infra.secrets_backup=pending",
    "Secrets i backup boundary",
    "db-auth-session-adapter.secretsBackupBoundary=blocked",
    "wiring.live_credentials=blocked",
    "traffic=production_traffic_disabled",
    "checksum=bfg-eba94650 snapshot_checksum=bfg-feb1d61b",
    "snapshot_digest=" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "audit_head=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "fingerprint=sha256:" + "ab" * 32,
    "postgresql://app:***@db.example:5432/bfg?sslmode=require",
    "password=***",
    "password=",
    "PGPASSWORD=$PGPASSWORD",
    "PWD=/home/anna",
    "infra.secrets_backup.value=managed secrets; RPO 15 min; restore owner user_md_anna",
    "password authentication failed for user app",
    "Bearer tokens are required for live users",
    "token=not-recorded",
    "create role bfg_app nologin nosuperuser nobypassrls;",
    "alter role bfg_app password :'app_password';",
    "Secret: managed vault",
    "BFG_RELEASE_EVIDENCE=ProductionAdapterDryRun.v1",
    "sqlite:///tmp/rehearsal.db",
]


@pytest.mark.parametrize("text", HARMLESS)
def test_scan_keeps_false_positives_low(text: str) -> None:
    assert scan(text) == []


def test_scan_labels_lines_and_fields() -> None:
    text = "ok=1\nstill=fine\nPGPASSWORD=" + CANARY + "\n"
    assert scan(text) == [Finding("line 3", "password")]
    fields = [("endpoint", f"postgresql://app:{CANARY}@db/bfg"), ("traffic", "production_traffic_disabled"),
              ("password", CANARY), ("note", "fine")]
    found = scan_fields(fields)
    assert [f.field for f in found] == ["endpoint", "password"]
    assert all(CANARY not in repr(f) for f in found)


# ---------------------------------------------------------------- the one error-text scrubber


def test_scrub_cuts_known_secrets_and_withholds_what_still_looks_secret() -> None:
    from bfg_tui.secrets import WITHHELD, WITHHELD_KNOWN, scrub

    pw = "Zq9-" + CANARY
    assert scrub(f"connection failed:\n  password {pw} rejected", [pw]) == "connection failed: password *** rejected"
    assert scrub("auth failed for xy", ["xy"]) == WITHHELD_KNOWN  # too short to cut out safely
    assert scrub(f"could not connect: postgresql://app:{CANARY}@db/bfg") == WITHHELD
    assert scrub("x" * 400) == "x" * 300 and scrub("x" * 400, limit=None) == "x" * 400
    assert scrub("a\tb\n c") == "a b c"


def test_every_error_path_uses_the_one_scrubber() -> None:
    """The CLI, the PostgreSQL store and the PostgreSQL probe withhold a secret-looking message alike."""
    from bfg_tui.store.postgres import translate_error

    from bfg_tui.cli import _safe
    from bfg_tui.probes.postgres.session import PgSession
    from bfg_tui.secrets import WITHHELD

    leak = f"boom: password={CANARY}"
    assert _safe(leak) == WITHHELD
    assert WITHHELD in translate_error(RuntimeError(leak), "postgresql://app@db/bfg").reason
    session = PgSession(f"postgresql://app:{CANARY}@db/bfg", catalog=None)
    assert session.clean(f"server said {CANARY}") == "server said ***"
    assert session.clean(leak.replace(CANARY, "abc")) == WITHHELD


# ---------------------------------------------------------------- one DSN parser


def test_libpq_reading_of_a_target() -> None:
    from bfg_tui.targets import is_libpq_keyvalue, is_postgres, libpq_params, secret_values, url_password

    url = f"postgresql://app:{CANARY}@db.example:5433/bfg?sslmode=require&options=-c%20x%3D1"
    params = libpq_params(url)
    assert (params["host"], params["port"], params["dbname"], params["sslmode"]) == ("db.example", "5433", "bfg",
                                                                                      "require")
    assert url_password(url) == CANARY and url_password("postgresql://app@db/bfg") == ""
    assert CANARY in secret_values(url) and "db.example" not in secret_values(url)
    assert "s3cr3t-pw" in secret_values("host=db password=s3cr3t-pw")
    with pytest.raises(ValueError) as err:
        libpq_params(f"host=db password='{CANARY}")  # unterminated quote
    assert CANARY not in str(err.value)
    assert is_postgres("postgres://db/x") and not is_postgres("./postgres.db")
    assert is_libpq_keyvalue("host=db dbname=x") and not is_libpq_keyvalue("./a=b.db")
