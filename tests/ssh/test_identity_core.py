"""The identity core against real OpenSSH tools: keys, SSHSIG signing and verifying, the roster."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bfg_tui.canonical import canonical_json
from bfg_tui.identity import NAMESPACE
from bfg_tui.identity.keys import KeyFormatError, parse_public_key, read_public_key_file
from bfg_tui.identity.roster import Roster, RosterError, init_data, revoke_data
from bfg_tui.identity.signing import IdentityError, load_key_file, open_keyring
from bfg_tui.identity.sshsig import SignatureError, verify
from bfg_tui.identity.trail import verify_signatures
from tests.helpers.ssh_tools import NEED_SSH, keygen, ssh_agent, ssh_fingerprint, ssh_sign, ssh_verify

pytestmark = NEED_SSH

MESSAGE = b'{"actor":"user_md_anna","data":{},"kind":"check.accept","prev":"00","seq":7}'


@pytest.mark.parametrize("key_type", ["ed25519", "rsa", "ecdsa"])
def test_fingerprint_and_public_key_match_ssh_keygen(tmp_path: Path, key_type: str) -> None:
    key = keygen(tmp_path, f"id_{key_type}", key_type)
    pub = read_public_key_file(f"{key}.pub")
    assert pub.fingerprint == ssh_fingerprint(Path(f"{key}.pub"))
    assert pub.openssh() == Path(f"{key}.pub").read_text().strip()
    assert pub.comment == f"id_{key_type}@test"


@pytest.mark.parametrize("key_type", ["ed25519", "rsa"])
def test_key_file_signature_is_byte_identical_to_ssh_keygen(tmp_path: Path, key_type: str) -> None:
    # Ed25519 and RSA PKCS#1 v1.5 are deterministic: same key, same message, same bytes.
    key = keygen(tmp_path, "id", key_type)
    ours = load_key_file(str(key)).sign_sync(MESSAGE)
    assert ours == ssh_sign(key, MESSAGE)


@pytest.mark.parametrize("key_type", ["ed25519", "rsa", "ecdsa"])
def test_agent_signature_verifies_with_ssh_keygen_against_allowed_signers(tmp_path: Path, key_type: str) -> None:
    key = keygen(tmp_path, "anna", key_type)
    pub = read_public_key_file(f"{key}.pub")
    roster = Roster.replay([(3, "roster.init", init_data("user_md_anna", pub))])

    async def sign() -> str:
        ring = await open_keyring(agent_sock=sock)
        try:
            assert [s.key.fingerprint for s in ring.signers] == [pub.fingerprint]
            return await ring.signers[0].sign(MESSAGE)
        finally:
            await ring.close()

    with ssh_agent(tmp_path, key) as sock:
        signature = asyncio.run(sign())
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----\n") and signature.endswith("-----END SSH SIGNATURE-----\n")
    assert max(len(line) for line in signature.splitlines()) <= 70
    done = ssh_verify(roster.allowed_signers(), "user_md_anna", MESSAGE, signature, tmp_path)
    assert done.returncode == 0, done.stderr
    assert ssh_verify(roster.allowed_signers(), "user_accountant_olena", MESSAGE, signature, tmp_path).returncode != 0
    assert ssh_verify(roster.allowed_signers(), "user_md_anna", MESSAGE + b" ", signature, tmp_path).returncode != 0


@pytest.mark.parametrize("key_type", ["ed25519", "rsa", "ecdsa"])
def test_ssh_keygen_signature_verifies_here(tmp_path: Path, key_type: str) -> None:
    key = keygen(tmp_path, "olena", key_type)
    signature = ssh_sign(key, MESSAGE)
    assert verify(MESSAGE, signature, NAMESPACE) == read_public_key_file(f"{key}.pub")._replace(comment="")
    with pytest.raises(SignatureError, match="does not match"):
        verify(MESSAGE.replace(b"7", b"8"), signature, NAMESPACE)
    with pytest.raises(SignatureError, match="namespace"):
        verify(MESSAGE, ssh_sign(key, MESSAGE, "git"), NAMESPACE)


def test_damaged_signatures_are_one_line_errors(tmp_path: Path) -> None:
    key = keygen(tmp_path, "id")
    signature = ssh_sign(key, MESSAGE)
    lines = signature.splitlines()
    flipped = lines[2][:10] + ("A" if lines[2][10] != "A" else "B") + lines[2][11:]
    for bad in ("", "hello", signature.replace("BEGIN", "START"), "\n".join([*lines[:2], flipped, *lines[3:]]),
                "\n".join([lines[0], lines[1][:20], lines[-1]])):
        with pytest.raises(SignatureError) as info:
            verify(MESSAGE, bad, NAMESPACE)
        assert "\n" not in info.value.reason


def test_bad_keys_are_refused_with_a_reason(tmp_path: Path) -> None:
    key = keygen(tmp_path, "enc", passphrase="correct horse")
    with pytest.raises(IdentityError, match="add it to your agent"):
        load_key_file(str(key))
    with pytest.raises(IdentityError, match="not a private key"):
        load_key_file(f"{key}.pub")
    with pytest.raises(KeyFormatError, match="private key"):
        read_public_key_file(str(key))
    for line in ("ssh-ed25519", "ssh-ed25519 !!!", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "ssh-rsa " + "QUJD"):
        with pytest.raises(KeyFormatError):
            parse_public_key(line)


def test_keyring_prefers_the_key_file_and_has_nothing_without_an_agent(tmp_path: Path) -> None:
    key = keygen(tmp_path, "id")

    async def rings() -> tuple[list[str], list[str]]:
        with_file = await open_keyring(str(key), agent_sock="")
        without = await open_keyring(None, agent_sock="")
        return [s.key.fingerprint for s in with_file.signers], [s.key.fingerprint for s in without.signers]

    with_file, without = asyncio.run(rings())
    assert with_file == [ssh_fingerprint(Path(f"{key}.pub"))]
    assert without == []


def test_roster_add_revoke_and_exports(tmp_path: Path) -> None:
    anna = read_public_key_file(f"{keygen(tmp_path, 'anna')}.pub")
    anna2 = read_public_key_file(f"{keygen(tmp_path, 'anna2')}.pub")
    olena = read_public_key_file(f"{keygen(tmp_path, 'olena')}.pub")
    roster = Roster.replay([
        (5, "roster.init", init_data("user_md_anna", anna)),
        (6, "roster.add", init_data("user_md_anna", anna2)),
        (7, "roster.add", init_data("user_accountant_olena", olena)),
    ])
    assert roster.signed and roster.init_seq == 5
    assert [rk.fingerprint for rk in roster.actor_keys("user_md_anna")] == [anna.fingerprint, anna2.fingerprint]
    with pytest.raises(RosterError, match="already in the roster"):
        roster.check_add("user_md_anna", olena)
    assert roster.check_revoke("user_md_anna", anna2.fingerprint) == [anna2.fingerprint]
    with pytest.raises(RosterError, match="no active roster key"):
        roster.check_revoke("user_accountant_olena", anna.fingerprint)
    roster.apply(8, "roster.revoke", revoke_data("user_md_anna", [anna2.fingerprint]))
    assert roster.holder(anna2.fingerprint).revoked_seq == 8
    with pytest.raises(RosterError, match="revoked at event 8"):
        roster.check_add("user_md_anna", anna2)
    assert roster.allowed_signers().splitlines() == [
        f'user_md_anna namespaces="bfg-tui" {anna.openssh(comment=False)}',
        f'user_accountant_olena namespaces="bfg-tui" {olena.openssh(comment=False)}',
    ]
    lines = roster.authorized_keys("/opt/bfg/bin/bfg-tui", "/srv/bfg store.db").splitlines()
    assert lines[1] == ('restrict,pty,agent-forwarding,command="/opt/bfg/bin/bfg-tui --db \'/srv/bfg store.db\' '
                        f'ssh-session --actor user_accountant_olena" {olena.openssh()}')


# --------------------------------------------------------------- signatures over a trail


def _body(seq: int, kind: str, actor: str, data: dict, key: str = "", mode: str = "sshsig") -> bytes:
    auth = {"mode": mode if key or mode != "sshsig" else "mock-auth-header", "self_asserted": not key}
    if key:
        auth["key"] = key
    return canonical_json({"actor": actor, "at": "t", "auth": auth, "data": data, "kind": kind,
                           "prev": "0" * 64, "seq": seq}).encode()


def _trail(tmp_path: Path) -> tuple[list[tuple[int, bytes, str | None]], dict[str, Path]]:
    keys = {name: keygen(tmp_path, name) for name in ("anna", "olena", "stranger")}
    pubs = {name: read_public_key_file(f"{path}.pub") for name, path in keys.items()}
    signer = {name: load_key_file(str(path)) for name, path in keys.items()}
    rows: list[tuple[int, bytes, str | None]] = [
        (1, _body(1, "store.create", "system", {}), None),
        (2, _body(2, "check.accept", "user_accountant_olena", {"check": "x"}), None),
    ]
    init = _body(3, "roster.init", "user_md_anna", init_data("user_md_anna", pubs["anna"]), pubs["anna"].fingerprint)
    add = _body(4, "roster.add", "user_md_anna", init_data("user_accountant_olena", pubs["olena"]), pubs["anna"].fingerprint)
    accept = _body(5, "check.accept", "user_accountant_olena", {"check": "x"}, pubs["olena"].fingerprint)
    refused = _body(6, "action.refused", "user_accountant_olena", {"reason": "no key"}, mode="unsigned")
    rows += [(3, init, signer["anna"].sign_sync(init)), (4, add, signer["anna"].sign_sync(add)),
             (5, accept, signer["olena"].sign_sync(accept)), (6, refused, None)]
    return rows, keys


def test_trail_report_says_what_it_proved(tmp_path: Path) -> None:
    rows, _ = _trail(tmp_path)
    report = verify_signatures(rows)
    assert report.ok, report.reason
    assert report.summary() == ("6 events: 3 signed by 2 keys of 2 actors, 2 before the roster (self-asserted), "
                                "1 refusals unsigned")


def test_trail_fails_on_a_damaged_wrong_or_missing_signature(tmp_path: Path) -> None:
    rows, keys = _trail(tmp_path)
    seq, body, sig = rows[4]
    damaged = sig.replace(sig.splitlines()[3][:4], "AAAA" if sig.splitlines()[3][:4] != "AAAA" else "BBBB", 1)
    cases = {
        "damaged": ([*rows[:4], (seq, body, damaged)], "event 5"),
        "wrong key": ([*rows[:4], (seq, body, load_key_file(str(keys["anna"])).sign_sync(body))], "a key of user_md_anna"),
        "stranger": ([*rows[:4], (seq, body, load_key_file(str(keys["stranger"])).sign_sync(body))], "not in the roster"),
        "missing": ([*rows[:4], (seq, body, None)], "is not signed"),
        "edited": ([*rows[:4], (seq, body.replace(b'"x"', b'"y"'), sig)], "does not match"),
        "replayed": ([*rows[:4], (seq, rows[3][1], sig)], "event 5"),
    }
    for name, (trail, reason) in cases.items():
        report = verify_signatures(trail)
        assert not report.ok and report.first_bad_seq == 5, name
        assert reason in report.reason, (name, report.reason)


def test_a_revoked_key_signs_nothing_after_its_revocation(tmp_path: Path) -> None:
    rows, keys = _trail(tmp_path)
    olena = read_public_key_file(f"{keys['olena']}.pub")
    anna = load_key_file(str(keys["anna"]))
    revoke = _body(7, "roster.revoke", "user_md_anna", revoke_data("user_accountant_olena", [olena.fingerprint]),
                   anna.key.fingerprint)
    late = _body(8, "check.accept", "user_accountant_olena", {"check": "x"}, olena.fingerprint)
    rows += [(7, revoke, anna.sign_sync(revoke)), (8, late, load_key_file(str(keys["olena"])).sign_sync(late))]
    report = verify_signatures(rows)
    assert not report.ok and report.first_bad_seq == 8 and "revoked at event 7" in report.reason


def test_demo_trail_is_all_self_asserted() -> None:
    rows = [(1, _body(1, "store.create", "system", {}), None)]
    assert verify_signatures(rows).summary() == "1 events, all self-asserted (demo identity: no roster)"
    assert json.loads(rows[0][1])["auth"]["self_asserted"] is True
