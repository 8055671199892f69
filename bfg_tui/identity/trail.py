"""Checking the signatures of an audit trail against the roster in force at each event."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

from . import NAMESPACE
from .keys import KeyFormatError
from .roster import Roster
from .sshsig import SignatureError, verify

# After the roster, only a refusal may be unsigned (the actor had no key to sign with).
UNSIGNED_KINDS = frozenset({"action.refused"})
UNSIGNED_MODE = "unsigned"  # auth mode of such a refusal; a signed event's is "sshsig"


class SignatureReport(NamedTuple):
    ok: bool
    events: int
    signed: int
    keys: int
    actors: int
    before_roster: int
    unsigned_refusals: int
    first_bad_seq: int | None = None
    reason: str = ""

    def summary(self, lang: str = "en") -> str:
        from ..i18n import t

        if self.signed == 0 and self.before_roster == self.events:
            return t("audit.signatures.demo", lang, n=self.events)
        text = t("audit.signatures.signed", lang, n=self.events, signed=self.signed, keys=self.keys,
                 actors=self.actors, before=self.before_roster)
        if self.unsigned_refusals:
            text += t("audit.signatures.unsigned_refusals", lang, n=self.unsigned_refusals)
        return text


def verify_signatures(rows: Iterable[tuple[int, bytes, str | None]]) -> SignatureReport:
    """Each (seq, body, armored signature or None), in seq order."""
    roster = Roster()
    events = signed = before = unsigned = 0
    keys: set[str] = set()
    actors: set[str] = set()

    def fail(seq: int, reason: str) -> SignatureReport:
        return SignatureReport(False, events, signed, len(keys), len(actors), before, unsigned, seq, reason)

    for seq, body, signature in rows:
        events += 1
        doc = json.loads(body)
        kind, actor, data = doc["kind"], doc["actor"], doc["data"]
        initialising = kind == "roster.init" and not roster.signed
        if not roster.signed and not initialising:
            if signature:
                return fail(seq, f"event {seq} carries a signature but precedes the roster")
            before += 1
            continue
        if not signature:
            if kind in UNSIGNED_KINDS and doc["auth"].get("mode") == UNSIGNED_MODE:
                unsigned += 1
                roster.apply(seq, kind, data)
                continue
            return fail(seq, f"event {seq} ({kind}) is not signed, but the roster is in force since event {roster.init_seq}")
        try:
            key = verify(body, signature, NAMESPACE)
        except SignatureError as exc:
            return fail(seq, f"event {seq}: {exc.reason}")
        except KeyFormatError as exc:
            return fail(seq, f"event {seq}: damaged signature ({exc.reason})")
        fp = key.fingerprint
        if initialising:
            if data.get("fingerprint") != fp or data.get("actor") != actor:
                return fail(seq, f"event {seq}: the roster was initialised with a key other than the one that signed it")
        else:
            holder = roster.holder(fp)
            if holder is None:
                return fail(seq, f"event {seq}: signed by {fp}, which is not in the roster")
            if holder.actor != actor:
                return fail(seq, f"event {seq}: signed by {fp}, a key of {holder.actor}, not of {actor}")
            if holder.revoked_seq is not None:
                return fail(seq, f"event {seq}: signed by {fp}, revoked at event {holder.revoked_seq}")
        if doc["auth"].get("key") != fp:
            return fail(seq, f"event {seq}: its auth names key {doc['auth'].get('key')}, but {fp} signed it")
        signed += 1
        keys.add(fp)
        actors.add(actor)
        roster.apply(seq, kind, data)
    return SignatureReport(True, events, signed, len(keys), len(actors), before, unsigned)
