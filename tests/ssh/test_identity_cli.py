"""Signed identity through the CLI, with keys from ssh-keygen and an ssh-agent of the test's own."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bfg_tui.identity import NAMESPACE
from bfg_tui.identity.sshsig import verify
from tests.helpers.identity import signed_store
from tests.helpers.ssh_tools import NEED_SSH, keygen, ssh_agent, ssh_fingerprint, ssh_sign, ssh_verify
from tests.helpers.walkthrough import save_and_freeze

pytestmark = NEED_SSH

ANNA, OLENA, MAREK = "user_md_anna", "user_accountant_olena", "user_dispatcher_marek"


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    directory = tmp_path / "keys"
    directory.mkdir()
    return {name: keygen(directory, name) for name in ("anna", "olena", "marek", "stranger")}


def test_demo_sign_offs_stop_counting_after_roster_init(cli: Callable, keys: dict[str, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    save_and_freeze(cli)
    assert cli("accept", "transition.db_schema", actor=OLENA).code == 0
    before = cli("status", "--json").json()
    assert before["identity"] == "demo"
    assert "identity: demo (self-asserted)" in cli("status").out
    with ssh_agent(tmp_path / "keys", keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        assert cli("roster", "init", "--actor", ANNA, "--key", f"{keys['anna']}.pub").code == 0
    after = cli("status", "--json").json()
    assert after["identity"] == "signed"
    check = next(c for c in cli("checks", "--json").json() if c["id"] == "transition.db_schema")
    group = check["group"]
    assert after["groups"][group]["ready"] == before["groups"][group]["ready"] - 1
    assert not check["ready"] and check["reason"] == f"self-asserted by {OLENA}, sign again"


def test_roster_verbs_and_allowed_signers_export(cli: Callable, keys: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    signed_store(cli, keys, tmp_path, monkeypatch)
    listed = cli("roster", "list", "--json").json()
    assert listed["identity"] == "signed"
    assert [(k["actor"], k["fingerprint"]) for k in listed["keys"]] == [
        (ANNA, ssh_fingerprint(Path(f"{keys['anna']}.pub"))), (OLENA, ssh_fingerprint(Path(f"{keys['olena']}.pub"))),
        (MAREK, ssh_fingerprint(Path(f"{keys['marek']}.pub"))),
    ]
    exported = cli("roster", "export").out.splitlines()
    olena_pub = Path(f"{keys['olena']}.pub").read_text().split()
    assert exported[1] == f'{OLENA} namespaces="bfg-tui" {olena_pub[0]} {olena_pub[1]}'
    # Only the managing director manages the roster, and only with her key.
    with ssh_agent(tmp_path / "keys", keys["olena"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        refused = cli("roster", "add", OLENA, f"{keys['stranger']}.pub")
        assert refused.code == 1 and "may not manage the roster" in refused.err
        refused = cli("--as", ANNA, "roster", "revoke", OLENA)
        assert refused.code == 1 and f"no key for {ANNA} in your agent (ssh-add -l lists what it holds)" in refused.err
    with ssh_agent(tmp_path / "keys", keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        again = cli("roster", "init", "--actor", ANNA, "--key", f"{keys['anna']}.pub")
        assert again.code == 1 and "already in force" in again.err
        assert cli("roster", "add", OLENA, f"{keys['olena']}.pub").code == 1
        done = cli("roster", "revoke", MAREK)
        assert done.code == 0, done
    assert [k["revoked_seq"] is not None for k in cli("roster", "list", "--json").json()["keys"]] == [False, False, True]
    assert len(cli("roster", "export").out.splitlines()) == 2


def test_acting_requires_the_key_and_signatures_verify_with_openssh(
    cli: Callable, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    signed_store(cli, keys, tmp_path, monkeypatch)
    with ssh_agent(tmp_path / "keys", keys["anna"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        refused = cli("accept", "transition.db_schema", actor=OLENA)
        assert refused.code == 1
        assert refused.err.strip() == f"bfg-tui: no key for {OLENA} in your agent (ssh-add -l lists what it holds)"
    with ssh_agent(tmp_path / "keys", keys["olena"]) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        assert cli("accept", "transition.contracts_frozen", actor=ANNA).code == 1
        done = cli("accept", "transition.db_schema")  # no --as: the agent's key says who
        assert done.code == 0, done
        assert f"accepted by {OLENA}" in done.out
    events = cli("audit", "list", "--json", "--limit", "3").json()
    accept, refused_anna, refused_olena = events
    assert refused_olena["kind"] == refused_anna["kind"] == "action.refused"
    assert refused_olena["auth"]["mode"] == "unsigned" and "signature" not in refused_olena
    assert accept["auth"]["mode"] == "sshsig" and accept["auth"]["self_asserted"] is False
    message = accept["signed_message"].encode()
    assert json.loads(message)["seq"] == accept["seq"]
    allowed = cli("roster", "export").out
    checked = ssh_verify(allowed, OLENA, message, accept["signature"], tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert ssh_verify(allowed, ANNA, message, accept["signature"], tmp_path).returncode != 0
    # ... and the other way: ssh-keygen's signature over the stored message verifies here.
    assert verify(message, ssh_sign(keys["olena"], message), NAMESPACE).fingerprint == accept["auth"]["key"]
    check = next(c for c in cli("checks", "--json").json() if c["id"] == "transition.db_schema")
    assert check["ready"]
    verified = cli("audit", "verify")
    assert verified.code == 0, verified
    assert verified.out.splitlines()[1] == ("10 events: 4 signed by 2 keys of 2 actors, 4 before the roster "
                                            "(self-asserted), 2 refusals unsigned"
                                            )


def test_a_damaged_signature_fails_audit_verify(cli: Callable, db: Path, keys: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    signed_store(cli, keys, tmp_path, monkeypatch)
    conn = sqlite3.connect(db)
    seq, signature = conn.execute("select seq, signature from audit_signatures join audit_events using (seq) "
                                  "where kind = 'roster.add' order by seq desc limit 1").fetchone()
    lines = signature.splitlines()
    lines[3] = ("B" if lines[3][0] != "B" else "C") + lines[3][1:]
    conn.execute("update audit_signatures set signature = ? where seq = ?", ("\n".join(lines) + "\n", seq))
    conn.commit()
    conn.close()
    result = cli("audit", "verify")
    assert result.code == 1
    assert result.err.startswith(f"bfg-tui: audit trail signature check failed at event {seq}: event {seq}")


def test_encrypted_key_file_is_refused(cli: Callable, keys: dict[str, Path], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    signed_store(cli, keys, tmp_path, monkeypatch)
    locked = keygen(tmp_path / "keys", "locked", passphrase="s3cret pass")
    result = cli("--key", str(locked), "accept", "transition.db_schema", actor=OLENA)
    assert result.code == 1 and "add it to your agent" in result.err
    done = cli("--key", str(keys["olena"]), "accept", "transition.db_schema", actor=OLENA)
    assert done.code == 0, done


def test_packets_say_who(cli: Callable, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("accept", "infra.region_residency", "--value", "eu-central", actor=ANNA).code == 0
    demo = cli("export", "infrastructure", "--format", "json", actor=ANNA).json()["fields"]
    assert demo["identity"] == "demo" and demo["infra.region_residency.signed_by"] == "self-asserted"
    signed_store(cli, keys, tmp_path, monkeypatch)
    anna = ["--key", str(keys["anna"])]
    before = cli(*anna, "export", "infrastructure", "--format", "json", actor=ANNA).json()["fields"]
    assert before["identity"] == "signed"
    assert before["infra.region_residency"] == "self-asserted, sign again"
    assert cli(*anna, "accept", "infra.region_residency", "--value", "eu-central, backups in EU", actor=ANNA).code == 0
    after = cli(*anna, "export", "infrastructure", "--format", "json", actor=ANNA).json()["fields"]
    assert after["infra.region_residency"] == "accepted"
    assert after["infra.region_residency.signed_by"] == ssh_fingerprint(Path(f"{keys['anna']}.pub"))
