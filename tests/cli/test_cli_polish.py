"""`--lang pl`: the CLI's own lines, its usage errors, the service's refusals and outcomes and the store's
errors are said in Polish, from their message ids; without it, in English, word for word as before."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers.cli import CliResult

Cli = Callable[..., CliResult]


def test_status_text_is_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    out = cli("--lang", "pl", "status").out
    assert "tożsamość: demo (deklarowana)" in out
    assert "snapshot: 0 rekordów, suma kontrolna brak (nie zamrożono)" in out
    assert "dalej: Zapisz dowody połączenia adaptera — " in out
    english = cli("status").out
    assert "identity: demo (self-asserted)" in english and "snapshot: 0 records, checksum none (not frozen)" in english


def test_refusals_and_outcomes_are_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    refused = cli("--lang", "pl", "accept", "no.such_check", actor="user_md_anna")
    assert refused.code == 1 and refused.err.startswith("bfg-tui: nieznana kontrola"), refused
    saved = cli("--lang", "pl", "scenario", "save", actor="user_dispatcher_marek")
    assert saved.code == 0 and saved.out.startswith("scenariusz zapisany"), saved
    scale = cli("--lang", "pl", "scenario", "save", "--scale", "0", actor="user_dispatcher_marek")
    assert scale.err == "bfg-tui: --scale musi wynosić co najmniej 1\n", scale


def test_usage_errors_are_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    assert cli("--lang", "pl", "--db", " ", "status").err == (
        "bfg-tui: błąd użycia: --db jest puste; podaj ścieżkę store lub URL postgresql:// "
        "(albo pomiń --db, by użyć domyślnego store)\n")
    assert cli("--lang", "pl", "--as", " ", "status").err == "bfg-tui: --as wymaga id aktora; było puste\n"
    assert cli("--lang", "pl", "explain", "x.y").err == (
        "bfg-tui: nieznana kontrola 'x.y' (bfg-tui checks wypisuje wszystkie)\n")
    assert cli("explain", "x.y").err == "bfg-tui: unknown check 'x.y' (bfg-tui checks lists them)\n"


def test_audit_verify_and_roster_are_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    verify = cli("--lang", "pl", "audit", "verify").out
    assert verify.startswith("ścieżka audytu ok: 1 zdarzenie, head ")
    assert "zdarzenia: 1, wszystkie deklarowane (tożsamość demo: brak listy kluczy)" in verify
    assert cli("--lang", "pl", "roster", "list").out.startswith("brak listy kluczy: tożsamość demo")
    refused = cli("--lang", "pl", "roster", "add", "user_md_anna", "k.pub", actor="user_md_anna")
    assert refused.err.startswith("bfg-tui: ten store nie ma jeszcze listy kluczy (tożsamość demo)"), refused


def test_a_store_error_is_polish(cli: Cli, tmp_path) -> None:
    missing = cli("--lang", "pl", "status", store=tmp_path / "missing.db")
    assert missing.code == 1 and missing.err.startswith("bfg-tui: brak store w "), missing
    directory = cli("--lang", "pl", "status", store=tmp_path)
    assert directory.err == f"bfg-tui: {tmp_path} to katalog, a nie plik store\n", directory
    assert cli("status", store=tmp_path).err == f"bfg-tui: {tmp_path} is a directory, not a store file\n"
    keyvalue = cli("--lang", "pl", "--db", "host=a dbname=b", "status")
    assert keyvalue.err.startswith("bfg-tui: błąd użycia: --db wygląda jak napis połączenia libpq key=value")


def test_a_key_file_and_a_shared_store_location_are_refused_in_polish(cli: Cli, tmp_path) -> None:
    assert cli("init").code == 0
    missing = tmp_path / "nobody.pub"
    refused = cli("--lang", "pl", "roster", "init", "--actor", "user_md_anna", "--key", str(missing))
    assert refused.err.startswith(f"bfg-tui: nie można odczytać {missing}: "), refused
    private = tmp_path / "id.pub"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    refused = cli("--lang", "pl", "roster", "init", "--actor", "user_md_anna", "--key", str(private))
    assert refused.err == f"bfg-tui: plik {private}: to klucz prywatny; podaj klucz publiczny (plik .pub)\n", refused
    english = cli("roster", "init", "--actor", "user_md_anna", "--key", str(private))
    assert english.err == f"bfg-tui: {private}: that is a private key; give the public key (the .pub file)\n"
    fragment = cli("--lang", "pl", "--db", "postgresql://u@127.0.0.1:1/db#x", "status")
    assert fragment.err.startswith("bfg-tui: ") and "fragment (#…) jest niedozwolony w lokalizacji store" in fragment.err


def test_the_checks_list_says_why_in_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    lines = cli("--lang", "pl", "checks").out.splitlines()
    probe = next(line for line in lines if "connection.endpoint_reachability" in line)
    assert probe.endswith("czeka na próbę connection"), probe
    english = next(line for line in cli("checks").out.splitlines() if "connection.endpoint_reachability" in line)
    assert english.endswith("waiting for the connection probe"), english


def test_a_probe_target_is_refused_in_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    refused = cli("--lang", "pl", "probe", "connection", "sqlite://:memory:", actor="user_dispatcher_marek")
    assert "niepoprawny cel próby: baza SQLite w pamięci nie jest celem próby" in refused.err, refused
    english = cli("probe", "connection", "sqlite://:memory:", actor="user_dispatcher_marek")
    assert "invalid probe target: an in-memory SQLite database is not a probe target" in english.err, english
