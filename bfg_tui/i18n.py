"""Every string the console shows, in English and Polish.

The Polish follows the seed page's wording (and its plain-ASCII spelling: "checkow",
"Jeszcze bez zapisu"). Catalog texts (check titles, gate actions...) are not here:
they come from the catalog through `Text.get(lang)`. Stdlib only: no Textual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

LANGS = ("en", "pl")

# key -> (English, Polish)
STRINGS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------ app shell
    "app.title": ("BFG integration console", "Konsola integracji BFG"),
    "app.loading": ("Opening the store…", "Otwieranie store…"),
    "app.load_failed": ("The store could not be opened: {reason}", "Nie mozna otworzyc store: {reason}"),
    "app.acting_as": ("acting as {name} ({actor} · {role})", "dzialasz jako {name} ({actor} · {role})"),
    "app.acting_as_id": ("acting as {actor}", "dzialasz jako {actor}"),
    "app.identity_demo": ("identity: demo (self-asserted)", "tozsamosc: demo (deklarowana)"),
    "app.identity_demo_short": ("demo", "demo"),
    "app.identity_signed": ("signed · {fingerprint}", "podpisane · {fingerprint}"),
    "app.identity_no_key": ("signed · no key here: read-only", "podpisane · brak klucza: tylko odczyt"),
    "app.bound": ("this SSH session acts only as {actor}", "ta sesja SSH dziala tylko jako {actor}"),
    "app.no_keys": ("no roster key in your agent (ssh-add -l): read-only", "brak klucza z listy w agencie (ssh-add -l): tylko odczyt"),
    "app.acting_as_short": ("as {name} · {role}", "jako {name} · {role}"),
    "app.nobody": ("acting as nobody: read-only (press ctrl+a or u)",
                   "brak aktora: tylko odczyt (nacisnij ctrl+a lub u)"),
    "app.go_no_go": ("go/no-go {value}", "go/no-go {value}"),
    "app.live_changed": ("Another session changed the store; refreshed.",
                         "Inna sesja zmienila store; odswiezono."),
    "app.theme": ("Theme: {theme}", "Motyw: {theme}"),
    "app.keymap_error": ("Keymap {path} ignored: {reason}", "Keymap {path} pominiety: {reason}"),
    "app.refused": ("Refused", "Odmowa"),
    "app.error": ("Error", "Blad"),
    "app.done": ("Done", "Gotowe"),
    "app.secret_error": ("an error occurred whose message looked like it held a secret",
                         "wystapil blad, ktorego komunikat wygladal na zawierajacy sekret"),
    "app.no_actor": ("no actor chosen: actions will be refused", "nie wybrano aktora: akcje beda odrzucane"),
    "app.login_mismatch": ("login {login} acts as {actor}; --as {claimed} refused: actions will be refused",
                           "login {login} dziala jako {actor}; --as {claimed} odrzucone: akcje beda odrzucane"),
    # ------------------------------------------------------------ modes
    "mode.home": ("Readiness copilot", "Copilot gotowosci"),
    "mode.providers": ("Provider contracts", "Kontrakty providerow"),
    "mode.rbac": ("RBAC map", "Mapa RBAC"),
    "mode.board": ("Decision board", "Tablica decyzji"),
    "mode.cutover": ("Cutover console", "Konsola cutover"),
    "mode.audit": ("Audit trail", "Audit trail"),
    "nav.home": ("Copilot", "Copilot"),
    "nav.providers": ("Providers", "Providerzy"),
    "nav.rbac": ("RBAC", "RBAC"),
    "nav.board": ("Board", "Tablica"),
    "nav.cutover": ("Cutover", "Cutover"),
    "nav.audit": ("Audit", "Audit"),
    # ------------------------------------------------------------ bindings (description, tooltip)
    "bind.screen.home": ("Copilot", "Copilot"),
    "tip.screen.home": ("Readiness copilot: gates, blockers, go/no-go", "Copilot gotowosci: bramki, blokery, go/no-go"),
    "bind.screen.providers": ("Providers", "Providerzy"),
    "tip.screen.providers": ("Provider contracts, live session, rollout plan",
                             "Kontrakty providerow, sesja live, plan rollout"),
    "bind.screen.rbac": ("RBAC", "RBAC"),
    "tip.screen.rbac": ("Actors, roles, permissions and claims", "Aktorzy, role, uprawnienia i claims"),
    "bind.screen.board": ("Board", "Tablica"),
    "tip.screen.board": ("Decision board and transition checks", "Tablica decyzji i kroki przejscia"),
    "bind.screen.cutover": ("Cutover", "Cutover"),
    "tip.screen.cutover": ("Connection, dry-run, preflight, runbook, cutover, release, rollback",
                           "Connection, dry-run, preflight, runbook, cutover, release, rollback"),
    "bind.screen.audit": ("Audit", "Audit"),
    "tip.screen.audit": ("The hash-chained audit trail", "Audit trail z lancuchem hashy"),
    "bind.palette": ("palette", "paleta"),
    "tip.palette": ("Open the command palette", "Otworz palete komend"),
    "bind.help": ("Help", "Pomoc"),
    "tip.help": ("Help for the focused part and the keys in force", "Pomoc dla aktywnej czesci i aktywne klawisze"),
    "bind.actor.switch": ("Actor", "Aktor"),
    "tip.actor.switch": ("Switch who acts (audited)", "Zmien aktora (zapisywane w audycie)"),
    "bind.theme.toggle": ("Theme", "Motyw"),
    "tip.theme.toggle": ("Toggle the dark and light theme", "Przelacz ciemny i jasny motyw"),
    "bind.quit": ("Quit", "Wyjdz"),
    "tip.quit": ("Quit the console", "Zamknij konsole"),
    "bind.check.accept": ("Accept", "Akceptuj"),
    "tip.check.accept": ("Accept the focused check (asks for a note, or a value)",
                         "Akceptuj wybrana kontrole (pyta o notatke lub wartosc)"),
    "bind.check.revoke": ("Revoke", "Cofnij"),
    "tip.check.revoke": ("Revoke the acceptance of the focused check", "Cofnij akceptacje wybranej kontroli"),
    "bind.check.detail": ("Detail", "Szczegoly"),
    "tip.check.detail": ("Owner, kind, state, history and evidence", "Owner, rodzaj, stan, historia i dowody"),
    "bind.check.probe": ("Run probe", "Uruchom probe"),
    "tip.check.probe": ("Run the connection or dry-run probe against a target",
                        "Uruchom probe connection lub dry-run na celu"),
    "bind.focus.next": ("Next part (Tab)", "Następna część (Tab)"),
    "bind.focus.previous": ("Previous part", "Poprzednia część"),
    "bind.row.detail": ("Detail", "Szczegóły"),
    "tip.row.detail": ("The row in full", "Cały wiersz"),
    "table.no_accept": ("Nothing to accept in this list: your sign-offs are on 1 (Copilot, your queue) and 4 (Board).",
                        "Na tej liście nie ma nic do akceptacji: twoje akceptacje są na 1 (Copilot, twoja kolejka) i 4 (Tablica)."),
    "bind.list.down": ("Down", "W dol"),
    "tip.list.down": ("Next row", "Nastepny wiersz"),
    "bind.list.up": ("Up", "W gore"),
    "tip.list.up": ("Previous row", "Poprzedni wiersz"),
    "bind.list.page_down": ("Page down", "Strona w dol"),
    "tip.list.page_down": ("One page of rows down", "Jedna strona wierszy w dol"),
    "bind.list.page_up": ("Page up", "Strona w gore"),
    "tip.list.page_up": ("One page of rows up", "Jedna strona wierszy w gore"),
    "bind.list.first": ("First", "Pierwszy"),
    "tip.list.first": ("The first row", "Pierwszy wiersz"),
    "bind.list.last": ("Last", "Ostatni"),
    "tip.list.last": ("The last row", "Ostatni wiersz"),
    "bind.packet.export": ("Export", "Eksport"),
    "tip.packet.export": ("Export a packet to a file or the clipboard (OSC 52)",
                          "Eksportuj pakiet do pliku lub schowka (OSC 52)"),
    "bind.scenario.save": ("Save scenario", "Zapisz scenariusz"),
    "tip.scenario.save": ("Write the demo scenario into the store", "Zapisz scenariusz demo w store"),
    "bind.snapshot.freeze": ("Freeze", "Zamroz"),
    "tip.snapshot.freeze": ("Freeze the scenario into BFGScenarioSnapshot.v1",
                            "Zamroz scenariusz do BFGScenarioSnapshot.v1"),
    "bind.tab.next": ("Next tab", "Nastepna zakladka"),
    "tip.tab.next": ("Next cutover console tab", "Nastepna zakladka konsoli cutover"),
    "bind.tab.prev": ("Prev tab", "Poprzednia zakladka"),
    "tip.tab.prev": ("Previous cutover console tab", "Poprzednia zakladka konsoli cutover"),
    "bind.page.next": ("Older", "Starsze"),
    "tip.page.next": ("Next page of older events", "Nastepna strona starszych zdarzen"),
    "bind.page.prev": ("Newer", "Nowsze"),
    "tip.page.prev": ("Previous page of newer events", "Poprzednia strona nowszych zdarzen"),
    "bind.audit.filter": ("Filter", "Filtr"),
    "tip.audit.filter": ("Filter events by kind, actor or subject", "Filtruj zdarzenia po rodzaju, aktorze lub temacie"),
    "bind.audit.verify": ("Verify", "Weryfikuj"),
    "tip.audit.verify": ("Recompute the hash chain", "Przelicz lancuch hashy"),
    "bind.modal.cancel": ("Cancel", "Anuluj"),
    "tip.modal.cancel": ("Close without doing anything", "Zamknij bez zmian"),
    "bind.modal.confirm": ("Confirm", "Potwierdz"),
    "tip.modal.confirm": ("Confirm and carry out", "Potwierdz i wykonaj"),
    "bind.modal.close": ("Close", "Zamknij"),
    "tip.modal.close": ("Close this window", "Zamknij to okno"),
    "bind.probe.cancel": ("Cancel probe", "Przerwij probe"),
    "tip.probe.cancel": ("Cancel the running probe; nothing is stored", "Przerwij probe; nic nie zostanie zapisane"),
    # ------------------------------------------------------------ check tables
    "col.state": ("", ""),
    "col.check": ("Check", "Kontrola"),
    "col.owner": ("Owner", "Owner"),
    "col.status": ("Status", "Status"),
    "col.value": ("Value", "Wartosc"),
    "col.gate": ("Gate", "Bramka"),
    "col.count": ("n/m", "n/m"),
    "col.decision": ("State", "Stan"),
    "mark.ready": ("ok", "ok"),
    "mark.stale": ("STALE", "STALE"),
    "mark.blocked": ("--", "--"),
    "state.ready": ("ready", "gotowe"),
    "state.blocked": ("blocked", "zablokowane"),
    "kind.owner": ("owner check", "kontrola ownera"),
    "kind.probe": ("probe check", "kontrola probe"),
    "kind.derived": ("derived", "wyliczana"),
    "owner.none": ("— (computed)", "— (wyliczane)"),
    "owner.probe": ("— (probe)", "— (probe)"),
    "not_probe": ("{check} is not a probe check: press a to accept an owner check",
                  "{check} nie jest kontrola probe: nacisnij a, aby zaakceptowac kontrole ownera"),
    # ------------------------------------------------------------ home
    "home.heading": ("Integration Readiness Copilot", "Integration Readiness Copilot"),
    "home.page_title": ("Production adapter setup · Integration console", "Setup adaptera produkcji · Konsola integracji"),
    "home.page_intro": (
        "One settings surface drives the local DB/auth-ready contracts, the provider modes and the production transition checklist.",
        "Jedna powierzchnia ustawień steruje lokalnymi kontraktami DB/auth-ready, trybami providerów i checklistą przejścia na produkcję."),
    "home.decision_needed": ("Decision needed", "Potrzebna decyzja"),
    "home.decision_needed_title": ("Choose the real DB/auth provider before wiring production",
                                   "Wybierz realnego providera DB/auth przed podłączeniem produkcji"),
    "home.decision_needed_detail": (
        "Release gates show {release}; data cutover remains {cutover}. Keep demo evidence open, but do not claim production readiness.",
        "Bramki release: {release}; cutover danych nadal {cutover}. Zostaw dowody demo otwarte, ale nie deklaruj gotowości produkcyjnej."),
    "home.infra_prompt_title": ("Infrastructure decision prompt", "Decyzja infrastruktury"),
    "home.infra_prompt": (
        "{target} is selected for rehearsal, but {decision} keeps real DB/auth cutover blocked until infrastructure owners choose the live provider.",
        "{target} jest wybrany do próby, ale {decision} blokuje realny cutover DB/auth, dopóki ownerzy infrastruktury nie wybiorą live providera."),
    "home.selected_target": ("Selected adapter target {target}:", "Wybrany adapter docelowy {target}:"),
    "home.selected_target_detail": ("the target is ready for local replay, not live production traffic.",
                                    "cel jest gotowy do lokalnego replay, nie do live ruchu produkcyjnego."),
    "home.no_live_secrets": ("Live credentials and secrets are not present in the MVP workspace.",
                             "Live credentials i sekrety nie są obecne w workspace MVP."),
    "home.preflight_status": ("{preflight}; infrastructure status: {infra}.", "{preflight}; status infrastruktury: {infra}."),
    "home.preflight_not_run": ("Preflight not run ({count})", "Preflight nieuruchomiony ({count})"),
    "home.preflight_ready": ("Preflight {count}", "Preflight {count}"),
    "home.infra_blocked": ("blocked", "zablokowany"),
    "home.infra_accepted": ("accepted", "zaakceptowany"),
    "card.contract": ("Scenario contract", "Kontrakt scenariusza"),
    "card.contract_detail": ("The API shape is stable for the future DB adapter.",
                             "Kształt API jest stabilny dla przyszłego adaptera DB."),
    "card.actors": ("Role actors", "Aktorzy ról"),
    "card.actors_detail": ("Demo users map to future RBAC claims.", "Użytkownicy demo mapują się na przyszłe RBAC claims."),
    "card.providers": ("Provider modes", "Tryby providerów"),
    "card.providers_detail": ("Mock/local providers show their production targets.",
                              "Mockowe i lokalne providery pokazują cele produkcyjne."),
    "card.preflight": ("Preflight", "Preflight"),
    "card.preflight_detail": ("Snapshot migration readiness before the real DB/auth cutover.",
                              "Gotowość migracji snapshotu przed realnym cutover DB/auth."),
    "card.transition": ("Transition steps", "Kroki przejścia"),
    "card.transition_detail": ("Ready gates versus infrastructure tasks.", "Gotowe bramki kontra zadania infrastruktury."),
    "card.connection": ("Connection", "Connection"),
    "card.connection_detail": ("Redacted endpoint readiness for the selected adapter.",
                               "Gotowość redacted endpointu dla wybranego adaptera."),
    "home.gates_ready": ("{count} integration gates are ready for {target}.",
                         "{count} integration gates sa gotowe dla {target}."),
    "home.gates": ("Integration gates", "Bramki integracji"),
    "home.recommended": ("Recommended integration action", "Rekomendowana akcja integracji"),
    "home.go_no_go": ("Go/no-go decision", "Decyzja go/no-go"),
    "home.go_ready": ("All decisions are READY: the cutover may be reviewed.",
                      "Wszystkie decyzje sa READY: cutover moze byc przejrzany."),
    "home.go_blocked": ("Local demo can proceed while production remains blocked.",
                        "Lokalne demo moze isc dalej, produkcja pozostaje zablokowana."),
    "home.why": ("why: the first of {order} that is not READY", "dlaczego: pierwsza z {order}, ktora nie jest READY"),
    "home.blockers": ("Integration blocker checklist", "Lista blokerow integracji"),
    "home.blockers_none": ("No blockers: every check is ready.", "Brak blokerow: wszystkie kontrole sa gotowe."),
    "home.provider_selection": ("Provider selection acceptance", "Akceptacja wyboru providera"),
    "home.provider_selection_hint": (
        "{owner} must accept {target} before live DB/auth wiring; {decision} remains the only allowed production decision.",
        "{owner} musi zaakceptowac {target} przed live DB/auth wiring; {decision} pozostaje jedyna dozwolona decyzja produkcyjna."),
    "home.infrastructure": ("Infrastructure selection decision", "Infrastructure selection decision"),
    "home.infrastructure_hint": (
        "{owner} must choose hosting, region, runtime ownership and secrets/backup boundaries for {target}; {decision} stays locked until then.",
        "{owner} musi wybrac hosting, region, runtime ownership oraz secrets/backup boundaries dla {target}; {decision} pozostaje locked do tej decyzji."),
    "home.wiring": ("Guarded DB/auth wiring", "Guarded DB/auth wiring"),
    "home.wiring_hint": (
        "Local contract wiring for {target} may start after infrastructure acceptance ({infra}); production traffic stays disabled until live credentials exist.",
        "Local contract wiring dla {target} moze ruszyc po infrastructure acceptance ({infra}); production traffic pozostaje disabled do czasu live credentials."),
    "home.wiring_decision": ("Decision={decision}; traffic={traffic}.", "Decision={decision}; traffic={traffic}."),
    "home.proof": ("Reviewer proof path", "Reviewer proof path"),
    "home.proof_intro": (
        "Use these routes to show the blocker, evidence and audit trail without pretending live infrastructure exists.",
        "Uzyj tych sciezek, aby pokazac blocker, dowody i audit trail bez udawania, ze live infrastruktura istnieje."),
    "home.proof_steps": (
        "1 this screen: gates, blockers, go/no-go · 4 decision board: owner evidence · "
        "5 cutover console: probes, transcripts, packets (x exports) · 6 audit trail: every change, chain status · "
        "headless: bfg-tui status --exit-code, bfg-tui audit verify",
        "1 ten ekran: bramki, blokery, go/no-go · 4 tablica decyzji: evidence ownerow · "
        "5 konsola cutover: proby, transkrypty, pakiety (x eksportuje) · 6 audit trail: kazda zmiana, status lancucha · "
        "bez UI: bfg-tui status --exit-code, bfg-tui audit verify"),
    "home.snapshot": ("Snapshot: {rows} records, checksum {checksum}", "Snapshot: {rows} rekordow, checksum {checksum}"),
    "home.snapshot_none": ("Snapshot: not frozen yet (s saves the scenario, f freezes it)",
                           "Snapshot: jeszcze nie zamrozony (s zapisuje scenariusz, f zamraza)"),
    "home.stale": ("Stale evidence: {checks}", "Nieaktualne dowody: {checks}"),
    # ------------------------------------------------------------ providers
    "prov.heading": ("Mock-first providers with production targets", "Mock-first providery z celami produkcji"),
    "prov.intro": ("Every external dependency has a local MVP mode and a named production replacement.",
                   "Kazda zewnetrzna zaleznosc ma lokalny tryb MVP i nazwany zamiennik produkcyjny."),
    "prov.col.provider": ("Provider", "Provider"),
    "prov.col.current": ("Current mode", "Aktualny tryb"),
    "prov.col.target": ("Target mode", "Tryb docelowy"),
    "prov.col.contract": ("Contract", "Kontrakt"),
    "prov.session": ("Live session", "Sesja live"),
    "prov.session_sub": ("Current adapter state", "Aktualny stan adaptera"),
    "prov.storage": ("Adapter storage", "Adapter storage"),
    "prov.auth": ("Auth mode", "Tryb auth"),
    "prov.tenant": ("Tenant mode", "Tryb tenant"),
    "prov.last_save": ("Last save", "Ostatni zapis"),
    "prov.none_yet": ("none yet", "Jeszcze bez zapisu"),
    "prov.saved": ("{at} by {actor}, {records} records", "{at} przez {actor}, {records} rekordow"),
    "prov.session_id": ("Session", "Sesja"),
    "prov.contract": ("Store contract", "Kontrakt store"),
    "prov.target": ("Selected target", "Wybrany cel"),
    "prov.rollout": ("Adapter rollout plan", "Plan rollout adaptera"),
    "prov.col.env": ("Environment", "Srodowisko"),
    "prov.col.adapter": ("Adapter", "Adapter"),
    "prov.col.detail": ("Meaning", "Znaczenie"),
    "prov.checks": ("Contract checks", "Kontrole kontraktow"),
    # ------------------------------------------------------------ rbac
    "rbac.heading": ("Actors by role", "Aktorzy wg rol"),
    "rbac.intro": ("The same actor ids and permissions go through the Scenario API headers and can later become auth claims.",
                   "Te same actor ids i uprawnienia ida przez naglowki Scenario API i moga pozniej stac sie auth claims."),
    "rbac.col.name": ("Name", "Nazwa"),
    "rbac.col.id": ("Actor id", "Actor id"),
    "rbac.col.desk": ("Desk", "Desk"),
    "rbac.col.role": ("Role", "Rola"),
    "rbac.col.owns": ("Owns", "Posiada"),
    "rbac.permissions": ("Permissions of {name}", "Uprawnienia: {name}"),
    "rbac.claims": ("Future auth claims (OIDC/RBAC)", "Przyszle auth claims (OIDC/RBAC)"),
    "rbac.owned": ("Checks owned by {name}", "Kontrole ownera {name}"),
    "rbac.owned_none": ("owns no checks", "nie jest ownerem zadnej kontroli"),
    # ------------------------------------------------------------ board
    "board.heading": ("Production adapter decision board", "Production adapter decision board"),
    "board.intro": (
        "Shows the DB/auth adapter choice, environment readiness, secrets, schema, migration, rollback and owner acceptance before production cutover.",
        "Pokazuje wybor adaptera DB/auth, gotowosc srodowiska, sekrety, schemat, migracje, rollback i akceptacje ownerow przed production cutover."),
    "board.summary": ("Decision board {count}", "Tablica decyzji {count}"),
    "board.col.row": ("Row", "Wiersz"),
    "board.col.subject": ("Subject", "Temat"),
    "board.col.owner": ("Owner", "Owner"),
    "board.col.evidence": ("Evidence", "Evidence"),
    "board.evidence": ("{ready}/{total} checks accepted", "{ready}/{total} checkow accepted"),
    "board.transition": ("DB/auth migration checklist", "Checklista migracji DB/auth"),
    "board.transition_intro": (
        "Accept the owner-led rehearsal cutover so the DB/auth checklist becomes audit evidence ({count}).",
        "Akceptuj rehearsal cutover prowadzony przez ownerow, aby DB/auth checklist stal sie audit evidence ({count})."),
    # ------------------------------------------------------------ cutover
    "cut.connection": ("Connection wizard", "Kreator polaczenia"),
    "cut.dry_run": ("Dry-run transcript", "Transcript dry-run"),
    "cut.preflight": ("Migration preflight", "Preflight migracji"),
    "cut.runbook": ("Runbook SQL", "Runbook SQL"),
    "cut.data_cutover": ("Data cutover", "Cutover danych"),
    "cut.release": ("Release handoff", "Release handoff"),
    "cut.rollback": ("Rollback drill", "Drill rollbacku"),
    "cut.connection_intro": (
        "Records the redacted endpoint, TLS/RBAC and write-probe evidence for the selected DB/auth adapter without storing secrets. p runs the probe.",
        "Zapisuje redacted endpoint, TLS/RBAC i write-probe evidence dla wybranego DB/auth adaptera bez przechowywania sekretow. p uruchamia probe."),
    "cut.dry_run_intro": (
        "Replays the frozen snapshot into the selected DB/auth adapter contract and compares checksums. p runs the dry-run.",
        "Replayuje zamrozony snapshot do wybranego kontraktu DB/auth adaptera i porownuje checksumy. p uruchamia dry-run."),
    "cut.preflight_intro": (
        "Reviewer-safe DB/auth rehearsal report from the current BFGScenarioSnapshot.v1 payload, adapter target and rollback evidence.",
        "Reviewer-safe raport DB/auth rehearsal z aktualnego payloadu BFGScenarioSnapshot.v1, adapter target i rollback evidence."),
    "cut.runbook_intro": (
        "Portable SQL/RLS outline and operator checklist for replaying the current snapshot into the selected adapter without live secrets.",
        "Przenosny SQL/RLS outline i checklista operatora do replay aktualnego snapshotu do wybranego adaptera bez live sekretow."),
    "cut.data_cutover_intro": (
        "Turns the migration runbook into tenant, operations, finance and audit batch evidence before live DB/auth.",
        "Zamienia runbook migracji w dowody batchy tenant, operacje, finanse i audit przed podlaczeniem live DB/auth."),
    "cut.release_intro": (
        "Reviewer-ready env shows the local adapter mode, target, rollback owner and the go/no-go decision.",
        "Reviewer-ready env pokazuje lokalny tryb adaptera, cel, rollback owner i decyzje go/no-go."),
    "cut.rollback_intro": (
        "Ops checks the fallback owner, storage adapter and audit packet before a real infrastructure cutover.",
        "Ops sprawdza wlasciciela fallbacku, adapter storage i pakiet audytu przed prawdziwym cutover infrastruktury."),
    "cut.gate": ("{title} {count}", "{title} {count}"),
    "cut.decision": ("Decision {decision}", "Decyzja {decision}"),
    "cut.packet": ("Packet {schema} (x exports)", "Pakiet {schema} (x eksportuje)"),
    "cut.batches": ("Batch groups holding rows: {count}", "Grupy batchy z wierszami: {count}"),
    "cut.batch_rows": ("{title}: {rows} rows", "{title}: {rows} wierszy"),
    "cut.targets": ("Evidence by target (latest run of each probe)", "Dowody według celu (ostatnie uruchomienie każdej próby)"),
    "cut.targets_none": ("No target probed yet: press p.", "Żaden cel nie był jeszcze sprawdzany: naciśnij p."),
    "cut.target_selected": ("selected: its evidence counts", "wybrany: jego dowody się liczą"),
    "cut.run_passed": ("passed", "zaliczona"),
    "cut.run_failed": ("failed", "niezaliczona"),
    "cut.transcript": ("Latest transcript", "Ostatni transcript"),
    "cut.transcript_none": ("No run yet: press p to run it.", "Jeszcze bez uruchomienia: nacisnij p."),
    "cut.sql": ("ProductionAdapterMigrationRunbook.v1 SQL outline", "ProductionAdapterMigrationRunbook.v1 SQL Outline"),
    # ------------------------------------------------------------ audit
    "audit.heading": ("Audit trail", "Audit trail"),
    "audit.filter": ("filter: kind, actor or subject (/ to focus)", "filtr: rodzaj, aktor lub temat (/ aby przejsc)"),
    "audit.page": ("events {first}–{last} of {total}, newest first", "zdarzenia {first}–{last} z {total}, najnowsze najpierw"),
    "audit.empty": ("no events match", "brak pasujacych zdarzen"),
    "audit.chain_ok": ("chain ok: {count} events, head {head}", "lancuch ok: {count} zdarzen, head {head}"),
    "audit.chain_bad": ("chain BROKEN at event {seq}: {reason}", "lancuch ZERWANY przy zdarzeniu {seq}: {reason}"),
    "audit.chain_checking": ("verifying the chain…", "weryfikacja lancucha…"),
    "audit.col.seq": ("#", "#"),
    "audit.col.at": ("At", "Czas"),
    "audit.col.actor": ("Actor", "Aktor"),
    "audit.col.kind": ("Kind", "Rodzaj"),
    "audit.col.subject": ("Subject", "Temat"),
    # ------------------------------------------------------------ modals
    "modal.accept_title": ("Accept {check}", "Akceptuj {check}"),
    "modal.countersign": ("You countersign as {actor}; the owner is {owner}.",
                          "Kontrasygnujesz jako {actor}; owner to {owner}."),
    "modal.note": ("Note (kept in the audit trail)", "Notatka (zapisana w audycie)"),
    "modal.value": ("Chosen {label} (required), e.g. {example}", "Wybrany {label} (wymagane), np. {example}"),
    "modal.confirm_accept": ("Accept {check} as {actor}?", "Zaakceptowac {check} jako {actor}?"),
    "modal.revoke_title": ("Revoke {check}", "Cofnij {check}"),
    "modal.confirm_revoke": ("Revoke the acceptance of {check} as {actor}? It stays in the history.",
                             "Cofnac akceptacje {check} jako {actor}? Zostaje w historii."),
    "modal.save_title": ("Save scenario", "Zapisz scenariusz"),
    "modal.confirm_save": ("Write the demo scenario as {actor}? A new scenario version replaces the current one.",
                           "Zapisac scenariusz demo jako {actor}? Nowa wersja zastapi aktualna."),
    "modal.freeze_title": ("Freeze snapshot", "Zamroz snapshot"),
    "modal.confirm_freeze": ("Freeze the current scenario into BFGScenarioSnapshot.v1 as {actor}? Evidence bound to another snapshot becomes stale.",
                             "Zamrozic aktualny scenariusz do BFGScenarioSnapshot.v1 jako {actor}? Dowody z innego snapshotu stana sie nieaktualne."),
    "modal.yes": ("Confirm (enter)", "Potwierdz (enter)"),
    "modal.no": ("Cancel (esc)", "Anuluj (esc)"),
    "modal.ok": ("OK", "OK"),
    "modal.value_missing": ("A value is required for this check.", "Ta kontrola wymaga wartosci."),
    "picker.title": ("Who is acting?", "Kto dziala?"),
    "picker.hint": ("Pick an actor (enter). Acting as someone is self-asserted (mock-auth-header); switching is audited.",
                    "Wybierz aktora (enter). Tozsamosc jest deklarowana (mock-auth-header); zmiana jest audytowana."),
    "detail.title": ("Check {check}", "Kontrola {check}"),
    "detail.kind": ("Kind", "Rodzaj"),
    "detail.group": ("Group", "Grupa"),
    "detail.owner": ("Owner", "Owner"),
    "detail.state": ("State", "Stan"),
    "detail.stale": ("Stale", "Nieaktualne"),
    "detail.reason": ("Reason", "Powod"),
    "detail.value": ("Value", "Wartosc"),
    "detail.note": ("Note", "Notatka"),
    "detail.passes_when": ("Passes when", "Przechodzi gdy"),
    "detail.binds": ("Bound to the snapshot", "Powiazane ze snapshotem"),
    "detail.history": ("History (newest first)", "Historia (najnowsze najpierw)"),
    "detail.history_none": ("no events yet", "brak zdarzen"),
    "detail.evidence": ("Evidence: run {run} against {endpoint}", "Dowod: run {run} na {endpoint}"),
    "detail.transcript": ("Transcript", "Transcript"),
    "detail.yes": ("yes", "tak"),
    "detail.no": ("no", "nie"),
    "probe.title": ("Run the {probe} probe", "Uruchom probe {probe}"),
    "probe.target": ("Target: a SQLite file path (local rehearsal) or a postgresql:// DSN without password",
                     "Cel: sciezka pliku SQLite (lokalny rehearsal) lub DSN postgresql:// bez hasla"),
    "probe.ask_new_target": (
        "{target} is not the selected target {selected}, which holds passing evidence. That evidence stays; if this probe "
        "passes, {target} becomes the selected target and the old dry-run evidence goes stale. Enter again to probe it, esc to cancel.",
        "{target} nie jest wybranym celem {selected}, który ma zaliczone dowody. Te dowody zostają; jeśli ta próba "
        "przejdzie, {target} stanie się wybranym celem, a stary dowód dry-run będzie nieaktualny. Enter ponownie, aby sprawdzić, esc anuluje."),
    "probe.running": ("Running against {target}… (c or esc cancels)", "Uruchomione na {target}… (c lub esc przerywa)"),
    "probe.passed": ("Probe passed: {n}/{n} checks. Enter closes.", "Proba przeszla: {n}/{n} kontroli. Enter zamyka."),
    "probe.failed": ("Probe failed at {check}: {detail}. Enter closes.", "Proba nie przeszla przy {check}: {detail}. Enter zamyka."),
    "probe.cancelled": ("Probe cancelled: nothing was stored.", "Proba przerwana: nic nie zapisano."),
    "probe.refused": ("Refused: {reason}", "Odmowa: {reason}"),
    "probe.lines": ("{n} transcript lines", "{n} linii transkryptu"),
    "export.title": ("Export a packet", "Eksport pakietu"),
    "export.packet": ("Packet", "Pakiet"),
    "export.format": ("Format", "Format"),
    "export.dest": ("Destination", "Cel"),
    "export.file": ("File", "Plik"),
    "export.clipboard": ("Clipboard (OSC 52, works over SSH)", "Schowek (OSC 52, dziala przez SSH)"),
    "export.path": ("File path", "Sciezka pliku"),
    "export.done_file": ("Exported {packet} ({fmt}) to {path}", "Wyeksportowano {packet} ({fmt}) do {path}"),
    "export.done_clip": ("Copied {packet} ({fmt}) to the clipboard (OSC 52)",
                         "Skopiowano {packet} ({fmt}) do schowka (OSC 52)"),
    "export.no_path": ("Give a file path, or choose the clipboard.", "Podaj sciezke pliku albo wybierz schowek."),
    "export.keys": ("Press a packet's or a format's key · f file, y clipboard · e edit the path · enter export · esc cancel",
                    "Klawisz pakietu lub formatu · f plik, y schowek · e edycja sciezki · enter eksport · esc anuluj"),
    "export.folder": ("Export folder: {folder} ({source})", "Folder eksportu: {folder} ({source})"),
    "export.plan_file": ("Writes {packet} as {fmt} to {path}", "Zapisze {packet} jako {fmt} do {path}"),
    "export.plan_clip": ("Copies {packet} as {fmt} to the clipboard (OSC 52)",
                         "Skopiuje {packet} jako {fmt} do schowka (OSC 52)"),
    "export.plan_replace": ("A file is there: you will be asked before it is replaced.",
                            "Plik juz istnieje: przed zastapieniem padnie pytanie."),
    "export.replace_title": ("Replace the file?", "Zastapic plik?"),
    "export.confirm_replace": ("{path} exists. Replace it with {packet} ({fmt})? Its mode is kept.",
                               "{path} istnieje. Zastapic go pakietem {packet} ({fmt})? Uprawnienia zostana zachowane."),
    "export.kept": ("{path} was kept; change the path or press enter to ask again.",
                    "{path} zostal zachowany; zmien sciezke albo nacisnij enter, by zapytac ponownie."),
    "export.write_failed": ("Cannot write {path}: {reason}", "Nie mozna zapisac {path}: {reason}"),
    "help.title": ("Help: {part}", "Pomoc: {part}"),
    "help.keys": ("Keys in force", "Aktywne klawisze"),
    "help.keymap": ("Remap keys in {path} (binding id = \"keys\").", "Zmien klawisze w {path} (id bindingu = \"klawisze\")."),
    "help.app": (
        "Number keys 1–6 switch screens; ctrl+p opens the command palette. Every figure is computed by the engine from "
        "stored checks and evidence; nothing here is typed by hand. Owner checks are accepted with a, revoked with r; "
        "probe checks are set only by running the probe (p). Refusals show their reason and are recorded in the audit trail.",
        "Klawisze 1–6 przelaczaja ekrany; ctrl+p otwiera palete komend. Kazda liczba jest liczona przez silnik z zapisanych "
        "kontroli i dowodow; nic nie jest wpisywane recznie. Kontrole ownerow akceptujesz klawiszem a, cofasz r; "
        "kontrole probe ustawia tylko uruchomiona proba (p). Odmowy pokazuja powod i trafiaja do audit trail."),
    "help.checks": (
        "A check list. j/k or the arrows move; a accepts an owner check (a note, and a value where the check needs one); "
        "r revokes; enter shows owner, kind, history and evidence; p runs the probe of a probe check. "
        "ok = ready, -- = not ready, STALE = evidence made against another snapshot or target.",
        "Lista kontroli. j/k lub strzalki przesuwaja; a akceptuje kontrole ownera (notatka i wartosc, jesli potrzebna); "
        "r cofa; enter pokazuje ownera, rodzaj, historie i dowody; p uruchamia probe kontroli probe. "
        "ok = gotowe, -- = niegotowe, STALE = dowod z innego snapshotu lub celu."),
    "help.home": ("The readiness copilot: the nine gates in pipeline order, the recommended next action, the blockers, "
                  "the go/no-go decision and the provider, infrastructure and wiring checks. s saves the scenario, "
                  "f freezes it, x exports a packet.",
                  "Copilot gotowosci: dziewiec bramek w kolejnosci pipeline, rekomendowana akcja, blokery, decyzja go/no-go "
                  "oraz kontrole providera, infrastruktury i wiring. s zapisuje scenariusz, f zamraza, x eksportuje pakiet."),
    "help.providers": ("The six provider contracts (current → target mode), the live session and the rollout plan.",
                       "Szesc kontraktow providerow (aktualny → docelowy tryb), sesja live i plan rollout."),
    "help.rbac": ("Actors and roles. Move through the actors with j/k to see permissions, the JSON claim set and the checks each owns.",
                  "Aktorzy i role. Przesuwaj j/k, aby zobaczyc uprawnienia, claims JSON i kontrole kazdego aktora."),
    "help.board": ("The seven decision board rows with owner and evidence, and the six transition checks to accept.",
                   "Siedem wierszy tablicy decyzji z ownerem i evidence oraz szesc krokow przejscia do akceptacji."),
    "help.cutover": ("Seven tabs ([ and ] switch): each with its checks, its packet (x exports) and its decision. "
                     "p runs the connection or dry-run probe; s saves the scenario, f freezes it.",
                     "Siedem zakladek ([ i ] przelaczaja): kazda z kontrolami, pakietem (x eksportuje) i decyzja. "
                     "p uruchamia probe connection lub dry-run; s zapisuje scenariusz, f zamraza."),
    "help.audit": ("Every change and refusal, newest first, paged ([ newer, ] older). / filters; v re-verifies the hash chain.",
                   "Kazda zmiana i odmowa, najnowsze najpierw, stronami ([ nowsze, ] starsze). / filtruje; v weryfikuje lancuch."),
    "help.modal": ("Enter confirms, escape cancels. Tab moves between fields.",
                   "Enter potwierdza, escape anuluje. Tab przechodzi miedzy polami."),
    # ------------------------------------------------------------ service messages (Reason / Outcome codes)
    # The English is the service's own sentence (the CLI prints that one); `message_text`
    # uses these for other languages.
    "msg.actor.none": ("no actor: pass --as ACTOR or set BFG_ACTOR (one of: {actors})",
                       "brak aktora: podaj --as AKTOR lub ustaw BFG_ACTOR (jeden z: {actors})"),
    "msg.actor.unknown": ("unknown actor '{actor}' (one of: {actors})", "nieznany aktor '{actor}' (jeden z: {actors})"),
    "msg.actor.login_mismatch": ("login {login} acts as {actor}; --as {claimed} refused (connect with that owner's own login)",
                                 "login {login} dziala jako {actor}; --as {claimed} odrzucone (polacz sie loginem tego wlasciciela)"),
    "msg.rbac.lacks_permission": ("{actor} ({role}) lacks permission {permission} for {action}",
                                  "{actor} ({role}) nie ma uprawnienia {permission} do {action}"),
    "msg.rbac.read_only.accept": ("{actor} ({role}) may not accept checks: read-only role",
                                  "{actor} ({role}) nie moze akceptowac kontroli: rola tylko do odczytu"),
    "msg.rbac.read_only.revoke": ("{actor} ({role}) may not revoke checks: read-only role",
                                  "{actor} ({role}) nie moze cofac akceptacji kontroli: rola tylko do odczytu"),
    "msg.check.unknown": ("unknown check '{check}'", "nieznana kontrola '{check}'"),
    "msg.check.is_probe": (
        "{check} is a probe check: it passes only when the {probe} probe runs against a real target, never by hand",
        "{check} jest kontrola probe: przechodzi tylko, gdy proba {probe} przejdzie na prawdziwym celu, nigdy recznie"),
    "msg.check.derived.accept": ("{check} is derived from other checks and evidence; it cannot be accepted by hand",
                                 "{check} jest wyliczana z innych kontroli i dowodow; nie mozna jej zaakceptowac recznie"),
    "msg.check.derived.revoke": ("{check} is derived from other checks and evidence; it cannot be revokeed by hand",
                                 "{check} jest wyliczana z innych kontroli i dowodow; nie mozna jej cofnac recznie"),
    "msg.check.owned_by.accept": ("{check} is owned by {owner}; {actor} may not accept it",
                                  "ownerem {check} jest {owner}; {actor} nie moze jej zaakceptowac"),
    "msg.check.owned_by.revoke": ("{check} is owned by {owner}; {actor} may not revoke it",
                                  "ownerem {check} jest {owner}; {actor} nie moze cofnac jej akceptacji"),
    "msg.check.needs_value": ("{check} needs a chosen value (--value), e.g. '{example}'",
                              "{check} wymaga wybranej wartosci (--value), np. '{example}'"),
    "msg.check.needs_snapshot": ("{check} binds to the snapshot: freeze one first (`bfg-tui snapshot freeze`)",
                                 "{check} jest powiazana ze snapshotem: najpierw go zamroz (`bfg-tui snapshot freeze`)"),
    "msg.check.takes_no_value": ("{check} takes no value: accept it without --value",
                                 "{check} nie przyjmuje wartosci: zaakceptuj ja bez --value"),
    "msg.input.control": ("{field} holds a control character ({char} at position {position}); "
                          "control and bidi characters are not accepted",
                          "{field} zawiera znak sterujacy ({char} na pozycji {position}); "
                          "znaki sterujace i bidi sa odrzucane"),
    "msg.input.too_long": ("{field} is {length} characters long; at most {limit} are accepted",
                           "{field} ma {length} znakow; dozwolone jest najwyzej {limit}"),
    "msg.input.secret": ("{field} looks like it holds a secret ({kind}); nothing was stored: keep secrets out of "
                         "the console", "{field} wyglada na sekret ({kind}); nic nie zapisano: sekrety nie naleza "
                         "do konsoli"),
    "msg.scenario.scale_min": ("--scale must be at least 1", "--scale musi wynosic co najmniej 1"),
    "msg.outcome.scenario_saved": ("scenario saved: {records} records ({source})",
                                   "scenariusz zapisany: {records} rekordow ({source})"),
    "msg.outcome.snapshot_frozen": ("snapshot frozen: {rows} records, checksum {checksum} ({digest})",
                                    "snapshot zamrozony: {rows} rekordow, checksum {checksum} ({digest})"),
    "msg.outcome.already_accepted": ("{check} already accepted by {actor}; nothing changed",
                                     "{check} jest juz zaakceptowana przez {actor}; nic sie nie zmienilo"),
    "msg.outcome.already_done": ("already done at event {seq} (idempotency key '{key}'); nothing changed",
                                 "juz wykonane w zdarzeniu {seq} (klucz idempotencji '{key}'); nic nie zmieniono"),
    "app.state_mismatch": ("the state does not match the audit trail: run `bfg-tui audit verify`",
                           "stan nie zgadza sie ze sciezka audytu: uruchom `bfg-tui audit verify`"),
    "msg.outcome.accepted": ("{check} accepted by {actor}", "{check} zaakceptowana przez {actor}"),
    "msg.outcome.countersigned": ("{check} countersigned by {actor}", "{check} kontrasygnowana przez {actor}"),
    "msg.outcome.revoked": ("{check} revoked by {actor}", "akceptacja {check} cofnieta przez {actor}"),
    "msg.outcome.acting_as": ("now acting as {actor}", "teraz dzialasz jako {actor}"),
    "msg.scenario.scale_max": ("--scale {scale} is past what the demo generator supports (at most {max} orders: "
                               "their dates must stay within year 9999)",
                               "--scale {scale} przekracza mozliwosci generatora demo (najwyzej {max} zamowien: "
                               "ich daty musza zmiescic sie w roku 9999)"),
    # export targets (bfg_tui.safe_write): the same rules for the CLI and the console
    "msg.export.not_regular": ("{path} is {kind}; an export only creates or replaces a regular file "
                               "(nothing was written)",
                               "{path} to {kind}; eksport tworzy lub zastepuje tylko zwykly plik (nic nie zapisano)"),
    "msg.export.exists": ("{path} already exists; use --force to replace it (nothing was written)",
                          "{path} juz istnieje; --force go zastapi (nic nie zapisano)"),
    "msg.export.write_failed": ("cannot write {path}: {reason} (nothing was written)",
                                "nie mozna zapisac {path}: {reason} (nic nie zapisano)"),
    "msg.export.no_dir": ("cannot write {path}: the directory {dir} does not exist (nothing was written)",
                          "nie mozna zapisac {path}: katalog {dir} nie istnieje (nic nie zapisano)"),
    "msg.export.not_a_name": ("{path} is not a file name (nothing was written)",
                              "{path} nie jest nazwa pliku (nic nie zapisano)"),
    "msg.export.appeared": ("{path} appeared while the export was written; nothing was replaced",
                            "{path} pojawil sie w trakcie zapisu eksportu; niczego nie zastapiono"),
    "msg.export.changed": ("{path} changed while the export was written; nothing was replaced",
                           "{path} zmienil sie w trakcie zapisu eksportu; niczego nie zastapiono"),
    # ------------------------------------------------------------ the path to GO (plan)
    "plan.done_title": ("Go/no-go is READY_FOR_REVIEWED_CUTOVER",
                        "Go/no-go: READY_FOR_REVIEWED_CUTOVER"),
    "plan.done_detail": ("Nothing is left to do here: review the go/no-go decision and the packets; traffic stays disabled.",
                         "Nic tu już nie zostało: przejrzyj decyzję go/no-go i pakiety; ruch produkcyjny pozostaje wyłączony."),
    "plan.stuck_title": ("Go/no-go is {decision}", "Go/no-go: {decision}"),
    "plan.stuck_detail": ("No action in this console unblocks it: {check} is not ready.",
                          "Żadna akcja w tej konsoli tego nie odblokuje: {check} nie jest gotowa."),
    "plan.pg_title": ("Probe a PostgreSQL target for wiring", "Sprawdź cel PostgreSQL dla wiring"),
    "plan.pg_detail": ("Every local gate is ready; a SQLite rehearsal cannot prove {checks}. "
                       "{actor}: {cmd} with a postgresql:// DSN, then the dry-run and the release export.",
                       "Wszystkie lokalne bramki są gotowe; próba na SQLite nie dowiedzie {checks}. "
                       "{actor}: {cmd} z DSN postgresql://, potem dry-run i eksport release."),
    "plan.probe_connection_title": ("Re-run the connection probe", "Uruchom ponownie próbę connection"),
    "plan.probe_dry_run_title": ("Re-run the dry-run", "Uruchom ponownie dry-run"),
    "plan.rerun_detail": ("The evidence is stale or failed. {actor}: {cmd}", "Dowód jest nieaktualny lub nieudany. {actor}: {cmd}"),
    "plan.save_title": ("Save the demo scenario", "Zapisz scenariusz demo"),
    "plan.save_detail": ("The dry-run replays a frozen snapshot of it. {actor}: {cmd} (s in the console)",
                         "Dry-run odtwarza jego zamrożony snapshot. {actor}: {cmd} (s w konsoli)"),
    "plan.freeze_title": ("Freeze the snapshot", "Zamroź snapshot"),
    "plan.freeze_detail": ("Evidence and sign-offs bind to one checksum. {actor}: {cmd} (f in the console)",
                           "Dowody i akceptacje wiążą się z jedną sumą kontrolną. {actor}: {cmd} (f w konsoli)"),
    "plan.accept_title": ("{actor}: accept \u201c{check}\u201d", "{actor}: zaakceptuj \u201e{check}\u201d"),
    "plan.accept_detail": ("{group} shows {count}. {cmd} (a in the console)",
                           "{group}: {count}. {cmd} (a w konsoli)"),
    "plan.export_title": ("Export the release packet", "Wyeksportuj pakiet release"),
    "plan.export_detail": ("Rollback shows {count}: the drill needs a release packet exported after the latest change. "
                           "{actor}: {cmd} (x in the console)",
                           "Rollback: {count}; drill wymaga pakietu release wyeksportowanego po ostatniej zmianie. "
                           "{actor}: {cmd} (x w konsoli)"),
    "plan.heading": ("Path to GO", "Droga do GO"),
    "plan.more": ("… {n} more: bfg-tui plan lists them all", "… jeszcze {n}: bfg-tui plan pokazuje wszystkie"),
    "queue.title": ("Your sign-offs ({name}): {n} waiting", "Twoje akceptacje ({name}): {n} czeka"),
    "queue.title_none": ("Your sign-offs ({name}): nothing to sign", "Twoje akceptacje ({name}): nic do podpisania"),
    "queue.title_nobody": ("Your sign-offs: choose who you are (u)", "Twoje akceptacje: wybierz, kim jesteś (u)"),
    "queue.nobody": ("Nobody is acting: press u (or ctrl+a) to choose an actor; until then everything is read-only.",
                     "Nikt nie działa: naciśnij u (lub ctrl+a), aby wybrać aktora; do tego czasu wszystko jest tylko do odczytu."),
    "queue.read_only": ("{name} ({role}) has nothing to sign: the {role} role reads only. Sign-offs belong to {owners}.",
                        "{name} ({role}) nie ma nic do podpisania: rola {role} ma tylko odczyt. Akceptacje należą do: {owners}."),
    "queue.owns_none": ("{name} ({role}) owns no checks; sign-offs belong to {owners}.",
                        "{name} ({role}) nie jest ownerem żadnej kontroli; akceptacje należą do: {owners}."),
    "queue.all_done": ("Everything you own is accepted. The path to GO below says who acts next.",
                       "Wszystko, czego jesteś ownerem, jest zaakceptowane. Droga do GO poniżej mówi, kto działa dalej."),
    "plan.summary": ("{n} steps; go/no-go then: {decision}", "kroki: {n}; potem go/no-go: {decision}"),
    "plan.none": ("Nothing left to do: go/no-go is {decision}.", "Nic nie zostało: go/no-go to {decision}."),
    "plan.pg_note": ("Then only a PostgreSQL target can prove: {checks}.",
                     "Potem tylko cel PostgreSQL może dowieść: {checks}."),
    "plan.pg_now": ("Only a PostgreSQL target can prove what is missing: {checks}.",
                    "Brakujące dowody może dać tylko cel PostgreSQL: {checks}."),
    "plan.unlocks": ("unlocks {what}", "odblokowuje {what}"),
    "plan.sign_offs": ("{n} sign-offs", "akceptacje: {n}"),
    "plan.probes": ("{n} probes", "próby: {n}"),
    "plan.act.save": ("save", "zapis"),
    "plan.act.freeze": ("freeze", "zamrożenie"),
    "plan.act.export_release": ("release export", "eksport release"),
    "plan.act.probe_connection": ("connection probe", "próba connection"),
    "plan.act.probe_dry_run": ("dry-run", "dry-run"),
    # the export dialog's keys (one per packet and per format: screens/modals.py)
    "bind.export.submit": ("Export", "Eksportuj"),
    "tip.export.submit": ("Write the chosen packet where the dialog says", "Zapisz wybrany pakiet tam, gdzie mowi okno"),
    "bind.export.edit_path": ("Edit path", "Edytuj sciezke"),
    "tip.export.edit_path": ("Edit the file path (esc returns to the keys)", "Edytuj sciezke pliku (esc wraca do klawiszy)"),
    "bind.export.to_file": ("To a file", "Do pliku"),
    "tip.export.to_file": ("Write the packet to the file path shown", "Zapisz pakiet do pokazanego pliku"),
    "bind.export.to_clipboard": ("To the clipboard", "Do schowka"),
    "tip.export.to_clipboard": ("Copy the packet to the clipboard (OSC 52)", "Skopiuj pakiet do schowka (OSC 52)"),
    **{f"bind.export.packet.{pid}": (pid.replace("_", "-"), pid.replace("_", "-"))
       for pid in ("release", "rollback", "runbook", "cutover", "preflight", "connection", "dry_run",
                   "infrastructure", "wiring")},
    **{f"tip.export.packet.{pid}": (f"Choose the {pid.replace('_', '-')} packet",
                                    f"Wybierz pakiet {pid.replace('_', '-')}")
       for pid in ("release", "rollback", "runbook", "cutover", "preflight", "connection", "dry_run",
                   "infrastructure", "wiring")},
    **{f"bind.export.format.{fmt}": (fmt, fmt) for fmt in ("text", "json", "md")},
    **{f"tip.export.format.{fmt}": (f"Export as {fmt}", f"Eksport jako {fmt}") for fmt in ("text", "json", "md")},
    # ------------------------------------------------------------ figures (bfg_tui.figures)
    "fig.records": ("{n} records", "{n} rekordów"),
    "fig.rows": ("{n} rows", "{n} wierszy"),
    "fig.actors": ("{n} actors", "{n} aktorów"),
    "fig.blocked": ("Blocked", "Zablokowane"),
    "fig.pending": ("Secrets/backup pending", "Secrets/backup oczekuje"),
    "fig.not_recorded": ("not recorded", "nie zapisano"),
    "fig.lint_ok": ("RLS lint passes", "lint RLS przechodzi"),
    "fig.lint_failed": ("RLS lint fails", "lint RLS nie przechodzi"),
    "fig.credentials_ok": ("TLS, credentials from outside the store", "TLS, dane logowania spoza store"),
    "fig.decision": ("the {decision} decision", "decyzja {decision}"),
    "fig.above": ("(see above)", "(patrz wyżej)"),
    "group.decision_board": ("Decision board", "Tablica decyzji"),
    "group.batch_groups": ("Batch groups", "Grupy batchy"),
    "group.gates": ("Integration gates", "Bramki integracji"),
    "why.waiting": ("waiting for {what}", "czeka na: {what}"),
    "why.providers_visible": ("waiting for all six provider contracts", "czeka na wszystkie sześć kontraktów providerów"),
    "why.store_open": ("waiting for a ScenarioStore.v1 store", "czeka na store ScenarioStore.v1"),
    "why.snapshot_payload": ("waiting for a frozen snapshot with records", "czeka na zamrożony snapshot z rekordami"),
    "why.actor_claims": ("waiting for a role and permissions for every actor", "czeka na rolę i uprawnienia każdego aktora"),
    "why.release_env_complete": ("waiting for all nine release variables", "czeka na wszystkie dziewięć zmiennych release"),
    "why.target_selected": ("waiting for a selected target adapter", "czeka na wybrany adapter docelowy"),
    "why.fallback_named": ("waiting for a named fallback adapter", "czeka na nazwany adapter zapasowy"),
    "why.release_packet_fresh": ("waiting for a release export after the latest change",
                                 "czeka na eksport release po ostatniej zmianie"),
    "why.postgres_endpoint": ("waiting for a connection probe of a PostgreSQL target",
                              "czeka na próbę connection celu PostgreSQL"),
    "why.postgres_tenant_context": ("waiting for an RLS session on a PostgreSQL target",
                                    "czeka na sesję RLS na celu PostgreSQL"),
    "why.rls_lint": ("waiting for the runbook SQL to pass the RLS lint", "czeka, aż SQL runbooka przejdzie lint RLS"),
    "why.live_credentials": ("waiting for TLS and credentials from outside the store on a PostgreSQL target",
                             "czeka na TLS i dane logowania spoza store na celu PostgreSQL"),
    "detail.tree": ("What it depends on", "Od czego zależy"),
    "detail.tree_none": ("Nothing: it is set by its owner or its probe.", "Od niczego: ustawia ją owner lub próba."),
    # ------------------------------------------------------------ command palette
    "cmd.go": ("Go to {screen}", "Przejdz do: {screen}"),
    "cmd.switch_actor": ("Switch actor", "Zmien aktora"),
    "cmd.theme": ("Toggle dark/light theme", "Przelacz ciemny/jasny motyw"),
    "cmd.save": ("Save the demo scenario", "Zapisz scenariusz demo"),
    "cmd.freeze": ("Freeze the snapshot", "Zamroz snapshot"),
    "cmd.export": ("Export a packet", "Eksportuj pakiet"),
    "cmd.help": ("Help", "Pomoc"),
    "cmd.quit": ("Quit", "Wyjdz"),
}


def t(key: str, lang: str = "en", **kwargs: object) -> str:
    """The string `key` in `lang`, formatted with `kwargs`. An unknown key shows itself."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "pl" else pair[0]
    return text.format(**kwargs) if kwargs else text


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """`pl` when the locale says Polish (LC_ALL, then LC_MESSAGES, then LANG), else `en`."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "pl" if value.lower().startswith("pl") else "en"
    return "en"


# Engine reasons are one-line English sentences; their fixed prefixes are translated,
# the data after them (actor ids, endpoints, probe details) is shown as stored.
_REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    ("stale: accepted against another snapshot", "nieaktualne: zaakceptowane dla innego snapshotu"),
    ("stale: ran against another snapshot", "nieaktualne: uruchomione na innym snapshocie"),
    ("stale: ran against another target", "nieaktualne: uruchomione na innym celu"),
    ("waiting for the connection probe", "Czeka na connection check"),
    ("waiting for the dry-run probe", "Czeka na dry-run"),
    ("waiting for ", "czeka na "),
    ("countersigned by ", "kontrasygnowane przez "),
    ("accepted by ", "zaakceptowane przez "),
    ("passed on ", "przeszlo na "),
    ("failed: ", "nie przeszlo: "),
    ("derived", "wyliczane"),
    ("ready", "gotowe"),
)


def reason_text(reason: str, lang: str) -> str:
    """An engine reason in `lang` (English as is)."""
    if lang != "pl":
        return reason
    for en, pl in _REASON_PREFIXES:
        if reason.startswith(en):
            return pl + reason[len(en):]
    return reason


# Refusals raised below the service (the stores, the probe runner, the packet scan) carry
# no message id; their fixed sentences are matched here, the data in them shown as stored.
_MESSAGE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"no scenario saved yet: run `bfg-tui scenario save` first",
     "brak zapisanego scenariusza: najpierw uruchom `bfg-tui scenario save`"),
    (r"the scenario holds no records: an empty snapshot cannot be frozen",
     "scenariusz nie ma rekordow: pustego snapshotu nie mozna zamrozic"),
    (r"(?P<check>\S+) is not accepted; nothing to revoke", "{check} nie jest zaakceptowana; nie ma czego cofac"),
    (r"export refused: secret-like value in field '(?P<field>[^']*)' \((?P<kind>[^)]*)\)",
     "eksport odrzucony: wartosc podobna do sekretu w polu '{field}' ({kind})"),
    (r"unknown probe '(?P<probe>[^']*)' \(connection, dry-run\)", "nieznana proba '{probe}' (connection, dry-run)"),
    (r"bad target: (?P<detail>.*)", "zly cel: {detail}"),
    (r"dry-run needs a frozen snapshot: run `bfg-tui snapshot freeze` first",
     "dry-run wymaga zamrozonego snapshotu: najpierw uruchom `bfg-tui snapshot freeze`"),
    (r"dry-run needs connection 4/4 for this target: run `bfg-tui probe connection TARGET` first",
     "dry-run wymaga connection 4/4 dla tego celu: najpierw uruchom `bfg-tui probe connection CEL`"),
    (r"dry-run needs connection 4/4 for this target; the connection evidence is for (?P<endpoint>.*)",
     "dry-run wymaga connection 4/4 dla tego celu; dowod connection dotyczy {endpoint}"),
)
_COMPILED: list[tuple[re.Pattern[str], str]] = []


def message_text(text: str, lang: str, code: str = "", params: Mapping[str, object] | None = None) -> str:
    """A service message (a refusal reason or an outcome) in `lang`; in English, the message as it is.

    `code` and `params` come from a `Reason`, a `Refused` or an `Outcome`; a message without
    a code is matched against the known fixed sentences; anything else is shown as stored.
    """
    if lang != "pl":
        return text
    code = code or getattr(text, "code", "")
    params = params if params is not None else getattr(text, "params", {})
    if code and f"msg.{code}" in STRINGS:
        try:
            return t(f"msg.{code}", lang, **params)
        except (KeyError, IndexError):
            return text
    if not _COMPILED:
        _COMPILED.extend((re.compile(pattern), template) for pattern, template in _MESSAGE_PATTERNS)
    for pattern, template in _COMPILED:
        found = pattern.fullmatch(text)
        if found:
            return template.format(**found.groupdict())
    return text
