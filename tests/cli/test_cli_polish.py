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


def _scenario_file(tmp_path, doc: object) -> str:
    import json

    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(doc), "utf-8")
    return str(path)


def _records(*data: dict[str, object]) -> dict[str, object]:
    return {"schema": "BFGScenarioImport.v1", "tenant": "bfg",
            "records": [{"kind": "orders", "id": f"ord-{n}", "data": {"pallets": 1, **d}} for n, d in enumerate(data)]}


# A malformed scenario file: (document, what --lang pl says after the file name, what English says)
MALFORMED: dict[str, tuple[object, str, str]] = {
    "not an object": ([1], "dokument musi być obiektem JSON (jest: tablica)",
                      "the document must be a JSON object, not an array"),
    "no schema": ({"tenant": "bfg", "records": []}, "schema: pole jest wymagane", "schema: is required"),
    "unknown field": ({**_records({}), "extra": 1}, "extra: nieznane pole", "extra: unknown field"),
    "records not an array": ({**_records({}), "records": {}}, "records: musi być tablicą JSON",
                             "records: must be an array"),
    "schema not a string": ({**_records({}), "schema": 5}, "schema: musi być napisem", "schema: must be a string"),
    "tenant an array": ({**_records({}), "tenant": []}, "tenant: musi być napisem", "tenant: must be a string"),
    "float": (_records({"t": 1.5}), "records[0].data.t: liczby zmiennoprzecinkowe są niedozwolone; "
              "użyj napisu dziesiętnego", "records[0].data.t: floats are not allowed; use a decimal string"),
    "big integer": (_records({"n": 2**60}), "records[0].data.n: liczby całkowite spoza ±9007199254740991 są "
                    "niedozwolone; użyj napisu dziesiętnego",
                    "records[0].data.n: integers beyond ±9007199254740991 are not allowed; use a decimal string"),
    "key not ascii": (_records({"żółw": 1.5}), "records[0].data[\"żółw\"]: klucze obiektu muszą być w ASCII",
                      "records[0].data[\"żółw\"]: object keys must be ASCII"),
    "another tenant": (_records({"tenant_id": "acme", "t": 1.5}),
                       "records[0].data.tenant_id: 'acme' to nie tenant katalogu 'bfg'",
                       "records[0].data.tenant_id: 'acme' is not the catalog tenant 'bfg'"),
    "another tenant as a number": (_records({"tenant_id": 7, "t": 1.5}),
                                   "records[0].data.tenant_id: liczba to nie tenant katalogu 'bfg'",
                                   "records[0].data.tenant_id: a number is not the catalog tenant 'bfg'"),
    "tenant an object": ({**_records({}), "tenant": {"a": 1}}, "tenant: musi być napisem",
                                   "tenant: must be a string"),
    "a control character": (_records({"note": "a\x1bb"}), "records[0].data.note zawiera znak sterujący (U+001B",
                            "records[0].data.note holds a control character (U+001B"),
}


def test_a_malformed_scenario_file_is_refused_in_polish(cli: Cli, tmp_path) -> None:
    """Each reason the importer gives is one Polish line under --lang pl, with the same exit code as in English."""
    assert cli("init").code == 0
    for case, (doc, polish, english) in MALFORMED.items():
        path = _scenario_file(tmp_path, doc)
        said = cli("--lang", "pl", "scenario", "save", "--from", path, actor="user_dispatcher_marek")
        assert said.err.startswith(f"bfg-tui: {path}: {polish}") and said.err.count("\n") == 1, (case, said)
        plain = cli("scenario", "save", "--from", path, actor="user_dispatcher_marek")
        assert plain.err.startswith(f"bfg-tui: {path}: {english}"), (case, plain)
        assert said.code == plain.code == 1 and said.out == plain.out == "", case


def test_audit_list_and_verify_option_errors_are_polish(cli: Cli) -> None:
    assert cli("init").code == 0
    limit = cli("--lang", "pl", "audit", "list", "--limit", "x")
    assert limit.code == 2 and "--limit musi być liczbą całkowitą, a nie 'x'" in limit.err, limit
    assert "--limit must be a whole number, not 'x'" in cli("audit", "list", "--limit", "x").err
    too_many = cli("--lang", "pl", "audit", "list", "--limit", "0")
    assert too_many.code == 2 and "--limit musi wynosić od 1 do 100000" in too_many.err, too_many
    assert "--limit must be between 1 and 100000" in cli("audit", "list", "--limit", "0").err
    head = cli("--lang", "pl", "audit", "verify", "--expect-head", "7")
    assert head.code == 2 and ("--expect-head wymaga COUNT:HASH: liczby zdarzeń audit_events i 64-znakowego "
                               "szesnastkowego audit_head, które wypisuje pakiet") in head.err, head
    assert ("--expect-head needs COUNT:HASH, the audit_events count and the 64-hex audit_head a packet prints"
            in cli("audit", "verify", "--expect-head", "7").err)


def test_a_tampered_store_is_named_in_polish(cli: Cli, db) -> None:
    """`audit verify --lang pl` names the first difference (a state row, an edited event) in Polish."""
    from tests.helpers.rows import run_sql
    from tests.helpers.walkthrough import save_and_freeze

    save_and_freeze(cli)
    assert cli("accept", "transition.db_schema", "--note", "ok", actor="user_accountant_olena").code == 0
    run_sql(db, "update acceptances set note = 'edited' where check_id = 'transition.db_schema'")
    said = cli("--lang", "pl", "audit", "verify")
    assert said.code == 1 and said.err == ("bfg-tui: stan nie zgadza się ze ścieżką audytu: akceptacja "
                                           "transition.db_schema różni się od ścieżki (note)\n"), said
    assert cli("audit", "verify").err == ("bfg-tui: the state does not match the audit trail: acceptance of "
                                          "transition.db_schema differs from the trail (note)\n")
    run_sql(db, "delete from acceptances where check_id = 'transition.db_schema'")
    said = cli("--lang", "pl", "audit", "verify")
    assert said.err == ("bfg-tui: stan nie zgadza się ze ścieżką audytu: akceptacja transition.db_schema "
                        "ze ścieżki: brak w stanie\n"), said
    run_sql(db, "update audit_events set body = replace(body, 'user_dispatcher_marek', 'user_md_anna') where seq = 2")
    said = cli("--lang", "pl", "audit", "verify")
    assert said.err == ("bfg-tui: ścieżka audytu przerwana przy zdarzeniu 2: zdarzenie 2 zostało zmienione: "
                        "jego hash nie zgadza się z treścią\n"), said
